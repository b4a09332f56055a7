"""Tables in words: ui/tables.py, and every table on every page of the dashboard (AppTest)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui.tables import column_config, display_frame

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["overview", "plan", "outreach", "briefing", "analysis", "evaluate"]


def test_display_frame_shows_shares_rounded_lists_and_leaves_empty_columns_out() -> None:
    ward = pd.DataFrame(
        {
            "ward_code": ["W1", "W2"],
            "incidents": [1234, 5],
            "incidents_per_km2": [886.7398, 12.5],
            "population": [None, None],
            "hotspots": [["H01", "H02"], []],
            "share_in_hotspots": [0.637183, 0.0],
        }
    )
    shown = display_frame(ward)
    assert "population" not in shown.columns  # no value at all: not a column of "None"
    assert shown["incidents_per_km2"].tolist() == [887.0, 12.0]  # whole numbers (half to even)
    assert np.allclose(shown["share_in_hotspots"], [63.7183, 0.0])  # shown as "63.7%"
    assert shown["hotspots"].tolist() == ["H01, H02", ""]
    assert ward["share_in_hotspots"].iloc[0] == 0.637183  # the library's table is untouched
    config = column_config(shown)
    labels = {k: v["label"] for k, v in config.items()}
    assert labels["incidents_per_km2"] == "Incidents per km²"
    assert labels["share_in_hotspots"] == "Share in hotspots"
    assert config["share_in_hotspots"]["type_config"]["format"] == "%.1f%%"
    assert config["incidents"]["type_config"]["format"] == "localized"


def test_an_unlisted_column_gets_its_name_in_words() -> None:
    config = column_config(pd.DataFrame({"some_new_p": [0.5], "z": [1.0]}))
    assert config["some_new_p"]["label"] == "Some new p"
    assert config["z"]["label"] == "Z"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppTest]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOTSPOTS_STORE", str(tmp_path_factory.mktemp("s") / "store.gpkg"))
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()
        assert not at.exception
        yield at


@pytest.mark.parametrize("page", PAGES)
def test_no_table_shows_a_raw_column_name(session: AppTest, page: str) -> None:
    """Every table on every page labels its columns in words (no snake_case on screen)."""
    session.switch_page(f"ui/pages/{page}.py").run()
    assert not session.exception
    raw = []
    for df in session.dataframe:
        config = json.loads(df.proto.columns or "{}")
        for column in df.value.columns:
            label = config.get(str(column), {}).get("label", str(column))
            if "_" in label:
                raw.append(label)
    assert raw == [], f"{page}: {raw}"


#: a parameter, a column or a flag as written in code, or a CRS code: never on screen
RAW = re.compile(r"\b[a-z]+_[a-z0-9_]+\b|--[a-z]|EPSG|\beps\b")


@pytest.mark.parametrize("page", PAGES)
def test_no_screen_text_names_a_parameter_or_flag(session: AppTest, page: str) -> None:
    """Headings, sentences, numbers and controls in words: no snake_case, flag or CRS code."""
    session.switch_page(f"ui/pages/{page}.py").run()
    assert not session.exception
    texts = [
        str(e.value)
        for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader")
        for e in getattr(session, kind)
    ]
    texts += [f"{m.label} {m.value}" for m in session.metric]
    for kind in ("button", "checkbox", "radio", "selectbox", "multiselect", "slider", "toggle"):
        texts += [f"{w.label} {getattr(w.proto, 'help', '')}" for w in getattr(session, kind)]
    raw = [(hit, t[:80]) for t in texts for hit in RAW.findall(t)]
    assert raw == [], f"{page}: {raw}"


def test_counts_show_with_thousands_separators_whether_int_or_float() -> None:
    """The pilot's counts (floats: 34486.0) and any other whole-number column show as
    34,486; the Change table's percentages as whole signed percents."""
    frame = pd.DataFrame(
        {"zone": ["control"], "before": [34486.0], "during": [14519], "after": [35053.0],
         "pct_change": [73.6842]}
    )  # fmt: skip
    config = column_config(display_frame(frame))
    for name in ("before", "during", "after"):
        assert config[name]["type_config"]["format"] == "localized", name
    assert config["pct_change"]["type_config"]["format"] == "%+.0f%%"
