"""Every console script of the installed distribution imports and answers --help.

The list comes from the distribution's metadata (what pip or buildout
installed from setup.py), not from this file, so a script added to
setup.py is tested without touching this test.
"""

import importlib.metadata
import os
import pathlib
import subprocess
import sys
import unittest
from unittest import mock

from gites.calendar.db import session as db
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import SQLITE_DB

DISTRIBUTION = "gites.calendar"
BIN = pathlib.Path(sys.executable).parent


def console_scripts():
    entry_points = importlib.metadata.distribution(DISTRIBUTION).entry_points
    return sorted(
        (ep for ep in entry_points if ep.group == "console_scripts"), key=lambda ep: ep.name
    )


class TestConsoleScripts(unittest.TestCase):
    def test_there_are_scripts(self):
        self.assertTrue(console_scripts())

    def test_each_imports(self):
        for ep in console_scripts():
            with self.subTest(ep.name):
                self.assertTrue(callable(ep.load()), ep.value)

    def test_each_answers_help(self):
        # No settings: --help must not need a database or a broker.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITES_", "AMQP_"))}
        for ep in console_scripts():
            with self.subTest(ep.name):
                script = BIN / ep.name
                self.assertTrue(script.exists(), f"{script} not installed")
                result = subprocess.run(
                    [str(script), "--help"],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=120,
                    check=False,
                )
                self.assertEqual(result.returncode, 0, f"{ep.name}: {result.stderr[-2000:]}")
                self.assertIn("usage:", result.stdout.lower(), ep.name)


class TestDemoScript(DatabaseTestCase):
    layer = SQLITE_DB

    def test_loads_the_demo_once(self):
        from gites.calendar.scripts import demo_data

        lines = []
        with mock.patch.dict(os.environ, {"GITES_DB_URL": self.layer["db_url"]}):
            self.assertEqual(demo_data.main([], out=lines.append), 0)
            self.assertIn("member proprio: owner of proprio 1", lines)
            self.assertTrue(lines[0].endswith(": 7 demo rows added"), lines[0])
            lines.clear()
            self.assertEqual(demo_data.main([], out=lines.append), 0)
            self.assertTrue(lines[0].endswith(": 0 demo rows added"), lines[0])
        db.register_engine(self.layer["engine"])
