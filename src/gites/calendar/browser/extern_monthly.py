"""``extern-monthly-calendar?pk=P``: an owner's public calendars, for an iframe.

One row per cottage of proprio P whose calendar is public (docs/public-calendars.rst), each a
read-only widget showing one month (``month=YYYY-MM``, default: the current
month).  An unknown proprio, an inactive one or one without a public
calendar gets the neutral "no calendar" page of ``extern-calendar``.
"""

import datetime
import re

from five import grok
from plone.base.interfaces import INavigationRoot

from gites.calendar.browser.extern_calendar import MAX_PK, ExternCalendarBase, int_param
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.public import visible_cottages

MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


def month_param(form, name, today):
    """The ``YYYY-MM`` parameter ``name`` as a first day of month.

    Absent or malformed: the current month (an iframe page shows no error).
    """
    raw = form.get(name)
    if isinstance(raw, str):
        match = MONTH_RE.fullmatch(raw.strip())
        if match and 1900 <= int(match[1]) <= 2200 and 1 <= int(match[2]) <= 12:
            return datetime.date(int(match[1]), int(match[2]), 1)
    return today.replace(day=1)


class ExternMonthlyCalendar(ExternCalendarBase):
    """An owner's public cottages, one row each, one month, read-only."""

    grok.context(INavigationRoot)
    grok.name("extern-monthly-calendar")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def update(self):
        self.prepare()
        pk = int_param(self.request.form, "pk", MAX_PK)
        cottages = visible_cottages(self.session, pk) if pk else []
        start_month = month_param(self.request.form, "month", self.today)
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
