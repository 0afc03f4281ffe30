"""Real-browser tests of the availability-calendar widget (calendar.js): the
read-only widget, accessibility, navigation, and pages with several widgets.

Headless Chromium drives the widget served by
:mod:`gites.calendar.testing.widget_server` (frozen on 2027-03-10), on the
layer of test_widget_browser.

Run: make test TEST_ARGS="-t test_widget_browser" (zope.testrunner sets up the layers).
"""

import unittest

from gites.calendar.testing.widget_layer import WidgetBrowserTestCase, expect, has_class


class TestWidgetPages(WidgetBrowserTestCase):
    # -- read-only, accessibility, navigation ------------------------------

    def test_readonly_widget(self):
        widget = self.open(widget="#readonly")
        # No type picker at all, no selection state.
        self.assertEqual(widget.locator("button[data-type]").count(), 0)
        self.assertEqual(widget.locator("[aria-pressed]").count(), 0)
        for name in ("Loué", "Indisponible", "Libre"):
            self.assertEqual(widget.get_by_role("button", name=name, exact=True).count(), 0)
        self.assertEqual(widget.locator("[aria-selected]").count(), 0)
        expect(widget.get_by_role("grid").first).to_have_attribute("aria-readonly", "true")

        # Loué and Indisponible both read as "busy": the reason stays private.
        for date in ("2027-03-15", "2027-03-24", "2027-04-02"):
            cell = self.day(date, "#readonly")
            expect(cell).to_have_class(has_class("is-busy"))
            expect(cell).not_to_have_class(has_class("is-loue"))
            expect(cell).not_to_have_class(has_class("is-indisp"))
        expect(self.day("2027-03-24", "#readonly")).to_have_attribute(
            "aria-label", "24 mars 2027, Occupé"
        )
        expect(self.day("2027-03-16", "#readonly")).to_have_attribute(
            "aria-label", "16 mars 2027, Libre"
        )
        self.assertEqual(widget.locator("[data-date].is-busy").count(), 4)

        self.day("2027-03-16", "#readonly").click()
        self.day("2027-03-18", "#readonly").click()
        self.settle("#readonly")
        self.assertEqual(self.saves(), [])
        self.assertEqual(widget.locator(".is-pending").count(), 0)

        # Paging asks the public endpoint for the new window.
        widget.get_by_role("button", name="Mois suivant").click()
        self.settle("#readonly")
        expect(self.day("2027-05-12", "#readonly")).to_have_class(has_class("is-busy"))
        with self.server.lock:
            last = self.server.day_requests[-1]
        self.assertEqual(
            (last["path"], last["hebPk"], last["year"], last["month"], last["range"]),
            ("/public-days", "12", "2027", "4", "2"),
        )

    def test_aria_structure(self):
        widget = self.open()
        grids = widget.get_by_role("grid")
        expect(grids).to_have_count(2)
        expect(widget.get_by_role("grid", name="mars 2027")).to_have_count(1)
        expect(widget.get_by_role("grid", name="avril 2027")).to_have_count(1)
        expect(
            widget.get_by_role("group", name="Calendrier pour 12 - Gîte du Moulin")
        ).to_have_count(1)

        march = widget.get_by_role("grid", name="mars 2027")
        headers = march.get_by_role("columnheader")
        expect(headers).to_have_count(7)
        expect(headers.first).to_have_accessible_name("lundi")
        expect(headers.last).to_have_accessible_name("dimanche")
        expect(march.get_by_role("gridcell").and_(march.locator("[data-date]"))).to_have_count(31)
        self.assertGreaterEqual(march.get_by_role("row").count(), 6)
        # 2027-03-01 is a Monday: first column of the first week.
        first_row = march.locator("tbody tr").first
        expect(first_row.locator("td").first).to_have_attribute("data-date", "2027-03-01")

        expect(widget.get_by_role("gridcell", name="15 mars 2027, Loué")).to_have_count(1)
        expect(widget.get_by_role("gridcell", name="24 mars 2027, Indisponible")).to_have_count(1)
        expect(widget.get_by_role("gridcell", name="16 mars 2027, Libre")).to_have_count(1)
        expect(self.day("2027-03-10")).to_have_attribute(
            "aria-label", "10 mars 2027, aujourd'hui, Libre"
        )

        # Roving tabindex: exactly one tab stop in the grids, on today.
        expect(widget.locator('[data-date][tabindex="0"]')).to_have_count(1)
        expect(self.day("2027-03-10")).to_have_attribute("tabindex", "0")
        expect(widget.locator('[aria-live="polite"]')).to_have_count(1)
        expect(widget.locator('.gites-calendar-message[aria-live="assertive"]')).to_have_count(1)
        expect(widget.get_by_role("group", name="Type de période")).to_have_count(1)

        # A visible focus ring on keyboard focus.
        self.day("2027-03-10").focus()
        self.page.keyboard.press("ArrowRight")
        outline = self.day("2027-03-11").evaluate("node => getComputedStyle(node).outlineStyle")
        self.assertEqual(outline, "solid")

    def test_keyboard_navigation_pages_the_view(self):
        widget = self.open()
        self.day("2027-04-28").focus()
        self.page.keyboard.press("ArrowDown")  # into May, beyond the last shown month
        self.assertEqual(self.focused_date(), "2027-05-05")
        expect(widget.get_by_role("grid").first).to_have_accessible_name("avril 2027")
        expect(widget.get_by_role("grid").last).to_have_accessible_name("mai 2027")
        expect(self.day("2027-05-12")).to_have_class(has_class("is-loue"))
        expect(widget.locator('[data-date][tabindex="0"]')).to_have_count(1)

        self.page.keyboard.press("Home")
        self.assertEqual(self.focused_date(), "2027-05-03")  # Monday
        self.page.keyboard.press("End")
        self.assertEqual(self.focused_date(), "2027-05-09")  # Sunday
        self.page.keyboard.press("PageUp")
        self.assertEqual(self.focused_date(), "2027-04-09")
        self.page.keyboard.press("PageUp")  # before the first shown month
        self.assertEqual(self.focused_date(), "2027-03-09")
        expect(widget.get_by_role("grid").first).to_have_accessible_name("mars 2027")
        self.page.keyboard.press("ArrowRight")
        self.page.keyboard.press("PageDown")
        self.assertEqual(self.focused_date(), "2027-04-10")
        expect(widget.get_by_role("grid").first).to_have_accessible_name("mars 2027")
        self.page.keyboard.press("ArrowLeft")
        self.assertEqual(self.focused_date(), "2027-04-09")
        # Crossing from one shown month into the other keeps the view.
        for _ in range(2):
            self.page.keyboard.press("ArrowUp")
        self.assertEqual(self.focused_date(), "2027-03-26")
        expect(widget.get_by_role("grid").first).to_have_accessible_name("mars 2027")

    def test_month_navigation(self):
        widget = self.open()
        widget.get_by_role("button", name="Mois suivant").click()
        expect(widget.get_by_role("grid").first).to_have_accessible_name("avril 2027")
        expect(widget.get_by_role("grid").last).to_have_accessible_name("mai 2027")
        expect(self.day("2027-03-15")).to_have_count(0)
        expect(self.day("2027-05-31")).to_have_count(1)
        expect(self.day("2027-05-12")).to_have_class(has_class("is-loue"))
        expect(widget.locator('[data-date][tabindex="0"]')).to_have_count(1)
        expect(widget.locator(".gites-calendar-status")).to_have_text("avril 2027 \u2013 mai 2027")

        prev = widget.get_by_role("button", name="Mois précédent")
        prev.click()
        prev.click()
        expect(widget.get_by_role("grid").first).to_have_accessible_name("février 2027")
        expect(widget.get_by_role("grid").last).to_have_accessible_name("mars 2027")
        expect(self.day("2027-02-28")).to_have_class(has_class("is-past"))
        expect(self.day("2027-03-15")).to_have_class(has_class("is-loue"))

    # -- page integration --------------------------------------------------

    def test_shared_toolbar_multical(self):
        self.open("multical.html", "#row-12")
        self.settle("#row-13")
        toolbar = self.page.locator("#types")
        expect(toolbar.locator("button")).to_have_count(3)
        # Rows use the shared picker, not one each.
        expect(self.page.locator(".gites-calendar button[data-type]")).to_have_count(0)
        expect(self.page.get_by_role("grid")).to_have_count(2)
        expect(self.day("2027-03-18", "#row-13")).to_have_class(has_class("is-indisp"))

        toolbar.get_by_role("button", name="Indisponible", exact=True).click()
        self.click_and_save("2027-03-22", "2027-03-23", widget="#row-13")
        self.assertEqual(
            self.saves(), [self.expected_form("2027-03-22", "2027-03-23", "indisp", pk="13")]
        )
        expect(self.day("2027-03-22", "#row-13")).to_have_class(has_class("is-indisp"))
        expect(self.day("2027-03-22", "#row-12")).not_to_have_class(has_class("is-indisp"))
        self.assertNotIn("2027-03-22", self.stored("12"))

    def test_init_later_with_i18n(self):
        self.page.goto(f"{self.server.url}/blank.html", wait_until="commit")
        expect(self.page.locator("#host")).to_be_attached()
        self.page.wait_for_function("() => window.GitesCalendar")  # the deferred script ran
        self.page.evaluate(
            """() => {
                const node = document.createElement('div');
                node.id = 'late';
                node.className = 'gites-calendar';
                Object.assign(node.dataset, {
                    daysUrl: '/days?hebPk=12', saveUrl: '/save', hebPk: '12',
                    authenticator: 's3cr3t-token', months: '1', startMonth: '2027-03',
                    today: '2027-03-10',
                    i18n: JSON.stringify({months: ['January', 'February', 'March', 'April',
                        'May', 'June', 'July', 'August', 'September', 'October', 'November',
                        'December'], stateLoue: 'Rented', loue: 'Rented'})
                });
                document.getElementById('host').append(node);
                window.GitesCalendar.init(node);
                window.GitesCalendar.init(node);  // a second call is a no-op
            }"""
        )
        self.settle("#late")
        widget = self.page.locator("#late")
        expect(widget.get_by_role("grid")).to_have_count(1)
        expect(widget.get_by_role("grid")).to_have_accessible_name("March 2027")
        expect(widget.get_by_role("button", name="Rented", exact=True)).to_have_count(1)
        expect(self.day("2027-03-15", "#late")).to_have_attribute(
            "aria-label", "15 March 2027, Rented"
        )
        self.assertEqual(widget.locator(".gites-calendar-toolbar").count(), 1)


if __name__ == "__main__":
    unittest.main()
