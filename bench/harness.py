"""What the long benchmarks share (bench/fault_bench.py, soak_bench.py, chats_bench.py).

The real `asem-bot run` in a subprocess (``BotProcess``) polls the fake Bot API server of the
tests (tests/fakes/bot_api.py), which runs in the benchmark's own process and plays the users.
Every answer is traced back to the question it answers, so that a benchmark can say how many
questions were sent, answered, lost and answered twice:

- in a group the bot quotes the question, so the quoted message id says which one it answers;
- in a private chat it does not, so the questions are chosen to have answers that tell them
  apart: ``QuestionBank.calibrate`` asks every candidate once in a fresh chat and again, one
  after another in a few chats (so that what was asked before cannot change an answer), and
  keeps those whose answer was one message, the same both times and unlike any other's.
  ``Ledger`` then counts, per chat and question, how often it was asked and answered.

"Telegram-limit violations" are the 429s the fake had to return because the bot sent faster
than Telegram allows (``flood_control``), not the 429s it was told to inject.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.bot_api import Call, FakeBotApi  # noqa: E402

GROUP_ASKER = 7_000_001  # the user who asks in the groups


def commit_label() -> str:
    """The commit measured, the last one that changed the bot (bot/, knowledge/), and
    '+changes' when the work tree's bot differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    bot = git("log", "-1", "--format=%h", "--", "bot", "knowledge") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bot", "knowledge")
    return f"{head} (bot/ and knowledge/ as of {bot}{' +changes' if dirty else ''})"


def header(argv: Sequence[str]) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"$ {' '.join([Path(sys.executable).name, *argv])}")
    print(
        f"{now}, commit {commit_label()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}"
    )
    sys.stdout.flush()


# -- the bot --------------------------------------------------------------------------------------


class BotProcess:
    """`asem-bot run` in a subprocess against ``api``, its log appended to ``log``; started
    again with ``start()`` after a kill, on the same data folder."""

    def __init__(
        self,
        api: FakeBotApi,
        data_dir: Path,
        log: Path,
        *,
        limiter: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.api = api
        self.data_dir = data_dir
        self.log = log
        self.env = {
            **os.environ,
            "NO_PROXY": "127.0.0.1,localhost",
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "ASEM_DATA_DIR": str(data_dir),
            "ASEM_RATE_LIMITER": "on" if limiter else "off",
            **(env or {}),
        }
        self.env.pop("TELEGRAM_BOT_TOKEN_FILE", None)
        script = Path(sys.executable).with_name("asem-bot")
        self.command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
        self.command.append("run")
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 90) -> float:
        """Start it; seconds until it polls (its deleteWebhook, the call before polling)."""
        mark = self.api.mark()
        started = time.monotonic()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1
        self.api.wait_for_sync("deleteWebhook", timeout=timeout, after=mark)
        return time.monotonic() - started

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self, grace: float = 10.0) -> tuple[float, int]:
        """SIGTERM, then SIGKILL after ``grace`` seconds, as `docker stop` does; (seconds it
        took, exit code: -9 when it had to be killed)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return time.monotonic() - started, code

    def memory_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in KiB."""
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields["VmRSS"], fields["VmHWM"]

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def log_problems(self) -> tuple[int, int, bool]:
        """(tracebacks, ERROR lines, whether the token's secret part is in the log)."""
        text = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
        secret = self.api.token.split(":", 1)[1]
        return text.count("Traceback"), text.count(" ERROR "), secret in text

    def question_log_rows(self) -> int:
        """Rows of the question log, as the real `asem-bot stats --json` reads them."""
        command = [*self.command[:-1], "stats", "--json"]
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, check=True, timeout=120
        )
        return int(json.loads(result.stdout)["questions"])


# -- questions whose answers can be told apart ----------------------------------------------------

PARTNERS = (
    "Cambodia", "Norway", "Switzerland", "Australia", "Russia", "India", "Pakistan", "Mongolia",
    "Bangladesh", "Croatia", "Kazakhstan", "Bulgaria", "Romania", "Laos", "Myanmar", "Japan",
    "China", "Viet Nam", "Poland", "Malta", "New Zealand", "Brunei", "Singapore", "Thailand",
    "Philippines", "Indonesia", "Malaysia", "Korea", "Ireland", "Portugal", "Estonia", "Cyprus",
)  # fmt: skip


def candidate_questions() -> list[str]:
    """Questions that each name what they ask about, so that no context is needed."""
    questions = [f"Where was ASEM{n} held?" for n in range(1, 15)]
    questions += [f"When did {partner} join ASEM?" for partner in PARTNERS]
    questions += [f"Where was FMM{n} held?" for n in range(1, 16)]
    return questions


@dataclass
class QuestionBank:
    questions: list[str]
    by_answer: dict[str, int]  # the answer's text -> index in questions
    calibration_questions: int  # asked while calibrating (they are in the question log)

    def index_of(self, answer: str) -> int | None:
        return self.by_answer.get(answer)

    @classmethod
    def calibrate(
        cls,
        api: FakeBotApi,
        candidates: Sequence[str],
        *,
        chat_base: int = 900_000_000,
        chains: int = 6,
    ) -> QuestionBank:
        """Ask each candidate in a fresh chat, then again in ``chains`` chats one after another;
        keep the ones whose answers are single, the same both times, and distinct."""
        mark = api.mark()
        fresh: dict[int, int] = {}  # chat -> candidate
        for number, text in enumerate(candidates):
            api.send_text(chat_base + number, text)
            fresh[chat_base + number] = number
        answers: defaultdict[int, list[str]] = defaultdict(list)
        _wait_for_answers(api, mark, set(fresh), answers, timeout=120)
        first = {
            fresh[chat]: texts[0]
            for chat, texts in answers.items()
            if chat in fresh and len(texts) == 1
        }
        # Again, one after another in a few chats (so that each follows other questions),
        # shuffled, a little over a second apart as people would ask.
        order = list(first)
        random.Random(1).shuffle(order)
        shared = {chat_base - 1 - k: order[k::chains] for k in range(chains)}
        mark = api.mark()
        for step in range(max(len(asked) for asked in shared.values())):
            before = api.mark()
            chats = {chat for chat, asked in shared.items() if step < len(asked)}
            for chat in chats:
                api.send_text(chat, candidates[shared[chat][step]])
            texts: defaultdict[int, list[str]] = defaultdict(list)
            _wait_for_answers(api, before, chats, texts, timeout=30, settle=0)
            time.sleep(1.1)  # Telegram allows a chat about one message a second
        received: defaultdict[int, list[str]] = defaultdict(list)
        _wait_for_answers(api, mark, set(shared), received, timeout=30)
        again = {
            number: first[number]
            for chat, asked in shared.items()
            for number in asked
            if received[chat].count(first[number]) == 1
        }
        stable = {n: text for n, text in first.items() if again.get(n) == text}
        counts = Counter(stable.values())
        kept = [n for n, text in stable.items() if counts[text] == 1]
        if len(kept) < 2:
            raise SystemExit(
                f"calibration kept {len(kept)} of {len(candidates)} questions: the bot's "
                "answers do not tell them apart (see bench/harness.py)"
            )
        questions = [candidates[n] for n in kept]
        by_answer = {stable[n]: i for i, n in enumerate(kept)}
        return cls(questions, by_answer, len(candidates) + len(order))


def _wait_for_answers(
    api: FakeBotApi,
    mark: int,
    chats: set[int],
    answers: defaultdict[int, list[str]],
    *,
    timeout: float,
    settle: float = 1.5,
) -> None:
    """Collect the texts sent to ``chats`` after ``mark`` until each has one, then ``settle``
    seconds more (a second message would show)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not chats <= set(answers):
        time.sleep(0.1)
        answers.clear()
        for call in api.calls("sendMessage", after=mark):
            if call.ok and call.params.get("chat_id") in chats:
                answers[call.params["chat_id"]].append(str(call.params.get("text")))
    time.sleep(settle)
    answers.clear()
    for call in api.calls("sendMessage", after=mark):
        if call.ok and call.params.get("chat_id") in chats:
            answers[call.params["chat_id"]].append(str(call.params.get("text")))


# -- counting -------------------------------------------------------------------------------------


@dataclass
class Counts:
    sent: int
    answered: int
    lost: int
    doubled: int
    unmatched: int  # messages to a measured chat that answer no question asked there
    latencies: list[float]

    def p(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Ledger:
    """Questions asked and the answers they got, read from the fake's record of calls."""

    api: FakeBotApi
    bank: QuestionBank
    group_prefix: str = ""  # "@botname " to address the bot in a group
    _seen: int = 0
    sent: int = 0
    # private chats: (chat, question) -> times asked, not yet answered; answers; doubles
    _waiting: defaultdict[tuple[int, int], deque[float]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    # groups: (chat, message id) -> time asked; answered ids
    _group_waiting: dict[tuple[int, int], float] = field(default_factory=dict)
    _group_answered: set[tuple[int, int]] = field(default_factory=set)
    _chats: set[int] = field(default_factory=set)
    _outstanding_by_chat: Counter[int] = field(default_factory=Counter)
    answered: int = 0
    doubled: int = 0
    unmatched: int = 0
    latencies: list[float] = field(default_factory=list)
    last_answer_at: float = 0.0

    def ask(self, chat: int, question: int) -> int:
        """A user in private chat ``chat`` asks question number ``question``; its update id."""
        self._chats.add(chat)
        self._waiting[(chat, question)].append(time.monotonic())
        self._outstanding_by_chat[chat] += 1
        self.sent += 1
        return int(self.api.send_text(chat, self.bank.questions[question])["update_id"])

    def ask_in_group(self, chat: int, question: int) -> int:
        """Someone in group ``chat`` asks the bot (by its @name) question number ``question``."""
        self._chats.add(chat)
        text = self.group_prefix + self.bank.questions[question]
        update = self.api.send_text(chat, text, chat_type="group", user_id=GROUP_ASKER)
        self._group_waiting[(chat, update["message"]["message_id"])] = time.monotonic()
        self._outstanding_by_chat[chat] += 1
        self.sent += 1
        return int(update["update_id"])

    def waiting(self, chat: int) -> bool:
        """Whether ``chat`` has a question without an answer."""
        return self._outstanding_by_chat[chat] > 0

    def scan(self) -> int:
        """Take in the answers sent since the last scan; how many there were."""
        calls = self.api.calls("sendMessage", after=self._seen)
        if calls:
            self._seen = calls[-1].index + 1
        new = 0
        for call in calls:
            if call.ok and call.params.get("chat_id") in self._chats:
                self._take(call)
                new += 1
        if new:
            self.last_answer_at = time.monotonic()
        return new

    def _take(self, call: Call) -> None:
        chat = int(call.params["chat_id"])
        now = time.monotonic()
        quoted = (call.result or {}).get("reply_to_message")
        if chat < 0:
            key = (chat, quoted["message_id"]) if quoted else None
            if key is None or (key not in self._group_waiting and key not in self._group_answered):
                self.unmatched += 1
            elif key in self._group_answered:
                self.doubled += 1
            else:
                self.latencies.append(now - self._group_waiting.pop(key))
                self._group_answered.add(key)
                self._outstanding_by_chat[chat] -= 1
                self.answered += 1
            return
        question = self.bank.index_of(str(call.params.get("text")))
        if question is None:
            self.unmatched += 1
            return
        waiting = self._waiting.get((chat, question))
        if waiting:
            self.latencies.append(now - waiting.popleft())
            self._outstanding_by_chat[chat] -= 1
            self.answered += 1
        elif (chat, question) in self._waiting:
            self.doubled += 1  # asked here, and every asking already had its answer
        else:
            self.unmatched += 1

    def outstanding(self) -> int:
        return sum(len(q) for q in self._waiting.values()) + len(self._group_waiting)

    def unanswered(self) -> list[tuple[float, bool]]:
        """For each question still without an answer: when it was asked (time.monotonic()),
        and whether the bot tried to send its answer (a sendMessage the fake refused or
        failed on purpose, with the answer's text or quoting the question)."""
        answers = {index: text for text, index in self.bank.by_answer.items()}
        failed_private: set[tuple[int, str]] = set()
        failed_group: set[tuple[int, int]] = set()
        for call in self.api.calls("sendMessage"):
            if call.ok or call.params.get("chat_id") not in self._chats:
                continue
            chat = int(call.params["chat_id"])
            failed_private.add((chat, str(call.params.get("text"))))
            quoted = call.params.get("reply_parameters")
            if isinstance(quoted, dict) and isinstance(quoted.get("message_id"), int):
                failed_group.add((chat, quoted["message_id"]))
        found = [
            (asked, (chat, answers[question]) in failed_private)
            for (chat, question), times in self._waiting.items()
            for asked in times
        ]
        found += [(asked, key in failed_group) for key, asked in self._group_waiting.items()]
        return found

    def drain(self, quiet: float, limit: float, alive: Callable[[], bool] = lambda: True) -> float:
        """Scan until every question has its answer, or no answer came for ``quiet`` seconds,
        or ``limit`` seconds passed; the seconds it took."""
        started = time.monotonic()
        self.last_answer_at = max(self.last_answer_at, started)
        while time.monotonic() - started < limit:
            self.scan()
            if not self.outstanding() or time.monotonic() - self.last_answer_at > quiet:
                break
            if not alive():
                break
            time.sleep(0.2)
        self.scan()
        return time.monotonic() - started

    def counts(self) -> Counts:
        return Counts(
            self.sent, self.answered, self.outstanding(), self.doubled, self.unmatched,
            self.latencies,
        )  # fmt: skip


# -- traffic --------------------------------------------------------------------------------------


class Chats:
    """A pool of private chats asking at about ``rate`` questions a second: a chat asks only
    when its last question was answered (or given up on after ``patience`` s) and it has
    thought for ``think`` seconds, and never asks the same question twice in a row."""

    def __init__(
        self,
        ledger: Ledger,
        chat_ids: Iterable[int],
        *,
        rate: float,
        think: tuple[float, float] = (3.0, 10.0),
        patience: float = 60.0,
        seed: int = 1,
    ) -> None:
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.rate = rate
        self.think = think
        self.patience = patience
        self.ready_at = {chat: 0.0 for chat in chat_ids}
        self.asked_at: dict[int, float] = {}
        self.last: dict[int, int] = {}
        self._credit = 0.0
        self._tick = time.monotonic()

    def step(self) -> int:
        """Ask what is due now; how many were asked."""
        now = time.monotonic()
        self._credit = min(self._credit + (now - self._tick) * self.rate, self.rate + 1)
        self._tick = now
        asked = 0
        for chat, ready in list(self.ready_at.items()):
            if self._credit < 1:
                break
            waiting = self.ledger.waiting(chat)
            if waiting and now - self.asked_at.get(chat, now) < self.patience:
                continue
            if not waiting and chat in self.asked_at and ready <= self.asked_at[chat]:
                self.ready_at[chat] = ready = now + self.rng.uniform(*self.think)
            if ready > now:
                continue
            choices = [
                q for q in range(len(self.ledger.bank.questions)) if q != self.last.get(chat)
            ]
            question = self.rng.choice(choices)
            self.ledger.ask(chat, question)
            self.last[chat] = question
            self.asked_at[chat] = now
            self._credit -= 1
            asked += 1
        # Chats that asked go to the back, so that every chat gets its turn.
        if asked:
            self.ready_at = dict(
                sorted(self.ready_at.items(), key=lambda item: self.asked_at.get(item[0], 0.0))
            )
        return asked


# -- memory ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # seconds since the start
    rss_kib: int
    hwm_kib: int
    fds: int
    answered: int


def sample(bot: BotProcess, started: float, answered: int) -> Sample | None:
    try:
        rss, hwm = bot.memory_kib()
        fds = bot.open_fds()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return Sample(time.monotonic() - started, rss, hwm, fds, answered)


# -- the report -----------------------------------------------------------------------------------


def report(
    counts: Counts,
    api: FakeBotApi,
    bot: BotProcess,
    *,
    memory: tuple[int, int] | None,
    extra: Sequence[tuple[str, str]] = (),
) -> None:
    """The figures every benchmark prints, one per line."""
    tracebacks, errors, leaked = bot.log_problems()
    faults = sum(api.faults_injected.values())
    by_kind = Counter[str]()
    for (_, kind), n in api.faults_injected.items():
        by_kind[kind] += n
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(by_kind.items()))
    rows = [
        ("questions sent", f"{counts.sent}"),
        ("answered", f"{counts.answered}"),
        ("lost", f"{counts.lost}"),
        ("doubled", f"{counts.doubled}"),
        ("unmatched messages", f"{counts.unmatched}"),
        ("Telegram-limit violations", f"{api.flood_429_count} (429s the fake had to return)"),
        ("faults injected", f"{faults} ({kinds})" if faults else "0"),
        (
            "latency, asked to answered",
            f"p50 {counts.p(50):.2f} s, p99 {counts.p(99):.2f} s, max {counts.p(100):.2f} s",
        ),
    ]
    if memory is not None:
        rows.append(
            ("memory", f"VmRSS {memory[0] / 1024:.0f} MB, peak VmHWM {memory[1] / 1024:.0f} MB")
        )
    rows += list(extra)
    rows.append(
        (
            "bot log",
            f"{tracebacks} tracebacks, {errors} ERROR lines, "
            f"token {'FOUND' if leaked else 'absent'}",
        )
    )
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    sys.stdout.flush()


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else 0.0
