"""The city-scale benchmarks' London-like file (benchmarks/london_like.py): snapped to map points
as data.police.uk is, or exact (--exact), read back as a street CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from london_like import N_MAP_POINTS, london_like_xy, write_london_like

from hotspots import read_incidents


def test_snapped_incidents_share_map_points_and_exact_ones_do_not() -> None:
    snapped, point = london_like_xy(20_000, seed=4)
    exact, same_point = london_like_xy(20_000, seed=4, exact=True)
    np.testing.assert_array_equal(point, same_point)  # the same incidents, the same streets
    n_snapped = len(np.unique(snapped, axis=0))
    n_exact = len(np.unique(exact, axis=0))
    assert n_snapped <= N_MAP_POINTS and n_snapped < 0.9 * len(snapped)
    assert n_exact > 0.95 * len(exact)  # rounded to the metre: nearly every incident its own
    assert np.array_equal(exact, np.round(exact))
    # snapping moves each incident to its nearest map point: a short way
    assert np.median(np.hypot(*(exact - snapped).T)) < 200


def test_an_exact_file_reads_as_a_street_csv_with_every_row_used(tmp_path: Path) -> None:
    path = write_london_like(tmp_path / "2024-london-street.csv", 3_000, seed=2, exact=True)
    incidents, report = read_incidents(path)
    assert len(incidents) == 3_000 and report.rows_read == 3_000
    xy = np.column_stack([incidents.geometry.x, incidents.geometry.y])
    assert len(np.unique(np.round(xy), axis=0)) > 0.95 * len(xy)
