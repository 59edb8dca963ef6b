"""Markup escapes by construction: a fact is shown as written, whatever characters it holds.

Every free-text field of a copy of the knowledge base gets ``R&D <growth> "x"`` appended (names,
themes, notes, descriptions, prose facts...; not the message templates and prose answers,
which are markup). Every reply the bot can show (every card, list, page and topic) must then
be valid Telegram HTML, and shows the text exactly as written: never ``&amp;`` twice, never a
raw ``<growth>`` tag.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from bot.actions import Action
from bot.brain import Brain
from bot.domain import kinds
from bot.domain.topics import TOPICS
from bot.knowledge import load_knowledge
from bot.reply import Reply, html_problems, html_to_plain

MARK = ' R&D <growth> "x"'
MARKUP_FILES = {"messages.yaml", "language.yaml", "sources.yaml"}


def _mark(node: Any, in_questions: bool = False) -> Any:
    """Append MARK to every language text ({en: ...}) outside the questions' labels/answers."""
    if isinstance(node, dict):
        if "en" in node and isinstance(node["en"], str) and not in_questions:
            return {**node, "en": node["en"] + MARK}
        return {k: _mark(v, in_questions or k == "questions") for k, v in node.items()}
    if isinstance(node, list):
        return [_mark(item, in_questions) for item in node]
    return node


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Brain:
    root = tmp_path_factory.mktemp("marked") / "knowledge"
    shutil.copytree(load_knowledge().root, root)
    for path in root.glob("*.yaml"):
        if path.name in MARKUP_FILES:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(yaml.safe_dump(_mark(data), allow_unicode=True), encoding="utf-8")
    return Brain(load_knowledge(root))


def every_reply(brain: Brain) -> Iterator[tuple[str, Reply]]:
    """Every card of every record, every topic, and every reply reachable from them."""
    kb = brain.kb
    todo = [topic.action.encode() for topic in TOPICS]
    for kind in kinds.KINDS:
        if kind.card is None:
            continue
        values: list[str] = [str(v) for v, _ in kind.names(kb)]
        if kind.name == "meeting":
            values = [m.key for m in kb.all_meetings()]
        todo += [Action(kind.card, ((kind.name, v),)).encode() for v in values]
    todo += [Action(q.intent).encode() for q in kb.questions if not q.needs]
    seen: set[tuple[str, int]] = set()
    pages = [(action, 0) for action in todo]
    while pages:
        action, page = pages.pop()
        if (action, page) in seen:
            continue
        seen.add((action, page))
        reply = brain.run(action, "en", page)
        if reply is None:
            continue
        yield action, reply
        pages += [(b.action, 0) for b in reply.buttons]
        if reply.pages > 1 and reply.action:
            pages += [(reply.action, p) for p in range(reply.pages)]


def test_every_fact_is_escaped_exactly_once(marked: Brain) -> None:
    shown = 0
    for action, reply in every_reply(marked):
        assert html_problems(reply.text) == [], (action, reply.text)
        plain = html_to_plain(reply.text)
        assert "&amp;" not in plain and "&lt;" not in plain, (action, plain)
        if "growth" in plain:
            shown += plain.count(MARK.strip())
            assert plain.count("growth") == plain.count(MARK.strip()), (action, plain)
    assert shown > 500  # names, themes, notes and prose facts all went through


def test_buttons_show_names_as_written(marked: Brain) -> None:
    reply = marked.run("partner.list:group=asean")
    assert reply is not None
    assert any(MARK.strip() in button.label for button in reply.buttons)
