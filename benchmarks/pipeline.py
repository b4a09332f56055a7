"""Time the whole pipeline, file to written outputs, at borough and city scale, stage by stage.

    python benchmarks/pipeline.py [--sizes 30k,300k,1M] [--settings tuned,fixed,suggested]
                                  [--runs 1] [--input PATH ...] [--keep DIR] [--exact]

For each size a London-like data.police.uk street CSV is written first (``london_like.py``:
a 40 km square, 400 hotspots + 40% background, snapped to 125,000 map points, twelve months;
cached in ``--keep`` when given). Each run (``--runs``: each cold, the stores of worked-out
results emptied first by ``hotspots._memo.forget_all``), in this one process:

* **reference**: ``pandas.read_csv`` + pyproj to British National Grid + scikit-learn's
  DBSCAN (eps 150 m, min_samples 15) on the unique map points with their counts, the labels
  written to /dev/null (issue 12's yardstick);
* **pipeline**, timed by stage: ``read`` (read_incidents: parse, checks, projection),
  ``analyse`` (settings, clustering, outlines, statistics, overlays, patrol points: analyse
  up to where it hands the hotspots to the back-test, whose baseline maps begin before the
  clustering, in a thread of their own), ``backtest`` (what the back-test adds after that),
  ``write`` (write_analysis: every output file, map.html included); then ``analyse`` again
  alone (``run_backtest=False``: what ``--no-backtest`` runs), for the ratio without the
  back-test;

with the peak memory of each (Linux VmHWM, reset before each; "from": the resident memory the
stage started from; the pipeline starts with the reference's freed memory given back, as a
command-line run would; each size and settings runs in a fresh Python process, so a peak is
not raised by what an earlier size left behind) and the sizes of map.html and
hotspots.geojson. Settings: ``tuned`` = what ``hotspots analyse`` and the dashboard do by
default (eps and min_samples chosen by the back-test on the file's own months); ``fixed`` =
``--eps 150 --min-samples 15``; ``suggested`` = the spacing rule (``--no-tune``).
The ratio is the pipeline's total over the reference's (issue 12 asks <= 0.5 at 1M rows).

``--input PATH`` benchmarks real files or folders instead (e.g. ../shared/data/police-uk/...).
``--exact`` writes the incidents where they fell, not snapped to map points (a force's own
records: as many distinct points as incidents, and dense clusters whose outlines cost far more).
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from london_like import write_london_like  # noqa: E402
from memory import peak_rss_kb, release_freed, reset_peak_rss_kb  # noqa: E402

import hotspots.pipeline as pipeline_module  # noqa: E402
from hotspots import read_incidents  # noqa: E402
from hotspots._memo import forget_all  # noqa: E402
from hotspots.outputs import write_analysis  # noqa: E402
from hotspots.pipeline import analyse  # noqa: E402
from hotspots.spanning_trees import forget_trees  # noqa: E402

SETTINGS: dict[str, dict[str, Any]] = {
    "fixed": {"eps": 150.0, "min_samples": 15, "tune": False},
    "suggested": {"tune": False},
    "tuned": {},
}
STAGES = ("read", "analyse", "backtest", "write")


def _rows(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def _reset_peak() -> float:
    """Reset the peak mark; the resident memory now, MB."""
    return reset_peak_rss_kb() / 1024


def _peak_mb() -> float:
    return peak_rss_kb() / 1024


def reference(path: Path) -> float:
    """Issue 12's yardstick: pandas + pyproj + scikit-learn DBSCAN on unique points."""
    from pyproj import Transformer
    from sklearn.cluster import DBSCAN

    t0 = time.perf_counter()
    files = [path] if path.is_file() else sorted(path.rglob("*.csv"))
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    df = df.dropna(subset=["Longitude", "Latitude"])
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    x, y = to_bng.transform(df["Longitude"].to_numpy(), df["Latitude"].to_numpy())
    xy = np.column_stack([x, y])
    codes, uniq = pd.factorize((xy + 0.0).view(np.complex128).ravel())
    points = np.column_stack([uniq.real, uniq.imag])
    labels = DBSCAN(eps=150.0, min_samples=15).fit(points, sample_weight=np.bincount(codes))
    np.savetxt(os.devnull, labels.labels_[codes], fmt="%d")
    return time.perf_counter() - t0


def pipeline(path: Path, out: Path, settings: dict[str, Any]) -> dict[str, float]:
    """Every stage of ``hotspots analyse`` on ``path``, timed, with each stage's peak memory
    (``<stage>_mb``); outputs written to ``out``."""
    t: dict[str, float] = {}
    box: dict[str, Any] = {}
    release_freed()  # start as the command line does: without the reference's leftovers

    def stage(name: str, fn: Callable[[], Any]) -> None:
        gc.collect()
        t[f"{name}_from"] = _reset_peak()
        start = time.perf_counter()
        box[name] = fn()
        t[name] = time.perf_counter() - start
        t[f"{name}_mb"] = _peak_mb()

    stage("read", lambda: read_incidents(path))
    incidents, report = box["read"]
    # analyse back-tests as the command line does: the back-test begins before the hotspots
    # are found (its baselines drawn meanwhile), so the analysis is split where it hands the
    # hotspots to the back-test: "analyse" up to there, "backtest" what it adds after.
    hand_over = pipeline_module._backtest_into

    def split(analysis: Any, started: Any) -> Any:
        t["analyse"] = time.perf_counter() - start
        t["analyse_mb"] = _peak_mb()
        t["backtest_from"] = _reset_peak()
        return hand_over(analysis, started)

    gc.collect()
    t["analyse_from"] = _reset_peak()
    start = time.perf_counter()
    pipeline_module._backtest_into = split
    try:
        result = analyse(incidents, **settings)
    finally:
        pipeline_module._backtest_into = hand_over
    t["backtest"] = time.perf_counter() - start - t["analyse"]
    t["backtest_mb"] = _peak_mb()
    stage("write", functools.partial(write_analysis, result, out, report=report))
    t["total"] = sum(t[s] for s in STAGES)
    t["peak_mb"] = max(t[f"{s}_mb"] for s in STAGES)
    t["incidents"] = float(len(incidents))
    t["hotspots"] = float(result.n_hotspots)
    t["map_mb"] = (out / "map.html").stat().st_size / 1e6
    t["geojson_mb"] = (out / "hotspots.geojson").stat().st_size / 1e6
    # what --no-backtest saves: the analysis again, alone (its clustering then has both
    # cores; above, the back-test's first steps ran beside it)
    del result
    forget_all()  # cold, as --no-backtest in a new process: nothing kept from the run above
    forget_trees()
    gc.collect()
    start = time.perf_counter()
    analyse(incidents, run_backtest=False, **settings)
    t["analyse_alone"] = time.perf_counter() - start
    return t


def _measure(fn: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    _reset_peak()
    result = fn()
    return result, _peak_mb()


def bench(name: str, path: Path, settings: str, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        refs, ref_peaks, results = [], [], []
        for _ in range(runs):
            forget_all()  # every run cold, as in a new process: nothing kept from the last
            ref, ref_peak = _measure(lambda: reference(path))
            refs.append(ref)
            ref_peaks.append(ref_peak)
            results.append(pipeline(path, out, SETTINGS[settings]))
    r = {k: float(np.median([x[k] for x in results])) for k in results[0]}
    ref = float(np.median(refs))
    print(
        f"\n{name}, {settings} settings: {int(r['incidents']):,} incidents, "
        f"{int(r['hotspots']):,} hotspots (median of {runs})"
    )
    print(
        "  "
        + "  ".join(
            f"{s} {r[s]:6.2f} s {r[s + '_mb']:5,.0f} MB (from {r[s + '_from']:,.0f})"
            for s in STAGES
        )
    )
    print(
        f"  pipeline {r['total']:7.2f} s, peak {r['peak_mb']:,.0f} MB | reference {ref:6.2f} s, "
        f"peak {max(ref_peaks):,.0f} MB | ratio {r['total'] / ref:.2f} "
        f"(without the back-test {(r['read'] + r['analyse_alone'] + r['write']) / ref:.2f}: "
        f"analyse alone {r['analyse_alone']:.2f} s)"
    )
    print(f"  map.html {r['map_mb']:.2f} MB, hotspots.geojson {r['geojson_mb']:.2f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30k,300k,1M", help="rows, comma separated")
    parser.add_argument("--settings", default="tuned,fixed,suggested")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--input", action="append", type=Path, help="real files/folders")
    parser.add_argument("--keep", type=Path, help="folder to cache the generated CSVs in")
    parser.add_argument(
        "--exact", action="store_true", help="incidents not snapped to map points (london_like)"
    )
    parser.add_argument("--one", nargs=2, metavar=("NAME", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    if args.one:  # one size and settings, in this (fresh) process
        bench(args.one[0], Path(args.one[1]), settings[0], args.runs)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.keep or Path(tmp)
        inputs: list[tuple[str, Path]] = [(str(p), p) for p in args.input or []]
        if not args.input:
            for size in args.sizes.split(","):
                rows = _rows(size)
                kind = "london-exact" if args.exact else "london"
                path = cache / f"{kind}-{rows}" / "2024-london-street.csv"
                if not path.exists():
                    write_london_like(path, rows, exact=args.exact)
                exact = ", exact points" if args.exact else ""
                inputs.append((f"London-like {rows:,} rows{exact}", path.parent))
        for name, path in inputs:
            for s in settings:
                one = ["--one", name, str(path), "--settings", s, "--runs", str(args.runs)]
                subprocess.run([sys.executable, __file__, *one], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
