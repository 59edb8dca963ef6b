"""Follow-ups: what to offer after an answer, derived from what the answer was about.

Nothing here is written per card. What an answer is about (its *subject*: a meeting, a
partner, a group, a series, ASEF, an event, an area, or ASEM itself) comes from its action's
slots, else from what its question needs (``asem13.outcome`` needs ``meeting=summit_13``),
else from its intent's family (``asem.day``: ASEM). The things related to a subject come from
the knowledge base:

- the subject's card (``partner.info`` for a country: see :data:`bot.domain.kinds.KINDS`);
- every question that needs that very thing (``cambodia.benefits`` needs ``country=kh``) or
  asks of any thing of its kind (``asef.funding`` needs ``asef``), but the ones the card
  already answers (the same family);
- what its record links to: a meeting's host, series and the partners who joined at it; a
  partner's group, the summit it joined at, the meetings and events it hosted; a series' list
  and its next, latest and number of meetings; the meeting that founded ASEF;
- the facts of facts.yaml about it (their ``about``), and for ASEM itself, the questions
  about ASEM and every fact about nothing narrower (nothing, or only a year or a place).

An answer shows the first few not already on it (:data:`SHOWN`) and, when there are more, a
"More about ..." button to a screen that lists them all (``browse.more``), so that every
topic of the knowledge base is a few taps from the menu. ``browse.kinds`` lists the kinds of
meeting (summits, ministerial meetings, senior officials' meetings...). The two browse screens
are composed here: they are places to go, not questions anyone asks, so they have no examples
and the understanding never picks them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bot.actions import Action
from bot.answers import family
from bot.answers.base import Answer, Context, Html, bullets
from bot.declare import msg
from bot.domain import kinds
from bot.knowledge import KnowledgeBase
from bot.knowledge.base import FACT
from bot.reply import Button, paginate

SHOWN = 3
"""Follow-ups shown under an answer; the rest are one tap further, under "More about"."""
MORE_PER_PAGE = 30

FEW = 8
"""A kind with at most this many things (the partner groups) offers them all after a question
of its family that names none ("How many partners does ASEM have?": each group)."""

MORE = "browse.more"
KINDS = "browse.kinds"
BROWSE = frozenset({MORE, KINDS})
"""The browse screens: opened by buttons and deep links, never by a question."""

ASEM = ("asem", "asem")
"""The subject of an answer about ASEM itself (no slot: ``browse.more`` without slots)."""

MORE_BUTTON = msg("followup_more")
MORE_HEADER = msg("followup_more_header")
JOINED_AT = msg("followup_joined_at")
KINDS_HEADER = msg("meeting_kinds_header")
KINDS_LINE = msg("meeting_kinds_line")
KINDS_LINE_NONE = msg("meeting_kinds_line_none")
KINDS_TITLE = msg("meeting_kinds_title")
ASEM_NAME = msg("followup_asem")

SKIPPED_FAMILIES = ("smalltalk.", "time.")
"""Questions that are no follow-up: small talk, and time questions (they need two things)."""
NAMED_CARDS = frozenset({"meeting", "country", "event", "group", "area", "city", "year"})
"""Kinds whose card button is labelled with the thing's name ("ASEM12", "Cambodia"); the other
cards are labelled with their question ("What is the Foreign Ministers' Meeting (FMM)?")."""

Subject = tuple[str, str]


def _needs(texts: tuple[str, ...]) -> tuple[set[tuple[str, str]], set[str]]:
    """(valued needs, unvalued needs) of a question or a fact: ``meeting=summit_13``, ``asef``."""
    valued: set[tuple[str, str]] = set()
    unvalued: set[str] = set()
    for text in texts:
        kind, _, value = str(text).partition("=")
        if value:
            valued.add((kind, value))
        else:
            unvalued.add(kind)
    return valued, unvalued


def _prefix(intent: str) -> str:
    return intent.split(".", 1)[0]


@dataclass(frozen=True)
class Related:
    """What to offer after an answer; built once per knowledge base. What is related to a
    thing depends on the knowledge base alone, so it is worked out once per thing (an index,
    like the understanding's, not a memory of answers)."""

    kb: KnowledgeBase
    _related: dict[Subject, tuple[Action, ...]] = field(default_factory=dict, compare=False)
    _single: dict[str, bool] = field(default_factory=dict, compare=False)

    # -- what an answer is about ---------------------------------------------------------------

    def single_valued(self, kind: str) -> bool:
        """A kind with one thing only (ASEF): its questions need no slot to name it."""
        known = self._single.get(kind)
        if known is None:
            entity = kinds.KIND.get(kind)
            known = entity is not None and len(list(entity.names(self.kb))) == 1
            self._single[kind] = known
        return known

    def subject(self, action: Action) -> Subject:
        """The main thing ``action`` is about (ASEM itself when it names nothing)."""
        for kind, value in action.slots:
            entity = kinds.KIND.get(kind)
            real = entity is not None and entity.card and kind != "flag" and value
            if real and kinds.exists(self.kb, kind, value):
                return kind, value
        question = self.kb.question(action.intent)
        needs: tuple[str, ...] = question.needs if question else ()
        if action.intent.startswith(FACT):
            fact = self.kb.facts.get(action.intent.removeprefix(FACT))
            needs = tuple(fact.about) if fact else ()
        valued, unvalued = _needs(needs)
        for kind, value in sorted(valued):
            if kinds.exists(self.kb, kind, value):
                return kind, value
        for kind in sorted(unvalued):
            if self.single_valued(kind):
                return kind, next(iter(kinds.KIND[kind].names(self.kb)))[0]
        return ASEM if _prefix(action.intent) in ("asem", "fact") else ("", _prefix(action.intent))

    # -- what is related to it -----------------------------------------------------------------

    def card(self, subject: Subject) -> Action | None:
        kind, value = subject
        entity = kinds.KIND.get(kind)
        if entity is None or not entity.card:
            return None
        if self.single_valued(kind):
            return Action(entity.card)
        return Action(entity.card, ((kind, value),))

    def candidates(self, subject: Subject) -> tuple[Action, ...]:
        """Everything related to ``subject``, the closest first, each once."""
        related = self._related.get(subject)
        if related is None:
            found: dict[str, Action] = {}
            for action in self._candidates(subject):
                found.setdefault(action.encode(), action)
            related = self._related[subject] = tuple(found.values())
        return related

    def _candidates(self, subject: Subject) -> Iterator[Action]:
        kb = self.kb
        kind, value = subject
        card = self.card(subject)
        if card is not None:
            yield card
        card_family = family(card.intent) if card else None
        if subject == ASEM or kind == "":
            yield from self._siblings(value if kind == "" else "asem", card_family)
        for question in kb.questions:
            intent = question.intent
            if intent.startswith(FACT) or intent.startswith(SKIPPED_FAMILIES):
                continue
            if card is not None and (intent == card.intent or family(intent) == card_family):
                continue
            valued, unvalued = _needs(question.needs)
            if (kind, value) in valued or (kind in unvalued and self.single_valued(kind)):
                yield Action(intent)
            elif kind in unvalued and len(unvalued) == 1 and not valued:
                yield Action(intent, ((kind, value),))
        for fact in kb.facts.values():
            valued, _ = _needs(tuple(fact.about))
            if (kind, value) in valued or (subject == ASEM and self._of_asem(valued)):
                yield Action(FACT + fact.id)
        yield from self._linked(subject)

    @staticmethod
    def _of_asem(about: set[tuple[str, str]]) -> bool:
        """A fact about nothing narrower than ASEM: about nothing, or only a time or a place
        ("which partners coordinated ASEM in 2020?"), which no screen is about."""
        return all(kinds.KIND[k].role == "detail" for k, _ in about if k in kinds.KIND)

    def _siblings(self, prefix: str, card_family: str | None) -> Iterator[Action]:
        """The questions of one family that need nothing ("How did ASEM begin?" beside "What
        is ASEM?"), but those that are the card of a kind of thing (``area.check``)."""
        cards = {k.card for k in kinds.KINDS if k.card}
        for question in self.kb.questions:
            intent = question.intent
            if _prefix(intent) == prefix and not question.needs and intent not in cards:
                yield Action(intent)
        if prefix == "asem":
            yield Action(KINDS)
        for kind in kinds.KINDS:  # the few things of a kind this family's card shows
            if kind.card and _prefix(kind.card) == prefix and kind.name != "flag":
                things = [thing for thing, _ in kind.names(self.kb)]
                if 1 < len(things) <= FEW:
                    yield from (Action(kind.card, ((kind.name, t),)) for t in things)

    def _linked(self, subject: Subject) -> Iterator[Action]:
        """What the subject's record links to."""
        kb = self.kb
        kind, value = subject
        if kind == "meeting":
            meeting = kb.meeting_by_key(value)
            if meeting is None:
                return
            host = kb.meeting_country(meeting)
            if host is not None and host in kb.partners:
                yield Action("partner.info", (("country", host),))
            if any(value in self._joined_at(p) for p in kb.partners.values()):
                yield Action("partner.list", (("meeting", value), ("flag", "joining")))
            yield Action("meeting_kind.about", (("meeting_kind", meeting.kind),))
            if meeting.record.city:
                yield from self._facts_about(("city", meeting.record.city))
        elif kind == "country" and value in kb.partners:
            partner = kb.partners[value]
            yield Action("partner.list", (("group", partner.group),))
            summit = kb.summits[partner.joined.summit - 1]
            yield Action("meeting.info", (("meeting", summit.key),))
            for meeting in kb.all_meetings():
                if kb.meeting_country(meeting) == value:
                    yield Action("meeting.info", (("meeting", meeting.key),))
            for event in kb.events.values():
                if event.city and kb.cities[event.city].country == value:
                    yield Action("event.info", (("event", event.id),))
        elif kind == "meeting_kind":
            if kb.meetings(value):
                yield Action("meeting.list", (("meeting_kind", value),))
                for intent in ("meeting.next", "meeting.latest", "meeting.count"):
                    yield Action(intent, (("meeting_kind", value),))
            order = list(kb.series)
            if value in order:  # the kinds beside it
                at = order.index(value)
                for other in order[max(at - 1, 0) : at] + order[at + 1 : at + 2]:
                    yield Action("meeting_kind.about", (("meeting_kind", other),))
            yield Action(KINDS)
        elif kind == "asef":
            founded = kb.fmms[kb.asef.founded_at_fmm - 1]
            yield Action("meeting.info", (("meeting", founded.key),))
        elif kind == "event" and value in kb.events:
            city = kb.events[value].city
            if city and kb.cities[city].country in kb.partners:
                yield Action("partner.info", (("country", kb.cities[city].country),))
        elif kind == "area" and value.isdigit():
            for number in (int(value) - 1, int(value) + 1):  # the areas beside it
                if kb.area(number) is not None:
                    yield Action("area.check", (("area", str(number)),))
            yield Action("area.list")

    def _facts_about(self, subject: Subject) -> Iterator[Action]:
        for fact in self.kb.facts.values():
            if subject in _needs(tuple(fact.about))[0]:
                yield Action(FACT + fact.id)

    @staticmethod
    def _joined_at(partner: object) -> set[str]:
        joined = partner.joined  # type: ignore[attr-defined]
        summits = {joined.summit, joined.decided_at_summit} - {None, 1}
        return {f"summit_{n}" for n in summits}

    # -- labels --------------------------------------------------------------------------------

    def name(self, subject: Subject, lang: str) -> str:
        kind, value = subject
        if subject == ASEM or kind == "":
            return self.kb.message(ASEM_NAME, lang)
        entity = kinds.KIND.get(kind)
        shown = entity.display(self.kb, value, lang) if entity else None
        return shown or value

    def label(self, action: Action, lang: str, title: Callable[[Action, str], str]) -> str:
        """A button's label: the thing's name for a card ("ASEM12"), else its question."""
        if action.intent == KINDS:
            return self.kb.message(KINDS_TITLE, lang)
        if action.intent == MORE:
            subject = action.slots[0] if action.slots else ASEM
            return self.kb.message(MORE_BUTTON, lang).format(name=self.name(subject, lang))
        if action.intent == "partner.list" and ("flag", "joining") in action.slots:
            meeting = self.name(action.slots[0], lang)
            return self.kb.message(JOINED_AT, lang).format(meeting=meeting)
        if len(action.slots) == 1:
            kind, value = action.slots[0]
            entity = kinds.KIND.get(kind)
            if entity is not None and entity.card == action.intent and kind in NAMED_CARDS:
                return self.name((kind, value), lang)
            if action.intent == "meeting.list" and kind == "meeting_kind":
                series = self.kb.series[value]
                return (series.title or series.name).get(lang)
        return title(action, lang)

    def more(self, subject: Subject) -> Action:
        return Action(MORE, () if subject == ASEM else (subject,))


# -- the browse screens ------------------------------------------------------------------------


def more_screen(
    ctx: Context, related: Related, items: list[tuple[str, Action]], subject: Subject
) -> Answer:
    """Everything related to a subject, a button each ("More about ASEM13")."""
    page = paginate([label for label, _ in items], ctx.page, MORE_PER_PAGE)
    shown = items[page.page * MORE_PER_PAGE : (page.page + 1) * MORE_PER_PAGE]
    header = ctx.t(MORE_HEADER, name=related.name(subject, ctx.lang), count=len(items))
    text = header + Html("\n") + bullets(page.lines)
    buttons = tuple(Button(label, action.encode()) for label, action in shown)
    card = related.card(subject)
    parent = card.encode() if card is not None else None
    return Answer(text, buttons=buttons, page=page.page, pages=page.pages, parent=parent)


def kinds_screen(ctx: Context) -> Answer:
    """The kinds of ASEM meeting, each with what is on record."""
    kb = ctx.kb
    rows: list[Html] = []
    buttons: list[Button] = []
    for series_id, series in kb.series.items():
        held = [m for m in kb.meetings(series_id) if m.held]
        key = KINDS_LINE if held else KINDS_LINE_NONE
        rows.append(ctx.t(key, name=ctx.name(series), count=len(held)))
        action = Action("meeting_kind.about", (("meeting_kind", series_id),))
        buttons.append(Button(ctx.name(series), action.encode()))
    text = ctx.t(KINDS_HEADER, count=len(rows)) + Html("\n") + bullets(rows)
    return Answer(text, buttons=tuple(buttons))
