"""The private iCal feed of a cottage (RFC 5545), for Airbnb, Booking, Google...

Each cottage gets an unguessable token (``secrets.token_urlsafe(32)``, 256
bits) stored in ``gites_calendar_ical_token``; the feed URL is
``<portal>/@@gites-ical?token=T``.  Whoever has the URL reads the busy days,
nothing else; the owner can renew the token, which kills the old URL.  The
token belongs to the cottage *and* its owner at the time (``pro_pk``): when
the cottage changes owner (``heb_pro_fk``), the old owner's URL stops
working at once and the new owner's page makes a new token.

Busy nights become all-day events: consecutive nights of one type make one
event, DTSTART is the first night and DTEND the day *after* the last night
(DTEND is exclusive in RFC 5545: a one-night booking on the 10th is
DTSTART 10th, DTEND 11th).  UIDs derive from the cottage, the first night
and the type, so a calendar that polls the feed updates the same event
instead of duplicating it.
"""

import datetime
import hmac
import re
import secrets

from icalendar import Calendar, Event
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gites.calendar import clock
from gites.calendar.db.models import INDISP, LOUE, Hebergement, IcalToken, Proprio
from gites.calendar.domain.reservations import busy_days, merge_ranges

FEED_VIEW = "@@gites-ical"
PRODID = "-//Gites de Wallonie//gites.calendar//FR"
UID_DOMAIN = "gitesdewallonie.be"
SUMMARIES = {LOUE: "Loué", INDISP: "Indisponible"}
# Ranges that ended longer ago than this are left out: nobody syncs them,
# and a feed polled every hour should stay small.
PAST_DAYS = 366
REFRESH = datetime.timedelta(hours=1)
# token_urlsafe(32) gives 43 characters; the column holds 64.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _new_token():
    return secrets.token_urlsafe(32)


def _insert(session):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(IcalToken)


def _owner(session, heb_pk):
    return session.scalar(select(Hebergement.heb_pro_fk).where(Hebergement.heb_pk == heb_pk))


def get_or_create_token(session, heb_pk):
    """The cottage's token for its current owner, made on first use or after
    a change of owner (safe under concurrency)."""
    owner = _owner(session, heb_pk)
    row = session.execute(
        select(IcalToken.token, IcalToken.pro_pk).where(IcalToken.heb_pk == heb_pk)
    ).first()
    if row is not None and owner is not None and row.pro_pk == owner:
        return row.token
    if row is None:
        # Two first visits at once: one insert wins, the other does nothing
        # and both read the winner's token.
        session.execute(
            _insert(session)
            .values(heb_pk=heb_pk, token=_new_token(), created_at=clock.now(), pro_pk=owner)
            .on_conflict_do_nothing(index_elements=["heb_pk"])
        )
    else:
        # Another owner's token (or one older than the column): replaced only
        # if still not this owner's, so two visits at once agree on one.
        session.execute(
            update(IcalToken)
            .where(
                IcalToken.heb_pk == heb_pk,
                or_(IcalToken.pro_pk.is_(None), IcalToken.pro_pk != owner),
            )
            .values(token=_new_token(), created_at=clock.now(), pro_pk=owner)
            .execution_options(synchronize_session=False)
        )
    return session.scalar(select(IcalToken.token).where(IcalToken.heb_pk == heb_pk))


def renew_token(session, heb_pk):
    """Give the cottage a new token (the old URL stops working); return it."""
    token = _new_token()
    values = {"token": token, "created_at": clock.now(), "pro_pk": _owner(session, heb_pk)}
    session.execute(
        _insert(session)
        .values(heb_pk=heb_pk, **values)
        .on_conflict_do_update(index_elements=["heb_pk"], set_=values)
    )
    return token


def cottage_for_token(session, token):
    """The cottage whose feed ``token`` opens, or None.

    None also for a malformed token, for a token made for a previous owner
    of the cottage, and for a cottage whose proprio is not active
    (membership not paid): its calendar is not served anywhere.  The row is
    found through the unique index; the token is then compared in constant
    time (docs/security.rst).
    """
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    row = session.execute(
        select(Hebergement, IcalToken.token)
        .join(IcalToken, IcalToken.heb_pk == Hebergement.heb_pk)
        .join(Proprio, Proprio.pro_pk == Hebergement.heb_pro_fk)
        .where(
            IcalToken.token == token,
            IcalToken.pro_pk == Hebergement.heb_pro_fk,
            Proprio.pro_etat.is_(True),
        )
    ).first()
    if row is None or not hmac.compare_digest(row.token.encode(), token.encode()):
        return None
    return row.Hebergement


def feed_url(session, portal_url, heb_pk):
    """The private feed URL of a cottage (creates its token if needed)."""
    return f"{portal_url.rstrip('/')}/{FEED_VIEW}?token={get_or_create_token(session, heb_pk)}"


def event_uid(heb_pk, start, res_type):
    return f"{heb_pk}-{start:%Y%m%d}-{res_type}@{UID_DOMAIN}"


def busy_ranges(session, heb_pk, today):
    """[(start, end included, type)] of the cottage, ending on or after today - PAST_DAYS."""
    horizon = today - datetime.timedelta(days=PAST_DAYS)
    rows = ((heb_pk, None, day, res_type) for day, res_type in busy_days(session, heb_pk))
    return [(r.start, r.end, r.type) for r in merge_ranges(rows) if r.end >= horizon]


def build_calendar(session, heb, now=None):
    """The cottage's feed as RFC 5545 bytes (UTF-8, CRLF line ends)."""
    now = now or clock.now()
    stamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = f"{heb.heb_pk} - {heb.heb_nom}" if heb.heb_nom else str(heb.heb_pk)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    # Hints for clients that honour them (RFC 7986, and Outlook's).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for start, end, res_type in busy_ranges(session, heb.heb_pk, now.date()):
        event = Event()
        event.add("uid", event_uid(heb.heb_pk, start, res_type))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end + datetime.timedelta(days=1))  # exclusive
        event.add("summary", SUMMARIES.get(res_type, res_type))
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
