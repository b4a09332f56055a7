"""The statistics of a before/after evaluation with a control: effect size, dispersion, WDQ.

Used by :func:`hotspots.pilot.evaluate_pilot`, which counts the incidents of each zone and
period; these functions take the counts:

* the **relative effect size** (Farrington & Welsh 2002; the odds ratio of the 2x2 table of
  counts, as used by Bowers & Johnson 2003 and in the Campbell Collaboration reviews of
  situational prevention)::

      RES = (Tb * Ca) / (Ta * Cb),   var(ln RES) = 1/Tb + 1/Ta + 1/Cb + 1/Ca

  with a 95% confidence interval ``exp(ln RES +- 1.96 sqrt(var))``. RES > 1 means crime fell in
  the target relative to the control. It is reported to partners as the relative change
  ``1/RES - 1`` (-35% = "35% lower than the control area's trend predicts"). Those variances
  hold for Poisson counts. Real monthly counts are over-dispersed (their month-to-month
  variation exceeds the Poisson's, from seasons, events and recording), which makes a Poisson
  interval too narrow and finds "effects" at places where nothing was done. By default
  (``variance_inflation="auto"``) each zone's terms are scaled by its **dispersion** measured
  from its own monthly counts, the quasi-Poisson Pearson estimate (McCullagh & Nelder 1989,
  *Generalized Linear Models*, 2nd ed., section 4.5)::

      phi_zone = max(1, sum over before and after months of (n_m - mean_period)^2 / mean_period
                        / (months - 2))
      var(ln RES) = phi_T (1/Tb + 1/Ta) + phi_C (1/Cb + 1/Ca)

  since a period total of over-dispersed monthly counts has variance ``phi`` times its mean.
  Trends and seasons inside a period raise ``phi``, which errs on the side of a wider interval.
  (Farrington et al. 2007 use one factor ``D = 0.0008 N + 1.2`` fitted to CCTV evaluations; a
  number given as ``variance_inflation`` multiplies every term like that, and 1 is Poisson.)
* the **Weighted Displacement Quotient** (Bowers & Johnson 2003, *Journal of Quantitative
  Criminology* 19(3), 275-301)::

      WDQ = (Ba/Ca - Bb/Cb) / (Ta/Ca - Tb/Cb)

  whose denominator is the *success measure* (negative when crime fell in the target relative
  to the control) and numerator the *buffer displacement measure* (positive when crime rose in
  the buffer relative to the control). With a successful target: WDQ > 1 a diffusion of benefit
  larger than the direct effect; 0 < WDQ <= 1 some diffusion of benefit; WDQ = 0 neither;
  -1 < WDQ < 0 some displacement, smaller than the benefit (a net gain); WDQ < -1 displacement
  larger than the benefit. Without a success the quotient has no meaning and is not
  interpreted.

The Weighted Displacement Difference (Wheeler & Ratcliffe 2018, *Crime Science* 7:7) is not
used: it compares raw count differences, so it needs a control of about the target's size,
whereas the default control here is the rest of a borough, many times larger.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .errors import ParameterError

__all__ = [
    "WDQ_BANDS",
    "check_inflation",
    "classify_wdq",
    "monthly_dispersion",
    "relative_effect",
    "weighted_displacement_quotient",
]

_Z95 = 1.959963984540054
#: The bands :func:`classify_wdq` and :attr:`hotspots.pilot.PilotResult.wdq_band` take
#: (Bowers & Johnson 2003, Table 1), plus ``"no_buffer"`` and ``"no_control"`` when the WDQ
#: is not computed.
WDQ_BANDS = (
    "diffusion_larger",
    "diffusion",
    "neither",
    "displacement",
    "displacement_larger",
    "no_success",
    "undefined",
    "no_buffer",
    "no_control",
)


def relative_effect(
    tb: float,
    ta: float,
    cb: float,
    ca: float,
    *,
    variance_inflation: float = 1.0,
    control_inflation: float | None = None,
) -> tuple[float, float, float]:
    """Relative effect size (odds ratio) of a before/after, target/control table, with its 95% CI.

    ``RES = (tb * ca) / (ta * cb)`` (Farrington & Welsh 2002); ``var(ln RES)`` is
    ``variance_inflation (1/tb + 1/ta) + control_inflation (1/cb + 1/ca)``. RES > 1: crime
    fell in the target relative to the control. NaNs when a count is 0.

    Parameters
    ----------
    tb, ta, cb, ca
        Counts in the target before and after, the control before and after.
    variance_inflation
        Factor for over-dispersed counts (1 = Poisson): the target's dispersion, and the
        control's too unless ``control_inflation`` is given.
    control_inflation
        The control's own dispersion factor; None: ``variance_inflation``.

    Returns
    -------
    (res, low, high)

    Examples
    --------
    >>> res, low, high = relative_effect(100, 50, 1000, 1000)
    >>> round(res, 3), round(low, 3), round(high, 3)
    (2.0, 1.409, 2.84)
    """
    counts = np.array([tb, ta, cb, ca], dtype=float)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ParameterError("counts must be finite and >= 0.")
    phi_c = variance_inflation if control_inflation is None else control_inflation
    for label, value in (("variance_inflation", variance_inflation), ("control_inflation", phi_c)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ParameterError(
                f"{label} must be a number > 0 (1 = Poisson); got {value!r}.", argument=label
            )
    if np.any(counts == 0):
        return math.nan, math.nan, math.nan
    res = float((tb * ca) / (ta * cb))
    se = math.sqrt(variance_inflation * (1 / tb + 1 / ta) + phi_c * (1 / cb + 1 / ca))
    log_res = math.log(res)
    return res, math.exp(log_res - _Z95 * se), math.exp(log_res + _Z95 * se)


def weighted_displacement_quotient(
    tb: float, ta: float, bb: float, ba: float, cb: float, ca: float
) -> tuple[float, float, float]:
    """The Weighted Displacement Quotient of Bowers & Johnson (2003).

    ``WDQ = (ba/ca - bb/cb) / (ta/ca - tb/cb)``: the buffer displacement measure over the
    success measure. NaN where a control count is 0 or the success measure is 0.

    Parameters
    ----------
    tb, ta, bb, ba, cb, ca
        Counts before and after in the target, the buffer and the control.

    Returns
    -------
    (wdq, success_measure, displacement_measure)

    Examples
    --------
    Target 100 -> 60, buffer 50 -> 55, control 1000 -> 1000: the target fell by 0.04 of the
    control, the buffer rose by 0.005 of it, WDQ = 0.005 / -0.04 = -0.125 (some displacement,
    much smaller than the benefit).

    >>> [round(v, 4) for v in weighted_displacement_quotient(100, 60, 50, 55, 1000, 1000)]
    [-0.125, -0.04, 0.005]
    """
    if cb <= 0 or ca <= 0:
        return math.nan, math.nan, math.nan
    success = ta / ca - tb / cb
    displacement = ba / ca - bb / cb
    wdq = displacement / success if success != 0 else math.nan
    return wdq, success, displacement


def classify_wdq(wdq: float, success_measure: float) -> str:
    """The band of a WDQ (Bowers & Johnson 2003, Table 1), one of :data:`WDQ_BANDS`.

    ``"no_success"`` when crime did not fall in the target relative to the control (the WDQ
    then has no meaning), ``"undefined"`` when the WDQ is not finite; otherwise, with a
    successful target, ``"diffusion_larger"`` (WDQ > 1), ``"diffusion"`` (0 < WDQ <= 1),
    ``"neither"`` (0), ``"displacement"`` (-1 < WDQ < 0: smaller than the benefit) or
    ``"displacement_larger"`` (WDQ <= -1). :func:`hotspots.report.pilot_text.wdq_sentence`
    words them.

    Examples
    --------
    >>> classify_wdq(-0.125, -0.04)
    'displacement'
    >>> classify_wdq(0.5, 0.02)
    'no_success'
    """
    if not math.isfinite(success_measure) or success_measure >= 0:
        return "no_success"
    if not math.isfinite(wdq):
        return "undefined"
    if wdq > 1:
        return "diffusion_larger"
    if wdq > 0:
        return "diffusion"
    if wdq == 0:
        return "neither"
    if wdq > -1:
        return "displacement"
    return "displacement_larger"


def monthly_dispersion(before: npt.ArrayLike, after: npt.ArrayLike) -> float:
    """Quasi-Poisson dispersion of a zone's monthly counts, from its before and after months.

    ``sum((n_m - mean_p)^2 / mean_p) / (months - 2)`` over both periods ``p`` (each with its own
    mean), at least 1 (Poisson). 1 when there are too few months to tell (fewer than 3 in all)
    or a period has no incidents.

    Examples
    --------
    >>> monthly_dispersion([10, 10, 10], [5, 5])   # steadier than Poisson: floored
    1.0
    >>> monthly_dispersion([4, 16, 10], [5, 5])    # (36 + 36 + 0) / 10 / (5 - 2)
    2.4
    """
    chi2 = 0.0
    months = 0
    for values in (before, after):
        n = np.asarray(values, dtype=float)
        mean = float(n.mean()) if len(n) else 0.0
        if mean <= 0:
            return 1.0
        chi2 += float(np.sum((n - mean) ** 2)) / mean
        months += len(n)
    if months < 3:
        return 1.0
    return max(1.0, round(chi2 / (months - 2), 10))


def check_inflation(value: object) -> float | None:
    """A ``variance_inflation`` argument: None for "auto" (measure the dispersion), else the
    fixed factor, checked.

    >>> check_inflation("auto"), check_inflation("1.5")
    (None, 1.5)
    """
    original = value
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return None
        try:
            value = float(value)
        except ValueError:
            value = None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ParameterError(
            f'variance_inflation must be "auto" or a number > 0 (1 = Poisson); got {original!r}.',
            argument="variance_inflation",
        )
    return float(value)
