"""The ``configuration`` form and calendarconfig's blocking history (docs/owner-pages.rst)."""

import datetime
import re

from sqlalchemy import select

from gites.calendar.db.models import BlockingHistory, Hebergement
from gites.calendar.domain import calendar_state
from gites.calendar.testing import functional_layers, integration_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    FROZEN_NOW,
    HIDDEN_HEB,
    NOPK,
    OTHER_HEB,
    OWNER,
    OWNER_PK,
    PLAIN_HEB,
    OwnerFunctionalTestCase,
    OwnerIntegrationTestCase,
    freeze_clock,
)

OWN = (CGT_HEB, PLAIN_HEB, HIDDEN_HEB)


def history(session, heb_pk):
    return [
        (r.heb_blockhistory_blocked_dte, r.heb_blockhistory_activated_dte, r.heb_blockhistory_days)
        for r in session.scalars(
            select(BlockingHistory)
            .where(BlockingHistory.heb_blockhistory_heb_pk == heb_pk)
            .order_by(BlockingHistory.heb_blockhistory_id)
        )
    ]


@on_both_databases(integration_layers())
class TestCalendarConfig(OwnerIntegrationTestCase):
    """The domain functions (no Plone needed, but the layer gives the database)."""

    def heb(self, pk):
        return self.session.get(Hebergement, pk)

    def test_open_and_close(self):
        heb = self.heb(CGT_HEB)
        blocked = datetime.date(2030, 1, 10)
        row = calendar_state.open_blocking(self.session, heb, blocked)
        self.assertIs(
            calendar_state.open_blocking(self.session, heb, datetime.date(2030, 2, 1)), row
        )
        closed = calendar_state.close_blocking(self.session, heb, datetime.date(2030, 1, 25))
        self.assertEqual(len(closed), 1)
        self.assertEqual(
            calendar_state.close_blocking(self.session, heb, datetime.date(2030, 2, 1)), []
        )
        self.assertEqual(
            history(self.session, CGT_HEB), [(blocked, datetime.date(2030, 1, 25), 15)]
        )

    def test_apply_configuration(self):
        cottages = calendar_state.owner_cottages_all(self.session, OWNER_PK)
        self.assertEqual([h.heb_pk for h in cottages], list(OWN))
        day1, day2 = datetime.date(2030, 3, 1), datetime.date(2030, 3, 11)
        calendar_state.apply_configuration(self.session, cottages, "non actif", day1, 1)
        calendar_state.apply_configuration(
            self.session, cottages, "non actif", day1, 1
        )  # no 2nd row
        for pk in OWN:
            self.assertEqual(self.heb(pk).heb_calendrier_proprio, "non actif")
            self.assertEqual(history(self.session, pk), [(day1, None, None)])
        calendar_state.apply_configuration(self.session, cottages, "searchactif", day2, 1)
        for pk in OWN:
            self.assertEqual(self.heb(pk).heb_calendrier_proprio, "searchactif")
            self.assertEqual(self.heb(pk).heb_calendrier_proprio_date_maj, day2)
            self.assertEqual(history(self.session, pk), [(day1, day2, 10)])
        self.assertEqual(history(self.session, OTHER_HEB), [])
        with self.assertRaises(ValueError):
            calendar_state.apply_configuration(self.session, cottages, "bloque", day2, 1)


@on_both_databases(functional_layers())
class TestConfigurationForm(OwnerFunctionalTestCase):
    def form(self, browser):
        browser.open(f"{self.calendar_url}/configuration")
        self.assertEqual(browser.headers["status"], "200 OK")
        return browser.getControl(name="form.widgets.calendar_config")

    def save(self, browser, token):
        control = self.form(browser)
        control.value = [token]
        browser.getControl(name="form.buttons.save").click()
        self.assertEqual(browser.headers["status"], "200 OK")

    def state(self, pk):
        return self.fresh().get(Hebergement, pk).heb_calendrier_proprio

    def test_default_is_first_public_cottage(self):
        session = self.fresh()
        session.get(Hebergement, CGT_HEB).heb_calendrier_proprio = "searchactif"
        session.commit()
        browser = self.browser(OWNER)
        control = self.form(browser)
        self.assertEqual(control.value, ["searchactif"])
        self.assertEqual(sorted(control.options), ["actif", "non-actif", "searchactif"])
        self.assertIn("Utilisation du calendrier", browser.contents)
        self.assertIn(
            "Calendrier visible par tous (recherches et page d&#x27;hebergement)".replace(
                "&#x27;", "'"
            ),
            browser.contents.replace("&#x27;", "'").replace("&#39;", "'"),
        )

    def test_non_actif_then_actif_keeps_history(self):
        browser = self.browser(OWNER)
        self.save(browser, "non-actif")
        today = FROZEN_NOW.date()
        for pk in OWN:  # the non-public cottage too
            self.assertEqual(self.state(pk), "non actif")
            self.assertEqual(
                self.fresh().get(Hebergement, pk).heb_calendrier_proprio_date_maj, today
            )
            self.assertEqual(history(self.fresh(), pk), [(today, None, None)])
        self.assertEqual(self.state(OTHER_HEB), "actif")
        self.assertEqual(history(self.fresh(), OTHER_HEB), [])

        later = datetime.datetime(2030, 7, 4, 9, 0)
        freeze_clock(self, later)
        self.save(browser, "actif")
        for pk in OWN:
            self.assertEqual(self.state(pk), "actif")
            self.assertEqual(history(self.fresh(), pk), [(today, later.date(), 19)])

    def test_csrf_protected(self):
        browser = self.browser(OWNER)
        self.form(browser)
        browser.post(
            f"{self.calendar_url}/configuration",
            "form.widgets.calendar_config=non-actif&form.buttons.save=Enregistrer",
        )
        self.assertEqual(browser.headers["status"].split()[0], "403")
        for pk in OWN:
            self.assertEqual(self.state(pk), "actif")
            self.assertEqual(history(self.fresh(), pk), [])

    def test_blocked_calendar_cannot_be_configured(self):
        session = self.fresh()
        session.get(Hebergement, CGT_HEB).heb_calendrier_proprio = "bloque"
        session.commit()
        browser = self.browser(OWNER)
        browser.open(f"{self.calendar_url}/configuration")
        self.assertIn("Votre calendrier est bloqué", browser.contents)
        self.assertIsNone(re.search(r'name="form\.buttons\.save"', browser.contents))

    def test_member_without_cottages(self):
        browser = self.browser(NOPK)
        browser.open(f"{self.calendar_url}/configuration")
        self.assertIn("aucun hébergement", browser.contents)
        self.assertIsNone(re.search(r'name="form\.buttons\.save"', browser.contents))

    def test_anonymous_must_log_in(self):
        browser = self.browser()
        browser.open(f"{self.calendar_url}/configuration")
        self.assertIn("login", browser.url)
        self.assertNotIn("form.widgets.calendar_config", browser.contents)
