"""Smoke test of the container image: build it, run it against the fake Bot API, check it.

    .venv/bin/python scripts/smoke_image.py [--engine podman|docker] [--base-image IMAGE]
        [--ca-bundle FILE] [--compose 'docker compose'] [--no-cache | --no-build] [--keep]

It builds the image from a copy of the work tree with decoys planted beside the real files (a
`.env`, a token file, a database, a venv, caches, each holding a random canary), then runs the
image the way the README's `docker run` does, token file mounted as a secret, against the fake
Bot API server of the tests (tests/fakes/bot_api.py, on 127.0.0.1; the container shares the
host's network to reach it), and checks, printing one line per check:

- the image: a numeric user, tini as PID 1, the HEALTHCHECK kept, no secret in its env or
  history, no canary and no decoy in any layer, the installed package exactly the tracked files;
- the bot answers a question; `asem-bot health` and the engine's own health check pass while it
  runs, fail once its loop is frozen (SIGSTOP: the heartbeat goes stale) and pass again after;
  `asem-bot health` fails too while the loop runs but every getUpdates fails (a wedged bot),
  and passes again once polling works;
- `stop` returns within 10 s with exit 0, while running and while still starting up;
- the /data volume survives: a new container finds the first one's question log;
- the token is in no log, in neither container's file system, and not in the volume;
- with --compose: compose.yaml, as it is, starts the bot with the token as a secret.

It ends with "N passed, N failed" and exits 1 if any check failed. Needs podman or docker and
the dev venv (for the fake server); takes 5-6 minutes, most of it waiting for the heartbeat to
go stale and for the wedged bot to be reported. On a machine without registry access, build a
base first and pass it with --base-image (see the README's Docker section).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from fakes.bot_api import FakeBotApi  # noqa: E402  (the tests' fake, not an installed package)

IMAGE = "localhost/asem-bot:smoke"
USER = "10001:10001"
SECRET_PATH = "/run/secrets/telegram_token"
STOP_LIMIT = 10.0  # docker stop's default grace period
STALE_WITHIN = 130.0  # heartbeat every 30 s, stale after 90 s: unhealthy within 120 s
STUCK_WITHIN = 130.0  # no successful getUpdates for 90 s: unhealthy at the next heartbeat
RECOVER_WITHIN = 120.0  # PTB's polling backs off; then the next heartbeat
QUESTION = "Where was ASEM5 held?"
EXPECTED = "Hanoi"
# Files a careless build context would carry into the image; each holds the canary.
DECOYS = (
    ".env",
    "bot/.env",
    "secrets/telegram_token",
    "knowledge/telegram_token",
    "data/asem-bot.sqlite3",
    "bot/data/heartbeat",
    ".venv/lib/python3.11/site-packages/decoy.py",
    "bot/__pycache__/decoy.cpython-311.pyc",
    "bot/nlu/.mypy_cache/decoy.json",
    "knowledge/.pytest_cache/decoy",
    ".git/config",
    "tests/.hypothesis/decoy",
)


class Smoke:
    """Runs the engine, counts the checks and remembers what to clean up."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.passed = 0
        self.failed = 0
        self.containers: list[str] = []
        self.volumes: list[str] = []

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = True, binary: bool = False
    ) -> subprocess.CompletedProcess[Any]:
        result = subprocess.run(
            [self.engine, *args],
            capture_output=True,
            text=not binary,
            timeout=timeout,
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
        )
        if check and result.returncode != 0:
            stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
            raise RuntimeError(f"{self.engine} {' '.join(args[:3])}...: {_quiet(stderr)[-2000:]}")
        return result

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    def info(self, name: str, detail: str) -> None:
        """A figure to report, not a check."""
        print(f"info {name}: {detail}", flush=True)

    def inspect(self, what: str, name: str) -> Any:
        return json.loads(self("inspect", "--type", what, name).stdout)[0]

    def logs(self, name: str) -> str:
        result = self("logs", name, check=False)
        return _quiet(result.stdout + result.stderr)

    def cleanup(self) -> None:
        for name in self.containers:
            self("rm", "-f", name, check=False)
        for name in self.volumes:
            self("volume", "rm", "-f", name, check=False)


def _quiet(text: str) -> str:
    """Without podman's complaint that it has no systemd to schedule health checks with."""
    return "\n".join(line for line in text.splitlines() if "systemd" not in line)


# -- the build ------------------------------------------------------------------------------------


def build_context(target: Path, canary: str) -> None:
    """The tracked (and new, not ignored) files of the work tree, plus the decoys."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name in DECOYS:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(f"TELEGRAM_BOT_TOKEN={canary}\n")


def build(smoke: Smoke, args: argparse.Namespace, canary: str) -> None:
    with tempfile.TemporaryDirectory(prefix="asem-smoke-context-") as context:
        build_context(Path(context), canary)
        command = ["build", "-t", args.image, *(["--no-cache"] if args.no_cache else [])]
        if smoke.engine.endswith("podman"):
            command += ["--format", "docker", "--network", "host"]  # keep HEALTHCHECK
            if args.ca_bundle:  # mounted for the build only, never copied into a layer
                command += ["-v", f"{args.ca_bundle}:/etc/ssl/certs/ca-certificates.crt:ro"]
        if args.base_image:
            command += ["--build-arg", f"BASE_IMAGE={args.base_image}"]
        started = time.monotonic()
        smoke(*command, context, timeout=1800)
        smoke.check("image built", True, f"{args.image} in {time.monotonic() - started:.0f} s")


def check_image(smoke: Smoke, image: str, canary: str) -> None:
    inspected = smoke.inspect("image", image)
    config = inspected["Config"]
    history = smoke("history", "--format", "{{.Size}}\t{{.CreatedBy}}", image).stdout
    layers = [line.split("\t", 1) for line in history.splitlines() if "\t" in line]
    sizes = ", ".join(f"{size} {made[:40].strip()!r}" for size, made in layers if _bytes(size))
    smoke.info("image size", f"{inspected['Size'] / 1e6:.0f} MB: {sizes}")
    smoke.check("numeric user", config.get("User") == USER, f"User={config.get('User')!r}")
    entrypoint = config.get("Entrypoint") or []
    smoke.check("tini is PID 1", "tini" in " ".join(entrypoint), " ".join(entrypoint))
    # docker keeps it in Config; podman shows it beside Config
    health = (config.get("Healthcheck") or inspected.get("Healthcheck") or {}).get("Test") or []
    smoke.check(
        "HEALTHCHECK kept", health[1:] == ["asem-bot", "health"], " ".join(health) or "none"
    )
    env = config.get("Env") or []
    leaked = [v.split("=")[0] for v in env if "TOKEN=" in v or "SECRET" in v or canary in v]
    smoke.check("no secret in the image's env", not leaked, ", ".join(leaked) or f"{len(env)} set")
    history = smoke("history", "--no-trunc", image).stdout
    smoke.check(
        "no secret in the image's history", canary not in history and "TOKEN=" not in history
    )
    with tempfile.TemporaryDirectory(prefix="asem-smoke-save-") as folder:
        archive = Path(folder) / "image.tar"
        smoke("save", "-o", str(archive), image, timeout=600)
        layers, files, hits, package = scan_layers(archive, canary.encode())
    smoke.check(
        "no canary in any layer",
        not hits,
        ", ".join(hits[:5]) or f"{files} files in {layers} layers read",
    )
    expected = tracked_package_files()
    extra = sorted(package - expected)
    missing = sorted(expected - package)
    smoke.check(
        "installed package is the tracked files, no more, no less",
        not extra and not missing,
        f"extra {extra[:5]}, missing {missing[:5]}" if extra or missing else f"{len(package)}",
    )


def _bytes(size: str) -> float:
    """'47.9 MB' or '47.9MB' (as `history` prints sizes) in bytes; 0 if unreadable."""
    match = re.fullmatch(r"([\d.]+)\s*([kKMG]?B)", size.strip())
    scale = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9}
    return float(match[1]) * scale[match[2]] if match else 0.0


def scan_layers(archive: Path, needle: bytes) -> tuple[int, int, list[str], set[str]]:
    """(layers, files, paths holding ``needle``, the bot package's files) of a saved image."""
    layers = files = 0
    hits: list[str] = []
    package: set[str] = set()
    marker = "site-packages/bot/"
    with tarfile.open(archive) as outer:
        for member in outer:
            if not member.isfile():
                continue
            blob = outer.extractfile(member)
            assert blob is not None
            data = blob.read()
            if not tarfile.is_tarfile(io.BytesIO(data)):  # the manifest and config JSON
                if needle in data:
                    hits.append(member.name)
                continue
            layers += 1
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as layer:
                for item in layer:
                    if not item.isfile():
                        continue
                    files += 1
                    content = layer.extractfile(item)
                    if content is not None and needle in content.read():
                        hits.append(item.name)
                    if marker in item.name and "__pycache__" not in item.name:
                        package.add(item.name.split(marker, 1)[1])
    return layers, files, hits, package


def tracked_package_files() -> set[str]:
    """What the wheel should hold: bot/ as tracked, knowledge/ as bot/_knowledge/."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "bot", "knowledge"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        name.removeprefix("bot/") if name.startswith("bot/") else "_knowledge/" + name[10:]
        for name in listed
    }


# -- running --------------------------------------------------------------------------------------


def run_bot(
    smoke: Smoke, name: str, image: str, token_file: Path, volume: str, base_url: str
) -> None:
    """The README's `docker run`, plus what a test needs: the host's network (the fake listens on
    127.0.0.1) and the fake's address."""
    readme = [
        "run", "-d", "--name", name, "--restart", "unless-stopped",
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "-v", f"{token_file}:{SECRET_PATH}:ro",
        "-e", f"TELEGRAM_BOT_TOKEN_FILE={SECRET_PATH}",
        "-v", f"{volume}:/data",
    ]  # fmt: skip
    for_the_test = [
        "--network", "host",
        "-e", f"TELEGRAM_API_BASE_URL={base_url}",
        "-e", "NO_PROXY=127.0.0.1,localhost",
    ]  # fmt: skip
    smoke.containers.append(name)
    smoke(*readme, *for_the_test, image)


def ask(api: FakeBotApi, chat_id: int, text: str, timeout: float = 60) -> str:
    mark = api.mark()
    api.send_text(chat_id, text)
    message = asyncio.run(api.wait_for_message(chat_id, timeout=timeout, after=mark))
    return str(message.get("text", ""))


def wait_until(condition: Callable[[], bool], timeout: float, every: float = 2.0) -> float | None:
    """Seconds until ``condition()`` held, or None if it did not within ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    return None


def health(smoke: Smoke, name: str) -> tuple[bool, str]:
    """The image's own health command, run in the container."""
    result = smoke("exec", name, "asem-bot", "health", check=False, timeout=30)
    return result.returncode == 0, (result.stdout + _quiet(result.stderr)).strip()


def engine_health(smoke: Smoke, name: str) -> tuple[bool, str]:
    """What the engine says: podman runs the HEALTHCHECK on demand; docker on its schedule."""
    if smoke.engine.endswith("podman"):
        result = smoke("healthcheck", "run", name, check=False, timeout=30)
        return result.returncode == 0, (result.stdout.strip() or "healthy")
    status = (smoke.inspect("container", name)["State"].get("Health") or {}).get("Status")
    return status == "healthy", str(status)


def signal_bot(smoke: Smoke, name: str, signal: str) -> None:
    """Send ``signal`` to the bot, the child of tini (PID 1)."""
    smoke("exec", name, "sh", "-c", f"kill -{signal} $(cat /proc/1/task/1/children)")


def stop(smoke: Smoke, name: str, what: str) -> None:
    started = time.monotonic()
    smoke("stop", "-t", str(int(STOP_LIMIT)), name, timeout=60)
    took = time.monotonic() - started
    code = smoke.inspect("container", name)["State"]["ExitCode"]
    smoke.check(
        f"stop {what} within {STOP_LIMIT:.0f} s, exit 0",
        took < STOP_LIMIT and code == 0,
        f"{took:.1f} s, exit {code}",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def no_secret_in(smoke: Smoke, what: str, text: bytes, token: str) -> None:
    secret = token.split(":", 1)[1].encode()
    smoke.check(f"token not in {what}", secret not in text, f"{len(text)} bytes read")


@contextlib.contextmanager
def token_file(token: str) -> Iterator[Path]:
    """The token in a file only the container's user can read (as root; else world-readable
    in a private folder)."""
    with tempfile.TemporaryDirectory(prefix="asem-smoke-secret-") as folder:
        path = Path(folder) / "telegram_token"
        path.write_text(token + "\n")
        if os.geteuid() == 0:
            os.chown(path, 10001, 10001)
            path.chmod(0o400)
        else:
            path.chmod(0o444)
        yield path


def smoke_run(smoke: Smoke, image: str) -> None:
    token = f"{secrets.randbelow(10**9) + 10**8}:{secrets.token_urlsafe(27)}"
    tag = secrets.token_hex(3)
    volume = f"asem-smoke-data-{tag}"
    smoke.volumes.append(volume)
    with FakeBotApi(token=token) as api, token_file(token) as secret:
        first, second, starting = (f"asem-smoke-{n}-{tag}" for n in ("1", "2", "start"))
        run_bot(smoke, first, image, secret, volume, api.base_url)
        # deleteWebhook is the last call before polling starts (a long poll is recorded only
        # when it returns).
        ready = wait_until(lambda: bool(api.calls("deleteWebhook")), 60, 0.2)
        smoke.check("bot started", ready is not None, f"polling after {ready or 0:.1f} s")
        if ready is None:
            print(smoke.logs(first)[-3000:])
            return
        reply = ask(api, 4242, QUESTION)
        smoke.check("answers a question", EXPECTED in reply, f"{QUESTION!r} -> {reply[:60]!r}")
        ask(api, 4242, "what is the weather in paris tomorrow")  # declined: its text is logged
        pid1 = smoke("exec", first, "cat", "/proc/1/comm").stdout.strip()
        uid = smoke("exec", first, "id", "-u").stdout.strip()
        smoke.check(
            "runs as 10001 under tini", pid1 == "tini" and uid == "10001", f"{pid1}, {uid}"
        )

        ok, said = health(smoke, first)
        smoke.check("health passes while running", ok, said)
        ok, said = engine_health(smoke, first)
        smoke.check("engine health check passes", ok, said)
        signal_bot(smoke, first, "STOP")
        frozen = time.monotonic()
        stale = wait_until(lambda: not health(smoke, first)[0], STALE_WITHIN, 5)
        smoke.check(
            "health fails when the loop is stopped",
            stale is not None,
            f"after {stale or time.monotonic() - frozen:.0f} s: {health(smoke, first)[1]}",
        )
        ok, said = engine_health(smoke, first)
        smoke.check("engine health check fails too", not ok, said)
        signal_bot(smoke, first, "CONT")
        back = wait_until(lambda: health(smoke, first)[0], 60, 2)
        smoke.check("health passes again after", back is not None, f"after {back or 0:.0f} s")
        reply = ask(api, 4243, QUESTION)
        smoke.check("answers after the pause", EXPECTED in reply)
        stop(smoke, first, "while running")
        logs_first = smoke.logs(first)
        exported = smoke("export", first, binary=True, timeout=300).stdout
        no_secret_in(smoke, "the first container's file system", exported, token)
        smoke("rm", first)

        run_bot(smoke, second, image, secret, volume, api.base_url)
        mark = api.mark()
        ready = wait_until(lambda: bool(api.calls("deleteWebhook", after=mark)), 60, 0.2)
        reply = ask(api, 4244, QUESTION) if ready is not None else ""
        smoke.check("a new container on the volume answers", EXPECTED in reply)
        stop(smoke, second, "again")
        stats = smoke(
            "run", "--rm", "-v", f"{volume}:/data", image, "asem-bot", "stats", "--json"
        ).stdout
        questions = json.loads(stats)["questions"]
        smoke.check("the volume kept the first container's log", questions >= 4, f"{questions}")
        volume_tar = smoke(
            "run", "--rm", "-v", f"{volume}:/data", "--entrypoint", "tar", image,
            "-C", "/data", "-cf", "-", ".",
            binary=True,
        ).stdout  # fmt: skip
        no_secret_in(smoke, "the volume", volume_tar, token)
        logs = logs_first + smoke.logs(second)

        # Wedged: the loop runs, but every getUpdates fails, so nothing comes in.
        wedged = f"asem-smoke-wedged-{tag}"
        mark = api.mark()
        run_bot(smoke, wedged, image, secret, volume, api.base_url)
        ready = wait_until(lambda: bool(api.calls("deleteWebhook", after=mark)), 60, 0.2)
        reply = ask(api, 4246, QUESTION) if ready is not None else ""
        api.inject_faults("getUpdates", 1.0, kinds=("502",))
        stuck = wait_until(lambda: not health(smoke, wedged)[0], STUCK_WITHIN, 5)
        smoke.check(
            "health fails when polling makes no progress (every getUpdates 502)",
            EXPECTED in reply and stuck is not None,
            f"after {stuck if stuck is not None else STUCK_WITHIN:.0f} s: "
            f"{health(smoke, wedged)[1]}",
        )
        api.inject_faults("getUpdates", 0)
        back = wait_until(lambda: health(smoke, wedged)[0], RECOVER_WITHIN, 2)
        reply = ask(api, 4247, QUESTION) if back is not None else ""
        smoke.check(
            "health passes and it answers again once polling works",
            back is not None and EXPECTED in reply,
            f"after {back if back is not None else RECOVER_WITHIN:.0f} s",
        )
        stop(smoke, wedged, "after the wedge")
        wedged_logs = smoke.logs(wedged)  # its polling errors are expected: secrets only

        # Stopped while it is still trying to reach Telegram (nothing listens there).
        run_bot(smoke, starting, image, secret, volume, f"http://127.0.0.1:{free_port()}/bot")
        retrying = wait_until(lambda: "retrying" in smoke.logs(starting), 30, 0.5)
        smoke.check("start-up retries seen", retrying is not None)
        stop(smoke, starting, "during start-up")
        logs += smoke.logs(starting)
    no_secret_in(smoke, "the logs", (logs + wedged_logs).encode(), token)
    lines = [line for line in logs.splitlines() if " ERROR " in line or "Traceback" in line]
    smoke.check("no error in the logs", not lines, "; ".join(lines[:3]))


def smoke_compose(smoke: Smoke, compose: list[str], image: str) -> None:
    """compose.yaml as it is, with an override that only adds what a test needs: this image,
    the host's network and the fake's address."""
    token = f"{secrets.randbelow(10**9) + 10**8}:{secrets.token_urlsafe(27)}"
    project = f"asem-smoke-compose-{secrets.token_hex(3)}"
    with (
        FakeBotApi(token=token) as api,
        token_file(token) as secret,
        tempfile.TemporaryDirectory(prefix="asem-smoke-compose-") as folder,
    ):
        shutil.copy(REPO / "compose.yaml", folder)
        shutil.copy2(secret, Path(folder) / "telegram_token")
        with contextlib.suppress(PermissionError):
            os.chown(Path(folder) / "telegram_token", 10001, 10001)
        (Path(folder) / "override.yaml").write_text(
            "services:\n  asem-bot:\n"
            f"    image: {image}\n    network_mode: host\n    environment:\n"
            f"      TELEGRAM_API_BASE_URL: {api.base_url}\n      NO_PROXY: 127.0.0.1,localhost\n"
        )
        files = ["-p", project, "-f", "compose.yaml", "-f", "override.yaml"]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*compose, *files, *args], cwd=folder, capture_output=True, text=True, timeout=300
            )

        try:
            up = run("up", "-d")
            smoke.check("compose up", up.returncode == 0, _quiet(up.stderr)[-300:])
            ready = wait_until(lambda: bool(api.calls("deleteWebhook")), 60, 0.2)
            reply = ask(api, 4245, QUESTION) if ready is not None else ""
            smoke.check("compose: answers with the token as a secret", EXPECTED in reply)
            names = smoke(
                "ps", "-a", "--filter", f"label=com.docker.compose.project={project}",
                "--format", "{{.Names}}",
            ).stdout.split()  # fmt: skip
            if names:
                host = smoke.inspect("container", names[0])["HostConfig"]
                smoke.check(
                    "compose: read-only, no new privileges",
                    host.get("ReadonlyRootfs") is True
                    and any("no-new-privileges" in o for o in host.get("SecurityOpt") or []),
                )
                stop(smoke, names[0], "the compose service")
                logs = smoke.logs(names[0])
                no_secret_in(smoke, "the compose service's logs", logs.encode(), token)
        finally:
            run("down", "-v")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engine",
        default=os.environ.get("CONTAINER_ENGINE") or shutil.which("podman") or "docker",
    )
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--base-image", help="passed as --build-arg BASE_IMAGE")
    parser.add_argument(
        "--ca-bundle", help="podman: a CA bundle to mount for the build (TLS interception)"
    )
    parser.add_argument("--no-build", action="store_true", help="use the --image as it is")
    parser.add_argument("--no-cache", action="store_true", help="build every layer anew")
    parser.add_argument("--keep", action="store_true", help="leave containers and volume")
    parser.add_argument(
        "--compose",
        help="also run compose.yaml with this command, e.g. 'docker compose' or podman-compose",
    )
    args = parser.parse_args(argv)
    smoke = Smoke(args.engine)
    canary = "asem-smoke-canary-" + secrets.token_hex(16)
    print(f"engine: {args.engine}; image: {args.image}; base: {args.base_image or 'default'}")
    try:
        if not args.no_build:
            build(smoke, args, canary)
        check_image(smoke, args.image, canary)
        smoke_run(smoke, args.image)
        if args.compose:
            smoke_compose(smoke, args.compose.split(), args.image)
    except (RuntimeError, subprocess.TimeoutExpired, AssertionError) as exc:
        smoke.check("smoke run completed", False, str(exc)[:2000])
    finally:
        if not args.keep:
            smoke.cleanup()
    print(f"smoke: {smoke.passed} passed, {smoke.failed} failed")
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
