"""``addRange``: save one range of an owner's calendar (docs/owner-pages.rst).

POST ``hebPk``, ``start``, ``end`` (YYYY-MM-DD, both included), ``type``
(``loue|indisp|libre``) and ``_authenticator``.  Answers JSON, never cached:

* 200 ``{"ok": true, "hebPk", "start", "end", "type"}``: saved;
* 400 ``{"error": …}``: malformed or unacceptable input;
* 403 ``{"error": …}``: anonymous, bad CSRF token, or not the owner's cottage;
* 405 ``{"error": …}``: not a POST.

Every error dooms the Zope transaction, so nothing of the request is
written; a success writes the days, the modification date and the outbox
row in the one Zope transaction (z3c.saconfig session).
"""

from five import grok

from gites.calendar import _, clock
from gites.calendar.browser import owner
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar
from gites.calendar.reservations import InvalidRange, RangeChange, apply_owner_change, parse_day

POST_REQUIRED = _("addrange_post_required", default="Utilisez POST pour enregistrer une période.")
LOGIN_TO_EDIT = _(
    "addrange_login_required",
    default="Connectez-vous comme propriétaire pour modifier ce calendrier.",
)
SESSION_EXPIRED = _(
    "addrange_session_expired", default="La session a expiré : rechargez la page et réessayez."
)
TYPE_REQUIRED = _("addrange_type_required", default="le type doit être loue, indisp ou libre")


class AddRange(owner.OwnerJsonView):
    grok.context(IProprioCalendar)
    grok.name("addRange")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    method = "POST"
    method_refused = POST_REQUIRED
    writes = True
    login_required = LOGIN_TO_EDIT
    csrf_refused = SESSION_EXPIRED

    def find_cottage(self, session, pro_pk, heb_pk):
        # The two columns the write needs, in one indexed lookup.
        return owner.owned_cottage_for_write(session, pro_pk, heb_pk)

    def reply(self):
        form = self.request.form
        selection_type = form.get("type")
        try:
            if not isinstance(selection_type, str):
                raise InvalidRange(TYPE_REQUIRED)
            start = parse_day(form.get("start", ""), "start")
            end = parse_day(form.get("end", ""), "end")
            apply_owner_change(
                self.session,
                self.heb,
                RangeChange(self.heb.heb_pk, start, end, selection_type),
                self.pro_pk,
                clock.now(),
            )
        except InvalidRange as invalid:
            raise owner.Refusal(400, invalid.message) from None
        return {
            "ok": True,
            "hebPk": self.heb.heb_pk,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "type": selection_type,
        }
