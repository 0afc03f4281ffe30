"""The Zope and the data of benchmarks 3 and 4 (``bench_http``): a WSGI
instance under ``var/bench`` with the site exactly as ``make run`` builds it
and the bench owners, the two data sets of ``reservation_proprio``, and the
plan of the statement ``selectedDays`` runs.
"""

import contextlib
import datetime
import re
import socket
import time
import urllib.request

from benchmarks import common

INSTANCE = common.VAR / "instance"
HOT_COTTAGES = 100  # the cottages selectedDays asks about
OWNERS = 10
FIRST_OWNER_PK = 9001


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zope_env():
    return common.bench_env(
        GITES_SITE_URL="http://127.0.0.1/Plone", zope_i18n_compile_mo_files="true"
    )


def make_instance(port):
    common.rmtree(INSTANCE)
    env = zope_env()
    common.subprocess.run(
        [str(common.BIN / "mkwsgiinstance"), "-d", str(INSTANCE), "-u", "admin:admin"],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    ini = INSTANCE / "etc" / "zope.ini"
    ini.write_text(re.sub(r"(?m)^port = \d+", f"port = {port}", ini.read_text()))
    conf = INSTANCE / "etc" / "zope.conf"
    for script in (
        common.TOP / "tools" / "create_site.py",
        common.TOP / "benchmarks" / "zope_members.py",
    ):
        common.subprocess.run(
            [str(common.BIN / "zconsole"), "run", str(conf), str(script)],
            check=True,
            env=env,
            cwd=common.TOP,
            capture_output=True,
            timeout=600,
        )


def seed_small():
    """10,000 rows: 4,500 in the queried window of the hot cottages, 5,500 elsewhere."""
    common.seed_owners(5000)
    common.seed_owners(OWNERS, first=FIRST_OWNER_PK, prefix="BNCH")
    common.sql(
        "INSERT INTO reservation_proprio (res_date, res_type, heb_fk, pro_fk, res_date_cre)"
        " SELECT current_date + i, 'loue', h, h, now()"
        " FROM generate_series(1, %s) AS h, generate_series(0, 89) AS i WHERE mod(i + h, 2) = 0",
        (HOT_COTTAGES,),
    )
    common.sql(
        "INSERT INTO reservation_proprio (res_date, res_type, heb_fk, pro_fk, res_date_cre)"
        " SELECT current_date - 1000 + i, 'indisp', h, h, now()"
        " FROM generate_series(101, 650) AS h, generate_series(0, 9) AS i"
    )
    common.vacuum_analyze()
    return common.scalar("SELECT count(*) FROM reservation_proprio")


def seed_big(per_cottage_past=700, per_cottage_future=300, cottages=5000):
    """Every cottage gets a past and a far-future history outside the queried window."""
    common.sql(
        "INSERT INTO reservation_proprio (res_date, res_type, heb_fk, pro_fk, res_date_cre)"
        " SELECT d, CASE WHEN mod(h, 5) = 0 THEN 'indisp' ELSE 'loue' END, h, h, now()"
        " FROM generate_series(1, %s) AS h,"
        " LATERAL (SELECT current_date - %s + i AS d FROM generate_series(0, %s - 1) AS i"
        "          UNION ALL"
        "          SELECT current_date + 120 + i FROM generate_series(0, %s - 1) AS i) AS days",
        (cottages, per_cottage_past, per_cottage_past, per_cottage_future),
    )
    common.vacuum_analyze("reservation_proprio")
    # Flush the ~1 GB of dirty pages now, not during the measurement.
    common.sql("CHECKPOINT")
    return common.scalar("SELECT count(*) FROM reservation_proprio")


def explain_selected_days(today, heb_pk=2):
    """EXPLAIN (ANALYZE, BUFFERS) of the very statement selectedDays runs, and
    the table's statistics: the plan must be an index range scan on
    (heb_fk, res_date) whatever the table size, with fresh statistics."""
    from sqlalchemy.dialects import postgresql

    from gites.calendar.clock import add_months
    from gites.calendar.domain.public_read import STATE_AND_DAY_LIST

    compiled = STATE_AND_DAY_LIST.compile(dialect=postgresql.psycopg2.dialect())
    params = dict(compiled.params)  # the visibility conditions' literals
    params.update(
        heb_pk=heb_pk,
        start=datetime.datetime.combine(today, datetime.time()),
        end=datetime.datetime.combine(add_months(today.replace(day=1), 3), datetime.time()),
    )
    rows = common.sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), params, fetch=True)
    stats = common.sql(
        "SELECT n_live_tup, n_dead_tup, last_vacuum IS NOT NULL OR last_autovacuum IS NOT NULL,"
        " last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
        " FROM pg_stat_user_tables WHERE relname = 'reservation_proprio'",
        fetch=True,
    )[0]
    common.log(
        f"  reservation_proprio: {stats[0]:,} live, {stats[1]:,} dead rows,"
        f" vacuumed {stats[2]}, analyzed {stats[3]}; plan of selectedDays:"
    )
    for (line,) in rows:
        common.log(f"    {line}")
    return [line for (line,) in rows]


def scan_kind(plan):
    """How the plan reads reservation_proprio (first matching node)."""
    for line in plan:
        if "reservation_proprio" in line and "Scan" in line:
            return line.strip().lstrip("-> ").split("  ")[0]
    return "?"


def wait_http(url, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")
