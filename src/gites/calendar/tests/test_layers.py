"""No module imports a layer above its own (docs/design.rst, "Layers").

Bottom to top: the foundation (settings, clock, logsafe, interfaces and the
package itself: ``_``, ``logger``) -> ``db`` -> ``domain`` -> the Zope side
(``browser``, ``portlets``, ``upgrades``, ``setuphandlers``, ``startup``) |
``messaging`` -> ``scripts``.  ``testing`` may import anything; nothing but
the tests imports ``tests``.  The Zope side and messaging sit side by side:
neither imports the other.  Every import counts, also those inside functions.

    make test TEST_ARGS="-t test_layers"
"""

import ast
import pathlib
import tempfile
import unittest

import gites.calendar

PACKAGE = "gites.calendar"
ROOT = pathlib.Path(gites.calendar.__file__).resolve().parent

# First component under gites.calendar -> (level, side).  Same level, other
# side: refused too.
LAYERS = {
    "": (0, None),
    "settings": (0, None),
    "clock": (0, None),
    "logsafe": (0, None),
    "interfaces": (0, None),
    "db": (1, None),
    "domain": (2, None),
    "browser": (3, "zope"),
    "portlets": (3, "zope"),
    "upgrades": (3, "zope"),
    "setuphandlers": (3, "zope"),
    "startup": (3, "zope"),
    "messaging": (3, "messaging"),
    "scripts": (4, None),
    "testing": (5, None),
    "tests": (6, None),
}


def layer_of(module):
    """The layer key of a dotted module name inside the package, else None."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    rest = module[len(PACKAGE) + 1 :]
    return rest.split(".")[0] if rest else ""


def module_name(root, path):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def imported_modules(tree, module, is_package):
    """(line, dotted name) of every import of the module's AST; for
    ``from X import y`` both X and X.y (y may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def allowed(importer, imported):
    if importer in ("testing", "tests"):
        return imported != "tests" or importer == "tests"
    level, side = LAYERS[importer]
    other_level, other_side = LAYERS[imported]
    if other_level > level:
        return False
    return not (other_level == level and side and other_side and side != other_side)


def upward_imports(root=ROOT):
    """One line per import that runs up a layer (or across the Zope side and
    messaging), naming the file and the import."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "data" in path.relative_to(root).parts:
            continue  # tests/data: scripts that run outside the package
        module = module_name(root, path)
        importer = layer_of(module)
        if importer not in LAYERS:
            found.append(f"{path.relative_to(root)}: not in any layer (add it to LAYERS)")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            imported = layer_of(target)
            if imported is None or imported not in LAYERS:
                continue  # outside the package, or a name (from gites.calendar import _)
            if not allowed(importer, imported):
                found.append(
                    f"{path.relative_to(root)}:{line}: imports {target}"
                    f" ({imported or PACKAGE} is above {importer or PACKAGE})"
                )
    return sorted(set(found))


class TestLayers(unittest.TestCase):
    def test_no_module_imports_a_layer_above_its_own(self):
        found = upward_imports()
        self.assertEqual(found, [], "\n" + "\n".join(found))

    def test_every_top_level_module_is_in_a_layer(self):
        modules = {p.stem for p in ROOT.glob("*.py")}
        modules |= {p.parent.name for p in ROOT.glob("*/__init__.py")}
        self.assertEqual(sorted(modules - set(LAYERS) - {"__init__"}), [])

    def test_an_upward_import_is_named(self):
        # The check itself: a domain module importing the browser, the
        # browser importing messaging, anything importing scripts.
        with tempfile.TemporaryDirectory() as folder:
            root = pathlib.Path(folder)
            for package in ("domain", "browser", "messaging", "scripts"):
                (root / package).mkdir()
                (root / package / "__init__.py").write_text("")
            (root / "domain" / "bad.py").write_text(
                "def f():\n    from gites.calendar.browser import base\n"
            )
            (root / "browser" / "cross.py").write_text("from gites.calendar.messaging import x\n")
            (root / "messaging" / "up.py").write_text("from ..scripts import hub_daemon\n")
            (root / "domain" / "good.py").write_text("from gites.calendar.db import models\n")
            self.assertEqual(
                upward_imports(root),
                [
                    "browser/cross.py:1: imports gites.calendar.messaging"
                    " (messaging is above browser)",
                    "browser/cross.py:1: imports gites.calendar.messaging.x"
                    " (messaging is above browser)",
                    "domain/bad.py:2: imports gites.calendar.browser (browser is above domain)",
                    "domain/bad.py:2: imports gites.calendar.browser.base"
                    " (browser is above domain)",
                    "messaging/up.py:1: imports gites.calendar.scripts"
                    " (scripts is above messaging)",
                    "messaging/up.py:1: imports gites.calendar.scripts.hub_daemon"
                    " (scripts is above messaging)",
                ],
            )
