"""Real-browser tests of the availability-calendar widget (calendar.js): saving
ranges, the server's refusals, the selection rules.

Headless Chromium (Debian's, via Playwright's sync API) drives the widget
served by :mod:`gites.calendar.testing.widget_server`; no Plone is involved.
The server is frozen on 2027-03-10 and pages show March and April 2027.
The read-only widget, accessibility and navigation are in
test_widget_browser_pages, on the same layer.

Run: make test TEST_ARGS="-t test_widget_browser" (zope.testrunner sets up the layers).
"""

import hashlib
import re

from gites.calendar.testing.widget_layer import WidgetBrowserTestCase, expect, has_class


class TestWidgetSaving(WidgetBrowserTestCase):
    # -- saving ranges -----------------------------------------------------

    def test_mouse_range_indisponible(self):
        widget = self.open()
        widget.get_by_role("button", name="Indisponible", exact=True).click()
        expect(widget.get_by_role("button", name="Indisponible", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(widget.get_by_role("button", name="Loué", exact=True)).to_have_attribute(
            "aria-pressed", "false"
        )
        self.click_and_save("2027-03-16", "2027-03-18")

        self.assertEqual(self.saves(), [self.expected_form("2027-03-16", "2027-03-18", "indisp")])
        call = self.server.calls[0]
        self.assertTrue(call["content_type"].startswith("application/x-www-form-urlencoded"))
        expect(widget.locator(".gites-calendar-status")).to_have_text(
            "Enregistré : Indisponible du 16 au 18 mars 2027, 3 nuits."
        )

        # What is shown after a reload comes from the server only.
        self.page.reload(wait_until="commit")
        expect(self.day("2027-03-16")).to_be_visible()
        self.settle()
        for date in ("2027-03-16", "2027-03-17", "2027-03-18"):
            expect(self.day(date)).to_have_class(has_class("is-indisp"))
        expect(self.day("2027-03-17")).to_have_attribute("aria-label", "17 mars 2027, Indisponible")
        for date in ("2027-03-15", "2027-03-19"):
            expect(self.day(date)).not_to_have_class(has_class("is-indisp"))
        expect(self.day("2027-03-15")).to_have_class(has_class("is-loue"))

    def test_keyboard_only(self):
        widget = self.open()
        # Tab until the "Loué" button has the focus, then pick it with the keyboard.
        loue = widget.get_by_role("button", name="Loué", exact=True)
        widget.get_by_role("button", name="Indisponible", exact=True).click()
        self.page.evaluate("document.activeElement.blur()")
        for _ in range(10):
            self.page.keyboard.press("Tab")
            if loue.evaluate("node => node === document.activeElement"):
                break
        else:
            self.fail("Tab never reached the Loué button")
        self.page.keyboard.press("Enter")
        expect(loue).to_have_attribute("aria-pressed", "true")

        # Tab on into the grid: the roving tab stop is today.
        for _ in range(10):
            self.page.keyboard.press("Tab")
            if self.focused_date():
                break
        self.assertEqual(self.focused_date(), "2027-03-10")
        for key in ("ArrowRight", "ArrowRight", "ArrowDown", "ArrowUp", "ArrowDown"):
            self.page.keyboard.press(key)
        self.assertEqual(self.focused_date(), "2027-03-19")
        self.page.keyboard.press("Enter")
        expect(self.day("2027-03-19")).to_have_attribute("aria-selected", "true")
        self.page.keyboard.press("ArrowRight")
        self.page.keyboard.press("ArrowRight")
        # The pending range follows the focus.
        for date in ("2027-03-19", "2027-03-20", "2027-03-21"):
            expect(self.day(date)).to_have_attribute("aria-selected", "true")
        expect(self.day("2027-03-22")).to_have_attribute("aria-selected", "false")
        with self.page.expect_response(lambda r: r.url.endswith("/save")):
            self.page.keyboard.press(" ")
        self.settle()

        self.assertEqual(self.saves(), [self.expected_form("2027-03-19", "2027-03-21", "loue")])
        for date in ("2027-03-19", "2027-03-20", "2027-03-21"):
            expect(self.day(date)).to_have_class(has_class("is-loue"))
            self.assertEqual(self.stored()[date], "loue")
        expect(self.day("2027-03-21")).to_have_attribute("aria-selected", "false")
        self.assertEqual(self.focused_date(), "2027-03-21")

    def test_drag_select(self):
        widget = self.open()
        widget.get_by_role("button", name="Libre", exact=True).click()
        box_start = self.day("2027-03-14").bounding_box()
        box_end = self.day("2027-03-16").bounding_box()
        mouse = self.page.mouse
        mouse.move(box_start["x"] + 10, box_start["y"] + 10)
        mouse.down()
        mouse.move(box_end["x"] + 10, box_end["y"] + 10, steps=8)
        # Highlighted while dragging, nothing sent yet.
        for date in ("2027-03-14", "2027-03-15", "2027-03-16"):
            expect(self.day(date)).to_have_class(has_class("is-pending"))
            expect(self.day(date)).to_have_attribute("aria-selected", "true")
        self.assertEqual(self.saves(), [])
        with self.page.expect_response(lambda r: r.url.endswith("/save")):
            mouse.up()
        self.settle()

        self.assertEqual(self.saves(), [self.expected_form("2027-03-14", "2027-03-16", "libre")])
        self.assertNotIn("2027-03-15", self.stored())
        expect(self.day("2027-03-15")).not_to_have_class(has_class("is-loue"))
        expect(self.day("2027-03-15")).to_have_attribute("aria-label", "15 mars 2027, Libre")

    def test_reversed_click_order_swaps(self):
        self.open()
        self.click_and_save("2027-04-09", "2027-03-30")
        self.assertEqual(self.saves(), [self.expected_form("2027-03-30", "2027-04-09", "loue")])
        expect(self.day("2027-04-05")).to_have_class(has_class("is-loue"))

    def test_second_click_on_same_day_saves_one_day(self):
        self.open()
        self.click_and_save("2027-03-12", "2027-03-12")
        self.assertEqual(self.saves(), [self.expected_form("2027-03-12", "2027-03-12", "loue")])

    def test_range_across_navigation(self):
        widget = self.open()
        self.day("2027-04-28").click()
        widget.get_by_role("button", name="Mois suivant").click()
        self.click_and_save("2027-05-03")
        self.assertEqual(self.saves(), [self.expected_form("2027-04-28", "2027-05-03", "loue")])

    def test_saved_range_announced_in_words(self):
        widget = self.open()
        live = widget.locator('.gites-calendar-status[aria-live="polite"]')
        self.click_and_save("2027-03-30", "2027-04-02")
        expect(live).to_have_text("Enregistré : Loué du 30 mars au 2 avril 2027, 4 nuits.")
        widget.get_by_role("button", name="Libre", exact=True).click()
        self.click_and_save("2027-03-12", "2027-03-12")
        expect(live).to_have_text("Enregistré : Libre le 12 mars 2027, 1 nuit.")
        # Across a new year, both years are said.
        widget.get_by_role("button", name="Indisponible", exact=True).click()
        self.day("2027-04-20").focus()
        self.page.keyboard.press("Enter")
        for _ in range(9):
            self.page.keyboard.press("PageDown")  # to 2028-01-20, paging the view
        with self.page.expect_response(lambda r: r.url.endswith("/save")):
            self.page.keyboard.press("Enter")
        self.settle()
        expect(live).to_have_text(
            "Enregistré : Indisponible du 20 avril 2027 au 20 janvier 2028, 276 nuits."
        )
        self.assertEqual(self.saves()[-1], self.expected_form("2027-04-20", "2028-01-20", "indisp"))

    def test_day_type_not_by_colour_alone(self):
        """With every type painted the same grey (no text, no faint border
        ring), each type still looks different from a free day (stripes,
        corner mark), and says its state in words."""
        with self.server.lock:
            self.server.days["12"]["2027-03-29"] = "indisp"
        self.open()
        self.settle("#readonly")
        self.page.add_style_tag(
            content="""
            .gites-calendar { --gc-loue-bg: #888; --gc-indisp-bg: #888; --gc-free-bg: #888;
                              --gc-busy-bg: #888; }
            .gites-calendar-day { color: transparent !important; transition: none !important;
                                  box-shadow: none !important; }
            """
        )
        self.page.mouse.move(0, 0)  # no hover colour
        self.page.evaluate("document.activeElement && document.activeElement.blur()")

        def shot(date, widget="#editable"):
            png = self.day(date, widget).screenshot(animations="disabled")
            return hashlib.sha256(png).hexdigest()  # short messages when it fails

        # Same column (Mondays, Tuesdays): the same pixels for the same type.
        self.assertEqual(shot("2027-03-16"), shot("2027-03-23"), "two free Tuesdays differ")
        loue, free, indisp = shot("2027-03-15"), shot("2027-03-22"), shot("2027-03-29")
        self.assertNotEqual(loue, free, "Loué looks like Libre without its colour")
        self.assertNotEqual(indisp, free, "Indisponible looks like Libre without its colour")
        self.assertNotEqual(loue, indisp, "Loué looks like Indisponible without its colour")
        # The public widget: Occupé against Libre.
        self.assertNotEqual(
            shot("2027-03-15", "#readonly"), shot("2027-03-22", "#readonly"), "Occupé looks free"
        )
        # And in words, for screen readers.
        for date, words in (
            ("2027-03-15", "Loué"),
            ("2027-03-29", "Indisponible"),
            ("2027-03-22", "Libre"),
        ):
            expect(self.day(date)).to_have_attribute("aria-label", re.compile(f", {words}$"))
        expect(self.day("2027-03-15", "#readonly")).to_have_attribute(
            "aria-label", "15 mars 2027, Occupé"
        )

    # -- errors ------------------------------------------------------------

    def save_answered(self, status, html):
        """Save the 12th-13th on a page whose next save gets ``html`` back."""
        self.open()
        self.server.fail_next = (status, html, "text/html")
        self.click_and_save("2027-03-12", "2027-03-13")

    def test_server_400_shows_message_and_reverts(self):
        # The page believes it is the 5th (left open for days); the server knows better.
        self.goto("page.html?today=2027-03-05")
        before = self.stored()
        self.click_and_save("2027-03-06", "2027-03-08")

        self.assertEqual(self.server.calls[0]["status"], 400)
        message = self.page.locator("#editable .gites-calendar-message")
        expect(message).to_have_text("Impossible de modifier des jours passés.")
        expect(message).to_have_attribute("aria-live", "assertive")
        for date in ("2027-03-06", "2027-03-07", "2027-03-08"):
            expect(self.day(date)).not_to_have_class(has_class("is-loue"))
            expect(self.day(date)).not_to_have_class(has_class("is-pending"))
        expect(self.page.locator("#editable .gites-calendar-status")).not_to_contain_text(
            "Enregistré"
        )
        self.assertEqual(self.stored(), before)

        # The next successful save clears the error.
        self.click_and_save("2027-03-20", "2027-03-21")
        expect(message).to_have_text("")
        expect(self.page.locator("#editable .gites-calendar-status")).to_have_text(
            "Enregistré : Loué du 20 au 21 mars 2027, 2 nuits."
        )

    def test_wrong_authenticator_403(self):
        self.goto("page.html?auth=stale")
        self.click_and_save("2027-03-12", "2027-03-13")
        self.assertEqual(self.server.calls[0]["status"], 403)
        expect(self.page.locator("#editable .gites-calendar-message")).to_have_text(
            "Jeton de sécurité invalide, rechargez la page."
        )
        expect(self.day("2027-03-12")).not_to_have_class(has_class("is-loue"))

    def test_non_json_error_shows_generic_message(self):
        self.save_answered(500, "<html>Internal Server Error</html>")
        expect(self.page.locator("#editable .gites-calendar-message")).to_have_text(
            "L'enregistrement a échoué. Veuillez réessayer."
        )
        expect(self.day("2027-03-12")).not_to_have_class(has_class("is-loue"))

    def test_html_200_is_not_a_success(self):
        # A login form reached through a redirect answers 200 with HTML.
        self.save_answered(200, "<html><form>login</form></html>")
        expect(self.page.locator("#editable .gites-calendar-message")).to_have_text(
            "L'enregistrement a échoué. Veuillez réessayer."
        )
        expect(self.day("2027-03-12")).not_to_have_class(has_class("is-loue"))

    # -- selection rules ---------------------------------------------------

    def test_past_days_not_selectable(self):
        self.open()
        past = self.day("2027-03-08")
        expect(past).to_have_class(has_class("is-past"))
        expect(past).to_have_attribute("aria-disabled", "true")
        expect(self.day("2027-03-10")).to_have_class(has_class("is-today"))
        expect(self.day("2027-03-10")).not_to_have_attribute("aria-disabled", "true")

        past.click(force=True)  # Playwright refuses aria-disabled targets; a person does not
        expect(past).not_to_have_class(has_class("is-pending"))
        self.assertEqual(self.page.locator("#editable .is-pending").count(), 0)
        # A past day neither starts nor ends a range.
        self.day("2027-03-12").click()
        self.day("2027-03-05").click(force=True)
        self.settle()  # a POST would keep the widget busy until answered
        self.assertEqual(self.saves(), [])
        expect(self.day("2027-03-12")).to_have_class(has_class("is-anchor"))

        # Nor with the keyboard: Enter on a past day does nothing but explain.
        self.page.keyboard.press("Escape")
        past.focus()
        self.page.keyboard.press("Enter")
        self.assertEqual(self.page.locator("#editable .is-pending").count(), 0)
        expect(self.page.locator("#editable .gites-calendar-status")).to_have_text(
            "Les jours passés ne peuvent pas être modifiés."
        )
        self.assertEqual(self.saves(), [])

    def test_escape_cancels(self):
        self.open()
        self.day("2027-03-16").click()
        self.day("2027-03-19").hover()
        expect(self.page.locator("#editable [aria-selected='true']")).to_have_count(4)
        self.page.keyboard.press("Escape")
        expect(self.page.locator("#editable [aria-selected='true']")).to_have_count(0)
        expect(self.page.locator("#editable .is-pending")).to_have_count(0)
        # The next click starts a new selection instead of ending the old one.
        self.day("2027-03-22").click()
        self.settle()
        self.assertEqual(self.saves(), [])
        expect(self.day("2027-03-22")).to_have_class(has_class("is-anchor"))
