"""The widget's per-process memo of personal answers, invalidated through Redis pub/sub.

The personal widget answer depends on three things that live elsewhere: the link from the
brand's customer reference to our customer, that customer's personalization consent, and
their cached results. Reading them on every request costs a database query and a cache
round trip; this memo keeps the answer in the serving process instead, and drops it the
moment any of the three changes:

* every change that can alter the answer publishes an invalidation (`publish`) on one
  Redis channel, both at once and again after its transaction commits: consent and
  data-point toggles (`transparency.services._record_choice`), result writes, purges and
  erasure (`recommendations.services._cache_forget`), retrains (the whole brand);
* each serving process subscribes to that channel. Before a request reads the memo it
  drains the messages already on its socket (a non-blocking poll, no round trip), and a
  background thread drains them between requests too, so an idle process lets go of
  erased data as soon as the message arrives;
* an entry filled from data read before an invalidation was processed is never stored
  (a generation counter), so a concurrent fill cannot bring back what was just switched
  off;
* anything wrong with the subscription (Redis restarted, connection dropped, messages
  lost) empties the memo and switches it off until it has subscribed again; without Redis
  (the embedded default) it is never on. Switched off, every request reads fresh.

Entries also expire after `MEMO_SECONDS`, which bounds what no hook announces (a brand's
sensitivity profile or a customer link edited by staff in the admin).

New customers are not memoized as unknown, so a link created later needs no message; the
consent rows ingest creates for a new customer hold the brand's defaults, which is what an
unknown consent row already means.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db import transaction

from . import cache

if TYPE_CHECKING:
    import socket

    import redis
    from redis.client import PubSub

log = logging.getLogger(__name__)

MEMO_SECONDS = 30.0
MEMO_MAX = 5000
RETRY_SECONDS = 5.0  # after the subscription failed, try again at most this often
SWEEP_SECONDS = 1.0  # the background drain's longest sleep


class _Miss(Enum):
    MISS = "miss"


# What `lookup` answers when there is no live entry (an enum member, so `is MISS` narrows).
MISS: Literal[_Miss.MISS] = _Miss.MISS
# [expires (monotonic), customer_id, payload or None, {(slot, n): serialized body}]
Entry = list[Any]


def channel() -> str:
    """The invalidation channel (pub/sub ignores Redis database numbers: keep the prefix)."""
    return f"{settings.CACHE_PREFIX}:widget-invalidate"


_located: tuple[object, str] = (None, "")


def _location() -> str:
    """The Redis URL of the default cache, or "" when the cache is not Redis."""
    global _located
    caches_setting = settings.CACHES
    if _located[0] is caches_setting:  # read on every widget request: parsed once
        return _located[1]
    config = caches_setting["default"]
    location = ""
    if config["BACKEND"].endswith(".RedisCache"):
        location = config["LOCATION"]
        location = location[0] if isinstance(location, list | tuple) else location.split(",")[0]
    _located = (caches_setting, location)
    return location


def _encode(customer_ids: Iterable[int], brand_ids: Iterable[int]) -> str:
    parts = [f"c{int(c)}" for c in customer_ids] + [f"b{int(b)}" for b in brand_ids]
    return " ".join(parts)


def publish(*, customer_ids: Iterable[int] = (), brand_ids: Iterable[int] = ()) -> None:
    """Tell every serving process to drop what it memoized for these customers / brands.

    A no-op without Redis (no process memoizes then). A failure is logged, not raised: the
    caller's write stands, and the memo's entries expire within MEMO_SECONDS.
    """
    message = _encode(customer_ids, brand_ids)
    if not message:
        return
    try:
        if not cache.channel_publish(channel(), message):
            return
    except Exception as exc:
        log.warning("widget memo: invalidation not published (%s)", type(exc).__name__)
    # This process's own memo needs no round trip to hear it.
    current = _memo
    if current is not None and current.pid == os.getpid():
        with current.lock:
            current.apply(message)


def customer_row_saved(sender, instance, **kwargs) -> None:
    """post_save of a consent row or customer link: drop that customer's entries, now and
    again after commit (a fill between the two would hold the old row)."""
    customer_id = instance.customer_id
    publish(customer_ids=[customer_id])
    transaction.on_commit(lambda: publish(customer_ids=[customer_id]))


class _Memo:
    """One process's memo. All state behind one lock (threaded servers, the drain thread)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.client: redis.Redis | None = None
        self.pubsub: PubSub | None = None
        self.sock: socket.socket | None = None
        self.poller: select.poll | None = None
        self.retry_at = 0.0
        self.generation = 0
        # (brand_id, customer ref) -> Entry
        self.entries: dict[tuple[int, str], Entry] = {}
        self.thread: threading.Thread | None = None

    # --- the subscription -------------------------------------------------------------

    def _subscribe(self) -> None:
        import redis

        client = redis.Redis.from_url(
            _location(), socket_connect_timeout=1, socket_timeout=2, socket_keepalive=True
        )
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(channel())
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:  # messages only count once subscribed
                message = pubsub.get_message(timeout=0.5)
                if message is not None and message["type"] == "subscribe":
                    break
            else:
                raise TimeoutError("no subscribe confirmation")
            # Whatever came in with the confirmation, so redis-py's buffer starts empty.
            while (message := pubsub.get_message(timeout=0.0)) is not None:
                if message["type"] == "message":
                    self.apply(message["data"])
        except BaseException:
            pubsub.close()
            raise
        self.client = client  # collecting the client would close its pool, and the socket
        self.pubsub = pubsub
        self.sock = sock = pubsub.connection._sock if pubsub.connection is not None else None
        self.poller = poller = select.poll()
        if sock is not None:  # always, once subscribed
            poller.register(sock, select.POLLIN | select.POLLPRI)
        if self.thread is None:
            self.thread = threading.Thread(
                target=self._background, name="widget-memo-drain", daemon=True
            )
            self.thread.start()

    def _fail(self, exc: BaseException) -> None:
        log.warning("widget memo: subscription lost (%s); reading fresh", type(exc).__name__)
        self.entries.clear()
        self.generation += 1
        if self.pubsub is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                self.pubsub.close()
        self.client = self.pubsub = self.sock = self.poller = None
        self.retry_at = time.monotonic() + RETRY_SECONDS

    def _ready(self) -> bool:
        """Subscribed and drained (caller holds the lock)."""
        if self.pubsub is None:
            if time.monotonic() < self.retry_at:
                return False
            try:
                self._subscribe()
            except Exception as exc:
                self._fail(exc)
                return False
        pubsub, poller = self.pubsub, self.poller
        if pubsub is None or poller is None:  # never: _subscribe sets both or raises
            return False
        connection = pubsub.connection
        if connection is not None and connection._sock is self.sock and not poller.poll(0):
            return True  # nothing arrived (one poll: every drain leaves redis-py's buffer empty)
        try:
            while True:
                message = pubsub.get_message(timeout=0.0)
                # redis-py reconnects and resubscribes on its own, silently: whatever was
                # published meanwhile is lost, so a new socket (or a second subscribe
                # confirmation) means starting over.
                connection = pubsub.connection
                if connection is None or connection._sock is not self.sock:
                    raise ConnectionError("the subscription was reconnected")
                if message is None:
                    return True
                if message["type"] == "message":
                    self.apply(message["data"])
                elif message["type"] == "subscribe":
                    raise ConnectionError("subscribed again")
        except Exception as exc:
            self._fail(exc)
            return False

    def _background(self) -> None:
        while True:
            sock = self.sock
            try:
                if sock is not None:
                    select.select([sock], [], [], SWEEP_SECONDS)
                else:
                    time.sleep(SWEEP_SECONDS)
            except (OSError, ValueError):  # closed under us: the next request resubscribes
                time.sleep(SWEEP_SECONDS)
            with self.lock:
                if self.pubsub is not None:
                    self._ready()
                self._expire()

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, entry in self.entries.items() if entry[0] <= now]:
            del self.entries[key]

    # --- invalidation -----------------------------------------------------------------

    def apply(self, message: bytes | str) -> None:
        if isinstance(message, bytes):
            message = message.decode("ascii", "replace")
        customers: set[int] = set()
        brands: set[int] = set()
        for part in message.split():
            try:
                (customers if part[0] == "c" else brands).add(int(part[1:]))
            except (ValueError, IndexError):
                brands.add(-1)  # unreadable: drop everything below
        self.generation += 1
        if -1 in brands:
            self.entries.clear()
            return
        for key in [
            k for k, entry in self.entries.items() if entry[1] in customers or k[0] in brands
        ]:
            del self.entries[key]

    # --- reads and fills ----------------------------------------------------------------

    def lookup(self, brand_id: int, ref: str) -> tuple[Entry | Literal[_Miss.MISS], int | None]:
        """(entry, generation): the live entry or MISS, and the generation to fill with."""
        with self.lock:
            if not self._ready():
                return MISS, None
            entry = self.entries.get((brand_id, ref))
            if entry is None or entry[0] <= time.monotonic():
                return MISS, self.generation
            return entry, self.generation

    def store(
        self,
        brand_id: int,
        ref: str,
        generation: int | None,
        customer_id: int,
        payload: dict[str, Any] | None,
    ) -> Entry:
        entry = [time.monotonic() + MEMO_SECONDS, customer_id, payload, {}]
        with self.lock:
            if generation is None or generation != self.generation or self.pubsub is None:
                return entry  # an invalidation arrived since the read: serve it, keep nothing
            if len(self.entries) >= MEMO_MAX:
                self._expire()
                if len(self.entries) >= MEMO_MAX:
                    self.entries.clear()
            self.entries[(brand_id, ref)] = entry
        return entry


_memo: _Memo | None = None
_memo_lock = threading.Lock()


def memo() -> _Memo | None:
    """This process's memo, or None without Redis. Created after fork, on first use."""
    global _memo
    if not _location():
        return None
    current = _memo
    if current is not None and current.pid == os.getpid():
        return current
    with _memo_lock:
        if _memo is None or _memo.pid != os.getpid():
            _memo = _Memo()
        return _memo


def clear() -> None:
    """Forget every entry (tests)."""
    current = _memo
    if current is not None:
        with current.lock:
            current.entries.clear()
            current.generation += 1
