"""Text for a terminal: nothing in it can steer the terminal.

Replies are Telegram HTML; :attr:`bot.reply.Reply.plain` makes them plain text, and
:func:`printable` then shows every control character as an escape (``\\x1b``), so that neither
a question typed in nor a text of the knowledge base (or of an imported spreadsheet) can move
the cursor, retitle the window or reorder a line (the bidirectional controls).
"""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters but the line break and tab, DEL, and the bidirectional
marks, embeddings, overrides and isolates; Khmer's zero-width space and joiners are kept."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character that could steer a terminal written as an escape."""
    return _CONTROLS.sub(_escape, text.replace("\t", "    "))
