"""The public API: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import hotspots


def test_every_exported_name_resolves_to_its_module() -> None:
    assert set(hotspots.__all__) == {"__version__", *hotspots._EXPORTS}
    for name, module in hotspots._EXPORTS.items():
        value = getattr(hotspots, name)
        assert getattr(__import__(f"hotspots.{module}", fromlist=[name]), name) is value


def test_importing_the_package_loads_no_heavy_library() -> None:
    """`hotspots --help` and `import hotspots.errors` must not pay for geopandas or folium."""
    code = (
        "import sys, hotspots, hotspots.errors, hotspots.cli; "
        "print(','.join(m for m in ('geopandas', 'folium', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
