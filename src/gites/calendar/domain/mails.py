"""The e-mails of checkCalendarActivity: composition (French) and sending.

Messages are :class:`email.message.EmailMessage` objects with the default
(RFC 6532-aware) policy, so a subject such as "Désactivation de votre
calendrier" is RFC 2047-encoded and the body is UTF-8, whatever the mail
server.  Sending goes through :mod:`smtplib` with the settings of
:func:`gites.calendar.settings.load_settings` (STARTTLS and login only when
configured).
"""

import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
import re
import smtplib
import ssl
from urllib.parse import urlencode

REMINDER_SUBJECT = "Votre calendrier sur le site des Gîtes de Wallonie"
BLOCKING_SUBJECT = "Désactivation de votre calendrier"
SENDER_NAME = "Gîtes de Wallonie"
SMTP_TIMEOUT = 30  # seconds: a hung server must not hang the daily cron job

REMINDER_BODY = """\
Bonjour {name},

Le calendrier de disponibilités de vos hébergements sur le site des Gîtes
de Wallonie n'a plus été mis à jour depuis le {last_update} ({age} jours).

Un calendrier à jour est précieux pour les visiteurs qui cherchent un gîte
libre. Merci de le mettre à jour dans votre espace membre :
{calendar_url}

Si vos disponibilités n'ont pas changé, il vous suffit de cliquer sur ce
lien pour confirmer que votre calendrier est à jour :
{link}

Sans mise à jour, votre calendrier sera désactivé à partir du {block_day}.

Cordialement,
Les Gîtes de Wallonie
"""

BLOCKING_BODY = """\
Bonjour {name},

Le calendrier de disponibilités de vos hébergements sur le site des Gîtes
de Wallonie n'a plus été mis à jour depuis le {last_update} ({age} jours).
Il a donc été désactivé et n'est plus visible sur le site.

Pour le réactiver, cliquez sur ce lien puis mettez vos disponibilités à
jour dans votre espace membre :
{link}

Cordialement,
Les Gîtes de Wallonie
"""


# What may not appear in one bare address: separators of address lists,
# quoting, whitespace (tested apart: any non-printable character).
_NOT_IN_ADDRESS = frozenset(" ,;<>\"'()[]\\:")
_NAMED_ADDRESS = re.compile(r"^[^<>@,;]*<([^<>]*)>$")


def single_address(raw):
    """The one e-mail address ``raw`` holds, or None.

    ``pro_email`` is free text in the legacy table.  The reactivation key
    must reach the proprio alone, so exactly one address is accepted, bare
    (``a@x.be``) or with a name (``Marie <a@x.be>``); a list (``a@x.be,
    b@y.be``, ``;``, spaces), a line break, anything unparsable gives None
    and the proprio is skipped as one without e-mail.  No parsing of
    address lists (:func:`email.utils.getaddresses` has had ambiguities):
    a plain character check.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or not text.isprintable():
        return None
    named = _NAMED_ADDRESS.match(text)
    if named:
        text = named.group(1).strip()
    if any(char in _NOT_IN_ADDRESS for char in text) or text.count("@") != 1:
        return None
    local, _, domain = text.partition("@")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not all(labels):
        return None
    return text


class MailError(Exception):
    """A mail could not be handed to the SMTP server (message: one line)."""


def reactivation_link(site_url, key):
    """``<site>/reactivation-calendrier?key=K`` (the key URL-encoded)."""
    return f"{site_url.rstrip('/')}/reactivation-calendrier?{urlencode({'key': key})}"


def _french_date(day):
    return day.strftime("%d/%m/%Y")


def _message(subject, body, to_addr, mail_from):
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = Address(display_name=SENDER_NAME, addr_spec=mail_from)
    message["To"] = to_addr
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=mail_from.rsplit("@", 1)[-1])
    # Tells vacation responders not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable: 7-bit safe, so no relay without 8BITMIME can mangle it.
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message


def reminder_mail(*, to_addr, name, last_update, today, block_after, site_url, key, mail_from):
    """The reminder sent when the calendar is between 30 and 39 days old."""
    body = REMINDER_BODY.format(
        name=name or "Madame, Monsieur",
        last_update=_french_date(last_update),
        age=(today - last_update).days,
        calendar_url=f"{site_url.rstrip('/')}/zone-membre/calendrier",
        link=reactivation_link(site_url, key),
        block_day=_french_date(last_update + datetime.timedelta(days=block_after)),
    )
    return _message(REMINDER_SUBJECT, body, to_addr, mail_from)


def blocking_mail(*, to_addr, name, last_update, today, site_url, key, mail_from):
    """The mail telling the owner the calendar is blocked, with the way back."""
    body = BLOCKING_BODY.format(
        name=name or "Madame, Monsieur",
        last_update=_french_date(last_update),
        age=(today - last_update).days,
        link=reactivation_link(site_url, key),
    )
    return _message(BLOCKING_SUBJECT, body, to_addr, mail_from)


def send_mail(settings, message, timeout=SMTP_TIMEOUT):
    """Hand ``message`` to the SMTP server of ``settings``; MailError if refused.

    One connection per mail: the script sends a handful a day, and a
    connection dropped by the server then costs one mail, not the rest.
    """
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        details = "; ".join(
            f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in error.recipients.items()
        )
        raise MailError(f"recipient refused ({details})") from None
    except smtplib.SMTPResponseException as error:
        raise MailError(
            f"SMTP server answered {error.smtp_code} {_text(error.smtp_error)}"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise MailError(f"SMTP server {where}: {error or type(error).__name__}") from None
    except (ValueError, UnicodeError) as error:
        # An address smtplib cannot put in an envelope (legacy data).
        raise MailError(f"cannot send to {message['To']!r}: {error}") from None


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())
