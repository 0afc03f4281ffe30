"""Test-case bases and seeding shared by several test modules.

A test module never imports another (tests/test_test_modules.py): what two
of them set up alike lives here, grouped by the subject of the tests.
"""

import base64
import contextlib
import datetime
import io
import json
import os
import re
import unittest
from unittest import mock
from urllib.parse import parse_qs, urlsplit

from plone import api
from plone.app.testing import login, logout
from plone.protect.authenticator import createToken
from plone.testing import Layer
from plone.testing.zope import Browser
from sqlalchemy import func, select
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import (
    BLOQUE,
    INDISP,
    LOUE,
    NON_ACTIF,
    SEARCH_ACTIF,
    ActivityMail,
    BlockingHistory,
    Hebergement,
    Proprio,
    Reservation,
)
from gites.calendar.domain import history, ical_export
from gites.calendar.domain.owners import linked_pro_pk
from gites.calendar.domain.reservations import RangeChange, apply_owner_change, busy_days
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import apply_hub_batch
from gites.calendar.scripts.check_activity import main as check_activity_main
from gites.calendar.testing import DatabaseTestCase, require_layer
from gites.calendar.testing.amqp import DAEMON_PG, bind_queue
from gites.calendar.testing.browser import (
    CHROMIUM,
    NAVIGATION_TIMEOUT_MS,
    TIMEOUT_MS,
    BrowserTestCase,
    new_context,
    page_and_errors,
)
from gites.calendar.testing.fixtures import (
    PASSWORD,
    add_cottage,
    add_proprio,
    demo_site,
    link_member,
    run_console_script,
    seed_cottages,
)
from gites.calendar.testing.http import serve_feeds
from gites.calendar.testing.smtp import SmtpServer
from gites.calendar.testing.widget_server import AUTHENTICATOR, WidgetServer

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover -- the Chromium layer reports it as a skip
    expect = None

# -- Ops scripts run in-process (test_history_script, test_ownerlink_script) --


def run_ops_script(testcase, main, args):
    """main(args) with the test database in the environment, its lines and
    its stderr: (status, lines, err)."""
    lines, err = [], io.StringIO()
    with (
        mock.patch.dict(os.environ, {"GITES_DB_URL": testcase.layer["db_url"]}),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args), out=lines.append)
    # The script configured its own engine: give the tests' back.
    db.register_engine(testcase.layer["engine"])
    return code, lines, err.getvalue()


# -- Public calendars (test_public, test_public_queries) ----------------------

PUBLIC_DAYS_CREATED = datetime.datetime(2030, 3, 10, 14, 30)


def add_days(session, heb_pk, kind, *days):
    for day in days:
        session.add(
            Reservation(
                res_date=datetime.datetime.combine(
                    datetime.date.fromisoformat(day), datetime.time()
                ),
                res_type=kind,
                heb_fk=heb_pk,
                pro_fk=None,
                res_date_cre=PUBLIC_DAYS_CREATED,
            )
        )


def populate_public_calendars(session):
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


# Cottages the public never sees: private, not actif, blocked, inactive owner, unknown.
HIDDEN_COTTAGES = (11, 12, 13, 14, 20, 99)


# -- The change log (test_history, test_history_script) -----------------------

HISTORY_NOW = datetime.datetime(2030, 5, 10, 14, 30)
HISTORY_CGT = "HAFF1234"


def booking(kind, start, end, notf_id):
    return HubBooking(booking_type=kind, cgt_id=HISTORY_CGT, start=start, end=end, notf_id=notf_id)


class HistoryCase(DatabaseTestCase):
    """Proprios 1 and 2; cottage 10 (with a CGT code) and 11 of proprio 1, 20 of 2."""

    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            add_proprio(session, 1)
            add_proprio(session, 2)
            session.flush()
            add_cottage(session, 10, 1, cgt=HISTORY_CGT)
            add_cottage(session, 11, 1, cgt=None, public=False)
            add_cottage(session, 20, 2)

    def owner(self, start, end, kind, heb_pk=10, now=HISTORY_NOW):
        with db.session_scope() as session:
            heb = session.get(Hebergement, heb_pk)
            apply_owner_change(session, heb, RangeChange(heb_pk, start, end, kind), 1, now)

    def hub(self, *bookings, now=HISTORY_NOW):
        with db.session_scope() as session:
            return apply_hub_batch(session, list(bookings), now)

    def log(self, heb_pk=10):
        with db.session_scope() as session:
            return history.changes(session, heb_pk, limit=None)

    def summary(self, heb_pk=10):
        """(source, actor, type, first, last, changed days), oldest first."""
        return [
            (c.source, c.actor, c.new_type, c.first_day, c.last_day, c.changed_days)
            for c in reversed(self.log(heb_pk))
        ]

    def sources(self, first, last, heb_pk=10):
        with db.session_scope() as session:
            return history.night_sources(session, heb_pk, first, last)


# -- checkCalendarActivity (test_activity, test_activity_runs) ----------------

ACTIVITY_TODAY = datetime.date(2030, 6, 15)
ACTIVITY_SITE = "https://www.gitesdewallonie.be"


def ago(days, today=ACTIVITY_TODAY):
    return today - datetime.timedelta(days=days)


def mail_of(pro_pk):
    return f"proprio{pro_pk}@example.org"


class ActivityCase(DatabaseTestCase):
    """Base: the scenario's data, an SMTP server, and ways to run the script."""

    def setUp(self):
        super().setUp()
        self.smtp = SmtpServer().start()
        self.addCleanup(self.smtp.stop)

    def tearDown(self):
        # main() configured its own engine; give the layer's back.
        db.get_engine().dispose()
        db.register_engine(self.layer["engine"])
        super().tearDown()

    def environ(self, **extra):
        env = {
            "GITES_DB_URL": self.layer["db_url"],
            "GITES_SITE_URL": ACTIVITY_SITE,
            **self.smtp.env(),
        }
        env.update(extra)
        return env

    def run_script(self, *args, env=None):
        """main(args) with the settings in the environment: (status, out, err)."""
        return run_console_script(check_activity_main, args, env or self.environ())

    def session(self):
        session = db.new_session()
        self.addCleanup(session.close)
        return session

    def load_scenario(self):
        """Proprios last updated 29/30/35/40/60 days ago, and the ones left alone."""
        with db.session_scope() as s:
            for pk in range(1, 11):
                add_proprio(s, pk, email=mail_of(pk), active=pk != 6)
            s.get(Proprio, 9).pro_email = None
            s.get(Proprio, 3).pro_reactivation_hash = "cle-existante-3"
            s.get(Proprio, 5).pro_prenom1 = "Hélène"
            s.flush()
            add_cottage(s, 11, 1, updated=ago(29))
            add_cottage(s, 21, 2, updated=ago(30))
            add_cottage(s, 31, 3, updated=ago(35))
            add_cottage(s, 32, 3, updated=ago(80), state=NON_ACTIF)  # not counted
            add_cottage(s, 41, 4, updated=ago(40))
            add_cottage(s, 42, 4, updated=ago(5), public=False)  # not counted, but blocked
            add_cottage(s, 43, 4, updated=ago(3), state=NON_ACTIF)  # not counted, but blocked
            add_cottage(s, 51, 5, updated=ago(60), state="searchactif")
            add_cottage(s, 61, 6, updated=ago(60))  # inactive proprio
            add_cottage(s, 71, 7, updated=ago(60), state=NON_ACTIF)
            add_cottage(s, 81, 8, updated=ago(60), state=BLOQUE)
            add_cottage(s, 91, 9, updated=ago(45))  # no e-mail
            add_cottage(s, 101, 10, updated=ago(50))
            add_cottage(s, 102, 10, updated=ago(10))  # the latest counts
            s.flush()
            # The owner of 43 switched it off himself: its history row is open.
            s.add(BlockingHistory(heb_blockhistory_blocked_dte=ago(3), heb_blockhistory_heb_pk=43))
            s.add(BlockingHistory(heb_blockhistory_blocked_dte=ago(20), heb_blockhistory_heb_pk=81))

    def snapshot(self):
        """Every row the script may touch, as comparable tuples."""
        s = self.session()
        rows = {}
        for model, order in (
            (Proprio, Proprio.pro_pk),
            (Hebergement, Hebergement.heb_pk),
            (BlockingHistory, BlockingHistory.heb_blockhistory_id),
            (ActivityMail, ActivityMail.id),
        ):
            columns = [c.key for c in model.__table__.columns]
            rows[model.__tablename__] = [
                tuple(getattr(obj, c) for c in columns)
                for obj in s.scalars(select(model).order_by(order))
            ]
        s.close()
        return rows

    def states(self):
        s = self.session()
        result = {h.heb_pk: h.heb_calendrier_proprio for h in s.scalars(select(Hebergement))}
        s.close()
        return result

    def history(self):
        s = self.session()
        result = sorted(
            (
                h.heb_blockhistory_heb_pk,
                h.heb_blockhistory_blocked_dte,
                h.heb_blockhistory_activated_dte,
            )
            for h in s.scalars(select(BlockingHistory))
        )
        s.close()
        return result

    def records(self):
        s = self.session()
        result = {
            (r.pro_pk, r.kind): (r.status, r.attempts, r.period)
            for r in s.scalars(select(ActivityMail))
        }
        s.close()
        return result

    def key_of(self, pro_pk):
        s = self.session()
        key = s.get(Proprio, pro_pk).pro_reactivation_hash
        s.close()
        return key

    def received(self):
        """{recipient: parsed message}; fails on two mails to one recipient."""
        result = {}
        for rcpts, message in self.smtp.messages:
            self.assertEqual(len(rcpts), 1)
            self.assertNotIn(rcpts[0], result, "two mails to one recipient")
            result[rcpts[0]] = message
        return result

    def link_key(self, message):
        body = message.get_content()
        links = [w for w in body.split() if "/reactivation-calendrier?" in w]
        self.assertEqual(len(links), 1, body)
        url = urlsplit(links[0])
        self.assertEqual(f"{url.scheme}://{url.netloc}", ACTIVITY_SITE)
        self.assertEqual(url.path, "/reactivation-calendrier")
        return parse_qs(url.query)["key"][0]


# -- The iCal feed import (test_icalimport, test_icalimport_script) -----------

ICAL_HEB = 5  # has a CGT code: its changes go to the hub
ICAL_OTHER_HEB = 6
ICAL_OWNER = 1


class IcalImportCase(DatabaseTestCase):
    """Two cottages of one owner, and a local server for their feeds."""

    def setUp(self):
        super().setUp()
        self.server = serve_feeds(self)
        seed_cottages({ICAL_HEB: "CGT-5", ICAL_OTHER_HEB: "CGT-6"}, pro_pk=ICAL_OWNER)

    def nights(self, heb=ICAL_HEB):
        with db.session_scope() as session:
            return dict(busy_days(session, heb))


# -- Owners' identity (test_owner_identity, test_owner_identity_views) -------

IDENTITY_OWNER, IDENTITY_MALLORY, IDENTITY_SITE_ADMIN = "owner", "mallory", "siteadmin"
IDENTITY_OWNER_PK = 10
IDENTITY_HEB = 101
IDENTITY_HEB_NAME = "Gîte du Moulin"

# Every spelling of "make me proprio 10" a member could send to @users.
IDENTITY_PATCHES = [
    {"pk": "10"},
    {"pk": 10},
    {"PK": "10"},
    {"Pk": "10"},
    {" pk": "10"},
    {"pk ": "10"},
    {"pk\t": "10"},
    {"p\u200bk": "10"},
    {"pk": ["10"]},
    {"pk": {"value": "10"}},
    {"properties": {"pk": "10"}},
    {"fullname": "Mallory", "pk": "10"},
    {"pro_pk": "10"},
    {"heb_pro_fk": "10"},
    {"member_id": IDENTITY_OWNER},
    {"owner_link": {"pro_pk": 10}},
]


def basic(username, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def link_of(member_id):
    with db.session_scope() as session:
        return linked_pro_pk(session, member_id)


def count_rows(model, *where):
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


class IdentityTestCase(DatabaseTestCase):
    """Plone with plone.restapi: an owner (proprio 10, one cottage), another
    member, a site administrator."""

    def setUp(self):
        super().setUp()
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.url = self.portal.absolute_url()
        self.calendar_url = f"{self.url}/zone-membre/calendrier"
        for username, roles in (
            (IDENTITY_OWNER, None),
            (IDENTITY_MALLORY, None),
            (IDENTITY_SITE_ADMIN, ["Site Administrator"]),
        ):
            api.user.create(
                email=f"{username}@example.org",
                username=username,
                password=PASSWORD,
                roles=roles or ("Member",),
            )
        session = db.get_session()
        add_proprio(session, IDENTITY_OWNER_PK, nom="Dupont", prenom="Marie")
        session.flush()
        add_cottage(session, IDENTITY_HEB, IDENTITY_OWNER_PK, cgt="HAFF0101", nom=IDENTITY_HEB_NAME)
        session.flush()
        link_member(session, api.user.get(username=IDENTITY_OWNER).getId(), IDENTITY_OWNER_PK)
        self.ical_token = ical_export.get_or_create_token(session, IDENTITY_HEB)
        transaction.commit()
        self.testapp = Browser(self.app).testapp

    def request(self, method, url, username, password=PASSWORD, **kwargs):
        headers = {"Authorization": basic(username, password), **kwargs.pop("headers", {})}
        call = getattr(self.testapp, method)
        return call(url, headers=headers, expect_errors=True, **kwargs)

    def patch_users(self, username, body):
        return self.request(
            "patch",
            f"{self.url}/@users/{username}",
            username,
            params=json.dumps(body),
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )

    def post_personal_information(self, username):
        form_url = f"{self.url}/@@personal-information"
        page = self.request("get", form_url, username)
        self.assertEqual(page.status_int, 200)
        authenticator = re.search(r'name="_authenticator" value="([^"]+)"', page.text).group(1)
        return self.request(
            "post",
            form_url,
            username,
            params={
                "form.widgets.fullname": "Mallory",
                "form.widgets.email": f"{username}@example.org",
                "form.widgets.pk": "10",
                "form.widgets.PK": "10",
                "pk": "10",
                "form.buttons.save": "Save",
                "_authenticator": authenticator,
            },
        )

    def post_memberdata_zmi(self, username):
        """The ZMI forms of portal_memberdata: [(method, response)]."""
        memberdata = f"{self.url}/portal_memberdata"
        token = self.token(username)
        return [
            (
                method,
                self.request(
                    "post",
                    f"{memberdata}/{method}",
                    username,
                    params={**params, "_authenticator": token},
                ),
            )
            for method, params in (
                ("manage_changeProperties", {"pk": "10"}),
                ("manage_addProperty", {"id": "pk", "type": "string", "value": "10"}),
                ("manage_editProperties", {"pk": "10"}),
            )
        ]

    def token(self, username):
        """plone.protect's CSRF token of ``username``, as his pages carry it."""
        login(self.portal, username)
        try:
            return createToken()
        finally:
            logout()


# -- The widget in Chromium (test_widget_browser, test_widget_browser_pages) --


def has_class(name):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


class WidgetBrowserLayer(Layer):
    """The mock server, on the one Chromium of every browser test.

    A layer rather than setUpClass: zope.testrunner sets up layers, and runs
    each test on its own.
    """

    defaultBases = (CHROMIUM,)

    def setUp(self):
        if self["chromium_unavailable"]:
            return
        self["server"] = WidgetServer().start()
        expect.set_options(timeout=TIMEOUT_MS)
        # One context for all tests (nothing is kept in cookies or storage);
        # a fresh page per test is enough isolation and much cheaper.
        self["context"] = new_context(self["browser"], 1000, "fr-BE")

    def tearDown(self):
        if not self["chromium_unavailable"]:
            self["context"].close()
            self["server"].stop()
            del self["context"]
            del self["server"]


WIDGET_BROWSER = WidgetBrowserLayer(name="gites.calendar:WidgetBrowser")


class WidgetBrowserTestCase(unittest.TestCase):
    """A fresh page per test, on the layer's server and browser: the helpers
    of the widget tests, which subclass it."""

    layer = WIDGET_BROWSER

    def setUp(self):
        require_layer(self)  # a skip, or under CI=true a failure, without Chromium
        expect.set_options(timeout=TIMEOUT_MS)
        self.server = self.layer["server"]
        self.context = self.layer["context"]
        self.server.reset()
        self.page, self.errors = page_and_errors(self.context)

    def tearDown(self):
        self.page.close()
        self.assertEqual(self.errors, [], "JavaScript errors on the page")

    # -- helpers -----------------------------------------------------------

    def open(self, name="page.html", widget="#editable"):
        self.goto(name, widget)
        return self.page.locator(widget)

    def goto(self, name, widget="#editable"):
        """Open a test page: wait for the widget's first load, not for ``load``."""
        self.page.goto(f"{self.server.url}/{name}", wait_until="commit")
        expect(self.page.locator(f"{widget} [data-date]").first).to_be_visible(
            timeout=NAVIGATION_TIMEOUT_MS
        )
        self.settle(widget)

    def settle(self, widget="#editable"):
        """Wait until the widget has no request in flight."""
        expect(self.page.locator(widget)).to_have_attribute("aria-busy", "false")

    def day(self, date, widget="#editable"):
        return self.page.locator(f'{widget} [data-date="{date}"]')

    def saves(self):
        with self.server.lock:
            return [call["form"] for call in self.server.calls]

    def stored(self, pk="12"):
        with self.server.lock:
            return dict(self.server.days[pk])

    def expected_form(self, start, end, kind, pk="12"):
        return {
            "hebPk": pk,
            "start": start,
            "end": end,
            "type": kind,
            "_authenticator": AUTHENTICATOR,
        }

    def click_and_save(self, *dates, widget="#editable"):
        """Click the days in order; the last click must send the POST."""
        for date in dates[:-1]:
            self.day(date, widget).click()
        with self.page.expect_response(lambda r: r.url.endswith("/save")):
            self.day(dates[-1], widget).click()
        self.settle(widget)

    def focused_date(self):
        return self.page.evaluate("document.activeElement.dataset.date || null")


# -- Owner pages in Chromium (test_browser_a11y, test_browser_layout) ---------

DEMO_NOW = datetime.datetime(2031, 5, 12, 10, 0)  # a Monday


class DemoSiteBrowserTestCase(BrowserTestCase):
    """The demo site's data and members, the server's day frozen on DEMO_NOW."""

    def setUp(self):
        super().setUp()
        demo_site(self, DEMO_NOW)

    def day(self, date, scope=".gites-calendar"):
        return self.page.locator(f'{scope} [data-date="{date}"]')


# -- The hub's queue (test_relay, test_icalimport_hub) -------------------------


class HubQueueTestCase(DatabaseTestCase):
    """PostgreSQL and RabbitMQ; the queue ``hub_queue`` stands for the hub's."""

    layer = DAEMON_PG
    hub_queue = None

    def setUp(self):
        super().setUp()
        self.url = self.layer["amqp_url"]
        bind_queue(self.url, self.hub_queue)
