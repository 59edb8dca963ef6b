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

    def values(self, kind: str) -> list[str]:
        return [v for k, v in self.slots if k == kind]

    def encode(self) -> str:
        """A compact text form (for storage): ``intent|k=v,k=v|k=v,...``."""
        slots = ",".join(f"{k}={v}" for k, v in self.slots)
        listed = ",".join(f"{k}={v}" for k, v in self.listed)
        return f"{self.intent}|{slots}|{listed}"

    @classmethod
    def decode(cls, text: str) -> Topic | None:
        try:
            intent, slots, listed = text.split("|")
            return cls(intent, _pairs(slots), _pairs(listed))
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


def refers_back(parse: Parse, cues: Cues) -> bool:
    """The question plainly leans on what came before: a pronoun, "the one after", "and X?"."""
    tokens = parse.tokens
    if any(t in cues.refers for t in tokens):
        return True
    return any(tuple(tokens[: len(s)]) == s for s in cues.substitutes if s)


def _neighbour(kb: KnowledgeBase, key: str, step: int) -> str | None:
    meeting = kb.meeting_by_key(key)
    if meeting is None:
        return None
    items = kb.meetings(meeting.kind)
    at = items.index(meeting) + step
    return items[at].key if 0 <= at < len(items) else None


def relative_meeting(kb: KnowledgeBase, parse: Parse, topic: Topic, cues: Cues) -> str | None:
    """ "and the one after that?", "the next one", "the previous summit": a neighbour of the
    meeting the topic was about."""
    if parse.of_type("meeting"):
        return None
    meetings = topic.values("meeting") or [v for k, v in topic.listed if k == "meeting"][-1:]
    if not meetings:
        return None
    tokens = set(parse.tokens)
    if tokens & cues.next_words:
        return _neighbour(kb, meetings[-1], +1)
    if tokens & cues.previous_words:
        return _neighbour(kb, meetings[0], -1)
    return None


def listed_item(parse: Parse, topic: Topic) -> tuple[str, str] | None:
    """ "the second one", "the 3rd": an item of the list the topic showed; after one meeting,
    the meeting of that number in its series ("the first finance ministers' meeting? and the
    3rd one?")."""
    if parse.of_type("meeting"):
        return None
    for token in parse.tokens:
        if not is_ordinal(token):
            continue
        n = int(token[1:])
        if topic.listed:
            return topic.listed[n - 1] if 1 <= n <= len(topic.listed) else None
        meetings = topic.values("meeting")
        if len(meetings) == 1:
            return ("meeting", f"{meetings[0].partition('_')[0]}_{n}")
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


def filled(parse: Parse, topic: Topic, required: tuple[str, ...]) -> Slots:
    """The topic's things of the kinds an intent needs and the question does not name
    ("who hosted it?" after ASEM5: the meeting)."""
    present = {e.type for e in parse.entities}
    if any(kind in present for kind in required):
        return ()
    for kind in required:
        values = topic.values(kind)
        if values:
            return tuple((kind, v) for v in values)
    return ()


def about(action: Action, listed: Slots = ()) -> Topic:
    return Topic(action.intent, action.slots, listed)


__all__ = [
    "TOPIC_SECONDS",
    "TOPIC_TURNS",
    "Cues",
    "Topic",
    "about",
    "filled",
    "listed_item",
    "refers_back",
    "relative_meeting",
    "substituted",
]
