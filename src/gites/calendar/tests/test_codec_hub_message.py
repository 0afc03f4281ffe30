"""Decoding a hub message: content types, bodies (JSON and pickle), content
encodings, the reasons given for what is refused. Pure Python.
"""

import datetime
import json
import pickle
import random
import unittest
import warnings

from gites.calendar.messaging.codec import (
    HubBooking,
    InvalidMessage,
    decode_hub_message,
)
from gites.calendar.testing.hub_messages import (
    HUB_VECTORS,
    JSON,
    PICKLE,
    PY2_PROTOCOL_0,
    PY2_PROTOCOL_1,
    InvalidMessageAssertions,
    global_call,
    json_body,
    vector,
)

date = datetime.date


class DecodeHubMessageTests(InvalidMessageAssertions, unittest.TestCase):
    def test_json_message(self):
        booking = decode_hub_message(json_body(), JSON)
        self.assertEqual(
            booking,
            HubBooking(
                booking_type="booked",
                cgt_id="HAFR1234",
                start=date(2024, 5, 1),
                end=date(2024, 5, 3),
                notf_id=42,
            ),
        )
        self.assertEqual(booking.res_type, "loue")

    def test_python3_pickles_with_dates_and_datetimes(self):
        message = {
            "booking_type": "unavailable",
            "cgt_id": "HAFR1234",
            "start_date": datetime.datetime(2024, 5, 1, 15, 30),
            "end_date": date(2024, 5, 3),
            "notf_id": 2**40,
            "extra": {"ignored": [1, 2]},
        }
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with self.subTest(protocol=protocol):
                booking = decode_hub_message(pickle.dumps(message, protocol), PICKLE)
                self.assertEqual(booking.start, date(2024, 5, 1))
                self.assertIs(type(booking.start), date)
                self.assertEqual(booking.notf_id, 2**40)

    def test_content_type_parameters_and_case(self):
        self.assertEqual(
            decode_hub_message(json_body(), "Application/JSON; charset=utf-8").cgt_id, "HAFR1234"
        )
        data = vector("hub_booked_py2.pickle")
        self.assertEqual(decode_hub_message(data, " application/x-python-serialize ").notf_id, 42)

    def test_missing_content_type(self):
        # Accepted for a JSON object only (typed by hand); a pickle is never guessed.
        for content_type in (None, ""):
            with self.subTest(content_type=content_type):
                self.assertEqual(decode_hub_message(json_body(), content_type).notf_id, 42)
                self.assertEqual(decode_hub_message(b" \n" + json_body(), content_type).notf_id, 42)
                self.assertInvalid(
                    vector("hub_booked_py2.pickle"),
                    content_type,
                    "missing content type and the body is not a JSON object",
                )
                self.assertInvalid(b"[1]", content_type)

    def test_unsupported_content_types(self):
        for content_type in ("text/plain", "application/data", "application/x-yaml", "json"):
            with self.subTest(content_type):
                self.assertInvalid(
                    json_body(), content_type, f"unsupported content type {content_type!r}"
                )
        message = self.assertInvalid(json_body(), b"application/json")
        self.assertTrue(message.startswith("unsupported content type"))

    def test_body_and_content_type_mismatch(self):
        message = self.assertInvalid(vector("hub_booked_py2.pickle"), JSON)
        self.assertTrue(message.startswith("malformed JSON"))
        message = self.assertInvalid(json_body(), PICKLE)
        self.assertTrue(message.startswith("malformed pickle"))

    def test_body_types(self):
        self.assertEqual(decode_hub_message(bytearray(json_body()), JSON).notf_id, 42)
        self.assertInvalid(None, JSON, "message body is None, not bytes")
        self.assertInvalid(json_body().decode(), JSON, None)
        self.assertInvalid(None, None)

    def test_not_a_mapping(self):
        for value, shown in ([], "list []"), ("x", "str 'x'"), (42, "int 42"), (None, "None"):
            with self.subTest(value):
                reason = f"message body is {shown}, not a mapping"
                self.assertInvalid(json.dumps(value).encode(), JSON, reason)
                self.assertInvalid(pickle.dumps(value, 2), PICKLE, reason)

    def test_bad_json(self):
        for body in (
            b"",
            b"{",
            b"{'a': 1}",
            b'{"a": NaN}',
            b'{"a": Infinity}',
            b"\xff\xfe{}",
            b"[" * 100_000,
            b'{"notf_id": ' + b"9" * 5000 + b"}",
        ):
            with self.subTest(body[:20]):
                reason = self.assertInvalid(body, JSON)
                self.assertTrue(reason.startswith("malformed JSON"), reason)
        reason = self.assertInvalid(b'{"notf_id": 1, "notf_id": 2}', JSON)
        self.assertEqual(reason, "malformed JSON: duplicate key 'notf_id'")

    def test_reasons_are_one_short_line(self):
        bodies = [
            json_body(cgt_id="HAFR\n1234" * 1000),
            json_body(booking_type="x" * 10_000),
            json_body(start_date="2024-05-01T" + "\n" * 100),
            json_body(notf_id=10**4000),
            global_call("os\nx", "system"),
        ]
        for body in bodies:
            with self.subTest(body[:30]):
                with self.assertRaises(InvalidMessage) as caught:
                    decode_hub_message(body, PICKLE if body.startswith(b"\x80") else JSON)
                self.assertNotIn("\n", str(caught.exception))
                self.assertLess(len(str(caught.exception)), 300)

    def test_forbidden_global_is_the_reason(self):
        self.assertInvalid(
            global_call("os", "system", "true"), PICKLE, "forbidden pickle global os.system"
        )

    def test_fuzz_nothing_but_invalid_message_escapes(self):
        # CPython warns about bad escapes in protocol 0 strings; noise here.
        self.enterContext(warnings.catch_warnings())
        warnings.simplefilter("ignore", DeprecationWarning)
        rng = random.Random(731)
        seeds = [vector(name) for name in HUB_VECTORS] + [
            PY2_PROTOCOL_0,
            PY2_PROTOCOL_1,
            json_body(),
            pickle.dumps(json.loads(json_body()), 4),
        ]
        content_types = (PICKLE, JSON, None, "", "text/plain")
        bodies = []
        for seed in seeds:
            bodies.extend(seed[:cut] for cut in range(len(seed)))  # every truncation
        for _ in range(3000):
            mutated = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 5)):
                position = rng.randrange(len(mutated))
                action = rng.randrange(3)
                if action == 0:
                    mutated[position] = rng.randrange(256)
                elif action == 1:
                    del mutated[position]
                else:
                    mutated.insert(position, rng.randrange(256))
            bodies.append(bytes(mutated))
        for _ in range(1000):
            bodies.append(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        escaped = []
        for body in bodies:
            for content_type in content_types:
                try:
                    result = decode_hub_message(body, content_type)
                except InvalidMessage as exc:
                    if "\n" in str(exc):
                        escaped.append((body, content_type, "multi-line reason"))
                except Exception as exc:  # noqa: BLE001 - that is what the test looks for
                    escaped.append((body, content_type, repr(exc)))
                else:
                    if not isinstance(result, HubBooking):
                        escaped.append((body, content_type, repr(result)))
        self.assertEqual(escaped[:5], [])


class ContentEncodingAndLimitsTests(unittest.TestCase):
    """content_encoding, the date window and the pickle opcode limit."""

    PAYLOAD = {
        "booking_type": "booked",
        "cgt_id": "HAFF1234",
        "start_date": "2031-06-01",
        "end_date": "2031-06-01",
        "notf_id": 1,
    }

    def test_json_text_encodings(self):
        text = json.dumps(dict(self.PAYLOAD, cgt_id="HAFF1234"))
        for encoding in (None, "binary", "8bit", "utf-8", "UTF8", "latin-1", "utf-16"):
            with self.subTest(encoding):
                codec_name = encoding if encoding not in (None, "binary", "8bit") else "utf-8"
                body = text.encode(codec_name)
                booking = decode_hub_message(body, JSON, content_encoding=encoding)
                self.assertEqual(booking.notf_id, 1)

    def test_bad_encodings_are_refused(self):
        body = json.dumps(self.PAYLOAD).encode()
        cases = {
            "x-nope": "unsupported content encoding 'x-nope'",
            "zlib_codec": "content encoding 'zlib_codec' is not a text encoding",
            "base64": "content encoding 'base64' is not a text encoding",
        }
        for encoding, reason in cases.items():
            with self.subTest(encoding), self.assertRaises(InvalidMessage) as caught:
                decode_hub_message(body, JSON, content_encoding=encoding)
            self.assertEqual(str(caught.exception), reason)
        with self.assertRaises(InvalidMessage) as caught:
            decode_hub_message(b'{"a": "\xff"}', JSON, content_encoding="utf-8")
        self.assertTrue(str(caught.exception).startswith("body is not utf-8 text"))

    def test_pickle_ignores_content_encoding(self):
        body = pickle.dumps(self.PAYLOAD, 2)
        self.assertEqual(decode_hub_message(body, PICKLE, content_encoding="utf-8").notf_id, 1)

    def test_dates_outside_1900_2200_are_refused(self):
        for start, end in (
            ("9999-12-30", "9999-12-31"),
            ("1899-12-31", "1900-01-01"),
            ("2200-12-31", "2201-01-01"),
        ):
            body = json.dumps(dict(self.PAYLOAD, start_date=start, end_date=end)).encode()
            with self.subTest(start), self.assertRaises(InvalidMessage) as caught:
                decode_hub_message(body, JSON)
            self.assertIn("is outside the years 1900 to 2200", str(caught.exception))
        for start in ("1900-01-01", "2200-12-31"):
            body = json.dumps(dict(self.PAYLOAD, start_date=start, end_date=start)).encode()
            self.assertEqual(decode_hub_message(body, JSON).start.isoformat(), start)
        pickled = pickle.dumps(
            dict(self.PAYLOAD, start_date=datetime.date.max, end_date=datetime.date.max), 2
        )
        with self.assertRaisesRegex(InvalidMessage, "outside the years"):
            decode_hub_message(pickled, PICKLE)

    def test_opcode_limit(self):
        body = pickle.dumps(dict(self.PAYLOAD, extra=list(range(6000))), 2)
        with self.assertRaises(InvalidMessage) as caught:
            decode_hub_message(body, PICKLE)
        self.assertEqual(str(caught.exception), "pickle has more than 5000 opcodes")
        self.assertEqual(decode_hub_message(body, PICKLE, max_pickle_ops=10_000).notf_id, 1)
