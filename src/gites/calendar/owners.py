"""Who the logged-in owner is, and which cottages are theirs (docs/owner-pages.rst,
docs/security.rst).

An owner is a Plone member linked to a proprio's ``pro_pk`` in the table
``gites_calendar_owner_link`` (docs/design.rst): only Managers, Site
Administrators and ops write it, never the member, so nothing in the
member's own data (the legacy property ``pk`` included) is read here.
"The owner's cottages" are those of an active proprio (``pro_etat``),
public ones unless asked otherwise, ordered by ``heb_pk``.
"""

from plone import api
from sqlalchemy import delete, select

from gites.calendar import clock
from gites.calendar.db import get_session
from gites.calendar.models import Hebergement, OwnerLink, Proprio


def current_pro_pk():
    """The logged-in member's pro_pk, or None (anonymous, not linked)."""
    if api.user.is_anonymous():
        return None
    member = api.user.get_current()
    member_id = member.getId() if member is not None else None
    if not member_id:
        return None
    return linked_pro_pk(get_session(), member_id)


def linked_pro_pk(session, member_id):
    link = session.get(OwnerLink, member_id)
    return link.pro_pk if link is not None else None


def set_link(session, member_id, pro_pk, set_by):
    """Make member ``member_id`` the owner of proprio ``pro_pk`` (replacing
    any previous link of that member).  Callers check the permission."""
    link = session.get(OwnerLink, member_id)
    if link is None:
        link = OwnerLink(member_id=member_id)
        session.add(link)
    link.pro_pk = pro_pk
    link.set_by = set_by
    link.set_at = clock.now()
    session.flush()
    return link


def remove_link(session, member_id):
    """Remove the member's link; True if there was one."""
    return session.execute(delete(OwnerLink).where(OwnerLink.member_id == member_id)).rowcount > 0


def all_links(session):
    """Every link, with its proprio (None if the proprio does not exist)."""
    return session.execute(
        select(OwnerLink, Proprio)
        .outerjoin(Proprio, Proprio.pro_pk == OwnerLink.pro_pk)
        .order_by(OwnerLink.member_id)
    ).all()


def get_proprio(session, pro_pk):
    return session.get(Proprio, pro_pk) if pro_pk is not None else None


def owner_cottages(session, pro_pk, public_only=True):
    """The cottages of an active proprio, ordered by heb_pk."""
    if pro_pk is None:
        return []
    query = (
        select(Hebergement)
        .join(Proprio, Hebergement.heb_pro_fk == Proprio.pro_pk)
        .where(Proprio.pro_pk == pro_pk, Proprio.pro_etat.is_(True))
        .order_by(Hebergement.heb_pk)
    )
    if public_only:
        query = query.where(Hebergement.heb_site_public == "1")
    return list(session.scalars(query))


def owned_cottage(session, pro_pk, heb_pk, public_only=True):
    """The cottage heb_pk if it is one of the owner's, else None."""
    if pro_pk is None or heb_pk is None:
        return None
    for heb in owner_cottages(session, pro_pk, public_only=public_only):
        if heb.heb_pk == heb_pk:
            return heb
    return None


def calendar_state(cottages):
    """The owner's calendar state: the one of the first public cottage."""
    return cottages[0].heb_calendrier_proprio if cottages else None


def forget_deleted_member(event):
    """IPrincipalDeletedEvent: drop the deleted member's link."""
    principal = event.principal
    member_id = principal if isinstance(principal, str) else principal.getId()
    if member_id:
        remove_link(get_session(), member_id)
