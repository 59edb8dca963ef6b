"""The test suite itself: it leaves the home folder alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_brain_cache_stays_out_of_the_home_folder() -> None:
    from bot.brain import _cache_dir

    assert not _cache_dir().resolve().is_relative_to(Path.home().resolve())
    # A CLI test drops every ASEM_ variable; the `asem-bot` it starts still caches elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASEM_")}
    found = subprocess.run(
        [sys.executable, "-c", "from bot.brain import _cache_dir; print(_cache_dir())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not Path(found).resolve().is_relative_to(Path.home().resolve())
