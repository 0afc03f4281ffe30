"""Prometheus metrics and a health check for the daemon (off by default).

With ``GITES_METRICS_PORT`` (or ``--metrics-port``) the daemon serves, on
``GITES_METRICS_HOST`` (default 127.0.0.1), ``/metrics`` in the Prometheus
text format and ``/healthz``: 200 ``ok`` while the consumer is consuming
and the database answers, 503 with the reason otherwise.  The metrics
live in a registry of their own (not prometheus_client's global one), so
several daemons in one test process do not mix.

The consumer and the relay know nothing of Prometheus: they call
listeners (:meth:`DaemonMetrics.consumer_event`, :meth:`relay_published`).
"""

import logging
import threading
import time
from wsgiref.simple_server import make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler
from sqlalchemy import func, select, text

from gites.calendar.db import session as db
from gites.calendar.db.models import OutboxMessage
from gites.calendar.messaging.batch import PARKED
from gites.calendar.messaging.handler import (
    APPLIED,
    DUPLICATE,
    PARTLY_SUPERSEDED,
    SUPERSEDED,
    UNKNOWN_COTTAGE,
)
from gites.calendar.messaging.retry import one_line

logger = logging.getLogger("gites.calendar.daemon")

OUTCOMES = (APPLIED, PARTLY_SUPERSEDED, SUPERSEDED, DUPLICATE, UNKNOWN_COTTAGE, PARKED)
_WRITTEN = (APPLIED, PARTLY_SUPERSEDED)  # outcomes that changed days
HEALTH_DB_TIMEOUT = 3.0  # seconds: a database slower than this is not healthy


def snake(outcome):
    return outcome.replace("-", "_")


class DaemonMetrics:
    def __init__(self, consumer=None):
        self.consumer = consumer
        self.registry = registry = CollectorRegistry()
        self.messages = Counter(
            "gites_calendar_hub_messages",
            "Hub messages handled, by outcome.",
            ["outcome"],
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.messages.labels(snake(outcome))  # every series exists from the start
        self.batch_duration = Histogram(
            "gites_calendar_hub_batch_duration_seconds",
            "Time to apply, commit and acknowledge one batch of hub messages.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.last_applied = Gauge(
            "gites_calendar_hub_last_applied_timestamp_seconds",
            "Unix time of the last hub message that changed days (0: none yet).",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "gites_calendar_outbox_pending",
            "Outbox rows not yet confirmed by the broker (-1: database unreachable).",
            registry=registry,
        )
        self.outbox_oldest = Gauge(
            "gites_calendar_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet sent (0: none; -1: database unreachable).",
            registry=registry,
        )
        self.outbox_pending.set_function(lambda: self._outbox()[0])
        self.outbox_oldest.set_function(lambda: self._outbox()[1])
        self.relay_published = Counter(
            "gites_calendar_relay_published",
            "Outbox rows published to the hub and confirmed.",
            registry=registry,
        )
        self.reconnects = Counter(
            "gites_calendar_broker_reconnects",
            "Reconnections of the consumer to the broker.",
            registry=registry,
        )
        self._outbox_cache = (0.0, (0, 0))
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # -- listeners -------------------------------------------------------

    def consumer_event(self, event, **details):
        if event == "batch":
            items = details["items"]
            for item in items:
                self.messages.labels(snake(item.outcome)).inc()
            if details["seconds"]:
                self.batch_duration.observe(details["seconds"])
            if any(item.outcome in _WRITTEN for item in items):
                self.last_applied.set(time.time())
        elif event == "reconnect":
            self.reconnects.inc()

    def on_relay_published(self, count):
        self.relay_published.inc(count)

    # -- computed on scrape ----------------------------------------------

    def _outbox(self):
        """(pending rows, oldest age in seconds), cached for a second: both
        gauges of one scrape come from one query."""
        with self._lock:
            at, value = self._outbox_cache
            if time.monotonic() - at < 1.0:
                return value
            try:
                with db.session_scope() as session:
                    count, oldest = session.execute(
                        select(func.count(), func.min(OutboxMessage.created_at)).where(
                            OutboxMessage.sent_at.is_(None)
                        )
                    ).one()
                now = self.consumer.now() if self.consumer else None
                age = (now - oldest).total_seconds() if oldest is not None and now else 0
                value = (count, max(0.0, age))
            except Exception:  # unreachable: say so in the value, not by failing the scrape
                value = (-1, -1)
            self._outbox_cache = (time.monotonic(), value)
            return value

    def health(self):
        """(ok, reason)."""
        consumer = self.consumer
        if consumer is None or not consumer.consuming:
            return False, "not consuming (broker unreachable or starting)"
        if consumer.db_waiting:
            return False, f"database unreachable: {consumer.db_waiting}"
        try:
            with db.get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            return False, f"database unreachable: {one_line(error)}"
        return True, "ok"

    # -- HTTP ------------------------------------------------------------

    def wsgi_app(self):
        metrics_app = make_wsgi_app(self.registry)

        def app(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if path == "/healthz":
                ok, reason = self.health()
                status = "200 OK" if ok else "503 Service Unavailable"
                body = (reason + "\n").encode("utf-8")
                start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
                return [body]
            if path == "/metrics":
                return metrics_app(environ, start_response)
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"/metrics or /healthz\n"]

        return app

    def serve(self, host, port):
        """Serve in a daemon thread; returns the port (0 picks a free one)."""
        self._server = make_server(
            host, port, self.wsgi_app(), ThreadingWSGIServer, handler_class=_SilentHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )
        self._thread.start()
        logger.info("metrics on http://%s:%d/metrics and /healthz", host, self.port)
        return self.port

    @property
    def port(self):
        return self._server.server_address[1] if self._server else None

    def close(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
