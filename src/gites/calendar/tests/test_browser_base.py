"""The owners' view bases (gites.calendar.browser.base): OwnerJsonView and
OwnerFormView, their ownership, method and token checks."""

import json

from plone import api
from plone.app.testing import login, logout
from plone.protect.authenticator import createToken
import transaction
from zExceptions import Forbidden
from zope.i18n import translate

from gites.calendar.browser import base as owner
from gites.calendar.db import session as db
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.fixtures import add_cottage, add_proprio, link_member, site_in_french
from gites.calendar.testing.plone import GITES_CALENDAR_INTEGRATION_TESTING

# -- OwnerJsonView ------------------------------------------------------------

OWNER, OTHER = "base-owner", "base-other"
OWNER_PK, OTHER_PK = 10, 20
MINE, THEIRS = 101, 201


class Echo(owner.OwnerJsonView):
    """Answers what it was given (not registered: views are made by hand)."""

    def reply(self):
        self.replied = True
        return {"hebPk": self.heb.heb_pk, "proPk": self.pro_pk, "nom": self.heb.heb_nom}


class Conflict(owner.OwnerJsonView):
    def reply(self):
        raise owner.Refusal(409, "déjà pris", headers=(("Retry-After", "5"),))


class Save(owner.OwnerJsonView):
    method = "POST"
    method_refused = "POST, s'il vous plaît"
    writes = True
    login_required = "Connectez-vous pour écrire"
    csrf_refused = "Jeton périmé"

    def reply(self):
        self.replied = True
        return {"ok": True}


class OwnerViewTestCase(DatabaseTestCase):
    """Plone on SQLite; two owners, a cottage each; the first logged in."""

    layer = GITES_CALENDAR_INTEGRATION_TESTING

    def setUp(self):
        super().setUp()
        self.portal = self.layer["portal"]
        self.request = self.layer["request"]
        site_in_french()
        session = db.get_session()
        add_proprio(session, OWNER_PK)
        add_proprio(session, OTHER_PK)
        session.flush()
        add_cottage(session, MINE, OWNER_PK, nom="Gîte à moi")
        add_cottage(session, THEIRS, OTHER_PK)
        session.flush()
        for username, pk in ((OWNER, OWNER_PK), (OTHER, OTHER_PK)):
            user = api.user.create(
                email=f"{username}@example.org",
                username=username,
                password="a-long-test-password-1",
            )
            link_member(session, user.getId(), pk)
        login(self.portal, OWNER)
        self.addCleanup(transaction.abort)  # a doomed transaction is the layer's to end

    def header(self, name):
        return self.request.response.getHeader(name)


class TestOwnerJsonView(OwnerViewTestCase):
    def call(self, view_class, method="GET", **form):
        self.request.form.clear()
        self.request.form.update(form)
        self.request["REQUEST_METHOD"] = method
        self.request.response.setStatus(200)
        self.view = view_class(self.portal, self.request)
        body = self.view()
        return self.request.response.getStatus(), json.loads(body)

    def error(self, message):
        return {"error": translate(message, context=self.request)}

    def test_reply_rendered_as_json(self):
        self.request.response.setHeader("Content-Type", "text/html")
        status, data = self.call(Echo, hebPk=str(MINE))
        self.assertEqual(status, 200)
        self.assertEqual(data, {"hebPk": MINE, "proPk": OWNER_PK, "nom": "Gîte à moi"})
        self.assertIn('"Gîte à moi"', self.view.render())  # UTF-8, not \u escapes
        self.assertEqual(self.header("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(self.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(self.header("Cache-Control"), "no-store, private")
        self.assertEqual(self.header("Pragma"), "no-cache")
        self.assertEqual(self.header("Expires"), "0")

    def test_refusal_of_reply_mapped_to_its_answer(self):
        status, data = self.call(Conflict, hebPk=str(MINE))
        self.assertEqual((status, data), (409, {"error": "déjà pris"}))
        self.assertEqual(self.header("Retry-After"), "5")
        self.assertEqual(self.header("Cache-Control"), "no-store, private")
        self.assertFalse(transaction.get().isDoomed())  # the view does not write

    def test_ownership_checked_before_reply(self):
        for form, expected in (
            ({}, (400, owner.BAD_PK)),
            ({"hebPk": "x"}, (400, owner.BAD_PK)),
            ({"hebPk": [str(MINE), str(MINE)]}, (400, owner.BAD_PK)),
            ({"hebPk": str(THEIRS)}, (403, owner.NOT_YOURS)),
            ({"hebPk": "999"}, (403, owner.NOT_YOURS)),
        ):
            with self.subTest(form=form):
                status, data = self.call(Echo, **form)
                self.assertEqual((status, data), (expected[0], self.error(expected[1])))
                self.assertFalse(hasattr(self.view, "replied"))
        logout()
        self.assertEqual(self.call(Echo, hebPk=str(MINE)), (403, self.error(owner.LOGIN_REQUIRED)))

    def test_any_method_by_default(self):
        self.assertEqual(self.call(Echo, method="DELETE", hebPk=str(MINE))[0], 200)

    def test_method(self):
        token = createToken()
        status, data = self.call(Save, hebPk=str(MINE), _authenticator=token)
        self.assertEqual((status, data), (405, {"error": "POST, s'il vous plaît"}))
        self.assertEqual(self.header("Allow"), "POST")
        self.assertEqual(self.header("Content-Type"), "application/json; charset=utf-8")
        self.assertTrue(transaction.get().isDoomed())

    def test_writing_view_checks_the_token(self):
        self.assertEqual(
            self.call(Save, "POST", hebPk=str(MINE), _authenticator="forged"),
            (403, {"error": "Jeton périmé"}),
        )
        self.assertFalse(hasattr(self.view, "replied"))
        self.assertTrue(transaction.get().isDoomed())

    def test_writing_view_login_message(self):
        logout()
        self.assertEqual(
            self.call(Save, "POST", hebPk=str(MINE)), (403, {"error": "Connectez-vous pour écrire"})
        )

    def test_writing_view_replies(self):
        token = createToken()
        self.assertEqual(
            self.call(Save, "post", hebPk=str(MINE), _authenticator=token), (200, {"ok": True})
        )
        self.assertFalse(transaction.get().isDoomed())


class Rename(owner.OwnerFormView):
    def posted(self, session, heb, form):
        self.changed = heb.heb_pk
        return f"https://example.org/month.html?pk={heb.heb_pk}"


class TestOwnerFormView(OwnerViewTestCase):
    def post(self, **form):
        self.request.form.clear()
        self.request.form.update(form)
        self.request["REQUEST_METHOD"] = "POST"
        self.view = Rename(self.portal, self.request)
        return self.view()

    def test_posted_and_redirected(self):
        self.assertEqual(self.post(hebPk=str(MINE), _authenticator=createToken()), "")
        self.assertEqual(self.view.changed, MINE)
        self.assertEqual(self.request.response.getStatus(), 302)
        self.assertEqual(self.header("Location"), f"https://example.org/month.html?pk={MINE}")
        self.assertEqual(self.header("Cache-Control"), "no-store, private")

    def test_not_posted(self):
        self.request.form.update(hebPk=str(MINE))
        self.request["REQUEST_METHOD"] = "GET"
        view = Rename(self.portal, self.request)
        self.assertEqual(view(), "Method Not Allowed: use the form of the calendar page\n")
        self.assertEqual(self.request.response.getStatus(), 405)
        self.assertEqual(self.header("Allow"), "POST")
        self.assertFalse(hasattr(view, "changed"))

    def test_not_the_owners_cottage(self):
        for pk in (str(THEIRS), "999", "x", None):
            with self.subTest(pk=pk):
                with self.assertRaises(Forbidden):
                    self.post(hebPk=pk, _authenticator=createToken())
                self.assertFalse(hasattr(self.view, "changed"))

    def test_bad_token(self):
        with self.assertRaises(Forbidden):
            self.post(hebPk=str(MINE), _authenticator="forged")
        self.assertFalse(hasattr(self.view, "changed"))
