"""parkedHubMessages: list, replay or purge the parked hub messages.

Same settings as the daemon (``AMQP_BROKER_URL``, or ``AMQP_BROKER_HOST``
...); RabbitMQ only.  docs/rabbitmq.rst has an example session::

    parkedHubMessages list
    parkedHubMessages replay --all | --match TEXT
    parkedHubMessages purge --match TEXT --yes | --all --yes

``list`` reads every parked message without consuming it (they are fetched
unacknowledged and go back, in their order, when the channel closes) and
prints one line each: position, reason, content type, size, cottage code
when the body is readable; then the count.  ``replay`` publishes the
selected ones to ``booking.update`` / ``gdw`` as they first came (original
content type, ``x-gites-*`` headers removed) with publisher confirms, and
removes each from the parking queue only once its confirm arrived; a
message still bad is parked again by the daemon.  ``purge`` deletes the
selected ones.  ``--match`` selects on the reason, the content type, the
cottage code and the body, case-insensitively.

Exit: 0 done, 1 broker unreachable or a publish not confirmed, 2 bad
arguments or settings.
"""

import argparse
import sys

from gites.calendar.config import mask_text, mask_url
from gites.calendar.messaging import topology
from gites.calendar.messaging.codec import peek_cgt_id
from gites.calendar.messaging.retry import one_line
from gites.calendar.scripts._cli import console_script

PROG = "parkedHubMessages"
REPLAYED_HEADER = "x-gites-replayed"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="one line per parked message, then the count")
    for name, text in (("replay", "publish again to the hub queue"), ("purge", "delete")):
        command = commands.add_parser(name, help=f"{text} the selected messages")
        chosen = command.add_mutually_exclusive_group(required=True)
        chosen.add_argument("--all", action="store_true", help="every parked message")
        chosen.add_argument("--match", metavar="TEXT", help="the messages that mention TEXT")
        if name == "purge":
            command.add_argument("--yes", action="store_true", help="really delete")
    args = parser.parse_args(argv)
    if args.command == "purge" and not args.yes:
        parser.error("purge deletes messages: add --yes")
    return args


class Parked:
    """One parked message as fetched (unacknowledged) from the queue."""

    def __init__(self, position, message):
        self.position = position
        self.message = message
        properties = message.properties
        self.headers = dict(properties.get("application_headers") or {})
        body = message.body
        self.body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        self.reason = str(self.headers.get(topology.REASON_HEADER, ""))
        self.content_type = self.headers.get(topology.CONTENT_TYPE_HEADER)
        if self.content_type is None:
            self.content_type = properties.get("content_type") or ""
        self.content_encoding = properties.get("content_encoding")
        self.cgt_id = peek_cgt_id(self.body, self.content_type, self.content_encoding)

    def line(self):
        reason = self.reason.replace("\n", " ")[:120]
        return (
            f"{self.position:>5}  {self.cgt_id or '-':<9} {self.content_type or '(none)':<32}"
            f" {len(self.body):>7} B  {reason}"
        )

    def matches(self, text):
        text = text.lower()
        haystack = [self.reason, self.content_type or "", self.cgt_id or ""]
        haystack.append(self.body.decode("utf-8", "replace"))
        return any(text in part.lower() for part in haystack)

    def original(self):
        """(body, properties) of the message as it was first published."""
        headers = {k: v for k, v in self.headers.items() if not str(k).startswith("x-gites-")}
        headers[REPLAYED_HEADER] = int(self.headers.get(REPLAYED_HEADER, 0)) + 1
        properties = {
            k: v
            for k, v in self.message.properties.items()
            if k not in ("application_headers", "content_type", "delivery_mode")
        }
        properties.update(application_headers=headers, delivery_mode=2)
        if self.content_type:
            properties["content_type"] = self.content_type
        return self.body, properties


def fetch_all(channel):
    """Every parked message, unacknowledged, in queue order."""
    found = []
    while True:
        message = channel.basic_get(topology.PARKING_QUEUE.name, no_ack=False)
        if message is None:
            return found
        found.append(Parked(len(found) + 1, message))


def run(url, args, out):
    import amqp
    from kombu import Connection

    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        connection.connect()
        channel = connection.channel()
        channel.auto_decode = False
        # Declared as the daemon declares them, so a fresh vhost just lists nothing.
        for entity in (topology.PARKING_EXCHANGE, topology.PARKING_QUEUE, topology.HUB_EXCHANGE):
            entity.bind(channel).declare()
        parked = fetch_all(channel)
        if args.command == "list":
            for item in parked:
                out(item.line())
            out(f"{len(parked)} parked message(s) in {topology.PARKING_QUEUE.name}")
            return 0
        chosen = [p for p in parked if args.all or p.matches(args.match)]
        publisher = connection.channel() if args.command == "replay" else None
        done = 0
        try:
            for item in chosen:
                if publisher is not None:
                    body, properties = item.original()
                    publisher.basic_publish(
                        amqp.Message(body, **properties),
                        exchange=topology.HUB_EXCHANGE.name,
                        routing_key=topology.HUB_ROUTING_KEY,
                        confirm_timeout=topology.CONFIRM_TIMEOUT,
                    )  # returns once confirmed (confirm_publish), raises on a nack
                channel.basic_ack(item.message.delivery_tag)
                done += 1
        except Exception as error:
            out(f"{PROG}: stopped after {done} message(s): {one_line(error)}")
            return 1
        finally:
            verb = "replayed to" if publisher is not None else "purged from"
            target = f"{topology.HUB_EXCHANGE.name}/{topology.HUB_ROUTING_KEY}"
            where = target if publisher is not None else topology.PARKING_QUEUE.name
            out(f"{done} of {len(parked)} parked message(s) {verb} {where}")
        return 0


@console_script(PROG, parse_args=parse_args, require_db=False, database=False)
def main(args, settings, out=print):
    url = topology.broker_url(settings)
    if not topology.is_amqp(url):
        print(f"{PROG}: needs RabbitMQ (AMQP_BROKER_URL); not {url}", file=sys.stderr)
        return 2
    try:
        return run(url, args, out)
    except Exception as error:
        from gites.calendar.messaging.daemon import url_secrets

        text = mask_text(one_line(error), url_secrets(url))
        print(f"{PROG}: broker {mask_url(url)}: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
