"""The bounded LRU response cache."""

from __future__ import annotations

from bassin_kg.web.serving.cache import CachedResponse, ResponseCache


def entry(size: int) -> CachedResponse:
    return CachedResponse(b"x" * size, "text/plain")


def test_hit_and_miss_are_counted() -> None:
    cache = ResponseCache(2)
    assert cache.get("a") is None
    cache.put("a", entry(1))
    assert cache.get("a") == entry(1)
    assert (cache.hits, cache.misses) == (1, 1)


def test_least_recently_used_goes_first() -> None:
    cache = ResponseCache(2)
    cache.put("a", entry(1))
    cache.put("b", entry(1))
    cache.get("a")
    cache.put("c", entry(1))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert len(cache) == 2


def test_byte_bound() -> None:
    cache = ResponseCache(10, max_bytes=10, max_entry_bytes=10)
    cache.put("a", entry(6))
    cache.put("b", entry(6))
    assert cache.get("a") is None
    assert cache.get("b") is not None


def test_huge_entries_are_not_kept() -> None:
    cache = ResponseCache(10, max_entry_bytes=5)
    cache.put("a", entry(6))
    assert len(cache) == 0


def test_clear() -> None:
    cache = ResponseCache(10)
    cache.put("a", entry(1))
    cache.clear()
    assert cache.get("a") is None
