"""The quiz in Telegram: ``/quiz`` sends a quiz poll, ``/score`` shows the chat's score.

A chat gets every question once before any repeats (``quiz_seen`` in storage); the questions
are made by :class:`bot.campaign.quiz.QuizMaker`. The polls are *not* anonymous, so each
answer reaches the bot as a ``poll_answer`` and counts in the chat's score; as in any such
poll, members of a group can see who chose what. Quiz texts are plain: no parse mode anywhere
in a poll.
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
    ReplyParameters,
    Update,
)
from telegram.ext import Application, ContextTypes, PollAnswerHandler

from bot.brain import Brain
from bot.campaign.links import LinkError, deep_link
from bot.campaign.quiz import QuizMaker, QuizQuestion
from bot.channels.telegram.runtime import (
    CampaignOptions,
    Services,
    chat_language,
    deliver,
    is_group,
    say,
    services,
)
from bot.declare import command, msg

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

QUIZ = "asem.quiz"  # the key of QuizState in application.bot_data

LEARN_MORE = msg("button_learn_more")
SCORE = msg("tg_score")
NO_SCORE = msg("tg_score_none")


@dataclass
class QuizState:
    """The quiz's chance and the quiz makers of the current brain, one per language."""

    rng: random.Random = field(default_factory=random.Random)
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
        """The quiz of a brain that was just swapped in (built beforehand by /reload)."""
        self._makers, self._makers_of = {maker.lang: maker}, brain


def quiz_state(context: ContextTypes.DEFAULT_TYPE | Application) -> QuizState:
    return context.bot_data[QUIZ]


def setup(application: Application, options: CampaignOptions) -> None:
    """The quiz's state, and the handler that scores answers (its commands are declared)."""
    application.bot_data[QUIZ] = QuizState(rng=options.rng or random.Random())
    application.add_handler(PollAnswerHandler(poll_answer))


def _storage(svc: Services) -> Storage | None:
    return cast("Storage | None", svc.storage)


@command("quiz", description=msg("tg_cmd_quiz"))
async def quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz: a quiz poll; the chat gets every question once before any repeats."""
    svc, state = services(context), quiz_state(context)
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
