"""Generic police.uk place names ("Supermarket", "Parking Area") located by their nearest street.

data.police.uk moves every crime to one of a fixed set of anonymous map points and names each
point after its street ("On or near High Street") or, for a point at a public place, after the
*kind* of place: "On or near Supermarket", "On or near Parking Area", "On or near Bus/coach
Station". A list of streets to visit that says "Supermarket" does not say which one; this module
tells those names apart (:func:`is_place_type`) and names each such point after the nearest
map point that has a street name (:func:`place_labels`): "Supermarket near High Street".

The rule (:func:`is_place_type`), checked on the real data.police.uk names of Waltham Forest
(2016-2017) and the City of London (2018-2019), where it picks out exactly the place types
(Supermarket, Parking Area, Petrol Station, Police Station, Sports/recreation Area, Pedestrian
Subway, Shopping Area, Bus/coach Station, Nightclub, Conference/Exhibition Centre, Further/higher
Educational Building, Park/open Space, Theatre/concert Hall, Ferry Terminal, Hospital, Race
Track) and none of the streets (Cheapside, Moorgate, High Road Leyton, "Leyton (lu Station)"):

* a name in :data:`PLACE_TYPES` (police.uk's place types, compared without case) is a place;
* a name holding a bracket is a named place ("Leyton (lu Station)"), not a place type;
* a name holding "/" is a place type (police.uk writes its types "Bus/coach Station"; no
  street name holds a slash);
* a name of one or two words ending in a place word (:data:`PLACE_WORDS`: "Area", "Station",
  "Supermarket", ...) that is not a street word is a place type ("Pedestrian Subway").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .errors import ParameterError

__all__ = ["PLACE_TYPES", "PLACE_WORDS", "is_place_type", "place_labels"]

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
        named place ("Leyton (lu Station)"), "No Location" and empty text.

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
    if "(" in text or ")" in text:
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


def place_labels(
    names: Iterable[str],
    xy: npt.ArrayLike,
    *,
    streets: Iterable[str],
    street_xy: npt.ArrayLike,
    max_distance_m: float = 500.0,
) -> npt.NDArray[np.object_]:
    """Each map point's name, a place type located by its nearest street ("Supermarket near
    High Street").

    Parameters
    ----------
    names
        Each point's name, "On or near " already stripped (:func:`hotspots.profile.street_names`).
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
    if not np.isfinite(max_distance_m) or max_distance_m <= 0:
        raise ParameterError(f"max_distance_m: must be a distance above 0, not {max_distance_m}.")
    generic = _place_flags(labels)
    named = np.array([bool(str(n).strip()) for n in ref_names], dtype=bool)
    usable = named & ~_place_flags(ref_names) & np.isfinite(ref_xy).all(axis=1)
    if not generic.any() or not usable.any():
        return labels
    # one tree of the distinct (position, street) pairs
    pairs = {(x, y, str(n)) for (x, y), n in zip(ref_xy[usable], ref_names[usable], strict=True)}
    distinct = sorted(pairs, key=lambda p: p[2])  # alphabetical: the first of a tie wins
    tree = shapely.STRtree(shapely.points([(x, y) for x, y, _ in distinct]))
    where = np.flatnonzero(generic & np.isfinite(points).all(axis=1))
    (src, dst), _ = tree.query_nearest(
        shapely.points(points[where]),
        max_distance=float(max_distance_m),
        return_distance=True,
        all_matches=True,
    )
    best: dict[int, int] = {}
    for s, d in zip(src.tolist(), dst.tolist(), strict=True):
        best[s] = min(best.get(s, d), d)  # the sorted order: the smallest index, first name
    out = labels.copy()
    for s, d in best.items():
        out[where[s]] = f"{labels[where[s]]}{_NEAR}{distinct[d][2]}"
    return out
