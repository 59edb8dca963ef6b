"""End to end, private chats: the real bot polls the fake Bot API server over real HTTP.

/start and the menu, deep links, free questions, "did you mean", commands, paging, stale and
forged buttons, media, and the "typing" action for a slow answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from conftest import Expect, StartBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.brain import Brain
from bot.channels.telegram.keyboards import callback_data, parse_callback
from bot.channels.telegram.runtime import services
from bot.domain.topics import BY_NAME
from bot.storage import Storage

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

USER = 501


def datas(api: FakeBotApi, message: dict[str, Any]) -> list[str]:
    """The callback data of every button on the message's current keyboard, and each one's
    place as ``callback_data(action, page)`` writes it (without the trail back)."""
    rows = api.keyboard(message["chat"]["id"], message["message_id"])
    found = [button.get("callback_data") or button.get("url") for row in rows for button in row]
    return found + [_place(data) for data in found if _place(data) not in found]


def _place(data: str) -> str:
    press = parse_callback(data)
    return callback_data(press.action, press.page) if press else data


def _actual(api: FakeBotApi, message: dict[str, Any], data: str) -> str:
    """The button on the keyboard that opens the place ``data`` names (its trail may vary)."""
    rows = api.keyboard(message["chat"]["id"], message["message_id"])
    found = [b.get("callback_data") for row in rows for b in row if b.get("callback_data")]
    if data in found:
        return data
    return next((d for d in found if _place(d) == data), data)


def labels(api: FakeBotApi, message: dict[str, Any]) -> list[str]:
    rows = api.keyboard(message["chat"]["id"], message["message_id"])
    return [button["text"] for row in rows for button in row]


async def ask(api: FakeBotApi, text: str, chat: int = USER, **kwargs: Any) -> dict[str, Any]:
    """The user writes ``text``; return the bot's next message in that chat."""
    mark = api.mark()
    api.send_text(chat, text, **kwargs)
    return await api.wait_for_message(chat, after=mark)


async def press(api: FakeBotApi, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Press a button; wait for the callback answer and the edit; return the message now."""
    mark = api.mark()
    query_id = api.press_button(message, _actual(api, message, data))
    await api.wait_for(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id, after=mark
    )
    await api.wait_for(("editMessageText", "sendMessage"), after=mark)
    current = api.get_message(message["chat"]["id"], message["message_id"])
    assert current is not None
    return current


async def test_start_menu_walk_and_back(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        menu = await ask(fake_api, "/start")
        assert "ASEM" in menu["text"]
        assert labels(fake_api, menu)[:2] == ["About ASEM", "Summits"]
        summits = callback_data(BY_NAME["summits"].action.encode())
        listing = await press(fake_api, menu, summits)
        assert "ASEM1" in listing["text"] and "ASEM13" in listing["text"]
        asem13 = callback_data("meeting.info:meeting=summit_13")
        assert asem13 in datas(fake_api, listing)
        card = await press(fake_api, listing, asem13)
        assert "Phnom Penh" in card["text"]
        assert card["message_id"] == menu["message_id"]  # edited in place, not a new message
        back = callback_data("meeting.list:meeting_kind=summit")
        assert back in datas(fake_api, card)
        again = await press(fake_api, card, back)
        assert again["text"] == listing["text"]
        home = await press(fake_api, again, callback_data("menu"))
        assert home["text"] == menu["text"]
        assert "a:menu" not in datas(fake_api, home)  # no Home button on the menu itself
        for call in fake_api.calls("answerCallbackQuery"):
            assert call.ok  # every press was answered
    assert len(fake_api.sent_messages(USER)) == 1


async def test_command_menu_and_descriptions_are_registered(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot():
        names = [c["command"] for c in fake_api.commands({"type": "all_private_chats"})]
        assert names[:2] == ["start", "help"] and "summits" in names
        group = [c["command"] for c in fake_api.commands({"type": "all_group_chats"})]
        assert "autoanswer" in group and "ask" in group and "start" not in group
        assert "ASEM" in fake_api.description()
        assert 0 < len(fake_api.description("short_description")) <= 120


async def test_deep_links(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        summit = await ask(fake_api, "/start summit_13")
        assert "ASEM13" in summit["text"] and "Phnom Penh" in summit["text"]
        cambodia = await ask(fake_api, "/start partner_kh")
        assert "Cambodia" in cambodia["text"]
        welcome = await ask(fake_api, "/start")
        unknown = await ask(fake_api, "/start no_such_topic_42")
        assert unknown["text"] == welcome["text"]
        forged = await ask(fake_api, "/start <b>&")
        assert forged["text"] == welcome["text"]


async def test_free_question_logged_without_text(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    async with start_bot():
        reply = await ask(fake_api, "Where was ASEM5 held?")
        assert "Hanoi" in reply["text"]
        assert not reply.get("reply_to_message")  # no quoting in a private chat
        declined = await ask(fake_api, "What is the weather in Paris?")
        assert "Sorry" in declined["text"]
    stats = storage.stats()
    assert (stats.questions, stats.answered) == (2, 1)
    assert [g.representative for g in stats.top_unanswered] == ["What is the weather in Paris?"]


async def test_did_you_mean_press(fake_api: FakeBotApi, start_bot: StartBot, brain: Brain) -> None:
    candidates = ("asem", "meeting", "summit info", "ministers", "explain asem in simple words")
    question = next(q for q in candidates if brain.answer(q).suggestions)
    suggestion = brain.answer(question).suggestions[0]
    async with start_bot():
        unsure = await ask(fake_api, question)
        assert suggestion.label in labels(fake_api, unsure)
        answered = await press(fake_api, unsure, callback_data(suggestion.action))
        expected = brain.run(suggestion.action)
        assert expected is not None and expected.answered
        assert answered["text"] != unsure["text"] and answered["text"].split()[0] in expected.text


async def test_topic_commands_and_help(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        assert "ASEM summits" in (await ask(fake_api, "/summits"))["text"]
        assert "Foreign Ministers" in (await ask(fake_api, "/fmm"))["text"]
        partners = (await ask(fake_api, "/partners"))["text"]
        assert (await ask(fake_api, "/members"))["text"] == partners
        assert "cooperation" in (await ask(fake_api, "/areas"))["text"]
        assert "ASEF" in (await ask(fake_api, "/asef"))["text"]
        assert "Cambodia" in (await ask(fake_api, "/cambodia"))["text"]
        assert "ASEM" in (await ask(fake_api, "/about"))["text"]
        help_text = (await ask(fake_api, "/help"))["text"]
        assert "@asem_test_bot" in help_text and "/autoanswer" in help_text
        hint = (await ask(fake_api, "/ask"))["text"]
        assert "/ask" in hint
        assert "Hanoi" in (await ask(fake_api, "/ask where was asem5"))["text"]
        assert "/help" in (await ask(fake_api, "/nosuchcommand"))["text"]


async def test_paging_prev_next(fake_api: FakeBotApi, start_bot: StartBot, brain: Brain) -> None:
    action = "partner.list:group=eu"
    first_page = brain.run(action)
    assert first_page is not None and first_page.pages > 1
    async with start_bot():
        partners = await ask(fake_api, "/partners")
        eu = await press(fake_api, partners, callback_data(action))
        assert callback_data(action, 1) in datas(fake_api, eu)
        assert "◀ Previous" not in labels(fake_api, eu)
        second = await press(fake_api, eu, callback_data(action, 1))
        assert second["text"] != eu["text"]
        assert callback_data(action) in datas(fake_api, second)  # Previous goes to page 0
        back = await press(fake_api, second, callback_data(action))
        assert back["text"] == eu["text"]


async def test_stale_and_forged_buttons(
    fake_api: FakeBotApi, start_bot: StartBot, expect: Expect
) -> None:
    async with start_bot() as app:
        menu = await ask(fake_api, "/start")
        # Replace the keyboard with buttons from an "older release" and forged ones.
        bad = ["v0:summits", "a:no.such.intent", "a:meeting.info:meeting=summit_99", "a:menu#7",
               "a:" + "x" * 62, "\u00e9\u00e9", "a:partner.info:country=<b>"]  # fmt: skip
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(d[:20], callback_data=d)] for d in bad]
        )
        await app.bot.edit_message_reply_markup(USER, menu["message_id"], reply_markup=markup)
        for data in bad:
            mark = fake_api.mark()
            query_id = fake_api.press_button(menu, data)
            [answer] = await fake_api.wait_for(
                "answerCallbackQuery",
                lambda c, q=query_id: c.params["callback_query_id"] == q,
                after=mark,
            )
            assert "expired" in answer.params["text"] and len(answer.params["text"]) <= 200
            await fake_api.wait_for("editMessageText", after=mark)
            menu = fake_api.get_message(USER, menu["message_id"])
            assert menu is not None and "ASEM" in menu["text"]
            assert "a:meeting.list:meeting_kind=summit" in datas(fake_api, menu)
            await app.bot.edit_message_reply_markup(USER, menu["message_id"], reply_markup=markup)
            menu = fake_api.get_message(USER, menu["message_id"])


async def test_a_press_too_old_to_answer_still_updates_the_message_quietly(
    fake_api: FakeBotApi, start_bot: StartBot, expect: Expect, caplog: pytest.LogCaptureFixture
) -> None:
    expect.bad_requests.append("query is too old")
    async with start_bot():
        menu = await ask(fake_api, "/start")
        about = callback_data(BY_NAME["about"].action.encode())
        mark = fake_api.mark()
        # handled after Telegram's deadline
        fake_api.press_button(menu, _actual(fake_api, menu, about), expired=True)
        [answer] = await fake_api.wait_for("answerCallbackQuery", after=mark)
        assert answer.status == 400
        await fake_api.wait_for("editMessageText", after=mark)
        card = fake_api.get_message(USER, menu["message_id"])
        assert card is not None and card["text"] != menu["text"]  # the card is shown all the same
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    assert any("too late" in r.getMessage() for r in caplog.records)


async def test_same_button_twice_is_not_an_error(
    fake_api: FakeBotApi, start_bot: StartBot, expect: Expect
) -> None:
    expect.bad_requests.append("message is not modified")
    async with start_bot():
        menu = await ask(fake_api, "/start")
        about = callback_data(BY_NAME["about"].action.encode())
        card = await press(fake_api, menu, about)
        home = callback_data("menu")
        menu_again = await press(fake_api, card, home)
        # Two presses of Home on an old copy of the keyboard: the second changes nothing.
        mark = fake_api.mark()
        fake_api.press_button(menu_again, _actual(fake_api, menu_again, about))
        fake_api.press_button(menu_again, _actual(fake_api, menu_again, about))
        await fake_api.wait_for("answerCallbackQuery", count=2, after=mark)
        await fake_api.wait_for("editMessageText", count=2, after=mark)
        edits = fake_api.calls("editMessageText", after=mark)
        assert [c.status for c in edits] == [200, 400]


async def test_media_gets_a_hint_and_edits_are_ignored(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot():
        question = fake_api.send_text(USER, "Where was ASEM5 held?")
        await fake_api.wait_for_message(USER)
        mark = fake_api.mark()
        fake_api.send_sticker(USER)
        hint = await fake_api.wait_for_message(USER, after=mark)
        assert "text" in hint["text"]
        mark = fake_api.mark()
        fake_api.send_photo(USER, caption="asem5?")
        await fake_api.wait_for_message(USER, after=mark)
        mark = fake_api.mark()
        fake_api.edited_text(USER, question["message"]["message_id"], "Where was ASEM6 held?")
        fake_api.send_text(USER, "/about")  # a marker: once it is answered, the edit was seen
        answer = await fake_api.wait_for_message(USER, after=mark)
        assert "Asia-Europe" in answer["text"]
        assert len(fake_api.calls("sendMessage", after=mark)) == 1


async def test_slow_answer_shows_typing(
    fake_api: FakeBotApi, start_bot: StartBot, brain: Brain
) -> None:
    async with start_bot() as app:
        svc = services(app)
        real = svc.brain

        class SlowBrain:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def answer(self, text: str, lang: str = "en", context: Any = ()) -> Any:
                time.sleep(0.8)
                return real.answer(text, lang, context)

        svc.brain = SlowBrain()  # type: ignore[assignment]
        try:
            mark = fake_api.mark()
            fake_api.send_text(USER, "Where was ASEM5 held?")
            [typing] = await fake_api.wait_for("sendChatAction", after=mark)
            assert typing.params["action"] == "typing"
            await fake_api.wait_for_message(USER, after=mark)
            # A fast answer shows no typing.
            svc.brain = real
            mark = fake_api.mark()
            fake_api.send_text(USER, "Where was ASEM6 held?")
            await fake_api.wait_for_message(USER, after=mark)
            assert fake_api.calls("sendChatAction", after=mark) == []
        finally:
            svc.brain = real
