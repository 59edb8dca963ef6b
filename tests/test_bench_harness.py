"""The long benchmarks' bookkeeping (bench/harness.py): every answer traced to its question.

The benchmarks themselves run by hand; this checks, in a second, that their ledger counts
lost, doubled and unmatched answers right, with real Bot API calls to the fake server.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, ReplyParameters
from telegram.error import NetworkError

try:  # tests/ as a package, or (as now) a plain directory on sys.path
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi


def _load_harness() -> Any:
    path = Path(__file__).resolve().parents[1] / "bench" / "harness.py"
    spec = importlib.util.spec_from_file_location("bench_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as bot:
        yield bot


def ledger_for(api: FakeBotApi) -> Any:
    bank = harness.QuestionBank(["q zero", "q one"], {"a zero": 0, "a one": 1}, 0)
    return harness.Ledger(api, bank, group_prefix="@asem_test_bot ")


async def test_private_answers_are_matched_by_their_text(bot: Bot, api: FakeBotApi) -> None:
    ledger = ledger_for(api)
    ledger.ask(1, 0)
    ledger.ask(1, 1)
    ledger.ask(2, 0)
    assert [u["message"]["text"] for u in api.pending_updates()] == ["q zero", "q one", "q zero"]
    await bot.send_message(1, "a one")  # out of order: still the answer to "q one"
    await bot.send_message(1, "a zero")
    await bot.send_message(1, "a zero")  # the same question answered again: doubled
    await bot.send_message(1, "something else")  # answers nothing asked: unmatched
    await bot.send_message(2, "a one")  # an answer to a question chat 2 never asked
    await bot.send_message(3, "a zero")  # a chat the ledger does not measure: ignored
    assert ledger.scan() == 5
    assert ledger.waiting(2) and not ledger.waiting(1)
    counts = ledger.counts()
    assert (counts.sent, counts.answered, counts.lost) == (3, 2, 1)
    assert (counts.doubled, counts.unmatched) == (1, 2)
    assert len(counts.latencies) == 2 and len(ledger.unanswered()) == 1


async def test_a_question_asked_twice_needs_two_answers(bot: Bot, api: FakeBotApi) -> None:
    ledger = ledger_for(api)
    ledger.ask(1, 0)
    ledger.ask(1, 0)
    await bot.send_message(1, "a zero")
    ledger.scan()
    assert ledger.counts().lost == 1 and ledger.waiting(1)
    await bot.send_message(1, "a zero")
    await bot.send_message(1, "a zero")
    ledger.scan()
    counts = ledger.counts()
    assert (counts.answered, counts.lost, counts.doubled) == (2, 0, 1)


async def test_group_answers_are_matched_by_the_message_they_quote(
    bot: Bot, api: FakeBotApi
) -> None:
    ledger = ledger_for(api)
    ledger.ask_in_group(-5, 1)
    ledger.ask_in_group(-5, 0)
    first, second = (u["message"] for u in api.pending_updates())
    assert first["text"] == "@asem_test_bot q one" and first["chat"]["type"] == "group"
    # Any text will do: the quote says which question it answers.
    await bot.send_message(-5, "a zero", reply_parameters=ReplyParameters(first["message_id"]))
    await bot.send_message(-5, "again", reply_parameters=ReplyParameters(first["message_id"]))
    await bot.send_message(-5, "no quote")
    ledger.scan()
    counts = ledger.counts()
    assert (counts.sent, counts.answered, counts.lost) == (2, 1, 1)
    assert (counts.doubled, counts.unmatched) == (1, 1)
    await bot.send_message(-5, "a one", reply_parameters=ReplyParameters(second["message_id"]))
    ledger.scan()
    assert ledger.counts().lost == 0 and not ledger.waiting(-5)


async def test_a_lost_answer_says_whether_the_bot_tried_to_send_it(
    bot: Bot, api: FakeBotApi
) -> None:
    ledger = ledger_for(api)
    ledger.ask(1, 0)
    ledger.ask(2, 1)
    ledger.ask_in_group(-5, 0)
    ledger.ask_in_group(-5, 1)
    first = api.pending_updates()[2]["message"]
    api.fail_next("sendMessage", status=502, count=2)
    for send in (
        bot.send_message(1, "a zero"),  # refused: the bot tried
        bot.send_message(-5, "a zero", reply_parameters=ReplyParameters(first["message_id"])),
    ):
        with pytest.raises(NetworkError):
            await send
    ledger.scan()
    assert sorted(tried for _, tried in ledger.unanswered()) == [False, False, True, True]
    assert ledger.counts().lost == 4
