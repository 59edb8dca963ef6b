"""The conversation state of the Telegram chats: topics that expire, bounded memories, and
the sent answers that reach storage (a real SQLite file) without any word of the user."""

from __future__ import annotations

from pathlib import Path

from bot.channels.telegram.conversation import (
    ADMIN_FOR,
    AdminCache,
    AnswerBook,
    ChatTopics,
    storable,
)
from bot.dialogue import TOPIC_SECONDS, TOPIC_TURNS, Topic
from bot.storage import Storage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def topic(n: int) -> Topic:
    return Topic("meeting.place", (("meeting", f"summit_{n}"),))


def test_topics_keep_the_last_turns_and_expire() -> None:
    clock = Clock()
    topics = ChatTopics(clock, size=2)
    for n in range(1, TOPIC_TURNS + 3):
        topics.add(1, topic(n))
        clock.now += 1
    assert topics.context(1) == [topic(n) for n in range(3, TOPIC_TURNS + 3)]
    topics.add(1, "not a topic")  # a reply without a topic changes nothing
    assert len(topics.context(1)) == TOPIC_TURNS
    clock.now += TOPIC_SECONDS
    assert topics.context(1) == []
    assert len(topics) == 0  # an expired conversation is forgotten


def test_a_topic_talked_of_again_is_kept_once() -> None:
    topics = ChatTopics(Clock())
    for n in (1, 2, 1):
        topics.add(7, topic(n))
    assert topics.context(7) == [topic(2), topic(1)]


def test_topics_are_bounded_over_conversations() -> None:
    topics = ChatTopics(Clock(), size=2)
    for key in (1, 2, 3):
        topics.add(key, topic(key))
    assert topics.context(1) == []  # the least recently used went first
    assert topics.context(3) == [topic(3)]
    assert len(topics) == 2


def test_admin_checks_are_trusted_for_a_while() -> None:
    clock = Clock()
    admins = AdminCache(clock)
    assert admins.get(-1, 7) is None
    admins.put(-1, 7, True)
    admins.put(-1, 8, False)
    assert admins.get(-1, 7) is True and admins.get(-1, 8) is False
    clock.now += ADMIN_FOR
    assert admins.get(-1, 7) is None


def test_storable_topics_keep_only_the_knowledge_bases_words() -> None:
    asked = Topic("asem.day", (), (), ("when", "celebrated", "zanzibar"))
    assert storable(asked, frozenset({"when", "celebrated"})).words == ("when", "celebrated")


async def test_the_answer_book_reads_what_it_wrote(tmp_path: Path) -> None:
    with Storage.open(tmp_path) as storage:
        book = AnswerBook(storage)
        book.note(-5, 20, 19, topic(5), frozenset())
        assert (await book.about(-5, 20)).topic == topic(5)  # from memory, before the write
        await book.flush()
        assert book.pending == []
        again = AnswerBook(storage)  # a restart: memory is empty
        found = await again.about(-5, 20)
        assert found is not None and found.topic == topic(5) and found.question_id == 19
        assert (await again.answer_to(-5, 19)).message_id == 20
        assert await again.about(-5, 21) is None
        # Edited to show another answer: the question it answers is kept.
        again.note(-5, 20, None, topic(6))
        await again.flush()
        assert storage.sent_answer(-5, 20).question_id == 19
        assert Topic.decode(storage.sent_answer(-5, 20).topic or "") == topic(6)
    # Storage closed: the write fails, is logged, and the answers wait for the next try.
    book.note(-5, 22, 21, topic(7))
    await book.flush()
    assert len(book.pending) == 1
