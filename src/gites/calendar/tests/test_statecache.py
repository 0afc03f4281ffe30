"""gites.calendar.domain.state_cache: what is kept, when it is dropped (no database).

The listening itself (a real NOTIFY at commit) is exercised on PostgreSQL
by test_conditional_requests; here the cache's rules, with a clock of our
own and a listener that never connects.
"""

import threading
import unittest

from gites.calendar.domain import state_cache
from gites.calendar.domain.state_cache import MISSING, StateCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestStateCache(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.refused = threading.Event()

        def connect():
            self.refused.set()
            raise OSError("no database here")

        self.cache = StateCache(connect, ttl=10.0, clock=self.clock)
        self.addCleanup(self.cache.stop)
        self.assertTrue(self.refused.wait(5))

    def go_live(self):
        self.cache._set_live(True)
        return self.cache.generation

    def test_nothing_is_kept_while_not_listening(self):
        self.cache.put(10, ("1",), self.cache.generation)
        self.assertIs(self.cache.get(10), MISSING)

    def test_kept_until_the_ttl(self):
        generation = self.go_live()
        self.cache.put(10, ("state",), generation)
        self.cache.put(11, None, generation)  # an unknown cottage is kept too
        self.assertEqual(self.cache.get(10), ("state",))
        self.assertIsNone(self.cache.get(11))
        self.clock.now += 9.9
        self.assertEqual(self.cache.get(10), ("state",))
        self.clock.now += 0.1
        self.assertIs(self.cache.get(10), MISSING)

    def test_a_read_older_than_a_drop_is_not_kept(self):
        before = self.go_live()
        self.cache.handle("12")  # a commit notified while the read was on
        self.cache.put(10, ("stale",), before)
        self.assertIs(self.cache.get(10), MISSING)
        self.cache.put(10, ("fresh",), self.cache.generation)
        self.assertEqual(self.cache.get(10), ("fresh",))

    def test_notifications_drop_what_they_name(self):
        generation = self.go_live()
        for heb_pk in (10, 11, 12):
            self.cache.put(heb_pk, (heb_pk,), generation)
        self.cache.handle("10,12")
        self.assertEqual([self.cache.get(pk) for pk in (10, 11, 12)], [MISSING, (11,), MISSING])
        for text in ("*", "", "garbage"):
            generation = self.cache.generation
            self.cache.put(11, (11,), generation)
            self.cache.handle(text)
            self.assertIs(self.cache.get(11), MISSING, text)

    def test_losing_the_listener_drops_everything(self):
        generation = self.go_live()
        self.cache.put(10, ("state",), generation)
        self.cache._set_live(False)
        self.assertIs(self.cache.get(10), MISSING)
        self.cache.put(10, ("state",), self.cache.generation)
        self.assertIs(self.cache.get(10), MISSING)

    def test_payload_names_cottages_or_all(self):
        self.assertEqual(state_cache.payload({12, 3}), "3,12")
        self.assertEqual(state_cache.payload(range(1, 3000)), state_cache.ALL)
