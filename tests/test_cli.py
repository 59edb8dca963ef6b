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


def _jsonl(env: dict[str, str], *lines: str) -> tuple[int, list[dict[str, object]]]:
    result = bot(env, "ask", "--jsonl", stdin="".join(line + "\n" for line in lines))
    assert "Traceback" not in result.stderr, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(lines)  # one answer per line, whatever the line
    return result.returncode, records


def test_ask_jsonl_conversations_share_context_as_one_chat_does(env: dict[str, str]) -> None:
    code, records = _jsonl(
        env,
        '{"text": "where was asem 5 held", "conversation": "a"}',
        '{"text": "who hosted it", "conversation": "b"}',  # b has no context yet
        "who hosted it",  # a plain line stands alone
        '{"text": "who hosted it", "conversation": "a"}',
        '{"text": "and the one after that?", "conversation": "a"}',
        '{"text": "ASEM5ធ្វើនៅណា?", "conversation": 7}',
        '{"text": "ASEM6", "conversation": 7}',  # says no language: the conversation's
        "ASEM6",
        '{"text": "where was asem 5 held", "lang": "km"}',
    )
    assert code == 0
    a1, b, plain, a2, a3, k1, k2, neutral, lang = records
    assert a1["conversation"] == "a" and a1["intent"] == "meeting.place"
    assert b["conversation"] == "b" and not b["answered"]
    assert "conversation" not in plain and not plain["answered"]
    assert set(plain) == {"question", "answered", "intent", "confidence", "reply"}
    assert a2["answered"] and "Hanoi" in str(a2["reply"]) and a2["question"] == "who hosted it"
    assert a3["answered"] and "ASEM6" in str(a3["reply"]) and "Helsinki" in str(a3["reply"])
    assert k1["conversation"] == 7 and "ហាណូយ" in str(k1["reply"])
    assert "ហែលស៊ិនគី" in str(k2["reply"])  # Helsinki in Khmer
    assert "Helsinki" in str(neutral["reply"]) and "ហែលស៊ិនគី" not in str(neutral["reply"])
    assert "ហាណូយ" in str(lang["reply"]) and "conversation" not in lang


def test_ask_jsonl_lines_that_only_look_like_json_are_plain_questions(
    env: dict[str, str],
) -> None:
    lines = ['{"q": "where was asem 5 held"}', "{where was asem 5 held", "[1, 2]", '"text"']
    code, records = _jsonl(env, *lines)
    assert code == 0
    assert [r["question"] for r in records] == lines
    for record in records:
        assert set(record) == {"question", "answered", "intent", "confidence", "reply"}


def test_ask_jsonl_a_broken_request_gets_an_error_line_and_the_rest_is_answered(
    env: dict[str, str],
) -> None:
    code, records = _jsonl(
        env,
        '{"text": "where was asem 5 held", "conversation": "a"',  # cut short
        '{"text": 5}',
        '{"text": "hi", "conversaton": "a"}',
        '{"text": "hi", "lang": "fr"}',
        '{"text": "hi", "conversation": [1]}',
        '{"text": "where was asem 5 held", "conversation": "a"}',
        "where was fmm 2 held",
    )
    assert code == 1
    errors, good = records[:5], records[5:]
    assert [e["line"] for e in errors] == [1, 2, 3, 4, 5]
    assert all(set(e) == {"line", "error"} for e in errors)
    assert "not valid JSON" in str(errors[0]["error"])
    assert "must be a string" in str(errors[1]["error"])
    assert "unknown key 'conversaton'" in str(errors[2]["error"])
    assert "'fr'" in str(errors[3]["error"]) and "en, km" in str(errors[3]["error"])
    assert all(g["answered"] for g in good)
    assert good[0]["conversation"] == "a" and "Hanoi" in str(good[0]["reply"])
    assert "Berlin" in str(good[1]["reply"])
