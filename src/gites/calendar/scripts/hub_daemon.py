"""importCalendarEventsFromWalhebCalendarDaemon: the hub <-> site daemon.

One process, two loops:

* the main thread consumes hub notifications (:mod:`.consumer`) and applies
  them to the database (:mod:`.handler`);
* a thread relays the outbox to the hub (:mod:`.relay`).

Settings come from the environment (:mod:`gites.calendar.settings`):
``GITES_DB_URL``; ``AMQP_BROKER_URL`` (or the legacy ``AMQP_BROKER_HOST`` with
``AMQP_USER``/``AMQP_PASSWORD``/``AMQP_VHOST``); without either, the embedded
transport on ``var/kombu.db`` (development only, see docs/messaging.rst);
``AMQP_HEARTBEAT`` (seconds, default 30); ``GITES_HUB_FORMAT`` (pickle|json);
``GITES_HUB_MAX_BYTES`` (default 65536) and ``GITES_HUB_MAX_PICKLE_OPS``
(default 5000), the bounds on one hub message (docs/messaging.rst);
``GITES_METRICS_PORT`` / ``GITES_METRICS_HOST`` (or ``--metrics-port``):
``/metrics`` and ``/healthz`` (:mod:`.metrics`), off by default.

SIGTERM or SIGINT: the message in hand is finished, connections close,
exit 0 (unacknowledged messages go back to the queue).  A second signal
exits at once with status 1.

``--check`` exit codes: 0 ready; 1 database or broker unreachable, or the
queue missing; 2 configuration error (bad setting, credentials refused,
tables missing).
"""

import argparse
import logging
import os
import signal
import sys

from gites.calendar.db import schema as db_schema
from gites.calendar.db import session as db
from gites.calendar.messaging import topology
from gites.calendar.messaging.consumer import BATCH_SIZE, HubConsumer
from gites.calendar.messaging.relay import OutboxRelay
from gites.calendar.messaging.retry import one_line
from gites.calendar.settings import mask_text, mask_url, url_secrets

PROG = "importCalendarEventsFromWalhebCalendarDaemon"
EXIT_OK, EXIT_UNREACHABLE, EXIT_CONFIG = 0, 1, 2

logger = logging.getLogger("gites.calendar.daemon")


def settings_secrets(settings):
    return url_secrets(settings.db_url, settings.amqp_url) + tuple(
        s for s in (settings.smtp_password,) if s
    )


class MaskingFilter(logging.Filter):
    """Replaces secrets in every record (ours, kombu's, SQLAlchemy's)."""

    def __init__(self, secrets):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record):
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = mask_text(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_text(text, self.secrets)
        return True


def setup_logging(secrets, level=logging.INFO):
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# -- --check ------------------------------------------------------------------


def check(settings, url, out=print):
    """Connect to the database and the broker, look for the queue; exit code."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    code = EXIT_OK
    engine = db.make_engine(settings.db_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        missing = [t.name for t in db_schema.missing_tables(engine)]
        if missing:
            out(
                f"database {mask_url(settings.db_url)}: tables missing: {', '.join(missing)}"
                " (run initCalendarDatabase)"
            )
            code = EXIT_CONFIG
        else:
            out(f"database {mask_url(settings.db_url)}: ok")
    except SQLAlchemyError as error:
        out(f"database {mask_url(settings.db_url)}: unreachable: {one_line(error)}")
        code = EXIT_UNREACHABLE
    finally:
        engine.dispose()

    connection = topology.make_connection(url, heartbeat=0)
    try:
        connection.connect()
        channel = connection.channel()
        try:
            _, messages, consumers = channel.queue_declare(
                queue=topology.HUB_QUEUE.name, passive=True
            )
        except connection.channel_errors as error:
            out(
                f"broker {mask_url(url)}: ok; queue {topology.HUB_QUEUE.name}: missing"
                f" ({one_line(error)}; the daemon declares it when it starts)"
            )
            return max(code, EXIT_UNREACHABLE) if code != EXIT_CONFIG else code
        out(
            f"broker {mask_url(url)}: ok; queue {topology.HUB_QUEUE.name}:"
            f" {messages} message(s) ready, {consumers} consumer(s)"
        )
    except Exception as error:
        refused = "ACCESS_REFUSED" in str(error) or "NOT_ALLOWED" in str(error)
        out(f"broker {mask_url(url)}: {'refused' if refused else 'unreachable'}: {one_line(error)}")
        return EXIT_CONFIG if refused else max(code, EXIT_UNREACHABLE)
    finally:
        try:
            connection.release()
        except Exception:
            logger.debug("closing the check connection failed", exc_info=True)
    return code


# -- running ------------------------------------------------------------------


def install_signal_handlers(consumer, relay):
    received = []

    def handle(signum, frame):
        if received:
            os.write(2, f"{PROG}: second signal, exiting now\n".encode())
            os._exit(1)
        received.append(signum)
        logger.info("%s received: stopping after the message in hand", signal.Signals(signum).name)
        consumer.stop()
        relay.request_stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG, description="Apply the hub's booking messages; relay owner changes to the hub."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the database, the broker and the queue, print the status and exit"
        " (0 ready, 1 unreachable or queue missing, 2 configuration error)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help=f"messages applied per database transaction (default {BATCH_SIZE})",
    )
    parser.add_argument("--no-relay", action="store_true", help="do not relay the outbox")
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="serve /metrics and /healthz on this port (default: GITES_METRICS_PORT; off)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def main(argv=None):
    # (the console scripts' helper; main moves to scripts/ with issue 14)
    from gites.calendar.scripts._cli import settings_or_report

    args = parse_args(argv)
    settings = settings_or_report(PROG)
    if settings is None:
        return EXIT_CONFIG
    if args.batch_size < 1:
        print(f"{PROG}: --batch-size must be at least 1", file=sys.stderr)
        return EXIT_CONFIG
    secrets = settings_secrets(settings)
    setup_logging(secrets, logging.DEBUG if args.verbose else logging.INFO)
    url = topology.broker_url(settings)
    if args.check:
        return check(settings, url, out=lambda line: print(mask_text(line, secrets)))
    if not topology.is_amqp(url):
        logger.warning(
            "AMQP_BROKER_URL is not set: using the embedded transport %s (development only)", url
        )
    db.configure_db(settings.db_url)
    consumer = HubConsumer(
        url,
        heartbeat=settings.heartbeat,
        batch_size=args.batch_size,
        secrets=secrets,
        max_bytes=settings.hub_max_bytes,
        max_pickle_ops=settings.hub_max_pickle_ops,
    )
    relay = OutboxRelay(
        url, fmt=settings.outbound_format, heartbeat=settings.heartbeat, secrets=secrets
    )
    metrics = None
    port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    if port:
        from gites.calendar.messaging.metrics import DaemonMetrics

        metrics = DaemonMetrics(consumer)
        consumer.listeners.append(metrics.consumer_event)
        relay.on_published = metrics.on_relay_published
        metrics.serve(settings.metrics_host, port)
    install_signal_handlers(consumer, relay)
    db.warm_database()
    if not args.no_relay:
        relay.start()
    try:
        consumer.run()
    finally:
        relay.stop(timeout=2.0)
        if metrics is not None:
            metrics.close()
        db.get_engine().dispose()
    logger.info("stopped")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
