"""The calendar widget's texts, in the visitor's or owner's language.

``calendar.js`` carries French defaults; a page gives the widget its texts
translated through the ``gites.calendar`` catalogues as JSON in the
container's ``data-i18n`` attribute (docs/calendar-widget.rst).  The
read-only widget of the public iframes needs :data:`READONLY_TEXTS`; the
owners' editable one needs :data:`OWNER_TEXTS` as well.
"""

import json

from zope.i18n import translate

from gites.calendar import _

# The month names are shared with multical.html.
MONTHS = [
    _("month_1", default="janvier"),
    _("month_2", default="février"),
    _("month_3", default="mars"),
    _("month_4", default="avril"),
    _("month_5", default="mai"),
    _("month_6", default="juin"),
    _("month_7", default="juillet"),
    _("month_8", default="août"),
    _("month_9", default="septembre"),
    _("month_10", default="octobre"),
    _("month_11", default="novembre"),
    _("month_12", default="décembre"),
]
WEEKDAYS = [
    _("widget_weekday_short_1", default="lu"),
    _("widget_weekday_short_2", default="ma"),
    _("widget_weekday_short_3", default="me"),
    _("widget_weekday_short_4", default="je"),
    _("widget_weekday_short_5", default="ve"),
    _("widget_weekday_short_6", default="sa"),
    _("widget_weekday_short_7", default="di"),
]
WEEKDAYS_LONG = [
    _("widget_weekday_1", default="lundi"),
    _("widget_weekday_2", default="mardi"),
    _("widget_weekday_3", default="mercredi"),
    _("widget_weekday_4", default="jeudi"),
    _("widget_weekday_5", default="vendredi"),
    _("widget_weekday_6", default="samedi"),
    _("widget_weekday_7", default="dimanche"),
]
READONLY_TEXTS = {
    "stateBusy": _("widget_state_busy", default="Occupé"),
    "stateFree": _("widget_state_free", default="Libre"),
    "today": _("widget_today", default="aujourd'hui"),
    "legendLabel": _("widget_legend", default="Légende"),
    "prevMonth": _("widget_previous_month", default="Mois précédent"),
    "nextMonth": _("widget_next_month", default="Mois suivant"),
    "errorLoad": _("widget_error_load", default="Le calendrier n'a pas pu être chargé."),
}
# The editable widget: the three types (buttons, and the state of a day read
# by screen readers), its messages.  "{date}" is replaced by the widget.
OWNER_TEXTS = {
    "loue": _("widget_type_loue", default="Loué"),
    "indisp": _("widget_type_indisp", default="Indisponible"),
    "libre": _("widget_type_libre", default="Libre"),
    "stateLoue": _("widget_state_loue", default="Loué"),
    "stateIndisp": _("widget_state_indisp", default="Indisponible"),
    "typesLabel": _("widget_types_label", default="Type de période"),
    # The live region's words once a range is saved: "{type}" is one of the
    # state names above (or "Libre"), "{nights}" widget_night_one or
    # widget_nights ("{count}" days: each day of a range is one night).
    "savedRange": _(
        "widget_saved_range", default="Enregistré : {type} du {start} au {end}, {nights}."
    ),
    "savedDay": _("widget_saved_day", default="Enregistré : {type} le {date}, {nights}."),
    "nightOne": _("widget_night_one", default="1 nuit"),
    "nights": _("widget_nights", default="{count} nuits"),
    "selectionStarted": _(
        "widget_selection_started", default="Début : {date}. Choisissez le dernier jour."
    ),
    "selectionCancelled": _("widget_selection_cancelled", default="Sélection annulée."),
    "pastDay": _("widget_past_day", default="Les jours passés ne peuvent pas être modifiés."),
    "errorSave": _("widget_error_save", default="L'enregistrement a échoué. Veuillez réessayer."),
    # Who set a busy day (the change log, gites.calendar.domain.history), shown on
    # focus and hover and read as the day's description: "{type}" a state
    # name, "{date}" dd/mm/yyyy, "{time}" HH:MM, "{actor}" the hub's
    # notification number or the imported calendar's name.
    "originMine": _("widget_origin_mine", default="{type} — par vous, le {date} à {time}"),
    "originOwner": _(
        "widget_origin_owner", default="{type} — par le propriétaire, le {date} à {time}"
    ),
    "originHub": _(
        "widget_origin_hub",
        default="{type} — par la centrale de réservation (notification {actor}),"
        " le {date} à {time}",
    ),
    "originIcal": _(
        "widget_origin_ical",
        default="{type} — importé de votre calendrier {actor}, le {date} à {time}",
    ),
    "originOps": _(
        "widget_origin_ops", default="{type} — par les Gîtes de Wallonie, le {date} à {time}"
    ),
}


def widget_i18n(request, editable=False):
    """The widget's texts in the request's language, as JSON for ``data-i18n``."""

    def tr(message):
        return translate(message, context=request)

    texts = {
        "months": [tr(m) for m in MONTHS],
        "weekdays": [tr(m) for m in WEEKDAYS],
        "weekdaysLong": [tr(m) for m in WEEKDAYS_LONG],
    }
    texts.update({key: tr(message) for key, message in READONLY_TEXTS.items()})
    if editable:
        texts.update({key: tr(message) for key, message in OWNER_TEXTS.items()})
    return json.dumps(texts, ensure_ascii=False, separators=(",", ":"))
