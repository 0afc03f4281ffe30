"""Test layers and fixtures, one module per service or concern; here the
base of every layer that brings an outside service, and its check.

* here: :class:`ServiceLayer`, :class:`ServiceUnavailable`,
  :func:`require_layer`, :class:`DatabaseTestCase`;
* :mod:`.db` -- SQLite and PostgreSQL, :func:`~.db.on_both_databases`, the
  read-path probes; :mod:`.plone` -- the add-on's Plone layers on either;
* :mod:`.amqp` -- RabbitMQ (a vhost per test process), PostgreSQL +
  RabbitMQ (``DAEMON_PG``) and the broker helpers, on :mod:`.broker`
  (rabbitmqctl, vhosts, persistent publishes: what the benchmarks share);
  :mod:`.daemon` -- the daemon as a subprocess or a thread, the broker
  test-case bases;
* :mod:`.browser` -- the WSGI server and the one Chromium layer;
* :mod:`.fixtures` -- seeding, members, the site's language, the frozen
  clock, the owner scenario and its test-case bases;
  :mod:`.hub_messages` -- the hub message bodies and vectors;
* :mod:`.smtp`, :mod:`.http`, :mod:`.widget_server` -- servers a test
  starts in its own process (nothing outside can be missing, and a server
  that does not start is a test error).

Every layer that brings an outside service -- the two databases, RabbitMQ,
Chromium -- is a :class:`ServiceLayer`: a service that cannot be used makes
the tests that need it skip with the reason, except under ``CI=true``,
where the layer fails instead: CI must never pass by skipping.  Tests
derive from :class:`DatabaseTestCase` (or call :func:`require_layer`) to
get that behaviour, whichever services their layer stacks.

This module imports nothing heavy: the benchmarks import :mod:`.broker`,
and a large benchmark process would inflate the peak memory its measured
children report.  The layers of :mod:`.db` and :mod:`.plone` are still
reachable as ``testing.SQLITE_DB`` and the like (:func:`__getattr__`).
"""

import importlib
import os
import unittest

from plone.testing import Layer


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


# The layers, by the module that defines them: read as attributes of the
# package (``testing.SQLITE_DB``), imported only then.
_LAYER_MODULES = {
    "SQLITE_DB": "db",
    "POSTGRES_DB": "db",
    "DATABASES": "db",
    "GITES_CALENDAR_FIXTURE": "plone",
    "GITES_CALENDAR_INTEGRATION_TESTING": "plone",
    "GITES_CALENDAR_INTEGRATION_TESTING_PG": "plone",
    "GITES_CALENDAR_FUNCTIONAL_TESTING": "plone",
    "GITES_CALENDAR_FUNCTIONAL_TESTING_PG": "plone",
    "GITES_CALENDAR_RESTAPI_FIXTURE": "plone",
    "GITES_CALENDAR_RESTAPI_FUNCTIONAL_TESTING": "plone",
    "GITES_CALENDAR_RESTAPI_FUNCTIONAL_TESTING_PG": "plone",
}


def __getattr__(name):
    if name not in _LAYER_MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_LAYER_MODULES[name]}")
    return getattr(module, name)
