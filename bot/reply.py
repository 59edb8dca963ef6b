"""What the brain gives back, and the HTML rules every reply keeps.

A :class:`Reply` is channel-neutral: text in Telegram's HTML subset, the intent and confidence,
whether it answered, and optional buttons. Buttons carry an *action* (see :mod:`bot.actions`)
that any channel can send back to :meth:`bot.brain.Brain.run`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Generic, TypeVar

from bot.limits import MAX_TEXT  # re-exported: the limit every reply keeps

S = TypeVar("S", bound=str)

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}  # fmt: skip


def esc(value: object) -> str:
    """Escape a dynamic value for Telegram HTML (< > & and quotes)."""
    return html.escape(str(value), quote=True)


def bold(value: object) -> str:
    return f"<b>{esc(value)}</b>"


@dataclass(frozen=True)
class Button:
    """A choice offered to the user: a label and the action it runs."""

    label: str
    action: str


@dataclass(frozen=True)
class Reply:
    text: str
    intent: str | None = None
    confidence: float = 0.0
    answered: bool = False
    buttons: tuple[Button, ...] = ()
    suggestions: tuple[Button, ...] = ()
    action: str | None = None  # the action that shows this reply again (for paging and links)
    page: int = 0
    pages: int = 1
    parent: str | None = None  # where "Back" leads, if anywhere
    title: str = ""  # a short plain-text title: "Where was ASEM5 held?"
    facts: frozenset[tuple[str, str]] = frozenset()  # what it states: ("city", "hanoi")...
    exists: bool | None = None  # whether what was asked for exists (None: not that question)
    verdict: str | None = None  # "yes" / "no" / "online": how it answered a yes/no question
    topic: object | None = None  # what it was about (bot.dialogue.Topic), for follow-ups
    nearest: str | None = None  # a decline: the intent it came closest to (for learning)

    @property
    def plain(self) -> str:
        """The text without HTML, for the terminal."""
        return html_to_plain(self.text)


def _link_as_text(match: re.Match[str]) -> str:
    href, label = match[1], match[2]
    return label if label == href else f"{label} ({href})"


def html_to_plain(text: str) -> str:
    text = re.sub(r"<a href=\"([^\"]*)\">(.*?)</a>", _link_as_text, text, flags=re.S)
    text = re.sub(r"</?[a-z-]+(\s[^>]*)?>", "", text)
    return html.unescape(text)


class _TelegramHtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.length = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed")
        if tag == "a" and not dict(attrs).get("href"):
            self.errors.append("<a> needs href")
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.errors.append("<span> needs class=tg-spoiler")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes nothing open")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.length += len(data.encode("utf-16-le")) // 2


def html_problems(text: str) -> list[str]:
    """Why Telegram would refuse ``text`` as an HTML message (empty list: it would not)."""
    checker = _TelegramHtmlChecker()
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        checker.errors.append("a bare & must be written &amp;")
    if re.search(r"<(?![a-z/-])", text):
        checker.errors.append("a bare < must be written &lt;")
    checker.feed(text)
    checker.close()
    if checker.stack:
        checker.errors.append(f"<{checker.stack[-1]}> is never closed")
    if not 1 <= checker.length <= MAX_TEXT:
        checker.errors.append(f"text length {checker.length} is outside 1..{MAX_TEXT}")
    return checker.errors


def truncate_html(text: str, limit: int = MAX_TEXT) -> str:
    """Cut a reply at a line boundary so it fits ``limit`` and keeps its tags balanced."""
    if len(text) <= limit or len(html_to_plain(text)) <= limit:  # the markup only adds
        return text
    kept: list[str] = []
    for line in text.split("\n"):
        candidate = "\n".join([*kept, line, "…"])
        if len(html_to_plain(candidate)) > limit:
            break
        kept.append(line)
    return "\n".join([*kept, "…"])


@dataclass(frozen=True)
class Page(Generic[S]):
    """A slice of a long list."""

    lines: tuple[S, ...]
    page: int
    pages: int


def paginate(lines: Sequence[S], page: int, per_page: int) -> Page[S]:
    pages = max(1, -(-len(lines) // per_page))
    page = min(max(page, 0), pages - 1)
    return Page(tuple(lines[page * per_page : (page + 1) * per_page]), page, pages)
