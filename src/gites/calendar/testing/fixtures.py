"""Fixtures shared by the test modules (test modules never import each other).

* The owner scenario of the owner-page tests: two proprios, four cottages,
  three members (:func:`seed`, :func:`create_members`), the frozen clock
  (:func:`freeze_clock`), and the two test-case bases that set them up --
  :class:`OwnerIntegrationTestCase` (views called in the test's transaction)
  and :class:`OwnerFunctionalTestCase` (data committed, pages through the
  Zope publisher).
* Small seeding and running helpers several modules repeated.
* The hub message vectors of the codec tests (``test_codec_*``).

:mod:`gites.calendar.tests.test_test_modules` checks that every test module
imports its fixtures from here (or the other ``testing*`` modules), never
from another test module.
"""

import contextlib
import datetime
import io
import json
import os
import pathlib
import pickletools
import re
import struct
from unittest import mock
from urllib.parse import urlencode

from plone import api
from plone.i18n.utility import setLanguageBinding
from plone.testing.zope import Browser
from sqlalchemy import func, select
import transaction
from zope.component import getMultiAdapter
from zope.interface import alsoProvides

import gites.calendar
from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, OutboxMessage, Reservation
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.messaging.codec import InvalidMessage, decode_hub_message
from gites.calendar.testing import (
    DatabaseTestCase,
    add_cottage,
    add_proprio,
    link_member,
    site_in_french,
    site_in_language,
)

# -- the owner scenario ------------------------------------------------------

PASSWORD = "a-long-test-password-1"  # noqa: S105 - the test members' password
FROZEN_NOW = datetime.datetime(2030, 6, 15, 10, 30)
TODAY = FROZEN_NOW.date()
OWNER, OTHER, NOPK = "owner", "other", "nopk"
OWNER_PK, OTHER_PK = 10, 20
# Owner 10: 101 public with a CGT code, 102 public without, 103 not public.
# Owner 20: 201 public with a CGT code.
CGT_HEB, PLAIN_HEB, HIDDEN_HEB, OTHER_HEB = 101, 102, 103, 201
TOKEN_RE = re.compile(r'data-authenticator="([0-9a-f]+)"')


def freeze_clock(testcase, now=FROZEN_NOW):
    """``gites.calendar.clock.now`` returns ``now`` until the test ends."""
    patcher = mock.patch("gites.calendar.clock.now", return_value=now)
    patcher.start()
    testcase.addCleanup(patcher.stop)


def create_members(portal):
    """owner (proprio 10), other (proprio 20) and a member linked to no proprio."""
    session = db.get_session()
    for username, pk in ((OWNER, OWNER_PK), (OTHER, OTHER_PK), (NOPK, None)):
        if api.user.get(username=username) is None:
            api.user.create(email=f"{username}@example.org", username=username, password=PASSWORD)
        if pk is not None:
            link_member(session, api.user.get(username=username).getId(), pk)


def seed(session):
    add_proprio(session, OWNER_PK, nom="Dupont", prenom="Marie", pro_reactivation_hash="k" * 40)
    add_proprio(session, OTHER_PK, nom="Secret", prenom="Autre")
    session.flush()
    add_cottage(
        session,
        CGT_HEB,
        OWNER_PK,
        cgt="HAFF0101",
        nom="Gîte du Moulin",
        updated=datetime.date(2030, 5, 2),
    )
    add_cottage(session, PLAIN_HEB, OWNER_PK, nom="La Ferme")
    add_cottage(session, HIDDEN_HEB, OWNER_PK, public=False, nom="Caché")
    add_cottage(session, OTHER_HEB, OTHER_PK, cgt="HAFF0201", nom="Villa Secrète")
    session.flush()


def publisher_browser(app, username=None, password=PASSWORD, language="fr"):
    """A test browser on the Zope publisher that shows error pages as they
    are (no exception), asks for ``language``, and logs in ``username`` by
    HTTP basic authentication."""
    browser = Browser(app)
    browser.handleErrors = True
    browser.raiseHttpErrors = False
    browser.addHeader("Accept-Language", language)
    if username:
        browser.addHeader("Authorization", f"Basic {username}:{password}")
    return browser


class ShortMessages:
    """assertIn/NotIn that do not print a whole Plone page on failure."""

    def assertIn(self, member, container, msg=None):
        if member not in container:
            self.fail(msg or f"{member!r} not found in the page")

    def assertNotIn(self, member, container, msg=None):
        if member in container:
            at = container.index(member)
            self.fail(msg or f"{member!r} found: ...{container[max(0, at - 80) : at + 80]!r}...")


class OwnerIntegrationTestCase(ShortMessages, DatabaseTestCase):
    """Plone + database, the owner data seeded, the clock frozen."""

    def setUp(self):
        super().setUp()
        self.portal = self.layer["portal"]
        self.request = self.layer["request"]
        alsoProvides(self.request, IGitesCalendarLayer)
        site_in_french()
        self.request.environ["HTTP_ACCEPT_LANGUAGE"] = "fr"
        setLanguageBinding(self.request)  # bound to English when the layer started
        self.calendar = self.portal["zone-membre"]["calendrier"]
        self.session = db.get_session()
        freeze_clock(self)
        create_members(self.portal)
        seed(self.session)

    def view(self, name, **form):
        self.request.form.clear()
        self.request.form.update(form)
        self.request.response.setStatus(200)
        return getMultiAdapter((self.calendar, self.request), name=name)

    def json(self, name, **form):
        body = self.view(name, **form)()
        return self.request.response.getStatus(), json.loads(body)


class OwnerFunctionalTestCase(ShortMessages, DatabaseTestCase):
    """Members and data committed, so that the publisher sees them."""

    def setUp(self):
        super().setUp()
        self.app = self.layer["app"]
        self.portal = self.layer["portal"]
        self.calendar_url = self.portal["zone-membre"]["calendrier"].absolute_url()
        freeze_clock(self)
        site_in_french()
        create_members(self.portal)
        seed(db.get_session())
        transaction.commit()

    def browser(self, username=None):
        return publisher_browser(self.app, username)

    def token(self, browser, heb_pk=CGT_HEB):
        browser.open(f"{self.calendar_url}/month.html?pk={heb_pk}")
        self.assertEqual(browser.headers["status"], "200 OK")
        return TOKEN_RE.search(browser.contents).group(1)

    def post(self, browser, data, view="addRange"):
        browser.post(f"{self.calendar_url}/{view}", urlencode(data))
        return int(browser.headers["status"].split()[0]), browser.contents

    def fresh(self):
        """A session outside the Zope transaction, on a new snapshot: committed state only."""
        session = getattr(self, "_fresh_session", None)
        if session is None:
            session = self._fresh_session = db.new_session()
            self.addCleanup(session.close)
        session.rollback()
        session.expire_all()
        return session

    def rows(self, heb_pk=None):
        query = select(
            Reservation.heb_fk, Reservation.res_date, Reservation.res_type, Reservation.pro_fk
        )
        if heb_pk is not None:
            query = query.where(Reservation.heb_fk == heb_pk)
        return [
            (heb, day.date(), kind, pro)
            for heb, day, kind, pro in self.fresh().execute(
                query.order_by(Reservation.heb_fk, Reservation.res_date)
            )
        ]

    def outbox(self):
        return list(self.fresh().scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def modified(self, heb_pk):
        return self.fresh().get(Hebergement, heb_pk).heb_calendrier_proprio_date_maj

    def assert_nothing_written(self):
        self.assertEqual(self.rows(), [])
        self.assertEqual(self.outbox(), [])
        self.assertEqual(self.modified(CGT_HEB), datetime.date(2030, 5, 2))
        self.assertEqual(self.fresh().scalar(select(func.count()).select_from(OutboxMessage)), 0)


# -- hub message vectors (the test_codec_* modules) --------------------------

PICKLE = "application/x-python-serialize"
JSON = "application/json"
VECTORS_DIR = pathlib.Path(gites.calendar.__file__).resolve().parent / "tests" / "data"

# What each Python 2 vector holds, written out here independently of make_vectors.py.
HUB_VECTORS = {
    "hub_booked_py2.pickle": {
        "booking_type": "booked",
        "cgt_id": "HAFR1234",
        "start_date": datetime.date(2024, 5, 1),
        "end_date": datetime.date(2024, 5, 3),
        "notf_id": 42,
    },
    "hub_unavailable_py2.pickle": {
        "booking_type": "unavailable",
        "cgt_id": "NAHE0007",
        "start_date": datetime.date(2024, 12, 30),
        "end_date": datetime.date(2025, 1, 2),
        "notf_id": 4242,
    },
    "hub_available_py2.pickle": {
        "booking_type": "available",
        "cgt_id": "BXLA12",
        "start_date": datetime.date(2025, 2, 27),
        "end_date": datetime.date(2025, 3, 1),
        "notf_id": 123456,
    },
    "hub_unicode_py2.pickle": {
        "booking_type": "unavailable",
        "cgt_id": "LIHE0815",
        "start_date": datetime.date(2025, 7, 14),
        "end_date": datetime.date(2025, 7, 14),
        "notf_id": 7,
    },
}

# Written by CPython 2.7.18's cPickle.dumps(d, protocol) for
# d = {'start_date': date(2024, 5, 1), 'end_date': datetime(2024, 5, 3, 15, 30),
#      'cgt_id': 'HAFR1234', 'booking_type': 'booked', 'notf_id': 3000000000}.
# 3000000000 does not fit BININT, so cPickle writes it as text (INT) even in protocol 2.
PY2_PROTOCOL_0 = (
    b"(dp1\nS'cgt_id'\np2\nS'HAFR1234'\np3\nsS'booking_type'\np4\nS'booked'\np5\n"
    b"sS'start_date'\np6\ncdatetime\ndate\np7\n(S'\\x07\\xe8\\x05\\x01'\ntRp8\n"
    b"sS'end_date'\np9\ncdatetime\ndatetime\np10\n"
    b"(S'\\x07\\xe8\\x05\\x03\\x0f\\x1e\\x00\\x00\\x00\\x00'\ntRp11\n"
    b"sS'notf_id'\np12\nI3000000000\ns."
)
PY2_PROTOCOL_1 = (
    b"}q\x01(U\x06cgt_idq\x02U\x08HAFR1234q\x03U\x0cbooking_typeq\x04U\x06bookedq\x05"
    b"U\nstart_dateq\x06cdatetime\ndate\nq\x07(U\x04\x07\xe8\x05\x01tRq\x08"
    b"U\x08end_dateq\tcdatetime\ndatetime\nq\n(U\n\x07\xe8\x05\x03\x0f\x1e\x00\x00\x00\x00tRq\x0b"
    b"U\x07notf_idq\x0cI3000000000\nu."
)
PY2_PROTOCOL_2 = (
    b"\x80\x02}q\x01(U\x06cgt_idq\x02U\x08HAFR1234q\x03U\x0cbooking_typeq\x04U\x06bookedq\x05"
    b"U\nstart_dateq\x06cdatetime\ndate\nq\x07U\x04\x07\xe8\x05\x01\x85Rq\x08"
    b"U\x08end_dateq\tcdatetime\ndatetime\nq\n"
    b"U\n\x07\xe8\x05\x03\x0f\x1e\x00\x00\x00\x00\x85Rq\x0bU\x07notf_idq\x0cI3000000000\nu."
)
PY2_EXPECTED = {
    "cgt_id": "HAFR1234",
    "booking_type": "booked",
    "start_date": datetime.date(2024, 5, 1),
    "end_date": datetime.datetime(2024, 5, 3, 15, 30),
    "notf_id": 3000000000,
}


def vector(name):
    """The bytes of the test vector ``name`` (a file of ``tests/data``)."""
    return (VECTORS_DIR / name).read_bytes()


def json_body(**changes):
    """A valid JSON hub message, with some fields changed (None as a value: removed)."""
    message = {
        "booking_type": "booked",
        "cgt_id": "HAFR1234",
        "start_date": "2024-05-01",
        "end_date": "2024-05-03",
        "notf_id": 42,
    }
    for key, value in changes.items():
        if value is None:
            message.pop(key)
        else:
            message[key] = value
    return json.dumps(message).encode("utf-8")


def binunicode(text):
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def global_call(module, name, *args):
    """A protocol 2 pickle of ``module.name(*args)`` (str arguments)."""
    body = b"".join(binunicode(arg) for arg in args)
    tuple_op = {0: b")", 1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(args)]
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + body + tuple_op + b"R."


def pickle_globals(data):
    """The (module, name) pairs a pickle's GLOBAL opcodes name, and its opcode protocol."""
    names = set()
    protocol = 0
    for opcode, arg, _ in pickletools.genops(data):
        protocol = max(protocol, opcode.proto)
        if opcode.name == "STACK_GLOBAL":
            names.add(("?", "?"))  # names only known while loading: Python 2 has no such op
        elif opcode.name in ("GLOBAL", "INST"):
            names.add(tuple(arg.split(" ", 1)))
    return names, protocol


class InvalidMessageAssertions:
    """``assertInvalid``: the hub message is refused, for a one-line reason."""

    def assertInvalid(self, body, content_type=JSON, reason=None):
        with self.assertRaises(InvalidMessage) as caught:
            decode_hub_message(body, content_type)
        message = str(caught.exception)
        self.assertNotIn("\n", message)
        if reason is not None:
            self.assertEqual(message, reason)
        return message


# -- seeding and running -------------------------------------------------------


def seed_cottages(cottages=None, pro_pk=1):
    """Proprio ``pro_pk`` and its cottages ``{heb_pk: CGT code or None}``
    (by default cottage 10, ``HAFF1234``), committed."""
    with db.session_scope() as session:
        add_proprio(session, pro_pk)
        session.flush()
        for heb_pk, cgt in (cottages or {10: "HAFF1234"}).items():
            add_cottage(session, heb_pk, pro_pk, cgt=cgt)


def run_console_script(main, args, env, now=None):
    """``main(args)`` as ops run a console script: the settings ``env`` in the
    environment (no other ``GITES_*`` variable), the clock at ``now`` unless
    it is None; ``(exit status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITES_")}
    environ.update(env)
    clock = (
        contextlib.nullcontext()
        if now is None
        else mock.patch("gites.calendar.clock.now", return_value=now)
    )
    with (
        mock.patch.dict(os.environ, environ, clear=True),
        clock,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            status = main(list(args))
        except SystemExit as exit_:  # argparse
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def demo_site(testcase, now, language="fr", member_pks=True):
    """The demo data (:mod:`gites.calendar.domain.demo`) on the test's Plone site,
    the clock frozen at ``now``, the site speaking ``language``, committed.
    Its members are added as ``tools/create_site.py`` does for `make run`
    (the demo passwords are shorter than Plone's password policy, so not
    through api.user); ``member_pks``: with their legacy ``pk`` property."""
    from gites.calendar.domain.demo import MEMBERS, load_demo

    freeze_clock(testcase, now)
    load_demo(db.get_session(), today=now.date())
    portal = testcase.layer["portal"]
    site_in_language(language)
    for login, password, pro_pk in MEMBERS:
        portal.acl_users._doAddUser(login, password, ["Member"], [])
        if member_pks:
            api.user.get(username=login).setMemberProperties({"pk": str(pro_pk)})
    transaction.commit()


def add_legacy_days(heb_pk, days, created):
    """Rows as the legacy site wrote them (no proprio): ``days`` are
    ``(ISO date, type)`` pairs; committed."""
    with db.session_scope() as session:
        for day, kind in days:
            session.add(
                Reservation(
                    res_date=datetime.datetime.fromisoformat(day),
                    res_type=kind,
                    heb_fk=heb_pk,
                    pro_fk=None,
                    res_date_cre=created,
                )
            )
