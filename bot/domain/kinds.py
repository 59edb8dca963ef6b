"""Every kind of thing a question can name, declared once.

An :class:`EntityKind` says everything the other layers need to know about one kind:

- ``slot``: the token that stands for it in slotted example phrasings (``where was <m> held``);
- ``names``: where its names come from in the knowledge base (for the gazetteer);
- ``role``: ``subject`` (what a question is about: a meeting, a partner), ``detail`` (a place
  or a year that narrows it) or ``contrast`` (another organisation named beside ASEM);
- ``exists``: whether a value names a real record (buttons and deep links name only those);
- ``display``: how a value is shown in a question label, and which label placeholders it fills;
- ``card``: the intent that answers a question naming nothing but a thing of this kind, and
  ``card_rank`` which card wins when a question names several kinds (lower first);
- ``link``: the deep-link prefix of that card (``partner_kh``); meetings link by their key.

The order of :data:`KINDS` is the precedence when one name is several kinds at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from bot.knowledge import KnowledgeBase, MeetingRef

Names = Iterable[tuple[str, Iterable[str | None]]]
Role = Literal["subject", "detail", "contrast", "modifier"]


def meeting_code(kb: KnowledgeBase, meeting: MeetingRef, lang: str = "en") -> str:
    """ASEM13, FMM2; a meeting whose number is not on record: its series' name and year."""
    if meeting.number is None or meeting.series.code is None:
        return f"{meeting.series.name.get(lang)}, {meeting.start.year}"
    return meeting.series.code.replace("{n}", str(meeting.number))


Facts = frozenset[tuple[str, str]]
"""What a reply states, as (entity kind, value): ("city", "hanoi"), ("year", "2004")."""


def meeting_facts(kb: KnowledgeBase, meeting: MeetingRef) -> Facts:
    """Everything a meeting's record says that a question may name: its series, place, region
    and dates (as precisely as the record knows them)."""
    facts = {("meeting", meeting.key), ("meeting_kind", meeting.kind)}
    record = meeting.record
    if record.city:
        facts.add(("city", record.city))
        near = kb.cities[record.city].near
        if near:
            facts.add(("near", near))  # Gödöllő, near Budapest: not "in Budapest"
    country = kb.meeting_country(meeting)
    if country:
        facts.add(("country", country))
        region = kb.partner_region(country)
        if region:
            facts.add(("region", region))
    facts.add(("format", record.format))  # "was it in person?", "was ASEM13 online?"
    facts.add(("start", meeting.start.strftime("%Y%m%d")))  # "before the 2008 summit?"
    return frozenset(facts | day_facts(meeting.start, meeting.end, meeting.precision))


def day_facts(start: dt.date, end: dt.date, precision: str = "day") -> set[tuple[str, str]]:
    """The years, months and days from ``start`` to ``end``, as precisely as known: what a
    question may claim of a date ("on 8 October 2004?")."""
    facts = {("year", str(year)) for year in range(start.year, end.year + 1)}
    if precision == "year":
        return facts
    day = start
    while day <= end:
        facts.add(("month", str(day.month)))
        if precision == "day":
            facts.add(("day", str(day.day)))
        day += dt.timedelta(days=1)
    return facts


Dates = tuple[dt.date, dt.date, str]
"""When something happened: first day, last day, and how precise ("day", "month", "year")."""


def dates_of(kb: KnowledgeBase, kind: str, value: str) -> Dates | None:
    """When a thing a question names happened: a meeting, an event, ASEF's founding, a year,
    a partner's joining (``country``), a date (``20041007``)."""
    if kind == "meeting":
        meeting = kb.meeting_by_key(value)
        return (meeting.start, _last_day(meeting), meeting.precision) if meeting else None
    if kind == "event" and value in kb.events:
        event = kb.events[value]
        return (event.start, event.end, event.precision)
    if kind == "asef":
        return (kb.asef.founded, kb.asef.founded, "day")
    if kind == "country" and value in kb.partners:
        day = kb.joined_date(kb.partners[value])
        return (day, day, "day")
    if kind == "year":
        year = _year(value)
        if year.isdigit():
            return (dt.date(int(year), 1, 1), dt.date(int(year), 12, 31), "year")
    if kind == "date":
        asked = parse_day(value.rpartition("_")[2])
        return (asked, asked, "day") if asked else None
    return None


def parse_day(value: str) -> dt.date | None:
    """``20041007`` -> 7 October 2004 (the form dates take in actions)."""
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def _last_day(meeting: MeetingRef) -> dt.date:
    """The last day a meeting known by month or year may have been."""
    if meeting.precision == "year":
        return dt.date(meeting.start.year, 12, 31)
    if meeting.precision == "month":
        following = meeting.start.replace(day=28) + dt.timedelta(days=4)
        return following - dt.timedelta(days=following.day)
    return meeting.end


def _year(value: str) -> str:
    """Years travel with their relation: ``after_2010`` (after 2010), ``2004``."""
    return value.rpartition("_")[2]


@dataclass(frozen=True)
class EntityKind:
    name: str
    slot: str
    role: Role
    names: Callable[[KnowledgeBase], Names]
    exists: Callable[[KnowledgeBase, str], bool]
    display: Callable[[KnowledgeBase, str, str], str | None]
    placeholders: tuple[str, ...] = ()
    card: str | None = None
    card_rank: int = 0
    link: str | None = None
    in_slots: bool = True  # False: named by the intent itself (ASEF), or not ASEM's (orgs)
    matched: bool = True  # False: left out when matching intents (a day or month only
    # narrows or checks what is asked: "was FMM2 on 19 March?")


def _records(items: Iterable[object]) -> Names:
    for item in items:
        yield (
            item.id,  # type: ignore[attr-defined]
            (item.name.en, item.name.km, *item.aliases),  # type: ignore[attr-defined]
        )


def _meeting_display(kb: KnowledgeBase, value: str, lang: str) -> str | None:
    meeting = kb.meeting_by_key(value)
    return meeting_code(kb, meeting, lang) if meeting else None


def _country_display(kb: KnowledgeBase, value: str, lang: str) -> str | None:
    known = value in kb.partners or value in kb.non_partners
    return kb.country_name(value, lang) if known else None


def _area_display(kb: KnowledgeBase, value: str, lang: str) -> str | None:
    area = kb.area(int(value)) if value.isdigit() else None
    return area.short.get(lang) if area else None


def _flags(kb: KnowledgeBase) -> set[str]:
    return {flag for lexicon in kb.lexicons.values() for flag in lexicon.flags}


KINDS: tuple[EntityKind, ...] = (
    EntityKind(
        "meeting",
        "<m>",
        "subject",
        # named by code and number ("ASEM7"), read from the series, and by their themes
        names=lambda kb: (
            (m.key, (m.record.theme.en, m.record.theme.km))
            for m in kb.all_meetings()
            if m.record.theme
        ),
        exists=lambda kb, v: kb.meeting_by_key(v) is not None,
        display=_meeting_display,
        placeholders=("meeting",),
        card="meeting.info",
        card_rank=1,
    ),
    EntityKind(
        "country",
        "<p>",
        "subject",
        names=lambda kb: _records((*kb.partners.values(), *kb.non_partners.values())),
        exists=lambda kb, v: v in kb.partners or v in kb.non_partners,
        display=_country_display,
        placeholders=("country", "place"),
        card="partner.info",
        card_rank=2,
        link="partner",
    ),
    EntityKind(
        "city",
        "<c>",
        "detail",
        names=lambda kb: _records(kb.cities.values()),
        exists=lambda kb, v: v in kb.cities,
        display=lambda kb, v, lang: kb.cities[v].name.get(lang) if v in kb.cities else None,
        placeholders=("place",),
        card="meeting.by_place",
        card_rank=4,
    ),
    EntityKind(
        "asef",
        "<f>",
        "subject",
        names=lambda kb: [("asef", (kb.asef.name.en, kb.asef.name.km, *kb.asef.aliases))],
        exists=lambda kb, v: v == "asef",
        display=lambda kb, v, lang: kb.asef.name.get(lang),
        card="asef.about",
        card_rank=3,
    ),
    EntityKind(
        "event",
        "<e>",
        "subject",
        names=lambda kb: ((e.id, (e.name.en, e.name.km, *e.aliases)) for e in kb.events.values()),
        exists=lambda kb, v: v in kb.events,
        display=lambda kb, v, lang: kb.events[v].name.get(lang) if v in kb.events else None,
        placeholders=("event",),
        card="event.info",
        card_rank=3,
    ),
    EntityKind(
        "organisation",
        "<o>",
        "contrast",
        names=lambda kb: _records(kb.organisations.values()),
        exists=lambda kb, v: v in kb.organisations,
        display=lambda kb, v, lang: None,
        in_slots=False,
    ),
    EntityKind(
        "group",
        "<g>",
        "modifier",
        names=lambda kb: _records(kb.groups.values()),
        exists=lambda kb, v: v in kb.groups,
        display=lambda kb, v, lang: kb.groups[v].name.get(lang) if v in kb.groups else None,
        placeholders=("group",),
        card="partner.list",
        card_rank=7,
        link="group",
    ),
    EntityKind(
        "region",
        "<r>",
        "detail",
        names=lambda kb: _records(kb.regions.values()),
        exists=lambda kb, v: v in kb.regions,
        display=lambda kb, v, lang: kb.regions[v].name.get(lang) if v in kb.regions else None,
        placeholders=("region",),
    ),
    EntityKind(
        "meeting_kind",
        "<k>",
        "subject",
        names=lambda kb: _records(kb.series.values()),
        exists=lambda kb, v: v in kb.series,
        display=lambda kb, v, lang: kb.series[v].name.get(lang) if v in kb.series else None,
        placeholders=("kind",),
        card="meeting_kind.about",
        card_rank=8,
        link="kind",
    ),
    EntityKind(
        "area",
        "<a>",
        "subject",
        names=lambda kb: ((str(a.number), (a.short.en, a.short.km, *a.aliases)) for a in kb.areas),
        exists=lambda kb, v: v.isdigit() and kb.area(int(v)) is not None,
        display=_area_display,
        placeholders=("area",),
        card="area.check",
        card_rank=6,
        link="area",
    ),
    EntityKind(
        "year",
        "<y>",
        "detail",
        names=lambda kb: (),  # numbers, read by the entity extractor
        exists=lambda kb, v: (
            v.rpartition("_")[0] in ("", "after", "since", "before", "until")
            and _year(v).isdigit()
        ),
        display=lambda kb, v, lang: _year(v),
        placeholders=("year",),
        card="meeting.by_year",
        card_rank=5,
    ),
    EntityKind(
        "date",
        "<y>",  # matched as a year: "before Cambodia joined" works like "before 2004"
        "detail",
        names=lambda kb: (),  # made from a reference ("before Cambodia joined")
        exists=lambda kb, v: (
            v.rpartition("_")[0] in ("", "after", "since", "before", "until")
            and parse_day(v.rpartition("_")[2]) is not None
        ),
        display=lambda kb, v, lang: None,
    ),
    EntityKind(
        "month",
        "<mo>",
        "detail",
        names=lambda kb: (),  # the lexicon's month names, read by the entity extractor
        exists=lambda kb, v: v.isdigit() and 1 <= int(v) <= 12,
        display=lambda kb, v, lang: None,
        matched=False,
    ),
    EntityKind(
        "day",
        "<d>",
        "detail",
        names=lambda kb: (),  # a number beside a month
        exists=lambda kb, v: v.isdigit() and 1 <= int(v) <= 31,
        display=lambda kb, v, lang: None,
        matched=False,
    ),
    EntityKind(
        "flag",
        "<flag>",
        "modifier",
        names=lambda kb: (),  # words of the lexicon ("founding members"), not names
        exists=lambda kb, v: v in _flags(kb),
        display=lambda kb, v, lang: None,
    ),
)

KIND: dict[str, EntityKind] = {kind.name: kind for kind in KINDS}
SLOT: dict[str, str] = {kind.name: kind.slot for kind in KINDS if kind.name != "flag"}
UNMATCHED = frozenset(k.name for k in KINDS if not k.matched)
SUBJECTS = frozenset(k.name for k in KINDS if k.role == "subject")
DETAILS = frozenset(k.name for k in KINDS if k.role == "detail")
CONTRASTS = frozenset(k.name for k in KINDS if k.role == "contrast")
PRECEDENCE = [k.name for k in KINDS]
PLACEHOLDERS = frozenset(p for k in KINDS for p in k.placeholders) | {"kinds"}
"""Every placeholder a question label may use; ``{kinds}`` is the series named, or all."""
CARDS = tuple((k.name, k.card) for k in sorted(KINDS, key=lambda k: k.card_rank) if k.card)
LINKS = {k.link: k for k in KINDS if k.link}


def exists(kb: KnowledgeBase, kind: str, value: str) -> bool:
    entity = KIND.get(kind)
    return entity is not None and entity.exists(kb, value)


def display_values(
    kb: KnowledgeBase, slots: Iterable[tuple[str, str]], lang: str
) -> dict[str, str]:
    """The label placeholders that the named things fill: the first of each kind wins."""
    values: dict[str, str] = {}
    for kind_name, value in slots:
        kind = KIND.get(kind_name)
        if kind is None or not kind.placeholders:
            continue
        shown = kind.display(kb, value, lang)
        if shown is None:
            continue
        for placeholder in kind.placeholders:
            values.setdefault(placeholder, shown)
        if kind_name == "meeting_kind" and "kinds" not in values:
            title = kb.series[value].title if value in kb.series else None
            if title is not None:
                values["kinds"] = title.get(lang)
    return values
