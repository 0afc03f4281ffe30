"""checkCalendarActivity's base case: the scenario's owners and cottages,
an SMTP server, and what the script changed (test_activity,
test_activity_runs)."""

import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import (
    BLOQUE,
    NON_ACTIF,
    ActivityMail,
    BlockingHistory,
    Hebergement,
    Proprio,
)
from gites.calendar.scripts.check_activity import main as check_activity_main
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.fixtures import add_cottage, add_proprio, run_console_script
from gites.calendar.testing.smtp import SmtpServer

ACTIVITY_TODAY = datetime.date(2030, 6, 15)
ACTIVITY_SITE = "https://www.gitesdewallonie.be"


def ago(days, today=ACTIVITY_TODAY):
    return today - datetime.timedelta(days=days)


def mail_of(pro_pk):
    return f"proprio{pro_pk}@example.org"


class ActivityCase(DatabaseTestCase):
    """Base: the scenario's data, an SMTP server, and ways to run the script."""

    def setUp(self):
        super().setUp()
        self.smtp = SmtpServer().start()
        self.addCleanup(self.smtp.stop)

    def tearDown(self):
        # main() configured its own engine; give the layer's back.
        db.get_engine().dispose()
        db.register_engine(self.layer["engine"])
        super().tearDown()

    def environ(self, **extra):
        env = {
            "GITES_DB_URL": self.layer["db_url"],
            "GITES_SITE_URL": ACTIVITY_SITE,
            **self.smtp.env(),
        }
        env.update(extra)
        return env

    def run_script(self, *args, env=None):
        """main(args) with the settings in the environment: (status, out, err)."""
        return run_console_script(check_activity_main, args, env or self.environ())

    def session(self):
        session = db.new_session()
        self.addCleanup(session.close)
        return session

    def load_scenario(self):
        """Proprios last updated 29/30/35/40/60 days ago, and the ones left alone."""
        with db.session_scope() as s:
            for pk in range(1, 11):
                add_proprio(s, pk, email=mail_of(pk), active=pk != 6)
            s.get(Proprio, 9).pro_email = None
            s.get(Proprio, 3).pro_reactivation_hash = "cle-existante-3"
            s.get(Proprio, 5).pro_prenom1 = "Hélène"
            s.flush()
            add_cottage(s, 11, 1, updated=ago(29))
            add_cottage(s, 21, 2, updated=ago(30))
            add_cottage(s, 31, 3, updated=ago(35))
            add_cottage(s, 32, 3, updated=ago(80), state=NON_ACTIF)  # not counted
            add_cottage(s, 41, 4, updated=ago(40))
            add_cottage(s, 42, 4, updated=ago(5), public=False)  # not counted, but blocked
            add_cottage(s, 43, 4, updated=ago(3), state=NON_ACTIF)  # not counted, but blocked
            add_cottage(s, 51, 5, updated=ago(60), state="searchactif")
            add_cottage(s, 61, 6, updated=ago(60))  # inactive proprio
            add_cottage(s, 71, 7, updated=ago(60), state=NON_ACTIF)
            add_cottage(s, 81, 8, updated=ago(60), state=BLOQUE)
            add_cottage(s, 91, 9, updated=ago(45))  # no e-mail
            add_cottage(s, 101, 10, updated=ago(50))
            add_cottage(s, 102, 10, updated=ago(10))  # the latest counts
            s.flush()
            # The owner of 43 switched it off himself: its history row is open.
            s.add(BlockingHistory(heb_blockhistory_blocked_dte=ago(3), heb_blockhistory_heb_pk=43))
            s.add(BlockingHistory(heb_blockhistory_blocked_dte=ago(20), heb_blockhistory_heb_pk=81))

    def snapshot(self):
        """Every row the script may touch, as comparable tuples."""
        s = self.session()
        rows = {}
        for model, order in (
            (Proprio, Proprio.pro_pk),
            (Hebergement, Hebergement.heb_pk),
            (BlockingHistory, BlockingHistory.heb_blockhistory_id),
            (ActivityMail, ActivityMail.id),
        ):
            columns = [c.key for c in model.__table__.columns]
            rows[model.__tablename__] = [
                tuple(getattr(obj, c) for c in columns)
                for obj in s.scalars(select(model).order_by(order))
            ]
        s.close()
        return rows

    def states(self):
        s = self.session()
        result = {h.heb_pk: h.heb_calendrier_proprio for h in s.scalars(select(Hebergement))}
        s.close()
        return result

    def history(self):
        s = self.session()
        result = sorted(
            (
                h.heb_blockhistory_heb_pk,
                h.heb_blockhistory_blocked_dte,
                h.heb_blockhistory_activated_dte,
            )
            for h in s.scalars(select(BlockingHistory))
        )
        s.close()
        return result

    def records(self):
        s = self.session()
        result = {
            (r.pro_pk, r.kind): (r.status, r.attempts, r.period)
            for r in s.scalars(select(ActivityMail))
        }
        s.close()
        return result

    def key_of(self, pro_pk):
        s = self.session()
        key = s.get(Proprio, pro_pk).pro_reactivation_hash
        s.close()
        return key

    def received(self):
        """{recipient: parsed message}; fails on two mails to one recipient."""
        result = {}
        for rcpts, message in self.smtp.messages:
            self.assertEqual(len(rcpts), 1)
            self.assertNotIn(rcpts[0], result, "two mails to one recipient")
            result[rcpts[0]] = message
        return result

    def link_key(self, message):
        body = message.get_content()
        links = [w for w in body.split() if "/reactivation-calendrier?" in w]
        self.assertEqual(len(links), 1, body)
        url = urlsplit(links[0])
        self.assertEqual(f"{url.scheme}://{url.netloc}", ACTIVITY_SITE)
        self.assertEqual(url.path, "/reactivation-calendrier")
        return parse_qs(url.query)["key"][0]
