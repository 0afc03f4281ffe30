"""Test layers and fixtures: the add-on's Plone layers here, one module per
service or concern beside them.

Here: ``GITES_CALENDAR_FIXTURE``, Plone with the add-on installed (the
``simple_publication_workflow``, as on a real site), and the
``GITES_CALENDAR_{INTEGRATION,FUNCTIONAL}_TESTING[_PG]`` and ``RESTAPI``
layers that stack it on one database or the other; :func:`integration_layers`
and the like give the pair a class decorated with
:func:`~gites.calendar.testing.db.on_both_databases` runs on.  The service
layers' base (:mod:`.services`: :class:`ServiceLayer`, :func:`require_layer`,
:class:`DatabaseTestCase`) and the database layers Plone stacks on
(``SQLITE_DB``, ``POSTGRES_DB``) can be imported from here too.

Beside:

* :mod:`.services` -- :class:`ServiceLayer`, the base of every layer that
  brings an outside service: one that cannot be used makes the tests on it
  skip with the reason, or fail under ``CI=true``;
* :mod:`.db` -- SQLite and PostgreSQL, :func:`~.db.on_both_databases`, the
  read-path probes;
* :mod:`.amqp` -- RabbitMQ (a vhost per test process), PostgreSQL +
  RabbitMQ (``DAEMON_PG``) and the broker helpers; :mod:`.daemon` -- the
  daemon as a subprocess or a thread, the broker test-case bases;
* :mod:`.browser` -- the WSGI server and the one Chromium layer;
* :mod:`.fixtures` -- seeding, members, the site's language, the frozen
  clock, the owner scenario and its test-case bases;
  :mod:`.hub_messages` -- the hub message bodies and vectors;
* :mod:`.smtp`, :mod:`.http`, :mod:`.widget_server` -- servers a test
  starts in its own process (nothing outside can be missing, and a server
  that does not start is a test error).
"""

from plone.app.testing import (
    PLONE_FIXTURE,
    TEST_USER_ID,
    FunctionalTesting,
    IntegrationTesting,
    PloneSandboxLayer,
    applyProfile,
    setRoles,
)

from gites.calendar.testing.db import POSTGRES_DB, SQLITE_DB

# Re-exported: the service base is shared by every kind of test.
from gites.calendar.testing.services import (  # noqa: F401
    DatabaseTestCase,
    ServiceLayer,
    ServiceUnavailable,
    require_layer,
    service_layers,
)


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
