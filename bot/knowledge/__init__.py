"""The ASEM fact base: typed records loaded and validated from ``knowledge/*.yaml``."""

from bot.knowledge.base import KnowledgeBase, MeetingRef
from bot.knowledge.loader import KnowledgeError, default_knowledge_dir, load_knowledge
from bot.knowledge.yamlfile import Problem

__all__ = [
    "KnowledgeBase",
    "KnowledgeError",
    "MeetingRef",
    "Problem",
    "default_knowledge_dir",
    "load_knowledge",
]
