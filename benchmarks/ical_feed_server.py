"""The feeds of the iCal import benchmark: N Airbnb-shaped feeds over HTTP (a subprocess).

``GET /feed/<n>.ics`` answers feed ``n`` of the current generation (50
all-day events from today, 2-4 nights each, shifted by the generation);
``ETag`` names the generation, so a conditional request answers 304 until
``GET /_bump`` starts the next generation (every feed changed).  Prints
``listening <port>`` once ready.
"""

import argparse
import datetime
import http.server
import sys
import threading

from gites.calendar.testing.http import send_answer

STATE = {"generation": 1}
LOCK = threading.Lock()


def feed(n, generation, events, today):
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID;X-RICAL-TZSOURCE=TZINFO:-//Airbnb Inc//Hosting Calendar 1.0//EN",
        "CALSCALE:GREGORIAN",
        "VERSION:2.0",
    ]
    for e in range(events):
        first = today + datetime.timedelta(days=1 + e * 7 + (n + generation) % 3)
        checkout = first + datetime.timedelta(days=2 + (n + e) % 3)
        summary = "Reserved" if e % 4 else "Airbnb (Not available)"
        lines += [
            "BEGIN:VEVENT",
            f"DTEND;VALUE=DATE:{checkout:%Y%m%d}",
            f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
            f"UID:{n:08x}-{e:04x}-{generation:04x}@airbnb.com",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    today = datetime.date.today()
    cache = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == "/_bump":
                with LOCK:
                    STATE["generation"] += 1
                    cache.clear()
                return self.answer(200, b"ok")
            try:
                n = int(self.path.rsplit("/", 1)[1].split(".")[0])
            except (IndexError, ValueError):
                return self.answer(404, b"no such feed")
            generation = STATE["generation"]
            etag = f'"g{generation}"'
            if self.headers.get("If-None-Match") == etag:
                return self.answer(304, b"", etag)
            body = cache.get(n)
            if body is None:
                body = cache[n] = feed(n, generation, args.events, today)
            return self.answer(200, body, etag)

        def answer(self, status, body, etag=None):
            content_type = "text/calendar; charset=utf-8" if status == 200 else None
            send_answer(self, status, body, content_type, [("ETag", etag)])

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", args.port), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
