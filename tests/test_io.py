"""Tests for hotspots.io: every reader, every drop reason, warnings, guards, the LoadReport.

Each test writes its own small files (tmp_path) with hand-worked answers. Coordinates are
around Walthamstow (London) unless a test says otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point, box

from hotspots.columns import INCIDENT_COLUMNS
from hotspots.crime_types import CRIME_TYPE_SLUGS, CRIME_TYPES
from hotspots.errors import InputError, InputFileError, ParameterError
from hotspots.io import (
    AT_ZERO,
    BAD_MONTH,
    DUPLICATE_ID,
    DUPLICATE_ROW,
    NO_COORDINATES,
    OUT_OF_RANGE,
    OUTSIDE_STUDY_AREA,
    LoadReport,
    read_incidents,
)
from tests.conftest import SHARED_DATA, STREET_HEADER

STREET_EXTRAS = ["Reported by", "Falls within", "LSOA name", "Context"]
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
LON, LAT = -0.0200, 51.5800  # Walthamstow


def street_row(cid: str, month: str, lon: object, lat: object, ctype: str = "Burglary") -> list:
    """One row of a data.police.uk street CSV."""
    return [
        cid,
        month,
        "Metropolitan Police Service",
        "Metropolitan Police Service",
        "" if lon is None else str(lon),
        "" if lat is None else str(lat),
        "On or near Hoe Street",
        "E01004321",
        "Waltham Forest 001A",
        ctype,
        "Under investigation" if cid else "",
        "",
    ]


def write_street(path: Path, rows: list[list]) -> Path:
    """A street CSV exactly as data.police.uk publishes it (UTF-8, comma, header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(STREET_HEADER)
        w.writerows(rows)
    return path


def month_rows(month: str, n: int, *, prefix: str = "c", start: int = 0) -> list[list]:
    """n distinct crimes of one month spread on a 50 m grid."""
    return [
        street_row(
            f"{prefix}{month}-{i + start}",
            month,
            round(LON + 0.0007 * (i % 7), 6),
            round(LAT + 0.0005 * (i // 7), 6),
        )
        for i in range(n)
    ]


def api_record(rid: int | None, month: str, lon: float, lat: float, **kw: object) -> dict:
    """One crime as the data.police.uk crimes-street API returns it."""
    rec = {
        "category": kw.get("category", "violent-crime"),
        "location_type": "Force",
        "location": {
            "latitude": f"{lat:.6f}",
            "street": {"id": 1, "name": kw.get("street", "On or near Hoe Street")},
            "longitude": f"{lon:.6f}",
        },
        "context": "",
        "outcome_status": kw.get("outcome"),
        "persistent_id": kw.get("pid", ""),
        "id": rid,
        "location_subtype": "",
        "month": month,
    }
    return rec


def check_totals(gdf: gpd.GeoDataFrame, report: LoadReport) -> None:
    """Every row read is used or dropped; the frame holds the used rows."""
    assert report.rows_read == report.rows_used + report.rows_dropped
    assert len(gdf) == report.rows_used
    assert list(gdf.columns[: len(INCIDENT_COLUMNS)]) == INCIDENT_COLUMNS
    assert gdf["incident_id"].is_unique


# ------------------------------------------------------------------------------------------
# data.police.uk street CSVs
# ------------------------------------------------------------------------------------------
def test_street_csv_single_file_columns_and_values(tmp_path: Path) -> None:
    """Three rows: a crime, an anti-social behaviour row without Crime ID, another crime."""
    f = write_street(
        tmp_path / "2019-11-x-street.csv",
        [
            street_row("abc", "2019-11", LON, LAT, "Drugs"),
            street_row("", "2019-11", LON + 0.001, LAT, "Anti-social behaviour"),
            street_row("def", "2019-11", LON, LAT + 0.001, "Robbery"),
        ],
    )
    gdf, report = read_incidents(f)
    check_totals(gdf, report)
    assert list(gdf.columns) == [*INCIDENT_COLUMNS, *STREET_EXTRAS]
    assert gdf.crs.to_string() == "EPSG:27700" and report.crs == "EPSG:27700"
    assert gdf["incident_id"].tolist() == ["abc", "2019-11-x-street.csv:row-3", "def"]
    assert gdf["category"].tolist() == ["Drugs", "Anti-social behaviour", "Robbery"]
    assert gdf["outcome"].tolist() == ["Under investigation", "", "Under investigation"]
    assert (gdf["month"] == pd.Timestamp("2019-11-01")).all()
    assert gdf["date"].isna().all()
    assert gdf["weight"].tolist() == [1.0, 1.0, 1.0]
    assert (gdf["source"] == "2019-11-x-street.csv").all()
    assert gdf["incident_id"].dtype == "str" and gdf["incident_id"].notna().all()
    for col in ("category", "location", "lsoa_code", "outcome", "source", *STREET_EXTRAS):
        # repeated text as categories of str, sorted (so sorting sorts the text)
        dtype = gdf[col].dtype
        assert isinstance(dtype, pd.CategoricalDtype), col
        names = list(dtype.categories)
        assert dtype.categories.dtype == "str" and names == sorted(names)
        assert gdf[col].notna().all()
    assert str(gdf["month"].dtype) == "datetime64[ns]"
    assert str(gdf["date"].dtype) == "datetime64[ns]"
    ex, ny = TO_BNG.transform(LON, LAT)
    assert gdf.geometry.iloc[0].x == pytest.approx(ex, abs=0.01)
    assert gdf.geometry.iloc[0].y == pytest.approx(ny, abs=0.01)
    assert report.inputs == ["2019-11-x-street.csv"]
    assert report.rows_read == 3 and report.dropped == {}


def test_street_folder_tree_skips_other_datasets_and_orders_rows(tmp_path: Path) -> None:
    """YYYY-MM/ folders as unzipped from data.police.uk, with outcomes and stop-and-search."""
    root = tmp_path / "download"
    write_street(root / "2019-02" / "2019-02-x-street.csv", month_rows("2019-02", 3))
    write_street(root / "2019-01" / "2019-01-x-street.csv", month_rows("2019-01", 2))
    (root / "2019-01" / "2019-01-x-outcomes.csv").write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Outcome type\nabc,2019-01,a,a,-0.02,51.58,x,y,z,Court\n"
    )
    (root / "2019-01" / "2019-01-x-stop-and-search.csv").write_text("Type,Date\nPerson,x\n")
    (root / "README.md").write_text("notes")
    gdf, report = read_incidents(root)
    check_totals(gdf, report)
    assert report.inputs == ["2019-01/2019-01-x-street.csv", "2019-02/2019-02-x-street.csv"]
    assert gdf["month"].dt.strftime("%Y-%m").tolist() == ["2019-01"] * 2 + ["2019-02"] * 3
    text = " ".join(report.warnings)
    assert "outcomes file" in text and "2019-01-x-outcomes.csv" in text
    assert "stop-and-search file" in text
    assert "README.md" in text
    # The same files given one by one, in another order: the same frame.
    files = sorted(root.rglob("*-street.csv"), reverse=True)
    gdf2, _ = read_incidents(files)
    assert_geodataframe_equal(
        gdf.drop(columns=["incident_id", "source"]), gdf2.drop(columns=["incident_id", "source"])
    )


def test_street_zip_read_in_place_matches_folder(tmp_path: Path) -> None:
    """The downloaded zip: members read in place, named zip!member."""
    root = tmp_path / "unzipped"
    a = write_street(root / "2019-01" / "2019-01-x-street.csv", month_rows("2019-01", 4))
    b = write_street(root / "2019-02" / "2019-02-x-street.csv", month_rows("2019-02", 2))
    z = tmp_path / "download.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(b, "2019-02/2019-02-x-street.csv")
        zf.write(a, "2019-01/2019-01-x-street.csv")
        zf.writestr("2019-01/2019-01-x-outcomes.csv", "Crime ID,Outcome type\n")
    gdf_zip, rep_zip = read_incidents(z)
    gdf_dir, _ = read_incidents(root)
    check_totals(gdf_zip, rep_zip)
    assert rep_zip.inputs == [
        "download.zip!2019-01/2019-01-x-street.csv",
        "download.zip!2019-02/2019-02-x-street.csv",
    ]
    assert_geodataframe_equal(gdf_zip.drop(columns="source"), gdf_dir.drop(columns="source"))
    assert sorted(tmp_path.iterdir()) == [tmp_path / "download.zip", root]  # nothing extracted


def test_duplicate_crime_ids_across_files_and_repeats_within_a_file(tmp_path: Path) -> None:
    """Same Crime ID in two files -> duplicate; twice in one file (as published) -> kept."""
    write_street(
        tmp_path / "a-street.csv",
        [
            street_row("dup", "2019-01", LON, LAT),
            street_row("twice", "2019-01", LON, LAT),
            street_row("twice", "2019-01", LON + 0.001, LAT),
        ],
    )
    write_street(
        tmp_path / "b-street.csv",
        [street_row("dup", "2019-01", LON, LAT), street_row("new", "2019-01", LON, LAT)],
    )
    gdf, report = read_incidents(tmp_path)
    check_totals(gdf, report)
    assert report.dropped == {DUPLICATE_ID: 1}
    assert report.examples[DUPLICATE_ID] == ["b-street.csv row 2"]
    assert gdf["incident_id"].tolist() == ["dup", "twice", "twice-2", "new"]
    assert any("on more than one row of the same file" in w for w in report.warnings)


def test_whole_row_repeats_within_a_file_are_duplicate_rows(tmp_path: Path) -> None:
    """A month pasted twice: identical rows (with an id) counted as "duplicate row"; a Crime ID
    repeated on a row that differs stays (suffixed); identical rows without an id all stay;
    the same row in another file is a duplicate id."""
    rows = [street_row(f"c{i}", "2019-01", LON + i / 1000, LAT) for i in range(5)]
    rows += [street_row("c0", "2019-01", LON, LAT, ctype="Robbery")]  # differs: kept
    rows += [street_row("", "2019-01", LON, LAT)] * 2  # no id (ASB-like): both kept
    write_street(tmp_path / "a-street.csv", rows + rows[:5])  # the first five pasted again
    write_street(tmp_path / "b-street.csv", [rows[1]])
    gdf, report = read_incidents(tmp_path)
    check_totals(gdf, report)
    assert report.dropped == {DUPLICATE_ROW: 5, DUPLICATE_ID: 1}
    assert report.examples[DUPLICATE_ROW] == [f"a-street.csv row {r}" for r in range(10, 15)]
    assert report.examples[DUPLICATE_ID] == ["b-street.csv row 2"]
    assert len(gdf) == 8 and "c0-2" in set(gdf["incident_id"])


def test_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    f = write_street(tmp_path / "a-street.csv", month_rows("2019-01", 2))
    _gdf, report = read_incidents([f, tmp_path])
    assert report.rows_read == 2 and len(report.inputs) == 1
    assert any("given more than once" in w for w in report.warnings)


# ------------------------------------------------------------------------------------------
# data.police.uk API JSON
# ------------------------------------------------------------------------------------------
def test_api_json_folder_with_duplicate_id_across_files(tmp_path: Path) -> None:
    """A crime on a shared ward edge is in two wards' files: counted once, then dropped."""
    ward1 = [
        api_record(1, "2016-01", LON, LAT, category="anti-social-behaviour"),
        api_record(
            2,
            "2016-01",
            LON + 0.001,
            LAT,
            category="criminal-damage-arson",
            outcome={"category": "Under investigation", "date": "2016-02"},
            pid="p2",
        ),
    ]
    ward2 = [
        api_record(2, "2016-01", LON + 0.001, LAT, category="criminal-damage-arson"),
        api_record(3, "2016-02", LON, LAT + 0.001, category="public-disorder-weapons"),
        api_record(None, "2016-02", LON, LAT, category="shoplifting"),
    ]
    d = tmp_path / "london_month_2016_01"
    d.mkdir()
    (d / "crime_area_A.json").write_text(json.dumps(ward1))
    (d / "crime_area_B.json").write_text(json.dumps(ward2))
    (d / "crime_area_C.json").write_text("[]")  # an area without crimes
    gdf, report = read_incidents(tmp_path)
    check_totals(gdf, report)
    assert report.rows_read == 5
    assert report.dropped == {DUPLICATE_ID: 1}
    assert report.examples[DUPLICATE_ID] == ["london_month_2016_01/crime_area_B.json record 1"]
    assert gdf["incident_id"].tolist() == [
        "1",
        "2",
        "3",
        "london_month_2016_01/crime_area_B.json:row-3",
    ]
    assert gdf["category"].tolist() == [
        "Anti-social behaviour",
        "Criminal damage and arson",
        "Public disorder and weapons",
        "Shoplifting",
    ]
    assert gdf["outcome"].tolist() == ["", "Under investigation", "", ""]
    assert gdf["location"].iloc[0] == "On or near Hoe Street"
    assert gdf["persistent_id"].tolist() == ["", "p2", "", ""]
    assert gdf["location_type"].tolist() == ["Force"] * 4
    assert gdf["month"].dt.strftime("%Y-%m").tolist() == [
        "2016-01",
        "2016-01",
        "2016-02",
        "2016-02",
    ]
    assert len(report.inputs) == 3


def test_api_json_single_file_and_all_slugs_map_to_published_names(tmp_path: Path) -> None:
    recs = [api_record(i, "2017-05", LON, LAT, category=s) for i, s in enumerate(CRIME_TYPE_SLUGS)]
    f = tmp_path / "crimes.json"
    f.write_text(json.dumps(recs))
    gdf, _report = read_incidents(f)
    assert gdf["category"].tolist() == list(CRIME_TYPE_SLUGS.values())
    assert set(CRIME_TYPES) <= set(gdf["category"])
    assert len(CRIME_TYPES) == 14


def test_api_json_numbers_instead_of_text(tmp_path: Path) -> None:
    """Coordinates and ids as JSON numbers, a missing location: still read, or counted."""
    recs = [api_record(1, "2017-05", LON, LAT), api_record(2, "2017-05", LON, LAT)]
    recs[0]["location"]["latitude"] = LAT
    recs[0]["location"]["longitude"] = LON
    recs[1]["location"] = None
    f = tmp_path / "numbers.json"
    f.write_text(json.dumps(recs))
    gdf, report = read_incidents(f)
    check_totals(gdf, report)
    assert gdf["incident_id"].tolist() == ["1"]
    assert report.examples == {NO_COORDINATES: ["numbers.json record 2"]}


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "crime_month_2016_01_area_X.json"
    f.write_text('[{"category": "drugs", ')
    with pytest.raises(InputFileError, match=r"crime_month_2016_01_area_X.json: not valid JSON"):
        read_incidents(f)


def test_json_that_is_neither_crimes_nor_geojson(tmp_path: Path) -> None:
    f = tmp_path / "meta.json"
    f.write_text('{"name": "x"}')
    with pytest.raises(InputFileError, match=r"meta.json"):
        read_incidents(f)


# ------------------------------------------------------------------------------------------
# Generic CSVs
# ------------------------------------------------------------------------------------------
def test_generic_csv_semicolons_decimal_commas_cp1252_and_bom(tmp_path: Path) -> None:
    """A European export (cp1252, ';', decimal commas) and a UTF-8 file with BOM."""
    eu = "Offence;Lat;Long;Date;Street\r\nThéft;51,58;-0,02;05/11/2019;Rue Café\r\n"
    (tmp_path / "a_eu.csv").write_bytes(eu.encode("cp1252"))
    bom = "\ufeffLATITUDE,LONGITUDE,month,Crime Type\n51.581,-0.021,2019-12,burglary\n"
    (tmp_path / "b_bom.csv").write_bytes(bom.encode("utf-8"))
    gdf, report = read_incidents(tmp_path)
    check_totals(gdf, report)
    assert gdf["category"].tolist() == ["Théft", "Burglary"]
    assert gdf["location"].tolist() == ["Rue Café", ""]
    assert gdf["month"].tolist() == [pd.Timestamp("2019-11-01"), pd.Timestamp("2019-12-01")]
    assert gdf["date"].iloc[0] == pd.Timestamp("2019-11-05") and pd.isna(gdf["date"].iloc[1])
    ex, ny = TO_BNG.transform(-0.02, 51.58)
    assert (gdf.geometry.iloc[0].x, gdf.geometry.iloc[0].y) == pytest.approx((ex, ny), abs=0.01)
    assert any("Windows-1252" in w and "a_eu.csv" in w for w in report.warnings)
    assert gdf["incident_id"].tolist() == ["a_eu.csv:row-2", "b_bom.csv:row-2"]


def test_thousands_separators_are_not_decimal_commas(tmp_path: Path) -> None:
    """Eastings written "532,705" (a spreadsheet's thousands separator) are 532705 m, not
    532.705 m, which put every point off the Isles of Scilly; degrees keep the decimal comma
    ("51,515" is 51.515), and "1,234,567" or "532,705.5" group digits wherever they are."""
    from hotspots.io.parts import to_float

    path = tmp_path / "grouped.csv"
    path.write_text('easting,northing\n"532,705","181,163"\n"532,802","181,262"\n')
    gdf, report = read_incidents(path)
    check_totals(gdf, report)
    assert report.crs == "EPSG:27700"
    assert gdf.geometry.x.tolist() == [532_705.0, 532_802.0]
    assert gdf.geometry.y.tolist() == [181_163.0, 181_262.0]
    text = pd.Series(["51,515", "1,234,567", "532,705.5", "0,123", "-0,02"], dtype=object)
    assert to_float(text).tolist() == [51.515, 1_234_567.0, 532_705.5, 0.123, -0.02]
    assert to_float(text, metres=True).tolist() == [51_515.0, 1_234_567.0, 532_705.5, 0.123, -0.02]


def test_a_copy_of_a_file_is_read_once_and_said(tmp_path: Path) -> None:
    """The same month under another name, and a download zip beside the file unpacked from
    it: read once (their rows without a Crime ID would otherwise count twice), said in the
    report; two different files of one name are both read, with a warning."""
    no_id = street_row("", "2024-01", LON, LAT, "Anti-social behaviour")
    rows = [*month_rows("2024-01", 12), no_id]
    first = write_street(tmp_path / "in" / "2024-01-x-street.csv", rows)
    (tmp_path / "in" / "copy.csv").write_bytes(first.read_bytes())
    with zipfile.ZipFile(tmp_path / "in" / "download.zip", "w") as z:
        z.writestr("2024-01/2024-01-x-street.csv", first.read_bytes())
    gdf, report = read_incidents(tmp_path / "in")
    check_totals(gdf, report)
    assert report.rows_read == len(rows) == len(gdf)
    said = " ".join(report.warnings)
    assert "Skipped 2 files with the same contents as another" in said
    assert "copy.csv, the same as 2024-01-x-street.csv" in said
    assert "download.zip!2024-01/2024-01-x-street.csv, the same as 2024-01-x-street.csv" in said
    other = write_street(tmp_path / "in" / "again" / "2024-01-x-street.csv", rows[:5])
    gdf, report = read_incidents(tmp_path / "in")
    assert report.rows_read == len(rows) + 5
    assert any("Two files of one name" in w and str(other.name) in w for w in report.warnings)


def test_us_dates_are_read_month_first_for_the_whole_column(tmp_path: Path) -> None:
    """01/02/2024 in a column holding 01/31/2024 is 2 January (the column is month first),
    not February; a column whose every date could be either way is read day first (UK)."""
    us = tmp_path / "us.csv"
    us.write_text("lon,lat,date\n-0.02,51.58,01/02/2024\n-0.02,51.58,01/31/2024 10:30\n")
    gdf, report = read_incidents(us)
    check_totals(gdf, report)
    assert report.rows_used == 2
    assert gdf["date"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-31 10:30")]
    assert gdf["month"].tolist() == [pd.Timestamp("2024-01-01")] * 2
    uk = tmp_path / "uk.csv"
    uk.write_text("lon,lat,date\n-0.02,51.58,01/02/2024\n-0.02,51.58,05/03/2024\n")
    gdf, _ = read_incidents(uk)
    assert gdf["date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-05")]


def test_a_zip_of_many_members_is_read_whole_and_again_when_it_changes(tmp_path: Path) -> None:
    """Each member is read from the archive kept open (a zip of thousands of small files was
    reopened for every member: quadratic); an archive rewritten on disk is read anew."""
    path = tmp_path / "many.zip"

    def write(n: int, month: str) -> None:
        with zipfile.ZipFile(path, "w") as z:
            for i in range(n):
                z.writestr(f"part{i:04d}.csv", f"lon,lat,month,n\n-0.02,51.58,{month},{i}\n")

    write(300, "2024-01")
    gdf, report = read_incidents(path)
    assert report.rows_read == 300 == len(gdf)
    assert set(gdf["month"]) == {pd.Timestamp("2024-01-01")}
    write(120, "2024-02")
    gdf, report = read_incidents(path)
    assert report.rows_read == 120 == len(gdf)
    assert set(gdf["month"]) == {pd.Timestamp("2024-02-01")}


def test_a_geojson_of_metres_without_a_crs_is_read_in_them(tmp_path: Path) -> None:
    """GeoJSON is longitude/latitude unless it says otherwise: numbers that cannot be degrees
    are British National Grid when they fit it (with a note), the CRS given when one is, and
    else an error asking for it (all 300 rows were dropped as out of range, even with crs)."""

    def write(name: str, points: list[tuple[float, float]]) -> Path:
        features = [
            {
                "type": "Feature",
                "properties": {"month": "2024-01", "category": "burglary"},
                "geometry": {"type": "Point", "coordinates": list(p)},
            }
            for p in points
        ]
        path = tmp_path / name
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        return path

    bng = write("bng.geojson", [(532_660.0, 181_646.0), (532_517.0, 181_424.0)])
    gdf, report = read_incidents(bng)
    assert report.crs == "EPSG:27700" and report.rows_used == 2
    assert gdf.geometry.x.tolist() == [532_660.0, 532_517.0]
    assert any("British National Grid eastings/northings" in w for w in report.warnings)
    gdf, report = read_incidents(bng, crs="EPSG:27700")
    assert report.rows_used == 2 and gdf.geometry.y.tolist() == [181_646.0, 181_424.0]
    mercator = write("merc.geojson", [(-2_200.0, 6_710_000.0), (-2_100.0, 6_711_000.0)])
    with pytest.raises(InputFileError, match=r"merc.geojson: its coordinates .* are not longitude"):
        read_incidents(mercator)
    degrees = write("deg.geojson", [(-0.02, 51.58)])
    assert read_incidents(degrees)[1].rows_used == 1


def test_nested_and_doubled_zip_members_are_said(tmp_path: Path) -> None:
    """An archive inside the archive is not read, and said so (it was "not incident data", or
    "no incident files (... or .zip)"); two members of one name are refused (zipfile reads the
    last for both: one month lost, the other's rows without a Crime ID counted twice)."""
    csv_bytes = write_street(tmp_path / "m.csv", month_rows("2024-01", 3)).read_bytes()
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("2024-01/2024-01-x-street.csv", csv_bytes)
    only = tmp_path / "only.zip"
    with zipfile.ZipFile(only, "w") as z:
        z.write(inner, "inner.zip")
    with pytest.raises(InputFileError, match=r"only.zip: .*only only.zip!inner.zip: unzip it"):
        read_incidents(only)
    plus = tmp_path / "plus.zip"
    with zipfile.ZipFile(plus, "w") as z:
        z.write(inner, "inner.zip")
        z.writestr("2024-02/2024-02-x-street.csv", csv_bytes.replace(b"2024-01", b"2024-02"))
    _, report = read_incidents(plus)
    assert report.rows_used == 3
    assert any("Not read: plus.zip!inner.zip, an archive inside" in w for w in report.warnings)
    doubled = tmp_path / "doubled.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        with zipfile.ZipFile(doubled, "w") as z:
            z.writestr("a/2024-01-x-street.csv", csv_bytes)
            z.writestr("a/2024-01-x-street.csv", csv_bytes.replace(b"2024-01", b"2024-02"))
    with pytest.raises(InputFileError, match=r"holds two files named 'a/2024-01-x-street.csv'"):
        read_incidents(doubled)


def test_a_few_rows_with_longitude_and_latitude_swapped_are_named(tmp_path: Path) -> None:
    """Ten of 300 rows typed latitude first: the file is refused naming them (it said the
    points spread over 7,489 km and to check the columns, which are right)."""
    lines = ["lon,lat,month"] + [f"-0.0{i % 9},51.5{i % 9},2024-01" for i in range(300)]
    for k in (5, 50, 51, 52, 53, 54, 55, 56, 57, 58):
        lon, lat, month = lines[k].split(",")
        lines[k] = f"{lat},{lon},{month}"
    path = tmp_path / "partswap.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as err:
        read_incidents(path)
    assert str(err.value).startswith(
        "partswap.csv: 10 rows have longitude and latitude the wrong way round (first: row 6, "
        "row 51, row 52;"
    )


def test_a_geopackage_layer_can_be_chosen(tmp_path: Path) -> None:
    """Two point layers: the first is read and the others named (with how to read them); the
    one asked for is read; one that is not there is refused naming those that are."""
    path = tmp_path / "two.gpkg"
    for name, n in (("y2023", 3), ("y2024", 5)):
        gpd.GeoDataFrame(
            {"month": [f"{name[1:]}-01"] * n, "category": ["Drugs"] * n},
            geometry=gpd.points_from_xy([532_000.0 + i for i in range(n)], [181_000.0] * n),
            crs="EPSG:27700",
        ).to_file(path, layer=name)
    gdf, report = read_incidents(path)
    assert len(gdf) == 3
    assert any(
        "2 point layers (y2023, y2024); read the first, 'y2023'" in w for w in report.warnings
    )
    gdf, _ = read_incidents(path, layer="y2024")
    assert len(gdf) == 5 and set(gdf["month"]) == {pd.Timestamp("2024-01-01")}
    with pytest.raises(
        InputFileError, match=r"no point layer 'y2025' \(point layers: y2023, y2024\)"
    ):
        read_incidents(path, layer="y2025")


def test_generic_csv_short_rows_counted_and_ragged_rows_refused(tmp_path: Path) -> None:
    """A row cut short has no longitude; a row with an extra field makes the file unreadable."""
    short = tmp_path / "short.csv"
    short.write_text("lat,lon,note\n51.58,-0.02,a\n51.581\n51.582,-0.021,b\n")
    gdf, report = read_incidents(short)
    check_totals(gdf, report)
    assert report.examples == {NO_COORDINATES: ["short.csv row 3"]}
    assert gdf["note"].tolist() == ["a", "b"]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("lat,lon\n51.58,-0.02\n51.58,-0.02,oops\n")
    with pytest.raises(InputFileError, match=r"ragged.csv: line 3 has 3 fields where the column"):
        read_incidents(ragged)
    # a title above the column names; Excel's "sep=;" line naming the delimiter
    titled = tmp_path / "titled.csv"
    titled.write_text("Crime report export\nGenerated 2024-05-01\n\nlon,lat\n-0.02,51.58\n")
    with pytest.raises(InputFileError, match=r"titled.csv: the first line \('Crime report"):
        read_incidents(titled)
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"\xef\xbb\xbfsep=;\r\nlon;lat;month\r\n-0,02;51,58;2024-01\r\n")
    gdf, report = read_incidents(excel)
    assert report.rows_used == 1 and gdf["month"].iloc[0] == pd.Timestamp("2024-01-01")


def test_generic_month_formats(tmp_path: Path) -> None:
    """Months as text in several forms; a bare year is not a month."""
    f = tmp_path / "months.csv"
    f.write_text(
        "lat,lon,Month\n51.58,-0.02,2019-03\n51.58,-0.02,Mar 2019\n51.58,-0.02,03/2019\n"
        "51.58,-0.02,2019-03-31T23:00:00Z\n51.58,-0.02,2019\n"
    )
    gdf, report = read_incidents(f)
    assert (gdf["month"] == pd.Timestamp("2019-03-01")).all() and len(gdf) == 4
    assert gdf["date"].isna().tolist() == [True, True, True, False]
    assert report.examples == {BAD_MONTH: ["months.csv row 6"]}


def test_generic_xy_with_crs_and_bng_guess(tmp_path: Path) -> None:
    """Easting/northing columns: read in the crs given, or as BNG when plainly BNG."""
    f = tmp_path / "xy.csv"
    f.write_text("X,Y,id\n537500,189200,a\n538600.5,190100,b\n")
    gdf, report = read_incidents(f, crs="EPSG:27700")
    assert gdf.geometry.x.tolist() == [537500.0, 538600.5]
    assert gdf["incident_id"].tolist() == ["a", "b"]
    assert not any("British National Grid" in w for w in report.warnings)
    gdf2, report2 = read_incidents(f)
    assert_geodataframe_equal(gdf, gdf2)
    assert any("British National Grid" in w and "xy.csv" in w for w in report2.warnings)


def test_generic_xy_in_degrees_needs_a_crs(tmp_path: Path) -> None:
    f = tmp_path / "deg.csv"
    f.write_text("x,y\n-0.02,51.58\n")
    with pytest.raises(InputFileError, match=r"deg.csv.*EPSG:4326"):
        read_incidents(f)
    gdf, _ = read_incidents(f, crs="EPSG:4326")
    assert gdf.crs.to_string() == "EPSG:27700"


def test_generic_csv_without_coordinates_lists_columns(tmp_path: Path) -> None:
    f = tmp_path / "nocoords.csv"
    f.write_text("when,what\n2019-01,theft\n")
    with pytest.raises(InputFileError) as err:
        read_incidents(f)
    msg = str(err.value)
    assert msg.startswith("nocoords.csv:") and "'when', 'what'" in msg and "latitude" in msg
    assert "\n" not in msg


def test_generic_csv_without_month_column_warns_once(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("lat,lon\n51.58,-0.02\n")
    (tmp_path / "b.csv").write_text("lat,lon\n51.581,-0.02\n")
    gdf, report = read_incidents(tmp_path)
    assert gdf["month"].isna().all() and report.rows_used == 2
    month_warnings = [w for w in report.warnings if "No month or date column" in w]
    assert len(month_warnings) == 1 and "a.csv, b.csv" in month_warnings[0]


# ------------------------------------------------------------------------------------------
# Vector formats
# ------------------------------------------------------------------------------------------
def _points_frame(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Three incidents with attributes named as another system would name them."""
    pts = gpd.GeoDataFrame(
        {
            "crime_ref": ["r1", "r2", "r3"],
            "offence": ["Robbery", "drugs", "Burglary"],
            "occurred": pd.to_datetime(["2020-01-15", "2020-02-01", "2020-02-29"]),
            "ward": ["A", "B", "C"],
        },
        geometry=gpd.points_from_xy([LON, LON + 0.001, LON], [LAT, LAT, LAT + 0.001]),
        crs="EPSG:4326",
    )
    return pts.to_crs(crs)


def _check_points(gdf: gpd.GeoDataFrame, report: LoadReport) -> None:
    check_totals(gdf, report)
    assert gdf.crs.to_string() == "EPSG:27700"
    assert gdf["category"].tolist() == ["Robbery", "Drugs", "Burglary"]
    assert gdf["month"].dt.strftime("%Y-%m").tolist() == ["2020-01", "2020-02", "2020-02"]
    assert gdf["date"].tolist() == list(pd.to_datetime(["2020-01-15", "2020-02-01", "2020-02-29"]))
    assert gdf["ward"].tolist() == ["A", "B", "C"]
    ex, ny = TO_BNG.transform(LON, LAT)
    assert gdf.geometry.iloc[0].x == pytest.approx(ex, abs=0.01)
    assert gdf.geometry.iloc[0].y == pytest.approx(ny, abs=0.01)


def test_geojson_wgs84(tmp_path: Path) -> None:
    f = tmp_path / "points.geojson"
    _points_frame().to_file(f, driver="GeoJSON")
    gdf, report = read_incidents(f)
    _check_points(gdf, report)
    assert report.examples == {}


def test_geopackage_bng_first_point_layer(tmp_path: Path) -> None:
    """A GeoPackage in EPSG:27700 with a polygon layer and two point layers."""
    f = tmp_path / "layers.gpkg"
    pts = _points_frame("EPSG:27700")
    gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:27700").to_file(f, layer="area")
    pts.to_file(f, layer="incidents")
    pts.iloc[:1].to_file(f, layer="other_points")
    gdf, report = read_incidents(f)
    _check_points(gdf, report)
    assert any("2 point layers" in w and "'incidents'" in w for w in report.warnings)


def test_geopackage_without_points_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "wards.gpkg"
    gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:27700").to_file(f, layer="wards")
    with pytest.raises(InputFileError, match=r"wards.gpkg: no point layer \(layers: wards"):
        read_incidents(f)


def test_zipped_shapefile(tmp_path: Path) -> None:
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    pts = _points_frame("EPSG:27700")
    pts["occurred"] = pts["occurred"].dt.strftime("%Y-%m-%d")  # shapefile dates: no time
    pts.to_file(shp_dir / "incidents.shp")
    z = tmp_path / "incidents.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, f"data/{part.name}")
    gdf, report = read_incidents(z)
    _check_points(gdf, report)
    assert report.inputs == ["incidents.zip!data/incidents.shp"]


def test_geoparquet(tmp_path: Path) -> None:
    f = tmp_path / "incidents.parquet"
    _points_frame("EPSG:3857").to_parquet(f)
    gdf, report = read_incidents(f)
    _check_points(gdf, report)


def test_polygons_are_refused_and_empty_geometries_counted(tmp_path: Path) -> None:
    poly = tmp_path / "poly.geojson"
    gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4326").to_file(poly)
    with pytest.raises(InputFileError, match=r"poly.geojson: holds Polygon geometries"):
        read_incidents(poly)
    pts = tmp_path / "holes.geojson"
    gpd.GeoDataFrame(
        {"n": [1, 2, 3]},
        geometry=[Point(LON, LAT), None, Point(LON, LAT + 0.001)],
        crs="EPSG:4326",
    ).to_file(pts)
    gdf, report = read_incidents(pts)
    check_totals(gdf, report)
    assert report.dropped == {NO_COORDINATES: 1}
    assert report.examples[NO_COORDINATES] == ["holes.geojson feature 2"]


def test_plain_parquet_table_with_coordinate_columns(tmp_path: Path) -> None:
    """Parquet without geo metadata is read like a generic CSV (rows counted from 1)."""
    f = tmp_path / "table.parquet"
    pd.DataFrame({"latitude": [51.58, None], "longitude": [-0.02, -0.02]}).to_parquet(f)
    gdf, report = read_incidents(f)
    check_totals(gdf, report)
    assert report.examples == {NO_COORDINATES: ["table.parquet row 2"]}


def test_mixed_formats_in_one_folder(tmp_path: Path) -> None:
    """A street CSV, API JSON and GeoJSON together: one frame, text extras filled with ''."""
    write_street(tmp_path / "a-street.csv", month_rows("2019-01", 2))
    (tmp_path / "b.json").write_text(json.dumps([api_record(7, "2019-01", LON, LAT, pid="p")]))
    _points_frame().to_file(tmp_path / "c.json", driver="GeoJSON")  # GeoJSON named .json
    gdf, report = read_incidents(tmp_path)
    check_totals(gdf, report)
    assert gdf["source"].tolist() == ["a-street.csv"] * 2 + ["b.json"] + ["c.json"] * 3
    assert gdf["Reported by"].tolist()[2:] == [""] * 4
    assert gdf["persistent_id"].tolist() == ["", "", "p", "", "", ""]
    assert gdf["category"].tolist()[3:] == ["Robbery", "Drugs", "Burglary"]


# ------------------------------------------------------------------------------------------
# Drop reasons, study area, CRS
# ------------------------------------------------------------------------------------------
def test_every_drop_reason_counted_with_rows(tmp_path: Path) -> None:
    """Rows 2-13 of a generic CSV; the expected reason of each is in its last column."""
    lines = [
        "id,lat,lon,month,expect",
        "a,51.58,-0.02,2019-01,ok",  # row 2
        "b,,-0.02,2019-01,no coordinates",  # row 3
        "c,51.58,abc,2019-01,no coordinates",  # row 4
        "d,95.0,-0.02,2019-01,out of range",  # row 5
        "e,51.58,inf,2019-01,out of range",  # row 6
        "f,0,0,2019-01,at 0,0",  # row 7 (the comma makes a 6th field: quoted below)
        "g,51.58,-0.02,Jan-ish,bad month",  # row 8
        "h,51.58,-0.02,,bad month",  # row 9
        "a,51.58,-0.02,2019-01,duplicate",  # row 10
        ",51.58,-0.02,2019-02,ok",  # row 11
        "i,51.70,0.30,2019-02,outside",  # row 12
        "j,51.581,-0.021,2019-02,ok",  # row 13
    ]
    text = "\n".join(line.replace("at 0,0", '"at 0,0"') for line in lines) + "\n"
    f = tmp_path / "mixed.csv"
    f.write_text(text)
    area = box(*TO_BNG.transform(-0.05, 51.55), *TO_BNG.transform(0.0, 51.60))
    gdf, report = read_incidents(f, study_area=area)
    check_totals(gdf, report)
    assert report.rows_read == 12 and report.rows_used == 3
    assert report.dropped == {
        NO_COORDINATES: 2,
        OUT_OF_RANGE: 2,
        AT_ZERO: 1,
        BAD_MONTH: 2,
        DUPLICATE_ID: 1,
        OUTSIDE_STUDY_AREA: 1,
    }
    assert report.examples == {
        NO_COORDINATES: ["mixed.csv row 3", "mixed.csv row 4"],
        OUT_OF_RANGE: ["mixed.csv row 5", "mixed.csv row 6"],
        AT_ZERO: ["mixed.csv row 7"],
        BAD_MONTH: ["mixed.csv row 8", "mixed.csv row 9"],
        DUPLICATE_ID: ["mixed.csv row 10"],
        OUTSIDE_STUDY_AREA: ["mixed.csv row 12"],
    }
    assert gdf["incident_id"].tolist() == ["a", "mixed.csv:row-11", "j"]
    assert gdf["expect"].tolist() == ["ok"] * 3
    lines_out = report.lines()
    assert lines_out[0] == "Read 12 rows from 1 file; used 3."
    assert "Dropped 2: no coordinates (first: mixed.csv row 3, mixed.csv row 4)." in lines_out
    summary = report.to_dict()
    assert summary["rows_dropped"][OUTSIDE_STUDY_AREA] == 1
    assert json.loads(json.dumps(summary)) == summary


def test_study_area_as_frame_in_another_crs(tmp_path: Path) -> None:
    f = write_street(tmp_path / "s-street.csv", month_rows("2019-01", 14))
    area = gpd.GeoDataFrame(
        geometry=[box(LON - 0.0001, LAT - 0.0001, LON + 0.01, LAT + 0.00025)], crs="EPSG:4326"
    )
    gdf, report = read_incidents(f, study_area=area)
    check_totals(gdf, report)
    assert report.rows_used == 7 and report.dropped == {OUTSIDE_STUDY_AREA: 7}
    with pytest.raises(ParameterError, match=r"study_area: none of the 14 incidents"):
        read_incidents(f, study_area=box(0, 0, 10, 10))


def test_crs_choice_london_paris_and_target(tmp_path: Path) -> None:
    london = tmp_path / "london.csv"
    london.write_text("lat,lon\n51.58,-0.02\n51.59,-0.01\n")
    paris = tmp_path / "paris.csv"
    paris.write_text("lat,lon\n48.8566,2.3522\n48.86,2.36\n")
    assert read_incidents(london)[0].crs.to_string() == "EPSG:27700"
    gdf, report = read_incidents(paris)
    assert gdf.crs.to_string() == "EPSG:32631" and report.crs == "EPSG:32631"
    gdf, report = read_incidents(london, target_crs="EPSG:32630")
    assert report.crs == "EPSG:32630"
    with pytest.raises(ParameterError, match=r"target_crs"):
        read_incidents(london, target_crs="EPSG:4326")
    with pytest.raises(ParameterError, match=r"crs: 'nonsense'"):
        read_incidents(london, crs="nonsense")


def test_no_usable_rows_is_an_error_naming_the_file(tmp_path: Path) -> None:
    f = write_street(tmp_path / "x-street.csv", [street_row("a", "2019-01", None, None)])
    with pytest.raises(InputFileError, match=r"x-street.csv: none of the 1 rows.*no coordinates 1"):
        read_incidents(f)


# ------------------------------------------------------------------------------------------
# Warnings
# ------------------------------------------------------------------------------------------
def test_swapped_gb_coordinates_are_swapped_back(tmp_path: Path) -> None:
    """lon~51, lat~-0.02: both in range, but only the other way round in Great Britain."""
    f = tmp_path / "swapped.csv"
    f.write_text("longitude,latitude,note\n51.58,-0.02,a\n51.59,-0.01,b\n")
    gdf, report = read_incidents(f)
    assert report.rows_used == 2 and gdf.crs.to_string() == "EPSG:27700"
    ex, _ny = TO_BNG.transform(-0.02, 51.58)
    assert gdf.geometry.iloc[0].x == pytest.approx(ex, abs=0.01)
    assert any("swapped in swapped.csv" in w and "were swapped back" in w for w in report.warnings)


def test_swapped_out_of_range_latitudes_are_swapped_back(tmp_path: Path) -> None:
    """Sydney with latitude 151: the swapped reading is valid everywhere."""
    f = tmp_path / "sydney.csv"
    f.write_text("lat,lon\n151.21,-33.87\n151.22,-33.86\n")
    gdf, report = read_incidents(f)
    assert report.rows_used == 2 and gdf.crs.to_string() == "EPSG:32756"
    assert any(
        "latitudes are outside -90..90; they were swapped back" in w for w in report.warnings
    )


def test_swap_not_done_when_the_other_reading_is_invalid_too(tmp_path: Path) -> None:
    f = tmp_path / "broken.csv"
    f.write_text("lat,lon\n120,100\n130,100\n51.58,-0.02\n")
    gdf, report = read_incidents(f)
    check_totals(gdf, report)
    assert report.dropped == {OUT_OF_RANGE: 2}
    assert any("they were not swapped back" in w for w in report.warnings)


def test_few_map_points_warning(tmp_path: Path) -> None:
    """150 of 200 incidents on 3 points (plus 50 spread): the warning says the numbers."""
    rows = [street_row(f"p{i}", "2019-01", LON + 0.001 * (i % 3), LAT) for i in range(150)]
    rows += [
        street_row(f"s{i}", "2019-01", LON + 0.0003 * i, LAT + 0.0002 * (i + 1)) for i in range(50)
    ]
    _gdf, report = read_incidents(write_street(tmp_path / "a-street.csv", rows))
    assert any("150 of 200 incidents (75%) share 3 map points" in w for w in report.warnings), (
        report.warnings
    )
    spread = [street_row(f"s{i}", "2019-01", LON + 0.0003 * i, LAT) for i in range(200)]
    _, report2 = read_incidents(write_street(tmp_path / "b" / "b-street.csv", spread))
    assert not any("map point" in w for w in report2.warnings)


def test_missing_months_warning(tmp_path: Path) -> None:
    for m in ("2016-01", "2016-02", "2016-04"):
        write_street(tmp_path / f"{m}-x-street.csv", month_rows(m, 2, prefix=m))
    _, report = read_incidents(tmp_path)
    assert "No incidents in 2016-03 (a month with no data published?)." in report.warnings
    for m in ("2016-09", "2017-02"):  # across a new year: eight more months missing
        write_street(tmp_path / f"{m}-x-street.csv", month_rows(m, 2, prefix=m))
    _, report = read_incidents(tmp_path)
    assert (
        "No incidents in 9 months between the first and last read: 2016-03, 2016-05, 2016-06, "
        "2016-07, 2016-08, 2016-10, ... (months with no data published?)."
    ) in report.warnings


# ------------------------------------------------------------------------------------------
# Archive guards
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("member", ["../evil.csv", "/abs/evil.csv", "a/../../evil.csv"])
def test_zip_members_escaping_the_archive_are_refused(tmp_path: Path, member: str) -> None:
    z = tmp_path / "bad.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok-street.csv", ",".join(STREET_HEADER) + "\n")
        zf.writestr(zipfile.ZipInfo(member), "lat,lon\n51.58,-0.02\n")
    with pytest.raises(InputFileError, match=r"bad.zip: refused: the member .*escapes"):
        read_incidents(z)


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    """50 MB of zeros compress ~1000 to 1; refused although a valid member comes first."""
    z = tmp_path / "bomb.zip"
    good = io.StringIO()
    csv.writer(good).writerows([STREET_HEADER, street_row("a", "2019-01", LON, LAT)])
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a-street.csv", good.getvalue())
        zf.writestr("zeros.csv", bytes(50_000_000))
    assert z.stat().st_size < 1_000_000
    with pytest.raises(InputFileError, match=r"bomb.zip: refused: it is compressed .* to 1"):
        read_incidents(z)
    with pytest.raises(InputFileError, match=r"max_archive_bytes"):
        read_incidents(z, max_archive_bytes=10_000_000, max_archive_ratio=10_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip"]


# ------------------------------------------------------------------------------------------
# Errors that name the file
# ------------------------------------------------------------------------------------------
def test_input_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nowhere.csv: no such file or folder"):
        read_incidents(tmp_path / "nowhere.csv")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputFileError, match=r"empty_dir: the folder holds no incident files"):
        read_incidents(tmp_path / "empty_dir")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(InputFileError, match=r"data.xlsx: unknown file type '.xlsx'"):
        read_incidents(tmp_path / "data.xlsx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputFileError, match=r"empty.csv: the file is empty"):
        read_incidents(tmp_path / "empty.csv")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match=r"broken.zip: not a readable zip archive"):
        read_incidents(tmp_path / "broken.zip")
    with pytest.raises(ParameterError, match=r"inputs"):
        read_incidents([])
    assert issubclass(InputFileError, InputError)


def test_load_report_drop_lines_and_dict() -> None:
    report = LoadReport(rows_read=10, rows_used=10, inputs=["a.csv", "b.csv"])
    report.drop(NO_COORDINATES, 0, ["never shown"])
    assert report.dropped == {} and report.examples == {}
    report.drop(NO_COORDINATES, 7, [f"a.csv row {i}" for i in range(2, 9)])
    report.drop(NO_COORDINATES, 1, ["b.csv row 2"])
    report.rows_used -= 8
    report.warnings.append("Something to know.")
    assert report.rows_dropped == 8 and report.dropped == {NO_COORDINATES: 8}
    assert report.examples[NO_COORDINATES] == [f"a.csv row {i}" for i in range(2, 7)]
    assert report.lines() == [
        "Read 10 rows from 2 files; used 2.",
        "Dropped 8: no coordinates (first: a.csv row 2, a.csv row 3, a.csv row 4, "
        "a.csv row 5, a.csv row 6).",
        "Something to know.",
    ]
    d = report.to_dict()
    assert set(d) == {
        "rows_read",
        "rows_used",
        "rows_dropped",
        "examples",
        "warnings",
        "inputs",
        "empty_files",
        "crs",
    }
    assert d["rows_dropped"] == {NO_COORDINATES: 8}
    with pytest.raises(ValueError, match="count"):
        report.drop(NO_COORDINATES, -1)


# ------------------------------------------------------------------------------------------
# Invariants
# ------------------------------------------------------------------------------------------
_KINDS = st.sampled_from(["ok", "ok", "ok", "blank", "text", "range", "zero"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), _KINDS, st.sampled_from(["2019-03", "2019-04", "", "x"])),
        min_size=1,
        max_size=40,
    )
)
def test_every_row_is_used_or_counted_once(tmp_path_factory, rows) -> None:
    """A reference model of the reasons (first that applies) against the reader."""
    coords = {
        "ok": ("51.58", "-0.02"),
        "blank": ("", "-0.02"),
        "text": ("51.58", "n/a"),
        "range": ("-91", "181"),  # out of range read either way round
        "zero": ("0", "0"),
    }
    lines = ["ref,lat,lon,month"]
    expected: dict[str, int] = {}
    seen: set[int] = set()
    usable: set[tuple[int, str]] = set()  # (ref, month) of rows with an id usable so far
    used = 0
    for ref, kind, month in rows:
        lat, lon = coords[kind]
        lines.append(f"{ref if ref else ''},{lat},{lon},{month}")
        reason = {
            "blank": NO_COORDINATES,
            "text": NO_COORDINATES,
            "range": OUT_OF_RANGE,
            "zero": AT_ZERO,
        }.get(kind)
        if reason is None and month not in ("2019-03", "2019-04"):
            reason = BAD_MONTH
        if reason is None and ref and (ref, month) in usable:  # the same row, every field
            reason = DUPLICATE_ROW
        elif reason is None and ref:
            usable.add((ref, month))
        if reason is None and ref and ref in seen:
            reason = DUPLICATE_ID
        if reason is None:
            used += 1
            if ref:
                seen.add(ref)
        else:
            expected[reason] = expected.get(reason, 0) + 1
    f = tmp_path_factory.mktemp("hyp") / "rows.csv"
    f.write_text("\n".join(lines) + "\n")
    if used == 0:
        with pytest.raises(InputFileError, match=r"rows.csv: none of the"):
            read_incidents(f)
        return
    gdf, report = read_incidents(f)
    check_totals(gdf, report)
    assert report.rows_read == len(rows)
    assert report.dropped == expected
    assert report.rows_used == used


# ------------------------------------------------------------------------------------------
# Real data (../shared/data), skipped when absent
# ------------------------------------------------------------------------------------------
def _real(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.mark.realdata
def test_real_city_of_london_street_folder() -> None:
    gdf, report = read_incidents(_real("police-uk", "city-of-london-street"))
    check_totals(gdf, report)
    assert report.rows_read == 16_590 and len(report.inputs) == 21
    assert report.dropped[NO_COORDINATES] == pytest.approx(1_190, abs=20)
    assert report.crs == "EPSG:27700"
    assert set(gdf["category"]) == set(CRIME_TYPES)
    # rows identical in every field (2019-06 row 223 repeats row 219): duplicates; the Crime
    # IDs repeated on rows that differ (outcome, location) all stay, suffixed -2, -3
    assert report.dropped[DUPLICATE_ROW] == 4
    assert gdf["incident_id"].str.endswith("-2").sum() == 91


@pytest.mark.realdata
def test_real_waltham_forest_api_folder() -> None:
    gdf, report = read_incidents(_real("police-uk", "waltham-forest-api"))
    check_totals(gdf, report)
    assert len(report.inputs) == 340
    assert report.dropped.get(DUPLICATE_ID, 0) > 0  # crimes on shared ward edges
    assert "No incidents in 2016-03 (a month with no data published?)." in report.warnings
    assert gdf["month"].min() == pd.Timestamp("2016-01-01")
    assert np.isfinite(gdf.geometry.x).all()


def test_the_archive_guard_is_shared_with_the_layer_loaders(tmp_path: Path) -> None:
    """One guard refuses an escaping member for incident zips and zipped boundaries alike."""
    import zipfile

    from geodata import load_wards
    from hotspots.errors import InputFileError as Refused

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../wards.shp", b"x")
    for reader in (read_incidents, load_wards):
        with pytest.raises(Refused, match="escapes the archive"):
            reader(evil)


@pytest.mark.parametrize("rows_before", [3, 60_000])
def test_values_with_line_breaks_and_blank_lines_are_read_whole(
    tmp_path: Path, rows_before: int
) -> None:
    """The fast line-splitting parse must not cut a quoted value that holds a line break,
    wherever it falls (a small file, or past pyarrow's first block); blank lines are skipped."""
    lines = ["lat,lon,Month,Street"]
    lines += [f"51.58,-0.02,2019-03,Road {i}" for i in range(rows_before)]
    lines += ['51.59,-0.03,2019-04,"Flat 2\nHigh Street"', "", "51.60,-0.04,2019-05,Last Road"]
    path = tmp_path / "breaks.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gdf, report = read_incidents(path, target_crs="EPSG:27700")
    assert report.rows_read == rows_before + 2 == len(gdf)
    assert gdf["location"].iloc[-2] == "Flat 2\nHigh Street"
    assert gdf["location"].iloc[-1] == "Last Road"
    assert gdf["month"].iloc[-1] == pd.Timestamp("2019-05-01")


@pytest.mark.parametrize("street_csv", [True, False])
def test_a_stray_quote_that_takes_in_rows_is_refused_with_its_row(
    tmp_path: Path, street_csv: bool
) -> None:
    """A quote opened and not closed on its line turns the rows up to the next quote into one
    value: those rows would be lost without a word. The file is refused, naming the row and
    column; a value with a line break of its own (an address) is still read (above)."""
    if street_csv:
        rows = month_rows("2024-01", 30)
        path = write_street(tmp_path / "2024-01-x-street.csv", rows)
        lines = path.read_text(encoding="utf-8").splitlines()
        for k in (6, 20):  # rows 7 and 21 as a spreadsheet numbers them (the header row 1)
            lines[k] = lines[k].replace("On or near", '"On or near', 1)
        column = "Location"
    else:
        lines = ["lat,lon,Month,Street"]
        lines += [f"51.58,-0.02,2019-03,Road {i}" for i in range(30)]
        for k in (6, 20):
            lines[k] = lines[k].replace("Road", '"Road', 1)
        column = "Street"
        path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        read_incidents(path, target_crs="EPSG:27700")
    text = str(err.value)
    assert f"{path.name}: row 7, column '{column}': a quote" in text
    assert "runs over 15 lines" in text and "\n" not in text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=30), st.integers(1, 12), st.booleans())
def test_line_length_window_check_agrees_with_the_full_scan(
    lengths: list[int], limit: int, trailing: bool
) -> None:
    from hotspots.io import generic_csv

    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if trailing else b"")
    longest = generic_csv._longest_line(data)[0] if data else 0
    assert generic_csv._lines_within(data, limit) == (longest <= limit)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_rows_kept_a_column_at_a_time_equal_loc(keep: list[bool]) -> None:
    """The read keeps its rows column by column (never two copies of a city's frame): the
    same frame, dtypes and order as ``frame.loc[keep].reset_index(drop=True)``."""
    from hotspots.io.read import _take_rows

    n = len(keep)
    frame = pd.DataFrame(
        {
            "incident_id": pd.Series([f"id{i}" for i in range(n)], dtype="str"),
            "month": pd.to_datetime(["2024-01-01"] * n),
            "n": np.arange(n, dtype=float),
            "Context": pd.Series([None if i % 3 else "x" for i in range(n)], dtype=object),
        },
        index=pd.RangeIndex(n),
    )
    mask = np.array(keep)
    expected = frame.loc[mask].reset_index(drop=True)
    got = _take_rows(frame.copy(), mask)
    pd.testing.assert_frame_equal(got, expected)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b,c", "\n", "\r\n"]), max_size=30),
    st.sampled_from([1, 2, 3, 5, 1 << 22]),
)
def test_rows_against_lines_counts_the_non_empty_lines(tokens: list[str], block: int) -> None:
    """The fast parse's check: rows + header == the non-empty lines, however many empty lines
    run together (with Windows line ends too), wherever the blocks it counts in are cut."""
    from hotspots.io.generic_csv import _one_row_per_line

    text = "".join(tokens)
    lines = text.split("\n")
    if text.endswith("\n"):
        lines = lines[:-1]
    non_empty = sum(1 for line in lines if line.removesuffix("\r"))
    utf8 = text.encode()
    assert _one_row_per_line(utf8, non_empty - 1, block)
    assert not _one_row_per_line(utf8, non_empty, block)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.one_of(st.text(max_size=4), st.none()), max_size=30),
    kind=st.sampled_from(["object", "str", "category"]),
)
def test_text_columns_become_sorted_categories_of_the_same_text(values: list, kind: str) -> None:
    """Whatever the column held (objects, str, categories; None or NaN for missing), the
    Incidents frame's categories read back as the same text (without control characters
    and bidirectional overrides, :data:`CONTROLS`), "" for missing, sorted once."""
    from hotspots.io.text_categories import CONTROLS, as_text_categories

    s = pd.Series(values, dtype=object if kind == "object" else kind)
    out = as_text_categories(s)
    assert isinstance(out.dtype, pd.CategoricalDtype)
    assert out.astype(object).tolist() == ["" if v is None else CONTROLS.sub("", v) for v in values]
    names = list(out.cat.categories)
    assert names == sorted(set(names)) and out.cat.categories.dtype == "str"


def test_a_mostly_distinct_extra_column_stays_text() -> None:
    from hotspots.io.text_categories import as_text_categories

    ids = pd.Series([f"note {i}" for i in range(10)] + ["note 0"], dtype="str")
    assert as_text_categories(ids, unless_unique=True).dtype == "str"
    assert isinstance(as_text_categories(ids).dtype, pd.CategoricalDtype)
    repeated = pd.Series(["a", "b"] * 6, dtype="str")
    assert isinstance(as_text_categories(repeated, unless_unique=True).dtype, pd.CategoricalDtype)


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(
        st.lists(st.sampled_from(["", "Drugs", "Robbery", "Burglary", "On or near A"]), max_size=8),
        min_size=1,
        max_size=4,
    )
)
def test_parts_put_together_keep_their_categories(parts: list) -> None:
    """Parts whose categories differ (each file its own names) stay categorical when put
    together, with every value where it was."""
    from hotspots.io.text_categories import as_text_categories, concat_parts

    frames = [
        pd.DataFrame({"category": as_text_categories(pd.Series(values, dtype="str"))})
        for values in parts
    ]
    out = concat_parts(frames)
    assert isinstance(out["category"].dtype, pd.CategoricalDtype)
    assert out["category"].astype(object).tolist() == [v for values in parts for v in values]
    assert list(out.index) == list(range(len(out)))


def test_projection_in_two_threads_equals_one_call() -> None:
    """Above the threshold the rows are projected in two halves at once: the same numbers."""
    import pyproj

    from hotspots import crs as read_module

    rng = np.random.default_rng(5)
    n = read_module.PARALLEL_PROJECT_ROWS + 1001
    lon, lat = rng.uniform(-0.5, 0.3, n), rng.uniform(51.3, 51.7, n)
    lon[7] = np.nan  # a row without coordinates stays without
    wgs84, bng = pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(27700)
    x, y = read_module.project_xy(wgs84, bng, lon, lat)
    want_x, want_y = pyproj.Transformer.from_crs(wgs84, bng, always_xy=True).transform(lon, lat)
    np.testing.assert_array_equal(x, want_x)
    np.testing.assert_array_equal(y, want_y)


def test_text_columns_made_two_at_a_time_read_as_one_thread_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From PARALLEL_TEXT_ROWS rows on, the id, category, location, LSOA and outcome columns
    (and the extra ones) are made two at a time: the frame is the one a single thread makes,
    categories and their order included."""
    from hotspots._threads import threads_at_most
    from hotspots.io import parts, text_categories

    monkeypatch.setattr(parts, "PARALLEL_TEXT_ROWS", 2)
    monkeypatch.setattr(text_categories, "PARALLEL_TEXT_ROWS", 2)
    rng = np.random.default_rng(3)
    rows = []
    for i in range(60):
        row = street_row(
            f" id-{i % 45} " if i % 4 else "",  # ids to strip, repeats, rows without one
            f"2024-{1 + i % 3:02d}",
            round(LON + 0.001 * rng.integers(5), 6),
            round(LAT + 0.001 * rng.integers(5), 6),
            str(rng.choice(["Burglary", " Drugs", "anti-social-behaviour"])),
        )
        row[6] = str(rng.choice(["On or near Hoe Street", " On or near High Street ", ""]))
        row[8] = f"Waltham Forest {i % 5:03d}A"
        rows.append(row)
    path = write_street(tmp_path / "2024-01-metropolitan-street.csv", rows)
    two, _ = read_incidents(path)
    with threads_at_most(1):
        one, _ = read_incidents(path)
    pd.testing.assert_frame_equal(two, one)
    assert two["location"].cat.categories.tolist() == [
        "",
        "On or near High Street",
        "On or near Hoe Street",
    ]
    assert (two["incident_id"].str.contains(":row-")).sum() == 15
