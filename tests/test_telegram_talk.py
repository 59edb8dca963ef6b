"""End to end, conversations in Telegram: follow-ups, replies to answers (also after a
restart), edited questions, groups that stay short and quiet, privacy mode, /language.

Each test runs the real Application against the fake Bot API server, with a real SQLite file.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from conftest import Expect, StartBot

from bot.brain import Brain
from bot.channels.telegram.conversation import talk
from bot.channels.telegram.runtime import services
from bot.storage import Storage

try:
    from tests.fakes.bot_api import DEFAULT_USER_ID, FakeBotApi, parse_html
except ModuleNotFoundError:
    from fakes.bot_api import DEFAULT_USER_ID, FakeBotApi, parse_html

USER, OTHER = 601, 602
ADMIN, MEMBER = 7101, 7102
NO_LIMIT = {"ASEM_RATE_LIMITER": "off"}


async def ask(api: FakeBotApi, chat: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """``text`` is written in ``chat``; the bot's next message there."""
    mark = api.mark()
    if chat < 0:
        kwargs.setdefault("chat_type", "supergroup")
    api.send_text(chat, text, **kwargs)
    return await api.wait_for_message(chat, after=mark)


async def quiet(api: FakeBotApi, chat: int, *texts: str, **kwargs: Any) -> None:
    """``texts`` get no answer: a /help afterwards is answered first (one chat's updates are
    handled in order)."""
    mark = api.mark()
    for text in texts:
        api.send_text(chat, text, chat_type="supergroup", **kwargs)
    api.send_text(chat, "/help", chat_type="supergroup")
    reply = await api.wait_for_message(chat, after=mark)
    assert "/start" in reply["text"]
    assert len(api.calls("sendMessage", after=mark)) == 1


def html_text(html: str) -> str:
    """What Telegram shows of an HTML text."""
    return parse_html(html)[0]


def buttons(api: FakeBotApi, message: dict[str, Any]) -> list[str]:
    rows = api.keyboard(message["chat"]["id"], message["message_id"])
    return [b.get("callback_data") or b.get("url") for row in rows for b in row]


# -- follow-ups ----------------------------------------------------------------------------------


async def test_follow_ups_in_a_private_chat(
    fake_api: FakeBotApi, start_bot: StartBot, brain: Brain
) -> None:
    async with start_bot():
        first = await ask(fake_api, USER, "where was ASEM5 held?")
        assert "Hanoi" in first["text"]
        after = await ask(fake_api, USER, "and the one after that?")
        assert "ASEM6" in after["text"] and "Helsinki" in after["text"]
        who = await ask(fake_api, USER, "and the one before that?")
        assert "ASEM5" in who["text"]
        # A self-contained question is not bent by the context.
        alone = await ask(fake_api, USER, "When did Cambodia join ASEM?")
        assert alone["text"] == html_text(brain.answer("When did Cambodia join ASEM?").text)
        # Another chat asking the same follow-up has no context: the answer given with
        # context above was not remembered as the answer to the bare words.
        bare = await ask(fake_api, OTHER, "and the one after that?")
        assert "Helsinki" not in bare["text"]


async def test_follow_ups_in_a_group_are_each_members_own(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000301
    async with start_bot(env=NO_LIMIT):
        first = await ask(fake_api, group, "@asem_test_bot where was ASEM5 held?", user_id=ADMIN)
        assert "Hanoi" in first["text"]
        # Another member's question in between does not change the first member's context.
        other = await ask(fake_api, group, "@asem_test_bot when was ASEM1?", user_id=MEMBER)
        assert "1996" in other["text"]
        after = await ask(fake_api, group, "@asem_test_bot and the one after that?", user_id=ADMIN)
        assert "Helsinki" in after["text"]
        theirs = await ask(
            fake_api, group, "@asem_test_bot and the one after that?", user_id=MEMBER
        )
        assert "ASEM2" in theirs["text"] and "London" in theirs["text"]


# -- replies to answers, across a restart -------------------------------------------------------


async def test_reply_context_in_a_group_survives_a_restart(
    fake_api: FakeBotApi, start_bot: StartBot, tmp_path: Path
) -> None:
    group = -1001000000302
    async with start_bot(env=NO_LIMIT):
        first = await ask(fake_api, group, "/ask@asem_test_bot when was ASEM1?", user_id=ADMIN)
        assert "Bangkok" in first["text"]
        # Anyone may reply to the answer: it is read in the answer's context, even with a
        # third question by someone else in between.
        await ask(fake_api, group, "@asem_test_bot where is ASEF?", user_id=ADMIN)
        second = await ask(
            fake_api,
            group,
            "and when was the second one?",
            user_id=MEMBER,
            reply_to_message_id=first["message_id"],
        )
        assert "ASEM2" in second["text"] and "1998" in second["text"]
        assert second["reply_to_message"]["from"]["id"] == MEMBER
    # A second Application on the same SQLite file remembers what the answers were about.
    with Storage.open(tmp_path / "data") as reopened:
        async with start_bot(env=NO_LIMIT, storage=reopened) as app:
            assert len(talk(app).answers.pending) == 0
            again = await ask(
                fake_api,
                group,
                "who hosted it?",
                user_id=DEFAULT_USER_ID,
                reply_to_message_id=first["message_id"],
            )
            assert "Bangkok" in again["text"] or "Thailand" in again["text"]
            next_one = await ask(
                fake_api,
                group,
                "and the one after that?",
                user_id=DEFAULT_USER_ID,
                reply_to_message_id=second["message_id"],
            )
            assert "ASEM3" in next_one["text"]
        stored = reopened.sent_answer(group, first["message_id"])
        assert stored is not None and "summit_1" in (stored.topic or "")


async def test_reply_context_in_a_private_chat(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    async with start_bot():
        first = await ask(fake_api, USER, "where was ASEM5 held?")
        await ask(fake_api, USER, "what is ASEF?")
        # A reply to the older answer: its context, not the last one's.
        reply = await ask(
            fake_api, USER, "and the one after that?", reply_to_message_id=first["message_id"]
        )
        assert "Helsinki" in reply["text"]


async def test_stored_topics_hold_no_words_of_the_user(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    async with start_bot():
        answer = await ask(fake_api, USER, "Zanzibarqq when is ASEM Day?")
        assert "ASEM Day" in answer["text"] or "1 March" in answer["text"]
    stored = storage.sent_answer(USER, answer["message_id"])
    assert stored is not None and stored.topic
    assert "zanzibarqq" not in stored.topic.lower()
    assert stored.question_id is not None


# -- edited questions ---------------------------------------------------------------------------


async def test_edited_question_edits_its_answer(
    fake_api: FakeBotApi, start_bot: StartBot, expect: Expect
) -> None:
    expect.bad_requests.append("message to edit not found")  # the deleted answer, below
    group = -1001000000303
    async with start_bot(env=NO_LIMIT):
        question = fake_api.send_text(USER, "where was ASEM5 held?")
        answer = await fake_api.wait_for_message(USER)
        assert "Hanoi" in answer["text"]
        mark = fake_api.mark()
        fake_api.edited_text(USER, question["message"]["message_id"], "where was ASEM6 held?")
        [edit] = await fake_api.wait_for("editMessageText", after=mark)
        assert edit.ok and edit.params["message_id"] == answer["message_id"]
        assert "Helsinki" in edit.result["text"]
        assert fake_api.calls("sendMessage", after=mark) == []
        # Edited again: the same answer follows, and a follow-up reads the new topic.
        after = await ask(fake_api, USER, "and the one after that?")
        assert "ASEM7" in after["text"]

        # In a group, a mention edited: the answer is edited too.
        mark = fake_api.mark()
        asked = fake_api.send_text(
            group, "@asem_test_bot where was ASEM3 held?", chat_type="supergroup"
        )
        reply = await fake_api.wait_for_message(group, after=mark)
        assert "Seoul" in reply["text"]
        mark = fake_api.mark()
        fake_api.edited_text(
            group, asked["message"]["message_id"], "@asem_test_bot where was ASEM4 held?"
        )
        [edit] = await fake_api.wait_for("editMessageText", after=mark)
        assert "Copenhagen" in edit.result["text"]
        # The answer was deleted meanwhile: the edited question gets a new answer.
        fake_api.user_deletes(group, reply["message_id"])
        mark = fake_api.mark()
        fake_api.edited_text(
            group, asked["message"]["message_id"], "@asem_test_bot where was ASEM7 held?"
        )
        fresh = await fake_api.wait_for_message(group, after=mark)
        assert "Beijing" in fresh["text"]
        assert fresh["reply_to_message"]["message_id"] == asked["message"]["message_id"]
        # A group message the bot did not answer stays unanswered when edited.
        plain = fake_api.send_text(group, "hello all", chat_type="supergroup")
        fake_api.edited_text(group, plain["message"]["message_id"], "where was ASEM5 held?")
        await quiet(fake_api, group)


# -- groups that behave -------------------------------------------------------------------------


async def test_group_declines_are_short_and_chatter_gets_none(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    group = -1001000000304
    async with start_bot(env=NO_LIMIT):
        declined = await ask(fake_api, group, "@asem_test_bot who won the world cup?")
        assert "\n" not in declined["text"] and len(declined["text"]) <= 100
        assert buttons(fake_api, declined) == ["a:menu"]
        answer = await ask(fake_api, group, "@asem_test_bot where was ASEM5 held?")
        await quiet(
            fake_api,
            group,
            "👍",
            "lol",
            "nice one 😂",
            reply_to_message_id=answer["message_id"],
        )
        await quiet(fake_api, group, "@asem_test_bot 🙏🙏", "@asem_test_bot haha ok")


async def test_autoanswer_says_what_privacy_mode_hides(
    fake_api: FakeBotApi, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    group = -1001000000305
    fake_api.set_admins(group, [ADMIN])
    caplog.set_level(logging.INFO)
    async with start_bot(env=NO_LIMIT):
        assert any("privacy mode is on" in r.getMessage() for r in caplog.records)
        hidden = await ask(fake_api, group, "/autoanswer on", user_id=ADMIN)
        assert "/setprivacy" in hidden["text"] and "@asem_test_bot" in hidden["text"]
        assert "BotFather" in hidden["text"]
        status = await ask(fake_api, group, "/autoanswer", user_id=MEMBER)  # asked how it is
        assert "/setprivacy" in status["text"]
        # The bot as an admin of the group sees everything: a plain confirmation.
        fake_api.set_admins(group, [ADMIN, fake_api.bot_id])
        seen = await ask(fake_api, group, "/autoanswer on", user_id=ADMIN)
        assert "/setprivacy" not in seen["text"] and "on" in seen["text"]
        # Two admin commands, one getChatMember for the admin: the check is cached.
        asked = [
            c
            for c in fake_api.calls("getChatMember")
            if c.params["user_id"] == ADMIN and c.params["chat_id"] == group
        ]
        assert len(asked) == 1


async def test_autoanswer_with_privacy_mode_off(fake_api: FakeBotApi, start_bot: StartBot) -> None:
    group = -1001000000306
    fake_api.set_admins(group, [ADMIN])
    fake_api.can_read_all_group_messages = True
    async with start_bot(env=NO_LIMIT):
        on = await ask(fake_api, group, "/autoanswer on", user_id=ADMIN)
        assert "/setprivacy" not in on["text"] and "on" in on["text"]
        own = [
            c for c in fake_api.calls("getChatMember") if c.params["user_id"] == fake_api.bot_id
        ]
        assert own == []  # getMe already said so
        # Unasked, a follow-up is not read in the member's context: the bot stays out of it.
        asked = await ask(fake_api, group, "@asem_test_bot where was ASEM5 held?", user_id=ADMIN)
        assert "Hanoi" in asked["text"]
        await quiet(fake_api, group, "and the one after that?", user_id=ADMIN)
        unasked = await ask(fake_api, group, "Where was ASEM6 held?", user_id=ADMIN)
        assert "Helsinki" in unasked["text"]  # a clear question is still answered unasked


async def test_five_members_at_once_are_answered_at_telegrams_pace(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    """The rate limiter as in production, the fake enforcing Telegram's flood limits; an
    admin command in the burst checks the admin outside the group's message allowance."""
    group = -1001000000307
    fake_api.flood_control = True
    fake_api.set_admins(group, [ADMIN])
    questions = [
        "where was ASEM5 held?",
        "when was ASEM1?",
        "what is ASEF?",
        "when did Cambodia join ASEM?",
        "where was ASEM13 held?",
    ]
    async with start_bot():
        mark = fake_api.mark()
        sent = [
            fake_api.send_text(
                group, f"@asem_test_bot {q}", chat_type="supergroup", user_id=8000 + n
            )
            for n, q in enumerate(questions)
        ]
        fake_api.send_text(group, "/autoanswer", chat_type="supergroup", user_id=ADMIN)
        calls = await fake_api.wait_for(
            "sendMessage", lambda c: c.ok, count=6, after=mark, timeout=30
        )
        answered = [c.result["reply_to_message"]["message_id"] for c in calls[:5]]
        assert answered == [s["message"]["message_id"] for s in sent]  # all, in order
        expected_words = ["Hanoi", "1996", "ASEF", "Cambodia", "Phnom Penh"]
        for call, expected in zip(calls[:5], expected_words, strict=True):
            assert expected in call.result["text"]
        assert "Auto-answer" in calls[5].result["text"]
        assert calls[4].time - calls[0].time < 20  # generous: the pace sends them within ~2.2 s


# -- /language ----------------------------------------------------------------------------------


async def test_language_is_chosen_with_buttons_and_kept(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, tmp_path: Path
) -> None:
    group = -1001000000308
    fake_api.set_admins(group, [ADMIN])
    async with start_bot(env=NO_LIMIT) as app:
        menu = await ask(fake_api, USER, "/language")
        assert buttons(fake_api, menu) == ["l:en", "l:km"]
        labels = [b["text"] for row in fake_api.keyboard(USER, menu["message_id"]) for b in row]
        assert labels == ["English", "ខ្មែរ"]
        mark = fake_api.mark()
        fake_api.press_button(menu, "l:km")
        [edit] = await fake_api.wait_for("editMessageText", after=mark)
        assert "ខ្មែរ" in edit.result["text"]
        settings = storage.chat(USER)
        assert settings.lang == "km" and settings.lang_chosen
        # A text that does not tell its language gets the chosen one; a question in
        # English words is answered in English; one in Khmer script in Khmer.
        card = await ask(fake_api, USER, "ASEM5")
        assert "ហាណូយ" in card["text"]
        english = await ask(fake_api, USER, "where was ASEM5 held?")
        assert "was held in Hanoi" in english["text"]
        start = await ask(fake_api, USER, "/start")
        assert start["text"] == html_text(services(app).message("welcome", "km"))
        # Telegram's language comes after the chat's choice: English chosen beats km.
        fake_api.add_user(OTHER, language_code="km")
        first = await ask(fake_api, OTHER, "/start")
        assert first["text"] == html_text(services(app).message("welcome", "km"))
        menu = await ask(fake_api, OTHER, "/language")
        mark = fake_api.mark()
        fake_api.press_button(menu, "l:en")
        await fake_api.wait_for("editMessageText", after=mark)
        welcome = html_text(services(app).message("welcome"))
        assert (await ask(fake_api, OTHER, "/start"))["text"] == welcome
        # In a group only its admins choose.
        menu = await ask(fake_api, group, "/language", user_id=MEMBER)
        mark = fake_api.mark()
        query = fake_api.press_button(menu, "l:km", user_id=MEMBER)
        await fake_api.wait_for("answerCallbackQuery", after=mark)
        assert "admins" in fake_api.callback_answer(query)["text"]
        assert not storage.chat(group).lang_chosen
        mark = fake_api.mark()
        fake_api.press_button(menu, "l:km", user_id=ADMIN)
        await fake_api.wait_for("editMessageText", after=mark)
        assert storage.chat(group).lang == "km"
    with Storage.open(tmp_path / "data") as reopened:
        assert reopened.chat(USER).lang == "km" and reopened.chat(OTHER).lang == "en"


# -- the quiz after a restart -------------------------------------------------------------------


async def test_a_quiz_answered_after_a_restart_still_gets_its_reaction(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, tmp_path: Path
) -> None:
    async with start_bot(env=NO_LIMIT, campaign=True):
        sent = await ask(fake_api, USER, "/quiz")
        poll = sent["poll"]
        for _ in range(500):  # the poll is recorded in a worker thread after it is sent
            if storage.poll(poll["id"]) is not None:
                break
            await asyncio.sleep(0.01)
    with Storage.open(tmp_path / "data") as reopened:
        assert reopened.poll(poll["id"]) is not None
        async with start_bot(env=NO_LIMIT, campaign=True, storage=reopened):
            right = poll["correct_option_ids"][0]
            mark = fake_api.mark()
            fake_api.poll_answer(poll["id"], USER, [(right + 1) % len(poll["options"])])
            reaction = await fake_api.wait_for_message(USER, after=mark)
            assert reaction["text"].startswith("❌ Not quite")
            assert poll["options"][right]["text"] in reaction["text"]
            assert "0 right of 1" in reaction["text"]
            # Next question: a new poll, and the button is gone from the reaction.
            mark = fake_api.mark()
            query = fake_api.press_button(reaction, "q:next")
            new = await fake_api.wait_for_message(USER, after=mark)
            assert new["poll"]["id"] != poll["id"]
            assert fake_api.callback_answer(query) is not None
            assert fake_api.keyboard(USER, reaction["message_id"]) == []
