"""Where the bench Zope spends its time per request: py-spy on ``@@ok``,
``selectedDays`` and a ``selectedDays`` revalidation (``304``).

The instance and the data of benchmark 3 (10,000 rows), then for each kind
of request the same load as the bench (2 processes x 2 keep-alive
connections) while ``bin/py-spy record --gil --format raw`` samples the
Zope process.  Printed per kind: requests/s, Zope CPU per request (from
``/proc``), and the functions that cost most per request, self and
inclusive (milliseconds of GIL-holding samples per request served during
the recording).  The raw profiles stay in ``var/bench/profile-*.txt``
(``--keep``) for a closer look.

    bin/python -m benchmarks.profile_http [--seconds 8] [--top 40] [--keep]

Own database and vhost with ``GITES_BENCH_DB`` / ``GITES_BENCH_VHOST``.
"""

import argparse
import collections
import datetime
import subprocess
import threading

from benchmarks import bench_http, common, http_site
from benchmarks.cpu import CpuMeter
from benchmarks.loadgen import run_load

RATE = 250  # samples per second


def parse_raw(path):
    """[(frames, count)] of a py-spy raw (collapsed stacks) file."""
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = stack.split(";")
            # The first frame is the thread (``process ... thread ...``).
            stacks.append((frames, int(count)))
    return stacks


def function_of(frame):
    # ``name (path/to/module.py:123)`` -> ``name (module.py)``
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    filename = where.rsplit(":", 1)[0]
    short = "/".join(filename.split("/")[-2:])
    return f"{name} ({short})"


def summary(stacks, requests, top):
    self_counts = collections.Counter()
    incl_counts = collections.Counter()
    total = 0
    for frames, count in stacks:
        total += count
        names = [function_of(f) for f in frames[1:]]
        if names:
            self_counts[names[-1]] += count
        for name in set(names):
            incl_counts[name] += count
    per_request = 1000.0 / RATE / max(requests, 1)  # ms per sample per request
    lines = [f"  GIL samples {total} = {total * per_request:.3f} ms per request"]
    lines.append("  inclusive ms/request:")
    lines += [f"    {n * per_request:7.3f}  {name}" for name, n in incl_counts.most_common(top)]
    lines.append("  self ms/request:")
    lines += [f"    {n * per_request:7.3f}  {name}" for name, n in self_counts.most_common(top)]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep var/bench (instance, profiles)")
    parser.add_argument(
        "--kinds", default="@@ok,selectedDays,selectedDays 304", help="comma-separated"
    )
    args = parser.parse_args(argv)
    port = http_site.free_port()
    common.create_database()
    rows = http_site.seed_small()
    common.log(f"profile: {rows:,} rows; building the Zope instance on :{port}")
    http_site.make_instance(port)
    zope = common.Child(
        [common.BIN / "runwsgi", http_site.INSTANCE / "etc" / "zope.ini"],
        common.VAR / "runwsgi.log",
        env=http_site.zope_env(),
    )
    try:
        http_site.wait_http(f"http://127.0.0.1:{port}/Plone/@@ok")
        today = datetime.date.today()
        makers = {
            "@@ok": (bench_http.ok_request(), 200),
            "selectedDays": (bench_http.selected_days_request(today), 200),
            "selectedDays 304": (
                bench_http.not_modified_request(today, bench_http.etags_of(port, today)),
                304,
            ),
        }
        chosen = [k.strip() for k in args.kinds.split(",")]
        for name in chosen:
            make, expect = makers[name]
            # Warm-up (first requests compile, fill caches).
            run_load("127.0.0.1", port, make, 2.0, warmup=0.5, expect=expect)
            out = common.VAR / f"profile-{name.replace(' ', '-').replace('@', '')}.txt"
            result = {}

            def load(make=make, expect=expect, result=result):
                result["load"] = run_load(
                    "127.0.0.1", port, make, args.seconds, warmup=0.3, expect=expect
                )

            with CpuMeter(zope.proc.pid) as meter:
                thread = threading.Thread(target=load)
                thread.start()
                subprocess.run(
                    [
                        str(common.BIN / "py-spy"),
                        "record",
                        "--pid",
                        str(zope.proc.pid),
                        "--gil",
                        "--rate",
                        str(RATE),
                        "--format",
                        "raw",
                        "--duration",
                        str(int(args.seconds)),
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    check=True,
                    capture_output=True,
                    timeout=args.seconds + 60,
                )
                thread.join()
            res = result["load"]
            served = res.rps * (args.seconds + 0.8)
            common.log(
                f"{name}: {res.summary()}; Zope CPU {meter.process / served * 1000:.2f} ms,"
                f" PostgreSQL {meter.postgres / served * 1000:.2f} ms per request"
            )
            # py-spy records int(seconds) s of the load: requests in that time.
            print(f"== {name}", flush=True)
            print(summary(parse_raw(out), res.rps * int(args.seconds), args.top), flush=True)
    finally:
        zope.stop()
        if not args.keep:
            common.drop_database()
            common.rmtree(http_site.INSTANCE)


if __name__ == "__main__":
    main()
