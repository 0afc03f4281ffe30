"""The fields of a hub message: booking type, CGT code, dates, range, notification id."""

import datetime
import pickle
import unittest

from gites.calendar.messaging.codec import (
    MAX_RANGE_DAYS,
    decode_hub_message,
)
from gites.calendar.testing.hub_messages import (
    HUB_VECTORS,
    JSON,
    PICKLE,
    InvalidMessageAssertions,
    json_body,
)

date = datetime.date


class HubMessageFieldsTests(InvalidMessageAssertions, unittest.TestCase):
    def test_res_type_of_each_booking_type(self):
        for booking_type, res_type in [
            ("booked", "loue"),
            ("unavailable", "indisp"),
            ("available", "libre"),
        ]:
            with self.subTest(booking_type):
                booking = decode_hub_message(json_body(booking_type=booking_type), JSON)
                self.assertEqual(booking.res_type, res_type)

    def test_json_datetime_strings_give_their_day(self):
        for text in (
            "2024-05-01T00:00:00",
            "2024-05-01T00:00",
            "2024-05-01 00:00:00",
            "2024-05-01T23:59:59.999999",
            "2024-05-01T00:00:00+02:00",
            "2024-05-01T00:00:00Z",
        ):
            with self.subTest(text):
                booking = decode_hub_message(json_body(start_date=text), JSON)
                self.assertEqual(booking.start, date(2024, 5, 1))

    def test_missing_fields(self):
        for name in ("booking_type", "cgt_id", "start_date", "end_date", "notf_id"):
            with self.subTest(name):
                self.assertInvalid(json_body(**{name: None}), JSON, f"missing field {name!r}")

    def test_extra_fields_are_ignored(self):
        self.assertEqual(decode_hub_message(json_body(comment="x", hub=1), JSON).notf_id, 42)

    def test_booking_type(self):
        for value, shown in [
            ("rented", "str 'rented'"),
            ("Booked", "str 'Booked'"),
            ("loue", "str 'loue'"),
            (1, "int 1"),
            (["booked"], "list ['booked']"),
        ]:
            with self.subTest(value):
                self.assertInvalid(
                    json_body(booking_type=value),
                    JSON,
                    "booking_type must be one of 'available', 'booked', 'unavailable',"
                    f" got {shown}",
                )

    def test_cgt_id_type(self):
        for value, shown in [("", "str ''"), (1234, "int 1234"), ([], "list []")]:
            with self.subTest(value):
                self.assertInvalid(
                    json_body(cgt_id=value),
                    JSON,
                    f"cgt_id must be a non-empty string, got {shown}",
                )
        message = dict(HUB_VECTORS["hub_booked_py2.pickle"], cgt_id=b"HAFR1234")
        self.assertInvalid(
            pickle.dumps(message, 3),
            PICKLE,
            "cgt_id must be a non-empty string, got bytes b'HAFR1234'",
        )

    def test_cgt_id_format(self):
        for good in ("HAFR1", "HAFR1234", "ABCD0"):
            with self.subTest(good):
                self.assertEqual(decode_hub_message(json_body(cgt_id=good), JSON).cgt_id, good)
        for bad in (
            "hafr1234",
            "HAFR12345",
            "HAF1234",
            "HAFRX1234",
            "HAFR",
            "HAFR1234\n",
            " HAFR1234",
            "HAFR 1234",
            "ＨAFR1234",  # fullwidth letter
            "HAFR١٢",  # Arabic-Indic digits
        ):
            with self.subTest(bad):
                self.assertInvalid(
                    json_body(cgt_id=bad),
                    JSON,
                    f"cgt_id {bad!r} is not a CGT code (4 capital letters, 1 to 4 digits)",
                )

    def test_dates(self):
        for value in ("2024-5-1", "01/05/2024", "20240501", "2024-W18-3", "", "2024-05-01x"):
            with self.subTest(value):
                reason = self.assertInvalid(json_body(start_date=value), JSON)
                self.assertEqual(
                    reason, f"start_date str {value!r} is not an ISO date (YYYY-MM-DD)"
                )
        for value in ("2024-02-30", "2024-13-01", "0000-01-01", "2024-05-01T25:00", "2024-05-01Tx"):
            with self.subTest(value):
                reason = self.assertInvalid(json_body(end_date=value), JSON)
                self.assertTrue(reason.startswith(f"end_date str {value!r} is not a valid date"))
        for value, shown in [(20240501, "int 20240501"), ([2024, 5, 1], "list [2024, 5, 1]")]:
            with self.subTest(value):
                self.assertInvalid(
                    json_body(start_date=value),
                    JSON,
                    f"start_date must be a date or an ISO date string, got {shown}",
                )
        message = dict(HUB_VECTORS["hub_booked_py2.pickle"], end_date=None)
        self.assertInvalid(
            pickle.dumps(message, 2),
            PICKLE,
            "end_date must be a date or an ISO date string, got None",
        )

    def test_range(self):
        one_day = decode_hub_message(json_body(end_date="2024-05-01"), JSON)
        self.assertEqual((one_day.start, one_day.end), (date(2024, 5, 1), date(2024, 5, 1)))
        self.assertInvalid(
            json_body(start_date="2024-05-03", end_date="2024-05-01"),
            JSON,
            "end_date 2024-05-01 is before start_date 2024-05-03",
        )
        longest = decode_hub_message(
            json_body(start_date="2024-01-01", end_date="2025-12-31"), JSON
        )
        self.assertEqual((longest.end - longest.start).days + 1, MAX_RANGE_DAYS)
        self.assertInvalid(
            json_body(start_date="2024-01-01", end_date="2026-01-01"),
            JSON,
            "range 2024-01-01..2026-01-01 covers 732 days, more than 731",
        )

    def test_notf_id(self):
        for good in (0, 1, 2**63 - 1):
            with self.subTest(good):
                self.assertEqual(decode_hub_message(json_body(notf_id=good), JSON).notf_id, good)
        for value, shown in [
            (True, "bool True"),
            ("42", "str '42'"),
            (42.0, "float 42.0"),
            ([42], "list [42]"),
        ]:
            with self.subTest(value):
                self.assertInvalid(
                    json_body(notf_id=value), JSON, f"notf_id must be an integer, got {shown}"
                )
        for value in (-1, 2**63):
            with self.subTest(value):
                reason = self.assertInvalid(json_body(notf_id=value), JSON)
                self.assertTrue(reason.startswith(f"notf_id {value} is out of range"))
        # Pickled ints have no digit limit; too long for repr(), still a clear reason.
        message = dict(HUB_VECTORS["hub_booked_py2.pickle"], notf_id=10**5000)
        self.assertInvalid(
            pickle.dumps(message, 2),
            PICKLE,
            f"notf_id <16610-bit int> is out of range (0 to {2**63 - 1})",
        )
        message = dict(HUB_VECTORS["hub_booked_py2.pickle"], booking_type=-(10**5000))
        reason = self.assertInvalid(pickle.dumps(message, 2), PICKLE)
        self.assertTrue(reason.endswith("got int <16610-bit int>"), reason)
        message = dict(HUB_VECTORS["hub_booked_py2.pickle"], notf_id=False)
        self.assertInvalid(
            pickle.dumps(message, 2), PICKLE, "notf_id must be an integer, got bool False"
        )
