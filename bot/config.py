"""Settings for the Telegram bot, read from the environment.

``Settings.from_env(os.environ)`` is a function of the mapping it is given (tests pass a dict),
checks every variable and raises :class:`ConfigError` with one clear line per problem. The
token never appears in a message, an exception or a ``repr``: only its masked form does.

The variables, their defaults and meaning are listed once, in :data:`VARIABLES`, which
``asem-bot run --help`` prints.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
TOKEN_PATTERN = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_DAILY_TIME = dt.time(9, 0)
DEFAULT_TIMEZONE = "Asia/Phnom_Penh"
DEFAULT_LOG_RETENTION_DAYS = 90  # the same as bot.storage.DEFAULT_RETENTION_DAYS
MAX_LOG_RETENTION_DAYS = 36_500
CHANNEL_PATTERN = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
_ON = {"on", "1", "true", "yes"}
_OFF = {"off", "0", "false", "no"}

# (name, default, meaning): what `asem-bot run --help` lists.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("TELEGRAM_BOT_TOKEN", "(none)", "the bot's token from @BotFather"),
    (
        "TELEGRAM_BOT_TOKEN_FILE",
        "(none)",
        "a file holding the token instead (Docker secrets); surrounding whitespace is ignored",
    ),
    (
        "TELEGRAM_API_BASE_URL",
        DEFAULT_API_BASE_URL,
        "Bot API base URL, ending in /bot (a self-hosted Bot API server, or tests)",
    ),
    ("ASEM_ADMIN_IDS", "(none)", "Telegram user ids allowed to run admin commands, e.g. 1,2"),
    ("ASEM_DATA_DIR", "./data", "where the SQLite database and the heartbeat file live"),
    ("ASEM_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    (
        "ASEM_WEBHOOK_URL",
        "(none)",
        "public HTTPS URL Telegram posts updates to (webhook mode); the server listens on "
        "its path; unset: long polling",
    ),
    (
        "ASEM_WEBHOOK_SECRET",
        "(random)",
        "the secret Telegram sends with every webhook request, 1-256 letters, digits, "
        "_ or -; if unset, a random one is made at each start",
    ),
    (
        "ASEM_WEBHOOK_LISTEN",
        "0.0.0.0",
        "address the webhook server listens on; it speaks plain HTTP, for a TLS proxy in front "
        "of it (outside a container: 127.0.0.1)",
    ),
    ("ASEM_WEBHOOK_PORT", "8443", "port the webhook server listens on"),
    (
        "ASEM_RATE_LIMITER",
        "on",
        "keep to Telegram's flood limits and retry after 429; 'off' only for benchmarks",
    ),
    (
        "ASEM_CHANNEL_ID",
        "(none)",
        "a channel that also gets the fact of the day: its numeric id (-100...) or "
        "@channelname; the bot must be an admin there",
    ),
    ("ASEM_DAILY_TIME", "09:00", "when the fact of the day is posted, HH:MM (24 h)"),
    (
        "ASEM_TIMEZONE",
        DEFAULT_TIMEZONE,
        "the IANA time zone of ASEM_DAILY_TIME and of the day's date",
    ),
    (
        "ASEM_LOG_RETENTION_DAYS",
        str(DEFAULT_LOG_RETENTION_DAYS),
        "days the question log, quiz polls and daily-post records are kept",
    ),
    # Read by the knowledge loader and the brain, not by Settings; listed for completeness.
    ("ASEM_KNOWLEDGE_DIR", "(built in)", "another knowledge folder than the installed one"),
    ("ASEM_CACHE_DIR", "~/.cache/asem-bot", "cache of the built understanding index"),
)


class ConfigError(ValueError):
    """The environment does not describe a runnable bot; ``problems`` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def mask_token(token: str) -> str:
    """The bot id and a few characters, enough to tell tokens apart in a log: 123456:AB***."""
    bot_id, sep, secret = token.partition(":")
    if not sep:
        return "***"
    return f"{bot_id}:{secret[:2]}***"


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    admin_ids: frozenset[int] = frozenset()
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    webhook_url: str | None = None
    webhook_secret: str = field(default="", repr=False)
    webhook_secret_generated: bool = False
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    rate_limiter: bool = True
    channel_id: int | str | None = None
    daily_time: dt.time = DEFAULT_DAILY_TIME
    timezone: dt.tzinfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__dataclass_fields__
            if name not in ("token", "webhook_secret")
        )
        return f"Settings(token={mask_token(self.token)!r}, {shown})"

    __str__ = __repr__

    @property
    def base_file_url(self) -> str:
        """PTB's base_file_url: the base URL with its trailing /bot made /file/bot."""
        base = self.api_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    @property
    def webhook_path(self) -> str:
        """The path of the webhook URL, where the local server listens (no leading slash)."""
        return urlsplit(self.webhook_url or "").path.lstrip("/")

    @property
    def heartbeat_file(self) -> Path:
        return self.data_dir / "heartbeat"

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, require_token: bool = True) -> Settings:
        """Read and check every variable; raise ConfigError listing all problems."""
        problems: list[str] = []
        token = _read_token(env, problems) if require_token else _optional_token(env)
        base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
        if not re.match(r"^https?://[^/\s]+/\S*$", base_url):
            problems.append(
                "TELEGRAM_API_BASE_URL must be an http(s) URL ending in /bot, "
                f"e.g. {DEFAULT_API_BASE_URL}"
            )
        admins = _admin_ids(env.get("ASEM_ADMIN_IDS", ""), problems)
        level = (env.get("ASEM_LOG_LEVEL", "").strip() or "INFO").upper()
        if level not in LOG_LEVELS:
            problems.append(f"ASEM_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        webhook_url = env.get("ASEM_WEBHOOK_URL", "").strip() or None
        if webhook_url and not re.match(r"^https?://[^/\s]+(/\S*)?$", webhook_url):
            problems.append("ASEM_WEBHOOK_URL must be a URL such as https://example.org/asem-bot")
        secret = env.get("ASEM_WEBHOOK_SECRET", "").strip()
        generated = not secret
        if secret and not SECRET_PATTERN.match(secret):
            problems.append("ASEM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
        port = _port(env.get("ASEM_WEBHOOK_PORT", "").strip() or "8443", problems)
        limiter = (env.get("ASEM_RATE_LIMITER", "").strip() or "on").lower()
        if limiter not in _ON | _OFF:
            problems.append("ASEM_RATE_LIMITER must be 'on' or 'off'")
        channel = _channel(env.get("ASEM_CHANNEL_ID", "").strip(), problems)
        daily_time = _daily_time(env.get("ASEM_DAILY_TIME", "").strip() or "09:00", problems)
        zone = _timezone(env.get("ASEM_TIMEZONE", "").strip() or DEFAULT_TIMEZONE, problems)
        retention = _retention(env.get("ASEM_LOG_RETENTION_DAYS", "").strip(), problems)
        if problems:
            raise ConfigError(problems)
        return cls(
            token=token,
            api_base_url=base_url,
            admin_ids=admins,
            data_dir=data_dir_from_env(env),
            log_level=level,
            webhook_url=webhook_url,
            webhook_secret=secret or secrets.token_urlsafe(32),
            webhook_secret_generated=generated,
            webhook_listen=env.get("ASEM_WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            webhook_port=port,
            rate_limiter=limiter in _ON,
            channel_id=channel,
            daily_time=daily_time,
            timezone=zone or ZoneInfo(DEFAULT_TIMEZONE),
            log_retention_days=retention,
        )

    @property
    def log_level_number(self) -> int:
        return logging.getLevelName(self.log_level)


def data_dir_from_env(env: Mapping[str, str]) -> Path:
    """ASEM_DATA_DIR alone, for commands that need nothing else (``asem-bot health``)."""
    return Path(env.get("ASEM_DATA_DIR", "").strip() or "data")


def variables_help() -> str:
    """The environment variables as a table for ``--help``."""
    lines = ["environment variables [default]:"]
    for name, default, meaning in VARIABLES:
        lines.append(f"  {name} [{default}]")
        lines += textwrap.wrap(meaning, 78, initial_indent=" " * 6, subsequent_indent=" " * 6)
    return "\n".join(lines)


def _optional_token(env: Mapping[str, str]) -> str:
    return _read_token(env, [])


def _read_token(env: Mapping[str, str], problems: list[str]) -> str:
    direct = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    path = env.get("TELEGRAM_BOT_TOKEN_FILE", "").strip()
    if direct and path:
        problems.append("set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE, not both")
        return ""
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            problems.append(f"cannot read TELEGRAM_BOT_TOKEN_FILE {path}: {reason}")
            return ""
        source = f"the token in {path}"
    elif direct:
        token, source = direct, "TELEGRAM_BOT_TOKEN"
    else:
        problems.append(
            "no bot token: set TELEGRAM_BOT_TOKEN (or TELEGRAM_BOT_TOKEN_FILE) to the token "
            "from @BotFather"
        )
        return ""
    if not TOKEN_PATTERN.match(token):
        # Never echo the value: a near-miss token is still a secret.
        problems.append(
            f"{source} is malformed: expected digits, a colon and at least 30 characters "
            "of A-Z a-z 0-9 _ - (as given by @BotFather)"
        )
        return ""
    return token


def _admin_ids(raw: str, problems: list[str]) -> frozenset[int]:
    ids: set[int] = set()
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        if not re.fullmatch(r"\d{1,20}", part):
            problems.append(f"ASEM_ADMIN_IDS: {part!r} is not a numeric Telegram user id")
            continue
        ids.add(int(part))
    return frozenset(ids)


def _port(raw: str, problems: list[str]) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        problems.append(f"ASEM_WEBHOOK_PORT must be a port number 1-65535, not {raw!r}")
        return 0
    return int(raw)


def _channel(raw: str, problems: list[str]) -> int | str | None:
    if not raw:
        return None
    if not CHANNEL_PATTERN.match(raw):
        problems.append(
            f"ASEM_CHANNEL_ID must be a numeric chat id (e.g. -1001234567890) or "
            f"@channelname, not {raw!r}"
        )
        return None
    return raw if raw.startswith("@") else int(raw)


def _daily_time(raw: str, problems: list[str]) -> dt.time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        problems.append(f"ASEM_DAILY_TIME must be a time of day as HH:MM, e.g. 09:00, not {raw!r}")
        return DEFAULT_DAILY_TIME
    return dt.time(int(match[1]), int(match[2]))


def _timezone(raw: str, problems: list[str]) -> dt.tzinfo | None:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        problems.append(
            f"ASEM_TIMEZONE must be an IANA time zone such as {DEFAULT_TIMEZONE} or "
            f"Europe/Brussels, not {raw!r}"
        )
        return None


def _retention(raw: str, problems: list[str]) -> int:
    if not raw:
        return DEFAULT_LOG_RETENTION_DAYS
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LOG_RETENTION_DAYS:
        problems.append(
            f"ASEM_LOG_RETENTION_DAYS must be a whole number of days, 1-{MAX_LOG_RETENTION_DAYS}, "
            f"not {raw!r}"
        )
        return DEFAULT_LOG_RETENTION_DAYS
    return int(raw)
