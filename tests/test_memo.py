"""Results kept between calls (hotspots._memo) and the two places that keep them: a kept
outline or display outline is the one the same input gives afresh, and the cache stays within
its capacity."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots import footprint
from hotspots._memo import KeptResults, digest, forget_all
from hotspots.footprint import hotspot_footprints


def test_only_the_keys_not_kept_are_worked_out_and_the_oldest_go_first() -> None:
    kept: KeptResults[str] = KeptResults(3)
    asked: list[list[str]] = []

    def upper(keys: list[str]) -> object:
        def work_out(todo: list[int]) -> list[str]:
            asked.append([keys[i] for i in todo])
            return [keys[i].upper() for i in todo]

        return work_out

    keys = ["a", "b", "c"]
    assert kept.results(keys, upper(keys)) == ["A", "B", "C"]  # type: ignore[arg-type]
    keys = ["c", "d", "a"]
    assert kept.results(keys, upper(keys)) == ["C", "D", "A"]  # type: ignore[arg-type]
    assert asked == [["a", "b", "c"], ["d"]]
    assert len(kept) == 3  # "b", the least recently used, went
    keys = ["b"]
    assert kept.results(keys, upper(keys)) == ["B"]  # type: ignore[arg-type]
    assert asked[-1] == ["b"]


def test_known_tells_what_is_kept_without_working_anything_out() -> None:
    """``known`` answers from what is kept (None for the rest), and counts as a use: the key
    it found is not the next to go."""
    kept: KeptResults[str] = KeptResults(2)
    kept.results(["a", "b"], lambda todo: ["A", "B"][: len(todo)])
    assert kept.known(["b", "z", "a"]) == ["B", None, "A"]
    assert len(kept) == 2  # nothing added
    kept.known(["a"])
    kept.results(["c"], lambda todo: ["C"])
    assert kept.known(["a", "b", "c"]) == ["A", None, "C"]  # "b" went, not "a"


@settings(max_examples=50, deadline=None)
@given(
    calls=st.lists(st.lists(st.integers(0, 12), max_size=8), max_size=12),
    capacity=st.integers(1, 40),
)
def test_weights_stay_within_capacity_and_results_are_the_functions(
    calls: list[list[int]], capacity: int
) -> None:
    kept: KeptResults[int] = KeptResults(capacity, weigh=lambda v: v % 7 + 1)
    for keys in calls:
        got = kept.results(keys, lambda todo, keys=keys: [keys[i] * 10 + 1 for i in todo])
        assert got == [k * 10 + 1 for k in keys]
        assert kept.weight <= capacity or len(kept) == 0
        assert kept.weight == sum(v % 7 + 1 for v, _ in kept._items.values())


def test_digest_tells_inputs_apart() -> None:
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert digest(a.tobytes()) == digest(a.copy().tobytes())
    assert digest(a.tobytes()) != digest(a[::-1].copy().tobytes())
    assert len(digest(b"")) == 16


def test_a_kept_outline_is_the_one_its_points_give_afresh() -> None:
    """The slider's case: one cluster keeps its points, another gains some, a third is new."""
    rng = np.random.default_rng(11)
    a = rng.uniform(0, 300, size=(40, 2)).round()
    b = rng.uniform(1_000, 1_300, size=(30, 2)).round()
    c = rng.uniform(2_000, 2_200, size=(20, 2)).round()
    first = hotspot_footprints(
        np.vstack([a, b]), np.r_[np.zeros(40, int), np.ones(30, int)], margin=25.0
    )
    grown = np.vstack([b, b[:5] + 40.0])
    xy = np.vstack([c, grown, a])
    labels = np.r_[np.zeros(20, int), np.ones(35, int), np.full(40, 2)]
    second = hotspot_footprints(xy, labels, margin=25.0)
    assert second[2] is first[0]  # kept: the same points, the same setting
    for label, pts in ((0, c), (1, grown), (2, a)):
        fresh = footprint._outlines([(label, np.unique(pts, axis=0))], 25.0, None, 8)[0]
        assert shapely.equals_exact(second[label], fresh, 0.0)
    other = hotspot_footprints(np.vstack([a]), np.zeros(40, int), margin=30.0)
    assert other[0].area > first[0].area  # another margin is another outline


def test_one_key_asked_by_two_threads_at_once_is_worked_out_once() -> None:
    """The second thread waits for the first one's result instead of working it out again
    (without the wait it would find nothing kept and work it out a second time)."""
    kept: KeptResults[list[int]] = KeptResults(4)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> list[int]:
        calls.append(1)
        started.set()
        release.wait(5)
        return [7]

    got: list[list[int]] = []
    first = threading.Thread(target=lambda: got.append(kept.one("k", slow)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: got.append(kept.one("k", slow)))
    second.start()
    time.sleep(0.2)  # the second thread is at the key's gate by now
    release.set()
    first.join(5)
    second.join(5)
    assert calls == [1]
    assert got == [[7], [7]] and got[0] is got[1]
    assert kept.one("other", lambda: [8]) == [8] and len(kept) == 2
    assert not kept._gates  # no gate is left behind once its key is worked out

    def broken() -> list[int]:
        raise ValueError("no")

    with pytest.raises(ValueError):
        kept.one("bad", broken)
    assert not kept._gates and kept.one("bad", lambda: [9]) == [9]  # tried again


def test_forget_all_empties_every_store() -> None:
    """forget_all (a benchmark timing a step again, cold) empties every store made, the
    library's own included, and the next call works its result out afresh."""
    from hotspots import footprint

    kept: KeptResults[int] = KeptResults(10)
    calls: list[int] = []
    assert kept.one("k", lambda: calls.append(1) or 5) == 5
    hotspot_footprints(np.array([[0.0, 0.0], [30.0, 0.0]]), np.array([0, 0]))
    assert len(kept) == 1 and len(footprint._DRAWN) > 0
    forget_all()
    assert len(kept) == 0 and kept.weight == 0 and len(footprint._DRAWN) == 0
    assert kept.one("k", lambda: calls.append(1) or 5) == 5 and calls == [1, 1]
