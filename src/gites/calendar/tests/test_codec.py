"""Tests of the hub message codec and of the restricted unpickler.

Pure Python, no broker and no database. The Python 2 pickles under ``data/`` were
built opcode by opcode (see ``data/README.txt``); when a Python 2.7 interpreter is
installed, ``Python2InteropTests`` also checks them, and our own output, against it.
"""

import collections
import contextlib
import datetime
import functools
import glob
import importlib.util
import io
import json
import os
import pathlib
import pickle
import pickletools
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import warnings

from gites.calendar.messaging import codec, safepickle
from gites.calendar.messaging.codec import (
    BOOKING_TYPES,
    MAX_RANGE_DAYS,
    HubBooking,
    InvalidMessage,
    SiteChange,
    decode_hub_message,
    decode_site_change,
    encode_site_change,
)
from gites.calendar.messaging.safepickle import ForbiddenPickle, safe_loads
from gites.calendar.testing.amqp import colliding_keys_pickle

DATA = pathlib.Path(__file__).resolve().parent / "data"
SRC = pathlib.Path(codec.__file__).resolve().parents[3]
PICKLE = "application/x-python-serialize"
JSON = "application/json"
date = datetime.date

# What each Python 2 vector holds, written out here independently of make_vectors.py.
HUB_VECTORS = {
    "hub_booked_py2.pickle": {
        "booking_type": "booked",
        "cgt_id": "HAFR1234",
        "start_date": date(2024, 5, 1),
        "end_date": date(2024, 5, 3),
        "notf_id": 42,
    },
    "hub_unavailable_py2.pickle": {
        "booking_type": "unavailable",
        "cgt_id": "NAHE0007",
        "start_date": date(2024, 12, 30),
        "end_date": date(2025, 1, 2),
        "notf_id": 4242,
    },
    "hub_available_py2.pickle": {
        "booking_type": "available",
        "cgt_id": "BXLA12",
        "start_date": date(2025, 2, 27),
        "end_date": date(2025, 3, 1),
        "notf_id": 123456,
    },
    "hub_unicode_py2.pickle": {
        "booking_type": "unavailable",
        "cgt_id": "LIHE0815",
        "start_date": date(2025, 7, 14),
        "end_date": date(2025, 7, 14),
        "notf_id": 7,
    },
}
# (file, global it names, file its plain unpickling creates in the current directory)
EVIL_VECTORS = [
    ("evil_open_py2.pickle", "__builtin__.open", "gites-calendar-pwned"),
    ("evil_system_py2.pickle", "os.system", "gites-calendar-pwned-system"),
]

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
    "start_date": date(2024, 5, 1),
    "end_date": datetime.datetime(2024, 5, 3, 15, 30),
    "notf_id": 3000000000,
}


def vector(name):
    return (DATA / name).read_bytes()


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


def short_binstring(raw):
    return b"U" + bytes([len(raw)]) + raw


def binunicode(text):
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def global_call(module, name, *args):
    """A protocol 2 pickle of ``module.name(*args)`` (str arguments)."""
    body = b"".join(binunicode(arg) for arg in args)
    tuple_op = {0: b")", 1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(args)]
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + body + tuple_op + b"R."


def nested_lists(depth):
    """A pickle of ``depth`` lists nested in each other, written without recursion."""
    return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."


def load_make_vectors():
    spec = importlib.util.spec_from_file_location("make_vectors", DATA / "make_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@functools.cache
def python2():
    """A Python 2.7 interpreter if one is installed (it is not part of the project)."""
    candidates = [
        os.environ.get("GITES_CALENDAR_PYTHON2"),
        shutil.which("python2.7"),
        shutil.which("python2"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python"))),
    ]
    for candidate in filter(None, candidates):
        try:
            result = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[0])"],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if result.returncode == 0 and result.stdout.strip() == "2":
            return candidate
    return None


class Python2VectorTests(unittest.TestCase):
    """The hub's Python 2 pickles load through safe_loads and decode."""

    def test_vectors_load_as_plain_data(self):
        for name, expected in HUB_VECTORS.items():
            with self.subTest(name):
                loaded = safe_loads(vector(name))
                self.assertEqual(loaded, expected)
                for key, value in loaded.items():
                    self.assertIs(type(key), str)
                    if key.endswith("_date"):
                        self.assertIs(type(value), date)

    def test_python2_str_and_unicode_both_come_out_as_str(self):
        from_str = safe_loads(vector("hub_booked_py2.pickle"))
        from_unicode = safe_loads(vector("hub_unicode_py2.pickle"))
        for loaded in (from_str, from_unicode):
            self.assertIs(type(loaded["cgt_id"]), str)
            self.assertIs(type(loaded["booking_type"]), str)
        self.assertIn(b"U\x08HAFR1234", vector("hub_booked_py2.pickle"))  # SHORT_BINSTRING
        self.assertIn(binunicode("LIHE0815"), vector("hub_unicode_py2.pickle"))

    def test_vectors_are_python2_protocol_2_naming_only_datetime_date(self):
        for name in HUB_VECTORS:
            with self.subTest(name):
                data = vector(name)
                self.assertTrue(data.startswith(b"\x80\x02"))
                self.assertEqual(pickle_globals(data), ({("datetime", "date")}, 2))

    def test_vector_files_are_what_make_vectors_builds(self):
        make_vectors = load_make_vectors()
        built = make_vectors.build_all()
        self.assertEqual(set(built), set(HUB_VECTORS) | {name for name, _, _ in EVIL_VECTORS})
        for name, data in built.items():
            with self.subTest(name):
                self.assertEqual(vector(name), data)
        readme = (DATA / "README.txt").read_text(encoding="utf-8")
        self.assertEqual(readme, make_vectors.readme_text())

    def test_decode_vectors(self):
        for name, fields in HUB_VECTORS.items():
            with self.subTest(name):
                booking = decode_hub_message(vector(name), PICKLE)
                self.assertEqual(
                    booking,
                    HubBooking(
                        booking_type=fields["booking_type"],
                        cgt_id=fields["cgt_id"],
                        start=fields["start_date"],
                        end=fields["end_date"],
                        notf_id=fields["notf_id"],
                    ),
                )
                self.assertEqual(booking.res_type, BOOKING_TYPES[fields["booking_type"]])

    def test_cpickle_protocols_0_1_and_2(self):
        for protocol, data in enumerate((PY2_PROTOCOL_0, PY2_PROTOCOL_1, PY2_PROTOCOL_2)):
            with self.subTest(protocol=protocol):
                self.assertEqual(safe_loads(data), PY2_EXPECTED)
                booking = decode_hub_message(data, PICKLE)
                self.assertEqual(booking.end, date(2024, 5, 3))  # the datetime's day
                self.assertEqual(booking.notf_id, 3000000000)


class SafeLoadsTests(unittest.TestCase):
    """What safe_loads lets through, and what it refuses."""

    def test_python3_pickles_of_plain_data(self):
        value = {
            "text": "é€",
            "raw": b"\x00\xff",
            "numbers": [0, -1, 2**70, 1.5, True, False, None],
            "dates": (date(2024, 2, 29), datetime.datetime(2024, 2, 29, 23, 59, 59, 123)),
            ("tuple", "key"): {},
        }
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with self.subTest(protocol=protocol):
                self.assertEqual(safe_loads(pickle.dumps(value, protocol)), value)

    def test_shared_references_are_fine(self):
        shared = [1, 2]
        loaded = safe_loads(pickle.dumps({"a": shared, "b": shared, "c": [shared]}, 2))
        self.assertIs(loaded["a"], loaded["b"])

    def test_bytes_like_input(self):
        data = vector("hub_booked_py2.pickle")
        self.assertEqual(safe_loads(bytearray(data)), HUB_VECTORS["hub_booked_py2.pickle"])
        self.assertEqual(safe_loads(memoryview(data)), HUB_VECTORS["hub_booked_py2.pickle"])
        with self.assertRaises(TypeError):
            safe_loads(data.decode("latin-1"))

    def test_forbidden_globals_are_named(self):
        for module, name in [
            ("os", "system"),
            ("posix", "system"),
            ("builtins", "eval"),
            ("__builtin__", "eval"),
            ("__builtin__", "getattr"),
            ("subprocess", "Popen"),
            ("pickle", "loads"),
            ("codecs", "encode"),
            ("_codecs", "decode"),
            ("datetime", "date.fromtimestamp"),
            ("datetime", "timezone"),
        ]:
            with self.subTest(f"{module}.{name}"):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(global_call(module, name, "x"))
                self.assertEqual(str(caught.exception), f"forbidden pickle global {module}.{name}")

    def test_stack_global_is_checked_while_loading(self):
        # STACK_GLOBAL takes its names from the stack: only find_class can see them.
        data = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R."
        with self.assertRaises(ForbiddenPickle) as caught:
            safe_loads(data)
        self.assertEqual(str(caught.exception), "forbidden pickle global os.system")
        with self.assertRaises(ForbiddenPickle) as caught:
            safe_loads(pickle.dumps(collections.OrderedDict(), 4))
        self.assertEqual(str(caught.exception), "forbidden pickle global collections.OrderedDict")
        dotted = b"\x80\x04\x8c\x08datetime\x8c\x12date.fromtimestamp\x93K\x00\x85R."
        with self.assertRaises(ForbiddenPickle):
            safe_loads(dotted)

    def test_unprintable_global_names_stay_on_one_line(self):
        data = b"\x80\x04\x8c\x03os\n\x8c\x07sys\ntem\x93."
        with self.assertRaises(ForbiddenPickle) as caught:
            safe_loads(data)
        self.assertNotIn("\n", str(caught.exception))
        self.assertIn("'os\\n'", str(caught.exception))

    def test_forbidden_opcodes(self):
        cases = {
            "BUILD": b"\x80\x02}}b.",
            "INST": b"(idatetime\ndate\n.",
            "OBJ": b"(cdatetime\ndate\nK\x01K\x01K\x01o.",
            "NEWOBJ": b"\x80\x02cdatetime\ndate\nK\x01K\x01K\x01\x87\x81.",
            "NEWOBJ_EX": b"\x80\x04cdatetime\ndate\n)}\x92.",
            "PERSID": b"Pfile\n.",
            "BINPERSID": b"\x80\x02K\x01Q.",
            "EXT1": b"\x80\x02\x82\x01.",
            "EXT2": b"\x80\x02\x83\x01\x00.",
            "EXT4": b"\x80\x02\x84\x01\x00\x00\x00.",
            "NEXT_BUFFER": b"\x80\x05\x97.",
            "READONLY_BUFFER": b"\x80\x05N\x98.",
        }
        for name, data in cases.items():
            with self.subTest(name):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(data)
                self.assertEqual(str(caught.exception), f"forbidden pickle opcode {name}")
        with self.assertRaises(ForbiddenPickle) as caught:
            safe_loads(b"(ios\nsystem\n.")  # INST naming a forbidden global: the global is named
        self.assertEqual(str(caught.exception), "forbidden pickle global os.system")

    def test_the_unpickler_refuses_even_without_the_scan(self):
        # Second line of defence: the restricted unpickler on its own.
        unpickler = safepickle._RestrictedUnpickler
        for data in (b"cos\nsystem\n.", b"\x80\x02K\x01Q.", b"Pfile\n."):
            with self.subTest(data), self.assertRaises(ForbiddenPickle):
                unpickler(io.BytesIO(data), encoding="latin1").load()

    def test_codecs_encode_only_as_python3_writes_bytes(self):
        self.assertEqual(
            safe_loads(global_call("_codecs", "encode", "ab\xff", "latin1")), b"ab\xff"
        )
        self.assertEqual(safe_loads(pickle.dumps(b"\x00\x80\xff", 2)), b"\x00\x80\xff")
        for args in [
            ("x", "zlib_codec"),
            ("x", "rot13"),
            ("x", "utf-8"),
            ("x", "latin1", "ignore"),
        ]:
            with self.subTest(args):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(global_call("_codecs", "encode", *args))
                self.assertIn("_codecs.encode", str(caught.exception))
        not_text = b"\x80\x02c_codecs\nencode\nK\x01X\x06\x00\x00\x00latin1\x86R."
        with self.assertRaises(ForbiddenPickle):
            safe_loads(not_text)
        # Without __dict__ or slots, BUILD could not alter the stand-in.
        self.assertFalse(hasattr(safepickle._ALLOWED_GLOBALS["_codecs", "encode"], "__dict__"))

    def test_empty_bytes_in_protocol_2_is_refused(self):
        # Python 3 writes b'' as __builtin__.bytes(): outside the allow-list, documented.
        with self.assertRaises(ForbiddenPickle) as caught:
            safe_loads(pickle.dumps(b"", 2))
        self.assertEqual(str(caught.exception), "forbidden pickle global __builtin__.bytes")
        self.assertEqual(safe_loads(pickle.dumps(b"", 3)), b"")

    def test_types_outside_plain_data_are_refused(self):
        cases = {
            "builtins.set": pickle.dumps({1, 2}, 4),
            "builtins.frozenset": pickle.dumps(frozenset({1}), 4),
            "builtins.bytearray": pickle.dumps(bytearray(b"x"), 5),
        }
        for type_name, data in cases.items():
            with self.subTest(type_name):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(data)
                self.assertEqual(
                    str(caught.exception), f"forbidden type {type_name} in pickle data"
                )
        # time and timedelta are not plain data here: refused at their global.
        for value in (datetime.timedelta(days=1), datetime.time(12, 30)):
            forbidden = self.assertRaisesRegex(ForbiddenPickle, "forbidden pickle global")
            with self.subTest(value), forbidden:
                safe_loads(pickle.dumps(value, 2))
        nested = pickle.dumps({"a": [(1, {"b": {2}})]}, 4)
        with self.assertRaises(ForbiddenPickle):
            safe_loads(nested)
        as_key = pickle.dumps({frozenset({1}): 1}, 4)
        with self.assertRaises(ForbiddenPickle):
            safe_loads(as_key)

    def test_cycles_are_refused(self):
        list_in_itself = b"\x80\x02]q\x01h\x01a."
        dict_in_itself = b"\x80\x02}q\x01K\x01h\x01s."
        tuple_through_list = b"\x80\x02]q\x01h\x01\x85a."
        for data in (list_in_itself, dict_in_itself, tuple_through_list):
            with self.subTest(data):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(data)
                self.assertEqual(str(caught.exception), "cyclic reference in pickle data")

    def test_depth_is_bounded(self):
        deepest = safe_loads(nested_lists(safepickle.MAX_DEPTH))
        for _ in range(safepickle.MAX_DEPTH - 1):
            deepest = deepest[0]
        self.assertEqual(deepest, [])
        for depth in (safepickle.MAX_DEPTH + 1, 100_000):
            with self.subTest(depth=depth):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(nested_lists(depth))
                self.assertIn("nested deeper", str(caught.exception))

    def test_memo_index_bombs_are_refused_before_loading(self):
        # CPython would grow its memo table to the index: gigabytes for 9 bytes.
        for data in (b"\x80\x02Nr\xff\xff\xff\x7f.", b"Np99999999999\n."):
            with self.subTest(data):
                with self.assertRaises(ForbiddenPickle) as caught:
                    safe_loads(data)
                self.assertIn("memo index", str(caught.exception))

    def test_lengths_beyond_the_data_are_refused_before_loading(self):
        for data in (
            b"\x80\x04\x8e" + struct.pack("<Q", 2**60) + b".",  # BINBYTES8
            b"\x80\x04\x8d" + struct.pack("<Q", 2**40) + b".",  # BINUNICODE8
            b"\x80\x02X" + struct.pack("<I", 2**31) + b".",  # BINUNICODE
            b"\x80\x02\x8b" + struct.pack("<i", 2**30) + b".",  # LONG4
            b"\x80\x04\x95" + struct.pack("<Q", 2**50) + b"N.",  # FRAME
        ):
            with self.subTest(data):
                with self.assertRaises(pickle.UnpicklingError) as caught:
                    safe_loads(data)
                self.assertIn("more data than there is", str(caught.exception))

    def test_broken_pickles(self):
        data = vector("hub_booked_py2.pickle")
        with self.assertRaises(pickle.UnpicklingError) as caught:
            safe_loads(data + b"N")
        self.assertIn("after STOP", str(caught.exception))
        for cut in range(len(data)):
            with self.subTest(cut=cut), self.assertRaises(pickle.UnpicklingError):
                safe_loads(data[:cut])
        for bad in (b"", b"\xff.", b"\x80\x02K\x01K\x01s.", b"\x80\x02h\x05.", b"I12x\n."):
            with self.subTest(bad), self.assertRaises(pickle.UnpicklingError):
                safe_loads(bad)

    def test_random_input_raises_only_the_two_documented_errors(self):
        # CPython warns about bad escapes in protocol 0 strings; noise here.
        self.enterContext(warnings.catch_warnings())
        warnings.simplefilter("ignore", DeprecationWarning)
        rng = random.Random(20240501)
        fragments = [vector(name) for name in HUB_VECTORS] + [PY2_PROTOCOL_0]
        for _ in range(3000):
            if rng.random() < 0.5:
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
            else:
                data = bytearray(rng.choice(fragments))
                for _ in range(rng.randrange(1, 4)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                data = bytes(data)
            try:
                safe_loads(data)
            except (ForbiddenPickle, pickle.UnpicklingError):
                pass


class MaliciousVectorTests(unittest.TestCase):
    """The malicious vectors are live, and safe_loads runs none of them."""

    def run_loader(self, mode, name, cwd):
        script = (
            "import pickle, sys\n"
            "from gites.calendar.messaging.safepickle import ForbiddenPickle, safe_loads\n"
            "data = open(sys.argv[2], 'rb').read()\n"
            "if sys.argv[1] == 'plain':\n"
            "    pickle.loads(data, encoding='latin1')\n"  # as a Python 2 compatible reader
            "    print('LOADED')\n"
            "else:\n"
            "    try:\n"
            "        safe_loads(data)\n"
            "    except ForbiddenPickle as exc:\n"
            "        print('REFUSED', exc)\n"
        )
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
        )
        return subprocess.run(
            [sys.executable, "-c", script, mode, str(DATA / name)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_plain_pickle_loads_would_create_the_file(self):
        for name, _, marker in EVIL_VECTORS:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                result = self.run_loader("plain", name, tmp)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue((pathlib.Path(tmp) / marker).exists(), "the vector is not live")

    def test_safe_loads_refuses_them_in_a_fresh_process(self):
        for name, global_name, _marker in EVIL_VECTORS:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                result = self.run_loader("safe", name, tmp)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(
                    result.stdout.strip(), f"REFUSED forbidden pickle global {global_name}"
                )
                self.assertEqual(os.listdir(tmp), [])

    def test_safe_loads_and_decode_refuse_them_here(self):
        for name, global_name, marker in EVIL_VECTORS:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                with contextlib.chdir(tmp):
                    with self.assertRaises(ForbiddenPickle) as caught:
                        safe_loads(vector(name))
                    self.assertEqual(
                        str(caught.exception), f"forbidden pickle global {global_name}"
                    )
                    with self.assertRaises(InvalidMessage) as caught:
                        decode_hub_message(vector(name), PICKLE)
                    self.assertEqual(
                        str(caught.exception), f"forbidden pickle global {global_name}"
                    )
                self.assertFalse((pathlib.Path(tmp) / marker).exists())
                self.assertEqual(os.listdir(tmp), [])


class DecodeHubMessageTests(unittest.TestCase):
    def assertInvalid(self, body, content_type=JSON, reason=None):
        with self.assertRaises(InvalidMessage) as caught:
            decode_hub_message(body, content_type)
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        if reason is not None:
            self.assertEqual(message, reason)
        return message

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


# Python 2 is not a dependency of the project, and the project's CI counts a skipped test
# as a failure: these tests exist only where an interpreter is found.
if python2() is not None:

    class Python2InteropTests(unittest.TestCase):
        """Against a real Python 2.7 interpreter."""

        def run_python2(self, script, stdin=b""):
            result = subprocess.run(
                [python2(), "-c", script], input=stdin, capture_output=True, timeout=60
            )
            self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
            return result.stdout.decode("ascii")

        def test_cpickle_writes_the_vectors_byte_for_byte(self):
            script = (
                "import binascii, cPickle, datetime\n"
                "d = datetime.date\n"
                "messages = {\n"
                "  'hub_booked_py2.pickle': dict(booking_type='booked', cgt_id='HAFR1234',"
                " start_date=d(2024, 5, 1), end_date=d(2024, 5, 3), notf_id=42),\n"
                "  'hub_unavailable_py2.pickle': dict(booking_type='unavailable',"
                " cgt_id='NAHE0007',"
                " start_date=d(2024, 12, 30), end_date=d(2025, 1, 2), notf_id=4242),\n"
                "  'hub_available_py2.pickle': dict(booking_type='available', cgt_id='BXLA12',"
                " start_date=d(2025, 2, 27), end_date=d(2025, 3, 1), notf_id=123456),\n"
                "  'hub_unicode_py2.pickle': dict(booking_type=u'unavailable', cgt_id=u'LIHE0815',"
                " start_date=d(2025, 7, 14), end_date=d(2025, 7, 14), notf_id=7),\n"
                "}\n"
                "for name in sorted(messages):\n"
                "    print('%s %s' % (name, binascii.hexlify(cPickle.dumps(messages[name], 2))))\n"
            )
            written = dict(line.split() for line in self.run_python2(script).splitlines())
            self.assertEqual(set(written), set(HUB_VECTORS))
            for name, hexdata in written.items():
                with self.subTest(name):
                    self.assertEqual(bytes.fromhex(hexdata), vector(name))

        def test_python2_reads_our_site_change(self):
            # What the legacy hub does with it: look the fields up and translate the type.
            script = (
                "import cPickle, pickle, sys\n"
                "data = sys.stdin.read()\n"
                "translation = {'loue': 'booked', 'indisp': 'unavailable', 'libre': 'available'}\n"
                "for loads in (cPickle.loads, pickle.loads):\n"
                "    m = loads(data)\n"
                "    print(repr((sorted(m), m.get('hebPk'), str(m.get('cgtId')), m.get('start'),"
                " m.get('end'), translation.get(m.get('typeOfSelection')))))\n"
            )
            for selection_type, booking_type in (("loue", "booked"), ("libre", "available")):
                change = SiteChange(
                    12, "HAFR1234", date(2024, 5, 1), date(2024, 5, 3), selection_type
                )
                body, _ = encode_site_change(change, "pickle")
                with self.subTest(selection_type):
                    lines = self.run_python2(script, body).splitlines()
                    expected = (
                        "([u'cgtId', u'end', u'hebPk', u'start', u'typeOfSelection'],"
                        " 12, 'HAFR1234',"
                        " datetime.datetime(2024, 5, 1, 0, 0), datetime.datetime(2024, 5, 3, 0, 0),"
                        f" '{booking_type}')"
                    )
                    self.assertEqual(lines, [expected, expected])


if __name__ == "__main__":
    unittest.main()


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

    def test_colliding_keys_at_the_limit_load_quickly(self):
        import time

        body = colliding_keys_pickle(80_000)
        started = time.process_time()
        with self.assertRaisesRegex(ForbiddenPickle, "more than 5000 opcodes"):
            safe_loads(body)
        self.assertLess(time.process_time() - started, 2.0)

    def test_set_opcodes_are_refused_before_building(self):
        for data, kind in (
            (b"\x80\x04\x8f\x94.", "set"),  # EMPTY_SET
            (b"\x80\x04(K\x01\x91.", "frozenset"),  # FROZENSET
        ):
            with self.subTest(kind), self.assertRaises(ForbiddenPickle) as caught:
                safe_loads(data)
            self.assertEqual(
                str(caught.exception), f"forbidden type builtins.{kind} in pickle data"
            )

    def test_shared_sublists_are_walked_once_and_their_depth_counts(self):
        import time

        shared = [0] * 1000
        started = time.process_time()
        self.assertEqual(
            len(safe_loads(pickle.dumps([shared] * 100_000, 2), max_opcodes=10**6)), 100_000
        )
        self.assertLess(time.process_time() - started, 2.0)
        deep = []
        for _ in range(safepickle.MAX_DEPTH - 1):
            deep = [deep, deep]
        self.assertIsInstance(safe_loads(pickle.dumps(deep, 2)), list)  # exactly MAX_DEPTH
        with self.assertRaisesRegex(ForbiddenPickle, "nested deeper than 100"):
            safe_loads(pickle.dumps([deep, 0], 2))
        # Walked first at a shallow depth (the last child is walked first),
        # then reached deeper: still refused.
        inner = []
        for _ in range(96):
            inner = [inner, inner]  # 97 levels
        self.assertIsInstance(safe_loads(pickle.dumps([[inner]], 2)), list)  # 99
        tricky = [[[[inner]]], inner]  # 101 through the first child
        with self.assertRaisesRegex(ForbiddenPickle, "nested deeper than 100"):
            safe_loads(pickle.dumps(tricky, 2))
