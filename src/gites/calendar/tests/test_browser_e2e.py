"""End to end, in headless Chromium against a running Plone test server.

The demo owner (member ``proprio``, property pk=1) logs in through the real
login form and edits the calendar of cottage 1 on ``month.html``: with the
mouse and with the keyboard only.  The database must then hold exactly the
days chosen; the public ``extern-calendar`` shows them as busy, read-only,
also framed by a page of another origin.

The server's day is frozen on Monday 2031-05-12 (``gites.calendar.clock``,
patched in the test process, which runs the server thread too), so the
dates are fixed whatever the real date.
"""

import datetime
import http.server
import re
import threading

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import Reservation
from gites.calendar.testing.browser import NAVIGATION_TIMEOUT_MS, BrowserTestCase
from gites.calendar.testing.fixtures import add_legacy_days, demo_site

NOW = datetime.datetime(2031, 5, 12, 10, 0)
TODAY = NOW.date()
HEB_PK = 1


def has_class(name):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


class OtherSite:
    """A one-page web site on another port: another origin than Plone's."""

    def __init__(self, html):
        body = html.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def stored_rows():
    """{day: type} of cottage 1 as the database holds it (a fresh session)."""
    with db.session_scope() as session:
        rows = session.execute(
            select(Reservation.res_date, Reservation.res_type, Reservation.pro_fk).where(
                Reservation.heb_fk == HEB_PK
            )
        ).all()
    return {res_date.date().isoformat(): (res_type, pro_fk) for res_date, res_type, pro_fk in rows}


class CalendarEndToEndTestCase(BrowserTestCase):
    def setUp(self):
        super().setUp()
        demo_site(self, NOW)  # in French, as create_site.py makes it: the widget speaks French

    # -- helpers -----------------------------------------------------------

    def day(self, date, scope=None):
        return (scope or self.page).locator(f'.gites-calendar [data-date="{date}"]')

    def focused_date(self):
        return self.page.evaluate("document.activeElement && document.activeElement.dataset.date")

    def expect_saved(self, action):
        """Run ``action``; wait for the addRange answer and the widget to settle."""
        with self.page.expect_response(
            lambda r: "/addRange" in r.url and r.request.method == "POST",
            timeout=NAVIGATION_TIMEOUT_MS,  # a Plone write on a busy machine
        ) as info:
            action()
        self.assertEqual(info.value.status, 200, info.value.text())
        self.settle()

    def open_month(self):
        self.goto(f"zone-membre/calendrier/month.html?pk={HEB_PK}", ".gites-calendar")
        self.settle()
        return self.page.locator(".gites-calendar")

    def tab_to(self, predicate, what, limit=40):
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if predicate():
                return
        self.fail(f"Tab never reached {what}")

    # -- tests -------------------------------------------------------------

    def test_owner_edits_with_mouse_and_keyboard(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        widget = self.open_month()
        expect(widget).to_have_attribute("data-today", TODAY.isoformat())

        # Three days "Indisponible" with the mouse: the type, a first and a last day.
        widget.get_by_role("button", name="Indisponible", exact=True).click()
        self.day("2031-05-14").click()
        self.expect_saved(lambda: self.day("2031-05-16").click())

        # Two days "Loué" with the keyboard only.
        self.page.evaluate("document.activeElement && document.activeElement.blur()")
        self.page.locator("body").focus()
        loue = widget.get_by_role("button", name="Loué", exact=True)
        self.tab_to(lambda: loue.evaluate("b => b === document.activeElement"), "the Loué button")
        self.page.keyboard.press("Enter")
        expect(loue).to_have_attribute("aria-pressed", "true")
        self.tab_to(lambda: bool(self.focused_date()), "the calendar grid")
        # The roving tab stop is the last day picked (or today).
        start = datetime.date.fromisoformat(self.focused_date())
        target = datetime.date(2031, 5, 20)
        key = "ArrowRight" if target >= start else "ArrowLeft"
        for _ in range(abs((target - start).days)):
            self.page.keyboard.press(key)
        self.assertEqual(self.focused_date(), "2031-05-20")
        self.page.keyboard.press("Enter")
        self.page.keyboard.press("ArrowRight")
        self.expect_saved(lambda: self.page.keyboard.press(" "))

        expected = {
            "2031-05-14": ("indisp", 1),
            "2031-05-15": ("indisp", 1),
            "2031-05-16": ("indisp", 1),
            "2031-05-20": ("loue", 1),
            "2031-05-21": ("loue", 1),
        }
        self.assertEqual(stored_rows(), expected)

        # After a reload the days come from the server, coloured by type.
        self.reload(".gites-calendar [data-date]")
        self.settle()
        for date, (kind, _pro) in expected.items():
            expect(self.day(date)).to_have_class(has_class(f"is-{kind}"))
        for date in ("2031-05-13", "2031-05-17", "2031-05-19", "2031-05-22"):
            expect(self.day(date)).not_to_have_class(has_class("is-loue"))
            expect(self.day(date)).not_to_have_class(has_class("is-indisp"))

        # The public page shows them busy, read-only, without their type.
        public = self.context.browser.new_context(locale="fr-BE")
        try:
            page = public.new_page()
            page.goto(self.url(f"extern-calendar?pk={HEB_PK}"), wait_until="commit")
            expect(page.locator(".gites-calendar")).to_have_attribute(
                "aria-busy", "false", timeout=NAVIGATION_TIMEOUT_MS
            )
            for date in expected:
                cell = page.locator(f'.gites-calendar [data-date="{date}"]')
                expect(cell).to_have_class(has_class("is-busy"))
                expect(cell).not_to_have_class(has_class("is-loue"))
                expect(cell).not_to_have_class(has_class("is-indisp"))
            expect(page.get_by_role("button", name="Loué", exact=True)).to_have_count(0)
        finally:
            public.close()

        # "Libre" over all of them removes every row.
        widget = self.page.locator(".gites-calendar")
        widget.get_by_role("button", name="Libre", exact=True).click()
        self.day("2031-05-14").click()
        self.expect_saved(lambda: self.day("2031-05-21").click())
        self.assertEqual(stored_rows(), {})
        self.reload(".gites-calendar [data-date]")
        self.settle()
        for date in expected:
            expect(self.day(date)).not_to_have_class(has_class("is-loue"))
            expect(self.day(date)).not_to_have_class(has_class("is-indisp"))

    def test_extern_calendar_in_a_frame_of_another_site(self):
        add_legacy_days(
            HEB_PK, (("2031-05-12", "loue"), ("2031-05-13", "indisp"), ("2031-04-30", "loue")), NOW
        )
        # A page of another origin (another port) frames the public calendar:
        # X-Frame-Options SAMEORIGIN would leave this frame empty.
        frame_url = self.url(f"extern-calendar?pk={HEB_PK}")
        with OtherSite(
            f'<!DOCTYPE html><title>Gîte</title><iframe src="{frame_url}"'
            ' width="900" height="600"></iframe>'
        ) as other_site:
            self.page.goto(other_site.url, wait_until="commit")
            self.check_framed_calendar()

    def check_framed_calendar(self):
        from playwright.sync_api import expect

        frame = self.page.frame_locator("iframe")
        expect(frame.locator(".gites-calendar")).to_have_attribute(
            "aria-busy", "false", timeout=NAVIGATION_TIMEOUT_MS
        )
        expect(frame.locator('[data-date="2031-05-12"]')).to_have_class(has_class("is-busy"))
        expect(frame.locator('[data-date="2031-05-13"]')).to_have_class(has_class("is-busy"))
        expect(frame.locator('[data-date="2031-05-14"]')).not_to_have_class(has_class("is-busy"))
        # Read-only: a click changes nothing and there is no type toolbar.
        frame.locator('[data-date="2031-05-14"]').click()
        expect(frame.locator('[data-date="2031-05-14"]')).not_to_have_class(has_class("is-busy"))
        expect(frame.get_by_role("button", name="Indisponible", exact=True)).to_have_count(0)

    def test_extern_calendar_of_a_hidden_cottage_is_neutral(self):
        from playwright.sync_api import expect

        response = self.page.goto(self.url("extern-calendar?pk=4242"), wait_until="commit")
        self.assertEqual(response.status, 200)
        self.wait_ready(".gites-calendar-none")
        expect(self.page.locator(".gites-calendar")).to_have_count(0)
