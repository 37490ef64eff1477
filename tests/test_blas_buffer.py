"""Numpy's BLAS buffer had before a run needs it (mrs_qgis_plugin/blas.py): under a limit on the process's
address space OpenBLAS asked for it for ever, deaf to Cancel and SIGTERM (red team of 2026-12-07)."""

import os
import subprocess
import sys

import pytest

import mrs

if not sys.platform.startswith("linux"):
    pytest.skip("address-space limits and /proc are Linux's", allow_module_level=True)

LIMITED = """
import re, resource, sys
import numpy as np
from mrs.mrs_qgis_plugin import blas, runs
from mrs.model_core.errors import OutOfMemory
from mrs.model_core.hooks import Hooks

def limit(room_mib):
    size = int(re.search(r"VmSize:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + (room_mib << 20), resource.RLIM_INFINITY))

if sys.argv[1] == "held":
    blas.hold_blas_buffer()
    limit(40)
    pixels = np.random.default_rng(0).random((2000, 30))
    print(np.linalg.eigh(pixels.T @ pixels)[0].shape[0])
else:
    limit(40)
    try:
        runs.run("accuracy", {}, Hooks())
    except OutOfMemory as refused:
        print(refused)
"""


def _limited(case: str) -> subprocess.CompletedProcess:
    importable = os.path.dirname(os.path.dirname(mrs.__file__))
    return subprocess.run([sys.executable, "-c", LIMITED, case], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": importable, "OMP_NUM_THREADS": "1"})


def test_products_after_the_buffer_is_held_need_no_new_room():
    """A covariance and its eigenvectors, with 40 MiB of address space left: OpenBLAS's first product asked for
    128 MiB there for ever (the subprocess's timeout would end the test)."""
    done = _limited("held")
    assert done.returncode == 0 and done.stdout.split() == ["30"], done.stderr


def test_a_run_without_room_for_the_buffer_is_told_so_in_one_sentence_before_its_work():
    """A fine-tuning under ulimit -v 900000 spun for hours in its first covariance; the run now stops before its
    work (its values are not even read: none are given) with the limit and what to do."""
    done = _limited("run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Not enough memory for this run: the limit set on this process's memory (ulimit -v, ")
    assert done.stdout.rstrip().endswith(" MiB) leaves no room for the 129 MiB buffer of numpy's matrix products; "
                                         "raise it.")
