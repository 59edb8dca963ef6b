"""Faults, kills and a stop with a backlog, under traffic from many chats (run by hand).

    .venv/bin/python bench/fault_bench.py [--chats 240] [--seconds 150] [--rate 12]
        [--fault-rate 0.05] [--kills 4] [--backlog 150] [--groups 3] [--seed 1]

The real `asem-bot run` polls the fake Bot API server (tests/fakes/bot_api.py), which enforces
Telegram's sending limits and mixes faults into its answers: each sendMessage has a
``--fault-rate`` chance of a 429, 500, 502, connection reset or a late answer, each getUpdates
the same chance of a 500, 502, reset or late answer. ``--chats`` private chats ask questions
whose answers tell them apart (bench/harness.py) at about ``--rate`` a second for
``--seconds``; meanwhile the bot is killed with SIGKILL ``--kills`` times, evenly spread, and
started again at once on the same data, as a supervisor would. Then ``--backlog`` more chats
and ``--groups`` groups (8 questions each, waiting under the per-group limit) ask at once and,
when the bot has fetched them, it gets SIGTERM and ``--grace`` seconds to stop (then SIGKILL,
as `docker stop`), is started again and answers what is left.

It prints questions sent, answered, lost (never answered), doubled (answered twice), the 429s
the fake had to return because the bot sent too fast, the faults injected, the stop's duration
and exit code, the question log's rows against the answers, and the bot's memory.
Targets (issue 10): zero lost, zero doubled, zero violations, the stop within 10 s with exit 0,
no question-log row lost.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from harness import (
    BotProcess,
    Chats,
    FakeBotApi,
    Ledger,
    QuestionBank,
    candidate_questions,
    header,
    report,
)

CHAT_BASE = 20_000_000
BACKLOG_BASE = 30_000_000
GROUP_BASE = -1_000_000_000_000
GROUP_QUESTIONS = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=240)
    parser.add_argument("--seconds", type=float, default=150, help="of traffic with kills")
    parser.add_argument("--rate", type=float, default=12, help="questions a second")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="per call")
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--backlog", type=int, default=150, help="private chats at the end")
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--grace", type=float, default=10, help="SIGTERM to SIGKILL, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bot-log", type=Path, help="keep the bot's log in this file")
    args = parser.parse_args(argv)
    header(sys.argv)
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory(prefix="asem-fault-bench-") as tmp,
        FakeBotApi(flood_control=True) as api,
    ):
        bot = BotProcess(api, Path(tmp) / "data", args.bot_log or Path(tmp) / "bot.log")
        print(f"started, polling after {bot.start():.1f} s", flush=True)
        bank = QuestionBank.calibrate(api, candidate_questions())
        print(f"{len(bank.questions)} questions with answers that tell them apart", flush=True)
        ledger = Ledger(api, bank, group_prefix=f"@{api.bot_user['username']} ")
        chats = Chats(
            ledger, range(CHAT_BASE, CHAT_BASE + args.chats), rate=args.rate, seed=args.seed
        )
        api.inject_faults("sendMessage", args.fault_rate, seed=args.seed)
        api.inject_faults(
            "getUpdates", args.fault_rate, kinds=("500", "502", "reset", "delay"), seed=args.seed
        )
        kills_at = [args.seconds * (k + 1) / (args.kills + 1) for k in range(args.kills)]
        restarts: list[float] = []
        started = last_print = time.monotonic()
        while (elapsed := time.monotonic() - started) < args.seconds:
            chats.step()
            ledger.scan()
            if kills_at and elapsed >= kills_at[0]:
                kills_at.pop(0)
                bot.kill()
                restarts.append(bot.start())
                print(
                    f"  {elapsed:5.0f} s: SIGKILL #{bot.kills}, polling again after "
                    f"{restarts[-1]:.1f} s",
                    flush=True,
                )
            if time.monotonic() - last_print >= 15:
                last_print = time.monotonic()
                print(
                    f"  {elapsed:5.0f} s: {ledger.sent} sent, {ledger.answered} answered, "
                    f"{ledger.outstanding()} waiting, {api.flood_429_count} x 429, "
                    f"{sum(api.faults_injected.values())} faults",
                    flush=True,
                )
            time.sleep(0.05)

        # The backlog: many chats and a few busy groups at once, then SIGTERM.
        backlog_from = time.monotonic()
        mark = api.mark()
        last_update = 0
        for chat in range(BACKLOG_BASE, BACKLOG_BASE + args.backlog):
            last_update = ledger.ask(chat, rng.randrange(len(bank.questions)))
        for group in range(args.groups):
            for _ in range(GROUP_QUESTIONS):
                last_update = ledger.ask_in_group(
                    GROUP_BASE - group, rng.randrange(len(bank.questions))
                )
        backlog = args.backlog + args.groups * GROUP_QUESTIONS
        fetched = _wait_until_fetched(api, mark, last_update, timeout=60)
        ledger.scan()
        waiting = ledger.outstanding()
        stop_seconds, stop_code = bot.stop(args.grace)
        ledger.scan()
        answered_before = ledger.answered
        print(
            f"  backlog of {backlog}: fetched {'all' if fetched else 'NOT all'}; SIGTERM with "
            f"{waiting} questions unanswered: stopped in {stop_seconds:.1f} s, exit {stop_code}",
            flush=True,
        )
        restarts.append(bot.start())
        drained = ledger.drain(quiet=30, limit=600, alive=bot.alive)
        memory = bot.memory_kib()
        final_seconds, final_code = bot.stop(args.grace)
        counts = ledger.counts()
        unanswered = ledger.unanswered()
        gave_up = sum(tried for _, tried in unanswered)
        in_backlog = sum(asked >= backlog_from for asked, _ in unanswered)
        rows = bot.question_log_rows()
        expected_rows = counts.answered + bank.calibration_questions
        report(
            counts,
            api,
            bot,
            memory=memory,
            extra=[
                (
                    "kills and restarts",
                    f"{bot.kills} SIGKILLs; polling again after "
                    f"{', '.join(f'{s:.1f}' for s in restarts)} s",
                ),
                (
                    "SIGTERM with a backlog",
                    f"{waiting} unanswered (backlog and earlier): stopped in "
                    f"{stop_seconds:.1f} s, exit {stop_code}; "
                    f"{ledger.answered - answered_before} answered after the restart "
                    f"(drained in {drained:.0f} s)",
                ),
                (
                    "lost, why",
                    f"{gave_up} the bot tried to send and gave up on (faults on every try), "
                    f"{counts.lost - gave_up} it never sent; {in_backlog} of all were asked "
                    "in the backlog",
                ),
                ("final stop", f"{final_seconds:.1f} s, exit {final_code}"),
                (
                    "question log",
                    f"{rows} rows for {expected_rows} answered questions (with the "
                    f"{bank.calibration_questions} of the calibration): "
                    f"{max(0, expected_rows - rows)} missing",
                ),
            ],
        )
    return 0 if counts.lost == counts.doubled == 0 else 1


def _wait_until_fetched(api: FakeBotApi, mark: int, update_id: int, timeout: float) -> bool:
    """Whether a getUpdates answer after ``mark`` handed ``update_id`` to the bot in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in api.calls("getUpdates", after=mark):
            if call.ok and any(u["update_id"] == update_id for u in call.result or []):
                return True
        time.sleep(0.05)
    return False


if __name__ == "__main__":
    sys.exit(main())
