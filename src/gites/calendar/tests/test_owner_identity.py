"""Owners are who the site says they are, with plone.restapi installed.

Issue 15: the member → proprio link used to be the member property ``pk``,
which a member could set himself (``PATCH @users/<self>``).  Here every
write path a member has is tried over HTTP, through the Zope publisher,
and the owner views are then run as the real owner and as that member
(test_owner_identity_views).
On SQLite and PostgreSQL.
"""

from plone import api
from plone.app.testing import SITE_OWNER_NAME, SITE_OWNER_PASSWORD, login, logout
from plone.protect.authenticator import createToken
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import OwnerLink
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import PASSWORD
from gites.calendar.testing.owner_identity import IDENTITY_HEB as HEB
from gites.calendar.testing.owner_identity import IDENTITY_MALLORY as MALLORY
from gites.calendar.testing.owner_identity import IDENTITY_OWNER as OWNER
from gites.calendar.testing.owner_identity import IDENTITY_OWNER_PK as OWNER_PK
from gites.calendar.testing.owner_identity import IDENTITY_PATCHES as PATCHES
from gites.calendar.testing.owner_identity import IDENTITY_SITE_ADMIN as SITE_ADMIN
from gites.calendar.testing.owner_identity import IdentityTestCase, link_of
from gites.calendar.testing.plone import restapi_functional_layers


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
