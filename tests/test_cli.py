"""The command line, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, clean_env
from cli_helpers import run_cli as bot


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(tmp_path_factory.mktemp("cache"))


def test_ask_one_question_as_plain_text(env: dict[str, str]) -> None:
    result = bot(env, "ask", "wher was asem 5 held?")
    assert result.returncode == 0
    assert "ASEM5 was held in Hanoi, Viet Nam, on 8-9 October 2004." in result.stdout
    assert "<b>" not in result.stdout


def test_ask_without_a_question(env: dict[str, str]) -> None:
    result = bot(env, "ask")
    assert result.returncode == 2 and "Give a question" in result.stderr


def test_ask_shows_did_you_mean_as_numbered_choices(env: dict[str, str]) -> None:
    result = bot(env, "ask", "cambodia asef")
    assert result.returncode == 0
    assert "  1. " in result.stdout


def test_ask_jsonl_streams_one_flushed_line_per_question(env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert process.stdin and process.stdout
    questions = [
        b"When did Cambodia join ASEM?",
        b"",
        b"capital of mongolia",
        b"\xff\xfe broken utf-8 \xc3",
        b"<b>x</b> & where was fmm 2",
        ("a" * 20_000).encode(),
        "ខ្ញុំ 🙂".encode(),
    ]
    records = []
    try:
        for raw in questions:
            process.stdin.write(raw + b"\n")
            process.stdin.flush()
            # the answer must arrive before the next question is sent: flushed at once
            ready, _, _ = select.select([process.stdout], [], [], 20)
            assert ready, f"no answer to {raw[:40]!r} within 20 s"
            records.append(json.loads(process.stdout.readline().decode("utf-8")))
    finally:
        process.stdin.close()
        process.wait(timeout=20)
    assert process.returncode == 0
    assert process.stdout.read() == b""  # exactly one line per question
    for record in records:
        assert set(record) == {"question", "answered", "intent", "confidence", "reply"}
        assert isinstance(record["answered"], bool)
        assert record["intent"] is None or isinstance(record["intent"], str)
        assert 0.0 <= record["confidence"] <= 1.0
        assert isinstance(record["reply"], str) and record["reply"]
    joined, empty, outside, broken, markup, long, khmer = records
    assert joined["answered"] and joined["intent"] == "partner.joined"
    assert "2004" in joined["reply"] and "<b>" in joined["reply"]
    assert joined["question"] == "When did Cambodia join ASEM?"
    assert not empty["answered"] and not outside["answered"] and outside["intent"] is None
    assert "\ufffd" in broken["question"]
    assert "<b>x</b>" not in markup["reply"]
    assert khmer["question"] == "ខ្ញុំ 🙂"


def test_chat_in_the_terminal(env: dict[str, str]) -> None:
    script = "where was asem 5 held\n2\nlist the summits\nn\nquit\n"
    result = bot(env, "chat", stdin=script)
    assert result.returncode == 0
    out = result.stdout
    assert "Hanoi" in out
    assert "  2. ASEM6 ▶" in out
    assert "Helsinki" in out  # choice 2 opened ASEM6
    assert "ASEM summits (13):" in out


def test_no_arguments_and_no_token_starts_the_chat_with_a_hint(env: dict[str, str]) -> None:
    result = bot(env, stdin="hi\n")
    assert result.returncode == 0
    assert result.stdout.startswith(
        "Terminal chat. To run the Telegram bot, set TELEGRAM_BOT_TOKEN"
    )
    assert "Hello!" in result.stdout


def test_eval_prints_accuracy_per_intent_confusions_and_failures(
    env: dict[str, str], tmp_path: Path
) -> None:
    labelled = tmp_path / "questions.yaml"
    labelled.write_text(
        "- {q: where was asem 5 held, intent: meeting.place, expect: [Hanoi]}\n"
        "- {q: capital of mongolia, intent: out_of_scope}\n"
        "- {q: when did cambodia join asem, intent: meeting.place}\n",
        encoding="utf-8",
    )
    result = bot(env, "eval", str(labelled))
    assert result.returncode == 0
    out = result.stdout
    assert "questions: 3 (2 in scope, 1 out of scope)" in out
    assert "accuracy:" in out and "66.7%" in out
    assert "meeting.place" in out and "precision" in out
    assert "meeting.place -> partner.joined: 1" in out
    assert "when did cambodia join asem" in out.split("failures")[1]


def test_eval_with_a_bad_file(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("just text", encoding="utf-8")
    result = bot(env, "eval", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_validate(env: dict[str, str]) -> None:
    result = bot(env, "validate")
    assert result.returncode == 0 and result.stdout.startswith("OK: 13 summits")
