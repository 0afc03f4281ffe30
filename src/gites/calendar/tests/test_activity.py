"""checkCalendarActivity: its rule, its mails, and the installed console script.

The runs against a real database and a real SMTP server are in
test_activity_runs; their base, ActivityCase, in gites.calendar.testing.activity_check.
"""

import datetime
import os
import pathlib
import subprocess
import sys
import unittest

from gites.calendar.db import session as db
from gites.calendar.domain import activity, mails
from gites.calendar.testing.activity_check import ACTIVITY_SITE as SITE
from gites.calendar.testing.activity_check import ACTIVITY_TODAY as TODAY
from gites.calendar.testing.activity_check import ActivityCase, ago, mail_of
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio

REMINDER_SUBJECT = "Votre calendrier sur le site des Gîtes de Wallonie"
BLOCKING_SUBJECT = "Désactivation de votre calendrier"


class TestRule(unittest.TestCase):
    """The thresholds, without database."""

    def test_due_kind(self):
        self.assertIsNone(activity.due_kind(29))
        self.assertIsNone(activity.due_kind(-3))
        for age in (30, 35, 39):
            self.assertEqual(activity.due_kind(age), activity.REMINDER)
        for age in (40, 60, 400):
            self.assertEqual(activity.due_kind(age), activity.BLOCKING)
        self.assertIsNone(activity.due_kind(35, {activity.REMINDER}))
        self.assertIsNone(activity.due_kind(41, {activity.BLOCKING}))
        # A reminder already sent does not stop the blocking.
        self.assertEqual(activity.due_kind(41, {activity.REMINDER}), activity.BLOCKING)


class TestMails(unittest.TestCase):
    def test_utf8_subject_and_body(self):
        message = mails.blocking_mail(
            to_addr="a@example.org",
            name="Hélène Dupré",
            last_update=datetime.date(2030, 5, 1),
            today=TODAY,
            site_url=SITE + "/",
            key="k-1_x",
            mail_from="info@gitesdewallonie.be",
        )
        raw = message.as_bytes()
        self.assertTrue(raw.isascii())  # encoded for any SMTP server
        self.assertIn(b"=?utf-8?", raw)
        import email
        from email import policy

        parsed = email.message_from_bytes(raw, policy=policy.default)
        self.assertEqual(parsed["Subject"], BLOCKING_SUBJECT)
        self.assertEqual(parsed["From"].addresses[0].display_name, "Gîtes de Wallonie")
        body = parsed.get_content()
        self.assertIn("Bonjour Hélène Dupré", body)
        self.assertIn("01/05/2030 (45 jours)", body)
        self.assertIn(f"{SITE}/reactivation-calendrier?key=k-1_x", body)


@on_both_databases(db_layers())
class TestConsoleScript(ActivityCase):
    """The installed bin/checkCalendarActivity (entry point), in a subprocess."""

    def test_console_script(self):
        with db.session_scope() as s:
            add_proprio(s, 1, email=mail_of(1))
            s.flush()
            add_cottage(s, 11, 1, updated=ago(31))
        script = pathlib.Path(sys.executable).with_name("checkCalendarActivity")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITES_")}
        env.update(self.environ())
        result = subprocess.run(  # noqa: S603
            [str(script), "--today", TODAY.isoformat()],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([r for r, _ in self.smtp.messages], [[mail_of(1)]])
        self.assertEqual(self.smtp.messages[0][1]["Subject"], REMINDER_SUBJECT)
        self.assertIn("proprio 1: reminder to proprio1@example.org", result.stderr)
        self.assertIn("1 reminders and 0 blocking mails sent", result.stdout)
