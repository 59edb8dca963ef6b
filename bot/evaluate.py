"""Measure the brain on a labelled question file, the way ``rasa test nlu`` reports.

The file is YAML, a list of entries::

    - q: wher was asem 5 held
      intent: meeting.place          # or a list of acceptable intents
      expect: [Hanoi]                # text a right reply must contain (optional)
    - q: capital of mongolia
      intent: out_of_scope           # must be declined

A question counts as right when the bot answers and the reply contains every ``expect``
string (compared without case or accents; a case without ``expect`` must get an acceptable
intent), or, for ``out_of_scope``, when the bot does not answer it. Intent accuracy, strict
on the label, is reported beside it.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.brain import Brain
from bot.reply import html_to_plain

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Case:
    question: str
    intents: tuple[str, ...]
    expect: tuple[str, ...] = ()

    @property
    def in_scope(self) -> bool:
        return OUT_OF_SCOPE not in self.intents


@dataclass(frozen=True)
class Outcome:
    case: Case
    predicted: str
    answered: bool
    confidence: float
    missing: tuple[str, ...]  # expected text the reply lacked

    @property
    def right(self) -> bool:
        """Declined when out of scope; otherwise answered with the expected facts (or, for a
        case without ``expect``, with an expected intent)."""
        if not self.case.in_scope:
            return not self.answered
        if not self.answered or self.missing:
            return False
        return bool(self.case.expect) or self.intent_right

    @property
    def intent_right(self) -> bool:
        if not self.case.in_scope:
            return not self.answered
        return self.answered and self.predicted in self.case.intents


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _rate(self, items: list[Outcome]) -> float:
        return sum(o.right for o in items) / len(items) if items else 0.0

    @property
    def accuracy(self) -> float:
        return self._rate(self.outcomes)

    @property
    def in_scope_accuracy(self) -> float:
        return self._rate([o for o in self.outcomes if o.case.in_scope])

    @property
    def intent_accuracy(self) -> float:
        return sum(o.intent_right for o in self.outcomes) / len(self.outcomes)

    @property
    def decline_rate(self) -> float:
        return self._rate([o for o in self.outcomes if not o.case.in_scope])

    def per_intent(self) -> list[tuple[str, int, float, float, float]]:
        """(intent, support, precision, recall, f1), by intent name."""
        rows = []
        labels = sorted({o.case.intents[0] for o in self.outcomes})
        for label in labels:
            support = [o for o in self.outcomes if o.case.intents[0] == label]
            predicted = [o for o in self.outcomes if o.predicted == label]
            true_pos = sum(o.right for o in support)
            recall = true_pos / len(support) if support else 0.0
            precision = (
                sum(o.right and o.case.intents[0] == label for o in predicted) / len(predicted)
                if predicted
                else 0.0
            )
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows.append((label, len(support), precision, recall, f1))
        return rows

    def confusions(self) -> list[tuple[str, str, int]]:
        pairs = Counter(
            (o.case.intents[0], o.predicted)
            for o in self.outcomes
            if o.predicted not in o.case.intents
        )
        return [(a, b, n) for (a, b), n in pairs.most_common()]

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.right]

    def as_text(self, *, show_failures: bool = True) -> str:
        n_in = sum(o.case.in_scope for o in self.outcomes)
        n_out = len(self.outcomes) - n_in
        lines = [
            f"questions: {len(self.outcomes)} ({n_in} in scope, {n_out} out of scope)",
            f"accuracy:             {self.accuracy:6.1%}",
            f"in scope answered right: {self.in_scope_accuracy:6.1%}",
            f"out of scope declined:   {self.decline_rate:6.1%}",
            f"intent accuracy:         {self.intent_accuracy:6.1%}",
            "",
            f"{'intent':<24} {'support':>7} {'precision':>9} {'recall':>7} {'f1':>6}",
        ]
        for intent, support, precision, recall, f1 in self.per_intent():
            lines.append(f"{intent:<24} {support:>7} {precision:>9.2f} {recall:>7.2f} {f1:>6.2f}")
        confusions = self.confusions()
        if confusions:
            lines += ["", "confusions (expected -> predicted: count)"]
            lines += [f"  {a} -> {b}: {n}" for a, b, n in confusions]
        if show_failures and self.failures():
            lines += ["", "failures"]
            for o in self.failures():
                why = f" (reply lacks {', '.join(o.missing)})" if o.missing else ""
                lines.append(
                    f"  [{'/'.join(o.case.intents)} -> {o.predicted} {o.confidence:.2f}]"
                    f" {o.case.question}{why}"
                )
        return "\n".join(lines)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of questions")
    cases = []
    for i, entry in enumerate(data, start=1):
        if not isinstance(entry, dict) or "q" not in entry or "intent" not in entry:
            raise ValueError(f"{path}: entry {i} needs 'q' and 'intent'")
        intents = entry["intent"]
        intents = tuple(intents) if isinstance(intents, list) else (str(intents),)
        expect = tuple(str(e) for e in entry.get("expect") or ())
        cases.append(Case(str(entry["q"]), intents, expect))
    return cases


def evaluate(brain: Brain, cases: list[Case], lang: str = "en") -> Report:
    report = Report()
    for case in cases:
        reply = brain.answer(case.question, lang)
        predicted = (reply.intent or OUT_OF_SCOPE) if reply.answered else OUT_OF_SCOPE
        plain = _fold(html_to_plain(reply.text))
        missing = tuple(e for e in case.expect if _fold(e) not in plain)
        report.outcomes.append(Outcome(case, predicted, reply.answered, reply.confidence, missing))
    return report
