"""find_hotspots: the chain of cluster -> footprint -> profile on an Incidents frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from hotspots import ParameterError, find_hotspots, read_incidents
from hotspots._points import incident_xy
from hotspots.columns import HOTSPOT_COLUMNS


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
