"""The private iCal feed: tokens, the RFC 5545 calendar, the two views."""

import datetime
import re
from urllib.parse import urlencode

import icalendar
from sqlalchemy import select
import transaction

from gites.calendar.db import session as db
from gites.calendar.db.models import IcalToken, Proprio, Reservation
from gites.calendar.domain import ical_export
from gites.calendar.domain.reservations import midnight
from gites.calendar.testing import DatabaseTestCase, functional_layers
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.fixtures import (
    CGT_HEB,
    OTHER,
    OTHER_HEB,
    OWNER,
    PLAIN_HEB,
    OwnerFunctionalTestCase,
    add_cottage,
    add_proprio,
)

TODAY = datetime.date(2030, 6, 15)
NOW = datetime.datetime(2030, 6, 15, 10, 30)
FEED_RE = re.compile(r"/@@gites-ical\?token=([A-Za-z0-9_-]+)")


def day(n):
    return TODAY + datetime.timedelta(days=n)


def add_nights(session, heb_pk, first, last, kind):
    for n in range((last - first).days + 1):
        session.add(
            Reservation(
                heb_fk=heb_pk,
                res_date=midnight(first + datetime.timedelta(days=n)),
                res_type=kind,
                res_date_cre=NOW,
            )
        )


def events(body):
    """[(uid, dtstart, dtend, summary)] of a feed, by start."""
    calendar = icalendar.Calendar.from_ical(body)
    return sorted(
        (
            str(e["UID"]),
            e.decoded("DTSTART"),
            e.decoded("DTEND"),
            str(e["SUMMARY"]),
        )
        for e in calendar.walk("VEVENT")
    )


@on_both_databases(db_layers())
class TestIcalDomain(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.session = db.new_session()
        self.addCleanup(self.session.close)
        add_proprio(self.session, 1)
        add_proprio(self.session, 2, active=False)
        self.session.flush()
        self.heb = add_cottage(self.session, 5, 1, nom="Gîte du Moulin")
        add_cottage(self.session, 6, 1)
        add_cottage(self.session, 7, 2)
        self.session.flush()
        add_nights(self.session, 5, day(-400), day(-398), "loue")  # too old: left out
        add_nights(self.session, 5, day(-3), day(1), "loue")  # ends in the future
        add_nights(self.session, 5, day(2), day(2), "indisp")  # same days, other type
        add_nights(self.session, 5, day(10), day(10), "loue")  # one night
        add_nights(self.session, 5, day(12), day(40), "indisp")  # across a month end
        add_nights(self.session, 6, day(0), day(5), "loue")  # another cottage
        self.session.commit()

    def test_token_created_once_then_reused(self):
        token = ical_export.get_or_create_token(self.session, 5)
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(ical_export.get_or_create_token(self.session, 5), token)
        self.assertNotEqual(ical_export.get_or_create_token(self.session, 6), token)
        self.session.commit()
        self.assertEqual(
            self.session.scalars(select(IcalToken.heb_pk).order_by(IcalToken.heb_pk)).all(), [5, 6]
        )
        url = ical_export.feed_url(self.session, "http://nohost/plone/", 5)
        self.assertEqual(url, f"http://nohost/plone/@@gites-ical?token={token}")

    def test_renew(self):
        old = ical_export.get_or_create_token(self.session, 5)
        new = ical_export.renew_token(self.session, 5)
        self.session.commit()
        self.assertNotEqual(new, old)
        self.assertIsNone(ical_export.cottage_for_token(self.session, old))
        self.assertEqual(ical_export.cottage_for_token(self.session, new).heb_pk, 5)
        self.assertEqual(ical_export.get_or_create_token(self.session, 5), new)
        # Renewing a cottage that never had a token creates one.
        self.assertEqual(
            ical_export.cottage_for_token(
                self.session, ical_export.renew_token(self.session, 6)
            ).heb_pk,
            6,
        )

    def test_cottage_for_token_refuses(self):
        ical_export.get_or_create_token(self.session, 5)
        inactive = ical_export.get_or_create_token(self.session, 7)
        self.session.commit()
        for token in (None, "", "x" * 43, "a b", "é" * 43, ["t"], "a" * 65, inactive):
            with self.subTest(token=token):
                self.assertIsNone(ical_export.cottage_for_token(self.session, token))
        self.session.get(Proprio, 2).pro_etat = True
        self.assertEqual(ical_export.cottage_for_token(self.session, inactive).heb_pk, 7)

    def test_calendar_matches_the_rows(self):
        body = ical_export.build_calendar(self.session, self.heb, now=NOW)
        self.assertIsInstance(body, bytes)
        self.assertIn(b"\r\n", body)
        calendar = icalendar.Calendar.from_ical(body)
        self.assertEqual(str(calendar["VERSION"]), "2.0")
        self.assertEqual(str(calendar["PRODID"]), ical_export.PRODID)
        self.assertEqual(str(calendar["X-WR-CALNAME"]), "5 - Gîte du Moulin")
        self.assertEqual(
            events(body),
            [
                ("5-20300612-loue@gitesdewallonie.be", day(-3), day(2), "Loué"),
                ("5-20300617-indisp@gitesdewallonie.be", day(2), day(3), "Indisponible"),
                ("5-20300625-loue@gitesdewallonie.be", day(10), day(11), "Loué"),
                ("5-20300627-indisp@gitesdewallonie.be", day(12), day(41), "Indisponible"),
            ],
        )
        for event in calendar.walk("VEVENT"):
            # All-day: VALUE=DATE, not a date-time; DTSTAMP in UTC.
            self.assertIn(b"DTSTART;VALUE=DATE:", event.to_ical())
            self.assertIsInstance(event.decoded("DTSTART"), datetime.date)
            self.assertNotIsInstance(event.decoded("DTSTART"), datetime.datetime)
            self.assertEqual(event.decoded("DTSTAMP").utcoffset(), datetime.timedelta(0))
        # The nights covered are exactly the rows (DTEND exclusive).
        nights = {
            (start + datetime.timedelta(days=n), summary)
            for _, start, end, summary in events(body)
            for n in range((end - start).days)
        }
        rows = {
            (res_date.date(), {"loue": "Loué", "indisp": "Indisponible"}[kind])
            for res_date, kind in self.session.execute(
                select(Reservation.res_date, Reservation.res_type).where(
                    Reservation.heb_fk == 5, Reservation.res_date >= midnight(day(-366))
                )
            )
        }
        self.assertEqual(nights, rows)

    def test_uids_stable(self):
        first = events(ical_export.build_calendar(self.session, self.heb, now=NOW))
        add_nights(self.session, 5, day(41), day(41), "indisp")  # extends the last range
        self.session.flush()
        second = events(ical_export.build_calendar(self.session, self.heb, now=NOW))
        self.assertEqual([e[0] for e in first], [e[0] for e in second])
        self.assertEqual(second[-1][2], day(42))

    def test_empty_calendar(self):
        heb = add_cottage(self.session, 8, 1)
        self.session.flush()
        calendar = icalendar.Calendar.from_ical(
            ical_export.build_calendar(self.session, heb, now=NOW)
        )
        self.assertEqual(calendar.walk("VEVENT"), [])


@on_both_databases(functional_layers())
class TestIcalViews(OwnerFunctionalTestCase):
    def setUp(self):
        super().setUp()
        session = db.get_session()
        add_nights(session, CGT_HEB, day(1), day(3), "loue")
        transaction.commit()
        self.portal_url = self.portal.absolute_url()

    def feed_url_from_month_page(self, browser, heb_pk=CGT_HEB):
        browser.open(f"{self.calendar_url}/month.html?pk={heb_pk}")
        return FEED_RE.search(browser.contents).group(0)

    def test_feed(self):
        owner = self.browser(OWNER)
        path = self.feed_url_from_month_page(owner)
        anonymous = self.browser()
        anonymous.open(self.portal_url + path)
        self.assertEqual(anonymous.headers["status"], "200 OK")
        self.assertEqual(anonymous.headers["Content-Type"], "text/calendar; charset=utf-8")
        self.assertIn("max-age=300", anonymous.headers["Cache-Control"])
        self.assertIn("private", anonymous.headers["Cache-Control"])
        self.assertEqual(
            [e[1:] for e in events(anonymous.contents.encode("utf-8"))],
            [(day(1), day(4), "Loué")],
        )

    def test_wrong_token_404(self):
        self.feed_url_from_month_page(self.browser(OWNER))  # a token exists
        anonymous = self.browser()
        for query in ("?token=" + "A" * 43, "?token=", "", "?token=%00%0a"):
            with self.subTest(query=query):
                anonymous.open(f"{self.portal_url}/@@gites-ical{query}")
                self.assertEqual(anonymous.headers["status"], "404 Not Found")
                self.assertNotIn("BEGIN:VCALENDAR", anonymous.contents)

    def renew(self, browser, heb_pk=CGT_HEB, token=None):
        token = token or self.token(browser)
        browser.post(
            f"{self.calendar_url}/ical-renew",
            urlencode({"hebPk": str(heb_pk), "_authenticator": token}),
        )
        return browser.headers["status"]

    def test_renew_changes_the_url_and_kills_the_old_one(self):
        owner = self.browser(OWNER)
        old = self.feed_url_from_month_page(owner)
        self.assertEqual(self.renew(owner), "200 OK")
        self.assertEqual(owner.url, f"{self.calendar_url}/month.html?pk={CGT_HEB}")
        new = FEED_RE.search(owner.contents).group(0)
        self.assertNotEqual(new, old)
        anonymous = self.browser()
        anonymous.open(self.portal_url + old)
        self.assertEqual(anonymous.headers["status"], "404 Not Found")
        anonymous.open(self.portal_url + new)
        self.assertEqual(anonymous.headers["status"], "200 OK")
        # The other cottages' URLs are untouched.
        self.assertNotEqual(self.feed_url_from_month_page(owner, PLAIN_HEB), new)

    def token_of(self, heb_pk):
        session = db.new_session()
        self.addCleanup(session.close)
        return session.scalar(select(IcalToken.token).where(IcalToken.heb_pk == heb_pk))

    def test_renew_refused(self):
        owner = self.browser(OWNER)
        self.feed_url_from_month_page(owner)
        before = self.token_of(CGT_HEB)
        other = self.browser(OTHER)
        self.feed_url_from_month_page(other, OTHER_HEB)
        # Another owner's cottage: 403, nothing renewed.
        self.assertEqual(self.renew(other, CGT_HEB, self.token(other, OTHER_HEB)), "403 Forbidden")
        # A bad CSRF token.
        self.assertEqual(self.renew(owner, token="0" * 40), "403 Forbidden")
        # Not a POST.
        owner.open(f"{self.calendar_url}/ical-renew?hebPk={CGT_HEB}")
        self.assertTrue(owner.headers["status"].startswith("405"))
        # Anonymous.
        anonymous = self.browser()
        anonymous.post(f"{self.calendar_url}/ical-renew", urlencode({"hebPk": str(CGT_HEB)}))
        # Plone answers with its login form.
        self.assertIn("login", anonymous.url)
        self.assertEqual(self.token_of(CGT_HEB), before)
