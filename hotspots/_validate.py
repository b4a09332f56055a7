"""Argument checks shared by the algorithms: coordinates, weights, whole and positive numbers.

Every check returns the value converted (an array, an ``int``, a ``float``) or raises
:class:`~hotspots.errors.ParameterError` with one line that names the argument and the fix.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ParameterError

__all__ = ["check_int", "check_positive_float", "check_weights", "check_xy"]


def check_xy(xy: ArrayLike, name: str = "xy") -> NDArray[np.float64]:
    """``xy`` as an ``(n, 2)`` float array of finite metre coordinates.

    An empty input of any shape gives an empty ``(0, 2)`` array.

    >>> check_xy([[0, 1], [2, 3]]).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    >>> check_xy([]).shape
    (0, 2)
    """
    try:
        arr = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be an (n, 2) array of numeric x/y coordinates in metres; "
            "convert the geometry with hotspots.crs.to_metres first."
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        if arr.size == 0:
            return np.empty((0, 2), dtype=np.float64)
        raise ParameterError(
            f"{name} must be an (n, 2) array of x/y coordinates in metres, got shape "
            f"{arr.shape}; pass one row per incident with two columns."
        )
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr).all(axis=1)).sum())
        raise ParameterError(
            f"{name} has {bad} row(s) with missing (NaN) or infinite coordinates; "
            "drop rows without coordinates first."
        )
    return arr


def check_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64] | None:
    """``weights`` as ``n`` finite non-negative floats, or None (every incident counts 1)."""
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            "weights must be numbers, one per incident; pass None for equal weights."
        ) from None
    if w.ndim != 1 or w.shape[0] != n:
        raise ParameterError(
            f"weights must have one value per row of xy ({n}), got shape {w.shape}; "
            "pass one weight per incident or None."
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ParameterError(
            "weights must be finite and non-negative; "
            "fix or drop the incidents with negative or missing weights."
        )
    return w


def check_positive_float(value: Any, name: str) -> float:
    """``value`` as a positive finite ``float`` (a real number; not a bool or text).

    >>> check_positive_float(150, "eps")
    150.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, got {value!r}; give e.g. {name}=150.")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ParameterError(f"{name} must be a positive finite number, got {value!r}.")
    return v


def check_int(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an ``int`` of at least ``minimum`` (a whole number; not a bool or a float).

    >>> check_int(15, "min_samples", minimum=1)
    15
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name} must be a whole number >= {minimum}, got {value!r}; e.g. {name}=15."
        )
    v = int(value)
    if v < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {v}; raise it to {minimum}.")
    return v
