"""parkedHubMessages (list, replay, purge) and the notf_id guard tools, on the
real RabbitMQ and PostgreSQL."""

import datetime
import os
import pickle
import subprocess
import sys
from unittest import mock

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import HubApplied
from gites.calendar.domain.reservations import busy_days
from gites.calendar.messaging import topology
from gites.calendar.scripts import hub_tool
from gites.calendar.scripts import parked_messages as parked_script
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.amqp import DAEMON_PG, get_all_raw, publish_raw, queue_counts
from gites.calendar.testing.daemon import ConsumerThread, wait_until
from gites.calendar.testing.fixtures import seed_cottages
from gites.calendar.testing.hub_messages import hub_body

D = datetime.date
PICKLE = "application/x-python-serialize"


def applied_notf_ids():
    with db.session_scope() as session:
        return sorted(session.scalars(select(HubApplied.notf_id)))


class ToolsTestBase(DatabaseTestCase):
    layer = DAEMON_PG

    def setUp(self):
        super().setUp()
        self.url = self.layer["amqp_url"]
        seed_cottages()
        env = {"AMQP_BROKER_URL": self.url, "GITES_DB_URL": self.layer["db_url"]}
        patcher = mock.patch.dict(os.environ, env)
        patcher.start()
        self.addCleanup(patcher.stop)

    def parked_count(self):
        try:
            return queue_counts(self.url, topology.PARKING_QUEUE.name)[0]
        except Exception:  # not declared yet: the consumer is starting
            return 0

    def tool(self, *argv):
        lines = []
        code = parked_script.main(list(argv), lines.append)
        return code, lines

    def park(self, messages, count, **options):
        publish_raw(self.url, messages)
        with ConsumerThread(self.url, **options):
            self.assertTrue(wait_until(lambda: self.parked_count() == count, timeout=30))


class ParkedHubMessagesTest(ToolsTestBase):
    def big_good(self, notf_id):
        """A valid message over a 1024-byte limit (an extra field)."""
        payload = {
            "booking_type": "booked",
            "cgt_id": "HAFF1234",
            "start_date": D(2031, 6, 1),
            "end_date": D(2031, 6, 2),
            "notf_id": notf_id,
            "comment": "x" * 2000,
        }
        return pickle.dumps(payload, 2), PICKLE

    def test_list_prints_each_parked_message_and_consumes_nothing(self):
        garbage = (b"\x80\x02not a pickle", PICKLE)
        self.park([garbage, self.big_good(1)], 2, max_bytes=1024)
        code, lines = self.tool("list")
        self.assertEqual(code, 0)
        self.assertEqual(len(lines), 3, lines)
        self.assertRegex(
            lines[0], r"^\s+1  -\s+application/x-python-serialize\s+14 B  malformed pickle"
        )
        self.assertRegex(
            lines[1],
            r"^\s+2  HAFF1234\s+application/x-python-serialize\s+\d+ B  message body of \d+ bytes"
            r" is over the 1024 limit",
        )
        self.assertEqual(lines[2], f"2 parked message(s) in {topology.PARKING_QUEUE.name}")
        self.assertEqual(self.parked_count(), 2)  # nothing consumed
        code, again = self.tool("list")
        self.assertEqual(again, lines)  # same order after the listing

    def test_replay_all_sends_back_and_a_still_bad_one_is_parked_again_once(self):
        garbage = (b"\x80\x02not a pickle", PICKLE)
        self.park([garbage, self.big_good(1)], 2, max_bytes=1024)
        code, lines = self.tool("replay", "--all")
        self.assertEqual(code, 0)
        self.assertEqual(lines, ["2 of 2 parked message(s) replayed to booking.update/gdw"])
        self.assertEqual(self.parked_count(), 0)
        self.assertEqual(queue_counts(self.url, topology.HUB_QUEUE.name)[0], 2)
        with ConsumerThread(self.url):  # the default limit: the big one is fine now
            self.assertTrue(wait_until(lambda: applied_notf_ids() == [1]))
            self.assertTrue(wait_until(lambda: self.parked_count() == 1))
        parked = get_all_raw(self.url, topology.PARKING_QUEUE.name)
        self.assertEqual([p[0] for p in parked], [garbage[0]])
        headers = parked[0][2]
        self.assertEqual(headers["x-gites-replayed"], 1)
        self.assertEqual(parked[0][1], PICKLE)
        self.assertEqual(queue_counts(self.url, topology.HUB_QUEUE.name)[0], 0)

    def test_replay_match_and_purge_match(self):
        garbage = (b"\x80\x02not a pickle", PICKLE)
        bad_date = hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 3, "json")
        bad_date = (bad_date[0].replace(b"2031-06-01", b"9999-12-31"), bad_date[1])
        self.park([garbage, bad_date, self.big_good(1)], 3, max_bytes=1024)
        code, lines = self.tool("purge", "--match", "MALFORMED", "--yes")
        self.assertEqual(
            (code, lines),
            (0, ["1 of 3 parked message(s) purged from " + topology.PARKING_QUEUE.name]),
        )
        code, lines = self.tool("replay", "--match", "over the 1024")
        self.assertEqual(lines, ["1 of 2 parked message(s) replayed to booking.update/gdw"])
        code, lines = self.tool("list")
        self.assertEqual(len(lines), 2)
        self.assertIn("outside the years 1900 to 2200", lines[0])
        with self.assertRaises(SystemExit):
            parked_script.parse_args(["purge", "--all"])  # no --yes
        code, lines = self.tool("purge", "--all", "--yes")
        self.assertEqual(self.parked_count(), 0)


class NotfGuardTest(ToolsTestBase):
    def guard(self, *argv):
        return subprocess.run(  # noqa: S603 - our interpreter and module
            [sys.executable, "-m", "gites.calendar.scripts.hub_guard", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
            check=False,
        )

    def test_far_above_notf_id_is_logged_loudly_and_hub_guard_clears_it(self):
        stray = 1_764_000_000_000  # publishHubMessage's old default: ms since 1970
        with (
            self.assertLogs("gites.calendar.daemon", "INFO") as logs,
            ConsumerThread(self.url),
        ):
            publish_raw(
                self.url,
                [
                    hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 5),
                    hub_body("unavailable", "HAFF1234", D(2031, 6, 1), D(2031, 6, 10), stray),
                    hub_body("available", "HAFF1234", D(2031, 6, 2), D(2031, 6, 3), 6),
                ],
            )
            self.assertTrue(wait_until(lambda: applied_notf_ids() == [5, 6, stray]))
        output = "\n".join(logs.output)
        self.assertIn(f"ERROR:gites.calendar.daemon:hub HAFF1234 notf {stray} is far above", output)
        self.assertIn("hubGuard clear HAFF1234 --above 5 --yes", output)
        self.assertIn("notf 6: superseded", output)
        shown = self.guard("show", "HAFF1234")
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertTrue(shown.stdout.startswith(f"10 notf {stray} 2031-06-01..2031-06-10"))
        self.assertIn("3 guard row(s)", shown.stdout)
        self.assertEqual(self.guard("clear", "HAFF1234", "--above", "6").returncode, 2)  # no --yes
        cleared = self.guard("clear", "HAFF1234", "--above", "6", "--yes")
        self.assertEqual(cleared.stdout.strip(), "1 guard row(s) deleted", cleared.stderr)
        self.assertEqual(applied_notf_ids(), [5, 6])
        with ConsumerThread(self.url):
            publish_raw(
                self.url, [hub_body("available", "HAFF1234", D(2031, 6, 2), D(2031, 6, 10), 7)]
            )
            self.assertTrue(wait_until(lambda: applied_notf_ids() == [5, 6, 7]))
        with db.session_scope() as session:
            self.assertEqual(busy_days(session, 10), [(D(2031, 6, 1), "indisp")])
        self.assertEqual(self.guard("clear", "NOPE1").returncode, 2)

    def test_publish_hub_message_requires_notf_id_on_rabbitmq(self):
        from kombu import Connection

        with Connection(self.url) as connection:  # the daemon's queue, as in production
            topology.declare_consumer_topology(connection.channel())
        argv = [
            "--type",
            "booked",
            "--cgt",
            "HAFF1234",
            "--start",
            "2031-07-01",
            "--end",
            "2031-07-02",
        ]
        with mock.patch("sys.stderr") as stderr:
            self.assertEqual(hub_tool.main(argv, print), 2)
        written = "".join(call.args[0] for call in stderr.write.call_args_list)
        self.assertIn("--notf-id is required on a real broker", written)
        self.assertEqual(queue_counts(self.url, topology.HUB_QUEUE.name)[0], 0)
        lines = []
        self.assertEqual(hub_tool.main([*argv, "--notf-id", "8"], lines.append), 0)
        self.assertIn("published notf 8", lines[0])
        self.assertEqual(queue_counts(self.url, topology.HUB_QUEUE.name)[0], 1)
