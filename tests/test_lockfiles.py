"""The lock files pin everything pyproject.toml asks for, with hashes, and the image uses them.

The locks are made by ``scripts/lock.sh``; these checks keep them in step with pyproject.toml
(a dependency added there and not locked fails here, not in the image build) and keep the
Dockerfile's promises (a base pinned by digest, hashed installs, a numeric user).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(name: str) -> dict[str, str]:
    """{package: version} of a lock file; fails on any line that is not hashed."""
    text = (LOCKS / name).read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = PIN.match(block)
        if match is None:
            assert block.startswith("#") or not block.strip(), f"{name}: unpinned {block!r}"
            continue
        assert "--hash=sha256:" in block, f"{name}: {match[1]} has no hash"
        found[canonicalize_name(match[1])] = match[2]
    return found


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def assert_locked(requirements: list[str], locked: dict[str, str], lock: str) -> None:
    for line in requirements:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in {lock}: run scripts/lock.sh"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock} pins {name}=={locked[name]}, outside {requirement}: run scripts/lock.sh"
        )


def test_runtime_dependencies_are_locked_with_hashes() -> None:
    assert_locked(project()["project"]["dependencies"], pins("run.txt"), "run.txt")


def test_dev_lock_has_the_dev_extras_and_the_same_runtime_pins() -> None:
    dev = pins("dev.txt")
    meta = project()
    assert_locked(meta["project"]["optional-dependencies"]["dev"], dev, "dev.txt")
    assert_locked(meta["build-system"]["requires"], dev, "dev.txt")  # for `pip install -e .`
    different = {k: (v, dev.get(k)) for k, v in pins("run.txt").items() if dev.get(k) != v}
    assert different == {}, "dev.txt must pin what run.txt pins: run scripts/lock.sh"


def test_build_lock_has_the_build_backend() -> None:
    assert_locked(project()["build-system"]["requires"], pins("build.txt"), "build.txt")


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_image_base_is_pinned_by_digest_and_replaceable(dockerfile: str) -> None:
    [default] = re.findall(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.M)
    assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", default), default
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["${BASE_IMAGE}", "${BASE_IMAGE}"]


def test_image_installs_from_the_locks_with_hashes(dockerfile: str) -> None:
    installs = [line for line in dockerfile.splitlines() if re.search(r"\binstall\b", line)]
    assert installs
    for lock in ("run.txt", "build.txt"):
        assert re.search(rf"--require-hashes[^#]*?-r /src/requirements/{lock}", dockerfile, re.S)
    assert "--no-deps /tmp/dist/" in dockerfile  # the bot itself, on top of the lock


def test_image_runs_as_a_numeric_user_under_an_init(dockerfile: str) -> None:
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and all(re.fullmatch(r"\d+(:\d+)?", user) for user in users), users
    assert re.search(r'^ENTRYPOINT \["/usr/bin/tini"', dockerfile, re.M)


def test_dockerignore_lets_in_only_what_the_image_is_built_from(dockerfile: str) -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "leave everything out first, then let files back in"
    let_in = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        source
        for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M)
        for source in line.split()[:-1]
    }
    assert copied == let_in
    for pattern in (".venv", ".git", "__pycache__", "data", ".env", "secrets", ".pytest_cache"):
        assert f"**/{pattern}" in lines, pattern
