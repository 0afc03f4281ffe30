"""Writing a cottage's calendar: the one place rows of reservation_proprio change.

Owner pages (``addRange``) and the hub daemon both come here, so both keep
the invariant of docs/database.rst: at most one row per cottage and night.  Each write
locks the cottage first (:func:`gites.calendar.db.locks.lock_cottage`) and then
replaces the rows of the range, all in the caller's transaction.
"""

import dataclasses
import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, select, text

from gites.calendar import _
from gites.calendar.db.locks import lock_cottage
from gites.calendar.db.models import (
    RESERVATION_TYPES,
    SELECTION_TYPES,
    Hebergement,
    Reservation,
)
from gites.calendar.domain import history, outbox
from gites.calendar.domain.calendar_versions import bump_versions

MAX_RANGE_DAYS = 731  # a range longer than two years is refused


class InvalidRange(ValueError):
    """The range or type is not acceptable.

    ``message``: one clear line, a message of the ``gites.calendar`` domain
    (owners read it in the calendar page, translated by the view); ``str()``
    gives its French text, for logs and parked messages.
    """

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        # Imported here: the daemon (which parks such messages) then loads
        # zope.i18n only if it ever has one to log.
        from zope.i18n import interpolate

        default = getattr(self.message, "default", None) or str(self.message)
        return interpolate(default, getattr(self.message, "mapping", None) or {})


def parse_day(value, name):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidRange(
            _(
                "range_bad_day",
                default="${name} doit être une date AAAA-MM-JJ, pas ${value}",
                mapping={"name": name, "value": repr(str(value)[:20])},
            )
        ) from None


def midnight(day):
    return datetime.datetime.combine(day, datetime.time())


def days(start, end):
    """Every day from start to end, both included."""
    return [start + datetime.timedelta(n) for n in range((end - start).days + 1)]


def check_range(start, end, selection_type, earliest=None):
    """Raise InvalidRange unless [start, end] and the type are acceptable.

    ``earliest``: the first day that may be changed (owners: today).
    """
    if selection_type not in SELECTION_TYPES:
        raise InvalidRange(
            _(
                "range_bad_type",
                default="le type doit être ${types}, pas ${value}",
                mapping={
                    "types": ", ".join(SELECTION_TYPES),
                    "value": repr(str(selection_type)[:20]),
                },
            )
        )
    if end < start:
        raise InvalidRange(
            _(
                "range_end_before_start",
                default="la fin ${end} précède le début ${start}",
                mapping={"end": end.isoformat(), "start": start.isoformat()},
            )
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRange(
            _(
                "range_too_long",
                default="une période compte au plus ${days} jours (deux ans)",
                mapping={"days": MAX_RANGE_DAYS},
            )
        )
    if earliest is not None and start < earliest:
        raise InvalidRange(
            _(
                "range_past_days",
                default="les jours avant le ${day} ne peuvent plus être modifiés",
                mapping={"day": earliest.isoformat()},
            )
        )


@dataclasses.dataclass(frozen=True)
class RangeChange:
    heb_pk: int
    start: datetime.date
    end: datetime.date  # included
    selection_type: str  # loue | indisp | libre


def replace_days(session, heb_pk, day_list, selection_type, pro_fk, now, origin):
    """Replace the rows of the given days (the cottage must be locked)."""
    return write_days(
        session, {(heb_pk, day): selection_type for day in day_list}, pro_fk, now, origin
    )


def write_days(session, changes, pro_fk, now, origin):
    """Set many (cottage, day) at once: ``changes`` maps them to a selection type.

    ``origin``: who makes the change, a :class:`gites.calendar.domain.history.Origin`,
    or {(cottage, day): Origin} when a batch mixes writers (the hub's
    notifications).  The change is recorded in the change log in the same
    transaction (:mod:`gites.calendar.domain.history`): one row per (cottage,
    origin, type) whose days really changed; nothing when none did.
    Returns the :class:`~gites.calendar.domain.history.ChangeRow` written.

    The cottages must be locked.  Nights: one DELETE per run of
    consecutive days of a cottage, sent as one ``executemany`` (psycopg2's
    batch mode: one round trip per 100 runs, see db.engine_options), one
    multi-row INSERT of the days whose type is a reservation (``libre``
    only deletes); then, when some day changed, the change rows (one
    INSERT) and their nights (one upsert).  The types the days had come
    from the DELETE itself (``RETURNING``; on PostgreSQL one DELETE of
    every run, joined to arrays), on SQLite from one SELECT before a
    DELETE of several runs.
    """
    if not changes:
        return []
    history.check_origin(changes, origin)
    table = Reservation.__table__
    ordered = sorted(changes)
    runs = []
    for heb_pk, day in ordered:
        stamp = midnight(day)
        if runs and runs[-1]["heb"] == heb_pk and runs[-1]["hi"] == stamp:
            runs[-1]["hi"] = stamp + ONE_DAY
        else:
            runs.append({"heb": heb_pk, "lo": stamp, "hi": stamp + ONE_DAY})
    if session.get_bind().dialect.name == "postgresql":
        deleted = session.execute(
            _DELETE_RUNS_RETURNING,
            {
                "hebs": [run["heb"] for run in runs],
                "los": [run["lo"] for run in runs],
                "his": [run["hi"] for run in runs],
            },
        )
        current = {(heb, res_date.date()): res_type for heb, res_date, res_type in deleted}
        plan = history.plan_nights(session, changes, origin, current=current)
    elif len(runs) == 1:
        deleted = session.execute(_DELETE_RUN_RETURNING, runs[0])
        heb_pk = runs[0]["heb"]
        current = {(heb_pk, res_date.date()): res_type for res_date, res_type in deleted}
        plan = history.plan_nights(session, changes, origin, current=current)
    else:
        plan = history.plan_nights(session, changes, origin)
        session.execute(_DELETE_RUN, runs)
    rows = [
        {
            "res_date": midnight(day),
            "res_type": changes[heb_pk, day],
            "heb_fk": heb_pk,
            "pro_fk": pro_fk,
            "res_date_cre": now,
        }
        for heb_pk, day in ordered
        if changes[heb_pk, day] in RESERVATION_TYPES
    ]
    if rows and session.get_bind().dialect.name == "postgresql":
        # one statement of fixed text (arrays): a multi-row VALUES of ~700
        # rows costs psycopg2 and PostgreSQL more to build and parse
        session.execute(
            _INSERT_DAYS_PG,
            {
                "days": [row["res_date"] for row in rows],
                "types": [row["res_type"] for row in rows],
                "hebs": [row["heb_fk"] for row in rows],
                "pro": pro_fk,
                "now": now,
            },
        )
    elif rows:
        session.execute(insert(table), rows)
    bump_versions(session, {heb_pk for heb_pk, _day in ordered})
    return history.write_plan(session, plan, now)


ONE_DAY = datetime.timedelta(days=1)
_RES = Reservation.__table__
_DELETE_RUN = delete(_RES).where(
    _RES.c.heb_fk == bindparam("heb"),
    _RES.c.res_date >= bindparam("lo"),
    _RES.c.res_date < bindparam("hi"),
)
# The rows a DELETE removes are the days' previous types (change log).
_DELETE_RUN_RETURNING = _DELETE_RUN.returning(_RES.c.res_date, _RES.c.res_type)
# PostgreSQL: every run in one statement of fixed text (three arrays), so
# a daemon batch of any size costs one round trip and one plan.
_DELETE_RUNS_RETURNING = text(
    "DELETE FROM reservation_proprio AS r"
    " USING unnest(CAST(:hebs AS integer[]), CAST(:los AS timestamp[]),"
    " CAST(:his AS timestamp[])) AS v(heb, lo, hi)"
    " WHERE r.heb_fk = v.heb AND r.res_date >= v.lo AND r.res_date < v.hi"
    " RETURNING r.heb_fk, r.res_date, r.res_type"
)


_INSERT_DAYS_PG = text(
    "INSERT INTO reservation_proprio (res_date, res_type, heb_fk, pro_fk, res_date_cre)"
    " SELECT d, t, h, CAST(:pro AS integer), CAST(:now AS timestamp)"
    " FROM unnest(CAST(:days AS timestamp[]), CAST(:types AS varchar[]),"
    " CAST(:hebs AS integer[])) AS v(d, t, h)"
)


def touch_cottage(session, heb_pk, today):
    session.execute(
        Hebergement.__table__.update()
        .where(Hebergement.heb_pk == heb_pk)
        .values(heb_calendrier_proprio_date_maj=today)
    )


def apply_owner_change(session, heb, change, pro_pk, now, origin=None):
    """An owner's range (``addRange``, docs/owner-pages.rst), in the caller's transaction.

    Locks the cottage, sets its modification date, replaces the rows, and
    queues the change for the hub in the outbox (same transaction).  Returns
    the outbox row, or None when nothing is to be sent.  ``origin``: who
    makes the change on the owner's behalf (the iCal import:
    ``Origin(ICAL, feed id)``); default the owner ``pro_pk``.
    """
    rows = apply_owner_changes(session, heb, [change], pro_pk, now, origin)
    return rows[0] if rows else None


def apply_owner_changes(
    session, heb, changes, pro_pk, now, origin=None, locked=False, core_outbox=False
):
    """Several ranges of one cottage as one owner's write (the iCal import).

    The same checks, lock, modification date and outbox rows (one per
    range, in order) as :func:`apply_owner_change`, with the nights of all
    ranges written by one :func:`write_days` (the ranges must not overlap).
    ``locked``: the caller already holds the cottage's lock in this
    transaction (the iCal import takes it before reading the nights).
    Returns the outbox rows queued; with ``core_outbox`` they are written by
    one Core INSERT and returned as dicts of their values (the iCal import:
    ~50 ranges a feed, whose ORM objects cost more than the INSERT).
    """
    today = now.date()
    for change in changes:
        check_range(change.start, change.end, change.selection_type, earliest=today)
    if not locked and not lock_cottage(session, heb.heb_pk):
        raise InvalidRange(
            _(
                "range_unknown_cottage",
                default="hébergement inconnu : ${pk}",
                mapping={"pk": heb.heb_pk},
            )
        )
    touch_cottage(session, heb.heb_pk, today)
    nights = {
        (heb.heb_pk, day): change.selection_type
        for change in changes
        for day in days(change.start, change.end)
    }
    write_days(session, nights, pro_pk, now, origin or history.Origin(history.OWNER, pro_pk))
    if core_outbox:
        return outbox.queue_all_for_hub(session, heb, changes, now)
    queued = (outbox.queue_for_hub(session, heb, change, now) for change in changes)
    return [row for row in queued if row is not None]


def busy_days(session, heb_pk, start=None, end=None):
    """[(date, res_type)] of a cottage, ordered by day; start/end included."""
    query = select(Reservation.res_date, Reservation.res_type).where(Reservation.heb_fk == heb_pk)
    if start is not None:
        query = query.where(Reservation.res_date >= midnight(start))
    if end is not None:
        query = query.where(Reservation.res_date < midnight(end + datetime.timedelta(days=1)))
    return [
        (res_date.date(), res_type)
        for res_date, res_type in session.execute(query.order_by(Reservation.res_date))
    ]


class Range(NamedTuple):
    heb_pk: int
    cgt: str
    start: datetime.date
    end: datetime.date  # included
    type: str  # loue | indisp


def merge_ranges(rows):
    """Merge ``(heb_pk, cgt, day, type)`` rows into ranges.

    ``rows`` must be ordered by cottage then day (``ORDER BY heb_fk,
    res_date``); ``day`` is a date or a datetime (its date counts).
    Consecutive days of the same cottage and type make one range.  Yields
    :class:`Range` named tuples ``(heb_pk, cgt, start, end, type)`` (end
    included), in the rows' order.  Rows out of order, or two rows for one
    cottage and day, raise ValueError: silently merging them was the legacy
    bug.

    This loop runs once per reservation row (millions in an export): the
    current range lives in local variables, and a :class:`Range` is built
    only when a range ends.
    """
    datetime_type = datetime.datetime
    one_day = ONE_DAY
    heb = cgt = start = end = kind = None
    for row_heb, row_cgt, day, res_type in rows:
        if isinstance(day, datetime_type):
            day = day.date()
        if row_heb == heb:
            if day <= end:
                raise ValueError(
                    f"rows not ordered by cottage and day: cottage {heb},"
                    f" {day.isoformat()} after {end.isoformat()}"
                )
            if res_type == kind and day - end == one_day:
                end = day
                continue
        elif heb is not None and row_heb < heb:
            raise ValueError(f"rows not ordered by cottage: {row_heb} after {heb}")
        if heb is not None:
            yield Range(heb, cgt, start, end, kind)
        heb, cgt, start, end, kind = row_heb, row_cgt, day, day, res_type
    if heb is not None:
        yield Range(heb, cgt, start, end, kind)
