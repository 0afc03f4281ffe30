"""Applying one hub notification to the database (SPEC §5): a pure function.

No broker here: :func:`apply_hub_booking` takes a decoded booking and a
session, changes rows in the caller's transaction, and says what it did.
The consumer (:mod:`gites.calendar.messaging.consumer`) commits, then acks.

Order and duplicates are settled here, with ``gites_calendar_hub_applied``
(one row per cottage and applied ``notf_id``), inside the cottage lock:

* a (cottage, notf_id) already there is a redelivery: nothing changes;
* otherwise the notification only writes the days of its range that no
  applied notification with a *higher* ``notf_id`` covers.

So the final state is the one of applying the notifications in the hub's
order, whatever order, however many times and by however many daemons they
are applied.  See docs/messaging.rst.

Speed (the daemon drains backlogs of thousands): Core statements built once,
on the session's connection, no ORM objects.  Per message: one statement
finds *and* locks the cottage (PostgreSQL ``FOR UPDATE``; skipped for a
cottage already locked earlier in the same transaction, see ``cottages``),
one reads both the redelivery guard and the newer notifications, then
:func:`~gites.calendar.reservations.replace_days` (delete + insert), the
modification date and the guard row.
"""

import datetime

from sqlalchemy import and_, bindparam, delete, insert, or_, select

from gites.calendar.models import Hebergement, HubApplied
from gites.calendar.reservations import check_range, days, replace_days, touch_cottage

APPLIED = "applied"  # every day of the range written
PARTLY_SUPERSEDED = "partly-superseded"  # some days kept a newer notification's state
SUPERSEDED = "superseded"  # every day already set by newer notifications
DUPLICATE = "duplicate"  # this notification was applied before (redelivery)
UNKNOWN_COTTAGE = "unknown-cottage"  # no cottage has this CGT code: ack, log

# hub_applied rows are needed as long as a notification about those days may
# still arrive late or be redelivered; a month after the range ended (and
# after it was applied) it no longer matters.
KEEP_APPLIED_DAYS = 30

_HEB = Hebergement.__table__
_APPLIED = HubApplied.__table__

# The cottage with this CGT code (the lowest heb_pk, should there be two).
_FIND_COTTAGE = (
    select(_HEB.c.heb_pk)
    .where(_HEB.c.heb_code_cgt == bindparam("cgt"))
    .order_by(_HEB.c.heb_pk)
    .limit(1)
)
# The same, locking its row until the end of the transaction: writers of one
# cottage (owners' addRange, other daemons) are serialised on this row lock,
# exactly as gites.calendar.db.lock_cottage does, in one round trip.
_FIND_AND_LOCK_COTTAGE = _FIND_COTTAGE.with_for_update()
# Both guards in one query: this notification already applied (redelivery),
# and the newer notifications that overlap its range.
_GUARDS = select(_APPLIED.c.notf_id, _APPLIED.c.start_date, _APPLIED.c.end_date).where(
    _APPLIED.c.heb_pk == bindparam("heb_pk"),
    or_(
        _APPLIED.c.notf_id == bindparam("notf_id"),
        and_(
            _APPLIED.c.notf_id > bindparam("notf_id"),
            _APPLIED.c.start_date <= bindparam("end"),
            _APPLIED.c.end_date >= bindparam("start"),
        ),
    ),
)
_RECORD = insert(_APPLIED)

# PostgreSQL (psycopg2): the same work in two round trips instead of five.
# Several statements in one execute run one after the other, each with its
# own snapshot (READ COMMITTED): the guards are read by a *later* statement
# than the one that waited for the lock, so they see what the previous holder
# of the lock committed.  Only the last statement's rows come back.
_PG_LOCK = (
    "SELECT heb_pk FROM hebergement WHERE heb_code_cgt = %(cgt)s"
    " ORDER BY heb_pk LIMIT 1 FOR UPDATE;\n"
)
_PG_GUARDS = (
    "SELECT h.heb_pk, a.notf_id, a.start_date, a.end_date"
    " FROM (SELECT heb_pk FROM hebergement WHERE heb_code_cgt = %(cgt)s"
    " ORDER BY heb_pk LIMIT 1) AS h"
    " LEFT JOIN gites_calendar_hub_applied AS a ON a.heb_pk = h.heb_pk"
    " AND (a.notf_id = %(notf_id)s"
    " OR (a.notf_id > %(notf_id)s AND a.start_date <= %(end)s AND a.end_date >= %(start)s))"
)
_PG_TOUCH_AND_RECORD = (
    "UPDATE hebergement SET heb_calendrier_proprio_date_maj = %(today)s"
    " WHERE heb_pk = %(heb_pk)s;\n"
    "INSERT INTO gites_calendar_hub_applied (heb_pk, notf_id, start_date, end_date, applied_at)"
    " VALUES (%(heb_pk)s, %(notf_id)s, %(start)s, %(end)s, %(now)s)"
)


def find_cottage(session, cgt_id):
    """heb_pk of the cottage with this CGT code (the lowest, should there be two)."""
    return session.connection().scalar(_FIND_COTTAGE, {"cgt": cgt_id})


def _find_and_lock(connection, cgt_id):
    # SQLite has no row locks: its database lock serialises all writers.
    statement = _FIND_AND_LOCK_COTTAGE if connection.dialect.name == "postgresql" else _FIND_COTTAGE
    return connection.scalar(statement, {"cgt": cgt_id})


def apply_hub_booking(session, booking, now, cottages=None):
    """Apply ``booking`` (a codec ``HubBooking``) in the caller's transaction.

    Returns one of the outcome constants of this module.  Raises
    :class:`gites.calendar.reservations.InvalidRange` for a range that is not
    acceptable (end before start, longer than two years), before any SQL;
    the caller parks such a message.  Database errors propagate: the caller
    rolls back and retries later.

    ``cottages``: optional dict ``{cgt_id: heb_pk or None}`` of the cottages
    already found and locked *in this transaction* (filled here).  Pass a new
    one per transaction, and none across a ROLLBACK TO SAVEPOINT (that
    releases the locks taken after the savepoint).
    """
    check_range(booking.start, booking.end, booking.res_type)
    connection = session.connection()
    if connection.dialect.driver == "psycopg2":
        return _apply_psycopg2(session, connection, booking, now, cottages)
    if cottages is not None and booking.cgt_id in cottages:
        heb_pk = cottages[booking.cgt_id]
    else:
        heb_pk = _find_and_lock(connection, booking.cgt_id)
        if cottages is not None:
            cottages[booking.cgt_id] = heb_pk
    if heb_pk is None:
        return UNKNOWN_COTTAGE
    # Under the lock: a concurrent daemon's notification for this cottage is
    # either committed (and visible below) or waits for us.
    guards = connection.execute(
        _GUARDS,
        {
            "heb_pk": heb_pk,
            "notf_id": booking.notf_id,
            "start": booking.start,
            "end": booking.end,
        },
    ).all()
    outcome, covered, wanted = _weigh(booking, guards)
    if outcome is not None:
        return outcome
    replace_days(session, heb_pk, wanted, booking.res_type, None, now)
    touch_cottage(session, heb_pk, now.date())
    connection.execute(
        _RECORD,
        {
            "heb_pk": heb_pk,
            "notf_id": booking.notf_id,
            "start_date": booking.start,
            "end_date": booking.end,
            "applied_at": now,
        },
    )
    return _written(covered, wanted)


def _apply_psycopg2(session, connection, booking, now, cottages):
    params = {
        "cgt": booking.cgt_id,
        "notf_id": booking.notf_id,
        "start": booking.start,
        "end": booking.end,
    }
    locked = cottages is not None and booking.cgt_id in cottages
    rows = connection.exec_driver_sql(_PG_GUARDS if locked else _PG_LOCK + _PG_GUARDS, params).all()
    heb_pk = rows[0][0] if rows else None
    if cottages is not None:
        cottages[booking.cgt_id] = heb_pk
    if heb_pk is None:
        return UNKNOWN_COTTAGE
    # Under the lock (see _PG_LOCK): newer notifications are all visible.
    outcome, covered, wanted = _weigh(booking, [row[1:] for row in rows if row[1] is not None])
    if outcome is not None:
        return outcome
    replace_days(session, heb_pk, wanted, booking.res_type, None, now)
    params.update(heb_pk=heb_pk, today=now.date(), now=now)
    connection.exec_driver_sql(_PG_TOUCH_AND_RECORD, params)
    return _written(covered, wanted)


def _weigh(booking, guards):
    """(DUPLICATE or None, days covered by newer notifications, days to write)."""
    covered = set()
    for notf_id, start, end in guards:
        if notf_id == booking.notf_id:
            return DUPLICATE, None, None
        covered.update(days(max(start, booking.start), min(end, booking.end)))
    wanted = [day for day in days(booking.start, booking.end) if day not in covered]
    return None, covered, wanted


def _written(covered, wanted):
    if not covered:
        return APPLIED
    return PARTLY_SUPERSEDED if wanted else SUPERSEDED


def prune_hub_applied(session, now, keep_days=KEEP_APPLIED_DAYS):
    """Delete the guard rows nobody needs any more; return how many.

    A row goes once its range ended *and* it was applied more than
    ``keep_days`` ago: late or redelivered notifications arrive within
    minutes, not weeks.  One DELETE, run at start-up and hourly.
    """
    limit = now - datetime.timedelta(days=keep_days)
    return session.execute(
        delete(HubApplied)
        .where(HubApplied.end_date < limit.date(), HubApplied.applied_at < limit)
        .execution_options(synchronize_session=False)
    ).rowcount
