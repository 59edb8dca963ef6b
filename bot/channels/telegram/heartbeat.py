"""The heartbeat: proof that the bot's event loop is alive, for Docker's HEALTHCHECK.

A JobQueue job (see :mod:`bot.channels.telegram.app`) writes the current time to
``$ASEM_DATA_DIR/heartbeat`` every :data:`INTERVAL` seconds; ``asem-bot health`` exits 0 while
that time is less than :data:`MAX_AGE` seconds old. A stuck loop stops the job, so the file
goes stale and the container is reported unhealthy. This module imports no Telegram code, so
the health check starts fast.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

INTERVAL = 30.0
MAX_AGE = 90.0
FILE_NAME = "heartbeat"


def write_heartbeat(data_dir: Path, now: float | None = None) -> None:
    """Record ``now`` (default: the current time) atomically: no reader sees half a file."""
    path = data_dir / FILE_NAME
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    tmp.write_text(f"{time.time() if now is None else now:.3f}\n", encoding="ascii")
    os.replace(tmp, path)


def heartbeat_age(data_dir: Path, now: float | None = None) -> float | None:
    """Seconds since the last heartbeat, or None if there is none or it is unreadable."""
    try:
        beat = float((data_dir / FILE_NAME).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return (time.time() if now is None else now) - beat


def is_healthy(data_dir: Path, now: float | None = None, max_age: float = MAX_AGE) -> bool:
    age = heartbeat_age(data_dir, now)
    return age is not None and -5.0 <= age < max_age
