"""Cottage states kept in memory for revalidations, dropped on notification.

A ``304`` answer of the public ``selectedDays`` needs the cottage's state
(:data:`gites.calendar.domain.public_read.COTTAGE_STATE`), not its days.  Read from the
database, that primary-key lookup still cost a revalidation about a fifth
of Plone's own ``@@ok`` (a round trip, PostgreSQL's work, the driver).  So
each Zope process keeps the states it read, and forgets them as soon as a
writer commits a change:

* every writer of a calendar (:func:`gites.calendar.domain.calendar_versions.bump_versions`,
  called by the owners' pages, the hub daemon, the configuration and the
  blocking) sends ``NOTIFY gites_calendar_version, '<heb_pk>,...'`` in its
  transaction: PostgreSQL delivers it at commit, never for a rollback;
* a thread of each process ``LISTEN``s on its own connection and drops the
  states named (all of them for ``*``, or when the connection is lost).

A state read before a commit but stored after its notification was handled
would be stale: each read notes the generation (a counter raised by every
drop) before reading and stores its state only if nothing was dropped
meanwhile.  Nothing is cached while the listener is not connected, and an
entry lives at most :data:`TTL` seconds, the bound for writers outside this
package (the legacy administration) that do not notify.

PostgreSQL only (SQLite has no notifications): other engines read the
database every time.  No Zope or Plone import here.
"""

import logging
import select
import threading
import time

logger = logging.getLogger("gites.calendar.domain.state_cache")

CHANNEL = "gites_calendar_version"
TTL = 10.0  # seconds; see above
ALL = "*"
MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes and more
MISSING = object()  # not cached (a cached unknown cottage is None)


def payload(heb_pks):
    """The notification naming ``heb_pks`` (all, when too many to name)."""
    text = ",".join(str(pk) for pk in sorted(heb_pks))
    return text if len(text) <= MAX_PAYLOAD else ALL


class StateCache:
    """The states of one read engine's cottages, for one process."""

    def __init__(self, connect, ttl=TTL, clock=time.monotonic):
        self._connect = connect  # () -> a new DBAPI (psycopg2) connection
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries = {}  # heb_pk -> (state, stored at)
        self.generation = 0  # raised by every drop
        self.live = False  # listening: entries may be stored
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="gites-calendar-states")
        self._thread.daemon = True
        self._thread.start()

    def get(self, heb_pk):
        entry = self._entries.get(heb_pk)
        if entry is None or self._clock() - entry[1] >= self.ttl:
            return MISSING
        return entry[0]

    def put(self, heb_pk, state, generation):
        """Keep ``state``, read after :attr:`generation` was ``generation``."""
        with self._lock:
            if self.live and generation == self.generation:
                self._entries[heb_pk] = (state, self._clock())

    def drop(self, heb_pks=None):
        """Forget the states of ``heb_pks`` (None: all)."""
        with self._lock:
            self.generation += 1
            if heb_pks is None:
                self._entries.clear()
            else:
                for heb_pk in heb_pks:
                    self._entries.pop(heb_pk, None)

    def handle(self, text):
        """Apply one notification's payload."""
        if text == ALL or not text:
            self.drop()
            return
        try:
            self.drop([int(pk) for pk in text.split(",")])
        except ValueError:
            self.drop()

    def stop(self):
        self._stopped.set()

    def _set_live(self, live):
        with self._lock:
            # Either way, states read before now are not stored: a commit
            # may have been notified while nobody listened.
            self.live = live
            self.generation += 1
            self._entries.clear()

    def _listen(self):
        while not self._stopped.is_set():
            connection = None
            listening = False
            try:
                connection = self._connect()
                connection.autocommit = True
                with connection.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                self._set_live(True)
                listening = True
                while not self._stopped.is_set():
                    if select.select([connection], [], [], 1.0)[0]:
                        connection.poll()  # raises once the connection is lost
                        while connection.notifies:
                            self.handle(connection.notifies.pop(0).payload)
            except Exception as error:  # keep serving: from the database, uncached
                if not self._stopped.is_set():
                    logger.warning("calendar state notifications lost (%s); retrying", error)
            finally:
                if listening:
                    self._set_live(False)
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:  # noqa: S110 - closing a dead connection
                        pass
            self._stopped.wait(1.0)
