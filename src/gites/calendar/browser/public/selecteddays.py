"""``selectedDays`` for visitors (docs/public-calendars.rst): a cottage's busy days as JSON.

``GET <navigation root>/selectedDays?hebPk=N&year=Y&month=M&range=R`` answers
``{"rented": ["YYYY-MM-DD", ...]}``: the busy days from max(first of month
M of year Y, today) for R months, today included.  Only a cottage whose
calendar is public (:mod:`gites.calendar.domain.visibility`) has any; every other one
gets the same empty answer, so nothing tells why.  Malformed parameters get
``400 {"error": "..."}``.

Each answer carries an ``ETag`` (:func:`gites.calendar.domain.public_read.make_etag` of
the visible window and the cottage's state and calendar version); a request
whose ``If-None-Match`` matches gets ``304`` with no body, without reading
``reservation_proprio``: the cottage's state comes from the process's
:mod:`gites.calendar.domain.state_cache` or one primary-key lookup.

The owners' variant (all rows, with their types, not cached) is registered
on the calendar folder (``IProprioCalendar``), a more specific context, so
it wins there.
"""

import datetime
import json

from five import grok
from plone.base.interfaces import INavigationRoot
from plone.transformchain.interfaces import DISABLE_TRANSFORM_REQUEST_KEY
from zope.traversing.interfaces import IBeforeTraverseEvent

from gites.calendar import clock
from gites.calendar.browser.base import json_body
from gites.calendar.browser.params import MAX_PK, BadParameter, int_param
from gites.calendar.db.session import get_read_engine
from gites.calendar.domain.public_read import read_public_days
from gites.calendar.domain.visibility import MAX_MONTHS
from gites.calendar.interfaces import IGitesCalendarLayer

# Busy days change when an owner saves: a visitor may see them a minute late,
# not more.
CACHE_CONTROL = "public, max-age=60"


def parse_query(form, today):
    """(heb_pk, first day of the month asked, months) from the request form."""
    heb_pk = int_param(form, "hebPk", 1, MAX_PK)
    year = int_param(form, "year", 1900, 2200, default=today.year)
    month = int_param(form, "month", 1, 12, default=today.month)
    months = int_param(form, "range", 1, MAX_MONTHS, default=1)
    return heb_pk, datetime.date(year, month, 1), months


# Built once: json.dumps with any argument makes a new encoder per call.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def send_json(response, payload, status=200, cache_control=CACHE_CONTROL):
    """``payload`` as the compact JSON body of a visitor's answer."""
    return json_body(response, payload, status, (("Cache-Control", cache_control),), _ENCODE)


def not_modified(response, cache_control=CACHE_CONTROL):
    """304: the headers a cache needs to refresh its copy, no body."""
    response.setStatus(304)
    response.setHeader("Cache-Control", cache_control)
    return ""


@grok.subscribe(INavigationRoot, IBeforeTraverseEvent)
def straight_to_the_view(root, event):
    """``<root>/selectedDays`` is published as ``<root>/@@selectedDays``.

    Under load, finding ``selectedDays`` by its bare name cost Zope an
    attribute lookup through acquisition, the Dexterity container and the
    skins before the view lookup; ``@@`` goes to the view at once, as
    Plone's own ``@@ok`` does.  (An object named ``selectedDays`` in the
    root would no longer shadow the view: there is none, the name is this
    view's, docs/public-calendars.rst.)
    """
    stack = event.request.get("TraversalRequestNameStack")
    if stack and stack[-1] == "selectedDays":
        stack[-1] = "@@selectedDays"


class PublicSelectedDays(grok.View):
    """The busy days of a public calendar (JSON, anonymous, cached a minute)."""

    grok.context(INavigationRoot)
    grok.name("selectedDays")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def __call__(self):
        # grok's View.__call__ runs update and render through mapply, which
        # inspects their signatures on every request (neither takes a
        # parameter from the form); this view has no template.
        self.update()
        return self.render()

    def update(self):
        # The answer and its cache headers are this view's contract: no
        # transform (theming, caching rules) rewrites them.
        self.request.environ[DISABLE_TRANSFORM_REQUEST_KEY] = True

    def render(self):
        response = self.request.response
        today = clock.today()
        try:
            heb_pk, first_day, months = parse_query(self.request.form, today)
        except BadParameter as error:
            return send_json(response, {"error": str(error)}, status=400, cache_control="no-store")
        # A pooled autocommit connection, not the session joined to the Zope
        # transaction: the answer is read-only, so it needs no transaction.
        etag, days = read_public_days(
            get_read_engine(),
            heb_pk,
            first_day,
            months,
            today,
            self.request.getHeader("If-None-Match"),
        )
        response.setHeader("ETag", etag)
        if days is None:  # the client's copy is current: no body
            return not_modified(response)
        return send_json(response, {"rented": days})
