"""The dashboard's guardrails for real data, through AppTest: incidents recorded far from the
rest, wards that do not fit the incidents, and the map framed on the bulk."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from tests.conftest import STREET_HEADER, make_street_rows
from ui import helpers

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# A row recorded in Derbyshire, 200 km from the test incidents (Walthamstow).
STRAY = ["", "2024-01", "Test Police", "Test Police", "-1.600000", "53.200000",
         "On or near Police Station", "E01000001", "Test 001A", "Drugs", "", ""]  # fmt: skip
# One ward over the south-east quarter of the incidents (4 x 4 km from 536000, 187500; no
# planted hotspot), one large empty ward east of them.
WARDS = gpd.GeoDataFrame(
    {"ward_code": ["W1", "W2"], "ward_name": ["Corner", "Empty East"]},
    geometry=[box(538_000, 187_500, 540_000, 189_500), box(540_500, 187_500, 548_500, 195_500)],
    crs="EPSG:27700",
)


@pytest.fixture
def at(tmp_path: Path) -> Iterator[AppTest]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOTSPOTS_STORE", str(tmp_path / "store.gpkg"))
        app = AppTest.from_file(APP, default_timeout=120)
        app.run()
        assert not app.exception
        yield app


def street_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(STREET_HEADER)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def upload(at: AppTest, rows: list[list[str]]) -> None:
    at.radio(key="source").set_value("Upload files").run()
    at.sidebar.get("file_uploader")[0].set_value(("2024-street.csv", street_csv(rows), "text/csv"))
    at.run()
    assert not at.exception


def analysed(at: AppTest) -> int:
    return int(next(m.value for m in at.metric if m.label == "Incidents analysed").replace(",", ""))


def test_a_stray_point_is_reported_and_can_be_left_out(at: AppTest) -> None:
    rows = [*make_street_rows(), STRAY]
    upload(at, rows)
    read = next(e for e in at.sidebar.expander if e.label.startswith("What was read"))
    lines = [c.value for c in read.caption]
    assert any(c.startswith("1 incident recorded far from the rest") for c in lines), lines
    assert analysed(at) == len(rows)
    assert read.label == f"What was read: {len(rows):,} incidents, all months"
    at.checkbox(key="leave_far").check().run()
    assert analysed(at) == len(rows) - 1
    read = next(e for e in at.sidebar.expander if e.label.startswith("What was read"))
    assert read.label == f"What was read: {len(rows) - 1:,} incidents, all months"  # stray out
    report = next(e for e in at.expander if e.label == "How the data were read")
    assert any("left out of the analysis" in m.value for m in report.markdown)
    assert not at.error


def test_the_map_is_framed_on_the_bulk() -> None:
    """build_map with the bulk's frame fits the map to it, not to the stray point."""
    rows = [*make_street_rows(), STRAY]
    incidents, _ = helpers.read_uploaded_incidents((("a.csv", street_csv(rows)),))
    from hotspots.guardrails import far_incidents
    from hotspots.pipeline import analyse

    far = far_incidents(incidents)
    assert far.n_far == 1 and far.bounds is not None
    (south, _), (north, _) = far.bounds
    assert north < 51.7 and south > 51.5  # Walthamstow, not Derbyshire (53.2)
    out = analyse(incidents, eps=100, min_samples=10)
    m = helpers.build_map(
        out, incidents, wards=None, patrols=None, tiles=None, attribution=None, title="t",
        synthetic=False, frame=far.bounds,
    )  # fmt: skip
    html = m.get_root().render()
    last_fit = html[html.rindex(".fitBounds(") :][:300]  # the last fit wins: the bulk
    assert str(south) in last_fit and str(north) in last_fit


def test_mismatched_wards_are_warned_about_and_can_be_trimmed(at: AppTest) -> None:
    upload(at, make_street_rows())
    at.radio(key="wards_source").set_value("Upload").run()
    uploaders = at.sidebar.get("file_uploader")
    uploaders[1].set_value(("wards.geojson", WARDS.to_json().encode(), "application/geo+json"))
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.sidebar.warning]
    assert any(w.startswith("Only ") and "fall inside the wards given" in w for w in warnings)
    assert any("times the" in w and "km²" in w for w in warnings), warnings
    assert not any("EPSG" in w or "--" in w for w in warnings)
    ground = [c.value for c in at.caption if "Concentration (PAI)" in c.value]
    assert ground and "the ward boundaries given" in ground[0]
    before = float(ground[0].split("against ")[1].split(" km²")[0].replace(",", ""))
    at.checkbox(key="wards_with_incidents").check().run()
    ground = [c.value for c in at.caption if "Concentration (PAI)" in c.value]
    assert float(ground[0].split("against ")[1].split(" km²")[0]) < before
    at.switch_page("ui/pages/plan.py").run()  # the ward table is the commander's
    assert not at.exception
    wards = next(
        df.value for df in at.dataframe if list(df.value.columns[:2]) == ["ward_code", "ward_name"]
    )
    assert wards["ward_name"].tolist() == ["Corner"]
