"""A data.police.uk street CSV's coordinates are parsed as numbers by pyarrow at once; the
values must be those the text path gives (:func:`hotspots.io.parts.to_float`), and a file
with a value pyarrow's number parser refuses is read as text, every row counted as before."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.io import read_incidents
from hotspots.io.generic_csv import _arrow_csv
from hotspots.io.parts import to_float
from tests.conftest import STREET_HEADER

LON, LAT = -0.02, 51.58

coordinate_text = st.one_of(
    st.floats(-180, 180, allow_nan=False).map(repr),
    st.floats(-180, 180, allow_nan=False).map(lambda v: f"{v:.6f}"),
    st.integers(-180, 180).map(str),
    st.sampled_from(
        [
            "",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "1e2",
            "+1.5",
            ".5",
            "5.",
            "-0",
            "-0.0",
            " 1.5",
            "1,5",
            "abc",
            "N/A",
            "0x10",
            "1e400",
            "1_0",
        ]
    ),
)


def _street_csv(lons: list[str]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for k, lon in enumerate(lons):
        w.writerow(
            [f"id{k}", "2024-01", "", "", lon, str(LAT), "On or near X", "", "", "Robbery", "", ""]
        )
    return out.getvalue().encode("utf-8")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(
        np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(coordinate_text, min_size=1, max_size=12))
def test_coordinates_parsed_as_numbers_equal_the_text_path(lons: list[str]) -> None:
    data = _street_csv(lons)
    text = data.decode("utf-8")
    table = _arrow_csv(text, data, ",")
    assert table is not None
    parsed = table.to_pandas()
    as_text = to_float(pd.Series(lons, dtype="str"))
    assert _same(to_float(parsed["Longitude"]), as_text)
    lats = to_float(parsed["Latitude"])
    assert (lats == LAT).all()


def test_plain_coordinates_are_parsed_as_numbers() -> None:
    data = _street_csv(["-0.020000", "", "1e2", "-0"])
    table = _arrow_csv(data.decode("utf-8"), data, ",")
    assert table is not None
    assert str(table.schema.field("Longitude").type) == "double"
    assert str(table.schema.field("Crime ID").type) == "large_string"
    data = _street_csv(["-0.020000", "abc"])
    table = _arrow_csv(data.decode("utf-8"), data, ",")
    assert table is not None and str(table.schema.field("Longitude").type) == "large_string"


def test_a_coordinate_that_is_not_a_number_is_counted_not_lost(tmp_path: Path) -> None:
    rows = [f"{LON + k * 1e-4:.6f}" for k in range(8)]
    path = tmp_path / "2024-01-x-street.csv"
    path.write_bytes(_street_csv([*rows[:4], "abc", "", *rows[4:]]))
    incidents, report = read_incidents(path)
    assert report.rows_read == 10 and len(incidents) == 8
    assert report.dropped == {"no coordinates": 2}
    assert np.isfinite(incidents.geometry.x).all()
