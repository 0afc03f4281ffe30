"""Run through ``bin/zconsole run``: add the benchmark owners to the site ``Plone``.

Members ``bench01`` .. ``bench10`` (password = login), member property ``pk``
= 9001 .. 9010 (their proprios in the bench database).  ``app`` is provided
by zconsole; the site was created by scripts/create_site.py.
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

    for i in range(OWNERS):
        login = f"bench{i + 1:02d}"
        if api.user.get(username=login) is None:
            site.acl_users._doAddUser(login, login, ["Member"], [])
        api.user.get(username=login).setMemberProperties(
            {"fullname": login, "email": f"{login}@example.org", "pk": str(FIRST_PK + i)}
        )
    transaction.commit()
    print(f"bench members: {OWNERS}")


main(app)  # noqa: F821 (zconsole's global)
