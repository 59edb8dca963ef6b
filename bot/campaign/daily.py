"""The fact of the day: an anniversary when the date has one, otherwise the next fact in turn.

"On this day" comes first: a summit or FMM that opened on this date, ASEF's founding day,
ASEM Day (1 March), a partner's admission day. On other days the facts rotate through every
topic a deep link can open, in a fixed order, so a channel sees each one before any repeats.
Pure and deterministic: the Telegram layer decides when and where to post.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.actions import Action
from bot.brain import Brain
from bot.declare import msg
from bot.domain.links import from_deep_link, to_deep_link
from bot.reply import Reply

ON_THIS_DAY = msg("daily_on_this_day")
FACT_OF_THE_DAY = msg("daily_fact")


@dataclass(frozen=True)
class DailyFact:
    reply: Reply  # the fact card, HTML
    header: str  # "On this day in 1996" or "ASEM fact of the day", HTML
    deep_link: str | None  # the topic that opens it in the bot
    anniversary: bool

    @property
    def text(self) -> str:
        return f"{self.header}\n\n{self.reply.text}"


def anniversaries(brain: Brain, day: dt.date) -> list[tuple[int, Action]]:
    """(year, action) of what happened on this day of the year, oldest first."""
    kb = brain.kb
    found: list[tuple[int, Action]] = []
    for meeting in kb.all_meetings():
        if meeting.held and (meeting.start.month, meeting.start.day) == (day.month, day.day):
            found.append((meeting.start.year, Action("meeting.info", (("meeting", meeting.key),))))
    founded = kb.asef.founded
    if (founded.month, founded.day) == (day.month, day.day):
        found.append((founded.year, Action("asef.founded")))
    asem_day = kb.asem.asem_day
    if (asem_day.month, asem_day.day) == (day.month, day.day):
        found.append((asem_day.first_celebrated.year, Action("asem.day")))
    for partner in kb.partners.values():
        joined = partner.joined.date
        if joined and (joined.month, joined.day) == (day.month, day.day):
            found.append((joined.year, Action("partner.info", (("country", partner.id),))))
    return sorted(found, key=lambda item: item[0])


def rotation(brain: Brain) -> list[Action]:
    """Every fact card in a fixed order: the featured ones first, then the rest."""
    kb = brain.kb
    actions: list[Action] = []
    for topic in kb.asem.featured:
        action = from_deep_link(topic)
        if action is not None:
            actions.append(action)
    actions += [Action("meeting.info", (("meeting", m.key),)) for m in kb.all_meetings()]
    actions += [Action("partner.info", (("country", p),)) for p in kb.partners]
    actions += [Action("area.check", (("area", str(a.number)),)) for a in kb.areas]
    actions += [Action(q.intent) for q in kb.questions if not q.needs and q.answer is None]
    unique: dict[str, Action] = {}
    for action in actions:
        unique.setdefault(action.encode(), action)
    return [a for a in unique.values() if brain.run(a.encode()) is not None]


def fact_for(brain: Brain, day: dt.date, lang: str = "en") -> DailyFact:
    """The fact to post on ``day``."""
    kb = brain.kb
    for year, action in anniversaries(brain, day):
        reply = brain.run(action.encode(), lang)
        if reply is not None:
            header = kb.message(ON_THIS_DAY, lang).format(year=year, count=day.year - year)
            return DailyFact(reply, header, to_deep_link(action), True)
    pool = rotation(brain)
    action = pool[day.toordinal() % len(pool)]
    reply = brain.run(action.encode(), lang)
    assert reply is not None  # the pool holds only actions that answer
    return DailyFact(reply, kb.message(FACT_OF_THE_DAY, lang), to_deep_link(action), False)
