"""Shared helpers of the owner views (zone-membre/calendrier, docs/owner-pages.rst).

The owner of a cottage is a proprio, not a Zope role: the views are
protected by ``zope2.View`` and check ownership here, in code.
"""

import json

from plone import api
from plone.protect.authenticator import check as check_authenticator
from plone.protect.authenticator import createToken
from sqlalchemy import bindparam, select
from zExceptions import Unauthorized
from zope.i18n import translate

from gites.calendar import _, clock
from gites.calendar.db import get_session
from gites.calendar.models import Hebergement, Proprio
from gites.calendar.owners import current_pro_pk, owned_cottage, owner_cottages

# heb_pk and pro_pk are PostgreSQL INTEGER columns.
MAX_PK = 2**31 - 1
# The public iframe views (docs/public-calendars.rst), on the site root.
EXTERN_CALENDAR = "extern-calendar"
EXTERN_MONTHLY_CALENDAR = "extern-monthly-calendar"


def parse_pk(value):
    """A positive database key from a request parameter, or None."""
    if isinstance(value, (list, tuple)):  # ?pk=1&pk=2
        return None
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    pk = int(text)
    return pk if 0 < pk <= MAX_PK else None


def require_member():
    """The logged-in member's pro_pk (maybe None); anonymous: Unauthorized.

    For pages: Plone answers Unauthorized with the login form.
    """
    if api.user.is_anonymous():
        raise Unauthorized("Log in to manage your calendar")
    return current_pro_pk()


def owner_cottage(heb_pk, public_only=True):
    """(session, cottage) when heb_pk is one of the logged-in owner's, else (session, None)."""
    session = get_session()
    pro_pk = current_pro_pk()
    return session, owned_cottage(session, pro_pk, heb_pk, public_only=public_only)


# The cottage an owner writes to, by primary keys: the conditions of
# owners.owned_cottage (active proprio, public cottage) in one indexed lookup,
# as a row of the two columns a write needs, not every cottage of the owner
# loaded as ORM objects.
OWNED_COTTAGE_FOR_WRITE = (
    select(Hebergement.heb_pk, Hebergement.heb_code_cgt)
    .join(Proprio, Hebergement.heb_pro_fk == Proprio.pro_pk)
    .where(
        Hebergement.heb_pk == bindparam("heb_pk"),
        Proprio.pro_pk == bindparam("pro_pk"),
        Proprio.pro_etat.is_(True),
        Hebergement.heb_site_public == "1",
    )
)


def owned_cottage_for_write(pro_pk, heb_pk):
    """(session, row) when heb_pk is one of owner ``pro_pk``'s public cottages,
    else (session, None).

    The row has the attributes ``heb_pk`` and ``heb_code_cgt``: what
    :func:`gites.calendar.reservations.apply_owner_change` reads.
    """
    session = get_session()
    if pro_pk is None or heb_pk is None:
        return session, None
    row = session.execute(OWNED_COTTAGE_FOR_WRITE, {"heb_pk": heb_pk, "pro_pk": pro_pk}).first()
    return session, row


# The refusals of the owners' JSON views (owners read them in the widget).
LOGIN_REQUIRED = _("owner_login_required", default="Connectez-vous comme propriétaire.")
BAD_PK = _("owner_bad_pk", default="hebPk doit être le numéro d'un hébergement.")
NOT_YOURS = _("owner_not_yours", default="Cet hébergement n'est pas un des vôtres.")


class NotYours(Exception):
    """The request may not read this cottage: (status, message) for json_error."""


def requested_cottage(request):
    """The owner's cottage named by ``hebPk``, for the owner's JSON views.

    Returns (session, heb) or raises NotYours with the HTTP status and message.
    """
    if current_pro_pk() is None:
        raise NotYours(403, LOGIN_REQUIRED)
    heb_pk = parse_pk(request.form.get("hebPk"))
    if heb_pk is None:
        raise NotYours(400, BAD_PK)
    session, heb = owner_cottage(heb_pk)
    if heb is None:
        raise NotYours(403, NOT_YOURS)
    return session, heb


def cottages_of_current_owner(public_only=True):
    return owner_cottages(get_session(), current_pro_pk(), public_only=public_only)


def no_store(request):
    """Never cache: the page or data is personal and changes at every save."""
    response = request.response
    response.setHeader("Cache-Control", "no-store, private")
    response.setHeader("Pragma", "no-cache")
    response.setHeader("Expires", "0")


def refuse_unless_posted(request):
    """The owner's forms that change something (``ical-renew``,
    ``ical-feeds``): no caching; anything but a POST answered 405 (the body is
    returned, to be the view's answer); then a logged-in member and a valid
    CSRF token (Forbidden otherwise: the write goes to SQL, which
    plone.protect's automatic check does not see).  None when all is well."""
    response = request.response
    no_store(request)
    if request.get("REQUEST_METHOD", "GET").upper() != "POST":
        response.setStatus(405)
        response.setHeader("Allow", "POST")
        response.setHeader("Content-Type", "text/plain; charset=utf-8")
        return "Method Not Allowed: use the form of the calendar page\n"
    require_member()
    check_authenticator(request)
    return None


def json_response(request, data, status=200):
    """``data`` as a JSON body with ``status``, never cached."""
    response = request.response
    response.setStatus(status)
    response.setHeader("Content-Type", "application/json; charset=utf-8")
    response.setHeader("X-Content-Type-Options", "nosniff")
    no_store(request)
    return json.dumps(data, ensure_ascii=False)


def json_error(request, status, message):
    """An error answer of the owner endpoints: ``{"error": message}``, the
    message translated into the request's language."""
    return json_response(request, {"error": translate(message, context=request)}, status=status)


def cottage_title(heb):
    """``N - name``: how a cottage is named on the owner pages."""
    return f"{heb.heb_pk} - {heb.heb_nom}" if heb.heb_nom else str(heb.heb_pk)


def format_day(day):
    """dd/mm/yyyy, or an empty string for no date."""
    return day.strftime("%d/%m/%Y") if day else ""


def authenticator_token():
    """The plone.protect token the widget posts as ``_authenticator``."""
    return createToken()


def portal_url():
    return api.portal.get().absolute_url()


def widget_attributes(calendar_url, heb, title, months, start_month, i18n, toolbar=None):
    """The data-* attributes of an editable widget container (docs/owner-pages.rst);
    ``i18n``: :func:`~gites.calendar.browser.widget_texts.widget_i18n` of the
    request, made once per page."""
    attributes = {
        "class": "gites-calendar",
        "data-days-url": f"{calendar_url}/selectedDays?hebPk={heb.heb_pk}",
        "data-save-url": f"{calendar_url}/addRange",
        "data-heb-pk": str(heb.heb_pk),
        "data-authenticator": authenticator_token(),
        "data-months": str(months),
        "data-start-month": start_month.strftime("%Y-%m"),
        "data-today": clock.today().isoformat(),
        "data-title": title,
        "data-i18n": i18n,
    }
    if toolbar:
        attributes["data-toolbar"] = toolbar
    return attributes
