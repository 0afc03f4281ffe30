"""exportCalendarEvents: every future reservation sent again to the hub.

See docs/scripts.rst, "exportCalendarEvents".

The rows are read ordered by cottage and day (the legacy script grouped
unordered rows, so its ranges depended on the database's row order),
merged into ranges by :func:`merge_ranges`, and written to the outbox, from
which the daemon's relay publishes them as ordinary site -> hub messages.

Memory stays flat whatever the table size: the rows come through a
server-side cursor (Core ``yield_per``: plain rows, no ORM loading), the
merge holds one range, and outbox rows are inserted in batches (one
multi-row INSERT per batch: SQLAlchemy's "insertmanyvalues").  The whole
export is one transaction, so a failed run queues nothing and can simply be
run again.
"""

import dataclasses
import datetime

from sqlalchemy import insert, select

from gites.calendar.db.models import Hebergement, Reservation
from gites.calendar.domain.outbox import OUTBOX, outbox_row
from gites.calendar.domain.reservations import merge_ranges, midnight
from gites.calendar.logsafe import one_line

RESERVATION = Reservation.__table__
HEBERGEMENT = Hebergement.__table__

FETCH_SIZE = 5000  # rows per round trip of the server-side cursor
BATCH_SIZE = 1000  # outbox rows per INSERT
ONE_DAY = datetime.timedelta(days=1)


class ExportError(Exception):
    """Bad input (message: one line); nothing was written."""


def future_rows_query(today, heb_pk=None):
    """Reservations from ``today`` on, of cottages with a CGT code, ordered.

    A Core statement on the tables (no ORM entity): executed on a
    Connection, its rows are plain tuples.
    """
    res, heb = RESERVATION, HEBERGEMENT
    query = (
        select(res.c.heb_fk, heb.c.heb_code_cgt, res.c.res_date, res.c.res_type)
        .join(heb, heb.c.heb_pk == res.c.heb_fk)
        .where(
            res.c.res_date >= midnight(today),
            heb.c.heb_code_cgt.is_not(None),
            heb.c.heb_code_cgt != "",
        )
        .order_by(res.c.heb_fk, res.c.res_date)
    )
    if heb_pk is not None:
        query = query.where(res.c.heb_fk == heb_pk)
    return query


def future_ranges(session, today, heb_pk=None, fetch_size=FETCH_SIZE):
    """The merged ranges, streamed from the database (see module docstring).

    Runs on the session's connection (its transaction), through Core; pending
    ORM changes are flushed first, as a session query would (autoflush).
    """
    session.flush()
    result = session.connection().execute(
        future_rows_query(today, heb_pk), execution_options={"yield_per": fetch_size}
    )
    try:
        yield from merge_ranges(result)
    finally:
        result.close()


def check_cottage(session, heb_pk):
    """Raise ExportError unless ``heb_pk`` is a cottage with a CGT code."""
    heb = session.get(Hebergement, heb_pk)
    if heb is None:
        raise ExportError(f"cottage {heb_pk} does not exist")
    if not heb.heb_code_cgt:
        raise ExportError(f"cottage {heb_pk} has no CGT code: the hub does not know it")
    return heb


@dataclasses.dataclass
class ExportReport:
    ranges: int = 0
    days: int = 0
    cottages: int = 0


def export(session, today, now, heb_pk=None, dry_run=False, out=None, batch_size=BATCH_SIZE):
    """Queue every future range in the outbox (or only print it: ``dry_run``).

    Runs in the caller's transaction (the caller commits).  ``out``: called
    with one line per range.  Returns an :class:`ExportReport`.
    """
    if heb_pk is not None:
        check_cottage(session, heb_pk)
    connection = session.connection()
    insert_outbox = insert(OUTBOX)
    report = ExportReport()
    batch = []
    last_heb = None
    for item in future_ranges(session, today, heb_pk):
        report.ranges += 1
        report.days += (item.end - item.start).days + 1
        if item.heb_pk != last_heb:
            report.cottages += 1
            last_heb = item.heb_pk
        if out is not None:
            out(
                f"{item.heb_pk}\t{one_line(item.cgt)}\t{item.start.isoformat()}"
                f"\t{item.end.isoformat()}\t{one_line(item.type)}"
            )
        if dry_run:
            continue
        batch.append(outbox_row(now, item.heb_pk, item.cgt, item.start, item.end, item.type))
        if len(batch) >= batch_size:
            connection.execute(insert_outbox, batch)
            batch = []
    if batch:
        connection.execute(insert_outbox, batch)
    return report
