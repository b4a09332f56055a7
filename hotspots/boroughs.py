"""Boroughs for a city-wide analysis: each incident's local authority, from the wards.

With a whole city's wards, hotspots are found borough by borough
(:func:`hotspots.find.find_hotspots`'s ``groups``), so a quiet outer borough gets hotspots by
its own standard, not by the city centre's.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import ParameterError
from .overlay import assign_wards

__all__ = ["ward_groups"]


#: Ward columns naming the local authority (borough) a ward belongs to, in order of preference.
_AUTHORITY_COLUMN = re.compile(
    r"^(lad\d{0,2}nm|lad_name|district|borough|local_authority|lad\d{0,2}cd|lad_code|lagsscode)$",
    re.IGNORECASE,
)


def ward_groups(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, *, ward_codes: pd.Series | None = None
) -> tuple[pd.Series, dict[str, float], str] | None:
    """Each incident's local authority (borough), from a column of the wards, with the areas.

    For a city-wide analysis: hotspots are then found borough by borough
    (:func:`hotspots.find.find_hotspots`'s ``groups``). The column is the first of a name
    column (``LAD22NM``, ``district``, ``borough``, ...) or a code column (``LAD22CD``,
    ``LAGSSCODE``, ...) in the wards; None when there is no such column or it names one
    authority only.

    ``ward_codes``: :func:`hotspots.overlay.assign_wards` of these incidents and wards, when
    worked out already (:attr:`hotspots.prepared.Prepared.ward_codes`).

    Returns
    -------
    tuple or None
        ``(group per incident, "" outside every ward, as categories; {group: km²}; the column
        used)``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> wards = gpd.GeoDataFrame({"ward_code": ["A", "B"], "DISTRICT": ["East", "West"]},
    ...     geometry=[box(0, 0, 100, 100), box(100, 0, 300, 100)], crs="EPSG:27700")
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([50, 150], [50, 50]),
    ...                        crs="EPSG:27700")
    >>> groups, areas, column = ward_groups(pts, wards)
    >>> groups.tolist(), areas, column
    (['East', 'West'], {'East': 0.01, 'West': 0.02}, 'DISTRICT')
    """
    columns = [c for c in wards.columns if isinstance(c, str) and _AUTHORITY_COLUMN.match(c)]
    if not columns:
        return None
    ranked = sorted(
        columns,
        key=lambda c: (
            0 if c.lower().endswith(("nm", "name", "district", "borough", "authority")) else 1
        ),
    )
    column = ranked[0]
    names = wards[column].astype("str").fillna("")
    if names.nunique() < 2:
        return None
    by_code = dict(zip(wards["ward_code"].astype("str"), names, strict=True))
    if ward_codes is not None and not ward_codes.index.equals(incidents.index):
        raise ParameterError(
            "ward_codes: not on the incidents' rows; pass assign_wards(incidents, wards)."
        )
    codes = assign_wards(incidents, wards) if ward_codes is None else ward_codes
    # each distinct ward looked up once (a city's million incidents in 657 wards)
    each = codes if isinstance(codes.dtype, pd.CategoricalDtype) else codes.astype("category")
    borough = [by_code.get(str(code), "") for code in each.cat.categories]
    # as categories: a city's million rows hold 33 names' codes, not a million strings
    names_of, which = np.unique(np.asarray([*borough, ""], dtype=str), return_inverse=True)
    row = which[each.cat.codes.to_numpy()]  # -1 (in no ward): the last, ""
    groups = pd.Series(
        pd.Categorical.from_codes(row, categories=pd.Index(names_of, dtype="str")),
        index=codes.index,
    )
    layer = wards.to_crs(incidents.crs) if wards.crs != incidents.crs else wards
    areas = (shapely.area(layer.geometry.to_numpy()) / 1e6).round(6)
    totals = pd.Series(areas, index=names.to_numpy()).groupby(level=0).sum()
    return groups, {str(k): float(v) for k, v in totals.items()}, column
