"""Safe fetching of feed URLs (issue 13, point 6), against a local server.

The test server listens on 127.0.0.1, let through by
``GITES_ICAL_ALLOWED_NETWORKS=127.0.0.1/32``; the refusals tried end to end
use loopback addresses outside that list (127.0.0.2, ::1, ::ffff:127.0.0.2),
where a listener counts connections to show none was made.  Other ranges are
tested on the address check alone, with connecting made to fail the test.
"""

import ipaddress
import socket
import time
import unittest
from unittest import mock

from gites.calendar.domain import ical_fetch
from gites.calendar.domain.ical_fetch import FetchError, fetch, refusal
from gites.calendar.testing.http import (
    FeedServer,
    Listener,
    allow_networks,
    http_date,
    ipv6_loopback_available,
)

ONLY_LOCAL = [ipaddress.ip_network("127.0.0.1/32")]
FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def no_connection(*args, **kwargs):
    raise AssertionError(f"a connection was attempted: {args}")


class TestAddressCheck(unittest.TestCase):
    """The judge of addresses; nothing here connects anywhere."""

    def test_refused_ranges(self):
        for address in (
            "10.0.0.1",
            "10.255.255.254",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
            "169.254.169.254",  # cloud metadata
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "100.64.0.1",  # shared address space
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.2.1",  # documentation
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fe80::1%eth0",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "2001:db8::1",
        ):
            with self.subTest(address=address):
                self.assertIsNotNone(refusal(address), address)

    def test_public_addresses_pass(self):
        for address in ("8.8.8.8", "185.60.216.35", "2a00:1450:4001:82b::200e", "::ffff:8.8.8.8"):
            with self.subTest(address=address):
                self.assertIsNone(refusal(address))

    def test_reasons_name_the_kind(self):
        self.assertIn("private", refusal("10.0.0.1"))
        self.assertIn("link-local", refusal("169.254.169.254"))
        self.assertIn("loopback", refusal("::ffff:127.0.0.2"))
        self.assertIn("multicast", refusal("ff02::1"))
        self.assertIn("unspecified", refusal("0.0.0.0"))

    def test_allowed_networks_let_exactly_those_through(self):
        self.assertIsNone(refusal("127.0.0.1", ONLY_LOCAL))
        self.assertIsNone(refusal("::ffff:127.0.0.1", ONLY_LOCAL))
        self.assertIsNotNone(refusal("127.0.0.2", ONLY_LOCAL))
        self.assertIsNotNone(refusal("::1", ONLY_LOCAL))
        self.assertIsNotNone(refusal("10.0.0.1", ONLY_LOCAL))

    def test_allowed_networks_from_environment(self):
        self.assertEqual(ical_fetch.allowed_networks({}), ())
        self.assertEqual(
            ical_fetch.allowed_networks(
                {ical_fetch.ALLOWED_NETWORKS_ENV: " 127.0.0.1/32, ::1/128 "}
            ),
            (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")),
        )
        with self.assertRaises(FetchError):
            ical_fetch.allowed_networks({ical_fetch.ALLOWED_NETWORKS_ENV: "127.0.0.1/8"})

    def test_names_resolving_to_private_ranges_never_connect(self):
        """A public-looking name that resolves to a private address is refused
        before any connection."""
        for address, family in (
            ("10.1.2.3", socket.AF_INET),
            ("192.168.0.10", socket.AF_INET),
            ("169.254.169.254", socket.AF_INET),
            ("fd00::5", socket.AF_INET6),
            ("::ffff:172.16.5.5", socket.AF_INET6),
        ):
            answer = [(family, socket.SOCK_STREAM, 6, "", (address, 443))]
            with (
                self.subTest(address=address),
                mock.patch("socket.getaddrinfo", return_value=answer),
                mock.patch("socket.create_connection", side_effect=no_connection),
            ):
                with self.assertRaises(FetchError) as caught:
                    fetch("https://calendar.example.com/feed.ics", allowed=ONLY_LOCAL)
                self.assertEqual(caught.exception.code, ical_fetch.FORBIDDEN_ADDRESS)

    def test_one_bad_address_among_good_ones_refuses(self):
        answer = [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 443)),
        ]
        with (
            mock.patch("socket.getaddrinfo", return_value=answer),
            mock.patch("socket.create_connection", side_effect=no_connection),
            self.assertRaises(FetchError) as caught,
        ):
            fetch("https://calendar.example.com/x.ics", allowed=())
        self.assertEqual(caught.exception.code, ical_fetch.FORBIDDEN_ADDRESS)

    def test_connects_to_the_checked_address_only(self):
        """One lookup; the connection goes to the address that was judged,
        so a second (rebinding) answer is never used."""
        answers = iter(
            [
                [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.4.4", 80))],
                [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))],
            ]
        )
        seen = []

        def connect(address, timeout=None, *args):
            seen.append(address)
            raise ConnectionRefusedError("test stops here")

        with (
            mock.patch("socket.getaddrinfo", side_effect=lambda *a, **k: next(answers)),
            mock.patch("socket.create_connection", side_effect=connect),
            self.assertRaises(FetchError),
        ):
            fetch("http://rebind.example.com/x.ics", allowed=())
        self.assertEqual(seen, [("8.8.4.4", 80)])

    def test_slow_dns_stops_at_the_deadline(self):
        def slow(*args, **kwargs):
            time.sleep(3)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 80))]

        started = time.monotonic()
        with (
            mock.patch("socket.getaddrinfo", side_effect=slow),
            mock.patch("socket.create_connection", side_effect=no_connection),
            self.assertRaises(FetchError) as caught,
        ):
            fetch("http://slow-dns.example.com/x.ics", allowed=(), timeout=1)
        self.assertEqual(caught.exception.code, ical_fetch.TIMEOUT)
        self.assertLess(time.monotonic() - started, 2.5)

    def test_urls(self):
        for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://x", "", "https://"):
            with self.subTest(url=url), self.assertRaises(FetchError) as caught:
                ical_fetch.split_url(url)
            self.assertEqual(caught.exception.code, ical_fetch.BAD_URL)
        with self.assertRaises(FetchError):
            ical_fetch.split_url("https://user:pw@example.com/x.ics")
        self.assertEqual(
            ical_fetch.split_url("webcal://p.example.com/cal.ics?s=1"),
            ("https", "p.example.com", 443, "/cal.ics?s=1"),
        )
        self.assertEqual(
            ical_fetch.normalize_url(" webcal://p.example.com/c.ics "),
            "https://p.example.com/c.ics",
        )


class TestFetchLocal(unittest.TestCase):
    def setUp(self):
        self.server = FeedServer().__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)

    def fetch(self, path, **kw):
        kw.setdefault("allowed", ONLY_LOCAL)
        return fetch(self.server.url(path), **kw)

    def failing_fetch(self, path, **kw):
        """Fetch ``path``, which must fail: (its error code, the seconds it took)."""
        started = time.monotonic()
        with self.assertRaises(FetchError) as caught:
            self.fetch(path, **kw)
        return caught.exception.code, time.monotonic() - started

    def test_ok_with_user_agent(self):
        self.server.route("/a.ics", FEED, etag='"v1"')
        result = self.fetch("/a.ics")
        self.assertEqual((result.status, result.body, result.etag), (200, FEED, '"v1"'))
        _path, headers = self.server.requests[-1]
        self.assertIn("gites.calendar", headers["User-Agent"])

    def test_allowed_from_environment(self):
        self.server.route("/a.ics", FEED)
        with allow_networks("127.0.0.1/32"):
            self.assertEqual(fetch(self.server.url("/a.ics")).body, FEED)
        with allow_networks(""), self.assertRaises(FetchError) as caught:
            fetch(self.server.url("/a.ics"))
        self.assertEqual(caught.exception.code, ical_fetch.FORBIDDEN_ADDRESS)

    def test_conditional_requests(self):
        stamp = http_date(time.time() - 3600)
        self.server.route("/e.ics", FEED, etag='"abc"')
        self.server.route("/m.ics", FEED, last_modified=stamp)
        result = self.fetch("/e.ics", etag='"abc"')
        self.assertEqual((result.status, result.body, result.not_modified), (304, b"", True))
        self.assertEqual(self.server.requests[-1][1]["If-None-Match"], '"abc"')
        first = self.fetch("/m.ics")
        self.assertEqual(first.last_modified, stamp)
        again = self.fetch("/m.ics", last_modified=first.last_modified)
        self.assertEqual(again.status, 304)
        self.assertEqual(self.server.requests[-1][1]["If-Modified-Since"], stamp)

    def test_http_errors(self):
        with self.assertRaises(FetchError) as caught:
            self.fetch("/missing.ics")
        self.assertEqual((caught.exception.code, caught.exception.status), ("http_status", 404))

    def test_size_cap_streamed(self):
        big = b"X" * (3 * 1024 * 1024)
        self.server.route("/big.ics", big)
        with self.assertRaises(FetchError) as caught:
            self.fetch("/big.ics")
        self.assertEqual(caught.exception.code, ical_fetch.TOO_LARGE)

        # Without Content-Length the cap holds while reading.
        def chunked(handler):
            handler.send_response(200)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for _ in range(48):
                piece = b"Y" * 65536
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")

        self.server.routes["/chunked.ics"] = chunked
        with self.assertRaises(FetchError) as caught:
            self.fetch("/chunked.ics")
        self.assertEqual(caught.exception.code, ical_fetch.TOO_LARGE)

    def test_never_answering(self):
        self.server.silent("/silent.ics", seconds=5)
        code, seconds = self.failing_fetch("/silent.ics", timeout=1)
        self.assertEqual(code, ical_fetch.TIMEOUT)
        self.assertLess(seconds, 2.5)

    def test_deadline_is_total_not_per_read(self):
        self.server.drip("/drip.ics", seconds=6)
        code, seconds = self.failing_fetch("/drip.ics", timeout=2)
        self.assertEqual(code, ical_fetch.TIMEOUT)
        self.assertLess(seconds, 3.5)

    def test_default_deadline_is_15_seconds(self):
        self.assertEqual(ical_fetch.DEADLINE, 15.0)
        self.assertEqual(ical_fetch.MAX_BYTES, 2 * 1024 * 1024)

    def test_redirects_followed_up_to_five(self):
        self.server.route("/final.ics", FEED)
        for n in range(5):
            self.server.redirect(f"/r{n}", f"/r{n + 1}" if n < 4 else "/final.ics")
        self.assertEqual(self.fetch("/r0").body, FEED)
        self.server.redirect("/r5", "/r0")
        with self.assertRaises(FetchError) as caught:
            self.fetch("/r5")
        self.assertEqual(caught.exception.code, ical_fetch.TOO_MANY_REDIRECTS)

    def test_redirect_to_other_scheme_refused(self):
        self.server.redirect("/ftp", "ftp://example.com/x.ics")
        with self.assertRaises(FetchError) as caught:
            self.fetch("/ftp")
        self.assertEqual(caught.exception.code, ical_fetch.BAD_URL)

    def test_redirect_to_refused_loopback_never_connects(self):
        listener = Listener("127.0.0.2")
        self.addCleanup(listener.close)
        self.server.redirect("/hop", f"http://127.0.0.2:{listener.port}/x.ics")
        self.server.route("/first", b"", etag=None)
        self.server.redirect("/first", "/hop")  # two hops: checked at each
        for path in ("/hop", "/first"):
            with self.subTest(path=path), self.assertRaises(FetchError) as caught:
                self.fetch(path)
            self.assertEqual(caught.exception.code, ical_fetch.FORBIDDEN_ADDRESS)
        self.assertEqual(listener.connections(), 0)
        self.assertEqual(len(self.server.hits("/hop")), 2)

    def test_refused_loopback_end_to_end(self):
        listener = Listener("127.0.0.2")
        self.addCleanup(listener.close)
        urls = [
            f"http://127.0.0.2:{listener.port}/x.ics",
            f"http://[::ffff:127.0.0.2]:{listener.port}/x.ics",
        ]
        listeners = [listener]
        if ipv6_loopback_available():
            six = Listener("::1")
            self.addCleanup(six.close)
            listeners.append(six)
            urls.append(f"http://[::1]:{six.port}/x.ics")
        else:  # still refused, nothing listens there
            urls.append(f"http://[::1]:{listener.port}/x.ics")
        for url in urls:
            with self.subTest(url=url), self.assertRaises(FetchError) as caught:
                fetch(url, allowed=ONLY_LOCAL)
            self.assertEqual(caught.exception.code, ical_fetch.FORBIDDEN_ADDRESS)
        # Also from the environment, as the importer runs.
        with allow_networks("127.0.0.1/32"), self.assertRaises(FetchError):
            fetch(urls[0])
        self.assertEqual([each.connections() for each in listeners], [0] * len(listeners))
        # localhost resolves to loopback addresses: refused unless all are allowed.
        with self.assertRaises(FetchError) as caught:
            fetch(f"http://localhost:{listener.port}/x.ics", allowed=())
        self.assertEqual(caught.exception.code, ical_fetch.FORBIDDEN_ADDRESS)

    def test_unreachable(self):
        listener = Listener("127.0.0.1")
        port = listener.port
        listener.close()  # nothing listens now
        with self.assertRaises(FetchError) as caught:
            fetch(f"http://127.0.0.1:{port}/x.ics", allowed=ONLY_LOCAL)
        self.assertEqual(caught.exception.code, ical_fetch.UNREACHABLE)
