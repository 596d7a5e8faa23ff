"""The SIP2 TCP server: one thread per self-service machine.

The circulation services are synchronous Django ORM code, so each connection gets its own
thread (``socketserver.ThreadingTCPServer``) and, through Django, its own database connection.
A connection's thread reads CR-terminated frames, answers each through ``handlers``, and on the
way out (the machine hung up, the line dropped, too many bad frames or failed logins, no login
within ``login_timeout``, idle too long, the server stopping) closes its database connection. Nothing one connection does can stop
another: every error is caught at the frame (``handlers.handle_frame``) or the connection.

Database connections follow Django's request cycle: ``close_old_connections`` before and
after every message (so ``CONN_MAX_AGE`` and health checks apply), and a connection whose
machine is quiet for ``DB_RELEASE_AFTER`` seconds gives its database connection back, so a
region's hundreds of idle machines do not hold hundreds of PostgreSQL connections.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
import time

from django.db import close_old_connections, connection

from bieb.circulation.sip2.handlers import handle_frame
from bieb.circulation.sip2.protocol import MAX_FRAME_BYTES
from bieb.circulation.sip2.session import Session

log = logging.getLogger("bieb.circulation.sip2")

DEFAULT_PORT = 6001
#: a machine quiet this long gives its database connection back (seconds)
DB_RELEASE_AFTER = 30.0
#: a machine quiet this long is disconnected (seconds); it reconnects and logs in again
IDLE_TIMEOUT = 30 * 60.0
#: a connection not logged in this long after it connected (or was logged out) is closed
#: (seconds), however much it sends: only a logged-in machine may hold a connection for long
LOGIN_TIMEOUT = 30.0
MAX_CONNECTIONS = 500


class Sip2Handler(socketserver.BaseRequestHandler):
    server: Sip2Server

    def setup(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # notice a dead line
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames, answer now

    def handle(self) -> None:
        host, port = self.client_address[:2]
        session = Session(peer=f"{host}:{port}", encoding=self.server.encoding)
        log.info("sip2 %s: connected", session.peer)
        reason = "machine hung up"
        try:
            reason = self._serve(session)
        except OSError as exc:  # reset by peer, broken pipe, ...
            reason = f"connection lost ({exc.__class__.__name__})"
        except Exception:  # never let one connection's failure reach the server
            log.exception("sip2 %s %s: connection failed", session.peer, session.login)
            reason = "error"
        finally:
            connection.close()
            log.info("sip2 %s %s: disconnected (%s)", session.peer, session.login, reason)

    def _serve(self, session: Session) -> str:
        sock: socket.socket = self.request
        buffer = b""
        discarding = False  # inside an over-long frame: drop bytes up to its CR
        heard = time.monotonic()  # when the machine last sent anything
        anonymous_since: float | None = heard  # not logged in since then (None: logged in)
        while not self.server.stopping.is_set():
            end = buffer.find(b"\r")
            if end == -1:
                if len(buffer) > MAX_FRAME_BYTES:
                    if not discarding:
                        discarding = True
                        if not self._answer(session, buffer):
                            return "too many bad frames"
                    buffer = b""
                now = time.monotonic()
                if session.logged_in:
                    anonymous_since = None
                elif anonymous_since is None:  # logged out (switched off, or a failed 93)
                    anonymous_since = now
                wait = min(DB_RELEASE_AFTER, self.server.idle_timeout - (now - heard))
                if anonymous_since is not None:
                    login_left = self.server.login_timeout - (now - anonymous_since)
                    if login_left <= 0:
                        return f"not logged in within {self.server.login_timeout:g} s"
                    wait = min(wait, login_left)
                if wait <= 0:
                    return "idle too long"
                sock.settimeout(wait)
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    connection.close()  # quiet machine: give the database connection back
                    continue
                if not chunk:
                    return "server stopping" if self.server.stopping.is_set() else "machine hung up"
                heard = time.monotonic()
                buffer += chunk
                continue
            frame, buffer = buffer[:end], buffer[end + 1 :]
            if discarding:
                discarding = False
                continue
            if not self._answer(session, frame):
                return "closed by server (too many bad frames or failed logins)"
        return "server stopping"

    def _answer(self, session: Session, frame: bytes) -> bool:
        """Answer one frame; False when the connection must close afterwards."""
        close_old_connections()
        try:
            outcome = handle_frame(session, frame)
        finally:
            close_old_connections()
        if outcome.frame:
            self.request.sendall(outcome.frame)
        return not outcome.close


class Sip2Server(socketserver.ThreadingTCPServer):
    """``Sip2Server((host, port))``, then ``serve_forever()``; ``stop()`` from another thread
    (or after ``serve_forever`` returned) closes every machine's connection and waits for
    their threads."""

    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        encoding: str = "utf-8",
        idle_timeout: float = IDLE_TIMEOUT,
        login_timeout: float = LOGIN_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        "".encode(encoding)  # an unknown encoding fails here, not at the first machine
        self.encoding = encoding
        self.idle_timeout = idle_timeout
        self.login_timeout = login_timeout
        self.max_connections = max_connections
        self.stopping = threading.Event()
        self._serving = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        super().__init__(address, Sip2Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def connections(self) -> int:
        """Machines connected now."""
        with self._lock:
            return len(self._open)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._serving = True
        super().serve_forever(poll_interval)

    def verify_request(self, request, client_address) -> bool:
        with self._lock:
            if len(self._open) >= self.max_connections:
                log.warning(
                    "sip2 %s: refused, %s connections open", client_address[0], len(self._open)
                )
                return False
            self._open.add(request)
        return True

    def shutdown_request(self, request) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        """Stop accepting, close the machines' connections, wait for their threads."""
        self.stopping.set()
        if self._serving:
            self.shutdown()
        with self._lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.server_close()


def serve(
    host: str,
    port: int,
    *,
    encoding: str = "utf-8",
    idle_timeout: float = IDLE_TIMEOUT,
    login_timeout: float = LOGIN_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    ready=None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM). ``ready(server)`` is called once the
    socket listens (the command prints the address)."""
    import signal

    server = Sip2Server(
        (host, port),
        encoding=encoding,
        idle_timeout=idle_timeout,
        login_timeout=login_timeout,
        max_connections=max_connections,
    )

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if in_main else None
    try:
        if ready is not None:
            ready(server)
        log.info("sip2: listening on %s:%s", host, server.port)
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("sip2: stopping")
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        server.stop()
