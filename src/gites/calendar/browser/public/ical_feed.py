"""``@@gites-ical?token=T``: a cottage's private iCal feed (anonymous).

Polled by the owner's other booking calendars (Airbnb, Booking, Google);
the token is the only credential (see :mod:`gites.calendar.domain.ical_export`).  A
missing, malformed or unknown token gets a bare 404 that says nothing
about why.  Read-only: nothing is written on this request.
"""

from five import grok
from plone.base.interfaces import INavigationRoot

from gites.calendar.db.session import get_session
from gites.calendar.domain import ical_export
from gites.calendar.interfaces import IGitesCalendarLayer

# Short: an owner's change reaches the importing calendars within minutes,
# yet a client polling every minute does not hit the database each time.
CACHE_SECONDS = 300


class IcalFeed(grok.View):
    grok.context(INavigationRoot)
    grok.name("gites-ical")
    grok.require("zope2.Public")
    grok.layer(IGitesCalendarLayer)

    def render(self):
        response = self.request.response
        # The URL is a secret: keep it out of search engines and referrers.
        response.setHeader("X-Robots-Tag", "noindex, nofollow")
        response.setHeader("Referrer-Policy", "no-referrer")
        token = self.request.form.get("token")
        session = get_session()
        heb = ical_export.cottage_for_token(session, token)
        if heb is None:
            response.setStatus(404)
            response.setHeader("Content-Type", "text/plain; charset=utf-8")
            response.setHeader("Cache-Control", "no-store")
            return b"Not Found\n"
        body = ical_export.build_calendar(session, heb)
        response.setHeader("Content-Type", "text/calendar; charset=utf-8")
        response.setHeader("Content-Disposition", f'inline; filename="gite-{heb.heb_pk}.ics"')
        # private: shared caches must not keep one owner's feed.
        response.setHeader("Cache-Control", f"private, max-age={CACHE_SECONDS}")
        return body
