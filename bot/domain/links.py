"""Deep links: ``t.me/<bot>?start=<payload>`` opens the bot on one fact.

Payloads allow only ``A-Za-z0-9_-`` (64 characters), so they name things: a meeting by its key
(``summit_13``, ``fmm_2``, ``asemme_7``), another card by its kind's prefix (``partner_kh``,
``area_7``, ``kind_som``, ``group_asean``; see :data:`bot.domain.kinds.KINDS`), a menu topic
(``summits``, ``asef``), or any intent with its dots written as dashes (``asef-funding``).
Whether the thing exists is checked when the link is opened (:meth:`bot.brain.Brain.run`).
"""

from __future__ import annotations

import re

from bot.actions import Action
from bot.domain.kinds import KIND, LINKS
from bot.domain.topics import TOPICS, topic

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KEY = re.compile(r"^[a-z0-9]+_[a-z0-9_]+$")


def from_deep_link(payload: str) -> Action | None:
    """The action a deep-link payload opens, or None if the payload is not one we make."""
    if not isinstance(payload, str) or not _PAYLOAD.match(payload):
        return None
    payload = payload.lower()
    named = topic(payload)
    if named is not None:
        return named.action
    prefix, _, rest = payload.partition("_")
    kind = LINKS.get(prefix)
    if kind is not None and rest and re.fullmatch(r"[a-z0-9_]+", rest) and kind.card:
        return Action(kind.card, ((kind.name, rest),))
    if _KEY.match(payload) and KIND["meeting"].card:
        return Action(KIND["meeting"].card, (("meeting", payload),))  # summit_13, tmm_y2017
    if re.fullmatch(r"[a-z0-9_]+(-[a-z0-9_]+)+", payload):
        return Action(payload.replace("-", "."))
    return None


def to_deep_link(action: Action) -> str | None:
    """The deep-link payload for ``action``, if it has one (a card name before a topic)."""
    if len(action.slots) == 1:
        slot, value = action.slots[0]
        kind = KIND.get(slot)
        if kind is not None and action.intent == kind.card:
            if kind.link:
                return f"{kind.link}_{value}"
            if slot == "meeting":
                return value
    for named in TOPICS:
        if named.action == action:
            return named.name
    if not action.slots:
        return action.intent.replace(".", "-")
    return None
