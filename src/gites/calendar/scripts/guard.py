"""hubGuard: show or clear a cottage's hub ordering guard rows.

``gites_calendar_hub_applied`` remembers, per cottage, the notifications
applied (docs/messaging.rst, "Order and duplicates").  A stray notification
with a huge ``notf_id`` makes every later real one "superseded" on its
days; a hub whose counter was reset does the same to all of them.  Then::

    hubGuard show HAFF1234                     # the rows, highest first
    hubGuard clear HAFF1234 --above 41000 --yes   # drop the stray rows only
    hubGuard clear --all --yes                 # after a hub counter reset

Clearing changes no day: the next notification about them is applied as new.
Same settings as the daemon (``GITES_DB_URL``).  Exit: 0 done, 1 database
error, 2 bad arguments or settings (or ``clear`` without ``--yes``).
"""

import argparse
import sys

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import db
from gites.calendar.config import mask_url
from gites.calendar.messaging.handler import clear_guard, guard_rows
from gites.calendar.models import Hebergement
from gites.calendar.scripts._cli import EXIT_SETTINGS, settings_or_report

PROG = "hubGuard"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print a cottage's guard rows, highest first")
    show.add_argument("cgt", help="the cottage's CGT code")
    clear = commands.add_parser("clear", help="delete guard rows")
    clear.add_argument("cgt", nargs="?", help="the cottage's CGT code")
    clear.add_argument("--all", action="store_true", help="every cottage's rows")
    clear.add_argument("--above", type=int, help="only the rows with a notf_id above this")
    clear.add_argument("--yes", action="store_true", help="really delete")
    args = parser.parse_args(argv)
    if args.command == "clear" and bool(args.cgt) == bool(args.all):
        parser.error("clear: give a CGT code or --all (not both)")
    return args


def cottages(session, cgt):
    return list(session.scalars(select(Hebergement.heb_pk).where(Hebergement.heb_code_cgt == cgt)))


def main(argv=None, out=print):
    args = parse_args(argv)
    settings = settings_or_report(PROG)
    if settings is None:
        return EXIT_SETTINGS
    db.configure_db(settings.db_url)
    try:
        with db.session_scope() as session:
            pks = None if getattr(args, "all", False) else cottages(session, args.cgt)
            if pks == []:
                print(f"{PROG}: no cottage has the CGT code {args.cgt!r}", file=sys.stderr)
                return 2
            if args.command == "show":
                rows = guard_rows(session, pks)
                for heb_pk, notf_id, start, end, applied_at in rows:
                    when = f"{applied_at:%Y-%m-%d %H:%M}"
                    out(f"{heb_pk} notf {notf_id} {start}..{end} applied {when}")
                out(f"{len(rows)} guard row(s)")
                return 0
            if not args.yes:
                print(f"{PROG}: clear deletes rows: add --yes", file=sys.stderr)
                return 2
            removed = clear_guard(session, pks, args.above)
            out(f"{removed} guard row(s) deleted")
            return 0
    except SQLAlchemyError as error:
        print(f"{PROG}: database {mask_url(settings.db_url)}: {error}", file=sys.stderr)
        return 1
    finally:
        db.get_engine().dispose()


if __name__ == "__main__":
    sys.exit(main())
