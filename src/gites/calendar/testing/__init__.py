"""Test layers: databases (SQLite and PostgreSQL) and the Plone stack on each.

Layers, small ones first (as plone.app.event stacks them):

* ``SQLITE_DB`` / ``POSTGRES_DB`` -- a fresh database with the package's
  schema, registered through :func:`gites.calendar.db.session.configure_db`; every
  table is emptied before each test.  PostgreSQL: a throw-away database
  ``gites_calendar_test_<pid>`` is created on the server named by
  ``GITES_TEST_DB_URL`` (default: the local server) and dropped afterwards,
  so parallel runs never meet.
* ``GITES_CALENDAR_{INTEGRATION,FUNCTIONAL}_TESTING[_PG]`` -- Plone with the
  add-on installed, on one database or the other.

Every layer that brings an outside service -- the two databases here,
RabbitMQ (:mod:`gites.calendar.testing.amqp`), Chromium
(:mod:`gites.calendar.testing.browser`) -- is a :class:`ServiceLayer`: a
service that cannot be used makes the tests that need it skip with the
reason, except under ``CI=true``, where the layer fails instead: CI must
never pass by skipping.  Tests derive from :class:`DatabaseTestCase` (or
call :func:`require_layer`) to get that behaviour, whichever services their
layer stacks.  (The SMTP and HTTP servers of :mod:`gites.calendar.testing.smtp`
and :mod:`gites.calendar.testing.http` run in the test process, started by
the test: nothing outside can be missing, and a server that does not start
is a test error.)
"""

import contextlib
import datetime
import os
import tempfile
import unittest
from unittest import mock

from plone.app.testing import (
    PLONE_FIXTURE,
    TEST_USER_ID,
    FunctionalTesting,
    IntegrationTesting,
    PloneSandboxLayer,
    applyProfile,
    setRoles,
)
from plone.testing import Layer
from sqlalchemy import create_engine, event, text
import transaction

from gites.calendar.db import schema as db_schema
from gites.calendar.db import session as db
from gites.calendar.db.models import Base

DEFAULT_TEST_PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


class ServiceUnavailable(Exception):
    """Raised by :meth:`ServiceLayer.start_service`: the service cannot be used (the reason)."""


class ServiceLayer(Layer):
    """The base of every layer that brings an outside service.

    A subclass names its ``service`` and fills in the hooks:
    :meth:`start_service` (raises :class:`ServiceUnavailable` with the
    reason when the service cannot be used), :meth:`stop_service` and
    :meth:`reset_service` (before each test); none of them runs for a
    service that did not start.  The layer's resource
    ``<service>_unavailable`` is ``None`` or the reason, and
    :func:`require_layer` reads it for every service layer a test stacks.
    Under ``CI=true`` a service that cannot be used fails the layer instead.
    """

    service = None

    @property
    def unavailable_key(self):
        return f"{self.service}_unavailable"

    def setUp(self):
        self[self.unavailable_key] = None
        try:
            self.start_service()
        except ServiceUnavailable as error:
            reason = f"{self.__name__}: {error}"
            if in_ci():
                raise RuntimeError(f"{reason} (CI=true: not skipping)") from None
            self[self.unavailable_key] = reason

    def tearDown(self):
        if self[self.unavailable_key] is None:
            self.stop_service()
        del self[self.unavailable_key]

    def testSetUp(self):
        if self[self.unavailable_key] is None:
            self.reset_service()

    def start_service(self):
        raise NotImplementedError

    def stop_service(self):
        pass

    def reset_service(self):
        pass


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


def service_layers(layer):
    """The :class:`ServiceLayer` instances among ``layer`` and its bases."""
    order = getattr(layer, "baseResolutionOrder", ())  # a plone.testing layer, or not
    return [each for each in order if isinstance(each, ServiceLayer)]


def require_layer(testcase):
    """Skip the test when a service its layer stacks cannot be used; under
    ``CI=true`` fail it instead (the layer has failed already, but a test
    must never pass by skipping)."""
    for service in service_layers(getattr(testcase, "layer", None)):
        reason = service.get(service.unavailable_key)
        if reason:
            if in_ci():
                raise RuntimeError(f"{reason} (CI=true: not skipping)")
            raise unittest.SkipTest(reason)


class DatabaseTestCase(unittest.TestCase):
    """Base class of the tests that need their layer's services."""

    def setUp(self):
        require_layer(self)
        super().setUp()


def on_both_databases(layers_by_backend):
    """Class decorator: run the test class on SQLite and on PostgreSQL.

    ``layers_by_backend`` maps "sqlite" and "postgresql" to a layer.  The
    decorated class keeps the SQLite layer; a twin class ``<Name>PostgreSQL``
    with the PostgreSQL layer is put in the same module.
    """

    def decorate(cls):
        import sys

        module = sys.modules[cls.__module__]
        twin = type(f"{cls.__name__}PostgreSQL", (cls,), {"layer": layers_by_backend["postgresql"]})
        twin.__module__ = cls.__module__
        setattr(module, twin.__name__, twin)
        cls.layer = layers_by_backend["sqlite"]
        return cls

    return decorate


def db_layers():
    return {"sqlite": SQLITE_DB, "postgresql": POSTGRES_DB}


# -- Plone ------------------------------------------------------------------


class GitesCalendarLayer(PloneSandboxLayer):
    defaultBases = (PLONE_FIXTURE,)

    def setUpZope(self, app, configurationContext):
        import five.grok
        import plone.app.contenttypes
        import z3c.saconfig

        self.loadZCML(package=five.grok)
        self.loadZCML(package=z3c.saconfig, name="meta.zcml")
        self.loadZCML(package=plone.app.contenttypes)
        import gites.calendar

        self.loadZCML(package=gites.calendar)

    def setUpPloneSite(self, portal):
        # As on a real site: content is private until published.
        portal.portal_workflow.setDefaultChain("simple_publication_workflow")
        applyProfile(portal, "gites.calendar:default")
        setRoles(portal, TEST_USER_ID, ["Manager"])


GITES_CALENDAR_FIXTURE = GitesCalendarLayer()

GITES_CALENDAR_INTEGRATION_TESTING = IntegrationTesting(
    bases=(GITES_CALENDAR_FIXTURE, SQLITE_DB), name="GitesCalendar:Integration:SQLite"
)
GITES_CALENDAR_INTEGRATION_TESTING_PG = IntegrationTesting(
    bases=(GITES_CALENDAR_FIXTURE, POSTGRES_DB), name="GitesCalendar:Integration:PostgreSQL"
)
GITES_CALENDAR_FUNCTIONAL_TESTING = FunctionalTesting(
    bases=(GITES_CALENDAR_FIXTURE, SQLITE_DB), name="GitesCalendar:Functional:SQLite"
)
GITES_CALENDAR_FUNCTIONAL_TESTING_PG = FunctionalTesting(
    bases=(GITES_CALENDAR_FIXTURE, POSTGRES_DB), name="GitesCalendar:Functional:PostgreSQL"
)


class GitesCalendarRestapiLayer(PloneSandboxLayer):
    """The add-on plus ``plone.restapi:default``, as on a Volto or headless
    site: the JSON write paths (``PATCH @users``) a member could use."""

    defaultBases = (GITES_CALENDAR_FIXTURE,)

    def setUpZope(self, app, configurationContext):
        import plone.restapi
        from plone.testing import zope

        self.loadZCML(package=plone.restapi)
        zope.installProduct(app, "plone.restapi")

    def setUpPloneSite(self, portal):
        applyProfile(portal, "plone.restapi:default")


GITES_CALENDAR_RESTAPI_FIXTURE = GitesCalendarRestapiLayer()
GITES_CALENDAR_RESTAPI_FUNCTIONAL_TESTING = FunctionalTesting(
    bases=(GITES_CALENDAR_RESTAPI_FIXTURE, SQLITE_DB), name="GitesCalendar:RestAPI:SQLite"
)
GITES_CALENDAR_RESTAPI_FUNCTIONAL_TESTING_PG = FunctionalTesting(
    bases=(GITES_CALENDAR_RESTAPI_FIXTURE, POSTGRES_DB), name="GitesCalendar:RestAPI:PostgreSQL"
)


def restapi_functional_layers():
    return {
        "sqlite": GITES_CALENDAR_RESTAPI_FUNCTIONAL_TESTING,
        "postgresql": GITES_CALENDAR_RESTAPI_FUNCTIONAL_TESTING_PG,
    }


def integration_layers():
    return {
        "sqlite": GITES_CALENDAR_INTEGRATION_TESTING,
        "postgresql": GITES_CALENDAR_INTEGRATION_TESTING_PG,
    }


def functional_layers():
    return {
        "sqlite": GITES_CALENDAR_FUNCTIONAL_TESTING,
        "postgresql": GITES_CALENDAR_FUNCTIONAL_TESTING_PG,
    }


# -- data -------------------------------------------------------------------


def add_proprio(session, pro_pk, email="owner@example.org", active=True, **extra):
    from gites.calendar.db.models import Proprio

    proprio = Proprio(
        pro_pk=pro_pk,
        pro_nom1=extra.pop("nom", f"Nom{pro_pk}"),
        pro_prenom1=extra.pop("prenom", f"Prenom{pro_pk}"),
        pro_email=email,
        pro_etat=active,
        **extra,
    )
    session.add(proprio)
    return proprio


def add_cottage(
    session, heb_pk, pro_pk, cgt=None, public=True, state="actif", updated=None, **extra
):
    from gites.calendar.db.models import Hebergement

    heb = Hebergement(
        heb_pk=heb_pk,
        heb_nom=extra.pop("nom", f"Gîte {heb_pk}"),
        heb_code_cgt=cgt,
        heb_site_public="1" if public else "0",
        heb_pro_fk=pro_pk,
        heb_calendrier_proprio=state,
        heb_calendrier_proprio_date_maj=updated or datetime.date(2020, 1, 1),
        **extra,
    )
    session.add(heb)
    return heb


@contextlib.contextmanager
def read_statements(engine):
    """The list of the SQL statements the public reads send on ``engine``
    while in the block, whichever path they take: SQLAlchemy's (recorded
    by its cursor event) or the prepared statements on a raw psycopg2
    cursor (:class:`gites.calendar.domain.public_read.PreparedRead`, recorded as their
    SELECT; the PREPARE a new connection sends once is not listed)."""
    from gites.calendar.domain import public_read as visibility

    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    class Recording(visibility._PreparedReader):
        def _run(self, prepared, values):
            statements.append(prepared.sql)
            return super()._run(prepared, values)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with mock.patch.object(visibility, "_PreparedReader", Recording):
            yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def settle_state_cache(engine, generation, timeout=5.0):
    """Wait until the read engine's state cache handled a notification sent
    after it was at ``generation`` (PostgreSQL; nothing to wait for on other
    databases).  Notifications are handled by another thread, a few
    milliseconds after the commit: tests wait for it instead of sleeping."""
    import time

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
    import time

    from gites.calendar.domain.public_read import state_cache

    cache = state_cache(engine)
    deadline = time.monotonic() + timeout
    while cache is not None and not cache.live:
        if time.monotonic() > deadline:
            raise AssertionError(f"the state cache did not listen within {timeout} s")
        time.sleep(0.005)
    return cache


def commit():
    """Commit the Zope transaction (and with it the SQL session)."""
    transaction.commit()


def link_member(session, member_id, pro_pk):
    """Make Plone member ``member_id`` the owner of proprio ``pro_pk``, as
    the control panel or the ops script does."""
    from gites.calendar.domain.owners import set_link

    return set_link(session, member_id, pro_pk, "test")


def site_in_language(language):
    """The site speaks ``language`` only, whatever the browser asks for."""
    from plone import api

    api.portal.set_registry_record("plone.default_language", language)
    api.portal.set_registry_record("plone.available_languages", [language])


def site_in_french():
    """The site speaks French (its source language), whatever the catalogues hold."""
    site_in_language("fr")
