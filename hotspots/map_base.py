"""What a hotspot map draws that the hotspots do not change, prepared once.

:func:`map_base` turns the incidents and the wards into the map's heat points (the unique map
points with their counts, merged on a grid above ``max_points``), the ward names' positions and
the street-label candidates. :func:`hotspots.mapping.make_map` prepares them itself when not
given them; the dashboard keeps one :class:`MapBase` per filter, so moving the distance or the
minimum count redraws only the hotspots.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._points import point_rows, unique_points_of
from .crs import to_wgs84
from .map_labels import Label, StreetCandidates, street_candidates, ward_labels
from .map_layers import area_labels, display_layer
from .web import HEAT_MAX_POINTS

__all__ = ["MapBase", "map_base"]

# Decimal places of heat and point coordinates on the map (1 m).
_POINT_DP = 5


@dataclass(frozen=True)
class MapBase:
    """The parts of a map that depend only on the incidents and the wards.

    Attributes
    ----------
    points
        Heat points in WGS84: ``lon``, ``lat``, ``n`` (incidents at the point).
    n_incidents, n_unique
        Incidents with a position, and their distinct map points.
    heat_note
        The legend's line on the heat ("N incidents at M map points[, merged ...]"), or None.
    ward_labels
        Each ward's name and position (:func:`hotspots.map_labels.ward_labels`).
    ward_frame
        The wards as drawn (:func:`hotspots.map_layers.display_layer`), or None without wards.
    streets
        Street-label candidates (:func:`hotspots.map_labels.street_candidates`).
    max_points
        The ``max_points`` the heat points were capped at.
    """

    points: pd.DataFrame
    n_incidents: int
    n_unique: int
    heat_note: str | None
    ward_labels: list[Label] = field(default_factory=list)
    ward_frame: gpd.GeoDataFrame | None = None
    streets: StreetCandidates | None = None
    max_points: int = HEAT_MAX_POINTS


def map_base(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame | None = None,
    *,
    max_points: int = HEAT_MAX_POINTS,
    reuse: MapBase | None = None,
) -> MapBase:
    """Prepare what :func:`hotspots.mapping.make_map` draws of ``incidents`` and ``wards``
    (any CRS) whatever the hotspots: pass it to ``make_map(..., base=)`` with the same frames.

    ``reuse``: a base prepared of these same incidents (other wards, or none): its heat
    points and street names are taken as they are, and only the wards' part is drawn (a
    city's wards loaded after its first map: 1 s of street names not worked out again).
    """
    labels: list[Label] = []
    frame = display_layer(wards, "wards") if wards is not None else None
    if frame is not None and len(frame):
        labels = ward_labels(frame, area_labels(frame))
    if reuse is not None and reuse.max_points == max_points:
        return replace(reuse, ward_labels=labels, ward_frame=frame)
    pts, n_incidents, n_unique, heat_note = _map_points(incidents, max_points)
    return MapBase(
        pts,
        n_incidents,
        n_unique,
        heat_note,
        labels,
        frame,
        street_candidates(incidents),
        max_points,
    )


def _unique_points(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Unique coordinates (in the frame's CRS) with their incident counts, first-seen order."""
    geom = incidents.geometry
    points, xy = point_rows(geom.to_numpy())
    if not points.all():  # other shapes: their representative points
        ok = geom.notna().to_numpy() & ~geom.is_empty.to_numpy()
        pts = geom[ok]
        if len(pts) and not (pts.geom_type == "Point").all():
            pts = pts.representative_point()
        xy = shapely.get_coordinates(np.asarray(pts.values, dtype=object))
    if len(xy) == 0:
        return pd.DataFrame({"x": [], "y": [], "n": []}).astype({"n": "int64"})
    finite = np.isfinite(xy).all(axis=1)
    _, uxy, counts = unique_points_of(xy, np.flatnonzero(finite))  # a city's kept codes
    return pd.DataFrame({"x": uxy[:, 0], "y": uxy[:, 1], "n": counts.astype("int64")})


def _cap_points(points: pd.DataFrame, max_points: int, metres: bool) -> tuple[pd.DataFrame, float]:
    """Merge points on a square grid until at most ``max_points`` remain (0.0: no merging)."""
    if len(points) <= max_points:
        return points, 0.0
    cell = 5.0 if metres else 5e-5
    while True:
        gx = np.floor(points["x"].to_numpy() / cell)
        gy = np.floor(points["y"].to_numpy() / cell)
        n = points["n"].to_numpy().astype(float)
        tmp = pd.DataFrame(
            {
                "gx": gx,
                "gy": gy,
                "wx": points["x"].to_numpy() * n,
                "wy": points["y"].to_numpy() * n,
                "n": n,
            }
        )
        merged = tmp.groupby(["gx", "gy"], sort=False)[["wx", "wy", "n"]].sum()
        if len(merged) <= max_points:
            out = pd.DataFrame(
                {
                    "x": merged["wx"].to_numpy() / merged["n"].to_numpy(),
                    "y": merged["wy"].to_numpy() / merged["n"].to_numpy(),
                    "n": merged["n"].to_numpy().round().astype("int64"),
                }
            )
            return out, cell
        cell *= 2


def _map_points(
    incidents: gpd.GeoDataFrame, max_points: int
) -> tuple[pd.DataFrame, int, int, str | None]:
    """The heat points in WGS84 (``lon``, ``lat``, ``n``), the incidents and unique points
    counted, and the legend's heat note (None when there are no points)."""
    points = _unique_points(incidents)
    n_incidents = int(points["n"].sum()) if len(points) else 0
    n_unique = len(points)
    metres = bool(incidents.crs is not None and incidents.crs.is_projected)
    points, cell = _cap_points(points, int(max_points), metres)
    if not len(points):
        return pd.DataFrame({"lon": [], "lat": [], "n": []}), n_incidents, n_unique, None
    gpts = gpd.GeoDataFrame(
        {"n": points["n"].to_numpy()},
        geometry=gpd.points_from_xy(points["x"], points["y"]),
        crs=incidents.crs,
    )
    gpts = to_wgs84(gpts)
    pts = pd.DataFrame(
        {
            "lon": np.round(gpts.geometry.x.to_numpy(), _POINT_DP),
            "lat": np.round(gpts.geometry.y.to_numpy(), _POINT_DP),
            "n": gpts["n"].to_numpy(),
        }
    )
    heat_note = f"{n_incidents:,} incidents at {n_unique:,} map points"
    if cell:
        size = f"{cell:g} m" if metres else f"{cell:g}°"
        heat_note += f", merged on a {size} grid into {len(pts):,} to keep the map small"
    return pts, n_incidents, n_unique, heat_note
