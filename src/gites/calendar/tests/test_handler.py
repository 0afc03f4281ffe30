"""apply_hub_booking: SPEC §5 processing, order and duplicates, without a broker."""

import datetime

from sqlalchemy import func, select

from gites.calendar import db
from gites.calendar.messaging import handler
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.models import Hebergement, HubApplied, Reservation
from gites.calendar.reservations import InvalidRange, busy_days, days, replace_days
from gites.calendar.testing import (
    DatabaseTestCase,
    add_cottage,
    add_proprio,
    db_layers,
    on_both_databases,
)

NOW = datetime.datetime(2031, 5, 10, 14, 30)
D = datetime.date


def booking(kind, start, end, notf_id, cgt="HAFF1234"):
    return HubBooking(booking_type=kind, cgt_id=cgt, start=start, end=end, notf_id=notf_id)


@on_both_databases(db_layers())
class ApplyHubBookingTest(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            add_proprio(session, 1)
            session.flush()
            add_cottage(session, 10, 1, cgt="HAFF1234", updated=D(2020, 1, 1))
            add_cottage(session, 11, 1, cgt="HAFF9")

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
            replace_days(session, 10, days(D(2031, 6, 1), D(2031, 6, 10)), "loue", 1, NOW)
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
