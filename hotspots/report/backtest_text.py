"""The back-test in words: how well the hotspots predicted the next months (one sentence)."""

from __future__ import annotations

import math

from ..backtest import HOTSPOTS, KDE, NAIVE_CELLS, NAIVE_POINTS, SHARES, BacktestResult
from .forecast_text import caught_more_everywhere

__all__ = ["BACKTEST_TITLE", "CHOSEN_HERE", "SIMPLER_BETTER", "backtest_sentence"]

#: The question the back-test answers, as a heading.
BACKTEST_TITLE = "How well did these hotspots predict?"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.0f}%"


#: Said after the back-test's figures when the settings were chosen by that back-test.
CHOSEN_HERE = (
    " These settings were chosen as the best of those tried on these same months, which "
    "flatters the hotspots' figures a little against the other maps (the suggested "
    "distance's reason gives their score when chosen without the months scored)."
)


#: Said when one of last period's simple maps caught more than the hotspots at every share.
SIMPLER_BETTER = (
    " Last period's busiest {what} caught more than the hotspots at every share: where crime "
    "was, it tends to be again. The hotspots are areas a patrol can cover, with their "
    "statistics; within them, their busiest streets and patrol points are the places to stand."
)


def _coverage(result: BacktestResult) -> str:
    """The hotspots' share of the study area when it is under the largest share scored."""
    rows = result.table[result.table["method"] == HOTSPOTS]
    if "map_share" not in rows or not len(rows):
        return ""
    covered = float(rows["map_share"].mean())
    if not math.isfinite(covered) or covered >= max(SHARES) * (1 - 1e-9):
        return ""
    return (
        f" The hotspots cover {100 * covered:.1f}% of the study area: at a larger share they "
        "hold no more (the rest is counted as patrolled for nothing)."
    )


def _simpler_better(result: BacktestResult) -> str:
    """:data:`SIMPLER_BETTER` when a naive map caught more at every share, else ""."""
    mine = [result.mean(HOTSPOTS, s, "hit_rate") for s in SHARES]
    for name, what in ((NAIVE_POINTS, "map points"), (NAIVE_CELLS, "50 m cells")):
        theirs = [result.mean(name, s, "hit_rate") for s in SHARES]
        if caught_more_everywhere(mine, theirs):
            return SIMPLER_BETTER.format(what=what)
    return ""


def backtest_sentence(
    result: BacktestResult, *, share: float = 0.01, chosen_here: bool = False
) -> str:
    """One plain sentence with the figures at ``share`` of the study area; with
    ``chosen_here`` (the settings were chosen by this back-test: a suggestion's
    ``backtested``) the caveat :data:`CHOSEN_HERE` after it.

    >>> import pandas as pd
    >>> from hotspots.backtest import Fold
    >>> rows = [{"method": m, "area_share": 0.01, "hit_rate": h, "pai": 100 * h}
    ...         for m, h in (("hotspots", 0.31), ("last period, map points", 0.3),
    ...                      ("last period, 50 m cells", 0.25), ("KDE", 0.1))]
    >>> fold = Fold((24204, 24212), (24213, 24215))
    >>> r = BacktestResult(pd.DataFrame(rows), pd.DataFrame(), (fold,))
    >>> import textwrap
    >>> print(textwrap.fill(backtest_sentence(r), 95))
    Hotspots found with these settings on 2017-01..2017-09 held 31% of 2017-10..2017-12's crime in
    1% of the study area (PAI 31); last period's busiest map points held 30%, its busiest 50 m
    cells 25% and a KDE map 10%.
    """
    latest = result.folds[0].labels()
    folds = len(result.folds)
    fit = f"{latest['fit_from']}..{latest['fit_to']}"
    test = f"{latest['test_from']}..{latest['test_to']}"
    if folds == 1:
        lead = f"Hotspots found with these settings on {fit} held"
        whose = f"{test}'s crime"
    else:
        lead = (
            f"Over {folds} back-tests (the latest fitted on {fit}, scored on {test}), hotspots "
            "found with these settings on the earlier months held on average"
        )
        whose = "the next months' crime"
    return (
        f"{lead} {_pct(result.mean(HOTSPOTS, share, 'hit_rate'))} of {whose} in {share:.0%} of "
        f"the study area (PAI {result.mean(HOTSPOTS, share):.0f}); last period's busiest map "
        f"points held {_pct(result.mean(NAIVE_POINTS, share, 'hit_rate'))}, its busiest 50 m "
        f"cells {_pct(result.mean(NAIVE_CELLS, share, 'hit_rate'))} and a KDE map "
        f"{_pct(result.mean(KDE, share, 'hit_rate'))}."
        + (CHOSEN_HERE if chosen_here else "")
        + _coverage(result)
        + _simpler_better(result)
    )
