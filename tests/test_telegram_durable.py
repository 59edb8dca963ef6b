"""Nothing lost, nothing doubled, nothing wedged: the real ``asem-bot run`` in a subprocess
against the fake Bot API server, killed, stopped, fed a poison update, and doubled.

The kills are deterministic: the fake loses a chosen request and SIGKILLs the bot while that
request is on the wire (``FakeBotApi.intercept``), and it can lose the getUpdates calls that
would confirm a batch, so after the restart Telegram sends that batch again.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

ALICE, BOB, CAROL, DAVE = 701, 702, 703, 704
START_TIMEOUT = 60.0  # loading the brain in a fresh process, on a busy machine


def question(n: int) -> str:
    return f"Where was ASEM{n} held?"


class BotProcess:
    """``asem-bot run`` against ``api``, its log in a file (a pipe could fill up)."""

    def __init__(self, api: FakeBotApi, data_dir: Path, log: Path, **env: str) -> None:
        self.api = api
        self.data_dir = data_dir
        self.log_path = log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ASEM_"))},
            "NO_PROXY": "127.0.0.1,localhost",
            "ASEM_DATA_DIR": str(data_dir),
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> BotProcess:
        mark = self.api.mark()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        if wait:  # polling: the first getUpdates has come
            self.api.wait_for_sync("getUpdates", timeout=START_TIMEOUT, after=mark)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 20) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds it took."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - began

    def wait(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def bots(api: FakeBotApi, tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """``bots(**env)``: a new ``asem-bot run`` (not started) over the same data folder."""
    made: list[BotProcess] = []

    def make(data_dir: Path | None = None, **env: str) -> BotProcess:
        log = tmp_path / f"bot-{len(made)}.log"
        bot = BotProcess(api, data_dir or tmp_path / "data", log, **env)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()
        assert api.token.split(":")[1] not in bot.log()


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def answers(api: FakeBotApi, chat: int) -> list[str]:
    return [message["text"] for message in api.sent_messages(chat)]


def settled(api: FakeBotApi, expected: dict[int, int], timeout: float = 30.0) -> None:
    """Wait until each chat has its expected number of answers, then make sure no more come."""
    eventually(lambda: all(len(answers(api, c)) >= n for c, n in expected.items()), timeout)
    time.sleep(0.5)
    assert {chat: len(answers(api, chat)) for chat in expected} == expected


def question_log_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "asem-bot.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM question_log").fetchone()[0]


def done_updates(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "asem-bot.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM updates WHERE done_at IS NOT NULL").fetchone()[0]


def health(bot: BotProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- a kill ---------------------------------------------------------------------------------------


def test_a_kill_mid_answer_loses_nothing_and_doubles_nothing(
    api: FakeBotApi, bots: Callable[..., BotProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = bots().start()
    api.send_text(BOB, question(5))
    settled(api, {BOB: 1})
    eventually(lambda: done_updates(data) == 1)
    # From here Telegram never hears that Alice's updates arrived (the confirming getUpdates
    # is lost), and the bot dies while its third answer to her is on the wire.
    with api.batch():
        alice = [api.send_text(ALICE, question(n)) for n in range(1, 6)]
        last = alice[-1]["update_id"]
        api.intercept("getUpdates", when=lambda p: (p.get("offset") or 0) > last, count=None)
        sent_to_alice = itertools.count()
        api.intercept(
            "sendMessage",
            when=lambda p: p.get("chat_id") == ALICE and next(sent_to_alice) == 2,
            then=first.kill,
        )
    assert first.wait() == -signal.SIGKILL
    assert len(answers(api, ALICE)) == 2
    api.stop_intercepting()
    assert {u["update_id"] for u in api.pending_updates()} >= {u["update_id"] for u in alice}

    second = bots().start()  # Telegram sends all five again; two were answered already
    settled(api, {ALICE: 5, BOB: 1})
    for n, text in enumerate(answers(api, ALICE), start=1):
        assert f"ASEM{n}" in text  # each question answered once, in order
    code, _ = second.terminate()
    assert code == 0, second.log()
    assert question_log_rows(data) == 6
    assert "Traceback" not in first.log() + second.log()


# -- a stop with a backlog ------------------------------------------------------------------------


def test_sigterm_with_a_backlog_stops_within_10_s_and_the_rest_comes_after_a_restart(
    api: FakeBotApi, bots: Callable[..., BotProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    bot = bots().start()
    api.delay_next("sendMessage", 1.0, deliver=True, count=1000)  # a slow Telegram
    chats = (ALICE, BOB, CAROL, DAVE)
    for n in range(1, 7):
        for chat in chats:
            api.send_text(chat, question(n))
    eventually(lambda: len(api.calls("sendMessage")) >= 4)
    code, seconds = bot.terminate()
    assert code == 0, bot.log()
    assert seconds < 10, f"took {seconds:.1f} s"
    api.clear_faults()
    before = sum(len(answers(api, chat)) for chat in chats)
    assert before < 24  # a backlog was left
    assert "left stored for the next start" in bot.log()

    again = bots().start()
    settled(api, dict.fromkeys(chats, 6))
    for chat in chats:
        for n, text in enumerate(answers(api, chat), start=1):
            assert f"ASEM{n}" in text
    assert again.terminate()[0] == 0
    assert question_log_rows(data) == 24


def test_sigterm_during_start_up_retries_exits_0_at_once(
    api: FakeBotApi, bots: Callable[..., BotProcess]
) -> None:
    api.fail_next("getMe", status=502, count=50)  # Telegram unreachable: retried with back-off
    bot = bots().start(wait=False)
    api.wait_for_sync("getMe", count=2, timeout=START_TIMEOUT)
    code, seconds = bot.terminate()
    assert code == 0, bot.log()
    assert seconds < 10, f"took {seconds:.1f} s"
    assert "Traceback" not in bot.log()


# -- a poison update ------------------------------------------------------------------------------


def test_a_poison_update_costs_one_log_line_and_no_answer(
    api: FakeBotApi, bots: Callable[..., BotProcess]
) -> None:
    bot = bots().start()
    mark = api.mark()
    # A message python-telegram-bot cannot parse (no chat, no date): once, it wedged polling.
    poison = api.push_update(
        {"message": {"message_id": 9, "text": "my secret words", "from": {"id": ALICE}}}
    )
    api.send_text(ALICE, question(5))
    settled(api, {ALICE: 1})
    api.send_text(ALICE, question(6))
    settled(api, {ALICE: 2})
    assert api.pending_updates() == []  # the offset moved past it
    assert len(api.calls("getUpdates", after=mark)) < 20  # no loop of failing polls
    report = health(bot)
    assert report.returncode == 0, report.stdout
    assert "1 unreadable update(s) skipped" in report.stdout
    assert bot.terminate()[0] == 0
    log = bot.log()
    mentions = [line for line in log.splitlines() if str(poison["update_id"]) in line]
    assert len(mentions) == 1, log
    assert "skipped update" in mentions[0] and "message" in mentions[0]
    assert "secret words" not in log and "Traceback" not in log
    stats = subprocess.run(
        [sys.executable, "-m", "bot", "stats"],
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "updates skipped as unreadable (all time): 1" in stats.stdout


# -- two instances --------------------------------------------------------------------------------


def test_a_second_instance_says_so_in_one_line_and_the_first_goes_on(
    api: FakeBotApi, bots: Callable[..., BotProcess], tmp_path: Path
) -> None:
    first = bots().start()
    api.send_text(ALICE, question(5))
    settled(api, {ALICE: 1})  # the first one has polled successfully
    second = bots(tmp_path / "other").start(wait=False)
    assert second.wait(timeout=START_TIMEOUT) == 1
    last = second.log().strip().splitlines()[-1]
    assert last.startswith("asem-bot run: another instance is polling"), second.log()
    assert "409" in last and "Traceback" not in second.log()
    api.send_text(ALICE, question(6))
    settled(api, {ALICE: 2})
    assert first.terminate()[0] == 0
    assert "Traceback" not in first.log()


# -- the database at start ------------------------------------------------------------------------


def test_a_corrupt_database_is_one_line_and_exit_1(
    api: FakeBotApi, bots: Callable[..., BotProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "asem-bot.sqlite3").write_bytes(b"this is not a database\n" * 200)
    bot = bots().start(wait=False)
    assert bot.wait(timeout=START_TIMEOUT) == 1
    lines = bot.log().strip().splitlines()
    assert len(lines) == 1 and "not a SQLite database" in lines[0], bot.log()


# -- the health check -----------------------------------------------------------------------------


def test_health_reports_a_bot_that_polls_but_makes_no_progress(tmp_path: Path) -> None:
    from bot.channels.telegram.heartbeat import STUCK_AFTER, check, write_heartbeat

    now = 1_000_000.0
    started = now - 10 * STUCK_AFTER

    def beat(**progress: object) -> tuple[bool, str]:
        write_heartbeat(tmp_path, now - 1, {"mode": "polling", "started_at": started, **progress})
        return check(tmp_path, now)

    assert beat(polled_at=now - 5, in_hand=0) == (True, "healthy: the last heartbeat was 1 s ago")
    healthy, line = beat(polled_at=now - STUCK_AFTER - 1, in_hand=0)  # every getUpdates fails
    assert not healthy and "polling makes no progress" in line
    healthy, line = beat(polled_at=None, in_hand=0)  # not one getUpdates since the start
    assert not healthy and "no getUpdates" in line
    stuck = {"polled_at": now - 5, "in_hand": 3, "oldest_in_hand_at": now - 200}
    healthy, line = beat(**stuck, done_at=now - 150)
    assert not healthy and "3 update(s) in hand and none finished for 150 s" in line
    assert beat(**stuck, done_at=now - 2)[0]  # a slow backlog that moves is fine
    healthy, line = beat(polled_at=now - 5, in_hand=0, skipped=2)
    assert healthy and "2 unreadable update(s) skipped" in line
    write_heartbeat(tmp_path, now - 1, {"mode": "webhook", "started_at": started})
    assert check(tmp_path, now)[0]  # no polling to judge
    write_heartbeat(tmp_path, now - 100)  # an old heartbeat without progress: stale
    assert check(tmp_path, now) == (False, "unhealthy: the last heartbeat was 100 s ago")
