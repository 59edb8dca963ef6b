"""Chat with the bot in a terminal: the same brain as in Telegram, with plain text.

Buttons and "did you mean" suggestions are shown as numbered choices; type the number to pick
one. ``n``/``p`` page through long lists. ``quiz`` asks a quiz question (answer with its
number) and ``score`` shows the session's score. Line editing and history come from
``readline`` where the platform has it (history is kept in ``~/.asem_bot_history``).
"""

from __future__ import annotations

import contextlib
import random
import sys
from pathlib import Path
from typing import TextIO

from bot.brain import Brain
from bot.campaign.quiz import (
    QuizMaker,
    QuizQuestion,
    check_answer,
    format_for_terminal,
    parse_choice,
)
from bot.language import choose_language
from bot.reply import Button, Reply

HISTORY = Path.home() / ".asem_bot_history"
PROMPT = "you> "


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
        self.choices: list[Button] = []
        self.last: Reply | None = None
        self.quiz: QuizQuestion | None = None  # a question waiting for its answer
        self.seen: set[str] = set()
        self.score = [0, 0]  # right, asked
        self.rng = random.Random()
        self.interactive = self.stdin.isatty() and self.stdout.isatty()

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def run(self) -> int:
        self._setup_readline()
        if self.hint:
            self.say(
                "Terminal chat. To run the Telegram bot, set TELEGRAM_BOT_TOKEN and run "
                "'asem-bot run'."
            )
        self.say(
            "Ask me about ASEM, the Asia-Europe Meeting. Type 'quiz' for a quiz question, "
            "'quit' to leave."
        )
        while True:
            try:
                line = self._read()
            except EOFError:
                self.say()
                break
            if line is None:
                break
            text = line.strip()
            if text.lower() in ("quit", "exit", "bye!", ":q"):
                break
            if not text:
                continue
            if self.quiz is not None and self.answer_quiz(text):
                continue
            if text.lower().lstrip("/") == "quiz":
                self.ask_quiz()
                continue
            if text.lower().lstrip("/") == "score":
                self.say(f"Quiz score: {self.score[0]} right out of {self.score[1]}.\n")
                continue
            self.show(self.respond(text))
        self._save_history()
        return 0

    def ask_quiz(self) -> None:
        maker = QuizMaker(self.brain.kb, self.lang)
        question, new_round = maker.pick(self.seen, self.rng)
        if new_round:
            self.seen.clear()
        self.seen.add(question.key)
        self.quiz = question
        self.say(format_for_terminal(question) + "\n")

    def answer_quiz(self, text: str) -> bool:
        """Take ``text`` as the answer to the pending quiz question, if it is one."""
        assert self.quiz is not None
        choice = parse_choice(self.quiz, text)
        if choice is None:
            self.quiz = None  # anything else is a new question to the bot
            return False
        right, feedback = check_answer(self.quiz, choice)
        self.score[0] += right
        self.score[1] += 1
        self.quiz = None
        self.say(feedback + "\n")
        return True

    def respond(self, text: str) -> Reply:
        """A number picks a choice; n/p page a list; anything else is a question."""
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            reply = self.brain.run(self.choices[int(text) - 1].action, self.lang)
            if reply is not None:
                return reply
        last = self.last
        if text.lower() in ("n", "next", "p", "prev") and last and last.action and last.pages > 1:
            step = 1 if text.lower().startswith("n") else -1
            page = min(max(last.page + step, 0), last.pages - 1)
            reply = self.brain.run(last.action, self.lang, page)
            if reply is not None:
                return reply
        if self.follow:  # a text that does not tell keeps the conversation's language
            self.lang = choose_language(self.brain, text, stored=self.lang)
        return self.brain.answer(text, self.lang)

    def show(self, reply: Reply) -> None:
        self.last = reply
        self.say(reply.plain)
        self.choices = [*reply.suggestions, *reply.buttons]
        for i, choice in enumerate(self.choices, start=1):
            self.say(f"  {i}. {choice.label}")
        if reply.pages > 1:
            self.say(
                f"  (page {reply.page + 1} of {reply.pages}: type n for next, p for previous)"
            )
        self.say()

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
