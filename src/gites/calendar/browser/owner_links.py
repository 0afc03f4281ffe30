"""``@@gites-calendar-owner-links``: the control panel of the owner links.

Managers and Site Administrators (permission ``gites.calendar: Manage
owner links``) see which member is which proprio and change it; this and
the ops script ``gitesCalendarOwnerLink`` are the only writers of
``gites_calendar_owner_link`` (docs/design.rst).  Changes are POSTs with
plone.protect's token, checked here: the write goes to SQL, which
plone.protect's automatic ZODB-write check does not see.
"""

from five import grok
from plone import api
from plone.base.interfaces import IPloneSiteRoot
from plone.protect.authenticator import check as check_authenticator

from gites.calendar.browser import owner
from gites.calendar.db import get_session
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.models import Proprio
from gites.calendar.owners import all_links, remove_link, set_link

VIEW_NAME = "gites-calendar-owner-links"
PERMISSION = "gites.calendar.ManageOwnerLinks"


def find_member(name):
    """The member named by user id or login, or None."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        return None
    return api.user.get(userid=name) or api.user.get(username=name)


class OwnerLinks(grok.View):
    grok.context(IPloneSiteRoot)
    grok.name(VIEW_NAME)
    grok.require(PERMISSION)
    grok.layer(IGitesCalendarLayer)

    def update(self):
        request = self.request
        owner.no_store(request)
        self.error = None
        if request.get("REQUEST_METHOD", "GET").upper() == "POST":
            check_authenticator(request)  # raises Forbidden without a valid token
            message = self.apply(request.form)
            if self.error is None:
                api.portal.show_message(message, request=request)
                request.response.redirect(f"{self.context.absolute_url()}/@@{VIEW_NAME}")
                return
            request.response.setStatus(400)
        self.authenticator = owner.authenticator_token()
        self.action_url = f"{self.context.absolute_url()}/@@{VIEW_NAME}"
        self.rows = [self.row(link, proprio) for link, proprio in all_links(get_session())]

    def apply(self, form):
        session = get_session()
        if form.get("remove"):
            member_id = form.get("member_id")
            if isinstance(member_id, str) and remove_link(session, member_id):
                return f"Link of member {member_id} removed."
            self.error = "No such link."
            return None
        member = find_member(form.get("member"))
        if member is None:
            self.error = "No member with that user id or login name."
            return None
        pro_pk = owner.parse_pk(form.get("pro_pk"))
        if pro_pk is None or session.get(Proprio, pro_pk) is None:
            self.error = "No proprio with that number (pro_pk)."
            return None
        set_link(session, member.getId(), pro_pk, api.user.get_current().getId())
        return f"Member {member.getId()} is now the owner of proprio {pro_pk}."

    def row(self, link, proprio):
        member = api.user.get(userid=link.member_id)
        return {
            "member_id": link.member_id,
            "fullname": (member.getProperty("fullname", "") if member is not None else None),
            "pro_pk": link.pro_pk,
            "proprio": proprio.display_name if proprio is not None else None,
            "active": bool(proprio is not None and proprio.pro_etat),
            "set_by": link.set_by,
            "set_at": link.set_at.strftime("%Y-%m-%d %H:%M") if link.set_at else "",
        }
