"""Message bodies as bytes -> plain data, by content type and content encoding.

The first half of :mod:`gites.calendar.messaging.codec` (which validates the
data and words the decisions about content types and encodings): a pickle is
only ever loaded through :func:`~gites.calendar.messaging.safepickle.safe_loads`,
JSON is read without NaN/Infinity and without duplicate keys.  Anything wrong
raises :class:`InvalidMessage` with a one-line reason.
"""

import codecs
import json
import pickle
import reprlib

from gites.calendar.messaging.safepickle import ForbiddenPickle, safe_loads

PICKLE_CONTENT_TYPE = "application/x-python-serialize"
JSON_CONTENT_TYPE = "application/json"
BINARY_ENCODINGS = frozenset({"", "binary", "8bit"})

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60


class InvalidMessage(ValueError):
    """A message body that cannot be used; ``str(exc)`` is a one-line reason."""


def printable_line(text, limit=200):
    """Bounded, and no line breaks (nor other unprintables) for log lines."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    return "".join(char if char.isprintable() else " " for char in text)


def short_repr(value):
    """A short one-line repr of a value from a message."""
    if isinstance(value, int) and value.bit_length() > 1000:
        return f"<{value.bit_length()}-bit int>"  # repr() refuses ints this long
    return printable_line(_REPR.repr(value), 80)


def describe(value):
    """How a bad value is shown in a reason: its type and a short repr."""
    if value is None:
        return "None"
    return f"{type(value).__name__} {short_repr(value)}"


def invalid(reason):
    return InvalidMessage(printable_line(reason))


def media_type_of(content_type):
    if content_type is None:
        return ""
    if not isinstance(content_type, str):
        raise invalid(f"unsupported content type {describe(content_type)}")
    return content_type.split(";", 1)[0].strip().lower()


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            # Two readers could disagree on which value counts.
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _text_codec(content_encoding):
    """The codec name of a text ``content_encoding``; None for bytes as they are."""
    if content_encoding is None:
        return None
    if not isinstance(content_encoding, str):
        raise invalid(f"unsupported content encoding {describe(content_encoding)}")
    name = content_encoding.strip().lower()
    if name in BINARY_ENCODINGS:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise invalid(f"unsupported content encoding {short_repr(content_encoding)}") from None
    if not info._is_text_encoding:  # noqa: SLF001 - the codecs module's own marker
        raise invalid(f"content encoding {short_repr(content_encoding)} is not a text encoding")
    return info.name


def decode_body(body, content_type, content_encoding=None, max_pickle_ops=None):
    """Bytes -> plain data, by content type; InvalidMessage for anything wrong."""
    media_type = media_type_of(content_type)
    text_codec = _text_codec(content_encoding)
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    if not isinstance(body, bytes):
        raise invalid(f"message body is {describe(body)}, not bytes")
    if not media_type:
        if not body.lstrip().startswith(b"{"):
            raise invalid("missing content type and the body is not a JSON object")
        media_type = JSON_CONTENT_TYPE
    if media_type == PICKLE_CONTENT_TYPE:
        try:
            return safe_loads(body, max_opcodes=max_pickle_ops)
        except (ForbiddenPickle, pickle.UnpicklingError) as exc:
            raise invalid(str(exc)) from exc
    if media_type == JSON_CONTENT_TYPE:
        if text_codec is not None:
            try:
                body = body.decode(text_codec)
            except UnicodeError as exc:
                raise invalid(f"body is not {text_codec} text: {exc}") from None
        try:
            return json.loads(
                body, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
            )
        except RecursionError:
            raise invalid("malformed JSON: nested too deeply") from None
        except ValueError as exc:  # also UnicodeDecodeError and over-long integers
            raise invalid(f"malformed JSON: {exc}") from exc
    raise invalid(f"unsupported content type {short_repr(content_type)}")
