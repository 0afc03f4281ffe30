"""apply_hub_booking: docs/messaging.rst's processing, order and duplicates, no broker."""

import datetime
import random

from sqlalchemy import func, select

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, HubApplied, Reservation
from gites.calendar.domain.history import OWNER, Origin
from gites.calendar.domain.reservations import InvalidRange, busy_days, days, replace_days
from gites.calendar.messaging import handler
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import seed_cottages

OWNER_1 = Origin(OWNER, 1)
NOW = datetime.datetime(2031, 5, 10, 14, 30)
D = datetime.date


def booking(kind, start, end, notf_id, cgt="HAFF1234"):
    return HubBooking(booking_type=kind, cgt_id=cgt, start=start, end=end, notf_id=notf_id)


@on_both_databases(db_layers())
class ApplyHubBookingTest(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        seed_cottages({10: "HAFF1234", 11: "HAFF9"})

    def apply(self, *bookings, now=NOW):
        with db.session_scope() as session:
            return [handler.apply_hub_booking(session, b, now) for b in bookings]

    def state(self, heb_pk=10):
        with db.session_scope() as session:
            return busy_days(session, heb_pk)

    def test_booked_writes_one_loue_row_per_day(self):
        self.assertEqual(
            self.apply(booking("booked", D(2031, 6, 1), D(2031, 6, 3), 1)), ["applied"]
        )
        self.assertEqual(self.state(), [(d, "loue") for d in days(D(2031, 6, 1), D(2031, 6, 3))])
        with db.session_scope() as session:
            rows = session.scalars(select(Reservation)).all()
            heb = session.get(Hebergement, 10)
            applied = session.scalars(select(HubApplied)).all()
            self.assertEqual({r.pro_fk for r in rows}, {None})
            self.assertEqual({r.res_date_cre for r in rows}, {NOW})
            self.assertEqual(heb.heb_calendrier_proprio_date_maj, NOW.date())
            self.assertEqual(
                [(a.heb_pk, a.notf_id, a.start_date, a.end_date) for a in applied],
                [(10, 1, D(2031, 6, 1), D(2031, 6, 3))],
            )
        self.assertEqual(self.state(11), [])

    def test_unavailable_replaces_and_available_frees(self):
        with db.session_scope() as session:
            replace_days(session, 10, days(D(2031, 6, 1), D(2031, 6, 10)), "loue", 1, NOW, OWNER_1)
        self.apply(
            booking("unavailable", D(2031, 6, 3), D(2031, 6, 4), 5),
            booking("available", D(2031, 6, 8), D(2031, 6, 12), 6),
        )
        expected = (
            [(D(2031, 6, d), "loue") for d in (1, 2)]
            + [(D(2031, 6, d), "indisp") for d in (3, 4)]
            + [(D(2031, 6, d), "loue") for d in (5, 6, 7)]
        )
        self.assertEqual(self.state(), expected)

    def test_unknown_cottage(self):
        self.assertEqual(
            self.apply(booking("booked", D(2031, 6, 1), D(2031, 6, 1), 1, cgt="ZZZZ1")),
            ["unknown-cottage"],
        )
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(Reservation)), 0)
            self.assertEqual(session.scalar(select(func.count()).select_from(HubApplied)), 0)

    def test_redelivery_is_a_duplicate_and_changes_nothing(self):
        first = booking("booked", D(2031, 6, 1), D(2031, 6, 5), 7)
        self.apply(first, booking("available", D(2031, 6, 2), D(2031, 6, 2), 8))
        before = self.state()
        self.assertEqual(self.apply(first), ["duplicate"])
        self.assertEqual(self.state(), before)
        self.assertNotIn((D(2031, 6, 2), "loue"), before)

    def test_late_older_notification_only_fills_days_newer_ones_did_not_set(self):
        newer = booking("unavailable", D(2031, 6, 3), D(2031, 6, 4), 20)
        older = booking("booked", D(2031, 6, 1), D(2031, 6, 6), 10)
        self.assertEqual(self.apply(newer, older), ["applied", "partly-superseded"])
        expected = [
            (D(2031, 6, 1), "loue"),
            (D(2031, 6, 2), "loue"),
            (D(2031, 6, 3), "indisp"),
            (D(2031, 6, 4), "indisp"),
            (D(2031, 6, 5), "loue"),
            (D(2031, 6, 6), "loue"),
        ]
        self.assertEqual(self.state(), expected)
        self.assertEqual(
            self.apply(booking("available", D(2031, 6, 3), D(2031, 6, 3), 15)), ["superseded"]
        )
        self.assertEqual(self.state(), expected)

    def test_any_arrival_order_gives_the_hub_order_state(self):
        stream = [
            booking("booked", D(2031, 7, 1), D(2031, 7, 10), 1),
            booking("available", D(2031, 7, 4), D(2031, 7, 6), 2),
            booking("unavailable", D(2031, 7, 5), D(2031, 7, 12), 3),
            booking("booked", D(2031, 7, 11), D(2031, 7, 11), 4),
            booking("available", D(2031, 7, 1), D(2031, 7, 2), 5),
        ]
        self.apply(*stream)
        in_order = self.state()
        orders = [[4, 2, 0, 3, 1], [1, 3, 4, 0, 2, 2, 4]]
        for order in orders:
            with db.session_scope() as session:
                session.execute(Reservation.__table__.delete())
                session.execute(HubApplied.__table__.delete())
            self.apply(*[stream[i] for i in order])
            self.assertEqual(self.state(), in_order, order)

    def test_invalid_range_raises(self):
        with self.assertRaises(InvalidRange):
            self.apply(booking("booked", D(2031, 6, 5), D(2031, 6, 1), 1))

    def test_prune_keeps_recent_and_future_rows(self):
        self.apply(
            booking("booked", D(2031, 1, 1), D(2031, 1, 2), 1),  # ended long ago
            booking("booked", D(2031, 6, 1), D(2031, 6, 2), 2),  # future
            now=datetime.datetime(2031, 1, 5),
        )
        self.apply(booking("booked", D(2031, 2, 1), D(2031, 2, 2), 3))  # applied just now
        with db.session_scope() as session:
            self.assertEqual(handler.prune_hub_applied(session, NOW), 1)
        with db.session_scope() as session:
            self.assertEqual(sorted(session.scalars(select(HubApplied.notf_id))), [2, 3])


@on_both_databases(db_layers())
class ApplyHubBatchTest(DatabaseTestCase):
    """A batch gives what applying its messages one at a time gives.

    Random streams (fixed seeds) over two cottages sharing days, an unknown
    code, redeliveries and late older notifications, on top of owner rows;
    each applied (a) in random batches with apply_hub_batch, (b) one message
    per transaction, and compared with (c) a model of docs/messaging.rst's rules
    in Python.
    """

    CODES = {"HAFF1": 10, "HAFF2": 11, "ZZZZ9": None}
    KINDS = {"booked": "loue", "unavailable": "indisp", "available": "libre"}

    def setUp(self):
        super().setUp()
        seed_cottages({10: "HAFF1", 11: "HAFF2"})

    def stream(self, rng, count=60):
        made = []
        for notf_id in range(1, count + 1):
            start = D(2031, 6, 1) + datetime.timedelta(rng.randint(0, 20))
            end = start + datetime.timedelta(rng.randint(0, 6))
            kind = rng.choice(list(self.KINDS))
            made.append(booking(kind, start, end, notf_id, cgt=rng.choice(list(self.CODES))))
        arrivals = made + rng.sample(made, 10)  # redeliveries
        rng.shuffle(arrivals)
        return arrivals

    def model(self, arrivals, owner_rows):
        """docs/messaging.rst's rules, one message after the other, in arrival order."""
        state, applied, outcomes = dict(owner_rows), {}, []
        for b in arrivals:
            heb_pk = self.CODES[b.cgt_id]
            if heb_pk is None:
                outcomes.append(handler.UNKNOWN_COTTAGE)
                continue
            done = applied.setdefault(heb_pk, [])
            if any(n == b.notf_id for n, _, _ in done):
                outcomes.append(handler.DUPLICATE)
                continue
            kept = 0
            for day in days(b.start, b.end):
                if any(n > b.notf_id and s <= day <= e for n, s, e in done):
                    kept += 1
                elif self.KINDS[b.booking_type] == "libre":
                    state.pop((heb_pk, day), None)
                else:
                    state[heb_pk, day] = self.KINDS[b.booking_type]
            done.append((b.notf_id, b.start, b.end))
            total = (b.end - b.start).days + 1
            outcomes.append(
                handler.APPLIED
                if not kept
                else handler.SUPERSEDED
                if kept == total
                else handler.PARTLY_SUPERSEDED
            )
        return state, outcomes

    def reset(self, owner_rows):
        with db.session_scope() as session:
            session.execute(Reservation.__table__.delete())
            session.execute(HubApplied.__table__.delete())
            for (heb_pk, day), res_type in owner_rows.items():
                replace_days(session, heb_pk, [day], res_type, 1, NOW, OWNER_1)

    def table(self):
        with db.session_scope() as session:
            rows = session.execute(
                select(Reservation.heb_fk, Reservation.res_date, Reservation.res_type)
            ).all()
            applied = session.scalars(select(func.count()).select_from(HubApplied)).one()
        state = {(heb_fk, res_date.date()): res_type for heb_fk, res_date, res_type in rows}
        self.assertEqual(len(state), len(rows), "two rows for one cottage and day")
        return state, applied

    def test_random_batches_equal_one_at_a_time_and_the_model(self):
        for seed in range(4):
            rng = random.Random(seed)
            arrivals = self.stream(rng)
            owner_rows = {
                (10, D(2031, 6, 1) + datetime.timedelta(n)): "indisp" for n in range(3, 9)
            }
            expected, expected_outcomes = self.model(arrivals, owner_rows)
            known = {(b.cgt_id, b.notf_id) for b in arrivals if self.CODES[b.cgt_id]}

            self.reset(owner_rows)
            outcomes, rest = [], list(arrivals)
            while rest:
                size = rng.randint(1, 25)
                with db.session_scope() as session:
                    outcomes += handler.apply_hub_batch(session, rest[:size], NOW)
                rest = rest[size:]
            self.assertEqual(outcomes, expected_outcomes, f"seed {seed}")
            self.assertEqual(self.table(), (expected, len(known)), f"seed {seed}")

            self.reset(owner_rows)
            singles = []
            for b in arrivals:
                with db.session_scope() as session:
                    singles.append(handler.apply_hub_booking(session, b, NOW))
            self.assertEqual(singles, expected_outcomes, f"seed {seed}")
            self.assertEqual(self.table(), (expected, len(known)), f"seed {seed}")

    def test_batch_touches_only_cottages_it_wrote_for(self):
        with db.session_scope() as session:
            outcomes = handler.apply_hub_batch(
                session,
                [
                    booking("booked", D(2031, 6, 1), D(2031, 6, 2), 1, cgt="HAFF1"),
                    booking("booked", D(2031, 6, 1), D(2031, 6, 2), 1, cgt="HAFF1"),
                    booking("booked", D(2031, 6, 1), D(2031, 6, 2), 2, cgt="ZZZZ9"),
                ],
                NOW,
            )
        self.assertEqual(outcomes, ["applied", "duplicate", "unknown-cottage"])
        with db.session_scope() as session:
            self.assertEqual(
                session.get(Hebergement, 10).heb_calendrier_proprio_date_maj, NOW.date()
            )
            self.assertEqual(
                session.get(Hebergement, 11).heb_calendrier_proprio_date_maj, D(2020, 1, 1)
            )

    def test_an_invalid_range_in_a_batch_writes_nothing(self):
        with self.assertRaises(InvalidRange), db.session_scope() as session:
            handler.apply_hub_batch(
                session,
                [
                    booking("booked", D(2031, 6, 1), D(2031, 6, 2), 1),
                    booking("booked", D(2031, 6, 5), D(2031, 6, 1), 2),
                ],
                NOW,
            )
        self.assertEqual(self.table(), ({}, 0))
