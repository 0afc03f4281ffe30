"""The request parameters of the views, read one way everywhere.

A key (``pk``, ``hebPk``, ``feedId``...), a whole number or a month comes
from the query string or a form as text, maybe repeated (``?pk=1&pk=2``
gives a list), maybe in other digits than ASCII ones (``"١٢"`` is
``str.isdigit()``), maybe too large for the PostgreSQL ``INTEGER`` columns.
Each reader here answers with the value or with its refusal (None, the
default, or :class:`BadParameter` for the views that say what is wrong);
nothing here raises anything else.

The month arithmetic is :mod:`gites.calendar.clock`'s (the domain uses it
too); it is imported here so that the views find all of it in one place.
"""

import datetime
import re

from gites.calendar.clock import add_months, month_index, month_start

__all__ = (
    "MAX_PK",
    "BadParameter",
    "add_months",
    "int_param",
    "lenient_int_param",
    "month_index",
    "month_param",
    "month_start",
    "parse_month",
    "parse_pk",
    "whole_number",
)

# heb_pk, pro_pk and the feeds' id are PostgreSQL INTEGER (int4) columns.
MAX_PK = 2**31 - 1
# At most ten ASCII digits: int() of anything longer is never a key, and a
# huge string is never converted.
MAX_DIGITS = 10
MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


class BadParameter(ValueError):
    """A query parameter is missing or malformed (message: one line)."""


def whole_number(text):
    """The int written in ``text`` (surrounding white space ignored) when it
    is one to ten ASCII digits, else None (no sign, no other digits)."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return None
    return int(text)


def parse_pk(value):
    """A positive database key from a request parameter, or None.

    ``value`` is what ``request.form`` holds: text, a list when the
    parameter is repeated (refused), or an int (``hebPk:int=5``).
    """
    if value is None or isinstance(value, (list, tuple)):  # ?pk=1&pk=2
        return None
    pk = whole_number(str(value))
    return pk if pk is not None and 0 < pk <= MAX_PK else None


def int_param(form, name, minimum, maximum, default=None):
    """The integer parameter ``name`` of the request form, checked.

    Absent or blank: ``default``, or :class:`BadParameter` when there is
    none; anything but one whole number in [minimum, maximum]:
    :class:`BadParameter` saying what is wrong.
    """
    raw = form.get(name)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if default is None:
            raise BadParameter(f"{name} is required")
        return default
    if not isinstance(raw, str):  # ?name=1&name=2 or name:list
        raise BadParameter(f"{name} must be given once")
    value = whole_number(raw)
    if value is None:
        raise BadParameter(f"{name} must be a whole number, not {raw.strip()[:20]!r}")
    if not minimum <= value <= maximum:
        raise BadParameter(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def lenient_int_param(form, name, minimum, maximum, default=None):
    """:func:`int_param` for the pages that never show an error: ``default``
    when the parameter is absent or bad."""
    try:
        return int_param(form, name, minimum, maximum, default)
    except BadParameter:
        return default


def parse_month(value):
    """The first day of the month ``YYYY-MM`` (white space around it ignored),
    or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    match = MONTH_RE.fullmatch(value.strip())
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    if year < datetime.MINYEAR or not 1 <= month <= 12:
        return None
    return datetime.date(year, month, 1)


def month_param(form, name, today, earliest, latest):
    """The month parameter ``name`` (``YYYY-MM``) as a first day of month,
    when it is a month from ``earliest``'s to ``latest``'s; else today's month
    (the pages that read one show no error)."""
    month = parse_month(form.get(name))
    if month is not None and earliest.replace(day=1) <= month <= latest:
        return month
    return today.replace(day=1)
