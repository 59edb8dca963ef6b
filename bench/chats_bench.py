"""10,000 distinct chats, each asking once: is what the bot keeps per chat bounded (by hand)?

    .venv/bin/python bench/chats_bench.py [--chats 10000] [--rate 25] [--fast]

The real `asem-bot run` polls the fake Bot API server (tests/fakes/bot_api.py); ``--chats``
private chats, each new, ask one question each (bench/harness.py) at about ``--rate`` a
second, under Telegram's limits (the fake enforces them; the bot keeps to 30 messages a
second, so 10,000 take about six minutes). ``--fast``: rate limiter off and no flood control,
to go as fast as the bot can. The bot's VmRSS is sampled after the calibration and after every
tenth of the chats; it prints questions sent, answered, lost, doubled, the 429s the fake had to
return because the bot sent too fast, the memory and its growth per 1,000 chats, and how many
chats the database keeps.

Target (issue 10): memory bounded per chat.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from harness import (
    BotProcess,
    FakeBotApi,
    Ledger,
    QuestionBank,
    Sample,
    candidate_questions,
    header,
    report,
    sample,
)

CHAT_BASE = 50_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25, help="new chats a second")
    parser.add_argument("--fast", action="store_true", help="rate limiter off, no flood control")
    parser.add_argument("--bot-log", type=Path, help="keep the bot's log in this file")
    args = parser.parse_args(argv)
    header(sys.argv)
    with (
        tempfile.TemporaryDirectory(prefix="asem-chats-") as tmp,
        FakeBotApi(flood_control=not args.fast) as api,
    ):
        data = Path(tmp) / "data"
        bot = BotProcess(api, data, args.bot_log or Path(tmp) / "bot.log", limiter=not args.fast)
        print(f"started, polling after {bot.start():.1f} s", flush=True)
        bank = QuestionBank.calibrate(api, candidate_questions())
        print(f"{len(bank.questions)} questions with answers that tell them apart", flush=True)
        ledger = Ledger(api, bank)
        started = time.monotonic()
        first = sample(bot, started, 0)
        assert first is not None
        samples: list[tuple[int, Sample]] = [(0, first)]  # (chats asked, sample)
        step = max(1, args.chats // 10)
        for number in range(args.chats):
            due = started + number / args.rate
            while (now := time.monotonic()) < due:
                ledger.scan()
                time.sleep(min(0.05, due - now))
            ledger.ask(CHAT_BASE + number, number % len(bank.questions))
            if (number + 1) % step == 0:
                ledger.scan()
                if (taken := sample(bot, started, ledger.answered)) is not None:
                    samples.append((number + 1, taken))
                    print(
                        f"  {number + 1:6d} chats asked, {ledger.answered} answered, "
                        f"VmRSS {taken.rss_kib / 1024:.1f} MB, {taken.fds} fds",
                        flush=True,
                    )
        seconds = time.monotonic() - started
        ledger.drain(quiet=30, limit=600, alive=bot.alive)
        last = sample(bot, started, ledger.answered)
        memory = bot.memory_kib()
        stop_seconds, stop_code = bot.stop()
        counts = ledger.counts()
        kept = _chats_kept(data)
        assert last is not None
        grown = (last.rss_kib - first.rss_kib) / 1024
        per_thousand = grown / args.chats * 1000
        half = samples[len(samples) // 2]
        second_half = (last.rss_kib - half[1].rss_kib) / 1024
        report(
            counts,
            api,
            bot,
            memory=memory,
            extra=[
                ("chats", f"{args.chats} new ones in {seconds:.0f} s"),
                (
                    "VmRSS growth",
                    f"{first.rss_kib / 1024:.1f} -> {last.rss_kib / 1024:.1f} MB: "
                    f"{grown:+.1f} MB, {per_thousand:+.2f} MB per 1,000 chats; "
                    f"{second_half:+.1f} MB over the last {args.chats - half[0]} chats",
                ),
                ("open fds", f"{first.fds} -> {last.fds}"),
                ("chats in the database", kept),
                ("stop", f"{stop_seconds:.1f} s, exit {stop_code}"),
            ],
        )
    return 0


def _chats_kept(data: Path) -> str:
    """Rows of the chats table (what the bot keeps per chat on disk)."""
    databases = sorted(data.glob("*.sqlite3"))
    if not databases:
        return "no database found"
    with sqlite3.connect(f"file:{databases[0]}?mode=ro", uri=True) as db:
        try:
            (rows,) = db.execute("SELECT count(*) FROM chats").fetchone()
        except sqlite3.Error as exc:
            return f"unreadable ({exc})"
    return f"{rows} rows in the chats table of {databases[0].name}"


if __name__ == "__main__":
    sys.exit(main())
