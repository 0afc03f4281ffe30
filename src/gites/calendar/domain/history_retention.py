"""Retention of the change log (issue 12): old changes are pruned by
checkCalendarActivity (:func:`gites.calendar.domain.activity.prune_history`),
one batch per transaction.

A change older than the cut-off goes when it explains no night any more:
its nights before the cut-off are forgotten, and so are those a later
change covers.  A change that still explains a later night is kept, its
runs trimmed to start at the cut-off.  The tables are
:mod:`gites.calendar.domain.history`'s.

A batch is a fixed number of statements whatever its size: the batch's
changes, every run over their ranges (one read), then at most one DELETE
of runs, one UPDATE of runs and one DELETE of changes.  Which runs go is
decided here from that one read.
"""

import bisect
import datetime

from sqlalchemy import and_, bindparam, delete, func, select, tuple_, update

from gites.calendar.db.models import CalendarChange, NightSource
from gites.calendar.domain.night_plan import MAX_RUN

# Rows older than this are pruned (settings ``GITES_HISTORY_KEEP_DAYS``).
DEFAULT_KEEP_DAYS = 730
PRUNE_BATCH = 1000

_CHANGE = CalendarChange.__table__
_NIGHT = NightSource.__table__
_RUN_KEY = tuple_(_NIGHT.c.heb_pk, _NIGHT.c.first_day, _NIGHT.c.change_id)
_LONGEST = datetime.timedelta(days=MAX_RUN - 1)


def prune_batch(session, before, after_id=0, batch=PRUNE_BATCH):
    """Delete one batch of changes made before ``before`` (a datetime).

    Looks at the ``batch`` oldest such changes with an id above
    ``after_id``: forgets their nights that are before ``before``, and those
    a later change covers, then deletes the changes that explain no night
    any more (a change that still explains a later night is kept).
    Returns (deleted, last id seen, or None when there is nothing left to
    look at).

    A change's runs lie in its own cottage and range, so they are found on
    the primary key of the runs (heb_pk, first_day, change_id): the table
    needs no index on ``change_id``, which every write would pay for.
    """
    rows = session.execute(
        select(_CHANGE.c.id, _CHANGE.c.heb_pk, _CHANGE.c.first_day, _CHANGE.c.last_day)
        .where(_CHANGE.c.changed_at < before, _CHANGE.c.id > after_id)
        .order_by(_CHANGE.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0, None
    cutoff = before.date()
    runs = _runs_over(session, after_id, rows[-1][0], before)
    forget, trim, still_used = _sort_runs(runs, rows, cutoff)
    if forget:
        session.execute(delete(_NIGHT).where(_RUN_KEY.in_(forget)))
    if trim:  # the days before the cut-off are forgotten, the rest of the run stays
        session.execute(update(_NIGHT).where(_RUN_KEY.in_(trim)).values(first_day=cutoff))
    ids = [row[0] for row in rows]
    gone = [change_id for change_id in ids if change_id not in still_used]
    deleted = 0
    if gone:
        deleted = session.execute(delete(_CHANGE).where(_CHANGE.c.id.in_(gone))).rowcount
    return deleted, ids[-1]


def _runs_over(session, after_id, last_id, before):
    """{heb_pk: [(first, last, change_id)] by first day}: the runs of the
    batch's changes and every later run over their ranges, in one read of
    fixed text (a range of the runs' primary key per change)."""
    runs = {}
    params = {"after": after_id, "last": last_id, "before": before}
    statement = _RUNS_OVER[session.get_bind().dialect.name == "sqlite"]
    for heb_pk, lo, hi, change_id in session.execute(statement, params):
        runs.setdefault(heb_pk, []).append((lo, hi, change_id))
    for heb_runs in runs.values():
        heb_runs.sort()
    return runs


def _runs_over_statement(lowest):
    """The read of :func:`_runs_over`; ``lowest``: the first day a run over
    a change's range may start on (its first day - MAX_RUN + 1), in the
    dialect's date arithmetic."""
    return (
        select(_NIGHT.c.heb_pk, _NIGHT.c.first_day, _NIGHT.c.last_day, _NIGHT.c.change_id)
        .distinct()
        .select_from(_CHANGE)
        .join(
            _NIGHT,
            and_(
                _NIGHT.c.heb_pk == _CHANGE.c.heb_pk,
                _NIGHT.c.first_day >= lowest,
                _NIGHT.c.first_day <= _CHANGE.c.last_day,
                _NIGHT.c.last_day >= _CHANGE.c.first_day,
                _NIGHT.c.change_id >= _CHANGE.c.id,
            ),
        )
        .where(
            # the batch: its ids are the lowest above ``after`` of the old changes
            _CHANGE.c.id > bindparam("after"),
            _CHANGE.c.id <= bindparam("last"),
            _CHANGE.c.changed_at < bindparam("before"),
            _CHANGE.c.first_day.is_not(None),  # a state change has no nights
        )
    )


# Indexed by "is SQLite": date - integer elsewhere (PostgreSQL); SQLite keeps
# dates as text, shifted by its date() function.
_RUNS_OVER = [
    _runs_over_statement(_CHANGE.c.first_day - (MAX_RUN - 1)),
    _runs_over_statement(func.date(_CHANGE.c.first_day, f"-{MAX_RUN - 1} days")),
]


def _sort_runs(runs, rows, cutoff):
    """(runs to forget, runs to trim to ``cutoff``, ids of the changes that
    still explain a night) of the batch ``rows``; runs as their keys."""
    batch = {change_id for change_id, _heb, first, _last in rows if first is not None}
    forget, trim, still_used = [], [], set()
    for heb_pk, heb_runs in runs.items():
        starts = [lo for lo, _hi, _id in heb_runs]
        for lo, hi, change_id in heb_runs:
            if change_id not in batch:
                continue
            # the later runs that may cover a day of this one
            near = heb_runs[
                bisect.bisect_left(starts, lo - _LONGEST) : bisect.bisect_right(starts, hi)
            ]
            later = [(a, b) for a, b, other in near if other > change_id and b >= lo]
            key = (heb_pk, lo, change_id)
            if not _uncovered(max(lo, cutoff), hi, later):
                forget.append(key)
            else:
                still_used.add(change_id)
                if lo < cutoff:
                    trim.append(key)
    return forget, trim, still_used


def _uncovered(first, last, runs):
    """Whether a day of [first, last] is in none of ``runs`` [(lo, hi)]."""
    day = first
    while day <= last:
        if not any(lo <= day <= hi for lo, hi in runs):
            return True
        day += datetime.timedelta(days=1)
    return False
