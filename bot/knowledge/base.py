"""The loaded knowledge base: every record, indexed for the look-ups the bot makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.knowledge.frozen import Record, freeze
from bot.knowledge.problems import Problem

if TYPE_CHECKING:  # the records are frozen copies (bot.knowledge.frozen) shaped like these
    from bot.knowledge import models as m
    from bot.knowledge.yamlfile import YamlDocument


@dataclass(frozen=True)
class MeetingRef:
    """One meeting with its series (the YAML record does not repeat it)."""

    series: m.Series
    record: m.Meeting

    @property
    def kind(self) -> str:
        """The series id: ``summit``, ``fmm``, ``emm``..."""
        return self.series.id

    @property
    def number(self) -> int | None:
        return self.record.number

    @property
    def key(self) -> str:
        """Stable id, also used in deep links and buttons: ``summit_13``, ``fmm_2``; a meeting
        whose number is not on record is keyed by its year (``tmm_y2017``)."""
        if self.record.number is None:
            return f"{self.kind}_y{self.record.start.year}"
        return f"{self.kind}_{self.record.number}"

    @property
    def code(self) -> str:
        """The name people know it by: ``ASEM13``, ``FMM2``; for a meeting without a number,
        the series' name and the year."""
        if self.record.number is None or self.series.code is None:
            return f"{self.series.name.en}, {self.record.start.year}"
        return self.series.code.replace("{n}", str(self.record.number))

    @property
    def start(self) -> dt.date:
        return self.record.start

    @property
    def end(self) -> dt.date:
        return self.record.end or self.record.start

    @property
    def precision(self) -> str:
        return self.record.precision

    @property
    def held(self) -> bool:
        return self.record.status == "held"


@dataclass(frozen=True)
class EventRef:
    """Something dated that questions name: a record of cambodia.yaml's events, or a fact of
    facts.yaml with ``names`` and a date ("the EU's endorsement of the summit")."""

    id: str
    name: m.Text
    aliases: tuple[str, ...]
    start: dt.date
    end: dt.date
    precision: str
    city: str | None = None
    text: m.Text | None = None  # what happened, for a record; a fact answers for itself
    fact: str | None = None  # the fact's id

    @property
    def record(self) -> EventRef:  # a meeting's facts and an event's dates read alike
        return self


@dataclass(frozen=True)
class KnowledgeBase:
    """Immutable, validated facts. Build it with :func:`bot.knowledge.load_knowledge`."""

    root: Path
    sources: MappingProxyType[str, m.Source]
    cities: MappingProxyType[str, m.City]
    series: MappingProxyType[str, m.Series]
    meetings_by_series: MappingProxyType[str, tuple[MeetingRef, ...]]
    regions: MappingProxyType[str, m.Region]
    groups: MappingProxyType[str, m.Group]
    partners: MappingProxyType[str, m.Partner]
    non_partners: MappingProxyType[str, m.NonPartner]
    organisations: MappingProxyType[str, m.NonPartner]
    areas: tuple[m.Area, ...]
    areas_verified: bool
    asem: m.Asem
    asef: m.Asef
    cambodia: m.Cambodia
    questions: tuple[m.Question, ...]
    facts: MappingProxyType[str, m.Fact]
    events: MappingProxyType[str, EventRef]
    messages: MappingProxyType[str, m.Text]
    lexicons: MappingProxyType[str, m.Lexicon]
    # where records are written, for problems found after loading: ("intent", name) or
    # ("message", key) -> (file, line)
    locations: MappingProxyType[tuple[str, str], tuple[str, int]] = field(
        repr=False, compare=False
    )
    # every text with English only, as "file:line: key: no Khmer text" (bot.knowledge.texts)
    untranslated: tuple[Problem, ...] = field(default=(), repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        # read-only mappings do not pickle; store plain dicts and wrap them again on load
        return {
            k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in vars(self).items()
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            wrapped = MappingProxyType(value) if isinstance(value, dict) else value
            object.__setattr__(self, key, wrapped)

    @classmethod
    def from_files(
        cls,
        files: dict[str, Any],
        root: Path,
        docs: dict[str, YamlDocument] | None = None,
        *,
        untranslated: Sequence[Problem] = (),
    ) -> KnowledgeBase:
        locations = _locations(files, docs or {})
        files = {name: freeze(parsed) for name, parsed in files.items()}
        meetings: m.MeetingsFile = files["meetings.yaml"]
        partners: m.PartnersFile = files["partners.yaml"]
        areas: m.AreasFile = files["areas.yaml"]
        facts = files["facts.yaml"].facts if "facts.yaml" in files else ()
        questions = tuple(q for f in files.values() for q in getattr(f, "questions", ()))
        questions += tuple(_fact_question(fact) for fact in facts)

        def index(items: Any, key: str = "id") -> MappingProxyType[str, Any]:
            return MappingProxyType({getattr(item, key): item for item in items})

        return cls(
            root=root,
            sources=index(files["sources.yaml"].sources),
            cities=index(files["cities.yaml"].cities),
            series=index(meetings.series),
            meetings_by_series=MappingProxyType(
                {
                    series.id: tuple(MeetingRef(series, record) for record in series.meetings)
                    for series in meetings.series
                }
            ),
            regions=index(partners.regions),
            groups=index(partners.groups),
            partners=index(partners.partners),
            non_partners=index(partners.non_partners),
            organisations=index(partners.organisations),
            areas=areas.areas,
            areas_verified=areas.verified,
            asem=files["asem.yaml"].asem,
            asef=files["asef.yaml"].asef,
            cambodia=files["cambodia.yaml"].cambodia,
            questions=questions,
            facts=index(facts),
            events=MappingProxyType(_events(files["cambodia.yaml"].cambodia, facts)),
            messages=MappingProxyType(
                {k: v for f in files.values() for k, v in getattr(f, "messages", {}).items()}
            ),
            lexicons=MappingProxyType(dict(files["language.yaml"].languages)),
            locations=MappingProxyType(locations),
            untranslated=tuple(untranslated),
        )

    # -- meetings ------------------------------------------------------------------------------

    @property
    def kinds(self) -> MappingProxyType[str, m.Series]:
        """Every series, those without meetings on record (SOMs, dialogues) included."""
        return self.series

    @property
    def summits(self) -> tuple[MeetingRef, ...]:
        return self.meetings_by_series["summit"]

    @property
    def fmms(self) -> tuple[MeetingRef, ...]:
        return self.meetings_by_series["fmm"]

    def meetings(self, series: str) -> tuple[MeetingRef, ...]:
        """The meetings of ``series`` on record, in order (none for an unknown series)."""
        return self.meetings_by_series.get(series, ())

    def meetings_in(self, series: str, city: str) -> list[str]:
        """The keys of the held meetings of ``series`` in ``city``, in order."""
        return [
            m.key
            for m in self.meetings(series)
            if m.record.city == city and m.record.status == "held"
        ]

    def meeting(self, series: str, number: int) -> MeetingRef | None:
        for meeting in self.meetings(series):
            if meeting.number == number:
                return meeting
        return None

    def meeting_by_key(self, key: str) -> MeetingRef | None:
        series, _, rest = key.partition("_")
        if rest.isdigit():
            return self.meeting(series, int(rest))
        if rest[:1] == "y" and rest[1:].isdigit():
            found = [m for m in self.meetings(series) if m.number is None]
            return next((m for m in found if m.start.year == int(rest[1:])), None)
        return None

    def all_meetings(self) -> Iterator[MeetingRef]:
        for meetings in self.meetings_by_series.values():
            yield from meetings

    @property
    def main_series(self) -> tuple[str, ...]:
        """What "ASEM meetings" means when no series is named: the summits and the FMMs."""
        return tuple(s.id for s in self.series.values() if s.main)

    @property
    def numbered_series(self) -> tuple[m.Series, ...]:
        """The series whose meetings are named by a code with a number (ASEM7, FMM3)."""
        return tuple(s for s in self.series.values() if s.code and s.meetings)

    def meeting_country(self, meeting: MeetingRef) -> str | None:
        record = meeting.record
        return self.cities[record.city].country if record.city else record.country

    def meeting_region(self, meeting: MeetingRef) -> str | None:
        country = self.meeting_country(meeting)
        return self.partner_region(country) if country else None

    # -- partners ------------------------------------------------------------------------------

    def partner_region(self, partner_id: str) -> str | None:
        partner = self.partners.get(partner_id)
        return self.groups[partner.group].region if partner else None

    def group_of(self, partner: m.Partner, day: dt.date | None = None) -> str:
        """The partner's group on a day (today when none is given)."""
        if day is not None:
            for earlier in partner.earlier_groups:
                if day <= earlier.until:
                    return earlier.group
        return partner.group

    def partners_in_group(
        self, group_id: str, day: dt.date | None = None
    ) -> tuple[m.Partner, ...]:
        return tuple(p for p in self.partners.values() if self.group_of(p, day) == group_id)

    def partners_in_region(self, region_id: str) -> tuple[m.Partner, ...]:
        return tuple(p for p in self.partners.values() if self.partner_region(p.id) == region_id)

    def joined_year(self, partner: m.Partner) -> int:
        return self.joined_date(partner).year

    def joined_date(self, partner: m.Partner) -> dt.date:
        """The day a partner joined: its admission day, or its first summit's."""
        if partner.joined.date:
            return partner.joined.date
        return self.summits[partner.joined.summit - 1].start

    def partner_since(self, partner: m.Partner) -> dt.date:
        """The day it first took part as a partner: for the 2006-2008 enlargement, the FMM
        that welcomed the new partners (May 2007), before their first summit (2008)."""
        joined = self.joined_date(partner)
        if partner.joined.welcomed_at_fmm:
            welcomed = self.fmms[partner.joined.welcomed_at_fmm - 1].start
            return min(joined, welcomed)
        return joined

    def country_name(self, country_id: str, lang: str = "en", *, in_text: bool = False) -> str:
        """The country's name; ``in_text``: as written inside a sentence ("the Netherlands")."""
        record = self.partners.get(country_id) or self.non_partners.get(country_id)
        if record is None:
            return country_id
        if in_text and record.in_text:
            return record.in_text.get(lang)
        return record.name.get(lang)

    # -- misc ----------------------------------------------------------------------------------

    def area(self, number: int) -> m.Area | None:
        return self.areas[number - 1] if 1 <= number <= len(self.areas) else None

    def message(self, key: str, lang: str = "en") -> str:
        return self.messages[key].get(lang)

    def question(self, intent: str) -> m.Question | None:
        return self._questions_by_intent.get(intent)

    @property
    def _questions_by_intent(self) -> dict[str, m.Question]:
        index = self.__dict__.get("_question_index")
        if index is None:  # built once, on first use (the dataclass itself is frozen)
            index = {q.intent: q for q in self.questions}
            object.__setattr__(self, "_question_index", index)
        return index

    def problem(self, question: m.Question, message: str) -> Problem:
        file, line = self.locations.get(("intent", question.intent), (str(self.root), 0))
        return Problem(file, line, message)

    def message_problem(self, key: str | None, message: str) -> Problem:
        fallback = (str(self.root / "messages.yaml"), 1)
        file, line = self.locations.get(("message", key or ""), fallback)
        return Problem(file, line, f"{key}: {message}" if key else message)

    def summary(self) -> str:
        """One line: how many of each record there are."""
        counts = [
            (len(self.summits), "summits"),
            (len(self.fmms), "foreign ministers' meetings"),
            (
                sum(len(v) for v in self.meetings_by_series.values())
                - len(self.summits)
                - len(self.fmms),
                "other ministerial meetings",
            ),
            (len(self.partners), "partners"),
            (len(self.non_partners), "non-partner countries"),
            (len(self.cities), "cities"),
            (len(self.areas), "areas of cooperation"),
            (len(self.questions) - len(self.facts), "questions"),
            (len(self.facts), "facts"),
            (sum(len(phrasings(q)) for q in self.questions), "example phrasings"),
            (len(self.sources), "sources"),
        ]
        return ", ".join(f"{n} {label}" for n, label in counts)


def _events(cambodia: m.Cambodia, facts: tuple[m.Fact, ...]) -> dict[str, EventRef]:
    found: dict[str, EventRef] = {}
    for event in (*cambodia.asef_events, cambodia.asem_day_celebration):
        found[event.id] = EventRef(
            event.id, event.name, event.aliases, event.start, event.end, "day", event.city,
            event.text,
        )  # fmt: skip
    for fact in facts:
        if fact.names and fact.start is not None:
            name = m_text(fact.names[0])
            end = fact.end or fact.start
            found[fact.id] = EventRef(
                fact.id, name, fact.names, fact.start, end, fact.precision, fact=fact.id
            )
    return found


def m_text(en: str) -> m.Text:
    return Record("Text", {"en": en, "km": None, "km_unreviewed": False})  # type: ignore[return-value]


FACT = "fact."
"""The intent of a fact of facts.yaml is ``fact.<id>``."""


def phrasings(question: m.Question) -> tuple[tuple[str, str], ...]:
    """Every way a question is asked, with the verdict a yes/no phrasing gets ("yes", "no";
    "" for the examples)."""
    return (
        *((e, "") for e in question.examples),
        *((e, "yes") for e in question.yes_to),
        *((e, "no") for e in question.no_to),
    )


def _fact_question(fact: m.Fact) -> m.Question:
    """A fact as the question it answers: its examples teach the bot how it is asked."""
    examples = (fact.question.en, *fact.examples)
    fields = {
        "intent": FACT + fact.id,
        "label": fact.question,
        "needs": fact.about,
        "needs_two": False,
        "examples": examples,
        "yes_to": fact.yes_to,
        "no_to": fact.no_to,
        "answer": None,
        "sources": fact.sources,
        "related": (),
    }
    return Record("Question", fields)  # type: ignore[return-value]  # shaped as a Question


def _locations(
    files: dict[str, Any], docs: dict[str, YamlDocument]
) -> dict[tuple[str, str], tuple[str, int]]:
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for name, parsed in files.items():
        doc = docs.get(name)
        if doc is None:
            continue
        for i, question in enumerate(getattr(parsed, "questions", ())):
            found[("intent", question.intent)] = (doc.file, doc.line_of(("questions", i)))
        for i, fact in enumerate(getattr(parsed, "facts", ())):
            found[("intent", FACT + fact.id)] = (doc.file, doc.line_of(("facts", i)))
        for key in getattr(parsed, "messages", {}):
            found[("message", key)] = (doc.file, doc.line_of(("messages", key), key=True))
    return found
