"""The pieces every view is built on: the request parameters
(gites.calendar.browser.params) and the owners' JSON view base
(gites.calendar.browser.base.OwnerJsonView)."""

import datetime
import json
import unittest

from plone import api
from plone.app.testing import login, logout
from plone.protect.authenticator import createToken
import transaction
from zExceptions import Forbidden
from zope.i18n import translate

from gites.calendar.browser import base as owner
from gites.calendar.browser.params import (
    MAX_PK,
    BadParameter,
    add_months,
    int_param,
    lenient_int_param,
    month_index,
    month_param,
    month_start,
    parse_month,
    parse_pk,
    whole_number,
)
from gites.calendar.db import session as db
from gites.calendar.testing import GITES_CALENDAR_INTEGRATION_TESTING, DatabaseTestCase
from gites.calendar.testing.fixtures import add_cottage, add_proprio, link_member, site_in_french

date = datetime.date


class TestParsePk(unittest.TestCase):
    def test_keys(self):
        for value, expected in (
            ("1", 1),
            (" 42 ", 42),
            ("12\n", 12),
            ("0000000007", 7),  # ten digits
            (str(MAX_PK), MAX_PK),
            (7, 7),  # hebPk:int=7
        ):
            with self.subTest(value=value):
                self.assertEqual(parse_pk(value), expected)

    def test_refused(self):
        for value in (
            None,
            "",
            "   ",
            "0",
            "-1",
            "+1",
            "1.0",
            "1e3",
            "0x10",
            "1 2",
            "١٢",  # Arabic-Indic digits: str.isdigit() says yes
            "²",
            "１２",  # full-width digits
            str(MAX_PK + 1),  # over PostgreSQL's INTEGER
            "00000000001",  # eleven digits
            "9" * 400,
            ["1", "2"],  # ?pk=1&pk=2
            ("1",),
            -3,
            0,
        ):
            with self.subTest(value=value):
                self.assertIsNone(parse_pk(value))

    def test_whole_number(self):
        self.assertEqual(whole_number(" 0 "), 0)
        self.assertEqual(whole_number("9999999999"), 9999999999)
        self.assertIsNone(whole_number("99999999999"))
        self.assertIsNone(whole_number("-0"))


class TestIntParam(unittest.TestCase):
    def message(self, form, *args, **kwargs):
        with self.assertRaises(BadParameter) as raised:
            int_param(form, "n", *args, **kwargs)
        return str(raised.exception)

    def test_value(self):
        self.assertEqual(int_param({"n": " 12 "}, "n", 1, 12), 12)
        self.assertEqual(int_param({"n": "1"}, "n", 1, 12), 1)

    def test_absent_or_blank(self):
        self.assertEqual(int_param({}, "n", 1, 12, default=3), 3)
        self.assertEqual(int_param({"n": "  "}, "n", 1, 12, default=3), 3)
        self.assertEqual(self.message({}, 1, 12), "n is required")
        self.assertEqual(self.message({"n": ""}, 1, 12), "n is required")

    def test_repeated(self):
        self.assertEqual(self.message({"n": ["1", "2"]}, 1, 12), "n must be given once")
        self.assertEqual(self.message({"n": 5}, 1, 12, default=3), "n must be given once")

    def test_not_a_whole_number(self):
        self.assertEqual(self.message({"n": "-1"}, 1, 12), "n must be a whole number, not '-1'")
        self.assertEqual(self.message({"n": "+1"}, 1, 12), "n must be a whole number, not '+1'")
        self.assertEqual(self.message({"n": "١"}, 1, 12), "n must be a whole number, not '١'")
        self.assertEqual(
            self.message({"n": " " + "x" * 30}, 1, 12),
            f"n must be a whole number, not {'x' * 20!r}",
        )

    def test_overflow(self):
        self.assertEqual(
            self.message({"n": "9" * 11}, 1, MAX_PK), f"n must be a whole number, not {'9' * 11!r}"
        )
        self.assertEqual(
            self.message({"n": str(MAX_PK + 1)}, 1, MAX_PK),
            f"n must be between 1 and {MAX_PK}, not {MAX_PK + 1}",
        )

    def test_range(self):
        self.assertEqual(self.message({"n": "13"}, 1, 12), "n must be between 1 and 12, not 13")
        self.assertEqual(self.message({"n": "0"}, 1, 12), "n must be between 1 and 12, not 0")

    def test_lenient(self):
        for form in ({}, {"n": ""}, {"n": ["1"]}, {"n": "x"}, {"n": "0"}, {"n": "13"}):
            with self.subTest(form=form):
                self.assertEqual(lenient_int_param(form, "n", 1, 12, 3), 3)
                self.assertIsNone(lenient_int_param(form, "n", 1, 12))
        self.assertEqual(lenient_int_param({"n": "12"}, "n", 1, 12, 3), 12)


class TestMonths(unittest.TestCase):
    def test_add_months(self):
        for day, months, expected in (
            (date(2030, 6, 15), 0, date(2030, 6, 1)),
            (date(2030, 12, 31), 1, date(2031, 1, 1)),
            (date(2030, 1, 31), -1, date(2029, 12, 1)),
            (date(2030, 3, 1), 12, date(2031, 3, 1)),
            (date(2030, 3, 1), -25, date(2028, 2, 1)),
            (date(2030, 11, 30), 38, date(2034, 1, 1)),
        ):
            with self.subTest(day=day, months=months):
                self.assertEqual(add_months(day, months), expected)

    def test_month_index(self):
        self.assertEqual(month_index(date(2030, 1, 20)) - month_index(date(2029, 12, 1)), 1)
        for day in (date(1, 1, 1), date(2030, 12, 1), date(9999, 12, 1)):
            self.assertEqual(month_start(month_index(day)), day)

    def test_parse_month(self):
        self.assertEqual(parse_month("2030-07"), date(2030, 7, 1))
        self.assertEqual(parse_month(" 2030-12\n"), date(2030, 12, 1))
        self.assertEqual(parse_month("0001-01"), date(1, 1, 1))
        for value in (
            None,
            "",
            "2030-13",
            "2030-00",
            "0000-01",
            "2030-7",
            "30-07",
            "2030/07",
            "2030-07-01",
            "-2030-07",
            ["2030-07"],
            203007,
        ):
            with self.subTest(value=value):
                self.assertIsNone(parse_month(value))

    def test_parse_month_other_digits(self):
        # As the two month parsers it replaces (re's \d): any decimal digits.
        self.assertEqual(parse_month("٢٠٣٠-٠٧"), date(2030, 7, 1))

    def test_month_param(self):
        today = date(2030, 6, 15)
        earliest, latest = date(2027, 6, 15), date(2033, 6, 1)
        for value, expected in (
            ("2030-07", date(2030, 7, 1)),
            ("2027-06", date(2027, 6, 1)),  # the earliest month, whatever its day
            ("2033-06", date(2033, 6, 1)),
            ("2027-05", date(2030, 6, 1)),
            ("2033-07", date(2030, 6, 1)),
            ("junk", date(2030, 6, 1)),
            (["2030-07", "2030-08"], date(2030, 6, 1)),
        ):
            with self.subTest(value=value):
                self.assertEqual(
                    month_param({"month": value}, "month", today, earliest, latest), expected
                )
        self.assertEqual(month_param({}, "month", today, earliest, latest), date(2030, 6, 1))


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
