"""The database: one entry point, :func:`configure_db`, for everyone.

Zope start-up, the daemon, the cron scripts and the tests call
``configure_db(url)``.  It registers, under the name ``gites_wallons``:

* a z3c.saconfig engine factory (the engine is built from the URL the
  caller got from the environment, never from ZCML);
* a ``GloballyScopedSession``: the session Plone views use, which joins the
  Zope transaction through zope.sqlalchemy, so a request writes all or
  nothing.

Processes without a Zope transaction (the daemon, the scripts) take plain
sessions from :func:`new_session` on the same engine and commit themselves.

A process that has not loaded Zope's component architecture (the daemon,
the cron scripts: nothing of theirs needs it) keeps its engine in this
module instead, and never imports z3c.saconfig nor zope.component: that
import was a third of the daemon's start-up.  Either way the same engine
serves the same calls; only Plone views use the named session.
"""

import contextlib
import sys
import threading
import weakref

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from gites.calendar import logger
from gites.calendar.settings import mask_url

SESSION_NAME = "gites_wallons"

# The engine of a process without the component architecture.
_PLAIN = {}
_SCOPED = {}


def uses_components():
    """Whether this process loaded Zope's component architecture (Zope, the
    tests): then the engine and session are registered z3c.saconfig
    utilities, as Plone views expect."""
    return "zope.component" in sys.modules


def _scoped_session():
    """The named z3c.saconfig scoped session (made at first use)."""
    scoped = _SCOPED.get("session")
    if scoped is None:
        from z3c.saconfig import named_scoped_session

        scoped = _SCOPED.setdefault("session", named_scoped_session(SESSION_NAME))
    return scoped


def __getattr__(name):
    # ``db.Session_``, as before, without importing z3c.saconfig at import.
    if name == "Session_":
        return _scoped_session()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def engine_options(url):
    """Engine keyword arguments suited to the URL's database."""
    if url.startswith("sqlite"):
        options = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            options["poolclass"] = StaticPool
        return options
    # Connections are checked before use so that a restarted PostgreSQL does
    # not cost a failed request.
    options = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
    if normalize_url(url).drivername == "postgresql+psycopg2":
        # executemany of UPDATE/DELETE in pages of 100 statements per round
        # trip (psycopg2's execute_batch) instead of one round trip each:
        # reservations.write_days deletes one run of days per statement.
        options["executemany_mode"] = "values_plus_batch"
    return options


def _sqlite_pragmas(dbapi_connection, connection_record):
    # pysqlite's own transaction handling breaks SAVEPOINTs (the daemon's
    # batches use them): let SQLAlchemy emit BEGIN itself (_sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection):
    connection.exec_driver_sql("BEGIN")


def normalize_url(url):
    """``postgresql://`` means psycopg2 here (SQLAlchemy 2.1 would pick psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def make_engine(url):
    """A SQLAlchemy engine for ``url`` with the options its database needs."""
    engine = create_engine(normalize_url(url), **engine_options(str(url)))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


class FixedEngineFactory:
    """z3c.saconfig engine factory for an engine built once, at start-up."""

    def __init__(self, engine):
        self.engine = engine

    def __call__(self):
        return self.engine

    def configuration(self):
        return (self.engine.url,), {}

    def reset(self):
        self.engine.dispose()


def register_engine(engine):
    """Register ``engine`` and the named session in the current registry
    (or, without the component architecture, keep the engine here)."""
    if not uses_components():
        _PLAIN["engine"] = engine
        return engine
    from z3c.saconfig import GloballyScopedSession
    from z3c.saconfig.interfaces import IEngineFactory, IScopedSession
    from zope.component import provideUtility
    from zope.interface import classImplements

    classImplements(FixedEngineFactory, IEngineFactory)
    _PLAIN.clear()
    provideUtility(FixedEngineFactory(engine), provides=IEngineFactory, name=SESSION_NAME)
    provideUtility(
        GloballyScopedSession(engine=SESSION_NAME), provides=IScopedSession, name=SESSION_NAME
    )
    forget_sessions()
    return engine


def forget_sessions():
    """Drop the scoped sessions of every thread, not only this one's.

    Sessions are kept per thread ident, and idents are reused: a new server
    thread must not inherit a session bound to a previous engine.
    """
    scoped = _scoped_session()
    scoped.remove()
    registry = scoped.registry
    stale = getattr(registry, "registry", None)
    if isinstance(stale, dict):
        for session in list(stale.values()):
            session.close()
        stale.clear()


def configure_db(url):
    """Build the engine for ``url`` and register it with the named session.

    Calling it again with another URL replaces both.
    """
    old = _PLAIN.get("engine")
    if old is not None:
        old.dispose()
    elif uses_components():
        from z3c.saconfig.interfaces import IEngineFactory
        from zope.component import queryUtility

        factory = queryUtility(IEngineFactory, name=SESSION_NAME)
        if factory is not None:
            factory.reset()
    logger.info("database: %s", mask_url(url))
    return register_engine(make_engine(url))


def get_engine():
    engine = _PLAIN.get("engine")
    if engine is not None:
        return engine
    from z3c.saconfig.interfaces import IEngineFactory
    from zope.component import getUtility

    return getUtility(IEngineFactory, name=SESSION_NAME)()


def warm_database():
    """Open the pool's first database connection and configure the ORM
    mappers in a thread (the daemon's start-up: its main thread meanwhile
    connects to the broker and declares its topology, and the first
    housekeeping and the first batch find both done instead of waiting for
    them after the broker).  Adds no check and removes none: a database
    that fails here fails again, and is reported, where the consumer uses
    it.  PostgreSQL only (an in-memory SQLite database is one connection
    shared by every thread)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return None

    def warm():
        try:
            from sqlalchemy.orm import configure_mappers

            with engine.connect():
                pass
            configure_mappers()
        except Exception:  # reported by the consumer's own use of the database
            logger.debug("database warm-up failed", exc_info=True)

    thread = threading.Thread(target=warm, name="gites-calendar-db-warm-up", daemon=True)
    thread.start()
    return thread


# engine -> its read engine (see get_read_engine); an engine that goes away
# takes its entry with it.
_READ_ENGINES = weakref.WeakKeyDictionary()


def make_read_engine(engine):
    """The engine for reads outside any transaction (the public views).

    PostgreSQL: the same database through a pool of its own whose
    connections are in autocommit mode from the start, with no pre-ping and
    no reset on return.  A read then costs its SELECT alone; on the main
    pool it also paid the ping, switching to autocommit and back, and the
    rollback on return (measured: about a third of the public
    ``selectedDays``' time).  Without the ping, a connection killed by a
    database restart fails once: :func:`gites.calendar.domain.visibility.read_busy_days`
    reads again, on a connection the pool makes anew.  Disposed with
    ``engine``.

    Other databases (SQLite, possibly in memory): a view of ``engine`` whose
    connections are switched to autocommit while checked out.
    """
    if engine.dialect.name != "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    read = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_reset_on_return=None,
        pool_size=5,
        max_overflow=10,
    )
    event.listen(engine, "engine_disposed", lambda _connection: read.dispose())
    return read


def get_read_engine():
    """:func:`make_read_engine` of the registered engine, made once."""
    engine = get_engine()
    read = _READ_ENGINES.get(engine)
    if read is None:
        # Two threads may both make one: creating an engine opens nothing,
        # and only the one stored is ever used.
        read = _READ_ENGINES.setdefault(engine, make_read_engine(engine))
    return read


def get_session():
    """The Zope-transaction-bound session (for Plone views)."""
    return _scoped_session()()


def new_session():
    """A plain session on the same engine; the caller commits."""
    return Session(bind=get_engine(), expire_on_commit=False)


@contextlib.contextmanager
def session_scope():
    """A plain session committed on success, rolled back on error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# -- schema -----------------------------------------------------------------
