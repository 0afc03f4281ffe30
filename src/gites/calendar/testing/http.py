"""A local HTTP server for the iCal import tests, and real-shaped feeds.

:class:`FeedServer` serves, on 127.0.0.1 (or another loopback address), the
routes a test gives it: ``server.route("/airbnb.ics", body, etag=...)``, or a
function for special answers (redirects, silence).  It records every
request (path and headers), so a test can show that a refused address was
never contacted.
"""

import contextlib
import email.utils
import http.server
import os
import socket
import threading
import time
from unittest import mock

from gites.calendar.domain import ical_fetch


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet tests
        pass

    def do_GET(self):
        server = self.server.owner
        server.requests.append((self.path, dict(self.headers)))
        route = server.routes.get(self.path.split("?")[0])
        if route is None:
            return send_answer(self, 404, b"not found", "text/plain")
        if callable(route):
            return route(self)
        body, etag, content_type, last_modified = route
        if etag and self.headers.get("If-None-Match") == etag:
            return send_answer(self, 304, b"", headers=[("ETag", etag)])
        if last_modified and self.headers.get("If-Modified-Since") == last_modified:
            return send_answer(self, 304, b"", headers=[("Last-Modified", last_modified)])
        headers = [("ETag", etag), ("Last-Modified", last_modified)]
        return send_answer(self, 200, body, content_type, headers)


def send_answer(handler, status, body, content_type=None, headers=()):
    """Answer the request of ``handler`` (an ``http.server`` handler): ``body``
    (bytes) with its length, ``content_type`` and ``headers`` ((name, value)
    pairs) unless None.  The benchmarks' feed server answers with it too."""
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for name, value in headers:
        if value:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # The fetcher hangs up on purpose (size cap, deadline): not an error.
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class FeedServer:
    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.routes = {}
        self.requests = []
        cls = _Server6 if ":" in host else _Server
        self._httpd = cls((host, 0), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def route(
        self, path, body, etag=None, content_type="text/calendar; charset=utf-8", last_modified=None
    ):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = (body, etag, content_type, last_modified)

    def redirect(self, path, location, status=302):
        def answer(handler):
            send_answer(handler, status, b"", headers=[("Location", location)])

        self.routes[path] = answer

    def silent(self, path, seconds=30):
        """Accept the request and answer nothing for ``seconds``."""

        def answer(handler):
            time.sleep(seconds)

        self.routes[path] = answer

    def drip(self, path, seconds=30):
        """Send a 200 then one byte per second, never ending."""

        def answer(handler):
            handler.send_response(200)
            handler.send_header("Content-Type", "text/calendar")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            for _ in range(seconds):
                handler.wfile.write(b"B")
                handler.wfile.flush()
                time.sleep(1)

        self.routes[path] = answer

    def hits(self, path):
        return [p for p, _h in self.requests if p.split("?")[0] == path]


class Listener:
    """A bare TCP listener that only counts the connections it receives.

    Stands at an address the fetcher must refuse: a test asserts it was
    never connected to.
    """

    def __init__(self, host):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(5)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.host = host

    def connections(self):
        count = 0
        while True:
            try:
                conn, _addr = self.sock.accept()
            except (TimeoutError, BlockingIOError, OSError):
                return count
            conn.close()
            count += 1

    def close(self):
        self.sock.close()


def airbnb_feed(*events):
    """An Airbnb-shaped feed: events as (first night, checkout day, summary)."""
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID;X-RICAL-TZSOURCE=TZINFO:-//Airbnb Inc//Hosting Calendar 1.0//EN",
        "CALSCALE:GREGORIAN",
        "VERSION:2.0",
    ]
    for number, (first, checkout, summary) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"DTEND;VALUE=DATE:{checkout:%Y%m%d}",
            f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
            f"UID:1418fb94e984-{number:032x}@airbnb.com",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def http_date(stamp):
    return email.utils.formatdate(stamp, usegmt=True)


@contextlib.contextmanager
def allow_networks(value):
    """Set GITES_ICAL_ALLOWED_NETWORKS for the block."""
    with mock.patch.dict(os.environ, {ical_fetch.ALLOWED_NETWORKS_ENV: value}):
        yield


def serve_feeds(testcase, allowed="127.0.0.1/32"):
    """A :class:`FeedServer` for the test, the fetcher allowed to reach
    ``allowed`` (GITES_ICAL_ALLOWED_NETWORKS)."""
    server = testcase.enterContext(FeedServer())
    testcase.enterContext(allow_networks(allowed))
    return server


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False
