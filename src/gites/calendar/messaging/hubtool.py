"""publishHubMessage: play the hub, to try the flow by hand.

Publish a booking change as the hub does (same broker settings as the
daemon: AMQP_BROKER_URL, else AMQP_BROKER_HOST..., else the embedded
transport on var/kombu.db)::

    publishHubMessage --type booked --cgt HAFF1234 --start 2031-07-01 --end 2031-07-05 --notf-id 42

``--notf-id`` is required on a real broker: a made-up number above the
hub's counter would mask the hub's own notifications (see ``hubGuard``).

Print what the site sends to the hub (booking.update.gdw / import)::

    publishHubMessage --listen [--count N] [--timeout SECONDS]

On RabbitMQ ``--listen`` binds a temporary queue of its own (the hub's
queue ``booking.update.gdw`` is left alone), so it shows the messages
published while it runs.  On the embedded transport it reads the queue
``booking.update.gdw`` that the daemon fills there.

Exit codes: 0 done, 1 broker unreachable, 2 bad arguments or settings.
"""

import argparse
import datetime
import json
import pickle
import sys
import time

from kombu import Consumer, Exchange, Producer, Queue

from gites.calendar.config import mask_text, mask_url
from gites.calendar.messaging import topology
from gites.calendar.messaging.codec import (
    JSON_CONTENT_TYPE,
    PICKLE_CONTENT_TYPE,
    InvalidMessage,
    decode_hub_message,
    decode_site_change,
)

PROG = "publishHubMessage"
TYPES = ("booked", "unavailable", "available")


def hub_message(booking_type, cgt_id, start, end, notf_id, fmt="pickle"):
    """(body, content type) of a hub -> site notification, as the hub writes it."""
    payload = {
        "booking_type": booking_type,
        "cgt_id": cgt_id,
        "start_date": start,
        "end_date": end,
        "notf_id": notf_id,
    }
    if fmt == "pickle":
        # The legacy hub's format: kombu's pickle serializer, protocol 2.
        return pickle.dumps(payload, protocol=2), PICKLE_CONTENT_TYPE
    payload["start_date"], payload["end_date"] = start.isoformat(), end.isoformat()
    return json.dumps(payload).encode("utf-8"), JSON_CONTENT_TYPE


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--listen", action="store_true", help="print the site -> hub messages")
    parser.add_argument("--count", type=int, default=0, help="--listen: stop after N messages")
    parser.add_argument(
        "--timeout", type=float, default=0, help="--listen: stop after S seconds idle"
    )
    parser.add_argument("--type", choices=TYPES, help="booking type")
    parser.add_argument("--cgt", help="the cottage's CGT code, e.g. HAFF1234")
    parser.add_argument("--start", type=_date, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", type=_date, help="last day (included), YYYY-MM-DD")
    parser.add_argument(
        "--notf-id",
        type=int,
        help="the hub's notification number; required on a real broker (a guessed one"
        " could outrank the hub's and mask its notifications); on the embedded"
        " transport the default is milliseconds since 1970",
    )
    parser.add_argument("--format", choices=("pickle", "json"), default="pickle")
    args = parser.parse_args(argv)
    if not args.listen:
        missing = [f"--{n}" for n in ("type", "cgt", "start", "end") if getattr(args, n) is None]
        if missing:
            parser.error(f"{', '.join(missing)} required (or --listen)")
    return args


class MissingNotfId(Exception):
    pass


def publish(url, args, out):
    if args.notf_id is None and topology.is_amqp(url):
        # Milliseconds since 1970 are far above the hub's counter: such a
        # message would make the hub's next notifications "superseded".
        raise MissingNotfId(
            "--notf-id is required on a real broker (use the hub's next notification number)"
        )
    notf_id = args.notf_id if args.notf_id is not None else int(time.time() * 1000)
    body, content_type = hub_message(
        args.type, args.cgt, args.start, args.end, notf_id, args.format
    )
    # Checked like the daemon will, so a typo is reported here.
    decode_hub_message(body, content_type)
    with topology.make_connection(url, confirm=True) as connection:
        channel = connection.channel()
        if topology.is_amqp(url):
            topology.HUB_EXCHANGE.bind(channel).declare()
        else:
            topology.declare_for_embedded_hub(channel)
        Producer(channel, exchange=topology.HUB_EXCHANGE).publish(
            body,
            routing_key=topology.HUB_ROUTING_KEY,
            content_type=content_type,
            content_encoding="binary",
            delivery_mode=2,
            retry=False,
        )
    out(
        f"published notf {notf_id}: {args.type} {args.cgt} {args.start}..{args.end}"
        f" ({args.format}) to {topology.HUB_EXCHANGE.name}/{topology.HUB_ROUTING_KEY}"
        f" on {mask_url(url)}"
    )


def listen(url, args, out):
    received = []

    def show(message):
        try:
            decoded = decode_site_change(message.body, message.content_type)
            text = ", ".join(f"{k}={v!s}" for k, v in sorted(decoded.items()))
        except InvalidMessage as error:
            text = f"undecodable ({error})"
        out(f"{message.content_type}: {text}")
        message.ack()
        received.append(message)

    with topology.make_connection(url) as connection:
        channel = connection.channel()
        if topology.is_amqp(url):
            queue = Queue(
                "",
                exchange=Exchange(topology.SITE_EXCHANGE.name, type="direct", durable=True),
                routing_key=topology.SITE_ROUTING_KEY,
                exclusive=True,
                auto_delete=True,
            )
        else:
            queue = topology.SITE_QUEUE
        topology.SITE_EXCHANGE.bind(channel).declare()
        with Consumer(channel, queues=[queue], on_message=show, no_ack=False):
            target = f"{topology.SITE_EXCHANGE.name}/{topology.SITE_ROUTING_KEY}"
            out(f"listening on {target} ({mask_url(url)})")
            idle_since = time.monotonic()
            while not args.count or len(received) < args.count:
                before = len(received)
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    pass
                if len(received) != before:
                    idle_since = time.monotonic()
                elif args.timeout and time.monotonic() - idle_since >= args.timeout:
                    break
    return len(received)


def main(argv=None, out=print):
    # (the console scripts' helper; main moves to scripts/ with issue 14)
    from gites.calendar.scripts._cli import EXIT_SETTINGS, settings_or_report

    args = parse_args(argv)
    settings = settings_or_report(PROG, require_db=False)
    if settings is None:
        return EXIT_SETTINGS
    url = topology.broker_url(settings)
    secrets = [s for s in (settings.amqp_url,) if s]
    try:
        if args.listen:
            listen(url, args, out)
        else:
            publish(url, args, out)
    except (InvalidMessage, MissingNotfId) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as error:
        from gites.calendar.messaging.daemon import url_secrets

        text = mask_text(f"{type(error).__name__}: {error}", url_secrets(*secrets))
        print(f"{PROG}: broker {mask_url(url)}: {text}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
