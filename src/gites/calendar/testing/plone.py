"""The add-on's Plone layers, each on SQLite or on PostgreSQL.

``GITES_CALENDAR_FIXTURE`` is Plone with the add-on installed (the
``simple_publication_workflow``, as on a real site); the
``GITES_CALENDAR_{INTEGRATION,FUNCTIONAL}_TESTING[_PG]`` layers stack it on
one database layer of :mod:`gites.calendar.testing.db` or the other, and the
``RESTAPI`` ones add ``plone.restapi:default``.  :func:`integration_layers`
and the like give the pair a class decorated with
:func:`gites.calendar.testing.db.on_both_databases` runs on.
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
