"""Benchmark 1: the import daemon draining a backlog of hub messages.

N hub messages (legacy pickle bodies, content type
``application/x-python-serialize``, dates as ``datetime.date``, exactly as
``publishHubMessage`` / the legacy hub write them) for random cottages among
1,000, 7-day ranges, 80 % booked / 10 % unavailable / 10 % available, plus
ONE undecodable message in the middle of the backlog, are queued while
nothing consumes.  Then one drainer is started as a subprocess and timed
from the moment it is consuming until every valid message is committed (all
``gites_calendar_hub_applied`` rows there and the expected number of
``reservation_proprio`` rows) and the queue is empty.  Afterwards the final
table is compared row for row with the in-order application of the
messages, the queue must hold nothing (ready or unacked) and the parking
queue exactly the one bad message.

Drainers, each on the same fresh data:

* ``daemon``: the real console script
  ``bin/importCalendarEventsFromWalhebCalendarDaemon --no-relay`` (default
  ``--batch-size`` 100, savepoint per message, ack after commit);
* ``bare 1 tx/msg``: :mod:`bare_drain` ``--batch 1``;
* ``bare batched``: :mod:`bare_drain` ``--batch 100``.
"""

import datetime
import pickle
import random
import sys

from kombu import Connection, Producer

from benchmarks import common, report
from gites.calendar.messaging import topology
from gites.calendar.testing import amqp as broker

# Logs of a run with its own database/vhost go to their own directory too:
# run.py removes common.VAR at its end, and a concurrent run with the
# default names keeps its bench Zope instance in var/bench.
if common.DB_NAME != "gites_calendar_bench" and common.VAR.name == "bench":
    common.VAR = common.VAR.with_name(f"bench-{common.DB_NAME}")
from gites.calendar.scripts.hub_tool import hub_message

COTTAGES = 1000
KINDS = (("booked", 0.8), ("unavailable", 0.1), ("available", 0.1))
RES = {"booked": "loue", "unavailable": "indisp"}


def make_messages(count, seed=6):
    """[(body, content_type)] and the expected final {(heb_pk, day): res_type}."""
    rng = random.Random(seed)
    today = datetime.date.today()
    messages, expected = [], {}
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    for notf_id in range(1, count + 1):
        heb = rng.randint(1, COTTAGES)
        kind = rng.choices(kinds, weights)[0]
        start = today + datetime.timedelta(rng.randint(0, 364))
        end = start + datetime.timedelta(6)
        messages.append(hub_message(kind, f"BENC{heb}", start, end, notf_id, "pickle"))
        for i in range(7):
            key = (heb, start + datetime.timedelta(i))
            if kind == "available":
                expected.pop(key, None)
            else:
                expected[key] = RES[kind]
    # One bad message (a booking type the hub never sends), in the middle.
    bad = pickle.dumps({"booking_type": "bogus", "cgt_id": "BENC1", "notf_id": 0}, protocol=2)
    messages.insert(count // 2, (bad, "application/x-python-serialize"))
    return messages, expected


def reset_data():
    common.sql(
        "TRUNCATE reservation_proprio, gites_calendar_hub_applied RESTART IDENTITY;"
        " UPDATE hebergement SET heb_calendrier_proprio_date_maj = current_date - 100"
    )
    common.vacuum_analyze()


def publish(messages):
    with Connection(common.AMQP_URL, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        topology.declare_consumer_topology(channel)
        channel.queue_purge(topology.HUB_QUEUE.name)
        channel.queue_purge(topology.PARKING_QUEUE.name)
        producer = Producer(conn.channel(), exchange=topology.HUB_EXCHANGE)
        # Confirm mode on, but the broker confirms are awaited per publish by
        # kombu: fine for a set-up step.
        for body, content_type in messages:
            broker.publish_persistent(producer, body, topology.HUB_ROUTING_KEY, content_type)
        depth = common.queue_depth(channel, topology.HUB_QUEUE.name)
    if depth != len(messages):
        raise RuntimeError(f"queued {depth} of {len(messages)} messages")


def run_drainer(name, args, marker, valid, expected_rows, timeout):
    """Start a drainer; seconds from 'consuming' to all committed and queue empty."""
    child = common.Child(args, common.log_path("drain", name))
    try:
        t0 = child.wait_for_line(marker, timeout=60)
        startup = t0 - child.started
        with common.cursor_and_channel() as (cur, channel):

            def done():
                # Cheapest first: the passive declare, then the counts.
                if common.queue_depth(channel, topology.HUB_QUEUE.name) != 0:
                    return False
                cur.execute("SELECT count(*) FROM gites_calendar_hub_applied")
                if cur.fetchone()[0] < valid:
                    return False
                cur.execute("SELECT count(*) FROM reservation_proprio")
                return cur.fetchone()[0] == expected_rows

            t1 = common.wait_until(done, timeout, interval=0.02, what=f"{name} drain")
    finally:
        code = child.stop()
    if code not in (0, None):
        raise RuntimeError(f"{name} exited with {code}: {child.tail()}")
    return t1 - t0, startup


def check_state(expected, parked_expected=1):
    rows = common.sql(
        "SELECT heb_fk, res_date::date, res_type FROM reservation_proprio", fetch=True
    )
    found = {(h, d): t for h, d, t in rows}
    if len(rows) != len(found) or found != expected:
        raise RuntimeError("final reservation_proprio differs from the in-order application")
    queues = common.list_queues()
    hub = queues.get(topology.HUB_QUEUE.name, (0, 0))
    parked = queues.get(topology.PARKING_QUEUE.name, (0, 0))
    if hub != (0, 0):
        raise RuntimeError(f"hub queue not empty after the drain: {hub}")
    if parked[0] != parked_expected:
        raise RuntimeError(f"parking queue holds {parked[0]}, expected {parked_expected}")


def run(quick=False, profile=False):
    count = 500 if quick else 5000
    timeout = 120 if quick else 600
    messages, expected = make_messages(count)
    common.create_database()
    common.seed_owners(COTTAGES)
    python = str(common.BIN / "python")
    daemon = [common.BIN / "importCalendarEventsFromWalhebCalendarDaemon", "--no-relay"]
    if profile:
        daemon = [
            python,
            "-m",
            "cProfile",
            "-o",
            common.VAR / "daemon.prof",
            common.BIN / "importCalendarEventsFromWalhebCalendarDaemon",
            "--no-relay",
        ]
    bare = [python, "-m", "benchmarks.bare_drain", "--amqp", common.AMQP_URL, "--dsn", common.DSN]
    drainers = [
        ("daemon", daemon, "consuming booking.update.fromwalhebcalendar"),
        ("bare 1 tx/msg", [*bare, "--batch", "1"], "bare drain ready"),
        ("bare batched", [*bare, "--batch", "100"], "bare drain ready"),
    ]
    rates, details = {}, []
    retries = 0
    for name, args, marker in drainers:

        def measure(name=name, args=args, marker=marker):
            reset_data()
            publish(messages)
            measured = run_drainer(name, args, marker, count, len(expected), timeout)
            check_state(expected)
            return measured

        (seconds, startup), again = common.retrying(f"drain {name}", measure)
        retries += again
        rates[name] = count / seconds
        details.append(
            f"{name} {rates[name]:,.0f} msg/s ({seconds:.2f} s, start-up {startup:.1f} s)"
        )
        common.log(f"  drain {details[-1]}")
    if profile:
        import pstats

        pstats.Stats(str(common.VAR / "daemon.prof"), stream=sys.stderr).sort_stats(
            "cumulative"
        ).print_stats(40)
    best_name = max(("bare 1 tx/msg", "bare batched"), key=rates.get)
    verified = "state verified row for row, queue empty, 1 bad message parked in every run"
    return [
        report.compared(
            f"1. backlog drain ({count:,} pickle msgs)",
            ("daemon", rates["daemon"], "msg/s"),
            (best_name, rates[best_name]),
            ">= 0.9 x best bare",
            notes=f"{'; '.join(details)}; {verified}{report.retried(retries)}",
        )
    ]


if __name__ == "__main__":
    common.run_alone(run, vhost=True, profile="--profile" in sys.argv)
