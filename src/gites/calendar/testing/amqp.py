"""Test layer for RabbitMQ: a throw-away virtual host per test process.

``RABBITMQ`` creates the vhost ``gites_calendar_test_<pid>`` on the server
named by ``GITES_TEST_AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/``)
with ``rabbitmqctl add_vhost`` + ``set_permissions``, deletes it at tearDown,
and deletes the queues in it before each test.  It exposes
``layer['amqp_url']`` and ``layer['amqp_vhost']``.  A service layer
(:class:`gites.calendar.testing.ServiceLayer`): an unreachable broker (or no
``rabbitmqctl``) sets ``layer['amqp_unavailable']`` to the reason, so the
tests skip -- except under ``CI=true``, where setUp fails.

``DAEMON_PG`` = PostgreSQL + RabbitMQ, for the daemon and relay tests.
"""

import os
import shutil
import signal
import socket
import subprocess
from urllib.parse import quote, urlsplit

from plone.testing import Layer

from gites.calendar.testing import (
    POSTGRES_DB,
    DatabaseTestCase,
    ServiceLayer,
    ServiceUnavailable,
)
from gites.calendar.testing.fixtures import seed_cottages

DEFAULT_TEST_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def rabbitmqctl(*args, check=True, timeout=60):
    """Run rabbitmqctl; return its stdout (raises CalledProcessError if check)."""
    executable = shutil.which("rabbitmqctl")
    if executable is None:
        raise FileNotFoundError("rabbitmqctl is not on PATH")
    result = subprocess.run(  # noqa: S603 - fixed executable, arguments from the tests
        [executable, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(
            result.returncode, result.args, result.stdout, result.stderr
        )
    return result.stdout


def broker_stop():
    """Stop the RabbitMQ application (every vhost!): keep the outage short."""
    rabbitmqctl("stop_app")


def broker_start():
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")


def close_vhost_connections(vhost, reason="test: connection cut"):
    rabbitmqctl("close_all_connections", "-p", vhost, reason)


def list_queues(vhost):
    """{queue name: (messages ready, messages unacknowledged, consumers)}."""
    out = rabbitmqctl(
        "list_queues",
        "-p",
        vhost,
        "--quiet",
        "--no-table-headers",
        "name",
        "messages_ready",
        "messages_unacknowledged",
        "consumers",
    )
    queues = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            queues[parts[0]] = tuple(int(p) for p in parts[1:])
    return queues


class RabbitMQLayer(ServiceLayer):
    service = "amqp"

    def start_service(self):
        server = os.environ.get("GITES_TEST_AMQP_URL") or DEFAULT_TEST_AMQP_URL
        parts = urlsplit(server)
        self.vhost = f"gites_calendar_test_{os.getpid()}"
        try:
            with socket.create_connection((parts.hostname, parts.port or 5672), timeout=5):
                pass
            rabbitmqctl("delete_vhost", self.vhost, check=False)
            rabbitmqctl("add_vhost", self.vhost)
            rabbitmqctl(
                "set_permissions", "-p", self.vhost, parts.username or "guest", ".*", ".*", ".*"
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise ServiceUnavailable(
                f"RabbitMQ at {parts.hostname}:{parts.port or 5672} is not usable: {error}"
            ) from None
        base = server.split("://", 1)[0] + "://" + parts.netloc
        self["amqp_vhost"] = self.vhost
        self["amqp_url"] = f"{base}/{quote(self.vhost, safe='')}"

    def stop_service(self):
        rabbitmqctl("delete_vhost", self.vhost, check=False)
        del self["amqp_url"]
        del self["amqp_vhost"]

    def reset_service(self):
        self.delete_queues()

    def delete_queues(self):
        """Delete the queues tests use (AMQP: rabbitmqctl takes seconds per call)."""
        from kombu import Connection

        from gites.calendar.messaging import topology

        names = {topology.HUB_QUEUE.name, topology.PARKING_QUEUE.name, topology.SITE_QUEUE.name}
        names.update(TEST_QUEUES)
        with Connection(self["amqp_url"]) as connection:
            channel = connection.channel()
            for name in sorted(names):
                channel.queue_delete(name)


RABBITMQ = RabbitMQLayer(name="gites.calendar:RabbitMQ")
DAEMON_PG = Layer(bases=(POSTGRES_DB, RABBITMQ), name="gites.calendar:PostgreSQL+RabbitMQ")


# -- helpers for the messaging tests -------------------------------------------


def hub_body(kind, cgt, start, end, notf_id, fmt="pickle"):
    """A hub -> site body as the legacy hub (pickle) or a newer one (json) sends it."""
    from gites.calendar.scripts.hub_tool import hub_message

    return hub_message(kind, cgt, start, end, notf_id, fmt)


def publish_raw(url, messages, exchange="booking.update", routing_key="gdw", retry=False):
    """Publish (body, content_type) pairs with confirms, in order.

    ``retry``: on a broker error, reconnect and publish the unconfirmed
    message again (so it may arrive twice, as with a real publisher).
    """
    import time

    from kombu import Connection, Exchange, Producer

    from gites.calendar.messaging import topology

    pending = list(messages)
    while pending:
        connection = Connection(url, transport_options={"confirm_publish": True})
        try:
            channel = connection.channel()
            target = Exchange(exchange, type="direct", durable=True, channel=channel)
            target.declare()
            if exchange == topology.HUB_EXCHANGE.name:
                topology.HUB_QUEUE.bind(channel).declare()
            producer = Producer(channel, exchange=target)
            while pending:
                body, content_type = pending[0]
                producer.publish(
                    body,
                    routing_key=routing_key,
                    content_type=content_type,
                    content_encoding="binary",
                    delivery_mode=2,
                    retry=False,
                )
                pending.pop(0)
        except Exception:
            if not retry:
                raise
            time.sleep(0.5)
        finally:
            try:
                connection.release()
            except Exception:  # noqa: S110 - a dead connection may fail to close
                pass


def get_all(url, queue_name):
    """Every message of a queue (acknowledged): [(body, content_type, headers)]."""
    from kombu import Connection, Queue

    found = []
    with Connection(url) as connection:
        queue = Queue(queue_name).bind(connection.channel())
        while True:
            message = queue.get(no_ack=False)
            if message is None:
                return found
            found.append((message.body, message.content_type, dict(message.headers or {})))
            message.ack()


def get_all_raw(url, queue_name):
    """Like :func:`get_all`, but the bodies as the broker holds them (bytes,
    never decompressed nor decoded): [(body, content_type, headers, properties)]."""
    import amqp

    parts = urlsplit(url)
    vhost = parts.path[1:] or "/"
    from urllib.parse import unquote

    found = []
    connection = amqp.Connection(
        f"{parts.hostname}:{parts.port or 5672}",
        userid=parts.username or "guest",
        password=parts.password or "guest",
        virtual_host=unquote(vhost),
    )
    connection.connect()
    try:
        channel = connection.channel()
        channel.auto_decode = False
        while True:
            message = channel.basic_get(queue_name, no_ack=False)
            if message is None:
                return found
            body = message.body if isinstance(message.body, bytes) else message.body.encode()
            properties = message.properties
            found.append(
                (
                    body,
                    properties.get("content_type"),
                    dict(properties.get("application_headers") or {}),
                    properties,
                )
            )
            channel.basic_ack(message.delivery_tag)
    finally:
        connection.close()


def queue_counts(url, queue_name):
    """(messages ready, consumers) of a queue, through a passive declare."""
    from kombu import Connection

    with Connection(url) as connection:
        _, ready, consumers = connection.channel().queue_declare(queue_name, passive=True)
        return ready, consumers


TEST_QUEUES = set()  # deleted before each test


def bind_queue(url, name, exchange="booking.update.gdw", routing_key="import", arguments=None):
    """A durable queue bound as the hub binds its own (survives stop_app)."""
    from kombu import Connection, Exchange, Queue

    TEST_QUEUES.add(name)
    with Connection(url) as connection:
        channel = connection.channel()
        Queue(
            name,
            exchange=Exchange(exchange, type="direct", durable=True),
            routing_key=routing_key,
            durable=True,
            queue_arguments=arguments,
        ).bind(channel).declare()


def wait_until(predicate, timeout=90.0, interval=0.1):
    """Poll until predicate() is true; return its last value (tests assert it)."""
    import time

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
        import threading

        self.thread = threading.Thread(target=self.consumer.run, daemon=True)
        self.thread.start()
        return self.consumer

    def __exit__(self, *exc):
        self.consumer.stop()
        self.thread.join(15)


def daemon_process(db_url, amqp_url, *args, env=None):
    """The daemon as ops run it: a subprocess with its settings in the environment."""
    import sys
    import tempfile

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


def publish_message(url, body, routing_key="gdw", **options):
    """Publish one message to ``booking.update`` as any kombu publisher would.

    ``options`` go to ``Producer.publish`` as they are (``content_type``,
    ``content_encoding``, ``serializer``, ``compression``, ``headers`` ...):
    hostile publishers are the point.  Confirmed."""
    from kombu import Connection, Producer

    from gites.calendar.messaging import topology

    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        topology.HUB_EXCHANGE.bind(channel).declare()
        topology.HUB_QUEUE.bind(channel).declare()
        Producer(channel, exchange=topology.HUB_EXCHANGE).publish(
            body, routing_key=routing_key, delivery_mode=2, retry=False, **options
        )


def set_policy(vhost, name, pattern, definition):
    """A queue policy in the test vhost (e.g. one that refuses publishes)."""
    import json

    rabbitmqctl(
        "set_policy", "-p", vhost, "--apply-to", "queues", name, pattern, json.dumps(definition)
    )


def clear_policy(vhost, name):
    rabbitmqctl("clear_policy", "-p", vhost, name, check=False)


def refuse_parking(vhost, name="test-refuse-parking"):
    """Make the parking queue nack every publish (full at length 0)."""
    from gites.calendar.messaging import topology

    pattern = "^" + topology.PARKING_QUEUE.name.replace(".", r"\.") + "$"
    set_policy(vhost, name, pattern, {"max-length": 0, "overflow": "reject-publish"})
    return name


def colliding_keys_pickle(count):
    """A pickle of ``{k * (2**61 - 1): 0 for k in range(count)}`` (keys
    that all share one hash), written directly: building that dict to
    pickle it would itself take quadratic time."""
    import pickle

    parts = [b"\x80\x02}q\x00"]
    for first in range(0, count, 1000):
        parts.append(b"(")
        for k in range(first, min(first + 1000, count)):
            parts.append(pickle.dumps(k * (2**61 - 1), 2)[2:-1] + b"K\x00")
        parts.append(b"u")
    parts.append(b".")
    return b"".join(parts)


def publish_messages(url, messages):
    """Publish [(body, options)] to ``booking.update`` / ``gdw`` on one
    connection, confirmed, in order (``options`` as for :func:`publish_message`)."""
    from kombu import Connection, Producer

    from gites.calendar.messaging import topology

    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        topology.HUB_EXCHANGE.bind(channel).declare()
        topology.HUB_QUEUE.bind(channel).declare()
        producer = Producer(channel, exchange=topology.HUB_EXCHANGE)
        for body, options in messages:
            producer.publish(body, routing_key="gdw", delivery_mode=2, retry=False, **options)


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
