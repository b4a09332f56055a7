"""Tests for hotspots.disclosure: every small-count rule, on hand-worked small tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hotspots.disclosure import hotspot_counts_printed, is_small, protect_ward_table
from hotspots.pilot_disclosure import (
    PilotDisclosure,
    disclosed_monthly,
    hidden_totals,
    protect_pilot,
    withheld_months,
)

ZONES = ("target", "buffer", "control")
PERIODS = ("before", "during", "after")


@pytest.mark.parametrize(
    ("count", "threshold", "expected"),
    [
        (None, 5, False),
        (math.nan, 5, False),
        (math.inf, 5, False),
        (0, 5, False),
        (1, 5, True),
        (4, 5, True),
        (4.9, 5, True),
        (5, 5, False),
        (-2, 5, False),
        (9, 10, True),
        (1, 1, False),  # threshold 1: nothing is small
    ],
)
def test_is_small(count: float | None, threshold: int, expected: bool) -> None:
    assert is_small(count, threshold) is expected


def test_ward_table_nothing_small_hides_nothing() -> None:
    d = protect_ward_table([10, 20, 30], [5, 6, 7], threshold=5)
    assert not any(d.small + d.derived + d.hotspot_small + d.hotspot_derived)
    assert d.withheld == frozenset() and d.hotspot_withheld == frozenset()
    assert not d.incidents_total_exposes and not d.hotspot_incidents_total_exposes
    assert not any(d.share_hidden(i) for i in range(3))


def test_ward_table_one_small_ward_withholds_the_smallest_large_one() -> None:
    """3 among 40 and 25 (total 68 printed): 25 is withheld, so 3 + 25 = 28 hides the 3."""
    d = protect_ward_table([40, 3, 25], threshold=5)
    assert d.small == (False, True, False)
    assert d.withheld == frozenset({2})
    assert [d.incidents_hidden(i) for i in range(3)] == [False, True, True]
    assert not d.incidents_total_exposes


def test_ward_table_two_small_wards_pinned_by_the_total() -> None:
    """4 + 4 = 8 and nothing else: the printed total would pin both, whatever is withheld."""
    d = protect_ward_table([4, 4], threshold=5)
    assert d.small == (True, True) and d.withheld == frozenset()
    assert d.incidents_total_exposes


def test_ward_table_small_outside_count_is_protected() -> None:
    """3 incidents outside every ward (not listed) count as a hidden cell of the column."""
    d = protect_ward_table([40, 60], threshold=5, incidents_outside=3)
    assert d.withheld == frozenset({0})
    assert protect_ward_table([40, 60], threshold=5, incidents_outside=30).withheld == frozenset()


def test_ward_table_hotspot_column() -> None:
    """Incidents in hotspots 97 of 100: the 3 outside is small, so the 97 is hidden ("–")."""
    d = protect_ward_table([100, 200, 300], [97, 50, 60], threshold=5)
    assert d.hotspot_derived == (True, False, False)
    # 207 printed - 60 = 147 = A + B with A in 96..99: B (50) is withheld
    assert d.hotspot_withheld == frozenset({1})
    assert [d.share_hidden(i) for i in range(3)] == [True, True, False]
    assert d.withheld == frozenset()


def test_ward_table_counts_printed_elsewhere() -> None:
    """A ward whose hotspot lies in it alone: its 97 is printed by the hotspot table, so its
    100 (97 + 3 outside hotspots) is hidden instead, and the 97 is never the withheld cell."""
    printed = hotspot_counts_printed([["H01"], ["H02"], ["H02", "H03"]], ["A", "B", "C"],
                                     {"H01": ["A"], "H02": ["B", "C"], "H03": ["C"]})  # fmt: skip
    assert printed == [True, False, False]
    d = protect_ward_table([100, 200, 300], [97, 50, 60], counts_printed=printed)
    assert d.derived == (True, False, False)
    assert 0 not in d.hotspot_withheld
    assert d.withheld  # the 100 is protected against the printed total


def test_hotspot_counts_printed_without_a_hotspot_table() -> None:
    assert hotspot_counts_printed([["H01"]], ["A"], None) == [False]
    assert hotspot_counts_printed([[]], ["A"], {"H01": ["A"]}) == [False]


@pytest.mark.parametrize(
    ("months", "withheld", "hide_total"),
    [
        ([4, 4], [False, False], True),  # 8 over two small months: 4 + 4
        ([2, 38, 50], [False, True, False], False),  # 2 + 38 = 40: the 2 is 1..4
        ([1, 5, 5], [False, True, False], True),  # 1 + 5 = 6 would pin the 1: hide both
        ([9, 20], [False, False], False),  # nothing small
        ([2, 1], [False, False], False),  # the total 3 is itself small (suppressed)
    ],
)
def test_withheld_months(months: list[int], withheld: list[bool], hide_total: bool) -> None:
    raw = np.array(months, dtype=float)
    out, hide = withheld_months(raw, (raw > 0) & (raw < 5), 5)
    assert out.tolist() == withheld
    assert hide is hide_total


def _monthly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.date_range("2024-01-01", periods=6, freq="MS"),
            "period": ["before", "before", "during", "after", "after", "missing"],
            "target": [4, 4, 9, 30, 20, 0],
            "buffer": [2, 38, 1, 50, 60, 0],
            "control": [100, 110, 90, 120, 130, 0],
        }
    )


def test_hidden_totals_and_disclosed_monthly() -> None:
    monthly = _monthly()
    assert hidden_totals(monthly, 5, zones=ZONES, periods=PERIODS) == {("target", "before")}
    s = disclosed_monthly(monthly, 5, zones=ZONES, periods=PERIODS)
    target = s[s["zone"] == "target"]
    assert target["small"].tolist() == [True, True, False, False, False, False]
    assert target["missing"].tolist() == [False] * 5 + [True]
    # the before total is hidden: no mean for it; the after mean is (30 + 20) / 2
    assert np.isnan(target["mean"].iloc[:2]).all() and target["mean"].iloc[3] == 25.0
    buffer = s[s["zone"] == "buffer"]
    assert buffer["withheld"].tolist() == [False, True, False, False, False, False]
    assert buffer["count"].isna().tolist() == [True, True, True, False, False, True]


def test_protect_pilot() -> None:
    counts = pd.DataFrame(
        {"before": [8, 40, 210], "during": [9, 1, 90], "after": [50, 110, 250]},
        index=pd.Index(list(ZONES), name="zone"),
    )
    d = protect_pilot(counts, _monthly(), 5)
    assert d == PilotDisclosure(
        small=frozenset({("buffer", "during")}), withheld=frozenset({("target", "before")})
    )
    assert d.hidden("target", "before") and d.hidden("buffer", "during")
    assert d.change_hidden("target") and not d.change_hidden("buffer")
    assert d.effect_hidden
    assert not protect_pilot(counts, _monthly(), 1).effect_hidden


def _seen(months: list[int], threshold: int = 5) -> tuple[object, ...]:
    """What a reader of the pilot chart sees of one period: each month's value or the band
    it is drawn as, and the total (or that it is hidden)."""
    raw = np.array(months, dtype=float)
    small = (raw > 0) & (raw < threshold)
    withheld, hide = withheld_months(raw, small, threshold)
    total = raw.sum()
    shown_total = "small" if 0 < total < threshold else ("hidden" if hide else total)
    cells = tuple(
        "small" if s else "withheld" if w else int(v)
        for v, s, w in zip(raw, small, withheld, strict=True)
    )
    return (*cells, shown_total)


@pytest.mark.parametrize("n_months", [2, 3])
def test_no_month_of_a_pilot_period_can_be_told_from_what_is_drawn(n_months: int) -> None:
    """Every period of 2 or 3 months of up to 24 incidents: a reader who knows the rule and
    sees the drawn months and the total (or that it is hidden) cannot tell any small month's
    value (independent review: the rule's own choice gave away a month of 1). Views whose
    total is over 12 are left out: some months that would explain them are over 24."""
    import itertools

    seen: dict[tuple[object, ...], list[tuple[int, ...]]] = {}
    for months in itertools.product(range(25), repeat=n_months):
        seen.setdefault(_seen(list(months)), []).append(months)
    for view, worlds in seen.items():
        if isinstance(view[-1], float) and view[-1] > 12:
            continue
        shown = [v for v in view[:-1] if isinstance(v, int)]
        if any(v > 12 for v in shown):
            continue
        for i in range(n_months):
            if view[i] != "small":
                continue
            values = {w[i] for w in worlds}
            assert len(values) >= 2, (view, worlds)
