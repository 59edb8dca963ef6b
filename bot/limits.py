"""Telegram's limits, declared once for every layer that must keep them.

The brain's replies, the quiz, the keyboards and the Telegram layer all take their limits from
here. Telegram enforces them and python-telegram-bot does not, so a reply that breaks one is
refused as a whole. This module imports nothing, so ``asem-bot ask`` and ``asem-bot validate``
can use it without loading python-telegram-bot; ``tests/test_limits.py`` checks every value
against ``telegram.constants``.

Lengths of text are counted as Telegram counts them: in UTF-16 code units (a character outside
the Basic Multilingual Plane, such as most emoji, counts twice), after HTML entities are parsed:
see :func:`telegram_length`.
"""

from __future__ import annotations

import re

# -- messages and buttons -------------------------------------------------------------------------

MAX_TEXT = 4096
"""A message's text, after entities are parsed."""
MAX_CALLBACK_DATA_BYTES = 64
"""A button's callback data, in UTF-8 bytes."""
MAX_CALLBACK_ANSWER = 200
"""The text of answerCallbackQuery (the short pop-up after a button press)."""
MAX_BUTTONS = 100
"""Buttons in one inline keyboard."""
MAX_BUTTONS_PER_ROW = 8

# -- quiz polls (sendPoll) ------------------------------------------------------------------------

MAX_POLL_QUESTION = 300
MAX_POLL_OPTION = 100
MIN_POLL_OPTIONS = 2
MAX_POLL_OPTIONS = 10
"""Bot API 9.1 allows 12; 10 is what every Bot API server accepts (also older self-hosted
ones), and more than four options makes a poor quiz anyway."""
MAX_POLL_EXPLANATION = 200
MAX_POLL_EXPLANATION_LINE_FEEDS = 2

# -- inline mode, deep links, the bot's profile ---------------------------------------------------

MAX_INLINE_RESULTS = 50
MAX_INLINE_RESULT_ID_BYTES = 64
MAX_DEEP_LINK_PAYLOAD = 64
DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What ``t.me/<bot>?start=<payload>`` may carry."""
MAX_COMMAND_DESCRIPTION = 256
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120

# -- flood limits ---------------------------------------------------------------------------------

MESSAGES_PER_SECOND = 30
"""All chats together."""
MESSAGES_PER_SECOND_PER_CHAT = 1
"""One chat, short bursts tolerated."""
MESSAGES_PER_MINUTE_PER_GROUP = 20
"""One group, supergroup or channel."""


def telegram_length(text: str) -> int:
    """The length of ``text`` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
