"""``multical.html``: every cottage of the owner, one month at a time.

One row per public cottage, each an editable one-month widget; the type
buttons live in one shared toolbar (``data-toolbar``) so a single choice
applies to every row.  ``?month=YYYY-MM`` chooses the month (default: the
current one); the previous/next links move all rows together.
"""

import html

from five import grok
from zope.i18n import translate

from gites.calendar import _, clock
from gites.calendar.browser import owner
from gites.calendar.browser.params import add_months, month_param
from gites.calendar.browser.widget_texts import MONTHS, widget_i18n
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar

TOOLBAR_ID = "gites-calendar-toolbar"
# How far the month navigation goes from today, in months.
MAX_MONTHS_AWAY = 36


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
        earliest = add_months(today, -MAX_MONTHS_AWAY)
        latest = add_months(today, MAX_MONTHS_AWAY)
        self.month = month_param(self.request.form, "month", today, earliest, latest)
        month_name = translate(MONTHS[self.month.month - 1], context=self.request)
        self.month_label = f"{month_name} {self.month.year}"
        self.calendar_url = self.context.absolute_url()
        self.portal_url = owner.portal_url()
        base = f"{self.calendar_url}/multical.html?month="
        previous, following = add_months(self.month, -1), add_months(self.month, 1)
        self.prev_url = base + previous.strftime("%Y-%m") if previous >= earliest else None
        self.next_url = base + following.strftime("%Y-%m") if following <= latest else None
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
