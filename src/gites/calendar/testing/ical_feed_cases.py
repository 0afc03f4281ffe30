"""The iCal feed import's base case: two cottages of one owner and a local
server for their feeds (test_icalimport, test_icalimport_script)."""

from gites.calendar.db import session as db
from gites.calendar.domain.reservations import busy_days
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.fixtures import seed_cottages
from gites.calendar.testing.http import serve_feeds

ICAL_HEB = 5  # has a CGT code: its changes go to the hub
ICAL_OTHER_HEB = 6
ICAL_OWNER = 1


class IcalImportCase(DatabaseTestCase):
    """Two cottages of one owner, and a local server for their feeds."""

    def setUp(self):
        super().setUp()
        self.server = serve_feeds(self)
        seed_cottages({ICAL_HEB: "CGT-5", ICAL_OTHER_HEB: "CGT-6"}, pro_pk=ICAL_OWNER)

    def nights(self, heb=ICAL_HEB):
        with db.session_scope() as session:
            return dict(busy_days(session, heb))
