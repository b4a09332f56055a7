"""Tests for geodata.fetch (client, police, ons) against a real local HTTP server
(tests/fake_services.py).

The server answers like data.police.uk and an ONS ArcGIS FeatureServer, from their published
documentation: point-in-polygon over crimes it holds, 503 over a cap, 429 over a rate,
injected failures, paging. Delays are tiny (backoff 0.001 s) except where a test checks that
the client waited for Retry-After, which it reads from the server's request log.
"""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from geodata.fetch import client, ons, police
from geodata.fetch.client import FetchError
from geodata.fetch.ons import fetch_wards
from geodata.fetch.police import FetchResult, fetch_police, ward_boundary
from hotspots.errors import InputError, ParameterError
from hotspots.io import read_incidents
from tests.fake_services import FakeServices, closed_port_url, crime, parse_poly, ward_feature

# The study rectangle (lon/lat, 6-decimal corners): its quarters meet at lon -0.02, lat 51.58,
# and the south-west quarter's quarters at lon -0.03, lat 51.57.
W, S, E, N = -0.04, 51.56, 0.0, 51.60
RECT = box(W, S, E, N)
FAST: dict[str, Any] = {"backoff": 0.001, "max_requests_per_second": 1000.0, "timeout": 10.0}
FAST_ONS: dict[str, Any] = {"backoff": 0.001, "timeout": 10.0}


def _grid(n: int, west: float, south: float, east: float, north: float, rng: Any) -> list:
    lon = np.round(rng.uniform(west, east, n), 6)
    lat = np.round(rng.uniform(south, north, n), 6)
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def make_crimes() -> list[dict[str, Any]]:
    """2024-01: 140 crimes in the rectangle (70 in its SW quarter, 12 on the cut lines) and 10
    outside; 2024-02 to 2024-04: 20 crimes each. With cap 50, 2024-01 needs two levels of
    splits; the other months one request each."""
    rng = np.random.default_rng(3)
    points: dict[str, list[tuple[float, float]]] = {}
    jan = _grid(70, -0.0399, 51.5601, -0.0201, 51.5799, rng)  # SW quarter
    jan += _grid(58, -0.0199, 51.5601, -0.0001, 51.5999, rng)  # east half
    jan += [(-0.02, 51.565), (-0.02, 51.59), (-0.035, 51.58), (-0.01, 51.58)]  # first cut
    jan += [(-0.02, 51.58), (-0.03, 51.565), (-0.03, 51.575), (-0.035, 51.57)]  # both / SW cut
    jan += [(-0.025, 51.57), (-0.03, 51.57), (-0.04, 51.57), (0.0, 51.58)]  # SW cut, corners
    jan += _grid(10, 0.01, 51.61, 0.02, 51.62, rng)  # outside the rectangle
    points["2024-01"] = jan
    for month in ("2024-02", "2024-03", "2024-04"):
        points[month] = _grid(20, -0.0399, 51.5601, -0.0001, 51.5999, rng)
    out = []
    cid = 1000
    for month, pts in points.items():
        for lon, lat in pts:
            cid += 1
            out.append(crime(cid, lon, lat, month))
    return out


CRIMES = make_crimes()


def ids_of(folder: Path, month: str) -> list[int]:
    ids: list[int] = []
    for f in sorted((folder / month).glob("crimes_*.json")):
        ids.extend(c["id"] for c in json.loads(f.read_text()))
    return ids


def truth_ids(fake: FakeServices, poly: Polygon, month: str) -> set[int]:
    return {c["id"] for c in fake.truth(poly, month)}


@pytest.fixture
def fake() -> Any:
    """The police API holding CRIMES, cap 50 crimes per query, no rate limit."""
    with FakeServices(crimes=CRIMES, cap=50) as server:
        yield server


# ==========================================================================================
# data.police.uk
# ==========================================================================================
def test_month_under_cap_is_one_get(fake: FakeServices, tmp_path: Path) -> None:
    res = fetch_police(
        RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    assert isinstance(res, FetchResult)
    log = fake.police_requests()
    assert [(r.method, r.status) for r in log] == [("GET", 200)]
    assert log[0].params["date"] == "2024-02"
    assert parse_poly(log[0].params["poly"]).equals(RECT)
    assert res.files == [tmp_path / "2024-02" / "crimes_0.json"]
    assert set(ids_of(tmp_path, "2024-02")) == truth_ids(fake, RECT, "2024-02")
    assert (res.crimes, res.duplicates, res.requests, res.splits, res.retries, res.skipped) == (
        20,
        0,
        1,
        0,
        0,
        0,
    )
    assert res.months == ["2024-02"]


def test_month_over_cap_is_split_and_deduplicated(fake: FakeServices, tmp_path: Path) -> None:
    res = fetch_police(
        RECT, start="2024-01", end="2024-01", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    log = fake.police_requests()
    statuses = [r.status for r in log]
    # the rectangle (503), its SW quarter (503) then its 4 quarters, and 3 other quarters
    assert statuses.count(503) == 2
    assert res.splits == 2
    assert len(log) == res.requests == 1 + 4 + 4
    got = ids_of(tmp_path, "2024-01")
    assert len(got) == len(set(got))  # each crime once
    assert set(got) == truth_ids(fake, RECT, "2024-01")  # the server's truth, outside left out
    assert res.crimes == len(got) == 140
    answered = sum(int(r.note.split()[0]) for r in log if r.status == 200)
    assert res.duplicates == answered - len(got) > 0  # the crimes on the cut lines


def test_read_incidents_reads_the_written_folder(fake: FakeServices, tmp_path: Path) -> None:
    res = fetch_police(
        RECT, start="2024-01", end="2024-03", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    assert (tmp_path / ".fetch-manifest.json").is_file()  # hidden: not read as incidents
    incidents, report = read_incidents(tmp_path)
    assert report.rows_read == report.rows_used == res.crimes == 140 + 20 + 20
    assert sorted(incidents["month"].dt.strftime("%Y-%m").unique()) == res.months
    assert len(report.inputs) == 3


def test_429_waits_for_retry_after(tmp_path: Path) -> None:
    with FakeServices(crimes=CRIMES, failures=["429"], retry_after="1") as fake:
        res = fetch_police(
            RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
        )
    log = fake.police_requests()
    assert [r.status for r in log] == [429, 200]
    assert log[1].time - log[0].time >= 1.0  # waited as told, not backoff (0.001 s)
    assert res.retries == 1 and res.crimes == 20


def test_rate_limit_is_respected(tmp_path: Path) -> None:
    """45 months at 20 requests/s against a server allowing 25/s with bursts of 25: no 429."""
    crimes = [crime(i, -0.02, 51.58, f"{2020 + i // 12}-{i % 12 + 1:02d}") for i in range(45)]
    with FakeServices(crimes=crimes, rate=25, burst=25) as fake:
        res = fetch_police(
            RECT,
            start="2020-01",
            end="2023-09",
            out_dir=tmp_path,
            base_url=fake.police_url,
            max_requests_per_second=20,
            backoff=0.001,
        )
    log = fake.police_requests()
    assert len(log) == 45 and all(r.status == 200 for r in log)
    times = np.array([r.time for r in log])
    per_second = max(
        int(np.searchsorted(times, t + 1.0, side="left")) - i for i, t in enumerate(times)
    )
    assert per_second <= 41  # 20 saved-up + 20 a second, as the bucket allows
    assert res.crimes == 45 and res.retries == 0


def test_server_rate_limit_enforced_and_client_recovers(tmp_path: Path) -> None:
    """A client too fast for the server gets 429s, backs off and still finishes."""
    crimes = [crime(i, -0.02, 51.58, f"2020-{i + 1:02d}") for i in range(12)]
    with FakeServices(crimes=crimes, rate=20, burst=4, retry_after="0.1") as fake:
        res = fetch_police(
            RECT,
            start="2020-01",
            end="2020-12",
            out_dir=tmp_path,
            base_url=fake.police_url,
            max_requests_per_second=1000,
            retries=30,
            backoff=0.001,
        )
    statuses = [r.status for r in fake.police_requests()]
    assert statuses.count(429) >= 1
    assert statuses.count(200) == 12 and res.crimes == 12
    assert res.retries == statuses.count(429)


def test_long_polygon_is_posted(fake: FakeServices, tmp_path: Path) -> None:
    angles = np.linspace(0, 2 * math.pi, 300, endpoint=False)
    ring = [
        (round(-0.02 + 0.015 * math.cos(a), 6), round(51.58 + 0.01 * math.sin(a), 6))
        for a in angles
    ]
    circle = Polygon(ring)
    res = fetch_police(
        circle, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    log = fake.police_requests()
    assert [r.method for r in log] == ["POST"]
    assert log[0].url_length < 100  # the polygon went in the body
    assert len(log[0].params["poly"].split(":")) == 300
    assert set(ids_of(tmp_path, "2024-02")) == truth_ids(fake, circle, "2024-02")
    assert 0 < res.crimes < 20


def test_transient_failures_are_retried(tmp_path: Path) -> None:
    failures = ["500", "drop", "502", "html", "notlist"]
    with FakeServices(crimes=CRIMES, failures=failures) as fake:
        res = fetch_police(
            RECT,
            start="2024-02",
            end="2024-02",
            out_dir=tmp_path,
            base_url=fake.police_url,
            retries=5,
            **FAST,
        )
    log = fake.police_requests()
    assert [r.status for r in log] == [500, 0, 502, 200, 200, 200]
    assert res.retries == 5 and res.requests == 6
    assert set(ids_of(tmp_path, "2024-02")) == truth_ids(fake, RECT, "2024-02")


def test_malformed_answers_end_in_an_error_naming_the_month(tmp_path: Path) -> None:
    with (
        FakeServices(crimes=CRIMES, failures=["malformed"] * 3) as fake,
        pytest.raises(FetchError) as info,
    ):
        fetch_police(
            RECT,
            start="2024-02",
            end="2024-02",
            out_dir=tmp_path,
            base_url=fake.police_url,
            retries=2,
            **FAST,
        )
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("2024-02: data.police.uk failed 3 times (last: not JSON")
    assert "https://data.police.uk/data/" in message
    assert len(fake.police_requests()) == 3
    assert not (tmp_path / "2024-02" / "crimes_0.json").exists()


def test_resume_requests_only_missing_months(fake: FakeServices, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    fetch_police(
        RECT, start="2024-01", end="2024-04", out_dir=clean, base_url=fake.police_url, **FAST
    )

    class Stop(Exception):
        pass

    def stop_after_two(done: int, total: int, message: str) -> None:
        assert total == 4
        if done == 2:
            raise Stop(message)

    out = tmp_path / "resumed"
    with pytest.raises(Stop):
        fetch_police(
            RECT,
            start="2024-01",
            end="2024-04",
            out_dir=out,
            base_url=fake.police_url,
            progress=stop_after_two,
            **FAST,
        )
    assert sorted(p.parent.name for p in out.glob("*/crimes_*.json")) == ["2024-01", "2024-02"]
    mark = len(fake.police_requests())
    messages: list[str] = []
    res = fetch_police(
        RECT,
        start="2024-01",
        end="2024-04",
        out_dir=out,
        base_url=fake.police_url,
        progress=lambda d, t, m: messages.append(m),
        **FAST,
    )
    again = fake.police_requests()[mark:]
    assert sorted({r.params["date"] for r in again}) == ["2024-03", "2024-04"]
    assert res.skipped == 2 and res.requests == len(again) == 2
    assert messages[0] == "2024-01: already downloaded, skipped"
    for month in ("2024-01", "2024-02", "2024-03", "2024-04"):
        assert (out / month / "crimes_0.json").read_bytes() == (
            clean / month / "crimes_0.json"
        ).read_bytes()
    assert res.crimes == 200 and res.duplicates > 0
    assert not list(out.rglob("*.tmp"))


def test_resume_redownloads_when_the_boundary_changed(fake: FakeServices, tmp_path: Path) -> None:
    fetch_police(
        RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    smaller = box(W, S, -0.02, N)
    res = fetch_police(
        smaller, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    assert res.skipped == 0 and res.requests == 1
    assert set(ids_of(tmp_path, "2024-02")) == truth_ids(fake, smaller, "2024-02")


def test_offline_is_one_line_with_the_manual_route(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(FetchError) as info:
        fetch_police(RECT, start="2024-01", end="2024-01", out_dir=tmp_path, base_url=url, **FAST)
    host = url.removeprefix("http://")
    assert str(info.value) == (
        f"could not reach data.police.uk (connection refused at {host}); download the street "
        "CSVs by hand from https://data.police.uk/data/ and give the zip to `hotspots analyse`"
    )
    assert isinstance(info.value, InputError)


def test_cache_hit_makes_no_request(fake: FakeServices, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = fetch_police(
        RECT,
        start="2024-02",
        end="2024-03",
        out_dir=tmp_path / "a",
        base_url=fake.police_url,
        cache_dir=cache,
        **FAST,
    )
    mark = len(fake.log)
    second = fetch_police(
        RECT,
        start="2024-02",
        end="2024-03",
        out_dir=tmp_path / "b",
        base_url=fake.police_url,
        cache_dir=cache,
        **FAST,
    )
    assert len(fake.log) == mark  # nothing asked
    assert (first.requests, first.cache_hits) == (2, 0)
    assert (second.requests, second.cache_hits) == (0, 2)
    for month in ("2024-02", "2024-03"):
        assert ids_of(tmp_path / "a", month) == ids_of(tmp_path / "b", month)
    assert not list(cache.rglob("*.tmp"))


def test_multipolygon_queries_each_part(fake: FakeServices, tmp_path: Path) -> None:
    west, east = box(W, S, -0.025, N), box(-0.015, S, E, N)
    res = fetch_police(
        MultiPolygon([west, east]),
        start="2024-02",
        end="2024-02",
        out_dir=tmp_path,
        base_url=fake.police_url,
        **FAST,
    )
    assert [p.name for p in res.files] == ["crimes_0.json", "crimes_1.json"]
    assert len(fake.police_requests()) == 2
    part0 = {c["id"] for c in json.loads(res.files[0].read_text())}
    part1 = {c["id"] for c in json.loads(res.files[1].read_text())}
    assert part0 == truth_ids(fake, west, "2024-02")
    assert part1 == truth_ids(fake, east, "2024-02")


def test_geodataframe_boundary_in_british_national_grid(fake: FakeServices, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(geometry=[RECT], crs="EPSG:4326").to_crs("EPSG:27700")
    res = fetch_police(
        frame, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    sent = parse_poly(fake.police_requests()[0].params["poly"])
    assert sent.symmetric_difference(RECT).area < 1e-8  # back in lon/lat
    assert res.crimes == 20


def test_detailed_boundary_is_simplified_to_cover_it(fake: FakeServices, tmp_path: Path) -> None:
    t = np.linspace(W, E, 2000)
    wiggly = Polygon([*zip(t, S + 0.0002 * np.sin(t * 5000), strict=True), (E, N), (W, N)])
    fetch_police(
        wiggly, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    sent = parse_poly(fake.police_requests()[0].params["poly"])
    assert len(sent.exterior.coords) - 1 <= 400
    assert sent.buffer(1e-6).covers(wiggly)


def test_split_depth_limit_names_the_month(tmp_path: Path) -> None:
    with (
        FakeServices(crimes=CRIMES, cap=0) as fake,
        pytest.raises(FetchError, match=r"^2024-02: data\.police\.uk still answers 503"),
    ):
        fetch_police(
            RECT,
            start="2024-02",
            end="2024-02",
            out_dir=tmp_path,
            base_url=fake.police_url,
            max_depth=1,
            **FAST,
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"start": "2024-1", "end": "2024-02"}, r"^start '2024-1': not a month"),
        ({"start": "2024-03", "end": "2024-02"}, r"^start 2024-03 is after end 2024-02"),
        ({"boundary": box(537000, 189000, 538000, 190000)}, r"not longitude/latitude"),
        ({"boundary": gpd.GeoDataFrame(geometry=[RECT])}, r"^boundary: the layer has no CRS"),
        ({"max_requests_per_second": 0}, r"^max_requests_per_second"),
        ({"retries": -1}, r"^retries"),
    ],
)
def test_bad_arguments_make_no_request(
    fake: FakeServices, tmp_path: Path, kwargs: dict, match: str
) -> None:
    args: dict[str, Any] = {"boundary": RECT, "start": "2024-01", "end": "2024-02"}
    args |= kwargs
    with pytest.raises(ParameterError, match=match):
        fetch_police(args.pop("boundary"), out_dir=tmp_path, base_url=fake.police_url, **args)
    assert fake.log == []


# ==========================================================================================
# Wards
# ==========================================================================================
WF = "E09000031"


def ward_features() -> list[dict[str, Any]]:
    """Five Waltham Forest wards (squares) and two of another district."""
    out = [
        ward_feature(f"E0501{k:04d}", f"Ward {k}", WF, -0.05 + 0.01 * k, 51.58) for k in range(5)
    ]
    out += [
        ward_feature(f"E0502{k:04d}", f"Other {k}", "E09000001", -0.1, 51.5 + 0.01 * k)
        for k in range(2)
    ]
    return out


def test_fetch_wards_pages_until_done(tmp_path: Path) -> None:
    with FakeServices(wards=ward_features()) as fake:
        wards = fetch_wards(
            WF, out_file=tmp_path / "wards.gpkg", base_url=fake.wards_url, page_size=2, **FAST_ONS
        )
    log = fake.arcgis_requests()
    assert [r.params["resultOffset"] for r in log] == ["0", "2", "4"]
    assert {r.params["where"] for r in log} == {"LAD24CD='E09000031'"}
    assert all(r.params["outSR"] == "4326" and r.params["f"] == "geojson" for r in log)
    assert list(wards.columns[:4]) == ["ward_code", "ward_name", "lad_code", "geometry"]
    assert "WD24CD" in wards.columns and "Shape__Area" in wards.columns
    assert wards["ward_code"].tolist() == [f"E0501{k:04d}" for k in range(5)]
    assert set(wards["lad_code"]) == {WF}
    assert wards.crs.to_epsg() == 27700
    saved = gpd.read_file(tmp_path / "wards.gpkg")
    assert saved.crs.to_epsg() == 27700
    assert saved["ward_code"].tolist() == wards["ward_code"].tolist()
    assert saved.geometry.area.round(-2).tolist() == wards.geometry.area.round(-2).tolist()


def test_fetch_wards_follows_the_server_page_cap(tmp_path: Path) -> None:
    with FakeServices(wards=ward_features(), max_record_count=2) as fake:
        wards = fetch_wards(WF, out_file=tmp_path / "w.gpkg", base_url=fake.wards_url, **FAST_ONS)
    assert len(fake.arcgis_requests()) == 3 and len(wards) == 5


def test_fetch_wards_error_json(tmp_path: Path) -> None:
    error = {"code": 400, "message": "Invalid or missing input parameters.", "details": []}
    with (
        FakeServices(wards=ward_features(), arcgis_error=error) as fake,
        pytest.raises(FetchError) as info,
    ):
        fetch_wards(WF, out_file=tmp_path / "w.gpkg", base_url=fake.wards_url, **FAST_ONS)
    message = str(info.value)
    assert "error 400 (Invalid or missing input parameters.)" in message
    assert "the service is renamed every year" in message and "\n" not in message
    assert len(fake.arcgis_requests()) == 1  # a 400 error is not retried
    assert not (tmp_path / "w.gpkg").exists()


def test_fetch_wards_error_answers_are_not_cached(tmp_path: Path) -> None:
    error = {"code": 400, "message": "Invalid or missing input parameters.", "details": []}
    cache = tmp_path / "cache"
    with FakeServices(wards=ward_features(), arcgis_error=error) as fake:
        with pytest.raises(FetchError):
            fetch_wards(WF, out_file=tmp_path / "w.gpkg", base_url=fake.wards_url, cache_dir=cache)
        fake.arcgis_error = None  # the service is fixed
        wards = fetch_wards(
            WF, out_file=tmp_path / "w.gpkg", base_url=fake.wards_url, cache_dir=cache
        )
    assert len(wards) == 5


def test_fetch_wards_wrong_field_is_an_error_answer(tmp_path: Path) -> None:
    with (
        FakeServices(wards=ward_features()) as fake,
        pytest.raises(FetchError, match=r"error 400 \(Unable to complete operation"),
    ):
        fetch_wards(
            WF,
            out_file=tmp_path / "w.gpkg",
            base_url=fake.wards_url,
            lad_field="LAD23CD",
            **FAST_ONS,
        )


@pytest.mark.parametrize("code", ["E05000599", "E0900003", "X09000031", "", "E09000031; DROP"])
def test_fetch_wards_bad_lad_code_makes_no_request(tmp_path: Path, code: str) -> None:
    with (
        FakeServices(wards=ward_features()) as fake,
        pytest.raises(ParameterError, match=r"^.* is not a local authority district code"),
    ):
        fetch_wards(code, out_file=tmp_path / "w.gpkg", base_url=fake.wards_url)
    assert fake.log == []


def test_fetch_wards_no_wards_message(tmp_path: Path) -> None:
    with FakeServices(wards=ward_features()) as fake, pytest.raises(FetchError) as info:
        fetch_wards("E09000002", out_file=tmp_path / "w.gpkg", base_url=fake.wards_url, **FAST_ONS)
    assert str(info.value) == (
        "no wards for LAD code E09000002: check the code, e.g. E09000031 is Waltham Forest"
    )


def test_fetch_wards_cache_hit_makes_no_request(tmp_path: Path) -> None:
    with FakeServices(wards=ward_features()) as fake:
        kw: dict[str, Any] = {
            "base_url": fake.wards_url,
            "page_size": 2,
            "cache_dir": tmp_path / "c",
        }
        first = fetch_wards(WF, out_file=tmp_path / "a.gpkg", **kw, **FAST_ONS)
        mark = len(fake.log)
        second = fetch_wards(WF, out_file=tmp_path / "b.gpkg", **kw, **FAST_ONS)
        assert len(fake.log) == mark == 3
    assert second["ward_code"].tolist() == first["ward_code"].tolist()


def test_fetch_wards_offline(tmp_path: Path) -> None:
    with pytest.raises(
        FetchError, match=r"^could not reach the ONS Open Geography Portal .*ward boundaries$"
    ):
        fetch_wards(
            WF,
            out_file=tmp_path / "w.gpkg",
            base_url=closed_port_url() + "/Wards_2024/FeatureServer/0",
            **FAST_ONS,
        )


def test_ward_boundary_feeds_fetch_police(fake: FakeServices, tmp_path: Path) -> None:
    with FakeServices(wards=ward_features()) as ons:
        wards = fetch_wards(WF, out_file=tmp_path / "w.gpkg", base_url=ons.wards_url, **FAST_ONS)
    ward = ward_boundary(wards, "E05010002")  # lon -0.03..-0.02, lat 51.58..51.59
    assert isinstance(ward, Polygon)
    assert ward.symmetric_difference(box(-0.03, 51.58, -0.02, 51.59)).area < 1e-9
    with pytest.raises(
        ParameterError,
        match=r"^ward code 'E05999999' is not in the wards layer \(5 wards\).*E05010000",
    ):
        ward_boundary(wards, "E05999999")
    res = fetch_police(
        ward,
        start="2024-03",
        end="2024-03",
        out_dir=tmp_path / "p",
        base_url=fake.police_url,
        **FAST,
    )
    assert res.crimes == len(truth_ids(fake, ward, "2024-03"))


def test_fetch_wards_needs_lad_field_when_the_url_has_no_year(tmp_path: Path) -> None:
    with (
        FakeServices(wards=ward_features()) as fake,
        pytest.raises(
            ParameterError, match=r"^lad_field: cannot tell .* e\.g\. lad_field='LAD24CD'"
        ),
    ):
        fetch_wards(WF, out_file=tmp_path / "w.gpkg", base_url=f"{fake.url}/Wards/FeatureServer/0")
    assert fake.log == []


def test_fewer_parts_on_rerun_remove_the_stale_part_files(
    fake: FakeServices, tmp_path: Path
) -> None:
    two = MultiPolygon([box(W, S, -0.025, N), box(-0.015, S, E, N)])
    fetch_police(
        two, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    assert (tmp_path / "2024-02" / "crimes_1.json").is_file()
    res = fetch_police(
        RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url, **FAST
    )
    assert sorted(p.name for p in (tmp_path / "2024-02").iterdir()) == ["crimes_0.json"]
    assert read_incidents(tmp_path)[1].rows_read == res.crimes == 20


def test_base_url_must_be_a_web_address(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"^base_url 'data.police.uk/api': not a web address"):
        fetch_police(
            RECT, start="2024-01", end="2024-01", out_dir=tmp_path, base_url="data.police.uk/api"
        )


@pytest.mark.parametrize("module", [client, police, ons])
def test_doctests(module: Any) -> None:
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.mark.realdata
def test_real_borough_and_real_crimes(tmp_path: Path) -> None:
    """Waltham Forest's real wards (1,597-vertex outline) over a month of real API answers.

    The server holds every crime of 2016-01 from the per-ward answers (once each); with a
    cap of 400 the borough is split into quarters (and some of those again) through its
    concave outline, and every crime inside the simplified, covering boundary comes back
    exactly once.
    """
    from tests.conftest import realdata_path

    folder = realdata_path("police-uk", "waltham-forest-api", "london_month_2016_01")
    wards = gpd.read_file(
        realdata_path("boundaries", "london_wards_2018_bng.gpkg"), where="LAGSSCODE='E09000031'"
    )
    held: dict[int, dict[str, Any]] = {}
    for f in sorted(folder.glob("*.json")):
        for c in json.loads(f.read_text()):
            held.setdefault(c["id"], c)
    with FakeServices(crimes=held.values(), cap=400) as fake:
        res = fetch_police(
            wards,
            start="2016-01",
            end="2016-01",
            out_dir=tmp_path,
            base_url=fake.police_url,
            **FAST,
        )
        sent = parse_poly(fake.police_requests()[0].params["poly"])
        truth = truth_ids(fake, sent, "2016-01")
    assert len(sent.exterior.coords) - 1 <= 400
    assert sent.buffer(1e-6).covers(wards.to_crs("EPSG:4326").union_all())
    got = ids_of(tmp_path, "2016-01")
    assert len(got) == len(set(got)) == res.crimes
    assert set(got) == truth
    assert res.splits >= 3
    assert ward_boundary(wards, "E05000599").area > 0  # High Street, by GSS_CODE


# --------------------------------------------------------------------------- misbehaving servers
def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_the_timeout(tmp_path: Path) -> None:
    """One byte every 0.1 s: each request ends at its timeout (0.5 s), then the retries end."""
    fast = {**FAST, "timeout": 0.5}
    with (
        FakeServices(crimes=CRIMES, failures=["slow"] * 3) as fake,
        pytest.raises(FetchError) as info,
    ):
        fetch_police(
            RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url,
            retries=2, **fast,
        )  # fmt: skip
    message = str(info.value)
    assert message.startswith("2024-02: data.police.uk failed 3 times (last: answer not complete")
    assert "within 0.5 s" in message
    assert len(fake.police_requests()) == 3


def test_the_whole_download_stops_at_its_deadline(tmp_path: Path) -> None:
    """A slow server and many retries: the run's deadline (1.5 s) ends it, saying to resume."""
    fast = {**FAST, "timeout": 0.5}
    with (
        FakeServices(crimes=CRIMES, failures=["slow"] * 20) as fake,
        pytest.raises(FetchError, match=r"stopped after 1\.5 s, the deadline .*run again later"),
    ):
        fetch_police(
            RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url,
            retries=20, deadline=1.5, **fast,
        )  # fmt: skip
    assert len(fake.police_requests()) < 20


def test_a_day_long_retry_after_ends_the_download_at_once(tmp_path: Path) -> None:
    with (
        FakeServices(crimes=CRIMES, failures=["429"] * 5, retry_after="86400") as fake,
        pytest.raises(FetchError, match=r"asks to wait 86,400 s \(HTTP 429 Retry-After\), more"),
    ):
        fetch_police(
            RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url,
            **FAST,
        )  # fmt: skip
    assert len(fake.police_requests()) == 1


def test_an_answer_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    with (
        FakeServices(crimes=CRIMES, failures=["big"]) as fake,
        pytest.raises(FetchError, match=r"an answer of 1,000,000,000,000 bytes or more, over the"),
    ):
        fetch_police(
            RECT, start="2024-02", end="2024-02", out_dir=tmp_path, base_url=fake.police_url,
            **FAST,
        )  # fmt: skip
    assert len(fake.police_requests()) == 1


def test_fetch_wards_refuses_wards_that_are_not_areas(tmp_path: Path) -> None:
    wards = [
        ward_feature(f"E0501000{i}", f"Ward {i}", "E09000031", -0.05 + i / 50, 51.57)
        for i in range(3)
    ]
    wards[1] = {**wards[1], "geometry": {"type": "Point", "coordinates": [-0.02, 51.58]}}
    wards[2] = {**wards[2], "geometry": None}
    out = tmp_path / "wards.gpkg"
    with (
        FakeServices(wards=wards) as fake,
        pytest.raises(FetchError, match=r"E09000031: 1 of 3 wards have no boundary \(E05010002\)"),
    ):
        fetch_wards("E09000031", out_file=out, base_url=fake.wards_url, **FAST_ONS)
    assert not out.exists()
    wards[2] = {**wards[0], "properties": {**wards[0]["properties"], "WD24CD": "E05010002"}}
    with (
        FakeServices(wards=wards) as fake,
        pytest.raises(FetchError, match=r"1 of 3 wards have no area \(points or lines\)"),
    ):
        fetch_wards("E09000031", out_file=out, base_url=fake.wards_url, **FAST_ONS)
    assert not out.exists()


def _fetch_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str
) -> str:
    """Run ``hotspots fetch ...``; its one error line (exit 2)."""
    from hotspots.cli import main

    monkeypatch.setenv("HOTSPOTS_CACHE", str(tmp_path / "cache"))
    assert main(["fetch", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.rstrip().splitlines()[-1]


def test_fetch_police_stops_at_the_deadline_flag_in_the_commands_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    boundary = tmp_path / "area.geojson"
    gpd.GeoDataFrame({"name": ["area"]}, geometry=[RECT], crs=4326).to_file(boundary)
    with FakeServices(crimes=CRIMES, failures=["slow"] * 20) as fake:
        line = _fetch_cli(
            monkeypatch, capsys, tmp_path, "police", "--boundary", str(boundary), "--from",
            "2024-02", "--to", "2024-02", "--out", str(tmp_path / "out"), "--api",
            fake.police_url, "--timeout", "0.5", "--deadline", "1.2",
        )  # fmt: skip
    assert "stopped after 1.2 s, the --deadline for the whole download" in line
    assert line.endswith("or raise the --deadline.") and "base_url" not in line


def test_fetch_wards_messages_name_flags_not_python_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeServices() as fake:
        no_year = fake.url + "/arcgis/rest/services/Wards/FeatureServer/0"
        line = _fetch_cli(
            monkeypatch, capsys, tmp_path, "wards", "--lad", "E09000031", "--out",
            str(tmp_path / "w.gpkg"), "--service", no_year,
        )  # fmt: skip
    assert "e.g. --lad-field LAD24CD" in line and "lad_field" not in line
    assert len(line) <= 250


class _Redirector:
    """A real local server that answers every request with a 302 to ``target`` (a URL, or a
    path on itself), and ``[]`` at ``/final``."""

    def __init__(self, target: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/final"):
                    body = b"[]"
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(302)
                self.send_header("Location", outer.target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.target = target
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_is_followed_only_on_its_own_host(fake: FakeServices, tmp_path: Path) -> None:
    """A 302 to another host (here another port) is refused in one line naming it (urllib
    followed it, and the answers were written and cached); one to a path on the same host
    is followed."""
    away = _Redirector(fake.police_url + "/crimes-street/all-crime?date=2024-02")
    try:
        with pytest.raises(FetchError, match=r"redirected .* another host"):
            fetch_police(RECT, start="2024-02", end="2024-02", out_dir=tmp_path / "a",
                         base_url=away.url, **FAST)  # fmt: skip
        assert not fake.police_requests()  # nothing asked of the other host
    finally:
        away.close()
    home = _Redirector("/final")
    try:
        res = fetch_police(RECT, start="2024-02", end="2024-02", out_dir=tmp_path / "b",
                           base_url=home.url, **FAST)  # fmt: skip
        assert res.crimes == 0
    finally:
        home.close()


def test_an_answer_nested_too_deeply_is_malformed_not_an_internal_error() -> None:
    """``[`` 200,000 times from the service: a malformed answer (retried, then named), not
    Python's RecursionError ("internal error: a bug")."""
    deep = b"[" * 200_000
    with pytest.raises(client.MalformedAnswer, match="nested too deeply"):
        police._parse_crimes(deep)
    with pytest.raises(client.MalformedAnswer, match="nested too deeply"):
        ons._parse_arcgis(b'{"a":' * 100_000)
