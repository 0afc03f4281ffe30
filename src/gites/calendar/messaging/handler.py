"""Applying hub notifications to the database: pure functions.

The rules: docs/messaging.rst, "Hub -> site" and "Order and duplicates".

No broker here: :func:`apply_hub_batch` takes decoded bookings and a
session, changes rows in the caller's transaction, and says what it did to
each.  The consumer (:mod:`gites.calendar.messaging.consumer`) commits,
then acks.

Order and duplicates are settled here, with ``gites_calendar_hub_applied``
(one row per cottage and applied ``notf_id``), inside the cottage locks:

* a (cottage, notf_id) already there is a redelivery: nothing changes;
* otherwise the notification only writes the days of its range that no
  applied notification with a *higher* ``notf_id`` covers.

So the final state is the one of applying the notifications in the hub's
order, whatever order, however many times and by however many daemons they
are applied.  See docs/messaging.rst.

Speed (the daemon drains backlogs of thousands): a batch is applied with a
fixed number of statements, not a few per message.  One statement finds and
locks every cottage of the batch (``FOR UPDATE``, in ``heb_pk`` order, so
two daemons never deadlock), one reads the applied notifications that can
matter, then the batch is played in Python, message after message, exactly
as one-at-a-time application would, and its net effect is written: the
days (:func:`~gites.calendar.domain.reservations.write_days`), the modification
dates, the guard rows.
"""

import collections
import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from gites.calendar.db.models import Hebergement, HubApplied
from gites.calendar.domain.history import HUB, Origin
from gites.calendar.domain.reservations import check_range, days, write_days

APPLIED = "applied"  # every day of the range written
PARTLY_SUPERSEDED = "partly-superseded"  # some days kept a newer notification's state
SUPERSEDED = "superseded"  # every day already set by newer notifications
DUPLICATE = "duplicate"  # this notification was applied before (redelivery)
UNKNOWN_COTTAGE = "unknown-cottage"  # no cottage has this CGT code: ack, log

# A notification this far above the highest applied for its cottage is
# suspect (a hand-made one, a counter gone wrong): it would make the real
# ones "superseded" on its days.  Applied, but logged loudly.
NOTF_JUMP = 1_000_000

# hub_applied rows are needed as long as a notification about those days may
# still arrive late or be redelivered; a month after the range ended (and
# after it was applied) it no longer matters.
KEEP_APPLIED_DAYS = 30

_HEB = Hebergement.__table__
_APPLIED = HubApplied.__table__

# Every cottage having one of the CGT codes, locked until the end of the
# transaction (SQLite ignores FOR UPDATE: its database lock serialises all
# writers).  Writers of one cottage (owners' addRange, other daemons) are
# serialised on these row locks, as gites.calendar.db.locks.lock_cottage does.
# Rows are locked in heb_pk order: batches of two daemons cannot deadlock.
_LOCK_COTTAGES = (
    select(_HEB.c.heb_code_cgt, _HEB.c.heb_pk)
    .where(_HEB.c.heb_code_cgt.in_(bindparam("codes", expanding=True)))
    .order_by(_HEB.c.heb_pk)
    .with_for_update()
)
# The applied notifications that can matter to the batch: of its cottages,
# not older than its oldest notification, and either one of its notf_ids
# (redeliveries) or overlapping its days.  A superset: each message then
# keeps its own in Python.  Read by a later statement than the one that
# waited for the locks, so (READ COMMITTED) it sees what the previous holder
# of a lock committed.
_HISTORY = select(
    _APPLIED.c.heb_pk, _APPLIED.c.notf_id, _APPLIED.c.start_date, _APPLIED.c.end_date
).where(
    _APPLIED.c.heb_pk.in_(bindparam("pks", expanding=True)),
    _APPLIED.c.notf_id >= bindparam("oldest"),
    or_(
        _APPLIED.c.notf_id.in_(bindparam("notf_ids", expanding=True)),
        and_(_APPLIED.c.start_date <= bindparam("last"), _APPLIED.c.end_date >= bindparam("first")),
    ),
)
_TOUCH = (
    update(_HEB)
    .where(_HEB.c.heb_pk.in_(bindparam("pks", expanding=True)))
    .values(heb_calendrier_proprio_date_maj=bindparam("today"))
)
_RECORD = insert(_APPLIED)
# One max() per cottage (an index-only probe of the primary key each), not a
# GROUP BY, which reads every guard row of those cottages in every batch.
_HIGHEST = select(
    Hebergement.heb_pk,
    select(func.max(_APPLIED.c.notf_id))
    .where(_APPLIED.c.heb_pk == Hebergement.heb_pk)
    .scalar_subquery(),
).where(Hebergement.heb_pk.in_(bindparam("pks", expanding=True)))


def apply_hub_booking(session, booking, now):
    """Apply one ``booking`` (a codec ``HubBooking``): see :func:`apply_hub_batch`."""
    return apply_hub_batch(session, [booking], now)[0]


def apply_hub_batch(session, bookings, now, jumps=None):
    """Apply ``bookings`` (codec ``HubBooking``), in arrival order, in the
    caller's transaction; return their outcomes (constants of this module).

    The result is the one of applying them one after the other.  Raises
    :class:`gites.calendar.domain.reservations.InvalidRange` for a range that is
    not acceptable (end before start, longer than two years), before any
    SQL: the caller parks such a message.  Database errors propagate: the
    caller rolls back and retries later.

    ``jumps``, a list: (booking, highest notf_id applied before) is appended
    for each applied notification more than :data:`NOTF_JUMP` above the
    highest one of its cottage (one more statement per batch).
    """
    for booking in bookings:
        check_range(booking.start, booking.end, booking.res_type)
    if not bookings:
        return []
    connection = session.connection()
    cottages = {}
    rows = connection.execute(_LOCK_COTTAGES, {"codes": sorted({b.cgt_id for b in bookings})})
    for code, heb_pk in rows:
        cottages.setdefault(code, heb_pk)  # the lowest heb_pk, should two share a code
    known = [b for b in bookings if b.cgt_id in cottages]
    history = collections.defaultdict(list)  # heb_pk -> [(notf_id, start, end)] applied
    if known:
        params = {
            "pks": sorted({cottages[b.cgt_id] for b in known}),
            "oldest": min(b.notf_id for b in known),
            "notf_ids": sorted({b.notf_id for b in known}),
            "first": min(b.start for b in known),
            "last": max(b.end for b in known),
        }
        for heb_pk, notf_id, start, end in connection.execute(_HISTORY, params):
            history[heb_pk].append((notf_id, start, end))
        if jumps is not None:
            highest = dict(connection.execute(_HIGHEST, {"pks": params["pks"]}).all())
    outcomes, changes, origins, records = [], {}, {}, []
    for booking in bookings:
        heb_pk = cottages.get(booking.cgt_id)
        if heb_pk is None:
            outcomes.append(UNKNOWN_COTTAGE)
            continue
        applied = history[heb_pk]
        outcome, wanted = _weigh(booking, applied)
        outcomes.append(outcome)
        if outcome == DUPLICATE:
            continue
        if jumps is not None:
            before = highest.get(heb_pk)
            if before is not None and booking.notf_id > before + NOTF_JUMP:
                jumps.append((booking, before))
            highest[heb_pk] = max(before or 0, booking.notf_id)
        origin = Origin(HUB, booking.notf_id)
        for day in wanted:
            changes[heb_pk, day] = booking.res_type
            # re-inserted so that the batch's order of application is the
            # order the change log sees (history.plan_nights)
            origins.pop((heb_pk, day), None)
            origins[heb_pk, day] = origin
        applied.append((booking.notf_id, booking.start, booking.end))
        records.append(
            {
                "heb_pk": heb_pk,
                "notf_id": booking.notf_id,
                "start_date": booking.start,
                "end_date": booking.end,
                "applied_at": now,
            }
        )
    if records:
        # The change log gets the batch's net effect: one row per notification
        # whose days really changed (a notification whose days a later one
        # of the same batch overwrote records nothing).
        write_days(session, changes, None, now, origins)
        touched = sorted({record["heb_pk"] for record in records})
        connection.execute(_TOUCH, {"pks": touched, "today": now.date()})
        connection.execute(_RECORD, records)
    return outcomes


def _weigh(booking, applied):
    """(outcome, days to write) of ``booking`` after the ``applied`` ones."""
    covered = set()
    for notf_id, start, end in applied:
        if notf_id == booking.notf_id:
            return DUPLICATE, []
        if notf_id > booking.notf_id and start <= booking.end and end >= booking.start:
            covered.update(days(max(start, booking.start), min(end, booking.end)))
    wanted = [day for day in days(booking.start, booking.end) if day not in covered]
    if not covered:
        return APPLIED, wanted
    return (PARTLY_SUPERSEDED if wanted else SUPERSEDED), wanted


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


def guard_rows(session, heb_pks):
    """(heb_pk, notf_id, start, end, applied_at) of the cottages, highest first."""
    return session.execute(
        select(
            _APPLIED.c.heb_pk,
            _APPLIED.c.notf_id,
            _APPLIED.c.start_date,
            _APPLIED.c.end_date,
            _APPLIED.c.applied_at,
        )
        .where(_APPLIED.c.heb_pk.in_(heb_pks))
        .order_by(_APPLIED.c.heb_pk, _APPLIED.c.notf_id.desc())
    ).all()


def clear_guard(session, heb_pks=None, above=None):
    """Delete guard rows (of ``heb_pks``, or of every cottage when None;
    only ``notf_id > above`` when given); return how many.  The days keep
    their state: the next notification about them is applied as new."""
    statement = delete(HubApplied)
    if heb_pks is not None:
        statement = statement.where(HubApplied.heb_pk.in_(heb_pks))
    if above is not None:
        statement = statement.where(HubApplied.notf_id > above)
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount
