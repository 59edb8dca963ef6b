"""Feedback that teaches: declined and disliked questions, grouped, each with the intent it came
closest to; accepting one writes it into the knowledge files as an example (one line, validated
first, refused if it would not validate).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import clean_env
from cli_helpers import run_cli as bot

from bot.brain import Brain
from bot.campaign import learning
from bot.knowledge import default_knowledge_dir
from bot.storage import Storage


@pytest.fixture
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), copy)
    return copy


def _log(storage: Storage) -> None:
    for text in (
        "When is the ASEM holiday?",
        "when is the asem holiday",
        "when is the asem holiday??",
    ):
        storage.log_question(
            chat_type="private", lang="en", intent=None, confidence=0.3, answered=False,
            question=text,
        )  # fmt: skip
    storage.log_feedback(
        chat_type="private", lang="en", vote=-1, intent="asem.day", confidence=0.9,
        question="when is the asem holiday",
    )  # fmt: skip
    storage.log_feedback(
        chat_type="private", lang="en", vote=1, intent="meeting.place", confidence=1.0,
        question="where was asem5",  # a 👍 keeps no text
    )  # fmt: skip


def test_feedback_is_logged_without_who_and_grouped_with_declines(tmp_path: Path) -> None:
    with Storage.open(tmp_path) as storage:
        _log(storage)
        assert storage.feedback_counts() == (1, 1)
        groups = storage.to_learn()
        with storage._reading() as db:  # noqa: SLF001 - what the table holds, exactly
            rows = db.execute("SELECT * FROM feedback").fetchall()
            columns = [c[1] for c in db.execute("PRAGMA table_info(feedback)")]
    assert groups[0].count == 4  # three declines and a 👎, one question
    assert not {"chat_id", "user_id"} & set(columns)
    assert [r[-1] for r in rows] == ["when is the asem holiday", None]
    with Storage.open(tmp_path) as storage, pytest.raises(ValueError):
        storage.log_feedback(
            chat_type="private", lang="en", vote=0, intent=None, confidence=0, question=None
        )


def test_suggestions_name_the_nearest_intent(brain: Brain, tmp_path: Path) -> None:
    with Storage.open(tmp_path) as storage:
        _log(storage)
        found = learning.suggestions(brain, storage.to_learn())
    assert found and found[0].count == 4
    closest = learning.nearest(brain, found[0].phrasing)
    assert closest is not None and found[0].intent == closest[0] and closest[0] in brain.intents
    assert found[0].label == brain.title(learning.Action(found[0].intent))
    again = learning.Suggestion(found[0].phrasing, 9, found[0].intent, "other label", 0.1)
    assert found[0].key == again.key  # the key names the phrasing and the intent only
    assert found[0].key != learning.Suggestion("other", 4, "asem.day", "", 0.5).key


def test_accept_writes_one_validated_line(knowledge: Path) -> None:
    before = (knowledge / "asem.yaml").read_text(encoding="utf-8")
    path = learning.accept(knowledge, "asem.day", "When is the ASEM holiday?")
    assert path == knowledge / "asem.yaml"
    after = path.read_text(encoding="utf-8").splitlines()
    added = [line for line in after if line not in before.splitlines()]
    assert added == ['      - "When is the ASEM holiday?"']
    assert len(after) == len(before.splitlines()) + 1  # comments and layout untouched
    with pytest.raises(learning.NotAccepted, match="already"):
        learning.accept(knowledge, "asem.day", "when is the asem holiday?")


def test_accept_refuses_what_would_not_validate(knowledge: Path) -> None:
    before = {p.name: p.read_bytes() for p in knowledge.glob("*.yaml")}
    with pytest.raises(learning.NotAccepted, match="would not validate"):
        # an example that is word for word another intent's: validate reports the clash
        learning.accept(knowledge, "asem.day", "what is asef")
    with pytest.raises(learning.NotAccepted):
        learning.accept(knowledge, "no.such_intent", "anything")
    assert {p.name: p.read_bytes() for p in knowledge.glob("*.yaml")} == before


def test_stats_cli_shows_and_accepts(env: dict[str, str], tmp_path: Path, knowledge: Path) -> None:
    with Storage.open(tmp_path) as storage:
        _log(storage)
    env = env | {"ASEM_DATA_DIR": str(tmp_path), "ASEM_KNOWLEDGE_DIR": str(knowledge)}
    result = bot(env, "stats")
    assert result.returncode == 0, result.stderr
    assert "Feedback: 1 👍, 1 👎" in result.stdout
    as_json = json.loads(bot(env, "stats", "--json").stdout)
    intent = as_json["to_learn"][0]["intent"]
    assert f"-> {intent}" in result.stdout
    assert as_json["feedback"] == {"up": 1, "down": 1}
    accepted = bot(env, "stats", "--accept", "1")
    assert accepted.returncode == 0, accepted.stderr
    assert intent in accepted.stdout
    written = "".join(p.read_text(encoding="utf-8") for p in knowledge.glob("*.yaml"))
    assert '- "when is the asem holiday"' in written
    assert bot(env, "validate").returncode == 0
    assert bot(env, "stats", "--accept", "9").returncode != 0
