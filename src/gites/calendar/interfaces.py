"""Marker interfaces of gites.calendar."""

from zope.interface import Interface
from zope.publisher.interfaces.browser import IDefaultBrowserLayer


class IGitesCalendarLayer(IDefaultBrowserLayer):
    """Browser layer: present once the add-on is installed in a site."""


class IProprioCalendar(Interface):
    """The owners' calendar folder (zone-membre/calendrier)."""
