"""What checkCalendarActivity keeps in the database
(:mod:`gites.calendar.domain.activity`): one record per mail it sent or
tried to send (``gites_calendar_activity_mail``, under proprio, kind and
period), and the proprios' reactivation keys its mails carry.
"""

import secrets

from sqlalchemy import select

from gites.calendar.db.models import ActivityMail, Proprio


def mail_records(session, pro_pk, period):
    """{kind: ActivityMail} of the proprio's mails about ``period``."""
    return {
        record.kind: record
        for record in session.scalars(
            select(ActivityMail).where(ActivityMail.pro_pk == pro_pk, ActivityMail.period == period)
        )
    }


def ensure_reactivation_key(session, pro_pk):
    """The proprio's reactivation key, created (and flushed) when missing."""
    proprio = session.scalars(
        select(Proprio).where(Proprio.pro_pk == pro_pk).with_for_update()
    ).one()
    if not proprio.pro_reactivation_hash:
        proprio.pro_reactivation_hash = secrets.token_urlsafe(32)
        session.flush()
    return proprio.pro_reactivation_hash


def record_mail(session, action, status, error, now):
    """Insert or update the (proprio, kind, period) record; return it."""
    record = session.scalars(
        select(ActivityMail)
        .where(
            ActivityMail.pro_pk == action.pro_pk,
            ActivityMail.kind == action.kind,
            ActivityMail.period == action.period,
        )
        .with_for_update()
    ).first()
    if record is None:
        record = ActivityMail(
            pro_pk=action.pro_pk, kind=action.kind, period=action.period, attempts=0
        )
        session.add(record)
    record.status = status
    record.attempts = (record.attempts or 0) + 1
    record.last_error = error
    record.updated_at = now
    session.flush()
    return record
