"""``extern-calendar?pk=N``: a cottage's public calendar, for an iframe (SPEC §4).

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

import json

from five import grok
from plone import api
from plone.base.interfaces import INavigationRoot
from plone.transformchain.interfaces import DISABLE_TRANSFORM_REQUEST_KEY
from zope.i18n import translate

from gites.calendar import _, clock
from gites.calendar.db import get_session
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.public import visible_cottage

RESOURCES = "++resource++gites.calendar"
DEFAULT_MONTHS = 3
MAX_WIDGET_MONTHS = 12  # the widget shows at most a year at once
MAX_PK = 2**31 - 1
EMBED_CACHE_CONTROL = "public, max-age=300"

# The texts of the read-only widget (see docs/calendar-widget.rst, data-i18n).
# The month names are shared with multical.html.
MONTHS = [
    _("month_1", default="janvier"),
    _("month_2", default="février"),
    _("month_3", default="mars"),
    _("month_4", default="avril"),
    _("month_5", default="mai"),
    _("month_6", default="juin"),
    _("month_7", default="juillet"),
    _("month_8", default="août"),
    _("month_9", default="septembre"),
    _("month_10", default="octobre"),
    _("month_11", default="novembre"),
    _("month_12", default="décembre"),
]
WEEKDAYS = [
    _("widget_weekday_short_1", default="lu"),
    _("widget_weekday_short_2", default="ma"),
    _("widget_weekday_short_3", default="me"),
    _("widget_weekday_short_4", default="je"),
    _("widget_weekday_short_5", default="ve"),
    _("widget_weekday_short_6", default="sa"),
    _("widget_weekday_short_7", default="di"),
]
WEEKDAYS_LONG = [
    _("widget_weekday_1", default="lundi"),
    _("widget_weekday_2", default="mardi"),
    _("widget_weekday_3", default="mercredi"),
    _("widget_weekday_4", default="jeudi"),
    _("widget_weekday_5", default="vendredi"),
    _("widget_weekday_6", default="samedi"),
    _("widget_weekday_7", default="dimanche"),
]
READONLY_TEXTS = {
    "stateBusy": _("widget_state_busy", default="Occupé"),
    "stateFree": _("widget_state_free", default="Libre"),
    "today": _("widget_today", default="aujourd'hui"),
    "legendLabel": _("widget_legend", default="Légende"),
    "prevMonth": _("widget_previous_month", default="Mois précédent"),
    "nextMonth": _("widget_next_month", default="Mois suivant"),
    "errorLoad": _("widget_error_load", default="Le calendrier n'a pas pu être chargé."),
}


def widget_i18n(request):
    """The read-only widget's texts in the request's language, as JSON."""

    def tr(message):
        return translate(message, context=request)

    texts = {
        "months": [tr(m) for m in MONTHS],
        "weekdays": [tr(m) for m in WEEKDAYS],
        "weekdaysLong": [tr(m) for m in WEEKDAYS_LONG],
    }
    texts.update({key: tr(message) for key, message in READONLY_TEXTS.items()})
    return json.dumps(texts, ensure_ascii=False, separators=(",", ":"))


def int_param(form, name, maximum, default=None):
    """A positive whole-number parameter, or ``default`` when absent or bad.

    The iframe pages never show an error: a bad value is treated as absent.
    """
    raw = form.get(name)
    if not isinstance(raw, str):
        return default
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return default
    value = int(raw)
    return value if 1 <= value <= maximum else default


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


class ExternCalendar(ExternCalendarBase):
    """One cottage's busy days, read-only, for an iframe."""

    grok.context(INavigationRoot)
    grok.name("extern-calendar")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def update(self):
        self.prepare()
        pk = int_param(self.request.form, "pk", MAX_PK)
        self.cottage = visible_cottage(self.session, pk) if pk else None
        months = int_param(self.request.form, "months", MAX_WIDGET_MONTHS, DEFAULT_MONTHS)
        self.attributes = (
            self.widget(self.cottage, months, self.today.replace(day=1)) if self.cottage else None
        )
