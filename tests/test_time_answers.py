"""Questions about time: which came first, how long between two things, how long ago."""

from __future__ import annotations

from bot.brain import default_brain


def ask(question: str) -> str:
    reply = default_brain().answer(question)
    assert reply.answered, question
    return reply.plain


def test_which_came_first_is_told_of_the_thing_named_first() -> None:
    assert ask("was fmm1 before or after asem2").startswith(
        "FMM1 (15 February 1997) came before ASEM2"
    )
    assert ask("was asem5 before or after fmm6").startswith(
        "ASEM5 (8-9 October 2004) came after FMM6"
    )
    # "first" beside a numbered meeting is no ordinal of its own: ASEM2, not ASEM1
    assert "ASEM2" in ask("which came first: asem2 or fmm2")


def test_a_question_about_one_thing_is_not_read_as_between_two() -> None:
    reply = default_brain().answer("which summit came before asem5")
    assert reply.intent not in ("time.order", "time.between") and "ASEM4" in reply.plain


def test_how_long_a_partner_has_been_in_asem_is_counted_to_today() -> None:
    text = ask("how long has cambodia been in asem")
    assert "2004" in text and "years" in text
