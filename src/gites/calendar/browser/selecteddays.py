"""``selectedDays`` on the calendar folder: every row of an owner's cottage.

GET ``hebPk``: JSON ``{"rented": ["YYYY-MM-DD", …], "type": ["loue"|"indisp", …]}``
(same order), never cached.  The widget adds ``year``/``month``/``range``;
the owner's answer holds all rows, so they are ignored.  Anonymous or not
the owner's cottage: 403; ``hebPk`` not a number: 400.  The public
``selectedDays`` (busy days only) is registered for the site root; this one,
for the more specific IProprioCalendar, wins on the calendar folder.
"""

from five import grok

from gites.calendar.browser import owner
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar
from gites.calendar.reservations import busy_days


class SelectedDays(grok.View):
    grok.context(IProprioCalendar)
    grok.name("selectedDays")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def render(self):
        request = self.request
        try:
            session, heb = owner.requested_cottage(request)
        except owner.NotYours as refused:
            return owner.json_error(request, *refused.args)
        rows = busy_days(session, heb.heb_pk)
        return owner.json_response(
            request,
            {
                "rented": [day.isoformat() for day, _type in rows],
                "type": [res_type for _day, res_type in rows],
            },
        )
