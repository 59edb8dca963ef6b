"""Text for a terminal: nothing in it can steer the terminal, and lines fit its width.

Replies are Telegram HTML; :attr:`bot.reply.Reply.plain` makes them plain text, and
:func:`printable` then shows every control character as an escape (``\\x1b``), so that neither
a question typed in nor a text of the knowledge base (or of an imported spreadsheet) can move
the cursor, retitle the window or reorder a line (the bidirectional controls). :func:`wrap`
breaks lines at spaces to a width counted in terminal columns (Khmer vowel signs and
subscripts take none, wide characters two), never inside a word, and keeps a list item's
text under its first word.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters but the line break and tab, DEL, and the bidirectional
marks, embeddings, overrides and isolates; Khmer's zero-width space and joiners are kept."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character that could steer a terminal written as an escape."""
    return _CONTROLS.sub(_escape, text.replace("\t", "    "))


def json_printable(text: str) -> str:
    """JSON text with the characters that could steer a terminal (see :func:`printable`)
    written as ``\\uXXXX`` escapes: the same JSON value, safe to print. ``json.dumps``
    escapes C0 controls itself, but not DEL, C1 or the bidirectional controls."""
    return _CONTROLS.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def char_width(char: str) -> int:
    """The columns a character takes in a terminal (as ``wcwidth`` counts them)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2
    return 1


def width(text: str) -> int:
    """The columns ``text`` takes on one line."""
    return sum(char_width(c) for c in text)


_ITEM = re.compile(r"^(\s*(?:[•◦▪‣*-]|\d{1,3}[.)])\s+|\s+)")
"""The start of a list item ("• ", "12. ", "  3. ") or an indented line: what its next lines
are indented by."""
_BREAK = re.compile(r"( +|\u200b)")
"""Where a line may break: at spaces, and at a zero-width space (Khmer writes words without
spaces, and may mark where a line can break with one)."""


def wrap_line(line: str, columns: int) -> list[str]:
    """One line broken at spaces into lines of at most ``columns`` columns; a word longer
    than that stays whole on a line of its own. The lines after the first are indented as
    far as the text after a list item's bullet or number."""
    if columns <= 0 or width(line) <= columns:
        return [line]
    lead = _ITEM.match(line)
    indent = " " * width(lead[0]) if lead else ""
    if width(indent) > columns // 2:
        indent = ""
    head, rest = (lead[0], line[len(lead[0]) :]) if lead else ("", line)
    words = [w for w in _BREAK.split(rest) if w]
    lines: list[str] = []
    current, used = head, width(head)
    pending = ""  # the space (or zero-width space) before the next word
    for word in words:
        if _BREAK.fullmatch(word):
            pending = word
            continue
        gap = pending
        wanted = width(gap) + width(word)
        if used + wanted <= columns or not current.strip():
            joined = current + gap + word if current.strip() else current + word
            current, used = joined, width(joined)
        else:
            lines.append(current.rstrip())
            current = indent + word
            used = width(current)
        pending = ""
    lines.append(current.rstrip())
    return lines


def wrap(text: str, columns: int) -> str:
    """Every line of ``text`` wrapped to ``columns`` (see :func:`wrap_line`)."""
    return "\n".join(out for line in text.split("\n") for out in wrap_line(line, columns))
