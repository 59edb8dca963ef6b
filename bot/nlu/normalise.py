"""Turn what people type into a clean list of tokens the matchers can compare.

Steps, in order: cut overly long input; Unicode NFKC; case folding; accents off Latin letters
(but never off other scripts, where the marks are letters); apostrophes; punctuation to
spaces; joined forms split (``asem7`` -> ``asem 7``, ``7th`` -> ordinal 7); number words and
ordinals ("seventh" -> ordinal 7); plurals to singular; typos corrected against the bot's
own vocabulary ("sumit" -> "summit"); and last, phrases and chat spellings rewritten to one
canonical form (``foreign ministers meeting`` -> ``fmm``, ``wen`` -> ``when``).

The words that name a meeting with a number come from the series in meetings.yaml.
Ordinals become ``#7`` so that "the 7th summit" and "summit 7" can both be told from "seven
summits"; spelled numbers become ``~7`` ("asem seven" is ASEM7, "asem three pillars" is
not). Everything here is driven by ``knowledge/language.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import OSA

if TYPE_CHECKING:  # validated records are frozen copies at run time (bot.knowledge.frozen)
    from bot.knowledge.models import Lexicon
    from bot.nlu.khmer import KhmerReader


MAX_INPUT_CHARS = 500
MEMO_SIZE = 20_000  # words remembered by the typo corrector
"""Longer input is cut before matching, so the time per question stays bounded."""

_ORDINAL_SUFFIX = re.compile(r"^(\d{1,3})(st|nd|rd|th)$")
# a word: letters and digits, and the Khmer marks (vowel signs, subscripts), which are letters
# parts there and not word breaks
_WORD = re.compile(r"(?:[^\W_]|[\u17b4-\u17d3\u17dd])+", re.UNICODE)
_ROMAN = {
    "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
    "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16,
}  # fmt: skip
_NO_SINGULAR = ("ss", "us", "is")


def is_ordinal(token: str) -> bool:
    return token.startswith("#") and token[1:].isdigit()


def _strip_latin_accents(text: str) -> str:
    """Drop accents from Latin letters only: Khmer, Thai or Hindi marks are part of the word."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and out and out[-1].isascii():
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def _singular(token: str) -> str:
    if len(token) <= 3 or not token.isascii() or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith(_NO_SINGULAR):
        return token[:-1]
    return token


class Normaliser:
    """Normalises text for one language. Build once; calling it is cheap."""

    def __init__(
        self,
        lexicon: Lexicon,
        meeting_words: Iterable[str] = (),
        khmer: KhmerReader | None = None,
    ) -> None:
        """``meeting_words`` name meetings when a number follows them: the words of the
        series' codes ("asem" in ASEM{n}) and the series' one-word names ("fmm", "summit").
        They may be written joined to the number ("asem7", "fmm3rd") or with a Roman numeral
        ("ASEM VII"). ``khmer`` reads Khmer script and romanised Khmer into the same
        canonical words (:mod:`bot.nlu.khmer`)."""
        self.khmer = khmer
        self.meeting_words = frozenset(meeting_words)
        words = "|".join(sorted(map(re.escape, self.meeting_words), key=len, reverse=True))
        self._joined = re.compile(rf"^({words})(\d{{1,3}})(st|nd|rd|th)?$") if words else None
        self.numbers: dict[str, int] = {}
        self.ordinals: dict[str, int] = {}
        # each on its own: joined, the list would be cut at the length a question may have
        self.fillers = frozenset(t for filler in lexicon.fillers for t in self.basic(filler))
        # a filler ("one" in "which one") is never read as a number
        self.numbers = {
            k: v
            for k, v in ((self._key(k), v) for k, v in lexicon.numbers.items())
            if k not in self.fillers
        }
        self.ordinals = {self._key(k): v for k, v in lexicon.ordinals.items()}
        self.synonyms: dict[tuple[str, ...], tuple[str, ...]] = {}
        for phrase, replacement in lexicon.synonyms.items():
            key = tuple(self.basic(phrase))
            if key:
                self.synonyms[key] = tuple(self.basic(replacement))
        self._synonym_len = max((len(k) for k in self.synonyms), default=1)
        self.relations: dict[str, str] = {}  # word before a year -> after/since/before/until
        for relation in ("after", "since", "before", "until", "between"):
            for word in getattr(lexicon, relation):
                for token in self.basic(word):
                    self.relations[token] = relation
        self.flags = {
            token: flag
            for flag, words in lexicon.flags.items()
            for word in words
            for token in self.basic(word)
        }
        self.months = {self._key(word): month for word, month in lexicon.months.items()}
        self.ambiguous_months = frozenset(self._key(w) for w in lexicon.ambiguous_months)
        self.yes_no = frozenset(self._key(w) for w in lexicon.yes_no)
        self.yes_no_tags = tuple(tuple(self.basic(tag)) for tag in lexicon.yes_no_tags)
        self.vocabulary: frozenset[str] = frozenset()
        self._targets: list[str] = []
        self._corrected: dict[str, str] = {}  # an unknown word -> its correction (memo)
        self._by_initial: dict[str, list[str]] = {}

    def _key(self, word: str) -> str:
        tokens = self.basic(word)
        return tokens[0] if tokens else word

    def set_vocabulary(self, words: Iterable[str]) -> None:
        """The words typos are corrected towards (those of the examples and the names)."""
        vocab = {w for w in words if w.isalpha() and len(w) >= 3}
        vocab |= {w for key in self.synonyms for w in key}  # "thnx" is known, not a typo
        self.vocabulary = frozenset(vocab | self.fillers)
        self._targets = sorted(vocab - self.fillers)  # a typo is never "corrected" to a filler
        self._corrected = {}
        self._by_initial = {}
        for word in self._targets:
            self._by_initial.setdefault(word[0], []).append(word)

    # -- the steps -----------------------------------------------------------------------------

    def basic(self, text: str) -> list[str]:
        """Everything but rewriting and typo correction: used for names and examples too."""
        text = text[:MAX_INPUT_CHARS]
        if self.khmer is not None:  # Khmer script, always: the script says it is Khmer
            text = self.khmer.script(text)
        text = unicodedata.normalize("NFKC", text).casefold()
        text = _strip_latin_accents(text)
        text = re.sub(r"['’`´]s\b", "", text)  # possessive: cambodia's -> cambodia
        text = re.sub(r"['’`´]", "", text)  # didn't -> didnt
        tokens: list[str] = []
        for raw in _WORD.findall(text):
            tokens.extend(self._split_joined(raw))
        return [self._number(t) for t in tokens]

    def _split_joined(self, token: str) -> list[str]:
        joined = self._joined.match(token) if self._joined else None
        if joined:
            number = joined[2]
            return [joined[1], f"#{int(number)}" if joined[3] else str(int(number))]
        ordinal = _ORDINAL_SUFFIX.match(token)
        if ordinal:
            return [f"#{int(ordinal[1])}"]
        return [_singular(token)]

    def _number(self, token: str) -> str:
        if token in self.ordinals:
            return f"#{self.ordinals[token]}"
        if token in self.numbers:
            return f"~{self.numbers[token]}"  # spelled: "asem three pillars" is not ASEM3
        return token

    def __call__(self, text: str) -> list[str]:
        if self.khmer is not None:  # romanised Khmer, when the message's words say so
            text = self.khmer.romanised(text[:MAX_INPUT_CHARS])
        tokens = self._combine_numbers(self.basic(text))
        tokens = self._romans(tokens)
        tokens = [self.correct(t) for t in tokens]  # "foriegn minsters" -> "foreign minister"
        for _ in range(3):  # "become a partner" -> "become a member" -> "join"
            rewritten = self.rewrite(tokens)
            if rewritten == tokens:
                break
            tokens = rewritten
        return tokens  # ... -> "fmm"

    def _combine_numbers(self, tokens: list[str]) -> list[str]:
        """'twenty one' -> '~21', 'twenty first' -> '#21'."""
        out: list[str] = []
        for token in tokens:
            tens = out[-1].lstrip("~") if out else ""
            if tens.isdigit() and int(tens) % 10 == 0 and 20 <= int(tens) < 100:
                digits = token.lstrip("#~")
                if digits.isdigit() and 1 <= int(digits) <= 9:
                    prefix = "#" if token.startswith("#") else "~"
                    out[-1] = f"{prefix}{int(tens) + int(digits)}"
                    continue
            out.append(token)
        return out

    def _romans(self, tokens: list[str]) -> list[str]:
        return [
            str(_ROMAN[t]) if t in _ROMAN and i and tokens[i - 1] in self.meeting_words else t
            for i, t in enumerate(tokens)
        ]

    def rewrite(self, tokens: list[str]) -> list[str]:
        """Phrases and chat spellings to their canonical form (language.yaml's synonyms)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self._synonym_len, len(tokens) - i), 0, -1):
                replacement = self.synonyms.get(tuple(tokens[i : i + n]))
                if replacement is not None:
                    out.extend(replacement)
                    i += n
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def correct(self, token: str) -> str:
        """A word the bot does not know, corrected to a close one it does ("sumit" -> "summit").

        Edits are counted with transpositions as one ("foriegn" -> "foreign"): one edit for
        words up to 7 letters, two for longer ones, so "weather" never becomes "water".
        """
        if len(token) < 5 or token in self.vocabulary or not token.isalpha():
            return token  # short words have too many neighbours ("king" is not "kind")
        known = self._corrected.get(token)
        if known is None:
            known = self._corrected.setdefault(token, self._closest(token))
            if len(self._corrected) > MEMO_SIZE:  # unknown words are endless: stay small
                self._corrected.clear()
        return known

    def _closest(self, token: str) -> str:
        edits = 1 if len(token) <= 7 else 2
        candidates = self._by_initial.get(token[0], ())
        best = process.extractOne(token, candidates, scorer=OSA.distance, score_cutoff=edits)
        if best is None and len(token) >= 6:
            # a typo in the first letter is rarer: look across all words, one edit only
            best = process.extractOne(token, self._targets, scorer=OSA.distance, score_cutoff=1)
        return best[0] if best else token
