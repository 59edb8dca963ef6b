"""Shared fixtures: the fake Bot API server, the real brain, storage, and a running bot.

``fake_api`` is a :class:`FakeBotApi` on 127.0.0.1 (port 0). At teardown it fails the test if
the fake itself had an error, if any call was refused with 400 (Telegram would have refused
what the bot sent) unless the test declared it in ``expect.bad_requests``, or if an ERROR was
logged by python-telegram-bot or the bot unless declared in ``expect.log_errors``.

``start_bot(...)`` builds the real Application with :func:`build_application` against the fake
and runs it the way tests should (``async with app`` + ``updater.start_polling`` +
``app.start()``, not ``run_polling``), stopping it cleanly afterwards.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.brain import Brain, default_brain
from bot.channels.telegram import feedback
from bot.channels.telegram.app import FEATURES, build_application
from bot.channels.telegram.runtime import CampaignOptions
from bot.config import Settings
from bot.storage import Storage

try:  # tests/ as a package, or (as now) a plain directory on sys.path
    from tests.fakes.bot_api import FakeBotApi
except ModuleNotFoundError:
    from fakes.bot_api import FakeBotApi

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

# The suite never writes into the home folder: the brain cache of this process and of every
# `asem-bot` it starts goes to a temporary folder. XDG_CACHE_HOME too, because the CLI tests
# drop every ASEM_ variable from the environment they pass on.
TEST_CACHE = Path(tempfile.mkdtemp(prefix="asem-bot-test-cache-"))
os.environ["ASEM_CACHE_DIR"] = str(TEST_CACHE / "asem-bot")
os.environ["XDG_CACHE_HOME"] = str(TEST_CACHE)
atexit.register(shutil.rmtree, TEST_CACHE, ignore_errors=True)


@dataclass
class Expect:
    """What a test declares it provokes on purpose."""

    bad_requests: list[str] = field(default_factory=list)  # regexes on 400 descriptions
    log_errors: list[str] = field(default_factory=list)  # regexes on ERROR log messages


@pytest.fixture
def expect() -> Expect:
    return Expect()


@pytest.fixture
def fake_api(expect: Expect, caplog: pytest.LogCaptureFixture) -> Iterator[FakeBotApi]:
    caplog.set_level(logging.INFO)
    with FakeBotApi() as api:
        yield api
    assert api.errors == [], "the fake Bot API server failed"
    refused = [
        call.summary()
        for call in api.calls()
        if call.status == 400
        and not any(re.search(p, call.description or "", re.I) for p in expect.bad_requests)
    ]
    assert refused == [], "Telegram would have refused these calls"
    errors = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
        and record.name.split(".")[0] in ("telegram", "bot", "asyncio")
        and not any(re.search(p, record.getMessage(), re.I) for p in expect.log_errors)
    ]
    assert errors == [], "unexpected errors were logged"


@pytest.fixture(scope="session")
def brain() -> Brain:
    return default_brain()


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage.open(tmp_path / "data") as opened:
        yield opened


def bot_settings(api: FakeBotApi, data_dir: Path, **env: str) -> Settings:
    """Settings for a bot talking to ``api`` (rate limiter on, as in production)."""
    return Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "ASEM_DATA_DIR": str(data_dir),
            **env,
        }
    )


@contextlib.asynccontextmanager
async def running(app: Application, *, poll_timeout: int = 1) -> AsyncIterator[Application]:
    """Initialise, run post_init, poll and start ``app``; stop it all (and run post_stop)
    on the way out, as ``run_polling`` would."""
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=poll_timeout, allowed_updates=feedback.ALLOWED_UPDATES
        )
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)


StartBot = Callable[..., contextlib.AbstractAsyncContextManager[Application]]


@pytest.fixture
def start_bot(fake_api: FakeBotApi, brain: Brain, storage: Storage, tmp_path: Path) -> StartBot:
    """``async with start_bot() as app:`` runs the real bot against ``fake_api``.

    Keywords: ``storage`` (default: the test's SQLite file; None for none), ``env`` (extra
    environment variables), ``campaign`` (True, or a dict of CampaignOptions such as
    ``clock``: add the campaign's features: the quiz, daily facts and admin commands), and
    anything ``build_application`` takes (``features``, ``read_timeout``...).
    """

    def start(
        *,
        storage: Any = storage,
        env: dict[str, str] | None = None,
        campaign: bool | dict[str, Any] = False,
        **kwargs: Any,
    ):
        settings = bot_settings(fake_api, tmp_path / "data", **(env or {}))
        if campaign:
            options = campaign if isinstance(campaign, dict) else {}
            kwargs["features"] = [*FEATURES, *kwargs.get("features", ())]
            kwargs["campaign"] = CampaignOptions(**options)
        return running(build_application(settings, brain, storage, **kwargs))

    return start
