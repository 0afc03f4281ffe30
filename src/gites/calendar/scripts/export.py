"""exportCalendarEvents: queue every future reservation for the hub.

Consecutive days of one cottage and type become one site -> hub message,
written to the outbox and published by the daemon's relay.  Only cottages
with a CGT code are exported.

Exit status: 0 done; 1 database error (nothing queued); 2 bad settings,
options or cottage.
"""

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import clock
from gites.calendar.db import session_scope
from gites.calendar.export import ExportError, export
from gites.calendar.scripts._cli import console_script, first_line, number_parser

PROG = "exportCalendarEvents"
MAX_PK = 2**31 - 1  # hebergement.heb_pk is an INTEGER
parse_pk = number_parser(MAX_PK, "a cottage number (heb_pk)")


def make_parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--heb", type=parse_pk, metavar="PK", help="export only this cottage")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the ranges (heb_pk, CGT code, start, end, type) and queue nothing",
    )
    return parser


@console_script(PROG, make_parser)
def main(args, settings):
    now = clock.now()
    out = print if args.dry_run else None
    try:
        with session_scope() as session:
            report = export(
                session, now.date(), now, heb_pk=args.heb, dry_run=args.dry_run, out=out
            )
            if args.dry_run:
                session.rollback()
    except ExportError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"{PROG}: database error, nothing queued: {first_line(error)}", file=sys.stderr)
        return 1
    verb = "would queue" if args.dry_run else "queued"
    print(
        f"{verb} {report.ranges} messages ({report.days} days) for {report.cottages} cottages"
        f" from {now.date().isoformat()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
