"""axe-core on the owner pages and the public iframes, in headless Chromium.

axe-core 4 (``node_modules/axe-core``, pinned by package-lock.json and
installed by ``make test``) is injected with ``page.add_script_tag`` and run
at the WCAG 2.0 / 2.1 A and AA tags on ``month.html``, ``multical.html``,
``configuration``, ``extern-calendar`` and ``extern-monthly-calendar``: at
rest and in the states only clicks reach (a first day picked, a save in
flight, saved, a server error shown, past days, a blocked calendar).  Not
one violation is allowed in the project's markup.  Plone's own theme has a
few; they are left out by :data:`PLONE_THEME_SELECTORS` (an axe ``exclude``
context, no rule is ever disabled), and a test checks that none of those
selectors reaches into the project's templates.

The server's day is frozen on Monday 2031-05-12, as in test_browser_e2e.
"""

import datetime
import json
import re

from sqlalchemy import update

from gites.calendar.db import session as db
from gites.calendar.db.models import ACTIF, BLOQUE, Hebergement
from gites.calendar.testing.browser import AXE_JS
from gites.calendar.testing.demo_pages import DEMO_NOW as NOW
from gites.calendar.testing.demo_pages import DemoSiteBrowserTestCase
from gites.calendar.testing.fixtures import add_legacy_days

HEB_PK = 1  # proprio 1 ("proprio") owns cottages 1 and 2
PRO_PK = 1
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CALENDAR = "zone-membre/calendrier"

# Plone's theme (Barceloneta), not ours: what axe finds there is left to
# Plone.  Each entry is excluded from the axe context (every rule still runs
# everywhere else), and test_theme_selectors_stay_outside_our_templates
# proves that each one matches on the owner pages and that none reaches into
# the project's templates.  Only what axe really reports is here.
PLONE_THEME_SELECTORS = [
    # The header's search form: white "Rechercher" on the light-blue bar
    # (color-contrast).
    "#portal-searchbox",
    # The breadcrumbs: Barceloneta's link blue on its grey bar (color-contrast).
    "#portal-breadcrumbs",
    # The site footer: copyright, "Powered by Plone" and site-action links
    # on the dark footer (color-contrast).
    "#portal-footer-wrapper",
    # plone.app.toolbar's "Détacher" / "Épingler" links, shown to members:
    # aria-label on an <a> without href nor role (aria-prohibited-attr).
    "#edit-zone .toolbar-collapse",
    "#edit-zone .toolbar-expand",
]
# The project's markup on the pages checked: nothing excluded may hold or
# sit inside any of it.  The portlet is ours too (calendarmenu.pt).
OUR_MARKUP = [
    "#content",
    ".portletCalendarMenu",
    "[class*='gites-calendar']",
    "[class*='gites-multical']",
]


def has_word(name):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def set_calendar_state(state, pro_pk=PRO_PK):
    with db.session_scope() as session:
        session.execute(
            update(Hebergement)
            .where(Hebergement.heb_pro_fk == pro_pk)
            .values(heb_calendrier_proprio=state)
        )


class OwnerPagesTestCase(DemoSiteBrowserTestCase):
    """The demo data, its members logged in through the real form; helpers."""

    def setUp(self):
        super().setUp()
        self.held = []  # requests kept waiting by hold()

    # -- axe ---------------------------------------------------------------

    def axe(self, state):
        """Run axe on the page as it is now; fail with what it found."""
        if not AXE_JS.is_file():
            self.fail(f"{AXE_JS} is missing: `make test` installs it (npm ci)")
        if not self.page.evaluate("() => Boolean(window.axe)"):
            self.page.add_script_tag(path=str(AXE_JS))
        violations = self.page.evaluate(
            """async ([exclude, tags]) => {
                // Colours mid-transition (120 ms) are no state anybody reads.
                // (A looping one never finishes; a cancelled one rejects.)
                const running = document.getAnimations().filter(
                    (a) => a.effect && a.effect.getTiming().iterations !== Infinity);
                await Promise.all(running.map((a) => a.finished.catch(() => null)));
                const present = exclude.filter((s) => document.querySelector(s));
                const context = {include: [document], exclude: present};
                const result = await axe.run(context, {
                    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']
                });
                return result.violations.map((v) => ({
                    id: v.id, help: v.help,
                    nodes: v.nodes.map((n) => [n.target.join(' '), n.html.slice(0, 160),
                                              n.failureSummary])
                }));
            }""",
            [PLONE_THEME_SELECTORS, WCAG_TAGS],
        )
        found = json.dumps(violations, indent=1, ensure_ascii=False)
        self.assertEqual(violations, [], f"axe on {state}:\n{found}")

    # -- page helpers --------------------------------------------------------

    def status(self, scope=".gites-calendar"):
        return self.page.locator(f"{scope} .gites-calendar-status").first

    def hold(self):
        """Keep every addRange request waiting until release()."""
        self.page.route("**/addRange", lambda route: self.held.append(route))

    def release(self):
        from playwright.sync_api import expect

        widget = self.page.locator(".gites-calendar[aria-busy='true']").first
        expect(widget).to_have_count(1)
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=30)
        while not self.held:  # the route handler runs as Playwright dispatches events
            self.assertLess(datetime.datetime.now(), deadline, "addRange never sent")
            self.page.wait_for_timeout(50)
        for route in self.held:
            route.continue_()
        self.held = []
        self.page.unroute("**/addRange")

    def block_and_reload(self):
        """Block the owner's calendar and show the page again."""
        set_calendar_state(BLOQUE)
        self.reload(".gites-calendar [data-date]")
        self.settle()

    def fail_saves(self):
        self.page.route(
            "**/addRange",
            lambda route: route.fulfill(
                status=500, content_type="text/html", body="<html><p>Internal error</p></html>"
            ),
        )

    def editable_states(self, page_name, scope, first, last):
        """axe at rest, a first day picked, a save in flight, saved, a server error."""
        from playwright.sync_api import expect

        self.settle(scope)
        self.axe(f"{page_name} at rest (with past days)")

        self.day(first, scope).click()
        expect(self.day(first, scope)).to_have_class(has_word("is-anchor"))
        expect(self.status(scope)).to_contain_text("Choisissez le dernier jour.")
        self.axe(f"{page_name}, first day picked")

        self.hold()
        self.day(last, scope).click()
        expect(self.page.locator(scope).first).to_have_attribute("aria-busy", "true")
        self.axe(f"{page_name}, save in flight")
        self.release()
        self.settle(scope)
        expect(self.status(scope)).to_contain_text("Enregistré")
        self.axe(f"{page_name}, saved")

        self.fail_saves()
        self.day(first, scope).click()
        self.day(first, scope).click()
        self.settle(scope)
        message = self.page.locator(f"{scope} .gites-calendar-message").first
        expect(message).to_have_text("L'enregistrement a échoué. Veuillez réessayer.")
        self.axe(f"{page_name}, server error shown")
        self.page.unroute("**/addRange")


class AxeTestCase(OwnerPagesTestCase):
    """Zero axe violations outside Plone's theme, at rest and after clicks."""

    # -- owner pages -----------------------------------------------------------

    def test_month_html(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        self.goto(f"{CALENDAR}/month.html?pk={HEB_PK}", ".gites-calendar [data-date]")
        self.editable_states("month.html", ".gites-calendar", "2031-05-14", "2031-05-16")

        # Past days: a whole past month, and a click on a past day explained.
        widget = self.page.locator(".gites-calendar")
        widget.get_by_role("button", name="Mois précédent").click()
        past = self.day("2031-04-15")
        expect(past).to_have_attribute("aria-disabled", "true")
        past.click(force=True)  # aria-disabled: Playwright would refuse it
        self.page.keyboard.press("Enter")
        expect(self.status()).to_have_text("Les jours passés ne peuvent pas être modifiés.")
        self.axe("month.html, past month, past day picked")

        self.block_and_reload()
        expect(self.page.locator(".portlet-blocked")).to_be_visible()
        self.axe("month.html, blocked calendar")

    def test_multical_html(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        self.goto(f"{CALENDAR}/multical.html", ".gites-calendar [data-date]")
        row = f'.gites-calendar[data-heb-pk="{HEB_PK}"]'
        self.settle(".gites-calendar >> nth=1")
        self.editable_states("multical.html", row, "2031-05-20", "2031-05-22")

        self.page.locator(".gites-multical-prev").click()
        self.wait_ready(".gites-calendar [data-date='2031-04-15']")
        self.settle()
        self.axe("multical.html, a past month")

        self.block_and_reload()
        expect(self.page.locator(".portlet-blocked")).to_be_visible()
        self.axe("multical.html, blocked calendar")

    def test_configuration(self):
        from playwright.sync_api import expect

        self.login("proprio", "proprio")
        form = self.goto(f"{CALENDAR}/configuration", "#content form")
        self.axe("configuration at rest")

        form.get_by_role("radio").last.check()
        form.get_by_role("button", name="Enregistrer").click()
        self.wait_ready("text=Votre configuration a été enregistrée.")
        self.axe("configuration, saved")

        set_calendar_state(BLOQUE)
        self.reload("text=Votre calendrier est bloqué")
        expect(self.page.get_by_role("button", name="Enregistrer")).to_have_count(0)
        self.axe("configuration, blocked calendar")
        set_calendar_state(ACTIF)

    # -- public iframes --------------------------------------------------------

    def test_extern_calendar(self):
        from playwright.sync_api import expect

        add_legacy_days(HEB_PK, (("2031-05-02", "loue"), ("2031-05-13", "indisp")), NOW)
        self.goto(f"extern-calendar?pk={HEB_PK}", ".gites-calendar [data-date]")
        self.settle()
        expect(self.day("2031-05-13")).to_have_class(has_word("is-busy"))
        self.axe("extern-calendar at rest (with past days)")

        widget = self.page.locator(".gites-calendar")
        widget.get_by_role("button", name="Mois suivant").click()
        self.settle()
        self.axe("extern-calendar, next month")
        widget.get_by_role("button", name="Mois précédent").click()
        widget.get_by_role("button", name="Mois précédent").click()
        self.settle()
        expect(self.day("2031-04-15")).to_have_attribute("aria-disabled", "true")
        self.axe("extern-calendar, a past month")

        set_calendar_state(BLOQUE)
        # Another URL: the browser keeps the public page for 5 minutes.
        self.goto(f"extern-calendar?pk={HEB_PK}&months=2", ".gites-calendar-none")
        self.axe("extern-calendar of a blocked calendar")

    def test_extern_monthly_calendar(self):
        self.goto(f"extern-monthly-calendar?pk={PRO_PK}", ".gites-calendar [data-date]")
        self.settle(".gites-calendar >> nth=0")
        self.settle(".gites-calendar >> nth=1")
        self.axe("extern-monthly-calendar at rest (with past days)")

        first_row = self.page.locator(".gites-calendar").first
        first_row.get_by_role("button", name="Mois suivant").click()
        self.settle()
        self.axe("extern-monthly-calendar, next month in a row")

        set_calendar_state(BLOQUE)
        # Another URL: the browser keeps the public page for 5 minutes.
        self.goto(f"extern-monthly-calendar?pk={PRO_PK}&month=2031-05", ".gites-calendar-none")
        self.axe("extern-monthly-calendar of a blocked calendar")

    # -- the exclusions themselves -----------------------------------------

    def test_theme_selectors_stay_outside_our_templates(self):
        """Each excluded selector matches Plone's theme on an owner page, and
        none of its elements holds, or sits inside, the project's markup."""
        self.login("proprio", "proprio")
        matched = set()
        for path, ready in (
            (f"{CALENDAR}/month.html?pk={HEB_PK}", ".gites-calendar [data-date]"),
            (f"{CALENDAR}/multical.html", ".gites-calendar [data-date]"),
            (f"{CALENDAR}/configuration", "#content form"),
        ):
            self.goto(path, ready)
            # The markup guarded against is on the page (else the check is void).
            for mine in ("#content", ".portletCalendarMenu"):
                self.assertEqual(self.page.locator(mine).count(), 1, f"{mine} on {path}")
            report = self.page.evaluate(
                """([excluded, ours]) => excluded.map((selector) => {
                    const nodes = [...document.querySelectorAll(selector)];
                    const clashes = [];
                    for (const node of nodes) {
                        for (const mine of ours) {
                            if (node.matches(mine) || node.querySelector(mine)
                                || node.closest(mine)) clashes.push(mine);
                        }
                    }
                    return {selector, count: nodes.length, clashes};
                })""",
                [PLONE_THEME_SELECTORS, OUR_MARKUP],
            )
            for entry in report:
                self.assertEqual(entry["clashes"], [], f"{entry['selector']} on {path}")
                if entry["count"]:
                    matched.add(entry["selector"])
        # A selector that matches nothing excludes nothing: keep the list true.
        self.assertEqual(sorted(matched), sorted(PLONE_THEME_SELECTORS))
