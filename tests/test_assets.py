"""hotspots.assets: installing Leaflet locally, pointing maps at it, inlining, checking URLs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import folium
import pytest
from folium.plugins import Fullscreen, HeatMap, MiniMap

from hotspots.assets import (
    ASSETS_ENV,
    MANIFEST,
    asset_dir,
    assets_as,
    external_urls,
    inline_html,
    install,
    local_assets,
    main,
)
from hotspots.errors import InputError

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "assets" / "node_modules"


def _node_modules() -> Path:
    if not (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file():
        pytest.skip("assets/node_modules is not installed: run `cd assets && npm ci` first")
    return NODE_MODULES


@pytest.fixture
def fake_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
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
    monkeypatch.setenv(ASSETS_ENV, str(root))
    return root


# --- install -----------------------------------------------------------------------------


def test_install_copies_exactly_the_map_files(tmp_path: Path) -> None:
    node_modules = _node_modules()
    dest = tmp_path / "static" / "vendor"
    manifest_path = install(node_modules, dest)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pins = json.loads((REPO / "assets" / "package.json").read_text())["dependencies"]
    assert manifest["packages"] == pins
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert on_disk == set(manifest["files"]) | {MANIFEST}
    for rel, entry in manifest["files"].items():
        data = (dest / rel).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    expected = {
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "leaflet/images/layers.png",
        "leaflet.heat/leaflet-heat.js",
        "leaflet.fullscreen/Control.FullScreen.js",
        "hotspots/leaflet-heat-weights.js",
    }
    assert expected <= on_disk
    assert not any(p.endswith(".map") or "jquery" in p or "bootstrap" in p for p in on_disk)


def test_install_removes_files_an_earlier_install_listed(tmp_path: Path) -> None:
    node_modules = _node_modules()
    dest = tmp_path / "vendor"
    (dest / "old").mkdir(parents=True)
    (dest / "old" / "gone.js").write_text("old", encoding="utf-8")
    (dest / "keep.txt").write_text("not ours", encoding="utf-8")
    (dest / MANIFEST).write_text(json.dumps({"files": {"old/gone.js": {}}}), encoding="utf-8")
    install(node_modules, dest)
    assert not (dest / "old" / "gone.js").exists()
    assert (dest / "keep.txt").exists()


def test_install_from_an_empty_folder_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="npm ci"):
        install(tmp_path, tmp_path / "dest")
    assert not (tmp_path / "dest" / MANIFEST).exists()


def test_command_line_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install", str(tmp_path / "nope"), str(tmp_path / "dest")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "make setup" in err


# --- asset_dir ---------------------------------------------------------------------------


def test_asset_dir_missing_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    with pytest.raises(InputError, match=r"not installed.*make setup"):
        asset_dir()


def test_asset_dir_incomplete(fake_assets: Path) -> None:
    (fake_assets / "lib" / "lib.css").unlink()
    with pytest.raises(InputError, match=r"lib/lib\.css"):
        asset_dir()


def test_asset_dir_from_environment(fake_assets: Path) -> None:
    assert asset_dir() == fake_assets.resolve()


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
    with assets_as(m, mode="inline"):
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
    out = inline_html(page)
    assert "file:" not in out
    assert 'window.LIB = "<\\/script>"' in out
    assert "sourceMappingURL" not in out
    assert 'url("data:image/png;base64,' in out
    assert external_urls(out) == []


def test_inline_html_leaves_other_links_for_external_urls_to_report(fake_assets: Path) -> None:
    page = '<script src="https://cdn.example.org/x.js"></script>'
    assert inline_html(page) == page
    assert external_urls(page) == ["https://cdn.example.org/x.js"]


def test_inline_html_ignores_files_outside_the_asset_folder(
    fake_assets: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.js"
    secret.write_text("SECRET", encoding="utf-8")
    page = f'<script src="{secret.as_uri()}"></script>'
    assert "SECRET" not in inline_html(page)


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


def test_asset_dir_notices_assets_from_an_older_hotspots(tmp_path: Path) -> None:
    dest = tmp_path / "vendor"
    install(_node_modules(), dest)
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["hotspots/leaflet-heat-weights.js"]["sha256"] = "0" * 64
    (dest / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ASSETS_ENV, str(dest))
        with pytest.raises(InputError, match="out of date"):
            asset_dir()
