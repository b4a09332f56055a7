"""Tests for hotspots.significance: Getis-Ord Gi* against hand values and esda, FDR, classes."""

from __future__ import annotations

import doctest
import math
import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.stats import false_discovery_control

from hotspots import significance
from hotspots.density import grid_cells
from hotspots.errors import InputError, ParameterError
from hotspots.significance import (
    CLASSES,
    benjamini_hochberg,
    gi_star,
    gi_star_cells,
    hotspot_classes,
    neighbours,
)

BNG = "EPSG:27700"


def square_grid(nrow: int, ncol: int, size: float = 100.0) -> gpd.GeoDataFrame:
    """An unclipped nrow x ncol grid of square cells from the origin."""
    return grid_cells(shapely.box(0, 0, ncol * size, nrow * size), cell_size=size, crs=BNG)


def esda_gi_star(values: np.ndarray, w: libpysal.weights.W) -> esda.G_Local:
    """esda's Gi* on binary weights with the cell itself included, analytic inference only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(values, w, transform="B", star=True, permutations=0)


def test_doctests() -> None:
    assert doctest.testmod(significance).failed == 0


# --------------------------------------------------------------------------- hand values


def test_gi_star_hand_example() -> None:
    """Five cells in a row, [9, 8, 1, 0, 0], neighbours i-1..i+1: mean 3.6, s = 4.0299.
    Cell 0: (17 - 7.2) / (s sqrt((5*2 - 4)/4)) = 1.9856; cell 2: (9 - 10.8) / (s sqrt((15-9)/4))
    = -0.3647 (hand, 4 decimals)."""
    w = sparse.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(5, 5))
    z, p = gi_star([9, 8, 1, 0, 0], neighbours=w)
    s = math.sqrt(146 / 5 - 3.6**2)
    assert z[0] == pytest.approx(9.8 / (s * math.sqrt(6 / 4)))
    assert z[2] == pytest.approx(-1.8 / (s * math.sqrt(6 / 4)))
    assert z[0] == pytest.approx(1.9856, abs=1e-4)
    assert p[0] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z[0] / math.sqrt(2)))))


def test_gi_star_fills_the_missing_self_weight() -> None:
    """Weights without a diagonal get w_ii = 1: the star statistic."""
    w_off = sparse.diags_array([1.0, 1.0], offsets=[-1, 1], shape=(5, 5))
    w_star = sparse.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(5, 5))
    values = [4, 0, 7, 2, 2]
    np.testing.assert_allclose(
        gi_star(values, neighbours=w_off)[0], gi_star(values, neighbours=w_star)[0]
    )


def test_gi_star_constant_values_are_not_significant() -> None:
    z, p = gi_star([3, 3, 3, 3], neighbours=sparse.eye_array(4))
    assert z.tolist() == [0.0] * 4 and p.tolist() == [1.0] * 4


def test_gi_star_errors() -> None:
    with pytest.raises(ParameterError, match="neighbours"):
        gi_star([1, 2, 3], neighbours=sparse.eye_array(4))
    with pytest.raises(ParameterError, match="values"):
        gi_star([1, np.nan, 3], neighbours=sparse.eye_array(3))


# --------------------------------------------------------------------------- esda agreement


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_matches_esda_on_queen_contiguity(shape: str) -> None:
    """Same cells, libpysal Queen weights: z equal esda's Zs to 1e-8; p = 2 * esda's p_norm."""
    cells = grid_cells(shapely.Point(0, 0).buffer(700), cell_size=100.0, shape=shape, crs=BNG)  # type: ignore[arg-type]
    rng = np.random.default_rng(11)
    values = rng.poisson(3, len(cells)).astype(float)
    values[:5] += 25
    z, p = gi_star(values, neighbours=neighbours(cells))
    w = libpysal.weights.Queen.from_dataframe(cells, use_index=False, silence_warnings=True)
    ref = esda_gi_star(values, w)
    np.testing.assert_allclose(z, ref.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(p, 2 * ref.p_norm, rtol=0, atol=1e-12)
    ours = neighbours(cells)
    assert (ours - sparse.eye_array(len(cells))).sum() == w.s0  # the same pairs


def test_matches_esda_on_a_distance_band() -> None:
    """Centroids within 250 m (libpysal DistanceBand, binary)."""
    cells = square_grid(9, 11)
    rng = np.random.default_rng(5)
    values = rng.poisson(2, len(cells)).astype(float)
    values[40:44] += 15
    z, p = gi_star(values, neighbours=neighbours(cells, distance=250.0))
    centroids = cells[["x", "y"]].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(centroids, threshold=250.0, binary=True)
    ref = esda_gi_star(values, w)
    np.testing.assert_allclose(z, ref.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(p, 2 * ref.p_norm, rtol=0, atol=1e-12)


def test_matches_esda_on_the_demo_wards() -> None:
    """Any polygons: the ten demo wards, queen contiguity, incidents counted per ward."""
    from geodata import SAMPLE_WARDS, load_sample_incidents

    incidents, _ = load_sample_incidents()
    wards = gpd.read_file(SAMPLE_WARDS).to_crs(BNG)
    out = gi_star_cells(incidents, wards).cells
    w = libpysal.weights.Queen.from_dataframe(wards, use_index=False, silence_warnings=True)
    ref = esda_gi_star(out["value"].to_numpy(), w)
    np.testing.assert_allclose(out["z"], ref.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["p"], 2 * ref.p_norm, rtol=0, atol=1e-12)
    assert out["incidents"].sum() <= len(incidents)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(0, 50), min_size=20, max_size=20),
    scale=st.floats(0.1, 10.0),
    shift=st.floats(-100.0, 100.0),
)
def test_matches_esda_and_is_invariant(values: list[int], scale: float, shift: float) -> None:
    """Invariants on a 4 x 5 grid: esda agreement for any counts; z unchanged by a x + b (a > 0)
    and by row-standardising the weights."""
    x = np.array(values, dtype=float)
    if x.std() == 0:
        return
    cells = square_grid(4, 5)
    w = neighbours(cells)
    z, _ = gi_star(x, neighbours=w)
    ref = esda_gi_star(x, libpysal.weights.lat2W(4, 5, rook=False))
    np.testing.assert_allclose(z, ref.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(gi_star(scale * x + shift, neighbours=w)[0], z, atol=1e-8)
    row_std = sparse.diags_array(1 / w.sum(axis=1)) @ w
    np.testing.assert_allclose(gi_star(x, neighbours=row_std)[0], z, atol=1e-8)


# --------------------------------------------------------------------------- neighbours


def test_neighbours_of_square_and_hex_cells() -> None:
    """Interior square cell: itself + 8 (queen); interior hexagon: itself + 6."""
    squares = neighbours(square_grid(5, 5))
    assert squares[[12], :].sum() == 9
    assert squares[[0], :].sum() == 4
    assert (squares != squares.T).nnz == 0
    hexes = grid_cells(shapely.box(0, 0, 1000, 1000), cell_size=100.0, shape="hex", crs=BNG)
    counts = np.diff(neighbours(hexes).indptr)
    assert counts.max() == 7


def test_neighbours_distance_errors() -> None:
    with pytest.raises(ParameterError, match="distance"):
        neighbours(square_grid(2, 2), distance=-5)


# --------------------------------------------------------------------------- FDR and classes


def test_benjamini_hochberg_matches_scipy_and_hand() -> None:
    """Hand: p = (0.01, 0.04, 0.03, 0.5) -> (0.04, 0.0533, 0.0533, 0.5)."""
    np.testing.assert_allclose(
        benjamini_hochberg([0.01, 0.04, 0.03, 0.5]), [0.04, 0.16 / 3, 0.16 / 3, 0.5]
    )
    p = np.random.default_rng(2).uniform(0, 0.2, 200) ** 2
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p), rtol=1e-12)
    out = benjamini_hochberg([0.2, np.nan])
    assert out[0] == 0.2 and np.isnan(out[1])


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60))
def test_benjamini_hochberg_invariants(p: list[float]) -> None:
    """Adjusted p is at least the raw p, at most 1, and keeps the order of the raw p."""
    raw = np.array(p)
    adj = benjamini_hochberg(raw)
    assert (adj >= raw - 1e-15).all() and (adj <= 1).all()
    order = np.argsort(raw, kind="stable")
    assert (np.diff(adj[order]) >= -1e-15).all()


def test_hotspot_classes_thresholds() -> None:
    z = [3.0, 2.0, 1.7, 0.5, -1.7, -2.0, -3.0, 2.5]
    p = [0.01, 0.05, 0.10, 0.5, 0.0999, 0.049, 0.001, 0.1001]
    assert hotspot_classes(z, p, fdr=False).tolist() == [
        "hot 99%",
        "hot 95%",
        "hot 90%",
        "not significant",
        "cold 90%",
        "cold 95%",
        "cold 99%",
        "not significant",
    ]
    # FDR: with m = 8 the smallest p (0.001) becomes 0.008, the rest are not significant at 10%
    # except those whose adjusted p stays <= 0.1.
    fdr = hotspot_classes(z, p)
    expected = benjamini_hochberg(p)
    assert fdr[6] == "cold 99%"
    assert all((c == "not significant") == (q > 0.1) for c, q in zip(fdr, expected, strict=True))
    assert set(fdr) <= set(CLASSES)


# --------------------------------------------------------------------------- gi_star_cells


def incidents_at(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    arr = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(
        {"month": pd.Timestamp("2024-01-01"), "weight": np.ones(len(arr))},
        geometry=gpd.points_from_xy(arr[:, 0], arr[:, 1]),
        crs=BNG,
    )


def test_gi_star_cells_finds_a_planted_blob() -> None:
    """7 x 7 grid, one incident in every cell, 30 more in the centre cell. By hand: n = 49,
    mean 79/49, s = sqrt(1009/49 - (79/49)²) = 4.2418; each of the 9 cells whose neighbourhood
    holds the centre has sum 39 over 9 cells: z = (39 - 9 * 79/49) / (s sqrt((49*9 - 81)/48))
    = 2.108, p = 0.035: "hot 95%". The corners are not significant."""
    cells = square_grid(7, 7)
    xy = [(x + 50.0, y + 50.0) for x in range(0, 700, 100) for y in range(0, 700, 100)]
    xy += [(350.0, 350.0)] * 30
    frame = incidents_at(xy)
    before = frame.copy()
    result = gi_star_cells(frame, cells, fdr=False)
    out = result.cells
    pd.testing.assert_frame_equal(frame, before)
    mean = 79 / 49
    s = math.sqrt(1009 / 49 - mean**2)
    hand = (39 - 9 * mean) / (s * math.sqrt((49 * 9 - 81) / 48))
    assert hand == pytest.approx(2.108, abs=1e-3)
    block = out[out["row"].between(2, 4) & out["col"].between(2, 4)]
    np.testing.assert_allclose(block["z"], hand, rtol=1e-12)
    assert (block["hotspot_class"] == "hot 95%").all()
    assert (block["n_neighbours"] == 9).all()
    centre = block[block["x"].eq(350) & block["y"].eq(350)].iloc[0]
    assert centre["incidents"] == 31
    rest = out.drop(block.index)
    assert (rest["hotspot_class"] == "not significant").all()
    assert list(out.columns[-8:]) == [
        "incidents",
        "value",
        "n_neighbours",
        "z",
        "p",
        "p_fdr",
        "hotspot_class",
        "geometry",
    ]
    assert out["incidents"].sum() == len(xy)
    assert "queen" in result.notes[0]


def test_a_grid_of_a_few_cells_is_said_to_say_little() -> None:
    """Under 30 cells each neighbourhood is much of the map (6 cells of 3 km on the demo):
    a note says so; 49 cells do not need it."""
    xy = [(x + 50.0, y + 50.0) for x in range(0, 700, 100) for y in range(0, 700, 100)]
    few = gi_star_cells(incidents_at(xy[:25]), square_grid(5, 5), fdr=False)
    assert any(n.startswith("only 25 cells: a cell's neighbourhood") for n in few.notes)
    enough = gi_star_cells(incidents_at(xy), square_grid(7, 7), fdr=False)
    assert not any(n.startswith("only ") for n in enough.notes)


def test_gi_star_cells_counts_boundary_points_once_and_sums_weights() -> None:
    cells = square_grid(1, 3)
    frame = incidents_at([(100.0, 50.0), (150.0, 50.0), (250.0, 50.0), (5000.0, 5000.0)])
    frame["weight"] = [2.0, 3.0, 5.0, 7.0]
    out = gi_star_cells(frame, cells, weights="weight").cells
    assert out["incidents"].tolist() == [1, 1, 1]
    assert out["value"].tolist() == [2.0, 3.0, 5.0]


def test_gi_star_cells_reprojects_the_cells() -> None:
    cells = square_grid(3, 3).to_crs(4326)
    out = gi_star_cells(incidents_at([(150.0, 150.0)] * 3), cells).cells
    assert out.crs == BNG and out["incidents"].sum() == 3


def test_gi_star_cells_errors() -> None:
    frame = incidents_at([(1.0, 1.0)])
    with pytest.raises(InputError, match="at least 3"):
        gi_star_cells(frame, square_grid(1, 2))
    with pytest.raises(ParameterError, match="weights"):
        gi_star_cells(frame, square_grid(2, 2), weights="harm")
    with pytest.raises(ParameterError, match="cells"):
        gi_star_cells(frame, pd.DataFrame())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sparse counts


def test_permutation_p_matches_esda_without_ties() -> None:
    """Continuous values (no ties): the conditional randomisation p-values are esda's
    ``p_sim`` doubled, within the Monte Carlo error of 9,999 draws each."""
    cells = square_grid(6, 6)
    rng = np.random.default_rng(5)
    x = rng.gamma(1.0, size=len(cells))
    x[:4] += 3
    ours = significance.permutation_p(x, neighbours=neighbours(cells), permutations=9999, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Queen.from_dataframe(cells, use_index=False)
        g = esda.G_Local(x, w, transform="B", star=True, permutations=9999, seed=1)
    assert np.abs(np.minimum(1, 2 * g.p_sim) - ours).max() < 0.05
    again = significance.permutation_p(x, neighbours=neighbours(cells), permutations=99, seed=1)
    assert np.array_equal(
        again, significance.permutation_p(x, neighbours=neighbours(cells), permutations=99, seed=1)
    )


def test_permutation_p_by_hand() -> None:
    """Three cells in a row, values (5, 0, 0): cell 2 keeps its 0 and draws its one neighbour
    from the other two cells (5 or 0, even odds), so its local sum 0 is matched or beaten
    below by half the draws and above by all: p = 2 (m + 1) / (N + 1) with m about N / 2,
    about 1. Ties count as at least as extreme (esda counts them the other way)."""
    w = sparse.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(3, 3))
    p = significance.permutation_p([5.0, 0.0, 0.0], neighbours=w, permutations=999, seed=0)
    assert p[2] == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ParameterError, match="permutations") as err:
        significance.permutation_p([1.0, 2.0, 3.0], neighbours=w, permutations=0)
    assert err.value.argument == "permutations"


def test_no_cold_spot_possible_is_said() -> None:
    """A 5 x 5 grid with 2 incidents in one cell and none elsewhere: even an empty
    neighbourhood has z above -1.645, so no cold spot can be found, and the notes say so."""
    cells = square_grid(5, 5)
    pts = gpd.GeoDataFrame(
        {"month": pd.to_datetime(["2024-01-01"] * 2)},
        geometry=gpd.points_from_xy([50.0, 50.0], [50.0, 50.0]),
        crs=BNG,
    )
    out = gi_star_cells(pts, cells, fdr=False)
    values = out.cells["value"].to_numpy()
    floor = significance.lowest_z(neighbours(cells), 25, values.mean(), values.std())
    assert floor.min() > -1.645
    assert not out.cells["hotspot_class"].str.startswith("cold").any()
    assert any(n.startswith("no cold spot can be found at these counts") for n in out.notes)


def test_clipped_edge_cells_are_left_out() -> None:
    """A 10 x 10 grid of 100 m cells cut at x = 1030: the last column keeps 30% of each cell
    and is left out of Gi* (no z, class LEFT_OUT, not anyone's neighbour); the notes count
    its cells and incidents. At x = 1050 (exactly half) it is kept."""
    rows = [(c * 100 + 50.0, r * 100 + 50.0) for r in range(10) for c in range(10)] * 2
    rows += [(1010.0, 50.0)] * 3
    x, y = zip(*rows, strict=True)
    pts = gpd.GeoDataFrame(
        {"month": pd.to_datetime(["2024-01-01"] * len(rows))},
        geometry=gpd.points_from_xy(x, y),
        crs=BNG,
    )
    cut = grid_cells(shapely.box(0, 0, 1030, 1000), cell_size=100.0, crs=BNG)
    out = gi_star_cells(pts, cut, min_area=5000.0)
    left = out.cells[out.cells["hotspot_class"] == significance.LEFT_OUT]
    assert len(left) == 10 and left["col"].eq(10).all() and left["z"].isna().all()
    kept = out.cells.drop(index=left.index)
    beside = kept[(kept["col"] == 9) & kept["row"].between(1, 8)]
    assert (beside["n_neighbours"] == 6).all()  # the cut column is nobody's neighbour
    assert kept["n_neighbours"].max() == 9 and kept["z"].notna().all()
    assert any("10 edge cells" in n and "(3 incidents)" in n for n in out.notes)
    half = grid_cells(shapely.box(0, 0, 1050, 1000), cell_size=100.0, crs=BNG)
    assert (gi_star_cells(pts, half, min_area=5000.0).cells["z"].notna()).all()
