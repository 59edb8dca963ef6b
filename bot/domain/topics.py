"""The menu topics, declared once: the main menu, deep links and the topic commands.

A topic has a name (its deep-link payload, ``t.me/<bot>?start=summits``), the action it opens,
the message key of its menu button (None: not on the main menu) and the commands that open it
(``/summits``), with the message key of the command's description in Telegram's menu.
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
    commands: tuple[str, ...] = ()  # /commands that open it; the first is listed in the menu
    description: str | None = None  # message key of the listed command's description


TOPICS: tuple[Topic, ...] = (
    Topic("about", Action("asem.about"), msg("menu_about"), ("about",), msg("tg_cmd_about")),
    Topic(
        "summits",
        Action("meeting.list", (("meeting_kind", "summit"),)),
        msg("menu_summits"),
        ("summits",),
        msg("tg_cmd_summits"),
    ),
    Topic(
        "fmms",
        Action("meeting.list", (("meeting_kind", "fmm"),)),
        msg("menu_fmms"),
        ("fmm",),
        msg("tg_cmd_fmm"),
    ),
    Topic(
        "partners",
        Action("partner.list"),
        msg("menu_partners"),
        ("partners", "members"),
        msg("tg_cmd_partners"),
    ),
    Topic("areas", Action("area.list"), msg("menu_areas"), ("areas",), msg("tg_cmd_areas")),
    Topic("asef", Action("asef.about"), msg("menu_asef"), ("asef",), msg("tg_cmd_asef")),
    Topic(
        "cambodia",
        Action("partner.info", (("country", "kh"),)),
        msg("menu_cambodia"),
        ("cambodia",),
        msg("tg_cmd_cambodia"),
    ),
    Topic("asem13", Action("meeting.info", (("meeting", "summit_13"),))),
    Topic("help", Action("smalltalk.help")),
)

BY_NAME: dict[str, Topic] = {topic.name: topic for topic in TOPICS}
ALIASES = {"fmm": "fmms"}  # deep-link payloads that other names once had
MENU: tuple[Topic, ...] = tuple(topic for topic in TOPICS if topic.button)
BY_COMMAND: dict[str, Topic] = {c: topic for topic in TOPICS for c in topic.commands}


def topic(name: str) -> Topic | None:
    return BY_NAME.get(ALIASES.get(name, name))
