"""Vocabularies proprio.hebergements and proprio.calendarconfig (docs/owner-pages.rst)."""

from plone.app.testing import login, logout
from zope.component import getUtility
from zope.schema.interfaces import IVocabularyFactory

from gites.calendar.testing import integration_layers
from gites.calendar.testing.db import on_both_databases
from gites.calendar.testing.fixtures import NOPK, OTHER, OWNER, OwnerIntegrationTestCase


@on_both_databases(integration_layers())
class TestVocabularies(OwnerIntegrationTestCase):
    def vocabulary(self, name):
        return getUtility(IVocabularyFactory, name=name)(self.portal)

    def test_hebergements_of_the_owner(self):
        login(self.portal, OWNER)
        vocabulary = self.vocabulary("proprio.hebergements")
        self.assertEqual(
            [(t.value, t.token, t.title) for t in vocabulary],
            [(101, "101", "101 - Gîte du Moulin"), (102, "102", "102 - La Ferme")],
        )
        login(self.portal, OTHER)
        self.assertEqual([t.token for t in self.vocabulary("proprio.hebergements")], ["201"])
        login(self.portal, NOPK)
        self.assertEqual(len(self.vocabulary("proprio.hebergements")), 0)
        logout()
        self.assertEqual(len(self.vocabulary("proprio.hebergements")), 0)

    def test_calendarconfig(self):
        vocabulary = self.vocabulary("proprio.calendarconfig")
        self.assertEqual(
            [(t.value, t.token, t.title.default) for t in vocabulary],
            [
                (
                    "actif",
                    "actif",
                    "Calendrier visible par tous (recherches et page d'hebergement)",
                ),
                ("searchactif", "searchactif", "Calendrier visible pour recherches uniquement"),
                ("non actif", "non-actif", "Calendrier non activé"),
            ],
        )
        self.assertEqual(vocabulary.getTermByToken("non-actif").value, "non actif")
