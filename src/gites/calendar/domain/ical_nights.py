"""Which nights an imported iCal feed blocks, and as what (issue 13, point 3).

:func:`feed_nights` turns the bytes of a feed into ``{night: type}`` over a
horizon, ``type`` being ``loue`` or ``indisp``.  A *night* is named by the day
it starts, as in ``reservation_proprio``:

* all-day events (``VALUE=DATE``) block [DTSTART, DTEND): DTEND is the
  checkout day and stays free; without DTEND (or DURATION) one night;
* timed events are read in Europe/Brussels (floating times are Brussels
  times) and block every night from the day they start to the day they end,
  that day excluded, so 15:00 on the 10th to 11:00 on the 12th blocks the
  10th and the 11th; an event that starts and ends on the same day (or has
  no end) blocks that day;
* an event whose end is not after its start, or that lasts more than two
  years, is skipped and counted;
* RRULEs are expanded with ``recurring-ical-events``, over the horizon only;
* cancelled events (``STATUS:CANCELLED``, also per occurrence) are ignored.

The type comes from the summary (Airbnb, Booking.com, Vrbo/Abritel words),
tentative events being ``indisp``; an unknown summary is a booking
(``loue``).  The feed's owner can force one type for all its events.
"""

import dataclasses
import datetime
import re

import icalendar
import recurring_ical_events

from gites.calendar.db.models import INDISP, LOUE

try:
    from zoneinfo import ZoneInfo

    BRUSSELS = ZoneInfo("Europe/Brussels")
except Exception:  # pragma: no cover - no tz database
    BRUSSELS = datetime.timezone(datetime.timedelta(hours=1))

HORIZON_DAYS = 731  # two years ahead, like the longest range an owner may set
MAX_EVENT_DAYS = 731
ONE_DAY = datetime.timedelta(days=1)

# Checked in this order on the lower-cased summary; first match wins.
_TYPE_PATTERNS = (
    (re.compile(r"\bprovisoire\b|\btentative\b|\bvoorlopig\b"), INDISP),
    (re.compile(r"closed\s*-\s*not available"), LOUE),  # Booking.com bookings
    (re.compile(r"^\s*(reserved|booked|réservée?|reservee?|gereserveerd|reserviert)\b"), LOUE),
    (
        re.compile(
            r"not available|unavailable|indisponible|blocked|bloqu[ée]|niet beschikbaar"
            r"|nicht verfügbar"
        ),
        INDISP,
    ),
)


class NotACalendar(ValueError):
    """The body is not an iCalendar feed (an HTML page, an error text...)."""


@dataclasses.dataclass
class FeedNights:
    nights: dict  # {date: loue|indisp}
    events: int = 0  # events (occurrences) that block at least one night
    skipped: int = 0  # events with an end not after the start, or longer than 2 years
    cancelled: int = 0


def event_type(summary, status=None):
    """``loue`` or ``indisp`` from an event's SUMMARY and STATUS."""
    if status and str(status).upper() == "TENTATIVE":
        return INDISP
    text = str(summary or "").lower()
    for pattern, kind in _TYPE_PATTERNS:
        if pattern.search(text):
            return kind
    return LOUE


def parse_calendar(body):
    """The :class:`icalendar.Calendar` of ``body`` or :class:`NotACalendar`."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = body.decode("latin-1")
    else:
        text = body
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise NotACalendar("the address does not answer with a calendar (BEGIN:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as error:  # icalendar raises ValueError, KeyError...
        raise NotACalendar(f"unreadable calendar: {error}") from None
    if getattr(calendar, "name", "").upper() != "VCALENDAR":
        raise NotACalendar("the address does not answer with a calendar")
    return calendar


def _local(value):
    """A datetime in naive Brussels time (floating times are Brussels times)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(BRUSSELS).replace(tzinfo=None)


def _bounds(component):
    """(start, end) as given: dates, or naive Brussels datetimes; end may be None."""
    start = component.get("DTSTART")
    if start is None:
        return None, None
    start = start.dt
    end = component.get("DTEND")
    if end is not None:
        end = end.dt
    elif component.get("DURATION") is not None:
        end = start + component.get("DURATION").dt
    if isinstance(start, datetime.datetime):
        start = _local(start)
        if isinstance(end, datetime.datetime):
            end = _local(end)
        elif isinstance(end, datetime.date):
            end = datetime.datetime.combine(end, datetime.time())
    elif isinstance(end, datetime.datetime):  # all-day start, timed end: its day
        end = _local(end).date()
    return start, end


def _valid(start, end):
    if start is None:
        return False
    if end is None:
        return True
    return end > start and end - start <= datetime.timedelta(days=MAX_EVENT_DAYS)


def nights_of(start, end):
    """The nights an occurrence blocks (``end`` None: no end)."""
    first = start.date() if isinstance(start, datetime.datetime) else start
    if end is None:
        return [first]
    stop = end.date() if isinstance(end, datetime.datetime) else end  # excluded
    return [first + ONE_DAY * n for n in range(max((stop - first).days, 1))]


def feed_nights(body, today, horizon_days=HORIZON_DAYS, override=None):
    """:class:`FeedNights` of a feed from ``today`` (included) to the horizon.

    Past nights are left out: they are never changed.  ``override``:
    ``loue`` or ``indisp`` for every event, or None to read the summaries.
    """
    calendar = parse_calendar(body)
    result = FeedNights(nights={})
    # Invalid events are removed before expansion (recurring-ical-events
    # refuses them) and counted once each.
    for component in list(calendar.subcomponents):
        if getattr(component, "name", "") != "VEVENT":
            continue
        start, end = _bounds(component)
        if not _valid(start, end):
            result.skipped += 1
            calendar.subcomponents.remove(component)
    last = today + datetime.timedelta(days=horizon_days)
    try:
        occurrences = recurring_ical_events.of(calendar).between(today, last + ONE_DAY)
        occurrences = list(occurrences)
    except Exception as error:  # a malformed RRULE and the like
        raise NotACalendar(f"unreadable events: {error}") from None
    for event in occurrences:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            result.cancelled += 1
            continue
        start, end = _bounds(event)
        if end is not None and end <= start:
            end = None  # recurring-ical-events gives DTEND = DTSTART when there is none
        if not _valid(start, end):
            result.skipped += 1
            continue
        kind = override or event_type(event.get("SUMMARY"), event.get("STATUS"))
        blocked = False
        for night in nights_of(start, end):
            if today <= night <= last:
                blocked = True
                # loue wins over indisp when two events share a night.
                if result.nights.get(night) != LOUE:
                    result.nights[night] = kind
        result.events += blocked
    return result
