"""How often does the pilot evaluation find an "effect" where nothing was done?

    python benchmarks/pilot_placebo.py [--targets 60] [--radius 250]

A calibration check of :func:`hotspots.pilot.evaluate_pilot`'s 95% confidence interval and of
the sentences :func:`hotspots.report.pilot_text.pilot_summary` prints, not a timing. It draws
``--targets`` placebo target areas (discs of ``--radius`` metres around randomly chosen
incidents, fixed seed), pretends an operation ran there, and counts how many come out
"significant" with the Poisson interval (``variance_inflation=1``) and with the default one
that measures each area's month-to-month dispersion (``"auto"``), and how many summaries state
an effect, displacement or a diffusion of benefit. On data where nothing was done about 5%
should; more means the interval is too narrow or the wording claims too much (real places do
change, so a real borough may show somewhat more than 5% with any interval).

Data: the bundled synthetic demo borough (operation 2023-04..09, the St James Street corridor's
dates; targets on the corridor itself are skipped), and the real Waltham Forest API folder in
../shared/data (operation 2016-07..09) when it is there. Targets with fewer than 20 incidents in
a before/after cell are skipped, as the evaluation itself calls them unreliable.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geodata import SAMPLE_DIR, SAMPLE_WARDS, load_sample_incidents, load_wards  # noqa: E402
from hotspots import read_incidents  # noqa: E402
from hotspots.pilot import evaluate_pilot  # noqa: E402
from hotspots.report.pilot_text import pilot_summary  # noqa: E402

#: Sentences that state a finding (the summary's own words), by kind.
CLAIMS = {
    "effect": re.compile(r"the target's count after the operation was \d+% (lower|higher)"),
    "displacement": re.compile(
        r"suggests displacement|some displacement into|displacement into the buffer larger"
    ),
    "diffusion": re.compile(
        r"suggests a diffusion|some diffusion of benefit|diffusion of benefit into the buffer,"
    ),
}

SHARED = REPO.parent / "shared" / "data"
WF_API = SHARED / "police-uk" / "waltham-forest-api"
WF_WARDS = SHARED / "boundaries" / "waltham_forest_wards_2018_wgs84.geojson"


def _corridor(crs: object) -> object:
    import json

    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    line = gpd.GeoSeries([LineString(truth["corridor"]["line_lonlat"])], crs="EPSG:4326")
    return line.to_crs(crs).buffer(truth["corridor"]["width_m"] + 400).iloc[0]


def placebo_rates(
    incidents: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    start: str,
    end: str,
    targets: int,
    radius: float,
    avoid: object = None,
    claims: dict[str, dict[str, int]] | None = None,
) -> dict[str, tuple[int, int, float]]:
    """``{"poisson" | "auto" | "auto+99": (significant, evaluated, median CI width in log
    units)}``;
    ``claims`` (when given) is filled with how many summaries state each kind of finding."""
    xy = np.c_[incidents.geometry.x, incidents.geometry.y]
    rng = np.random.default_rng(1)
    centres = xy[rng.choice(len(xy), targets, replace=False)]
    found: dict[str, list[float]] = {"poisson": [], "auto": [], "auto+99": []}
    hits = {"poisson": 0, "auto": 0, "auto+99": 0}
    if claims is not None:
        claims.update({m: dict.fromkeys(CLAIMS, 0) for m in hits})
    for cx, cy in centres:
        target = Point(cx, cy).buffer(radius)
        if avoid is not None and target.intersects(avoid):
            continue
        for name, inflation, placebos in (
            ("poisson", 1.0, 0),
            ("auto", "auto", 0),
            ("auto+99", "auto", 99),  # the default
        ):
            res = evaluate_pilot(
                incidents,
                target=target,
                start=start,
                end=end,
                study_area=wards,
                variance_inflation=inflation,
                placebos=placebos,
            )
            if res.small_counts or not math.isfinite(res.ci_low):
                break
            found[name].append(math.log(res.ci_high / res.ci_low))
            hits[name] += res.significant
            if claims is not None:
                text = " ".join(pilot_summary(res))
                for kind, pattern in CLAIMS.items():
                    claims[name][kind] += bool(pattern.search(text))
    return {
        name: (hits[name], len(widths), float(np.median(widths)) if widths else math.nan)
        for name, widths in found.items()
    }


def _share(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "0/0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=60, help="placebo targets per dataset")
    parser.add_argument("--radius", type=float, default=250.0, help="target radius in metres")
    args = parser.parse_args()

    runs = []
    incidents, _ = load_sample_incidents()
    wards = load_wards(SAMPLE_WARDS)[0]
    runs.append(("demo borough", incidents, wards, "2023-04", "2023-09", _corridor(incidents.crs)))
    if WF_API.is_dir() and WF_WARDS.is_file():
        wf, _ = read_incidents([WF_API])
        runs.append(("Waltham Forest", wf, load_wards(WF_WARDS)[0], "2016-07", "2016-09", None))
    else:
        print(f"({WF_API} not found: real-data run skipped)")
    head = f"{'data':<16}{'interval':<10}{'significant':>14}{'rate':>7}{'median log CI width':>22}"
    print(head + "".join(f"{k + ' sentences':>26}" for k in CLAIMS))
    for name, inc, w, start, end, avoid in runs:
        claims: dict[str, dict[str, int]] = {}
        rates = placebo_rates(
            inc,
            w,
            start=start,
            end=end,
            targets=args.targets,
            radius=args.radius,
            avoid=avoid,
            claims=claims,
        )
        for method, (hits, n, width) in rates.items():
            rate = hits / n if n else math.nan
            said = "".join(f"{_share(claims[method][k], n):>26}" for k in CLAIMS)
            print(f"{name:<16}{method:<10}{f'{hits}/{n}':>14}{rate:>7.0%}{width:>22.3f}{said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
