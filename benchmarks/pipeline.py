"""Time a borough-year from file to written outputs, after imports (``hotspots analyse``'s work).

    python benchmarks/pipeline.py [--runs 5] [--input PATH ...]

Default input: a borough-year of the bundled synthetic demo borough (its 12 months of 2024,
written as data.police.uk street CSVs into a temporary folder, ~30,000 incidents), plus the real
Waltham Forest API folder from ../shared/data when it is there. Each run reads the files, finds
hotspots with the suggested parameters, and writes hotspots.geojson/.csv, incidents.csv,
summary.json and the standalone map.html, as the CLI does. The reference run, side by side in
the same process, is reading the same files with ``pandas.read_csv`` / ``json.load`` alone:
the ratio says how many plain reads the whole pipeline costs.

Prints the median, min and max of each step over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geodata import SAMPLE_INCIDENTS  # noqa: E402
from hotspots import read_incidents  # noqa: E402
from hotspots.outputs import write_analysis  # noqa: E402
from hotspots.pipeline import analyse  # noqa: E402

WALTHAM_FOREST = REPO.parent / "shared" / "data" / "police-uk" / "waltham-forest-api"


def _demo_year(folder: Path) -> Path:
    """Unpack the demo borough's 2024 months as a street-CSV folder tree."""
    with zipfile.ZipFile(SAMPLE_INCIDENTS) as z:
        for name in z.namelist():
            if name.startswith("2024-"):
                z.extract(name, folder)
    return folder


def _plain_read(path: Path) -> int:
    files = sorted(p for p in path.rglob("*") if p.suffix in (".csv", ".json"))
    n = 0
    for f in files:
        if f.suffix == ".csv":
            n += len(pd.read_csv(f))
        else:
            n += len(json.loads(f.read_text()))
    return n


def _pipeline(path: Path, out: Path) -> dict[str, float]:
    t = {}
    t0 = time.perf_counter()
    incidents, report = read_incidents(path)
    t["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = analyse(incidents)
    t["analyse"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    write_analysis(result, out, report=report)
    t["write"] = time.perf_counter() - t2
    t["total"] = time.perf_counter() - t0
    t["incidents"] = float(len(incidents))
    t["hotspots"] = float(result.n_hotspots)
    return t


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def _bench(name: str, path: Path, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _pipeline(path, out)  # warm up: first-call costs (pyproj grids, caches)
        results: list[dict[str, float]] = []
        plain: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            _plain_read(path)
            plain.append(time.perf_counter() - t0)
            results.append(_pipeline(path, out))
    r0 = results[0]
    print(f"\n{name}: {int(r0['incidents']):,} incidents, {int(r0['hotspots'])} hotspots")
    for step in ("read", "analyse", "write", "total"):
        print(f"  {step:<14}{_stats([r[step] for r in results])}")
    total = statistics.median(r["total"] for r in results)
    ref = statistics.median(plain)
    print(f"  {'plain read':<14}{_stats(plain)}   (reference: pandas/json only)")
    print(f"  file -> outputs = {total / ref:.1f} x a plain read of the same files")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--input", action="append", type=Path, help="incident files/folders")
    args = parser.parse_args(argv)
    runner: list[tuple[str, Callable[[], Path]]] = []
    if args.input:
        for p in args.input:
            runner.append((str(p), lambda p=p: p))
    with tempfile.TemporaryDirectory() as tmp:
        if not args.input:
            demo = _demo_year(Path(tmp) / "demo-2024")
            runner.append(("synthetic demo borough, 2024", lambda: demo))
            if WALTHAM_FOREST.exists():
                runner.append(("Waltham Forest API, 2016-01..2017-06", lambda: WALTHAM_FOREST))
        for name, get in runner:
            _bench(name, get(), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
