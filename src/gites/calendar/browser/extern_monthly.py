"""``extern-monthly-calendar?pk=P``: an owner's public calendars, for an iframe.

One row per cottage of proprio P whose calendar is public (docs/public-calendars.rst), each a
read-only widget showing one month (``month=YYYY-MM``, default: the current
month).  An unknown proprio, an inactive one or one without a public
calendar gets the neutral "no calendar" page of ``extern-calendar``.
"""

import datetime

from five import grok
from plone.base.interfaces import INavigationRoot

from gites.calendar.browser.extern_calendar import ExternCalendarBase
from gites.calendar.browser.params import MAX_PK, lenient_int_param, month_param
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.public import visible_cottages

# The months a visitor may ask for (the public selectedDays' years).
EARLIEST_MONTH = datetime.date(1900, 1, 1)
LATEST_MONTH = datetime.date(2200, 12, 1)


class ExternMonthlyCalendar(ExternCalendarBase):
    """An owner's public cottages, one row each, one month, read-only."""

    grok.context(INavigationRoot)
    grok.name("extern-monthly-calendar")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def update(self):
        self.prepare()
        pk = lenient_int_param(self.request.form, "pk", 1, MAX_PK)
        cottages = visible_cottages(self.session, pk) if pk else []
        start_month = month_param(
            self.request.form, "month", self.today, EARLIEST_MONTH, LATEST_MONTH
        )
        self.rows = [
            {
                "title": heb.heb_nom or str(heb.heb_pk),
                "attributes": self.widget(heb, 1, start_month),
            }
            for heb in cottages
        ]
        self.validate(
            "monthly", [(row["title"], sorted(row["attributes"].items())) for row in self.rows]
        )
