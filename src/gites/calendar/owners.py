"""Who the logged-in owner is, and which cottages are theirs (SPEC §3).

An owner is a Plone member whose member property ``pk`` holds a proprio's
``pro_pk``.  "The owner's cottages" are those of an active proprio
(``pro_etat``), public ones unless asked otherwise, ordered by ``heb_pk``.
"""

from plone import api
from sqlalchemy import select

from gites.calendar.models import Hebergement, Proprio


def current_pro_pk():
    """The logged-in member's pro_pk, or None (anonymous, no or bad ``pk``)."""
    if api.user.is_anonymous():
        return None
    member = api.user.get_current()
    value = member.getProperty("pk", None) if member is not None else None
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return pk if pk > 0 else None


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
