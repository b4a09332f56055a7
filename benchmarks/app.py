"""Time the dashboard's re-render after a slider change, and the size of its map.

    python benchmarks/app.py [--runs 7]

The dashboard runs in-process through Streamlit's AppTest on the bundled synthetic demo
borough, whose default view is a borough-year (2024, ~30,000 incidents). After the first run
(data read and cached) a new session's first run is timed (the warm start: another user or
browser tab opening the dashboard), then each run moves the eps slider to a value not seen
before and re-runs
the whole page: the cached filter, a new analysis (clustering, footprints, profile, overlays,
tables) and a new map (make_map and streamlit-folium's page payload). A second series moves
it back to values already seen (analysis and map cached: the page itself). The reference, side
by side, is the plain read of the same borough-year (``read_incidents`` of its 12 street CSVs),
the step that changing a slider does not repeat.

Map size: the standalone map HTML (assets inlined, as downloaded) and the map payload the
page sends to the browser (assets served from static/vendor), for the borough-year, all
three demo years, and the three years repeated 4x with jitter (~350,000 incidents), against
the ~2 MB goal. Prints medians (min-max).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geodata import (  # noqa: E402  # noqa: E402
    SAMPLE_INCIDENTS,
    SAMPLE_PATROL_AREAS,
    SAMPLE_WARDS,
    load_patrol_areas,
    load_wards,
)
from hotspots import filter_incidents, make_map, read_incidents  # noqa: E402
from hotspots.export import map_html  # noqa: E402
from hotspots.pipeline import analyse  # noqa: E402
from ui.helpers import CITY_INCIDENTS  # noqa: E402

GOAL_MB = 2.0


def _stats(times: list[float]) -> str:
    return f"{statistics.median(times):7.3f} s  ({min(times):.3f}-{max(times):.3f})"


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _slider_rerenders(runs: int) -> tuple[float, float, list[float], list[float]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    assert not at.exception, at.exception
    # a warm start: a new session (another browser tab) once the caches hold the data
    t = time.perf_counter()
    AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    warm = time.perf_counter() - t
    next(c for c in at.checkbox if c.label == "Use suggested settings").uncheck().run()

    def eps_slider():  # type: ignore[no-untyped-def]
        return next(s for s in at.slider if s.key == "eps")

    fresh, cached = [], []
    values = [150 + 5 * i for i in range(runs)]
    for v in values:
        eps_slider().set_value(v)
        t = time.perf_counter()
        at.run()
        fresh.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    for v in values:
        eps_slider().set_value(v)
        t = time.perf_counter()
        at.run()
        cached.append(time.perf_counter() - t)
    return first, warm, fresh, cached


def _payload_size(m: object) -> int:
    """What streamlit-folium sends for a map: its script, header and linked file names."""
    import streamlit_folium as sf

    m.get_root().render()  # type: ignore[attr-defined]
    return len(sf._get_map_string(m).encode()) + len(sf._get_header(m).encode())  # type: ignore[arg-type]


def _map_sizes(incidents: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, patrols: gpd.GeoDataFrame):  # type: ignore[no-untyped-def]
    # settings as the dashboard takes them: chosen by the back-test, at any scale
    result = analyse(incidents, wards=wards, patrols=patrols, run_backtest=False)
    kw = {"tiles": None, "wards": wards, "patrol_areas": patrols, "title": "Demo Borough"}
    t = time.perf_counter()
    m = make_map(result.hotspots, incidents, assets="static", **kw)
    build = time.perf_counter() - t
    payload = _payload_size(m)
    page = map_html(make_map(result.hotspots, incidents, assets="inline", **kw))
    return build, payload / 1e6, len(page.encode()) / 1e6


def city(rows: int, runs: int, keep: Path | None) -> None:
    """The dashboard's work on a city's file, call for call as app.py makes it (back-tested
    settings, no back-test of them until asked): the first map once the file is read, and a distance
    change. Timed in-process without the page (AppTest cannot upload a file this size)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from london_like import write_london_like

    from hotspots.map_base import map_base
    from hotspots.period_change import period_change
    from hotspots.pipeline import suggest
    from hotspots.prepared import prepare
    from ui.helpers import build_map
    from ui.map_payload import component_available, map_payload

    with tempfile.TemporaryDirectory() as tmp:
        path = (keep or Path(tmp)) / f"london-{rows}" / "2024-london-street.csv"
        if not path.exists():
            write_london_like(path, rows)
        t = time.perf_counter()
        incidents, _ = read_incidents(path.parent)
        read = time.perf_counter() - t
    assert len(incidents) >= CITY_INCIDENTS

    def per_distance(chosen: gpd.GeoDataFrame, base: object, eps: float, ms: int) -> None:
        """What a new distance costs the page: the analysis, the map and its payload, the
        comparison with the months before (all cached per distance in the app)."""
        result = analyse(chosen, eps=eps, min_samples=ms, run_backtest=False, prepared=prepared)
        m = build_map(
            result, chosen, wards=None, patrols=None, tiles=None, attribution=None,
            title="City", synthetic=True, base=base,
        )  # fmt: skip
        if component_available():
            map_payload(m)
        period_change(incidents, result.hotspots, start="2024-01", end="2024-12")

    # the first map: the filter, the suggested settings and the map's base (cached per
    # filter in the app), then the first distance's work
    t = time.perf_counter()
    chosen = filter_incidents(incidents, start="2024-01", end="2024-12")
    prepared = prepare(chosen)
    suggested = suggest(chosen, prepared=prepared)
    eps = float(suggested.settings["eps"].value)
    ms = int(suggested.settings["min_samples"].value)
    base = map_base(chosen, None)
    per_distance(chosen, base, eps, ms)
    first = time.perf_counter() - t
    moves = []
    for k in range(runs):
        t = time.perf_counter()
        per_distance(chosen, base, eps + 10 * (k + 1), ms)
        moves.append(time.perf_counter() - t)
    print(f"\nDashboard's work on {len(incidents):,} London-like incidents (the whole year shown)")
    print(f"  read_incidents                              {read:7.2f} s")
    print(f"  first map after the read (goal <= 10 s)     {first:7.2f} s")
    print(f"  distance change, new value (goal <= 2 s)    {_stats(moves)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--city", type=int, metavar="ROWS", help="also a city's file of ROWS rows")
    ap.add_argument("--keep", type=Path, help="folder to cache the city's file in")
    args = ap.parse_args(argv)
    if args.city:
        city(args.city, args.runs, args.keep)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "year"
        with zipfile.ZipFile(SAMPLE_INCIDENTS) as z:
            for name in z.namelist():
                if name.startswith("2024-"):
                    z.extract(name, folder)
        read = _timed(lambda: read_incidents(folder), args.runs)
        csvs = sorted(folder.rglob("*.csv"))
        plain = _timed(lambda: [pd.read_csv(f) for f in csvs], args.runs)

    first, warm, fresh, cached = _slider_rerenders(args.runs)
    print("Dashboard on the demo borough-year (2024, ~30,000 incidents), AppTest in-process")
    print(f"  first run (read, suggest, analyse, map)   {first:7.3f} s")
    print(f"  warm start: a new session's first page    {warm:7.3f} s   (goal <= 5 s)")
    print(f"  slider change, new eps (analyse + map)    {_stats(fresh)}")
    print(f"  slider change, eps seen before (cached)   {_stats(cached)}")
    print(f"  reference: read_incidents of the year      {_stats(read)}")
    print(f"  reference: pandas.read_csv of the year     {_stats(plain)}")
    ok = statistics.median(fresh) <= 1.0
    print(f"  goal <= 1 s after loading: {'met' if ok else 'NOT met'}")

    incidents, _ = read_incidents(SAMPLE_INCIDENTS)
    wards, _ = load_wards(SAMPLE_WARDS, incidents=incidents)
    patrols, _ = load_patrol_areas(SAMPLE_PATROL_AREAS, incidents=incidents)
    year = filter_incidents(incidents, start="2024-01", end="2024-12")
    rng = np.random.default_rng(1)
    big = pd.concat([incidents] * 4, ignore_index=True)
    jitter = rng.normal(0, 15, size=(len(big), 2))
    big = gpd.GeoDataFrame(
        big.drop(columns="geometry"),
        geometry=gpd.points_from_xy(
            big.geometry.x.to_numpy() + jitter[:, 0], big.geometry.y.to_numpy() + jitter[:, 1]
        ),
        crs=incidents.crs,
    )
    print(f"\nMap size (goal ~{GOAL_MB:g} MB)")
    print("  incidents   build     page payload   standalone HTML")
    for frame in (year, incidents, big):
        build, payload, page = _map_sizes(frame, wards, patrols)
        flag = "ok" if max(payload, page) <= GOAL_MB else "OVER"
        print(f"  {len(frame):9,}  {build:6.3f} s  {payload:7.2f} MB  {page:10.2f} MB   {flag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
