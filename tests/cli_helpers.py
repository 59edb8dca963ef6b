"""Running the real ``asem-bot`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clean_env(cache_dir: Path) -> dict[str, str]:
    """This environment without any TELEGRAM_ or ASEM_ setting, and a private brain cache."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ASEM_"))}
    return environment | {"ASEM_CACHE_DIR": str(cache_dir), "PYTHONIOENCODING": "utf-8"}


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``asem-bot ARGS`` with ``stdin``; its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
