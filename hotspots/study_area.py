"""The study area: the one rule for the area every PAI, grid and area share is measured against.

Before this module the study area was decided in eight places (hotspots, KDE, the Gi* grid of
the command line and of the dashboard, three in the forecast evaluation), so one dataset had
65.0 km² through one door and 62.3 km² through another. Now every verb takes a
:class:`StudyArea` made by :func:`study_area`, and the pipeline makes it once per analysis.

The rule
--------
* A boundary is given (the wards, a borough outline, any polygon layer): the study area is its
  union, in the incidents' CRS.
* No boundary: the convex hull of the incidents, leaving out the few recorded far from the rest
  (forces record some crimes far outside their area: City of London Police, 0.2% of rows up to
  219 km away), buffered by :data:`DEFAULT_BUFFER_M` so that points on the hull's edge have
  ground around them and edge grid cells are not slivers. "Far" is more than
  :data:`FAR_FACTOR` times the 99th-percentile distance from the median point.

The choice is logged once, and :attr:`StudyArea.note` says it in a sentence for reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy.spatial import ConvexHull, QhullError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from ._points import incident_xy, unique_points_of
from .errors import InputError, ParameterError

__all__ = [
    "DEFAULT_BUFFER_M",
    "FAR_FACTOR",
    "SPREAD_PERCENTILE",
    "AreaLike",
    "StudyArea",
    "area_geometry",
    "spread_from_median",
    "study_area",
    "without_far_outliers",
]

log = logging.getLogger(__name__)

#: Metres of ground around the incidents' hull when no boundary is given.
DEFAULT_BUFFER_M: float = 100.0
#: The percentile of the distances from the median point that the bulk of the points reach.
SPREAD_PERCENTILE: float = 99.0
#: Points farther from the median point than this many 99th-percentile distances are left out.
FAR_FACTOR: float = 3.0
#: Below this many incidents no point is called far.
_MIN_FOR_OUTLIERS = 20


@dataclass(frozen=True)
class StudyArea:
    """The area an analysis is measured against.

    Attributes
    ----------
    geometry
        Polygon or MultiPolygon in ``crs`` (metres).
    crs
        The CRS of ``geometry`` (the incidents' CRS).
    source
        ``"boundary"`` (a given layer or polygon) or ``"incidents"`` (the default hull).
    buffer_m
        Buffer added around the incidents' hull (0 for a boundary).
    left_out
        Incidents recorded far from the rest and left out of the hull (0 for a boundary).
    note
        The choice, in one sentence, for summaries and pages.
    """

    geometry: Polygon | MultiPolygon
    crs: pyproj.CRS
    source: str
    buffer_m: float = 0.0
    left_out: int = 0
    note: str = ""

    @property
    def area_km2(self) -> float:
        """Area in square kilometres."""
        return float(self.geometry.area) / 1e6

    def to_frame(self) -> gpd.GeoDataFrame:
        """The study area as a one-row GeoDataFrame (for maps and files)."""
        return gpd.GeoDataFrame({"name": ["study area"]}, geometry=[self.geometry], crs=self.crs)


#: What a verb accepts as an area: a :class:`StudyArea`, a shapely polygon in the incidents'
#: CRS, or a GeoDataFrame / GeoSeries of polygons in any CRS.
AreaLike: TypeAlias = "StudyArea | BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries"


def spread_from_median(xy: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], float]:
    """Each point's distance from the median point, and the :data:`SPREAD_PERCENTILE` of those
    distances: the reach of the bulk, the one yardstick of "far" (here) and of the ground the
    incidents cover (:mod:`hotspots.guardrails`)."""
    centre = np.median(xy, axis=0)
    dist = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    return dist, float(np.percentile(dist, SPREAD_PERCENTILE))


def without_far_outliers(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which points to keep when drawing a hull around incidents: not the far-away few.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the points to keep (all True below 20 points, or when fewer than three
        would be kept).

    Examples
    --------
    >>> xy = np.array([[float(i % 20), float(i // 20)] for i in range(400)] + [[1e6, 1e6]])
    >>> int((~without_far_outliers(xy)).sum())
    1
    """
    n = len(xy)
    keep = np.ones(n, dtype=bool)
    if n < _MIN_FOR_OUTLIERS:
        return keep
    dist, reach = spread_from_median(xy)
    far = dist > FAR_FACTOR * reach
    if (~far).sum() < 3:
        return keep
    return ~far


def area_geometry(area: object, crs: Any, name: str = "study_area") -> Polygon | MultiPolygon:
    """Any accepted area as one valid polygonal geometry in ``crs``: the one owner of areas.

    Accepts a :class:`StudyArea`, a shapely polygon (taken to be in ``crs``) or a
    GeoDataFrame / GeoSeries of polygons in any CRS (reprojected and dissolved). Invalid
    polygons are repaired and only the polygonal parts kept (a repair or an intersection can
    add lines and points).

    Parameters
    ----------
    area
        The area.
    crs
        The CRS (in metres) to return it in.
    name
        The argument's name in the messages.

    Raises
    ------
    ParameterError
        For any other type, a layer without a CRS or rows, a CRS not in metres, or an area
        without area.

    Examples
    --------
    >>> area_geometry(shapely.box(0, 0, 10, 10), "EPSG:27700").area
    100.0
    """
    if isinstance(area, StudyArea):
        geom: BaseGeometry = area.geometry
        if crs is not None and not pyproj.CRS(area.crs).equals(pyproj.CRS(crs)):
            geom = gpd.GeoSeries([geom], crs=area.crs).to_crs(crs).iloc[0]
    elif isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise ParameterError(f"{name} has no CRS; give one (e.g. EPSG:27700).")
        if len(area) == 0:
            raise ParameterError(f"{name} is empty; give at least one polygon.")
        frame = area.to_crs(crs) if crs is not None else area
        if frame.crs is None or not frame.crs.is_projected:
            raise ParameterError(f"{name} must be in a projected CRS in metres (e.g. EPSG:27700).")
        geom = frame.union_all()
    elif isinstance(area, BaseGeometry):
        geom = area
    else:
        raise ParameterError(
            f"{name} must be a polygon (in the incidents' CRS) or a GeoDataFrame of polygons; "
            f"got {type(area).__name__}."
        )
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon | MultiPolygon)]
    merged = shapely.union_all(polys) if polys else Polygon()
    if merged.is_empty or merged.area <= 0 or not isinstance(merged, Polygon | MultiPolygon):
        raise ParameterError(f"{name} has no area; give a polygon (buffer a line or point first).")
    return merged


def _check_incidents(incidents: gpd.GeoDataFrame) -> None:
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise ParameterError("incidents must be a GeoDataFrame from read_incidents().")
    if incidents.crs is None or not incidents.crs.is_projected:
        raise InputError(
            "incidents must be in a projected CRS in metres; read them with read_incidents()."
        )


def _outside(xy: npt.NDArray[np.float64], geom: BaseGeometry) -> int:
    """How many of the located points ``xy`` lie outside ``geom`` (its edge is inside), each
    distinct point tested once."""
    located = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not len(located):
        return 0
    codes, points, _ = unique_points_of(xy, located)
    shapely.prepare(geom)
    inside = shapely.intersects_xy(geom, points[:, 0], points[:, 1])
    return int((~inside[codes]).sum())


def _incidents_xy(incidents: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    _check_incidents(incidents)
    return incident_xy(incidents)


def _hull(xy: npt.NDArray[np.float64], buffer_m: float) -> Polygon:
    try:  # qhull on the coordinates: several times faster than GEOS on a million points
        corners = ConvexHull(xy).vertices
        hull = shapely.Polygon(xy[corners]) if len(corners) >= 3 else shapely.Point()
    except (QhullError, ValueError):
        hull = shapely.convex_hull(shapely.multipoints(xy))
    area = hull.buffer(buffer_m, quad_segs=16) if buffer_m > 0 else hull
    if not isinstance(area, Polygon) or area.area <= 0:
        raise InputError(
            "the incidents lie on a line or a point, so they have no study area; give a "
            "boundary (e.g. the wards)."
        )
    return area


def study_area(
    incidents: gpd.GeoDataFrame,
    *,
    boundary: object = None,
    buffer_m: float = DEFAULT_BUFFER_M,
) -> StudyArea:
    """The study area of an analysis: the boundary given, else the incidents' buffered hull.

    Parameters
    ----------
    incidents
        An Incidents frame in metres (from :func:`hotspots.read_incidents`).
    boundary
        Wards, a borough outline or any polygon layer (GeoDataFrame / GeoSeries in any CRS, a
        shapely polygon in the incidents' CRS, or a :class:`StudyArea`, returned as it is).
    buffer_m
        Ground around the incidents' hull when no boundary is given, in metres (``>= 0``).

    Returns
    -------
    StudyArea

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 1000, 0], [0, 0, 1000]),
    ...                        crs="EPSG:27700")
    >>> round(study_area(pts, buffer_m=0).area_km2, 3)
    0.5
    >>> study_area(pts, boundary=shapely.box(0, 0, 2000, 2000)).area_km2
    4.0
    """
    if isinstance(boundary, StudyArea):
        _check_incidents(incidents)
        return boundary
    xy = _incidents_xy(incidents)
    if boundary is not None:
        geom = area_geometry(boundary, incidents.crs, "boundary")
        outside = _outside(xy, geom)
        note = f"study area: the boundary given, {geom.area / 1e6:,.2f} km²"
        if outside:  # counted by no cell, ward or map that keeps to the boundary: said
            note += (
                f" ({outside:,} of the {len(xy):,} incidents, "
                f"{_share_words(outside / len(xy))}, lie outside it and are not counted there)"
            )
        log.info("%s", note)
        return StudyArea(geom, pyproj.CRS(incidents.crs), "boundary", note=note)
    try:
        buffer = float(buffer_m)
    except (TypeError, ValueError):
        raise ParameterError(f"buffer_m must be a number of metres; got {buffer_m!r}.") from None
    if not np.isfinite(buffer) or buffer < 0:
        raise ParameterError(f"buffer_m must be a number of metres >= 0; got {buffer_m!r}.")
    if len(xy) == 0:
        raise InputError("no incidents to draw a study area around; check the filters.")
    keep = without_far_outliers(xy)
    left_out = int((~keep).sum())
    # around the kept rows' distinct map points (a city's kept codes): the rows' hull
    points = unique_points_of(xy, np.flatnonzero(keep))[1]
    geom = _hull(points, buffer)
    aside = f", leaving out {left_out:,} incidents recorded far from the rest" if left_out else ""
    note = (
        f"study area: the incidents' convex hull + {buffer:.0f} m{aside}, {geom.area / 1e6:,.2f} "
        "km² (give a boundary, e.g. the wards, for an exact figure)"
    ) + _spread_words(xy[keep] if left_out else xy, points, geom, buffer)
    log.info("%s", note)
    return StudyArea(geom, pyproj.CRS(incidents.crs), "incidents", buffer, left_out, note)


def _share_words(share: float) -> str:
    """A share in whole percents, or below 1% in tenths ("0.2%", "under 0.1%"), never "0%"
    for some.

    >>> _share_words(0.4), _share_words(14 / 7127), _share_words(3 / 100000)
    ('40%', '0.2%', 'under 0.1%')
    """
    if share >= 0.01 or share == 0:
        return f"{share:.0%}"
    return f"{share:.1%}" if share >= 0.001 else "under 0.1%"


#: The hull is called spread out when it is this many times the hull of the middle 98%.
_SPREAD = 3.0


def _spread_words(
    xy: npt.NDArray[np.float64], points: npt.NDArray[np.float64], hull: Any, buffer: float
) -> str:
    """A warning when a few incidents (``xy``; ``points``: their distinct map points) make
    the hull far larger than the ground most of them cover (the hull of the points inside
    the incidents' 1st-99th percentiles of x and y, taken from at most 100,000 rows): every
    PAI is measured against the hull, so it is as many times too high. "" otherwise."""
    if len(xy) < 100:
        return ""
    sample = xy[:: max(1, len(xy) // 100_000)]
    lo, hi = np.quantile(sample, [0.01, 0.99], axis=0)
    core = _hull(points[((points >= lo) & (points <= hi)).all(axis=1)], buffer)
    if core.area <= 0 or hull.area < _SPREAD * core.area:
        return ""
    return (
        f"; most incidents (98%) lie within {core.area / 1e6:,.1f} km²: a few recorded further "
        f"out make it {hull.area / core.area:,.0f} times larger, and every PAI as many times "
        "higher: give the boundary (e.g. the wards)"
    )
