"""A small progress display for steps that take more than a moment (on stderr, off when quiet)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """Prints ``[n/N] step ... done in 1.2 s`` lines; silent when ``quiet``."""

    def __init__(self, total: int | None = None, *, quiet: bool = False, stream: TextIO | None = None):
        self.total = total
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.count += 1
        prefix = f"[{self.count}/{self.total}] " if self.total else ""
        start = time.perf_counter()
        if not self.quiet:
            print(f"{prefix}{label} …", file=self.stream, flush=True)
        yield
        if not self.quiet:
            elapsed = time.perf_counter() - start
            print(f"{prefix}{label}: done in {elapsed:.1f} s", file=self.stream, flush=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)
