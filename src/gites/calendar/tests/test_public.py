"""Public calendars (docs/public-calendars.rst): the queries and the anonymous views.

Every test runs on SQLite and on PostgreSQL.  "Today" is frozen on
2030-03-10 through :mod:`gites.calendar.clock`.
"""

import datetime
import json
import time

from plone.testing.zope import Browser
from sqlalchemy import event
from sqlalchemy import text as sql
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import BLOQUE, INDISP, LOUE, NON_ACTIF, SEARCH_ACTIF, Reservation
from gites.calendar.domain.visibility import busy_days_from, visible_cottage, visible_cottages
from gites.calendar.testing import (
    GITES_CALENDAR_FUNCTIONAL_TESTING_PG,
    DatabaseTestCase,
    functional_layers,
)
from gites.calendar.testing.db import db_layers, on_both_databases, read_statements
from gites.calendar.testing.fixtures import add_cottage, add_proprio, freeze_clock

TODAY = datetime.date(2030, 3, 10)
NOW = datetime.datetime(2030, 3, 10, 14, 30)
# What selectedDays?hebPk=10&year=2030&month=3&range=3 answers for populate().
RENTED = ["2030-03-10", "2030-03-11", "2030-04-30", "2030-05-01"]


def d(text):
    return datetime.date.fromisoformat(text)


def add_days(session, heb_pk, kind, *days):
    for day in days:
        session.add(
            Reservation(
                res_date=datetime.datetime.combine(d(day), datetime.time()),
                res_type=kind,
                heb_fk=heb_pk,
                pro_fk=None,
                res_date_cre=NOW,
            )
        )


def populate(session):
    """Proprio 1: cottages 10 (public actif), 11 (private), 12 (searchactif),
    13 (non actif), 14 (bloque), 15 (second public actif).  Proprio 2 is
    inactive: cottage 20 is public and actif.  Every cottage has the same
    busy days."""
    add_proprio(session, 1)
    add_proprio(session, 2, active=False)
    session.flush()
    add_cottage(session, 10, 1, nom="Le Moulin")
    add_cottage(session, 11, 1, public=False)
    add_cottage(session, 12, 1, state=SEARCH_ACTIF)
    add_cottage(session, 13, 1, state=NON_ACTIF)
    add_cottage(session, 14, 1, state=BLOQUE)
    add_cottage(session, 15, 1, nom="La Ferme")
    add_cottage(session, 20, 2)
    session.flush()
    for heb_pk in (10, 11, 12, 13, 14, 15, 20):
        add_days(session, heb_pk, LOUE, "2030-02-28", "2030-03-09", "2030-03-10", "2030-03-11")
        add_days(session, heb_pk, INDISP, "2030-04-30", "2030-05-01", "2031-03-01")
    session.flush()


HIDDEN = (11, 12, 13, 14, 20, 99)


@on_both_databases(db_layers())
class TestPublicQueries(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.session = db.new_session()
        populate(self.session)
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


class ViewTestCase(DatabaseTestCase):
    """Anonymous requests through the whole publisher (plone.testing Browser)."""

    def setUp(self):
        super().setUp()
        self.portal = self.layer["portal"]
        self.portal_url = self.portal.absolute_url()
        populate(db.get_session())
        transaction.commit()
        freeze_clock(self, NOW)
        self.browser = Browser(self.layer["app"])
        self.browser.handleErrors = False
        self.browser.raiseHttpErrors = False

    def get(self, path):
        self.browser.open(f"{self.portal_url}/{path}")
        return self.browser

    def status(self):
        return int(self.browser.headers["status"].split()[0])

    def json(self, path):
        self.get(path)
        return self.status(), json.loads(self.browser.contents)


@on_both_databases(functional_layers())
class TestPublicSelectedDays(ViewTestCase):
    def test_busy_days(self):
        status, data = self.json("selectedDays?hebPk=10&year=2030&month=3&range=3")
        self.assertEqual(status, 200)
        self.assertEqual(data, {"rented": ["2030-03-10", "2030-03-11", "2030-04-30", "2030-05-01"]})
        self.assertEqual(self.browser.headers["Content-Type"], "application/json; charset=utf-8")
        self.assertEqual(self.browser.headers["Cache-Control"], "public, max-age=60")

    def test_one_statement_outside_the_zope_transaction(self):
        # The read goes through a pooled connection of its own: one SELECT,
        # no ORM session joined to the Zope transaction (so no COMMIT).
        engine = db.get_read_engine()
        db.Session_.remove()
        with read_statements(engine) as sent:
            status, data = self.json("selectedDays?hebPk=10&year=2030&month=3&range=3")
        statements = [statement.split(None, 1)[0].upper() for statement in sent]
        self.assertEqual(status, 200)
        self.assertEqual(len(data["rented"]), 4)
        self.assertEqual([s for s in statements if s not in ("BEGIN",)], ["SELECT"], statements)
        self.assertFalse(db.Session_.registry.has())

    def test_range_defaults_to_one_month(self):
        status, data = self.json("selectedDays?hebPk=10&year=2030&month=4")
        self.assertEqual((status, data), (200, {"rented": ["2030-04-30"]}))

    def test_year_and_month_default_to_today(self):
        status, data = self.json("selectedDays?hebPk=10")
        self.assertEqual((status, data), (200, {"rented": ["2030-03-10", "2030-03-11"]}))

    def test_hidden_cottages_answer_like_a_cottage_without_days(self):
        self.get("selectedDays?hebPk=15&year=2030&month=6&range=1")  # visible, no days
        reference = (self.status(), self.browser.contents, self.browser.headers["Cache-Control"])
        self.assertEqual(reference[:2], (200, '{"rented":[]}'))
        for heb_pk in HIDDEN:
            self.get(f"selectedDays?hebPk={heb_pk}&year=2030&month=3&range=24")
            answer = (self.status(), self.browser.contents, self.browser.headers["Cache-Control"])
            self.assertEqual(answer, reference, heb_pk)

    def test_bad_parameters(self):
        for query in (
            "",
            "hebPk=",
            "hebPk=abc",
            "hebPk=-1",
            "hebPk=0",
            "hebPk=1e3",
            "hebPk=99999999999",
            "hebPk=10&hebPk=11",
            "hebPk=10&month=13",
            "hebPk=10&month=0",
            "hebPk=10&year=20300",
            "hebPk=10&range=0",
            "hebPk=10&range=25",
            "hebPk=10&range=x",
        ):
            status, data = self.json(f"selectedDays?{query}")
            self.assertEqual(status, 400, query)
            self.assertEqual(list(data), ["error"], query)
            self.assertTrue(data["error"], query)
            self.assertEqual(self.browser.headers["Cache-Control"], "no-store")

    def test_types_are_never_shown(self):
        _status, data = self.json("selectedDays?hebPk=10&year=2030&month=3&range=24")
        self.assertEqual(list(data), ["rented"])
        self.assertNotIn("loue", self.browser.contents)

    def test_available_in_a_subfolder_navigation_root_only(self):
        # The owner's variant lives on the calendar folder; elsewhere (a plain
        # folder) there is no public selectedDays.
        self.browser.handleErrors = True
        self.get("zone-membre/selectedDays?hebPk=10")
        self.assertEqual(self.status(), 404)


@on_both_databases(functional_layers())
class TestExternCalendar(ViewTestCase):
    def test_public_cottage(self):
        self.get("extern-calendar?pk=10")
        self.assertEqual(self.status(), 200)
        html = self.browser.contents
        self.assertIn('class="gites-calendar"', html)
        self.assertIn(f'data-days-url="{self.portal_url}/selectedDays?hebPk=10"', html)
        self.assertIn('data-heb-pk="10"', html)
        self.assertIn('data-start-month="2030-03"', html)
        self.assertIn('data-today="2030-03-10"', html)
        self.assertIn('data-months="3"', html)
        self.assertIn("Le Moulin", html)
        self.assertNotIn("data-save-url", html)
        self.assertNotIn("data-authenticator", html)
        self.assertIn(f"{self.portal_url}/++resource++gites.calendar/calendar.js", html)
        self.assertIn(f"{self.portal_url}/++resource++gites.calendar/calendar.css", html)
        # standalone: no Plone chrome
        self.assertNotIn("portal-header", html)
        self.assertNotIn("portal-footer", html)

    def test_embeddable(self):
        for path in (
            "extern-calendar?pk=10",
            "extern-calendar?pk=11",
            "extern-monthly-calendar?pk=1",
        ):
            self.get(path)
            self.assertIsNone(self.browser.headers.get("X-Frame-Options"), path)
            self.assertEqual(
                self.browser.headers["Content-Security-Policy"], "frame-ancestors *", path
            )

    def test_data_i18n(self):
        self.get("extern-calendar?pk=10")
        start = self.browser.contents.index("data-i18n=")
        self.assertIn("stateBusy", self.browser.contents[start : start + 2000])

    def test_months_parameter(self):
        self.get("extern-calendar?pk=10&months=12")
        self.assertIn('data-months="12"', self.browser.contents)
        self.get("extern-calendar?pk=10&months=13")
        self.assertIn('data-months="3"', self.browser.contents)

    def test_other_cottages_get_one_neutral_page(self):
        self.get("extern-calendar?pk=99")
        reference = (self.status(), self.browser.contents)
        self.assertEqual(reference[0], 200)
        self.assertNotIn('gites-calendar"', reference[1])
        self.assertIn("gites-calendar-none", reference[1])
        for query in ("pk=11", "pk=12", "pk=13", "pk=14", "pk=20", "pk=abc", "pk=-3", ""):
            self.get(f"extern-calendar?{query}")
            self.assertEqual((self.status(), self.browser.contents), reference, query)


@on_both_databases(functional_layers())
class TestExternMonthlyCalendar(ViewTestCase):
    def test_rows_of_public_cottages(self):
        self.get("extern-monthly-calendar?pk=1")
        self.assertEqual(self.status(), 200)
        html = self.browser.contents
        self.assertEqual(html.count('class="gites-calendar"'), 2)
        self.assertIn('data-heb-pk="10"', html)
        self.assertIn('data-heb-pk="15"', html)
        for heb_pk in (11, 12, 13, 14):
            self.assertNotIn(f'data-heb-pk="{heb_pk}"', html)
        self.assertLess(html.index('data-heb-pk="10"'), html.index('data-heb-pk="15"'))
        self.assertEqual(html.count('data-months="1"'), 2)
        self.assertEqual(html.count('data-start-month="2030-03"'), 2)
        self.assertNotIn("data-save-url", html)

    def test_month_parameter(self):
        self.get("extern-monthly-calendar?pk=1&month=2030-07")
        self.assertEqual(self.browser.contents.count('data-start-month="2030-07"'), 2)
        self.get("extern-monthly-calendar?pk=1&month=2030-13")
        self.assertEqual(self.browser.contents.count('data-start-month="2030-03"'), 2)

    def test_other_owners_get_the_neutral_page(self):
        self.get("extern-calendar?pk=99")
        neutral = self.browser.contents
        for query in ("pk=2", "pk=3", "pk=x", ""):
            self.get(f"extern-monthly-calendar?{query}")
            self.assertEqual(self.status(), 200)
            self.assertIn("gites-calendar-none", self.browser.contents)
            self.assertNotIn('class="gites-calendar"', self.browser.contents)
        self.assertIn("gites-calendar-none", neutral)


class TestPublicSelectedDaysAfterDatabaseRestart(ViewTestCase):
    """The read engine has no pre-ping: a connection killed by the server
    (a PostgreSQL restart) costs one failed read, retried at once."""

    layer = GITES_CALENDAR_FUNCTIONAL_TESTING_PG

    def test_killed_connections_are_replaced_without_an_error(self):
        path = "selectedDays?hebPk=10&year=2030&month=3&range=3"
        self.assertEqual(self.json(path), (200, {"rented": RENTED}))
        read = db.get_read_engine()
        self.assertIsNot(read, db.get_engine())
        self.assertEqual(read.pool.checkedin(), 1)
        with db.get_engine().connect() as connection:
            killed = (
                connection.execute(
                    sql(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                .scalars()
                .all()
            )
            terminate = sql("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid")
            connection.execute(terminate, {"pids": killed})
            gone = sql("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = ANY(:pids)")
            for _ in range(100):
                if connection.execute(gone, {"pids": killed}).scalar():
                    break
                time.sleep(0.05)
        self.assertGreaterEqual(len(killed), 1)
        self.assertEqual(self.json(path), (200, {"rented": RENTED}))
        self.assertEqual(read.pool.checkedin(), 1)
