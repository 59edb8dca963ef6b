"""Keyboards and callback data: within Telegram's limits for every action the brain can make.

Walks every reply reachable from the menu (all summits, FMMs, partners, areas, groups and their
pages), every deep-link topic, the featured facts and the suggestions and buttons of a sample
of questions, and checks each keyboard: callback data 1-64 bytes that parses back to the same
press, at most 100 buttons and 8 a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.brain import Brain
from bot.channels.telegram.keyboards import (
    HOME,
    Labels,
    Press,
    callback_data,
    keyboard,
    parse_callback,
)
from bot.domain.links import from_deep_link
from bot.domain.topics import TOPICS
from bot.reply import Button, Reply

LABELS = Labels(back="⬅ Back", home="🏠 Menu", prev="◀ Previous", next="Next ▶")
DEVSET = Path(__file__).parent / "devset"


def reachable(brain: Brain) -> Iterator[Reply]:
    """Every reply a user can reach by pressing buttons, starting from the menu."""
    seen: set[tuple[str, int]] = set()
    todo = [(b.action, 0) for b in brain.menu_buttons()]
    todo += [(t.action.encode(), 0) for t in TOPICS]
    for payload in brain.kb.asem.featured:
        action = from_deep_link(payload)
        if action is not None:
            todo.append((action.encode(), 0))
    while todo:
        action, page = todo.pop()
        if (action, page) in seen:
            continue
        seen.add((action, page))
        reply = brain.run(action, "en", page)
        assert reply is not None, f"a button leads nowhere: {action} page {page}"
        yield reply
        todo += [(b.action, 0) for b in (*reply.buttons, *reply.suggestions)]
        if reply.parent:
            todo.append((reply.parent, 0))
        if reply.action and reply.pages > 1:
            todo += [(reply.action, p) for p in range(reply.pages)]


def sample_questions() -> list[str]:
    questions: list[str] = []
    for path in sorted(DEVSET.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else data.get("cases", data.get("questions", []))
        for item in items or []:
            if isinstance(item, dict) and isinstance(item.get("q"), str):
                questions.append(item["q"])
    return questions[:400] or ["asem", "meeting", "where was asem5", "cambodia"]


def check(reply: Reply) -> int:
    """Build the reply's keyboard, check Telegram's limits; return the number of buttons."""
    markup = keyboard(reply, LABELS)
    if markup is None:
        return 0
    rows = markup.inline_keyboard
    assert sum(len(row) for row in rows) <= 100
    for row in rows:
        assert 1 <= len(row) <= 8
        for button in row:
            data = button.callback_data
            assert isinstance(data, str) and 1 <= len(data.encode()) <= 64, data
            press = parse_callback(data)
            assert press is not None, data
            assert press.action == HOME or brain_runs(press), data
            assert button.text.strip()
    return sum(len(row) for row in rows)


_brain: Brain | None = None


def brain_runs(press: Press) -> bool:
    assert _brain is not None
    return _brain.run(press.action, "en", press.page) is not None


@pytest.fixture(autouse=True)
def _remember_brain(brain: Brain) -> None:
    global _brain
    _brain = brain


def test_every_reachable_keyboard_is_valid(brain: Brain) -> None:
    replies = list(reachable(brain))
    assert len(replies) > 100  # summits, FMMs, partners, areas, groups...
    kinds = {r.intent for r in replies}
    assert {"meeting.info", "partner.info", "area.check", "partner.list"} <= kinds
    assert sum(check(reply) for reply in replies) > 0
    longest = max(len(callback_data(r.action, r.pages - 1).encode()) for r in replies if r.action)
    assert longest <= 64


def test_question_replies_have_valid_keyboards(brain: Brain) -> None:
    for question in sample_questions():
        check(brain.answer(question))
        for card in brain.cards(question, "en", 10):
            check(card)
    check(brain.menu())
    check(brain.decline())


def test_navigation_buttons() -> None:
    reply = Reply(
        "x",
        answered=True,
        action="partner.list:group=eu",
        page=1,
        pages=3,
        parent="partner.list",
        buttons=(Button("A", "asef.about"),),
    )
    rows = keyboard(reply, LABELS).inline_keyboard
    assert [[b.text for b in row] for row in rows] == [
        ["A"],
        ["◀ Previous", "Next ▶"],
        ["⬅ Back", "🏠 Menu"],
    ]
    # a page keeps the way back; page 0 has no marker
    assert rows[1][0].callback_data == "a:group_eu~partners"  # places written short
    assert rows[1][1].callback_data == "a:group_eu#2~partners"
    assert rows[2][0].callback_data == "a:partner.list"
    assert rows[2][1].callback_data == "a:menu"
    # a button carries the screen it was pressed on (as its deep link: shorter) and its trail
    assert rows[0][0].callback_data == "a:asef~group_eu#1~partners"
    assert parse_callback(rows[0][0].callback_data) == Press(
        "asef.about", 0, "group_eu#1~partners"
    )


def test_menu_and_decline_have_no_home_button(brain: Brain) -> None:
    for reply in (brain.menu(), brain.decline()):
        markup = keyboard(reply, LABELS)
        assert markup is not None
        assert "a:menu" not in [b.callback_data for row in markup.inline_keyboard for b in row]


def test_rows_are_short_and_keep_order() -> None:
    buttons = tuple(Button(f"ASEM{i}", f"meeting.info:meeting=summit_{i}") for i in range(1, 14))
    rows = keyboard(Reply("x", buttons=buttons), LABELS).inline_keyboard
    assert all(1 <= len(row) <= 3 for row in rows)
    assert [b.text for row in rows for b in row] == [b.label for b in buttons]
    long = tuple(Button("A rather long label for a button", "asef.about") for _ in range(3))
    assert all(len(row) == 1 for row in keyboard(Reply("x", buttons=long), LABELS).inline_keyboard)


def test_too_many_buttons_are_cut_to_100_keeping_navigation() -> None:
    buttons = tuple(Button(f"B{i}", f"area.check:area={i}") for i in range(150))
    reply = Reply("x", buttons=buttons, action="area.list", parent="asem.about")
    rows = keyboard(reply, LABELS).inline_keyboard
    assert sum(len(row) for row in rows) == 100
    assert [b.text for b in rows[-1]] == ["⬅ Back", "🏠 Menu"]


def test_overlong_action_is_left_out() -> None:
    action = "partner.info:country=" + "x" * 39  # 60 bytes: fits, but not with a page
    assert len(action) == 60
    assert callback_data(action) == "a:" + action
    with pytest.raises(ValueError):
        callback_data(action, 12)
    reply = Reply("x", action=action, pages=20, page=11)
    datas = [b.callback_data for row in keyboard(reply, LABELS).inline_keyboard for b in row]
    assert all(len(d.encode()) <= 64 for d in datas)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "summits",
        "v0:summits",
        "a:",
        "a:menu#1",
        "a:asef.about#",
        "a:asef.about#-1",
        "a:asef.about#1e3",
        "a:asef.about#1234",
        "a:ASEF.about",
        "a:asef.about:x",
        "a:" + "x" * 70,
        "a:partner.info:country=<b>",
    ],
)
def test_malformed_callback_data_is_refused(data: str | None) -> None:
    assert parse_callback(data) is None


def test_callback_round_trip() -> None:
    assert parse_callback(callback_data("menu")) == Press("menu", 0)
    assert parse_callback(callback_data("asef.about", 3)) == Press("asef.about", 3)


@given(st.text(max_size=80))
def test_parse_callback_never_raises(data: str) -> None:
    press = parse_callback(data)
    if press is not None:
        assert len(callback_data(press.action, press.page).encode()) <= 64
