"""The site -> hub relay: publishes ``gites_calendar_outbox`` rows.

Owner changes write an outbox row in their own transaction
(:func:`gites.calendar.domain.outbox.queue_for_hub`); this relay, a thread of
the daemon with its own broker connection (so a slow confirm never delays
the consumer's heartbeats, and kombu connections are not shared between
threads), publishes the pending rows in ``id`` order to exchange
``booking.update.gdw``, routing key ``import``, persistent, and sets
``sent_at`` only once the broker confirmed them.  Per batch of at most
:data:`BATCH` rows: every row is published, the broker's confirms are
awaited together (:class:`~gites.calendar.messaging.confirms.ConfirmWindow`:
one wait per batch, not one round trip per message), then the rows
confirmed before the first one that was not are marked sent with one
``UPDATE`` and one commit (also when an error follows); the others are
published again later, in order.  Delivery is at least once: a crash
between confirm and commit, or a row after an unconfirmed one, sends rows
again; the hub applies a range idempotently.

One relay at a time: on PostgreSQL the relay works on a connection holding
the session advisory lock :data:`ADVISORY_LOCK_KEY`; another daemon's relay
stands by and takes over when that connection goes (the server releases the
lock).  Per cottage, ``id`` order is commit order (owner writes lock the
cottage before the outbox row gets its id), so the hub sees each cottage's
changes in the order they were made.  SQLite: one daemon, no lock.

Broker down: rows stay pending, the relay reconnects with a backoff and
sends them once it is back.  A row the codec cannot encode (it should not
exist: rows are checked when written) is marked ``last_error =
'unencodable: ...'`` and skipped, so it cannot hold back the others.
"""

import datetime
import logging
import threading

from kombu import Producer
from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import logsafe
from gites.calendar.db import session as db
from gites.calendar.db.locks import try_advisory_lock
from gites.calendar.messaging import relay_rows, topology
from gites.calendar.messaging.confirms import ConfirmWindow
from gites.calendar.messaging.retry import Backoff, one_line
from gites.calendar.settings import mask_text, mask_url

logger = logging.getLogger("gites.calendar.relay")

# pg advisory lock key: any constant bigint unique within the database
# (here: the bytes of "gitescal" read as an integer).
ADVISORY_LOCK_KEY = 0x6769746573636160
POLL_INTERVAL = 1.0  # seconds between looks at the outbox when idle
STANDBY_INTERVAL = 5.0  # seconds between attempts to become the active relay
BATCH = 100


class OutboxRelay:
    def __init__(self, url, fmt="pickle", heartbeat=30, now=datetime.datetime.now, secrets=()):
        self.url = url
        self.fmt = fmt
        self.heartbeat = heartbeat
        self.now = now
        self.secrets = tuple(secrets)
        self._stop = threading.Event()
        self._thread = None
        self._connection = None
        self._producer = None
        self._window = None
        self._db_connection = None
        self._standby_logged = False
        self.on_published = None  # callable(count) once rows are confirmed (metrics)

    def _log(self, level, msg, *args):
        logger.log(
            level, "%s", logsafe.one_line(mask_text(msg % args if args else msg, self.secrets))
        )

    # -- thread control --------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()

    def request_stop(self):
        """Stop after the row in hand (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout=3.0):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self):
        return self._stop.is_set()

    def run(self):
        broker_backoff, db_backoff = Backoff(), Backoff()
        try:
            while not self._stop.is_set():
                try:
                    if not self._lead():
                        self._stop.wait(STANDBY_INTERVAL)
                        continue
                    self._connect()
                    sent = self.relay_pending()
                    if sent and self.on_published is not None:
                        self.on_published(sent)
                    broker_backoff.reset()
                    db_backoff.reset()
                    if sent < BATCH:
                        self._stop.wait(POLL_INTERVAL)
                    self._connection.heartbeat_check()
                except SQLAlchemyError as error:
                    self._drop_db()
                    delay = db_backoff.next()
                    self._log(
                        logging.WARNING, "database: %s; retrying in %.0f s", one_line(error), delay
                    )
                    self._stop.wait(delay)
                except Exception as error:  # broker errors of any transport
                    self._drop_broker()
                    delay = broker_backoff.next()
                    self._log(
                        logging.WARNING,
                        "broker %s: %s; outbox rows wait, reconnecting in %.0f s",
                        mask_url(self.url),
                        one_line(error),
                        delay,
                    )
                    self._stop.wait(delay)
        finally:
            self._drop_broker()
            self._drop_db()
            self._log(logging.INFO, "relay stopped")

    # -- leadership and connections --------------------------------------

    def _lead(self):
        """True when this relay holds the lock (or needs none: SQLite)."""
        if self._db_connection is not None:
            return True
        connection = db.get_engine().connect()
        try:
            if connection.dialect.name == "postgresql" and not try_advisory_lock(
                connection, ADVISORY_LOCK_KEY
            ):
                if not self._standby_logged:
                    self._log(logging.INFO, "another relay is active; standing by")
                    self._standby_logged = True
                connection.close()
                return False
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        self._db_connection = connection
        self._standby_logged = False
        self._log(logging.INFO, "relay active: outbox -> %s", topology.SITE_EXCHANGE.name)
        return True

    def _drop_db(self):
        if self._db_connection is not None:
            # Invalidated, not returned to the pool: closing the DBAPI
            # connection is what releases the session advisory lock.
            try:
                self._db_connection.invalidate()
                self._db_connection.close()
            except Exception:
                logger.debug("closing the relay's database connection failed", exc_info=True)
            self._db_connection = None

    def _connect(self):
        if self._connection is not None:
            return
        # No per-publish confirm (kombu's confirm_publish): on AMQP the
        # confirms of a whole batch are awaited together (ConfirmWindow).
        connection = topology.make_connection(self.url, self.heartbeat)
        try:
            connection.connect()
            channel = connection.channel()
            topology.declare_site_topology(channel, self.url)
            window = ConfirmWindow(connection, channel) if topology.is_amqp(self.url) else None
        except BaseException:
            try:
                connection.release()
            except Exception:
                logger.debug("closing a failed broker connection failed", exc_info=True)
            raise
        self._connection = connection
        self._window = window
        self._producer = Producer(channel, exchange=topology.SITE_EXCHANGE)
        self._log(logging.INFO, "relay connected to %s", mask_url(self.url))

    def _drop_broker(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                logger.debug("closing the relay's broker connection failed", exc_info=True)
            self._connection = None
            self._producer = None
            self._window = None

    # -- the work ---------------------------------------------------------

    def relay_pending(self):
        """Publish pending rows in id order (at most BATCH); return how many went.

        Core statements on the relay's own connection (the one holding the
        advisory lock): one SELECT; every row published; the broker's
        confirms awaited together; then one UPDATE + commit marking sent the
        rows confirmed *before the first one that was not* (a later row is
        sent again rather than overtake an earlier change of its cottage).
        """
        connection = self._db_connection
        rows = relay_rows.pending_rows(connection, BATCH)
        if self._window is not None:
            self._window.forget()
        published, unencodable = [], []  # published: (row, number in the window)
        current = None  # the row being published
        try:
            try:
                for row in rows:
                    if self._stop.is_set():
                        break
                    try:
                        body, content_type = relay_rows.encode_row(row, self.fmt)
                    except ValueError as error:
                        unencodable.append((row.id, relay_rows.UNENCODABLE + str(error)[:500]))
                        self._log(
                            logging.ERROR, "outbox %d cannot be encoded, skipped: %s", row.id, error
                        )
                        continue
                    current = row
                    self._publish(row, body, content_type)
                    published.append((row, self._window.sent() if self._window else None))
                    current = None
                if self._window is not None:
                    self._window.wait(topology.CONFIRM_TIMEOUT)
                sent = self._confirmed(published)
                if len(sent) < len(published):
                    raise MessageNotConfirmed(
                        f"outbox {published[len(sent)][0].id}: refused by the broker (basic.nack)"
                    )
            except Exception as error:
                sent = self._confirmed(published)
                first = published[len(sent)][0] if len(sent) < len(published) else current
                self._mark(connection, sent, unencodable, (first.id, error) if first else None)
                raise
        except BaseException:
            self._rollback_quietly(connection)
            raise
        self._mark(connection, sent, unencodable)
        return len(sent)

    def _confirmed(self, published):
        """The rows confirmed by the broker, up to the first one that was not."""
        sent = []
        for row, number in published:
            if self._window is not None and not self._window.is_acked(number):
                break
            sent.append(row)
        return sent

    @staticmethod
    def _rollback_quietly(connection):
        # The error in hand is the one to report, not a failing rollback.
        try:
            if connection.in_transaction():
                connection.rollback()
        except Exception:
            logger.debug("rolling back the relay's transaction failed", exc_info=True)

    def _mark(self, connection, sent, unencodable, failed=None):
        """Record what happened to the rows of a batch, in one transaction;
        ``sent``: the rows confirmed, logged once recorded."""
        errors = list(unencodable)
        if failed is not None:
            errors.append((failed[0], one_line(failed[1])[:500]))
        relay_rows.record(connection, [row.id for row in sent], errors, self.now)
        for row in sent:
            self._log(
                logging.INFO,
                "outbox %d: %s %s..%s %s sent to %s/%s",
                row.id,
                row.cgt_id,
                row.start_date.isoformat(),
                row.end_date.isoformat(),
                row.selection_type,
                topology.SITE_EXCHANGE.name,
                topology.SITE_ROUTING_KEY,
            )

    def _publish(self, row, body, content_type):
        """Publish one row (its confirm is awaited with the batch's)."""
        self._producer.publish(
            body,
            routing_key=topology.SITE_ROUTING_KEY,
            content_type=content_type,
            content_encoding="binary",
            delivery_mode=2,
            headers={"x-gites-outbox-id": row.id},
            message_id=f"gites-outbox-{row.id}",
            retry=False,
        )


class MessageNotConfirmed(Exception):
    """The broker nacked a publish: that row and the later ones are sent again."""
