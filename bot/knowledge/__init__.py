"""The ASEM fact base: typed records loaded and validated from ``knowledge/*.yaml``.

Loading (YAML, validation) is imported only when used, so a process that reuses a cached
brain starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.knowledge.base import KnowledgeBase, MeetingRef
from bot.knowledge.paths import default_knowledge_dir
from bot.knowledge.problems import KnowledgeError, Problem

if TYPE_CHECKING:
    from bot.knowledge.loader import load_knowledge


def __getattr__(name: str) -> Any:
    if name == "load_knowledge":
        from bot.knowledge.loader import load_knowledge

        return load_knowledge
    raise AttributeError(f"module 'bot.knowledge' has no attribute {name!r}")


__all__ = [
    "KnowledgeBase",
    "KnowledgeError",
    "MeetingRef",
    "Problem",
    "default_knowledge_dir",
    "load_knowledge",
]
