"""Nights from events (issue 13, point 3): real-shaped feeds and edge cases."""

import datetime
import pathlib
import unittest

from gites.calendar.db.models import INDISP, LOUE
from gites.calendar.domain.ical_nights import NotACalendar, event_type, feed_nights

DATA = pathlib.Path(__file__).parent / "data"
TODAY = datetime.date(2030, 6, 15)


def d(month, day, year=2030):
    return datetime.date(year, month, day)


def span(first, last, kind):
    return {first + datetime.timedelta(n): kind for n in range((last - first).days + 1)}


def calendar(*events):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for number, event in enumerate(events):
        lines += ["BEGIN:VEVENT", f"UID:e{number}@test", *event, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


class TestPlatformFeeds(unittest.TestCase):
    def nights(self, name, **kw):
        return feed_nights((DATA / name).read_bytes(), TODAY, **kw)

    def test_airbnb(self):
        result = self.nights("airbnb.ics")
        # The June booking is past: left out. DTEND (checkout) stays free.
        self.assertEqual(
            result.nights, {**span(d(7, 1), d(7, 4), LOUE), **span(d(7, 10), d(7, 11), INDISP)}
        )
        self.assertEqual((result.events, result.skipped), (2, 0))

    def test_booking(self):
        self.assertEqual(
            self.nights("booking.ics").nights,
            {**span(d(7, 20), d(7, 22), LOUE), d(8, 1): LOUE},
        )

    def test_vrbo(self):
        self.assertEqual(
            self.nights("vrbo.ics").nights,
            {
                **span(d(8, 15), d(8, 21), LOUE),
                **span(d(9, 1), d(9, 3), INDISP),
                **span(d(9, 10), d(9, 11), INDISP),
            },
        )

    def test_google_time_zone_and_weekly_rule(self):
        result = self.nights("google.ics")
        # 20:00 in New York on 3 July is 02:00 on 4 July in Brussels; it ends
        # at 11:00 on the 5th: the night of the 4th. The weekly 11:00-13:00
        # (17:00-19:00 in Brussels) blocks its day, four times. The
        # cancelled event blocks nothing.
        self.assertEqual(
            result.nights,
            {d(7, 4): LOUE, d(6, 17): LOUE, d(6, 24): LOUE, d(7, 1): LOUE, d(7, 8): LOUE},
        )
        self.assertEqual((result.events, result.cancelled), (5, 1))

    def test_override(self):
        result = self.nights("airbnb.ics", override=INDISP)
        self.assertEqual(set(result.nights.values()), {INDISP})
        self.assertEqual(len(result.nights), 6)

    def test_horizon(self):
        self.assertEqual(
            self.nights("vrbo.ics", horizon_days=70).nights, span(d(8, 15), d(8, 21), LOUE)
        )


class TestEventRules(unittest.TestCase):
    def nights(self, *events, today=TODAY):
        return feed_nights(calendar(*events), today)

    def test_types(self):
        for summary, status, kind in (
            ("Reserved", None, LOUE),
            ("CLOSED - Not available", None, LOUE),
            ("Réservée - Jan Janssens", None, LOUE),
            ("Airbnb (Not available)", None, INDISP),
            ("Indisponible", None, INDISP),
            ("Blocked", None, INDISP),
            ("Provisoire - Anne", None, INDISP),
            ("Reserved", "TENTATIVE", INDISP),
            ("Famille Dupont", None, LOUE),
            ("", None, LOUE),
        ):
            with self.subTest(summary=summary, status=status):
                self.assertEqual(event_type(summary, status), kind)

    def test_all_day_without_end_is_one_night(self):
        self.assertEqual(self.nights(["DTSTART;VALUE=DATE:20300701"]).nights, {d(7, 1): LOUE})

    def test_timed_without_end_is_its_day(self):
        self.assertEqual(
            self.nights(["DTSTART;TZID=Europe/Brussels:20300701T230000"]).nights, {d(7, 1): LOUE}
        )

    def test_timed_over_nights_in_brussels(self):
        # UTC 22:30 on 30 June is 00:30 on 1 July in Brussels.
        result = self.nights(["DTSTART:20300630T223000Z", "DTEND:20300703T090000Z"])
        self.assertEqual(result.nights, span(d(7, 1), d(7, 2), LOUE))
        floating = self.nights(["DTSTART:20300701T150000", "DTEND:20300703T000000"])
        self.assertEqual(floating.nights, span(d(7, 1), d(7, 2), LOUE))

    def test_duration(self):
        result = self.nights(["DTSTART;VALUE=DATE:20300701", "DURATION:P3D"])
        self.assertEqual(result.nights, span(d(7, 1), d(7, 3), LOUE))

    def test_bad_events_skipped_and_counted(self):
        result = self.nights(
            ["DTSTART;VALUE=DATE:20300710", "DTEND;VALUE=DATE:20300708"],  # ends before
            ["DTSTART;VALUE=DATE:20300710", "DTEND;VALUE=DATE:20300710"],  # ends at start
            ["DTSTART:20300710T100000Z", "DTEND:20300710T100000Z"],
            ["DTSTART;VALUE=DATE:20300701", "DTEND;VALUE=DATE:20330701"],  # 3 years
            ["DTSTART;VALUE=DATE:20300720", "DTEND;VALUE=DATE:20300721", "SUMMARY:Reserved"],
        )
        self.assertEqual(result.nights, {d(7, 20): LOUE})
        self.assertEqual(result.skipped, 4)

    def test_cancelled_ignored(self):
        result = self.nights(
            ["DTSTART;VALUE=DATE:20300701", "DTEND;VALUE=DATE:20300703", "STATUS:CANCELLED"]
        )
        self.assertEqual((result.nights, result.cancelled), ({}, 1))

    def test_rrule_expanded_over_horizon_only(self):
        result = feed_nights(
            calendar(
                ["DTSTART;VALUE=DATE:20300101", "DTEND;VALUE=DATE:20300102", "RRULE:FREQ=DAILY"]
            ),
            TODAY,
            horizon_days=9,
        )
        self.assertEqual(result.nights, span(TODAY, d(6, 24), LOUE))

    def test_past_nights_left_out(self):
        result = self.nights(["DTSTART;VALUE=DATE:20300610", "DTEND;VALUE=DATE:20300618"])
        self.assertEqual(result.nights, span(TODAY, d(6, 17), LOUE))

    def test_loue_wins_a_shared_night(self):
        result = self.nights(
            ["DTSTART;VALUE=DATE:20300701", "DTEND;VALUE=DATE:20300703", "SUMMARY:Blocked"],
            ["DTSTART;VALUE=DATE:20300702", "DTEND;VALUE=DATE:20300703", "SUMMARY:Reserved"],
        )
        self.assertEqual(result.nights, {d(7, 1): INDISP, d(7, 2): LOUE})

    def test_not_a_calendar(self):
        for body in (
            b"<!DOCTYPE html><html><body>Login</body></html>",
            b"",
            b"BEGIN:VCARD\r\nEND:VCARD\r\n",
            "\ufeffBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n".encode(),
        ):
            with self.subTest(body=body[:20]), self.assertRaises(NotACalendar):
                feed_nights(body, TODAY)

    def test_bom_accepted(self):
        body = "\ufeff".encode() + calendar(["DTSTART;VALUE=DATE:20300701", "SUMMARY:Réservée"])
        self.assertEqual(feed_nights(body, TODAY).nights, {d(7, 1): LOUE})
