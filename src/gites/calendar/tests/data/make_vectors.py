"""Build the Python 2.7 pickle test vectors of the ``test_codec_*`` modules, opcode by opcode.

The legacy hub pickles its messages with Python 2.7's cPickle, protocol 2. Python 2
is not part of the project's environment, so :class:`Py2Pickler` writes the opcodes
itself, in the order and with the memo numbering cPickle uses. Run it to rewrite the ``.pickle``
files and ``README.txt`` beside it::

    python src/gites/calendar/tests/data/make_vectors.py

``test_codec_python2`` checks that the files are what this script builds, and, when a
Python 2.7 interpreter happens to be installed, that cPickle writes the same bytes.
"""

import datetime
import io
import pathlib
import pickletools
import struct
import textwrap

HERE = pathlib.Path(__file__).resolve().parent

# Iteration order of a Python 2.7 dict holding the five keys of a hub message (string
# hash order, not insertion order); cPickle writes the items in this order.
PY2_KEY_ORDER = ("cgt_id", "booking_type", "notf_id", "end_date", "start_date")

# Files the malicious vectors create in the current directory when plainly unpickled.
OPEN_MARKER = "gites-calendar-pwned"
SYSTEM_MARKER = "gites-calendar-pwned-system"


class Py2Unicode(str):
    """A Python 2 ``unicode`` value; a plain ``str`` stands for a Python 2 ``str``."""


class Call:
    """``module.name(*args)``: what a hand-made, malicious pickle asks for."""

    def __init__(self, module, name, *args):
        self.module, self.name, self.args = module, name, args


class Py2Pickler:
    """Writes protocol 2 opcodes the way Python 2.7's cPickle does.

    cPickle numbers its memo from 1 and memoizes an object only when something else
    also references it: the dict, its string keys and values (constants of the
    publishing code), classes and REDUCE results, but not the 4-byte state string of
    a date, nor the argument tuple, which only the reduction itself holds. Strings
    shorter than 2 characters are never memoized. A class written once is fetched
    again with BINGET.
    """

    def __init__(self):
        self.out = bytearray()
        self.memo_size = 0
        self.classes = {}

    # One method per opcode.
    def proto(self):
        self.out += b"\x80\x02"  # PROTO 2

    def empty_dict(self):
        self.out += b"}"  # EMPTY_DICT

    def mark(self):
        self.out += b"("  # MARK

    def setitems(self):
        self.out += b"u"  # SETITEMS

    def tuple_n(self, size):
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}[size]  # TUPLE1/2/3

    def reduce(self):
        self.out += b"R"  # REDUCE

    def stop(self):
        self.out += b"."  # STOP

    def binput(self):
        self.memo_size += 1
        self.out += b"q" + bytes([self.memo_size])  # BINPUT (the vectors stay below 256)
        return self.memo_size

    def binget(self, index):
        self.out += b"h" + bytes([index])  # BINGET

    def short_binstring(self, raw):
        self.out += b"U" + bytes([len(raw)]) + raw  # SHORT_BINSTRING: a Python 2 str

    def binunicode(self, text):
        data = text.encode("utf-8")
        self.out += b"X" + struct.pack("<I", len(data)) + data  # BINUNICODE

    def global_(self, module, name):
        self.out += b"c" + f"{module}\n{name}\n".encode("ascii")  # GLOBAL

    def int_(self, number):
        # cPickle picks the shortest of BININT1, BININT2 and BININT.
        if 0 <= number <= 0xFF:
            self.out += b"K" + bytes([number])
        elif 0 <= number <= 0xFFFF:
            self.out += b"M" + struct.pack("<H", number)
        else:
            self.out += b"J" + struct.pack("<i", number)

    # What cPickle's save() does for each type used by the vectors.
    def save_class(self, module, name):
        if (module, name) in self.classes:
            self.binget(self.classes[module, name])
        else:
            self.global_(module, name)
            self.classes[module, name] = self.binput()

    def save(self, value):
        if isinstance(value, Py2Unicode):
            self.binunicode(value)
            if len(value) >= 2:
                self.binput()
        elif isinstance(value, str):
            raw = value.encode("latin-1")
            self.short_binstring(raw)
            if len(raw) >= 2:
                self.binput()
        elif isinstance(value, int):
            self.int_(value)
        elif isinstance(value, datetime.date):
            # date.__reduce__() == (date, (state,)), state = year high, year low, month, day
            self.save_class("datetime", "date")
            state = bytes([value.year >> 8, value.year & 0xFF, value.month, value.day])
            self.short_binstring(state)  # refcount 1: not memoized
            self.tuple_n(1)  # not memoized either
            self.reduce()
            self.binput()
        elif isinstance(value, Call):
            self.save_class(value.module, value.name)
            for arg in value.args:
                self.save(arg)
            self.tuple_n(len(value.args))
            self.reduce()
            self.binput()
        else:
            raise TypeError(f"no Python 2 form for {value!r}")

    def save_dict(self, items):
        self.empty_dict()
        self.binput()
        self.mark()  # batched: more than one item
        for key, value in items:
            self.save(key)
            self.save(value)
        self.setitems()


def hub_message_pickle(fields):
    """A hub message as the hub's ``cPickle.dumps(dict(...), 2)`` writes it."""
    pickler = Py2Pickler()
    pickler.proto()
    pickler.save_dict([(key, fields[key]) for key in PY2_KEY_ORDER])
    pickler.stop()
    return bytes(pickler.out)


def call_pickle(call):
    pickler = Py2Pickler()
    pickler.proto()
    pickler.save(call)
    pickler.stop()
    return bytes(pickler.out)


date = datetime.date
VECTORS = [
    (
        "hub_booked_py2.pickle",
        "booking_type 'booked', cgt_id 'HAFR1234', 2024-05-01 to 2024-05-03, notf_id 42"
        " (BININT1). All strings are Python 2 str (SHORT_BINSTRING); the second date"
        " fetches the datetime.date class with BINGET.",
        hub_message_pickle(
            {
                "booking_type": "booked",
                "cgt_id": "HAFR1234",
                "start_date": date(2024, 5, 1),
                "end_date": date(2024, 5, 3),
                "notf_id": 42,
            }
        ),
    ),
    (
        "hub_unavailable_py2.pickle",
        "booking_type 'unavailable', cgt_id 'NAHE0007', 2024-12-30 to 2025-01-02 (across"
        " a new year), notf_id 4242 (BININT2).",
        hub_message_pickle(
            {
                "booking_type": "unavailable",
                "cgt_id": "NAHE0007",
                "start_date": date(2024, 12, 30),
                "end_date": date(2025, 1, 2),
                "notf_id": 4242,
            }
        ),
    ),
    (
        "hub_available_py2.pickle",
        "booking_type 'available', cgt_id 'BXLA12', 2025-02-27 to 2025-03-01, notf_id"
        " 123456 (BININT, 4 bytes).",
        hub_message_pickle(
            {
                "booking_type": "available",
                "cgt_id": "BXLA12",
                "start_date": date(2025, 2, 27),
                "end_date": date(2025, 3, 1),
                "notf_id": 123456,
            }
        ),
    ),
    (
        "hub_unicode_py2.pickle",
        "booking_type u'unavailable' and cgt_id u'LIHE0815' are Python 2 unicode"
        " (BINUNICODE), as when the hub reads them from its database; a one-day range"
        " 2025-07-14, notf_id 7.",
        hub_message_pickle(
            {
                "booking_type": Py2Unicode("unavailable"),
                "cgt_id": Py2Unicode("LIHE0815"),
                "start_date": date(2025, 7, 14),
                "end_date": date(2025, 7, 14),
                "notf_id": 7,
            }
        ),
    ),
    (
        "evil_open_py2.pickle",
        "MALICIOUS. A booking whose cgt_id is __builtin__.open('gites-calendar-pwned', 'w'):"
        " plain pickle.loads creates that file in the current directory.",
        hub_message_pickle(
            {
                "booking_type": "booked",
                "cgt_id": Call("__builtin__", "open", OPEN_MARKER, "w"),
                "start_date": date(2024, 5, 1),
                "end_date": date(2024, 5, 3),
                "notf_id": 42,
            }
        ),
    ),
    (
        "evil_system_py2.pickle",
        "MALICIOUS. os.system('echo pwned > gites-calendar-pwned-system'): plain"
        " pickle.loads runs the shell command, which creates that file in the current"
        " directory.",
        call_pickle(Call("os", "system", f"echo pwned > {SYSTEM_MARKER}")),
    ),
]

README_HEAD = """\
Pickle test vectors of the test_codec_* modules
===============================================

The legacy walhebcalendar hub publishes its messages with Python 2.7's cPickle,
protocol 2 (content type application/x-python-serialize). Python 2 is not part
of the project's environment, so these files were built opcode by opcode by
make_vectors.py (beside this file), which writes what cPickle writes:

- PROTO 2, then EMPTY_DICT + BINPUT (cPickle numbers its memo from 1), MARK, the
  five items, SETITEMS, STOP;
- items in Python 2.7's dict order for these keys: cgt_id, booking_type, notf_id,
  end_date, start_date (string hash order, not the order they were written in);
- Python 2 str keys and values as SHORT_BINSTRING, each followed by BINPUT;
  Python 2 unicode values as BINUNICODE (UTF-8) + BINPUT;
- a datetime.date as GLOBAL 'datetime\\ndate\\n' + BINPUT (BINGET the second time),
  SHORT_BINSTRING of its 4-byte state (year // 256, year % 256, month, day),
  TUPLE1, REDUCE, BINPUT - the reduction date.__reduce__() returns;
- ints as BININT1 (0-255), BININT2 (256-65535) or BININT (4 bytes, signed).

The two MALICIOUS vectors are hand-made the same way, with GLOBAL
'__builtin__\\nopen\\n' and 'os\\nsystem\\n' followed by REDUCE. Loaded with plain
pickle.loads they create a file in the current directory (test_codec_python2 does that in a
subprocess inside a temporary directory, to prove they are live); safe_loads must
refuse them before anything runs.

To rebuild the files and this README: python make_vectors.py
test_codec_python2 checks that the files match make_vectors.py, and, when a Python 2.7
interpreter is found (PATH, ~/.pyenv, or $GITES_CALENDAR_PYTHON2), that cPickle.dumps
of the same dicts gives byte-identical output (it did, with CPython 2.7.18, when
the vectors were written).

Below: each vector, then its listing by pickletools.dis (Python 3, which shows a
SHORT_BINSTRING as latin-1 text).
"""


def build_all():
    """{file name: bytes} of every vector."""
    return {name: data for name, _, data in VECTORS}


def readme_text():
    parts = [README_HEAD]
    for name, description, data in VECTORS:
        listing = io.StringIO()
        pickletools.dis(data, out=listing)
        text = textwrap.fill(description, width=79)
        parts.append(f"\n{name}\n{'-' * len(name)}\n{text}\n\n{listing.getvalue()}")
    return "".join(parts)


def main():
    for name, data in build_all().items():
        (HERE / name).write_bytes(data)
    (HERE / "README.txt").write_text(readme_text(), encoding="utf-8")


if __name__ == "__main__":
    main()
