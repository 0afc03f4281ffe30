"""The site -> hub message builder (``encode_site_change``) and its decoder. Pure Python."""

import datetime
import pickle
import unittest

from gites.calendar.messaging.codec import (
    InvalidMessage,
    SiteChange,
    decode_site_change,
    encode_site_change,
)
from gites.calendar.messaging.safepickle import safe_loads
from gites.calendar.testing.hub_messages import JSON, PICKLE, global_call, pickle_globals

date = datetime.date


class EncodeSiteChangeTests(unittest.TestCase):
    change = SiteChange(
        heb_pk=12,
        cgt_id="HAFR1234",
        start=date(2024, 5, 1),
        end=date(2024, 5, 3),
        selection_type="loue",
    )
    expected = {
        "hebPk": 12,
        "cgtId": "HAFR1234",
        "start": datetime.datetime(2024, 5, 1, 0, 0),
        "end": datetime.datetime(2024, 5, 3, 0, 0),
        "typeOfSelection": "loue",
    }

    def test_pickle_is_readable_by_python_2(self):
        body, content_type = encode_site_change(self.change)
        self.assertEqual(content_type, PICKLE)
        self.assertEqual(body[:2], b"\x80\x02")
        names, protocol = pickle_globals(body)
        self.assertLessEqual(protocol, 2)
        # Python 2.7 has both: datetime.datetime, and _codecs.encode for the datetime state.
        self.assertEqual(names, {("datetime", "datetime"), ("_codecs", "encode")})

    def test_pickle_round_trip(self):
        body, _ = encode_site_change(self.change, "pickle")
        for loaded in (safe_loads(body), decode_site_change(body, PICKLE), pickle.loads(body)):
            self.assertEqual(loaded, self.expected)
            self.assertIs(type(loaded["start"]), datetime.datetime)

    def test_json(self):
        body, content_type = encode_site_change(self.change, "json")
        self.assertEqual(content_type, JSON)
        self.assertEqual(
            body,
            b'{"hebPk":12,"cgtId":"HAFR1234","start":"2024-05-01T00:00:00",'
            b'"end":"2024-05-03T00:00:00","typeOfSelection":"loue"}',
        )
        self.assertEqual(decode_site_change(body, JSON), self.expected)

    def test_both_formats_decode_alike(self):
        for selection_type in ("loue", "indisp", "libre"):
            change = SiteChange(7, "LIHE0815", date(2025, 12, 31), date(2026, 1, 1), selection_type)
            with self.subTest(selection_type):
                decoded = [
                    decode_site_change(*encode_site_change(change, fmt))
                    for fmt in ("pickle", "json")
                ]
                self.assertEqual(decoded[0], decoded[1])
                self.assertEqual(decoded[0]["typeOfSelection"], selection_type)

    def test_datetimes_are_taken_as_their_day(self):
        change = SiteChange(
            12, "HAFR1234", datetime.datetime(2024, 5, 1, 13, 5), date(2024, 5, 3), "loue"
        )
        body, content_type = encode_site_change(change)
        self.assertEqual(decode_site_change(body, content_type), self.expected)

    def test_unknown_format(self):
        for fmt in ("yaml", "PICKLE", "", None):
            with self.subTest(fmt), self.assertRaises(ValueError):
                encode_site_change(self.change, fmt)

    def test_changes_the_hub_could_not_use(self):
        base = self.change
        bad = [
            {"heb_pk": True},
            {"heb_pk": "12"},
            {"cgt_id": ""},
            {"cgt_id": None},
            {"selection_type": "booked"},
            {"start": "2024-05-01"},
            {"end": None},
            {"start": date(2024, 5, 4)},
            {"selection_type": ["loue"]},
        ]
        for changes in bad:
            with self.subTest(changes), self.assertRaises(ValueError):
                encode_site_change(SiteChange(**{**base.__dict__, **changes}), "json")
        with self.assertRaises(ValueError):
            encode_site_change({"hebPk": 12})

    def test_decode_site_change_errors(self):
        for body, content_type in [
            (b"{}", "text/plain"),
            (pickle.dumps([1], 2), PICKLE),
            (b'{"start": "yesterday"}', JSON),
            (global_call("os", "system", "true"), PICKLE),
            (b"\x80\x02", PICKLE),
        ]:
            with self.subTest(body), self.assertRaises(InvalidMessage):
                decode_site_change(body, content_type)
