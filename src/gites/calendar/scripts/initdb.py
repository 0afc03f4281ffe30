"""initCalendarDatabase: create the tables of gites.calendar that are missing.

Idempotent; never alters or drops an existing table (production's legacy
tables have many more columns).  ``--demo`` loads the demonstration data
where it is missing.
"""

import argparse
import sys

from gites.calendar.config import mask_url
from gites.calendar.db import SchemaError, configure_db, create_schema, session_scope
from gites.calendar.scripts._cli import EXIT_SETTINGS, settings_or_report


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="initCalendarDatabase", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--demo", action="store_true", help="load the demonstration data where missing"
    )
    parser.add_argument(
        "--remove-duplicates",
        action="store_true",
        help="delete duplicate (cottage, day) reservation rows, keeping the oldest, so that the"
        " unique index can be created",
    )
    args = parser.parse_args(argv)
    settings = settings_or_report("initCalendarDatabase")
    if settings is None:
        return EXIT_SETTINGS
    engine = configure_db(settings.db_url)
    try:
        done = create_schema(engine, remove_duplicates=args.remove_duplicates)
    except SchemaError as error:
        print(f"initCalendarDatabase: {error}", file=sys.stderr)
        return 1
    if args.demo:
        from gites.calendar.demo import load_demo

        with session_scope() as session:
            added = load_demo(session)
        if added:
            done.append(f"added {added} demo rows")
    for line in done:
        print(line)
    print(f"{mask_url(settings.db_url)}: {'up to date' if not done else 'done'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
