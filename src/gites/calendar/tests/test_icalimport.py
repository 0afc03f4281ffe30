"""Importing feeds into cottages (issue 13, points 2, 4, 5, 7), on both databases.

The feeds are served by a local server on 127.0.0.1, which the tests let
through (``GITES_ICAL_ALLOWED_NETWORKS=127.0.0.1/32``); dates are frozen on
2030-06-15.
"""

import datetime
import functools
import pathlib

from sqlalchemy import func, select

from gites.calendar.db import session as db
from gites.calendar.db.locks import lock_cottage
from gites.calendar.db.models import (
    INDISP,
    LIBRE,
    LOUE,
    Hebergement,
    IcalFeed,
    IcalNight,
    OutboxMessage,
)
from gites.calendar.domain import history, ical_export, ical_fetch, ical_import, ical_subscriptions
from gites.calendar.domain.reservations import RangeChange, apply_owner_change, write_days
from gites.calendar.testing.db import db_layers, on_both_databases
from gites.calendar.testing.http import airbnb_feed as feed_of
from gites.calendar.testing.ical_feed_cases import ICAL_HEB as HEB
from gites.calendar.testing.ical_feed_cases import ICAL_OTHER_HEB as OTHER_HEB
from gites.calendar.testing.ical_feed_cases import ICAL_OWNER as OWNER
from gites.calendar.testing.ical_feed_cases import IcalImportCase

DATA = pathlib.Path(__file__).parent / "data"
NOW = datetime.datetime(2030, 6, 15, 10, 0)


def d(month, day):
    return datetime.date(2030, month, day)


def span(first, last, kind):
    return {first + datetime.timedelta(n): kind for n in range((last - first).days + 1)}


@on_both_databases(db_layers())
class TestImport(IcalImportCase):
    # helpers

    def add(self, path, heb=HEB, **kw):
        with db.session_scope() as session:
            return ical_subscriptions.add_feed(session, heb, self.server.url(path), NOW, **kw).id

    def run_import(self, now=NOW, heb=None, fetch=ical_fetch.fetch):
        with db.session_scope() as session:
            jobs = ical_import.due_jobs(session, now, datetime.timedelta(0), heb_pk=heb)
        return ical_import.run(jobs, db.session_scope, now, workers=4, fetch=fetch)

    def feed(self, feed_id):
        with db.session_scope() as session:
            return session.get(IcalFeed, feed_id)

    def outbox(self, heb=HEB):
        with db.session_scope() as session:
            return [
                (m.start_date, m.end_date, m.selection_type)
                for m in session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.heb_pk == heb)
                    .order_by(OutboxMessage.id)
                )
            ]

    def owner_sets(self, first, last, kind, now=NOW):
        with db.session_scope() as session:
            heb = session.get(Hebergement, HEB)
            apply_owner_change(session, heb, RangeChange(HEB, first, last, kind), OWNER, now)

    def import_feed(self, *events, **route):
        """Serve ``events`` as /a.ics, add it to HEB and import it: its id."""
        self.server.route("/a.ics", feed_of(*events), **route)
        feed_id = self.add("/a.ics")
        self.run_import()
        return feed_id

    def vanish_twice(self):
        """The feed empties, then is read twice: enough to free its nights."""
        self.server.route("/a.ics", feed_of())
        for step in (1, 2):
            self.run_import(now=NOW + datetime.timedelta(minutes=10 * step))

    # tests

    def test_airbnb_feed_blocks_its_nights_and_tells_the_hub(self):
        self.server.route("/airbnb.ics", (DATA / "airbnb.ics").read_bytes(), etag='"a1"')
        feed_id = self.add("/airbnb.ics", name="Airbnb")
        report = self.run_import()
        expected = {**span(d(7, 1), d(7, 4), LOUE), **span(d(7, 10), d(7, 11), INDISP)}
        self.assertEqual(self.nights(), expected)
        self.assertEqual(self.outbox(), [(d(7, 1), d(7, 4), LOUE), (d(7, 10), d(7, 11), INDISP)])
        self.assertEqual((report.changed, report.nights_set, report.failed), (1, 6, 0))
        feed = self.feed(feed_id)
        self.assertEqual((feed.last_success_at, feed.nights_blocked, feed.conflicts), (NOW, 6, 0))
        self.assertEqual(feed.etag, '"a1"')
        with db.session_scope() as session:
            self.assertEqual(
                len(ical_subscriptions.blocked_nights(session, feed_id, NOW.date())), 6
            )

    def test_all_platforms_into_one_cottage(self):
        for name in ("airbnb", "booking", "vrbo", "google"):
            self.server.route(f"/{name}.ics", (DATA / f"{name}.ics").read_bytes())
            self.add(f"/{name}.ics", name=name)
        report = self.run_import()
        self.assertEqual(report.changed, 4)
        nights = self.nights()
        self.assertEqual(nights[d(7, 21)], LOUE)  # Booking.com
        self.assertEqual(nights[d(9, 2)], INDISP)  # Vrbo "Provisoire"
        self.assertEqual(nights[d(6, 24)], LOUE)  # Google weekly
        # Airbnb's 4 July and Google's 4 July: one night, set once.
        self.assertEqual(nights[d(7, 4)], LOUE)

    def test_type_override(self):
        self.server.route("/a.ics", (DATA / "airbnb.ics").read_bytes())
        self.add("/a.ics", type_override=INDISP)
        self.run_import()
        self.assertEqual(set(self.nights().values()), {INDISP})

    def test_not_modified_costs_nothing(self):
        feed_id = self.import_feed((d(7, 1), d(7, 3), "Reserved"), etag='"v1"')
        before = (self.nights(), self.outbox())
        report = self.run_import(now=NOW + datetime.timedelta(minutes=10))
        self.assertEqual((report.not_modified, report.changed), (1, 0))
        self.assertEqual((self.nights(), self.outbox()), before)
        self.assertEqual(self.server.requests[-1][1]["If-None-Match"], '"v1"')
        self.assertEqual(self.feed(feed_id).last_success_at, NOW + datetime.timedelta(minutes=10))

    def test_event_vanishing_once_then_twice(self):
        self.server.route(
            "/a.ics", feed_of((d(7, 1), d(7, 4), "Reserved"), (d(8, 1), d(8, 3), "Reserved"))
        )
        self.add("/a.ics")
        self.run_import()
        # Airbnb shortens the first stay (new UID) and drops the second.
        self.server.route("/a.ics", feed_of((d(7, 1), d(7, 3), "Reserved")))
        self.run_import(now=NOW + datetime.timedelta(minutes=10))
        self.assertEqual(
            self.nights(), {**span(d(7, 1), d(7, 3), LOUE), **span(d(8, 1), d(8, 2), LOUE)}
        )
        self.run_import(now=NOW + datetime.timedelta(minutes=20))
        self.assertEqual(self.nights(), span(d(7, 1), d(7, 2), LOUE))
        self.assertEqual(self.outbox()[-2:], [(d(7, 3), d(7, 3), LIBRE), (d(8, 1), d(8, 2), LIBRE)])

    def test_vanishing_then_back_resets_the_count(self):
        self.import_feed((d(7, 1), d(7, 3), "Reserved"))
        for step, body in enumerate(
            (feed_of(), feed_of((d(7, 1), d(7, 3), "Reserved")), feed_of()), start=1
        ):
            self.server.route("/a.ics", body)
            self.run_import(now=NOW + datetime.timedelta(minutes=10 * step))
        self.assertEqual(self.nights(), span(d(7, 1), d(7, 2), LOUE))

    def test_failed_fetch_does_not_count_as_missing(self):
        feed_id = self.import_feed((d(7, 1), d(7, 3), "Reserved"))
        self.server.route("/a.ics", b"<html>Maintenance</html>", content_type="text/html")
        for step in (1, 2, 3):
            self.run_import(now=NOW + datetime.timedelta(minutes=10 * step))
        self.assertEqual(self.nights(), span(d(7, 1), d(7, 2), LOUE))
        feed = self.feed(feed_id)
        self.assertEqual(feed.last_error_code, ical_import.NOT_A_CALENDAR)
        self.assertEqual(feed.failing_since, NOW + datetime.timedelta(minutes=10))

    def test_owner_night_never_overwritten_conflict_counted(self):
        self.owner_sets(d(7, 2), d(7, 2), INDISP)
        self.server.route("/a.ics", feed_of((d(7, 1), d(7, 4), "Reserved")))
        feed_id = self.add("/a.ics")
        report = self.run_import()
        self.assertEqual(self.nights(), {d(7, 1): LOUE, d(7, 2): INDISP, d(7, 3): LOUE})
        self.assertEqual(report.conflicts, 1)
        self.assertEqual((self.feed(feed_id).conflicts, self.feed(feed_id).nights_blocked), (1, 2))

    def test_night_changed_by_owner_is_not_freed(self):
        self.import_feed((d(7, 1), d(7, 4), "Reserved"))
        # The owner re-marks the 2nd (same type, his own write now).
        self.owner_sets(d(7, 2), d(7, 2), LOUE, now=NOW + datetime.timedelta(minutes=5))
        self.vanish_twice()
        self.assertEqual(self.nights(), {d(7, 2): LOUE})

    def test_night_freed_by_owner_is_not_set_again(self):
        feed_id = self.import_feed((d(7, 1), d(7, 3), "Reserved"))
        self.owner_sets(d(7, 1), d(7, 1), LIBRE, now=NOW + datetime.timedelta(minutes=5))
        for step in (1, 2):
            self.run_import(now=NOW + datetime.timedelta(minutes=10 * step))
        self.assertEqual(self.nights(), {d(7, 2): LOUE})
        self.assertEqual(self.feed(feed_id).conflicts, 1)

    def test_imported_nights_carry_their_provenance(self):
        self.server.route("/a.ics", feed_of((d(7, 1), d(7, 3), "Reserved")))
        feed_id = self.add("/a.ics")
        self.owner_sets(d(7, 10), d(7, 10), INDISP)
        self.run_import()
        with db.session_scope() as session:
            sources = history.night_sources(session, HEB, d(7, 1), d(7, 10))
        self.assertEqual(
            {day: (row.source, row.actor, row.new_type) for day, row in sources.items()},
            {
                d(7, 1): ("ical", str(feed_id), LOUE),
                d(7, 2): ("ical", str(feed_id), LOUE),
                d(7, 10): ("owner", str(OWNER), INDISP),
            },
        )

    def test_night_changed_by_the_hub_is_not_freed(self):
        self.import_feed((d(7, 1), d(7, 3), "Reserved"))
        later = NOW + datetime.timedelta(minutes=5)
        with db.session_scope() as session:
            lock_cottage(session, HEB)
            write_days(
                session, {(HEB, d(7, 1)): INDISP}, None, later, history.Origin(history.HUB, 77)
            )
        self.vanish_twice()
        self.assertEqual(self.nights(), {d(7, 1): INDISP})

    def test_past_nights_never_changed(self):
        self.import_feed((d(6, 10), d(6, 17), "Reserved"))
        self.assertEqual(self.nights(), span(d(6, 15), d(6, 16), LOUE))
        # A week later the stay is past and gone from the feed: it stays.
        later = NOW + datetime.timedelta(days=7)
        self.server.route("/a.ics", feed_of())
        self.run_import(now=later)
        self.run_import(now=later + datetime.timedelta(minutes=10))
        self.assertEqual(self.nights(), span(d(6, 15), d(6, 16), LOUE))

    def test_too_large_html_and_silent_feeds(self):
        self.server.route("/big.ics", b"BEGIN:VCALENDAR\r\n" + b"X" * (3 * 1024 * 1024))
        self.server.route("/page.ics", b"<!DOCTYPE html><html></html>", content_type="text/html")
        self.server.silent("/silent.ics", seconds=4)
        ids = [self.add(p) for p in ("/big.ics", "/page.ics", "/silent.ics")]
        fast = functools.partial(ical_fetch.fetch, timeout=1)
        report = self.run_import(fetch=fast)
        self.assertEqual(report.failed, 3)
        codes = [self.feed(i).last_error_code for i in ids]
        self.assertEqual(
            codes, [ical_fetch.TOO_LARGE, ical_import.NOT_A_CALENDAR, ical_fetch.TIMEOUT]
        )
        self.assertEqual(self.nights(), {})
        feed = self.feed(ids[0])
        self.assertFalse(ical_subscriptions.is_flagged(feed, NOW + datetime.timedelta(hours=23)))
        self.assertTrue(ical_subscriptions.is_flagged(feed, NOW + datetime.timedelta(hours=24)))

    def test_feed_redirecting_to_refused_address(self):
        self.server.redirect("/r.ics", "http://127.0.0.2:9/x.ics")
        feed_id = self.add("/r.ics")
        self.run_import()
        self.assertEqual(self.feed(feed_id).last_error_code, ical_fetch.FORBIDDEN_ADDRESS)

    def test_round_trip_of_our_own_feed(self):
        with db.session_scope() as session:
            for first, last, kind in (
                (d(6, 20), d(6, 25), LOUE),
                (d(6, 26), d(6, 27), INDISP),
                (d(8, 1), d(8, 1), LOUE),
            ):
                heb = session.get(Hebergement, OTHER_HEB)
                apply_owner_change(
                    session, heb, RangeChange(OTHER_HEB, first, last, kind), OWNER, NOW
                )
        with db.session_scope() as session:
            body = ical_export.build_calendar(session, session.get(Hebergement, OTHER_HEB), now=NOW)
        self.server.route("/ours.ics", body)
        self.add("/ours.ics")
        self.run_import()
        self.assertEqual(self.nights(HEB), self.nights(OTHER_HEB))

    def test_paused_and_removed_feeds(self):
        self.server.route("/a.ics", feed_of((d(7, 1), d(7, 3), "Reserved")))
        feed_id = self.add("/a.ics")
        with db.session_scope() as session:
            session.get(IcalFeed, feed_id).paused = True
        self.assertEqual(self.run_import().feeds, 0)
        with db.session_scope() as session:
            session.get(IcalFeed, feed_id).paused = False
        self.run_import()
        with db.session_scope() as session:
            self.assertTrue(ical_subscriptions.remove_feed(session, feed_id))
        with db.session_scope() as session:
            self.assertEqual(session.scalar(select(func.count()).select_from(IcalNight)), 0)
        self.assertEqual(self.nights(), span(d(7, 1), d(7, 2), LOUE))  # stay

    def test_add_refusals(self):
        with db.session_scope() as session:
            for url in ("ftp://x/y", "javascript:alert(1)", "", "https://u:p@x.org/a.ics"):
                with self.subTest(url=url), self.assertRaises(ical_subscriptions.FeedError):
                    ical_subscriptions.add_feed(session, HEB, url, NOW)
            with self.assertRaises(ical_subscriptions.FeedError):
                ical_subscriptions.add_feed(session, 999, "https://x.org/a.ics", NOW)
            ical_subscriptions.add_feed(session, HEB, "webcal://x.org/a.ics", NOW)
            with self.assertRaises(ical_subscriptions.FeedError):
                ical_subscriptions.add_feed(session, HEB, "https://x.org/a.ics", NOW)  # same feed

    def test_due(self):
        self.import_feed()
        every = ical_import.DEFAULT_EVERY
        with db.session_scope() as session:
            self.assertEqual(
                ical_import.due_jobs(session, NOW + datetime.timedelta(minutes=9), every), []
            )
            self.assertEqual(len(ical_import.due_jobs(session, NOW + every, every)), 1)
            self.assertEqual(len(ical_import.due_jobs(session, NOW, every, heb_pk=HEB)), 1)
