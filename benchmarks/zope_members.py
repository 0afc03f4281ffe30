"""Run through ``bin/zconsole run``: add the benchmark owners to the site ``Plone``.

Members ``bench01`` .. ``bench10`` (password = login), linked to proprios
9001 .. 9010 of the bench database in ``gites_calendar_owner_link``, as the
control panel would (docs/design.rst: the member property ``pk`` is no
longer read).  ``app`` is provided
by zconsole; the site was created by tools/create_site.py.
"""

from AccessControl.SecurityManagement import newSecurityManager
from Testing.makerequest import makerequest
import transaction
from zope.component.hooks import setSite

OWNERS = 10
FIRST_PK = 9001


def main(app):
    app = makerequest(app)
    admin = app.acl_users.getUserById("admin")
    newSecurityManager(None, admin.__of__(app.acl_users))
    site = app["Plone"]
    setSite(site)
    from plone import api

    from gites.calendar.db.session import get_session
    from gites.calendar.domain.owners import set_link

    for i in range(OWNERS):
        login = f"bench{i + 1:02d}"
        if api.user.get(username=login) is None:
            site.acl_users._doAddUser(login, login, ["Member"], [])
        api.user.get(username=login).setMemberProperties(
            {"fullname": login, "email": f"{login}@example.org"}
        )
        set_link(get_session(), api.user.get(username=login).getId(), FIRST_PK + i, "bench")
    transaction.commit()
    print(f"bench members: {OWNERS}")


main(app)  # noqa: F821 (zconsole's global)
