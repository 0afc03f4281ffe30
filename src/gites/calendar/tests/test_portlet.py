"""The calendar-menu portlet in its three states (docs/owner-pages.rst).

Active: a link per cottage, the monthly view, the configuration, the help.
``non actif``: no cottage links.  ``bloque``: the configuration link is
replaced by the "contact us" notice.  Not an owner, or no cottages: hidden.
"""

from plone import api
from plone.app.testing import login, logout
from plone.portlets.interfaces import IPortletManager, IPortletRenderer
from sqlalchemy import update
from zope.component import getMultiAdapter, getUtility

from gites.calendar.db.models import BLOQUE, NON_ACTIF, Hebergement
from gites.calendar.portlets.calendarmenu import Assignment
from gites.calendar.testing import integration_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    HIDDEN_HEB,
    NOPK,
    OTHER_HEB,
    OWNER,
    OWNER_PK,
    PLAIN_HEB,
    OwnerIntegrationTestCase,
)

BLOCKED_TEXT = "Votre calendrier est bloqué. Veuillez contacter les Gîtes de Wallonie."


@on_both_databases(integration_layers())
class TestCalendarMenuPortlet(OwnerIntegrationTestCase):
    def setUp(self):
        super().setUp()
        self.zone = self.portal["zone-membre"]

    def renderer(self):
        manager = getUtility(IPortletManager, name="plone.leftcolumn", context=self.zone)
        view = self.zone.restrictedTraverse("@@plone")
        renderer = getMultiAdapter(
            (self.zone, self.request, view, manager, Assignment()), IPortletRenderer
        )
        renderer.update()
        return renderer

    def set_state(self, state):
        self.session.execute(
            update(Hebergement)
            .where(Hebergement.heb_pro_fk == OWNER_PK)
            .values(heb_calendrier_proprio=state)
        )

    def test_active_calendar_shows_every_link(self):
        login(self.portal, OWNER)
        renderer = self.renderer()
        self.assertTrue(renderer.available)
        html = renderer.render()
        self.assertIn(f"month.html?pk={CGT_HEB}", html)
        self.assertIn(f"month.html?pk={PLAIN_HEB}", html)
        self.assertNotIn(f"month.html?pk={HIDDEN_HEB}", html)  # not public
        self.assertNotIn(f"month.html?pk={OTHER_HEB}", html)  # someone else's
        for link in ("multical.html", "calendrier/configuration", "calendrier/aide"):
            self.assertIn(link, html)
        self.assertNotIn(BLOCKED_TEXT, html)

    def test_non_actif_hides_the_cottage_links(self):
        self.set_state(NON_ACTIF)
        login(self.portal, OWNER)
        html = self.renderer().render()
        self.assertNotIn("month.html?pk=", html)
        self.assertNotIn("multical.html", html)
        self.assertIn("calendrier/configuration", html)
        self.assertIn("calendrier/aide", html)

    def test_bloque_replaces_configuration_by_the_notice(self):
        self.set_state(BLOQUE)
        login(self.portal, OWNER)
        html = self.renderer().render()
        self.assertNotIn("calendrier/configuration", html)
        self.assertIn(BLOCKED_TEXT, html)
        self.assertIn(f"month.html?pk={CGT_HEB}", html)

    def test_hidden_for_anonymous_and_members_without_cottages(self):
        logout()
        self.assertFalse(self.renderer().available)
        login(self.portal, NOPK)
        self.assertFalse(self.renderer().available)
        self.assertIsNotNone(api.user.get(username=NOPK))
