"""Settings from the environment: defaults, every check, and the token never shown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULT_API_BASE_URL, ConfigError, Settings, mask_token, variables_help

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
SECRET_PART = TOKEN.split(":")[1]


def settings(**env: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **env})


def problems(**env: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    for problem in info.value.problems:
        assert SECRET_PART not in problem
    assert SECRET_PART not in str(info.value)
    return info.value.problems


def test_defaults() -> None:
    s = settings()
    assert s.token == TOKEN
    assert s.api_base_url == DEFAULT_API_BASE_URL
    assert s.base_file_url == "https://api.telegram.org/file/bot"
    assert s.admin_ids == frozenset()
    assert s.data_dir == Path("data") and s.heartbeat_file == Path("data/heartbeat")
    assert s.log_level == "INFO"
    assert s.webhook_url is None and s.webhook_path == ""
    assert s.webhook_listen == "0.0.0.0" and s.webhook_port == 8443
    assert s.rate_limiter is True


def test_every_variable() -> None:
    s = settings(
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot",
        ASEM_ADMIN_IDS="1, 22 333,4444",
        ASEM_DATA_DIR="/srv/asem",
        ASEM_LOG_LEVEL="debug",
        ASEM_WEBHOOK_URL="https://example.org/hooks/asem",
        ASEM_WEBHOOK_SECRET="s3cret_-X",
        ASEM_WEBHOOK_LISTEN="127.0.0.1",
        ASEM_WEBHOOK_PORT="88",
        ASEM_RATE_LIMITER="off",
    )
    assert s.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert s.admin_ids == {1, 22, 333, 4444}
    assert s.data_dir == Path("/srv/asem")
    assert s.log_level == "DEBUG"
    assert s.webhook_path == "hooks/asem"
    assert (s.webhook_secret, s.webhook_secret_generated) == ("s3cret_-X", False)
    assert (s.webhook_listen, s.webhook_port, s.rate_limiter) == ("127.0.0.1", 88, False)


def test_token_file_is_read_and_stripped(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(f"  {TOKEN}\n\n", encoding="utf-8")
    assert Settings.from_env({"TELEGRAM_BOT_TOKEN_FILE": str(path)}).token == TOKEN


def test_token_problems(tmp_path: Path) -> None:
    assert "no bot token" in problems()[0]
    assert "malformed" in problems(TELEGRAM_BOT_TOKEN="123:" + SECRET_PART)[0]
    assert "malformed" in problems(TELEGRAM_BOT_TOKEN="123456:" + "x" * 29)[0]
    assert "malformed" in problems(TELEGRAM_BOT_TOKEN=TOKEN + " extra")[0]
    missing = tmp_path / "missing"
    [problem] = problems(TELEGRAM_BOT_TOKEN_FILE=str(missing))
    assert str(missing) in problem and "cannot read" in problem
    bad_file = tmp_path / "bad"
    bad_file.write_text(SECRET_PART, encoding="utf-8")
    assert "malformed" in problems(TELEGRAM_BOT_TOKEN_FILE=str(bad_file))[0]
    both = problems(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BOT_TOKEN_FILE=str(bad_file))
    assert "not both" in both[0]


def test_one_problem_per_bad_variable() -> None:
    found = problems(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL="api.telegram.org",
        ASEM_ADMIN_IDS="12, bob, 7x",
        ASEM_LOG_LEVEL="LOUD",
        ASEM_WEBHOOK_URL="example.org/hook",
        ASEM_WEBHOOK_SECRET="has space",
        ASEM_WEBHOOK_PORT="99999",
        ASEM_RATE_LIMITER="maybe",
    )
    assert len(found) == 8
    joined = "\n".join(found)
    for word in ("TELEGRAM_API_BASE_URL", "'bob'", "'7x'", "ASEM_LOG_LEVEL", "ASEM_WEBHOOK_URL",
                 "ASEM_WEBHOOK_SECRET", "ASEM_WEBHOOK_PORT", "ASEM_RATE_LIMITER"):  # fmt: skip
        assert word in joined


@pytest.mark.parametrize("port", ["0", "-1", "65536", "http", "80.5"])
def test_bad_ports(port: str) -> None:
    assert "ASEM_WEBHOOK_PORT" in problems(TELEGRAM_BOT_TOKEN=TOKEN, ASEM_WEBHOOK_PORT=port)[0]


def test_secret_is_generated_per_start_when_unset() -> None:
    first, second = settings(), settings()
    assert first.webhook_secret_generated and second.webhook_secret_generated
    assert first.webhook_secret != second.webhook_secret
    assert 1 <= len(first.webhook_secret) <= 256
    assert set(first.webhook_secret) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    )
    assert (
        "ASEM_WEBHOOK_SECRET"
        in problems(TELEGRAM_BOT_TOKEN=TOKEN, ASEM_WEBHOOK_SECRET="x" * 257)[0]
    )


def test_token_and_secret_never_in_repr() -> None:
    s = settings(ASEM_WEBHOOK_SECRET="very-secret-value")
    for text in (repr(s), str(s), f"{s}"):
        assert SECRET_PART not in text and "very-secret-value" not in text
        assert "123456:TE***" in text
    assert mask_token("nocolon") == "***"


def test_settings_are_frozen() -> None:
    s = settings()
    with pytest.raises(AttributeError):
        s.token = "other"  # type: ignore[misc]


def test_no_token_needed_when_not_required() -> None:
    s = Settings.from_env({"ASEM_DATA_DIR": "/x"}, require_token=False)
    assert s.token == "" and s.data_dir == Path("/x")


def test_help_lists_every_variable() -> None:
    text = variables_help()
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_FILE", "TELEGRAM_API_BASE_URL",
                 "ASEM_ADMIN_IDS", "ASEM_DATA_DIR", "ASEM_LOG_LEVEL", "ASEM_WEBHOOK_URL",
                 "ASEM_WEBHOOK_SECRET", "ASEM_WEBHOOK_LISTEN", "ASEM_WEBHOOK_PORT",
                 "ASEM_RATE_LIMITER"):  # fmt: skip
        assert name in text
    assert all(len(line) <= 99 for line in text.splitlines())


def test_campaign_defaults_and_values() -> None:
    s = settings()
    assert s.channel_id is None
    assert s.daily_time == dt.time(9, 0)
    assert s.timezone == ZoneInfo("Asia/Phnom_Penh")
    assert s.log_retention_days == 90
    s = settings(
        ASEM_CHANNEL_ID="@asem_news",
        ASEM_DAILY_TIME="7:30",
        ASEM_TIMEZONE="Europe/Brussels",
        ASEM_LOG_RETENTION_DAYS="30",
    )
    assert (s.channel_id, s.daily_time) == ("@asem_news", dt.time(7, 30))
    assert (s.timezone, s.log_retention_days) == (ZoneInfo("Europe/Brussels"), 30)
    assert settings(ASEM_CHANNEL_ID="-1001234567890").channel_id == -1001234567890


def test_campaign_problems_are_clear() -> None:
    found = problems(
        TELEGRAM_BOT_TOKEN=TOKEN,
        ASEM_CHANNEL_ID="asem news",
        ASEM_DAILY_TIME="25:00",
        ASEM_TIMEZONE="Mars/Olympus_Mons",
        ASEM_LOG_RETENTION_DAYS="0",
    )
    assert len(found) == 4
    joined = "\n".join(found)
    for words in ("ASEM_CHANNEL_ID", "@channelname", "ASEM_DAILY_TIME", "HH:MM", "ASEM_TIMEZONE",
                  "'Mars/Olympus_Mons'", "ASEM_LOG_RETENTION_DAYS", "1-36500"):  # fmt: skip
        assert words in joined


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ASEM_DAILY_TIME", "9"),
        ("ASEM_DAILY_TIME", "09:60"),
        ("ASEM_DAILY_TIME", "9am"),
        ("ASEM_TIMEZONE", "../../etc/passwd"),
        ("ASEM_TIMEZONE", "Asia"),
        ("ASEM_LOG_RETENTION_DAYS", "-5"),
        ("ASEM_LOG_RETENTION_DAYS", "ninety"),
        ("ASEM_LOG_RETENTION_DAYS", "٣"),  # a digit, but not an ASCII one
        ("ASEM_CHANNEL_ID", "@ab"),
        ("ASEM_CHANNEL_ID", "https://t.me/asem"),
    ],
)
def test_bad_campaign_values(name: str, value: str) -> None:
    [problem] = problems(TELEGRAM_BOT_TOKEN=TOKEN, **{name: value})
    assert name in problem


def test_help_lists_the_campaign_variables() -> None:
    text = variables_help()
    for name in ("ASEM_CHANNEL_ID", "ASEM_DAILY_TIME", "ASEM_TIMEZONE", "ASEM_LOG_RETENTION_DAYS"):
        assert name in text
