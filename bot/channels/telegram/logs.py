"""Logging for the running bot: no secret, no user id and no message text in any line.

httpx logs each request URL (``https://api.telegram.org/bot<token>/sendMessage``) and error
messages may quote it, so :class:`TokenFilter` sits on the root handler and rewrites every
record that passes: message, arguments, exception and stack text; the webhook secret is
masked the same way. A filter on a *handler* sees records from every logger (a filter on a
logger would miss propagated records).

At DEBUG, python-telegram-bot logs the parameters and results of every Bot API call (chat
ids, which are user ids in private chats, the texts people wrote, the webhook secret) and
every update it processes. :class:`PayloadFilter` keeps those lines but drops their payload:
"Calling Bot API endpoint `sendMessage`" stays, its parameters go; an update is named by its
update id only. The bot's own lines name no chat or user.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

MASK = "***"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TokenFilter(logging.Filter):
    """Replaces the token, and the ``bot<token>`` URL part, with ``***`` in every record;
    and each of ``secrets`` (the webhook secret) likewise."""

    def __init__(self, token: str, *secrets: str) -> None:
        super().__init__()
        secret = token.strip()
        # The URL-encoded form too (":" as %3A), longest first so "bot<token>" goes whole.
        forms = {secret, secret.replace(":", "%3A"), secret.replace(":", "%3a")} - {""}
        others = {other.strip() for other in secrets} - {""}
        self._forms = sorted({f"bot{f}" for f in forms} | forms | others, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def _update_id(value: Any) -> str:
    update_id = getattr(value, "update_id", None)
    if isinstance(value, dict):
        update_id = value.get("update_id")
    return str(update_id) if isinstance(update_id, int) else type(value).__name__


def _count(value: Any) -> str:
    return f"{len(value)} item(s)" if isinstance(value, list | tuple) else type(value).__name__


_Redact = Callable[[tuple[Any, ...]], tuple[str, tuple[Any, ...]]]
_PAYLOADS: dict[str, _Redact] = {
    # telegram/_bot.py
    "Calling Bot API endpoint `%s` with parameters `%s`": lambda a: (
        "Calling Bot API endpoint `%s`",
        a[:1],
    ),
    "Call to Bot API endpoint `%s` finished with return value `%s`": lambda a: (
        "Call to Bot API endpoint `%s` finished",
        a[:1],
    ),
    "Error while parsing updates! Received data was %r": lambda a: (
        "Error while parsing updates! Received %s",
        (_count(a[0]) if a else "nothing",),
    ),
    # telegram/ext/_application.py
    "Processing update %s": lambda a: ("Processing update %s", (_update_id(a[0]),)),
    "Dropping pending update: %s": lambda a: ("Dropping pending update %s", (_update_id(a[0]),)),
    "Error while building CallbackContext for update %s. Update will not be processed.": (
        lambda a: (
            "Error while building CallbackContext for update %s. Update will not be processed.",
            (_update_id(a[0]),),
        )
    ),
    # telegram/ext/_utils/webhookhandler.py (not used by asem-bot's own webhook server)
    "Webhook received data: %s": lambda a: ("Webhook received data", ()),
    "Request had the wrong secret token: %s": lambda a: ("Request had the wrong secret token", ()),
}


class PayloadFilter(logging.Filter):
    """Drops the payload (parameters, results, updates) from python-telegram-bot's lines that
    would log it; the line itself stays. Matched on the format string, so a record is only
    changed when it is one of those."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact = _PAYLOADS.get(record.msg) if isinstance(record.msg, str) else None
        if redact is None or getattr(record, "asem_redacted", False):
            return True
        record.asem_redacted = True  # each handler has this filter: redact once
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        try:
            record.msg, record.args = redact(args)
        except Exception:  # an unexpected shape: say nothing rather than the payload
            record.msg, record.args = record.msg.split("%", 1)[0].rstrip(" :`"), ()
        return True


def configure_logging(
    level: int | str,
    token: str,
    *,
    secrets: tuple[str, ...] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Log to ``stream`` (stderr) at ``level``, httpx at WARNING, the token and ``secrets``
    masked and python-telegram-bot's payloads left out throughout (see the module doc).

    Returns the handler, so that a test can remove it again.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for existing in root.handlers:
        if not any(isinstance(f, PayloadFilter) for f in existing.filters):
            existing.addFilter(PayloadFilter())  # first: the token filter sees the result
        if not any(isinstance(f, TokenFilter) for f in existing.filters):
            existing.addFilter(TokenFilter(token, *secrets))
    # httpx logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # tornado (the webhook server) logs each malformed or timed-out request at INFO: a flood
    # of them would flood the log.
    logging.getLogger("tornado").setLevel(logging.WARNING)
    return handler
