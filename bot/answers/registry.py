"""Composers declare the intent they answer where they are written.

::

    @composer("meeting.place", family="meeting.one")
    def place(ctx: Context) -> Answer: ...

``family`` groups intents whose answers overlap so much that either is right for the other's
question ("where was ASEM5?" answered with the date-focused sentence still names the place):
the brain does not count them as rival readings. The message keys a composer uses are
declared beside it with :func:`bot.declare.msg`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.answers.base import Answer, Context

Composer = Callable[["Context"], "Answer"]


@dataclass(frozen=True)
class Declared:
    intent: str
    family: str
    compose: Composer


_declared: dict[str, Declared] = {}


def composer(intent: str, *, family: str | None = None) -> Callable[[Composer], Composer]:
    """Declare the decorated function as the composer of ``intent``."""

    def register(compose: Composer) -> Composer:
        known = _declared.get(intent)
        if known is not None and known.compose is not compose:
            raise ValueError(f"intent '{intent}' has two composers")
        _declared[intent] = Declared(intent, family or intent, compose)
        return compose

    return register


def declared() -> dict[str, Declared]:
    return dict(_declared)
