"""Owner pages on the calendar folder: month.html, multical.html,
selectedDays, calendarInfo (docs/owner-pages.rst), on SQLite and PostgreSQL.

The owner scenario (members, data, frozen clock) is in
:mod:`gites.calendar.testing.fixtures`, shared by the other owner test modules.
"""

import datetime
import html as htmlmod
import json
import pathlib
import re
from unittest import mock

from plone import api
from plone.app.testing import login, logout
from plone.i18n.utility import setLanguageBinding
from plone.protect.authenticator import check as check_authenticator
from zExceptions import Unauthorized

from gites.calendar import browser
from gites.calendar.db.models import Reservation
from gites.calendar.testing import integration_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    HIDDEN_HEB,
    NOPK,
    OTHER_HEB,
    OTHER_PK,
    OWNER,
    OWNER_PK,
    OwnerIntegrationTestCase,
)


@on_both_databases(integration_layers())
class TestMonthView(OwnerIntegrationTestCase):
    def test_owner_sees_own_cottage(self):
        login(self.portal, OWNER)
        html = self.view("month.html", pk=str(CGT_HEB))()
        self.assertEqual(self.request.response.getStatus(), 200)
        self.assertIn("Calendrier pour 101 - Gîte du Moulin", html)
        self.assertIn("02/05/2030", html)
        calendar_url = self.calendar.absolute_url()
        self.assertIn(f'data-days-url="{calendar_url}/selectedDays?hebPk=101"', html)
        self.assertIn(f'data-save-url="{calendar_url}/addRange"', html)
        self.assertIn('data-heb-pk="101"', html)
        token = re.search(r'data-authenticator="([0-9a-f]+)"', html).group(1)
        self.request.form["_authenticator"] = token
        check_authenticator(self.request)  # raises Forbidden if not valid
        self.assertIn('data-months="3"', html)
        self.assertIn('data-start-month="2030-06"', html)
        self.assertIn('data-today="2030-06-15"', html)
        self.assertIn('class="gites-calendar"', html)
        self.assertIn("++resource++gites.calendar/calendar.js", html)
        self.assertIn("++resource++gites.calendar/calendar.css", html)
        # the iframe snippet, shown as text to copy
        self.assertIn(f'&lt;iframe src="{self.portal.absolute_url()}/extern-calendar?pk=101"', html)
        self.assertIn("no-store", self.request.response.getHeader("Cache-Control"))

    def widget_texts(self, html):
        found = re.findall(r'data-i18n="([^"]*)"', html)
        return [json.loads(htmlmod.unescape(text)) for text in found]

    def test_widget_texts_in_the_site_language(self):
        login(self.portal, OWNER)
        [texts] = self.widget_texts(self.view("month.html", pk=str(CGT_HEB))())
        # Every text calendar.js knows, no other key.
        script = (pathlib.Path(browser.__file__).parent / "static" / "calendar.js").read_text()
        defaults = script[script.index("DEFAULT_TEXTS = {") : script.index("};")]
        self.assertEqual(set(texts), set(re.findall(r"^\s+(\w+):", defaults, re.M)))
        self.assertEqual(texts["loue"], "Loué")
        self.assertEqual(texts["savedRange"], "Enregistré : {type} du {start} au {end}, {nights}.")
        self.assertEqual(texts["months"][5], "juin")

    def test_widget_texts_in_dutch(self):
        api.portal.set_registry_record("plone.available_languages", ["fr", "nl"])
        api.portal.set_registry_record("plone.use_request_negotiation", True)
        self.request.environ["HTTP_ACCEPT_LANGUAGE"] = "nl"
        setLanguageBinding(self.request)
        login(self.portal, OWNER)
        [texts] = self.widget_texts(self.view("month.html", pk=str(CGT_HEB))())
        self.assertEqual(
            [texts[key] for key in ("loue", "indisp", "libre", "nights")],
            ["Verhuurd", "Niet beschikbaar", "Vrij", "{count} nachten"],
        )
        self.assertEqual(texts["selectionStarted"], "Begin: {date}. Kies de laatste dag.")

    def assert_unavailable(self, pk):
        html = self.view("month.html", pk=pk)()
        self.assertEqual(self.request.response.getStatus(), 404)
        self.assertIn("Calendrier indisponible", html)
        self.assertNotIn("Villa Secrète", html)
        self.assertNotIn("Secret", html.replace("Secrète", ""))
        self.assertNotIn('class="gites-calendar"', html)
        self.assertNotIn("data-authenticator", html)
        return html

    def test_other_owners_cottage_is_unavailable(self):
        login(self.portal, OWNER)
        self.assert_unavailable(str(OTHER_HEB))

    def test_bad_pks_give_the_same_unavailable_page(self):
        login(self.portal, OWNER)
        for pk in ("abc", "", "-1", "0", "1e3", "99999999999", str(HIDDEN_HEB), "424242"):
            with self.subTest(pk=pk):
                self.assert_unavailable(pk)
        self.assert_unavailable(["101", "102"])

    def test_member_without_pk_gets_unavailable(self):
        login(self.portal, NOPK)
        self.assert_unavailable(str(CGT_HEB))

    def test_anonymous_must_log_in(self):
        logout()
        with self.assertRaises(Unauthorized):
            self.view("month.html", pk=str(CGT_HEB))()

    def test_ical_section_only_with_the_ical_module(self):
        login(self.portal, OWNER)
        fake = mock.Mock()
        fake.feed_url.return_value = "http://nohost/plone/ical/secret-token.ics"
        with mock.patch.dict("sys.modules", {"gites.calendar.domain.ical_export": fake}):
            html = self.view("month.html", pk=str(CGT_HEB))()
        self.assertIn("http://nohost/plone/ical/secret-token.ics", html)
        self.assertIn("/ical-renew", html)
        fake.feed_url.assert_called_once_with(mock.ANY, self.portal.absolute_url(), CGT_HEB)
        with mock.patch.dict("sys.modules", {"gites.calendar.domain.ical_export": None}):
            html = self.view("month.html", pk=str(CGT_HEB))()
        self.assertNotIn("/ical-renew", html)


@on_both_databases(integration_layers())
class TestMulticalView(OwnerIntegrationTestCase):
    def test_one_row_per_public_cottage(self):
        login(self.portal, OWNER)
        html = self.view("multical.html")()
        self.assertEqual(self.request.response.getStatus(), 200)
        self.assertIn("101 - Gîte du Moulin", html)
        self.assertIn("102 - La Ferme", html)
        self.assertNotIn("Caché", html)
        self.assertNotIn("Villa Secrète", html)
        self.assertEqual(html.count('class="gites-calendar"'), 2)
        self.assertEqual(html.count('data-months="1"'), 2)
        self.assertEqual(html.count('data-toolbar="#gites-calendar-toolbar"'), 2)
        self.assertEqual(html.count('id="gites-calendar-toolbar"'), 1)
        self.assertIn('data-start-month="2030-06"', html)
        self.assertIn("juin 2030", html)
        self.assertIn("multical.html?month=2030-05", html)
        self.assertIn("multical.html?month=2030-07", html)
        self.assertIn(f"{self.portal.absolute_url()}/extern-monthly-calendar?pk={OWNER_PK}", html)

    def test_month_navigation(self):
        login(self.portal, OWNER)
        html = self.view("multical.html", month="2031-01")()
        self.assertIn('data-start-month="2031-01"', html)
        self.assertIn("multical.html?month=2030-12", html)
        self.assertIn("multical.html?month=2031-02", html)
        for bad in ("2031-13", "junk", "1900-01"):
            with self.subTest(month=bad):
                html = self.view("multical.html", month=bad)()
                self.assertIn('data-start-month="2030-06"', html)

    def test_member_without_cottages(self):
        login(self.portal, NOPK)
        html = self.view("multical.html")()
        self.assertIn("aucun hébergement", html)
        self.assertNotIn('class="gites-calendar"', html)
        self.assertNotIn("extern-monthly-calendar", html)

    def test_anonymous_must_log_in(self):
        logout()
        with self.assertRaises(Unauthorized):
            self.view("multical.html")()


@on_both_databases(integration_layers())
class TestSelectedDays(OwnerIntegrationTestCase):
    def setUp(self):
        super().setUp()
        for day, kind in (
            (datetime.date(2030, 6, 20), "loue"),
            (datetime.date(2020, 1, 3), "indisp"),
        ):
            self.session.add(
                Reservation(
                    res_date=datetime.datetime.combine(day, datetime.time()),
                    res_type=kind,
                    heb_fk=CGT_HEB,
                    pro_fk=OWNER_PK,
                )
            )
        self.session.add(
            Reservation(
                res_date=datetime.datetime(2030, 6, 21),
                res_type="loue",
                heb_fk=OTHER_HEB,
                pro_fk=OTHER_PK,
            )
        )
        self.session.flush()

    def test_all_rows_of_own_cottage(self):
        login(self.portal, OWNER)
        status, data = self.json(
            "selectedDays", hebPk=str(CGT_HEB), year="2030", month="6", range="3"
        )
        self.assertEqual(status, 200)
        # Rows written outside the change log (legacy ones): no origin.
        self.assertEqual(
            data,
            {
                "rented": ["2020-01-03", "2030-06-20"],
                "type": ["indisp", "loue"],
                "origin": [None, None],
            },
        )
        self.assertIn("no-store", self.request.response.getHeader("Cache-Control"))
        self.assertTrue(
            self.request.response.getHeader("Content-Type").startswith("application/json")
        )

    def test_refused(self):
        login(self.portal, OWNER)
        self.assertEqual(self.json("selectedDays", hebPk=str(OTHER_HEB))[0], 403)
        self.assertEqual(self.json("selectedDays", hebPk=str(HIDDEN_HEB))[0], 403)
        status, data = self.json("selectedDays", hebPk="x")
        self.assertEqual(status, 400)
        self.assertIn("error", data)
        logout()
        status, data = self.json("selectedDays", hebPk=str(CGT_HEB))
        self.assertEqual(status, 403)
        self.assertNotIn("rented", data)


@on_both_databases(integration_layers())
class TestCalendarInfo(OwnerIntegrationTestCase):
    def test_last_modification_date(self):
        login(self.portal, OWNER)
        status, data = self.json("calendarInfo", hebPk=str(CGT_HEB))
        self.assertEqual(status, 200)
        self.assertEqual(
            data, {"hebPk": 101, "lastModified": "2030-05-02", "lastModifiedDisplay": "02/05/2030"}
        )

    def test_refused(self):
        login(self.portal, OWNER)
        self.assertEqual(self.json("calendarInfo", hebPk=str(OTHER_HEB))[0], 403)
        self.assertEqual(self.json("calendarInfo", hebPk="")[0], 400)
        logout()
        self.assertEqual(self.json("calendarInfo", hebPk=str(CGT_HEB))[0], 403)
