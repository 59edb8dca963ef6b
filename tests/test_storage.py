"""Tests of bot.storage against real SQLite files: no mocks, one file per test."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.storage import (
    _MIGRATIONS,
    ANSWERS_KEPT_DAYS,
    ANSWERS_PER_CHAT,
    DB_FILENAME,
    MAX_QUESTION_CHARS,
    SCHEMA_VERSION,
    ChatSettings,
    Score,
    SentAnswer,
    Storage,
    StorageError,
    group_questions,
    mask_personal,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NOBODY = 65534


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(tmp_path: Path, clock: Clock) -> Iterator[Storage]:
    with Storage.open(tmp_path, clock=clock) as opened:
        yield opened


def inspect(data_dir: Path) -> sqlite3.Connection:
    """A separate read-only connection, to look at the file as the sqlite3 shell would."""
    return sqlite3.connect(f"file:{data_dir / DB_FILENAME}?mode=ro", uri=True)


def log(storage: Storage, question: str | None, *, answered: bool, **fields: object) -> None:
    values: dict = {"chat_type": "private", "lang": "en", "intent": None, "confidence": 0.2}
    values.update(fields)
    storage.log_question(answered=answered, question=question, **values)


# -- opening, WAL, migrations -----------------------------------------------------------------


def test_open_creates_folder_and_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet"
    with Storage.open(data_dir) as storage:
        assert storage.path == data_dir / DB_FILENAME
    assert (data_dir / DB_FILENAME).is_file()
    with inspect(data_dir) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_wal_mode_is_on(storage: Storage, tmp_path: Path) -> None:
    with inspect(tmp_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_an_empty_file_from_version_0(tmp_path: Path) -> None:
    (tmp_path / DB_FILENAME).touch()
    with Storage.open(tmp_path) as storage:
        storage.set_language(1, "private", "km")
    with inspect(tmp_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"chats", "quiz_seen", "polls", "quiz_scores", "daily_posts", "question_log"} <= tables


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    with Storage.open(tmp_path) as storage:
        storage.set_subscribed(7, "group", True)
    with Storage.open(tmp_path) as storage:
        assert storage.subscribed_chats() == [7]


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    Storage.open(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_FILENAME) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError) as info:
        Storage.open(tmp_path)
    message = str(info.value)
    assert str(tmp_path / DB_FILENAME) in message
    assert f"newer asem-bot (schema version 99, this version knows {SCHEMA_VERSION})" in message
    with inspect(tmp_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 99


def test_negative_schema_version_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_FILENAME) as db:
        db.execute("PRAGMA user_version = -1")
    with pytest.raises(StorageError, match="not an asem-bot database"):
        Storage.open(tmp_path)


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / DB_FILENAME).write_bytes(os.urandom(8192))
    with pytest.raises(StorageError) as info:
        Storage.open(tmp_path)
    message = str(info.value)
    assert str(tmp_path / DB_FILENAME) in message
    assert "is not a SQLite database" in message
    assert "move it away or restore a backup" in message
    assert "\n" not in message


def test_data_dir_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("oops")
    with pytest.raises(StorageError, match="not a folder"):
        Storage.open(tmp_path / "data")


def test_closed_storage_raises_and_close_is_idempotent(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path)
    storage.close()
    storage.close()
    with pytest.raises(StorageError, match="closed"):
        storage.chat(1)


# -- read-only files and folders ----------------------------------------------------------------


@functools.cache
def _chmod_binds() -> bool:
    """Whether chmod stops us writing; root (CAP_DAC_OVERRIDE) writes anyway."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.touch()
        probe.chmod(0o444)
        try:
            probe.open("a").close()
        except PermissionError:
            return True
        return False


def _open_as_nobody(data_dir: Path) -> str:
    """Open the database in a forked child that has dropped root; the child's outcome."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        outcome = "crashed"
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                Storage.open(data_dir).close()
                outcome = "opened"
            except StorageError as exc:
                outcome = f"StorageError: {exc}"
            except BaseException as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            os.write(write_end, outcome.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def open_error(data_dir: Path, *, keep_writable: tuple[Path, ...] = ()) -> str:
    """The StorageError message from opening ``data_dir`` as a user its modes forbid to write.

    As root, chmod binds nothing, so the open runs in a child that has become ``nobody``:
    ``keep_writable`` are then handed to nobody, everything else stays root's and read-only
    to it, which is the same situation the modes give an ordinary user.
    """
    if _chmod_binds():
        with pytest.raises(StorageError) as info:
            Storage.open(data_dir)
        return str(info.value)
    if not hasattr(os, "fork") or os.geteuid() != 0:
        pytest.skip("chmod does not stop writes here and privileges cannot be dropped")
    for path in keep_writable:
        os.chown(path, NOBODY, NOBODY)
    outcome = _open_as_nobody(data_dir)
    assert outcome.startswith("StorageError: "), outcome
    return outcome.removeprefix("StorageError: ")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder every user can traverse (pytest's tmp_path is private to us, so not nobody)."""
    folder = Path(tempfile.mkdtemp(prefix="asem-storage-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
    shutil.rmtree(folder)


def test_read_only_database_file_fails_at_open(open_dir: Path) -> None:
    Storage.open(open_dir).close()
    (open_dir / DB_FILENAME).chmod(0o444)
    message = open_error(open_dir, keep_writable=(open_dir,))
    assert str(open_dir / DB_FILENAME) in message
    assert "cannot be written" in message
    assert "check permissions" in message


def test_read_only_folder_with_a_database_fails_at_open(open_dir: Path) -> None:
    Storage.open(open_dir).close()
    open_dir.chmod(0o555)
    message = open_error(open_dir, keep_writable=(open_dir / DB_FILENAME,))
    assert str(open_dir / DB_FILENAME) in message
    assert "cannot be written" in message
    assert "check permissions" in message


def test_read_only_folder_on_first_run_fails_at_open(open_dir: Path) -> None:
    open_dir.chmod(0o555)
    message = open_error(open_dir)
    assert str(open_dir / DB_FILENAME) in message
    assert "check permissions of the data folder" in message


# -- per-chat settings ----------------------------------------------------------------------------


def test_unknown_chat_has_defaults(storage: Storage) -> None:
    assert storage.chat(42) == ChatSettings(chat_id=42)
    assert storage.chat(42).lang == "en"
    assert not storage.chat(42).subscribed
    assert not storage.chat(42).auto_answer


def test_settings_round_trip_and_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    with Storage.open(tmp_path, clock=clock) as storage:
        storage.set_language(-100123, "supergroup", "km")
        storage.set_auto_answer(-100123, "supergroup", True)
        storage.set_language(5, "private", "en")
    with Storage.open(tmp_path, clock=clock) as storage:
        assert storage.chat(-100123) == ChatSettings(
            -100123, "supergroup", "km", subscribed=False, auto_answer=True, lang_chosen=True
        )
        storage.set_auto_answer(-100123, "supergroup", False)
        assert not storage.chat(-100123).auto_answer
        assert storage.chat(-100123).lang == "km"
        assert storage.chat(5) == ChatSettings(5, "private", "en", lang_chosen=True)
        storage.set_subscribed(6, "private", True)  # a row, but no language chosen
        assert not storage.chat(6).lang_chosen


def test_settings_reject_nonsense_labels(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.set_language(1, "private", "")
    with pytest.raises(ValueError):
        storage.set_language(1, "private", "x" * 100)


def test_subscribe_and_unsubscribe_are_idempotent(storage: Storage, tmp_path: Path) -> None:
    assert storage.set_subscribed(3, "private", False) is False  # unknown chat: nothing to do
    with inspect(tmp_path) as db:
        assert db.execute("SELECT COUNT(*) FROM chats").fetchone()[0] == 0
    assert storage.set_subscribed(3, "private", True) is True
    assert storage.set_subscribed(3, "private", True) is False
    assert storage.set_subscribed(1, "group", True) is True
    assert storage.subscribed_chats() == [1, 3]
    assert storage.set_subscribed(3, "private", False) is True
    assert storage.set_subscribed(3, "private", False) is False
    assert storage.subscribed_chats() == [1]
    assert storage.chat(3).subscribed is False


def test_forget_chat_keeps_nothing(storage: Storage, tmp_path: Path) -> None:
    chat = -100777
    storage.set_subscribed(chat, "supergroup", True)
    storage.set_language(chat, "supergroup", "km")
    storage.mark_quiz_seen(chat, "q1")
    storage.record_poll("p1", chat, "q1", 0)
    storage.record_poll_answer("p1", [0])
    storage.claim_daily_post(date(2025, 6, 1), chat)
    storage.set_subscribed(8, "private", True)

    storage.forget_chat(chat)

    assert storage.subscribed_chats() == [8]
    assert storage.chat(chat) == ChatSettings(chat_id=chat)
    assert storage.quiz_seen(chat) == set()
    assert storage.chat_score(chat) == Score()
    with inspect(tmp_path) as db:
        for table in ("chats", "quiz_seen", "polls", "quiz_scores", "daily_posts"):
            query = f"SELECT COUNT(*) FROM {table} WHERE chat_id = ?"
            assert db.execute(query, (chat,)).fetchone()[0] == 0, table


# -- daily posts ----------------------------------------------------------------------------------


def test_claim_daily_post_once_per_day_and_chat(storage: Storage) -> None:
    day = date(2025, 6, 1)
    assert storage.claim_daily_post(day, 1) is True
    assert storage.claim_daily_post(day, 1) is False
    assert storage.claim_daily_post(day, 2) is True
    assert storage.claim_daily_post(day + timedelta(days=1), 1) is True
    assert storage.daily_posted(day) == {1, 2}
    assert storage.daily_posted(day - timedelta(days=1)) == set()


def test_claim_daily_post_survives_a_restart(tmp_path: Path) -> None:
    day = date(2025, 6, 1)
    with Storage.open(tmp_path) as storage:
        assert storage.claim_daily_post(day, 1) is True
    with Storage.open(tmp_path) as storage:
        assert storage.claim_daily_post(day, 1) is False
        assert storage.daily_posted(day) == {1}


def test_release_allows_a_new_claim(storage: Storage) -> None:
    day = date(2025, 6, 1)
    assert storage.claim_daily_post(day, 1)
    storage.release_daily_post(day, 1)
    assert storage.daily_posted(day) == set()
    assert storage.claim_daily_post(day, 1) is True
    assert storage.claim_daily_post(day, 1) is False


def _race(claim: list, threads: int = 8) -> list[bool]:
    start = threading.Barrier(threads)
    results: list[bool] = []
    results_lock = threading.Lock()

    def run(index: int) -> None:
        start.wait()
        won = claim[index % len(claim)]()
        with results_lock:
            results.append(won)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def test_concurrent_claims_on_one_storage_have_one_winner(storage: Storage) -> None:
    day = date(2025, 6, 1)
    results = _race([lambda: storage.claim_daily_post(day, 99)])
    assert sorted(results) == [False] * 7 + [True]


def test_concurrent_claims_from_two_connections_have_one_winner(tmp_path: Path) -> None:
    # Two Storage objects are two connections, as two processes would have.
    day = date(2025, 6, 1)
    with Storage.open(tmp_path) as first, Storage.open(tmp_path) as second:
        results = _race(
            [lambda: first.claim_daily_post(day, 99), lambda: second.claim_daily_post(day, 99)]
        )
    assert sorted(results) == [False] * 7 + [True]


# -- quiz -----------------------------------------------------------------------------------------


def test_quiz_rotation(storage: Storage) -> None:
    assert storage.quiz_seen(1) == set()
    storage.mark_quiz_seen(1, "summit_first")
    storage.mark_quiz_seen(1, "asef_founded")
    storage.mark_quiz_seen(1, "summit_first")
    storage.mark_quiz_seen(2, "partners_count")
    assert storage.quiz_seen(1) == {"summit_first", "asef_founded"}
    storage.reset_quiz_seen(1)
    assert storage.quiz_seen(1) == set()
    assert storage.quiz_seen(2) == {"partners_count"}


def test_polls_and_scores(storage: Storage, clock: Clock) -> None:
    storage.record_poll("5001", -100, "summit_first", 2)
    record = storage.poll("5001")
    assert record is not None
    assert (record.poll_id, record.chat_id, record.key, record.correct_option) == (
        "5001",
        -100,
        "summit_first",
        2,
    )
    assert record.created_at == clock.now
    assert storage.poll("nope") is None

    assert storage.record_poll_answer("nope", [0]) is None
    assert storage.record_poll_answer("5001", [2]) is True
    assert storage.record_poll_answer("5001", [2]) is True  # another user in the group
    assert storage.record_poll_answer("5001", [0]) is False
    assert storage.record_poll_answer("5001", [0, 2]) is False
    assert storage.record_poll_answer("5001", []) is False  # a retraction: not counted
    assert storage.chat_score(-100) == Score(answered=4, correct=2)
    assert storage.chat_score(12345) == Score(answered=0, correct=0)


def test_poll_answers_store_no_user(storage: Storage, tmp_path: Path) -> None:
    storage.record_poll("p", 1, "k", 0)
    storage.record_poll_answer("p", [0])
    with inspect(tmp_path) as db:
        for table in ("polls", "quiz_scores"):
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            assert not any("user" in column or "name" in column for column in columns)


# -- question log ---------------------------------------------------------------------------------


def test_question_log_has_no_chat_or_user_column(storage: Storage, tmp_path: Path) -> None:
    with inspect(tmp_path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(question_log)")}
    assert columns == {
        "id", "at", "chat_type", "lang", "intent", "confidence", "answered", "question",
    }  # fmt: skip
    # No table anywhere keeps who someone is.
    with inspect(tmp_path) as db:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in db.execute(f"PRAGMA table_info({table})"):
                assert not {"user", "name", "username"} & set(row[1].split("_")), (table, row[1])


def test_answered_questions_are_counted_without_text(storage: Storage, tmp_path: Path) -> None:
    secret = "Where was ASEM5 held? my phone is +32 123 456"
    log(storage, secret, answered=True, intent="summit_place", confidence=0.95)
    log(storage, "what is the weather in Paris", answered=False, intent=None, confidence=0.1)
    with inspect(tmp_path) as db:
        rows = db.execute(
            "SELECT chat_type, lang, intent, confidence, answered, question FROM question_log "
            "ORDER BY id"
        ).fetchall()
        dump = "\n".join(db.iterdump())
    assert rows == [
        ("private", "en", "summit_place", 0.95, 1, None),
        ("private", "en", None, 0.1, 0, "what is the weather in Paris"),
    ]
    assert "+32 123 456" not in dump


def test_the_schema_itself_refuses_text_on_answered_rows(storage: Storage, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_FILENAME) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO question_log (at, chat_type, lang, confidence, answered, question) "
            "VALUES (0, 'private', 'en', 1.0, 1, 'leak')"
        )


def test_question_text_is_trimmed_and_cleaned(storage: Storage, tmp_path: Path) -> None:
    log(storage, "  a\x00b \n\t c  " + "x" * 1000, answered=False)
    log(storage, "   \x00  ", answered=False)
    with inspect(tmp_path) as db:
        (long_text,), (blank,) = db.execute("SELECT question FROM question_log ORDER BY id")
    assert long_text.startswith("ab c xxx")
    assert len(long_text) == MAX_QUESTION_CHARS
    assert blank is None


def test_log_time_defaults_to_clock_and_accepts_naive_utc(
    storage: Storage, tmp_path: Path, clock: Clock
) -> None:
    log(storage, "one", answered=False)
    log(storage, "two", answered=False, at=datetime(2025, 1, 2, 3, 4, 5))
    log(storage, "three", answered=False, at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    with inspect(tmp_path) as db:
        stamps = [at for (at,) in db.execute("SELECT at FROM question_log ORDER BY id")]
    assert stamps[0] == int(clock.now.timestamp())
    assert stamps[1] == stamps[2] == int(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())


def test_odd_confidence_values_are_kept_in_range(storage: Storage, tmp_path: Path) -> None:
    for confidence in (float("nan"), float("inf"), -3.0, 7.0):
        log(storage, "q", answered=False, confidence=confidence)
    with inspect(tmp_path) as db:
        stored = [value for (value,) in db.execute("SELECT confidence FROM question_log")]
    assert stored == [0.0, 0.0, 0.0, 1.0]


def test_purge_by_retention(storage: Storage, clock: Clock, tmp_path: Path) -> None:
    for age in (200, 91, 89, 0):
        log(storage, f"{age} days old", answered=False, at=NOW - timedelta(days=age))
    storage.claim_daily_post((NOW - timedelta(days=120)).date(), 1)
    storage.claim_daily_post(NOW.date(), 1)
    clock.now = NOW - timedelta(days=100)
    storage.record_poll("old", 1, "k", 0)
    clock.now = NOW
    storage.record_poll("new", 1, "k", 0)

    assert storage.purge(90) == 4  # two log rows, one daily post, one poll

    with inspect(tmp_path) as db:
        left = [text for (text,) in db.execute("SELECT question FROM question_log ORDER BY at")]
    assert left == ["89 days old", "0 days old"]
    assert storage.daily_posted(NOW.date()) == {1}
    assert storage.poll("old") is None
    assert storage.poll("new") is not None
    assert storage.purge(90) == 0
    clock.now = NOW + timedelta(days=365)
    assert storage.purge() == 4
    with pytest.raises(ValueError):
        storage.purge(0)


def test_open_with_retention_purges(tmp_path: Path, clock: Clock) -> None:
    with Storage.open(tmp_path, clock=clock) as storage:
        log(storage, "old", answered=False, at=NOW - timedelta(days=30))
        log(storage, "new", answered=False, at=NOW)
    with Storage.open(tmp_path, clock=clock) as storage:  # no retention: nothing goes
        assert storage.stats().questions == 2
    with Storage.open(tmp_path, clock=clock, retention_days=7) as storage:
        assert storage.stats().questions == 1


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=()), max_size=2000),
    answered=st.booleans(),
)
@example(text="\x00" * 10, answered=False)
@example(text="\ud800 lone surrogate \udfff", answered=False)
@example(text="😀" * 100_000 + "\x00", answered=False)
@example(text="ASEM " * 200_000, answered=True)
def test_any_question_text_is_stored_safely(
    shared_storage: Storage, text: str, answered: bool
) -> None:
    log(shared_storage, text, answered=answered)
    with inspect(shared_storage.path.parent) as db:
        (stored,) = db.execute(
            "SELECT question FROM question_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    if answered:
        assert stored is None
        return
    visible = "".join(STEERING.sub("", text).split())
    assert (stored is None) == (not visible)
    if stored is not None:
        assert len(stored) <= MAX_QUESTION_CHARS
        assert not STEERING.search(stored)  # no NUL, escape, C1 control or bidi override
        stored.encode("utf-8")  # a proper string, whatever came in


STEERING = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def shared_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storage]:
    with Storage.open(tmp_path_factory.mktemp("shared")) as opened:
        yield opened


# -- stats ----------------------------------------------------------------------------------------


def _sample_log(storage: Storage) -> None:
    for intent, times in (("summit_date", 5), ("members", 3), ("asef", 1)):
        for _ in range(times):
            log(storage, "ignored", answered=True, intent=intent, confidence=0.9)
    for question in (
        "When is the next summit?",
        "When is the next summit?",
        "when is the next summit",
        "wen is the next summit??",
        "What's the weather in Paris?",
        "what's the weather in paris",
        "population of Singapore",
        "???",  # nothing left to group once punctuation is gone
        None,  # unsure, no text given
    ):
        log(storage, question, answered=False, intent="summit_date", confidence=0.4)


def test_stats_totals_rate_intents_and_groups(storage: Storage) -> None:
    _sample_log(storage)
    stats = storage.stats()
    assert (stats.questions, stats.answered, stats.unanswered) == (18, 9, 9)
    assert stats.answer_rate == pytest.approx(0.5)
    assert [(i.intent, i.count) for i in stats.top_intents] == [
        ("summit_date", 5),
        ("members", 3),
        ("asef", 1),
    ]
    assert stats.unanswered_considered == 8
    groups = [(g.representative, g.count) for g in stats.top_unanswered]
    assert groups == [
        ("When is the next summit?", 4),
        ("what's the weather in paris", 2),  # a tie between wordings: the most recent wins
        ("population of Singapore", 1),
    ]
    assert set(stats.top_unanswered[0].examples) == {
        "when is the next summit",
        "wen is the next summit??",
    }
    assert stats.days is None and stats.since is None
    json.dumps(asdict(stats))  # what `asem-bot stats --json` prints


def test_stats_for_recent_days_and_top(storage: Storage, clock: Clock) -> None:
    _sample_log(storage)
    clock.now = NOW + timedelta(days=40)
    log(storage, "who founded ASEF?", answered=False)
    log(storage, "x", answered=True, intent="asef", confidence=0.9)
    stats = storage.stats(days=30, top=1)
    assert (stats.questions, stats.answered, stats.unanswered) == (2, 1, 1)
    assert [(i.intent, i.count) for i in stats.top_intents] == [("asef", 1)]
    assert [g.representative for g in stats.top_unanswered] == ["who founded ASEF?"]
    assert stats.since == (clock.now - timedelta(days=30)).isoformat(timespec="seconds")
    assert len(storage.stats(top=1).top_unanswered) == 1
    with pytest.raises(ValueError):
        storage.stats(days=0)


def test_stats_of_an_empty_log(storage: Storage) -> None:
    stats = storage.stats()
    assert (stats.questions, stats.answered, stats.answer_rate) == (0, 0, 0.0)
    assert stats.top_intents == () and stats.top_unanswered == ()


def test_group_questions_merges_near_duplicates_only() -> None:
    groups = group_questions(
        [
            "wen is the next summit??",
            "When is the next summit?",
            "when is the next summit",
            "When is the next summit?",
            "the next summit, when is it?",  # word order does not matter (token_sort_ratio)
            "When was the last summit?",  # a different question
            "Who is the ASEF director?",
            "WHO IS THE ASEF DIRECTOR",
        ]
    )
    assert [(g.representative, g.count) for g in groups] == [
        ("When is the next summit?", 5),
        ("Who is the ASEF director?", 2),
        ("When was the last summit?", 1),
    ]
    assert groups[0].examples == (
        "when is the next summit",
        "wen is the next summit??",
        "the next summit, when is it?",
    )
    assert groups[1].examples == ("WHO IS THE ASEF DIRECTOR",)


def test_group_questions_keeps_at_most_three_examples_and_top() -> None:
    variants = [
        "Where is ASEM?",
        "where is asem",
        "Where is ASEM ??",
        "where is ASEM!",
        "WHERE IS ASEM",
    ]
    groups = group_questions(variants + ["Something else entirely"], top=1)
    assert len(groups) == 1
    assert groups[0].count == 5
    assert len(groups[0].examples) == 3


# -- the inbox of updates ----------------------------------------------------------------------


def _raw(update_id: int, text: str = "hi") -> tuple[int, str]:
    return update_id, json.dumps({"update_id": update_id, "message": {"text": text}})


def test_an_update_is_new_once_and_done_with_its_question_log_rows(
    storage: Storage, tmp_path: Path
) -> None:
    assert storage.store_updates([_raw(1), _raw(2)]) == [1, 2]
    assert storage.store_updates([_raw(2), _raw(3)]) == [3]  # 2 came again: not new
    question = {
        "chat_type": "private",
        "lang": "en",
        "intent": None,
        "confidence": 0.2,
        "answered": False,
        "question": "what is the weather",
    }
    storage.finish_updates([(1, [question]), (2, [])])
    status = storage.inbox_status()
    assert (status.pending, status.skipped) == (1, 0)
    with inspect(tmp_path) as db:
        rows = db.execute("SELECT update_id, raw IS NULL, done_at IS NULL FROM updates")
        assert sorted(rows) == [(1, 1, 0), (2, 1, 0), (3, 0, 1)]  # done: the text is gone
        logged = db.execute("SELECT question FROM question_log").fetchall()
        assert logged == [("what is the weather",)]
    assert storage.store_updates([_raw(1)]) == []  # done, and not confirmed yet: still known


def test_the_inbox_forgets_done_updates_once_confirmed_or_two_days_old(
    storage: Storage, clock: Clock, tmp_path: Path
) -> None:
    storage.store_updates([_raw(1), _raw(2), _raw(3)])
    storage.finish_updates([(1, []), (2, [])])
    storage.store_updates([], confirmed_below=2)  # Telegram was told: 1 will not come again
    with inspect(tmp_path) as db:
        assert [r for (r,) in db.execute("SELECT update_id FROM updates")] == [2, 3]
    clock.now += timedelta(days=2, seconds=1)
    storage.store_updates([])
    with inspect(tmp_path) as db:  # 3 is not done: it stays until handled or given up
        assert [r for (r,) in db.execute("SELECT update_id FROM updates")] == [3]


def test_unreadable_updates_are_counted_and_kept_without_content(
    storage: Storage, tmp_path: Path
) -> None:
    assert storage.store_updates([_raw(5)], [4]) == [5, 4]
    assert storage.store_updates([], [4]) == []  # the same one again is not counted twice
    storage.skip_update(5)
    assert storage.inbox_status().skipped == 2
    assert storage.stats().updates_skipped == 2
    with inspect(tmp_path) as db:
        assert db.execute("SELECT COUNT(*) FROM updates WHERE raw IS NOT NULL").fetchone() == (0,)


def test_pending_updates_are_replayed_then_given_up(storage: Storage, clock: Clock) -> None:
    storage.store_updates([_raw(1), _raw(2)])
    storage.finish_updates([(1, [])])
    for attempt in (1, 2, 3):
        [pending] = storage.pending_updates(max_attempts=3)
        assert (pending.update_id, pending.attempts) == (2, attempt)
        assert json.loads(pending.raw)["message"]["text"] == "hi"
    assert storage.pending_updates(max_attempts=3) == []  # it may be what crashed the bot
    storage.store_updates([_raw(3)])
    clock.now += timedelta(days=1, seconds=1)
    assert storage.pending_updates(max_attempts=3) == []  # older than Telegram keeps any
    assert storage.inbox_status().skipped == 2


def test_daily_post_states_after_a_crash(storage: Storage) -> None:
    day = date(2025, 6, 1)
    for chat in (1, 2, 3, 4):
        assert storage.claim_daily_post(day, chat)
    storage.daily_post_sending(day, 2)  # the request had left when the bot died
    storage.daily_post_sending(day, 3)
    storage.daily_post_done(day, 3)
    storage.daily_post_done(day, 4, sure=False)  # timed out
    assert storage.recover_daily_posts() == (1, 1)  # chat 1 never reached Telegram
    assert storage.daily_posted(day) == {2, 3, 4}
    assert storage.claim_daily_post(day, 1)  # so it may be sent now
    assert storage.stats().daily_posts_unsure == 2
    assert storage.stats(days=1).daily_posts_unsure == 2
    assert storage.recover_daily_posts() == (1, 0)  # the new claim had not left either


def test_a_version_1_database_keeps_its_daily_posts_as_sent(tmp_path: Path) -> None:
    """The database of the release before the inbox: its claims were all sent or unsure, and
    are kept as sent (never sent twice); the new tables come empty."""
    from bot.storage import _MIGRATIONS

    tmp_path.mkdir(exist_ok=True)
    with sqlite3.connect(tmp_path / DB_FILENAME) as db:
        for statement in _MIGRATIONS[0]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO daily_posts VALUES ('2025-06-01', 7, 0)")
    with Storage.open(tmp_path) as storage:
        assert storage.recover_daily_posts() == (0, 0)
        assert storage.daily_posted(date(2025, 6, 1)) == {7}
        assert storage.inbox_status().pending == 0
    with inspect(tmp_path) as db:
        assert db.execute("SELECT state FROM daily_posts").fetchall() == [("sent",)]
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


# -- sent answers, chosen languages, streaks (schema version 3) -----------------------------------


def test_sent_answers_round_trip_bounded_and_purged(
    storage: Storage, clock: Clock, tmp_path: Path
) -> None:
    storage.remember_answers([(-100, 10, 9, "meeting.place|meeting=summit_5|||", None)])
    found = storage.sent_answer(-100, 10)
    assert found == SentAnswer(-100, 10, 9, "meeting.place|meeting=summit_5|||", NOW)
    assert storage.answer_to_question(-100, 9) == found
    assert storage.sent_answer(-100, 9) is None and storage.sent_answer(-101, 10) is None
    # The same message remembered again (edited to show another answer): updated, and the
    # question it answers is kept.
    storage.remember_answers([(-100, 10, None, "meeting.place|meeting=summit_6|||", None)])
    assert storage.sent_answer(-100, 10).topic.endswith("summit_6|||")
    assert storage.sent_answer(-100, 10).question_id == 9
    # Each chat keeps its last ANSWERS_PER_CHAT.
    rows = [
        (-200, n, None, None, NOW - timedelta(seconds=ANSWERS_PER_CHAT + 10 - n))
        for n in range(ANSWERS_PER_CHAT + 10)
    ]
    storage.remember_answers(rows)
    with inspect(tmp_path) as db:
        kept = [
            n for (n,) in db.execute("SELECT message_id FROM sent_answers WHERE chat_id = -200")
        ]
    assert sorted(kept) == list(range(10, ANSWERS_PER_CHAT + 10))
    assert storage.sent_answer(-100, 10) is not None  # other chats are not touched
    # Older than ANSWERS_KEPT_DAYS: purged, whatever the retention.
    clock.now = NOW + timedelta(days=ANSWERS_KEPT_DAYS, seconds=1)
    assert storage.purge(90) == ANSWERS_PER_CHAT + 1
    assert storage.sent_answer(-100, 10) is None
    # A forgotten chat leaves none behind.
    storage.remember_answers([(-300, 1, 1, None, None)])
    storage.forget_chat(-300)
    assert storage.sent_answer(-300, 1) is None


def test_sent_answers_store_no_user(storage: Storage, tmp_path: Path) -> None:
    storage.remember_answers([(5, 2, 1, "x||||", None)])
    with inspect(tmp_path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(sent_answers)")}
    assert columns == {"chat_id", "message_id", "question_id", "topic", "sent_at"}


def test_quiz_streak(storage: Storage) -> None:
    storage.record_poll("p", -5, "k", 1)
    assert storage.score_poll_answer("p", [1]).score == Score(1, 1, 1)
    assert storage.score_poll_answer("p", [1]).score == Score(2, 2, 2)
    scored = storage.score_poll_answer("p", [0])
    assert scored is not None and not scored.right and scored.key == "k"
    assert scored.score == Score(3, 2, 0) and scored.chat_id == -5
    assert storage.score_poll_answer("p", []).score == Score(3, 2, 0)  # a retraction
    assert storage.score_poll_answer("nope", [1]) is None
    assert storage.chat_score(-5) == Score(3, 2, 0)


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    """A database from before version 3: a language other than English was chosen, so it is
    marked chosen; English is the default and stays unchosen; scores get a streak of 0."""
    path = tmp_path / DB_FILENAME
    with sqlite3.connect(path) as db:
        for statement in _MIGRATIONS[0]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO chats VALUES (1, 'private', 'km', 0, 0, 0, 0)")
        db.execute("INSERT INTO chats VALUES (2, 'private', 'en', 1, 0, 0, 0)")
        db.execute("INSERT INTO quiz_scores VALUES (1, 4, 3)")
    with Storage.open(tmp_path) as storage:
        assert storage.chat(1).lang_chosen and not storage.chat(2).lang_chosen
        assert storage.chat(2).subscribed
        assert storage.chat_score(1) == Score(4, 3, 0)
    with inspect(tmp_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# -- personal details in logged questions -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("call me on +855 12 345 678 please", "call me on [number] please"),
        ("my number is 012-345-678", "my number is [number]"),
        ("(023) 123 456 is the office", "[number] is the office"),
        ("+44 20 7946 0958", "[number]"),
        ("my id 123456789 is blocked", "my id [number] is blocked"),
        ("write to a.b+c@example.co.uk or bob@gmail.com", "write to [e-mail] or [e-mail]"),
        ("ask @some_user or t.me/joe_bloggs", "ask [user] or [user]"),
        # Not personal: years, dates, short numbers, ASEM's own names.
        ("summits in 1996 1998 2000 2002", "summits in 1996 1998 2000 2002"),
        ("what happened on 2004-10-08 or 8.10.2004", "what happened on 2004-10-08 or 8.10.2004"),
        ("ASEM13 in 2021, budget 100000", "ASEM13 in 2021, budget 100000"),
        ("is ASEM5 @ Bangkok?", "is ASEM5 @ Bangkok?"),
    ],
)
def test_personal_details_are_masked(typed: str, kept: str) -> None:
    assert mask_personal(typed) == kept


def test_logged_questions_keep_no_phone_email_or_username(storage: Storage) -> None:
    log(
        storage, "I am Dara, +855 97 123 4567, dara@example.com, @dara_kh: ASEM14?", answered=False
    )
    with inspect(storage.path.parent) as db:
        (stored,) = db.execute("SELECT question FROM question_log").fetchone()
    assert stored == "I am Dara, [number], [e-mail], [user]: ASEM14?"
    (group,) = storage.stats().top_unanswered
    assert group.representative == stored
