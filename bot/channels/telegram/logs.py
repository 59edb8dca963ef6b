"""Logging for the running bot, with the token masked in every line.

httpx logs each request URL (``https://api.telegram.org/bot<token>/sendMessage``) and error
messages may quote it, so :class:`TokenFilter` sits on the root handler and rewrites every
record that passes: message, arguments, exception and stack text. A filter on a *handler*
sees records from every logger (a filter on a logger would miss propagated records).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

MASK = "***"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TokenFilter(logging.Filter):
    """Replaces the token, and the ``bot<token>`` URL part, with ``***`` in every record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        secret = token.strip()
        # The URL-encoded form too (":" as %3A), longest first so "bot<token>" goes whole.
        forms = {secret, secret.replace(":", "%3A"), secret.replace(":", "%3a")} - {""}
        self._forms = sorted({f"bot{f}" for f in forms} | forms, key=len, reverse=True)

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


def configure_logging(
    level: int | str, token: str, *, stream: TextIO | None = None
) -> logging.Handler:
    """Log to ``stream`` (stderr) at ``level``, httpx at WARNING, the token masked throughout.

    Returns the handler, so that a test can remove it again.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(TokenFilter(token))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for existing in root.handlers:
        if not any(isinstance(f, TokenFilter) for f in existing.filters):
            existing.addFilter(TokenFilter(token))
    # httpx logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return handler
