"""Real-browser tests: a Plone test server over HTTP and headless Chromium.

* :data:`GITES_WSGI_SERVER_FIXTURE` -- plone.testing's WSGI server on
  127.0.0.1 and a port the system picks at bind time (port 0), so parallel
  runs never collide, whatever ``ZSERVER_PORT`` says.  ``GITES_TEST_HTTP_PORT``
  pins a port when one must be known in advance (debugging with a browser).
* :data:`CHROMIUM` -- Playwright (sync API) driving Debian's Chromium
  (``GITES_CHROMIUM``, default ``/usr/bin/chromium``); ``playwright install``
  is never needed.  The one browser of every real-browser test (Plone pages
  and the widget's own pages): started once, a fresh context per test.
* :data:`GITES_CALENDAR_BROWSER_TESTING` -- the add-on's Plone site on a
  SQLite file database, served over HTTP, with Chromium.

Chromium or Playwright missing makes the tests skip with the reason, except
under ``CI=true``, where the layer fails: CI never passes by skipping (a
:class:`gites.calendar.testing.services.ServiceLayer`, as the databases and RabbitMQ).

On a busy machine a page's ``load`` event can come very late (it waits for
every image, font and script of Plone's theme), so the tests never wait for
it: a navigation waits only for the response to begin (``commit``), then for
what the test needs -- an element, a cookie, ``aria-busy="false"``.
"""

import os
import pathlib
import time
import unittest

from plone import api
from plone.app.testing import FunctionalTesting
from plone.testing.zope import STARTUP, WSGIServer
import transaction
from webtest.http import StopableWSGIServer

import gites.calendar
from gites.calendar.testing import GITES_CALENDAR_FIXTURE
from gites.calendar.testing.db import SQLITE_DB
from gites.calendar.testing.services import ServiceLayer, ServiceUnavailable, require_layer

CHROMIUM_PATH = os.environ.get("GITES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Clicks and assertions: generous, a loaded two-core machine is slow to paint.
TIMEOUT_MS = int(os.environ.get("GITES_BROWSER_TIMEOUT_MS", "20000"))
# The first Plone page a fresh server renders compiles its templates: slow.
NAVIGATION_TIMEOUT_MS = int(os.environ.get("GITES_BROWSER_NAVIGATION_TIMEOUT_MS", "90000"))
HOST = "127.0.0.1"
# A Plone page loads its CSS, scripts, icons and the widget's JSON at once:
# with waitress's default 4 threads they queue behind one another on a busy
# machine, and a slow page looks like a hung one.
SERVER_THREADS = 12
# axe-core, installed by `make test` (npm ci, package-lock.json at the top).
# (From the package, not from this file: the path holds wherever the testing modules live.)
TOP = pathlib.Path(gites.calendar.__file__).resolve().parents[3]
AXE_JS = TOP / "node_modules" / "axe-core" / "axe.min.js"


class GitesWSGIServer(WSGIServer):
    """plone.testing's WSGI server on 127.0.0.1 and a free port.

    Zope's start-up configures the database from ``GITES_DB_URL`` (as in
    production): the server is started with the URL of the test database.
    """

    defaultBases = (SQLITE_DB, STARTUP)
    host = HOST
    port = int(os.environ.get("GITES_TEST_HTTP_PORT", "0"))

    def setUpServer(self):
        if self["db_unavailable"]:
            raise RuntimeError(self["db_unavailable"])
        saved = os.environ.get("GITES_DB_URL")
        os.environ["GITES_DB_URL"] = self["db_url"]
        try:
            app = self.make_wsgi_app()
        finally:
            if saved is None:
                del os.environ["GITES_DB_URL"]
            else:
                os.environ["GITES_DB_URL"] = saved
        # As plone.testing does, with more threads; and the address that is
        # bound, not "localhost", which may resolve to ::1 where nothing listens.
        self.server = StopableWSGIServer.create(
            app,
            host=HOST,
            port=self.port,
            threads=SERVER_THREADS,
            clear_untrusted_proxy_headers=False,
        )
        self["host"] = self.host = HOST
        self["port"] = self.port = int(self.server.effective_port)


GITES_WSGI_SERVER_FIXTURE = GitesWSGIServer(name="gites.calendar:WSGIServer")


class ChromiumLayer(ServiceLayer):
    """One headless Chromium for the layer (resources: ``browser``)."""

    service = "chromium"

    def start_service(self):
        reason = self.unavailable()
        if reason is not None:
            raise ServiceUnavailable(reason)
        try:
            self._start()
        except Exception as error:
            raise ServiceUnavailable(
                f"Chromium did not start: {str(error).splitlines()[0]}"
            ) from None

    def unavailable(self):
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "the playwright package is not installed"
        if not os.access(CHROMIUM_PATH, os.X_OK):
            return f"no Chromium at {CHROMIUM_PATH} (apt-get install chromium)"
        return None

    def _start(self):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self["browser"] = self._playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
        except Exception:
            self._playwright.stop()
            raise

    def stop_service(self):
        self["browser"].close()
        self._playwright.stop()
        del self["browser"]


CHROMIUM = ChromiumLayer(name="gites.calendar:Chromium")

GITES_CALENDAR_BROWSER_TESTING = FunctionalTesting(
    bases=(GITES_CALENDAR_FIXTURE, GITES_WSGI_SERVER_FIXTURE, CHROMIUM),
    name="GitesCalendar:Browser:SQLite",
)


def new_context(browser, width, locale):
    """A context of ``browser`` with the tests' timeouts: the short one for
    clicks and assertions, the long one for navigations."""
    context = browser.new_context(viewport={"width": width, "height": 1000}, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


def page_and_errors(context):
    """A new page of ``context``, and the list its JavaScript errors go to
    (a test asserts it empty at its end)."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


class BrowserTestCase(unittest.TestCase):
    """A fresh browser context and page per test; JavaScript errors fail it.

    ``self.url(path)`` is the server URL of a path in the Plone site.
    """

    layer = GITES_CALENDAR_BROWSER_TESTING
    locale = "fr-BE"

    def setUp(self):
        require_layer(self)
        from playwright.sync_api import expect

        expect.set_options(timeout=TIMEOUT_MS)
        self.portal = self.layer["portal"]
        # plone.app.theming leaves 127.0.0.1 unthemed by default: the pages
        # are tested as owners see them, with the Barceloneta theme.
        api.portal.set_registry_record(
            "plone.app.theming.interfaces.IThemeSettings.hostnameBlacklist", []
        )
        transaction.commit()
        self.server_url = f"http://{self.layer['host']}:{self.layer['port']}"
        self.context = new_context(self.layer["browser"], 1200, self.locale)
        self.page, self.js_errors = page_and_errors(self.context)

    def tearDown(self):
        self.context.close()
        self.assertEqual(self.js_errors, [], "JavaScript errors on the page")

    def url(self, path=""):
        return f"{self.server_url}/{self.portal.getId()}/{path}".rstrip("/")

    def goto(self, path, ready):
        """Open ``path`` of the site; wait for the selector ``ready``, not for ``load``."""
        self.page.goto(self.url(path), wait_until="commit")
        return self.wait_ready(ready)

    def reload(self, ready):
        self.page.reload(wait_until="commit")
        return self.wait_ready(ready)

    def wait_ready(self, ready):
        """The first element matching ``ready``, once visible (a page that
        renders Plone's templates for the first time is slow: the navigation
        timeout, not the short one)."""
        from playwright.sync_api import expect

        locator = self.page.locator(ready).first
        expect(locator).to_be_visible(timeout=NAVIGATION_TIMEOUT_MS)
        return locator

    def login(self, login, password):
        """Log in through Plone's real login form.

        Done when the browser holds the ``__ac`` cookie and a page rendered
        for the member (``body.userrole-authenticated``) is shown: what the
        next steps need, not the page's ``load`` event.
        """
        from playwright.sync_api import expect

        page = self.page
        # Plone's scripts set up the form's patterns and may redraw its
        # fields, losing what was typed: type once they are done.
        self.goto("login", "body.patterns-loaded #__ac_name")
        page.fill("#__ac_name", login)
        page.fill("#__ac_password", password)
        expect(page.locator("#__ac_name")).to_have_value(login)
        expect(page.locator("#__ac_password")).to_have_value(password)
        page.click("#buttons-login")
        expect(page.locator("body.userrole-authenticated")).to_have_count(
            1, timeout=NAVIGATION_TIMEOUT_MS
        )
        # The page was rendered for the member, so the cookie came with it;
        # polled all the same, the store is read through another channel.
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while "__ac" not in {c["name"] for c in self.context.cookies()}:
            if time.monotonic() > deadline:
                self.fail("the login form did not log in (no __ac cookie)")
            page.wait_for_timeout(100)  # a poll step, lets Playwright dispatch events

    def settle(self, widget=".gites-calendar", timeout=None):
        """Wait until the widget has loaded and has no request in flight."""
        from playwright.sync_api import expect

        expect(self.page.locator(widget).first).to_have_attribute(
            "aria-busy", "false", timeout=timeout or NAVIGATION_TIMEOUT_MS
        )
