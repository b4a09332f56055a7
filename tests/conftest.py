"""Shared fixtures: small synthetic data.police.uk-style files with known hotspots."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings
from pyproj import Transformer

#: fixtures shared by several test modules
pytest_plugins = ["tests.pilot_data"]

# Property tests: fresh random examples on every local run (a failure found that way is kept
# as an @example); the same examples on every CI run (.ci/run sets HYPOTHESIS_PROFILE=ci), so
# that whether a change lands never depends on the draw.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

STREET_HEADER = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]

# Two planted hotspots (BNG easting, northing, incidents per month, street) around Walthamstow.
BLOBS = [
    (537_500.0, 189_200.0, 40, "St James Street"),
    (538_600.0, 190_100.0, 20, "Hoe Street"),
]
BACKGROUND_PER_MONTH = 30
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def realdata_path(*parts: str) -> Path:
    """A path in ../shared/data; the test is skipped when that folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


def make_street_rows(seed: int = 7) -> list[list[str]]:
    """Rows of a police.uk street CSV: two tight blobs snapped to few points, plus background.

    Blob incidents sit on 5 map points each (within 40 m); background incidents are spread
    over 4 km x 4 km, 300 m clear of the blobs, so that at eps 100 m and min_samples 10 only
    the blobs are hotspots.
    """
    rng = np.random.default_rng(seed)
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    rows: list[list[str]] = []
    counter = 0
    for month in MONTHS:
        for ex, ny, n, street in BLOBS:
            offsets = np.array([[0, 0], [20, 0], [0, 20], [-20, 10], [15, -25]], dtype=float)
            picks = rng.integers(0, len(offsets), size=n)
            for k in picks:
                lon, lat = to_wgs.transform(ex + offsets[k, 0], ny + offsets[k, 1])
                counter += 1
                cat = "Violence and sexual offences" if counter % 3 else "Anti-social behaviour"
                cid = "" if cat == "Anti-social behaviour" else f"{counter:064x}"
                rows.append(
                    [
                        cid,
                        month,
                        "Test Police",
                        "Test Police",
                        f"{lon:.6f}",
                        f"{lat:.6f}",
                        f"On or near {street}",
                        "E01000001",
                        "Test 001A",
                        cat,
                        "",
                        "",
                    ]
                )
        for _ in range(BACKGROUND_PER_MONTH):
            while True:  # background stays 300 m clear of the blobs: known hotspot counts
                ex = 536_000 + rng.uniform(0, 4000)
                ny = 187_500 + rng.uniform(0, 4000)
                if all(np.hypot(ex - bx, ny - by) > 300 for bx, by, _, _ in BLOBS):
                    break
            lon, lat = to_wgs.transform(ex, ny)
            counter += 1
            rows.append(
                [
                    f"{counter:064x}",
                    month,
                    "Test Police",
                    "Test Police",
                    f"{lon:.6f}",
                    f"{lat:.6f}",
                    "On or near Background Road",
                    "E01000002",
                    "Test 002A",
                    "Burglary",
                    "Under investigation",
                    "",
                ]
            )
    return rows


def write_street_folder(root: Path, rows: list[list[str]]) -> Path:
    """Write rows as a police.uk download tree: root/YYYY-MM/YYYY-MM-test-street.csv."""
    by_month: dict[str, list[list[str]]] = {}
    for r in rows:
        by_month.setdefault(r[1], []).append(r)
    for month, month_rows in by_month.items():
        folder = root / month
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{month}-test-street.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(STREET_HEADER)
            w.writerows(month_rows)
    return root


@pytest.fixture
def street_rows() -> list[list[str]]:
    """Rows with two planted hotspots (see :func:`make_street_rows`)."""
    return make_street_rows()


@pytest.fixture
def street_folder(tmp_path: Path, street_rows: list[list[str]]) -> Path:
    """A police.uk-style folder tree of six monthly street CSVs with two planted hotspots."""
    return write_street_folder(tmp_path / "download", street_rows)
