"""What visitors may see of the owners' calendars (docs/public-calendars.rst).

A cottage's calendar is public when the cottage is public
(``heb_site_public = '1'``), its proprio is active (``pro_etat``) and its
calendar state is ``actif``.  Every other cottage -- unknown, private,
of an inactive owner, ``searchactif``, ``non actif``, ``bloque`` -- has no
public calendar, and the functions here answer for it exactly as for a
cottage without any busy day: nothing tells a visitor why.

Busy days are only days, never their type (``loue``/``indisp``).

Plain functions on a SQLAlchemy session or connection (no Plone import): the
public views and any other front end share them.  The conditional reads of
the public views (ETags, prepared statements) are
:mod:`gites.calendar.domain.public_read`.
"""

import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError

from gites.calendar.clock import add_months
from gites.calendar.db.models import ACTIF, Hebergement, Proprio, Reservation

MAX_MONTHS = 24  # the longest period a visitor may ask for at once


def visible_conditions():
    """The conditions that make a cottage's calendar public (a tuple of
    SQL expressions on Hebergement and Proprio)."""
    return (
        Hebergement.heb_site_public == "1",
        Hebergement.heb_calendrier_proprio == ACTIF,
        Proprio.pro_etat.is_(True),
    )


def visible_cottage(session, heb_pk):
    """The cottage ``heb_pk`` if its calendar is public, else None."""
    if not isinstance(heb_pk, int) or heb_pk <= 0:
        return None
    return session.scalars(
        select(Hebergement)
        .join(Proprio, Hebergement.heb_pro_fk == Proprio.pro_pk)
        .where(Hebergement.heb_pk == heb_pk, *visible_conditions())
    ).first()


def visible_cottages(session, pro_pk):
    """The cottages of proprio ``pro_pk`` whose calendar is public, by heb_pk."""
    if not isinstance(pro_pk, int) or pro_pk <= 0:
        return []
    return list(
        session.scalars(
            select(Hebergement)
            .join(Proprio, Hebergement.heb_pro_fk == Proprio.pro_pk)
            .where(Proprio.pro_pk == pro_pk, *visible_conditions())
            .order_by(Hebergement.heb_pk)
        )
    )


def _busy_days_statement():
    return (
        select(Reservation.res_date)
        .join(Hebergement, Reservation.heb_fk == Hebergement.heb_pk)
        .join(Proprio, Hebergement.heb_pro_fk == Proprio.pro_pk)
        .where(
            Reservation.heb_fk == bindparam("heb_pk"),
            Reservation.res_date >= bindparam("start"),
            Reservation.res_date < bindparam("end"),
            *visible_conditions(),
        )
        .order_by(Reservation.res_date)
    )


# Built once: each call only binds its three values, and SQLAlchemy's compiled
# cache serves the SQL string (no statement construction per request).
BUSY_DAYS = _busy_days_statement()


def busy_days_from(connection, heb_pk, first_day, months, today):
    """The busy days of cottage ``heb_pk`` a visitor may see, in order.

    ``connection``: a SQLAlchemy Connection or Session.  The period starts at
    max(``first_day``'s month start, ``today``) -- today included -- and ends
    with the last day of the ``months``-th month from ``first_day``'s.  Empty
    when the cottage's calendar is not public.

    One query: the visibility conditions are joined to the day range, which
    the index on ``reservation_proprio (heb_fk, res_date)`` serves.
    """
    if not isinstance(heb_pk, int) or heb_pk <= 0:
        return []
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}, not {months!r}")
    start, end = window(first_day, months, today)  # end excluded
    if start >= end:
        return []
    rows = connection.execute(
        BUSY_DAYS,
        {
            "heb_pk": heb_pk,
            "start": datetime.datetime.combine(start, datetime.time()),
            "end": datetime.datetime.combine(end, datetime.time()),
        },
    )
    # dict.fromkeys: one entry per day even if a legacy row is not at midnight.
    return list(dict.fromkeys(res_date.date() for (res_date,) in rows))


def window(first_day, months, today):
    """The [start, end) of the days a visitor asking for ``months`` months
    from ``first_day`` sees (start may be >= end: nothing to see)."""
    month_start = first_day.replace(day=1)
    return max(month_start, today), add_months(month_start, months)


def read_busy_days(engine, heb_pk, first_day, months, today):
    """:func:`busy_days_from` on a pooled connection of ``engine``, outside any
    transaction of the caller.

    For read-only front ends (the public ``selectedDays``), with
    :func:`gites.calendar.db.session.get_read_engine`: no ORM session, no join to the
    Zope transaction, a connection already in autocommit mode, so the one
    SELECT is the only statement (no ping, no BEGIN, no COMMIT/ROLLBACK
    round trip).  A connection found dead (database restarted) is dropped
    with the pool's other connections by SQLAlchemy; the read is then tried
    once more.
    """
    try:
        return _read_busy_days(engine, heb_pk, first_day, months, today)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return _read_busy_days(engine, heb_pk, first_day, months, today)


def _read_busy_days(engine, heb_pk, first_day, months, today):
    with engine.connect() as connection:
        return busy_days_from(connection, heb_pk, first_day, months, today)
