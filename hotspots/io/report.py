"""The LoadReport: what was read, used and dropped, and the named reasons a row is dropped.

Every row :func:`hotspots.io.read_incidents` reads is either used or counted under one of
the reasons below; :func:`hotspots.filter.filter_incidents` adds its own two. :class:`Notes`
collects the warnings the readers raise on the way, so each kind is said once.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyproj

from .._text import list_some

__all__ = [
    "AT_ZERO",
    "BAD_MONTH",
    "DUPLICATE_ID",
    "DUPLICATE_ROW",
    "NOT_SELECTED_TYPE",
    "NO_COORDINATES",
    "NO_MONTH_FOR_PERIOD",
    "OUTSIDE_PERIOD",
    "OUTSIDE_STUDY_AREA",
    "OUT_OF_RANGE",
    "LoadReport",
    "Notes",
]

# --- reasons a row is not used (shown to users) -------------------------------------------
NO_COORDINATES = "no coordinates"
OUT_OF_RANGE = "coordinates out of range"
AT_ZERO = "at 0,0"
BAD_MONTH = "unparseable month"
DUPLICATE_ID = "duplicate id"
DUPLICATE_ROW = "duplicate row"
OUTSIDE_STUDY_AREA = "outside the study area"
OUTSIDE_PERIOD = "outside the period"
NO_MONTH_FOR_PERIOD = "no month, with a period chosen"
NOT_SELECTED_TYPE = "not a selected crime type"

_MAX_EXAMPLES = 5

# The reasons in words for people who do not read code (the dashboard's load report).
_PLAIN_REASONS = {
    NO_COORDINATES: "no position given",
    OUT_OF_RANGE: "a position that is not on the map",
    AT_ZERO: "a position of 0,0 (a blank filled with zeros)",
    BAD_MONTH: "a month that cannot be read",
    DUPLICATE_ID: "a crime already read under the same id (e.g. the same crime in two files)",
    DUPLICATE_ROW: "a row repeated in the same file",
    OUTSIDE_STUDY_AREA: "outside the area chosen",
    OUTSIDE_PERIOD: "outside the months chosen",
    NO_MONTH_FOR_PERIOD: "no month given, so not in the months chosen",
    NOT_SELECTED_TYPE: "not one of the crime types chosen",
}


@dataclass
class LoadReport:
    """What :func:`read_incidents` read, used and dropped (and why).

    ``rows_read == rows_used + rows_dropped`` holds for a report returned by
    :func:`read_incidents` and after :func:`filter_incidents`.

    Attributes
    ----------
    rows_read, rows_used
        Rows (records, features) read from the inputs, and incidents in the frame.
    dropped
        Reason -> number of rows, e.g. ``{"no coordinates": 1190}``.
    examples
        Reason -> the first few places (at most 5), e.g. ``["2019-11-x-street.csv row 14"]``.
    warnings
        Plain-English sentences about automatic choices and suspicious data.
    inputs
        The files read, zip members as ``"x.zip!2019-01/2019-01-x-street.csv"``.
    empty_files
        Files of an input folder or archive that were empty (0 bytes), so skipped.
    crs
        The working CRS of the frame, e.g. ``"EPSG:27700"``.
    """

    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    crs: str = ""
    empty_files: list[str] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        """Rows dropped for any reason."""
        return sum(self.dropped.values())

    def drop(self, reason: str, count: int, examples: Sequence[str] = ()) -> None:
        """Count ``count`` rows under ``reason`` (and keep up to 5 examples).

        Only ``dropped`` and ``examples`` change: a caller removing rows from the frame also
        lowers ``rows_used`` (as :func:`filter_incidents` does) to keep the totals adding up.
        A count of 0 records nothing.
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if count == 0:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + int(count)
        kept = self.examples.setdefault(reason, [])
        for example in examples:
            if len(kept) >= _MAX_EXAMPLES:
                break
            kept.append(str(example))
        if not kept:
            del self.examples[reason]

    def copy(self) -> LoadReport:
        """A deep copy (to filter without changing the original)."""
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary; ``rows_dropped`` is the reason -> count mapping here.

        >>> r = LoadReport(rows_read=3, rows_used=2)
        >>> r.drop("no coordinates", 1, ["a.csv row 2"])
        >>> r.to_dict()["rows_dropped"]
        {'no coordinates': 1}
        """
        return {
            "rows_read": int(self.rows_read),
            "rows_used": int(self.rows_used),
            "rows_dropped": {k: int(v) for k, v in self.dropped.items()},
            "examples": {k: list(v) for k, v in self.examples.items()},
            "warnings": list(self.warnings),
            "inputs": list(self.inputs),
            "empty_files": list(self.empty_files),
            "crs": self.crs,
        }

    def lines(self, *, plain: bool = False) -> list[str]:
        """Human-readable summary lines for the CLI and (``plain=True``: reasons and the map
        grid in everyday words, no codes) the dashboard.

        >>> r = LoadReport(rows_read=3, rows_used=2, inputs=["a.csv"], crs="EPSG:27700")
        >>> r.drop("no coordinates", 1, ["a.csv row 2"])
        >>> r.lines()[:2]
        ['Read 3 rows from 1 file; used 2.', 'Dropped 1: no coordinates (first: a.csv row 2).']
        >>> r.lines(plain=True)[1:]
        ['Left out 1: no position given (first: a.csv row 2).', 'Distances are measured in \
metres on the British National Grid.']
        """
        n_files = len(self.inputs)
        files = f" from {n_files:,} file{'s' if n_files != 1 else ''}" if n_files else ""
        out = [f"Read {self.rows_read:,} rows{files}; used {self.rows_used:,}."]
        for reason, count in self.dropped.items():
            ex = self.examples.get(reason)
            first = f" (first: {', '.join(ex)})" if ex else ""
            if plain:
                out.append(f"Left out {count:,}: {_PLAIN_REASONS.get(reason, reason)}{first}.")
            else:
                out.append(f"Dropped {count:,}: {reason}{first}.")
        if self.crs:
            out.append(_grid_words(self.crs) if plain else f"Working CRS: {self.crs}.")
        out.extend(self.warnings)
        return out


def _grid_words(crs: str) -> str:
    """The working map grid in words: British National Grid, or the grid's own name."""
    if crs.upper() == "EPSG:27700":
        return "Distances are measured in metres on the British National Grid."
    try:
        name = pyproj.CRS.from_user_input(crs).name
    except pyproj.exceptions.CRSError:
        return "Distances are measured in metres on a local map grid."
    return f"Distances are measured in metres on a local map grid ({name})."


@dataclass
class Notes:
    """Warnings collected while reading, grouped so each kind is said once."""

    lines: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    no_month: list[str] = field(default_factory=list)
    cp1252: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    same_name: list[str] = field(default_factory=list)
    not_followed: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

    def flush(self) -> list[str]:
        """The warnings, each kind said once, then the other lines in the order added."""
        out: list[str] = []
        if self.twice:
            out.append(f"{list_some(self.twice)} given more than once; read once.")
        if self.copies:
            n = len(self.copies)
            out.append(
                f"Skipped {n:,} file{'s' if n != 1 else ''} with the same contents as another "
                f"({'; '.join(self.copies[:3])}{'; ...' if n > 3 else ''}): each is read once."
            )
        if self.same_name:
            out.append(
                f"Two files of one name with different contents ({list_some(self.same_name)}): "
                "both are read, and their rows without a Crime ID are counted in both; leave "
                "one out if they are the same month downloaded twice."
            )
        if self.not_followed:
            n = len(self.not_followed)
            out.append(
                f"Did not follow {n:,} link{'s' if n != 1 else ''} that lead out of the folder, "
                f"loop or lead nowhere ({list_some(self.not_followed)}); copy the files in if "
                "they are wanted."
            )
        if self.empty:
            n = len(self.empty)
            out.append(
                f"Skipped {n:,} empty file{'s' if n != 1 else ''} (0 bytes: "
                f"{list_some(self.empty)}); download {'them' if n != 1 else 'it'} again if "
                "data are expected."
            )
        for kind, names in self.skipped.items():
            out.append(
                f"Skipped {len(names):,} data.police.uk {kind} file"
                f"{'s' if len(names) != 1 else ''} ({list_some(names)}): another dataset, not "
                "street-level crimes."
            )
        if self.ignored:
            out.append(
                f"Ignored {len(self.ignored):,} file{'s' if len(self.ignored) != 1 else ''} "
                f"that are not incident data ({list_some(self.ignored)})."
            )
        if self.cp1252:
            out.append(
                f"Not UTF-8 text, so read as Windows-1252 (cp1252): {list_some(self.cp1252)}; "
                "check accented names."
            )
        if self.no_month:
            out.append(
                f"No month or date column in {list_some(self.no_month)}: those incidents have no "
                "month, so period filters and trends leave them out."
            )
        return out + self.lines
