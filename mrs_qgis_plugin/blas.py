"""Numpy's BLAS buffer, had before a run needs it.

OpenBLAS, numpy's BLAS on Debian, asks for a buffer (128 MiB on x86-64) the first time a thread multiplies
matrices, and where it cannot get one, under a limit on the process's address space (ulimit -v), it asks
again for ever, deaf to Cancel and SIGTERM: a fine-tuning under ulimit -v 900000 spun so for hours in its
first covariance (red team of 2026-12-07). It keeps that buffer for the thread's later products; so a run
has it made first, where a want of room is one sentence.
"""

import mmap

import numpy as np

from ..model_core.errors import OutOfMemory

try:
    import resource
except ImportError:  # Windows: no limit of that kind
    resource = None

BUFFER_BYTES = 129 << 20
"""OpenBLAS's buffer on x86-64 (128 MiB and a page), with room to spare."""


def hold_blas_buffer() -> None:
    """Makes numpy's BLAS take its buffer for this thread now, after checking, where the process's address
    space is limited, that there is room for it; raises OutOfMemory where there is not."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0] if resource is not None else None
    if limit not in (None, getattr(resource, "RLIM_INFINITY", None)):
        try:
            mmap.mmap(-1, BUFFER_BYTES).close()
        except OSError:
            raise OutOfMemory(f"Not enough memory for this run: the limit set on this process's memory (ulimit -v, "
                              f"{limit >> 20} MiB) leaves no room for the {BUFFER_BYTES >> 20} MiB buffer of "
                              "numpy's matrix products; raise it.") from None
    square = np.ones((64, 64))
    np.matmul(square, square)
