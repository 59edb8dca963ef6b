"""Benchmark the knowledge base and the brain (run by hand, not a test).

    .venv/bin/python bench/brain_bench.py [--rounds 5]

Measures, on this machine:
- loading and validating the whole knowledge base (YAML -> typed objects -> cross-checks),
- building the understanding index from it,
- latency per question in process (p50, p99, max) over every question of the development
  sets, several rounds, each as if never asked before, and asked again,
- `asem-bot ask "..."` as a whole process: with the brain cache warm and cold,
- peak memory (max RSS) of this process and of one `asem-bot ask`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.brain import Brain  # noqa: E402
from bot.evaluate import load_cases  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402


def timed(fn, rounds: int) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ask_process(question: str, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of one `asem-bot ask` and its peak RSS in KiB."""
    command = [
        "/usr/bin/time",
        "-f",
        "%M",
        sys.executable,
        "-m",
        "bot",
        "ask",
        question,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    elapsed = time.perf_counter() - start
    rss = int(result.stderr.strip().splitlines()[-1])
    return elapsed, rss


def machine_speed() -> float:
    """Seconds for a fixed pure-Python loop: this shared machine's speed varies by 2x over a
    day, so figures are only comparable beside this reference."""
    return min(timed(lambda: sum(range(10_000_000)), 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    reference = machine_speed()

    load_times = timed(load_knowledge, args.rounds)
    kb = load_knowledge()
    build_times = timed(lambda: Brain(kb), args.rounds)
    brain = Brain(kb)

    devset = ROOT / "tests" / "devset"
    questions = [
        case.question
        for path in (
            *(devset / name for name in ("dev.yaml", "dev2.yaml", "holdout.yaml")),
            *(
                devset / "public" / name
                for name in ("public-a.yaml", "public-b.yaml", "coverage.yaml")
            ),
        )
        for case in load_cases(path)
    ]
    for question in questions[:50]:  # warm up
        brain.answer(question)
    latencies = []  # as if never asked before: the remembered parses forgotten each time
    repeated = []  # asked again: a campaign brings the same questions back
    for _ in range(args.rounds):
        for question in questions:
            brain.forget()
            start = time.perf_counter()
            brain.answer(question)
            latencies.append(time.perf_counter() - start)
            start = time.perf_counter()
            brain.answer(question)
            repeated.append(time.perf_counter() - start)
    khmer = [
        case.question
        for name in ("khmer-script.yaml", "khmer-latin.yaml")
        for case in load_cases(ROOT / "tests" / "devset" / "public" / name)
    ]
    for question in khmer[:50]:  # warm up
        brain.answer(question, "km")
    khmer_latencies = []
    for _ in range(args.rounds):
        for question in khmer:
            brain.forget()
            start = time.perf_counter()
            brain.answer(question, "km")
            khmer_latencies.append(time.perf_counter() - start)
    in_process_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "ASEM_CACHE_DIR": cache}
        cold = [ask_process("where was asem 5 held", env)]
        warm = [ask_process("where was asem 5 held", env) for _ in range(args.rounds)]
        warm_km = [ask_process("ASEM5ធ្វើនៅណា?", env) for _ in range(args.rounds)]
        for _ in range(2):
            for path in Path(cache).glob("*.pickle"):
                path.unlink()
            cold.append(ask_process("where was asem 5 held", env))

    ms = 1000
    print(f"knowledge load + validate   median {statistics.median(load_times) * ms:7.1f} ms")
    print(f"understanding index build   median {statistics.median(build_times) * ms:7.1f} ms")
    print(
        f"per question ({len(latencies)} answers)  p50 {percentile(latencies, 50) * ms:6.3f} ms"
        f"  p99 {percentile(latencies, 99) * ms:6.3f} ms  max {max(latencies) * ms:6.3f} ms"
    )
    print(
        f"  the same, asked again ({len(repeated)})  p50 {percentile(repeated, 50) * ms:6.3f} ms"
        f"  p99 {percentile(repeated, 99) * ms:6.3f} ms"
    )
    km_p50, km_p99 = percentile(khmer_latencies, 50), percentile(khmer_latencies, 99)
    print(
        f"per Khmer question ({len(khmer_latencies)})  p50 {km_p50 * ms:6.3f} ms"
        f"  p99 {km_p99 * ms:6.3f} ms  max {max(khmer_latencies) * ms:6.3f} ms"
    )
    print(
        f"asem-bot ask (cache warm)   median {statistics.median(t for t, _ in warm) * ms:7.1f} ms"
        f"   peak RSS {max(r for _, r in warm) / 1024:5.1f} MiB"
    )
    km_warm = statistics.median(t for t, _ in warm_km)
    print(
        f"asem-bot ask Khmer (warm)   median {km_warm * ms:7.1f} ms"
        f"   peak RSS {max(r for _, r in warm_km) / 1024:5.1f} MiB"
    )
    print(
        f"asem-bot ask (cache cold)   median {statistics.median(t for t, _ in cold) * ms:7.1f} ms"
        f"   peak RSS {max(r for _, r in cold) / 1024:5.1f} MiB"
    )
    print(f"this process peak RSS              {in_process_rss / 1024:7.1f} MiB")
    print(f"machine reference: sum(range(10**7)) takes {reference * ms:.0f} ms (lower = faster)")


if __name__ == "__main__":
    main()
