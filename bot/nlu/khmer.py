"""Khmer questions, in Khmer script or in Latin letters, read into the bot's canonical words.

Khmer is written without spaces between words, and many people type it in Latin letters with
no standard spelling ("asem jea avei"). Rather than teaching every intent again in Khmer, a
Khmer question is turned into the same canonical words as an English one ("ASEM13ធ្វើនៅឯណា?"
-> "ASEM13 held where ?"), so that the example phrasings, the entities and the composers serve
both languages. Names come from the knowledge base (every ``name.km`` and Khmer alias reads as
the thing's English name); the words and phrases from the ``km`` lexicon of language.yaml.

Khmer script, in :meth:`KhmerReader.script`:

1. :func:`normalise_khmer`: Unicode NFC, zero-width characters removed, Khmer digits as
   0-9, the usual variant spellings folded (coeng da as coeng ta, ឲ as ឱ, the deprecated
   independent vowels), and the marks of each character cluster put in one order (subscripts
   with coeng ro last, then the register shifter, the vowel, the signs), so that "ប្រជំុ" and
   "ប្រជុំ", "មន្រ្តី" and "មន្ត្រី" are the same word.
2. The text is cut into character clusters (a consonant with its subscripts and marks: the
   smallest unit a Khmer word can start at), and the lexicon's words and names are matched
   over them by dynamic programming: the reading that leaves the fewest clusters unknown,
   then the one in the fewest pieces (longest words).
3. What is left unknown is compared with the lexicon by character n-grams (a misspelt
   "កម្ពជា" is កម្ពុជា) and otherwise kept as it is, one token per unknown stretch: an unknown
   word is what an out-of-scope question is about, and it counts as such.

Latin letters, in :meth:`KhmerReader.romanised`: the words are folded to one spelling
(:func:`fold_latin`: ch/j/c, kh/k, ph/p, th/t, doubled letters, ei/ey/ay...), and a message is
read as Khmer only when more of its words are romanised Khmer than English (names count for
neither), so English questions are understood exactly as before.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.domain.kinds import KINDS
from bot.knowledge.base import phrasings

if TYPE_CHECKING:  # validated records are frozen copies at run time (bot.knowledge.frozen)
    from bot.knowledge import KnowledgeBase
    from bot.knowledge.models import Lexicon

MEMO_SIZE = 20_000  # unknown stretches remembered by the fuzzy matcher
YES_NO = "yesnotag"
"""Stands for a yes/no particle (មែនទេ, ដែរឬទេ, men te) while reading: Khmer asks yes or no
with a particle at the end, English with a verb in front, so a question ending with one is
read as English asks it ("ASEFនៅសិង្ហបុរីមែនទេ" -> "is asef in singapore")."""

# -- Khmer script: characters and normalisation --------------------------------------------------

_KHMER_CHAR = "\u1780-\u17ff\u19e0-\u19ff"
_KHMER = re.compile(f"[{_KHMER_CHAR}]")
_LETTERS = "\u1780-\u17d3\u17dc\u17dd\u19e0-\u19ff"  # Khmer minus punctuation and digits
# a stretch of Khmer letters, spaces inside it included (they are optional phrase breaks)
_KHMER_RUN = re.compile(f"[{_LETTERS}]+(?:\\s+[{_LETTERS}]+)*")

_JOINED_BY_DASH = re.compile(f"(?<=[{_LETTERS}])[-‐‑–](?=[{_LETTERS}])")
_DAY_NUMBER = re.compile(r"ថ្ងៃ(?:ទី)?\s*(\d{1,2})(?!\d)")
_ORDINAL_NUMBER = re.compile(r"(?:លើក)?ទី\s*(\d{1,2})(?!\d)")

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u17b4\u17b5"  # U+17B4/5: invisible vowels
_TRANSLATE = str.maketrans(
    {
        **{c: None for c in _ZERO_WIDTH},
        **{chr(0x17E0 + d): str(d) for d in range(10)},  # ០-៩
        "\u17b2": "\u17b1",  # ឲ -> ឱ (ឲ្យ and ឱ្យ)
        "\u17a3": "\u17a2",  # deprecated ឣ -> អ
        "\u17a4": "\u17a2\u17b6",  # deprecated ឤ -> អា
        "\u17d4": " . ",  # ។ ends a sentence
        "\u17d5": " . ",  # ៕
        "\u17d6": " : ",  # ៖
        "\u17d7": " ",  # ៗ repeats the word before it ("ល្អៗ"): the word is enough
        "\u17db": " riel ",  # ៛
        "%": " percent ",
    }
)

_COENG = "\u17d2"
_RO = "\u179a"
_BASE = re.compile("[\u1780-\u17b3]")
_ROBAT = "\u17cc"
_SHIFTERS = "\u17c9\u17ca"
_VOWELS = frozenset(chr(c) for c in range(0x17B6, 0x17C6))
_SIGNS = frozenset("\u17c6\u17c7\u17c8\u17cb\u17cd\u17ce\u17cf\u17d0\u17d1\u17d3\u17dd")
_MARKS = _VOWELS | _SIGNS | frozenset(_SHIFTERS + _ROBAT + _COENG)
# two vowels typed for one: េ + ា is ោ, េ + ី is ើ
_TWO_PART = {
    frozenset("\u17c1\u17b6"): "\u17c4",
    frozenset("\u17c1\u17b8"): "\u17be",
    frozenset("\u17c1\u17c0"): "\u17c0",
}


def has_khmer(text: str) -> bool:
    return _KHMER.search(text) is not None


def _cluster_order(marks: str) -> str:
    """The marks after a base consonant in one order: robat, subscripts (coeng ro last),
    register shifter, vowel, signs; a mark typed twice counts once."""
    subscripts: list[str] = []
    ro = ""
    shifters: list[str] = []
    vowels: list[str] = []
    signs: list[str] = []
    robat = ""
    i = 0
    while i < len(marks):
        char = marks[i]
        if char == _COENG and i + 1 < len(marks) and marks[i + 1] not in _MARKS:
            pair = marks[i : i + 2]
            if marks[i + 1] == _RO:
                ro = pair
            elif pair not in subscripts:
                subscripts.append(pair)
            i += 2
            continue
        if char == _ROBAT:
            robat = char
        elif char in _SHIFTERS:
            if char not in shifters:
                shifters.append(char)
        elif char in _VOWELS:
            if char not in vowels:
                vowels.append(char)
        elif char != _COENG and char not in signs:
            signs.append(char)
        i += 1
    if len(vowels) == 2 and frozenset(vowels) in _TWO_PART:
        vowels = [_TWO_PART[frozenset(vowels)]]
    return (
        robat + "".join(subscripts) + ro + "".join(shifters[:1]) + "".join(vowels) + "".join(signs)
    )


def _subscript(text: str, j: int) -> bool:
    """The consonant at ``j`` is written below the one before (it follows a coeng)."""
    return text[j - 1] == _COENG and _BASE.match(text[j]) is not None


def normalise_khmer(text: str) -> str:
    """NFC, no zero-width characters, Khmer digits as 0-9, variants folded, marks in order."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    text = text.replace("\u17d2\u178a", "\u17d2\u178f")  # coeng da -> coeng ta (ស្ដី, ស្តី)
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if _BASE.match(char):
            j = i + 1
            while j < n and (text[j] in _MARKS or _subscript(text, j)):
                j += 1
            out.append(char + _cluster_order(text[i + 1 : j]))
            i = j
        else:
            out.append(char)
            i += 1
    return "".join(out)


def clusters(run: str) -> list[str]:
    """Khmer character clusters: a base letter with its subscripts and marks."""
    out: list[str] = []
    for char in run:
        if out and (char in _MARKS or out[-1].endswith(_COENG)) and not char.isspace():
            out[-1] += char
        else:
            out.append(char)
    return out


# -- Latin letters: spelling folding --------------------------------------------------------------

_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("chh", "c"), ("ch", "c"), ("j", "c"), ("kh", "k"), ("ph", "p"), ("th", "t"),
    ("bh", "b"), ("dh", "d"), ("gh", "g"), ("sh", "s"), ("w", "v"), ("q", "k"),
)  # fmt: skip
_DOUBLED = re.compile(r"([a-z])\1+")
_DIPHTHONGS = (("ey", "ei"), ("ay", "ei"), ("ai", "ei"), ("au", "o"), ("ou", "o"), ("ao", "o"))
_LATIN_WORD = re.compile(r"[a-z0-9]+")
# "lek ti 3", "lerk 13", "ti 53": the third, the thirteenth (ទី, លើកទី)
_LATIN_ORDINAL = re.compile(
    r"\b(?:(?:lek|lerk|leuk|lok)\s+)?(?:ti|ty|tee)\s+(\d{1,2})\b|\b(?:lek|lerk|leuk)\s+(\d{1,2})\b"
)
_LATIN_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")  # words, and punctuation kept apart


@lru_cache(maxsize=MEMO_SIZE)  # every English question's words pass here: remember them
def fold_latin(word: str) -> str:
    """One spelling for the many ways a Khmer word is written in Latin letters:
    "chhnam", "chnam", "chhnamm" -> "cnam"; "thver", "tver" -> "tver"; "avey", "avei" -> "avei";
    "chol", "jol", "chaul", "joul" -> "col". Words with digits ("asem13") are left alone."""
    word = word.casefold()
    if not word.isalpha() or not word.isascii():
        return word
    for old, new in _DIGRAPHS:
        word = word.replace(old, new)
    word = _DOUBLED.sub(r"\1", word)
    for old, new in _DIPHTHONGS:
        word = word.replace(old, new)
    if len(word) > 2 and word.endswith("y") and word[-2] in "aeiou":
        word = word[:-1] + "i"
    return _DOUBLED.sub(r"\1", word)


# -- the reader ---------------------------------------------------------------------------------


def _latin_words(text: str) -> list[str]:
    return _LATIN_WORD.findall(unicodedata.normalize("NFKC", text).casefold())


@dataclass
class KhmerReader:
    """Reads Khmer script and romanised Khmer into canonical words. Built once per knowledge
    base (:meth:`from_kb`); calling it is cheap."""

    words: dict[str, str]  # normalised Khmer word or phrase -> canonical text ("" = a filler)
    latin: dict[tuple[str, ...], str]  # folded romanised phrase -> canonical text
    english: frozenset[str]  # words that are English (not names): a message of them is English
    names: frozenset[str] = frozenset()  # the words of Latin names: no language's words
    mixed: dict[str, str] = field(default_factory=dict)  # "ទិវាasem" (casefolded) -> canonical
    _mixed_pattern: re.Pattern[str] | None = None
    _prefixes: frozenset[str] = frozenset()
    _max_clusters: int = 1
    _latin_len: int = 1
    _latin_words: frozenset[str] = frozenset()
    _fuzzy_keys: list[str] = field(default_factory=list)
    _fuzzy: dict[str, str | None] = field(default_factory=dict)
    _read: dict[str, str] = field(default_factory=dict)  # a text -> its reading (memo)

    def __post_init__(self) -> None:
        prefixes: set[str] = set()
        longest = 1
        for key in self.words:
            parts = clusters(key)
            longest = max(longest, len(parts))
            for n in range(1, len(parts) + 1):
                prefixes.add("".join(parts[:n]))
        self._prefixes = frozenset(prefixes)
        self._max_clusters = longest
        self._latin_len = max((len(k) for k in self.latin), default=1)
        self._latin_words = frozenset(w for key in self.latin for w in key) - self.names
        # misspellings are looked for among the longer words only: short ones have too many
        # neighbours
        self._fuzzy_keys = sorted(k for k, v in self.words.items() if len(k) >= 4 and v)
        if self.mixed:
            keys = sorted(self.mixed, key=len, reverse=True)
            self._mixed_pattern = re.compile("|".join(map(re.escape, keys)), re.IGNORECASE)

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> KhmerReader:
        """The ``km`` lexicon's words, and the Khmer names of everything the bot knows."""
        lexicon = kb.lexicons.get("km")
        english_lexicon = kb.lexicons.get("en")
        words: dict[str, str] = {}
        latin: dict[tuple[str, ...], str] = {}
        mixed: dict[str, str] = {}
        records = [
            ((kind.name, value), [n for n in names if n])
            for kind in KINDS
            for value, names in kind.names(kb)
        ]
        owners: dict[str, set[tuple[str, str]]] = {}  # a Latin name -> the records it names
        for record, names in records:
            for name in names:
                if not has_khmer(name):
                    owners.setdefault(_plain(name), set()).add(record)
        for record, names in records:
            latin_names = [n for n in names if not has_khmer(n)]
            if not latin_names or len(latin_names) == len(names):
                continue
            # the Khmer names read as a Latin name of the same thing and of nothing else, in
            # the fewest words ("asean", not "ASEAN member states"), name.en (without its
            # bracketed abbreviation) first among equals: "China", not "PRC"
            candidates = [re.sub(r"\s*\([^)]*\)", "", latin_names[0]), *latin_names]
            unique = [c for c in candidates if _plain(c) and owners.get(_plain(c)) == {record}]
            english = (
                min(unique, key=lambda c: len(_plain(c).split())) if unique else latin_names[0]
            )
            for name in names:
                if has_khmer(name):
                    for form in re.split(r"[()/,]", name):
                        key = _key(form)
                        if key:
                            words.setdefault(key, english)
        if lexicon is not None:
            _add_lexicon(lexicon, english_lexicon, words, latin, mixed)
        english_words = _english_words(kb)
        fillers = set(english_lexicon.fillers) if english_lexicon is not None else set()
        name_words = frozenset(w for name in owners for w in name.split()) - fillers
        return cls(words, latin, english_words - name_words, name_words, mixed)

    # -- Khmer script ----------------------------------------------------------------------------

    def script(self, text: str) -> str:
        """Khmer script read into canonical words; Latin words and digits kept as they are."""
        if not has_khmer(text):
            return text
        known = self._read.get(text)
        if known is not None:  # a message is read several times: its parts, the whole
            return known
        if len(self._read) > MEMO_SIZE:  # messages are endless: stay small
            self._read.clear()
        reading = self._read[text] = self._script(text)
        return reading

    def _script(self, text: str) -> str:
        text = normalise_khmer(text)
        text = _JOINED_BY_DASH.sub("", text)  # អាស៊ី-អឺរ៉ុប is one name
        if self._mixed_pattern is not None:  # ទិវាASEM: Khmer and Latin in one phrase
            text = self._mixed_pattern.sub(lambda m: f" {self.mixed[m[0].casefold()]} ", text)
        text = _DAY_NUMBER.sub(r" on \1 ", text)  # ថ្ងៃទី១០, ថ្ងៃ១០: on the 10th (of a month)
        text = _ORDINAL_NUMBER.sub(r" \1th ", text)  # លើកទី៣, ទី៣: the third
        text = _KHMER_RUN.sub(lambda m: f" {self._read_run(m[0])} ", text)
        return _yes_no_first(text.split())

    def _read_run(self, run: str) -> str:
        pieces = self._respell(self.segment("".join(run.split())))
        out: list[str] = []
        for piece, canonical in pieces:
            if canonical is None:
                out.append(piece)  # unknown: kept, as one word
            elif canonical:
                out.append(canonical)
        return " ".join(out)

    def _respell(self, pieces: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        """Unknown stretches read as the lexicon word they misspell, alone or with a short
        known neighbour the matching took from them ("កម្ពជា" was read as "កម្ព" + "ជា")."""
        out = list(pieces)
        i = 0
        while i < len(out):
            piece, canonical = out[i]
            if canonical is not None:
                i += 1
                continue
            spans = [(i, i + 1)]
            short = [
                k for k in (i - 1, i + 1) if 0 <= k < len(out) and len(clusters(out[k][0])) <= 2
            ]
            spans += [(min(i, k), max(i, k) + 1) for k in short]
            if len(short) == 2:
                spans.append((i - 1, i + 2))
            for start, end in spans:
                joined = "".join(p for p, _ in out[start:end])
                found = self._misspelt(joined)
                if found is not None:
                    out[start:end] = [(joined, found)]
                    i = start
                    break
            i += 1
        return out

    def segment(self, run: str) -> list[tuple[str, str | None]]:
        """The run cut into lexicon words (with their canonical text) and unknown stretches
        (None), by dynamic programming over its clusters: the reading with the lowest count
        of unknown clusters plus pieces (an unknown stretch is one piece), then the fewest
        unknown clusters. So a one-cluster word is not taken out of an unknown one: ជា is
        not read inside ត្រជាក់ ("cold")."""
        parts = clusters(run)
        n = len(parts)
        worst = (3 * n + 3, n + 1)
        # best[i][0]: the first i clusters read, ending with a word; [1]: ending unknown
        best = [[worst, worst] for _ in range(n + 1)]
        best[0][0] = (0, 0)
        back: list[list[tuple[int, int, str | None]]] = [
            [(0, 0, None), (0, 0, None)] for _ in range(n + 1)
        ]
        words, prefixes = self.words, self._prefixes
        for i in range(n):
            for state in (0, 1):
                score, unknown = best[i][state]
                if score >= worst[0]:
                    continue
                # one more unknown cluster: a new piece unless one is already open
                candidate = (score + 1 + (state == 0), unknown + 1)
                if candidate < best[i + 1][1]:
                    best[i + 1][1] = candidate
                    back[i + 1][1] = (i, state, None)
                text = ""
                for j in range(i, min(n, i + self._max_clusters)):
                    text += parts[j]
                    if text not in prefixes:
                        break
                    if text in words and (score + 1, unknown) < best[j + 1][0]:
                        best[j + 1][0] = (score + 1, unknown)
                        back[j + 1][0] = (i, state, text)
        out: list[tuple[str, str | None]] = []
        j, state = n, 0 if best[n][0] <= best[n][1] else 1
        while j > 0:
            i, previous, word = back[j][state]
            if word is None:
                if out and out[-1][1] is None:
                    out[-1] = (parts[i] + out[-1][0], None)
                else:
                    out.append((parts[i], None))
            else:
                out.append((word, words[word]))
            j, state = i, previous
        out.reverse()
        return out

    def _misspelt(self, piece: str) -> str | None:
        """The lexicon word an unknown stretch is a misspelling of, by character n-grams
        (rapidfuzz's ratio), memoised; None if none is close."""
        if len(piece) < 4:
            return None
        known = self._fuzzy.get(piece, "")
        if known == "":
            best = process.extractOne(piece, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=84)
            known = self._fuzzy.setdefault(piece, self.words[best[0]] if best else None)
            if len(self._fuzzy) > MEMO_SIZE:  # unknown words are endless: stay small
                self._fuzzy.clear()
        return known

    # -- Latin letters ---------------------------------------------------------------------------

    def is_romanised(self, text: str) -> bool:
        """Khmer in Latin letters, not English: at least as many of its words are read by
        romanised entries of the lexicon (and are no English words) as are English words left
        unread. Names count for neither; neither do words no entry reads ("both" is no
        Khmer word even if it folds like one)."""
        if not self.latin or has_khmer(text):
            return False
        return self._read_latin(text)[1]

    def romanised(self, text: str) -> str:
        """Romanised Khmer read into canonical words, if the message is romanised Khmer;
        otherwise the text unchanged."""
        if not self.latin or has_khmer(text):
            return text
        out, romanised = self._read_latin(text)
        return _yes_no_first(out) if romanised else text

    def _read_latin(self, text: str) -> tuple[list[str], bool]:
        """The words read by the romanised entries, and whether the text is romanised Khmer."""
        text = unicodedata.normalize("NFKC", text).casefold().replace("%", " percent ")
        text = _LATIN_ORDINAL.sub(lambda m: f" {m[1] or m[2]}th ", text)
        words = _LATIN_TOKEN.findall(text)
        folded = [fold_latin(w) for w in words]
        english, names = self.english, self.names
        out: list[str] = []
        khmer_words = english_words = 0
        i = 0
        while i < len(words):
            for n in range(min(self._latin_len, len(words) - i), 0, -1):
                canonical = self.latin.get(tuple(folded[i : i + n]))
                if canonical is not None:
                    if canonical:
                        out.append(canonical)
                    khmer_words += sum(
                        w not in english and w not in names for w in words[i : i + n]
                    )
                    i += n
                    break
            else:
                word = words[i]
                out.append(word)
                english_words += word in english and word not in names
                i += 1
        return out, khmer_words >= 1 and khmer_words >= english_words


def _yes_no_first(tokens: list[str]) -> str:
    """A yes/no particle at the end becomes "is" in front; anywhere else it is dropped."""
    ending = len(tokens)
    while ending and all(not c.isalnum() for c in tokens[ending - 1]):
        ending -= 1  # "?", "."
    asks = ending > 0 and tokens[ending - 1] == YES_NO
    words = [t for t in tokens if t != YES_NO]
    return " ".join(["is", *words] if asks else words)


def _plain(name: str) -> str:
    return " ".join(_latin_words(name))


def _key(text: str) -> str:
    """A Khmer word or name as the reader matches it: normalised, without spaces."""
    return "".join(normalise_khmer(text).split()).strip("-.")


def _add_lexicon(
    lexicon: Lexicon,
    english: Lexicon | None,
    words: dict[str, str],
    latin: dict[tuple[str, ...], str],
    mixed: dict[str, str],
) -> None:
    """The ``km`` lexicon: Khmer-script entries go to ``words``, romanised ones to ``latin``.
    A name already there wins over a word of the lexicon spelt the same: the knowledge files
    say what a name names (អង់គ្លេស is an alias of the United Kingdom)."""

    def add(phrase: str, canonical: str) -> None:
        if has_khmer(phrase) and re.search("[A-Za-z]", phrase):
            mixed[_key(phrase).casefold()] = canonical
        elif has_khmer(phrase):
            key = _key(phrase)
            if key:
                words.setdefault(key, canonical)
        else:
            folded = tuple(fold_latin(w) for w in _latin_words(phrase))
            if folded:
                latin.setdefault(folded, canonical)

    number_words = {v: k for k, v in (english.numbers.items() if english else ())}
    ordinal_words = {v: k for k, v in (english.ordinals.items() if english else ())}
    for filler in lexicon.fillers:
        add(filler, "")
    for tag in lexicon.yes_no_tags:
        add(tag, YES_NO)
    for phrase, canonical in lexicon.synonyms.items():
        add(phrase, canonical)
    for phrase, number in lexicon.numbers.items():
        add(phrase, number_words.get(number, str(number)))
        # "ទីបី", "លើកទីបី": the third
        ordinal = ordinal_words.get(number, f"{number}th")
        if has_khmer(phrase):
            for prefix in ("ទី", "លើកទី"):
                add(prefix + phrase, ordinal)
        else:
            for prefix in ("ti", "lek ti", "lerk ti"):
                add(f"{prefix} {phrase}", ordinal)
    for phrase, number in lexicon.ordinals.items():
        add(phrase, ordinal_words.get(number, f"{number}th"))
    for relation in ("after", "since", "before", "until"):
        for phrase in getattr(lexicon, relation):
            add(phrase, relation)


def _english_words(kb: KnowledgeBase) -> frozenset[str]:
    """The words that tell an English message: those of the example phrasings and the English
    lexicon (the caller takes the names away: a name is no language's word: "japan")."""
    words: set[str] = set()
    for question in kb.questions:
        for example, _ in phrasings(question):
            words.update(_latin_words(example))
    english = kb.lexicons.get("en")
    if english is not None:
        for phrase in (*english.fillers, *english.synonyms, *english.synonyms.values()):
            words.update(_latin_words(phrase))
    return frozenset(w for w in words if w.isalpha())


def question_language(reader: KhmerReader | None, text: str) -> str | None:
    """ "km" for Khmer (in Khmer script or Latin letters), "en" for English, None when the text
    does not tell (only names, codes, digits: "ASEM13"). A message mixing the scripts is in
    the language of most of its words ("ASEM13 ធ្វើនៅឯណា?" is Khmer; "is អង់គ្លេស the Khmer
    name of the UK?" is English)."""
    english = 0
    if reader is not None:
        english = sum(w in reader.english and w not in reader.names for w in _latin_words(text))
    if has_khmer(text):
        if reader is None:
            return "km"
        runs = _KHMER_RUN.findall(normalise_khmer(text))
        khmer = sum(len(reader.segment("".join(run.split()))) for run in runs)
        return "km" if khmer >= english else "en"
    if reader is None:
        return None
    if reader.is_romanised(text):
        return "km"
    return "en" if english else None
