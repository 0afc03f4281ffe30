"""Shared helpers of the benchmarks: database, broker vhost, processes.

The results and their table are in :mod:`benchmarks.report`, the CPU
accounting of the HTTP benchmarks in :mod:`benchmarks.cpu`.

Everything talks to 127.0.0.1 only: PostgreSQL (trust, user postgres) and
RabbitMQ (guest/guest).  Each benchmark gets a fresh database
``gites_calendar_bench`` (dropped at the end) and the vhost ``/gites-bench``
(created by :func:`create_vhost`, deleted by :func:`delete_vhost`).
"""

import contextlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import psycopg2

from benchmarks import report
from gites.calendar.testing import amqp as broker  # rabbitmqctl, as the tests use it

TOP = pathlib.Path(__file__).resolve().parent.parent
BIN = TOP / "bin"
VAR = TOP / "var" / "bench"

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
DB_NAME = os.environ.get("GITES_BENCH_DB", "gites_calendar_bench")
DB_URL = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"
DSN = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={DB_NAME}"

VHOST = os.environ.get("GITES_BENCH_VHOST", "/gites-bench")
AMQP_URL = f"amqp://guest:guest@127.0.0.1:5672/{quote(VHOST, safe='')}"


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# -- PostgreSQL -------------------------------------------------------------


def _admin():
    conn = psycopg2.connect(f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=postgres")
    conn.autocommit = True
    return conn


def drop_database():
    with contextlib.closing(_admin()) as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def create_database():
    """A fresh bench database with the package's schema (initCalendarDatabase)."""
    drop_database()
    with contextlib.closing(_admin()) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run(
        [str(BIN / "initCalendarDatabase")],
        env=bench_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )


def connect(autocommit=False):
    conn = psycopg2.connect(DSN)
    conn.autocommit = autocommit
    return conn


def sql(statement, params=None, fetch=False):
    """Run one statement in its own transaction; optionally fetch all rows."""
    with contextlib.closing(connect()) as conn:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            rows = cur.fetchall() if fetch else None
        conn.commit()
        return rows


def scalar(statement, params=None):
    return sql(statement, params, fetch=True)[0][0]


def vacuum_analyze(table=None):
    with contextlib.closing(connect(autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {table or ''}")


def seed_owners(cottages, first=1, cgt=True, prefix="BENC"):
    """One active proprio per cottage, public cottages with calendar ``actif``.

    Cottage ``n`` gets the CGT code ``<prefix><n>`` (4 letters + 1-4 digits).
    """
    last = first + cottages - 1
    sql(
        "INSERT INTO proprio (pro_pk, pro_nom1, pro_prenom1, pro_email, pro_etat)"
        " SELECT n, 'Owner' || n, 'Bench', 'owner' || n || '@example.org', true"
        " FROM generate_series(%s, %s) AS n",
        (first, last),
    )
    sql(
        "INSERT INTO hebergement (heb_pk, heb_nom, heb_code_cgt, heb_site_public, heb_pro_fk,"
        " heb_calendrier_proprio, heb_calendrier_proprio_date_maj)"
        " SELECT n, 'Cottage ' || n, CASE WHEN %s THEN %s || n END, '1', n,"
        " 'actif', current_date FROM generate_series(%s, %s) AS n",
        (cgt, prefix, first, last),
    )


# -- RabbitMQ ---------------------------------------------------------------


def create_vhost():
    broker.create_vhost(VHOST)


def delete_vhost():
    broker.delete_vhost(VHOST)


def queue_depth(channel, name):
    """Messages ready in queue ``name`` (a passive declare: cheap)."""
    return channel.queue_declare(queue=name, passive=True)[1]


@contextlib.contextmanager
def cursor_and_channel():
    """An autocommit database cursor and a channel on the bench vhost: what a
    benchmark polls to see that a run is over."""
    from kombu import Connection

    with contextlib.closing(connect(autocommit=True)) as db, Connection(AMQP_URL) as conn:
        yield db.cursor(), conn.channel()


def list_queues():
    """{name: (ready, unacked)} of the bench vhost (rabbitmqctl: slow, for checks)."""
    return broker.list_queues(VHOST, ("messages_ready", "messages_unacknowledged"))


# -- processes --------------------------------------------------------------


def bench_env(**extra):
    env = dict(os.environ)
    for name in ("AMQP_BROKER_HOST", "AMQP_USER", "AMQP_PASSWORD", "AMQP_VHOST"):
        env.pop(name, None)
    env.update(
        {
            "GITES_DB_URL": DB_URL,
            "AMQP_BROKER_URL": AMQP_URL,
            "AMQP_HEARTBEAT": "30",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def log_path(prefix, name):
    """``var/bench/<prefix>-<name>.log``, the name's other characters than
    letters and digits as ``_``."""
    slug = "".join(c if c.isalnum() else "_" for c in name)
    return VAR / f"{prefix}-{slug}.log"


class Child:
    """A subprocess logging to a file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, args, logfile, env=None, cwd=TOP):
        VAR.mkdir(parents=True, exist_ok=True)
        self.logfile = pathlib.Path(logfile)
        self._out = open(self.logfile, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(a) for a in args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env or bench_env(),
            cwd=cwd,
            start_new_session=True,
        )

    def wait_for_line(self, marker, timeout=60):
        """Wait until ``marker`` appears in the log; return perf_counter() then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.encode() in self.logfile.read_bytes():
                return time.perf_counter()
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.proc.args[0]} exited: {self.tail()}")
            time.sleep(0.01)
        raise TimeoutError(f"no {marker!r} in {self.logfile} after {timeout} s: {self.tail()}")

    def tail(self, lines=15):
        text = self.logfile.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._out.close()
        return self.proc.returncode


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Poll ``predicate`` until true; return perf_counter() at that moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout} s")


def measured_child(args, logfile, env=None):
    """Run one child to its end: (wall seconds, peak RSS in MB, its output).

    The peak is the ``ru_maxrss`` of that child alone (``os.wait4``), the
    time from spawn to exit (Python start-up included); stdout and stderr
    go to ``logfile``.  A non-zero exit raises RuntimeError with the tail.
    """
    VAR.mkdir(parents=True, exist_ok=True)
    with open(logfile, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(a) for a in args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env or bench_env(),
            cwd=TOP,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    text = pathlib.Path(logfile).read_text(errors="replace").strip()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{args[0]} exited with {code}: {text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def run_alone(run, vhost=False, **options):
    """A benchmark run from its own module (``--quick`` read from argv): its
    table printed, then its database (and vhost) dropped, even on failure."""
    try:
        if vhost:
            create_vhost()
        report.print_table(run(quick="--quick" in sys.argv, **options))
    finally:
        if vhost:
            delete_vhost()
        drop_database()


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def broker_errors():
    import amqp.exceptions
    import kombu.exceptions

    return (OSError, amqp.exceptions.AMQPError, kombu.exceptions.OperationalError)


def retrying(name, fn, attempts=3):
    """``fn()``, run again from scratch after a broker error (at most ``attempts``).

    The shared machine's RabbitMQ is stopped and restarted now and then by
    other people's test suites (``rabbitmqctl stop_app``); a variant hit by
    that is measured again rather than reported with the outage in it.
    Returns (result, retries).
    """
    for attempt in range(attempts):
        try:
            return fn(), attempt
        except broker_errors() as error:
            if attempt == attempts - 1:
                raise
            log(f"  {name}: {type(error).__name__}: {error}; broker outage? measuring again")
            try:
                broker.rabbitmqctl("await_startup", check=False, timeout=120)
            except subprocess.SubprocessError:
                pass
            time.sleep(3)
    raise AssertionError("unreachable")
