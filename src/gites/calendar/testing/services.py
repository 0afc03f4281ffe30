"""The base of every layer that brings an outside service, and its check.

A :class:`ServiceLayer` (the databases of :mod:`gites.calendar.testing.db`,
RabbitMQ of :mod:`gites.calendar.testing.amqp`, Chromium of
:mod:`gites.calendar.testing.browser`) that cannot start its service records
the reason; :func:`require_layer` (called by :class:`DatabaseTestCase` and
the browser bases) makes the tests on it skip with that reason -- except
under ``CI=true``, where the layer fails instead: CI must never pass by
skipping.  Imported by the layer modules; the package re-exports it.
"""

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
