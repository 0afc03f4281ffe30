"""``calendarInfo``: a cottage's last modification date (SPEC §3 helper).

GET ``hebPk``: JSON ``{"hebPk": N, "lastModified": "YYYY-MM-DD" | null,
"lastModifiedDisplay": "dd/mm/yyyy" | ""}``, never cached; the owner's
cottages only (403 otherwise, 400 when hebPk is not a number).
"""

from five import grok

from gites.calendar.browser import owner
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar
from gites.calendar.owners import current_pro_pk


class CalendarInfo(grok.View):
    grok.context(IProprioCalendar)
    grok.name("calendarInfo")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def render(self):
        request = self.request
        if current_pro_pk() is None:
            return owner.json_error(request, 403, "Connectez-vous comme propriétaire.")
        heb_pk = owner.parse_pk(request.form.get("hebPk"))
        if heb_pk is None:
            return owner.json_error(request, 400, "hebPk doit être le numéro d'un hébergement.")
        _session, heb = owner.owner_cottage(heb_pk)
        if heb is None:
            return owner.json_error(request, 403, "Cet hébergement n'est pas un des vôtres.")
        day = heb.heb_calendrier_proprio_date_maj
        return owner.json_response(
            request,
            {
                "hebPk": heb.heb_pk,
                "lastModified": day.isoformat() if day else None,
                "lastModifiedDisplay": owner.format_day(day),
            },
        )
