"""``reactivation-calendrier?key=K``: the link of the blocking e-mail.

Anonymous.  Finds the proprio whose ``pro_reactivation_hash`` is K and
puts every one of its cottages back in use
(:func:`gites.calendar.domain.calendar_state.reactivate`).

GET changes state here, on purpose: the link sits in e-mails already sent,
and asking for a second click would strand the owners who followed it.
It is safe because the change is idempotent (a second visit, or a mail
scanner's prefetch, only sets the modification date to today again) and
it is the very change the owner was asked to make; the key is the secret.
A wrong or empty key shows a friendly message (status 404) and changes
nothing.  The page is never cached, indexed, nor sent as a referrer.
"""

from five import grok
from plone.base.interfaces import INavigationRoot

from gites.calendar import clock
from gites.calendar.browser import base as owner
from gites.calendar.db.session import get_session
from gites.calendar.domain.calendar_state import find_by_reactivation_key, reactivate
from gites.calendar.interfaces import IGitesCalendarLayer


class Reactivation(grok.View):
    grok.context(INavigationRoot)
    grok.name("reactivation-calendrier")
    grok.require("zope2.Public")
    grok.layer(IGitesCalendarLayer)

    def update(self):
        response = self.request.response
        owner.no_store(self.request)
        response.setHeader("X-Robots-Tag", "noindex, nofollow")
        response.setHeader("Referrer-Policy", "no-referrer")
        self.reactivated = False
        key = self.request.form.get("key")
        session = get_session()
        proprio = find_by_reactivation_key(session, key) if isinstance(key, str) else None
        if proprio is None:
            response.setStatus(404)
            return
        reactivate(session, proprio, clock.today(), clock.now())
        self.reactivated = True
        self.calendar_url = f"{owner.portal_url()}/zone-membre/calendrier"
