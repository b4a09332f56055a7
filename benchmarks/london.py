"""Hotspots at city scale: six months of a London-like city, borough by borough.

    python benchmarks/london.py [--incidents 377000] [--no-groups]

A check of what a London analyst gets, with the time and peak memory it takes (not a timed
test). It draws a synthetic six months over the 657 real London wards of 2018
(../shared/data/boundaries/london_wards_2018_bng.gpkg; skipped when absent): map points
inside each ward (denser in inner London), incidents per map point heavy-tailed, inner boroughs
busier (about 5 times the outer rate per km²), about 377,000 incidents as in the real six months.
It then runs the analysis with the wards (:func:`hotspots.analyse`: settings chosen by the
back-test, hotspots found borough by borough from the wards' DISTRICT column) and reports:
hotspots, the largest hotspot's area, how many boroughs with crime got hotspots (and the fewest
any got), the back-test's PAI against the naive maps, the time and the peak memory.
``--no-groups`` runs one clustering over the whole city instead, for comparison.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geodata import load_wards  # noqa: E402
from hotspots.backtest import HOTSPOTS, KDE, NAIVE_CELLS, NAIVE_POINTS  # noqa: E402
from hotspots.pipeline import analyse  # noqa: E402

WARDS = REPO.parent / "shared" / "data" / "boundaries" / "london_wards_2018_bng.gpkg"
INNER = {
    "Westminster", "Camden", "Islington", "Hackney", "Tower Hamlets", "Southwark", "Lambeth",
    "City of London", "Kensington and Chelsea", "Hammersmith and Fulham", "Wandsworth",
    "Lewisham", "Newham", "Haringey",
}  # fmt: skip
CATEGORIES = ["Violence and sexual offences", "Anti-social behaviour", "Shoplifting", "Burglary"]


def synthetic_city(wards: gpd.GeoDataFrame, n_incidents: int, seed: int = 7) -> gpd.GeoDataFrame:
    """Six months of incidents on map points inside the wards (see the module docstring)."""
    rng = np.random.default_rng(seed)
    area = wards.geometry.area.to_numpy() / 1e6
    inner = wards["DISTRICT"].isin(INNER).to_numpy()
    rate = area * np.where(inner, 5.0, 1.0)  # incidents per ward ~ area x borough intensity
    points_per_ward = np.maximum(5, np.round(area * np.where(inner, 300, 120))).astype(int)
    xs, ys, ward_of = [], [], []
    for i, geom in enumerate(wards.geometry):
        minx, miny, maxx, maxy = geom.bounds
        need = points_per_ward[i]
        got = np.zeros((0, 2))
        while len(got) < need:
            cand = rng.uniform((minx, miny), (maxx, maxy), size=(need * 3, 2))
            inside = shapely.contains_xy(geom, cand[:, 0], cand[:, 1])
            got = np.vstack([got, cand[inside]])
        got = got[:need]
        xs.append(got[:, 0])
        ys.append(got[:, 1])
        ward_of.append(np.full(need, i))
    px, py, pw = np.concatenate(xs), np.concatenate(ys), np.concatenate(ward_of)
    # heavy-tailed busyness of each map point, scaled to its ward's share of the rate
    busy = rng.lognormal(0.0, 1.3, size=len(px))
    weight = busy * rate[pw] / np.bincount(pw, weights=busy)[pw]
    pick = rng.choice(len(px), size=n_incidents, p=weight / weight.sum())
    months = pd.to_datetime("2024-01-01") + pd.to_timedelta(0, "D")
    month = months + pd.to_timedelta(rng.integers(0, 6, size=n_incidents) * 31, "D")
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"syn-{k}" for k in range(n_incidents)],
            "month": month.to_period("M").to_timestamp(),
            "date": pd.NaT,
            "category": rng.choice(CATEGORIES, size=n_incidents),
            "location": [f"On or near Street {k}" for k in pick],
            "lsoa_code": "",
            "outcome": "",
            "source": "synthetic",
            "weight": 1.0,
        },
        geometry=gpd.points_from_xy(px[pick], py[pick]),
        crs=wards.crs,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=377_000)
    parser.add_argument("--no-groups", action="store_true", help="one clustering for the city")
    args = parser.parse_args()
    if not WARDS.exists():
        print(f"(no London wards at {WARDS}: skipped)")
        return 0
    raw = gpd.read_file(WARDS)
    t0 = time.perf_counter()
    incidents = synthetic_city(raw, args.incidents)
    print(f"synthetic city: {len(incidents):,} incidents in {time.perf_counter() - t0:.1f} s")
    wards, _ = load_wards(WARDS, incidents=incidents)
    if args.no_groups:
        wards = wards.drop(
            columns=[c for c in wards.columns if c.upper() in ("DISTRICT", "LAGSSCODE")]
        )
    t0 = time.perf_counter()
    result = analyse(incidents, wards=wards)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hot = result.hotspots
    districts = raw.set_index("GSS_CODE")["DISTRICT"]
    ward_district = pd.Series(districts.to_numpy(), index=districts.index.astype(str))
    from hotspots.overlay import assign_wards

    borough = assign_wards(incidents, wards).map(ward_district).fillna("")
    in_hot = result.hotspot_ids != ""
    per_borough = (
        pd.DataFrame({"borough": borough, "hotspot": result.hotspot_ids})[in_hot]
        .groupby("borough")["hotspot"]
        .nunique()
    )
    with_crime = set(borough[borough != ""])
    print(f"analysis: {seconds:.1f} s, peak memory {peak_mb:,.0f} MB")
    print(f"settings: eps {result.found.eps_m:.0f} m, min_samples {result.found.min_samples}")
    print(
        f"{len(hot):,} hotspots; largest {hot['area_km2'].max():.3f} km²; "
        f"{len(per_borough)} of {len(with_crime)} boroughs with crime have hotspots "
        f"(fewest {per_borough.reindex(sorted(with_crime)).fillna(0).min():.0f}, "
        f"most {per_borough.max():.0f})"
    )
    if result.backtest is not None:
        for method in (HOTSPOTS, NAIVE_POINTS, NAIVE_CELLS, KDE):
            pais = [result.backtest.mean(method, s) for s in (0.01, 0.03, 0.05)]
            print(f"  PAI {method:<26}" + "".join(f"{p:>7.1f}" for p in pais))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
