"""An owner's calendar configuration and its blocking history (docs/owner-pages.rst,
``configuration``).

Plain functions on a SQLAlchemy session (no Plone import): the
``configuration`` form, ``reactivation-calendrier`` and the cron script
``checkCalendarActivity`` share them.  The caller owns the transaction.

The blocking history (``heb_blocking_history``) holds one row per period a
cottage's calendar was not in use: opened (``blocked_dte``) when the
calendar becomes ``non actif`` or ``bloque``, closed (``activated_dte`` and
``days`` = activated - blocked) when it is in use again.  The invariant kept
here: a cottage has an open row exactly while its state is one of
:data:`BLOCKED_STATES`.
"""

import hmac

from sqlalchemy import select

from gites.calendar import clock
from gites.calendar.db.locks import lock_cottage
from gites.calendar.db.models import (
    ACTIF,
    BLOQUE,
    NON_ACTIF,
    SEARCH_ACTIF,
    BlockingHistory,
    Hebergement,
    Proprio,
)
from gites.calendar.domain import history
from gites.calendar.domain.calendar_versions import bump_versions

# The choices an owner may make (the configuration form); ``bloque`` is set
# by checkCalendarActivity only and left by reactivation.
OWNER_STATES = (ACTIF, SEARCH_ACTIF, NON_ACTIF)
# States in which the calendar is not in use: an open history row exists.
BLOCKED_STATES = (NON_ACTIF, BLOQUE)
# Reactivation keys are hashes (hex or similar); anything longer is not one.
MAX_KEY_LENGTH = 256


def open_rows(session, heb_pk):
    """The open (not yet reactivated) history rows of a cottage, oldest first."""
    return list(
        session.scalars(
            select(BlockingHistory)
            .where(
                BlockingHistory.heb_blockhistory_heb_pk == heb_pk,
                BlockingHistory.heb_blockhistory_activated_dte.is_(None),
            )
            .order_by(BlockingHistory.heb_blockhistory_id)
        )
    )


def open_blocking(session, heb, today):
    """Open a history row for ``heb`` blocked ``today``, unless one is open.

    Returns the open row (the existing one or the new one).
    """
    existing = open_rows(session, heb.heb_pk)
    if existing:
        return existing[0]
    row = BlockingHistory(
        heb_blockhistory_blocked_dte=today,
        heb_blockhistory_heb_pk=heb.heb_pk,
    )
    session.add(row)
    session.flush()
    return row


def close_blocking(session, heb, today):
    """Close every open history row of ``heb``: activated ``today``.

    ``days`` = activated - blocked (never negative).  Returns the closed rows
    (none when nothing was open: calling it twice changes nothing).
    """
    rows = open_rows(session, heb.heb_pk)
    for row in rows:
        row.heb_blockhistory_activated_dte = today
        row.heb_blockhistory_days = max(0, (today - row.heb_blockhistory_blocked_dte).days)
    if rows:
        session.flush()
    return rows


def set_state(session, heb, state, today, origin, now=None):
    """Give ``heb`` the calendar state ``state`` and keep its history right.

    Sets the modification date to ``today``; opens a history row when the
    calendar stops being in use, closes the open one when it is in use again.
    A real change of state is recorded in the change log under ``origin``
    (a row with no nights: no night changes).
    """
    if state not in (*OWNER_STATES, BLOQUE):
        raise ValueError(f"unknown calendar state {state!r}")
    lock_cottage(session, heb.heb_pk)
    session.refresh(heb)  # the state another transaction may just have set
    old = heb.heb_calendrier_proprio
    heb.heb_calendrier_proprio = state
    heb.heb_calendrier_proprio_date_maj = today
    if state in BLOCKED_STATES and old not in BLOCKED_STATES:
        open_blocking(session, heb, today)
    elif state not in BLOCKED_STATES:
        close_blocking(session, heb, today)
    session.flush()
    # The state decides whether visitors see the days: their ETag changes.
    bump_versions(session, [heb.heb_pk])
    history.record_state(session, heb.heb_pk, old, state, origin, now or clock.now())


def owner_cottages_all(session, pro_pk):
    """Every cottage of a proprio, public or not, ordered by heb_pk."""
    return list(
        session.scalars(
            select(Hebergement).where(Hebergement.heb_pro_fk == pro_pk).order_by(Hebergement.heb_pk)
        )
    )


def apply_configuration(session, cottages, state, today, pro_pk, now=None):
    """The configuration form's choice (by proprio ``pro_pk``), applied to
    each of ``cottages``."""
    if state not in OWNER_STATES:
        raise ValueError(f"an owner cannot choose the calendar state {state!r}")
    origin = history.Origin(history.CONFIGURATION, pro_pk)
    for heb in cottages:
        set_state(session, heb, state, today, origin, now)
    return cottages


def find_by_reactivation_key(session, key):
    """The proprio whose ``pro_reactivation_hash`` is ``key``, or None.

    An empty, over-long or non-text key never matches; the match itself is
    confirmed with a constant-time comparison.
    """
    if not isinstance(key, str):
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return None
    proprio = session.scalars(
        select(Proprio).where(Proprio.pro_reactivation_hash == key).order_by(Proprio.pro_pk)
    ).first()
    if proprio is None or not proprio.pro_reactivation_hash:
        return None
    if not hmac.compare_digest(proprio.pro_reactivation_hash.encode(), key.encode()):
        return None
    return proprio


def reactivate(session, proprio, today, now=None):
    """``reactivation-calendrier``: every cottage of ``proprio`` in use again.

    For each cottage (public or not): modification date = today, ``bloque``
    becomes ``actif``, and the open history row is closed unless the owner
    chose ``non actif`` himself.  Idempotent: a second call only sets the
    modification date again.  Returns the cottages.
    """
    cottages = owner_cottages_all(session, proprio.pro_pk)
    origin = history.Origin(history.REACTIVATION, proprio.pro_pk)
    for heb in cottages:
        lock_cottage(session, heb.heb_pk)
        session.refresh(heb)
        state = heb.heb_calendrier_proprio
        if state == BLOQUE:
            state = ACTIF
        if state in OWNER_STATES:
            set_state(session, heb, state, today, origin, now)
        else:
            # No or an unknown state (legacy data): leave it, but the calendar
            # is not blocked, so no history row stays open.
            heb.heb_calendrier_proprio_date_maj = today
            close_blocking(session, heb, today)
    session.flush()
    return cottages
