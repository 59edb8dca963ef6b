"""Telegram's limits are declared once (bot.limits), without importing Telegram, and agree
with python-telegram-bot's constants."""

from __future__ import annotations

import subprocess
import sys

from telegram import constants as tg

from bot import limits


def test_limits_agree_with_python_telegram_bot() -> None:
    assert limits.MAX_TEXT == tg.MessageLimit.MAX_TEXT_LENGTH
    assert limits.MAX_CALLBACK_DATA_BYTES == tg.InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    assert limits.MAX_CALLBACK_ANSWER == tg.CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    assert limits.MAX_BUTTONS == tg.InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER
    assert limits.MAX_BUTTONS_PER_ROW == tg.InlineKeyboardMarkupLimit.BUTTONS_PER_ROW
    assert limits.MAX_POLL_QUESTION == tg.PollLimit.MAX_QUESTION_LENGTH
    assert limits.MAX_POLL_OPTION == tg.PollLimit.MAX_OPTION_LENGTH
    assert tg.PollLimit.MIN_OPTION_NUMBER <= limits.MIN_POLL_OPTIONS
    assert limits.MAX_POLL_OPTIONS <= tg.PollLimit.MAX_OPTION_NUMBER  # deliberately lower
    assert limits.MAX_POLL_EXPLANATION == tg.PollLimit.MAX_EXPLANATION_LENGTH
    assert limits.MAX_POLL_EXPLANATION_LINE_FEEDS == tg.PollLimit.MAX_EXPLANATION_LINE_FEEDS
    assert limits.MAX_INLINE_RESULTS == tg.InlineQueryLimit.RESULTS
    assert limits.MAX_INLINE_RESULT_ID_BYTES == tg.InlineQueryResultLimit.MAX_ID_LENGTH
    assert (
        limits.MAX_DEEP_LINK_PAYLOAD == tg.InlineQueryResultsButtonLimit.MAX_START_PARAMETER_LENGTH
    )
    assert limits.MAX_COMMAND_DESCRIPTION == tg.BotCommandLimit.MAX_DESCRIPTION
    assert limits.MAX_DESCRIPTION == tg.BotDescriptionLimit.MAX_DESCRIPTION_LENGTH
    assert limits.MAX_SHORT_DESCRIPTION == tg.BotDescriptionLimit.MAX_SHORT_DESCRIPTION_LENGTH
    assert limits.MESSAGES_PER_SECOND == tg.FloodLimit.MESSAGES_PER_SECOND
    assert limits.MESSAGES_PER_SECOND_PER_CHAT == tg.FloodLimit.MESSAGES_PER_SECOND_PER_CHAT
    assert limits.MESSAGES_PER_MINUTE_PER_GROUP == tg.FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP


def test_telegram_length_counts_utf16_code_units() -> None:
    assert limits.telegram_length("ASEM") == 4
    assert limits.telegram_length("🏆") == 2  # outside the Basic Multilingual Plane
    assert limits.telegram_length("កម្ពុជា") == 7


def test_the_limits_import_no_telegram() -> None:
    code = "import sys, bot.limits, bot.reply; print('telegram' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.stdout.strip() == "False", found.stderr
