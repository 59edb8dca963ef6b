"""References: things a question names through other things.

- "the summit right **after** FMM11", "the FMM just **before** the Ulaanbaatar summit": the
  meeting of the series named that comes first after (last before) the one referred to;
- "how many summits were held **before Cambodia joined**", "partners **after** the Laos
  summit": a date the question's list or count is filtered by;
- "the FMM in the **same year as** the Siem Reap training", "the summit held **the year**
  Kazakhstan joined": the year of the thing referred to;
- "the **country that hosted** FMM3", "the **city of** ASEM4": the host of a meeting;
- "the summit **where** Australia **joined**": the summit a partner joined at.

Each rule turns the words and the thing referred to into one entity (a meeting, a date, a year,
a country, a city), which the rest of understanding reads as if the question had named it.
The words are ``references`` in ``knowledge/language.yaml``, per language. The question read
without references is scored too (bot.nlu.understand), so a rule that misreads loses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.kinds import dates_of
from bot.knowledge import KnowledgeBase
from bot.nlu.entities import Entity
from bot.nlu.normalise import Normaliser

ANCHORS = frozenset({"meeting", "event", "asef"})
"""Dated things a reference can start from (and a partner, with a word for joining)."""
WINDOW = 4  # how many words back from a thing its reference words may start


@dataclass(frozen=True)
class Words:
    after: frozenset[str]
    before: frozenset[str]
    single: frozenset[str]  # "right", "just", "first", "next": one meeting, not a list
    plural: tuple[tuple[str, ...], ...]  # "how many", "were": a list or a count
    same_year: tuple[tuple[str, ...], ...]
    host_country: tuple[tuple[str, ...], ...]
    host_city: tuple[tuple[str, ...], ...]
    joined: frozenset[str]
    filler: frozenset[str]  # words a reference may skip ("the", "shortly")
    at_time: tuple[tuple[str, ...], ...]  # "when", "at the time of": as of that day
    between: frozenset[str]
    duration: tuple[tuple[str, ...], ...]  # "how many years", "how long": a span, not a filter


def _phrases(normalise: Normaliser, words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    found = {tuple(normalise(w)) for w in words}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


def _first_words(normalise: Normaliser, words: tuple[str, ...]) -> frozenset[str]:
    """The word that says it, for phrases of order: "ahead" of "ahead of", "later" of "later
    than" (their small words say nothing alone: "the theme of FMM10" is no order)."""
    return frozenset(tokens[0] for w in words if (tokens := normalise(w)))


def _words(normalise: Normaliser, words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for w in words for t in normalise(w))


class References:
    """Resolve the references of one language's questions, with the facts of ``kb``."""

    def __init__(self, kb: KnowledgeBase, normalise: Normaliser, lexicon: object) -> None:
        self.kb = kb
        refs = getattr(lexicon, "references", None) or {}

        def get(name: str) -> tuple[str, ...]:
            return tuple(refs.get(name, ()))

        self.words = Words(
            after=_first_words(normalise, get("after")),
            before=_first_words(normalise, get("before")),
            single=_words(normalise, get("single")),
            plural=_phrases(normalise, get("plural")),
            same_year=_phrases(normalise, get("same_year")),
            host_country=_phrases(normalise, get("host_country")),
            host_city=_phrases(normalise, get("host_city")),
            joined=_words(normalise, get("joined")),
            filler=_words(normalise, get("filler")),
            at_time=_phrases(normalise, get("at_time")),
            between=_words(normalise, get("between")),
            duration=_phrases(normalise, get("duration")),
        )
        self._duration_by_first = _by_first(self.words.duration)

    def __call__(self, tokens: list[str], entities: list[Entity]) -> tuple[list[Entity], set[int]]:
        """The entities with references resolved, and the token positions they used up."""
        if not self.words.after and not self.words.same_year:
            return entities, set()
        covered: set[int] = set()
        entities = list(entities)
        for rule in (
            self._joined_summit,
            self._host,
            self._same_year,
            self._between,
            self._at_time,
            self._order,
        ):
            entities, used = rule(tokens, entities)
            covered |= used
        return sorted(entities, key=lambda e: e.start), covered

    # -- helpers ---------------------------------------------------------------------------

    def _back(self, tokens: list[str], start: int, phrases: tuple[tuple[str, ...], ...]) -> int:
        """The start of one of ``phrases`` ending just before ``start`` (fillers between may
        be skipped), or -1."""
        end = start
        while end > 0 and tokens[end - 1] in self.words.filler and start - end < 2:
            end -= 1
        for phrase in phrases:
            n = len(phrase)
            for stop in {start, end}:
                if stop - n >= 0 and tuple(tokens[stop - n : stop]) == phrase:
                    return stop - n
        return -1

    def _word_back(self, tokens: list[str], start: int, words: frozenset[str]) -> int:
        """The position of one of ``words`` at most WINDOW words before ``start``, with only
        fillers and "single" words between, or -1."""
        i = start - 1
        while i >= 0 and start - i <= WINDOW:
            if tokens[i] in words:
                return i
            if tokens[i] not in self.words.filler and tokens[i] not in self.words.single:
                return -1
            i -= 1
        return -1

    def _anchors(self, tokens: list[str], entities: list[Entity]) -> list[tuple[Entity, int]]:
        """Dated things, with the end of their span: meetings, events, ASEF, and a partner
        followed by a word for joining ("before Cambodia joined": up to "joined")."""
        found: list[tuple[Entity, int]] = []
        series = [e.value for e in entities if e.type == "meeting_kind"]
        for entity in entities:
            if entity.type in ANCHORS:
                found.append((entity, entity.end))
            elif entity.type == "city" and series:
                # "the summit after Seoul": the one meeting of that series held there
                held = self.kb.meetings_in(series[0], entity.value)
                if len(held) == 1:
                    meeting = Entity("meeting", (held[0],), entity.start, entity.end)
                    found.append((meeting, entity.end))
            elif entity.type == "country" and entity.value in self.kb.partners:
                for j in range(entity.end, min(entity.end + 3, len(tokens))):
                    if tokens[j] in self.words.joined:
                        found.append((entity, j + 1))
                        break
        return found

    def relation_between(
        self, tokens: list[str], named: list[Entity], entities: list[Entity]
    ) -> bool:
        """A word of order follows a named meeting ("the first FMM after the Copenhagen
        summit"): the description after it is another meeting."""
        order = self.words.after | self.words.before
        return any(t in order for e in named for t in tokens[e.end : e.end + 3])

    def order_between(self, tokens: list[str], first: Entity, second: Entity) -> bool:
        """A word of order ("after", "before") lies between two things of the question."""
        a, b = sorted((first, second), key=lambda e: e.start)
        order = self.words.after | self.words.before
        return any(t in order for t in tokens[a.end : b.start])

    def joining(self, tokens: list[str], entities: list[Entity]) -> list[Entity]:
        """The partners a question says joined ("before Cambodia joined"): not places."""
        return [e for e, _ in self._anchors(tokens, entities) if e.type == "country"]

    def _dates(self, entity: Entity) -> tuple[dt.date, dt.date] | None:
        when = dates_of(self.kb, entity.type, entity.value)
        return (when[0], when[1]) if when else None

    # -- the rules -------------------------------------------------------------------------

    def _joined_summit(
        self, tokens: list[str], entities: list[Entity]
    ) -> tuple[list[Entity], set[int]]:
        """ "the summit where/at which Australia joined", "the first summit India attended":
        that partner's first summit."""
        kinds = [e for e in entities if e.type == "meeting_kind" and e.value == "summit"]
        # "the first summit" was read as ASEM1: beside a partner joining, it is the summit
        kinds += [
            self._first_of(e)
            for e in entities
            if e.type == "meeting" and e.value == "summit_1" and tokens[e.start] in ("#1", "first")
        ]
        for series in kinds:
            for anchor, end in self._anchors(tokens, entities):
                if anchor.type != "country" or not 0 <= anchor.start - series.end <= 3:
                    continue
                order = self.words.after | self.words.before
                if any(t in order for t in tokens[series.end : anchor.start]):
                    continue  # "summits before Cambodia joined": an order (below)
                partner = self.kb.partners[anchor.value]
                key = f"summit_{partner.joined.summit}"
                merged = Entity("meeting", (key,), series.start, series.end, relation="referred")
                used = set(range(series.end, end))
                kept = [
                    e
                    for e in entities
                    if e is not series and e is not anchor and e.start != series.start
                ]
                return [*kept, merged], used
        return entities, set()

    def _host(self, tokens: list[str], entities: list[Entity]) -> tuple[list[Entity], set[int]]:
        """ "the country that hosted FMM3" -> China; "the city of ASEM4" -> Copenhagen."""
        for anchor in [e for e in entities if e.type == "meeting"]:
            meeting = self.kb.meeting_by_key(anchor.value)
            if meeting is None:
                continue
            for phrases, kind in ((self.words.host_country, "country"),
                                  (self.words.host_city, "city")):  # fmt: skip
                start = self._back(tokens, anchor.start, phrases)
                if start < 0:
                    continue
                city = meeting.record.city
                value = city if kind == "city" else self.kb.meeting_country(meeting)
                if not value:
                    continue
                host = Entity(kind, (value,), start, anchor.end, relation="referred")
                used = set(range(start, anchor.end))
                return [e for e in entities if e is not anchor] + [host], used
        return entities, set()

    def _same_year(
        self, tokens: list[str], entities: list[Entity]
    ) -> tuple[list[Entity], set[int]]:
        """ "in the same year as the Siem Reap training", "the year Kazakhstan joined"."""
        for anchor, end in self._anchors(tokens, entities):
            start = self._back(tokens, anchor.start, self.words.same_year)
            if start < 0:
                continue
            dates = self._dates(anchor)
            if dates is None:
                continue
            year = str(dates[0].year)  # type: ignore[attr-defined]
            entity = Entity("year", (year,), start, end, relation="")
            used = set(range(start, end))
            return [e for e in entities if e is not anchor] + [entity], used
        return entities, set()

    def asks_duration(self, tokens: list[str]) -> bool:
        return _contains_any(tokens, self._duration_by_first)

    def _at_time(self, tokens: list[str], entities: list[Entity]) -> tuple[list[Entity], set[int]]:
        """ "how many partners were there when Cambodia joined": as of the day it joined."""
        if self.asks_duration(tokens):
            return entities, set()
        for anchor, end in self._anchors(tokens, entities):
            if anchor.type != "country":
                continue  # a meeting is named as such ("partners at FMM10")
            start = self._back(tokens, anchor.start, self.words.at_time)
            if start <= 0:
                continue  # "when did Cambodia join" asks when; "members when it joined" as of
            if tokens[start] in self.words.after | self.words.before and any(
                (e.type == "meeting_kind" and e.start < start) or self._is_first(tokens, e, start)
                for e in entities
            ):
                continue  # "the first FMM after Cambodia joined": an order (below), not a day
            dates = self._dates(anchor) if start >= 0 else None
            if dates is None:
                continue
            value = dates[0].strftime("%Y%m%d")  # type: ignore[attr-defined]
            entity = Entity("date", (value,), start, end, relation="until")
            return [e for e in entities if e is not anchor] + [entity], set(range(start, end))
        return entities, set()

    def _between(self, tokens: list[str], entities: list[Entity]) -> tuple[list[Entity], set[int]]:
        """ "the FMMs between ASEM4 and ASEM5", "summits between 2001 and 2005": after the one,
        before the other (a span asked for itself, "how many years between", is left whole)."""
        if self.asks_duration(tokens):
            return entities, set()
        at = next((i for i, t in enumerate(tokens) if t in self.words.between), -1)
        if at < 0:
            return entities, set()
        dated = [
            e
            for e in sorted(entities, key=lambda e: e.start)
            if e.start > at and (e.type in ANCHORS or (e.type == "year" and not e.relation))
        ][:2]
        if len(dated) != 2:
            return entities, set()
        first, second = (self._dates(e) for e in dated)
        if first is None or second is None:
            return entities, set()
        years = all(e.type == "year" for e in dated)
        since = first[0] if years else first[1] + dt.timedelta(days=1)
        until = second[1] if years else second[0] - dt.timedelta(days=1)
        found = [
            Entity("date", (since.strftime("%Y%m%d"),), at, dated[0].end, relation="since"),
            Entity("date", (until.strftime("%Y%m%d"),), dated[1].start, dated[1].end,
                   relation="until"),
        ]  # fmt: skip
        used = set(range(at, dated[1].end))
        return [e for e in entities if all(e is not d for d in dated)] + found, used

    def _order(self, tokens: list[str], entities: list[Entity]) -> tuple[list[Entity], set[int]]:
        """ "the summit right after FMM11" (one meeting), or "summits before Cambodia
        joined" (a date to filter a list or a count by)."""
        for anchor, end in self._anchors(tokens, entities):
            at = self._word_back(tokens, anchor.start, self.words.after | self.words.before)
            if at < 0:
                continue
            if "or" in tokens[max(0, at - 1) : at + 2]:
                continue  # "was FMM1 before or after ASEM2?": which came first, no reference
            after = tokens[at] in self.words.after
            dates = self._dates(anchor)
            if dates is None:
                continue
            used = set(range(at, end))
            series = [e for e in entities if e.type == "meeting_kind" and e.start < anchor.start]
            series += [self._first_of(e) for e in entities if self._is_first(tokens, e, at)]
            plural = any(
                tuple(tokens[i : i + len(p)]) == p
                for p in self.words.plural
                for i in range(len(tokens))
            )
            if series and not plural:
                target = self._neighbour(series[0].value, dates, after)
                if target is None:
                    continue
                # "the next summit after FMM1", "the very first FMM after ...": those words
                # belong to the reference too
                j = series[0].start - 1
                while j >= 0 and (
                    tokens[j] in self.words.single or tokens[j] in self.words.filler
                ):
                    j -= 1
                used |= set(range(j + 1, series[0].start))
                # "which summit came right after": the words between as well
                between = tokens[series[0].end : at]
                if all(t in self.words.filler or t in self.words.single for t in between):
                    used |= set(range(series[0].end, at))
                meeting = Entity("meeting", (target,), series[0].start, series[0].end,
                                 relation="referred")  # fmt: skip
                replaced = (anchor.start, series[0].start)
                kept = [e for e in entities if e.start not in replaced]
                return [*kept, meeting], used
            day = dates[1] if after else dates[0]
            value = day.strftime("%Y%m%d")  # type: ignore[attr-defined]
            entity = Entity("date", (value,), at, end, relation="after" if after else "before")
            return [e for e in entities if e is not anchor] + [entity], used
        return entities, set()

    @staticmethod
    def _is_first(tokens: list[str], entity: Entity, relation_at: int) -> bool:
        """ "the first summit after FMM14" was read as ASEM1: it is "the first summit" after."""
        return (
            entity.type == "meeting"
            and tokens[entity.start] in ("#1", "first")
            and 0 <= relation_at - entity.end <= 3
        )

    @staticmethod
    def _first_of(entity: Entity) -> Entity:
        series = entity.value.partition("_")[0]
        return Entity("meeting_kind", (series,), entity.start, entity.end)

    def _neighbour(self, series: str, dates: tuple[object, object], after: bool) -> str | None:
        """The first meeting of ``series`` after the dates (the last before them)."""
        start, end = dates
        meetings = [m for m in self.kb.meetings(series) if m.held]
        if after:
            later = [m for m in meetings if m.start > end]  # type: ignore[operator]
            return later[0].key if later else None
        earlier = [m for m in meetings if m.end < start]  # type: ignore[operator]
        return earlier[-1].key if earlier else None


def _by_first(phrases: tuple[tuple[str, ...], ...]) -> dict[str, list[tuple[str, ...]]]:
    """Phrases by their first word, to look for them in one pass over a question."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        if phrase:
            out.setdefault(phrase[0], []).append(phrase)
    return out


def _contains_any(tokens: list[str], by_first: dict[str, list[tuple[str, ...]]]) -> bool:
    for i, token in enumerate(tokens):
        for phrase in by_first.get(token, ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                return True
    return False
