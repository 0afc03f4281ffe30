"""The site -> hub outbox: the rows the relay publishes (docs/messaging.rst).

A change is queued in the transaction that makes it, so the hub hears of
every committed change and of nothing else; the daemon's relay
(:mod:`gites.calendar.messaging.relay`) sends the rows.  Every writer builds
its rows with :func:`outbox_row`: the owners' pages one ORM object per range
(:func:`queue_for_hub`), the iCal import one Core INSERT per feed
(:func:`queue_all_for_hub`), ``exportCalendarEvents`` batches of them
(:mod:`gites.calendar.domain.hub_export`).
"""

from sqlalchemy import insert

from gites.calendar.db.models import OutboxMessage

OUTBOX = OutboxMessage.__table__


def outbox_row(now, heb_pk, cgt_id, start, end, selection_type):
    """The values of one outbox row: a range (``end`` included) of one cottage."""
    return {
        "created_at": now,
        "heb_pk": heb_pk,
        "cgt_id": cgt_id,
        "start_date": start,
        "end_date": end,
        "selection_type": selection_type,
        "attempts": 0,
    }


def goes_to_hub(heb, change, now):
    """Only cottages with a CGT code, and only ranges that are not wholly in
    the past: a range ending today or later is sent (the legacy rule lost
    ranges starting today)."""
    return bool(heb.heb_code_cgt) and change.end >= now.date()


def _row_of(heb, change, now):
    return outbox_row(
        now, heb.heb_pk, heb.heb_code_cgt, change.start, change.end, change.selection_type
    )


def queue_for_hub(session, heb, change, now):
    """Write the site -> hub message into the outbox (docs/messaging.rst,
    "Message formats"), if it :func:`goes_to_hub`.  Returns the
    :class:`~gites.calendar.db.models.OutboxMessage` added, or None."""
    if not goes_to_hub(heb, change, now):
        return None
    message = OutboxMessage(**_row_of(heb, change, now))
    session.add(message)
    return message


def queue_all_for_hub(session, heb, changes, now):
    """The messages of several ranges of one cottage, in order, by one Core
    INSERT (no ORM object); returns the rows written, as dicts."""
    rows = [_row_of(heb, change, now) for change in changes if goes_to_hub(heb, change, now)]
    if rows:
        session.execute(insert(OUTBOX), rows)
    return rows
