"""find_hotspots: the chain of cluster -> footprint -> profile on an Incidents frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import DBSCAN

from hotspots import ParameterError, find_hotspots, read_incidents
from hotspots._points import incident_xy
from hotspots.columns import HOTSPOT_COLUMNS
from hotspots.find import group_codes


@pytest.fixture
def incidents(street_folder: Path):  # type: ignore[no-untyped-def]
    """The two-blob street folder, read."""
    frame, _ = read_incidents(street_folder)
    return frame


def test_dbscan_hotspots_match_planted_blobs(incidents) -> None:  # type: ignore[no-untyped-def]
    before = incidents.copy()
    result = find_hotspots(incidents, eps=100, min_samples=10)
    pd.testing.assert_frame_equal(incidents, before)  # input not mutated
    hot = result.hotspots
    assert list(hot.columns) == HOTSPOT_COLUMNS
    assert list(hot["hotspot_id"]) == ["H01", "H02"]
    assert list(hot["incidents"]) == [240, 120]
    assert result.hotspot_ids.index.equals(incidents.index)
    assert (result.hotspot_ids == "H01").sum() == 240
    # every member point lies in its hotspot's footprint
    for hid, geom in zip(hot["hotspot_id"], hot.geometry, strict=True):
        pts = incidents.geometry[result.hotspot_ids == hid]
        assert pts.within(geom.buffer(1e-6)).all()
    assert 0 < result.share_in_hotspots < 1
    assert result.params() == {
        "eps_m": 100.0,
        "min_samples": 10,
        "method": "dbscan",
        "crs": "EPSG:27700",
    }


def test_labels_equal_sklearn_on_raw_points(incidents) -> None:  # type: ignore[no-untyped-def]
    result = find_hotspots(incidents, eps=45, min_samples=12)
    sk = DBSCAN(eps=45, min_samples=12).fit(incident_xy(incidents))
    ours = result.hotspot_ids.to_numpy()
    assert np.array_equal(ours == "", sk.labels_ == -1)
    core = np.zeros(len(ours), dtype=bool)
    core[sk.core_sample_indices_] = True
    assert np.array_equal(result.is_core, core)


def test_suggestions_are_used_and_explained(incidents) -> None:  # type: ignore[no-untyped-def]
    result = find_hotspots(incidents)
    assert set(result.suggestions) == {"eps", "busier_than", "min_samples"}
    assert result.eps_m == pytest.approx(float(result.suggestions["eps"].value))
    assert result.min_samples == int(result.suggestions["min_samples"].value)
    assert all(s.reason for s in result.suggestions.values())
    assert any("suggested" in n for n in result.notes)


def test_hdbscan_finds_the_blobs(incidents) -> None:  # type: ignore[no-untyped-def]
    result = find_hotspots(incidents, method="hdbscan", min_samples=10, min_cluster_size=50)
    assert result.eps_m is None
    assert result.params()["method"] == "hdbscan"
    assert result.n_hotspots >= 2
    top = result.hotspots.iloc[0]
    assert "St James Street" in [name for name, _ in top["top_locations"]]


def test_empty_result_keeps_columns(incidents) -> None:  # type: ignore[no-untyped-def]
    result = find_hotspots(incidents, eps=1, min_samples=10_000)
    assert result.n_hotspots == 0
    assert list(result.hotspots.columns) == HOTSPOT_COLUMNS
    assert (result.hotspot_ids == "").all()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"eps": -1}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"min_samples": 0}, "min_samples"),
        ({"min_samples": 2.5}, "min_samples"),
        ({"method": "kmeans"}, "method"),
    ],
)
def test_bad_parameters(incidents, kwargs: dict, needle: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError, match=needle):
        find_hotspots(incidents, **kwargs)


def two_boroughs() -> tuple[object, pd.Series]:
    """A busy borough (x < 5 km) and a quiet one, six months; each has one hot street, but the
    quiet borough's hot street is calmer than the busy borough's ordinary streets."""
    import geopandas as gpd

    rows = []
    for x0, background, hot in ((0.0, 10, 60), (5000.0, 0, 3)):
        grid = np.array([[x0 + x, y] for x in range(100, 4900, 200) for y in range(100, 4900, 200)])
        street = np.column_stack([x0 + 2000 + np.arange(5) * 40.0, np.full(5, 2500.0)])
        for month in range(1, 7):
            rows += [(month, p) for p in grid for _ in range(background)]
            rows += [(month, p) for p in grid[::50]] if not background else []  # a few
            rows += [(month, p) for p in street for _ in range(hot)]
    xy = np.array([p for _, p in rows])
    frame = gpd.GeoDataFrame(
        {
            "month": pd.to_datetime([f"2024-{m:02d}-01" for m, _ in rows]),
            "category": "Drugs",
            "location": "On or near Street",
            "weight": 1.0,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )
    groups = pd.Series(np.where(xy[:, 0] < 5000, "Busy", "Quiet"), index=frame.index)
    return frame, groups


def test_groups_give_every_borough_hotspots_on_its_own_terms() -> None:
    frame, groups = two_boroughs()
    one = find_hotspots(frame, eps=100.0, tune=False)
    quiet = frame.geometry.x.to_numpy() >= 5000
    assert (one.hotspot_ids[quiet] == "").all()  # the busy borough's standard: none in Quiet
    both = find_hotspots(
        frame, eps=100.0, tune=False, groups=groups, group_areas_km2={"Busy": 25, "Quiet": 25}
    )
    assert set(both.group_min_samples) == {"Busy", "Quiet"}
    assert both.group_min_samples["Quiet"] < both.group_min_samples["Busy"]
    assert (both.hotspot_ids[quiet] != "").any()  # the quiet borough's own hot street
    assert both.params()["min_samples_by_group"] == both.group_min_samples
    # no hotspot crosses the boroughs' border
    for hid in set(both.hotspot_ids) - {""}:
        assert groups[both.hotspot_ids == hid].nunique() == 1
    assert (both.hotspots["area_km2"] <= 1.0).all()


def test_analyse_finds_hotspots_borough_by_borough_from_the_wards() -> None:
    """Wards naming their borough (DISTRICT, LAD22NM, ...) make analyse cluster each alone."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspots import analyse

    frame, _ = two_boroughs()
    wards = gpd.GeoDataFrame(
        {
            "ward_code": ["W1", "W2", "W3"],
            "ward_name": ["One", "Two", "Three"],
            "DISTRICT": ["Busy", "Quiet", "Quiet"],
        },
        geometry=[box(0, 0, 5000, 5000), box(5000, 0, 10000, 2500), box(5000, 2500, 10000, 5000)],
        crs="EPSG:27700",
    )
    result = analyse(frame, wards=wards, eps=100.0, tune=False, run_backtest=False)
    assert set(result.found.group_min_samples) == {"Busy", "Quiet"}
    assert "Quiet" in result.summary(None)["params"]["min_samples_by_group"]
    quiet = frame.geometry.x.to_numpy() >= 5000
    assert (result.hotspot_ids[quiet] != "").any()
    plain = analyse(frame, wards=wards.drop(columns="DISTRICT"), eps=100.0, tune=False)
    assert not plain.found.group_min_samples


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.sampled_from(["Hackney", "Barnet", "", "Brent", None]), max_size=30),
    extra=st.lists(st.sampled_from(["Camden", "Barnet", "Ealing"]), max_size=3, unique=True),
    missing=st.integers(0, 3),
)
def test_group_codes_of_categories_are_those_of_the_names(
    values: list[str | None], extra: list[str], missing: int
) -> None:
    """A categorical's groups (unused categories, rows in none, rows it lacks) are numbered
    as pd.factorize numbers the same names as text, sorted."""
    index = pd.RangeIndex(len(values) + missing)
    cats = sorted({v for v in values if v is not None} | set(extra))
    groups = pd.Series(pd.Categorical(values, categories=cats))
    codes, names = group_codes(groups, index)
    plain, plain_names = pd.factorize(groups.reindex(index).astype(object).fillna(""), sort=True)
    assert names.tolist() == list(plain_names) and codes.tolist() == plain.tolist()
    text_codes, text_names = group_codes(groups.astype(object), index)
    assert text_codes.tolist() == codes.tolist() and text_names.tolist() == names.tolist()


def _shared_border(order_seed: int) -> object:
    """Two hotspots and, between them, a map point within reach of a core point of each but
    itself not busy enough to be a core point (a border point both could claim), the rows in
    a shuffled order."""
    import geopandas as gpd

    points = [((0.0, 0.0), 30), ((60.0, 0.0), 1), ((150.0, 0.0), 1), ((240.0, 0.0), 1)]
    points += [((300.0, 0.0), 30), ((150.0, 900.0), 12)]
    xy = np.array([p for p, n in points for _ in range(n)])
    frame = gpd.GeoDataFrame(
        {
            "month": pd.to_datetime([f"2024-{1 + k % 6:02d}-01" for k in range(len(xy))]),
            "category": np.where(np.arange(len(xy)) % 3 == 0, "Drugs", "Robbery"),
            "location": "On or near Street",
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )
    order = np.random.default_rng(order_seed).permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_same_incidents_in_any_row_order_give_the_same_hotspots(seed: int) -> None:
    """DBSCAN gives a border point the lowest-numbered of the clusters reaching it, and numbers
    clusters by their first core point: in row order, a folder of monthly files and the same
    incidents in one file could differ. Clustered in map-point order (x, then y), they do not:
    the point at (150, 0) always joins the hotspot on the left, whichever rows come first."""
    base = find_hotspots(_shared_border(0), eps=100.0, min_samples=10)
    frame = _shared_border(seed)
    got = find_hotspots(frame, eps=100.0, min_samples=10)
    pd.testing.assert_frame_equal(
        got.hotspots.drop(columns="geometry"), base.hotspots.drop(columns="geometry")
    )
    assert got.hotspots.geometry.geom_equals_exact(base.hotspots.geometry, 0.0).all()
    xy = incident_xy(frame)
    at = {p: (xy[:, 0] == p[0]) & (xy[:, 1] == p[1]) for p in [(0.0, 0.0), (150.0, 0.0)]}
    left = got.hotspot_ids[at[(0.0, 0.0)]].iloc[0]
    assert (got.hotspot_ids[at[(150.0, 0.0)]] == left).all() and not got.is_core[
        at[(150.0, 0.0)]
    ].any()
    counts = dict(zip(got.hotspots["hotspot_id"], got.hotspots["incidents"], strict=True))
    assert counts[left] == 32 and sorted(counts.values()) == [12, 31, 32]  # 30 + 1 + the border


def test_the_dashboard_s_suggestions_give_the_command_line_s_boroughs() -> None:
    """The dashboard suggests once and hands its suggestions on (pipeline.analyse's
    ``suggested``): each borough's min_samples and the hotspots are the command line's (it
    passed the one suggested min_samples, which applied to every borough: 4 hotspots against
    8 on City of London with London's wards). A min_samples given still applies to all, and
    the note says so."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspots import analyse
    from hotspots.pipeline import suggest

    frame, _ = two_boroughs()
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["One", "Two"], "DISTRICT": ["Busy", "Quiet"]},
        geometry=[box(0, 0, 5000, 5000), box(5000, 0, 10000, 5000)],
        crs="EPSG:27700",
    )
    cli = analyse(frame, wards=wards, tune=False, run_backtest=False)
    settings = suggest(frame, wards=wards, tune=False).settings
    dashboard = analyse(frame, wards=wards, tune=False, run_backtest=False, suggested=settings)
    assert dashboard.found.group_min_samples == cli.found.group_min_samples
    assert len(set(dashboard.found.group_min_samples.values())) == 2
    pd.testing.assert_frame_equal(dashboard.hotspot_table, cli.hotspot_table)
    given = analyse(
        frame, wards=wards, eps=cli.found.eps_m, min_samples=cli.found.min_samples,
        tune=False, run_backtest=False,
    )  # fmt: skip
    said = f"the minimum incidents for a dense spot, {cli.found.min_samples}, in every borough"
    assert any(n.startswith(said) for n in given.notes)
    assert not any("by its own incidents" in n for n in given.notes)
