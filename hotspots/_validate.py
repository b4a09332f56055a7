"""Argument checks shared by the library: frames, months, coordinates, weights and numbers.

Every check returns the value converted (a frame, a month, an array, an ``int``, a ``float``) or
raises :class:`~hotspots.errors.ParameterError` (an argument of the wrong kind or out of range)
or :class:`~hotspots.errors.InputError` (data that does not fit) with one line that names the
argument and the fix. This module is the one owner of "is this an Incidents frame" and of month
text ("YYYY-MM"): the month number ``year * 12 + month - 1`` and its label.
"""

from __future__ import annotations

import math
import numbers
import re
import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._memo import on_forget_all
from .errors import InputError, ParameterError

if TYPE_CHECKING:  # geopandas is imported when a frame is checked: the CLI's --help stays light
    import geopandas as gpd

__all__ = [
    "MONTH_PATTERN",
    "check_incidents",
    "check_int",
    "check_layer",
    "check_month",
    "check_positive_float",
    "check_weights",
    "check_xy",
    "month_label",
    "month_number",
    "month_numbers",
]

#: A month as text: ``YYYY-MM`` (groups: year, month).
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

_METRE_UNITS = ("metre", "meter")
_READ_INCIDENTS = "read them with read_incidents()"


# --------------------------------------------------------------------------- frames


def _metres_problem(crs: Any) -> str | None:
    """Why ``crs`` is not a projected CRS in metres, or None when it is."""
    if crs is None:
        return "has no CRS"
    if not crs.is_projected:
        return f"is in longitude/latitude ({crs.to_string()})"
    unit = crs.axis_info[0].unit_name if crs.axis_info else None
    if unit not in _METRE_UNITS:
        return f"is in {unit or 'unknown units'} ({crs.to_string()})"
    return None


def check_incidents(
    frame: object, name: str = "incidents", *, columns: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    """``frame`` if it is an Incidents frame: a GeoDataFrame in metres with ``columns``.

    Parameters
    ----------
    frame
        What to check; returned unchanged.
    name
        The argument's name, used in the messages.
    columns
        Columns ``frame`` must have (e.g. ``("month", "category")``).

    Raises
    ------
    ParameterError
        ``frame`` is not a GeoDataFrame.
    InputError
        It is not in a projected CRS in metres, or a column of ``columns`` is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> inc = gpd.GeoDataFrame({"month": [pd.Timestamp("2024-01-01")]},
    ...                        geometry=gpd.points_from_xy([0.0], [0.0]), crs="EPSG:27700")
    >>> len(check_incidents(inc, columns=("month",)))
    1
    >>> check_incidents(inc.to_crs(4326))
    Traceback (most recent call last):
    ...
    hotspots.errors.InputError: incidents must be in a projected CRS in metres (e.g. EPSG:27700) \
but is in longitude/latitude (EPSG:4326); read them with read_incidents() or reproject them \
with hotspots.crs.to_metres().
    """
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(
            f"{name} must be the Incidents GeoDataFrame, got {type(frame).__name__}; "
            f"{_READ_INCIDENTS}.",
            argument=name,
        )
    problem = _metres_problem(frame.crs)
    if problem is not None:
        raise InputError(
            f"{name} must be in a projected CRS in metres (e.g. EPSG:27700) but {problem}; "
            f"{_READ_INCIDENTS} or reproject them with hotspots.crs.to_metres()."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} has no {', '.join(repr(c) for c in missing)} column; {_READ_INCIDENTS}."
        )
    return frame


def check_named_areas(frame: Any, name: str, column: str, fix: str) -> Any:
    """``frame`` (a GeoDataFrame) when every geometry is a polygon or multipolygon (or
    empty) and every ``column`` name is given once (without case), else an InputError
    naming the row and ending with ``fix``."""
    kinds = frame.geometry.geom_type.to_numpy(dtype=object)
    empty = frame.geometry.isna().to_numpy() | frame.geometry.is_empty.to_numpy()
    bad = ~empty & ~np.isin(kinds, ("Polygon", "MultiPolygon"))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name}: row {k + 1} ({str(frame[column].iloc[k])!r}) is a {kinds[k]}, not an "
            f"area; give polygons ({fix}: it refuses points and lines)."
        )
    folded = frame[column].astype(str).str.casefold()
    twice = folded.duplicated(keep=False).to_numpy()
    if twice.any():
        k = int(np.flatnonzero(twice)[0])
        raise InputError(
            f"{name}: the name {str(frame[column].iloc[k])!r} is given more than once; give "
            f"each area once ({fix}: it merges the parts of one name)."
        )
    return frame


def check_layer(
    frame: object,
    name: str,
    *,
    crs: Any = None,
    columns: Sequence[str] = (),
    metres: bool = False,
    fix: str = "give a GeoDataFrame with a CRS",
) -> gpd.GeoDataFrame:
    """``frame`` if it is a GeoDataFrame with a CRS (cells, wards, patrol areas, hotspots).

    Parameters
    ----------
    frame
        What to check.
    name
        The argument's name, used in the messages.
    crs
        When given, the frame is returned reprojected to it (a new frame); else unchanged.
    columns
        Columns ``frame`` must have.
    metres
        Also require a projected CRS in metres.
    fix
        How to get a good frame, ending the messages (e.g. "load it with load_wards()").

    Raises
    ------
    ParameterError
        Not a GeoDataFrame, no CRS, a missing column.
    InputError
        ``metres`` and not in a projected CRS in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:27700")
    >>> check_layer(cells, "cells", crs="EPSG:4326").crs.to_epsg()
    4326
    """
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise ParameterError(
            f"{name} must be a GeoDataFrame, got {type(frame).__name__}; {fix}.", argument=name
        )
    if frame.crs is None:
        raise ParameterError(
            f"{name} has no coordinate reference system (CRS); set it (e.g. EPSG:27700) or {fix}.",
            argument=name,
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} has no {', '.join(repr(c) for c in missing)} column; {fix}.", argument=name
        )
    problem = _metres_problem(frame.crs) if metres else None
    if problem is not None:
        raise InputError(
            f"{name} must be in a projected CRS in metres (e.g. EPSG:27700) but {problem}; "
            "reproject it with hotspots.crs.to_metres()."
        )
    if crs is not None and frame.crs != crs:
        return frame.to_crs(crs)
    return frame


# --------------------------------------------------------------------------- months


def check_month(value: object, name: str) -> pd.Timestamp:
    """The first day of month ``value``: text ``"YYYY-MM"`` or a date (its month).

    Raises :class:`ParameterError` naming ``name`` (``argument=name``) for anything else.

    >>> check_month(" 2024-03", "start")
    Timestamp('2024-03-01 00:00:00')
    >>> check_month(pd.Timestamp("2024-03-17 10:00"), "start")
    Timestamp('2024-03-01 00:00:00')
    >>> check_month("2024-13", "start")
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: start '2024-13': not a month; use YYYY-MM, e.g. 2024-01.
    """
    if isinstance(value, str):
        m = MONTH_PATTERN.match(value.strip())
        if m is not None:
            return pd.Timestamp(year=int(m.group(1)), month=int(m.group(2)), day=1)
    elif isinstance(value, date | np.datetime64) and not pd.isna(value):
        stamp = pd.Timestamp(value)
        return pd.Timestamp(year=stamp.year, month=stamp.month, day=1)
    raise ParameterError(
        f"{name} {value!r}: not a month; use YYYY-MM, e.g. 2024-01.", argument=name
    )


def month_number(month: pd.Timestamp | date) -> int:
    """``year * 12 + month - 1``: consecutive months are consecutive numbers.

    >>> month_number(pd.Timestamp("2024-01-01"))
    24288
    """
    return int(month.year) * 12 + int(month.month) - 1


# The month numbers of the last two large datetime columns asked for, with a copy of the
# dates they are of: an analysis asks for its incidents' months a dozen times (60 ms each at
# 3M rows; comparing the dates to the copy and copying the numbers takes a quarter of that).
_KEPT_MONTHS: list[tuple[np.dtype[Any], NDArray[np.int64], NDArray[np.float64]]] = []
_KEPT_MONTHS_FROM = 100_000
_kept_months_lock = threading.Lock()
on_forget_all(_KEPT_MONTHS.clear)


def month_numbers(months: pd.Series) -> NDArray[np.float64]:
    """:func:`month_number` of every date (or period) in ``months`` (NaN where missing).

    Raises :class:`InputError` when ``months`` does not hold dates. The numbers of a large
    column of plain datetimes are kept for the next call with equal dates (a new array each
    time, equal to one worked out again).

    >>> month_numbers(pd.Series(pd.to_datetime(["2024-01-01", None]))).tolist()
    [24288.0, nan]
    """
    unit = months.dtype
    if not (isinstance(unit, np.dtype) and unit.kind == "M") or len(months) < _KEPT_MONTHS_FROM:
        return _month_numbers(months)
    stamps = months.to_numpy().view(np.int64)
    with _kept_months_lock:
        for kept_unit, kept, numbers in _KEPT_MONTHS:
            if kept_unit == unit and kept.shape == stamps.shape and np.array_equal(kept, stamps):
                return numbers.copy()
    numbers = _month_numbers(months)
    with _kept_months_lock:
        _KEPT_MONTHS.insert(0, (unit, stamps.copy(), numbers.copy()))
        del _KEPT_MONTHS[2:]
    return numbers


def _month_numbers(months: pd.Series) -> NDArray[np.float64]:
    """:func:`month_numbers`, worked out."""
    if not (
        pd.api.types.is_datetime64_any_dtype(months) or isinstance(months.dtype, pd.PeriodDtype)
    ):
        try:
            months = pd.to_datetime(months)
        except (ValueError, TypeError):
            raise InputError(
                f"incidents['month'] must hold dates (first day of the month); {_READ_INCIDENTS}."
            ) from None
    out = (months.dt.year * 12 + months.dt.month - 1).to_numpy(dtype=float, na_value=np.nan)
    # (a missing period's year and month read as -1, not as missing)
    return np.where(months.isna().to_numpy(), np.nan, np.asarray(out, dtype=np.float64))


def month_label(number: float) -> str:
    """The ``"YYYY-MM"`` of a :func:`month_number`; ``""`` for NaN.

    >>> month_label(24288), month_label(float("nan"))
    ('2024-01', '')
    """
    if not math.isfinite(number):
        return ""
    year, month = divmod(int(number), 12)
    return f"{year:04d}-{month + 1:02d}"


# --------------------------------------------------------------------------- numbers


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
        raise ParameterError(
            f"{name} must be a number, got {value!r}; give e.g. {name}=150.", argument=name
        )
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ParameterError(
            f"{name} must be a positive finite number, got {value!r}.", argument=name
        )
    return v


def check_int(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an ``int`` of at least ``minimum`` (a whole number; not a bool or a float).

    >>> check_int(15, "min_samples", minimum=1)
    15
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name} must be a whole number >= {minimum}, got {value!r}; "
            f"e.g. {name}={max(minimum, 15)}."
        )
    v = int(value)
    if v < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {v}; raise it to {minimum}.")
    return v
