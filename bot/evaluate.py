"""Measure the brain on labelled question files, the way ``rasa test nlu`` reports, with the
share answered wrongly beside accuracy (a wrong answer costs more than a decline).

A file is a YAML list. Each entry is a question labelled by the facts a right answer holds::

    - q: wher was asem 5 held
      kind: fact                     # fact, yes_no, list, count, two_fact, long, multi, time...
      expect: [Hanoi, "2004"]        # every fact must be in the reply; "a|b" = either
      ref: "facts §1 ASEM5"          # (optional) what it probes, for coverage by section
    - q: capital of mongolia
      kind: out_of_scope             # must be declined

Older sets are labelled by intent (``intent: meeting.place`` or a list; ``out_of_scope``):
an entry with ``expect`` is scored by its facts, one without by its intent.

Special facts: ``yes`` / ``no`` (the reply answers yes or no, in English or Khmer) and
``unverified`` (the reply says the fact is not verified). Text is compared without case,
accents, dash styles, thousands separators, and with Khmer digits read as digits.

A conversation is an entry ``{conversation: [{q, expect}...]}``: its turns are asked in order
in one context, as one chat would.

Outcomes of an in-scope question: right (answered with every fact), wrong (answered without
them: the worst), not answered (declined, or "did you mean"). Out of scope: right if declined.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.brain import Brain
from bot.dialogue import TOPIC_TURNS, Topic
from bot.knowledge import KnowledgeBase
from bot.reply import Reply, html_to_plain

OUT_OF_SCOPE = "out_of_scope"

YES = ("yes", "បាទ", "ចាស", "មែន", "ត្រូវ")
NO = ("no", "ទេ", "មិនមែន", "អត់", "មិន")
UNVERIFIED = (
    "not verified",
    "unverified",
    "not confirmed",
    "no other source confirms",
    "មិនទាន់បានផ្ទៀងផ្ទាត់",
    "មិនបានផ្ទៀងផ្ទាត់",
)
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})
_THOUSANDS = re.compile(r"(?<=\d)[,.\u202f\u00a0 ](?=\d{3}\b)")
_SPACE = re.compile(r"\s+")
_FIRST_WORD = re.compile(r"^\W*(\w+)")


def fold(text: str) -> str:
    """Text as the scorer compares it."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_DASHES).translate(_KHMER_DIGITS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c) or ord(c) > 0x1000)
    text = unicodedata.normalize("NFC", stripped).casefold()
    text = _THOUSANDS.sub("", text)
    return _SPACE.sub(" ", re.sub(r"\s*-\s*", "-", text)).strip()


@dataclass(frozen=True)
class Case:
    question: str
    kind: str = "fact"
    expect: tuple[tuple[str, ...], ...] = ()  # facts; each a tuple of alternatives
    intents: tuple[str, ...] = ()  # legacy labels
    ref: str = ""
    conversation: str = ""  # the conversation this turn belongs to ("" = on its own)

    @property
    def in_scope(self) -> bool:
        return self.kind != OUT_OF_SCOPE and OUT_OF_SCOPE not in self.intents


def has_fact(plain: str, alternatives: Sequence[str], *, special: bool = True) -> bool:
    """Whether the folded reply states the fact (any of its alternatives). ``special``:
    "yes", "no" and "unverified" are read as answers, not as words (older sets: words)."""
    first = _FIRST_WORD.match(plain)
    first_word = first[1] if first else ""
    for alternative in alternatives:
        wanted = fold(alternative)
        if not special:
            if wanted in plain:
                return True
        elif wanted in ("yes", "no"):
            words = YES if wanted == "yes" else NO
            if first_word in words or plain.startswith(words):
                return True
            # a part of a reply to several questions opens with its verdict, after the
            # question it answers ("...three pillars? ... does asem have a secretariat? no. ")
            if re.search(rf"[?؟]\s*(?:{'|'.join(map(re.escape, words))})[.។ ]", plain):
                return True
        elif wanted == "unverified":
            if any(marker in plain for marker in UNVERIFIED):
                return True
        elif wanted.isdigit():
            # a number is a number: "1" (March) is not in "10 March", nor "45" in "1945"
            if re.search(rf"(?<!\d){wanted}(?!\d)", plain):
                return True
        elif wanted and wanted in plain:
            return True
    return False


@dataclass(frozen=True)
class Outcome:
    case: Case
    predicted: str
    answered: bool
    confidence: float
    missing: tuple[str, ...]  # expected facts the reply lacked
    reply: str = ""

    @property
    def right(self) -> bool:
        if not self.case.in_scope:
            return not self.answered
        if not self.answered or self.missing:
            return False
        return bool(self.case.expect) or self.predicted in self.case.intents

    @property
    def wrong(self) -> bool:
        """Answered, but not with the right facts (in scope), or answered at all (out)."""
        return self.answered and not self.right

    @property
    def intent_right(self) -> bool:
        if not self.case.in_scope:
            return not self.answered
        return self.answered and self.predicted in self.case.intents


def _rate(items: Sequence[Outcome], test: str = "right") -> float:
    return sum(getattr(o, test) for o in items) / len(items) if items else 0.0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.in_scope]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.case.in_scope]

    @property
    def accuracy(self) -> float:
        return _rate(self.outcomes)

    @property
    def in_scope_accuracy(self) -> float:
        return _rate(self.in_scope)

    @property
    def wrong_rate(self) -> float:
        """The share of in-scope questions answered wrongly."""
        return _rate(self.in_scope, "wrong")

    @property
    def decline_rate(self) -> float:
        return _rate(self.out_of_scope)

    @property
    def intent_accuracy(self) -> float:
        labelled = [o for o in self.outcomes if o.case.intents or not o.case.in_scope]
        return _rate(labelled, "intent_right")

    def per_kind(self) -> list[tuple[str, int, float, float]]:
        """(kind, questions, right, answered wrongly), by kind."""
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            groups[o.case.kind].append(o)
        return [(k, len(v), _rate(v), _rate(v, "wrong")) for k, v in sorted(groups.items())]

    def per_section(self) -> list[tuple[str, int, float]]:
        """Coverage: (section of the reference, probes, right), for entries with ``ref``."""
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            if o.case.ref.startswith(("facts", "seed")) and o.case.in_scope:
                groups[_section(o.case.ref)].append(o)
        return [(k, len(v), _rate(v)) for k, v in sorted(groups.items())]

    def per_intent(self) -> list[tuple[str, int, float, float, float]]:
        """(intent, support, precision, recall, f1) for intent-labelled entries."""
        rows = []
        labelled = [o for o in self.outcomes if o.case.intents]
        for label in sorted({o.case.intents[0] for o in labelled}):
            support = [o for o in labelled if o.case.intents[0] == label]
            predicted = [o for o in labelled if o.predicted == label]
            true_pos = sum(o.right for o in support)
            recall = true_pos / len(support)
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
            if o.case.intents and o.predicted not in o.case.intents
        )
        return [(a, b, n) for (a, b), n in pairs.most_common()]

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.right]

    def summary(self) -> list[str]:
        n_in, n_out = len(self.in_scope), len(self.out_of_scope)
        return [
            f"questions: {len(self.outcomes)} ({n_in} in scope, {n_out} out of scope)",
            f"accuracy:                {self.accuracy:6.1%}",
            f"in scope answered right: {self.in_scope_accuracy:6.1%}",
            f"in scope answered wrong: {self.wrong_rate:6.1%}",
            f"out of scope declined:   {self.decline_rate:6.1%}",
        ]

    def as_text(self, *, show_failures: bool = True) -> str:
        lines = self.summary()
        if any(o.case.intents for o in self.outcomes):
            lines.append(f"intent accuracy:         {self.intent_accuracy:6.1%}")
        lines += ["", f"{'kind':<14} {'questions':>9} {'right':>7} {'wrong':>7}"]
        for kind, n, right, wrong in self.per_kind():
            lines.append(f"{kind:<14} {n:>9} {right:>7.1%} {wrong:>7.1%}")
        sections = self.per_section()
        if sections:
            lines += ["", f"{'coverage by section':<32} {'probes':>6} {'right':>7}"]
            lines += [f"{s:<32} {n:>6} {r:>7.1%}" for s, n, r in sections]
        if any(o.case.intents for o in self.outcomes):
            lines += [
                "",
                f"{'intent':<24} {'support':>7} {'precision':>9} {'recall':>7} {'f1':>6}",
            ]
            for intent, support, precision, recall, f1 in self.per_intent():
                lines.append(
                    f"{intent:<24} {support:>7} {precision:>9.2f} {recall:>7.2f} {f1:>6.2f}"
                )
            confusions = self.confusions()
            if confusions:
                lines += ["", "confusions (expected -> predicted: count)"]
                lines += [f"  {a} -> {b}: {n}" for a, b, n in confusions]
        if show_failures and self.failures():
            lines += ["", "failures (WRONG: answered without the facts)"]
            for o in self.failures():
                label = "WRONG" if o.wrong else "declined" if o.case.in_scope else "ANSWERED"
                why = f" (lacks {', '.join(o.missing)})" if o.missing and o.answered else ""
                lines.append(
                    f"  [{label} {o.case.kind} -> {o.predicted} {o.confidence:.2f}]"
                    f" {o.case.question}{why}"
                )
        return "\n".join(lines)


def _section(ref: str) -> str:
    """'facts §3a Croatia' -> 'facts §3a'; 'seed §5 para 2' -> 'seed §5'."""
    words = ref.replace(",", " ").split()
    return " ".join(words[:2]) if len(words) > 1 else ref


# -- reading the files ------------------------------------------------------------------------


def _facts(value: object, where: str) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: 'expect' must be a list")
    return tuple(tuple(part.strip() for part in str(fact).split("|")) for fact in value)


def _case(entry: object, where: str, conversation: str = "") -> Case:
    if not isinstance(entry, dict) or "q" not in entry:
        raise ValueError(f"{where}: needs 'q'")
    intents = entry.get("intent") or ()
    intents = tuple(intents) if isinstance(intents, list) else (str(intents),) if intents else ()
    kind = str(entry.get("kind") or (OUT_OF_SCOPE if OUT_OF_SCOPE in intents else "fact"))
    if entry.get("out_of_scope") is True or (entry.get("expect") == [] and not intents):
        kind = OUT_OF_SCOPE  # `expect: []`: nothing a right answer contains, so decline
    expect = _facts(entry.get("expect"), where)
    if kind != OUT_OF_SCOPE and not expect and not intents:
        raise ValueError(f"{where}: needs 'expect' (or 'intent'), or kind: out_of_scope")
    return Case(str(entry["q"]), kind, expect, intents, str(entry.get("ref") or ""), conversation)


def load_cases(path: Path) -> list[Case]:
    """The questions of a labelled file; ValueError says what is wrong with it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1}: {problem})" if mark else ""
        raise ValueError(f"not a YAML file{where}") from None
    except UnicodeDecodeError:
        raise ValueError("not a UTF-8 text file") from None
    if not isinstance(data, list):
        raise ValueError("expected a YAML list of questions")
    cases: list[Case] = []
    for i, entry in enumerate(data, start=1):
        where = f"entry {i}"
        if isinstance(entry, dict) and "conversation" in entry:
            turns = entry["conversation"]
            if not isinstance(turns, list) or not turns:
                raise ValueError(f"{where}: 'conversation' must be a list of turns")
            for j, turn in enumerate(turns, start=1):
                case = _case(turn, f"{where}, turn {j}", conversation=f"{path.name}#{i}")
                kind = entry.get("kind", "follow_up") if j > 1 else "first_turn"
                if case.kind != OUT_OF_SCOPE:
                    case = Case(case.question, str(kind), case.expect, case.intents, case.ref,
                                case.conversation)  # fmt: skip
                cases.append(case)
        else:
            cases.append(_case(entry, where))
    return cases


# -- asking -----------------------------------------------------------------------------------


def score(case: Case, reply: Reply, names: Mapping[str, tuple[str, ...]] = {}) -> Outcome:
    """``names``: the Khmer names of the knowledge base's English ones (see
    :func:`khmer_names`), so that a reply in Khmer saying "ហាណូយ" states "Hanoi"."""
    predicted = (reply.intent or OUT_OF_SCOPE) if reply.answered else OUT_OF_SCOPE
    plain = fold(html_to_plain(reply.text))
    special = not case.intents
    missing = tuple(
        "|".join(f)
        for f in case.expect
        if not has_fact(
            plain, (*f, *(km for a in f for km in _in_khmer(a, names))), special=special
        )
    )
    return Outcome(case, predicted, reply.answered, reply.confidence, missing, plain)


_DAY_MONTH = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)$|^([a-z]+) (\d{1,2})(?:st|nd|rd|th)?$"
)


def _in_khmer(alternative: str, names: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The Khmer forms of an expected name, or of a day and month ("1 March": ថ្ងៃទី1 ខែមីនា)."""
    wanted = fold(alternative)
    dated = _DAY_MONTH.match(wanted)
    if dated:
        day, month = (dated[1], dated[2]) if dated[1] else (dated[4], dated[3])
        return tuple(f"ថ្ងៃទី{day} ខែ{km}" for km in names.get(month, ()))
    return names.get(wanted, ())


def khmer_names(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Each English name of a partner, country, city or group, and each month, folded, with
    its Khmer names: a label written in English ("Hanoi", "November") is stated by a Khmer
    reply that names the same thing in Khmer."""
    found: dict[str, set[str]] = defaultdict(set)
    records: list[Any] = [*kb.partners.values(), *kb.non_partners.values(), *kb.cities.values()]
    records += list(kb.groups.values())
    for record in records:
        khmer = record.name.get("km")
        if khmer and khmer != record.name.en:
            for english in (record.name.en, *(a for a in record.aliases if a.isascii())):
                found[fold(english)].add(fold(khmer))
    months = zip(
        kb.message("months", "en").split(), kb.message("months", "km").split(), strict=False
    )
    for english, khmer in months:
        found[fold(english)].add(fold(khmer))
    return {english: tuple(sorted(khmer)) for english, khmer in found.items()}


def evaluate(brain: Brain, cases: Iterable[Case], lang: str | None = "en") -> Report:
    """Ask every case; the turns of a conversation share context, as one chat would.
    ``lang`` None: each question is answered in the language it is written in."""
    from bot.language import choose_language

    report = Report()
    names = khmer_names(brain.kb)
    topics: dict[str, list[Topic]] = {}
    for case in cases:
        context = topics.setdefault(case.conversation, []) if case.conversation else []
        reply_lang = lang or choose_language(brain, case.question)
        reply = brain.answer(case.question, reply_lang, context[-TOPIC_TURNS:])
        if case.conversation and isinstance(reply.topic, Topic):
            context.append(reply.topic)
        report.outcomes.append(score(case, reply, names))
    return report
