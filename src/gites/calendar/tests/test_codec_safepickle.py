"""The restricted unpickler (``safepickle.safe_loads``): what it lets through, what it
refuses, and what it refuses before it costs time or memory. Pure Python.
"""

import collections
import datetime
import io
import pickle
import random
import struct
import unittest
import warnings

from gites.calendar.messaging import safepickle
from gites.calendar.messaging.safepickle import ForbiddenPickle, safe_loads
from gites.calendar.testing.hub_messages import (
    HUB_VECTORS,
    PY2_PROTOCOL_0,
    colliding_keys_pickle,
    global_call,
    vector,
)

date = datetime.date


def nested_lists(depth):
    """A pickle of ``depth`` lists nested in each other, written without recursion."""
    return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."


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


class UnpicklerCostTests(unittest.TestCase):
    """What safe_loads refuses before it costs: many opcodes, set opcodes, shared sub-lists."""

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
