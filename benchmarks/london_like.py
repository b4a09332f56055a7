"""A London-like data.police.uk street CSV of any size, for the city-scale benchmarks.

    python benchmarks/london_like.py ROWS OUT.csv [--seed 0] [--exact]

The layout issue 12 measured: a 40 km square of central/greater London, 400 hotspots (Gaussian,
sigma 60-400 m, lognormal shares) holding 60% of incidents and 40% uniform background, every
incident snapped to the nearest of 125,000 map points (as data.police.uk anonymises), twelve
months of 2024, eight crime types, a street name per map point and a 64-hex crime id (blank for
anti-social behaviour, as in the real files). Written with pyarrow's CSV writer in one pass.

``--exact``: the incidents where they fell, not snapped (a force's own records, exact to the
metre: as many distinct points as incidents), each still named by its nearest map point's street.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyproj import Transformer
from scipy.spatial import cKDTree

SIDE_M = 40_000.0
ORIGIN = (510_000.0, 160_000.0)  # south-west corner, British National Grid
N_MAP_POINTS = 125_000
N_HOTSPOTS = 400
CLUSTERED = 0.6
CRIME_TYPES = [
    "Violence and sexual offences", "Anti-social behaviour", "Theft from the person",
    "Shoplifting", "Burglary", "Vehicle crime", "Criminal damage and arson", "Drugs",
]  # fmt: skip
CRIME_SHARES = [0.28, 0.22, 0.1, 0.1, 0.08, 0.1, 0.07, 0.05]
STREET_WORDS = [
    "High", "Station", "Church", "Park", "Mill", "Victoria", "Albert", "Green", "King", "Queen",
]  # fmt: skip
STREET_KINDS = ["Street", "Road", "Lane", "Avenue", "Grove", "Way", "Place", "Close"]


def london_like_xy(
    rows: int, seed: int = 0, *, exact: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Incident coordinates (BNG metres) snapped to map points (``exact``: where they fell,
    rounded to the metre), and each row's nearest map point."""
    rng = np.random.default_rng(seed)
    origin = np.asarray(ORIGIN)
    points = rng.uniform(0, SIDE_M, size=(N_MAP_POINTS, 2)) + origin
    centres = rng.uniform(2_000, SIDE_M - 2_000, size=(N_HOTSPOTS, 2)) + origin
    sigma = rng.uniform(60.0, 400.0, N_HOTSPOTS)
    share = rng.lognormal(0.0, 1.0, N_HOTSPOTS)
    n_clustered = int(CLUSTERED * rows)
    which = rng.choice(N_HOTSPOTS, size=n_clustered, p=share / share.sum())
    clustered = centres[which] + rng.normal(size=(n_clustered, 2)) * sigma[which, None]
    background = rng.uniform(0, SIDE_M, size=(rows - n_clustered, 2)) + origin
    fell = np.concatenate([clustered, background])
    _, nearest = cKDTree(points).query(fell, workers=-1)
    order = rng.permutation(rows)
    nearest = nearest[order]
    if exact:
        return np.round(fell[order]), nearest
    return points[nearest], nearest


def write_london_like(path: Path, rows: int, seed: int = 0, *, exact: bool = False) -> Path:
    """Write ``rows`` incidents as one data.police.uk street CSV at ``path`` (``exact``: not
    snapped to map points)."""
    rng = np.random.default_rng(seed + 1)
    xy, point = london_like_xy(rows, seed, exact=exact)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    streets = np.array(
        [f"On or near {a} {b}" for a in STREET_WORDS for b in STREET_KINDS]
        + [f"On or near Street {k} Road" for k in range(20_000)]
    )
    crime = rng.choice(len(CRIME_TYPES), size=rows, p=CRIME_SHARES)
    month = rng.integers(1, 13, size=rows)
    ids = rng.integers(0, 2**63, size=(rows, 4), dtype=np.int64).view(np.uint64)
    hex_ids = np.char.add(
        np.char.add(np.char.mod("%016x", ids[:, 0]), np.char.mod("%016x", ids[:, 1])),
        np.char.add(np.char.mod("%016x", ids[:, 2]), np.char.mod("%016x", ids[:, 3])),
    )
    asb = crime == CRIME_TYPES.index("Anti-social behaviour")
    crime_id = pa.array(hex_ids.astype(object))
    crime_id = pc.if_else(pa.array(asb), pa.scalar(None, pa.string()), crime_id)
    lsoa = point // 80
    zeros = np.zeros(rows, dtype=int)
    force = pa.array(["Metropolitan Police Service"]).take(zeros)
    table = pa.table(
        {
            "Crime ID": crime_id,
            "Month": pa.array(np.char.mod("2024-%02d", month).astype(object)),
            "Reported by": force,
            "Falls within": force,
            "Longitude": pa.array(np.round(lon, 6)),
            "Latitude": pa.array(np.round(lat, 6)),
            "Location": pa.array(streets[point % len(streets)].astype(object)),
            "LSOA code": pa.array(np.char.mod("E01%06d", lsoa).astype(object)),
            "LSOA name": pa.array(np.char.mod("London %04d", lsoa % 10_000).astype(object)),
            "Crime type": pa.array(np.array(CRIME_TYPES, dtype=object)[crime]),
            "Last outcome category": pa.array(["Under investigation"]).take(zeros),
            "Context": pa.nulls(rows, pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exact", action="store_true", help="not snapped to map points")
    args = parser.parse_args(argv)
    write_london_like(args.out, args.rows, args.seed, exact=args.exact)
    print(f"wrote {args.rows:,} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
