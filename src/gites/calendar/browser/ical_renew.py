"""``ical-renew`` (POST): the owner replaces a cottage's iCal token.

For an owner whose private feed URL leaked: the old URL answers 404 at
once, and the calendars that imported it must be given the new one.
POST only, with plone.protect's CSRF token; only the owner of the cottage
(one of his public cottages, as on ``month.html``) may do it.
"""

from five import grok
from plone import api

from gites.calendar import _, ical
from gites.calendar.browser import owner
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar


class IcalRenew(owner.OwnerFormView):
    grok.context(IProprioCalendar)
    grok.name("ical-renew")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def posted_pk(self, form):
        return form.get("hebPk", form.get("pk"))

    def posted(self, session, heb, form):
        ical.renew_token(session, heb.heb_pk)
        api.portal.show_message(
            _(
                "ical_renewed",
                default="Nouvelle adresse iCal créée : l'ancienne ne fonctionne plus. Donnez la"
                " nouvelle aux calendriers qui importaient l'ancienne.",
            ),
            request=self.request,
        )
        return f"{self.context.absolute_url()}/month.html?pk={heb.heb_pk}"
