"""The change log's own costs, on PostgreSQL (issue 12, points 2 and 6).

Not part of ``make bench`` (whose rows 1 and 4a measure the whole paths);
run alone::

    bin/python -m benchmarks.bench_history [--cottages 1000] [--rounds 200]

In a throw-away database (``GITES_BENCH_DB``, default
``gites_calendar_bench_history``, dropped at the end):

* **provenance read**: ``history.night_sources`` for 92 days (a 3-month
  view) of a random cottage, with ``--cottages`` cottages each holding two
  years of nights in ``gites_calendar_night_range`` (a change per ten
  days, each one run of ten nights); p50 / p95, and the plan;
* **write path**: a 30-day owner range through ``reservations.write_days``
  (which now reads the current types, writes the nights, the change row and
  the night sources) against the two statements it ran before the change
  log (the DELETE of the run, the INSERT of the days), alternating
  loue/indisp so that every day changes, each in its own transaction;
  p50 / p95 of each and their ratio (write_days also raises the calendar
  version of issue 16: the ratio is that of the whole write path, today's
  against the one before both);
* **hub batch**: ``apply_hub_batch`` of 100 notifications (7 days each,
  random cottages, 80 % booked), with the change log and with its two
  steps (``history.plan_nights`` / ``write_plan``) replaced by no-ops,
  alternately, each batch in its own transaction: an estimate of what the
  change log costs the daemon's drain (make bench row 1 measures the real
  daemon).
"""

import argparse
import contextlib
import datetime
import os
import random
import statistics
import sys
import time

os.environ.setdefault("GITES_BENCH_DB", "gites_calendar_bench_history")

from unittest import mock  # noqa: E402

from sqlalchemy import delete, insert, text  # noqa: E402

from benchmarks import common  # noqa: E402
from gites.calendar.db import schema as db_schema
from gites.calendar.db import session as db  # noqa: E402
from gites.calendar.db.models import Reservation  # noqa: E402
from gites.calendar.domain import history  # noqa: E402
from gites.calendar.domain.reservations import midnight, write_days  # noqa: E402
from gites.calendar.messaging.codec import HubBooking  # noqa: E402
from gites.calendar.messaging.handler import apply_hub_batch  # noqa: E402

START = datetime.date(2031, 1, 1)
NOW = datetime.datetime(2031, 1, 1, 9, 0)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def seed(engine, cottages):
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO proprio (pro_pk, pro_etat) SELECT n, true"
                " FROM generate_series(1, :n) AS n"
            ),
            {"n": cottages},
        )
        connection.execute(
            text(
                "INSERT INTO hebergement (heb_pk, heb_pro_fk, heb_site_public,"
                " heb_calendrier_proprio, heb_code_cgt) SELECT n, n, '1', 'actif', 'B' || n"
                " FROM generate_series(1, :n) AS n"
            ),
            {"n": cottages},
        )
        # a change per cottage and ten days, each explaining its ten nights
        connection.execute(
            text(
                "INSERT INTO gites_calendar_change (heb_pk, first_day, last_day, new_type,"
                " source, actor, changed_at, changed_days)"
                " SELECT h, :start + k * 10, :start + k * 10 + 9, 'loue', 'owner', h::text,"
                " :now, 10 FROM generate_series(1, :n) AS h, generate_series(0, 72) AS k"
            ),
            {"n": cottages, "start": START, "now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO gites_calendar_night_range (heb_pk, first_day, last_day,"
                " change_id) SELECT c.heb_pk, c.first_day, c.last_day, c.id"
                " FROM gites_calendar_change c"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def bench_read(engine, cottages, rounds):
    rng = random.Random(1)
    times = []
    session = db.Session(bind=engine)
    try:
        for _ in range(rounds):
            heb_pk = rng.randint(1, cottages)
            first = START + datetime.timedelta(rng.randint(0, 600))
            began = time.perf_counter()
            found = history.night_sources(session, heb_pk, first, first + datetime.timedelta(91))
            times.append((time.perf_counter() - began) * 1000)
            assert len(found) == 92, len(found)
        plan = session.execute(
            text(
                "EXPLAIN ANALYZE SELECT n.first_day, n.last_day, c.*"
                " FROM gites_calendar_night_range n"
                " JOIN gites_calendar_change c ON c.id = n.change_id"
                " WHERE n.heb_pk = 7 AND n.first_day >= :lowest AND n.first_day <= :b"
                " AND n.last_day >= :a ORDER BY n.change_id"
            ),
            {
                "a": START,
                "b": START + datetime.timedelta(91),
                "lowest": START - datetime.timedelta(history.MAX_RUN - 1),
            },
        ).scalars()
        plan = list(plan)
    finally:
        session.close()
    return times, plan


def bench_write(engine, cottages, rounds):
    rng = random.Random(2)
    with_log, bare = [], []
    table = Reservation.__table__
    for n in range(rounds):
        heb_pk = rng.randint(1, cottages)
        first = START + datetime.timedelta(rng.randint(0, 600))
        span = [first + datetime.timedelta(d) for d in range(30)]
        kind = ("loue", "indisp")[n % 2]
        # the write path as it is
        session = db.Session(bind=engine)
        began = time.perf_counter()
        write_days(
            session,
            {(heb_pk, day): kind for day in span},
            heb_pk,
            NOW,
            history.Origin(history.OWNER, heb_pk),
        )
        session.commit()
        with_log.append((time.perf_counter() - began) * 1000)
        session.close()
        # what it ran before the change log: DELETE of the run, INSERT
        other = ("indisp", "loue")[n % 2]
        session = db.Session(bind=engine)
        began = time.perf_counter()
        session.execute(
            delete(table).where(
                table.c.heb_fk == heb_pk,
                table.c.res_date >= midnight(span[0]),
                table.c.res_date < midnight(span[-1] + datetime.timedelta(1)),
            )
        )
        session.execute(
            insert(table),
            [
                {
                    "res_date": midnight(day),
                    "res_type": other,
                    "heb_fk": heb_pk,
                    "pro_fk": heb_pk,
                    "res_date_cre": NOW,
                }
                for day in span
            ],
        )
        session.commit()
        bare.append((time.perf_counter() - began) * 1000)
        session.close()
    return with_log, bare


def bench_hub(engine, cottages, rounds):
    rng = random.Random(3)
    notf_id = 10_000_000
    with_log, without = [], []
    kinds = ["booked"] * 8 + ["unavailable", "available"]
    no_plan = history.NightPlan([])
    for n in range(rounds):
        bookings = []
        for _ in range(100):
            notf_id += 1
            first = START + datetime.timedelta(rng.randint(0, 700))
            bookings.append(
                HubBooking(
                    booking_type=rng.choice(kinds),
                    cgt_id=f"B{rng.randint(1, cottages)}",
                    start=first,
                    end=first + datetime.timedelta(6),
                    notf_id=notf_id,
                )
            )
        logged = n % 2 == 0
        session = db.Session(bind=engine)
        with contextlib.ExitStack() as stack:
            if not logged:
                stack.enter_context(mock.patch.object(history, "plan_nights", return_value=no_plan))
                stack.enter_context(mock.patch.object(history, "write_plan", return_value=[]))
            began = time.perf_counter()
            apply_hub_batch(session, bookings, NOW)
            session.commit()
            (with_log if logged else without).append((time.perf_counter() - began) * 1000)
        session.close()
    return with_log, without


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cottages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    common.drop_database()
    with contextlib.closing(common._admin()) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{common.DB_NAME}"')
    engine = db.make_engine(common.DB_URL)
    try:
        db_schema.create_schema(engine)
        began = time.perf_counter()
        seed(engine, args.cottages)
        rows = args.cottages * 730
        print(
            f"seeded {args.cottages} cottages, {rows:,} nights of provenance"
            f" in {time.perf_counter() - began:.1f} s"
        )
        read, plan = bench_read(engine, args.cottages, args.rounds)
        print(
            f"night_sources, 92 days: p50 {statistics.median(read):.2f} ms,"
            f" p95 {percentile(read, 0.95):.2f} ms ({args.rounds} reads)"
        )
        print("plan:\n  " + "\n  ".join(plan))
        with_log, bare = bench_write(engine, args.cottages, args.rounds)
        p95_log, p95_bare = percentile(with_log, 0.95), percentile(bare, 0.95)
        print(
            f"30-day write: write_days p50 {statistics.median(with_log):.2f} ms,"
            f" p95 {p95_log:.2f} ms; before the change log (DELETE + INSERT)"
            f" p50 {statistics.median(bare):.2f} ms, p95 {p95_bare:.2f} ms;"
            f" p95 ratio {p95_log / p95_bare:.2f}"
        )
        logged, unlogged = bench_hub(engine, args.cottages, max(20, args.rounds // 5))
        print(
            f"hub batch of 100: with the change log median {statistics.median(logged):.1f} ms"
            f" ({100_000 / statistics.median(logged):,.0f} msg/s), without"
            f" {statistics.median(unlogged):.1f} ms"
            f" ({100_000 / statistics.median(unlogged):,.0f} msg/s);"
            f" ratio of rates {statistics.median(unlogged) / statistics.median(logged):.2f}"
            f" ({len(logged)} + {len(unlogged)} batches)"
        )
    finally:
        engine.dispose()
        common.drop_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
