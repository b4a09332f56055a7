"""The back-test's DBSCAN hotspot map: every cluster's outline, densest first.

:func:`cluster_map` clusters a fold's map points (:func:`hotspots.size_limit.hotspot_labels`,
the size limit included), draws each cluster's outline and ranks them by incidents per
square metre. With ``max_area`` only the clusters that can reach that much area are drawn.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from .footprint import DEFAULT_MARGIN, outline_area_bound
from .ranked_maps import MapPoints
from .size_limit import MAX_HOTSPOT_KM2, hotspot_labels, outlines_of, treeless_bound

__all__ = ["cluster_map", "cluster_outlines"]

# A lazy map first draws the clusters whose area bounds, densest first, add up to this much
# of its area ...
_FIRST_DRAWN = 1.1
# ... and, when every drawn one is taken, this many more at a time; undrawn ones that could
# come before one drawn are drawn at least this many at a time.
_NEXT_DRAWN = 256
_AHEAD = 64


def cluster_map(
    points: MapPoints,
    *,
    eps: float,
    min_samples: int | Sequence[int],
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    groups: npt.NDArray[np.int64] | None = None,
    max_area: float | None = None,
) -> list[BaseGeometry]:
    """The DBSCAN hotspot outlines of ``points``, densest first (the back-test's map).

    With ``groups`` (a group number 0.. per point), each group is clustered on its own with
    ``min_samples[group]``, and the outlines of all groups are ranked together. With
    ``max_area`` (m²) only the clusters needed to fill it are drawn: clusters in order of
    incidents per bound of their area (:func:`hotspots.footprint.outline_area_bound`) until
    the bounds add up to twice ``max_area`` (fast over a city; the drawn ones are then ranked
    by their true density). :func:`cluster_outlines` gives them one at a time.
    """
    return list(
        cluster_outlines(
            points,
            eps=eps,
            min_samples=min_samples,
            margin=margin,
            max_km2=max_km2,
            groups=groups,
            max_area=max_area,
        )
    )


def cluster_outlines(
    points: MapPoints,
    *,
    eps: float,
    min_samples: int | Sequence[int],
    margin: float = DEFAULT_MARGIN,
    max_km2: float | None = MAX_HOTSPOT_KM2,
    groups: npt.NDArray[np.int64] | None = None,
    max_area: float | None = None,
) -> Iterable[BaseGeometry]:
    """:func:`cluster_map`'s outlines one at a time, in the same order, each drawn only when
    it is asked for and no undrawn cluster can come before it.

    A map that stops at ``max_area`` (:func:`hotspots.ranked_maps.ranked_map`) then draws
    about the clusters it takes, not every candidate up to twice that area: first those whose
    area bounds, densest first, add up to :data:`_FIRST_DRAWN` of it; then, before yielding
    the densest drawn outline, every undrawn cluster whose density could be higher (its
    incidents over the floor of its area, :func:`hotspots.tree_area.buffer_area_floors`).
    Where the map takes every cluster anyway (their area bounds add up to no more than
    ``max_area``, or no ``max_area``), they are drawn at once and come as a list.
    """
    found = _Candidates(points, eps, min_samples, (margin, max_km2, max_area), groups)
    n, held = len(found.held), found.held
    with np.errstate(invalid="ignore"):  # (an infinite eps: no such bound, NaN: trees decide)
        treeless = float(treeless_bound(found.points_per, eps, margin).sum())
    # lazily only where choosing the candidates drew their trees (their bounds, over twice
    # the map, are kept) and the bounds say the map cannot take them all
    if max_area is None or treeless <= 2.0 * max_area or found.bounds()[0].sum() <= max_area:
        # every cluster is taken: drawn at once (a list: a map takes it whole)
        shapes = found.draw(np.arange(n))
        areas = shapely.area(np.asarray(shapes, dtype=object)) if n else np.zeros(0)
        return [shapes[i] for i in np.lexsort((np.arange(n), -held, -held / areas))]
    return _drawn_as_taken(found, max_area)


def _drawn_as_taken(found: _Candidates, max_area: float) -> Iterator[BaseGeometry]:
    """The candidates' outlines densest first, each drawn only when no undrawn one can come
    before it (:func:`cluster_outlines`)."""
    n, held = len(found.held), found.held
    bound, floor = found.bounds(floors=True)
    most = held / floor  # at least each cluster's density
    by_most = np.argsort(-most, kind="stable")
    waiting: list[tuple[float, float, int, BaseGeometry]] = []  # drawn, densest first
    done = np.zeros(n, dtype=bool)

    def draw(which: npt.NDArray[np.intp]) -> None:
        for k, shape in zip(which.tolist(), found.draw(which), strict=True):
            heapq.heappush(waiting, (-(held[k] / shape.area), -held[k], k, shape))
        done[which] = True

    by_bound = np.lexsort((np.arange(n), -held / bound))
    draw(by_bound[: int(np.searchsorted(np.cumsum(bound[by_bound]), _FIRST_DRAWN * max_area)) + 1])
    while True:
        left = by_most[~done[by_most]]
        if waiting and (not len(left) or -waiting[0][0] > most[left[0]]):
            yield heapq.heappop(waiting)[3]
        elif waiting:  # undrawn clusters that could be denser than the densest drawn one
            # (and the next few that could: fewer, larger drawings)
            draw(left[: max(int(np.count_nonzero(most[left] >= -waiting[0][0])), _AHEAD)])
        elif len(left):
            draw(left[:_NEXT_DRAWN])
        else:
            return


class _Candidates:
    """The clusters of a map, numbered in the order :func:`cluster_map` ranks ties (group by
    group, label by label): their incidents, their points and their outlines drawn on demand.
    ``setting``: the outline margin, the size limit (km²) and the map's ``max_area``."""

    def __init__(
        self,
        points: MapPoints,
        eps: float,
        min_samples: int | Sequence[int],
        setting: tuple[float, float | None, float | None],
        groups: npt.NDArray[np.int64] | None = None,
    ) -> None:
        margin, max_km2, max_area = setting
        self.margin = margin
        if groups is None:
            parts = [(points, int(np.max(min_samples)))]
        else:
            needed = np.atleast_1d(np.asarray(min_samples, dtype=np.int64))
            parts = [
                (MapPoints(points.xy[groups == g], points.counts[groups == g]), int(needed[g]))
                for g in np.unique(groups)
            ]
        self.parts: list[tuple[MapPoints, npt.NDArray[np.int64], dict[int, BaseGeometry]]] = []
        part_of: list[npt.NDArray[np.intp]] = []
        self.counts: list[int] = []  # each part's clusters
        self.known: list[dict[int, float]] = []
        label_of: list[npt.NDArray[np.int64]] = []
        held: list[npt.NDArray[np.float64]] = []
        per: list[npt.NDArray[np.int64]] = []
        for part, needed_here in parts if len(points.xy) else []:
            drawn: dict[int, BaseGeometry] = {}
            labels, _ = hotspot_labels(
                part.xy,
                part.counts,
                eps=eps,
                min_samples=needed_here,
                margin=margin,
                max_km2=max_km2,
                outlines=drawn,
                distinct=True,  # a MapPoints' points
            )
            bound: dict[int, float] = {}  # the clusters' area bounds, if choosing them drew trees
            if max_area is not None:
                labels = _densest_clusters(part, labels, (margin, eps), 2.0 * max_area, bound)
            member = labels >= 0
            keys = np.unique(labels[member])
            part_of.append(np.full(len(keys), len(self.parts), dtype=np.intp))
            label_of.append(keys)
            self.counts.append(len(keys))
            held.append(
                np.bincount(labels[member], weights=part.counts[member])[keys].astype(float)
            )
            per.append(np.bincount(labels[member])[keys])
            self.parts.append((part, labels, drawn))
            self.known.append(bound)
        # cluster k is label label_of[k] of part part_of[k]
        self.part_of = np.concatenate(part_of) if part_of else np.zeros(0, dtype=np.intp)
        self.label_of = np.concatenate(label_of) if label_of else np.zeros(0, dtype=np.int64)
        self.held = np.concatenate(held) if held else np.zeros(0)
        self.points_per = np.concatenate(per) if per else np.zeros(0, dtype=np.int64)

    def draw(self, which: npt.NDArray[np.intp]) -> list[BaseGeometry]:
        """The outlines of clusters ``which``, in that order."""
        out = np.empty(len(which), dtype=object)
        for p, (part, labels, drawn) in enumerate(self.parts):
            at = np.flatnonzero(self.part_of[which] == p)
            wanted = self.label_of[which[at]]
            if not len(at):
                continue
            whole = len(wanted) == self.counts[p]  # every cluster of the part
            only = labels if whole else np.where(np.isin(labels, wanted), labels, -1)
            shapes = outlines_of(part.xy, only, self.margin, drawn)
            out[at] = [shapes[label] for label in wanted.tolist()]
        return list(out)

    def bounds(
        self, floors: bool = False
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Each cluster's upper bound of its outline's area, m² (those choosing the clusters
        worked out, where it did), and with ``floors`` its lower bound (else zeros)."""
        upper, lower = np.zeros(len(self.held)), np.zeros(len(self.held))
        for p, (part, labels, _) in enumerate(self.parts):  # the candidates' trees alone
            below: dict[int, float] | None = {} if floors else None
            bound = self.known[p]
            if floors or not bound:
                bound = outline_area_bound(part.xy, labels, margin=self.margin, floors=below)
            mine = np.flatnonzero(self.part_of == p)
            upper[mine] = [bound[label] for label in self.label_of[mine].tolist()]
            if below is not None:
                lower[mine] = [below[label] for label in self.label_of[mine].tolist()]
        return upper, lower


def _densest_clusters(
    points: MapPoints,
    labels: npt.NDArray[np.int64],
    setting: tuple[float, float],
    area: float,
    bounds: dict[int, float] | None = None,
) -> npt.NDArray[np.int64]:
    """``labels`` with clusters beyond the densest ``area`` m² (by area bound) set to noise.

    ``setting``: the outline margin and DBSCAN's eps. When the clusters' bounds that need no
    spanning tree (:func:`treeless_bound`) add up to no more than ``area``, all are kept as
    they are: the same answer without the trees (a city's thousands of clusters, under a
    budget they fill far less than twice). ``bounds`` receives the bounds worked out."""
    margin, eps = setting
    member = labels >= 0
    if not member.any():
        return labels
    points_per = np.bincount(labels[member])
    with np.errstate(invalid="ignore"):  # (an infinite eps: no bound, NaN; the trees decide)
        treeless = float(treeless_bound(points_per[points_per > 0], eps, margin).sum())
    if treeless <= area:
        return labels
    bound = outline_area_bound(points.xy, labels, margin=margin)
    if bounds is not None:
        bounds.update(bound)
    if not bound:
        return labels
    keys = np.array(sorted(bound))
    sizes = np.array([bound[int(k)] for k in keys])
    member = labels >= 0
    held = np.bincount(labels[member], weights=points.counts[member])[keys]
    order = np.lexsort((keys, -held / sizes))
    upto = int(np.searchsorted(np.cumsum(sizes[order]), area)) + 1
    keep = np.zeros(int(labels.max()) + 1, dtype=bool)
    keep[keys[order[:upto]]] = True
    out = labels.copy()
    out[member & ~keep[np.maximum(labels, 0)]] = -1
    return out
