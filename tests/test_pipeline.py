"""hotspots.pipeline.analyse: the one analysis the CLI, the dashboard and the notebook run."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from hotspots import InputError, ParameterError, find_hotspots, read_incidents
from hotspots.pipeline import (
    ALL_INCIDENTS,
    SPACING_POINTS,
    analyse,
    select_wards,
    suggest,
    wards_named,
)


def _recorded(monkeypatch: pytest.MonkeyPatch, name: str, *modules: object) -> list:  # type: ignore[type-arg]
    """What ``name`` returns, each time it is called from any of ``modules`` (patched there,
    the first module's function still doing the work)."""
    results: list = []  # type: ignore[type-arg]
    work = getattr(modules[0], name)

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        results.append(work(*args, **kwargs))
        return results[-1]

    for module in modules:
        monkeypatch.setattr(module, name, recorded)
    return results


@pytest.fixture
def incidents(street_folder: Path) -> gpd.GeoDataFrame:
    """The two-blob street folder (H01 St James Street 240, H02 Hoe Street 120), read."""
    frame, _ = read_incidents(street_folder)
    return frame


@pytest.fixture
def wards(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two wards side by side covering every incident, split at easting 538,000."""
    minx, miny, maxx, maxy = incidents.total_bounds
    return gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["West", "East"]},
        geometry=[
            shapely.box(minx - 50, miny - 50, 538_000, maxy + 50),
            shapely.box(538_000, miny - 50, maxx + 50, maxy + 50),
        ],
        crs=incidents.crs,
    )


@pytest.fixture
def patrols(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One patrol area around the St James Street blob only (H01 covered, H02 not)."""
    return gpd.GeoDataFrame(
        {"patrol_area": ["St James"]},
        geometry=[shapely.Point(537_500, 189_200).buffer(150)],
        crs=incidents.crs,
    )


def test_analysis_holds_everything_and_matches_find_hotspots(incidents, wards, patrols) -> None:  # type: ignore[no-untyped-def]
    a = analyse(incidents, wards=wards, patrols=patrols, eps=100, min_samples=10)
    direct = find_hotspots(incidents, eps=100, min_samples=10, study_area=wards)
    assert list(a.hotspots["hotspot_id"]) == ["H01", "H02"]
    assert list(a.hotspots["incidents"]) == list(direct.hotspots["incidents"]) == [240, 120]
    assert a.hotspot_ids.equals(direct.hotspot_ids)
    # one study area: the wards' union, the same km² find_hotspots was given
    assert a.study_area.source == "boundary"
    assert a.study_area.area_km2 == pytest.approx(wards.union_all().area / 1e6)
    assert a.found.study_area_km2 == pytest.approx(direct.study_area_km2)
    # ward and patrol tables
    assert a.ward_table is not None and int(a.ward_table["incidents"].sum()) == len(incidents)
    assert a.incidents_outside_wards == 0
    assert a.uncovered is not None and list(a.uncovered["hotspot_id"]) == ["H02"]
    assert set(a.streets["hotspot_id"]) == {"H02"}  # streets of the uncovered hotspots only
    assert 0 < (a.patrol_share or 0) < 1
    # monthly series and mix add up to the hotspot counts
    by_hotspot = a.monthly.groupby("hotspot_id")["incidents"].sum().to_dict()
    assert by_hotspot == {"H01": 240, "H02": 120}
    assert int(a.overall["incidents"].sum()) == len(incidents)
    assert set(a.overall["hotspot_id"]) == {ALL_INCIDENTS}
    mix = a.crime_mix.groupby("hotspot_id")["incidents"].sum().to_dict()
    assert mix == {"H01": 240, "H02": 120}


def test_summary_is_the_contract(incidents, wards, patrols, street_folder: Path) -> None:  # type: ignore[no-untyped-def]
    frame, report = read_incidents(street_folder)
    a = analyse(frame, wards=wards, patrols=patrols, eps=100, min_samples=10)
    s = a.summary(report, files={"wards": "w.geojson", "patrols": "p.geojson"})
    for key in (
        "rows_read",
        "rows_used",
        "rows_dropped",
        "n_hotspots",
        "share_in_hotspots",
        "params",
        "period",
        "inputs",
        "notes",
        "study_area_km2",
    ):
        assert key in s
    assert s["n_hotspots"] == 2
    assert s["period"] == {"from": "2024-01", "to": "2024-06"}
    assert s["params"] == {
        "eps_m": 100.0,
        "min_samples": 10,
        "method": "dbscan",
        "crs": "EPSG:27700",
    }
    assert s["wards"] == {"file": "w.geojson", "n_wards": 2, "incidents_outside_wards": 0}
    assert s["patrols"]["uncovered_hotspots"] == ["H02"]
    assert "harm" not in s


def test_without_patrols_streets_cover_every_hotspot(incidents) -> None:  # type: ignore[no-untyped-def]
    a = analyse(incidents, eps=100, min_samples=10)
    assert set(a.streets["hotspot_id"]) == {"H01", "H02"}
    assert a.ward_table is None and a.uncovered is None and a.patrol_share is None
    assert a.study_area.source == "incidents"
    assert "wards" not in a.summary() and "rows_read" not in a.summary()


def test_harm_weights_rank_and_are_recorded(incidents) -> None:  # type: ignore[no-untyped-def]
    from hotspots.harm import DEFAULT_HARM_WEIGHTS

    table = {**DEFAULT_HARM_WEIGHTS, "Violence and sexual offences": 100.0, "Burglary": 10.0}
    a = analyse(incidents, eps=100, min_samples=10, harm=table, harm_source="my table")
    assert a.harm is not None and a.harm.source == "my table"
    assert "harm_share" in a.hotspots.columns
    assert a.summary()["harm"]["weights"] == table
    assert a.summary()["harm"]["total_harm"] == pytest.approx(float(a.incidents["weight"].sum()))
    assert (incidents["weight"] == 1.0).all()  # input not weighted in place


def test_suggest_is_what_analyse_uses(incidents, wards) -> None:  # type: ignore[no-untyped-def]
    suggested = suggest(incidents, wards=wards)
    a = analyse(incidents, wards=wards)
    assert set(suggested.settings) == {"eps", "busier_than", "min_samples"}
    assert a.found.eps_m == pytest.approx(float(suggested.settings["eps"].value))
    assert a.found.min_samples == int(suggested.settings["min_samples"].value)
    assert a.suggestions["min_samples"].reason == suggested.settings["min_samples"].reason
    curve = suggested.spacing
    assert 0 < len(curve) <= SPACING_POINTS and (curve[1:] >= curve[:-1]).all()
    # suggest()'s result itself is taken, as its settings are (it raised a TypeError)
    given = analyse(incidents, wards=wards, suggested=suggested, run_backtest=False)
    assert (given.found.eps_m, given.found.min_samples) == (a.found.eps_m, a.found.min_samples)


def test_analyse_names_a_bad_argument(incidents) -> None:  # type: ignore[no-untyped-def]
    """A number given as text, a method not known: one line naming the argument (eps="100"
    raised numpy's TypeError)."""
    for kwargs, argument in (
        ({"eps": "100"}, "eps"),
        ({"min_samples": "5"}, "min_samples"),
        ({"method": "bogus"}, "method"),
    ):
        with pytest.raises(ParameterError) as info:
            analyse(incidents, run_backtest=False, **kwargs)
        assert info.value.argument == argument and argument in str(info.value)


def test_select_wards(incidents, wards) -> None:  # type: ignore[no-untyped-def]
    west = select_wards(incidents, wards, ["West"])
    east = select_wards(incidents, wards, ["East"])
    assert len(west) + len(east) == len(incidents) and len(west) and len(east)
    assert (west.geometry.x < 538_000).all()
    assert select_wards(incidents, wards, []) is incidents
    far = wards.assign(ward_name=["Far", "Away"]).set_geometry(
        [shapely.box(0, 0, 10, 10), shapely.box(20, 20, 30, 30)]
    )
    with pytest.raises(InputError, match="no incidents in the chosen wards"):
        select_wards(incidents, far, ["Far"])


def test_wards_named_is_the_study_area_of_a_ward_filter(incidents, wards) -> None:  # type: ignore[no-untyped-def]
    """One ward chosen: the analysis made with it alone measures PAI against its area (half
    the layer's here), and the ward table lists it alone."""
    assert wards_named(wards, []) is wards
    west = wards_named(wards, ["West"])
    assert list(west["ward_name"]) == ["West"]
    chosen = select_wards(incidents, wards, ["West"])
    a = analyse(chosen, wards=west, eps=150.0, min_samples=5, run_backtest=False)
    assert a.study_area.area_km2 == pytest.approx(float(west.area.sum()) / 1e6)
    assert list(a.ward_table["ward_name"]) == ["West"]
    with pytest.raises(InputError, match="none of the chosen wards"):
        wards_named(wards, ["Nowhere"])


def test_population_needs_wards(incidents) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    with pytest.raises(ParameterError, match="needs wards"):
        analyse(incidents, population=pd.DataFrame({"ward_code": ["W1"], "population": [10]}))


def test_city_scale_shortcuts_change_nothing_but_the_time() -> None:
    """Issue 12: the analysis of a file big enough for every threaded stage (two back-test
    folds at a time from 50,000 incidents, outlines in two threads) equals the plain run in one
    thread: labels, hotspot statistics, patrol points and the back-test's scores."""
    import numpy as np
    import pandas as pd

    from hotspots._threads import threads_at_most

    rng = np.random.default_rng(12)
    sites = rng.uniform(0, 6000, size=(4000, 2)).round()  # map points, 6 km square
    centres = rng.uniform(500, 5500, size=(80, 2))
    near = ((sites[:, None, :] - centres[None]) ** 2).sum(-1).min(1) < 150.0**2
    weight = np.where(near, 12.0, 1.0)
    pick = rng.choice(len(sites), size=55_000, p=weight / weight.sum())
    frame = gpd.GeoDataFrame(
        {
            "incident_id": [f"i{k}" for k in range(len(pick))],
            "month": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 6, len(pick)) * 31, "D"),
            "category": "Drugs",
            "location": [f"On or near Street {k % 700}" for k in pick],
            "weight": 1.0,
        },
        geometry=gpd.points_from_xy(530_000 + sites[pick, 0], 180_000 + sites[pick, 1]),
        crs="EPSG:27700",
    )
    frame["month"] = frame["month"].dt.to_period("M").dt.to_timestamp()
    fast = analyse(frame, eps=100.0, min_samples=60, tune=False)
    with threads_at_most(1):
        plain = analyse(frame, eps=100.0, min_samples=60, tune=False)
    assert fast.n_hotspots == plain.n_hotspots > 64  # enough outlines to buffer in threads
    assert fast.hotspot_ids.equals(plain.hotspot_ids)
    pd.testing.assert_frame_equal(fast.hotspot_table, plain.hotspot_table)
    pd.testing.assert_frame_equal(fast.patrol_points, plain.patrol_points)
    assert fast.backtest is not None and plain.backtest is not None
    assert len(fast.backtest.folds) == 3
    pd.testing.assert_frame_equal(fast.backtest.table, plain.backtest.table)
    # with wards in two boroughs: the boroughs clustered two at a time, the same answer
    wards = gpd.GeoDataFrame(
        {
            "ward_code": ["W1", "W2", "W3", "W4"],
            "ward_name": ["North West", "North East", "South West", "South East"],
            "LAD22NM": ["West", "East", "West", "East"],
        },
        geometry=[
            shapely.box(530_000 + x, 180_000 + y, 533_000 + x, 183_000 + y)
            for y in (3000, 0)
            for x in (0, 3000)
        ],
        crs="EPSG:27700",
    )
    fast = analyse(frame, wards=wards, eps=100.0, min_samples=60, tune=False)
    with threads_at_most(1):
        plain = analyse(frame, wards=wards, eps=100.0, min_samples=60, tune=False)
    assert set(fast.found.group_min_samples) == {"West", "East"}
    assert fast.hotspot_ids.equals(plain.hotspot_ids)
    pd.testing.assert_frame_equal(fast.hotspot_table, plain.hotspot_table)
    pd.testing.assert_frame_equal(fast.ward_table, plain.ward_table)


def test_crime_mix_is_the_crosstab_in_long_form(incidents) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from hotspots.pipeline import crime_mix

    ids = find_hotspots(incidents, eps=100.0, min_samples=10).hotspot_ids
    member = (ids != "").to_numpy()
    plain = (
        pd.crosstab(ids.to_numpy()[member], incidents["category"].to_numpy()[member])
        .rename_axis(index="hotspot_id", columns="crime type")
        .reset_index()
        .melt(id_vars="hotspot_id", var_name="crime type", value_name="incidents")
    )
    plain = plain[plain["incidents"] > 0].reset_index(drop=True)
    got = crime_mix(incidents, ids)
    assert got.to_dict("list") == plain.to_dict("list")
    assert len(got) > 2


@pytest.mark.parametrize("layer", ["wards", "boroughs", None])
@pytest.mark.parametrize("harmed", [False, True])
def test_add_backtest_later_equals_the_backtest_of_analyse(  # type: ignore[no-untyped-def]
    incidents, wards, layer, harmed, monkeypatch
) -> None:
    """analyse begins its back-test before it finds the hotspots (the folds' points and street
    spaces worked out meanwhile) and takes it on: the same back-test as one added afterwards,
    with or without wards (in two boroughs: each refitted on its own rows) and harm."""
    import pandas as pd

    import hotspots.backtest
    import hotspots.found_backtest
    from hotspots.harm import DEFAULT_HARM_WEIGHTS
    from hotspots.pipeline import add_backtest

    # one begun early, or again
    begun = _recorded(monkeypatch, "start_backtest", hotspots.found_backtest, hotspots.backtest)
    if layer == "boroughs":
        wards = wards.assign(LAD22NM=["Walthamstow", "Leyton"])
    settings = {
        "wards": wards if layer else None,
        "harm": {**DEFAULT_HARM_WEIGHTS, "Burglary": 10.0} if harmed else None,
        "eps": 100.0,
        "min_samples": 10,
    }
    now = analyse(incidents, **settings)
    # begun before the hotspots were found, and taken on: not begun again
    assert len(begun) == 1 and begun[0] is not None
    assert not begun[0].matches(now.incidents, now.study_area.geometry, None, (harmed, 25.0))
    assert bool(now.found.group_min_samples) == (layer == "boroughs")
    later = analyse(incidents, **settings, run_backtest=False)
    assert len(begun) == 1  # nothing begun without a back-test
    assert later.backtest is None and now.backtest is not None
    assert add_backtest(later) is later
    assert later.backtest is not None
    pd.testing.assert_frame_equal(later.backtest.table, now.backtest.table)
    assert later.notes == now.notes
    table = later.backtest.table
    assert add_backtest(later).backtest.table is table  # once only


def test_a_backtest_begun_for_other_settings_is_begun_again(incidents) -> None:  # type: ignore[no-untyped-def]
    """hotspot_backtest ends a started back-test that does not fit the analysis (another
    radius, or points only where rows are needed) and begins its own: the same table."""
    import pandas as pd

    from hotspots.backtest import start_backtest
    from hotspots.found_backtest import hotspot_backtest

    a = analyse(incidents, eps=100.0, min_samples=10, run_backtest=False)
    want = hotspot_backtest(a.incidents, a.found)
    study = a.study_area.geometry
    for other in (
        start_backtest(a.incidents, study=study, radius=40.0, rows_map=False),
        start_backtest(a.incidents.copy(), study=study, rows_map=False),
    ):
        assert other is not None
        got = hotspot_backtest(a.incidents, a.found, started=other)
        assert got is not None and want is not None
        pd.testing.assert_frame_equal(got.table, want.table)
        with pytest.raises(RuntimeError, match="ended"):
            other.folds()


def test_an_analysis_that_fails_leaves_no_backtest_running(incidents) -> None:  # type: ignore[no-untyped-def]
    """The back-test begun before the clustering is stopped when the clustering fails: the
    error reaches the caller and no thread is left working."""
    import threading

    from hotspots._validate import month_numbers
    from hotspots.backtest import plan_folds

    assert plan_folds(month_numbers(incidents["month"]))  # enough months: it is begun
    before = threading.active_count()
    with pytest.raises(ParameterError, match="eps"):
        analyse(incidents, eps=-5.0, min_samples=10)
    assert threading.active_count() == before


def test_prepared_once_analyses_equal_those_that_prepare_themselves(
    incidents, wards, patrols
) -> None:  # type: ignore[no-untyped-def]
    """The dashboard prepares the study area and place names once per filter: analyses at
    several distances then equal analyses that work them out themselves."""
    from hotspots.prepared import prepare

    prepared = prepare(incidents, wards=wards)
    assert prepared.study_area.source == "boundary"
    assert prepared.locations.index.equals(incidents.index)
    for eps in (60, 100):
        kept = analyse(incidents, wards=wards, patrols=patrols, eps=eps, min_samples=10,
                       run_backtest=False, prepared=prepared)  # fmt: skip
        fresh = analyse(incidents, wards=wards, patrols=patrols, eps=eps, min_samples=10,
                        run_backtest=False)  # fmt: skip
        assert kept.hotspot_ids.equals(fresh.hotspot_ids)
        assert kept.hotspots.drop(columns="geometry").equals(
            fresh.hotspots.drop(columns="geometry")
        )
        assert kept.study_area.area_km2 == fresh.study_area.area_km2
        assert kept.found.locations.equals(fresh.found.locations)
        assert kept.overall.equals(fresh.overall)


def test_prepared_from_other_incidents_is_refused(incidents) -> None:  # type: ignore[no-untyped-def]
    from hotspots.prepared import prepare

    prepared = prepare(incidents.iloc[:100])
    with pytest.raises(ParameterError, match="prepared was made from other incidents"):
        analyse(incidents, eps=100, min_samples=10, run_backtest=False, prepared=prepared)


@pytest.mark.parametrize("harmed", [False, True])
def test_grouped_fold_maps_equal_the_plain_group_by_group_cut(incidents, harmed) -> None:  # type: ignore[no-untyped-def]
    """A fold's hotspots found borough by borough (cut from arrays, each borough numbered
    once) are those of the plain cut: each borough's rows taken from the frame, their map
    points, and min_samples scaled to the borough's share; with a borough that has no
    incidents in the fold and incidents in no borough."""
    import numpy as np
    import pandas as pd

    from hotspots.backtest import MAX_SHARE
    from hotspots.found_backtest import _cluster_points, _grouped_fit_map
    from hotspots.ranked_maps import MapPoints
    from hotspots.tuning import cluster_map

    xy = np.column_stack([incidents.geometry.x, incidents.geometry.y])
    east = np.where(xy[:, 0] >= 538_000, "East", "West")
    names = pd.Series(np.where(np.arange(len(xy)) % 17 == 0, "", east), index=incidents.index)
    months = pd.to_datetime(incidents["month"])
    first = (months == months.min()).to_numpy()
    names[np.flatnonzero(first)[:30]] = "Quiet"  # only in the month the fold leaves out
    if harmed:
        incidents = incidents.assign(weight=1.0 + (np.arange(len(incidents)) % 5) * 0.37)
    found = find_hotspots(
        incidents, eps=100.0, min_samples=10, groups=names.replace("", np.nan), weighted=harmed
    )
    assert set(found.group_min_samples) >= {"East", "West", "Quiet", "(no group)"}
    fit = incidents[~first]  # the first month left out: no "Quiet" incident to fit on

    def amount(frame):  # type: ignore[no-untyped-def]
        return float(frame["weight"].sum()) if harmed else float(len(frame))

    fit_names = names.reindex(fit.index)
    parts, counts, group_of, needed = [], [], [], []
    for g, (name, whole) in enumerate(sorted(found.group_min_samples.items())):
        label = "" if name == "(no group)" else name
        part = fit[(fit_names == label).to_numpy()]
        points = _cluster_points(part, harmed)
        total = amount(incidents[(names == label).to_numpy()])
        share = amount(part) / total if total else 0.0
        parts.append(points.xy)
        counts.append(points.counts)
        group_of.append(np.full(len(points.xy), g, dtype=np.int64))
        needed.append(max(1, round(whole * share)))
    plain = cluster_map(
        MapPoints(np.vstack(parts), np.concatenate(counts)),
        eps=100.0,
        min_samples=needed,
        margin=found.margin,
        max_km2=found.max_km2,
        groups=np.concatenate(group_of),
        max_area=MAX_SHARE * found.study_area.geometry.area,
    )
    got = list(_grouped_fit_map(incidents, fit, found, names.replace("", np.nan), harmed))
    assert len(got) == len(plain) >= 2
    assert all(a.equals_exact(b, 0) for a, b in zip(got, plain, strict=True))


def test_each_incident_is_placed_in_its_ward_once(incidents, wards, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With wards in two boroughs, the boroughs the hotspots are found in, the ward table and
    the back-test's groups all read the wards prepare() placed the incidents in: one
    point-in-polygon join for the whole analysis, the same table as one of its own."""
    import pandas as pd

    import hotspots.overlay
    from hotspots.overlay import ward_table

    joins = _recorded(monkeypatch, "_ward_index", hotspots.overlay)
    overlaps = _recorded(monkeypatch, "overlap_pairs", hotspots.overlay, hotspots.pipeline)
    boroughs = wards.assign(LAD22NM=["Walthamstow", "Leyton"])
    a = analyse(incidents, wards=boroughs, eps=100.0, min_samples=10)
    assert len(joins) == 1
    assert len(overlaps) == 1  # the hotspots' wards and the ward table: one overlap search
    assert a.found.group_min_samples and a.backtest is not None
    plain = ward_table(incidents, boroughs, hotspots=a.hotspots, hotspot_ids=a.hotspot_ids)
    assert len(joins) == 2  # without the codes, the table joins again: the same table
    pd.testing.assert_frame_equal(a.ward_table, plain.table)
    # prepared with other wards: their codes are not taken, the wards given are placed afresh
    from hotspots.prepared import prepare

    other = prepare(incidents, wards=boroughs.assign(ward_code=["X1", "X2"]))
    b = analyse(incidents, wards=boroughs, eps=100.0, min_samples=10, prepared=other)
    pd.testing.assert_frame_equal(b.ward_table, a.ward_table)


def test_suggest_takes_the_study_area_of_a_preparation(incidents, wards, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """suggest(prepared=) takes the study area prepare() drew instead of drawing it again:
    the same suggestions and reasons, and one study area drawn for both."""
    import numpy as np

    import hotspots.pipeline
    import hotspots.prepared

    plain = suggest(incidents, wards=wards, tune=False)
    drawn = _recorded(monkeypatch, "study_area", hotspots.prepared, hotspots.pipeline)
    from hotspots.prepared import prepare

    prepared = prepare(incidents, wards=wards)
    got = suggest(incidents, wards=wards, tune=False, prepared=prepared)
    assert len(drawn) == 1
    assert {k: (v.value, v.reason) for k, v in got.settings.items()} == {
        k: (v.value, v.reason) for k, v in plain.settings.items()
    }
    np.testing.assert_array_equal(got.spacing, plain.spacing)
    with pytest.raises(ParameterError, match="prepared was made from other incidents"):
        suggest(incidents.iloc[:10], tune=False, prepared=prepared)
