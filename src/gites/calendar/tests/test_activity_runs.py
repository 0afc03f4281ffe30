"""checkCalendarActivity against a real database and a real SMTP server.

The script runs in-process through its ``main`` (as cron runs it, with the
settings in the environment).  Mails are received by
:class:`gites.calendar.testing.smtp.SmtpServer`.
"""

import datetime

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import ACTIF, BLOQUE, NON_ACTIF, ActivityMail, Hebergement
from gites.calendar.testing.activity_check import ACTIVITY_TODAY as TODAY
from gites.calendar.testing.activity_check import ActivityCase, ago, mail_of
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.smtp import REJECT, TEMPFAIL, free_port

REMINDER_SUBJECT = "Votre calendrier sur le site des Gîtes de Wallonie"
BLOCKING_SUBJECT = "Désactivation de votre calendrier"

BLOCKED_BY_RUN = {41, 42, 43, 51}
BEFORE = {
    11: ACTIF, 21: ACTIF, 31: ACTIF, 32: NON_ACTIF, 41: ACTIF, 42: ACTIF, 43: NON_ACTIF,
    51: "searchactif", 61: ACTIF, 71: NON_ACTIF, 81: BLOQUE, 91: ACTIF, 101: ACTIF, 102: ACTIF,
}  # fmt: skip


@on_both_databases(db_layers())
class TestCheckCalendarActivity(ActivityCase):
    def setUp(self):
        super().setUp()
        self.load_scenario()

    def assert_first_run_done(self):
        self.assertEqual(self.states(), {**BEFORE, **dict.fromkeys(BLOCKED_BY_RUN, BLOQUE)})
        self.assertEqual(
            self.history(),
            sorted(
                [
                    (41, TODAY, None),
                    (42, TODAY, None),
                    (43, ago(3), None),  # the open row is kept, not doubled
                    (51, TODAY, None),
                    (81, ago(20), None),
                ]
            ),
        )

    def test_first_run(self):
        status, out, err = self.run_script("--today", TODAY.isoformat())
        self.assertEqual(status, 0, err)
        received = self.received()
        self.assertEqual(sorted(received), [mail_of(2), mail_of(3), mail_of(4), mail_of(5)])
        for pk, subject in ((2, REMINDER_SUBJECT), (3, REMINDER_SUBJECT),
                            (4, BLOCKING_SUBJECT), (5, BLOCKING_SUBJECT)):  # fmt: skip
            message = received[mail_of(pk)]
            self.assertEqual(message["Subject"], subject)
            self.assertEqual(message["To"], mail_of(pk))
            self.assertEqual(message["From"].addresses[0].addr_spec, "info@gitesdewallonie.be")
            self.assertEqual(message.get_content_charset(), "utf-8")
            self.assertEqual(self.link_key(message), self.key_of(pk))
        # The existing key is reused; the others are created, unguessable.
        self.assertEqual(self.key_of(3), "cle-existante-3")
        self.assertGreaterEqual(len(self.key_of(2)), 40)
        self.assertNotEqual(self.key_of(2), self.key_of(4))
        self.assertIsNone(self.key_of(1))
        body = received[mail_of(5)].get_content()
        self.assertIn("Bonjour Hélène Nom5", body)
        self.assertIn(f"{ago(60).strftime('%d/%m/%Y')} (60 jours)", body)
        self.assertIn("Gîtes de Wallonie", received[mail_of(2)].get_content())

        self.assert_first_run_done()
        self.assertEqual(
            self.records(),
            {
                (2, "reminder"): ("sent", 1, ago(30)),
                (3, "reminder"): ("sent", 1, ago(35)),
                (4, "blocking"): ("sent", 1, ago(40)),
                (5, "blocking"): ("sent", 1, ago(60)),
            },
        )
        # One log line per action; the proprio without e-mail is reported.
        self.assertIn("proprio 9", err)
        self.assertIn("no e-mail address, skipped", err)
        for pk in (2, 3, 4, 5):
            self.assertEqual(err.count(f"proprio {pk}:"), 1, err)
        self.assertIn("cottages 41, 42, 43 blocked", err)
        self.assertIn("2 reminders and 2 blocking mails sent, 4 cottages blocked", out)

    def test_second_run_same_day_does_nothing(self):
        self.assertEqual(self.run_script("--today", TODAY.isoformat())[0], 0)
        after_first = self.snapshot()
        self.smtp.clear()
        status, out, err = self.run_script("--today", TODAY.isoformat())
        self.assertEqual(status, 0, err)
        self.assertEqual(self.smtp.messages, [])
        self.assertEqual(self.snapshot(), after_first)

    def test_key_reused_when_the_reminded_owner_is_blocked(self):
        self.run_script("--today", TODAY.isoformat())
        reminder_key = self.link_key(self.received()[mail_of(2)])
        self.smtp.clear()
        later = TODAY + datetime.timedelta(days=10)  # proprio 2: 40 days, 3: 45
        status, _, err = self.run_script("--today", later.isoformat())
        self.assertEqual(status, 0, err)
        received = self.received()
        self.assertEqual(sorted(received), [mail_of(1), mail_of(2), mail_of(3)])
        self.assertEqual(received[mail_of(1)]["Subject"], REMINDER_SUBJECT)  # 39 days
        self.assertEqual(received[mail_of(2)]["Subject"], BLOCKING_SUBJECT)
        self.assertEqual(self.link_key(received[mail_of(2)]), reminder_key)
        self.assertEqual(self.link_key(received[mail_of(3)]), "cle-existante-3")
        self.assertEqual(self.states()[21], BLOQUE)
        self.assertEqual(self.states()[31], BLOQUE)
        self.assertEqual(self.states()[32], BLOQUE)

    def test_owner_who_updated_gets_a_new_period(self):
        self.run_script("--today", TODAY.isoformat())
        with db.session_scope() as s:  # proprio 2 updates 5 days later
            s.get(Hebergement, 21).heb_calendrier_proprio_date_maj = ago(-5)
        self.smtp.clear()
        status, _, _ = self.run_script("--today", (TODAY + datetime.timedelta(days=36)).isoformat())
        self.assertEqual(status, 0)
        self.assertEqual(self.received()[mail_of(2)]["Subject"], REMINDER_SUBJECT)
        self.assertEqual(self.records()[(2, "reminder")], ("sent", 1, ago(-5)))

    def test_smtp_down_then_up(self):
        before = self.snapshot()
        down = self.environ(GITES_SMTP_PORT=str(free_port()))
        status, out, err = self.run_script("--today", TODAY.isoformat(), env=down)
        self.assertEqual(status, 1)
        self.assertIn("FAILED", err)
        self.assertIn("retried on the next run", err)
        self.assertEqual(self.states(), BEFORE)  # nothing blocked without its mail
        self.assertEqual(self.history(), sorted([(43, ago(3), None), (81, ago(20), None)]))
        records = self.records()
        self.assertEqual(
            {k: v[:2] for k, v in records.items()},
            {
                (2, "reminder"): ("failed", 1),
                (3, "reminder"): ("failed", 1),
                (4, "blocking"): ("failed", 1),
                (5, "blocking"): ("failed", 1),
            },
        )
        # Only the keys (so that a mail, once sent, carries a working link) changed.
        self.assertEqual(self.snapshot()["hebergement"], before["hebergement"])

        status, _, _ = self.run_script("--today", TODAY.isoformat(), env=down)
        self.assertEqual(status, 1)
        self.assertEqual(self.records()[(4, "blocking")][:2], ("failed", 2))
        self.assertEqual(self.states(), BEFORE)

        status, out, err = self.run_script("--today", TODAY.isoformat())
        self.assertEqual(status, 0, err)
        self.assertEqual(sorted(self.received()), [mail_of(2), mail_of(3), mail_of(4), mail_of(5)])
        self.assert_first_run_done()
        self.assertEqual(self.records()[(4, "blocking")][:2], ("sent", 3))

    def test_smtp_answers_errors(self):
        for mode, code in ((TEMPFAIL, "451"), (REJECT, "554")):
            with self.subTest(mode=mode):
                self.smtp.mode = mode
                status, _, err = self.run_script("--today", TODAY.isoformat())
                self.assertEqual(status, 1)
                self.assertIn(code, err)
                self.assertEqual(self.smtp.messages, [])
                self.assertEqual(self.states(), BEFORE)
        s = self.session()
        record = s.scalars(select(ActivityMail).where(ActivityMail.pro_pk == 4)).one()
        self.assertEqual((record.status, record.attempts), ("failed", 2))
        self.assertIn("554", record.last_error)
        s.close()
        self.smtp.mode = "ok"
        self.assertEqual(self.run_script("--today", TODAY.isoformat())[0], 0)
        self.assert_first_run_done()

    def test_dry_run_changes_nothing(self):
        before = self.snapshot()
        status, out, err = self.run_script("--dry-run", "--today", TODAY.isoformat())
        self.assertEqual(status, 0, err)
        self.assertEqual(self.smtp.messages, [])
        self.assertEqual(self.snapshot(), before)
        lines = out.splitlines()
        self.assertEqual(len([line for line in lines if line.startswith("would send")]), 4)
        self.assertIn("would send proprio 4: blocking mail to proprio4@example.org", out)
        self.assertIn("then block cottages 41, 42, 43", out)
        self.assertIn("would skip proprio 9", out)
        self.assertIn("creating its reactivation key", out)
        self.assertIn("nothing sent, nothing changed", lines[-1])

    def test_today_option(self):
        # 20 days earlier only proprio 5 is due (40 days): the others are under 30.
        earlier = TODAY - datetime.timedelta(days=20)
        status, out, _ = self.run_script("--today", earlier.isoformat())
        self.assertEqual(status, 0)
        self.assertEqual(sorted(self.received()), [mail_of(5)])
        self.assertEqual(self.received()[mail_of(5)]["Subject"], BLOCKING_SUBJECT)
        self.assertEqual(self.records()[(5, "blocking")], ("sent", 1, ago(60)))
        self.assertTrue(out.startswith(earlier.isoformat()))

    def test_bad_input(self):
        before = self.snapshot()
        status, _, err = self.run_script("--today", "15/06/2030")
        self.assertEqual(status, 2)
        self.assertIn("is not a date as YYYY-MM-DD", err)
        status, _, err = self.run_script(env=self.environ(GITES_SMTP_PORT="smtp"))
        self.assertEqual(status, 2)
        self.assertEqual(
            err.strip().splitlines(),
            ["checkCalendarActivity: GITES_SMTP_PORT='smtp' is not a whole number"],
        )
        self.assertEqual(self.smtp.messages, [])
        self.assertEqual(self.snapshot(), before)
