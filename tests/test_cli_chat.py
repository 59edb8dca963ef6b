"""``asem-bot chat``, run as a person runs it: in a subprocess, with its input piped in, and in a
pseudo-terminal (pty) for what only a terminal has: its width, Ctrl-C and Ctrl-D."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, clean_env
from cli_helpers import run_cli as bot

from bot.channels.screen import width


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")  # the chat's history file goes here
    environment = clean_env(tmp_path_factory.mktemp("cache")) | {"HOME": str(home)}
    for name in ("COLUMNS", "LINES"):
        environment.pop(name, None)
    return environment


def chat(env: dict[str, str], *lines: str, lang: str | None = None) -> str:
    args = ["chat", *(["--lang", lang] if lang else [])]
    result = bot(env, *args, stdin="".join(line + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


# -- with the input piped in ------------------------------------------------------------------


def test_a_list_is_shown_once_numbered_where_it_stands(env: dict[str, str]) -> None:
    out = chat(env, "list the summits", "5", "quit")
    shown = out.split("ASEM summits (13):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    listed = [line for line in shown if ". ASEM" in line and ":" in line]  # not follow-ups
    assert listed[0] == " 1. ASEM1: Bangkok, Thailand, 1-2 March 1996"
    assert listed[4] == " 5. ASEM5: Hanoi, Viet Nam, 8-9 October 2004"
    assert listed[12].startswith("13. ASEM13: Phnom Penh")
    assert len(listed) == 13  # and no second list of the same buttons under it
    answer = out.split("ASEM5 was held in Hanoi", 1)[1]
    assert out.split("ASEM5 was held in Hanoi", 1)[0].count("ASEM5") == 1  # listed once
    assert "Who joined at ASEM5?" in answer  # and its follow-ups under the answer
    assert "ASEM5 was held in Hanoi" in out
    # buttons the text does not show stay numbered choices: the neighbours of ASEM5
    assert "  1. ◀ ASEM4\n  2. ASEM6 ▶\n" in out


def test_a_numbered_list_keeps_its_numbers_and_each_opens(env: dict[str, str]) -> None:
    out = chat(env, "what are the areas of cooperation", "3", "quit")
    assert " 3. SME cooperation\n" in out and "  3. 3. SME cooperation" not in out
    assert out.count("SME cooperation") >= 2  # choice 3 opened it


def test_did_you_mean_suggestions_are_choices(env: dict[str, str]) -> None:
    out = chat(env, "partners of 2004", "1", "quit")
    assert "Did you mean:\n  1. " in out


def test_the_chat_keeps_the_context_across_turns(env: dict[str, str]) -> None:
    out = chat(env, "where was asem 5 held", "who hosted it", "and the one after that?")
    answers = out.split("\n\n")
    assert "Hanoi" in out
    assert any("ASEM6" in a and "Helsinki" in a for a in answers), out


@pytest.mark.parametrize("word", ["menu", "/start", "/menu", "MENU"])
def test_menu_and_start_show_the_topics(env: dict[str, str], word: str) -> None:
    out = chat(env, word)
    assert "Hello! I answer questions about ASEM" in out
    assert "  1. About ASEM\n  2. Summits\n" in out


def test_help_says_what_to_ask_and_how_the_chat_works(env: dict[str, str]) -> None:
    out = chat(env, "help")
    assert "Where was ASEM5 held?" in out  # what to ask, from the knowledge base
    assert "In this chat: type the number of a choice" in out
    assert "Ctrl-C clears the line" in out


def test_khmer_words_for_menu_help_and_score(env: dict[str, str]) -> None:
    out = chat(env, "ម៉ឺនុយ", "1", "ជំនួយ", "ពិន្ទុ")
    assert "សួស្តី!" in out and "  1. អំពី ASEM" in out  # the menu, in Khmer
    assert "ក្នុងការជជែកនេះ៖" in out  # the chat's own help, in Khmer
    assert "ពិន្ទុប្រកួតចំណេះដឹង៖ ត្រូវ 0 ក្នុងចំណោម 0។" in out
    assert "In this chat" not in out and "Quiz score" not in out


def test_the_chat_texts_follow_the_language(env: dict[str, str]) -> None:
    both = chat(env, "score")
    assert both.startswith("Ask me about ASEM, the Asia-Europe Meeting. Type 'menu'")
    assert "សូមសួរខ្ញុំអំពីកិច្ចប្រជុំអាស៊ី-អឺរ៉ុប (ASEM)។" in both.splitlines()[1]
    assert "Quiz score: 0 right out of 0." in both
    khmer = chat(env, "score", lang="km")
    assert khmer.startswith("សូមសួរខ្ញុំ") and "Ask me about" not in khmer
    assert "ពិន្ទុប្រកួតចំណេះដឹង៖" in khmer
    english = chat(env, "ASEM5ធ្វើនៅណា?", lang="en")
    assert "Ask me about" in english and "សូមសួរខ្ញុំ" not in english
    assert "ASEM5 was held in Hanoi" in english


def test_no_control_character_reaches_the_terminal(env: dict[str, str], tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    messages = knowledge / "messages.yaml"
    text = messages.read_text(encoding="utf-8")
    old = 'did_you_mean: {en: "I\'m not sure I understood. Did you mean:"'
    new = 'did_you_mean: {en: "I\'m not\\e[2J\\e]0;owned\\a sure. Did you mean:"'  # YAML escapes
    messages.write_text(text.replace(old, new), encoding="utf-8")
    environment = env | {"ASEM_KNOWLEDGE_DIR": str(knowledge)}
    out = chat(environment, "partners of 2004", "where was asem 5 held\x1b[2J\x07", lang="en")
    assert "I'm not\\x1b[2J\\x1b]0;owned\\x07 sure. Did you mean:" in out
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", out)
    asked = bot(environment, "ask", "--lang", "en", "partners of 2004")
    assert "\x1b" not in asked.stdout and "\\x1b[2J" in asked.stdout


def test_a_quiz_is_answered_by_its_number_or_its_text(env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert process.stdin and process.stdout
    received = b""

    def ask(line: str) -> str:
        """Send a line and read the reply, up to the blank line that ends it."""
        nonlocal received
        assert process.stdin and process.stdout
        process.stdin.write(line.encode() + b"\n")
        process.stdin.flush()
        while b"\n\n" not in received.lstrip(b"\n"):
            ready, _, _ = select.select([process.stdout], [], [], 20)
            assert ready, f"no reply to {line!r}"
            received += os.read(process.stdout.fileno(), 65536)
        received = received.lstrip(b"\n")
        reply, _, received = received.partition(b"\n\n")
        return reply.decode("utf-8")

    try:
        ask("score")  # the intro, then the score: read past both
        question = ask("quiz").splitlines()
        options = [re.sub(r"^\s+\d+\. ", "", line) for line in question[1:]]
        assert 2 <= len(options) <= 10, question
        by_text = ask(options[1].upper())  # the text of an option, in any case
        assert by_text.startswith(("Right!", "Not quite: the answer is ")), by_text
        right = int(by_text.startswith("Right!"))
        assert ask("score") == f"Quiz score: {right} right out of 1."
        ask("quiz")
        by_number = ask("1")
        assert by_number.startswith(("Right!", "Not quite: the answer is ")), by_number
        right += by_number.startswith("Right!")
        assert ask("score") == f"Quiz score: {right} right out of 2."
        khmer = ask("ក្វីស").splitlines()  # a quiz question in Khmer, answered in Khmer digits
        assert re.search("[\u1780-\u17ff]", khmer[0]), khmer
        verdict = ask("២")
        assert verdict.startswith(("ត្រឹមត្រូវ!", "មិនទាន់ត្រូវទេ៖ ចម្លើយគឺ ")), verdict
        right += verdict.startswith("ត្រឹមត្រូវ!")
        assert ask("ពិន្ទុ") == f"ពិន្ទុប្រកួតចំណេះដឹង៖ ត្រូវ {right} ក្នុងចំណោម 3។"
        assert "Hanoi" in ask("where was asem 5 held")  # not a quiz answer: a question again
    finally:
        process.stdin.close()
        process.wait(timeout=20)
    assert process.returncode == 0


# -- in a terminal -------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\r")


class Terminal:
    """``asem-bot chat`` in a pseudo-terminal of a given size, as a person types into it."""

    def __init__(self, env: dict[str, str], columns: int, rows: int = 40) -> None:
        self.master, slave = os.openpty()
        self.resize(columns, rows, slave)
        # the chat's own session, the pty its controlling terminal: Ctrl-C is a real SIGINT
        launcher = (
            "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
            "os.execv(sys.executable, [sys.executable, '-m', 'bot', 'chat'])"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", launcher],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env | {"TERM": "dumb", "INPUTRC": "/dev/null"},
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = ""

    def resize(self, columns: int, rows: int = 40, fd: int | None = None) -> None:
        size = struct.pack("HHHH", rows, columns, 0, 0)
        fcntl.ioctl(self.master if fd is None else fd, termios.TIOCSWINSZ, size)

    def read_until(self, marker: str, timeout: float = 20) -> str:
        """Everything the chat writes until ``marker`` (escape sequences taken out)."""
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{marker!r} not seen in:\n{self.seen}"
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError as exc:  # the chat has closed the terminal
                assert exc.errno == errno.EIO
                break
            self.seen += ANSI.sub("", data.decode("utf-8", errors="replace"))
        before, _, self.seen = self.seen.partition(marker)
        return before

    def settle(self, quiet: float = 0.5) -> None:
        """Read until the chat has been quiet for ``quiet`` seconds (readline redraws its
        prompt when the window is resized)."""
        while select.select([self.master], [], [], quiet)[0]:
            self.seen += ANSI.sub("", os.read(self.master, 65536).decode("utf-8", "replace"))
        self.seen = ""

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode("utf-8"))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminal(env: dict[str, str]) -> Terminal:
    term = Terminal(env, columns=40)
    yield term  # type: ignore[misc]
    term.close()


def _reply_lines(text: str, question: str) -> list[str]:
    """The reply's lines, without the echo of the question typed."""
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if question in line)
    return [line for line in lines[at + 1 :] if line.strip()]


def test_in_a_terminal_replies_wrap_to_its_width_without_breaking_words(
    terminal: Terminal,
) -> None:
    terminal.read_until("you> ")
    terminal.type("where was asem 5 held\r")
    lines = _reply_lines(terminal.read_until("you> "), "where was asem 5 held")
    assert lines, "no reply"
    assert all(width(line) <= 40 for line in lines), lines
    assert max(width(line) for line in lines) > 30  # wrapped, not cut short
    words = " ".join(lines).split()
    assert "ASEM5 was held in Hanoi, Viet Nam, on 8-9 October 2004." in " ".join(words)

    terminal.type("list the summits\r")
    lines = _reply_lines(terminal.read_until("you> "), "list the summits")
    assert all(width(line) <= 40 for line in lines), lines
    at = next(i for i, line in enumerate(lines) if line.startswith("13. ASEM13:"))
    assert lines[at + 1].startswith("    ") and lines[at + 1][4] != " "  # hanging indent

    terminal.resize(60)  # the window is made wider: the next reply uses it
    terminal.settle()
    terminal.type("where was asem 5 held\r")
    lines = _reply_lines(terminal.read_until("you> "), "where was asem 5 held")
    assert all(width(line) <= 60 for line in lines) and max(map(width, lines)) > 40, lines

    terminal.type("\x04")  # Ctrl-D on an empty line: goodbye
    terminal.read_until("\n")
    assert terminal.process.wait(timeout=20) == 0


def test_in_a_terminal_ctrl_c_clears_the_line_and_ctrl_d_quits(terminal: Terminal) -> None:
    terminal.read_until("you> ")
    terminal.type("capital of mongolia and")
    time.sleep(0.3)
    terminal.type("\x03")  # Ctrl-C: what was typed is dropped, the chat goes on
    terminal.read_until("you> ")
    assert terminal.process.poll() is None
    terminal.type("list the summits\r")
    reply = terminal.read_until("you> ")
    assert "ASEM summits (13):" in reply, reply  # not "capital of mongolia and list the..."
    # at a person's pace: a SIGINT in the instant before readline waits for keys is only
    # seen with the next key (CPython's readline), which no one types that fast
    time.sleep(0.3)
    terminal.type("\x03")
    terminal.read_until("you> ")
    terminal.type("\x04")
    assert terminal.process.wait(timeout=20) == 0


def test_in_a_terminal_history_is_kept_in_home(env: dict[str, str], terminal: Terminal) -> None:
    terminal.read_until("you> ")
    terminal.type("where was asem 5 held\r")
    terminal.read_until("you> ")
    terminal.type("\x04")
    assert terminal.process.wait(timeout=20) == 0
    history = Path(env["HOME"]) / ".asem_bot_history"
    assert "where was asem 5 held" in history.read_text(encoding="utf-8")


def test_jsonl_output_is_not_wrapped(env: dict[str, str]) -> None:
    result = bot(env | {"COLUMNS": "20"}, "ask", "--jsonl", stdin="where was asem 5 held\n")
    assert len(result.stdout.splitlines()) == 1
    assert "Hanoi, Viet Nam" in json.loads(result.stdout)["reply"]
