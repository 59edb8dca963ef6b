"""A soak: steady traffic for minutes, the bot's memory and file descriptors sampled (by hand).

    .venv/bin/python bench/soak_bench.py [--minutes 10] [--rate 8] [--chats 300]
        [--sample-every 5] [--warmup-minutes 2] [--fault-rate 0] [--samples FILE.csv]

The real `asem-bot run` polls the fake Bot API server (tests/fakes/bot_api.py), which enforces
Telegram's sending limits; ``--chats`` private chats ask questions whose answers tell them
apart (bench/harness.py) at about ``--rate`` a second, each waiting for its answer and a few
seconds more before asking again. Every ``--sample-every`` seconds the bot's VmRSS and open
file descriptors are read from /proc. After a warm-up (``--warmup-minutes``, by default a fifth
of the run and at least one minute) growth is measured: the median of the last three samples
minus the median of the first three after the warm-up, and the least-squares trend per
10 minutes. It prints questions sent, answered, lost, doubled, the 429s the fake had to return
because the bot sent too fast, and the memory figures.

Targets (issue 10): memory growth under 5 MB over 10 minutes after warm-up; flat file
descriptors; zero lost, doubled and violations.
"""

from __future__ import annotations

import argparse
import csv
import statistics
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
    Sample,
    candidate_questions,
    header,
    median,
    report,
    sample,
)

CHAT_BASE = 40_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=8, help="questions a second")
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--sample-every", type=float, default=5, help="seconds")
    parser.add_argument("--warmup-minutes", type=float, help="default: a fifth, at least 1")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="per call, as fault_bench")
    parser.add_argument("--samples", type=Path, help="write every sample to this CSV file")
    parser.add_argument("--bot-log", type=Path, help="keep the bot's log in this file")
    args = parser.parse_args(argv)
    warmup = 60 * (args.warmup_minutes or max(1.0, args.minutes / 5))
    header(sys.argv)
    with (
        tempfile.TemporaryDirectory(prefix="asem-soak-") as tmp,
        FakeBotApi(flood_control=True) as api,
    ):
        bot = BotProcess(api, Path(tmp) / "data", args.bot_log or Path(tmp) / "bot.log")
        print(f"started, polling after {bot.start():.1f} s", flush=True)
        bank = QuestionBank.calibrate(api, candidate_questions())
        print(f"{len(bank.questions)} questions with answers that tell them apart", flush=True)
        ledger = Ledger(api, bank)
        chats = Chats(ledger, range(CHAT_BASE, CHAT_BASE + args.chats), rate=args.rate)
        if args.fault_rate:
            api.inject_faults("sendMessage", args.fault_rate, seed=1)
            api.inject_faults(
                "getUpdates", args.fault_rate, kinds=("500", "502", "reset", "delay"), seed=1
            )
        samples: list[Sample] = []
        started = time.monotonic()
        next_sample = started
        last_print = started
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            chats.step()
            ledger.scan()
            if time.monotonic() >= next_sample:
                next_sample += args.sample_every
                if (taken := sample(bot, started, ledger.answered)) is not None:
                    samples.append(taken)
            if time.monotonic() - last_print >= 60 and samples:
                last_print = time.monotonic()
                print(
                    f"  {elapsed / 60:4.1f} min: {ledger.sent} sent, {ledger.answered} "
                    f"answered, VmRSS {samples[-1].rss_kib / 1024:.1f} MB, "
                    f"{samples[-1].fds} fds",
                    flush=True,
                )
            time.sleep(0.05)
        ledger.drain(quiet=30, limit=300, alive=bot.alive)
        memory = bot.memory_kib()
        stop_seconds, stop_code = bot.stop()
        counts = ledger.counts()
        if args.samples:
            with args.samples.open("w", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["seconds", "vmrss_kib", "vmhwm_kib", "fds", "answered"])
                for s in samples:
                    writer.writerow([f"{s.at:.1f}", s.rss_kib, s.hwm_kib, s.fds, s.answered])
        after = [s for s in samples if s.at >= warmup]
        report(
            counts,
            api,
            bot,
            memory=memory,
            extra=[
                *growth(samples, after, warmup),
                ("stop", f"{stop_seconds:.1f} s, exit {stop_code}"),
            ],
        )
    return 0


def growth(samples: list[Sample], after: list[Sample], warmup: float) -> list[tuple[str, str]]:
    if len(after) < 6:
        return [("growth", f"too few samples after the {warmup:.0f} s warm-up: run longer")]
    rss_start = median(s.rss_kib for s in after[:3]) / 1024
    rss_end = median(s.rss_kib for s in after[-3:]) / 1024
    fds_start = median(s.fds for s in after[:3])
    fds_end = median(s.fds for s in after[-3:])
    slope = statistics.linear_regression([s.at for s in after], [s.rss_kib for s in after]).slope
    span = after[-1].at - after[0].at
    return [
        ("samples", f"{len(samples)}, every {samples[1].at - samples[0].at:.0f} s"),
        (
            "VmRSS after warm-up",
            f"{rss_start:.1f} MB at {after[0].at / 60:.1f} min -> {rss_end:.1f} MB at "
            f"{after[-1].at / 60:.1f} min: {rss_end - rss_start:+.1f} MB over {span / 60:.1f} "
            f"min (trend {slope * 600 / 1024:+.1f} MB per 10 min); max "
            f"{max(s.rss_kib for s in samples) / 1024:.1f} MB",
        ),
        (
            "open fds after warm-up",
            f"{fds_start:.0f} -> {fds_end:.0f}; min {min(s.fds for s in after)}, "
            f"max {max(s.fds for s in after)}",
        ),
        (
            "answered during the soak",
            f"{after[-1].answered - after[0].answered} in {span / 60:.1f} min after warm-up",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
