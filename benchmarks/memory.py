"""Peak memory of this process for the benchmarks (Linux /proc; ru_maxrss elsewhere)."""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss_kb", "reset_peak_rss_kb"]


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
