"""A fake Telegram Bot API server for end-to-end tests.

What it is
    ``FakeBotApi`` is a small HTTP server (standard library only) that answers the Telegram Bot
    API over real HTTP on 127.0.0.1.  The real python-telegram-bot ``Bot``/``Application`` is
    pointed at it with ``base_url``/``base_file_url`` and talks to it exactly as it would talk
    to Telegram: long polling, form-encoded requests, ``{"ok": ..., "result": ...}`` answers.
    The test plays the users (it injects updates) and then inspects what the bot sent.

How a test uses it
    ::

        with FakeBotApi() as api:                       # or api.start() ... api.stop()
            app = (Application.builder().token(api.token)
                   .base_url(api.base_url).base_file_url(api.base_file_url).build())
            ...                                         # start polling
            api.send_text(42, "/start")                 # user 42 writes to the bot
            [call] = await api.wait_for("sendMessage")  # the bot answered
            assert "ASEM" in call.params["text"]

    Every helper is thread-safe and returns at once, so it can be called from async tests;
    ``wait_for`` is a coroutine that polls without blocking the event loop and returns the
    first ``count`` matching calls (``wait_for_sync`` is the blocking twin; pass
    ``after=api.mark()`` to ignore earlier calls).  Every request is recorded as a ``Call``
    (method, decoded params, time, status, response); ``sent_messages()``/``get_message()``
    show the bot's messages in their current state (edits applied).  ``errors`` lists failures
    of the fake itself and undecodable request bodies; a healthy test leaves it empty.
    Importing this module adds 127.0.0.1 and localhost to NO_PROXY so httpx never proxies.

    Matching errors: PTB strips "Bad Request: " and ``str.capitalize()``s the rest, so
    "Bad Request: message is not modified" arrives as BadRequest("Message is not modified")
    and everything after the first letter is lower case: match case-insensitively.
    When PTB stops polling it abandons its long poll and sends a short confirming getUpdates;
    the abandoned poll is then answered 409 (as Telegram would) and recorded as such.

Telegram rules enforced (400 "Bad Request: ..." with Telegram's wording where known)
    * HTML parse mode is parsed for real: only Telegram's tags (b strong i em u ins s strike del
      a[href] code pre blockquote[expandable] tg-spoiler span.tg-spoiler tg-emoji[emoji-id]
      tg-time[unix]), tags must nest properly and be closed, a bare ``<`` is an error, entities
      are limited to &lt; &gt; &amp; &quot; and numeric ones.  Entities come back with UTF-16
      offsets.  Stricter than the real server in two places, both matching the documentation's
      "must": a bare ``&`` and ``<a>`` without href are rejected (``strict_html=False`` accepts
      them like Telegram does).  Markdown parse modes are accepted but not parsed.
    * Text is 1..4096 UTF-16 code units after entity parsing (whitespace-only text is empty).
    * Inline keyboards: at most 100 buttons and 8 per row; every button has text and exactly
      one action; callback_data is 1..64 bytes of UTF-8; url buttons need http(s) or tg links.
    * Callback and inline query ids must have been issued by this server and be unanswered;
      callback answer text <= 200 characters; inline answers: <= 50 results, unique ids of
      1..64 bytes, message contents validated like messages, ``button`` validated.
    * Polls (limits of Bot API 10 as encoded in python-telegram-bot 22.8): question 1..300
      characters, 1..12 options of 1..100 characters (plain strings or InputPollOption
      objects), quizzes need correct_option_ids (or the legacy correct_option_id) in range,
      more than one only with allows_multiple_answers; explanation <= 200 characters and
      <= 2 line feeds.
    * Edits: unknown message -> "message to edit not found"; identical text, entities and
      keyboard -> "message is not modified: ...".  Omitting reply_markup in editMessageText
      removes the keyboard, as on Telegram.
    * Unknown methods -> 404 "Not Found"; a wrong token -> 401 "Unauthorized"; getUpdates while
      a webhook is set, or a second concurrent getUpdates, -> 409 Conflict (the older poll is
      terminated, as on Telegram).  Any chat id is accepted unless blocked or deleted.

Failure injection and flood control
    ``fail_next(method, status=429, retry_after=1)`` makes the next call(s) fail without being
    carried out.  ``delay_next(method, seconds)`` carries the call out, records it, and only
    then sleeps before answering: the client times out although the message *was* delivered,
    which is the case retry logic must survive (``sent_messages()`` shows the truth).  With
    ``deliver=False`` the request is lost instead: nothing happens and, after the sleep, the
    answer is 502 Bad Gateway.  ``reset_next(method)`` reads the request and drops the
    connection without an answer (a TCP reset; the call is not carried out).  For traffic with
    faults mixed in, ``inject_faults(method, rate, kinds=...)`` gives each call of ``method`` a
    ``rate`` chance of one fault drawn from ``kinds`` ("429", "500", "502", "reset", "delay":
    carried out, answered 0.2-2 s late); ``faults_injected`` counts them by (method, kind) and
    ``inject_faults(method, 0)`` stops.  Faults queued with the ``*_next`` methods come first.
    Calls that failed by injection are recorded like the others (a reset with status 0).
    ``block_chat``/``delete_chat`` give 403 "Forbidden: bot was
    blocked by the user" / 400 "chat not found".  ``flood_control=True`` enforces Telegram's
    sending limits on sendMessage/sendPoll: per chat a burst of 3 then 1 message per second
    (a token bucket), 20 messages per minute per group or channel, 30 per second overall;
    an excess gets 429 with ``parameters.retry_after`` and is counted in ``flood_429_count``.
    ``intercept(method, when=..., then=...)`` loses the matching calls (recorded, answered 502,
    nothing carried out; a lost getUpdates confirms nothing) and runs ``then()`` before the
    answer: a test can kill the bot with its request on the wire.

Webhooks
    setWebhook records url and secret_token; while a webhook is set, injected updates are
    POSTed to it (with the secret header) by a background thread instead of being queued for
    getUpdates.  ``post_update_to_webhook`` posts one update by hand with any secret.  Plain
    http URLs are accepted unless ``require_https_webhook`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import math
import os
import queue
import random
import re
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit


def _bypass_proxies_for_localhost() -> None:
    """httpx honours HTTP(S)_PROXY; requests to the fake must never go through a proxy."""
    for variable in ("NO_PROXY", "no_proxy"):
        hosts = [host for host in os.environ.get(variable, "").split(",") if host]
        hosts += [host for host in ("127.0.0.1", "localhost") if host not in hosts]
        os.environ[variable] = ",".join(hosts)


_bypass_proxies_for_localhost()


def _names(text: str) -> tuple[str, ...]:
    """The whitespace-separated names in ``text`` (keeps long lists of names compact)."""
    return tuple(text.split())


DEFAULT_TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
DEFAULT_USER_ID = 10001

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_RESULTS = 50
MAX_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
POLL_MIN_OPTIONS = 1  # Bot API 10.0 lowered this from 2
POLL_MAX_OPTIONS = 12  # Bot API 9.1 raised this from 10
POLL_EXPLANATION_MAX = 200
POLL_EXPLANATION_MAX_LINE_FEEDS = 2

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
CHAT_ACTIONS = frozenset(
    _names(
        "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
        "choose_sticker find_location record_video_note upload_video_note"
    )
)
# Update types Telegram only sends when asked for explicitly in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Parameters that are plain strings; every other form value is JSON-decoded when possible.
STRING_PARAMS = frozenset(
    _names(
        "text caption question explanation description short_description url secret_token "
        "callback_query_id inline_query_id inline_message_id next_offset parse_mode "
        "explanation_parse_mode question_parse_mode language_code action type message_effect_id "
        "business_connection_id ip_address emoji title name switch_pm_text switch_pm_parameter "
        "sticker"
    )
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Telegram error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _default_description(status: int, retry_after: int) -> str:
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
        429: f"Too Many Requests: retry after {retry_after}",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


# --------------------------------------------------------------------------------------------
# Telegram-flavoured HTML
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's lengths and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class HtmlParseError(ValueError):
    """Raised by ``parse_html``; the message follows Telegram's wording."""


_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(
    r"&(?:#[xX]([0-9A-Fa-f]{1,8})|#([0-9]{1,10})|(lt|gt|amp|quot)(?![A-Za-z]));?"
)
_TAG_NAME_RE = re.compile(r"[^\s>]*")


def _entity_char(match: re.Match[str]) -> str | None:
    hex_digits, decimal_digits, name = match.groups()
    if name:
        return _NAMED_ENTITIES[name]
    code = int(hex_digits, 16) if hex_digits else int(decimal_digits)
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code)
    return None


@dataclass
class _OpenTag:
    tag: str
    kind: str | None  # entity type, or None for <code> inside <pre>
    start: int  # UTF-16 offset in the output text
    first_part: int  # index into the output parts, to recover the inner text
    extra: dict[str, Any]


class _TelegramHtmlParser(HTMLParser):
    """Turns Telegram HTML into plain text plus entities, failing like Telegram does."""

    def __init__(self, source: str, *, strict: bool) -> None:
        super().__init__(convert_charrefs=False)  # we decode entities ourselves
        self.source = source
        self.strict = strict
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[dict[str, Any]] = []
        self.stack: list[_OpenTag] = []
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]

    def _index(self) -> int:
        """Index in ``source`` where the construct being handled starts."""
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def _fail(self, message: str, index: int) -> NoReturn:
        raise HtmlParseError(f"{message} at byte offset {self._byte_offset(index)}")

    def _fail_tag_at(self, index: int) -> NoReturn:
        """Telegram reads a tag name up to a space or '>' and rejects names it doesn't know."""
        match = _TAG_NAME_RE.match(self.source, index + 1)
        assert match is not None
        if match.end() >= len(self.source):
            self._fail("Unclosed start tag", index)
        self._fail(f'Unsupported start tag "{match.group().lower()}"', index)

    def _emit(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.length += utf16_len(text)

    def _decode(self, raw: str, index: int) -> str:
        """Decode character references in ``raw`` (which starts at ``source[index]``)."""
        out: list[str] = []
        position = 0
        while (amp := raw.find("&", position)) >= 0:
            out.append(raw[position:amp])
            match = _ENTITY_RE.match(raw, amp)
            char = _entity_char(match) if match else None
            if match and char is not None:
                out.append(char)
                position = match.end()
                continue
            if self.strict:
                named = re.match(r"&#?\w+;", raw[amp:])
                what = f'Unsupported HTML entity "{named.group()}"' if named else 'Unescaped "&"'
                self._fail(what, index + amp)
            out.append("&")  # the real server keeps an unknown "&..." as literal text
            position = amp + 1
        out.append(raw[position:])
        return "".join(out)

    def _reference(self, prefix: str, name: str) -> None:
        index = self._index()
        raw = prefix + name
        if self.source.startswith(";", index + len(raw)):
            raw += ";"
        self._emit(self._decode(raw, index))

    def handle_data(self, data: str) -> None:
        index = self._index()
        if "<" in data:  # html.parser hands a "<" it could not read as a tag over as text
            self._fail_tag_at(index + data.index("<"))
        self._emit(self._decode(data, index))

    def handle_entityref(self, name: str) -> None:
        self._reference("&", name)

    def handle_charref(self, name: str) -> None:
        self._reference("&#", name)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        index = self._index()
        kind = _TAG_ENTITY.get(tag)
        if kind is None:
            self._fail(f'Unsupported start tag "{tag}"', index)
        attributes = dict(attrs)
        extra: dict[str, Any] = {}
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            self._fail('Tag "span" must have class "tg-spoiler"', index)
        elif tag == "a":
            if attributes.get("href"):
                extra["url"] = attributes["href"]
            elif self.strict:
                self._fail('Tag "a" must have attribute "href"', index)
        elif tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id") or ""
            if not emoji_id.isdigit():
                self._fail('Tag "tg-emoji" must have a numeric attribute "emoji-id"', index)
            extra["custom_emoji_id"] = emoji_id
        elif tag == "tg-time":
            unix = attributes.get("unix") or ""
            if not unix.isdigit():
                self._fail('Tag "tg-time" must have a numeric attribute "unix"', index)
            extra["unix_time"] = int(unix)
            if attributes.get("format"):
                extra["date_time_format"] = attributes["format"]
        elif tag == "blockquote" and "expandable" in attributes:
            kind = "expandable_blockquote"
        elif tag == "code" and self.stack and self.stack[-1].tag == "pre":
            # <pre><code class="language-x"> is a pre block in language x, not a code entity.
            css_class = attributes.get("class") or ""
            if css_class.startswith("language-") and len(css_class) > len("language-"):
                self.stack[-1].extra["language"] = css_class.removeprefix("language-")
            kind = None
        self.stack.append(_OpenTag(tag, kind, self.length, len(self.parts), extra))

    def handle_endtag(self, tag: str) -> None:
        index = self._index()
        if not self.stack:
            self._fail("Unexpected end tag", index)
        top = self.stack[-1]
        if top.tag != tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(index)}, "
                f'expected "</{top.tag}>", found "</{tag}>"'
            )
        self.stack.pop()
        length = self.length - top.start
        if top.kind is None or length == 0:  # Telegram drops empty entities
            return
        entity: dict[str, Any] = {"type": top.kind, "offset": top.start, "length": length}
        if top.tag == "a":
            url = top.extra.get("url") or "".join(self.parts[top.first_part :])
            mention = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if mention:
                user = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
                entity.update(type="text_mention", user=user)
            else:
                entity["url"] = url
        else:
            entity.update(top.extra)
        self.entities.append(entity)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}/"', self._index())

    def handle_comment(self, data: str) -> None:
        self._fail_tag_at(self._index())

    def handle_decl(self, decl: str) -> None:
        self._fail_tag_at(self._index())

    def handle_pi(self, data: str) -> None:
        self._fail_tag_at(self._index())

    def unknown_decl(self, data: str) -> None:
        self._fail_tag_at(self._index())


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into ``(plain_text, entities)``; raises ``HtmlParseError``.

    Entities are Telegram MessageEntity dicts with UTF-16 offsets, sorted by offset.
    ``strict=False`` accepts a bare "&" and <a> without href like the real server does.
    """
    if (position := text.find("</>")) >= 0:  # html.parser silently skips "</>"
        raise HtmlParseError(f"Unexpected end tag at byte offset {len(text[:position].encode())}")
    parser = _TelegramHtmlParser(text, strict=strict)
    try:
        parser.feed(text)
        parser.close()
    except HtmlParseError:
        raise
    except (AssertionError, ValueError) as exc:  # html.parser chokes on some "<!" constructs
        raise HtmlParseError(f"Unsupported start tag ({exc})") from exc
    if parser.stack:
        raise HtmlParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1].tag}"'
        )
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


# --------------------------------------------------------------------------------------------
# Request decoding helpers
# --------------------------------------------------------------------------------------------


def _decode_value(name: str, value: Any) -> Any:
    """Form values are strings; PTB JSON-encodes numbers, booleans, lists and objects."""
    if not isinstance(value, str) or name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise ValueError(f"malformed multipart body ({message.defects})")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[name] = (
            {"filename": filename, "size": len(payload)} if filename else payload.decode("utf-8")
        )
    return fields


def _int_param(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"invalid {name} specified")
    return int(value)


def _bool_param(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool | int):
        return bool(value)
    raise _bad(f"invalid {name} specified")


def _update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def post_update_to_webhook(
    url: str, update: dict[str, Any], secret_token: str | None = None, *, timeout: float = 5.0
) -> int:
    """POST ``update`` to a bot's webhook like Telegram does and return the HTTP status.

    Blocking: from an async test whose event loop runs the webhook server, use
    ``await asyncio.to_thread(post_update_to_webhook, ...)`` (or
    ``FakeBotApi.post_update_to_webhook_async``).  Connection errors raise ``URLError``.
    """
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if secret_token is not None:
        request.add_header("X-Telegram-Bot-Api-Secret-Token", secret_token)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{3,32}(?!\w)")
_URL_RE = re.compile(r"(?<!\w)https?://[^\s<>\"]+")


def _detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to a user's message: bot commands, @mentions and URLs."""
    found = []
    for kind, pattern in (
        ("bot_command", _COMMAND_RE),
        ("mention", _MENTION_RE),
        ("url", _URL_RE),
    ):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e_end and s < end for s, e_end, _ in found):
                continue  # "/start@bot" is one command, not a command plus a mention
            found.append((start, end, kind))
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in sorted(found)
    ]


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request as the server saw it."""

    index: int
    method: str
    params: dict[str, Any]  # form fields with JSON values decoded
    time: float
    status: int
    response: dict[str, Any]  # the JSON answer as sent

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    def summary(self) -> str:
        return f"#{self.index} {self.method} -> {self.status} {self.description or ''}".strip()


@dataclass
class _Fault:
    status: int = 0  # 0: no error, only a delay
    retry_after: int = 1
    description: str | None = None
    delay: float = 0.0
    deliver: bool = True
    reset: bool = False  # drop the connection without an answer (not carried out)
    on_the_way: float = 0.0  # seconds before the call is carried out (a slow network)


@dataclass
class _Interception:
    method: str
    when: Callable[[dict[str, Any]], bool] | None
    then: Callable[[], object] | None
    count: int | None


FAULT_KINDS = ("429", "500", "502", "reset", "delay")


@dataclass
class _RandomFaults:
    """``inject_faults``: each call has a ``rate`` chance of one fault of ``kinds``."""

    rate: float
    kinds: tuple[str, ...]
    delay: tuple[float, float]
    rng: random.Random

    def draw(self) -> tuple[str, _Fault] | None:
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        if kind == "reset":
            return kind, _Fault(reset=True, deliver=False)
        if kind == "delay":
            return kind, _Fault(delay=self.rng.uniform(*self.delay))
        return kind, _Fault(status=int(kind), retry_after=1)


class _ConnectionReset(Exception):
    """Raised by ``_process``: answer nothing, reset the connection."""


_RESET_RESPONSE = {"ok": False, "description": "connection reset without an answer (injected)"}

MethodFilter = str | Iterable[str] | None
CallPredicate = Callable[[Call], bool]


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeBotApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection (a bot killed or stopped mid-request) is no
        error of the fake: only other exceptions are printed."""
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeBotApi:
    """An in-process Telegram Bot API server; see the module docstring."""

    # Flood control thresholds (instance attributes may override them).
    flood_chat_burst = 3  # messages a chat may receive back to back ...
    flood_chat_rate = 1.0  # ... then this many per second (token bucket)
    flood_group_per_minute = 20  # per group, supergroup or channel (sliding window)
    flood_global_per_second = 30  # all chats together (sliding window)
    # getMe: False is Telegram's default, privacy mode (BotFather's /setprivacy). The fake
    # still delivers every group message: a test that wants Telegram's filtering sends only
    # what Telegram would.
    can_read_all_group_messages = False

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_id: int | None = None,
        bot_username: str = "asem_test_bot",
        bot_first_name: str = "ASEM Test Bot",
        flood_control: bool = False,
        strict_html: bool = True,
        require_https_webhook: bool = False,
        port: int = 0,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 1
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.flood_control = flood_control
        self.strict_html = strict_html
        self.require_https_webhook = require_https_webhook
        self.flood_429_count = 0
        self.errors: list[str] = []
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status or 0)
        self.port = 0
        self._requested_port = port
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._stopping = False
        # One lock guards all state; getUpdates and wait_for_sync wait on it.
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._faults: defaultdict[str, deque[_Fault]] = defaultdict(deque)
        self._interceptions: list[_Interception] = []
        self._random_faults: dict[str, _RandomFaults] = {}
        self.faults_injected: Counter[tuple[str, str]] = Counter()
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_000_001
        self._poll_generation = 0
        self._allowed_updates: set[str] | None = None
        self._webhook: dict[str, Any] | None = None
        self._webhook_queue: queue.Queue[tuple[str, str | None, dict[str, Any]] | None] = (
            queue.Queue()
        )
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._channel_ids = itertools.count(-1_001_000_000_001, -1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._polls: dict[str, dict[str, Any]] = {}
        self._votes: dict[tuple[str, int], list[int]] = {}
        self._poll_ids = itertools.count(5_000_000_000_000_000_001)
        self._query_ids = itertools.count(7_000_000_000_000_000_001)
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._callback_answers: dict[str, dict[str, Any]] = {}
        self._inline_answers: dict[str, dict[str, Any]] = {}
        self._blocked: set[int] = set()
        self._deleted_chats: set[int] = set()
        self._migrated: dict[int, int] = {}  # a group's id -> its supergroup's
        self._admins: dict[int, list[int]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._flood_buckets: dict[int, tuple[float, float]] = {}
        self._flood_groups: defaultdict[int, deque[float]] = defaultdict(deque)
        self._flood_global: deque[float] = deque()
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda p: True,
            "close": lambda p: True,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "sendPoll": self._send_poll,
            "stopPoll": self._stop_poll,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": lambda p: self._set_description(p, "description", 512),
            "setMyShortDescription": lambda p: self._set_description(p, "short_description", 120),
            "getMyDescription": lambda p: self._get_description(p, "description"),
            "getMyShortDescription": lambda p: self._get_description(p, "short_description"),
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }
        self._canonical = {name.lower(): name for name in self._handlers}  # case-insensitive

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotApi:
        """Bind 127.0.0.1 (a free port unless one was given) and serve in daemon threads."""
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", self._requested_port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._stopped.clear()
        self._stopping = False
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fake-bot-api:{self.port}",
                daemon=True,
            ),
            threading.Thread(target=self._webhook_loop, name="fake-bot-api-webhook", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls return at once with no updates."""
        if self._server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._webhook_queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)``."""
        if not self.port:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        if not self.port:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---------------------------------------------------------------- HTTP plumbing

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            status, body, delay = self._process(handler)
        except _ConnectionReset:
            with contextlib.suppress(OSError):  # SO_LINGER 0: close() sends a TCP RST
                handler.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                handler.connection.close()
            handler.close_connection = True
            return
        except Exception:  # a bug in the fake: answer 500 and keep it for the test to see
            self.errors.append(traceback.format_exc())
            status, delay = 500, 0.0
            body = json.dumps(ApiError(500, "Internal Server Error").payload()).encode()
        if delay > 0:
            self._stopped.wait(delay)  # stop() cuts the sleep short
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client gave up, for example after its own timeout

    def _process(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes, float]:
        url = urlsplit(handler.path)
        length = handler.headers.get("Content-Length") or "0"
        body = handler.rfile.read(int(length)) if length.isdigit() and int(length) > 0 else b""
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]+)", url.path)
        if match is None:
            return 404, json.dumps(ApiError(404, "Not Found").payload()).encode(), 0.0
        token, method = match.groups()
        name = self._canonical.get(method.lower(), method)
        if token != self.token:
            return *self._finish(name, {}, ApiError(401, "Unauthorized")), 0.0
        if name not in self._handlers:
            return *self._finish(name, {}, ApiError(404, "Not Found")), 0.0
        try:
            params = self._read_params(handler, url.query, body)
        except ValueError as exc:
            self.errors.append(f"{name}: undecodable request: {exc}")
            return *self._finish(name, {}, _bad(f"can't parse request: {exc}")), 0.0
        hook = self._intercepted(name, params)
        if hook is not None:
            answer = self._finish(name, params, ApiError(502, "Bad Gateway"))
            if hook.then is not None:
                hook.then()
            return *answer, 0.0
        fault = self._take_fault(name)
        if fault is not None and fault.reset:
            with self._cond:
                call = Call(len(self._calls), name, params, time.time(), 0, dict(_RESET_RESPONSE))
                self._calls.append(call)
                self._cond.notify_all()
            raise _ConnectionReset
        if fault is not None and fault.status:
            description = fault.description or _default_description(
                fault.status, fault.retry_after
            )
            parameters = {"retry_after": fault.retry_after} if fault.status == 429 else None
            error = ApiError(fault.status, description, parameters)
            return *self._finish(name, params, error), 0.0
        if fault is not None and not fault.deliver:  # lost on the way: nothing happens
            return *self._finish(name, params, ApiError(502, "Bad Gateway")), fault.delay
        if fault is not None and fault.on_the_way > 0:
            self._stopped.wait(fault.on_the_way)  # arrives late; stop() cuts the wait short
        # Carried out (and recorded) now; a delay only holds back the answer.
        return *self._run(name, params), fault.delay if fault else 0.0

    def _read_params(
        self, handler: BaseHTTPRequestHandler, query: str, body: bytes
    ) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = handler.headers.get("Content-Type", "")
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif body and content_type.startswith("application/json"):
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("the JSON body must be an object")
            params.update(data)
        elif body and content_type.startswith("multipart/form-data"):
            params.update(_parse_multipart(content_type, body))
        elif body:
            raise ValueError(f"unsupported Content-Type {content_type!r}")
        return {key: _decode_value(key, value) for key, value in params.items()}

    def _run(self, name: str, params: dict[str, Any]) -> tuple[int, bytes]:
        with self._cond:
            try:
                return self._finish(name, params, self._handlers[name](params))
            except ApiError as err:
                return self._finish(name, params, err)

    def _finish(self, name: str, params: dict[str, Any], outcome: Any) -> tuple[int, bytes]:
        """Encode the answer and record the call (the encoded copy, so later edits don't leak)."""
        if isinstance(outcome, ApiError):
            status, payload = outcome.status, outcome.payload()
        else:
            status, payload = 200, {"ok": True, "result": outcome}
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        with self._cond:
            call = Call(len(self._calls), name, params, time.time(), status, json.loads(body))
            self._calls.append(call)
            self._cond.notify_all()
        return status, body

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """The next ``count`` calls of ``method`` fail with ``status`` and are not carried out.

        429 answers carry ``parameters.retry_after`` (PTB raises RetryAfter); 5xx answers make
        PTB raise NetworkError; 403 defaults to "Forbidden: bot was blocked by the user".
        """
        fault = _Fault(status=status, retry_after=retry_after, description=description)
        with self._cond:
            self._faults[method.lower()].extend(copy.copy(fault) for _ in range(count))

    def delay_next(
        self, method: str, seconds: float, *, deliver: bool = True, count: int = 1
    ) -> None:
        """Sleep ``seconds`` before answering the next ``count`` calls of ``method``.

        deliver=True: the call is carried out and recorded first, only the answer is late (the
        client may time out although the message exists).  deliver=False: the request is lost;
        nothing happens and the late answer is 502 Bad Gateway.
        """
        fault = _Fault(delay=seconds, deliver=deliver)
        with self._cond:
            self._faults[method.lower()].extend(copy.copy(fault) for _ in range(count))

    def arrive_late(self, method: str, seconds: float, *, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` spend ``seconds`` on the way: they are
        carried out (and flood-checked) that much after they were sent, then answered."""
        fault = _Fault(on_the_way=seconds)
        with self._cond:
            self._faults[method.lower()].extend(copy.copy(fault) for _ in range(count))

    def intercept(
        self,
        method: str,
        *,
        when: Callable[[dict[str, Any]], bool] | None = None,
        then: Callable[[], object] | None = None,
        count: int | None = 1,
    ) -> None:
        """Calls of ``method`` whose params satisfy ``when`` are lost on the way: not carried
        out, recorded, answered 502 Bad Gateway. ``then()`` runs before the answer (say, to kill
        the bot while its request is on the wire). ``count`` calls, or all (None) until
        :meth:`stop_intercepting`. A getUpdates lost this way does not confirm its offset.
        """
        with self._cond:
            self._interceptions.append(_Interception(method.lower(), when, then, count))

    def stop_intercepting(self) -> None:
        with self._cond:
            self._interceptions.clear()

    def _intercepted(self, name: str, params: dict[str, Any]) -> _Interception | None:
        with self._cond:
            for hook in self._interceptions:
                if hook.method == name.lower() and (hook.when is None or hook.when(params)):
                    if hook.count is not None:
                        hook.count -= 1
                        if hook.count <= 0:
                            self._interceptions.remove(hook)
                    return hook
        return None

    def clear_faults(self) -> None:
        """Forget every fault still pending from fail_next and delay_next."""
        with self._cond:
            self._faults.clear()

    def reset_next(self, method: str, *, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` are read and not carried out, and their
        connection is reset without an answer (httpx: a NetworkError)."""
        with self._cond:
            self._faults[method.lower()].extend(
                _Fault(reset=True, deliver=False) for _ in range(count)
            )

    def inject_faults(
        self,
        method: str,
        rate: float,
        *,
        kinds: Iterable[str] = FAULT_KINDS,
        delay: tuple[float, float] = (0.2, 2.0),
        seed: int | None = None,
    ) -> None:
        """From now on each call of ``method`` fails with probability ``rate``, with a fault
        drawn evenly from ``kinds``: "429" (retry_after 1), "500", "502" (not carried out),
        "reset" (not carried out, connection reset), "delay" (carried out, answered
        ``delay`` seconds late).  ``rate`` 0 stops.  Counted in ``faults_injected``."""
        kinds = tuple(kinds)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be some of {FAULT_KINDS}, not {sorted(unknown)}")
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be in [0, 1], not {rate}")
        with self._cond:
            if rate == 0:
                self._random_faults.pop(method.lower(), None)
            else:
                self._random_faults[method.lower()] = _RandomFaults(
                    rate, kinds, delay, random.Random(seed)
                )

    def _take_fault(self, name: str) -> _Fault | None:
        with self._cond:
            pending = self._faults.get(name.lower())
            if pending:
                return pending.popleft()
            chaos = self._random_faults.get(name.lower())
            drawn = chaos.draw() if chaos is not None else None
            if drawn is None:
                return None
            self.faults_injected[(name, drawn[0])] += 1
            return drawn[1]

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot (or the bot was kicked): sending there gives 403."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def delete_chat(self, chat_id: int) -> None:
        """The chat is gone: every method on it gives 400 "chat not found"."""
        with self._cond:
            self._deleted_chats.add(chat_id)

    def set_admins(self, chat_id: int, user_ids: Iterable[int]) -> None:
        """getChatAdministrators/getChatMember: the first id is the creator, others admins."""
        with self._cond:
            self._admins[chat_id] = list(user_ids)

    # ---------------------------------------------------------------- flood control

    def _check_flood(self, chat: dict[str, Any]) -> None:
        if not self.flood_control:
            return
        now = time.monotonic()
        waits: list[float] = []
        window = self._flood_global
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.flood_global_per_second:
            waits.append(window[0] + 1.0 - now)
        is_group = chat["type"] != "private"
        group_window = self._flood_groups[chat["id"]]
        while group_window and now - group_window[0] >= 60.0:
            group_window.popleft()
        if is_group and len(group_window) >= self.flood_group_per_minute:
            waits.append(group_window[0] + 60.0 - now)
        tokens, last = self._flood_buckets.get(chat["id"], (float(self.flood_chat_burst), now))
        tokens = min(float(self.flood_chat_burst), tokens + (now - last) * self.flood_chat_rate)
        if tokens < 1.0:
            waits.append((1.0 - tokens) / self.flood_chat_rate)
        if waits:
            self.flood_429_count += 1
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        window.append(now)
        if is_group:
            group_window.append(now)
        self._flood_buckets[chat["id"]] = (tokens - 1.0, now)

    # ---------------------------------------------------------------- users, chats, messages

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """Register (or update) a user; injected updates reuse the names given here."""
        with self._cond:
            user = self._users.setdefault(
                user_id,
                {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": f"User{user_id}",
                    "username": f"user{user_id}",
                },
            )
            changes = {
                "first_name": first_name,
                "username": username,
                "last_name": last_name,
                "language_code": language_code,
            }
            user.update({key: value for key, value in changes.items() if value is not None})
            return dict(user)

    def _user(
        self, user_id: int, username: str | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        if user_id == self.bot_id:
            return dict(self.bot_user)
        if user_id in self._users and username is None and first_name is None:
            return dict(self._users[user_id])
        return self.add_user(user_id, first_name=first_name, username=username)

    def _chat_by_id(self, chat_id: int) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                user = self._users.get(chat_id, {"first_name": f"User{chat_id}"})
                chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
                if user.get("username"):
                    chat["username"] = user["username"]
            elif chat_id < -1_000_000_000_000:
                chat = {"id": chat_id, "type": "supergroup", "title": f"Supergroup {-chat_id}"}
            else:
                chat = {"id": chat_id, "type": "group", "title": f"Group {-chat_id}"}
            self._chats[chat_id] = chat
        return chat

    def _incoming_chat(
        self, chat_id: int, chat_type: str, user: dict[str, Any], title: str | None
    ) -> dict[str, Any]:
        if chat_type == "private":
            chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if user.get("username"):
                chat["username"] = user["username"]
        elif chat_type in ("group", "supergroup", "channel"):
            known = self._chats.get(chat_id, {})
            chat = {"id": chat_id, "type": chat_type}
            chat["title"] = title or known.get("title") or f"Test {chat_type} {abs(chat_id)}"
        else:
            raise ValueError(f"unknown chat_type {chat_type!r}")
        self._chats[chat_id] = chat
        return dict(chat)

    def _target_chat(self, params: dict[str, Any], *, writing: bool = True) -> dict[str, Any]:
        """Resolve ``chat_id``; blocked chats refuse writes, deleted chats refuse everything."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@") and len(raw) > 1:
            chat = next((c for c in self._chats.values() if c.get("username") == raw[1:]), None)
            if chat is None:
                chat = {"id": next(self._channel_ids), "type": "channel", "title": raw[1:]}
                chat["username"] = raw[1:]
                self._chats[chat["id"]] = chat
        elif isinstance(raw, int) and not isinstance(raw, bool):
            chat = self._chat_by_id(raw)
        else:
            raise _bad("chat not found")
        if chat["id"] in self._deleted_chats:
            raise _bad("chat not found")
        if chat["id"] in self._migrated:
            new_id = self._migrated[chat["id"]]
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new_id},
            )
        if writing and chat["id"] in self._blocked:
            raise ApiError(403, self._forbidden_text(chat))
        return chat

    @staticmethod
    def _forbidden_text(chat: dict[str, Any]) -> str:
        if chat["type"] == "private":
            return "Forbidden: bot was blocked by the user"
        return f"Forbidden: bot was kicked from the {chat['type']} chat"

    def _new_message(
        self, chat: dict[str, Any], sender: dict[str, Any] | None, **content: Any
    ) -> dict[str, Any]:
        message_id = next(self._message_ids[chat["id"]])
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": dict(chat),
        }
        if sender is not None:
            message["from"] = sender
        if chat["type"] == "channel":
            message["sender_chat"] = dict(chat)
        message.update({k: v for k, v in content.items() if v is not None and v != []})
        self._messages[(chat["id"], message_id)] = message
        return message

    def _bot_message(self, chat: dict[str, Any], **content: Any) -> dict[str, Any]:
        sender = None if chat["type"] == "channel" else dict(self.bot_user)
        message = self._new_message(chat, sender, **content)
        self._bot_messages[(chat["id"], message["message_id"])] = message
        return message

    def _reply_target(self, chat: dict[str, Any], params: dict[str, Any]) -> dict | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise _bad("can't parse reply parameters JSON object")
        original = self._messages.get((chat["id"], reply["message_id"]))
        if original is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        return {k: v for k, v in copy.deepcopy(original).items() if k != "reply_to_message"}

    # ---------------------------------------------------------------- validation

    def _formatted(
        self, text: str, parse_mode: Any, entities: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        """Apply parse_mode (only HTML is really parsed) or explicit entities."""
        if entities:
            if not isinstance(entities, list) or not all(
                isinstance(e, dict) and isinstance(e.get("type"), str) for e in entities
            ):
                raise _bad("can't parse entities JSON object")
            return text, entities
        mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                return parse_html(text, strict=self.strict_html)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        if mode not in ("", "markdown", "markdownv2"):
            raise _bad("unsupported parse_mode")
        return text, []

    def _message_text(self, content: dict[str, Any], key: str = "text") -> tuple[str, list]:
        raw = content.get(key)
        if not isinstance(raw, str) or not raw:
            raise _bad("message text is empty")
        text, entities = self._formatted(raw, content.get("parse_mode"), content.get("entities"))
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise _bad("message is too long")
        return text, entities

    def _reply_markup(self, markup: Any) -> dict[str, Any] | None:
        """Validate reply_markup; return what Telegram echoes in the Message (inline only)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('field "inline_keyboard" must be an Array of Arrays')
            if sum(map(len, rows)) > MAX_BUTTONS or any(
                len(row) > MAX_BUTTONS_PER_ROW for row in rows
            ):
                raise _bad("REPLY_MARKUP_TOO_LONG")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            rows = [row for row in rows if row]
            return {"inline_keyboard": rows} if rows else None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('field "keyboard" must be an Array of Arrays')
            for button in itertools.chain.from_iterable(rows):
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise _bad("can't parse keyboard button: Text must be non-empty")
            return None
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return None
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not button["text"]:
            raise _bad("can't parse inline keyboard button: Text must be non-empty")
        actions = [name for name in BUTTON_ACTIONS if button.get(name) is not None]
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if len(actions) > 1:
            raise _bad("BUTTON_TYPE_INVALID")
        data = button.get("callback_data")
        if "callback_data" in actions and (
            not isinstance(data, str)
            or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
        ):
            raise _bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if "url" in actions and not (
            isinstance(url, str) and re.match(r"(?i)(https?|tg)://\S+$", url)
        ):
            raise _bad("BUTTON_URL_INVALID")

    # ---------------------------------------------------------------- methods: bot & updates

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", 0) or 0
        limit = min(max(_int_param(params, "limit", 100) or 100, 1), 100)
        timeout = params.get("timeout") or 0
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise _bad("invalid timeout specified")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) or None
        # Confirm (forget) updates below offset; a negative offset keeps the last -offset.
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # terminates an older long poll with 409
        deadline = time.monotonic() + max(0.0, float(timeout))
        while True:
            self._updates = [u for u in self._updates if self._is_allowed(u)]
            if self._updates or self._stopping:
                return copy.deepcopy(self._updates[:limit])
            if generation != self._poll_generation:
                raise ApiError(409, _default_description(409, 0))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(remaining)

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = _update_type(update)
        if self._allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            self._webhook = None
            return True
        if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url):
            raise _bad("bad webhook: can't parse URL")
        if self.require_https_webhook and not url.startswith("https://"):
            raise _bad("bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) or None
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": _int_param(params, "max_connections", 40),
            "allowed_updates": allowed if isinstance(allowed, list) else None,
        }
        for update in self._updates:  # pending updates now go to the webhook
            self._webhook_queue.put((url, secret, update))
        self._updates.clear()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        pending = len(self._updates) + self._webhook_queue.qsize()
        if self._webhook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
        info = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self._webhook["max_connections"],
        }
        if self._webhook["allowed_updates"]:
            info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    @property
    def webhook(self) -> dict[str, Any] | None:
        """The current webhook (url, secret_token, max_connections, allowed_updates) or None."""
        with self._cond:
            return dict(self._webhook) if self._webhook else None

    def _webhook_loop(self) -> None:
        """Deliver updates to the webhook in order, retrying briefly like Telegram does."""
        while (item := self._webhook_queue.get()) is not None:
            url, secret, update = item
            status = 0
            for attempt in range(5):
                try:
                    status = post_update_to_webhook(url, update, secret)
                except OSError:
                    status = 0
                if 200 <= status < 300 or self._stopped.wait(0.1 * 2**attempt):
                    break
            with self._cond:
                self.webhook_deliveries.append((update["update_id"], status))
                self._cond.notify_all()

    # ---------------------------------------------------------------- methods: messages

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        text, entities = self._message_text(params)
        markup = self._reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self._check_flood(chat)
        return self._bot_message(
            chat, text=text, entities=entities, reply_markup=markup, reply_to_message=reply_to
        )

    def _editable(self, params: dict[str, Any], not_found: str) -> dict[str, Any]:
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        key = (chat["id"], message_id)
        if key not in self._messages:
            raise _bad(not_found)
        if key not in self._bot_messages:
            raise _bad("message can't be edited")
        return self._messages[key]

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities = self._message_text(params)
        markup = self._reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked
        message = self._editable(params, "message to edit not found")
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        if (message["text"], message.get("entities", []), message.get("reply_markup")) == (
            text,
            entities,
            markup,
        ):
            raise _bad(NOT_MODIFIED)
        message["text"] = text
        self._set_optional(message, "entities", entities or None)
        self._set_optional(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = self._reply_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        message = self._editable(params, "message to edit not found")
        if message.get("reply_markup") == markup:
            raise _bad(NOT_MODIFIED)
        self._set_optional(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    @staticmethod
    def _set_optional(message: dict[str, Any], key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params)
        key = (chat["id"], params.get("message_id"))
        if not isinstance(key[1], int) or key not in self._messages:
            raise _bad("message to delete not found")
        del self._messages[key]
        self._deleted.add(key)
        return True

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    # ---------------------------------------------------------------- methods: queries

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_callback_queries:
            raise _bad(QUERY_INVALID)
        text = params.get("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        self._callback_answers[query_id] = {
            "text": text,
            "show_alert": _bool_param(params, "show_alert"),
            "url": params.get("url"),
            "cache_time": _int_param(params, "cache_time", 0),
        }
        return True

    def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("inline_query_id")
        if query_id not in self._open_inline_queries:
            raise _bad(QUERY_INVALID)
        results = params.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise _bad("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = result.get("id")
            if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if not isinstance(result.get("type"), str):
                raise _bad("can't parse inline query result: type is missing")
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._message_text(content, "message_text")
            self._reply_markup(result.get("reply_markup"))
        button = params.get("button")
        if button is not None:
            self._check_results_button(button)
        next_offset = params.get("next_offset") or ""
        if len(str(next_offset).encode()) > 64:
            raise _bad("next_offset is too long")
        self._open_inline_queries.discard(query_id)
        self._inline_answers[query_id] = {
            "results": results,
            "button": button,
            "next_offset": next_offset,
            "cache_time": _int_param(params, "cache_time", 300),
            "is_personal": _bool_param(params, "is_personal"),
        }
        return True

    @staticmethod
    def _check_results_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad("can't parse InlineQueryResultsButton JSON object")
        if not button["text"]:
            raise _bad("BUTTON_TEXT_INVALID")
        has_app, has_start = "web_app" in button, "start_parameter" in button
        if has_app == has_start:
            raise _bad("InlineQueryResultsButton must have exactly one of web_app/start_parameter")
        start = button.get("start_parameter")
        if has_start and not (
            isinstance(start, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", start)
        ):
            raise _bad("START_PARAM_INVALID")

    # ---------------------------------------------------------------- methods: polls

    def _send_poll(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        question, question_entities = self._formatted(
            str(params.get("question") or ""),
            params.get("question_parse_mode"),
            params.get("question_entities"),
        )
        if not question.strip():
            raise _bad("poll question must be non-empty")
        if len(question) > POLL_QUESTION_MAX:
            raise _bad(f"poll question length must not exceed {POLL_QUESTION_MAX}")
        options = self._poll_options(params.get("options"))
        poll_type = params.get("type") or "regular"
        if poll_type not in ("regular", "quiz"):
            raise _bad("wrong poll type specified")
        multiple = _bool_param(params, "allows_multiple_answers")
        poll: dict[str, Any] = {
            "id": str(next(self._poll_ids)),
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": _bool_param(params, "is_closed"),
            "is_anonymous": _bool_param(params, "is_anonymous", True),
            "type": poll_type,
            "allows_multiple_answers": multiple,
            "allows_revoting": _bool_param(params, "allows_revoting", poll_type == "regular"),
            "members_only": _bool_param(params, "members_only"),
        }
        if question_entities:
            poll["question_entities"] = question_entities
        if poll_type == "quiz":
            poll["correct_option_ids"] = self._correct_options(params, len(options), multiple)
            explanation, explanation_entities = self._formatted(
                str(params.get("explanation") or ""),
                params.get("explanation_parse_mode"),
                params.get("explanation_entities"),
            )
            if len(explanation) > POLL_EXPLANATION_MAX:
                raise _bad(f"explanation length must not exceed {POLL_EXPLANATION_MAX}")
            if explanation.count("\n") > POLL_EXPLANATION_MAX_LINE_FEEDS:
                raise _bad("explanation can't have more than 2 line feeds")
            if explanation:
                poll["explanation"] = explanation
            if explanation_entities:
                poll["explanation_entities"] = explanation_entities
        open_period = _int_param(params, "open_period")
        if open_period is not None:
            if not 5 <= open_period <= 2_628_000:
                raise _bad("wrong open period specified")
            poll["open_period"] = open_period
        close_date = _int_param(params, "close_date")
        if close_date is not None:
            poll["close_date"] = close_date
        markup = self._reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self._check_flood(chat)
        message = self._bot_message(
            chat, poll=poll, reply_markup=markup, reply_to_message=reply_to
        )
        self._polls[poll["id"]] = message
        return message

    def _poll_options(self, raw_options: Any) -> list[dict[str, Any]]:
        """Options arrive as strings or InputPollOption objects (PTB 22.8 sends objects)."""
        if not isinstance(raw_options, list):
            raise _bad("can't parse options JSON object")
        if len(raw_options) < POLL_MIN_OPTIONS:
            raise _bad(f"poll must have at least {POLL_MIN_OPTIONS} option")
        if len(raw_options) > POLL_MAX_OPTIONS:
            raise _bad(f"poll can't have more than {POLL_MAX_OPTIONS} options")
        options = []
        for number, item in enumerate(raw_options):
            if isinstance(item, str):
                text, entities = item, []
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                text, entities = self._formatted(
                    item["text"], item.get("text_parse_mode"), item.get("text_entities")
                )
            else:
                raise _bad("can't parse InputPollOption JSON object")
            if not text.strip():
                raise _bad("poll options must be non-empty")
            if len(text) > POLL_OPTION_MAX:
                raise _bad(f"poll options length must not exceed {POLL_OPTION_MAX}")
            option = {"text": text, "voter_count": 0, "persistent_id": str(number)}
            if entities:
                option["text_entities"] = entities
            options.append(option)
        return options

    @staticmethod
    def _correct_options(params: dict[str, Any], option_count: int, multiple: bool) -> list:
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [params["correct_option_id"]]  # the pre-9.6 parameter
        if not correct:
            raise _bad("quiz poll must have correct_option_ids")
        if not isinstance(correct, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in correct
        ):
            raise _bad("can't parse correct_option_ids JSON object")
        if any(not 0 <= i < option_count for i in correct):
            raise _bad("wrong correct option ID specified")
        if correct != sorted(set(correct)):
            raise _bad("correct option IDs must be unique and increasing")
        if len(correct) > 1 and not multiple:
            raise _bad("quiz poll with a single answer must have exactly one correct option")
        return correct

    def _stop_poll(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(params, "message with poll to stop not found")
        poll = message.get("poll")
        if poll is None:
            raise _bad("message is not a poll")
        if poll["is_closed"]:
            raise _bad("poll has already been closed")
        poll["is_closed"] = True
        markup = self._reply_markup(params.get("reply_markup"))
        self._set_optional(message, "reply_markup", markup)
        return poll

    # ---------------------------------------------------------------- methods: settings

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad("can't parse BotCommandScope JSON object")
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "")) <= 256:
                raise _bad("command description must be 1-256 characters")
        key = self._scope_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._commands.get(self._scope_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _set_description(self, params: dict[str, Any], kind: str, limit: int) -> bool:
        text = params.get(kind) or ""
        if len(text) > limit:
            raise _bad(f"{kind.replace('_', ' ')} is too long")
        self._descriptions[(kind, params.get("language_code") or "")] = text
        return True

    def _get_description(self, params: dict[str, Any], kind: str) -> dict[str, str]:
        return {kind: self._descriptions.get((kind, params.get("language_code") or ""), "")}

    def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        chat_id = self._target_chat(params)["id"] if params.get("chat_id") else None
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad("can't parse MenuButton JSON object")
        self._menu_buttons[chat_id] = button
        return True

    def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params)["id"] if params.get("chat_id") else None
        return (
            self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "default"}
        )

    # ---------------------------------------------------------------- methods: chats

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params, writing=False)
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**dict.fromkeys(gifts, True), "gifts_from_channels": True},
        }

    def _member(self, chat_id: int, user_id: int, status: str | None = None) -> dict[str, Any]:
        """A ChatMember dict with the fields PTB 22.8 requires for each status."""
        user = self._user(user_id)
        admins = self._admins.get(chat_id, [])
        if status is None:
            status = "member"
            if user_id in admins:
                status = "creator" if admins[0] == user_id else "administrator"
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            rights = _names(
                "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members "
                "can_change_info can_invite_users can_post_stories can_edit_stories "
                "can_delete_stories can_pin_messages"
            )
            member.update(dict.fromkeys(rights, True))
            member.update(can_be_edited=False, is_anonymous=False, can_promote_members=False)
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "restricted":
            rights = _names(
                "can_change_info can_invite_users can_pin_messages can_send_messages "
                "can_send_polls can_send_other_messages can_add_web_page_previews "
                "can_manage_topics can_send_audios can_send_documents can_send_photos "
                "can_send_videos can_send_video_notes can_send_voice_notes can_edit_tag"
            )
            member.update(dict.fromkeys(rights, False), is_member=True, until_date=0)
        return member

    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params, writing=False)
        user_id = params.get("user_id")
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise _bad("invalid user_id specified")
        return self._member(chat["id"], user_id)

    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._target_chat(params, writing=False)
        if chat["type"] == "private":
            raise _bad("there are no administrators in the private chat")
        return [self._member(chat["id"], uid) for uid in self._admins.get(chat["id"], [])]

    # ---------------------------------------------------------------- injecting updates

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Updates pushed inside ``with api.batch():`` reach the bot in one getUpdates answer
        (nothing is served meanwhile), and faults set inside apply before any of them."""
        with self._cond:
            yield

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any update (an update_id is added if missing) and return it.

        While a webhook is set the update is POSTed to it instead of being queued.
        """
        update = copy.deepcopy(update)
        with self._cond:
            update.setdefault("update_id", self._next_update_id)
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            if self._webhook is not None:
                secret = self._webhook["secret_token"]
                self._webhook_queue.put((self._webhook["url"], secret, update))
            else:
                self._updates.append(update)
                self._cond.notify_all()
        return copy.deepcopy(update)

    def _incoming_message(
        self,
        chat_id: int,
        chat_type: str,
        user_id: int | None,
        username: str | None,
        first_name: str | None,
        title: str | None,
        **content: Any,
    ) -> dict[str, Any]:
        if user_id is None:
            user_id = chat_id if chat_type == "private" else DEFAULT_USER_ID
        user = self._user(user_id, username, first_name)
        chat = self._incoming_chat(chat_id, chat_type, user, title)
        return self._new_message(chat, user, **content)

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        chat_type: str = "private",
        user_id: int | None = None,
        username: str | None = None,
        first_name: str | None = None,
        title: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text``; bot_command, mention and url entities are added for you.

        In private chats the user defaults to ``chat_id``; in groups to DEFAULT_USER_ID.
        """
        with self._cond:
            reply_to = None
            if reply_to_message_id is not None:
                original = self._messages.get((chat_id, reply_to_message_id))
                if original is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                reply_to = {k: v for k, v in original.items() if k != "reply_to_message"}
            message = self._incoming_message(
                chat_id,
                chat_type,
                user_id,
                username,
                first_name,
                title,
                text=text,
                entities=_detect_entities(text) if entities is None else entities,
                reply_to_message=copy.deepcopy(reply_to),
            )
            return self.push_update({"message": message})

    def send_sticker(
        self,
        chat_id: int,
        *,
        emoji: str = "👍",
        chat_type: str = "private",
        user_id: int | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        sticker = {
            "file_id": f"CAACAgIAAxkBAAI{time.monotonic_ns()}",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        with self._cond:
            message = self._incoming_message(
                chat_id, chat_type, user_id, None, None, title, sticker=sticker
            )
            return self.push_update({"message": message})

    def send_photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        chat_type: str = "private",
        user_id: int | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        base = f"AgACAgIAAxkBAAI{time.monotonic_ns()}"
        photo = [
            {"file_id": f"{base}_{w}", "file_unique_id": f"AQAD{w}", "width": w, "height": w}
            for w in (90, 320, 800)
        ]
        with self._cond:
            message = self._incoming_message(
                chat_id, chat_type, user_id, None, None, title, photo=photo, caption=caption
            )
            return self.push_update({"message": message})

    def edited_text(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """A user edits one of their earlier messages (sent with ``send_text``)."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None or (chat_id, message_id) in self._bot_messages:
                raise ValueError(f"no user message {message_id} in chat {chat_id}")
            message["text"] = text
            self._set_optional(message, "entities", _detect_entities(text) or None)
            message["edit_date"] = int(time.time())
            return self.push_update({"edited_message": message})

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """Someone (an admin, the user) deletes a message: it can no longer be edited."""
        with self._cond:
            if self._messages.pop((chat_id, message_id), None) is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            self._deleted.add((chat_id, message_id))

    def channel_post(
        self, chat_id: int, text: str, *, title: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        with self._cond:
            chat = self._incoming_chat(chat_id, "channel", {}, title)
            if username:
                chat["username"] = username
                self._chats[chat_id]["username"] = username
            message = self._new_message(chat, None, text=text, entities=_detect_entities(text))
            return self.push_update({"channel_post": message})

    def new_chat_members(
        self,
        chat_id: int,
        user_ids: Iterable[int],
        *,
        chat_type: str = "group",
        title: str | None = None,
        by_user_id: int | None = None,
    ) -> dict[str, Any]:
        """Service message: users (use ``api.bot_id`` for the bot itself) joined a group."""
        with self._cond:
            members = [self._user(uid) for uid in user_ids]
            if not members:
                raise ValueError("new_chat_members needs at least one user id")
            adder_id = by_user_id if by_user_id is not None else members[0]["id"]
            message = self._incoming_message(
                chat_id, chat_type, adder_id, None, None, title, new_chat_members=members
            )
            return self.push_update({"message": message})

    def press_button(
        self,
        message: dict[str, Any] | tuple[int, int],
        data: str,
        *,
        user_id: int | None = None,
        forged: bool = False,
        expired: bool = False,
    ) -> str:
        """A user presses the inline button with ``data`` on a bot message; returns the
        callback query id.  The button must exist on the message's *current* keyboard,
        unless ``forged`` (a modified client can send any callback data). ``expired``: the
        update arrives too late to be answered (answerCallbackQuery says "query is too
        old", as Telegram does some 15 s after the press)."""
        with self._cond:
            key = (
                message
                if isinstance(message, tuple)
                else (
                    message["chat"]["id"],
                    message["message_id"],
                )
            )
            current = self._messages.get(key)
            if current is None:
                raise ValueError(f"message {key} does not exist (deleted?)")
            rows = current.get("reply_markup", {}).get("inline_keyboard", [])
            datas = [button.get("callback_data") for row in rows for button in row]
            if data not in datas and not forged:
                raise ValueError(f"message {key} has no button {data!r}; it has {datas}")
            if user_id is None:
                user_id = key[0] if current["chat"]["type"] == "private" else DEFAULT_USER_ID
            query_id = str(next(self._query_ids))
            if not expired:
                self._open_callback_queries.add(query_id)
            self.push_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": self._user(user_id),
                        "message": current,
                        "chat_instance": str(abs(hash(key[0]))),
                        "data": data,
                    }
                }
            )
            return query_id

    def inline_query(
        self,
        query: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        offset: str = "",
        chat_type: str = "sender",
    ) -> str:
        """A user types ``@bot query``; returns the inline query id to expect an answer for."""
        with self._cond:
            query_id = str(next(self._query_ids))
            self._open_inline_queries.add(query_id)
            self.push_update(
                {
                    "inline_query": {
                        "id": query_id,
                        "from": self._user(user_id),
                        "query": query,
                        "offset": offset,
                        "chat_type": chat_type,
                    }
                }
            )
            return query_id

    def poll_answer(self, poll_id: str, user_id: int, option_ids: list[int]) -> dict[str, Any]:
        """A user votes in a non-anonymous poll the bot sent (empty list: vote retracted)."""
        with self._cond:
            message = self._polls.get(poll_id)
            if message is None:
                raise ValueError(f"unknown poll {poll_id!r}")
            poll = message["poll"]
            if poll["is_anonymous"]:
                raise ValueError("Telegram sends poll_answer only for non-anonymous polls")
            if any(not 0 <= i < len(poll["options"]) for i in option_ids):
                raise ValueError(f"option ids {option_ids} out of range")
            self._votes[(poll_id, user_id)] = list(option_ids)
            for number, option in enumerate(poll["options"]):
                option["voter_count"] = sum(
                    number in ids for (pid, _), ids in self._votes.items() if pid == poll_id
                )
            poll["total_voter_count"] = sum(
                1 for (pid, _), ids in self._votes.items() if pid == poll_id and ids
            )
            answer = {
                "poll_id": poll_id,
                "user": self._user(user_id),
                "option_ids": list(option_ids),
                "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
            }
            return self.push_update({"poll_answer": answer})

    def migrate_to_supergroup(
        self, chat_id: int, *, user_id: int | None = None, announce: bool = True
    ) -> int:
        """The group ``chat_id`` becomes a supergroup, as Telegram does it: a new chat id
        (-100...), a service message with ``migrate_to_chat_id`` in the old group and one
        with ``migrate_from_chat_id`` in the new supergroup; from then on, sending to the old
        id fails with 400 and ``migrate_to_chat_id``. ``announce=False``: the service messages
        are not delivered (the bot was down, say). Returns the new id."""
        with self._cond:
            old = self._chat_by_id(chat_id)
            if old["type"] != "group":
                raise ValueError(f"chat {chat_id} is a {old['type']}, not a group")
            new_id = -1_000_000_000_000 - abs(chat_id)
            user = self._user(user_id if user_id is not None else DEFAULT_USER_ID)
            new = {"id": new_id, "type": "supergroup", "title": old.get("title", "")}
            self._chats[new_id] = new
            to_message = self._new_message(old, user, migrate_to_chat_id=new_id)
            from_message = self._new_message(new, user, migrate_from_chat_id=chat_id)
            self._migrated[chat_id] = new_id
            if announce:
                self.push_update({"message": to_message})
                self.push_update({"message": from_message})
            return new_id

    def my_chat_member(
        self,
        chat_id: int,
        new_status: str = "kicked",
        *,
        old_status: str = "member",
        chat_type: str = "private",
        user_id: int | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """The bot's own membership changed; "kicked"/"left" also blocks the chat for sending,
        "member"/"administrator" unblocks it."""
        with self._cond:
            if user_id is None:
                user_id = chat_id if chat_type == "private" else DEFAULT_USER_ID
            user = self._user(user_id)
            chat = self._incoming_chat(chat_id, chat_type, user, title)
            if new_status in ("kicked", "left"):
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)
            change = {
                "chat": chat,
                "from": user,
                "date": int(time.time()),
                "old_chat_member": self._member(chat_id, self.bot_id, old_status),
                "new_chat_member": self._member(chat_id, self.bot_id, new_status),
            }
            return self.push_update({"my_chat_member": change})

    def post_update_to_webhook(
        self, url: str, update: dict[str, Any], secret_token: str | None = None
    ) -> int:
        """See the module-level ``post_update_to_webhook`` (blocking)."""
        return post_update_to_webhook(url, update, secret_token)

    async def post_update_to_webhook_async(
        self, url: str, update: dict[str, Any], secret_token: str | None = None
    ) -> int:
        """Same, in a worker thread, for tests whose event loop runs the webhook server."""
        return await asyncio.to_thread(post_update_to_webhook, url, update, secret_token)

    # ---------------------------------------------------------------- inspecting

    def calls(self, method: MethodFilter = None, *, after: int = 0) -> list[Call]:
        """Recorded calls (all, or of one method / several methods), oldest first."""
        with self._cond:
            return self._matching(method, None, after)

    def mark(self) -> int:
        """An index to pass as ``after=`` so that only later calls count."""
        with self._cond:
            return len(self._calls)

    def sent_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = True
    ) -> list[dict[str, Any]]:
        """Every message the bot sent successfully, in order, in its current (edited) state."""
        with self._cond:
            return [
                copy.deepcopy(message)
                for key, message in self._bot_messages.items()
                if (chat_id is None or key[0] == chat_id)
                and (include_deleted or key not in self._deleted)
            ]

    def get_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message's current state (bot's or user's), or None if unknown or deleted."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            return copy.deepcopy(message) if message else None

    def last_message(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The bot's most recent message that still exists (in ``chat_id`` if given)."""
        messages = self.sent_messages(chat_id, include_deleted=False)
        return messages[-1] if messages else None

    def keyboard(self, chat_id: int, message_id: int) -> list[list[dict[str, Any]]]:
        """The current inline keyboard rows of a message ([] if none)."""
        message = self.get_message(chat_id, message_id) or {}
        return message.get("reply_markup", {}).get("inline_keyboard", [])

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        with self._cond:
            return (chat_id, message_id) in self._deleted

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self._callback_answers.get(query_id))

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self._inline_answers.get(query_id))

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The commands set with setMyCommands for a scope (default scope if None)."""
        with self._cond:
            params = {"scope": scope, "language_code": language_code}
            return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    def description(self, kind: str = "description", language_code: str = "") -> str:
        """What setMyDescription (or, with kind="short_description", the short one) stored."""
        with self._cond:
            return self._descriptions.get((kind, language_code), "")

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self._menu_buttons.get(chat_id))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    # ---------------------------------------------------------------- waiting

    def _matching(
        self, method: MethodFilter, predicate: CallPredicate | None, after: int
    ) -> list[Call]:
        if method is None:
            names = None
        else:
            wanted = [method] if isinstance(method, str) else list(method)
            names = {self._canonical.get(m.lower(), m) for m in wanted}
        found = []
        for call in self._calls[after:]:
            if names is not None and call.method not in names:
                continue
            try:
                if predicate is not None and not predicate(call):
                    continue
            except (KeyError, IndexError, TypeError, AttributeError):
                continue  # a predicate written for successful calls met a failed one
            found.append(call)
        return found

    def _timeout_message(self, method: MethodFilter, count: int, got: int, timeout: float) -> str:
        recent = "\n  ".join(call.summary() for call in self._calls[-15:]) or "(none)"
        return (
            f"timed out after {timeout}s waiting for {count} matching {method or 'any'} "
            f"call(s), saw {got}. Recent calls:\n  {recent}"
        )

    def wait_for_sync(
        self,
        method: MethodFilter = None,
        predicate: CallPredicate | None = None,
        *,
        timeout: float = 5.0,
        count: int = 1,
        after: int = 0,
    ) -> list[Call]:
        """Block until ``count`` matching calls were recorded; return the first ``count``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._matching(method, predicate, after)
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_message(method, count, len(found), timeout))
                self._cond.wait(remaining)

    async def wait_for(
        self,
        method: MethodFilter = None,
        predicate: CallPredicate | None = None,
        *,
        timeout: float = 5.0,
        count: int = 1,
        after: int = 0,
    ) -> list[Call]:
        """Async ``wait_for_sync``: polls every 10 ms without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                found = self._matching(method, predicate, after)
                if len(found) >= count:
                    return found[:count]
                if time.monotonic() >= deadline:
                    raise AssertionError(self._timeout_message(method, count, len(found), timeout))
            await asyncio.sleep(0.01)

    async def wait_for_message(
        self,
        chat_id: int | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int = 0,
    ) -> dict[str, Any]:
        """Wait for a successful sendMessage/sendPoll (to ``chat_id``) and return the Message."""

        def matches(call: Call) -> bool:
            message = call.result
            return (
                call.ok
                and (chat_id is None or message["chat"]["id"] == chat_id)
                and (predicate is None or predicate(message))
            )

        calls = await self.wait_for(
            ("sendMessage", "sendPoll"), matches, timeout=timeout, after=after
        )
        return calls[0].result
