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
from plone.protect.authenticator import check as check_authenticator
import transaction
from zExceptions import Forbidden

from gites.calendar import _, clock
from gites.calendar.browser import owner
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar
from gites.calendar.owners import current_pro_pk
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


class AddRange(grok.View):
    grok.context(IProprioCalendar)
    grok.name("addRange")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def error(self, status, message):
        transaction.doom()
        if status == 405:
            self.request.response.setHeader("Allow", "POST")
        return owner.json_error(self.request, status, message)

    def render(self):
        request = self.request
        if request.get("REQUEST_METHOD", "GET").upper() != "POST":
            return self.error(405, POST_REQUIRED)
        pro_pk = current_pro_pk()
        if pro_pk is None:
            return self.error(403, LOGIN_TO_EDIT)
        try:
            check_authenticator(request)
        except Forbidden:
            return self.error(403, SESSION_EXPIRED)
        form = request.form
        heb_pk = owner.parse_pk(form.get("hebPk"))
        if heb_pk is None:
            return self.error(400, owner.BAD_PK)
        session, heb = owner.owned_cottage_for_write(pro_pk, heb_pk)
        if heb is None:
            return self.error(403, owner.NOT_YOURS)
        selection_type = form.get("type")
        try:
            if not isinstance(selection_type, str):
                raise InvalidRange(TYPE_REQUIRED)
            start = parse_day(form.get("start", ""), "start")
            end = parse_day(form.get("end", ""), "end")
            apply_owner_change(
                session,
                heb,
                RangeChange(heb.heb_pk, start, end, selection_type),
                pro_pk,
                clock.now(),
            )
        except InvalidRange as invalid:
            return self.error(400, invalid.message)
        return owner.json_response(
            request,
            {
                "ok": True,
                "hebPk": heb.heb_pk,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "type": selection_type,
            },
        )
