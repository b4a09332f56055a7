"""Generate the bundled synthetic demo borough (``geodata/sample/``).

``python -m geodata.make_sample [--out geodata/sample]`` writes, from one fixed seed:

- ``demo-borough-street.zip``: 36 monthly data.police.uk "street" CSVs (2022-01 .. 2024-12),
  members ``YYYY-MM/YYYY-MM-demo-borough-street.csv``, columns exactly as published;
- ``demo_wards.geojson``: illustrative named wards tiling the borough (EPSG:4326);
- ``demo_patrol_areas.geojson``: four illustrative detached-outreach patrol areas (EPSG:4326);
- ``demo_borough.geojson``: the borough outline (the union of the wards);
- ``truth.json``: what was planted (hotspots, the St James Street corridor and its operation);
- ``README.md``: what the files are, with their figures.

Nothing here comes from real data: the street layout, street names (except "St James Street"),
LSOAs and wards are invented. The borough is placed around Walthamstow in north-east London
only so that British National Grid applies and base-map tiles line up.

Output is byte-identical on every run and machine: the only randomness is
``random.Random(SEED).random()`` (whose sequence Python guarantees across versions), every
loop runs in a fixed order, coordinates are formatted with fixed decimals and the zip members
carry a fixed timestamp.

Geometry is built in a local plane in metres (x east, y north, from ``ORIGIN``) and converted to
longitude/latitude with fixed metres-per-degree constants (an equirectangular approximation,
good to well under a metre across the borough), so no projection library is involved.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import io
import itertools
import json
import math
import random
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["generate", "main"]

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

Point = tuple[float, float]  # local plane: metres east and north of ORIGIN

SEED = 20180601
DEFAULT_OUT = Path(__file__).resolve().parent / "sample"

FORCE = "Demo Borough Police (synthetic)"
BOROUGH = "Demo Borough"
ZIP_NAME = "demo-borough-street.zip"
MEMBER_SUFFIX = "demo-borough-street.csv"
ZIP_TIMESTAMP = (2025, 1, 1, 0, 0, 0)

HEADER = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]

FIRST_YEAR, N_MONTHS = 2022, 36
MONTHS = [f"{FIRST_YEAR + m // 12}-{m % 12 + 1:02d}" for m in range(N_MONTHS)]

# Local plane: metres east/north of ORIGIN (lon, lat), converted with fixed constants.
ORIGIN = (-0.058, 51.552)
M_PER_DEG_LON = 69_150.0  # 111,320 m x cos(51.6 deg)
M_PER_DEG_LAT = 111_250.0

# LSOAs are the cells of a jittered 6 x 10 lattice; wards are groups of cells. One letter per
# cell, north row first; "." is outside the borough. Ward letters index WARD_NAMES.
CELL_W, CELL_H = 1_000.0, 1_100.0
BOROUGH_MAP = [
    ".AAB..",
    "AABBBB",
    "CCCDDB",
    "CCEDDD",
    "EEEFFF",
    "GGEFFH",
    "GGIIHH",
    "JGIIHH",
    "JJJIH.",
    ".JJI..",
]
LATTICE_JITTER = 0.22  # share of a cell side; keeps every cell a simple polygon
EDGE_BEND = 0.08  # sideways bend of each cell side at its midpoint, share of a cell side
WARD_NAMES = {
    "A": "Ashmere",
    "B": "Brindle Green",
    "C": "Copperfield",
    "D": "Dunmore",
    "E": "Eastbrook",
    "F": "Fallowfield",
    "G": "Grangewood",
    "H": "Hollowmead",
    "I": "Ivydene",
    "J": "Juniper Vale",
}
LSOA_POPULATION = (1_350, 2_150)  # uniform range per LSOA; a ward's population is the sum

# All 14 current data.police.uk crime types with target shares of all incidents.
CRIME_SHARES = {
    "Anti-social behaviour": 0.190,
    "Bicycle theft": 0.015,
    "Burglary": 0.060,
    "Criminal damage and arson": 0.060,
    "Drugs": 0.025,
    "Other crime": 0.012,
    "Other theft": 0.080,
    "Possession of weapons": 0.008,
    "Public order": 0.050,
    "Robbery": 0.025,
    "Shoplifting": 0.045,
    "Theft from the person": 0.030,
    "Vehicle crime": 0.090,
    "Violence and sexual offences": 0.310,
}
CRIME_TYPES = sorted(CRIME_SHARES)
ASB = "Anti-social behaviour"
INCIDENTS_PER_MONTH = 2_500
# Seasonality: multiplier 1 + amplitude x cos(2 pi (month - 7) / 12), peak in July.
SEASONAL_AMPLITUDE = {ASB: 0.15, "Violence and sexual offences": 0.08, "Burglary": -0.08}
DEFAULT_SEASONAL_AMPLITUDE = 0.05
NO_LOCATION_SHARE = 0.012  # of background incidents: empty coordinates, "No Location"


@dataclass(frozen=True)
class HotspotSpec:
    """A planted point hotspot: a Gaussian of incidents around a centre (local metres)."""

    key: str
    name: str
    kind: str
    centre: tuple[float, float]
    sigma_m: float
    monthly: float
    mix: dict[str, float]
    extra_points: tuple[tuple[str, int], ...]  # (location label or "" for nearest street, n)


HOTSPOTS = [
    HotspotSpec(
        "town_centre",
        "Central Square",
        "town centre",
        (2_700.0, 4_200.0),
        220.0,
        170.0,
        {
            "Violence and sexual offences": 0.30,
            "Other theft": 0.14,
            "Shoplifting": 0.14,
            ASB: 0.12,
            "Theft from the person": 0.10,
            "Public order": 0.10,
            "Robbery": 0.04,
            "Criminal damage and arson": 0.03,
            "Drugs": 0.02,
            "Bicycle theft": 0.01,
        },
        (
            ("", 22),
            ("Shopping Area", 3),
            ("Supermarket", 2),
            ("Parking Area", 2),
            ("Nightclub", 1),
            ("Theatre/Concert Hall", 1),
        ),
    ),
    HotspotSpec(
        "station",
        "Harrowgate Station",
        "station",
        (3_900.0, 6_300.0),
        110.0,
        70.0,
        {
            "Theft from the person": 0.26,
            "Violence and sexual offences": 0.20,
            ASB: 0.16,
            "Robbery": 0.12,
            "Bicycle theft": 0.10,
            "Other theft": 0.10,
            "Public order": 0.06,
        },
        (("", 8), ("Bus/Coach Station", 1), ("Pedestrian Subway", 1), ("Parking Area", 1)),
    ),
    HotspotSpec(
        "market",
        "Wellbrook Market",
        "market",
        (1_300.0, 5_600.0),
        100.0,
        60.0,
        {
            "Other theft": 0.30,
            "Theft from the person": 0.20,
            "Shoplifting": 0.15,
            "Violence and sexual offences": 0.15,
            "Public order": 0.10,
            ASB: 0.10,
        },
        (("", 9), ("Shopping Area", 2)),
    ),
    HotspotSpec(
        "retail_park",
        "Kestrel Retail Park",
        "retail park",
        (800.0, 7_800.0),
        120.0,
        75.0,
        {
            "Shoplifting": 0.62,
            "Vehicle crime": 0.14,
            "Other theft": 0.08,
            "Violence and sexual offences": 0.06,
            "Public order": 0.04,
            "Criminal damage and arson": 0.03,
            ASB: 0.03,
        },
        (
            ("", 5),
            ("Supermarket", 2),
            ("Shopping Area", 2),
            ("Parking Area", 3),
            ("Petrol Station", 1),
        ),
    ),
    HotspotSpec(
        "park",
        "Brookmead Park",
        "park",
        (4_600.0, 9_000.0),
        180.0,
        45.0,
        {
            ASB: 0.55,
            "Criminal damage and arson": 0.15,
            "Drugs": 0.10,
            "Violence and sexual offences": 0.10,
            "Public order": 0.05,
            "Bicycle theft": 0.05,
        },
        (("", 4), ("Park/Open Space", 6), ("Sports/Recreation Area", 3)),
    ),
    HotspotSpec(
        "estate",
        "Larkwood Estate",
        "housing estate",
        (3_300.0, 1_600.0),
        60.0,
        22.0,
        {
            "Drugs": 0.40,
            ASB: 0.25,
            "Criminal damage and arson": 0.12,
            "Violence and sexual offences": 0.12,
            "Possession of weapons": 0.06,
            "Burglary": 0.05,
        },
        (("", 7),),
    ),
    HotspotSpec(
        "parade",
        "Oakhanger Parade",
        "night-time economy",
        (1_300.0, 9_500.0),
        90.0,
        30.0,
        {
            "Violence and sexual offences": 0.45,
            "Public order": 0.20,
            ASB: 0.15,
            "Criminal damage and arson": 0.08,
            "Robbery": 0.06,
            "Drugs": 0.06,
        },
        (("", 6), ("Nightclub", 1)),
    ),
]

# The St James Street-like corridor: a linear hotspot along one street, violence heavy.
CORRIDOR_STREET = "St James Street"
CORRIDOR_LINE: list[Point] = [(1_690.0, 2_780.0), (1_725.0, 3_140.0), (1_770.0, 3_500.0)]
CORRIDOR_WIDTH_M = 50.0  # a map point within this distance of the line is in the corridor
CORRIDOR_CLEAR_M = (40.0, 70.0)  # no other map point in this band: membership is unambiguous
BUFFER_OUTER_M = 400.0  # the displacement buffer: 50 to 400 m from the line
CORRIDOR_MONTHLY = 90.0
CORRIDOR_MIX = {
    "Violence and sexual offences": 0.52,
    "Robbery": 0.10,
    ASB: 0.10,
    "Possession of weapons": 0.08,
    "Public order": 0.08,
    "Drugs": 0.07,
    "Criminal damage and arson": 0.05,
}
CORRIDOR_EXTRA_POINTS = (("Supermarket", 1), ("Shopping Area", 2), ("Parking Area", 1))
VIOLENCE_TYPES = ["Possession of weapons", "Robbery", "Violence and sexual offences"]
OPERATION = ("2023-04", "2023-09")
# Share of corridor violence kept (every incident at a corridor map point, whatever made it):
# a ramp during the six-month operation, then a sustained 35% fall. Nothing changes elsewhere.
DURING_MULTIPLIERS = [0.92, 0.86, 0.80, 0.75, 0.70, 0.67]
AFTER_MULTIPLIER = 0.65

# Through roads (local metres), drawn before the street grid; invented names.
HIGH_STREETS: list[tuple[str, list[Point], float]] = [
    (CORRIDOR_STREET, CORRIDOR_LINE, 45.0),
    (
        "Kingsmead Road",
        [(200, 1_300), (1_300, 2_500), (2_500, 3_900), (3_600, 5_000), (4_700, 6_000)],
        75.0,
    ),
    (
        "Harrowgate Avenue",
        [(3_700, 200), (3_800, 3_000), (3_900, 6_300), (3_800, 9_000), (3_600, 10_800)],
        75.0,
    ),
    (
        "Wellbrook Road",
        [(-200, 5_500), (1_300, 5_650), (2_800, 5_700), (4_500, 5_900), (6_200, 6_000)],
        75.0,
    ),
    ("Oakhanger Lane", [(-200, 9_400), (1_300, 9_550), (3_000, 9_300), (4_600, 9_400)], 75.0),
]
HIGH_STREET_CLEAR_M = 50.0  # grid map points this close to a through road are dropped
MIN_POINT_GAP_M = 40.0  # grid map points closer than this to a kept one are dropped

# The street grid: jittered east-west and north-south lines cut into named streets.
GRID_SPACING = {"ew": (230.0, 45.0), "ns": (270.0, 50.0)}  # (mean gap, +/- jitter) metres
STREET_LENGTH_M = (600.0, 1_400.0)
POINT_SPACING_M = (105.0, 140.0)
STREET_GAP_SHARE = 0.08  # share of street segments left out (railway, parks, water)
BACKGROUND_POIS = (
    ("Parking Area", 25),
    ("Supermarket", 15),
    ("Petrol Station", 8),
    ("Sports/Recreation Area", 10),
    ("Park/Open Space", 12),
    ("Further/Higher Educational Building", 5),
    ("Shopping Area", 8),
    ("Police Station", 1),
    ("Hospital", 1),
)
_NAME_STEMS_TEXT = """
Abbots Alder Ambrose Ashdown Aspen Badger Barley Beacon Bellflower Bilberry Bittern
Blackthorn Bluebell Brackley Bramble Briar Bucklers Burdock Calder Carrow Chalkwell Cobble
Coltsfoot Coppice Corncrake Cowslip Cranmere Cressing Damson Dovecote Dunnock Dunstan Elder
Elvaston Eyebright Farrant Fennel Fernlea Fieldfare Foxglove Furze Gilmore Goldcrest Gorse
Greenfinch Harebell Hawfinch Ingram Jessop Juniper Kennet Kingcup Knapweed Lapwing Linden
Linnet Lovage Mallow Marchant Medlar Merlin Millstone Moorhen Mulberry Nettle Nightjar
Norland Orchard Osier Oswin Pelham Pipit Plover Quarrendon Quince Radley Redstart Rushmere
Saffron Sedge Selwood Sorrel Spindle Starling Swallow Sycamore Tansy Teasel Thistle Thrush
Tormentil Vosper Wagtail Whitmore Woodruff Wren Yarrow Yewtree
"""
NAME_STEMS = _NAME_STEMS_TEXT.split()
NAME_SUFFIXES = (
    ("Road", 30),
    ("Street", 14),
    ("Avenue", 12),
    ("Grove", 8),
    ("Gardens", 6),
    ("Close", 6),
    ("Lane", 5),
    ("Terrace", 5),
    ("Way", 5),
    ("Crescent", 4),
    ("Drive", 4),
    ("Place", 3),
    ("Walk", 2),
    ("Rise", 2),
    ("Mews", 2),
)

# Last outcome category (data.police.uk vocabulary); empty for anti-social behaviour.
UNDER_INVESTIGATION = "Under investigation"
OUTCOMES_DEFAULT = {
    "Investigation complete; no suspect identified": 46,
    "Unable to prosecute suspect": 22,
    "Status update unavailable": 8,
    "Court result unavailable": 5,
    "Local resolution": 3,
    "Offender given a caution": 2,
    "Further investigation is not in the public interest": 2,
    "Awaiting court outcome": 2,
    "Formal action is not in the public interest": 1,
    "Action to be taken by another organisation": 1,
    "Offender sent to prison": 1,
    "Offender given community sentence": 1,
    "Offender fined": 1,
    UNDER_INVESTIGATION: 5,
}
OUTCOMES_BY_TYPE = {
    "Drugs": {
        "Offender given a drugs possession warning": 25,
        "Local resolution": 15,
        "Court result unavailable": 15,
        "Unable to prosecute suspect": 15,
        "Investigation complete; no suspect identified": 10,
        "Offender given penalty notice": 5,
        "Status update unavailable": 5,
        UNDER_INVESTIGATION: 10,
    },
    "Shoplifting": {
        "Investigation complete; no suspect identified": 40,
        "Court result unavailable": 15,
        "Unable to prosecute suspect": 12,
        "Offender given a caution": 8,
        "Local resolution": 8,
        "Status update unavailable": 7,
        "Offender fined": 3,
        "Offender given conditional discharge": 2,
        UNDER_INVESTIGATION: 5,
    },
    "Possession of weapons": {
        "Court result unavailable": 25,
        "Unable to prosecute suspect": 20,
        "Awaiting court outcome": 12,
        "Offender given a caution": 8,
        "Offender sent to prison": 8,
        "Offender given suspended prison sentence": 5,
        "Investigation complete; no suspect identified": 10,
        "Status update unavailable": 4,
        UNDER_INVESTIGATION: 8,
    },
}
RECENT_UNDER_INVESTIGATION = (0.60, 0.60)  # p(last month), decay per month further back

# Four illustrative detached-outreach patrol areas: what they are drawn around.
PATROL_AREAS = [
    ("St James Street Corridor", "corridor", 130.0),  # half-width around the corridor line
    ("Central Square Outreach", "town_centre", 560.0),  # radius around the hotspot centre
    ("Harrowgate Station Approach", "station", 320.0),
    ("Brookmead Park Outreach", "park", 480.0),
]

_PLACE_TYPES = {label for label, _ in BACKGROUND_POIS} | {
    label for spec in HOTSPOTS for label, _ in spec.extra_points if label
}

# --------------------------------------------------------------------------------------------
# Random numbers: only Random.random(), whose sequence is stable across Python versions
# --------------------------------------------------------------------------------------------


class _Rng:
    """Uniform, normal, Poisson and weighted draws built on ``random.Random.random()``."""

    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)

    def uniform(self, low: float, high: float) -> float:
        """A uniform draw in [low, high)."""
        return low + (high - low) * self._r.random()

    def normal(self) -> float:
        """A standard normal draw (Box-Muller)."""
        u1 = 1.0 - self._r.random()  # (0, 1]
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * self._r.random())

    def poisson(self, lam: float) -> int:
        """A Poisson draw (Knuth below 30, rounded normal approximation above)."""
        if lam <= 0:
            return 0
        if lam < 30:
            limit, k, p = math.exp(-lam), 0, self._r.random()
            while p > limit:
                k += 1
                p *= self._r.random()
            return k
        return max(0, round(lam + math.sqrt(lam) * self.normal()))

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self._r.random() < p

    def pick(self, cumulative: Sequence[float]) -> int:
        """An index drawn with the weights whose running sums are ``cumulative``."""
        return bisect.bisect_right(cumulative, self._r.random() * cumulative[-1])


def _cumulative(weights: Sequence[float]) -> list[float]:
    """Running sums of weights, for :meth:`_Rng.pick`."""
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# --------------------------------------------------------------------------------------------
# Plane geometry (local metres)
# --------------------------------------------------------------------------------------------


def _lonlat(p: Point) -> Point:
    """Local-plane metres to (longitude, latitude)."""
    return ORIGIN[0] + p[0] / M_PER_DEG_LON, ORIGIN[1] + p[1] / M_PER_DEG_LAT


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    """Distance in metres from p to the segment ab."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)
    t = min(1.0, max(0.0, t))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _line_distance(p: Point, line: Sequence[Point]) -> float:
    """Distance in metres from p to a polyline."""
    return min(_segment_distance(p, a, b) for a, b in itertools.pairwise(line))


def _inside(p: Point, ring: Sequence[Point]) -> bool:
    """Ray casting point-in-polygon (ring not closed)."""
    x, y = p
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _signed_area(ring: Sequence[Point]) -> float:
    """Shoelace area: positive for a counter-clockwise ring."""
    return 0.5 * sum(
        ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1] for i in range(len(ring))
    )


def _along(line: Sequence[Point], spacing: float) -> list[Point]:
    """Points every ``spacing`` metres along a polyline, starting half a step in."""
    out: list[Point] = []
    offset = spacing / 2
    for a, b in itertools.pairwise(line):
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        d = offset
        while d < length:
            t = d / length
            out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
            d += spacing
        offset = d - length
    return out


class _PointIndex:
    """A hash grid of points for 'anything within r metres?' questions."""

    def __init__(self, cell: float = 100.0) -> None:
        self._cell = cell
        self._grid: dict[tuple[int, int], list[Point]] = {}

    def add(self, p: Point) -> None:
        key = (math.floor(p[0] / self._cell), math.floor(p[1] / self._cell))
        self._grid.setdefault(key, []).append(p)

    def near(self, p: Point, r: float) -> bool:
        cx, cy = math.floor(p[0] / self._cell), math.floor(p[1] / self._cell)
        reach = math.ceil(r / self._cell)
        for i in range(cx - reach, cx + reach + 1):
            for j in range(cy - reach, cy + reach + 1):
                for q in self._grid.get((i, j), ()):
                    if math.hypot(p[0] - q[0], p[1] - q[1]) < r:
                        return True
        return False


# --------------------------------------------------------------------------------------------
# Step 1: lattice, LSOA cells, wards and the borough outline
# --------------------------------------------------------------------------------------------


@dataclass
class Lattice:
    """The jittered lattice: vertices, bent cell sides, and the cells in the borough."""

    vertices: dict[tuple[int, int], Point]
    midpoints: dict[tuple[tuple[int, int], tuple[int, int]], Point]
    cells: dict[tuple[int, int], str]  # (col, row from south) -> ward letter
    lsoas: list[Lsoa] = field(default_factory=list)


@dataclass(frozen=True)
class Lsoa:
    """One LSOA: a lattice cell with a synthetic code, name, ward and population."""

    cell: tuple[int, int]
    code: str
    name: str
    ward: str
    population: int
    ring: tuple[Point, ...]


def _build_lattice(rng: _Rng) -> Lattice:
    """Jitter the lattice vertices, bend the cell sides, number the LSOAs."""
    rows, cols = len(BOROUGH_MAP), len(BOROUGH_MAP[0])
    vertices = {
        (i, j): (
            i * CELL_W + rng.uniform(-1, 1) * LATTICE_JITTER * CELL_W,
            j * CELL_H + rng.uniform(-1, 1) * LATTICE_JITTER * CELL_H,
        )
        for j in range(rows + 1)
        for i in range(cols + 1)
    }
    midpoints: dict[tuple[tuple[int, int], tuple[int, int]], Point] = {}
    for (i, j), (x, y) in sorted(vertices.items()):
        for end in ((i + 1, j), (i, j + 1)):
            if end not in vertices:
                continue
            ex, ey = vertices[end]
            length = math.hypot(ex - x, ey - y)
            nx, ny = -(ey - y) / length, (ex - x) / length  # unit normal
            bend = rng.uniform(-1, 1) * EDGE_BEND * min(CELL_W, CELL_H)
            midpoints[((i, j), end)] = ((x + ex) / 2 + bend * nx, (y + ey) / 2 + bend * ny)
    cells = {
        (c, rows - 1 - r): letter
        for r, line in enumerate(BOROUGH_MAP)
        for c, letter in enumerate(line)
        if letter != "."
    }
    lattice = Lattice(vertices, midpoints, cells)
    lattice.lsoas = _number_lsoas(rng, lattice)
    return lattice


def _side(lattice: Lattice, a: tuple[int, int], b: tuple[int, int]) -> list[Point]:
    """A directed cell side from vertex a to b: [a, bent midpoint] (b starts the next side)."""
    key = (a, b) if (a, b) in lattice.midpoints else (b, a)
    return [lattice.vertices[a], lattice.midpoints[key]]


def _cell_sides(c: int, r: int) -> list[tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]:
    """The four sides of a cell, counter-clockwise, each with the neighbour across it."""
    return [
        ((c, r), (c + 1, r), (c, r - 1)),
        ((c + 1, r), (c + 1, r + 1), (c + 1, r)),
        ((c + 1, r + 1), (c, r + 1), (c, r + 1)),
        ((c, r + 1), (c, r), (c - 1, r)),
    ]


def _cell_ring(lattice: Lattice, cell: tuple[int, int]) -> tuple[Point, ...]:
    """The counter-clockwise ring of one lattice cell (8 points)."""
    ring: list[Point] = []
    for a, b, _ in _cell_sides(*cell):
        ring += _side(lattice, a, b)
    return tuple(ring)


def _outline(lattice: Lattice, cells: set[tuple[int, int]]) -> list[Point]:
    """The counter-clockwise outline of a set of cells (one ring: no holes, no pinch points)."""
    nxt: dict[tuple[int, int], tuple[int, int]] = {}
    for cell in sorted(cells):
        for a, b, neighbour in _cell_sides(*cell):
            if neighbour not in cells:
                if a in nxt:
                    raise ValueError(f"cells {sorted(cells)} touch only at a corner")
                nxt[a] = b
    start = min(nxt)
    ring, v = [], start
    while True:
        ring += _side(lattice, v, nxt[v])
        v = nxt[v]
        if v == start:
            break
    if len(ring) != 2 * len(nxt):
        raise ValueError(f"cells {sorted(cells)} do not form one region without holes")
    return ring


def _number_lsoas(rng: _Rng, lattice: Lattice) -> list[Lsoa]:
    """Codes E01999001.. and names 'Demo Borough 001A'.., ward by ward, north to south."""
    lsoas: list[Lsoa] = []
    for w, letter in enumerate(sorted(WARD_NAMES)):
        ward_cells = sorted(
            (cell for cell, ward in lattice.cells.items() if ward == letter),
            key=lambda cell: (-cell[1], cell[0]),
        )
        for k, cell in enumerate(ward_cells):
            lsoas.append(
                Lsoa(
                    cell=cell,
                    code=f"E01999{len(lsoas) + 1:03d}",
                    name=f"{BOROUGH} {w + 1:03d}{chr(ord('A') + k)}",
                    ward=letter,
                    population=round(rng.uniform(*LSOA_POPULATION)),
                    ring=_cell_ring(lattice, cell),
                )
            )
    return lsoas


def _lsoa_of(lattice: Lattice, p: Point) -> Lsoa | None:
    """The LSOA containing p (checking the cells around p's unjittered cell), or None."""
    c0, r0 = math.floor(p[0] / CELL_W), math.floor(p[1] / CELL_H)
    for lsoa in lattice.lsoas:
        c, r = lsoa.cell
        if abs(c - c0) <= 1 and abs(r - r0) <= 1 and _inside(p, lsoa.ring):
            return lsoa
    return None


# --------------------------------------------------------------------------------------------
# Step 2: streets and anonymous map points
# --------------------------------------------------------------------------------------------


@dataclass
class MapPoint:
    """An anonymous map point: where incidents are snapped, with its published location."""

    xy: Point
    location: str  # "On or near ..."
    lsoa: Lsoa
    weight: float  # relative background rate
    corridor_m: float  # distance to the corridor line


def _street_names(rng: _Rng) -> Callable[[], str]:
    """A supply of distinct invented street names."""
    used = {name for name, _, _ in HIGH_STREETS}
    suffixes = [s for s, _ in NAME_SUFFIXES]
    suffix_cum = _cumulative([w for _, w in NAME_SUFFIXES])

    def draw() -> str:
        while True:
            stem = NAME_STEMS[int(rng.uniform(0, len(NAME_STEMS)))]
            name = f"{stem} {suffixes[rng.pick(suffix_cum)]}"
            if name not in used:
                used.add(name)
                return name

    return draw


def _grid_streets(rng: _Rng) -> list[tuple[str, list[Point]]]:
    """Jittered east-west and north-south lines, cut into named streets with map points."""
    new_name = _street_names(rng)
    width, height = len(BOROUGH_MAP[0]) * CELL_W, len(BOROUGH_MAP) * CELL_H
    streets = []
    for direction in ("ew", "ns"):
        gap, jitter = GRID_SPACING[direction]
        across, along = (height, width) if direction == "ew" else (width, height)
        offset = -300.0 + rng.uniform(0, gap)
        while offset < across + 300:
            tilt, wave = rng.uniform(-0.04, 0.04), rng.uniform(0, 25)
            phase = rng.uniform(0, 2 * math.pi)
            start = -400.0
            while start < along + 400:
                length = rng.uniform(*STREET_LENGTH_M)
                if not rng.chance(STREET_GAP_SHARE):
                    name, points = new_name(), []
                    s = start + rng.uniform(20, 60)
                    while s < start + length:
                        side = offset + tilt * s + wave * math.sin(s / 700 + phase)
                        side += rng.uniform(-8, 8)
                        points.append((s, side) if direction == "ew" else (side, s))
                        s += rng.uniform(*POINT_SPACING_M)
                    streets.append((name, points))
                start += length
            offset += gap + rng.uniform(-jitter, jitter)
    return streets


class _MapPointBuilder:
    """Lays the map points in a fixed order (the random draws depend on it)."""

    def __init__(self, rng: _Rng, lattice: Lattice) -> None:
        self.rng = rng
        self.lattice = lattice
        self.points: list[MapPoint] = []
        self.index = _PointIndex()
        self.high_index = _PointIndex()
        self.street_points: list[tuple[Point, str]] = []

    def add(self, p: Point, location: str, weight: float) -> bool:
        lsoa = _lsoa_of(self.lattice, p)
        corridor_m = _line_distance(p, CORRIDOR_LINE)
        if lsoa is None or CORRIDOR_CLEAR_M[0] <= corridor_m < CORRIDOR_CLEAR_M[1]:
            return False
        self.points.append(MapPoint(p, f"On or near {location}", lsoa, weight, corridor_m))
        self.index.add(p)
        return True

    def high_streets(self) -> None:
        rng = self.rng
        for name, line, spacing in HIGH_STREETS:
            for x, y in _along(line, spacing):
                p = (x + rng.uniform(-6, 6), y + rng.uniform(-6, 6))
                if (
                    name != CORRIDOR_STREET
                    and _line_distance(p, CORRIDOR_LINE) < CORRIDOR_CLEAR_M[1]
                ):
                    continue  # St James Street owns the corridor
                if self.add(p, name, 2.0 * math.exp(0.8 * rng.normal())):
                    self.high_index.add(p)
                    self.street_points.append((p, name))

    def grid_streets(self) -> None:
        for name, line in _grid_streets(self.rng):
            for p in line:
                weight = math.exp(0.8 * self.rng.normal())
                if self.high_index.near(p, HIGH_STREET_CLEAR_M) or self.index.near(
                    p, MIN_POINT_GAP_M
                ):
                    continue
                if self.add(p, name, weight):
                    self.street_points.append((p, name))

    def nearest_street(self, p: Point) -> str:
        return min(self.street_points, key=lambda sp: math.hypot(p[0] - sp[0][0], p[1] - sp[0][1]))[
            1
        ]

    def scatter(self, centre: Point, sigma: float, labels: Sequence[tuple[str, int]]) -> None:
        rng = self.rng
        for label, n in labels:
            for _ in range(n):
                p = (centre[0] + sigma * rng.normal(), centre[1] + sigma * rng.normal())
                self.add(p, label or self.nearest_street(p), 3.0 * math.exp(0.8 * rng.normal()))

    def background(self) -> None:
        width, height = len(BOROUGH_MAP[0]) * CELL_W, len(BOROUGH_MAP) * CELL_H
        for label, n in BACKGROUND_POIS:
            for _ in range(n):
                p = (self.rng.uniform(0, width), self.rng.uniform(0, height))
                self.add(p, label, 3.0 * math.exp(0.8 * self.rng.normal()))


def _build_map_points(rng: _Rng, lattice: Lattice) -> list[MapPoint]:
    """Through-road points, then grid points (thinned), then hotspot and background POIs."""
    builder = _MapPointBuilder(rng, lattice)
    builder.high_streets()
    builder.grid_streets()
    for spec in HOTSPOTS:
        builder.scatter(spec.centre, spec.sigma_m, spec.extra_points)
    middle = CORRIDOR_LINE[len(CORRIDOR_LINE) // 2]
    builder.scatter(middle, 15.0, CORRIDOR_EXTRA_POINTS)
    builder.background()
    return builder.points


# --------------------------------------------------------------------------------------------
# Step 3: incidents, month by month
# --------------------------------------------------------------------------------------------


@dataclass
class Component:
    """A source of incidents: monthly rate, crime mix, and where its incidents land."""

    key: str
    monthly: float
    mix: dict[str, float]
    cumulative: list[float]  # over map point indices in `members`
    members: list[int]
    no_location_share: float = 0.0


def _background_mix() -> tuple[float, dict[str, float]]:
    """The background rate and mix that bring the whole borough to CRIME_SHARES."""
    planted = {t: 0.0 for t in CRIME_TYPES}
    sources = [(s.monthly, s.mix) for s in HOTSPOTS] + [(CORRIDOR_MONTHLY, CORRIDOR_MIX)]
    for monthly, mix in sources:
        for t, share in mix.items():
            planted[t] += monthly * share
    rest = {t: INCIDENTS_PER_MONTH * CRIME_SHARES[t] - planted[t] for t in CRIME_TYPES}
    if min(rest.values()) <= 0:
        raise ValueError("planted hotspots exceed a crime type's borough-wide share")
    total = sum(rest.values())
    return total, {t: v / total for t, v in rest.items()}


def _components(points: list[MapPoint]) -> list[Component]:
    """The background, each planted hotspot and the corridor, with their map points."""
    comps = []
    monthly, mix = _background_mix()
    every = list(range(len(points)))
    comps.append(
        Component(
            "background",
            monthly,
            mix,
            _cumulative([p.weight for p in points]),
            every,
            NO_LOCATION_SHARE,
        )
    )
    for spec in HOTSPOTS:
        cx, cy = spec.centre
        members, weights = [], []
        for k, p in enumerate(points):
            d2 = (p.xy[0] - cx) ** 2 + (p.xy[1] - cy) ** 2
            if d2 < (3 * spec.sigma_m) ** 2:
                members.append(k)
                weights.append(math.exp(-d2 / (2 * spec.sigma_m**2)))
        comps.append(Component(spec.key, spec.monthly, spec.mix, _cumulative(weights), members))
    corridor = [k for k, p in enumerate(points) if p.corridor_m < CORRIDOR_WIDTH_M]
    comps.append(
        Component(
            "corridor", CORRIDOR_MONTHLY, CORRIDOR_MIX, _cumulative([1.0] * len(corridor)), corridor
        )
    )
    return comps


def _seasonal(crime_type: str, month: str) -> float:
    """The seasonal multiplier of a crime type in a month."""
    amplitude = SEASONAL_AMPLITUDE.get(crime_type, DEFAULT_SEASONAL_AMPLITUDE)
    return 1.0 + amplitude * math.cos(2 * math.pi * (int(month[5:]) - 7) / 12)


def _corridor_multiplier(month: str) -> float:
    """Share of corridor violence kept in ``month`` (1 before the operation)."""
    if month < OPERATION[0]:
        return 1.0
    if month <= OPERATION[1]:
        return DURING_MULTIPLIERS[MONTHS.index(month) - MONTHS.index(OPERATION[0])]
    return AFTER_MULTIPLIER


def _outcome(rng: _Rng, crime_type: str, months_to_end: int) -> str:
    """A Last outcome category: recent months are mostly still under investigation."""
    if crime_type == ASB:
        return ""
    p0, decay = RECENT_UNDER_INVESTIGATION
    if rng.chance(p0 * decay**months_to_end):
        return UNDER_INVESTIGATION
    table = OUTCOMES_BY_TYPE.get(crime_type, OUTCOMES_DEFAULT)
    labels = list(table)
    return labels[rng.pick(_cumulative([table[k] for k in labels]))]


def _month_rows(
    rng: _Rng, month: str, points: list[MapPoint], comps: list[Component]
) -> list[tuple[int | None, str, str]]:
    """(map point index or None, crime type, outcome) for every incident of one month."""
    rows: list[tuple[int | None, str, str]] = []
    keep = _corridor_multiplier(month)
    months_to_end = len(MONTHS) - 1 - MONTHS.index(month)
    for comp in comps:
        for crime_type in CRIME_TYPES:
            lam = comp.monthly * comp.mix.get(crime_type, 0.0) * _seasonal(crime_type, month)
            for _ in range(rng.poisson(lam)):
                k: int | None = comp.members[rng.pick(comp.cumulative)]
                if comp.no_location_share and rng.chance(comp.no_location_share):
                    k = None
                in_corridor = k is not None and points[k].corridor_m < CORRIDOR_WIDTH_M
                if in_corridor and crime_type in VIOLENCE_TYPES and not rng.chance(keep):
                    continue
                rows.append((k, crime_type, _outcome(rng, crime_type, months_to_end)))
    return rows


def _month_csv(
    month: str, rows: list[tuple[int | None, str, str]], points: list[MapPoint], ids: list[int]
) -> bytes:
    """One month's CSV, ordered like the published files: by LSOA, crime type; no location last."""

    def order(row: tuple[int | None, str, str]) -> tuple[int, str, str]:
        k, crime_type, _ = row
        return (1, "", crime_type) if k is None else (0, points[k].lsoa.code, crime_type)

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for k, crime_type, outcome in sorted(rows, key=order):  # stable: ties keep draw order
        crime_id = ""
        if crime_type != ASB:
            ids[0] += 1
            crime_id = hashlib.sha256(f"{BOROUGH}:{SEED}:{ids[0]}".encode()).hexdigest()
        if k is None:
            place = ["", "", "No Location", "", ""]
        else:
            p = points[k]
            lon, lat = _lonlat(p.xy)
            place = [f"{lon:.6f}", f"{lat:.6f}", p.location, p.lsoa.code, p.lsoa.name]
        writer.writerow([crime_id, month, FORCE, FORCE, *place, crime_type, outcome, ""])
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------------
# Step 4: layers (wards, borough, patrol areas) as GeoJSON
# --------------------------------------------------------------------------------------------


def _ring_lonlat(ring: Sequence[Point]) -> list[list[float]]:
    """A closed counter-clockwise lon/lat ring rounded to 6 decimals (RFC 7946)."""
    if _signed_area(ring) < 0:
        ring = list(reversed(ring))
    out = [[round(v, 6) for v in _lonlat(p)] for p in ring]
    return [*out, out[0]]


def _feature(properties: dict[str, object], ring: Sequence[Point]) -> dict[str, object]:
    """A GeoJSON Polygon feature from a local-plane ring."""
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [_ring_lonlat(ring)]},
    }


def _geojson(name: str, features: list[dict[str, object]]) -> bytes:
    """A FeatureCollection, one feature per line (like GDAL), EPSG:4326 / CRS84."""
    head = {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    }
    text = json.dumps(head)[:-1] + ', "features": [\n'
    text += ",\n".join(json.dumps(f) for f in features)
    return (text + "\n]}\n").encode("utf-8")


def _wards(lattice: Lattice) -> list[dict[str, object]]:
    """One feature per ward: the outline of its LSOA cells."""
    features = []
    for w, letter in enumerate(sorted(WARD_NAMES)):
        lsoas = [s for s in lattice.lsoas if s.ward == letter]
        props: dict[str, object] = {
            "ward_code": f"E05999{w + 1:03d}",
            "ward_name": WARD_NAMES[letter],
            "population": sum(s.population for s in lsoas),
            "note": "Illustrative, not official boundaries",
        }
        features.append(_feature(props, _outline(lattice, {s.cell for s in lsoas})))
    return features


def _star(rng: _Rng, centre: Point, radius: float, n: int = 14) -> list[Point]:
    """An irregular star-shaped (so always valid) polygon around a centre."""
    ring = []
    for k in range(n):
        a = 2 * math.pi * k / n
        r = radius * rng.uniform(0.85, 1.1)
        ring.append((centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)))
    return ring


def _corridor_box(half_width: float, overhang: float) -> list[Point]:
    """A rectangle around the corridor line, overhanging both ends."""
    (ax, ay), (bx, by) = CORRIDOR_LINE[0], CORRIDOR_LINE[-1]
    length = math.hypot(bx - ax, by - ay)
    ux, uy = (bx - ax) / length, (by - ay) / length
    nx, ny = -uy, ux
    a = (ax - overhang * ux, ay - overhang * uy)
    b = (bx + overhang * ux, by + overhang * uy)
    return [
        (a[0] - half_width * nx, a[1] - half_width * ny),
        (b[0] - half_width * nx, b[1] - half_width * ny),
        (b[0] + half_width * nx, b[1] + half_width * ny),
        (a[0] + half_width * nx, a[1] + half_width * ny),
    ]


def _patrol_areas(rng: _Rng) -> tuple[list[dict[str, object]], list[list[Point]]]:
    """The patrol area features, and their local-plane rings for truth.json."""
    by_key = {s.key: s for s in HOTSPOTS}
    features, rings = [], []
    for name, target, size in PATROL_AREAS:
        if target == "corridor":
            ring = _corridor_box(size, 150.0)
        else:
            ring = _star(rng, by_key[target].centre, size)
        rings.append(ring)
        features.append(_feature({"name": name, "note": "Illustrative demo patrol area"}, ring))
    return features, rings


# --------------------------------------------------------------------------------------------
# Step 5: the planted truth, the README, and writing everything
# --------------------------------------------------------------------------------------------


def _lonlat6(p: Point) -> list[float]:
    """Local-plane metres to [lon, lat] rounded to 6 decimals."""
    return [round(v, 6) for v in _lonlat(p)]


def _observed(
    month_rows: dict[str, list[tuple[int | None, str, str]]], points: list[MapPoint]
) -> dict[str, object]:
    """Violence per month in the corridor, the buffer and elsewhere, before and after."""

    def zone(k: int | None) -> str:
        if k is None:
            return "none"
        d = points[k].corridor_m
        return "corridor" if d < CORRIDOR_WIDTH_M else "buffer" if d < BUFFER_OUTER_M else "rest"

    before = [m for m in MONTHS if m < OPERATION[0]]
    after = [m for m in MONTHS if m > OPERATION[1]]
    out: dict[str, object] = {}
    for name in ("corridor", "buffer", "rest"):
        per = {
            label: sum(
                1
                for m in span
                for k, t, _ in month_rows[m]
                if t in VIOLENCE_TYPES and zone(k) == name
            )
            / len(span)
            for label, span in (("before", before), ("after", after))
        }
        out[name] = {
            "violence_per_month_before": round(per["before"], 2),
            "violence_per_month_after": round(per["after"], 2),
            "ratio_after_vs_before": round(per["after"] / per["before"], 4),
        }
    return out


def _truth(
    lattice: Lattice,
    points: list[MapPoint],
    month_rows: dict[str, list[tuple[int | None, str, str]]],
    patrol_rings: list[list[Point]],
) -> dict[str, object]:
    """The planted truth and the figures of what was written (truth.json)."""
    covered: dict[str, str | None] = {}
    for spec in HOTSPOTS:
        covered[spec.key] = next(
            (
                name
                for (name, _, _), ring in zip(PATROL_AREAS, patrol_rings, strict=True)
                if _inside(spec.centre, ring)
            ),
            None,
        )
    locations = {p.location for p in points}
    streets = {loc for loc in locations if loc.removeprefix("On or near ") not in _PLACE_TYPES}
    n_rows = sum(len(r) for r in month_rows.values())
    n_none = sum(1 for r in month_rows.values() for k, _, _ in r if k is None)
    used = {k for r in month_rows.values() for k, _, _ in r if k is not None}
    before = [MONTHS[0], MONTHS[MONTHS.index(OPERATION[0]) - 1]]
    after = [MONTHS[MONTHS.index(OPERATION[1]) + 1], MONTHS[-1]]
    return {
        "synthetic": True,
        "note": "Planted truth of the synthetic Demo Borough; not real crime data.",
        "generator": "python -m geodata.make_sample",
        "seed": SEED,
        "months": {"first": MONTHS[0], "last": MONTHS[-1], "count": len(MONTHS)},
        "local_plane": {
            "origin_lonlat": list(ORIGIN),
            "metres_per_degree_lon": M_PER_DEG_LON,
            "metres_per_degree_lat": M_PER_DEG_LAT,
        },
        "hotspots": [
            {
                "key": s.key,
                "name": s.name,
                "kind": s.kind,
                "centre_lonlat": _lonlat6(s.centre),
                "sigma_m": s.sigma_m,
                "incidents_per_month": s.monthly,
                "crime_mix": s.mix,
                "patrol_area": covered[s.key],
            }
            for s in HOTSPOTS
        ],
        "corridor": {
            "street": CORRIDOR_STREET,
            "line_lonlat": [_lonlat6(p) for p in CORRIDOR_LINE],
            "length_m": round(
                sum(math.dist(a, b) for a, b in itertools.pairwise(CORRIDOR_LINE)),
                1,
            ),
            "width_m": CORRIDOR_WIDTH_M,
            "incidents_per_month": CORRIDOR_MONTHLY,
            "crime_mix": CORRIDOR_MIX,
            "violence_types": VIOLENCE_TYPES,
            "operation": {"first": OPERATION[0], "last": OPERATION[1]},
            "periods": {"before": before, "during": list(OPERATION), "after": after},
            "planted_effect": {
                "applies_to": "violence_types at every map point within width_m of the line",
                "multiplier_during": DURING_MULTIPLIERS,
                "multiplier_after": AFTER_MULTIPLIER,
                "change_after_vs_before_pct": round(100 * (AFTER_MULTIPLIER - 1)),
            },
            "buffer": {
                "inner_m": CORRIDOR_WIDTH_M,
                "outer_m": BUFFER_OUTER_M,
                "planted_change_pct": 0,
                "note": "No displacement and no diffusion of benefit planted.",
            },
            "elsewhere_planted_change_pct": 0,
            "patrol_area": next(
                (
                    name
                    for (name, _, _), ring in zip(PATROL_AREAS, patrol_rings, strict=True)
                    if all(_inside(p, ring) for p in CORRIDOR_LINE)
                ),
                None,
            ),
            "observed": _observed(month_rows, points),
        },
        "patrol_areas": {
            "covered_hotspots": [k for k, v in covered.items() if v],
            "uncovered_hotspots": [k for k, v in covered.items() if not v],
        },
        "figures": {
            "rows": n_rows,
            "rows_per_month_mean": round(n_rows / len(MONTHS), 1),
            "rows_without_coordinates": n_none,
            "map_points": len(points),
            "map_points_used": len(used),
            "streets": len(streets),
            "place_types": len(locations - streets),
            "lsoas": len(lattice.lsoas),
            "wards": len(WARD_NAMES),
        },
    }


def _readme(truth: dict[str, Any], zip_size: int) -> bytes:
    """The sample folder's README.md, with the figures filled in."""
    figures, corridor = truth["figures"], truth["corridor"]
    hotspot_rows = "\n".join(
        f"| {h['name']} | {h['kind']} | {h['incidents_per_month']:g} | {h['sigma_m']:g} | "
        f"{h['patrol_area'] or 'none'} |"
        for h in truth["hotspots"]
    )
    zone_names = {
        "corridor": f"corridor (< {CORRIDOR_WIDTH_M:g} m)",
        "buffer": f"buffer ({CORRIDOR_WIDTH_M:g}-{BUFFER_OUTER_M:g} m)",
        "rest": "rest of the borough",
    }
    zone_rows = "\n".join(
        f"| {label} | {z['violence_per_month_before']:.1f} | {z['violence_per_month_after']:.1f} "
        f"| {100 * (z['ratio_after_vs_before'] - 1):+.0f}% |"
        for key, label in zone_names.items()
        for z in [corridor["observed"][key]]
    )
    periods = corridor["periods"]
    text = f"""# Demo Borough: SYNTHETIC sample data

**Everything in this folder is synthetic.** No row is a real crime. "{BOROUGH}" is invented. It
is placed in real coordinates around Walthamstow, north-east London (longitude about -0.06 to
0.03, latitude 51.55 to 51.65), only so that British National Grid applies and base-map tiles
line up. **Its streets do not match the real streets there**: the layout is a procedurally
generated jittered grid plus a few through roads, and every street name is invented except
"{CORRIDOR_STREET}", named after the 2018 Walthamstow pilot this sample models. LSOA codes
(E01999xxx) and ward codes (E05999xxx) are deliberately invalid, and all boundaries are
illustrative.

Generated, byte-identically on every run, by

    python -m geodata.make_sample [--out geodata/sample]

(seed {SEED}; the only randomness is `random.Random(seed).random()`; fixed zip timestamps).

## Files

| File | Contents |
|---|---|
| `{ZIP_NAME}` | {len(MONTHS)} monthly data.police.uk "street" CSVs, {MONTHS[0]} to \
{MONTHS[-1]}, members `YYYY-MM/YYYY-MM-{MEMBER_SUFFIX}`, columns exactly as published \
({zip_size:,} bytes) |
| `demo_wards.geojson` | {figures["wards"]} illustrative wards tiling the borough (EPSG:4326): \
`ward_code`, `ward_name`, `population`, `note` |
| `demo_patrol_areas.geojson` | {len(PATROL_AREAS)} illustrative detached-outreach patrol areas \
(EPSG:4326): `name`, `note` |
| `demo_borough.geojson` | the borough outline (the union of the wards), EPSG:4326 |
| `truth.json` | the planted truth: hotspots, corridor, operation, effect, observed figures |

## Figures

- {figures["rows"]:,} incidents, {figures["rows_per_month_mean"]:,.0f} a month on average \
(mild seasonality), all 14 crime types.
- Anti-social behaviour rows have an empty Crime ID and outcome, as published; other Crime IDs \
are 64 hex characters (sha256 of the seed and a counter), unique.
- {figures["map_points"]:,} anonymous map points ("On or near ...", \
{figures["map_points_used"]:,} of them with incidents) on {figures["streets"]:,} \
invented streets and {figures["place_types"]} police.uk place types ("Supermarket", \
"Parking Area", ...); {figures["lsoas"]} synthetic LSOAs (lattice cells) in \
{figures["wards"]} wards.
- {figures["rows_without_coordinates"]:,} rows have no coordinates (empty Longitude/Latitude, \
"No Location"), as in the real files.

## What is planted

A diffuse background everywhere (each map point with its own rate), plus these hotspots
(incidents spread as a Gaussian around a centre):

| Hotspot | Kind | Incidents a month | Sigma (m) | Patrol area |
|---|---|---|---|---|
{hotspot_rows}

and the **{CORRIDOR_STREET} corridor**: a linear hotspot {corridor["length_m"]:g} m along one \
street, {CORRIDOR_MONTHLY:g} incidents a month, violence and weapons heavy. An operation runs \
{OPERATION[0]} to {OPERATION[1]}. During it, violence ({", ".join(VIOLENCE_TYPES)}) at map \
points within {CORRIDOR_WIDTH_M:g} m of the street line falls step by step \
and, from {periods["after"][0]}, stays {round(100 * (1 - AFTER_MULTIPLIER))}% below \
its earlier level. \
Nothing changes elsewhere, and nothing is displaced into the surrounding buffer.

Violence a month as found in the files ({periods["before"][0]} to {periods["before"][1]} \
against {periods["after"][0]} to {periods["after"][1]}; the buffer's change is noise on \
a few incidents a month, nothing is planted there):

| Zone | Before | After | Change |
|---|---|---|---|
{zone_rows}

## Licence

Generated by this project's code and distributed under the project's licence (MIT). It
contains no data from data.police.uk, ONS or Ordnance Survey; it only imitates the
data.police.uk file format (published under the Open Government Licence v3.0).
"""
    return text.encode("utf-8")


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    """A deflated zip with fixed timestamps and attributes (byte-stable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def generate(out: Path) -> dict[str, int]:
    """Write every sample file into ``out`` and return their sizes in bytes.

    Parameters
    ----------
    out : Path
        Destination folder (created if missing).

    Returns
    -------
    dict of str to int
        File name -> size in bytes.
    """
    rng = _Rng(SEED)
    lattice = _build_lattice(rng)
    points = _build_map_points(rng, lattice)
    comps = _components(points)
    month_rows = {m: _month_rows(rng, m, points, comps) for m in MONTHS}
    ids = [0]
    members = [
        (f"{m}/{m}-{MEMBER_SUFFIX}", _month_csv(m, month_rows[m], points, ids)) for m in MONTHS
    ]
    patrol_features, patrol_rings = _patrol_areas(rng)
    borough_ring = _outline(lattice, set(lattice.cells))
    files = {
        ZIP_NAME: _zip(members),
        "demo_wards.geojson": _geojson("demo_wards", _wards(lattice)),
        "demo_patrol_areas.geojson": _geojson("demo_patrol_areas", patrol_features),
        "demo_borough.geojson": _geojson(
            "demo_borough",
            [_feature({"name": BOROUGH, "note": "Synthetic demo borough"}, borough_ring)],
        ),
    }
    truth = _truth(lattice, points, month_rows, patrol_rings)
    files["truth.json"] = (json.dumps(truth, indent=2) + "\n").encode("utf-8")
    files["README.md"] = _readme(truth, len(files[ZIP_NAME]))
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return {name: len(data) for name, data in files.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m geodata.make_sample [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    for name, size in generate(args.out).items():
        print(f"{args.out / name}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
