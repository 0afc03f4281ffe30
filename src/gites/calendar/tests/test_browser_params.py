"""The request parameters every view reads (gites.calendar.browser.params):
pks, whole numbers and months, refused with a message the owner can read."""

import datetime
import unittest

from gites.calendar.browser.params import (
    MAX_PK,
    BadParameter,
    add_months,
    int_param,
    lenient_int_param,
    month_index,
    month_param,
    month_start,
    parse_month,
    parse_pk,
    whole_number,
)

date = datetime.date


class TestParsePk(unittest.TestCase):
    def test_keys(self):
        for value, expected in (
            ("1", 1),
            (" 42 ", 42),
            ("12\n", 12),
            ("0000000007", 7),  # ten digits
            (str(MAX_PK), MAX_PK),
            (7, 7),  # hebPk:int=7
        ):
            with self.subTest(value=value):
                self.assertEqual(parse_pk(value), expected)

    def test_refused(self):
        for value in (
            None,
            "",
            "   ",
            "0",
            "-1",
            "+1",
            "1.0",
            "1e3",
            "0x10",
            "1 2",
            "١٢",  # Arabic-Indic digits: str.isdigit() says yes
            "²",
            "１２",  # full-width digits
            str(MAX_PK + 1),  # over PostgreSQL's INTEGER
            "00000000001",  # eleven digits
            "9" * 400,
            ["1", "2"],  # ?pk=1&pk=2
            ("1",),
            -3,
            0,
        ):
            with self.subTest(value=value):
                self.assertIsNone(parse_pk(value))

    def test_whole_number(self):
        self.assertEqual(whole_number(" 0 "), 0)
        self.assertEqual(whole_number("9999999999"), 9999999999)
        self.assertIsNone(whole_number("99999999999"))
        self.assertIsNone(whole_number("-0"))


class TestIntParam(unittest.TestCase):
    def message(self, form, *args, **kwargs):
        with self.assertRaises(BadParameter) as raised:
            int_param(form, "n", *args, **kwargs)
        return str(raised.exception)

    def test_value(self):
        self.assertEqual(int_param({"n": " 12 "}, "n", 1, 12), 12)
        self.assertEqual(int_param({"n": "1"}, "n", 1, 12), 1)

    def test_absent_or_blank(self):
        self.assertEqual(int_param({}, "n", 1, 12, default=3), 3)
        self.assertEqual(int_param({"n": "  "}, "n", 1, 12, default=3), 3)
        self.assertEqual(self.message({}, 1, 12), "n is required")
        self.assertEqual(self.message({"n": ""}, 1, 12), "n is required")

    def test_repeated(self):
        self.assertEqual(self.message({"n": ["1", "2"]}, 1, 12), "n must be given once")
        self.assertEqual(self.message({"n": 5}, 1, 12, default=3), "n must be given once")

    def test_not_a_whole_number(self):
        self.assertEqual(self.message({"n": "-1"}, 1, 12), "n must be a whole number, not '-1'")
        self.assertEqual(self.message({"n": "+1"}, 1, 12), "n must be a whole number, not '+1'")
        self.assertEqual(self.message({"n": "١"}, 1, 12), "n must be a whole number, not '١'")
        self.assertEqual(
            self.message({"n": " " + "x" * 30}, 1, 12),
            f"n must be a whole number, not {'x' * 20!r}",
        )

    def test_overflow(self):
        self.assertEqual(
            self.message({"n": "9" * 11}, 1, MAX_PK), f"n must be a whole number, not {'9' * 11!r}"
        )
        self.assertEqual(
            self.message({"n": str(MAX_PK + 1)}, 1, MAX_PK),
            f"n must be between 1 and {MAX_PK}, not {MAX_PK + 1}",
        )

    def test_range(self):
        self.assertEqual(self.message({"n": "13"}, 1, 12), "n must be between 1 and 12, not 13")
        self.assertEqual(self.message({"n": "0"}, 1, 12), "n must be between 1 and 12, not 0")

    def test_lenient(self):
        for form in ({}, {"n": ""}, {"n": ["1"]}, {"n": "x"}, {"n": "0"}, {"n": "13"}):
            with self.subTest(form=form):
                self.assertEqual(lenient_int_param(form, "n", 1, 12, 3), 3)
                self.assertIsNone(lenient_int_param(form, "n", 1, 12))
        self.assertEqual(lenient_int_param({"n": "12"}, "n", 1, 12, 3), 12)


class TestMonths(unittest.TestCase):
    def test_add_months(self):
        for day, months, expected in (
            (date(2030, 6, 15), 0, date(2030, 6, 1)),
            (date(2030, 12, 31), 1, date(2031, 1, 1)),
            (date(2030, 1, 31), -1, date(2029, 12, 1)),
            (date(2030, 3, 1), 12, date(2031, 3, 1)),
            (date(2030, 3, 1), -25, date(2028, 2, 1)),
            (date(2030, 11, 30), 38, date(2034, 1, 1)),
        ):
            with self.subTest(day=day, months=months):
                self.assertEqual(add_months(day, months), expected)

    def test_month_index(self):
        self.assertEqual(month_index(date(2030, 1, 20)) - month_index(date(2029, 12, 1)), 1)
        for day in (date(1, 1, 1), date(2030, 12, 1), date(9999, 12, 1)):
            self.assertEqual(month_start(month_index(day)), day)

    def test_parse_month(self):
        self.assertEqual(parse_month("2030-07"), date(2030, 7, 1))
        self.assertEqual(parse_month(" 2030-12\n"), date(2030, 12, 1))
        self.assertEqual(parse_month("0001-01"), date(1, 1, 1))
        for value in (
            None,
            "",
            "2030-13",
            "2030-00",
            "0000-01",
            "2030-7",
            "30-07",
            "2030/07",
            "2030-07-01",
            "-2030-07",
            ["2030-07"],
            203007,
        ):
            with self.subTest(value=value):
                self.assertIsNone(parse_month(value))

    def test_parse_month_other_digits(self):
        # As the two month parsers it replaces (re's \d): any decimal digits.
        self.assertEqual(parse_month("٢٠٣٠-٠٧"), date(2030, 7, 1))

    def test_month_param(self):
        today = date(2030, 6, 15)
        earliest, latest = date(2027, 6, 15), date(2033, 6, 1)
        for value, expected in (
            ("2030-07", date(2030, 7, 1)),
            ("2027-06", date(2027, 6, 1)),  # the earliest month, whatever its day
            ("2033-06", date(2033, 6, 1)),
            ("2027-05", date(2030, 6, 1)),
            ("2033-07", date(2030, 6, 1)),
            ("junk", date(2030, 6, 1)),
            (["2030-07", "2030-08"], date(2030, 6, 1)),
        ):
            with self.subTest(value=value):
                self.assertEqual(
                    month_param({"month": value}, "month", today, earliest, latest), expected
                )
        self.assertEqual(month_param({}, "month", today, earliest, latest), date(2030, 6, 1))
