"""Give freed memory back to the system between the stages of an analysis, and choose
pyarrow's memory pool.

glibc's ``malloc`` keeps the pages of freed small blocks for reuse: after a stage that made
and dropped hundreds of thousands of small objects (geometries, rows of text), the process
stays that much larger for the rest of its life, and the next stage's peak starts from
there. :func:`release_free_memory` asks glibc to hand those pages back (``malloc_trim``) and
pyarrow's pool to do the same; elsewhere (macOS, Windows, musl) it does nothing.

:func:`use_system_arrow_pool` makes glibc's ``malloc`` pyarrow's default pool on Linux
(pyarrow's own default is mimalloc). mimalloc hands freed pages back to the system within
milliseconds and takes fresh ones for the next buffer; where a fresh page costs a fault
into the host (a virtual machine: this project's 2-core benchmark machine), reading a
3M-row file spent more time in the kernel than in parsing. Measured with
``benchmarks/pipeline.py`` (same code, only the pool changed): 3M rows 29.2 s -> 24.8 s,
1M rows with fixed settings 27.2 s -> 24.9 s and peak 1,495 MB -> 1,309 MB. A pool chosen
with ``ARROW_DEFAULT_MEMORY_POOL`` is left as it is.

:func:`reuse_large_blocks` has glibc keep large freed blocks for the next array instead of
unmapping each (``mallopt``: blocks up to 1 GiB from the heap, the heap's top not trimmed on
every ``free``): a city's stages make and drop hundreds of arrays of tens to hundreds of MB,
and each fresh mapping is faulted in page by page. Measured with the command line on a
3M-row London-like file (same code, only these two settings): 17.1 s / 16.8 s -> 16.4 s /
16.1 s, kernel time 4.4 s -> 3.0 s, peak 2.0 GB -> 2.3 GB. :func:`release_free_memory`
still hands the freed pages back between stages. Left alone when ``GLIBC_TUNABLES`` or a
``MALLOC_*`` variable set glibc's malloc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache
from typing import Any

__all__ = ["release_free_memory", "reuse_large_blocks", "use_system_arrow_pool"]

# mallopt's parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from the heap (freed: kept for reuse), not a mapping of their own.
_MMAP_THRESHOLD = 1 << 30
# The heap's free top is given back only beyond this (release_free_memory gives it back).
_TRIM_THRESHOLD = (1 << 31) - 1


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


_pool_chosen = False


def use_system_arrow_pool() -> None:
    """Make the system allocator pyarrow's default memory pool, once per process (Linux;
    unless the ``ARROW_DEFAULT_MEMORY_POOL`` environment variable chose one). A pool set
    with ``pyarrow.set_memory_pool`` after that is left alone; buffers already made keep the
    pool they came from.

    >>> use_system_arrow_pool()
    """
    global _pool_chosen
    if _pool_chosen or not sys.platform.startswith("linux"):
        return
    _pool_chosen = True
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


_blocks_chosen = False


def reuse_large_blocks() -> None:
    """Have glibc's ``malloc`` reuse large freed blocks (module docstring), once per process
    (Linux glibc; not when ``GLIBC_TUNABLES`` or ``MALLOC_*`` variables set it up).

    >>> reuse_large_blocks()
    """
    global _blocks_chosen
    if _blocks_chosen:
        return
    _blocks_chosen = True
    if "GLIBC_TUNABLES" in os.environ or any(k.startswith("MALLOC_") for k in os.environ):
        return
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return
    # the trim threshold only with the mmap threshold accepted (glibc refuses one above its
    # heap size in some releases; setting the trim threshold alone would fix the mmap
    # threshold at its 128 kB start instead of letting it grow)
    if libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(_MMAP_THRESHOLD)) == 1:
        libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(_TRIM_THRESHOLD))
