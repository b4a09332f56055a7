"""Every month, count and percent wording of the printable pages.

One owner for how a figure is said: months ("January 2024"), spans of months, counts with small
ones suppressed ("fewer than 5", decided by :func:`hotspots.disclosure.is_small`), percents
(never "-0%"), distances and dates. Nothing here decides what to hide.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date

import pandas as pd

from .._text import as_number, is_missing
from .._validate import check_int
from ..disclosure import is_small
from ..errors import ParameterError
from ..trend import change_percent

__all__ = [
    "DASH",
    "MONTH_RE",
    "NOT_SHOWN",
    "WITHHELD",
    "count_text",
    "distance_text",
    "fewer_than",
    "generated_words",
    "month_words",
    "months_text",
    "n_months",
    "percent",
    "percent_interval",
    "signed_percent",
    "span_words",
    "suppress_small",
    "suppressed_items",
    "whole_percent",
]

#: A figure left out (missing, or hidden because it would reveal a small count).
DASH = "–"
#: A count that is not small, withheld so that a small one cannot be worked out.
WITHHELD = "withheld"
#: A pilot total that could give a small month away.
NOT_SHOWN = "not shown"
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _unsigned_zero(text: str) -> str:
    """ "-0%" or "-0.0%" -> without the sign (a value that rounds to zero has none)."""
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def fewer_than(threshold: int) -> str:
    """How a small count is printed.

    >>> fewer_than(5)
    'fewer than 5'
    """
    return f"fewer than {threshold}"


def suppress_small(value: int | float, *, threshold: int = 5) -> str:
    """A count as text for publication, with small counts suppressed.

    Parameters
    ----------
    value
        A count (incidents). Missing values (None, NaN) are shown as "–".
    threshold
        Counts from 1 to ``threshold - 1`` are shown as "fewer than <threshold>".

    Returns
    -------
    str
        ``"0"`` for 0, ``"fewer than 5"`` for 1 to 4 (``threshold=5``), else the count with
        thousands separators (``"1,234"``).

    Raises
    ------
    ParameterError
        A negative or infinite value, or a threshold below 1.

    Examples
    --------
    >>> [suppress_small(v) for v in (0, 3, 5, 1234)]
    ['0', 'fewer than 5', '5', '1,234']
    >>> suppress_small(float("nan")), suppress_small(7, threshold=10)
    ('–', 'fewer than 10')
    """
    limit = check_int(threshold, "threshold", minimum=1)
    if isinstance(value, bool | str | bytes):
        raise ParameterError(f"value must be a count (a number >= 0); got {value!r}.")
    if is_missing(value):
        return DASH
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"value must be a count (a number >= 0); got {value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise ParameterError(f"value must be a count (a finite number >= 0); got {value!r}.")
    if v == 0:
        return "0"
    if is_small(v, limit):
        return fewer_than(limit)
    return f"{v:,.0f}"


def count_text(value: object, threshold: int) -> str:
    """A count from a frame cell, suppressed; "–" when missing or not a number.

    >>> count_text("12", 5), count_text(3, 5), count_text(None, 5), count_text(-1, 5)
    ('12', 'fewer than 5', '–', '–')
    """
    v = as_number(value)
    return DASH if v is None or v < 0 else suppress_small(v, threshold=threshold)


def suppressed_items(items: object, threshold: int) -> list[tuple[str, str]]:
    """``(name, count)`` pairs with each count as printed, small ones suppressed.

    Works on the numbers (a list of the Hotspots frame's ``top_categories`` or
    ``top_locations``), never on printed text, so a name holding digits or ";" is kept whole.
    Missing is no items.

    Raises
    ------
    ParameterError
        ``items`` is text (its counts cannot be told apart from the names), or a count is not
        a count.

    Examples
    --------
    >>> suppressed_items([("Drugs", 30), ("Burglary 2; 3", 3)], 5)
    [('Drugs', '30'), ('Burglary 2; 3', 'fewer than 5')]
    >>> suppressed_items(None, 5)
    []
    """
    if isinstance(items, str | bytes):
        raise ParameterError(
            f"items must be (name, count) pairs (the Hotspots frame's lists); got text {items!r}."
        )
    if items is None or is_missing(items):
        return []
    pairs: Iterable[tuple[str, int | float]] = items  # type: ignore[assignment]
    return [(str(name), suppress_small(count, threshold=threshold)) for name, count in pairs]


def percent(share: float | None) -> str:
    """A share (0.25 = 25%) to one decimal; "under 0.1%" for a tiny one; never "-0.0%".

    >>> percent(0.4567), percent(0.0004), percent(0.0), percent(-0.0004), percent(None)
    ('45.7%', 'under 0.1%', '0.0%', '0.0%', '–')
    """
    if share is None:
        return DASH
    if 0 < share < 0.001:
        return "under 0.1%"
    return _unsigned_zero(f"{share:.1%}")


def whole_percent(share: float | None) -> str:
    """A share (0.23 = 23%) in whole percent, as people say it; "under 1%" for a tiny one.

    >>> whole_percent(0.2341), whole_percent(0.004), whole_percent(1.0), whole_percent(None)
    ('23%', 'under 1%', '100%', '–')
    """
    if share is None or not math.isfinite(share):
        return DASH
    if 0 < share < 0.005:
        return "under 1%"
    return _unsigned_zero(f"{share:.0%}")


def signed_percent(value: float) -> str:
    """A change in percent (-35.4 = 35.4% fewer) as "−35%" (a minus sign, as every change
    the tool prints); "0%" (never "−0%") when it rounds to zero; "n/a" when not finite.

    >>> signed_percent(-35.4), signed_percent(12.0), signed_percent(-0.4), signed_percent(0.4)
    ('−35%', '+12%', '0%', '0%')
    >>> signed_percent(float("nan"))
    'n/a'
    """
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:+.0f}%"
    return "0%" if _unsigned_zero(text.lstrip("+")) == "0%" else text.replace("-", "\u2212")


def _endpoint(value: float) -> str:
    """An interval endpoint in percent: whole, unless that would print 0%: then to one
    significant digit (up to 3 decimals), with its sign."""
    if not math.isfinite(value):
        return "n/a"
    if value != 0 and round(value) == 0:  # the trend's rule: more digits, never "0%"
        return change_percent(value / 100)
    return signed_percent(value)


def percent_interval(low: float, high: float) -> str:
    """A confidence interval of changes in percent, "−47% to −12%". An endpoint is never
    rounded onto or across zero: one that would print "0%" gets more digits.

    >>> percent_interval(-46.8, -0.05), percent_interval(-12.4, 30.2), percent_interval(0.4, 9)
    ('−47% to −0.05%', '−12% to +30%', '+0.4% to +9%')
    """
    return f"{_endpoint(low)} to {_endpoint(high)}"


def month_words(text: object, *, short: bool = False) -> str:
    """ "2024-01" -> "January 2024" (or "Jan 2024"); other text unchanged.

    >>> month_words("2024-01"), month_words("2024-01", short=True), month_words("spring")
    ('January 2024', 'Jan 2024', 'spring')
    """
    if is_missing(text):
        return "?"
    s = str(text).strip()
    if not MONTH_RE.match(s):
        return s
    return pd.Timestamp(s + "-01").strftime("%b %Y" if short else "%B %Y")


def span_words(first: str, last: str) -> str:
    """A span of months: "January 2024 to March 2024" (one month once).

    >>> span_words("2024-01", "2024-03"), span_words("2024-01", "2024-01")
    ('January 2024 to March 2024', 'January 2024')
    """
    a, b = month_words(first), month_words(last)
    return a if a == b else f"{a} to {b}"


def months_text(first: object, last: object) -> str:
    """A span of months for a table cell: "Jan 2024 – Mar 2024"; "–" when both are missing.

    >>> months_text("2024-01", "2024-03"), months_text(None, None)
    ('Jan 2024 – Mar 2024', '–')
    """
    if is_missing(first) and is_missing(last):
        return DASH
    a, b = month_words(first, short=True), month_words(last, short=True)
    return a if a == b else f"{a} – {b}"


def n_months(n: int) -> str:
    """ "1 month", "3 months".

    >>> n_months(1), n_months(0)
    ('1 month', '0 months')
    """
    return f"{n} month{'s' if n != 1 else ''}"


def distance_text(metres: float) -> str:
    """A scale-bar length: "500 m", "2 km".

    >>> distance_text(500), distance_text(2000)
    ('500 m', '2 km')
    """
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def generated_words(given: str | None = None) -> str:
    """The "generated" date of a page: ``given``, else today as "5 March 2025"."""
    return date.today().strftime("%d %B %Y").lstrip("0") if given is None else given
