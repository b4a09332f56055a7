"""Generic police.uk place names ("Supermarket", "Parking Area") located by their nearest street.

data.police.uk moves every crime to one of a fixed set of anonymous map points and names each
point after its street ("On or near High Street") or, for a point at a public place, after the
*kind* of place: "On or near Supermarket", "On or near Parking Area", "On or near Bus/coach
Station". A list of streets to visit that says "Supermarket" does not say which one; this module
tells those names apart (:func:`is_place_type`) and names each such point after the nearest
map point that has a street name (:func:`place_labels`): "Supermarket near High Street".

:func:`location_names` is the one naming of the incidents' ``location`` column for tables and
headlines: the street ("On or near " stripped, :func:`street_names`), or a place type located by
its nearest street, decided once per distinct map point against all the incidents given. The
hotspot profile's ``top_locations``, the patrol points and the outreach streets all count these
names, so a place reads the same everywhere.

The rule (:func:`is_place_type`), checked on the real data.police.uk names of Waltham Forest
(2016-2017) and the City of London (2018-2019), where it picks out exactly the place types
(Supermarket, Parking Area, Petrol Station, Police Station, Sports/recreation Area, Pedestrian
Subway, Shopping Area, Bus/coach Station, Nightclub, Conference/Exhibition Centre, Further/higher
Educational Building, Park/open Space, Theatre/concert Hall, Ferry Terminal, Hospital, Race
Track) and none of the streets (Cheapside, Moorgate, High Road Leyton, "Leyton (lu Station)"):

* a name in :data:`PLACE_TYPES` (police.uk's place types, compared without case) is a place;
* a name holding a bracket is a named place ("Leyton (lu Station)"), not a place type, and
  one holding " near " is a place type already located ("Bus/coach Station near Ely Road");
* a name holding "/" is a place type (police.uk writes its types "Bus/coach Station"; no
  street name holds a slash);
* a name of one or two words ending in a place word (:data:`PLACE_WORDS`: "Area", "Station",
  "Supermarket", ...) that is not a street word is a place type ("Pedestrian Subway").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._points import incident_xy, unique_points_of
from ._validate import check_incidents
from .errors import ParameterError

__all__ = [
    "PLACE_SEARCH_M",
    "PLACE_TYPES",
    "PLACE_WORDS",
    "is_place_type",
    "location_codes",
    "location_names",
    "place_labels",
    "street_names",
]

#: How far (metres) a police.uk place type ("Supermarket") looks for its nearest street.
PLACE_SEARCH_M = 500.0

#: police.uk's place types, as published (compared without case and extra spaces).
PLACE_TYPES: frozenset[str] = frozenset(
    name.casefold()
    for name in (
        "Airport/Airfield",
        "Bus/Coach Station",
        "Conference/Exhibition Centre",
        "Ferry Terminal",
        "Further/Higher Educational Building",
        "Hospital",
        "Nightclub",
        "Park/Open Space",
        "Parking Area",
        "Pedestrian Subway",
        "Petrol Station",
        "Police Station",
        "Prison",
        "Race Track",
        "Shopping Area",
        "Sports/Recreation Area",
        "Supermarket",
        "Theatre/Concert Hall",
        "Theme/Adventure Park",
    )
)
#: Last words of a place type (lower case): a name of one or two words ending in one is a place.
PLACE_WORDS: frozenset[str] = frozenset(
    {
        "airfield",
        "airport",
        "area",
        "building",
        "centre",
        "hospital",
        "nightclub",
        "prison",
        "space",
        "station",
        "subway",
        "supermarket",
        "terminal",
        "track",
    }
)
_PREFIX = re.compile(r"(?i)^\s*on or near\b")
_NEAR = " near "
_NO_LOCATION = "no location"


def _clean(name: object) -> str:
    """The name without "On or near ", spaces collapsed, compared without case."""
    text = _PREFIX.sub("", "" if name is None else str(name))
    return " ".join(text.split()).casefold()


def is_place_type(name: object) -> bool:
    """Whether ``name`` is a police.uk place type ("Supermarket") rather than a street.

    Parameters
    ----------
    name
        A location as police.uk publishes it, with or without "On or near ".

    Returns
    -------
    bool
        True for a place type (the rule is in the module's docstring); False for a street, a
        named place ("Leyton (lu Station)"), a place type already located ("Supermarket near
        High Street"), "No Location" and empty text.

    Examples
    --------
    >>> [is_place_type(n) for n in ("On or near Supermarket", "Bus/coach Station",
    ...                             "Pedestrian Subway", "High Street", "Cheapside",
    ...                             "Leyton (lu Station)", "Station Road", "")]
    [True, True, True, False, False, False, False, False]
    """
    text = _clean(name)
    if not text or text == "no location":
        return False
    if text in PLACE_TYPES:
        return True
    if "(" in text or ")" in text or _NEAR in text:
        return False
    if "/" in text:
        return True
    words = text.split()
    return len(words) <= 2 and words[-1] in PLACE_WORDS


def _place_flags(names: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """:func:`is_place_type` of each name, deciding each distinct name once."""
    if not len(names):
        return np.zeros(0, dtype=bool)
    code, distinct = pd.factorize(pd.Series(names, dtype=object).astype(str))
    flags = np.array([is_place_type(n) for n in distinct], dtype=bool)
    return flags[code] if len(flags) else np.zeros(len(names), dtype=bool)


def street_names(location: pd.Series) -> pd.Series:
    """``"On or near St James Street"`` -> ``"St James Street"``; "No Location" -> empty.

    >>> street_names(pd.Series(["On or near High Street", "No Location"])).tolist()
    ['High Street', '']
    """
    street = location.astype("str").str.replace(_PREFIX, "", regex=True).str.strip()
    return street.mask(street.str.lower() == _NO_LOCATION, "")


def _check_distance(max_distance_m: float) -> float:
    if not np.isfinite(max_distance_m) or max_distance_m <= 0:
        raise ParameterError(f"max_distance_m: must be a distance above 0, not {max_distance_m}.")
    return float(max_distance_m)


def _nearest_streets(
    xy: npt.NDArray[np.float64],
    street_xy: npt.NDArray[np.float64],
    street_rank: npt.NDArray[np.intp],
    max_distance_m: float,
) -> npt.NDArray[np.intp]:
    """The index of the street point nearest each of ``xy`` within ``max_distance_m`` (-1 for
    none or a position that is not finite); of equally near ones, the lowest ``street_rank``
    (the street name's place in alphabetical order)."""
    out = np.full(len(xy), -1, dtype=np.intp)
    where = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not len(where) or not len(street_xy):
        return out
    order = np.argsort(street_rank, kind="stable")
    tree = shapely.STRtree(shapely.points(street_xy[order]))
    src, dst = tree.query_nearest(
        shapely.points(xy[where]), max_distance=max_distance_m, all_matches=True
    )
    best = np.full(len(where), len(order), dtype=np.intp)
    np.minimum.at(best, src, dst)  # of equally near points, the first in the sorted order
    found = best < len(order)
    out[where[found]] = order[best[found]]
    return out


def _within_cells(
    xy: npt.NDArray[np.float64], around: npt.NDArray[np.float64], distance: float
) -> npt.NDArray[np.bool_]:
    """Whether each of ``xy`` may lie within ``distance`` of a point of ``around``: in one of
    the 3 x 3 grid cells (side ``distance``) around one of them (a superset, cheap)."""
    span = np.int64(1 << 32)
    cells = np.floor(around / distance).astype(np.int64)
    reach = np.concatenate(
        [(cells[:, 0] + dx) * span + (cells[:, 1] + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    )
    own = np.floor(xy / distance).astype(np.int64)
    return np.isin(own[:, 0] * span + own[:, 1], np.unique(reach))


def _joined(places: npt.NDArray[np.object_], streets: npt.NDArray[np.object_]) -> list[str]:
    """The label "<place> near <street>" of each pair; the bare place where the street is ""."""
    return [f"{p}{_NEAR}{s}" if s else str(p) for p, s in zip(places, streets, strict=True)]


def place_labels(
    names: Iterable[str],
    xy: npt.ArrayLike,
    *,
    streets: Iterable[str],
    street_xy: npt.ArrayLike,
    max_distance_m: float = PLACE_SEARCH_M,
) -> npt.NDArray[np.object_]:
    """Each map point's name, a place type located by its nearest street ("Supermarket near
    High Street").

    Parameters
    ----------
    names
        Each point's name, "On or near " already stripped (:func:`street_names`).
    xy
        The points' positions, shape (n, 2), in metres.
    streets, street_xy
        The map points to look for a street among (e.g. every incident's location and
        position): those named after a street are used; place types and empty names are not.
    max_distance_m
        A place type with no street point this close keeps its bare name.

    Returns
    -------
    ndarray of str
        ``names`` as given, but each place type (:func:`is_place_type`) followed by
        " near <the street of the nearest street point>"; ties in distance go to the name
        first in alphabetical order.

    Examples
    --------
    >>> place_labels(["Supermarket", "Mill Lane", "Parking Area"], [[0, 0], [50, 0], [9e3, 0]],
    ...              streets=["High Street", "Mill Lane", "Supermarket"],
    ...              street_xy=[[0, 30], [0, -40], [0, 1]]).tolist()
    ['Supermarket near High Street', 'Mill Lane', 'Parking Area']
    """
    labels = np.asarray(list(names), dtype=object)
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(points) != len(labels):
        raise ParameterError(f"xy: {len(points)} positions for {len(labels)} names; give one each.")
    ref_names = np.asarray(list(streets), dtype=object)
    ref_xy = np.asarray(street_xy, dtype=float).reshape(-1, 2)
    if len(ref_xy) != len(ref_names):
        raise ParameterError(
            f"street_xy: {len(ref_xy)} positions for {len(ref_names)} streets; give one each."
        )
    max_distance_m = _check_distance(max_distance_m)
    generic = np.flatnonzero(_place_flags(labels))
    ref_names = np.array(["" if n is None else str(n).strip() for n in ref_names], dtype=object)
    usable = (ref_names != "") & ~_place_flags(ref_names) & np.isfinite(ref_xy).all(axis=1)
    if not len(generic) or not usable.any():
        return labels
    ref = ref_names[usable]
    _, rank = np.unique(ref.astype(str), return_inverse=True)
    nearest = _nearest_streets(points[generic], ref_xy[usable], rank.ravel(), max_distance_m)
    street = np.where(nearest >= 0, ref[np.maximum(nearest, 0)], "")
    out = labels.copy()
    out[generic] = _joined(labels[generic], street)
    return out


def location_names(
    incidents: gpd.GeoDataFrame, *, max_distance_m: float = PLACE_SEARCH_M
) -> pd.Series:
    """Each incident's place as tables and headlines name it: its street, or a police.uk place
    type located by its nearest street ("Supermarket near High Street").

    Parameters
    ----------
    incidents
        Incidents frame in a metre CRS with a ``location`` column ("On or near High Street").
    max_distance_m
        A place type with no street point this close keeps its bare name ("Supermarket").

    Returns
    -------
    Series of category
        One entry per incident (``incidents``' index): the location with "On or near "
        stripped (:func:`street_names`); missing for "No Location" and empty text. A place
        type (:func:`is_place_type`) is followed by " near " and the street of the nearest
        incident position named after a street, among all of ``incidents`` (ties in distance:
        the name first in alphabetical order; :func:`place_labels`). Each distinct (position,
        location) is named once: the incidents at one place-type point share its name;
        place-type points named after different streets are different places.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(
    ...     {"location": ["On or near Supermarket", "On or near Mill Lane", "No Location"]},
    ...     geometry=gpd.points_from_xy([0, 40, 9], [0, 0, 9]), crs="EPSG:27700")
    >>> location_names(pts).tolist()
    ['Supermarket near Mill Lane', 'Mill Lane', nan]
    """
    frame = check_incidents(incidents, columns=("location",))
    max_distance_m = _check_distance(max_distance_m)
    code, uniques = pd.factorize(frame["location"].reset_index(drop=True), use_na_sentinel=True)
    cleaned = street_names(pd.Series(np.asarray(uniques, dtype=object), dtype="str"))
    name_code, distinct = pd.factorize(cleaned.fillna("").to_numpy(dtype=object))
    names = np.asarray(distinct, dtype=object)
    row = np.full(len(frame), -1, dtype=np.intp)
    if len(names):
        per_unique = np.where(names[name_code] == "", -1, name_code)
        row = np.where(code >= 0, per_unique[np.maximum(code, 0)], -1).astype(np.intp)
    place = _place_flags(names)
    is_place = row >= 0
    is_place[is_place] = place[row[is_place]]
    if is_place.any():
        row, names = _locate_places(row, names, is_place, incident_xy(frame), max_distance_m)
    # one category per distinct name in use ("" dropped, repeats merged)
    merged = pd.Series(names, dtype=object)
    used = np.bincount(row[row >= 0], minlength=len(names)) > 0
    remap, categories = pd.factorize(merged.mask((merged == "") | ~used), use_na_sentinel=True)
    codes = np.where(row >= 0, remap[np.maximum(row, 0)], -1) if len(remap) else row
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object)),
        index=frame.index,
        name="location",
    )


def _locate_places(
    row: npt.NDArray[np.intp],
    names: npt.NDArray[np.object_],
    is_place: npt.NDArray[np.bool_],
    xy: npt.NDArray[np.float64],
    max_distance_m: float,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """``row`` (each incident's code into ``names``) with the place-type incidents given a name
    of their own per distinct (position, place type): "<place> near <street>", the street of
    the nearest other incident's position named after a street (codes appended to ``names``)."""
    rows = np.flatnonzero((row >= 0) & np.isfinite(xy).all(axis=1))
    place = is_place[rows]
    if place.all() or not place.any():
        return row, names
    # the distinct (position, name) pairs, as point * len(names) + name
    point, uxy, _ = unique_points_of(xy, rows)  # a city's kept codes
    m = np.int64(len(names))
    key = point.astype(np.int64) * m + row[rows]
    group, place_keys = pd.factorize(key[place])
    street_keys = pd.unique(key[~place])
    place_xy = uxy[place_keys // m]
    street_keys = street_keys[_within_cells(uxy[street_keys // m], place_xy, max_distance_m)]
    if not len(street_keys):  # no street within reach: every place keeps its bare name
        return row, names
    rank = np.empty(len(names), dtype=np.intp)
    rank[np.argsort(names.astype(str), kind="stable")] = np.arange(len(names))
    street_name = names[street_keys % m]
    nearest = _nearest_streets(
        place_xy, uxy[street_keys // m], rank[street_keys % m], max_distance_m
    )
    street = np.where(nearest >= 0, street_name[np.maximum(nearest, 0)], "")
    labels = _joined(names[place_keys % m], street)
    new_code, new_names = pd.factorize(pd.Series(labels, dtype=object))
    out = row.copy()
    out[rows[place]] = len(names) + new_code[group]
    return out, np.concatenate([names, np.asarray(new_names, dtype=object)])


def location_codes(
    incidents: gpd.GeoDataFrame, locations: pd.Series | None = None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """The incidents' place names (:func:`location_names`) as codes: each incident's index into
    the distinct names (-1: none), and the names.

    Parameters
    ----------
    incidents
        Incidents frame (``location``) in a metre CRS.
    locations
        ``location_names(incidents)`` when the caller has it already (an analysis names its
        incidents once and passes the names to every table); one entry per incident, in its
        order. None: named here.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"location": ["On or near A Road", "No Location"] * 2},
    ...     geometry=gpd.points_from_xy([0, 1, 0, 1], [0, 0, 0, 0]), crs="EPSG:27700")
    >>> codes, names = location_codes(pts)
    >>> codes.tolist(), names.tolist()
    ([0, -1, 0, -1], ['A Road'])
    """
    if locations is None:
        locations = location_names(incidents)
    elif not isinstance(locations, pd.Series) or len(locations) != len(incidents):
        size = len(locations) if isinstance(locations, pd.Series) else type(locations).__name__
        raise ParameterError(
            f"locations: {size} names for {len(incidents)} incidents; give "
            "location_names(incidents), one per incident."
        )
    if isinstance(locations.dtype, pd.CategoricalDtype):
        cat = pd.Categorical(locations)
    else:
        cat = pd.Categorical(locations.astype(object).where(locations.notna(), None))
    empty = [c for c in cat.categories if not str(c).strip()]
    if empty:  # empty text is no place
        cat = cat.remove_categories(empty)
    names = np.asarray(cat.categories, dtype=object)
    return np.asarray(cat.codes, dtype=np.intp), names
