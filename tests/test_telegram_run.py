"""Running the bot: ``asem-bot run`` as a user would, webhook mode, the health check, and the
token kept out of every log line."""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import bot_settings

from bot.brain import Brain
from bot.channels.telegram import feedback
from bot.channels.telegram.app import build_application, webhook_options
from bot.channels.telegram.heartbeat import write_heartbeat
from bot.channels.telegram.logs import TokenFilter, configure_logging
from bot.storage import Storage

try:
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

USER = 801
OTHER_TOKEN = "654321:ANOTHER-token_abcdefghijklmnopqrstuvwxyz"


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ASEM_"))
    }
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        ASEM_DATA_DIR=str(tmp_path / "data"),
        PYTHONWARNINGS="ignore::DeprecationWarning",
        **extra,
    )
    return env


def asem_bot(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_clean_line(result: subprocess.CompletedProcess, secret: str = "") -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if secret:
        assert secret not in result.stderr + result.stdout
    return lines[0]


# -- the command line ------------------------------------------------------------------------


def test_missing_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = asem_bot("run", env=cli_env(tmp_path))
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in one_clean_line(result)


def test_malformed_token_is_one_line_and_not_printed(tmp_path: Path) -> None:
    token = "12345:tooshort_secret"
    result = asem_bot("run", env=cli_env(tmp_path, TELEGRAM_BOT_TOKEN=token))
    assert result.returncode == 2
    assert "malformed" in one_clean_line(result, secret="tooshort_secret")


def test_unreadable_token_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-secret"
    result = asem_bot("run", env=cli_env(tmp_path, TELEGRAM_BOT_TOKEN_FILE=str(missing)))
    assert result.returncode == 2
    assert str(missing) in one_clean_line(result)


def test_refused_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """getMe answers 401: PTB raises InvalidToken; without arguments `asem-bot` runs the bot."""
    with FakeBotApi() as api:
        env = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=OTHER_TOKEN, TELEGRAM_API_BASE_URL=api.base_url)
        for args in (["run"], []):
            result = asem_bot(*args, env=env)
            assert result.returncode == 2, result.stderr
            assert "refused" in one_clean_line(result, secret=OTHER_TOKEN.split(":")[1])
        assert {call.status for call in api.calls("getMe")} == {401}


def test_run_refuses_a_knowledge_base_that_validate_refuses(tmp_path: Path) -> None:
    """An unclosed <b> in the welcome: Telegram would refuse every /start."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(Path(__file__).resolve().parents[1] / "knowledge", knowledge)
    messages = knowledge / "messages.yaml"
    text = messages.read_text(encoding="utf-8")
    welcome = text.index("  welcome:")
    messages.write_text(text[:welcome] + text[welcome:].replace("<b>", "<b><b>", 1), "utf-8")
    with FakeBotApi() as api:
        env = cli_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            ASEM_KNOWLEDGE_DIR=str(knowledge),
        )
        validated = asem_bot("validate", env=env)
        assert validated.returncode == 1 and "welcome: <b> is never closed" in validated.stdout
        result = asem_bot("run", env=env)
        assert result.returncode == 1, result.stderr
        assert "welcome: <b> is never closed" in result.stderr
        assert "Traceback" not in result.stderr
        assert not api.calls(("getUpdates", "deleteWebhook", "setWebhook", "setMyCommands"))


def test_one_server_error_in_each_start_up_call_is_retried(tmp_path: Path) -> None:
    """getMe, deleteWebhook, setMyCommands... each answer 500 once: the bot starts all the
    same, and in webhook mode setWebhook too."""
    port = free_port()
    for webhook in (False, True):
        with FakeBotApi() as api:
            for method in ("getMe", "deleteWebhook", "setWebhook", "setMyCommands",
                           "setMyDescription"):  # fmt: skip
                api.fail_next(method, status=500)
            extra = {"ASEM_LOG_LEVEL": "INFO"}
            if webhook:
                extra |= {
                    "ASEM_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
                    "ASEM_WEBHOOK_LISTEN": "127.0.0.1",
                    "ASEM_WEBHOOK_PORT": str(port),
                }
            env = cli_env(
                tmp_path, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url, **extra
            )
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                started = "setWebhook" if webhook else "getUpdates"
                api.wait_for_sync(started, lambda call: call.ok, timeout=60)
                api.send_text(USER, "/start")
                api.wait_for_sync("sendMessage", timeout=20)
                assert api.commands({"type": "all_private_chats"})
                process.send_signal(signal.SIGTERM)
                _, stderr = process.communicate(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
            assert process.returncode == 0, stderr
            assert "Traceback" not in stderr
            failed = {call.method for call in api.calls() if call.status == 500}
            assert failed == {"getMe", "setMyCommands", "setMyDescription"} | (
                {"setWebhook"} if webhook else {"deleteWebhook"}
            )


def test_run_help_lists_every_variable(tmp_path: Path) -> None:
    from bot.config import VARIABLES

    result = asem_bot("run", "--help", env=cli_env(tmp_path))
    assert result.returncode == 0
    for name, default, _ in VARIABLES:
        assert name in result.stdout and default in result.stdout


def test_health(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert asem_bot("health", env=env).returncode == 1  # no heartbeat yet
    data = tmp_path / "data"
    data.mkdir()
    write_heartbeat(data, time.time() - 200)
    assert asem_bot("health", env=env).returncode == 1  # stale
    write_heartbeat(data)
    assert asem_bot("health", env=env).returncode == 0


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[tuple[FakeBotApi, subprocess.Popen[str]]]:
    """``asem-bot run`` in a subprocess against a fake server, at DEBUG level."""
    with FakeBotApi() as api:
        env = cli_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            ASEM_LOG_LEVEL="DEBUG",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield api, process
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert api.errors == []


def test_run_answers_writes_heartbeat_and_stops_on_sigterm(
    running_bot: tuple[FakeBotApi, subprocess.Popen[str]], tmp_path: Path
) -> None:
    api, process = running_bot
    api.wait_for_sync("deleteWebhook", timeout=30)  # polling starts next
    api.send_text(USER, "/start")
    api.wait_for_sync("sendMessage", timeout=10)
    assert "ASEM" in api.sent_messages(USER)[0]["text"]
    assert api.commands({"type": "all_private_chats"})
    assert asem_bot("health", env=cli_env(tmp_path)).returncode == 0
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert api.token not in stderr + stdout
    assert api.token.split(":")[1] not in stderr + stdout
    assert "ready" in stderr  # it did log, at DEBUG, and still no token


# -- logging -------------------------------------------------------------------------------------


def test_token_filter_masks_messages_args_and_tracebacks() -> None:
    token = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TokenFilter(token))
    logger = logging.getLogger("test.token")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("url https://api.telegram.org/bot%s/getMe", token)
        logger.warning("encoded %s", token.replace(":", "%3A"))
        try:
            raise ValueError(f"failed at /bot{token}/sendMessage")
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert token.split(":")[1] not in text
    assert "https://api.telegram.org/***/getMe" in text and text.count("***") >= 3


def test_payloads_and_the_webhook_secret_are_left_out_of_every_log_line() -> None:
    """python-telegram-bot's DEBUG lines with parameters, results and updates keep their
    words and lose their payload; the webhook secret is masked like the token."""
    token, secret = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz", "hook-secret_0123456789"
    stream = io.StringIO()
    handler = configure_logging(logging.DEBUG, token, secrets=(secret,), stream=stream)
    bot_log, app_log = logging.getLogger("telegram.Bot"), logging.getLogger("telegram.ext.App")
    try:
        params = {"chat_id": 8137264519, "text": "I am Dara", "secret_token": secret}
        bot_log.debug("Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage", params)
        bot_log.debug(
            "Call to Bot API endpoint `%s` finished with return value `%s`",
            "sendMessage",
            {"chat": {"id": 8137264519}},
        )
        bot_log.critical("Error while parsing updates! Received data was %r", [{"x": "Dara"}])
        app_log.debug("Processing update %s", {"update_id": 42, "message": {"text": "Dara"}})
        app_log.info("the secret is %s", secret)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "Calling Bot API endpoint `sendMessage`" in text and "Processing update 42" in text
    assert "8137264519" not in text and "Dara" not in text and secret not in text
    assert "the secret is ***" in text


async def test_no_token_in_any_log_line_at_debug(
    fake_api: FakeBotApi, brain: Brain, storage: Storage, tmp_path: Path
) -> None:
    stream = io.StringIO()
    httpx_logger = logging.getLogger("httpx")
    old_levels = (logging.getLogger().level, httpx_logger.level)
    handler = configure_logging(logging.DEBUG, fake_api.token, stream=stream)
    httpx_logger.setLevel(logging.DEBUG)  # the worst case: request URLs logged
    try:
        from conftest import running

        settings = bot_settings(fake_api, tmp_path / "data", ASEM_LOG_LEVEL="DEBUG")
        async with running(build_application(settings, brain, storage)):
            fake_api.fail_next("sendMessage", status=500)
            fake_api.send_text(USER, "Where was ASEM5 held?")
            await fake_api.wait_for("sendMessage", count=2)
            fake_api.inline_query("asem")
            await fake_api.wait_for("answerInlineQuery")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(old_levels[0])
        httpx_logger.setLevel(old_levels[1])
    text = stream.getvalue()
    assert "/***/getUpdates" in text and "/***/sendMessage" in text  # URLs logged, masked
    assert fake_api.token not in text
    assert fake_api.token.split(":")[1] not in text


# -- webhook mode --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_right_and_wrong_secret(
    fake_api: FakeBotApi, brain: Brain, storage: Storage, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/asem-hook"
    settings = bot_settings(
        fake_api,
        tmp_path / "data",
        ASEM_WEBHOOK_URL=url,
        ASEM_WEBHOOK_LISTEN="127.0.0.1",
        ASEM_WEBHOOK_PORT=str(port),
        ASEM_WEBHOOK_SECRET="right-secret_42",
    )
    app = build_application(settings, brain, storage)
    async with app:
        assert app.updater is not None
        await app.updater.start_webhook(**webhook_options(settings))
        await app.start()
        try:
            assert fake_api.webhook == {
                "url": url,
                "secret_token": "right-secret_42",
                "max_connections": 40,
                "allowed_updates": feedback.ALLOWED_UPDATES,  # reactions too (👍/👎)
            }
            update = fake_api.send_text(USER, "Where was ASEM5 held?")  # posted with the secret
            answer = await fake_api.wait_for_message(USER)
            assert "Hanoi" in answer["text"]
            forged = {**update, "update_id": update["update_id"] + 1000}
            for secret in ("wrong-secret", None):
                status = await fake_api.post_update_to_webhook_async(url, forged, secret)
                assert status == 403
            mark = fake_api.mark()
            fake_api.send_text(USER, "/about")
            await fake_api.wait_for_message(USER, after=mark)
            assert len(fake_api.sent_messages(USER)) == 2  # nothing for the forged updates
            assert all(status == 200 for _, status in fake_api.webhook_deliveries)
        finally:
            await app.updater.stop()
            await app.stop()
