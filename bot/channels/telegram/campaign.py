"""Campaign features in Telegram: quiz polls, the fact of the day, and the admin commands.

:func:`campaign` is an extension for :func:`bot.channels.telegram.app.build_application`
(``asem-bot run`` adds it)::

    build_application(settings, brain, storage, extensions=[campaign])

What it adds:

* ``/quiz`` (private chats and groups, anyone): a Telegram quiz poll made by
  :class:`bot.campaign.quiz.QuizMaker`. A chat gets every question once before any repeats
  (``quiz_seen`` in storage). The polls are *not* anonymous, so each answer reaches the bot as
  a ``poll_answer`` and counts in the chat's score (``/score``); as in any such poll, members
  of a group can see who chose what. Quiz texts are plain: no parse mode anywhere in a poll.
* ``/subscribe`` and ``/unsubscribe`` (private: anyone; groups: the group's admins): the fact
  of the day (:func:`bot.campaign.daily.fact_for`), posted by a JobQueue job at
  ASEM_DAILY_TIME in ASEM_TIMEZONE to every subscribed chat and to ASEM_CHANNEL_ID, with a
  button that opens the fact in the bot.
* ``/stats`` and ``/reload`` for the bot's admins (ASEM_ADMIN_IDS), listed only in their
  command menu; anyone else gets a polite refusal.
* A daily purge of old log rows (ASEM_LOG_RETENTION_DAYS), and forgetting a chat whose
  ``my_chat_member`` update says the bot was blocked, removed or left.

The fact of the day goes to a chat at most once a day, also across restarts: each post is
claimed in storage before it is sent (:meth:`bot.storage.Storage.claim_daily_post`). A
temporary failure (network, 5xx, a 429 the rate limiter gave up on) releases the claim and a
retry is scheduled; a timeout keeps it, because Telegram may have delivered the post (the
delivery policy of :func:`bot.channels.telegram.runtime.deliver`); a chat that blocked or
removed the bot, or was deleted, is unsubscribed and forgotten. A bot that starts after the
day's time posts what is still due ("catch-up"). Runs hold a lock, so a catch-up, a retry
and the daily run never interleave.

Tests inject the time: ``functools.partial(campaign, clock=...)``; a job fired with
``await job.run(application)`` then posts for the clock's day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram import (
    Bot,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    Poll,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackContext,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    PollAnswerHandler,
    filters,
)

from bot.brain import Brain, check_brain
from bot.campaign.daily import DAILY_MESSAGE_KEYS, DailyFact, fact_for
from bot.campaign.links import LinkError, deep_link
from bot.campaign.quiz import QUIZ_MESSAGE_KEYS, QuizMaker, QuizQuestion
from bot.campaign.report import format_stats
from bot.channels.telegram.handlers import chat_language, is_chat_admin
from bot.channels.telegram.runtime import (
    Command,
    Services,
    deliver,
    is_group,
    send_text,
    services,
)
from bot.knowledge import KnowledgeError, default_knowledge_dir, load_knowledge
from bot.limits import MAX_TEXT, telegram_length
from bot.reply import esc, html_to_plain, truncate_html

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

CAMPAIGN = "asem.campaign"  # the key of CampaignState in application.bot_data

CAMPAIGN_MESSAGE_KEYS: frozenset[str] = frozenset(
    {
        "tg_cmd_quiz",
        "tg_cmd_score",
        "tg_cmd_subscribe",
        "tg_cmd_unsubscribe",
        "tg_cmd_stats",
        "tg_cmd_reload",
        "button_learn_more",
        "button_open_in_bot",
        "tg_score",
        "tg_score_none",
        "tg_subscribed",
        "tg_already_subscribed",
        "tg_unsubscribed",
        "tg_not_subscribed",
        "tg_only_admins",
        "tg_settings_unavailable",
        "tg_bot_admins_only",
        "tg_stats",
        "tg_stats_unavailable",
        "tg_reload_ok",
        "tg_reload_failed",
        "tg_more",
    }
)
"""Every message this module uses; ``asem-bot validate`` and ``/reload`` insist on them."""

# every message key `asem-bot validate` and /reload require beyond the answers' own
RELOAD_MESSAGE_KEYS = CAMPAIGN_MESSAGE_KEYS | QUIZ_MESSAGE_KEYS | DAILY_MESSAGE_KEYS

COMMANDS: tuple[Command, ...] = (
    Command("quiz", "tg_cmd_quiz"),
    Command("score", "tg_cmd_score"),
    Command("subscribe", "tg_cmd_subscribe"),
    Command("unsubscribe", "tg_cmd_unsubscribe"),
    Command("stats", "tg_cmd_stats", ("admins",)),
    Command("reload", "tg_cmd_reload", ("admins",)),
)

DAILY_JOB = "daily fact"
RETRY_JOB = "daily fact retry"
CATCH_UP_JOB = "daily fact catch-up"
PURGE_JOB = "purge old records"
PURGE_AT = dt.time(3, 30)  # local time: a quiet hour, away from the daily post
RETRY_DELAYS: tuple[float, ...] = (60.0, 300.0, 900.0, 3600.0)
"""Seconds before each retry of the posts that failed for a temporary reason."""
CATCH_UP_AFTER = 5.0  # seconds after start: let polling begin first
POSTS_AT_ONCE = 8  # concurrent sends in one daily run; the rate limiter sets the pace

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Outcome(enum.Enum):
    """What became of one chat's daily post."""

    POSTED = "posted"
    UNSURE = "timed out"  # Telegram may have delivered it: the claim is kept
    ALREADY = "already claimed"  # posted before (or being posted) today
    RETRY = "failed for now"  # the claim was released: a retry may post
    GONE = "chat gone"  # blocked, removed or deleted: forgotten
    FAILED = "failed"  # a permanent failure: the claim is kept


@dataclass
class CampaignState:
    """What the campaign handlers and jobs share, in ``application.bot_data[CAMPAIGN]``."""

    clock: Clock = utc_now
    rng: random.Random = field(default_factory=random.Random)
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    catch_up_after: float = CATCH_UP_AFTER
    posting: asyncio.Lock = field(default_factory=asyncio.Lock)
    reloading: asyncio.Lock = field(default_factory=asyncio.Lock)
    channel_chat_id: int | None = None  # ASEM_CHANNEL_ID, resolved
    _makers: dict[str, QuizMaker] = field(default_factory=dict)
    _makers_of: Brain | None = None

    def quiz_maker(self, brain: Brain, lang: str) -> QuizMaker:
        """The quiz of ``brain`` in ``lang``, built on first use (call from a worker thread:
        building one makes every question once)."""
        if self._makers_of is not brain:  # a reload, or a test swapped the brain
            self._makers, self._makers_of = {}, brain
        maker = self._makers.get(lang)
        if maker is None:
            maker = self._makers[lang] = QuizMaker(brain.kb, lang)
        return maker

    def use(self, brain: Brain, maker: QuizMaker) -> None:
        """The quiz of a brain that was just swapped in."""
        self._makers, self._makers_of = {maker.lang: maker}, brain


def campaign_state(context: ContextTypes.DEFAULT_TYPE | Application) -> CampaignState:
    return context.bot_data[CAMPAIGN]


def _storage(svc: Services) -> Storage | None:
    return cast("Storage | None", svc.storage)


# -- the extension --------------------------------------------------------------------------------


def campaign(
    application: Application,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    catch_up_after: float = CATCH_UP_AFTER,
) -> None:
    """Register the quiz, subscriptions, admin commands and the daily jobs on ``application``."""
    application.bot_data[CAMPAIGN] = CampaignState(
        clock=clock or utc_now,
        rng=rng or random.Random(),
        retry_delays=tuple(retry_delays),
        catch_up_after=catch_up_after,
    )
    new_message = filters.UpdateType.MESSAGE  # not edits, not channel posts
    application.add_handlers(
        [
            CommandHandler("quiz", quiz, new_message),
            CommandHandler("score", score, new_message),
            CommandHandler("subscribe", subscribe, new_message),
            CommandHandler("unsubscribe", unsubscribe, new_message),
            CommandHandler("stats", stats, new_message),
            CommandHandler("reload", reload, new_message),
            PollAnswerHandler(poll_answer),
            ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
    services(application).commands.extend(COMMANDS)
    schedule_jobs(application)


def schedule_jobs(application: Application) -> None:
    """The daily post, the start-up catch-up and the daily purge. Added before the
    Application starts, they begin with it (the catch-up even if the start was slow)."""
    job_queue = application.job_queue
    if job_queue is None:
        log.warning("no JobQueue: the fact of the day will not be posted")
        return
    settings = services(application).settings
    zone = settings.timezone
    # A busy or suspended loop must not skip a day: late runs still run, once.
    late_is_fine = {"misfire_grace_time": None, "coalesce": True}
    job_queue.run_daily(
        daily_fact_job,
        settings.daily_time.replace(tzinfo=zone),
        name=DAILY_JOB,
        job_kwargs=late_is_fine,
    )
    job_queue.run_once(
        catch_up_job,
        campaign_state(application).catch_up_after,
        name=CATCH_UP_JOB,
        job_kwargs=late_is_fine,
    )
    job_queue.run_daily(
        purge_job, PURGE_AT.replace(tzinfo=zone), name=PURGE_JOB, job_kwargs=late_is_fine
    )


# -- small helpers --------------------------------------------------------------------------------


async def _reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, **values: object
) -> None:
    """Send the message ``key`` with ``values`` escaped into it, quoting in groups."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    text = svc.message(key, await chat_language(update, svc))
    if values:
        text = text.format(**{name: esc(value) for name, value in values.items()})
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


# -- the quiz -------------------------------------------------------------------------------------


async def quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz: a quiz poll; the chat gets every question once before any repeats."""
    svc, state = services(context), campaign_state(context)
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    lang = await chat_language(update, svc)
    brain = svc.brain
    question, new_round = await asyncio.to_thread(_pick, svc, state, brain, chat.id, lang)
    markup = learn_more(svc, question, lang, context.bot.username)
    reply_to = message.message_id if is_group(chat) else None
    sent = await deliver(lambda: send_quiz(context.bot, chat.id, question, markup, reply_to))
    if sent is not None and sent.poll is not None:
        await asyncio.to_thread(_remember_quiz, svc, chat.id, question, new_round, sent.poll.id)


def _pick(
    svc: Services, state: CampaignState, brain: Brain, chat_id: int, lang: str
) -> tuple[QuizQuestion, bool]:
    """A question this chat has not had in this round (any question if storage fails)."""
    seen: set[str] = set()
    storage = _storage(svc)
    if storage is not None:
        try:
            seen = storage.quiz_seen(chat_id)
        except Exception:
            log.exception("could not read which quiz questions a chat has had")
    return state.quiz_maker(brain, lang).pick(seen, state.rng)


def learn_more(
    svc: Services, question: QuizQuestion, lang: str, username: str | None
) -> InlineKeyboardMarkup | None:
    """A "Learn more" button that opens the question's topic in the bot."""
    if not question.deep_link or not username:
        return None
    try:
        url = deep_link(username, question.deep_link)
    except LinkError:
        return None
    button = InlineKeyboardButton(svc.message("button_learn_more", lang), url=url)
    return InlineKeyboardMarkup([[button]])


async def send_quiz(
    bot: Bot,
    chat_id: int,
    question: QuizQuestion,
    markup: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> Message:
    """sendPoll as a quiz, in plain text: the question, options and explanation carry no
    markup, so every parse mode is switched off (Defaults would make them HTML)."""
    return await bot.send_poll(
        chat_id,
        question.question,
        [InputPollOption(option, text_parse_mode=None) for option in question.options],
        is_anonymous=False,  # so that answers reach the bot and count in /score
        type=Poll.QUIZ,
        correct_option_ids=[question.correct],
        explanation=question.explanation or None,
        explanation_parse_mode=None,
        question_parse_mode=None,
        reply_markup=markup,
        reply_parameters=ReplyParameters(reply_to) if reply_to is not None else None,
    )


def _remember_quiz(
    svc: Services, chat_id: int, question: QuizQuestion, new_round: bool, poll_id: str
) -> None:
    """Record the poll for scoring and mark the question as had (a new round first)."""
    storage = _storage(svc)
    if storage is None:
        return
    try:
        storage.record_poll(poll_id, chat_id, question.key, question.correct)
        if new_round:
            storage.reset_quiz_seen(chat_id)
        storage.mark_quiz_seen(chat_id, question.key)
    except Exception:
        log.exception("could not record a quiz poll")


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An answer to one of the bot's quiz polls: it counts in that chat's score."""
    answer = update.poll_answer
    storage = _storage(services(context))
    if answer is None or storage is None:
        return
    right = await asyncio.to_thread(
        storage.record_poll_answer, answer.poll_id, list(answer.option_ids)
    )
    if right is None:
        log.debug("an answer to a poll the bot does not know (purged, or not a quiz)")


async def score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/score: how many quiz answers this chat gave, and how many were right."""
    chat = update.effective_chat
    storage = _storage(services(context))
    if chat is None:
        return
    result = await asyncio.to_thread(storage.chat_score, chat.id) if storage else None
    if result is None or not result.answered:
        await _reply(update, context, "tg_score_none")
        return
    percent = round(100 * result.correct / result.answered)
    await _reply(
        update, context, "tg_score", count=result.correct, total=result.answered, percent=percent
    )


# -- subscriptions --------------------------------------------------------------------------------


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe: the fact of the day in this chat (in a group, an admin decides)."""
    await _subscription(update, context, True)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe: no more daily facts in this chat (in a group, an admin decides)."""
    await _subscription(update, context, False)


_SUBSCRIPTION_REPLIES = {
    (True, True): "tg_subscribed",
    (True, False): "tg_already_subscribed",
    (False, True): "tg_unsubscribed",
    (False, False): "tg_not_subscribed",
}


async def _subscription(update: Update, context: ContextTypes.DEFAULT_TYPE, on: bool) -> None:
    """Switch the daily fact on or off for the chat and say so."""
    svc = services(context)
    chat = update.effective_chat
    if chat is None:
        return
    if is_group(chat) and not await is_chat_admin(update, context):
        await _reply(update, context, "tg_only_admins")
        return
    changed = await asyncio.to_thread(_store_subscription, svc, chat.id, chat.type, on)
    if changed is None:
        await _reply(update, context, "tg_settings_unavailable")
        return
    settings = svc.settings
    await _reply(
        update,
        context,
        _SUBSCRIPTION_REPLIES[(on, changed)],
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


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked, removed from or left a chat: forget the chat."""
    change = update.my_chat_member
    if change is None or change.new_chat_member.status not in (ChatMember.BANNED, ChatMember.LEFT):
        return
    await asyncio.to_thread(_forget_chat, services(context), change.chat.id)


def _forget_chat(svc: Services, chat_id: int) -> None:
    storage = _storage(svc)
    if storage is None:
        return
    try:
        storage.forget_chat(chat_id)
    except Exception:
        log.exception("could not forget a chat that blocked or removed the bot")
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
    """At start: post today's fact where it is still due (the bot was down at its time)."""
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
    svc, state = services(application), campaign_state(application)
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
    application: Application, svc: Services, state: CampaignState
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
    try:
        await application.bot.send_message(chat_id, truncate_html(fact.text), reply_markup=markup)
    except TimedOut:
        log.warning("the daily post timed out; not retried, as Telegram may have delivered it")
        return Outcome.UNSURE
    except ChatMigrated as exc:  # a group became a supergroup: follow it
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
        return Outcome.FAILED  # the same post would be refused again: keep the claim
    except NetworkError as exc:
        log.warning("the daily post failed (%s); will try again", exc.message)
    else:
        return Outcome.POSTED
    await asyncio.to_thread(_release, storage, day, chat_id)
    return Outcome.RETRY


def _open_in_bot(
    svc: Services, fact: DailyFact, lang: str, username: str | None
) -> InlineKeyboardMarkup | None:
    if not fact.deep_link or not username:
        return None
    try:
        url = deep_link(username, fact.deep_link)
    except LinkError:
        return None
    button = InlineKeyboardButton(svc.message("button_open_in_bot", lang), url=url)
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
    await asyncio.to_thread(_forget_chat, svc, chat_id)
    return Outcome.GONE


def _release(storage: Storage, day: dt.date, chat_id: int) -> None:
    try:
        storage.release_daily_post(day, chat_id)
    except Exception:
        log.exception("could not release the claim on a daily post")


def _migrate(svc: Services, storage: Storage, old_id: int, new_id: int) -> None:
    try:
        storage.forget_chat(old_id)
        storage.set_subscribed(new_id, "supergroup", True)
    except Exception:
        log.exception("could not move a subscription to the chat's new id")
    svc.forget_chat_settings(old_id)


def _schedule_retry(
    application: Application, state: CampaignState, day: dt.date, attempt: int
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


async def purge_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Delete question-log rows, quiz polls and daily-post records past the retention."""
    svc = services(context)
    storage = _storage(svc)
    if storage is None:
        return
    try:
        await asyncio.to_thread(storage.purge, svc.settings.log_retention_days)
    except Exception:
        log.exception("could not purge old records")


# -- admin commands -------------------------------------------------------------------------------


async def _bot_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender is one of the bot's admins; if not, say so politely."""
    user = update.effective_user
    if services(context).is_admin_user(user.id if user else None):
        return True
    await _reply(update, context, "tg_bot_admins_only")
    return False


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [days]: what people asked, as a table, for the bot's admins."""
    if not await _bot_admin(update, context):
        return
    storage = _storage(services(context))
    argument = context.args[0] if context.args else ""
    days = int(argument) if argument.isascii() and argument.isdigit() and argument != "0" else None
    result = None
    if storage is not None:
        try:
            result = await asyncio.to_thread(storage.stats, days=days)
        except Exception:
            log.exception("could not read the question log for /stats")
    if result is None:
        await _reply(update, context, "tg_stats_unavailable")
        return
    await _send_pre(update, context, "tg_stats", format_stats(result).splitlines())


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: re-read the knowledge folder and swap it in only if it is valid."""
    if not await _bot_admin(update, context):
        return
    svc, state = services(context), campaign_state(context)
    async with state.reloading:
        loaded = await asyncio.to_thread(load_checked, svc.brain.today)
        if isinstance(loaded, Reloaded):
            svc.brain = loaded.brain  # reply caches see the new brain and clear themselves
            state.use(loaded.brain, loaded.quiz)
    if isinstance(loaded, Reloaded):
        log.info("knowledge base reloaded: %s", loaded.brain.kb.summary())
        await _reply(update, context, "tg_reload_ok", text=loaded.brain.kb.summary())
        return
    log.warning("/reload refused a knowledge base with %d problem(s)", len(loaded))
    await _send_pre(update, context, "tg_reload_failed", loaded, count=len(loaded))


async def _send_pre(
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
    more = svc.message("tg_more", lang)
    text = fill_pre(svc.message(key, lang), lines, lambda n: more.format(count=n), **values)
    await send_text(message, text, quote=is_group(update.effective_chat))


@dataclass(frozen=True)
class Reloaded:
    brain: Brain
    quiz: QuizMaker


def load_checked(today: Callable[[], dt.date] = dt.date.today) -> Reloaded | list[str]:
    """Read the knowledge folder (ASEM_KNOWLEDGE_DIR or the installed one; never the cache),
    check it as ``asem-bot validate`` does, and build a brain and quiz from it. Returns them,
    or the problems as ``file:line: problem`` lines. Slow: call from a worker thread."""
    try:
        kb = load_knowledge(default_knowledge_dir())
    except KnowledgeError as exc:
        return [str(problem) for problem in exc.problems]
    problems = check_brain(kb, RELOAD_MESSAGE_KEYS)
    if problems:
        return [str(problem) for problem in problems]
    return Reloaded(Brain(kb, today=today), QuizMaker(kb))
