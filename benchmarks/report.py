"""The benchmarks' results: one :class:`Result` a figure, met as its target
reads (:func:`compared`), and the table ``make bench`` prints."""

import dataclasses
import operator
import sys


@dataclasses.dataclass
class Result:
    bench: str
    metric: str
    value: float
    baseline_name: str
    baseline: float
    target: str
    met: bool
    unit: str = ""
    notes: str = ""

    @property
    def ratio(self):
        return self.value / self.baseline if self.baseline else float("nan")


_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge}


def compared(bench, measured, baseline, target, notes=""):
    """A :class:`Result`, met as its ``target`` reads: ``"<= 2 x bare"`` holds
    the value against twice the baseline, ``"< 200 MB"`` against 200 itself.
    ``measured`` is (metric, value, unit), ``baseline`` (name, value)."""
    metric, value, unit = measured
    baseline_name, baseline_value = baseline
    comparison, number, *rest = target.split()
    bound = float(number) * (baseline_value if rest[:1] == ["x"] else 1)
    met = _COMPARISONS[comparison](value, bound)
    return Result(bench, metric, value, baseline_name, baseline_value, target, met, unit, notes)


def retried(retries):
    """The note of the variants measured again after a broker outage ("" if none)."""
    return f"; {retries} run(s) repeated after a broker outage" if retries else ""


def fmt(value, unit=""):
    if isinstance(value, float):
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


def print_table(results, out=sys.stdout):
    headers = ("benchmark", "figure", "baseline", "ratio", "target", "met")
    rows = [
        (
            r.bench,
            f"{r.metric}: {fmt(r.value, r.unit)}",
            f"{r.baseline_name}: {fmt(r.baseline, r.unit)}",
            f"{r.ratio:.2f}",
            r.target,
            "yes" if r.met else "NO",
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    line = "  ".join("=" * w for w in widths)
    print(line, file=out)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print(line, file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), file=out)
    print(line, file=out)
    for r in results:
        if r.notes:
            print(f"* {r.bench}: {r.notes}", file=out)
    out.flush()
