"""Upgrade step 1000 → 1001: the legacy ``pk`` property becomes owner links."""

from unittest import mock

from plone import api
from plone.app.testing import TEST_USER_ID, setRoles

from gites.calendar.db import session as db
from gites.calendar.db.models import OwnerLink
from gites.calendar.domain.owners import linked_pro_pk
from gites.calendar.testing import DatabaseTestCase, integration_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import add_proprio, link_member
from gites.calendar.upgrades import to1001

PROFILE = "gites.calendar:default"
PASSWORD = "a-long-test-password-1"
# member: legacy pk as the member set it (or as ops did)
LEGACY = {
    "alice": "10",
    "bob": " 20 ",
    "eve": "10",  # a second member claiming proprio 10
    "carol": "abc",  # not a number
    "dave": "999",  # no such proprio
    "frank": "10",  # already linked to 20 in the control panel
    "zoe": "",  # no pk
}


@on_both_databases(integration_layers())
class TestUpgradeTo1001(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.portal = self.layer["portal"]
        setRoles(self.portal, TEST_USER_ID, ["Manager"])
        self.session = db.get_session()
        add_proprio(self.session, 10)
        add_proprio(self.session, 20)
        self.session.flush()
        # A site as profile 1000 left it: the member property, filled in.
        memberdata = api.portal.get_tool("portal_memberdata")
        memberdata.manage_addProperty("pk", "", "string")
        for member_id, pk in LEGACY.items():
            api.user.create(email=f"{member_id}@example.org", username=member_id, password=PASSWORD)
            api.user.get(username=member_id).setMemberProperties({"pk": pk})
        link_member(self.session, "frank", 20)
        self.setup_tool = api.portal.get_tool("portal_setup")
        self.setup_tool.setLastVersionForProfile(PROFILE, "1000")

    def test_step_is_registered(self):
        steps = self.setup_tool.listUpgrades(PROFILE)
        # The copy, and the import of the control panel and its permission.
        self.assertEqual({(s["ssource"], s["sdest"]) for s in steps}, {("1000", "1001")})
        self.assertEqual(len(steps), 2)

    def upgrade(self):
        with self.assertLogs("gites.calendar", level="INFO") as logs:
            self.setup_tool.upgradeProfile(PROFILE)
        return "\n".join(logs.output)

    def test_links_copied(self):
        log = self.upgrade()
        self.assertEqual(self.setup_tool.getLastVersionForProfile(PROFILE), ("1001",))
        links = {m: linked_pro_pk(self.session, m) for m in LEGACY}
        self.assertEqual(
            links,
            {
                "alice": 10,
                "bob": 20,
                "eve": 10,
                "carol": None,
                "dave": None,
                "frank": 20,
                "zoe": None,
            },
        )
        self.assertEqual(
            self.session.get(OwnerLink, "alice").set_by, "upgrade 1001 (member property pk)"
        )
        self.assertIn("member carol has pk abc, not a proprio: skipped", log)
        self.assertIn("member dave has pk 999, not a proprio: skipped", log)
        self.assertIn("member frank already linked, kept", log)
        self.assertIn("proprio 10 is claimed by 2 members (alice, eve)", log)
        self.assertIn("3 links copied", log)

    def test_property_and_its_values_are_gone(self):
        self.upgrade()
        self.assertFalse(api.portal.get_tool("portal_memberdata").hasProperty("pk"))
        storage = self.portal.acl_users.mutable_properties._storage
        self.assertFalse([m for m in LEGACY if "pk" in storage[m]])
        # Other properties are kept.
        self.assertEqual(api.user.get(username="alice").getProperty("email"), "alice@example.org")

    def test_running_again_changes_nothing(self):
        self.upgrade()
        link_member(self.session, "alice", 20)  # a Manager's later change
        self.setup_tool.setLastVersionForProfile(PROFILE, "1000")
        self.setup_tool.upgradeProfile(PROFILE)
        self.assertEqual(linked_pro_pk(self.session, "alice"), 20)

    def test_log_lines_stay_one_line(self):
        api.user.get(username="carol").setMemberProperties({"pk": "1\nINFO forged"})
        log = self.upgrade()
        self.assertIn("member carol has pk 1\\nINFO forged, not a proprio", log)

    def test_missing_table_stops_before_any_change(self):
        with (
            mock.patch.object(to1001, "has_owner_table", return_value=False),
            self.assertRaisesRegex(to1001.MissingTable, "run bin/initCalendarDatabase"),
        ):
            to1001.migrate(self.portal)
        self.assertTrue(api.portal.get_tool("portal_memberdata").hasProperty("pk"))
        self.assertEqual(api.user.get(username="alice").getProperty("pk"), "10")
