"""Database layers: SQLite and PostgreSQL, and the probes of the read paths.

* ``SQLITE_DB`` / ``POSTGRES_DB`` -- a fresh database with the package's
  schema, registered through :func:`gites.calendar.db.session.configure_db`; every
  table is emptied before each test.  PostgreSQL: a throw-away database
  ``gites_calendar_test_<pid>`` is created on the server named by
  ``GITES_TEST_DB_URL`` (default: the local server) and dropped afterwards,
  so parallel runs never meet.  Both are service layers
  (:class:`gites.calendar.testing.services.ServiceLayer`).
* :func:`on_both_databases` runs a test class on each.
* :func:`read_statements`, :func:`settle_state_cache`,
  :func:`wait_for_state_cache` -- what the public reads send, and the
  PostgreSQL state cache's notifications.
"""

import contextlib
import os
import sys
import tempfile
import time
from unittest import mock

from sqlalchemy import create_engine, event, text

from gites.calendar.db import schema as db_schema
from gites.calendar.db import session as db
from gites.calendar.db.models import Base
from gites.calendar.testing.services import ServiceLayer, ServiceUnavailable

DEFAULT_TEST_PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


class DatabaseLayer(ServiceLayer):
    """A fresh database holding the package's schema."""

    service = "db"
    backend = None

    def start_service(self):
        url = self.create_database()
        self["db_url"] = url
        self["engine"] = db.make_engine(url)
        db_schema.create_schema(self["engine"])

    def stop_service(self):
        self["engine"].dispose()
        self.drop_database()
        del self["engine"]
        del self["db_url"]

    def reset_service(self):
        # Registered per test, in whatever registry is current (Plone's
        # sandboxes stack and pop their own).
        db.register_engine(self["engine"])
        empty_tables(self["engine"])
        # Emptied without notifications: no state kept from a test before.
        from gites.calendar.domain.public_read import _STATE_CACHES

        cache = _STATE_CACHES.get(db.get_read_engine())
        if cache is not None:
            cache.drop()

    def create_database(self):
        raise NotImplementedError

    def drop_database(self):
        raise NotImplementedError


def empty_tables(engine):
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


class SQLiteLayer(DatabaseLayer):
    backend = "sqlite"

    def create_database(self):
        # A file, not :memory:, so that threads (the WSGI test server) and
        # subprocesses (the daemon) see the same data.
        self._dir = tempfile.TemporaryDirectory(prefix="gites-calendar-test-")
        return f"sqlite:///{self._dir.name}/gites.db"

    def drop_database(self):
        self._dir.cleanup()


class PostgreSQLLayer(DatabaseLayer):
    backend = "postgresql"

    def create_database(self):
        server = os.environ.get("GITES_TEST_DB_URL") or DEFAULT_TEST_PG_SERVER
        self._server_url = db.normalize_url(server)
        if self._server_url.get_backend_name() != "postgresql":
            raise RuntimeError(f"GITES_TEST_DB_URL must be a postgresql:// URL, not {server!r}")
        self._name = f"gites_calendar_test_{os.getpid()}"
        admin = create_engine(self._server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self._name}"'))
                connection.execute(text(f'CREATE DATABASE "{self._name}"'))
        except Exception as error:  # any driver error means: no usable server
            raise ServiceUnavailable(
                f"PostgreSQL at {self._server_url.render_as_string(hide_password=True)}"
                f" is not usable: {str(error).splitlines()[0]}"
            ) from None
        finally:
            admin.dispose()
        return self._server_url.set(database=self._name).render_as_string(hide_password=False)

    def drop_database(self):
        admin = create_engine(self._server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
        admin.dispose()


SQLITE_DB = SQLiteLayer(name="gites.calendar:SQLite")
POSTGRES_DB = PostgreSQLLayer(name="gites.calendar:PostgreSQL")
DATABASES = (SQLITE_DB, POSTGRES_DB)


def on_both_databases(layers_by_backend):
    """Class decorator: run the test class on SQLite and on PostgreSQL.

    ``layers_by_backend`` maps "sqlite" and "postgresql" to a layer.  The
    decorated class keeps the SQLite layer; a twin class ``<Name>PostgreSQL``
    with the PostgreSQL layer is put in the same module.
    """

    def decorate(cls):
        module = sys.modules[cls.__module__]
        twin = type(f"{cls.__name__}PostgreSQL", (cls,), {"layer": layers_by_backend["postgresql"]})
        twin.__module__ = cls.__module__
        setattr(module, twin.__name__, twin)
        cls.layer = layers_by_backend["sqlite"]
        return cls

    return decorate


def db_layers():
    return {"sqlite": SQLITE_DB, "postgresql": POSTGRES_DB}


# -- the read paths ---------------------------------------------------------


@contextlib.contextmanager
def read_statements(engine):
    """The list of the SQL statements the public reads send on ``engine``
    while in the block, whichever path they take: SQLAlchemy's (recorded
    by its cursor event) or the prepared statements on a raw psycopg2
    cursor (:class:`gites.calendar.domain.public_read.PreparedRead`, recorded as their
    SELECT; the PREPARE a new connection sends once is not listed)."""
    from gites.calendar.domain import public_read

    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    class Recording(public_read._PreparedReader):
        def _run(self, prepared, values):
            statements.append(prepared.sql)
            return super()._run(prepared, values)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with mock.patch.object(public_read, "_PreparedReader", Recording):
            yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def settle_state_cache(engine, generation, timeout=5.0):
    """Wait until the read engine's state cache handled a notification sent
    after it was at ``generation`` (PostgreSQL; nothing to wait for on other
    databases).  Notifications are handled by another thread, a few
    milliseconds after the commit: tests wait for it instead of sleeping."""
    from gites.calendar.domain.public_read import state_cache

    cache = state_cache(engine)
    if cache is None:
        return
    deadline = time.monotonic() + timeout
    while cache.generation == generation:
        if time.monotonic() > deadline:
            raise AssertionError(f"no calendar state notification within {timeout} s")
        time.sleep(0.005)


def wait_for_state_cache(engine, timeout=5.0):
    """Wait until the read engine's state cache listens (PostgreSQL)."""
    from gites.calendar.domain.public_read import state_cache

    cache = state_cache(engine)
    deadline = time.monotonic() + timeout
    while cache is not None and not cache.live:
        if time.monotonic() > deadline:
            raise AssertionError(f"the state cache did not listen within {timeout} s")
        time.sleep(0.005)
    return cache
