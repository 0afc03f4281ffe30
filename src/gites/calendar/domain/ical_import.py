"""Importing owners' iCal feeds into their cottages (issue 13).

A feed (:class:`~gites.calendar.db.models.IcalFeed`) is fetched safely
(:mod:`gites.calendar.domain.ical_fetch`), read into nights
(:mod:`gites.calendar.domain.ical_nights`), then reconciled with the cottage's
calendar under the cottage lock:

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

import concurrent.futures
import dataclasses
import datetime

from sqlalchemy import bindparam, delete, insert, select, text
from zope.i18nmessageid import Message

from gites.calendar import _, logger
from gites.calendar.db.locks import lock_cottage
from gites.calendar.db.models import (
    INDISP,
    LIBRE,
    LOUE,
    Hebergement,
    IcalFeed,
    IcalNight,
    Reservation,
)
from gites.calendar.domain import history, ical_fetch, ical_nights
from gites.calendar.domain.reservations import RangeChange, apply_owner_changes, midnight
from gites.calendar.logsafe import one_line

DEFAULT_EVERY = datetime.timedelta(minutes=10)
DEFAULT_WORKERS = 32
DB_WRITERS = 4
FLAG_AFTER = datetime.timedelta(hours=24)
MISSING_TO_FREE = 2
MAX_FEEDS_PER_COTTAGE = 10
OWNED = "owned"
OTHER = "other"  # somebody else's night, of the feed's type: nothing to do
CONFLICT = "conflict"
TYPES = (LOUE, INDISP)
NOT_A_CALENDAR = "not_a_calendar"

# What the owner reads for each failure (plain words, translated by the page).
ERROR_TEXTS = {
    ical_fetch.BAD_URL: _("ical_error_bad_url", default="Cette adresse n'est pas acceptée."),
    ical_fetch.FORBIDDEN_ADDRESS: _(
        "ical_error_forbidden", default="Cette adresse mène à un réseau privé : refusée."
    ),
    ical_fetch.UNREACHABLE: _("ical_error_unreachable", default="Adresse injoignable."),
    ical_fetch.TIMEOUT: _(
        "ical_error_timeout", default="Le serveur n'a pas répondu à temps (15 secondes)."
    ),
    ical_fetch.HTTP_STATUS: _(
        "ical_error_http", default="Le serveur a répondu par une erreur (${status})."
    ),
    ical_fetch.TOO_LARGE: _(
        "ical_error_too_large", default="Calendrier trop volumineux (2 Mo au plus)."
    ),
    ical_fetch.TOO_MANY_REDIRECTS: _(
        "ical_error_redirects", default="Trop de redirections (5 au plus)."
    ),
    NOT_A_CALENDAR: _(
        "ical_error_not_calendar", default="Cette adresse ne donne pas un calendrier iCal."
    ),
}


class FeedError(ValueError):
    """A feed cannot be added or changed (``message``: translatable)."""

    def __init__(self, message):
        super().__init__(str(getattr(message, "default", message)))
        self.message = message


def error_text(feed):
    """The owner's message for the feed's last error (translatable), or None."""
    if not feed.last_error_code:
        return None
    text = ERROR_TEXTS.get(feed.last_error_code, ERROR_TEXTS[ical_fetch.UNREACHABLE])
    if feed.last_error_code == ical_fetch.HTTP_STATUS:
        status = (feed.last_error or "").split("HTTP ")[-1].split(" ")[0] or "?"
        text = Message(text, mapping={"status": status})
    return text


def is_flagged(feed, now):
    """Failing for 24 h or more."""
    return feed.failing_since is not None and now - feed.failing_since >= FLAG_AFTER


# -- feeds ------------------------------------------------------------------


def add_feed(session, heb_pk, url, now, name=None, type_override=None, created_by=None):
    """Add a feed to a cottage; :class:`FeedError` if refused."""
    try:
        url = ical_fetch.normalize_url(url)
    except ical_fetch.FetchError:
        raise FeedError(ERROR_TEXTS[ical_fetch.BAD_URL]) from None
    if len(url) > 2000:
        raise FeedError(ERROR_TEXTS[ical_fetch.BAD_URL])
    if type_override not in (None, "", *TYPES):
        raise FeedError(_("ical_bad_type", default="Le type doit être loue ou indisp."))
    if session.get(Hebergement, heb_pk) is None:
        raise FeedError(_("ical_unknown_cottage", default="Hébergement inconnu."))
    feeds = feeds_of(session, heb_pk)
    if any(feed.url == url for feed in feeds):
        raise FeedError(_("ical_duplicate", default="Ce calendrier est déjà importé."))
    if len(feeds) >= MAX_FEEDS_PER_COTTAGE:
        raise FeedError(_("ical_too_many", default="Dix calendriers au plus par hébergement."))
    feed = IcalFeed(
        heb_pk=heb_pk,
        url=url,
        name=(name or "").strip()[:100] or None,
        type_override=type_override or None,
        paused=False,
        created_at=now,
        created_by=created_by,
    )
    session.add(feed)
    session.flush()
    return feed


def feeds_of(session, heb_pk=None):
    query = select(IcalFeed).order_by(IcalFeed.heb_pk, IcalFeed.id)
    if heb_pk is not None:
        query = query.where(IcalFeed.heb_pk == heb_pk)
    return list(session.scalars(query))


def feed_names(session, heb_pk):
    """{feed id as text: name} of the cottage's named feeds (the actor of
    their changes in the history is the feed id)."""
    rows = session.execute(
        select(IcalFeed.id, IcalFeed.name).where(
            IcalFeed.heb_pk == heb_pk, IcalFeed.name.is_not(None)
        )
    )
    return {str(feed_id): name for feed_id, name in rows}


def remove_feed(session, feed_id):
    """Forget a feed and its claims; the nights it set stay as they are
    (they are bookings: the owner frees them if he wants).  True if found."""
    feed = session.get(IcalFeed, feed_id)
    if feed is None:
        return False
    session.execute(delete(IcalNight).where(IcalNight.feed_id == feed_id))
    session.delete(feed)
    session.flush()
    return True


def blocked_nights(session, feed_id, today):
    """[(night, type)] the feed currently blocks (owns), from today."""
    return list(
        session.execute(
            select(IcalNight.night, IcalNight.res_type)
            .where(
                IcalNight.feed_id == feed_id,
                IcalNight.state == OWNED,
                IcalNight.night >= today,
            )
            .order_by(IcalNight.night)
        )
    )


# -- one feed ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FeedJob:
    """What a worker needs to fetch one feed (no ORM object crosses threads)."""

    feed_id: int
    heb_pk: int
    url: str
    etag: str | None
    last_modified: str | None
    type_override: str | None


@dataclasses.dataclass
class Outcome:
    job: FeedJob
    status: int | None = None  # 200, 304, or None (failed)
    nights: dict | None = None
    skipped: int = 0
    etag: str | None = None
    last_modified: str | None = None
    error_code: str | None = None
    error: str | None = None


def job_of(feed):
    return FeedJob(
        feed.id, feed.heb_pk, feed.url, feed.etag, feed.last_modified, feed.type_override
    )


def fetch_and_read(job, today, fetch=ical_fetch.fetch):
    """Fetch and parse one feed; never raises (the outcome says what failed)."""
    outcome = Outcome(job)
    try:
        result = fetch(job.url, etag=job.etag, last_modified=job.last_modified)
        outcome.status = result.status
        outcome.etag = result.etag
        outcome.last_modified = result.last_modified
        if not result.not_modified:
            read = ical_nights.feed_nights(result.body, today, override=job.type_override)
            outcome.nights = read.nights
            outcome.skipped = read.skipped
    except ical_fetch.FetchError as error:
        outcome.status, outcome.error_code, outcome.error = None, error.code, str(error)
    except ical_nights.NotACalendar as error:
        outcome.status, outcome.error_code, outcome.error = None, NOT_A_CALENDAR, str(error)
    except Exception as error:  # a parser bug must not stop the other feeds
        logger.exception("iCal feed %s: unexpected error", job.feed_id)
        outcome.status, outcome.error_code = None, ical_fetch.UNREACHABLE
        outcome.error = f"{type(error).__name__}: {error}"
    return outcome


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


def record(session, outcome, now):
    """Apply one fetch outcome to its feed (in the caller's transaction).

    Returns :class:`Applied` (None for a failure or a feed gone meanwhile).
    """
    feed = session.get(IcalFeed, outcome.job.feed_id)
    if feed is None or feed.url != outcome.job.url:
        return None  # removed or edited while fetching
    feed.last_fetch_at = now
    if outcome.status is None:
        feed.last_error_code = outcome.error_code
        feed.last_error = one_line(outcome.error or "")[:500]
        feed.failing_since = feed.failing_since or now
        logger.info("iCal feed %s of %s: %s", feed.id, feed.heb_pk, one_line(outcome.error or ""))
        return None
    feed.last_success_at = now
    feed.last_error_code = feed.last_error = feed.failing_since = None
    if outcome.status == 304:
        return Applied(conflicts=feed.conflicts or 0, blocked=feed.nights_blocked or 0)
    applied = reconcile(session, feed, outcome.nights, now)
    feed.etag, feed.last_modified = outcome.etag, outcome.last_modified
    feed.nights_blocked, feed.conflicts = applied.blocked, applied.conflicts
    feed.skipped_events = outcome.skipped
    return applied


# -- runs -------------------------------------------------------------------


@dataclasses.dataclass
class Report:
    feeds: int = 0
    changed: int = 0
    not_modified: int = 0
    failed: int = 0
    nights_set: int = 0
    nights_freed: int = 0
    conflicts: int = 0

    def summary(self):
        return (
            f"{self.feeds} feeds: {self.changed} read, {self.not_modified} unchanged (304),"
            f" {self.failed} failed; {self.nights_set} nights set, {self.nights_freed} freed,"
            f" {self.conflicts} conflicts"
        )

    def add(self, outcome, applied):
        self.feeds += 1
        if outcome.status is None:
            self.failed += 1
        elif outcome.status == 304:
            self.not_modified += 1
        else:
            self.changed += 1
        if applied is not None:
            self.nights_set += applied.set
            self.nights_freed += applied.freed
            self.conflicts += applied.conflicts


def due_jobs(session, now, every=DEFAULT_EVERY, heb_pk=None):
    """The feeds to fetch: not paused, and (with ``heb_pk``: all of the
    cottage's) last fetched ``every`` ago or never."""
    query = select(IcalFeed).where(IcalFeed.paused.is_(False)).order_by(IcalFeed.id)
    if heb_pk is not None:
        query = query.where(IcalFeed.heb_pk == heb_pk)
    else:
        query = query.where(
            (IcalFeed.last_fetch_at.is_(None)) | (IcalFeed.last_fetch_at <= now - every)
        )
    return [job_of(feed) for feed in session.scalars(query)]


def _record_alone(session_scope, outcome, now):
    with session_scope() as session:
        return outcome, record(session, outcome, now)


def run(
    jobs, session_scope, now, workers=DEFAULT_WORKERS, fetch=ical_fetch.fetch, writers=DB_WRITERS
):
    """Fetch ``jobs`` with a pool of ``workers`` threads; record each outcome
    in its own transaction (``session_scope()``) as it arrives, in a second
    pool of ``writers`` threads (each feed is one cottage: writers of
    different cottages do not wait for one another; the engine's pool holds
    5 connections).  Returns a :class:`Report`.
    """
    report = Report()
    today = now.date()
    with session_scope() as session:
        if session.get_bind().dialect.name != "postgresql":
            writers = 1  # SQLite (development): one writer at a time anyway
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
        concurrent.futures.ThreadPoolExecutor(max_workers=max(1, writers)) as db_pool,
    ):
        fetched = [pool.submit(fetch_and_read, job, today, fetch) for job in jobs]
        written = [
            db_pool.submit(_record_alone, session_scope, future.result(), now)
            for future in concurrent.futures.as_completed(fetched)
        ]
        for future in written:
            report.add(*future.result())
    return report


def run_in_session(session, jobs, now, workers=8, fetch=ical_fetch.fetch):
    """Like :func:`run`, all in the caller's session (the page's button)."""
    report = Report()
    today = now.date()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        outcomes = list(pool.map(lambda job: fetch_and_read(job, today, fetch), jobs))
    for outcome in outcomes:
        report.add(outcome, record(session, outcome, now))
    return report
