"""How a hotspot is shown, shared by the interactive map and the printable pages.

Rank colours (dark red = rank 1, a sequential ColorBrewer palette in at most six classes), the
legend's rank classes, and a hotspot's trend in words.

>>> rank_colour(0, 3) == RANK_COLOURS[0]
True
>>> rank_classes(8)[:2]
[('#800026', 'ranks 1–2 (densest)'), ('#bd0026', 'rank 3')]
"""

from __future__ import annotations

import math

from ._text import is_missing
from .trend import change_words

__all__ = ["RANK_COLOURS", "rank_class", "rank_classes", "rank_colour", "trend_words"]

#: Sequential palette for hotspot ranks, darkest (rank 1) first (ColorBrewer YlOrRd).
RANK_COLOURS: tuple[str, ...] = ("#800026", "#bd0026", "#e31a1c", "#fc4e2a", "#fd8d3c", "#feb24c")


def rank_class(position: int, n: int) -> int:
    """Colour class (index into RANK_COLOURS) of the hotspot at 0-based ``position`` of ``n``.

    >>> [rank_class(p, 12) for p in range(12)]
    [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    """
    k = len(RANK_COLOURS)
    if n <= k:
        return position
    return min(k - 1, position * k // n)


def rank_colour(position: int, n: int) -> str:
    """Colour of the hotspot at 0-based ``position`` among ``n`` ranked hotspots."""
    return RANK_COLOURS[rank_class(position, n)]


def rank_classes(n: int) -> list[tuple[str, str]]:
    """(colour, "ranks a-b") for the legend."""
    out: list[tuple[str, str]] = []
    for i, colour in enumerate(RANK_COLOURS):
        members = [p + 1 for p in range(n) if rank_colour(p, n) == colour]
        if not members:
            continue
        lo, hi = members[0], members[-1]
        label = f"rank {lo}" if lo == hi else f"ranks {lo}–{hi}"
        if i == 0:
            label += " (densest)"
        out.append((colour, label))
    return out


def trend_words(
    trend: float | None,
    low: float | None = None,
    high: float | None = None,
    *,
    against: str | None = None,
) -> str:
    """A relative change (0.25 = +25%) in words, for the hotspot popup and the briefing.

    With its interval (``trend_low``, ``trend_high`` of the Hotspots frame) the words say "no
    clear change" when the interval holds 0, and show the interval. ``against`` names the
    months compared with (the frame's ``trend_against`` when the dashboard gave the change on
    the months before the chosen ones, :func:`hotspots.period_change.with_period_change`); else "the
    previous period" (the analysis' last months against as many before).

    >>> trend_words(0.25)
    'up 25% on the previous period'
    >>> trend_words(0.62, -0.087, 1.936)
    'no clear change compared with the previous period (+62%; 95% interval −9% to +194%)'
    >>> trend_words(-0.5, -0.7, -0.2, against="Jan 2023 – Dec 2023")
    'down 50% on Jan 2023 – Dec 2023 (95% interval −70% to −20%)'
    >>> trend_words(0.01)
    'about the same as the previous period'
    >>> trend_words(float("nan"))
    'not enough months to compare'
    """
    if is_missing(trend):
        return "not enough months to compare"
    on = "the previous period" if is_missing(against) or not str(against) else str(against)
    t = float(trend)  # type: ignore[arg-type]
    if not (is_missing(low) or is_missing(high)) and not math.isinf(t):
        words = change_words(t, float(low), float(high))  # type: ignore[arg-type]
        head, _, rest = words.partition(" (")
        link = "compared with" if head.startswith("no clear change") else "on"
        return f"{head} {link} {on} ({rest}"
    if math.isinf(t):
        return f"new: none in {on}" if t > 0 else "none in the latest period"
    if abs(t) < 0.05:
        return f"about the same as {on}"
    return f"{'up' if t > 0 else 'down'} {abs(t):.0%} on {on}"
