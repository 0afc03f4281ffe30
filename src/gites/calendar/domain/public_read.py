"""The public reads of busy days with their validators (issue 16): the
ETag of an answer, ``If-None-Match``, and the prepared statements of the
PostgreSQL read engine (docs/performance.rst).

The selectedDays view calls :func:`read_public_days` once per request:
keep the path short (no extra layer, no extra statement).  What a visitor
may see at all is :mod:`gites.calendar.domain.visibility`.
"""

import datetime
import hashlib
import weakref

from sqlalchemy import and_, bindparam, distinct, event, func, literal_column, select
from sqlalchemy.exc import DBAPIError

from gites.calendar.db.models import ACTIF, CalendarVersion, Hebergement, Proprio, Reservation
from gites.calendar.domain import state_cache as statecache
from gites.calendar.domain.visibility import MAX_MONTHS, visible_conditions, window

# Part of every validator: raise it when the answer's bytes change for the
# same data (JSON layout, page template), so that no cache keeps an old one.
FORMAT_VERSION = "1"

# What the validator of a cottage's answer depends on besides the window: its
# visibility and, when visible, its modification date, state and calendar
# version (raised by every writer, several times a day if need be).  One
# primary-key lookup; reservation_proprio is not read.
_STATE_COLUMNS = (
    Hebergement.heb_site_public,
    Hebergement.heb_calendrier_proprio,
    Hebergement.heb_calendrier_proprio_date_maj,
    Proprio.pro_etat,
    CalendarVersion.version,
)


_COTTAGE = Hebergement.__table__.outerjoin(
    Proprio, Hebergement.heb_pro_fk == Proprio.pro_pk
).outerjoin(CalendarVersion, CalendarVersion.heb_pk == Hebergement.heb_pk)
COTTAGE_STATE = (
    select(*_STATE_COLUMNS).select_from(_COTTAGE).where(Hebergement.heb_pk == bindparam("heb_pk"))
)
# The state and the busy days in one statement (a request without a
# validator to check): the days are joined only when the calendar is public,
# through the index on reservation_proprio (heb_fk, res_date).
STATE_AND_DAYS = (
    select(*_STATE_COLUMNS, Reservation.res_date)
    .select_from(
        _COTTAGE.outerjoin(
            Reservation,
            and_(
                Reservation.heb_fk == Hebergement.heb_pk,
                Reservation.res_date >= bindparam("start"),
                Reservation.res_date < bindparam("end"),
                *visible_conditions(),
            ),
        )
    )
    .where(Hebergement.heb_pk == bindparam("heb_pk"))
    .order_by(Reservation.res_date)
)


def _state_and_day_list():
    """PostgreSQL's form of STATE_AND_DAYS: one row, the days as one text
    ``YYYY-MM-DD,YYYY-MM-DD,...`` (distinct, in order) or NULL.  The
    profile showed the driver turning 45 rows of six columns into Python
    objects as a good part of what was left of the view's time."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    # Inline literals: with DISTINCT, the ORDER BY must be the same expression.
    day = func.to_char(Reservation.res_date, literal_column("'YYYY-MM-DD'"))
    days = (
        select(func.string_agg(distinct(day), aggregate_order_by(literal_column("','"), day)))
        .where(
            Reservation.heb_fk == Hebergement.heb_pk,
            Reservation.res_date >= bindparam("start"),
            Reservation.res_date < bindparam("end"),
            *visible_conditions(),
        )
        .scalar_subquery()
    )
    return (
        select(*_STATE_COLUMNS, days)
        .select_from(_COTTAGE)
        .where(Hebergement.heb_pk == bindparam("heb_pk"))
    )


STATE_AND_DAY_LIST = _state_and_day_list()


def state_token(state):
    """What of a cottage's state (a COTTAGE_STATE row, or None) the answer
    depends on.  Every hidden or unknown cottage has the same token, as it
    has the same answer: the validator tells nothing either."""
    if state is None:
        return ("hidden",)
    public, calendar, modified, active, version = state
    if public != "1" or calendar != ACTIF or active is not True:
        return ("hidden",)
    return ("public", calendar, modified.isoformat() if modified else "", version or 0)


def make_etag(kind, *parts):
    """A strong ETag over ``parts`` (their repr), prefixed by ``kind``."""
    digest = hashlib.blake2b(repr((FORMAT_VERSION, *parts)).encode(), digest_size=12)
    return f'"{kind}-{digest.hexdigest()}"'


def etag_matches(if_none_match, etag):
    """Whether an ``If-None-Match`` header value matches ``etag`` (RFC 9110:
    weak comparison, a list of tags, or ``*``)."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


class PreparedRead:
    """A SELECT prepared once per connection and run on the DBAPI cursor.

    For the PostgreSQL read engine (psycopg2): the profile of selectedDays
    under load showed half of its view's Python time in SQLAlchemy's
    execution machinery around one small SELECT, and PostgreSQL parsing and
    planning that same statement again for every request.  Here the SQL is
    compiled once (from the SQLAlchemy statement, so there is one
    definition), prepared on each connection at its first use, and each
    request then sends ``EXECUTE name (...)`` with its values.  Rows come
    back as psycopg2 makes them (dates, datetimes, booleans): the same
    values as through SQLAlchemy for these columns.
    """

    def __init__(self, name, statement):
        from sqlalchemy.dialects.postgresql import psycopg2

        compiled = statement.compile(dialect=psycopg2.dialect(paramstyle="numeric_dollar"))
        self.name = name
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup)
        self.constants = {k: v for k, v in compiled.params.items() if v is not None}
        self.prepare_sql = f"PREPARE {name} AS {self.sql}"
        self.execute_sql = f"EXECUTE {name} ({', '.join(['%s'] * len(self.order))})"

    def params(self, values):
        merged = {**self.constants, **values}
        return [merged[key] for key in self.order]


PREPARED = {
    "state": PreparedRead("gites_calendar_cottage_state", COTTAGE_STATE),
    "days": PreparedRead("gites_calendar_state_and_day_list", STATE_AND_DAY_LIST),
}
_PREPARED_KEY = "gites_calendar_prepared"  # in the pool's record of a connection
INVALID_STATEMENT_NAME = "26000"  # SQLSTATE: no such prepared statement


class _SQLAlchemyReader:
    """The portable path (SQLite, other drivers): Core statements."""

    def __init__(self, connection):
        self.connection = connection

    def state(self, heb_pk):
        return self.connection.execute(COTTAGE_STATE, {"heb_pk": heb_pk}).first()

    def state_and_days(self, values):
        """(state or None, the busy days as ``YYYY-MM-DD``)."""
        rows = self.connection.execute(STATE_AND_DAYS, values).all()
        state = tuple(rows[0][:5]) if rows else None
        # dict.fromkeys: one entry per day even if a legacy row is not at midnight.
        days = dict.fromkeys(row[5].date().isoformat() for row in rows if row[5] is not None)
        return state, list(days)


class _PreparedReader:
    """The PostgreSQL/psycopg2 path: prepared statements on a raw cursor."""

    def __init__(self, cursor):
        self.cursor = cursor

    def _run(self, prepared, values):
        self.cursor.execute(prepared.execute_sql, prepared.params(values))
        return self.cursor.fetchall()

    def state(self, heb_pk):
        rows = self._run(PREPARED["state"], {"heb_pk": heb_pk})
        return rows[0] if rows else None

    def state_and_days(self, values):
        rows = self._run(PREPARED["days"], values)
        if not rows:
            return None, []
        return tuple(rows[0][:5]), rows[0][5].split(",") if rows[0][5] else []


def uses_prepared(engine):
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg2"


# read engine -> its StateCache (PostgreSQL only); stopped with the engine.
_STATE_CACHES = weakref.WeakKeyDictionary()


def state_cache(engine):
    """The :class:`gites.calendar.domain.state_cache.StateCache` of a PostgreSQL read
    engine (made and started at first use), or None for other engines."""
    if not uses_prepared(engine):
        return None
    cache = _STATE_CACHES.get(engine)
    if cache is None:
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        dbapi = engine.dialect.loaded_dbapi
        made = statecache.StateCache(lambda: dbapi.connect(*cargs, **cparams))
        cache = _STATE_CACHES.setdefault(engine, made)
        if cache is made:
            event.listen(engine, "engine_disposed", lambda _connection: made.stop())
        else:  # another thread made one first
            made.stop()
    return cache


def read_public_days(engine, heb_pk, first_day, months, today, if_none_match=None):
    """(ETag, busy days as ``YYYY-MM-DD`` texts) of cottage ``heb_pk``, the
    days of
    :func:`gites.calendar.domain.visibility.read_busy_days`.

    The days are None when ``if_none_match`` matches the ETag: then only the
    cottage's state was read (one primary-key lookup, no
    ``reservation_proprio``).  Without a validator to check, the state and
    the days come in one statement.  ``engine``: a read engine
    (:func:`gites.calendar.db.session.get_read_engine`), in autocommit mode.
    """
    if not isinstance(heb_pk, int) or heb_pk <= 0:
        raise ValueError(f"not a cottage primary key: {heb_pk!r}")
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}, not {months!r}")
    start, end = window(first_day, months, today)
    if start >= end:  # a window wholly past: empty whatever the cottage
        etag = make_etag("days", heb_pk, start, end, ("empty",))
        return etag, None if etag_matches(if_none_match, etag) else []
    cache = state_cache(engine)
    if if_none_match and cache is not None:
        # A revalidation of a state this process knows: no database at all.
        state = cache.get(heb_pk)
        if state is not statecache.MISSING:
            etag = make_etag("days", heb_pk, start, end, state_token(state))
            if etag_matches(if_none_match, etag):
                return etag, None
    read = _read_prepared if cache is not None else _read_portable
    try:
        return read(engine, heb_pk, start, end, if_none_match)
    except DBAPIError as error:  # the portable path: SQLAlchemy wrapped it
        if not error.connection_invalidated:
            raise
    except _Disconnected:
        pass
    # A connection found dead (database restarted): the pool was renewed,
    # read once more.
    return read(engine, heb_pk, start, end, if_none_match)


class _Disconnected(Exception):
    """The prepared path found its connection dead (or its statements gone):
    read once more."""


def _read_portable(engine, heb_pk, start, end, if_none_match):
    with engine.connect() as connection:
        return _conditional_read(_SQLAlchemyReader(connection), heb_pk, start, end, if_none_match)


def _read_prepared(engine, heb_pk, start, end, if_none_match):
    connection = engine.raw_connection()  # pooled; autocommit, no reset on return
    cursor = None
    try:
        cursor = connection.cursor()
        if not connection.info.get(_PREPARED_KEY):
            for prepared in PREPARED.values():
                cursor.execute(prepared.prepare_sql)
            connection.info[_PREPARED_KEY] = True
        reader = _PreparedReader(cursor)
        return _conditional_read(reader, heb_pk, start, end, if_none_match, state_cache(engine))
    except engine.dialect.loaded_dbapi.Error as error:
        if getattr(error, "pgcode", None) == INVALID_STATEMENT_NAME:
            # Our prepared statements were dropped (DEALLOCATE ALL, DISCARD
            # ALL by a pooler): prepare them again and read once more.
            connection.info.pop(_PREPARED_KEY, None)
            raise _Disconnected() from error
        if not engine.dialect.is_disconnect(error, connection.dbapi_connection, cursor):
            raise
        # As SQLAlchemy does for its own statements: this connection and the
        # pool's idle others are from before the restart.
        connection.invalidate(error)
        engine.pool.dispose()
        raise _Disconnected() from error
    finally:
        if cursor is not None:
            cursor.close()
        connection.close()


def _conditional_read(reader, heb_pk, start, end, if_none_match, cache=None):
    # Noted before each read: a state is kept only if no change was
    # notified meanwhile (see gites.calendar.domain.state_cache).
    generation = cache.generation if cache is not None else None
    if if_none_match:
        state = reader.state(heb_pk)
        if cache is not None:
            cache.put(heb_pk, state and tuple(state), generation)
            generation = cache.generation
        etag = make_etag("days", heb_pk, start, end, state_token(state))
        if etag_matches(if_none_match, etag):
            return etag, None
    # No validator, or a stale one: the state and the days at once (the ETag
    # sent is the one of the days sent).
    state, days = reader.state_and_days(
        {
            "heb_pk": heb_pk,
            "start": datetime.datetime.combine(start, datetime.time()),
            "end": datetime.datetime.combine(end, datetime.time()),
        }
    )
    if cache is not None:
        cache.put(heb_pk, state, generation)
    return make_etag("days", heb_pk, start, end, state_token(state)), days
