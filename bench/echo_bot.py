"""A bare python-telegram-bot echo bot: the yardstick for bench/telegram_bench.py.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot \\
        .venv/bin/python bench/echo_bot.py [--concurrent N] [--rate-limiter]

It answers every text message with the same text and does nothing else: PTB's own cost of
receiving an update and sending a message. ``--concurrent`` handles that many updates at once
(default 1, PTB's default); ``--rate-limiter`` adds PTB's AIORateLimiter with its defaults
and 3 retries, as PTB's documentation shows it.
"""

from __future__ import annotations

import argparse
import os

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the user's message."""
    if update.message and update.message.text:
        await update.message.reply_text(update.message.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=1)
    parser.add_argument("--rate-limiter", action="store_true")
    args = parser.parse_args()
    base_url = os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
    builder = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base_url)
        .base_file_url(base_url.removesuffix("/bot") + "/file/bot")
        .concurrent_updates(args.concurrent)
    )
    if args.rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling()


if __name__ == "__main__":
    main()
