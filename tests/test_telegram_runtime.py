"""The shared runtime: remembered replies, the batched question log, chat settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import StartBot

from bot.brain import Brain
from bot.channels.telegram.runtime import Memo, QuestionLog, services
from bot.reply import Reply
from bot.storage import Storage

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

USER = 901


def test_memo_keeps_the_most_recent() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # now the most recent
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    memo.pop("a")
    assert len(memo) == 1


async def test_question_log_writes_in_batches_without_ids(tmp_path: Path) -> None:
    with Storage.open(tmp_path) as storage:
        log = QuestionLog(storage)
        log.add("private", "en", Reply("x", intent="asef.about", confidence=1.0, answered=True),
                "What is ASEF?")  # fmt: skip
        log.add("group", "en", Reply("no", confidence=0.2), "weather in Paris?")
        assert storage.stats().questions == 0  # nothing written until the flush
        await log.flush()
        stats = storage.stats()
    assert (stats.questions, stats.answered) == (2, 1)
    assert [g.representative for g in stats.top_unanswered] == ["weather in Paris?"]
    assert log.pending == []


async def test_replies_are_remembered_per_brain(
    fake_api: FakeBotApi, start_bot: StartBot, brain: Brain
) -> None:
    calls: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(brain, name)

        def answer(self, text: str, lang: str = "en", context: Any = ()) -> Reply:
            calls.append(text)
            return brain.answer(text, lang, context)

    async with start_bot() as app:
        services(app).brain = Counting()  # type: ignore[assignment]
        for chat in (USER, USER + 1, USER + 2):  # three chats, no context yet
            mark = fake_api.mark()
            fake_api.send_text(chat, "Where was ASEM5 held?")
            reply = await fake_api.wait_for_message(chat, after=mark)
            assert "Hanoi" in reply["text"]
        assert calls == ["Where was ASEM5 held?"]  # asked once, remembered after
        # Asked again in a chat, it is read in the context of the first answer: that is
        # another question for the brain, and is remembered too (a topic is kept once).
        for _ in range(2):
            mark = fake_api.mark()
            fake_api.send_text(USER, "Where was ASEM5 held?")
            await fake_api.wait_for_message(USER, after=mark)
        assert calls == ["Where was ASEM5 held?"] * 2
        services(app).brain = brain  # a new brain (a reload) forgets what the old one said
        mark = fake_api.mark()
        fake_api.send_text(USER + 3, "Where was ASEM5 held?")
        await fake_api.wait_for_message(USER + 3, after=mark)
        assert calls == ["Where was ASEM5 held?"] * 2
        assert len(services(app).replies) == 1
