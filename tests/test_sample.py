"""The bundled synthetic demo borough (geodata/sample/): deterministic, and true to truth.json.

Reads the committed files with pandas, zipfile and json only (not the library readers), so these
tests pin the sample itself.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "geodata" / "sample"
ZIP = SAMPLE / "demo-borough-street.zip"
FILES = [
    "README.md",
    "demo-borough-street.zip",
    "demo_borough.geojson",
    "demo_patrol_areas.geojson",
    "demo_wards.geojson",
    "truth.json",
]
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context"
)
CRIME_TYPES = {
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
}
FORCE = "Demo Borough Police (synthetic)"
ASB = "Anti-social behaviour"


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    """The planted truth written next to the sample."""
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """Every row of every monthly CSV in the zip, as strings (empty cells stay "")."""
    with zipfile.ZipFile(ZIP) as zf:
        frames = [
            pd.read_csv(zf.open(name), dtype=str, keep_default_na=False).assign(member=name)
            for name in zf.namelist()
        ]
    return pd.concat(frames, ignore_index=True)


def _to_metres(truth: dict[str, Any]) -> Any:
    """lon/lat -> metres in the generator's local plane (recorded in truth.json)."""
    plane = truth["local_plane"]
    (lon0, lat0), mx, my = (
        plane["origin_lonlat"],
        plane["metres_per_degree_lon"],
        plane["metres_per_degree_lat"],
    )
    return lambda lon, lat, z=None: ((lon - lon0) * mx, (lat - lat0) * my)


@pytest.fixture(scope="module")
def located(rows: pd.DataFrame, truth: dict[str, Any]) -> pd.DataFrame:
    """Rows with coordinates, with local x/y metres and the distance to the corridor line."""
    df = rows[rows["Longitude"] != ""].copy()
    to_m = _to_metres(truth)
    df["x"], df["y"] = to_m(df["Longitude"].astype(float), df["Latitude"].astype(float))
    line = LineString([to_m(lon, lat) for lon, lat in truth["corridor"]["line_lonlat"]])
    df["corridor_m"] = shapely.distance(line, shapely.points(df["x"], df["y"]))
    return df


def _layer(name: str, truth: dict[str, Any]) -> list[tuple[dict[str, Any], BaseGeometry]]:
    """(properties, geometry in local metres) for each feature of a sample GeoJSON file."""
    collection = json.loads((SAMPLE / name).read_text(encoding="utf-8"))
    plane = truth["local_plane"]
    origin = plane["origin_lonlat"]
    scale = [plane["metres_per_degree_lon"], plane["metres_per_degree_lat"]]
    return [
        (f["properties"], shapely.transform(shape(f["geometry"]), lambda c: (c - origin) * scale))
        for f in collection["features"]
    ]


# ------------------------------------------------------------------------------------------
# Determinism and files
# ------------------------------------------------------------------------------------------


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    """`python -m geodata.make_sample --out DIR` reproduces every committed file byte for byte."""
    subprocess.run(
        [sys.executable, "-m", "geodata.make_sample", "--out", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES
    for name in FILES:
        if name.endswith(".zip"):
            # Say which member differs before comparing the compressed bytes.
            with zipfile.ZipFile(tmp_path / name) as new, zipfile.ZipFile(SAMPLE / name) as old:
                assert new.namelist() == old.namelist()
                for member in old.namelist():
                    assert new.read(member) == old.read(member), member
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_zip_is_a_monthly_police_uk_download(truth: dict[str, Any]) -> None:
    """36 deflated members YYYY-MM/YYYY-MM-demo-borough-street.csv, exact header, < 5 MB."""
    assert ZIP.stat().st_size < 5_000_000
    months = pd.period_range(truth["months"]["first"], truth["months"]["last"], freq="M")
    assert len(months) == truth["months"]["count"] == 36
    with zipfile.ZipFile(ZIP) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [f"{m}/{m}-demo-borough-street.csv" for m in months]
        for info in infos:
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == infos[0].date_time
            text = zf.read(info).decode("utf-8")
            assert text.split("\n", 1)[0] == HEADER
            assert "\r" not in text
            month = info.filename[:7]
            assert set(pd.read_csv(zf.open(info), dtype=str)["Month"]) == {month}


def test_about_2500_rows_a_month(rows: pd.DataFrame) -> None:
    per_month = rows.groupby("Month").size()
    assert len(per_month) == 36
    assert 2_350 <= per_month.mean() <= 2_650
    assert per_month.min() > 2_000
    assert per_month.max() < 3_000
    assert per_month.std() > 30  # mild seasonality and noise, not a constant


def test_all_14_crime_types_in_realistic_proportions(rows: pd.DataFrame) -> None:
    share = rows["Crime type"].value_counts(normalize=True)
    assert set(share.index) == CRIME_TYPES
    assert share.index[0] == "Violence and sexual offences"
    assert share.index[1] == ASB
    assert 0.27 <= share["Violence and sexual offences"] <= 0.33
    assert 0.15 <= share[ASB] <= 0.21
    assert share.min() > 0.003


def test_columns_as_published(rows: pd.DataFrame) -> None:
    assert list(rows.columns[:-1]) == HEADER.split(",")
    assert set(rows["Reported by"]) == {FORCE}
    assert set(rows["Falls within"]) == {FORCE}
    assert set(rows["Context"]) == {""}
    has_xy = rows["Longitude"] != ""
    assert rows.loc[has_xy, "Longitude"].str.fullmatch(r"-?0\.\d{6}").all()
    assert rows.loc[has_xy, "Latitude"].str.fullmatch(r"51\.\d{6}").all()
    assert rows.loc[has_xy, "Location"].str.startswith("On or near ").all()
    assert rows.loc[has_xy, "LSOA code"].str.fullmatch(r"E01999\d{3}").all()
    assert rows.loc[has_xy, "LSOA name"].str.fullmatch(r"Demo Borough \d{3}[A-Z]").all()
    assert rows.loc[has_xy].groupby("LSOA code")["LSOA name"].nunique().eq(1).all()
    assert 30 <= rows["LSOA code"].nunique() - 1 <= 80  # "a few dozen", minus the empty code


def test_some_rows_have_no_location(rows: pd.DataFrame) -> None:
    """About 1% of rows: empty coordinates and LSOA, "No Location", as in the real files."""
    none = rows[rows["Longitude"] == ""]
    assert 0.005 <= len(none) / len(rows) <= 0.02
    assert (none["Latitude"] == "").all()
    assert set(none["Location"]) == {"No Location"}
    assert set(none["LSOA code"]) == set(none["LSOA name"]) == {""}


def test_crime_ids_empty_for_asb_else_unique_sha256(rows: pd.DataFrame) -> None:
    asb = rows["Crime type"] == ASB
    assert (rows.loc[asb, "Crime ID"] == "").all()
    assert (rows.loc[asb, "Last outcome category"] == "").all()
    ids = rows.loc[~asb, "Crime ID"]
    assert ids.str.fullmatch(r"[0-9a-f]{64}").all()
    assert ids.is_unique
    outcomes = rows.loc[~asb, "Last outcome category"]
    assert (outcomes != "").all()
    assert {"Investigation complete; no suspect identified", "Under investigation"} <= set(outcomes)


def test_snapped_to_a_few_thousand_map_points_on_streets(located: pd.DataFrame) -> None:
    points = located.groupby(["Longitude", "Latitude"])["Location"].agg(["nunique", "first"])
    assert 2_000 <= len(points) <= 6_000
    assert (points["nunique"] == 1).all()  # a map point has one published location
    per_street = points.groupby("first").size()
    assert per_street.median() >= 3  # several map points per street
    assert per_street["On or near St James Street"] >= 10
    counts = located.groupby(["Longitude", "Latitude"]).size()
    assert counts.max() >= 100  # many incidents share one map point
    lon, lat = located["Longitude"].astype(float), located["Latitude"].astype(float)
    assert lon.between(-0.07, 0.04).all()
    assert lat.between(51.54, 51.66).all()


# ------------------------------------------------------------------------------------------
# The planted truth is in the data
# ------------------------------------------------------------------------------------------


def _violence_per_month(located: pd.DataFrame, truth: dict[str, Any], zone: pd.Series) -> Any:
    corridor = truth["corridor"]
    violent = located["Crime type"].isin(corridor["violence_types"]) & zone
    months = located.loc[violent, "Month"]
    (b0, b1), (a0, a1) = corridor["periods"]["before"], corridor["periods"]["after"]
    n_before = len(pd.period_range(b0, b1, freq="M"))
    n_after = len(pd.period_range(a0, a1, freq="M"))
    before = months.between(b0, b1).sum() / n_before
    after = months.between(a0, a1).sum() / n_after
    return before, after


def test_corridor_violence_falls_by_the_planted_amount(
    located: pd.DataFrame, truth: dict[str, Any]
) -> None:
    corridor = truth["corridor"]
    assert corridor["street"] == "St James Street"
    assert corridor["operation"] == {"first": "2023-04", "last": "2023-09"}
    assert 600 <= corridor["length_m"] <= 800
    zone = located["corridor_m"] < corridor["width_m"]
    assert set(located.loc[zone, "Location"]) >= {"On or near St James Street"}
    before, after = _violence_per_month(located, truth, zone)
    planted = corridor["planted_effect"]["multiplier_after"]
    assert planted == pytest.approx(0.65)
    assert before > 40  # a real hotspot: tens of violent incidents a month
    assert after / before == pytest.approx(planted, abs=0.07)
    assert after / before == pytest.approx(
        corridor["observed"]["corridor"]["ratio_after_vs_before"], abs=1e-4
    )


def test_no_comparable_change_elsewhere(located: pd.DataFrame, truth: dict[str, Any]) -> None:
    corridor = truth["corridor"]
    buffer = corridor["buffer"]
    d = located["corridor_m"]
    planted = corridor["planted_effect"]["multiplier_after"]
    before, after = _violence_per_month(located, truth, d >= buffer["outer_m"])
    assert after / before == pytest.approx(1.0, abs=0.05)
    ring = (d >= buffer["inner_m"]) & (d < buffer["outer_m"])
    before, after = _violence_per_month(located, truth, ring)
    assert buffer["planted_change_pct"] == 0
    assert after / before > planted + 0.15  # noise on a few incidents, not the corridor's fall
    assert after / before == pytest.approx(
        corridor["observed"]["buffer"]["ratio_after_vs_before"], abs=1e-4
    )


def test_planted_hotspots_stand_out(located: pd.DataFrame, truth: dict[str, Any]) -> None:
    """Each hotspot holds most of its planted incidents, far denser than the borough, its mix."""
    (_, borough), *_ = _layer("demo_borough.geojson", truth)
    mean_density = len(located) / borough.area
    to_m = _to_metres(truth)
    hotspots = truth["hotspots"]
    assert 6 <= len(hotspots) <= 8
    assert {"town centre", "station", "market", "retail park", "park", "housing estate"} <= {
        h["kind"] for h in hotspots
    }
    for h in hotspots:
        cx, cy = to_m(*h["centre_lonlat"])
        r = 2 * h["sigma_m"]
        near = (located["x"] - cx) ** 2 + (located["y"] - cy) ** 2 < r**2
        assert borough.contains(Point(cx, cy)), h["key"]
        assert near.sum() > 0.7 * h["incidents_per_month"] * 36, h["key"]
        assert near.sum() / (3.14159 * r**2) > 3 * mean_density, h["key"]
        top_two = located.loc[near, "Crime type"].value_counts().index[:2]
        assert max(h["crime_mix"], key=h["crime_mix"].get) in top_two, h["key"]


# ------------------------------------------------------------------------------------------
# Reference layers
# ------------------------------------------------------------------------------------------


def test_geojson_is_wgs84_with_six_decimals() -> None:
    for name in ("demo_wards.geojson", "demo_patrol_areas.geojson", "demo_borough.geojson"):
        text = (SAMPLE / name).read_text(encoding="utf-8")
        collection = json.loads(text)
        assert collection["type"] == "FeatureCollection"
        assert "CRS84" in collection["crs"]["properties"]["name"]
        assert not re.search(r"\d\.\d{7,}", text), name
        for feature in collection["features"]:
            ring = feature["geometry"]["coordinates"][0]
            assert ring[0] == ring[-1]
            assert shapely.Polygon(ring).exterior.is_ccw  # RFC 7946 winding


def test_wards_tile_the_borough(located: pd.DataFrame, truth: dict[str, Any]) -> None:
    wards = _layer("demo_wards.geojson", truth)
    (_, borough), *_ = _layer("demo_borough.geojson", truth)
    assert 8 <= len(wards) <= 12
    codes = [p["ward_code"] for p, _ in wards]
    assert codes == [f"E05999{k:03d}" for k in range(1, len(wards) + 1)]
    assert len({p["ward_name"] for p, _ in wards}) == len(wards)
    for props, geom in wards:
        assert set(props) == {"ward_code", "ward_name", "population", "note"}
        assert props["note"] == "Illustrative, not official boundaries"
        assert isinstance(props["population"], int)
        assert 4_000 <= props["population"] <= 20_000
        assert geom.geom_type == "Polygon"
        assert geom.is_valid, props["ward_name"]
    for (_, a), (_, b) in itertools.combinations(wards, 2):
        assert a.intersection(b).area < 1.0  # square metres: shared edges only
    union = unary_union([g for _, g in wards])
    assert union.symmetric_difference(borough).area < 1e-6 * borough.area
    inside = sum(
        shapely.contains_xy(g, located["x"].to_numpy(), located["y"].to_numpy()).astype(int)
        for _, g in wards
    )
    assert (inside == 1).all()  # every located incident in exactly one ward


def test_patrol_areas_cover_some_hotspots(truth: dict[str, Any]) -> None:
    areas = _layer("demo_patrol_areas.geojson", truth)
    (_, borough), *_ = _layer("demo_borough.geojson", truth)
    assert len(areas) == 4
    assert len({p["name"] for p, _ in areas}) == 4
    for props, geom in areas:
        assert set(props) == {"name", "note"}
        assert props["note"] == "Illustrative demo patrol area"
        assert geom.geom_type == "Polygon"
        assert geom.is_valid
        assert geom.intersection(borough).area > 0.95 * geom.area
    by_name = {p["name"]: g for p, g in areas}
    to_m = _to_metres(truth)
    covered = truth["patrol_areas"]["covered_hotspots"]
    uncovered = truth["patrol_areas"]["uncovered_hotspots"]
    assert len(uncovered) >= 2
    for h in truth["hotspots"]:
        centre = Point(to_m(*h["centre_lonlat"]))
        if h["key"] in covered:
            assert by_name[h["patrol_area"]].contains(centre.buffer(h["sigma_m"]))
        else:
            assert h["key"] in uncovered and h["patrol_area"] is None
            assert not any(g.intersects(centre.buffer(h["sigma_m"])) for g in by_name.values())
    line = LineString([to_m(*p) for p in truth["corridor"]["line_lonlat"]])
    assert by_name[truth["corridor"]["patrol_area"]].contains(line)
