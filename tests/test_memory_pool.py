"""pyarrow's memory pool: the reader makes the system allocator the default on Linux (fewer
page faults than mimalloc, measured in benchmarks/pipeline.py), unless the user chose one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

SCRIPT = """
import sys
import pyarrow as pa
from hotspots import read_incidents
before = pa.default_memory_pool().backend_name
incidents, _ = read_incidents(sys.argv[1])
after = pa.default_memory_pool().backend_name
pa.set_memory_pool(pa.jemalloc_memory_pool())  # the caller's own choice, made afterwards
read_incidents(sys.argv[1])
print(before, after, len(incidents), pa.default_memory_pool().backend_name)
"""


def _pools(csv: Path, pool: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = pool
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(csv)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return done.stdout.split()


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text(
        "Month,Longitude,Latitude,Crime type\n"
        "2024-01,-0.02,51.58,Burglary\n2024-02,-0.03,51.59,Robbery\n"
    )
    return path


def test_reading_makes_the_system_allocator_arrows_pool(small_csv: Path) -> None:
    before, after, rows, later = _pools(small_csv, None)
    if before == "system":
        pytest.skip("pyarrow's own default is already the system allocator")
    assert after == "system" and rows == "2"
    assert later == "jemalloc"  # chosen once: a pool the caller sets afterwards is kept


def test_a_pool_the_user_chose_is_kept(small_csv: Path) -> None:
    assert _pools(small_csv, "jemalloc")[:2] == ["jemalloc", "jemalloc"]
