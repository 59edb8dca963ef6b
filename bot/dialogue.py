"""Conversation state as data: what an answer was about, so that the next question can refer
to it ("and the one after that?", "who hosted it", "and Laos?", "the second one").

A :class:`Topic` is what one reply was about: its intent, the things it named (slots) and the
items of the list it showed. Channels keep the last few topics of a chat (and, for replies to
a message, the topic of that message) and hand them back with the next question; the brain
reads the question on its own and in the context, and the context wins only when the question
cannot stand alone or plainly refers back.

Everything here is pure: it reads a parse and a topic, and proposes an action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.actions import Action
from bot.knowledge import KnowledgeBase
from bot.nlu.normalise import is_ordinal
from bot.nlu.understand import Parse

Slots = tuple[tuple[str, str], ...]

TOPIC_TURNS = 3
"""How many earlier topics a chat keeps: a follow-up refers to the last ones only."""
TOPIC_SECONDS = 15 * 60
"""How long a topic lasts: a question an hour later starts afresh."""


@dataclass(frozen=True)
class Topic:
    """What one answer was about."""

    intent: str
    slots: Slots = ()
    listed: Slots = ()  # the items of the list the answer showed, in order
    # the words the question was asked with ("when is asem day"): what a follow-up that
    # names nothing is about ("who decided that?")
    words: tuple[str, ...] = ()
    yes_no: bool = False  # it was asked yes or no: "and Switzerland?" is asked the same way

    def values(self, kind: str) -> list[str]:
        return [v for k, v in self.slots if k == kind]

    def encode(self) -> str:
        """A compact text form (for storage): ``intent|k=v,k=v|k=v,...|word word|?``."""
        slots = ",".join(f"{k}={v}" for k, v in self.slots)
        listed = ",".join(f"{k}={v}" for k, v in self.listed)
        asked = "?" if self.yes_no else ""
        return f"{self.intent}|{slots}|{listed}|{' '.join(self.words)}|{asked}"

    @classmethod
    def decode(cls, text: str) -> Topic | None:
        try:
            intent, slots, listed, *rest = text.split("|")
            words = tuple(rest[0].split()) if rest else ()
            asked = len(rest) > 1 and rest[1] == "?"
            return cls(intent, _pairs(slots), _pairs(listed), words, asked)
        except ValueError:
            return None


def _pairs(text: str) -> Slots:
    if not text:
        return ()
    return tuple(tuple(part.split("=", 1)) for part in text.split(","))  # type: ignore[misc]


@dataclass(frozen=True)
class Cues:
    """The words that make a question refer back (from language.yaml)."""

    refers: frozenset[str]  # it, that, there, they, one, same...
    substitutes: tuple[tuple[str, ...], ...]  # "and", "what about", "same for"
    next_words: frozenset[str]  # next, after, following
    previous_words: frozenset[str]  # previous, before
    same_year: frozenset[tuple[str, str]] = frozenset()  # "that year", "same year"


def refers_back(parse: Parse, cues: Cues) -> bool:
    """The question plainly leans on what came before: a pronoun, "the one after", "and X?"."""
    tokens = parse.tokens
    if any(t in cues.refers for t in tokens):
        return True
    return any(tuple(tokens[: len(s)]) == s for s in cues.substitutes if s)


def _neighbour(kb: KnowledgeBase, key: str, step: int, series: str | None = None) -> str | None:
    """The meeting after (``step`` +1) or before (-1) meeting ``key``: in its own series, or in
    ``series`` by date ("the summit right after FMM11")."""
    meeting = kb.meeting_by_key(key)
    if meeting is None:
        return None
    if series is None or series == meeting.kind:
        items = kb.meetings(meeting.kind)
        at = items.index(meeting) + step
        return items[at].key if 0 <= at < len(items) else None
    others = kb.meetings(series)
    if step > 0:
        later = [m for m in others if m.start > meeting.start]
        return later[0].key if later else None
    earlier = [m for m in others if m.start < meeting.start]
    return earlier[-1].key if earlier else None


def topic_meeting(topic: Topic) -> str | None:
    """The one meeting a topic was about: named, or the only one its reply showed."""
    meetings = topic.values("meeting")
    if meetings:
        return meetings[-1]
    shown = [v for k, v in topic.listed if k == "meeting"]
    return shown[0] if len(shown) == 1 else None


def relative_meeting(
    kb: KnowledgeBase, parse: Parse, topic: Topic, cues: Cues, written: Sequence[str] = ()
) -> str | None:
    """ "and the one after that?", "the next one", "the previous summit", "what summit came
    right after it" (after FMM11: ASEM10): a neighbour of the meeting the topic was about, in
    the series the question names, else in its own."""
    if parse.of_type("meeting"):
        return None
    key = topic_meeting(topic)
    if key is None:
        meetings = [v for k, v in topic.listed if k == "meeting"]
        if not meetings:
            return None
        key = meetings[-1]
    named = [v for e in parse.of_type("meeting_kind") for v in e.values]
    series = named[0] if named else None
    # ``written``: the words as typed, before synonyms: "the previous one" reads as "the last
    # one" (the latest) on its own, but after a meeting it is the one before
    tokens = set(parse.tokens) | set(written)
    if tokens & cues.next_words:
        return _neighbour(kb, key, +1, series)
    if tokens & cues.previous_words:
        return _neighbour(kb, key, -1, series)
    return None


def same_year(kb: KnowledgeBase, parse: Parse, topic: Topic, cues: Cues) -> str | None:
    """ "and the summit that year?", "an FMM in the same year?": the year of the meeting the
    topic was about, for a question that names a series and no year of its own."""
    if parse.of_type("year") or parse.of_type("meeting") or not parse.of_type("meeting_kind"):
        return None
    tokens = parse.tokens
    pairs = set(zip(tokens, tokens[1:], strict=False))
    if not pairs & cues.same_year:
        return None
    key = topic_meeting(topic)
    meeting = kb.meeting_by_key(key) if key else None
    return str(meeting.start.year) if meeting else None


def listed_item(parse: Parse, topic: Topic) -> tuple[str, str] | None:
    """ "the second one", "the 3rd": an item of the list the topic showed; after one meeting,
    the meeting of that number in its series ("the first finance ministers' meeting? and the
    3rd one?"); "the last one in that list"."""
    if parse.of_type("meeting"):
        return None
    for token in parse.tokens:
        if is_ordinal(token):
            n = int(token[1:])
        elif token.isdigit() and list(parse.words) == [token] and 0 < int(token) < 100:
            n = int(token)  # "and 4?" after ASEM3, "and 2?" after a list
        else:
            continue
        if topic.listed:
            return topic.listed[n - 1] if 1 <= n <= len(topic.listed) else None
        meetings = topic.values("meeting")
        if len(meetings) == 1:
            return ("meeting", f"{meetings[0].partition('_')[0]}_{n}")
    if topic.listed and "last" in parse.tokens and "list" in parse.tokens:
        return topic.listed[-1]
    return None


def substituted(parse: Parse, topic: Topic, accepts: frozenset[str]) -> Slots | None:
    """ "and Laos?", "same for FMMs", "what about ASEM7": the topic's question about the new
    thing named. Only for a short question that names things of kinds the intent takes."""
    named = [(e.type, v) for e in parse.entities for v in e.values[:1]]
    if not named or len(parse.words) > 2:
        return None
    kinds = {k for k, _ in named}
    if not kinds <= accepts:
        return None
    kept = tuple((k, v) for k, v in topic.slots if k not in kinds)
    return (*kept, *named)


def filled(
    parse: Parse,
    topics: Sequence[Topic],
    required: tuple[str, ...],
    bodies: frozenset[str] = frozenset(),
) -> Slots:
    """The things of the kinds an intent needs that the question does not name, from the
    latest topic that has them ("who hosted it?" after ASEM5: the meeting; "how is it funded"
    after ASEF). A body of members (``bodies``: the EU) does not count as the country named:
    "is it in the EU?" after Norway asks about Norway."""
    present = {
        e.type for e in parse.entities if not (e.type == "country" and set(e.values) <= bodies)
    }
    if any(kind in present for kind in required):
        return ()
    for topic in reversed(topics):
        for kind in required:
            values = topic.values(kind)
            if not values and kind == "meeting":
                one = topic_meeting(topic)
                values = [one] if one else []
            if values:
                return tuple((kind, v) for v in values)
    return ()


def about(action: Action, listed: Slots = ()) -> Topic:
    return Topic(action.intent, action.slots, listed)


__all__ = [
    "TOPIC_SECONDS",
    "TOPIC_TURNS",
    "Cues",
    "Slots",
    "Topic",
    "about",
    "filled",
    "listed_item",
    "refers_back",
    "relative_meeting",
    "same_year",
    "substituted",
    "topic_meeting",
]
