"""Tests for hotspots.pilot_stats: the relative effect size, the WDQ and the dispersion by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.errors import ParameterError
from hotspots.pilot_stats import (
    classify_wdq,
    monthly_dispersion,
    relative_effect,
    weighted_displacement_quotient,
)
from hotspots.report.pilot_text import interpret_wdq

Z95 = 1.959963984540054


def test_relative_effect_by_hand() -> None:
    """RES = (Tb*Ca)/(Ta*Cb); var(ln RES) = 1/Tb + 1/Ta + 1/Cb + 1/Ca."""
    res, low, high = relative_effect(100, 50, 1000, 1000)
    assert res == pytest.approx(2.0)
    se = math.sqrt(1 / 100 + 1 / 50 + 1 / 1000 + 1 / 1000)  # 0.17889
    assert low == pytest.approx(2.0 * math.exp(-Z95 * se))  # 1.409
    assert high == pytest.approx(2.0 * math.exp(Z95 * se))  # 2.840
    assert (round(low, 3), round(high, 3)) == (1.409, 2.84)


def test_relative_effect_variance_inflation_widens() -> None:
    _, low1, high1 = relative_effect(100, 50, 1000, 1000)
    _, low2, high2 = relative_effect(100, 50, 1000, 1000, variance_inflation=4.0)
    se = math.sqrt(4 * (1 / 100 + 1 / 50 + 2 / 1000))
    assert low2 == pytest.approx(2.0 * math.exp(-Z95 * se))
    assert low2 < low1 and high2 > high1


def test_relative_effect_zero_count_is_nan() -> None:
    assert all(math.isnan(v) for v in relative_effect(10, 0, 100, 100))


def test_relative_effect_rejects_negative() -> None:
    with pytest.raises(ParameterError, match="counts"):
        relative_effect(-1, 2, 3, 4)


def test_wdq_worked_example_some_displacement() -> None:
    """Bowers & Johnson (2003): WDQ = (Da/Ca - Db/Cb) / (Ta/Ca - Tb/Cb).

    Target 100 -> 60, buffer 50 -> 55, control 1000 -> 1000:
    success = 60/1000 - 100/1000 = -0.04; displacement = 55/1000 - 50/1000 = 0.005;
    WDQ = 0.005 / -0.04 = -0.125: some displacement, less than the benefit.
    """
    wdq, success, disp = weighted_displacement_quotient(100, 60, 50, 55, 1000, 1000)
    assert success == pytest.approx(-0.04)
    assert disp == pytest.approx(0.005)
    assert wdq == pytest.approx(-0.125)
    assert classify_wdq(wdq, success) == "displacement"
    assert interpret_wdq(wdq, success).startswith("some displacement")


def test_wdq_worked_example_unequal_control() -> None:
    """Control 2000 -> 1600 (a general fall): target 200 -> 100, buffer 80 -> 80.

    success = 100/1600 - 200/2000 = 0.0625 - 0.1 = -0.0375;
    displacement = 80/1600 - 80/2000 = 0.05 - 0.04 = 0.01; WDQ = 0.01 / -0.0375 = -0.2667.
    """
    wdq, success, disp = weighted_displacement_quotient(200, 100, 80, 80, 2000, 1600)
    assert success == pytest.approx(-0.0375)
    assert disp == pytest.approx(0.01)
    assert wdq == pytest.approx(-0.26667, abs=1e-5)


@pytest.mark.parametrize(
    ("counts", "wdq", "band"),
    [
        # target 100 -> 50, buffer 50 -> 40: success -0.05, disp -0.01, WDQ 0.2
        ((100, 50, 50, 40, 1000, 1000), 0.2, "some diffusion of benefit"),
        # target 100 -> 90, buffer 50 -> 20: success -0.01, disp -0.03, WDQ 3
        ((100, 90, 50, 20, 1000, 1000), 3.0, "diffusion of benefit into the buffer, larger"),
        # target 100 -> 90, buffer 50 -> 80: success -0.01, disp 0.03, WDQ -3
        ((100, 90, 50, 80, 1000, 1000), -3.0, "displacement into the buffer larger"),
        # target 100 -> 50, buffer 50 -> 50: WDQ 0
        ((100, 50, 50, 50, 1000, 1000), 0.0, "no displacement and no diffusion"),
    ],
)
def test_wdq_bands(counts: tuple[int, ...], wdq: float, band: str) -> None:
    got, success, _ = weighted_displacement_quotient(*counts)
    assert got == pytest.approx(wdq)
    assert interpret_wdq(got, success).startswith(band)


def test_wdq_not_interpreted_without_success() -> None:
    wdq, success, _ = weighted_displacement_quotient(100, 120, 50, 40, 1000, 1000)
    assert success > 0
    assert interpret_wdq(wdq, success).startswith("not interpretable")


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(2, 50),
)
def test_relative_effect_invariants(tb: int, ta: int, cb: int, ca: int, k: int) -> None:
    """The CI holds the estimate; swapping target and control inverts it; scaling the control
    changes nothing but the interval."""
    res, low, high = relative_effect(tb, ta, cb, ca)
    assert low < res < high
    inv, ilow, ihigh = relative_effect(cb, ca, tb, ta)
    assert inv == pytest.approx(1 / res)
    assert ilow == pytest.approx(1 / high) and ihigh == pytest.approx(1 / low)
    scaled, slow, shigh = relative_effect(tb, ta, k * cb, k * ca)
    assert scaled == pytest.approx(res)
    assert slow >= low - 1e-12 and shigh <= high + 1e-12


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 500),
    st.integers(1, 500),
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.integers(2, 20),
)
def test_wdq_ignores_scale_of_counts(
    tb: int, ta: int, bb: int, ba: int, cb: int, ca: int, k: int
) -> None:
    """Multiplying every count by k leaves the WDQ unchanged (it is a ratio of rates)."""
    wdq, success, _ = weighted_displacement_quotient(tb, ta, bb, ba, cb, ca)
    wdq_k, success_k, _ = weighted_displacement_quotient(
        k * tb, k * ta, k * bb, k * ba, k * cb, k * ca
    )
    assert success_k == pytest.approx(success)
    if math.isfinite(wdq):
        assert wdq_k == pytest.approx(wdq, rel=1e-9, abs=1e-12)


def test_monthly_dispersion_by_hand() -> None:
    """Pearson chi-square around each period's mean over (months - 2), at least 1."""
    # before 20, 40 (mean 30): (100 + 100) / 30; after 10, 30 (mean 20): (100 + 100) / 20
    assert monthly_dispersion([20, 40], [10, 30]) == pytest.approx((200 / 30 + 200 / 20) / 2)
    assert monthly_dispersion([30, 30, 30], [20, 20]) == 1.0  # steadier than Poisson
    assert monthly_dispersion([5], [9]) == 1.0  # too few months to tell
    assert monthly_dispersion([0, 0], [3, 4]) == 1.0  # an empty period


def test_relative_effect_separate_control_inflation() -> None:
    """var(ln RES) = phi_T (1/Tb + 1/Ta) + phi_C (1/Cb + 1/Ca)."""
    _, low, high = relative_effect(100, 50, 1000, 1000, variance_inflation=3, control_inflation=10)
    se = math.sqrt(3 * (1 / 100 + 1 / 50) + 10 * (2 / 1000))
    assert low == pytest.approx(2.0 * math.exp(-Z95 * se))
    assert high == pytest.approx(2.0 * math.exp(Z95 * se))
    with pytest.raises(ParameterError, match="control_inflation"):
        relative_effect(100, 50, 1000, 1000, control_inflation=0)


def test_classify_wdq_bands_are_the_documented_codes() -> None:
    """classify_wdq returns codes (the report words them): one per band of Table 1."""
    from hotspots.pilot_stats import WDQ_BANDS

    got = {
        classify_wdq(3.0, -0.01),
        classify_wdq(0.2, -0.05),
        classify_wdq(0.0, -0.05),
        classify_wdq(-0.2, -0.05),
        classify_wdq(-3.0, -0.01),
        classify_wdq(0.5, 0.02),
        classify_wdq(math.nan, -0.01),
    }
    assert got == set(WDQ_BANDS) - {"no_buffer", "no_control"}


def test_doctests() -> None:
    import doctest

    from hotspots import pilot_stats

    for module in (pilot_stats,):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        assert result.attempted > 0 and result.failed == 0, module.__name__
