"""Zope start-up: configure the database from the environment.

A missing or malformed setting stops Zope with one line naming it, instead
of a site that fails on the first owner's click.
"""

import sys

from gites.calendar.db.session import configure_db
from gites.calendar.settings import SettingsError, load_settings


def configure_from_environment(event=None):
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.stderr.write(f"gites.calendar: {error}\n")
        raise SystemExit(2) from None
    configure_db(settings.db_url)
