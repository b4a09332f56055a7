"""geodata.layers: ward and patrol area loaders, every format, CRS and bad case."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geodata import SAMPLE_PATROL_AREAS, SAMPLE_WARDS
from geodata.layers import (
    PATROL_COLUMNS,
    WARD_COLUMNS,
    load_patrol_areas,
    load_wards,
    read_population,
)
from hotspots.errors import InputFileError, ParameterError

from .conftest import realdata_path

BNG = "EPSG:27700"
# Two 1 km squares side by side near Walthamstow (BNG metres): hand-worked areas 1 km² each.
WEST = box(537_000, 189_000, 538_000, 190_000)
EAST = box(538_000, 189_000, 539_000, 190_000)


def two_wards(**columns: list[object]) -> gpd.GeoDataFrame:
    """Two adjacent 1 km² wards in BNG with the given attribute columns."""
    return gpd.GeoDataFrame(columns, geometry=[WEST, EAST], crs=BNG)


def incidents_near() -> gpd.GeoDataFrame:
    """Three incident points inside the two wards (BNG)."""
    return gpd.GeoDataFrame(
        {"incident_id": ["a", "b", "c"]},
        geometry=gpd.points_from_xy([537_500, 538_500, 538_900], [189_500, 189_500, 189_100]),
        crs=BNG,
    )


def write_zipped_shapefile(
    frame: gpd.GeoDataFrame, folder: Path, *, with_prj: bool, name: str = "wards"
) -> Path:
    """Write ``frame`` as a Shapefile and zip its parts (without the .prj when asked)."""
    shp_dir = folder / f"{name}_shp"
    shp_dir.mkdir()
    with warnings.catch_warnings():  # "'crs' was not provided": the point of some tests
        warnings.simplefilter("ignore", UserWarning)
        pyogrio.write_dataframe(frame, shp_dir / f"{name}.shp")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(shp_dir.iterdir()):
            if part.suffix == ".prj" and not with_prj:
                continue
            zf.write(part, f"{name}/{part.name}")
    return archive


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------------------------- formats


def test_geojson_in_wgs84_is_reprojected_to_bng(tmp_path: Path) -> None:
    """GeoJSON in EPSG:4326 with the canonical columns: reprojected, columns and dtypes fixed."""
    wards = two_wards(
        ward_code=["E05000001", "E05000002"],
        ward_name=["West", "East"],
        population=[1000, 2500],
        note=["x", "y"],
    ).to_crs("EPSG:4326")
    path = tmp_path / "wards.geojson"
    wards.to_file(path)
    out, notes = load_wards(path)
    assert notes == []
    assert out.columns.tolist() == [*WARD_COLUMNS, "note"]
    assert out.crs.to_string() == BNG
    assert out["ward_code"].dtype == "str" and out["ward_name"].dtype == "str"
    assert out["population"].dtype == "float64"
    assert out["population"].tolist() == [1000.0, 2500.0]
    assert out.geometry.area.to_numpy() == pytest.approx([1e6, 1e6], rel=1e-3)
    assert out.geometry.iloc[0].centroid.distance(WEST.centroid) < 1.0


def test_geopackage_with_two_polygon_layers_needs_a_layer(tmp_path: Path) -> None:
    """GPKG (EPSG:27700) with two polygon layers and a point layer: none chosen is an error."""
    path = tmp_path / "layers.gpkg"
    two_wards(WD22CD=["E05000001", "E05000002"], WD22NM=["West", "East"]).to_file(
        path, layer="wards_2022"
    )
    gpd.GeoDataFrame(
        {"name": ["Centre"]}, geometry=[box(537_500, 189_200, 538_500, 189_800)], crs=BNG
    ).to_file(path, layer="patrols")
    incidents_near().to_file(path, layer="crimes")
    with pytest.raises(InputFileError) as exc:
        load_wards(path)
    msg = one_line(exc)
    assert msg.startswith("layers.gpkg:")
    assert "wards_2022" in msg and "patrols" in msg and "layer=" in msg
    wards, notes = load_wards(path, layer="wards_2022")
    assert wards["ward_code"].tolist() == ["E05000001", "E05000002"]
    assert wards["ward_name"].tolist() == ["West", "East"]
    assert notes == []
    areas, _ = load_patrol_areas(path, layer="patrols")
    assert areas["patrol_area"].tolist() == ["Centre"]
    with pytest.raises(InputFileError) as exc:
        load_wards(path, layer="wards_2018")
    msg = one_line(exc)
    assert "'wards_2018'" in msg and "wards_2022 (Polygon)" in msg and "crimes (Point)" in msg


def test_geopackage_one_polygon_layer_beside_points_is_chosen(tmp_path: Path) -> None:
    """GPKG with one polygon layer and one point layer: the polygon layer is read."""
    path = tmp_path / "mixed.gpkg"
    incidents_near().to_file(path, layer="crimes")
    two_wards(ward_code=["A", "B"], ward_name=["West", "East"]).to_file(path, layer="wards")
    wards, _ = load_wards(path)
    assert wards["ward_code"].tolist() == ["A", "B"]


def test_zipped_shapefile_with_prj_in_utm(tmp_path: Path) -> None:
    """Zipped Shapefile with a .prj in UTM zone 31N (not BNG): read in place, reprojected."""
    frame = two_wards(GSS_CODE=["E05000001", "E05000002"], NAME=["West", "East"])
    archive = write_zipped_shapefile(frame.to_crs("EPSG:32631"), tmp_path, with_prj=True)
    wards, notes = load_wards(archive)
    assert notes == []
    assert wards.crs.to_string() == BNG
    assert wards["ward_code"].tolist() == ["E05000001", "E05000002"]
    assert wards["ward_name"].tolist() == ["West", "East"]
    assert wards.geometry.area.to_numpy() == pytest.approx([1e6, 1e6], rel=1e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wards.zip", "wards_shp"]


def test_zipped_shapefile_without_prj_bng_inferred(tmp_path: Path) -> None:
    """No .prj, coordinates that fit British National Grid: EPSG:27700 assumed, with a warning."""
    frame = two_wards(ward_code=["A", "B"], ward_name=["West", "East"]).set_crs(
        None, allow_override=True
    )
    archive = write_zipped_shapefile(frame, tmp_path, with_prj=False)
    assert not any(n.endswith(".prj") for n in zipfile.ZipFile(archive).namelist())
    wards, notes = load_wards(archive)
    assert len(notes) == 1
    assert "British National Grid" in notes[0] and ".prj" in notes[0]
    assert wards.geometry.iloc[0].equals(WEST)  # shapefiles reorient rings


def test_zipped_shapefile_without_prj_wgs84_inferred(tmp_path: Path) -> None:
    """No .prj, coordinates that look like longitude/latitude: EPSG:4326 assumed, warned."""
    frame = two_wards(ward_code=["A", "B"], ward_name=["West", "East"]).to_crs("EPSG:4326")
    archive = write_zipped_shapefile(
        frame.set_crs(None, allow_override=True), tmp_path, with_prj=False
    )
    wards, notes = load_wards(archive)
    assert len(notes) == 1 and "EPSG:4326" in notes[0]
    assert wards.geometry.area.to_numpy() == pytest.approx([1e6, 1e6], rel=1e-3)


def test_zipped_shapefile_without_prj_neither_is_an_error(tmp_path: Path) -> None:
    """No .prj, UTM metres (northings 5.7 million): neither lon/lat nor BNG; crs= fixes it."""
    frame = two_wards(ward_code=["A", "B"], ward_name=["West", "East"]).to_crs("EPSG:32631")
    archive = write_zipped_shapefile(
        frame.set_crs(None, allow_override=True), tmp_path, with_prj=False
    )
    with pytest.raises(InputFileError) as exc:
        load_wards(archive)
    msg = one_line(exc)
    assert msg.startswith("wards.zip!wards/wards.shp:")
    assert ".prj" in msg and "crs=" in msg
    wards, notes = load_wards(archive, crs="EPSG:32631")
    assert notes == []
    assert wards.geometry.area.to_numpy() == pytest.approx([1e6, 1e6], rel=1e-3)


def test_geojson_with_bng_metres_but_no_crs_member(tmp_path: Path) -> None:
    """Old-style GeoJSON holding BNG metres without a "crs" member (read as WGS84 by GDAL)."""
    ring = [
        [537000, 189000],
        [538000, 189000],
        [538000, 190000],
        [537000, 190000],
        [537000, 189000],
    ]
    feature = {
        "type": "Feature",
        "properties": {"ward_code": "A", "ward_name": "West"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    wards, notes = load_wards(path)
    assert len(notes) == 1 and "British National Grid" in notes[0]
    assert wards.geometry.iloc[0].equals(WEST)


def test_shapefile_folder(tmp_path: Path) -> None:
    """A folder holding one Shapefile (as ONS downloads unzip): the folder is enough."""
    folder = tmp_path / "wards"
    folder.mkdir()
    two_wards(WD24CD=["E05000001", "E05000002"], WD24NM=["West", "East"]).to_file(
        folder / "Wards_December_2024.shp"
    )
    wards, _ = load_wards(folder)
    assert wards["ward_code"].tolist() == ["E05000001", "E05000002"]


@pytest.mark.skipif(
    not {"KML", "LIBKML"} & set(pyogrio.list_drivers()), reason="GDAL without a KML driver"
)
def test_kml_patrol_areas(tmp_path: Path) -> None:
    """KML as drawn in a web map: placemarks with <name>, 3D coordinates, in a folder."""
    west = ", ".join(
        f"{x},{y},0"
        for x, y in [(-0.03, 51.58), (-0.02, 51.58), (-0.02, 51.59), (-0.03, 51.59), (-0.03, 51.58)]
    )
    placemarks = "".join(
        f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        f"{coords.replace(', ', ' ')}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
        "</Placemark>"
        for name, coords in [("Market Outreach", west)]
    )
    path = tmp_path / "patrols.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><Folder><name>Patrols</name>{placemarks}</Folder></Document></kml>",
        encoding="utf-8",
    )
    areas, notes = load_patrol_areas(path)
    assert notes == []
    assert areas.columns[: len(PATROL_COLUMNS)].tolist() == PATROL_COLUMNS
    assert areas["patrol_area"].tolist() == ["Market Outreach"]
    assert areas.crs.to_string() == BNG
    assert not areas.geometry.has_z.any()
    # 0.01 degree of longitude by 0.01 of latitude at 51.585 N: about 0.69 km x 1.11 km.
    assert areas.geometry.area.iloc[0] / 1e6 == pytest.approx(0.6925 * 1.1125, rel=0.01)


# ---------------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    ("columns", "code", "name"),
    [
        ({"WD22CD": ["E1", "E2"], "WD22NM": ["West", "East"]}, "E1", "West"),
        ({"GSS_CODE": ["E1", "E2"], "NAME": ["West", "East"]}, "E1", "West"),
        ({"Ward_Code": ["E1", "E2"], "Ward Name": ["West", "East"]}, "E1", "West"),
        ({"ons_code": ["E1", "E2"], "ward": ["West", "East"]}, "E1", "West"),
    ],
)
def test_column_detection(
    tmp_path: Path, columns: dict[str, list[object]], code: str, name: str
) -> None:
    """ONS-style WD22CD/WD22NM, London's GSS_CODE/NAME, other spellings and cases."""
    path = tmp_path / "wards.geojson"
    two_wards(**columns).to_file(path)
    wards, notes = load_wards(path)
    assert notes == []
    assert (wards["ward_code"].iloc[0], wards["ward_name"].iloc[0]) == (code, name)
    assert wards.columns.tolist() == WARD_COLUMNS  # the source columns became ours


def test_population_column_detected_with_thousands(tmp_path: Path) -> None:
    """Population as text with thousands separators under 'Usual_Residents'; one is not a number."""
    path = tmp_path / "wards.geojson"
    two_wards(
        ward_code=["A", "B"], ward_name=["West", "East"], Usual_Residents=["12,345", "n/a"]
    ).to_file(path)
    wards, notes = load_wards(path)
    assert wards["population"].iloc[0] == 12345.0
    assert np.isnan(wards["population"].iloc[1])
    assert len(notes) == 1 and "Usual_Residents" in notes[0] and "B" in notes[0]


@pytest.mark.parametrize("value", ["-5000", "0", "1e400", "inf"])
def test_population_that_is_not_a_number_of_people_is_left_unknown(
    tmp_path: Path, value: str
) -> None:
    """Negative, zero or infinite populations in a ward file: unknown (NaN), with a note."""
    path = tmp_path / "wards.geojson"
    two_wards(ward_code=["A", "B"], ward_name=["W", "E"], population=["100", value]).to_file(path)
    wards, notes = load_wards(path)
    assert wards["population"].iloc[0] == 100.0 and np.isnan(wards["population"].iloc[1])
    assert len(notes) == 1 and "not a number of people (> 0) for 1 ward(s)" in notes[0]


def test_explicit_columns_and_clash(tmp_path: Path) -> None:
    """Columns given by name; a source 'ward_code' not chosen is kept as 'ward_code_source'."""
    path = tmp_path / "wards.geojson"
    two_wards(ward_code=["old1", "old2"], CODE_2024=["N1", "N2"], label=["West", "East"]).to_file(
        path
    )
    wards, _ = load_wards(path, code_column="CODE_2024", name_column="label")
    assert wards["ward_code"].tolist() == ["N1", "N2"]
    assert wards["ward_name"].tolist() == ["West", "East"]
    assert wards["ward_code_source"].tolist() == ["old1", "old2"]


def test_missing_explicit_column_lists_columns(tmp_path: Path) -> None:
    """A given column that does not exist: one line listing the file's columns."""
    path = tmp_path / "wards.geojson"
    two_wards(GSS_CODE=["E1", "E2"], NAME=["West", "East"]).to_file(path)
    with pytest.raises(InputFileError) as exc:
        load_wards(path, population_column="residents")
    msg = one_line(exc)
    assert msg == (
        "wards.geojson: has no column 'residents' (population_column); its columns are: "
        "GSS_CODE, NAME."
    )


def test_no_code_column_codes_from_names(tmp_path: Path) -> None:
    """Only a name column: the names become the codes, with a warning."""
    path = tmp_path / "wards.geojson"
    two_wards(name=["West", "East"]).to_file(path)
    wards, notes = load_wards(path)
    assert wards["ward_code"].tolist() == ["West", "East"]
    assert len(notes) == 1 and "no ward code column" in notes[0]


def test_no_code_or_name_column_is_an_error(tmp_path: Path) -> None:
    """Neither a code nor a name column: the error lists the columns."""
    path = tmp_path / "wards.geojson"
    two_wards(LAD22CD=["E1", "E2"]).to_file(path)
    with pytest.raises(InputFileError) as exc:
        load_wards(path)
    assert "LAD22CD" in one_line(exc) and "code_column=" in one_line(exc)


def test_duplicate_codes_are_dissolved(tmp_path: Path) -> None:
    """One ward drawn as two features (code A twice): merged, populations added, warned."""
    path = tmp_path / "wards.geojson"
    gpd.GeoDataFrame(
        {
            "ward_code": ["A", "B", "A"],
            "ward_name": ["West", "East", "West"],
            "population": [100, 200, 50],
        },
        geometry=[
            box(537_000, 189_000, 537_500, 190_000),
            EAST,
            box(537_500, 189_000, 538_000, 190_000),
        ],
        crs=BNG,
    ).to_file(path)
    wards, notes = load_wards(path)
    assert wards["ward_code"].tolist() == ["A", "B"]
    assert wards["population"].tolist() == [150.0, 200.0]
    assert wards.geometry.iloc[0].area == pytest.approx(1e6)
    assert wards.geometry.iloc[0].geom_type == "Polygon"
    assert len(notes) == 1 and "merged" in notes[0] and "A" in notes[0]


def test_patrol_names_detected_or_numbered(tmp_path: Path) -> None:
    """'Title' names patrol areas; without a name column they are numbered, with a warning."""
    path = tmp_path / "patrols.geojson"
    two_wards(Title=["Market", "Station"]).to_file(path)
    areas, notes = load_patrol_areas(path)
    assert areas["patrol_area"].tolist() == ["Market", "Station"] and notes == []
    path2 = tmp_path / "unnamed.geojson"
    two_wards(shift=[1, 2]).to_file(path2)
    areas, notes = load_patrol_areas(path2)
    assert areas["patrol_area"].tolist() == ["Patrol area 1", "Patrol area 2"]
    assert areas.columns.tolist() == [*PATROL_COLUMNS, "shift"]
    assert len(notes) == 1 and "name_column=" in notes[0]


# ---------------------------------------------------------------------------------- geometry


def test_bow_tie_is_repaired_with_a_warning(tmp_path: Path) -> None:
    """A self-intersecting 'bow-tie' ward: make_valid splits it into two triangles of 1 km²."""
    bow_tie = Polygon(
        [(537_000, 189_000), (539_000, 191_000), (539_000, 189_000), (537_000, 191_000)]
    )
    assert not bow_tie.is_valid
    path = tmp_path / "wards.geojson"
    gpd.GeoDataFrame(
        {"ward_code": ["A", "B"], "ward_name": ["Bow Tie", "Square"]},
        geometry=[bow_tie, box(539_000, 189_000, 540_000, 190_000)],
        crs=BNG,
    ).to_file(path)
    wards, notes = load_wards(path)
    fixed = wards.geometry.iloc[0]
    assert fixed.is_valid and isinstance(fixed, MultiPolygon) and len(fixed.geoms) == 2
    assert fixed.area == pytest.approx(2e6)  # two triangles, base 2 km, height 1 km
    assert len(notes) == 1
    assert "1 invalid polygon(s) repaired" in notes[0] and "Bow Tie" in notes[0]
    assert "Square" not in notes[0]


@pytest.mark.parametrize(
    ("geometry", "kind"),
    [
        ([Point(537_500, 189_500), Point(538_500, 189_500)], "Point"),
        ([LineString([(537_000, 189_000), (538_000, 190_000)])] * 2, "LineString"),
    ],
)
def test_points_or_lines_as_areas_are_an_error(
    tmp_path: Path, geometry: list[object], kind: str
) -> None:
    """Points or lines given as ward areas: one line naming the geometry type and the fix."""
    path = tmp_path / "wards.geojson"
    gpd.GeoDataFrame({"ward_code": ["A", "B"]}, geometry=geometry, crs=BNG).to_file(path)
    with pytest.raises(InputFileError) as exc:
        load_wards(path)
    assert one_line(exc) == (
        f"wards.geojson: holds {kind} geometries (2 of 2 features), not areas; give the wards "
        "as polygons, not points or lines."
    )


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """A GeoJSON FeatureCollection with no features."""
    path = tmp_path / "patrols.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        load_patrol_areas(path)
    assert one_line(exc) == (
        "patrols.geojson: holds no patrol areas (the layer is empty); check that it is the "
        "right file or layer."
    )


def test_layer_nowhere_near_the_incidents_is_an_error(tmp_path: Path) -> None:
    """Wards in Manchester for incidents in Walthamstow: the wrong area (or CRS)."""
    path = tmp_path / "wards.geojson"
    gpd.GeoDataFrame(
        {"ward_code": ["M1"]}, geometry=[box(383_000, 397_000, 385_000, 399_000)], crs=BNG
    ).to_file(path)
    with pytest.raises(InputFileError) as exc:
        load_wards(path, incidents=incidents_near())
    msg = one_line(exc)
    assert msg.startswith("wards.geojson: the wards lie nowhere near the incidents")
    assert msg.endswith("check it is the right area or CRS.")
    # The same file is fine without incidents, and right ones pass the check.
    load_wards(path)
    two_wards(ward_code=["A", "B"]).to_file(tmp_path / "near.geojson")
    load_wards(tmp_path / "near.geojson", incidents=incidents_near().to_crs("EPSG:4326"))


def test_zip_member_escaping_the_archive_is_refused(tmp_path: Path) -> None:
    """A zip whose member path climbs out with '..': refused before anything is read."""
    archive = tmp_path / "wards.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil/wards.geojson", '{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputFileError) as exc:
        load_wards(archive)
    msg = one_line(exc)
    assert msg.startswith("wards.zip: refused: the member '../../evil/wards.geojson'")


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    """A member that inflates 1000 to 1 (5 MB of zeros): refused from the directory alone."""
    archive = tmp_path / "wards.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("wards.geojson", b"\0" * 5_000_000)
    with pytest.raises(InputFileError) as exc:
        load_wards(archive)
    assert "zip bomb" in one_line(exc)


def test_other_input_errors(tmp_path: Path) -> None:
    """No such file, an unknown extension, a bad target CRS."""
    with pytest.raises(InputFileError) as exc:
        load_wards(tmp_path / "missing.geojson")
    assert "no such file" in one_line(exc)
    (tmp_path / "wards.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        load_wards(tmp_path / "wards.csv")
    assert one_line(exc).startswith("wards.csv: not a boundary file")
    two_wards(ward_code=["A", "B"]).to_file(tmp_path / "w.geojson")
    with pytest.raises(ParameterError) as exc:
        load_wards(tmp_path / "w.geojson", target_crs="EPSG:999999")
    assert one_line(exc).startswith("target_crs:")


def test_input_file_is_not_modified(tmp_path: Path) -> None:
    """Loading never writes: the file's bytes are unchanged."""
    path = tmp_path / "wards.geojson"
    two_wards(ward_code=["A", "B"]).to_file(path)
    before = path.read_bytes()
    load_wards(path)
    assert path.read_bytes() == before


# ---------------------------------------------------------------------------------- population


def test_read_population(tmp_path: Path) -> None:
    """A semicolon CSV with a BOM, ONS-style code column, thousands separators, a blank row."""
    path = tmp_path / "population.csv"
    path.write_bytes("\ufeffWD22CD;WD22NM;All_Residents\nE1;West;12,345\n;;\nE2;East;\n".encode())
    table = read_population(path)
    assert table.columns.tolist() == ["ward_code", "population"]
    assert table["ward_code"].tolist() == ["E1", "E2"]
    assert table["population"].iloc[0] == 12345.0 and np.isnan(table["population"].iloc[1])
    assert table["ward_code"].dtype == "str" and table["population"].dtype == "float64"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("code,residents\nE1,10\n", "no population column"),
        ("ward_code,population\nE1,ten\n", "'ten'"),
        ("ward_code,population\nE1,10\nE1,12\n", "'E1' appears more than once"),
        ("ward_code,population\nE1,-5000\n", "'-5000' for ward 'E1'"),
        (
            "ward_code,population\nE1,0\nE2,0\n",
            "'0' for ward 'E1' (population) is not a number of people (> 0) (and 1 more rows)",
        ),
        ("ward_code,population\nE1,1e400\n", "'1e400' for ward 'E1'"),
        ("ward_code,population\nE1,inf\n", "'inf'"),
    ],
)
def test_read_population_errors(tmp_path: Path, text: str, needle: str) -> None:
    """Population CSV problems, each one line naming the file."""
    path = tmp_path / "pop.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        read_population(path)
    assert one_line(exc).startswith("pop.csv:") and needle in one_line(exc)


def test_read_population_utf16_is_not_mojibake(tmp_path: Path) -> None:
    """A table saved by Excel as Unicode text (UTF-16 with BOM, tabs) reads as written."""
    path = tmp_path / "pop.txt"
    path.write_bytes(
        "ward_code\tward_name\tpopulation\r\nE1\tSaint-Étienne\t1200\r\n".encode("utf-16")
    )
    table = read_population(path)
    assert table["ward_code"].tolist() == ["E1"] and table["population"].tolist() == [1200.0]


def test_read_population_explicit_columns(tmp_path: Path) -> None:
    """Columns given by name, in any case."""
    path = tmp_path / "pop.csv"
    path.write_text("Area,Residents\nE1,10\n", encoding="utf-8")
    table = read_population(path, code_column="area", population_column="Residents")
    assert table["population"].tolist() == [10.0]


# ---------------------------------------------------------------------------------- demo, real


def test_demo_layers_load_cleanly() -> None:
    """The bundled demo wards and patrol areas: no warnings, BNG, canonical columns."""
    wards, notes = load_wards(SAMPLE_WARDS)
    assert notes == [] and len(wards) == 10
    assert wards["population"].notna().all()
    areas, notes = load_patrol_areas(SAMPLE_PATROL_AREAS)
    assert notes == [] and len(areas) == 4
    assert areas.crs.to_string() == BNG


@pytest.mark.realdata
def test_real_london_wards_gpkg() -> None:
    """All 657 London wards (GSS_CODE/NAME, EPSG:27700): codes and names found, no warnings."""
    path = realdata_path("boundaries", "london_wards_2018_bng.gpkg")
    wards, notes = load_wards(path)
    assert len(wards) == 657 and notes == []
    assert wards["ward_code"].str.match(r"^E05\d{6}$").all()
    assert wards.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert wards.is_valid.all()


@pytest.mark.realdata
def test_real_waltham_forest_geojson_matches_gpkg() -> None:
    """The WGS84 GeoJSON of Waltham Forest's 20 wards, reprojected, matches the BNG GeoPackage."""
    geojson = realdata_path("boundaries", "waltham_forest_wards_2018_wgs84.geojson")
    gpkg = realdata_path("boundaries", "london_wards_2018_bng.gpkg")
    wf, notes = load_wards(geojson)
    assert len(wf) == 20 and notes == []
    london, _ = load_wards(gpkg)
    ref = london.set_index("ward_code").loc[wf["ward_code"]]
    assert wf.geometry.area.to_numpy() == pytest.approx(ref.geometry.area.to_numpy(), rel=1e-3)


@pytest.mark.realdata
def test_real_lsoa_shapefile_folder() -> None:
    """The London LSOA shapefile folder (LSOA11CD/LSOA11NM given explicitly) loads."""
    folder = realdata_path("boundaries", "london-lsoa-2011")
    lsoas, notes = load_wards(folder, code_column="LSOA11CD", name_column="lsoa11nm")
    assert len(lsoas) == 4835 and notes == []
    assert lsoas["ward_code"].iloc[0] == "E01000001"
    assert lsoas.crs.to_string() == BNG


def test_population_column_not_a_string_frame() -> None:
    """read_population rejects a non-path argument with a ParameterError."""
    with pytest.raises(ParameterError):
        read_population(pd.DataFrame())  # type: ignore[arg-type]


def test_a_nan_vertex_is_named_not_blamed_on_the_crs(tmp_path: Path) -> None:
    from shapely.geometry import Polygon

    path = tmp_path / "nan.gpkg"
    with warnings.catch_warnings():  # shapely warns of the NaN it is asked to build
        warnings.simplefilter("ignore", RuntimeWarning)
        bad = Polygon([(530_000, 180_000), (531_000, float("nan")), (531_000, 181_000)])
    good = Polygon([(532_000, 180_000), (533_000, 180_000), (533_000, 181_000)])
    gpd.GeoDataFrame({"ward_code": ["A", "B"]}, geometry=[good, bad], crs=27700).to_file(path)
    with pytest.raises(InputFileError, match=r"nan.gpkg: feature 2 \(1 in all\) has a corner"):
        load_wards(path)


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("empty.geojson", b"", "the file is empty (0 bytes)"),
        ("junk.json", b'{"a": 1}', "not a GeoJSON, GeoPackage, Shapefile or KML file of shapes"),
        ("junk.gpkg", b"not a database at all" * 50, "its contents are not GeoPackage"),
        ("vrt.geojson", b"<OGRVRTDataSource><OGRVRTLayer name='x'>", "not GeoJSON, whatever"),
    ],
)
def test_an_unreadable_boundary_file_is_said_plainly(
    tmp_path: Path, name: str, content: bytes, said: str
) -> None:
    """One line naming the file, without GDAL's own paths or driver advice."""
    path = tmp_path / name
    path.write_bytes(content)
    for load in (load_patrol_areas, load_wards):
        with pytest.raises(InputFileError) as info:
            load(path)
        text = str(info.value)
        assert text.startswith(f"{name}: ") and said in text
        assert str(tmp_path) not in text and "<DRIVER>" not in text and "\n" not in text


def test_wards_over_the_incidents_box_holding_none_are_refused(tmp_path: Path) -> None:
    """A ward layer over the incidents' box but holding none of them (a corner of it, as
    another borough's wards reach a City's stray points) is the wrong area: one line."""
    x0, y0 = 530_000.0, 180_000.0
    inc = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(x0 + 10 * np.arange(50.0), y0 + 10 * np.arange(50.0)),
        crs=27700,
    )
    corner = box(x0 + 300, y0 - 500, x0 + 2000, y0 + 100)  # below the diagonal of incidents
    path = tmp_path / "corner.geojson"
    gpd.GeoDataFrame({"name": ["Corner"]}, geometry=[corner], crs=27700).to_file(path)
    with pytest.raises(InputFileError, match=r"corner\.geojson: the wards hold none of the"):
        load_wards(path, incidents=inc)
    more = pd.concat(
        [inc, gpd.GeoDataFrame(geometry=[Point(x0 + 1000, y0)], crs=27700)], ignore_index=True
    )
    frame, _ = load_wards(path, incidents=gpd.GeoDataFrame(more, crs=27700))  # one inside
    assert len(frame) == 1
