"""Where the knowledge base is: ``$ASEM_KNOWLEDGE_DIR``, the wheel's copy, or the source tree."""

from __future__ import annotations

import os
from pathlib import Path

ENV_KNOWLEDGE_DIR = "ASEM_KNOWLEDGE_DIR"


def default_knowledge_dir() -> Path:
    """``$ASEM_KNOWLEDGE_DIR``, else the copy shipped in the wheel, else the source tree's."""
    configured = os.environ.get(ENV_KNOWLEDGE_DIR, "").strip()
    if configured:
        return Path(configured).expanduser()
    packaged = Path(__file__).resolve().parent.parent / "_knowledge"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "knowledge"
