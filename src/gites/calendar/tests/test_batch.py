"""The batch (fast path, savepoint path) without a broker: the one-outcome rule."""

import datetime
from unittest import mock

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import HubApplied
from gites.calendar.messaging import batch as batch_module
from gites.calendar.messaging import handler
from gites.calendar.messaging.batch import BatchApplier, Pending
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import seed_cottages

NOW = datetime.datetime(2031, 5, 10, 14, 30)
D = datetime.date


def item(notf_id, cgt="HAFF1234"):
    start = D(2031, 6, 1)
    booking = HubBooking(booking_type="booked", cgt_id=cgt, start=start, end=start, notf_id=notf_id)
    return Pending(message=f"message {notf_id}", booking=booking)


@on_both_databases(db_layers())
class BatchApplierTest(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        seed_cottages()
        self.logged = []
        self.applier = BatchApplier(lambda level, msg, *args: self.logged.append(msg % args), 3)

    def applied(self):
        with db.session_scope() as session:
            return sorted(session.scalars(select(HubApplied.notf_id)))

    def test_fast_path_applies_every_message_in_one_go(self):
        work = [item(1), item(2, cgt="ZZZZ9"), item(3)]
        self.applier.apply(work, NOW)
        self.assertEqual([w.outcome for w in work], ["applied", "unknown-cottage", "applied"])
        self.assertEqual(self.applied(), [1, 3])
        self.assertEqual(self.logged, [])

    def test_any_exception_of_one_message_parks_that_message_only(self):
        real = handler.apply_hub_batch

        def fragile(session, bookings, now, *rest):
            # What an unforeseen bug does (OverflowError near date.max, say).
            if any(b.notf_id == 2 for b in bookings):
                raise OverflowError("date value out of range")
            return real(session, bookings, now, *rest)

        work = [item(1), item(2), item(3)]
        with (
            mock.patch.object(batch_module, "apply_hub_batch", fragile),
            mock.patch.object(handler, "apply_hub_batch", fragile),
        ):
            self.applier.apply(work, NOW)
        self.assertEqual([w.outcome for w in work], ["applied", None, "applied"])
        self.assertEqual(work[1].reason, "not applied: OverflowError: date value out of range")
        self.assertEqual(self.applied(), [1, 3])
        self.assertIn("applying a batch of 3 message(s) failed (OverflowError", self.logged[0])

    def test_unreachable_database_raises_and_leaves_no_outcome(self):
        from sqlalchemy.exc import OperationalError

        def down(*args):
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

        work = [item(1), item(2)]
        with (
            mock.patch.object(batch_module, "apply_hub_batch", down),
            self.assertRaises(OperationalError),
        ):
            self.applier.apply(work, NOW)
        self.assertEqual([(w.outcome, w.reason) for w in work], [(None, None), (None, None)])
        self.assertEqual(self.applied(), [])

    def test_a_refused_message_is_counted_then_parked(self):
        from sqlalchemy.exc import IntegrityError

        real = handler.apply_hub_batch

        def refuse_2(session, bookings, now, *rest):
            if any(b.notf_id == 2 for b in bookings):
                raise IntegrityError("INSERT", {}, Exception("check constraint"))
            return real(session, bookings, now, *rest)

        work = [item(1), item(2)]
        with (
            mock.patch.object(batch_module, "apply_hub_batch", refuse_2),
            mock.patch.object(handler, "apply_hub_batch", refuse_2),
        ):
            for _ in range(3):
                self.applier.apply([w for w in work if w.outcome is None and not w.reason], NOW)
        self.assertEqual(work[0].outcome, "applied")
        self.assertEqual(work[1].refusals, 3)
        self.assertTrue(work[1].reason.startswith("refused by the database 3 times"))
        self.assertEqual(self.applied(), [1])
        self.assertTrue(any("(3/3)" in line for line in self.logged))
