"""Telegram handlers: map updates to brain calls and replies; compose no text.

Private chats: /start (with a deep-link payload), the topic commands, /help, /ask and any text
go to the brain; buttons edit their message in place. Groups: the bot speaks only when spoken
to (a command, a mention, a reply to one of its messages) or, with /autoanswer on, when the
brain is sure of an answer; it never sends a decline to a message that was not addressed to it,
and to one that was, only a one-line decline, and none for "lol" or "👍". A button under an
answer in a group edits it only for the member who asked; anyone else gets the reply as a new
message. Registration and its order are in :mod:`bot.channels.telegram.app`.

Every question is read in its context (:mod:`~bot.channels.telegram.conversation`): a reply
to one of the bot's answers in the context of that answer, anything else in the context of
the conversation's last topics. An edited question edits its answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Hashable, Sequence

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import MessageEntityType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.brain import SMALLTALK, SURE_AT, Brain
from bot.channels.telegram import feedback
from bot.channels.telegram.conversation import EDITS_FOR, talk
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
from bot.dialogue import Topic
from bot.domain.topics import BY_NAME
from bot.domain.topics import topic as find_topic
from bot.language import languages, script_language
from bot.limits import MAX_CALLBACK_ANSWER
from bot.reply import Button, Reply

log = logging.getLogger(__name__)


HELP = msg("tg_help")
ASK_HINT = msg("tg_ask_hint")
UNKNOWN_COMMAND = msg("tg_unknown_command")
MEDIA_HINT = msg("tg_media_hint")
STALE_BUTTON = msg("tg_stale_button")
AUTOANSWER_PRIVATE = msg("tg_autoanswer_private")
AUTOANSWER_USAGE = {True: msg("tg_autoanswer_usage_on"), False: msg("tg_autoanswer_usage_off")}
AUTOANSWER_SET = {True: msg("tg_autoanswer_on"), False: msg("tg_autoanswer_off")}
AUTOANSWER_UNSEEN = msg("tg_autoanswer_privacy")
ONLY_GROUP_ADMINS = msg("tg_only_admins")
SETTINGS_UNAVAILABLE = msg("tg_settings_unavailable")
GROUP_DECLINE = msg("tg_group_decline")
HOME_BUTTON = msg("button_home")
NOT_YOUR_ANSWER = msg("tg_button_not_yours")
LANGUAGE_CHOOSE = msg("tg_language_choose")
LANGUAGE_SET = msg("tg_language_set")
LANGUAGE_NAME = msg("tg_language_name")
LANGUAGE_BUTTON = "l:"
"""The callback data of /language's buttons: ``l:<language>`` (apart from ``a:`` actions)."""


def _command_name(message: Message) -> str:
    """``/Summits@asem_bot extra`` -> ``summits``."""
    first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    return first[1:].split("@", 1)[0].lower()


def talk_key(chat: Chat | None, user: User | None) -> Hashable:
    """Whose conversation a message belongs to: the private chat, or the member in a group."""
    if chat is None:
        return None
    return (chat.id, user.id if user else 0) if is_group(chat) else chat.id


async def _reply_with(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    reply: Reply,
    lang: str,
    *,
    votes_for: str | None = None,
) -> Message | None:
    """Send ``reply`` to the update's message, quoting it in groups, and remember what it was
    about and who asked. ``votes_for``: the question, when the answer carries 👍/👎."""
    message = update.effective_message
    if message is None:
        return None
    svc = services(context)
    if votes_for is not None:
        sent = await feedback.send_answer(message, context, reply, lang, votes_for)
    else:
        sent = await send(message, svc, reply, lang, quote=is_group(update.effective_chat))
    if sent is not None:
        _note(update, context, sent.message_id, reply, lang, question_id=message.message_id)
    return sent


def _note(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    message_id: int,
    reply: Reply,
    lang: str,
    *,
    question_id: int | None = None,
    asker: User | None = None,
) -> None:
    """Remember the answer ``message_id`` shows: its topic (for replies to it and for the
    conversation's follow-ups), the question it answers, and in groups who asked."""
    chat = update.effective_chat
    if chat is None:
        return
    state = talk(context)
    asker = asker or update.effective_user
    nlu = services(context).brain.nlu.get(lang)
    vocabulary: frozenset[str] = nlu.normalise.vocabulary if nlu else frozenset()
    state.answers.note(chat.id, message_id, question_id, reply.topic, vocabulary)
    state.topics.add(talk_key(chat, asker), reply.topic)
    if is_group(chat) and asker is not None:
        state.askers.note(chat.id, message_id, asker.id)


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
        on = bool(settings and settings.auto_answer)
        if on and not await sees_group_messages(context.bot, chat.id):
            await say(update, context, AUTOANSWER_UNSEEN, name=context.bot.username or "")
        else:
            await say(update, context, AUTOANSWER_USAGE[on])
    elif not await is_chat_admin(update, context):
        await say(update, context, ONLY_GROUP_ADMINS)
    elif not await think(context, None, lambda: _store_auto_answer(svc, chat, wanted == "on")):
        await say(update, context, SETTINGS_UNAVAILABLE)
    elif wanted == "on" and not await sees_group_messages(context.bot, chat.id):
        # on, but Telegram's privacy mode keeps the group's messages from the bot: say so
        await say(update, context, AUTOANSWER_UNSEEN, name=context.bot.username or "")
    else:
        await say(update, context, AUTOANSWER_SET[wanted == "on"])


async def sees_group_messages(bot: Bot, chat_id: int) -> bool:
    """Whether Telegram shows the bot every message of the group: privacy mode is off
    (BotFather, /setprivacy), or the bot is one of the group's admins."""
    if bot.can_read_all_group_messages:
        return True
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as exc:
        log.info("could not check the bot's own membership of a group: %s", exc.message)
        return False
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


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
        svc.storage.forget_chat(chat_id)  # its settings, scores and sent answers
    except Exception:
        log.exception("could not forget a chat that blocked or removed the bot")
    finally:
        svc.forget_chat_settings(chat_id)


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked, removed from or left a chat (a my_chat_member update): forget it."""
    change = update.my_chat_member
    if change is None or change.new_chat_member.status not in (ChatMember.BANNED, ChatMember.LEFT):
        return
    talk(context).answers.forget_chat(change.chat.id)
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
    as the group). Telegram's answer is trusted for a few minutes (ADMIN_FOR): a burst of
    admin commands costs one request, and no request waits behind the group's messages."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None or message is None:
        return False
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous admin posts as the group itself
    if user is None:
        return False
    admins = talk(context).admins
    known = admins.get(chat.id, user.id)
    if known is None:
        member = await context.bot.get_chat_member(chat.id, user.id)
        known = member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
        admins.put(chat.id, user.id, known)
    return known


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
    thought = await _think_about(update, context, text, auto=auto)
    if thought is not None:
        reply, lang = thought
        chat = update.effective_chat
        private = chat is not None and chat.type == Chat.PRIVATE
        votes_for = text if private and reply.answered else None  # 👍/👎 under answers
        await _reply_with(update, context, reply, lang, votes_for=votes_for)


async def _think_about(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    *,
    auto: bool = False,
    leave_out: Topic | None = None,
) -> tuple[Reply, str] | None:
    """The reply to ``text`` in its context and its language, logged; None when the bot
    should say nothing (see :func:`_answer`). ``leave_out``: a topic not to read it with (an
    edited question's earlier answer)."""
    svc = services(context)
    chat = update.effective_chat
    settings = await svc.chat_settings(chat)
    if auto and not (settings and settings.auto_answer):
        return None  # an ordinary group message: not for the bot
    lang = language(update, svc, settings, text)
    # Unasked (auto-answer), a message is read alone: "who hosted it?" between members is
    # not the bot's to bend towards what someone asked it before.
    found = () if auto else await _context_of(update, context)
    topics = tuple(t for t in found if t != leave_out)
    # "ASEM5?" and "asem 5" alike; a reply read in a context is remembered under that context
    key = ("answer", *svc.brain.question_key(text, lang), *topics)
    reply = await ask_brain(
        context, None if auto else chat, key, lambda b: b.answer(text, lang, topics)
    )
    if auto and not _sure_about_asem(reply):
        return None  # unsure, small talk or not about ASEM: say nothing, log nothing
    chatter = _declined(reply) or (reply.intent or "").startswith(SMALLTALK)
    if is_group(chat) and chatter and not _asks(svc.brain, text, lang):
        return None  # "lol", "👍", "thanks": nothing to answer in a group, nothing to log
    if is_group(chat) and _declined(reply):
        svc.questions.add(chat.type if chat else Chat.GROUP, lang, reply, text)
        return _short_decline(svc, lang), lang
    svc.questions.add(chat.type if chat else Chat.PRIVATE, lang, reply, text)
    return reply, lang


async def _context_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Sequence[Topic]:
    """What a question is read with: the answer it replies to, if the bot remembers what that
    was about; else the last topics of the asker's conversation."""
    message, chat = update.effective_message, update.effective_chat
    state = talk(context)
    replied = message.reply_to_message if message is not None else None
    sender = replied.from_user if replied is not None else None
    if replied is not None and sender is not None and sender.id == context.bot.id:
        sent = await state.answers.about(replied.chat.id, replied.message_id)
        if sent is not None and sent.topic is not None:
            return (sent.topic,)
    return state.topics.context(talk_key(chat, update.effective_user))


def _declined(reply: Reply) -> bool:
    """A decline: not answered, and no "did you mean" to offer either."""
    return not reply.answered and not reply.suggestions


def _asks(brain: Brain, text: str, lang: str) -> bool:
    """The text asks something ("who won the world cup?", "tell me a joke"), as "lol", "👍"
    or "nice one" do not. Khmer script counts as asking: its question words come after."""
    if not any(ch.isalnum() for ch in text):
        return False
    return brain.segment[lang].asks(text) or script_language(brain, text) == "km"


def _short_decline(svc: Services, lang: str) -> Reply:
    """The decline for groups: one line, and one button (the menu)."""
    return Reply(
        svc.message(GROUP_DECLINE, lang),
        buttons=(Button(svc.message(HOME_BUTTON, lang), HOME),),
    )


def _sure_about_asem(reply: Reply) -> bool:
    """Worth saying unasked in a group: a confident answer about ASEM, not small talk."""
    intent = reply.intent or ""
    return reply.answered and reply.confidence >= SURE_AT and not intent.startswith(SMALLTALK)


async def media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo, voice... in a private chat: a short hint that only text is read."""
    await say(update, context, MEDIA_HINT)


# -- buttons --------------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: show its reply in place; a stale or forged button gets the menu. In a
    group, only the member who asked changes the answer; anyone else gets a new message."""
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
            ("run", press.action, lang, press.page, press.came_from),
            lambda b: b.run(press.action, lang, press.page, press.came_from or None),
        )
    notice = None
    if reply is None:
        notice = svc.message(STALE_BUTTON, lang)
        reply = await ask_brain(context, None, ("menu", lang), lambda b: b.menu(lang))
    message = query.message
    others = (
        is_group(update.effective_chat)
        and isinstance(message, Message)
        and not _asked_by(context, message, query.from_user)
    )
    if others:
        notice = notice or svc.message(NOT_YOUR_ANSWER, lang)
    await _answer_press(query, notice[:MAX_CALLBACK_ANSWER] if notice else None)
    if others:
        assert isinstance(message, Message)
        markup = svc.keyboard(reply, lang)
        sent = await deliver(
            lambda: message.reply_text(reply.text, reply_markup=markup, do_quote=True)
        )
        if sent is not None:
            _note(update, context, sent.message_id, reply, lang, asker=query.from_user)
        return
    shown = await _show_in_place(message, svc, reply, lang)
    if shown is not None:
        _note(update, context, shown, reply, lang, asker=query.from_user)


def _asked_by(context: ContextTypes.DEFAULT_TYPE, answer: Message, user: User | None) -> bool:
    """Whether ``user`` asked for the group answer ``answer``: as the bot remembers, else as
    the question it quotes says (an anonymous admin's question belongs to no one)."""
    if user is None:
        return False
    asker = talk(context).askers.of(answer.chat.id, answer.message_id)
    question = answer.reply_to_message
    if asker is None and question is not None and question.sender_chat is None:
        sender = question.from_user
        asker = sender.id if sender is not None and not sender.is_bot else None
    return asker == user.id


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
) -> int | None:
    """Edit the pressed message to ``reply``; if it can no longer be edited, send a new one.
    The id of the message that shows it (None: a button on an inline message)."""
    if message is None:
        return None  # a button on an inline message: only the callback answer is possible
    return await show(message.get_bot(), message.chat.id, message.message_id, reply, svc, lang)


async def show(
    bot: Bot,
    chat_id: int,
    message_id: int,
    reply: Reply,
    svc: Services,
    lang: str,
    *,
    reply_to: int | None = None,
) -> int | None:
    """Edit message ``message_id`` to show ``reply``; when it cannot be edited (too old,
    deleted), send ``reply`` as a new message (in reply to ``reply_to``). The id of the message
    that shows it, None if nothing could be sent."""
    markup = svc.keyboard(reply, lang)
    try:
        await deliver(
            lambda: bot.edit_message_text(reply.text, chat_id, message_id, reply_markup=markup)
        )
        return message_id
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return message_id  # the same page pressed twice: nothing to change
        if "can't be edited" not in exc.message.lower() and "not found" not in exc.message.lower():
            raise
    where = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    sent = await deliver(
        lambda: bot.send_message(chat_id, reply.text, reply_markup=markup, reply_parameters=where)
    )
    return sent.message_id if sent is not None else None


# -- edited questions -----------------------------------------------------------------------------


async def edited_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question, within a day: its answer is edited to answer the new text (or,
    if it can no longer be edited, a new one is sent). In a group, only a question the bot
    answered; in a private chat, any."""
    message, chat = update.edited_message, update.effective_chat
    if message is None or chat is None or not message.text:
        return
    now = dt.datetime.now(dt.UTC)
    if now - message.date > EDITS_FOR:
        return
    text, addressed = _edited_text(message, context.bot)
    if text is None:
        return  # a command other than /ask: edits of commands are not read
    earlier = await talk(context).answers.answer_to(chat.id, message.message_id)
    if earlier is not None and now - earlier.sent_at > EDITS_FOR:
        earlier = None
    group = is_group(chat)
    if group and earlier is None:
        return  # the bot did not answer it: still not for the bot
    thought = await _think_about(
        update,
        context,
        text,
        auto=group and not addressed,
        leave_out=earlier.topic if earlier else None,
    )
    if thought is None:
        return  # the new text asks nothing the bot would answer: the old answer stays
    reply, lang = thought
    if earlier is None:
        await _reply_with(update, context, reply, lang)
        return
    svc = services(context)
    shown = await show(
        context.bot, chat.id, earlier.message_id, reply, svc, lang, reply_to=message.message_id
    )
    if shown is not None:
        _note(update, context, shown, reply, lang, question_id=message.message_id)


def _edited_text(message: Message, bot: Bot) -> tuple[str | None, bool]:
    """The question in an edited message, and whether it is addressed to the bot (a mention,
    a reply to it, /ask). None for any other command."""
    text, mentioned = _without_mention(message, bot.username)
    replied = message.reply_to_message
    addressed = mentioned or (
        replied is not None and replied.from_user is not None and replied.from_user.id == bot.id
    )
    if text.startswith("/"):
        name, _, rest = text.partition(" ")
        if name[1:].split("@", 1)[0].lower() != "ask":
            return None, addressed
        return rest.strip(), True
    return text, addressed


# -- language -------------------------------------------------------------------------------------


@command("language", description=msg("tg_cmd_language"))
async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: a button for each language the bot speaks; the choice is kept per chat."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(update, svc)
    buttons = [
        InlineKeyboardButton(
            svc.message(LANGUAGE_NAME, code), callback_data=LANGUAGE_BUTTON + code
        )
        for code in languages(svc.brain)
    ]
    markup = InlineKeyboardMarkup([buttons])
    quote = is_group(update.effective_chat)
    await deliver(
        lambda: message.reply_text(
            svc.message(LANGUAGE_CHOOSE, lang), reply_markup=markup, do_quote=quote
        )
    )


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /language button: store the chat's language (in a group, an admin's choice)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    svc = services(context)
    code = (query.data or "")[len(LANGUAGE_BUTTON) :]
    lang = await chat_language(update, svc)
    if code not in svc.languages:
        await _answer_press(query, svc.message(STALE_BUTTON, lang)[:MAX_CALLBACK_ANSWER])
        return
    if is_group(chat) and not await is_chat_admin(update, context):
        await _answer_press(query, svc.message(ONLY_GROUP_ADMINS, lang)[:MAX_CALLBACK_ANSWER])
        return
    if not await think(context, None, lambda: _store_language(svc, chat, code)):
        await _answer_press(query, svc.message(SETTINGS_UNAVAILABLE, lang)[:MAX_CALLBACK_ANSWER])
        return
    await _answer_press(query)
    message = query.message
    if isinstance(message, Message):
        text = svc.message(LANGUAGE_SET, code)
        await deliver(lambda: message.edit_text(text))


def _store_language(svc: Services, chat: Chat, lang: str) -> bool:
    if svc.storage is None:
        return False
    try:
        svc.storage.set_language(chat.id, chat.type, lang)
    except Exception:
        log.exception("could not store the language of a chat")
        return False
    finally:
        svc.forget_chat_settings(chat.id)
    return True
