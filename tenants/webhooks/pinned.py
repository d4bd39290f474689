"""HTTP connections to an address ``safe_url.resolve`` approved, never to a second lookup.

A host name can resolve to a public address when checked and to a private one a moment
later (DNS rebinding); connecting to the checked address closes that gap. TLS still checks
the certificate against the host name.
"""

import http.client
import socket
import ssl
import time

from tenants.webhooks.safe_url import Target


class _Pinned:
    address: str
    port: int
    timeout: float | None

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


class PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = self._open()


class PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self.address = address

    def connect(self) -> None:
        self.sock = self._tls.wrap_socket(self._open(), server_hostname=self.host)


def pinned_connection(target: Target, address: str, *, timeout: float) -> http.client.HTTPConnection:
    """An unopened connection to ``target``'s host at one of its checked addresses."""
    connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    return connection_class(target.host, target.port, address, timeout=timeout)


class Deadline:
    """One time limit for a whole exchange: each step may wait only what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; TimeoutError once there are none."""
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining


class CouldNotConnect(OSError):
    """None of the checked addresses accepted a connection; the message says the last error."""


def connect_first(target: Target, *, timeout: float) -> tuple[http.client.HTTPConnection, socket.socket]:
    """An open connection to the first of ``target``'s checked addresses that accepts, and its
    socket (kept: http.client lets go of it once an answer says the connection closes)."""
    last_error = "no address to connect to"
    for address in target.addresses:
        connection = pinned_connection(target, address, timeout=timeout)
        try:
            connection.connect()
        except (OSError, ssl.SSLError) as exc:
            connection.close()
            last_error = f"{type(exc).__name__}: {exc}"
            continue
        assert connection.sock is not None
        return connection, connection.sock
    raise CouldNotConnect(last_error)
