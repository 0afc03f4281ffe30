"""Owner pages in Chromium, on the demo site's data (test_browser_a11y,
test_browser_layout)."""

import datetime

from gites.calendar.testing.browser import BrowserTestCase
from gites.calendar.testing.fixtures import demo_site

DEMO_NOW = datetime.datetime(2031, 5, 12, 10, 0)  # a Monday


class DemoSiteBrowserTestCase(BrowserTestCase):
    """The demo site's data and members, the server's day frozen on DEMO_NOW."""

    def setUp(self):
        super().setUp()
        demo_site(self, DEMO_NOW)

    def day(self, date, scope=".gites-calendar"):
        return self.page.locator(f'{scope} [data-date="{date}"]')
