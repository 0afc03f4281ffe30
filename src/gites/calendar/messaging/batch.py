"""Applying a batch of decoded hub messages: the fast and the savepoint paths.

No broker here (the items only carry their message along), so this is
tested with plain objects.  :meth:`BatchApplier.apply` gives every item of
``work`` an ``outcome`` (a handler constant) or a ``reason`` to park it,
and raises only for a database that is unreachable: then nothing was
committed and the caller keeps the batch for later.

Fast path: the whole batch in one transaction without savepoints.  If it
fails for any other reason (a constraint, a bug, a value the handler cannot
digest), it is rolled back and the batch is applied again one SAVEPOINT per
message, so the culprit is isolated and the others are committed.  A
message the database refuses is retried ``max_refusals`` times, then parked;
one that makes the code itself fail (not the database) is parked at once:
trying again would fail again.
"""

import dataclasses
import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar.db import session as db
from gites.calendar.domain.reservations import InvalidRange
from gites.calendar.messaging import topology
from gites.calendar.messaging.handler import UNKNOWN_COTTAGE, apply_hub_batch
from gites.calendar.messaging.retry import is_unreachable, one_line

PARKED = "parked"


@dataclasses.dataclass
class Pending:
    message: object  # kombu Message (or anything: only the consumer looks)
    booking: object = None  # codec HubBooking, None when invalid
    reason: str | None = None  # why it is parked
    outcome: str | None = None
    refusals: int = 0
    millis: float = 0.0


class BatchApplier:
    def __init__(self, log, max_refusals):
        self.log = log  # log(level, msg, *args), masking secrets
        self.max_refusals = max_refusals

    def apply(self, work, now):
        """Set the outcome or the reason of each item of ``work``.

        Raises SQLAlchemyError when the database is unreachable (outcomes
        reset: nothing was committed)."""
        if not work:
            return
        try:
            self.apply_fast(work, now)
        except Exception as error:
            if is_unreachable(error):
                raise
            if isinstance(error, SQLAlchemyError):
                what = "database refused a batch of %d message(s) (%s)"
            else:
                what = "applying a batch of %d message(s) failed (%s)"
            self.log(
                logging.WARNING, what + "; applying them one by one", len(work), one_line(error)
            )
            self.apply_one_by_one(work, now)

    def apply_fast(self, work, now):
        """Every message in one transaction, no savepoints; on any error the
        transaction is rolled back, outcomes reset, and the error propagates."""
        started = time.perf_counter()
        jumps = []
        try:
            with db.session_scope() as session:
                outcomes = apply_hub_batch(session, [item.booking for item in work], now, jumps)
        except BaseException:
            for item in work:
                item.outcome = None
            raise
        self.log_jumps(jumps)
        share = (time.perf_counter() - started) * 1000 / len(work)
        for item, outcome in zip(work, outcomes, strict=True):
            item.outcome = outcome
            item.millis += share

    def apply_one_by_one(self, work, now):
        """One SAVEPOINT per message, a failing one alone."""
        try:
            with db.session_scope() as session:
                for item in work:
                    if item.reason is None:
                        self._apply(session, item, now)
        except BaseException:
            for item in work:
                item.outcome = None
            raise

    def log_jumps(self, jumps):
        for booking, before in jumps:
            self.log(
                logging.ERROR,
                "hub %s notf %d is far above the highest applied for this cottage (%d):"
                " if it is a stray message, every later real notification of %s..%s"
                " will be superseded; clear it with: hubGuard clear %s --above %d --yes",
                booking.cgt_id,
                booking.notf_id,
                before,
                booking.start.isoformat(),
                booking.end.isoformat(),
                booking.cgt_id,
                before,
            )

    def _apply(self, session, item, now):
        started = time.perf_counter()
        jumps = []
        try:
            with session.begin_nested():
                item.outcome = apply_hub_batch(session, [item.booking], now, jumps)[0]
            self.log_jumps(jumps)
        except SQLAlchemyError as error:
            if is_unreachable(error):
                raise  # the whole batch waits for the database
            item.refusals += 1
            self.log(
                logging.ERROR,
                "hub %s notf %s refused by the database (%d/%d): %s",
                item.booking.cgt_id,
                item.booking.notf_id,
                item.refusals,
                self.max_refusals,
                one_line(error),
            )
            if item.refusals >= self.max_refusals:
                item.reason = f"refused by the database {item.refusals} times: {one_line(error)}"
        except Exception as error:  # the one rule: whatever fails parks this message only
            foreseen = isinstance(error, InvalidRange)
            item.reason = str(error) if foreseen else f"not applied: {one_line(error)}"
        item.millis += (time.perf_counter() - started) * 1000


def log_outcome(log, item):
    """One log line for a message done with (applied, parked ...)."""
    booking = item.booking
    if item.outcome == PARKED:
        info = item.message.delivery_info or {}
        log(
            logging.WARNING,
            "hub message (routing key %r, content type %r) parked in %s: %s",
            info.get("routing_key"),
            item.message.content_type,
            topology.PARKING_QUEUE.name,
            item.reason,
        )
        return
    log(
        logging.WARNING if item.outcome == UNKNOWN_COTTAGE else logging.INFO,
        "hub %s %s..%s %s notf %d: %s (%.1f ms)",
        booking.cgt_id,
        booking.start.isoformat(),
        booking.end.isoformat(),
        booking.res_type,
        booking.notf_id,
        item.outcome,
        item.millis,
    )
