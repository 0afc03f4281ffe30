"""The daemon under test, and the test-case bases of the broker tests.

:func:`daemon_process` runs the daemon as ops run it (a subprocess, its
settings in the environment), :class:`ConsumerThread` a consumer in the
test process; :func:`wait_until` polls for what they do.  On
``DAEMON_PG`` (PostgreSQL + RabbitMQ, :mod:`gites.calendar.testing.amqp`),
:class:`BrokerTestCase` seeds a proprio and its cottages, and
:class:`RunningDaemonTestCase` also starts the daemon and waits until it
consumes.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from gites.calendar.testing.amqp import DAEMON_PG, list_queues
from gites.calendar.testing.fixtures import seed_cottages
from gites.calendar.testing.services import DatabaseTestCase


def wait_until(predicate, timeout=90.0, interval=0.1):
    """Poll until predicate() is true; return its last value (tests assert it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class ConsumerThread:
    """A HubConsumer in a thread of the test process (same registered engine)."""

    def __init__(self, url, **options):
        from gites.calendar.messaging.consumer import HubConsumer

        self.consumer = HubConsumer(url, heartbeat=10, **options)
        self.thread = None

    def __enter__(self):
        self.thread = threading.Thread(target=self.consumer.run, daemon=True)
        self.thread.start()
        return self.consumer

    def __exit__(self, *exc):
        self.consumer.stop()
        self.thread.join(15)


def daemon_process(db_url, amqp_url, *args, env=None):
    """The daemon as ops run it: a subprocess with its settings in the environment."""
    environment = dict(os.environ)
    environment.pop("AMQP_BROKER_HOST", None)
    environment.update(
        {"GITES_DB_URL": db_url, "AMQP_BROKER_URL": amqp_url, "AMQP_HEARTBEAT": "10"}
    )
    environment.update(env or {})
    # A file, not a pipe: a pipe nobody reads would block the daemon's logging.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by the test
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "gites.calendar.scripts.hub_daemon", *args],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.log = log
    return process


def process_output(process):
    process.log.seek(0)
    return process.log.read()


class BrokerTestCase(DatabaseTestCase):
    """PostgreSQL and RabbitMQ; ``self.url`` / ``self.vhost`` the test vhost;
    proprio 1 and its ``cottages`` ({heb_pk: CGT code}) seeded."""

    layer = DAEMON_PG
    cottages = {10: "HAFF1234"}

    def setUp(self):
        super().setUp()
        self.url = self.layer["amqp_url"]
        self.vhost = self.layer["amqp_vhost"]
        seed_cottages(self.cottages)


class RunningDaemonTestCase(BrokerTestCase):
    """One proprio, cottage 10 ``HAFF1234``, and the daemon running as ops run
    it (a subprocess, no relay), consuming the hub queue when a test starts.
    ``self.pid`` is its process id; ``self.url`` / ``self.vhost`` the broker."""

    def setUp(self):
        super().setUp()
        from gites.calendar.messaging import topology

        self.daemon = daemon_process(self.layer["db_url"], self.url, "--no-relay")
        self.addCleanup(self.stop_daemon)
        consuming = wait_until(
            lambda: list_queues(self.vhost).get(topology.HUB_QUEUE.name, (0, 0, 0))[2] == 1,
            timeout=60,
            interval=0.5,
        )
        self.assertTrue(consuming, process_output(self.daemon))
        self.pid = self.daemon.pid

    def stop_daemon(self):
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.daemon.log.close()
