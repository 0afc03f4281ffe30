"""Retry helpers shared by the consumer and the relay (no broker, no SQL).

Kept apart from the consumer so that the relay, a sibling, does not import it.
"""

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class Backoff:
    """Exponential delays: first, 2*first, ... up to ``maximum``."""

    def __init__(self, first=1.0, maximum=30.0):
        self.first = first
        self.maximum = maximum
        self.reset()

    def reset(self):
        self._next = self.first

    def next(self):
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay


def one_line(error):
    """``Type: first line`` of an exception, for log lines and reasons."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def is_unreachable(error):
    """A database error that says "try later", not "this message is bad"."""
    if isinstance(error, DBAPIError):
        # OperationalError also covers deadlocks and serialisation failures.
        return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))
    return False
