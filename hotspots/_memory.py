"""Give freed memory back to the system between the stages of an analysis.

glibc's ``malloc`` keeps the pages of freed small blocks for reuse: after a stage that made
and dropped hundreds of thousands of small objects (geometries, rows of text), the process
stays that much larger for the rest of its life, and the next stage's peak starts from
there. :func:`release_free_memory` asks glibc to hand those pages back (``malloc_trim``) and
pyarrow's pool to do the same; elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from typing import Any

__all__ = ["release_free_memory"]


@lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> None:
    """Return the freed pages of this process to the system (Linux glibc; else nothing).

    Only memory already freed is returned: no object changes, nothing is recomputed.

    >>> release_free_memory()
    """
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
