"""Commands for the bot's admins (ASEM_ADMIN_IDS): ``/stats`` and ``/reload``.

Both are declared with the "admins" scope: they are listed only in the admins' own command menu,
and the Telegram layer refuses them politely to anyone else before these handlers run (see
:func:`bot.channels.telegram.app.add_handlers`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.brain import Brain
from bot.campaign.quiz import QuizMaker
from bot.campaign.report import format_stats
from bot.channels.screen import printable
from bot.channels.telegram.quiz import QUIZ, quiz_state
from bot.channels.telegram.runtime import (
    CampaignOptions,
    deliver,
    is_group,
    say,
    say_lines,
    services,
)
from bot.declare import command, msg
from bot.knowledge import KnowledgeError
from bot.validation import checked_knowledge

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

ADMIN = "asem.admin"  # the key of AdminState in application.bot_data

STATS = msg("tg_stats")
STATS_IN_GROUP = msg("tg_stats_group")
STATS_USAGE = msg("tg_stats_usage")
STATS_UNAVAILABLE = msg("tg_stats_unavailable")
MAX_DAYS = 36_500  # as ASEM_LOG_RETENTION_DAYS: nothing older is kept
RELOADED = msg("tg_reload_ok")
RELOAD_REFUSED = msg("tg_reload_failed")


@dataclass
class AdminState:
    reloading: asyncio.Lock = field(default_factory=asyncio.Lock)


def setup(application: Application, options: CampaignOptions) -> None:
    application.bot_data[ADMIN] = AdminState()


@command("stats", description=msg("tg_cmd_stats"), scopes=("admins",))
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [days]: what people asked, as a table. In a group, without the questions'
    texts: people typed them elsewhere, most in private chats."""
    storage = cast("Storage | None", services(context).storage)
    argument = " ".join(context.args or ())
    days = None
    if argument:
        if not (argument.isascii() and argument.isdigit() and 1 <= int(argument) <= MAX_DAYS):
            await say(update, context, STATS_USAGE, count=MAX_DAYS)
            return
        days = int(argument)
    result = None
    if storage is not None:
        try:
            result = await asyncio.to_thread(storage.stats, days=days)
        except Exception:
            log.exception("could not read the question log for /stats")
    if result is None:
        await say(update, context, STATS_UNAVAILABLE)
        return
    if is_group(update.effective_chat):
        result = replace(result, top_unanswered=())
        await say_lines(update, context, STATS_IN_GROUP, format_stats(result).splitlines())
        return
    # Printable as well as escaped: no control or bidirectional character reorders the table.
    lines = [printable(line) for line in format_stats(result).splitlines()]
    await say_lines(update, context, STATS, lines)
    await _to_learn(update, context, days)


async def _to_learn(update: Update, context: ContextTypes.DEFAULT_TYPE, days: int | None) -> None:
    """The questions most declined or disliked, with a ✅ each (bot.channels.telegram.feedback)."""
    from bot.channels.telegram import feedback

    svc = services(context)
    try:
        found = await asyncio.to_thread(feedback.to_learn, svc, days)
    except Exception:
        log.exception("could not read the questions to learn for /stats")
        return
    shown = feedback.learn_message(svc, found, "en")
    message = update.effective_message
    if shown is not None and message is not None:
        text, markup = shown
        await deliver(lambda: message.reply_text(text, reply_markup=markup))


@dataclass(frozen=True)
class Reloaded:
    brain: Brain
    quiz: QuizMaker


def _reload(brain: Brain) -> Reloaded | list[str]:
    """The knowledge folder read and checked as ``asem-bot validate`` does, made into a brain
    and a quiz; or its problems as ``file:line: problem`` lines. Slow: a worker thread."""
    try:
        kb = checked_knowledge()
    except KnowledgeError as exc:
        return [str(problem) for problem in exc.problems]
    return Reloaded(Brain(kb, today=brain.today), QuizMaker(kb))


async def _swap(context: ContextTypes.DEFAULT_TYPE) -> Reloaded | list[str]:
    """Re-read the knowledge folder and swap it in only if it is valid."""
    svc = services(context)
    state = context.bot_data.setdefault(ADMIN, AdminState())
    async with state.reloading:
        loaded = await asyncio.to_thread(_reload, svc.brain)
        if isinstance(loaded, Reloaded):
            svc.brain = loaded.brain  # reply caches see the new brain and clear themselves
            if QUIZ in context.bot_data:
                quiz_state(context).use(loaded.brain, loaded.quiz)
    return loaded


async def swap_in(context: ContextTypes.DEFAULT_TYPE) -> str:
    """Reload as /reload does; the new base's summary, or its problems, one a line."""
    loaded = await _swap(context)
    if isinstance(loaded, Reloaded):
        return loaded.brain.kb.summary()
    return "\n".join(loaded)


@command("reload", description=msg("tg_cmd_reload"), scopes=("admins",))
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: re-read the knowledge folder and swap it in only if it is valid."""
    loaded = await _swap(context)
    if isinstance(loaded, Reloaded):
        log.info("knowledge base reloaded: %s", loaded.brain.kb.summary())
        await say(update, context, RELOADED, text=loaded.brain.kb.summary())
        return
    log.warning("/reload refused a knowledge base with %d problem(s)", len(loaded))
    lines = [printable(problem) for problem in loaded]  # a control character in a file: an escape
    await say_lines(update, context, RELOAD_REFUSED, lines, count=len(loaded))
