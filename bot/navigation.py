"""Where a screen was opened from, so that Back returns there: a trail carried by the buttons.

A *place* is a screen: an action and a page (``partner.list:group=asean#1``). A button's
target carries the trail of the screens before it, the latest first, joined by ``~``::

    partner_bn~group_asean~partners~menu

(Brunei's card, opened from the ASEAN list, opened from the partner overview, opened from
the menu). Every place is written as its deep-link payload when it has one (``partner_bn``,
``group_asean``, ``about``), else as the action with short kind names
(``partner.list:m=summit_7,flag=joining``), so that more of the trail fits Telegram's 64
bytes. The trail is cut, oldest first, to fit: a screen whose trail was cut goes Back to its
default parent.

Everything travels in the button itself, so a button sent before a restart still knows its
way back; nothing is stored. The trail is only a way back: what a trail names is checked like
any action when Back is pressed (:meth:`bot.brain.Brain.run`). Channel-neutral: the Telegram
keyboards and the terminal's numbered choices use it alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.actions import MAX_ACTION_BYTES, Action, parse_action
from bot.domain.kinds import KINDS
from bot.domain.links import from_deep_link, to_deep_link

HOME = "menu"
SEP = "~"
_PAGE = re.compile(r"^(?P<place>[^#]+)(?:#(?P<page>[1-9][0-9]{0,2}))?$")


@dataclass(frozen=True)
class Place:
    """A screen: the action that shows it and the page shown."""

    action: str
    page: int = 0

    def encode(self, *, compact: bool = False) -> str:
        text = _compact(self.action) if compact else self.action
        return text + (f"#{self.page}" if self.page else "")


def _short_kinds() -> dict[str, str]:
    """A short name for each kind of slot, for trails: its slot token (``<m>``: ``m``), when
    that is no other kind's token nor any kind's full name."""
    tokens = [kind.slot.strip("<>") for kind in KINDS]
    names = {kind.name for kind in KINDS}
    return {
        kind.name: token
        for kind, token in zip(KINDS, tokens, strict=True)
        if tokens.count(token) == 1 and token not in names
    }


SHORT = _short_kinds()
LONG = {token: name for name, token in SHORT.items()}


def _compact(action: str) -> str:
    """The shortest form of ``action`` that reads back as the same action: its deep link
    (``summit_13``), else the action with short kind names (``partner.list:m=summit_7``)."""
    if action == HOME:
        return HOME
    parsed = parse_action(action)
    if parsed is None:
        return action
    link = to_deep_link(parsed)
    if link is not None and len(link) < len(action) and from_deep_link(link) == parsed:
        return link
    return Action(parsed.intent, tuple((SHORT.get(k, k), v) for k, v in parsed.slots)).encode()


def expand(text: str) -> str | None:
    """The action a place of a trail is written as (a deep-link payload or an action)."""
    if text == HOME:
        return HOME
    if not re.search(r"[.:=,]", text):
        action = from_deep_link(text)
        if action is not None:
            return action.encode()
    parsed = parse_action(text)
    if parsed is None:
        return None
    return Action(parsed.intent, tuple((LONG.get(k, k), v) for k, v in parsed.slots)).encode()


def _place(text: str) -> Place | None:
    found = _PAGE.match(text)
    if found is None:
        return None
    action = expand(found["place"])
    if action is None or (action != HOME and parse_action(action) is None):
        return None
    page = int(found["page"] or 0)
    return Place(action, page) if not (action == HOME and page) else None


@dataclass(frozen=True)
class Address:
    """A place and the trail of places it was opened from (the latest first)."""

    place: Place
    trail: tuple[Place, ...] = ()

    def encode(self, limit: int) -> str | None:
        """``action#page~trail...`` within ``limit`` bytes, cutting the oldest of the trail;
        None if the place alone does not fit."""
        head = self.place.encode(compact=True)
        if len(head.encode()) > limit or len(self.place.action.encode()) > MAX_ACTION_BYTES:
            return None
        text = head
        for earlier in self.trail:
            longer = text + SEP + earlier.encode(compact=True)
            if len(longer.encode()) > limit:
                break
            text = longer
        return text

    @property
    def back(self) -> Address | None:
        """Where Back leads from here: the latest place of the trail, with the rest of it."""
        if not self.trail:
            return None
        return Address(self.trail[0], self.trail[1:])


def parse(text: str | None) -> Address | None:
    """The address in ``text`` (``action#page~trail``), or None if its place is not valid.
    A trail that does not read is dropped, not the press."""
    if not isinstance(text, str) or not text:
        return None
    head, *rest = text.split(SEP)
    place = _place(head)
    if place is None:
        return None
    trail: list[Place] = []
    for part in rest:
        earlier = _place(part)
        if earlier is None:
            break  # a forged or damaged trail: keep what reads
        trail.append(earlier)
    return Address(place, tuple(trail))


def child(target: str, page: int, here: Address | None, limit: int) -> str | None:
    """The address a button for ``target`` (at ``page``) carries on a screen at ``here``:
    the target, then ``here`` and its trail, as much as fits in ``limit`` bytes."""
    trail = (here.place, *here.trail) if here is not None else ()
    return Address(Place(target, page), trail).encode(limit)


def opened(action: str, page: int = 0, came_from: str | None = None) -> Address:
    """The address of a screen opened by ``action`` from the trail ``came_from``."""
    earlier = parse(came_from) if came_from else None
    trail = (earlier.place, *earlier.trail) if earlier is not None else ()
    return Address(Place(action, page), trail)


def action_of(place: Place) -> Action | None:
    return parse_action(place.action) if place.action != HOME else None


def here(action: str | None, page: int, parent: str | None) -> Address | None:
    """The address of a screen showing ``action`` at ``page`` whose Back leads to ``parent``
    (an address, or a default parent's action): where its buttons say they were pressed."""
    if not action:
        return None
    earlier = parse(parent) if parent else None
    trail = (earlier.place, *earlier.trail) if earlier is not None else ()
    return Address(Place(action, page), trail)


def paging(action: str, page: int, parent: str | None, limit: int) -> str | None:
    """The address of another page of the same screen: the same way back."""
    earlier = parse(parent) if parent else None
    trail = (earlier.place, *earlier.trail) if earlier is not None else ()
    return Address(Place(action, page), trail).encode(limit)
