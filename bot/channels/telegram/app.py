"""Build and run the Telegram bot (python-telegram-bot's async Application).

Run it with ``asem-bot run`` (see ``asem-bot run --help`` for the environment variables).
:func:`build_application` wires the brain, the storage and the handlers into an Application;
:func:`run` starts it with long polling, or as a webhook server when ``ASEM_WEBHOOK_URL`` is
set. Tests build the same Application against a fake Bot API server (``tests/conftest.py``).

Updates of different chats are handled concurrently; the updates of one chat are handled in
the order they came (:class:`ChatOrderedProcessor`), so two quick questions get their answers
in order.

The bot is built from the core (:mod:`~bot.channels.telegram.handlers`, always) and features:
the campaign's :data:`FEATURES` (quiz, subscriptions and the daily post, admin commands), which
``asem-bot run`` adds. Each is a module whose commands are declared with
:func:`bot.declare.command` where they are implemented; the handlers registered and the menus
Telegram shows are derived from those declarations. A feature may have a
``setup(application, options)`` function for its other handlers, jobs and state.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import logging
import signal
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Chat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.brain import Brain
from bot.channels.telegram import admin, feedback, handlers, quiz, subscriptions
from bot.channels.telegram.conversation import TALK, Conversations, talk
from bot.channels.telegram.heartbeat import INTERVAL, write_heartbeat
from bot.channels.telegram.inbox import Inbox, InboxBot, InboxStore
from bot.channels.telegram.inline import inline_query
from bot.channels.telegram.runtime import (
    BEFORE_SEND,
    HANDLING,
    LOG_EVERY,
    SERVICES,
    CampaignOptions,
    LoggedQuestion,
    Services,
    Store,
    say,
    services,
)
from bot.channels.telegram.webhook import WebhookUpdater
from bot.config import Settings
from bot.declare import Declared, commands, msg
from bot.limits import MAX_CALLBACK_ANSWER

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 4
"""Updates handled at once. Enough to keep Telegram's 30 messages a second flowing over a
real network (about 50-150 ms a request); more only costs CPU in httpx's connection pool
(measured in bench/telegram_bench.py: 16 at once answered half as many updates as 4)."""
BOOTSTRAP_ATTEMPTS = 5
"""Tries of each start-up call (getMe, deleteWebhook or setWebhook, setMyCommands...) while
Telegram cannot be reached or answers 5xx, with back-off, before ``run`` gives up."""
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for news
STOP_WITHIN = 5.0
"""Seconds a stop (SIGTERM, Ctrl-C) gives the updates in hand to finish; the rest stay stored
for the next start. Well inside Docker's 10 s before it kills."""
CONFLICT_GRACE = 30.0
"""A 409 Conflict (another getUpdates with this token) before this instance ever polled
successfully means another instance was there first: this one stops. Later, the other one is
the newcomer and stops; if conflicts go on this many seconds without a successful poll, this
one stops too."""

T = TypeVar("T")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

FEATURES: tuple[ModuleType, ...] = (quiz, subscriptions, admin)
"""The campaign: quiz polls, subscriptions and the fact of the day, the admins' commands."""

DESCRIPTION = msg("tg_description")
SHORT_DESCRIPTION = msg("tg_short_description")
APOLOGY = msg("tg_error")
BOT_ADMINS_ONLY = msg("tg_bot_admins_only")
PURGE_JOB = "purge old records"
PURGE_AT = dt.time(3, 30)  # local time: a quiet hour, away from the daily post

# What the bot quietly ignores in private chats gets a hint instead: media it cannot read.
MEDIA = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VIDEO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)


# -- building -------------------------------------------------------------------------------------


def build_application(
    settings: Settings,
    brain: Brain,
    storage: Store | None = None,
    *,
    features: Sequence[ModuleType] = (),
    campaign: CampaignOptions | None = None,
    read_timeout: float | None = None,
) -> Application:
    """The Application with the core and ``features`` registered; not yet started."""
    # As ApplicationBuilder makes them: a pool for sending, one connection for polling.
    request = (
        HTTPXRequest(connection_pool_size=256)
        if read_timeout is None
        else HTTPXRequest(
            connection_pool_size=256, read_timeout=read_timeout, write_timeout=read_timeout
        )
    )
    inbox = Inbox(storage if isinstance(storage, InboxStore) else None)
    bot = InboxBot(
        settings.token,
        base_url=settings.api_base_url,
        base_file_url=settings.base_file_url,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        request=request,
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=telegram_pace() if settings.rate_limiter else None,
        inbox=inbox,
    )
    processor = ChatOrderedProcessor(MAX_CONCURRENT_UPDATES, inbox)
    application = (
        Application.builder()
        .bot(bot)
        .concurrent_updates(processor)
        .post_init(post_init)
        .post_stop(post_stop)
        .build()
    )
    if settings.webhook_url:  # our webhook server: the secret before the body, bounded
        application.updater = WebhookUpdater(application.bot, application.update_queue)
    declared = commands(handlers, *features)
    svc = Services(
        brain=brain,
        settings=settings,
        storage=storage,
        commands=[d.spec for d in declared if d.spec.menu],
    )
    application.bot_data[SERVICES] = svc
    inbox.questions = svc.questions
    application.bot_data[TALK] = Conversations(storage)
    add_handlers(application, declared, features, campaign or CampaignOptions())
    application.add_error_handler(on_error)
    return application


def add_handlers(
    application: Application,
    declared: Sequence[Declared],
    features: Sequence[ModuleType],
    options: CampaignOptions,
) -> None:
    """Every handler, in one place. Within a group the first matching handler wins, so
    specific handlers come before the catch-alls at the end."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE  # not edits, not channel posts
    for command in declared:  # as declared with @command, where each is implemented
        # declared without Telegram types (bot.declare is read by `validate`, which has no PTB)
        callback = cast(Handler, command.handler)
        if command.spec.admin:
            callback = bot_admins_only(callback)
        application.add_handler(CommandHandler(command.spec.name, callback, new_message))
    application.add_handlers(
        [
            # /language's buttons before the catch-all of every other button
            CallbackQueryHandler(handlers.language_button, pattern=f"^{handlers.LANGUAGE_BUTTON}"),
            CallbackQueryHandler(feedback.vote, pattern=f"^{feedback.VOTE}"),
            CallbackQueryHandler(feedback.learn, pattern=f"^{feedback.LEARN}"),
            CallbackQueryHandler(handlers.button),
            MessageReactionHandler(feedback.reaction),
            InlineQueryHandler(inline_query),
            ChatMemberHandler(handlers.membership, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(filters.StatusUpdate.MIGRATE, handlers.migrated),
        ]
    )
    for feature in features:  # their other handlers, jobs and state
        setup = getattr(feature, "setup", None)
        if setup is not None:
            setup(application, options)
    # Catch-alls last: they would otherwise swallow the commands above.
    application.add_handlers(
        [
            MessageHandler(private & new_message & filters.COMMAND, handlers.unknown_command),
            MessageHandler(private & new_message & filters.TEXT, handlers.private_text),
            MessageHandler(
                groups & new_message & filters.TEXT & ~filters.COMMAND, handlers.group_text
            ),
            MessageHandler(private & new_message & MEDIA, handlers.media),
            MessageHandler(
                (private | groups) & filters.UpdateType.EDITED_MESSAGE & filters.TEXT,
                handlers.edited_question,
            ),
            # Anything else (channel posts, service messages, media in groups, edits of
            # anything but text) matches no handler and is dropped quietly.
        ]
    )


def bot_admins_only(handler: Handler) -> Handler:
    """``handler``, run only for the bot's admins (ASEM_ADMIN_IDS); anyone else is told so
    politely. Every "admins" command is registered through this."""

    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if services(context).is_admin_user(user.id if user else None):
            await handler(update, context)
        else:
            await say(update, context, BOT_ADMINS_ONLY)

    return checked


UNLIMITED = frozenset({"getChatMember", "getChatAdministrators", "getChat", "getChatMemberCount"})
"""Bot API methods that read, and send nothing to a chat."""


def telegram_pace() -> AIORateLimiter:
    """A rate limiter that stays inside Telegram's flood limits even in a burst.

    aiolimiter is a leaky bucket: it lets a full bucket through at once and then drains at
    the rate, so PTB's default (30 a second) can put almost 60 messages into one second, and
    20 a minute per group almost 40 into one minute. A bucket of 1 draining 29 times a second
    keeps every second at 30 or fewer; a bucket of 5 draining one every 4 seconds keeps every
    minute of a group at 20; per chat, :class:`TelegramPace` adds a bucket of 3 draining one
    every 1.1 seconds (Telegram: about one message a second in a chat, short bursts allowed),
    counted when each send comes back (:class:`ChatPace`).
    A 429 that still comes is waited out and retried.

    A chat or group that waits for its turn gives up its processing slot meanwhile
    (:class:`TelegramPace`), so busy groups never hold up private chats.
    """
    return TelegramPace(
        overall_max_rate=1,
        overall_time_period=1 / 29,
        group_max_rate=5,
        group_time_period=20,
        max_retries=3,
    )


CHAT_BURST = 3
CHAT_INTERVAL = 1.1  # seconds per message in one chat after a burst
CHATS_PACED = 10_000  # per-chat buckets kept (least recently used go first)


class ChatPace:
    """One chat's pace: a leaky bucket of :data:`CHAT_BURST` draining one send every
    :data:`CHAT_INTERVAL` seconds, with the sends in the chat one at a time.

    A send is counted when its answer comes back, not when it sets off. Telegram counts it
    when it arrives, which is somewhere in between, so the gaps Telegram sees are never
    shorter than the pace, however long a request spends on the way (aiolimiter counts at
    the start: a first send slowed by a new connection and a quick second one could arrive
    closer together than the pace and earn a 429)."""

    def __init__(self, burst: int = CHAT_BURST, interval: float = CHAT_INTERVAL) -> None:
        self._burst = burst
        self._interval = interval
        self._level = 0.0
        self._at = 0.0
        self._lock = asyncio.Lock()

    def _level_at(self, now: float) -> float:
        return max(0.0, self._level - (now - self._at) / self._interval)

    def has_capacity(self) -> bool:
        now = asyncio.get_running_loop().time()
        return not self._lock.locked() and self._level_at(now) + 1 <= self._burst

    async def acquire(self) -> None:
        """Wait for the chat's turn; :meth:`release` must follow (after the send)."""
        await self._lock.acquire()
        try:
            loop = asyncio.get_running_loop()
            while (wait := (self._level_at(loop.time()) + 1 - self._burst) * self._interval) > 0:
                await asyncio.sleep(wait)
        except BaseException:
            self._lock.release()
            raise

    def release(self) -> None:
        """The send is back (or failed): count it now and let the chat's next one wait."""
        now = asyncio.get_running_loop().time()
        self._level = self._level_at(now) + 1
        self._at = now
        self._lock.release()


class _WaitWithoutSlot:
    """A chat's :class:`ChatPace` or a group's AsyncLimiter; waiting for it releases the
    update's slot (the send itself happens with a slot held again)."""

    def __init__(self, limiter: Any) -> None:
        self._limiter = limiter

    async def __aenter__(self) -> None:
        slot = _SLOT.get(None)
        if slot is None or self._limiter.has_capacity():
            await self._limiter.acquire()  # no wait: nothing to give up
            return
        async with slot.given_up():
            await self._limiter.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        release = getattr(self._limiter, "release", None)  # AsyncLimiter has none
        if release is not None:
            release()


class _Slot:
    """The processing slot an update holds (one of MAX_CONCURRENT_UPDATES)."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore
        self._owner = asyncio.current_task()
        self.held = False

    async def take(self) -> None:
        await self._semaphore.acquire()
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._semaphore.release()

    @contextlib.asynccontextmanager
    async def given_up(self) -> AsyncIterator[None]:
        """Let another update use the slot meanwhile; take one again afterwards (if that is
        cancelled, the slot is not held and not released twice). Only the update's own task
        gives its slot up: a task it started (which inherits the context) holds none."""
        if not self.held or asyncio.current_task() is not self._owner:
            yield
            return
        self.release()
        try:
            yield
        finally:
            await self.take()


_SLOT: contextvars.ContextVar[_Slot] = contextvars.ContextVar("asem_slot")


class TelegramPace(AIORateLimiter):
    """PTB's AIORateLimiter, with a bucket per chat for what is sent there (AIORateLimiter only
    limits all chats together and groups), and the :data:`BEFORE_SEND` hook. Requests that
    send nothing (:data:`UNLIMITED`: ``getChatMember``...) skip the limits: they are not
    messages, and behind a group's 20 messages a minute an admin check would wait for seconds
    (PTB counts every request naming a group).

    The wait for a chat's or a group's turn (one message every 4 s once a group had 5)
    happens outside the processing slots: the update gives its slot up while it waits and
    takes one again before it sends. Six busy groups would otherwise hold all four slots for
    seconds, and every private chat would wait behind them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._chats: OrderedDict[object, ChatPace] = OrderedDict()

    def _get_group_limiter(self, group_id: str | int | bool) -> Any:
        """A group's limiter, waited for outside the processing slots (:class:`_Slot`)."""
        return _WaitWithoutSlot(super()._get_group_limiter(group_id))

    def _chat_limiter(self, chat_id: object) -> ChatPace:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = ChatPace()
            if len(self._chats) > CHATS_PACED:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat_id)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Any],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint in UNLIMITED:
            return await callback(*args, **kwargs)
        hook = BEFORE_SEND.get()
        if hook is not None:
            call = callback

            async def callback(*a: Any, **kw: Any) -> Any:
                await hook()
                return await call(*a, **kw)

        chat_id = data.get("chat_id")
        if chat_id is None or not endpoint.startswith("send") or endpoint == "sendChatAction":
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        async with _WaitWithoutSlot(self._chat_limiter(chat_id)):
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, except that one chat's updates run one after another.

    Each update handled is reported to the :class:`Inbox` with its question-log entries (the
    handlers add them to :data:`HANDLING`). For a bounded stop it knows which updates wait for
    their turn (:meth:`let_go` cancels them before they start) and which are running."""

    def __init__(self, max_concurrent_updates: int, inbox: Inbox | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self._chats: dict[int, _ChatTurn] = {}
        self.waiting: dict[asyncio.Task[Any], object] = {}
        self.running: dict[asyncio.Task[Any], object] = {}

    # PTB marks process_update final; the chat's turn must be taken before a slot is, so that
    # a chat flooding the bot holds one slot, and only this method runs before the slot.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Any
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.waiting[task] = update
        try:
            await self._in_turn(update, coroutine)
        except asyncio.CancelledError:
            with contextlib.suppress(RuntimeError):
                coroutine.close()  # if it never started: no "never awaited" warning
            if self.inbox is not None:
                self.inbox.let_go(update)  # stays stored: the next start handles it
            raise
        finally:
            if task is not None:
                self.waiting.pop(task, None)
                self.running.pop(task, None)

    async def _in_turn(self, update: object, coroutine: Any) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await super().process_update(update, coroutine)
            return
        turn = self._chats.setdefault(chat.id, _ChatTurn(asyncio.Lock()))
        turn.waiting += 1
        try:
            # The chat's turn first, then a slot: a chat flooding the bot holds one slot.
            async with turn.lock:
                await self._in_slot(update, coroutine)
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._chats[chat.id]

    async def _in_slot(self, update: object, coroutine: Any) -> None:
        """As BaseUpdateProcessor.process_update, with the slot known to the rate limiter
        (a chat waiting for its turn gives it up: :class:`TelegramPace`)."""
        slot = _Slot(self._semaphore)
        await slot.take()
        token = _SLOT.set(slot)
        try:
            await self.do_process_update(update, coroutine)
        finally:
            _SLOT.reset(token)
            slot.release()

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.waiting.pop(task, None)
            self.running[task] = update
        questions: list[LoggedQuestion] = []
        token = HANDLING.set(questions)
        try:
            await coroutine
        finally:
            HANDLING.reset(token)
        if self.inbox is not None:
            await self.inbox.finish(update, questions)

    def let_go(self) -> int:
        """Cancel the updates that have not started; how many there were."""
        waiting = list(self.waiting)
        for task in waiting:
            task.cancel()
        return len(waiting)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


@dataclass
class _ChatTurn:
    lock: asyncio.Lock
    waiting: int = 0


# -- start-up, heartbeat, errors ------------------------------------------------------------------


async def post_init(application: Application) -> None:
    """Register the command menu and descriptions, queue the updates stored before the last
    stop (they come first), and start the heartbeat."""
    svc = services(application)
    await register_profile(application, svc)
    inbox = inbox_of(application)
    inbox.on_skip = lambda: application.create_task(write_beat(application))
    for update in await inbox.replay(application.bot):
        await application.update_queue.put(update)
    await write_beat(application)  # at once: the job's first run is INTERVAL away
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            heartbeat, interval=INTERVAL, first=INTERVAL, name="heartbeat"
        )
        application.job_queue.run_repeating(
            write_question_log, interval=LOG_EVERY, first=LOG_EVERY, name="question log"
        )

        application.job_queue.run_daily(
            purge_job,
            PURGE_AT.replace(tzinfo=svc.settings.timezone),
            name=PURGE_JOB,
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )
    bot = application.bot
    log.info("@%s is ready (%s)", bot.username, describe_mode(svc.settings))
    if not bot.can_read_all_group_messages:
        log.info(
            "privacy mode is on: in groups the bot sees only commands, mentions and replies to "
            "it, so /autoanswer answers nothing there unless the bot is a group admin. To let "
            "it read groups, in @BotFather: /setprivacy, choose the bot, Disable (then remove "
            "and re-add it to each group)"
        )


async def register_profile(application: Application, svc: Services) -> None:
    """setMyCommands for private chats and groups, setMyDescription, setMyShortDescription,
    each retried like getMe while Telegram cannot be reached or answers 5xx. Failing here is
    not fatal: the bot works without its menu."""
    bot = application.bot
    try:
        for lang in ["en", *sorted(svc.languages - {"en"})]:
            code = None if lang == "en" else lang
            if code and svc.message(DESCRIPTION, lang) == svc.message(DESCRIPTION):
                continue  # not translated: the default applies
            private = _bot_commands(svc, lang, "private")
            groups = _bot_commands(svc, lang, "groups")
            call = functools.partial
            calls = [
                call(bot.set_my_commands, private, scope=BotCommandScopeDefault()),
                call(bot.set_my_commands, private, scope=BotCommandScopeAllPrivateChats()),
                call(bot.set_my_commands, groups, scope=BotCommandScopeAllGroupChats()),
                call(bot.set_my_description, svc.message(DESCRIPTION, lang)),
                call(bot.set_my_short_description, svc.message(SHORT_DESCRIPTION, lang)),
            ]
            for request in calls:
                await _with_retries(functools.partial(request, language_code=code))
    except TelegramError as exc:
        log.warning("could not register the command menu and descriptions: %s", exc.message)
    await register_admin_commands(application, svc)


async def register_admin_commands(application: Application, svc: Services) -> None:
    """Commands with the "admins" scope are listed only in the private chats of the bot's
    admins (ASEM_ADMIN_IDS), next to the private ones. An admin who never opened the bot has
    no chat yet; that is logged and skipped."""
    if not any("admins" in c.scopes for c in svc.commands):
        return
    commands = [
        BotCommand(c.name, svc.message(c.description))
        for c in svc.commands
        if "private" in c.scopes or "admins" in c.scopes
    ]
    for admin_id in sorted(svc.settings.admin_ids):
        try:
            await application.bot.set_my_commands(commands, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:
            log.info("no admin command menu for an admin: %s", exc.message)


def _bot_commands(svc: Services, lang: str, scope: str) -> list[BotCommand]:
    return [
        BotCommand(c.name, svc.message(c.description, lang))
        for c in svc.commands
        if scope in c.scopes
    ]


async def post_stop(application: Application) -> None:
    """Write what is left: finished updates, the question log and the sent answers."""
    await inbox_of(application).close()
    await services(application).questions.flush()
    await talk(application).answers.flush()


def inbox_of(application: Application) -> Inbox:
    return cast(InboxBot, application.bot).inbox


async def write_question_log(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Write the questions of the last second to storage, in one worker-thread hop, and the
    answers sent (what each was about: reply context and edits survive a restart)."""
    await context.bot_data[SERVICES].questions.flush()
    await talk(context).answers.flush()


async def purge_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Delete question-log rows, quiz polls and daily-post records past the retention."""
    svc = context.bot_data[SERVICES]
    if svc.storage is None:
        return
    try:
        await asyncio.to_thread(svc.storage.purge, svc.settings.log_retention_days)
    except Exception:
        log.exception("could not purge old records")


async def heartbeat(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Write the time and the inbox's progress to ASEM_DATA_DIR/heartbeat: ``asem-bot health``
    reads it."""
    await write_beat(context.application)


STARTED_AT = "asem.started_at"  # bot_data: when this process began to serve (time.time)


async def write_beat(application: Application) -> None:
    settings = services(application).settings
    progress = {
        **inbox_of(application).progress(),
        "mode": "webhook" if settings.webhook_url else "polling",
        "started_at": application.bot_data.setdefault(STARTED_AT, time.time()),
    }
    try:
        await asyncio.to_thread(_beat, settings.data_dir, progress)
    except OSError as exc:
        log.warning("could not write the heartbeat file: %s", exc)


def _beat(data_dir: Path, progress: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    write_heartbeat(data_dir, progress=progress)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error (the log filter masks the token) and apologise to a private chat."""
    error = context.error
    if isinstance(error, ChatMigrated) and isinstance(update, Update) and update.effective_chat:
        # An answer to the group's last message under its old id: the group moves on.
        svc = context.bot_data[SERVICES]
        await asyncio.to_thread(
            handlers.move_chat, svc, update.effective_chat.id, error.new_chat_id
        )
        log.info("%s: the group became a supergroup", _describe(update))
        return
    if isinstance(error, Forbidden):
        log.info("%s: %s", _describe(update), error.message)  # blocked or kicked: no apology
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # Telegram unreachable or slow: not a bug; the update is lost, the bot goes on.
        log.warning("network error while handling %s: %s", _describe(update), error.message)
    else:
        log.error("error while handling %s", _describe(update), exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        svc = context.bot_data[SERVICES]
        apology = svc.message(APOLOGY)
        if update.callback_query is not None:
            await update.callback_query.answer(apology[:MAX_CALLBACK_ANSWER])
        elif update.effective_chat is not None and update.effective_chat.type == Chat.PRIVATE:
            await context.bot.send_message(update.effective_chat.id, apology)
    except Exception as exc:  # the apology is best effort; the error is already logged
        log.debug("could not send the apology: %s", exc)


def _describe(update: object) -> str:
    """Which update, without any user's text or ids."""
    if not isinstance(update, Update):
        return "no update" if update is None else type(update).__name__
    kind = next((k for k in update.to_dict() if k != "update_id"), "update")
    chat = update.effective_chat
    return f"update {update.update_id} ({kind} in a {chat.type if chat else 'no'} chat)"


def describe_mode(settings: Settings) -> str:
    if not settings.webhook_url:
        return "long polling"
    secret = "a random secret" if settings.webhook_secret_generated else "ASEM_WEBHOOK_SECRET"
    return (
        f"webhook {settings.webhook_url}, listening on "
        f"{settings.webhook_listen}:{settings.webhook_port}, with {secret}"
    )


# -- running --------------------------------------------------------------------------------------


class Stopped(Exception):
    """A stop signal came while the bot was still starting."""


def run(
    settings: Settings,
    brain: Brain,
    storage: Store | None = None,
    *,
    features: Sequence[ModuleType] = FEATURES,
) -> None:
    """Run until SIGINT/SIGTERM. Raises InvalidToken when Telegram refuses the token, and
    Conflict when another instance polls with the same token."""
    # At INFO, APScheduler logs every run of every job: two lines a second.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    application = build_application(settings, brain, storage, features=features)
    if not settings.webhook_url:
        with contextlib.suppress(Stopped):
            asyncio.run(serve_polling(application))
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        # Initialise here rather than in run_polling: PTB would log InvalidToken with a
        # traceback, and the command line should say it in one line.
        loop.run_until_complete(_initialize(application))
    except BaseException:
        with contextlib.suppress(Exception):
            loop.run_until_complete(application.bot.shutdown())
        loop.close()
        raise
    application.run_webhook(**webhook_options(settings))


async def serve_polling(application: Application, *, stop_within: float = STOP_WITHIN) -> None:
    """Long polling until SIGTERM or SIGINT, then a stop bounded by ``stop_within`` seconds.

    The signals are ours from the first moment (also while start-up calls are retried). On a
    stop, fetching stops first; updates that have not started are left stored for the next
    start; those running get until the deadline, and so do running jobs (the daily post).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    conflict: list[Conflict] = []
    try:
        try:
            await _with_retries(application.initialize, stop)
        except BaseException:  # stopped, or Telegram refused or could not be reached
            with contextlib.suppress(Exception):
                await application.bot.shutdown()
            raise
        try:
            await _run_until(application, stop, conflict)
        finally:
            await _stop(application, stop_within)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    if conflict:
        raise conflict[0]


async def _run_until(application: Application, stop: asyncio.Event, conflict: list) -> None:
    assert application.post_init is not None and application.updater is not None
    await _unless_stopped(application.post_init(application), stop)  # menus: many calls
    inbox = inbox_of(application)

    def polling_failed(error: TelegramError) -> None:
        """One line per failed getUpdates (PTB's default logs a traceback each time)."""
        if isinstance(error, Conflict):
            # Before our first successful poll: the other instance was there first. Later:
            # the newcomer will give up; if it does not, give up after CONFLICT_GRACE.
            last_ok = inbox.polled_at
            if last_ok is None or time.time() - last_ok > CONFLICT_GRACE:
                conflict.append(error)
                stop.set()
                return
        log.warning("getUpdates failed: %s", error.message)

    await application.updater.start_polling(
        poll_interval=0,
        timeout=POLL_TIMEOUT,
        bootstrap_retries=BOOTSTRAP_ATTEMPTS - 1,  # deleteWebhook, retried like getMe
        error_callback=polling_failed,
        allowed_updates=feedback.ALLOWED_UPDATES,  # reactions too (👍/👎 on answers)
    )
    await application.start()
    log.info("polling; stop with SIGTERM or Ctrl-C")
    await stop.wait()


async def _stop(application: Application, within: float) -> None:
    """Stop fetching, give what runs until ``within`` seconds from now, keep the rest stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    processor = cast(ChatOrderedProcessor, application.update_processor)
    inbox = inbox_of(application)
    updater = application.updater
    if updater is not None and updater.running:
        try:
            await asyncio.wait_for(updater.stop(), max(0.1, deadline - loop.time()))
        except TimeoutError:
            log.warning("stopping the polling took too long")
    queued = 0
    while not application.update_queue.empty():
        inbox.let_go(application.update_queue.get_nowait())
        application.update_queue.task_done()
        queued += 1
    queued += processor.let_go()
    running = list(processor.running)
    if running:
        await asyncio.wait(running, timeout=max(0.0, deadline - loop.time()))
    unfinished = [task for task in running if not task.done()]
    for task in unfinished:
        task.cancel()
    if unfinished:
        await asyncio.wait(unfinished, timeout=1.0)
    if queued or unfinished:
        log.info(
            "stopping: %d update(s) left stored for the next start",
            queued + len(unfinished),
        )
    job_queue = application.job_queue
    if job_queue is not None and job_queue.scheduler.running:
        jobs = [f for f in job_queue._executor._pending_futures if not f.done()]  # noqa: SLF001
        if jobs:
            await asyncio.wait(jobs, timeout=max(0.0, deadline - loop.time()))
        await job_queue.stop(wait=False)  # cancels a job still running (its claims are kept)
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Where the webhook server listens, the URL Telegram is told, and the secret it must
    send: every request without it is refused (403) before its body is read
    (:mod:`bot.channels.telegram.webhook`). setWebhook is retried like getMe."""
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": settings.webhook_path,
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret,
        "bootstrap_retries": BOOTSTRAP_ATTEMPTS - 1,
        "allowed_updates": feedback.ALLOWED_UPDATES,  # reactions too (👍/👎 on answers)
    }


def check_token(settings: Settings) -> str:
    """Ask Telegram who the token belongs to (getMe) and return the bot's username, before
    anything else starts. Raises InvalidToken if Telegram refuses the token, NetworkError if
    it cannot be reached after a few tries."""
    bot = Bot(settings.token, base_url=settings.api_base_url, base_file_url=settings.base_file_url)

    async def get_me() -> str:
        async with bot:  # initialize() calls getMe
            return bot.username

    return asyncio.run(_with_retries(get_me))


async def _initialize(application: Application) -> None:
    await _with_retries(application.initialize)


async def _with_retries(start: Callable[[], Awaitable[T]], stop: asyncio.Event | None = None) -> T:
    """``start()``, retried with back-off while Telegram cannot be reached or answers 5xx
    (never for a refused token, InvalidToken, nor a request Telegram refuses, BadRequest:
    they go straight up). Raises Stopped as soon as ``stop`` is set, also in the middle of an
    attempt or a wait."""
    for attempt in range(BOOTSTRAP_ATTEMPTS):
        try:
            return await _unless_stopped(start(), stop)
        except (InvalidToken, BadRequest):
            raise
        except NetworkError as exc:
            if attempt == BOOTSTRAP_ATTEMPTS - 1:
                raise
            wait = 2**attempt
            log.warning("cannot reach Telegram (%s); retrying in %d s", exc.message, wait)
            await _unless_stopped(asyncio.sleep(wait), stop)
    raise AssertionError("unreachable")


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event | None) -> T:
    if stop is None:
        return await work
    if stop.is_set():
        if asyncio.iscoroutine(work):
            work.close()
        raise Stopped
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise Stopped
    return task.result()
