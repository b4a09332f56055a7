"""hotspots.csv_text: the Arrow CSV writer writes the bytes ``DataFrame.to_csv`` writes.

The reference is plain pandas: every text cell and column name through ``safe_cell``, then
``to_csv(index=False, lineterminator="\\n")``, what the project wrote before. Awkward values
(formula starts, numbers as text, commas, quotes, line ends, tiny and huge floats, NaN, -0.0,
Unicode digits) are drawn by Hypothesis; a chunk boundary is crossed on purpose.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots import csv_text
from hotspots._threads import threads_at_most
from hotspots.export import safe_cell, write_incidents_csv, write_table_csv

TEXT = st.text(
    alphabet=st.sampled_from(list("ab Z09.,;'\"=+-@\t\r\né٣eE ")), min_size=0, max_size=8
)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e10, 1e10).map(lambda v: round(v, 6)),
    st.floats(-1e6, 1e6).map(lambda v: round(v, 1)),
    st.sampled_from([0.0, -0.0, 1e-5, 1e-4, 9.999e-5, 1e15, 1e16, 123456789012345.6, 0.1 + 0.2]),
)


def reference_csv(table: pd.DataFrame) -> bytes:
    """What the project wrote before: pandas, with safe_cell on every text cell and name."""
    out = table.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not pd.api.types.is_numeric_dtype(col.dtype):
            out.isetitem(
                i, col.astype(object).map(lambda v: safe_cell(v) if isinstance(v, str) else v)
            )
    out.columns = [safe_cell(str(c)) for c in out.columns]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    kinds = draw(
        st.lists(
            st.sampled_from(
                ["float", "int", "bool", "str", "object", "category", "float codes", "int codes"]
            ),
            min_size=1,
            max_size=4,
        )
    )
    names = draw(st.lists(TEXT, min_size=len(kinds), max_size=len(kinds)))
    columns = []
    for kind in kinds:
        if kind == "float":
            columns.append(
                pd.Series(draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype="float64")
            )
        elif kind == "int":
            columns.append(
                pd.Series(
                    draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)),
                    dtype="int64",
                )
            )
        elif kind == "float codes":  # categories of numbers (NaN, None: missing)
            values = draw(st.lists(st.one_of(FLOATS, st.none()), min_size=n, max_size=n))
            columns.append(pd.Series(values, dtype="object").astype("category"))
        elif kind == "int codes":
            values = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
            columns.append(pd.Series(values, dtype="int64").astype("category"))
        elif kind == "bool":
            columns.append(
                pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
            )
        else:
            values = draw(st.lists(st.one_of(TEXT, st.none()), min_size=n, max_size=n))
            dtype = {"str": "str", "category": "category"}.get(kind, object)
            columns.append(pd.Series(values, dtype=dtype))
    table = (
        pd.concat(columns, axis=1, ignore_index=True)
        if n
        else pd.DataFrame({i: c for i, c in enumerate(columns)})
    )
    table.columns = names
    return table


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables())
def test_the_arrow_writer_writes_what_pandas_wrote(tmp_path: Path, table: pd.DataFrame) -> None:
    columns = [table.iloc[:, i] for i in range(table.shape[1])]
    assert csv_text.csv_columns(columns) is not None  # the Arrow path, not pandas
    path = write_table_csv(table, tmp_path / "t.csv")
    assert path.read_bytes() == reference_csv(table)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(FLOATS, min_size=1, max_size=30))
def test_floats_are_written_as_numpy_writes_them(
    tmp_path_factory: pytest.TempPathFactory, values: list[float]
) -> None:
    table = pd.DataFrame({"a": np.array(values, dtype=np.float64), "b": 1})
    path = write_table_csv(table, tmp_path_factory.mktemp("f") / "f.csv")
    assert path.read_bytes() == reference_csv(table)


@settings(max_examples=300, deadline=None)
@given(value=TEXT)
def test_the_vectorised_formula_rule_is_safe_cell(value: str) -> None:
    assert csv_text.safe_text(pa.array([value])).to_pylist() == [safe_cell(value)]


def test_chunks_join_into_one_file(tmp_path: Path) -> None:
    """Rows written in three chunks, the last with quoted cells, the others without."""
    n = 2 * csv_text.CHUNK_ROWS + 50
    table = pd.DataFrame(
        {
            "street": [f"Street {i}" if i < n - 30 else f"Street, {i}" for i in range(n)],
            "=n": np.arange(n, dtype=np.int64),
            "share": np.linspace(-1, 1, n).round(6),
        }
    )
    path = write_table_csv(table, tmp_path / "t.csv")
    assert path.read_bytes() == reference_csv(table)
    back = pd.read_csv(path, keep_default_na=False)
    assert back["street"].tolist() == table["street"].tolist()
    assert list(back.columns) == ["street", "'=n", "share"]


def test_chunks_made_text_two_at_a_time_are_written_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many small chunks made text in two threads, the file is the one-thread file:
    every chunk in its place, quoted or plain."""
    monkeypatch.setattr(csv_text, "CHUNK_ROWS", 7)
    monkeypatch.setattr(csv_text, "PARALLEL_CSV_ROWS", 10)
    rng = np.random.default_rng(11)
    n = 400
    table = pd.DataFrame(
        {
            "street": [f"Street, {i}" if rng.random() < 0.1 else f"Street {i}" for i in range(n)],
            "n": np.arange(n, dtype=np.int64),
            "share": rng.uniform(-1, 1, n).round(6),
            # categories made text once: some chunks hold the one to quote, some a missing one
            "kind": pd.Categorical(
                rng.choice(
                    np.array(["Drugs", "=Theft", 'Say "hi", then', None]),
                    n,
                    p=[0.9, 0.05, 0.02, 0.03],
                )
            ),
        }
    )
    path = write_table_csv(table, tmp_path / "t.csv")
    assert path.read_bytes() == reference_csv(table)
    with threads_at_most(1):
        one = write_table_csv(table, tmp_path / "one.csv")
    assert one.read_bytes() == path.read_bytes()


def test_incidents_csv_reads_back_as_the_frame(tmp_path: Path) -> None:
    """incidents.csv read back with pandas holds the frame's values, row for row."""
    rng = np.random.default_rng(3)
    n = 500
    x = rng.uniform(520_000, 545_000, n)
    y = rng.uniform(175_000, 195_000, n)
    months = pd.to_datetime(rng.choice(["2024-01-01", "2024-02-01", "2024-12-01"], n))
    frame = gpd.GeoDataFrame(
        {
            "incident_id": [f"id-{i}" for i in range(n)],
            "month": months,
            "category": pd.Categorical(  # as read_incidents holds it
                rng.choice(["Drugs", "=cmd", "Burglary, other", 'Say "hi"'], n)
            ),
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )
    frame.loc[3, "month"] = pd.NaT
    ids = pd.Series(rng.choice(["H01", "H02", None], n), index=frame.index, dtype="str")
    path = write_incidents_csv(frame, tmp_path / "i.csv", hotspot_ids=ids)
    back = pd.read_csv(path, dtype={"hotspot_id": str, "month": str}, keep_default_na=False)
    assert back["incident_id"].tolist() == frame["incident_id"].tolist()
    expected_months = [m.strftime("%Y-%m") if pd.notna(m) else "" for m in frame["month"]]
    assert back["month"].tolist() == expected_months
    assert back["category"].tolist() == [safe_cell(c) for c in frame["category"]]
    assert np.allclose(back["easting"], x, atol=0.05) and np.allclose(
        back["northing"], y, atol=0.05
    )
    wgs = frame.to_crs(4326).geometry
    assert np.allclose(back["longitude"], wgs.x, atol=5e-7)
    assert np.allclose(back["latitude"], wgs.y, atol=5e-7)
    assert back["hotspot_id"].tolist() == [v if isinstance(v, str) else "" for v in ids]
    with open(path, newline="", encoding="utf-8") as f:
        assert all(len(row) == 8 for row in csv.reader(f))
