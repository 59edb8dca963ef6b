"""Every fact a tap away: walking every button from /start, at the brain and through Telegram.

From the /start reply, every button is followed to depth 4 (as a user taps: buttons, Prev and
Next), and each screen is checked: valid Telegram HTML, no two buttons to one place, a way on
besides Back and Home, callback data within 64 bytes, and Back returning to the screen it was
opened from. What the walk reaches must hold every record and topic of the knowledge base:
each meeting of every series, each partner, group, area, event and kind of meeting, ASEF, every
question about ASEM and every fact of facts.yaml.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import StartBot

from bot import navigation
from bot.answers import family
from bot.brain import Brain, load_brain
from bot.channels.telegram.keyboards import (
    HOME,
    Labels,
    Press,
    callback_data,
    keyboard,
    parse_callback,
)
from bot.domain import kinds
from bot.followups import SHOWN
from bot.knowledge.base import FACT
from bot.reply import Reply, html_problems

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

DEPTH = 4
LABELS = Labels(back="⬅ Back", home="🏠 Menu", prev="◀ Previous", next="Next ▶")
USER = 777


@dataclass(frozen=True)
class Screen:
    reply: Reply
    depth: int
    came_from: Screen | None


def address(reply: Reply) -> str | None:
    here = navigation.here(reply.action, reply.page, reply.parent)
    return here.encode(62) if here is not None else None


def moves(reply: Reply) -> list[tuple[str, int, str | None]]:
    """What a user can tap on a screen, but Back and Home: (action, page, came_from)."""
    found = [(b.action, 0, address(reply)) for b in (*reply.buttons, *reply.suggestions)]
    if reply.action and reply.pages > 1:
        for page in (reply.page - 1, reply.page + 1):
            if 0 <= page < reply.pages:
                found.append((reply.action, page, reply.parent))
    return found


def walk(brain: Brain, lang: str = "en") -> dict[tuple[str, int], Screen]:
    """Every screen reachable from /start within DEPTH taps, by its first (shortest) way."""
    start = Screen(brain.menu(lang), 0, None)
    seen: dict[tuple[str, int], Screen] = {(HOME, 0): start}
    todo = deque([start])
    while todo:
        screen = todo.popleft()
        if screen.depth == DEPTH:
            continue
        for action, page, came_from in moves(screen.reply):
            if (action, page) in seen:
                continue
            reply = brain.run(action, lang, page, came_from)
            assert reply is not None, f"a button leads nowhere: {action} page {page}"
            seen[(action, page)] = Screen(reply, screen.depth + 1, screen)
            todo.append(seen[(action, page)])
    return seen


def expected_topics(brain: Brain) -> set[str]:
    """Every record's card and every topic: what the walk must reach."""
    kb = brain.kb
    wanted = {f"meeting.info:meeting={m.key}" for m in kb.all_meetings()}
    wanted |= {f"partner.info:country={p}" for p in kb.partners}
    wanted |= {f"partner.list:group={g}" for g in kb.groups}
    wanted |= {f"area.check:area={a.number}" for a in kb.areas}
    wanted |= {f"meeting_kind.about:meeting_kind={k}" for k in kb.series}
    wanted |= {f"event.info:event={e}" for e in kb.events}
    wanted |= {f"meeting.list:meeting_kind={k}" for k in kb.series if kb.meetings(k)}
    wanted |= {FACT + f for f in kb.facts}
    return wanted


def expected_intents(brain: Brain) -> set[str]:
    """Every question the bot answers, but small talk, time (it needs two things) and the
    questions a card answers (where a meeting was, when a partner joined: on its card)."""
    cards = {family(k.card) for k in kinds.KINDS if k.card}
    return {
        q.intent
        for q in brain.kb.questions
        if not q.intent.startswith(("smalltalk.", "time.")) and family(q.intent) not in cards
    }


@pytest.fixture(scope="module")
def screens() -> dict[tuple[str, int], Screen]:
    return walk(load_brain())


def test_every_record_and_topic_is_within_four_taps(
    screens: dict[tuple[str, int], Screen], brain: Brain
) -> None:
    reached = {action for action, _ in screens}
    assert not expected_topics(brain) - reached
    intents = {action.partition(":")[0] for action in reached}
    assert not expected_intents(brain) - intents
    for named in (
        "asem.pillars",
        "asem.day",
        "asem.founding",
        "asem.website",
        "meeting.next:meeting_kind=summit",
        "meeting_kind.about:meeting_kind=som",
        "asem13.outcome",
        "asem13.side_events",
        "asem13.organisation",
        "asef.cambodia",
        "cambodia.benefits",
    ):
        assert named in reached, named


def test_every_screen_is_valid_and_leads_on(screens: dict[tuple[str, int], Screen]) -> None:
    for (action, _page), screen in screens.items():
        reply = screen.reply
        assert not html_problems(reply.text), (action, html_problems(reply.text))
        targets = [b.action for b in (*reply.buttons, *reply.suggestions)]
        assert len(targets) == len(set(targets)), f"two buttons to one place on {action}"
        assert len({b.label for b in reply.buttons}) == len(reply.buttons), action
        assert moves(reply), f"no way on from {action} but Back and Home"
        markup = keyboard(reply, LABELS)
        assert markup is not None
        datas = [b.callback_data for row in markup.inline_keyboard for b in row]
        assert len(datas) == len(set(datas)), f"two identical buttons on {action}"
        for data in datas:
            assert isinstance(data, str) and 1 <= len(data.encode()) <= 64, data
            assert parse_callback(data) is not None, data


def test_the_khmer_tree_is_the_same_and_valid(
    screens: dict[tuple[str, int], Screen], brain: Brain
) -> None:
    khmer = walk(brain, "km")
    assert set(khmer) == set(screens)  # the same places, whatever the language
    for (action, _page), screen in khmer.items():
        assert not html_problems(screen.reply.text), (action, html_problems(screen.reply.text))
        labels = [b.label for b in screen.reply.buttons]
        assert all(label.strip() for label in labels), action
        assert len(labels) == len(set(labels)), action


def test_back_returns_to_the_screen_it_came_from(
    screens: dict[tuple[str, int], Screen], brain: Brain
) -> None:
    for (action, _page), screen in screens.items():
        previous = screen.came_from
        if previous is None:
            continue
        if previous.reply.action == HOME:
            assert screen.reply.parent == HOME, action  # Home is the way back
            continue
        back = navigation.parse(screen.reply.parent)
        assert back is not None, action
        if back.place.action != previous.reply.action:
            # Prev/Next: the same way back as the page before
            assert previous.reply.action == action, (action, back.place)
            assert screen.reply.parent == previous.reply.parent
            continue
        assert back.place.page == previous.reply.page, action
        trail = screen.reply.parent.partition(navigation.SEP)[2]
        again = brain.run(back.place.action, "en", back.place.page, trail or None)
        assert again is not None and again.text == previous.reply.text, action


def test_a_partner_opened_in_a_group_goes_back_to_that_group(brain: Brain) -> None:
    asean = brain.run("partner.list:group=asean", "en", 0, "partners~menu")
    assert asean is not None
    here = address(asean)
    brunei = brain.run("partner.info:country=bn", "en", 0, here)
    assert brunei is not None
    assert navigation.parse(brunei.parent).place.action == "partner.list:group=asean"
    # opened by a deep link or a question, the card goes back to the list of every partner
    assert brain.run("partner.info:country=bn").parent == "partner.list"


def test_cards_read_as_cards_not_as_yes(brain: Brain) -> None:
    brunei = brain.open_topic("partner_bn")
    assert brunei is not None
    assert brunei.text.startswith("<b>Brunei Darussalam in ASEM</b>")
    assert "founding partner" in brunei.text and "Yes" not in brunei.text
    assert "is one of ASEM's" not in brunei.text
    area = brain.run("area.check:area=3")
    assert area is not None and not area.text.startswith(("Yes", "<b>Yes"))
    asked = brain.answer("is sme cooperation an area of asem?")
    assert asked.text.startswith("<b>Yes.</b>")  # a yes/no question still gets its yes


def test_follow_ups_are_few_and_derived(brain: Brain) -> None:
    about = brain.run("asem.about")
    assert about is not None
    labels = [b.label for b in about.buttons]
    assert "How did ASEM begin?" in labels and labels[-1].startswith("More about ASEM")
    assert len(about.buttons) == SHOWN + 1
    cambodia = brain.run("partner.info:country=kh")
    assert cambodia is not None
    targets = [b.action for b in cambodia.buttons]
    assert targets.count("meeting.info:meeting=summit_13") == 1  # once, not twice
    assert "browse.more:country=kh" in targets
    fmm3 = brain.run("meeting.info:meeting=fmm_3")
    assert fmm3 is not None
    assert "partner.info:country=cn" in [b.action for b in fmm3.buttons]  # the host
    # a label that does not name the series is not offered for another series
    fmms = brain.run("meeting.list:meeting_kind=fmm")
    assert fmms is not None
    assert "meeting.next:meeting_kind=fmm" not in [b.action for b in fmms.buttons]


def test_an_answer_to_a_question_has_follow_ups(brain: Brain) -> None:
    reply = brain.answer("where was asem5 held?")
    assert reply.answered
    actions = [b.action for b in reply.buttons]
    assert "meeting.info:meeting=summit_5" in actions  # the card of what it was about
    assert any(a.startswith("partner.") for a in actions)  # the host, who joined then


def test_trails_survive_a_restart_and_old_buttons_still_work(brain: Brain) -> None:
    asean = brain.run("partner.list:group=asean", "en", 0, "partners~menu")
    assert asean is not None
    data = keyboard(asean, LABELS).inline_keyboard[0][0].callback_data
    assert data == "a:partner_bn~group_asean~partners~menu"  # places written short
    press = parse_callback(data)
    assert press is not None
    fresh = load_brain(cache=False)  # a restart: nothing but the button's data is kept
    card = fresh.run(press.action, "en", press.page, press.came_from)
    assert card is not None and card.parent == "group_asean~partners~menu"
    # a button sent by an older release, with no trail, opens its card as before
    old = parse_callback(callback_data("meeting.info:meeting=summit_13"))
    assert old == Press("meeting.info:meeting=summit_13", 0, "")
    assert fresh.run(old.action, "en", old.page, None) is not None


@pytest.mark.parametrize(
    "trail",
    ["<b>", "group_asean~<i>", "x" * 30, "menu#3", "partner.info:country=zz"],
)
def test_a_forged_trail_is_dropped_or_refused_on_back(brain: Brain, trail: str) -> None:
    reply = brain.run("partner.info:country=bn", "en", 0, trail)
    assert reply is not None  # the press itself works
    if reply.parent and reply.parent != "partner.list":
        back = navigation.parse(reply.parent)
        assert back is not None
        rest = reply.parent.partition(navigation.SEP)[2] or None
        # what a trail names is checked like any action when Back is pressed
        brain.run(back.place.action, "en", back.place.page, rest)


def test_long_trails_are_cut_to_fit() -> None:
    trail = "~".join(["partner.info:country=kh"] * 10)
    address = navigation.parse("meeting.info:meeting=summit_13~" + trail)
    assert address is not None and len(address.trail) == 10
    encoded = address.encode(62)
    assert encoded is not None and len(encoded.encode()) <= 62
    assert encoded == "summit_13" + "~partner_kh" * 4  # the oldest four cut
    assert navigation.Address(navigation.Place("x." + "y" * 70)).encode(62) is None


# -- the same walk through Telegram --------------------------------------------------------------


def _datas(api: FakeBotApi, message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = api.keyboard(message["chat"]["id"], message["message_id"])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def _target(data: str) -> tuple[str, int] | None:
    press = parse_callback(data)
    return (press.action, press.page) if press else None


async def _press(api: FakeBotApi, message: dict[str, Any], data: str) -> dict[str, Any]:
    mark = api.mark()
    query_id = api.press_button(message, data, user_id=USER)
    await api.wait_for(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id, after=mark
    )
    await api.wait_for(("editMessageText", "sendMessage"), after=mark, timeout=10)
    current = api.get_message(message["chat"]["id"], message["message_id"])
    assert current is not None
    return current


async def test_walking_every_button_in_telegram(
    fake_api: FakeBotApi, start_bot: StartBot, brain: Brain
) -> None:
    """Depth first from /start: press each button that opens a screen not yet seen, check
    the screen, go on, then press Back (Home from the menu's screens) and check that it
    returns to the screen the button was on."""
    seen: dict[tuple[str, int], int] = {(HOME, 0): 0}  # screen: the fewest taps it took
    pressed = restored = 0

    async def restore(message: dict[str, Any], path: list[str]) -> dict[str, Any]:
        """Home, then the same buttons again: for a screen whose trail was cut to fit."""
        shown = dict(_datas(fake_api, message))
        assert LABELS.home in shown, (message["text"][:200], shown, path)
        message = await _press(fake_api, message, shown[LABELS.home])
        for label in path:
            message = await _press(fake_api, message, dict(_datas(fake_api, message))[label])
        return message

    async def explore(message: dict[str, Any], depth: int, path: list[str]) -> dict[str, Any]:
        """Open every new screen on ``message`` and come back; returns the message as it is
        again showing the screen it showed."""
        nonlocal pressed, restored
        text, buttons = message["text"], _datas(fake_api, message)
        ways_back = {LABELS.next: LABELS.prev, LABELS.prev: LABELS.next}
        for label, first in list(buttons):
            # the same button as it is now (a trail cut to fit 64 bytes deeper down may have
            # come back shorter: the places are the same)
            now = [d for k, d in buttons if _target(d) == _target(first)]
            if not now:
                continue
            data = now[0]
            press = parse_callback(data)
            assert press is not None, data
            key = (press.action, press.page)
            if label in (LABELS.back, LABELS.home) or seen.get(key, DEPTH + 1) <= depth + 1:
                continue  # seen already, in as few taps (depth first: it may come back nearer)
            seen[key] = depth + 1
            opened = await _press(fake_api, message, data)
            pressed += 1
            assert opened["text"] != text, f"{data} changed nothing"
            shown = _datas(fake_api, opened)
            assert len({d for _, d in shown}) == len(shown), f"duplicate buttons after {data}"
            assert any(k not in (LABELS.back, LABELS.home) for k, _ in shown), data
            # Prev/Next come back by Next/Prev; the menu's screens by Home; the others by Back
            back_label = ways_back.get(label) or (LABELS.home if depth == 0 else LABELS.back)
            way_back = dict(shown).get(back_label)
            assert way_back is not None, f"no {back_label} after {data}: {shown}"
            if depth + 1 < DEPTH:
                opened = await explore(opened, depth + 1, [*path, label])
                if dict(_datas(fake_api, opened)).get(back_label) != way_back:
                    # its trail was cut to fit 64 bytes deeper down: walk there again
                    restored += 1
                    opened = await restore(opened, [*path, label])
            message = await _press(fake_api, opened, way_back)
            assert message["text"] == text, f"{back_label} after {data} did not return"
            now = _datas(fake_api, message)
            if dict(now).get(LABELS.back) == dict(buttons).get(LABELS.back):
                # the same way back (not cut to fit deeper down): the very same screen
                assert [k for k, _ in now] == [k for k, _ in buttons]
                assert [_target(d) for _, d in now] == [_target(d) for _, d in buttons]
            buttons = now
        return message

    async with start_bot():
        mark = fake_api.mark()
        fake_api.send_text(USER, "/start")
        menu = await fake_api.wait_for_message(USER, after=mark)
        await explore(menu, 0, [])
    reached = {action for action, _ in seen}
    assert not expected_topics(brain) - reached
    assert pressed > 200
    assert restored <= pressed // 10  # trails cut to fit 64 bytes: rare within four taps
    assert len(fake_api.sent_messages(USER)) == 1  # every screen edited the one message
