"""Tests for hotspots.density: quartic KDE on square and hex grids, hotspot cells and bands."""

from __future__ import annotations

import doctest
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots import density, grid_size
from hotspots.density import grid_cells, kde, kde_bands, kde_hotspot_cells, quartic_kernel
from hotspots.errors import InputError, ParameterError
from hotspots.study_area import DEFAULT_BUFFER_M, study_area

BNG = "EPSG:27700"
CELL_COLUMNS = [
    "cell_id",
    "row",
    "col",
    "x",
    "y",
    "area_km2",
    "density_km2",
    "incidents",
    "geometry",
]


def points(xy: list[tuple[float, float]], weight: list[float] | None = None) -> gpd.GeoDataFrame:
    """A minimal Incidents-like frame: points in BNG with a weight column."""
    arr = np.asarray(xy, dtype=float).reshape(-1, 2)
    w = np.ones(len(arr)) if weight is None else np.asarray(weight, dtype=float)
    return gpd.GeoDataFrame(
        {"month": pd.Timestamp("2024-01-01"), "weight": w},
        geometry=gpd.points_from_xy(arr[:, 0], arr[:, 1]),
        crs=BNG,
    )


def brute_force(xy: np.ndarray, w: np.ndarray, centres: np.ndarray, h: float) -> np.ndarray:
    """Density per km² at ``centres`` from every raw point (no deduplication, no tree)."""
    d = np.hypot(centres[:, None, 0] - xy[None, :, 0], centres[:, None, 1] - xy[None, :, 1])
    u = np.clip(1 - (d / h) ** 2, 0, None)
    return 1e6 * (3 / (math.pi * h * h) * u * u * w[None, :]).sum(axis=1)


def test_doctests() -> None:
    assert doctest.testmod(density).failed == 0


# --------------------------------------------------------------------------- the kernel


def test_quartic_kernel_hand_values() -> None:
    """K(0) = 3/(pi h²), K(h/2) = 3/(pi h²) * 9/16, zero from h on."""
    h = 200.0
    k = quartic_kernel([0.0, 100.0, 200.0, 250.0], h)
    peak = 3 / (math.pi * h * h)
    np.testing.assert_allclose(k, [peak, peak * 9 / 16, 0.0, 0.0], rtol=1e-12)


def test_single_point_hand_values_at_known_distances() -> None:
    """One incident at (5, 5), cells of 10 m: centre (5, 5) at 0 m, (35, 45) at 50 m, (105, 5)
    at exactly the bandwidth, 100 m."""
    res = kde(
        points([(5.0, 5.0)]),
        study_area=shapely.box(-300, -300, 300, 300),
        cell_size=10.0,
        bandwidth=100.0,
    )
    cells = res.cells.set_index(["x", "y"])["density_km2"]
    assert cells[(5.0, 5.0)] == pytest.approx(1e6 * 3 / (math.pi * 1e4))  # 95.493
    assert cells[(35.0, 45.0)] == pytest.approx(1e6 * 3 / (math.pi * 1e4) * 0.75**2)  # 53.715
    assert cells[(35.0, 45.0)] == pytest.approx(53.7148, abs=1e-4)
    assert cells[(105.0, 5.0)] == 0.0
    assert list(res.cells.columns) == CELL_COLUMNS


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_single_point_integrates_to_one_incident(shape: str) -> None:
    """The kernel integrates to 1: the estimated incidents over a covering grid sum to ~1."""
    res = kde(
        points([(3.0, -7.0)]),
        study_area=shapely.box(-400, -400, 400, 400),
        cell_size=10.0,
        bandwidth=150.0,
        shape=shape,  # type: ignore[arg-type]
    )
    assert res.cells["incidents"].sum() == pytest.approx(1.0, abs=0.005)
    assert res.total == 1.0


def test_symmetry_of_a_centred_point() -> None:
    """A point at the centre of a symmetric grid gives a surface symmetric in x, y and x<->y."""
    res = kde(
        points([(0.0, 0.0)]),
        study_area=shapely.box(-200, -200, 200, 200),
        cell_size=20.0,
        bandwidth=120.0,
    )
    grid = res.cells.pivot(index="row", columns="col", values="density_km2").to_numpy()
    np.testing.assert_allclose(grid, grid[::-1, :], rtol=1e-12)
    np.testing.assert_allclose(grid, grid[:, ::-1], rtol=1e-12)
    np.testing.assert_allclose(grid, grid.T, rtol=1e-12)


def test_weights_double_the_density() -> None:
    """Weight 2 on every incident doubles every cell; weights=None ignores the column."""
    xy = [(0.0, 0.0), (40.0, 10.0), (40.0, 10.0)]
    area = shapely.box(-150, -150, 150, 150)
    plain = kde(points(xy, [2.0, 2.0, 2.0]), study_area=area, cell_size=15.0, bandwidth=80.0)
    weighted = kde(
        points(xy, [2.0, 2.0, 2.0]),
        study_area=area,
        cell_size=15.0,
        bandwidth=80.0,
        weights="weight",
    )
    np.testing.assert_allclose(
        weighted.cells["density_km2"], 2 * plain.cells["density_km2"], rtol=1e-12
    )
    assert weighted.weighted and not plain.weighted
    assert weighted.total == 6.0 and plain.total == 3.0


def test_duplicate_points_count_like_repeated_rows() -> None:
    """Deduplicating map points gives the same surface as summing over every raw row."""
    rng = np.random.default_rng(3)
    sites = rng.uniform(0, 500, size=(12, 2)).round()
    xy = sites[rng.integers(0, 12, size=200)]
    res = kde(
        points([tuple(p) for p in xy]),
        study_area=shapely.box(0, 0, 500, 500),
        cell_size=25.0,
        bandwidth=90.0,
    )
    centres = res.cells[["x", "y"]].to_numpy()
    np.testing.assert_allclose(
        res.cells["density_km2"], brute_force(xy, np.ones(len(xy)), centres, 90.0), rtol=1e-9
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    coords=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=30),
    weights=st.lists(st.floats(0.0, 5.0), min_size=30, max_size=30),
    h=st.floats(25.0, 300.0),
    shift=st.tuples(st.integers(-200, 200), st.integers(-200, 200)),
)
def test_matches_brute_force_and_translation(
    coords: list[tuple[int, int]],
    weights: list[float],
    h: float,
    shift: tuple[int, int],
) -> None:
    """Invariants: the tree computation equals the brute-force sum, and moving points and study
    area together by whole cells moves the surface with them (the lattice is anchored at whole
    multiples of the cell size, so a shift of part of a cell moves the cells too)."""
    xy = np.array(coords, dtype=float) * 10.0
    w = np.array(weights[: len(xy)])
    area = shapely.box(-50, -50, 450, 450)
    res = kde(
        points(xy.tolist(), w.tolist()),
        study_area=area,
        cell_size=25.0,
        bandwidth=h,
        weights="weight",
    )
    centres = res.cells[["x", "y"]].to_numpy()
    np.testing.assert_allclose(
        res.cells["density_km2"], brute_force(xy, w, centres, h), rtol=1e-9, atol=1e-9
    )
    dx, dy = 25 * shift[0], 25 * shift[1]
    moved = kde(
        points(np.add(xy, [dx, dy]).tolist(), w.tolist()),
        study_area=shapely.affinity.translate(area, dx, dy),
        cell_size=25.0,
        bandwidth=h,
        weights="weight",
    )
    np.testing.assert_allclose(
        moved.cells["density_km2"], res.cells["density_km2"], rtol=1e-7, atol=1e-9
    )


# --------------------------------------------------------------------------- defaults


def test_default_cell_size_and_bandwidth_follow_the_short_side_rule() -> None:
    """Study area 3000 m x 1500 m: cell 1500/150 = 10 m, bandwidth 1500/30 = 50 m, with reasons."""
    res = kde(points([(100.0, 100.0)]), study_area=shapely.box(0, 0, 3000, 1500))
    assert res.cell_size == pytest.approx(10.0)
    assert res.bandwidth == pytest.approx(50.0)
    assert res.suggestions["cell_size"].value == pytest.approx(10.0)
    assert "150" in res.suggestions["cell_size"].reason
    assert "Chainey" in res.suggestions["bandwidth"].reason
    assert any("bandwidth 50 m (automatic)" in n for n in res.notes)
    assert res.study_area_km2 == pytest.approx(4.5)


def test_default_study_area_is_the_buffered_hull() -> None:
    """Without a boundary the grid covers the one default study area (hotspots.study_area)."""
    inc = points([(0, 0), (1500, 0), (0, 1500), (1500, 1500)])
    res = kde(inc)
    assert res.study_area_km2 == pytest.approx(study_area(inc).area_km2)
    side = 1500 + 2 * DEFAULT_BUFFER_M
    assert res.study_area_km2 == pytest.approx(2.25 + 4 * 1.5 * 0.1 + math.pi * 0.01, rel=1e-3)
    assert res.cell_size == pytest.approx(side / 150)
    assert any("convex hull" in n for n in res.notes)


def test_study_area_frame_is_reprojected() -> None:
    """A WGS84 boundary is reprojected to the incidents' CRS."""
    area = gpd.GeoSeries([shapely.box(530000, 180000, 531000, 181000)], crs=BNG).to_crs(4326)
    res = kde(points([(530500.0, 180500.0)]), study_area=area, cell_size=50.0, bandwidth=200.0)
    assert res.cells.crs == BNG
    assert res.cells["area_km2"].sum() == pytest.approx(1.0, rel=1e-3)


def test_warns_when_bandwidth_is_smaller_than_the_cell() -> None:
    with pytest.warns(UserWarning, match="smaller than the cell size"):
        res = kde(
            points([(0.0, 0.0)]),
            study_area=shapely.box(-100, -100, 100, 100),
            cell_size=50.0,
            bandwidth=20.0,
        )
    assert any("smaller than the cell size" in n for n in res.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kde(
            points([(0.0, 0.0)]),
            study_area=shapely.box(-100, -100, 100, 100),
            cell_size=50.0,
            bandwidth=50.0,
        )


def test_input_is_not_mutated() -> None:
    frame = points([(0.0, 0.0), (10.0, 10.0)], [1.0, 3.0])
    before = frame.copy()
    kde(
        frame,
        study_area=shapely.box(-50, -50, 50, 50),
        cell_size=10.0,
        bandwidth=30.0,
        weights="weight",
    )
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell_size": -1.0}, "cell_size"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"shape": "triangle"}, "shape"),
        ({"weights": "harm"}, "weights"),
        ({"cell_size": 0.001}, "cell_size"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        kde(points([(0.0, 0.0)]), study_area=shapely.box(0, 0, 100, 100), **kwargs)


def test_bad_inputs() -> None:
    wgs = points([(0.0, 0.0)]).set_crs(4326, allow_override=True)
    with pytest.raises(InputError, match="projected CRS"):
        kde(wgs, study_area=shapely.box(0, 0, 1, 1))
    with pytest.raises(InputError, match="no incidents"):
        kde(points([]))
    with pytest.raises(ParameterError, match="study_area"):
        kde(points([(0.0, 0.0)]), study_area=shapely.LineString([(0, 0), (1, 1)]))
    bad = points([(0.0, 0.0)], [float("nan")])
    with pytest.raises(InputError, match="weight"):
        kde(bad, study_area=shapely.box(0, 0, 10, 10), weights="weight")


# --------------------------------------------------------------------------- grids


def test_square_grid_is_clipped_to_the_study_area() -> None:
    """A disc of radius 500 m: cells cover exactly its area; inner cells are whole squares."""
    disc = shapely.Point(0, 0).buffer(500, quad_segs=32)
    cells = grid_cells(disc, cell_size=100.0, crs=BNG)
    assert cells["area_km2"].sum() == pytest.approx(disc.area / 1e6, rel=1e-9)
    assert cells["area_km2"].max() == pytest.approx(0.01)
    assert cells["cell_id"].tolist() == list(range(len(cells)))
    assert (cells.geometry.within(disc.buffer(1e-6))).all()
    assert not cells.geometry.is_empty.any()


def test_hex_grid_cells_and_neighbour_spacing() -> None:
    """Hexagons: area sqrt(3)/2 s², neighbouring centres s apart."""
    cells = grid_cells(shapely.box(0, 0, 1000, 1000), cell_size=100.0, shape="hex", crs=BNG)
    whole = cells[cells["area_km2"] > 0.99 * (math.sqrt(3) / 2 * 100**2) / 1e6]
    assert whole["area_km2"].max() == pytest.approx(math.sqrt(3) / 2 * 0.01)
    xy = cells[["x", "y"]].to_numpy()
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() == pytest.approx(100.0)
    assert cells["area_km2"].sum() == pytest.approx(1.0, rel=1e-9)


def test_grid_cells_errors() -> None:
    with pytest.raises(ParameterError, match="cell_size"):
        grid_cells(shapely.box(0, 0, 10, 10), cell_size=0.0)
    with pytest.raises(ParameterError, match="shape"):
        grid_cells(shapely.box(0, 0, 10, 10), cell_size=1.0, shape="round")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="CRS"):
        grid_cells(gpd.GeoSeries([shapely.box(0, 0, 10, 10)]), cell_size=1.0)


# --------------------------------------------------------------------------- hotspot cells


def one_point_result() -> density.KDEResult:
    """One point in the middle of a 40 x 40 grid of 10 m cells, bandwidth 60 m."""
    return kde(
        points([(0.0, 0.0)]),
        study_area=shapely.box(-200, -200, 200, 200),
        cell_size=10.0,
        bandwidth=60.0,
    )


def test_hotspot_cells_are_the_densest_within_the_area_share() -> None:
    res = one_point_result()
    top = kde_hotspot_cells(res, area_share=0.01)  # 1% of 1600 cells = 16 cells
    assert len(top) == 16
    assert set(zip(top["x"], top["y"], strict=True)) == {
        (x, y) for x in (-15.0, -5.0, 5.0, 15.0) for y in (-15.0, -5.0, 5.0, 15.0)
    }
    assert top["rank"].tolist() == list(range(1, 17))
    assert top["area_share"].iloc[-1] == pytest.approx(0.01)
    rest = res.cells[~res.cells["cell_id"].isin(top["cell_id"])]
    assert top["density_km2"].min() >= rest["density_km2"].max()


def test_hotspot_cells_never_take_empty_cells() -> None:
    """Bandwidth 60 m covers ~113 cells of 1600: asking for half the area stops there."""
    res = one_point_result()
    top = kde_hotspot_cells(res, area_share=0.5)
    assert (top["density_km2"] > 0).all()
    assert len(top) == int((res.cells["density_km2"] > 0).sum())
    with pytest.raises(ParameterError, match="area_share"):
        kde_hotspot_cells(res, area_share=0.0)


def test_bands_partition_the_top_cells() -> None:
    res = one_point_result()
    bands = kde_bands(res, levels=(0.01, 0.03, 0.05))
    assert bands["band"].tolist() == ["top 1%", "1%-3%", "3%-5%"]
    top5 = kde_hotspot_cells(res, area_share=0.05)
    assert bands["area_km2"].sum() == pytest.approx(top5["area_km2"].sum())
    assert shapely.union_all(bands.geometry.to_numpy()).area == pytest.approx(
        shapely.union_all(top5.geometry.to_numpy()).area
    )
    assert (
        bands["min_density_km2"].to_numpy()[:-1] >= bands["max_density_km2"].to_numpy()[1:]
    ).all()
    assert bands.crs == BNG
    with pytest.raises(ParameterError, match="levels"):
        kde_bands(res, levels=(0.05, 0.01))


# --------------------------------------------------------------------------- demo data


def test_demo_borough_top_cells_find_every_planted_hotspot() -> None:
    """On the bundled demo borough (36 months, 88k incidents), each of the seven planted hotspot
    centres lies within 100 m of a cell in the top 5% of the area."""
    import json

    from geodata import SAMPLE_DIR, load_sample_incidents

    incidents, _ = load_sample_incidents()
    borough = gpd.read_file(SAMPLE_DIR / "demo_borough.geojson")
    res = kde(incidents, study_area=borough)
    assert 40 < res.cell_size < 50 and 210 < res.bandwidth < 230
    assert res.cells["incidents"].sum() == pytest.approx(len(incidents), rel=0.02)
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    lon, lat = zip(*(h["centre_lonlat"] for h in truth["hotspots"]), strict=True)
    centres = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(BNG)
    top = kde_hotspot_cells(res, area_share=0.05)
    for x, y in zip(centres.x, centres.y, strict=True):
        assert np.hypot(top["x"] - x, top["y"] - y).min() < 100


# --------------------------------------------------------------------------- grid size first


@settings(max_examples=60, deadline=None)
@given(
    x0=st.floats(-5e5, 5e5),
    y0=st.floats(-5e5, 5e5),
    w=st.floats(1.0, 3000.0),
    h=st.floats(1.0, 3000.0),
    size=st.floats(20.0, 500.0),
    shape=st.sampled_from(["square", "hex"]),
)
def test_grid_size_counts_the_lattice_without_drawing_it(
    x0: float, y0: float, w: float, h: float, size: float, shape: str
) -> None:
    bounds = (x0, y0, x0 + w, y0 + h)
    drawn = density._lattice(bounds, size, shape)[0]
    assert grid_size.grid_size(bounds, size, shape) == len(drawn)


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_a_grid_too_fine_is_refused_with_a_size_that_fits(shape: str) -> None:
    bounds = (530_000.0, 180_000.0, 538_000.0, 191_000.0)  # a borough, 88 km2
    with pytest.raises(ParameterError, match=r"cell_size 4 m makes .* use a cell size of") as e:
        grid_size.check_grid_size(bounds, 4.0, shape=shape, max_cells=200_000)
    assert e.value.argument == "cell_size"
    fits = int(str(e.value).rsplit("of ", 1)[1].split(" m")[0])
    assert grid_size.grid_size(bounds, float(fits), shape) <= 200_000
    assert grid_size.grid_size(bounds, float(fits - 1), shape) > 200_000  # the smallest that fits


def test_a_kernel_reaching_too_far_is_refused_before_it_runs() -> None:
    """Every cell reaching every point: the work is counted from a sample and refused."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 3200, size=(6000, 2))
    inc = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")
    area = shapely.box(0, 0, 3200, 3200)  # 102,400 cells of 10 m, each reaching 6,000 points
    with pytest.raises(ParameterError, match=r"bandwidth 10000 m reaches about 614,400,000") as e:
        density.kde(inc, study_area=area, cell_size=10, bandwidth=10_000)
    assert e.value.argument == "bandwidth" and "cell size of 12 m or more" in str(e.value)
    # the surface in small blocks (as a far-reaching kernel is evaluated) equals one block's
    centres = rng.uniform(0, 3200, size=(300, 2))
    one = density._density_at(centres, xy, np.ones(len(xy)), 400.0)
    small = density._density_at(centres, xy, np.ones(len(xy)), 400.0, reach=1e9)
    np.testing.assert_allclose(one, small)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.05, 0.2, 1.0]))
def test_ranked_kde_cells_are_kdes_densest_cells(seed: int, share: float) -> None:
    """Drawing only the cells needed gives kde()'s positive cells in kde()'s order."""
    from hotspots.kde_cells import ranked_kde_cells

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 900, size=(60, 2)).round(-1)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")
    area = shapely.Polygon([(-30, 0), (1000, -20), (900, 950), (0, 1000)])
    full = kde(pts, study_area=area, cell_size=50.0, bandwidth=200.0).cells
    full = full[full["density_km2"] > 0].sort_values(
        ["density_km2", "cell_id"], ascending=[False, True]
    )
    max_area = share * area.area
    stop = int(np.searchsorted(np.cumsum(full["area_km2"] * 1e6), max_area)) + 1
    cells, density = ranked_kde_cells(pts, area, cell_size=50.0, bandwidth=200.0, max_area=max_area)
    want = full.geometry.to_numpy()[:stop]
    assert len(cells) == len(want)
    assert shapely.equals(cells, want).all()
    assert density == pytest.approx(full["density_km2"].to_numpy()[:stop], rel=1e-9)
