"""End to end, when Telegram misbehaves: 429, 500 and a timeout on sendMessage.

In each case the bot keeps serving and every answer is delivered exactly once: a 429 is waited
out and retried (the rate limiter), a 500 is tried again (three attempts in all), and a timeout
is not retried, because Telegram may have delivered the message although the answer never came.
"""

from __future__ import annotations

import asyncio

from conftest import Expect, StartBot

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

ALICE, BOB = 601, 602


async def delivered(api: FakeBotApi, chat: int, count: int, timeout: float = 5.0) -> None:
    """Wait until ``chat`` has ``count`` messages from the bot, then make sure no more come."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(api.sent_messages(chat)) < count and loop.time() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    assert len(api.sent_messages(chat)) == count


async def test_429_is_waited_out_and_retried(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        fake_api.fail_next("sendMessage", status=429, retry_after=1)
        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        fake_api.send_text(BOB, "Where was ASEM6 held?")
        await delivered(fake_api, ALICE, 1)
        await delivered(fake_api, BOB, 1)
        statuses = [c.status for c in fake_api.calls("sendMessage")]
        assert statuses.count(429) == 1 and statuses.count(200) == 2
        assert "Hanoi" in fake_api.sent_messages(ALICE)[0]["text"]


async def test_500_is_retried_once(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        fake_api.fail_next("sendMessage", status=500)
        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        await delivered(fake_api, ALICE, 1)
        fake_api.send_text(BOB, "Where was ASEM6 held?")
        await delivered(fake_api, BOB, 1)
        assert [c.status for c in fake_api.calls("sendMessage")] == [500, 200, 200]


async def test_timeout_is_not_retried_and_the_bot_goes_on(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot(read_timeout=0.5):
        fake_api.delay_next("sendMessage", 1.5, deliver=True)
        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        await fake_api.wait_for("sendMessage")
        fake_api.send_text(BOB, "Where was ASEM6 held?")  # served while Alice's call hangs
        await delivered(fake_api, BOB, 1)
        await delivered(fake_api, ALICE, 1)
        fake_api.send_text(ALICE, "When did Cambodia join ASEM?")
        await delivered(fake_api, ALICE, 2)


async def test_persistent_500_is_given_up_without_crashing(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    from bot.channels.telegram.runtime import SEND_ATTEMPTS

    async with start_bot():
        fake_api.fail_next("sendMessage", status=502, count=SEND_ATTEMPTS)
        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        await fake_api.wait_for("sendMessage", count=SEND_ATTEMPTS)
        fake_api.send_text(ALICE, "Where was ASEM6 held?")
        await delivered(fake_api, ALICE, 1)
        assert "ASEM6" in fake_api.sent_messages(ALICE)[0]["text"]


async def test_two_server_errors_in_a_row_still_deliver_the_answer(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot():
        fake_api.fail_next("sendMessage", status=502, count=2)
        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        await delivered(fake_api, ALICE, 1)
        assert "Hanoi" in fake_api.sent_messages(ALICE)[0]["text"]


async def test_a_bug_in_a_handler_is_logged_and_apologised_for(
    fake_api: FakeBotApi, start_bot: StartBot, expect: Expect
) -> None:
    expect.log_errors.append("error while handling update")
    async with start_bot() as app:
        from bot.channels.telegram.runtime import services

        svc = services(app)
        real = svc.brain

        class Broken:
            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

            def answer(self, text: str, lang: str = "en", context: object = ()) -> object:
                raise RuntimeError("a bug with internals: /secret/path")

        svc.brain = Broken()  # type: ignore[assignment]
        try:
            fake_api.send_text(ALICE, "Where was ASEM5 held?")
            apology = await fake_api.wait_for_message(ALICE)
        finally:
            svc.brain = real
        assert "Sorry" in apology["text"] and "secret" not in apology["text"]
        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        await delivered(fake_api, ALICE, 2)


class BrokenStorage:
    """Storage whose every call fails, as a full disk or a locked database would."""

    def chat(self, chat_id: int) -> object:
        raise OSError("disk I/O error")

    def set_auto_answer(self, chat_id: int, chat_type: str, on: bool) -> None:
        raise OSError("disk I/O error")

    def log_question(self, **fields: object) -> None:
        raise OSError("disk I/O error")


async def test_storage_failure_does_not_stop_answers(
    fake_api: FakeBotApi, start_bot: StartBot, expect: Expect
) -> None:
    expect.log_errors += ["could not read the settings", "could not write the question log"]
    async with start_bot(storage=BrokenStorage()) as app:
        from bot.channels.telegram.runtime import services

        fake_api.send_text(ALICE, "Where was ASEM5 held?")
        await delivered(fake_api, ALICE, 1)
        await services(app).questions.flush()
        assert len(services(app).questions.pending) == 1  # kept for the next try
    assert "Hanoi" in fake_api.sent_messages(ALICE)[0]["text"]


async def test_a_chat_that_asks_fast_gets_every_answer_without_a_429(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    """Telegram allows about one message a second in a chat (the fake: 3 at once, then one a
    second); the bot paces each chat so that Telegram never has to say 429."""
    fake_api.flood_control = True
    async with start_bot():
        for n in range(1, 9):
            fake_api.send_text(ALICE, f"Where was ASEM{n} held?")
        await delivered(fake_api, ALICE, 8, timeout=20)
    assert fake_api.flood_429_count == 0
    texts = [m["text"] for m in fake_api.sent_messages(ALICE)]
    assert [f"ASEM{n}" in text for n, text in enumerate(texts, start=1)] == [True] * 8


async def test_slow_sends_do_not_bunch_up_into_a_429(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    """The first answers spend 0.8 s on the way (a new connection, a slow network) and the
    next one does not: Telegram sees it close behind them. The pace counts a send when its
    answer comes back, so the gap Telegram sees is still a full one."""
    fake_api.flood_control = True
    async with start_bot():
        fake_api.arrive_late("sendMessage", 0.8, count=3)
        for n in range(1, 6):
            fake_api.send_text(ALICE, f"Where was ASEM{n} held?")
        await delivered(fake_api, ALICE, 5, timeout=20)
    assert fake_api.flood_429_count == 0
