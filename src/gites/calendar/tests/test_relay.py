"""Site -> hub: the outbox relay against the real RabbitMQ and PostgreSQL."""

import datetime

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, OutboxMessage
from gites.calendar.domain.reservations import RangeChange, apply_owner_change
from gites.calendar.messaging.codec import decode_site_change
from gites.calendar.messaging.relay import MessageNotConfirmed, OutboxRelay
from gites.calendar.testing.amqp import bind_queue, get_all
from gites.calendar.testing.broker import broker_start, broker_stop
from gites.calendar.testing.daemon import wait_until
from gites.calendar.testing.fixtures import seed_cottages
from gites.calendar.testing.hub_queue import HubQueueTestCase

HUB_INBOX = "test.hub.inbox"  # stands for the hub's queue booking.update.gdw
TODAY = datetime.date.today()


def owner_change(heb_pk, offset, length, selection_type):
    start = TODAY + datetime.timedelta(days=offset)
    end = start + datetime.timedelta(days=length - 1)
    with db.session_scope() as session:
        heb = session.get(Hebergement, heb_pk)
        row = apply_owner_change(
            session,
            heb,
            RangeChange(heb_pk, start, end, selection_type),
            1,
            datetime.datetime.now(),
        )
        session.flush()
        return (row.id if row is not None else None), start, end


def pending_count():
    with db.session_scope() as session:
        return len(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))).all()
        )


class RelayTest(HubQueueTestCase):
    hub_queue = HUB_INBOX

    def setUp(self):
        super().setUp()
        seed_cottages({10: "HAFF1234", 11: "LUXX9", 12: None})  # 12: never sent

    def relay(self, fmt="pickle"):
        relay = OutboxRelay(self.url, fmt=fmt, heartbeat=10)
        relay.start()
        self.addCleanup(relay.stop, 5)
        return relay

    def test_owner_changes_reach_the_hub_as_the_legacy_hub_expects(self):
        first = owner_change(10, 3, 2, "loue")
        owner_change(12, 3, 2, "loue")  # no CGT code: no outbox row
        second = owner_change(11, 5, 1, "libre")
        relay = self.relay("pickle")
        self.assertEqual(wait_until(lambda: pending_count() == 0), True)
        relay.stop(5)
        messages = get_all(self.url, HUB_INBOX)
        self.assertEqual([m[1] for m in messages], ["application/x-python-serialize"] * 2)
        midnight = datetime.time()
        self.assertEqual(
            [decode_site_change(body, ct) for body, ct, _ in messages],
            [
                {
                    "hebPk": 10,
                    "cgtId": "HAFF1234",
                    "start": datetime.datetime.combine(first[1], midnight),
                    "end": datetime.datetime.combine(first[2], midnight),
                    "typeOfSelection": "loue",
                },
                {
                    "hebPk": 11,
                    "cgtId": "LUXX9",
                    "start": datetime.datetime.combine(second[1], midnight),
                    "end": datetime.datetime.combine(second[2], midnight),
                    "typeOfSelection": "libre",
                },
            ],
        )
        with db.session_scope() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            self.assertEqual(
                [(r.id, r.attempts, r.last_error) for r in rows],
                [(first[0], 1, None), (second[0], 1, None)],
            )
            self.assertTrue(all(r.sent_at for r in rows))

    def test_json_format(self):
        owner_change(10, 1, 1, "indisp")
        self.relay("json")
        self.assertEqual(wait_until(lambda: pending_count() == 0), True)
        [(body, content_type, headers)] = get_all(self.url, HUB_INBOX)
        self.assertEqual(content_type, "application/json")
        self.assertEqual(decode_site_change(body, content_type)["typeOfSelection"], "indisp")

    def test_rabbitmq_stopped_while_an_owner_change_is_written(self):
        relay = self.relay()
        self.assertTrue(wait_until(lambda: relay._connection is not None))
        broker_stop()
        try:
            row_id, start, end = owner_change(10, 2, 3, "loue")  # the owner's write succeeds
            self.assertEqual(pending_count(), 1)
        finally:
            broker_start()
        self.assertEqual(wait_until(lambda: pending_count() == 0, timeout=120), True)
        relay.stop(5)
        messages = get_all(self.url, HUB_INBOX)
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages[0][2]["x-gites-outbox-id"], row_id)

    def test_two_relays_send_each_row_once_in_order(self):
        ids = [
            owner_change(10 + n % 2, n, 1, ("loue", "indisp", "libre")[n % 3])[0] for n in range(30)
        ]
        self.relay()
        self.relay()
        self.assertEqual(wait_until(lambda: pending_count() == 0), True)
        messages = get_all(self.url, HUB_INBOX)
        self.assertEqual([m[2]["x-gites-outbox-id"] for m in messages], ids)

    def test_a_refused_publish_and_the_rows_after_it_are_sent_again_in_order(self):
        # A hub queue that holds two messages and then refuses publishes: the
        # broker nacks them (RabbitMQ's reject-publish overflow).
        full = "test.hub.full"
        bind_queue(self.url, full, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
        ids = [owner_change(10, n, 1, "loue")[0] for n in range(5)]
        relay = OutboxRelay(self.url, heartbeat=10)
        self.addCleanup(relay.stop, 5)
        self.assertTrue(relay._lead())
        relay._connect()
        received = []
        for expected_error in (True, True, False):
            if expected_error:
                with self.assertRaises(MessageNotConfirmed):
                    relay.relay_pending()
            else:
                self.assertEqual(relay.relay_pending(), 1)
            received += [m[2]["x-gites-outbox-id"] for m in get_all(self.url, full)]
        # The refusing queue got every row once, in order, across the refusals.
        self.assertEqual(received, ids)
        with db.session_scope() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.last_error).order_by(
                    OutboxMessage.id
                )
            ).all()
        self.assertEqual(pending_count(), 0)
        # Rows 3 and 5 were refused once each before they went.
        self.assertEqual([attempts for _, attempts, _ in rows], [1, 1, 2, 1, 2])
        self.assertEqual({error for _, _, error in rows}, {None})
