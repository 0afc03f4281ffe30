"""gitesCalendarDemo: put the demonstration data into the database.

The tables that are missing, then the demo proprios, cottages and owner
links that are missing (``gites.calendar.domain.demo``; nothing that is there is
changed), as ``make run`` does before it starts the site.  The Plone members
``proprio`` and ``proprio2`` are made in the site by ``tools/create_site.py``.

Exit status: 0 done; 1 database error; 2 bad settings.
"""

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar.db.schema import SchemaError, create_schema
from gites.calendar.db.session import configure_db, session_scope
from gites.calendar.logsafe import one_line
from gites.calendar.scripts._cli import EXIT_SETTINGS, first_line, settings_or_report
from gites.calendar.settings import mask_url

PROG = "gitesCalendarDemo"


def main(argv=None, out=print):
    from gites.calendar.domain.demo import MEMBERS, load_demo

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    settings = settings_or_report(PROG)
    if settings is None:
        return EXIT_SETTINGS
    engine = configure_db(settings.db_url)
    try:
        create_schema(engine)
        with session_scope() as session:
            added = load_demo(session)
    except (SchemaError, SQLAlchemyError) as error:
        print(f"{PROG}: {one_line(first_line(error))}", file=sys.stderr)
        return 1
    out(f"{mask_url(settings.db_url)}: {added} demo rows added")
    for login, _password, pro_pk in MEMBERS:
        out(f"member {login}: owner of proprio {pro_pk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
