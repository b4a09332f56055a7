"""hotspots.overlay and .patrols: wards, ward table, patrol coverage, uncovered hotspots, streets.

The hand-worked layout (BNG metres, offsets from (537000, 189000)):

    y=1000 +---------------+-----------*---+      * corner (1000, 1000): 1 incident, noise
           |  West E..02   |  East E..01   |
           |  pop 2000     |  pop 500      |      wards: West box(0..1000), East box(1000..2000)
      500  |   3 @(500,500)2@(1000,500)     4@(1500,500), 1@(1500,900)     2@(3000,500) outside
           |               |               |
      0    +---------------+---------------+

Hotspots: H01 = the 5 incidents at x 1500 (footprint box(1300..1700, 300..950), in East only);
H02 = the 3 at (500,500) and the 2 on the shared edge (footprint box(400..1100, 400..600):
120,000 m² in West, 20,000 m² in East). Edge incidents go to East, the smaller ward code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geodata import SAMPLE_DIR, SAMPLE_PATROL_AREAS, SAMPLE_WARDS, load_sample_incidents
from geodata.layers import load_patrol_areas, load_wards, read_population
from hotspots import find_hotspots, read_incidents
from hotspots.errors import InputError, ParameterError
from hotspots.overlay import (
    _WARD_DTYPES,
    WARD_TABLE_COLUMNS,
    assign_wards,
    overlap_pairs,
    overlay_hotspots,
    ward_table,
)
from hotspots.patrols import (
    _OUTREACH_DTYPES,
    _PATROL_DTYPES,
    OUTREACH_COLUMNS,
    PATROL_TABLE_COLUMNS,
    coverage_share,
    outreach_streets,
    patrol_coverage,
    uncovered_hotspots,
)

from .conftest import realdata_path

BNG = "EPSG:27700"
X0, Y0 = 537_000.0, 189_000.0


def at(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def sq(x0: float, y0: float, x1: float, y1: float) -> object:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


# (x, y, location, hotspot id) per incident, in file order.
INCIDENTS = (
    [(500, 500, "On or near High Street", "H02")] * 3
    + [(1000, 500, "On or near Border Road", "H02")] * 2
    + [(1000, 1000, "On or near Corner Lane", "")]
    + [(1500, 500, "On or near Market Street", "H01")] * 3
    + [(1500, 500, "No Location", "H01")]
    + [(1500, 900, "On or near Parking Area", "H01")]
    + [(3000, 500, "On or near Far Road", "")] * 2
)


@pytest.fixture
def incidents(tmp_path: Path) -> gpd.GeoDataFrame:
    """13 incidents read from a BNG GeoPackage: 2 on the shared edge, 1 on the shared corner,
    2 outside both wards, 1 with "No Location"."""
    xs = [X0 + x for x, _, _, _ in INCIDENTS]
    ys = [Y0 + y for _, y, _, _ in INCIDENTS]
    frame = gpd.GeoDataFrame(
        {
            "Month": ["2024-01"] * len(INCIDENTS),
            "Crime type": ["Drugs"] * len(INCIDENTS),
            "Location": [loc for _, _, loc, _ in INCIDENTS],
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=BNG,
    )
    path = tmp_path / "incidents.gpkg"
    frame.to_file(path, layer="incidents")
    gdf, report = read_incidents(path)
    assert report.rows_used == len(INCIDENTS) and report.crs == BNG
    return gdf


@pytest.fixture
def hotspot_ids(incidents: gpd.GeoDataFrame) -> pd.Series:
    """The hand-assigned hotspot of each incident ("" for noise), as find_hotspots gives it."""
    return pd.Series([h for _, _, _, h in INCIDENTS], index=incidents.index, dtype="str")


@pytest.fixture
def hotspots() -> gpd.GeoDataFrame:
    """Two hotspot footprints: H01 inside East, H02 across the West/East edge (mostly West)."""
    return gpd.GeoDataFrame(
        {
            "hotspot_id": ["H01", "H02"],
            "rank": [1, 2],
            "incidents": [5, 5],
            "wards": ["", ""],
            "patrol_coverage": [np.nan, np.nan],
        },
        geometry=[sq(1300, 300, 1700, 950), sq(400, 400, 1100, 600)],
        crs=BNG,
    )


@pytest.fixture
def wards(tmp_path: Path) -> gpd.GeoDataFrame:
    """Two 1 km² wards sharing the edge x = 1000 (a BNG GeoPackage, ONS column names); the West
    ward has the larger code, so edge incidents go East."""
    frame = gpd.GeoDataFrame(
        {
            "WD22CD": ["E05000002", "E05000001"],
            "WD22NM": ["Westfield", "Eastgate"],
            "population": [2000, 500],
        },
        geometry=[sq(0, 0, 1000, 1000), sq(1000, 0, 2000, 1000)],
        crs=BNG,
    )
    path = tmp_path / "wards.gpkg"
    frame.to_file(path, layer="wards")
    out, notes = load_wards(path)
    assert notes == []
    return out


@pytest.fixture
def patrols(tmp_path: Path) -> gpd.GeoDataFrame:
    """Market (around H01), Border (around the shared edge: part of H02), Quiet (no incidents);
    written in WGS84, so reprojected on load."""
    frame = gpd.GeoDataFrame(
        {"name": ["Quiet Patrol", "Border Patrol", "Market Patrol"]},
        geometry=[sq(100, 800, 300, 950), sq(900, 400, 1100, 600), sq(1200, 200, 1800, 1000)],
        crs=BNG,
    ).to_crs("EPSG:4326")
    path = tmp_path / "patrols.geojson"
    frame.to_file(path)
    out, notes = load_patrol_areas(path)
    assert notes == []
    return out


# ---------------------------------------------------------------------------------- wards


def test_assign_wards_edges_go_to_the_smallest_code(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    """Edge and corner incidents land in East (E05000001) only; outside ones get ""."""
    codes = assign_wards(incidents, wards)
    assert codes.index.equals(incidents.index) and codes.dtype == "str"
    assert codes.tolist() == ["E05000002"] * 3 + ["E05000001"] * 8 + [""] * 2


def test_ward_table_by_hand(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """East: 8 incidents (2 edge + 1 corner + 5), 7 in hotspots; West: 3, all in H02."""
    result = ward_table(incidents, wards, hotspots=hotspots, hotspot_ids=hotspot_ids)
    table = result.table
    assert table.columns.tolist() == WARD_TABLE_COLUMNS
    expected = pd.DataFrame(
        {
            "ward_code": ["E05000001", "E05000002"],
            "ward_name": ["Eastgate", "Westfield"],
            "incidents": [8, 3],
            "area_km2": [1.0, 1.0],
            "incidents_per_km2": [8.0, 3.0],
            "population": [500.0, 2000.0],
            "incidents_per_1000": [16.0, 1.5],
            "hotspots": [["H01", "H02"], ["H02"]],
            "n_hotspots": [2, 1],
            "hotspot_incidents": [7, 3],
            "share_in_hotspots": [7 / 8, 1.0],
        }
    ).astype(_WARD_DTYPES)
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-9)
    assert (result.incidents_outside, result.incidents_total) == (2, 13)


def test_overlaps_found_once_give_the_same_wards_and_table(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """The hotspots' overlaps with the wards, found once (the pipeline's one search) for
    overlay_hotspots and ward_table, give what each finds on its own, with the hotspots' rows
    out of rank order."""
    backwards = hotspots.iloc[::-1]
    overlaps = overlap_pairs(backwards.geometry.to_numpy(), wards.geometry.to_numpy())
    assert sorted(overlaps[0].tolist()) == [0, 0, 1]  # H02 (row 0 now) in both wards
    shared = ward_table(
        incidents, wards, hotspots=backwards, hotspot_ids=hotspot_ids, overlaps=overlaps
    )
    alone = ward_table(incidents, wards, hotspots=backwards, hotspot_ids=hotspot_ids)
    pd.testing.assert_frame_equal(shared.table, alone.table)
    assert shared.table["hotspots"].tolist() == [["H01", "H02"], ["H02"]]  # rank order
    found = overlay_hotspots(
        backwards, incidents, hotspot_ids=hotspot_ids, wards=wards, overlaps=overlaps
    )
    assert found["wards"].tolist() == [["Westfield", "Eastgate"], ["Eastgate"]]


def test_ward_table_population_file_replaces_layer_figures(
    tmp_path: Path, incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    """A population CSV for West only: 3 incidents per 3,000 residents = 1.0 per 1,000."""
    path = tmp_path / "population.csv"
    path.write_text("ward_code,population\nE05000002,3000\nE09999999,1\n", encoding="utf-8")
    table = ward_table(incidents, wards, population=read_population(path)).table
    rates = dict(zip(table["ward_code"], table["incidents_per_1000"], strict=True))
    assert rates == {"E05000001": 16.0, "E05000002": 1.0}
    assert table["hotspots"].tolist() == [[], []] and table["hotspot_incidents"].tolist() == [0, 0]
    assert table["share_in_hotspots"].tolist() == [0.0, 0.0]


def test_ward_table_without_population_and_precomputed_codes(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    """No population anywhere: rates per 1,000 are NaN; given ward_codes give the same table."""
    bare = wards.drop(columns=["population"])
    codes = assign_wards(incidents, bare)
    table = ward_table(incidents, bare, ward_codes=codes).table
    assert table["population"].isna().all() and table["incidents_per_1000"].isna().all()
    pd.testing.assert_frame_equal(table, ward_table(incidents, bare).table)
    # as categories (what prepare() keeps), the same table; a code of no ward is an error
    as_categories = ward_table(incidents, bare, ward_codes=codes.astype("category")).table
    pd.testing.assert_frame_equal(as_categories, table)
    wrong = codes.where(codes != codes.iloc[0], "E09999999")
    with pytest.raises(ParameterError, match="'E09999999', not in wards"):
        ward_table(incidents, bare, ward_codes=wrong)
    unused = pd.Categorical(wrong, categories=["AAA_unused", *sorted(set(wrong))])
    with pytest.raises(ParameterError, match="'E09999999', not in wards"):  # not the unused one
        ward_table(incidents, bare, ward_codes=pd.Series(unused, index=codes.index))


def test_ward_table_needs_both_hotspot_inputs(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame
) -> None:
    """hotspots without hotspot_ids is a ParameterError naming both."""
    with pytest.raises(ParameterError, match="hotspots and hotspot_ids"):
        ward_table(incidents, wards, hotspots=hotspots)


# ---------------------------------------------------------------------------------- patrols


def test_patrol_coverage_by_hand(
    incidents: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """Market holds H01's 5; Border the 2 edge incidents of H02; Quiet none. 10 hotspot
    incidents in all."""
    table = patrol_coverage(incidents, patrols, hotspots=hotspots, hotspot_ids=hotspot_ids)
    assert table.columns.tolist() == PATROL_TABLE_COLUMNS
    expected = pd.DataFrame(
        {
            "patrol_area": ["Market Patrol", "Border Patrol", "Quiet Patrol"],
            "area_km2": [0.48, 0.04, 0.03],
            "incidents": [5, 2, 0],
            "hotspot_incidents": [5, 2, 0],
            "hotspots_touched": [1, 1, 0],
            "hotspots": [["H01"], ["H02"], []],
            "share_in_hotspots": [1.0, 1.0, np.nan],
            "share_of_hotspot_incidents": [0.5, 0.2, 0.0],
        }
    ).astype(_PATROL_DTYPES)
    # the layer went through WGS84, so areas match to about a square metre
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-4)
    assert coverage_share(incidents, patrols, hotspot_ids=hotspot_ids) == pytest.approx(0.7)


def test_patrol_areas_must_be_areas_each_named_once(
    incidents: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """A point at an incident would count it "inside" an area of 0 km²; two rows of one name
    would be two rows of the table: both refused, naming the row or the name."""
    point = patrols.copy()
    row = int(np.flatnonzero(point["patrol_area"] == "Border Patrol")[0])
    point.loc[point.index[row], "geometry"] = incidents.to_crs(point.crs).geometry.iloc[0]
    with pytest.raises(InputError, match=rf"row {row + 1} \('Border Patrol'\) is a Point, not"):
        patrol_coverage(incidents, point, hotspots=hotspots, hotspot_ids=hotspot_ids)
    twice = patrols.copy()
    twice.loc[twice["patrol_area"] == "Quiet Patrol", "patrol_area"] = "MARKET PATROL"
    with pytest.raises(InputError, match=r"(?i)the name 'market patrol' is given more than once"):
        coverage_share(incidents, twice, hotspot_ids=hotspot_ids)


def test_overlay_hotspots_wards_and_coverage(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """H02 overlaps West by 120,000 m² and East by 20,000 m²: "Westfield; Eastgate"."""
    before = hotspots.copy()
    out = overlay_hotspots(
        hotspots, incidents, hotspot_ids=hotspot_ids, wards=wards, patrol_areas=patrols
    )
    assert out["wards"].tolist() == [["Eastgate"], ["Westfield", "Eastgate"]]
    assert out["patrol_coverage"].tolist() == pytest.approx([1.0, 0.4])
    assert out.columns.tolist() == hotspots.columns.tolist()
    pd.testing.assert_frame_equal(hotspots, before)  # input untouched
    bare = overlay_hotspots(hotspots, incidents, hotspot_ids=hotspot_ids)
    assert bare["wards"].tolist() == [[], []] and bare["patrol_coverage"].isna().all()


def test_patrol_coverage_counts_hotspots_by_their_incidents(
    incidents: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame, hotspot_ids: pd.Series
) -> None:
    """An area over part of H02's outline (x 600-800) but none of its incidents (at x 500 and
    1000) does not cover it: the table and the uncovered list agree (both by incidents)."""
    brush = gpd.GeoDataFrame({"patrol_area": ["Brush"]}, geometry=[sq(600, 400, 800, 600)], crs=BNG)
    kw = {"hotspots": hotspots, "hotspot_ids": hotspot_ids}
    table = patrol_coverage(incidents, brush, **kw)
    assert table["hotspots_touched"].tolist() == [0] and table["hotspots"].tolist() == [[]]
    uncovered = uncovered_hotspots(hotspots, brush, hotspot_ids=hotspot_ids, incidents=incidents)
    assert uncovered["hotspot_id"].tolist() == ["H01", "H02"]
    both = gpd.GeoDataFrame(
        {"patrol_area": ["Both"]}, geometry=[sq(400, 400, 1600, 600)], crs=BNG
    )  # holds H02's 5 and H01's 4 at (1500, 500)
    table = patrol_coverage(incidents, both, **kw)
    assert table["hotspots"].tolist() == [["H01", "H02"]]  # rank order
    assert table["hotspots_touched"].tolist() == [2]


def test_uncovered_hotspots(
    incidents: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """H01 is fully covered, H02 40% (its edge incidents): uncovered only up to 0.4 and without
    the Border patrol."""
    kw = {"hotspot_ids": hotspot_ids, "incidents": incidents}
    assert uncovered_hotspots(hotspots, patrols, **kw).empty
    some = uncovered_hotspots(hotspots, patrols, max_coverage=0.4, **kw)
    assert some["hotspot_id"].tolist() == ["H02"] and some["patrol_coverage"].tolist() == [0.4]
    no_border = patrols[patrols["patrol_area"] != "Border Patrol"]
    out = uncovered_hotspots(hotspots, no_border, **kw)
    assert out["hotspot_id"].tolist() == ["H02"] and out["patrol_coverage"].tolist() == [0.0]
    reversed_rank = hotspots.iloc[::-1]
    both = uncovered_hotspots(reversed_rank, patrols.iloc[:0], **kw)
    assert both["hotspot_id"].tolist() == ["H01", "H02"]  # rank order, not row order
    with pytest.raises(ParameterError, match="max_coverage"):
        uncovered_hotspots(hotspots, patrols, max_coverage=1.5, **kw)


def test_outreach_streets_ranking(
    incidents: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame, hotspot_ids: pd.Series
) -> None:
    """H01: Market Street 3 of 5, Parking Area 1 ("No Location" skipped), named after its
    nearest street; H02: High Street 3, Border Road 2."""
    table = outreach_streets(incidents, hotspots, hotspot_ids=hotspot_ids)
    expected = pd.DataFrame(
        {
            "hotspot_id": ["H01", "H01", "H02", "H02"],
            "rank_in_hotspot": [1, 2, 1, 2],
            "street": [
                "Market Street",
                "Parking Area near Market Street",
                "High Street",
                "Border Road",
            ],
            "incidents": [3, 1, 3, 2],
            "share_of_hotspot": [0.6, 0.2, 0.6, 0.4],
        }
    ).astype(_OUTREACH_DTYPES)
    pd.testing.assert_frame_equal(table, expected)
    top1 = outreach_streets(incidents, hotspots.iloc[[1]], hotspot_ids=hotspot_ids, top_n=1)
    assert top1[["hotspot_id", "street"]].values.tolist() == [["H02", "High Street"]]
    with pytest.raises(ParameterError, match="top_n"):
        outreach_streets(incidents, hotspots, hotspot_ids=hotspot_ids, top_n=0)


def test_outreach_streets_ties_by_name(tmp_path: Path) -> None:
    """Two streets with 2 incidents each: alphabetical order breaks the tie."""
    pts = gpd.GeoDataFrame(
        {"location": ["On or near Zeta Road", "On or near Alpha Road"] * 2},
        geometry=[Point(at(0, 0))] * 4,
        crs=BNG,
    )
    hs = gpd.GeoDataFrame({"hotspot_id": ["H01"]}, geometry=[sq(-10, -10, 10, 10)], crs=BNG)
    table = outreach_streets(pts, hs, hotspot_ids=pd.Series(["H01"] * 4))
    assert table["street"].tolist() == ["Alpha Road", "Zeta Road"]
    assert table["rank_in_hotspot"].tolist() == [1, 2]


# ---------------------------------------------------------------------------------- contracts


def test_empty_inputs_keep_columns_and_dtypes(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """No incidents, no hotspots, no wards: same columns and dtypes as with data."""
    none = incidents.iloc[:0]
    no_ids = hotspot_ids.iloc[:0]
    no_hs = hotspots.iloc[:0]
    full_w = ward_table(incidents, wards, hotspots=hotspots, hotspot_ids=hotspot_ids).table
    cases = [
        (full_w, ward_table(none, wards, hotspots=no_hs, hotspot_ids=no_ids).table),
        (full_w, ward_table(incidents, wards.iloc[:0]).table),
        (
            patrol_coverage(incidents, patrols, hotspots=hotspots, hotspot_ids=hotspot_ids),
            patrol_coverage(none, patrols.iloc[:0], hotspots=no_hs, hotspot_ids=no_ids),
        ),
        (
            outreach_streets(incidents, hotspots, hotspot_ids=hotspot_ids),
            outreach_streets(none, no_hs, hotspot_ids=no_ids),
        ),
    ]
    for full, empty in cases:
        assert empty.dtypes.to_dict() == full.dtypes.to_dict()
    assert ward_table(none, wards).table["incidents"].tolist() == [0, 0]
    assert assign_wards(none, wards).dtype == "str"
    assert uncovered_hotspots(no_hs, patrols, hotspot_ids=no_ids, incidents=none).empty
    out = overlay_hotspots(no_hs, none, hotspot_ids=no_ids, wards=wards, patrol_areas=patrols)
    assert out.columns.tolist() == hotspots.columns.tolist() and out.empty
    assert math.isnan(coverage_share(none, patrols, hotspot_ids=no_ids))


def test_column_constants_match_dtypes() -> None:
    """The published column lists and the dtype tables agree."""
    assert list(_WARD_DTYPES) == WARD_TABLE_COLUMNS
    assert list(_PATROL_DTYPES) == PATROL_TABLE_COLUMNS
    assert list(_OUTREACH_DTYPES) == OUTREACH_COLUMNS


def test_layers_in_another_crs_are_reprojected(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    """Wards given in WGS84 give the same assignment as in BNG."""
    codes = assign_wards(incidents, wards.to_crs("EPSG:4326"))
    inner = [0, 1, 2, 6, 7, 8, 9, 10, 11, 12]  # leave out edge points, moved by rounding
    assert codes.iloc[inner].tolist() == assign_wards(incidents, wards).iloc[inner].tolist()


def test_bad_arguments(
    incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, hotspot_ids: pd.Series
) -> None:
    """Lon/lat incidents, wards without ward_code, duplicate codes, misaligned hotspot_ids."""
    with pytest.raises(InputError, match="metres"):
        assign_wards(incidents.to_crs("EPSG:4326"), wards)
    with pytest.raises(ParameterError, match="'ward_code'"):
        assign_wards(incidents, wards.drop(columns="ward_code"))
    doubled = pd.concat([wards, wards])
    with pytest.raises(ParameterError, match="more than once"):
        ward_table(incidents, doubled)
    with pytest.raises(ParameterError, match="hotspot_ids"):
        coverage_share(
            incidents,
            wards.rename(columns={"ward_code": "patrol_area"}),
            hotspot_ids=hotspot_ids.iloc[1:],
        )


def test_inputs_not_mutated(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    patrols: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    hotspot_ids: pd.Series,
) -> None:
    """Every function leaves its frames as they were."""
    copies = [f.copy() for f in (incidents, wards, patrols, hotspots)]
    ids = hotspot_ids.copy()
    ward_table(incidents, wards, hotspots=hotspots, hotspot_ids=hotspot_ids)
    patrol_coverage(incidents, patrols, hotspots=hotspots, hotspot_ids=hotspot_ids)
    uncovered_hotspots(hotspots, patrols, hotspot_ids=hotspot_ids, incidents=incidents)
    outreach_streets(incidents, hotspots, hotspot_ids=hotspot_ids)
    overlay_hotspots(
        hotspots, incidents, hotspot_ids=hotspot_ids, wards=wards, patrol_areas=patrols
    )
    for before, after in zip(copies, (incidents, wards, patrols, hotspots), strict=True):
        pd.testing.assert_frame_equal(before, after)
    pd.testing.assert_series_equal(ids, hotspot_ids)


# ---------------------------------------------------------------------------------- invariants


@st.composite
def grid_case(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Wards tiling some cells of a grid of 100 m squares (gaps allowed), codes shuffled; points
    on integer coordinates, so many lie exactly on edges and corners."""
    nx = draw(st.integers(1, 4))
    ny = draw(st.integers(1, 3))
    cells = [(i, j) for i in range(nx) for j in range(ny)]
    kept = draw(st.lists(st.sampled_from(cells), min_size=1, unique=True))
    codes = draw(st.permutations([f"E05{k:06d}" for k in range(len(kept))]))
    wards = gpd.GeoDataFrame(
        {"ward_code": codes},
        geometry=[sq(100 * i, 100 * j, 100 * (i + 1), 100 * (j + 1)) for i, j in kept],
        crs=BNG,
    )
    coords = draw(
        st.lists(
            st.tuples(
                st.integers(-50, 100 * nx + 50).map(lambda v: v - v % 25),
                st.integers(-50, 100 * ny + 50).map(lambda v: v - v % 25),
            ),
            max_size=60,
        )
    )
    pts = gpd.GeoDataFrame(
        geometry=[Point(at(x, y)) for x, y in coords] or gpd.GeoSeries([], crs=BNG), crs=BNG
    )
    return pts, wards


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_case())
def test_each_incident_in_at_most_one_ward(case: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    """Assigned ward covers the point and is the smallest code of those that do; counts add up."""
    pts, wards = case
    codes = assign_wards(pts, wards)
    assert len(codes) == len(pts)
    for point, code in zip(pts.geometry, codes, strict=True):
        covering = sorted(wards.loc[wards.intersects(point), "ward_code"])
        assert code == (covering[0] if covering else "")
    result = ward_table(pts, wards)
    table = result.table
    outside = int((codes == "").sum())
    assert table["incidents"].sum() == len(pts) - outside
    assert result.incidents_outside == outside
    assert len(table) == len(wards) and table["ward_code"].is_unique


# ---------------------------------------------------------------------------------- demo, real


def test_demo_uncovered_hotspots_match_truth() -> None:
    """The demo's planted hotspots outside every patrol area are found uncovered (defaults)."""
    incidents, _ = load_sample_incidents()
    wards, _ = load_wards(SAMPLE_WARDS, incidents=incidents)
    patrols, _ = load_patrol_areas(SAMPLE_PATROL_AREAS, incidents=incidents)
    result = find_hotspots(incidents)
    ids = result.hotspot_ids
    uncovered = uncovered_hotspots(result.hotspots, patrols, hotspot_ids=ids, incidents=incidents)
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text(encoding="utf-8"))
    planted = {h["key"]: h for h in truth["hotspots"]}
    centres = gpd.GeoSeries(
        [Point(planted[k]["centre_lonlat"]) for k in truth["patrol_areas"]["uncovered_hotspots"]],
        crs="EPSG:4326",
    ).to_crs(BNG)
    # outlines hug the map points, so a planted centre lies in (or beside) its hotspot
    nearest = [result.hotspots.distance(c).idxmin() for c in centres]
    for centre, at in zip(centres, nearest, strict=True):
        assert result.hotspots.distance(centre)[at] < 50
        assert result.hotspots.loc[at, "hotspot_id"] in set(uncovered["hotspot_id"])
    covered = gpd.GeoSeries(
        [Point(planted[k]["centre_lonlat"]) for k in truth["patrol_areas"]["covered_hotspots"]],
        crs="EPSG:4326",
    ).to_crs(BNG)
    for centre in covered:
        at = result.hotspots.distance(centre).idxmin()
        assert result.hotspots.loc[at, "hotspot_id"] not in set(uncovered["hotspot_id"])
    table = ward_table(incidents, wards, hotspots=result.hotspots, hotspot_ids=ids)
    assert table.table["incidents"].sum() + table.incidents_outside == len(incidents)
    streets = outreach_streets(incidents, uncovered, hotspot_ids=ids)
    assert set(streets["hotspot_id"]) == set(uncovered["hotspot_id"])


@pytest.mark.realdata
def test_real_waltham_forest_wards_match_plain_sjoin() -> None:
    """Waltham Forest API crimes over its 20 wards: counts equal a geopandas sjoin
    (intersects, an edge crime to the smallest code); every crime in one ward or outside."""
    incidents, report = read_incidents(realdata_path("police-uk", "waltham-forest-api"))
    london, _ = load_wards(realdata_path("boundaries", "london_wards_2018_bng.gpkg"))
    codes = [f"E05000{n}" for n in range(590, 610)]
    wf = london[london["ward_code"].isin(codes)].reset_index(drop=True)
    assert len(wf) == 20

    assigned = assign_wards(incidents, wf)
    joined = gpd.sjoin(
        incidents[["geometry"]], wf[["ward_code", "geometry"]], predicate="intersects", how="left"
    )
    first = (
        joined["ward_code"]
        .fillna("")
        .groupby(level=0)
        .agg(lambda s: min((c for c in s if c), default=""))
    )
    assert assigned.tolist() == first.reindex(incidents.index).tolist()

    result = ward_table(incidents, wf)
    table, outside = result.table, result.incidents_outside
    assert table["incidents"].sum() + outside == len(incidents) == report.rows_used
    assert outside == int((assigned == "").sum())
    assert outside < 0.01 * len(incidents)  # the API was queried ward by ward
    assert (table["incidents"] > 0).all()


@pytest.mark.realdata
def test_real_waltham_forest_geojson_wards_same_counts() -> None:
    """The WGS84 GeoJSON wards, reprojected, give nearly the same ward counts as the BNG GPKG."""
    incidents, _ = read_incidents(realdata_path("police-uk", "waltham-forest-api"))
    geo, _ = load_wards(
        realdata_path("boundaries", "waltham_forest_wards_2018_wgs84.geojson"), incidents=incidents
    )
    london, _ = load_wards(realdata_path("boundaries", "london_wards_2018_bng.gpkg"))
    bng = london[london["ward_code"].isin(geo["ward_code"])]
    a = ward_table(incidents, geo).table.set_index("ward_code")["incidents"]
    b = ward_table(incidents, bng).table.set_index("ward_code")["incidents"]
    assert (a - b.reindex(a.index)).abs().sum() <= 0.001 * len(incidents)


def test_patrol_points_are_each_hotspots_busiest_map_points() -> None:
    """Per hotspot in rank order: map points by incidents, the point's most frequent label."""
    from hotspots.patrols import PATROL_POINT_COLUMNS, patrol_points

    rows = [
        ((1000.0, 1000.0), "On or near High Road", "H02", 4),
        ((1000.0, 1000.0), "On or near Supermarket", "H02", 1),  # same point, rarer label
        ((1040.0, 1000.0), "On or near Mill Lane", "H02", 2),
        ((5000.0, 5000.0), "On or near Station Road", "H01", 3),
        ((9000.0, 9000.0), "On or near Far Street", "", 9),  # noise: not listed
    ]
    xs, ys, locs, ids = [], [], [], []
    for (x, y), loc, hid, n in rows:
        xs += [530_000 + x] * n  # in London, where the grid's transform is exact
        ys += [180_000 + y] * n
        locs += [loc] * n
        ids += [hid] * n
    incidents = gpd.GeoDataFrame(
        {"location": locs}, geometry=gpd.points_from_xy(xs, ys), crs="EPSG:27700"
    )
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H01", "H02"], "rank": [1, 2]}, geometry=[None, None], crs="EPSG:27700"
    )
    table = patrol_points(incidents, hotspots, hotspot_ids=pd.Series(ids), top_n=5)
    assert list(table.columns) == PATROL_POINT_COLUMNS
    assert table[["hotspot_id", "rank_in_hotspot", "location", "incidents"]].values.tolist() == [
        ["H01", 1, "Station Road", 3],
        ["H02", 1, "High Road", 5],
        ["H02", 2, "Mill Lane", 2],
    ]
    assert table["share_of_hotspot"].tolist() == pytest.approx([1.0, 5 / 7, 2 / 7])
    back = gpd.GeoSeries(
        gpd.points_from_xy(table["longitude"], table["latitude"]), crs="EPSG:4326"
    ).to_crs("EPSG:27700")
    assert back.x.tolist() == pytest.approx(table["easting"].tolist(), abs=0.01)
    one = patrol_points(incidents, hotspots, hotspot_ids=pd.Series(ids), top_n=1)
    assert one["location"].tolist() == ["Station Road", "High Road"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),  # map point
            st.sampled_from(["On or near A Road", "On or near B Road", "No Location", ""]),
            st.sampled_from(["H01", "H02", ""]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 3),
)
def test_patrol_points_equal_a_plain_groupby(rows: list[tuple[int, str, str]], top_n: int) -> None:
    """The coded, factorized computation equals the rule written plainly with Python dicts."""
    from hotspots.patrols import patrol_points

    xs = [530_000.0 + 40 * p for p, _, _ in rows]
    incidents = gpd.GeoDataFrame(
        {"location": pd.Series([loc for _, loc, _ in rows], dtype="str")},
        geometry=gpd.points_from_xy(xs, [180_000.0] * len(rows)),
        crs="EPSG:27700",
    )
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H01", "H02"], "rank": [1, 2]}, geometry=[None, None], crs="EPSG:27700"
    )
    ids = pd.Series([h for _, _, h in rows])
    got = patrol_points(incidents, hotspots, hotspot_ids=ids, top_n=top_n)
    want = []
    for hid in ("H01", "H02"):
        mine = [(x, loc) for x, (_, loc, h) in zip(xs, rows, strict=True) if h == hid]
        per_point: dict[float, list[str]] = {}
        for x, loc in mine:
            street = loc.removeprefix("On or near ").strip()
            per_point.setdefault(x, []).append("" if street == "No Location" else street)
        listed = []
        for x, streets in per_point.items():
            named = sorted({s for s in streets if s}, key=lambda s: (-streets.count(s), s))
            listed.append((len(streets), named[0] if named else "", x))
        listed.sort(key=lambda t: (-t[0], t[1], t[2]))
        want += [[hid, r + 1, loc, n, x] for r, (n, loc, x) in enumerate(listed[:top_n])]
    cols = ["hotspot_id", "rank_in_hotspot", "location", "incidents", "easting"]
    assert got[cols].values.tolist() == want


def test_hotspot_ids_are_categories_and_cleaned_once_per_distinct_id() -> None:
    """find_hotspots gives codes, not a string per incident; the overlays' reading of any
    hotspot_ids (categories, text, objects with gaps) gives the same stripped ids."""
    from hotspots.overlay import check_hotspot_ids, hotspot_id_codes

    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([0.0, 1.0, 2.0, 3.0], [0.0] * 4), crs="EPSG:27700"
    )
    given = pd.Series([" H01", "H01", None, 7], dtype=object)
    codes, names = hotspot_id_codes(given, pts)
    assert names[codes].tolist() == ["H01", "H01", "", "7"]
    assert len(set(names.tolist())) == len(names)  # " H01" and "H01" are one id
    as_text = pd.Series(["H02", "", "H02", "H01"], dtype="str")
    as_categories = as_text.astype("category")
    assert (
        check_hotspot_ids(as_text, pts).tolist() == check_hotspot_ids(as_categories, pts).tolist()
    )

    sample, _ = load_sample_incidents()
    ids = find_hotspots(sample).hotspot_ids
    assert isinstance(ids.dtype, pd.CategoricalDtype)
    assert "" in ids.cat.categories and list(ids.cat.categories) == sorted(ids.cat.categories)
    assert (ids == "H001").sum() > 0 and (ids == "").sum() > 0


def test_a_citys_patrol_points_and_streets_equal_the_plain_rule() -> None:
    """On a city-sized frame (its map-point codes kept, as after reading) the patrol points
    and outreach streets are the rule written plainly: each hotspot's map points by incidents
    (ties by name, then position), named by their most frequent street (ties by name); its
    streets by incidents (ties by name)."""
    from hotspots._points import incident_xy, kept_point_codes, unique_points
    from hotspots.patrols import patrol_points

    rng = np.random.default_rng(4)
    n = 12_000
    point = rng.integers(0, 300, n)
    streets = np.array(
        ["On or near A Road", "On or near B Road", "No Location", "", "On or near C"]
    )
    loc = streets[rng.integers(0, len(streets), n)]
    hot = np.array(["H01", "H02", "H03", ""])[np.minimum(point // 60, 3)]
    hot[rng.random(n) < 0.05] = ""
    xs = 530_000.0 + 10.0 * (point % 30)
    ys = 180_000.0 + 10.0 * (point // 30)
    incidents = gpd.GeoDataFrame(
        {"location": pd.Series(loc, dtype="str")},
        geometry=gpd.points_from_xy(xs, ys),
        crs="EPSG:27700",
    )
    unique_points(incident_xy(incidents))
    assert kept_point_codes(incident_xy(incidents)) is not None
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H01", "H02", "H03"], "rank": [1, 2, 3]},
        geometry=[None] * 3,
        crs="EPSG:27700",
    )
    ids = pd.Series(hot)
    got = patrol_points(incidents, hotspots, hotspot_ids=ids, top_n=4)
    got_streets = outreach_streets(incidents, hotspots, hotspot_ids=ids, top_n=2)
    want, want_streets = [], []
    for hid in ("H01", "H02", "H03"):
        mine = hot == hid
        named = [s.removeprefix("On or near ").strip() for s in loc[mine]]
        named = ["" if s == "No Location" else s for s in named]
        per_point: dict[tuple[float, float], list[str]] = {}
        for x, y, s in zip(xs[mine], ys[mine], named, strict=True):
            per_point.setdefault((x, y), []).append(s)
        listed = []
        for (x, y), names in per_point.items():
            top = sorted({s for s in names if s}, key=lambda s: (-names.count(s), s))
            listed.append((len(names), top[0] if top else "", x, y))
        listed.sort(key=lambda t: (-t[0], t[1], t[2], t[3]))
        want += [[hid, r + 1, s, k, x, y] for r, (k, s, x, y) in enumerate(listed[:4])]
        by_street = sorted({s for s in named if s}, key=lambda s: (-named.count(s), s))
        want_streets += [[hid, r + 1, s, named.count(s)] for r, s in enumerate(by_street[:2])]
    cols = ["hotspot_id", "rank_in_hotspot", "location", "incidents", "easting", "northing"]
    assert got[cols].values.tolist() == want
    cols = ["hotspot_id", "rank_in_hotspot", "street", "incidents"]
    assert got_streets[cols].values.tolist() == want_streets


@pytest.mark.parametrize(
    ("names", "points", "streets"),
    [
        # numbers as names, one point unnamed: ties by name as pandas sorts them
        (
            [10, 9, None, 10, 9, 9, None],
            [["9", 2, 0.0], ["9", 2, 2.0], ["10", 2, 1.0]],
            [["9", 3], ["10", 2]],
        ),
        # numbers and text together: numbers first
        (
            [10, "A", None, 10, "A", "A", None],
            [["10", 2, 0.0], ["10", 2, 1.0], ["A", 2, 2.0]],
            [["A", 3], ["10", 2]],
        ),
    ],
)
def test_patrol_points_and_streets_of_names_that_are_not_all_text(
    names: list[object], points: list[list[object]], streets: list[list[object]]
) -> None:
    """Place names given as numbers, or numbers and text mixed, are ranked as a pandas sort
    of them ranks them (as before the tables were counted by codes), not refused."""
    from hotspots.patrols import patrol_points

    incidents = gpd.GeoDataFrame(
        {"location": ["x"] * 7},
        geometry=gpd.points_from_xy([0, 0, 1, 1, 2, 2, 3], [0] * 7),
        crs="EPSG:27700",
    )
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H01"], "rank": [1]}, geometry=[None], crs="EPSG:27700"
    )
    ids, locations = pd.Series(["H01"] * 7), pd.Series(names, dtype=object)
    got = patrol_points(incidents, hotspots, hotspot_ids=ids, top_n=3, locations=locations)
    assert got[["location", "incidents", "easting"]].values.tolist() == points
    got = outreach_streets(incidents, hotspots, hotspot_ids=ids, locations=locations)
    assert got[["street", "incidents"]].values.tolist() == streets


def test_patrol_points_read_only_the_hotspots_rows() -> None:
    """A row outside every hotspot may be any geometry or none: only the hotspots' rows are
    read. A city's frame with missing coordinates is refused, never counted on a wrong
    point."""
    from shapely.geometry import Polygon

    from hotspots._points import incident_xy, kept_point_codes, unique_points
    from hotspots.patrols import patrol_points

    geoms = [Point(0, 0), Point(1, 0), Polygon([(5, 5), (6, 5), (6, 6)]), None, Point()]
    incidents = gpd.GeoDataFrame({"location": ["On or near A"] * 5}, geometry=geoms, crs=27700)
    hotspots = gpd.GeoDataFrame(
        {"hotspot_id": ["H01"], "rank": [1]}, geometry=[None], crs="EPSG:27700"
    )
    ids = pd.Series(["H01", "H01", "", "", ""])
    got = patrol_points(incidents, hotspots, hotspot_ids=ids)
    assert got[["location", "incidents", "easting"]].values.tolist() == [
        ["A", 1, 0.0],
        ["A", 1, 1.0],
    ]

    rng = np.random.default_rng(0)
    spot = rng.integers(0, 50, 12_000)
    xs, ys = 530_000.0 + 10 * (spot % 7), 180_000.0 + 10 * (spot // 7)
    xs[:5] = np.nan
    city = gpd.GeoDataFrame(
        {"location": ["On or near A"] * len(xs)}, geometry=gpd.points_from_xy(xs, ys), crs=27700
    )
    with pytest.raises(ValueError):
        unique_points(incident_xy(city))
    assert kept_point_codes(incident_xy(city)) is None  # no codes kept for missing points
    with pytest.raises(ValueError):
        patrol_points(city, hotspots, hotspot_ids=pd.Series(["H01"] * len(xs)))


@settings(max_examples=60, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(
            st.integers(-50, 1950), st.integers(-50, 1950), st.integers(1, 400), st.integers(1, 400)
        ),
        max_size=12,
    )
)
def test_overlap_pairs_equal_every_pair_cut(boxes: list[tuple[int, int, int, int]]) -> None:
    """Footprints wholly inside a ward take their own area, the others are cut: the same
    pairs and areas as cutting every footprint with every ward."""
    wards = np.array([sq(x, y, x + 500, y + 500) for x in range(0, 2000, 500) for y in (0, 500)])
    footprints = np.array([sq(x, y, x + w, y + h) for x, y, w, h in boxes], dtype=object)
    fp, poly, area = overlap_pairs(footprints, wards)
    plain = {
        (i, j): shapely.area(shapely.intersection(f, w))
        for i, f in enumerate(footprints)
        for j, w in enumerate(wards)
        if shapely.area(shapely.intersection(f, w)) > 0
    }
    found = {(int(i), int(j)): float(a) for i, j, a in zip(fp, poly, area, strict=True)}
    assert found.keys() == plain.keys()
    assert all(found[k] == pytest.approx(plain[k], rel=1e-9) for k in plain)
