"""End to end, the campaign: quiz polls and scores, subscriptions, the fact of the day fired by
a test clock (also across a restart), blocked and deleted chats, temporary failures, /reload
and /stats for admins, and a database that cannot be used at start.

The daily job is fired with ``await job.run(app)`` while the extension's clock says what time
it is in Phnom Penh; ``job.run`` returns once every post of that run is sent (runs hold a
lock, so a catch-up that started first is finished too).
"""

from __future__ import annotations

import asyncio
import ctypes
import datetime as dt
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Expect, StartBot
from telegram.ext import Application

from bot.brain import Brain
from bot.campaign.quiz import QuizMaker
from bot.channels.telegram.app import FEATURES
from bot.channels.telegram.quiz import learn_more, quiz_state, send_quiz
from bot.channels.telegram.runtime import fill_pre, services
from bot.channels.telegram.subscriptions import CATCH_UP_JOB, DAILY_JOB, daily_state
from bot.declare import declared_messages
from bot.reply import MAX_TEXT, html_problems
from bot.storage import DB_FILENAME, ChatSettings, Score, Storage

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")
USER, OTHER, ADMIN, MEMBER = 1101, 1102, 1103, 1104
GROUP = -1001000000401
NO_LIMIT = {"ASEM_RATE_LIMITER": "off"}
REPO = Path(__file__).resolve().parents[1]


class Clock:
    """The time the campaign sees; tests move it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=PHNOM_PENH)


async def ask(api: FakeBotApi, text: str, chat: int = USER, **kwargs: Any) -> dict[str, Any]:
    """``text`` is written in ``chat``; return the bot's next message (or poll) there."""
    mark = api.mark()
    api.send_text(chat, text, **kwargs)
    return await api.wait_for_message(chat, after=mark)


async def in_group(api: FakeBotApi, text: str, user: int) -> dict[str, Any]:
    return await ask(api, text, GROUP, chat_type="supergroup", user_id=user)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds (for effects that send nothing, like a stored answer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out waiting for a condition"
        await asyncio.sleep(0.01)


async def fire(app: Application) -> None:
    """Run the daily job now, as the JobQueue would at ASEM_DAILY_TIME."""
    assert app.job_queue is not None
    [job] = app.job_queue.get_jobs_by_name(DAILY_JOB)
    await job.run(app)


def posts(api: FakeBotApi, after: int = 0) -> dict[int, list[dict[str, Any]]]:
    """The messages the bot sent successfully since ``after``, by chat."""
    found: dict[int, list[dict[str, Any]]] = {}
    for call in api.calls("sendMessage", after=after):
        if call.ok:
            found.setdefault(call.result["chat"]["id"], []).append(call.result)
    return found


def buttons_of(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button.get("callback_data") or button.get("url") for row in rows for button in row]


def button_urls(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["url"] for row in rows for button in row if "url" in button]


# -- the quiz -------------------------------------------------------------------------------------


async def test_every_quiz_question_passes_telegrams_poll_limits(
    fake_api: FakeBotApi, start_bot: StartBot, brain: Brain
) -> None:
    maker = QuizMaker(brain.kb)
    keys = maker.keys()
    assert len(keys) > 100
    async with start_bot(env=NO_LIMIT, campaign=True) as app:
        svc = services(app)
        for seed, key in enumerate(keys):
            question = maker.make(key, random.Random(seed))
            markup = learn_more(svc, question, "en", app.bot.username)
            assert (markup is None) == (question.deep_link is None)
            sent = await send_quiz(app.bot, USER, question, markup)
            assert sent.poll is not None and sent.poll.type == "quiz"
    polls = fake_api.calls("sendPoll")
    assert len(polls) == len(keys) and all(call.ok for call in polls)  # no 400 anywhere
    for call in polls:
        params = call.params
        assert params["is_anonymous"] is False and params["type"] == "quiz"
        # Plain text throughout: no parse mode on the question, options or explanation.
        assert "question_parse_mode" not in params and "explanation_parse_mode" not in params
        assert all("text_parse_mode" not in option for option in params["options"])
        assert len(params["correct_option_ids"]) == 1
    with_link = [call for call in polls if "reply_markup" in call.params]
    assert with_link
    url = with_link[0].params["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert url.startswith("https://t.me/asem_test_bot?start=")


async def test_quiz_rotation_answers_and_score(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, brain: Brain
) -> None:
    maker = QuizMaker(brain.kb)
    pool = maker.keys()
    left = {"summit_city:5", "partner_count", "asef_where"}
    for key in pool:  # a small round: every other question was had already
        if key not in left:
            storage.mark_quiz_seen(USER, key)
    async with start_bot(env=NO_LIMIT, campaign={"rng": random.Random(4)}):
        asked = []
        for _ in range(3):
            message = await ask(fake_api, "/quiz")
            poll = message["poll"]
            await eventually(lambda p=poll: storage.poll(p["id"]) is not None)
            record = storage.poll(poll["id"])
            assert record is not None and record.chat_id == USER
            expected = maker.make(record.key, random.Random(0))
            assert poll["question"] == expected.question
            assert poll["options"][poll["correct_option_ids"][0]]["text"] == expected.answer
            assert poll["correct_option_ids"] == [record.correct_option]
            asked.append((record.key, poll))
        assert {key for key, _ in asked} == left  # no repeats until the pool is used up
        await eventually(lambda: storage.quiz_seen(USER) == set(pool))
        # The pool is used up: a new round starts with just the next question.
        message = await ask(fake_api, "/quiz")
        await eventually(lambda: len(storage.quiz_seen(USER)) == 1)
        assert storage.poll(message["poll"]["id"]) is not None
        # Two right answers and one wrong: the chat's score, and a reaction to each.
        mark = fake_api.mark()
        for number, (_, poll) in enumerate(asked):
            right = poll["correct_option_ids"][0]
            choice = right if number < 2 else (right + 1) % len(poll["options"])
            fake_api.poll_answer(poll["id"], USER, [choice])
            [reaction] = await fake_api.wait_for("sendMessage", after=mark)
            mark = fake_api.mark()
            text = reaction.result["text"]
            answer = poll["options"][right]["text"]
            assert text.startswith("✅ Right!" if number < 2 else "❌ Not quite")
            assert number < 2 or answer in text
            assert ("2 right in a row" in text) == (number == 1)
            assert f"{min(number + 1, 2)} right of {number + 1}" in text
            assert buttons_of(reaction.result) == ["q:next"]
        await eventually(lambda: storage.chat_score(USER).answered == 3)
        assert storage.chat_score(USER).correct == 2
        assert storage.chat_score(USER).streak == 0
        reply = await ask(fake_api, "/score")
        assert "2 right of 3" in reply["text"] and "67%" in reply["text"]
        fresh = await ask(fake_api, "/score", OTHER)
        assert "/quiz" in fresh["text"]  # no answers yet


async def test_quiz_in_a_group_anyone_may_ask(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    fake_api.set_admins(GROUP, [ADMIN])
    async with start_bot(env=NO_LIMIT, campaign=True):
        message = await in_group(fake_api, "/quiz@asem_test_bot", MEMBER)
        assert message["reply_to_message"]["text"].startswith("/quiz")  # quoted
        poll = message["poll"]
        assert poll["is_anonymous"] is False
        await eventually(lambda: storage.poll(poll["id"]) is not None)
        right = poll["correct_option_ids"][0]
        mark = fake_api.mark()
        fake_api.poll_answer(poll["id"], MEMBER, [right])
        fake_api.poll_answer(poll["id"], ADMIN, [(right + 1) % len(poll["options"])])
        await eventually(lambda: storage.chat_score(GROUP).answered == 2)
        assert storage.chat_score(GROUP).correct == 1
        # One reaction for the poll, edited by the second answer, not one per member.
        [reaction] = await fake_api.wait_for("sendMessage", after=mark)
        [edit] = await fake_api.wait_for("editMessageText", after=mark)
        assert edit.params["message_id"] == reaction.result["message_id"]
        assert reaction.result["text"].startswith("📊 1 of 1 right")
        assert edit.result["text"].startswith("📊 1 of 2 right")
        assert poll["options"][right]["text"] in edit.result["text"]
        assert "1 right of 2 (50%)" in edit.result["text"]
        # "Next question": a new poll, once, however many press it.
        mark = fake_api.mark()
        fake_api.press_button(reaction.result, "q:next", user_id=ADMIN)
        nxt = await fake_api.wait_for_message(GROUP, after=mark)
        assert nxt["poll"]["id"] != poll["id"]
        await eventually(lambda: fake_api.keyboard(GROUP, reaction.result["message_id"]) == [])
        score = await in_group(fake_api, "/score", MEMBER)
        assert "50%" in score["text"]


# -- subscriptions --------------------------------------------------------------------------------


async def test_subscribe_in_private_and_in_a_group(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    fake_api.set_admins(GROUP, [ADMIN])
    async with start_bot(env=NO_LIMIT, campaign=True):
        subscribed = await ask(fake_api, "/subscribe")
        assert "09:00" in subscribed["text"] and "Asia/Phnom_Penh" in subscribed["text"]
        assert storage.chat(USER).subscribed
        assert "already" in (await ask(fake_api, "/subscribe"))["text"]
        assert "Unsubscribed" in (await ask(fake_api, "/unsubscribe"))["text"]
        assert not storage.chat(USER).subscribed
        assert "not subscribed" in (await ask(fake_api, "/unsubscribe"))["text"]
        refused = await in_group(fake_api, "/subscribe", MEMBER)
        assert "admins" in refused["text"]
        assert not storage.chat(GROUP).subscribed
        accepted = await in_group(fake_api, "/subscribe@asem_test_bot", ADMIN)
        assert "Subscribed" in accepted["text"]
        assert storage.subscribed_chats() == [GROUP]
        refused = await in_group(fake_api, "/unsubscribe", MEMBER)
        assert "admins" in refused["text"] and storage.chat(GROUP).subscribed


async def test_commands_are_listed_and_admin_ones_only_for_admins(
    fake_api: FakeBotApi, start_bot: StartBot
) -> None:
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True):
        everyone = [c["command"] for c in fake_api.commands({"type": "all_private_chats"})]
        assert {"quiz", "score", "subscribe", "unsubscribe"} <= set(everyone)
        assert not {"stats", "reload"} & set(everyone)
        groups = [c["command"] for c in fake_api.commands({"type": "all_group_chats"})]
        assert "quiz" in groups and "stats" not in groups
        admin = [c["command"] for c in fake_api.commands({"type": "chat", "chat_id": ADMIN})]
        assert {"stats", "reload", "quiz", "start"} <= set(admin)


# -- the fact of the day --------------------------------------------------------------------------


async def test_daily_fact_once_a_day_also_across_a_restart(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, tmp_path: Path
) -> None:
    storage.set_subscribed(USER, "private", True)
    storage.set_subscribed(GROUP, "supergroup", True)
    clock = Clock(at(1, 8, 0))  # 1 March, ASEM1's opening day; before the posting time
    env = {"ASEM_CHANNEL_ID": "@asem_news"}
    options = {"clock": clock, "catch_up_after": 0}
    async with start_bot(env=env, campaign=options) as app:
        await catch_up_finished(app)
        assert posts(fake_api) == {}  # 08:00: not yet
        clock.now = at(1, 9, 0)
        await fire(app)
        sent = posts(fake_api)
        [channel] = [chat for chat in sent if chat not in (USER, GROUP)]
        assert sorted(sent) == sorted([USER, GROUP, channel])
        assert all(len(messages) == 1 for messages in sent.values())
        for [message] in sent.values():
            assert "On this day in 1996" in message["text"] and "ASEM1" in message["text"]
            assert button_urls(message) == ["https://t.me/asem_test_bot?start=summit_1"]
        assert sent[channel][0]["chat"]["type"] == "channel"
        mark = fake_api.mark()
        clock.now = at(1, 9, 1)
        await fire(app)  # fired again the same day
        assert posts(fake_api, mark) == {}
    # A restart on the same day: a new Application over the same SQLite file.
    with Storage.open(tmp_path / "data") as reopened:
        clock.now = at(1, 15, 0)
        mark = fake_api.mark()
        async with start_bot(storage=reopened, env=env, campaign=options) as app:
            await catch_up_finished(app)
            await fire(app)
            assert posts(fake_api, mark) == {}
            # The next day: a new post everywhere, an ordinary fact this time.
            clock.now = at(2, 9, 0)
            await fire(app)
            sent = posts(fake_api, mark)
            assert sorted(sent) == sorted([USER, GROUP, channel])
            for [message] in sent.values():
                assert "fact of the day" in message["text"]
                assert html_problems(message["text"]) == []
        assert reopened.daily_posted(at(2, 9).date()) == {USER, GROUP, channel}


async def catch_up_finished(app: Application) -> None:
    """Wait until the start-up catch-up has been taken off the queue, then take the posting
    lock once: any catch-up run is then over."""
    assert app.job_queue is not None
    await eventually(lambda: not app.job_queue.get_jobs_by_name(CATCH_UP_JOB))
    await asyncio.sleep(0)  # let the job's task start and take the lock
    async with daily_state(app).posting:
        pass


async def test_catch_up_posts_when_the_bot_starts_late(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    storage.set_subscribed(USER, "private", True)
    storage.set_subscribed(OTHER, "private", True)
    storage.claim_daily_post(at(10, 9, month=6).date(), OTHER)  # posted before the restart
    storage.daily_post_done(at(10, 9, month=6).date(), OTHER)
    clock = Clock(at(10, 11, 30, month=6))
    async with start_bot(campaign={"clock": clock, "catch_up_after": 0}) as app:
        message = await fake_api.wait_for_message(USER)
        assert "fact of the day" in message["text"] or "On this day" in message["text"]
        await catch_up_finished(app)
        await fire(app)
    assert list(posts(fake_api)) == [USER]
    assert len(posts(fake_api)[USER]) == 1


async def test_blocked_deleted_and_removed_chats_are_unsubscribed(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, expect: Expect
) -> None:
    expect.bad_requests.append("chat not found")
    blocked, deleted, fine, kicked = 1201, -1001000000402, 1203, -1001000000404
    for chat in (blocked, deleted, fine, kicked):
        storage.set_subscribed(chat, "private" if chat > 0 else "supergroup", True)
    fake_api.block_chat(blocked)
    fake_api.delete_chat(deleted)
    clock = Clock(at(5, 9, month=4))
    async with start_bot(env=NO_LIMIT, campaign={"clock": clock}) as app:
        await fire(app)
        assert sorted(posts(fake_api)) == [kicked, fine]
        assert storage.subscribed_chats() == [kicked, fine]
        assert not storage.chat(blocked).subscribed and not storage.chat(deleted).subscribed
        # The bot is removed from a group: Telegram says so in a my_chat_member update.
        fake_api.my_chat_member(kicked, "kicked", chat_type="supergroup", user_id=ADMIN)
        await eventually(lambda: storage.subscribed_chats() == [fine])
        # A user who blocks the bot in private is forgotten the same way.
        fake_api.my_chat_member(fine, "kicked")
        await eventually(lambda: storage.subscribed_chats() == [])


@pytest.mark.parametrize("failure", ["500", "lost", "429"])
async def test_a_temporary_failure_is_retried_and_posted_once(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, failure: str
) -> None:
    storage.set_subscribed(USER, "private", True)
    if failure == "500":
        fake_api.fail_next("sendMessage", status=500)
    elif failure == "lost":  # the request is lost; a 502 comes late
        fake_api.delay_next("sendMessage", 0.3, deliver=False)
    else:  # a flood wait longer than the rate limiter's retries cover
        fake_api.fail_next("sendMessage", status=429, retry_after=1, count=4)
    clock = Clock(at(7, 9, month=5))
    options = {"clock": clock, "retry_delays": (0.2,)}
    async with start_bot(campaign=options) as app:
        await fire(app)
        assert [c.ok for c in fake_api.calls("sendMessage")][-1] is False
        assert storage.daily_posted(clock.now.date()) == set()  # released
        await fake_api.wait_for("sendMessage", lambda call: call.ok)  # the retry
        await fire(app)  # and a later run changes nothing
    assert len(posts(fake_api)[USER]) == 1
    assert storage.daily_posted(clock.now.date()) == {USER}


async def test_a_timeout_keeps_the_claim_so_nothing_is_posted_twice(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    storage.set_subscribed(USER, "private", True)
    fake_api.delay_next("sendMessage", 1.0, deliver=True)  # delivered; the answer is late
    clock = Clock(at(8, 9, month=5))
    options = {"clock": clock, "retry_delays": (0.1,)}
    async with start_bot(read_timeout=0.3, campaign=options) as app:
        await fire(app)
        await fire(app)
        assert app.job_queue is not None and not app.job_queue.get_jobs_by_name("daily fact retry")
    assert len(posts(fake_api)[USER]) == 1
    assert storage.daily_posted(clock.now.date()) == {USER}


async def test_after_a_crash_a_post_that_never_left_is_sent_and_an_unsure_one_reported(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, tmp_path: Path
) -> None:
    third = 1105
    for chat in (USER, OTHER, third):
        storage.set_subscribed(chat, "private", True)
    clock = Clock(at(11, 10, month=6))
    today = clock.now.date()
    # What a killed run left: USER claimed (waiting for its turn), OTHER's request had left.
    storage.claim_daily_post(today, USER)
    storage.claim_daily_post(today, OTHER)
    storage.daily_post_sending(today, OTHER)
    options = {"clock": clock, "catch_up_after": 0}
    env = {"ASEM_ADMIN_IDS": str(ADMIN)}
    async with start_bot(env=env, campaign=options) as app:
        await catch_up_finished(app)
        assert sorted(posts(fake_api)) == sorted([USER, third])
        await fire(app)  # the day's run changes nothing: OTHER may have it already
        assert sorted(posts(fake_api)) == sorted([USER, third])
        table = await ask(fake_api, "/stats", ADMIN)
        assert "daily posts that may not have arrived (all time): 1" in table["text"]
    with sqlite3.connect(tmp_path / "data" / DB_FILENAME) as db:
        states = dict(db.execute("SELECT chat_id, state FROM daily_posts"))
    assert states == {USER: "sent", OTHER: "unsure", third: "sent"}


# -- a group becomes a supergroup ----------------------------------------------------------------

OLD_GROUP = -4001


def a_group_with_everything(storage: Storage) -> None:
    storage.set_language(OLD_GROUP, "group", "km")
    storage.set_subscribed(OLD_GROUP, "group", True)
    storage.set_auto_answer(OLD_GROUP, "group", True)
    storage.mark_quiz_seen(OLD_GROUP, "summit_hosts")
    storage.record_poll("poll-1", OLD_GROUP, "summit_hosts", 0)
    assert storage.record_poll_answer("poll-1", [0]) is True


def assert_everything_moved(storage: Storage, new_id: int) -> None:
    moved = storage.chat(new_id)
    assert (moved.chat_type, moved.lang, moved.subscribed, moved.auto_answer) == (
        "supergroup",
        "km",
        True,
        True,
    )
    assert storage.chat_score(new_id) == Score(answered=1, correct=1)
    assert storage.quiz_seen(new_id) == {"summit_hosts"}
    poll = storage.poll("poll-1")
    assert poll is not None and poll.chat_id == new_id
    assert storage.chat(OLD_GROUP) == ChatSettings(OLD_GROUP)  # nothing left under the old id
    assert storage.chat_score(OLD_GROUP) == Score() and not storage.quiz_seen(OLD_GROUP)
    assert storage.subscribed_chats() == [new_id]


async def test_a_group_that_becomes_a_supergroup_keeps_all_its_settings(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    a_group_with_everything(storage)
    async with start_bot(env=NO_LIMIT, campaign=True):
        new_id = fake_api.migrate_to_supergroup(OLD_GROUP)
        await eventually(lambda: storage.chat(new_id).subscribed)
        await eventually(lambda: not storage.chat(OLD_GROUP).subscribed)
        assert_everything_moved(storage, new_id)
        # Auto-answer still on, in the group's language, under the new id (a question in
        # no language of its own, so the chat's choice decides)
        answer = await ask(fake_api, "ASEM5?", new_id, chat_type="supergroup")
        assert any("\u1780" <= char <= "\u17ff" for char in answer["text"])  # Khmer
    storage.migrate_chat(OLD_GROUP, new_id)  # Telegram says it twice: the second is a no-op
    assert_everything_moved(storage, new_id)


async def test_a_daily_post_to_a_group_that_became_a_supergroup_follows_it(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, expect: Expect
) -> None:
    expect.bad_requests.append("upgraded to a supergroup")
    a_group_with_everything(storage)
    clock = Clock(at(3, 9, 0))
    options = {"clock": clock, "retry_delays": (0.05,), "catch_up_after": 3600}
    async with start_bot(env=NO_LIMIT, campaign=options) as app:
        new_id = fake_api.migrate_to_supergroup(OLD_GROUP, announce=False)  # not told
        await fire(app)  # refused: "group chat was upgraded", with the new id
        await eventually(lambda: bool(posts(fake_api).get(new_id)))
        assert len(posts(fake_api)[new_id]) == 1 and OLD_GROUP not in posts(fake_api)
        text = posts(fake_api)[new_id][0]["text"]
        assert any("\u1780" <= char <= "\u17ff" for char in text)  # still in Khmer
        assert_everything_moved(storage, new_id)
        assert storage.daily_posted(at(3, 9).date()) == {new_id}


# -- admin commands -------------------------------------------------------------------------------


@pytest.fixture
def knowledge_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the knowledge folder that /reload reads (ASEM_KNOWLEDGE_DIR)."""
    copy = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", copy)
    monkeypatch.setenv("ASEM_KNOWLEDGE_DIR", str(copy))
    return copy


async def test_reload_refuses_a_broken_base_and_takes_a_valid_one(
    fake_api: FakeBotApi, start_bot: StartBot, knowledge_copy: Path
) -> None:
    asef = knowledge_copy / "asef.yaml"
    asef.write_text(asef.read_text().replace("founded: 1997-02-15", "founded: someday"))
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True) as app:
        old_brain = services(app).brain
        refused = await ask(fake_api, "/reload", OTHER)
        assert "administrators" in refused["text"]
        report = await ask(fake_api, "/reload", ADMIN)
        assert "1 problem" in report["text"] and "kept" in report["text"]
        assert f"{asef}:6: founded" in report["text"]
        assert services(app).brain is old_brain
        assert "Hanoi" in (await ask(fake_api, "Where was ASEM5 held?", ADMIN))["text"]
        # Fixed, and one answer changed: the new base is swapped in.
        asef.write_text(asef.read_text().replace("founded: someday", "founded: 1997-02-15"))
        smalltalk = knowledge_copy / "smalltalk.yaml"
        smalltalk.write_text(
            smalltalk.read_text().replace("You're welcome!", "You're welcome, reloaded!")
        )
        assert "You're welcome!" in (await ask(fake_api, "thanks", ADMIN))["text"]
        done = await ask(fake_api, "/reload", ADMIN)
        assert "reloaded" in done["text"] and "53 partners" in done["text"]
        assert services(app).brain is not old_brain
        assert "reloaded!" in (await ask(fake_api, "thanks", ADMIN))["text"]
        quiz = await ask(fake_api, "/quiz", ADMIN)  # the quiz follows the new base
        assert quiz["poll"]["type"] == "quiz"
        assert quiz_state(app).quiz_maker(services(app).brain, "en").kb.root == knowledge_copy


async def test_reload_lists_as_many_problems_as_fit(
    fake_api: FakeBotApi, start_bot: StartBot, knowledge_copy: Path
) -> None:
    messages = knowledge_copy / "messages.yaml"
    lines = messages.read_text().splitlines()
    # Most messages broken: a placeholder the bot does not know in each.
    broken = [line.replace('{en: "', '{en: "{nope} ', 1) for line in lines]
    messages.write_text("\n".join(broken) + "\n")
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True):
        report = await ask(fake_api, "/reload", ADMIN)
    text = report["text"]
    assert "problem(s)" in text and "more" in text.splitlines()[-1]
    assert "messages.yaml:" in text
    assert len(text) <= MAX_TEXT  # the fake counts after parsing; it accepted the message


async def test_stats_for_admins_only(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    for text in ("weather in Paris?", "Weather in paris", "<b>who won & why</b>"):
        storage.log_question(
            chat_type="private", lang="en", intent=None, confidence=0.1, answered=False,
            question=text,
        )  # fmt: skip
    for _ in range(3):
        storage.log_question(
            chat_type="group", lang="en", intent="meeting.place", confidence=1.0,
            answered=True, question=None,
        )  # fmt: skip
    fake_api.set_admins(GROUP, [MEMBER])  # a group admin is not a bot admin
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True):
        table = await ask(fake_api, "/stats", ADMIN)
        text = table["text"]
        assert "Questions (all time): 6" in text
        assert "meeting.place" in text and "weather in paris" in text.lower()
        assert "<b>who won & why</b>" in text  # escaped on the way, shown as typed
        assert any(e["type"] == "pre" for e in table["entities"])
        assert "administrators" in (await ask(fake_api, "/stats", OTHER))["text"]
        refused = await in_group(fake_api, "/stats", MEMBER)
        assert "administrators" in refused["text"]
        week = await ask(fake_api, "/stats 7", ADMIN)
        assert "the last 7 days" in week["text"]


async def test_stats_in_a_group_shows_no_question_and_odd_arguments_get_a_clear_answer(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage
) -> None:
    storage.log_question(
        chat_type="private", lang="en", intent=None, confidence=0.1, answered=False,
        question="I am Sokha from Kampot, is my visa ready?",
    )  # fmt: skip
    with sqlite3.connect(storage.path) as db:  # a row as an older version wrote it
        db.execute(
            "INSERT INTO question_log (at, chat_type, lang, intent, confidence, answered, "
            "question) VALUES (?, 'private', 'en', NULL, 0.1, 0, ?)",
            (int(dt.datetime.now(dt.UTC).timestamp()), "\x1b[2J\u202eweird\u202c +85512345678"),
        )
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True):
        private = (await ask(fake_api, "/stats", ADMIN))["text"]
        assert "Sokha" in private and "weird" in private
        assert "\x1b" not in private and "\u202e" not in private and "12345678" not in private
        group = (await in_group(fake_api, "/stats", ADMIN))["text"]
        assert "Questions (all time): 2" in group
        assert "Sokha" not in group and "weird" not in group
        assert "only in a private chat" in group
        for argument in ("999999999", "0", "abc", "-1", "7 days"):
            usage = (await ask(fake_api, f"/stats {argument}", ADMIN))["text"]
            assert "/stats 7" in usage and "36500" in usage, argument
        assert "the last 36500 days" in (await ask(fake_api, "/stats 36500", ADMIN))["text"]


async def test_no_admin_path_is_open_to_anyone_else(
    fake_api: FakeBotApi, start_bot: StartBot, storage: Storage, expect: Expect
) -> None:
    """Every way a non-admin could reach /stats or /reload: commands in any spelling, in a
    group where they are the creator, edits, and forged button presses (a modified client
    can send any callback data)."""
    expect.bad_requests.append("not modified")
    storage.log_question(
        chat_type="private", lang="en", intent=None, confidence=0.1, answered=False,
        question="private question nobody else may read",
    )  # fmt: skip
    fake_api.set_admins(GROUP, [OTHER])  # the group's own admin, not a bot admin
    async with start_bot(env={"ASEM_ADMIN_IDS": str(ADMIN)}, campaign=True) as app:
        old_brain = services(app).brain
        for text in ("/stats", "/STATS", "/stats@asem_test_bot 7", "/reload", "/Reload now"):
            assert "administrators" in (await ask(fake_api, text, OTHER))["text"], text
            assert "administrators" in (await in_group(fake_api, text, OTHER))["text"], text
        menu = await ask(fake_api, "/start", OTHER)
        fake_api.edited_text(OTHER, menu["message_id"] - 1, "/stats")  # edits are not commands
        forged = ("a:stats", "a:/stats", "a:reload", "stats", "/stats", "a:admin.stats",
                  "a:stats#1", "a:menu:stats", "a:reload:x=1")  # fmt: skip
        for data in forged:
            mark = fake_api.mark()
            query_id = fake_api.press_button(menu, data, user_id=OTHER, forged=True)
            [answer] = await fake_api.wait_for(
                "answerCallbackQuery",
                lambda c, q=query_id: c.params["callback_query_id"] == q,
                after=mark,
            )
            assert "expired" in answer.params["text"], data  # the stale-button notice
            await fake_api.wait_for(("editMessageText", "sendMessage"), after=mark)
        table = await ask(fake_api, "/stats", ADMIN)  # the admin still can
        assert "nobody else may read" in table["text"]
        shown = [
            call.params.get("text", "")
            for call in fake_api.calls(("sendMessage", "editMessageText", "answerCallbackQuery"))
            if call.params.get("chat_id") != ADMIN
        ]
        assert not [text for text in shown if "nobody else" in text or "Questions (" in text]
        assert services(app).brain is old_brain  # never reloaded


def test_fill_pre_keeps_within_telegrams_limit() -> None:
    template = "<b>Problems</b>\n<pre>{text}</pre> ({count})"
    lines = [f"knowledge/x.yaml:{n}: <bad> & wrong" for n in range(1000)]
    text = fill_pre(template, lines, lambda n: f"… and {n} more", count=1000)
    assert html_problems(text) == []  # escaped, and 1..4096 characters once parsed
    assert text.rstrip().endswith("more</pre> (1000)")
    short = fill_pre(template, lines[:3], lambda n: f"… and {n} more", count=3)
    assert "more" not in short and short.count("&lt;bad&gt;") == 3


def test_campaign_messages_exist(brain: Brain) -> None:
    declared = declared_messages(*FEATURES)
    assert {"tg_score", "tg_subscribed", "tg_stats", "tg_reload_failed"} <= declared
    missing = [key for key in declared if key not in brain.kb.messages]
    assert missing == []


# -- the database at start ----------------------------------------------------------------------


def run_cli(
    env: dict[str, str], cwd: Path, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=preexec,
    )


def cli_env(data_dir: Path, api: FakeBotApi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ASEM_"))}
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        PYTHONWARNINGS="ignore::DeprecationWarning",
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        ASEM_DATA_DIR=str(data_dir),
    )
    return env


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="asem-campaign-"))
    yield folder
    for path in (folder, *folder.rglob("*")):
        path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
    shutil.rmtree(folder)


def test_corrupt_database_at_start(data_dir: Path) -> None:
    (data_dir / DB_FILENAME).write_bytes(random.Random(1).randbytes(8192))
    with FakeBotApi() as api:
        result = run_cli(cli_env(data_dir, api), data_dir)
        assert api.calls("getMe")  # the token was fine: the database is the problem
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("asem-bot run: ") and str(data_dir / DB_FILENAME) in line
    assert "not a SQLite database" in line


def _without_dac_override() -> None:  # pragma: no cover - runs in the child
    """Drop CAP_DAC_OVERRIDE from the bounding set before exec: root then obeys file modes,
    as an ordinary user would."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, cap_dac_override = 24, 1
    if libc.prctl(pr_capbset_drop, cap_dac_override, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _can_write_read_only(folder: Path) -> bool:
    probe = folder / "probe"
    probe.touch()
    probe.chmod(0o444)
    try:
        probe.open("a").close()
        return True
    except PermissionError:
        return False
    finally:
        probe.unlink()


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_database_at_start(data_dir: Path, what: str) -> None:
    Storage.open(data_dir).close()
    for leftover in data_dir.glob(f"{DB_FILENAME}-*"):
        leftover.unlink()
    preexec = None
    if _can_write_read_only(data_dir):  # root: file modes bind only without DAC override
        if not sys.platform.startswith("linux"):
            pytest.skip("root ignores file modes here and capabilities cannot be dropped")
        preexec = _without_dac_override
    (data_dir / DB_FILENAME).chmod(0o444)
    if what == "folder":
        data_dir.chmod(0o555)
    with FakeBotApi() as api:
        result = run_cli(cli_env(data_dir, api), Path(tempfile.gettempdir()), preexec)
    assert result.returncode == 1, result.stderr
    line = one_line(result)
    assert line.startswith("asem-bot run: ") and str(data_dir / DB_FILENAME) in line
    assert "cannot be written" in line
    with sqlite3.connect(data_dir / DB_FILENAME) as db:  # the data is intact
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_validate_reports_a_missing_campaign_message(
    knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    messages = knowledge_copy / "messages.yaml"
    kept = [line for line in messages.read_text().splitlines() if "tg_cmd_quiz:" not in line]
    messages.write_text("\n".join(kept) + "\n")
    assert main(["validate", str(knowledge_copy)]) == 1
    assert "message 'tg_cmd_quiz' is missing" in capsys.readouterr().out
