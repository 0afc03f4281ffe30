"""The one place reservation rows change: ranges, outbox, validation."""

import datetime
import unittest

from sqlalchemy import func, select

from gites.calendar.db import locks as db_locks
from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, OutboxMessage, Reservation
from gites.calendar.domain.history import OPS, Origin
from gites.calendar.domain.reservations import (
    InvalidRange,
    RangeChange,
    apply_owner_change,
    busy_days,
    check_range,
    days,
    replace_days,
)
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import seed_cottages

NOW = datetime.datetime(2030, 5, 10, 14, 30)
TODAY = NOW.date()
D = datetime.date


@on_both_databases(db_layers())
class TestOwnerChange(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        seed_cottages({10: "HAFF1234", 11: None})

    def change(self, heb_pk, start, end, kind):
        with db.session_scope() as session:
            heb = session.get(Hebergement, heb_pk)
            return apply_owner_change(session, heb, RangeChange(heb_pk, start, end, kind), 1, NOW)

    def rows(self, heb_pk):
        with db.session_scope() as session:
            return busy_days(session, heb_pk)

    def test_booked_range_writes_one_row_per_day_and_the_outbox(self):
        self.change(10, D(2030, 6, 1), D(2030, 6, 3), "loue")
        self.assertEqual(self.rows(10), [(D(2030, 6, d), "loue") for d in (1, 2, 3)])
        with db.session_scope() as session:
            heb = session.get(Hebergement, 10)
            self.assertEqual(heb.heb_calendrier_proprio_date_maj, TODAY)
            row = session.scalars(select(Reservation)).first()
            self.assertEqual((row.pro_fk, row.res_date_cre), (1, NOW))
            message = session.scalars(select(OutboxMessage)).one()
            self.assertEqual(
                (message.cgt_id, message.start_date, message.end_date, message.selection_type),
                ("HAFF1234", D(2030, 6, 1), D(2030, 6, 3), "loue"),
            )
            self.assertIsNone(message.sent_at)

    def test_overwrite_and_free(self):
        self.change(10, D(2030, 6, 1), D(2030, 6, 5), "loue")
        self.change(10, D(2030, 6, 3), D(2030, 6, 4), "indisp")
        self.assertEqual(
            self.rows(10),
            [
                (D(2030, 6, 1), "loue"),
                (D(2030, 6, 2), "loue"),
                (D(2030, 6, 3), "indisp"),
                (D(2030, 6, 4), "indisp"),
                (D(2030, 6, 5), "loue"),
            ],
        )
        self.change(10, D(2030, 6, 2), D(2030, 6, 4), "libre")
        self.assertEqual(self.rows(10), [(D(2030, 6, 1), "loue"), (D(2030, 6, 5), "loue")])

    def test_range_starting_today_is_sent(self):
        self.change(10, TODAY, TODAY, "indisp")
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(OutboxMessage)), 1)

    def test_cottage_without_cgt_is_not_sent(self):
        self.change(11, D(2030, 6, 1), D(2030, 6, 2), "loue")
        self.assertEqual(len(self.rows(11)), 2)
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(OutboxMessage)), 0)

    def test_invalid_ranges_write_nothing(self):
        for start, end, kind, message in [
            (D(2030, 6, 2), D(2030, 6, 1), "loue", "précède le début"),
            (D(2030, 6, 1), D(2032, 6, 2), "loue", "au plus 731 jours"),
            (D(2030, 6, 1), D(2030, 6, 2), "booked", "le type doit être"),
            (D(2030, 5, 9), D(2030, 6, 2), "loue", "ne peuvent plus être modifiés"),
        ]:
            with self.subTest(message), self.assertRaisesRegex(InvalidRange, message):
                self.change(10, start, end, kind)
        self.assertEqual(self.rows(10), [])
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(OutboxMessage)), 0)

    def test_replace_days_with_holes(self):
        self.change(10, D(2030, 6, 1), D(2030, 6, 5), "loue")
        with db.session_scope() as session:
            db_locks.lock_cottage(session, 10)
            replace_days(
                session,
                10,
                [D(2030, 6, 1), D(2030, 6, 3), D(2030, 6, 5)],
                "indisp",
                None,
                NOW,
                Origin(OPS, "test"),
            )
        self.assertEqual(
            [kind for _, kind in self.rows(10)], ["indisp", "loue", "indisp", "loue", "indisp"]
        )

    def test_unique_index_refuses_a_second_row_for_a_day(self):
        from sqlalchemy.exc import IntegrityError

        self.change(10, D(2030, 6, 1), D(2030, 6, 1), "loue")
        with self.assertRaises(IntegrityError), db.session_scope() as session:
            session.add(
                Reservation(res_date=datetime.datetime(2030, 6, 1), res_type="loue", heb_fk=10)
            )


class TestCheckRange(unittest.TestCase):
    def test_two_years_is_the_limit(self):
        check_range(D(2030, 1, 1), D(2030, 1, 1) + datetime.timedelta(730), "loue")
        with self.assertRaises(InvalidRange):
            check_range(D(2030, 1, 1), D(2030, 1, 1) + datetime.timedelta(731), "loue")

    def test_days(self):
        self.assertEqual(
            days(D(2030, 2, 27), D(2030, 3, 1)), [D(2030, 2, 27), D(2030, 2, 28), D(2030, 3, 1)]
        )
