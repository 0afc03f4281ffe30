"""gitesCalendarOwnerLink: which Plone member is which proprio (ops).

The other writer of ``gites_calendar_owner_link`` beside the control panel
*Propriétaires des calendriers* (docs/security.rst).  It works on the database alone, so it
cannot check that a member id exists in Plone: give the user id shown in
*Site Setup → Users* (for most sites, the login name).

Exit status: 0 done; 1 nothing to remove or database error; 2 bad settings,
arguments or unknown proprio.
"""

import argparse
import getpass
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar.db import session_scope
from gites.calendar.logsafe import one_line
from gites.calendar.models import Proprio
from gites.calendar.scripts._cli import console_script, first_line, number_parser

PROG = "gitesCalendarOwnerLink"
MAX_PK = 2**31 - 1
parse_pk = number_parser(MAX_PK, "a proprio number (pro_pk)")


def make_parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every link: member id, pro_pk, set by, set at")
    set_ = commands.add_parser("set", help="make a member the owner of a proprio")
    set_.add_argument("member_id", help="the member's Plone user id")
    set_.add_argument("pro_pk", type=parse_pk, help="the proprio's pro_pk")
    remove = commands.add_parser("remove", help="remove a member's link")
    remove.add_argument("member_id", help="the member's Plone user id")
    return parser


@console_script(PROG, make_parser)
def main(args, settings, out=print):
    from gites.calendar.owners import all_links, remove_link, set_link

    try:
        with session_scope() as session:
            if args.command == "list":
                for link, proprio in all_links(session):
                    name = proprio.display_name if proprio is not None else "(no such proprio)"
                    out(
                        f"{one_line(link.member_id)}\t{link.pro_pk}\t{one_line(name)}"
                        f"\t{one_line(link.set_by)}\t{link.set_at:%Y-%m-%d %H:%M}"
                    )
                return 0
            if args.command == "set":
                if session.get(Proprio, args.pro_pk) is None:
                    print(f"{PROG}: no proprio {args.pro_pk}", file=sys.stderr)
                    return 2
                set_link(session, args.member_id, args.pro_pk, f"{PROG} ({getpass.getuser()})")
                out(f"{one_line(args.member_id)} is the owner of proprio {args.pro_pk}")
                return 0
            if not remove_link(session, args.member_id):
                print(f"{PROG}: {one_line(args.member_id)} has no link", file=sys.stderr)
                return 1
            out(f"{one_line(args.member_id)}: link removed")
            return 0
    except SQLAlchemyError as error:
        print(f"{PROG}: database error: {one_line(first_line(error))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
