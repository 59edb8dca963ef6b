"""End to end, groups: the bot speaks only when spoken to, or in auto-answer mode when sure.

The rate limiter lets a group have 5 messages at once and then one every 4 seconds (Telegram
allows 20 a minute), so the first test, with five answers, runs with it as in production and
the longer ones switch it off (``NO_LIMIT``) to stay fast. Each test has its own group.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import StartBot

from bot.storage import Storage

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

ADMIN, MEMBER = 7001, 7002
NO_LIMIT = {"ASEM_RATE_LIMITER": "off"}


async def said(api: FakeBotApi, group: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """A member writes ``text`` in ``group``; return the bot's answer to it."""
    mark = api.mark()
    update = api.send_text(group, text, chat_type="supergroup", **kwargs)
    reply = await api.wait_for_message(group, after=mark)
    assert reply["reply_to_message"]["message_id"] == update["message"]["message_id"]  # quoted
    return reply


async def silent(api: FakeBotApi, group: int, *texts: str, **kwargs: Any) -> None:
    """Members write ``texts``; the bot must say nothing. A /help afterwards proves that the
    bot has read them (one chat's updates are handled in order)."""
    mark = api.mark()
    for text in texts:
        api.send_text(group, text, chat_type="supergroup", **kwargs)
    api.send_text(group, "/help", chat_type="supergroup")
    reply = await api.wait_for_message(group, after=mark)
    assert "/start" in reply["text"]  # the answer to /help, not to anything before it
    assert len(api.calls("sendMessage", after=mark)) == 1


async def test_group_answers_only_when_addressed(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000101
    async with start_bot():
        await silent(
            fake_api,
            group,
            "Where was ASEM5 held?",  # a fine question, but not addressed to the bot
            "what's the weather like in Paris?",
            "lol",
        )
        mentioned = await said(fake_api, group, "@asem_test_bot where was ASEM5 held?")
        assert "Hanoi" in mentioned["text"]
        command = await said(fake_api, group, "/summits@asem_test_bot")
        assert "ASEM13" in command["text"]
        other_bot = fake_api.mark()
        fake_api.send_text(group, "/summits@some_other_bot", chat_type="supergroup")
        await silent(fake_api, group)
        assert len(fake_api.calls("sendMessage", after=other_bot)) == 1  # only the /help


async def test_reply_to_the_bot_and_out_of_scope_mention(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000102
    async with start_bot(env=NO_LIMIT):
        first = await said(fake_api, group, "/ask@asem_test_bot when did Cambodia join ASEM?")
        assert "Cambodia" in first["text"]
        follow_up = await said(
            fake_api, group, "and where was ASEM5?", reply_to_message_id=first["message_id"]
        )
        assert "Hanoi" in follow_up["text"]
        # A decline only because the bot was asked; a plain group message gets none.
        declined = await said(fake_api, group, "@asem_test_bot who won the world cup?")
        assert "Sorry" in declined["text"]
        await silent(fake_api, group, "who won the world cup?", "what's the capital of Mongolia?")
        # A reply to another member's message is not addressed to the bot.
        member = fake_api.send_text(group, "hi all", chat_type="supergroup", user_id=MEMBER)
        await silent(
            fake_api,
            group,
            "where was ASEM5?",
            reply_to_message_id=member["message"]["message_id"],
        )


async def test_autoanswer_by_admin_and_not_by_member(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    group = -1001000000103
    fake_api.set_admins(group, [ADMIN])
    async with start_bot(env=NO_LIMIT):
        refused = await said(fake_api, group, "/autoanswer on", user_id=MEMBER)
        assert "admins" in refused["text"]
        assert not storage.chat(group).auto_answer
        usage = await said(fake_api, group, "/autoanswer", user_id=MEMBER)
        assert "off" in usage["text"]
        switched = await said(fake_api, group, "/autoanswer on", user_id=ADMIN)
        assert "on" in switched["text"]
        assert storage.chat(group).auto_answer
        confident = await said(fake_api, group, "Where was ASEM5 held?", user_id=MEMBER)
        assert "Hanoi" in confident["text"]
        await silent(fake_api, group, "what's the capital of Mongolia?", "asem", "see you", "ok")
        off = await said(fake_api, group, "/autoanswer off", user_id=ADMIN)
        assert "off" in off["text"]
        await silent(fake_api, group, "Where was ASEM5 held?")
    stats = storage.stats()
    assert stats.questions == 1  # only the auto-answered one; silence is not logged


async def test_autoanswer_in_private_chat_explains(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot(env=NO_LIMIT):
        mark = fake_api.mark()
        fake_api.send_text(ADMIN, "/autoanswer on")
        reply = await fake_api.wait_for_message(ADMIN, after=mark)
        assert "groups" in reply["text"]


async def test_autoanswer_without_storage_is_refused_politely(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000104
    fake_api.set_admins(group, [ADMIN])
    async with start_bot(env=NO_LIMIT, storage=None):
        reply = await said(fake_api, group, "/autoanswer on", user_id=ADMIN)
        assert "can't change settings" in reply["text"]
        answer = await said(fake_api, group, "@asem_test_bot where was ASEM5 held?")
        assert "Hanoi" in answer["text"]  # without storage the bot still answers


async def test_group_quiet_for_media_service_messages_and_channel_posts(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000105
    async with start_bot(env=NO_LIMIT):
        fake_api.send_sticker(group, chat_type="supergroup")
        fake_api.send_photo(group, chat_type="supergroup", caption="ASEM5?")
        fake_api.new_chat_members(group, [MEMBER], chat_type="supergroup")
        fake_api.new_chat_members(group, [fake_api.bot_id], chat_type="supergroup")
        fake_api.channel_post(-1001000000999, "Where was ASEM5 held?")
        question = fake_api.send_text(group, "hello", chat_type="supergroup")
        fake_api.edited_text(
            group, question["message"]["message_id"], "@asem_test_bot where was ASEM5?"
        )
        await silent(fake_api, group)
        assert fake_api.sent_messages(-1001000000999) == []


async def test_group_buttons_edit_only_for_the_asker(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000106
    async with start_bot(env=NO_LIMIT):
        menu = await said(fake_api, group, "/start@asem_test_bot", user_id=ADMIN)
        # Another member presses a button under it: the menu stays, the member gets a new
        # message in reply to it and a polite pop-up.
        mark = fake_api.mark()
        query = fake_api.press_button(menu, "a:asef~menu", user_id=MEMBER)  # ASEF, from the menu
        fresh = await fake_api.wait_for_message(group, after=mark)
        assert "ASEF" in fresh["text"]
        assert fresh["reply_to_message"]["message_id"] == menu["message_id"]
        assert "someone else" in fake_api.callback_answer(query)["text"]
        assert fake_api.calls("editMessageText", after=mark) == []
        assert fake_api.get_message(group, menu["message_id"])["text"] == menu["text"]
        # The member's own copy is theirs: their buttons there edit it in place.
        mark = fake_api.mark()
        fake_api.press_button(fresh, "a:menu", user_id=MEMBER)
        [edit] = await fake_api.wait_for("editMessageText", after=mark)
        assert edit.ok and edit.params["message_id"] == fresh["message_id"]
        # The one who asked edits the menu in place.
        mark = fake_api.mark()
        fake_api.press_button(menu, "a:asef~menu", user_id=ADMIN)
        [edit] = await fake_api.wait_for("editMessageText", after=mark)
        assert edit.ok and "ASEF" in edit.result["text"]
        assert edit.params["message_id"] == menu["message_id"]
        assert fake_api.calls("sendMessage", after=mark) == []


async def test_busy_groups_waiting_for_their_turn_do_not_hold_up_private_chats(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    """Six groups ask seven questions each: five answers each go out at once, then each group
    waits for its turn (one answer every 4 s). Waiting, they hold none of the bot's four
    processing slots, so a private chat is answered meanwhile."""
    groups = [-1001000000200 - i for i in range(6)]
    private = 7101
    async with start_bot() as app:  # the rate limiter on, as in production
        mark = fake_api.mark()
        for question in range(7):
            for group in groups:
                fake_api.send_text(
                    group, f"/ask@asem_test_bot where was ASEM{question + 1} held?",
                    chat_type="supergroup",
                )  # fmt: skip
        await fake_api.wait_for("sendMessage", count=6 * 5, after=mark, timeout=30)
        processor = app.update_processor
        # Every group now waits for its turn, and no slot is held while it does.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while processor.current_concurrent_updates:
            assert loop.time() < deadline, "groups waiting for their turn hold processing slots"
            await asyncio.sleep(0.01)
        answered_groups = len(fake_api.calls("sendMessage", after=mark))
        assert answered_groups < 6 * 7  # the groups are still waiting
        asked = fake_api.mark()
        fake_api.send_text(private, "Where was ASEM5 held?")
        answer = await fake_api.wait_for_message(private, after=asked, timeout=30)
        assert "Hanoi" in answer["text"]
        group_answers = [
            c for c in fake_api.calls("sendMessage", after=mark) if c.params["chat_id"] != private
        ]
        assert len(group_answers) < 6 * 7  # answered while the groups were still waiting


async def test_a_slot_is_given_up_only_by_the_update_that_holds_it() -> None:
    """The processing slot an update holds: given up while it waits, taken again after, and
    never released or taken by a task the update started (it inherits the context)."""
    from bot.channels.telegram.app import _Slot

    semaphore = asyncio.Semaphore(1)
    slot = _Slot(semaphore)
    await slot.take()
    assert semaphore.locked()
    async with slot.given_up():
        assert not semaphore.locked()  # another update may run meanwhile
    assert semaphore.locked() and slot.held

    async def started_by_the_update() -> None:
        async with slot.given_up():
            assert semaphore.locked()  # not this task's to give up

    await asyncio.create_task(started_by_the_update())
    slot.release()
    slot.release()  # twice: released once
    assert not semaphore.locked() and semaphore._value == 1
