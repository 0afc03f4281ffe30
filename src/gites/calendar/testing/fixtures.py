"""Fixtures shared by the test modules (test modules never import each other).

* Seeding: proprios, cottages, member links (:func:`add_proprio`,
  :func:`add_cottage`, :func:`link_member`, :func:`seed_cottages`, legacy
  rows, the demo site), the site's language.
* The owner scenario of the owner-page tests: two proprios, four cottages,
  three members (:func:`seed`, :func:`create_members`), the frozen clock
  (:func:`freeze_clock`), and the two test-case bases that set them up --
  :class:`OwnerIntegrationTestCase` (views called in the test's transaction)
  and :class:`OwnerFunctionalTestCase` (data committed, pages through the
  Zope publisher).
* :func:`run_console_script`: a console script's ``main`` as ops run it.

The hub message vectors of the codec tests are in
:mod:`gites.calendar.testing.hub_messages`.
:mod:`gites.calendar.tests.test_test_modules` checks that every test module
imports its fixtures from here (or the other ``testing`` modules), never
from another test module.
"""

import contextlib
import datetime
import io
import json
import os
import re
from unittest import mock
from urllib.parse import urlencode

from plone import api
from plone.i18n.utility import setLanguageBinding
from plone.testing.zope import Browser
from sqlalchemy import func, select
import transaction
from zope.component import getMultiAdapter
from zope.interface import alsoProvides

from gites.calendar.db import session as db
from gites.calendar.db.models import Hebergement, OutboxMessage, Proprio, Reservation
from gites.calendar.interfaces import IGitesCalendarLayer
from gites.calendar.testing.services import DatabaseTestCase

# -- seeding ---------------------------------------------------------------


def add_proprio(session, pro_pk, email="owner@example.org", active=True, **extra):
    proprio = Proprio(
        pro_pk=pro_pk,
        pro_nom1=extra.pop("nom", f"Nom{pro_pk}"),
        pro_prenom1=extra.pop("prenom", f"Prenom{pro_pk}"),
        pro_email=email,
        pro_etat=active,
        **extra,
    )
    session.add(proprio)
    return proprio


def add_cottage(
    session, heb_pk, pro_pk, cgt=None, public=True, state="actif", updated=None, **extra
):
    heb = Hebergement(
        heb_pk=heb_pk,
        heb_nom=extra.pop("nom", f"Gîte {heb_pk}"),
        heb_code_cgt=cgt,
        heb_site_public="1" if public else "0",
        heb_pro_fk=pro_pk,
        heb_calendrier_proprio=state,
        heb_calendrier_proprio_date_maj=updated or datetime.date(2020, 1, 1),
        **extra,
    )
    session.add(heb)
    return heb


def link_member(session, member_id, pro_pk):
    """Make Plone member ``member_id`` the owner of proprio ``pro_pk``, as
    the control panel or the ops script does."""
    from gites.calendar.domain.owners import set_link

    return set_link(session, member_id, pro_pk, "test")


def seed_cottages(cottages=None, pro_pk=1):
    """Proprio ``pro_pk`` and its cottages ``{heb_pk: CGT code or None}``
    (by default cottage 10, ``HAFF1234``), committed."""
    with db.session_scope() as session:
        add_proprio(session, pro_pk)
        session.flush()
        for heb_pk, cgt in (cottages or {10: "HAFF1234"}).items():
            add_cottage(session, heb_pk, pro_pk, cgt=cgt)


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


# -- the site ----------------------------------------------------------------


def site_in_language(language):
    """The site speaks ``language`` only, whatever the browser asks for."""
    api.portal.set_registry_record("plone.default_language", language)
    api.portal.set_registry_record("plone.available_languages", [language])


def site_in_french():
    """The site speaks French (its source language), whatever the catalogues hold."""
    site_in_language("fr")


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


# -- console scripts ---------------------------------------------------------


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
