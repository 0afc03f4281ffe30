"""The part of recording nights in the change log that needs no database
(:mod:`gites.calendar.domain.history`): which days of a write really
change, grouped per writer, and the runs of consecutive days they are
stored as.
"""

import datetime

from gites.calendar.db.models import LIBRE

# A run of nights stored in one row covers at most this many days, so that
# the read of [first, last] looks at the runs starting in
# [first - MAX_RUN + 1, last] only (a range of the primary key).
MAX_RUN = 31


def day_runs(day_list):
    """[(first, last)] of the sorted ``day_list``: consecutive days, at most
    :data:`MAX_RUN` per run."""
    runs = []
    for day in day_list:
        if runs and runs[-1][1] + ONE_DAY == day and (day - runs[-1][0]).days < MAX_RUN:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [tuple(run) for run in runs]


ONE_DAY = datetime.timedelta(days=1)


def group_days(changes, origins, current):
    """The groups of a write: [(heb_pk, Origin, new_type, first, last,
    [changed days])], one per (cottage, origin, type) that changes a day.

    ``changes``: {(heb_pk, day): type}; ``origins``: {(heb_pk, day):
    Origin}; ``current``: {(heb_pk, day): type} of the busy days before
    the write.  Groups come in cottage order, then in the order their
    origin first appears in ``origins`` (a batch's order of application).
    """
    rank = {}
    for value in origins.values():
        rank.setdefault(value, len(rank))
    groups = {}
    for key in sorted(changes):
        heb_pk, day = key
        new_type = changes[key]
        who = origins[key]
        group = groups.setdefault((heb_pk, rank.get(who, 0), who, new_type), [day, day, []])
        group[0], group[1] = min(group[0], day), max(group[1], day)
        if current.get(key, LIBRE) != new_type:
            group[2].append(day)
    return [
        (heb_pk, who, new_type, first, last, changed)
        for (heb_pk, _rank, who, new_type), (first, last, changed) in sorted(
            groups.items(), key=lambda item: (item[0][0], item[0][1], item[1][0])
        )
        if changed
    ]
