"""Which language to reply in: the question's own script first, then the chat's stored
choice, then the user's Telegram language, then English.

Telegram-free, so the terminal chat, ``ask``, ``eval`` and the Telegram layer decide alike::

    lang = choose_language(brain, text, stored=settings.lang, telegram="km-KH")

A question in Khmer script, or Khmer typed in Latin letters ("asem jea avei"), gets a Khmer
reply; a question in English words gets an English one; a text that says nothing about its
language ("ASEM13", "/start", a button) falls back to the chat's choice, then to Telegram's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.nlu.khmer import KhmerReader, question_language

if TYPE_CHECKING:
    from bot.brain import Brain

DEFAULT = "en"


def languages(brain: Brain) -> tuple[str, ...]:
    """The languages the bot answers in, English first."""
    return tuple(sorted(brain.nlu, key=lambda lang: (lang != DEFAULT, lang)))


def _reader(brain: Brain) -> KhmerReader | None:
    understanding = brain.nlu.get(DEFAULT) or next(iter(brain.nlu.values()), None)
    return understanding.normalise.khmer if understanding is not None else None


def script_language(brain: Brain, text: str) -> str | None:
    """The language the question is written in ("km", "en"), or None if it does not tell."""
    if not isinstance(text, str):
        return None
    found = question_language(_reader(brain), text)
    return found if found in brain.nlu else None


def telegram_language(code: str | None, available: tuple[str, ...] | set[str]) -> str | None:
    """Telegram's ``language_code`` ("km", "km-KH", "en-GB") if the bot speaks it."""
    lang = (code or "").replace("_", "-").split("-")[0].casefold()
    return lang if lang in available else None


def choose_language(
    brain: Brain,
    text: str | None = None,
    *,
    stored: str | None = None,
    telegram: str | None = None,
) -> str:
    """The reply language: the question's script, the stored choice, Telegram's, English."""
    available = set(brain.nlu)
    by_script = script_language(brain, text) if text else None
    if by_script is not None:
        return by_script
    if stored in available:
        return stored
    return telegram_language(telegram, available) or DEFAULT
