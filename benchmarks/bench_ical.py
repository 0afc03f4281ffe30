"""Benchmark 7: importIcalFeeds over 5,000 feeds of 50 events, served locally.

A feed server (:mod:`ical_feed_server`, its own process) serves 5,000
Airbnb-shaped feeds with an ``ETag`` per generation.  Measured, each as a
subprocess (wall time, peak RSS from ``os.wait4``):

* ``import, all new``: ``bin/importIcalFeeds run --every 0`` on feeds never
  imported (every night written, recorded and queued for the hub);
* ``import, all 304``: the same run again: every feed answers 304;
* ``import, all changed``: after ``/_bump`` every feed moves its events;
* ``bare fetch+parse``: :mod:`bare_ical`, the same URLs, pool, fetcher and
  parser, no database: the baseline of the two runs that read every feed.

Targets (issue 13): an import that reads every feed within 1.5 x the bare
loop; the all-304 run under 60 s.
"""

import urllib.request

from benchmarks import common, report

FEEDS = 5000
EVENTS = 50
WORKERS = 32


def timed_child(args, env):
    """(seconds, max RSS in MB, last line of output) of one child."""
    seconds, rss, text = common.measured_child(args, common.VAR / "ical-child.log", env)
    return seconds, rss, text.splitlines()[-1] if text else ""


def run(quick=False):
    feeds = 500 if quick else FEEDS
    common.create_database()
    common.seed_owners(feeds)
    server = common.Child(
        [common.BIN / "python", "-m", "benchmarks.ical_feed_server", "--events", EVENTS],
        common.VAR / "ical-server.log",
    )
    try:
        server.wait_for_line("listening")
        port = int(server.logfile.read_text().split()[1])
        base = f"http://127.0.0.1:{port}"
        common.sql(
            "INSERT INTO gites_calendar_ical_feed (heb_pk, url, name, paused, created_at)"
            " SELECT n, %s || '/feed/' || n || '.ics', 'Airbnb', false, now()"
            " FROM generate_series(1, %s) AS n",
            (base, feeds),
        )
        common.vacuum_analyze()
        env = common.bench_env(GITES_ICAL_ALLOWED_NETWORKS="127.0.0.1/32")
        importer = [common.BIN / "importIcalFeeds", "run", "--every", "0", "--workers", WORKERS]
        bare = [common.BIN / "python", "-m", "benchmarks.bare_ical", "--dsn", common.DSN]
        bare += ["--workers", WORKERS]
        runs = {}

        def measure(name, args):
            runs[name] = timed_child(args, env)
            seconds, rss, last = runs[name]
            common.log(f"  ical {name}: {seconds:.1f} s, max RSS {rss:.0f} MB; {last}")

        measure("bare fetch+parse", bare)
        measure("import, all new", importer)
        measure("import, all 304", importer)
        urllib.request.urlopen(f"{base}/_bump", timeout=30).read()
        measure("bare fetch+parse (changed)", bare)
        measure("import, all changed", importer)
        nights = common.scalar("SELECT count(*) FROM reservation_proprio")
        outbox = common.scalar("SELECT count(*) FROM gites_calendar_outbox")
    finally:
        server.stop()
    if "304" not in runs["import, all 304"][2] or nights == 0:
        raise RuntimeError(f"unexpected import results: {runs}")
    bare_s = min(runs["bare fetch+parse"][0], runs["bare fetch+parse (changed)"][0])
    bare_rss = runs["bare fetch+parse"][1]
    details = "; ".join(f"{n} {s:.1f} s, {r:.0f} MB RSS" for n, (s, r, _) in runs.items())
    notes = f"{details}; {nights:,} nights, {outbox:,} outbox rows at the end"
    results = []
    for name in ("import, all new", "import, all changed"):
        seconds, rss, _ = runs[name]
        results.append(
            report.compared(
                f"7. ical {name} ({feeds:,} feeds x {EVENTS})",
                ("importIcalFeeds run", seconds, "s"),
                ("bare fetch+parse", bare_s),
                "<= 1.5 x bare",
                notes=notes if name == "import, all new" else "",
            )
        )
    seconds, rss, _ = runs["import, all 304"]
    results.append(
        report.compared(
            "7. ical import, all 304",
            ("importIcalFeeds run", seconds, "s"),
            ("bare fetch+parse", bare_s),
            "< 60 s",
        )
    )
    peak = max(runs[n][1] for n in runs if n.startswith("import"))
    results.append(
        report.compared(
            "7. ical import peak memory",
            ("max RSS", peak, "MB"),
            ("bare fetch+parse", bare_rss),
            "< 2 x bare",
        )
    )
    return results


if __name__ == "__main__":
    common.run_alone(run)
