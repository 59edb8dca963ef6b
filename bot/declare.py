"""Declarations: what each part of the bot needs from the knowledge base, said where it is used.

Two kinds of declaration, both written in the module that uses them:

- ``msg("tg_help")``: a template from ``knowledge/messages.yaml`` this module uses. Assign it
  to a module-level name and use that name (``HELP = msg("tg_help")`` ... ``say(HELP)``), so
  a key is spelt once.
- ``@command("quiz", description=msg("tg_cmd_quiz"), scopes=("private", "groups"))`` on a
  Telegram handler: its name, where it is listed and the message key of its description.
  The Telegram layer registers a handler and a menu entry for every declared command.

``asem-bot validate`` must report a missing message before it can crash the bot, without
importing python-telegram-bot (campaign staff run it). So :func:`bot.validation.scan` reads the
declarations from the source instead of importing the modules: every argument of ``msg()``
and ``command()`` must therefore be a literal, which it checks too. A test compares what it
reads with what the imported modules declare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

SCOPES = ("private", "groups", "admins")
"""Where a command is listed: private chats, groups, and the private chats of the bot's
admins (ASEM_ADMIN_IDS): an "admins" command is also refused to anyone else."""

PACKAGE = Path(__file__).resolve().parent

_messages: dict[str, set[str]] = {}  # message key -> modules that declared it (at run time)


def msg(key: str) -> str:
    """Declare that the calling module uses message ``key``; returns the key."""
    _messages.setdefault(key, set())
    return key


@dataclass(frozen=True)
class CommandSpec:
    """A Telegram command: ``/name``, its menu description (a message key), where it is
    listed, and whether it is listed at all (``menu=False``: it works but is not shown)."""

    name: str
    description: str
    scopes: tuple[str, ...] = ("private", "groups")
    menu: bool = True

    @property
    def admin(self) -> bool:
        return self.scopes == ("admins",)


@dataclass(frozen=True)
class Declared:
    spec: CommandSpec
    handler: Callable[..., object]


_commands: dict[str, Declared] = {}


def command(
    name: str,
    *,
    description: str,
    scopes: tuple[str, ...] = ("private", "groups"),
    menu: bool = True,
) -> Callable[[F], F]:
    """Declare the decorated coroutine as the handler of ``/name``."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"/{name}: scopes must be some of {SCOPES}, not {scopes}")
    spec = CommandSpec(name, description, tuple(scopes), menu)

    def register(handler: F) -> F:
        known = _commands.get(name)
        if known is not None and known.handler is not handler:
            raise ValueError(f"/{name} is declared twice")
        _commands[name] = Declared(spec, handler)
        return handler

    return register


def commands() -> list[Declared]:
    """Every command declared by the modules imported so far, in declaration order."""
    return list(_commands.values())


def declared_messages() -> set[str]:
    """Every message key declared by the modules imported so far."""
    return set(_messages)
