"""gites.calendar: owners' availability calendars for the Gîtes de Wallonie."""

import logging

from zope.i18nmessageid import MessageFactory

_ = MessageFactory("gites.calendar")
logger = logging.getLogger("gites.calendar")
