"""The owner views after a member tried every write path to become an owner.

Issue 15 (see test_owner_identity): each owner view is run as the real
owner (works) and as that member (refused, nothing written), over HTTP
through the Zope publisher, with plone.restapi installed.  On SQLite and
PostgreSQL.
"""

import datetime

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, IcalToken, Reservation
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.owner_identity import IDENTITY_HEB as HEB
from gites.calendar.testing.owner_identity import IDENTITY_HEB_NAME as HEB_NAME
from gites.calendar.testing.owner_identity import IDENTITY_MALLORY as MALLORY
from gites.calendar.testing.owner_identity import IDENTITY_OWNER as OWNER
from gites.calendar.testing.owner_identity import IDENTITY_PATCHES as PATCHES
from gites.calendar.testing.owner_identity import IdentityTestCase, link_of
from gites.calendar.testing.owner_identity import count_rows as count
from gites.calendar.testing.plone import restapi_functional_layers


@on_both_databases(restapi_functional_layers())
class TestOwnerViewsAfterTheAttempts(IdentityTestCase):
    """Each owner view as the owner (works) and as a member who tried every
    write path above to become proprio 10 (refused, nothing written)."""

    def setUp(self):
        super().setUp()
        # Mallory tries every write path first.
        for body in PATCHES:
            self.patch_users(MALLORY, body)
        self.post_personal_information(MALLORY)
        self.post_memberdata_zmi(MALLORY)
        self.assertIsNone(link_of(MALLORY))
        self.start = datetime.date.today() + datetime.timedelta(days=10)

    def get(self, username, view, **params):
        return self.request("get", f"{self.calendar_url}/{view}", username, params=params)

    def post(self, username, view, **params):
        params["_authenticator"] = self.token(username)
        return self.request("post", f"{self.calendar_url}/{view}", username, params=params)

    def test_month(self):
        owner = self.get(OWNER, "month.html", pk=str(HEB))
        self.assertEqual(owner.status_int, 200)
        self.assertIn(HEB_NAME, owner.text)
        self.assertIn(self.ical_token, owner.text)
        mallory = self.get(MALLORY, "month.html", pk=str(HEB))
        self.assertEqual(mallory.status_int, 404)
        self.assertNotIn(HEB_NAME, mallory.text)
        self.assertNotIn(self.ical_token, mallory.text)

    def test_multical(self):
        owner = self.get(OWNER, "multical.html")
        self.assertEqual(owner.status_int, 200)
        self.assertIn(HEB_NAME, owner.text)
        mallory = self.get(MALLORY, "multical.html")
        self.assertEqual(mallory.status_int, 200)
        self.assertNotIn(HEB_NAME, mallory.text)

    def test_selected_days(self):
        self.assertEqual(self.get(OWNER, "selectedDays", hebPk=str(HEB)).status_int, 200)
        self.assertEqual(self.get(MALLORY, "selectedDays", hebPk=str(HEB)).status_int, 403)

    def test_calendar_info(self):
        owner = self.get(OWNER, "calendarInfo", hebPk=str(HEB))
        self.assertEqual(owner.status_int, 200)
        self.assertEqual(owner.json["hebPk"], HEB)
        self.assertEqual(self.get(MALLORY, "calendarInfo", hebPk=str(HEB)).status_int, 403)

    def add_range(self, username):
        return self.post(
            username,
            "addRange",
            hebPk=str(HEB),
            type="loue",
            start=self.start.isoformat(),
            end=(self.start + datetime.timedelta(days=9)).isoformat(),
        )

    def test_add_range(self):
        self.assertEqual(self.add_range(MALLORY).status_int, 403)
        self.assertEqual(count(Reservation, Reservation.heb_fk == HEB), 0)
        self.assertEqual(self.add_range(OWNER).status_int, 200)
        self.assertEqual(count(Reservation, Reservation.heb_fk == HEB), 10)

    def state(self):
        with db.session_scope() as session:
            return session.get(Hebergement, HEB).heb_calendrier_proprio

    def configure(self, username):
        return self.post(
            username,
            "configuration",
            **{"form.widgets.calendar_config": "non-actif", "form.buttons.save": "Enregistrer"},
        )

    def test_configuration(self):
        self.assertLess(self.configure(MALLORY).status_int, 400)
        self.assertEqual(self.state(), "actif")
        self.assertLess(self.configure(OWNER).status_int, 400)
        self.assertEqual(self.state(), "non actif")

    def token_row(self):
        with db.session_scope() as session:
            return session.get(IcalToken, HEB).token

    def test_ical_renew(self):
        self.assertEqual(self.post(MALLORY, "ical-renew", hebPk=str(HEB)).status_int, 403)
        self.assertEqual(self.token_row(), self.ical_token)
        self.assertEqual(self.post(OWNER, "ical-renew", hebPk=str(HEB)).status_int, 302)
        self.assertNotEqual(self.token_row(), self.ical_token)
