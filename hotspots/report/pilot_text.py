"""Plain sentences for partners about a pilot evaluation (:class:`hotspots.pilot.PilotResult`).

:func:`hotspots.pilot.evaluate_pilot` returns numbers, bands and notes; this module words them
without claiming more than the figures show: :func:`pilot_summary` (the sentences the CLI, the
dashboard and the printable page show), :func:`wdq_sentence` (a WDQ band in words) and
:func:`pilot_record` (the JSON-ready figures with those sentences).

The rules:

* an effect is stated only when its interval excludes no change (:func:`effect_stands`);
* displacement, a diffusion of benefit and the WDQ are judged only after such an effect that
  is a fall (:func:`can_judge_displacement`); otherwise the
  summary says they "cannot be judged without a change in the target" (or, when crime rose in
  the target, that there was no fall to displace): never "displacement" when the target rose;
* interval endpoints are never rounded onto or across zero
  (:func:`hotspots.report.wording.percent_interval`);
* a zone reaching outside the data's coverage gets a warning with its share outside;
* a placebo-in-space check, when run, says where the target's change ranks.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import disclosure
from .._validate import month_number
from ..errors import ParameterError
from ..pilot import MIN_DISPERSION_MONTHS, SMALL_COUNT, PilotResult
from ..pilot_stats import classify_wdq
from ..trend import compare_counts, seasonal_note
from .wording import fewer_than, n_months, percent_interval, signed_percent

__all__ = [
    "NOT_JUDGED",
    "can_judge_displacement",
    "effect_stands",
    "interpret_wdq",
    "pilot_record",
    "pilot_summary",
    "wdq_sentence",
    "wdq_words",
    "zone_change",
]

#: What the summary says of displacement when the target shows no significant change.
NOT_JUDGED = (
    "Displacement or a diffusion of benefit cannot be judged without a change in the target."
)
#: ... and when crime rose in the target.
_ROSE = (
    "Crime rose in the target beyond the control area's change, so there was no fall to "
    "displace: displacement or a diffusion of benefit cannot be judged."
)
#: Share of a zone outside the data's coverage worth a warning.
_OUTSIDE_WARN = 0.01


_WDQ_WORDS = {
    "diffusion_larger": "diffusion of benefit into the buffer, larger than the fall in the target",
    "diffusion": "some diffusion of benefit into the buffer",
    "neither": "no displacement and no diffusion of benefit",
    "displacement": (
        "some displacement into the buffer, smaller than the fall in the target (a net benefit)"
    ),
    "displacement_larger": (
        "displacement into the buffer larger than the fall in the target (no net benefit)"
    ),
    "no_success": "not interpretable: crime did not fall in the target relative to the control",
    "undefined": "not interpretable",
    "no_buffer": "not computed: no buffer (buffer_m=0)",
    "no_control": "not computed: no control area",
}


def wdq_sentence(band: str) -> str:
    """A WDQ band (:data:`hotspots.pilot_stats.WDQ_BANDS`) in plain words.

    Parameters
    ----------
    band
        :attr:`hotspots.pilot.PilotResult.wdq_band` or what
        :func:`hotspots.pilot_stats.classify_wdq` returned.

    Returns
    -------
    str
        The band in words (Bowers & Johnson 2003, Table 1).

    Examples
    --------
    >>> wdq_sentence("diffusion")
    'some diffusion of benefit into the buffer'
    """
    try:
        return _WDQ_WORDS[band]
    except KeyError:
        known = ", ".join(_WDQ_WORDS)
        raise ParameterError(f"band must be one of {known}; got {band!r}.") from None


def interpret_wdq(wdq: float, success_measure: float) -> str:
    """Plain-words band of a WDQ (Bowers & Johnson 2003, Table 1).

    Parameters
    ----------
    wdq, success_measure
        What :func:`hotspots.pilot_stats.weighted_displacement_quotient` returned.

    Returns
    -------
    str
        ``wdq_sentence(classify_wdq(wdq, success_measure))``.

    Examples
    --------
    >>> interpret_wdq(-0.125, -0.04)
    'some displacement into the buffer, smaller than the fall in the target (a net benefit)'
    >>> interpret_wdq(0.5, 0.02)
    'not interpretable: crime did not fall in the target relative to the control'
    """
    return wdq_sentence(classify_wdq(wdq, success_measure))


def zone_change(result: PilotResult, zone: str) -> str:
    """A zone's change of the monthly mean, before to after, with its 95% interval.

    The interval is the exact conditional one for two Poisson counts
    (:func:`hotspots.trend.compare_counts`), on the counts divided by the zone's dispersion
    (:attr:`PilotResult.dispersion`) so it allows for counts that vary more than Poisson;
    when it includes 0 the words say "no clear change on its own".
    """
    phi = max(float(result.dispersion.get(zone, 1.0)), 1.0)
    before, after = result.count(zone, "before"), result.count(zone, "after")
    months = result.months["before"][2], result.months["after"][2]
    change = signed_percent(result.pct_change[zone])
    if before + after == 0 or min(months) == 0:
        return change
    test = compare_counts(
        round(before / phi), round(after / phi), before_months=months[0], after_months=months[1]
    )
    low, high = 100 * float(test.low[0]), 100 * float(test.high[0])
    interval = f"95% interval {percent_interval(low, high)}"
    if math.isnan(low) or low <= 0 <= high:
        return f"{change} ({interval}: no clear change on its own)"
    return f"{change} ({interval})"


def effect_stands(result: PilotResult) -> bool:
    """Whether the summary may state an effect in the target: a control area and an interval
    that excludes no change. (The placebo check, when run, is reported beside it but does not
    decide: random copies of a busy target hold fewer incidents, and their changes swing
    more by chance.)"""
    return bool(result.has_control and result.significant)


def can_judge_displacement(result: PilotResult) -> bool:
    """Whether the buffer and WDQ may be read as displacement or a diffusion of benefit: an
    effect in the target (:func:`effect_stands`) that is a fall (Bowers & Johnson 2003: the
    WDQ presumes a success in the target)."""
    return effect_stands(result) and result.relative_change_pct < 0


def wdq_words(result: PilotResult) -> str:
    """The WDQ band of ``result`` in words, or why it is not judged: no significant fall in
    the target (:func:`can_judge_displacement`), or a buffer whose change relative to the
    control is within chance (its 95% interval holds no change), as :func:`pilot_summary`
    says it."""
    if result.wdq_band in ("no_buffer", "no_control"):
        return wdq_sentence(result.wdq_band)
    if not can_judge_displacement(result):
        return "not judged: no significant fall in the target relative to the control area"
    lo, hi = result.buffer_change_ci
    if not (lo > 0 or hi < 0):
        return (
            "not read as displacement or a diffusion of benefit: the buffer's change is "
            "within chance"
        )
    return wdq_sentence(result.wdq_band)


def pilot_record(result: PilotResult) -> dict[str, Any]:
    """:meth:`PilotResult.to_dict` with the sentences: ``wdq_interpretation`` and ``summary``.

    Parameters
    ----------
    result
        What :func:`hotspots.pilot.evaluate_pilot` returned.

    Returns
    -------
    dict
        JSON-ready figures, the WDQ band in words and :func:`pilot_summary`'s sentences
        (exact counts: for the analyst, not for publication). ``wdq_reading`` is the WDQ's
        band when the evaluation lets it be read, else ``"not_judged"`` (``wdq_band`` is the
        band of its value alone: "displacement" there is not a finding when not judged).
    """
    words = wdq_words(result)
    judged = result.wdq_band in ("no_buffer", "no_control") or words == wdq_sentence(
        result.wdq_band
    )
    return {
        **result.to_dict(),
        # wdq_band is the WDQ value's band; the reading is that band only when it may be read
        "wdq_reading": result.wdq_band if judged else "not_judged",
        "wdq_interpretation": words,
        "summary": pilot_summary(result),
    }


# --- the summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Published:
    """Which totals of a result a page may print, and how it words the others."""

    result: PilotResult
    suppress_below: int | None
    withheld: frozenset[tuple[str, str]]

    def is_small(self, zone: str, period: str) -> bool:
        n = self.result.count(zone, period)
        return (zone, period) in self.withheld or (
            self.suppress_below is not None and disclosure.is_small(n, self.suppress_below)
        )

    def count(self, zone: str, period: str) -> str:
        if (zone, period) in self.withheld:
            return "an unpublished number"
        n = self.result.count(zone, period)
        if self.suppress_below is not None and disclosure.is_small(n, self.suppress_below):
            return fewer_than(self.suppress_below)
        return f"{n:,.0f}"

    def hidden(self, *zones: str) -> bool:
        return any(self.is_small(z, p) for z in zones for p in ("before", "after"))


def pilot_summary(
    result: PilotResult,
    *,
    suppress_below: int | None = None,
    unpublished: Collection[tuple[str, str]] = (),
) -> list[str]:
    """Plain sentences for partners that do not claim more than the figures show.

    Parameters
    ----------
    result
        What :func:`hotspots.pilot.evaluate_pilot` returned.
    suppress_below
        For a published briefing: counts from 1 to ``suppress_below - 1`` are written
        "fewer than N", and the monthly rates and change worked out from them are left
        out, so the small count cannot be worked back. None (default): exact counts.
    unpublished
        ``(zone, period)`` totals a published page withholds for another reason (e.g. a
        total that would reveal small monthly counts): written "an unpublished number",
        with what is worked out from them left out like a small count's.

    Returns
    -------
    list of str
        The target's change, the control's and the effect relative to it, what the
        intervals allow for, small-count cautions and the buffer (displacement).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> from hotspots.pilot import evaluate_pilot
    >>> pts = [Point(50, 50)] * 9 + [Point(900, 900)] * 16
    >>> months = ["2024-01"] * 6 + ["2024-03"] * 3 + ["2024-01"] * 8 + ["2024-03"] * 8
    >>> inc = gpd.GeoDataFrame({"month": pd.to_datetime(months), "category": ["Robbery"] * 25},
    ...                        geometry=pts, crs="EPSG:27700")
    >>> res = evaluate_pilot(inc, target=Point(50, 50).buffer(100), start="2024-02",
    ...                      end="2024-02", buffer_m=100, control=Point(900, 900).buffer(100))
    >>> pilot_summary(res, suppress_below=5)[0]  # doctest: +NORMALIZE_WHITESPACE
    'Before the operation (2024-01 to 2024-01, 1 month) the target area had 6 incidents of
    crime (6.0 a month); after it (2024-03 to 2024-03, 1 month) fewer than 5 (the change is
    not shown: the counts are too small to publish).'
    """
    pub = _Published(result, suppress_below, frozenset((str(z), str(p)) for z, p in unpublished))
    out = [_target_sentence(pub)]
    b, a = result.months["before"], result.months["after"]
    if b[2] != a[2]:
        out.append(
            f"The before and after periods differ in length ({b[2]} and {a[2]} months); "
            "monthly means are compared, but seasonality may not cancel out."
        )
    elif seasonal_note(*((_month(p[0]), _month(p[1])) for p in (b, a))):
        out.append(
            "The before and after periods are different months of the year: seasonal swings "
            "show in each area's own change; the comparison with the control area allows "
            "only for the seasons they share."
        )
    if not result.has_control:
        out.append(
            "There is no control area, so this change cannot be told apart from what "
            "would have happened anyway (trends, seasons, recording changes); it is not "
            "evidence that the operation worked."
        )
    else:
        out += _control_sentences(pub)
    if (
        result.has_control
        and math.isfinite(result.relative_effect)
        and not pub.hidden("target", "control")
    ):
        out.append(_interval_basis(result))
        if result.placebo is not None and result.placebo.spread > 0:
            out.append(
                "The interval is also widened for how much places of the target's size change "
                f"on their own, measured on the {result.placebo.n} placebo areas."
            )
    small = result.small_counts
    if small:
        out.append(
            f"Counts are small (fewer than {SMALL_COUNT} in: {', '.join(small)}), so the "
            "figures are uncertain; treat them with caution."
        )
    out += _coverage_sentences(result)
    if (
        result.placebo is not None
        and not pub.hidden("target")
        and math.isfinite(result.pct_change["target"])
    ):
        out.append(_placebo_sentence(result))
    return out + _buffer_sentences(pub)


def _month(label: str) -> int:
    return month_number(pd.Timestamp(f"{label}-01"))


def _coverage_sentences(result: PilotResult) -> list[str]:
    """A warning for each zone that reaches outside the data's coverage."""
    shares = result.outside_coverage
    names = {"target": "the target area", "buffer": "the buffer ring", "control": "the control"}
    parts = [
        f"{shares[z]:.0%} of {names[z]}" if shares[z] >= 0.005 else f"{shares[z]:.1%} of {names[z]}"
        for z in ("target", "buffer", "control")
        if shares.get(z, 0.0) >= _OUTSIDE_WARN
    ]
    if not parts:
        return []
    return [
        f"Warning: {', '.join(parts)} lie{'s' if len(parts) == 1 else ''} outside the data's "
        f"coverage ({result.coverage}). Incidents there are not in the data, so counts there "
        "are too low and comparisons with those areas are unreliable."
    ]


def _placebo_sentence(result: PilotResult) -> str:
    """Where the target's change ranks among random areas of its size in the control."""
    placebo = result.placebo
    assert placebo is not None
    way = "down" if placebo.fell else "up"
    return (
        f"Placebo check: of {placebo.n} areas of the target's size and shape placed at random "
        f"in the control area, {placebo.as_extreme} changed at least as far {way} as the "
        f"target ({signed_percent(result.pct_change['target'])}): the target ranks "
        f"{placebo.as_extreme + 1} of {placebo.n + 1}, so a change this large happens in about "
        f"{placebo.share:.0%} of places where nothing was done"
        + (
            f" (they held a median of {placebo.median_before:,.0f} incidents before against the "
            f"target's {result.count('target', 'before'):,.0f}: changes in quieter places swing "
            "more by chance, so this understates a busy target's rank)."
            if placebo.median_before < 0.5 * result.count("target", "before")
            else "."
        )
    )


def _target_sentence(pub: _Published) -> str:
    """The target's counts before and after, with their monthly rates and the change."""
    result = pub.result
    what = "the selected crime types" if result.categories else "crime"
    b, a = result.months["before"], result.months["after"]
    rate_b = (
        ""
        if pub.is_small("target", "before")
        else f" ({result.rate('target', 'before'):.1f} a month)"
    )
    rate_a = (
        ""
        if pub.is_small("target", "after")
        else f" ({result.rate('target', 'after'):.1f} a month)"
    )
    change = (
        " (the change is not shown: the counts are too small to publish)"
        if pub.hidden("target")
        else f", a change of {zone_change(result, 'target')}"
    )
    before_n = pub.count("target", "before")
    of = " of" if ("target", "before") in pub.withheld else ""
    return (
        f"Before the operation ({b[0]} to {b[1]}, {n_months(b[2])}) the target area had "
        f"{before_n}{of} incidents of {what}{rate_b}; after it ({a[0]} to {a[1]}, "
        f"{n_months(a[2])}) {pub.count('target', 'after')}{rate_a}{change}."
    )


def _control_sentences(pub: _Published) -> list[str]:
    """The control area's change, and the target's effect relative to it."""
    result = pub.result
    where = (
        "the rest of the study area (outside the target and buffer)"
        if result.control_is_default
        else "the control area"
    )
    if pub.hidden("control"):
        out = [f"Over the same periods {where} had too few incidents to publish its change."]
    else:
        change = zone_change(result, "control")
        out = [f"Over the same periods {where} changed by {change}."]
    lo, hi = result.relative_change_ci
    if pub.hidden("target", "control"):
        out.append("The counts are too small to publish an effect relative to the control area.")
    elif not math.isfinite(result.relative_effect):
        out.append("The relative effect cannot be estimated: a count is zero.")
    elif result.significant:
        fell = result.relative_change_pct < 0
        out.append(
            f"Relative to the control area, the target's count after the operation was "
            f"{abs(result.relative_change_pct):.0f}% {'lower' if fell else 'higher'} than "
            f"the control's change would predict (95% confidence interval "
            f"{percent_interval(lo, hi)}). "
            + (
                "This is consistent with an effect of the operation, but does not rule "
                "out other local causes."
                if fell
                else "Crime rose in the target beyond the control's change; look for "
                "other local causes or recording changes before judging the operation."
            )
        )
    else:
        out.append(
            f"Relative to the control area the change in the target was "
            f"{signed_percent(result.relative_change_pct)} (95% confidence interval "
            f"{percent_interval(lo, hi)}); the interval includes no change, "
            "so there is no evidence of a change beyond what the control area shows."
        )
    return out


def _interval_basis(result: PilotResult) -> str:
    """One sentence on what the confidence intervals allow for."""
    phi_t, phi_c = result.dispersion["target"], result.dispersion["control"]
    if not result.dispersion_is_measured:
        if phi_t == 1 and min(result.months["before"][2], result.months["after"][2]) < (
            MIN_DISPERSION_MONTHS
        ):
            return (
                f"With fewer than {MIN_DISPERSION_MONTHS} months before or after the "
                "operation, how much the monthly counts vary cannot be measured: the "
                "confidence intervals assume Poisson counts and are likely too narrow."
            )
        if phi_t == 1:
            return (
                "The confidence intervals assume Poisson counts (variance_inflation=1); "
                "real monthly counts vary more, so they are likely too narrow."
            )
        return f"The confidence intervals use a fixed variance inflation of {phi_t:g}."
    return (
        "The confidence intervals allow for how much the monthly counts vary: "
        f"{phi_t:.1f} times the Poisson variance in the target and {phi_c:.1f} times in "
        "the control area."
    )


def _buffer_sentences(pub: _Published) -> list[str]:
    """Displacement: the buffer's change relative to the control, and the WDQ."""
    result = pub.result
    bb, ba = result.count("buffer", "before"), result.count("buffer", "after")
    if float(result.geometries["area_km2"].to_numpy()[1]) <= 0:
        return ["No buffer was drawn, so displacement was not assessed."]
    if bb == 0 or ba == 0:
        return ["The buffer had no incidents before or after, so displacement cannot be assessed."]
    if pub.hidden("buffer", "control"):
        return [
            "Counts in the buffer or the control area are too small to publish, so "
            "displacement is not reported."
        ]
    if not result.has_control:
        return []
    lo, hi = result.buffer_change_ci
    change = (
        "In the surrounding buffer the count changed by "
        f"{zone_change(result, 'buffer')}, "
        f"{signed_percent(result.buffer_change_pct)} relative to the control area (95% confidence "
        f"interval {percent_interval(lo, hi)})"
    )
    if not can_judge_displacement(result):
        rose = effect_stands(result) and result.relative_change_pct > 0
        return [f"{change}.", _ROSE if rose else NOT_JUDGED]
    if math.isfinite(lo) and lo > 0:
        verdict = "this suggests displacement into the buffer"
    elif math.isfinite(hi) and hi < 0:
        verdict = "this suggests a diffusion of benefit into the buffer"
    else:
        verdict = (
            "the interval includes no change, so there is no evidence of displacement "
            "or of a diffusion of benefit"
        )
    out = [f"{change}; {verdict}."]
    words = wdq_sentence(result.wdq_band)
    if math.isfinite(result.wdq) and not (lo > 0 or hi < 0):
        out.append(
            f"Weighted Displacement Quotient {result.wdq:.2f}: not read as displacement or a "
            "diffusion of benefit, since the buffer's change is within chance."
        )
    elif math.isfinite(result.wdq):
        out.append(
            f"Weighted Displacement Quotient {result.wdq:.2f} "
            f"({words}; it has no confidence interval, and values "
            "near 0 mean little either way)."
        )
    else:
        out.append(f"Weighted Displacement Quotient {words}.")
    if min(bb, ba) < SMALL_COUNT:
        out.append(
            f"The buffer holds few incidents ({pub.count('buffer', 'before')} before, "
            f"{pub.count('buffer', 'after')} after), so the displacement measures are "
            "uncertain."
        )
    return out
