"""``@@gites-calendar-owner-links``: the control panel of the owner links.

Managers and Site Administrators (permission ``gites.calendar: Manage
owner links``) see which member is which proprio and change it; this and
the ops script ``gitesCalendarOwnerLink`` are the only writers of
``gites_calendar_owner_link`` (docs/design.rst).  Changes are POSTs with
plone.protect's token, checked here: the write goes to SQL, which
plone.protect's automatic ZODB-write check does not see.

A control panel, so registered in ZCML (forms.zcml), not grokked.
"""

from plone import api
from plone.protect.authenticator import check as check_authenticator
from Products.Five.browser import BrowserView
from zope.i18n import translate

from gites.calendar import _
from gites.calendar.browser import owner
from gites.calendar.browser.params import parse_pk
from gites.calendar.db import get_session
from gites.calendar.models import Proprio
from gites.calendar.owners import all_links, remove_link, set_link

VIEW_NAME = "gites-calendar-owner-links"

NO_SUCH_LINK = _("owner_links_no_such_link", default="Ce lien n'existe pas.")
UNKNOWN_MEMBER = _(
    "owner_links_unknown_member",
    default="Aucun membre n'a cet identifiant ou ce nom de connexion.",
)
UNKNOWN_PROPRIO = _("owner_links_unknown_proprio", default="Aucun proprio n'a ce numéro (pro_pk).")


def find_member(name):
    """The member named by user id or login, or None."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        return None
    return api.user.get(userid=name) or api.user.get(username=name)


class OwnerLinks(BrowserView):
    def __call__(self):
        request = self.request
        owner.no_store(request)
        self.error = None
        if request.get("REQUEST_METHOD", "GET").upper() == "POST":
            check_authenticator(request)  # raises Forbidden without a valid token
            message = self.apply(request.form)
            if self.error is None:
                api.portal.show_message(message, request=request)
                request.response.redirect(self.action_url)
                return ""
            request.response.setStatus(400)
        return self.index()

    @property
    def action_url(self):
        return f"{self.context.absolute_url()}/@@{VIEW_NAME}"

    def authenticator(self):
        return owner.authenticator_token()

    def error_text(self):
        return translate(self.error, context=self.request) if self.error else None

    def apply(self, form):
        session = get_session()
        if form.get("remove"):
            member_id = form.get("member_id")
            if isinstance(member_id, str) and remove_link(session, member_id):
                return _(
                    "owner_links_removed",
                    default="Le lien du membre ${member} est supprimé.",
                    mapping={"member": member_id},
                )
            self.error = NO_SUCH_LINK
            return None
        member = find_member(form.get("member"))
        if member is None:
            self.error = UNKNOWN_MEMBER
            return None
        pro_pk = parse_pk(form.get("pro_pk"))
        if pro_pk is None or session.get(Proprio, pro_pk) is None:
            self.error = UNKNOWN_PROPRIO
            return None
        set_link(session, member.getId(), pro_pk, api.user.get_current().getId())
        return _(
            "owner_links_set",
            default="Le membre ${member} est maintenant le propriétaire du proprio ${pro_pk}.",
            mapping={"member": member.getId(), "pro_pk": pro_pk},
        )

    def rows(self):
        return [self.row(link, proprio) for link, proprio in all_links(get_session())]

    def row(self, link, proprio):
        member = api.user.get(userid=link.member_id)
        return {
            "member_id": link.member_id,
            "fullname": member.getProperty("fullname", "") if member is not None else None,
            "pro_pk": link.pro_pk,
            "proprio": proprio.display_name if proprio is not None else None,
            "inactive": proprio is not None and not proprio.pro_etat,
            "set_by": link.set_by,
            "set_at": link.set_at.strftime("%Y-%m-%d %H:%M") if link.set_at else "",
        }
