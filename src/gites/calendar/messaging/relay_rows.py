"""What the relay reads and writes of ``gites_calendar_outbox`` (whose rows
:mod:`gites.calendar.domain.outbox` writes, in the transaction of each change).

Core statements on the relay's own connection (the one holding its advisory
lock, :mod:`gites.calendar.messaging.relay`): the pending rows in ``id``
order, a row as the codec's site change, and one transaction recording
what became of a batch.  A row marked :data:`UNENCODABLE` is never selected
again.
"""

from sqlalchemy import bindparam, select, update

from gites.calendar.db.models import OutboxMessage
from gites.calendar.messaging.codec import SiteChange, encode_site_change

UNENCODABLE = "unencodable: "

_OUTBOX = OutboxMessage.__table__
_PENDING = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.heb_pk,
        _OUTBOX.c.cgt_id,
        _OUTBOX.c.start_date,
        _OUTBOX.c.end_date,
        _OUTBOX.c.selection_type,
    )
    .where(
        _OUTBOX.c.sent_at.is_(None),
        _OUTBOX.c.last_error.is_(None) | _OUTBOX.c.last_error.not_like(UNENCODABLE + "%"),
    )
    .order_by(_OUTBOX.c.id)
    .limit(bindparam("limit"))
)
_RECORD_ERROR = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(attempts=_OUTBOX.c.attempts + 1, last_error=bindparam("error"))
)


def pending_rows(connection, limit):
    """At most ``limit`` rows to publish, oldest first (the read commits)."""
    rows = connection.execute(_PENDING, {"limit": limit}).all()
    connection.commit()
    return rows


def encode_row(row, fmt):
    """(body, content type); ValueError when the codec refuses the row."""
    return encode_site_change(
        SiteChange(
            heb_pk=row.heb_pk,
            cgt_id=row.cgt_id,
            start=row.start_date,
            end=row.end_date,
            selection_type=row.selection_type,
        ),
        fmt=fmt,
    )


def record(connection, sent_ids, errors, now):
    """In one transaction: rows ``sent_ids`` sent (at ``now()``), and each
    ``(row id, error)`` of ``errors`` one more failed attempt."""
    if sent_ids:
        connection.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(sent_ids))
            .values(sent_at=now(), attempts=_OUTBOX.c.attempts + 1, last_error=None)
        )
    if errors:
        connection.execute(
            _RECORD_ERROR, [{"row_id": row_id, "error": error} for row_id, error in errors]
        )
    if sent_ids or errors:
        connection.commit()
