"""Campaign links: ``t.me/<bot>?start=<topic>`` deep links (and QR codes) for posters.

A topic opens the bot straight on one fact: ``summit_13``, ``fmm_2``, ``partner_kh``,
``area_7``, ``kind_som``, a menu topic (``summits``, ``asef``, ``cambodia``...) or any
question without a subject (``asef-funding``, ``asem-day``). ``asem-bot link --list`` shows
them all; the bot answers an unknown one with its welcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.actions import Action
from bot.brain import Brain
from bot.domain.links import from_deep_link, to_deep_link
from bot.domain.topics import TOPICS as MENU_TOPICS

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


@dataclass(frozen=True)
class Topic:
    payload: str
    title: str


class LinkError(ValueError):
    """A topic or bot name that cannot make a working link."""


def deep_link(bot_username: str, payload: str) -> str:
    username = bot_username.strip().lstrip("@")
    if not _USERNAME.match(username):
        raise LinkError(f"'{bot_username}' is not a Telegram bot username")
    return f"https://t.me/{username}?start={payload}"


def topics(brain: Brain, lang: str = "en") -> list[Topic]:
    """Every topic a link can open, with its title, in a stable order."""
    kb = brain.kb
    actions: list[Action] = [
        Action("meeting.info", (("meeting", m.key),)) for m in kb.all_meetings()
    ]
    actions += [Action("partner.info", (("country", p),)) for p in kb.partners]
    actions += [Action("area.check", (("area", str(a.number)),)) for a in kb.areas]
    actions += [Action("meeting_kind.about", (("meeting_kind", k),)) for k in kb.kinds]
    actions += [Action("partner.list", (("group", g),)) for g in kb.groups]
    actions += [Action(q.intent) for q in kb.questions if not q.needs]
    found: dict[str, Topic] = {}
    for topic in MENU_TOPICS:
        found[topic.name] = Topic(topic.name, brain.title(topic.action, lang))
    for action in actions:
        payload = to_deep_link(action)
        if payload and payload not in found and brain.open_topic(payload, lang) is not None:
            found[payload] = Topic(payload, brain.title(action, lang))
    return list(found.values())


def resolve(brain: Brain, payload: str) -> str:
    """The payload if it opens a fact; otherwise a LinkError saying what is wrong."""
    if from_deep_link(payload) is None or brain.open_topic(payload) is None:
        raise LinkError(f"'{payload}' is not a topic (see 'asem-bot link --list')")
    return payload


def write_qr(url: str, path: Path) -> Path:
    """A QR code for ``url`` as a PNG, large enough to print on a poster."""
    import segno  # only the link command needs it

    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    segno.make(url, error="m").save(str(path), scale=10, border=4)
    return path
