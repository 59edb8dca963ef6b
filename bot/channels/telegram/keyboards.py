"""Inline keyboards for replies, and the callback data their buttons carry.

A button's callback data is ``a:<action>`` or ``a:<action>#<page>`` (see :mod:`bot.actions`);
``a:menu`` is Home. The ``a:`` prefix versions the format, so a keyboard from an older release
or a forged payload is recognised as stale instead of being misread. Callback data is always at
most 64 bytes: :func:`callback_data` raises for anything longer and the keyboard leaves such a
button out (and logs it) rather than have Telegram refuse the whole message.

Layout: "did you mean" suggestions one per row (they are whole questions), then the answer's
own buttons packed 1-3 a row by label length, then Prev/Next, then Back and Home.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions import MAX_ACTION_BYTES, parse_action
from bot.limits import MAX_BUTTONS, MAX_CALLBACK_DATA_BYTES
from bot.reply import Button, Reply

log = logging.getLogger(__name__)

PREFIX = "a:"
HOME = "menu"
MAX_PER_ROW = 3  # Telegram allows 8 (MAX_BUTTONS_PER_ROW); three stays readable on a phone
ROW_CHARACTERS = 30  # pack buttons into a row while their labels fit about this width


@dataclass(frozen=True)
class Labels:
    """The fixed button labels, from messages.yaml (``button_back`` and friends)."""

    back: str
    home: str
    prev: str
    next: str


@dataclass(frozen=True)
class Press:
    """What a button press asks for: an action (``menu`` for Home) and a page."""

    action: str
    page: int = 0


def callback_data(action: str, page: int = 0) -> str:
    """The callback data for ``action`` at ``page``; ValueError if over Telegram's 64 bytes."""
    data = PREFIX + action + (f"#{page}" if page else "")
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(
            f"callback data for {action!r} page {page} exceeds {MAX_CALLBACK_DATA_BYTES} bytes"
        )
    return data


def parse_callback(data: str | None) -> Press | None:
    """The press in ``data``, or None when it is stale, malformed or forged."""
    if not data or not data.startswith(PREFIX) or len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        return None
    action, marked, page_text = data[len(PREFIX) :].partition("#")
    page = 0
    if marked:
        if not (page_text.isascii() and page_text.isdigit()) or not 1 <= len(page_text) <= 3:
            return None
        page = int(page_text)
    if action == HOME:
        return Press(HOME, 0) if not marked else None
    if len(action.encode()) > MAX_ACTION_BYTES or parse_action(action) is None:
        return None
    return Press(action, page)


def keyboard(reply: Reply, labels: Labels) -> InlineKeyboardMarkup | None:
    """The inline keyboard for ``reply`` (None when it has no buttons at all)."""
    rows: list[list[InlineKeyboardButton]] = []
    rows += [[button] for button in _buttons(reply.suggestions)]
    rows += _pack(_buttons(reply.buttons))
    if reply.action and reply.pages > 1:
        paging = []
        if reply.page > 0:
            paging += _buttons([Button(labels.prev, reply.action)], reply.page - 1)
        if reply.page < reply.pages - 1:
            paging += _buttons([Button(labels.next, reply.action)], reply.page + 1)
        rows.append(paging)
    navigation = []
    if reply.parent:
        navigation += _buttons([Button(labels.back, reply.parent)])
    if reply.action != HOME and (reply.action or reply.suggestions):
        navigation += _buttons([Button(labels.home, HOME)])
    rows.append(navigation)
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(_within_limit(rows)) if rows else None


def _buttons(buttons: Sequence[Button], page: int = 0) -> list[InlineKeyboardButton]:
    made = []
    for button in buttons:
        try:
            data = callback_data(button.action, page)
        except ValueError:
            log.warning("left out a button whose action is too long: %r", button.action)
            continue
        made.append(InlineKeyboardButton(button.label, callback_data=data))
    return made


def _pack(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Rows of 1-3 buttons, in order, as many as fit about ROW_CHARACTERS of label."""
    rows: list[list[InlineKeyboardButton]] = []
    width = 0
    for button in buttons:
        size = len(button.text) + 4  # a button's padding is worth a few characters
        if rows and len(rows[-1]) < MAX_PER_ROW and width + size <= ROW_CHARACTERS:
            rows[-1].append(button)
            width += size
        else:
            rows.append([button])
            width = size
    return rows


def _within_limit(rows: list[list[InlineKeyboardButton]]) -> list[list[InlineKeyboardButton]]:
    """Drop answer buttons from the middle, never the navigation, to stay within 100."""
    total = sum(len(row) for row in rows)
    if total <= MAX_BUTTONS:
        return rows
    log.warning("a keyboard of %d buttons was cut to %d", total, MAX_BUTTONS)
    last = rows[-1]
    kept: list[list[InlineKeyboardButton]] = []
    budget = MAX_BUTTONS - len(last)
    for row in rows[:-1]:
        if budget <= 0:
            break
        kept.append(row[:budget])
        budget -= len(kept[-1])
    return [*kept, last]
