"""A bounded LRU of serialised responses.

Data only changes with a new build, so a response is keyed by the release (its ETag) together with the
query, the dataset and the format: a new release or an update changes the ETag and old entries simply
stop being reached and age out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    content_type: str


class ResponseCache:
    """At most ``max_entries`` responses and ``max_bytes`` of bodies; least recently used go first."""

    def __init__(self, max_entries: int, *, max_bytes: int = 64_000_000, max_entry_bytes: int = 8_000_000):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, CachedResponse] = OrderedDict()
        self._bytes = 0
        # requests may be served from several threads (TestClient, thread pools): keep it consistent
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, entry: CachedResponse) -> None:
        size = len(entry.body)
        if self.max_entries <= 0 or size > self.max_entry_bytes:
            return  # a huge answer would evict everything useful for one reuse that may never come
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
