"""Find the things a question is about: meetings, places, partners, years, topics.

The gazetteer is built from the knowledge base (every name and alias of every partner,
country, city, area, group, region, meeting kind and ASEF), normalised like the questions, so
both sides meet in the same form. Matching prefers the longest name ("north korea" before
"korea"), also tries names written together or apart ("ulaan baatar" / "ulaanbaatar"), and
falls back to fuzzy matching for typos the word-level corrector could not fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.knowledge import KnowledgeBase
from bot.nlu.normalise import MEMO_SIZE, Normaliser, is_ordinal

MEETING_WORDS = {"asem": "summit", "summit": "summit", "fmm": "fmm"}
NUMBER_WORDS = {"number", "no", "nr", "num", "meeting"}  # "asem meeting 7", "summit no 7"
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
    gaz = Gazetteer()

    def add_names(entity_type: str, value: str, names: Iterable[str | None]) -> None:
        for name in names:
            if name:
                gaz.add(normalise.basic(name), entity_type, value)

    for partner in kb.partners.values():
        add_names("country", partner.id, (partner.name.en, partner.name.km, *partner.aliases))
    for country in kb.non_partners.values():
        add_names("country", country.id, (country.name.en, country.name.km, *country.aliases))
    for city in kb.cities.values():
        add_names("city", city.id, (city.name.en, city.name.km, *city.aliases))
    for area in kb.areas:
        add_names("area", str(area.number), (area.short.en, area.short.km, *area.aliases))
    for group in kb.groups.values():
        add_names("group", group.id, (group.name.en, group.name.km, *group.aliases))
    for region in kb.regions.values():
        add_names("region", region.id, (region.name.en, region.name.km, *region.aliases))
    for kind in kb.kinds.values():
        add_names("meeting_kind", kind.id, (kind.name.en, kind.name.km, *kind.aliases))
    add_names("asef", "asef", (kb.asef.name.en, kb.asef.name.km, *kb.asef.aliases))
    for org in kb.organisations.values():
        add_names("organisation", org.id, (org.name.en, org.name.km, *org.aliases))
    # A rewritten phrase (e.g. "foreign ministers meeting" -> "fmm") must still be found:
    # apply the rewriting rules to the names too.
    for key, hits in list(gaz.exact.items()):
        rewritten = tuple(normalise._rewrite(list(key)))
        if rewritten != key:
            for entity_type, value in hits:
                gaz.add(list(rewritten), entity_type, value)
    return gaz


def _meeting_refs(tokens: list[str]) -> list[Entity]:
    """'asem 7', 'asem summit 7', 'summit no 7', '7th summit', '7th asem', 'fmm 3', '3rd fmm'."""
    found: list[Entity] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        # ordinal first: "#7 (asem) (summit|fmm)"
        if is_ordinal(token):
            j = i + 1
            kind = None
            if j < len(tokens) and tokens[j] == "asem":
                kind, j = "summit", j + 1
            if j < len(tokens) and tokens[j] in ("summit", "fmm"):
                kind, j = MEETING_WORDS[tokens[j]], j + 1
            if kind:
                found.append(Entity("meeting", (f"{kind}_{token[1:]}",), i, j))
                i = j
                continue
        # kind first: "asem (summit|fmm) (number|no) 7" or "asem #7"
        if token in MEETING_WORDS:
            kind = MEETING_WORDS[token]
            j = i + 1
            if token == "asem" and j < len(tokens) and tokens[j] in ("summit", "fmm"):
                kind, j = MEETING_WORDS[tokens[j]], j + 1
            if j < len(tokens) and tokens[j] in NUMBER_WORDS:
                j += 1
            if j < len(tokens):
                number = tokens[j].lstrip("#~")
                spelled_then_noun = tokens[j].startswith("~") and (
                    j + 1 < len(tokens) and tokens[j + 1] not in ("summit", "fmm", "meeting")
                )  # "asem seven" is ASEM7; "asem three pillars" is a count
                if (
                    number.isdigit()
                    and int(number) not in YEAR_RANGE
                    and 0 < int(number) < 100
                    and not spelled_then_noun
                ):
                    end = j + 1
                    if end < len(tokens) and tokens[end] in ("summit", "fmm") and kind == "summit":
                        kind = MEETING_WORDS[tokens[end]]  # "asem 3 fmm"
                        end += 1
                    numbers = [int(number)]
                    # "fmm 2 and 3", "asem 5, 6 or 7": more numbers of the same kind
                    while (
                        end + 1 < len(tokens)
                        and tokens[end] in ("and", "or", "to")
                        and tokens[end + 1].isdigit()
                        and 0 < int(tokens[end + 1]) < 100
                    ):
                        numbers.append(int(tokens[end + 1]))
                        end += 2
                    values = tuple(f"{kind}_{n}" for n in numbers)
                    found.append(Entity("meeting", values, i, end))
                    i = end
                    continue
        i += 1
    return found


class EntityExtractor:
    def __init__(self, gazetteer: Gazetteer, normalise: Normaliser) -> None:
        self.gaz = gazetteer
        self.normalise = normalise
        self._joined_keys = list(gazetteer.joined)
        self._fuzzy: dict[str, str | None] = {}  # an unknown word -> the name it is (memo)
        # only positions that can begin a name are tried (most words begin none)
        self._first_words = {key[0] for key in gazetteer.exact}
        self._joined_prefixes = {
            key[:n] for key in gazetteer.joined for n in range(1, len(key) + 1)
        }

    def __call__(self, tokens: list[str]) -> list[Entity]:
        entities = _meeting_refs(tokens)
        taken = {i for e in entities for i in range(e.start, e.end)}
        entities += self._years(tokens, taken)
        taken |= {i for e in entities for i in range(e.start, e.end)}
        entities += self._names(tokens, taken)
        return sorted(entities, key=lambda e: e.start)

    def _years(self, tokens: list[str], taken: set[int]) -> list[Entity]:
        found = []
        for i, token in enumerate(tokens):
            if i in taken or not token.isdigit() or int(token) not in YEAR_RANGE:
                continue
            relation = ""
            start = i
            for back in (1, 2):  # "after 2010", "after the year 2010"
                if i - back >= 0 and tokens[i - back] in self.normalise.relations:
                    relation, start = self.normalise.relations[tokens[i - back]], i - back
                    break
            found.append(Entity("year", (token,), start, i + 1, relation=relation))
        return found

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
            for n in range(longest, 0, -1):
                if any(k in taken for k in range(i, i + n)):
                    continue
                span = tokens[i : i + n]
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
        for n in range(min(2, len(tokens) - i), 0, -1):
            span = tokens[i : i + n]
            if any(k in taken for k in range(i, i + n)):
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
        # If types differ, prefer the more specific reading.
        order = [
            "meeting",
            "country",
            "city",
            "asef",
            "organisation",
            "group",
            "region",
            "meeting_kind",
            "area",
        ]
        types = sorted({t for t, _ in hits}, key=order.index)
        chosen = types[0]
        values = tuple(sorted(v for t, v in hits if t == chosen))
        return Entity(chosen, values, start, end, text)
