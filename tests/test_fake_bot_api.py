"""Tests of the fake Bot API server, driven by python-telegram-bot's real ``telegram.Bot``."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

try:  # tests/ as a package (tests/__init__.py) or, as now, a plain directory on sys.path
    from tests.fakes.bot_api import FakeBotApi, HtmlParseError, parse_html, post_update_to_webhook
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi, HtmlParseError, parse_html, post_update_to_webhook

CHAT = 4242


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        yield bot


def bad_request(text: str) -> pytest.RaisesContext[BadRequest]:
    """PTB strips "Bad Request: " and capitalize()s the rest, so match case-insensitively."""
    return pytest.raises(BadRequest, match=re.compile(re.escape(text), re.IGNORECASE))


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in datas])


def raw_post(url: str, body: bytes, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# ------------------------------------------------------------------ basics


async def test_get_me(bot: Bot, api: FakeBotApi) -> None:
    me = await bot.get_me()
    assert me.username == "asem_test_bot"
    assert me.id == 123456 == api.bot_id
    assert me.is_bot and me.supports_inline_queries and me.can_join_groups
    assert api.calls("getMe")[0].ok


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    other = Bot("999:WRONG-token_abcdefghijklmnopqrstuvwxyz", base_url=api.base_url)
    with pytest.raises(InvalidToken):
        await other.get_me()
    assert api.calls()[-1].status == 401


async def test_unknown_method_is_404(bot: Bot, api: FakeBotApi) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    status, body = raw_post(f"{api.base_url}{api.token}/sendTelepathy", b"", "text/plain")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_method_names_are_case_insensitive(api: FakeBotApi) -> None:
    status, body = raw_post(f"{api.base_url}{api.token}/GETME", b"", "text/plain")
    assert status == 200 and body["result"]["username"] == "asem_test_bot"


async def test_malformed_body_is_400_and_logged(api: FakeBotApi) -> None:
    url = f"{api.base_url}{api.token}/sendMessage"
    status, body = raw_post(url, b"{not json", "application/json")
    assert status == 400 and body["description"].startswith("Bad Request: can't parse request")
    assert len(api.errors) == 1
    api.errors.clear()  # the fixture asserts that no other error happened


async def test_json_and_multipart_bodies_are_accepted(api: FakeBotApi) -> None:
    url = f"{api.base_url}{api.token}/sendMessage"
    status, body = raw_post(
        url, json.dumps({"chat_id": 5, "text": "hi"}).encode(), "application/json"
    )
    assert status == 200 and body["result"]["text"] == "hi"
    multipart = (
        b'--XX\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n5\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="text"\r\n\r\n<b>yo</b>\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="parse_mode"\r\n\r\nHTML\r\n--XX--\r\n'
    )
    status, body = raw_post(url, multipart, "multipart/form-data; boundary=XX")
    assert status == 200 and body["result"]["text"] == "yo"


# ------------------------------------------------------------------ messages and HTML


async def test_send_valid_html_message(bot: Bot, api: FakeBotApi) -> None:
    message = await bot.send_message(
        CHAT,
        '😀 <b>ASEM</b> has <a href="https://aseminfoboard.org">51</a> &amp; <i>2</i> &lt;3',
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("more"),
    )
    assert message.text == "😀 ASEM has 51 & 2 <3"
    bold, link, italic = message.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 4)  # the emoji is 2 UTF-16 units
    assert link.url == "https://aseminfoboard.org"
    assert message.parse_entity(italic) == "2"
    assert message.from_user.id == api.bot_id and message.chat.id == CHAT
    assert message.reply_markup == keyboard("more")
    [sent] = api.sent_messages(CHAT)
    assert sent["message_id"] == message.message_id and sent["text"] == message.text
    [call] = api.calls("sendMessage")
    assert call.params["chat_id"] == CHAT and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("line<br/>break", 'Unsupported start tag "br/"'),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, api: FakeBotApi, html: str, error: str) -> None:
    with bad_request("can't parse entities") as info:
        await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)
    assert error.lower() in str(info.value).lower()  # PTB lower-cases all but the first letter
    assert api.calls("sendMessage")[0].status == 400
    assert api.sent_messages() == []


async def test_without_parse_mode_text_is_not_parsed(bot: Bot) -> None:
    message = await bot.send_message(CHAT, "1 < 2 & <b>")
    assert message.text == "1 < 2 & <b>" and message.entities == ()


async def test_all_telegram_tags_are_understood() -> None:
    text, entities = parse_html(
        "<b>b</b><strong>b</strong><i>i</i><em>i</em><u>u</u><ins>u</ins><s>s</s>"
        "<strike>s</strike><del>s</del><tg-spoiler>p</tg-spoiler>"
        '<span class="tg-spoiler">p</span><code>c</code>'
        '<pre><code class="language-python">x</code></pre><blockquote>q</blockquote>'
        '<blockquote expandable>e</blockquote><tg-emoji emoji-id="5368324170671202286">👍'
        '</tg-emoji><a href="tg://user?id=7">m</a><tg-time unix="1700000000">t</tg-time>'
    )
    assert text == "bbiiuusssppcxqe👍mt"
    kinds = [e["type"] for e in entities]
    assert kinds == [
        *["bold"] * 2,
        *["italic"] * 2,
        *["underline"] * 2,
        *["strikethrough"] * 3,
        *["spoiler"] * 2,
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
        "text_mention",
        "date_time",
    ]
    assert entities[12]["language"] == "python"
    with pytest.raises(HtmlParseError):
        parse_html("<a>no href</a>")
    assert parse_html("<a>https://x.org</a> & co", strict=False)[0] == "https://x.org & co"


async def test_length_is_counted_after_parsing(bot: Bot) -> None:
    message = await bot.send_message(CHAT, f"<b>{'a' * 4096}</b>", parse_mode=ParseMode.HTML)
    assert len(message.text) == 4096
    with bad_request("message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    with bad_request("message is too long"):
        await bot.send_message(CHAT, "😀" * 2049)  # 4098 UTF-16 code units
    with bad_request("message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard("x" * 64))
    for data in ("x" * 65, "é" * 33):  # 65 and 66 bytes
        with bad_request("BUTTON_DATA_INVALID"):
            await bot.send_message(CHAT, "too long", reply_markup=keyboard(data))


async def test_keyboard_limits(bot: Bot) -> None:
    row = [InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(9)]
    with bad_request("REPLY_MARKUP_TOO_LONG"):
        await bot.send_message(CHAT, "wide", reply_markup=InlineKeyboardMarkup([row]))
    many = [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    with bad_request("REPLY_MARKUP_TOO_LONG"):
        await bot.send_message(CHAT, "tall", reply_markup=InlineKeyboardMarkup(many))
    with bad_request("Text buttons are unallowed"):
        await bot.send_message(
            CHAT, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("plain")]])
        )


async def test_edit_rules(bot: Bot, api: FakeBotApi) -> None:
    message = await bot.send_message(
        CHAT, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard("a")
    )
    with bad_request("message is not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", CHAT, message.message_id, parse_mode="HTML", reply_markup=keyboard("a")
        )
    edited = await bot.edit_message_text("v2", CHAT, message.message_id)
    assert edited.text == "v2" and edited.reply_markup is None  # no reply_markup: removed
    assert api.get_message(CHAT, message.message_id)["text"] == "v2"
    assert api.sent_messages(CHAT)[0]["text"] == "v2"
    with bad_request("message to edit not found"):
        await bot.edit_message_text("v3", CHAT, 999)
    await bot.edit_message_reply_markup(CHAT, message.message_id, reply_markup=keyboard("b"))
    assert api.keyboard(CHAT, message.message_id)[0][0]["callback_data"] == "b"
    assert await bot.delete_message(CHAT, message.message_id)
    assert api.get_message(CHAT, message.message_id) is None
    assert api.is_deleted(CHAT, message.message_id)
    with bad_request("message to delete not found"):
        await bot.delete_message(CHAT, message.message_id)


async def test_reply_to_unknown_message_is_rejected(bot: Bot, api: FakeBotApi) -> None:
    update = api.send_text(CHAT, "question")
    user_message_id = update["message"]["message_id"]
    reply = await bot.send_message(CHAT, "answer", reply_to_message_id=user_message_id)
    assert reply.reply_to_message.text == "question"
    with bad_request("message to be replied not found"):
        await bot.send_message(CHAT, "answer", reply_to_message_id=12345)


# ------------------------------------------------------------------ queries


async def test_callback_query_answered_once(bot: Bot, api: FakeBotApi) -> None:
    message = await bot.send_message(CHAT, "pick", reply_markup=keyboard("yes", "no"))
    query_id = api.press_button(message.to_dict(), "yes")
    [update] = await bot.get_updates()
    assert update.callback_query.data == "yes"
    assert update.callback_query.message.message_id == message.message_id
    with bad_request("MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="Noted")
    assert api.callback_answer(query_id)["text"] == "Noted"
    with bad_request("query ID is invalid"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(ValueError, match="no button"):
        api.press_button(message.to_dict(), "maybe")


def article(result_id: str, text: str = "fact") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(result_id, "title", InputTextMessageContent(text))


async def test_inline_query_limits(bot: Bot, api: FakeBotApi) -> None:
    query_id = api.inline_query("asem")
    with bad_request("RESULTS_TOO_MUCH"):
        await bot.answer_inline_query(query_id, [article(str(i)) for i in range(51)])
    with bad_request("RESULT_ID_DUPLICATE"):
        await bot.answer_inline_query(query_id, [article("1"), article("1")])
    with bad_request("can't parse entities"):
        bad = InlineQueryResultArticle(
            "1", "t", InputTextMessageContent("<b>x", parse_mode=ParseMode.HTML)
        )
        await bot.answer_inline_query(query_id, [bad])
    with bad_request("START_PARAM_INVALID"):
        button = InlineQueryResultsButton("Open", start_parameter="has space")
        await bot.answer_inline_query(query_id, [article("1")], button=button)
    button = InlineQueryResultsButton("Open", start_parameter="from_inline")
    assert await bot.answer_inline_query(
        query_id, [article(str(i)) for i in range(50)], button=button
    )
    assert len(api.inline_answer(query_id)["results"]) == 50
    with bad_request("query is too old"):
        await bot.answer_inline_query(query_id, [article("1")])


# ------------------------------------------------------------------ polls


async def test_quiz_poll_limits(bot: Bot, api: FakeBotApi) -> None:
    with bad_request("poll question length must not exceed 300"):
        await bot.send_poll(CHAT, "q" * 301, ["a", "b"])
    with bad_request("poll can't have more than 12 options"):
        await bot.send_poll(CHAT, "q", [str(i) for i in range(13)])
    with bad_request("poll options length must not exceed 100"):
        await bot.send_poll(CHAT, "q", ["a", "b" * 101])
    with bad_request("correct_option_ids"):
        await bot.send_poll(CHAT, "q", ["a", "b"], type="quiz")
    with bad_request("wrong correct option ID"):
        await bot.send_poll(CHAT, "q", ["a", "b"], type="quiz", correct_option_ids=[2])
    with bad_request("exactly one correct option"):
        await bot.send_poll(CHAT, "q", ["a", "b"], type="quiz", correct_option_ids=[0, 1])
    with bad_request("explanation length"):
        await bot.send_poll(
            CHAT, "q", ["a", "b"], type="quiz", correct_option_ids=[1], explanation="e" * 201
        )
    message = await bot.send_poll(
        CHAT,
        "How many partners does ASEM have?",
        ["30", "51", "53"],
        type="quiz",
        correct_option_ids=[1],
        is_anonymous=False,
        explanation="<b>51</b> partners",
        explanation_parse_mode=ParseMode.HTML,
    )
    poll = message.poll
    assert poll.type == "quiz" and poll.correct_option_ids == (1,)
    assert poll.explanation == "51 partners" and poll.explanation_entities[0].type == "bold"
    assert [o.text for o in poll.options] == ["30", "51", "53"]
    [call] = api.calls("sendPoll", after=0)[-1:]
    assert call.params["options"] == [{"text": "30"}, {"text": "51"}, {"text": "53"}]
    assert call.params["correct_option_ids"] == [1]

    update = api.poll_answer(poll.id, user_id=7, option_ids=[1])
    assert update["poll_answer"]["option_ids"] == [1]
    stopped = await bot.stop_poll(CHAT, message.message_id)
    assert (
        stopped.is_closed
        and stopped.total_voter_count == 1
        and stopped.options[1].voter_count == 1
    )
    with bad_request("poll has already been closed"):
        await bot.stop_poll(CHAT, message.message_id)


# ------------------------------------------------------------------ updates and polling


async def test_long_polling_returns_injected_update(bot: Bot, api: FakeBotApi) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()  # really waiting
    api.send_text(CHAT, "/start@asem_test_bot hello @someone")
    [update] = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 3
    assert isinstance(update, Update) and update.message.text.startswith("/start")
    command, mention = update.message.entities
    assert (command.type, command.offset, command.length) == ("bot_command", 0, 20)
    assert mention.type == "mention" and update.message.parse_entity(mention) == "@someone"
    assert update.effective_user.id == CHAT and update.effective_chat.type == "private"
    # Confirming with offset drops the update; an empty short poll returns at once.
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert api.pending_updates() == []


async def test_get_updates_times_out_empty_and_honours_limit(bot: Bot, api: FakeBotApi) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3
    for i in range(3):
        api.send_text(-100, f"msg {i}", chat_type="group", title="ASEM fans")
    updates = await bot.get_updates(limit=2)
    assert [u.message.text for u in updates] == ["msg 0", "msg 1"]
    assert updates[0].effective_chat.title == "ASEM fans"
    assert updates[0].effective_chat.type == "group"


async def test_all_injection_helpers_parse_in_ptb(bot: Bot, api: FakeBotApi) -> None:
    api.send_sticker(CHAT)
    api.send_photo(CHAT, caption="look")
    first = api.send_text(CHAT, "typo")
    api.edited_text(CHAT, first["message"]["message_id"], "fixed")
    api.channel_post(-1001234567890, "news", title="ASEM news")
    api.new_chat_members(-55, [api.bot_id, 77], by_user_id=77)
    api.my_chat_member(CHAT, "kicked")
    api.inline_query("asem")
    api.push_update(
        {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    updates = await bot.get_updates()
    assert updates[0].message.sticker.emoji == "👍"
    assert updates[1].message.photo[-1].width == 800 and updates[1].message.caption == "look"
    assert updates[3].edited_message.text == "fixed"
    assert updates[4].channel_post.chat.type == "channel"
    assert updates[5].message.new_chat_members[0].id == api.bot_id
    assert updates[6].my_chat_member.new_chat_member.status == "kicked"
    assert updates[7].inline_query.query == "asem"
    assert updates[8].message.chat.id == 1
    with pytest.raises(Forbidden, match="blocked by the user"):  # kicked => blocked
        await bot.send_message(CHAT, "still there?")


async def test_concurrent_get_updates_conflict(bot: Bot, api: FakeBotApi) -> None:
    other = Bot(api.token, base_url=api.base_url)
    async with other:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.3)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first
        assert await second == ()


async def test_application_polling_end_to_end(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_html("<b>Hello</b>", reply_markup=keyboard("fact"))

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("one fact")
        await update.callback_query.edit_message_text("ASEM was founded in 1996")

    app = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0)
        api.send_text(CHAT, "/start")
        reply = await api.wait_for_message(CHAT)
        assert reply["text"] == "Hello"
        query_id = api.press_button(reply, "fact")
        await api.wait_for("editMessageText")
        assert api.callback_answer(query_id)["text"] == "one fact"
        assert api.get_message(CHAT, reply["message_id"])["text"] == "ASEM was founded in 1996"
        await app.updater.stop()
        await app.stop()
    assert all(call.ok for call in api.calls() if call.method != "getUpdates")


# ------------------------------------------------------------------ failure injection


RETRY_AFTER_IS_AN_INT = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@RETRY_AFTER_IS_AN_INT
async def test_injected_429_surfaces_as_retry_after(bot: Bot, api: FakeBotApi) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHAT, "hi")
    assert info.value.retry_after == 3
    assert api.sent_messages() == []  # a failed call is not carried out
    await bot.send_message(CHAT, "hi")
    assert [c.status for c in api.calls("sendMessage")] == [429, 200]


async def test_injected_500_is_a_network_error(bot: Bot, api: FakeBotApi) -> None:
    api.fail_next("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(Exception, match="Internal Server Error"):
            await bot.send_message(CHAT, "hi")
    assert (await bot.send_message(CHAT, "hi")).text == "hi"


async def test_delay_delivers_but_client_times_out(api: FakeBotApi) -> None:
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(api.token, base_url=api.base_url, request=request) as bot:
        api.delay_next("sendMessage", 1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "once")
        assert len(api.sent_messages(CHAT)) == 1  # delivered although the client timed out
        api.delay_next("sendMessage", 1.0, deliver=False)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "lost")
        assert [m["text"] for m in api.sent_messages(CHAT)] == ["once"]


async def test_reset_drops_the_connection_without_carrying_out(bot: Bot, api: FakeBotApi) -> None:
    api.reset_next("sendMessage")
    with pytest.raises(NetworkError) as info:
        await bot.send_message(CHAT, "lost")
    assert not isinstance(info.value, TimedOut)  # dropped at once, not a slow answer
    assert api.sent_messages() == []
    assert (await bot.send_message(CHAT, "again")).text == "again"
    assert [c.status for c in api.calls("sendMessage")] == [0, 200]


@RETRY_AFTER_IS_AN_INT
async def test_random_faults_mixed_into_calls(bot: Bot, api: FakeBotApi) -> None:
    api.inject_faults("sendMessage", 1.0, kinds=("429", "500", "502", "reset"), seed=7)
    errors: list[str] = []
    for i in range(40):
        try:
            await bot.send_message(CHAT, f"m{i}")
        except RetryAfter:
            errors.append("429")
        except NetworkError as exc:
            errors.append(type(exc).__name__)
    assert len(errors) == 40 and api.sent_messages() == []  # none of them carried out
    assert {kind for _, kind in api.faults_injected} == {"429", "500", "502", "reset"}
    assert sum(api.faults_injected.values()) == 40
    assert errors.count("429") == api.faults_injected[("sendMessage", "429")]
    statuses = {c.status for c in api.calls("sendMessage")}
    assert statuses == {0, 429, 500, 502}
    api.inject_faults("sendMessage", 1.0, kinds=("delay",), delay=(0.01, 0.02))
    assert (await bot.send_message(CHAT, "late")).text == "late"  # carried out, answered late
    api.inject_faults("sendMessage", 0)
    assert (await bot.send_message(CHAT, "clean")).text == "clean"
    assert [m["text"] for m in api.sent_messages()] == ["late", "clean"]
    assert api.faults_injected[("sendMessage", "delay")] == 1
    with pytest.raises(ValueError, match="fault kinds"):
        api.inject_faults("sendMessage", 0.5, kinds=("418",))


async def test_random_faults_rate_is_kept(bot: Bot, api: FakeBotApi) -> None:
    api.inject_faults("getMe", 0.25, kinds=("500",), seed=3)
    failed = 0
    for _ in range(200):
        try:
            await bot.get_me()
        except NetworkError:
            failed += 1
    assert failed == api.faults_injected[("getMe", "500")]
    assert 25 <= failed <= 75  # seeded: the same every run; 50 expected


async def test_blocked_and_deleted_chats(bot: Bot, api: FakeBotApi) -> None:
    api.block_chat(CHAT)
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    api.block_chat(-77)
    with pytest.raises(Forbidden, match="kicked from the group chat"):
        await bot.send_chat_action(-77, "typing")
    api.delete_chat(-88)
    with bad_request("chat not found"):
        await bot.send_message(-88, "hi")
    api.unblock_chat(CHAT)
    await bot.send_message(CHAT, "hi again")


@RETRY_AFTER_IS_AN_INT
async def test_flood_control(api: FakeBotApi) -> None:
    api.flood_control = True
    async with Bot(api.token, base_url=api.base_url) as bot:
        for i in range(3):  # a burst of three is fine
            await bot.send_message(CHAT, f"burst {i}")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(CHAT, "one too many")
        assert info.value.retry_after == 1
        await bot.send_message(CHAT + 1, "another chat is fine")
        assert api.flood_429_count == 1

    group = FakeBotApi(flood_control=True)
    group.flood_chat_burst = 100  # isolate the per-minute group limit
    with group:
        async with Bot(group.token, base_url=group.base_url) as bot:
            for i in range(20):
                await bot.send_message(-5, f"group {i}")
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(-5, "21st")
            assert 50 <= info.value.retry_after <= 60


# ------------------------------------------------------------------ settings and chats


async def test_commands_descriptions_and_chat_info(bot: Bot, api: FakeBotApi) -> None:
    from telegram import BotCommand, BotCommandScopeAllGroupChats, MenuButtonCommands

    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("fact", "A fact")])
    await bot.set_my_commands([BotCommand("quiz", "Quiz")], scope=BotCommandScopeAllGroupChats())
    assert [c.command for c in await bot.get_my_commands()] == ["start", "fact"]
    assert api.commands({"type": "all_group_chats"}) == [
        {"command": "quiz", "description": "Quiz"}
    ]
    with bad_request("BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    await bot.set_my_description("Facts about ASEM")
    await bot.set_my_short_description("ASEM facts")
    assert (await bot.get_my_description()).description == "Facts about ASEM"
    assert (await bot.get_my_short_description()).short_description == "ASEM facts"
    await bot.set_chat_menu_button(CHAT, MenuButtonCommands())
    assert api.menu_button(CHAT) == {"type": "commands"}
    api.set_admins(-100, [1, 2])
    admins = await bot.get_chat_administrators(-100)
    assert [(a.user.id, a.status) for a in admins] == [(1, "creator"), (2, "administrator")]
    assert (await bot.get_chat_member(-100, 3)).status == "member"
    chat = await bot.get_chat(-1001234567890)
    assert chat.type == "supergroup"
    assert await bot.send_chat_action(CHAT, "typing")
    with bad_request("wrong parameter action"):
        await bot.send_chat_action(CHAT, "dancing")


# ------------------------------------------------------------------ webhooks


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str | None, dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((secret, body))
        self.send_response(200 if secret == "s3cret" else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_webhook_mode(bot: Bot, api: FakeBotApi) -> None:
    _Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        assert await bot.set_webhook(url, secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url == url and api.webhook["secret_token"] == "s3cret"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        update = api.send_text(CHAT, "/start")  # delivered to the webhook, not queued
        for _ in range(100):
            if api.webhook_deliveries:
                break
            await asyncio.sleep(0.02)
        assert api.webhook_deliveries == [(update["update_id"], 200)]
        assert _Recorder.received[0] == ("s3cret", update)
        status = await asyncio.to_thread(post_update_to_webhook, url, update, "wrong")
        assert status == 403
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        server.shutdown()
        server.server_close()
