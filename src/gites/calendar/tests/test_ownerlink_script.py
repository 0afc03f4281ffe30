"""gitesCalendarOwnerLink: the ops writer of the owner links."""

from gites.calendar.db import session as db
from gites.calendar.domain.owners import linked_pro_pk
from gites.calendar.scripts import owner_link
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import add_proprio
from gites.calendar.testing.ops_scripts import run_ops_script


@on_both_databases(db_layers())
class TestOwnerLinkScript(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            add_proprio(session, 10, nom="Dupont", prenom="Marie")

    def run_script(self, *args):
        return run_ops_script(self, owner_link.main, args)

    def link(self, member_id):
        with db.session_scope() as session:
            return linked_pro_pk(session, member_id)

    def test_set_list_remove(self):
        code, lines, _ = self.run_script("set", "marie", "10")
        self.assertEqual((code, lines), (0, ["marie is the owner of proprio 10"]))
        self.assertEqual(self.link("marie"), 10)
        code, lines, _ = self.run_script("list")
        self.assertEqual(code, 0)
        self.assertEqual(lines[0].split("\t")[:3], ["marie", "10", "Marie Dupont"])
        self.assertTrue(lines[0].split("\t")[3].startswith("gitesCalendarOwnerLink ("))
        self.assertEqual(self.run_script("remove", "marie")[0], 0)
        self.assertIsNone(self.link("marie"))
        code, _, err = self.run_script("remove", "marie")
        self.assertEqual(code, 1)
        self.assertIn("marie has no link", err)

    def test_unknown_proprio_refused(self):
        code, _, err = self.run_script("set", "marie", "11")
        self.assertEqual(code, 2)
        self.assertIn("no proprio 11", err)
        self.assertIsNone(self.link("marie"))

    def test_member_id_printed_on_one_line(self):
        self.assertEqual(
            self.run_script("set", "evil\nforged", "10")[1],
            ["evil\\nforged is the owner of proprio 10"],
        )
