"""The reply language on the command line, run as a user runs it: in a subprocess.

A Khmer question (in Khmer script or in Latin letters) gets a Khmer reply, an English one an
English reply, unless ``--lang`` says otherwise. The replies tell the language by the names
in them: Khmer replies name Hanoi ហាណូយ (its ``name.km``), English ones Hanoi.
"""

from __future__ import annotations

import json

import pytest
from cli_helpers import clean_env
from cli_helpers import run_cli as bot

HANOI_KM = "ហាណូយ"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize(
    ("question", "khmer"),
    [
        ("ASEM5ធ្វើនៅណា?", True),
        ("asem 5 tver nov na", True),
        ("Where was ASEM5 held?", False),
    ],
)
def test_ask_replies_in_the_language_of_the_question(
    env: dict[str, str], question: str, khmer: bool
) -> None:
    result = bot(env, "ask", question)
    assert result.returncode == 0, result.stderr
    assert (HANOI_KM in result.stdout) is khmer
    assert ("was held in Hanoi" in result.stdout) is not khmer
    # a Khmer reply gives a foreign place's name as written in the sources, too
    assert ("(Hanoi)" in result.stdout) is khmer


@pytest.mark.parametrize(
    ("question", "lang"), [("ASEM5ធ្វើនៅណា?", "en"), ("where was asem5", "km")]
)
def test_ask_lang_overrides_the_question(env: dict[str, str], question: str, lang: str) -> None:
    result = bot(env, "ask", "--lang", lang, question)
    assert result.returncode == 0, result.stderr
    assert (HANOI_KM in result.stdout) is (lang == "km")


def test_ask_jsonl_follows_each_question_unless_lang_is_given(env: dict[str, str]) -> None:
    questions = "ASEM5ធ្វើនៅណា?\nwhere was asem 5 held\nasem 5 tver nov na\n"
    result = bot(env, "ask", "--jsonl", stdin=questions)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line)["reply"] for line in result.stdout.splitlines()]
    assert [HANOI_KM in r for r in replies] == [True, False, True]
    result = bot(env, "ask", "--jsonl", "--lang", "en", stdin=questions)
    replies = [json.loads(line)["reply"] for line in result.stdout.splitlines()]
    assert [HANOI_KM in r for r in replies] == [False, False, False]


def test_chat_follows_the_question_and_keeps_it_for_a_neutral_one(env: dict[str, str]) -> None:
    result = bot(env, "chat", stdin="ASEM5ធ្វើនៅណា?\nASEM5\nwhere was asem 5 held\n")
    assert result.returncode == 0, result.stderr
    answers = [
        line for line in result.stdout.splitlines() if HANOI_KM in line or "held in Hanoi" in line
    ]
    assert [HANOI_KM in a for a in answers] == [True, True, False], result.stdout


def test_chat_lang_km(env: dict[str, str]) -> None:
    result = bot(env, "chat", "--lang", "km", stdin="where was asem 5 held\n")
    assert result.returncode == 0, result.stderr
    assert HANOI_KM in result.stdout


@pytest.mark.parametrize("command", [["ask", "hi"], ["chat"], ["ask", "--jsonl"]])
def test_an_unknown_lang_is_one_line_listing_the_languages(
    env: dict[str, str], command: list[str]
) -> None:
    result = bot(env, *command, "--lang", "fr")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'fr'" in lines[0] and "en, km" in lines[0], result.stderr
