"""The change log kept for two years (the retention, in the daily run) and
read by ops through calendarHistory."""

import contextlib
import datetime
import io
import json

from sqlalchemy import func, select

from gites.calendar.db import session as db
from gites.calendar.db.models import CalendarChange
from gites.calendar.domain import activity, history
from gites.calendar.domain.history import Origin
from gites.calendar.scripts import calendar_history as history_script
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.change_log import HISTORY_NOW as NOW
from gites.calendar.testing.change_log import HistoryCase, booking
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio
from gites.calendar.testing.ops_scripts import run_ops_script

TODAY = NOW.date()
D = datetime.date


@on_both_databases(db_layers())
class TestRetention(HistoryCase):
    def test_prune_keeps_changes_that_explain_later_nights(self):
        old = datetime.datetime(2027, 1, 5, 9, 0)
        # an old change of two days: one long past, one still to come
        with db.session_scope() as session:
            from gites.calendar.domain.reservations import write_days

            write_days(
                session,
                {(10, D(2027, 1, 10)): "loue", (10, D(2030, 8, 1)): "loue"},
                None,
                old,
                Origin("ops", "test"),
            )
            write_days(session, {(10, D(2027, 2, 1)): "indisp"}, None, old, Origin("ops", "t2"))
        self.owner(D(2030, 6, 1), D(2030, 6, 1), "loue")
        # batches of one: the loop must go past a change it keeps
        self.assertEqual(activity.prune_history(730, NOW, batch=1), 1)
        self.assertEqual(
            activity.prune_history(730, NOW, batch=1), 0
        )  # the t2 change; the first still explains 2030-08-01
        self.assertEqual(
            [(c.actor, c.first_day) for c in reversed(self.log())],
            [("test", D(2027, 1, 10)), ("1", D(2030, 6, 1))],
        )
        self.assertEqual(
            sorted(self.sources(D(2027, 1, 1), D(2030, 12, 31))),
            [D(2030, 6, 1), D(2030, 8, 1)],
        )
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(CalendarChange)), 2)


@on_both_databases(db_layers())
class TestRetentionInTheDailyRun(DatabaseTestCase):
    def test_check_calendar_activity_prunes_with_the_configured_age(self):
        from gites.calendar.domain.reservations import write_days
        from gites.calendar.settings import load_settings

        with db.session_scope() as session:
            add_proprio(session, 1, active=False)  # no mail due: only the retention
            session.flush()
            add_cottage(session, 10, 1)
            for days_ago, day in ((40, D(2030, 3, 1)), (20, D(2030, 4, 1))):
                write_days(
                    session,
                    {(10, day): "loue"},
                    None,
                    NOW - datetime.timedelta(days=days_ago),
                    Origin("ops", "test"),
                )
        settings = load_settings(
            {"GITES_DB_URL": self.layer["db_url"], "GITES_HISTORY_KEEP_DAYS": "30"}
        )
        self.assertEqual(settings.history_keep_days, 30)
        report = activity.run(settings, TODAY, send=self.fail, now=NOW)
        self.assertEqual(report.pruned, 1)
        self.assertIn("1 change-log rows pruned", report.summary())
        with db.session_scope() as session:
            left = history.changes(session, 10)
        self.assertEqual([c.first_day for c in left], [D(2030, 4, 1)])
        self.assertEqual(load_settings({"GITES_DB_URL": "sqlite://"}).history_keep_days, 730)


@on_both_databases(db_layers())
class TestCalendarHistoryScript(HistoryCase):
    def run_script(self, *args):
        return run_ops_script(self, history_script.main, args)

    def test_owner_hub_and_blocking_newest_first(self):
        self.owner(D(2030, 6, 1), D(2030, 6, 3), "loue")
        self.hub(
            booking("unavailable", D(2030, 6, 3), D(2030, 6, 4), 12345),
            now=NOW + datetime.timedelta(minutes=5),
        )
        with db.session_scope() as session:
            activity.block_cottages(session, 1, TODAY, NOW + datetime.timedelta(minutes=9))
        code, lines, err = self.run_script("--heb", "10")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(
            [line.split("  ", 2)[::2] for line in lines],
            [
                [
                    "2030-05-10 14:39:00",
                    "calendar state -> bloque  by activity checkCalendarActivity",
                ],
                [
                    "2030-05-10 14:35:00",
                    "indisp 2030-06-03..2030-06-04 (2 days changed)  by hub 12345",
                ],
                ["2030-05-10 14:30:00", "loue 2030-06-01..2030-06-03 (3 days changed)  by owner 1"],
            ],
        )
        code, lines, _ = self.run_script("--heb", "10", "--day", "2030-06-01", "--json")
        self.assertEqual(code, 0)
        rows = json.loads("\n".join(lines))
        self.assertEqual(
            [(r["source"], r["actor"], r["first_day"], r["changed_at"]) for r in rows],
            [("owner", "1", "2030-06-01", "2030-05-10T14:30:00")],
        )
        code, lines, _ = self.run_script("--heb", "10", "--since", "2030-05-11")
        self.assertEqual((code, lines), (0, ["cottage 10: no change recorded"]))

    def test_unknown_cottage_and_bad_options(self):
        code, lines, err = self.run_script("--heb", "999")
        self.assertEqual((code, lines), (2, []))
        self.assertIn("no cottage with heb_pk 999", err)
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as stop:
            history_script.main(["--heb", "10", "--day", "tomorrow"])
        self.assertEqual(stop.exception.code, 2)
