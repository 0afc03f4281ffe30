"""Reconciling a cottage's calendar with the nights of one of its iCal feeds (issue 13).

A feed's nights (read by :mod:`gites.calendar.domain.ical_import`) are
reconciled with the cottage's calendar under the cottage lock:

* a feed **owns** the nights it set (``gites_calendar_ical_night``, state
  ``owned``, with the time it wrote them);
* a night the feed lists that is free gets the feed's type; one it owns and
  nobody changed since follows the feed's type;
* a night set by somebody else (the owner, the hub, another feed) is never
  overwritten: to another type it is a **conflict**, counted and shown;
* a night the feed no longer lists is freed only after two successful
  fetches in a row without it (Airbnb re-issues UIDs when a block is
  shortened, so nights, not UIDs, are compared), and only if the feed still
  owns it and nobody changed it since;
* past nights are never changed.

"Nobody changed it since": the change history
(:func:`gites.calendar.domain.history.night_sources`) says the last change of the
night is this feed's (source ``ical``, actor the feed id), *and* the
reservation row still has the type and the ``res_date_cre`` the feed wrote
(a writer outside this package, such as the legacy application, leaves no
history but replaces the row).

Changes go through :func:`gites.calendar.domain.reservations.apply_owner_changes`
(what the owner pages' ``apply_owner_change`` does, for several ranges:
cottage lock, modification date, the one write path ``write_days``
recording the change as ``Origin("ical", feed id)``, one outbox row per run
of consecutive nights of one type for the hub), once per fetch.
"""

import dataclasses
import datetime

from sqlalchemy import bindparam, delete, insert, select, text

from gites.calendar.db.locks import lock_cottage
from gites.calendar.db.models import LIBRE, Hebergement, IcalNight, Reservation
from gites.calendar.domain import history
from gites.calendar.domain.reservations import RangeChange, apply_owner_changes, midnight

MISSING_TO_FREE = 2
# The states of a feed's claim on a night.
OWNED = "owned"
OTHER = "other"  # somebody else's night, of the feed's type: nothing to do
CONFLICT = "conflict"


def _current(session, heb_pk, days):
    """{day: (res_type, res_date_cre)} of the cottage's busy days among ``days``."""
    if not days:
        return {}
    rows = session.execute(
        select(Reservation.res_date, Reservation.res_type, Reservation.res_date_cre).where(
            Reservation.heb_fk == heb_pk,
            Reservation.res_date >= midnight(min(days)),
            Reservation.res_date <= midnight(max(days)),
        )
    )
    return {res_date.date(): (res_type, created) for res_date, res_type, created in rows}


def _untouched(claim, current, source):
    """The night still holds what the feed wrote (nobody changed it since):
    its last recorded change is this feed's and the row is the one it wrote."""
    return (
        claim.state == OWNED
        and claim.set_at is not None
        and current is not None
        and current == (claim.res_type, claim.set_at)
        and source is not None
        and source.source == history.ICAL
        and source.actor == str(claim.feed_id)
    )


def runs_of(changes):
    """[(first, last, type)] of ``{day: type}``: consecutive days of one type."""
    runs = []
    for day in sorted(changes):
        kind = changes[day]
        if runs and runs[-1][2] == kind and runs[-1][1] + datetime.timedelta(1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day, kind])
    return [tuple(run) for run in runs]


@dataclasses.dataclass
class Applied:
    set: int = 0
    freed: int = 0
    conflicts: int = 0
    blocked: int = 0


@dataclasses.dataclass
class _Claim:
    """A row of ``gites_calendar_ical_night`` read with Core (no ORM object:
    a feed has ~150 of them, and their unit of work was a third of a feed's
    database time)."""

    feed_id: int
    night: datetime.date
    res_type: str | None = None
    state: str | None = None
    set_at: datetime.datetime | None = None
    missing: int = 0

    def values(self):
        return (self.res_type, self.state, self.set_at, self.missing)


_CLAIMS = IcalNight.__table__
_READ_CLAIMS = select(
    _CLAIMS.c.night, _CLAIMS.c.res_type, _CLAIMS.c.state, _CLAIMS.c.set_at, _CLAIMS.c.missing
).where(_CLAIMS.c.feed_id == bindparam("feed_id"))
_DELETE_CLAIMS = delete(_CLAIMS).where(
    _CLAIMS.c.feed_id == bindparam("feed_id"),
    _CLAIMS.c.night.in_(bindparam("nights", expanding=True)),
)


def reconcile(session, feed, wanted, now):
    """Bring the cottage in line with the feed's ``wanted`` {night: type}.

    In the caller's transaction; locks the cottage first (once: the write
    of the nights is told so).  The claims are read and written with Core:
    one DELETE of the claims that go or change, one INSERT of the new and
    changed ones.  Returns :class:`Applied`.
    """
    today = now.date()
    heb = session.get(Hebergement, feed.heb_pk)
    if heb is None or not lock_cottage(session, heb.heb_pk):
        return Applied()
    wanted = {day: kind for day, kind in wanted.items() if day >= today}
    claims = {
        night: _Claim(feed.id, night, res_type, state, set_at, missing or 0)
        for night, res_type, state, set_at, missing in session.execute(
            _READ_CLAIMS, {"feed_id": feed.id}
        )
    }
    before = {night: claim.values() for night, claim in claims.items()}
    for day in [d for d in claims if d < today]:  # past: forget, never change
        del claims[day]
    every_day = set(wanted) | set(claims)
    current = _current(session, heb.heb_pk, every_day)
    sources = (
        history.night_sources(session, heb.heb_pk, min(every_day), max(every_day))
        if every_day
        else {}
    )
    changes = {}
    for day, kind in wanted.items():
        claim = claims.get(day)
        there = current.get(day)
        if claim is not None and _untouched(claim, there, sources.get(day)):
            if kind != claim.res_type:
                changes[day] = kind
                claim.set_at = now  # stamps set before the write: no UPDATE after it
            claim.res_type, claim.missing = kind, 0
            continue
        state_before = claim.state if claim is not None else None
        if claim is None:
            claim = claims[day] = _Claim(feed.id, day)
        claim.res_type, claim.missing, claim.set_at = kind, 0, None
        if there is not None:
            claim.state = OTHER if there[0] == kind else CONFLICT
        elif state_before in (OWNED, CONFLICT):
            # Somebody freed a night the feed had set or that was contested:
            # his decision stands.
            claim.state = CONFLICT
        else:
            claim.state, claim.set_at = OWNED, now
            changes[day] = kind
    for day, claim in list(claims.items()):
        if day in wanted:
            continue
        claim.missing = (claim.missing or 0) + 1
        if claim.missing < MISSING_TO_FREE and claim.state == OWNED:
            continue
        if _untouched(claim, current.get(day), sources.get(day)):
            changes[day] = LIBRE
        del claims[day]
    _write_claims(session, feed.id, heb.heb_pk, before, claims)
    applied = Applied()
    if changes:
        apply_owner_changes(
            session,
            heb,
            [RangeChange(heb.heb_pk, *run) for run in runs_of(changes)],
            heb.heb_pro_fk,
            now,
            history.Origin(history.ICAL, feed.id),
            locked=True,
            core_outbox=True,
        )
    applied.freed = sum(1 for kind in changes.values() if kind == LIBRE)
    applied.set = len(changes) - applied.freed
    applied.conflicts = sum(1 for c in claims.values() if c.state == CONFLICT)
    applied.blocked = sum(1 for c in claims.values() if c.state == OWNED)
    return applied


def _write_claims(session, feed_id, heb_pk, before, claims):
    """Claims ``before`` {night: values} -> ``claims`` {night: _Claim}: the
    rows that go or change are deleted, the new and changed ones inserted."""
    stale = [
        night
        for night, values in before.items()
        if night not in claims or claims[night].values() != values
    ]
    fresh = [
        {
            "feed_id": feed_id,
            "night": night,
            "heb_pk": heb_pk,
            "res_type": claim.res_type,
            "state": claim.state,
            "set_at": claim.set_at,
            "missing": claim.missing,
        }
        for night, claim in sorted(claims.items())
        if before.get(night) != claim.values()
    ]
    if stale:
        session.execute(_DELETE_CLAIMS, {"feed_id": feed_id, "nights": sorted(stale)})
    if fresh and session.get_bind().dialect.name == "postgresql":
        session.execute(
            _INSERT_CLAIMS_PG,
            {
                "feed": feed_id,
                "heb": heb_pk,
                **{name: [row[name] for row in fresh] for name in _CLAIM_ARRAYS},
            },
        )
    elif fresh:
        session.execute(insert(_CLAIMS), fresh)


_CLAIM_ARRAYS = ("night", "res_type", "state", "set_at", "missing")
# PostgreSQL: one statement of fixed text (arrays) for any number of claims.
_INSERT_CLAIMS_PG = text(
    "INSERT INTO gites_calendar_ical_night (feed_id, night, heb_pk, res_type, state,"
    " set_at, missing) SELECT CAST(:feed AS bigint), n, CAST(:heb AS integer), t, s, a, m"
    " FROM unnest(CAST(:night AS date[]), CAST(:res_type AS varchar[]),"
    " CAST(:state AS varchar[]), CAST(:set_at AS timestamp[]), CAST(:missing AS integer[]))"
    " AS v(n, t, s, a, m)"
)
