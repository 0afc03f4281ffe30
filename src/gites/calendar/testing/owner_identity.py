"""Owners' identity: members who try to become another owner, over
plone.restapi and Plone's forms (test_owner_identity,
test_owner_identity_views)."""

import base64
import json
import re

from plone import api
from plone.app.testing import login, logout
from plone.protect.authenticator import createToken
from plone.testing.zope import Browser
from sqlalchemy import func, select
import transaction

from gites.calendar.db import session as db
from gites.calendar.domain import ical_export
from gites.calendar.domain.owners import linked_pro_pk
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.fixtures import PASSWORD, add_cottage, add_proprio, link_member

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
