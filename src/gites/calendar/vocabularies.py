"""Vocabularies of the owner pages, registered in browser/forms.zcml.

See docs/owner-pages.rst, "Calendar menu portlet and vocabularies".

* ``proprio.hebergements``: the logged-in owner's cottages (public ones of an
  active proprio), token = pk, title "pk - name";
* ``proprio.calendarconfig``: the three calendar uses an owner may choose.
"""

from zope.interface import provider
from zope.schema.interfaces import IVocabularyFactory
from zope.schema.vocabulary import SimpleTerm, SimpleVocabulary

from gites.calendar import _
from gites.calendar.models import ACTIF, NON_ACTIF, SEARCH_ACTIF

# (value stored in heb_calendrier_proprio, form token, title)
CALENDAR_CONFIG_CHOICES = (
    (
        ACTIF,
        "actif",
        _(
            "calendarconfig_actif",
            default="Calendrier visible par tous (recherches et page d'hebergement)",
        ),
    ),
    (
        SEARCH_ACTIF,
        "searchactif",
        _("calendarconfig_searchactif", default="Calendrier visible pour recherches uniquement"),
    ),
    # A token may not hold a space (it becomes an HTML id): "non-actif".
    (NON_ACTIF, "non-actif", _("calendarconfig_non_actif", default="Calendrier non activé")),
)


@provider(IVocabularyFactory)
def calendar_config_vocabulary(context=None):
    return SimpleVocabulary(
        [
            SimpleTerm(value, token=token, title=title)
            for value, token, title in CALENDAR_CONFIG_CHOICES
        ]
    )


@provider(IVocabularyFactory)
def hebergements_vocabulary(context=None):
    from gites.calendar.browser.owner import cottage_title
    from gites.calendar.db import get_session
    from gites.calendar.owners import current_pro_pk, owner_cottages

    cottages = owner_cottages(get_session(), current_pro_pk())
    return SimpleVocabulary(
        [
            SimpleTerm(heb.heb_pk, token=str(heb.heb_pk), title=cottage_title(heb))
            for heb in cottages
        ]
    )
