"""calendarHistory: the change log of one cottage's calendar (ops).

Prints the changes, newest first: when, what (new type and range, or the
calendar's new state), how many days really changed, source and actor.
``--json`` prints one JSON array instead, for scripts.

Exit status: 0 done (even with no change); 1 database error; 2 bad
settings or options, or no such cottage.
"""

import argparse
import json
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import history
from gites.calendar.db import session_scope
from gites.calendar.models import Hebergement
from gites.calendar.scripts._cli import console_script, first_line, number_parser, parse_day

PROG = "calendarHistory"


parse_positive = number_parser(2**31 - 1, "a positive whole number")


def make_parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--heb", type=parse_positive, required=True, metavar="PK", help="heb_pk")
    parser.add_argument(
        "--day", type=parse_day, metavar="YYYY-MM-DD", help="only the changes covering this day"
    )
    parser.add_argument(
        "--since", type=parse_day, metavar="YYYY-MM-DD", help="only the changes made since this day"
    )
    parser.add_argument(
        "--limit", type=parse_positive, default=200, help="at most this many (default 200)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    return parser


def describe(change):
    """One line of the text output."""
    when = change.changed_at.strftime("%Y-%m-%d %H:%M:%S")
    if change.first_day is None:
        what = f"calendar state -> {change.new_type}"
    else:
        span = change.first_day.isoformat()
        if change.last_day != change.first_day:
            span += f"..{change.last_day.isoformat()}"
        what = f"{change.new_type} {span} ({change.changed_days} days changed)"
    who = change.source if change.actor is None else f"{change.source} {change.actor}"
    return f"{when}  #{change.id}  {what}  by {who}"


@console_script(PROG, make_parser)
def main(args, settings, out=print):
    try:
        with session_scope() as session:
            if session.get(Hebergement, args.heb) is None:
                print(f"{PROG}: no cottage with heb_pk {args.heb}", file=sys.stderr)
                return 2
            rows = history.changes(
                session, args.heb, since=args.since, day=args.day, limit=args.limit
            )
    except SQLAlchemyError as error:
        print(f"{PROG}: database error: {first_line(error)}", file=sys.stderr)
        return 1
    if args.json:
        out(json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=1))
    elif not rows:
        out(f"cottage {args.heb}: no change recorded")
    else:
        for row in rows:
            out(describe(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
