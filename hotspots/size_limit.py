"""DBSCAN hotspots within the size limit: no outline over :data:`MAX_HOTSPOT_KM2`.

A cluster whose outline (:func:`hotspots.footprint.hotspot_footprints`) is larger than the
limit is clustered again on its own members with a stricter core rule (``min_samples`` x 1.5,
repeated) until every part fits, so a city centre splits into its busiest streets instead of
one polygon across whole town centres (:func:`hotspot_labels`). Whether an outline fits is
decided, where it can be, from bounds of its area without drawing it: the cluster's size
(:func:`_treeless_bound`), its spanning tree's upper bound and floor, cell counts, and only
then a coarse drawing (:func:`hotspots.footprint.drawn_area_floors`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from ._points import unique_points
from .cluster import dbscan_labels
from .footprint import (
    DEFAULT_MARGIN,
    drawn_area_floors,
    hotspot_footprints,
    outline_area_bound,
    outline_area_floor,
)

__all__ = ["MAX_HOTSPOT_KM2", "hotspot_labels", "outlines_of", "rows_by_label", "treeless_bound"]

#: Largest hotspot outline, km², before it is split by a stricter core rule.
MAX_HOTSPOT_KM2 = 1.0
# The margin factor of the area bound that keeps a cluster without drawing it.
_BOUND_SLACK = 1.01


def hotspot_labels(
    xy: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    eps: float,
    min_samples: int,
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    outlines: dict[int, BaseGeometry] | None = None,
    distinct: bool = False,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """DBSCAN labels and core mask, with clusters whose outline exceeds ``max_km2`` split.

    A cluster whose outline (:func:`hotspot_footprints` with ``margin``) is larger than
    ``max_km2`` is clustered again on its own members with ``min_samples`` x 1.5 (rounded
    up), repeatedly, until every part fits; members left out become noise. ``max_km2=None``
    is plain DBSCAN. Labels are renumbered 0.. in order of first row.

    ``outlines``, when given, receives the outlines drawn on the way (``{label: outline}``,
    equal to :func:`hotspot_footprints`' for that label) so that the caller need not draw them
    again. ``distinct``: the rows are distinct map points already (a :class:`MapPoints`'),
    taken as they are.
    """
    labels, core = dbscan_labels(
        xy, eps=eps, min_samples=min_samples, weights=weights, distinct=distinct
    )
    if max_km2 is None or labels.max(initial=-1) < 0:
        return labels, core
    # Split on the unique map points with their summed weights (rows at one point share
    # their label and core flag), then give every row its point's answer.
    if distinct:
        uxy = np.asarray(xy, dtype=np.float64)
        codes = np.arange(len(uxy), dtype=np.intp)
        uw = np.ones(len(uxy)) if weights is None else np.asarray(weights, dtype=np.float64)
    else:
        codes, uxy, uw = unique_points(xy, weights)
    first = np.full(len(uxy), len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes)))  # each point's first row
    drawn: dict[int, BaseGeometry] = {}
    point_labels, point_core = _split_large(
        uxy, uw, labels[first], core[first], (eps, min_samples, margin, float(max_km2) * 1e6), drawn
    )
    out = point_labels[codes]
    member = out >= 0
    if member.any():
        n_labels = int(out.max()) + 1
        first_row = np.full(n_labels, len(out), dtype=np.int64)
        np.minimum.at(first_row, out[member], np.flatnonzero(member))
        rank = np.empty(n_labels, dtype=np.int64)
        rank[np.argsort(first_row, kind="stable")] = np.arange(n_labels)
        out[member] = rank[out[member]]
        if outlines is not None:
            outlines.update({int(rank[k]): shape for k, shape in drawn.items()})
    return out, point_core[codes] & member


def _split_large(
    xy: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    core: npt.NDArray[np.bool_],
    setting: tuple[float, int, float, float],
    drawn: dict[int, BaseGeometry],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Labels (0.., any order) and core flags of unique points after splitting every cluster
    whose outline exceeds ``limit`` m² (see :func:`hotspot_labels`); ``drawn`` receives the
    outlines drawn of the clusters kept."""
    eps, min_samples, margin, limit = setting
    out = np.full(len(labels), -1, dtype=np.int64)
    core = core.copy()
    pending = [(rows, min_samples) for rows in rows_by_label(labels)]
    next_label = 0
    while pending:  # one generation of clusters at a time: their outlines drawn together
        kept: list[npt.NDArray[np.intp]] = []
        split: list[tuple[npt.NDArray[np.intp], int]] = []
        undecided: list[tuple[npt.NDArray[np.intp], int]] = []
        for rows, ms in pending:
            if _fits(len(rows), eps, margin, limit):  # the points are unique
                kept.append(rows)
            elif outline_area_floor(xy[rows], margin=margin) > limit:
                split.append((rows, ms))
            else:
                undecided.append((rows, ms))
        # most large clusters fit by their spanning tree's bound: kept without drawing
        fit_by_tree = _fit_by_tree([xy[rows] for rows, _ in undecided], margin, limit)
        kept += [rows for (rows, _), fits in zip(undecided, fit_by_tree, strict=True) if fits]
        undecided = [task for task, fits in zip(undecided, fit_by_tree, strict=True) if not fits]
        # most of the rest are over the limit by their tree's floor, or a coarse drawing:
        # split without the outline
        floors = drawn_area_floors([xy[rows] for rows, _ in undecided], margin, limit)
        split += [task for task, floor in zip(undecided, floors, strict=True) if floor > limit]
        undecided = [task for task, floor in zip(undecided, floors, strict=True) if floor <= limit]
        for (rows, ms), outline in zip(
            undecided, _draw_each([xy[rows] for rows, _ in undecided], margin), strict=True
        ):
            if outline.area <= limit:
                drawn[next_label + len(kept)] = outline
                kept.append(rows)
            else:
                split.append((rows, ms))
        for rows in kept:
            out[rows] = next_label
            next_label += 1
        pending = []
        for rows, ms in split:
            stricter = math.ceil(ms * 1.5)
            sub, sub_core = dbscan_labels(
                xy[rows], eps=eps, min_samples=stricter, weights=weights[rows]
            )
            core[rows] = sub_core
            pending += [(rows[part], stricter) for part in rows_by_label(sub)]
    return out, core


def _fit_by_tree(clouds: list[npt.NDArray[np.float64]], margin: float, limit: float) -> list[bool]:
    """Whether each point set's outline fits in ``limit`` m² by its spanning tree's area bound
    (:func:`hotspots.footprint.outline_area_bound`) taken with a margin wider by
    :data:`_BOUND_SLACK` (GEOS simplifies the buffered lines within 1% of the margin, so the
    drawn outline may reach that far beyond the exact buffer)."""
    if not clouds:
        return []
    label = np.repeat(np.arange(len(clouds), dtype=np.int64), [len(c) for c in clouds])
    bound = outline_area_bound(np.concatenate(clouds), label, margin=margin * _BOUND_SLACK)
    return [bound[k] <= limit for k in range(len(clouds))]


def _draw_each(clouds: list[npt.NDArray[np.float64]], margin: float) -> list[BaseGeometry]:
    """The outline of each point set (one vectorised :func:`hotspot_footprints` call)."""
    if not clouds:
        return []
    label = np.repeat(np.arange(len(clouds), dtype=np.int64), [len(c) for c in clouds])
    shapes = hotspot_footprints(np.concatenate(clouds), label, margin=margin)
    return [shapes[k] for k in range(len(clouds))]


def outlines_of(
    xy: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    margin: float,
    drawn: dict[int, BaseGeometry],
) -> dict[int, BaseGeometry]:
    """:func:`hotspot_footprints` of ``labels``, taking those in ``drawn`` as they are (the
    outlines :func:`hotspot_labels` drew on the way); ascending label order."""
    present = np.unique(labels[labels >= 0])
    done = np.isin(labels, np.fromiter(drawn, dtype=np.int64, count=len(drawn)))
    fresh = hotspot_footprints(xy, np.where(done, -1, labels), margin=margin)
    return {int(k): drawn[int(k)] if int(k) in drawn else fresh[int(k)] for k in present}


def rows_by_label(labels: npt.NDArray[np.int64]) -> list[npt.NDArray[np.intp]]:
    """The rows of each label 0.. in label order, ascending (one sort, not a pass per label)."""
    member = np.flatnonzero(labels >= 0)
    if not member.size:
        return []
    member = member[np.argsort(labels[member], kind="stable")]
    cuts = np.flatnonzero(np.diff(labels[member])) + 1
    return list(np.split(member, cuts))


def _fits(n_points: int, eps: float, margin: float, limit: float) -> bool:
    """Whether the outline of ``n_points`` unique map points must fit in ``limit`` m² without
    drawing it (:func:`treeless_bound`)."""
    return treeless_bound(n_points, eps, margin) <= limit


def treeless_bound(n_points: Any, eps: float, margin: float) -> Any:
    """An upper bound of the outline area (m²) of a DBSCAN cluster of ``n_points`` distinct
    map points (a number, or an array of them), without its spanning tree: each tree edge is
    at most ``eps`` long, so the outline is at most a disc plus one ``eps`` x ``2 margin``
    strip a further map point.

    >>> round(treeless_bound(3, 100.0, 25.0))
    11963
    """
    return (n_points - 1) * 2 * margin * eps + math.pi * margin**2
