"""Broker objects and connections: the names of docs/rabbitmq.rst ("Objects") in one place.

Hub -> site: exchange ``booking.update`` (direct, durable), queue
``booking.update.fromwalhebcalendar`` (durable, *no* arguments: the legacy
set-up declared it so, and a declare with other arguments would fail),
routing key ``gdw``.

Site -> hub: exchange ``booking.update.gdw`` (direct, durable), routing key
``import``; the hub binds its own queue ``booking.update.gdw``.

Parking (this package's own): exchange ``booking.update.parked`` (direct,
durable), queue ``booking.update.fromwalhebcalendar.parked`` (durable),
routing key = the queue the message came from.  Messages that cannot be
decoded land there with the reason in their headers; nothing reads them
automatically (docs/rabbitmq.rst shows how to inspect and replay them).

Without a broker URL the daemon and ``publishHubMessage`` use kombu's
SQLAlchemy transport on ``var/kombu.db`` (see :func:`broker_url`).  That
transport keeps exchange bindings in each process's memory, so every
process declares the bindings it publishes through (:func:`declare_for_embedded_hub`).
"""

import os

from kombu import Connection, Exchange, Queue


def _durable_queue(name, exchange, routing_key):
    # No arguments: the legacy set-up declared its queues so.
    return Queue(name, exchange=exchange, routing_key=routing_key, durable=True, auto_delete=False)


HUB_EXCHANGE = Exchange("booking.update", type="direct", durable=True)
HUB_ROUTING_KEY = "gdw"
HUB_QUEUE = _durable_queue("booking.update.fromwalhebcalendar", HUB_EXCHANGE, HUB_ROUTING_KEY)

SITE_EXCHANGE = Exchange("booking.update.gdw", type="direct", durable=True)
SITE_ROUTING_KEY = "import"
# The hub's queue.  Declared by this package only on the embedded transport
# (where nothing else would hold the messages); on RabbitMQ the hub owns it.
SITE_QUEUE = _durable_queue("booking.update.gdw", SITE_EXCHANGE, SITE_ROUTING_KEY)

PARKING_EXCHANGE = Exchange("booking.update.parked", type="direct", durable=True)
PARKING_QUEUE = _durable_queue(
    "booking.update.fromwalhebcalendar.parked", PARKING_EXCHANGE, HUB_QUEUE.name
)

# Headers of a parked message.
REASON_HEADER = "x-gites-reason"
CONTENT_TYPE_HEADER = "x-gites-original-content-type"
ROUTING_KEY_HEADER = "x-gites-original-routing-key"
EXCHANGE_HEADER = "x-gites-original-exchange"

EMBEDDED_DB = os.path.join("var", "kombu.db")

# Seconds to wait for a publisher confirm before the connection is deemed broken.
CONFIRM_TIMEOUT = 10


def default_broker_url(directory=None):
    """The embedded transport's URL: kombu's SQLAlchemy transport on SQLite."""
    path = os.path.abspath(os.path.join(directory or os.getcwd(), EMBEDDED_DB))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return f"sqla+sqlite:///{path}"


def broker_url(settings):
    return settings.amqp_url or default_broker_url()


def is_amqp(url):
    return url.split("://", 1)[0].split("+", 1)[0] in ("amqp", "amqps", "pyamqp")


def make_connection(url, heartbeat=0, confirm=False):
    """A kombu connection; ``confirm`` turns publisher confirms on (AMQP only:
    the embedded transport stores a message synchronously, which is its
    confirm)."""
    if is_amqp(url):
        options = {"confirm_publish": True} if confirm else {}
        return Connection(url, heartbeat=heartbeat, transport_options=options, connect_timeout=3)
    return Connection(url)


def declare_consumer_topology(channel):
    """What the daemon needs for consuming and parking (idempotent)."""
    for entity in (HUB_EXCHANGE, HUB_QUEUE, PARKING_EXCHANGE, PARKING_QUEUE):
        entity.bind(channel).declare()


def declare_site_topology(channel, url):
    SITE_EXCHANGE.bind(channel).declare()
    if not is_amqp(url):
        SITE_QUEUE.bind(channel).declare()


def declare_for_embedded_hub(channel):
    """On the embedded transport, a publisher to ``booking.update`` must know
    the binding itself (bindings are per process there)."""
    HUB_EXCHANGE.bind(channel).declare()
    HUB_QUEUE.bind(channel).declare()
