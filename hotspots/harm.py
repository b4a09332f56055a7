"""Harm weights per data.police.uk crime type, so hotspots can be ranked by harm, not volume.

The built-in table (:data:`DEFAULT_HARM_WEIGHTS`) gives each of the 14 published crime types a
relative severity modelled on the ONS **Crime Severity Score** (CSS): Office for National
Statistics, "Crime Severity Score (Experimental Statistics)", first published 29 November 2016,
https://www.ons.gov.uk/peoplepopulationandcommunity/crimeandjustice/datasets/crimeseverityscoreexperimentalstatistics
(method: "Research outputs: Developing a Crime Severity Score for England and Wales using data on
crimes recorded by the police", ONS 2016). The CSS weights each *notifiable offence code* by the
average sentence it attracts (days of custody equivalent; e.g. homicide about 7,800, possession
of cannabis 3).

**These are not ONS figures.** data.police.uk publishes 14 broad groups, each holding many
offence codes of very different severity, so the table holds approximate, rounded group-level
averages of the offence weights (weighted by how often each offence is recorded), derived by this
project as an illustration of relative harm. They were not recomputed from the ONS file for this
release: check them against the current ONS weights, and, better, **replace them with your own
table** (a CSV with columns ``crime_type, weight``; see :func:`harm_weights`). Anti-social
behaviour is not a notifiable offence and has no CSS weight; it gets a nominal 1, below every
crime group.

:func:`apply_harm_weights` sets an Incidents frame's ``weight`` column from a table; then
``find_hotspots(..., weighted=True)`` clusters with the weights as sample weights and ranks
hotspots by harm.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._files import check_readable
from ._text import decode_text, list_some
from ._validate import check_incidents
from .crime_types import CRIME_TYPE_SLUGS, CRIME_TYPES, crime_type_key
from .errors import InputFileError, ParameterError

__all__ = [
    "DEFAULT_HARM_WEIGHTS",
    "HARM_SOURCE",
    "HarmResult",
    "apply_harm_weights",
    "harm_weights",
    "parse_harm_weights",
]

log = logging.getLogger(__name__)

HARM_SOURCE = (
    "approximate group-level averages modelled on the ONS Crime Severity Score "
    "(https://www.ons.gov.uk/peoplepopulationandcommunity/crimeandjustice/datasets/"
    "crimeseverityscoreexperimentalstatistics, 2016); not ONS figures - replace with your own"
)

#: Relative harm per data.police.uk crime type (see the module docstring for what they are).
DEFAULT_HARM_WEIGHTS: dict[str, float] = {
    "Anti-social behaviour": 1.0,
    "Bicycle theft": 15.0,
    "Burglary": 300.0,
    "Criminal damage and arson": 30.0,
    "Drugs": 30.0,
    "Other theft": 20.0,
    "Possession of weapons": 200.0,
    "Public order": 25.0,
    "Robbery": 700.0,
    "Shoplifting": 10.0,
    "Theft from the person": 80.0,
    "Vehicle crime": 40.0,
    "Violence and sexual offences": 150.0,
    "Other crime": 60.0,
}


# published name and API slug (any case, "-", "_" or " " between words) -> published name
_CANONICAL: dict[str, str] = {crime_type_key(n): n for n in CRIME_TYPES}
_CANONICAL |= {
    crime_type_key(slug.replace("-", " ")): name
    for slug, name in CRIME_TYPE_SLUGS.items()
    if name in CRIME_TYPES
}


def _canonical(name: object) -> str | None:
    return _CANONICAL.get(crime_type_key(str(name)))


def _validate(table: Mapping[str, object], source: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    unknown: list[str] = []
    bad: list[str] = []
    repeated: list[str] = []
    for raw, value in table.items():
        name = _canonical(raw)
        if name is None:
            unknown.append(str(raw))
            continue
        if name in weights:
            repeated.append(name)
        try:
            w = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            w = math.nan
        if not math.isfinite(w) or w < 0:
            bad.append(f"{name}={value!r}")
            continue
        weights[name] = w
    missing = [n for n in CRIME_TYPES if n not in weights and all(n not in b for b in bad)]
    problems = []
    if unknown:
        problems.append(f"unknown crime types {list_some([repr(u[:40]) for u in unknown])}")
    if bad:
        problems.append(f"weights that are not numbers >= 0: {list_some(bad)}")
    if repeated:
        problems.append(f"crime types given twice: {list_some(repeated)}")
    if missing:
        problems.append(f"missing crime types {list_some([repr(m) for m in missing])}")
    if problems:
        raise ParameterError(
            f"{source}: {'; '.join(problems)}. Give one weight >= 0 for each of the 14 "
            "data.police.uk crime types (as in the README's harm table)."
        )
    if not any(w > 0 for w in weights.values()):
        raise ParameterError(
            f"{source}: every weight is 0, so no incident would count; give the crime types "
            "that matter a weight > 0."
        )
    return {n: weights[n] for n in CRIME_TYPES}


def harm_weights(path: str | Path | None = None) -> dict[str, float]:
    """The harm weight of each of the 14 data.police.uk crime types.

    Parameters
    ----------
    path
        None for the built-in table (:data:`DEFAULT_HARM_WEIGHTS`), or a CSV file with columns
        ``crime_type`` and ``weight``, one row per crime type (published names or API slugs,
        any case).

    Returns
    -------
    dict
        ``{published crime type: weight}`` in the published order.

    Raises
    ------
    InputFileError
        The file cannot be read or lacks the two columns.
    ParameterError
        Unknown, repeated or missing crime types, or weights that are negative or not numbers
        (all listed in one message).

    Examples
    --------
    >>> w = harm_weights()
    >>> len(w), w["Robbery"] > w["Shoplifting"]
    (14, True)
    """
    if path is None:
        return dict(DEFAULT_HARM_WEIGHTS)
    file = Path(path)
    check_readable(file, what="harm weights file (CSV)")
    try:
        text, _ = decode_text(file.read_bytes())
    except OSError as exc:
        raise InputFileError(
            f"{file}: cannot read the harm weights file ({exc.strerror or exc})."
        ) from None
    return parse_harm_weights(text, str(file))


def parse_harm_weights(text: str, name: str = "harm weights") -> dict[str, float]:
    """The harm weights in the CSV text ``text`` (an uploaded file), named ``name`` in errors.

    Same format and checks as :func:`harm_weights`: columns ``crime_type`` and ``weight``, one
    row per crime type; other columns (e.g. ``source``) are ignored.

    Examples
    --------
    >>> rows = ["crime_type,weight"] + [f"{t},2" for t in harm_weights()]
    >>> parse_harm_weights("\\n".join(rows), "mine.csv")["Robbery"]
    2.0
    """
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=first.count)  # Excel's "Unicode text" is tab-delimited
    reader = csv.DictReader(io.StringIO(text), delimiter=sep)
    fields = [crime_type_key(f) for f in (reader.fieldnames or [])]
    if "crime type" not in fields or "weight" not in fields:
        raise InputFileError(
            f"{name}: a harm weights CSV needs the columns crime_type and weight; "
            f"found {list_some(reader.fieldnames or [], 8) or 'none'}."
        )
    type_col = (reader.fieldnames or [])[fields.index("crime type")]
    weight_col = (reader.fieldnames or [])[fields.index("weight")]
    table: dict[str, object] = {}
    repeated: list[str] = []
    for row in reader:
        name_cell = (row.get(type_col) or "").strip()
        if not name_cell and not (row.get(weight_col) or "").strip():
            continue  # blank line
        canonical = _canonical(name_cell)
        if canonical is not None and canonical in {_canonical(k) for k in table}:
            repeated.append(name_cell)
        table[name_cell] = (row.get(weight_col) or "").strip()
    if repeated:
        raise ParameterError(
            f"{name}: crime types given twice: {list_some(repeated)}; give each once."
        )
    return _validate(table, name)


@dataclass(frozen=True)
class HarmResult:
    """What :func:`apply_harm_weights` did.

    Attributes
    ----------
    incidents
        A copy of the incidents with ``weight`` set to each incident's harm weight.
    warnings
        One sentence per crime type the table does not know (its incidents kept weight 1).
    table
        The weights used, by crime type.
    source
        Where the table came from (:data:`HARM_SOURCE` for the built-in one).
    """

    incidents: gpd.GeoDataFrame
    warnings: list[str]
    table: dict[str, float] = field(default_factory=dict)
    source: str = HARM_SOURCE

    @property
    def total_harm(self) -> float:
        """The sum of the incidents' weights."""
        return float(self.incidents["weight"].sum())

    def to_dict(self) -> dict[str, Any]:
        """The weighting as ``summary.json`` records it."""
        return {
            "source": self.source,
            "weights": dict(self.table),
            "total_harm": round(self.total_harm, 3),
            "warnings": list(self.warnings),
        }


def apply_harm_weights(
    incidents: gpd.GeoDataFrame,
    weights: Mapping[str, float] | str | Path | None = None,
    *,
    source: str | None = None,
) -> HarmResult:
    """A copy of ``incidents`` with ``weight`` set to each incident's harm weight.

    Parameters
    ----------
    incidents
        Incidents frame (its ``category`` column is used); not modified.
    weights
        A ``{crime type: weight}`` mapping (validated like a CSV), a CSV path, or None for the
        built-in table.
    source
        Where the table came from, for summaries ("your table PATH" for a path, else the
        built-in table's :data:`HARM_SOURCE`, when None).

    Returns
    -------
    HarmResult
        ``incidents``: the copy. Incidents of a crime type the table does not know (e.g. the
        pre-2013 "Public disorder and weapons") keep weight 1; a warning naming them and their
        counts is logged and listed in ``warnings`` (empty when none).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> inc = gpd.GeoDataFrame({"category": ["Robbery", "Shoplifting", "Mystery"],
    ...                         "weight": [1.0, 1.0, 1.0]},
    ...                        geometry=[Point(0, 0)] * 3, crs="EPSG:27700")
    >>> out = apply_harm_weights(inc)
    >>> out.incidents["weight"].tolist(), out.warnings
    ([700.0, 10.0, 1.0], ["1 incident of unknown crime type 'Mystery' kept weight 1"])
    """
    check_incidents(incidents, columns=("category",))
    if weights is None or isinstance(weights, str | Path):
        table = harm_weights(weights)
    elif isinstance(weights, Mapping):
        table = _validate(weights, "weights")
    else:
        raise ParameterError(
            "weights must be a {crime type: weight} mapping, a CSV path, or None (built-in)."
        )
    out = incidents.copy()
    cats = out["category"].astype("str")
    codes, uniques = pd.factorize(cats, use_na_sentinel=True)
    per_unique = np.array([table.get(_canonical(u) or "", math.nan) for u in uniques], dtype=float)
    w = np.full(len(codes), math.nan)
    if len(codes):
        w = np.where(codes >= 0, per_unique[np.maximum(codes, 0)], math.nan)
    unknown = ~np.isfinite(w)
    warnings_out: list[str] = []
    if unknown.any():
        counts = cats[unknown].fillna("(none)").value_counts()
        for name, n in counts.items():
            warnings_out.append(
                f"{n:,} incident{'s' if n != 1 else ''} of unknown crime type {name!r} "
                "kept weight 1"
            )
        for message in warnings_out:
            log.warning("apply_harm_weights: %s", message)
    out["weight"] = np.where(unknown, 1.0, w)
    if len(out) and not (out["weight"] > 0).any():
        kinds = list_some(sorted(set(cats)))
        raise ParameterError(
            f"every incident has harm weight 0 (crime types {kinds}), so there is no harm to "
            "map; choose other crime types, or give them a weight > 0 in the harm table."
        )
    if source is None:
        source = f"your table {weights}" if isinstance(weights, str | Path) else HARM_SOURCE
    return HarmResult(incidents=out, warnings=warnings_out, table=dict(table), source=source)
