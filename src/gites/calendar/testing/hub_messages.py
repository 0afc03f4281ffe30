"""Hub messages for the codec, daemon and hostile-message tests.

The Python 2 vectors of ``tests/data`` and what each holds (written out here
independently of ``make_vectors.py``), pickles written by CPython 2.7's
cPickle, JSON bodies, pickles that name globals, and a pickle built to be
slow to load: the bodies the ``test_codec_*`` modules decode, and the daemon
tests publish.
"""

import datetime
import json
import pathlib
import pickle
import pickletools
import struct

import gites.calendar
from gites.calendar.messaging.codec import InvalidMessage, decode_hub_message

PICKLE = "application/x-python-serialize"
JSON = "application/json"
VECTORS_DIR = pathlib.Path(gites.calendar.__file__).resolve().parent / "tests" / "data"

# What each Python 2 vector holds.
HUB_VECTORS = {
    "hub_booked_py2.pickle": {
        "booking_type": "booked",
        "cgt_id": "HAFR1234",
        "start_date": datetime.date(2024, 5, 1),
        "end_date": datetime.date(2024, 5, 3),
        "notf_id": 42,
    },
    "hub_unavailable_py2.pickle": {
        "booking_type": "unavailable",
        "cgt_id": "NAHE0007",
        "start_date": datetime.date(2024, 12, 30),
        "end_date": datetime.date(2025, 1, 2),
        "notf_id": 4242,
    },
    "hub_available_py2.pickle": {
        "booking_type": "available",
        "cgt_id": "BXLA12",
        "start_date": datetime.date(2025, 2, 27),
        "end_date": datetime.date(2025, 3, 1),
        "notf_id": 123456,
    },
    "hub_unicode_py2.pickle": {
        "booking_type": "unavailable",
        "cgt_id": "LIHE0815",
        "start_date": datetime.date(2025, 7, 14),
        "end_date": datetime.date(2025, 7, 14),
        "notf_id": 7,
    },
}

# Written by CPython 2.7.18's cPickle.dumps(d, protocol) for
# d = {'start_date': date(2024, 5, 1), 'end_date': datetime(2024, 5, 3, 15, 30),
#      'cgt_id': 'HAFR1234', 'booking_type': 'booked', 'notf_id': 3000000000}.
# 3000000000 does not fit BININT, so cPickle writes it as text (INT) even in protocol 2.
PY2_PROTOCOL_0 = (
    b"(dp1\nS'cgt_id'\np2\nS'HAFR1234'\np3\nsS'booking_type'\np4\nS'booked'\np5\n"
    b"sS'start_date'\np6\ncdatetime\ndate\np7\n(S'\\x07\\xe8\\x05\\x01'\ntRp8\n"
    b"sS'end_date'\np9\ncdatetime\ndatetime\np10\n"
    b"(S'\\x07\\xe8\\x05\\x03\\x0f\\x1e\\x00\\x00\\x00\\x00'\ntRp11\n"
    b"sS'notf_id'\np12\nI3000000000\ns."
)
PY2_PROTOCOL_1 = (
    b"}q\x01(U\x06cgt_idq\x02U\x08HAFR1234q\x03U\x0cbooking_typeq\x04U\x06bookedq\x05"
    b"U\nstart_dateq\x06cdatetime\ndate\nq\x07(U\x04\x07\xe8\x05\x01tRq\x08"
    b"U\x08end_dateq\tcdatetime\ndatetime\nq\n(U\n\x07\xe8\x05\x03\x0f\x1e\x00\x00\x00\x00tRq\x0b"
    b"U\x07notf_idq\x0cI3000000000\nu."
)
PY2_PROTOCOL_2 = (
    b"\x80\x02}q\x01(U\x06cgt_idq\x02U\x08HAFR1234q\x03U\x0cbooking_typeq\x04U\x06bookedq\x05"
    b"U\nstart_dateq\x06cdatetime\ndate\nq\x07U\x04\x07\xe8\x05\x01\x85Rq\x08"
    b"U\x08end_dateq\tcdatetime\ndatetime\nq\n"
    b"U\n\x07\xe8\x05\x03\x0f\x1e\x00\x00\x00\x00\x85Rq\x0bU\x07notf_idq\x0cI3000000000\nu."
)
PY2_EXPECTED = {
    "cgt_id": "HAFR1234",
    "booking_type": "booked",
    "start_date": datetime.date(2024, 5, 1),
    "end_date": datetime.datetime(2024, 5, 3, 15, 30),
    "notf_id": 3000000000,
}


def vector(name):
    """The bytes of the test vector ``name`` (a file of ``tests/data``)."""
    return (VECTORS_DIR / name).read_bytes()


def json_body(**changes):
    """A valid JSON hub message, with some fields changed (None as a value: removed)."""
    message = {
        "booking_type": "booked",
        "cgt_id": "HAFR1234",
        "start_date": "2024-05-01",
        "end_date": "2024-05-03",
        "notf_id": 42,
    }
    for key, value in changes.items():
        if value is None:
            message.pop(key)
        else:
            message[key] = value
    return json.dumps(message).encode("utf-8")


def binunicode(text):
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def global_call(module, name, *args):
    """A protocol 2 pickle of ``module.name(*args)`` (str arguments)."""
    body = b"".join(binunicode(arg) for arg in args)
    tuple_op = {0: b")", 1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(args)]
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + body + tuple_op + b"R."


def pickle_globals(data):
    """The (module, name) pairs a pickle's GLOBAL opcodes name, and its opcode protocol."""
    names = set()
    protocol = 0
    for opcode, arg, _ in pickletools.genops(data):
        protocol = max(protocol, opcode.proto)
        if opcode.name == "STACK_GLOBAL":
            names.add(("?", "?"))  # names only known while loading: Python 2 has no such op
        elif opcode.name in ("GLOBAL", "INST"):
            names.add(tuple(arg.split(" ", 1)))
    return names, protocol


class InvalidMessageAssertions:
    """``assertInvalid``: the hub message is refused, for a one-line reason."""

    def assertInvalid(self, body, content_type=JSON, reason=None):
        with self.assertRaises(InvalidMessage) as caught:
            decode_hub_message(body, content_type)
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        if reason is not None:
            self.assertEqual(message, reason)
        return message


def hub_body(kind, cgt, start, end, notf_id, fmt="pickle"):
    """A hub -> site body as the legacy hub (pickle) or a newer one (json) sends it."""
    from gites.calendar.scripts.hub_tool import hub_message

    return hub_message(kind, cgt, start, end, notf_id, fmt)


def colliding_keys_pickle(count):
    """A pickle of ``{k * (2**61 - 1): 0 for k in range(count)}`` (keys
    that all share one hash), written directly: building that dict to
    pickle it would itself take quadratic time."""
    parts = [b"\x80\x02}q\x00"]
    for first in range(0, count, 1000):
        parts.append(b"(")
        for k in range(first, min(first + 1000, count)):
            parts.append(pickle.dumps(k * (2**61 - 1), 2)[2:-1] + b"K\x00")
        parts.append(b"u")
    parts.append(b".")
    return b"".join(parts)
