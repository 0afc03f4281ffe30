"""The iCal feeds of the cottages (issue 13): adding, listing, removing them,
and what the owner reads of them (the nights each blocks, its last error in
plain words, whether it has been failing for a day).

Importing them is :mod:`gites.calendar.domain.ical_import`.
"""

import datetime

from sqlalchemy import delete, select
from zope.i18nmessageid import Message

from gites.calendar import _
from gites.calendar.db.models import INDISP, LOUE, Hebergement, IcalFeed, IcalNight
from gites.calendar.domain import ical_fetch
from gites.calendar.domain.ical_reconcile import OWNED

FLAG_AFTER = datetime.timedelta(hours=24)
MAX_FEEDS_PER_COTTAGE = 10
TYPES = (LOUE, INDISP)
NOT_A_CALENDAR = "not_a_calendar"  # error code of a feed that is no iCal calendar

# What the owner reads for each failure (plain words, translated by the page).
ERROR_TEXTS = {
    ical_fetch.BAD_URL: _("ical_error_bad_url", default="Cette adresse n'est pas acceptée."),
    ical_fetch.FORBIDDEN_ADDRESS: _(
        "ical_error_forbidden", default="Cette adresse mène à un réseau privé : refusée."
    ),
    ical_fetch.UNREACHABLE: _("ical_error_unreachable", default="Adresse injoignable."),
    ical_fetch.TIMEOUT: _(
        "ical_error_timeout", default="Le serveur n'a pas répondu à temps (15 secondes)."
    ),
    ical_fetch.HTTP_STATUS: _(
        "ical_error_http", default="Le serveur a répondu par une erreur (${status})."
    ),
    ical_fetch.TOO_LARGE: _(
        "ical_error_too_large", default="Calendrier trop volumineux (2 Mo au plus)."
    ),
    ical_fetch.TOO_MANY_REDIRECTS: _(
        "ical_error_redirects", default="Trop de redirections (5 au plus)."
    ),
    NOT_A_CALENDAR: _(
        "ical_error_not_calendar", default="Cette adresse ne donne pas un calendrier iCal."
    ),
}


class FeedError(ValueError):
    """A feed cannot be added or changed (``message``: translatable)."""

    def __init__(self, message):
        super().__init__(str(getattr(message, "default", message)))
        self.message = message


def error_text(feed):
    """The owner's message for the feed's last error (translatable), or None."""
    if not feed.last_error_code:
        return None
    text = ERROR_TEXTS.get(feed.last_error_code, ERROR_TEXTS[ical_fetch.UNREACHABLE])
    if feed.last_error_code == ical_fetch.HTTP_STATUS:
        status = (feed.last_error or "").split("HTTP ")[-1].split(" ")[0] or "?"
        text = Message(text, mapping={"status": status})
    return text


def is_flagged(feed, now):
    """Failing for 24 h or more."""
    return feed.failing_since is not None and now - feed.failing_since >= FLAG_AFTER


def add_feed(session, heb_pk, url, now, name=None, type_override=None, created_by=None):
    """Add a feed to a cottage; :class:`FeedError` if refused."""
    try:
        url = ical_fetch.normalize_url(url)
    except ical_fetch.FetchError:
        raise FeedError(ERROR_TEXTS[ical_fetch.BAD_URL]) from None
    if len(url) > 2000:
        raise FeedError(ERROR_TEXTS[ical_fetch.BAD_URL])
    if type_override not in (None, "", *TYPES):
        raise FeedError(_("ical_bad_type", default="Le type doit être loue ou indisp."))
    if session.get(Hebergement, heb_pk) is None:
        raise FeedError(_("ical_unknown_cottage", default="Hébergement inconnu."))
    feeds = feeds_of(session, heb_pk)
    if any(feed.url == url for feed in feeds):
        raise FeedError(_("ical_duplicate", default="Ce calendrier est déjà importé."))
    if len(feeds) >= MAX_FEEDS_PER_COTTAGE:
        raise FeedError(_("ical_too_many", default="Dix calendriers au plus par hébergement."))
    feed = IcalFeed(
        heb_pk=heb_pk,
        url=url,
        name=(name or "").strip()[:100] or None,
        type_override=type_override or None,
        paused=False,
        created_at=now,
        created_by=created_by,
    )
    session.add(feed)
    session.flush()
    return feed


def feeds_of(session, heb_pk=None):
    query = select(IcalFeed).order_by(IcalFeed.heb_pk, IcalFeed.id)
    if heb_pk is not None:
        query = query.where(IcalFeed.heb_pk == heb_pk)
    return list(session.scalars(query))


def feed_names(session, heb_pk):
    """{feed id as text: name} of the cottage's named feeds (the actor of
    their changes in the history is the feed id)."""
    rows = session.execute(
        select(IcalFeed.id, IcalFeed.name).where(
            IcalFeed.heb_pk == heb_pk, IcalFeed.name.is_not(None)
        )
    )
    return {str(feed_id): name for feed_id, name in rows}


def remove_feed(session, feed_id):
    """Forget a feed and its claims; the nights it set stay as they are
    (they are bookings: the owner frees them if he wants).  True if found."""
    feed = session.get(IcalFeed, feed_id)
    if feed is None:
        return False
    session.execute(delete(IcalNight).where(IcalNight.feed_id == feed_id))
    session.delete(feed)
    session.flush()
    return True


def blocked_nights(session, feed_id, today):
    """[(night, type)] the feed currently blocks (owns), from today."""
    return list(
        session.execute(
            select(IcalNight.night, IcalNight.res_type)
            .where(
                IcalNight.feed_id == feed_id,
                IcalNight.state == OWNED,
                IcalNight.night >= today,
            )
            .order_by(IcalNight.night)
        )
    )
