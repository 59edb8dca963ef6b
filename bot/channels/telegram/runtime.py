"""What every handler shares: the services, asking the brain, sending, and the question log.

The brain and storage are synchronous. :func:`ask_brain` runs the brain in a worker thread so
the event loop keeps serving other chats, and shows "typing" only when an answer takes longer
than :data:`TYPING_AFTER` (none should). The brain is pure, so its replies are remembered
(:class:`Memo`, keyed by the question or button, the language and the day): a popular question
or a menu button is answered without the thread hop, which costs the event loop more than the
answer itself. Chat settings are cached for a minute. An update's question-log rows are
written with its completion, after the answer (see ``inbox.py``); the rest (webhook mode, or
while storage fails) in batches once a second, so storage never sits before an answer.

:func:`send` delivers a reply once: a 5xx or a reset is tried again (three attempts in all), a
timeout is not (Telegram may already have delivered the message), a blocked chat is noted.
Handlers never compose text: it comes from the brain or from ``knowledge/messages.yaml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import html
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut
from telegram.ext import Application, ContextTypes

from bot.brain import Brain
from bot.channels.telegram.keyboards import Labels, keyboard
from bot.config import Settings
from bot.declare import CommandSpec, msg
from bot.language import choose_language
from bot.limits import MAX_TEXT, telegram_length
from bot.reply import Reply, esc, html_to_plain

log = logging.getLogger(__name__)

SERVICES = "asem"  # the key of Services in application.bot_data
TYPING_AFTER = 0.5  # seconds an answer may take before the user sees "typing"
RETRY_SERVER_ERROR_AFTER = 1.0
SEND_ATTEMPTS = 3  # a send that meets a 5xx or a reset is tried up to this many times
REPLIES_REMEMBERED = 4096  # about 1 KB each
REMEMBER_TEXT_UP_TO = 200  # characters of a question worth remembering the reply to
SETTINGS_FOR = 60.0  # seconds a chat's settings are cached (our own changes apply at once)
LOG_EVERY = 1.0  # seconds between question-log writes
LOG_BACKLOG = 10_000  # entries kept while storage fails; older ones are dropped

BACK = msg("button_back")
HOME_LABEL = msg("button_home")
PREVIOUS = msg("button_prev")
NEXT = msg("button_next")
MORE = msg("tg_more")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class ChatSettingsLike(Protocol):
    @property
    def lang(self) -> str: ...

    @property
    def auto_answer(self) -> bool: ...

    @property
    def lang_chosen(self) -> bool: ...


class Store(Protocol):
    """The part of :class:`bot.storage.Storage` the Telegram channel uses."""

    def chat(self, chat_id: int) -> ChatSettingsLike: ...

    def set_auto_answer(self, chat_id: int, chat_type: str, on: bool) -> Any: ...

    def forget_chat(self, chat_id: int) -> None: ...

    def set_language(self, chat_id: int, chat_type: str, lang: str) -> Any: ...

    def migrate_chat(self, old_id: int, new_id: int) -> None: ...

    def log_question(
        self,
        *,
        chat_type: str,
        lang: str,
        intent: str | None,
        confidence: float,
        answered: bool,
        question: str | None,
    ) -> Any: ...


class Memo(Generic[K, V]):
    """A least-recently-used map of at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.size:
            self._data.popitem(last=False)

    def pop(self, key: K) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CampaignOptions:
    """What tests may change in the campaign features: the time they see, the quiz's chance,
    and how soon the daily post is retried or caught up (None: the feature's default)."""

    clock: Clock | None = None
    rng: random.Random | None = None
    retry_delays: tuple[float, ...] | None = None
    catch_up_after: float | None = None


@dataclass(frozen=True)
class LoggedQuestion:
    chat_type: str
    lang: str
    intent: str | None
    confidence: float
    answered: bool
    question: str | None


BEFORE_SEND: contextvars.ContextVar[Callable[[], Awaitable[None]] | None] = contextvars.ContextVar(
    "BEFORE_SEND", default=None
)
"""Awaited by the rate limiter just before a request leaves (after any wait for its turn): the
daily post records there that Telegram may now have it."""

HANDLING: contextvars.ContextVar[list[LoggedQuestion] | None] = contextvars.ContextVar(
    "HANDLING", default=None
)
"""While an update is handled (set by the update processor): its question-log entries, which
are written in the same transaction as the update's completion (see ``inbox.py``)."""


class QuestionLog:
    """Questions waiting to be written to storage; :meth:`flush` writes them in one hop.

    Entries of an update being handled go with that update instead (:data:`HANDLING`); the
    batches here are for the rest (webhook mode, or while the inbox cannot store).

    Nothing about the asker is kept: chat type, language, intent, confidence, whether it was
    answered, and the text only when the bot did not answer (as the storage also insists).
    """

    def __init__(self, storage: Store | None) -> None:
        self.storage = storage
        self.pending: list[LoggedQuestion] = []
        self.failing = False

    def add(self, chat_type: str, lang: str, reply: Reply, text: str) -> None:
        if self.storage is None:
            return
        entry = LoggedQuestion(
            chat_type,
            lang,
            reply.intent or reply.nearest,  # a decline: the intent it came closest to
            reply.confidence,
            reply.answered,
            None if reply.answered else text,
        )
        handling = HANDLING.get()
        if handling is not None:
            handling.append(entry)
        else:
            self.extend([entry])

    def extend(self, entries: Sequence[LoggedQuestion]) -> None:
        """Entries for the next :meth:`flush`."""
        if self.storage is None or not entries:
            return
        self.pending.extend(entries)
        if len(self.pending) > LOG_BACKLOG:
            del self.pending[: len(self.pending) - LOG_BACKLOG]
            log.warning("the question log is behind; dropped its oldest entries")

    async def flush(self) -> None:
        """Write what is pending in a worker thread. A failure is logged, never raised; the
        entries are kept for the next try (within LOG_BACKLOG)."""
        if not self.pending or self.storage is None:
            return
        batch, self.pending = self.pending, []
        failed = await asyncio.to_thread(self._write, batch)
        if failed:
            self.pending[:0] = failed

    def _write(self, batch: list[LoggedQuestion]) -> list[LoggedQuestion]:
        assert self.storage is not None
        for done, entry in enumerate(batch):
            try:
                self.storage.log_question(
                    chat_type=entry.chat_type,
                    lang=entry.lang,
                    intent=entry.intent,
                    confidence=entry.confidence,
                    answered=entry.answered,
                    question=entry.question,
                )
            except Exception as exc:
                if not self.failing:  # once, not every second while a disk is full
                    log.error("could not write the question log (%s); will try again", exc)
                self.failing = True
                return batch[done:]
        if self.failing:
            log.warning("the question log is written again")
            self.failing = False
        return []


@dataclass
class Services:
    """Everything handlers need, kept in ``application.bot_data[SERVICES]``."""

    brain: Brain
    settings: Settings
    storage: Store | None = None
    commands: list[CommandSpec] = field(default_factory=list)
    questions: QuestionLog = field(init=False)
    replies: Memo[tuple[Any, ...], Any] = field(init=False)
    _replies_of: Brain | None = field(default=None, init=False, repr=False)
    _keyboards: Memo[tuple[Reply, str], InlineKeyboardMarkup | None] = field(init=False)
    _chats: Memo[int, tuple[float, ChatSettingsLike | None]] = field(init=False)

    def __post_init__(self) -> None:
        self.questions = QuestionLog(self.storage)
        self.replies = Memo(REPLIES_REMEMBERED)
        self._keyboards = Memo(REPLIES_REMEMBERED)
        self._chats = Memo(REPLIES_REMEMBERED)

    def message(self, key: str, lang: str = "en") -> str:
        return self.brain.kb.message(key, lang)

    def labels(self, lang: str) -> Labels:
        return Labels(
            back=self.message(BACK, lang),
            home=self.message(HOME_LABEL, lang),
            prev=self.message(PREVIOUS, lang),
            next=self.message(NEXT, lang),
        )

    def keyboard(self, reply: Reply, lang: str) -> InlineKeyboardMarkup | None:
        """The reply's keyboard (markups are immutable, so one is built per reply)."""
        key = (reply, lang)
        markup = self._keyboards.get(key)
        if markup is None:
            markup = keyboard(reply, self.labels(lang))
            self._keyboards.put(key, markup)
        return markup

    @property
    def languages(self) -> set[str]:
        return set(self.brain.nlu)

    def is_admin_user(self, user_id: int | None) -> bool:
        """A bot admin (ASEM_ADMIN_IDS), for admin commands; not a group's admin."""
        return user_id is not None and user_id in self.settings.admin_ids

    def remembered(self, key: tuple[Any, ...]) -> Any:
        """A reply the brain gave for ``key`` today, if it is still the same brain."""
        if self._replies_of is not self.brain:  # replaced (a reload, or a test)
            self.replies.clear()
            self._replies_of = self.brain
            return None
        return self.replies.get((*key, self.brain.today()))

    def remember(self, key: tuple[Any, ...], reply: Any) -> None:
        if sum(len(part) for part in key if isinstance(part, str)) > REMEMBER_TEXT_UP_TO:
            return  # long texts hardly repeat; keep the memory small
        if self._replies_of is self.brain:
            self.replies.put((*key, self.brain.today()), reply)

    # -- chat settings, cached; storage failures are never fatal --------------------------------

    def read_chat_settings(self, chat_id: int) -> ChatSettingsLike | None:
        if self.storage is None:
            return None
        try:
            return self.storage.chat(chat_id)
        except Exception:
            log.exception("could not read the settings of a chat")
            return None

    async def chat_settings(self, chat: Chat | None) -> ChatSettingsLike | None:
        """The chat's stored settings (cached for SETTINGS_FOR seconds); None without
        storage or when it cannot be read."""
        if chat is None or self.storage is None:
            return None
        cached = self._chats.get(chat.id)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        settings = await asyncio.to_thread(self.read_chat_settings, chat.id)
        self._chats.put(chat.id, (now + SETTINGS_FOR, settings))
        return settings

    def forget_chat_settings(self, chat_id: int) -> None:
        """Call after changing a chat's settings in storage, so the change applies at once."""
        self._chats.pop(chat_id)


def services(context: ContextTypes.DEFAULT_TYPE | Application) -> Services:
    return context.bot_data[SERVICES]


def language(
    update: Update,
    svc: Services,
    settings: ChatSettingsLike | None = None,
    text: str | None = None,
) -> str:
    """The language to answer in (:func:`bot.language.choose_language`): the script of the
    question (``text``), then the chat's chosen language (/language), then the user's Telegram
    language when the bot speaks it, then English."""
    user = update.effective_user
    return choose_language(
        svc.brain,
        text,
        stored=chosen_language(settings),
        telegram=user.language_code if user else None,
    )


def chosen_language(settings: ChatSettingsLike | None) -> str | None:
    """The language the chat chose, or None when it chose none (the stored default)."""
    if settings is None:
        return None
    return settings.lang if settings.lang_chosen else None


async def chat_language(update: Update, svc: Services, text: str | None = None) -> str:
    """The language to answer this update in (see :func:`language`)."""
    return language(update, svc, await svc.chat_settings(update.effective_chat), text)


async def say(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, **values: object
) -> None:
    """Send the fixed message ``key`` from messages.yaml, in the chat's language, with
    ``values`` escaped into it; in groups it quotes the message it answers."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    text = svc.message(key, await chat_language(update, svc))
    if values:
        text = text.format(**{name: esc(value) for name, value in values.items()})
    await send_text(message, text, quote=is_group(update.effective_chat))


async def say_lines(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    key: str,
    lines: Sequence[str],
    **values: object,
) -> None:
    """The message ``key``, whose ``{text}`` (a <pre> block) holds as many ``lines`` as fit."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(update, svc)
    more = svc.message(MORE, lang)
    text = fill_pre(svc.message(key, lang), lines, lambda n: more.format(count=n), **values)
    await send_text(message, text, quote=is_group(update.effective_chat))


def fit_lines(lines: Sequence[str], budget: int, more: Callable[[int], str]) -> str:
    """As many whole lines as fit in ``budget`` characters (as Telegram counts them), then
    ``more(n)`` for the ``n`` lines left out, if any."""
    reserve = telegram_length(more(len(lines))) + 1
    kept: list[str] = []
    used = 0
    for line in lines:
        size = telegram_length(line) + (1 if kept else 0)
        if used + size + reserve > budget:
            return "\n".join([*kept, more(len(lines) - len(kept))])
        kept.append(line)
        used += size
    return "\n".join(kept)


def fill_pre(
    template: str, lines: Sequence[str], more: Callable[[int], str], **values: object
) -> str:
    """``template`` with ``values`` and, in its ``{text}`` (a <pre> block), as many of
    ``lines`` as keep the message within Telegram's 4096 characters; all escaped."""
    escaped = {name: esc(value) for name, value in values.items()}
    budget = MAX_TEXT - telegram_length(html_to_plain(template.format(text="", **escaped)))
    return template.format(text=esc(fit_lines(lines, budget, more)), **escaped)


async def ask_brain(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat | None,
    key: tuple[Any, ...],
    work: Callable[[Brain], T],
) -> T:
    """``work(brain)``: remembered, or run in a worker thread with "typing" in ``chat`` if
    it is slow. ``key`` names the question (kind, text or action, language...)."""
    svc = services(context)
    reply = svc.remembered(key)
    if reply is None:
        brain = svc.brain
        reply = await think(context, chat, lambda: work(brain))
        svc.remember(key, reply)
    return reply


async def think(context: ContextTypes.DEFAULT_TYPE, chat: Chat | None, work: Callable[[], T]) -> T:
    """Run ``work`` in a worker thread; show "typing" in ``chat`` if it is slow."""
    task = asyncio.ensure_future(asyncio.to_thread(work))
    if chat is not None:
        done, _ = await asyncio.wait({task}, timeout=TYPING_AFTER)
        if not done:
            with contextlib.suppress(Exception):
                await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    return await task


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in (Chat.GROUP, Chat.SUPERGROUP)


async def send(
    message: Message,
    svc: Services,
    reply: Reply,
    lang: str,
    *,
    quote: bool = False,
) -> Message | None:
    """Send ``reply`` (HTML and its keyboard) in answer to ``message``; see the module doc."""
    markup = svc.keyboard(reply, lang)
    return await deliver(
        lambda: message.reply_text(reply.text, reply_markup=markup, do_quote=quote)
    )


async def send_text(
    message: Message, text: str, *, quote: bool = False, plain: bool = False
) -> Message | None:
    """Send a fixed text from messages.yaml (HTML unless ``plain``)."""
    if plain:
        text = html.escape(text, quote=False)
    return await deliver(lambda: message.reply_text(text, do_quote=quote))


async def deliver(call: Callable[[], Any]) -> Any:
    """Make one Bot API call that sends something, with the delivery policy above."""
    try:
        return await call()
    except TimedOut:
        log.warning("sending timed out; not retried, as Telegram may have delivered it")
    except Forbidden as exc:
        log.info("cannot send to a chat: %s", exc.message)
    except BadRequest:
        raise  # a bug in what we send: the error handler reports it
    except NetworkError as exc:
        # a 5xx or a reset: the message did not arrive; tried again, after 1 s then 2 s
        failure = exc
        for attempt in range(1, SEND_ATTEMPTS):
            log.warning("sending failed (%s); trying again", failure.message)
            await asyncio.sleep(RETRY_SERVER_ERROR_AFTER * attempt)
            try:
                return await call()
            except TimedOut:
                log.warning("sending timed out; not retried, as Telegram may have delivered it")
                return None
            except Forbidden as exc:
                log.info("cannot send to a chat: %s", exc.message)
                return None
            except NetworkError as again:
                failure = again
        log.warning("sending failed %d times (%s); giving up", SEND_ATTEMPTS, failure.message)
    return None
