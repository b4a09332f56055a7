"""Leaflet and its plugins from local files, so that maps work with no internet.

Folium's templates load Leaflet, jQuery, Bootstrap, Font Awesome and every plugin from public
CDNs; on a locked-down network such a map is blank. Set-up (``make setup``) installs the few
packages the maps need from the npm registry (``assets/package.json``, pinned by
``assets/package-lock.json``) and copies exactly the files used into ``static/vendor/`` with a
``manifest.json`` (:mod:`hotspots.assets_install`)::

    python -m hotspots.assets_install install assets/node_modules static/vendor

This module lists those files (:data:`ASSET_FILES`), finds the installed folder
(:func:`asset_dir`: ``static/vendor`` in the repository, or the ``folder`` a caller gives) and
points maps at it. A map then points at those files in one of two ways (:func:`local_assets`):

``"static"``
    URLs under a prefix a web server serves ``static/vendor/`` at; for the Streamlit app that is
    ``/app/static/vendor`` (``server.enableStaticServing``, files in ``./static`` next to
    ``app.py``). Give it from the server root: streamlit-folium's ``st_folium`` loads the links
    inside its component iframe (``/component/streamlit_folium.st_folium/index.html``), where the
    relative ``app/static/vendor`` resolves to a 404. With ``server.baseUrlPath`` set, prefix it.
``"inline"``
    ``file:`` URLs of the installed files, which :func:`inline_html` replaces by the files'
    content (stylesheets with their images as ``data:`` URIs): a standalone HTML file that opens
    with no internet and no server.

Only Leaflet, Leaflet.heat, Leaflet.fullscreen and Leaflet.draw (the dashboard's drawing tool)
are shipped. jQuery, Bootstrap, Font Awesome, Glyphicons and awesome-markers, which folium's
:class:`folium.Map` also loads, are dropped: the hotspot maps use none of them (popups and
tooltips are bound with plain Leaflet, never with ``folium.Popup``, whose template calls
jQuery). :func:`external_urls` lists whatever a page would still fetch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import JSCSSMixin

from .errors import InputError

__all__ = [
    "ASSET_FILES",
    "DEFAULT_FOLDER",
    "HEAT_PATCH",
    "HEAT_PATCH_JS",
    "INSTALL_HINT",
    "MANIFEST",
    "AssetFile",
    "AssetMode",
    "asset_dir",
    "asset_url",
    "assets_as",
    "external_urls",
    "inline_html",
    "local_assets",
    "read_manifest",
]

#: Where the installed assets are unless a caller gives another folder: ``static/vendor`` in the
#: repository this package sits in (an editable install, as ``make setup`` makes).
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "static" / "vendor"
#: The manifest the installer writes last; its presence marks a complete install.
MANIFEST = "manifest.json"

AssetMode = Literal["inline", "static"]

#: How to install the assets, for error messages.
INSTALL_HINT = (
    "run `make setup` (or `cd assets && npm ci` then "
    "`python -m hotspots.assets_install install assets/node_modules static/vendor`)"
)


@dataclass(frozen=True)
class AssetFile:
    """One installed file: its npm package, its path in the package, its path under DEST."""

    package: str
    source: str
    dest: str


# Exactly the files the maps load (plus the licences, which the packages ask to keep with them).
#: Exactly the files the maps load, copied out of npm's node_modules by the installer.
ASSET_FILES: tuple[AssetFile, ...] = (
    AssetFile("leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    AssetFile("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    AssetFile("leaflet", "dist/images/layers.png", "leaflet/images/layers.png"),
    AssetFile("leaflet", "dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    AssetFile("leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    AssetFile("leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    AssetFile("leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    AssetFile("leaflet", "LICENSE", "leaflet/LICENSE"),
    AssetFile("leaflet.heat", "dist/leaflet-heat.js", "leaflet.heat/leaflet-heat.js"),
    AssetFile("leaflet.heat", "LICENSE", "leaflet.heat/LICENSE"),
    AssetFile(
        "leaflet.fullscreen", "Control.FullScreen.js", "leaflet.fullscreen/Control.FullScreen.js"
    ),
    AssetFile(
        "leaflet.fullscreen", "Control.FullScreen.css", "leaflet.fullscreen/Control.FullScreen.css"
    ),
    AssetFile(
        "leaflet.fullscreen", "icon-fullscreen.svg", "leaflet.fullscreen/icon-fullscreen.svg"
    ),
    AssetFile("leaflet.fullscreen", "LICENSE", "leaflet.fullscreen/LICENSE"),
    # Leaflet.draw: the dashboard's "draw a patrol area" tool (folium.plugins.Draw)
    AssetFile("leaflet-draw", "dist/leaflet.draw.js", "leaflet-draw/leaflet.draw.js"),
    AssetFile("leaflet-draw", "dist/leaflet.draw.css", "leaflet-draw/leaflet.draw.css"),
    AssetFile("leaflet-draw", "dist/images/spritesheet.png", "leaflet-draw/images/spritesheet.png"),
    AssetFile(
        "leaflet-draw", "dist/images/spritesheet-2x.png", "leaflet-draw/images/spritesheet-2x.png"
    ),
    AssetFile("leaflet-draw", "dist/images/spritesheet.svg", "leaflet-draw/images/spritesheet.svg"),
    AssetFile("leaflet-draw", "package.json", "leaflet-draw/package.json"),  # "license": "MIT"
)

# Written by the installer (not from npm): Leaflet.heat 0.2.0 caps every cell at `max` (default 1),
# so weighted points (counts) all saturate. Folium ships a copy patched after Leaflet.heat pull
# request 78 and its HeatMap relies on it ("the largest intensity is calculated automatically");
# this file applies the same change to the npm release, honours the `pane` option and adds
# `maxQuantile` (saturate at a quantile of the cells instead of the largest).
#: The weighted-heat patch: its path under the installed folder, and its text.
HEAT_PATCH = "hotspots/leaflet-heat-weights.js"
HEAT_PATCH_JS = """\
/* hotspots: Leaflet.heat 0.2.0 (BSD-2-Clause, (c) 2014 Vladimir Agafonkin) with weighted points,
   as in Leaflet/Leaflet.heat pull request 78 (the copy folium ships): a cell's intensity is the
   sum of its points' weights, drawn relative to the largest cell at the current zoom (or, with
   `options.maxQuantile` below 1, to that quantile of the cells, so one extreme point does not
   wash the rest out); the layer is drawn in `options.pane` when given. */
(function () {
  "use strict";
  if (typeof L === "undefined" || !L.HeatLayer) { return; }
  var proto = L.HeatLayer.prototype;
  proto.redraw = function () {
    if (this._heat && !this._frame && this._map && !this._map._animating) {
      this._frame = L.Util.requestAnimFrame(this._redraw, this);
    }
    return this;
  };
  proto.onAdd = function (map) {
    this._map = map;
    if (!this._canvas) { this._initCanvas(); }
    (this.options.pane ? this.getPane() : map._panes.overlayPane).appendChild(this._canvas);
    map.on("moveend", this._reset, this);
    if (map.options.zoomAnimation && L.Browser.any3d) {
      map.on("zoomanim", this._animateZoom, this);
    }
    this._reset();
  };
  proto.onRemove = function (map) {
    (this.options.pane ? this.getPane() : map.getPanes().overlayPane).removeChild(this._canvas);
    map.off("moveend", this._reset, this);
    if (map.options.zoomAnimation) { map.off("zoomanim", this._animateZoom, this); }
  };
  proto._redraw = function () {
    if (!this._map) { return; }
    var data = [], r = this._heat._r, size = this._map.getSize(),
        bounds = new L.Bounds(L.point([-r, -r]), size.add([r, r])),
        cellSize = r / 2, grid = [], panePos = this._map._getMapPanePos(),
        offsetX = panePos.x % cellSize, offsetY = panePos.y % cellSize,
        max = 1, cells = [], i, len, j, len2, p, cell, x, y, k, ll;
    for (i = 0, len = this._latlngs.length; i < len; i++) {
      ll = this._latlngs[i];
      p = this._map.latLngToContainerPoint(ll);
      x = Math.floor((p.x - offsetX) / cellSize) + 2;
      y = Math.floor((p.y - offsetY) / cellSize) + 2;
      k = ll.alt !== undefined ? ll.alt : ll[2] !== undefined ? +ll[2] : 1;
      grid[y] = grid[y] || [];
      cell = grid[y][x];
      if (!cell) {
        cell = grid[y][x] = [p.x, p.y, k];
        cell.p = p;
        cells.push(cell);
      } else {
        cell[0] = (cell[0] * cell[2] + p.x * k) / (cell[2] + k);
        cell[1] = (cell[1] * cell[2] + p.y * k) / (cell[2] + k);
        cell[2] += k;
      }
      if (cell[2] > max) { max = cell[2]; }
    }
    var q = this.options.maxQuantile;
    if (q !== undefined && q < 1 && cells.length > 1) {
      var values = cells.map(function (c) { return c[2]; }).sort(function (a, b) { return a - b; });
      max = Math.max(1, values[Math.min(values.length - 1, Math.floor(q * values.length))]);
    }
    this._heat.max(max);
    for (i = 0, len = grid.length; i < len; i++) {
      if (!grid[i]) { continue; }
      for (j = 0, len2 = grid[i].length; j < len2; j++) {
        cell = grid[i][j];
        if (cell && bounds.contains(cell.p)) {
          data.push([Math.round(cell[0]), Math.round(cell[1]), Math.min(cell[2], max)]);
        }
      }
    }
    this._heat.data(data).draw(this.options.minOpacity);
    this._frame = null;
  };
}());
"""

_PATCH_SHA256 = hashlib.sha256(HEAT_PATCH_JS.encode("utf-8")).hexdigest()
_LOCAL_FILES = frozenset([f.dest for f in ASSET_FILES] + [HEAT_PATCH])

# What each folium resource name (as in the elements' default_js / default_css) becomes: the
# local files that replace it, in load order, or () when the maps do not need it.
_JS: dict[str, tuple[str, ...]] = {
    "leaflet": ("leaflet/leaflet.js",),
    "leaflet-heat.js": ("leaflet.heat/leaflet-heat.js", HEAT_PATCH),
    "Control.Fullscreen.js": ("leaflet.fullscreen/Control.FullScreen.js",),
    "leaflet_draw_js": ("leaflet-draw/leaflet.draw.js",),
    "jquery": (),
    "bootstrap": (),
    "awesome_markers": (),
}
_CSS: dict[str, tuple[str, ...]] = {
    "leaflet_css": ("leaflet/leaflet.css",),
    "Control.FullScreen.css": ("leaflet.fullscreen/Control.FullScreen.css",),
    "leaflet_draw_css": ("leaflet-draw/leaflet.draw.css",),
    "bootstrap_css": (),
    "glyphicons_css": (),
    "awesome_markers_font_css": (),
    "awesome_markers_css": (),
    "awesome_rotate_css": (),
}


# --------------------------------------------------------------------------------------------
# find and link


def read_manifest(root: Path) -> dict[str, dict[str, dict[str, object]]]:
    """The installer's ``manifest.json`` in ``root``; ``{}`` when missing or unreadable."""
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def asset_dir(folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the installed map assets, checked.

    ``folder`` when given, else :data:`DEFAULT_FOLDER` (``static/vendor`` in the repository). The
    folder must hold the installer's ``manifest.json`` and every file it lists.

    Raises
    ------
    InputError
        When the assets are not installed, naming the folder and the command that installs them.
    """
    root = DEFAULT_FOLDER if folder is None else Path(folder)
    where = str(root)
    manifest = read_manifest(root)
    files = manifest.get("files", {})
    if not files:
        raise InputError(
            f"map assets are not installed ({where} has no {MANIFEST}): {INSTALL_HINT}."
        )
    missing = [rel for rel in files if not (root / rel).is_file()]
    patch = files.get(HEAT_PATCH, {})
    if not missing and patch and patch.get("sha256") != _PATCH_SHA256:
        raise InputError(
            f"map assets in {where} are out of date (written by an older hotspots): {INSTALL_HINT}."
        )
    if missing:
        raise InputError(
            f"map assets are incomplete ({where} lacks {', '.join(sorted(missing)[:3])}): "
            f"{INSTALL_HINT}."
        )
    return root.resolve()


def asset_url(
    rel: str,
    *,
    mode: AssetMode = "inline",
    static_url: str = "/app/static/vendor",
    folder: str | os.PathLike[str] | None = None,
) -> str:
    """The URL a map uses for one installed file (``rel``, e.g. ``"leaflet/leaflet.js"``).

    ``mode="static"`` gives ``f"{static_url}/{rel}"``; ``mode="inline"`` gives the file's
    ``file:`` URI in :func:`asset_dir` of ``folder``, which :func:`inline_html` replaces by the
    file's content.

    >>> asset_url("leaflet/leaflet.js", mode="static")
    '/app/static/vendor/leaflet/leaflet.js'
    """
    if mode == "static":
        return f"{static_url.rstrip('/')}/{rel}"
    if mode == "inline":
        return (asset_dir(folder) / rel).as_uri()
    raise ValueError(f"mode must be 'inline' or 'static', not {mode!r}")


def _local_links(
    links: Sequence[tuple[str, str]],
    table: dict[str, tuple[str, ...]],
    element: JSCSSMixin,
    mode: AssetMode,
    static_url: str,
    folder: str | os.PathLike[str] | None,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, url in links:
        if name in table:
            out.extend(
                (rel, asset_url(rel, mode=mode, static_url=static_url, folder=folder))
                for rel in table[name]
            )
        elif name in _LOCAL_FILES:  # already local: re-point (the mode may differ)
            out.append((name, asset_url(name, mode=mode, static_url=static_url, folder=folder)))
        else:
            raise ValueError(
                f"{type(element).__name__} loads {name!r} from {url}, which hotspots does not "
                "ship; add its npm package to assets/package.json and its files to hotspots.assets."
            )
    # De-duplicate by URL, keeping the first (load order matters).
    unique: dict[str, str] = {}
    for name, url in out:
        unique.setdefault(url, name)
    return [(name, url) for url, name in unique.items()]


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def local_assets(
    m: folium.Map,
    *,
    mode: AssetMode = "inline",
    static_url: str = "/app/static/vendor",
    folder: str | os.PathLike[str] | None = None,
) -> folium.Map:
    """Point ``m``'s scripts and stylesheets (and its plugins') at the installed local files.

    Sets ``default_js`` / ``default_css`` on every element of the map that has them (on the
    instance: folium's class defaults are left alone), mapping folium's resource names to local
    files and dropping what the maps do not need (jQuery, Bootstrap, Font Awesome, Glyphicons,
    awesome-markers). Call it after the last plugin is added. Returns ``m`` (changed in place).

    Parameters
    ----------
    m
        The map.
    mode
        ``"static"``: URLs under ``static_url`` (the Streamlit app serves ``static/vendor`` at
        ``/app/static/vendor``); ``"inline"``: ``file:`` URLs that :func:`inline_html` inlines.
    static_url
        URL prefix of the installed folder, used when ``mode="static"``.
    folder
        The installed folder (:func:`asset_dir`), used when ``mode="inline"``.

    Raises
    ------
    InputError
        When the assets are not installed.
    ValueError
        When an element loads a library hotspots does not ship.
    """
    if mode not in ("inline", "static"):
        raise ValueError(f"mode must be 'inline' or 'static', not {mode!r}")
    for element in _walk(m):
        if isinstance(element, JSCSSMixin):
            element.default_js = _local_links(
                element.default_js, _JS, element, mode, static_url, folder
            )
            element.default_css = _local_links(
                element.default_css, _CSS, element, mode, static_url, folder
            )
    _drop_header_links(m.get_root())
    return m


def _drop_header_links(root: Element) -> None:
    """Forget the links an earlier render put in the figure's header (the next render re-adds)."""
    if isinstance(root, Figure):
        header = root.header
        for key, child in list(header._children.items()):
            if isinstance(child, JavascriptLink | CssLink):
                del header._children[key]


@contextmanager
def assets_as(
    m: folium.Map,
    *,
    mode: AssetMode,
    static_url: str = "/app/static/vendor",
    folder: str | os.PathLike[str] | None = None,
) -> Iterator[folium.Map]:
    """Point ``m`` at the local assets in ``mode`` for the ``with`` block; restore its links after.

    For rendering a map one way without changing it for its other users, e.g. a standalone copy
    of a map the app shows with ``mode="static"``::

        with assets_as(m, mode="inline"):
            page = inline_html(m.get_root().render())
    """
    saved = [
        (e, e.__dict__.get("default_js"), e.__dict__.get("default_css"))
        for e in _walk(m)
        if isinstance(e, JSCSSMixin)
    ]
    try:
        yield local_assets(m, mode=mode, static_url=static_url, folder=folder)
    finally:
        for element, js, css in saved:
            for attr, value in (("default_js", js), ("default_css", css)):
                if value is None:
                    element.__dict__.pop(attr, None)
                else:
                    setattr(element, attr, value)
        _drop_header_links(m.get_root())


# --------------------------------------------------------------------------------------------
# inline


_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*>\s*</script\s*>", re.I
)
_LINK_HREF = re.compile(r"<link\b[^>]*?\bhref\s*=\s*([\"'])(?P<url>[^\"']*)\1[^>]*/?>", re.I)
_CSS_URL = re.compile(r"(?<![\w$.\-])url\(\s*(?P<q>[\"']?)(?P<url>[^\"')]*)(?P=q)\s*\)", re.I)
_SOURCE_MAP = re.compile(r"^\s*/[/*][#@]\s*sourceMappingURL=\S*.*$", re.M)


def _file_in_assets(url: str, root: Path) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    path = Path(unquote(parts.path)).resolve()
    if root in path.parents and path.is_file():
        return path
    return None


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))

    def repl(match: re.Match[str]) -> str:
        url = match.group("url").strip()
        if not url or url.startswith(("data:", "#")) or urlsplit(url).scheme:
            return match.group(0)
        target = (path.parent / unquote(url.split("#")[0].split("?")[0])).resolve()
        if not target.is_file():
            return match.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(repl, text).replace("</style", "<\\/style")


def _inline_js(path: Path) -> str:
    text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    return text.replace("</script", "<\\/script")


def inline_html(html: str, *, folder: str | os.PathLike[str] | None = None) -> str:
    """Replace every ``<script src>`` / ``<link href>`` of an installed asset by its content.

    Scripts and stylesheets given by ``file:`` URLs inside :func:`asset_dir` of ``folder`` (what
    :func:`local_assets` sets in ``"inline"`` mode) become ``<script>`` / ``<style>`` blocks;
    images a stylesheet refers to become ``data:`` URIs; source-map comments are dropped. Other
    tags are left as they are: check the result with :func:`external_urls`.

    >>> inline_html('<p>no links</p>')
    '<p>no links</p>'
    """
    if "file:" not in html:
        return html
    root = asset_dir(folder)

    def script(match: re.Match[str]) -> str:
        path = _file_in_assets(match.group("url"), root)
        if path is None:
            return match.group(0)
        return f"<script>/* {path.relative_to(root).as_posix()} */\n{_inline_js(path)}\n</script>"

    def link(match: re.Match[str]) -> str:
        tag = match.group(0)
        path = _file_in_assets(match.group("url"), root)
        if path is None or not re.search(r"\brel\s*=\s*[\"']?stylesheet", tag, re.I):
            return tag
        return f"<style>/* {path.relative_to(root).as_posix()} */\n{_inline_css(path)}\n</style>"

    return _LINK_HREF.sub(link, _SCRIPT_SRC.sub(script, html))


_FETCHING_TAGS = re.compile(
    r"<(?P<tag>script|link|img|iframe|source|embed|video|audio|track|input|object)\b"
    r"(?P<attrs>[^>]*)>",
    re.I,
)
_URL_ATTR = re.compile(
    r"\b(?:src|href|data|poster|srcset)\s*=\s*(?:\"(?P<a>[^\"]*)\"|'(?P<b>[^']*)'|(?P<c>[^\s>]+))",
    re.I,
)
_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?[\"']?(?P<url>[^\"')\s;]+)", re.I)
_TILE_TEMPLATE = re.compile(r"\{[sxyz]\}|\{-y\}", re.I)


def _fetched(url: str) -> bool:
    url = url.strip()
    if not url or url.startswith(("#", "data:", "blob:", "about:", "javascript:")):
        return False
    return not _TILE_TEMPLATE.search(unquote(url))


def external_urls(html: str) -> list[str]:
    """Every resource a browser would fetch from outside ``html``, in order of appearance.

    Looks at ``src`` / ``href`` (and ``data``, ``poster``, ``srcset``) of ``<script>``,
    ``<link>``, ``<img>``, ``<iframe>`` and other fetching tags, at CSS ``@import`` and at every
    ``url(...)``. ``data:`` URIs, fragments (``#...``) and tile URL templates (with ``{z}``,
    ``{x}``, ``{y}`` or ``{s}``) are not listed; ``http(s):``, protocol-relative, ``file:`` and
    relative URLs are. Links in ``<a href>`` are navigation, not loads, and are not listed.
    A standalone map gives ``[]``.

    >>> external_urls('<script src="https://cdn.example/l.js"></script><a href="https://x.org">x</a>')
    ['https://cdn.example/l.js']
    >>> external_urls('<style>.i { background: url(data:image/png;base64,AA==) }</style>')
    []
    """
    found: list[tuple[int, str]] = []
    for match in _FETCHING_TAGS.finditer(html):
        for attr in _URL_ATTR.finditer(match.group("attrs")):
            value = attr.group("a") or attr.group("b") or attr.group("c") or ""
            candidates = (
                [v.strip().split(" ")[0] for v in value.split(",")]
                if "srcset" in attr.group(0).lower()
                else [value]
            )
            found.extend((match.start(), v) for v in candidates if _fetched(v))
    for match in _IMPORT.finditer(html):
        if _fetched(match.group("url")):
            found.append((match.start(), match.group("url")))
    for match in _CSS_URL.finditer(html):
        if _fetched(match.group("url")):
            found.append((match.start(), match.group("url").strip()))
    seen: set[str] = set()
    out: list[str] = []
    for _, url in sorted(found, key=lambda t: t[0]):
        if url not in seen:
            seen.add(url)
            out.append(url)
    return out


# --------------------------------------------------------------------------------------------
# command line
