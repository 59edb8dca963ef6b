"""Test doubles for end-to-end tests (see ``tests/fakes/bot_api.py``)."""

from __future__ import annotations

from .bot_api import (
    DEFAULT_TOKEN,
    DEFAULT_USER_ID,
    ApiError,
    Call,
    FakeBotApi,
    HtmlParseError,
    parse_html,
    post_update_to_webhook,
    utf16_len,
)

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "ApiError",
    "Call",
    "FakeBotApi",
    "HtmlParseError",
    "parse_html",
    "post_update_to_webhook",
    "utf16_len",
]
