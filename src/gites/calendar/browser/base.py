"""Shared helpers of the owner views (zone-membre/calendrier, docs/owner-pages.rst).

The owner of a cottage is a proprio, not a Zope role: the views are
protected by ``zope2.View`` and check ownership here, in code.
"""

import json

from five import grok
from plone import api
from plone.protect.authenticator import check as check_authenticator
from plone.protect.authenticator import createToken
from sqlalchemy import bindparam, select
import transaction
from zExceptions import Forbidden, Unauthorized
from zope.i18n import translate

from gites.calendar import _, clock
from gites.calendar.browser.params import parse_pk
from gites.calendar.db.models import Hebergement, Proprio
from gites.calendar.db.session import get_session
from gites.calendar.domain.owners import current_pro_pk, owned_cottage, owner_cottages

# The public iframe views (docs/public-calendars.rst), on the site root.
EXTERN_CALENDAR = "extern-calendar"
EXTERN_MONTHLY_CALENDAR = "extern-monthly-calendar"


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


def owned_cottage_for_write(session, pro_pk, heb_pk):
    """The row of cottage heb_pk when it is one of owner ``pro_pk``'s public
    cottages, else None.

    The row has the attributes ``heb_pk`` and ``heb_code_cgt``: what
    :func:`gites.calendar.domain.reservations.apply_owner_change` reads.
    """
    if pro_pk is None or heb_pk is None:
        return None
    return session.execute(OWNED_COTTAGE_FOR_WRITE, {"heb_pk": heb_pk, "pro_pk": pro_pk}).first()


# The refusals of the owners' JSON views (owners read them in the widget).
LOGIN_REQUIRED = _("owner_login_required", default="Connectez-vous comme propriétaire.")
BAD_PK = _("owner_bad_pk", default="hebPk doit être le numéro d'un hébergement.")
NOT_YOURS = _("owner_not_yours", default="Cet hébergement n'est pas un des vôtres.")


def cottages_of_current_owner(public_only=True):
    return owner_cottages(get_session(), current_pro_pk(), public_only=public_only)


# Never cache: the page or data is personal and changes at every save.
NO_STORE = (("Cache-Control", "no-store, private"), ("Pragma", "no-cache"), ("Expires", "0"))


def no_store(request):
    """Never cache: the page or data is personal and changes at every save."""
    for name, value in NO_STORE:
        request.response.setHeader(name, value)


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


def json_body(response, data, status, cache_headers, encode):
    """``data`` as the JSON body of ``response``, with ``status`` and the
    ``(name, value)`` cache headers, written by ``encode`` (an encoder's
    ``encode``, built once: json.dumps with any option builds an encoder
    per call)."""
    response.setStatus(status)
    response.setHeader("Content-Type", "application/json; charset=utf-8")
    response.setHeader("X-Content-Type-Options", "nosniff")
    for name, value in cache_headers:
        response.setHeader(name, value)
    return encode(data)


# The owners' answers: their words as they are (json.dumps' ensure_ascii=False).
_OWNER_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def json_response(request, data, status=200):
    """``data`` as a JSON body with ``status``, never cached."""
    return json_body(request.response, data, status, NO_STORE, _OWNER_ENCODE)


def json_error(request, status, message):
    """An error answer of the owner endpoints: ``{"error": message}``, the
    message translated into the request's language."""
    return json_response(request, {"error": translate(message, context=request)}, status=status)


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
    ``i18n``: :func:`~gites.calendar.browser.owner.widget_texts.widget_i18n` of the
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


class Refusal(Exception):
    """An error answer of an :class:`OwnerJsonView`: ``{"error": message}``
    with ``status`` (and ``headers``, ``(name, value)`` pairs, set first)."""

    def __init__(self, status, message, headers=()):
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.headers = headers


class OwnerJsonView(grok.View):
    """The owners' JSON endpoints on the calendar folder (restapi's
    ``Service`` pattern): :meth:`render` checks the request and answers,
    each view only implements :meth:`reply`.

    Before :meth:`reply`, in this order: the HTTP method (when ``method`` is
    set; 405 with ``Allow``), a logged-in owner (403 ``login_required``),
    plone.protect's CSRF token when the view ``writes`` (403
    ``csrf_refused``: the write goes to SQL, which plone.protect's automatic
    check does not see), ``hebPk`` a key (400 :data:`BAD_PK`) and one of the
    owner's cottages (403 :data:`NOT_YOURS`).  :meth:`reply` then finds
    ``self.session``, ``self.pro_pk``, ``self.heb_pk`` and ``self.heb`` and
    returns the data of the 200 answer, or raises :class:`Refusal`.  Every
    answer is JSON, never cached (:func:`json_response`); a refusal of a view
    that ``writes`` dooms the Zope transaction, so nothing of it is written.
    """

    grok.baseclass()

    method = None  # the one HTTP method accepted; None: any
    method_refused = None  # the message of the 405
    writes = False
    login_required = LOGIN_REQUIRED
    csrf_refused = None  # the message of a bad CSRF token (views that write)

    def reply(self):
        """The data of the answer (JSON-serialisable); or raise Refusal."""
        raise NotImplementedError

    def find_cottage(self, session, pro_pk, heb_pk):
        """The cottage ``heb_pk`` if it is one of owner ``pro_pk``'s public
        cottages, else None (a view that writes may want a lighter row)."""
        return owned_cottage(session, pro_pk, heb_pk)

    def check_request(self):
        request = self.request
        if self.method is not None and request.get("REQUEST_METHOD", "GET").upper() != self.method:
            raise Refusal(405, self.method_refused, headers=(("Allow", self.method),))
        self.pro_pk = current_pro_pk()
        if self.pro_pk is None:
            raise Refusal(403, self.login_required)
        if self.writes:
            try:
                check_authenticator(request)
            except Forbidden:
                raise Refusal(403, self.csrf_refused) from None
        self.heb_pk = parse_pk(request.form.get("hebPk"))
        if self.heb_pk is None:
            raise Refusal(400, BAD_PK)
        self.session = get_session()
        self.heb = self.find_cottage(self.session, self.pro_pk, self.heb_pk)
        if self.heb is None:
            raise Refusal(403, NOT_YOURS)

    def render(self):
        try:
            self.check_request()
            data = self.reply()
        except Refusal as refusal:
            return self.refuse(refusal)
        return json_response(self.request, data)

    def refuse(self, refusal):
        if self.writes:
            transaction.doom()
        for name, value in refusal.headers:
            self.request.response.setHeader(name, value)
        return json_error(self.request, refusal.status, refusal.message)


class OwnerFormView(grok.View):
    """The owner's forms that change a cottage and go back to its page
    (``ical-renew``, ``ical-feeds``): :func:`refuse_unless_posted`, then the
    posted cottage, one of the owner's public cottages (Forbidden otherwise,
    the same for "not yours" and "does not exist"); :meth:`posted` does the
    work and returns the address the answer redirects to."""

    grok.baseclass()

    def posted_pk(self, form):
        """The posted cottage key, as the form holds it."""
        return form.get("hebPk")

    def posted(self, session, heb, form):
        """Change ``heb``; the URL to redirect to (or raise Forbidden)."""
        raise NotImplementedError

    def render(self):
        request = self.request
        refused = refuse_unless_posted(request)
        if refused is not None:
            return refused
        form = request.form
        pk = parse_pk(self.posted_pk(form))
        session, heb = owner_cottage(pk) if pk is not None else (None, None)
        if heb is None:
            raise Forbidden("Not one of your cottages")
        request.response.redirect(self.posted(session, heb, form))
        return ""
