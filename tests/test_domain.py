"""The domain is declared once: a new meeting series or record is YAML only, and what the code
needs from the knowledge base is checked by ``asem-bot validate`` before it can crash the bot."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answers.registry import declared
from bot.brain import Brain
from bot.declare import declared_messages
from bot.domain import kinds
from bot.domain.links import from_deep_link
from bot.knowledge import load_knowledge
from bot.reply import html_to_plain
from bot.validation import check_brain, scan

NEW_SERIES = """
  - id: envmm
    name:
      en: Environment Ministers' Meeting (EnvMM)
      km: កិច្ចប្រជុំរដ្ឋមន្ត្រីបរិស្ថាន (EnvMM)
      km_unreviewed: true
    code: "EnvMM{n}"
    title:
      en: ASEM Environment Ministers' Meetings (EnvMM)
      km: កិច្ចប្រជុំរដ្ឋមន្ត្រីបរិស្ថានអាស៊ី-អឺរ៉ុប (EnvMM)
      km_unreviewed: true
    aliases: [envmm, environment ministers meeting, environment ministers meetings]
    attendees:
      en: the ministers of the environment of the ASEM partners
      km: រដ្ឋមន្ត្រីបរិស្ថាននៃដៃគូ ASEM
      km_unreviewed: true
    frequency: {en: now and then, km: ម្តងម្កាល, km_unreviewed: true}
    role: {en: to discuss the environment, km: ដើម្បីពិភាក្សាអំពីបរិស្ថាន, km_unreviewed: true}
    sources: [seed]
    meetings:
      - number: 1
        city: hanoi
        start: 2002-01
        status: held
        sources: [seed]
      - number: 3
        city: copenhagen
        start: 2007-04-24
        end: 2007-04-25
        status: held
        sources: [seed]

"""


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(load_knowledge().root, root)
    return root


def _insert_before(path: Path, marker: str, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    at = content.index(marker)
    path.write_text(content[:at] + text + content[at:], encoding="utf-8")


def plain(brain: Brain, question: str) -> str:
    reply = brain.answer(question)
    assert reply.answered, (question, reply)
    return html_to_plain(reply.text)


def test_a_new_series_is_yaml_only(copy: Path) -> None:
    # the environment aliases belong to "other ministerial meetings" today: hand them over
    meetings = copy / "meetings.yaml"
    text = meetings.read_text(encoding="utf-8")
    meetings.write_text(text.replace(", environment ministers meeting]", "]"), encoding="utf-8")
    _insert_before(meetings, "  - id: ministerial\n", NEW_SERIES)
    kb = load_knowledge(copy)
    assert check_brain(kb) == []
    brain = Brain(kb)
    assert "Copenhagen" in plain(brain, "where was EnvMM3 held?")
    assert "Copenhagen" in plain(brain, "where was the 3rd asem environment ministers meeting")
    assert "January 2002" in plain(brain, "when was envmm 1")
    assert "Copenhagen" in plain(brain, "EnvMM III")
    listed = plain(brain, "list the environment ministers meetings")
    assert "EnvMM1" in listed and "EnvMM3" in listed
    assert "EnvMM2 is not in the sources I have" in plain(brain, "where was envmm2")
    link = from_deep_link("envmm_3")
    assert link is not None and brain.run(link.encode()) is not None


def test_a_new_meeting_is_yaml_only(copy: Path) -> None:
    planned = (
        "      - number: 15\n        city: bangkok\n        start: 2030-05-04\n"
        "        end: 2030-05-05\n        status: planned\n        sources: [facts]\n\n"
    )
    _insert_before(copy / "meetings.yaml", "  - id: emm\n", planned)
    brain = Brain(load_knowledge(copy))
    reply = plain(brain, "where will fmm 15 take place")
    assert "FMM15" in reply and "Bangkok" in reply and "planned" in reply


def test_other_ministerial_meetings_are_answered_from_their_records() -> None:
    brain = Brain(load_knowledge())
    reply = plain(brain, "where was the 7th ASEM education ministers' meeting?")
    assert "Bucharest" in reply and "15-16 May 2019" in reply
    assert "Sofia" in plain(brain, "when was the last asem finance ministers meeting")
    assert "Makuhari" in plain(brain, "the first economic ministers' meeting")
    assert "Sofia" in plain(brain, "where was the 8th culture ministers meeting")


def test_a_misspelt_label_placeholder_is_reported_with_its_line(copy: Path) -> None:
    meetings = copy / "meetings.yaml"
    text = meetings.read_text(encoding="utf-8")
    label = 'label: {en: "Where was {meeting} held?"'
    line = text[: text.index(label)].count("\n") + 1
    meetings.write_text(text.replace(label, label.replace("{meeting}", "{meting}")), "utf-8")
    problems = [str(p) for p in check_brain(load_knowledge(copy))]
    assert any(
        f"meetings.yaml:{line - 1}:" in p and "unknown placeholder {meting}" in p for p in problems
    ), problems


def test_a_missing_message_is_reported_with_where_the_code_needs_it(copy: Path) -> None:
    messages = copy / "messages.yaml"
    text = messages.read_text(encoding="utf-8")
    start = text.index("  meeting_theme_none:")
    end = text.index("  meeting_earlier_plans:")
    messages.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = [str(p) for p in check_brain(load_knowledge(copy))]
    assert any(
        "message 'meeting_theme_none' is missing" in p and "bot/answers/meetings.py:" in p
        for p in problems
    ), problems


def test_the_source_scan_finds_what_the_imported_modules_declare() -> None:
    import bot.answers  # noqa: F401
    import bot.brain  # noqa: F401

    found = scan()
    assert found.problems == []
    assert declared_messages() <= set(found.messages)


def test_a_message_key_must_be_a_literal(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text('KEY = "x"\nA = msg(KEY)\nB = msg("fine")\n', "utf-8")
    found = scan(package)
    assert [p.line for p in found.problems] == [2]
    assert set(found.messages) == {"fine"}


def test_every_intent_with_a_composer_declares_its_family() -> None:
    families = {d.family for d in declared().values()}
    assert {"meeting.one", "meeting.many", "partner.one", "partner.many", "area"} <= families


def test_every_kind_can_be_checked_and_shown(copy: Path) -> None:
    kb = load_knowledge(copy)
    assert kinds.exists(kb, "meeting", "asemme_7")
    assert not kinds.exists(kb, "meeting", "asemme_9")
    assert kinds.exists(kb, "meeting", "tmm_y2017")
    assert kinds.exists(kb, "country", "kh") and not kinds.exists(kb, "country", "zz")
    assert not kinds.exists(kb, "nonsense", "x")
    values = kinds.display_values(kb, (("meeting", "fmm_2"), ("city", "hanoi")), "en")
    assert values == {"meeting": "FMM2", "place": "Hanoi"}


def test_validate_imports_neither_telegram_nor_httpx() -> None:
    code = (
        "import sys; from bot.cli import main; code = main(['validate']); "
        "heavy = [m for m in ('telegram', 'httpx') if m in sys.modules]; "
        "print(heavy); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("[]"), result.stdout
