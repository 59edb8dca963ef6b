"""The menu topics, declared once: the main menu and the deep links.

A topic has a name (its deep-link payload, ``t.me/<bot>?start=summits``), the action it opens
and the message key of its menu button (None: not on the main menu). The Telegram commands
that open topics (``/summits``) are declared by their handler, named as the topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.actions import Action
from bot.declare import msg


@dataclass(frozen=True)
class Topic:
    name: str
    action: Action
    button: str | None = None  # message key of its main-menu button


TOPICS: tuple[Topic, ...] = (
    Topic("about", Action("asem.about"), msg("menu_about")),
    Topic(
        "summits",
        Action("meeting.list", (("meeting_kind", "summit"),)),
        msg("menu_summits"),
    ),
    Topic(
        "fmms",
        Action("meeting.list", (("meeting_kind", "fmm"),)),
        msg("menu_fmms"),
    ),
    Topic(
        "partners",
        Action("partner.list"),
        msg("menu_partners"),
    ),
    Topic("meetings", Action("browse.kinds"), msg("menu_meetings")),
    Topic("areas", Action("area.list"), msg("menu_areas")),
    Topic("asef", Action("asef.about"), msg("menu_asef")),
    Topic(
        "cambodia",
        Action("partner.info", (("country", "kh"),)),
        msg("menu_cambodia"),
    ),
    Topic("asem13", Action("meeting.info", (("meeting", "summit_13"),))),
    Topic("help", Action("smalltalk.help")),
)

BY_NAME: dict[str, Topic] = {topic.name: topic for topic in TOPICS}
ALIASES = {"fmm": "fmms"}  # the /fmm command; a deep-link payload it once had
MENU: tuple[Topic, ...] = tuple(topic for topic in TOPICS if topic.button)


def topic(name: str) -> Topic | None:
    return BY_NAME.get(ALIASES.get(name, name))
