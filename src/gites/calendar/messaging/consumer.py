"""The hub -> site consumer: the reconnecting loop around the batch and parking.

The shape is kombu's ``ConsumerMixin`` (drain with a timeout, heartbeat
check, ``should_stop`` seen within a second), written out because the
daemon also holds messages unacknowledged while the database is down
(draining on, so heartbeats keep flowing), applies them in batches, and
sleeps between reconnections in steps short enough for SIGTERM.  The work
is in sibling modules: :mod:`.intake` (message -> booking, with the size
limits), :mod:`.batch` (the fast and savepoint paths), :mod:`.parking`,
:mod:`.retry` (backoff).

The one rule: every message ends in exactly one outcome -- applied,
partly-superseded, superseded, duplicate, unknown-cottage, or parked with
its reason -- and the process survives it.

1. ``_receive`` (kombu ``on_message``; the channel's ``auto_decode`` is off,
   so bodies stay the bytes that were published) decodes
   (:func:`.intake.pending_item`), and *any* exception makes the message
   one to park with that exception as its reason.  A body kombu itself
   could not decode (a ``compression`` header that does not match) arrives
   in ``_undecodable``, same fate.  Nothing else happens in the callback,
   because callbacks may run while a publish waits for its confirm.
2. ``_flush`` runs when ``batch_size`` messages are pending or the oldest
   waited ``batch_wait`` seconds: :class:`~.batch.BatchApplier` applies,
   commits, *then* the messages are acked (one ``basic_ack(multiple=True)``
   when the batch is acked whole); the ones to park are parked first, with
   a confirm.
3. A database that is unreachable rolls the batch back: the messages stay
   pending and unacknowledged, the loop keeps draining (heartbeats) and
   retries the batch after a backoff.  A message that cannot be parked (a
   nack, a closed channel) is held unacknowledged apart from the batch and
   parked again after a backoff, while the others go on.  A broker error
   ends the connection: messages in hand are dropped (the broker redelivers
   them), the loop reconnects with a backoff.  Redelivery is harmless: see
   handler.py.  Any other error of the loop itself is logged with its
   traceback and handled as a broker error: the process stays up.
"""

import datetime
import logging
import time

from kombu import Consumer
from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import logsafe
from gites.calendar.db import session as db
from gites.calendar.messaging import intake, topology
from gites.calendar.messaging.batch import PARKED, BatchApplier, Pending, log_outcome
from gites.calendar.messaging.handler import prune_hub_applied
from gites.calendar.messaging.parking import Parker
from gites.calendar.messaging.retry import Backoff, one_line
from gites.calendar.settings import mask_text, mask_url

# Kept importable from here: older code and tests import these names.
__all__ = ["BATCH_SIZE", "Backoff", "HubConsumer", "Pending", "one_line"]

logger = logging.getLogger("gites.calendar.daemon")

BATCH_SIZE = 100
BATCH_WAIT = 0.05  # seconds a message may wait for companions
SAFETY_INTERVAL = 1.0  # longest drain: how soon a stop request is seen when idle
PRUNE_INTERVAL = 3600.0
# A message the database refuses (not "database unreachable": a constraint,
# a bug) this many times in a row is parked rather than retried forever.
MAX_DB_REFUSALS = 5


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
        max_bytes=intake.DEFAULT_MAX_BYTES,
        max_pickle_ops=None,
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
        self.max_bytes = max_bytes
        self.max_pickle_ops = max_pickle_ops
        intake.install_bounded_decompressors(max_bytes)
        self.should_stop = False
        self.consuming = False
        self.db_waiting = None  # why the batch waits for the database (health check)
        self.pending = []
        self.unparked = []  # decided "park", the broker refused: held unacked
        self._batch_started = None
        self._db_retry_at = None
        self._park_retry_at = None
        self._db_backoff = Backoff()
        self._park_backoff = Backoff()
        self._broker_backoff = Backoff()
        self._next_prune = 0.0
        self._parker = None
        self.listeners = []  # callables(event, **details): metrics, tests

    # -- control ---------------------------------------------------------

    def stop(self):
        """Ask the loop to stop after the message (batch) in hand."""
        self.should_stop = True

    def _log(self, level, msg, *args):
        text = msg % args if args else msg
        logger.log(level, "%s", logsafe.one_line(mask_text(text, self.secrets)))

    def _emit(self, event, **details):
        for listener in self.listeners:
            try:
                listener(event, **details)
            except Exception:  # a metrics bug must not stop the consumer
                logger.exception("consumer listener failed on %s", event)

    def _sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.should_stop and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    # -- the loop --------------------------------------------------------

    def run(self):
        """Consume, reconnecting for ever, until :meth:`stop` is called."""
        first = True
        while not self.should_stop:
            if not first:
                self._emit("reconnect")
            first = False
            connection = topology.make_connection(self.url, self.heartbeat, confirm=True)
            errors = (
                tuple(connection.connection_errors) + tuple(connection.channel_errors) + (OSError,)
            )
            try:
                connection.connect()
                self._consume(connection)
            except Exception as error:
                # Unacked messages in hand go back to the queue with the connection.
                self.pending, self.unparked = [], []
                self._batch_started = self._db_retry_at = self._park_retry_at = None
                if self.should_stop:
                    break
                delay = self._broker_backoff.next()
                if isinstance(error, errors):
                    self._log(
                        logging.WARNING,
                        "broker %s: %s; reconnecting in %.0f s",
                        mask_url(self.url),
                        one_line(error),
                        delay,
                    )
                else:  # a bug of ours: say where, and keep the process
                    logger.exception("consumer loop failed; reconnecting in %.0f s", delay)
                self._sleep(delay)
            finally:
                self.consuming = False
                self._parker = None
                try:
                    connection.release()
                except Exception:  # a dead connection may fail to close: nothing to keep
                    logger.debug("closing the broker connection failed", exc_info=True)
        self._log(logging.INFO, "consumer stopped")

    def _consume(self, connection):
        channel = connection.channel()
        # Bodies as published: py-amqp would otherwise turn some into str by
        # their content_encoding (and leave others as bytes).
        if hasattr(channel, "auto_decode"):
            channel.auto_decode = False
        topology.declare_consumer_topology(channel)
        self._parker = Parker(connection, self._log)
        consumer = Consumer(
            channel,
            queues=[topology.HUB_QUEUE],
            on_message=self._receive,
            on_decode_error=self._undecodable,
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
            self.consuming = True
            while not self.should_stop:
                self._housekeeping()
                try:
                    connection.drain_events(timeout=self._drain_timeout())
                except TimeoutError:
                    pass
                connection.heartbeat_check()
                if self._flush_due():
                    self._flush()
                if self._park_due():
                    self._park_again()

    def _drain_timeout(self):
        now = time.monotonic()
        dues = []
        if self.pending:
            dues.append(self._db_retry_at or (self._batch_started + self.batch_wait))
        if self.unparked:
            dues.append(self._park_retry_at)
        if not dues:
            return SAFETY_INTERVAL
        return min(SAFETY_INTERVAL, max(0.001, min(dues) - now))

    def _flush_due(self):
        if not self.pending:
            return False
        now = time.monotonic()
        if self._db_retry_at is not None:
            return now >= self._db_retry_at
        return len(self.pending) >= self.batch_size or now >= self._batch_started + self.batch_wait

    def _park_due(self):
        return bool(self.unparked) and time.monotonic() >= self._park_retry_at

    # -- messages --------------------------------------------------------

    def _receive(self, message):
        self._hold(intake.pending_item(message, self.max_bytes, self.max_pickle_ops))

    def _undecodable(self, message, error):
        """kombu's ``on_decode_error``: the body could not even be inflated."""
        self._hold(Pending(message, reason=f"undecodable: {one_line(error)}"))

    def _hold(self, item):
        if not self.pending:
            self._batch_started = time.monotonic()
        self.pending.append(item)

    def _flush(self):
        batch, self.pending = self.pending[: self.batch_size], self.pending[self.batch_size :]
        work = [item for item in batch if item.reason is None]
        started = time.perf_counter()
        applier = BatchApplier(self._log, MAX_DB_REFUSALS)  # read now: tests patch it
        try:
            applier.apply(work, self.now())
        except SQLAlchemyError as error:
            self.pending = batch + self.pending
            delay = self._db_backoff.next()
            self._db_retry_at = time.monotonic() + delay
            self.db_waiting = one_line(error)
            self._emit("database-error", error=error)
            self._log(
                logging.WARNING,
                "database: %s; %d message(s) kept unacknowledged, retrying in %.0f s",
                one_line(error),
                len(self.pending),
                delay,
            )
            return
        self._db_retry_at = None
        self.db_waiting = None
        self._db_backoff.reset()
        retry, done = [], []
        for item in batch:
            if item.reason is not None:
                if not self._park(item):
                    self.unparked.append(item)
                    continue
            elif item.outcome is None:
                retry.append(item)
                continue
            done.append(item)
        self._ack(done, whole=not retry and not self.unparked)
        self._emit("batch", seconds=time.perf_counter() - started, items=done)
        for item in done:
            self._log_item(item)
        self.pending = retry + self.pending
        if retry:
            self._db_retry_at = time.monotonic() + self._db_backoff.next()
        self._batch_started = time.monotonic() if self.pending else None

    def _park(self, item):
        decompressed = not getattr(item.message, "errors", None) and "compression" in (
            item.message.headers or {}
        )
        if not self._parker.park(item, decompressed=decompressed):
            if self._park_retry_at is None or not self.unparked:
                self._park_retry_at = time.monotonic() + self._park_backoff.next()
            return False
        item.outcome = PARKED
        return True

    def _park_again(self):
        held, self.unparked = self.unparked, []
        self._park_retry_at = None
        done = []
        for item in held:
            if self._park(item):
                done.append(item)
            else:
                self.unparked.append(item)
        if not self.unparked:
            self._park_backoff.reset()
        else:
            self._park_retry_at = time.monotonic() + self._park_backoff.next()
        self._ack(done, whole=False)
        self._emit("batch", seconds=0.0, items=done)
        for item in done:
            self._log_item(item)

    def _ack(self, done, whole):
        """Ack ``done``: one ``multiple`` ack when it is every message held
        up to the highest delivery tag (same channel: what is held is
        emptied on reconnection), else one ack each."""
        if not done:
            return
        last = max(done, key=lambda item: item.message.delivery_tag)
        tag = last.message.delivery_tag
        held = self.pending + self.unparked
        if whole and len(done) > 1 and all(p.message.delivery_tag > tag for p in held):
            last.message.ack(multiple=True)
            return
        for item in done:
            item.message.ack()

    def _log_item(self, item):
        log_outcome(self._log, item)

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
