"""Install and uninstall steps that GenericSetup XML cannot express.

Install creates ``zone-membre/calendrier`` (marked IProprioCalendar) with its
pages ``aide`` and ``transfert``, and assigns the calendar-menu portlet to the
left column of ``zone-membre``.  Uninstall removes exactly what install added
(the folder ``zone-membre`` itself stays: it belongs to the site).
"""

from plone import api
from plone.base.interfaces import INonInstallable
from plone.portlets.interfaces import IPortletAssignmentMapping, IPortletManager
from zope.component import getMultiAdapter, getUtility
from zope.interface import alsoProvides, implementer, noLongerProvides

from gites.calendar import logger
from gites.calendar.interfaces import IProprioCalendar

ZONE_ID = "zone-membre"
CALENDAR_ID = "calendrier"
PORTLET_ID = "gites-calendar-menu"

PAGES = {
    "aide": (
        "Aide",
        "<p>Choisissez un type (Loué, Indisponible ou Libre), cliquez sur le premier"
        " jour puis sur le dernier jour de la période : elle est enregistrée"
        " aussitôt. Au clavier, les flèches déplacent le jour choisi et Entrée"
        " marque le début puis la fin.</p>",
    ),
    "transfert": (
        "Transfert",
        "<p>Les changements de votre calendrier sont transmis automatiquement à la"
        " centrale de réservation (walhebcalendar) pour les gîtes qui ont un code"
        " CGT, et ceux de la centrale apparaissent ici.</p>",
    ),
}


@implementer(INonInstallable)
class HiddenProfiles:
    def getNonInstallableProfiles(self):
        return ["gites.calendar:uninstall"]


def _left_column(context):
    manager = getUtility(IPortletManager, name="plone.leftcolumn", context=context)
    return getMultiAdapter((context, manager), IPortletAssignmentMapping)


def post_install(context):
    portal = api.portal.get()
    zone = portal.get(ZONE_ID)
    if zone is None:
        zone = api.content.create(container=portal, type="Folder", id=ZONE_ID, title="Zone membre")
    calendar = zone.get(CALENDAR_ID)
    if calendar is None:
        calendar = api.content.create(
            container=zone, type="Folder", id=CALENDAR_ID, title="Calendrier"
        )
    alsoProvides(calendar, IProprioCalendar)
    calendar.reindexObject(idxs=["object_provides"])
    for page_id, (title, html) in PAGES.items():
        if page_id not in calendar:
            page = api.content.create(container=calendar, type="Document", id=page_id, title=title)
            from plone.app.textfield.value import RichTextValue

            page.text = RichTextValue(html, "text/html", "text/x-html-safe")
    for obj in [zone, calendar, *(calendar[p] for p in PAGES)]:
        if api.content.get_state(obj, default=None) not in (None, "published"):
            api.content.transition(obj, to_state="published")
    mapping = _left_column(zone)
    if PORTLET_ID not in mapping:
        from gites.calendar.portlets.calendarmenu import Assignment

        mapping[PORTLET_ID] = Assignment()
    # A site reinstalled instead of upgraded from profile 1000 still has the
    # legacy member property: read it once and drop it, as step 1001 does.
    from gites.calendar.upgrades.to1001 import migrate

    migrate(portal)
    logger.info("installed: %s/%s", ZONE_ID, CALENDAR_ID)


def uninstall(context):
    portal = api.portal.get()
    zone = portal.get(ZONE_ID)
    if zone is None:
        return
    mapping = _left_column(zone)
    if PORTLET_ID in mapping:
        del mapping[PORTLET_ID]
    calendar = zone.get(CALENDAR_ID)
    if calendar is not None:
        noLongerProvides(calendar, IProprioCalendar)
        api.content.delete(obj=calendar, check_linkintegrity=False)
    logger.info("uninstalled: %s/%s removed", ZONE_ID, CALENDAR_ID)
