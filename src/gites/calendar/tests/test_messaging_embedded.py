"""make run's set-up: no broker server, kombu's SQLAlchemy transport on SQLite."""

import datetime
import os
import tempfile
from unittest import mock

from sqlalchemy import select

from gites.calendar.db import session as db
from gites.calendar.db.models import OutboxMessage
from gites.calendar.domain.reservations import RangeChange, apply_owner_change, busy_days
from gites.calendar.messaging.relay import OutboxRelay
from gites.calendar.scripts import hub_tool
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.daemon import ConsumerThread, wait_until
from gites.calendar.testing.db import SQLITE_DB
from gites.calendar.testing.fixtures import seed_cottages

D = datetime.date


class EmbeddedTransportTest(DatabaseTestCase):
    layer = SQLITE_DB

    def setUp(self):
        super().setUp()
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.url = f"sqla+sqlite:///{self.dir.name}/kombu.db"
        patcher = mock.patch.dict(os.environ, {"AMQP_BROKER_URL": self.url})
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop("AMQP_BROKER_HOST", None)
        seed_cottages({1: "HAFF1234"})

    def test_hub_message_applied_and_owner_change_listened(self):
        lines = []
        argv = ["--type", "unavailable", "--cgt", "HAFF1234", "--start", "2031-07-01"]
        self.assertEqual(
            hub_tool.main([*argv, "--end", "2031-07-02", "--notf-id", "5"], lines.append), 0
        )
        with ConsumerThread(self.url):
            self.assertTrue(
                wait_until(
                    lambda: self.busy() == [(D(2031, 7, 1), "indisp"), (D(2031, 7, 2), "indisp")]
                )
            )
        self.assertIn("published notf 5", lines[0])

        today = datetime.date.today()
        with db.session_scope() as session:
            from gites.calendar.db.models import Hebergement

            heb = session.get(Hebergement, 1)
            change = RangeChange(1, today, today + datetime.timedelta(days=1), "loue")
            apply_owner_change(session, heb, change, 1, datetime.datetime.now())
        relay = OutboxRelay(self.url)
        relay.start()
        self.addCleanup(relay.stop)
        self.assertTrue(wait_until(self.all_sent))
        relay.stop()
        lines = []
        self.assertEqual(
            hub_tool.main(["--listen", "--count", "1", "--timeout", "10"], lines.append), 0
        )
        self.assertIn("typeOfSelection=loue", lines[-1])
        self.assertIn("cgtId=HAFF1234", lines[-1])

    def busy(self):
        with db.session_scope() as session:
            return busy_days(session, 1)

    def all_sent(self):
        with db.session_scope() as session:
            return session.scalars(select(OutboxMessage.sent_at)).all() not in ([], [None])
