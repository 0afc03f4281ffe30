"""Install and uninstall of the add-on (GenericSetup profiles)."""

import unittest

from plone import api
from plone.app.testing import TEST_USER_ID, setRoles
from plone.browserlayer import utils as layer_utils
from plone.portlets.interfaces import IPortletAssignmentMapping, IPortletManager
from zope.component import getMultiAdapter, getUtility

from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar
from gites.calendar.testing.plone import GITES_CALENDAR_INTEGRATION_TESTING


def left_column(context):
    manager = getUtility(IPortletManager, name="plone.leftcolumn", context=context)
    return getMultiAdapter((context, manager), IPortletAssignmentMapping)


class TestInstall(unittest.TestCase):
    layer = GITES_CALENDAR_INTEGRATION_TESTING

    def setUp(self):
        self.portal = self.layer["portal"]

    def test_product_installed(self):
        from plone.base.utils import get_installer

        installer = get_installer(self.portal, self.layer["request"])
        self.assertTrue(installer.is_product_installed("gites.calendar"))

    def test_profile_version(self):
        setup = api.portal.get_tool("portal_setup")
        self.assertEqual(setup.getLastVersionForProfile("gites.calendar:default"), ("1001",))

    def test_browserlayer(self):
        self.assertIn(IGitesCalendarLayer, layer_utils.registered_layers())

    def test_no_member_property_pk(self):
        # The owner link is not member data (docs/design.rst).
        memberdata = api.portal.get_tool("portal_memberdata")
        self.assertFalse(memberdata.hasProperty("pk"))

    def test_owner_links_control_panel(self):
        configlets = {
            c["id"]: c
            for c in api.portal.get_tool("portal_controlpanel").enumConfiglets("Products")
        }
        self.assertIn("gites-calendar-owner-links", configlets)

    def test_owner_links_permission_roles(self):
        roles = {
            r["name"]
            for r in self.portal.rolesOfPermission("gites.calendar: Manage owner links")
            if r["selected"]
        }
        self.assertEqual(roles, {"Manager", "Site Administrator"})

    def test_calendar_folder(self):
        calendar = self.portal["zone-membre"]["calendrier"]
        self.assertTrue(IProprioCalendar.providedBy(calendar))
        self.assertEqual(sorted(calendar.objectIds()), ["aide", "transfert"])
        self.assertEqual(api.content.get_state(calendar["aide"]), "published")

    def test_portlet_assigned(self):
        self.assertIn("gites-calendar-menu", left_column(self.portal["zone-membre"]))


class TestUninstall(unittest.TestCase):
    layer = GITES_CALENDAR_INTEGRATION_TESTING

    def setUp(self):
        from plone.base.utils import get_installer

        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        self.installer = get_installer(self.portal, self.layer["request"])
        self.installer.uninstall_product("gites.calendar")

    def test_product_uninstalled(self):
        self.assertFalse(self.installer.is_product_installed("gites.calendar"))

    def test_browserlayer_removed(self):
        self.assertNotIn(IGitesCalendarLayer, layer_utils.registered_layers())

    def test_member_property_removed(self):
        self.assertFalse(api.portal.get_tool("portal_memberdata").hasProperty("pk"))

    def test_owner_links_permission_reset(self):
        roles = {
            r["name"]
            for r in self.portal.rolesOfPermission("gites.calendar: Manage owner links")
            if r["selected"]
        }
        # The grant to Site Administrator, the install's doing, is undone.
        self.assertNotIn("Site Administrator", roles)

    def test_control_panel_removed(self):
        ids = [
            c["id"] for c in api.portal.get_tool("portal_controlpanel").enumConfiglets("Products")
        ]
        self.assertNotIn("gites-calendar-owner-links", ids)

    def test_calendar_folder_and_portlet_removed(self):
        zone = self.portal["zone-membre"]
        self.assertNotIn("calendrier", zone)
        self.assertNotIn("gites-calendar-menu", left_column(zone))

    def test_reinstall(self):
        self.installer.install_product("gites.calendar")
        self.assertTrue(IProprioCalendar.providedBy(self.portal["zone-membre"]["calendrier"]))
