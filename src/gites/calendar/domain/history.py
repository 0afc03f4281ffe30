"""Where every night of a calendar came from: the change log (issue 12).

Two tables (docs/database.rst):

* ``gites_calendar_change``: one row per applied change of a cottage's
  calendar, written by the writer in its own transaction: who
  (:class:`Origin`), when, the range asked for, the new type and how many
  days it really changed.  A change that changes nothing writes nothing.
* ``gites_calendar_night_range``: (cottage, run of days) -> the change that
  changed those days; the latest change covering a day is its provenance,
  so the provenance of a view is one range read on a primary key
  (:func:`night_sources`).

Nights are recorded by :func:`gites.calendar.domain.reservations.write_days`, the
one write path of nights (owners, hub, iCal import), through
:func:`plan_nights` (before the write: reads the current types) and
:func:`write_plan` (after it).  Calendar state changes (``non actif``,
``bloque``, reactivation) have no nights: :func:`record_state` writes a row
with no days.  Retention (old changes pruned) is
:mod:`gites.calendar.domain.history_retention`.

Only the domain and the db are imported here (no Plone).
"""

import dataclasses
import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, text

from gites.calendar.db.models import CalendarChange, NightSource, Reservation
from gites.calendar.domain.night_plan import MAX_RUN, day_runs, group_days

OWNER = "owner"  # actor: the proprio's pk
HUB = "hub"  # actor: the hub's notf_id
ICAL = "ical"  # actor: the feed's id
ACTIVITY = "activity"  # actor: the script's name (checkCalendarActivity)
CONFIGURATION = "configuration"  # actor: the proprio's pk
REACTIVATION = "reactivation"  # actor: the proprio's pk
OPS = "ops"  # actor: the script's name
SOURCES = (OWNER, HUB, ICAL, ACTIVITY, CONFIGURATION, REACTIVATION, OPS)

DEFAULT_PAGE = 50


@dataclasses.dataclass(frozen=True)
class Origin:
    """Who makes a change: a source (:data:`SOURCES`) and an actor.

    The actor is kept as text (``str(actor)``): a proprio pk, a notf_id, a
    feed id or a script name.
    """

    source: str
    actor: object = None

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"unknown change source {self.source!r}")
        if self.actor is not None and not isinstance(self.actor, str):
            object.__setattr__(self, "actor", str(self.actor))


@dataclasses.dataclass(frozen=True)
class ChangeRow:
    """One row of ``gites_calendar_change``, detached from any session."""

    id: int
    heb_pk: int
    first_day: datetime.date | None
    last_day: datetime.date | None
    new_type: str
    source: str
    actor: str | None
    changed_at: datetime.datetime
    changed_days: int

    @property
    def origin(self):
        return Origin(self.source, self.actor)

    def as_json(self):
        return {
            "id": self.id,
            "heb_pk": self.heb_pk,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "new_type": self.new_type,
            "source": self.source,
            "actor": self.actor,
            "changed_at": self.changed_at.isoformat(timespec="seconds"),
            "changed_days": self.changed_days,
        }


_CHANGE = CalendarChange.__table__
_NIGHT = NightSource.__table__
_RES = Reservation.__table__
_COLUMNS = [_CHANGE.c[f.name] for f in dataclasses.fields(ChangeRow)]


def _row(values):
    return ChangeRow(*values)


# -- writing nights -----------------------------------------------------------


@dataclasses.dataclass
class NightPlan:
    """What :func:`write_plan` will record: one group per (cottage, origin,
    type) with the days asked and the days that really change."""

    groups: list  # [(heb_pk, Origin, new_type, first, last, [changed days])]


def check_origin(changes, origin):
    """ValueError unless every day of ``changes`` has an :class:`Origin`."""
    if origin is None:
        raise ValueError("write_days needs the origin of the change")
    if not isinstance(origin, Origin):
        missing = [key for key in changes if not isinstance(origin.get(key), Origin)]
        if missing:
            raise ValueError(f"no origin for {missing[0]}")


def plan_nights(session, changes, origin, current=None):
    """Which days of ``changes`` really change, grouped per writer.

    ``changes``: {(heb_pk, day): type}; ``origin``: an :class:`Origin`, or
    {(heb_pk, day): Origin} for a batch of several writers (the hub);
    ``current``: {(heb_pk, day): type} of the busy days before the write,
    when the caller has it (else one SELECT, before the write).  Groups
    come in cottage order, then in the order their origin first appears in
    ``origin`` (a batch's order of application).
    """
    check_origin(changes, origin)
    if isinstance(origin, Origin):
        origin = dict.fromkeys(changes, origin)
    if current is not None:
        return NightPlan(group_days(changes, origin, current))
    bounds = {}
    for heb_pk, day in changes:
        lo, hi = bounds.get(heb_pk, (day, day))
        bounds[heb_pk] = (min(lo, day), max(hi, day))
    current = {}
    if bounds:
        query = select(_RES.c.heb_fk, _RES.c.res_date, _RES.c.res_type).where(
            or_(
                *(
                    and_(
                        _RES.c.heb_fk == heb_pk,
                        _RES.c.res_date >= _midnight(lo),
                        _RES.c.res_date < _midnight(hi + datetime.timedelta(days=1)),
                    )
                    for heb_pk, (lo, hi) in sorted(bounds.items())
                )
            )
        )
        for heb_pk, res_date, res_type in session.execute(query):
            current[heb_pk, _as_day(res_date)] = res_type
    return NightPlan(group_days(changes, origin, current))


def write_plan(session, plan, now):
    """Insert the change rows of ``plan`` and the runs of nights they changed.

    On PostgreSQL one statement of fixed text (arrays; the change ids are
    taken from their sequence in a first step of the statement, so the runs
    are matched to their change by position); elsewhere two.  None when
    nothing changed.  Returns the :class:`ChangeRow` written, in order.
    """
    if not plan.groups:
        return []
    rows = [
        {
            "heb_pk": heb_pk,
            "first_day": first,
            "last_day": last,
            "new_type": new_type,
            "source": who.source,
            "actor": who.actor,
            "changed_at": now,
            "changed_days": len(changed),
        }
        for heb_pk, who, new_type, first, last, changed in plan.groups
    ]
    runs = [
        (index, lo, hi) for index, group in enumerate(plan.groups) for lo, hi in day_runs(group[5])
    ]
    if session.get_bind().dialect.name == "postgresql":
        params = {name: [row[key] for row in rows] for name, key in _CHANGE_ARRAYS.items()}
        params["groups"] = [index + 1 for index, _lo, _hi in runs]  # WITH ORDINALITY: from 1
        params["los"] = [lo for _index, lo, _hi in runs]
        params["his"] = [hi for _index, _lo, hi in runs]
        ids = list(session.execute(_WRITE_PLAN_PG, params).scalars())
    else:
        ids = list(
            session.execute(
                insert(_CHANGE).returning(_CHANGE.c.id, sort_by_parameter_order=True), rows
            ).scalars()
        )
        session.execute(
            insert(_NIGHT),
            [
                {
                    "heb_pk": rows[index]["heb_pk"],
                    "first_day": lo,
                    "last_day": hi,
                    "change_id": ids[index],
                }
                for index, lo, hi in runs
            ],
        )
    return [ChangeRow(id=change_id, **row) for change_id, row in zip(ids, rows, strict=True)]


_CHANGE_ARRAYS = {
    "hebs": "heb_pk",
    "firsts": "first_day",
    "lasts": "last_day",
    "types": "new_type",
    "sources": "source",
    "actors": "actor",
    "ats": "changed_at",
    "counts": "changed_days",
}
# PostgreSQL: the change rows and their runs of nights in one statement of
# fixed text whatever the sizes (one round trip, one parse).  The ids are
# drawn in the first step (in array order), then both tables are written
# from it; the runs name their change by its position in the arrays.
_WRITE_PLAN_PG = text(
    "WITH v AS MATERIALIZED ("
    " SELECT nextval(pg_get_serial_sequence('gites_calendar_change', 'id')) AS id, u.*"
    " FROM unnest(CAST(:hebs AS integer[]), CAST(:firsts AS date[]),"
    " CAST(:lasts AS date[]), CAST(:types AS varchar[]), CAST(:sources AS varchar[]),"
    " CAST(:actors AS varchar[]), CAST(:ats AS timestamp[]), CAST(:counts AS integer[]))"
    " WITH ORDINALITY AS u(heb, first_day, last_day, new_type, source, actor, at, n, g)),"
    " c AS (INSERT INTO gites_calendar_change (id, heb_pk, first_day, last_day, new_type,"
    " source, actor, changed_at, changed_days)"
    " SELECT id, heb, first_day, last_day, new_type, source, actor, at, n FROM v),"
    " r AS (INSERT INTO gites_calendar_night_range (heb_pk, first_day, last_day, change_id)"
    " SELECT v.heb, x.lo, x.hi, v.id FROM unnest(CAST(:groups AS integer[]),"
    " CAST(:los AS date[]), CAST(:his AS date[])) AS x(g, lo, hi) JOIN v ON v.g = x.g)"
    " SELECT id FROM v ORDER BY g"
)


def record_state(session, heb_pk, old_state, new_state, origin, now):
    """Record a calendar state change (no nights); nothing if it is none."""
    if old_state == new_state:
        return None
    if not isinstance(origin, Origin):
        raise ValueError("record_state needs the origin of the change")
    row = {
        "heb_pk": heb_pk,
        "first_day": None,
        "last_day": None,
        "new_type": new_state,
        "source": origin.source,
        "actor": origin.actor,
        "changed_at": now,
        "changed_days": 0,
    }
    change_id = session.execute(insert(_CHANGE).returning(_CHANGE.c.id), row).scalar_one()
    return ChangeRow(id=change_id, **row)


# -- reading ------------------------------------------------------------------

_NIGHT_RUNS = (
    select(_NIGHT.c.first_day, _NIGHT.c.last_day, *_COLUMNS)
    .join(_CHANGE, _CHANGE.c.id == _NIGHT.c.change_id)
    .where(
        _NIGHT.c.heb_pk == bindparam("heb_pk"),
        _NIGHT.c.first_day >= bindparam("lowest"),
        _NIGHT.c.first_day <= bindparam("last"),
        _NIGHT.c.last_day >= bindparam("first"),
    )
    .order_by(_NIGHT.c.change_id)
)


def night_sources(session, heb_pk, first, last):
    """{day: ChangeRow}: the change that last changed each day of
    [first, last] (both included) that a recorded change touched.

    The row's ``new_type`` is the type it gave the day (``libre`` for a day
    it freed); days never changed since the log exists are absent.  One
    range read on the primary key of the runs (those starting in
    [first - MAX_RUN + 1, last]), laid out oldest change first so that the
    latest one covering a day wins.
    """
    params = {
        "heb_pk": heb_pk,
        "first": first,
        "last": last,
        "lowest": first - datetime.timedelta(days=MAX_RUN - 1),
    }
    found = {}
    changes = {}
    for values in session.execute(_NIGHT_RUNS, params):
        lo, hi = max(_as_day(values[0]), first), min(_as_day(values[1]), last)
        change = changes.get(values[2])
        if change is None:
            change = changes[values[2]] = _row(values[2:])
        for offset in range((hi - lo).days + 1):
            found[lo + datetime.timedelta(days=offset)] = change
    return found


def _filtered(query, heb_pk, since, day):
    query = query.where(_CHANGE.c.heb_pk == heb_pk)
    if since is not None:
        if not isinstance(since, datetime.datetime):
            since = _midnight(since)
        query = query.where(_CHANGE.c.changed_at >= since)
    if day is not None:
        query = query.where(_CHANGE.c.first_day <= day, _CHANGE.c.last_day >= day)
    return query


def changes(session, heb_pk, since=None, day=None, limit=DEFAULT_PAGE, offset=0):
    """The changes of a cottage, newest first: [ChangeRow].

    ``since``: changed on or after that day (or datetime); ``day``: only
    the changes whose range covers that day; ``limit`` None for all.
    """
    query = _filtered(select(*_COLUMNS), heb_pk, since, day).order_by(_CHANGE.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return [_row(values) for values in session.execute(query)]


def last_state_change(session, heb_pk):
    """The newest change of the calendar's state (a row without days), or None."""
    query = (
        select(*_COLUMNS)
        .where(_CHANGE.c.heb_pk == heb_pk, _CHANGE.c.first_day.is_(None))
        .order_by(_CHANGE.c.id.desc())
        .limit(1)
    )
    values = session.execute(query).first()
    return _row(values) if values is not None else None


def count_changes(session, heb_pk, since=None, day=None):
    query = _filtered(select(func.count()).select_from(_CHANGE), heb_pk, since, day)
    return session.execute(query).scalar_one()


# -- helpers ------------------------------------------------------------------


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time())


def _as_day(value):
    return value.date() if isinstance(value, datetime.datetime) else value
