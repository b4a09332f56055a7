"""Unique map points with counts: the one owner of the design's central speed idea.

data.police.uk snaps many incidents onto one anonymous map point, so the algorithms work on
the unique coordinates with the summed weights of their incidents and map the result back
to the rows through one code per row. :func:`unique_points` does that reduction (hash-based,
first-appearance order, as ``pandas.factorize``: no ``np.unique(axis=0)`` sort of all rows);
:func:`shared_points` builds one shapely point per distinct point for the rows to share;
:func:`incident_xy` gives an Incidents frame's metre coordinates; :func:`morton_order` puts
nearby points next to each other before a k-d tree is built on them.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from ._threads import workers
from .errors import InputError

__all__ = [
    "all_points_xy",
    "incident_xy",
    "keep_points_xy",
    "morton_order",
    "point_rows",
    "shared_points",
    "unique_points",
]

# Multiplier that mixes the two 64-bit coordinate words into one hash key (golden ratio).
_HASH_MIX = np.uint64(0x9E3779B97F4A7C15)
# From this many rows on, the rows are factorized in two threads.
_PARALLEL_ROWS = 1 << 20
# Coordinates of this many recent point arrays are kept (all_points_xy), from this size on.
_KEPT_XY = 2
_KEEP_XY_FROM = 10_000
_KEPT: dict[tuple[int, int], tuple[object, NDArray[np.object_], NDArray[np.float64]]] = {}
# unique_points' codes and points of the last read-only coordinate arrays, by the array
_KEPT_CODES: dict[int, tuple[weakref.ref[Any], NDArray[np.intp], NDArray[np.float64]]] = {}
_kept_lock = threading.Lock()


def incident_xy(incidents: gpd.GeoDataFrame) -> NDArray[np.float64]:
    """The (n, 2) metre coordinates of an Incidents frame's points (read-only: the same array
    is given again for the same points, :func:`all_points_xy`)."""
    if incidents.crs is None or not incidents.crs.is_projected:
        raise InputError(
            "incidents must be in a projected CRS in metres; read them with read_incidents()."
        )
    geom = incidents.geometry.to_numpy()
    xy = all_points_xy(geom)
    if xy is not None:
        return xy
    series = incidents.geometry  # an empty point has no coordinate: NaN, as .x gives
    return np.column_stack([series.x.to_numpy(dtype=float), series.y.to_numpy(dtype=float)])


def point_rows(geoms: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which ``geoms`` are non-empty points, and their (k, 2) coordinates.

    One pass of type codes and one of coordinates when every row is a point (an Incidents
    frame's case: a city's millions of rows; :func:`all_points_xy`), else row by row.

    >>> ok, xy = point_rows([shapely.Point(1, 2), None, shapely.Point(), shapely.box(0, 0, 1, 1)])
    >>> ok.tolist(), xy.tolist()
    ([True, False, False, False], [[1.0, 2.0]])
    """
    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return np.zeros(0, dtype=bool), np.zeros((0, 2))
    xy = all_points_xy(arr)
    if xy is not None:
        return np.ones(len(arr), dtype=bool), xy
    ok = (shapely.get_type_id(arr) == 0) & ~shapely.is_empty(arr)  # missing: -1
    return ok, np.asarray(shapely.get_coordinates(arr[ok]), dtype=float)


def all_points_xy(geoms: NDArray[np.object_]) -> NDArray[np.float64] | None:
    """The (n, 2) coordinates of ``geoms`` when every one is a non-empty point, else None.

    The answer is read-only and kept for the last :data:`_KEPT_XY` arrays, by the geometry
    objects they hold: a city's analysis reads its incidents' coordinates in a dozen places
    (0.35 s each at 3M rows), and a frame filtered to all its rows, or the same frame given
    again, holds the same objects. The objects' identities are compared, not their values
    (shapely 2 geometries are immutable), so a row given a new point in place is seen.

    >>> pts = np.array([shapely.Point(1, 2), shapely.Point(3, 4)], dtype=object)
    >>> all_points_xy(pts).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> all_points_xy(np.array([shapely.Point(1, 2), shapely.Point()], dtype=object)) is None
    True
    """
    arr = np.asarray(geoms, dtype=object)
    ids = _identities(arr)
    key = (len(arr), int(ids[0]) if ids is not None and len(ids) else 0)
    if ids is not None:
        with _kept_lock:
            kept = _KEPT.get(key)
        held = None if kept is None else _identities(kept[1])
        if kept is not None and held is not None and np.array_equal(held, ids):
            return kept[2]
    keep = ids is not None and len(arr) >= _KEEP_XY_FROM
    # the objects read are the objects kept (a copy: another thread may write to ``arr``
    # meanwhile), and held, so that no other object can take their addresses
    objects = arr.copy() if keep else arr
    if not (shapely.get_type_id(objects) == 0).all():  # missing: -1
        return None
    xy = np.asarray(shapely.get_coordinates(objects), dtype=float)
    if len(xy) != len(objects):  # an empty point has no coordinate
        return None
    xy.flags.writeable = False
    if keep:
        _keep_xy(arr, objects, xy)
    return xy


def keep_points_xy(geoms: NDArray[np.object_], xy: NDArray[np.float64]) -> None:
    """Remember ``xy`` as the coordinates of the points ``geoms`` (the reader's: it built
    them from these numbers), so that :func:`all_points_xy` gives them without reading the
    geometries; ``xy`` must be read-only. Arrays below the size kept are left alone."""
    arr = np.asarray(geoms, dtype=object)
    if xy.flags.writeable or xy.shape != (len(arr), 2):
        raise ValueError("keep_points_xy: give read-only (n, 2) coordinates of the n points.")
    if len(arr) >= _KEEP_XY_FROM and _identities(arr) is not None:
        _keep_xy(arr, arr.copy(), xy)


def _keep_xy(arr: NDArray[np.object_], objects: NDArray[np.object_], xy: NDArray[Any]) -> None:
    """Keep ``xy`` as the coordinates of ``objects`` (a copy of ``arr``, held so that no other
    object can take their addresses) until ``arr``'s memory is freed."""
    ids = _identities(objects)
    assert ids is not None
    key = (len(objects), int(ids[0]) if len(ids) else 0)
    token = object()  # names this entry (the finalizer must not hold the objects)
    with _kept_lock:
        _KEPT.pop(key, None)
        _KEPT[key] = (token, objects, xy)
        while len(_KEPT) > _KEPT_XY:
            _KEPT.pop(next(iter(_KEPT)))
    # dropped with the array it was read from (a frame's points are not held past it)
    weakref.finalize(_owner(arr), _forget, _KEPT, key, token)


def _owner(arr: NDArray[Any]) -> NDArray[Any]:
    """The array that owns ``arr``'s memory (``arr`` itself when it owns it)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _forget(kept: dict[Any, Any], key: Any, first: object) -> None:
    """Drop ``kept[key]`` if its first item is still ``first`` (a later entry under the same
    key stays). Called by the garbage collector: no lock, a dict's own operations are atomic."""
    entry = kept.get(key)
    if entry is not None and entry[0] is first:
        kept.pop(key, None)


def _identities(arr: NDArray[np.object_]) -> NDArray[np.intp] | None:
    """The object addresses a one-dimensional contiguous object array holds (None for any
    other array): a view of its buffer, valid while ``arr`` is alive and unchanged."""
    if arr.dtype != object or arr.ndim != 1 or not arr.flags.c_contiguous:
        return None
    if not len(arr):
        return np.zeros(0, dtype=np.intp)
    words = (ctypes.c_ssize_t * len(arr)).from_address(arr.ctypes.data)
    return np.ctypeslib.as_array(words)


def unique_points(
    xy: ArrayLike, weights: ArrayLike | None = None
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """The unique coordinates of ``xy``, the code of every row, and the summed weights.

    Parameters
    ----------
    xy
        ``(n, 2)`` finite coordinates, one row per incident (check them first, e.g. with
        :func:`hotspots._validate.check_xy`).
    weights
        Weight per row; None counts every row once.

    Returns
    -------
    codes : ndarray of intp, shape (n,)
        Index of each row's point in ``unique_xy``.
    unique_xy : ndarray of float64, shape (m, 2)
        The distinct points in first-appearance order (``-0.0`` read as ``0.0``).
    unique_weights : ndarray of float64, shape (m,)
        The summed weights (the number of rows when ``weights`` is None) of each point.

    Notes
    -----
    Rows are hashed to one int64 key (the two coordinate words mixed) and factorized (in two
    threads for large inputs); the result is verified against the coordinates, with an exact
    complex128 factorize as the fallback should two different points ever share a key.

    Examples
    --------
    >>> codes, uxy, uw = unique_points([[5.0, 1.0], [0.0, 0.0], [5.0, 1.0]])
    >>> codes.tolist(), uxy.tolist(), uw.tolist()
    ([0, 1, 0], [[5.0, 1.0], [0.0, 0.0]], [2.0, 1.0])
    """
    arr = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    kept = _kept_codes(xy)
    codes, uxy = kept if kept is not None else _codes(arr)
    if kept is None and _keepable(xy) and (not len(codes) or codes.min() >= 0):
        # (a NaN row has code -1: such an array is refused below, and its codes never kept)
        assert isinstance(xy, np.ndarray)
        codes.flags.writeable = uxy.flags.writeable = False
        ref = weakref.ref(xy, functools.partial(_forget, _KEPT_CODES, id(xy)))
        with _kept_lock:
            _KEPT_CODES.pop(id(xy), None)  # the newest last: the oldest goes first
            _KEPT_CODES[id(xy)] = (ref, codes, uxy)
            while len(_KEPT_CODES) > _KEPT_XY:
                _KEPT_CODES.pop(next(iter(_KEPT_CODES)))
    n_unique = len(uxy)
    if weights is None:
        uw = np.bincount(codes, minlength=n_unique).astype(np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64)
        uw = np.bincount(codes, weights=w, minlength=n_unique).astype(np.float64, copy=False)
    return codes, uxy, uw


def unique_points_of(
    xy: NDArray[np.float64], rows: NDArray[np.intp], weights: ArrayLike | None = None
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """``unique_points(xy[rows], weights)``, equal in every number (codes in order of first
    appearance among ``rows``), from the codes kept for ``xy`` when there are (a city's
    rows as read: no hashing of the subset); ``rows`` are row indices, in any order. Every
    row in order: ``unique_points(xy, weights)`` itself, whose codes a large read-only ``xy``
    keeps.

    >>> xy = np.array([[5.0, 1.0], [0.0, 0.0], [5.0, 1.0]])
    >>> [a.tolist() for a in unique_points_of(xy, np.array([2, 1]))]
    [[0, 1], [[5.0, 1.0], [0.0, 0.0]], [1.0, 1.0]]
    """
    if len(rows) == len(xy) and (len(rows) < 2 or bool((np.diff(rows) > 0).all())):
        return unique_points(xy, weights)  # every row, in order
    kept = _kept_codes(xy)
    if kept is None:
        return unique_points(xy[rows], weights)
    all_codes, all_xy = kept
    sub = all_codes[rows]
    first = np.full(len(all_xy), len(sub), dtype=np.intp)
    np.minimum.at(first, sub, np.arange(len(sub)))  # each point's first row among ``rows``
    present = np.flatnonzero(first < len(sub))
    ranked = present[np.argsort(first[present], kind="stable")]
    renumber = np.empty(len(all_xy), dtype=np.intp)
    renumber[ranked] = np.arange(len(ranked))
    codes = renumber[sub]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    summed = np.bincount(codes, weights=w, minlength=len(ranked)).astype(np.float64, copy=False)
    return codes, all_xy[ranked], summed


def _keepable(xy: ArrayLike) -> bool:
    """Whether ``xy`` is a large ``(n, 2)`` float array holding its own read-only data (as
    :func:`all_points_xy` gives): its values cannot change while it lives, so what is worked
    out from them can be kept."""
    return bool(
        isinstance(xy, np.ndarray)
        and xy.dtype == np.float64
        and xy.shape[1:] == (2,)
        and len(xy) >= _KEEP_XY_FROM
        and xy.flags.owndata
        and not xy.flags.writeable
    )


def kept_point_codes(xy: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]] | None:
    """:func:`unique_points`' codes and distinct points of this very array when they are kept
    (a large read-only array seen before), else None: whether a caller may use them for free.

    >>> kept_point_codes(np.zeros((3, 2))) is None  # small and writeable: never kept
    True
    """
    return _kept_codes(xy)


def _kept_codes(xy: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]] | None:
    """:func:`unique_points`' codes and points of this very array, when kept."""
    if not _keepable(xy):
        return None
    with _kept_lock:
        kept = _KEPT_CODES.get(id(xy))
    return (kept[1], kept[2]) if kept is not None and kept[0]() is xy else None


def _codes(arr: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Each row's code and the distinct points (:func:`unique_points`)."""
    pts = arr if np.all(arr) else arr + 0.0  # only a zero can be -0.0
    key = pts[:, 0].view(np.uint64) * _HASH_MIX
    np.bitwise_xor(key, pts[:, 1].view(np.uint64), out=key)
    codes = _factorize_codes(key.view(np.int64))
    del key
    # A row is a first appearance exactly when its code exceeds every code before it.
    first_mask = np.empty(len(codes), dtype=bool)
    first_mask[:1] = True
    if len(codes) > 1:
        np.greater(codes[1:], np.maximum.accumulate(codes)[:-1], out=first_mask[1:])
    uxy = pts[first_mask] + 0.0
    if not all(np.array_equal(uxy[:, c].copy()[codes], pts[:, c]) for c in (0, 1)):
        codes, uniq = pd.factorize(pts.view(np.complex128).ravel() + 0.0)  # keys collided
        uxy = np.column_stack([uniq.real, uniq.imag])
    return codes.astype(np.intp, copy=False), uxy


def shared_points(xy: NDArray[np.float64]) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """A shapely point per row of the ``(n, 2)`` coordinates, one object shared by the rows
    at each distinct point, and the number of rows at each distinct point (first-appearance
    order). Read-only coordinates keep their codes (:func:`unique_points`) for later stages.

    data.police.uk snaps a city's incidents onto few map points (3M rows on 125k): one GEOS
    point per distinct point instead of one per row spares the building (1.5 s at 3M rows)
    and the memory (400 MB) of millions of equal points. Shapely 2 geometries are immutable,
    so rows can share one. When a coordinate is zero, every row gets its own point
    (:func:`unique_points` reads -0.0 as 0.0, and each row keeps its own sign of zero).

    >>> geoms, counts = shared_points(np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]]))
    >>> geoms[0] is geoms[2], geoms[0].wkt, counts.tolist()
    (True, 'POINT (1 2)', [2.0, 1.0])
    """
    codes, uxy, counts = unique_points(xy)
    if not np.all(xy):  # a zero, maybe -0.0: each row its own point, sign kept
        return np.asarray(shapely.points(xy), dtype=object), counts
    return np.asarray(shapely.points(uxy), dtype=object)[codes], counts


def _factorize_codes(key: NDArray[np.int64]) -> NDArray[np.intp]:
    """``pandas.factorize(key)[0]``; two halves in two threads when that pays (pandas
    releases the GIL), merged so that codes still follow first appearance."""
    n = len(key)
    if workers(2, n, _PARALLEL_ROWS) < 2:
        return pd.factorize(key)[0]
    half = n // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        (codes_a, uniq_a), (codes_b, uniq_b) = pool.map(pd.factorize, (key[:half], key[half:]))
    # The first half's keys keep their codes; the second half's new keys follow, in order.
    merged = pd.factorize(np.concatenate([uniq_a, uniq_b]))[0]
    return np.concatenate([codes_a, merged[len(uniq_a) :][codes_b]])


def morton_order(pts: NDArray[np.float64], cell: float) -> NDArray[np.intp]:
    """A permutation that puts nearby points next to each other (Z-order of ``cell`` squares).

    >>> morton_order(np.array([[10.0, 10.0], [0.0, 0.0], [10.0, 0.0]]), 5.0).tolist()
    [1, 2, 0]
    """
    span = pts - pts.min(axis=0)
    cells = np.minimum(span / cell, 2.0**31 - 1).astype(np.uint64)

    def spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
        for shift, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    code = spread(cells[:, 0]) | (spread(cells[:, 1]) << np.uint64(1))
    return np.argsort(code, kind="stable")
