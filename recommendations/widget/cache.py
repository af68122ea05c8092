"""The widget's access to the shared cache: raw reads, the rate counter, invalidations.

Why a raw Redis client rather than `django.core.cache.cache`: Django's RedisCache builds a
new `redis.Redis` object (and its ~170 response callbacks) for every call, which is most of
the cost of the widget's hot path (P1, tests/benchmarks/bench_widget.py). Here one client is
kept per backend object, on the backend's own connection pool, and it reads and writes the
very keys Django's cache API does (same prefix, version and serializer), so a
`cache.delete` anywhere else invalidates what is read here. Nothing outside this module
touches the raw client.

Without Redis (the embedded default) every function falls back to Django's cache or says
there is nothing to read (`NOT_FETCHED`), and callers take their ordinary path.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

NOT_FETCHED = object()


class _RedisCacheClient(Protocol):
    """The parts of Django's (private) `RedisCacheClient` this module uses."""

    _serializer: Any

    def _get_connection_pool(self, write: bool) -> redis.ConnectionPool: ...

    def _client(self, *, connection_pool: redis.ConnectionPool) -> redis.Redis: ...


def _inner(backend: RedisCache) -> _RedisCacheClient:
    # `_cache` is Django's own client object; django-stubs does not declare it (private).
    return backend._cache  # type: ignore[attr-defined]


# One redis.Redis client per cache backend object (Django keeps one backend per thread).
_redis_clients: weakref.WeakKeyDictionary[RedisCache, redis.Redis] = weakref.WeakKeyDictionary()


def _redis() -> tuple[RedisCache, redis.Redis] | None:
    """(Django's default cache backend, a redis.Redis client for it) on Redis, else None."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = _redis_clients.get(backend)
    if client is None:
        inner = _inner(backend)
        pool = inner._get_connection_pool(write=True)
        client = _redis_clients[backend] = inner._client(connection_pool=pool)
    return backend, client


def cache_get_raw(cache_key: str) -> bytes | None | object:
    """The raw bytes under a Django cache key on Redis (None: miss), else NOT_FETCHED."""
    redis = _redis()
    if redis is None:
        return NOT_FETCHED
    backend, client = redis
    try:
        return client.get(backend.make_key(cache_key))
    except Exception as exc:
        log.warning("widget: cache unavailable (%s)", type(exc).__name__)
        return NOT_FETCHED


def cache_loads(raw: bytes) -> Any:
    """Decode raw bytes read by `cache_get_raw` (only ever called on Redis)."""
    backend = caches["default"]
    assert isinstance(backend, RedisCache)  # cache_get_raw returned bytes: it is Redis
    return _inner(backend)._serializer.loads(raw)


def counter_add(counter: str, amount: int, *, timeout: int) -> int:
    """Add to a shared counter and return its value: INCRBY + EXPIRE in one round trip on
    Redis; `cache.incr` elsewhere (a missing counter is created with `cache.add`). Raises
    when the cache is unreachable."""
    redis = _redis()
    if redis is not None:
        backend, client = redis
        name = backend.make_key(counter)
        pipe = client.pipeline(transaction=False)
        pipe.incrby(name, amount)
        pipe.expire(name, timeout)
        return int(pipe.execute()[0])
    try:
        return cache.incr(counter, amount)
    except ValueError:
        if cache.add(counter, amount, timeout=timeout):
            return amount
        return cache.incr(counter, amount)


def channel_publish(channel: str, message: str) -> bool:
    """Publish on a Redis pub/sub channel over the cache's own connection pool. False (and
    nothing sent) when the cache is not Redis; raises when Redis is unreachable."""
    redis = _redis()
    if redis is None:
        return False
    redis[1].publish(channel, message)
    return True
