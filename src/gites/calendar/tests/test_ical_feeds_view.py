"""The owner's imported calendars on month.html and ``ical-feeds`` (issue 13, point 1).

Through the Zope publisher, on SQLite and PostgreSQL: the owner adds an
Airbnb-shaped feed served by a local server, clicks "Importer maintenant",
and sees its nights; another owner can do nothing to it.
"""

import datetime
import pathlib
import re
from unittest import mock
from urllib.parse import urlencode

from plone import api
from sqlalchemy import select
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import IcalFeed, OutboxMessage
from gites.calendar.domain.reservations import busy_days
from gites.calendar.testing import DatabaseTestCase, functional_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    add_cottage,
    add_proprio,
    freeze_clock,
    link_member,
    publisher_browser,
)
from gites.calendar.testing.http import serve_feeds

DATA = pathlib.Path(__file__).parent / "data"
NOW = datetime.datetime(2030, 6, 15, 10, 30)
PASSWORD = "a-long-test-password-1"
HEB, OTHER_HEB = 301, 401
TOKEN_RE = re.compile(r'name="_authenticator" value="([0-9a-f]+)"')


@on_both_databases(functional_layers())
class TestIcalFeedsPage(DatabaseTestCase):
    """The test site speaks English: the page's texts come from the catalogue."""

    def assertIn(self, member, container, msg=None):  # no whole page on failure
        if member not in container:
            self.fail(msg or f"{member!r} not found in the page")

    def setUp(self):
        super().setUp()
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.calendar_url = self.portal["zone-membre"]["calendrier"].absolute_url()
        freeze_clock(self, NOW)
        self.server = serve_feeds(self)
        self.server.route("/airbnb.ics", (DATA / "airbnb.ics").read_bytes())
        session = db.get_session()
        for username, pk in (("feedowner", 30), ("feedother", 40)):
            if api.user.get(username=username) is None:
                api.user.create(
                    email=f"{username}@example.org", username=username, password=PASSWORD
                )
            add_proprio(session, pk)
            session.flush()
            link_member(session, api.user.get(username=username).getId(), pk)
        add_cottage(session, HEB, 30, cgt="HAFF0301", nom="Gîte des Sources")
        add_cottage(session, OTHER_HEB, 40, cgt="HAFF0401")
        transaction.commit()

    def browser(self, username):
        return publisher_browser(self.app, username, PASSWORD, language="en")

    def page(self, browser, heb=HEB):
        browser.open(f"{self.calendar_url}/month.html?pk={heb}")
        return browser.contents

    def post(self, browser, **data):
        data.setdefault("hebPk", HEB)
        token = TOKEN_RE.search(self.page(browser, data["hebPk"])).group(1)
        browser.post(
            f"{self.calendar_url}/ical-feeds", urlencode({**data, "_authenticator": token})
        )
        return browser.headers["status"]

    def fresh(self):
        session = db.new_session()
        self.addCleanup(session.close)
        return session

    def test_add_import_now_and_see_the_nights(self):
        owner = self.browser("feedowner")
        self.assertIn("Imported calendars", self.page(owner))
        self.post(owner, action="add", url=self.server.url("/airbnb.ics"), name="Airbnb")
        self.assertIn("Calendar added", owner.contents)
        self.assertIn("Airbnb", owner.contents)
        self.assertIn("never", owner.contents)
        self.post(owner, action="import")
        html = owner.contents
        self.assertIn("Import done: 1 calendar(s) read, 0 failing, 6 night(s) blocked", html)
        self.assertIn("just now", html)
        self.assertIn("Nights blocked by this calendar: 6", html)
        self.assertIn("01/07/2030–04/07/2030", html)
        session = self.fresh()
        self.assertEqual(len(busy_days(session, HEB)), 6)
        outbox = [
            (m.cgt_id, m.start_date, m.end_date, m.selection_type)
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
        self.assertEqual(
            outbox,
            [
                ("HAFF0301", datetime.date(2030, 7, 1), datetime.date(2030, 7, 4), "loue"),
                ("HAFF0301", datetime.date(2030, 7, 10), datetime.date(2030, 7, 11), "indisp"),
            ],
        )
        # Four minutes later the page says so.
        with mock.patch(
            "gites.calendar.clock.now", return_value=NOW + datetime.timedelta(minutes=4)
        ):
            self.assertIn("4 minutes ago", self.page(owner))

    def test_rename_pause_resume_remove(self):
        owner = self.browser("feedowner")
        self.post(owner, action="add", url=self.server.url("/airbnb.ics"))
        feed_id = self.fresh().scalar(select(IcalFeed.id))
        self.post(owner, action="rename", feedId=feed_id, name="Mon Airbnb")
        self.assertIn("Mon Airbnb", owner.contents)
        self.post(owner, action="pause", feedId=feed_id)
        self.assertIn("paused", owner.contents)
        self.assertTrue(self.fresh().get(IcalFeed, feed_id).paused)
        self.post(owner, action="resume", feedId=feed_id)
        self.assertFalse(self.fresh().get(IcalFeed, feed_id).paused)
        self.post(owner, action="remove", feedId=feed_id)
        self.assertIn("Calendar removed", owner.contents)
        self.assertIsNone(self.fresh().get(IcalFeed, feed_id))

    def test_errors_in_plain_words(self):
        owner = self.browser("feedowner")
        self.post(owner, action="add", url="ftp://example.org/x.ics")
        self.assertIn("This address is not accepted.", owner.contents)
        self.post(owner, action="add", url=self.server.url("/missing.ics"), name="Vieux")
        self.post(owner, action="import")
        self.assertIn("The server answered with an error (404).", owner.contents)
        self.server.route("/page.ics", b"<html></html>", content_type="text/html")
        self.post(owner, action="add", url=self.server.url("/page.ics"))
        self.post(owner, action="import")
        self.assertIn("This address does not give an iCal calendar.", owner.contents)

    def test_feed_failing_for_a_day_is_flagged(self):
        owner = self.browser("feedowner")
        self.post(owner, action="add", url=self.server.url("/missing.ics"))
        self.post(owner, action="import")
        self.assertNotIn("failing for more than 24 hours", owner.contents)
        with mock.patch(
            "gites.calendar.clock.now", return_value=NOW + datetime.timedelta(hours=24, minutes=1)
        ):
            html = self.page(owner)
        self.assertIn("failing for more than 24 hours", html)
        self.assertIn("The server answered with an error (404).", html)

    def assertNotIn(self, member, container, msg=None):  # no whole page on failure
        if member in container:
            self.fail(msg or f"{member!r} found in the page")

    def test_other_owner_can_do_nothing(self):
        owner = self.browser("feedowner")
        self.post(owner, action="add", url=self.server.url("/airbnb.ics"))
        feed_id = self.fresh().scalar(select(IcalFeed.id))
        other = self.browser("feedother")
        # His own cottage's form, another cottage's feed: not found, unchanged.
        status = self.post(other, hebPk=OTHER_HEB, action="remove", feedId=feed_id)
        self.assertTrue(status.startswith("200"), status)
        self.assertIn("This imported calendar no longer exists.", other.contents)
        self.assertIsNotNone(self.fresh().get(IcalFeed, feed_id))
        # The owner's cottage: refused.
        token = TOKEN_RE.search(self.page(other, OTHER_HEB)).group(1)
        other.post(
            f"{self.calendar_url}/ical-feeds",
            urlencode({"hebPk": HEB, "action": "import", "_authenticator": token}),
        )
        self.assertEqual(other.headers["status"].split()[0], "403")
        # Without the CSRF token: refused.
        owner.post(
            f"{self.calendar_url}/ical-feeds",
            urlencode({"hebPk": HEB, "action": "remove", "feedId": feed_id}),
        )
        self.assertEqual(owner.headers["status"].split()[0], "403")
        self.assertIsNotNone(self.fresh().get(IcalFeed, feed_id))
        # GET is not allowed.
        owner.open(f"{self.calendar_url}/ical-feeds?hebPk={HEB}&action=import")
        self.assertEqual(owner.headers["status"].split()[0], "405")
