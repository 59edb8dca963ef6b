"""The webhook (``ASEM_WEBHOOK_URL``) under hostile traffic: the real ``asem-bot run`` in a
subprocess, the fake Bot API server posting real updates to it over HTTP, and raw sockets
doing what an attacker without the secret can do."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.telegram.webhook import MAX_CONNECTIONS, MAX_UPDATE_BYTES, WebhookServer

try:
    from tests.fakes.bot_api import FakeBotApi, post_update_to_webhook
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi, post_update_to_webhook

SECRET = "webhook-Secret_0123456789abcdef"
USER = 8_137_264_519  # distinctive, so that it can be looked for in the log
PATH = "/asem-hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebhookBot:
    api: FakeBotApi
    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def stop(self) -> str:
        """SIGTERM; the log it wrote (stderr)."""
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, stderr
        return stderr


@pytest.fixture
def webhook_bot(tmp_path: Path) -> Iterator[WebhookBot]:
    """``asem-bot run`` in webhook mode at DEBUG, registered with the fake server."""
    port = free_port()
    with FakeBotApi() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ASEM_"))}
        env.update(
            NO_PROXY="127.0.0.1,localhost",
            ASEM_DATA_DIR=str(tmp_path / "data"),
            ASEM_CACHE_DIR=os.environ.get("ASEM_CACHE_DIR", str(tmp_path / "cache")),
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            ASEM_WEBHOOK_URL=f"http://127.0.0.1:{port}{PATH}",
            ASEM_WEBHOOK_LISTEN="127.0.0.1",
            ASEM_WEBHOOK_PORT=str(port),
            ASEM_WEBHOOK_SECRET=SECRET,
            ASEM_LOG_LEVEL="DEBUG",
            PYTHONWARNINGS="ignore::DeprecationWarning",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            api.wait_for_sync("setWebhook", timeout=60)
            wait_until_listening(port)
            yield WebhookBot(api, process, port)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert api.errors == []


def wait_until_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def raw_request(port: int, head: str, body: bytes = b"", *, timeout: float = 10) -> bytes:
    """Send ``head`` (request line and headers) and ``body``; what the server answers until
    it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("ascii") + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def post_head(length: int | None, secret: str | None, *, chunked: bool = False) -> str:
    lines = [f"POST {PATH} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return "\r\n".join(lines) + "\r\n"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def send_big_body(port: int, head: str, size: int, held: list[socket.socket]) -> None:
    """Try to send ``size`` bytes after ``head`` and keep the connection open (in ``held``),
    so that a server that read the body would still hold it; this one hangs up."""
    sock = socket.create_connection(("127.0.0.1", port), 10)
    held.append(sock)
    with contextlib.suppress(OSError):
        sock.sendall(head.encode("ascii") + b"\r\n")
        block = b"x" * 65536
        sent = 0
        while sent < size:
            sent += sock.send(block)


def ask(bot: WebhookBot, text: str) -> str:
    """Post a question the way Telegram does (with the secret) and return the answer."""
    mark = bot.api.mark()
    bot.api.send_text(USER, text)
    bot.api.wait_for_sync("sendMessage", timeout=30, after=mark)
    return bot.api.sent_messages(USER)[-1]["text"]


def test_no_secret_or_a_wrong_one_is_refused_before_the_body(webhook_bot: WebhookBot) -> None:
    port = webhook_bot.port
    # The answer comes although the announced 100 MB body is never sent: it was not awaited.
    for secret in (None, "", "wrong", SECRET[:-1], SECRET + "x"):
        answer = raw_request(port, post_head(100_000_000, secret))
        assert answer.startswith(b"HTTP/1.1 403 "), (secret, answer[:80])
    # The right secret, a body too large by its Content-Length: 413, also without reading it.
    answer = raw_request(port, post_head(MAX_UPDATE_BYTES + 1, SECRET))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    # Nothing but POST to the path.
    answer = raw_request(port, post_head(10, SECRET).replace(PATH, "/other"))
    assert answer.startswith(b"HTTP/1.1 404 ")
    answer = raw_request(port, f"GET {PATH} HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 405 ")
    assert SECRET.encode() not in answer
    # Real updates still go through.
    assert "Hanoi" in ask(webhook_bot, "Where was ASEM5 held?")
    assert all(status == 200 for _, status in webhook_bot.api.webhook_deliveries)
    log = webhook_bot.stop()
    assert SECRET not in log  # at DEBUG, where python-telegram-bot would log it
    assert str(USER) not in log and "Hanoi" not in log  # nor who asked, nor what was said
    assert "Calling Bot API endpoint `setWebhook`" in log  # it did log at DEBUG


def test_large_bodies_are_not_read_into_memory(webhook_bot: WebhookBot) -> None:
    pid, port = webhook_bot.process.pid, webhook_bot.port
    assert "Hanoi" in ask(webhook_bot, "Where was ASEM5 held?")  # warmed up
    before = rss_kib(pid)
    heads = [
        post_head(100_000_000, SECRET),  # announced: refused at once
        post_head(100_000_000, None),
        post_head(None, SECRET, chunked=True),  # streamed: refused after MAX_UPDATE_BYTES
        post_head(100_000_000, SECRET),
    ]
    held: list[socket.socket] = []
    senders = [
        threading.Thread(target=send_big_body, args=(port, head, 30_000_000, held))
        for head in heads
    ]
    try:
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=60)
        assert "Hanoi" in ask(webhook_bot, "Where was ASEM5 held?")
        grown = rss_kib(pid) - before
        assert grown < 16 * 1024, f"resident memory grew by {grown} KiB"
    finally:
        for sock in held:
            sock.close()
    assert all(status == 200 for _, status in webhook_bot.api.webhook_deliveries)
    webhook_bot.stop()


def test_a_flood_of_idle_connections_leaves_real_updates_answered(
    webhook_bot: WebhookBot,
) -> None:
    pid, port = webhook_bot.process.pid, webhook_bot.port
    baseline = open_fds(pid)
    flood: list[socket.socket] = []
    try:
        for i in range(3 * MAX_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 2:  # half-open: a request that never finishes its headers
                sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: 127".encode())
            flood.append(sock)
        assert "Hanoi" in ask(webhook_bot, "Where was ASEM5 held?")
        assert "1996" in ask(webhook_bot, "When was the first ASEM summit?")
        # At most MAX_CONNECTIONS from the flood (a few more: the bot's own to the Bot API).
        assert open_fds(pid) <= baseline + MAX_CONNECTIONS + 20
        assert all(status == 200 for _, status in webhook_bot.api.webhook_deliveries)
    finally:
        for sock in flood:
            sock.close()
    webhook_bot.stop()


# -- the server's timeouts, in process ----------------------------------------------------------


async def test_idle_and_half_open_connections_are_closed_after_the_timeout() -> None:
    port = free_port()
    queue: asyncio.Queue[object] = asyncio.Queue()
    server = WebhookServer(
        "127.0.0.1", port, PATH, None, queue, SECRET, idle_timeout=0.5, body_timeout=0.5
    )  # type: ignore[arg-type]
    await server.serve_forever()
    try:

        def closed_by_server(data: bytes) -> float:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
                sock.sendall(data)
                started = time.monotonic()
                while sock.recv(65536):
                    pass
                return time.monotonic() - started

        idle, half_open, slow_body = await asyncio.gather(
            asyncio.to_thread(closed_by_server, b""),
            asyncio.to_thread(closed_by_server, b"POST /asem-hook HTTP/1.1\r\nHost: x"),
            asyncio.to_thread(closed_by_server, (post_head(100, SECRET) + "\r\n").encode() + b"{"),
        )
        assert idle < 15 and half_open < 15 and slow_body < 15  # closed, not left open
        assert queue.empty()
    finally:
        await server.shutdown()


def test_a_port_already_taken_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken, FakeBotApi() as api:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ASEM_"))}
        env.update(
            NO_PROXY="127.0.0.1,localhost",
            ASEM_DATA_DIR=str(tmp_path / "data"),
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            ASEM_WEBHOOK_URL=f"https://bot.example.org{PATH}",
            ASEM_WEBHOOK_LISTEN="127.0.0.1",
            ASEM_WEBHOOK_PORT=str(port),
            ASEM_LOG_LEVEL="ERROR",
        )
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        [line] = result.stderr.strip().splitlines()
        assert f"cannot listen on 127.0.0.1:{port}" in line
        assert not api.calls("setWebhook")  # it listens before it tells Telegram where


def test_an_update_the_bot_cannot_read_is_skipped_with_one_line(webhook_bot: WebhookBot) -> None:
    poison = {"update_id": 900_000_001, "message": {"message_id": 1, "text": "Dara's secret"}}
    assert post_update_to_webhook(webhook_bot.url, poison, SECRET) == 200  # not sent again
    answer = raw_request(webhook_bot.port, post_head(9, SECRET), b"{not json")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert "Hanoi" in ask(webhook_bot, "Where was ASEM5 held?")
    log = webhook_bot.stop()
    [line] = [line for line in log.splitlines() if "cannot read" in line]
    assert "900000001" in line
    assert "Dara" not in log and "Traceback" not in log
