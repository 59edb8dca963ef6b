"""The wheel carries the knowledge base; ASEM_KNOWLEDGE_DIR points the bot at another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as `pip install .` builds it, unpacked as an installer would."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
        timeout=300,
    )
    wheel = next(out.glob("asem_bot-*.whl"))
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "bot/_knowledge/meetings.yaml" in names
        assert "bot/_knowledge/README.md" in names
        assert not any(name.startswith(("tests/", "knowledge/")) for name in names)
        archive.extractall(site)
    return site


def run_bot(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "ASEM_KNOWLEDGE_DIR"}
    environment |= {"PYTHONPATH": str(site), "ASEM_CACHE_DIR": str(site.parent / "cache")}
    environment |= env
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=site.parent,  # not the source tree: only the installed copy can be found
    )


def test_installed_bot_finds_its_knowledge_without_configuration(installed: Path) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import bot.knowledge as k; print(k.default_knowledge_dir())"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(installed)},
        cwd=installed.parent,
        check=True,
    )
    assert where.stdout.strip() == str(installed / "bot" / "_knowledge")
    result = run_bot(installed, "validate")
    assert result.returncode == 0, result.stderr
    answer = run_bot(installed, "ask", "where was asem 5 held")
    assert "Hanoi" in answer.stdout


def test_knowledge_dir_from_the_environment(installed: Path, tmp_path: Path) -> None:
    other = tmp_path / "knowledge"
    shutil.copytree(installed / "bot" / "_knowledge", other)
    meetings = other / "meetings.yaml"
    meetings.write_text(
        meetings.read_text(encoding="utf-8").replace("city: hanoi", "city: vientiane", 1),
        encoding="utf-8",
    )
    answer = run_bot(installed, "ask", "where was asem 5 held", ASEM_KNOWLEDGE_DIR=str(other))
    assert "Vientiane" in answer.stdout and "Hanoi" not in answer.stdout
