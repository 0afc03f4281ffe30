"""``extern-calendar?pk=N``: a cottage's public calendar, for an iframe.

See docs/public-calendars.rst.

A minimal standalone page (no Plone chrome) holding the read-only
availability widget (``calendar.js``) of cottage N, whose busy days it
fetches from the public ``selectedDays``.  A cottage whose calendar is not
public -- or a ``pk`` that is no cottage at all -- gets the same neutral
"no calendar" page, with the same status: nothing tells a visitor why.

The page is meant to be framed by the owners' own web sites, so it says so
(``Content-Security-Policy: frame-ancestors *``) and plone.protect's
``X-Frame-Options: SAMEORIGIN`` is not added to it.  The helpers here are
shared with ``extern-monthly-calendar``.
"""

from five import grok
from plone import api
from plone.base.interfaces import INavigationRoot
from plone.transformchain.interfaces import DISABLE_TRANSFORM_REQUEST_KEY

from gites.calendar import clock
from gites.calendar.browser.owner.widget_texts import widget_i18n
from gites.calendar.browser.params import MAX_PK, lenient_int_param
from gites.calendar.db.session import get_session
from gites.calendar.domain.public_read import etag_matches, make_etag
from gites.calendar.domain.visibility import visible_cottage
from gites.calendar.interfaces import IGitesCalendarLayer

RESOURCES = "++resource++gites.calendar"
DEFAULT_MONTHS = 3
MAX_WIDGET_MONTHS = 12  # the widget shows at most a year at once
EMBED_CACHE_CONTROL = "public, max-age=300"


def prepare_embeddable(request):
    """Headers of a page other sites may frame; no transform rewrites it.

    The transform chain is where plone.protect adds ``X-Frame-Options:
    SAMEORIGIN`` and where the Plone theme would wrap the page; neither
    applies to this standalone, read-only, anonymous page.
    """
    request.environ[DISABLE_TRANSFORM_REQUEST_KEY] = True
    response = request.response
    response.setHeader("Content-Security-Policy", "frame-ancestors *")
    response.setHeader("Cache-Control", EMBED_CACHE_CONTROL)
    response.setHeader("Vary", "Accept-Language")
    response.setHeader("Referrer-Policy", "strict-origin-when-cross-origin")
    response.setHeader("X-Content-Type-Options", "nosniff")


class ExternCalendarBase(grok.View):
    """What both iframe pages share (not registered: no grok.name)."""

    grok.baseclass()
    not_modified = False

    def prepare(self):
        prepare_embeddable(self.request)
        self.today = clock.today()
        self.session = get_session()
        self.root_url = self.context.absolute_url()
        self.resources_url = f"{api.portal.get().absolute_url()}/{RESOURCES}"
        self.language = api.portal.get_current_language(context=self.context)
        self.i18n_json = widget_i18n(self.request)

    def days_url(self, heb):
        return f"{self.root_url}/selectedDays?hebPk={heb.heb_pk}"

    def widget(self, heb, months, start_month):
        """The data-* attributes of a read-only widget for ``heb``."""
        return {
            "data-days-url": self.days_url(heb),
            "data-heb-pk": str(heb.heb_pk),
            "data-months": str(months),
            "data-start-month": start_month.strftime("%Y-%m"),
            "data-today": self.today.isoformat(),
            "data-title": heb.heb_nom or str(heb.heb_pk),
            "data-i18n": self.i18n_json,
        }

    def validate(self, kind, content):
        """Send the ETag of a page showing ``content``; 304 if it matches.

        ``content``: everything the page shows besides its language and its
        resources' address (the widgets' attributes hold the cottage, the
        window, today and the texts); the template is covered by
        :data:`gites.calendar.domain.public_read.FORMAT_VERSION`.  The busy days are not
        in the page (the widget fetches them): an owner's change leaves it
        as it is.
        """
        etag = make_etag(kind, self.language, self.resources_url, content)
        response = self.request.response
        response.setHeader("ETag", etag)
        if etag_matches(self.request.getHeader("If-None-Match"), etag):
            self.not_modified = True
            response.setStatus(304)

    def _render_template(self):
        if self.not_modified:  # the client's copy is current: no body
            return ""
        return super()._render_template()


class ExternCalendar(ExternCalendarBase):
    """One cottage's busy days, read-only, for an iframe."""

    grok.context(INavigationRoot)
    grok.name("extern-calendar")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def update(self):
        self.prepare()
        pk = lenient_int_param(self.request.form, "pk", 1, MAX_PK)
        self.cottage = visible_cottage(self.session, pk) if pk else None
        months = lenient_int_param(
            self.request.form, "months", 1, MAX_WIDGET_MONTHS, DEFAULT_MONTHS
        )
        self.attributes = (
            self.widget(self.cottage, months, self.today.replace(day=1)) if self.cottage else None
        )
        self.validate(
            "page",
            (self.cottage.heb_nom, sorted(self.attributes.items())) if self.cottage else None,
        )
