"""Calendar versions: the number every writer of a cottage's calendar raises.

The public answers' ETag is built on it (docs/database.rst), and on
PostgreSQL the raise also notifies the Zope processes, which forget the
states they kept (:mod:`gites.calendar.domain.state_cache`).
"""

from sqlalchemy import text

from gites.calendar.db.models import CalendarVersion
from gites.calendar.domain.state_cache import CHANNEL, payload

# One statement on PostgreSQL and SQLite alike (both know ON CONFLICT).
_BUMP = text(
    f"INSERT INTO {CalendarVersion.__tablename__} (heb_pk, version) VALUES (:heb_pk, 1)"
    f" ON CONFLICT (heb_pk) DO UPDATE SET version = {CalendarVersion.__tablename__}.version + 1"
)


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def bump_versions(session, heb_pks):
    """Raise the calendar version of each cottage of ``heb_pks``.

    Every writer of a calendar calls it in its own transaction (write_days
    does for all writers of days): the public answers' ETag then changes
    with the commit, even for a second change on the same day.
    """
    if not heb_pks:
        return
    session.execute(_BUMP, [{"heb_pk": heb_pk} for heb_pk in sorted(heb_pks)])
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit: each Zope process forgets the states it kept
        # for revalidations (gites.calendar.domain.state_cache).
        session.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload(heb_pks)})
