"""Campaign tools from the command line: links and QR codes, stats, the quiz in the chat."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import clean_env
from cli_helpers import run_cli as bot

from bot.storage import Storage


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(tmp_path_factory.mktemp("cache"))


def test_link_list_shows_every_topic(env: dict[str, str]) -> None:
    result = bot(env, "link", "--list")
    assert result.returncode == 0
    payloads = {line.split()[0] for line in result.stdout.splitlines()}
    expected = {"summits", "asef", "areas", "summit_1", "summit_13", "fmm_14", "partner_kh"}
    assert expected <= payloads
    assert sum(p.startswith("partner_") for p in payloads) == 53
    assert "summit_13                        Tell me about ASEM13" in result.stdout


def test_link_with_a_qr_code(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "poster-qr.png"
    result = bot(env, "link", "summit_13", "--bot", "@asem_info_bot", "--qr", str(target))
    assert result.returncode == 0
    assert result.stdout.strip() == "https://t.me/asem_info_bot?start=summit_13"
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("link", "summit_13"), "Give the bot's username"),
        (("link", "nonsense", "--bot", "asem_bot"), "is not a topic"),
        (("link", "summit_99", "--bot", "asem_bot"), "is not a topic"),
        (("link", "summit_1", "--bot", "not a name"), "is not a Telegram bot username"),
        (("link",), "Give a topic"),
    ],
)
def test_link_refuses_what_would_not_work(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = bot(env, *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_link_from_the_environment(env: dict[str, str]) -> None:
    result = bot(env | {"ASEM_BOT_USERNAME": "asem_info_bot"}, "link", "asef-funding")
    assert result.stdout.strip() == "https://t.me/asem_info_bot?start=asef-funding"


def test_stats_over_a_sample_log(env: dict[str, str], tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    with Storage.open(tmp_path, clock=lambda: now) as storage:
        for _ in range(6):
            storage.log_question(
                chat_type="private",
                lang="en",
                intent="meeting.place",
                confidence=0.9,
                answered=True,
                question=None,
            )
        for text in ("Who is ASEM's mascot?", "who is asem's mascot", "who is asem mascott??"):
            storage.log_question(
                chat_type="group",
                lang="en",
                intent=None,
                confidence=0.2,
                answered=False,
                question=text,
            )
        storage.log_question(
            chat_type="private",
            lang="en",
            intent=None,
            confidence=0.1,
            answered=False,
            question="best noodles in Phnom Penh",
        )
    result = bot(env | {"ASEM_DATA_DIR": str(tmp_path)}, "stats")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Questions (all time): 10" in out
    assert "answer rate:          60.0%" in out
    assert "meeting.place" in out
    mascot = next(line for line in out.splitlines() if "mascot" in line.lower())
    assert mascot.rstrip().endswith("3")  # the three spellings count as one question
    as_json = json.loads(bot(env | {"ASEM_DATA_DIR": str(tmp_path)}, "stats", "--json").stdout)
    assert as_json["questions"] == 10 and as_json["answered"] == 6
    assert as_json["top_unanswered"][0]["count"] == 3


def test_stats_without_a_log(env: dict[str, str], tmp_path: Path) -> None:
    result = bot(env | {"ASEM_DATA_DIR": str(tmp_path / "empty")}, "stats")
    assert result.returncode == 0 and "No question log yet" in result.stdout


def test_quiz_in_the_terminal_chat(env: dict[str, str]) -> None:
    result = bot(env, "chat", stdin="quiz\n1\nquiz\n2\nscore\nquit\n")
    assert result.returncode == 0
    out = result.stdout
    assert out.count("  1. ") >= 2 and out.count("  4. ") >= 2
    assert out.count("Right!") + out.count("Not quite") == 2
    assert "Quiz score: " in out and "out of 2." in out


STEERING = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What could steer a terminal: C0 and C1 controls (but the line break), DEL, the
bidirectional controls."""


def test_stats_never_prints_what_steers_a_terminal(env: dict[str, str], tmp_path: Path) -> None:
    hostile = (
        "\x1b]52;c;ZXZpbA==\x07clipboard \x1b[2J\x1b[H cleared \u202eevil\u202c \u2066x\u2069 "
        "\x9b31m call +855 12 345 678 or bob@example.org, @someone"
    )
    with Storage.open(tmp_path) as storage:
        storage.log_question(
            chat_type="private", lang="en", intent=None, confidence=0.1, answered=False,
            question="warm up",
        )  # fmt: skip
    with sqlite3.connect(tmp_path / "asem-bot.sqlite3") as db:  # as an older version wrote it
        db.execute(
            "INSERT INTO question_log (at, chat_type, lang, intent, confidence, answered, "
            "question) VALUES (?, 'private', 'en', NULL, 0.1, 0, ?)",
            (int(dt.datetime.now(dt.UTC).timestamp()), hostile),
        )
    result = bot(env | {"ASEM_DATA_DIR": str(tmp_path)}, "stats")
    assert result.returncode == 0, result.stderr
    assert not STEERING.search(result.stdout), repr(result.stdout)
    assert "clipboard" in result.stdout and "cleared" in result.stdout
    for personal in ("345 678", "bob@", "someone"):
        assert personal not in result.stdout
    raw = bot(env | {"ASEM_DATA_DIR": str(tmp_path)}, "stats", "--json").stdout
    assert not STEERING.search(raw.replace("\n", "")), repr(raw)
    texts = [group["representative"] for group in json.loads(raw)["top_unanswered"]]
    assert any("clipboard" in text and "[number]" in text for text in texts)


@pytest.mark.parametrize(
    "args",
    [
        ("stats", "--days", "0"),
        ("stats", "--days", "-3"),
        ("stats", "--days", "99999999999"),
        ("stats", "--days", "many"),
        ("stats", "--top", "-1"),
        ("eval", "README.md"),
        ("eval", "knowledge"),
        ("eval", "no-such-file.yaml"),
        ("no-such-command",),
        ("ask", "--no-such-option"),
    ],
)
def test_every_cli_error_is_one_line_and_exit_2(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    with Storage.open(tmp_path):
        pass
    result = bot(env | {"ASEM_DATA_DIR": str(tmp_path)}, *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
