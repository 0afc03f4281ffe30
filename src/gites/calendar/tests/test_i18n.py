"""The translations: French reference texts, Dutch through zope.i18n, no drift.

The catalogues are built by ``tools/i18n.py`` (see docs/i18n.rst); the
compiled ``.mo`` files must exist before Zope loads the ZCML (``make i18n``,
or ``zope_i18n_compile_mo_files=true``).
"""

import importlib.util
import pathlib
import re
import unittest

from zope.component import queryUtility
from zope.i18n import translate
from zope.i18n.interfaces import ITranslationDomain

from gites.calendar import _
from gites.calendar.testing.plone import GITES_CALENDAR_INTEGRATION_TESTING

TOP = pathlib.Path(__file__).resolve().parents[4]
SCRIPT = TOP / "tools" / "i18n.py"
DOMAIN = "gites.calendar"

# Texts the owner pages show word for word (docs/owner-pages.rst).
SPEC_TEXTS = {
    "portlet_calendar_blocked": (
        "Votre calendrier est bloqué. Veuillez contacter les Gîtes de Wallonie."
    ),
    "calendarconfig_actif": "Calendrier visible par tous (recherches et page d'hebergement)",
    "calendarconfig_searchactif": "Calendrier visible pour recherches uniquement",
    "calendarconfig_non_actif": "Calendrier non activé",
    "reactivation_done": "Votre calendrier a bien été réactivé !",
    "configuration_field_title": "Utilisation du calendrier",
}
PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def load_tool():
    """tools/i18n.py, the project's own extractor (imported by path)."""
    if not SCRIPT.exists():
        raise AssertionError(f"{SCRIPT} is missing: the tests run from the repository")
    spec = importlib.util.spec_from_file_location("gites_calendar_i18n_tool", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestCatalogues(unittest.TestCase):
    """The .po files themselves (no Zope needed)."""

    def setUp(self):
        self.tool = load_tool()
        self.catalogues = {
            language: self.tool.read_catalog(self.tool.po_path(language))
            for language in self.tool.LANGUAGES
        }

    def test_languages(self):
        self.assertEqual(set(self.catalogues), {"fr", "nl", "de", "en"})
        self.assertTrue(self.tool.pot_path().exists())

    def test_french_has_the_spec_texts(self):
        french = self.catalogues["fr"]
        for msgid, text in SPEC_TEXTS.items():
            self.assertEqual(french[msgid].msgstr, text, msgid)

    def test_every_used_msgid_is_in_every_catalogue(self):
        # Templates and Python are read again here, so a msgid added without
        # running tools/i18n.py fails this test: the catalogues cannot drift.
        self.assertEqual(self.tool.problems(), [])

    def test_template_msgids_are_extracted(self):
        used = self.tool.extract()
        for msgid in ("portlet_calendar_blocked", "extern_calendar_none", "widget_state_busy"):
            self.assertIn(msgid, used)

    def test_placeholders_are_kept(self):
        for language, entries in self.catalogues.items():
            for msgid, entry in entries.items():
                expected = sorted(PLACEHOLDER.findall(entry.default or msgid))
                self.assertEqual(
                    sorted(PLACEHOLDER.findall(entry.msgstr)), expected, f"{language}: {msgid}"
                )

    def test_translations_differ_from_french(self):
        # A copied French text is not a translation (short words such as
        # "Configuration" or "Calendrier"/"Kalender" may coincide; prose may not).
        french = self.catalogues["fr"]
        for language in ("nl", "de", "en"):
            for msgid, entry in self.catalogues[language].items():
                if len(french[msgid].msgstr) > 20:
                    self.assertNotEqual(entry.msgstr, french[msgid].msgstr, f"{language}: {msgid}")

    def test_po_files_compile(self):
        from pythongettext.msgfmt import Msgfmt

        for language in self.catalogues:
            with self.tool.po_path(language).open("rb") as po:
                self.assertTrue(Msgfmt(po, name=DOMAIN).get())


class TestTranslation(unittest.TestCase):
    """Through zope.i18n, as the site translates (the ZCML registration)."""

    layer = GITES_CALENDAR_INTEGRATION_TESTING

    def translate(self, msgid, language, **kw):
        return translate(msgid, domain=DOMAIN, target_language=language, **kw)

    def test_domain_registered(self):
        domain = queryUtility(ITranslationDomain, name=DOMAIN)
        self.assertIsNotNone(domain)
        languages = set(domain._catalogs)
        self.assertTrue(
            {"fr", "nl", "de", "en"} <= languages,
            f"catalogues loaded: {sorted(languages)}; compile them (bin/python tools/i18n.py"
            " compile) or set zope_i18n_compile_mo_files=true before Zope starts",
        )

    def test_french(self):
        for msgid, text in SPEC_TEXTS.items():
            self.assertEqual(self.translate(msgid, "fr"), text)

    def test_dutch(self):
        self.assertEqual(
            self.translate("reactivation_done", "nl"), "Uw kalender is opnieuw geactiveerd!"
        )
        self.assertEqual(
            self.translate("portlet_calendar_blocked", "nl"),
            "Uw kalender is geblokkeerd. Neem contact op met de Gîtes de Wallonie.",
        )
        self.assertEqual(
            translate(_("widget_state_busy", default="Occupé"), target_language="nl"), "Bezet"
        )

    def test_german_and_english(self):
        self.assertEqual(
            self.translate("calendarconfig_non_actif", "de"), "Kalender nicht aktiviert"
        )
        self.assertEqual(self.translate("calendarconfig_non_actif", "en"), "Calendar not activated")

    def test_mapping(self):
        message = _(
            "extern_calendar_title",
            default="Disponibilités : ${name}",
            mapping={"name": "Le Moulin"},
        )
        self.assertEqual(translate(message, target_language="nl"), "Beschikbaarheid: Le Moulin")
        self.assertEqual(translate(message, target_language="fr"), "Disponibilités : Le Moulin")
