"""Baseline of the backlog drain: a bare kombu + psycopg2 loop (run as a subprocess).

It does the daemon's SQL work for each hub message -- find the cottage by
CGT code, lock it, the (cottage, notf_id) redelivery check, the "newer
notification" check, delete the range, insert the days, touch the cottage,
record the notification -- with hand-written SQL and no ORM, and decodes the
body with the same safe decoder (``codec.decode_hub_message``: the legacy
pickle must never go through ``pickle.loads``).  An undecodable message is
published to the parking queue (confirmed) and acked.

``--batch 1``: one transaction per message, ack after commit.
``--batch N``: up to N messages per transaction (no savepoints: a database
error would roll back the whole batch), one ``basic_ack(multiple=True)``
after commit.

Prints ``bare drain ready`` once consuming; SIGTERM stops it.
"""

import argparse
import datetime
import signal
import sys
import time

from kombu import Connection, Consumer, Producer
import psycopg2
from psycopg2.extras import execute_values

from gites.calendar.messaging import topology
from gites.calendar.messaging.codec import InvalidMessage, decode_hub_message

RES_TYPES = {"booked": "loue", "unavailable": "indisp", "available": "libre"}


def apply(cur, booking, now):
    cur.execute(
        "SELECT heb_pk FROM hebergement WHERE heb_code_cgt = %s ORDER BY heb_pk LIMIT 1",
        (booking.cgt_id,),
    )
    row = cur.fetchone()
    if row is None:
        return
    heb_pk = row[0]
    cur.execute("SELECT heb_pk FROM hebergement WHERE heb_pk = %s FOR UPDATE", (heb_pk,))
    cur.execute(
        "SELECT 1 FROM gites_calendar_hub_applied WHERE heb_pk = %s AND notf_id = %s",
        (heb_pk, booking.notf_id),
    )
    if cur.fetchone() is not None:
        return
    cur.execute(
        "SELECT start_date, end_date FROM gites_calendar_hub_applied WHERE heb_pk = %s"
        " AND notf_id > %s AND start_date <= %s AND end_date >= %s",
        (heb_pk, booking.notf_id, booking.end, booking.start),
    )
    covered = set()
    for start, end in cur.fetchall():
        day = max(start, booking.start)
        while day <= min(end, booking.end):
            covered.add(day)
            day += datetime.timedelta(days=1)
    n = (booking.end - booking.start).days + 1
    wanted = [
        booking.start + datetime.timedelta(i)
        for i in range(n)
        if booking.start + datetime.timedelta(i) not in covered
    ]
    if len(wanted) == n:  # contiguous: one range delete (the usual case)
        cur.execute(
            "DELETE FROM reservation_proprio"
            " WHERE heb_fk = %s AND res_date >= %s AND res_date < %s",
            (heb_pk, booking.start, booking.end + datetime.timedelta(days=1)),
        )
    elif wanted:
        cur.execute(
            "DELETE FROM reservation_proprio WHERE heb_fk = %s AND res_date::date = ANY(%s)",
            (heb_pk, wanted),
        )
    res_type = RES_TYPES[booking.booking_type]
    if res_type != "libre" and wanted:
        execute_values(
            cur,
            "INSERT INTO reservation_proprio (res_date, res_type, heb_fk, pro_fk, res_date_cre)"
            " VALUES %s",
            [
                (datetime.datetime.combine(d, datetime.time()), res_type, heb_pk, None, now)
                for d in wanted
            ],
        )
    cur.execute(
        "UPDATE hebergement SET heb_calendrier_proprio_date_maj = %s WHERE heb_pk = %s",
        (now.date(), heb_pk),
    )
    cur.execute(
        "INSERT INTO gites_calendar_hub_applied (heb_pk, notf_id, start_date, end_date, applied_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (heb_pk, booking.notf_id, booking.start, booking.end, now),
    )


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--wait", type=float, default=0.05, help="longest wait for a batch")
    args = parser.parse_args(argv)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    db = psycopg2.connect(args.dsn)
    pending = []

    def receive(message):
        pending.append(message)

    with Connection(args.amqp, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        topology.declare_consumer_topology(channel)
        parking = Producer(conn.channel(), exchange=topology.PARKING_EXCHANGE)
        consumer = Consumer(
            channel,
            queues=[topology.HUB_QUEUE],
            on_message=receive,
            # As the daemon: two batches in flight (the next one arrives
            # while one commits).
            prefetch_count=max(2 * args.batch, 100),
            no_ack=False,
        )
        with consumer:
            print("bare drain ready", flush=True)
            first = None
            while not stop:
                timeout = 1.0 if not pending else max(0.001, first + args.wait - time.monotonic())
                try:
                    conn.drain_events(timeout=timeout)
                except TimeoutError:
                    pass
                if pending and first is None:
                    first = time.monotonic()
                if not pending or (
                    len(pending) < args.batch and time.monotonic() < first + args.wait
                ):
                    continue
                while pending and (
                    len(pending) >= args.batch or time.monotonic() >= first + args.wait
                ):
                    batch, pending[:] = pending[: args.batch], pending[args.batch :]
                    now = datetime.datetime.now()
                    bad = []
                    with db.cursor() as cur:
                        for message in batch:
                            try:
                                booking = decode_hub_message(message.body, message.content_type)
                            except InvalidMessage as error:
                                bad.append((message, str(error)))
                                continue
                            apply(cur, booking, now)
                    db.commit()
                    for message, reason in bad:
                        parking.publish(
                            message.body,
                            routing_key=topology.PARKING_QUEUE.routing_key,
                            content_type=message.content_type,
                            content_encoding="binary",
                            headers={topology.REASON_HEADER: reason[:1000]},
                            delivery_mode=2,
                        )
                    if args.batch == 1:
                        batch[0].ack()
                    else:
                        batch[-1].ack(multiple=True)
                first = time.monotonic() if pending else None
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
