"""Answer composers, one module per topic, each declaring the intents it answers.

A composer is declared with :func:`bot.answers.registry.composer`; importing this package
imports every topic module, so the registry is complete. An intent whose question in the
knowledge base carries its own ``answer`` (small talk, for instance) needs no composer:
:func:`prose` shows that answer. ``asem-bot validate`` checks both ways.
"""

from __future__ import annotations

from bot.answers import (  # noqa: F401  (importing them declares their composers)
    areas,
    asef,
    asem,
    cambodia,
    events,
    facts,
    meetings,
    partners,
    time,
)
from bot.answers.base import Answer, Context, Html
from bot.answers.registry import Composer, declared

_DECLARED = declared()
COMPOSERS: dict[str, Composer] = {name: d.compose for name, d in _DECLARED.items()}
FAMILIES: dict[str, str] = {name: d.family for name, d in _DECLARED.items()}


def family(intent: str) -> str:
    """The intents whose answers are interchangeable share a family (``meeting.one``)."""
    return FAMILIES.get(intent, intent)


def prose(ctx: Context, intent: str) -> Answer:
    """The answer written in the knowledge base itself (already HTML)."""
    question = ctx.kb.question(intent)
    assert question is not None and question.answer is not None
    return Answer(Html(question.answer.get(ctx.lang)))


__all__ = ["COMPOSERS", "FAMILIES", "Answer", "Composer", "Context", "facts", "family", "prose"]
