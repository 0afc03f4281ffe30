"""Database text in checkCalendarActivity: one address per mail, one line per log.

Issue 15, point 3: a ``pro_email`` holding several addresses got the
reactivation key sent to all of them, and CR/LF in it forged log lines.
"""

import datetime
import logging
import types
import unittest

from gites.calendar.db import session as db
from gites.calendar.db.models import BLOQUE, Hebergement
from gites.calendar.domain import activity, mails
from gites.calendar.logsafe import one_line
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio

TODAY = datetime.date(2030, 6, 15)
SETTINGS = types.SimpleNamespace(
    site_url="https://www.gitesdewallonie.be",
    mail_from="info@gitesdewallonie.be",
    history_keep_days=730,
)
# pro_pk: pro_email
EMAILS = {
    1: "a@x.be, b@y.be",
    2: "a@x.be; b@y.be",
    3: "a@x.be b@y.be",
    4: "Marie <a@x.be>, b@y.be",
    5: "evil@x.be\r\nINFO proprio 99: sent",
    6: "a@x.be\u2028b@y.be",
    7: "not-an-address",
    8: " owner@example.org ",
    9: "Marie Dupont <marie@example.org>",
}
ACCEPTED = {8: "owner@example.org", 9: "marie@example.org"}


class TestSingleAddress(unittest.TestCase):
    def test_exactly_one_address(self):
        for pro_pk, raw in EMAILS.items():
            self.assertEqual(mails.single_address(raw), ACCEPTED.get(pro_pk), repr(raw))
        for raw in (None, "", "  ", "a@@x.be", "@x.be", "a@x", "a@x..be", "a@.be", "a@b@c.be"):
            self.assertIsNone(mails.single_address(raw), repr(raw))


class TestOneLine(unittest.TestCase):
    def test_printable_single_line(self):
        self.assertEqual(one_line("a\r\nb\tc"), "a\\r\\nb\\tc")
        self.assertEqual(one_line("x\u2028y\x1b[31m"), "x\\u2028y\\x1b[31m")
        # A backslash is doubled, so a real escape cannot be faked.
        self.assertEqual(one_line("a\\nb"), "a\\\\nb")
        self.assertEqual(one_line("Hélène <h@x.be>"), "Hélène <h@x.be>")
        self.assertEqual(one_line(42), "42")
        long = one_line("x" * 10_000)
        self.assertLess(len(long), 600)
        self.assertTrue(long.endswith("..."))


class CaptureLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@on_both_databases(db_layers())
class TestActivityWithLegacyEmails(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            for pro_pk, email in EMAILS.items():
                add_proprio(session, pro_pk, email=email)
            session.flush()
            for pro_pk in EMAILS:
                # 45 days without update: a blocking mail is due.
                add_cottage(session, pro_pk * 10, pro_pk, updated=TODAY - datetime.timedelta(45))
        self.sent = []
        self.capture = CaptureLog()
        logger = logging.getLogger("gites.calendar")
        logger.addHandler(self.capture)
        self.addCleanup(logger.removeHandler, self.capture)
        self.old_level = logger.level
        logger.setLevel(logging.DEBUG)
        self.addCleanup(logger.setLevel, self.old_level)

    def send(self, settings, message):
        self.sent.append(message)

    def state(self, heb_pk):
        with db.session_scope() as session:
            return session.get(Hebergement, heb_pk).heb_calendrier_proprio

    def test_only_single_addresses_get_the_key(self):
        report = activity.run(SETTINGS, TODAY, send=self.send)
        recipients = sorted(str(m["To"]) for m in self.sent)
        self.assertEqual(recipients, sorted(ACCEPTED.values()))
        self.assertEqual(sorted(a.pro_pk for a in report.sent), sorted(ACCEPTED))
        skipped = sorted(a.pro_pk for a in report.skipped)
        self.assertEqual(skipped, sorted(set(EMAILS) - set(ACCEPTED)))
        for pro_pk in EMAILS:
            # Skipped proprios are not blocked: they could not be told.
            blocked = self.state(pro_pk * 10) == BLOQUE
            self.assertEqual(blocked, pro_pk in ACCEPTED, pro_pk)
        messages = [r.getMessage() for r in self.capture.records]
        self.assertTrue(
            any("proprio 1:" in m and "is not exactly one address, skipped" in m for m in messages),
            messages,
        )

    def test_log_lines_are_single_printable_lines(self):
        def refuse(settings, message):
            raise mails.MailError(f"recipient refused ({message['To']}: 550 no\r\nINFO forged)")

        activity.run(SETTINGS, TODAY, send=refuse)
        messages = [r.getMessage() for r in self.capture.records]
        self.assertTrue(messages)
        for message in messages:
            self.assertTrue(message.isprintable(), repr(message))
        self.assertTrue(any("evil@x.be\\r\\nINFO proprio 99: sent" in m for m in messages))
        self.assertTrue(any("550 no\\r\\nINFO forged" in m for m in messages))

    def test_dry_run_lines_are_single_lines(self):
        lines = []
        activity.run(SETTINGS, TODAY, dry_run=True, out=lines.append)
        self.assertEqual(len(lines), len(EMAILS))
        for line in lines:
            self.assertTrue(line.isprintable(), repr(line))


class TestDaemonLogLines(unittest.TestCase):
    """The daemon's consumer and relay log hub and outbox text (CGT codes,
    errors) through one ``_log`` each: one line there too."""

    def test_consumer_and_relay(self):
        from gites.calendar.messaging.consumer import HubConsumer
        from gites.calendar.messaging.relay import OutboxRelay

        for cls in (HubConsumer, OutboxRelay):
            fake = types.SimpleNamespace(secrets=("s3cret",))
            with self.assertLogs("gites.calendar", level="INFO") as logs:
                cls._log(fake, logging.WARNING, "cottage %s: %s", "HAFF\n1", "s3cret\r\nINFO x")
            self.assertEqual(
                [r.getMessage() for r in logs.records], ["cottage HAFF\\n1: ***\\r\\nINFO x"]
            )
