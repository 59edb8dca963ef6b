"""Benchmark the Telegram bot against a bare echo bot (run by hand, not a test).

    .venv/bin/python bench/telegram_bench.py [--questions 1000] [--chats 100] [--rounds 3]

Both bots run as subprocesses polling the fake Bot API server (tests/fakes/bot_api.py), which
runs in this process and shares the machine's cores with them. Each measurement is a burst of
questions from many private chats at once, run for the echo bot and the ASEM bot in the same
run, alternating, so that the result is a ratio that holds on a noisy machine.

(a) Capacity: rate limiter off (ASEM_RATE_LIMITER=off), no flood control in the fake. Updates
    answered per second, latency per update from the moment getUpdates handed it to the bot to
    the moment its answer arrived (p50, p99), and CPU per update of the bot process and of
    this one (the fake server). Three workloads: "repeated" asks 16 questions over and over,
    as FAQ traffic does (the bot remembers replies, so the brain is asked once per question
    and day); "distinct" writes those questions each with its own mix of upper and lower case
    (remembered too: the bot keys replies by the question's normalised words); "novel" asks
    over a thousand differently worded questions (the development sets), so nearly every one
    goes through the brain. The echo bot runs with the ASEM
    bot's concurrency and, for reference, with PTB's default of one update at a time.
(b) Telegram's pace: rate limiter on and the fake enforcing Telegram's flood limits: messages
    per second and 429 answers for both bots (the echo bot with PTB's default AIORateLimiter).
(c) Memory: VmRSS and peak VmHWM of the ASEM bot process after its bursts.

Targets (issue 5): capacity at least 90% of the echo bot's; the same pace under the limiter
and no 429; RSS under 120 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.bot_api import FakeBotApi  # noqa: E402

QUESTIONS = [
    "Where was ASEM5 held?",
    "When did Cambodia join ASEM?",
    "Is Turkey an ASEM partner?",
    "How many partners does ASEM have?",
    "What is ASEF?",
    "when was the first asem summit",
    "who hosted asem13",
    "which countries are founding members",
    "what are the areas of cooperation",
    "what is the weather in paris",  # a decline: logged with its text
    "asem",  # "did you mean": logged with its text
    "where is asef based",
    "list of summits in europe",
    "fmm3 place",
    "when is asem day",
    "how did asem begin",
]
MEASURED_CHAT_BASE = 10_000_000


@dataclass
class Burst:
    bot: str
    updates: int
    seconds: float
    latencies: list[float]
    flood_429: int
    bot_cpu: float = 0.0  # seconds of CPU the bot process used during the burst
    server_cpu: float = 0.0  # ... and this process (the fake server)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


class Bot:
    """A bot in a subprocess, polling ``api``."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in KiB from /proc."""
        fields: dict[str, int] = {}
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields["VmRSS"], fields["VmHWM"]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the bot process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, stderr = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return stderr


def start_bot(kind: str, api: FakeBotApi, data_dir: Path, limiter: bool, concurrent: int) -> Bot:
    env = {
        **os.environ,
        "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "ASEM_DATA_DIR": str(data_dir),
        "ASEM_RATE_LIMITER": "on" if limiter else "off",
    }
    env.pop("TELEGRAM_BOT_TOKEN_FILE", None)
    if kind == "asem":
        command = [sys.executable, "-m", "bot", "run"]
    else:
        command = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
        command += ["--concurrent", str(concurrent)] + (["--rate-limiter"] if limiter else [])
    mark = api.mark()
    bot = Bot(kind if kind == "asem" else f"echo x{concurrent}", command, env)
    api.wait_for_sync("deleteWebhook", timeout=60, after=mark)  # polling starts next
    # Warm up: imports, the brain's first answers, the database, connections.
    burst(api, bot, 100, 20, chat_base=1_000, timeout=60)
    return bot


def _novel_questions() -> list[str]:
    """Every question of the development sets: over a thousand different wordings."""
    import yaml

    texts: list[str] = []
    for name in ("dev.yaml", "dev2.yaml", "dev3.yaml", "holdout.yaml"):
        path = ROOT / "tests" / "devset" / name
        if path.exists():
            texts += [str(entry["q"]) for entry in yaml.safe_load(path.read_text("utf-8"))]
    return list(dict.fromkeys(texts))


NOVEL = _novel_questions()


def question(i: int, distinct: bool | str) -> str:
    """The i-th question of a burst. ``distinct``: the same questions, each written with its
    own mix of upper and lower case, so that no two texts are equal (the bot remembers replies
    by the question's normalised words, so these are remembered too); ``"novel"``: every
    question worded differently (the development sets), so each one goes through the brain."""
    if distinct == "novel":
        return NOVEL[i % len(NOVEL)]
    text = QUESTIONS[i % len(QUESTIONS)]
    if not distinct:
        return text
    letters = [n for n, c in enumerate(text) if c.isalpha()]
    chars = list(text)
    for bit, position in enumerate(letters[:24]):
        if (i // len(QUESTIONS)) >> bit & 1:
            chars[position] = chars[position].swapcase()
    return "".join(chars)


def burst(
    api: FakeBotApi,
    bot: Bot,
    questions: int,
    chats: int,
    *,
    chat_base: int,
    timeout: float,
    distinct: bool | str = False,
) -> Burst:
    """``questions`` questions spread over ``chats`` private chats, all at once."""
    name = bot.name
    mark = api.mark()
    flood_before = api.flood_429_count
    cpu_before, server_before = bot.cpu_seconds(), time.process_time()
    start = time.time()
    pushed: list[tuple[int, int]] = []  # (chat, update_id)
    for i in range(questions):
        chat = chat_base + i % chats
        update = api.send_text(chat, question(i, distinct))
        pushed.append((chat, update["update_id"]))
    deadline = time.monotonic() + timeout
    while True:
        sent = [c for c in api.calls("sendMessage", after=mark) if c.ok]
        if len(sent) >= questions or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    bot_cpu, server_cpu = bot.cpu_seconds() - cpu_before, time.process_time() - server_before
    if len(sent) < questions:
        raise SystemExit(f"{name}: only {len(sent)} of {questions} answers within {timeout}s")
    handed: dict[int, float] = {}
    for call in api.calls("getUpdates", after=mark):
        for update in call.result or []:
            handed.setdefault(update["update_id"], call.time)
    replies: defaultdict[int, list[float]] = defaultdict(list)
    for call in sent:
        replies[call.params["chat_id"]].append(call.time)
    asked: defaultdict[int, list[int]] = defaultdict(list)
    for chat, update_id in pushed:
        asked[chat].append(update_id)
    latencies = [
        reply - handed[update_id]
        for chat, ids in asked.items()
        for update_id, reply in zip(ids, replies[chat], strict=False)
        if update_id in handed
    ]
    seconds = max(c.time for c in sent) - start
    flood = api.flood_429_count - flood_before
    return Burst(name, questions, seconds, latencies, flood, bot_cpu, server_cpu)


WORKLOADS = (("novel", "novel"), ("distinct", True), ("repeated", False))


def capacity(
    args: argparse.Namespace, data: Path
) -> tuple[dict[tuple[str, str], list[Burst]], int, int]:
    """Bursts for each bot and workload, ``args.rounds`` times; the ASEM bot's memory."""
    results: dict[tuple[str, str], list[Burst]] = defaultdict(list)
    rss = hwm = 0
    variants = [("echo", args.concurrent), ("echo", 1), ("asem", 0)]
    for round_number in range(args.rounds):
        for kind, concurrent in variants:
            with FakeBotApi() as api:
                bot = start_bot(kind, api, data / f"a{round_number}", False, concurrent)
                try:
                    for offset, (workload, distinct) in enumerate(WORKLOADS):
                        result = burst(
                            api,
                            bot,
                            args.questions,
                            args.chats,
                            chat_base=MEASURED_CHAT_BASE * (offset + 1),
                            timeout=300,
                            distinct=distinct,
                        )
                        results[(bot.name, workload)].append(result)
                        print(
                            f"  round {round_number + 1} {bot.name:>9} {workload:>8}: "
                            f"{result.rate:6.1f} updates/s, p50 {result.p(50):5.0f} ms, "
                            f"p99 {result.p(99):5.0f} ms; CPU per update: bot "
                            f"{result.bot_cpu / result.updates * 1000:.2f} ms, server "
                            f"{result.server_cpu / result.updates * 1000:.2f} ms",
                            flush=True,
                        )
                    if kind == "asem":
                        rss, hwm = bot.rss_kib()
                finally:
                    bot.stop()
                assert api.errors == [], api.errors
                bad = [c.summary() for c in api.calls() if c.status == 400]
                assert not bad, bad[:5]
    return results, rss, hwm


def pace(args: argparse.Namespace, data: Path) -> dict[str, Burst]:
    results: dict[str, Burst] = {}
    for kind in ("echo", "asem"):
        with FakeBotApi(flood_control=True) as api:
            bot = start_bot(kind, api, data / "b", True, 1)
            time.sleep(2)  # let the warm-up's per-chat and global windows drain
            try:
                result = burst(
                    api,
                    bot,
                    args.pace_questions,
                    args.pace_chats,
                    chat_base=MEASURED_CHAT_BASE,
                    timeout=300,
                )
            finally:
                bot.stop()
            results[bot.name] = result
        print(
            f"  {bot.name:>9}: {result.rate:5.1f} messages/s, {result.flood_429} x 429",
            flush=True,
        )
    return results


def main() -> None:
    from bot.channels.telegram.app import MAX_CONCURRENT_UPDATES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000, help="per burst")
    parser.add_argument("--chats", type=int, default=100, help="chats asking at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pace-questions", type=int, default=300)
    parser.add_argument("--pace-chats", type=int, default=150)
    parser.add_argument("--skip-pace", action="store_true")
    args = parser.parse_args()
    args.concurrent = MAX_CONCURRENT_UPDATES
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    pace_results: dict[str, Burst] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"(a) capacity: {args.questions} questions from {args.chats} chats, limiter off")
        results, rss, hwm = capacity(args, Path(tmp))
        if not args.skip_pace:
            print(
                f"(b) pace: {args.pace_questions} questions from {args.pace_chats} chats, "
                "limiter on, flood control on"
            )
            pace_results = pace(args, Path(tmp))
    print()
    print("(a) capacity, median of rounds")
    print(f"{'bot':<10} {'workload':<9} {'updates/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'bot CPU ms':>10} {'vs echo':>8}")  # fmt: skip
    echo = f"echo x{args.concurrent}"
    for workload, _ in WORKLOADS:
        for name in (echo, "echo x1", "asem"):
            bursts = results[(name, workload)]
            rate = statistics.median(b.rate for b in bursts)
            ratios = [
                b.rate / e.rate for b, e in zip(bursts, results[(echo, workload)], strict=True)
            ]
            print(
                f"{name:<10} {workload:<9} {rate:>9.1f} "
                f"{statistics.median(b.p(50) for b in bursts):>7.0f} "
                f"{statistics.median(b.p(99) for b in bursts):>7.0f} "
                f"{statistics.median(b.bot_cpu / b.updates * 1000 for b in bursts):>10.2f} "
                f"{statistics.median(ratios):>8.0%}"
            )
    print(f"target: asem >= 90% of {echo} (the echo bot run the same way)")
    if pace_results:
        print(
            "(b) Telegram's pace (the fake allows 30/s overall, 1/s per chat after a burst of 3)"
        )
        for name, result in pace_results.items():
            print(f"{name:<10} {result.rate:5.1f} messages/s, {result.flood_429} x 429")
    print(f"(c) memory of the ASEM bot: VmRSS {rss / 1024:.0f} MB, peak VmHWM {hwm / 1024:.0f} MB")
    print("target: < 120 MB")


if __name__ == "__main__":
    main()
