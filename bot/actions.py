"""Actions: a compact, text form of "answer this intent about these things".

Buttons and "did you mean" suggestions carry an action, so a press can be answered without
the original question: ``meeting.info:meeting=summit_13`` or ``partner.list:group=asean``.
Actions are ASCII and short enough for Telegram's 64-byte callback data.

Deep links (``t.me/<bot>?start=<payload>``) allow only ``A-Za-z0-9_-``, so they use topic
names: ``summit_13``, ``fmm_2``, ``partner_kh``, ``area_7``, ``kind_som``, a menu topic such as
``summits`` or ``asef``, or any intent with dots written as dashes (``asef-funding``).
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


# Menu topics: the names used in the /start menu and in deep links.
TOPICS: dict[str, Action] = {
    "about": Action("asem.about"),
    "summits": Action("meeting.list", (("meeting_kind", "summit"),)),
    "fmms": Action("meeting.list", (("meeting_kind", "fmm"),)),
    "fmm": Action("meeting.list", (("meeting_kind", "fmm"),)),
    "partners": Action("partner.list"),
    "areas": Action("area.list"),
    "asef": Action("asef.about"),
    "cambodia": Action("partner.info", (("country", "kh"),)),
    "asem13": Action("meeting.info", (("meeting", "summit_13"),)),
    "help": Action("smalltalk.help"),
}

# Entity cards: deep-link prefix -> (intent, slot type)
_CARDS = {
    "summit": ("meeting.info", "meeting"),
    "fmm": ("meeting.info", "meeting"),
    "partner": ("partner.info", "country"),
    "area": ("area.check", "area"),
    "kind": ("meeting_kind.about", "meeting_kind"),
    "group": ("partner.list", "group"),
}


def from_deep_link(payload: str) -> Action | None:
    """The action a deep-link payload opens, or None if the payload is not one we make."""
    if not isinstance(payload, str) or not _DEEP_LINK.match(payload):
        return None
    payload = payload.lower()
    if payload in TOPICS:
        return TOPICS[payload]
    prefix, _, rest = payload.partition("_")
    if prefix in _CARDS and rest and re.fullmatch(r"[a-z0-9_]+", rest):
        intent, slot = _CARDS[prefix]
        value = f"{prefix}_{rest}" if slot == "meeting" else rest
        return Action(intent, ((slot, value),))
    if re.fullmatch(r"[a-z0-9_]+(-[a-z0-9_]+)+", payload):
        return Action(payload.replace("-", "."))
    return None


def to_deep_link(action: Action) -> str | None:
    """The deep-link payload for ``action``, if it has one (a card name before a topic)."""
    if len(action.slots) == 1:
        slot, value = action.slots[0]
        for prefix, (intent, slot_type) in _CARDS.items():
            if action.intent == intent and slot == slot_type:
                if slot != "meeting":
                    return f"{prefix}_{value}"
                if value.startswith(prefix + "_"):
                    return value
    for name, topic in TOPICS.items():
        if topic == action and name != "fmm":
            return name
    if not action.slots:
        return action.intent.replace(".", "-")
    return None
