"""Restricted unpickling for message bodies that come through the broker.

The legacy hub (Python 2.7) sends pickles, and ``pickle.loads`` calls whatever callable
a pickle names, so a body from the broker is only ever loaded by :func:`safe_loads`:

1. A scan walks the opcodes without building anything. It refuses the opcodes plain
   data never needs (persistent ids, extension codes, INST/OBJ/NEWOBJ/BUILD,
   out-of-band buffers), any GLOBAL outside the allow-list, length prefixes larger
   than the body, memo indices out of proportion to the body (CPython grows its memo
   table to the index), data after STOP, more than ``max_opcodes`` opcodes (the
   work of every later step is proportional to it: a dict of keys sharing one
   hash is built in quadratic time, so its size must be small), and the set
   opcodes (a set of colliding keys is the same attack; messages hold no set).
2. The C unpickler then runs with ``find_class`` restricted to the same allow-list
   (that also covers STACK_GLOBAL, whose names are only known while loading).
3. The result is walked once per object, shared ones included (linear time):
   only dict, list, tuple, str, bytes, int, float, bool, None, date and datetime may
   make it up, with no cycles, and no path from the root deeper than ``MAX_DEPTH``
   containers (a shared sub-list counts at every depth it is reachable from).

Forbidden input raises :class:`ForbiddenPickle`; broken input raises
``pickle.UnpicklingError``. Nothing named by a refused global is ever called.
"""

import datetime
import io
import pickle
import re

from gites.calendar.messaging.pickleheights import Heights

__all__ = ["ForbiddenPickle", "safe_loads"]

MAX_DEPTH = 100  # legitimate messages are two levels deep; keeps recursive consumers safe
# A hub message is about 20 opcodes.  At this limit the worst pickle (a dict of
# keys that all share one hash) loads in well under a second: docs/messaging.rst.
MAX_OPCODES = 5000


class ForbiddenPickle(Exception):
    """The pickle uses a global, an opcode or a type that is not allowed."""


class _Latin1Encode:
    """Stands in for ``_codecs.encode``.

    Python 3 writes ``bytes`` into protocol <= 2 pickles as ``_codecs.encode(text,
    'latin1')``. Only that exact call is honoured: another codec could run code of
    the codec registry. No ``__dict__`` and no slots, so BUILD could not alter it.
    """

    __slots__ = ()

    def __call__(self, obj, encoding="utf-8", errors="strict"):
        if (
            type(obj) is not str
            or not isinstance(encoding, str)
            or encoding.lower().replace("_", "-") not in ("latin1", "latin-1")
            or errors != "strict"
        ):
            raise ForbiddenPickle(
                f"forbidden pickle call _codecs.encode with encoding {_show(encoding)}"
            )
        return obj.encode("latin-1")


_ALLOWED_GLOBALS = {
    ("datetime", "date"): datetime.date,
    ("datetime", "datetime"): datetime.datetime,
    ("_codecs", "encode"): _Latin1Encode(),
}

# Argument layouts of the opcodes (protocols 0 to 5), for the scan.
_LINE = "line"  # one newline-terminated argument
_LINE2 = "line2"  # two of them (module and name)
_LEN1, _LEN4, _LEN8 = "len1", "len4", "len8"  # little-endian length, then that many bytes
_OPCODES = {
    b"(": ("MARK", 0),
    b".": ("STOP", 0),
    b"0": ("POP", 0),
    b"1": ("POP_MARK", 0),
    b"2": ("DUP", 0),
    b"F": ("FLOAT", _LINE),
    b"I": ("INT", _LINE),
    b"J": ("BININT", 4),
    b"K": ("BININT1", 1),
    b"L": ("LONG", _LINE),
    b"M": ("BININT2", 2),
    b"N": ("NONE", 0),
    b"P": ("PERSID", _LINE),
    b"Q": ("BINPERSID", 0),
    b"R": ("REDUCE", 0),
    b"S": ("STRING", _LINE),
    b"T": ("BINSTRING", _LEN4),
    b"U": ("SHORT_BINSTRING", _LEN1),
    b"V": ("UNICODE", _LINE),
    b"X": ("BINUNICODE", _LEN4),
    b"a": ("APPEND", 0),
    b"b": ("BUILD", 0),
    b"c": ("GLOBAL", _LINE2),
    b"d": ("DICT", 0),
    b"}": ("EMPTY_DICT", 0),
    b"e": ("APPENDS", 0),
    b"g": ("GET", _LINE),
    b"h": ("BINGET", 1),
    b"i": ("INST", _LINE2),
    b"j": ("LONG_BINGET", 4),
    b"l": ("LIST", 0),
    b"]": ("EMPTY_LIST", 0),
    b"o": ("OBJ", 0),
    b"p": ("PUT", _LINE),
    b"q": ("BINPUT", 1),
    b"r": ("LONG_BINPUT", 4),
    b"s": ("SETITEM", 0),
    b"t": ("TUPLE", 0),
    b")": ("EMPTY_TUPLE", 0),
    b"u": ("SETITEMS", 0),
    b"G": ("BINFLOAT", 8),
    b"\x80": ("PROTO", 1),
    b"\x81": ("NEWOBJ", 0),
    b"\x82": ("EXT1", 1),
    b"\x83": ("EXT2", 2),
    b"\x84": ("EXT4", 4),
    b"\x85": ("TUPLE1", 0),
    b"\x86": ("TUPLE2", 0),
    b"\x87": ("TUPLE3", 0),
    b"\x88": ("NEWTRUE", 0),
    b"\x89": ("NEWFALSE", 0),
    b"\x8a": ("LONG1", _LEN1),
    b"\x8b": ("LONG4", _LEN4),
    b"B": ("BINBYTES", _LEN4),
    b"C": ("SHORT_BINBYTES", _LEN1),
    b"\x8c": ("SHORT_BINUNICODE", _LEN1),
    b"\x8d": ("BINUNICODE8", _LEN8),
    b"\x8e": ("BINBYTES8", _LEN8),
    b"\x8f": ("EMPTY_SET", 0),
    b"\x90": ("ADDITEMS", 0),
    b"\x91": ("FROZENSET", 0),
    b"\x92": ("NEWOBJ_EX", 0),
    b"\x93": ("STACK_GLOBAL", 0),
    b"\x94": ("MEMOIZE", 0),
    b"\x95": ("FRAME", 8),
    b"\x96": ("BYTEARRAY8", _LEN8),
    b"\x97": ("NEXT_BUFFER", 0),
    b"\x98": ("READONLY_BUFFER", 0),
}
# Plain data never needs these; they call or mutate objects, or need outside state.
_FORBIDDEN_OPCODES = frozenset(
    {
        "PERSID",
        "BINPERSID",
        "INST",
        "OBJ",
        "BUILD",
        "NEWOBJ",
        "NEWOBJ_EX",
        "EXT1",
        "EXT2",
        "EXT4",
        "NEXT_BUFFER",
        "READONLY_BUFFER",
    }
)
_LENGTH_BYTES = {_LEN1: 1, _LEN4: 4, _LEN8: 8}
_DECIMAL = re.compile(rb"[0-9]{1,19}")

_SCALAR_TYPES = frozenset(
    {str, bytes, int, float, bool, type(None), datetime.date, datetime.datetime}
)
_CONTAINER_TYPES = frozenset({dict, list, tuple})


def _show(value, limit=80):
    """A printable, one-line, bounded rendering of attacker-controlled text."""
    if isinstance(value, str) and value.isprintable() and len(value) <= limit:
        return value
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _malformed(reason):
    return pickle.UnpicklingError(f"malformed pickle: {reason}")


def _check_global(module, name):
    if (module, name) not in _ALLOWED_GLOBALS:
        raise ForbiddenPickle(f"forbidden pickle global {_show(module)}.{_show(name)}")


def _check_memo_index(index, size):
    # A legitimate pickle spends at least two bytes per memo entry.
    if index > size:
        raise ForbiddenPickle(f"pickle memo index {index} is out of proportion to its size")


# Refused as the type they build, before building anything.
_SET_OPCODES = {
    "EMPTY_SET": "builtins.set",
    "ADDITEMS": "builtins.set",
    "FROZENSET": "builtins.frozenset",
}


def _scan(data, max_opcodes=MAX_OPCODES):
    """Walk the opcodes of ``data`` without building or calling anything.

    Linear in the size of ``data``.  Over the opcode limit, a second walk
    follows the nesting heights, so that a deep pickle is refused as deep
    whatever its length (kept off the common path: it costs)."""
    count = _walk(data)
    if count > max_opcodes:
        _walk(data, Heights(MAX_DEPTH, ForbiddenPickle))  # raises if too deep
        raise ForbiddenPickle(f"pickle has more than {max_opcodes} opcodes")


def _walk(data, heights=None):
    """One pass over the opcodes (see :func:`_scan`); returns their count."""
    size = len(data)
    pos = 0
    count = 0
    while pos < size:
        count += 1
        index = None
        start = pos
        code = data[pos : pos + 1]
        entry = _OPCODES.get(code)
        if entry is None:
            raise _malformed(f"unknown opcode {code!r} at byte {start}")
        name, layout = entry
        pos += 1
        if layout in (_LINE, _LINE2):
            lines = []
            for _ in range(2 if layout == _LINE2 else 1):
                end = data.find(b"\n", pos)
                if end < 0:
                    raise _malformed(f"{name} at byte {start} has no end of line")
                lines.append(data[pos:end])
                pos = end + 1
            if layout == _LINE2:
                try:
                    module, attr = (line.decode("utf-8") for line in lines)
                except UnicodeDecodeError:
                    raise _malformed(f"{name} at byte {start} names a non-UTF-8 global") from None
                _check_global(module, attr)
            elif name == "PUT":
                if not _DECIMAL.fullmatch(lines[0]):
                    raise _malformed(f"PUT at byte {start} has a bad index")
                index = int(lines[0])
                _check_memo_index(index, size)
            elif name == "GET" and _DECIMAL.fullmatch(lines[0]):
                index = int(lines[0])
        elif layout in _LENGTH_BYTES:
            width = _LENGTH_BYTES[layout]
            if pos + width > size:
                raise _malformed(f"{name} at byte {start} is truncated")
            length = int.from_bytes(data[pos : pos + width], "little")
            pos += width
            # Refused before CPython allocates a buffer of the announced length.
            if length > size - pos:
                raise _malformed(f"{name} at byte {start} announces more data than there is")
            pos += length
        elif layout:
            if pos + layout > size:
                raise _malformed(f"{name} at byte {start} is truncated")
            argument = int.from_bytes(data[pos : pos + layout], "little")
            pos += layout
            index = argument
            if name == "LONG_BINPUT":
                _check_memo_index(argument, size)
            elif name == "FRAME" and argument > size - pos:
                raise _malformed(f"FRAME at byte {start} announces more data than there is")
        if name in _FORBIDDEN_OPCODES:
            raise ForbiddenPickle(f"forbidden pickle opcode {name}")
        if name in _SET_OPCODES:
            raise ForbiddenPickle(f"forbidden type {_SET_OPCODES[name]} in pickle data")
        if heights is not None:
            heights.step(name, index)
        if name == "STOP":
            if pos != size:
                raise _malformed(f"{size - pos} bytes of data after STOP")
            return count
    raise _malformed("pickle data was truncated (no STOP opcode)")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        _check_global(module, name)
        return _ALLOWED_GLOBALS[(module, name)]

    def persistent_load(self, pid):
        raise ForbiddenPickle("forbidden pickle persistent id")


def _check_plain(root):
    """Refuse any object that is not plain data, iteratively (no recursion limit).

    Depth-first, each container walked once: ``height`` remembers how many
    container levels a walked one holds, so meeting it again (shared) costs
    one look-up, and the depth it would reach from there is still checked."""
    height = {}  # id of a walked container -> its height (1 for an empty one)
    on_path = []  # the containers being walked, root first
    on_path_ids = set()  # their ids, to tell cycles from sharing
    stack = [(root, False)]
    while stack:
        obj, leaving = stack.pop()
        key = id(obj)
        if leaving:
            on_path.pop()
            on_path_ids.discard(key)
            height[key] = 1 + max((height.get(id(child), 0) for child in _children(obj)), default=0)
            continue
        kind = type(obj)
        if kind in _SCALAR_TYPES:
            continue
        if kind not in _CONTAINER_TYPES:
            raise ForbiddenPickle(
                f"forbidden type {kind.__module__}.{kind.__qualname__} in pickle data"
            )
        if key in on_path_ids:
            raise ForbiddenPickle("cyclic reference in pickle data")
        depth = len(on_path)
        if depth + height.get(key, 1) > MAX_DEPTH:
            raise ForbiddenPickle(f"pickle data nested deeper than {MAX_DEPTH} levels")
        if key in height:
            continue  # shared, walked already
        on_path.append(obj)
        on_path_ids.add(key)
        stack.append((obj, True))
        stack.extend((child, False) for child in _children(obj))


def _children(obj):
    if type(obj) is dict:
        return [v for item in obj.items() for v in item]
    return obj


def safe_loads(data, max_opcodes=None):
    """Unpickle ``data`` allowing only plain data, dates and datetimes.

    Python 2 pickles load: 8-bit ``str`` values are decoded as latin-1, so they come
    out as ``str`` and the byte-string states of ``date``/``datetime`` are accepted.
    Raises :class:`ForbiddenPickle` for anything outside the allow-list (the message
    names the offending global, opcode or type) and ``pickle.UnpicklingError`` for a
    broken pickle. ``TypeError`` if ``data`` is not bytes-like. ``max_opcodes``
    defaults to :data:`MAX_OPCODES`.

    Note: Python 3 writes an empty ``bytes`` into protocol <= 2 pickles as a call to
    ``__builtin__.bytes``, which is not allowed; messages never carry one.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"safe_loads expects bytes, not {type(data).__name__}")
    _scan(data, MAX_OPCODES if max_opcodes is None else max_opcodes)
    unpickler = _RestrictedUnpickler(io.BytesIO(data), encoding="latin1")
    try:
        result = unpickler.load()
    except ForbiddenPickle:
        raise
    except Exception as exc:  # anything the unpickler or a constructor raises on bad data
        raise _malformed(str(exc) or type(exc).__name__) from exc
    _check_plain(result)
    return result
