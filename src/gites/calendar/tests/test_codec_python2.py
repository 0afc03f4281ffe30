"""Legacy pickles: the hub's Python 2 messages and the malicious vectors (``data/``).

The Python 2 pickles under ``data/`` were built opcode by opcode (see
``data/README.txt``); when a Python 2.7 interpreter is installed,
``Python2InteropTests`` also checks them, and our own output, against it.
"""

import contextlib
import datetime
import functools
import glob
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

from gites.calendar.messaging import codec
from gites.calendar.messaging.codec import (
    BOOKING_TYPES,
    HubBooking,
    InvalidMessage,
    SiteChange,
    decode_hub_message,
    encode_site_change,
)
from gites.calendar.messaging.safepickle import ForbiddenPickle, safe_loads
from gites.calendar.testing.hub_messages import (
    HUB_VECTORS,
    PICKLE,
    PY2_EXPECTED,
    PY2_PROTOCOL_0,
    PY2_PROTOCOL_1,
    PY2_PROTOCOL_2,
    binunicode,
    pickle_globals,
    vector,
)

date = datetime.date

DATA = pathlib.Path(__file__).resolve().parent / "data"
SRC = pathlib.Path(codec.__file__).resolve().parents[3]
# (file, global it names, file its plain unpickling creates in the current directory)
EVIL_VECTORS = [
    ("evil_open_py2.pickle", "__builtin__.open", "gites-calendar-pwned"),
    ("evil_system_py2.pickle", "os.system", "gites-calendar-pwned-system"),
]


def load_make_vectors():
    spec = importlib.util.spec_from_file_location("make_vectors", DATA / "make_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
