"""Conditional requests on the public answers: ETag, If-None-Match, 304.

The validator of ``selectedDays`` must change with every write of the
calendar (an owner's range, a hub notification, a configuration change),
also twice on the same day (the legacy modification date is a day); a
matching ``If-None-Match`` gets 304 without a body and without reading
``reservation_proprio``.  Every test runs on SQLite and on PostgreSQL;
"today" is frozen on 2030-03-10.
"""

import datetime
from unittest import mock

from plone.testing.zope import Browser
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import ACTIF, LOUE, NON_ACTIF, Hebergement
from gites.calendar.domain import public_read as visibility
from gites.calendar.domain.calendar_state import apply_configuration
from gites.calendar.domain.history import OWNER, Origin
from gites.calendar.domain.public_read import etag_matches
from gites.calendar.domain.reservations import RangeChange, apply_owner_change, replace_days
from gites.calendar.messaging.codec import HubBooking
from gites.calendar.messaging.handler import APPLIED, apply_hub_booking
from gites.calendar.testing import (
    GITES_CALENDAR_FUNCTIONAL_TESTING_PG,
    DatabaseTestCase,
    functional_layers,
)
from gites.calendar.testing.db import (
    on_both_databases,
    read_statements,
    settle_state_cache,
    wait_for_state_cache,
)
from gites.calendar.testing.fixtures import add_cottage, add_proprio, freeze_clock

NOW = datetime.datetime(2030, 3, 10, 9, 0)
OWNER_1 = Origin(OWNER, 1)
DAYS = "selectedDays?hebPk=10&year=2030&month=3&range=3"
# The exact bytes of DAYS for the rows of setUp (the answer's format is part
# of the contract: a cache must never mix two formats under one validator).
DAYS_BODY = '{"rented":["2030-03-10","2030-03-11","2030-04-02"]}'


def day(text):
    return datetime.date.fromisoformat(text)


class ConditionalTestCase(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.portal_url = self.layer["portal"].absolute_url()
        self.cache = wait_for_state_cache(db.get_read_engine())  # None on SQLite
        generation = self.cache.generation if self.cache else None
        session = db.get_session()
        add_proprio(session, 1)
        session.flush()
        add_cottage(session, 10, 1, cgt="ABCD1", nom="Le Moulin")
        add_cottage(session, 11, 1, public=False)
        session.flush()
        for heb_pk in (10, 11):
            replace_days(
                session,
                heb_pk,
                [day("2030-03-09"), day("2030-03-10"), day("2030-03-11")],
                LOUE,
                1,
                NOW,
                OWNER_1,
            )
            replace_days(session, heb_pk, [day("2030-04-02")], "indisp", 1, NOW, OWNER_1)
        transaction.commit()
        settle_state_cache(db.get_read_engine(), generation)
        freeze_clock(self, NOW)

    def get(self, path, etag=None, **headers):
        """(status, body, headers) of one request (a new Browser each time:
        added headers would stay for the next requests)."""
        browser = Browser(self.layer["app"])
        browser.handleErrors = False
        browser.raiseHttpErrors = False
        if etag:
            browser.addHeader("If-None-Match", etag)
        for name, value in headers.items():
            browser.addHeader(name.replace("_", "-"), value)
        browser.open(f"{self.portal_url}/{path}")
        headers = browser.headers  # case-insensitive, as HTTP headers are
        self.last = (int(headers["status"].split()[0]), browser.contents, headers)
        return self.last

    def etag(self, path=DAYS):
        status, _body, headers = self.get(path)
        self.assertEqual(status, 200)
        return headers["ETag"]


@on_both_databases(functional_layers())
class TestSelectedDaysValidator(ConditionalTestCase):
    def test_answer_is_unchanged_and_carries_an_etag(self):
        status, body, headers = self.get(DAYS)
        self.assertEqual((status, body), (200, DAYS_BODY))
        self.assertEqual(headers["Cache-Control"], "public, max-age=60")
        self.assertRegex(headers["ETag"], r'^"days-[0-9a-f]{24}"$')
        self.assertEqual(self.etag(), headers["ETag"])  # stable while nothing changes

    def test_matching_validator_gets_304_without_body_nor_reservation_read(self):
        etag = self.etag()
        if self.cache is not None:
            # PostgreSQL: the state the full answer read is kept...
            with read_statements(db.get_read_engine()) as statements:
                self.assertEqual(self.get(DAYS, etag)[0], 304)
            self.assertEqual(statements, [])
            self.cache.drop()  # ... and once forgotten, read again:
        with read_statements(db.get_read_engine()) as statements:
            status, body, headers = self.get(DAYS, etag)
        self.assertEqual(status, 304)
        self.assertEqual(len(body), 0)
        self.assertNotIn("Content-Type", headers)
        self.assertIn(headers.get("Content-Length", "0"), ("0",))
        self.assertEqual(headers["ETag"], etag)
        self.assertEqual(headers["Cache-Control"], "public, max-age=60")
        selects = [s for s in statements if not s.upper().startswith("BEGIN")]
        self.assertEqual(len(selects), 1, statements)
        self.assertTrue(selects[0].startswith("SELECT"), selects)
        self.assertNotIn("reservation_proprio", selects[0])
        # The full answer's statement does read it (what the count tells).
        with read_statements(db.get_read_engine()) as statements:
            self.get(DAYS, '"days-0"')
        self.assertIn("reservation_proprio", statements[-1])

    def test_prepared_path_answers_as_the_portable_one(self):
        # PostgreSQL reads through prepared statements on a raw cursor; the
        # SQLAlchemy statements (SQLite's path) must give the same answer.
        engine = db.get_read_engine()
        self.assertEqual(visibility.uses_prepared(engine), engine.dialect.name == "postgresql")
        today = NOW.date()
        for heb_pk in (10, 11, 99):
            for first, months in (("2030-03-01", 3), ("2030-04-01", 1), ("2029-01-01", 2)):
                start, end = visibility.window(day(first), months, today)
                answer = visibility.read_public_days(engine, heb_pk, day(first), months, today)
                if start < end:  # (a wholly past window reads nothing)
                    portable = visibility._read_portable(engine, heb_pk, start, end, None)
                    self.assertEqual(answer, portable, (heb_pk, first, months))
                else:
                    self.assertEqual(answer[1], [])
                self.assertEqual(
                    visibility.read_public_days(
                        engine, heb_pk, day(first), months, today, answer[0]
                    ),
                    (answer[0], None),
                )

    def test_validator_lists_and_weak_tags_match(self):
        etag = self.etag()
        self.assertEqual(self.get(DAYS, f'"other", W/{etag}')[0], 304)
        self.assertEqual(self.get(DAYS, "*")[0], 304)
        self.assertTrue(etag_matches(f" {etag} ", etag))
        self.assertFalse(etag_matches('"days-0"', etag))

    def test_stale_validator_gets_the_full_answer(self):
        status, body, headers = self.get(DAYS, '"days-000000000000000000000000"')
        self.assertEqual((status, body), (200, DAYS_BODY))
        self.assertEqual(headers["ETag"], self.etag())

    def test_window_is_part_of_the_validator(self):
        etag = self.etag()
        other = "selectedDays?hebPk=10&year=2030&month=3&range=1"
        self.assertNotEqual(self.etag(other), etag)
        status, body, _headers = self.get(other, etag)
        self.assertEqual((status, body), (200, '{"rented":["2030-03-10","2030-03-11"]}'))
        # The same question asked tomorrow has a shorter window.
        with mock.patch("gites.calendar.clock.now", return_value=NOW + datetime.timedelta(1)):
            status, body, _headers = self.get(DAYS, etag)
        self.assertEqual((status, body), (200, '{"rented":["2030-03-11","2030-04-02"]}'))

    def test_hidden_cottages_share_one_validator(self):
        hidden = self.etag("selectedDays?hebPk=11&year=2030&month=3&range=3")
        unknown = self.etag("selectedDays?hebPk=99&year=2030&month=3&range=3")
        self.assertEqual(self.last[1], '{"rented":[]}')
        self.assertNotEqual(hidden, self.etag())
        self.assertNotEqual(hidden, unknown)  # the pk is part of every validator
        # ... and only the pk: a hidden cottage's state is not.
        session = db.get_session()
        state = session.execute(visibility.COTTAGE_STATE, {"heb_pk": 11}).first()
        self.assertEqual(visibility.state_token(state), visibility.state_token(None))
        self.assertEqual(
            self.get("selectedDays?hebPk=11&year=2030&month=3&range=3", hidden)[0], 304
        )

    def assert_changes(self, write):
        """``write`` (committed) changes the validator; the old one then gets
        the full, new answer with the new validator."""
        before = self.etag()
        self.assertEqual(self.get(DAYS, before)[0], 304)  # (its state is now kept)
        generation = self.cache.generation if self.cache else None
        write()
        settle_state_cache(db.get_read_engine(), generation)
        status, body, headers = self.get(DAYS, before)
        self.assertEqual(status, 200)
        self.assertNotEqual(headers["ETag"], before)
        self.assertEqual(self.get(DAYS, headers["ETag"])[0], 304)
        return body

    def test_owner_change_changes_the_validator_twice_a_day(self):
        for kind, expected in (("loue", '"2030-03-20"'), ("libre", None)):

            def write(kind=kind):
                session = db.get_session()
                heb = session.get(Hebergement, 10)
                change = RangeChange(10, day("2030-03-20"), day("2030-03-20"), kind)
                apply_owner_change(session, heb, change, 1, NOW)
                transaction.commit()

            body = self.assert_changes(write)
            if expected:
                self.assertIn(expected, body)
            else:
                self.assertEqual(body, DAYS_BODY)
        # Same day: the modification date did not change, the validator did.
        self.assertEqual(
            db.get_session().get(Hebergement, 10).heb_calendrier_proprio_date_maj, NOW.date()
        )

    def test_hub_message_changes_the_validator(self):
        def write():
            with db.session_scope() as session:
                booking = HubBooking("booked", "ABCD1", day("2030-03-25"), day("2030-03-26"), 7)
                self.assertEqual(apply_hub_booking(session, booking, NOW), APPLIED)

        body = self.assert_changes(write)
        self.assertIn('"2030-03-25","2030-03-26"', body)

    def test_configuration_change_changes_the_validator(self):
        def configure(state):
            def write():
                session = db.get_session()
                apply_configuration(
                    session, [session.get(Hebergement, 10)], state, NOW.date(), 1, NOW
                )
                transaction.commit()

            return write

        self.assertEqual(self.assert_changes(configure(NON_ACTIF)), '{"rented":[]}')
        self.assertEqual(self.assert_changes(configure(ACTIF)), DAYS_BODY)


class TestPreparedStatementsPostgreSQL(ConditionalTestCase):
    """The prepared read path exists on PostgreSQL only."""

    layer = GITES_CALENDAR_FUNCTIONAL_TESTING_PG

    def test_prepared_statements_dropped_are_prepared_again(self):
        engine = db.get_read_engine()
        self.assertTrue(visibility.uses_prepared(engine))
        self.assertEqual(self.get(DAYS)[:2], (200, DAYS_BODY))
        connection = engine.raw_connection()  # the pooled one just used
        try:
            self.assertTrue(connection.info.get(visibility._PREPARED_KEY))
            cursor = connection.cursor()
            cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does
            cursor.close()
        finally:
            connection.close()
        self.assertEqual(self.get(DAYS)[:2], (200, DAYS_BODY))
        self.assertEqual(self.get(DAYS, '"days-0"')[:2], (200, DAYS_BODY))


@on_both_databases(functional_layers())
class TestExternPagesValidator(ConditionalTestCase):
    PAGES = ("extern-calendar?pk=10", "extern-monthly-calendar?pk=1&month=2030-03")

    def test_304_without_body_and_headers_kept(self):
        for page in self.PAGES:
            status, body, headers = self.get(page)
            self.assertEqual(status, 200, page)
            self.assertIn("Le Moulin", body)
            etag = headers["ETag"]
            status, body, headers = self.get(page, etag)
            self.assertEqual((status, len(body)), (304, 0), page)
            self.assertEqual(headers["ETag"], etag)
            self.assertEqual(headers["Cache-Control"], "public, max-age=300")
            status, body, _headers = self.get(page, '"page-0"')
            self.assertEqual(status, 200, page)
            self.assertIn("Le Moulin", body)

    def test_language_and_content_are_part_of_the_validator(self):
        for page in self.PAGES:
            french = self.etag(page)
            # The language the page is in (the site's): another one, another tag.
            with mock.patch("plone.api.portal.get_current_language", return_value="nl"):
                self.assertNotEqual(self.etag(page), french, page)
            self.assertNotEqual(self.etag(page.replace("=10", "=11").replace("=1&", "=2&")), french)
        calendar = self.etag(self.PAGES[0])
        self.assertNotEqual(self.etag("extern-calendar?pk=10&months=2"), calendar)
        with mock.patch("gites.calendar.clock.now", return_value=NOW + datetime.timedelta(1)):
            self.assertNotEqual(self.etag(self.PAGES[0]), calendar)  # data-today
        session = db.get_session()
        session.get(Hebergement, 10).heb_nom = "Le Vieux Moulin"
        transaction.commit()
        self.assertEqual(self.get(self.PAGES[0], calendar)[0], 200)


@on_both_databases(functional_layers())
class TestStraightToTheView(ConditionalTestCase):
    def test_bare_name_is_published_as_the_view(self):
        from zope.event import notify
        from zope.traversing.interfaces import BeforeTraverseEvent

        request = self.layer["request"]
        for name, published in (("selectedDays", "@@selectedDays"), ("other", "other")):
            request["TraversalRequestNameStack"] = ["x", name]
            notify(BeforeTraverseEvent(self.layer["portal"], request))
            self.assertEqual(request["TraversalRequestNameStack"], ["x", published])
        # And the view it reaches answers as the bare name always did.
        self.assertEqual(self.get(DAYS)[:2], (200, DAYS_BODY))
        self.assertEqual(
            self.get(DAYS.replace("selectedDays", "@@selectedDays"))[:2], (200, DAYS_BODY)
        )
