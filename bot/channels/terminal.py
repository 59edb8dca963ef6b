"""Chat with the bot in a terminal: the same brain as in Telegram, with plain text.

    asem-bot chat [--lang en|km]

A reply is shown as plain text, word-wrapped to the terminal's width. Its buttons become
numbered choices: a list the reply shows is numbered where it stands (type the number to open
an item), and only the buttons the text does not show already (more, back, next, "did you
mean") are listed under it. ``n``/``p`` page through long lists. The chat keeps the context
as a Telegram chat does ("where was ASEM5 held?", then "and the one after that?").

``menu`` (or ``/start``) shows the topics, ``help`` what to ask and how, ``quiz`` asks a quiz
question (answer with its number or its text), ``score`` shows the session's score; the
Khmer words of ``knowledge/messages.yaml`` (``cli_words_*``) work too. Ctrl-C clears the line
being typed, Ctrl-D (or ``quit``) leaves. The chat answers in the language of each question
unless ``--lang`` is given, and so do its own texts. Line editing and history come from
``readline`` where the platform has it (history is kept in ``~/.asem_bot_history``).
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import navigation
from bot.brain import Brain
from bot.campaign.quiz import (
    QuizMaker,
    QuizQuestion,
    check_answer,
    format_for_terminal,
    parse_choice,
)
from bot.channels.screen import printable, wrap
from bot.declare import msg
from bot.dialogue import TOPIC_SECONDS, TOPIC_TURNS, Topic
from bot.language import choose_language, languages
from bot.reply import Button, Reply, html_to_plain

HISTORY = Path.home() / ".asem_bot_history"
PROMPT = "you> "

HINT = msg("cli_hint")
INTRO = msg("cli_intro")
HELP = msg("cli_help")
SCORE = msg("cli_score")
PAGE = msg("cli_page")
BACK = msg("button_back")
WORDS = {
    "menu": msg("cli_words_menu"),
    "help": msg("cli_words_help"),
    "quiz": msg("cli_words_quiz"),
    "score": msg("cli_words_score"),
    "quit": msg("cli_words_quit"),
}
"""What the chat's own commands are called, in every language (a list of words each)."""

_LIST_LINE = re.compile(r"^(?P<indent>\s*)(?:[•◦▪‣*-]|(?P<number>\d{1,3})[.)])\s+(?P<text>.*)$")
_AFTER_LABEL = re.compile(r"$|[\s:៖,;(.)]")
"""What may follow a button's label at the start of a list line: "ASEM1: Bangkok..." is the
button ASEM1, "ASEM10: Milan" is not."""


@dataclass(frozen=True)
class Shown:
    """A reply as the terminal shows it: its lines, and the choices its numbers pick."""

    text: str
    choices: tuple[Button, ...]


def _starts_with_label(text: str, label: str) -> bool:
    return text.startswith(label) and bool(_AFTER_LABEL.match(text[len(label) :]))


def lay_out(text: str, buttons: tuple[Button, ...], others: tuple[Button, ...] = ()) -> Shown:
    """Number the lines of a list in ``text`` that are ``buttons`` and list the rest.

    A button whose label begins a list line ("• ASEM1: Bangkok...", "3. SME cooperation")
    takes that line's place as choice 1, 2, 3...; the buttons the text does not show, and
    ``others`` (the "did you mean" suggestions), follow as numbered choices."""
    lines = text.split("\n")
    items: dict[int, Button] = {}  # line index -> its button
    rest: list[Button] = []
    for button in buttons:
        label = button.label.strip()
        for at, line in enumerate(lines):
            found = _LIST_LINE.match(line)
            if at in items or not found or not label:
                continue
            if line.strip() == label or _starts_with_label(found["text"], label):
                items[at] = button
                break
        else:
            rest.append(button)
    order = sorted(items)
    choices = [items[at] for at in order] + list(others) + rest
    digits = len(str(len(order))) if order else 1
    for n, at in enumerate(order, start=1):
        found = _LIST_LINE.match(lines[at])
        assert found is not None
        own = found["number"]
        body = found["text"] if own is None or int(own) == n else lines[at].strip()
        lines[at] = f"{found['indent']}{n:>{digits}}. {body}"
    listed = [f"  {n}. {b.label}" for n, b in enumerate(choices[len(order) :], len(order) + 1)]
    return Shown("\n".join(lines + listed), tuple(choices))


class TerminalChat:
    def __init__(
        self,
        brain: Brain,
        *,
        lang: str | None = "en",
        hint: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.brain = brain
        self.follow = lang is None  # reply in the language of each question (bot.language)
        self.lang = lang or "en"
        self.hint = hint
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.choices: tuple[Button, ...] = ()
        self.last: Reply | None = None
        self.quiz: QuizQuestion | None = None  # a question waiting for its answer
        self.seen: set[str] = set()
        self.score = [0, 0]  # right, asked
        self.rng = random.Random()
        self.topics: list[tuple[float, Topic]] = []  # what the last replies were about
        self.interactive = self.stdin.isatty() and self.stdout.isatty()
        self.words = {
            command: {
                word.casefold()
                for lang in languages(brain)
                for word in brain.kb.message(key, lang).split()
            }
            for command, key in WORDS.items()
        }

    # -- output --------------------------------------------------------------------------------

    def columns(self) -> int:
        """The terminal's width, asked each time (the window may have been resized); 0 when
        the output is not a terminal: then lines are not wrapped."""
        if not self.stdout.isatty():
            return 0
        return shutil.get_terminal_size().columns

    def say(self, text: str = "") -> None:
        """Plain text to the terminal: escaped, wrapped, flushed."""
        self.stdout.write(wrap(printable(text), self.columns()) + "\n")
        self.stdout.flush()

    def text(self, key: str, lang: str | None = None, **values: object) -> str:
        """Message ``key`` of the knowledge base as plain text, in ``lang`` or the chat's."""
        template = self.brain.kb.message(key, lang or self.lang)
        return html_to_plain(template.format(**values) if values else template)

    def greet(self, key: str) -> None:
        """A text shown before any question: in both languages, unless --lang chose one."""
        for lang in languages(self.brain) if self.follow else (self.lang,):
            self.say(self.text(key, lang))

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> int:
        self._setup_readline()
        if self.hint:
            self.greet(HINT)
        self.greet(INTRO)
        while True:
            try:
                line = self._read()
                if line is None:
                    break
                if not self.handle(line.strip()):
                    break
            except EOFError:  # Ctrl-D
                self.say()
                break
            except KeyboardInterrupt:  # Ctrl-C: the line typed so far is dropped
                if not self.interactive:
                    raise
                self.stdout.write("\n")
                self.stdout.flush()
        self._save_history()
        return 0

    def command(self, text: str) -> str | None:
        """Which of the chat's commands ``text`` is (menu, help, quiz, score, quit), if any."""
        folded = text.casefold()
        return next((c for c, words in self.words.items() if folded in words), None)

    def handle(self, text: str) -> bool:
        """Answer one line; False when it asks to leave."""
        if not text:
            return True
        if self.quiz is not None and self.answer_quiz(text):
            return True
        command = self.command(text)
        if command == "quit":
            return False
        if command is not None and self.follow:
            self.lang = choose_language(self.brain, text, stored=self.lang)
        if command == "quiz":
            self.ask_quiz()
        elif command == "score":
            self.say(self.text(SCORE, count=self.score[0], total=self.score[1]) + "\n")
        elif command == "menu":
            self.show(self.brain.menu(self.lang))
        elif command == "help":
            self.show(self.brain.answer("help", self.lang), after=self.text(HELP))
        else:
            self.show(self.respond(text))
        return True

    # -- the quiz ------------------------------------------------------------------------------

    def ask_quiz(self) -> None:
        maker = QuizMaker(self.brain.kb, self.lang)
        question, new_round = maker.pick(self.seen, self.rng)
        if new_round:
            self.seen.clear()
        self.seen.add(question.key)
        self.quiz = question
        self.say(format_for_terminal(question) + "\n")

    def answer_quiz(self, text: str) -> bool:
        """Take ``text`` as the answer to the pending quiz question (its number or the text
        of an option), if it is one; anything else is a new question to the bot."""
        assert self.quiz is not None
        choice = parse_choice(self.quiz, text)
        if choice is None:
            self.quiz = None
            return False
        right, feedback = check_answer(self.quiz, choice)
        self.score[0] += right
        self.score[1] += 1
        self.quiz = None
        self.say(feedback + "\n")
        return True

    # -- questions -----------------------------------------------------------------------------

    def context(self) -> list[Topic]:
        """The topics of the last replies, as a Telegram chat keeps them (the last few, for a
        quarter of an hour)."""
        now = time.monotonic()
        self.topics = [(t, topic) for t, topic in self.topics if now - t < TOPIC_SECONDS]
        return [topic for _, topic in self.topics[-TOPIC_TURNS:]]

    def remember(self, reply: Reply) -> None:
        if isinstance(reply.topic, Topic):
            self.topics = [*self.topics, (time.monotonic(), reply.topic)][-TOPIC_TURNS:]

    def respond(self, text: str) -> Reply:
        """A number picks a choice; n/p page a list; anything else is a question."""
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            reply = self.open(self.choices[int(text) - 1].action)
            if reply is not None:
                return reply
        last = self.last
        if text.lower() in ("n", "next", "p", "prev") and last and last.action and last.pages > 1:
            step = 1 if text.lower().startswith("n") else -1
            page = min(max(last.page + step, 0), last.pages - 1)
            reply = self.brain.run(last.action, self.lang, page, last.parent)
            if reply is not None:
                return reply
        if self.follow:  # a text that does not tell keeps the conversation's language
            self.lang = choose_language(self.brain, text, stored=self.lang)
        return self.brain.answer(text, self.lang, self.context())

    def open(self, address: str) -> Reply | None:
        """The screen a choice opens: its place, with the trail of where it was chosen (so
        that its Back choice returns there, as in Telegram)."""
        if address == navigation.HOME:
            return self.brain.menu(self.lang)
        opened = navigation.parse(address)
        if opened is None:
            return None
        trail = address.partition(navigation.SEP)[2] or None
        return self.brain.run(opened.place.action, self.lang, opened.place.page, trail)

    def show(self, reply: Reply, *, after: str = "") -> None:
        self.last = reply
        self.remember(reply)
        here = navigation.here(reply.action, reply.page, reply.parent)
        # a terminal has no 64-byte limit: the whole trail rides along
        buttons = tuple(
            Button(b.label, navigation.child(b.action, 0, here, 4096) or b.action)
            for b in reply.buttons
        )
        if reply.parent and reply.parent != navigation.HOME:
            buttons += (Button(self.text(BACK), reply.parent),)
        shown = lay_out(reply.plain, buttons, reply.suggestions)
        self.choices = shown.choices
        lines = [shown.text]
        if reply.pages > 1:
            lines.append("  " + self.text(PAGE, number=reply.page + 1, total=reply.pages))
        if after:
            lines += ["", after]
        self.say("\n".join(lines) + "\n")

    # -- the terminal --------------------------------------------------------------------------

    def _read(self) -> str | None:
        if self.interactive:
            return input(PROMPT)
        line = self.stdin.readline()
        return None if line == "" else line

    def _setup_readline(self) -> None:
        if not self.interactive:
            return
        try:
            import readline
        except ImportError:  # pragma: no cover - Windows without pyreadline
            return
        with contextlib.suppress(OSError):
            readline.read_history_file(HISTORY)
        readline.set_history_length(1000)

    def _save_history(self) -> None:
        if not self.interactive:
            return
        try:
            import readline

            readline.write_history_file(HISTORY)
        except (ImportError, OSError):
            pass
