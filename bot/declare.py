"""Declarations: what each part of the bot needs from the knowledge base, said where it is used.

Two kinds of declaration, both written in the module that uses them:

- ``msg("tg_help")``: a template from ``knowledge/messages.yaml`` this module uses. Assign it
  to a module-level name and use that name (``HELP = msg("tg_help")`` ... ``say(HELP)``), so
  a key is spelt once.
- ``@command("quiz", description=msg("tg_cmd_quiz"), scopes=("private", "groups"))`` on a
  Telegram handler: its name, where it is listed and the message key of its description.
  The Telegram layer registers a handler and a menu entry for every command declared in the
  modules it is built from, in the order they are written; several ``@command`` lines may sit
  on one handler (the topic commands do). An "admins" command is refused to anyone who is not
  one of the bot's admins before its handler runs.

``asem-bot validate`` must report a missing message before it can crash the bot, without
importing python-telegram-bot (campaign staff run it). So :func:`bot.validation.scan` reads the
declarations from the source instead of importing the modules: every argument of ``msg()``
and ``command()`` must therefore be a literal, which it checks too. A test compares what it
reads with what the imported modules declare.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

SCOPES = ("private", "groups", "admins")
"""Where a command is listed: private chats, groups, and the private chats of the bot's
admins (ASEM_ADMIN_IDS): an "admins" command is also refused to anyone else."""

PACKAGE = Path(__file__).resolve().parent

_messages: dict[str, set[str]] = {}  # message key -> modules that declared it (at run time)


def _caller_module(depth: int = 2) -> str:
    return str(sys._getframe(depth).f_globals.get("__name__", "?"))


def msg(key: str) -> str:
    """Declare that the calling module uses message ``key``; returns the key."""
    _messages.setdefault(key, set()).add(_caller_module())
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
    """A declared command, its handler, and where it is declared (module and line)."""

    spec: CommandSpec
    handler: Callable[..., object]
    module: str = ""
    line: int = 0


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
    caller = sys._getframe(1)
    module, line = str(caller.f_globals.get("__name__", "?")), caller.f_lineno

    def register(handler: F) -> F:
        known = _commands.get(name)
        if known is not None and known.handler is not handler:
            raise ValueError(f"/{name} is declared twice")
        _commands[name] = Declared(spec, handler, module, line)
        return handler

    return register


def _module_name(module: ModuleType | str) -> str:
    return module if isinstance(module, str) else module.__name__


def commands(*modules: ModuleType | str) -> list[Declared]:
    """The commands declared by ``modules`` (each module's in the order they are written, the
    modules in the order given); without arguments, every command declared so far."""
    if not modules:
        return sorted(_commands.values(), key=lambda d: (d.module, d.line))
    found: list[Declared] = []
    for module in modules:
        name = _module_name(module)
        found += sorted((d for d in _commands.values() if d.module == name), key=lambda d: d.line)
    return found


def declared_messages(*modules: ModuleType | str) -> set[str]:
    """The message keys declared by ``modules`` (without arguments: by every module)."""
    if not modules:
        return set(_messages)
    names = {_module_name(module) for module in modules}
    return {key for key, where in _messages.items() if where & names}


def forget(module: ModuleType | str) -> None:
    """Drop what ``module`` declared (a test's temporary module, once the test is over)."""
    name = _module_name(module)
    for key in [k for k, d in _commands.items() if d.module == name]:
        del _commands[key]
    for key, where in list(_messages.items()):
        where.discard(name)
        if not where:
            del _messages[key]
