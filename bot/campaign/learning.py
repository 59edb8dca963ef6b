"""Learning from the people who ask: the questions declined or disliked, and what they meant.

:func:`suggestions` takes the questions most often declined or given a 👎 (grouped, from the
question log and the feedback table: :meth:`bot.storage.Storage.to_learn`) and pairs each with
the intent the brain reads it as closest to. :func:`accept` adds such a question to the
knowledge files as an example of that intent: one line inserted under the intent's
``examples:`` in its YAML file, comments and layout untouched (a git diff of one line); the
whole folder is validated with the change first, in a copy, and nothing is written if it would
not validate. The caller then reloads the knowledge base (``/reload`` does the same).

Telegram-free: ``asem-bot stats --accept N`` and the admin's ``/stats`` buttons share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.actions import Action
from bot.brain import SMALLTALK, Brain
from bot.knowledge import KnowledgeError
from bot.knowledge.base import FACT
from bot.knowledge.yamlfile import read_yaml
from bot.storage import QuestionGroup

MAX_EXAMPLE_CHARS = 200
_ITEM = re.compile(r"^(?P<indent>\s*)- ")


@dataclass(frozen=True)
class Suggestion:
    """A question people ask that the bot does not answer well, and what it is closest to."""

    phrasing: str
    count: int
    intent: str
    label: str  # the intent's question, as buttons show it
    confidence: float

    @property
    def key(self) -> str:
        """A short, stable name for it (callback data): the same phrasing and intent, the
        same key, also after a restart."""
        return hashlib.sha1(f"{self.intent}\n{self.phrasing}".encode()).hexdigest()[:10]


def nearest(brain: Brain, text: str) -> tuple[str, float] | None:
    """The intent ``text`` comes closest to, and how close (0..1): the best reading, or for a
    question answered (and disliked) the best reading other than the answer it got."""
    reply = brain.answer(text)
    answered = reply.intent if reply.answered else None
    parse = brain.nlu["en"].parse(text)
    for candidate in parse.candidates:
        intent = candidate.intent
        if intent != answered and not intent.startswith(SMALLTALK):
            return intent, round(min(1.0, candidate.score / 100), 3)
    return None


def suggestions(brain: Brain, groups: tuple[QuestionGroup, ...]) -> list[Suggestion]:
    found = []
    for group in groups:
        close = nearest(brain, group.representative)
        if close is None:
            continue
        intent, confidence = close
        question = brain.kb.question(intent)
        label = brain.title(Action(intent)) if question else intent
        found.append(Suggestion(group.representative, group.count, intent, label, confidence))
    return found


def format_suggestions(found: list[Suggestion], *, width: int = 60) -> str:
    """The "to learn" table of ``asem-bot stats`` and ``/stats``: numbered, for --accept N."""
    if not found:
        return ""
    lines = ["", "Most declined or disliked, and the intent each came closest to:"]
    for number, item in enumerate(found, start=1):
        text = item.phrasing if len(item.phrasing) <= width - 12 else item.phrasing[: width - 13]
        lines.append(f"  {number:>2}. {text} ({item.count}x)")
        lines.append(f"      -> {item.intent} ({item.confidence:.0%}): {item.label}")
    return "\n".join(lines)


# -- writing an example into the knowledge files -----------------------------------------------


class NotAccepted(Exception):
    """The example was not added; the message says why (and lists problems, if any)."""


def _where(directory: Path, intent: str) -> tuple[Path, int, list[str]]:
    """The file of ``intent``, the line of its last example (1-based) and its examples."""
    fact_id = intent.removeprefix(FACT) if intent.startswith(FACT) else None
    for path in sorted(directory.glob("*.yaml")):
        doc, _ = read_yaml(path)
        if doc is None or not isinstance(doc.data, dict):
            continue
        key, field = ("facts", "id") if fact_id else ("questions", "intent")
        for i, item in enumerate(doc.data.get(key) or ()):
            if not isinstance(item, dict) or item.get(field) != (fact_id or intent):
                continue
            examples = item.get("examples")
            if not isinstance(examples, list) or not examples:
                raise NotAccepted(f"{path.name}: {intent} has no examples: list to add to")
            return path, doc.line_of((key, i, "examples", len(examples) - 1)), examples
    raise NotAccepted(f"no knowledge file declares {intent}")


def _inserted(text: str, line: int, phrasing: str) -> str:
    """``text`` with ``- "phrasing"`` as a new item after the item that starts on ``line``."""
    lines = text.splitlines(keepends=True)
    item = _ITEM.match(lines[line - 1])
    if item is None:
        raise NotAccepted(f"line {line} is not a '- example' line (a list written [a, b]?)")
    indent = item["indent"]
    end = line  # the item may go on over more lines, indented further
    while end < len(lines) and lines[end].strip():
        following = lines[end]
        if _ITEM.match(following) or len(following) - len(following.lstrip()) <= len(indent):
            break
        end += 1
    newline = "\r\n" if lines[line - 1].endswith("\r\n") else "\n"
    quoted = json.dumps(phrasing, ensure_ascii=False)  # a JSON string is a YAML string
    lines.insert(end, f"{indent}- {quoted}{newline}")
    return "".join(lines)


def clean_phrasing(text: str) -> str:
    phrasing = " ".join(text.split())
    if not phrasing or len(phrasing) > MAX_EXAMPLE_CHARS:
        raise NotAccepted(f"an example must be 1-{MAX_EXAMPLE_CHARS} characters")
    return phrasing


def accept(directory: Path, intent: str, phrasing: str) -> Path:
    """Add ``phrasing`` as an example of ``intent`` to the knowledge folder ``directory``;
    returns the file changed. Raises :class:`NotAccepted` (nothing written) when the intent
    has no examples list, the phrasing is one already, or the folder would not validate."""
    from bot.validation import checked_knowledge

    phrasing = clean_phrasing(phrasing)
    path, line, examples = _where(directory, intent)
    if phrasing.casefold() in {str(e).casefold() for e in examples}:
        raise NotAccepted(f"'{phrasing}' is already an example of {intent}")
    original = path.read_text(encoding="utf-8")
    changed = _inserted(original, line, phrasing)
    with tempfile.TemporaryDirectory(prefix="asem-accept-") as scratch:
        trial = Path(scratch) / "knowledge"
        shutil.copytree(directory, trial)
        (trial / path.name).write_text(changed, encoding="utf-8")
        try:
            checked_knowledge(trial)
        except KnowledgeError as exc:
            problems = "; ".join(str(p).replace(str(trial), str(directory)) for p in exc.problems)
            raise NotAccepted(f"it would not validate: {problems}") from exc
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        temporary.write_text(changed, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:  # a read-only folder (an image's installed copy, for instance)
        temporary.unlink(missing_ok=True)
        raise NotAccepted(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
