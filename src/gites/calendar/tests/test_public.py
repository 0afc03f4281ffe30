"""Public calendars (docs/public-calendars.rst): the anonymous views.

Every test runs on SQLite and on PostgreSQL.  "Today" is frozen on
2030-03-10 through :mod:`gites.calendar.clock`.  The queries are in
test_public_queries.
"""

import datetime
import json
import time

from plone.testing.zope import Browser
from sqlalchemy import text as sql
import transaction

from gites.calendar.db import session as db
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import on_both_databases, read_statements
from gites.calendar.testing.fixtures import freeze_clock
from gites.calendar.testing.plone import GITES_CALENDAR_FUNCTIONAL_TESTING_PG, functional_layers
from gites.calendar.testing.public_calendars import HIDDEN_COTTAGES as HIDDEN
from gites.calendar.testing.public_calendars import populate_public_calendars

NOW = datetime.datetime(2030, 3, 10, 14, 30)
# What selectedDays?hebPk=10&year=2030&month=3&range=3 answers for populate_public_calendars().
RENTED = ["2030-03-10", "2030-03-11", "2030-04-30", "2030-05-01"]


class ViewTestCase(DatabaseTestCase):
    """Anonymous requests through the whole publisher (plone.testing Browser)."""

    def setUp(self):
        super().setUp()
        self.portal = self.layer["portal"]
        self.portal_url = self.portal.absolute_url()
        populate_public_calendars(db.get_session())
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
