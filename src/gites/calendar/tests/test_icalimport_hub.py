"""Imported nights reach the hub: import, then the outbox relay, real RabbitMQ (issue 13).

An Airbnb-shaped feed served locally is imported into a cottage with a CGT
code; the relay publishes its outbox rows; the hub's queue receives the
site -> hub messages an owner's change makes, one per range.
"""

import datetime

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import OutboxMessage
from gites.calendar.domain import ical_import, ical_subscriptions
from gites.calendar.messaging.codec import decode_site_change
from gites.calendar.messaging.relay import OutboxRelay
from gites.calendar.testing.amqp import get_all
from gites.calendar.testing.daemon import wait_until
from gites.calendar.testing.fixtures import seed_cottages
from gites.calendar.testing.http import airbnb_feed, serve_feeds
from gites.calendar.testing.hub_queue import HubQueueTestCase

HUB_INBOX = "test.hub.inbox.ical"
NOW = datetime.datetime.now().replace(microsecond=0)
TODAY = NOW.date()


def day(offset):
    return TODAY + datetime.timedelta(days=offset)


class ImportToHubTest(HubQueueTestCase):
    hub_queue = HUB_INBOX

    def setUp(self):
        super().setUp()
        self.server = serve_feeds(self)
        seed_cottages()

    def test_imported_ranges_reach_the_hub_queue(self):
        self.server.route(
            "/a.ics",
            airbnb_feed(
                (day(3), day(6), "Reserved"),
                (day(10), day(11), "Airbnb (Not available)"),
            ),
        )
        with db.session_scope() as session:
            ical_subscriptions.add_feed(session, 10, self.server.url("/a.ics"), NOW)
        with db.session_scope() as session:
            jobs = ical_import.due_jobs(session, NOW, datetime.timedelta(0))
        report = ical_import.run(jobs, db.session_scope, NOW, workers=2)
        self.assertEqual(report.nights_set, 4)
        relay = OutboxRelay(self.url, fmt="pickle", heartbeat=10)
        relay.start()
        self.addCleanup(relay.stop, 5)

        def pending():
            with db.session_scope() as session:
                return session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
                ).all()

        self.assertTrue(wait_until(lambda: pending() == []))
        relay.stop(5)
        midnight = datetime.time()
        self.assertEqual(
            [decode_site_change(body, ct) for body, ct, _ in get_all(self.url, HUB_INBOX)],
            [
                {
                    "hebPk": 10,
                    "cgtId": "HAFF1234",
                    "start": datetime.datetime.combine(day(3), midnight),
                    "end": datetime.datetime.combine(day(5), midnight),
                    "typeOfSelection": "loue",
                },
                {
                    "hebPk": 10,
                    "cgtId": "HAFF1234",
                    "start": datetime.datetime.combine(day(10), midnight),
                    "end": datetime.datetime.combine(day(10), midnight),
                    "typeOfSelection": "indisp",
                },
            ],
        )
