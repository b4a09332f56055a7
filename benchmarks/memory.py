"""Peak memory of this process for the benchmarks (Linux /proc; ru_maxrss elsewhere)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import resource
from pathlib import Path

__all__ = ["peak_rss_kb", "release_freed", "reset_peak_rss_kb"]


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss_kb() -> int:
    """Reset the peak-RSS mark (Linux: write 5 to /proc/self/clear_refs); the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        rss = _status_kb("VmRSS")
        if rss is not None:
            return rss
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kb() -> int:
    """The peak RSS since the last reset, kB."""
    hwm = _status_kb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def release_freed() -> None:
    """Collect garbage and give freed pages back to the system (glibc ``malloc_trim``,
    pyarrow's pool), so a measurement starts from what is alive, not from what an earlier
    one left in the allocator (e.g. the reference's frame before the pipeline)."""
    gc.collect()
    with contextlib.suppress(ImportError):
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
