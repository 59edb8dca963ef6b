"""From text to a ranked list of interpretations: which intent, about which entities.

Every example phrasing in the knowledge base goes through the same pipeline as a question:
normalise, find entities, replace each entity by a slot (``where was <m> held``). A question
is compared with the examples that share a telling word with it: a weighted overlap of words
(a word weighs more the fewer intents use it; fillers weigh little; words the bot has never
seen weigh most unless the question is plainly about ASEM), with near spellings matched by
rapidfuzz, blended with rapidfuzz's ``token_sort_ratio``. Each intent keeps its best example.
The entities decide *what* the question is about (an intent that needs a meeting is out of the
running without one; a named thing the intent has no use for costs points); the intent
decides *which fact* about it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.domain.kinds import CONTRASTS, DETAILS, SLOT, SUBJECTS, UNMATCHED, meeting_facts
from bot.knowledge import KnowledgeBase
from bot.knowledge.base import phrasings
from bot.knowledge.frozen import english_texts
from bot.nlu.entities import Entity, EntityExtractor, SeriesCodes, build_gazetteer
from bot.nlu.khmer import KhmerReader
from bot.nlu.normalise import MEMO_SIZE, Normaliser, is_ordinal
from bot.nlu.references import References

if TYPE_CHECKING:  # validated records are frozen copies at run time (bot.knowledge.frozen)
    from bot.knowledge.models import Question

FACT = "fact."  # the intents of facts.yaml (bot.knowledge.base.FACT)
SMALLTALK = "smalltalk."
ABOUT = frozenset({"meeting", "country", "event"})  # what a fact may be about
UNUSED_ENTITY_PENALTY = 20.0
NOUN_PHRASE = 5  # "the summit after Seoul?" is asked for; a longer "the ..." may be a claim
REFERENCE_LEAD = 10.0  # how much better the plain reading must score than a reference's
ANSWERABLE = 55.0  # a reading scoring this may answer (near the brain's thresholds)
DESCRIBING = frozenset({"city", "country", "region", "year", "month", "day", "meeting_kind"})
"""Details that may merely describe a named meeting ("ASEM5 in Hanoi in October 2004")."""
SPECIFIC_BONUS = 4.0
TIME = "time."  # the intents that count time: how long ago, how long between
DURATION_BONUS = 10.0  # "how long", "how many years since": a span is asked, which they count
DATED = frozenset({"meeting", "event", "asef", "country", "date", "year"})
UNNAMED_PENALTY = 15.0
OTHER_BODIES = frozenset({"eu", "asean"})  # partners/groups that are organisations of their own
BETA = 1.5  # >1 weighs covering the example above explaining every word of the question
LONG_CONTENT = 14  # content words beyond which a message is long
LONG_BETA = 4.0
FILLER_WEIGHT = 0.25
WORD_SHARE = 0.8  # how much of the score is word overlap; the rest is character similarity
TOP_FOR_CHARS = 40  # character similarity is computed for the best examples only
COMMON_POSTINGS = 200  # a word in more examples does not by itself make a candidate
CONTRAST_PENALTY = 6.0  # a body or detail named beside ASEM ("is ASEM like the G20?")
# What a question is about (the subjects of bot.domain.kinds): a named one that the intent
# ignores costs more than a detail (a year, a region) does.
PRIMARY_EXTRA_PENALTY = 10.0
VERDICT_SIMILARITY = 0.8  # how close to a yes/no phrasing a question must be for its verdict
NEGATIONS = frozenset({"not", "no", "never", "without", "nor"})
PLACE_WORDS = frozenset({"in", "at", "from"})
REQUESTING = frozenset({"can", "could", "would", "will"})
PARSE_MEMO = 4096  # questions whose parse is remembered
NEVER_CLOSE = 0.2  # intents less similar than this are left out of the ranking
UNANCHORED_UNKNOWN = 1.5  # an unknown word weighs this much more in a question not about ASEM


def _meeting_words(kb: KnowledgeBase) -> set[str]:
    """Words after which a number names a meeting: each code's word ("asem" in ASEM{n}) and
    the one-word names of the series with numbered meetings ("fmm", "summit")."""
    words: set[str] = set()
    for series in kb.numbered_series:
        code = (series.code or "").replace("{n}", "").strip().casefold()
        if code.isalpha():
            words.add(code)
        words |= {a.casefold() for a in series.aliases if a.isalpha() and len(a) >= 3}
    return words


@dataclass(frozen=True)
class Need:
    type: str
    value: str = ""  # "country=kh": if a country is named it must be kh; if none, kh is implied

    @classmethod
    def parse(cls, text: str) -> Need:
        kind, _, value = text.partition("=")
        return cls(kind, value)


@dataclass(frozen=True)
class IntentInfo:
    name: str
    needs: tuple[Need, ...]
    accepts: frozenset[str]
    needs_two: bool = False  # two of the things it needs named (between them)

    @property
    def required(self) -> tuple[str, ...]:
        """Entity types of which the question must name one (any of them)."""
        return tuple(n.type for n in self.needs if not n.value)

    @property
    def valued(self) -> tuple[Need, ...]:
        """``country=kh``: if a country is named it must be Cambodia (none: Cambodia)."""
        return tuple(n for n in self.needs if n.value)


@dataclass(frozen=True)
class Candidate:
    intent: str
    score: float  # 0..100 after adjustments
    raw: float  # best similarity to an example, before adjustments


@dataclass
class Parse:
    """What the bot understood of one question."""

    text: str
    lang: str
    tokens: list[str]
    entities: list[Entity]
    content: list[str]  # slotted tokens without fillers
    unknown: list[str]  # content words found nowhere in the knowledge base
    slotted: list[str] = field(default_factory=list)  # tokens with entities as slots
    candidates: list[Candidate] = field(default_factory=list)
    distinctive: frozenset[str] = frozenset()  # series whose name alone says ASEM (FMM, SOM)
    described: list[Entity] = field(default_factory=list)  # details of a named meeting
    yes_no: bool = False  # asks yes or no ("was ASEM3 in Seoul?")
    denies: bool = False  # a "not" in what it asks (see negated)
    elsewhere: bool = False  # about another body: "is Cambodia in ASEAN?", "the G20 summit"
    best: dict[str, float] | None = None  # intent -> its closest phrasing (0..1), once
    # how close the question is to each yes/no phrasing sharing a word with it (0..1)
    phrasings: dict[int, float] = field(default_factory=dict)

    @property
    def referred(self) -> bool:
        """A thing was read from a reference ("before Cambodia joined")."""
        return any(e.relation == "referred" or e.type == "date" for e in self.entities)

    @property
    def read_as_meeting(self) -> bool:
        """A thing was read from a description or a reference ("the Bali FMM", "the summit
        after FMM11", "before Cambodia joined")."""
        return any(
            e.relation in ("described", "referred") or e.type == "date" for e in self.entities
        )

    @property
    def negated(self) -> bool:
        """It denies what it asks ("does ASEM have no secretariat?"); a negative question
        ("isn't it England?", "wasn't ASEM13 in June?") asks the same as a positive one."""
        return self.denies

    @property
    def unread_place(self) -> bool:
        """A word not understood where a place would be ("was ASEM10 in Rome?")."""
        unknown = set(self.unknown)
        return any(
            t in unknown and i > 0 and self.tokens[i - 1] in PLACE_WORDS
            for i, t in enumerate(self.tokens)
        )

    def of_type(self, entity_type: str) -> list[Entity]:
        return [e for e in self.entities if e.type == entity_type]

    @property
    def anchored(self) -> bool:
        """Plainly about ASEM: it says "ASEM", or names a meeting, ASEF, or a series whose
        name says ASEM, an FMM or a SOM ("summit" alone is any summit: Everest has one)."""
        if "asem" in self.tokens or self.of_type("meeting") or self.of_type("asef"):
            return True
        kinds = {v for e in self.of_type("meeting_kind") for v in e.values}
        return bool(kinds & self.distinctive)

    @property
    def words(self) -> list[str]:
        """The content words that are not entities."""
        return [t for t in self.content if not t.startswith("<")]


class Understanding:
    """The whole understanding pipeline for one language, built once from the knowledge base."""

    def __init__(self, kb: KnowledgeBase, lang: str = "en") -> None:
        self.lang = lang
        self.normalise = Normaliser(
            kb.lexicons[lang], _meeting_words(kb), khmer=KhmerReader.from_kb(kb)
        )
        gazetteer = build_gazetteer(kb, self.normalise, lang)
        codes = SeriesCodes.from_kb(kb, self.normalise)
        self.extract = EntityExtractor(gazetteer, self.normalise, codes)
        self.references = References(kb, self.normalise, kb.lexicons[lang])
        self._series_with_meetings = frozenset(s for s in kb.series if kb.meetings(s))
        self._main_series = kb.main_series
        self._distinctive = frozenset(s.id for s in kb.series.values() if s.distinctive)
        # partners that are bodies of members: the EU (its group: the EU member states)
        self._body_groups = frozenset(kb.partners) & frozenset(kb.groups)
        self.lead_ins = frozenset(
            t for w in getattr(kb.lexicons[lang], "lead_ins", ()) for t in self.normalise.basic(w)
        )
        self.other_asks = frozenset(
            t
            for w in getattr(kb.lexicons[lang], "other_asks", ())
            for t in self.normalise.basic(w)
        )
        lexicon = kb.lexicons[lang]
        self.question_words = frozenset(
            t for w in getattr(lexicon, "question_words", ()) for t in self.normalise.basic(w)
        )
        # (series, key, city, country, year) of every meeting, to read "the Bali FMM" as FMM5
        self._meetings = [
            (m.kind, m.key, m.record.city, kb.meeting_country(m), m.start.year)
            for m in kb.all_meetings()
        ]
        self._meeting_facts = {m.key: meeting_facts(kb, m) for m in kb.all_meetings()}
        examples = [(q, self.normalise.basic(e)) for q in kb.questions for e, _ in phrasings(q)]
        # The vocabulary: words of the examples and of every name, so typos are fixed towards
        # words that matter here, never towards arbitrary English.
        # The words of the knowledge base's own English texts count too: "president" is a word
        # of its answers, not a typo of "presided".
        texts = {
            t
            for text in english_texts(kb)
            for word in text.split()
            for t in self.normalise.basic(word)
        }
        self.normalise.set_vocabulary(
            {t for _, tokens in examples for t in tokens}
            | gazetteer.words
            | {t for t in texts if t.isalpha()}
        )
        self.intents: dict[str, IntentInfo] = {}
        self._examples: list[tuple[str, tuple[str, ...]]] = []  # (intent, slotted tokens)
        # yes/no phrasings: example -> (verdict, what it names, whether it is negated)
        self._verdicts: dict[int, tuple[str, frozenset[tuple[str, str]], bool]] = {}
        self._intent_words: dict[str, frozenset[str]] = {}  # the words of its phrasings
        self._parsed: dict[str, Parse] = {}
        self._stems: dict[str, str] = {}
        # the forms the lexicon rewrites words to ("founded", "held"): never cut short
        self._canonical = frozenset(
            t for replacement in self.normalise.synonyms.values() for t in replacement
        )
        self._names: dict[str, tuple[list[str], list[Entity]]] = {}
        for question in kb.questions:
            self._add_question(question)
        self._index()
        self._smalltalk_words = frozenset(
            t
            for intent, words in self._intent_words.items()
            if intent.startswith(SMALLTALK)
            for t in words
        )
        self._needs = {name: (info.required, info.valued) for name, info in self.intents.items()}
        self._names.clear()  # the examples' words: not kept in the cached brain

    def _add_question(self, question: Question) -> None:
        accepts: set[str] = set()
        needs = tuple(Need.parse(n) for n in question.needs)
        named: list[set[tuple[str, str]]] = []
        first = len(self._examples)
        for example, verdict in phrasings(question):
            parse = self._parse_only(example, refer=False)
            accepts.update(e.type for e in parse.entities)
            named.append({(e.type, e.value) for e in parse.entities if e.type in ABOUT})
            if verdict:
                self._verdicts[len(self._examples)] = (verdict, _named(parse), _negated(parse))
            self._examples.append((question.intent, tuple(parse.slotted)))
        if question.intent.startswith(FACT) and not needs and named:
            # a fact whose every example names the same meeting (partner, event) is about
            # it: "was ASEM5 7-9 October?" is not asked of another summit
            common = set.intersection(*named)
            needs = tuple(Need(kind, value) for kind, value in sorted(common))
        accepts.update(n.type for n in needs)
        self.intents[question.intent] = IntentInfo(
            question.intent, needs, frozenset(accepts), question.needs_two
        )
        self._intent_words[question.intent] = frozenset(
            t for _, tokens in self._examples[first:] for t in tokens
        )

    def _index(self) -> None:
        """Word weights (rarer across intents = more telling) and an inverted index."""
        intents_with: dict[str, set[str]] = {}
        for intent, tokens in self._examples:
            for token in tokens:
                intents_with.setdefault(token, set()).add(intent)
        n_intents = len(self.intents)
        self.weights = {
            token: FILLER_WEIGHT
            if token in self.normalise.fillers
            else math.log(1 + n_intents / len(intents))
            for token, intents in intents_with.items()
        }
        self.unknown_weight = math.log(1 + n_intents) * UNANCHORED_UNKNOWN
        self.postings: dict[str, list[int]] = {}
        self._example_weight: list[float] = []
        self._example_text: list[str] = []
        self._example_intents = [intent for intent, _ in self._examples]
        for i, (_, tokens) in enumerate(self._examples):
            unique = set(tokens)
            for token in unique:
                self.postings.setdefault(token, []).append(i)
            self._example_weight.append(sum(self.weights[t] for t in unique))
            self._example_text.append(
                " ".join(t for t in tokens if t not in self.normalise.fillers)
            )
        self._known_tokens = [t for t in self.postings if t.isalpha() and len(t) >= 5]
        self._near_words: dict[str, list[tuple[str, float]]] = {}
        # words in many examples (fillers, "asem", "what"): cheap to add, costly to start from
        self._common = {t for t, ids in self.postings.items() if len(ids) > COMMON_POSTINGS}
        self._posting_sets = {t: frozenset(self.postings[t]) for t in self._common}

    # -- parsing -------------------------------------------------------------------------------

    def _meeting_by_description(
        self, tokens: list[str], entities: list[Entity]
    ) -> tuple[list[Entity], set[int]]:
        """Read "the Bali FMM", "the 2006 summit", "the FMM in Madrid in 2019" as one meeting.

        When a kind (summit or FMM) with a place and/or a year fits exactly one meeting,
        those entities become that meeting. Returns the entities
        and the token positions the merged parts covered (left out of matching).
        """
        named = [e for e in entities if e.type == "meeting"]
        if named and not self.references.relation_between(tokens, named, entities):
            return entities, set()  # "ASEM5 in Hanoi": a meeting named, its place a detail
        kinds = [e for e in entities if e.type == "meeting_kind"]
        if any(v not in self._series_with_meetings for e in kinds for v in e.values):
            return entities, set()
        joining = self.references.joining(tokens, entities)  # "before Cambodia joined"
        places = [e for e in entities if e.type in ("city", "country") and e not in joining]
        # a year right before a kind or a place describes the meeting, whatever word comes
        # before it ("the summit right before the 2019 Madrid FMM")
        describing = {e.start for e in entities if e.type in ("meeting_kind", "city", "country")}
        years = [e for e in entities if e.type == "year" and not e.relation]
        for e in entities:
            if e.type == "year" and e.relation and e.end in describing:
                # the year alone describes; "before", "after" stay for the reference
                bare = dataclasses.replace(e, start=e.end - 1, relation="")
                entities = [bare if x is e else x for x in entities]
                years.append(bare)
        # a kind must be named ("the Bali FMM"); "asem" alone will do only right beside a
        # year ("asem 2014"), never with a country ("is Japan in ASEM" is not FMM7 in Kyoto)
        asem_year = any(
            "asem" in tokens[max(0, e.start - 1) : e.end + 1] for e in years
        )  # "asem 2014", "the 2014 asem"; not "did asem have 53 partners in 2014"
        # a place describes the meeting only next to its kind or year ("the Vientiane summit",
        # "the FMM in Madrid in 2019"); "was Kazakhstan in ASEM at the 2018 summit" names a
        # partner, not where the summit was
        # and not across a word of order: in "the summit after Seoul" Seoul is the summit
        # before it
        near = [*kinds, *years]
        order = self.references.words.after | self.references.words.before

        def close(a: Entity, b: Entity) -> bool:
            between = tokens[min(a.end, b.end) : max(a.start, b.start)]
            return _gap(a, b) <= 2 and not order.intersection(between)

        places = [p for p in places if any(close(p, k) for k in near)]
        if not (places or years) or not (kinds or asem_year):
            return entities, set()
        # "the 2006 ASEM meeting" is a summit or an FMM
        wanted_kinds = {v for e in kinds for v in e.values} or set(self._main_series)
        cities = {v for e in places if e.type == "city" for v in e.values}
        countries = {v for e in places if e.type == "country" for v in e.values}
        wanted_years = {int(v) for e in years for v in e.values}
        # every place and year named must fit the meeting ("the EU-China summit" fits none)
        found = [
            key
            for kind, key, city, country, year in self._meetings
            if kind in wanted_kinds
            and cities <= {city}
            and countries <= {country}
            and wanted_years <= {year}
        ]
        if len(found) != 1:
            return entities, set()
        # only the series the meeting is of: in "the summit after the New Delhi FMM" the
        # summit stays a series of its own
        series = found[0].partition("_")[0]
        # "which summit came after the Seoul summit": the kind beside the place is the
        # meeting described, the other one is asked for
        described = [*places, *years]
        own = [e for e in kinds if series in e.values]
        own = [e for e in own if any(close(e, d) for d in described)] or own
        parts = [*own, *described]
        anchor = min(parts, key=lambda e: e.start)
        merged = Entity(
            "meeting", (found[0],), anchor.start, anchor.end, anchor.text, relation="described"
        )
        covered = {i for e in parts if e is not anchor for i in range(e.start, e.end)}
        kept = [e for e in entities if all(e is not p for p in parts)]
        return sorted([*kept, merged], key=lambda e: e.start), covered

    def _absorb_details(
        self, tokens: list[str], entities: list[Entity]
    ) -> tuple[list[Entity], set[int], list[Entity]]:
        """Drop the place and year that merely describe a named meeting: in "the Fifth ASEM
        Summit in Hanoi in 2004" the question is about ASEM5, not about Hanoi or 2004. Returns
        the entities kept, the token positions dropped, and the entities dropped."""
        meetings = {v for e in entities if e.type == "meeting" for v in e.values}
        if not meetings:
            return entities, set(), []
        facts = {fact for key in meetings for fact in self._meeting_facts.get(key, ())}
        kept: list[Entity] = []
        covered: set[int] = set()
        described: list[Entity] = []
        named = [e for e in entities if e.type == "meeting"]
        for entity in entities:
            describes = entity.type in DESCRIBING and not entity.relation
            if describes and entity.type in ("city", "country"):
                # "had Beijing hosted any meeting before the 2008 summit": a place on the
                # other side of a word of order is the subject, not where that meeting was
                describes = not any(
                    self.references.order_between(tokens, entity, m) for m in named
                )
            if entity.type == "meeting_kind":
                # "the theme of which summit was Quality of Life": the series of the meeting
                # named, unless "the summit after ASEM5" asks for another of that series
                describes = not any(
                    self.references.order_between(tokens, entity, m) for m in named
                )
            if describes and all((entity.type, v) in facts for v in entity.values):
                covered.update(range(entity.start, entity.end))
                described.append(entity)
            else:
                kept.append(entity)
        return kept, covered, described

    def _parse_only(self, text: str, *, describe: bool = True, refer: bool = True) -> Parse:
        """Tokens, entities and slots of ``text``. ``describe``: read "the Bali FMM" as FMM5;
        ``refer``: resolve references ("the summit after FMM11"), which examples never do:
        "at which summit did Cambodia join" teaches how a joining is asked, whatever summit
        it names."""
        tokens, entities = self._read(text)
        covered: set[int] = set()
        if describe:
            entities, covered = self._meeting_by_description(tokens, entities)
        entities, dropped, described = self._absorb_details(tokens, entities)
        covered |= dropped
        entities = self._bodies_as_groups(entities)
        if describe and refer:
            entities, referred = self.references(tokens, entities)
            covered |= referred
        # days and months narrow or check what is asked; they do not say which fact
        covered |= {i for e in entities if e.type in UNMATCHED for i in range(e.start, e.end)}
        # "and", "so", "btw" opening a question lead into it: they are not what it asks (the
        # examples, read before the weights exist, are written without them)
        lead = 0
        while (
            refer
            and lead < len(tokens) - 1
            and tokens[lead] in self.lead_ins
            and self.weights.get(tokens[lead], 0.0) < 1.0  # not "next": it tells what is asked
        ):
            lead += 1
        covered |= set(range(lead))
        slotted: list[str] = []
        unknown: list[str] = []
        by_start = {e.start: e for e in entities}
        i = 0
        while i < len(tokens):
            entity = by_start.get(i)  # an entity made from covered words is still a slot
            if entity and entity.type not in UNMATCHED:
                if entity.type == "year" and entity.relation:  # "after 2010": a list
                    slotted.append(entity.relation)
                slotted.append(SLOT[entity.type])
                i = entity.end
                continue
            if i in covered or entity:
                i += 1
                continue
            token = tokens[i]
            i += 1
            if is_ordinal(token):
                token = "first" if token == "#1" else "nth"
            elif token.startswith("~"):
                token = token[1:]  # a spelled number matches its digits
            slotted.append(self._stem(token))
            if (
                token not in self.normalise.vocabulary
                and token not in self.normalise.fillers
                and token.isalpha()
                and len(token) > 2
            ):
                unknown.append(token)
        # a yes/no tag ends the question ("..., right?", "yes or no"): it asks, it is not asked
        tag = self._yes_no_tag(tokens)
        if tag:
            slotted = slotted[: len(slotted) - tag] if slotted[-tag:] == tokens[-tag:] else slotted
        # a message of common words only ("are you a bot?") is matched on all of them
        content = [t for t in slotted if t not in self.normalise.fillers] or list(slotted)
        return Parse(
            text,
            self.lang,
            tokens,
            entities,
            content,
            unknown,
            slotted,
            distinctive=self._distinctive,
            described=described,
            yes_no=self._asks_yes_or_no(text, tokens),
            denies=self._denies(tokens),
        )

    def intent_words(self, intent: str) -> frozenset[str]:
        """The words of an intent's phrasings."""
        return self._intent_words.get(intent, frozenset())

    def explains(self, parse: Parse, intent: str) -> bool:
        """Whether every word of the question is a word of the intent's phrasings or a thing
        named: only then can a yes be said ("did ASEM13 fail?" is not "did ASEM13 happen?")."""
        words = self._intent_words.get(intent, frozenset())
        flags = self.normalise.flags  # a claimed flag is checked: "an original member?"
        # the "not" of a negative question ("wasn't ASEM10 in Milan?") asks nothing more
        ignored = NEGATIONS if not parse.denies else frozenset()
        return all(
            t in words
            or t.startswith("<")
            or t in self.question_words
            or t in flags
            or t in ignored
            for t in parse.content
        )

    def verdict(self, parse: Parse, intent: str) -> str:
        """ "yes" or "no" when the question is asked as one of the intent's yes/no phrasings
        (nearly word for word, naming the same things, negated alike); else ""."""
        if parse.unread_place:
            return ""
        asked, negated = _named(parse), _negated(parse)
        close = [
            (score, self._verdicts[i][0])
            for i, score in parse.phrasings.items()
            if self._example_intents[i] == intent
            and score >= VERDICT_SIMILARITY
            and self._verdicts[i][1:] == (asked, negated)
        ]
        return max(close)[1] if close else ""

    def _bodies_as_groups(self, entities: list[Entity]) -> list[Entity]:
        """A partner that is a body of members, named beside a country, is that body's group:
        in "is the UK in the EU?" the EU is the EU member states, not the partner."""
        countries = [e for e in entities if e.type == "country"]
        bodies = [e for e in countries if set(e.values) <= self._body_groups]
        if not bodies or len(bodies) == len(countries):
            return entities
        return [dataclasses.replace(e, type="group") if e in bodies else e for e in entities]

    def _stem(self, token: str) -> str:
        """The word without its English endings, for matching: "hosted", "hosting", "hosts"
        and "host" match; "proposed" and "propose" too. Fillers and the forms the lexicon
        rewrites to ("founded", "held") are kept as they are."""
        stem = self._stems.get(token)
        if stem is None:
            stem = token
            if (
                len(token) > 4
                and token.isascii()
                and token.isalpha()
                and token not in self.normalise.fillers
                and token not in self._canonical
            ):
                for ending in ("ing", "ed", "es"):
                    if token.endswith(ending) and len(token) - len(ending) >= 4:
                        stem = token[: -len(ending)]
                        if len(stem) > 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                            stem = stem[:-1]  # "planning", "planned": "plan"
                        break
                if len(stem) >= 6 and stem.endswith("e"):
                    stem = stem[:-1]  # "propose", "decide" as "proposed", "decided"
                if stem in self.normalise.fillers:
                    stem = token
            if len(self._stems) > MEMO_SIZE:
                self._stems.clear()
            self._stems[token] = stem
        return stem

    def _denies(self, tokens: list[str]) -> bool:
        """A negation in what is asked: not the yes/no tag ("..., or not?"), nor the "not" of
        a negative question's verb ("is not it England?")."""
        words = tokens[: len(tokens) - self._yes_no_tag(tokens)]
        start = 0
        while start < len(words) and (words[start] in self.lead_ins or words[start] == "wait"):
            start += 1
        verb = start + 1 < len(words) and words[start] in self.normalise.yes_no
        if verb and words[start + 1] in NEGATIONS:
            words = words[: start + 1] + words[start + 2 :]
        return not NEGATIONS.isdisjoint(words)

    def _yes_no_tag(self, tokens: list[str]) -> int:
        """How many words the yes/no tag ending the question has (0: none)."""
        return max(
            (
                len(tag)
                for tag in self.normalise.yes_no_tags
                if tag and len(tag) < len(tokens) and tuple(tokens[-len(tag) :]) == tag
            ),
            default=0,
        )

    def _asks_yes_or_no(self, text: str, tokens: list[str]) -> bool:
        """ "Was ASEM3 in Seoul?", "asem 13 was in june right?", "pakistan in asem or not",
        "switzerland partner at asem8??" (a question with no question word)."""
        while tokens and tokens[0] in self.lead_ins:
            tokens = tokens[1:]  # "and is it the only permanent body?", "also does ASEM..."
        if not tokens:
            return False
        if tokens[0] in REQUESTING and tokens[1:2] in (["you"], ["u"]):
            # "can you do my homework?", "could you list the partners?": a request, unless
            # what it asks is whether ("could you confirm whether ASEM has a secretariat?")
            return "whether" in tokens or "if" in tokens
        if "or" in tokens[: len(tokens) - self._yes_no_tag(tokens)]:
            return False  # "was FMM1 on 14 or 15 February?": a choice, not yes or no
        if tokens[0] in self.normalise.yes_no:
            return True
        if (
            tokens[0] == "the"
            and len(tokens) <= NOUN_PHRASE
            and self.normalise.yes_no.isdisjoint(tokens)
        ):
            return False  # "the summit after Seoul?": a thing asked for, not a claim
        if any(tuple(tokens[-len(tag) :]) == tag for tag in self.normalise.yes_no_tags if tag):
            return True
        asking = text.rstrip().endswith("?")
        # "austria founding member?": two words will do when one is a claim
        shortest = 2 if any(t in self.normalise.flags for t in tokens) else 3
        return asking and len(tokens) >= shortest and not set(tokens) & self.question_words

    def forget(self) -> None:
        """Forget the remembered parses (benchmarks time questions as if first seen)."""
        self._parsed.clear()
        self._names.clear()

    def _read(self, text: str) -> tuple[list[str], list[Entity]]:
        """The words and names of ``text`` (copies: the readings change their lists),
        remembered for the other readings of the same text."""
        known = self._names.get(text)
        if known is None:
            if len(self._names) > PARSE_MEMO:
                self._names.clear()
            tokens = self.normalise(text)
            known = self._names[text] = (tokens, self.extract(tokens))
        return list(known[0]), list(known[1])

    def entities_of(self, text: str) -> list[Entity]:
        """The things ``text`` names, without ranking intents (background chatter)."""
        return self._parse_only(text).entities

    def parse(self, text: str) -> Parse:
        """What ``text`` asks; remembered, since a message is read several times (its parts,
        the whole, around its sentences) and campaigns bring the same questions again. A
        parse is not changed once made."""
        parse = self._parsed.get(text)
        if parse is None:
            if len(self._parsed) > PARSE_MEMO:  # questions are endless: stay small
                self._parsed.clear()
            parse = self._parsed[text] = self._parse_new(text)
        return parse

    def _parse_new(self, text: str) -> Parse:
        parse = self._parse_only(text)
        parse.candidates = self.rank(parse)
        parse.elsewhere = self._about_another_body(parse) or self._about_other_membership(parse)
        if parse.read_as_meeting:
            # "the Bali FMM" is FMM5, but in "at which summit did Cambodia join" the summit and
            # Cambodia are two things: both readings are scored, the plainer one wins ties; a
            # reference ("the summit after FMM11") is more specific and loses only clearly
            plain = self._parse_only(text, describe=False)
            plain.candidates = self.rank(plain)
            plain.elsewhere = parse.elsewhere
            best = parse.candidates[0].score if parse.candidates else 0.0
            lead = REFERENCE_LEAD if parse.referred else 0.0
            same_answer = (
                parse.referred
                and plain.candidates
                and parse.candidates
                and plain.candidates[0].intent == parse.candidates[0].intent
                and best >= ANSWERABLE
            )
            if same_answer:
                # "how many summits before Cambodia joined": both readings ask for a count;
                # the reference says of what ("before 7 October 2004"), the plain reading
                # leaves its words out ("summits in Cambodia")
                return parse
            if plain.candidates and plain.candidates[0].score >= best + lead:
                return plain
        return parse

    def similarities(self, parse: Parse) -> dict[int, float]:
        """How close the question is to each example that shares a word with it, 0..1.

        A weighted overlap of words (each word weighs more the fewer intents use it; fillers
        weigh little; a word the bot has never seen weighs most, since it is what the question
        is really about), where words also match their near spellings (rapidfuzz), blended
        with rapidfuzz's token_sort_ratio of the texts. Examples sharing nothing score 0 and
        are left out.
        """
        if not parse.content:
            return {}
        query = set(parse.slotted)
        # A word the bot has never seen is what the question is really about ("capital of
        # Mongolia") unless the question is plainly about ASEM already ("the 6th FMM was in
        # Dublin, right?"): then it is a detail and weighs little.
        unknown_weight = 1.0 if parse.anchored else self.unknown_weight
        matched: dict[int, float] = {}
        query_weight = 0.0
        common: list[tuple[str, float]] = []  # words in most examples: added to candidates only
        for token in query:
            weight = self.weights.get(token)
            if weight is None:
                weight = FILLER_WEIGHT if token in self.normalise.fillers else unknown_weight
            query_weight += weight
            postings = self.postings.get(token)
            if postings is not None:
                if token in self._common:
                    common.append((token, weight))
                    continue
                for example in postings:
                    matched[example] = matched.get(example, 0.0) + weight
            elif token.isalpha() and len(token) >= 5 and token not in self.normalise.vocabulary:
                # a misspelling of a known word; a real word of the knowledge base's texts
                # ("president") is not another word ("presided")
                for near, score in self._near(token):
                    if near in query:
                        continue
                    gained = self.weights[near] * score / 100 * 0.9
                    for example in self.postings[near]:
                        matched[example] = matched.get(example, 0.0) + gained
        # Fillers and words such as "asem" are in hundreds of examples; an example sharing
        # only those cannot be the best one unless nothing else matches at all.
        if matched:
            for token, weight in common:
                holders = self._posting_sets[token]
                for example in matched:
                    if example in holders:
                        matched[example] += weight
        else:
            for token, weight in common:
                for example in self.postings[token]:
                    matched[example] = matched.get(example, 0.0) + weight
        # a long message holds much besides its question: what matters is that it contains
        # an example's words, not that the example explains all of it
        beta = BETA if len(parse.content) <= LONG_CONTENT else LONG_BETA
        beta2 = beta * beta
        example_weight = self._example_weight
        out: dict[int, float] = {}
        for i, hit in matched.items():
            precision = hit / query_weight  # how much of the question the example explains
            recall = hit / example_weight[i]  # how much of the example the question has
            out[i] = (1 + beta2) * precision * recall / (beta2 * precision + recall)
        text = " ".join(parse.content)
        best = sorted(out.items(), key=itemgetter(1), reverse=True)[:TOP_FOR_CHARS]
        for i, _ in best:
            ratio = fuzz.token_sort_ratio(text, self._example_text[i]) / 100
            out[i] = WORD_SHARE * out[i] + (1 - WORD_SHARE) * ratio
        return out

    def _near(self, token: str) -> list[tuple[str, float]]:
        """Known words spelt close to an unknown one ("organisation" ~ "organised"), memoised."""
        near = self._near_words.get(token)
        if near is None:
            near = [
                (word, score)
                for word, score, _ in process.extract(
                    token, self._known_tokens, scorer=fuzz.ratio, score_cutoff=82, limit=3
                )
            ]
            self._near_words[token] = near
            if len(self._near_words) > MEMO_SIZE:  # unknown words are endless: stay small
                self._near_words.clear()
        return near

    def rank(self, parse: Parse, known: dict[str, set[str]] | None = None) -> list[Candidate]:
        """The intents in order of fit. ``known``: things the conversation is about, by kind,
        that count for what an intent needs ("who hosted it?": the meeting just talked of),
        though the question does not name them."""
        if not parse.content or self._about_another_body(parse):
            return []
        if parse.best is None:  # the same whatever the context: computed once
            best: dict[str, float] = {}
            phrasings = parse.phrasings
            verdicts = self._verdicts
            intent_of = self._example_intents
            for i, score in self.similarities(parse).items():
                intent = intent_of[i]
                if score > best.get(intent, -1.0):
                    best[intent] = score
                if i in verdicts:
                    phrasings[i] = score
            # an intent this far from every phrasing is never an answer nor a suggestion
            parse.best = {k: v for k, v in best.items() if v >= NEVER_CLOSE}
        best = parse.best
        needs = self._needs
        values: dict[str, set[str]] = {}  # entity type -> the values named
        for entity in parse.entities:
            if entity.type not in UNMATCHED:
                values.setdefault(entity.type, set()).update(entity.values)
        present = set(values)
        # "FMM7 was in Kyoto; where was the summit the next year?": a series named beside a
        # meeting of another series, which no reference resolved, is a second thing asked of;
        # an answer about the meeting alone leaves it out
        # "how long has Cambodia been in ASEM", "how many years between FMM1 and FMM14"
        duration = self.references.asks_duration(parse.tokens) and self.other_asks.isdisjoint(
            parse.tokens
        )  # not "how old is the king of Thailand"

        dated = sum(len(e.values) for e in parse.entities if e.type in DATED)
        named_series = {key.partition("_")[0] for key in values.get("meeting", ())}
        other_series = bool(named_series) and bool(
            values.get("meeting_kind", set()) - named_series
        )
        required_from = {k: set(v) for k, v in values.items()}
        for kind, extra in (known or {}).items():
            required_from.setdefault(kind, set()).update(extra)
        other_membership = self._about_other_membership(parse)
        # entity types whose only values are bodies (the EU, ASEAN) rather than countries
        bodies_only = {
            kind for kind in ("country", "group") if values.get(kind, {""}) <= OTHER_BODIES
        }
        # Another body named beside ASEM is a comparison, not the subject ("is ASEM like the
        # G20?"); in a plainly-ASEM question a place or year is a detail to check: both cost
        # little.
        contrasts = set(CONTRASTS) | (bodies_only | DETAILS if parse.anchored else set())
        contrast_cost = CONTRAST_PENALTY if parse.anchored else UNUSED_ENTITY_PENALTY
        # small talk is a message of its own ("hi", "thanks a lot, bong"): nothing named, and
        # no word the knowledge base knows but small talk does not ("the date of ASEM9, thank
        # you" is about ASEM, "how do you say thank you in Khmer" about something else)
        chatter = (
            not (parse.anchored or any(e.type not in UNMATCHED for e in parse.entities))
            and all(
                t in self._smalltalk_words or t not in self.normalise.vocabulary
                for t in parse.content
            )
            # a word of small talk itself, not only "who" ("who was it?" is no "who are you?")
            and any(
                t in self._smalltalk_words and t not in self.question_words for t in parse.slotted
            )
        )
        candidates = []
        named_kinds = required_from.keys()
        intents = self.intents
        for intent, similarity in best.items():
            if not chatter and intent.startswith(SMALLTALK):
                continue
            required, valued = needs[intent]
            if required and named_kinds.isdisjoint(required):
                continue
            if intent.startswith(TIME) and not dated and not self.explains(parse, intent):
                continue  # "how old is the ASEM logo": not ASEM's own age, nor anything dated
            if (
                intents[intent].needs_two
                and sum(len(required_from.get(kind, ())) for kind in set(required)) < 2
            ):
                continue  # "which summit came before it?" asks no "which came first"
            specific = unnamed = False
            if valued:
                if any(
                    n.type in required_from and n.value not in required_from[n.type]
                    for n in valued
                ):
                    continue
                specific = any(n.value in values.get(n.type, ()) for n in valued)
                # a fact about one thing (ASEM8's theme), asked without naming anything of
                # its kind ("theme?"): only its own words make it the answer
                unnamed = not any(n.type in required_from for n in valued)
            accepts = intents[intent].accepts
            if other_membership and "country" in accepts:
                continue  # a question about the EU or ASEAN itself, not about ASEM
            raw = 100 * similarity
            score = raw
            unused = present - accepts
            if unused:
                extra = unused - contrasts
                score -= UNUSED_ENTITY_PENALTY * len(extra)
                score -= PRIMARY_EXTRA_PENALTY * len(extra & SUBJECTS)
                score -= contrast_cost * len(unused & contrasts)
            if other_series and "meeting" in accepts:
                score -= UNUSED_ENTITY_PENALTY
            if duration and intent.startswith(TIME) and dated >= (2 if required else 1):
                score += DURATION_BONUS  # of a dated thing named (not "how old is Hun Sen")
            elif duration and dated and not intent.startswith((TIME, FACT)):
                score -= DURATION_BONUS  # a card or a list tells no span
            if specific:
                score += SPECIFIC_BONUS  # "what did ASEM13 adopt" is asem13.outcome
            elif unnamed:
                score -= UNNAMED_PENALTY
            candidates.append(Candidate(intent, max(0.0, score), raw))
        # best first; on a tie the answer composed from the records before a fact's prose,
        # then by name, so that the order never depends on the order of a set
        candidates.sort(key=lambda c: (-c.score, c.intent.startswith(FACT), c.intent))
        return candidates

    @staticmethod
    def _about_another_body(parse: Parse) -> bool:
        """A question about another organisation, with no word of ASEM in it: "When is the next
        G20 summit?", "is Russia in the G20?", "the EU-China summit"."""
        if parse.anchored:  # "ASEM", a meeting, ASEF, an FMM or a SOM is named
            return False
        if parse.of_type("organisation"):
            return True
        bodies = {v for e in parse.of_type("country") for v in e.values} | {
            v for e in parse.of_type("group") for v in e.values
        }
        return bool(bodies & OTHER_BODIES) and bool(parse.of_type("meeting_kind"))

    @staticmethod
    def _about_other_membership(parse: Parse) -> bool:
        """Membership of a body that is itself an ASEM partner or group, with no word of ASEM
        in the question: "When did Croatia join the EU?", "is Cambodia in ASEAN?"."""
        if parse.anchored or "group" in parse.tokens:  # "the ASEAN group" is ASEM's
            return False
        countries = [v for e in parse.of_type("country") for v in e.values]
        if "eu" in countries and not parse.of_type("meeting_kind") and len(countries) == 1:
            # "who founded the European Union": the EU as the subject, not as a partner
            return "founded" in parse.tokens or "join" in parse.tokens
        # the EU is a body one joins; the ASEAN Secretariat is not (ASEAN, the group, is)
        bodies = [v for v in countries if v == "eu"] + [
            v for e in parse.of_type("group") for v in e.values if v in OTHER_BODIES
        ]
        others = [v for v in countries if v != "eu"]
        if not (bodies and others):
            return False
        # "is the UK in the EU?": the EU's membership splits ASEM's European partners (the EU
        # member states, the non-EU three) and changed with Brexit, so asked of a partner it
        # is answered; "when did Croatia join the EU?" is the EU's history, which the records
        # do not hold; "is Cambodia in ASEAN?" is ASEAN's own membership
        return "asean" in bodies or not {"join", "founded"}.isdisjoint(parse.tokens)


def _named(parse: Parse) -> frozenset[tuple[str, str]]:
    """The things and numbers a question names: a yes/no phrasing settles only a question
    that names the same ("does ASEM have 3 pillars?" is not "... 4 pillars?")."""
    named = {(e.type, v) for e in parse.entities for v in e.values}
    covered = {i for e in parse.entities for i in range(e.start, e.end)}
    numbers = {
        ("number", t.lstrip("~"))
        for i, t in enumerate(parse.tokens)
        if i not in covered and t.lstrip("~").isdigit()
    }
    return frozenset(named | numbers)


def _negated(parse: Parse) -> bool:
    return parse.negated


def _gap(first: Entity, second: Entity) -> int:
    """How many words lie between two things of a question."""
    a, b = sorted((first, second), key=lambda e: e.start)
    return max(0, b.start - a.end)
