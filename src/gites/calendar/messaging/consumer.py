"""The hub -> site consumer: a reconnecting loop around a pure handler.

Why not ``kombu.mixins.ConsumerMixin``: its loop is the model here (drain
with a timeout, heartbeat check, ``should_stop`` seen within a second), but
the daemon also needs to hold messages unacknowledged while the database is
down (draining on, so heartbeats keep flowing), to apply them in batches and
to sleep between reconnections in steps short enough for SIGTERM.  Those
are easier to get right in one explicit loop than through the mixin's hooks.

One pass:

1. ``_receive`` (kombu ``on_message``: the body is *not* decoded by kombu)
   decodes with :func:`gites.calendar.messaging.codec.decode_hub_message`
   and appends to ``pending``.  Nothing else happens in the callback,
   because callbacks may run while a publish waits for its confirm.
   A range the handler would refuse (``InvalidRange``) is detected here
   too, before any SQL: such a message is parked without touching a batch.
2. ``_flush`` runs when ``batch_size`` messages are pending or the oldest
   waited ``batch_wait`` seconds.  Fast path: the whole batch in one
   transaction *without* savepoints, commit, *then* ack (invalid messages
   are parked first, with a confirm; one ``basic_ack(multiple=True)`` when
   the batch is acked whole).  If the database refuses a message (an
   integrity error, a bug: not "unreachable"), that transaction is rolled
   back and the batch is applied again one SAVEPOINT per message, so the
   culprit is isolated and the others are committed and acked; the culprit
   is retried and parked after ``MAX_DB_REFUSALS`` refusals.
3. A database error rolls the batch back: the messages stay pending and
   unacknowledged, the loop keeps draining (heartbeats) and retries the
   batch after a backoff.  A broker error ends the connection: pending
   messages are dropped (the broker redelivers them), the loop reconnects
   with a backoff.  Redelivery is harmless: see handler.py.
"""

import dataclasses
import datetime
import logging
import time

from kombu import Consumer, Producer
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from gites.calendar import db, logsafe
from gites.calendar.config import mask_text, mask_url
from gites.calendar.messaging import topology
from gites.calendar.messaging.codec import InvalidMessage, decode_hub_message
from gites.calendar.messaging.handler import (
    UNKNOWN_COTTAGE,
    apply_hub_batch,
    apply_hub_booking,
    prune_hub_applied,
)
from gites.calendar.reservations import InvalidRange, check_range

logger = logging.getLogger("gites.calendar.daemon")

BATCH_SIZE = 100
BATCH_WAIT = 0.05  # seconds a message may wait for companions
SAFETY_INTERVAL = 1.0  # longest drain: how soon a stop request is seen when idle
PRUNE_INTERVAL = 3600.0
# A message the database refuses (not "database unreachable": a constraint,
# a bug) this many times in a row is parked rather than retried forever.
MAX_DB_REFUSALS = 5


class Backoff:
    """Exponential delays: first, 2*first, ... up to ``maximum``."""

    def __init__(self, first=1.0, maximum=30.0):
        self.first = first
        self.maximum = maximum
        self.reset()

    def reset(self):
        self._next = self.first

    def next(self):
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay


@dataclasses.dataclass
class Pending:
    message: object  # kombu Message
    booking: object = None  # codec HubBooking, None when invalid
    reason: str | None = None  # why it is parked
    outcome: str | None = None
    refusals: int = 0
    millis: float = 0.0


def one_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _is_unreachable(error):
    """A database error that says "try later", not "this message is bad"."""
    if isinstance(error, DBAPIError):
        # OperationalError also covers deadlocks and serialisation failures.
        return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))
    return False


class HubConsumer:
    """Consume ``booking.update.fromwalhebcalendar`` until :meth:`stop`."""

    def __init__(
        self,
        url,
        heartbeat=30,
        batch_size=BATCH_SIZE,
        prefetch_count=None,
        batch_wait=BATCH_WAIT,
        now=datetime.datetime.now,
        secrets=(),
    ):
        self.url = url
        self.heartbeat = heartbeat
        self.batch_size = max(1, batch_size)
        # Never fewer unacked messages in hand than a batch needs; by default
        # two batches, so the next one is already arriving while one commits.
        self.prefetch_count = max(prefetch_count or 2 * self.batch_size, self.batch_size)
        self.batch_wait = batch_wait
        self.now = now
        self.secrets = tuple(secrets)
        self.should_stop = False
        self.pending = []
        self._batch_started = None
        self._db_retry_at = None
        self._db_backoff = Backoff()
        self._broker_backoff = Backoff()
        self._next_prune = 0.0
        self._parking = None

    # -- control ---------------------------------------------------------

    def stop(self):
        """Ask the loop to stop after the message (batch) in hand."""
        self.should_stop = True

    def _log(self, level, msg, *args):
        text = msg % args if args else msg
        logger.log(level, "%s", logsafe.one_line(mask_text(text, self.secrets)))

    def _sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.should_stop and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    # -- the loop --------------------------------------------------------

    def run(self):
        """Consume, reconnecting for ever, until :meth:`stop` is called."""
        while not self.should_stop:
            connection = topology.make_connection(self.url, self.heartbeat, confirm=True)
            errors = (
                tuple(connection.connection_errors) + tuple(connection.channel_errors) + (OSError,)
            )
            try:
                connection.connect()
                self._consume(connection)
            except errors as error:
                self.pending = []  # unacked: the broker redelivers them
                self._batch_started = None
                if self.should_stop:
                    break
                delay = self._broker_backoff.next()
                self._log(
                    logging.WARNING,
                    "broker %s: %s; reconnecting in %.0f s",
                    mask_url(self.url),
                    one_line(error),
                    delay,
                )
                self._sleep(delay)
            finally:
                self._parking = None
                try:
                    connection.release()
                except Exception:  # a dead connection may fail to close: nothing to keep
                    logger.debug("closing the broker connection failed", exc_info=True)
        self._log(logging.INFO, "consumer stopped")

    def _consume(self, connection):
        channel = connection.channel()
        topology.declare_consumer_topology(channel)
        # Parked messages go out on their own channel: a confirm wait on the
        # consuming channel would interleave with deliveries.
        self._parking = Producer(connection.channel(), exchange=topology.PARKING_EXCHANGE)
        consumer = Consumer(
            channel,
            queues=[topology.HUB_QUEUE],
            on_message=self._receive,
            prefetch_count=self.prefetch_count,
            no_ack=False,
        )
        with consumer:
            self._log(
                logging.INFO,
                "consuming %s on %s (prefetch %d, batch %d)",
                topology.HUB_QUEUE.name,
                mask_url(self.url),
                self.prefetch_count,
                self.batch_size,
            )
            self._broker_backoff.reset()
            while not self.should_stop:
                self._housekeeping()
                try:
                    connection.drain_events(timeout=self._drain_timeout())
                except TimeoutError:
                    pass
                connection.heartbeat_check()
                if self._flush_due():
                    self._flush()

    def _drain_timeout(self):
        if not self.pending:
            return SAFETY_INTERVAL
        now = time.monotonic()
        due = self._db_retry_at or (self._batch_started + self.batch_wait)
        return min(SAFETY_INTERVAL, max(0.001, due - now))

    def _flush_due(self):
        if not self.pending:
            return False
        now = time.monotonic()
        if self._db_retry_at is not None:
            return now >= self._db_retry_at
        return len(self.pending) >= self.batch_size or now >= self._batch_started + self.batch_wait

    # -- messages --------------------------------------------------------

    def _receive(self, message):
        try:
            booking = decode_hub_message(message.body, message.content_type)
            check_range(booking.start, booking.end, booking.res_type)
            item = Pending(message, booking=booking)
        except (InvalidMessage, InvalidRange) as error:
            item = Pending(message, reason=str(error))
        if not self.pending:
            self._batch_started = time.monotonic()
        self.pending.append(item)

    def _flush(self):
        batch, self.pending = self.pending[: self.batch_size], self.pending[self.batch_size :]
        now = self.now()
        work = [item for item in batch if item.reason is None]
        try:
            if work:
                try:
                    self._apply_batch(work, now)
                except (SQLAlchemyError, InvalidRange) as error:
                    # InvalidRange cannot happen (ranges are checked on
                    # receipt); were it to, the slow path parks the culprit.
                    if _is_unreachable(error):
                        raise
                    self._log(
                        logging.WARNING,
                        "database refused a batch of %d message(s) (%s); applying them one by one",
                        len(work),
                        one_line(error),
                    )
                    self._apply_one_by_one(work, now)
        except SQLAlchemyError as error:
            for item in work:
                item.outcome = None
            self.pending = batch + self.pending
            delay = self._db_backoff.next()
            self._db_retry_at = time.monotonic() + delay
            self._log(
                logging.WARNING,
                "database: %s; %d message(s) kept unacknowledged, retrying in %.0f s",
                one_line(error),
                len(self.pending),
                delay,
            )
            return
        self._db_retry_at = None
        self._db_backoff.reset()
        retry, done = [], []
        for item in batch:
            if item.reason is not None:
                self._park(item)
            elif item.outcome is None:
                retry.append(item)
                continue
            done.append(item)
        self._ack(done, whole=not retry)
        for item in done:
            self._log_item(item)
        self.pending = retry + self.pending
        if retry:
            self._db_retry_at = time.monotonic() + self._db_backoff.next()
        self._batch_started = time.monotonic() if self.pending else None

    def _ack(self, done, whole):
        """Ack ``done``: one ``multiple`` ack when it is every message held
        up to the highest delivery tag (same channel: pending is emptied on
        reconnection), else one ack each."""
        if not done:
            return
        last = max(done, key=lambda item: item.message.delivery_tag)
        tag = last.message.delivery_tag
        if whole and len(done) > 1 and all(p.message.delivery_tag > tag for p in self.pending):
            last.message.ack(multiple=True)
            return
        for item in done:
            item.message.ack()

    def _apply_batch(self, work, now):
        """The fast path: every message in one transaction, no savepoints.

        A database error propagates with the transaction rolled back and
        nothing applied (outcomes are reset)."""
        started = time.perf_counter()
        try:
            with db.session_scope() as session:
                outcomes = apply_hub_batch(session, [item.booking for item in work], now)
        except BaseException:
            for item in work:
                item.outcome = None
            raise
        share = (time.perf_counter() - started) * 1000 / len(work)
        for item, outcome in zip(work, outcomes, strict=True):
            item.outcome = outcome
            item.millis += share

    def _apply_one_by_one(self, work, now):
        """The slow path: one SAVEPOINT per message, a refused one alone."""
        with db.session_scope() as session:
            for item in work:
                if item.reason is None:
                    self._apply(session, item, now)

    def _apply(self, session, item, now):
        started = time.perf_counter()
        try:
            with session.begin_nested():
                item.outcome = apply_hub_booking(session, item.booking, now)
        except InvalidRange as error:
            item.reason = str(error)
        except SQLAlchemyError as error:
            if _is_unreachable(error):
                raise  # the whole batch waits for the database
            item.refusals += 1
            self._log(
                logging.ERROR,
                "hub %s notf %s refused by the database (%d/%d): %s",
                item.booking.cgt_id,
                item.booking.notf_id,
                item.refusals,
                MAX_DB_REFUSALS,
                one_line(error),
            )
            if item.refusals >= MAX_DB_REFUSALS:
                item.reason = f"refused by the database {item.refusals} times: {one_line(error)}"
        item.millis += (time.perf_counter() - started) * 1000

    def _park(self, item):
        """Publish the message as it came to the parking queue, confirmed."""
        message = item.message
        info = message.delivery_info or {}
        headers = dict(message.headers or {})
        headers.update(
            {
                topology.REASON_HEADER: item.reason[:1000],
                topology.CONTENT_TYPE_HEADER: message.content_type or "",
                topology.ROUTING_KEY_HEADER: info.get("routing_key") or "",
                topology.EXCHANGE_HEADER: info.get("exchange") or "",
            }
        )
        self._parking.publish(
            message.body,
            routing_key=topology.PARKING_QUEUE.routing_key,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            headers=headers,
            delivery_mode=2,
            retry=False,
            confirm_timeout=topology.CONFIRM_TIMEOUT,
        )
        item.outcome = "parked"

    def _log_item(self, item):
        booking = item.booking
        if item.outcome == "parked":
            info = item.message.delivery_info or {}
            self._log(
                logging.WARNING,
                "hub message (routing key %r, content type %r) parked in %s: %s",
                info.get("routing_key"),
                item.message.content_type,
                topology.PARKING_QUEUE.name,
                item.reason,
            )
            return
        self._log(
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

    # -- housekeeping ----------------------------------------------------

    def _housekeeping(self):
        if time.monotonic() < self._next_prune or self._db_retry_at is not None:
            return
        self._next_prune = time.monotonic() + PRUNE_INTERVAL
        try:
            with db.session_scope() as session:
                removed = prune_hub_applied(session, self.now())
        except SQLAlchemyError as error:
            self._log(logging.WARNING, "pruning hub_applied failed: %s", one_line(error))
            return
        if removed:
            self._log(logging.INFO, "pruned %d old hub_applied rows", removed)
