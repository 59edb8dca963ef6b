"""The knowledge base the bot may serve: loaded and checked exactly as ``asem-bot validate`` does.

``asem-bot validate``, ``asem-bot run`` (which refuses to start on a base that validate refuses)
and the admins' ``/reload`` all call :func:`checked_knowledge`, so the three never disagree.
Beyond what loading checks (YAML, the schema, references between files), the base is checked
against the code: every message some module declares with :func:`bot.declare.msg` (read from
the source by :func:`bot.declare.scan`, so python-telegram-bot is never imported), and the
brain's composers and placeholders (:func:`bot.brain.check_brain`).

Slow (a few hundred milliseconds): call it from a worker thread in the running bot.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bot.knowledge import KnowledgeBase, KnowledgeError, Problem, default_knowledge_dir


@functools.cache
def _declarations() -> tuple[frozenset[str], tuple[Problem, ...]]:
    from bot.declare import scan

    found = scan()
    return frozenset(found.messages), tuple(found.problems)


def required_messages() -> frozenset[str]:
    """Every message key the bot's modules declare (the source does not change while the
    process runs, so it is read once)."""
    return _declarations()[0]


def problems(kb: KnowledgeBase) -> list[Problem]:
    """What is wrong between ``kb`` and the code, as ``file:line: problem``."""
    from bot.brain import check_brain

    messages, in_source = _declarations()
    return [*in_source, *check_brain(kb, messages)]


def checked_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """Load the knowledge folder (``directory``, else ASEM_KNOWLEDGE_DIR or the installed one;
    never the brain cache) and check it. Raises :class:`KnowledgeError` with every problem."""
    from bot.knowledge import load_knowledge

    kb = load_knowledge(Path(directory) if directory is not None else default_knowledge_dir())
    found = problems(kb)
    if found:
        raise KnowledgeError(found)
    return kb
