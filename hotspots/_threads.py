"""How many threads a stage may use: one limit for the whole library.

Stages that share out independent work (the back-test's folds, the candidate settings, many
outlines, a million rows' factorize) ask :func:`workers`. The answer is the same for every
stage: at most the limit (:data:`DEFAULT_THREADS`, the two cores this is built for), at most
the cores, at most the jobs, and 1 below the stage's size threshold. Inside
``with threads_at_most(1):`` everything runs in one thread (a shared server, or to compare:
every stage gives the same answer either way).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["DEFAULT_THREADS", "in_order", "threads_at_most", "workers"]

T = TypeVar("T")
R = TypeVar("R")

#: Threads a stage uses at most, unless :func:`threads_at_most` says otherwise.
DEFAULT_THREADS = 2

_limit = DEFAULT_THREADS
_lock = threading.Lock()


def workers(jobs: int, size: int = 0, threshold: int = 0) -> int:
    """Threads for ``jobs`` independent jobs over ``size`` rows (1 below ``threshold``).

    >>> workers(3, size=10, threshold=100)
    1
    >>> with threads_at_most(1):
    ...     workers(8)
    1
    """
    if jobs <= 1 or size < threshold:
        return 1
    return max(1, min(_limit, os.cpu_count() or 1, jobs))


def in_order(fn: Callable[[T], R], items: Sequence[T], n_workers: int) -> list[R]:
    """``fn`` of each item, in the items' order, on up to ``n_workers`` threads (one: in the
    caller's thread, none started).

    >>> in_order(lambda x: x * x, [1, 2, 3], 2)
    [1, 4, 9]
    """
    if n_workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=min(n_workers, len(items))) as pool:
            return list(pool.map(fn, items))
    return [fn(item) for item in items]


@contextmanager
def threads_at_most(n: int) -> Iterator[None]:
    """Within the block, no stage uses more than ``n`` threads (at least 1)."""
    global _limit
    with _lock:
        before, _limit = _limit, max(1, int(n))
    try:
        yield
    finally:
        with _lock:
            _limit = before
