"""The webhook server (``ASEM_WEBHOOK_URL``): Telegram's updates by HTTP POST, and nothing else.

python-telegram-bot's own webhook server reads a request's whole body (tornado's default
allows 100 MB) before it checks the secret, and bounds neither the number of connections nor
how long one may sit idle. :class:`WebhookUpdater` is PTB's Updater with its server replaced by
:class:`WebhookServer`, which:

* checks ``X-Telegram-Bot-Api-Secret-Token`` (in constant time) as soon as the headers are
  in, before one byte of the body is read: a missing or wrong secret gets 403 and the
  connection is closed, so its body is never read;
* refuses a body over :data:`MAX_UPDATE_BYTES` with 413, from its ``Content-Length`` before
  reading it, or while streaming a chunked one, and never holds more than that in memory;
* keeps at most :data:`MAX_CONNECTIONS` connections open: when a new one comes and all are
  taken, the one idle longest (no request in progress) is closed to make room, so a flood of
  idle or half-open connections cannot lock Telegram out; when none is idle, the new one is
  closed at once;
* closes a connection that has not sent a request's headers within :data:`IDLE_TIMEOUT`
  seconds, or a body within :data:`BODY_TIMEOUT`;
* logs neither the secret, nor a request's headers or body.

It speaks plain HTTP: run it behind a TLS-terminating reverse proxy (Telegram only posts to
HTTPS), and let only the proxy reach ``ASEM_WEBHOOK_LISTEN:ASEM_WEBHOOK_PORT``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot, Updater
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1024 * 1024
"""The largest request body taken (1 MiB). Telegram documents no size for an update, but
everything in one is bounded: a message's text or caption at 4,096 or 1,024 characters, its
entities, the message it replies to (without that one's own reply), a quote of at most 1,024
characters, a keyboard of at most 100 buttons. A real update is a few kilobytes; 1 MiB is
hundreds of times that."""

MAX_CONNECTIONS = 100
"""Connections open at once. Telegram opens at most ``max_connections`` (40, set with
setWebhook); a reverse proxy in front needs about as many. Each costs a file descriptor."""

IDLE_TIMEOUT = 10.0
"""Seconds a connection may take to send a request's headers (a new connection, or a
kept-alive one between requests) before it is closed."""

BODY_TIMEOUT = 10.0
"""Seconds a request may take to send its body (at most MAX_UPDATE_BYTES) once its headers
are in."""

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """The HTTP server for Telegram's updates: ``url_path`` only, POST only, secret first.

    Has the interface PTB's Updater expects of its server (``serve_forever``, ``shutdown``,
    ``is_running``)."""

    def __init__(
        self,
        listen: str,
        port: int,
        url_path: str,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret_token: str,
        *,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        max_body_bytes: int = MAX_UPDATE_BYTES,
    ) -> None:
        if not secret_token:
            raise ValueError("the webhook needs a secret token")
        self.listen = listen
        self.port = port
        self.is_running = False
        self.connections = _Connections(max_connections)
        app = _App(
            [  # every path: another one is refused (404) without reading its body either
                (
                    r".*",
                    UpdateHandler,
                    {
                        "path": "/" + url_path.strip("/"),
                        "bot": bot,
                        "update_queue": update_queue,
                        "secret": secret_token.encode("ascii"),
                        "max_body_bytes": max_body_bytes,
                        "connections": self.connections,
                    },
                )
            ]
        )
        self._http = _BoundedHTTPServer(
            app,
            idle_connection_timeout=idle_timeout,
            body_timeout=body_timeout,
            # The handler refuses a larger body first, with 413; this is tornado's own guard
            # (it answers 400), for a chunked body whose chunks announce more.
            max_body_size=max_body_bytes,
            max_header_size=16 * 1024,
        )
        self._http.connections = self.connections

    async def serve_forever(self, ready: asyncio.Event | None = None) -> None:
        """Start listening (it serves from the event loop; this returns at once)."""
        self._http.listen(self.port, address=self.listen)
        self.is_running = True
        if ready is not None:
            ready.set()

    async def shutdown(self) -> None:
        if not self.is_running:
            return
        self.is_running = False
        self._http.stop()
        await self._http.close_all_connections()


class _App(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: it would name every refused request of a flood."""


class _Connections:
    """The open connections, in the order they were last active, and which are busy."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.last_active: dict[IOStream, float] = {}
        self.busy: set[IOStream] = set()
        self.evicted = 0
        self.refused = 0

    def admit(self, stream: IOStream) -> bool:
        """Make room for ``stream``: close the connection idle longest if all are taken.
        False when every connection is busy: then ``stream`` must be closed."""
        for old in [s for s in self.last_active if s.closed()]:
            self.forget(old)
        while len(self.last_active) >= self.limit:
            idle = next((s for s in self.last_active if s not in self.busy), None)
            if idle is None:
                self.refused += 1
                return False
            self.forget(idle)
            idle.close()
            self.evicted += 1
        self.last_active[stream] = time.monotonic()
        return True

    def start(self, stream: IOStream) -> None:
        self.busy.add(stream)

    def finish(self, stream: IOStream) -> None:
        self.busy.discard(stream)
        if stream in self.last_active:  # now the most recently active: last to be evicted
            del self.last_active[stream]
            self.last_active[stream] = time.monotonic()

    def forget(self, stream: IOStream) -> None:
        self.last_active.pop(stream, None)
        self.busy.discard(stream)

    def __len__(self) -> int:
        return sum(1 for s in self.last_active if not s.closed())


class _BoundedHTTPServer(HTTPServer):
    """tornado's HTTPServer, with at most ``connections.limit`` connections open."""

    connections: _Connections

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if not self.connections.admit(stream):
            stream.close()
            return
        super().handle_stream(stream, address)


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST one update: the secret and the size are checked before the body is read."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(
        self,
        path: str,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret: bytes,
        max_body_bytes: int,
        connections: _Connections,
    ) -> None:
        self.path = path
        self.bot = bot
        self.update_queue = update_queue
        self.secret = secret
        self.max_body_bytes = max_body_bytes
        self.connections = connections
        self.chunks: list[bytes] = []
        self.size = 0
        self.refused = False
        self._body_read = False
        self.stream: IOStream | None = getattr(self.request.connection, "stream", None)

    def prepare(self) -> None:
        if self.stream is not None:
            self.connections.start(self.stream)
        if self.request.path.rstrip("/") != self.path.rstrip("/"):
            self.refuse(HTTPStatus.NOT_FOUND)
            return
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            self.refuse(HTTPStatus.FORBIDDEN)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            self.refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)

    def refuse(self, status: HTTPStatus) -> None:
        """Answer ``status`` now; tornado then closes the connection without reading on."""
        self.refused = True
        self.chunks.clear()
        connection = self.request.connection
        if not self._body_read and isinstance(connection, HTTP1Connection):
            # The body is not read: the connection closes once the answer is out. Without
            # this, tornado would check an announced length against its limit too, and
            # add a "400 Bad Request" after this answer.
            connection.set_max_body_size(2**62)
        self.set_status(status)
        self.finish()

    def data_received(self, chunk: bytes) -> None:
        if self.refused:
            return
        self.size += len(chunk)
        if self.size > self.max_body_bytes:  # a chunked body, or one longer than it said
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        self.chunks.append(chunk)

    async def post(self) -> None:
        self._body_read = True
        if self.refused:
            return
        body, self.chunks = b"".join(self.chunks), []
        try:
            data = json.loads(body)
        except ValueError:
            self.refuse(HTTPStatus.BAD_REQUEST)
            return
        if not isinstance(data, dict):
            self.refuse(HTTPStatus.BAD_REQUEST)
            return
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:
            # Answered 200 all the same: Telegram would otherwise send it again and again.
            # Logged without its content, which is people's messages.
            update_id = data.get("update_id")
            log.warning(
                "skipped an update the bot cannot read (update_id %s): %s",
                update_id if isinstance(update_id, int) else "unknown",
                type(exc).__name__,
            )
            update = None
        if update is not None:
            if isinstance(self.bot, ExtBot):
                self.bot.insert_callback_data(update)
            await self.update_queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()

    def on_finish(self) -> None:
        if self.stream is not None:
            self.connections.finish(self.stream)

    def on_connection_close(self) -> None:
        if self.stream is not None:
            self.connections.forget(self.stream)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        log.warning("webhook request failed: %s", typ.__name__ if typ else "unknown error")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """An empty body: nothing about the bot is told to whoever asks."""
        self.finish()


class WebhookUpdater(Updater):
    """PTB's Updater, serving the webhook with :class:`WebhookServer` instead of its own."""

    async def _start_webhook(  # type: ignore[override]
        self,
        listen: str,
        port: int,
        url_path: str,
        bootstrap_retries: int,
        allowed_updates: Sequence[str] | None,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        drop_pending_updates: bool | None = None,
        webhook_url: str | None = None,
        ready: asyncio.Event | None = None,
        ip_address: str | None = None,
        max_connections: int = 40,
        secret_token: str | None = None,
        unix: Any = None,
    ) -> None:
        if cert is not None or key is not None or unix is not None:
            raise ValueError("this webhook server speaks plain HTTP on a TCP port only")
        if not webhook_url or not secret_token:
            raise ValueError("the webhook needs its public URL and a secret token")
        server = WebhookServer(listen, port, url_path, self.bot, self.update_queue, secret_token)
        self._httpd = server  # type: ignore[assignment]  # what Updater.stop shuts down
        # Listening first: Telegram may post as soon as setWebhook returns.
        await server.serve_forever()
        try:
            await self._bootstrap(
                max_retries=bootstrap_retries,
                drop_pending_updates=drop_pending_updates,
                webhook_url=webhook_url,
                allowed_updates=allowed_updates,
                ip_address=ip_address,
                max_connections=max_connections,
                secret_token=secret_token,
            )
        except BaseException:
            await server.shutdown()
            self._httpd = None
            raise
        if ready is not None:
            ready.set()
