"""What every answer composer gets (a :class:`Context`) and gives back (an :class:`Answer`).

Composers turn facts into text through templates from ``knowledge/messages.yaml``, so the
wording can be edited and translated without touching code. Values put into a template are
HTML-escaped unless they are already :class:`Html` (text built from escaped parts).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.knowledge import KnowledgeBase, MeetingRef
from bot.reply import Button, esc

_STARTS_WITH_COUNTRY = re.compile(r"^(?:<[a-z]+>)*\{country\}")
_FIRST_LETTER = re.compile(r"^((?:<[^>]+>)*)([a-z])")


class Html(str):
    """Text that is already valid Telegram HTML: inserted into templates as it is."""

    __slots__ = ()


def html(value: object) -> Html:
    return value if isinstance(value, Html) else Html(esc(value))


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: tuple[Button, ...] = ()
    page: int = 0
    pages: int = 1
    parent: str | None = None
    answered: bool = True


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
            kind, _, number = value.partition("_")
            meeting = self.kb.meeting_by_key(value)
            if meeting:
                self.meetings.append(meeting)
            elif kind in ("summit", "fmm") and number.isdigit():
                self.missing_meetings.append((kind, int(number)))

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
        text = template.format_map({k: html(v) for k, v in values.items()})
        if _STARTS_WITH_COUNTRY.match(template):
            # a sentence that opens with a name: "the Netherlands joined" -> "The Netherlands"
            text = _FIRST_LETTER.sub(lambda m: m[1] + m[2].upper(), text, count=1)
        return Html(text)

    def join(self, items: Iterable[object], last: str = "and_separator") -> Html:
        """ "A, B and C" in the reply language (``last`` names the final separator)."""
        parts = [html(i) for i in items]
        if len(parts) <= 1:
            return Html("".join(parts))
        return Html(", ".join(parts[:-1]) + f" {self.kb.message(last, self.lang)} " + parts[-1])

    def month(self, number: int) -> str:
        return self.kb.message("months", self.lang).split()[number - 1]

    def date(self, day: dt.date) -> str:
        return f"{day.day} {self.month(day.month)} {day.year}"

    def dates(self, start: dt.date, end: dt.date) -> str:
        """'1-2 March 1996', '30 March - 2 April 1999', '15 February 1997'."""
        if start == end:
            return self.date(start)
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}-{end.day} {self.month(end.month)} {end.year}"
        if start.year == end.year:
            return f"{start.day} {self.month(start.month)} - {self.date(end)}"
        return f"{self.date(start)} - {self.date(end)}"

    def name(self, record: object) -> str:
        return record.name.get(self.lang)  # type: ignore[attr-defined]

    def text(self, record: object) -> str:
        return record.get(self.lang)  # type: ignore[attr-defined]

    def country(self, country_id: str) -> str:
        """A country's name as written in running text ("the Netherlands")."""
        return self.kb.country_name(country_id, self.lang, in_text=True)

    def place(self, city_id: str) -> str:
        """'Hanoi, Viet Nam'; 'Singapore' for a city-state; 'Gödöllő (near Budapest), Hungary'."""
        city = self.kb.cities[city_id]
        name = self.name(city)
        if city.note:
            name = f"{name} ({city.note.get(self.lang)})"
        country = self.country(city.country)
        return name if country == self.name(city) else f"{name}, {country}"


Composer = Callable[[Context], Answer]
