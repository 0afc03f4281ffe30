"""checkCalendarActivity: remind, then block, owners whose calendar is stale.

Run daily from cron.  The rule and the re-run safety are described in
:mod:`gites.calendar.domain.activity` and docs/scripts.rst.

Exit status: 0 all done; 1 a mail failed (recorded, retried next run) or
another run holds the lock; 2 bad settings or options.
"""

import argparse
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import clock
from gites.calendar.db.session import configure_db, get_engine
from gites.calendar.domain import activity
from gites.calendar.scripts._cli import console_script, first_line, parse_day

PROG = "checkCalendarActivity"


def make_parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be done; send no mail and change nothing",
    )
    parser.add_argument(
        "--today",
        type=parse_day,
        metavar="YYYY-MM-DD",
        help="run as of this day (default: today in Europe/Brussels)",
    )
    return parser


def setup_logging():
    # Cron mails stderr to ops: one line per action, with the time.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("gites.calendar")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


@console_script(PROG, make_parser, database=False)
def main(args, settings):
    handler = setup_logging()
    try:
        configure_db(settings.db_url)
        today = args.today or clock.today()
        try:
            with activity.run_lock(get_engine()):
                report = activity.run(settings, today, dry_run=args.dry_run)
        except activity.AlreadyRunning as error:
            print(f"{PROG}: {error}", file=sys.stderr)
            return 1
        except SQLAlchemyError as error:
            print(f"{PROG}: database error: {first_line(error)}", file=sys.stderr)
            return 1
        if args.dry_run:
            print(f"dry run as of {today.isoformat()}: nothing sent, nothing changed")
            return 0
        print(f"{today.isoformat()}: {report.summary()}")
        if not report.ok:
            print(
                f"{PROG}: {len(report.failed)} mails failed; they are retried on the next run",
                file=sys.stderr,
            )
        return 0 if report.ok else 1
    finally:
        logging.getLogger("gites.calendar").removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
