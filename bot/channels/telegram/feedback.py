"""👍/👎 under answers in private chats, message reactions, and learning from them in /stats.

An answer to a question in a private chat carries a row of 👍/👎 buttons (``v:+``, ``v:-``);
a reaction with 👍 or 👎 on it counts the same (``message_reaction`` updates, which Telegram
sends only when ``allowed_updates`` asks for them: see :data:`ALLOWED_UPDATES`). What each
answer was about (the question, its language, intent and confidence) is remembered for the
last :data:`REMEMBERED` answers, in memory only; a vote is logged once per answer, with no user
or chat id, and the question's text only with a 👎 (:meth:`bot.storage.Storage.log_feedback`).

The admins' ``/stats`` then lists the questions most often declined or disliked, each with the
intent it came closest to, and a ✅ button per question (``learn:<key>``, checked again on the
press: only a bot admin may) that adds it to the knowledge files as an example of that intent
(:func:`bot.campaign.learning.accept`) and reloads the knowledge base as ``/reload`` does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReactionTypeEmoji,
    Update,
)
from telegram.ext import ContextTypes

from bot.campaign import learning
from bot.channels.screen import printable
from bot.channels.telegram.runtime import Memo, Services, deliver, services
from bot.declare import msg
from bot.limits import MAX_CALLBACK_ANSWER
from bot.reply import Reply, esc

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

VOTE = "v:"
LEARN = "learn:"
UP, DOWN = "👍", "👎"
REMEMBERED = 2048
ALLOWED_UPDATES = [
    "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "poll",
    "poll_answer", "my_chat_member", "chat_join_request", "message_reaction",
]  # fmt: skip
"""What the bot asks Telegram for: its default updates, and reactions (👍/👎 on answers)."""

BUTTON_UP = msg("button_vote_up")
BUTTON_DOWN = msg("button_vote_down")
THANKS = msg("tg_feedback_thanks")
LEARN_HEADER = msg("tg_learn_header")
LEARN_LINE = msg("tg_learn_line")
LEARN_BUTTON = msg("tg_learn_button")
LEARN_DONE = msg("tg_learn_done")
LEARN_REFUSED = msg("tg_learn_refused")
LEARN_GONE = msg("tg_learn_gone")
ONLY_ADMINS = msg("tg_bot_admins_only")


@dataclass
class Answered:
    """What one answer was about, for a vote on it."""

    question: str
    lang: str
    intent: str | None
    confidence: float
    voted: bool = False


def _memory(context: ContextTypes.DEFAULT_TYPE) -> Memo[tuple[int, int], Answered]:
    return cast(
        "Memo[tuple[int, int], Answered]",
        context.bot_data.setdefault("asem.feedback", Memo(REMEMBERED)),
    )


def with_votes(
    markup: InlineKeyboardMarkup | None, svc: Services, lang: str
) -> InlineKeyboardMarkup:
    """The answer's keyboard with a 👍/👎 row under it."""
    rows = list(markup.inline_keyboard) if markup is not None else []
    votes = [
        InlineKeyboardButton(svc.message(BUTTON_UP, lang), callback_data=VOTE + "+"),
        InlineKeyboardButton(svc.message(BUTTON_DOWN, lang), callback_data=VOTE + "-"),
    ]
    return InlineKeyboardMarkup([*rows, votes])


async def send_answer(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    reply: Reply,
    lang: str,
    question: str,
) -> Message | None:
    """Send an answer in a private chat with 👍/👎, and remember what it was about."""
    svc = services(context)
    markup = with_votes(svc.keyboard(reply, lang), svc, lang)
    sent = await deliver(lambda: message.reply_text(reply.text, reply_markup=markup))
    if isinstance(sent, Message):
        remembered = Answered(question, lang, reply.intent, reply.confidence)
        _memory(context).put((sent.chat.id, sent.message_id), remembered)
        return sent
    return None


async def _record(context: ContextTypes.DEFAULT_TYPE, key: tuple[int, int], vote: int) -> bool:
    """Log one vote on the answer ``key`` (once per answer); False if it was voted already."""
    answered = _memory(context).get(key)
    if answered is not None and answered.voted:
        return False
    storage = cast("Storage | None", services(context).storage)
    if storage is None:
        return True
    if answered is not None:
        answered.voted = True
    values = answered or Answered("", "unknown", None, 0.0)

    def write() -> None:
        storage.log_feedback(
            chat_type="private",
            lang=values.lang,
            vote=vote,
            intent=values.intent,
            confidence=values.confidence,
            question=values.question or None,
        )

    try:
        await asyncio.to_thread(write)
    except Exception:
        log.exception("could not log a vote")
    return True


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press of 👍 or 👎 under an answer."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    svc = services(context)
    lang = (query.from_user.language_code or "en") if query.from_user else "en"
    lang = lang if lang in svc.languages else "en"
    key = (query.message.chat.id, query.message.message_id)
    await _record(context, key, 1 if query.data == VOTE + "+" else -1)
    await query.answer(svc.message(THANKS, lang)[:MAX_CALLBACK_ANSWER])


async def reaction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A 👍 or 👎 reaction on one of the bot's answers in a private chat."""
    change = update.message_reaction
    if change is None or change.chat.type != "private":
        return
    key = (change.chat.id, change.message_id)
    if _memory(context).get(key) is None:
        return  # not an answer the bot remembers (or a reaction on the user's own message)
    emoji = {r.emoji for r in change.new_reaction if isinstance(r, ReactionTypeEmoji)}
    if DOWN in emoji:
        await _record(context, key, -1)
    elif UP in emoji:
        await _record(context, key, 1)


# -- learning, from /stats ---------------------------------------------------------------------


def to_learn(svc: Services, days: int | None) -> list[learning.Suggestion]:
    """The suggestions /stats shows (slow: a worker thread)."""
    storage = cast("Storage | None", svc.storage)
    if storage is None:
        return []
    return learning.suggestions(svc.brain, storage.to_learn(days=days))


def learn_message(
    svc: Services, found: list[learning.Suggestion], lang: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The "to learn" part of /stats: a line per question and a ✅ button each."""
    if not found:
        return None
    lines = [svc.message(LEARN_HEADER, lang)]
    buttons = []
    for number, item in enumerate(found, start=1):
        lines.append(
            svc.message(LEARN_LINE, lang).format(
                number=number,
                question=esc(printable(item.phrasing[:120])),
                count=item.count,
                intent=esc(item.intent),
                label=esc(item.label),
            )
        )
        label = svc.message(LEARN_BUTTON, lang).format(number=number)
        buttons.append(InlineKeyboardButton(label, callback_data=LEARN + item.key))
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def learn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A ✅ under /stats: add that question as an example of its intent, then reload."""
    from bot.channels.telegram.admin import swap_in  # the same reload as /reload
    from bot.knowledge import default_knowledge_dir

    query = update.callback_query
    if query is None or query.data is None:
        return
    svc = services(context)
    lang = "en"
    if query.from_user is None or not svc.is_admin_user(query.from_user.id):
        await query.answer(svc.message(ONLY_ADMINS, lang)[:MAX_CALLBACK_ANSWER])
        return
    wanted = query.data.removeprefix(LEARN)
    found = await asyncio.to_thread(to_learn, svc, None)
    item = next((s for s in found if s.key == wanted), None)
    if item is None:
        await query.answer(svc.message(LEARN_GONE, lang)[:MAX_CALLBACK_ANSWER])
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    try:
        await asyncio.to_thread(
            learning.accept, default_knowledge_dir(), item.intent, item.phrasing
        )
    except learning.NotAccepted as exc:
        await query.answer()
        text = svc.message(LEARN_REFUSED, lang).format(text=esc(str(exc))[:3000])
        await deliver(lambda: context.bot.send_message(chat_id, text))
        return
    summary = await swap_in(context)
    await query.answer()
    done = svc.message(LEARN_DONE, lang).format(
        question=esc(item.phrasing), label=esc(item.label), text=esc(summary)
    )
    log.info("added an example to %s and reloaded", item.intent)
    await deliver(lambda: context.bot.send_message(chat_id, done))
