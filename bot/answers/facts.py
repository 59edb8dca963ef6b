"""Answers from facts.yaml: a fact's own answer, with what the sources do and do not confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.answers.base import Answer, Context, html, sentence
from bot.declare import msg

if TYPE_CHECKING:
    from bot.knowledge import models as m

UNVERIFIED = msg("fact_unverified")
AS_OF = msg("fact_as_of")


def answer(ctx: Context, fact: m.Fact) -> Answer:
    text = html(ctx.text(fact.answer))
    if fact.as_of is not None:
        text = sentence(text, ctx.t(AS_OF, date=ctx.date(fact.as_of)))
    if not fact.verified:
        text = sentence(text, ctx.t(UNVERIFIED))
    return Answer(text)
