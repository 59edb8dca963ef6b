"""Build and run the Telegram bot (python-telegram-bot's async Application).

Run it with ``asem-bot run`` (see ``asem-bot run --help`` for the environment variables).
:func:`build_application` wires the brain, the storage and the handlers into an Application;
:func:`run` starts it with long polling, or as a webhook server when ``ASEM_WEBHOOK_URL`` is
set. Tests build the same Application against a fake Bot API server (``tests/conftest.py``).

Updates of different chats are handled concurrently; the updates of one chat are handled in
the order they came (:class:`ChatOrderedProcessor`), so two quick questions get their answers
in order. Later features (quiz, daily facts, admin commands) plug in through ``extensions``:
each is called with the Application before the catch-all handlers are added, and may append
a :class:`Command` to ``services(application).commands`` to have it listed in Telegram's menu
(scope "admins": only for ASEM_ADMIN_IDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.brain import Brain
from bot.channels.telegram import handlers
from bot.channels.telegram.heartbeat import INTERVAL, write_heartbeat
from bot.channels.telegram.inline import inline_query
from bot.channels.telegram.runtime import (
    LOG_EVERY,
    SERVICES,
    Command,
    Services,
    Store,
    services,
)
from bot.config import Settings
from bot.limits import MAX_CALLBACK_ANSWER

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 4
"""Updates handled at once. Enough to keep Telegram's 30 messages a second flowing over a
real network (about 50-150 ms a request); more only costs CPU in httpx's connection pool
(measured in bench/telegram_bench.py: 16 at once answered half as many updates as 4)."""
BOOTSTRAP_ATTEMPTS = 5

Extension = Callable[[Application], None]
T = TypeVar("T")

# The command menu Telegram shows; descriptions are message keys in messages.yaml.
COMMANDS: tuple[Command, ...] = (
    Command("start", "tg_cmd_start", ("private",)),
    Command("help", "tg_cmd_help"),
    Command("ask", "tg_cmd_ask", ("groups",)),
    Command("about", "tg_cmd_about"),
    Command("summits", "tg_cmd_summits"),
    Command("fmm", "tg_cmd_fmm"),
    Command("partners", "tg_cmd_partners"),
    Command("areas", "tg_cmd_areas"),
    Command("asef", "tg_cmd_asef"),
    Command("cambodia", "tg_cmd_cambodia"),
    Command("autoanswer", "tg_cmd_autoanswer", ("groups",)),
)

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
    extensions: Sequence[Extension] = (),
    read_timeout: float | None = None,
) -> Application:
    """The Application, with every handler registered; not yet started."""
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(ChatOrderedProcessor(MAX_CONCURRENT_UPDATES))
        .post_init(post_init)
        .post_stop(post_stop)
    )
    if read_timeout is not None:
        builder = builder.read_timeout(read_timeout).write_timeout(read_timeout)
    if settings.rate_limiter:
        builder = builder.rate_limiter(telegram_pace())
    application = builder.build()
    application.bot_data[SERVICES] = Services(
        brain=brain, settings=settings, storage=storage, commands=list(COMMANDS)
    )
    add_handlers(application, extensions)
    application.add_error_handler(on_error)
    return application


def add_handlers(application: Application, extensions: Sequence[Extension] = ()) -> None:
    """Every handler, in one place. Within a group the first matching handler wins, so
    specific handlers come before the catch-alls at the end."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE  # not edits, not channel posts
    application.add_handlers(
        [
            CommandHandler("start", handlers.start, new_message),
            CommandHandler("help", handlers.help_command, new_message),
            CommandHandler("ask", handlers.ask, new_message),
            CommandHandler("autoanswer", handlers.autoanswer, new_message),
            CommandHandler(list(handlers.TOPIC_COMMANDS), handlers.topic, new_message),
            CallbackQueryHandler(handlers.button),
            InlineQueryHandler(inline_query),
        ]
    )
    for extension in extensions:  # the quiz, daily facts, admin commands...
        extension(application)
    # Catch-alls last: they would otherwise swallow the commands above.
    application.add_handlers(
        [
            MessageHandler(private & new_message & filters.COMMAND, handlers.unknown_command),
            MessageHandler(private & new_message & filters.TEXT, handlers.private_text),
            MessageHandler(
                groups & new_message & filters.TEXT & ~filters.COMMAND, handlers.group_text
            ),
            MessageHandler(private & new_message & MEDIA, handlers.media),
            # Anything else (edits, channel posts, service messages, media in groups) matches
            # no handler and is dropped quietly.
        ]
    )


def telegram_pace() -> AIORateLimiter:
    """A rate limiter that stays inside Telegram's flood limits even in a burst.

    aiolimiter is a leaky bucket: it lets a full bucket through at once and then drains at
    the rate, so PTB's default (30 a second) can put almost 60 messages into one second, and
    20 a minute per group almost 40 into one minute. A bucket of 1 draining 29 times a second
    keeps every second at 30 or fewer; a bucket of 5 draining one every 4 seconds keeps every
    minute of a group at 20. A 429 that still comes is waited out and retried.
    """
    return AIORateLimiter(
        overall_max_rate=1,
        overall_time_period=1 / 29,
        group_max_rate=5,
        group_time_period=20,
        max_retries=3,
    )


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, except that one chat's updates run one after another."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, _ChatTurn] = {}

    async def process_update(self, update: object, coroutine: Any) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await super().process_update(update, coroutine)
            return
        turn = self._chats.setdefault(chat.id, _ChatTurn(asyncio.Lock()))
        turn.waiting += 1
        try:
            # The chat's turn first, then a slot: a chat flooding the bot holds one slot.
            async with turn.lock:
                await super().process_update(update, coroutine)
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._chats[chat.id]

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        await coroutine

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
    """Register the command menu and descriptions, and start the heartbeat."""
    svc = services(application)
    await register_profile(application, svc)
    await write_beat(svc.settings.data_dir)  # at once: the job's first run is INTERVAL away
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            heartbeat, interval=INTERVAL, first=INTERVAL, name="heartbeat"
        )
        application.job_queue.run_repeating(
            write_question_log, interval=LOG_EVERY, first=LOG_EVERY, name="question log"
        )
    bot = application.bot
    log.info("@%s is ready (%s)", bot.username, describe_mode(svc.settings))


async def register_profile(application: Application, svc: Services) -> None:
    """setMyCommands for private chats and groups, setMyDescription, setMyShortDescription.
    Failing here is not fatal: the bot works without its menu."""
    bot = application.bot
    try:
        for lang in ["en", *sorted(svc.languages - {"en"})]:
            code = None if lang == "en" else lang
            if code and svc.message("tg_description", lang) == svc.message("tg_description"):
                continue  # not translated: the default applies
            private = _bot_commands(svc, lang, "private")
            await bot.set_my_commands(private, scope=BotCommandScopeDefault(), language_code=code)
            await bot.set_my_commands(
                private, scope=BotCommandScopeAllPrivateChats(), language_code=code
            )
            await bot.set_my_commands(
                _bot_commands(svc, lang, "groups"),
                scope=BotCommandScopeAllGroupChats(),
                language_code=code,
            )
            await bot.set_my_description(svc.message("tg_description", lang), language_code=code)
            await bot.set_my_short_description(
                svc.message("tg_short_description", lang), language_code=code
            )
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
        BotCommand(c.name, svc.message(c.description_key))
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
        BotCommand(c.name, svc.message(c.description_key, lang))
        for c in svc.commands
        if scope in c.scopes
    ]


async def post_stop(application: Application) -> None:
    """Write what is left of the question log."""
    await services(application).questions.flush()


async def write_question_log(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Write the questions of the last second to storage, in one worker-thread hop."""
    await context.bot_data[SERVICES].questions.flush()


async def heartbeat(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Write the time to ASEM_DATA_DIR/heartbeat: ``asem-bot health`` reads it."""
    await write_beat(context.bot_data[SERVICES].settings.data_dir)


async def write_beat(data_dir: Path) -> None:
    try:
        await asyncio.to_thread(_beat, data_dir)
    except OSError as exc:
        log.warning("could not write the heartbeat file: %s", exc)


def _beat(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    write_heartbeat(data_dir)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error (the log filter masks the token) and apologise to a private chat."""
    error = context.error
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
        apology = svc.message("tg_error")
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


def run(
    settings: Settings,
    brain: Brain,
    storage: Store | None = None,
    *,
    extensions: Sequence[Extension] = (),
) -> None:
    """Run until SIGINT/SIGTERM. Raises InvalidToken when Telegram refuses the token."""
    application = build_application(settings, brain, storage, extensions=extensions)
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
    if settings.webhook_url:
        application.run_webhook(**webhook_options(settings))
    else:
        application.run_polling()


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Where the webhook server listens, the URL Telegram is told, and the secret it must
    send: every request without it is refused (403) by PTB's webhook server."""
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": settings.webhook_path,
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret,
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


async def _with_retries(start: Callable[[], Awaitable[T]]) -> T:
    """``start()``, retried with back-off while Telegram cannot be reached (never for a
    refused token: InvalidToken goes straight up)."""
    for attempt in range(BOOTSTRAP_ATTEMPTS):
        try:
            return await start()
        except InvalidToken:
            raise
        except NetworkError as exc:
            if attempt == BOOTSTRAP_ATTEMPTS - 1:
                raise
            wait = 2**attempt
            log.warning("cannot reach Telegram (%s); retrying in %d s", exc.message, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")
