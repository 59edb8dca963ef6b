"""Actions: a compact, text form of "answer this intent about these things".

Buttons and "did you mean" suggestions carry an action, so a press can be answered without
the original question: ``meeting.info:meeting=summit_13`` or ``partner.list:group=asean``.
Actions are ASCII and short enough for Telegram's 64-byte callback data.

Deep links, which allow fewer characters, are made from actions in :mod:`bot.domain.links`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INTENT = r"[a-z0-9_]+(?:\.[a-z0-9_]+)*"
_SLOT = r"[a-z_]+=[a-z0-9_]+"
_ACTION = re.compile(rf"^(?P<intent>{_INTENT})(?::(?P<slots>{_SLOT}(?:,{_SLOT})*))?$")
_DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MAX_ACTION_BYTES = 60  # leaves room for a page marker within Telegram's 64 bytes


@dataclass(frozen=True)
class Action:
    intent: str
    slots: tuple[tuple[str, str], ...] = ()

    def encode(self) -> str:
        if not self.slots:
            return self.intent
        return self.intent + ":" + ",".join(f"{k}={v}" for k, v in self.slots)

    def __str__(self) -> str:
        return self.encode()

    def values(self, slot_type: str) -> list[str]:
        return [v for k, v in self.slots if k == slot_type]


def parse_action(text: str) -> Action | None:
    """The action in ``text``, or None if it is not one (a forged or stale payload)."""
    if not isinstance(text, str) or len(text.encode()) > MAX_ACTION_BYTES:
        return None
    match = _ACTION.match(text)
    if not match:
        return None
    slots: tuple[tuple[str, str], ...] = ()
    if match["slots"]:
        slots = tuple(tuple(s.split("=", 1)) for s in match["slots"].split(","))  # type: ignore[misc]
    return Action(match["intent"], slots)
