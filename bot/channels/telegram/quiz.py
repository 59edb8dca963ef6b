"""The quiz in Telegram: ``/quiz`` sends a quiz poll, ``/score`` shows the chat's score.

A chat gets every question once before any repeats (``quiz_seen`` in storage); the questions
are made by :class:`bot.campaign.quiz.QuizMaker`. The polls are *not* anonymous, so each
answer reaches the bot as a ``poll_answer`` and counts in the chat's score; as in any such
poll, members of a group can see who chose what. Quiz texts are plain: no parse mode anywhere
in a poll.

After an answer the bot reacts: right or wrong, the explanation, the chat's streak of right
answers and its score, and a "Next question" button. In a private chat each answer gets its
reaction; in a group the first answer to a poll gets one, which later answers edit (so many
members answering do not fill the group, nor spend its 20 messages a minute).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    Poll,
    PollAnswer,
    ReplyParameters,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    PollAnswerHandler,
)

from bot.brain import Brain
from bot.campaign.links import LinkError, deep_link
from bot.campaign.quiz import QuizMaker, QuizQuestion
from bot.channels.telegram.runtime import (
    CampaignOptions,
    ChatSettingsLike,
    Memo,
    Services,
    chat_language,
    deliver,
    is_group,
    language,
    say,
    services,
)
from bot.declare import command, msg
from bot.limits import MAX_CALLBACK_ANSWER
from bot.reply import esc

if TYPE_CHECKING:
    from bot.storage import PollAnswer as Scored
    from bot.storage import Storage

log = logging.getLogger(__name__)

QUIZ = "asem.quiz"  # the key of QuizState in application.bot_data

LEARN_MORE = msg("button_learn_more")
SCORE = msg("tg_score")
NO_SCORE = msg("tg_score_none")
RIGHT = msg("tg_quiz_right")
WRONG = msg("tg_quiz_wrong")
WRONG_ALONE = msg("tg_quiz_wrong_alone")
TALLY = msg("tg_quiz_tally")
STREAK = msg("tg_quiz_streak")
CHAT_SCORE = msg("tg_quiz_chat_score")
NEXT_QUESTION = msg("button_next_question")
NEXT_USED = msg("tg_quiz_next_used")
NEXT = "q:next"  # the callback data of the "Next question" button
SENT_REMEMBERED = 4096  # quiz questions (and group reactions) kept for the reactions
STREAK_FROM = 2  # a streak is mentioned from this many right answers in a row


@dataclass
class QuizState:
    """The quiz's chance and the quiz makers of the current brain, one per language."""

    rng: random.Random = field(default_factory=random.Random)
    _makers: dict[str, QuizMaker] = field(default_factory=dict)
    _makers_of: Brain | None = None
    # poll id -> the question as sent (its explanation names the options it was sent with)
    sent: Memo[str, QuizQuestion] = field(default_factory=lambda: Memo(SENT_REMEMBERED))
    # poll id -> a group's reaction message and its tally: [message id, answered, right]
    tallies: Memo[str, list[int]] = field(default_factory=lambda: Memo(SENT_REMEMBERED))
    # one answer of a poll at a time: its score and its group reaction stay in order
    locks: Memo[str, asyncio.Lock] = field(default_factory=lambda: Memo(SENT_REMEMBERED))
    # reaction messages whose "Next question" was pressed: (chat, message) -> True
    nexted: Memo[tuple[int, int], bool] = field(default_factory=lambda: Memo(SENT_REMEMBERED))

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
        """The quiz of a brain that was just swapped in (built beforehand by /reload)."""
        self._makers, self._makers_of = {maker.lang: maker}, brain


def quiz_state(context: ContextTypes.DEFAULT_TYPE | Application) -> QuizState:
    return context.bot_data[QUIZ]


def setup(application: Application, options: CampaignOptions) -> None:
    """The quiz's state, and the handler that scores answers (its commands are declared)."""
    application.bot_data[QUIZ] = QuizState(rng=options.rng or random.Random())
    application.add_handler(PollAnswerHandler(poll_answer))
    # before the core's catch-all for buttons (group 0), which would read it as stale
    application.add_handler(CallbackQueryHandler(next_question, pattern=f"^{NEXT}$"), group=-1)


def _storage(svc: Services) -> Storage | None:
    return cast("Storage | None", svc.storage)


@command("quiz", description=msg("tg_cmd_quiz"))
async def quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz: a quiz poll; the chat gets every question once before any repeats."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    lang = await chat_language(update, services(context))
    await ask_quiz(context, chat.id, lang, message.message_id if is_group(chat) else None)


async def ask_quiz(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, lang: str, reply_to: int | None = None
) -> None:
    """Send the chat a quiz poll it has not had in this round, and remember it."""
    svc, state = services(context), quiz_state(context)
    brain = svc.brain
    question, new_round = await asyncio.to_thread(_pick, svc, state, brain, chat_id, lang)
    markup = learn_more(svc, question, lang, context.bot.username)
    sent = await deliver(lambda: send_quiz(context.bot, chat_id, question, markup, reply_to))
    if sent is not None and sent.poll is not None:
        state.sent.put(sent.poll.id, question)
        await asyncio.to_thread(_remember_quiz, svc, chat_id, question, new_round, sent.poll.id)


def _pick(
    svc: Services, state: QuizState, brain: Brain, chat_id: int, lang: str
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
    button = InlineKeyboardButton(svc.message(LEARN_MORE, lang), url=url)
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
        # a validated option index (a quiz has at most 10 options); PTB types it as a Literal
        correct_option_ids=cast(Any, [question.correct]),
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
    """An answer to one of the bot's quiz polls: it counts in that chat's score, and the bot
    reacts (see the module doc)."""
    answer = update.poll_answer
    state = quiz_state(context)
    if answer is None:
        return
    lock = state.locks.get(answer.poll_id)
    if lock is None:
        lock = asyncio.Lock()
        state.locks.put(answer.poll_id, lock)
    async with lock:
        await _react(update, context, state, answer)


async def _react(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: QuizState, answer: PollAnswer
) -> None:
    svc = services(context)
    storage = _storage(svc)
    if storage is None:
        return
    scored, settings = await asyncio.to_thread(
        _score, svc, storage, answer.poll_id, list(answer.option_ids)
    )
    if scored is None:
        log.debug("an answer to a poll the bot does not know (purged, or not a quiz)")
        return
    if not answer.option_ids:
        return  # a retracted vote: nothing to react to
    lang = language(update, svc, settings)
    question = state.sent.get(answer.poll_id)
    if question is None:  # sent before a restart: the same question, options drawn anew
        question = await asyncio.to_thread(_remake, svc, state, scored.key, lang)
    if scored.chat_id > 0:
        text = _reaction(svc, lang, scored, question)
        markup = _next_button(svc, lang)
        await deliver(lambda: context.bot.send_message(scored.chat_id, text, reply_markup=markup))
    else:
        await _group_reaction(context, svc, state, lang, answer.poll_id, scored, question)


def _score(
    svc: Services, storage: Storage, poll_id: str, option_ids: list[int]
) -> tuple[Scored | None, ChatSettingsLike | None]:
    """The scored answer and its chat's settings, in one worker-thread hop."""
    scored = storage.score_poll_answer(poll_id, option_ids)
    settings = svc.read_chat_settings(scored.chat_id) if scored is not None else None
    return scored, settings


def _remake(svc: Services, state: QuizState, key: str, lang: str) -> QuizQuestion | None:
    try:
        return state.quiz_maker(svc.brain, lang).make(key, random.Random(0))
    except KeyError:
        return None  # the knowledge base changed: the question is gone


def _reaction(svc: Services, lang: str, scored: Scored, question: QuizQuestion | None) -> str:
    """Right or wrong with the explanation, the streak, the chat's score (HTML)."""
    if question is None:  # the question is gone from the knowledge base: the verdict alone
        first = svc.message(RIGHT if scored.right else WRONG_ALONE, lang).format(description="")
    else:
        verdict = svc.message(RIGHT if scored.right else WRONG, lang)
        first = verdict.format(text=esc(question.answer), description=esc(question.explanation))
    return "\n".join([first.strip(), *_score_lines(svc, lang, scored)])


def _score_lines(svc: Services, lang: str, scored: Scored) -> list[str]:
    score = scored.score
    lines = []
    if score.streak >= STREAK_FROM:
        lines.append(svc.message(STREAK, lang).format(count=score.streak))
    percent = round(100 * score.correct / score.answered) if score.answered else 0
    lines.append(
        svc.message(CHAT_SCORE, lang).format(
            count=score.correct, total=score.answered, percent=percent
        )
    )
    return lines


def _next_button(svc: Services, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(svc.message(NEXT_QUESTION, lang), callback_data=NEXT)]]
    )


async def _group_reaction(
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    state: QuizState,
    lang: str,
    poll_id: str,
    scored: Scored,
    question: QuizQuestion | None,
) -> None:
    """One reaction per poll in a group: sent at the first answer, edited at the next ones."""
    tally = state.tallies.get(poll_id)
    if tally is None:
        tally = [0, 0, 0]
        state.tallies.put(poll_id, tally)
    tally[1] += 1
    tally[2] += scored.right
    text = "\n".join(
        [
            svc.message(TALLY, lang)
            .format(
                count=tally[2],
                total=tally[1],
                text=esc(question.answer if question else "?"),
                description=esc(question.explanation if question else ""),
            )
            .strip(),
            *_score_lines(svc, lang, scored),
        ]
    )
    chat_id, bot = scored.chat_id, context.bot
    if tally[0]:
        used = state.nexted.get((chat_id, tally[0]))
        markup = None if used else _next_button(svc, lang)
        try:
            await deliver(
                lambda: bot.edit_message_text(text, chat_id, tally[0], reply_markup=markup)
            )
            return
        except TelegramError as exc:
            log.info("could not update a quiz reaction (%s); sending a new one", exc.message)
    sent = await deliver(
        lambda: bot.send_message(chat_id, text, reply_markup=_next_button(svc, lang))
    )
    if sent is not None:
        tally[0] = sent.message_id


async def next_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "Next question" button: a new quiz poll in that chat (once per reaction)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return
    svc, state = services(context), quiz_state(context)
    lang = await chat_language(update, svc)
    message = query.message
    if chat is None or message is None:
        await query.answer()
        raise ApplicationHandlerStop
    key = (chat.id, message.message_id)
    if state.nexted.get(key):
        await query.answer(svc.message(NEXT_USED, lang)[:MAX_CALLBACK_ANSWER])
        raise ApplicationHandlerStop
    state.nexted.put(key, True)
    await query.answer()
    try:
        await deliver(lambda: context.bot.edit_message_reply_markup(chat.id, message.message_id))
    except TelegramError as exc:  # the button stays; the question still comes
        log.info("could not take away a used Next button: %s", exc.message)
    await ask_quiz(context, chat.id, lang)
    raise ApplicationHandlerStop


@command("score", description=msg("tg_cmd_score"))
async def score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/score: how many quiz answers this chat gave, and how many were right."""
    chat = update.effective_chat
    storage = _storage(services(context))
    if chat is None:
        return
    result = await asyncio.to_thread(storage.chat_score, chat.id) if storage else None
    if result is None or not result.answered:
        await say(update, context, NO_SCORE)
        return
    percent = round(100 * result.correct / result.answered)
    await say(update, context, SCORE, count=result.correct, total=result.answered, percent=percent)
