"""A folium map turned once into what streamlit-folium sends the browser, then shown cheaply.

``st_folium`` does all of its work on every rerun: it renders the whole map twice (folium
compiles each element's rendered script as a Jinja template), walks every coordinate for the
map's bounds, and turns the elements into the page's script. For a map that has not changed
none of that is needed: :func:`map_payload` does it once (the dashboard caches the result with
the map) and :func:`show_payload` hands the same arguments to streamlit-folium's component.

The arguments are exactly those ``st_folium`` gives its component (``tests/test_map_payload.py``
compares them), so the browser side -- clicks, drawings, the component's identity -- is
streamlit-folium's own. The bounds ``st_folium`` computes are left out: they only reach the
page when ``"bounds"`` is among the returned objects, which the dashboard never asks for.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import branca
import folium
import folium.elements

#: What st_folium returns before the user has touched the map (the keys it can return).
_DEFAULTS: dict[str, Any] = {
    "last_clicked": None,
    "last_object_clicked": None,
    "last_object_clicked_count": None,
    "last_object_clicked_tooltip": None,
    "last_object_clicked_popup": None,
    "all_drawings": None,
    "last_active_drawing": None,
    "last_circle_radius": None,
    "last_circle_polygon": None,
    "selected_layers": None,
    "selected_tags": None,
    "last_geocoder_result": None,
}


@dataclass(frozen=True)
class MapPayload:
    """A map as the streamlit-folium component receives it (all text; safe to share)."""

    script: str
    header: str
    html: str
    map_id: str
    zoom: Any
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    _hashes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def component_key(self, key: str | None) -> str:
        """streamlit-folium's identity for this map under ``key`` (computed once per key)."""
        from streamlit_folium import generate_js_hash

        name = str(key)
        if name not in self._hashes:
            self._hashes[name] = generate_js_hash(self.script, key, False)
        return self._hashes[name]


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The style sheets and scripts the map's elements need, in st_folium's order."""

    def walk(element: Any) -> Iterable[Any]:
        if isinstance(element, branca.colormap.ColorMap | folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    css: list[str] = []
    js: list[str] = []
    for element in walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            js[:0] = [
                "https://d3js.org/d3.v4.min.js",
                "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js",
            ]
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


class _WithoutScript:
    """An element's template whose module has no ``script`` macro (all else delegated)."""

    def __init__(self, template: Any) -> None:
        self._real = template
        self.module = types.SimpleNamespace(
            **{k: v for k, v in vars(template.module).items() if k != "script"}
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _walk(element: Any) -> Iterable[Any]:
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def _render_for_header(m: folium.Map) -> None:
    """``m.get_root().render()`` for its effects (the page header, the elements' state their
    scripts read) without what streamlit-folium does not use: the figure's copy of each
    element's script, which branca compiles as a Jinja template (tenths of a second for a
    map whose GeoJSON has thousands of braces). streamlit-folium renders each script itself
    afterwards, from the elements' own templates, restored here."""
    shadowed: list[tuple[Any, bool, Any]] = []
    for element in _walk(m.get_root()):
        template = getattr(element, "_template", None)
        if isinstance(element, branca.element.MacroElement) and template is not None:
            own = "_template" in vars(element)
            shadowed.append((element, own, template))
            element._template = _WithoutScript(template)
    try:
        m.get_root().render()
    finally:
        for element, own, template in shadowed:
            if own:
                element._template = template
            else:
                del element._template


def map_payload(m: folium.Map) -> MapPayload:
    """Render ``m`` once into its payload. This uses ``m`` up: streamlit-folium renames the
    elements it turns into script, so pass a copy of a map that is needed again."""
    import streamlit_folium as sf

    _render_for_header(m)
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    css, js = _links(m)
    return MapPayload(
        script=script,
        header=header,
        html=html,
        map_id=sf.get_full_id(m),
        zoom=m.options.get("zoom"),
        css_links=css,
        js_links=js,
    )


def show_payload(
    payload: MapPayload,
    *,
    key: str,
    height: int,
    returned_objects: list[str],
) -> Any:
    """Show the map in the page, as ``st_folium(..., use_container_width=True)`` would, and
    return what the user did on it (the keys in ``returned_objects``)."""
    import streamlit as st
    import streamlit_folium as sf

    hash_key = payload.component_key(key)

    def changed() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    return sf._component_func(
        script=payload.script,
        header=payload.header,
        html=payload.html,
        id=payload.map_id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned_objects,
        default={
            k: v for k, v in {**_DEFAULTS, "zoom": payload.zoom}.items() if k in returned_objects
        },
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(payload.css_links),
        js_links=list(payload.js_links),
        on_change=changed,
        wrap_longitude=False,
    )


@functools.cache
def component_available() -> bool:
    """Whether this streamlit-folium has the pieces :func:`map_payload` uses."""
    try:
        import streamlit_folium as sf
    except ImportError:
        return False
    names = ("_component_func", "_get_html", "_get_header", "_get_map_string", "get_full_id")
    return all(hasattr(sf, n) for n in names) and hasattr(sf, "generate_js_hash")
