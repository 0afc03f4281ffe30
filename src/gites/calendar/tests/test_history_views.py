"""Owners see the change log: selectedDays' origins, history.html (issue 12)."""

import datetime
import json

from plone import api
from plone.app.testing import SITE_OWNER_NAME, SITE_OWNER_PASSWORD
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement
from gites.calendar.domain import activity
from gites.calendar.domain.reservations import RangeChange, apply_owner_change
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import apply_hub_booking
from gites.calendar.testing import DatabaseTestCase, functional_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    add_cottage,
    add_proprio,
    freeze_clock,
    link_member,
    publisher_browser,
    site_in_french,
)

PASSWORD = "a-long-test-password-1"
NOW = datetime.datetime(2030, 6, 15, 10, 30)
HEB, OTHER_HEB = 101, 201
OWNER, OTHER = "owner", "other"


@on_both_databases(functional_layers())
class TestHistoryViews(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.app = self.layer["app"]
        portal = self.layer["portal"]
        self.calendar_url = portal["zone-membre"]["calendrier"].absolute_url()
        freeze_clock(self, NOW)
        site_in_french()
        session = db.get_session()
        add_proprio(session, 10)
        add_proprio(session, 20)
        session.flush()
        add_cottage(session, HEB, 10, cgt="HAFF0101", nom="Moulin")
        add_cottage(session, OTHER_HEB, 20, nom="Villa")
        for username, pk in ((OWNER, 10), (OTHER, 20)):
            api.user.create(email=f"{username}@example.org", username=username, password=PASSWORD)
            link_member(session, api.user.get(username=username).getId(), pk)
        transaction.commit()
        self.three_changes()

    def three_changes(self):
        """An owner's range, a hub message, a blocking by checkCalendarActivity."""
        with db.session_scope() as session:
            heb = session.get(Hebergement, HEB)
            change = RangeChange(HEB, datetime.date(2030, 7, 1), datetime.date(2030, 7, 3), "loue")
            apply_owner_change(session, heb, change, 10, NOW)
        booking = HubBooking(
            booking_type="unavailable",
            cgt_id="HAFF0101",
            start=datetime.date(2030, 7, 3),
            end=datetime.date(2030, 7, 5),
            notf_id=12345,
        )
        with db.session_scope() as session:
            apply_hub_booking(session, booking, NOW + datetime.timedelta(hours=1))
        with db.session_scope() as session:
            activity.block_cottages(session, 10, NOW.date(), NOW + datetime.timedelta(hours=2))

    def browser(self, username=None, password=PASSWORD):
        return publisher_browser(self.app, username, password)

    def status(self, browser):
        return int(browser.headers["status"].split()[0])

    def test_selected_days_carry_who_and_when(self):
        browser = self.browser(OWNER)
        browser.open(f"{self.calendar_url}/selectedDays?hebPk={HEB}")
        self.assertEqual(self.status(browser), 200)
        data = json.loads(browser.contents)
        self.assertEqual(data["rented"], [f"2030-07-0{d}" for d in range(1, 6)])
        owner = {"source": "owner", "actor": "10", "at": "2030-06-15T10:30", "mine": True}
        hub = {"source": "hub", "actor": "12345", "at": "2030-06-15T11:30", "mine": False}
        self.assertEqual(data["origin"], [owner, owner, hub, hub, hub])

    def test_history_page_lists_the_three_changes(self):
        browser = self.browser(OWNER)
        browser.open(f"{self.calendar_url}/history.html?pk={HEB}")
        self.assertEqual(self.status(browser), 200)
        page = browser.contents
        self.assertIn("Historique du calendrier de 101 - Moulin", page)
        rows = page.split('data-change-id="')[1:]
        self.assertEqual(
            [row.split('data-source="')[1].split('"')[0] for row in rows],
            ["activity", "hub", "owner"],
        )
        self.assertIn("Calendrier bloqué", rows[0])
        self.assertIn("par le contrôle d'activité", rows[0])
        self.assertIn("du 03/07/2030 au 05/07/2030", rows[1])
        self.assertIn("par la centrale de réservation (notification 12345)", rows[1])
        self.assertIn("15/06/2030 11:30", rows[1])
        self.assertIn("du 01/07/2030 au 03/07/2030", rows[2])
        self.assertIn("par vous", rows[2])
        # linked from the calendar, which says who blocked it and when
        browser.open(f"{self.calendar_url}/month.html?pk={HEB}")
        self.assertIn(f"history.html?pk={HEB}", browser.contents)
        self.assertIn(
            "Calendrier bloqué — par le contrôle d'activité (calendrier non mis à jour),"
            " le 15/06/2030 à 12:30",
            browser.contents,
        )

    def test_history_page_is_paged_newest_first(self):
        with db.session_scope() as session:
            for n in range(55):
                heb = session.get(Hebergement, HEB)
                day = datetime.date(2030, 8, 1) + datetime.timedelta(n)
                apply_owner_change(session, heb, RangeChange(HEB, day, day, "indisp"), 10, NOW)
        browser = self.browser(OWNER)
        browser.open(f"{self.calendar_url}/history.html?pk={HEB}")
        first = browser.contents
        self.assertEqual(first.count('data-change-id="'), 50)
        self.assertIn("Page 1 sur 2", first)
        self.assertIn("24/09/2030", first.split('data-change-id="')[1])  # the last one made
        browser.open(f"{self.calendar_url}/history.html?pk={HEB}&page=2")
        second = browser.contents
        rows = second.split('data-change-id="')[1:]
        self.assertEqual(  # 58 changes in all; the oldest last
            [row.split('data-source="')[1].split('"')[0] for row in rows],
            ["owner"] * 5 + ["activity", "hub", "owner"],
        )
        self.assertIn("du 01/07/2030 au 03/07/2030", rows[-1])
        self.assertIn("Page 2 sur 2", second)

    def test_another_owner_gets_404(self):
        browser = self.browser(OTHER)
        browser.open(f"{self.calendar_url}/history.html?pk={HEB}")
        self.assertEqual(self.status(browser), 404)
        self.assertNotIn("notification 12345", browser.contents)
        browser.open(f"{self.calendar_url}/history.html?pk=abc")
        self.assertEqual(self.status(browser), 404)

    def test_anonymous_is_asked_to_log_in(self):
        browser = self.browser()
        browser.open(f"{self.calendar_url}/history.html?pk={HEB}")
        self.assertNotIn("notification 12345", browser.contents)
        self.assertIn(self.status(browser), (200, 302, 401))
        self.assertIn("__ac_name", browser.contents)

    def test_a_manager_sees_any_cottage(self):
        browser = self.browser(SITE_OWNER_NAME, SITE_OWNER_PASSWORD)
        browser.open(f"{self.calendar_url}/history.html?pk={HEB}")
        self.assertEqual(self.status(browser), 200)
        self.assertIn("par la centrale de réservation (notification 12345)", browser.contents)
        # not "par vous": the manager is not the proprio
        self.assertIn("par le propriétaire n° 10", browser.contents)
