"""``evaluate-map`` in words: which fitted maps did no better than last period's simple maps."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

__all__ = ["NAIVE_PREFIX", "caught_more_everywhere", "no_better_notes"]

#: The naive baselines' names begin so (map points, and cells of any size).
NAIVE_PREFIX = "last period, "


def caught_more_everywhere(mine: Sequence[float], theirs: Sequence[float]) -> bool:
    """Whether the other map's hit rates (``theirs``) beat ``mine`` at every share (the
    same shares, in order; none missing): the one rule of :func:`no_better_notes` and the
    back-test's sentence.

    >>> caught_more_everywhere([0.3, 0.5], [0.4, 0.6]), caught_more_everywhere([0.3], [0.3])
    (True, False)
    """
    pairs = list(zip(mine, theirs, strict=True))
    return bool(pairs) and all(math.isfinite(a) and math.isfinite(b) and b > a for a, b in pairs)


def no_better_notes(table: pd.DataFrame) -> list[str]:
    """A note for each fitted map that one naive baseline out-caught at every share scored
    (``table``: :func:`hotspots.forecast.evaluate_forecast`'s, ``method``, ``area_share``,
    ``hit_rate``).

    >>> t = pd.DataFrame({"method": ["KDE", "KDE", "last period, map points"] * 1 +
    ...                   ["last period, map points"], "area_share": [0.01, 0.05, 0.01, 0.05],
    ...                   "hit_rate": [0.30, 0.50, 0.35, 0.60]})
    >>> no_better_notes(t)  # doctest: +NORMALIZE_WHITESPACE
    ["KDE: last period's busiest map points caught more at every share; this map adds areas
    and their statistics, not a better forecast"]
    """
    rates = table.pivot_table(index="area_share", columns="method", values="hit_rate")
    methods = list(dict.fromkeys(table["method"]))
    naive = [m for m in methods if m.startswith(NAIVE_PREFIX)]
    notes = []
    for name in (m for m in methods if m not in naive):
        for other in naive:
            if caught_more_everywhere(rates[name].to_numpy(), rates[other].to_numpy()):
                what = other.removeprefix(NAIVE_PREFIX)
                notes.append(
                    f"{name}: last period's busiest {what} caught more at every share; this "
                    "map adds areas and their statistics, not a better forecast"
                )
                break
    return notes
