"""Khmer script: how to find the words, measured (run by hand, not a test).

    .venv/bin/python bench/khmer_bench.py [--rounds 3]

Khmer writes no spaces between words. The bot reads a question with its own lexicon (the
``km`` words of language.yaml and the Khmer names of the knowledge base) matched over
character clusters, and compares what is left unknown with the lexicon by character n-grams
(rapidfuzz). A word segmenter trained on Khmer text (khmercut: the CRF model of khmer-nltk,
with python-crfsuite alone) is the alternative. This compares, on the Khmer-script set:

- ``clusters + n-grams`` (the bot): lexicon matched over clusters, misspellings by n-grams;
- ``clusters only``: the same without the n-gram fallback;
- ``segmenter``: the segmenter's words, and runs of them, looked up in the lexicon;
- ``segmenter, words alone``: each of the segmenter's words looked up on its own;
- ``both``: lexicon over clusters, and the segmenter cuts what is left unknown into words.

For each: in-scope answered right, answered wrongly, out of scope declined, and the time to
read a question (the Khmer step alone, as if first seen: its memos cleared) and to answer it.
The segmenter rows need khmercut (``pip install khmercut`` in a scratch venv, then
``PYTHONPATH=<its site-packages>``); they are skipped without it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.brain import Brain  # noqa: E402
from bot.evaluate import evaluate, load_cases  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.nlu.khmer import KhmerReader, clusters  # noqa: E402

Pieces = list[tuple[str, str | None]]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def lexicon_over_words(reader: KhmerReader, words: list[str]) -> Pieces:
    """Runs of the segmenter's words looked up in the lexicon, longest first."""
    out: Pieces = []
    i = 0
    while i < len(words):
        for n in range(min(8, len(words) - i), 0, -1):
            text = "".join(words[i : i + n])
            if text in reader.words:
                out.append((text, reader.words[text]))
                i += n
                break
        else:
            out.append((words[i], None))
            i += 1
    return out


def variants(reader: KhmerReader) -> dict[str, Callable[[str], Pieces] | None]:
    clusters_only = KhmerReader.segment.__get__(reader)
    try:
        import khmercut  # type: ignore[import-not-found]
    except ImportError:
        khmercut = None

    def segmenter(run: str) -> Pieces:
        return lexicon_over_words(reader, khmercut.tokenize(run))

    def words_alone(run: str) -> Pieces:
        return [(w, reader.words.get(w)) for w in khmercut.tokenize(run)]

    def both(run: str) -> Pieces:
        out: Pieces = []
        for piece, canonical in clusters_only(run):
            if canonical is None and len(clusters(piece)) > 2:
                out.extend((w, reader.words.get(w)) for w in khmercut.tokenize(piece))
            else:
                out.append((piece, canonical))
        return out

    found: dict[str, Callable[[str], Pieces] | None] = {
        "clusters + n-grams": clusters_only,
        "clusters only": clusters_only,
    }
    for name, fn in (("segmenter", segmenter), ("segmenter, words alone", words_alone)):
        found[name] = fn if khmercut else None
    found["both"] = both if khmercut else None
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cases = load_cases(ROOT / "tests" / "devset" / "public" / "khmer-script.yaml")
    questions = [c.question for c in cases]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{'variant':<24} {'right':>6} {'wrong':>6} {'declined':>8} {'read p50/p99':>14}")
    print(f"{'':<24} {'':>6} {'':>6} {'(out)':>8} {'answer p50/p99':>14}")
    for name in variants(KhmerReader.from_kb(load_knowledge())):
        brain = Brain(load_knowledge())
        reader = brain.nlu["en"].normalise.khmer
        assert reader is not None
        segment = variants(reader)[name]
        if segment is None:
            print(f"{name:<24} skipped: khmercut is not installed")
            continue
        started = time.perf_counter()
        reader.segment = segment  # type: ignore[method-assign]
        if name == "clusters only":
            reader._misspelt = lambda piece: None  # type: ignore[method-assign]
        reader.script(questions[0])  # loads the segmenter's model
        load = time.perf_counter() - started
        report = evaluate(brain, cases, "km")
        reads, answers = [], []
        for _ in range(args.rounds):
            for question in questions:
                reader._read.clear()  # as if first seen: no reading or misspelling memo
                reader._fuzzy.clear()
                start = time.perf_counter()
                reader.script(question)
                reads.append(time.perf_counter() - start)
                start = time.perf_counter()
                brain.answer(question, "km")
                answers.append(time.perf_counter() - start)
        ms = 1000
        print(
            f"{name:<24} {report.in_scope_accuracy:6.1%} {report.wrong_rate:6.1%}"
            f" {report.decline_rate:8.1%}"
            f" {percentile(reads, 50) * ms:6.3f}/{percentile(reads, 99) * ms:.3f} ms"
        )
        print(
            f"{'':<24} {'':>6} {'':>6} {'':>8}"
            f" {percentile(answers, 50) * ms:6.3f}/{percentile(answers, 99) * ms:.3f} ms"
            f"   (first call {load * ms:.0f} ms)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {rss / 1024:.1f} MiB (before the variants: {rss_before / 1024:.1f} MiB)")
    print(
        f"questions: {len(questions)}, rounds: {args.rounds}, median length "
        f"{statistics.median(len(q) for q in questions):.0f} characters, pid {os.getpid()}"
    )


if __name__ == "__main__":
    main()
