"""Benchmark 5: exportCalendarEvents over 1.8 million rows (5,000 cottages x 365 days).

Every cottage (all with a CGT code) has a row for each of the next 365 days,
in alternating weeks of ``indisp`` (1 week) and ``loue`` (2 weeks), so the
merge makes ~35 ranges per cottage (~175,000 outbox rows).

* ``export``: the real ``bin/exportCalendarEvents`` as a subprocess; its
  peak memory is the ``ru_maxrss`` of that child alone (``os.wait4``), its
  time the wall time from spawn to exit (Python start-up included).
* ``bare scan+merge+write``: :mod:`bare_export` -- the same query through a
  psycopg2 named cursor, the same merge, the same outbox rows written in
  one transaction: like for like, the time baseline.
* ``bare scan+merge``: the same without writing (reported for information).

The outbox is emptied before each run and its row count checked after.
"""

from benchmarks import common, report

COTTAGES = 5000
DAYS = 365


def seed(cottages, days):
    common.seed_owners(cottages)
    common.sql(
        "INSERT INTO reservation_proprio (res_date, res_type, heb_fk, pro_fk, res_date_cre)"
        " SELECT current_date + i,"
        " CASE WHEN mod(i / 7, 3) = 0 THEN 'indisp' ELSE 'loue' END, h, h, now()"
        " FROM generate_series(1, %s) AS h, generate_series(0, %s - 1) AS i",
        (cottages, days),
    )
    common.vacuum_analyze()
    return common.scalar("SELECT count(*) FROM reservation_proprio")


def timed_child(args):
    """(seconds, max RSS in MB, output) of one child, on an empty outbox."""
    common.sql("TRUNCATE gites_calendar_outbox RESTART IDENTITY")
    return common.measured_child(args, common.VAR / "export-child.log")


def run(quick=False):
    cottages = 500 if quick else COTTAGES
    common.create_database()
    rows = seed(cottages, DAYS)
    common.log(f"  export: {rows:,} reservation rows")
    python = str(common.BIN / "python")
    bare = [python, "-m", "benchmarks.bare_export", "--dsn", common.DSN]
    runs = {}
    for name, args in (
        ("export", [common.BIN / "exportCalendarEvents"]),
        ("bare scan+merge+write", bare),
        ("bare scan+merge", [*bare, "--no-write"]),
    ):
        seconds, rss, text = timed_child(args)
        queued = common.scalar("SELECT count(*) FROM gites_calendar_outbox")
        runs[name] = (seconds, rss, queued)
        common.log(
            f"  export {name}: {seconds:.1f} s, max RSS {rss:.0f} MB, {queued:,} outbox rows"
        )
    export_s, export_rss, export_rows = runs["export"]
    bare_s, bare_rss, bare_rows = runs["bare scan+merge+write"]
    if export_rows != bare_rows or export_rows == 0:
        raise RuntimeError(f"export queued {export_rows} rows, the bare scan {bare_rows}")
    details = "; ".join(f"{n} {s:.1f} s, {r:.0f} MB RSS" for n, (s, r, _) in runs.items())
    return [
        report.compared(
            f"5a. export time ({rows / 1e6:.2g}M rows)",
            ("exportCalendarEvents", export_s, "s"),
            ("bare scan+merge+write", bare_s),
            "<= 2 x bare",
            notes=f"{details}; {export_rows:,} outbox rows each",
        ),
        report.compared(
            "5b. export peak memory",
            ("max RSS", export_rss, "MB"),
            ("bare scan+merge+write", bare_rss),
            "< 200 MB",
        ),
    ]


if __name__ == "__main__":
    common.run_alone(run)
