"""1000 → 1001: the member → proprio link leaves the member's data.

Up to 1000 an owner was the member whose property ``pk`` held a proprio's
``pro_pk``; every member could write that property himself (plone.restapi's
``PATCH @users``).  This step reads it one last time: each member's ``pk``
becomes a row of ``gites_calendar_owner_link``, then the property and its
values are removed, so that nothing can trust it again.

Read from the storage of the ``mutable_properties`` plugin (where Plone
keeps ``portal_memberdata`` properties), not through the members: the
values are there even when the property was already dropped from the
schema, and no member object is woken for the thousands without one.

A member who already has a link (set in the control panel) keeps it.  A
``pk`` that is not a number or names no proprio is skipped and logged, as
are proprios claimed by several members: a Manager checks those in the
control panel *Propriétaires des calendriers* (a member may have set his
``pk`` himself before this step ran).
"""

from plone import api
from sqlalchemy import inspect

from gites.calendar import logger
from gites.calendar.db.models import OwnerLink, Proprio
from gites.calendar.db.session import get_session
from gites.calendar.domain.owners import set_link
from gites.calendar.logsafe import one_line

PROPERTY = "pk"
SET_BY = "upgrade 1001 (member property pk)"
MAX_PK = 2**31 - 1


def _parse(value):
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    pk = int(text)
    return pk if 0 < pk <= MAX_PK else None


def _storage(portal):
    plugin = getattr(portal.acl_users, "mutable_properties", None)
    return getattr(plugin, "_storage", None)


def legacy_values(portal):
    """{member id: raw pk} of every member whose stored data has a pk."""
    storage = _storage(portal)
    if storage is None:
        return {}
    found = {}
    for member_id, data in storage.items():
        value = data.get(PROPERTY) if hasattr(data, "get") else None
        if value not in (None, ""):
            found[member_id] = value
    return found


def forget_values(portal):
    """Remove the property's values, empty ones included, from the storage."""
    storage = _storage(portal)
    if storage is None:
        return
    holders = [m for m, data in storage.items() if hasattr(data, "get") and PROPERTY in data]
    for member_id in holders:
        data = storage[member_id]
        del data[PROPERTY]
        storage[member_id] = data  # the plugin's OOBTree holds plain dicts


class MissingTable(Exception):
    pass


def has_owner_table(session):
    return inspect(session.connection()).has_table(OwnerLink.__tablename__)


def migrate(portal):
    """Copy, then forget, the legacy property; return the number of links made."""
    values = legacy_values(portal)
    made = 0
    if values:
        session = get_session()
        if not has_owner_table(session):
            # Zope's database user may not create tables: ops do, first.
            raise MissingTable(
                f"{OwnerLink.__tablename__} is missing: run bin/initCalendarDatabase,"
                " then this upgrade again (nothing was changed)"
            )
        claims = {}
        for member_id, raw in sorted(values.items()):
            pro_pk = _parse(raw)
            if pro_pk is None or session.get(Proprio, pro_pk) is None:
                logger.warning(
                    "owner link: member %s has pk %s, not a proprio: skipped",
                    one_line(member_id),
                    one_line(raw),
                )
                continue
            if session.get(OwnerLink, member_id) is not None:
                logger.info("owner link: member %s already linked, kept", one_line(member_id))
                continue
            set_link(session, member_id, pro_pk, SET_BY)
            claims.setdefault(pro_pk, []).append(member_id)
            made += 1
        for pro_pk, members in sorted(claims.items()):
            if len(members) > 1:
                logger.warning(
                    "owner link: proprio %s is claimed by %d members (%s): check them"
                    " in the control panel",
                    pro_pk,
                    len(members),
                    ", ".join(one_line(m) for m in members),
                )
        logger.info("owner link: %d links copied from the member property %s", made, PROPERTY)
    forget_values(portal)
    memberdata = api.portal.get_tool("portal_memberdata")
    if memberdata.hasProperty(PROPERTY):
        memberdata._delProperty(PROPERTY)
    return made


def upgrade(context):
    migrate(api.portal.get())
