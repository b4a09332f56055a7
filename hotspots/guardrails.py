"""Checks that real data fit together: incidents recorded far from the rest, and boundaries
(wards, patrol areas) that do not match the incidents.

The dashboard and the CLI show what these find; nothing here changes the data. Sentences are
plain words (no coordinate-system codes, no command-line flags), for the people who loaded
the files.

* :func:`far_incidents`: the incidents recorded far from the rest (the rule of
  :func:`hotspots.study_area.without_far_outliers`: farther from the median point than 3 times
  the 99th-percentile distance) and the box around the others, for framing a map on the bulk.
* :func:`check_boundaries`: how many incidents fall inside a boundary layer, how its area
  compares with the ground the incidents cover, and which of its areas hold any incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS
from scipy.spatial import ConvexHull, QhullError

from ._points import all_points_xy, unique_points
from ._validate import check_incidents
from .crs import WGS84, project_xy
from .errors import ParameterError
from .study_area import SPREAD_PERCENTILE, spread_from_median, without_far_outliers

__all__ = [
    "BULK_PERCENTILE",
    "FEW_INSIDE",
    "TOO_LARGE",
    "BoundaryCheck",
    "FarIncidents",
    "check_boundaries",
    "far_incidents",
]

#: Warn when less than this share of the incidents falls inside the boundaries.
FEW_INSIDE = 0.5
#: The bulk of the incidents: those no farther from the median point than this percentile of
#: the distances (the map's frame, and the ground the incidents cover).
BULK_PERCENTILE = SPREAD_PERCENTILE
#: Warn when the boundaries cover more than this many times the incidents' own ground.
TOO_LARGE = 3.0


@dataclass(frozen=True)
class FarIncidents:
    """Incidents recorded far from the rest (see :func:`far_incidents`).

    Attributes
    ----------
    keep
        One flag per incident (row order): True for the bulk, False for the far ones.
    bounds
        ``[[south, west], [north, east]]`` (WGS84) of the bulk (the 99% nearest the median
        point), for framing a map; None when no incident has a position.
    """

    keep: npt.NDArray[np.bool_]
    bounds: list[list[float]] | None

    @property
    def n_far(self) -> int:
        """How many incidents are far from the rest."""
        return int((~self.keep).sum())

    def sentence(self) -> str | None:
        """The load report's line, or None when every incident is with the rest."""
        n = self.n_far
        if not n:
            return None
        them = "it was" if n == 1 else "they were"
        return (
            f"{n:,} incident{'s' if n != 1 else ''} recorded far from the rest (more than three "
            f"times as far from the middle as almost all the others); {them} probably recorded "
            "at a police station or a wrong position. The map is framed on the rest."
        )


def _xy(incidents: gpd.GeoDataFrame) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    geom = incidents.geometry.to_numpy()
    xy = all_points_xy(geom)  # every analysis of these incidents reads the same, kept
    if xy is None:  # some rows are missing or empty points: NaN there
        xy = np.full((len(geom), 2), np.nan)
        point = (shapely.get_type_id(geom) == 0) & ~shapely.is_empty(geom)
        xy[point] = shapely.get_coordinates(geom[point])
    return xy, np.asarray(np.isfinite(xy).all(axis=1), dtype=bool)


def _hull_km2(xy: npt.NDArray[np.float64]) -> float:
    """The area of the points' convex hull in km² (0 for points on a line or a point). Qhull's
    hull: GEOS 3.14's hull of points with repeats can be a bent ring of part of the area (a
    hull point on the edge between two others)."""
    if len(xy) < 3:
        return 0.0
    try:
        return float(ConvexHull(xy).volume) / 1e6  # a 2-D hull's "volume" is its area
    except (QhullError, ValueError):
        return 0.0


def _bulk(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """The points no farther from the median point than 99% of them: the ground most of the
    incidents cover (a few far ones do not stretch it)."""
    if len(xy) < 20:
        return np.ones(len(xy), dtype=bool)
    dist, reach = spread_from_median(xy)
    return np.asarray(dist <= reach, dtype=bool)


def far_incidents(incidents: gpd.GeoDataFrame) -> FarIncidents:
    """The incidents recorded far from the rest, and the box around the rest.

    Parameters
    ----------
    incidents
        An Incidents frame in metres.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> pts = [Point(530_000 + i % 20, 180_000 + i // 20) for i in range(400)]
    >>> inc = gpd.GeoDataFrame(geometry=pts + [Point(430_000, 360_000)], crs="EPSG:27700")
    >>> far = far_incidents(inc)
    >>> far.n_far, far.keep[-1]
    (1, np.False_)
    """
    frame = check_incidents(incidents)
    xy, located = _xy(frame)
    keep = np.ones(len(frame), dtype=bool)
    if not located.any():
        return FarIncidents(keep, None)
    keep[np.flatnonzero(located)] = without_far_outliers(xy[located])
    bulk = xy[located][_bulk(xy[located])]
    # the box in degrees of the bulk's distinct map points (a city's million incidents sit
    # on ~100,000): the numbers GeoPandas' to_crs gives each point, 2.0 s -> 0.1 s
    _, distinct, _ = unique_points(bulk)
    lon, lat = project_xy(CRS(frame.crs), CRS(WGS84), distinct[:, 0], distinct[:, 1])
    w, s, e, n = np.nanmin(lon), np.nanmin(lat), np.nanmax(lon), np.nanmax(lat)
    return FarIncidents(keep, [[float(s), float(w)], [float(n), float(e)]])


@dataclass(frozen=True)
class BoundaryCheck:
    """How a boundary layer fits the incidents (see :func:`check_boundaries`).

    Attributes
    ----------
    what
        The layer in words ("wards", "patrol areas").
    inside, total
        Incidents inside any of the areas (or on an edge), and all incidents with a position.
    boundary_km2
        The areas' ground (their union), km².
    incidents_km2
        The ground the incidents cover: the hull of the bulk (the 99% nearest the median
        point), km².
    with_incidents
        The names of the areas holding at least one incident, in layer order.
    warnings
        Plain sentences: few incidents inside, or boundaries much larger than the incidents.
    """

    what: str
    inside: int
    total: int
    boundary_km2: float
    incidents_km2: float
    with_incidents: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _share(part: int, whole: int) -> str:
    share = part / whole
    return "under 1%" if 0 < share < 0.01 else f"{share:.0%}"


def check_boundaries(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    name_column: str,
    what: str = "wards",
) -> BoundaryCheck:
    """Do the boundaries fit the incidents? Counts and plain warnings.

    Parameters
    ----------
    incidents
        An Incidents frame in metres.
    areas
        Polygons in any CRS (reprojected to the incidents').
    name_column
        The column naming each area (``ward_name``, ``patrol_area``).
    what
        The layer in words, for the sentences.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pts = [Point(530_000 + i % 20, 180_000 + i // 20) for i in range(400)]
    >>> inc = gpd.GeoDataFrame(geometry=pts, crs="EPSG:27700")
    >>> wards = gpd.GeoDataFrame({"ward_name": ["Far", "Near"]}, crs="EPSG:27700",
    ...     geometry=[box(0, 0, 10, 10), box(529_990, 179_990, 530_010, 180_030)])
    >>> out = check_boundaries(inc, wards, name_column="ward_name")
    >>> out.inside, out.total, out.with_incidents
    (220, 400, ['Near'])
    """
    frame = check_incidents(incidents)
    if name_column not in areas.columns:
        raise ParameterError(
            f"name_column {name_column!r} is not a column of the areas.", argument="name_column"
        )
    if areas.crs is None:
        raise ParameterError("areas has no coordinate system; set it first.", argument="areas")
    polys = areas.to_crs(frame.crs).geometry.to_numpy()
    xy, located = _xy(frame)
    # each distinct map point tested once, with its incidents (a city's million incidents sit
    # on ~100,000 points: 2.7 s -> 0.75 s with London's wards)
    _, points, counts = unique_points(xy[located])
    tree = shapely.STRtree(shapely.points(points))
    poly_idx, pt_idx = tree.query(polys, predicate="intersects")
    inside = round(float(counts[np.unique(pt_idx)].sum()))
    held = np.unique(poly_idx)
    names = areas[name_column].astype(str).to_numpy()
    keep = _bulk(xy[located])
    incidents_km2 = _hull_km2(xy[located][keep])
    boundary_km2 = float(shapely.area(shapely.union_all(polys))) / 1e6
    total = int(located.sum())
    warnings = []
    if total and inside < FEW_INSIDE * total:
        warnings.append(
            f"Only {inside:,} of {total:,} incidents ({_share(inside, total)}) fall inside the "
            f"{what} given: the {what} may be for another area."
        )
    if incidents_km2 > 0 and boundary_km2 > TOO_LARGE * incidents_km2:
        warnings.append(
            f"The {what} cover {boundary_km2:,.1f} km², {boundary_km2 / incidents_km2:,.0f} times "
            f"the {incidents_km2:,.1f} km² the incidents spread over; measured against all that "
            "ground, every hotspot looks more concentrated than it is (a higher PAI)."
        )
    return BoundaryCheck(
        what=what,
        inside=inside,
        total=total,
        boundary_km2=boundary_km2,
        incidents_km2=incidents_km2,
        with_incidents=[str(names[i]) for i in held],
        warnings=warnings,
    )
