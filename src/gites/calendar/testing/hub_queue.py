"""A queue that stands for the hub's, on PostgreSQL and RabbitMQ
(test_relay, test_icalimport_hub)."""

from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.amqp import DAEMON_PG, bind_queue


class HubQueueTestCase(DatabaseTestCase):
    """PostgreSQL and RabbitMQ; the queue ``hub_queue`` stands for the hub's."""

    layer = DAEMON_PG
    hub_queue = None

    def setUp(self):
        super().setUp()
        self.url = self.layer["amqp_url"]
        bind_queue(self.url, self.hub_queue)
