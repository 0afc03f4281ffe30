"""Benchmark 2: the outbox relay publishing pending rows with publisher confirms.

N pending ``gites_calendar_outbox`` rows (7-day ranges of cottages with a
CGT code) are relayed to exchange ``booking.update.gdw`` / ``import``, into
the hub's queue ``booking.update.gdw`` declared and bound by the bench (on
RabbitMQ the hub owns it).  Timed from the moment the publisher is connected
until every row is marked sent (relay) and the hub queue holds N messages.

* ``relay``: the real daemon ``bin/importCalendarEventsFromWalhebCalendarDaemon``
  (consumer idle on an empty queue, relay thread doing the work; legacy
  pickle bodies, ``GITES_HUB_FORMAT`` default);
* ``bare publish``: :mod:`bare_publish`, one SELECT, publish + confirm per
  message, no database write (the baseline the target refers to);
* ``bare publish+mark``: the same plus ``UPDATE ... SET sent_at`` and a
  commit per message (reported for information);
* ``bare publish, confirms per 100``: publish 100, wait for their confirms
  together, no database write: the relay's way, bare (for information: the
  ceiling of the relay's method).
"""

from kombu import Connection

from benchmarks import common, report
from gites.calendar.messaging import topology

# Logs of a run with its own database/vhost go to their own directory too:
# run.py removes common.VAR at its end, and a concurrent run with the
# default names keeps its bench Zope instance in var/bench.
if common.DB_NAME != "gites_calendar_bench" and common.VAR.name == "bench":
    common.VAR = common.VAR.with_name(f"bench-{common.DB_NAME}")

COTTAGES = 1000


def reset_outbox(count):
    common.sql(
        "TRUNCATE gites_calendar_outbox RESTART IDENTITY;"
        " INSERT INTO gites_calendar_outbox (created_at, heb_pk, cgt_id, start_date, end_date,"
        " selection_type, attempts)"
        " SELECT now(), 1 + mod(n, %s), 'BENC' || (1 + mod(n, %s)), current_date + mod(n, 300),"
        " current_date + mod(n, 300) + 6, (ARRAY['loue', 'indisp', 'libre'])[1 + mod(n, 3)], 0"
        " FROM generate_series(1, %s) AS n",
        (COTTAGES, COTTAGES, count),
    )
    common.vacuum_analyze("gites_calendar_outbox")
    with Connection(common.AMQP_URL) as conn:
        channel = conn.channel()
        topology.SITE_EXCHANGE.bind(channel).declare()
        topology.SITE_QUEUE.bind(channel).declare()
        channel.queue_purge(topology.SITE_QUEUE.name)


def run_publisher(name, args, marker, count, marks, timeout):
    child = common.Child(args, common.log_path("relay", name))
    try:
        t0 = child.wait_for_line(marker, timeout=60)
        with common.cursor_and_channel() as (cur, channel):

            def done():
                if common.queue_depth(channel, topology.SITE_QUEUE.name) < count:
                    return False
                if not marks:
                    return True
                cur.execute("SELECT count(*) FROM gites_calendar_outbox WHERE sent_at IS NULL")
                return cur.fetchone()[0] == 0

            t1 = common.wait_until(done, timeout, what=f"{name} relay")
    finally:
        child.stop()
    with Connection(common.AMQP_URL) as conn:
        depth = common.queue_depth(conn.channel(), topology.SITE_QUEUE.name)
    if depth != count:
        raise RuntimeError(f"{name}: hub queue holds {depth} messages, expected {count}")
    return t1 - t0


def run(quick=False):
    count = 500 if quick else 5000
    timeout = 120 if quick else 600
    common.create_database()
    common.seed_owners(COTTAGES)
    python = str(common.BIN / "python")
    bare = [python, "-m", "benchmarks.bare_publish", "--amqp", common.AMQP_URL, "--dsn", common.DSN]
    publishers = [
        (
            "relay",
            [common.BIN / "importCalendarEventsFromWalhebCalendarDaemon"],
            "relay connected",
            True,
        ),
        ("bare publish", bare, "bare publish ready", False),
        ("bare publish+mark", [*bare, "--mark"], "bare publish ready", True),
        ("bare publish, confirms per 100", [*bare, "--window", "100"], "bare publish ready", False),
    ]
    rates, details = {}, []
    retries = 0
    for name, args, marker, marks in publishers:

        def measure(name=name, args=args, marker=marker, marks=marks):
            reset_outbox(count)
            return run_publisher(name, args, marker, count, marks, timeout)

        seconds, again = common.retrying(f"relay {name}", measure)
        retries += again
        rates[name] = count / seconds
        details.append(f"{name} {rates[name]:,.0f} msg/s ({seconds:.2f} s)")
        common.log(f"  relay {details[-1]}")
    verified = "hub queue verified to hold every message"
    return [
        report.compared(
            f"2. outbox relay ({count:,} rows, confirms)",
            ("relay", rates["relay"], "msg/s"),
            ("bare publish", rates["bare publish"]),
            ">= 0.9 x bare",
            notes=f"{'; '.join(details)}; {verified}{report.retried(retries)}",
        )
    ]


if __name__ == "__main__":
    common.run_alone(run, vhost=True)
