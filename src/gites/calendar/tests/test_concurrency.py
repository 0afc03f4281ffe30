"""20 concurrent addRange calls on one cottage, through HTTP, on PostgreSQL.

Acceptance test of issue #3: overlapping ranges saved at the same time leave
at most one row per day, and the final state is the one of some serial order
of the saves (each save locks the cottage, so they serialise).
"""

from base64 import b64encode
import datetime
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

from plone.app.testing import FunctionalTesting
from plone.testing import Layer
from plone.testing.zope import WSGI_SERVER_FIXTURE
from sqlalchemy import text
import transaction

from gites.calendar.db import session as db
from gites.calendar.domain.reservations import days
from gites.calendar.testing import GITES_CALENDAR_FIXTURE, DatabaseTestCase
from gites.calendar.testing.db import POSTGRES_DB
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    FROZEN_NOW,
    OWNER,
    PASSWORD,
    create_members,
    freeze_clock,
    seed,
    site_in_french,
)


class DatabaseEnvironment(Layer):
    """GITES_DB_URL for the WSGI server's start-up subscriber (IProcessStarting).

    Starting a WSGI server fires IProcessStarting, whose subscriber reads the
    database URL from the environment (and stops the process without one).
    """

    defaultBases = (POSTGRES_DB,)

    def setUp(self):
        self._saved = os.environ.get("GITES_DB_URL")
        if self["db_unavailable"] is None:
            os.environ["GITES_DB_URL"] = self["db_url"]

    def tearDown(self):
        if self._saved is None:
            os.environ.pop("GITES_DB_URL", None)
        else:
            os.environ["GITES_DB_URL"] = self._saved


PG_ENVIRONMENT = DatabaseEnvironment(name="gites.calendar:PostgreSQLEnvironment")

GITES_CALENDAR_WSGI_SERVER_PG = FunctionalTesting(
    bases=(GITES_CALENDAR_FIXTURE, PG_ENVIRONMENT, WSGI_SERVER_FIXTURE),
    name="GitesCalendar:WSGIServer:PostgreSQL",
)
CALLS = 20
TYPES = ("loue", "indisp", "libre")


def ranges():
    """20 overlapping ranges within 2030-06-15 .. 2030-07-15, of all three types."""
    start = FROZEN_NOW.date()
    result = []
    for n in range(CALLS):
        first = start + datetime.timedelta(days=(n * 3) % 17)
        last = first + datetime.timedelta(days=5 + n % 9)
        result.append((first, last, TYPES[n % 3]))
    return result


def final_state(order):
    state = {}
    for first, last, kind in order:
        for day in days(first, last):
            if kind == "libre":
                state.pop(day, None)
            else:
                state[day] = kind
    return state


class TestConcurrentAddRange(DatabaseTestCase):
    layer = GITES_CALENDAR_WSGI_SERVER_PG

    def setUp(self):
        super().setUp()
        freeze_clock(self)
        portal = self.layer["portal"]
        site_in_french()
        create_members(portal)
        seed(db.get_session())
        transaction.commit()
        self.base = f"http://{self.layer['host']}:{self.layer['port']}/plone/zone-membre/calendrier"
        self.auth = "Basic " + b64encode(f"{OWNER}:{PASSWORD}".encode()).decode()

    def request(self, url, data=None):
        request = urllib.request.Request(url, data=data, headers={"Authorization": self.auth})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def test_overlapping_saves(self):
        status, page = self.request(f"{self.base}/month.html?pk={CGT_HEB}")
        self.assertEqual(status, 200, page[-3000:])
        token = re.search(r'data-authenticator="([0-9a-f]+)"', page).group(1)
        work = ranges()
        barrier = threading.Barrier(CALLS)
        results = [None] * CALLS

        def save(index):
            first, last, kind = work[index]
            body = urllib.parse.urlencode(
                {
                    "hebPk": CGT_HEB,
                    "start": first.isoformat(),
                    "end": last.isoformat(),
                    "type": kind,
                    "_authenticator": token,
                }
            ).encode()
            barrier.wait(timeout=60)
            results[index] = self.request(f"{self.base}/addRange", body)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(CALLS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        self.assertEqual([r[0] for r in results], [200] * CALLS, results)

        with db.session_scope() as session:
            duplicates = session.execute(
                text(
                    "SELECT heb_fk, res_date, count(*) FROM reservation_proprio"
                    " GROUP BY heb_fk, res_date HAVING count(*) > 1"
                )
            ).all()
            self.assertEqual(duplicates, [])
            rows = session.execute(
                text("SELECT res_date, res_type FROM reservation_proprio WHERE heb_fk = :pk"),
                {"pk": CGT_HEB},
            ).all()
            outbox_ids = session.execute(
                text(
                    "SELECT start_date, end_date, selection_type FROM gites_calendar_outbox"
                    " WHERE heb_pk = :pk ORDER BY id"
                ),
                {"pk": CGT_HEB},
            ).all()
        state = {res_date.date(): res_type for res_date, res_type in rows}
        # The outbox is written under the same lock: its order is the commit order.
        commit_order = [(s, e, t) for s, e, t in outbox_ids]
        self.assertEqual(sorted(commit_order), sorted(work))
        self.assertEqual(state, final_state(commit_order))
