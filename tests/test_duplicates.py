"""The reader's duplicate rules (:func:`hotspots.io.checks.mark_duplicates`) against the same
rules written plainly, row by row, on small files with many repeats."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.io.checks import CODES, mark_duplicates
from hotspots.io.report import Notes

ROW, DUP, NOCOORD = CODES["duplicate row"], CODES["duplicate id"], CODES["no coordinates"]

rows = st.lists(
    st.tuples(
        st.sampled_from(["a.csv", "b.csv"]),  # a.csv: a street CSV (repeats of an id kept)
        st.sampled_from(["", "x", "y", "z"]),  # "": no id (the reader makes one)
        st.sampled_from(["p", "q"]),
        st.sampled_from([0.0, 1.0]),
        st.booleans(),  # the row's coordinates are bad
    ),
    max_size=30,
)


def _plain(
    frame: pd.DataFrame, code: np.ndarray, has_id: np.ndarray, repeat_ok: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    code = code.copy()
    seen: set[tuple] = set()
    for i in range(len(frame)):
        if code[i] == 0 and has_id[i]:
            whole = (*frame.iloc[i].astype(str), x[i], 0.0)
            if whole in seen:
                code[i] = ROW
            seen.add(whole)
    first: dict[str, str] = {}
    kept: dict[str, int] = {}
    ids = list(frame["incident_id"])
    for i in range(len(frame)):
        if code[i] != 0 or not has_id[i]:
            continue
        key, source = ids[i], frame["source"].iloc[i]
        if key not in first:
            first[key] = source
        elif source != first[key] if repeat_ok[i] else True:
            code[i] = DUP
            continue
        kept[key] = kept.get(key, 0) + 1
        if kept[key] > 1:
            ids[i] = f"{key}-{kept[key]}"
    return code, ids


@settings(max_examples=200, deadline=None)
@given(rows)
def test_duplicates_follow_the_plain_rules(data: list[tuple]) -> None:
    n = len(data)
    sources = [r[0] for r in data]
    frame = pd.DataFrame(
        {
            "source": pd.Series(sources, dtype="str"),
            "incident_id": pd.Series(
                [r[1] or f"{r[0]}:row-{i + 2}" for i, r in enumerate(data)], dtype="str"
            ),
            "other": pd.Series([r[2] for r in data], dtype="str"),
        }
    )
    has_id = np.array([bool(r[1]) for r in data], dtype=bool)
    repeat_ok = np.array([s == "a.csv" for s in sources], dtype=bool)
    x = np.array([r[3] for r in data], dtype=float)
    code = np.where(np.array([r[4] for r in data], dtype=bool), NOCOORD, 0).astype(np.int8)
    want_code, want_ids = _plain(frame, code, has_id, repeat_ok, x)
    out = mark_duplicates(frame, code, has_id, repeat_ok, Notes(), xy=(x, np.zeros(n)))
    assert code.tolist() == want_code.tolist()
    assert list(out["incident_id"]) == want_ids


def test_a_duplicate_far_away_does_not_choose_the_crs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The reader projects the rows while it marks the duplicates: a repeated id placed in
    Paris (a row the duplicates drop) would make the rows choose a UTM zone, and 40 of them
    across the Atlantic no CRS at all; the CRS is the one the rows left choose (British
    National Grid), the same rows used as when nothing is repeated."""
    from hotspots import read_incidents
    from tests.conftest import make_street_rows, write_street_folder

    rows = [r for r in make_street_rows() if r[1] == "2024-01" and r[0]][:200]
    plain, _ = read_incidents(write_street_folder(tmp_path / "plain", rows))
    for far in ([("2.35", "48.85")], [("-74.0", "40.7")] * 40):
        repeats = [
            [row[0], "2024-02", *row[2:4], lon, lat, *row[6:]]
            for row, (lon, lat) in zip(rows[: len(far)], far, strict=True)
        ]
        folder = write_street_folder(tmp_path / far[0][0], rows + repeats)
        incidents, report = read_incidents(folder)
        assert report.crs == "EPSG:27700"
        assert report.dropped == {"duplicate id": len(far)}
        assert incidents.geometry.geom_equals(plain.geometry).all()
