"""Locks: PostgreSQL's advisory lock, the cottage row lock."""

import contextlib

from sqlalchemy import text


@contextlib.contextmanager
def advisory_lock(engine, key):
    """Hold PostgreSQL's session advisory lock ``key`` for the block, if free.

    Yields True when this process holds it, False when another does (the
    caller then stops).  One run at a time of a cron script.  SQLite
    (development) has no such lock and always yields True.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        got = try_advisory_lock(connection, key)
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()


def try_advisory_lock(connection, key):
    """Take PostgreSQL's session advisory lock ``key`` on ``connection`` if
    free (and commit); whether it did.  The lock lasts as long as the
    connection's session, or until ``pg_advisory_unlock``."""
    got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
    connection.commit()
    return bool(got)


def lock_cottage(session, heb_pk):
    """Serialise writers of one cottage until the end of the transaction.

    On PostgreSQL this takes the row lock of the ``hebergement`` row; SQLite
    serialises all writers with its database lock.  Returns False if the
    cottage does not exist.
    """
    result = session.execute(
        text("SELECT heb_pk FROM hebergement WHERE heb_pk = :pk FOR UPDATE")
        if session.get_bind().dialect.name == "postgresql"
        else text("SELECT heb_pk FROM hebergement WHERE heb_pk = :pk"),
        {"pk": heb_pk},
    )
    return result.first() is not None
