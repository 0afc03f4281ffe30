"""``multical.html``: every cottage of the owner, one month at a time.

One row per public cottage, each an editable one-month widget; the type
buttons live in one shared toolbar (``data-toolbar``) so a single choice
applies to every row.  ``?month=YYYY-MM`` chooses the month (default: the
current one); the previous/next links move all rows together.
"""

import datetime
import html
import re

from five import grok
from zope.i18n import translate

from gites.calendar import _, clock
from gites.calendar.browser import owner
from gites.calendar.browser.widget_texts import MONTHS, widget_i18n
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar

TOOLBAR_ID = "gites-calendar-toolbar"
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
# How far the month navigation goes from today, in months.
MAX_MONTHS_AWAY = 36


def month_index(day):
    return day.year * 12 + day.month - 1


def month_start(index):
    return datetime.date(index // 12, index % 12 + 1, 1)


def parse_month(value, today):
    """The first day of the asked month (``YYYY-MM``), or of today's month."""
    current = month_index(today)
    match = MONTH_RE.match(value) if isinstance(value, str) else None
    if match and 1 <= int(match.group(2)) <= 12:
        index = int(match.group(1)) * 12 + int(match.group(2)) - 1
        if abs(index - current) <= MAX_MONTHS_AWAY:
            return month_start(index)
    return month_start(current)


class Multical(grok.View):
    grok.context(IProprioCalendar)
    grok.name("multical.html")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    toolbar_id = TOOLBAR_ID

    def update(self):
        pro_pk = owner.require_member()
        owner.no_store(self.request)
        today = clock.today()
        self.month = parse_month(self.request.form.get("month"), today)
        index = month_index(self.month)
        current = month_index(today)
        month_name = translate(MONTHS[self.month.month - 1], context=self.request)
        self.month_label = f"{month_name} {self.month.year}"
        self.calendar_url = self.context.absolute_url()
        self.portal_url = owner.portal_url()
        base = f"{self.calendar_url}/multical.html?month="
        self.prev_url = (
            base + month_start(index - 1).strftime("%Y-%m")
            if index - 1 >= current - MAX_MONTHS_AWAY
            else None
        )
        self.next_url = (
            base + month_start(index + 1).strftime("%Y-%m")
            if index + 1 <= current + MAX_MONTHS_AWAY
            else None
        )
        self.rows = []
        texts = widget_i18n(self.request, editable=True)  # the same for every row
        for heb in owner.cottages_of_current_owner():
            title = owner.cottage_title(heb)
            self.rows.append(
                {
                    "heb_pk": heb.heb_pk,
                    "title": title,
                    "last_modified": owner.format_day(heb.heb_calendrier_proprio_date_maj),
                    "widget": owner.widget_attributes(
                        self.calendar_url,
                        heb,
                        translate(
                            _(
                                "calendar_title",
                                default="Calendrier pour ${cottage}",
                                mapping={"cottage": title},
                            ),
                            context=self.request,
                        ),
                        months=1,
                        start_month=self.month,
                        i18n=texts,
                        toolbar=f"#{TOOLBAR_ID}",
                    ),
                }
            )
        self.iframe = ""
        if pro_pk is not None and self.rows:
            iframe_title = translate(
                _("multical_iframe_title", default="Disponibilités"), context=self.request
            )
            self.iframe = (
                f'<iframe src="{self.portal_url}/{owner.EXTERN_MONTHLY_CALENDAR}?pk={pro_pk}"'
                ' width="800" height="400" frameborder="0"'
                f' title="{html.escape(iframe_title, quote=True)}"></iframe>'
            )
