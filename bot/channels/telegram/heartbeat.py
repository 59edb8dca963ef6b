"""The heartbeat: proof that the bot's event loop is alive and making progress, for Docker's
HEALTHCHECK.

A JobQueue job (see :mod:`bot.channels.telegram.app`) writes the current time to
``$ASEM_DATA_DIR/heartbeat`` every :data:`INTERVAL` seconds, and on a second line what the
inbox reports (:meth:`bot.channels.telegram.inbox.Inbox.progress`, as JSON): when polling last
succeeded, how many updates are in hand and since when, when one was last finished.
``asem-bot health`` (:func:`check`) exits 0 while the time is less than :data:`MAX_AGE` seconds
old and the bot is getting on: a stuck loop stops the job, so the file goes stale; a loop that
runs but cannot poll (every getUpdates fails) or holds updates it never finishes is reported
too. This module imports no Telegram code, so the health check starts fast.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INTERVAL = 30.0
MAX_AGE = 90.0
STUCK_AFTER = 90.0
"""Seconds without a successful poll, or with updates in hand and none finished: unhealthy."""
FILE_NAME = "heartbeat"


def write_heartbeat(
    data_dir: Path, now: float | None = None, progress: Mapping[str, Any] | None = None
) -> None:
    """Record ``now`` (default: the current time) and ``progress`` atomically: no reader sees
    half a file."""
    path = data_dir / FILE_NAME
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    text = f"{time.time() if now is None else now:.3f}\n"
    if progress is not None:
        text += json.dumps(dict(progress), sort_keys=True) + "\n"
    tmp.write_text(text, encoding="ascii")
    os.replace(tmp, path)


def read_heartbeat(data_dir: Path) -> tuple[float, dict[str, Any]] | None:
    """The time of the last heartbeat and its progress, or None if there is none."""
    try:
        lines = (data_dir / FILE_NAME).read_text(encoding="ascii").splitlines()
        beat = float(lines[0].strip())
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None
    progress: dict[str, Any] = {}
    if len(lines) > 1:
        try:
            loaded = json.loads(lines[1])
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            progress = loaded
    return beat, progress


def heartbeat_age(data_dir: Path, now: float | None = None) -> float | None:
    """Seconds since the last heartbeat, or None if there is none or it is unreadable."""
    found = read_heartbeat(data_dir)
    if found is None:
        return None
    return (time.time() if now is None else now) - found[0]


def is_healthy(data_dir: Path, now: float | None = None, max_age: float = MAX_AGE) -> bool:
    return check(data_dir, now, max_age)[0]


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def check(data_dir: Path, now: float | None = None, max_age: float = MAX_AGE) -> tuple[bool, str]:
    """(healthy?, one line saying why) from the heartbeat file."""
    now = time.time() if now is None else now
    found = read_heartbeat(data_dir)
    if found is None:
        return False, f"unhealthy: no heartbeat in {data_dir}"
    beat, progress = found
    age = now - beat
    if not -5.0 <= age < max_age:
        return False, f"unhealthy: the last heartbeat was {age:.0f} s ago"
    polled_at = _seconds(progress.get("polled_at"))
    started_at = _seconds(progress.get("started_at"))
    if progress.get("mode") == "polling":
        since = polled_at if polled_at is not None else started_at
        if since is not None and now - since >= STUCK_AFTER:
            what = "the last successful getUpdates" if polled_at else "the start, no getUpdates"
            return (
                False,
                f"unhealthy: polling makes no progress ({what} was {now - since:.0f} s ago)",
            )
    in_hand = progress.get("in_hand")
    oldest = _seconds(progress.get("oldest_in_hand_at"))
    if isinstance(in_hand, int) and in_hand > 0 and oldest is not None:
        since = max(oldest, _seconds(progress.get("done_at")) or oldest)
        if now - since >= STUCK_AFTER:
            return False, (
                f"unhealthy: {in_hand} update(s) in hand and none finished for {now - since:.0f} s"
            )
    line = f"healthy: the last heartbeat was {age:.0f} s ago"
    skipped = progress.get("skipped")
    if isinstance(skipped, int) and skipped > 0:
        line += f"; {skipped} unreadable update(s) skipped since the start"
    return True, line
