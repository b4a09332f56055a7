"""Dense, unsnapped points: an outline drawn in pieces against at once, and DBSCAN's memory.

    python benchmarks/dense.py [--points 30000] [--rows 350000]

Points not snapped to data.police.uk map points (a force's own data, jittered points) make
every outline's spanning tree dense and every neighbourhood large. Two measurements, each
beside its reference in this one process:

* **outline**: one cluster of ``--points`` points (7,500 places a 1.5 km square, each seen four
  times with 15 m of jitter): ``footprint._outlines`` (pieces of 64 tree edges, united)
  against ``shapely.buffer`` of the whole merged tree at once (the rule written plainly);
  time, the peak memory each adds (Linux VmHWM, reset before each) and the areas.
* **dbscan**: ``dbscan_labels`` of ``--rows`` such points over a 6 km square at eps 200 m
  (about 200 million of neighbour pairs, taken in slices): time and peak memory, against
  ``neighbour_counts`` at 20 m, a distance whose pairs fit at once.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from memory import peak_rss_kb, release_freed, reset_peak_rss_kb  # noqa: E402

from hotspots import footprint  # noqa: E402
from hotspots.cluster import dbscan_labels, neighbour_counts  # noqa: E402
from hotspots.spanning_trees import spanning_tree_edges  # noqa: E402


def _jittered(places: int, side: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, side, (places, 2))
    return np.repeat(base, 4, axis=0) + rng.normal(0, 15, (places * 4, 2))


def _timed(fn):  # type: ignore[no-untyped-def]
    gc.collect()
    release_freed()  # the last measurement's freed pages back: each peak is its own
    start_mb = reset_peak_rss_kb() / 1024
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t, peak_rss_kb() / 1024 - start_mb


def outline(points: int) -> None:
    pts = np.unique(_jittered(points // 4, 1500.0, 0), axis=0)
    edges = spanning_tree_edges(pts)
    lines = shapely.linestrings(np.stack([pts[edges[:, 0]], pts[edges[:, 1]]], axis=1))
    margin = footprint.DEFAULT_MARGIN

    def at_once():  # type: ignore[no-untyped-def]
        merged = shapely.line_merge(shapely.multilinestrings(lines))
        return shapely.buffer(merged, margin, quad_segs=8)

    pieces, t_pieces, mb_pieces = _timed(
        lambda: footprint._outlines([(0, pts)], margin, None, 8)[0]
    )
    whole, t_whole, mb_whole = _timed(at_once)
    print(f"Outline of one cluster of {len(pts):,} unsnapped points ({len(edges):,} tree edges)")
    for name, t, mb, area in (
        ("at once (reference)", t_whole, mb_whole, whole.area),
        ("in pieces", t_pieces, mb_pieces, pieces.area),
    ):
        print(f"  {name:20} {t:6.2f} s  +{mb:7,.0f} MB  area {area:,.0f} m²")
    differs = abs(pieces.area - whole.area)
    print(f"  ratio {t_pieces / t_whole:.2f}; the areas differ by {differs:,.1f} m²")


def clustering(rows: int) -> None:
    xy = _jittered(rows // 4, 6000.0, 1)
    (_, t_ref, mb_ref) = _timed(lambda: neighbour_counts(xy, eps=20.0))
    (labels, _), t, mb = _timed(lambda: dbscan_labels(xy, eps=200.0, min_samples=300))
    print(f"\nDBSCAN of {len(xy):,} unsnapped points on a 6 km square")
    print(f"  neighbour counts at 20 m (pairs at once)  {t_ref:6.2f} s  +{mb_ref:7,.0f} MB")
    print(
        f"  DBSCAN at 200 m (pairs in slices)         {t:6.2f} s  +{mb:7,.0f} MB"
        f"  ({labels.max() + 1} clusters)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=30_000)
    parser.add_argument("--rows", type=int, default=350_000)
    args = parser.parse_args(argv)
    outline(args.points)
    clustering(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
