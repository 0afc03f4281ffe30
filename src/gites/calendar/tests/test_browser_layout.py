"""What a person sees on the owner pages, in headless Chromium: the month
links of ``multical.html`` keep their words inside their boxes at 1280 and
390 px, and a saved range is announced in words, in the site's language.

The server's day is frozen on Monday 2031-05-12, as in test_browser_a11y,
on the same layer.
"""

import transaction

from gites.calendar.testing.demo_pages import DemoSiteBrowserTestCase
from gites.calendar.testing.fixtures import site_in_language

HEB_PK = 1  # proprio 1 ("proprio") owns cottages 1 and 2
CALENDAR = "zone-membre/calendrier"


class LayoutTestCase(DemoSiteBrowserTestCase):
    """What a person sees: the multical month links, the saved-range words."""

    def open_month_as_owner(self):
        """month.html of cottage 1 as its owner: the widget and its live region."""
        self.login("proprio", "proprio")
        self.goto(f"{CALENDAR}/month.html?pk={HEB_PK}", ".gites-calendar [data-date]")
        self.settle()
        widget = self.page.locator(".gites-calendar")
        return widget, widget.locator('.gites-calendar-status[aria-live="polite"]')

    def test_multical_controls_fit_their_boxes(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        for width in (1280, 390):
            self.page.set_viewport_size({"width": width, "height": 900})
            self.goto(f"{CALENDAR}/multical.html?month=2031-06", ".gites-calendar [data-date]")
            self.settle()
            expect(self.page.locator(".gites-multical-prev")).to_have_text("Mois précédent")
            expect(self.page.locator(".gites-multical-next")).to_have_text("Mois suivant")
            overflowing = self.page.evaluate(
                """() => [...document.querySelectorAll(
                        '.gites-calendar-multical-page a, .gites-calendar-multical-page button,'
                        + ' .gites-calendar-toolbar button, .gites-calendar [role=gridcell],'
                        + ' .gites-calendar [role=columnheader]')]
                    .filter((node) => node.getClientRects().length)
                    .filter((node) => getComputedStyle(node).display !== 'inline')
                    .filter((node) => node.scrollWidth > node.clientWidth
                        || node.scrollHeight > node.clientHeight)
                    .map((node) => `${node.className} "${node.textContent.trim()}"`
                        + ` ${node.scrollWidth}x${node.scrollHeight}`
                        + ` in ${node.clientWidth}x${node.clientHeight}`)"""
            )
            self.assertEqual(overflowing, [], f"controls overflowing at {width} px")
            count = self.page.evaluate(
                "() => document.querySelectorAll('.gites-multical-nav a,"
                " .gites-calendar button, .gites-calendar-toolbar button').length"
            )
            self.assertGreaterEqual(count, 2 + 2 * 2 + 3, "the controls were not all found")

    def test_saved_range_is_announced_in_words(self):
        from playwright.sync_api import expect

        widget, live = self.open_month_as_owner()
        widget.get_by_role("button", name="Indisponible", exact=True).click()
        self.day("2031-05-29").click()
        self.day("2031-06-02").click()
        self.settle()
        expect(live).to_have_text("Enregistré : Indisponible du 29 mai au 2 juin 2031, 5 nuits.")
        widget.get_by_role("button", name="Loué", exact=True).click()
        self.day("2031-05-20").click()
        self.day("2031-05-20").click()
        self.settle()
        expect(live).to_have_text("Enregistré : Loué le 20 mai 2031, 1 nuit.")

    def test_saved_range_is_announced_in_the_site_language(self):
        from playwright.sync_api import expect

        site_in_language("en")
        transaction.commit()
        widget, live = self.open_month_as_owner()
        widget.get_by_role("button", name="Unavailable", exact=True).click()
        self.day("2031-05-29").click()
        expect(live).to_have_text("Start: 29 May 2031, Free. Choose the last day.")
        self.day("2031-06-02").click()
        self.settle()
        expect(live).to_have_text("Saved: Unavailable from 29 May to 2 June 2031, 5 nights.")
