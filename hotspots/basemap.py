"""The map's base map: an organisation's tile server (checked) or a folium tile name, or none.

:func:`check_tiles` is the one check of a base-map setting, used by :func:`hotspots.make_map`,
by the dashboard next to its tile-server box and by the command line for ``--tiles`` before any
work starts. A tile server address must be ``https://`` with ``{z}``, ``{x}`` and ``{y}`` (``{s}``
and ``{r}`` allowed; any other ``{...}`` would stop Leaflet drawing the map); anything that is not
such an address must be a tile name folium knows (``"OpenStreetMap"``). Every refusal is the same
plain line, :data:`TILE_SERVER_HELP`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import folium
from branca.element import MacroElement
from folium.template import Template

from ._text import esc
from .errors import ParameterError

__all__ = ["TILE_SERVER_EXAMPLE", "TILE_SERVER_HELP", "add_tiles", "check_tiles"]

#: The example address of :data:`TILE_SERVER_HELP`.
TILE_SERVER_EXAMPLE = "https://tiles.example.org/{z}/{x}/{y}.png"
#: The one line every refused base-map setting gets (the CLI names its flag in front).
TILE_SERVER_HELP = (
    "The tile server address must start with https:// and contain {z}, {x} and {y}, "
    f"e.g. {TILE_SERVER_EXAMPLE}"
)
# Placeholders Leaflet fills in itself; any other {...} throws in the browser.
_PLACEHOLDERS = re.compile(r"\{(?:s|z|x|y|-y|r)\}")
# What makes a setting an address rather than a tile name.
_ADDRESS_HINT = re.compile(r"[/{}:]|^www\.", re.I)


def _address_ok(url: str) -> bool:
    """Whether ``url`` is a tile URL template Leaflet fills in (https, z/x/y, no stray braces)."""
    if re.search(r"[\s\"'<>\\]", url):
        return False
    parts = urlsplit(url)
    if (
        parts.scheme.lower() != "https"
        or not parts.netloc
        or "{" in parts.netloc.replace("{s}", "")
    ):
        return False
    has_y = "{y}" in url or "{-y}" in url
    if "{z}" not in url or "{x}" not in url or not has_y:
        return False
    if re.search(r"\{-?[xyz]\}\{-?[xyz]\}", url):  # "{x}{y}": two numbers run together
        return False
    rest = _PLACEHOLDERS.sub("", url)
    return "{" not in rest and "}" not in rest


def check_tiles(tiles: object) -> str | None:
    """The base-map setting, checked: None for no base map, else the tile name or address.

    Parameters
    ----------
    tiles
        None, ``""`` or ``"none"`` (any case): no base map. A tile server address
        (``https://tiles.example.org/{z}/{x}/{y}.png``), or a tile name folium knows
        (``"OpenStreetMap"``). Surrounding spaces are ignored.

    Returns
    -------
    str or None

    Raises
    ------
    ParameterError
        ``argument="tiles"``, with :data:`TILE_SERVER_HELP`, for anything else.

    Examples
    --------
    >>> check_tiles(" https://tiles.example.org/{z}/{x}/{y}.png ")
    'https://tiles.example.org/{z}/{x}/{y}.png'
    >>> check_tiles("none") is None
    True
    >>> check_tiles("https://x/{z}/{x}{y}.png")  # a missing "/": refused
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: The tile server address must start with https:// and \
contain {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png
    >>> check_tiles("htps://x/{z}/{x}/{y}.png")
    Traceback (most recent call last):
    ...
    hotspots.errors.ParameterError: The tile server address must start with https:// and \
contain {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png
    """
    if tiles is None:
        return None
    if not isinstance(tiles, str):
        raise ParameterError(TILE_SERVER_HELP, argument="tiles")
    text = tiles.strip()
    if not text or text.lower() == "none":
        return None
    if _ADDRESS_HINT.search(text):
        if _address_ok(text):
            return text
        raise ParameterError(TILE_SERVER_HELP, argument="tiles")
    try:
        folium.TileLayer(text)
    except (ValueError, KeyError):
        raise ParameterError(TILE_SERVER_HELP, argument="tiles") from None
    return text


class _Attribution(MacroElement):
    """Add a (pre-escaped) attribution to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            if ({{ this._parent.get_name() }}.attributionControl) {
                {{ this._parent.get_name() }}.attributionControl.addAttribution(
                    {{ this.text|tojson }});
            }
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "HotspotsAttribution"
        self.text = text


#: The credit the data's licences ask for, on every map (data.police.uk and ONS boundaries
#: are published under the Open Government Licence v3.0; OS data in the boundaries).
DATA_ATTRIBUTION = (
    "Crime data: data.police.uk, Open Government Licence v3.0 · Boundaries: ONS, contains "
    "OS data © Crown copyright and database right"
)
#: The credit of the synthetic demo data.
SYNTHETIC_ATTRIBUTION = "Synthetic demo data: invented incidents and boundaries"


def add_data_attribution(m: folium.Map, synthetic: bool) -> None:
    """Credit the data in the map's attribution control (:data:`DATA_ATTRIBUTION`, or
    :data:`SYNTHETIC_ATTRIBUTION`)."""
    m.add_child(_Attribution(esc(SYNTHETIC_ATTRIBUTION if synthetic else DATA_ATTRIBUTION)))


def add_tiles(m: folium.Map, tiles: str | None, attribution: str | None) -> None:
    """The base map of a :func:`check_tiles` setting, or none (the attribution alone).

    ``attribution`` is plain text (escaped here); for an address it defaults to its host name.
    """
    if tiles is None:
        if attribution:
            m.add_child(_Attribution(esc(attribution)))
        return
    if _ADDRESS_HINT.search(tiles):
        attr = esc(attribution) if attribution else esc(urlsplit(tiles).netloc or "tiles")
        folium.TileLayer(tiles, attr=attr, name="Base map", max_zoom=19).add_to(m)
    else:
        folium.TileLayer(tiles, attr=esc(attribution) if attribution else None).add_to(m)
