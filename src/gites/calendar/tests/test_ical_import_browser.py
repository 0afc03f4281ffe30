"""Acceptance of issue 13 in headless Chromium: an owner imports his Airbnb calendar.

On ``month.html`` the owner adds an Airbnb-shaped feed (served by a local
server on 127.0.0.1, let through by ``GITES_ICAL_ALLOWED_NETWORKS``), clicks
"Importer maintenant": its nights appear booked in the widget, each saying
it was imported from that calendar, and the site -> hub messages wait in
the outbox.  The server's day is frozen on Monday 2031-05-12.
"""

import datetime
import re

from sqlalchemy import select
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import OutboxMessage
from gites.calendar.domain import history
from gites.calendar.domain.demo import MEMBERS, load_demo
from gites.calendar.testing.browser import NAVIGATION_TIMEOUT_MS, BrowserTestCase
from gites.calendar.testing.fixtures import freeze_clock, site_in_french
from gites.calendar.testing.http import airbnb_feed, serve_feeds

NOW = datetime.datetime(2031, 5, 12, 10, 0)
HEB_PK = 1  # proprio 1 ("proprio"), CGT code HAFF1234
D = datetime.date


def has_class(name):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


class IcalImportBrowserTest(BrowserTestCase):
    def setUp(self):
        super().setUp()
        freeze_clock(self, NOW)
        self.feeds = serve_feeds(self)
        self.feeds.route(
            "/calendar/ical/4242.ics",
            airbnb_feed(
                (D(2031, 6, 10), D(2031, 6, 13), "Reserved"),
                (D(2031, 6, 20), D(2031, 6, 22), "Airbnb (Not available)"),
            ),
        )
        load_demo(db.get_session(), today=NOW.date())
        portal = self.layer["portal"]
        site_in_french()
        for login, password, _pro_pk in MEMBERS:
            portal.acl_users._doAddUser(login, password, ["Member"], [])
        transaction.commit()

    def test_owner_imports_an_airbnb_calendar(self):
        from playwright.sync_api import expect

        page = self.page
        self.login("proprio", "proprio")
        self.goto(f"zone-membre/calendrier/month.html?pk={HEB_PK}", "#gites-feed-url")
        page.fill("#gites-feed-url", self.feeds.url("/calendar/ical/4242.ics"))
        page.fill("#gites-feed-new-name", "Airbnb")
        page.get_by_role("button", name="Ajouter ce calendrier").click()
        expect(page.locator(".gites-calendar-feed-name")).to_have_text(
            "Airbnb", timeout=NAVIGATION_TIMEOUT_MS
        )
        expect(page.locator(".gites-calendar-feed-success")).to_have_text("jamais")
        page.get_by_role("button", name="Importer maintenant").click()
        expect(page.locator(".gites-calendar-feed-nights")).to_contain_text(
            "Nuits bloquées par ce calendrier : 5", timeout=NAVIGATION_TIMEOUT_MS
        )
        expect(page.locator(".gites-calendar-feed-success")).to_have_text("à l'instant")
        self.assertEqual(len(self.feeds.hits("/calendar/ical/4242.ics")), 1)

        # The widget (May to July) shows the nights, checkout day free.
        self.settle()
        widget = page.locator(".gites-calendar")
        booked = ("2031-06-10", "2031-06-11", "2031-06-12")
        for date in booked:
            expect(widget.locator(f'[data-date="{date}"]')).to_have_class(has_class("is-loue"))
        expect(widget.locator('[data-date="2031-06-13"]')).not_to_have_class(has_class("is-loue"))
        for date in ("2031-06-20", "2031-06-21"):
            expect(widget.locator(f'[data-date="{date}"]')).to_have_class(has_class("is-indisp"))
        # Provenance: the day says where it came from.
        widget.locator('[data-date="2031-06-11"]').hover()
        tip = page.locator(".gites-calendar-tip")
        expect(tip).to_be_visible()
        expect(tip).to_contain_text("importé de votre calendrier Airbnb")

        with db.session_scope() as session:
            sources = history.night_sources(session, HEB_PK, D(2031, 6, 10), D(2031, 6, 21))
            outbox = [
                (m.cgt_id, m.start_date, m.end_date, m.selection_type)
                for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            ]
        self.assertEqual({row.source for row in sources.values()}, {"ical"})
        self.assertEqual(len(sources), 5)
        self.assertEqual(
            outbox[-2:],
            [
                ("HAFF1234", D(2031, 6, 10), D(2031, 6, 12), "loue"),
                ("HAFF1234", D(2031, 6, 20), D(2031, 6, 21), "indisp"),
            ],
        )
