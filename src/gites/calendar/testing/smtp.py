"""A real SMTP server for tests (aiosmtpd), on 127.0.0.1 and a free port.

::

    server = SmtpServer().start()
    ...                      # code sends to server.host:server.port
    server.messages          # [(envelope recipients, parsed EmailMessage)]
    server.mode = "tempfail" # answer 451 to DATA; "reject": 554 to RCPT
    server.stop()

The port is the one the kernel gave to the listening socket (port 0), so
parallel test runs never meet and there is no probe-then-bind race.
"""

import email
from email import policy
import threading

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
OK = "ok"
TEMPFAIL = "tempfail"  # 451 at DATA: "try again later"
REJECT = "reject"  # 554 at RCPT: recipient refused


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if self.server.mode == REJECT:
            return "554 5.7.1 Recipient refused (test server)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.mode == TEMPFAIL:
            return "451 4.3.0 Try again later (test server)"
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.server.lock:
            self.server.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self):
        # Asked for port 0: learn the real one before aiosmtpd connects to it.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(self, mode=OK):
        self.mode = mode
        self.messages = []
        self.lock = threading.Lock()
        self._controller = None

    @property
    def host(self):
        return HOST

    @property
    def port(self):
        return self._controller.port

    def start(self):
        # decode_data=False keeps the raw bytes: the tests check the encoding.
        self._controller = _Controller(_Handler(self), hostname=HOST, port=0)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()

    def clear(self):
        with self.lock:
            self.messages.clear()

    def env(self):
        """The environment variables pointing the settings at this server."""
        return {"GITES_SMTP_HOST": HOST, "GITES_SMTP_PORT": str(self.port)}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def free_port():
    """A port on which nothing listens (for "SMTP server down")."""
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
