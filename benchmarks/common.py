"""Shared helpers of the benchmarks: database, broker vhost, processes, results.

Everything talks to 127.0.0.1 only: PostgreSQL (trust, user postgres) and
RabbitMQ (guest/guest).  Each benchmark gets a fresh database
``gites_calendar_bench`` (dropped at the end) and the vhost ``/gites-bench``
(created by :func:`create_vhost`, deleted by :func:`delete_vhost`).
"""

import contextlib
import dataclasses
import operator
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import psycopg2

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


# -- results ----------------------------------------------------------------


@dataclasses.dataclass
class Result:
    bench: str
    metric: str
    value: float
    baseline_name: str
    baseline: float
    target: str
    met: bool
    unit: str = ""
    notes: str = ""

    @property
    def ratio(self):
        return self.value / self.baseline if self.baseline else float("nan")


_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge}


def compared(bench, measured, baseline, target, notes=""):
    """A :class:`Result`, met as its ``target`` reads: ``"<= 2 x bare"`` holds
    the value against twice the baseline, ``"< 200 MB"`` against 200 itself.
    ``measured`` is (metric, value, unit), ``baseline`` (name, value)."""
    metric, value, unit = measured
    baseline_name, baseline_value = baseline
    comparison, number, *rest = target.split()
    bound = float(number) * (baseline_value if rest[:1] == ["x"] else 1)
    met = _COMPARISONS[comparison](value, bound)
    return Result(bench, metric, value, baseline_name, baseline_value, target, met, unit, notes)


def retried(retries):
    """The note of the variants measured again after a broker outage ("" if none)."""
    return f"; {retries} run(s) repeated after a broker outage" if retries else ""


def run_alone(run, vhost=False, **options):
    """A benchmark run from its own module (``--quick`` read from argv): its
    table printed, then its database (and vhost) dropped, even on failure."""
    try:
        if vhost:
            create_vhost()
        print_table(run(quick="--quick" in sys.argv, **options))
    finally:
        if vhost:
            delete_vhost()
        drop_database()


def fmt(value, unit=""):
    if isinstance(value, float):
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


def print_table(results, out=sys.stdout):
    headers = ("benchmark", "figure", "baseline", "ratio", "target", "met")
    rows = [
        (
            r.bench,
            f"{r.metric}: {fmt(r.value, r.unit)}",
            f"{r.baseline_name}: {fmt(r.baseline, r.unit)}",
            f"{r.ratio:.2f}",
            r.target,
            "yes" if r.met else "NO",
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    line = "  ".join("=" * w for w in widths)
    print(line, file=out)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print(line, file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), file=out)
    print(line, file=out)
    for r in results:
        if r.notes:
            print(f"* {r.bench}: {r.notes}", file=out)
    out.flush()


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


# -- CPU accounting -----------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid):
    """CPU seconds (user + system) used so far by process ``pid``; 0 if gone."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def postgres_pids():
    """The PostgreSQL server's processes (postmaster and backends)."""
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class CpuMeter:
    """CPU used during a phase by one process, by PostgreSQL and by the machine."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.pg_pids = postgres_pids()
        self._start = (
            process_cpu(self.pid),
            sum(process_cpu(p) for p in self.pg_pids),
            machine_cpu(),
        )
        return self

    def __exit__(self, *exc):
        proc, pg, (busy, total) = self._start
        self.process = process_cpu(self.pid) - proc
        # Backends started during the phase are not counted: the pools of
        # the measured processes are warm before a phase starts.
        self.postgres = sum(process_cpu(p) for p in self.pg_pids) - pg
        now_busy, now_total = machine_cpu()
        self.machine_busy = (now_busy - busy) / max(now_total - total, 1e-9)

    def per_request(self, requests):
        """'Zope x.x ms + PostgreSQL y.y ms CPU per request, machine z % busy'."""
        n = max(requests, 1)
        return (
            f"CPU per request: Zope {self.process / n * 1000:.2f} ms,"
            f" PostgreSQL {self.postgres / n * 1000:.2f} ms; machine {self.machine_busy:.0%} busy"
        )
