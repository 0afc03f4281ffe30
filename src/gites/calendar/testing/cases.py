"""Test-case bases and seeding shared by several test modules.

A test module never imports another (tests/test_test_modules.py): what two
of them set up alike lives here, grouped by the subject of the tests.
"""

import contextlib
import datetime
import io
import os
from unittest import mock
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import (
    BLOQUE,
    INDISP,
    LOUE,
    NON_ACTIF,
    SEARCH_ACTIF,
    ActivityMail,
    BlockingHistory,
    Hebergement,
    Proprio,
    Reservation,
)
from gites.calendar.domain import history
from gites.calendar.domain.reservations import RangeChange, apply_owner_change
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import apply_hub_batch
from gites.calendar.scripts.check_activity import main as check_activity_main
from gites.calendar.testing import DatabaseTestCase, add_cottage, add_proprio
from gites.calendar.testing.fixtures import run_console_script
from gites.calendar.testing.smtp import SmtpServer

# -- Ops scripts run in-process (test_history_script, test_ownerlink_script) --


def run_ops_script(testcase, main, args):
    """main(args) with the test database in the environment, its lines and
    its stderr: (status, lines, err)."""
    lines, err = [], io.StringIO()
    with (
        mock.patch.dict(os.environ, {"GITES_DB_URL": testcase.layer["db_url"]}),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args), out=lines.append)
    # The script configured its own engine: give the tests' back.
    db.register_engine(testcase.layer["engine"])
    return code, lines, err.getvalue()


# -- Public calendars (test_public, test_public_queries) ----------------------

PUBLIC_DAYS_CREATED = datetime.datetime(2030, 3, 10, 14, 30)


def add_days(session, heb_pk, kind, *days):
    for day in days:
        session.add(
            Reservation(
                res_date=datetime.datetime.combine(
                    datetime.date.fromisoformat(day), datetime.time()
                ),
                res_type=kind,
                heb_fk=heb_pk,
                pro_fk=None,
                res_date_cre=PUBLIC_DAYS_CREATED,
            )
        )


def populate_public_calendars(session):
    """Proprio 1: cottages 10 (public actif), 11 (private), 12 (searchactif),
    13 (non actif), 14 (bloque), 15 (second public actif).  Proprio 2 is
    inactive: cottage 20 is public and actif.  Every cottage has the same
    busy days."""
    add_proprio(session, 1)
    add_proprio(session, 2, active=False)
    session.flush()
    add_cottage(session, 10, 1, nom="Le Moulin")
    add_cottage(session, 11, 1, public=False)
    add_cottage(session, 12, 1, state=SEARCH_ACTIF)
    add_cottage(session, 13, 1, state=NON_ACTIF)
    add_cottage(session, 14, 1, state=BLOQUE)
    add_cottage(session, 15, 1, nom="La Ferme")
    add_cottage(session, 20, 2)
    session.flush()
    for heb_pk in (10, 11, 12, 13, 14, 15, 20):
        add_days(session, heb_pk, LOUE, "2030-02-28", "2030-03-09", "2030-03-10", "2030-03-11")
        add_days(session, heb_pk, INDISP, "2030-04-30", "2030-05-01", "2031-03-01")
    session.flush()


# Cottages the public never sees: private, not actif, blocked, inactive owner, unknown.
HIDDEN_COTTAGES = (11, 12, 13, 14, 20, 99)


# -- The change log (test_history, test_history_script) -----------------------

HISTORY_NOW = datetime.datetime(2030, 5, 10, 14, 30)
HISTORY_CGT = "HAFF1234"


def booking(kind, start, end, notf_id):
    return HubBooking(booking_type=kind, cgt_id=HISTORY_CGT, start=start, end=end, notf_id=notf_id)


class HistoryCase(DatabaseTestCase):
    """Proprios 1 and 2; cottage 10 (with a CGT code) and 11 of proprio 1, 20 of 2."""

    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            add_proprio(session, 1)
            add_proprio(session, 2)
            session.flush()
            add_cottage(session, 10, 1, cgt=HISTORY_CGT)
            add_cottage(session, 11, 1, cgt=None, public=False)
            add_cottage(session, 20, 2)

    def owner(self, start, end, kind, heb_pk=10, now=HISTORY_NOW):
        with db.session_scope() as session:
            heb = session.get(Hebergement, heb_pk)
            apply_owner_change(session, heb, RangeChange(heb_pk, start, end, kind), 1, now)

    def hub(self, *bookings, now=HISTORY_NOW):
        with db.session_scope() as session:
            return apply_hub_batch(session, list(bookings), now)

    def log(self, heb_pk=10):
        with db.session_scope() as session:
            return history.changes(session, heb_pk, limit=None)

    def summary(self, heb_pk=10):
        """(source, actor, type, first, last, changed days), oldest first."""
        return [
            (c.source, c.actor, c.new_type, c.first_day, c.last_day, c.changed_days)
            for c in reversed(self.log(heb_pk))
        ]

    def sources(self, first, last, heb_pk=10):
        with db.session_scope() as session:
            return history.night_sources(session, heb_pk, first, last)


# -- checkCalendarActivity (test_activity, test_activity_runs) ----------------

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
