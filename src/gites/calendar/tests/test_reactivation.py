"""``reactivation-calendrier?key=K`` (docs/owner-pages.rst), anonymous, by GET from the e-mail."""

import datetime
from urllib.parse import quote

from sqlalchemy import select

from gites.calendar.db.models import BlockingHistory, Hebergement
from gites.calendar.testing import functional_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    FROZEN_NOW,
    HIDDEN_HEB,
    OTHER_HEB,
    PLAIN_HEB,
    OwnerFunctionalTestCase,
)

KEY = "k" * 40  # seed() gives it to proprio 10
BLOCKED_ON = datetime.date(2030, 6, 1)


@on_both_databases(functional_layers())
class TestReactivation(OwnerFunctionalTestCase):
    def setUp(self):
        super().setUp()
        session = self.fresh()
        # 101 and 103 blocked by the cron, 102 switched off by the owner.
        for pk, state in (
            (CGT_HEB, "bloque"),
            (HIDDEN_HEB, "bloque"),
            (PLAIN_HEB, "non actif"),
            (OTHER_HEB, "bloque"),
        ):
            session.get(Hebergement, pk).heb_calendrier_proprio = state
            session.add(
                BlockingHistory(heb_blockhistory_blocked_dte=BLOCKED_ON, heb_blockhistory_heb_pk=pk)
            )
        session.commit()

    def open(self, query):
        browser = self.browser()
        browser.open(f"{self.portal.absolute_url()}/reactivation-calendrier{query}")
        return browser

    def cottage(self, pk):
        heb = self.fresh().get(Hebergement, pk)
        rows = (
            self.fresh()
            .scalars(select(BlockingHistory).where(BlockingHistory.heb_blockhistory_heb_pk == pk))
            .all()
        )
        return (
            heb.heb_calendrier_proprio,
            heb.heb_calendrier_proprio_date_maj,
            [(r.heb_blockhistory_activated_dte, r.heb_blockhistory_days) for r in rows],
        )

    def assert_unchanged(self):
        old = datetime.date(2020, 1, 1)
        self.assertEqual(
            self.cottage(CGT_HEB), ("bloque", datetime.date(2030, 5, 2), [(None, None)])
        )
        self.assertEqual(self.cottage(HIDDEN_HEB), ("bloque", old, [(None, None)]))
        self.assertEqual(self.cottage(PLAIN_HEB), ("non actif", old, [(None, None)]))

    def test_good_key(self):
        browser = self.open(f"?key={KEY}")
        self.assertEqual(browser.headers["status"], "200 OK")
        self.assertIn("Votre calendrier a bien été réactivé !", browser.contents)
        self.assertIn("no-store", browser.headers["Cache-Control"])
        today = FROZEN_NOW.date()
        self.assertEqual(self.cottage(CGT_HEB), ("actif", today, [(today, 14)]))
        self.assertEqual(self.cottage(HIDDEN_HEB), ("actif", today, [(today, 14)]))
        # switched off by the owner: stays so, its period stays open
        self.assertEqual(self.cottage(PLAIN_HEB), ("non actif", today, [(None, None)]))
        # another proprio's cottage is untouched
        self.assertEqual(
            self.cottage(OTHER_HEB), ("bloque", datetime.date(2020, 1, 1), [(None, None)])
        )

    def test_idempotent(self):
        self.open(f"?key={KEY}")
        first = [self.cottage(pk) for pk in (CGT_HEB, PLAIN_HEB, HIDDEN_HEB)]
        browser = self.open(f"?key={KEY}")
        self.assertIn("Votre calendrier a bien été réactivé !", browser.contents)
        self.assertEqual([self.cottage(pk) for pk in (CGT_HEB, PLAIN_HEB, HIDDEN_HEB)], first)

    def test_wrong_or_empty_key(self):
        for query in (
            "",
            "?key=",
            "?key=%20",
            f"?key={KEY[:-1]}",
            f"?key={KEY}x",
            f"?key={quote('%')}",
            "?key=" + "k" * 300,
            f"?key={KEY}&key={KEY}",
        ):
            with self.subTest(query=query):
                browser = self.open(query)
                self.assertEqual(browser.headers["status"].split()[0], "404")
                self.assertIn("Ce lien de réactivation n", browser.contents)
                self.assertNotIn("bien été réactivé", browser.contents)
        self.assert_unchanged()
