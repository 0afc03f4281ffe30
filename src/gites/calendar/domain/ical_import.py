"""Importing owners' iCal feeds into their cottages (issue 13).

A feed (:class:`~gites.calendar.db.models.IcalFeed`, managed by
:mod:`gites.calendar.domain.ical_subscriptions`) is fetched safely
(:mod:`gites.calendar.domain.ical_fetch`), read into nights
(:mod:`gites.calendar.domain.ical_nights`), then reconciled with the cottage's
calendar (:mod:`gites.calendar.domain.ical_reconcile`), each outcome in its
own transaction.
"""

import concurrent.futures
import dataclasses
import datetime

from sqlalchemy import select

from gites.calendar import logger
from gites.calendar.db.models import IcalFeed
from gites.calendar.domain import ical_fetch, ical_nights
from gites.calendar.domain.ical_reconcile import Applied, reconcile
from gites.calendar.domain.ical_subscriptions import NOT_A_CALENDAR
from gites.calendar.logsafe import one_line

DEFAULT_EVERY = datetime.timedelta(minutes=10)
DEFAULT_WORKERS = 32
DB_WRITERS = 4


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


def record(session, outcome, now):
    """Apply one fetch outcome to its feed (in the caller's transaction).

    Returns :class:`~gites.calendar.domain.ical_reconcile.Applied` (None for a
    failure or a feed gone meanwhile).
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
