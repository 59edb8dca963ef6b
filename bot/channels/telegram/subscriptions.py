"""Subscriptions and the fact of the day in Telegram.

``/subscribe`` and ``/unsubscribe`` (private: anyone; groups: the group's admins) switch the fact
of the day (:func:`bot.campaign.daily.fact_for`) on or off for a chat. A JobQueue job posts it at
ASEM_DAILY_TIME in ASEM_TIMEZONE to every subscribed chat and to ASEM_CHANNEL_ID, with a button
that opens the fact in the bot.

The fact of the day goes to a chat at most once a day, also across restarts: each post is
claimed in storage before it is sent (:meth:`bot.storage.Storage.claim_daily_post`), and marked
"sending" just before its request leaves (after the rate limiter's wait), so after a crash the
start-up catch-up tells a claim that never reached Telegram (released and sent) from one that
may have (reported in /stats as unsure, not sent twice). A
temporary failure (network, 5xx, a 429 the rate limiter gave up on) releases the claim and a
retry is scheduled; a timeout keeps it, because Telegram may have delivered the post (the
delivery policy of :func:`bot.channels.telegram.runtime.deliver`); a chat that blocked or
removed the bot, or was deleted, is unsubscribed and forgotten. A bot that starts after the
day's time posts what is still due ("catch-up"). Runs hold a lock, so a catch-up, a retry
and the daily run never interleave.

Tests inject the time (``CampaignOptions(clock=...)``); a job fired with
``await job.run(application)`` then posts for the clock's day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, CallbackContext, ContextTypes

from bot.campaign.daily import DailyFact, fact_for
from bot.campaign.links import LinkError, deep_link
from bot.channels.telegram.handlers import forget_chat, is_chat_admin, move_chat
from bot.channels.telegram.runtime import (
    BEFORE_SEND,
    CampaignOptions,
    Clock,
    Services,
    is_group,
    say,
    services,
    utc_now,
)
from bot.declare import command, msg
from bot.reply import truncate_html

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

DAILY = "asem.daily"  # the key of DailyState in application.bot_data

OPEN_IN_BOT = msg("button_open_in_bot")
ONLY_GROUP_ADMINS = msg("tg_only_admins")
SETTINGS_UNAVAILABLE = msg("tg_settings_unavailable")
SUBSCRIPTION_REPLIES = {
    (True, True): msg("tg_subscribed"),
    (True, False): msg("tg_already_subscribed"),
    (False, True): msg("tg_unsubscribed"),
    (False, False): msg("tg_not_subscribed"),
}
"""(subscribe?, changed?) -> what to say."""

DAILY_JOB = "daily fact"
RETRY_JOB = "daily fact retry"
CATCH_UP_JOB = "daily fact catch-up"
RETRY_DELAYS: tuple[float, ...] = (60.0, 300.0, 900.0, 3600.0)
"""Seconds before each retry of the posts that failed for a temporary reason."""
CATCH_UP_AFTER = 5.0  # seconds after start: let polling begin first
POSTS_AT_ONCE = 8  # concurrent sends in one daily run; the rate limiter sets the pace


class Outcome(enum.Enum):
    """What became of one chat's daily post."""

    POSTED = "posted"
    UNSURE = "timed out"  # Telegram may have delivered it: the claim is kept
    ALREADY = "already claimed"  # posted before (or being posted) today
    RETRY = "failed for now"  # the claim was released: a retry may post
    GONE = "chat gone"  # blocked, removed or deleted: forgotten
    FAILED = "failed"  # a permanent failure: the claim is kept


@dataclass
class DailyState:
    """What the daily jobs share, in ``application.bot_data[DAILY]``."""

    clock: Clock = utc_now
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    catch_up_after: float = CATCH_UP_AFTER
    posting: asyncio.Lock = field(default_factory=asyncio.Lock)
    channel_chat_id: int | None = None  # ASEM_CHANNEL_ID, resolved


def daily_state(context: ContextTypes.DEFAULT_TYPE | Application) -> DailyState:
    return context.bot_data[DAILY]


def _storage(svc: Services) -> Storage | None:
    return cast("Storage | None", svc.storage)


def setup(application: Application, options: CampaignOptions) -> None:
    """The daily jobs and their state (the commands are declared below)."""
    state = DailyState(clock=options.clock or utc_now)
    if options.retry_delays is not None:
        state.retry_delays = tuple(options.retry_delays)
    if options.catch_up_after is not None:
        state.catch_up_after = options.catch_up_after
    application.bot_data[DAILY] = state
    schedule_jobs(application)


def schedule_jobs(application: Application) -> None:
    """The daily post and the start-up catch-up. Added before the Application starts, they
    begin with it (the catch-up even if the start was slow)."""
    job_queue = application.job_queue
    if job_queue is None:
        log.warning("no JobQueue: the fact of the day will not be posted")
        return
    settings = services(application).settings
    # A busy or suspended loop must not skip a day: late runs still run, once.
    late_is_fine = {"misfire_grace_time": None, "coalesce": True}
    job_queue.run_daily(
        daily_fact_job,
        settings.daily_time.replace(tzinfo=settings.timezone),
        name=DAILY_JOB,
        job_kwargs=late_is_fine,
    )
    job_queue.run_once(
        catch_up_job,
        daily_state(application).catch_up_after,
        name=CATCH_UP_JOB,
        job_kwargs=late_is_fine,
    )


# -- subscriptions --------------------------------------------------------------------------------


@command("subscribe", description=msg("tg_cmd_subscribe"))
async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe: the fact of the day in this chat (in a group, an admin decides)."""
    await _subscription(update, context, True)


@command("unsubscribe", description=msg("tg_cmd_unsubscribe"))
async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe: no more daily facts in this chat (in a group, an admin decides)."""
    await _subscription(update, context, False)


async def _subscription(update: Update, context: ContextTypes.DEFAULT_TYPE, on: bool) -> None:
    """Switch the daily fact on or off for the chat and say so."""
    svc = services(context)
    chat = update.effective_chat
    if chat is None:
        return
    if is_group(chat) and not await is_chat_admin(update, context):
        await say(update, context, ONLY_GROUP_ADMINS)
        return
    changed = await asyncio.to_thread(_store_subscription, svc, chat.id, chat.type, on)
    if changed is None:
        await say(update, context, SETTINGS_UNAVAILABLE)
        return
    settings = svc.settings
    await say(
        update,
        context,
        SUBSCRIPTION_REPLIES[(on, changed)],
        time=settings.daily_time.strftime("%H:%M"),
        zone=getattr(settings.timezone, "key", str(settings.timezone)),
    )


def _store_subscription(svc: Services, chat_id: int, chat_type: str, on: bool) -> bool | None:
    """Whether that changed anything; None when storage is missing or failed."""
    storage = _storage(svc)
    if storage is None:
        return None
    try:
        return storage.set_subscribed(chat_id, chat_type, on)
    except Exception:
        log.exception("could not store a subscription")
        return None
    finally:
        svc.forget_chat_settings(chat_id)


# -- the fact of the day --------------------------------------------------------------------------


async def daily_fact_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The daily run at ASEM_DAILY_TIME, and its retries (``job.data`` is the retry's day
    and attempt)."""
    data = context.job.data if context.job is not None else None
    day, attempt = data if isinstance(data, tuple) else (None, 0)
    await post_daily_fact(context.application, day=day, attempt=attempt)


async def catch_up_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """At start: settle the claims a crash left behind, then post today's fact where it is
    still due (the bot was down at its time, or the crash came before the post went out)."""
    storage = _storage(services(context.application))
    if storage is not None:
        try:
            await asyncio.to_thread(storage.recover_daily_posts)
        except Exception:
            log.exception("could not settle the daily posts of the last run")
    await post_daily_fact(context.application, due_only=True)


async def post_daily_fact(
    application: Application,
    *,
    due_only: bool = False,
    day: dt.date | None = None,
    attempt: int = 0,
) -> dict[Outcome, list[int]]:
    """Post the day's fact to every subscribed chat and the channel that has not had it.

    ``due_only``: only once the day's posting time has come (the catch-up). ``day``: a
    retry for that day, dropped when the day is over. Returns the chats by outcome.
    """
    svc, state = services(application), daily_state(application)
    storage = _storage(svc)
    outcomes: dict[Outcome, list[int]] = {outcome: [] for outcome in Outcome}
    if storage is None:
        log.warning("no storage: the fact of the day is not posted")
        return outcomes
    now = state.clock().astimezone(svc.settings.timezone)
    if due_only and now.time() < svc.settings.daily_time:
        return outcomes
    if day is not None and day != now.date():
        log.warning("gave up retrying the fact of %s: the day is over", day)
        return outcomes
    today = now.date()
    async with state.posting:
        try:
            targets = await asyncio.to_thread(_subscribers, svc, storage)
        except Exception:
            log.exception("could not read the subscribed chats")
            targets = []
        channel, channel_failed = await _channel(application, svc, state)
        if channel is not None:
            targets.append((channel, "en"))
        brain = svc.brain
        facts: dict[str, DailyFact] = {}
        for lang in sorted({lang for _, lang in targets}):
            facts[lang] = await asyncio.to_thread(fact_for, brain, today, lang)
        slots = asyncio.Semaphore(POSTS_AT_ONCE)

        async def post(chat_id: int, lang: str) -> None:
            async with slots:
                fact = facts[lang]
                result = await _post(application, storage, chat_id, today, fact, lang, channel)
                outcomes[result].append(chat_id)

        await asyncio.gather(*(post(chat_id, lang) for chat_id, lang in targets))
    if outcomes[Outcome.POSTED] or outcomes[Outcome.RETRY] or outcomes[Outcome.GONE]:
        log.info(
            "fact of %s: %s",
            today,
            ", ".join(f"{len(chats)} {o.value}" for o, chats in outcomes.items() if chats),
        )
    if outcomes[Outcome.RETRY] or channel_failed:
        _schedule_retry(application, state, today, attempt)
    return outcomes


def _subscribers(svc: Services, storage: Storage) -> list[tuple[int, str]]:
    """Each subscribed chat with the language it reads."""
    languages = svc.languages
    targets = []
    for chat_id in storage.subscribed_chats():
        lang = storage.chat(chat_id).lang
        targets.append((chat_id, lang if lang in languages else "en"))
    return targets


async def _channel(
    application: Application, svc: Services, state: DailyState
) -> tuple[int | None, bool]:
    """ASEM_CHANNEL_ID as a chat id (an @channelname is looked up once), and whether
    looking it up failed for a reason worth a retry."""
    wanted = svc.settings.channel_id
    if wanted is None or isinstance(wanted, int):
        return wanted, False
    if state.channel_chat_id is None:
        try:
            state.channel_chat_id = (await application.bot.get_chat(wanted)).id
        except (NetworkError, RetryAfter) as exc:
            if not isinstance(exc, BadRequest):
                log.warning("cannot look up ASEM_CHANNEL_ID=%s now: %s", wanted, exc.message)
                return None, True
            log.error("cannot find the channel ASEM_CHANNEL_ID=%s: %s", wanted, exc.message)
        except TelegramError as exc:
            log.error("cannot find the channel ASEM_CHANNEL_ID=%s: %s", wanted, exc.message)
    return state.channel_chat_id, False


async def _post(
    application: Application,
    storage: Storage,
    chat_id: int,
    day: dt.date,
    fact: DailyFact,
    lang: str,
    channel: int | None,
) -> Outcome:
    """Claim the chat's post for ``day``, send it, and deal with what Telegram says."""
    try:
        if not await asyncio.to_thread(storage.claim_daily_post, day, chat_id):
            return Outcome.ALREADY
    except Exception:
        log.exception("could not claim the daily post of a chat")
        return Outcome.FAILED
    svc = services(application)
    markup = _open_in_bot(svc, fact, lang, application.bot.username)

    async def leaving() -> None:  # from here on Telegram may have it (see recover_daily_posts)
        await asyncio.to_thread(_record, storage.daily_post_sending, day, chat_id)

    if application.bot.rate_limiter is None:
        await leaving()
    token = BEFORE_SEND.set(leaving)  # the rate limiter calls it after its wait
    try:
        await application.bot.send_message(chat_id, truncate_html(fact.text), reply_markup=markup)
    except TimedOut:
        log.warning("the daily post timed out; not retried, as Telegram may have delivered it")
        await asyncio.to_thread(_record, storage.daily_post_done, day, chat_id, sure=False)
        return Outcome.UNSURE
    except ChatMigrated as exc:  # a group became a supergroup: follow it
        await asyncio.to_thread(_release, storage, day, chat_id)  # nothing went out
        await asyncio.to_thread(_migrate, svc, storage, chat_id, exc.new_chat_id)
        return Outcome.RETRY
    except RetryAfter as exc:
        log.warning("the daily post hit the flood limit: %s; will try again", exc.message)
    except Forbidden as exc:
        return await _gone(svc, storage, chat_id, day, chat_id == channel, exc.message)
    except BadRequest as exc:
        if "chat not found" in exc.message.lower():
            return await _gone(svc, storage, chat_id, day, chat_id == channel, exc.message)
        log.error("Telegram refused the daily post: %s", exc.message)
        await asyncio.to_thread(_record, storage.daily_post_refused, day, chat_id)
        return Outcome.FAILED  # the same post would be refused again: keep the claim
    except NetworkError as exc:
        log.warning("the daily post failed (%s); will try again", exc.message)
    else:
        await asyncio.to_thread(_record, storage.daily_post_done, day, chat_id)
        return Outcome.POSTED
    finally:
        BEFORE_SEND.reset(token)
    await asyncio.to_thread(_release, storage, day, chat_id)
    return Outcome.RETRY


def _record(mark: Callable[..., None], day: dt.date, chat_id: int, **how: bool) -> None:
    """A daily post's state; a failure is logged (the claim holds either way)."""
    try:
        mark(day, chat_id, **how)
    except Exception:
        log.exception("could not record the state of a daily post")


def _open_in_bot(
    svc: Services, fact: DailyFact, lang: str, username: str | None
) -> InlineKeyboardMarkup | None:
    if not fact.deep_link or not username:
        return None
    try:
        url = deep_link(username, fact.deep_link)
    except LinkError:
        return None
    button = InlineKeyboardButton(svc.message(OPEN_IN_BOT, lang), url=url)
    return InlineKeyboardMarkup([[button]])


async def _gone(
    svc: Services, storage: Storage, chat_id: int, day: dt.date, is_channel: bool, reason: str
) -> Outcome:
    """The chat blocked or removed the bot, or no longer exists."""
    if is_channel:
        log.error("cannot post to the channel ASEM_CHANNEL_ID: %s", reason)
        await asyncio.to_thread(_release, storage, day, chat_id)  # post once it is fixed
        return Outcome.FAILED
    log.info("a subscribed chat is gone (%s): unsubscribed", reason)
    await asyncio.to_thread(forget_chat, svc, chat_id)
    return Outcome.GONE


def _release(storage: Storage, day: dt.date, chat_id: int) -> None:
    try:
        storage.release_daily_post(day, chat_id)
    except Exception:
        log.exception("could not release the claim on a daily post")


def _migrate(svc: Services, storage: Storage, old_id: int, new_id: int) -> None:
    """The group became a supergroup: everything kept about it follows it (settings,
    quiz, score), not only the subscription."""
    move_chat(svc, old_id, new_id)


def _schedule_retry(
    application: Application, state: DailyState, day: dt.date, attempt: int
) -> None:
    if application.job_queue is None or attempt >= len(state.retry_delays):
        log.warning("the fact of %s could not be posted everywhere; no retries left", day)
        return
    application.job_queue.run_once(
        daily_fact_job,
        state.retry_delays[attempt],
        data=(day, attempt + 1),
        name=RETRY_JOB,
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )
