"""The inbox: updates are stored before Telegram is told they arrived, and handled once.

Long polling confirms updates implicitly: the next ``getUpdates`` asks for ids above the last
one fetched, and Telegram forgets everything below. :class:`InboxBot` (python-telegram-bot's
``ExtBot`` with its own ``get_updates``) therefore stores each fetched batch in SQLite, as the
JSON Telegram sent, before it hands the batch on; only then can a later ``getUpdates`` confirm
it. When an update has been handled, :class:`Inbox` marks it done in the same transaction as
its question-log rows (:meth:`bot.storage.Storage.finish_updates`). So:

* a kill at any moment loses nothing: at the next start :meth:`Inbox.replay` hands on what was
  stored and not done, and Telegram sends again what it had not been told about;
* nothing is answered twice: an update Telegram sends again (it was fetched, perhaps handled,
  but never confirmed) is already in the inbox and is dropped. The one window left is a kill
  between Telegram taking an answer and the commit that follows it (about a millisecond);
* one update python-telegram-bot cannot parse (a malformed or future kind) no longer makes
  every ``getUpdates`` fail: each update of a batch is parsed on its own, and one that fails is
  logged in one line (its id and kind, never its content), counted, stored as done, and the
  offset moves past it;
* an update that was handed on at three starts and never finished (it may be what crashed the
  bot) is given up, and so is one older than a day (Telegram keeps updates a day).

Without storage (or while storage fails, e.g. a full disk) updates are still parsed one by one
and answered; they are just not durable, and the question log falls back to its batches.

:class:`Inbox` also keeps what the heartbeat reports (:meth:`Inbox.progress`): when polling last
succeeded, how many updates are in hand, since when, and when one was last finished, so
``asem-bot health`` can tell a bot that polls but makes no progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Protocol, runtime_checkable

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.ext import ExtBot

from bot.channels.telegram.runtime import LoggedQuestion, QuestionLog

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
"""Starts at which a stored update is handed on before it is given up."""
MAX_UNWRITTEN = 10_000
"""Finished updates kept in memory while storage fails; then the oldest go (replayed later)."""
_KIND = re.compile(r"^[a-z_]{1,40}$")


@runtime_checkable
class InboxStore(Protocol):
    """The part of :class:`bot.storage.Storage` the inbox uses."""

    def store_updates(
        self,
        readable: Sequence[tuple[int, str]],
        unreadable: Sequence[int] = (),
        *,
        confirmed_below: int | None = None,
    ) -> list[int]: ...

    def skip_update(self, update_id: int) -> None: ...

    def pending_updates(self, *, max_attempts: int) -> Sequence[Any]: ...

    def finish_updates(
        self, finished: Iterable[tuple[int, Iterable[Mapping[str, Any]]]]
    ) -> None: ...


def _kind(raw: Mapping[str, Any]) -> str:
    """What an update is (message, callback_query...), from Telegram's field names only."""
    kinds = [k for k in raw if k != "update_id" and isinstance(k, str) and _KIND.match(k)]
    return ", ".join(kinds[:3]) or "unknown kind"


class Inbox:
    """Stores fetched updates, knows which are in hand, and writes their completion."""

    def __init__(self, storage: InboxStore | None, questions: QuestionLog | None = None) -> None:
        self.storage = storage
        self.questions = questions
        self.next_offset = 0  # getUpdates asks for ids from here on
        self.in_hand: dict[int, float] = {}  # update id -> when it was fetched (time.time)
        self._durable: set[int] = set()  # ids in hand that are stored
        self._unwritten: list[tuple[int, list[LoggedQuestion]]] = []
        self._writing = asyncio.Lock()
        self._storage_failing = False
        self.polled_at: float | None = None  # the last getUpdates that succeeded
        self.done_at: float | None = None  # the last update finished
        self.skipped = 0  # in this run
        self.on_skip: Callable[[], object] | None = None  # the heartbeat, to show it at once

    # -- in ------------------------------------------------------------------------------------

    async def receive(
        self, bot: ExtBot[Any], batch: Sequence[Any], offset: int | None
    ) -> tuple[Update, ...]:
        """The updates of a getUpdates ``batch`` to handle: parsed one by one, stored, without
        those seen before. Moves :attr:`next_offset` past every update of the batch."""
        now = time.time()
        self.polled_at = now
        parsed: list[tuple[int, Update, str]] = []
        unreadable: list[tuple[int, str, str]] = []  # id, the error, the kind
        for raw in batch:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                self._log_skipped("without an id", _kind(raw) if isinstance(raw, dict) else "")
                continue
            self.next_offset = max(self.next_offset, update_id + 1)
            try:
                update = Update.de_json(raw, bot)
            except Exception as exc:
                unreadable.append((update_id, type(exc).__name__, _kind(raw)))
                continue
            parsed.append((update_id, update, json.dumps(raw, ensure_ascii=False)))
        new = await self._store(parsed, [update_id for update_id, _, _ in unreadable], offset)
        for update_id, error, kind in unreadable:
            if new is None or update_id in new:  # not when it comes again after a restart
                self._log_skipped(f"{update_id} ({error})", kind)
        fresh = []
        for update_id, update, _ in parsed:
            if update_id in self.in_hand or (new is not None and update_id not in new):
                log.debug("update %d came again; it is handled already", update_id)
                continue
            self.in_hand[update_id] = now
            if new is not None:
                self._durable.add(update_id)
            fresh.append(update)
        return tuple(fresh)

    async def _store(
        self,
        parsed: Sequence[tuple[int, Update, str]],
        unreadable: Sequence[int],
        offset: int | None,
    ) -> set[int] | None:
        """The ids new to the inbox, or None when the batch could not be stored."""
        if self.storage is None or not (parsed or unreadable or offset):
            return None if self.storage is None else set()
        rows = [(update_id, raw) for update_id, _, raw in parsed]
        try:
            new = await asyncio.to_thread(
                self.storage.store_updates, rows, unreadable, confirmed_below=offset or None
            )
        except Exception as exc:
            if not self._storage_failing:
                log.error("cannot store updates (%s); answering them without a safety net", exc)
            self._storage_failing = True
            return None
        if self._storage_failing:
            log.warning("storing updates works again")
            self._storage_failing = False
        return set(new)

    def _log_skipped(self, which: str, kind: str) -> None:
        self.skipped += 1
        log.warning("skipped update %s: cannot read this %s", which, kind or "update")
        if self.on_skip is not None:
            self.on_skip()

    async def replay(self, bot: ExtBot[Any]) -> list[Update]:
        """What was stored and not done when the bot last stopped, oldest first."""
        if self.storage is None:
            return []
        try:
            stored = await asyncio.to_thread(
                self.storage.pending_updates, max_attempts=MAX_ATTEMPTS
            )
        except Exception as exc:
            log.error("cannot read the stored updates (%s)", exc)
            return []
        updates = []
        now = time.time()
        for item in stored:
            try:
                update = Update.de_json(json.loads(item.raw), bot)
            except Exception as exc:
                self._log_skipped(f"{item.update_id} ({type(exc).__name__})", "")
                await asyncio.to_thread(self.storage.skip_update, item.update_id)
                continue
            self.in_hand[item.update_id] = now
            self._durable.add(item.update_id)
            updates.append(update)
        if updates:
            log.info("handling %d update(s) stored before the last stop", len(updates))
        return updates

    # -- out -----------------------------------------------------------------------------------

    def holds(self, update: object) -> bool:
        return isinstance(update, Update) and update.update_id in self.in_hand

    async def finish(self, update: object, questions: list[LoggedQuestion]) -> None:
        """``update`` was handled: mark it done with its question-log rows. Awaited before the
        chat's next update starts, so a kill never leaves an earlier answer unrecorded behind a
        later one."""
        update_id = update.update_id if isinstance(update, Update) else None
        self.done_at = time.time()
        if update_id is None or update_id not in self.in_hand or update_id not in self._durable:
            if update_id is not None:
                self.in_hand.pop(update_id, None)
            if self.questions is not None:
                self.questions.extend(questions)  # not stored: the batches write them
            return
        del self.in_hand[update_id]
        self._durable.discard(update_id)
        self._unwritten.append((update_id, questions))
        await self.flush()

    def let_go(self, update: object) -> None:
        """``update`` was not handled (the bot is stopping): it stays stored for the next start."""
        if isinstance(update, Update):
            self.in_hand.pop(update.update_id, None)
            self._durable.discard(update.update_id)

    async def flush(self) -> None:
        """Write every finished update, in one transaction; whoever comes first writes what
        has gathered meanwhile, so a busy bot commits many at once."""
        async with self._writing:
            if not self._unwritten or self.storage is None:
                return
            batch, self._unwritten = self._unwritten, []
            rows = [(update_id, [asdict(q) for q in questions]) for update_id, questions in batch]
            try:
                await asyncio.to_thread(self.storage.finish_updates, rows)
            except Exception as exc:
                log.error("cannot mark updates done (%s); will try again", exc)
                self._unwritten[:0] = batch
                del self._unwritten[:-MAX_UNWRITTEN]
                await asyncio.sleep(1.0)  # a full disk: no busy loop

    async def close(self) -> None:
        """Write what is left."""
        await self.flush()

    def progress(self) -> dict[str, Any]:
        """For the heartbeat (see :mod:`bot.channels.telegram.heartbeat`)."""
        return {
            "polled_at": self.polled_at,
            "in_hand": len(self.in_hand),
            "oldest_in_hand_at": min(self.in_hand.values(), default=None),
            "done_at": self.done_at,
            "skipped": self.skipped,
        }


class InboxBot(ExtBot[Any]):
    """``ExtBot`` whose ``get_updates`` goes through the :class:`Inbox` (see the module doc)."""

    __slots__ = ("inbox",)

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.inbox = inbox

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        # Past every update fetched, also those skipped (PTB only knows the ones it got).
        offset = max(offset or 0, self.inbox.next_offset) or None
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        # As Bot.get_updates: the long poll's timeout comes on top of the read timeout.
        base = (
            self._request[0].read_timeout or 0
            if isinstance(read_timeout, DefaultValue)
            else read_timeout or 0
        )
        seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout or 0
        batch = await self._post(
            "getUpdates",
            data,
            read_timeout=base + seconds,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates = await self.inbox.receive(self, batch if isinstance(batch, list) else [], offset)
        for update in updates:
            self.insert_callback_data(update)
        return updates
