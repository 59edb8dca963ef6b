"""End to end, feedback that teaches: 👍/👎 under answers in private chats and as reactions,
logged without ids, then /stats listing what to learn with a button that an admin, and only an
admin, presses to add the question to the knowledge files and reload them.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import StartBot

from bot.brain import Brain
from bot.channels.telegram.runtime import services
from bot.storage import Storage

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

USER, ADMIN, OTHER = 1201, 1202, 1203
REPO = Path(__file__).resolve().parents[1]


async def ask(api: FakeBotApi, text: str, chat: int = USER) -> dict[str, Any]:
    mark = api.mark()
    api.send_text(chat, text)
    return await api.wait_for_message(chat, after=mark)


def buttons(api: FakeBotApi, message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = api.keyboard(message["chat"]["id"], message["message_id"])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


async def press(
    api: FakeBotApi, message: dict[str, Any], data: str, user: int | None = None
) -> dict[str, Any] | None:
    """Press a button; the callback answer."""
    mark = api.mark()
    query_id = api.press_button(message, data, user_id=user)
    await api.wait_for(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id, after=mark
    )
    return api.callback_answer(query_id)


def feedback_rows(storage: Storage) -> list[tuple[Any, ...]]:
    with storage._reading() as db:  # noqa: SLF001 - what the table holds, exactly
        return db.execute("SELECT vote, intent, question FROM feedback ORDER BY id").fetchall()


async def test_votes_under_answers_and_reactions(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, brain: Brain
) -> None:
    async with start_bot():
        answer = await ask(fake_api, "Where was ASEM5 held?")
        assert "Hanoi" in answer["text"]
        assert buttons(fake_api, answer)[-2:] == [("👍", "v:+"), ("👎", "v:-")]
        thanks = await press(fake_api, answer, "v:-")
        assert thanks is not None and "Thank you" in thanks.get("text", "")
        await press(fake_api, answer, "v:+")  # a second vote on one answer is not counted
        declined = await ask(fake_api, "What is the weather in Paris?")
        assert "v:-" not in [d for _, d in buttons(fake_api, declined)]  # logged anyway
        liked = await ask(fake_api, "When was ASEF founded?")
        fake_api.push_update(
            {
                "message_reaction": {
                    "chat": {"id": USER, "type": "private", "first_name": "U"},
                    "message_id": liked["message_id"],
                    "user": {"id": USER, "is_bot": False, "first_name": "U"},
                    "date": int(time.time()),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                }
            }
        )
        for _ in range(200):  # the reaction is logged in a worker thread
            if len(feedback_rows(storage)) == 2:
                break
            await asyncio.sleep(0.02)
    rows = feedback_rows(storage)
    assert rows == [(-1, "meeting.place", "Where was ASEM5 held?"), (1, "asef.founded", None)]
    with storage._reading() as db:  # noqa: SLF001
        [(intent,)] = db.execute(
            "SELECT intent FROM question_log WHERE answered = 0 AND question LIKE '%Paris%'"
        ).fetchall()
    # a declined question is logged with the intent it came closest to
    assert intent == brain.answer("What is the weather in Paris?").nearest
    polls = fake_api.calls("getUpdates")
    assert "message_reaction" in (polls[-1].params.get("allowed_updates") or [])


@pytest.fixture
def knowledge_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", copy)
    monkeypatch.setenv("ASEM_KNOWLEDGE_DIR", str(copy))
    return copy


async def test_an_admin_accepts_a_suggestion_from_stats(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, knowledge_copy: Path
) -> None:
    for text in ("when is the asem holiday", "When is the ASEM holiday?"):
        storage.log_question(
            chat_type="private", lang="en", intent=None, confidence=0.3, answered=False,
            question=text,
        )  # fmt: skip
    before = {p.name: p.read_text(encoding="utf-8") for p in knowledge_copy.glob("*.yaml")}
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True) as app:
        old_brain = services(app).brain
        mark = fake_api.mark()
        fake_api.send_text(ADMIN, "/stats")
        await fake_api.wait_for("sendMessage", count=2, after=mark)
        learn = fake_api.sent_messages(ADMIN)[-1]
        assert "To learn" in learn["text"] and "when is the asem holiday" in learn["text"].lower()
        [(label, data)] = buttons(fake_api, learn)
        assert label == "✅ 1" and data.startswith("learn:") and len(data.encode()) <= 64
        # the same button pressed by someone who is not an admin: refused on the press
        refused = await press(fake_api, learn, data, user=OTHER)
        assert refused is not None and "administrators" in refused.get("text", "")
        assert services(app).brain is old_brain
        mark = fake_api.mark()
        await press(fake_api, learn, data, user=ADMIN)
        await fake_api.wait_for("sendMessage", after=mark, timeout=20)
        done = fake_api.sent_messages(ADMIN)[-1]
        assert "Added" in done["text"] and "reloaded" in done["text"]
        assert services(app).brain is not old_brain
    after = {p.name: p.read_text(encoding="utf-8") for p in knowledge_copy.glob("*.yaml")}
    changed = [name for name in after if after[name] != before[name]]
    assert len(changed) == 1
    added = set(after[changed[0]].splitlines()) - set(before[changed[0]].splitlines())
    assert len(added) == 1 and "asem holiday" in added.pop().lower()
