"""Declarations (bot.declare): a command is declared once, where it is implemented, and every
list derives from that: the handlers registered, the menus Telegram shows, the admins' menu,
the admin check, the messages ``asem-bot validate`` insists on."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import StartBot
from telegram.ext import CommandHandler

import bot
from bot import declare
from bot.channels.telegram.app import FEATURES
from bot.validation import scan

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

USER, ADMIN = 1501, 1502

FEATURE = '''
"""A feature written for a test: one command for everyone, one for the bot's admins."""

from bot.channels.telegram.runtime import say
from bot.declare import command, msg

HINT = msg("tg_media_hint")
REFUSAL = msg("tg_only_admins")


@command("hello", description=msg("tg_cmd_about"))
async def hello(update, context):
    await say(update, context, HINT)


@command("secret", description=msg("tg_cmd_stats"), scopes=("admins",))
async def secret(update, context):
    await say(update, context, REFUSAL)
'''


@pytest.fixture
def feature(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    (tmp_path / "asem_test_feature.py").write_text(textwrap.dedent(FEATURE))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("asem_test_feature")
    try:
        yield module
    finally:
        declare.forget(module)
        sys.modules.pop("asem_test_feature", None)


async def ask(api: FakeBotApi, text: str, chat: int) -> dict[str, Any]:
    mark = api.mark()
    api.send_text(chat, text)
    return await api.wait_for_message(chat, after=mark)


async def test_a_command_in_a_new_module_is_registered_listed_and_guarded(
    fake_api: FakeBotApi, start_bot: StartBot, feature: ModuleType
) -> None:
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, features=[feature]) as app:
        registered = {
            name
            for handlers in app.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for name in handler.commands
        }
        assert {"hello", "secret", "start", "summits", "members"} <= registered
        assert "only read text" in (await ask(fake_api, "/hello", USER))["text"]
        # the admin check comes with the declaration: the handler never ran for a non-admin
        assert "bot's administrators" in (await ask(fake_api, "/secret", USER))["text"]
        assert "group's admins" in (await ask(fake_api, "/secret", ADMIN))["text"]
        everyone = [c["command"] for c in fake_api.commands({"type": "all_private_chats"})]
        assert "hello" in everyone and "secret" not in everyone
        assert everyone.index("hello") > everyone.index("cambodia")  # after the core's
        admins = [c["command"] for c in fake_api.commands({"type": "chat", "chat_id": ADMIN})]
        assert {"hello", "secret", "start"} <= set(admins)
        groups = [c["command"] for c in fake_api.commands({"type": "all_group_chats"})]
        assert "hello" in groups and "secret" not in groups


async def test_menus_follow_the_declarations(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot(campaign=True):
        private = [c["command"] for c in fake_api.commands({"type": "all_private_chats"})]
    declared = [
        d.spec.name
        for d in declare.commands(bot.channels.telegram.handlers, *FEATURES)
        if d.spec.menu and "private" in d.spec.scopes
    ]
    assert private == declared
    assert private[:4] == ["start", "help", "about", "summits"]  # the order they are written
    assert "members" not in private  # works, but not listed
    assert "quiz" in private and "stats" not in private


def _every_module() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        if info.name != "bot.__main__":  # runs the command line
            importlib.import_module(info.name)
            names.append(info.name)
    return names


def _module_of(file: str) -> str:
    relative = Path(file).resolve().relative_to(declare.PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def test_scan_reads_exactly_what_the_modules_declare() -> None:
    modules = _every_module()
    found = scan()
    assert found.problems == []
    scanned = {(spec, _module_of(file)) for spec, file, _ in found.commands}
    imported = {(d.spec, d.module) for d in declare.commands(*modules)}
    assert scanned == imported
    assert len(imported) >= 17  # the core's, the quiz's, the daily post's, the admins'
    assert set(found.messages) == declare.declared_messages(*modules)
    assert "tg_cmd_quiz" in found.messages and "quiz_summit_city" in found.messages


def test_scan_refuses_declarations_it_cannot_read(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "bad.py").write_text(
        "KEY = 'tg_help'\n"
        "HELP = msg(KEY)\n"
        "@command(NAME, description=msg('tg_cmd_help'))\n"
        "async def f(update, context): ...\n"
    )
    found = scan(package)
    assert [(p.line, p.message) for p in found.problems] == [
        (2, "msg() takes one literal message key"),
        (3, "command() takes a literal name and description="),
    ]


def test_a_command_is_declared_once() -> None:
    async def one(update: object, context: object) -> None: ...

    async def other(update: object, context: object) -> None: ...

    declare.command("twice_for_a_test", description="tg_cmd_help")(one)
    try:
        with pytest.raises(ValueError, match="declared twice"):
            declare.command("twice_for_a_test", description="tg_cmd_help")(other)
        with pytest.raises(ValueError, match="scopes"):
            declare.command("nowhere", description="tg_cmd_help", scopes=("everyone",))
    finally:
        declare.forget(__name__)
