"""The rule of the test modules: none imports another.

What several test modules share (seeding, members, the frozen clock, test-case
bases, servers) lives in the ``gites.calendar.testing*`` modules; a test
module imports it from there, never from ``gites.calendar.tests``.  Importing
a test module from another one runs its tests twice (zope.testrunner finds
the imported classes again) and hides which fixtures are shared.
"""

import ast
import pathlib
import textwrap
import unittest

TESTS = pathlib.Path(__file__).resolve().parent
FORBIDDEN = "gites.calendar.tests"


def _names_the_tests(dotted):
    return dotted == FORBIDDEN or dotted.startswith(FORBIDDEN + ".")


def imports_of_test_modules(source, filename="<test module>"):
    """The places where ``source`` imports from the test package:
    ``["file:line: what"]`` (relative imports included: in the test package
    they can only name it or a module of it)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if _names_the_tests(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names = ["." * node.level + (node.module or "")]
            elif node.module == "gites.calendar":
                names = [f"gites.calendar.{a.name}" for a in node.names if a.name == "tests"]
            else:
                names = [node.module] if _names_the_tests(node.module or "") else []
        elif isinstance(node, ast.Call) and node.args:
            # importlib.import_module("gites.calendar.tests.x") and the like
            first = node.args[0]
            is_text = isinstance(first, ast.Constant) and isinstance(first.value, str)
            names = [first.value] if is_text and _names_the_tests(first.value) else []
        else:
            continue
        found.extend((node.lineno, name) for name in names)
    return [f"{filename}:{line}: {name}" for line, name in sorted(found)]


class TestModulesImportNoTestModule(unittest.TestCase):
    def test_no_test_module_imports_another(self):
        modules = sorted(TESTS.rglob("*.py"))
        self.assertIn(TESTS / "test_views_owner.py", modules)  # the walk found them
        found = []
        for path in modules:
            source = path.read_text(encoding="utf-8")
            found.extend(imports_of_test_modules(source, str(path.relative_to(TESTS))))
        self.assertEqual(found, [], "import these from gites.calendar.testing* instead")

    def test_the_check_sees_every_way_of_importing_a_test_module(self):
        source = textwrap.dedent(
            """
            import gites.calendar.tests.test_views_owner
            from gites.calendar.tests.test_addrange import OwnerFunctionalTestCase
            from gites.calendar.tests import test_views_owner
            from gites.calendar import tests
            from . import test_addrange
            from .test_views_owner import seed
            importlib.import_module("gites.calendar.tests.test_codec")

            def later():
                from gites.calendar.tests.test_views_owner import OWNER
            """
        )
        self.assertEqual(
            imports_of_test_modules(source, "t.py"),
            [
                "t.py:2: gites.calendar.tests.test_views_owner",
                "t.py:3: gites.calendar.tests.test_addrange",
                "t.py:4: gites.calendar.tests",
                "t.py:5: gites.calendar.tests",
                "t.py:6: .",
                "t.py:7: .test_views_owner",
                "t.py:8: gites.calendar.tests.test_codec",
                "t.py:11: gites.calendar.tests.test_views_owner",
            ],
        )

    def test_the_testing_modules_and_look_alike_names_are_fine(self):
        source = textwrap.dedent(
            """
            import gites.calendar.testing
            from gites.calendar.testing.fixtures import OwnerFunctionalTestCase
            from gites.calendar import testing
            from gites.calendar.testing import amqp
            from gites.calendar.testsuite import x
            from gites.calendar.messaging import tests_helpers
            print("gites.calendar.tests is where the tests are")
            """
        )
        self.assertEqual(imports_of_test_modules(source), [])
