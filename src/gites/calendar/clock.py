"""The one clock of the owner pages: what "now" and "today" are.

Every view that needs the date asks :func:`now` or :func:`today` here, so
tests freeze the date by patching one function
(``mock.patch("gites.calendar.clock.now", ...)``) and the whole request
sees the same day.  Times are naive local times of the Gîtes de Wallonie
(Europe/Brussels), like the legacy ``res_date_cre`` and
``heb_calendrier_proprio_date_maj`` columns, whatever the server's zone.
"""

import datetime

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        SITE_ZONE = ZoneInfo("Europe/Brussels")
    except ZoneInfoNotFoundError:  # no tz database on this machine
        SITE_ZONE = None
except ImportError:  # pragma: no cover - Python < 3.9
    SITE_ZONE = None


def now():
    """The current naive local time of the site (Europe/Brussels)."""
    if SITE_ZONE is None:
        return datetime.datetime.now()
    return datetime.datetime.now(SITE_ZONE).replace(tzinfo=None)


def today():
    """The current day of the site (follows :func:`now`, so freezing it works)."""
    return now().date()


# Month arithmetic: a month as one integer (year * 12 + month - 1), as
# calendar.js pages through months, so that adding and comparing months is
# integer arithmetic.


def month_index(day):
    """``day``'s month as one integer (``year * 12 + month - 1``)."""
    return day.year * 12 + day.month - 1


def month_start(index):
    """The first day of the month :func:`month_index` numbers ``index``."""
    return datetime.date(index // 12, index % 12 + 1, 1)


def add_months(day, months):
    """The first day of the month ``months`` months after ``day``'s month."""
    return month_start(month_index(day) + months)
