"""Owners are who the site says they are, with plone.restapi installed.

Issue 15: the member → proprio link used to be the member property ``pk``,
which a member could set himself (``PATCH @users/<self>``).  Here every
write path a member has is tried over HTTP, through the Zope publisher,
and the owner views are then run as the real owner and as that member.
On SQLite and PostgreSQL.
"""

import base64
import datetime
import json
import re

from plone import api
from plone.app.testing import SITE_OWNER_NAME, SITE_OWNER_PASSWORD, login, logout
from plone.protect.authenticator import createToken
from plone.testing.zope import Browser
from sqlalchemy import func, select
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, IcalToken, OwnerLink, Reservation
from gites.calendar.domain import ical_export
from gites.calendar.domain.owners import linked_pro_pk
from gites.calendar.testing import DatabaseTestCase, restapi_functional_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio, link_member

PASSWORD = "a-long-test-password-1"
OWNER, MALLORY, SITE_ADMIN = "owner", "mallory", "siteadmin"
OWNER_PK = 10
HEB = 101
HEB_NAME = "Gîte du Moulin"

# Every spelling of "make me proprio 10" a member could send to @users.
PATCHES = [
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
    {"member_id": OWNER},
    {"owner_link": {"pro_pk": 10}},
]


def basic(username, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def link_of(member_id):
    with db.session_scope() as session:
        return linked_pro_pk(session, member_id)


def count(model, *where):
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


class IdentityTestCase(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.url = self.portal.absolute_url()
        self.calendar_url = f"{self.url}/zone-membre/calendrier"
        for username, roles in (
            (OWNER, None),
            (MALLORY, None),
            (SITE_ADMIN, ["Site Administrator"]),
        ):
            api.user.create(
                email=f"{username}@example.org",
                username=username,
                password=PASSWORD,
                roles=roles or ("Member",),
            )
        session = db.get_session()
        add_proprio(session, OWNER_PK, nom="Dupont", prenom="Marie")
        session.flush()
        add_cottage(session, HEB, OWNER_PK, cgt="HAFF0101", nom=HEB_NAME)
        session.flush()
        link_member(session, api.user.get(username=OWNER).getId(), OWNER_PK)
        self.ical_token = ical_export.get_or_create_token(session, HEB)
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


@on_both_databases(restapi_functional_layers())
class TestMemberCannotChangeHisIdentity(IdentityTestCase):
    def assert_mallory_is_nobody(self, what):
        self.assertIsNone(link_of(MALLORY), what)
        self.assertEqual(link_of(OWNER), OWNER_PK, what)
        response = self.request("get", f"{self.calendar_url}/selectedDays?hebPk={HEB}", MALLORY)
        self.assertEqual(response.status_int, 403, what)

    def test_restapi_is_installed(self):
        # The premise of the other tests: @users answers JSON for a member.
        response = self.request(
            "get", f"{self.url}/@users/{MALLORY}", MALLORY, headers={"Accept": "application/json"}
        )
        self.assertEqual(response.status_int, 200)
        self.assertEqual(response.json["id"], MALLORY)

    def test_patch_users_with_every_spelling_of_pk(self):
        for body in PATCHES:
            response = self.patch_users(MALLORY, body)
            self.assertLess(response.status_int, 500, f"{body!r}: {response.body[:300]!r}")
            self.assert_mallory_is_nobody(repr(body))

    def test_patch_works_for_other_properties(self):
        # The PATCHes above were answered, not ignored: the member may write
        # his own data, only not his identity.
        response = self.patch_users(MALLORY, {"fullname": "Mallory M.", "pk": "10"})
        self.assertEqual(response.status_int, 204)
        self.assertEqual(api.user.get(username=MALLORY).getProperty("fullname"), "Mallory M.")
        self.assert_mallory_is_nobody("fullname + pk")

    def test_even_a_pk_property_in_the_schema_is_not_trusted(self):
        # Someone re-adds the legacy property, with a default, and the member
        # then writes it successfully: still nobody reads it.
        api.portal.get_tool("portal_memberdata").manage_addProperty("pk", "10", "string")
        transaction.commit()
        response = self.patch_users(MALLORY, {"pk": "10"})
        self.assertEqual(response.status_int, 204)
        self.assertEqual(api.user.get(username=MALLORY).getProperty("pk"), "10")
        self.assert_mallory_is_nobody("pk property present and set")

    def test_personal_information_form(self):
        self.assertLess(self.post_personal_information(MALLORY).status_int, 400)
        self.assertEqual(api.user.get(username=MALLORY).getProperty("fullname"), "Mallory")
        self.assert_mallory_is_nobody("@@personal-information")

    def test_portal_memberdata_through_the_zmi(self):
        for method, response in self.post_memberdata_zmi(MALLORY):
            # Refused: Unauthorized (401) or Plone's login redirect.
            self.assertIn(response.status_int, (302, 401, 403), method)
            if response.status_int == 302:
                self.assertIn("require_login", response.headers["Location"], method)
        self.assertFalse(api.portal.get_tool("portal_memberdata").hasProperty("pk"))
        self.assert_mallory_is_nobody("portal_memberdata")

    def test_member_cannot_use_the_control_panel(self):
        panel = f"{self.url}/@@gites-calendar-owner-links"
        self.assertIn(self.request("get", panel, MALLORY).status_int, (302, 401, 403))
        response = self.request(
            "post",
            panel,
            MALLORY,
            params={"member": MALLORY, "pro_pk": "10", "_authenticator": self.token(MALLORY)},
        )
        self.assertIn(response.status_int, (302, 401, 403))
        if response.status_int == 302:
            self.assertIn("require_login", response.headers["Location"])
        self.assert_mallory_is_nobody("control panel")


@on_both_databases(restapi_functional_layers())
class TestManagersSetTheLink(IdentityTestCase):
    def set_link(self, username, password, member, pro_pk):
        login(self.app if username == SITE_OWNER_NAME else self.portal, username)
        try:
            token = createToken()
        finally:
            logout()
        return self.request(
            "post",
            f"{self.url}/@@gites-calendar-owner-links",
            username,
            password,
            params={"member": member, "pro_pk": str(pro_pk), "set": "1", "_authenticator": token},
        )

    def test_manager_links_a_member(self):
        response = self.set_link(SITE_OWNER_NAME, SITE_OWNER_PASSWORD, MALLORY, OWNER_PK)
        self.assertEqual(response.status_int, 302)
        self.assertEqual(link_of(MALLORY), OWNER_PK)
        self.assertEqual(
            self.request(
                "get", f"{self.calendar_url}/selectedDays?hebPk={HEB}", MALLORY
            ).status_int,
            200,
        )
        page = self.request(
            "get", f"{self.url}/@@gites-calendar-owner-links", SITE_OWNER_NAME, SITE_OWNER_PASSWORD
        )
        self.assertEqual(page.status_int, 200)
        self.assertIn(MALLORY, page.text)
        self.assertIn("Marie Dupont", page.text)
        self.assertIn("Calendar owners", page.text)  # the test site speaks English

    def test_site_setup_lists_the_control_panel(self):
        overview = self.request("get", f"{self.url}/@@overview-controlpanel", SITE_ADMIN)
        self.assertEqual(overview.status_int, 200)
        self.assertIn("@@gites-calendar-owner-links", overview.text)

    def test_site_administrator_links_and_unlinks(self):
        self.assertEqual(self.set_link(SITE_ADMIN, PASSWORD, MALLORY, OWNER_PK).status_int, 302)
        self.assertEqual(link_of(MALLORY), OWNER_PK)
        with db.session_scope() as session:
            self.assertEqual(session.get(OwnerLink, MALLORY).set_by, SITE_ADMIN)
        response = self.request(
            "post",
            f"{self.url}/@@gites-calendar-owner-links",
            SITE_ADMIN,
            params={"member_id": MALLORY, "remove": "1", "_authenticator": self.token(SITE_ADMIN)},
        )
        self.assertEqual(response.status_int, 302)
        self.assertIsNone(link_of(MALLORY))

    def test_unknown_member_or_proprio_refused(self):
        self.assertEqual(self.set_link(SITE_ADMIN, PASSWORD, "nobody", OWNER_PK).status_int, 400)
        self.assertEqual(self.set_link(SITE_ADMIN, PASSWORD, MALLORY, 999).status_int, 400)
        self.assertIsNone(link_of(MALLORY))

    def test_post_without_csrf_token_refused(self):
        response = self.request(
            "post",
            f"{self.url}/@@gites-calendar-owner-links",
            SITE_ADMIN,
            params={"member": MALLORY, "pro_pk": str(OWNER_PK), "set": "1"},
        )
        self.assertEqual(response.status_int, 403)
        self.assertIsNone(link_of(MALLORY))

    def test_deleted_member_loses_the_link(self):
        api.user.delete(username=OWNER)
        transaction.commit()
        self.assertIsNone(link_of(OWNER))


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
