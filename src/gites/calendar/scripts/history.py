"""calendarHistory: the change log of one cottage's calendar (ops).

Prints the changes, newest first: when, what (new type and range, or the
calendar's new state), how many days really changed, source and actor.
``--json`` prints one JSON array instead, for scripts.

Exit status: 0 done (even with no change); 1 database error; 2 bad
settings or options, or no such cottage.
"""

import argparse
import datetime
import json
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import history
from gites.calendar.config import SettingsError, load_settings
from gites.calendar.db import configure_db, session_scope
from gites.calendar.models import Hebergement

PROG = "calendarHistory"


def parse_day(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def parse_positive(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 0 < number < 2**31:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


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


def main(argv=None, out=print):
    args = make_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    configure_db(settings.db_url)
    try:
        with session_scope() as session:
            if session.get(Hebergement, args.heb) is None:
                print(f"{PROG}: no cottage with heb_pk {args.heb}", file=sys.stderr)
                return 2
            rows = history.changes(
                session, args.heb, since=args.since, day=args.day, limit=args.limit
            )
    except SQLAlchemyError as error:
        print(f"{PROG}: database error: {str(error).splitlines()[0]}", file=sys.stderr)
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
