"""police.uk place types ("Supermarket", "Parking Area") told apart from streets and located by
their nearest street, alone (hotspots.places) and in every table that names a place: the hotspots'
top_locations (hotspots.profile), the patrol points and the outreach streets (hotspots.patrols)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from hotspots.cli import main
from hotspots.errors import ParameterError
from hotspots.patrols import outreach_streets, patrol_points
from hotspots.places import (
    PLACE_SEARCH_M,
    is_place_type,
    location_codes,
    location_names,
    place_labels,
    street_names,
)
from hotspots.profile import profile_hotspots

from .conftest import realdata_path

# Names as data.police.uk publishes them (Waltham Forest 2016-17, City of London 2018-19).
PLACES = [
    "On or near Supermarket",
    "On or near Parking Area",
    "On or near Petrol Station",
    "On or near Police Station",
    "On or near Sports/recreation Area",
    "On or near Sports/Recreation Area",
    "On or near Pedestrian Subway",
    "On or near Shopping Area",
    "On or near Bus/coach Station",
    "On or near Bus/Coach Station",
    "On or near Nightclub",
    "On or near Conference/Exhibition Centre",
    "On or near Further/higher Educational Building",
    "On or near Park/open Space",
    "On or near Theatre/concert Hall",
    "On or near Ferry Terminal",
    "On or near Hospital",
    "On or near Race Track",
    "Supermarket",
    "  on or near   parking  area ",
]
STREETS = [
    "On or near High Street",
    "On or near Cheapside",
    "On or near Moorgate",
    "On or near High Road Leyton",
    "On or near St Mary Axe",
    "On or near Station Road",
    "On or near Higham Station Avenue",
    "On or near Church Hill",
    "On or near A100",
    "On or near Tower Royal",
    "On or near Blackfriars Underpass",
    "On or near Chestnut Avenue North",
    "Leyton (lu Station)",
    "Blackhorse Road (underground)",
    "Walthamstow Avenue (north Circular Road)",
    "Bus/coach Station near Ely Road",
    "Supermarket near High Street",
    "No Location",
    "",
    None,
]


@pytest.mark.parametrize("name", PLACES)
def test_place_types_are_places(name: str) -> None:
    assert is_place_type(name)


@pytest.mark.parametrize("name", STREETS)
def test_streets_and_named_places_are_not(name: str | None) -> None:
    assert not is_place_type(name)


def test_place_labels_known_answer() -> None:
    """Two supermarkets: each named after its own nearest street; a tie goes to the first name
    in alphabetical order; a place type far from every street keeps its name; a place type is
    never the street another one is named after."""
    names = ["Supermarket", "Supermarket", "Parking Area", "Mill Lane", "Nightclub"]
    xy = [[0, 0], [1000, 0], [5000, 5000], [10, 10], [2000, 0]]
    streets = ["High Street", "Mill Lane", "Station Road", "Petrol Station", "Bell Road", "Ash Way"]
    street_xy = [[0, 20], [0, -30], [1000, 50], [1000, 5], [2000, 40], [2000, -40]]
    out = place_labels(names, xy, streets=streets, street_xy=street_xy)
    assert out.tolist() == [
        "Supermarket near High Street",
        "Supermarket near Station Road",
        "Parking Area",
        "Mill Lane",
        "Nightclub near Ash Way",
    ]
    with pytest.raises(ParameterError, match="xy"):
        place_labels(["A"], [[0, 0], [1, 1]], streets=[], street_xy=np.zeros((0, 2)))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Supermarket", "High Street", "Mill Lane", "Parking Area", ""]),
            st.integers(-2000, 2000),
            st.integers(-2000, 2000),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_place_labels_only_add_a_street_to_place_types(
    rows: list[tuple[str, int, int]],
) -> None:
    """Every name is kept; a place type gains " near <street>" with a real street name of the
    reference points (never a place type), within the search distance."""
    names = [r[0] for r in rows]
    xy = np.array([[r[1], r[2]] for r in rows], dtype=float)
    out = place_labels(names, xy, streets=names, street_xy=xy, max_distance_m=800)
    for name, label, (x, y) in zip(names, out, xy, strict=True):
        if not is_place_type(name):
            assert label == name
            continue
        assert label.startswith(name)
        if label != name:
            street = label.removeprefix(f"{name} near ")
            assert street in {"High Street", "Mill Lane"}
            d = [
                np.hypot(x - px, y - py)
                for n, (px, py) in zip(names, xy, strict=True)
                if n == street
            ]
            assert min(d) <= 800


def test_outreach_streets_locate_place_types() -> None:
    """A hotspot of 10 incidents: 5 on High Street, 3 at a supermarket 40 m from High Street
    and 300 m from Mill Lane, 2 at a parking area by Mill Lane outside the hotspot's street
    points: the outreach streets name both places after their nearest streets, with counts and
    shares; the street the parking area is named after is an incident outside the hotspot."""
    rows = (
        [("On or near High Street", 0, 0)] * 5
        + [("On or near Supermarket", 40, 0)] * 3
        + [("On or near Parking Area", 5000, 10)] * 2
        + [("On or near Mill Lane", 340, 0), ("On or near Mill Lane", 5000, 60)]
    )
    frame = gpd.GeoDataFrame(
        {"location": [r[0] for r in rows]},
        geometry=gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]),
        crs="EPSG:27700",
    )
    ids = pd.Series(["H01"] * 10 + ["", ""])
    hs = gpd.GeoDataFrame({"hotspot_id": ["H01"], "rank": [1]}, geometry=[None], crs="EPSG:27700")
    table = outreach_streets(frame, hs, hotspot_ids=ids)
    assert table[["street", "incidents"]].values.tolist() == [
        ["High Street", 5],
        ["Supermarket near High Street", 3],
        ["Parking Area near Mill Lane", 2],
    ]
    assert table["share_of_hotspot"].tolist() == [0.5, 0.3, 0.2]
    # no street within the search distance: the bare place type
    far = frame.copy()
    far.loc[10:, "geometry"] = gpd.points_from_xy([5000 + 2 * PLACE_SEARCH_M] * 2, [0, 0])
    far.loc[0:4, "geometry"] = gpd.points_from_xy([-2 * PLACE_SEARCH_M] * 5, [0] * 5)
    got = outreach_streets(far, hs, hotspot_ids=ids)["street"].tolist()
    assert got == ["High Street", "Supermarket", "Parking Area"]


# ------------------------------------------------------------------------------------------
# One naming for every table (hotspots.places.location_names)
# ------------------------------------------------------------------------------------------
# (location, easting, incidents, in the hotspot): a supermarket 40 m from Mill Lane and 100 m
# from High Street; two parking areas, each by a street of its own outside the hotspot.
SPOT = [
    ("On or near High Street", 0, 5, True),
    ("On or near Supermarket", 100, 3, True),
    ("On or near Mill Lane", 140, 1, True),
    ("On or near Parking Area", 1000, 2, True),
    ("On or near Parking Area", -1000, 2, True),
    ("No Location", 50, 1, True),
    ("On or near Ash Way", 1030, 1, False),
    ("On or near Bell Road", -1030, 1, False),
]
#: The hotspot's places by incidents (14 in all, one with no location), most first, ties by name.
SPOT_PLACES = [
    ("High Street", 5),
    ("Supermarket near Mill Lane", 3),
    ("Parking Area near Ash Way", 2),
    ("Parking Area near Bell Road", 2),
    ("Mill Lane", 1),
]


def _spot() -> tuple[gpd.GeoDataFrame, np.ndarray]:
    rows = [(loc, x, inside) for loc, x, n, inside in SPOT for _ in range(n)]
    frame = gpd.GeoDataFrame(
        {
            "month": pd.to_datetime(["2024-01-01"] * len(rows)),
            "category": ["Shoplifting"] * len(rows),
            "location": [r[0] for r in rows],
        },
        geometry=gpd.points_from_xy([r[1] for r in rows], [0.0] * len(rows)),
        crs="EPSG:27700",
    )
    return frame, np.array([0 if r[2] else -1 for r in rows])


def test_location_names_known_answer() -> None:
    """Each incident named once per map point: streets stripped, "No Location" missing, each
    place type after its own nearest street (two parking areas, two streets: two places)."""
    frame, _ = _spot()
    names = location_names(frame)
    assert isinstance(names.dtype, pd.CategoricalDtype)
    assert names.index.equals(frame.index)
    got = dict(zip(frame["location"] + " @" + frame.geometry.x.astype(str), names, strict=True))
    assert got == {
        "On or near High Street @0.0": "High Street",
        "On or near Supermarket @100.0": "Supermarket near Mill Lane",
        "On or near Mill Lane @140.0": "Mill Lane",
        "On or near Parking Area @1000.0": "Parking Area near Ash Way",
        "On or near Parking Area @-1000.0": "Parking Area near Bell Road",
        "No Location @50.0": got["No Location @50.0"],
        "On or near Ash Way @1030.0": "Ash Way",
        "On or near Bell Road @-1030.0": "Bell Road",
    }
    assert pd.isna(got["No Location @50.0"])
    codes, distinct = location_codes(frame)
    assert sorted(distinct) == sorted({n for n in names if isinstance(n, str)})
    assert (codes == -1).sum() == 1
    # a wrong-length list of names is refused, naming the argument
    with pytest.raises(ParameterError, match="locations"):
        location_codes(frame, names.iloc[1:])


def test_every_table_names_the_places_alike() -> None:
    """The hotspot's top_locations, its patrol points and its outreach streets name the
    supermarket "Supermarket near Mill Lane" with its exact count (and the two parking areas
    apart), whether the names are passed in once or each table names them itself."""
    frame, labels = _spot()
    hs_geom = {0: box(-1100, -50, 1100, 50)}
    names = location_names(frame)
    for given_names in (None, names):
        table, _ = profile_hotspots(
            frame, labels, hs_geom, study_area_km2=10.0, top_n=5, locations=given_names
        )
        assert table.loc[0, "top_locations"] == SPOT_PLACES
        ids = pd.Series(np.where(labels == 0, "H01", ""), index=frame.index)
        streets = outreach_streets(frame, table, hotspot_ids=ids, locations=given_names)
        assert list(zip(streets["street"], streets["incidents"], strict=True)) == SPOT_PLACES
        assert streets["share_of_hotspot"].tolist() == [n / 14 for _, n in SPOT_PLACES]
        points = patrol_points(frame, table, hotspot_ids=ids, locations=given_names, top_n=6)
        # ties by location: the point with no location ("") before Mill Lane
        assert list(zip(points["location"], points["incidents"], strict=True)) == [
            *SPOT_PLACES[:4],
            ("", 1),
            SPOT_PLACES[4],
        ]
        assert points["easting"].tolist() == [0.0, 100.0, 1000.0, -1000.0, 50.0, 140.0]


MIXED = ["On or near Supermarket", "High Street", "On or near Mill Lane", "Parking Area"]
MIXED += ["No Location", "", "Bus/coach Station"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(MIXED),
            st.integers(-6, 6),
            st.integers(-6, 6),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_location_names_are_the_nearest_street_by_brute_force(
    rows: list[tuple[str, int, int]],
) -> None:
    """Against a brute-force search: a street keeps its name, an empty location has none, a
    place type gains the name of the nearest street point within the search distance (ties:
    first in alphabetical order), or stays bare; one name per (position, location)."""
    step = PLACE_SEARCH_M / 4  # positions 125 m apart: some streets within reach, some not
    xy = np.array([[r[1] * step, r[2] * step] for r in rows], dtype=float)
    frame = gpd.GeoDataFrame(
        {"location": [r[0] for r in rows]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )
    got = location_names(frame).astype(object).where(lambda s: s.notna(), "").tolist()
    bare = street_names(frame["location"]).tolist()
    streets = [(b, p) for b, p in zip(bare, xy, strict=True) if b and not is_place_type(b)]
    for name, plain, (x, y) in zip(got, bare, xy, strict=True):
        if not is_place_type(plain):
            assert name == plain
            continue
        near = sorted(
            (round(float(np.hypot(x - px, y - py)), 6), s)
            for s, (px, py) in streets
            if np.hypot(x - px, y - py) <= PLACE_SEARCH_M
        )
        assert name == (f"{plain} near {near[0][1]}" if near else plain)


@pytest.mark.realdata
def test_real_waltham_forest_places_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the real Waltham Forest data the hotspot table names no bare place type ("Petrol
    Station 213" before): each is located by its nearest street, and the hotspot table, the
    patrol points and the outreach streets use the same words and counts."""
    folder = realdata_path("police-uk", "waltham-forest-api")
    wards = realdata_path("boundaries", "waltham_forest_wards_2018_wgs84.geojson")
    out = tmp_path / "wf"
    args = ["analyse", str(folder), "--wards", str(wards), "--out", str(out), "--no-backtest"]
    assert main([*args, "--quiet"]) == 0, capsys.readouterr().err
    hotspots = pd.read_csv(out / "hotspots.csv", keep_default_na=False)
    items = [
        item.rsplit(" ", 1)
        for cell in hotspots["top_locations"]
        for item in cell.split("; ")
        if cell
    ]
    assert not [name for name, _ in items if is_place_type(name)]
    located = [name for name, _ in items if " near " in name]
    assert len(located) >= 20 and all(is_place_type(n.split(" near ")[0]) for n in located)
    streets = pd.read_csv(out / "outreach.csv", keep_default_na=False)
    top = {
        hid: [f"{s} {n}" for s, n in zip(g["street"], g["incidents"], strict=True)][:3]
        for hid, g in streets.groupby("hotspot_id", sort=False)
    }
    for hid, cell in zip(hotspots["hotspot_id"], hotspots["top_locations"], strict=True):
        assert cell.split("; ") == top.get(hid, [""]), hid
    points = pd.read_csv(out / "patrol_points.csv", keep_default_na=False)
    assert not [n for n in points["location"] if is_place_type(n)]
    assert points["location"].str.contains(" near ").sum() >= 20
    # each hotspot's busiest map point is named as its outreach streets name it
    listed = streets.groupby("hotspot_id")["street"].agg(set)
    first = points[points["rank_in_hotspot"] == 1]
    for hid, name in zip(first["hotspot_id"], first["location"], strict=True):
        assert name in listed[hid], (hid, name)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_hotspots"] == len(hotspots)
