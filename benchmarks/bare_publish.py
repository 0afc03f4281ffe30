"""Baseline of the outbox relay: a bare kombu publisher with confirms (a subprocess).

Reads the pending outbox rows with one SELECT (psycopg2), encodes each with
the same codec as the relay (legacy pickle), publishes it persistent to
``booking.update.gdw`` / ``import`` and waits for the broker's confirm of
each message (kombu ``confirm_publish``).  ``--mark``: also set ``sent_at``
and commit after each confirm (the relay's work before it batched).
``--window N``: publish N messages, then wait for the broker's confirms of
all of them (py-amqp ``confirm_select`` + ``basic_ack`` events, written
here without the daemon's code), then the next N: the relay's way.

Prints ``bare publish ready`` once connected.
"""

import argparse
import datetime
import sys

from kombu import Connection, Producer
import psycopg2

from gites.calendar.messaging import topology
from gites.calendar.messaging.codec import SiteChange, encode_site_change
from gites.calendar.testing.amqp import publish_persistent


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--mark", action="store_true")
    parser.add_argument("--window", type=int, default=0)
    args = parser.parse_args(argv)
    db = psycopg2.connect(args.dsn)
    options = {} if args.window else {"confirm_publish": True}
    with Connection(args.amqp, transport_options=options) as conn:
        channel = conn.channel()
        topology.SITE_EXCHANGE.bind(channel).declare()
        producer = Producer(channel, exchange=topology.SITE_EXCHANGE)
        acked = [0]  # highest publish number confirmed (RabbitMQ confirms in order)
        if args.window:
            channel.confirm_select()
            channel.events["basic_ack"].add(
                lambda tag, multiple: acked.__setitem__(0, max(acked[0], tag))
            )
            channel.events["basic_nack"].add(lambda tag, multiple: sys.exit("nacked"))
        print("bare publish ready", flush=True)
        with db.cursor() as cur:
            cur.execute(
                "SELECT id, heb_pk, cgt_id, start_date, end_date, selection_type"
                " FROM gites_calendar_outbox WHERE sent_at IS NULL ORDER BY id"
            )
            rows = cur.fetchall()
        db.commit()
        for published, (row_id, heb_pk, cgt_id, start, end, selection_type) in enumerate(rows, 1):
            body, content_type = encode_site_change(
                SiteChange(heb_pk, cgt_id, start, end, selection_type), fmt="pickle"
            )
            publish_persistent(
                producer,
                body,
                topology.SITE_ROUTING_KEY,
                content_type,
                headers={"x-gites-outbox-id": row_id},
                message_id=f"gites-outbox-{row_id}",
                retry=False,
            )
            if args.window and (published % args.window == 0 or published == len(rows)):
                while acked[0] < published:
                    conn.drain_events(timeout=10)
            if args.mark:
                with db.cursor() as cur:
                    cur.execute(
                        "UPDATE gites_calendar_outbox SET sent_at = %s, attempts = attempts + 1"
                        " WHERE id = %s",
                        (datetime.datetime.now(), row_id),
                    )
                db.commit()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
