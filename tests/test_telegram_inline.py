"""End to end, inline mode: ``@bot <query>`` offers fact cards with a deep link to the bot."""

from __future__ import annotations

import re
from typing import Any

from conftest import StartBot

from bot.brain import Brain
from bot.domain.links import from_deep_link

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi


async def inline(api: FakeBotApi, query: str) -> dict[str, Any]:
    mark = api.mark()
    query_id = api.inline_query(query)
    [call] = await api.wait_for("answerInlineQuery", after=mark)
    assert call.ok, call.summary()
    answer = api.inline_answer(query_id)
    assert answer is not None
    return answer


def deep_link(result: dict[str, Any]) -> str:
    [[button]] = result["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Open in the bot"
    match = re.fullmatch(
        r"https://t\.me/asem_test_bot(?:\?start=([A-Za-z0-9_-]{1,64}))?", button["url"]
    )
    assert match, button["url"]
    return match.group(1) or ""


async def test_empty_query_offers_featured_facts(
    fake_api: FakeBotApi, start_bot: StartBot, brain: Brain
) -> None:
    async with start_bot():
        answer = await inline(fake_api, "")
    results = answer["results"]
    assert 1 <= len(results) <= 10
    assert answer["cache_time"] == 300 and answer["button"] is None
    for result in results:
        assert result["type"] == "article" and 1 <= len(result["id"].encode()) <= 64
        assert result["title"] and result["description"]
        assert result["input_message_content"]["parse_mode"] == "HTML"
        payload = deep_link(result)
        assert payload == "" or from_deep_link(payload) is not None
    payloads = [deep_link(r) for r in results]
    assert "summit_13" in payloads


async def test_question_query_and_stable_ids(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        first = await inline(fake_api, "cambodia")
        again = await inline(fake_api, "cambodia")
    assert first["results"], "a question about ASEM has cards"
    assert first["results"][0]["title"] == "Cambodia in ASEM"
    assert deep_link(first["results"][0]) == "partner_kh"
    assert [r["id"] for r in first["results"]] == [r["id"] for r in again["results"]]


async def test_out_of_scope_query_has_no_results_but_a_button(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot():
        answer = await inline(fake_api, "how do I cook rice")
        assert answer["results"] == []
        button = answer["button"]
        assert button["text"] and button["start_parameter"] == "inline"
        # Pressing it sends /start inline: an unknown payload, so the welcome.
        mark = fake_api.mark()
        fake_api.send_text(fake_api.bot_id + 1, "/start inline")
        welcome = await fake_api.wait_for_message(after=mark)
        assert "ASEM" in welcome["text"]
