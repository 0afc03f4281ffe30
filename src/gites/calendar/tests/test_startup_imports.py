"""The daemon imports nothing of Zope or Plone (its start-up time).

Run in fresh interpreters: this test process has Zope loaded already.
"""

import subprocess
import sys
import tempfile
import textwrap
import unittest

ZOPE_ROOTS = ("zope", "z3c", "transaction", "persistent", "ZODB", "Products", "plone", "five")


def run_python(code):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return out.stdout.strip().splitlines()


class TestDaemonImports(unittest.TestCase):
    def test_daemon_entry_point_loads_no_zope(self):
        loaded = run_python(
            f"""
            import sys
            from gites.calendar.scripts.hub_daemon import main
            # (namespace packages, made by .pth files at start, have no file)
            print("\\n".join(sorted(
                m for m, module in list(sys.modules.items())
                if m.split(".")[0] in {ZOPE_ROOTS!r} and getattr(module, "__file__", None)
            )))
            """
        )
        # The message factory's ids (a small C extension) and nothing else.
        others = [m for m in loaded if not m.startswith("zope.i18nmessageid")]
        self.assertEqual(others, [])
        self.assertIn("zope.i18nmessageid", loaded)

    def test_database_without_the_component_architecture(self):
        # What the daemon does with the database, in a process without
        # zope.component: configure, create, write in a session, read back.
        with tempfile.TemporaryDirectory() as folder:
            lines = run_python(
                f"""
                import sys
                from sqlalchemy import text
                from gites.calendar.db import session as db, schema as db_schema
                engine = db.configure_db("sqlite:///{folder}/t.db")
                db_schema.create_schema(engine)
                assert db.get_engine() is engine
                with db.session_scope() as session:
                    session.execute(text("INSERT INTO proprio (pro_pk) VALUES (7)"))
                with db.get_read_engine().connect() as connection:
                    print(connection.execute(text("SELECT pro_pk FROM proprio")).scalar())
                again = db.configure_db("sqlite:///{folder}/t.db")
                assert db.get_engine() is again is not engine
                print("zope.component" in sys.modules)
                """
            )
        self.assertEqual(lines, ["7", "False"])
