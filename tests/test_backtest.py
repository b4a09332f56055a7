"""Tests for hotspots.backtest and hotspots.tuning: scores against hand-worked toy maps."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from hotspots._validate import month_numbers
from hotspots.backtest import (
    BUDGET,
    HOTSPOTS,
    KDE,
    KDE_BANDWIDTH_CELLS,
    MAX_SHARE,
    NAIVE_CELLS,
    NAIVE_POINTS,
    SHARES,
    Fold,
    MapPoints,
    RankedMap,
    backtest,
    best_hits,
    capture,
    kde_map,
    map_points,
    naive_cells,
    naive_points,
    plan_folds,
    ranked_map,
    simplified,
    start_backtest,
    street_spaces,
)
from hotspots.errors import ParameterError
from hotspots.footprint import hotspot_footprints
from hotspots.tuning import (
    BUSIER_THAN_CANDIDATES,
    EPS_CANDIDATES,
    choose_settings,
    cluster_map,
    hotspot_labels,
    settings_min_samples,
)

STUDY = box(0, 0, 1000, 1000)  # 1 km²
A, B = (50.0, 50.0), (950.0, 950.0)


def points(*pairs: tuple[tuple[float, float], float]) -> MapPoints:
    return MapPoints(np.array([p for p, _ in pairs]), np.array([c for _, c in pairs], float))


def incidents(rows: list[tuple[str, tuple[float, float], int]]) -> gpd.GeoDataFrame:
    """An Incidents frame: (month, point, how many) rows."""
    months, xs, ys = [], [], []
    for month, (x, y), n in rows:
        months += [pd.Timestamp(month + "-01")] * n
        xs += [x] * n
        ys += [y] * n
    return gpd.GeoDataFrame(
        {"month": months, "category": "Drugs", "location": "On or near X", "weight": 1.0},
        geometry=gpd.points_from_xy(xs, ys),
        crs="EPSG:27700",
    )


def test_capture_takes_the_last_piece_in_part_and_stays_flat_after_the_map() -> None:
    square = ranked_map([box(0, 0, 100, 100)], STUDY)
    test = points((A, 8), (B, 2))
    assert capture(square, test, [5_000, 10_000, 50_000]).tolist() == [4.0, 8.0, 8.0]


def test_later_polygons_lose_what_earlier_ones_took() -> None:
    ranked = ranked_map([box(0, 0, 100, 100), box(50, 0, 150, 100)], STUDY)
    assert ranked.areas.tolist() == pytest.approx([10_000, 5_000])
    test = points(((75.0, 50.0), 3), ((125.0, 50.0), 1))
    assert capture(ranked, test, [15_000]).tolist() == [4.0]  # the shared point counted once


def test_street_spaces_are_disjoint_discs_cut_between_neighbours() -> None:
    xy = np.array([[100.0, 100.0], [130.0, 100.0], [500.0, 500.0]])
    spaces = street_spaces(xy, STUDY, radius=25.0)
    assert shapely.area(shapely.intersection(spaces[0], spaces[1])) == pytest.approx(0, abs=1e-6)
    assert spaces[2].area == pytest.approx(math.pi * 625, rel=0.03)  # a whole disc, alone
    assert spaces[0].area < spaces[2].area  # its neighbour takes the ground nearer to it


def test_naive_maps_rank_last_periods_counts() -> None:
    fit = points((A, 3), (B, 1))
    naive = naive_points(fit, STUDY, max_area=1e6)
    assert naive.pieces[0].contains(shapely.Point(A))
    cells = naive_cells(fit, STUDY, max_area=1e6)
    assert cells.pieces[0].equals(box(50, 50, 100, 100))  # the 50 m cell holding A
    assert cells.areas.tolist() == [2500.0, 2500.0]


def test_best_hits_is_the_test_months_own_densest_places() -> None:
    test = points((A, 8), (B, 2))
    one_space = street_spaces(np.array([A]), STUDY, radius=25.0)[0].area
    best = best_hits(test, STUDY, [one_space, 2 * one_space, 10_000], radius=25.0)
    assert best.tolist() == pytest.approx([8.0, 10.0, 10.0])


def test_plan_folds_roll_back_and_need_four_months() -> None:
    folds = plan_folds(np.arange(24204, 24216))  # 2017-01 .. 2017-12
    assert folds[0].labels() == {
        "fit_from": "2017-01",
        "fit_to": "2017-09",
        "test_from": "2017-10",
        "test_to": "2017-12",
    }
    assert len(folds) == 3 and folds[2].fit == (24204, 24206)
    assert plan_folds(np.arange(24204, 24207)) == []
    assert len(plan_folds(np.arange(24204, 24208))) == 1  # 4 months: fit 3, test 1


def toy_history() -> gpd.GeoDataFrame:
    rows = [(f"2024-0{m}", A, 3) for m in range(1, 4)] + [(f"2024-0{m}", B, 1) for m in range(1, 4)]
    return incidents([*rows, ("2024-04", A, 8), ("2024-04", B, 2)])


def hand_worked(*squares: shapely.Geometry) -> Any:
    """The back-test of a map of ``squares`` (in that order) on :func:`toy_history`: fit
    Jan-Mar, test April."""
    result = backtest(
        toy_history(),
        study=STUDY,
        hotspot_map=lambda fit: list(squares),
        folds=[Fold((24288, 24290), (24291, 24291))],
    )
    assert result is not None
    return result


def test_backtest_scores_a_hand_worked_map() -> None:
    """Fit Jan-Mar, test April: a 100 m square over A holds 8 of 10 in 1% of the area."""
    result = hand_worked(box(0, 0, 100, 100))
    row = result.table[(result.table["method"] == HOTSPOTS) & (result.table["area_share"] == 0.01)]
    assert row["hit_rate"].item() == pytest.approx(0.8)
    assert row["pai"].item() == pytest.approx(80.0)
    assert row["pei"].item() == pytest.approx(0.8)  # the best 1% map holds all 10
    assert set(result.table["method"]) == {HOTSPOTS, NAIVE_POINTS, NAIVE_CELLS, KDE}
    naive = result.mean(NAIVE_POINTS, 0.01, "hit_rate")
    assert naive == pytest.approx(1.0)  # A and B's street spaces fit in 1%: all 10 caught
    summary = result.to_dict()
    assert summary["pai"][HOTSPOTS]["1%"] == pytest.approx(80.0)
    assert summary["folds"][0]["test_from"] == "2024-04"


def test_the_kde_baseline_is_its_best_bandwidth_on_the_folds() -> None:
    """A tight knot (30 a month at one point) and a broad patch (100 a month over 300 m): the
    test month repeats the knot. Each of the back-test's KDE bandwidths is scored here by
    hand; the table's KDE is the one that caught most at the table's shares, and
    ``kde_bandwidth`` names it (a narrow one: a wide kernel ranks the broad patch first)."""
    rng = np.random.default_rng(3)
    knot, patch = (200.0, 200.0), rng.uniform(500, 800, size=(300, 2))
    rows = [(f"2024-0{m}", knot, 30) for m in range(1, 4)]
    rows += [(f"2024-0{1 + k % 3}", (float(x), float(y)), 1) for k, (x, y) in enumerate(patch)]
    rows += [("2024-04", knot, 20), ("2024-04", (650.0, 650.0), 2)]
    frame = incidents(rows)
    fold = Fold((24288, 24290), (24291, 24291))
    result = backtest(frame, study=STUDY, hotspot_map=None, folds=[fold])
    assert result is not None
    months = month_numbers(frame["month"])
    fit, test = (map_points(frame[(months >= a) & (months <= b)]) for a, b in (fold.fit, fold.test))
    study = simplified(STUDY)
    targets = np.asarray(SHARES) * study.area
    caught = {
        c: capture(kde_map(fit, study, MAX_SHARE * study.area, cells=c), test, targets) / test.total
        for c in KDE_BANDWIDTH_CELLS
    }
    best = max(sorted(caught), key=lambda c: float(np.mean(caught[c])))
    table = [result.mean(KDE, s, "hit_rate") for s in SHARES]
    assert table == pytest.approx(list(caught[best]))
    assert result.kde_bandwidth == 50.0 * best
    assert best < max(KDE_BANDWIDTH_CELLS)  # the old fixed four cells would not have been it
    assert float(np.mean(caught[best])) > float(np.mean(caught[max(KDE_BANDWIDTH_CELLS)]))
    assert f"bandwidth {50 * best:,.0f} m" in " ".join(result.notes)


def test_the_sentence_says_the_hotspots_cover_less_and_a_simple_map_caught_more() -> None:
    """The 100 m square covers 1% of the study area; last period's map points caught all
    10 test incidents at every share, the square 8: the words say both."""
    from hotspots.report.backtest_text import SIMPLER_BETTER, backtest_sentence

    result = hand_worked(box(0, 0, 100, 100))
    words = backtest_sentence(result)
    assert "The hotspots cover 1.0% of the study area" in words
    assert SIMPLER_BETTER.format(what="map points") in words
    whole = hand_worked(box(0, 0, 100, 100), box(900, 900, 1000, 1000), box(0, 800, 300, 900))
    assert "cover" not in backtest_sentence(whole)  # 5% covered: nothing to say
    assert "caught more than the hotspots" not in backtest_sentence(whole)


def test_backtest_counts_harm_when_weighted() -> None:
    frame = toy_history()
    frame.loc[frame.geometry.x > 500, "weight"] = 4.0  # B's incidents weigh 4: 8 of 16 at A
    result = backtest(
        frame,
        study=STUDY,
        hotspot_map=lambda fit: [box(0, 0, 100, 100)],
        folds=[Fold((24288, 24290), (24291, 24291))],
        weighted=True,
    )
    assert result is not None
    assert result.mean(HOTSPOTS, 0.01, "hit_rate") == pytest.approx(0.5)


def test_backtest_needs_four_months() -> None:
    assert backtest(toy_history()[:3], study=STUDY, hotspot_map=None) is None


def two_blobs_and_a_bridge() -> np.ndarray:
    rng = np.random.default_rng(3)
    blob = lambda cx: rng.normal((cx, 500.0), 8.0, size=(60, 2))  # noqa: E731
    bridge = np.column_stack([np.arange(120.0, 880.0, 20.0), np.full(38, 500.0)])
    return np.vstack([blob(100.0), blob(900.0), np.repeat(bridge, 3, axis=0)])


def test_large_hotspots_are_split_by_a_stricter_core_rule() -> None:
    xy = two_blobs_and_a_bridge()
    whole, _ = hotspot_labels(xy, None, eps=30.0, min_samples=3, max_km2=None)
    assert whole.max() == 0  # the bridge chains both blobs into one cluster
    split, core = hotspot_labels(xy, None, eps=30.0, min_samples=3, max_km2=0.02)
    assert split.max() == 1  # the two blobs, the bridge left out
    outlines = hotspot_footprints(xy, split)
    assert all(o.area <= 0.02e6 for o in outlines.values())
    assert (split[:120] >= 0).all() and not core[split < 0].any()


def test_cluster_map_is_densest_first() -> None:
    pts = points((A, 50), ((60.0, 50.0), 50), ((500.0, 500.0), 30), ((700.0, 500.0), 30))
    polys = cluster_map(pts, eps=50.0, min_samples=20, max_km2=None)
    # three clusters: the pair at A (100 in ~4,300 m²) first, then the two singles
    assert len(polys) == 3
    assert polys[0].contains(shapely.Point(A))


def tuning_year() -> gpd.GeoDataFrame:
    """A year of scattered incidents (40 a month) and a street of five busy map points."""
    rng = np.random.default_rng(1)
    hot = [
        (f"2024-{m:02d}", tuple(rng.uniform(0, 1000, 2)), 1)
        for m in range(1, 13)
        for _ in range(40)
    ]
    spots = [(f"2024-{m:02d}", (300.0 + 10 * k, 300.0), 5) for m in range(1, 13) for k in range(5)]
    return incidents(hot + spots)


def test_the_tuning_scores_only_the_incidents_in_the_study_area() -> None:
    """Incidents beyond the boundary (a busy spot 2 km out, every month) change nothing: the
    tuning fits and scores only those inside, as the back-test does."""
    frame = tuning_year()
    far = incidents([(f"2024-{m:02d}", (3000.0, 3000.0), 30) for m in range(1, 13)])
    with_far = pd.concat([frame, far], ignore_index=True)
    alone = choose_settings(frame, study=STUDY, fallback_eps=150.0)
    both = choose_settings(with_far, study=STUDY, fallback_eps=150.0)
    assert (both.eps, both.busier_than, both.capture) == (
        alone.eps,
        alone.busier_than,
        pytest.approx(alone.capture),
    )
    assert both.capture_unseen == pytest.approx(alone.capture_unseen)


def test_choose_settings_is_deterministic_and_falls_back_without_months() -> None:
    frame = tuning_year()
    first = choose_settings(frame, study=STUDY, fallback_eps=150.0)
    again = choose_settings(frame, study=STUDY, fallback_eps=150.0)
    assert first == again and first.backtested
    # two candidates at a time: the same choice, the same capture to the last bit
    assert choose_settings(frame, study=STUDY, fallback_eps=150.0, threads=2) == first
    assert "chosen by back-test" in first.reason
    short = choose_settings(frame[frame["month"] < "2024-04-01"], study=STUDY, fallback_eps=150.0)
    assert not short.backtested and short.eps == 150.0
    assert "too few months" in short.reason


def test_the_choice_is_also_scored_out_of_sample_forward_in_time() -> None:
    """Each fold but the earliest scored with the candidate best on the folds before it (the
    plan is latest first): a candidate that wins by one lucky fold is not credited with it,
    and no choice knows the months scored or later ones."""
    from hotspots.tuning import _capture_unseen

    per_fold = np.array(
        [
            [[0.9, 0.3]],  # fold 0 (the latest): candidate 0 lucky
            [[0.1, 0.3]],
            [[0.1, 0.3]],  # the earliest: never scored
        ]
    )
    # in sample candidate 0 wins (1.1 > 0.9); forward, fold 0 is scored with candidate 1 (best
    # on folds 1-2: 0.6 > 0.2) and fold 1 with candidate 1 (best on fold 2): (0.3 + 0.3) / 2
    assert _capture_unseen(per_fold) == pytest.approx(0.3)
    # a later fold never chooses: swapping the latest fold's scores changes only its own score
    swapped = per_fold.copy()
    swapped[0] = [[0.0, 0.9]]
    assert _capture_unseen(swapped) == pytest.approx((0.9 + 0.3) / 2)
    assert math.isnan(_capture_unseen(per_fold[:1]))
    chosen = choose_settings(tuning_year(), study=STUDY, fallback_eps=150.0)
    assert 0 < chosen.capture_unseen <= 1
    assert f"the settings held {chosen.capture_unseen:.0%} in the" in chosen.reason


def _plain_candidate_table(frame: gpd.GeoDataFrame, study: shapely.Geometry) -> np.ndarray:
    """The tuning's (eps, busier_than) table written plainly: every fold's rows cut from the
    frame, every candidate's min_samples worked out and its map drawn and scored on its own.
    Also asserts that some candidates of a fold and distance ask for the same min_samples."""
    months = month_numbers(frame["month"])
    plan = plan_folds(months)
    study = simplified(study)
    budget = np.linspace(*BUDGET, 3) * study.area
    table = np.zeros((len(EPS_CANDIDATES), len(BUSIER_THAN_CANDIDATES)))
    repeated = False
    for fold in plan:
        fit = map_points(frame[(months >= fold.fit[0]) & (months <= fold.fit[1])])
        test = map_points(frame[(months >= fold.test[0]) & (months <= fold.test[1])])
        for i, eps in enumerate(EPS_CANDIDATES):
            needs = []
            for j, q in enumerate(BUSIER_THAN_CANDIDATES):
                ms = settings_min_samples(
                    fit,
                    eps=eps,
                    busier_than=q,
                    n_months=fold.fit[1] - fold.fit[0] + 1,
                    area_km2=study.area / 1e6,
                )
                needs.append(ms)
                polygons = cluster_map(fit, eps=eps, min_samples=ms, max_area=budget.max())
                ranked = ranked_map(polygons, study, max_area=budget.max())
                table[i, j] += capture(ranked, test, budget).mean() / test.total
            repeated |= len(set(needs)) < len(needs)
    assert repeated
    return table / len(plan)


@pytest.mark.parametrize("threads", [1, 2])
def test_candidates_asking_the_same_min_samples_are_scored_once_to_the_same_table(
    threads: int,
) -> None:
    """The tuning cuts the folds from one set of map points and scores each distinct map
    once: its choice and capture are those of the plain table, to the last bit."""
    frame = tuning_year()
    table = _plain_candidate_table(frame, STUDY)
    chosen = choose_settings(frame, study=STUDY, fallback_eps=150.0, threads=threads)
    i, j = np.unravel_index(int(np.argmax(table)), table.shape)
    assert (chosen.eps, chosen.busier_than) == (EPS_CANDIDATES[i], BUSIER_THAN_CANDIDATES[j])
    assert chosen.capture == table[i, j]


def test_ranked_map_of_disjoint_pieces_stops_at_the_area() -> None:
    cells = [box(x, 0, x + 50, 50) for x in range(0, 500, 50)]
    ranked = ranked_map(cells, STUDY, max_area=6_000, disjoint=True)
    assert isinstance(ranked, RankedMap) and len(ranked.pieces) == 3


def _plain_hotspot_labels(
    xy: np.ndarray, eps: float, min_samples: int, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """The splitting rule written plainly on rows: draw every cluster, split it while its
    outline is larger than ``limit`` m², renumber by first row (the reference for the fast
    path on unique points with lower bounds)."""
    from hotspots.cluster import dbscan_labels

    labels, core = dbscan_labels(xy, eps=eps, min_samples=min_samples)
    out = np.full(len(xy), -1)
    pending = [(np.flatnonzero(labels == k), min_samples) for k in range(labels.max() + 1)]
    n = 0
    while pending:
        rows, ms = pending.pop()
        if hotspot_footprints(xy[rows], np.zeros(len(rows), dtype=np.int64))[0].area <= limit:
            out[rows] = n
            n += 1
            continue
        sub, sub_core = dbscan_labels(xy[rows], eps=eps, min_samples=math.ceil(ms * 1.5))
        core[rows] = sub_core
        pending += [(rows[sub == k], math.ceil(ms * 1.5)) for k in range(sub.max() + 1)]
    firsts = sorted({int(out[i]): i for i in range(len(out) - 1, -1, -1) if out[i] >= 0}.items(),
                    key=lambda kv: kv[1])  # fmt: skip
    rank = {label: r for r, (label, _) in enumerate(firsts)}
    return np.array([rank.get(int(v), -1) for v in out]), core & (out >= 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.005, 0.01, 0.03]))
def test_hotspot_labels_equal_the_plain_rule_on_rows(seed: int, max_km2: float) -> None:
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 600, size=(60, 2)).round(-1)  # map points, many rows at each
    xy = sites[rng.integers(0, len(sites), size=400)]
    drawn: dict = {}
    fast, fast_core = hotspot_labels(
        xy, None, eps=60.0, min_samples=8, max_km2=max_km2, outlines=drawn
    )
    plain, plain_core = _plain_hotspot_labels(xy, 60.0, 8, max_km2 * 1e6)
    assert fast.tolist() == plain.tolist()
    assert fast_core.tolist() == plain_core.tolist()
    # the outlines drawn on the way are the ones a caller would draw
    every = hotspot_footprints(xy, fast)
    assert set(drawn) <= set(every)
    assert all(shapely.equals_exact(drawn[k], every[k], tolerance=0.0) for k in drawn)


@pytest.mark.parametrize("limit_km2", [0.29, 0.302, 0.31])
def test_a_street_kept_by_its_tree_bound_is_kept_by_the_plain_rule(limit_km2: float) -> None:
    """A long street of map points (area about 0.30 km², far above its cell floor) fits a
    limit its spanning tree's bound (with the 1% wider margin) fits: kept without drawing, as
    drawing would keep it; just over the area it is split either way."""
    street = np.column_stack([np.arange(200) * 30.0, np.zeros(200)])
    xy = np.repeat(street, 10, axis=0)
    area = hotspot_footprints(xy, np.zeros(len(xy), dtype=np.int64))[0].area
    drawn: dict = {}
    fast, fast_core = hotspot_labels(
        xy, None, eps=60.0, min_samples=8, max_km2=limit_km2, outlines=drawn
    )
    plain, plain_core = _plain_hotspot_labels(xy, 60.0, 8, limit_km2 * 1e6)
    assert fast.tolist() == plain.tolist() and fast_core.tolist() == plain_core.tolist()
    if limit_km2 * 1e6 >= area * 1.0202:  # above the bound with the wider margin
        assert fast.max() == 0 and not drawn  # kept, never drawn
    assert (fast.max() == 0) == (area <= limit_km2 * 1e6)


def a_year_of_sites(seed: int) -> gpd.GeoDataFrame:
    """Twelve months of Poisson counts at 80 map points on a 1 km square."""
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 1000, size=(80, 2)).round()
    return incidents(
        [
            (f"2024-{m:02d}", tuple(sites[i]), int(n))
            for m in range(1, 13)
            for i, n in enumerate(rng.poisson(2.0, size=len(sites)))
            if n
        ]
    )


def test_a_map_fitted_on_map_points_scores_as_on_rows() -> None:
    """``points_map`` gets each fold's map points and incident count: the same map, the same
    table and curve as ``hotspot_map`` fitted on the fold's rows."""
    frame = a_year_of_sites(seed=4)
    seen_rows: list[int] = []
    seen_counts: list[int] = []

    def on_rows(fit: gpd.GeoDataFrame) -> list:
        seen_rows.append(len(fit))
        return cluster_map(map_points(fit), eps=60.0, min_samples=len(fit) // 40)

    def on_points(points: MapPoints, n: int) -> list:
        seen_counts.append(n)
        return cluster_map(points, eps=60.0, min_samples=n // 40)

    by_rows = backtest(frame, study=STUDY, hotspot_map=on_rows)
    by_points = backtest(frame, study=STUDY, hotspot_map=None, points_map=on_points)
    assert by_rows is not None and by_points is not None
    assert seen_counts == seen_rows and len(seen_rows) == 3
    pd.testing.assert_frame_equal(by_rows.table, by_points.table)
    pd.testing.assert_frame_equal(by_rows.curve, by_points.curve)
    baselines = backtest(frame, study=STUDY, hotspot_map=None)
    assert baselines is not None and "hotspots" not in set(baselines.table["method"])
    assert "hotspots" in set(by_points.table["method"])


@pytest.mark.parametrize("weighted", [False, True])
def test_incidents_outside_the_study_area_change_nothing(weighted: bool) -> None:
    """Rows outside the study area (in or out of the months, at map points of their own or on
    its edge's far side) are left out before anything is fitted or scored: the table and
    curve are those of the rows inside, whichever map is fitted."""
    inside = a_year_of_sites(seed=6)
    inside["weight"] = np.random.default_rng(6).uniform(0.5, 3.0, len(inside))
    outside = a_year_of_sites(seed=7)
    outside["weight"] = 2.0
    outside.geometry = outside.geometry.translate(1500.0, 0.0)  # beyond the 1 km square
    frame = pd.concat([outside.iloc[::2], inside, outside.iloc[1::2]], ignore_index=True)

    def on_points(points: MapPoints, n: int) -> list:
        return cluster_map(points, eps=60.0, min_samples=max(2, n // 40))

    def on_rows(fit: gpd.GeoDataFrame) -> list:
        assert fit.geometry.x.max() <= 1000.0
        return on_points(map_points(fit, weighted=weighted), len(fit))

    for kind in ("points", "rows"):
        maps = {"points_map": on_points, "hotspot_map": None}
        if kind == "rows":
            maps = {"points_map": None, "hotspot_map": on_rows}
        got = backtest(frame, study=STUDY, weighted=weighted, threads=2, **maps)
        want = backtest(inside, study=STUDY, weighted=weighted, threads=2, **maps)
        assert got is not None and want is not None
        pd.testing.assert_frame_equal(got.table, want.table)
        pd.testing.assert_frame_equal(got.curve, want.curve)


def test_folds_scored_two_at_a_time_equal_one_at_a_time() -> None:
    """The threaded back-test is only faster: same table, same curve, same fold order."""
    frame = a_year_of_sites(seed=3)

    def hotspot_map(fit: gpd.GeoDataFrame) -> list:
        return cluster_map(map_points(fit), eps=60.0, min_samples=8)

    one = backtest(frame, study=STUDY, hotspot_map=hotspot_map, threads=1)
    two = backtest(frame, study=STUDY, hotspot_map=hotspot_map, threads=2)
    assert one is not None and two is not None and len(one.folds) == 3
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.curve, two.curve)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["points", "rows"])
def test_a_backtest_begun_early_equals_one_begun_at_once(threads: int, kind: str) -> None:
    """start_backtest works out the folds' points and street spaces before the map is known
    (while the caller clusters); backtest(started=...) then scores exactly as without it, and
    drops what it held."""
    frame = a_year_of_sites(seed=5)
    frame.loc[frame.index[::7], "weight"] = 2.5

    def on_points(points: MapPoints, n: int) -> list:
        return cluster_map(points, eps=60.0, min_samples=max(2, n // 40))

    def on_rows(fit: gpd.GeoDataFrame) -> list:
        return on_points(map_points(fit, weighted=True), len(fit))

    maps = {"points_map": on_points, "hotspot_map": None}
    if kind == "rows":
        maps = {"points_map": None, "hotspot_map": on_rows}
    args = {"study": STUDY, "weighted": True, "threads": threads}
    want = backtest(frame, study=STUDY, weighted=True, threads=1, **maps)  # type: ignore[arg-type]
    started = start_backtest(frame, **args, rows_map=kind == "rows")  # type: ignore[arg-type]
    assert started is not None
    got = backtest(frame, **args, **maps, started=started)  # type: ignore[arg-type]
    assert got is not None and want is not None and len(got.folds) == 3
    pd.testing.assert_frame_equal(got.table, want.table)
    pd.testing.assert_frame_equal(got.curve, want.curve)
    assert set(got.table["method"]) == {HOTSPOTS, NAIVE_POINTS, NAIVE_CELLS, KDE}
    with pytest.raises(RuntimeError, match="ended"):
        started.spaces()  # dropped once scored


def test_a_backtest_begun_on_other_incidents_or_settings_is_refused() -> None:
    """A started back-test is taken on only with the incidents (the same frame), study area,
    folds, weights and radius it was begun with; otherwise a one-line ParameterError, and its
    thread is stopped."""
    frame = a_year_of_sites(seed=8)
    cases = [
        ({}, {"study": box(0, 0, 900, 900)}),
        ({}, {"weighted": True}),
        ({}, {"radius": 40.0}),
        ({}, {"folds": plan_folds(np.arange(24288, 24300), test_months=2)}),
        ({"other": frame.copy()}, {}),
        ({"begun": {"folds": plan_folds(np.arange(24288, 24300), test_months=2)}}, {}),
    ]
    for swap, change in cases:
        started = start_backtest(frame, study=STUDY, **swap.get("begun", {}))
        assert started is not None
        args = {"study": STUDY, "hotspot_map": None, **change}
        with pytest.raises(ParameterError, match=r"^started: it was begun on other") as err:
            backtest(swap.get("other", frame), **args, started=started)  # type: ignore[arg-type]
        assert "\n" not in str(err.value)
        assert started.matches(frame, STUDY, None, (False, 25.0)) is False  # ended
    points_only = start_backtest(frame, study=STUDY, rows_map=False)
    with pytest.raises(ParameterError, match="rows_map=False"):
        backtest(frame, study=STUDY, hotspot_map=lambda fit: [], started=points_only)
    assert start_backtest(frame[frame["month"] < "2024-03"], study=STUDY) is None  # 2 months


def test_a_backtest_begun_with_the_threads_limited_to_one_starts_no_thread() -> None:
    """With threads_at_most(1) everything runs in the caller's thread: beginning the back-test
    early starts none (its steps run at once), and the table is the same."""
    import threading

    from hotspots._threads import threads_at_most

    frame = a_year_of_sites(seed=10)
    want = backtest(frame, study=STUDY, hotspot_map=None, threads=None)
    before = threading.active_count()
    with threads_at_most(1):
        started = start_backtest(frame, study=STUDY, threads=None, rows_map=False)
        assert threading.active_count() == before
        got = backtest(frame, study=STUDY, hotspot_map=None, threads=None, started=started)
    assert got is not None and want is not None
    pd.testing.assert_frame_equal(got.table, want.table)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_failing_map_ends_the_backtest_and_its_threads(threads: int) -> None:
    """An error in a fold's map reaches the caller as it is, and the back-test's threads (the
    one working out the folds' points and street spaces, the jobs') end with it."""
    import threading

    frame = a_year_of_sites(seed=9)
    before = threading.active_count()

    def broken(points: MapPoints, n: int) -> list:
        raise ValueError("no map today")

    started = start_backtest(frame, study=STUDY, threads=threads, rows_map=False)
    with pytest.raises(ValueError, match="no map today"):
        backtest(frame, study=STUDY, hotspot_map=None, points_map=broken, started=started)
    assert threading.active_count() == before
    with pytest.raises(RuntimeError, match="ended"):
        started.folds()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=2, max_size=60, unique=True
    )
)
def test_street_spaces_equal_the_plain_voronoi_of_all_points(cells: list[tuple[int, int]]) -> None:
    """Cutting only the discs of points with a neighbour within two radii, among themselves,
    gives every space the area of the plain rule: the whole Voronoi cell within the disc."""
    xy = np.array(cells, dtype=float) * 25.0  # neighbours 25, 35, 50 m apart and farther
    spaces = street_spaces(xy, STUDY, radius=25.0)
    vor = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(xy), extend_to=shapely.box(-100, -100, 1100, 1100), ordered=True
        )
    )
    discs = shapely.buffer(shapely.points(xy), 25.0, quad_segs=4)
    plain = shapely.intersection(shapely.intersection(vor, discs), STUDY)
    assert shapely.area(spaces) == pytest.approx(shapely.area(plain), abs=1e-6)
    assert shapely.equals(
        shapely.normalize(shapely.set_precision(spaces, 1e-6)),
        shapely.normalize(shapely.set_precision(plain, 1e-6)),
    ).all()


def test_kept_month_numbers_are_those_of_equal_dates_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large column's month numbers are kept for the next call with equal dates: the same
    numbers in a new array; dates changed in place, or the same numbers in another unit,
    are worked out again."""
    from hotspots import _validate
    from hotspots._memo import forget_all
    from hotspots._validate import month_numbers

    monkeypatch.setattr(_validate, "_KEPT_MONTHS_FROM", 1)
    forget_all()
    months = pd.Series(pd.to_datetime(["2024-01-15", None, "2023-12-01"]))
    first = month_numbers(months)
    first[0] = -1.0  # the caller's own array
    again = month_numbers(months)
    assert np.array_equal(again, [24288.0, np.nan, 24287.0], equal_nan=True)
    months.iloc[0] = pd.Timestamp("2025-03-02")  # changed in place
    assert month_numbers(months)[0] == 2025 * 12 + 2
    seconds = pd.Series(months.to_numpy().view(np.int64), dtype="datetime64[s]")
    assert month_numbers(seconds).tolist() != month_numbers(months).tolist()
    assert len(_validate._KEPT_MONTHS) == 2
    forget_all()  # a benchmark's cold run: nothing kept
    assert _validate._KEPT_MONTHS == []


@settings(max_examples=80, deadline=None)
@given(
    stamps=st.lists(
        st.one_of(
            st.none(),
            st.datetimes(
                min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
                max_value=pd.Timestamp("2200-12-31").to_pydatetime(),
            ),
        ),
        max_size=30,
    ),
    unit=st.sampled_from(["ns", "us", "s"]),
)
def test_month_numbers_are_the_calendar_months(stamps: list[object], unit: str) -> None:
    """Each date's month number is its year x 12 + its month - 1 (NaN where missing), from
    dates before 1970 to after 2100, whatever the unit of the stored dates; a time zone and
    periods take the same numbers."""
    from hotspots._validate import month_numbers

    months = pd.Series(pd.to_datetime(pd.Series(stamps, dtype=object))).astype(
        f"datetime64[{unit}]"
    )
    expected = [np.nan if s is None else s.year * 12 + s.month - 1 for s in stamps]  # type: ignore[attr-defined]
    assert np.array_equal(month_numbers(months), np.array(expected, dtype=float), equal_nan=True)
    zoned = months.dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="NaT")
    local = [s for s, z in zip(stamps, zoned, strict=True) if s is not None and z is not pd.NaT]
    got = month_numbers(zoned)
    assert np.array_equal(got[~np.isnan(got)], [s.year * 12 + s.month - 1 for s in local])  # type: ignore[attr-defined]
    assert np.array_equal(
        month_numbers(months.dt.to_period("M")), np.array(expected, dtype=float), equal_nan=True
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), eps=st.sampled_from([30.0, 60.0, 100.0]))
def test_clusters_kept_by_the_loose_bound_are_those_the_trees_keep(seed: int, eps: float) -> None:
    """When every cluster fits twice the budget by the bound without trees (eps per edge),
    the densest clusters are all of them: what the spanning trees' bounds keep too, at any
    budget."""
    from hotspots.cluster_maps import _densest_clusters

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2000, size=(6, 2))
    xy = np.unique(np.round(centres[rng.integers(0, 6, 400)] + rng.normal(0, 40, (400, 2))), axis=0)
    pts = MapPoints(xy, rng.integers(1, 5, len(xy)).astype(float))
    labels, _ = hotspot_labels(pts.xy, pts.counts, eps=eps, min_samples=4, max_km2=None)
    for area in (1e4, 1e5, 5e5, 2e6, 1e7):
        fast = _densest_clusters(pts, labels, (25.0, eps), area)
        trees = _densest_clusters(pts, labels, (25.0, math.inf), area)  # always the trees
        assert np.array_equal(fast, trees)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_same_incidents_in_any_row_order_give_the_same_settings_and_backtest(
    seed: int,
) -> None:
    """A fold's map points come in order of x, then y, not in the rows' order: DBSCAN's
    border points, its cluster numbers and the maps' ties then follow space, so the tuning's
    choice, the hotspots and every back-test figure are the same for the rows in any order
    (a folder of monthly files, or the same incidents as one file)."""
    from hotspots.pipeline import analyse

    frame = a_year_of_sites(seed=12)
    order = np.random.default_rng(seed).permutation(len(frame))
    want, got = analyse(frame), analyse(frame.iloc[order].reset_index(drop=True))
    assert want.backtest is not None and got.backtest is not None
    assert got.found.params() == want.found.params()
    pd.testing.assert_frame_equal(got.backtest.table, want.backtest.table)
    pd.testing.assert_frame_equal(got.backtest.curve, want.backtest.curve)
    pd.testing.assert_frame_equal(
        got.hotspots.drop(columns="geometry"), want.hotspots.drop(columns="geometry")
    )
