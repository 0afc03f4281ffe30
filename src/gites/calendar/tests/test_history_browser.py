"""Owners see who set each day, in headless Chromium (issue 12).

On ``month.html`` a busy day shows, on hover and on keyboard focus, who set
it and when, in the site's language, and gives the same words as its
accessible description; the history page lists the changes and is closed
to another owner.  The server's day is frozen on Monday 2031-05-12.
"""

import datetime

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement
from gites.calendar.domain import activity
from gites.calendar.domain.reservations import RangeChange, apply_owner_change
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import apply_hub_booking
from gites.calendar.testing.browser import NAVIGATION_TIMEOUT_MS, BrowserTestCase
from gites.calendar.testing.fixtures import demo_site

NOW = datetime.datetime(2031, 5, 12, 10, 0)
TODAY = NOW.date()
HEB_PK = 1  # proprio 1 ("proprio"), CGT code HAFF1234
CALENDAR = "zone-membre/calendrier"
D = datetime.date


class HistoryBrowserCase(BrowserTestCase):
    language = "fr"

    def setUp(self):
        super().setUp()
        demo_site(self, NOW, self.language, member_pks=False)
        # An owner's range (by proprio 1), then a hub notification.
        with db.session_scope() as session:
            heb = session.get(Hebergement, HEB_PK)
            change = RangeChange(HEB_PK, D(2031, 5, 20), D(2031, 5, 21), "loue")
            apply_owner_change(session, heb, change, 1, NOW)
        booking = HubBooking(
            booking_type="unavailable",
            cgt_id="HAFF1234",
            start=D(2031, 5, 27),
            end=D(2031, 5, 28),
            notf_id=12345,
        )
        with db.session_scope() as session:
            apply_hub_booking(session, booking, NOW + datetime.timedelta(minutes=65))

    def day(self, date):
        return self.page.locator(f'.gites-calendar [data-date="{date}"]')

    def open_month(self):
        self.goto(f"{CALENDAR}/month.html?pk={HEB_PK}", ".gites-calendar [data-date]")
        self.settle()

    def check_origins(self, owner_text, hub_text):
        from playwright.sync_api import expect

        tip = self.page.locator(".gites-calendar-tip")
        expect(tip).to_be_hidden()
        self.day("2031-05-20").hover()
        expect(tip).to_be_visible()
        expect(tip).to_have_text(owner_text)
        expect(self.day("2031-05-20")).to_have_accessible_description(owner_text)
        # The keyboard: focus a day, arrow to the hub's day.
        self.day("2031-05-26").focus()
        expect(tip).to_be_hidden()  # 26 is free: nothing to tell
        self.page.keyboard.press("ArrowRight")
        expect(self.day("2031-05-27")).to_be_focused()
        expect(tip).to_be_visible()
        expect(tip).to_have_text(hub_text)
        expect(self.day("2031-05-27")).to_have_accessible_description(hub_text)
        # A free day has no description.
        expect(self.day("2031-05-26")).to_have_accessible_description("")


class TestDayOriginFrench(HistoryBrowserCase):
    def test_tip_and_description_in_french(self):
        self.login("proprio", "proprio")
        self.open_month()
        self.check_origins(
            "Loué — par vous, le 12/05/2031 à 10:00",
            "Indisponible — par la centrale de réservation (notification 12345),"
            " le 12/05/2031 à 11:05",
        )

    def test_a_new_range_gets_its_origin_after_the_save(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        self.open_month()
        widget = self.page.locator(".gites-calendar")
        widget.get_by_role("button", name="Indisponible", exact=True).click()
        with self.page.expect_response(
            lambda r: "/addRange" in r.url, timeout=NAVIGATION_TIMEOUT_MS
        ) as info:
            self.day("2031-06-03").click()
            self.day("2031-06-03").click()
        self.assertEqual(info.value.status, 200)
        self.settle()
        expect(self.day("2031-06-03")).to_have_accessible_description(
            "Indisponible — par vous, le 12/05/2031 à 10:00"
        )

    def test_history_page_from_the_calendar(self):
        from playwright.sync_api import expect

        with db.session_scope() as session:
            activity.block_cottages(session, 1, TODAY, NOW + datetime.timedelta(minutes=90))
        self.login("proprio", "proprio")
        self.open_month()
        expect(self.page.locator(".gites-calendar-state-note")).to_have_text(
            "Calendrier bloqué — par le contrôle d'activité (calendrier non mis à jour),"
            " le 12/05/2031 à 11:30"
        )
        # the nights keep who set them
        self.day("2031-05-27").hover()
        expect(self.page.locator(".gites-calendar-tip")).to_contain_text("notification 12345")
        self.page.get_by_role("link", name="Historique des changements").click()
        table = self.wait_ready("table.gites-calendar-history")
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(3)
        self.assertEqual(
            [rows.nth(n).get_attribute("data-source") for n in range(3)],
            ["activity", "hub", "owner"],
        )
        expect(rows.nth(0)).to_contain_text("Calendrier bloqué")
        expect(rows.nth(1)).to_contain_text("du 27/05/2031 au 28/05/2031")
        expect(rows.nth(1)).to_contain_text("notification 12345")
        expect(rows.nth(2)).to_contain_text("par vous")
        # The portlet links to it as well.
        expect(
            self.page.locator(f'.portletCalendarMenu a[href$="history.html?pk={HEB_PK}"]')
        ).to_have_count(1)

    def test_another_owner_gets_404(self):
        from playwright.sync_api import expect

        self.login("proprio2", "proprio2")
        response = self.page.goto(
            self.url(f"{CALENDAR}/history.html?pk={HEB_PK}"), wait_until="commit"
        )
        self.assertEqual(response.status, 404)
        expect(self.page.locator(".gites-calendar-unavailable")).to_be_visible()
        expect(self.page.locator("table.gites-calendar-history")).to_have_count(0)


class TestDayOriginDutch(HistoryBrowserCase):
    language = "nl"
    locale = "nl-BE"

    def test_tip_and_description_in_dutch(self):
        self.login("proprio", "proprio")
        self.open_month()
        self.check_origins(
            "Verhuurd — door u, op 12/05/2031 om 10:00",
            "Niet beschikbaar — door de reserveringscentrale (melding 12345),"
            " op 12/05/2031 om 11:05",
        )

    def test_history_page_in_dutch(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        self.goto(f"{CALENDAR}/history.html?pk={HEB_PK}", "table.gites-calendar-history")
        rows = self.page.locator("table.gites-calendar-history tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("door de reserveringscentrale (melding 12345)")
        expect(rows.nth(1)).to_contain_text("door u")
        expect(rows.nth(1)).to_contain_text("Verhuurd")
