"""exportCalendarEvents: every future reservation sent again to the hub (SPEC §6).

The rows are read ordered by cottage and day (the legacy script grouped
unordered rows, so its ranges depended on the database's row order: SPEC §7
problem 7), merged into ranges by :func:`merge_ranges`, and written to the
outbox, from which the daemon's relay publishes them as ordinary site -> hub
messages.

Memory stays flat whatever the table size: the rows come through a
server-side cursor (``yield_per``), the merge holds one range, and outbox
rows are inserted in batches.  The whole export is one transaction, so a
failed run queues nothing and can simply be run again.
"""

import dataclasses
import datetime
from typing import NamedTuple

from sqlalchemy import insert, select

from gites.calendar.models import Hebergement, OutboxMessage, Reservation
from gites.calendar.reservations import midnight

FETCH_SIZE = 5000  # rows per round trip of the server-side cursor
BATCH_SIZE = 1000  # outbox rows per INSERT


class ExportError(Exception):
    """Bad input (message: one line); nothing was written."""


class Range(NamedTuple):
    heb_pk: int
    cgt: str
    start: datetime.date
    end: datetime.date  # included
    type: str  # loue | indisp


def _day(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def merge_ranges(rows):
    """Merge ``(heb_pk, cgt, day, type)`` rows into ranges.

    ``rows`` must be ordered by cottage then day (``ORDER BY heb_fk,
    res_date``); ``day`` is a date or a datetime at midnight.  Consecutive
    days of the same cottage and type make one range.  Yields
    :class:`Range` named tuples ``(heb_pk, cgt, start, end, type)``
    (end included), in the rows' order.  Rows out of order, or two
    rows for one cottage and day, raise ValueError: silently merging them
    was the legacy bug.
    """
    current = None
    for heb_pk, cgt, day, res_type in rows:
        day = _day(day)
        if current is not None:
            if heb_pk == current.heb_pk:
                if day <= current.end:
                    raise ValueError(
                        f"rows not ordered by cottage and day: cottage {heb_pk},"
                        f" {day.isoformat()} after {current.end.isoformat()}"
                    )
                if res_type == current.type and (day - current.end).days == 1:
                    current = current._replace(end=day)
                    continue
            elif heb_pk < current.heb_pk:
                raise ValueError(f"rows not ordered by cottage: {heb_pk} after {current.heb_pk}")
            yield current
        current = Range(heb_pk, cgt, day, day, res_type)
    if current is not None:
        yield current


def future_rows_query(today, heb_pk=None):
    """Reservations from ``today`` on, of cottages with a CGT code, ordered."""
    query = (
        select(
            Reservation.heb_fk, Hebergement.heb_code_cgt, Reservation.res_date, Reservation.res_type
        )
        .join(Hebergement, Hebergement.heb_pk == Reservation.heb_fk)
        .where(
            Reservation.res_date >= midnight(today),
            Hebergement.heb_code_cgt.is_not(None),
            Hebergement.heb_code_cgt != "",
        )
        .order_by(Reservation.heb_fk, Reservation.res_date)
    )
    if heb_pk is not None:
        query = query.where(Reservation.heb_fk == heb_pk)
    return query


def future_ranges(session, today, heb_pk=None, fetch_size=FETCH_SIZE):
    """The merged ranges, streamed from the database (see module docstring)."""
    result = session.execute(
        future_rows_query(today, heb_pk).execution_options(yield_per=fetch_size)
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
                f"{item.heb_pk}\t{item.cgt}\t{item.start.isoformat()}\t{item.end.isoformat()}"
                f"\t{item.type}"
            )
        if dry_run:
            continue
        batch.append(
            {
                "created_at": now,
                "heb_pk": item.heb_pk,
                "cgt_id": item.cgt,
                "start_date": item.start,
                "end_date": item.end,
                "selection_type": item.type,
                "attempts": 0,
            }
        )
        if len(batch) >= batch_size:
            session.execute(insert(OutboxMessage), batch)
            batch = []
    if batch:
        session.execute(insert(OutboxMessage), batch)
    return report
