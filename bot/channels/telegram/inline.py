"""Inline mode: ``@bot <question>`` in any chat offers fact cards to share.

Up to :data:`MAX_RESULTS` cards from :meth:`bot.brain.Brain.cards` (featured facts for an empty
query), each an HTML message with an "Open in the bot" button that deep-links to its topic.
Result ids are a hash of the card's action, so the same card keeps the same id. A query the
brain cannot answer gets no results and a button that opens the bot. Inline queries are not
written to the question log: Telegram sends one per keystroke, so the log would fill with
half-typed words.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.ext import ContextTypes

from bot.actions import parse_action
from bot.channels.telegram.runtime import Services, ask_brain, language, services
from bot.declare import msg
from bot.domain.links import to_deep_link
from bot.reply import Reply

MAX_RESULTS = 10  # of Telegram's MAX_INLINE_RESULTS (50): enough to choose from
CACHE_SECONDS = 300
SNIPPET = 100  # characters of plain text under a result's title
NO_RESULTS_START = "inline"  # an unknown deep-link payload: /start shows the welcome

OPEN_IN_BOT = msg("button_open_in_bot")
NO_RESULTS = msg("tg_inline_no_results")


def result_id(reply: Reply) -> str:
    """A stable id of 32 hex characters for the card (Telegram allows 1-64 bytes)."""
    key = reply.action or reply.title or reply.text
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def open_in_bot_url(username: str, reply: Reply) -> str:
    """t.me/<bot>?start=<topic> for the card, or just t.me/<bot> when it has no deep link."""
    action = parse_action(reply.action) if reply.action else None
    payload = to_deep_link(action) if action else None
    base = f"https://t.me/{username}"
    return f"{base}?start={quote(payload)}" if payload else base


def snippet(reply: Reply) -> str:
    """The first words of the card as plain text, for the result list."""
    text = " ".join(reply.plain.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rstrip() + "…"


def article(reply: Reply, svc: Services, lang: str, username: str) -> InlineQueryResultArticle:
    button = InlineKeyboardButton(
        svc.message(OPEN_IN_BOT, lang), url=open_in_bot_url(username, reply)
    )
    return InlineQueryResultArticle(
        id=result_id(reply),
        title=reply.title or snippet(reply),
        description=snippet(reply),
        input_message_content=InputTextMessageContent(reply.text),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot <query>: up to ten fact cards, or a button to open the bot when there are none."""
    query = update.inline_query
    if query is None:
        return
    svc = services(context)
    text = query.query
    lang = language(update, svc, text=text)
    key = ("cards", *svc.brain.question_key(text, lang))
    cards = await ask_brain(context, None, key, lambda b: b.cards(text, lang, MAX_RESULTS))
    username = context.bot.username or ""
    results, seen = [], set()
    for reply in cards[:MAX_RESULTS]:
        result = article(reply, svc, lang, username)
        if result.id not in seen:
            seen.add(result.id)
            results.append(result)
    button = None
    if not results:
        text = svc.message(NO_RESULTS, lang)[:64]
        button = InlineQueryResultsButton(text=text, start_parameter=NO_RESULTS_START)
    await query.answer(results, cache_time=CACHE_SECONDS, button=button)
