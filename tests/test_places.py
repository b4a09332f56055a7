"""police.uk place types ("Supermarket", "Parking Area") told apart from streets and located by
their nearest street, alone (hotspots.places) and in the outreach streets (hotspots.patrols)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import ParameterError
from hotspots.patrols import outreach_streets
from hotspots.places import PLACE_SEARCH_M, is_place_type, place_labels

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
