"""How well do the hotspot maps predict the next months? The PAI of every map, side by side.

    python benchmarks/forecast.py [--hindsight]

A forecast-quality check, not a timing. For each data set and split it fits every map on the
fit months and scores it on the test months (:func:`hotspots.backtest.backtest` with one
fold), at 1%, 3% and 5% of the study area (the wards' union):

* ``hotspots, default``: the settings ``hotspots analyse`` uses, chosen by the back-test on
  the fit months alone (:func:`hotspots.tuning.choose_settings`; the test months are never
  seen);
* ``hotspots, --no-tune``: the map points' spacing rule, cores busier than 75% of
  neighbourhoods, on the fit months;
* ``last period, map points`` / ``50 m cells`` / ``100 m cells``: the naive maps;
* ``KDE``: quartic kernel density, 50 m cells, 200 m bandwidth;
* with ``--hindsight``, ``hotspots, best in hindsight``: the candidate settings that scored
  best on the test months themselves (an upper bound no real choice can reach).

Data: the real Waltham Forest API folder in ../shared/data (fit 2016-07..12, test
2017-01..06, and the other way round; all crime and violence and sexual offences) when it is
there, and the bundled synthetic demo borough (fit 2024-01..06, test 2024-07..12).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geodata import SAMPLE_WARDS, load_sample_incidents, load_wards  # noqa: E402
from hotspots import read_incidents  # noqa: E402
from hotspots._validate import month_number, month_numbers  # noqa: E402
from hotspots.backtest import (  # noqa: E402
    HOTSPOTS,
    SHARES,
    Fold,
    backtest,
    capture,
    map_points,
    naive_cells,
)
from hotspots.find import find_hotspots  # noqa: E402
from hotspots.study_area import study_area  # noqa: E402
from hotspots.tuning import (  # noqa: E402
    BUSIER_THAN_CANDIDATES,
    EPS_CANDIDATES,
    choose_settings,
    cluster_map,
    settings_min_samples,
)

SHARED = REPO.parent / "shared" / "data"
WF_API = SHARED / "police-uk" / "waltham-forest-api"
WF_WARDS = SHARED / "boundaries" / "waltham_forest_wards_2018_wgs84.geojson"
VIOLENCE = "Violence and sexual offences"


def _month(text: str) -> int:
    return month_number(pd.Timestamp(text + "-01"))


def _settings_map(eps: float, busier_than: float, area_km2: float) -> Callable[..., list]:
    def fit_map(fit: gpd.GeoDataFrame) -> list:
        points = map_points(fit)
        months = month_numbers(fit["month"])
        n_months = int(months.max() - months.min()) + 1
        ms = settings_min_samples(
            points, eps=eps, busier_than=busier_than, n_months=n_months, area_km2=area_km2
        )
        return cluster_map(points, eps=eps, min_samples=ms)

    return fit_map


def _scores(frame: gpd.GeoDataFrame, area: object, fold: Fold, fit_map: Callable) -> pd.DataFrame:
    result = backtest(frame, study=area.geometry, hotspot_map=fit_map, folds=[fold])
    assert result is not None
    return result.table


def _row(table: pd.DataFrame, method: str, label: str) -> dict[str, object]:
    rows = table[table["method"] == method].set_index("area_share")["pai"]
    return {"map": label, **{f"PAI {s:.0%}": rows.get(s, np.nan) for s in SHARES}}


def evaluate(frame: gpd.GeoDataFrame, area: object, fit: str, test: str, hindsight: bool) -> list:
    """The PAI rows of every map for one split (``fit``, ``test``: "YYYY-MM..YYYY-MM")."""
    fold = Fold(
        (_month(fit[:7]), _month(fit[-7:])),
        (_month(test[:7]), _month(test[-7:])),
    )
    months = month_numbers(frame["month"])
    fit_frame = frame[(months >= fold.fit[0]) & (months <= fold.fit[1])]
    in_test = (months >= fold.test[0]) & (months <= fold.test[1])
    used = frame[((months >= fold.fit[0]) & (months <= fold.fit[1])) | in_test]
    plain = find_hotspots(fit_frame, study_area=area, tune=False)
    busier = float(plain.suggestions["busier_than"].value)
    t0 = time.perf_counter()
    tuned = choose_settings(fit_frame, study=area.geometry, fallback_eps=float(plain.eps_m or 150))
    tune_s = time.perf_counter() - t0
    rows = []
    table = _scores(
        used, area, fold, _settings_map(float(plain.eps_m or 150), busier, area.area_km2)
    )
    rows.append(_row(table, HOTSPOTS, f"hotspots, --no-tune (eps {plain.eps_m:.0f} m)"))
    table = _scores(used, area, fold, _settings_map(tuned.eps, tuned.busier_than, area.area_km2))
    rows.append(
        _row(
            table,
            HOTSPOTS,
            f"hotspots, default (eps {tuned.eps:.0f} m, busier than {tuned.busier_than:.0%}; "
            f"chosen in {tune_s:.1f} s)",
        )
    )
    for method in dict.fromkeys(table["method"]):
        if method != HOTSPOTS:
            rows.append(_row(table, method, method))
    test_points = map_points(frame[(months >= fold.test[0]) & (months <= fold.test[1])])
    inside = map_points(fit_frame)
    targets = np.array(SHARES) * area.geometry.area
    coarse = naive_cells(inside, area.geometry, cell_m=100.0, max_area=targets.max())
    hits = capture(coarse, test_points, targets) / test_points.total
    rows.append(
        {
            "map": "last period, 100 m cells",
            **{f"PAI {s:.0%}": h / s for s, h in zip(SHARES, hits, strict=True)},
        }
    )
    if hindsight:
        best = None
        for eps, q in itertools.product(EPS_CANDIDATES, BUSIER_THAN_CANDIDATES):
            t = _scores(used, area, fold, _settings_map(eps, q, area.area_km2))
            row = _row(t, HOTSPOTS, f"hotspots, best in hindsight (eps {eps:.0f} m, {q:.0%})")
            score = row["PAI 1%"] + row["PAI 3%"]
            if best is None or score > best[0]:
                best = (score, row)
        assert best is not None
        rows.append(best[1])
    return rows


def _print(title: str, rows: list) -> None:
    print(f"\n### {title}\n")
    table = pd.DataFrame(rows)
    print("| map | " + " | ".join(table.columns[1:]) + " |")
    print("|---|" + "---|" * (len(table.columns) - 1))
    for row in table.itertuples(index=False):
        cells = " | ".join(f"{v:.1f}" for v in row[1:])
        print(f"| {row[0]} | {cells} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hindsight", action="store_true", help="add the best settings in hindsight"
    )
    args = parser.parse_args()
    if WF_API.exists():
        incidents, _ = read_incidents(WF_API)
        wards, _ = load_wards(WF_WARDS, incidents=incidents)
        area = study_area(incidents, boundary=wards)
        for crime, frame in (
            ("all crime", incidents),
            (VIOLENCE, incidents[incidents["category"] == VIOLENCE]),
        ):
            for fit, test in (
                ("2016-07..2016-12", "2017-01..2017-06"),
                ("2017-01..2017-06", "2016-07..2016-12"),
            ):
                _print(
                    f"Waltham Forest, {crime}: fit {fit}, test {test}",
                    evaluate(frame, area, fit, test, args.hindsight),
                )
    else:
        print(f"(no real data at {WF_API}: Waltham Forest skipped)")
    incidents, _ = load_sample_incidents()
    wards, _ = load_wards(SAMPLE_WARDS, incidents=incidents)
    area = study_area(incidents, boundary=wards)
    _print(
        "Synthetic demo borough, all crime: fit 2024-01..2024-06, test 2024-07..2024-12",
        evaluate(incidents, area, "2024-01..2024-06", "2024-07..2024-12", args.hindsight),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
