"""Benchmark 6: the import daemon's start-up, beside the bare loop's.

What counts in every restart under systemd and before every drain: the time
from spawning the process to its first hub message committed.  One valid
hub message (a legacy pickle body, as the hub writes it) is queued while
nothing consumes; then the drainer is spawned and timed until the message's
``gites_calendar_hub_applied`` row is there and the queue is empty (polled
every 5 ms from this process, the same for both).  Drainers, alternately,
ROUNDS times each, on the same data reset before each run:

* ``daemon``: ``bin/importCalendarEventsFromWalhebCalendarDaemon --no-relay``
  (every start-up check it makes: settings, database reachable, tables
  there, broker, topology declared);
* ``bare``: :mod:`bare_drain` ``--batch 100`` (kombu + psycopg2, no check).

The medians are compared; the import times (``python -X importtime``) of
both entry points are logged beside, to tell the interpreter's part.
"""

import datetime
import re
import statistics
import subprocess

from benchmarks import common, report
from benchmarks.bench_drain import publish, reset_data
from gites.calendar.messaging import topology
from gites.calendar.scripts.hub_tool import hub_message

ROUNDS = 5
COTTAGES = 10


def one_message():
    start = datetime.date.today() + datetime.timedelta(10)
    return [hub_message("booked", "BENC1", start, start + datetime.timedelta(6), 1, "pickle")]


def time_to_first_message(name, args, timeout=60):
    """Seconds from spawn to the message committed and the queue empty."""
    with common.cursor_and_channel() as (cur, channel):

        def done():
            cur.execute("SELECT count(*) FROM gites_calendar_hub_applied")
            if cur.fetchone()[0] < 1:
                return False
            return common.queue_depth(channel, topology.HUB_QUEUE.name) == 0

        child = common.Child(args, common.log_path("startup", name))
        try:
            seconds = common.wait_until(done, timeout, interval=0.005, what=f"{name} start-up")
            seconds -= child.started
        finally:
            code = child.stop()
    if code not in (0, None):
        raise RuntimeError(f"{name} exited with {code}: {child.tail()}")
    return seconds


def import_seconds(args):
    """Total import time of an entry point (``-X importtime``), in seconds."""
    out = subprocess.run(
        [str(common.BIN / "python"), "-X", "importtime", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=common.bench_env(),
        cwd=common.TOP,
        check=False,
    )
    total = 0
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|", line)
        if match:
            total += int(match[1])
    return total / 1e6


def run(quick=False):
    rounds = 3 if quick else ROUNDS
    common.create_database()
    common.seed_owners(COTTAGES)
    python = str(common.BIN / "python")
    drainers = {
        "daemon": [common.BIN / "importCalendarEventsFromWalhebCalendarDaemon", "--no-relay"],
        "bare": [
            python,
            "-m",
            "benchmarks.bare_drain",
            "--amqp",
            common.AMQP_URL,
            "--dsn",
            common.DSN,
            "--batch",
            "100",
        ],
    }
    times = {name: [] for name in drainers}
    for _ in range(rounds):
        for name, args in drainers.items():
            reset_data()
            publish(one_message())
            times[name].append(time_to_first_message(name, args))
    medians = {name: statistics.median(values) for name, values in times.items()}
    imports = {
        "daemon": import_seconds(["-c", "import gites.calendar.scripts.hub_daemon"]),
        "bare": import_seconds(["-c", "import benchmarks.bare_drain"]),
    }
    for name, values in times.items():
        common.log(
            f"  start-up {name}: median {medians[name]:.3f} s"
            f" ({', '.join(f'{v:.3f}' for v in values)}); imports {imports[name]:.3f} s"
        )
    return [
        report.compared(
            "6. start-up: spawn to first message committed",
            ("daemon", medians["daemon"], "s"),
            ("bare loop", medians["bare"]),
            "<= 2 x bare",
            notes=f"medians of {rounds} alternating runs each; daemon"
            f" {', '.join(f'{v:.3f}' for v in times['daemon'])} s, bare"
            f" {', '.join(f'{v:.3f}' for v in times['bare'])} s; imports (-X importtime):"
            f" daemon {imports['daemon']:.3f} s, bare {imports['bare']:.3f} s",
        )
    ]


if __name__ == "__main__":
    common.run_alone(run, vhost=True)
