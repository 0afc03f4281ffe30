"""exportCalendarEvents: merged, ordered ranges written to the outbox."""

import datetime
import random
import unittest
from unittest import mock

from sqlalchemy import select, text

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, OutboxMessage, Reservation
from gites.calendar.domain import hub_export as export_module
from gites.calendar.domain.hub_export import future_ranges
from gites.calendar.domain.reservations import Range, merge_ranges, midnight
from gites.calendar.scripts.export_events import main
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.amqp import DAEMON_PG
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import add_cottage, add_proprio, run_console_script

TODAY = datetime.date(2030, 6, 15)
NOW = datetime.datetime(2030, 6, 15, 9, 30)


def day(n):
    return TODAY + datetime.timedelta(days=n)


class TestMergeRanges(unittest.TestCase):
    def test_merges_consecutive_days_of_one_cottage_and_type(self):
        rows = [
            (1, "A1", day(0), "loue"),
            (1, "A1", day(1), "loue"),
            (1, "A1", day(2), "indisp"),  # type changes
            (1, "A1", day(4), "indisp"),  # gap
            (1, "A1", day(5), "indisp"),
            (2, "B2", day(6), "indisp"),  # cottage changes
            (2, "B2", day(7), "indisp"),
        ]
        self.assertEqual(
            list(merge_ranges(rows)),
            [
                (1, "A1", day(0), day(1), "loue"),
                (1, "A1", day(2), day(2), "indisp"),
                (1, "A1", day(4), day(5), "indisp"),
                (2, "B2", day(6), day(7), "indisp"),
            ],
        )

    def test_datetimes_at_midnight_and_attributes(self):
        rows = iter([(3, "C3", midnight(day(0)), "loue"), (3, "C3", midnight(day(1)), "loue")])
        (merged,) = merge_ranges(rows)
        self.assertIsInstance(merged, Range)
        self.assertEqual((merged.start, merged.end, merged.type), (day(0), day(1), "loue"))
        heb_pk, cgt, start, end, type_ = merged
        self.assertEqual((heb_pk, cgt), (3, "C3"))

    def test_empty(self):
        self.assertEqual(list(merge_ranges([])), [])

    def test_the_date_of_a_datetime_counts(self):
        rows = [
            (1, "A", datetime.datetime.combine(day(0), datetime.time(12)), "loue"),
            (1, "A", midnight(day(1)), "loue"),
        ]
        self.assertEqual(list(merge_ranges(rows)), [(1, "A", day(0), day(1), "loue")])

    def test_unordered_rows_are_refused(self):
        for rows in (
            [(1, "A", day(2), "loue"), (1, "A", day(1), "loue")],
            [(1, "A", day(1), "loue"), (1, "A", day(1), "indisp")],  # one day twice
            [(2, "B", day(1), "loue"), (1, "A", day(2), "loue")],
        ):
            with self.subTest(rows=rows), self.assertRaises(ValueError):
                list(merge_ranges(rows))

    def test_lazy(self):
        def rows():
            yield (1, "A", day(0), "loue")
            yield (2, "B", day(0), "loue")
            raise AssertionError("read beyond the second row for the first range")

        self.assertEqual(next(iter(merge_ranges(rows()))), (1, "A", day(0), day(0), "loue"))


EXPECTED = [
    (1, "HAFF0001", day(0), day(2), "loue"),
    (1, "HAFF0001", day(3), day(4), "indisp"),
    (1, "HAFF0001", day(6), day(7), "loue"),
    (2, "HAFF0002", day(1), day(1), "indisp"),
    (5, "HAFF0005", day(300), day(302), "loue"),
]


@on_both_databases(db_layers())
class TestExport(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        with db.session_scope() as s:
            add_proprio(s, 1)
            s.flush()
            add_cottage(s, 1, 1, cgt="HAFF0001")
            add_cottage(s, 2, 1, cgt="HAFF0002")
            add_cottage(s, 3, 1, cgt=None)  # unknown to the hub
            add_cottage(s, 4, 1, cgt="")
            add_cottage(s, 5, 1, cgt="HAFF0005")
            s.flush()
            rows = [
                (1, -2, "loue"),  # past: not exported, and cuts the range at today
                (1, -1, "loue"),
                (1, 0, "loue"),
                (1, 1, "loue"),
                (1, 2, "loue"),
                (1, 3, "indisp"),
                (1, 4, "indisp"),
                (1, 6, "loue"),
                (1, 7, "loue"),
                (2, 1, "indisp"),
                (3, 1, "loue"),
                (4, 1, "loue"),
                (5, 300, "loue"),
                (5, 301, "loue"),
                (5, 302, "loue"),
            ]
            # Inserted in random order: the legacy export's ranges followed it.
            random.Random(7).shuffle(rows)
            for heb, n, kind in rows:
                s.add(
                    Reservation(
                        heb_fk=heb, res_date=midnight(day(n)), res_type=kind, res_date_cre=NOW
                    )
                )

    def tearDown(self):
        db.get_engine().dispose()
        db.register_engine(self.layer["engine"])
        super().tearDown()

    def run_script(self, *args):
        return run_console_script(main, args, {"GITES_DB_URL": self.layer["db_url"]}, NOW)

    def outbox(self):
        with db.session_scope() as s:
            return [
                (
                    m.heb_pk,
                    m.cgt_id,
                    m.start_date,
                    m.end_date,
                    m.selection_type,
                    m.sent_at,
                    m.created_at,
                )
                for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            ]

    def test_export_queues_ordered_merged_ranges(self):
        status, out, err = self.run_script()
        self.assertEqual(status, 0, err)
        self.assertEqual(self.outbox(), [(*r, None, NOW) for r in EXPECTED])
        self.assertIn("queued 5 messages (11 days) for 3 cottages from 2030-06-15", out)

    def test_small_batches_and_fetches(self):
        with mock.patch.object(export_module, "BATCH_SIZE", 2), db.session_scope() as s:
            export_module.export(s, TODAY, NOW, batch_size=2)
            self.assertEqual(list(future_ranges(s, TODAY, fetch_size=1)), EXPECTED)
        self.assertEqual([r[:5] for r in self.outbox()], EXPECTED)

    def test_pending_rows_of_the_session_are_exported(self):
        # The Core scan runs on the session's connection: pending ORM rows are
        # flushed first, as a session query would.
        with db.session_scope() as s:
            s.add(Reservation(heb_fk=2, res_date=midnight(day(2)), res_type="indisp"))
            ranges = list(future_ranges(s, TODAY, heb_pk=2))
        self.assertEqual(ranges, [(2, "HAFF0002", day(1), day(2), "indisp")])

    def test_one_cottage(self):
        status, out, err = self.run_script("--heb", "1")
        self.assertEqual(status, 0, err)
        self.assertEqual([r[:5] for r in self.outbox()], EXPECTED[:3])

    def test_dry_run_writes_nothing(self):
        status, out, err = self.run_script("--dry-run")
        self.assertEqual(status, 0, err)
        self.assertEqual(self.outbox(), [])
        lines = out.splitlines()
        self.assertEqual(lines[0], "1\tHAFF0001\t2030-06-15\t2030-06-17\tloue")
        self.assertEqual(len(lines), 6)
        self.assertIn("would queue 5 messages", lines[-1])

    def test_bad_cottage(self):
        for args, message in (
            (("--heb", "3"), "cottage 3 has no CGT code"),
            (("--heb", "99"), "cottage 99 does not exist"),
            (("--heb", "x"), "'x' is not a cottage number"),
            (("--heb", "0"), "'0' is not a cottage number"),
        ):
            with self.subTest(args=args):
                status, _, err = self.run_script(*args)
                self.assertEqual(status, 2)
                self.assertIn(message, err)
        self.assertEqual(self.outbox(), [])

    def test_streams_through_a_server_side_cursor(self):
        session = db.new_session()
        self.addCleanup(session.close)
        ranges = future_ranges(session, TODAY, fetch_size=2)
        self.assertEqual(next(ranges), EXPECTED[0])
        if session.get_bind().dialect.name == "postgresql":
            # psycopg2 streams through a named (DECLARE'd) cursor.
            cursors = session.execute(text("SELECT count(*) FROM pg_cursors")).scalar()
            self.assertGreaterEqual(cursors, 1)
        # Writing while the cursor is open, as export() does between batches.
        session.add(OutboxMessage(
            created_at=NOW, heb_pk=9, cgt_id="X", start_date=TODAY, end_date=TODAY,
            selection_type="loue", attempts=0,
        ))  # fmt: skip
        session.flush()
        self.assertEqual(list(ranges), EXPECTED[1:])
        session.rollback()

    def test_unchanged_cottage_table(self):
        with db.session_scope() as s:
            before = [
                (h.heb_pk, h.heb_calendrier_proprio_date_maj)
                for h in s.scalars(select(Hebergement))
            ]
        self.run_script()
        with db.session_scope() as s:
            after = [
                (h.heb_pk, h.heb_calendrier_proprio_date_maj)
                for h in s.scalars(select(Hebergement))
            ]
        self.assertEqual(before, after)


class TestExportReachesTheHub(DatabaseTestCase):
    """The queued ranges, published by the daemon's relay, as the hub gets them."""

    layer = DAEMON_PG
    QUEUE = "test.export.hub"

    def test_ranges_published_in_order(self):
        from gites.calendar.messaging.codec import decode_site_change
        from gites.calendar.messaging.relay import OutboxRelay
        from gites.calendar.testing.amqp import bind_queue, get_all
        from gites.calendar.testing.daemon import wait_until

        with db.session_scope() as s:
            add_proprio(s, 1)
            s.flush()
            add_cottage(s, 1, 1, cgt="HAFF0001")
            s.flush()
            for n, kind in [(3, "indisp"), (0, "loue"), (4, "indisp"), (1, "loue")]:
                s.add(Reservation(heb_fk=1, res_date=midnight(day(n)), res_type=kind))
            export_module.export(s, TODAY, NOW)
        url = self.layer["amqp_url"]
        bind_queue(url, self.QUEUE)
        relay = OutboxRelay(url, fmt="json")
        relay.start()
        self.addCleanup(relay.stop)

        def all_sent():
            with db.session_scope() as s:
                return None not in s.scalars(select(OutboxMessage.sent_at)).all()

        self.assertTrue(wait_until(all_sent))
        relay.stop()
        received = [decode_site_change(body, ctype) for body, ctype, _ in get_all(url, self.QUEUE)]
        self.assertEqual(
            [(m["hebPk"], m["cgtId"], m["start"].date(), m["end"].date(), m["typeOfSelection"])
             for m in received],
            [(1, "HAFF0001", day(0), day(1), "loue"), (1, "HAFF0001", day(3), day(4), "indisp")],
        )  # fmt: skip
