"""The bot's one embedded SQLite database: settings, quiz state, daily posts and the question log.

The file is ``asem-bot.sqlite3`` in the data folder (``ASEM_DATA_DIR``, default ``./data``; a
Docker volume in production). :meth:`Storage.open` creates the folder, checks the file, migrates
the schema and proves it can write, so a corrupt or read-only database stops the bot at start
with a one-line :class:`StorageError` instead of losing data later.

What is stored
    * ``chats``: per chat, its type, language, daily-post subscription and auto-answer switch.
    * ``quiz_seen``, ``polls``, ``quiz_scores``: which quiz questions a chat has had, the quiz
      polls sent (poll id, chat, question key, right option) and per-chat answered/correct
      counts. Never who answered.
    * ``daily_posts``: which chat got the daily post on which day, so it is never sent twice,
      and how far the post got (claimed, sending, sent, unsure, refused), so a crash between
      claim and send can be told apart from a post that may have arrived.
    * ``updates``: the inbox of long polling (``bot/channels/telegram/inbox.py``): each update
      as Telegram sent it (JSON, the whole message with its sender), stored before Telegram is
      told it arrived and emptied to its id once handled. The content stays only until the
      update is handled (after a crash: until the next start handles it, at most a day); the
      ids until Telegram has been told, at most two days.
    * ``sent_answers``: per chat, the bot's answer messages: which question message each
      answered and what it was about (a :class:`bot.dialogue.Topic` in its text form: intent,
      ids of the records named, and the knowledge base's own words of the question), so a
      reply to an answer is read in its context and an edited question edits its answer.
      The last ANSWERS_PER_CHAT per chat, for ANSWERS_KEPT_DAYS. Never the text of either.
    * ``question_log``: one row per question asked: time, chat type, language, best intent,
      confidence and whether it was answered. The question *text* only for questions the bot
      declined or was unsure of (cut to 500 characters, phone numbers, ids, e-mail addresses
      and @usernames masked, control characters dropped: :func:`mask_personal`), so they can
      be answered in a later release; answered questions are only counted.

The chat ids kept, and why
    ``chats``, ``quiz_seen``, ``polls``, ``quiz_scores`` and ``daily_posts`` are keyed by chat
    id, because each is a chat's own state: its language and switches, which quiz questions it
    has had, the polls whose answers count for it, its score, and which day's post it got. A
    group's id names the group. **A private chat's id is its user's Telegram user id**: these
    tables hold the user ids of the people who set a language, subscribed, took a quiz or
    got a daily post in a private chat. Nothing else about them is kept.

What is never stored
    No user name, no message but the masked unanswered questions, and no user id other than
    those private chat ids; who answered a quiz poll is not stored. The question log has no
    chat id, so a logged question cannot be traced to a chat or person (many users are in the
    EU). A CHECK constraint keeps text out of answered rows even if a caller gets it wrong.
    :meth:`Storage.forget_chat` deletes everything kept about a chat that blocked or removed
    the bot; :meth:`Storage.migrate_chat` moves it all when a group becomes a supergroup.

Retention
    :meth:`Storage.purge` deletes question-log rows, quiz polls and daily-post records older than
    the retention (default 90 days). The bot calls it at start (``Storage.open(...,
    retention_days=N)``) and daily. Opening without ``retention_days`` purges nothing, so a
    one-off ``asem-bot stats`` cannot delete data under a different setting.

Time
    Every timestamp is UTC, stored as integer seconds since the Unix epoch: compact, ordered,
    and cheap to compare for retention. Days (``daily_posts.day``) are ISO ``YYYY-MM-DD`` text.

Concurrency
    One connection shared by all callers (the event loop thread and worker threads), guarded
    by a lock; every call is a short statement or a short ``BEGIN IMMEDIATE`` transaction. WAL
    mode and a 5 s busy timeout let a second process (``asem-bot stats``) read meanwhile.

Looking inside (the bot may keep running; WAL lets readers in)::

    sqlite3 data/asem-bot.sqlite3
    sqlite> .tables
    sqlite> PRAGMA user_version;   -- the schema version
    sqlite> SELECT datetime(at, 'unixepoch'), lang, intent, round(confidence, 2), question
       ...>   FROM question_log WHERE answered = 0 ORDER BY at DESC LIMIT 20;
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from rapidfuzz import fuzz, process

logger = logging.getLogger(__name__)

DB_FILENAME = "asem-bot.sqlite3"
DEFAULT_RETENTION_DAYS = 90
DEFAULT_LANGUAGE = "en"

MAX_QUESTION_CHARS = 500
"""Logged question text is cut to this length."""

GROUP_THRESHOLD = 85
"""Two unanswered questions are near-duplicates when ``fuzz.token_sort_ratio`` of their
normalised forms is at least this (0-100). 85 joins typos and word-order changes ("wen is the
next summit??" and "When is the next summit?" score 98) but keeps apart questions that differ
in a content word ("when is the next summit" against "when was the last summit" scores 77)."""

MAX_GROUPED_ROWS = 20_000
"""Grouping considers only the most recent unanswered questions, up to this many."""

MAX_GROUPS = 1_000
"""Grouping keeps at most this many groups. Wordings are clustered most frequent first, so a
wording that matches none of the 1,000 groups is one of the rarest and is left out of the
grouped list (it still counts in the totals). This bounds the work at rows x MAX_GROUPS."""

UPDATE_MAX_AGE = 24 * 3600
"""Seconds an update may wait in the inbox: Telegram keeps an undelivered update a day."""

_BUSY_TIMEOUT_MS = 5000
_LABEL_CHARS = 32  # chat types, language codes, intents and quiz keys are short identifiers
_EPOCH_MIN = -(2**63)
_CHAT_SETTINGS = frozenset({"lang", "lang_chosen", "subscribed", "auto_answer"})

ANSWERS_PER_CHAT = 500
"""Sent answers remembered per chat (for replies to them and edits of their questions); the
oldest go first."""
ANSWERS_KEPT_DAYS = 7
"""Sent answers older than this are forgotten: a reply to a week-old answer starts afresh."""
MAX_TOPIC_CHARS = 1000

# Each entry migrates the schema from version i to i + 1, in its own transaction. Append new
# entries; never edit one that has shipped, since databases in the field have already run it.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the initial schema.
    (
        """CREATE TABLE chats (
            chat_id     INTEGER PRIMARY KEY,
            chat_type   TEXT    NOT NULL,
            lang        TEXT    NOT NULL DEFAULT 'en',
            subscribed  INTEGER NOT NULL DEFAULT 0 CHECK (subscribed IN (0, 1)),
            auto_answer INTEGER NOT NULL DEFAULT 0 CHECK (auto_answer IN (0, 1)),
            created_at  INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL
        )""",
        "CREATE INDEX chats_subscribed ON chats (chat_id) WHERE subscribed = 1",
        """CREATE TABLE quiz_seen (
            chat_id  INTEGER NOT NULL,
            quiz_key TEXT    NOT NULL,
            seen_at  INTEGER NOT NULL,
            PRIMARY KEY (chat_id, quiz_key)
        ) WITHOUT ROWID""",
        """CREATE TABLE polls (
            poll_id        TEXT    PRIMARY KEY,
            chat_id        INTEGER NOT NULL,
            quiz_key       TEXT    NOT NULL,
            correct_option INTEGER NOT NULL,
            created_at     INTEGER NOT NULL
        )""",
        "CREATE INDEX polls_chat ON polls (chat_id)",
        "CREATE INDEX polls_created ON polls (created_at)",
        """CREATE TABLE quiz_scores (
            chat_id  INTEGER PRIMARY KEY,
            answered INTEGER NOT NULL DEFAULT 0,
            correct  INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE daily_posts (
            day        TEXT    NOT NULL,
            chat_id    INTEGER NOT NULL,
            claimed_at INTEGER NOT NULL,
            PRIMARY KEY (day, chat_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE question_log (
            id         INTEGER PRIMARY KEY,
            at         INTEGER NOT NULL,
            chat_type  TEXT    NOT NULL,
            lang       TEXT    NOT NULL,
            intent     TEXT,
            confidence REAL    NOT NULL,
            answered   INTEGER NOT NULL CHECK (answered IN (0, 1)),
            question   TEXT    CHECK (answered = 0 OR question IS NULL)
        )""",
        "CREATE INDEX question_log_at ON question_log (at)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # 2: the inbox of updates (stored before Telegram is told they arrived), and the state of
    # each daily post, so that a crash between a claim and the send can be told apart.
    (
        """CREATE TABLE updates (
            update_id  INTEGER PRIMARY KEY,
            raw        TEXT,
            fetched_at INTEGER NOT NULL,
            done_at    INTEGER,
            attempts   INTEGER NOT NULL DEFAULT 0,
            CHECK (done_at IS NULL OR raw IS NULL)
        )""",
        "CREATE INDEX updates_pending ON updates (update_id) WHERE done_at IS NULL",
        "CREATE INDEX updates_done ON updates (done_at) WHERE done_at IS NOT NULL",
        "ALTER TABLE daily_posts ADD COLUMN state TEXT NOT NULL DEFAULT 'sent' "
        "CHECK (state IN ('claimed', 'sending', 'sent', 'unsure', 'refused'))",
    ),
    # 3: what each sent answer was about (reply context, edited questions), a chat's chosen
    # language told apart from the default, and quiz streaks.
    (
        """CREATE TABLE sent_answers (
            chat_id     INTEGER NOT NULL,
            message_id  INTEGER NOT NULL,
            question_id INTEGER,
            topic       TEXT,
            sent_at     INTEGER NOT NULL,
            PRIMARY KEY (chat_id, message_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX sent_answers_question ON sent_answers (chat_id, question_id)",
        "CREATE INDEX sent_answers_sent ON sent_answers (sent_at)",
        "ALTER TABLE chats ADD COLUMN lang_chosen INTEGER NOT NULL DEFAULT 0 "
        "CHECK (lang_chosen IN (0, 1))",
        # before this version a language other than the default could only have been chosen
        "UPDATE chats SET lang_chosen = 1 WHERE lang <> 'en'",
        "ALTER TABLE quiz_scores ADD COLUMN streak INTEGER NOT NULL DEFAULT 0",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)


class StorageError(Exception):
    """The database cannot be used; the message names the file and what to do."""


@dataclass(frozen=True)
class ChatSettings:
    """A chat's settings; a chat the bot has not stored yet gets the defaults."""

    chat_id: int
    chat_type: str | None = None
    lang: str = DEFAULT_LANGUAGE
    subscribed: bool = False
    auto_answer: bool = False
    lang_chosen: bool = False  # ``lang`` was chosen (/language), not the default


@dataclass(frozen=True)
class PollRecord:
    """A quiz poll the bot sent, kept so answers can be scored."""

    poll_id: str
    chat_id: int
    key: str
    correct_option: int
    created_at: datetime


@dataclass(frozen=True)
class Score:
    """How a chat has done in quizzes: answers given and how many were right."""

    answered: int = 0
    correct: int = 0
    streak: int = 0  # right answers in a row, the latest last


@dataclass(frozen=True)
class PollAnswer:
    """One scored answer to a quiz poll: the poll's chat and question, whether it was right,
    and the chat's score after it."""

    chat_id: int
    key: str
    correct_option: int
    right: bool
    score: Score


@dataclass(frozen=True)
class SentAnswer:
    """One of the bot's answer messages: the question message it answered (if known) and
    what it was about (``Topic.encode()``, if anything)."""

    chat_id: int
    message_id: int
    question_id: int | None
    topic: str | None
    sent_at: datetime


@dataclass(frozen=True)
class StoredUpdate:
    """An update in the inbox, not yet handled: its JSON as Telegram sent it."""

    update_id: int
    raw: str
    attempts: int


@dataclass(frozen=True)
class InboxStatus:
    pending: int  # updates stored and not yet handled
    oldest_pending_at: datetime | None
    skipped: int  # updates that could not be parsed or were given up, ever


@dataclass(frozen=True)
class IntentCount:
    intent: str
    count: int


@dataclass(frozen=True)
class QuestionGroup:
    """Unanswered questions that are near-duplicates of each other.

    ``representative`` is the most frequent original wording, ``count`` the questions in the
    group, and ``examples`` up to three other wordings, most frequent first.
    """

    representative: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Stats:
    """What the question log says; ``dataclasses.asdict`` gives a JSON-ready dict.

    ``top_intents`` counts answered questions. ``top_unanswered`` groups the most recent
    ``unanswered_considered`` unanswered questions that have text (at most MAX_GROUPED_ROWS).
    """

    days: int | None
    since: str | None  # ISO 8601, UTC; None when the whole log is counted
    questions: int
    answered: int
    unanswered: int
    answer_rate: float  # answered / questions, 0.0 when there are none
    top_intents: tuple[IntentCount, ...]
    top_unanswered: tuple[QuestionGroup, ...]
    unanswered_considered: int
    daily_posts_unsure: int = 0  # in the period: timed out or cut off, may not have arrived
    updates_skipped: int = 0  # ever: updates that could not be read, or were given up


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already, never local time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _epoch(moment: datetime) -> int:
    return int(_as_utc(moment).timestamp())


def _label(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > _LABEL_CHARS:
        raise ValueError(f"{what} must be 1-{_LABEL_CHARS} characters, got {value!r}")
    return value


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls, DEL and the bidirectional marks, embeddings, overrides and isolates:
nothing a question needs, and each can steer a terminal or reorder a line."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TELEGRAM_LINK = re.compile(r"(?:https?://)?(?:t|telegram)\.me/[\w+/-]+", re.IGNORECASE)
_USERNAME = re.compile(r"(?<![\w@])@\w{2,32}")
_NUMBER_RUN = re.compile(r"\+?\(?\d[\d\s().-]*\d")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_DATE = re.compile(r"(?:1[89]|20)\d\d[-.]\d\d?[-.]\d\d?|\d\d?[-.]\d\d?[-.](?:1[89]|20)\d\d")
MASKED_DIGITS = 7
"""A run of this many digits or more (alone, or grouped with spaces, dashes, dots or
brackets as phone numbers are written) is masked: a phone number, a user or chat id, an
account number. A run that is only years ("1996 1998 2000"), or a date, is kept."""


def _mask_number(match: re.Match[str]) -> str:
    run = match[0]
    groups = re.findall(r"\d+", run)
    if sum(len(group) for group in groups) < MASKED_DIGITS:
        return run
    if all(_YEAR.fullmatch(group) for group in groups) or _DATE.fullmatch(run):
        return run  # years, or a date
    return "[number]"


def mask_personal(text: str) -> str:
    """``text`` with e-mail addresses, Telegram usernames and links, phone numbers and other
    long digit runs (ids) replaced by ``[e-mail]``, ``[user]`` and ``[number]``."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _TELEGRAM_LINK.sub("[user]", text)
    text = _USERNAME.sub("[user]", text)
    return _NUMBER_RUN.sub(_mask_number, text)


def _clean_question(text: str | None) -> str | None:
    """One line of at most MAX_QUESTION_CHARS, personal details masked (:func:`mask_personal`),
    or None when nothing is left.

    Control characters (NUL included: the sqlite3 shell stops printing at it) and the
    bidirectional controls are dropped, and lone surrogates, which cannot be encoded as
    UTF-8, become U+FFFD.
    """
    if text is None:
        return None
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = " ".join(_CONTROLS.sub(" ", text.replace("\x00", "")).split())
    return mask_personal(text)[:MAX_QUESTION_CHARS] or None


_INSERT_QUESTION = (
    "INSERT INTO question_log (at, chat_type, lang, intent, confidence, answered, question) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _question_row(
    *,
    now: int,
    chat_type: str,
    lang: str,
    intent: str | None,
    confidence: float,
    answered: bool,
    question: str | None,
) -> tuple[object, ...]:
    """The question_log row: labels cut to size, confidence in 0..1, text only if declined."""
    confidence = float(confidence)
    confidence = min(max(confidence, 0.0), 1.0) if math.isfinite(confidence) else 0.0
    return (
        now,
        chat_type.strip()[:_LABEL_CHARS] or "unknown",
        lang.strip()[:_LABEL_CHARS] or "unknown",
        intent.strip()[: _LABEL_CHARS * 2] or None if intent is not None else None,
        confidence,
        int(answered),
        None if answered else _clean_question(question),
    )


def _group_key(text: str) -> str:
    """Case, punctuation, symbols and spacing off, words sorted: equal keys are duplicates.

    Sorting the words here once makes ``fuzz.ratio`` on keys equal to ``token_sort_ratio`` on
    the texts, without re-sorting at each of the rows x groups comparisons.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Categories P (punctuation), S (symbols) and C (controls) only: marks (M) are letters
    # in Khmer and other scripts, so they must stay.
    spaced = "".join(" " if unicodedata.category(ch)[0] in "PSC" else ch for ch in folded)
    return " ".join(sorted(spaced.split()))


def group_questions(questions: Iterable[str], *, top: int = 10) -> tuple[QuestionGroup, ...]:
    """Count questions so that near-duplicates count together; the ``top`` biggest groups.

    Greedy leader clustering: exact duplicates (same :func:`_group_key`) are merged first; the
    distinct keys are then taken most frequent first, and each joins the best-matching group
    leader scoring at least GROUP_THRESHOLD, else leads a new group. Work is O(keys x groups),
    groups capped at MAX_GROUPS. Ties (equally frequent keys or wordings) go roughly by order
    of appearance, so pass the most recent questions first.
    """
    wordings_by_key: dict[str, Counter[str]] = {}
    for text in questions:
        key = _group_key(text)
        if key:
            wordings_by_key.setdefault(key, Counter())[text] += 1
    ordered = sorted(wordings_by_key.items(), key=lambda item: -item[1].total())

    leaders: list[str] = []
    members: list[Counter[str]] = []
    for key, wordings in ordered:
        match = process.extractOne(
            key, leaders, scorer=fuzz.ratio, score_cutoff=GROUP_THRESHOLD, processor=None
        )
        if match is not None:
            members[match[2]].update(wordings)
        elif len(leaders) < MAX_GROUPS:
            leaders.append(key)
            members.append(Counter(wordings))

    groups = []
    for wordings in members:
        (representative, _), *others = wordings.most_common(4)
        groups.append(
            QuestionGroup(
                representative=representative,
                count=wordings.total(),
                examples=tuple(wording for wording, _ in others),
            )
        )
    groups.sort(key=lambda group: (-group.count, group.representative))
    return tuple(groups[:top])


@contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction. BEGIN IMMEDIATE takes the write lock up front, so two processes
    never deadlock upgrading a read to a write; busy_timeout makes the second one wait."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


_ERROR_ADVICE = {
    sqlite3.SQLITE_NOTADB: "is not a SQLite database (file is corrupt?): "
    "move it away or restore a backup",
    sqlite3.SQLITE_CORRUPT: "is corrupt: move it away or restore a backup",
    sqlite3.SQLITE_READONLY: "cannot be written: check permissions of the file and its folder",
    sqlite3.SQLITE_CANTOPEN: "cannot be opened or created: check permissions of the data folder",
    sqlite3.SQLITE_PERM: "cannot be written: check permissions of the file and its folder",
    sqlite3.SQLITE_FULL: "cannot grow: the disk is full",
    sqlite3.SQLITE_IOERR: "cannot be read or written (I/O error): check the disk and the volume",
    sqlite3.SQLITE_BUSY: "is locked by another process for too long: is another asem-bot "
    "writing to it?",
}


_FULL_BELOW = 1 << 20
"""Free bytes under which a failing write is put down to a full disk."""


def _disk_full(folder: Path) -> int | None:
    """The free bytes of the disk holding ``folder`` if it is (nearly) full, else None."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    return free if free < _FULL_BELOW else None


def _explain(path: Path, exc: sqlite3.Error) -> StorageError:
    # Extended result codes (e.g. SQLITE_READONLY_DBMOVED) carry the primary code in the low byte.
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
        free = _disk_full(path.parent)
        if free is not None:  # SQLite says "disk I/O error" when it cannot create the -wal file
            return StorageError(
                f"{path} cannot be written: the disk holding it is full ({free // 1024} KB "
                f"free): make room ({exc})"
            )
    advice = _ERROR_ADVICE.get(code & 0xFF) if code is not None else None
    if advice is None:
        return StorageError(f"{path}: database error: {exc}")
    return StorageError(f"{path} {advice} ({exc})")


class Storage:
    """The bot's database. Open with :meth:`open`; every method is safe from any thread."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path, clock: Callable[[], datetime]
    ) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._lock = threading.Lock()
        self._clock = clock
        self.path = path

    # -- opening and closing ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: Path | str,
        *,
        clock: Callable[[], datetime] | None = None,
        retention_days: int | None = None,
    ) -> Storage:
        """Open (creating if needed) the database in ``data_dir``, ready to read and write.

        Raises :class:`StorageError` when the folder or file cannot be created or written, the
        file is not a healthy SQLite database, or a newer asem-bot wrote it. With
        ``retention_days``, log rows older than that are purged right away.
        """
        folder = Path(data_dir).expanduser()
        path = folder / DB_FILENAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise StorageError(
                f"data folder {folder} exists but is not a folder: set ASEM_DATA_DIR to a folder"
            ) from None
        except OSError as exc:
            raise StorageError(
                f"data folder {folder} cannot be created ({exc.strerror}): create it or check "
                "permissions of its parent"
            ) from None
        if path.is_dir():
            raise StorageError(f"{path} is a folder, not a database file: move it away")

        connection: sqlite3.Connection | None = None
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so transactions are exactly
            # as long as written and never left open by the sqlite3 module's implicit BEGIN.
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            cls._prepare(connection, path, clock or _utc_now)
            storage = cls(connection, path, clock or _utc_now)
        except sqlite3.Error as exc:
            if connection is not None:
                connection.close()
            raise _explain(path, exc) from exc
        except StorageError:
            if connection is not None:
                connection.close()
            raise
        if retention_days is not None:
            try:
                storage.purge(retention_days)
            except BaseException:
                storage.close()
                raise
        return storage

    @staticmethod
    def _prepare(
        connection: sqlite3.Connection, path: Path, clock: Callable[[], datetime]
    ) -> None:
        """Pragmas, health check, version check, migrations and a write that must succeed."""
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            # Some network file systems cannot share memory for WAL; sqlite then keeps the old
            # mode. Still correct, only slower with concurrent readers, so warn and go on.
            logger.warning("%s: WAL mode unavailable, using journal mode %s", path, mode)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")

        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StorageError(
                f"{path} is corrupt ({'; '.join(map(str, problems[:3]))}): "
                "move it away or restore a backup"
            )

        found = connection.execute("PRAGMA user_version").fetchone()[0]
        if found < 0:
            raise StorageError(
                f"{path} is not an asem-bot database (schema version {found}): move it away"
            )
        if found > SCHEMA_VERSION:
            raise StorageError(
                f"{path} was written by a newer asem-bot (schema version {found}, this version "
                f"knows {SCHEMA_VERSION}): upgrade asem-bot or restore a backup"
            )
        for target in range(found + 1, SCHEMA_VERSION + 1):
            with _immediate(connection):
                # Another process may have migrated while we waited for the write lock.
                if connection.execute("PRAGMA user_version").fetchone()[0] != target - 1:
                    continue
                for statement in _MIGRATIONS[target - 1]:
                    connection.execute(statement)
                # PRAGMA takes no parameters; target is an int we computed.
                connection.execute(f"PRAGMA user_version = {int(target)}")
            logger.info("%s: schema migrated to version %d", path, target)

        # A real, committed write: a read-only file or folder fails here, at start, rather
        # than at the first subscription or quiz answer.
        with _immediate(connection):
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('last_opened_at', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_as_utc(clock()).isoformat(timespec="seconds"),),
            )
        logger.info("%s: opened (schema version %d)", path, SCHEMA_VERSION)

    def close(self) -> None:
        """Close the database; further calls raise StorageError. Closing twice is harmless."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> Storage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------

    def _now(self) -> int:
        return _epoch(self._clock())

    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StorageError(f"{self.path}: storage is closed")
        return self._connection

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for a single statement (atomic on its own in autocommit mode)."""
        with self._lock:
            try:
                yield self._live()
            except sqlite3.Error as exc:
                raise _explain(self.path, exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, holding the lock throughout."""
        with self._lock:
            try:
                with _immediate(self._live()) as connection:
                    yield connection
            except sqlite3.Error as exc:
                raise _explain(self.path, exc) from exc

    # -- per-chat settings -----------------------------------------------------------------------

    def chat(self, chat_id: int) -> ChatSettings:
        """The chat's settings, or the defaults for a chat never stored."""
        with self._reading() as db:
            row = db.execute(
                "SELECT chat_type, lang, subscribed, auto_answer, lang_chosen FROM chats "
                "WHERE chat_id = ?",
                (chat_id,),
            ).fetchone()
        if row is None:
            return ChatSettings(chat_id=chat_id)
        chat_type, lang, subscribed, auto_answer, chosen = row
        return ChatSettings(
            chat_id, chat_type, lang, bool(subscribed), bool(auto_answer), bool(chosen)
        )

    def _upsert_chat(
        self, db: sqlite3.Connection, chat_id: int, chat_type: str, column: str, value: object
    ) -> None:
        if column not in _CHAT_SETTINGS:
            raise ValueError(f"not a chat setting: {column!r}")
        # The column name is one of ours (checked above), so formatting it in is safe.
        now = self._now()
        db.execute(
            f"INSERT INTO chats (chat_id, chat_type, {column}, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET chat_type = excluded.chat_type, "
            f"{column} = excluded.{column}, updated_at = excluded.updated_at",
            (chat_id, chat_type, value, now, now),
        )

    def set_language(self, chat_id: int, chat_type: str, lang: str) -> None:
        chat_type, lang = _label(chat_type, "chat_type"), _label(lang, "lang")
        with self._writing() as db:
            self._upsert_chat(db, chat_id, chat_type, "lang", lang)
            self._upsert_chat(db, chat_id, chat_type, "lang_chosen", 1)

    def set_subscribed(self, chat_id: int, chat_type: str, subscribed: bool) -> bool:
        """Subscribe or unsubscribe the chat to the daily post; True if that changed anything."""
        chat_type = _label(chat_type, "chat_type")
        with self._writing() as db:
            row = db.execute("SELECT subscribed FROM chats WHERE chat_id = ?", (chat_id,))
            current = row.fetchone()
            if bool(current and current[0]) == subscribed:
                return False
            self._upsert_chat(db, chat_id, chat_type, "subscribed", int(subscribed))
        return True

    def set_auto_answer(self, chat_id: int, chat_type: str, on: bool) -> None:
        chat_type = _label(chat_type, "chat_type")
        with self._writing() as db:
            self._upsert_chat(db, chat_id, chat_type, "auto_answer", int(on))

    def subscribed_chats(self) -> list[int]:
        with self._reading() as db:
            rows = db.execute("SELECT chat_id FROM chats WHERE subscribed = 1 ORDER BY chat_id")
            return [chat_id for (chat_id,) in rows]

    def forget_chat(self, chat_id: int) -> None:
        """Delete everything kept about a chat (it blocked the bot or was deleted).

        This unsubscribes it, and removes its settings, quiz state, scores and daily-post
        records. The question log holds no chat id, so nothing there points to it.
        """
        with self._writing() as db:
            tables = ("chats", "quiz_seen", "polls", "quiz_scores", "daily_posts", "sent_answers")
            for table in tables:
                db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))
        logger.info("forgot a chat that blocked or removed the bot")  # which one: not logged

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup (a new chat id): move everything kept about it, its
        settings, quiz rotation, polls, score and daily posts, to the new id. Settings the
        new id already has win; scores add up. Doing it twice changes nothing."""
        with self._writing() as db:
            if db.execute("SELECT 1 FROM chats WHERE chat_id = ?", (new_id,)).fetchone():
                db.execute("DELETE FROM chats WHERE chat_id = ?", (old_id,))
            else:
                db.execute(
                    "UPDATE chats SET chat_id = ?, chat_type = 'supergroup', updated_at = ? "
                    "WHERE chat_id = ?",
                    (new_id, self._now(), old_id),
                )
            for table in ("quiz_seen", "daily_posts"):
                db.execute(
                    f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?",
                    (new_id, old_id),
                )
                db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (old_id,))  # duplicates
            db.execute("UPDATE polls SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
            db.execute(
                "INSERT INTO quiz_scores (chat_id, answered, correct) "
                "SELECT ?, answered, correct FROM quiz_scores WHERE chat_id = ? "
                "ON CONFLICT (chat_id) DO UPDATE SET answered = answered + excluded.answered, "
                "correct = correct + excluded.correct",
                (new_id, old_id),
            )
            db.execute("DELETE FROM quiz_scores WHERE chat_id = ?", (old_id,))
        logger.info("moved a group's settings to its new supergroup id")

    # -- quiz rotation and scores ----------------------------------------------------------------

    def quiz_seen(self, chat_id: int) -> set[str]:
        """Keys of the quiz questions the chat has already had in this round."""
        with self._reading() as db:
            rows = db.execute("SELECT quiz_key FROM quiz_seen WHERE chat_id = ?", (chat_id,))
            return {key for (key,) in rows}

    def mark_quiz_seen(self, chat_id: int, key: str) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT OR IGNORE INTO quiz_seen (chat_id, quiz_key, seen_at) VALUES (?, ?, ?)",
                (chat_id, key, self._now()),
            )

    def reset_quiz_seen(self, chat_id: int) -> None:
        """Start a new round: every question may come again."""
        with self._writing() as db:
            db.execute("DELETE FROM quiz_seen WHERE chat_id = ?", (chat_id,))

    def record_poll(self, poll_id: str, chat_id: int, key: str, correct_option: int) -> None:
        """Remember a quiz poll just sent, so its answers can be scored."""
        with self._writing() as db:
            db.execute(
                "INSERT INTO polls (poll_id, chat_id, quiz_key, correct_option, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id) DO UPDATE SET "
                "chat_id = excluded.chat_id, quiz_key = excluded.quiz_key, "
                "correct_option = excluded.correct_option, created_at = excluded.created_at",
                (poll_id, chat_id, key, correct_option, self._now()),
            )

    def poll(self, poll_id: str) -> PollRecord | None:
        with self._reading() as db:
            row = db.execute(
                "SELECT chat_id, quiz_key, correct_option, created_at FROM polls "
                "WHERE poll_id = ?",
                (poll_id,),
            ).fetchone()
        if row is None:
            return None
        chat_id, key, correct_option, created_at = row
        created = datetime.fromtimestamp(created_at, UTC)
        return PollRecord(poll_id, chat_id, key, correct_option, created)

    def record_poll_answer(self, poll_id: str, option_ids: list[int]) -> bool | None:
        """Score one answer to a quiz poll: None if the poll is unknown, else whether it was right.

        Adds to the chat's answered and correct counts. Who answered is not stored; Telegram
        lets each user answer a quiz poll once. An empty ``option_ids`` (a retracted vote,
        which quiz polls do not allow) is not counted and returns False.
        """
        scored = self.score_poll_answer(poll_id, option_ids)
        return None if scored is None else scored.right

    def score_poll_answer(self, poll_id: str, option_ids: list[int]) -> PollAnswer | None:
        """As :meth:`record_poll_answer`, with the poll's chat, question and the chat's score
        after the answer (a right answer adds to the streak, a wrong one ends it)."""
        with self._writing() as db:
            row = db.execute(
                "SELECT chat_id, quiz_key, correct_option FROM polls WHERE poll_id = ?",
                (poll_id,),
            ).fetchone()
            if row is None:
                return None
            chat_id, key, correct_option = row
            right = bool(option_ids) and list(option_ids) == [correct_option]
            if option_ids:
                db.execute(
                    "INSERT INTO quiz_scores (chat_id, answered, correct, streak) "
                    "VALUES (?, 1, ?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET answered = answered + 1, "
                    "correct = correct + excluded.correct, "
                    "streak = CASE WHEN excluded.correct = 1 THEN streak + 1 ELSE 0 END",
                    (chat_id, int(right), int(right)),
                )
            score = db.execute(
                "SELECT answered, correct, streak FROM quiz_scores WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return PollAnswer(chat_id, key, correct_option, right, Score(*score) if score else Score())

    def chat_score(self, chat_id: int) -> Score:
        with self._reading() as db:
            row = db.execute(
                "SELECT answered, correct, streak FROM quiz_scores WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return Score(*row) if row else Score()

    # -- sent answers: reply context and edited questions ----------------------------------------

    def remember_answers(
        self, answers: Iterable[tuple[int, int, int | None, str | None, datetime | None]]
    ) -> None:
        """Remember answer messages: ``(chat_id, message_id, question_id, topic, sent_at)``
        each (``sent_at`` None: now). A message remembered again is updated (an answer edited
        to show something else). Each chat keeps its last ANSWERS_PER_CHAT."""
        rows = [
            (
                chat_id,
                message_id,
                question_id,
                topic[:MAX_TOPIC_CHARS] if topic else None,
                _epoch(sent_at) if sent_at is not None else self._now(),
            )
            for chat_id, message_id, question_id, topic, sent_at in answers
        ]
        if not rows:
            return
        with self._writing() as db:
            db.executemany(
                "INSERT INTO sent_answers (chat_id, message_id, question_id, topic, sent_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE SET "
                "question_id = COALESCE(excluded.question_id, question_id), "
                "topic = excluded.topic, sent_at = excluded.sent_at",
                rows,
            )
            for chat_id in {row[0] for row in rows}:
                db.execute(
                    "DELETE FROM sent_answers WHERE chat_id = ? AND message_id NOT IN "
                    "(SELECT message_id FROM sent_answers WHERE chat_id = ? "
                    "ORDER BY sent_at DESC, message_id DESC LIMIT ?)",
                    (chat_id, chat_id, ANSWERS_PER_CHAT),
                )

    def sent_answer(self, chat_id: int, message_id: int) -> SentAnswer | None:
        """The answer message ``message_id`` of the chat, if remembered."""
        return self._sent_answer("message_id", chat_id, message_id)

    def answer_to_question(self, chat_id: int, question_id: int) -> SentAnswer | None:
        """The latest answer to the question message ``question_id`` of the chat, if any."""
        return self._sent_answer("question_id", chat_id, question_id)

    def _sent_answer(self, column: str, chat_id: int, value: int) -> SentAnswer | None:
        if column not in ("message_id", "question_id"):
            raise ValueError(f"not a sent-answer key: {column!r}")
        with self._reading() as db:
            row = db.execute(
                "SELECT message_id, question_id, topic, sent_at FROM sent_answers "
                f"WHERE chat_id = ? AND {column} = ? ORDER BY sent_at DESC LIMIT 1",
                (chat_id, value),
            ).fetchone()
        if row is None:
            return None
        message_id, question_id, topic, sent_at = row
        return SentAnswer(
            chat_id, message_id, question_id, topic, datetime.fromtimestamp(sent_at, UTC)
        )

    # -- daily post bookkeeping ------------------------------------------------------------------

    def claim_daily_post(self, day: date, chat_id: int) -> bool:
        """Claim the right to send ``day``'s post to the chat; True for exactly one caller.

        INSERT OR IGNORE on the (day, chat) primary key is atomic in SQLite, so this holds
        across threads, processes and restarts. The claim then goes through the states of
        :data:`DAILY_STATES`: :meth:`daily_post_sending` just before the request leaves,
        :meth:`daily_post_done` with what came of it. Call :meth:`release_daily_post` if
        sending failed for a reason worth retrying.
        """
        with self._writing() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO daily_posts (day, chat_id, claimed_at, state) "
                "VALUES (?, ?, ?, 'claimed')",
                (day.isoformat(), chat_id, self._now()),
            )
            return cursor.rowcount == 1

    def daily_post_sending(self, day: date, chat_id: int) -> None:
        """The post's request is about to leave: from now on Telegram may have it."""
        self._set_daily_state(day, chat_id, "sending")

    def daily_post_done(self, day: date, chat_id: int, *, sure: bool = True) -> None:
        """Telegram took the post (``sure``), or the request timed out and it may have."""
        self._set_daily_state(day, chat_id, "sent" if sure else "unsure")

    def daily_post_refused(self, day: date, chat_id: int) -> None:
        """Telegram refused the post for good: the claim stays, so it is not tried again."""
        self._set_daily_state(day, chat_id, "refused")

    def _set_daily_state(self, day: date, chat_id: int, state: str) -> None:
        with self._writing() as db:
            db.execute(
                "UPDATE daily_posts SET state = ? WHERE day = ? AND chat_id = ?",
                (state, day.isoformat(), chat_id),
            )

    def release_daily_post(self, day: date, chat_id: int) -> None:
        """Undo a claim so a later attempt may send the post."""
        with self._writing() as db:
            db.execute(
                "DELETE FROM daily_posts WHERE day = ? AND chat_id = ?",
                (day.isoformat(), chat_id),
            )

    def recover_daily_posts(self) -> tuple[int, int]:
        """After a crash: claims whose request never left are released (a catch-up sends them);
        those whose request had left are marked unsure (Telegram may have delivered them; they
        are reported in /stats, not sent twice). Returns (released, unsure). Call once at start,
        before anything posts."""
        with self._writing() as db:
            released = db.execute("DELETE FROM daily_posts WHERE state = 'claimed'").rowcount
            unsure = db.execute(
                "UPDATE daily_posts SET state = 'unsure' WHERE state = 'sending'"
            ).rowcount
        if released or unsure:
            logger.warning(
                "daily posts after a crash: %d never sent (will be sent), %d with an unknown "
                "outcome (not sent again; see /stats)",
                released,
                unsure,
            )
        return released, unsure

    def daily_posted(self, day: date) -> set[int]:
        """Chats that have a claim (sent, or being sent) for ``day``."""
        with self._reading() as db:
            rows = db.execute("SELECT chat_id FROM daily_posts WHERE day = ?", (day.isoformat(),))
            return {chat_id for (chat_id,) in rows}

    # -- the inbox of updates -----------------------------------------------------------------

    def store_updates(
        self,
        readable: Sequence[tuple[int, str]],
        unreadable: Sequence[int] = (),
        *,
        confirmed_below: int | None = None,
    ) -> list[int]:
        """Store a batch from getUpdates before Telegram is told it arrived (the next getUpdates
        does that). ``readable``: (update_id, the update's JSON); ``unreadable``: ids of updates
        that cannot be parsed, stored as done (without their content) and counted. Returns the
        ids of the updates new to the inbox: the others came before (Telegram sends an update
        again until it is confirmed) and must not be handled, or counted, twice.

        ``confirmed_below``: the offset of the request that fetched the batch; done updates
        below it are confirmed, so Telegram will not send them again and their rows go.
        """
        now = self._now()
        new: list[int] = []
        with self._writing() as db:
            self._prune_inbox(db, now, confirmed_below)
            for update_id, raw in readable:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO updates (update_id, raw, fetched_at) VALUES (?, ?, ?)",
                    (update_id, raw, now),
                )
                if cursor.rowcount == 1:
                    new.append(update_id)
            skipped = 0
            for update_id in unreadable:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO updates (update_id, raw, fetched_at, done_at) "
                    "VALUES (?, NULL, ?, ?)",
                    (update_id, now, now),
                )
                if cursor.rowcount == 1:
                    new.append(update_id)
                    skipped += 1
            if skipped:
                self._count(db, "updates_skipped", skipped)
        return new

    def skip_update(self, update_id: int) -> None:
        """A stored update that cannot be parsed (or was given up): done, content dropped,
        counted."""
        with self._writing() as db:
            db.execute(
                "UPDATE updates SET raw = NULL, done_at = ? WHERE update_id = ?",
                (self._now(), update_id),
            )
            self._count(db, "updates_skipped", 1)

    def pending_updates(self, *, max_attempts: int) -> list[StoredUpdate]:
        """Updates stored but not done (the bot stopped or crashed first), oldest first, each
        counted as one more attempt. One that was already tried ``max_attempts`` times is given
        up (it may be what crashed the bot); one older than a day is dropped (Telegram itself
        keeps updates a day). Both are counted as skipped."""
        now = self._now()
        with self._writing() as db:
            rows = db.execute(
                "SELECT update_id, raw, attempts, fetched_at FROM updates "
                "WHERE done_at IS NULL ORDER BY update_id"
            ).fetchall()
            wanted: list[StoredUpdate] = []
            dropped = 0
            for update_id, raw, attempts, fetched_at in rows:
                if attempts >= max_attempts or fetched_at < now - UPDATE_MAX_AGE or raw is None:
                    db.execute(
                        "UPDATE updates SET raw = NULL, done_at = ? WHERE update_id = ?",
                        (now, update_id),
                    )
                    dropped += 1
                    continue
                db.execute(
                    "UPDATE updates SET attempts = attempts + 1 WHERE update_id = ?", (update_id,)
                )
                wanted.append(StoredUpdate(update_id, raw, attempts + 1))
            if dropped:
                self._count(db, "updates_skipped", dropped)
        if dropped:
            logger.warning("gave up %d stored update(s): tried too often or too old", dropped)
        return wanted

    def finish_updates(self, finished: Iterable[tuple[int, Iterable[Mapping[str, Any]]]]) -> None:
        """Mark updates done and write their question-log rows (keywords of
        :meth:`log_question`), all in one transaction: a crash keeps both or neither."""
        now = self._now()
        with self._writing() as db:
            for update_id, questions in finished:
                for question in questions:
                    db.execute(_INSERT_QUESTION, _question_row(now=now, **question))
                db.execute(
                    "UPDATE updates SET raw = NULL, done_at = ? WHERE update_id = ?",
                    (now, update_id),
                )

    def inbox_status(self) -> InboxStatus:
        """How many updates are in hand, since when, and how many were skipped."""
        with self._reading() as db:
            pending, oldest = db.execute(
                "SELECT COUNT(*), MIN(fetched_at) FROM updates WHERE done_at IS NULL"
            ).fetchone()
            row = db.execute("SELECT value FROM meta WHERE key = 'updates_skipped'").fetchone()
        return InboxStatus(
            pending=pending,
            oldest_pending_at=datetime.fromtimestamp(oldest, UTC) if oldest is not None else None,
            skipped=int(row[0]) if row else 0,
        )

    @staticmethod
    def _prune_inbox(db: sqlite3.Connection, now: int, confirmed_below: int | None) -> None:
        if confirmed_below:
            db.execute(
                "DELETE FROM updates WHERE done_at IS NOT NULL AND update_id < ?",
                (confirmed_below,),
            )
        # A backstop for ids Telegram chose anew (after a week without updates): nothing older
        # than two days can come again, as Telegram keeps an update one day.
        db.execute(
            "DELETE FROM updates WHERE done_at IS NOT NULL AND done_at < ?",
            (now - 2 * UPDATE_MAX_AGE,),
        )

    @staticmethod
    def _count(db: sqlite3.Connection, key: str, by: int) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = CAST(CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)",
            (key, str(by)),
        )

    # -- the question log ------------------------------------------------------------------------

    def log_question(
        self,
        *,
        chat_type: str,
        lang: str,
        intent: str | None,
        confidence: float,
        answered: bool,
        question: str | None,
        at: datetime | None = None,
    ) -> None:
        """Log one question. Its text is kept only when it was not answered (see module doc)."""
        row = _question_row(
            now=_epoch(at) if at is not None else self._now(),
            chat_type=chat_type,
            lang=lang,
            intent=intent,
            confidence=confidence,
            answered=answered,
            question=question,
        )
        with self._writing() as db:
            db.execute(_INSERT_QUESTION, row)

    # -- feedback (👍/👎 on answers) -----------------------------------------------------------
    # Its own table, created on first use (CREATE TABLE IF NOT EXISTS) rather than by a
    # migration, so that it stays apart from the schema's versions. As in the question log,
    # nothing about who voted is kept; the text of the question only with a 👎.

    _FEEDBACK_TABLE = (
        "CREATE TABLE IF NOT EXISTS feedback ("
        " id INTEGER PRIMARY KEY,"
        " at INTEGER NOT NULL,"
        " chat_type TEXT NOT NULL,"
        " lang TEXT NOT NULL,"
        " vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),"
        " intent TEXT,"
        " confidence REAL NOT NULL,"
        " question TEXT CHECK (vote = -1 OR question IS NULL))"
    )

    def _feedback(self, db: sqlite3.Connection) -> sqlite3.Connection:
        if not getattr(self, "_feedback_ready", False):
            db.execute(self._FEEDBACK_TABLE)
            db.execute("CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at)")
            self._feedback_ready = True
        return db

    def log_feedback(
        self,
        *,
        chat_type: str,
        lang: str,
        vote: int,
        intent: str | None,
        confidence: float,
        question: str | None,
        at: datetime | None = None,
    ) -> None:
        """Log a 👍 (``vote`` 1) or a 👎 (-1) on an answer; the question's text only with a 👎."""
        if vote not in (-1, 1):
            raise ValueError(f"vote must be 1 or -1, got {vote!r}")
        confidence = float(confidence)
        confidence = min(max(confidence, 0.0), 1.0) if math.isfinite(confidence) else 0.0
        with self._writing() as db:
            self._feedback(db).execute(
                "INSERT INTO feedback (at, chat_type, lang, vote, intent, confidence, question) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _epoch(at) if at is not None else self._now(),
                    chat_type.strip()[:_LABEL_CHARS] or "unknown",
                    lang.strip()[:_LABEL_CHARS] or "unknown",
                    vote,
                    intent.strip()[: _LABEL_CHARS * 2] or None if intent is not None else None,
                    confidence,
                    _clean_question(question) if vote == -1 else None,
                ),
            )

    def feedback_counts(self, *, days: int | None = None) -> tuple[int, int]:
        """(👍, 👎) given in the last ``days`` days (None: all time)."""
        since = _as_utc(self._clock()) - timedelta(days=days) if days is not None else None
        with self._writing() as db:
            likes, dislikes = (
                self._feedback(db)
                .execute(
                    "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) "
                    "FROM feedback WHERE at >= ?",
                    (_epoch(since) if since else _EPOCH_MIN,),
                )
                .fetchone()
            )
        return likes, dislikes

    def to_learn(self, *, days: int | None = None, top: int = 10) -> tuple[QuestionGroup, ...]:
        """The questions most often declined or disliked (👎), near-duplicates grouped."""
        since = _as_utc(self._clock()) - timedelta(days=days) if days is not None else None
        since_epoch = _epoch(since) if since else _EPOCH_MIN
        with self._writing() as db:
            texts = [
                text
                for (text,) in self._feedback(db).execute(
                    "SELECT question FROM ("
                    " SELECT at, question FROM question_log"
                    "  WHERE answered = 0 AND question IS NOT NULL AND at >= ?"
                    " UNION ALL SELECT at, question FROM feedback"
                    "  WHERE vote = -1 AND question IS NOT NULL AND at >= ?"
                    ") ORDER BY at DESC LIMIT ?",
                    (since_epoch, since_epoch, MAX_GROUPED_ROWS),
                )
            ]
        return group_questions(texts, top=top)

    def purge(self, retention_days: int = DEFAULT_RETENTION_DAYS) -> int:
        """Delete log rows, quiz polls and daily-post records older than ``retention_days``,
        and sent answers older than that or ANSWERS_KEPT_DAYS, whichever is sooner.

        Returns how many rows went. Settings, scores and quiz rotation are kept: they are
        the chat's state, not a log.
        """
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days}")
        cutoff = _as_utc(self._clock()) - timedelta(days=retention_days)
        before, before_day = _epoch(cutoff), cutoff.date().isoformat()
        with self._writing() as db:
            deleted = db.execute("DELETE FROM question_log WHERE at < ?", (before,)).rowcount
            deleted += (
                self._feedback(db).execute("DELETE FROM feedback WHERE at < ?", (before,)).rowcount
            )
            deleted += db.execute("DELETE FROM polls WHERE created_at < ?", (before,)).rowcount
            deleted += db.execute("DELETE FROM daily_posts WHERE day < ?", (before_day,)).rowcount
            answers_before = _epoch(_as_utc(self._clock()) - timedelta(days=ANSWERS_KEPT_DAYS))
            deleted += db.execute(
                "DELETE FROM sent_answers WHERE sent_at < ?", (max(before, answers_before),)
            ).rowcount
        if deleted:
            logger.info("purged %d rows older than %d days", deleted, retention_days)
        return deleted

    def stats(self, *, days: int | None = None, top: int = 10) -> Stats:
        """Totals, answer rate, top intents and the biggest groups of unanswered questions.

        ``days`` limits everything to the last so many days; None counts the whole log.
        The grouping runs after the lock is released, but takes up to a few seconds on a full
        log: from the bot, call it in a worker thread (``asyncio.to_thread``).
        """
        if days is not None and days < 1:
            raise ValueError(f"days must be at least 1 or None, got {days}")
        if top < 0:
            raise ValueError(f"top must not be negative, got {top}")
        since = _as_utc(self._clock()) - timedelta(days=days) if days is not None else None
        since_epoch = _epoch(since) if since is not None else _EPOCH_MIN
        with self._reading() as db:
            questions, answered = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM question_log WHERE at >= ?",
                (since_epoch,),
            ).fetchone()
            intents = db.execute(
                "SELECT intent, COUNT(*) AS n FROM question_log "
                "WHERE answered = 1 AND intent IS NOT NULL AND at >= ? "
                "GROUP BY intent ORDER BY n DESC, intent LIMIT ?",
                (since_epoch, top),
            ).fetchall()
            texts = [  # cleaned again: rows written before masking was added
                _clean_question(text) or ""
                for (text,) in db.execute(
                    "SELECT question FROM question_log "
                    "WHERE answered = 0 AND question IS NOT NULL AND at >= ? "
                    "ORDER BY at DESC, id DESC LIMIT ?",
                    (since_epoch, MAX_GROUPED_ROWS),
                )
            ]
            since_day = since.date().isoformat() if since is not None else ""
            (unsure,) = db.execute(
                "SELECT COUNT(*) FROM daily_posts WHERE state = 'unsure' AND day >= ?",
                (since_day,),
            ).fetchone()
            skipped = db.execute("SELECT value FROM meta WHERE key = 'updates_skipped'").fetchone()
        return Stats(
            days=days,
            since=since.isoformat(timespec="seconds") if since else None,
            questions=questions,
            answered=answered,
            unanswered=questions - answered,
            answer_rate=answered / questions if questions else 0.0,
            top_intents=tuple(IntentCount(intent, count) for intent, count in intents),
            top_unanswered=group_questions(texts, top=top),
            unanswered_considered=len(texts),
            daily_posts_unsure=unsure,
            updates_skipped=int(skipped[0]) if skipped else 0,
        )
