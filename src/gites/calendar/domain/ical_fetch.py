"""Fetching an owner's iCal feed URL without letting it reach our own network.

A feed URL is typed by an owner, so it is untrusted: it could point at the
database, the broker or a cloud metadata service (SSRF).  :func:`fetch`

* accepts ``http://``, ``https://`` and ``webcal://`` (which means https);
* resolves the host once, refuses it if *any* of its addresses is loopback,
  private, link-local, multicast, unspecified, reserved or otherwise not
  global (IPv4-mapped IPv6 addresses are judged as the IPv4 address they
  carry), then connects to that very address: no second lookup, so a DNS
  answer that changes between check and connect (DNS rebinding) cannot
  slip through;
* follows at most :data:`MAX_REDIRECTS` redirects, each checked the same way;
* stops after :data:`DEADLINE` seconds in total (resolution, connection,
  redirects and body: the DNS lookup runs in a small pool of its own and is
  abandoned at the deadline), and reads the body in chunks up to
  :data:`MAX_BYTES`;
* sends ``If-None-Match`` / ``If-Modified-Since`` when it has them, so an
  unchanged feed answers 304 with no body;
* names the project in its ``User-Agent``.

``GITES_ICAL_ALLOWED_NETWORKS`` (comma-separated CIDRs, empty by default) is
for tests only: it lets exactly those networks through (for example
``127.0.0.1/32`` for a local test server); every other address is still
judged as above, at every hop.  Never set it in production.

Failures raise :class:`FetchError`, whose ``code`` names the kind (shown to
the owner in plain words by :data:`ERROR_TEXTS`) and whose ``str()`` is one
line for logs.
"""

import concurrent.futures
import dataclasses
import http.client
import ipaddress
import os
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 5
DEADLINE = 15.0  # seconds, the whole fetch
MAX_BYTES = 2 * 1024 * 1024
CHUNK = 64 * 1024
USER_AGENT = "gites.calendar-ical-import/2.0 (+https://www.gitesdewallonie.be; Gites de Wallonie)"
ALLOWED_NETWORKS_ENV = "GITES_ICAL_ALLOWED_NETWORKS"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="ical-dns")
DEFAULT_PORTS = {"http": 80, "https": 443}

# FetchError codes
BAD_URL = "bad_url"
FORBIDDEN_ADDRESS = "forbidden_address"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
HTTP_STATUS = "http_status"
TOO_LARGE = "too_large"
TOO_MANY_REDIRECTS = "too_many_redirects"


class FetchError(Exception):
    def __init__(self, code, detail, status=None):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


@dataclasses.dataclass(frozen=True)
class FetchResult:
    status: int  # 200, or 304 (not modified: body is empty)
    body: bytes
    etag: str | None
    last_modified: str | None
    url: str  # the URL finally answered (after redirects)

    @property
    def not_modified(self):
        return self.status == 304


def allowed_networks(environ=None):
    """The networks of ``GITES_ICAL_ALLOWED_NETWORKS`` (tests only)."""
    value = (environ if environ is not None else os.environ).get(ALLOWED_NETWORKS_ENV, "")
    networks = []
    for item in value.split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=True))
            except ValueError:
                raise FetchError(BAD_URL, f"{ALLOWED_NETWORKS_ENV}: not a network: {item!r}")
    return tuple(networks)


def refusal(address, allowed=()):
    """Why ``address`` (str or ip_address) may not be fetched, or None if it may.

    The only judge of addresses: nothing here opens a connection.
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # Scope ids (fe80::1%eth0) do not change the judgement.
        ip = ipaddress.IPv6Address(ip.packed)
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    for attribute, reason in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attribute):
            return f"{reason} address {ip}"
    if not ip.is_global:  # shared (100.64/10), documentation, 6to4 of private...
        return f"non-public address {ip}"
    return None


def split_url(url):
    """(scheme, host, port, path+query) of an accepted feed URL, or FetchError."""
    if not isinstance(url, str) or not url.strip():
        raise FetchError(BAD_URL, "empty address")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchError(BAD_URL, f"malformed address: {error}") from None
    scheme = parts.scheme.lower()
    if scheme == "webcal":
        scheme = "https"
    if scheme not in DEFAULT_PORTS:
        raise FetchError(BAD_URL, f"scheme {parts.scheme or '(none)'!r} is not http(s)")
    if parts.username is not None or parts.password is not None:
        raise FetchError(BAD_URL, "addresses with a user name or password are not accepted")
    host = parts.hostname
    if not host:
        raise FetchError(BAD_URL, "no host in the address")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or DEFAULT_PORTS[scheme], path


def normalize_url(url):
    """The URL as stored: ``webcal://`` becomes ``https://``; FetchError if refused."""
    split_url(url)
    url = url.strip()
    if url[:7].lower() == "webcal:":
        url = "https:" + url[7:]
    return url


def resolve(host, port, allowed, deadline):
    """The one address to connect to; FetchError unless every address is fine."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        # getaddrinfo has no timeout of its own: it runs in the resolver
        # pool and is waited for only until the deadline.
        lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            infos = lookup.result(timeout=_left(deadline))
        except concurrent.futures.TimeoutError:
            lookup.cancel()
            raise FetchError(TIMEOUT, f"no answer from the DNS for {host} in time") from None
        except (socket.gaierror, UnicodeError) as error:
            raise FetchError(UNREACHABLE, f"cannot resolve {host}: {error}") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses:
            raise FetchError(UNREACHABLE, f"cannot resolve {host}")
    for address in addresses:
        reason = refusal(address, allowed)
        if reason:
            raise FetchError(FORBIDDEN_ADDRESS, f"{host}: {reason}")
    return addresses[0]


def _left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(TIMEOUT, f"no complete answer within {DEADLINE:g} s")
    return left


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while naming the host in ``Host``."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(self, host, port, address, timeout, context):
        super().__init__(host, port, address, timeout)
        self._context = context

    def connect(self):
        super().connect()
        # Certificate checked against the host name, not the address.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


_TLS = ssl.create_default_context()


def _one_request(scheme, host, port, path, address, headers, deadline):
    timeout = _left(deadline)
    if scheme == "https":
        conn = _PinnedHTTPSConnection(host, port, address, timeout, _TLS)
    else:
        conn = _PinnedHTTPConnection(host, port, address, timeout)
    try:
        conn.request("GET", path, headers=headers)
        conn.sock.settimeout(_left(deadline))
        response = conn.getresponse()
        return conn, response
    except BaseException:
        conn.close()
        raise


def _read_body(conn, response, deadline, max_bytes):
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise FetchError(TOO_LARGE, f"announced {int(length)} bytes, more than {max_bytes}")
    chunks = []
    size = 0
    while True:
        conn.sock.settimeout(_left(deadline))
        chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(TOO_LARGE, f"more than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(url, etag=None, last_modified=None, allowed=None, max_bytes=MAX_BYTES, timeout=None):
    """GET a feed URL safely; a :class:`FetchResult` or :class:`FetchError`.

    ``allowed``: networks let through (default: from the environment, tests
    only).  ``timeout``: the total deadline in seconds (default DEADLINE).
    """
    if allowed is None:
        allowed = allowed_networks()
    deadline = time.monotonic() + (DEADLINE if timeout is None else timeout)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    headers["Accept-Encoding"] = "identity"
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        scheme, host, port, path = split_url(current)
        address = resolve(host, port, allowed, deadline)
        conn = None
        try:
            conn, response = _one_request(scheme, host, port, path, address, headers, deadline)
            status = response.status
            if status in REDIRECT_STATUSES:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(HTTP_STATUS, f"redirect {status} without Location", status)
                current = urljoin(current, location.strip())
                continue
            if status == 304:
                return FetchResult(304, b"", etag, last_modified, current)
            if status != 200:
                raise FetchError(HTTP_STATUS, f"HTTP {status} {response.reason}", status)
            body = _read_body(conn, response, deadline, max_bytes)
            return FetchResult(
                200,
                body,
                response.getheader("ETag"),
                response.getheader("Last-Modified"),
                current,
            )
        except TimeoutError:
            raise FetchError(TIMEOUT, f"no complete answer within the deadline from {host}")
        except ssl.SSLError as error:
            raise FetchError(UNREACHABLE, f"TLS error with {host}: {error}") from None
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(UNREACHABLE, f"{host}: {type(error).__name__}: {error}") from None
        finally:
            if conn is not None:
                conn.close()
    raise FetchError(TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects")
