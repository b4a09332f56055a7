"""Tests for hotspots.forecast: scoring hotspot maps (hit rate, PAI, RRI, PEI) on a 4x4 grid."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from hotspots.errors import ParameterError
from hotspots.forecast import FORECAST_COLUMNS, evaluate_forecast

CRS = "EPSG:27700"

# --- evaluate_forecast on a 4x4 grid of 100 m cells -------------------------------------------

STUDY = box(0, 0, 400, 400)


def _cell(i: int, j: int) -> object:
    return box(100 * i, 100 * j, 100 * (i + 1), 100 * (j + 1))


def _grid_points(counts: dict[tuple[int, int], int]) -> gpd.GeoDataFrame:
    """Points strictly inside cells: cell (i, j) gets counts[(i, j)] points near its centre."""
    rows = []
    for (i, j), n in counts.items():
        for k in range(n):
            rows.append((100 * i + 50 + (k % 7) * 5 - 15, 100 * j + 50 + (k // 7) * 5 - 15))
    xs, ys = zip(*rows, strict=True) if rows else ((), ())
    return gpd.GeoDataFrame(
        {"month": pd.to_datetime(["2024-01-01"] * len(xs)), "category": ["Robbery"] * len(xs)},
        geometry=gpd.points_from_xy(xs, ys),
        crs=CRS,
    )


A, B, C, D, E = (0, 0), (1, 0), (3, 3), (2, 2), (0, 3)


TEST = {A: 6, B: 2, C: 8, D: 4}  # 20 test incidents; densest cells C (8), A (6), D (4)


FIT = {A: 4, B: 4, C: 2, E: 10}  # 20 fitting incidents


def _map(*cells: tuple[int, int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[_cell(*c) for c in cells], crs=CRS)


def test_forecast_by_hand_on_4x4_grid() -> None:
    """Map = cells A, B, C in that order; study area 16 cells.

    1/16:   A            hits 6/20 = 0.30, PAI 4.8,  RRI (6/4)/(20/20) = 1.5,
            best C       8/20 = 0.40, PEI 0.75
    1.5/16: A + B/2      hits 7/20 = 0.35, PAI 3.733, RRI (7/6) = 1.1667,
            best C + A/2 11/20 = 0.55, PEI 0.6364
    2/16:   A + B        hits 8/20 = 0.40, PAI 3.2,  RRI (8/8) = 1.0,
            best C + A   14/20 = 0.70, PEI 0.5714
    4/16:   the map covers 3/16 only -> NaN
    """
    fit, test = _grid_points(FIT), _grid_points(TEST)
    fit_before = fit.copy()
    table = evaluate_forecast(
        fit,
        test,
        {"m": _map(A, B, C)},
        study_area=STUDY,
        area_shares=(1 / 16, 1.5 / 16, 2 / 16, 4 / 16),
        cell_m=100,
    ).table
    pd.testing.assert_frame_equal(fit, fit_before)
    assert list(table.columns) == FORECAST_COLUMNS
    expected = [
        (0.30, 4.8, 1.5, 0.75, 0.40),
        (0.35, 0.35 / (1.5 / 16), 7 / 6, 0.35 / 0.55, 0.55),
        (0.40, 3.2, 1.0, 0.4 / 0.7, 0.70),
    ]
    for row, (hit, pai, rri, pei, best) in zip(table.itertuples(), expected, strict=False):
        assert row.hit_rate == pytest.approx(hit)
        assert row.pai == pytest.approx(pai)
        assert row.rri == pytest.approx(rri)
        assert row.pei == pytest.approx(pei)
        assert row.best_hit_rate == pytest.approx(best)
    last = table.iloc[3]
    assert math.isnan(last["hit_rate"]) and math.isnan(last["pai"]) and math.isnan(last["pei"])
    assert last["map_share"] == pytest.approx(3 / 16)
    assert last["best_hit_rate"] == pytest.approx((8 + 6 + 4 + 2) / 20)
    assert table["area_km2"].tolist() == pytest.approx([0.01, 0.015, 0.02, 0.04])


def test_forecast_partial_polygon_by_area_proportion() -> None:
    """One 200 x 100 polygon over A and B (8 test incidents): at 1/16 half of it is taken,
    counting half its incidents: hit rate 4/20 = 0.2, PAI 3.2."""
    fit, test = _grid_points(FIT), _grid_points(TEST)
    table = evaluate_forecast(
        fit,
        test,
        {"rect": gpd.GeoDataFrame(geometry=[box(0, 0, 200, 100)], crs=CRS)},
        study_area=STUDY,
        area_shares=(1 / 16,),
    ).table
    assert table.loc[0, "hit_rate"] == pytest.approx(0.2)
    assert table.loc[0, "pai"] == pytest.approx(3.2)
    assert table.loc[0, "test_hits"] == pytest.approx(4.0)
    assert table.loc[0, "fit_hits"] == pytest.approx(4.0)


def test_forecast_overlaps_and_rank_column() -> None:
    """Lower-ranked polygons only add what higher ones left free; ``rank`` sets the order."""
    fit, test = _grid_points(FIT), _grid_points(TEST)
    ranked = gpd.GeoDataFrame({"rank": [2, 1]}, geometry=[_cell(*B), _cell(*C)], crs=CRS)
    overlapping = gpd.GeoDataFrame(
        geometry=[_cell(*C), box(300, 300, 400, 400), _cell(*A)], crs=CRS
    )
    table = evaluate_forecast(
        fit,
        test,
        {"ranked": ranked, "overlap": overlapping},
        study_area=STUDY,
        area_shares=(1 / 16, 2 / 16),
    ).table
    by = table.set_index(["method", "area_share"])
    assert by.loc[("ranked", 1 / 16), "hit_rate"] == pytest.approx(8 / 20)  # C first
    assert by.loc[("ranked", 2 / 16), "hit_rate"] == pytest.approx(10 / 20)
    assert by.loc[("overlap", 2 / 16), "hit_rate"] == pytest.approx(14 / 20)  # C then A
    assert by.loc[("overlap", 2 / 16), "pei"] == pytest.approx(1.0)


def test_forecast_leaves_out_incidents_outside_study_area() -> None:
    fit = _grid_points(FIT)
    test = pd.concat([_grid_points(TEST), _grid_points({(9, 9): 5})], ignore_index=True)
    result = evaluate_forecast(fit, test, {"m": _map(A)}, study_area=STUDY, area_shares=(1 / 16,))
    table = result.table
    assert table.loc[0, "hit_rate"] == pytest.approx(6 / 20)
    assert any("outside the study area" in n for n in result.notes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"area_shares": (0.0,)}, "area_shares"),
        ({"area_shares": (1.5,)}, "area_shares"),
        ({"cell_m": -1.0}, "cell_m"),
        ({"maps": {}}, "maps"),
        ({"maps": {"x": "nope"}}, "maps"),
    ],
)
def test_forecast_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"maps": {"m": _map(A)}, "study_area": STUDY, **kwargs}
    maps = args.pop("maps")
    with pytest.raises(ParameterError, match=match):
        evaluate_forecast(_grid_points(FIT), _grid_points(TEST), maps, **args)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(st.integers(0, 6), min_size=16, max_size=16),
    order=st.permutations(list(range(16))),
)
def test_forecast_invariants_for_grid_maps(counts: list[int], order: list[int]) -> None:
    """For a map of the grid's own cells: PEI <= 1, PAI = hit rate / share, hit rates grow
    with the area share, and the map ranked by test density has PEI 1."""
    cells = [(i, j) for i in range(4) for j in range(4)]
    test_counts = {c: n for c, n in zip(cells, counts, strict=True) if n}
    if not test_counts:
        test_counts = {A: 1}
    test = _grid_points(test_counts)
    fit = _grid_points({A: 1, C: 1})
    full = [cells[k] for k in order]
    densest = sorted(cells, key=lambda c: -test_counts.get(c, 0))
    shares = (1 / 16, 2.5 / 16, 5 / 16)
    table = evaluate_forecast(
        fit,
        test,
        {"any": _map(*full), "best": _map(*densest)},
        study_area=STUDY,
        area_shares=shares,
    ).table
    for name in ("any", "best"):
        rows = table[table["method"] == name]
        assert (rows["pei"] <= 1 + 1e-9).all()
        assert np.allclose(rows["pai"], rows["hit_rate"] / rows["area_share"])
        assert rows["hit_rate"].is_monotonic_increasing
    assert np.allclose(table.loc[table["method"] == "best", "pei"], 1.0)


def test_doctests() -> None:
    import doctest

    from hotspots import forecast

    for module in (forecast,):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_forecast_maps_are_in_priority_order() -> None:
    """The three maps evaluate_forecast compares: densest DBSCAN footprints, densest KDE
    cells and highest-z Gi* cells first, with no rank column to override the row order."""
    from geodata import load_sample_incidents
    from hotspots.filter import filter_incidents
    from hotspots.forecast import forecast_maps

    incidents, _ = load_sample_incidents()
    fit = filter_incidents(incidents, None, start="2024-01", end="2024-06")
    maps = forecast_maps(fit)
    assert set(maps) == {"DBSCAN", "KDE", "Gi*"}
    for frame in maps.values():
        assert len(frame) > 0 and "rank" not in frame.columns
    assert maps["DBSCAN"]["density_km2"].is_monotonic_decreasing
    assert maps["KDE"]["density_km2"].is_monotonic_decreasing
    assert (maps["KDE"]["density_km2"] > 0).all()
    assert maps["Gi*"]["z"].is_monotonic_decreasing and (maps["Gi*"]["z"] > 0).all()
