"""Web outputs that stay small at any size of input: display outlines and byte budgets.

``map.html`` and ``hotspots.geojson`` are opened in a browser or a web GIS, so each stays under
:data:`WEB_MAX_BYTES` (2 MB) whatever the number of incidents, hotspots or vertices:

* **Display outlines**: each hotspot outline is simplified for display
  (:func:`display_geometries`: Douglas-Peucker with topology preserved, in metres, in a
  projected CRS, before it goes to WGS84), so a drawn outline is within
  :data:`DISPLAY_TOLERANCE_M` (2 m, about a pixel at street zoom; Hausdorff distance,
  checked for each outline) of the exact one, plus the 0.1 m of rounding to 6 decimals.
  The exact outlines stay in the Hotspots frame and ``hotspots.gpkg``; every statistic
  (areas, densities, PAI) is computed on them.
* **Top hotspots by rank**: features are added in rank order while they fit in the file's
  byte budget (:func:`fitting_items`); the rest are left out of the web file and said so
  (the map's legend, the GeoJSON's ``note``); every hotspot is in ``hotspots.csv`` and
  ``hotspots.gpkg``. Work is done in batches, so a frame of 100,000 hotspots costs only the
  batches that fit.
* **The dashboard's Analysis maps** (KDE bands, Gi* cells, change, emerging patterns): the
  first cells whose features fit :data:`CELL_LAYER_BYTES`, in the order they matter
  (:func:`hotspots.map_layers.cell_features`; a city's change map on 250 m cells was 10 MB).
* **Incident heat**: at most :data:`HEAT_MAX_POINTS` heat points (more unique map points are
  merged on a grid, :func:`hotspots.mapping.make_map`); reference layers (wards, patrol areas)
  are simplified further until each fits its budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from ._memo import KeptResults, digest
from .crs import to_metres, to_wgs84

__all__ = [
    "CELL_LAYER_BYTES",
    "DISPLAY_TOLERANCE_M",
    "GEOJSON_MAX_BYTES",
    "HEAT_MAX_POINTS",
    "MAP_HOTSPOT_BYTES",
    "MAP_LABEL_BYTES",
    "MAP_PAGE_BYTES",
    "MAP_REFERENCE_BYTES",
    "WEB_MAX_BYTES",
    "display_geometries",
    "fitting_items",
    "map_hotspot_budget",
    "round_coordinates",
]

#: The most bytes of map.html and of hotspots.geojson.
WEB_MAX_BYTES = 2_000_000
#: Hotspot outlines on the web are within this many metres of the exact ones.
DISPLAY_TOLERANCE_M = 2.0
#: Bytes of features in hotspots.geojson (the rest of the file: its header and note).
GEOJSON_MAX_BYTES = 1_950_000
#: Bytes of the hotspot layer of a map (its popups included) when nothing else is known.
MAP_HOTSPOT_BYTES = 1_000_000
#: Bytes of map.html without its data layers: Leaflet and plugins inlined, style, boxes.
MAP_PAGE_BYTES = 250_000
#: Bytes of each reference layer (wards, patrol areas) of map.html.
MAP_REFERENCE_BYTES = 150_000
#: Bytes of the map's labels (ward and street names, :mod:`hotspots.map_labels`) of map.html.
MAP_LABEL_BYTES = 120_000
#: Bytes of the cells of an Analysis map (KDE bands, Gi* cells, change, emerging patterns):
#: with :data:`MAP_PAGE_BYTES` and one reference layer, under :data:`WEB_MAX_BYTES`.
CELL_LAYER_BYTES = 1_500_000
#: Most heat points of map.html (about 27 bytes each).
HEAT_MAX_POINTS = 15_000
# Most bytes of one heat point ("[51.12345, -0.12345, 123], ") and of one incident circle.
_HEAT_POINT_BYTES = 28
_CIRCLE_BYTES = 120
# Hotspots simplified and serialised at a time (work stops at the first batch that is full).
_BATCH = 128
# Decimal places of published coordinates (0.1 m).
_DP = 6

T = TypeVar("T")


def round_coordinates(geoms: gpd.GeoSeries, dp: int) -> npt.NDArray[Any]:
    """The geometries with every coordinate rounded to ``dp`` decimal places (an object array).

    The one rounding of the coordinates the map and the GeoJSON files publish.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> round_coordinates(gpd.GeoSeries([Point(-1.234567, 51.7654321)]), 5)[0].wkt
    'POINT (-1.23457 51.76543)'
    """
    arr = np.asarray(geoms.values, dtype=object)
    return np.asarray(shapely.transform(arr, lambda c: np.round(c, dp)), dtype=object)


def display_geometries(
    frame: gpd.GeoDataFrame, tolerance_m: float = DISPLAY_TOLERANCE_M
) -> npt.NDArray[Any]:
    """The frame's outlines as published: simplified, WGS84, 6 decimals, rings RFC 7946.

    Simplified by ``tolerance_m`` metres (0: exact) in the frame's CRS when it is projected,
    else in the one :func:`hotspots.crs.to_metres` picks, with topology preserved (a valid
    polygon stays valid); then reprojected, rounded to 6 decimal places and oriented
    (exterior counter-clockwise). Missing and empty geometries stay as they are.

    Examples
    --------
    A 25 m disc (the outline of a one-point hotspot) drawn with 9 vertices instead of 65:

    >>> from shapely.geometry import Point
    >>> disc = gpd.GeoDataFrame(geometry=[Point(537_500, 189_200).buffer(25)], crs=27700)
    >>> int(shapely.get_num_coordinates(disc.geometry.values)[0])
    65
    >>> int(shapely.get_num_coordinates(display_geometries(disc, 2.0))[0])
    9
    """
    metric = frame if frame.crs.is_projected else to_metres(frame)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    present = np.flatnonzero(~shapely.is_missing(geoms))
    out = geoms.copy()  # missing ones stay as they are
    if not len(present):
        return out
    # Kept by exact outline: the slider leaves most hotspots' outlines as they were.
    setting = (metric.crs.to_wkt(), float(tolerance_m))
    keys = [(digest(wkb), setting) for wkb in shapely.to_wkb(geoms[present])]
    out[present] = _DISPLAYED.results(
        keys, lambda todo: list(_displayed(geoms[present[todo]], metric.crs, tolerance_m))
    )
    return out


def _displayed(geoms: npt.NDArray[Any], crs: Any, tolerance_m: float) -> npt.NDArray[Any]:
    """:func:`display_geometries` of outlines in metres (``crs``), worked out."""
    if tolerance_m > 0:
        geoms = _simplified(geoms, tolerance_m)
    wgs = to_wgs84(gpd.GeoDataFrame(geometry=geoms, crs=crs))
    rounded = round_coordinates(wgs.geometry, _DP)
    return np.asarray(shapely.orient_polygons(rounded), dtype=object)


# Display outlines of a few slider positions of a city's hotspots (by vertices: ~16 MB).
_DISPLAYED: KeptResults[Any] = KeptResults(1_000_000, weigh=shapely.get_num_coordinates)


def _strays(
    geoms: npt.NDArray[Any], simple: npt.NDArray[Any], tolerance_m: float
) -> npt.NDArray[np.bool_]:
    """Which simplified outlines are farther than ``tolerance_m`` from their exact outline.

    The Hausdorff distance, in linear time: the simplified vertices are exact vertices, and a
    simplified segment lies within the tolerance of the part it replaced when that part's
    vertices do; so it is enough that every exact vertex is within the tolerance of its own
    simplified outline (an index of the simplified segments finds the near ones).
    """
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    lines, line_owner = shapely.get_parts(shapely.boundary(simple), return_index=True)
    ends, line = shapely.get_coordinates(lines, return_index=True)
    joined = np.flatnonzero(line[1:] == line[:-1])
    segments = shapely.linestrings(np.stack([ends[joined], ends[joined + 1]], axis=1))
    segment_owner = line_owner[line[joined]]
    pairs = shapely.STRtree(segments).query(
        shapely.points(xy), predicate="dwithin", distance=tolerance_m
    )
    own = pairs[:, owner[pairs[0]] == segment_owner[pairs[1]]]
    near = np.zeros(len(xy), dtype=bool)
    near[own[0]] = True
    strays = np.zeros(len(geoms), dtype=bool)
    strays[owner[~near]] = True
    return strays


def _simplified(geoms: npt.NDArray[Any], tolerance_m: float) -> npt.NDArray[Any]:
    """Each geometry simplified within ``tolerance_m`` of itself (Hausdorff distance, checked).

    GEOS's topology-preserving simplifier can stray beyond its tolerance (up to ~45% seen on
    winding outlines); an outline that does is simplified again with half the tolerance, then
    a quarter, and kept exact if it still strays.
    """
    out = np.asarray(shapely.simplify(geoms, tolerance_m, preserve_topology=True), dtype=object)
    step = tolerance_m
    for _ in range(3):
        far = np.flatnonzero(_strays(geoms, out, tolerance_m))
        if not len(far):
            return out
        step /= 2
        out[far] = shapely.simplify(geoms[far], step, preserve_topology=True)
    far = np.flatnonzero(_strays(geoms, out, tolerance_m))
    out[far] = geoms[far]
    return out


def fitting_items(
    frame: gpd.GeoDataFrame,
    make: Callable[[gpd.GeoDataFrame, npt.NDArray[Any], int], Iterable[tuple[T, int]]],
    budget: int,
    *,
    tolerance_m: float = DISPLAY_TOLERANCE_M,
) -> list[T]:
    """The items made from the frame's rows, in order, as many as fit in ``budget`` bytes.

    ``make(batch, geometries, start)`` turns a batch of rows (with their display geometries,
    :func:`display_geometries`, and the position of the batch's first row) into
    ``(item, bytes)`` pairs; the first item that does not fit ends the list (rank order is
    kept: never a lower rank drawn in place of a higher one).
    """
    out: list[T] = []
    used = 0
    for start, batch in _batches(frame):
        geoms = display_geometries(batch, tolerance_m)
        for item, size in make(batch, geoms, start):
            if used + size > budget:
                return out
            out.append(item)
            used += size
    return out


def map_hotspot_budget(
    *, heat_points: int, circles: int, reference_layers: int, label_bytes: int = 0
) -> int:
    """Bytes left for the hotspot layer of a map page of at most :data:`WEB_MAX_BYTES`.

    What the rest of the page takes at most: :data:`MAP_PAGE_BYTES`, the heat points, the
    incident circles, :data:`MAP_REFERENCE_BYTES` for each reference layer and the labels'
    ``label_bytes`` (at most :data:`MAP_LABEL_BYTES`).

    >>> map_hotspot_budget(heat_points=15_000, circles=0, reference_layers=2)
    1030000
    """
    used = (
        MAP_PAGE_BYTES
        + heat_points * _HEAT_POINT_BYTES
        + circles * _CIRCLE_BYTES
        + reference_layers * MAP_REFERENCE_BYTES
        + label_bytes
    )
    return max(WEB_MAX_BYTES - used, 0)


def _batches(frame: gpd.GeoDataFrame) -> Iterator[tuple[int, gpd.GeoDataFrame]]:
    for start in range(0, len(frame), _BATCH):
        yield start, frame.iloc[start : start + _BATCH]
