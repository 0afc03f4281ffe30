"""importIcalFeeds: import owners' Airbnb, Booking.com, Vrbo, Google... calendars.

``run`` imports every feed that is due (from cron, every few minutes);
``run --heb PK`` all feeds of one cottage now; ``add``, ``list`` and
``remove`` manage the feeds.  See docs/scripts.rst.

Exit status: 0 done; 1 a feed failed, or another run holds the lock, or a
database error; 2 bad settings or options.
"""

import argparse
import datetime
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import clock
from gites.calendar.db.locks import advisory_lock
from gites.calendar.db.session import configure_db, get_engine, session_scope
from gites.calendar.domain import ical_import, ical_subscriptions
from gites.calendar.logsafe import one_line
from gites.calendar.scripts._cli import console_script, first_line
from gites.calendar.scripts.check_activity import setup_logging

PROG = "importIcalFeeds"
# Arbitrary constant naming importIcalFeeds' PostgreSQL advisory lock.
RUN_LOCK_KEY = 0x67C0_1CA1


def positive(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def minutes(value):
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of minutes")
    return number


def make_parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="import the feeds that are due")
    run.add_argument("--heb", type=positive, metavar="PK", help="all feeds of this cottage, now")
    run.add_argument(
        "--every",
        type=minutes,
        default=int(ical_import.DEFAULT_EVERY.total_seconds() // 60),
        metavar="MINUTES",
        help="a feed is due this long after its last fetch, 0: all now (default: %(default)s)",
    )
    run.add_argument(
        "--workers",
        type=positive,
        default=ical_import.DEFAULT_WORKERS,
        help="feeds fetched at once (default: %(default)s)",
    )
    add = commands.add_parser("add", help="add a feed to a cottage")
    add.add_argument("--heb", type=positive, required=True, metavar="PK")
    add.add_argument("url", help="https://, http:// or webcal:// address of the feed")
    add.add_argument("--name", help="what the owner calls it (Airbnb, Booking...)")
    add.add_argument(
        "--type",
        choices=ical_subscriptions.TYPES,
        help="type of every night (default: from each event)",
    )
    listing = commands.add_parser("list", help="the feeds and their status")
    listing.add_argument("--heb", type=positive, metavar="PK")
    remove = commands.add_parser("remove", help="remove a feed (its nights stay)")
    remove.add_argument("id", type=positive)
    return parser


def _ago(now, then):
    if then is None:
        return "never"
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min ago"
    return f"{minutes // 60} h ago"


def status_line(feed, now):
    state = "paused" if feed.paused else "active"
    if ical_subscriptions.is_flagged(feed, now):
        state = "FAILING FOR 24 H"
    parts = [
        f"#{feed.id}",
        f"heb {feed.heb_pk}",
        one_line(feed.name or "-"),
        state,
        f"last success {_ago(now, feed.last_success_at)}",
        f"{feed.nights_blocked or 0} nights",
        f"{feed.conflicts or 0} conflicts",
    ]
    if feed.last_error_code:
        parts.append(f"error: {one_line(feed.last_error or feed.last_error_code)}")
    return " | ".join(parts) + f"\n    {one_line(feed.url)}"


def do_run(args, now):
    with advisory_lock(get_engine(), RUN_LOCK_KEY) as got:
        if not got:
            print(f"{PROG}: another importIcalFeeds run is going on", file=sys.stderr)
            return 1
        with session_scope() as session:
            jobs = ical_import.due_jobs(
                session, now, datetime.timedelta(minutes=args.every), heb_pk=args.heb
            )
        report = ical_import.run(jobs, session_scope, now, workers=args.workers)
    print(f"{now:%Y-%m-%d %H:%M}: {report.summary()}")
    return 1 if report.failed else 0


def do_add(args, now):
    with session_scope() as session:
        try:
            feed = ical_subscriptions.add_feed(
                session,
                args.heb,
                args.url,
                now,
                name=args.name,
                type_override=args.type,
                created_by=PROG,
            )
        except ical_subscriptions.FeedError as error:
            print(f"{PROG}: {error}", file=sys.stderr)
            return 2
        print(f"added feed #{feed.id} to cottage {feed.heb_pk}: {feed.url}")
    return 0


def do_list(args, now):
    with session_scope() as session:
        feeds = ical_subscriptions.feeds_of(session, args.heb)
        for feed in feeds:
            print(status_line(feed, now))
        if not feeds:
            print("no feed")
    return 0


def do_remove(args, now):
    with session_scope() as session:
        if not ical_subscriptions.remove_feed(session, args.id):
            print(f"{PROG}: no feed #{args.id}", file=sys.stderr)
            return 2
    print(f"removed feed #{args.id} (its nights stay as they are)")
    return 0


COMMANDS = {"run": do_run, "add": do_add, "list": do_list, "remove": do_remove}


@console_script(PROG, make_parser, database=False)
def main(args, settings):
    handler = setup_logging()
    try:
        configure_db(settings.db_url)
        return COMMANDS[args.command](args, clock.now())
    except SQLAlchemyError as error:
        print(f"{PROG}: database error: {first_line(error)}", file=sys.stderr)
        return 1
    finally:
        logging.getLogger("gites.calendar").removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
