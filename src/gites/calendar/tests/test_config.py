"""Settings from the environment: defaults, legacy variables, clear errors."""

import unittest

from gites.calendar.settings import SettingsError, load_settings, mask_text, mask_url

DB = {"GITES_DB_URL": "sqlite:///var/gites.db"}


class TestSettings(unittest.TestCase):
    def test_defaults(self):
        settings = load_settings(dict(DB))
        self.assertEqual(settings.db_url, "sqlite:///var/gites.db")
        self.assertIsNone(settings.amqp_url)
        self.assertEqual(settings.smtp_port, 25)
        self.assertEqual(settings.mail_from, "info@gitesdewallonie.be")
        self.assertEqual(settings.outbound_format, "pickle")

    def test_missing_db_url_names_the_variable(self):
        with self.assertRaises(SettingsError) as caught:
            load_settings({})
        self.assertIn("GITES_DB_URL is not set", str(caught.exception))
        self.assertEqual(len(str(caught.exception).splitlines()), 1)

    def test_unsupported_database(self):
        with self.assertRaisesRegex(SettingsError, "GITES_DB_URL must be a postgresql"):
            load_settings({"GITES_DB_URL": "mysql://u@h/db"})

    def test_malformed_database_url(self):
        with self.assertRaisesRegex(SettingsError, "GITES_DB_URL is not a database URL"):
            load_settings({"GITES_DB_URL": "not a url"})

    def test_malformed_port(self):
        with self.assertRaisesRegex(SettingsError, "GITES_SMTP_PORT='abc' is not a whole number"):
            load_settings({**DB, "GITES_SMTP_PORT": "abc"})
        with self.assertRaisesRegex(SettingsError, "GITES_SMTP_PORT=70000 is out of range"):
            load_settings({**DB, "GITES_SMTP_PORT": "70000"})

    def test_malformed_site_url_and_mail(self):
        with self.assertRaisesRegex(SettingsError, "GITES_SITE_URL"):
            load_settings({**DB, "GITES_SITE_URL": "ftp://x"})
        with self.assertRaisesRegex(SettingsError, "GITES_MAIL_FROM"):
            load_settings({**DB, "GITES_MAIL_FROM": "nobody"})

    def test_amqp_url_wins(self):
        settings = load_settings(
            {
                **DB,
                "AMQP_BROKER_URL": "amqp://u:p@rabbit/%2Fwalhebcalendar",
                "AMQP_BROKER_HOST": "x",
            }
        )
        self.assertEqual(settings.amqp_url, "amqp://u:p@rabbit/%2Fwalhebcalendar")

    def test_legacy_broker_host(self):
        settings = load_settings(
            {**DB, "AMQP_BROKER_HOST": "localhost", "AMQP_USER": "gdw", "AMQP_PASSWORD": "s3:c/r"}
        )
        self.assertEqual(settings.amqp_url, "amqp://gdw:s3%3Ac%2Fr@localhost/%2Fwalhebcalendar")

    def test_bad_broker_host(self):
        with self.assertRaisesRegex(SettingsError, "AMQP_BROKER_HOST"):
            load_settings({**DB, "AMQP_BROKER_HOST": "bad host!"})

    def test_outbound_format(self):
        self.assertEqual(load_settings({**DB, "GITES_HUB_FORMAT": "json"}).outbound_format, "json")
        with self.assertRaisesRegex(SettingsError, "GITES_HUB_FORMAT"):
            load_settings({**DB, "GITES_HUB_FORMAT": "xml"})


class TestMasking(unittest.TestCase):
    def test_mask_url(self):
        self.assertEqual(
            mask_url("amqp://gdw:secret@rabbit:5672/vh"), "amqp://gdw:***@rabbit:5672/vh"
        )
        self.assertEqual(mask_url("amqp://rabbit/vh"), "amqp://rabbit/vh")
        self.assertEqual(mask_url("postgresql://u:p%40ss@db/x"), "postgresql://u:***@db/x")

    def test_mask_text(self):
        self.assertEqual(
            mask_text("login gdw secret failed", ["secret", ""]), "login gdw *** failed"
        )


class TestHubLimitsAndMetricsSettings(unittest.TestCase):
    def test_defaults(self):
        settings = load_settings(dict(DB))
        self.assertEqual((settings.hub_max_bytes, settings.hub_max_pickle_ops), (65536, 5000))
        self.assertEqual((settings.metrics_port, settings.metrics_host), (None, "127.0.0.1"))

    def test_set_and_checked(self):
        env = dict(
            DB,
            GITES_HUB_MAX_BYTES="2048",
            GITES_HUB_MAX_PICKLE_OPS="100",
            GITES_METRICS_PORT="9108",
            GITES_METRICS_HOST="0.0.0.0",  # noqa: S104 - a value under test
        )
        settings = load_settings(env)
        self.assertEqual((settings.hub_max_bytes, settings.hub_max_pickle_ops), (2048, 100))
        self.assertEqual((settings.metrics_port, settings.metrics_host), (9108, "0.0.0.0"))  # noqa: S104
        for name, value in (("GITES_HUB_MAX_BYTES", "10"), ("GITES_METRICS_PORT", "x")):
            with self.subTest(name), self.assertRaisesRegex(SettingsError, name):
                load_settings(dict(DB, **{name: value}))
