"""Parking: a message that cannot be applied goes, as it came, to the parking queue.

The body is published byte for byte with its properties and headers, plus
the ``x-gites-*`` headers saying why and where it came from, persistent and
confirmed.  Two things cannot be kept as they were: a body kombu
decompressed is parked decompressed (its ``compression`` header moves to
``x-gites-original-compression``, so a replay is not decompressed twice),
and ``user_id``/``expiration`` go to headers (the broker checks the first
against the parking connection's user; the second would make the parked
copy vanish).

:meth:`Parker.park` never raises: a broker that nacks, a closed channel, a
confirm that does not come all return False, and the caller keeps the
message unacknowledged to try again later.  Nothing is dropped.
"""

import logging

from kombu import Producer

from gites.calendar.messaging import topology
from gites.calendar.messaging.retry import one_line

logger = logging.getLogger("gites.calendar.daemon")

MAX_REASON = 1000
COMPRESSION_HEADER = "x-gites-original-compression"
# Properties published again as they were.
_KEPT_PROPERTIES = (
    "message_id",
    "correlation_id",
    "reply_to",
    "priority",
    "timestamp",
    "type",
    "app_id",
)
_MOVED_PROPERTIES = ("user_id", "expiration")


def raw_body(message):
    """The body as bytes: py-amqp hands an empty body over as ``''``."""
    body = message.body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode(message.content_encoding or "utf-8")
        except (LookupError, UnicodeError, TypeError):
            return body.encode("utf-8", "surrogateescape")
    return body


def parked_message(message, reason, decompressed=False):
    """(body, publish keyword arguments) of the parked copy of ``message``."""
    info = message.delivery_info or {}
    properties = dict(message.properties or {})
    headers = dict(message.headers or {})
    if decompressed and "compression" in headers:
        headers[COMPRESSION_HEADER] = headers.pop("compression")
    for name in _MOVED_PROPERTIES:
        if properties.get(name) is not None:
            headers[f"x-gites-original-{name.replace('_', '-')}"] = str(properties[name])
    headers.update(
        {
            topology.REASON_HEADER: str(reason)[:MAX_REASON],
            topology.CONTENT_TYPE_HEADER: message.content_type or "",
            topology.ROUTING_KEY_HEADER: info.get("routing_key") or "",
            topology.EXCHANGE_HEADER: info.get("exchange") or "",
        }
    )
    options = {
        name: properties[name] for name in _KEPT_PROPERTIES if properties.get(name) is not None
    }
    options.update(
        content_type=message.content_type or "application/octet-stream",
        content_encoding=message.content_encoding or "binary",
        headers=headers,
        delivery_mode=2,
    )
    return raw_body(message), options


class Parker:
    """Publishes to the parking exchange on a channel of its own.

    Its own channel: a confirm wait on the consuming channel would
    interleave with deliveries.  After a failure the channel is dropped and
    a new one opened at the next attempt (a nack or a channel error leaves
    the old one unusable or closed)."""

    def __init__(self, connection, log):
        self.connection = connection
        self.log = log
        self._producer = None

    def park(self, item, decompressed=False):
        """Publish ``item.message`` with ``item.reason``; True once confirmed."""
        try:
            body, options = parked_message(item.message, item.reason, decompressed)
            if self._producer is None:
                self._producer = Producer(
                    self.connection.channel(), exchange=topology.PARKING_EXCHANGE
                )
            self._producer.publish(
                body,
                routing_key=topology.PARKING_QUEUE.routing_key,
                retry=False,
                confirm_timeout=topology.CONFIRM_TIMEOUT,
                **options,
            )
        except Exception as error:  # nack, channel or connection error, timeout: try later
            self.log(
                logging.WARNING,
                "parking a hub message failed (%s); it stays unacknowledged and is tried again",
                one_line(error),
            )
            self.drop()
            return False
        return True

    def drop(self):
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.channel.close()
            except Exception:  # already closed by the broker, or the connection is gone
                logger.debug("closing the parking channel failed", exc_info=True)
