"""Pilot evaluation test data shared by test_pilot and test_pilot_text: incidents built from
(x, y, month, how many) rows, and a pilot with hand-worked counts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

CRS = "EPSG:27700"


def zone_row(table: pd.DataFrame, zone: str) -> list[int]:
    """One zone's counts (before, during, after) as plain ints."""
    return [int(v) for v in table.to_numpy()[list(table.index).index(zone)]]


def incidents_from(
    rows: list[tuple[float, float, str, int]], category: str = "Robbery"
) -> gpd.GeoDataFrame:
    """Incidents from (x, y, month, how many) rows."""
    xs, ys, months = [], [], []
    for x, y, month, n in rows:
        xs += [x] * n
        ys += [y] * n
        months += [month] * n
    return gpd.GeoDataFrame(
        {
            "incident_id": pd.Series([f"row-{i}" for i in range(len(xs))], dtype="str"),
            "month": pd.to_datetime([f"{m}-01" for m in months]),
            "category": pd.Series([category] * len(xs), dtype="str"),
            "weight": np.ones(len(xs)),
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=CRS,
    )


TARGET = box(0, 0, 100, 100)  # target at the origin


CONTROL = box(2000, 0, 2100, 100)  # a separate control square


@pytest.fixture
def pilot_frame() -> gpd.GeoDataFrame:
    """Two months before (Jan, Feb), one during (Mar), two after (Apr, May).

    Target (50, 50): 30 + 30 before, 10 during, 20 + 20 after (60 -> 40).
    Buffer (150, 50), 100 m ring: 10 + 10 before, 5 during, 12 + 12 after (20 -> 24).
    Control (2050, 50): 100 + 100 before, 100 during, 100 + 100 after (200 -> 200).
    Outside everything (5000, 5000): 7 a month, never counted.
    """
    rows: list[tuple[float, float, str, int]] = []
    for month, t, b, c in [
        ("2024-01", 30, 10, 100),
        ("2024-02", 30, 10, 100),
        ("2024-03", 10, 5, 100),
        ("2024-04", 20, 12, 100),
        ("2024-05", 20, 12, 100),
    ]:
        rows += [(50, 50, month, t), (150, 50, month, b), (2050, 50, month, c)]
        rows += [(5000, 5000, month, 7)]
    return incidents_from(rows)
