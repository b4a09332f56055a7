"""The dashboard through Streamlit's AppTest: it opens on the synthetic sample and reacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def app() -> AppTest:
    """The app after its first run on the demo borough."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    return at


def test_opens_on_the_synthetic_demo(app: AppTest) -> None:
    assert not app.exception
    assert any("Synthetic demo data" in w.value for w in app.warning)
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["Hotspots"]) > 0
    assert int(metrics["Incidents analysed"].replace(",", "")) > 10_000
    table = app.dataframe[0].value
    assert list(table["hotspot_id"][:2]) == ["H01", "H02"]
    assert table["wards"].str.len().gt(0).all()  # every hotspot lies in a demo ward
    wards = app.dataframe[1].value
    assert list(wards.columns[:3]) == ["ward_code", "ward_name", "incidents"]
    patrols = app.dataframe[2].value
    assert len(patrols) == 4  # the four demo patrol areas
    streets = app.dataframe[3].value
    assert len(streets) > 0 and set(streets["hotspot_id"]) <= set(table["hotspot_id"])


def test_manual_settings_change_the_result(app: AppTest) -> None:
    before = int({m.label: m.value for m in app.metric}["Hotspots"])
    app.checkbox[0].uncheck().run()
    app.slider[0].set_value(40).run()
    app.number_input[0].set_value(400).run()
    assert not app.exception
    after = {m.label: m.value for m in app.metric}
    assert after["eps / min_samples"] == "40 m / 400"
    assert int(after["Hotspots"]) < before


def test_no_crime_type_chosen_shows_a_message(app: AppTest) -> None:
    app.multiselect[0].set_value([]).run()
    assert not app.exception
    assert any("at least one crime type" in i.value for i in app.info)
    assert not app.metric
