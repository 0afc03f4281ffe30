"""``addRange`` through the Zope publisher (docs/owner-pages.rst), on SQLite and PostgreSQL.

Every refused request must leave the database as it was: no reservation
row, no outbox row, the modification date unchanged.
"""

import datetime
import json
from urllib.parse import urlencode

from plone import api
from plone.testing.zope import Browser
import transaction

from gites.calendar.testing import functional_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    FROZEN_NOW,
    HIDDEN_HEB,
    NOPK,
    OTHER,
    OTHER_HEB,
    OWNER,
    OWNER_PK,
    PASSWORD,
    PLAIN_HEB,
    OwnerFunctionalTestCase,
)


@on_both_databases(functional_layers())
class TestAddRange(OwnerFunctionalTestCase):
    def valid(self, token, **changes):
        data = {
            "hebPk": str(CGT_HEB),
            "start": "2030-06-15",
            "end": "2030-06-17",
            "type": "loue",
            "_authenticator": token,
        }
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    def test_success_writes_days_date_and_outbox(self):
        browser = self.browser(OWNER)
        status, body = self.post(browser, self.valid(self.token(browser)))
        self.assertEqual(status, 200, body)
        self.assertEqual(
            json.loads(body),
            {
                "ok": True,
                "hebPk": CGT_HEB,
                "start": "2030-06-15",
                "end": "2030-06-17",
                "type": "loue",
            },
        )
        self.assertIn("no-store", browser.headers["Cache-Control"])
        self.assertTrue(browser.headers["Content-Type"].startswith("application/json"))
        self.assertEqual(
            self.rows(),
            [(CGT_HEB, datetime.date(2030, 6, d), "loue", OWNER_PK) for d in (15, 16, 17)],
        )
        self.assertEqual(self.modified(CGT_HEB), FROZEN_NOW.date())
        [message] = self.outbox()
        self.assertEqual(
            (
                message.heb_pk,
                message.cgt_id,
                message.start_date,
                message.end_date,
                message.selection_type,
            ),
            (CGT_HEB, "HAFF0101", datetime.date(2030, 6, 15), datetime.date(2030, 6, 17), "loue"),
        )
        self.assertIsNone(message.sent_at)

    def test_ranges_replace_days(self):
        browser = self.browser(OWNER)
        token = self.token(browser)
        self.assertEqual(self.post(browser, self.valid(token, end="2030-06-20"))[0], 200)
        self.assertEqual(
            self.post(
                browser, self.valid(token, start="2030-06-17", end="2030-06-18", type="indisp")
            )[0],
            200,
        )
        self.assertEqual(
            self.post(
                browser, self.valid(token, start="2030-06-19", end="2030-06-19", type="libre")
            )[0],
            200,
        )
        self.assertEqual(
            [(day.day, kind) for _heb, day, kind, _pro in self.rows(CGT_HEB)],
            [(15, "loue"), (16, "loue"), (17, "indisp"), (18, "indisp"), (20, "loue")],
        )
        self.assertEqual([m.selection_type for m in self.outbox()], ["loue", "indisp", "libre"])

    def test_cottage_without_cgt_has_no_outbox_row(self):
        browser = self.browser(OWNER)
        status, body = self.post(browser, self.valid(self.token(browser), hebPk=str(PLAIN_HEB)))
        self.assertEqual(status, 200, body)
        self.assertEqual(len(self.rows(PLAIN_HEB)), 3)
        self.assertEqual(self.outbox(), [])

    def test_csrf_token_missing_or_wrong(self):
        browser = self.browser(OWNER)
        token = self.token(browser)
        for bad in (None, "", "0" * 40, token[:-1]):
            with self.subTest(token=bad):
                status, body = self.post(browser, self.valid(token, _authenticator=bad))
                self.assertEqual(status, 403)
                self.assertIn("error", json.loads(body))
        self.assert_nothing_written()

    def test_token_of_another_member_is_refused(self):
        other = self.browser(OTHER)
        other_token = self.token(other, OTHER_HEB)
        browser = self.browser(OWNER)
        status, _body = self.post(browser, self.valid(other_token))
        self.assertEqual(status, 403)
        self.assert_nothing_written()

    def test_other_owners_cottage(self):
        browser = self.browser(OWNER)
        token = self.token(browser)
        for heb_pk in (OTHER_HEB, HIDDEN_HEB, 424242):
            with self.subTest(heb_pk=heb_pk):
                status, body = self.post(browser, self.valid(token, hebPk=str(heb_pk)))
                self.assertEqual(status, 403)
                self.assertIn("error", json.loads(body))
        self.assert_nothing_written()
        self.assertEqual(self.modified(OTHER_HEB), datetime.date(2020, 1, 1))

    def test_member_without_pk(self):
        browser = self.browser(NOPK)
        status, _body = self.post(
            browser,
            {"hebPk": str(CGT_HEB), "start": "2030-06-15", "end": "2030-06-15", "type": "loue"},
        )
        self.assertEqual(status, 403)
        self.assert_nothing_written()

    def test_anonymous(self):
        owner = self.browser(OWNER)
        token = self.token(owner)
        status, body = self.post(self.browser(), self.valid(token))
        self.assertEqual(status, 403)
        self.assertIn("error", json.loads(body))
        self.assert_nothing_written()

    def test_invalid_input(self):
        browser = self.browser(OWNER)
        token = self.token(browser)
        cases = {
            "malformed start": {"start": "15/06/2030"},
            "impossible date": {"end": "2030-02-30"},
            "missing end": {"end": None},
            "end before start": {"start": "2030-06-20", "end": "2030-06-19"},
            "unknown type": {"type": "reserve"},
            "missing type": {"type": None},
            "more than two years": {"end": "2032-06-16"},
            "hebPk not a number": {"hebPk": "101abc"},
            "hebPk missing": {"hebPk": None},
            "start before today": {"start": "2030-06-14"},
        }
        for name, changes in cases.items():
            with self.subTest(name):
                status, body = self.post(browser, self.valid(token, **changes))
                self.assertEqual(status, 400, body)
                error = json.loads(body)["error"]
                self.assertTrue(error.strip())
        self.assert_nothing_written()

    def test_errors_in_the_owners_language(self):
        browser = self.browser(OWNER)
        token = self.token(browser)
        status, body = self.post(browser, self.valid(token, start="2030-06-20", end="2030-06-19"))
        self.assertEqual(
            (status, json.loads(body)),
            (400, {"error": "la fin 2030-06-19 précède le début 2030-06-20"}),
        )
        api.portal.set_registry_record("plone.available_languages", ["fr", "nl"])
        api.portal.set_registry_record("plone.use_request_negotiation", True)
        transaction.commit()
        dutch = Browser(self.app)
        dutch.raiseHttpErrors = False
        dutch.addHeader("Accept-Language", "nl")
        dutch.addHeader("Authorization", f"Basic {OWNER}:{PASSWORD}")
        status, body = self.post(dutch, self.valid(token, start="2030-06-20", end="2030-06-19"))
        self.assertEqual(
            (status, json.loads(body)),
            (400, {"error": "het einde 2030-06-19 ligt voor het begin 2030-06-20"}),
        )
        status, body = self.post(dutch, self.valid(token, hebPk=str(OTHER_HEB)))
        self.assertEqual((status, json.loads(body)), (403, {"error": "Dit logies is niet van u."}))
        self.assert_nothing_written()

    def test_get_is_not_allowed(self):
        browser = self.browser(OWNER)
        token = self.token(browser)
        browser.open(f"{self.calendar_url}/addRange?{urlencode(self.valid(token))}")
        self.assertEqual(browser.headers["status"].split()[0], "405")
        self.assertEqual(browser.headers["Allow"], "POST")
        self.assertIn("error", json.loads(browser.contents))
        self.assert_nothing_written()

    def test_owner_selected_days_after_save(self):
        browser = self.browser(OWNER)
        self.post(browser, self.valid(self.token(browser), type="indisp"))
        browser.open(f"{self.calendar_url}/selectedDays?hebPk={CGT_HEB}&year=2030&month=6&range=3")
        self.assertEqual(browser.headers["status"], "200 OK")
        self.assertEqual(
            json.loads(browser.contents),
            {
                "rented": ["2030-06-15", "2030-06-16", "2030-06-17"],
                "type": ["indisp"] * 3,
                "origin": [
                    {
                        "source": "owner",
                        "actor": str(OWNER_PK),
                        "at": FROZEN_NOW.strftime("%Y-%m-%dT%H:%M"),
                        "mine": True,
                    }
                ]
                * 3,
            },
        )
        anonymous = self.browser()
        anonymous.open(f"{self.calendar_url}/selectedDays?hebPk={CGT_HEB}")
        self.assertEqual(anonymous.headers["status"].split()[0], "403")

    def test_pages_send_anonymous_to_login(self):
        browser = self.browser()
        browser.open(f"{self.calendar_url}/month.html?pk={CGT_HEB}")
        self.assertNotIn("data-authenticator", browser.contents)
        self.assertIn("login", browser.url)

    def test_month_page_of_another_owner(self):
        browser = self.browser(OWNER)
        browser.open(f"{self.calendar_url}/month.html?pk={OTHER_HEB}")
        self.assertEqual(browser.headers["status"].split()[0], "404")
        self.assertIn("Calendrier indisponible", browser.contents)
        self.assertNotIn("Villa Secrète", browser.contents)
        self.assertNotIn("data-heb-pk", browser.contents)
