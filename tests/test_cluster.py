"""Tests for hotspots.cluster: DBSCAN equal to scikit-learn's, HDBSCAN of the incidents,
the k-distance curve and the parameter suggestions."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from sklearn.cluster import DBSCAN, HDBSCAN

from hotspots import _points, cluster
from hotspots.cluster import (
    EPS_RANGE,
    MIN_SAMPLES_FLOOR,
    Suggestion,
    dbscan,
    dbscan_labels,
    hdbscan,
    hdbscan_labels,
    k_distance,
    map_point_spacing,
    neighbour_counts,
    pairs,
    suggest,
    suggest_eps,
    suggest_min_samples,
    suggest_min_samples_each,
)
from hotspots.cluster.pairs import NeighbourPairs
from hotspots.errors import ParameterError


def sklearn_dbscan(
    xy: np.ndarray, eps: float, min_samples: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """labels_ and the core mask of scikit-learn's DBSCAN: the reference."""
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(xy, sample_weight=weights)
    core = np.zeros(len(xy), dtype=bool)
    core[model.core_sample_indices_] = True
    return model.labels_, core


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Same noise and the same clusters, whatever their numbers."""
    if not np.array_equal(a == -1, b == -1):
        return False
    m = a != -1
    pairs = set(zip(a[m].tolist(), b[m].tolist(), strict=True))
    return len(pairs) == len(set(a[m].tolist())) == len(set(b[m].tolist()))


def snapped_city(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """3,000 incidents (6 hotspots + background on 2 km x 2 km) snapped to 400 map points,
    and integer weights 1-3."""
    rng = np.random.default_rng(seed)
    spots = rng.uniform(0, 2000, size=(400, 2))
    centres = rng.uniform(0, 2000, size=(6, 2))
    near = centres[rng.integers(0, 6, 2000)] + rng.normal(0, 120, (2000, 2))
    pts = np.concatenate([near, rng.uniform(0, 2000, (1000, 2))])
    xy = spots[cKDTree(spots).query(pts)[1]]
    return xy, rng.integers(1, 4, len(xy)).astype(float)


def test_doctests() -> None:
    """The examples in the docstrings run and give what they show."""
    results = [
        doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        for module in (dbscan, hdbscan, pairs, suggest, _points)
    ]
    assert sum(r.failed for r in results) == 0
    assert sum(r.attempted for r in results) >= 5


# ------------------------------------------------------------------ DBSCAN, hand-worked


def test_two_blobs_and_noise() -> None:
    """Two blobs of four points 1 m apart, a lone point: blobs are clusters 0 and 1."""
    xy = np.array(
        [[100, 100], [0, 0], [101, 100], [0, 1], [1, 0], [100, 101], [1, 1], [101, 101], [50, 50]],
        dtype=float,
    )
    labels, is_core = dbscan_labels(xy, eps=1.0, min_samples=3)
    assert labels.tolist() == [0, 1, 0, 1, 1, 0, 1, 0, -1]
    assert is_core.tolist() == [True] * 8 + [False]
    assert labels.dtype == np.int64 and is_core.dtype == np.bool_


def test_border_point_takes_the_lowest_label_of_the_clusters_reaching_it() -> None:
    """b (row 3) is 1 m from a core of each cluster. Its first core neighbour by row is in P
    (row 1), but Q owns the first core row (row 0), so Q is cluster 0 and b joins Q."""
    xy = np.array(
        [
            [2.0, 0.1],  # Q
            [0.0, 0.0],  # P, 1 m from b
            [2.0, 0.0],  # Q, 1 m from b
            [1.0, 0.0],  # b: itself + one core of each cluster = 3 < 4, a border point
            [0.0, 0.1],  # P
            [0.0, -0.1],  # P
            [-0.1, 0.0],  # P
            [2.0, -0.1],  # Q
            [2.1, 0.0],  # Q
        ]
    )
    labels, is_core = dbscan_labels(xy, eps=1.0, min_samples=4)
    assert labels.tolist() == [0, 1, 0, 0, 1, 1, 1, 0, 0]
    assert not is_core[3] and is_core[[0, 1, 2, 4, 5, 6, 7, 8]].all()
    sk_labels, sk_core = sklearn_dbscan(xy, 1.0, 4)
    assert labels.tolist() == sk_labels.tolist() and is_core.tolist() == sk_core.tolist()


def test_duplicates_make_a_point_core() -> None:
    """A map point repeated min_samples times is a cluster on its own; one fewer is noise."""
    one_spot = np.repeat([[10.0, 10.0]], 5, axis=0)
    xy = np.concatenate([[[500.0, 500.0]], one_spot, [[10.0, 11.0]]])
    labels, is_core = dbscan_labels(xy, eps=2.0, min_samples=6)
    assert labels.tolist() == [-1, 0, 0, 0, 0, 0, 0]  # 5 copies + the neighbour 1 m away = 6
    assert is_core.tolist() == [False, True, True, True, True, True, True]
    labels, is_core = dbscan_labels(xy[:-1], eps=2.0, min_samples=6)
    assert labels.tolist() == [-1] * 6 and not is_core.any()


def test_weight_counts_like_repeated_rows() -> None:
    """One row of weight 6 is core at min_samples 6, exactly like six copies of it."""
    xy = np.array([[0.0, 0.0], [0.5, 0.0], [40.0, 0.0]])
    labels, is_core = dbscan_labels(xy, eps=1.0, min_samples=6, weights=np.array([6.0, 0, 1]))
    assert labels.tolist() == [0, 0, -1]
    assert is_core.tolist() == [True, True, False]  # weight 0 still has its neighbour's 6


def test_empty_input_gives_empty_labels() -> None:
    labels, is_core = dbscan_labels(np.empty((0, 2)), eps=150.0, min_samples=5)
    assert labels.shape == (0,) and is_core.shape == (0,)
    assert hdbscan_labels(np.empty((0, 2)), min_cluster_size=5).shape == (0,)
    assert k_distance(np.empty((0, 2)), k=3).shape == (0,)


def test_input_is_not_mutated() -> None:
    xy = np.array([[0.0, -0.0], [1.0, 0.0], [0.0, 0.0]])
    w = np.array([1.0, 2.0, 3.0])
    before_xy, before_w = xy.copy(), w.copy()
    dbscan_labels(xy, eps=1.0, min_samples=2, weights=w)
    hdbscan_labels(xy, min_cluster_size=2, weights=w)
    assert np.array_equal(xy, before_xy) and np.array_equal(np.signbit(xy), np.signbit(before_xy))
    assert np.array_equal(w, before_w)


def test_hash_collisions_fall_back_to_exact_deduplication(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a useless hash (x ignored), different points share keys: results stay exact."""
    monkeypatch.setattr(_points, "_HASH_MIX", np.uint64(0))
    rng = np.random.default_rng(3)
    xy = rng.integers(0, 6, size=(200, 2)).astype(float)
    labels, is_core = dbscan_labels(xy, eps=1.5, min_samples=9)
    sk_labels, sk_core = sklearn_dbscan(xy, 1.5, 9)
    assert labels.tolist() == sk_labels.tolist() and is_core.tolist() == sk_core.tolist()


def test_two_thread_factorize_keeps_first_appearance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The large-input path (rows factorized in two halves, then merged) numbers the unique
    points exactly like the one-pass path."""
    xy, _ = snapped_city(seed=9)
    one_pass = dbscan_labels(xy, eps=150.0, min_samples=30)
    monkeypatch.setattr(_points, "_PARALLEL_ROWS", 100)
    two_halves = dbscan_labels(xy, eps=150.0, min_samples=30)
    assert one_pass[0].max() >= 1
    assert np.array_equal(one_pass[0], two_halves[0]) and np.array_equal(one_pass[1], two_halves[1])
    sk_labels, sk_core = sklearn_dbscan(xy, 150.0, 30)
    assert np.array_equal(two_halves[0], sk_labels) and np.array_equal(two_halves[1], sk_core)


# --------------------------------------------------------- DBSCAN against scikit-learn

GRID = st.integers(min_value=0, max_value=6)
EPS = st.one_of(
    st.sampled_from([1.0, math.sqrt(2), 2.0, math.sqrt(5), 3.0]),  # exactly on grid distances
    st.floats(min_value=0.3, max_value=4.0, allow_nan=False),
)


@st.composite
def grid_points(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray | None]:
    """Points on a 7 x 7 integer grid (so duplicates are frequent), optional integer weights."""
    n = draw(st.integers(min_value=1, max_value=70))
    xy = draw(hnp.arrays(np.int64, (n, 2), elements=GRID)).astype(float)
    weights = None
    if draw(st.booleans()):
        weights = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3))).astype(float)
        weights[0] = max(weights[0], 1.0)  # sklearn refuses all-zero weights
    return xy, weights


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=grid_points(), eps=EPS, min_samples=st.integers(min_value=1, max_value=12))
def test_dbscan_equals_sklearn_on_raw_points(
    data: tuple[np.ndarray, np.ndarray | None], eps: float, min_samples: int
) -> None:
    """Labels (numbers included) and core mask equal sklearn's on the raw rows."""
    xy, weights = data
    labels, is_core = dbscan_labels(xy, eps=eps, min_samples=min_samples, weights=weights)
    sk_labels, sk_core = sklearn_dbscan(xy, eps, min_samples, weights)
    assert labels.tolist() == sk_labels.tolist()
    assert is_core.tolist() == sk_core.tolist()


@settings(max_examples=100, deadline=None)
@given(data=grid_points(), eps=EPS, min_samples=st.integers(min_value=1, max_value=12))
def test_dbscan_equals_sklearn_on_unique_weighted_points(
    data: tuple[np.ndarray, np.ndarray | None], eps: float, min_samples: int
) -> None:
    """On the unique points with counts as weights: equal to sklearn there, and the same
    clustering as on the raw rows (the deduplication changes nothing)."""
    xy, _ = data
    unique, first, inverse, counts = np.unique(
        xy, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.argsort(first)  # first-appearance order
    unique, counts = unique[order], counts[order].astype(float)
    labels, is_core = dbscan_labels(unique, eps=eps, min_samples=min_samples, weights=counts)
    sk_labels, sk_core = sklearn_dbscan(unique, eps, min_samples, counts)
    assert labels.tolist() == sk_labels.tolist() and is_core.tolist() == sk_core.tolist()
    raw_labels, raw_core = dbscan_labels(xy, eps=eps, min_samples=min_samples)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    assert raw_labels.tolist() == labels[rank[inverse.ravel()]].tolist()
    assert raw_core.tolist() == is_core[rank[inverse.ravel()]].tolist()


def test_dbscan_equals_sklearn_on_snapped_city_points() -> None:
    """Float coordinates snapped to 400 map points, 3,000 incidents, with weights."""
    xy, weights = snapped_city(seed=11)
    for eps, min_samples in [(150.0, 15), (100.0, 40), (60.0, 80)]:
        labels, is_core = dbscan_labels(xy, eps=eps, min_samples=min_samples, weights=weights)
        sk_labels, sk_core = sklearn_dbscan(xy, eps, min_samples, weights)
        assert labels.max() >= 1  # a real test: several clusters
        assert np.array_equal(labels, sk_labels) and np.array_equal(is_core, sk_core)


def pair_set(found: NeighbourPairs) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for i, j in found:
        piece = set(zip(i.tolist(), j.tolist(), strict=True))
        assert not piece & out  # each pair once
        out |= piece
    return out


@settings(max_examples=100, deadline=None)
@given(data=grid_points(), eps=EPS, budget=st.integers(min_value=1, max_value=60))
def test_pairs_in_slices_are_the_pairs_at_once(
    data: tuple[np.ndarray, np.ndarray | None], eps: float, budget: int
) -> None:
    """Sliced under any budget, the neighbour pairs are query_pairs' own, each once, i < j
    (distances exactly eps included)."""
    xy = np.unique(data[0], axis=0)
    tree = cKDTree(xy)
    expected = {(int(a), int(b)) for a, b in tree.query_pairs(eps, output_type="ndarray")}
    assert pair_set(NeighbourPairs(tree, eps, budget=budget)) == expected
    assert all(a < b for a, b in expected)


def test_dense_points_come_in_pieces_within_the_budget() -> None:
    """2,000 points in a 10 m square at eps 5 m (about 750,000 pairs): slices of at most the
    budget, together every pair."""
    xy = np.random.default_rng(3).uniform(0, 10, size=(2000, 2))
    tree = cKDTree(xy)
    found = NeighbourPairs(tree, 5.0, budget=50_000)
    assert found.pieces > 10
    assert all(len(i) <= 50_000 for i, _ in found)
    expected = {(int(a), int(b)) for a, b in tree.query_pairs(5.0, output_type="ndarray")}
    assert len(expected) > 500_000
    assert pair_set(found) == expected


@settings(max_examples=100, deadline=None)
@given(
    data=grid_points(),
    eps=EPS,
    min_samples=st.integers(min_value=1, max_value=12),
    budget=st.integers(min_value=1, max_value=40),
)
def test_dbscan_in_slices_equals_sklearn(
    data: tuple[np.ndarray, np.ndarray | None], eps: float, min_samples: int, budget: int
) -> None:
    """With the pairs in slices (dense points), labels and core mask still equal sklearn's."""
    xy, weights = data
    w = np.ones(len(xy)) if weights is None else weights
    codes, uxy, uw = _points.unique_points(xy, w)
    labels_u, core_u = dbscan._dbscan_unique(
        uxy, uw, eps=eps, min_samples=min_samples, budget=budget
    )
    sk_labels, sk_core = sklearn_dbscan(xy, eps, min_samples, weights)
    assert labels_u[codes].tolist() == sk_labels.tolist()
    assert core_u[codes].tolist() == sk_core.tolist()


def test_neighbour_counts_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense points counted in slices: each row's weight within eps, as a brute force gives."""
    xy, weights = snapped_city(seed=5)
    brute = (cdist(xy, xy) <= 150.0).astype(float) @ weights
    monkeypatch.setattr(pairs, "PAIR_BUDGET", 200)
    assert NeighbourPairs(cKDTree(np.unique(xy, axis=0)), 150.0).pieces > 1
    assert np.allclose(neighbour_counts(xy, eps=150.0, weights=weights), brute)
    labels, is_core = dbscan_labels(xy, eps=150.0, min_samples=15, weights=weights)
    sk_labels, sk_core = sklearn_dbscan(xy, 150.0, 15, weights)
    assert labels.max() >= 1
    assert np.array_equal(labels, sk_labels) and np.array_equal(is_core, sk_core)


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"eps": 0}, "eps"),
        ({"eps": -5.0}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"eps": float("inf")}, "eps"),
        ({"eps": "150"}, "eps"),
        ({"eps": True}, "eps"),
        ({"min_samples": 0}, "min_samples"),
        ({"min_samples": 2.5}, "min_samples"),
        ({"min_samples": True}, "min_samples"),
        ({"xy": np.zeros((4, 3))}, "xy"),
        ({"xy": np.array([[0.0, 1.0], [np.nan, 2.0]])}, "xy"),
        ({"xy": [["a", "b"]]}, "xy"),
        ({"weights": np.array([1.0, -1.0, 1.0])}, "weights"),
        ({"weights": np.array([1.0, 1.0])}, "weights"),
        ({"weights": np.array([1.0, np.inf, 1.0])}, "weights"),
    ],
)
def test_dbscan_arguments_are_validated(kwargs: dict[str, object], argument: str) -> None:
    """Bad arguments raise ParameterError: one line naming the argument."""
    call: dict[str, object] = {
        "xy": np.zeros((3, 2)),
        "eps": 150.0,
        "min_samples": 5,
        "weights": None,
    }
    call.update(kwargs)
    xy = call.pop("xy")
    with pytest.raises(ParameterError) as info:
        dbscan_labels(xy, **call)  # type: ignore[arg-type]
    message = str(info.value)
    assert argument in message and "\n" not in message


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"min_cluster_size": 1}, "min_cluster_size"),
        ({"min_cluster_size": 5.0}, "min_cluster_size"),
        ({"min_samples": 0}, "min_samples"),
        ({"weights": np.array([-1.0, 1.0, 1.0])}, "weights"),
    ],
)
def test_hdbscan_arguments_are_validated(kwargs: dict[str, object], argument: str) -> None:
    call: dict[str, object] = {"min_cluster_size": 5}
    call.update(kwargs)
    with pytest.raises(ParameterError, match=argument):
        hdbscan_labels(np.zeros((3, 2)), **call)  # type: ignore[arg-type]


def test_suggestion_arguments_are_validated() -> None:
    with pytest.raises(ParameterError, match="n_months"):
        suggest_min_samples(100, n_months=-1, area_km2=3.0)
    # no months at all (no month column): said so, not "over 1 month"
    none = suggest_min_samples(100, n_months=0, area_km2=3.0)
    assert "(no months given)" in none.reason and "month " not in none.reason.split(";")[0]
    with pytest.raises(ParameterError, match="area_km2"):
        suggest_min_samples(100, n_months=1, area_km2=-1.0)
    with pytest.raises(ParameterError, match="n_incidents"):
        suggest_min_samples(-1, n_months=1, area_km2=1.0)
    with pytest.raises(ParameterError, match="k"):
        k_distance(np.zeros((3, 2)), k=0)
    with pytest.raises(ParameterError, match="k=5"):
        k_distance(np.zeros((3, 2)), k=5)  # only 3 incidents
    with pytest.raises(ParameterError, match="k"):
        suggest_eps(np.zeros((3, 2)), k=0)


# ------------------------------------------------------------------------- k-distance


def test_k_distance_on_hand_data() -> None:
    """Map points A (2 incidents), B 5 m away, C 10 m from A (5 m from B)."""
    xy = np.array([[0, 0], [3, 4], [0, 0], [6, 8]], dtype=float)
    assert k_distance(xy, k=1).tolist() == [0.0, 0.0, 0.0]
    assert k_distance(xy, k=2).tolist() == [0.0, 5.0, 5.0]  # A alone holds 2
    assert k_distance(xy, k=3).tolist() == [5.0, 5.0, 10.0]  # C needs A's two
    assert k_distance(xy, k=4).tolist() == [5.0, 10.0, 10.0]  # A: 2 + B + C at 10 m
    heavy = k_distance(xy, k=4, weights=np.array([1.0, 1.0, 1.0, 5.0]))
    assert heavy.tolist() == [0.0, 5.0, 10.0]  # C's own weight 5 reaches 4


def test_k_distance_matches_brute_force() -> None:
    """The k-th incident counting repeats, against sorting all distances to the raw rows."""
    rng = np.random.default_rng(5)
    xy = rng.integers(0, 30, size=(300, 2)).astype(float)
    unique = np.unique(xy, axis=0)
    for k in (1, 4, 17, 60):
        expected = np.sort(np.sort(cdist(unique, xy), axis=1)[:, k - 1])
        assert np.allclose(k_distance(xy, k=k), expected)


# ------------------------------------------------------------------------------ HDBSCAN


def _raw_configuration(
    rng: np.random.Generator, *, heavy: bool = True
) -> tuple[np.ndarray, int, int]:
    """Float points in blobs + background, each repeated 1..2*mcs-1 times (1..mcs-1 if not
    ``heavy``), shuffled."""
    blobs = [
        rng.normal(rng.uniform(0, 1000, 2), rng.uniform(20, 80), (rng.integers(5, 30), 2))
        for _ in range(rng.integers(1, 4))
    ]
    pts = np.concatenate([*blobs, rng.uniform(0, 1000, (rng.integers(0, 12), 2))])
    mcs = int(rng.integers(2, 10))
    min_samples = int(rng.integers(1, 10))
    raw = np.repeat(pts, rng.integers(1, 2 * mcs if heavy else mcs, len(pts)), axis=0)
    return raw[rng.permutation(len(raw))], mcs, min_samples


def _has_ties(raw: np.ndarray, min_samples: int) -> bool:
    """Whether two merges of the raw single-linkage hierarchy happen at one distance."""
    unique, counts = np.unique(raw, axis=0, return_counts=True)
    d = cdist(unique, unique)
    core = np.sort(cdist(unique, raw), axis=1)[:, min_samples - 1]
    reach = np.maximum(np.maximum(core[:, None], core[None, :]), d)
    np.fill_diagonal(reach, 0)
    weights = minimum_spanning_tree(reach).data
    # copies of a point merge at its core distance: a tie if a link has that distance too
    return bool(len(np.unique(weights)) < len(weights) or np.isin(core[counts > 1], weights).any())


def test_hdbscan_is_hdbscan_of_the_raw_incidents() -> None:
    """What the product computes, where no map point alone holds min_cluster_size
    incidents: sklearn's HDBSCAN of the raw rows (repeats included), on configurations
    where no two merges tie (at ties sklearn's result depends on its edge order)."""
    rng = np.random.default_rng(2024)
    compared = clustered = 0
    for _ in range(160):
        raw, mcs, min_samples = _raw_configuration(rng, heavy=False)
        if len(raw) <= min_samples or _has_ties(raw, min_samples):
            continue
        ours = hdbscan_labels(raw, min_cluster_size=mcs, min_samples=min_samples)
        theirs = HDBSCAN(min_cluster_size=mcs, min_samples=min_samples, copy=True).fit(raw)
        assert same_partition(ours, theirs.labels_)
        compared += 1
        clustered += int(ours.max() >= 1)
    assert compared >= 30 and clustered >= 10


def test_hdbscan_weights_are_repeated_rows() -> None:
    """Unique points with counts as weights give the raw rows' labels, numbers included."""
    rng = np.random.default_rng(8)
    for _ in range(10):
        raw, mcs, min_samples = _raw_configuration(rng)
        unique, first, inverse, counts = np.unique(
            raw, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        order = np.argsort(first)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        weighted = hdbscan_labels(
            unique[order],
            min_cluster_size=mcs,
            min_samples=min_samples,
            weights=counts[order].astype(float),
        )
        raw_labels = hdbscan_labels(raw, min_cluster_size=mcs, min_samples=min_samples)
        assert raw_labels.tolist() == weighted[rank[inverse.ravel()]].tolist()


def test_a_busy_map_point_is_a_hotspot_of_its_own() -> None:
    """40 incidents snapped to one map point, 300 m clear of anything else, a blob of 40
    spread incidents 800 m away, 30 scattered incidents: the busy map point (with a few
    scattered incidents) is a hotspot, as among the raw rows."""
    rng = np.random.default_rng(4)
    scattered = rng.uniform(-1000, 1000, size=(60, 2))
    scattered = scattered[np.hypot(*scattered.T) > 300][:30]
    blob = rng.normal(600, 30, size=(40, 2))
    busy = np.repeat([[0.0, 0.0]], 40, axis=0)
    xy = np.concatenate([scattered[:15], busy, blob, scattered[15:]])
    labels = hdbscan_labels(xy, min_cluster_size=15, min_samples=10)
    assert set(labels[15:55].tolist()) == {0} and (labels == 0).sum() < 45
    assert np.mean(labels[55:95] == 1) > 0.8
    sk = HDBSCAN(min_cluster_size=15, min_samples=10, copy=True).fit(xy).labels_
    assert same_partition(labels, sk)


def test_lone_busy_map_points_anchor_hotspots_without_infinite_stability() -> None:
    """Two map points 1 km apart with 30 incidents each, sparse incidents around (none
    within 400 m). Each busy point anchors its own hotspot. Among the raw rows each busy
    point is infinitely dense, a cluster of (nearly) just its rows; here a map point alone
    adds no stability, so each hotspot also keeps the sparse incidents that fell out of it,
    as any HDBSCAN cluster keeps its fringe."""
    rng = np.random.default_rng(12)
    scattered = rng.uniform(-1500, 2500, size=(200, 2))
    far = (np.hypot(*scattered.T) > 400) & (np.hypot(*(scattered - [1000, 0]).T) > 400)
    spots = np.repeat([[0.0, 0.0], [1000.0, 0.0]], 30, axis=0)
    xy = np.concatenate([spots, scattered[far][:40]])
    labels = hdbscan_labels(xy, min_cluster_size=20, min_samples=5)
    assert labels[:30].tolist() == [0] * 30 and labels[30:60].tolist() == [1] * 30
    assert (labels[60:] >= 0).sum() > 10  # the fringe
    raw = HDBSCAN(min_cluster_size=20, min_samples=5, copy=True).fit(xy).labels_
    assert (raw == raw[30]).sum() == 30 and raw[0] != raw[30]
    # With nothing else around, the two map points are the two hotspots, as for the rows.
    alone = hdbscan_labels(spots, min_cluster_size=20, min_samples=5)
    assert alone.tolist() == [0] * 30 + [1] * 30


def test_a_street_of_busy_map_points_stays_one_hotspot() -> None:
    """A street: 240 incidents on 5 map points within 40 m, 1 km from a 120-incident blob
    on 5 other points, amid 180 scattered incidents. Each street point holds min_samples
    incidents, so among the raw rows it is infinitely dense and sklearn cuts the street
    into one hotspot per busy point; the product keeps the street whole."""
    rng = np.random.default_rng(7)
    offsets = np.array([[0, 0], [20, 0], [0, 20], [-20, 10], [15, -25]], dtype=float)
    street = offsets[rng.integers(0, 5, 240)]
    blob = offsets[rng.integers(0, 5, 120)] + [1000.0, 600.0]
    scattered = rng.uniform(-1500, 2500, size=(180, 2))
    scattered = scattered[np.hypot(*(scattered - [0, 0]).T) > 300]
    scattered = scattered[np.hypot(*(scattered - [1000, 600]).T) > 300]
    xy = np.concatenate([street, blob, scattered])
    labels = hdbscan_labels(xy, min_cluster_size=50, min_samples=10)
    assert set(labels[:240].tolist()) == {0} and set(labels[240:360].tolist()) == {1}
    raw = HDBSCAN(min_cluster_size=50, min_samples=10, copy=True).fit(xy).labels_
    assert len(set(raw[:240].tolist()) - {-1}) >= 2  # the rows' HDBSCAN splits the street


def test_hdbscan_ties_follow_the_level_sets() -> None:
    """x sits 48 m from blob A and 48 m from blob B, its core distance is 48 m: A, B and x
    join at one distance. x belongs to neither (it is noise), whatever the edge order
    (sklearn's binary tree hands it to A or B)."""
    blob = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.0, -2.0], [0.0, 0.0]])
    xy = np.concatenate([blob, [[50.0, 0.0]], blob + np.array([100.0, 0.0])])
    labels = hdbscan_labels(xy, min_cluster_size=5, min_samples=3)
    assert labels.tolist() == [0] * 5 + [-1] + [1] * 5


def test_hdbscan_labels_are_numbered_by_first_row() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 5, (30, 2))
    b = rng.normal(400, 5, (30, 2))
    xy = np.concatenate([b[:1], a, b[1:]])
    labels = hdbscan_labels(xy, min_cluster_size=10)
    assert labels[0] == 0 and set(labels[1:31].tolist()) == {1} and set(labels[31:]) == {0}


def test_hdbscan_degenerate_inputs_are_all_noise() -> None:
    one_spot = np.repeat([[5.0, 5.0]], 30, axis=0)
    assert (hdbscan_labels(one_spot, min_cluster_size=5) == -1).all()  # no root cluster
    few = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    assert (hdbscan_labels(few, min_cluster_size=5) == -1).all()  # 3 incidents < 5
    assert (hdbscan_labels(few, min_cluster_size=2, min_samples=4) == -1).all()


@st.composite
def awkward_points(draw: st.DrawFn) -> np.ndarray:
    """Distinct points on a grid, on a line, or in general position."""
    kind = draw(st.sampled_from(["grid", "line", "float"]))
    n = draw(st.integers(min_value=2, max_value=60))
    if kind == "grid":
        xy = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 8))).astype(float)
    elif kind == "line":
        t = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 200))).astype(float)
        xy = np.column_stack([t, 2 * t + 1])
    else:
        xy = draw(
            hnp.arrays(np.float64, (n, 2), elements=st.floats(0, 1000, allow_subnormal=False))
        )
    unique = np.unique(xy, axis=0)
    assume(len(unique) >= 2 and cdist(unique, unique)[np.triu_indices(len(unique), 1)].min() > 1e-6)
    return unique


@settings(max_examples=120, deadline=None)
@given(
    pts=awkward_points(),
    k=st.integers(min_value=1, max_value=8),
    heavy=st.integers(min_value=1, max_value=5),
)
@example(  # qhull merges the two points 1e-6 apart and leaves one out of the triangulation
    pts=np.array([[0.0, 0.0], [0.0, 1.1252767963955988e-06], [0.0, 0.00390625], [595.0, 0.0]]),
    k=1,
    heavy=1,
)
def test_mutual_reachability_tree_is_minimal(pts: np.ndarray, k: int, heavy: int) -> None:
    """The candidate-edge spanning tree weighs what the MST of the full graph weighs."""
    weights = np.ones(len(pts))
    weights[:: max(1, len(pts) // 3)] = heavy
    assume(weights.sum() >= k)
    tree = cKDTree(pts)
    core = dbscan.weighted_kth_distance(tree, pts, weights, k)
    a, b, dist = hdbscan._mreach_mst(pts, core, tree)
    spanning = coo_array((np.ones(len(a)), (a, b)), shape=(len(pts), len(pts)))
    assert len(a) == len(pts) - 1 and connected_components(spanning)[0] == 1
    full = np.maximum(np.maximum(core[:, None], core[None, :]), cdist(pts, pts))
    np.fill_diagonal(full, 0)
    assert math.isclose(dist.sum(), minimum_spanning_tree(full).sum(), rel_tol=1e-9, abs_tol=1e-300)


# ------------------------------------------------------------------------- suggestions


def test_suggest_min_samples_rule_by_hand() -> None:
    """24,000 incidents on 39 km²: 615.4 per km², 43.5 per 150 m disc, x3 = 130.5 -> 131."""
    s = suggest_min_samples(24_000, n_months=12, area_km2=39.0)
    assert isinstance(s, Suggestion) and s.value == 131 and isinstance(s.value, int)
    assert "24,000 incidents" in s.reason and "12 months" in s.reason and "131" in s.reason
    assert "\n" not in s.reason
    assert s == suggest_min_samples(24_000, n_months=12, area_km2=39.0)  # deterministic


def test_suggest_min_samples_floors() -> None:
    assert suggest_min_samples(0, n_months=1, area_km2=10.0).value == MIN_SAMPLES_FLOOR
    few = suggest_min_samples(100, n_months=24, area_km2=40.0)
    assert few.value == 24 and "month" in few.reason  # at least one incident a month
    wide = suggest_min_samples(1_000, n_months=2, area_km2=2.0, eps=300.0)
    assert wide.value == math.ceil(3 * 1_000 / 2.0 * math.pi * 0.3**2)
    for area in (0.0, 0.01):  # no bigger than one 150 m disc: never more than all incidents
        tiny = suggest_min_samples(40, n_months=1, area_km2=area)
        assert tiny.value == 40 and "all 40 incidents" in tiny.reason


@given(
    n=st.integers(min_value=0, max_value=5_000_000),
    extra=st.integers(min_value=0, max_value=100_000),
    months=st.integers(min_value=1, max_value=60),
    area=st.floats(min_value=0.5, max_value=2_000.0),
)
def test_suggest_min_samples_grows_with_incidents_and_months(
    n: int, extra: int, months: int, area: float
) -> None:
    base = suggest_min_samples(n, n_months=months, area_km2=area).value
    assert base >= MIN_SAMPLES_FLOOR
    assert suggest_min_samples(n + extra, n_months=months, area_km2=area).value >= base
    assert suggest_min_samples(n, n_months=months + 1, area_km2=area).value >= base


def _streets(scale: float, seed: int = 6) -> np.ndarray:
    """Dense blobs (spread ~40 * scale) among sparse background, snapped to a grid."""
    rng = np.random.default_rng(seed)
    blobs = np.concatenate([rng.normal(c, 40 * scale, (400, 2)) for c in (0, 1500 * scale)])
    background = rng.uniform(-1000 * scale, 2500 * scale, (300, 2))
    return np.round(np.concatenate([blobs, background]) / scale) * scale


def test_suggest_eps_is_the_knee_of_map_point_spacing_and_stays_in_range() -> None:
    pts = _streets(1.0)
    s = suggest_eps(pts)
    assert EPS_RANGE[0] <= s.value <= EPS_RANGE[1]
    assert s == suggest_eps(pts)  # deterministic
    assert "4th nearest map point" in s.reason and "\n" not in s.reason
    curve = map_point_spacing(pts, k=4)
    # the knee lies past the spacing of the dense blob points and short of the isolated ones
    assert np.quantile(curve, 0.5) < s.value < curve.max()


def test_suggest_eps_on_a_regular_grid_is_its_spacing() -> None:
    """Map points 100 m apart: an interior point's 4 nearest are its 4 sides at 100 m;
    edge and corner points reach 141-200 m; the knee sits at the interior spacing."""
    grid = np.array([[x, y] for x in range(0, 3000, 100) for y in range(0, 3000, 100)], float)
    many = np.repeat(grid, 7, axis=0)  # incidents stacked on the map points change nothing
    assert suggest_eps(grid).value == suggest_eps(many).value == 100.0


def test_suggest_eps_says_when_it_clips() -> None:
    small = suggest_eps(_streets(0.05))
    assert small.value == EPS_RANGE[0] and "minimum" in small.reason
    large = suggest_eps(_streets(25.0))
    assert large.value == EPS_RANGE[1] and "maximum" in large.reason


def test_suggest_eps_without_a_curve_falls_back_to_the_default() -> None:
    few = suggest_eps(np.zeros((3, 2)))
    assert few.value == cluster.DEFAULT_EPS and "Fewer than 10 map points" in few.reason
    stacked = suggest_eps(np.repeat([[0.0, 0.0], [900.0, 0.0]], 20, axis=0))
    assert stacked.value == cluster.DEFAULT_EPS


def test_neighbour_counts_by_hand() -> None:
    """Three incidents on (0,0), one at 10 m, one at 100 m; eps 10 reaches the first two."""
    xy = np.array([[0.0, 0], [0, 0], [0, 0], [10, 0], [100, 0]])
    assert neighbour_counts(xy, eps=10).tolist() == [4.0, 4.0, 4.0, 4.0, 1.0]
    w = np.array([1.0, 1, 1, 2, 5])
    assert neighbour_counts(xy, eps=10, weights=w).tolist() == [5.0, 5.0, 5.0, 5.0, 5.0]


def test_suggest_min_samples_busier_than_rule_by_hand() -> None:
    """A dense spot: 60 incidents on one point, 40 scattered singles 1 km apart.

    Neighbourhood counts at eps 100: 60 rows see 60, 40 rows see 1. Three quarters of the
    incidents (75 of 100) see at most 60, so a core point needs 60, far above the 3 x
    uniform rule on this area."""
    xy = np.concatenate([np.zeros((60, 2)), np.array([[1000.0 * (i + 1), 0] for i in range(40)])])
    s = suggest_min_samples(100, n_months=1, area_km2=40.0, eps=100.0, xy=xy)
    assert s.value == 60 and "75% of all incidents" in s.reason
    without = suggest_min_samples(100, n_months=1, area_km2=40.0, eps=100.0)
    assert without.value == MIN_SAMPLES_FLOOR
    labels, _ = dbscan_labels(xy, eps=100.0, min_samples=s.value)
    assert (labels[:60] == 0).all() and (labels[60:] == -1).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(1, 6)),
        min_size=1,
        max_size=40,
    ),
    shares=st.lists(st.sampled_from([0.1, 0.3, 0.5, 0.75, 0.9, 0.99]), min_size=1, max_size=4),
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_busier_than_count_is_the_row_by_row_quantile(
    points: list[tuple[int, int, int]], shares: list[float], weighted: bool, seed: int
) -> None:
    """The busier-than rule's count, sorted a map point at a time for counted incidents, is
    the count of the row where every row, sorted by its neighbourhood count, reaches
    the share of the incidents (or weight): the plain definition, whatever the rows' order;
    several shares from one count are each their own."""
    from hotspots.cluster.suggest import _counts_not_exceeded

    rng = np.random.default_rng(seed)
    xy = np.repeat([(10.0 * x, 10.0 * y) for x, y, _ in points], [r for *_, r in points], axis=0)
    xy = xy[rng.permutation(len(xy))]
    weights = rng.choice([0.1, 0.3, 1.0, 2.5], len(xy)) if weighted else None
    counts = neighbour_counts(xy, eps=25.0, weights=weights)
    amounts = np.ones(len(xy)) if weights is None else weights
    order = np.argsort(counts, kind="stable")
    cum = np.cumsum(amounts[order])
    expected = []
    for share in shares:
        row = order[min(int(np.searchsorted(cum, share * cum[-1])), len(order) - 1)]
        expected.append(math.ceil(counts[row] - 1e-9))
    assert _counts_not_exceeded(xy, weights, 25.0, shares) == expected


def test_map_point_spacing_is_kept_and_each_caller_gets_its_own() -> None:
    """The curve is worked out once for the same coordinates and k (the suggestion and the
    chart both read it); a caller changing its copy changes no one else's."""
    from hotspots.cluster.suggest import map_point_spacing

    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 1000, size=(300, 2))
    first = map_point_spacing(xy)
    want = first.copy()
    first[:] = -1.0
    again = map_point_spacing(xy)
    np.testing.assert_array_equal(again, want)
    assert not np.array_equal(map_point_spacing(xy, k=2), want)  # another k: another curve
    moved = xy.copy()
    moved[0] += 500.0
    assert not np.array_equal(map_point_spacing(moved), want)  # other points: worked out


def test_kept_neighbourhoods_answer_only_their_own_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neighbourhoods are kept between calls (the suggestion and DBSCAN at one distance read
    one): the same map points with other weights, at another distance or with the pairs in
    slices each get their own, equal to sklearn's and to a brute force."""
    monkeypatch.setattr(dbscan, "_NEAR", type(dbscan._NEAR)(100))  # a fresh store
    xy, weights = snapped_city(seed=9)
    for w, eps, min_samples in [
        (None, 150.0, 15),
        (weights, 150.0, 15),
        (weights, 100.0, 15),
        (weights * 2, 150.0, 30),
    ]:
        kept = len(dbscan._NEAR)
        brute = (cdist(xy, xy) <= eps).astype(float) @ (np.ones(len(xy)) if w is None else w)
        assert np.allclose(neighbour_counts(xy, eps=eps, weights=w), brute)
        labels, is_core = dbscan_labels(xy, eps=eps, min_samples=min_samples, weights=w)
        assert len(dbscan._NEAR) == kept + 1  # counted once for both
        sk_labels, sk_core = sklearn_dbscan(xy, eps, min_samples, w)
        assert labels.max() >= 1
        assert np.array_equal(labels, sk_labels) and np.array_equal(is_core, sk_core)
    monkeypatch.setattr(pairs, "PAIR_BUDGET", 200)  # the same input, pairs now in slices
    labels, is_core = dbscan_labels(xy, eps=150.0, min_samples=15)
    assert len(dbscan._NEAR) == 5
    assert np.array_equal(labels, sklearn_dbscan(xy, 150.0, 15)[0])


def test_suggestions_for_several_shares_are_each_one_alone() -> None:
    """suggest_min_samples_each gives, share by share, the value and reason that
    suggest_min_samples gives for that share alone."""
    xy, weights = snapped_city(seed=4)
    shares = (0.3, 0.5, 0.7, 0.9)
    for w in (None, weights):
        each = suggest_min_samples_each(
            len(xy), n_months=12, area_km2=4.0, eps=150.0, xy=xy, weights=w, busier_than=shares
        )
        alone = [
            suggest_min_samples(
                len(xy), n_months=12, area_km2=4.0, eps=150.0, xy=xy, weights=w, busier_than=q
            )
            for q in shares
        ]
        assert each == alone
        assert len({s.value for s in each}) > 1  # the shares matter here
    with pytest.raises(ParameterError, match="busier_than"):
        suggest_min_samples_each(10, n_months=1, area_km2=1.0, busier_than=(0.5, 1.0))


@settings(max_examples=60, deadline=None)
@given(data=grid_points(), eps=EPS, min_samples=st.integers(min_value=1, max_value=12))
def test_dbscan_of_distinct_points_equals_dbscan_of_rows(
    data: tuple[np.ndarray, np.ndarray | None], eps: float, min_samples: int
) -> None:
    """dbscan_labels(distinct=True) (a MapPoints' distinct points with their counts, as they are)
    gives dbscan_labels' labels and core mask of the same points, and sklearn's."""
    xy, weights = data
    codes, unique, counts = _points.unique_points(xy, weights)
    labels, core = dbscan_labels(
        unique, eps=eps, min_samples=min_samples, weights=counts, distinct=True
    )
    plain_labels, plain_core = dbscan_labels(
        unique, eps=eps, min_samples=min_samples, weights=counts
    )
    assert np.array_equal(labels, plain_labels) and np.array_equal(core, plain_core)
    row_labels, _ = dbscan_labels(xy, eps=eps, min_samples=min_samples, weights=weights)
    assert same_partition(labels[codes], row_labels)
