"""gites.calendar: owners' availability calendars for the Gîtes de Wallonie."""

import pathlib

from setuptools import find_namespace_packages, setup

long_description = "\n\n".join(
    pathlib.Path(name).read_text(encoding="utf-8") for name in ("README.rst", "CHANGES.rst")
)

setup(
    name="gites.calendar",
    version="2.0.0.dev0",
    description=(
        "Owners' availability calendars for the Gîtes de Wallonie (Plone add-on and hub daemon)"
    ),
    long_description=long_description,
    long_description_content_type="text/x-rst",
    classifiers=[
        "Environment :: Web Environment",
        "Framework :: Plone",
        "Framework :: Plone :: 6.1",
        "Framework :: Plone :: Addon",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    ],
    keywords="plone calendar booking rabbitmq",
    author="Gîtes de Wallonie",
    license="GPL-2.0-or-later",
    # ``gites`` is a native (PEP 420) namespace package: src/gites has no
    # __init__.py.  pkg_resources-style namespaces are gone with setuptools 81+.
    package_dir={"": "src"},
    packages=find_namespace_packages("src", include=["gites.*"]),
    include_package_data=True,
    zip_safe=False,
    python_requires=">=3.10",
    install_requires=[
        "Products.CMFPlone>=6.1,<6.2",
        # The distribution a Plone 6.1 classic site runs (plone.restapi included),
        # so that make, the tests and buildout all run the same site.
        "plone.classicui",
        "plone.app.contenttypes",
        "plone.app.portlets",
        "plone.api",
        "five.grok>=4.1",
        "z3c.saconfig>=2.1",
        "zope.sqlalchemy>=3",
        "SQLAlchemy>=2",
        "psycopg2",
        "kombu>=5.7",
        "icalendar>=6",
        "recurring-ical-events>=2",
        "prometheus_client",
        "zope.interface",
        "transaction",
    ],
    extras_require={
        "test": [
            "plone.app.testing",
            "plone.testing",
            "zope.testrunner",
            "aiosmtpd",
            "playwright",
            "hypothesis",
        ],
        "dev": ["ruff", "zpretty", "py-spy"],
    },
    entry_points={
        "z3c.autoinclude.plugin": ["target = plone"],
        "console_scripts": [
            "initCalendarDatabase = gites.calendar.scripts.init_database:main",
            "importCalendarEventsFromWalhebCalendarDaemon = gites.calendar.scripts.hub_daemon:main",
            "publishHubMessage = gites.calendar.scripts.hub_tool:main",
            "checkCalendarActivity = gites.calendar.scripts.check_activity:main",
            "exportCalendarEvents = gites.calendar.scripts.export_events:main",
            "gitesCalendarDemo = gites.calendar.scripts.demo_data:main",
            "gitesCalendarOwnerLink = gites.calendar.scripts.owner_link:main",
            "calendarHistory = gites.calendar.scripts.calendar_history:main",
            "hubGuard = gites.calendar.scripts.hub_guard:main",
            "parkedHubMessages = gites.calendar.scripts.parked_messages:main",
            "importIcalFeeds = gites.calendar.scripts.import_ical_feeds:main",
        ],
    },
)
