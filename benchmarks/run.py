#!/usr/bin/env python3
"""`make bench`: the hot paths of gites.calendar measured beside their baselines.

Runs against the machine's PostgreSQL (127.0.0.1:5432, user postgres, a
throw-away database ``gites_calendar_bench``) and RabbitMQ (127.0.0.1:5672,
guest, a throw-away vhost ``/gites-bench``); a bench Zope instance lives in
``var/bench`` while it runs.  Everything is removed at the end, whatever
happens.  Every benchmark runs its baseline in the same run, so the ratios
hold on a noisy machine.  See docs/performance.rst.

    bin/python benchmarks/run.py            # full size (~15 minutes)
    bin/python benchmarks/run.py --quick    # smoke run, sizes / 10
    bin/python benchmarks/run.py --only drain,relay,http,export,startup,ical
"""

import argparse
import datetime
import os
import pathlib
import platform
import subprocess
import sys
import time
import traceback

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from benchmarks import common, report  # noqa: E402

BENCHES = ("drain", "relay", "http", "export", "startup", "ical")


def machine():
    def version(*args):
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    import kombu
    import psycopg2
    import sqlalchemy

    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    conn = psycopg2.connect(f"host={common.PG_HOST} user={common.PG_USER} dbname=postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version()")
            pg = cur.fetchone()[0].split(" on ")[0]
    finally:
        conn.close()
    return [
        f"date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"machine: {platform.node()}, nproc {os.cpu_count()}, RAM {mem_kb / 1024 / 1024:.1f} GiB,"
        f" {platform.platform()}",
        f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__},"
        f" psycopg2 {psycopg2.__version__.split()[0]}, kombu {kombu.__version__},"
        f" {pg}, RabbitMQ {version('rabbitmqctl', 'version')}",
        f"load average at start: {os.getloadavg()[0]:.2f}",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes divided by ~10")
    parser.add_argument(
        "--only", default=",".join(BENCHES), help=f"comma-separated subset of {','.join(BENCHES)}"
    )
    parser.add_argument(
        "--profile", action="store_true", help="drain: run the daemon under cProfile, print top"
    )
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    os.chdir(common.TOP)
    info = machine()
    for line in info:
        print(line, flush=True)
    print(f"command: bin/python benchmarks/run.py {' '.join(argv or sys.argv[1:])}".rstrip())
    results, failures = [], []
    started = time.monotonic()
    try:
        common.create_vhost()
        for name in chosen:
            common.log(f"== {name}")
            t0 = time.monotonic()
            try:
                if name == "drain":
                    from benchmarks import bench_drain

                    results += bench_drain.run(quick=args.quick, profile=args.profile)
                elif name == "relay":
                    from benchmarks import bench_relay

                    results += bench_relay.run(quick=args.quick)
                elif name == "http":
                    from benchmarks import bench_http

                    results += bench_http.run(quick=args.quick)
                elif name == "export":
                    from benchmarks import bench_export

                    results += bench_export.run(quick=args.quick)
                elif name == "startup":
                    from benchmarks import bench_startup

                    results += bench_startup.run(quick=args.quick)
                elif name == "ical":
                    from benchmarks import bench_ical

                    results += bench_ical.run(quick=args.quick)
            except Exception as error:  # report and go on with the next benchmark
                failures.append(f"{name}: {type(error).__name__}: {error}")
                common.log(f"!! {failures[-1]}")
                traceback.print_exc()
            common.log(f"== {name} done in {time.monotonic() - t0:.0f} s")
    finally:
        common.delete_vhost()
        common.drop_database()
        common.rmtree(common.VAR)
    print()
    report.print_table(results)
    print(f"total {time.monotonic() - started:.0f} s")
    for failure in failures:
        print(f"FAILED {failure}")
    # A missed target fails the run like a crash does: nobody has to read the
    # table to know.
    missed = [r for r in results if not r.met]
    for r in missed:
        print(f"MISSED {r.bench}: {r.metric} ratio {r.ratio:.2f}, target {r.target}")
    return 1 if failures or missed else 0


if __name__ == "__main__":
    sys.exit(main())
