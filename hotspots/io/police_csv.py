"""data.police.uk street CSVs: recognising them, and reading a run of them into one part.

The street-level crime files (``YYYY-MM-<force>-street.csv``) have fixed columns (Crime ID,
Month, Longitude, Latitude, Crime type, ...); the outcomes and stop-and-search files that
come in the same download are recognised by their headers and skipped. The CSV text itself is
read by :func:`hotspots.io.generic_csv.read_csv_table`.
"""

from __future__ import annotations

from collections.abc import Set

import numpy as np
import pandas as pd

from .parts import Part, build_part, to_float, wgs84_crs
from .report import Notes
from .sources import Source

__all__ = ["is_street_header", "other_dataset_by_header", "read_street_run"]

_STREET_HEADER = {"Crime ID", "Month", "Longitude", "Latitude", "Crime type"}


def is_street_header(header: Set[str]) -> bool:
    """Whether a CSV header is a data.police.uk street CSV's.

    >>> is_street_header({"Crime ID", "Month", "Longitude", "Latitude", "Crime type", "Context"})
    True
    """
    return header >= _STREET_HEADER


def other_dataset_by_header(header: Set[str]) -> str | None:
    """The other data.police.uk dataset a CSV header belongs to (not street crimes), if any.

    >>> other_dataset_by_header({"Crime ID", "Outcome type"})
    'outcomes'
    """
    if "Outcome type" in header and "Crime type" not in header:
        return "outcomes"
    if "Object of search" in header or "Part of a policing operation" in header:
        return "stop-and-search"
    return None


def read_street_run(run: list[tuple[Source, pd.DataFrame]], notes: Notes) -> Part:
    """One part from consecutive data.police.uk street CSVs (mapped once, not per file)."""
    frames = [df for _, df in run]
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    lengths = [len(f) for f in frames]
    # one name per file, a small code per row (sources: categories, as the frame holds them)
    names, file_code = np.unique([s.display for s, _ in run], return_inverse=True)
    sources = pd.Series(
        pd.Categorical.from_codes(
            np.repeat(file_code.astype(np.int32), lengths),
            dtype=pd.CategoricalDtype(pd.Index(names, dtype="str")),
        )
    )
    rows = np.concatenate([np.arange(2, k + 2, dtype=np.int64) for k in lengths])
    return build_part(
        df.drop(columns=["Longitude", "Latitude"]),
        to_float(df["Longitude"]),
        to_float(df["Latitude"]),
        wgs84_crs(),
        sources=sources,
        rows=rows,
        name=run[0][0].display if len(run) == 1 else f"{run[0][0].display} and others",
        word="row",
        repeat_ids_ok=True,
        notes=notes,
    )
