"""Follow-ups read against what the conversation was about (bot.dialogue, Brain.answer with a
context): each test is a short conversation, asked as a chat would ask it."""

from __future__ import annotations

from bot.brain import default_brain
from bot.dialogue import TOPIC_TURNS, Topic
from bot.reply import Reply


def converse(*questions: str) -> list[Reply]:
    brain, topics, replies = default_brain(), [], []
    for question in questions:
        reply = brain.answer(question, "en", topics[-TOPIC_TURNS:])
        if isinstance(reply.topic, Topic):
            topics.append(reply.topic)
        replies.append(reply)
    return replies


def test_an_ordinal_counts_in_the_list_the_last_answer_was_picked_from() -> None:
    *_, third, fifth = converse(
        "list all the FMMs held in asia", "the third one?", "and the fifth?"
    )
    assert "FMM5" in third.plain  # the third FMM in Asia
    assert "FMM9" in fifth.plain and "Hanoi" in fifth.plain  # the fifth of that list, not FMM5


def test_a_bare_ordinal_asks_the_last_question_again() -> None:
    *_, fourth, sixth = converse(
        "which summits were in asia", "the fourth one, theme?", "and the sixth?"
    )
    assert "ASEM7" in fourth.plain and "Win-Win" in fourth.plain
    assert sixth.intent == "meeting.theme" and "ASEM11" in sixth.plain


def test_a_bare_number_after_a_meeting_is_that_number_in_its_series() -> None:
    _, four = converse("where was asem3", "and 4?")
    assert four.answered and "Copenhagen" in four.plain


def test_the_summit_after_a_city_is_the_one_after_the_summit_held_there() -> None:
    [alone] = converse("which summit came after the seoul summit")
    assert "ASEM4" in alone.plain and "Copenhagen" in alone.plain
    _, after = converse("where was asem3", "and the summit after seoul?")
    assert "Copenhagen" in after.plain
    assert not after.plain.startswith("Yes")  # a thing asked for, not a claim to check


def test_a_series_left_unresolved_beside_a_meeting_is_not_answered_with_the_meeting() -> None:
    [reply] = converse("myanmar hosted fmm13, did it ever host an asem summit too")
    # it asks about a summit; the card of FMM13 alone would be no answer to that
    assert not (reply.answered and reply.intent == "meeting.place")


def test_the_one_before_the_latest_steps_back_through_the_series() -> None:
    _, before, again = converse(
        "last fmm where and when", "the one before that?", "and before that one"
    )
    assert "FMM13" in before.plain and "FMM12" in again.plain


def test_the_previous_one_after_a_meeting_is_the_one_before_it_not_the_latest() -> None:
    *_, previous = converse("which summit was in 2004", "theme?", "and the previous one")
    assert "ASEM4" in previous.plain and "Copenhagen" in previous.plain
    [alone] = converse("when was the previous summit")  # on its own: the latest one
    assert "ASEM13" in alone.plain


def test_a_question_naming_nothing_takes_the_meeting_talked_of() -> None:
    _, members = converse("where was asem9", "which partners joined")
    assert all(name in members.plain for name in ("Bangladesh", "Norway", "Switzerland"))
