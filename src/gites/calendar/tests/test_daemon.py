"""The hub -> site daemon against the real RabbitMQ and PostgreSQL.

Each test waits (polling) until the database says the work is done, then
asserts the database rows and the queue contents; nothing is asserted on
durations except the 5 s SIGTERM deadline the acceptance names.
"""

import datetime
import os
import signal
import tempfile
from unittest import mock

from sqlalchemy import func, select, text

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, HubApplied
from gites.calendar.domain.reservations import busy_days, days
from gites.calendar.messaging import consumer, topology
from gites.calendar.testing.amqp import (
    broker_start,
    broker_stop,
    close_vhost_connections,
    get_all,
    list_queues,
    publish_raw,
    queue_counts,
)
from gites.calendar.testing.daemon import (
    BrokerTestCase,
    ConsumerThread,
    daemon_process,
    process_output,
    wait_until,
)
from gites.calendar.testing.hub_messages import hub_body

D = datetime.date
COTTAGES = {10: "HAFF1234", 11: "HAFF2", 12: "LUXX77"}
KINDS = ("booked", "unavailable", "available")
TYPES = {"booked": "loue", "unavailable": "indisp", "available": None}


def applied_count():
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(HubApplied))


def state(heb_pk):
    with db.session_scope() as session:
        return busy_days(session, heb_pk)


def stream(count, seed=7):
    """A deterministic stream of overlapping notifications on three cottages."""
    import random

    rnd = random.Random(seed)  # noqa: S311 - test data
    messages = []
    for notf_id in range(1, count + 1):
        heb_pk = rnd.choice(sorted(COTTAGES))
        start = D(2031, 6, 1) + datetime.timedelta(rnd.randrange(60))
        end = start + datetime.timedelta(rnd.randrange(10))
        messages.append((heb_pk, rnd.choice(KINDS), start, end, notf_id))
    return messages


def expected_state(messages, heb_pk):
    """Apply in notf_id order, in Python: what the database must end with."""
    calendar = {}
    for heb, kind, start, end, _ in sorted(messages, key=lambda m: m[4]):
        if heb != heb_pk:
            continue
        for day in days(start, end):
            calendar[day] = TYPES[kind]
    return sorted((day, kind) for day, kind in calendar.items() if kind)


def bodies(messages, fmt="pickle"):
    return [
        hub_body(kind, COTTAGES[heb], start, end, notf, fmt)
        for heb, kind, start, end, notf in messages
    ]


class DaemonTestBase(BrokerTestCase):
    cottages = COTTAGES

    def assert_final_state(self, messages):
        for heb_pk in COTTAGES:
            self.assertEqual(state(heb_pk), expected_state(messages, heb_pk), heb_pk)
        with db.session_scope() as session:
            notf_ids = sorted(session.scalars(select(HubApplied.notf_id)))
        self.assertEqual(notf_ids, sorted(m[4] for m in messages))

    def assert_queue_empty(self):
        # After the consumers closed: unacknowledged messages would be ready again.
        self.assertEqual(queue_counts(self.url, topology.HUB_QUEUE.name), (0, 0))


class HubToDatabaseTest(DaemonTestBase):
    def test_every_booking_type_pickle_and_json(self):
        messages = [
            (10, "booked", D(2031, 6, 1), D(2031, 6, 5), 1),
            (10, "unavailable", D(2031, 6, 4), D(2031, 6, 8), 2),
            (10, "available", D(2031, 6, 2), D(2031, 6, 2), 3),
            (11, "unavailable", D(2031, 7, 1), D(2031, 7, 1), 4),
        ]
        publish_raw(self.url, bodies(messages[:3], "pickle") + bodies(messages[3:], "json"))
        with ConsumerThread(self.url):
            self.assertEqual(wait_until(lambda: applied_count() == 4), True)
        self.assertEqual(
            state(10),
            [(D(2031, 6, 1), "loue")]
            + [(D(2031, 6, d), "loue") for d in (3,)]
            + [(D(2031, 6, d), "indisp") for d in (4, 5, 6, 7, 8)],
        )
        self.assertEqual(state(11), [(D(2031, 7, 1), "indisp")])
        with db.session_scope() as session:
            self.assertEqual(
                session.get(Hebergement, 10).heb_calendrier_proprio_date_maj, D.today()
            )
        self.assert_queue_empty()
        self.assertEqual(queue_counts(self.url, topology.PARKING_QUEUE.name), (0, 0))

    def test_malicious_pickle_is_parked_and_the_daemon_goes_on(self):
        marker = os.path.join(tempfile.mkdtemp(), "pwned")
        # What an attacker would send: a pickle that calls os.system on load.
        evil = b"cposix\nsystem\n(S'touch " + marker.encode() + b"'\ntR."
        good = (10, "booked", D(2031, 6, 1), D(2031, 6, 1), 1)
        unknown = hub_body("booked", "ZZZZ9", D(2031, 6, 1), D(2031, 6, 1), 2)
        garbage = (b"\x80\x02not a pickle", "application/x-python-serialize")
        publish_raw(
            self.url, [(evil, "application/x-python-serialize"), garbage, unknown, *bodies([good])]
        )
        with ConsumerThread(self.url):
            self.assertEqual(wait_until(lambda: applied_count() == 1), True)
            # The three bad ones come first: once the good one is applied they
            # were handled (parked, or acked for the unknown code).
        self.assert_queue_empty()
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(state(10), [(D(2031, 6, 1), "loue")])
        parked = get_all(self.url, topology.PARKING_QUEUE.name)
        self.assertEqual(
            [p[0] for p in parked], [evil, garbage[0]]
        )  # unknown CGT: acked, not parked
        body, content_type, headers = parked[0]
        self.assertEqual(content_type, "application/x-python-serialize")
        self.assertIn("system", headers[topology.REASON_HEADER])
        self.assertEqual(headers[topology.ROUTING_KEY_HEADER], "gdw")
        self.assertEqual(headers[topology.CONTENT_TYPE_HEADER], "application/x-python-serialize")

    def test_connections_cut_then_resume(self):
        messages = stream(100, seed=3)
        with ConsumerThread(self.url, batch_size=5):
            publish_raw(self.url, bodies(messages[:50]))
            wait_until(lambda: applied_count() > 10)
            close_vhost_connections(self.vhost)
            publish_raw(self.url, bodies(messages[50:]), retry=True)
            self.assertEqual(wait_until(lambda: applied_count() == 100), True)
        self.assert_final_state(messages)
        self.assert_queue_empty()

    def test_1000_messages_through_a_broker_restart(self):
        messages = stream(1000)
        all_bodies = bodies(messages)
        with ConsumerThread(self.url):
            publish_raw(self.url, all_bodies[:400])
            wait_until(lambda: applied_count() >= 100)
            broker_stop()
            try:
                with db.session_scope() as session:
                    self.assertLess(
                        session.scalar(select(func.count()).select_from(HubApplied)), 1000
                    )
            finally:
                broker_start()
            # The publisher retries what was not confirmed: duplicates are possible.
            publish_raw(self.url, all_bodies[400:], retry=True)
            self.assertEqual(wait_until(lambda: applied_count() == 1000, timeout=240), True)
        self.assert_final_state(messages)
        self.assert_queue_empty()


class DaemonProcessTest(DaemonTestBase):
    def test_sigterm_mid_stream_exits_0_and_loses_nothing(self):
        messages = stream(600, seed=11)
        publish_raw(self.url, bodies(messages))
        daemon = daemon_process(self.layer["db_url"], self.url, "--batch-size", "5")
        self.addCleanup(daemon.log.close)
        try:
            self.assertTrue(
                wait_until(lambda: applied_count() >= 20, timeout=120), process_output(daemon)
            )
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=5)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
        self.assertEqual(code, 0, process_output(daemon))
        done = applied_count()
        ready, unacked, consumers = list_queues(self.vhost)[topology.HUB_QUEUE.name]
        self.assertEqual((unacked, consumers), (0, 0))  # all back in the queue
        self.assertEqual(done + ready, 600, process_output(daemon))
        self.assertLess(done, 600)
        # Another run finishes the stream: nothing was lost.
        with ConsumerThread(self.url):
            self.assertEqual(wait_until(lambda: applied_count() == 600), True)
        self.assert_final_state(messages)
        self.assertIn("stopped", process_output(daemon))

    def test_two_daemons_on_one_queue_same_state_as_one(self):
        messages = stream(400, seed=5)
        publish_raw(self.url, bodies(messages))
        # Small batches so that both daemons take turns on the same cottages.
        daemons = [
            daemon_process(self.layer["db_url"], self.url, "--batch-size", "3", "--no-relay")
            for _ in range(2)
        ]
        for daemon in daemons:
            self.addCleanup(daemon.log.close)
        try:
            self.assertEqual(wait_until(lambda: applied_count() == 400, timeout=240), True)
        finally:
            for daemon in daemons:
                daemon.send_signal(signal.SIGTERM)
            codes = [daemon.wait(timeout=10) for daemon in daemons]
        self.assertEqual(codes, [0, 0])
        self.assert_final_state(messages)
        self.assert_queue_empty()


class DatabaseRefusalTest(DaemonTestBase):
    """The fast path (a batch without savepoints) against a refusing database."""

    CONSTRAINT = "test_refuses_notf_13"

    def refuse_notf_13(self):
        # What a DBA's constraint (or a trigger) would do: the database, not
        # the codec, refuses one message.  NOT VALID: existing rows unchecked.
        with db.session_scope() as session:
            session.execute(
                text(
                    f"ALTER TABLE gites_calendar_hub_applied ADD CONSTRAINT {self.CONSTRAINT}"
                    " CHECK (notf_id <> 13) NOT VALID"
                )
            )
        self.addCleanup(self.drop_constraint)

    def drop_constraint(self):
        with db.session_scope() as session:
            session.execute(
                text(
                    "ALTER TABLE gites_calendar_hub_applied"
                    f" DROP CONSTRAINT IF EXISTS {self.CONSTRAINT}"
                )
            )

    def test_refused_message_parked_alone_rest_of_its_batch_applied_and_acked(self):
        messages = stream(40, seed=11)
        refused = messages[12]
        self.assertEqual(refused[4], 13)
        kept = [m for m in messages if m is not refused]
        self.refuse_notf_13()
        publish_raw(self.url, bodies(messages))
        parked_count = lambda: queue_counts(self.url, topology.PARKING_QUEUE.name)[0]  # noqa: E731
        # One batch of all 40: the refusal happens inside the fast path.
        with (
            mock.patch.object(consumer, "MAX_DB_REFUSALS", 2),
            self.assertLogs("gites.calendar.daemon", "INFO") as logs,
            ConsumerThread(self.url, batch_size=100, batch_wait=1.0),
        ):
            self.assertTrue(wait_until(lambda: applied_count() == 39))
            # The 39 others were committed with the first attempt, before the
            # refused one was given up on (retried a second later).
            self.assertEqual(parked_count(), 0)
            self.assertTrue(wait_until(lambda: parked_count() == 1))
        output = "\n".join(logs.output)
        self.assertIn("database refused a batch of 40 message(s)", output)
        self.assertIn("applying them one by one", output)
        self.assertIn("notf 13 refused by the database (2/2)", output)
        self.assert_final_state(kept)  # 13's rows rolled back with its savepoint
        self.assert_queue_empty()  # the 39 acked, the refused one parked then acked
        parked = get_all(self.url, topology.PARKING_QUEUE.name)
        self.assertEqual([p[0] for p in parked], [bodies([refused])[0][0]])
        headers = parked[0][2]
        self.assertIn("refused by the database 2 times", headers[topology.REASON_HEADER])
        self.assertIn(self.CONSTRAINT, headers[topology.REASON_HEADER])
