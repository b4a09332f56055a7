"""The map rendered once for the browser (ui/map_payload.py) is what st_folium would send.

The dashboard hands streamlit-folium's component a payload made once per map instead of calling
``st_folium`` on every rerun. These tests capture what each path gives the component, on the
demo borough's real map (hotspots, wards, patrol areas, labels, the drawing tool), and require
them equal, so an upgrade of streamlit-folium that changes its internals fails here first.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import streamlit_folium as sf

from geodata import (
    SAMPLE_INCIDENTS,
    SAMPLE_PATROL_AREAS,
    SAMPLE_WARDS,
    load_patrol_areas,
    load_wards,
)
from hotspots import filter_incidents, read_incidents
from hotspots.pipeline import analyse
from ui.helpers import add_draw_tool, build_map
from ui.map_payload import MapPayload, component_available, map_payload, show_payload

RETURNED = ["last_object_clicked", "all_drawings"]


@pytest.fixture(scope="module")
def demo_map() -> Any:
    incidents, _ = read_incidents(SAMPLE_INCIDENTS)
    chosen = filter_incidents(incidents, start="2024-10", end="2024-12")
    wards, _ = load_wards(SAMPLE_WARDS, incidents=incidents)
    patrols, _ = load_patrol_areas(SAMPLE_PATROL_AREAS, incidents=incidents)
    result = analyse(chosen, wards=wards, patrols=patrols, run_backtest=False)
    m = build_map(
        result, chosen, wards=wards, patrols=patrols, tiles=None, attribution=None,
        title="Demo Borough", synthetic=True, uncovered=result.uncovered,
    )  # fmt: skip
    assert add_draw_tool(m)
    return m


def _captured(monkeypatch: pytest.MonkeyPatch, show: Any) -> dict[str, Any]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(sf, "_component_func", lambda **kw: calls.append(kw) or None)
    show()
    assert len(calls) == 1
    args = dict(calls[0])
    assert callable(args.pop("on_change"))
    return args


def test_payload_gives_the_component_what_st_folium_gives_it(
    demo_map: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert component_available()
    key = "map-0"
    theirs = _captured(
        monkeypatch,
        lambda: sf.st_folium(
            copy.deepcopy(demo_map),
            key=key,
            height=520,
            use_container_width=True,
            returned_objects=RETURNED,
        ),
    )
    payload = map_payload(copy.deepcopy(demo_map))
    ours = _captured(
        monkeypatch,
        lambda: show_payload(payload, key=key, height=520, returned_objects=RETURNED),
    )
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert ours[name] == theirs[name], name
    # the map itself is in it: hotspot outlines, ward names, the drawing tool
    assert "H01" in ours["script"] and "L.Control.Draw" in ours["script"]


def test_component_identity_follows_the_key_and_the_map(demo_map: Any) -> None:
    payload = map_payload(copy.deepcopy(demo_map))
    assert payload.component_key("map-0") == payload.component_key("map-0")
    assert payload.component_key("map-0") != payload.component_key("map-1")
    assert payload.component_key("map-0") == sf.generate_js_hash(payload.script, "map-0", False)
    assert isinstance(payload, MapPayload)
