"""The change log's base case: owner and hub changes, and what the log
says of them (test_history, test_history_script)."""

import datetime

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement
from gites.calendar.domain import history
from gites.calendar.domain.reservations import RangeChange, apply_owner_change
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import apply_hub_batch
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.fixtures import add_cottage, add_proprio

HISTORY_NOW = datetime.datetime(2030, 5, 10, 14, 30)
HISTORY_CGT = "HAFF1234"


def booking(kind, start, end, notf_id):
    return HubBooking(booking_type=kind, cgt_id=HISTORY_CGT, start=start, end=end, notf_id=notf_id)


class HistoryCase(DatabaseTestCase):
    """Proprios 1 and 2; cottage 10 (with a CGT code) and 11 of proprio 1, 20 of 2."""

    def setUp(self):
        super().setUp()
        with db.session_scope() as session:
            add_proprio(session, 1)
            add_proprio(session, 2)
            session.flush()
            add_cottage(session, 10, 1, cgt=HISTORY_CGT)
            add_cottage(session, 11, 1, cgt=None, public=False)
            add_cottage(session, 20, 2)

    def owner(self, start, end, kind, heb_pk=10, now=HISTORY_NOW):
        with db.session_scope() as session:
            heb = session.get(Hebergement, heb_pk)
            apply_owner_change(session, heb, RangeChange(heb_pk, start, end, kind), 1, now)

    def hub(self, *bookings, now=HISTORY_NOW):
        with db.session_scope() as session:
            return apply_hub_batch(session, list(bookings), now)

    def log(self, heb_pk=10):
        with db.session_scope() as session:
            return history.changes(session, heb_pk, limit=None)

    def summary(self, heb_pk=10):
        """(source, actor, type, first, last, changed days), oldest first."""
        return [
            (c.source, c.actor, c.new_type, c.first_day, c.last_day, c.changed_days)
            for c in reversed(self.log(heb_pk))
        ]

    def sources(self, first, last, heb_pk=10):
        with db.session_scope() as session:
            return history.night_sources(session, heb_pk, first, last)
