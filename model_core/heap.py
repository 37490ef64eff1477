"""Reusing freed memory during a classification instead of giving it back to the system batch by batch.

A classification batch allocates and frees activations of several MiB each (a paper model's
gated MLP: 70 pixels x 66 tokens x 1024 values). glibc's malloc gives the free top of its heap
back to the system once it exceeds a trim threshold (at most 64 MiB by its own adjustment), and
a batch frees more than that in float32 (about 90 MiB), or in bf16 when other memory sits above
its activations: every batch then faulted its pages in again, 1.4 million page faults for 4,096
pixels and a fifth of the time of a bf16 classification on a core with AMX.
`reusing_freed_memory` keeps the heap for the work it wraps: allocations of up to 32 MiB come from
the heap (glibc's largest mmap threshold) and the trim threshold is 1 GiB; when the work ends,
the trim threshold goes back to 64 MiB and the heap's free memory goes back to the system. The
process's peak memory is unchanged (what is kept was in use a batch earlier). Elsewhere than
glibc it does nothing.
"""

import contextlib
import ctypes
import functools
from typing import Iterator, Optional

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2 ** 20
"""glibc's largest dynamic mmap threshold on 64-bit systems."""
WORK_TRIM_THRESHOLD = 2 ** 30
AFTER_TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
"""The trim threshold glibc's own adjustment sets with that mmap threshold."""


@functools.lru_cache(maxsize=1)
def _glibc() -> Optional[ctypes.CDLL]:
    """The process's C library when it is glibc (it has gnu_get_libc_version, mallopt and malloc_trim)."""
    try:
        library = ctypes.CDLL(None)
    except (OSError, TypeError):  # Windows loads no library by the name None
        return None
    if not all(hasattr(library, symbol) for symbol in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None
    return library


@contextlib.contextmanager
def reusing_freed_memory() -> Iterator[None]:
    """The heap kept for the work inside, and its free memory given back afterwards (see the module)."""
    library = _glibc()
    if library is None:
        yield
        return
    library.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    library.mallopt(M_TRIM_THRESHOLD, WORK_TRIM_THRESHOLD)
    try:
        yield
    finally:
        library.mallopt(M_TRIM_THRESHOLD, AFTER_TRIM_THRESHOLD)
        library.malloc_trim(0)
