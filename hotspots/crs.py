"""Choose the working CRS and move frames between it and WGS84.

Every distance in ``hotspots`` is in metres of a projected CRS: British National Grid
(EPSG:27700) for points in Great Britain, otherwise the UTM zone of the points' median.
Longitude and latitude reach the analysis only through this module.
"""

from __future__ import annotations

import itertools
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from ._points import unique_points
from ._threads import workers
from .errors import InputError, ParameterError

__all__ = [
    "BNG",
    "BNG_BOUNDS",
    "WGS84",
    "choose_crs",
    "fits_british_national_grid",
    "in_great_britain",
    "parse_crs",
    "project_xy",
    "to_metres",
    "to_wgs84",
    "utm_crs",
]

log = logging.getLogger(__name__)

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
#: Where British National Grid eastings and northings can lie (metres): west, south, east, north.
BNG_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)

# From this many points on, a projection runs in two threads (PROJ releases the GIL).
PARALLEL_PROJECT_ROWS = 1 << 19

# Great Britain (with Shetland, the Scillies and the Isle of Man), where EPSG:27700 is defined.
_GB_BOUNDS = (-8.82, 49.79, 1.92, 60.94)
# A UTM zone is 6 degrees wide; beyond ~3 zones either side the scale error passes 1%:
# points that far apart are a study area no street-level analysis covers.
_MAX_SPAN_KM = 3000.0


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    """One transformer per pair of CRSs (thread-safe since pyproj 3.1: a PROJ context per
    thread)."""
    return Transformer.from_crs(src_wkt, dst_wkt, always_xy=True)


def project_xy(
    crs_from: CRS, crs_to: CRS, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``x``, ``y`` from ``crs_from`` to ``crs_to`` (x = easting or longitude); a point that
    cannot be projected comes out as inf or NaN. From :data:`PARALLEL_PROJECT_ROWS` points
    on, the halves are projected at once (a city's millions: 0.9 s -> 0.5 s on two cores).

    From as many points, when they sit on few distinct points (a quarter of the rows at
    most, every coordinate finite and not zero), each distinct point is projected once and
    the rows take its numbers, which are the ones each row's own projection gives: a
    data.police.uk city file (3M rows on 125k map points) 0.47-0.59 s -> 0.24-0.44 s, on
    one core instead of two. (Measured when hashing was slower, this was the slower way.)"""
    if crs_from == crs_to or x.size == 0:
        return x, y
    t = _transformer(crs_from.to_wkt(), crs_to.to_wkt())
    if x.size >= PARALLEL_PROJECT_ROWS:
        distinct = _distinct_points(x, y)
        if distinct is not None:
            codes, ux, uy = distinct
            px, py = _projected(t, ux, uy)
            return px[codes], py[codes]
    return _projected(t, x, y)


def _distinct_points(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """Each row's code into the distinct points and their coordinates; None when there are
    more than a quarter as many, or a coordinate is not finite or is zero (-0.0 and 0.0 are
    one point to :func:`hotspots._points.unique_points`, and each row keeps its sign)."""
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.all(x) and np.all(y)):
        return None
    codes, uxy, _ = unique_points(np.column_stack([x, y]))
    if len(uxy) > len(x) // 4:
        return None
    return codes, uxy[:, 0].copy(), uxy[:, 1].copy()


def _projected(
    t: Transformer, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``t.transform`` of every point, in two threads from :data:`PARALLEL_PROJECT_ROWS`."""
    tx, ty = np.empty(len(x)), np.empty(len(x))

    def project(rows: slice) -> None:
        with np.errstate(all="ignore"):
            tx[rows], ty[rows] = t.transform(x[rows], y[rows], errcheck=False)

    n_threads = workers(2, len(x), PARALLEL_PROJECT_ROWS)
    bounds = np.linspace(0, len(x), n_threads + 1).astype(int).tolist()
    rows = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    if n_threads == 1:
        project(rows[0])
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            list(pool.map(project, rows))
    return tx, ty


def in_great_britain(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each point lies in the box where British National Grid is defined.

    >>> in_great_britain([-0.02, 2.35], [51.58, 48.86]).tolist()
    [True, False]
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    west, south, east, north = _GB_BOUNDS
    return (x >= west) & (x <= east) & (y >= south) & (y <= north)


def fits_british_national_grid(x: npt.ArrayLike, y: npt.ArrayLike) -> bool:
    """Whether numbers with no CRS given read as British National Grid eastings/northings:
    all inside :data:`BNG_BOUNDS`, and not all within a kilometre of its origin (where
    degrees or small local numbers would also fall).

    >>> fits_british_national_grid([532_705.0, 532_802.0], [181_163.0, 181_262.0])
    True
    >>> fits_british_national_grid([-0.02], [51.58]), fits_british_national_grid([800_000.0], [1.0])
    (False, False)
    """
    vx, vy = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    west, south, east, north = BNG_BOUNDS
    inside = (vx >= west) & (vx <= east) & (vy >= south) & (vy <= north)
    return bool(vx.size and inside.all() and vx.max() > 1_000 and vy.max() > 1_000)


def parse_crs(value: str | CRS | None, argument: str) -> CRS | None:
    """The CRS a user gave (None stays None); a bad one is an error naming ``argument``.

    >>> parse_crs("EPSG:27700", "crs").to_string(), parse_crs(None, "crs")
    ('EPSG:27700', None)
    >>> parse_crs("metres", "target_crs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: target_crs: 'metres' is not a coordinate reference system; ...
    """
    if value is None:
        return None
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as exc:
        raise ParameterError(
            f"{argument}: {value!r} is not a coordinate reference system; give one like "
            "'EPSG:27700'."
        ) from exc


def utm_crs(lon: float, lat: float) -> CRS:
    """The UTM zone CRS (WGS84 datum) that holds ``(lon, lat)``.

    >>> utm_crs(2.35, 48.86).to_string()
    'EPSG:32631'
    >>> utm_crs(151.2, -33.9).to_string()
    'EPSG:32756'
    """
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    return CRS.from_epsg(epsg)


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def choose_crs(lon: npt.ArrayLike, lat: npt.ArrayLike, *, source: str = "the input") -> CRS:
    """Pick the projected CRS for points given in longitude/latitude (WGS84).

    British National Grid when at least 99% of the points are in Great Britain, otherwise
    the UTM zone of the median point. Points spread over thousands of kilometres (several
    continents) are an input error.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees; NaNs are ignored.
    source
        Names the data in error messages (a file name).

    >>> choose_crs([-0.02, -0.01], [51.58, 51.59]).to_string()
    'EPSG:27700'
    >>> choose_crs([13.40, 13.41], [52.52, 52.53]).to_string()
    'EPSG:32633'
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        raise InputError(
            f"{source}: no points with coordinates, so no map projection can be chosen."
        )
    if in_great_britain(x, y).mean() >= 0.99:
        log.info("working CRS: British National Grid (EPSG:27700)")
        return CRS.from_user_input(BNG)
    lo1, lo99 = np.percentile(x, [0.5, 99.5])
    la1, la99 = np.percentile(y, [0.5, 99.5])
    span = _haversine_km(lo1, la1, lo99, la99)
    if span > _MAX_SPAN_KM:
        raise InputError(
            f"{source}: the points spread over {span:,.0f} km (several continents); "
            "analyse one city or region at a time, or check that the longitude and "
            "latitude columns are the right way round."
        )
    crs = utm_crs(float(np.median(x)), float(np.median(y)))
    log.info("working CRS: %s (%s), the UTM zone of the points", crs.to_string(), crs.name)
    return crs


def to_metres(frame: gpd.GeoDataFrame, crs: CRS | str | None = None) -> gpd.GeoDataFrame:
    """Reproject ``frame`` to ``crs``, or to the CRS :func:`choose_crs` picks for it.

    A frame without a CRS is an error: say which CRS its coordinates are in.
    """
    if frame.crs is None:
        raise InputError(
            "the layer has no coordinate reference system; give its CRS (e.g. EPSG:4326)."
        )
    if crs is None:
        if frame.crs.is_projected and frame.crs.axis_info[0].unit_name in ("metre", "meter"):
            return frame.copy()
        wgs = frame.to_crs(WGS84)
        pts = wgs.geometry.representative_point()
        crs = choose_crs(pts.x.to_numpy(), pts.y.to_numpy())
    return frame.to_crs(crs)


def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject ``frame`` to longitude/latitude (EPSG:4326)."""
    if frame.crs is None:
        raise InputError(
            "the layer has no coordinate reference system; give its CRS (e.g. EPSG:4326)."
        )
    return frame.to_crs(WGS84)
