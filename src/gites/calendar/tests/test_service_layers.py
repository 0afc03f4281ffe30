"""The service layers: one base, so that every outside service a test stacks
(PostgreSQL, RabbitMQ, Chromium) makes it skip -- or fail under ``CI=true``
-- the same way, through :func:`gites.calendar.testing.require_layer`."""

import os
import pathlib
import re
import unittest
from unittest import mock

from plone.testing import Layer

import gites.calendar
from gites.calendar import testing
from gites.calendar.testing import amqp as testing_amqp
from gites.calendar.testing import browser


class FakeService(testing.ServiceLayer):
    """A service whose start-up fails with ``reason`` (or works without one)."""

    service = "fake"

    def __init__(self, reason=None, **kw):
        super().__init__(**kw)
        self.reason = reason
        self.calls = []

    def start_service(self):
        self.calls.append("start")
        if self.reason:
            raise testing.ServiceUnavailable(self.reason)
        self["fake_url"] = "fake://here"

    def stop_service(self):
        self.calls.append("stop")
        del self["fake_url"]

    def reset_service(self):
        self.calls.append("reset")


def environment(ci):
    values = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        values["CI"] = "true"
    return mock.patch.dict(os.environ, values, clear=True)


class TestServiceLayer(unittest.TestCase):
    def case_on(self, layer):
        """A test case whose layer is ``layer``."""
        return type("Case", (unittest.TestCase,), {"layer": layer, "runTest": None})()

    def test_a_missing_service_makes_the_tests_skip_outside_ci(self):
        service = FakeService("no fake server on port 1", name="Fake")
        stacked = Layer(bases=(Layer(bases=(), name="Plain"), service), name="Stacked")
        with environment(ci=False):
            service.setUp()
            self.addCleanup(service.tearDown)
            service.testSetUp()
            self.assertEqual(service["fake_unavailable"], "Fake: no fake server on port 1")
            with self.assertRaises(unittest.SkipTest) as caught:
                testing.require_layer(self.case_on(stacked))
        self.assertEqual(str(caught.exception), "Fake: no fake server on port 1")
        self.assertEqual(service.calls, ["start"])  # neither reset nor, later, stop

    def test_under_ci_the_layer_fails_and_so_would_the_test(self):
        service = FakeService("no fake server on port 1", name="Fake")
        with environment(ci=True), self.assertRaises(RuntimeError) as caught:
            service.setUp()
        self.assertEqual(
            str(caught.exception), "Fake: no fake server on port 1 (CI=true: not skipping)"
        )
        with environment(ci=False):
            service.setUp()  # the reason recorded, as outside CI
        self.addCleanup(service.tearDown)
        with environment(ci=True), self.assertRaises(RuntimeError) as caught:
            testing.require_layer(self.case_on(service))
        self.assertIn("(CI=true: not skipping)", str(caught.exception))

    def test_a_service_that_starts(self):
        service = FakeService(name="Fake")
        with environment(ci=True):
            service.setUp()
            service.testSetUp()
            self.assertIsNone(service["fake_unavailable"])
            self.assertEqual(service["fake_url"], "fake://here")
            testing.require_layer(self.case_on(Layer(bases=(service,), name="On top")))
            service.tearDown()
        self.assertEqual(service.calls, ["start", "reset", "stop"])
        self.assertNotIn("fake_unavailable", service)

    def test_require_layer_without_a_service_layer(self):
        testing.require_layer(self.case_on(Layer(bases=(), name="Plain")))
        testing.require_layer(unittest.TestCase())  # no layer at all

    def test_every_outside_service_is_a_service_layer(self):
        services = {
            layer.__name__: layer.service
            for layer in (
                testing.SQLITE_DB,
                testing.POSTGRES_DB,
                testing_amqp.RABBITMQ,
                browser.CHROMIUM,
            )
            if isinstance(layer, testing.ServiceLayer)
        }
        self.assertEqual(
            services,
            {
                "gites.calendar:SQLite": "db",
                "gites.calendar:PostgreSQL": "db",
                "gites.calendar:RabbitMQ": "amqp",
                "gites.calendar:Chromium": "chromium",
            },
        )
        self.assertEqual(
            testing.service_layers(testing_amqp.DAEMON_PG),
            [testing.POSTGRES_DB, testing_amqp.RABBITMQ],
        )
        self.assertEqual(
            testing.service_layers(browser.GITES_CALENDAR_BROWSER_TESTING),
            [testing.SQLITE_DB, browser.CHROMIUM],
        )
        self.assertEqual(
            testing.service_layers(testing.GITES_CALENDAR_FUNCTIONAL_TESTING_PG),
            [testing.POSTGRES_DB],
        )

    def test_no_testing_module_records_a_missing_service_by_hand(self):
        # A layer that did would escape require_layer: it must be a ServiceLayer.
        package = pathlib.Path(gites.calendar.__file__).resolve().parent
        modules = sorted(package.glob("testing*.py")) + sorted(package.glob("testing/*.py"))
        sources = {path: path.read_text(encoding="utf-8") for path in modules}
        self.assertTrue(any("class ServiceLayer(" in text for text in sources.values()))
        by_hand = re.compile(r"""\[\s*["'][a-z_]*_unavailable["']\s*\]\s*=""")
        found = [
            f"{path.name}:{number}"
            for path, text in sources.items()
            for number, line in enumerate(text.splitlines(), 1)
            if by_hand.search(line)
        ]
        self.assertEqual(found, [])
