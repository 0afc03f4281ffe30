"""The widget in Chromium, on the mock server: the WIDGET_BROWSER layer and
its test case (test_widget_browser, test_widget_browser_pages).

The layer's id holds this module's path: define it here only, and import it
from here.
"""

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
    """A fresh page per test, on the layer's server and browser: the helpers
    of the widget tests, which subclass it."""

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
