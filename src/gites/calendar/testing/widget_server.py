"""A tiny HTTP server for the calendar widget's browser tests (no Plone).

It serves ``browser/static``, a few test pages and mock ``days``/``save``
endpoints that behave like the Plone views of the contract described in
docs/calendar-widget.rst, backed by an in-memory dict.  Every POST is
recorded so tests can assert on what the widget really sent.
"""

import datetime
import html
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import mimetypes
import pathlib
import threading
import urllib.parse

from gites.calendar import browser
from gites.calendar.clock import add_months

STATIC_DIR = pathlib.Path(browser.__file__).resolve().parent / "static"
TODAY = "2027-03-10"
AUTHENTICATOR = "s3cr3t-token"
TYPES = ("loue", "indisp", "libre")

# Stored rows per cottage (heb_pk -> {day: type}) when a test starts.
INITIAL_DAYS = {
    "12": {
        "2027-03-03": "loue",
        "2027-03-04": "loue",
        "2027-03-15": "loue",
        "2027-03-24": "indisp",
        "2027-03-25": "indisp",
        "2027-04-02": "loue",
        "2027-05-12": "loue",
    },
    "13": {"2027-03-18": "indisp"},
}

TITLES = {"12": "Gîte du Moulin", "13": "Gîte des Hêtres"}


def _attrs(**values):
    """data-* attributes, escaped; underscores become dashes."""
    return " ".join(
        f'data-{name.replace("_", "-")}="{html.escape(str(value))}"'
        for name, value in values.items()
        if value is not None
    )


PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/calendar.css">
<script defer src="/static/calendar.js"></script>
<style>
body {{ margin: 0; padding: 24px 32px; background: #f6f7f9;
       font-family: system-ui, sans-serif; color: #1f2937; }}
section {{ background: #fff; border-radius: 12px; padding: 20px 24px; margin-bottom: 24px;
          box-shadow: 0 1px 3px rgba(0, 0, 0, .08); max-width: 760px; }}
h1, h2 {{ margin: 0 0 16px; font-size: 1.2rem; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


class WidgetServer:
    """Start with ``start()``, stop with ``stop()``; ``url`` is the base URL."""

    def __init__(self, today=TODAY, authenticator=AUTHENTICATOR):
        self.today = datetime.date.fromisoformat(today)
        self.authenticator = authenticator
        self.lock = threading.Lock()
        self.httpd = None
        self.thread = None
        self.reset()

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.widget = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.httpd = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self):
        with self.lock:
            self.days = {pk: dict(rows) for pk, rows in INITIAL_DAYS.items()}
            self.calls = []  # POSTs to /save: {"form": {...}, "content_type": ..., "status": ...}
            self.day_requests = []  # query dicts of GETs to the days endpoints
            self.fail_next = None  # (status, body, content_type) for the next save

    # -- endpoints ---------------------------------------------------------

    def owner_days(self, pk):
        rows = sorted(self.days.get(pk, {}).items())
        return {"rented": [day for day, _ in rows], "type": [kind for _, kind in rows]}

    def public_days(self, pk, query):
        """Busy days from max(first of month, today) for ``range`` months, like the spec."""
        try:
            first = datetime.date(int(query["year"]), int(query["month"]), 1)
            months = int(query.get("range", "3"))
        except (KeyError, ValueError):
            first, months = self.today.replace(day=1), 3
        start = max(first, self.today)
        end = add_months(first, months)
        return {
            "rented": sorted(
                day for day in self.days.get(pk, {}) if start.isoformat() <= day < end.isoformat()
            )
        }

    def save(self, form, content_type):
        """Validate and apply one range like the Plone ``addRange`` view: (status, body, type)."""
        with self.lock:
            call = {"form": form, "content_type": content_type}
            self.calls.append(call)
            if self.fail_next is not None:
                status, body, ctype = self.fail_next
                self.fail_next = None
                call["status"] = status
                return status, body, ctype
            status, payload = self._validate_and_apply(form)
            call["status"] = status
            return status, json.dumps(payload), "application/json"

    def _validate_and_apply(self, form):
        if form.get("_authenticator") != self.authenticator:
            return 403, {"error": "Jeton de sécurité invalide, rechargez la page."}
        pk = form.get("hebPk", "")
        if pk not in self.days:
            return 403, {"error": "Ce gîte n'est pas le vôtre."}
        kind = form.get("type")
        if kind not in TYPES:
            return 400, {"error": "Type de période inconnu."}
        try:
            start = datetime.date.fromisoformat(form.get("start", ""))
            end = datetime.date.fromisoformat(form.get("end", ""))
        except ValueError:
            return 400, {"error": "Dates invalides."}
        if start > end:
            return 400, {"error": "La date de début suit la date de fin."}
        if start < self.today:
            return 400, {"error": "Impossible de modifier des jours passés."}
        rows = self.days[pk]
        day = start
        while day <= end:
            if kind == "libre":
                rows.pop(day.isoformat(), None)
            else:
                rows[day.isoformat()] = kind
            day += datetime.timedelta(days=1)
        return 200, {"ok": True}

    # -- pages -------------------------------------------------------------

    def widget_attrs(self, pk, query, editable=True, months=2):
        today = query.get("today", self.today.isoformat())
        values = {
            "days_url": f"/days?hebPk={pk}" if editable else f"/public-days?hebPk={pk}",
            "save_url": "/save" if editable else None,
            "heb_pk": pk if editable else None,
            "authenticator": query.get("auth", self.authenticator) if editable else None,
            "months": months,
            "start_month": query.get("start", "2027-03"),
            "today": today,
            "title": f"Calendrier pour {pk} - {TITLES[pk]}",
        }
        return _attrs(**values)

    def page(self, name, query):
        if name == "page.html":
            body = (
                "<section><h1>Calendrier pour 12 - Gîte du Moulin</h1>"
                f'<div id="editable" class="gites-calendar" {self.widget_attrs("12", query)}>'
                "</div></section>"
                "<section><h2>Calendrier public</h2>"
                f'<div id="readonly" class="gites-calendar" '
                f"{self.widget_attrs('12', query, editable=False)}></div></section>"
            )
        elif name == "multical.html":
            rows = "".join(
                f'<div id="row-{pk}" class="gites-calendar" data-toolbar="#types" '
                f"{self.widget_attrs(pk, query, months=1)}></div>"
                for pk in ("12", "13")
            )
            body = f'<section><h1>Mes calendriers</h1><div id="types"></div>{rows}</section>'
        elif name == "blank.html":
            body = '<section id="host"></section>'
        else:
            return None
        return PAGE.format(title=name, body=body)


class _Handler(BaseHTTPRequestHandler):
    server_version = "WidgetTest/1.0"

    def log_message(self, format, *args):  # noqa: A002 -- keep test output quiet
        pass

    @property
    def widget(self):
        return self.server.widget

    def _send(self, status, body, content_type):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status, payload):
        self._send(status, json.dumps(payload), "application/json")

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        path = parsed.path
        widget = self.widget
        if path.startswith("/static/"):
            self._static(path[len("/static/") :])
        elif path in ("/days", "/public-days"):
            with widget.lock:
                widget.day_requests.append(dict(query, path=path))
                pk = query.get("hebPk", "")
                if path == "/days":
                    payload = widget.owner_days(pk)
                else:
                    payload = widget.public_days(pk, query)
            self._json(200, payload)
        else:
            page = widget.page(path.lstrip("/") or "page.html", query)
            if page is None:
                self._send(404, "not found", "text/plain")
            else:
                self._send(200, page, "text/html; charset=utf-8")

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/save":
            self._send(404, "not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        content_type = self.headers.get("Content-Type", "")
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        status, body, ctype = self.widget.save(form, content_type)
        self._send(status, body, ctype)

    def _static(self, name):
        target = (STATIC_DIR / name).resolve()
        if STATIC_DIR not in target.parents or not target.is_file():
            self._send(404, "not found", "text/plain")
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        self._send(200, target.read_bytes(), ctype)


if __name__ == "__main__":  # pragma: no cover -- handy for looking at the widget by hand
    server = WidgetServer().start()
    print(f"{server.url}/page.html  {server.url}/multical.html  (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
