"""What the console scripts share: their settings, dates, one-line errors.

Every script reads its settings before it does anything and, when they are
bad, prints one line ``PROG: what is wrong`` on stderr and exits with
:data:`EXIT_SETTINGS` (docs/scripts.rst).  Kept free of Zope and kombu: the
daemon's start-up time depends on it.
"""

import argparse
import datetime
import functools
import sys

from gites.calendar.config import SettingsError, load_settings
from gites.calendar.db import configure_db

EXIT_SETTINGS = 2


def settings_or_report(prog, require_db=True):
    """The settings, or None once the reason was printed on stderr."""
    try:
        return load_settings(require_db=require_db)
    except SettingsError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return None


def console_script(prog, make_parser=None, parse_args=None, require_db=True, database=True):
    """Make ``body(args, settings, ...)`` a console script's ``main(argv=None, ...)``.

    ``main`` parses ``argv`` with ``make_parser()``'s parser, or with
    ``parse_args(argv)`` (argparse exits 2 on bad options), reads the
    settings (:data:`EXIT_SETTINGS` when they are bad), configures the
    database unless ``database`` is false, then returns what ``body``
    returns; its other arguments (``out``...) go to ``body``.
    """

    def decorate(body):
        @functools.wraps(body)
        def main(argv=None, *more, **options):
            args = make_parser().parse_args(argv) if parse_args is None else parse_args(argv)
            settings = settings_or_report(prog, require_db=require_db)
            if settings is None:
                return EXIT_SETTINGS
            if database:
                configure_db(settings.db_url)
            return body(args, settings, *more, **options)

        return main

    return decorate


def parse_day(value):
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def number_parser(largest, what):
    """An argparse type: a whole number from 1 to ``largest``, else "is not ``what``"."""

    def parse(value):
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not 0 < number <= largest:
            raise argparse.ArgumentTypeError(f"{value!r} is not {what}")
        return number

    return parse


def first_line(error):
    """The first line of an exception's text (database drivers add several)."""
    return str(error).splitlines()[0]
