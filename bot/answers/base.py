"""What every answer composer gets (a :class:`Context`) and gives back (an :class:`Answer`).

Composers turn facts into text through templates from ``knowledge/messages.yaml``, so the
wording can be edited and translated without touching code.

Markup escapes by construction (:class:`Html` is markupsafe's ``Markup``): a template filled
with :meth:`Context.t`, ``Html + str``, ``str + Html`` and ``Html.join`` escape every plain
value, and Html values pass as they are. So a fact is escaped exactly once, wherever it is
put, and a composer cannot return unescaped text: its :class:`Answer` holds Html (mypy checks).
Only templates and prose answers from the knowledge base are markup; every other field is
plain text (see ``bot.knowledge.models``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup as Html
from markupsafe import escape

from bot.declare import msg
from bot.domain.kinds import Facts, meeting_code, parse_day
from bot.knowledge import KnowledgeBase, MeetingRef
from bot.reply import Button

_STARTS_WITH_COUNTRY = re.compile(r"^(?:<[a-z]+>)*\{country\}")
_FIRST_LETTER = re.compile(r"^((?:<[^>]+>)*)([a-z])")


WHEN = (msg("when_day"), msg("when_month"), msg("when_year"))
SEPARATORS = (msg("and_separator"), msg("then_separator"), msg("months"))

NL = Html("\n")
PARA = Html("\n\n")
SPACE = Html(" ")


KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
"""Replies write numbers in Arabic digits in both languages, as people type them in questions
("ASEM13", "2004"), so that a figure reads the same in an English and a Khmer reply; the
Khmer texts of the knowledge base may use either."""


def arabic_digits(text: Html) -> Html:
    return Html(str.translate(text, KHMER_DIGITS))


def html(value: object) -> Html:
    """``value`` as markup: escaped, unless it already is markup."""
    return escape(value)


def lines(items: Iterable[str]) -> Html:
    """One item a line (plain items escaped)."""
    return NL.join(items)


def paras(items: Iterable[str]) -> Html:
    """One item a paragraph (plain items escaped), empty items left out."""
    return PARA.join(item for item in items if item)


def bullets(items: Iterable[str]) -> Html:
    """'• item' lines."""
    return NL.join(Html("• ") + item for item in items)


def sentence(*parts: str) -> Html:
    """Parts joined by spaces, empty ones left out."""
    return SPACE.join(part for part in parts if part)


@dataclass(frozen=True)
class Answer:
    """A composed reply. ``facts`` are what it states, as (entity kind, value) pairs, so a
    yes/no question can be checked against them ("was ASEM3 in Seoul?": ("city", "seoul"));
    ``exists`` says whether anything was found at all, for "was there an FMM in 2021?"."""

    text: Html
    buttons: tuple[Button, ...] = ()
    page: int = 0
    pages: int = 1
    parent: str | None = None
    answered: bool = True
    facts: Facts = frozenset()
    exists: bool | None = None
    listed: tuple[tuple[str, str], ...] = ()  # the items of a list, in order ("the 2nd one")


@dataclass
class Context:
    """The facts a composer needs: the knowledge base and what the question is about."""

    kb: KnowledgeBase
    lang: str
    today: dt.date
    slots: tuple[tuple[str, str], ...] = ()
    page: int = 0
    # resolved from the slots
    meetings: list[MeetingRef] = field(default_factory=list)
    missing_meetings: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for value in self.values("meeting"):
            series, _, number = value.partition("_")
            meeting = self.kb.meeting_by_key(value)
            if meeting:
                self.meetings.append(meeting)
            elif series in self.kb.series and number.isdigit():
                self.missing_meetings.append((series, int(number)))

    # -- slots ---------------------------------------------------------------------------------

    def values(self, slot_type: str) -> list[str]:
        seen: list[str] = []
        for kind, value in self.slots:
            if kind == slot_type and value not in seen:
                seen.append(value)
        return seen

    def has(self, slot_type: str) -> bool:
        return any(kind == slot_type for kind, _ in self.slots)

    @property
    def countries(self) -> list[str]:
        return self.values("country")

    @property
    def kinds(self) -> list[str]:
        return self.values("meeting_kind")

    @property
    def flags(self) -> set[str]:
        return set(self.values("flag"))

    def days(self) -> list[tuple[str, dt.date]]:
        """(relation, day) pairs of the dates a reference gave ("before Cambodia joined")."""
        out = []
        for value in self.values("date"):
            relation, _, day = value.rpartition("_")
            parsed = parse_day(day)
            if parsed is not None:
                out.append((relation, parsed))
        return out

    def years(self) -> list[tuple[str, int]]:
        """(relation, year) pairs: relation is "", "after" or "before"."""
        out = []
        for value in self.values("year"):
            relation, _, year = value.rpartition("_")
            out.append((relation, int(year)))
        return out

    # -- text ----------------------------------------------------------------------------------

    def t(self, key: str, **values: object) -> Html:
        """Fill template ``key`` with ``values`` (escaped unless already Html)."""
        template = self.kb.message(key, self.lang)
        # escape() each value, then C-level str.format_map: Markup.format_map does the same
        # through string.Formatter, in Python, several times slower
        text = Html(template.format_map({k: escape(v) for k, v in values.items()}))
        if _STARTS_WITH_COUNTRY.match(template):
            # a sentence that opens with a name: "the Netherlands joined" -> "The Netherlands"
            text = Html(_FIRST_LETTER.sub(lambda m: m[1] + m[2].upper(), text, count=1))
        return text

    def join(self, items: Iterable[object], last: str = "and_separator") -> Html:
        """ "A, B and C" in the reply language (``last`` names the final separator)."""
        parts = [html(i) for i in items]
        if len(parts) <= 1:
            return Html("").join(parts)
        final = SPACE + Html(self.kb.message(last, self.lang)) + SPACE
        return Html(", ").join(parts[:-1]) + final + parts[-1]

    def code(self, meeting: MeetingRef) -> str:
        """ASEM13, FMM2 (or the series' name and year, for a meeting without a number)."""
        return meeting_code(self.kb, meeting, self.lang)

    def when(self, meeting: MeetingRef) -> Html:
        """'on 8-9 October 2004', 'in September 1997', 'in 2008': as precise as the record."""
        return self.t(f"when_{meeting.precision}", dates=self.meeting_dates(meeting))

    def meeting_dates(self, meeting: MeetingRef) -> str:
        """'8-9 October 2004', 'September 1997', '2008': as precise as the record."""
        return self.period(meeting.start, meeting.end, meeting.precision)

    def period(self, start: dt.date, end: dt.date, precision: str = "day") -> str:
        if precision == "year":
            return self._date("date_year", year=start.year)
        if precision == "month":
            return self._date("date_month", month=self.month(start.month), year=start.year)
        return self.dates(start, end)

    def where(self, meeting: MeetingRef) -> str | None:
        """The meeting's place ('Hanoi, Viet Nam'), its country alone, or None (online)."""
        record = meeting.record
        if record.city:
            return self.place(record.city)
        return self.country(record.country) if record.country else None

    def month(self, number: int) -> str:
        return self.kb.message("months", self.lang).split()[number - 1]

    def _date(self, key: str, **values: object) -> str:
        """A date in the reply language's order and words (messages ``date_*``)."""
        return self.kb.message(key, self.lang).format_map(values)

    def date(self, day: dt.date) -> str:
        """'8 October 2004'; in Khmer 'ថ្ងៃទី8 ខែតុលា ឆ្នាំ2004'."""
        return self._date("date_day", day=day.day, month=self.month(day.month), year=day.year)

    def dates(self, start: dt.date, end: dt.date) -> str:
        """'1-2 March 1996', '30 March - 2 April 1999', '15 February 1997'."""
        if start == end:
            return self.date(start)
        if (start.year, start.month) == (end.year, end.month):
            month = self.month(end.month)
            return self._date(
                "date_days", first=start.day, day=end.day, month=month, year=end.year
            )
        if start.year == end.year:
            first = self._date("date_day_month", day=start.day, month=self.month(start.month))
        else:
            first = self.date(start)
        return self._date("date_span", first=first, second=self.date(end))

    def name(self, record: object) -> str:
        return record.name.get(self.lang)  # type: ignore[attr-defined]

    def original(self, text: object) -> str:
        """The English of a name or title beside its translation, when the reply is in another
        language and it reads differently: official titles and foreign places are written in
        English in the sources, and that is how a reader finds them."""
        if self.lang == "en":
            return ""
        english: str = text.get("en")  # type: ignore[attr-defined]
        return "" if english == text.get(self.lang) else english  # type: ignore[attr-defined]

    def text(self, record: object) -> str:
        return record.get(self.lang)  # type: ignore[attr-defined]

    def country(self, country_id: str) -> str:
        """A country's name as written in running text ("the Netherlands")."""
        return self.kb.country_name(country_id, self.lang, in_text=True)

    def place(self, city_id: str) -> str:
        """'Hanoi, Viet Nam'; 'Singapore' for a city-state; 'Gödöllő (near Budapest), Hungary'."""
        city = self.kb.cities[city_id]
        name = self.name(city)
        notes = [self.original(city.name), city.note.get(self.lang) if city.note else ""]
        if any(notes):  # "មីឡាន (Milan)": the name as written on maps and in the sources
            name = f"{name} ({', '.join(n for n in notes if n)})"
        country = self.country(city.country)
        english = self.kb.country_name(city.country, "en", in_text=True)
        if self.lang != "en" and english != country:  # "ឡុងដ៍ (London), ចក្រភពអង់គ្លេស (the UK)"
            country = f"{country} ({english.removeprefix('the ')})"
        city_state = self.kb.country_name(city.country, "en") == city.name.en  # Singapore
        return name if city_state else f"{name}, {country}"
