"""Baseline of the outbox relay: a bare kombu publisher with confirms (a subprocess).

Reads the pending outbox rows with one SELECT (psycopg2), encodes each with
the same codec as the relay (legacy pickle), publishes it persistent to
``booking.update.gdw`` / ``import`` and waits for the broker's confirm of
each message (kombu ``confirm_publish``).  ``--mark``: also set ``sent_at``
and commit after each confirm, as the relay does (like for like).

Prints ``bare publish ready`` once connected.
"""

import argparse
import datetime
import sys

from kombu import Connection, Producer
import psycopg2

from gites.calendar.messaging import topology
from gites.calendar.messaging.codec import SiteChange, encode_site_change


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--mark", action="store_true")
    args = parser.parse_args(argv)
    db = psycopg2.connect(args.dsn)
    with Connection(args.amqp, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        topology.SITE_EXCHANGE.bind(channel).declare()
        producer = Producer(channel, exchange=topology.SITE_EXCHANGE)
        print("bare publish ready", flush=True)
        with db.cursor() as cur:
            cur.execute(
                "SELECT id, heb_pk, cgt_id, start_date, end_date, selection_type"
                " FROM gites_calendar_outbox WHERE sent_at IS NULL ORDER BY id"
            )
            rows = cur.fetchall()
        db.commit()
        for row_id, heb_pk, cgt_id, start, end, selection_type in rows:
            body, content_type = encode_site_change(
                SiteChange(heb_pk, cgt_id, start, end, selection_type), fmt="pickle"
            )
            producer.publish(
                body,
                routing_key=topology.SITE_ROUTING_KEY,
                content_type=content_type,
                content_encoding="binary",
                delivery_mode=2,
                headers={"x-gites-outbox-id": row_id},
                message_id=f"gites-outbox-{row_id}",
                retry=False,
            )
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
