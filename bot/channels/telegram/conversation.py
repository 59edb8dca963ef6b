"""What the Telegram chats talked about: the context of follow-ups, replies and edits.

- :class:`ChatTopics`: each conversation's last few topics (``TOPIC_TURNS``, for
  ``TOPIC_SECONDS``), in memory, for the chats used most recently (an LRU over chats). A
  private chat is one conversation; in a group each member has their own, so two members'
  questions do not bend each other's follow-ups (a reply to an answer joins that answer's).
- :class:`AnswerBook`: each answer the bot sent, the question message it answered and the
  topic it was about, so that a reply to it, by anyone, is read in its context and an edited
  question edits it. Recent ones are kept in memory; all are written to storage in batches
  (``sent_answers``, bounded per chat and by age), so a reply still works after a restart.
- :class:`Askers`: who asked each recent answer in a group, so its buttons edit it only for
  that person. Memory only (storage keeps no user id); the quoted question says it too.
- :class:`AdminCache`: whether a member is a group's admin, for a few minutes, so that the
  checks (``getChatMember``) do not cost a request each time.

Nothing here stores a user's words: a topic holds an intent, record ids and the words of the
question that the knowledge base itself uses (see :func:`storable`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from bot.channels.telegram.runtime import Memo
from bot.dialogue import TOPIC_SECONDS, TOPIC_TURNS, Topic

log = logging.getLogger(__name__)

CONVERSATIONS_REMEMBERED = 20_000  # conversations whose topics are kept (a few hundred bytes each)
ANSWERS_REMEMBERED = 20_000  # sent answers kept in memory (storage keeps more)
ASKERS_REMEMBERED = 20_000
ADMINS_REMEMBERED = 4_096
ADMIN_FOR = 300.0  # seconds a group-admin check is trusted
EDITS_FOR = dt.timedelta(days=1)  # an edited question edits its answer within a day
WRITE_BACKLOG = 10_000  # answers kept while storage fails; older ones are dropped

Clock = Callable[[], float]


class ChatTopics:
    """The last TOPIC_TURNS topics of each conversation, each for TOPIC_SECONDS."""

    def __init__(
        self, clock: Clock = time.monotonic, size: int = CONVERSATIONS_REMEMBERED
    ) -> None:
        self.clock = clock
        self._talks: Memo[Hashable, tuple[tuple[float, Topic], ...]] = Memo(size)

    def context(self, key: Hashable) -> list[Topic]:
        """The conversation's recent topics, the latest last."""
        kept = self._talks.get(key)
        if not kept:
            return []
        now = self.clock()
        fresh = tuple((at, topic) for at, topic in kept if now - at < TOPIC_SECONDS)
        if len(fresh) != len(kept):
            if fresh:
                self._talks.put(key, fresh)
            else:
                self._talks.pop(key)
        return [topic for _, topic in fresh]

    def add(self, key: Hashable, topic: object) -> None:
        if not isinstance(topic, Topic):
            return
        # a topic talked of again moves to the end: the context holds distinct topics (and a
        # question asked twice meets the same context, so its reply is remembered)
        kept = tuple(entry for entry in self._talks.get(key) or () if entry[1] != topic)
        self._talks.put(key, (*kept, (self.clock(), topic))[-TOPIC_TURNS:])

    def __len__(self) -> int:
        return len(self._talks)


def storable(topic: Topic, vocabulary: frozenset[str]) -> Topic:
    """The topic without any word the knowledge base does not use itself: what is written to
    storage holds no word of a user's own (a name, a number typed in a question)."""
    return dataclasses.replace(topic, words=tuple(w for w in topic.words if w in vocabulary))


@dataclass(frozen=True)
class Sent:
    """One answer message: the question it answered and the topic it was about."""

    chat_id: int
    message_id: int
    question_id: int | None
    topic: Topic | None
    sent_at: dt.datetime


class AnswerBook:
    """Which answer messages the bot sent, about what, in answer to which question."""

    def __init__(self, storage: Any = None, size: int = ANSWERS_REMEMBERED) -> None:
        self.storage = storage
        self._by_message: Memo[tuple[int, int], Sent] = Memo(size)  # by the answer's message
        self._by_question: Memo[tuple[int, int], Sent] = Memo(size)  # by the question's
        self.pending: list[Sent] = []

    def note(
        self,
        chat_id: int,
        message_id: int,
        question_id: int | None,
        topic: object,
        vocabulary: frozenset[str] = frozenset(),
    ) -> None:
        """Remember an answer just sent (or edited to show another reply)."""
        about = storable(topic, vocabulary) if isinstance(topic, Topic) else None
        known = self._by_message.get((chat_id, message_id))
        if question_id is None and known is not None:
            question_id = known.question_id
        sent = Sent(chat_id, message_id, question_id, about, dt.datetime.now(dt.UTC))
        self._by_message.put((chat_id, message_id), sent)
        if question_id is not None:
            self._by_question.put((chat_id, question_id), sent)
        if self.storage is not None:
            self.pending.append(sent)
            if len(self.pending) > WRITE_BACKLOG:
                del self.pending[: len(self.pending) - WRITE_BACKLOG]
                log.warning("the sent answers are behind; dropped the oldest")

    async def about(self, chat_id: int, message_id: int) -> Sent | None:
        """The answer message ``message_id``, if the bot sent it and remembers it."""
        sent = self._by_message.get((chat_id, message_id))
        if sent is None and self.storage is not None:
            sent = await asyncio.to_thread(self._read, "sent_answer", chat_id, message_id)
            if sent is not None:
                self._by_message.put((chat_id, message_id), sent)
        return sent

    async def answer_to(self, chat_id: int, question_id: int) -> Sent | None:
        """The bot's answer to the question message ``question_id``, if it remembers one."""
        sent = self._by_question.get((chat_id, question_id))
        if sent is None and self.storage is not None:
            sent = await asyncio.to_thread(self._read, "answer_to_question", chat_id, question_id)
            if sent is not None:
                self._by_question.put((chat_id, question_id), sent)
        return sent

    def _read(self, method: str, chat_id: int, number: int) -> Sent | None:
        try:
            row = getattr(self.storage, method)(chat_id, number)
        except Exception:
            log.exception("could not read a sent answer")
            return None
        if row is None:
            return None
        topic = Topic.decode(row.topic) if row.topic else None
        return Sent(row.chat_id, row.message_id, row.question_id, topic, row.sent_at)

    async def flush(self) -> None:
        """Write what is pending, in a worker thread; a failure is logged and kept for the
        next try."""
        if not self.pending or self.storage is None:
            return
        batch, self.pending = self.pending, []
        if not await asyncio.to_thread(self._write, batch):
            self.pending[:0] = batch

    def _write(self, batch: list[Sent]) -> bool:
        rows = [
            (
                s.chat_id,
                s.message_id,
                s.question_id,
                s.topic.encode() if s.topic else None,
                s.sent_at,
            )
            for s in batch
        ]
        try:
            self.storage.remember_answers(rows)
        except Exception:
            log.exception("could not write the sent answers; will try again")
            return False
        return True

    def forget_chat(self, chat_id: int) -> None:
        """Drop a forgotten chat's pending answers (storage deletes the rest)."""
        self.pending = [s for s in self.pending if s.chat_id != chat_id]


class Askers:
    """Who asked each recent answer in a group (memory only)."""

    def __init__(self, size: int = ASKERS_REMEMBERED) -> None:
        self._asked: Memo[tuple[int, int], int] = Memo(size)

    def note(self, chat_id: int, message_id: int, user_id: int | None) -> None:
        if user_id is not None:
            self._asked.put((chat_id, message_id), user_id)

    def of(self, chat_id: int, message_id: int) -> int | None:
        return self._asked.get((chat_id, message_id))


class AdminCache:
    """Whether a user is an admin of a group, trusted for ADMIN_FOR seconds."""

    def __init__(self, clock: Clock = time.monotonic, size: int = ADMINS_REMEMBERED) -> None:
        self.clock = clock
        self._known: Memo[tuple[int, int], tuple[float, bool]] = Memo(size)

    def get(self, chat_id: int, user_id: int) -> bool | None:
        found: tuple[float, bool] | None = self._known.get((chat_id, user_id))
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        self._known.put((chat_id, user_id), (self.clock() + ADMIN_FOR, is_admin))


TALK = "asem.talk"  # the key of Conversations in application.bot_data


@dataclass
class Conversations:
    """The conversation state of every chat, in ``application.bot_data[TALK]``."""

    storage: Any = None
    topics: ChatTopics = field(default_factory=ChatTopics)
    answers: AnswerBook = field(init=False)
    askers: Askers = field(default_factory=Askers)
    admins: AdminCache = field(default_factory=AdminCache)

    def __post_init__(self) -> None:
        self.answers = AnswerBook(self.storage)


def talk(context: Any) -> Conversations:
    """The conversation state (``context`` is a handler's context or the Application)."""
    return context.bot_data[TALK]
