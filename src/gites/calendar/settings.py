"""Settings, read from the environment only.

Zope start-up, the daemon, the cron scripts and the tests all call
:func:`load_settings`.  A missing or malformed value raises
:class:`SettingsError`, whose message is one line naming the variable; the
entry points print that line and stop.  Nothing here holds a credential.
"""

import dataclasses
import os
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

DEFAULT_AMQP_VHOST = "/walhebcalendar"
OUTBOUND_FORMATS = ("pickle", "json")


class SettingsError(Exception):
    """A setting is missing or malformed (message: one line naming it)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    db_url: str
    amqp_url: str | None
    smtp_host: str
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    site_url: str
    mail_from: str
    outbound_format: str
    heartbeat: int
    # change-log retention (gites.calendar.domain.history), in days
    history_keep_days: int = 730
    # Bounds on one hub message (docs/messaging.rst, "Limits").
    hub_max_bytes: int = 64 * 1024
    hub_max_pickle_ops: int = 5000
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"


def mask_url(url):
    """The URL with its password replaced by ``***`` (for every log line)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))


def mask_text(text, secrets):
    """Replace every occurrence of each non-empty secret by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _get(env, name, default=None):
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _int(env, name, default, minimum=0, maximum=65535):
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name}={value} is out of range {minimum}..{maximum}")
    return value


def _bool(env, name, default):
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a yes/no value (use true or false)")


def parse_db_url(url, name="GITES_DB_URL"):
    """Check a database URL; only PostgreSQL and SQLite are supported."""
    if url is None:
        raise SettingsError(
            f"{name} is not set (e.g. postgresql://user@host/gites_wallons or sqlite:///var/gites.db)"
        )
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(f"{name} is not a database URL: {mask_url(url)!r}") from None
    if parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise SettingsError(
            f"{name} must be a postgresql:// or sqlite:// URL, not {parsed.drivername}://"
        )
    return url


def amqp_url_from_env(env):
    """The broker URL: ``AMQP_BROKER_URL``, else the legacy ``AMQP_BROKER_HOST``
    (with ``AMQP_USER``/``AMQP_PASSWORD``/``AMQP_VHOST``), else None."""
    url = _get(env, "AMQP_BROKER_URL")
    if url is not None:
        if not re.match(r"^[a-z][a-z0-9+.-]*://", url):
            raise SettingsError(f"AMQP_BROKER_URL is not a URL: {mask_url(url)!r}")
        return url
    host = _get(env, "AMQP_BROKER_HOST")
    if host is None:
        return None
    if not re.match(r"^[A-Za-z0-9.\-\[\]:]+$", host):
        raise SettingsError(f"AMQP_BROKER_HOST={host!r} is not a host name")
    user = _get(env, "AMQP_USER")
    password = _get(env, "AMQP_PASSWORD")
    vhost = _get(env, "AMQP_VHOST", DEFAULT_AMQP_VHOST)
    userinfo = ""
    if user:
        userinfo = quote(user, safe="")
        if password:
            userinfo += ":" + quote(password, safe="")
        userinfo += "@"
    return f"amqp://{userinfo}{host}/{quote(vhost, safe='')}"


def load_settings(env=None, require_db=True):
    """Read and check every setting; raise SettingsError on the first bad one."""
    env = os.environ if env is None else env
    db_url = _get(env, "GITES_DB_URL")
    if require_db or db_url is not None:
        db_url = parse_db_url(db_url)
    site_url = _get(env, "GITES_SITE_URL", "http://localhost:8080/Plone")
    if not re.match(r"^https?://[^\s/]+", site_url):
        raise SettingsError(f"GITES_SITE_URL={site_url!r} is not an http(s) URL")
    mail_from = _get(env, "GITES_MAIL_FROM", "info@gitesdewallonie.be")
    if not re.match(r"^[^@\s]+@[^@\s]+$", mail_from):
        raise SettingsError(f"GITES_MAIL_FROM={mail_from!r} is not an e-mail address")
    outbound_format = _get(env, "GITES_HUB_FORMAT", "pickle")
    if outbound_format not in OUTBOUND_FORMATS:
        raise SettingsError(f"GITES_HUB_FORMAT={outbound_format!r} must be pickle or json")
    return Settings(
        db_url=db_url,
        amqp_url=amqp_url_from_env(env),
        smtp_host=_get(env, "GITES_SMTP_HOST", "localhost"),
        smtp_port=_int(env, "GITES_SMTP_PORT", 25, minimum=1),
        smtp_user=_get(env, "GITES_SMTP_USER"),
        smtp_password=_get(env, "GITES_SMTP_PASSWORD"),
        smtp_starttls=_bool(env, "GITES_SMTP_STARTTLS", False),
        site_url=site_url.rstrip("/"),
        mail_from=mail_from,
        outbound_format=outbound_format,
        heartbeat=_int(env, "AMQP_HEARTBEAT", 30, minimum=0, maximum=3600),
        history_keep_days=_int(env, "GITES_HISTORY_KEEP_DAYS", 730, minimum=1, maximum=36500),
        hub_max_bytes=_int(
            env, "GITES_HUB_MAX_BYTES", 64 * 1024, minimum=1024, maximum=16 * 1024 * 1024
        ),
        hub_max_pickle_ops=_int(
            env, "GITES_HUB_MAX_PICKLE_OPS", 5000, minimum=50, maximum=1_000_000
        ),
        metrics_port=_int(env, "GITES_METRICS_PORT", None, minimum=1),
        metrics_host=_get(env, "GITES_METRICS_HOST", "127.0.0.1"),
    )


def url_secrets(*urls):
    """The passwords found in URLs, as written and URL-decoded."""
    found = []
    for url in urls:
        if not url:
            continue
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password:
            found.extend({password, unquote(password)})
    return tuple(found)
