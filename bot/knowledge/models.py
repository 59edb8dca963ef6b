"""The typed, immutable shape of every file in ``knowledge/``.

One model per file (``MeetingsFile`` for ``meetings.yaml`` ...). Unknown keys are errors, so a
typo in a key is caught instead of silently ignored; every record names its sources.
Cross-file checks (references, counts, unique aliases) live in :mod:`bot.knowledge.checks`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

LANGUAGES = ("en", "km")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(_[a-z0-9]+)*$", max_length=40)]
SourceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", max_length=20)]
IntentName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=40)
]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]

_NEED = re.compile(r"^(?P<type>[a-z_]+)(=(?P<value>[a-z0-9_:]+))?$")


class Strict(BaseModel):
    """Base of every record: unknown keys are errors and nothing can change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, defer_build=True)


class Text(Strict):
    """User-facing text, one entry per language. English is required; others fall back to it.

    ``km_unreviewed: true`` marks a Khmer text no native speaker has confirmed yet (written by
    the team, not taken from a source): it is shown, and listed for review."""

    en: NonEmpty
    km: NonEmpty | None = None
    km_unreviewed: bool = False

    @model_validator(mode="after")
    def _review_needs_a_text(self) -> Text:
        if self.km_unreviewed and self.km is None:
            raise ValueError("km_unreviewed is set but there is no km text")
        return self

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.en


class Sourced(Strict):
    sources: tuple[SourceId, ...] = Field(min_length=1)


class SourcedText(Sourced):
    """A prose fact and where it comes from."""

    text: Text
    verified: bool = True


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        folded = value.casefold()
        if folded in seen:
            raise ValueError(f"'{value}' is listed twice")
        seen.add(folded)
    return values


Aliases = Annotated[tuple[NonEmpty, ...], AfterValidator(_unique)]


# ---------------------------------------------------------------------------------------------
# Questions: intents with their example phrasings, and prose answers for FAQ-style facts


def _check_need(value: str) -> str:
    """The form only (``country`` or ``country=kh``); the kinds are the code's (bot.domain),
    checked by ``asem-bot validate``."""
    if not _NEED.match(value):
        raise ValueError(f"'{value}' is not an entity type, or type=value such as country=kh")
    return value


Need = Annotated[str, AfterValidator(_check_need)]


class Question(Strict):
    """One intent: how people ask it, and (for prose facts) the answer itself.

    Intents without ``answer`` are composed by the bot from the structured records.
    """

    intent: IntentName
    label: Text
    needs: tuple[Need, ...] = ()
    # the question names two of the things it needs: "how long between ASEM1 and ASEM13",
    # "which came first, FMM1 or ASEM2"; with one it is not this question
    needs_two: bool = False
    examples: tuple[NonEmpty, ...] = Field(min_length=3)
    # yes/no questions the answer settles, asked this way: "does ASEM have a permanent
    # secretariat?" is answered "No." before the answer's text
    yes_to: tuple[NonEmpty, ...] = ()
    no_to: tuple[NonEmpty, ...] = ()
    answer: Text | None = None
    sources: tuple[SourceId, ...] = ()
    related: tuple[IntentName, ...] = ()

    @model_validator(mode="after")
    def _sources_with_answer(self) -> Question:
        if self.answer is not None and not self.sources:
            raise ValueError("a question with an answer must name its sources")
        return self


class WithQuestions(Strict):
    """A topic file: its questions, and the message templates its answers use (most
    templates are in messages.yaml; a topic may keep its own next to its questions)."""

    questions: tuple[Question, ...] = ()
    messages: dict[Id, Text] = {}


# ---------------------------------------------------------------------------------------------
# sources.yaml


class Source(Strict):
    id: SourceId
    title: NonEmpty
    url: Url | None = None


class SourcesFile(Strict):
    sources: tuple[Source, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# cities.yaml


class City(Sourced):
    id: Id
    name: Text
    country: Id
    aliases: Aliases = ()
    note: Text | None = None
    near: Id | None = None  # a city it lies near: a meeting here is "near Budapest" too


class CitiesFile(Strict):
    cities: tuple[City, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# meetings.yaml


class EarlierPlan(Strict):
    """A date (and place) a meeting was once set for, before it was moved."""

    start: dt.date
    end: dt.date
    city: Id | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> EarlierPlan:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


_PARTIAL_DATE = re.compile(r"^(?P<year>\d{4})(-(?P<month>\d{1,2}))?$")
Precision = Literal["day", "month", "year"]


def _partial_date(value: object) -> tuple[object, Precision]:
    """``2017``, ``"2017-09"`` or a full date: the first day it stands for, and its precision."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        match = _PARTIAL_DATE.match(value.strip())
        if match:
            month = int(match["month"] or 1)
            if not 1 <= month <= 12:
                raise ValueError(f"'{value}': month {month} is not 1..12")
            return dt.date(int(match["year"]), month, 1), "month" if match["month"] else "year"
    return value, "day"


def _read_partial_start(data: object) -> object:
    if isinstance(data, dict) and data.get("start") is not None and "precision" not in data:
        start, precision = _partial_date(data["start"])
        data = {**data, "start": start, "precision": precision}
    return data


def _check_dates(start: dt.date | None, end: dt.date | None, precision: str) -> None:
    if end is not None and precision != "day":
        raise ValueError("something known only by month or year has no 'end'")
    if start is not None and end is not None and end < start:
        raise ValueError(f"end {end} is before start {start}")


class Meeting(Sourced):
    """One meeting of a series: a summit, an FMM, an Economic Ministers' Meeting...

    ``start`` is a day (2017-09-21), a month (2017-09) or a year (2017) when the sources give
    no more; ``end`` is the last day of a meeting of several days. ``number`` may be left out
    when the sources do not say which of its series a meeting was; ``city`` when they name
    only the country (then give ``country``), or neither for a meeting held online."""

    number: int | None = Field(default=None, ge=1)
    city: Id | None = None
    country: Id | None = None
    start: dt.date
    end: dt.date | None = None
    precision: Precision = "day"
    status: Literal["held", "planned"]
    format: Literal["in_person", "virtual"] = "in_person"
    theme: Text | None = None
    # no theme given because the one some sources report is not confirmed by an official text
    theme_unverified: bool = False
    notes: Text | None = None
    earlier_plans: tuple[EarlierPlan, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _partial_start(cls, data: object) -> object:
        return _read_partial_start(data)

    @model_validator(mode="after")
    def _end_after_start(self) -> Meeting:
        _check_dates(self.start, self.end, self.precision)
        if self.city is not None and self.country is not None:
            raise ValueError("give 'city' (its country comes from cities.yaml) or 'country'")
        if self.format == "in_person" and self.city is None and self.country is None:
            raise ValueError(
                "an in-person meeting needs 'city' (or 'country' if no city is known)"
            )
        return self


CodePattern = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z ]*\{n\}$", max_length=20)
]


class Series(Sourced):
    """A kind of ASEM meeting (summits, FMMs, Economic Ministers' Meetings, SOMs...): who
    attends, how often, what it does, and the meetings of it that are on record.

    ``code`` is how one meeting is named: ``ASEM{n}`` makes ASEM7, and people's "asem7",
    "asem 7", "ASEM VII" and "the 7th asem summit" are read from it and from the aliases.
    ``complete``: every meeting is on record, numbered 1, 2, 3... with no gap, so counts are
    totals. ``latest_checked``: the sources were searched for a later meeting and found none.
    ``main``: what "ASEM meetings" means in a list or count that names no series.
    ``distinctive``: its name alone says a question is about ASEM ("FMM"; not "summit")."""

    id: Id
    name: Text
    code: CodePattern | None = None
    title: Text | None = None
    aliases: Aliases = ()
    attendees: Text
    frequency: Text
    role: Text
    complete: bool = False
    latest_checked: bool = False
    main: bool = False
    distinctive: bool = False
    meetings: tuple[Meeting, ...] = ()

    @model_validator(mode="after")
    def _meetings_need_a_code(self) -> Series:
        if self.meetings and (self.code is None or self.title is None):
            raise ValueError("a series with meetings needs a 'code' and a 'title'")
        return self


class MeetingsFile(WithQuestions):
    series: tuple[Series, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# partners.yaml


class Region(Strict):
    id: Id
    name: Text
    aliases: Aliases = ()


class Group(Strict):
    id: Id
    region: Id | None = None
    name: Text
    description: Text
    aliases: Aliases = ()


class Joining(Strict):
    """When and how a partner joined."""

    summit: int = Field(ge=1, description="the first summit it took part in as a partner")
    date: dt.date | None = Field(
        default=None, description="the admission day, if not the summit's"
    )
    decided_at_summit: int | None = Field(default=None, ge=1)
    welcomed_at_fmm: int | None = Field(default=None, ge=1)
    note: Text | None = None


class EarlierGroup(Strict):
    """A group a partner belonged to until a day: the United Kingdom was one of the EU member
    states until 31 January 2020."""

    group: Id
    until: dt.date


class Partner(Sourced):
    id: Id
    name: Text
    in_text: Text | None = None  # the name inside a sentence: "the Netherlands"
    group: Id  # its group today
    earlier_groups: tuple[EarlierGroup, ...] = ()  # oldest first
    joined: Joining
    aliases: Aliases = ()
    note: Text | None = None


class NonPartner(Sourced):
    """A country people may ask about that is not an ASEM partner."""

    id: Id
    name: Text
    in_text: Text | None = None
    aliases: Aliases = ()
    note: Text | None = None


class PartnerCounts(Strict):
    """Totals the partner list must agree with (stated by the sources)."""

    total: int
    by_region: dict[Id, int]
    by_group: dict[Id, int]


class PartnersFile(WithQuestions):
    regions: tuple[Region, ...] = Field(min_length=1)
    groups: tuple[Group, ...] = Field(min_length=1)
    counts: PartnerCounts
    partners: tuple[Partner, ...] = Field(min_length=1)
    non_partners: tuple[NonPartner, ...] = ()
    organisations: tuple[NonPartner, ...] = ()


# ---------------------------------------------------------------------------------------------
# areas.yaml


class Area(Sourced):
    number: int = Field(ge=1)
    title: Text
    short: Text
    aliases: Aliases = ()


class AreasFile(WithQuestions):
    count: int = Field(ge=1)
    verified: bool = True
    areas: tuple[Area, ...] = Field(min_length=1)


# ---------------------------------------------------------------------------------------------
# asem.yaml


class YearMonth(Strict):
    year: int = Field(ge=1900, le=2100)
    month: int = Field(ge=1, le=12)


class Founding(Sourced):
    proposed: YearMonth
    proposers: tuple[Id, ...] = Field(min_length=1)
    first_summit: int = Field(ge=1)
    story: Text


class Pillar(Strict):
    id: Id
    name: Text
    aliases: Aliases = ()


class Pillars(Sourced):
    items: tuple[Pillar, ...] = Field(min_length=1)


class Share(Strict):
    measure: Id
    percent: float = Field(gt=0, le=100)
    label: Text


class Shares(Sourced):
    items: tuple[Share, ...] = Field(min_length=1)
    note: Text | None = None


class AsemDay(Sourced):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    # it may be celebrated on any of this many days from ``day`` (the first week of March)
    days_allowed: int = Field(default=1, ge=1, le=31)
    decided_at_summit: int = Field(ge=1)
    first_celebrated: dt.date
    text: Text

    @model_validator(mode="after")
    def _real_day(self) -> AsemDay:
        try:
            dt.date(2000, self.month, self.day)  # a leap year, so 29 February is allowed
        except ValueError as exc:
            raise ValueError(f"{self.day}/{self.month} is not a real day") from exc
        return self


class Website(Sourced):
    url: Url
    text: Text


class Asem(Strict):
    name: Text
    aliases: Aliases = ()
    founding: Founding
    purpose: SourcedText
    pillars: Pillars
    shares: Shares
    secretariat: SourcedText
    coordinators: SourcedText
    asem_day: AsemDay
    infoboard: Website
    featured: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$")], ...] = ()


class AsemFile(WithQuestions):
    asem: Asem


# ---------------------------------------------------------------------------------------------
# asef.yaml


class Asef(Strict):
    name: Text
    aliases: Aliases = ()
    founded: dt.date
    founded_at_fmm: int = Field(ge=1)
    agreed_at_summit: int = Field(ge=1)
    headquarters: Id
    website: Url
    founding: SourcedText
    about: SourcedText
    funding: SourcedText
    status: SourcedText


class AsefFile(WithQuestions):
    asef: Asef


# ---------------------------------------------------------------------------------------------
# cambodia.yaml


class Contribution(Sourced):
    amount_usd: int = Field(gt=0)
    per: Literal["year"]
    since: int = Field(ge=1996, le=2100)
    verified: bool


class Event(Sourced):
    """Something that happened on a date, which questions may name ("the Siem Reap training")
    and relate to others ("which FMM took place in the same year?")."""

    id: Id
    name: Text
    aliases: Aliases = ()
    city: Id
    start: dt.date
    end: dt.date
    text: Text

    @model_validator(mode="after")
    def _end_after_start(self) -> Event:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class SideEvents(Sourced):
    items: tuple[Text, ...] = Field(min_length=1)
    text: Text


class Asem13(Strict):
    summit: int = Field(ge=1)
    chair: SourcedText
    side_events: SideEvents
    organisation: SourcedText
    outcome: SourcedText


class Cambodia(Strict):
    partner: Id
    benefits: tuple[SourcedText, ...] = Field(min_length=1)
    asef_contribution: Contribution
    asef_events: tuple[Event, ...] = ()
    asem_day_celebration: Event
    asem13: Asem13


class CambodiaFile(WithQuestions):
    cambodia: Cambodia


# ---------------------------------------------------------------------------------------------
# facts.yaml


class Fact(Sourced):
    """One fact as a question and its answer: for what the structured records do not hold
    (who first floated the idea of ASEM, what the Dublin Principles are...).

    ``question`` is how the fact is asked (shown on "did you mean" buttons and as a title);
    ``examples`` are more ways people ask it; ``answer`` is plain text (the bot escapes it);
    ``about`` names what the fact is about, as intent needs do (``meeting=fmm_4``,
    ``country=kh``); ``verified: false`` makes the bot say the sources do not confirm it;
    ``as_of`` is the date the answer is true at, for facts that change with time."""

    id: Id
    question: Text
    answer: Text
    examples: tuple[NonEmpty, ...] = Field(default=(), max_length=40)
    yes_to: tuple[NonEmpty, ...] = ()  # yes/no questions it answers "Yes." (see Question)
    no_to: tuple[NonEmpty, ...] = ()
    about: tuple[Need, ...] = ()
    verified: bool = True
    as_of: dt.date | None = None
    # a fact that is an event people name and date: "the EU's endorsement" (6 March 1995)
    names: Aliases = ()
    start: dt.date | None = None
    end: dt.date | None = None
    precision: Precision = "day"

    @model_validator(mode="before")
    @classmethod
    def _partial_start(cls, data: object) -> object:
        return _read_partial_start(data)

    @model_validator(mode="after")
    def _dated_names(self) -> Fact:
        _check_dates(self.start, self.end, self.precision)
        if self.names and self.start is None:
            raise ValueError("a fact with 'names' is an event: give its 'start' date")
        return self


class FactsFile(Strict):
    facts: tuple[Fact, ...] = ()


# ---------------------------------------------------------------------------------------------
# smalltalk.yaml, messages.yaml, language.yaml


class SmalltalkFile(WithQuestions):
    pass


class MessagesFile(Strict):
    messages: dict[Id, Text]


class Lexicon(Strict):
    """How one language is normalised before matching."""

    fillers: tuple[NonEmpty, ...] = ()
    synonyms: dict[NonEmpty, str] = {}
    numbers: dict[NonEmpty, int] = {}
    ordinals: dict[NonEmpty, int] = {}
    after: tuple[NonEmpty, ...] = ()
    since: tuple[NonEmpty, ...] = ()
    before: tuple[NonEmpty, ...] = ()
    until: tuple[NonEmpty, ...] = ()
    between: tuple[NonEmpty, ...] = ()
    flags: dict[Id, tuple[NonEmpty, ...]] = {}
    months: dict[NonEmpty, int] = {}
    ambiguous_months: tuple[NonEmpty, ...] = ()
    yes_no: tuple[NonEmpty, ...] = ()
    yes_no_tags: tuple[NonEmpty, ...] = ()
    question_words: tuple[NonEmpty, ...] = ()
    requests: tuple[NonEmpty, ...] = ()
    lead_ins: tuple[NonEmpty, ...] = ()
    joins: tuple[NonEmpty, ...] = ()
    references: dict[Id, tuple[NonEmpty, ...]] = {}
    refers: tuple[NonEmpty, ...] = ()
    substitutes: tuple[NonEmpty, ...] = ()
    next_words: tuple[NonEmpty, ...] = ()
    previous_words: tuple[NonEmpty, ...] = ()
    that_year: tuple[NonEmpty, ...] = ()  # "the summit that year": the year just talked of
    # words that, beside a name, ask something else about it than its card ("things to do
    # in Ulaanbaatar")
    other_asks: tuple[NonEmpty, ...] = ()

    @field_validator("months")
    @classmethod
    def _month_numbers(cls, value: dict[str, int]) -> dict[str, int]:
        for word, number in value.items():
            if not 1 <= number <= 12:
                raise ValueError(f"'{word}': month {number} is not 1..12")
        return value

    @field_validator("numbers", "ordinals")
    @classmethod
    def _small_positive(cls, value: dict[str, int]) -> dict[str, int]:
        for word, number in value.items():
            if not 0 <= number <= 1000:
                raise ValueError(f"'{word}': {number} is out of range 0..1000")
        return value


class LanguageFile(Strict):
    languages: dict[Literal["en", "km"], Lexicon]
