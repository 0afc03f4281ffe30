"""Real-browser tests of the availability-calendar widget (calendar.js).

Headless Chromium (Debian's, via Playwright's sync API) drives the widget
served by :mod:`gites.calendar.testing.widget_server`; no Plone is involved.
The server is frozen on 2027-03-10 and pages show March and April 2027.

Run: make test TEST_ARGS="-t test_widget_browser" (zope.testrunner sets up the layers).
"""

import hashlib
import re
import unittest

from plone.testing import Layer

from gites.calendar.testing import require_layer
from gites.calendar.testing.browser import (
    CHROMIUM,
    NAVIGATION_TIMEOUT_MS,
    TIMEOUT_MS,
    new_context,
    page_and_errors,
)
from gites.calendar.testing.widget_server import AUTHENTICATOR, WidgetServer

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover -- the Chromium layer reports it as a skip
    expect = None


def has_class(name):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


class WidgetBrowserLayer(Layer):
    """The mock server, on the one Chromium of every browser test.

    A layer rather than setUpClass: zope.testrunner sets up layers, and runs
    each test on its own.
    """

    defaultBases = (CHROMIUM,)

    def setUp(self):
        if self["chromium_unavailable"]:
            return
        self["server"] = WidgetServer().start()
        expect.set_options(timeout=TIMEOUT_MS)
        # One context for all tests (nothing is kept in cookies or storage);
        # a fresh page per test is enough isolation and much cheaper.
        self["context"] = new_context(self["browser"], 1000, "fr-BE")

    def tearDown(self):
        if not self["chromium_unavailable"]:
            self["context"].close()
            self["server"].stop()
            del self["context"]
            del self["server"]


WIDGET_BROWSER = WidgetBrowserLayer(name="gites.calendar:WidgetBrowser")


class WidgetBrowserTestCase(unittest.TestCase):
    """A fresh page per test, on the layer's server and browser."""

    layer = WIDGET_BROWSER

    def setUp(self):
        require_layer(self)  # a skip, or under CI=true a failure, without Chromium
        expect.set_options(timeout=TIMEOUT_MS)
        self.server = self.layer["server"]
        self.context = self.layer["context"]
        self.server.reset()
        self.page, self.errors = page_and_errors(self.context)

    def tearDown(self):
        self.page.close()
        self.assertEqual(self.errors, [], "JavaScript errors on the page")

    # -- helpers -----------------------------------------------------------

    def open(self, name="page.html", widget="#editable"):
        self.goto(name, widget)
        return self.page.locator(widget)

    def goto(self, name, widget="#editable"):
        """Open a test page: wait for the widget's first load, not for ``load``."""
        self.page.goto(f"{self.server.url}/{name}", wait_until="commit")
        expect(self.page.locator(f"{widget} [data-date]").first).to_be_visible(
            timeout=NAVIGATION_TIMEOUT_MS
        )
        self.settle(widget)

    def settle(self, widget="#editable"):
        """Wait until the widget has no request in flight."""
        expect(self.page.locator(widget)).to_have_attribute("aria-busy", "false")

    def day(self, date, widget="#editable"):
        return self.page.locator(f'{widget} [data-date="{date}"]')

    def saves(self):
        with self.server.lock:
            return [call["form"] for call in self.server.calls]

    def stored(self, pk="12"):
        with self.server.lock:
            return dict(self.server.days[pk])

    def expected_form(self, start, end, kind, pk="12"):
        return {
            "hebPk": pk,
            "start": start,
            "end": end,
            "type": kind,
            "_authenticator": AUTHENTICATOR,
        }

    def click_and_save(self, *dates, widget="#editable"):
        """Click the days in order; the last click must send the POST."""
        for date in dates[:-1]:
            self.day(date, widget).click()
        with self.page.expect_response(lambda r: r.url.endswith("/save")):
            self.day(dates[-1], widget).click()
        self.settle(widget)

    def focused_date(self):
        return self.page.evaluate("document.activeElement.dataset.date || null")

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
        self.open()
        self.server.fail_next = (500, "<html>Internal Server Error</html>", "text/html")
        self.click_and_save("2027-03-12", "2027-03-13")
        expect(self.page.locator("#editable .gites-calendar-message")).to_have_text(
            "L'enregistrement a échoué. Veuillez réessayer."
        )
        expect(self.day("2027-03-12")).not_to_have_class(has_class("is-loue"))

    def test_html_200_is_not_a_success(self):
        # A login form reached through a redirect answers 200 with HTML.
        self.open()
        self.server.fail_next = (200, "<html><form>login</form></html>", "text/html")
        self.click_and_save("2027-03-12", "2027-03-13")
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
