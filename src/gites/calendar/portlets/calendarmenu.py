"""The "calendar menu" portlet of zone-membre.

See docs/owner-pages.rst, "Calendar menu portlet and vocabularies".

Shown only to owners with cottages: a link per cottage, the monthly view,
the configuration and the help page.  A ``non actif`` calendar hides the
cottage links; a ``bloque`` one replaces the configuration link by a notice.
"""

import functools

from plone import api
from plone.app.portlets.portlets import base
from plone.portlets.interfaces import IPortletDataProvider
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from zope.interface import implementer

from gites.calendar import _
from gites.calendar.db import get_session
from gites.calendar.models import BLOQUE, NON_ACTIF
from gites.calendar.owners import calendar_state, current_pro_pk, owner_cottages

CALENDAR_PATH = "zone-membre/calendrier"


class ICalendarMenuPortlet(IPortletDataProvider):
    """The owner's calendar menu."""


@implementer(ICalendarMenuPortlet)
class Assignment(base.Assignment):
    title = _("Calendar menu")


class Renderer(base.Renderer):
    render = ViewPageTemplateFile("calendarmenu.pt")

    @functools.cached_property
    def cottages(self):
        # ``available`` is asked before ``update``: load on first use.
        return owner_cottages(get_session(), current_pro_pk())

    @property
    def state(self):
        return calendar_state(self.cottages)

    @property
    def available(self):
        return bool(self.cottages)

    @property
    def calendar_url(self):
        return f"{api.portal.get().absolute_url()}/{CALENDAR_PATH}"

    @property
    def show_cottages(self):
        return self.state != NON_ACTIF

    @property
    def blocked(self):
        return self.state == BLOQUE

    def cottage_links(self):
        base_url = self.calendar_url
        return [
            {
                "url": f"{base_url}/month.html?pk={heb.heb_pk}",
                "history_url": f"{base_url}/history.html?pk={heb.heb_pk}",
                "title": heb.heb_nom or str(heb.heb_pk),
            }
            for heb in self.cottages
        ]


class AddForm(base.NullAddForm):
    def create(self):
        return Assignment()
