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
"""

import datetime

from sqlalchemy import delete, select

from gites.calendar.db import lock_cottage
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


def find_cottage(session, cgt_id):
    """heb_pk of the cottage with this CGT code (the lowest, should there be two)."""
    return session.scalar(
        select(Hebergement.heb_pk)
        .where(Hebergement.heb_code_cgt == cgt_id)
        .order_by(Hebergement.heb_pk)
        .limit(1)
    )


def apply_hub_booking(session, booking, now):
    """Apply ``booking`` (a codec ``HubBooking``) in the caller's transaction.

    Returns one of the outcome constants of this module.  Raises
    :class:`gites.calendar.reservations.InvalidRange` for a range that is not
    acceptable (end before start, longer than two years); the caller parks
    such a message.  Database errors propagate: the caller rolls back and
    retries later.
    """
    check_range(booking.start, booking.end, booking.res_type)
    heb_pk = find_cottage(session, booking.cgt_id)
    if heb_pk is None or not lock_cottage(session, heb_pk):
        return UNKNOWN_COTTAGE
    # Under the lock: a concurrent daemon's notification for this cottage is
    # either committed (and visible below) or waits for us.
    if session.get(HubApplied, (heb_pk, booking.notf_id)) is not None:
        return DUPLICATE
    newer = session.execute(
        select(HubApplied.start_date, HubApplied.end_date).where(
            HubApplied.heb_pk == heb_pk,
            HubApplied.notf_id > booking.notf_id,
            HubApplied.start_date <= booking.end,
            HubApplied.end_date >= booking.start,
        )
    ).all()
    covered = set()
    for start, end in newer:
        covered.update(days(max(start, booking.start), min(end, booking.end)))
    wanted = [day for day in days(booking.start, booking.end) if day not in covered]
    replace_days(session, heb_pk, wanted, booking.res_type, None, now)
    touch_cottage(session, heb_pk, now.date())
    session.add(
        HubApplied(
            heb_pk=heb_pk,
            notf_id=booking.notf_id,
            start_date=booking.start,
            end_date=booking.end,
            applied_at=now,
        )
    )
    session.flush()
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
