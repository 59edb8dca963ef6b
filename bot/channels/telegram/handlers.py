"""Telegram handlers: map updates to brain calls and replies; compose no text.

Private chats: /start (with a deep-link payload), the topic commands, /help, /ask and any text
go to the brain; buttons edit their message in place. Groups: the bot speaks only when spoken
to (a command, a mention, a reply to one of its messages) or, with /autoanswer on, when the
brain is sure of an answer; it never sends a decline to a message that was not addressed to it.
Registration and its order are in :mod:`bot.channels.telegram.app`.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import CallbackQuery, Chat, ChatMember, MaybeInaccessibleMessage, Message, Update
from telegram.constants import MessageEntityType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.brain import SMALLTALK, SURE_AT, Brain
from bot.channels.telegram.keyboards import HOME, parse_callback
from bot.channels.telegram.runtime import (
    Services,
    ask_brain,
    chat_language,
    deliver,
    is_group,
    language,
    say,
    send,
    send_text,
    services,
    think,
)
from bot.declare import command, msg
from bot.domain.topics import BY_NAME
from bot.domain.topics import topic as find_topic
from bot.limits import MAX_CALLBACK_ANSWER
from bot.reply import Reply

log = logging.getLogger(__name__)


HELP = msg("tg_help")
ASK_HINT = msg("tg_ask_hint")
UNKNOWN_COMMAND = msg("tg_unknown_command")
MEDIA_HINT = msg("tg_media_hint")
STALE_BUTTON = msg("tg_stale_button")
AUTOANSWER_PRIVATE = msg("tg_autoanswer_private")
AUTOANSWER_USAGE = {True: msg("tg_autoanswer_usage_on"), False: msg("tg_autoanswer_usage_off")}
AUTOANSWER_SET = {True: msg("tg_autoanswer_on"), False: msg("tg_autoanswer_off")}
ONLY_GROUP_ADMINS = msg("tg_only_admins")
SETTINGS_UNAVAILABLE = msg("tg_settings_unavailable")


def _command_name(message: Message) -> str:
    """``/Summits@asem_bot extra`` -> ``summits``."""
    first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    return first[1:].split("@", 1)[0].lower()


async def _reply_with(
    update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply, lang: str
) -> None:
    """Send ``reply`` to the update's message, quoting it in groups."""
    message = update.effective_message
    if message is not None:
        await send(message, services(context), reply, lang, quote=is_group(update.effective_chat))


# -- commands -------------------------------------------------------------------------------------


# The menu Telegram shows lists the commands in the order they are declared in this file.


@command("start", description=msg("tg_cmd_start"), scopes=("private",))
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: the welcome and menu, or the topic a deep link names (``/start summit_13``)."""
    lang = await chat_language(update, services(context))
    payload = context.args[0] if context.args else ""

    def work(brain: Brain) -> Reply:
        opened = brain.open_topic(payload, lang) if payload else None
        return opened or brain.menu(lang)

    reply = await ask_brain(context, None, ("start", payload, lang), work)
    await _reply_with(update, context, reply, lang)


@command("help", description=msg("tg_cmd_help"))
async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot can do, in private chats, groups and inline mode."""
    svc = services(context)
    lang = await chat_language(update, svc)
    text = svc.message(HELP, lang).format(name=context.bot.username or "")
    message = update.effective_message
    if message is not None:
        await send_text(message, text, quote=is_group(update.effective_chat))


@command("ask", description=msg("tg_cmd_ask"), scopes=("groups",))
async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question>: answer the question (a hint when there is none)."""
    question = " ".join(context.args or ())
    if question.strip():
        await _answer(update, context, question)
    else:
        await say(update, context, ASK_HINT)


@command("about", description=msg("tg_cmd_about"))
@command("summits", description=msg("tg_cmd_summits"))
@command("fmm", description=msg("tg_cmd_fmm"))
@command("partners", description=msg("tg_cmd_partners"))
@command("areas", description=msg("tg_cmd_areas"))
@command("asef", description=msg("tg_cmd_asef"))
@command("cambodia", description=msg("tg_cmd_cambodia"))
async def topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/about, /summits, /fmm...: the menu topic the command names (bot.domain.topics)."""
    message = update.effective_message
    await _open_topic(update, context, _command_name(message) if message else "")


@command("members", description=msg("tg_cmd_partners"), menu=False)
async def members(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/members: another word for /partners."""
    await _open_topic(update, context, "partners")


async def _open_topic(update: Update, context: ContextTypes.DEFAULT_TYPE, name: str) -> None:
    lang = await chat_language(update, services(context))
    action = (find_topic(name) or BY_NAME["about"]).action

    def work(brain: Brain) -> Reply:
        return brain.run(action.encode(), lang) or brain.menu(lang)

    reply = await ask_brain(context, None, ("run", action.encode(), lang, 0), work)
    await _reply_with(update, context, reply, lang)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not know, in a private chat: point to /help."""
    await say(update, context, UNKNOWN_COMMAND)


@command("autoanswer", description=msg("tg_cmd_autoanswer"), scopes=("groups",))
async def autoanswer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/autoanswer on|off: a group admin lets the bot answer clear questions unasked."""
    svc = services(context)
    chat = update.effective_chat
    if chat is None or update.effective_message is None:
        return
    if not is_group(chat):
        await say(update, context, AUTOANSWER_PRIVATE)
        return
    wanted = (context.args[0].lower() if context.args else "").strip()
    if wanted not in ("on", "off"):
        settings = await svc.chat_settings(chat)
        await say(update, context, AUTOANSWER_USAGE[bool(settings and settings.auto_answer)])
    elif not await is_chat_admin(update, context):
        await say(update, context, ONLY_GROUP_ADMINS)
    elif not await think(context, None, lambda: _store_auto_answer(svc, chat, wanted == "on")):
        await say(update, context, SETTINGS_UNAVAILABLE)
    else:
        await say(update, context, AUTOANSWER_SET[wanted == "on"])


def _store_auto_answer(svc: Services, chat: Chat, on: bool) -> bool:
    if svc.storage is None:
        return False
    try:
        svc.storage.set_auto_answer(chat.id, chat.type, on)
    except Exception:
        log.exception("could not store the auto-answer setting")
        return False
    finally:
        svc.forget_chat_settings(chat.id)
    return True


def forget_chat(svc: Services, chat_id: int) -> None:
    """Delete what storage keeps about a chat that blocked or removed the bot, or is gone."""
    if svc.storage is None:
        return
    try:
        svc.storage.forget_chat(chat_id)
    except Exception:
        log.exception("could not forget a chat that blocked or removed the bot")
    finally:
        svc.forget_chat_settings(chat_id)


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked, removed from or left a chat (a my_chat_member update): forget it."""
    change = update.my_chat_member
    if change is None or change.new_chat_member.status not in (ChatMember.BANNED, ChatMember.LEFT):
        return
    await asyncio.to_thread(forget_chat, services(context), change.chat.id)


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its settings, quiz and score move to the new chat id.
    Telegram says so twice, in the old group (migrate_to_chat_id) and in the new one
    (migrate_from_chat_id); moving is idempotent, so either will do."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    if message.migrate_to_chat_id:
        old_id, new_id = chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, chat.id
    else:
        return
    await asyncio.to_thread(move_chat, services(context), old_id, new_id)


def move_chat(svc: Services, old_id: int, new_id: int) -> None:
    """Move what storage keeps about a chat to its new id (see :func:`migrated`)."""
    if svc.storage is None:
        return
    try:
        svc.storage.migrate_chat(old_id, new_id)
    except Exception:
        log.exception("could not move a group's settings to its new supergroup id")
    finally:
        svc.forget_chat_settings(old_id)
        svc.forget_chat_settings(new_id)


async def is_chat_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The sender is the group's creator or an administrator (also when posting anonymously
    as the group)."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None or message is None:
        return False
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous admin posts as the group itself
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


# -- text -----------------------------------------------------------------------------------------


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question for the brain."""
    message = update.effective_message
    if message is not None and message.text:
        await _answer(update, context, message.text)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text in a group: answer a mention or a reply to the bot; else, with auto-answer on,
    answer only what the brain is sure of; otherwise stay silent."""
    message = update.effective_message
    if message is None or not message.text:
        return
    text, mentioned = _without_mention(message, context.bot.username)
    replied_to_bot = (
        message.reply_to_message is not None
        and message.reply_to_message.from_user is not None
        and message.reply_to_message.from_user.id == context.bot.id
    )
    await _answer(update, context, text, auto=not (mentioned or replied_to_bot))


def _without_mention(message: Message, username: str | None) -> tuple[str, bool]:
    """The text with ``@botname`` taken out, and whether it was there."""
    text = message.text or ""
    if not username:
        return text, False
    wanted = "@" + username.lower()
    mentions = message.parse_entities([MessageEntityType.MENTION])
    if not any(value.lower() == wanted for value in mentions.values()):
        return text, False
    stripped = re.sub(re.escape(wanted) + r"\b", " ", text, flags=re.IGNORECASE)
    return " ".join(stripped.split()), True


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, auto: bool = False
) -> None:
    """Ask the brain, log the question, and send the reply. ``auto``: an unaddressed group
    message, answered only in auto-answer mode and only when the brain is sure."""
    svc = services(context)
    chat = update.effective_chat
    settings = await svc.chat_settings(chat)
    if auto and not (settings and settings.auto_answer):
        return  # an ordinary group message: not for the bot
    lang = language(update, svc, settings.lang if settings else None)
    key = ("answer", *svc.brain.question_key(text, lang))  # "ASEM5?" and "asem 5" alike
    reply = await ask_brain(context, None if auto else chat, key, lambda b: b.answer(text, lang))
    if auto and not _sure_about_asem(reply):
        return  # unsure, small talk or not about ASEM: say nothing, log nothing
    svc.questions.add(chat.type if chat else Chat.PRIVATE, lang, reply, text)
    await _reply_with(update, context, reply, lang)


def _sure_about_asem(reply: Reply) -> bool:
    """Worth saying unasked in a group: a confident answer about ASEM, not small talk."""
    intent = reply.intent or ""
    return reply.answered and reply.confidence >= SURE_AT and not intent.startswith(SMALLTALK)


async def media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo, voice... in a private chat: a short hint that only text is read."""
    await say(update, context, MEDIA_HINT)


# -- buttons --------------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: show its reply in place; a stale or forged button gets the menu."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = await chat_language(update, svc)
    press = parse_callback(query.data)
    reply: Reply | None = None
    if press is not None and press.action == HOME:
        reply = await ask_brain(context, None, ("menu", lang), lambda b: b.menu(lang))
    elif press is not None:
        reply = await ask_brain(
            context,
            None,
            ("run", press.action, lang, press.page),
            lambda b: b.run(press.action, lang, press.page),
        )
    if reply is None:
        await _answer_press(query, svc.message(STALE_BUTTON, lang)[:MAX_CALLBACK_ANSWER])
        reply = await ask_brain(context, None, ("menu", lang), lambda b: b.menu(lang))
    else:
        await _answer_press(query)
    await _show_in_place(query.message, svc, reply, lang)


async def _answer_press(query: CallbackQuery, text: str | None = None) -> None:
    """answerCallbackQuery. Telegram takes it only for a while after the press (about 15
    s): a late one (the bot was busy or down) is refused with "query is too old", which is
    no error; the message is still updated."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        reason = exc.message.lower()
        if "query is too old" not in reason and "query id is invalid" not in reason:
            raise
        log.info("a button press was answered too late for Telegram to show the answer")


async def _show_in_place(
    message: MaybeInaccessibleMessage | None, svc: Services, reply: Reply, lang: str
) -> None:
    """Edit the pressed message to ``reply``; if it can no longer be edited, send a new one."""
    if message is None:
        return  # a button on an inline message: only the callback answer is possible
    markup = svc.keyboard(reply, lang)
    bot, chat_id = message.get_bot(), message.chat.id
    try:
        await deliver(
            lambda: bot.edit_message_text(
                reply.text, chat_id, message.message_id, reply_markup=markup
            )
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return  # the same page pressed twice: nothing to change
        if "can't be edited" not in exc.message.lower() and "not found" not in exc.message.lower():
            raise
        await deliver(lambda: bot.send_message(chat_id, reply.text, reply_markup=markup))
