"""``history.html?pk=N``: the change log of one cottage (issue 12).

The last changes of the cottage's calendar, newest first, 50 per page
(``&page=2``...): when, what (type and days, or the calendar's new state),
how many days really changed, and who.  Only the cottage's owner (the
owner link, as month.html) and Managers see it; anyone else gets the same
"unavailable" page with status 404 as month.html, anonymous visitors the
login form.
"""

from five import grok
from plone import api
from zope.i18n import translate
from zope.i18nmessageid import Message

from gites.calendar import _
from gites.calendar.browser import base as owner
from gites.calendar.browser.params import parse_pk
from gites.calendar.db.models import Hebergement
from gites.calendar.db.session import get_session
from gites.calendar.domain import history, owners
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar

PAGE_SIZE = 50

TYPE_LABELS = {
    "loue": _("history_type_loue", default="Loué"),
    "indisp": _("history_type_indisp", default="Indisponible"),
    "libre": _("history_type_libre", default="Libre"),
    "actif": _("history_state_actif", default="Calendrier actif"),
    "searchactif": _("history_state_searchactif", default="Calendrier actif (recherche)"),
    "non actif": _("history_state_non_actif", default="Calendrier non actif"),
    "bloque": _("history_state_bloque", default="Calendrier bloqué"),
}


# The words of a change the member made himself, by its source.
BY_YOU = {
    history.OWNER: _("history_by_you", default="par vous"),
    history.CONFIGURATION: _("history_by_you_configuration", default="par vous (configuration)"),
    history.REACTIVATION: _("history_by_you_reactivation", default="par vous (réactivation)"),
}
# The words naming who made a change, by its source (an owner's sources as
# OWNER): the message and the name its ``${...}`` gives the actor.
BY_ACTOR = {
    history.OWNER: (_("history_by_owner", default="par le propriétaire n° ${pk}"), "pk"),
    history.HUB: (
        _(
            "history_by_hub",
            default="par la centrale de réservation (notification ${notification})",
        ),
        "notification",
    ),
    history.ICAL: (_("history_by_ical", default="importé de votre calendrier ${feed}"), "feed"),
}


def who(change, me):
    """The translatable "who" of a change, for the page and the widget's words."""
    source = change.source
    if source in BY_YOU:
        if change.actor is not None and change.actor == me:
            return BY_YOU[source]
        source = history.OWNER
    if source in BY_ACTOR:
        message, name = BY_ACTOR[source]
        return Message(message, mapping={name: change.actor or "?"})
    if source == history.ACTIVITY:
        return _(
            "history_by_activity",
            default="par le contrôle d'activité (calendrier non mis à jour)",
        )
    return _("history_by_ops", default="par les Gîtes de Wallonie")


def may_manage():
    return api.user.has_permission("Manage portal")


class HistoryPage(grok.View):
    grok.context(IProprioCalendar)
    grok.name("history.html")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def update(self):
        pro_pk = owner.require_member()
        owner.no_store(self.request)
        self.heb = None
        pk = parse_pk(self.request.form.get("pk"))
        session = get_session()
        if pk is not None:
            _session, self.heb = owner.owner_cottage(pk)
            if self.heb is None and may_manage():
                self.heb = session.get(Hebergement, pk)
        if self.heb is None:
            self.request.response.setStatus(404)
            return
        self.calendar_url = self.context.absolute_url()
        self.month_url = f"{self.calendar_url}/month.html?pk={self.heb.heb_pk}"
        self.cottage_title = owners.cottage_title(self.heb)
        page = parse_pk(self.request.form.get("page")) or 1
        total = history.count_changes(session, self.heb.heb_pk)
        pages = max(1, -(-total // PAGE_SIZE))
        self.page = min(page, pages)
        self.pages = pages
        self.total = total
        me = str(pro_pk) if pro_pk is not None else None
        rows = history.changes(
            session, self.heb.heb_pk, limit=PAGE_SIZE, offset=(self.page - 1) * PAGE_SIZE
        )
        self.rows = [self.describe(change, me) for change in rows]
        base = f"{self.calendar_url}/history.html?pk={self.heb.heb_pk}&page="
        self.newer_url = base + str(self.page - 1) if self.page > 1 else None
        self.older_url = base + str(self.page + 1) if self.page < pages else None

    def tr(self, message):
        return translate(message, context=self.request)

    def describe(self, change, me):
        what = self.tr(TYPE_LABELS.get(change.new_type, change.new_type))
        if change.first_day is None:
            days = ""
        elif change.first_day == change.last_day:
            days = owner.format_day(change.first_day)
        else:
            days = self.tr(
                _(
                    "history_range",
                    default="du ${start} au ${end}",
                    mapping={
                        "start": owner.format_day(change.first_day),
                        "end": owner.format_day(change.last_day),
                    },
                )
            )
        return {
            "id": change.id,
            "when": change.changed_at.strftime("%d/%m/%Y %H:%M"),
            "when_iso": change.changed_at.isoformat(timespec="minutes"),
            "what": what,
            "days": days,
            "changed": str(change.changed_days) if change.first_day is not None else "",
            "source": change.source,
            "who": self.tr(who(change, me)),
        }
