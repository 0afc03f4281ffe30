"""The change log: every writer records exactly its changes (issue 12)."""

import contextlib
import datetime
import io
import json
import os
import random
import unittest
from unittest import mock

from sqlalchemy import func, select

from gites.calendar.db import session as db
from gites.calendar.db.models import BLOQUE, CalendarChange, Hebergement, NightSource, Proprio
from gites.calendar.domain import activity, calendar_state, history
from gites.calendar.domain.history import Origin
from gites.calendar.domain.hub_export import export
from gites.calendar.domain.reservations import RangeChange, apply_owner_change, busy_days
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import apply_hub_batch
from gites.calendar.scripts import calendar_history as history_script
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio, seed_cottages

NOW = datetime.datetime(2030, 5, 10, 14, 30)
TODAY = NOW.date()
D = datetime.date
CGT = "HAFF1234"


def booking(kind, start, end, notf_id):
    return HubBooking(booking_type=kind, cgt_id=CGT, start=start, end=end, notf_id=notf_id)


class HistoryCase(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            add_proprio(session, 1)
            add_proprio(session, 2)
            session.flush()
            add_cottage(session, 10, 1, cgt=CGT)
            add_cottage(session, 11, 1, cgt=None, public=False)
            add_cottage(session, 20, 2)

    def owner(self, start, end, kind, heb_pk=10, now=NOW):
        with db.session_scope() as session:
            heb = session.get(Hebergement, heb_pk)
            apply_owner_change(session, heb, RangeChange(heb_pk, start, end, kind), 1, now)

    def hub(self, *bookings, now=NOW):
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


@on_both_databases(db_layers())
class TestEachSource(HistoryCase):
    def test_owner_range_records_one_change(self):
        self.owner(D(2030, 6, 1), D(2030, 6, 30), "loue")
        self.assertEqual(
            self.summary(), [("owner", "1", "loue", D(2030, 6, 1), D(2030, 6, 30), 30)]
        )
        change = self.log()[0]
        self.assertEqual(change.changed_at, NOW)
        provenance = self.sources(D(2030, 5, 1), D(2030, 7, 31))
        self.assertEqual(sorted(provenance), [D(2030, 6, d) for d in range(1, 31)])
        self.assertEqual({c.id for c in provenance.values()}, {change.id})

    def test_only_days_really_changed_count(self):
        self.owner(D(2030, 6, 1), D(2030, 6, 10), "loue")
        self.owner(D(2030, 6, 1), D(2030, 6, 10), "loue")  # the same again: nothing
        self.owner(D(2030, 6, 5), D(2030, 6, 14), "loue")  # 4 new days
        self.owner(D(2030, 7, 1), D(2030, 7, 5), "libre")  # already free: nothing
        self.assertEqual(
            self.summary(),
            [
                ("owner", "1", "loue", D(2030, 6, 1), D(2030, 6, 10), 10),
                ("owner", "1", "loue", D(2030, 6, 5), D(2030, 6, 14), 4),
            ],
        )
        first, second = reversed(self.log())
        provenance = self.sources(D(2030, 6, 1), D(2030, 6, 30))
        self.assertEqual(provenance[D(2030, 6, 10)].id, first.id)  # kept: not changed again
        self.assertEqual(provenance[D(2030, 6, 11)].id, second.id)

    def test_freeing_records_the_change_that_freed(self):
        self.owner(D(2030, 6, 1), D(2030, 6, 3), "indisp")
        self.owner(D(2030, 6, 2), D(2030, 6, 2), "libre")
        provenance = self.sources(D(2030, 6, 1), D(2030, 6, 3))
        self.assertEqual(provenance[D(2030, 6, 2)].new_type, "libre")
        self.assertEqual(provenance[D(2030, 6, 2)].changed_days, 1)
        self.assertEqual(provenance[D(2030, 6, 1)].new_type, "indisp")

    def test_hub_booked_unavailable_available(self):
        self.hub(booking("booked", D(2030, 6, 1), D(2030, 6, 5), 100))
        self.hub(booking("unavailable", D(2030, 6, 4), D(2030, 6, 8), 101))
        self.hub(booking("available", D(2030, 6, 1), D(2030, 6, 2), 102))
        self.assertEqual(
            self.summary(),
            [
                ("hub", "100", "loue", D(2030, 6, 1), D(2030, 6, 5), 5),
                ("hub", "101", "indisp", D(2030, 6, 4), D(2030, 6, 8), 5),
                ("hub", "102", "libre", D(2030, 6, 1), D(2030, 6, 2), 2),
            ],
        )
        provenance = self.sources(D(2030, 6, 1), D(2030, 6, 8))
        self.assertEqual(
            {day: (c.actor, c.new_type) for day, c in provenance.items()},
            {
                D(2030, 6, 1): ("102", "libre"),
                D(2030, 6, 2): ("102", "libre"),
                D(2030, 6, 3): ("100", "loue"),
                **{D(2030, 6, d): ("101", "indisp") for d in range(4, 9)},
            },
        )

    def test_duplicate_and_superseded_hub_messages_write_nothing(self):
        self.hub(booking("booked", D(2030, 6, 1), D(2030, 6, 5), 200))
        before = self.summary()
        self.hub(booking("booked", D(2030, 6, 1), D(2030, 6, 5), 200))  # redelivery
        self.hub(booking("available", D(2030, 6, 2), D(2030, 6, 3), 150))  # older: superseded
        self.assertEqual(self.summary(), before)
        # partly superseded: only its own days count
        self.hub(booking("unavailable", D(2030, 6, 4), D(2030, 6, 7), 190))
        self.assertEqual(
            self.summary()[-1], ("hub", "190", "indisp", D(2030, 6, 6), D(2030, 6, 7), 2)
        )

    def test_a_hub_batch_records_each_notification(self):
        self.hub(
            booking("booked", D(2030, 6, 1), D(2030, 6, 5), 300),
            booking("unavailable", D(2030, 6, 10), D(2030, 6, 11), 301),
            booking("booked", D(2030, 6, 1), D(2030, 6, 5), 300),  # duplicate in the batch
        )
        self.assertEqual(
            self.summary(),
            [
                ("hub", "300", "loue", D(2030, 6, 1), D(2030, 6, 5), 5),
                ("hub", "301", "indisp", D(2030, 6, 10), D(2030, 6, 11), 2),
            ],
        )

    def test_configuration_non_actif_records_a_change_without_nights(self):
        with db.session_scope() as session:
            cottages = calendar_state.owner_cottages_all(session, 1)
            calendar_state.apply_configuration(session, cottages, "non actif", TODAY, 1, NOW)
            calendar_state.apply_configuration(session, cottages, "non actif", TODAY, 1, NOW)
        for heb_pk in (10, 11):
            self.assertEqual(
                self.summary(heb_pk), [("configuration", "1", "non actif", None, None, 0)]
            )
        self.assertEqual(self.summary(20), [])
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(NightSource)), 0)

    def test_activity_blocking_and_reactivation(self):
        with db.session_scope() as session:
            self.assertEqual(activity.block_cottages(session, 1, TODAY, NOW), [10, 11])
            self.assertEqual(activity.block_cottages(session, 1, TODAY, NOW), [])
        expected = [("activity", "checkCalendarActivity", BLOQUE, None, None, 0)]
        self.assertEqual(self.summary(10), expected)
        self.assertEqual(self.summary(11), expected)
        later = NOW + datetime.timedelta(days=3)
        with db.session_scope() as session:
            proprio = session.get(Proprio, 1)
            calendar_state.reactivate(session, proprio, later.date(), later)
            calendar_state.reactivate(session, proprio, later.date(), later)  # nothing new
        self.assertEqual(
            self.summary(10), [*expected, ("reactivation", "1", "actif", None, None, 0)]
        )
        self.assertEqual(self.log(10)[0].changed_at, later)

    def test_export_writes_none(self):
        self.owner(D(2030, 6, 1), D(2030, 6, 3), "loue")
        before = self.summary()
        with db.session_scope() as session:
            export(session, TODAY, NOW)
        self.assertEqual(self.summary(), before)

    def test_changes_filters_and_pages(self):
        for n in range(5):
            self.owner(
                D(2030, 6, 1 + 2 * n), D(2030, 6, 1 + 2 * n), "loue", now=NOW.replace(day=10 + n)
            )
        with db.session_scope() as session:
            newest = history.changes(session, 10, limit=2)
            self.assertEqual([c.first_day.day for c in newest], [9, 7])
            self.assertEqual(
                [c.first_day.day for c in history.changes(session, 10, limit=2, offset=2)], [5, 3]
            )
            self.assertEqual(
                [c.first_day.day for c in history.changes(session, 10, since=D(2030, 5, 13))],
                [9, 7],
            )
            self.assertEqual(
                [c.first_day for c in history.changes(session, 10, day=D(2030, 6, 5))],
                [D(2030, 6, 5)],
            )
            self.assertEqual(history.count_changes(session, 10), 5)
            self.assertEqual(history.changes(session, 20), [])

    def test_a_write_without_origin_is_refused(self):
        from gites.calendar.domain.reservations import write_days

        with db.session_scope() as session, self.assertRaises(ValueError):
            write_days(session, {(10, D(2030, 6, 1)): "loue"}, 1, NOW, None)

    def test_unknown_source_is_refused(self):
        with self.assertRaises(ValueError):
            Origin("someone", 1)


@on_both_databases(db_layers())
class TestProvenanceModel(HistoryCase):
    """After a random sequence of owner and hub changes, the provenance of
    each night is the one of a Python model of the sequence."""

    def test_random_sequences(self):
        days = [TODAY + datetime.timedelta(n) for n in range(20)]
        for seed in range(6):
            with self.subTest(seed=seed):
                self.run_sequence(random.Random(seed), days, shuffled=False)

    def test_random_sequences_with_hub_messages_out_of_order(self):
        days = [TODAY + datetime.timedelta(n) for n in range(20)]
        for seed in range(6):
            with self.subTest(seed=seed):
                self.run_sequence(random.Random(100 + seed), days, shuffled=True)

    def run_sequence(self, rng, days, shuffled):
        """Owner ranges and hub notifications (with redeliveries; with
        ``shuffled``, notf_ids out of order, so some are superseded)."""
        from gites.calendar.testing.db import empty_tables

        empty_tables(db.get_engine())
        seed_cottages({10: CGT})
        state = {}  # day -> (type, origin) of the change that last changed it
        newest_hub = {}  # day -> highest notf_id applied over it (the hub's guard)
        ids = rng.sample(range(1000, 2000), 40)
        if not shuffled:
            ids.sort()
        applied = []
        for _step in range(30):
            start = rng.randrange(len(days))
            end = min(len(days) - 1, start + rng.randrange(6))
            kind = rng.choice(("loue", "indisp", "libre"))
            span = days[start : end + 1]
            if rng.random() < 0.15 and applied:
                # a redelivered hub message changes nothing
                self.hub(rng.choice(applied))
                continue
            if rng.random() < 0.5:
                origin = Origin("owner", 1)
                self.owner(span[0], span[-1], kind)
                written = span
            else:
                notf_id = ids.pop()
                origin = Origin("hub", notf_id)
                hub_kind = {"loue": "booked", "indisp": "unavailable", "libre": "available"}[kind]
                message = booking(hub_kind, span[0], span[-1], notf_id)
                applied.append(message)
                self.hub(message)
                # days a newer notification already set keep their state
                written = [day for day in span if newest_hub.get(day, 0) < notf_id]
                for day in span:
                    newest_hub[day] = max(newest_hub.get(day, 0), notf_id)
            for day in written:
                if state.get(day, ("libre", None))[0] != kind:
                    state[day] = (kind, origin)
        provenance = self.sources(days[0], days[-1])
        self.assertEqual({day: (c.new_type, c.origin) for day, c in provenance.items()}, state)
        with db.session_scope() as session:
            nights = dict(busy_days(session, 10))
        self.assertEqual(
            nights, {day: kind for day, (kind, _o) in state.items() if kind != "libre"}
        )


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
        lines, err = [], io.StringIO()
        with (
            mock.patch.dict(os.environ, {"GITES_DB_URL": self.layer["db_url"]}),
            contextlib.redirect_stderr(err),
        ):
            code = history_script.main(list(args), out=lines.append)
        # The script configured its own engine: give the tests' back.
        db.register_engine(self.layer["engine"])
        return code, lines, err.getvalue()

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


if __name__ == "__main__":
    unittest.main()
