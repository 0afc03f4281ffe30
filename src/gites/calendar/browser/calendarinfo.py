"""``calendarInfo``: a cottage's last modification date (docs/owner-pages.rst).

GET ``hebPk``: JSON ``{"hebPk": N, "lastModified": "YYYY-MM-DD" | null,
"lastModifiedDisplay": "dd/mm/yyyy" | ""}``, never cached; the owner's
cottages only (403 otherwise, 400 when hebPk is not a number).
"""

from five import grok

from gites.calendar.browser import owner
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar


class CalendarInfo(owner.OwnerJsonView):
    grok.context(IProprioCalendar)
    grok.name("calendarInfo")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def reply(self):
        day = self.heb.heb_calendrier_proprio_date_maj
        return {
            "hebPk": self.heb.heb_pk,
            "lastModified": day.isoformat() if day else None,
            "lastModifiedDisplay": owner.format_day(day),
        }
