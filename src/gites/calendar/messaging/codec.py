"""Bodies of the messages exchanged with the walhebcalendar hub.

The formats: docs/messaging.rst, "Message formats" and "Bodies understood".

Pure Python: no broker, no database. Hub -> site bodies are decoded (bytes to
plain data: :mod:`gites.calendar.messaging.bodies`) and validated here into
:class:`HubBooking`; site -> hub changes are encoded from :class:`SiteChange`.

Decisions (documented here because other modules rely on them):

- Content type: ``application/x-python-serialize`` (pickle, always through
  :func:`~gites.calendar.messaging.safepickle.safe_loads`) or ``application/json``;
  parameters such as ``; charset=utf-8`` and letter case are ignored. A missing
  content type (None or '') is accepted for a JSON object body only: the legacy hub
  publishes through kombu's pickle serializer, which always sets the content type,
  so a message without one was typed by hand (e.g. in the RabbitMQ management page)
  and JSON is what a person types. A pickle is never guessed.
- ``cgt_id`` must be a CGT code, 4 capital letters and 1 to 4 digits (the format of
  ``hebergement.heb_code_cgt``): nothing else can match a cottage, and a clear reason
  beats an "unknown cottage" for a malformed id. A well-formed unknown code is the
  daemon's business.
- ``notf_id`` must be a real integer (not bool, not a string, not a float) between
  0 and 2**63 - 1: both known publishers send an int, and strings like '042' or
  ' 42' would only hide a broken publisher.
- Dates: ``date`` values as they are, ``datetime`` values and ISO datetime strings
  are cut to their date; ISO strings must start with ``YYYY-MM-DD``. Years outside
  1900..2200 are refused: no booking is that far, and day arithmetic near
  9999-12-31 would overflow.
- ``content_encoding`` (AMQP property): none, ``binary`` or ``8bit`` mean bytes as
  they are; a text codec (``utf-8``, what kombu's JSON serializer sends, ``latin-1``
  ...) is how a JSON body is read; anything else (unknown, or a bytes-to-bytes codec
  such as ``zlib``) is refused. A pickle is bytes whatever the property says.
- Unknown extra fields are ignored, so the hub may add some.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
import datetime
import json
import pickle
import re

from gites.calendar.messaging.bodies import (
    JSON_CONTENT_TYPE,
    PICKLE_CONTENT_TYPE,
    InvalidMessage,
    decode_body,
    describe,
    invalid,
    media_type_of,
    printable_line,
    short_repr,
)

__all__ = [
    "BOOKING_TYPES",
    "CGT_ID_PATTERN",
    "JSON_CONTENT_TYPE",
    "MAX_NOTF_ID",
    "MAX_RANGE_DAYS",
    "PICKLE_CONTENT_TYPE",
    "SELECTION_TYPES",
    "HubBooking",
    "InvalidMessage",
    "SiteChange",
    "decode_hub_message",
    "decode_site_change",
    "encode_site_change",
]

MAX_RANGE_DAYS = 731  # a range longer than two years is invalid: (end-start).days + 1 > 731
BOOKING_TYPES = {"booked": "loue", "unavailable": "indisp", "available": "libre"}
SELECTION_TYPES = frozenset(BOOKING_TYPES.values())
CGT_ID_PATTERN = re.compile(r"[A-Z]{4}[0-9]{1,4}")
MAX_NOTF_ID = 2**63 - 1  # fits a PostgreSQL bigint, should anyone store it
FIRST_YEAR, LAST_YEAR = 1900, 2200  # dates outside are refused

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ](.+))?", re.DOTALL)


@dataclasses.dataclass(frozen=True)
class HubBooking:
    """A hub -> site booking change (both days included)."""

    booking_type: str  # 'booked' | 'unavailable' | 'available'
    cgt_id: str
    start: datetime.date
    end: datetime.date  # inclusive
    notf_id: int

    @property
    def res_type(self) -> str:
        """The ``reservation_proprio.res_type`` value: 'loue', 'indisp' or 'libre'."""
        return BOOKING_TYPES[self.booking_type]


@dataclasses.dataclass(frozen=True)
class SiteChange:
    """A site -> hub change made by an owner (both days included)."""

    heb_pk: int
    cgt_id: str
    start: datetime.date
    end: datetime.date  # inclusive
    selection_type: str  # 'loue' | 'indisp' | 'libre'


def _field(payload, name):
    try:
        return payload[name]
    except KeyError:
        raise invalid(f"missing field {name!r}") from None


def _to_date(name, value):
    day = _to_any_date(name, value)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise invalid(f"{name} {day.isoformat()} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return day


def _to_any_date(name, value):
    if isinstance(value, datetime.datetime):  # before date: datetime is a date subclass
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        match = _ISO_DATE.fullmatch(value)
        if match is None:
            raise invalid(f"{name} {describe(value)} is not an ISO date (YYYY-MM-DD)")
        year, month, day, time_part = match.groups()
        try:
            if time_part is not None:
                datetime.time.fromisoformat(time_part)  # only validated: the day counts
            return datetime.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise invalid(f"{name} {describe(value)} is not a valid date: {exc}") from None
    raise invalid(f"{name} must be a date or an ISO date string, got {describe(value)}")


def _validate_booking(payload):
    if not isinstance(payload, Mapping):
        raise invalid(f"message body is {describe(payload)}, not a mapping")

    booking_type = _field(payload, "booking_type")
    if not isinstance(booking_type, str) or booking_type not in BOOKING_TYPES:
        choices = ", ".join(repr(choice) for choice in sorted(BOOKING_TYPES))
        raise invalid(f"booking_type must be one of {choices}, got {describe(booking_type)}")

    cgt_id = _field(payload, "cgt_id")
    if not isinstance(cgt_id, str) or not cgt_id:
        raise invalid(f"cgt_id must be a non-empty string, got {describe(cgt_id)}")
    if not CGT_ID_PATTERN.fullmatch(cgt_id):
        raise invalid(
            f"cgt_id {short_repr(cgt_id)} is not a CGT code (4 capital letters, 1 to 4 digits)"
        )

    start = _to_date("start_date", _field(payload, "start_date"))
    end = _to_date("end_date", _field(payload, "end_date"))
    if end < start:
        raise invalid(f"end_date {end.isoformat()} is before start_date {start.isoformat()}")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise invalid(
            f"range {start.isoformat()}..{end.isoformat()} covers {days} days,"
            f" more than {MAX_RANGE_DAYS}"
        )

    notf_id = _field(payload, "notf_id")
    if isinstance(notf_id, bool) or not isinstance(notf_id, int):
        raise invalid(f"notf_id must be an integer, got {describe(notf_id)}")
    if not 0 <= notf_id <= MAX_NOTF_ID:
        raise invalid(f"notf_id {short_repr(notf_id)} is out of range (0 to {MAX_NOTF_ID})")

    return HubBooking(
        booking_type=booking_type, cgt_id=cgt_id, start=start, end=end, notf_id=notf_id
    )


def decode_hub_message(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None = None,
    max_pickle_ops: int | None = None,
) -> HubBooking:
    """Decode + validate a hub->site body. Raises InvalidMessage for anything wrong.

    ``max_pickle_ops``: the pickle opcode limit (default: safepickle's)."""
    try:
        payload = decode_body(body, content_type, content_encoding, max_pickle_ops)
        return _validate_booking(payload)
    except InvalidMessage:
        raise
    except Exception as exc:  # the contract: nothing but InvalidMessage gets out
        raise invalid(f"undecodable message: {type(exc).__name__}: {exc}") from exc


def _site_payload(change):
    """The site -> hub mapping; ValueError for a change the hub could not use."""
    if not isinstance(change, SiteChange):
        raise ValueError(f"expected a SiteChange, got {type(change).__name__}")
    if isinstance(change.heb_pk, bool) or not isinstance(change.heb_pk, int):
        raise ValueError(f"heb_pk must be an integer, got {describe(change.heb_pk)}")
    # The format is the hub's business here: the code comes from our own database.
    if not isinstance(change.cgt_id, str) or not change.cgt_id:
        raise ValueError(f"cgt_id must be a non-empty string, got {describe(change.cgt_id)}")
    if not isinstance(change.selection_type, str) or change.selection_type not in SELECTION_TYPES:
        raise ValueError(
            f"selection_type must be one of 'indisp', 'libre', 'loue',"
            f" got {describe(change.selection_type)}"
        )
    days = []
    for name in ("start", "end"):
        value = getattr(change, name)
        if isinstance(value, datetime.datetime):
            value = value.date()
        if not isinstance(value, datetime.date):
            raise ValueError(f"{name} must be a date, got {describe(value)}")
        days.append(value)
    start, end = days
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    midnight = datetime.time()
    return {
        "hebPk": change.heb_pk,
        "cgtId": change.cgt_id,
        "start": datetime.datetime.combine(start, midnight),
        "end": datetime.datetime.combine(end, midnight),
        "typeOfSelection": change.selection_type,
    }


def encode_site_change(change: SiteChange, fmt: str = "pickle") -> tuple[bytes, str]:
    """Returns (body, content_type).

    fmt 'pickle' -> 'application/x-python-serialize', protocol 2, body = dict hebPk,
    cgtId, start, end (datetime.datetime at midnight), typeOfSelection; loadable by the
    legacy hub on Python 2.7 (its only globals are datetime.datetime and _codecs.encode,
    and str values arrive as unicode, which Python 2 compares equal to str).
    fmt 'json' -> 'application/json', same keys, dates as 'YYYY-MM-DDT00:00:00'.
    Other fmt, or a change the hub could not use -> ValueError.
    """
    if fmt not in ("pickle", "json"):
        raise ValueError(f"unsupported site change format {fmt!r} (use 'pickle' or 'json')")
    payload = _site_payload(change)
    if fmt == "pickle":
        return pickle.dumps(payload, protocol=2), PICKLE_CONTENT_TYPE
    payload["start"] = payload["start"].isoformat()
    payload["end"] = payload["end"].isoformat()
    return json.dumps(payload, separators=(",", ":")).encode("ascii"), JSON_CONTENT_TYPE


def decode_site_change(body: bytes, content_type: str) -> dict:
    """What the hub would see (used by tests/tools): decodes both formats through the
    safe loader.

    For JSON, ISO strings under 'start' and 'end' are turned into datetimes so both
    formats give the same dict. Raises InvalidMessage for an undecodable body.
    """
    try:
        payload = decode_body(body, content_type)
        if not isinstance(payload, dict):
            raise invalid(f"message body is {describe(payload)}, not a mapping")
        if media_type_of(content_type) != PICKLE_CONTENT_TYPE:
            for name in ("start", "end"):
                if isinstance(payload.get(name), str):
                    try:
                        payload[name] = datetime.datetime.fromisoformat(payload[name])
                    except ValueError as exc:
                        raise invalid(f"{name}: {exc}") from None
        return payload
    except InvalidMessage:
        raise
    except Exception as exc:
        raise invalid(f"undecodable message: {type(exc).__name__}: {exc}") from exc


def peek_cgt_id(body, content_type, content_encoding=None):
    """The ``cgt_id`` of a body when it is readable (for listings), else None."""
    try:
        payload = decode_body(body, content_type, content_encoding)
    except Exception:
        return None
    value = payload.get("cgt_id") if isinstance(payload, Mapping) else None
    return printable_line(value, 20) if isinstance(value, str) else None
