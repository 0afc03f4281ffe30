"""Run by `make run` through `bin/zconsole run`: create the demo Plone site.

Idempotent: an existing site ``Plone`` is kept (with its data); missing demo
members are added (their link to a proprio is a database row, written by
``initCalendarDatabase --demo``).  ``app`` is provided by zconsole.
"""

from AccessControl.SecurityManagement import newSecurityManager
from Testing.makerequest import makerequest
import transaction
from zope.component.hooks import setSite

from gites.calendar.domain.demo import MEMBERS

SITE_ID = "Plone"
EXTENSIONS = [
    "plone.app.contenttypes:default",
    "plonetheme.barceloneta:default",
    "gites.calendar:default",
]


def main(app):
    app = makerequest(app)
    admin = app.acl_users.getUserById("admin")
    newSecurityManager(None, admin.__of__(app.acl_users))
    if SITE_ID not in app.objectIds():
        from Products.CMFPlone.factory import addPloneSite

        addPloneSite(
            app,
            SITE_ID,
            title="Gîtes de Wallonie",
            extension_ids=EXTENSIONS,
            setup_content=False,
            default_language="fr",
        )
        print(f"created site {SITE_ID}")
    site = app[SITE_ID]
    setSite(site)
    from plone import api
    from plone.base.utils import get_installer

    installer = get_installer(site, app.REQUEST)
    if not installer.is_product_installed("gites.calendar"):
        installer.install_product("gites.calendar")
        print("installed gites.calendar")
    for login, password, pro_pk in MEMBERS:
        if api.user.get(username=login) is None:
            # The demo passwords are shorter than Plone's password policy
            # allows; the user folder's own API takes them as they are.
            site.acl_users._doAddUser(login, password, ["Member"], [])
            api.user.get(username=login).setMemberProperties(
                {"fullname": login, "email": f"{login}@example.org"}
            )
            # Linked to proprio pro_pk by initCalendarDatabase --demo (demo.py).
            print(f"created member {login} (proprio {pro_pk})")
    transaction.commit()


main(app)  # noqa: F821 (zconsole's global)
