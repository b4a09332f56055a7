"""hotspots.assets: finding the installed Leaflet, pointing maps at it, inlining, checking URLs."""

from __future__ import annotations

import json
from pathlib import Path

import folium
import pytest
from folium.plugins import Fullscreen, HeatMap, MiniMap

from hotspots.assets import (
    DEFAULT_FOLDER,
    MANIFEST,
    asset_dir,
    assets_as,
    external_urls,
    inline_html,
    local_assets,
)
from hotspots.errors import InputError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_assets(tmp_path: Path) -> Path:
    """A hand-made asset folder: a script that contains "</script>", a stylesheet with an image."""
    root = tmp_path / "vendor"
    (root / "lib" / "images").mkdir(parents=True)
    (root / "lib" / "lib.js").write_text(
        'window.LIB = "</script>";\n//# sourceMappingURL=lib.js.map\n', encoding="utf-8"
    )
    (root / "lib" / "lib.css").write_text(
        ".a { background: url(images/dot.png); }\n.b { behavior: url(#default#VML); }\n",
        encoding="utf-8",
    )
    (root / "lib" / "images" / "dot.png").write_bytes(b"\x89PNG fake")
    files: dict[str, dict[str, object]] = {
        "lib/lib.js": {},
        "lib/lib.css": {},
        "lib/images/dot.png": {},
    }
    (root / MANIFEST).write_text(json.dumps({"files": files}), encoding="utf-8")
    return root


# --- asset_dir ---------------------------------------------------------------------------


def test_asset_dir_missing_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not installed.*make setup"):
        asset_dir(tmp_path)


def test_asset_dir_incomplete(fake_assets: Path) -> None:
    (fake_assets / "lib" / "lib.css").unlink()
    with pytest.raises(InputError, match=r"lib/lib\.css"):
        asset_dir(fake_assets)


def test_asset_dir_given_a_folder(fake_assets: Path) -> None:
    assert asset_dir(fake_assets) == fake_assets.resolve()
    assert asset_dir(str(fake_assets)) == fake_assets.resolve()


def test_the_default_folder_is_the_repository_static_vendor() -> None:
    assert DEFAULT_FOLDER == REPO / "static" / "vendor"


# --- local_assets ------------------------------------------------------------------------


def _map_with_plugins() -> folium.Map:
    m = folium.Map(location=[51.5, -0.1], tiles=None)
    HeatMap([[51.5, -0.1, 2.0]]).add_to(m)
    Fullscreen().add_to(m)
    return m


def test_static_links_point_at_the_prefix_only() -> None:
    m = local_assets(_map_with_plugins(), mode="static", static_url="/app/static/vendor/")
    page = m.get_root().render()
    urls = external_urls(page)
    assert urls, "the page should link its scripts"
    assert all(u.startswith("/app/static/vendor/") for u in urls), urls
    for name in ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet.heat/leaflet-heat.js"):
        assert f"/app/static/vendor/{name}" in urls
    # the weights patch loads after Leaflet.heat
    assert urls.index("/app/static/vendor/hotspots/leaflet-heat-weights.js") > urls.index(
        "/app/static/vendor/leaflet.heat/leaflet-heat.js"
    )
    for cdn in ("jquery", "bootstrap", "fontawesome", "awesome-markers", "glyphicons", "cdn."):
        assert cdn not in page.lower()


def test_folium_class_defaults_are_left_alone() -> None:
    local_assets(_map_with_plugins(), mode="static")
    assert folium.Map.default_js[0][1].startswith("https://")
    assert HeatMap.default_js[0][1].startswith("https://")


def test_a_map_rendered_with_cdn_links_forgets_them() -> None:
    m = _map_with_plugins()
    m.get_root().render()  # puts the CDN links in the figure's header
    local_assets(m, mode="static")
    page = m.get_root().render()
    assert "https://" not in " ".join(external_urls(page))


def test_a_plugin_hotspots_does_not_ship_is_refused() -> None:
    m = folium.Map(tiles=None)
    MiniMap().add_to(m)
    with pytest.raises(ValueError, match="does not ship"):
        local_assets(m, mode="static")


def test_assets_as_restores_the_links(fake_assets: Path) -> None:
    m = local_assets(folium.Map(tiles=None), mode="static")
    before = list(m.default_js)
    # the fake folder lacks Leaflet, so inline mode points at files that do not exist: that is
    # fine for links; only inline_html reads them
    with assets_as(m, mode="inline", folder=fake_assets):
        assert all(url.startswith("file:") for _, url in m.default_js)
    assert m.default_js == before


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        local_assets(folium.Map(tiles=None), mode="cdn")  # type: ignore[arg-type]


# --- inline_html -------------------------------------------------------------------------


def test_inline_html_inlines_scripts_styles_and_images(fake_assets: Path) -> None:
    js = (fake_assets / "lib" / "lib.js").as_uri()
    css = (fake_assets / "lib" / "lib.css").as_uri()
    page = (
        f'<html><head><script src="{js}"></script>'
        f'<link rel="stylesheet" href="{css}"/></head><body></body></html>'
    )
    out = inline_html(page, folder=fake_assets)
    assert "file:" not in out
    assert 'window.LIB = "<\\/script>"' in out
    assert "sourceMappingURL" not in out
    assert 'url("data:image/png;base64,' in out
    assert external_urls(out) == []


def test_inline_html_leaves_other_links_for_external_urls_to_report(fake_assets: Path) -> None:
    page = '<script src="https://cdn.example.org/x.js"></script>'
    assert inline_html(page, folder=fake_assets) == page
    assert external_urls(page) == ["https://cdn.example.org/x.js"]


def test_inline_html_ignores_files_outside_the_asset_folder(
    fake_assets: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.js"
    secret.write_text("SECRET", encoding="utf-8")
    page = f'<script src="{secret.as_uri()}"></script>'
    assert "SECRET" not in inline_html(page, folder=fake_assets)


# --- external_urls -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://a.org/x.js"></script>', ["https://a.org/x.js"]),
        ("<script src='//a.org/x.js'></script>", ["//a.org/x.js"]),
        ('<link rel="stylesheet" href="http://a.org/x.css"/>', ["http://a.org/x.css"]),
        ('<link rel="icon" href="favicon.ico">', ["favicon.ico"]),
        ("<style>@import 'https://a.org/f.css';</style>", ["https://a.org/f.css"]),
        ('<style>.x{background:url("https://a.org/i.png")}</style>', ["https://a.org/i.png"]),
        ('<div style="background: url(img/x.png)"></div>', ["img/x.png"]),
        (
            '<img src="https://a.org/i.png" srcset="a.png 1x, b.png 2x">',
            ["https://a.org/i.png", "a.png", "b.png"],
        ),
        ('<script src="file:///tmp/x.js"></script>', ["file:///tmp/x.js"]),
        ('<a href="https://www.openstreetmap.org/copyright">OSM</a>', []),
        ('<script>L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png")</script>', []),
        ('<img src="https://tiles.example/{z}/{x}/{y}.png">', []),
        ("<style>.x{background:url(data:image/png;base64,AAAA)} .v{behavior:url(#a)}</style>", []),
        ("<script>var u = this._getIconUrl(t); getTileUrl(e);</script>", []),
        (
            '<script src="https://a.org/x.js"></script><script src="https://a.org/x.js"></script>',
            ["https://a.org/x.js"],
        ),
    ],
)
def test_external_urls(html: str, expected: list[str]) -> None:
    assert external_urls(html) == expected
