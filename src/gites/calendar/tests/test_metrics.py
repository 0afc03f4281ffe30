"""/metrics and /healthz of the daemon, scraped over HTTP, on the real
RabbitMQ and PostgreSQL; the database refusing connections."""

import datetime
import signal
import socket
import urllib.error
import urllib.request

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from gites.calendar.db import session as db
from gites.calendar.db.models import HubApplied, OutboxMessage
from gites.calendar.messaging import topology
from gites.calendar.testing.amqp import bind_queue, list_queues, publish_raw
from gites.calendar.testing.daemon import BrokerTestCase, daemon_process, process_output, wait_until
from gites.calendar.testing.hub_messages import hub_body

D = datetime.date


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    """(status, body) of a GET; errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return None, str(error)


def sample(metrics_text, name):
    """The value of one sample line ``name value`` (None when absent)."""
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def applied_count():
    with db.session_scope() as session:
        return len(session.scalars(select(HubApplied.notf_id)).all())


class MetricsTestBase(BrokerTestCase):
    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start_daemon(self, *args):
        daemon = daemon_process(
            self.layer["db_url"], self.url, *args, env={"GITES_METRICS_PORT": str(self.port)}
        )
        self.addCleanup(self.stop, daemon)
        healthy = wait_until(lambda: get(self.base + "/healthz")[0] == 200, timeout=60)
        self.assertTrue(healthy, process_output(daemon))
        return daemon

    def scrape_until(self, name, value, timeout=30):
        """The /metrics text once sample ``name`` has ``value`` (None if never)."""

        def scrape():
            found = get(self.base + "/metrics")[1]
            return found if sample(found, name) == value else None

        return wait_until(scrape, timeout=timeout)

    def stop(self, daemon):
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=15)
        daemon.log.close()


class MetricsTest(MetricsTestBase):
    def test_metrics_move_as_messages_are_applied_and_parked(self):
        bind_queue(self.url, "test.hub.side")  # the hub's queue, for the relay
        daemon = self.start_daemon()
        status, before = get(self.base + "/metrics")
        self.assertEqual(status, 200)
        for name in (
            'gites_calendar_hub_messages_total{outcome="applied"}',
            'gites_calendar_hub_messages_total{outcome="parked"}',
            'gites_calendar_hub_messages_total{outcome="unknown_cottage"}',
            "gites_calendar_hub_last_applied_timestamp_seconds",
            "gites_calendar_relay_published_total",
            "gites_calendar_broker_reconnects_total",
        ):
            self.assertEqual(sample(before, name), 0.0, name)
        self.assertEqual(sample(before, "gites_calendar_outbox_pending"), 0.0)
        self.assertEqual(sample(before, "gites_calendar_hub_batch_duration_seconds_count"), 0.0)
        self.assertEqual(sample(before, "gites_calendar_outbox_oldest_pending_age_seconds"), 0.0)
        publish_raw(
            self.url,
            [
                (b"\x80\x02not a pickle", "application/x-python-serialize"),
                hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 1),
                hub_body("booked", "ZZZZ9", D(2031, 6, 1), D(2031, 6, 1), 2),
            ],
        )
        with db.session_scope() as session:
            session.add(
                OutboxMessage(
                    created_at=datetime.datetime.now(),
                    heb_pk=10,
                    cgt_id="HAFF1234",
                    start_date=D(2031, 8, 1),
                    end_date=D(2031, 8, 2),
                    selection_type="loue",
                )
            )

        after = self.scrape_until("gites_calendar_relay_published_total", 1.0)
        self.assertTrue(after, process_output(daemon))
        after = self.scrape_until('gites_calendar_hub_messages_total{outcome="parked"}', 1.0)
        self.assertTrue(after, process_output(daemon))
        self.assertEqual(sample(after, 'gites_calendar_hub_messages_total{outcome="applied"}'), 1.0)
        self.assertEqual(
            sample(after, 'gites_calendar_hub_messages_total{outcome="unknown_cottage"}'), 1.0
        )
        self.assertGreater(sample(after, "gites_calendar_hub_last_applied_timestamp_seconds"), 0)
        self.assertGreaterEqual(sample(after, "gites_calendar_hub_batch_duration_seconds_count"), 1)
        # Read from the database at scrape time (cached for a second).
        self.assertTrue(self.scrape_until("gites_calendar_outbox_pending", 0.0))
        self.assertEqual(get(self.base + "/nothing")[0], 404)


class DatabaseRefusingTest(MetricsTestBase):
    def admin_engine(self):
        url = make_url(self.layer["db_url"]).set(database="postgres")
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.addCleanup(engine.dispose)
        return engine

    def test_database_refusing_connections_healthz_503_message_waits_then_applied(self):
        daemon = self.start_daemon("--no-relay")
        name = make_url(self.layer["db_url"]).database
        self.assertTrue(name.startswith("gites_calendar_test_"))  # only our throw-away db
        admin = self.admin_engine()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            status, reason = wait_until(
                lambda: (r := get(self.base + "/healthz"))[0] == 503 and r, timeout=30
            )
            self.assertEqual(status, 503)
            self.assertIn("database unreachable", reason)
            publish_raw(self.url, [hub_body("booked", "HAFF1234", D(2031, 6, 1), D(2031, 6, 1), 1)])
            held = wait_until(
                lambda: list_queues(self.vhost)[topology.HUB_QUEUE.name][:2] == (0, 1),
                timeout=30,
                interval=0.5,
            )
            self.assertTrue(held, process_output(daemon))
            self.assertEqual(get(self.base + "/healthz")[0], 503)
            self.assertIsNone(daemon.poll())
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        self.assertTrue(
            wait_until(lambda: applied_count() == 1, timeout=60), process_output(daemon)
        )
        self.assertTrue(wait_until(lambda: get(self.base + "/healthz")[0] == 200, timeout=30))
        self.assertEqual(get(self.base + "/healthz")[1], "ok\n")
        self.assertEqual(list_queues(self.vhost)[topology.HUB_QUEUE.name][:2], (0, 0))
        self.assertIn("kept unacknowledged", process_output(daemon))
        metrics = get(self.base + "/metrics")[1]
        self.assertEqual(
            sample(metrics, 'gites_calendar_hub_messages_total{outcome="applied"}'), 1.0
        )
