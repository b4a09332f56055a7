"""Benchmark hotspots.cluster.dbscan_labels against scikit-learn and the C++ ``dbscan`` package.

Run::

    python benchmarks/cluster.py [--sizes 30000,300000,1000000,3000000] [--repeats 3]
                                 [--raw-max 100000] [--no-hdbscan]

Data (police.uk-like, deterministic seed): a square "city" whose area grows with the number of
incidents, at 750 incidents per km² (a London borough-year: Waltham Forest had about 27,000
street-level crimes a year on 39 km²). Anonymous map points are scattered uniformly at one per
2,500 m² (50 m street spacing; the real map points are sparser, about one per 24,000 m² in
Waltham Forest and one per 4,700 m² in the City of London, so this is the harder case: more
unique points). 60% of incidents come from Gaussian hotspots (one per 2,000 incidents,
sigma lognormal around 200 m, weights lognormal) and 40% from a uniform background; each
incident is snapped to its nearest map point, and the rows are shuffled.

Methods, each on the same rows, eps 150 m, min_samples 15 and the suggested min_samples
(``suggest_min_samples`` for 12 months on the city's area):

* ``hotspots``: ``dbscan_labels(xy)`` on the raw rows (deduplication included in the time);
* ``sklearn-unique``: ``DBSCAN().fit(unique_xy, sample_weight=counts)``, the deduplication
  done beforehand and not timed;
* ``sklearn-raw``: ``DBSCAN().fit(xy)`` on the raw rows, only up to ``--raw-max`` rows (it
  needs O(sum of neighbourhood sizes) memory: 5.8 GB at 300k);
* ``cpp-dbscan``: ``dbscan.DBSCAN(xy)`` (Wang, Gu & Shun; parallel C++) on the raw rows,
  when the package is importable;
* ``hotspots-hdbscan``: ``hdbscan_labels(xy, min_cluster_size=100, min_samples=30)``, up to
  300k rows, first call in a fresh process reported separately.

Each (method, size, min_samples) runs in a fresh subprocess: time is the median of
``--repeats`` runs (wall clock, ``time.perf_counter``); memory ("peak") is how far the first
run lifts the process's resident set above where it stood just before: the peak-RSS mark is
reset (Linux ``/proc/self/clear_refs``) after loading the data and read back (``VmHWM``) after
the run, so it counts the method's own allocations, C/C++ included, and not the loaded rows
(elsewhere it falls back to ``ru_maxrss``, which also counts the imports).
Labels are checked against ``hotspots``: identical arrays (and core masks) for scikit-learn;
for the C++ package, which numbers clusters and assigns border points its own way, the same
core mask and the same clusters of core points.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from memory import peak_rss_kb, reset_peak_rss_kb

INCIDENTS_PER_KM2 = 750.0
M2_PER_MAP_POINT = 2500.0
EPS = 150.0
MIN_SAMPLES = 15
HDBSCAN_MAX = 300_000


def make_incidents(n: int, *, seed: int = 0) -> tuple[np.ndarray, float]:
    """``n`` police.uk-like incident coordinates (metres) and the city's area in km²."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    area_m2 = n / INCIDENTS_PER_KM2 * 1e6
    side = float(np.sqrt(area_m2))
    origin = np.array([530_000.0, 180_000.0])
    map_points = rng.uniform(0, side, size=(max(1, int(area_m2 / M2_PER_MAP_POINT)), 2)) + origin
    n_hot = max(3, n // 2000)
    centres = rng.uniform(0, side, size=(n_hot, 2)) + origin
    sigma = rng.lognormal(np.log(200.0), 0.5, n_hot)
    share = rng.lognormal(0.0, 1.0, n_hot)
    share /= share.sum()
    n_clustered = int(0.6 * n)
    which = rng.choice(n_hot, size=n_clustered, p=share)
    clustered = centres[which] + rng.normal(size=(n_clustered, 2)) * sigma[which, None]
    background = rng.uniform(0, side, size=(n - n_clustered, 2)) + origin
    _, nearest = cKDTree(map_points).query(np.concatenate([clustered, background]), workers=-1)
    xy = map_points[nearest]
    return xy[rng.permutation(n)], area_m2 / 1e6


# ------------------------------------------------------------------------------ worker


def _unique(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pandas as pd

    codes, uniq = pd.factorize((xy + 0.0).view(np.complex128).ravel())
    return codes, np.column_stack([uniq.real, uniq.imag]), np.bincount(codes).astype(float)


def _worker(method: str, data: str, min_samples: int, repeats: int, out: str) -> None:
    """Run one method ``repeats`` times in this (fresh) process; print a JSON line."""
    xy = np.load(data)
    if method == "hotspots":
        from hotspots.cluster import dbscan_labels

        def run() -> tuple[np.ndarray, np.ndarray]:
            return dbscan_labels(xy, eps=EPS, min_samples=min_samples)

    elif method == "sklearn-unique":
        from sklearn.cluster import DBSCAN

        codes, uxy, counts = _unique(xy)

        def run() -> tuple[np.ndarray, np.ndarray]:
            model = DBSCAN(eps=EPS, min_samples=min_samples).fit(uxy, sample_weight=counts)
            core = np.zeros(len(uxy), dtype=bool)
            core[model.core_sample_indices_] = True
            return model.labels_, core

    elif method == "sklearn-raw":
        from sklearn.cluster import DBSCAN

        def run() -> tuple[np.ndarray, np.ndarray]:
            model = DBSCAN(eps=EPS, min_samples=min_samples).fit(xy)
            core = np.zeros(len(xy), dtype=bool)
            core[model.core_sample_indices_] = True
            return model.labels_, core

    elif method == "cpp-dbscan":
        import dbscan

        def run() -> tuple[np.ndarray, np.ndarray]:
            labels, core = dbscan.DBSCAN(xy, eps=EPS, min_samples=min_samples)
            return np.asarray(labels), np.asarray(core, dtype=bool)

    elif method == "hotspots-hdbscan":
        from hotspots.cluster import hdbscan_labels

        def run() -> tuple[np.ndarray, np.ndarray]:
            labels = hdbscan_labels(xy, min_cluster_size=100, min_samples=min_samples)
            return labels, labels >= 0

    else:
        raise SystemExit(f"unknown method {method}")

    before = reset_peak_rss_kb()
    times = []
    t0 = time.perf_counter()
    labels, core = run()
    times.append(time.perf_counter() - t0)
    peak_kb = peak_rss_kb() - before
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        labels, core = run()
        times.append(time.perf_counter() - t0)
    if method == "sklearn-unique":
        labels, core = labels[codes], core[codes]
    np.save(out, np.stack([labels.astype(np.int64), core.astype(np.int64)]))
    print(json.dumps({"times": times, "peak_mb": peak_kb / 1024}))


# ------------------------------------------------------------------------------- driver


def _measure(
    method: str, data: Path, min_samples: int, repeats: int, tmp: Path
) -> tuple[dict[str, object], np.ndarray]:
    out = tmp / f"{method}-{min_samples}.npy"
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        method,
        str(data),
        str(min_samples),
        str(repeats),
        str(out),
    ]
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result, np.load(out)


def _same_core_clusters(ref: np.ndarray, other: np.ndarray) -> bool:
    """Same core mask, and the core points grouped into the same clusters."""
    if not np.array_equal(ref[1], other[1]):
        return False
    core = ref[1].astype(bool)
    a, b = ref[0][core], other[0][core]
    pairs = {(int(x), int(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def _first_call(data: Path, min_samples: int) -> float:
    """Seconds for import + first hdbscan_labels call in a fresh interpreter."""
    code = (
        "import time, numpy as np; t = time.perf_counter(); "
        "from hotspots.cluster import hdbscan_labels; "
        f"hdbscan_labels(np.load({str(data)!r}), min_cluster_size=100, "
        f"min_samples={min_samples}); print(time.perf_counter() - t)"
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    """Generate the data, run every method in subprocesses, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30000,300000,1000000,3000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--raw-max", type=int, default=100_000)
    parser.add_argument("--no-hdbscan", action="store_true")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        method, data, min_samples, repeats, out = args.worker
        _worker(method, data, int(min_samples), int(repeats), out)
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hotspots.cluster import suggest_min_samples

    try:
        import dbscan  # noqa: F401

        have_cpp = True
    except ImportError:
        have_cpp = False
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"eps {EPS:g} m; median of {args.repeats} runs (s); peak = growth of peak RSS (MB) "
        "in a fresh subprocess; 'x' columns: method time / hotspots time",
        flush=True,
    )
    header = (
        f"{'incidents':>10} {'unique':>8} {'min_s':>5} | {'hotspots':>8} {'peak':>6} | "
        f"{'sk-uniq':>7} {'x':>5} {'peak':>6} | {'sk-raw':>7} {'x':>5} {'peak':>6} | "
        f"{'C++ raw':>7} {'x':>5} {'peak':>6} | labels"
    )
    print(header)
    print("-" * len(header), flush=True)
    hdb_rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            xy, area = make_incidents(n)
            data = tmp / f"xy-{n}.npy"
            np.save(data, xy)
            n_unique = len(np.unique(xy.view(np.complex128)))
            suggested = int(suggest_min_samples(n, n_months=12, area_km2=area).value)
            for min_samples in dict.fromkeys([MIN_SAMPLES, suggested]):
                res, ref = _measure("hotspots", data, min_samples, args.repeats, tmp)
                base = statistics.median(res["times"])  # type: ignore[arg-type]
                cells = [f"{base:8.3f} {res['peak_mb']:6.0f}"]
                checks = []
                for method, enabled in (
                    ("sklearn-unique", True),
                    ("sklearn-raw", n <= args.raw_max),
                    ("cpp-dbscan", have_cpp),
                ):
                    if not enabled:
                        why = "skip" if method != "cpp-dbscan" else "n/a"
                        cells.append(f"{why:>7} {'':>5} {'':>6}")
                        continue
                    other, labels = _measure(method, data, min_samples, args.repeats, tmp)
                    t = statistics.median(other["times"])  # type: ignore[arg-type]
                    cells.append(f"{t:7.3f} {t / base:5.1f} {other['peak_mb']:6.0f}")
                    if method == "cpp-dbscan":
                        ok = _same_core_clusters(ref, labels)
                        checks.append(f"C++ {'same cores' if ok else 'DIFFER'}")
                    else:
                        ok = np.array_equal(ref, labels)
                        name = method.replace("sklearn-", "sk-")
                        checks.append(f"{name} {'identical' if ok else 'DIFFER'}")
                print(
                    f"{n:>10,} {n_unique:>8,} {min_samples:>5} | " + " | ".join(cells) + " | "
                    f"{', '.join(checks)}",
                    flush=True,
                )
            if not args.no_hdbscan and n <= HDBSCAN_MAX:
                res, labels = _measure("hotspots-hdbscan", data, 30, args.repeats, tmp)
                first = _first_call(data, 30)
                n_clusters = int(labels[0].max()) + 1
                noise = float(np.mean(labels[0] == -1))
                hdb_rows.append(
                    f"{n:>10,} {statistics.median(res['times']):8.3f} {first:8.3f} "  # type: ignore[arg-type]
                    f"{res['peak_mb']:6.0f} {n_clusters:>8} {noise:6.1%}"
                )
    print(
        "\nskip: sklearn on raw rows above --raw-max (memory grows with the neighbourhoods; "
        "5.8 GB at 300k, out of 20 GB at 1M by the shared design notes' estimate)"
    )
    if hdb_rows:
        print("\nhdbscan_labels(min_cluster_size=100, min_samples=30):")
        print(
            f"{'incidents':>10} {'median':>8} {'1st call':>8} {'peak':>6} "
            f"{'clusters':>8} {'noise':>6}"
        )
        print("\n".join(hdb_rows))
        print("(1st call: fresh interpreter, import + call; there is no JIT to warm up)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
