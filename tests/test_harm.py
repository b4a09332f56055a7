"""Tests for hotspots.harm: the harm weights table, user tables, and ranking hotspots by harm."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.crime_types import CRIME_TYPE_SLUGS, CRIME_TYPES
from hotspots.errors import InputError, InputFileError, ParameterError
from hotspots.find import find_hotspots
from hotspots.harm import (
    DEFAULT_HARM_WEIGHTS,
    HARM_SOURCE,
    apply_harm_weights,
    harm_weights,
    parse_harm_weights,
)

CRS = "EPSG:27700"


def _write_table(
    path: Path, rows: list[tuple[str, str]], header: str = "crime_type,weight"
) -> Path:
    path.write_text(header + "\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    return path


def _incidents(
    categories: list[str], xy: list[tuple[float, float]] | None = None
) -> gpd.GeoDataFrame:
    n = len(categories)
    pts = xy or [(530_000.0 + i, 180_000.0) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "incident_id": pd.Series([f"row-{i}" for i in range(n)], dtype="str"),
            "month": pd.to_datetime(["2024-01-01"] * n),
            "date": pd.Series([pd.NaT] * n, dtype="datetime64[ns]"),
            "category": pd.Series(categories, dtype="str"),
            "location": pd.Series(["On or near Test Street"] * n, dtype="str"),
            "lsoa_code": pd.Series([""] * n, dtype="str"),
            "outcome": pd.Series([""] * n, dtype="str"),
            "source": pd.Series(["test.csv"] * n, dtype="str"),
            "weight": np.ones(n),
        },
        geometry=gpd.points_from_xy([p[0] for p in pts], [p[1] for p in pts]),
        crs=CRS,
    )


# --- the built-in table ------------------------------------------------------------------------


def test_builtin_table_covers_the_14_types() -> None:
    w = harm_weights()
    assert list(w) == CRIME_TYPES
    assert len(w) == 14
    assert all(v >= 0 for v in w.values())
    assert w == DEFAULT_HARM_WEIGHTS
    w["Robbery"] = 0.0  # a copy: the built-in table is untouched
    assert DEFAULT_HARM_WEIGHTS["Robbery"] > 0


def test_builtin_table_orders_harm_sensibly() -> None:
    """Relative severities in the order the Crime Severity Score implies."""
    w = harm_weights()
    assert w["Robbery"] > w["Burglary"] > w["Violence and sexual offences"] > w["Shoplifting"]
    assert w["Possession of weapons"] > w["Public order"]
    assert min(w.values()) == w["Anti-social behaviour"] == 1.0
    assert "ONS" in HARM_SOURCE and "not ONS figures" in HARM_SOURCE


# --- user tables -------------------------------------------------------------------------------


def test_user_csv_read(tmp_path: Path) -> None:
    rows = [(name, str(i + 1)) for i, name in enumerate(CRIME_TYPES)]
    w = harm_weights(_write_table(tmp_path / "w.csv", rows))
    assert w == {name: float(i + 1) for i, name in enumerate(CRIME_TYPES)}


def test_user_csv_accepts_slugs_any_case_and_column_case(tmp_path: Path) -> None:
    slugs = {name: slug for slug, name in CRIME_TYPE_SLUGS.items()}
    rows = [(slugs[name].upper(), "2.5") for name in CRIME_TYPES]
    w = harm_weights(_write_table(tmp_path / "w.csv", rows, header="Crime_Type,Weight"))
    assert set(w.values()) == {2.5}
    assert list(w) == CRIME_TYPES


def test_user_csv_problems_listed_in_one_message(tmp_path: Path) -> None:
    rows = [(name, "1") for name in CRIME_TYPES[2:]]  # Anti-social behaviour, Bicycle missing
    rows[0] = (rows[0][0], "-3")  # Burglary negative
    rows.append(("Jaywalking", "1"))
    with pytest.raises(ParameterError) as err:
        harm_weights(_write_table(tmp_path / "w.csv", rows))
    message = str(err.value)
    assert "'Jaywalking'" in message
    assert "Burglary='-3'" in message
    assert "'Anti-social behaviour'" in message and "'Bicycle theft'" in message
    assert "\n" not in message


def test_user_csv_non_number_and_repeat(tmp_path: Path) -> None:
    rows = [(name, "1") for name in CRIME_TYPES]
    rows[0] = (rows[0][0], "lots")
    with pytest.raises(ParameterError, match="not numbers"):
        harm_weights(_write_table(tmp_path / "a.csv", rows))
    rows = [(name, "1") for name in CRIME_TYPES] + [("robbery", "2")]
    with pytest.raises(ParameterError, match="given twice"):
        harm_weights(_write_table(tmp_path / "b.csv", rows))


def test_user_csv_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        harm_weights(tmp_path / "missing.csv")
    with pytest.raises(InputFileError, match="crime_type and weight"):
        harm_weights(_write_table(tmp_path / "w.csv", [("Robbery", "1")], header="type,value"))


# --- apply_harm_weights ------------------------------------------------------------------------


def test_uploaded_text_parsed_like_a_file(tmp_path: Path) -> None:
    """An upload's text: BOM, CRLF, a source column; errors name the upload, not a temp file."""
    lines = ["crime_type,weight,source"] + [
        f"{t},{i + 1},ONS 2024" for i, t in enumerate(CRIME_TYPES)
    ]
    text = "\ufeff" + "\r\n".join(lines) + "\r\n"
    table = parse_harm_weights(text, "upload.csv")
    assert table == {t: float(i + 1) for i, t in enumerate(CRIME_TYPES)}
    path = tmp_path / "same.csv"
    path.write_text(text, encoding="utf-8")
    assert harm_weights(path) == table
    with pytest.raises(ParameterError, match=r"^upload\.csv: .*missing crime types"):
        parse_harm_weights("crime_type,weight\nRobbery,5\n", "upload.csv")
    with pytest.raises(InputFileError, match=r"^upload\.csv: .*columns crime_type and weight"):
        parse_harm_weights("type;harm\nRobbery;5\n", "upload.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("crime_type,weight\nCaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(ParameterError, match=r"latin\.csv: unknown crime types 'Café'"):
        harm_weights(latin)  # read as Windows-1252: the name as typed, not mojibake
    unicode_text = tmp_path / "excel-unicode.txt"  # Excel's "Unicode text": UTF-16, tabs
    unicode_text.write_bytes(
        "\r\n".join(line.replace(",", "\t") for line in lines).encode("utf-16")
    )
    assert harm_weights(unicode_text) == table


def test_apply_by_hand_and_input_untouched() -> None:
    inc = _incidents(["Robbery", "Shoplifting", "Robbery", "Anti-social behaviour"])
    before = inc.copy()
    result = apply_harm_weights(inc, {name: float(i) for i, name in enumerate(CRIME_TYPES)})
    out = result.incidents
    # Anti-social behaviour 0, Robbery 8, Shoplifting 9 in the published order
    assert out["weight"].tolist() == [8.0, 9.0, 8.0, 0.0]
    assert result.warnings == []
    pd.testing.assert_frame_equal(inc, before)
    assert out is not inc


def test_apply_unknown_category_gets_weight_one_with_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inc = _incidents(["Robbery", "Public disorder and weapons", "Public disorder and weapons"])
    with caplog.at_level("WARNING", logger="hotspots.harm"):
        result = apply_harm_weights(inc)
    out = result.incidents
    assert out["weight"].tolist() == [700.0, 1.0, 1.0]
    assert result.warnings == [
        "2 incidents of unknown crime type 'Public disorder and weapons' kept weight 1"
    ]
    assert "Public disorder and weapons" in caplog.text


def test_apply_from_csv_path(tmp_path: Path) -> None:
    rows = [(name, "3") for name in CRIME_TYPES]
    out = apply_harm_weights(
        _incidents(["Drugs"]), str(_write_table(tmp_path / "w.csv", rows))
    ).incidents
    assert out["weight"].tolist() == [3.0]


def test_apply_validates_mapping_and_input() -> None:
    with pytest.raises(ParameterError, match="missing crime types"):
        apply_harm_weights(_incidents(["Drugs"]), {"Drugs": 1.0})
    with pytest.raises(ParameterError, match="weights must be"):
        apply_harm_weights(_incidents(["Drugs"]), 3)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="GeoDataFrame"):
        apply_harm_weights(pd.DataFrame({"category": ["Drugs"]}))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="category"):
        apply_harm_weights(_incidents(["Drugs"]).drop(columns="category"))


def test_all_zero_weights_are_refused(tmp_path: Path) -> None:
    """A table of zeros, or incidents only of types weighted 0: nothing to weigh, an error."""
    zeros = {t: 0.0 for t in CRIME_TYPES}
    with pytest.raises(ParameterError, match="every weight is 0"):
        apply_harm_weights(_incidents(["Drugs"]), zeros)
    some = {**zeros, "Robbery": 5.0}
    with pytest.raises(ParameterError, match=r"every incident has harm weight 0 \(crime types"):
        apply_harm_weights(_incidents(["Drugs", "Burglary"]), some)
    assert apply_harm_weights(_incidents(["Drugs", "Robbery"]), some).incidents[
        "weight"
    ].tolist() == [
        0.0,
        5.0,
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([*CRIME_TYPES, "Unknown thing"]), min_size=0, max_size=30))
def test_apply_invariants(categories: list[str]) -> None:
    """Every incident gets its type's weight (1 for unknown types); nothing else changes."""
    inc = _incidents(categories)
    result = apply_harm_weights(inc)
    out = result.incidents
    expected = [DEFAULT_HARM_WEIGHTS.get(c, 1.0) for c in categories]
    assert out["weight"].tolist() == expected
    pd.testing.assert_frame_equal(out.drop(columns="weight"), inc.drop(columns="weight"))
    assert bool(result.warnings) == ("Unknown thing" in categories)


# --- ranking by harm ---------------------------------------------------------------------------


def test_find_hotspots_ranks_by_harm_when_weighted() -> None:
    """Blob A: 40 shoplifting incidents (harm 40 x 10 = 400); blob B, 1 km away: 10 robberies
    (harm 10 x 700 = 7,000). By volume A is H01; by harm B is."""
    offsets = [(0, 0), (20, 0), (0, 20), (-20, 10), (15, -25)]
    a_xy = [(530_000.0 + offsets[k % 5][0], 180_000.0 + offsets[k % 5][1]) for k in range(40)]
    b_xy = [(531_000.0 + offsets[k % 5][0], 180_000.0 + offsets[k % 5][1]) for k in range(10)]
    inc = _incidents(["Shoplifting"] * 40 + ["Robbery"] * 10, a_xy + b_xy)

    by_volume = find_hotspots(inc, eps=60, min_samples=5)
    assert by_volume.n_hotspots == 2
    first = by_volume.hotspots.iloc[0]
    assert first["hotspot_id"] == "H01" and first["incidents"] == 40

    harmed = apply_harm_weights(inc).incidents
    # weights scaled to an average of 1: mean harm (400 + 7,000) / 50 = 148, so blob A weighs
    # 400 / 148 = 2.7 average incidents and blob B 7,000 / 148 = 47.3
    assert find_hotspots(harmed, eps=60, min_samples=5, weighted=True).n_hotspots == 1
    by_harm = find_hotspots(harmed, eps=60, min_samples=2, weighted=True)
    assert by_harm.n_hotspots == 2
    first = by_harm.hotspots.iloc[0]
    assert first["hotspot_id"] == "H01" and first["incidents"] == 10
    assert "Robbery" in [name for name, _ in first["top_categories"]]
    # the robbery blob's incidents carry H01
    assert set(by_harm.hotspot_ids.iloc[40:]) == {"H01"}


def test_weighted_clustering_ignores_the_tables_units() -> None:
    """The same table in other units (x 0.01, x 1,000) finds the same hotspots."""
    offsets = [(0, 0), (20, 0), (0, 20), (-20, 10), (15, -25)]
    xy = [
        (530_000.0 + offsets[k % 5][0] + 300 * (k // 25), 180_000.0 + offsets[k % 5][1])
        for k in range(75)
    ]
    inc = _incidents(["Robbery", "Shoplifting", "Burglary"] * 25, xy)
    results = []
    for scale in (0.01, 1.0, 1000.0):
        table = {t: w * scale for t, w in DEFAULT_HARM_WEIGHTS.items()}
        weighted = apply_harm_weights(inc, table).incidents
        given = find_hotspots(weighted, eps=60, min_samples=5, weighted=True)
        suggested = find_hotspots(weighted, eps=60, weighted=True)
        results.append(
            (
                given.n_hotspots,
                list(given.hotspot_ids),
                suggested.params()["min_samples"],
                list(suggested.hotspot_ids),
            )
        )
    assert results[0] == results[1] == results[2]
    assert results[1][0] == 3  # three blobs of 25 incidents of average harm
    with pytest.raises(InputError, match="weight 0"):
        find_hotspots(
            inc.assign(weight=0.0),  # (apply_harm_weights refuses an all-zero table)
            weighted=True,
        )


def test_doctests() -> None:
    import doctest

    from hotspots import harm

    result = doctest.testmod(harm, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
