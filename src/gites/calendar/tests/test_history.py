"""The change log: every writer records exactly its changes (issue 12).

The retention and the calendarHistory script are in test_history_script.
"""

import datetime
import random
import unittest

from sqlalchemy import func, select

from gites.calendar.db import session as db
from gites.calendar.db.models import BLOQUE, NightSource, Proprio
from gites.calendar.domain import activity, calendar_state, history
from gites.calendar.domain.history import Origin
from gites.calendar.domain.hub_export import export
from gites.calendar.domain.reservations import busy_days
from gites.calendar.testing.change_log import HISTORY_CGT as CGT
from gites.calendar.testing.change_log import HISTORY_NOW as NOW
from gites.calendar.testing.change_log import HistoryCase, booking
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import seed_cottages

TODAY = NOW.date()
D = datetime.date


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


if __name__ == "__main__":
    unittest.main()
