"""initCalendarDatabase and the schema: idempotent, never touches legacy tables."""

import contextlib
import io
import os
import unittest
from unittest import mock

from sqlalchemy import inspect, text

from gites.calendar.db import schema as db_schema
from gites.calendar.db.models import Base
from gites.calendar.scripts import init_database
from gites.calendar.testing import DatabaseTestCase
from gites.calendar.testing.db import db_layers, on_both_databases

# A legacy-shaped hebergement table with columns this package does not map.
LEGACY_HEBERGEMENT = """
CREATE TABLE hebergement (
    heb_pk integer PRIMARY KEY,
    heb_nom varchar,
    heb_code_cgt varchar,
    heb_site_public varchar,
    heb_pro_fk integer,
    heb_calendrier_proprio varchar,
    heb_calendrier_proprio_date_maj date,
    heb_adresse varchar,
    heb_nombre_chambres integer
)
"""


def run_init(url, *args):
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"GITES_DB_URL": url}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = init_database.main(list(args))
    return code, out.getvalue(), err.getvalue()


def columns(engine, table):
    return [(c["name"], str(c["type"])) for c in inspect(engine).get_columns(table)]


@on_both_databases(db_layers())
class TestInitDatabase(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.engine = self.layer["engine"]
        self.url = self.layer["db_url"]
        # Start from an empty database for these tests.
        Base.metadata.drop_all(self.engine)

    def tearDown(self):
        Base.metadata.drop_all(self.engine)
        with self.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS hebergement"))
        db_schema.create_schema(self.engine)
        super().tearDown()

    def test_creates_everything_then_nothing(self):
        code, out, _ = run_init(self.url)
        self.assertEqual(code, 0)
        self.assertIn("created legacy table (minimal, for development) reservation_proprio", out)
        self.assertIn(f"created index {db_schema.RESERVATION_INDEX}", out)
        before = {t: columns(self.engine, t) for t in inspect(self.engine).get_table_names()}
        code, out, _ = run_init(self.url)
        self.assertEqual(code, 0)
        self.assertNotIn("created", out)
        self.assertIn("up to date", out)
        after = {t: columns(self.engine, t) for t in inspect(self.engine).get_table_names()}
        self.assertEqual(before, after)

    def test_legacy_table_with_extra_columns_is_untouched(self):
        with self.engine.begin() as connection:
            connection.execute(text(LEGACY_HEBERGEMENT))
            connection.execute(
                text(
                    "INSERT INTO hebergement (heb_pk, heb_nom, heb_adresse, heb_nombre_chambres)"
                    " VALUES (7, 'Legacy', 'Rue 1', 3)"
                )
            )
        before = columns(self.engine, "hebergement")
        code, out, _ = run_init(self.url, "--demo")
        self.assertEqual(code, 0)
        self.assertNotIn(
            "hebergement\n",
            out.replace("created legacy table (minimal, for development) hebergement", "X"),
        )
        self.assertEqual(columns(self.engine, "hebergement"), before)
        with self.engine.connect() as connection:
            row = connection.execute(
                text("SELECT heb_adresse, heb_nombre_chambres FROM hebergement WHERE heb_pk = 7")
            ).one()
        self.assertEqual(tuple(row), ("Rue 1", 3))

    def test_demo_is_loaded_once(self):
        self.assertEqual(run_init(self.url, "--demo")[0], 0)
        code, out, _ = run_init(self.url, "--demo")
        self.assertEqual(code, 0)
        self.assertNotIn("demo rows", out)
        with self.engine.connect() as connection:
            self.assertEqual(
                connection.execute(text("SELECT count(*) FROM hebergement")).scalar(), 3
            )
            self.assertEqual(connection.execute(text("SELECT count(*) FROM proprio")).scalar(), 2)
            # The demo members' owner links (make run's proprio and proprio2).
            self.assertEqual(
                connection.execute(
                    text("SELECT member_id, pro_pk FROM gites_calendar_owner_link ORDER BY 1")
                ).all(),
                [("proprio", 1), ("proprio2", 2)],
            )

    def test_duplicates_block_the_index_until_removed(self):
        db_schema.create_schema(self.engine)
        with self.engine.begin() as connection:
            connection.execute(text(f"DROP INDEX {db_schema.RESERVATION_INDEX}"))
            connection.execute(text("INSERT INTO proprio (pro_pk, pro_etat) VALUES (1, true)"))
            connection.execute(text("INSERT INTO hebergement (heb_pk, heb_pro_fk) VALUES (1, 1)"))
            for res_id in (1, 2, 3):
                connection.execute(
                    text(
                        "INSERT INTO reservation_proprio (res_id, res_date, res_type, heb_fk)"
                        " VALUES (:id, '2030-01-01 00:00:00', 'loue', 1)"
                    ),
                    {"id": res_id},
                )
        code, _, err = run_init(self.url)
        self.assertEqual(code, 1)
        self.assertIn("1 (cottage, day) pairs with more than one row", err)
        code, out, _ = run_init(self.url, "--remove-duplicates")
        self.assertEqual(code, 0)
        self.assertIn("removed 2 duplicate reservation rows", out)
        with self.engine.connect() as connection:
            ids = connection.execute(text("SELECT res_id FROM reservation_proprio")).scalars().all()
        self.assertEqual(ids, [1])


class TestInitDatabaseSettings(unittest.TestCase):
    def test_missing_url(self):
        err = io.StringIO()
        with mock.patch.dict(os.environ, {}, clear=True), contextlib.redirect_stderr(err):
            self.assertEqual(init_database.main([]), 2)
        lines = err.getvalue().strip().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("initCalendarDatabase: GITES_DB_URL is not set"))


class TestPins(unittest.TestCase):
    def test_constraints_and_versions_match_the_lock(self):
        import pathlib
        import subprocess
        import sys

        top = pathlib.Path(__file__).resolve().parents[4]
        result = subprocess.run(
            [sys.executable, str(top / "tools" / "pins.py"), "check"],
            capture_output=True,
            text=True,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


@on_both_databases(db_layers())
class TestOwnTablesGainColumns(DatabaseTestCase):
    """A column added to an own table reaches databases made before it."""

    def setUp(self):
        super().setUp()
        self.engine = self.layer["engine"]

    def tearDown(self):
        Base.metadata.drop_all(self.engine)
        db_schema.create_schema(self.engine)
        super().tearDown()

    def test_ical_token_gets_pro_pk(self):
        with self.engine.begin() as connection:
            connection.execute(text("DROP TABLE gites_calendar_ical_token"))
            connection.execute(
                text(
                    "CREATE TABLE gites_calendar_ical_token (heb_pk INTEGER PRIMARY KEY,"
                    " token VARCHAR(64) NOT NULL UNIQUE, created_at TIMESTAMP NOT NULL)"
                )
            )
        done = db_schema.create_schema(self.engine)
        self.assertIn("added column gites_calendar_ical_token.pro_pk", done)
        names = [name for name, _type in columns(self.engine, "gites_calendar_ical_token")]
        self.assertIn("pro_pk", names)
        self.assertEqual(db_schema.create_schema(self.engine), [])
