"""A small bounded cache of results that depend on one input each, kept between calls.

The dashboard redraws the hotspots every time the distance slider moves, and most hotspots
keep exactly the points and outline they had: :class:`KeptResults` lets the outline drawing
(:mod:`hotspots.footprint`) and the display simplification (:mod:`hotspots.web`) work out only
the ones that changed. Keys are digests of the exact input (:func:`digest`), so a hit is the
result the same input gave before; the least recently used results go first, and the
dashboard's session threads share one cache safely.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar, cast

V = TypeVar("V")

__all__ = ["KeptResults", "digest", "forget_all", "on_forget_all"]

# Every store made, so that a benchmark can time a step cold (:func:`forget_all`).
_EVERY: weakref.WeakSet[KeptResults[Any]] = weakref.WeakSet()
_FORGETTERS: list[Callable[[], None]] = []


def forget_all() -> None:
    """Empty every :class:`KeptResults` and every other store registered with
    :func:`on_forget_all`: the next call of each step works everything out afresh, as a new
    process would (a benchmark timing a step again, cold)."""
    for kept in list(_EVERY):
        kept.clear()
    for forget in list(_FORGETTERS):
        forget()


def on_forget_all(forget: Callable[[], None]) -> None:
    """Have :func:`forget_all` call ``forget`` too (a store kept otherwise than by key)."""
    _FORGETTERS.append(forget)


def digest(data: bytes) -> bytes:
    """A 16-byte digest of ``data`` (BLAKE2b), the key of an input of any size."""
    return hashlib.blake2b(data, digest_size=16).digest()


class KeptResults(Generic[V]):
    """Results (never None) by key, least recently used out first while their total weight
    (``weigh`` of each, 1 by default) is above ``capacity``."""

    def __init__(self, capacity: float, weigh: Callable[[V], float] | None = None) -> None:
        self.capacity = capacity
        self._weigh = weigh
        self._items: OrderedDict[Hashable, tuple[V, float]] = OrderedDict()
        self._weight = 0.0
        self._lock = threading.Lock()
        self._gates: dict[Hashable, threading.Lock] = {}
        _EVERY.add(self)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def weight(self) -> float:
        """The total weight of the results kept."""
        return self._weight

    def results(
        self, keys: Sequence[Hashable], work_out: Callable[[list[int]], Sequence[V]]
    ) -> list[V]:
        """The result of each key: kept ones as they are, the others from
        ``work_out(positions)`` (one call with the positions of all keys not kept, returning
        their results in that order), then kept."""
        found: list[V | None] = []
        with self._lock:
            for key in keys:
                hit = self._items.get(key)
                if hit is not None:
                    self._items.move_to_end(key)
                found.append(None if hit is None else hit[0])
        todo = [i for i, value in enumerate(found) if value is None]
        if todo:
            made = list(work_out(todo))
            if len(made) != len(todo):
                raise ValueError(f"work_out gave {len(made)} results for {len(todo)} keys")
            weights = [1.0 if self._weigh is None else float(self._weigh(v)) for v in made]
            with self._lock:
                for i, value, weight in zip(todo, made, weights, strict=True):
                    found[i] = value
                    old = self._items.pop(keys[i], None)
                    self._weight -= 0.0 if old is None else old[1]
                    self._items[keys[i]] = (value, weight)
                    self._weight += weight
                while self._items and self._weight > self.capacity:
                    _, (_, weight) = self._items.popitem(last=False)
                    self._weight -= weight
        return cast(list[V], found)  # every position filled above

    def known(self, keys: Sequence[Hashable]) -> list[V | None]:
        """The result kept for each key, None where there is none (nothing worked out)."""
        with self._lock:
            found = [self._items.get(key) for key in keys]
            for key, hit in zip(keys, found, strict=True):
                if hit is not None:
                    self._items.move_to_end(key)
        return [None if hit is None else hit[0] for hit in found]

    def clear(self) -> None:
        """Forget every result kept."""
        with self._lock:
            self._items.clear()
            self._weight = 0.0

    def one(self, key: Hashable, work_out: Callable[[], V]) -> V:
        """The result of one ``key``, worked out at most once at a time: a thread asking for
        a key another thread is working out waits for that result instead of repeating the
        work (two back-test folds at a time ask for the same neighbourhoods)."""
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        try:
            with gate:
                return self.results([key], lambda todo: [work_out()])[0]
        finally:  # (also when working it out failed: the next caller tries again)
            with self._lock:
                if self._gates.get(key) is gate and not gate.locked():
                    del self._gates[key]
