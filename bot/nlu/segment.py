"""Long and multi-part messages: find the questions in a message, set the chatter aside.

People write "Good morning, I am a journalist from Siem Reap writing on foreign policy, could
you tell me at which summit Cambodia joined and what ASEF does? Many thanks". The message is
cut into sentences (and a sentence into clauses where a second question starts: "..., and how
many partners did it admit?"); a part asks something if it ends with a question mark, opens
with a question word or a yes/no verb, or makes a request ("could you tell me", "I need to
know"). Greetings, introductions, background and thanks ask nothing and are set aside, but
kept as *background*: what they name ("the Siem Reap training") may be what a short question
refers to ("What were the exact dates?").

The words come from ``knowledge/language.yaml`` (``question_words``, ``requests``,
``lead_ins``, ``yes_no``), per language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.normalise import Normaliser

MAX_QUESTIONS = 3
_SENTENCE_END = re.compile(r"(?<=[?!.។៕])\s+|(?<=[?។៕])(?=\S)|\n+")
_ABBREVIATION = re.compile(r"\b(?:[A-Z]\.|Dr|Mr|Mrs|Ms|St|No|H\.E|e\.g|i\.e|etc)\.$")


@dataclass(frozen=True)
class Segments:
    questions: tuple[str, ...]  # the parts that ask something, in order (at most three)
    background: str = ""  # the rest: greetings, introductions, context
    whole: tuple[str, ...] = ()  # each question with the words before it in its sentence
    before: tuple[str, ...] = ()  # the sentence before each question, if it asks nothing

    def readings(self, i: int) -> tuple[str, ...]:
        """The ways to read question ``i``: trimmed; whole, when that differs (the words
        before a question may be chatter or part of it: "Of the 53 partners, how many..."); and
        after the sentence before it, which often says what "it" is ("For ASEM8 I have the
        date but not the theme. What was it?")."""
        found = [self.questions[i]]
        whole = self.whole[i] if i < len(self.whole) else self.questions[i]
        if whole not in found:
            found.append(whole)
        before = self.before[i] if i < len(self.before) else ""
        if before:
            found.append(f"{before} {self.questions[i]}")
        if self.background and len(self.questions) == 1 and self.background != before:
            # "... a study website says ASEM has a Secretariat in Brussels ... is that true?":
            # what the question asks about was said anywhere around it
            found.append(f"{self.background} {self.questions[i]}")
        return tuple(found)


class Segmenter:
    def __init__(self, normalise: Normaliser, lexicon: object) -> None:
        self.normalise = normalise
        self.question_words = frozenset(
            normalise.basic(" ".join(_words(lexicon, "question_words")))
        )
        self.yes_no = normalise.yes_no
        self.requests = tuple(tuple(normalise.basic(p)) for p in _words(lexicon, "requests"))
        self.lead_ins = frozenset(normalise.basic(" ".join(_words(lexicon, "lead_ins"))))
        self.joins = frozenset(normalise.basic(" ".join(_words(lexicon, "joins"))))

    def __call__(self, text: str) -> Segments:
        if not isinstance(text, str):
            return Segments(())
        sentences = [s.strip() for s in _split_sentences(text) if s.strip()]
        parts = [clause for sentence in sentences for clause in self._clauses(sentence)]
        asking = [p for p in parts if self._asks(p)]
        if not asking:
            return Segments((text,))
        background = [p for p in parts if p not in asking]
        questions = []
        for part in asking[:MAX_QUESTIONS]:
            question, chatter = self._trim(part)
            questions.append(question)
            if chatter:
                background.append(chatter)
        whole = tuple(asking[:MAX_QUESTIONS])
        before = tuple(
            parts[parts.index(q) - 1]
            if parts.index(q) > 0 and parts[parts.index(q) - 1] not in asking
            else ""
            for q in whole
        )
        return Segments(tuple(questions), " ".join(background), whole, before)

    def asks(self, text: str) -> bool:
        """Whether any part of ``text`` asks something: a question mark, a question word or
        a yes/no word first, or a request ("lol", "nice one" and "👍" ask nothing)."""
        if not isinstance(text, str):
            return False
        sentences = [s.strip() for s in _split_sentences(text) if s.strip()]
        return any(self._asks(c) for sentence in sentences for c in self._clauses(sentence))

    def _trim(self, part: str) -> tuple[str, str]:
        """ "Good morning, I am a journalist, could you tell me X?" -> "could you tell me X?":
        the question starts at its request or question word after a comma."""
        chunks = re.split(r"(?<=[,;:])\s+", part)
        first = self._tokens(chunks[0])
        if first and first[0] in self.lead_ins:
            return part, ""  # "and the one before that, where?": it is what is asked about
        for i in range(1, len(chunks)):
            rest = " ".join(chunks[i:])
            if self._opens_a_question(rest):
                return rest, " ".join(chunks[:i])
        return part, ""

    def _opens_a_question(self, text: str) -> bool:
        """It opens with a question word, a yes/no word or a request (not only a "?")."""
        tokens = self._tokens(text)
        while tokens and tokens[0] in self.lead_ins:
            tokens = tokens[1:]
        if not tokens:
            return False
        if tokens[0] in self.question_words or tokens[0] in self.yes_no:
            return True
        return any(tuple(tokens[: len(p)]) == p for p in self.requests if p)

    def _tokens(self, text: str) -> list[str]:
        return self.normalise.basic(text)

    def _clauses(self, sentence: str) -> list[str]:
        """A sentence cut where a second question starts: ", and how many...", "; who..."."""
        words = sentence.split()
        cuts = [0]
        for i in range(1, len(words) - 1):
            if _bare(words[i]) not in self.joins:
                continue
            after = self._tokens(words[i + 1])
            starts = bool(after) and (after[0] in self.question_words or after[0] in self.yes_no)
            if starts and i - cuts[-1] >= 2:  # a clause of its own before it
                cuts.append(i)
        cuts.append(len(words))
        return [" ".join(words[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]

    def _asks(self, part: str) -> bool:
        tokens = self._tokens(part)
        while tokens and tokens[0] in self.lead_ins:
            tokens = tokens[1:]
        if not tokens:
            return False
        if part.rstrip().endswith(("?", "？")):
            return True
        if tokens[0] in self.question_words or tokens[0] in self.yes_no:
            return True
        return any(_contains(tokens, phrase) for phrase in self.requests if phrase)


def _words(lexicon: object, name: str) -> tuple[str, ...]:
    return tuple(getattr(lexicon, name, ()) or ())


def _bare(word: str) -> str:
    return word.strip(",;:.").casefold()


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == phrase for i in range(len(tokens) - n + 1))


def _split_sentences(text: str) -> list[str]:
    """Sentences, without cutting after an abbreviation ("H.E. Prak Sokhonn")."""
    pieces = _SENTENCE_END.split(text)
    out: list[str] = []
    for piece in pieces:
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out
