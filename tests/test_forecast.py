"""Tests for hotspots.forecast: scoring hotspot maps (hit rate, PAI, RRI, PEI) on a 4x4 grid."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from hotspots.backtest import NAIVE_CELLS, NAIVE_POINTS
from hotspots.errors import ParameterError
from hotspots.forecast import (
    FALLBACK_KDE_BANDWIDTH,
    FORECAST_COLUMNS,
    KDE_BANDWIDTHS,
    ForecastMaps,
    choose_kde_bandwidth,
    evaluate_forecast,
)

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

    1/16:   A            hits 6/20 = 0.30, PAI 4.8,  RRI (6/4)/(20/20) = 1.5
    1.5/16: A + B/2      hits 7/20 = 0.35, PAI 3.733, RRI (7/6) = 1.1667
    2/16:   A + B        hits 8/20 = 0.40, PAI 3.2,  RRI (8/8) = 1.0
    4/16:   the map covers 3/16 only: what it holds (A + B + C: 16/20 = 0.80) over 4/16, PAI
            3.2 (the rest counted as patrolled for nothing, as the back-test); the best map
            catches every test incident (the 20 map points' street spaces are at most
            20 x 1,913 m² < 4/16 of the area)
    PEI = hit rate / best hit rate (the finest-scale best map: tested by hand below).
    """
    fit, test = _grid_points(FIT), _grid_points(TEST)
    fit_before = fit.copy()
    table = evaluate_forecast(
        fit,
        test,
        {"m": _map(A, B, C)},
        study_area=STUDY,
        area_shares=(1 / 16, 1.5 / 16, 2 / 16, 4 / 16),
    ).table
    pd.testing.assert_frame_equal(fit, fit_before)
    assert list(table.columns) == FORECAST_COLUMNS
    expected = [(0.30, 4.8, 1.5), (0.35, 0.35 / (1.5 / 16), 7 / 6), (0.40, 3.2, 1.0)]
    mine = table[table["method"] == "m"]
    for row, (hit, pai, rri) in zip(mine.itertuples(), expected, strict=False):
        assert row.hit_rate == pytest.approx(hit)
        assert row.pai == pytest.approx(pai)
        assert row.rri == pytest.approx(rri)
        assert hit < row.best_hit_rate <= 1
        assert row.pei == pytest.approx(hit / row.best_hit_rate)
    last = mine.iloc[3]
    assert (last["hit_rate"], last["pai"], last["pei"]) == pytest.approx((0.8, 3.2, 0.8))
    assert last["map_share"] == pytest.approx(3 / 16)
    assert last["best_hit_rate"] == pytest.approx(1.0)
    assert mine["area_km2"].tolist() == pytest.approx([0.01, 0.015, 0.02, 0.04])
    assert list(dict.fromkeys(table["method"])) == ["m", NAIVE_POINTS, NAIVE_CELLS]


# --- the finest-scale PEI and the naive maps, by hand -------------------------------------------
#
# A 1 km square; map points far apart, so each one's street space is the whole 25 m "disc" that
# shapely draws: a regular 16-gon of area 8 r² sin(pi/8) = 1,913.4 m². At 0.25% of the area
# (2,500 m² = one 50 m cell) a map takes one disc and 586.6 m² of the next, or one cell.

BIG = box(0, 0, 1000, 1000)
DISC = 8 * 25**2 * math.sin(math.pi / 8)
P, R = (125.0, 125.0), (625.0, 625.0)  # each inside one 50 m cell: [100, 150]², [600, 650]²


def _at(counts: dict[tuple[float, float], int]) -> gpd.GeoDataFrame:
    """``counts[xy]`` incidents at each map point ``xy``."""
    xy = [p for p, n in counts.items() for _ in range(n)]
    return gpd.GeoDataFrame(
        {"month": pd.to_datetime(["2024-01-01"] * len(xy)), "category": ["Robbery"] * len(xy)},
        geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]),
        crs=CRS,
    )


def test_pei_best_map_is_the_test_months_own_street_spaces() -> None:
    """Test: 10 at P, 4 at R. In 2,500 m² the best map is P's street space (10) and 586.6 m²
    of R's (4 x 586.6 / 1,913.4 = 1.226): 11.226 of 14; P's 50 m cell would catch only 10.
    The map "P's 50 m cell" catches 10: hit rate 10/14, PAI 285.7, PEI 10 / 11.226 = 0.891
    (against a 100 m grid it would have read 1.0)."""
    best = 10 + 4 * (2500 - DISC) / DISC
    table = evaluate_forecast(
        _at({P: 2, R: 1}),
        _at({P: 10, R: 4}),
        {"cell": gpd.GeoDataFrame(geometry=[box(100, 100, 150, 150)], crs=CRS)},
        study_area=BIG,
        area_shares=(0.0025,),
    ).table.set_index("method")
    assert table.loc["cell", "hit_rate"] == pytest.approx(10 / 14)
    assert table.loc["cell", "pai"] == pytest.approx(10 / 14 / 0.0025)
    assert table.loc["cell", "best_hit_rate"] == pytest.approx(best / 14)
    assert table.loc["cell", "pei"] == pytest.approx(10 / best)
    assert table.loc["cell", "pei"] == pytest.approx(0.8908, abs=1e-4)


def test_pei_best_map_takes_50m_cells_when_they_catch_more() -> None:
    """Four map points 40 m apart in one 50 m cell, 3 incidents each: the cell holds all 12 in
    2,500 m²; the street spaces (each over 1,250 m²: a disc less two slivers beyond the
    halfway lines) would hold at most 6. So the best hit rate is 1 and the cell's PEI is 1."""
    corners = {(105.0, 105.0): 3, (145.0, 105.0): 3, (105.0, 145.0): 3, (145.0, 145.0): 3}
    table = evaluate_forecast(
        _at(corners),
        _at(corners),
        {"cell": gpd.GeoDataFrame(geometry=[box(100, 100, 150, 150)], crs=CRS)},
        study_area=BIG,
        area_shares=(0.0025,),
    ).table.set_index("method")
    assert table.loc["cell", "best_hit_rate"] == pytest.approx(1.0)
    assert table.loc["cell", "pei"] == pytest.approx(1.0)
    assert table.loc[NAIVE_CELLS, "pei"] == pytest.approx(1.0)  # the same cell, from the fit
    assert table.loc[NAIVE_POINTS, "hit_rate"] < 0.5


def test_naive_maps_rank_last_periods_counts() -> None:
    """Fit: 5 at R, 2 at P; test: 10 at P, 4 at R (the busy place moved). At 2,500 m²:

    * map points: R's street space first (test 4, fit 5), then 586.6 m² of P's (test
      10 x 0.3066 = 3.066, fit 2 x 0.3066 = 0.613): hit rate 7.066/14 = 0.505, RRI
      (7.066 / 5.613) / (14 / 7) = 0.629, PEI 7.066 / 11.226 = 0.629;
    * 50 m cells: R's cell: hit rate 4/14, RRI (4/5) / 2 = 0.4, PEI 4 / 11.226 = 0.356.

    At 5,000 m² the map points' map (two discs, 3,826.8 m²) is too small: it catches all it
    holds (14/14) over 5,000 m², with a note; two 50 m cells catch everything.
    """
    part = (2500 - DISC) / DISC
    best = 10 + 4 * part
    result = evaluate_forecast(
        _at({R: 5, P: 2}),
        _at({P: 10, R: 4}),
        {"cell": gpd.GeoDataFrame(geometry=[box(100, 100, 150, 150)], crs=CRS)},
        study_area=BIG,
        area_shares=(0.0025, 0.005),
    )
    t = result.table.set_index(["method", "area_share"])
    points, cells = (NAIVE_POINTS, 0.0025), (NAIVE_CELLS, 0.0025)
    assert t.loc[points, "test_hits"] == pytest.approx(4 + 10 * part)
    assert t.loc[points, "fit_hits"] == pytest.approx(5 + 2 * part)
    assert t.loc[points, "hit_rate"] == pytest.approx((4 + 10 * part) / 14)
    assert t.loc[points, "rri"] == pytest.approx((4 + 10 * part) / (5 + 2 * part) / 2)
    assert t.loc[points, "pei"] == pytest.approx((4 + 10 * part) / best)
    assert t.loc[cells, "hit_rate"] == pytest.approx(4 / 14)
    assert t.loc[cells, "rri"] == pytest.approx(0.4)
    assert t.loc[cells, "pei"] == pytest.approx(4 / best)
    assert t.loc[(NAIVE_POINTS, 0.005), "hit_rate"] == pytest.approx(1.0)
    assert t.loc[(NAIVE_POINTS, 0.005), "pai"] == pytest.approx(1.0 / 0.005)
    assert t.loc[(NAIVE_POINTS, 0.005), "map_share"] == pytest.approx(2 * DISC / 1e6)
    assert t.loc[(NAIVE_CELLS, 0.005), "hit_rate"] == pytest.approx(1.0)
    assert any(n.startswith(NAIVE_POINTS) and "patrolled for nothing" in n for n in result.notes)
    bare = evaluate_forecast(
        _at({R: 5}), _at({P: 1}), {"cell": _map(A)}, study_area=BIG, baselines=False
    )
    assert set(bare.table["method"]) == {"cell"}


def test_naive_grid_follows_cell_m() -> None:
    """``cell_m`` sets the naive grid's cells (and its name), not the best possible map."""
    table = evaluate_forecast(
        _at({P: 3}), _at({P: 3}), {"m": _map(A)}, study_area=BIG, area_shares=(0.01,), cell_m=100
    ).table
    assert "last period, 100 m cells" in set(table["method"])
    assert table["best_hit_rate"].tolist() == pytest.approx([1.0] * 3)


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
    # the best map of 2/16 catches all 20: the test map points, 5 m apart, have street
    # spaces of 25 m² inside their groups, far less than 2/16 of the area in all
    assert by.loc[("overlap", 2 / 16), "best_hit_rate"] == pytest.approx(1.0)
    assert by.loc[("overlap", 2 / 16), "pei"] == pytest.approx(0.7)


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
    """For maps of whole 100 m cells (unions of the best map's 50 m cells) and the naive
    baselines: PEI <= 1 (the densest cells or street spaces first, the last in part, is the
    best any selection of them can do: a fractional knapsack), PAI = hit rate / share, hit
    rates grow with the area share; fitted on the test months themselves, the naive 50 m map
    catches at least as much as the densest 100 m cells."""
    cells = [(i, j) for i in range(4) for j in range(4)]
    test_counts = {c: n for c, n in zip(cells, counts, strict=True) if n}
    if not test_counts:
        test_counts = {A: 1}
    test = _grid_points(test_counts)
    full = [cells[k] for k in order]
    densest = sorted(cells, key=lambda c: -test_counts.get(c, 0))
    shares = (1 / 16, 2.5 / 16, 5 / 16)
    table = evaluate_forecast(
        test,
        test.copy(),
        {"any": _map(*full), "best": _map(*densest)},
        study_area=STUDY,
        area_shares=shares,
    ).table
    for name in ("any", "best", NAIVE_POINTS, NAIVE_CELLS):
        rows = table[table["method"] == name].dropna(subset=["pei"])
        assert (rows["pei"] <= 1 + 1e-9).all()
        assert np.allclose(rows["pai"], rows["hit_rate"] / rows["area_share"])
        assert rows["hit_rate"].is_monotonic_increasing
    best = table.loc[table["method"] == "best", "hit_rate"].to_numpy()
    naive = table.loc[table["method"] == NAIVE_CELLS, "hit_rate"].to_numpy()
    assert (best <= naive + 1e-9).all()


def test_doctests() -> None:
    import doctest

    from hotspots import forecast

    for module in (forecast,):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_forecast_maps_are_in_priority_order() -> None:
    """The three maps evaluate_forecast compares: the analysis's own DBSCAN hotspots in its
    own order (densest first), densest KDE cells and highest-z Gi* cells first, with no rank
    column to override the row order; the KDE bandwidth is back-tested on the six months."""
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
    assert isinstance(maps, ForecastMaps) and maps.kde_bandwidth in KDE_BANDWIDTHS
    assert any(
        f"KDE bandwidth {maps.kde_bandwidth:g} m chosen by back-test" in n for n in maps.notes
    )
    result = evaluate_forecast(fit, fit, maps, area_shares=(0.01,))
    assert set(maps.notes) <= set(result.notes)  # the choice reaches the result's notes


# --- the KDE bandwidth chosen by the back-test on the fit months --------------------------------

SQUARE = box(0, 0, 4000, 4000)


def _monthly(per_month: list[npt.NDArray[np.float64]]) -> gpd.GeoDataFrame:
    """Incidents at the given points, month k (2024-01 on) getting ``per_month[k]``."""
    months = [f"2024-{k + 1:02d}-01" for k, xy in enumerate(per_month) for _ in range(len(xy))]
    xy = np.vstack(per_month)
    return gpd.GeoDataFrame(
        {"month": pd.to_datetime(months), "category": ["Robbery"] * len(xy)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )


def _spread_blobs(seed: int = 1) -> gpd.GeoDataFrame:
    """Six months of crime scattered around three centres (sigma 150 m), new places each month."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1000.0, 1000.0], [3000.0, 1500.0], [2000.0, 3000.0]])
    return _monthly(
        [np.vstack([c + rng.normal(0, 150, size=(40, 2)) for c in centres]) for _ in range(6)]
    )


def _fixed_points() -> gpd.GeoDataFrame:
    """Six months of crime at the same four map points, 20, 15, 10 and 8 a month."""
    spots = np.array([[500.0, 500.0], [1500.0, 2500.0], [3200.0, 800.0], [2500.0, 3500.0]])
    xy = np.repeat(spots, [20, 15, 10, 8], axis=0)
    return _monthly([xy] * 6)


def test_kde_bandwidth_auto_follows_how_crime_repeats() -> None:
    """Crime that returns to the same map points is best forecast by the narrowest kernel
    (50, 100 and 200 m all catch every one there: the tie goes to the smallest); crime scattered
    anew around the same centres each month by a wide one. Same input, same choice."""
    fixed = choose_kde_bandwidth(_fixed_points(), study_area=SQUARE)
    assert fixed.backtested and fixed.bandwidth == 50.0
    scores = dict(fixed.scores)
    assert scores[50.0] == pytest.approx(scores[200.0]) and scores[400.0] < scores[50.0]
    spread = choose_kde_bandwidth(_spread_blobs(), study_area=SQUARE)
    assert spread.bandwidth in (200.0, 400.0) and spread.bandwidth in KDE_BANDWIDTHS
    assert dict(spread.scores)[50.0] < dict(spread.scores)[spread.bandwidth]
    assert "3 folds" in spread.reason and f"{spread.bandwidth:g} m" in spread.reason
    again = choose_kde_bandwidth(_spread_blobs(), study_area=SQUARE)
    assert again == spread


def test_kde_bandwidth_without_enough_months_uses_the_rule() -> None:
    three = _fixed_points()
    three = three[three["month"] < "2024-04-01"]
    choice = choose_kde_bandwidth(three, study_area=SQUARE)
    assert not choice.backtested and choice.bandwidth == FALLBACK_KDE_BANDWIDTH
    assert "too few fit months" in choice.reason and choice.scores == ()


@pytest.mark.parametrize("bad", ["wide", -5.0, 0.0, math.inf])
def test_forecast_maps_refuse_a_bad_kde_bandwidth(bad: object) -> None:
    from hotspots.forecast import forecast_maps

    with pytest.raises(ParameterError, match="kde_bandwidth"):
        forecast_maps(_fixed_points(), study_area=SQUARE, kde_bandwidth=bad)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="candidates"):
        choose_kde_bandwidth(_fixed_points(), study_area=SQUARE, candidates=(0.0, 100.0))


def test_the_default_study_area_is_the_fit_months_alone() -> None:
    """Without a boundary the shares are of the fit incidents' study area, the one
    forecast_maps fits in: a test incident 5 km away neither widens it nor counts."""
    from hotspots.study_area import study_area

    fit = _grid_points(FIT)
    far = _at({(5000.0, 5000.0): 1})
    test = pd.concat([_grid_points(TEST), far], ignore_index=True)
    result = evaluate_forecast(fit, test, {"m": _map(A, B, C)}, area_shares=(0.05,))
    expected = float(study_area(fit).geometry.area)
    assert result.table["area_km2"].iloc[0] == pytest.approx(0.05 * expected / 1e6)
    assert any("1 test incident outside the study area" in n for n in result.notes)
    mine = result.table[result.table["method"] == "m"].iloc[0]
    assert mine["test_hits"] <= 20  # of the 20 inside; the far one is no one's
