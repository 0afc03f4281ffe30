"""``selectedDays`` on the calendar folder: every row of an owner's cottage.

GET ``hebPk``: JSON ``{"rented": ["YYYY-MM-DD", …], "type": ["loue"|"indisp", …],
"origin": [{"source", "actor", "at", "mine"[, "name"]} | null, …]}`` (same order), never
cached.  ``origin`` is the change that set the day (gites.calendar.domain.history):
its source and actor, ``at`` its local time (``YYYY-MM-DDTHH:MM``), ``mine``
true when the owner asking made it, ``name`` the name the owner gave an
imported feed (source ``ical``); null for a day set before the change
log existed.  The widget adds ``year``/``month``/``range``;
the owner's answer holds all rows, so they are ignored.  Anonymous or not
the owner's cottage: 403; ``hebPk`` not a number: 400.  The public
``selectedDays`` (busy days only) is registered for the site root; this one,
for the more specific IProprioCalendar, wins on the calendar folder.
"""

from five import grok

from gites.calendar.browser import base
from gites.calendar.domain import history, ical_subscriptions
from gites.calendar.domain.reservations import busy_days
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar


class SelectedDays(base.OwnerJsonView):
    grok.context(IProprioCalendar)
    grok.name("selectedDays")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def reply(self):
        session, heb_pk = self.session, self.heb.heb_pk
        rows = busy_days(session, heb_pk)
        sources = history.night_sources(session, heb_pk, rows[0][0], rows[-1][0]) if rows else {}
        me = str(self.pro_pk)
        names = ical_subscriptions.feed_names(session, heb_pk)
        return {
            "rented": [day.isoformat() for day, _type in rows],
            "type": [res_type for _day, res_type in rows],
            "origin": [
                origin_json(sources.get(day), res_type, me, names) for day, res_type in rows
            ],
        }


def origin_json(change, res_type, me, feed_names=None):
    """What the widget shows of the change that set a day (None: unknown,
    or a change older than the day's current type, as after a legacy write)."""
    if change is None or change.new_type != res_type:
        return None
    origin = {
        "source": change.source,
        "actor": change.actor,
        "at": change.changed_at.strftime("%Y-%m-%dT%H:%M"),
        "mine": change.source == history.OWNER and change.actor == me,
    }
    if change.source == history.ICAL and (feed_names or {}).get(change.actor):
        origin["name"] = feed_names[change.actor]
    return origin
