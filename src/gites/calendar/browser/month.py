"""``month.html?pk=N``: the editable calendar of one of the owner's cottages.

Anonymous visitors get the login form.  A ``pk`` that is not a number, not a
cottage, or not one of the logged-in owner's public cottages gets the same
"unavailable" page with status 404: it never says whose cottage it is, nor
whether it exists.
"""

import html
import importlib

from five import grok
from zope.i18n import translate

from gites.calendar import _, clock, history
from gites.calendar.browser import owner
from gites.calendar.browser.history_page import TYPE_LABELS, who
from gites.calendar.browser.ical_feeds import feed_rows
from gites.calendar.browser.params import parse_pk
from gites.calendar.browser.widget_texts import widget_i18n
from gites.calendar.calendarconfig import BLOCKED_STATES
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar
from gites.calendar.owners import current_pro_pk


def ical_feed_url(session, portal_url, heb_pk):
    """The private iCal URL when the ical module is installed, else None."""
    try:
        ical = importlib.import_module("gites.calendar.ical")
    except ImportError:
        return None
    feed_url = getattr(ical, "feed_url", None)
    if feed_url is None:
        return None
    return feed_url(session, portal_url, heb_pk)


class Month(grok.View):
    grok.context(IProprioCalendar)
    grok.name("month.html")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    months = 3

    def update(self):
        owner.require_member()
        owner.no_store(self.request)
        self.heb = None
        pk = parse_pk(self.request.form.get("pk"))
        if pk is not None:
            session, self.heb = owner.owner_cottage(pk)
        if self.heb is None:
            self.request.response.setStatus(404)
            return
        self.calendar_url = self.context.absolute_url()
        self.portal_url = owner.portal_url()
        self.cottage_title = owner.cottage_title(self.heb)
        self.title = translate(
            _(
                "calendar_title",
                default="Calendrier pour ${cottage}",
                mapping={"cottage": self.cottage_title},
            ),
            context=self.request,
        )
        self.last_modified = owner.format_day(self.heb.heb_calendrier_proprio_date_maj)
        self.widget = owner.widget_attributes(
            self.calendar_url,
            self.heb,
            self.title,
            months=self.months,
            start_month=clock.today().replace(day=1),
            i18n=widget_i18n(self.request, editable=True),
        )
        self.iframe = (
            f'<iframe src="{self.portal_url}/{owner.EXTERN_CALENDAR}?pk={self.heb.heb_pk}"'
            ' width="600" height="300" frameborder="0" scrolling="no"'
            f' title="{html.escape(self.cottage_title, quote=True)}"></iframe>'
        )
        self.ical_url = ical_feed_url(session, self.portal_url, self.heb.heb_pk)
        self.state_note = self.blocked_note(session)
        self.authenticator = self.widget["data-authenticator"]
        self.ical_feeds = feed_rows(session, self.heb.heb_pk, self.request)

    def blocked_note(self, session):
        """Who made the calendar not in use, and when (the change log), or None."""
        state = self.heb.heb_calendrier_proprio
        if state not in BLOCKED_STATES:
            return None
        change = history.last_state_change(session, self.heb.heb_pk)
        if change is None or change.new_type != state:
            return None
        return translate(
            _(
                "calendar_state_note",
                default="${state} — ${who}, le ${date} à ${time}",
                mapping={
                    "state": translate(TYPE_LABELS[state], context=self.request),
                    "who": translate(who(change, str(current_pro_pk())), context=self.request),
                    "date": change.changed_at.strftime("%d/%m/%Y"),
                    "time": change.changed_at.strftime("%H:%M"),
                },
            ),
            context=self.request,
        )
