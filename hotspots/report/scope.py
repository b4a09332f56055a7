"""What a printout counted: the months, the crime types and the wards chosen, said in words.

Every printout (the briefing, the outreach sheets) and the dashboard beside it state the same
three lines, from one :class:`Scope`: a reader of the page can tell which crimes, where and when
the figures count without the dashboard that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .._text import esc
from ..errors import ParameterError
from .wording import MONTH_RE, n_months, span_words

__all__ = ["SCOPE_CSS", "Scope", "analysis_scope", "scope_html"]

#: The scope list's style on a page (:func:`scope_html`).
SCOPE_CSS = """
.scope { display: grid; grid-template-columns: max-content 1fr; gap: .6mm 3mm; margin: 0 0 4mm;
  padding: 2mm 3mm; background: #f6f6f6; border-left: 3px solid #800026; font-size: 9pt; }
.scope dt { font-weight: bold; } .scope dd { margin: 0; }
"""


@dataclass(frozen=True)
class Scope:
    """The months, crime types and wards a printout counts (:func:`analysis_scope`).

    Attributes
    ----------
    first, last
        The first and last month, "YYYY-MM".
    crime_types
        The crime types counted, in alphabetical order.
    wards
        The wards chosen (the incidents inside them were counted); empty: no ward filter.
        None: not known (the line is left out).
    """

    first: str
    last: str
    crime_types: tuple[str, ...]
    wards: tuple[str, ...] | None = None

    @property
    def months(self) -> int:
        """How many months the period spans."""
        a, b = pd.Timestamp(self.first + "-01"), pd.Timestamp(self.last + "-01")
        return (b.year - a.year) * 12 + b.month - a.month + 1

    def lines(self) -> list[tuple[str, str]]:
        """The scope as (label, text) lines: Period, Crime types counted, Wards.

        >>> Scope("2024-01", "2024-03", ("Drugs", "Robbery"), ()).lines()
        ... # doctest: +NORMALIZE_WHITESPACE
        [('Period', 'January 2024 to March 2024 (3 months)'),
         ('Crime types counted', 'Drugs, Robbery'),
         ('Wards', 'all: no ward filter')]
        """
        types = ", ".join(self.crime_types) if self.crime_types else "none"
        out = [
            ("Period", f"{span_words(self.first, self.last)} ({n_months(self.months)})"),
            ("Crime types counted", types),
        ]
        if self.wards is not None:
            out.append(("Wards", ", ".join(self.wards) if self.wards else "all: no ward filter"))
        return out

    def sentence(self) -> str:
        """The scope in one line, for a caption: "Period: ...; Crime types counted: ..."."""
        return "; ".join(f"{label}: {text}" for label, text in self.lines())


def _names(given: object, what: str) -> tuple[str, ...]:
    if isinstance(given, str | bytes) or not isinstance(given, Sequence | pd.Index | pd.Series):
        raise ParameterError(f"{what}: give a list of names, not {given!r}.")
    return tuple(sorted({str(v) for v in given}))


def analysis_scope(
    incidents: pd.DataFrame,
    period: tuple[str, str],
    *,
    crime_types: Sequence[str] | None = None,
    ward_names: Sequence[str] | None = None,
) -> Scope:
    """The scope of a printout of ``incidents``.

    Parameters
    ----------
    incidents
        The incidents counted (their ``category`` gives the crime types when ``crime_types``
        is None).
    period
        First and last month, ``("YYYY-MM", "YYYY-MM")``.
    crime_types
        The crime types chosen (None: those of the incidents).
    ward_names
        The wards chosen (empty: no ward filter; None: not known, left unsaid).

    Examples
    --------
    >>> frame = pd.DataFrame({"category": ["Robbery", "Drugs", "Robbery"]})
    >>> analysis_scope(frame, ("2024-01", "2024-02")).crime_types
    ('Drugs', 'Robbery')
    >>> cats = frame.astype("category").iloc[[0, 2]]  # the types present, not every category
    >>> analysis_scope(cats, ("2024-01", "2024-02")).crime_types
    ('Robbery',)
    """
    if (
        not isinstance(period, tuple | list)
        or len(period) != 2
        or not all(isinstance(p, str) and MONTH_RE.match(p.strip()) for p in period)
    ):
        raise ParameterError(
            f"period must be (first month, last month) as ('YYYY-MM', 'YYYY-MM'); got {period!r}."
        )
    first, last = (p.strip() for p in period)
    if first > last:
        raise ParameterError(f"period {period!r}: the first month is after the last; swap them.")
    if crime_types is None:
        found = (  # each distinct type made text once (a city's categories: a few codes)
            [str(v) for v in incidents["category"].dropna().unique()]
            if "category" in incidents.columns
            else []
        )
        types = _names(found, "crime_types")
    else:
        types = _names(crime_types, "crime_types")
    wards = None if ward_names is None else _names(ward_names, "ward_names")
    return Scope(first, last, types, wards)


def scope_html(scope: Scope) -> str:
    """The scope as a small definition list (every text escaped).

    >>> scope_html(Scope("2024-01", "2024-01", ("<b>",)))
    "<dl class='scope'><dt>Period</dt><dd>January 2024 (1 month)</dd><dt>Crime types \
counted</dt><dd>&lt;b&gt;</dd></dl>"
    """
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in scope.lines())
    return f"<dl class='scope'>{rows}</dl>"
