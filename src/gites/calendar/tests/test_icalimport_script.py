"""importIcalFeeds, the console script of the feed import (issue 13), on both
databases: add, list, run and remove feeds, one run at a time."""

import datetime
import pathlib

from gites.calendar.db import locks as db_locks
from gites.calendar.db import session as db
from gites.calendar.scripts.import_ical_feeds import main
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import run_console_script
from gites.calendar.testing.ical_feed_cases import ICAL_HEB as HEB
from gites.calendar.testing.ical_feed_cases import IcalImportCase

DATA = pathlib.Path(__file__).parent / "data"
NOW = datetime.datetime(2030, 6, 15, 10, 0)


@on_both_databases(db_layers())
class TestImportScript(IcalImportCase):
    def script(self, *args, now=NOW):
        env = {
            "GITES_DB_URL": self.layer["db_url"],
            "GITES_SITE_URL": "https://www.gitesdewallonie.be",
            "GITES_ICAL_ALLOWED_NETWORKS": "127.0.0.1/32",
        }
        try:
            return run_console_script(main, args, env, now)
        finally:
            db.get_engine().dispose()
            db.register_engine(self.layer["engine"])

    def test_script_add_list_run_remove(self):
        self.server.route("/airbnb.ics", (DATA / "airbnb.ics").read_bytes())
        status, out, _err = self.script(
            "add", "--heb", str(HEB), self.server.url("/airbnb.ics"), "--name", "Airbnb"
        )
        self.assertEqual(status, 0, out)
        feed_id = int(out.split("#")[1].split()[0])
        status, out, err = self.script("run")
        self.assertEqual(status, 0, err)
        self.assertIn("1 feeds: 1 read, 0 unchanged (304), 0 failed; 6 nights set", out)
        self.assertEqual(len(self.nights()), 6)
        # Not due again within 10 minutes; --heb runs now.
        status, out, _err = self.script("run", now=NOW + datetime.timedelta(minutes=5))
        self.assertIn("0 feeds", out)
        status, out, _err = self.script(
            "run", "--heb", str(HEB), now=NOW + datetime.timedelta(minutes=5)
        )
        self.assertIn("1 feeds", out)
        status, out, _err = self.script(
            "list", "--heb", str(HEB), now=NOW + datetime.timedelta(minutes=7)
        )
        self.assertIn(
            f"#{feed_id} | heb {HEB} | Airbnb | active | last success 2 min ago | 6 nights", out
        )
        self.assertEqual(self.script("remove", str(feed_id))[0], 0)
        self.assertEqual(self.script("remove", str(feed_id))[0], 2)
        self.assertIn("no feed", self.script("list")[1])

    def test_script_one_run_at_a_time(self):
        """PostgreSQL: a run while another holds the lock stops at once.
        SQLite (development) has no such lock: the run goes on."""
        from gites.calendar.scripts.import_ical_feeds import RUN_LOCK_KEY

        postgres = self.layer["engine"].dialect.name == "postgresql"
        with db_locks.advisory_lock(self.layer["engine"], RUN_LOCK_KEY) as got:
            self.assertTrue(got)
            status, _out, err = self.script("run")
        if postgres:
            self.assertEqual(status, 1)
            self.assertIn("another importIcalFeeds run is going on", err)
        else:
            self.assertEqual(status, 0, err)
        self.assertEqual(self.script("run")[0], 0)

    def test_script_reports_failures_and_flags(self):
        status, out, _err = self.script("add", "--heb", str(HEB), self.server.url("/missing.ics"))
        self.assertEqual(status, 0)
        status, out, _err = self.script("run")
        self.assertEqual(status, 1)
        self.assertIn("1 failed", out)
        _status, out, _err = self.script("list", now=NOW + datetime.timedelta(hours=25))
        self.assertIn("FAILING FOR 24 H", out)
        self.assertIn("HTTP 404", out)
        status, _out, err = self.script("add", "--heb", str(HEB), "ftp://x.org/a")
        self.assertEqual(status, 2)
        self.assertIn("importIcalFeeds:", err)
