"""The zones of a pilot evaluation: the target, the buffer ring around it and the control area.

:func:`hotspots.pilot.evaluate_pilot` draws them with :func:`pilot_zones` and counts the
incidents in each with :func:`zone_masks`. The zones never overlap: the buffer is the ring of
``buffer_m`` metres around the target, and the target and its buffer are cut out of the control.
:func:`outside_coverage` measures how much of each zone lies outside the data's coverage, and
:func:`placebo_in_space` ranks the target's change among random areas of its size and shape
placed in the control area.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
import shapely.affinity
import shapely.prepared
from shapely.geometry.base import BaseGeometry

from .errors import InputError, ParameterError
from .study_area import AreaLike as Area
from .study_area import area_geometry
from .study_area import study_area as make_study_area

__all__ = [
    "Placebo",
    "Zones",
    "check_buffer",
    "outside_coverage",
    "pilot_zones",
    "placebo_in_space",
    "widened_dispersion",
    "zone_masks",
]


@dataclass(frozen=True)
class Zones:
    """The target, buffer ring and control area of an evaluation (non-overlapping)."""

    target: BaseGeometry
    buffer: BaseGeometry
    control: BaseGeometry
    control_is_default: bool
    has_control: bool


def check_buffer(buffer_m: object) -> float:
    """``buffer_m`` as a float number of metres >= 0 (the ring around the target)."""
    try:
        buffer = float(buffer_m)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"buffer_m must be a number of metres; got {buffer_m!r}.") from None
    if not math.isfinite(buffer) or buffer < 0:
        raise ParameterError(f"buffer_m must be a number of metres >= 0; got {buffer_m!r}.")
    return buffer


def pilot_zones(
    incidents: gpd.GeoDataFrame,
    target: Area,
    control: Area | None,
    study_area: Area | None,
    buffer: float,
    notes: list[str],
) -> Zones:
    """Target, buffer ring and control (default or given, with target and buffer cut out)."""
    crs = incidents.crs
    target_geom = area_geometry(target, crs, "target")
    outer = target_geom.buffer(buffer, quad_segs=16) if buffer > 0 else target_geom
    control_is_default = control is None
    if control is None and study_area is not None:
        control_geom = area_geometry(study_area, crs, "study_area").difference(outer)
        notes.append(
            f"control area: the study area minus the target and a {buffer:.0f} m buffer "
            "(an area with similar streets where nothing was done is a better comparison)"
        )
    elif control is None:
        if len(incidents) < 3:
            raise InputError("too few incidents to draw a default control area; give control=.")
        area = make_study_area(incidents)
        control_geom = area.geometry.difference(outer)
        notes.append(
            f"control area: the study area (the incidents' convex hull + {area.buffer_m:.0f} m) "
            f"minus the target and a {buffer:.0f} m buffer (an area with similar streets where "
            "nothing was done is a better comparison)"
        )
    else:
        given = area_geometry(control, crs, "control")
        control_geom = given.difference(outer)
        if control_geom.area < given.area * 0.999:
            notes.append("the target and its buffer were cut out of the control area")
    has_control = not control_geom.is_empty and control_geom.area > 0
    if not has_control:
        notes.append("the control area is empty once the target and buffer are cut out")
    return Zones(
        target=target_geom,
        buffer=outer.difference(target_geom),
        control=control_geom,
        control_is_default=control_is_default,
        has_control=has_control,
    )


def zone_masks(
    frame: gpd.GeoDataFrame, zones: Zones, buffer: float
) -> dict[str, npt.NDArray[np.bool_]]:
    """Which incidents lie in each zone (a boundary point goes to the first zone)."""
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    if len(xy) != len(frame):
        raise InputError("incidents must have one point geometry per row; use read_incidents().")
    x, y = xy[:, 0], xy[:, 1]
    in_target = shapely.intersects_xy(zones.target, x, y)
    in_buffer = ~in_target & (
        shapely.intersects_xy(zones.buffer, x, y) if buffer > 0 else np.zeros(len(x), bool)
    )
    in_control = (
        ~in_target & ~in_buffer & shapely.intersects_xy(zones.control, x, y)
        if zones.has_control
        else np.zeros(len(x), bool)
    )
    return {"target": in_target, "buffer": in_buffer, "control": in_control}


def outside_coverage(
    incidents: gpd.GeoDataFrame, zones: Zones, study_area: Area | None
) -> tuple[dict[str, float], str]:
    """The share of each zone's area outside the data's coverage, and what that coverage is.

    The coverage is ``study_area`` when given (the area the data were downloaded for), else the
    incidents' extent (their convex hull and the margin of
    :func:`hotspots.study_area.study_area`). Incidents outside it are not in the data, so a
    zone reaching beyond it has counts that are too low.

    Returns
    -------
    (shares, coverage)
        ``{"target": 0.0, "buffer": 0.5, "control": 0.0}`` (0 for an empty zone) and the
        coverage in words.
    """
    if study_area is not None:
        cover = area_geometry(study_area, incidents.crs, "study_area")
        what = "the study area"
    elif len(incidents) >= 3:
        cover = make_study_area(incidents).geometry
        what = "the incidents' extent"
    else:
        return dict.fromkeys(("target", "buffer", "control"), 0.0), "the incidents' extent"
    shares = {}
    for name in ("target", "buffer", "control"):
        geom = getattr(zones, name)
        area = float(geom.area)
        shares[name] = float(geom.difference(cover).area) / area if area > 0 else 0.0
    return shares, what


@dataclass(frozen=True)
class Placebo:
    """Where the target's change ranks among random areas of its size (placebo in space).

    Attributes
    ----------
    changes
        The percentage change (after against before, monthly means) of each placebo area.
    target_change
        The target's, the same way.
    as_extreme
        Placebo areas whose change is at least as large as the target's in the direction the
        target moved relative to the control area (as low or lower when the target fell
        relative to it, as high or higher when it rose).
    share
        ``(as_extreme + 1) / (len(changes) + 1)``: the placebo p-value, one-sided in that
        direction.
    fell
        Whether the target fell relative to the control area.
    median_before
        The placebo areas' median count before.
    spread
        The variance of the placebo areas' log rate ratios beyond what their counts' own
        Poisson noise explains (DerSimonian & Laird's estimate, 0 when none): how much places
        of the target's size change on their own (:func:`widened_dispersion`).
    """

    changes: npt.NDArray[np.float64]
    target_change: float
    as_extreme: int
    share: float
    fell: bool = True
    median_before: float = math.nan
    spread: float = 0.0

    @property
    def n(self) -> int:
        """The placebo areas drawn."""
        return len(self.changes)

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready figures."""
        return {
            "areas": self.n,
            "target_change_pct": self.target_change,
            "as_extreme": self.as_extreme,
            "share": self.share,
        }


def _log_ratio(
    before: npt.ArrayLike, after: npt.ArrayLike, scale: float
) -> npt.NDArray[np.float64]:
    """log of the monthly rate's ratio, with 0.5 added to each count so a zero has one."""
    b = np.asarray(before, dtype=float) + 0.5
    a = np.asarray(after, dtype=float) + 0.5
    return np.asarray(np.log(a / b * scale), dtype=float)


def _between_variance(changes: npt.NDArray[np.float64], noise: npt.NDArray[np.float64]) -> float:
    """DerSimonian & Laird's (1986) estimate of the variance of ``changes`` beyond their own
    ``noise`` variances: ``max(0, (Q - (k - 1)) / (S1 - S2 / S1))`` with weights ``1/noise``,
    ``Q`` the weighted sum of squares about the weighted mean, ``S1``, ``S2`` the sums of the
    weights and of their squares (quiet areas, whose changes are mostly noise, count little).

    >>> _between_variance(np.array([0.0, 0.0, 0.0]), np.array([0.1, 0.1, 0.1]))
    0.0
    >>> round(_between_variance(np.array([-1.0, 0.0, 1.0]), np.array([0.1, 0.1, 0.1])), 3)
    0.9
    """
    if len(changes) < 2:
        return 0.0
    w = 1 / noise
    mean = float((w * changes).sum() / w.sum())
    q = float((w * (changes - mean) ** 2).sum())
    s1, s2 = float(w.sum()), float((w * w).sum())
    return max(0.0, (q - (len(changes) - 1)) / (s1 - s2 / s1))


def placebo_in_space(
    frame: gpd.GeoDataFrame,
    months: npt.NDArray[np.float64],
    spans: Mapping[str, tuple[int, int, int]],
    zones: Zones,
    *,
    n: int = 99,
    seed: int = 0,
) -> Placebo:
    """Rank the target's change among ``n`` copies of the target moved at random into the
    control area (each wholly inside it; fixed ``seed``).

    Parameters
    ----------
    frame
        The incidents counted (points in metres).
    months
        Each incident's month number (:func:`hotspots._validate.month_numbers`).
    spans
        ``{"before": (first, last, months covered), "after": (...)}``: the months compared.
    zones
        From :func:`pilot_zones`; needs a control area.
    n
        Placebo areas to draw.
    seed
        Of the random placement.
    """
    if not zones.has_control:
        raise ParameterError("placebos need a control area to place them in.", argument="placebos")
    rng = np.random.default_rng(seed)
    target = zones.target
    tx, ty = target.centroid.x, target.centroid.y
    x0, y0, x1, y1 = zones.control.bounds
    inside = shapely.prepared.prep(zones.control)
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    before = (months >= spans["before"][0]) & (months <= spans["before"][1])
    after = (months >= spans["after"][0]) & (months <= spans["after"][1])
    scale = spans["before"][2] / spans["after"][2]
    counts: list[tuple[int, int]] = []
    for _ in range(200 * n):
        if len(counts) == n:
            break
        dx, dy = rng.uniform(x0, x1) - tx, rng.uniform(y0, y1) - ty
        moved = shapely.affinity.translate(target, dx, dy)
        if not inside.contains(moved):
            continue
        hit = shapely.intersects_xy(moved, xy[:, 0], xy[:, 1])
        counts.append((int((hit & before).sum()), int((hit & after).sum())))
    if not counts:
        raise InputError(
            "no area of the target's size and shape fits inside the control area; "
            "give a larger control or no placebos."
        )
    b, a = np.array(counts, dtype=float).T
    changes = _log_ratio(b, a, scale)
    spread = _between_variance(changes, 1 / (b + 0.5) + 1 / (a + 0.5))
    in_target = shapely.intersects_xy(target, xy[:, 0], xy[:, 1])
    own = float(_log_ratio((in_target & before).sum(), (in_target & after).sum(), scale))
    in_control = shapely.intersects_xy(zones.control, xy[:, 0], xy[:, 1])
    control = float(_log_ratio((in_control & before).sum(), (in_control & after).sum(), scale))
    fell = own <= control  # the direction of the target's change relative to the control
    extreme = int((changes <= own).sum() if fell else (changes >= own).sum())
    return Placebo(
        changes=100 * (np.exp(changes) - 1),
        target_change=100 * (math.exp(own) - 1),
        as_extreme=extreme,
        share=(extreme + 1) / (len(changes) + 1),
        fell=fell,
        median_before=float(np.median(b)),
        spread=spread,
    )


def widened_dispersion(
    dispersion: Mapping[str, float], before: float, after: float, placebo: Placebo | None
) -> dict[str, float]:
    """The target's variance factor widened by :attr:`Placebo.spread`.

    ``var(ln RES)`` gets ``spread`` added: the target's factor ``phi`` becomes
    ``phi + spread / (1/before + 1/after)`` (a random-effects allowance for places changing
    on their own, estimated from the placebo areas). Unchanged without a placebo check or
    with a zero count.

    >>> widened_dispersion({"target": 2.0, "control": 1.0}, 100, 100, None)["target"]
    2.0
    """
    out = dict(dispersion)
    if placebo is not None and before > 0 and after > 0 and placebo.spread > 0:
        out["target"] = out["target"] + placebo.spread / (1 / before + 1 / after)
    return out
