"""Test layers for RabbitMQ (a throw-away virtual host per test process), and
the broker helpers.

``RABBITMQ`` creates the vhost ``gites_calendar_test_<pid>`` on the server
named by ``GITES_TEST_AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/``)
with ``rabbitmqctl add_vhost`` + ``set_permissions``, deletes it at tearDown,
and deletes the queues in it before each test.  It exposes
``layer['amqp_url']`` and ``layer['amqp_vhost']``.  A service layer
(:class:`gites.calendar.testing.services.ServiceLayer`): an unreachable broker (or no
``rabbitmqctl``) sets ``layer['amqp_unavailable']`` to the reason, so the
tests skip -- except under ``CI=true``, where setUp fails.

``DAEMON_PG`` = PostgreSQL + RabbitMQ, for the daemon and relay tests (the
daemon itself and their test-case bases: :mod:`gites.calendar.testing.daemon`).

Below the layers: what the tests do on the broker -- stop and start it, cut
connections, list, bind and read queues, publish as the hub or a hostile
publisher would, set queue policies.
"""

import os
import shutil
import socket
import subprocess
from urllib.parse import quote, urlsplit

from plone.testing import Layer

from gites.calendar.testing.db import POSTGRES_DB
from gites.calendar.testing.services import ServiceLayer, ServiceUnavailable

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


def create_vhost(vhost, user="guest"):
    """A fresh, empty ``vhost`` (deleted first if it is there) where ``user``
    may do anything."""
    rabbitmqctl("delete_vhost", vhost, check=False)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")


def delete_vhost(vhost):
    rabbitmqctl("delete_vhost", vhost, check=False)


QUEUE_COUNTS = ("messages_ready", "messages_unacknowledged", "consumers")


def list_queues(vhost, columns=QUEUE_COUNTS):
    """{queue name: the counts ``columns`` of ``rabbitmqctl list_queues``},
    by default (messages ready, messages unacknowledged, consumers)."""
    out = rabbitmqctl("list_queues", "-p", vhost, "--quiet", "--no-table-headers", "name", *columns)
    queues = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 1 + len(columns):
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
            create_vhost(self.vhost, parts.username or "guest")
        except (OSError, subprocess.SubprocessError) as error:
            raise ServiceUnavailable(
                f"RabbitMQ at {parts.hostname}:{parts.port or 5672} is not usable: {error}"
            ) from None
        base = server.split("://", 1)[0] + "://" + parts.netloc
        self["amqp_vhost"] = self.vhost
        self["amqp_url"] = f"{base}/{quote(self.vhost, safe='')}"

    def stop_service(self):
        delete_vhost(self.vhost)
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


def publish_persistent(producer, body, routing_key, content_type, **options):
    """Publish ``body`` as the hub and the relay do: persistent, the bytes as
    they are (``content_encoding`` binary: kombu encodes nothing).  The
    benchmarks publish their backlogs with it too."""
    producer.publish(
        body,
        routing_key=routing_key,
        content_type=content_type,
        content_encoding="binary",
        delivery_mode=2,
        **options,
    )


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
                publish_persistent(producer, body, routing_key, content_type, retry=False)
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
