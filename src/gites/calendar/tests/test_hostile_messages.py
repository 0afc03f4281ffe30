"""Messages that used to kill or jam the daemon, published to the real RabbitMQ.

Each test runs the daemon as ops do (a subprocess), publishes the hostile
message then a good one, and asserts: the same process is still running,
the hostile message is parked once with its reason (or applied, for the
ones that are ordinary JSON), and the good one behind it is applied.
"""

import datetime
import pickle
import time

from sqlalchemy import func, select

from gites.calendar.db import session as db
from gites.calendar.db.models import HubApplied
from gites.calendar.domain.reservations import busy_days
from gites.calendar.messaging import topology
from gites.calendar.testing.amqp import (
    get_all_raw,
    publish_message,
    publish_raw,
    queue_counts,
    refuse_parking,
)
from gites.calendar.testing.broker import clear_policy, list_queues
from gites.calendar.testing.daemon import RunningDaemonTestCase, process_output, wait_until
from gites.calendar.testing.hub_messages import colliding_keys_pickle, hub_body

D = datetime.date
PICKLE = "application/x-python-serialize"
JSON = "application/json"


def applied_notf_ids():
    with db.session_scope() as session:
        return sorted(session.scalars(select(HubApplied.notf_id)))


def applied_count():
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(HubApplied))


def hub_payload(notf_id, start=None, end=None, cgt="HAFF1234"):
    start = start or D(2031, 6, 1)
    end = end or D(2031, 6, 2)
    return {
        "booking_type": "booked",
        "cgt_id": cgt,
        "start_date": start,
        "end_date": end,
        "notf_id": notf_id,
    }


class HostileMessageTestBase(RunningDaemonTestCase):
    GOOD_NOTF = 1000

    def publish_good(self, notf_id=None):
        notf_id = self.GOOD_NOTF if notf_id is None else notf_id
        publish_raw(
            self.url, [hub_body("booked", "HAFF1234", D(2031, 7, 1), D(2031, 7, 1), notf_id)]
        )
        return notf_id

    def publish_compressed_then_good(self, body, content_type, compression):
        """``body`` with a ``compression`` header as the hub sets it, then a good message."""
        publish_message(
            self.url,
            body,
            content_type=content_type,
            content_encoding="binary",
            headers={"compression": compression},
        )
        self.publish_good()

    def publish_pickles_then_good(self, *bodies):
        for body in bodies:
            publish_message(self.url, body, content_type=PICKLE, content_encoding="binary")
        self.publish_good()

    def assert_alive_and_good_applied(self, expected_notf_ids=None, timeout=30):
        expected = expected_notf_ids or [self.GOOD_NOTF]
        started = time.monotonic()
        done = wait_until(lambda: applied_notf_ids() == expected, timeout=timeout)
        self.assertTrue(done, (applied_notf_ids(), process_output(self.daemon)))
        self.assertLess(time.monotonic() - started, timeout)
        self.assertIsNone(self.daemon.poll(), process_output(self.daemon))
        self.assertEqual(self.daemon.pid, self.pid)

    def parked(self):
        # The daemon commits a batch's good messages, then parks its bad ones,
        # then acks: the good one being applied does not mean the bad ones are
        # parked yet.  Once the hub queue holds nothing unacked they are (a
        # message the broker refused to park stays unacked: read anyway).
        wait_until(lambda: list_queues(self.vhost)[topology.HUB_QUEUE.name][:2] == (0, 0), 10)
        return get_all_raw(self.url, topology.PARKING_QUEUE.name)

    def assert_parked_once(self, body, reason_part):
        # The good message behind it is applied: the hostile one was handled first.
        parked = self.parked()
        self.assertEqual(len(parked), 1, (parked, process_output(self.daemon)))
        self.assertEqual(parked[0][0], body)
        self.assertIn(reason_part, parked[0][2][topology.REASON_HEADER])
        self.assertEqual(parked[0][2][topology.ROUTING_KEY_HEADER], "gdw")
        return parked[0]

    def assert_hub_queue_drained(self):
        ready, unacked, _ = list_queues(self.vhost)[topology.HUB_QUEUE.name]
        self.assertEqual((ready, unacked), (0, 0))


class KillersTest(HostileMessageTestBase):
    """The messages of the first list of issue 10: each used to kill the daemon."""

    def test_empty_body_is_parked(self):
        publish_message(self.url, b"", content_type=PICKLE, content_encoding="binary")
        self.publish_good()
        self.assert_alive_and_good_applied()
        self.assert_parked_once(b"", "malformed pickle")
        self.assert_hub_queue_drained()

    def test_empty_body_without_content_type_is_parked(self):
        # kombu types raw bytes without a content type 'application/data'.
        publish_message(self.url, b"")
        self.publish_good()
        self.assert_alive_and_good_applied()
        self.assert_parked_once(b"", "unsupported content type 'application/data'")

    def test_compression_header_not_matching_the_body_is_parked_as_it_came(self):
        body, content_type = hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 5)
        publish_message(
            self.url,
            body,
            content_type=content_type,
            content_encoding="binary",
            headers={"compression": "application/x-gzip", "x-hub": "kept"},
            message_id="m-17",
            correlation_id="c-17",
            priority=3,
        )
        self.publish_good()
        self.assert_alive_and_good_applied()
        parked = self.assert_parked_once(body, "undecodable: error:")
        # As it came, so that it can be replayed.
        self.assertEqual(parked[2]["compression"], "application/x-gzip")
        self.assertEqual(parked[2]["x-hub"], "kept")
        properties = parked[3]
        self.assertEqual(
            (properties["message_id"], properties["correlation_id"], properties["priority"]),
            ("m-17", "c-17", 3),
        )
        self.assertEqual(properties["content_encoding"], "binary")

    def test_compressed_but_invalid_is_parked_inflated_without_its_compression_header(self):
        body = b'{"booking_type": "booked"}'
        publish_message(
            self.url, body, content_type=JSON, content_encoding="utf-8", compression="zlib"
        )
        self.publish_good()
        self.assert_alive_and_good_applied()
        parked = self.assert_parked_once(body, "missing field 'cgt_id'")
        self.assertNotIn("compression", parked[2])
        self.assertEqual(parked[2]["x-gites-original-compression"], "application/x-gzip")

    def test_zlib_bomb_is_parked_without_inflating_it(self):
        import zlib

        bomb = zlib.compress(b" " * (50 * 1024 * 1024))
        self.publish_compressed_then_good(bomb, JSON, "application/x-gzip")
        self.assert_alive_and_good_applied()
        self.assert_parked_once(bomb, "undecodable: BodyTooLarge: body inflates to more than")

    def test_unknown_compression_is_parked(self):
        body, content_type = hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 5)
        self.publish_compressed_then_good(body, content_type, "application/x-no-such-thing")
        self.assert_alive_and_good_applied()
        self.assert_parked_once(body, "undecodable: KeyError")

    def test_content_encoding_that_is_no_codec_is_parked(self):
        body = b'{"booking_type": "booked"}'
        for encoding in ("x-no-such-codec", "zlib_codec"):
            publish_message(self.url, body, content_type=JSON, content_encoding=encoding)
        self.publish_good()
        self.assert_alive_and_good_applied()
        parked = self.parked()
        self.assertEqual([p[0] for p in parked], [body, body])
        reasons = [p[2][topology.REASON_HEADER] for p in parked]
        self.assertEqual(
            reasons,
            [
                "unsupported content encoding 'x-no-such-codec'",
                "content encoding 'zlib_codec' is not a text encoding",
            ],
        )

    def test_dates_9999_12_30_to_9999_12_31_are_parked(self):
        body = pickle.dumps(hub_payload(7, D(9999, 12, 30), D(9999, 12, 31)), protocol=2)
        publish_message(self.url, body, content_type=PICKLE, content_encoding="binary")
        self.publish_good()
        self.assert_alive_and_good_applied()
        self.assert_parked_once(body, "start_date 9999-12-30 is outside the years 1900 to 2200")
        self.assert_hub_queue_drained()

    def test_nack_on_parking_publish_keeps_the_message_then_parks_it_once(self):
        # Also the parking-refused test of point 7: the broker nacks (a
        # reject-publish policy on the parking queue), the message stays
        # unacknowledged, the good one behind it goes on, and once parking
        # works again the message is parked, once.
        policy = refuse_parking(self.vhost)
        self.addCleanup(clear_policy, self.vhost, policy)
        bad = (b"\x80\x02not a pickle", PICKLE)
        publish_raw(self.url, [bad])
        self.publish_good()
        self.assert_alive_and_good_applied()
        time.sleep(1.5)  # at least one more refused attempt
        ready, unacked, _ = list_queues(self.vhost)[topology.HUB_QUEUE.name]
        self.assertEqual((ready, unacked), (0, 1))
        self.assertEqual(queue_counts(self.url, topology.PARKING_QUEUE.name)[0], 0)
        clear_policy(self.vhost, policy)
        self.assertTrue(
            wait_until(lambda: queue_counts(self.url, topology.PARKING_QUEUE.name)[0] == 1),
            process_output(self.daemon),
        )
        self.assertTrue(
            wait_until(lambda: list_queues(self.vhost)[topology.HUB_QUEUE.name][:2] == (0, 0))
        )
        self.assertIsNone(self.daemon.poll())
        self.assert_parked_once(bad[0], "malformed pickle")
        self.assertIn("parking a hub message failed (MessageNacked", process_output(self.daemon))


class JammersTest(HostileMessageTestBase):
    """The second list: messages that jammed the queue or were wrongly parked."""

    def test_kombu_json_serializer_is_applied(self):
        payload = hub_payload(3)
        payload["start_date"], payload["end_date"] = "2031-06-01", "2031-06-02"
        publish_message(self.url, payload, serializer="json")
        self.publish_good()
        self.assert_alive_and_good_applied([3, self.GOOD_NOTF])
        with db.session_scope() as session:
            self.assertEqual(
                busy_days(session, 10),
                [(D(2031, 6, 1), "loue"), (D(2031, 6, 2), "loue"), (D(2031, 7, 1), "loue")],
            )
        self.assertEqual(self.parked(), [])
        self.assert_hub_queue_drained()

    def test_json_bodies_as_str_or_bytes_with_every_ordinary_encoding_are_applied(self):
        payload = hub_payload(0)
        payload["start_date"], payload["end_date"] = "2031-06-01", "2031-06-01"
        import json

        variants = [
            ({"content_encoding": "utf-8"}, "str"),
            ({"content_encoding": "binary"}, "bytes"),
            ({"content_encoding": "latin-1"}, "bytes-latin-1"),
            ({}, "bytes"),
            ({"content_encoding": "utf-8", "compression": "zlib"}, "str"),
            ({"content_encoding": "binary", "compression": "bzip2"}, "bytes"),
        ]
        for notf_id, (options, kind) in enumerate(variants, start=1):
            payload["notf_id"] = notf_id
            text = json.dumps(payload)
            body = text.encode("latin-1") if kind == "bytes-latin-1" else text
            body = text.encode() if kind == "bytes" else body
            publish_message(self.url, body, content_type=JSON, **options)
        self.publish_good()
        self.assert_alive_and_good_applied([*range(1, len(variants) + 1), self.GOOD_NOTF])
        self.assertEqual(self.parked(), [])

    def test_huge_notf_id_is_applied_logged_loudly_and_does_not_block_the_next(self):
        # publishHubMessage's old default: milliseconds since 1970.
        stray = 1_764_000_000_000
        publish_raw(
            self.url,
            [
                hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 5),
                hub_body("unavailable", "HAFF1234", D(2031, 6, 1), D(2031, 6, 3), stray),
            ],
        )
        self.publish_good()  # other days: applied
        self.assert_alive_and_good_applied([5, self.GOOD_NOTF, stray])
        self.assertIn(
            f"hub HAFF1234 notf {stray} is far above the highest applied for this cottage (5)",
            process_output(self.daemon),
        )
        self.assertIn("hubGuard clear HAFF1234 --above 5 --yes", process_output(self.daemon))
        self.assertEqual(self.parked(), [])

    def test_hash_collision_pickle_is_refused_quickly(self):
        body = colliding_keys_pickle(80_000)
        self.assertGreater(len(body), 1_000_000)
        small = colliding_keys_pickle(4000)
        self.assertLess(len(small), 64 * 1024)  # under the size limit: the opcode limit
        started = time.monotonic()
        self.publish_pickles_then_good(body, small)
        self.assert_alive_and_good_applied(timeout=15)
        self.assertLess(time.monotonic() - started, 15)
        parked = self.parked()
        self.assertEqual(len(parked), 2)
        self.assertEqual(
            parked[0][2][topology.REASON_HEADER],
            f"message body of {len(body)} bytes is over the 65536 limit",
        )
        self.assertEqual(parked[1][2][topology.REASON_HEADER], "pickle has more than 5000 opcodes")

    def test_shared_sublist_pickle_is_refused_quickly(self):
        shared = [0] * 1000
        big = pickle.dumps([shared] * 100_000, protocol=2)  # 1 MB that walks as 100 M items
        deep = []
        for _ in range(200):
            deep = [deep, deep]  # 200 levels in 2 kB, thanks to sharing
        deep_body = pickle.dumps(deep, protocol=2)
        self.assertLess(len(deep_body), 4096)
        started = time.monotonic()
        self.publish_pickles_then_good(big, deep_body)
        self.assert_alive_and_good_applied(timeout=15)
        self.assertLess(time.monotonic() - started, 15)
        reasons = [p[2][topology.REASON_HEADER] for p in self.parked()]
        self.assertEqual(
            reasons,
            [
                f"message body of {len(big)} bytes is over the 65536 limit",
                "pickle data nested deeper than 100 levels",
            ],
        )
