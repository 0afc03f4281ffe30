"""``ical-feeds`` (POST): the owner manages the calendars his cottage imports.

The form of ``month.html`` posts ``hebPk``, ``action`` (``add``, ``rename``,
``pause``, ``resume``, ``remove``, ``import``), ``feedId`` for the actions on
one feed, ``url`` / ``name`` / ``type`` for ``add``, and plone.protect's
``_authenticator``.  Only the owner of the cottage (one of his public
cottages, as on ``month.html``) may; a feed of another cottage is "not
found".  The answer is a status message and a redirect to the page.

:func:`feed_rows` gives the page what it shows of each feed.
"""

import datetime

from five import grok
from plone import api
import transaction
from zExceptions import Forbidden
from zope.i18n import translate

from gites.calendar import _, clock
from gites.calendar.browser import base
from gites.calendar.browser.params import parse_pk
from gites.calendar.db.models import IcalFeed
from gites.calendar.domain import ical_import, ical_reconcile, ical_subscriptions
from gites.calendar.interfaces import IGitesCalendarLayer, IProprioCalendar

ACTIONS = ("add", "rename", "pause", "resume", "remove", "import")

DONE = {
    "add": _(
        "ical_feed_added", default="Calendrier ajouté : il est importé toutes les 10 minutes."
    ),
    "rename": _("ical_feed_renamed", default="Calendrier renommé."),
    "pause": _("ical_feed_paused", default="Import en pause."),
    "resume": _("ical_feed_resumed", default="Import repris."),
    "remove": _(
        "ical_feed_removed",
        default="Calendrier retiré. Les nuits qu'il avait bloquées restent bloquées.",
    ),
}
NOT_FOUND = _("ical_feed_not_found", default="Ce calendrier importé n'existe plus.")


def ago(now, then, request):
    """ "il y a 4 minutes", translated."""
    if then is None:
        return translate(_("ical_never", default="jamais"), context=request)
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 1:
        message = _("ical_ago_now", default="à l'instant")
    elif minutes < 120:
        message = _("ical_ago_minutes", default="il y a ${n} minutes", mapping={"n": minutes})
    elif minutes < 48 * 60:
        message = _("ical_ago_hours", default="il y a ${n} heures", mapping={"n": minutes // 60})
    else:
        message = _("ical_ago_days", default="il y a ${n} jours", mapping={"n": minutes // 1440})
    return translate(message, context=request)


def _ranges(nights):
    runs = ical_reconcile.runs_of(dict(nights))
    return [
        {
            "start": base.format_day(first),
            "end": base.format_day(last),
            "type": kind,
            "nights": (last - first).days + 1,
        }
        for first, last, kind in runs
    ]


def feed_rows(session, heb_pk, request, now=None):
    """What month.html shows of each feed of the cottage."""
    now = now or clock.now()
    rows = []
    for feed in ical_subscriptions.feeds_of(session, heb_pk):
        error = ical_subscriptions.error_text(feed)
        blocked = ical_subscriptions.blocked_nights(session, feed.id, now.date())
        rows.append(
            {
                "id": feed.id,
                "name": feed.name or "",
                "url": feed.url,
                "paused": feed.paused,
                "type": feed.type_override or "",
                "last_success": ago(now, feed.last_success_at, request),
                "error": translate(error, context=request) if error else "",
                "flagged": ical_subscriptions.is_flagged(feed, now),
                "nights": len(blocked),
                "ranges": _ranges(blocked),
                "conflicts": feed.conflicts or 0,
            }
        )
    return rows


class IcalFeeds(base.OwnerFormView):
    grok.context(IProprioCalendar)
    grok.name("ical-feeds")
    grok.require("zope2.View")
    grok.layer(IGitesCalendarLayer)

    def posted(self, session, heb, form):
        action = form.get("action")
        if action not in ACTIONS:
            raise Forbidden("Unknown action")
        message, kind = self.act(session, heb, action, form)
        api.portal.show_message(message, request=self.request, type=kind)
        return f"{self.context.absolute_url()}/month.html?pk={heb.heb_pk}#ical-import"

    def act(self, session, heb, action, form):
        now = clock.now()
        if action == "add":
            try:
                ical_subscriptions.add_feed(
                    session,
                    heb.heb_pk,
                    form.get("url") if isinstance(form.get("url"), str) else "",
                    now,
                    name=form.get("name") if isinstance(form.get("name"), str) else None,
                    type_override=form.get("type") or None,
                    created_by=api.user.get_current().getId(),
                )
            except ical_subscriptions.FeedError as error:
                transaction.doom()
                return error.message, "error"
            return DONE["add"], "info"
        if action == "import":
            jobs = ical_import.due_jobs(session, now, datetime.timedelta(0), heb_pk=heb.heb_pk)
            report = ical_import.run_in_session(session, jobs, now)
            return (
                _(
                    "ical_imported",
                    default="Import terminé : ${ok} calendrier(s) lu(s), ${failed} en erreur,"
                    " ${set} nuit(s) bloquée(s), ${freed} libérée(s), ${conflicts} conflit(s).",
                    mapping={
                        "ok": report.changed + report.not_modified,
                        "failed": report.failed,
                        "set": report.nights_set,
                        "freed": report.nights_freed,
                        "conflicts": report.conflicts,
                    },
                ),
                "warning" if report.failed else "info",
            )
        feed_id = parse_pk(form.get("feedId"))
        feed = session.get(IcalFeed, feed_id) if feed_id is not None else None
        if feed is None or feed.heb_pk != heb.heb_pk:
            transaction.doom()
            return NOT_FOUND, "error"
        if action == "rename":
            name = form.get("name") if isinstance(form.get("name"), str) else ""
            feed.name = name.strip()[:100] or None
        elif action in ("pause", "resume"):
            feed.paused = action == "pause"
        elif action == "remove":
            ical_subscriptions.remove_feed(session, feed.id)
        return DONE[action], "info"
