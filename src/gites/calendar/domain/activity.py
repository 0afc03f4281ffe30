"""checkCalendarActivity: who gets a reminder, who gets blocked
(docs/scripts.rst, "checkCalendarActivity").

The rule
--------
For each active proprio (``pro_etat``), the *last update* is the most
recent ``heb_calendrier_proprio_date_maj`` among its public cottages whose
calendar is in use (state neither ``non actif`` nor ``bloque``, nor unset).
A proprio without such a cottage, or whose dates are all unset, is left
alone.  With ``age`` = today - last update, in days:

* 30 to 39 days: a **reminder** mail, once per inactivity period.  The
  period is the last-update date itself, so a proprio first seen at 35 days
  (the cron did not run, or the mail failed) still gets it, and one who
  updates the calendar starts a new period.
* 40 days or more: a **blocking** mail, then every cottage of the proprio
  (public or not) that is not yet ``bloque`` becomes ``bloque`` with an open
  blocking-history row.

Both mails carry ``<site>/reactivation-calendrier?key=K``; K is the
proprio's ``pro_reactivation_hash``, created once (``secrets``) and reused.
A proprio without e-mail address, or whose ``pro_email`` is not exactly one
address (``a@x.be, b@y.be``: the key would reach several people), is logged
and skipped (never blocked: he could not be told).  Database text in log
lines goes through :func:`gites.calendar.logsafe.one_line`.

Order and re-runs
-----------------
Each mail is recorded in ``gites_calendar_activity_mail`` under (proprio,
kind, period).  A proprio is skipped when the due mail is recorded as
``sent``; a ``failed`` one is tried again on the next run.  The blocking
mail is sent *first*; only when the SMTP server accepted it are the
cottages blocked, in the same transaction as the ``sent`` record.  So a
calendar is never blocked without its mail, and a run with the SMTP server
down blocks nothing, records the failures and exits non-zero; the next run
does the work.  The price: if the database fails between the SMTP server's
acceptance and the commit, the next run sends that mail again (at least
once, never zero times).
"""

import contextlib
import dataclasses
import datetime
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from gites.calendar import clock
from gites.calendar.db.locks import advisory_lock, lock_cottage
from gites.calendar.db.models import BLOQUE, NON_ACTIF, Hebergement, Proprio
from gites.calendar.db.session import session_scope
from gites.calendar.domain import (
    activity_records,
    calendar_state,
    history,
    history_retention,
    mails,
)
from gites.calendar.domain.calendar_versions import bump_versions
from gites.calendar.logsafe import one_line

logger = logging.getLogger("gites.calendar.domain.activity")

REMINDER = "reminder"
BLOCKING = "blocking"
SENT = "sent"
FAILED = "failed"

REMIND_FROM_DAYS = 30
REMIND_UNTIL_DAYS = 39  # included
BLOCK_FROM_DAYS = 40

# Arbitrary constant naming checkCalendarActivity's PostgreSQL advisory lock.
RUN_LOCK_KEY = 0x67C0_A0C7


class AlreadyRunning(Exception):
    """Another checkCalendarActivity holds the run lock."""


def due_kind(age, sent_kinds=()):
    """The mail due at ``age`` days, or None; ``sent_kinds``: already sent."""
    if age >= BLOCK_FROM_DAYS:
        kind = BLOCKING
    elif REMIND_FROM_DAYS <= age <= REMIND_UNTIL_DAYS:
        kind = REMINDER
    else:
        return None
    return None if kind in sent_kinds else kind


@dataclasses.dataclass(frozen=True)
class Action:
    """One mail due to one proprio (and for ``blocking``, its cottages)."""

    pro_pk: int
    kind: str  # reminder | blocking
    period: datetime.date  # the last update the mail is about
    age: int
    email: str | None
    name: str
    has_key: bool
    retry: bool  # a failed attempt is recorded for this mail
    # pro_email when it is set but not exactly one address (then email is None)
    unusable_email: str | None = None

    def describe(self):
        what = "reminder" if self.kind == REMINDER else "blocking mail"
        return (
            f"proprio {self.pro_pk}: {what} to {one_line(self.email or '(no e-mail)')}"
            f" (calendar last updated {self.period.isoformat()}, {self.age} days"
            f"{', retry after failure' if self.retry else ''})"
        )


def last_updates(session):
    """[(pro_pk, last update)] of the active proprios, ordered by pro_pk."""
    state = Hebergement.heb_calendrier_proprio
    return list(
        session.execute(
            select(Proprio.pro_pk, func.max(Hebergement.heb_calendrier_proprio_date_maj))
            .join(Hebergement, Hebergement.heb_pro_fk == Proprio.pro_pk)
            .where(
                Proprio.pro_etat.is_(True),
                Hebergement.heb_site_public == "1",
                state.is_not(None),
                state.not_in((NON_ACTIF, BLOQUE)),
                Hebergement.heb_calendrier_proprio_date_maj.is_not(None),
            )
            .group_by(Proprio.pro_pk)
            .order_by(Proprio.pro_pk)
        )
    )


def plan(session, today):
    """The mails due ``today``, one :class:`Action` per proprio, by pro_pk.

    Reads only; proprios without e-mail are included (the caller skips them).
    """
    actions = []
    for pro_pk, last_update in last_updates(session):
        age = (today - last_update).days
        if due_kind(age) is None:
            continue
        records = activity_records.mail_records(session, pro_pk, last_update)
        kind = due_kind(age, {k for k, r in records.items() if r.status == SENT})
        if kind is None:
            continue
        proprio = session.get(Proprio, pro_pk)
        email = mails.single_address(proprio.pro_email)
        unusable = (proprio.pro_email or "").strip() if email is None else ""
        actions.append(
            Action(
                pro_pk=pro_pk,
                kind=kind,
                period=last_update,
                age=age,
                email=email,
                name=proprio.display_name,
                has_key=bool(proprio.pro_reactivation_hash),
                retry=kind in records,
                unusable_email=unusable or None,
            )
        )
    return actions


def cottages_to_block(session, pro_pk):
    """Every cottage of the proprio (public or not) not yet ``bloque``."""
    return [
        heb
        for heb in calendar_state.owner_cottages_all(session, pro_pk)
        if heb.heb_calendrier_proprio != BLOQUE
    ]


SCRIPT_NAME = "checkCalendarActivity"  # the actor of its change-log rows


def block_cottages(session, pro_pk, today, now=None):
    """Make the proprio's cottages ``bloque``, each with an open history row.

    The modification date is left as it is: it is the owner's last update,
    shown on his pages.  A ``non actif`` cottage keeps its open history row.
    Each blocking is recorded in the change log (source ``activity``, no
    nights: blocking changes the calendar's state, not its days).
    Returns the heb_pks blocked.
    """
    now = now or clock.now()
    origin = history.Origin(history.ACTIVITY, SCRIPT_NAME)
    blocked = []
    for heb in cottages_to_block(session, pro_pk):
        lock_cottage(session, heb.heb_pk)
        session.refresh(heb)
        if heb.heb_calendrier_proprio == BLOQUE:  # blocked meanwhile
            continue
        old = heb.heb_calendrier_proprio
        heb.heb_calendrier_proprio = BLOQUE
        calendar_state.open_blocking(session, heb, today)
        history.record_state(session, heb.heb_pk, old, BLOQUE, origin, now)
        blocked.append(heb.heb_pk)
    session.flush()
    bump_versions(session, blocked)  # its days are no longer public
    return blocked


def compose(action, key, settings, today):
    common = {
        "to_addr": action.email,
        "name": action.name,
        "last_update": action.period,
        "today": today,
        "site_url": settings.site_url,
        "key": key,
        "mail_from": settings.mail_from,
    }
    if action.kind == REMINDER:
        return mails.reminder_mail(block_after=BLOCK_FROM_DAYS, **common)
    return mails.blocking_mail(**common)


@dataclasses.dataclass
class Report:
    sent: list = dataclasses.field(default_factory=list)  # Actions
    failed: list = dataclasses.field(default_factory=list)  # (Action, error)
    skipped: list = dataclasses.field(default_factory=list)  # Actions without e-mail
    blocked: list = dataclasses.field(default_factory=list)  # heb_pks
    pruned: int = 0  # change-log rows removed (retention)

    @property
    def ok(self):
        return not self.failed

    def summary(self):
        reminders = sum(1 for a in self.sent if a.kind == REMINDER)
        return (
            f"{reminders} reminders and {len(self.sent) - reminders} blocking mails sent,"
            f" {len(self.blocked)} cottages blocked, {len(self.failed)} failed,"
            f" {len(self.skipped)} skipped (no e-mail),"
            f" {self.pruned} change-log rows pruned"
        )


def process(action, settings, today, send=mails.send_mail, now=None):
    """Send one action's mail, record it, block when due; return (ok, blocked, error)."""
    now = now or datetime.datetime.now()
    # The key is committed before the mail leaves, so the link always works.
    with session_scope() as session:
        key = activity_records.ensure_reactivation_key(session, action.pro_pk)
    try:
        send(settings, compose(action, key, settings, today))
    except (mails.MailError, ValueError) as error:  # ValueError: unusable address
        with session_scope() as session:
            record = activity_records.record_mail(session, action, FAILED, str(error), now)
            attempts = record.attempts
        return False, [], f"{error} (attempt {attempts})"
    try:
        with session_scope() as session:
            activity_records.record_mail(session, action, SENT, None, now)
            blocked = (
                block_cottages(session, action.pro_pk, today, now)
                if action.kind == BLOCKING
                else []
            )
    except SQLAlchemyError as error:
        first_line = str(error).splitlines()[0]
        return False, [], f"mail sent but not recorded, it will be sent again: {first_line}"
    return True, blocked, None


@contextlib.contextmanager
def run_lock(engine):
    """One checkCalendarActivity at a time (PostgreSQL advisory lock).

    SQLite (development) has no such lock; its runs are not concurrent.
    """
    with advisory_lock(engine, RUN_LOCK_KEY) as got:
        if not got:
            raise AlreadyRunning("another checkCalendarActivity is running")
        yield


def prune_history(keep_days, now, batch=history_retention.PRUNE_BATCH):
    """Retention of the change log: remove the changes older than
    ``keep_days`` (settings ``GITES_HISTORY_KEEP_DAYS``), one committed
    transaction per ``batch`` rows, so a first run on a big log holds no
    long lock.  Returns how many were removed."""
    before = now - datetime.timedelta(days=keep_days)
    total, after = 0, 0
    while after is not None:
        with session_scope() as session:
            deleted, after = history_retention.prune_batch(session, before, after, batch)
        total += deleted
    return total


def run(settings, today, dry_run=False, send=mails.send_mail, out=print, now=None):
    """Do (or, with ``dry_run``, print) today's reminders and blockings,
    then prune the change log (not on a dry run).

    Logs one line per proprio action; returns a :class:`Report`.
    """
    with session_scope() as session:
        actions = plan(session, today)
        if dry_run:
            for action in actions:
                out(_dry_run_line(session, action))
            session.rollback()
            return Report(skipped=[a for a in actions if not a.email])
    report = Report()
    for action in actions:
        if not action.email:
            logger.warning("%s: %s, skipped", action.describe(), _why_no_email(action))
            report.skipped.append(action)
            continue
        try:
            ok, blocked, error = process(action, settings, today, send=send)
        except SQLAlchemyError as db_error:
            ok, blocked, error = False, [], f"database error: {str(db_error).splitlines()[0]}"
        if ok:
            report.sent.append(action)
            report.blocked.extend(blocked)
            cottages = f", cottages {', '.join(map(str, blocked))} blocked" if blocked else ""
            logger.info("%s: sent%s", action.describe(), cottages)
        else:
            report.failed.append((action, error))
            logger.error("%s: FAILED: %s", action.describe(), one_line(error))
    try:
        report.pruned = prune_history(settings.history_keep_days, now or clock.now())
    except SQLAlchemyError as db_error:
        # The mails are done; the pruning is tried again tomorrow.
        logger.error("change-log retention failed: %s", str(db_error).splitlines()[0])
    return report


def _why_no_email(action):
    if action.unusable_email:
        return f"e-mail {one_line(action.unusable_email)} is not exactly one address"
    return "no e-mail address"


def _dry_run_line(session, action):
    if not action.email:
        return f"would skip {action.describe()}: {_why_no_email(action)}"
    line = f"would send {action.describe()}"
    if not action.has_key:
        line += ", creating its reactivation key"
    if action.kind == BLOCKING:
        pks = [heb.heb_pk for heb in cottages_to_block(session, action.pro_pk)]
        line += f", then block cottages {', '.join(map(str, pks)) or '(none)'}"
    return line
