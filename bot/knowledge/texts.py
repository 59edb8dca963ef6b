"""Every user-facing text of the knowledge files, with where it is written.

A text the user sees is a :class:`bot.knowledge.models.Text` (``{en: ..., km: ...}``) anywhere
in a file: a name, a note, a message template, a question's label or answer. This module
lists them all, each with its file, line and a *key* that people can read and that stays the
same while the file is edited elsewhere:

- a message template (under ``messages:``) is its message key: ``welcome``;
- any other text is its path, with each list item named by its ``id`` (or ``intent``,
  ``number``, ``measure``) in brackets, or by its position from 1 (``#2``) when it has none:
  ``partners[kh].name``, ``series[summit].meetings[13].theme``,
  ``questions[meeting.place].label``, ``cambodia.benefits[#2].text``.

``asem-bot validate`` reports every text without Khmer from this list, and
``asem-bot translations`` (:mod:`bot.knowledge.translations`) exports and imports them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.knowledge import models as m
from bot.knowledge.checks import _walk
from bot.knowledge.yamlfile import Path_, Problem, YamlDocument

_ID_FIELDS = ("id", "intent", "number", "measure")
"""The attributes that name a list item in a key, the first one an item has."""

MISSING_KHMER = "no Khmer text"


@dataclass(frozen=True)
class Entry:
    """One user-facing text: where it is, and its English and Khmer."""

    file: str  # the file's name in the knowledge folder: "messages.yaml"
    shown: str  # the file as problems name it: "knowledge/messages.yaml"
    key: str
    path: Path_
    line: int
    en: str
    km: str | None
    unreviewed: bool

    @property
    def reviewed(self) -> bool:
        """A native speaker confirmed the Khmer text (there is one, not marked unreviewed)."""
        return self.km is not None and not self.unreviewed

    def problem(self, message: str) -> Problem:
        return Problem(self.shown, self.line, f"{self.key}: {message}")


def _item_name(item: Any, position: int) -> str:
    if isinstance(item, BaseModel):
        for name in _ID_FIELDS:
            value = getattr(item, name, None)
            if value is not None and not isinstance(value, bool):
                return str(value)
    return f"#{position + 1}"


def key_of(parsed: BaseModel, path: Path_) -> str:
    """The readable key of the text at ``path`` in a parsed file."""
    if len(path) == 2 and path[0] == "messages":
        return str(path[1])
    parts: list[str] = []
    current: Any = parsed
    for step in path:
        if isinstance(step, int):
            item = current[step]
            parts.append(f"[{_item_name(item, step)}]")
            current = item
        else:
            parts.append(f".{step}" if parts else step)
            current = current[step] if isinstance(current, dict) else getattr(current, step)
    return "".join(parts)


def _positional(path: Path_) -> str:
    return "".join(
        f"[#{step + 1}]" if isinstance(step, int) else (f".{step}" if i else step)
        for i, step in enumerate(path)
    )


def entries(files: dict[str, BaseModel], docs: dict[str, YamlDocument]) -> list[Entry]:
    """Every text of the parsed ``files`` (name -> model), in file order, then by line."""
    found: list[Entry] = []
    for name, parsed in files.items():
        doc = docs[name]
        texts = [(p, t) for p, t in _walk(parsed) if isinstance(t, m.Text)]
        keys = [key_of(parsed, path) for path, _ in texts]
        twice = {k for k, n in Counter(keys).items() if n > 1}  # ids repeated: by position
        in_file: list[Entry] = []
        for (path, text), key in zip(texts, keys, strict=True):
            in_file.append(
                Entry(
                    file=name,
                    shown=doc.file,
                    key=_positional(path) if key in twice else key,
                    path=path,
                    line=doc.line_of(path),
                    en=text.en,
                    km=text.km,
                    unreviewed=text.km_unreviewed,
                )
            )
        found += sorted(in_file, key=lambda entry: entry.line)
    return found


def missing_khmer(found: list[Entry]) -> list[Problem]:
    """``file:line: key: no Khmer text`` for every text with English only."""
    return [entry.problem(MISSING_KHMER) for entry in found if entry.km is None]
