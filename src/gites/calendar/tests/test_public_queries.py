"""Public calendars (docs/public-calendars.rst): the queries behind the
anonymous views, on SQLite and on PostgreSQL."""

import datetime

from sqlalchemy import event

from gites.calendar.db import session as db
from gites.calendar.domain.visibility import busy_days_from, visible_cottage, visible_cottages
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.public_calendars import HIDDEN_COTTAGES as HIDDEN
from gites.calendar.testing.public_calendars import populate_public_calendars

TODAY = datetime.date(2030, 3, 10)


def d(text):
    return datetime.date.fromisoformat(text)


@on_both_databases(db_layers())
class TestPublicQueries(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.session = db.new_session()
        populate_public_calendars(self.session)
        self.session.commit()

    def tearDown(self):
        self.session.close()

    def test_visible_cottage(self):
        self.assertEqual(visible_cottage(self.session, 10).heb_nom, "Le Moulin")
        for heb_pk in HIDDEN:
            self.assertIsNone(visible_cottage(self.session, heb_pk), heb_pk)
        self.assertIsNone(visible_cottage(self.session, 0))
        self.assertIsNone(visible_cottage(self.session, None))

    def test_visible_cottages(self):
        self.assertEqual([h.heb_pk for h in visible_cottages(self.session, 1)], [10, 15])
        self.assertEqual(visible_cottages(self.session, 2), [])  # inactive owner
        self.assertEqual(visible_cottages(self.session, 3), [])  # unknown owner
        self.assertEqual(visible_cottages(self.session, None), [])

    def test_busy_days_from_today_included(self):
        days = busy_days_from(self.session, 10, d("2030-03-01"), 3, TODAY)
        self.assertEqual(days, [d("2030-03-10"), d("2030-03-11"), d("2030-04-30"), d("2030-05-01")])

    def test_busy_days_range_ends_with_its_last_month(self):
        self.assertEqual(
            busy_days_from(self.session, 10, d("2030-03-01"), 2, TODAY),
            [d("2030-03-10"), d("2030-03-11"), d("2030-04-30")],
        )
        self.assertEqual(
            busy_days_from(self.session, 10, d("2030-05-01"), 1, TODAY), [d("2030-05-01")]
        )
        self.assertEqual(
            busy_days_from(self.session, 10, d("2031-03-01"), 1, TODAY), [d("2031-03-01")]
        )

    def test_busy_days_never_before_today(self):
        self.assertEqual(busy_days_from(self.session, 10, d("2030-02-01"), 1, TODAY), [])
        self.assertEqual(
            busy_days_from(self.session, 10, d("2029-12-01"), 4, TODAY),
            [d("2030-03-10"), d("2030-03-11")],
        )

    def test_busy_days_of_hidden_cottages_are_none(self):
        for heb_pk in HIDDEN:
            self.assertEqual(busy_days_from(self.session, heb_pk, d("2030-03-01"), 24, TODAY), [])

    def test_months_are_capped(self):
        with self.assertRaises(ValueError):
            busy_days_from(self.session, 10, d("2030-03-01"), 25, TODAY)
        with self.assertRaises(ValueError):
            busy_days_from(self.session, 10, d("2030-03-01"), 0, TODAY)

    def test_one_query(self):
        statements = []

        def count(conn, cursor, statement, *args):
            if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
                statements.append(statement)

        engine = db.get_engine()
        event.listen(engine, "before_cursor_execute", count)
        try:
            busy_days_from(self.session, 10, d("2030-03-01"), 12, TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        self.assertEqual(len(statements), 1, statements)
