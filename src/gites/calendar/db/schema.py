"""Schema creation and the clean-up of duplicate reservations."""

from sqlalchemy import inspect, text

from gites.calendar.db.models import LEGACY_TABLES, Base

# One row per cottage and night (docs/database.rst). On a legacy database that already
# holds duplicates, initCalendarDatabase --remove-duplicates clears them first.
RESERVATION_INDEX = "reservation_proprio_heb_day_uniq"


def missing_tables(engine):
    existing = set(inspect(engine).get_table_names())
    return [t for t in Base.metadata.sorted_tables if t.name not in existing]


def duplicate_reservations(connection):
    """Number of (cottage, day) pairs with more than one reservation row."""
    return connection.execute(
        text(
            "SELECT count(*) FROM (SELECT heb_fk, res_date FROM reservation_proprio"
            " GROUP BY heb_fk, res_date HAVING count(*) > 1) AS d"
        )
    ).scalar()


def remove_duplicate_reservations(connection):
    """Keep the oldest row (lowest res_id) of each (cottage, day)."""
    return connection.execute(
        text(
            "DELETE FROM reservation_proprio WHERE res_id IN ("
            " SELECT r.res_id FROM reservation_proprio r JOIN reservation_proprio o"
            " ON o.heb_fk = r.heb_fk AND o.res_date = r.res_date AND o.res_id < r.res_id)"
        )
    ).rowcount


class SchemaError(Exception):
    pass


def add_missing_columns(engine):
    """Add the nullable columns an own table gained since it was created.

    Only the package's own tables, and only nullable columns without a
    default: ``ADD COLUMN`` is then the same on PostgreSQL and SQLite and
    rewrites nothing.  Legacy tables are never touched.
    """
    done = []
    own = [t for t in Base.metadata.sorted_tables if t.name not in LEGACY_TABLES]
    with engine.begin() as connection:
        inspector = inspect(connection)
        existing = set(inspector.get_table_names())
        for table in own:
            if table.name not in existing:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have or not column.nullable:
                    continue
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(
                    text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")
                )
                done.append(f"added column {table.name}.{column.name}")
    return done


def create_schema(engine, remove_duplicates=False):
    """Create the missing tables and the reservation index; return what was done.

    Existing tables are never altered: production's legacy tables have many
    more columns than the ones mapped here.
    """
    done = []
    for table in missing_tables(engine):
        table.create(engine)
        kind = "legacy table (minimal, for development)" if table.name in LEGACY_TABLES else "table"
        done.append(f"created {kind} {table.name}")
    done.extend(add_missing_columns(engine))
    with engine.begin() as connection:
        indexes = {ix["name"] for ix in inspect(connection).get_indexes("reservation_proprio")}
        if RESERVATION_INDEX not in indexes:
            duplicates = duplicate_reservations(connection)
            if duplicates and not remove_duplicates:
                raise SchemaError(
                    f"reservation_proprio holds {duplicates} (cottage, day) pairs with more than"
                    " one row; run initCalendarDatabase --remove-duplicates to keep the oldest"
                    " row of each and create the unique index"
                )
            if duplicates:
                removed = remove_duplicate_reservations(connection)
                done.append(f"removed {removed} duplicate reservation rows")
            connection.execute(
                text(
                    f"CREATE UNIQUE INDEX {RESERVATION_INDEX}"
                    " ON reservation_proprio (heb_fk, res_date)"
                )
            )
            done.append(f"created index {RESERVATION_INDEX}")
    return done
