"""Find the things a question is about: meetings, places, partners, years, topics.

The gazetteer is built from the knowledge base (every name and alias of every partner,
country, city, area, group, region, meeting kind and ASEF), normalised like the questions, so
both sides meet in the same form. Matching prefers the longest name ("north korea" before
"korea"), also tries names written together or apart ("ulaan baatar" / "ulaanbaatar"), and
falls back to fuzzy matching for typos the word-level corrector could not fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.domain.kinds import KINDS, PRECEDENCE
from bot.knowledge import KnowledgeBase
from bot.nlu.normalise import MEMO_SIZE, Normaliser, is_ordinal

NUMBER_WORDS = {"number", "no", "nr", "num", "meeting"}  # "asem meeting 7", "summit no 7"
MEETING_NOUNS = {"summit", "fmm", "meeting"}  # "asem seven summit": a spelled meeting number
YEAR_RANGE = range(1990, 2040)


@dataclass(frozen=True)
class Entity:
    """Something found in the question. ``values`` holds several ids when a name is shared."""

    type: str
    values: tuple[str, ...]
    start: int
    end: int  # token span [start, end)
    text: str = ""
    relation: str = ""  # for years: "", "after", "since", "before", "until"

    @property
    def value(self) -> str:
        return self.values[0]


@dataclass
class Gazetteer:
    """Normalised names -> entity (type, id)."""

    exact: dict[tuple[str, ...], set[tuple[str, str]]] = field(default_factory=dict)
    joined: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    max_len: int = 1

    def add(self, tokens: list[str], entity_type: str, value: str) -> None:
        if not tokens:
            return
        key = tuple(tokens)
        self.exact.setdefault(key, set()).add((entity_type, value))
        self.joined.setdefault("".join(key), set()).add((entity_type, value))
        self.max_len = max(self.max_len, len(key))

    @property
    def words(self) -> set[str]:
        return {token for key in self.exact for token in key}


def build_gazetteer(kb: KnowledgeBase, normalise: Normaliser, lang: str) -> Gazetteer:
    """Every name of every kind of thing (see :mod:`bot.domain.kinds`), normalised."""
    gaz = Gazetteer()
    for kind in KINDS:
        for value, names in kind.names(kb):
            for name in names:
                if name:
                    gaz.add(normalise.basic(name), kind.name, value)
    # A rewritten phrase (e.g. "foreign ministers meeting" -> "fmm") must still be found:
    # apply the rewriting rules to the names too.
    for key, hits in list(gaz.exact.items()):
        rewritten = tuple(normalise.rewrite(list(key)))
        if rewritten != key:
            for entity_type, value in hits:
                gaz.add(list(rewritten), entity_type, value)
    return gaz


@dataclass(frozen=True)
class SeriesCodes:
    """How meetings are named, from the series in meetings.yaml: the word of each code
    (``ASEM{n}`` -> "asem" means a summit) and the series with meetings on record."""

    prefixes: dict[str, str]  # code word -> series id
    numbered: frozenset[str]  # series ids with numbered meetings

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, normalise: Normaliser) -> SeriesCodes:
        prefixes: dict[str, str] = {}
        for series in kb.numbered_series:
            words = normalise.basic((series.code or "").replace("{n}", " "))
            if len(words) == 1:
                prefixes.setdefault(words[0], series.id)
        return cls(prefixes, frozenset(s.id for s in kb.numbered_series))


def _is_day(token: str) -> bool:
    return token.isdigit() and 1 <= int(token) <= 31


def _number_at(tokens: list[str], j: int) -> int | None:
    """A meeting number at ``j`` ("7", "~7" spelled out), not a year."""
    if j >= len(tokens):
        return None
    number = tokens[j].lstrip("#~")
    if not number.isdigit() or int(number) in YEAR_RANGE or not 0 < int(number) < 100:
        return None
    if tokens[j].startswith("~") and j + 1 < len(tokens) and tokens[j + 1] not in MEETING_NOUNS:
        return None  # "asem seven" is ASEM7; "asem three pillars" is a count
    return int(number)


def meeting_refs(tokens: list[str], kinds_named: list[Entity], codes: SeriesCodes) -> list[Entity]:
    """Meetings named by number: 'asem 7', 'asem summit 7', 'summit no 7', '7th summit',
    '7th asem', 'fmm 3', '3rd fmm', 'the 7th asem education ministers meeting', 'fmm 2 and 3'.

    A series is mentioned by one of its names (``kinds_named``, found by the gazetteer) or by
    the word of its code ("asem" in ASEM{n})."""
    mentions: dict[int, tuple[str, int]] = {}  # start -> (series, end)
    for entity in kinds_named:
        numbered = [v for v in entity.values if v in codes.numbered]
        if numbered:
            mentions[entity.start] = (numbered[0], entity.end)
    for i, token in enumerate(tokens):
        if token in codes.prefixes and i not in mentions:
            mentions[i] = (codes.prefixes[token], i + 1)
    found: list[Entity] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if is_ordinal(token):  # "#7 (asem) <series>"
            j = i + 1
            if j < len(tokens) and tokens[j] == "asem" and j + 1 in mentions:
                j += 1
            # not "which came first: asem 2 or fmm 2": a number after the series is its own
            if j in mentions and _number_at(tokens, mentions[j][1]) is None:
                series, end = mentions[j]
                found.append(Entity("meeting", (f"{series}_{token[1:]}",), i, end))
                i = end
                continue
        if i in mentions:  # "<series> (number|no) 7 (and 8)"
            series, j = mentions[i]
            if j < len(tokens) and tokens[j] in NUMBER_WORDS:
                j += 1
            number = _number_at(tokens, j)
            if number is not None:
                end = j + 1
                # "asem 3 fmm": the code word of summits, then another series
                if end in mentions and tokens[i] == "asem":
                    series, end = mentions[end]
                numbers = [number]
                while (
                    end + 1 < len(tokens)
                    and tokens[end] in ("and", "or", "to")
                    and _number_at(tokens, end + 1) is not None
                    and not tokens[end + 1].startswith("~")
                ):
                    numbers.append(int(tokens[end + 1].lstrip("#")))
                    end += 2
                values = tuple(f"{series}_{n}" for n in numbers)
                found.append(Entity("meeting", values, i, end))
                i = end
                continue
        i += 1
    return found


class EntityExtractor:
    def __init__(self, gazetteer: Gazetteer, normalise: Normaliser, codes: SeriesCodes) -> None:
        self.gaz = gazetteer
        self.normalise = normalise
        self.codes = codes
        self._joined_keys = list(gazetteer.joined)
        self._fuzzy: dict[str, str | None] = {}  # an unknown word -> the name it is (memo)
        # only positions that can begin a name are tried (most words begin none)
        self._first_words = {key[0] for key in gazetteer.exact}
        # the lengths of the names each word begins, longest first
        lengths: dict[str, set[int]] = {}
        for key in gazetteer.exact:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {word: sorted(ns, reverse=True) for word, ns in lengths.items()}
        self._joined_prefixes = {
            key[:n] for key in gazetteer.joined for n in range(1, len(key) + 1)
        }

    def __call__(self, tokens: list[str]) -> list[Entity]:
        names = self._names(tokens, set())
        kinds_named = [e for e in names if e.type == "meeting_kind"]
        meetings = meeting_refs(tokens, kinds_named, self.codes)
        covered = {i for e in meetings for i in range(e.start, e.end)}
        entities = meetings + [
            e for e in names if not any(i in covered for i in range(e.start, e.end))
        ]
        taken = {i for e in entities for i in range(e.start, e.end)}
        entities += self._years(tokens, taken)
        taken = {i for e in entities for i in range(e.start, e.end)}
        entities += self._dates(tokens, taken)
        return sorted(entities, key=lambda e: e.start)

    def _dates(self, tokens: list[str], taken: set[int]) -> list[Entity]:
        """Months ("june", "sept"), and days beside them ("19 march", "25-26 november")."""
        months = self.normalise.months
        found: list[Entity] = []
        for i, token in enumerate(tokens):
            if i in taken or token not in months:
                continue
            beside = [tokens[j] for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
            if token in self.normalise.ambiguous_months and not any(t.isdigit() for t in beside):
                continue  # "may" the verb, "march" the walk
            found.append(Entity("month", (str(months[token]),), i, i + 1))
            days: list[int] = []
            j = i - 1
            while j >= 0 and j not in taken and _is_day(tokens[j]) and len(days) < 2:
                days.insert(0, j)
                j -= 1
            if not days and i + 1 < len(tokens) and i + 1 not in taken and _is_day(tokens[i + 1]):
                days = [i + 1]
            for j in days:
                found.append(Entity("day", (str(int(tokens[j])),), j, j + 1))
        return found

    def _years(self, tokens: list[str], taken: set[int]) -> list[Entity]:
        found: list[Entity] = []
        for i, token in enumerate(tokens):
            if i in taken or not token.isdigit() or int(token) not in YEAR_RANGE:
                continue
            relation = ""
            start = i
            for back in (1, 2):  # "after 2010", "after the year 2010"
                if i - back >= 0 and tokens[i - back] in self.normalise.relations:
                    relation, start = self.normalise.relations[tokens[i - back]], i - back
                    break
            pair = i >= 2 and tokens[i - 1] in ("and", "to") and found and found[-1].end == i - 1
            if pair and found[-1].relation in ("between", "since"):  # "between 2001 and 2005"
                found[-1] = Entity("year", found[-1].values, found[-1].start, found[-1].end,
                                   relation="since")  # fmt: skip
                relation = "until"
            found.append(Entity("year", (token,), start, i + 1, relation=relation))
        return [
            Entity("year", e.values, e.start, e.end, relation="since")
            if e.relation == "between"
            else e
            for e in found
        ]

    def _names(self, tokens: list[str], taken: set[int]) -> list[Entity]:
        found: list[Entity] = []
        i = 0
        n_tokens = len(tokens)
        while i < n_tokens:
            if i in taken:
                i += 1
                continue
            match = self._match_at(tokens, i, taken)
            if match:
                found.append(match)
                i = match.end
            else:
                i += 1
        return found

    def _match_at(self, tokens: list[str], i: int, taken: set[int]) -> Entity | None:
        first = tokens[i]
        starts_name = first in self._first_words
        starts_joined = first in self._joined_prefixes
        if starts_name or starts_joined:
            longest = min(self.gaz.max_len, len(tokens) - i)
            sizes = range(longest, 0, -1) if starts_joined else self._lengths[first]
            for n in sizes:
                if n > longest:
                    continue
                if taken and any(k in taken for k in range(i, i + n)):
                    continue
                span = tokens[i : i + n]
                if n == 1 and span[0] in self.normalise.fillers:
                    continue  # "us", "it": words first, names only when written in full
                hits = (self.gaz.exact.get(tuple(span)) if starts_name else None) or (
                    self.gaz.joined.get("".join(span))
                    if starts_joined and self._joinable(span)
                    else None
                )
                if hits:
                    return self._entity(hits, i, i + n, " ".join(span))
        # Fuzzy, only over words the bot does not know ("ulanbator", "nay pyi daw"), and only
        # for longer names: a known word next to an unknown one is not a misspelt name
        # ("king of thailand" is not "kingdom of thailand").
        vocabulary = self.normalise.vocabulary
        if first in vocabulary or not first.isalpha():
            return None  # a known word begins no misspelt name
        for n in range(min(2, len(tokens) - i), 0, -1):
            span = tokens[i : i + n]
            if taken and any(k in taken for k in range(i, i + n)):
                continue
            if any(t in vocabulary or not t.isalpha() for t in span):
                continue
            text = "".join(span)
            if len(text) < 5:
                continue
            key = self._fuzzy.get(text, "")
            if key == "":
                best = process.extractOne(
                    text, self._joined_keys, scorer=fuzz.ratio, score_cutoff=86
                )
                key = self._fuzzy.setdefault(text, best[0] if best else None)
                if len(self._fuzzy) > MEMO_SIZE:  # unknown words are endless: stay small
                    self._fuzzy.clear()
            if key is not None:
                return self._entity(self.gaz.joined[key], i, i + n, " ".join(span))
        return None

    def _joinable(self, span: list[str]) -> bool:
        """Words that may be a name written apart ("viet nam"), not chance ("to go": Togo)."""
        return (
            len(span) > 1
            and len("".join(span)) >= 6
            and not any(t in self.normalise.fillers for t in span)
        )

    @staticmethod
    def _entity(hits: set[tuple[str, str]], start: int, end: int, text: str) -> Entity:
        # One name can mean several things ("energy" is two areas); keep all, typed alike.
        # If types differ, prefer the more specific reading (the order of the kinds).
        types = sorted({t for t, _ in hits}, key=PRECEDENCE.index)
        chosen = types[0]
        values = tuple(sorted(v for t, v in hits if t == chosen))
        return Entity(chosen, values, start, end, text)
