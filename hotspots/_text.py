"""Text the whole library shares: HTML escaping and what counts as a missing value.

Kernel: imported by the map (:mod:`hotspots.mapping`), the printable pages
(:mod:`hotspots.report`) and anything else that writes user-supplied text (locations, names,
categories) into HTML, so that every such text is escaped the same way.
"""

from __future__ import annotations

import html
import math

import pandas as pd

__all__ = ["as_number", "esc", "is_missing"]


def esc(value: object) -> str:
    """``value`` as text safe inside HTML, quotes included.

    >>> esc('<b onclick="x">St James & Co</b>')
    '&lt;b onclick=&quot;x&quot;&gt;St James &amp; Co&lt;/b&gt;'
    """
    return html.escape(str(value), quote=True)


def is_missing(value: object) -> bool:
    """True for None, NaN, NaT and pandas' NA; False for anything else (lists included).

    >>> [is_missing(v) for v in (None, float("nan"), pd.NaT, 0, "", [1])]
    [True, True, True, False, False, False]
    """
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def as_number(value: object) -> float | None:
    """``value`` as a finite float, or None when it is missing, not a number or infinite.

    >>> as_number("3.5"), as_number(None), as_number("x"), as_number(float("inf"))
    (3.5, None, None, None)
    """
    if is_missing(value):
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None
