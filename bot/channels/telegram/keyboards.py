"""Inline keyboards for replies, and the callback data their buttons carry.

A button's callback data is ``a:<action>`` or ``a:<action>#<page>`` (see :mod:`bot.actions`),
followed by the trail of screens it was pressed on (``~group_asean~partners~menu``, see
:mod:`bot.navigation`), so that Back returns where the user came from; ``a:menu`` is Home.
The ``a:`` prefix versions the format, so a keyboard from an older release or a forged
payload is recognised as stale instead of being misread. Callback data is always at most 64
bytes: :func:`callback_data` raises for anything longer and the keyboard leaves such a button out
(and logs it) rather than have Telegram refuse the whole message.

Layout: "did you mean" suggestions one per row (they are whole questions), then the answer's
own buttons packed 1-3 a row by label length, then Prev/Next, then Back and Home.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import navigation
from bot.actions import MAX_ACTION_BYTES, parse_action
from bot.limits import MAX_BUTTONS, MAX_CALLBACK_DATA_BYTES
from bot.reply import Button, Reply

log = logging.getLogger(__name__)

PREFIX = "a:"
HOME = navigation.HOME
ADDRESS_BYTES = MAX_CALLBACK_DATA_BYTES - len(PREFIX)
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
    """What a button press asks for: an action (``menu`` for Home), a page, and the trail of
    the screen it was pressed on (``""``: none; for :meth:`bot.brain.Brain.run`)."""

    action: str
    page: int = 0
    came_from: str = ""


def callback_data(action: str, page: int = 0) -> str:
    """The callback data for ``action`` at ``page``; ValueError if over Telegram's 64 bytes."""
    data = PREFIX + action + (f"#{page}" if page else "")
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(
            f"callback data for {action!r} page {page} exceeds {MAX_CALLBACK_DATA_BYTES} bytes"
        )
    return data


def parse_callback(data: str | None) -> Press | None:
    """The press in ``data``, or None when it is stale, malformed or forged. A trail that does
    not read is dropped (the press still works; Back then leads to the default parent)."""
    if not data or not data.startswith(PREFIX) or len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        return None
    head, sep, trail = data[len(PREFIX) :].partition(navigation.SEP)
    action, marked, page_text = head.partition("#")
    page = 0
    if marked:
        if not (page_text.isascii() and page_text.isdigit()) or not 1 <= len(page_text) <= 3:
            return None
        page = int(page_text)
    if action == HOME:
        return Press(HOME, 0) if not (marked or sep) else None
    action = navigation.expand(action) or ""  # a place may be written short (summit_13)
    if len(action.encode()) > MAX_ACTION_BYTES or parse_action(action) is None:
        return None
    came_from = ""
    if trail:
        address = navigation.parse(f"{HOME}{navigation.SEP}{trail}")
        if address is not None and address.trail:
            came_from = (
                navigation.Address(address.trail[0], address.trail[1:]).encode(ADDRESS_BYTES) or ""
            )
    return Press(action, page, came_from)


def keyboard(reply: Reply, labels: Labels) -> InlineKeyboardMarkup | None:
    """The inline keyboard for ``reply`` (None when it has no buttons at all)."""
    rows: list[list[InlineKeyboardButton]] = []
    rows += [[button] for button in _buttons(reply.suggestions)]
    here = navigation.here(reply.action, reply.page, reply.parent)
    rows += _pack(_buttons(reply.buttons, here=here))
    if reply.action and reply.pages > 1:
        paging = []
        if reply.page > 0:
            paging += _paging(labels.prev, reply, reply.page - 1)
        if reply.page < reply.pages - 1:
            paging += _paging(labels.next, reply, reply.page + 1)
        rows.append(paging)
    navigation_row = []
    if reply.parent and reply.parent != HOME:  # Home is the way back to the menu
        navigation_row += _made(labels.back, reply.parent)
    if reply.action != HOME and (reply.action or reply.suggestions):
        navigation_row += _buttons([Button(labels.home, HOME)])
    rows.append(navigation_row)
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(_within_limit(rows)) if rows else None


def _buttons(
    buttons: Sequence[Button], page: int = 0, here: navigation.Address | None = None
) -> list[InlineKeyboardButton]:
    """Buttons that open their action from the screen at ``here`` (its trail rides along)."""
    made = []
    for button in buttons:
        try:
            data = callback_data(button.action, page)
        except ValueError:
            log.warning("left out a button whose action is too long: %r", button.action)
            continue
        if here is not None and button.action != HOME:
            data = PREFIX + (navigation.child(button.action, page, here, ADDRESS_BYTES) or "")
        made.append(InlineKeyboardButton(button.label, callback_data=data))
    return made


def _paging(label: str, reply: Reply, page: int) -> list[InlineKeyboardButton]:
    """Another page of the same screen, with the same way back."""
    assert reply.action is not None
    address = navigation.paging(reply.action, page, reply.parent, ADDRESS_BYTES)
    if address is None:
        log.warning("left out a page button whose action is too long: %r", reply.action)
        return []
    return [InlineKeyboardButton(label, callback_data=PREFIX + address)]


def _made(label: str, address: str) -> list[InlineKeyboardButton]:
    data = PREFIX + address
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES or parse_callback(data) is None:
        log.warning("left out a Back button that does not fit: %r", address)
        return []
    return [InlineKeyboardButton(label, callback_data=data)]


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
