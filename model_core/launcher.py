"""Whether this process was started by torchrun: its environment variables, read without torch
(jobs of numpy and GDAL alone, such as the demo scene, run where torch is not installed)."""

import os

from .errors import DeviceError

ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def launched() -> bool:
    """Whether this process was started by torchrun (or another launcher setting its variables);
    its variables left set without MASTER_ADDR, which torchrun sets too, are refused in one
    sentence (red team of 2026-12-05: a traceback of torch, or a job skipped on 'rank 1')."""
    if not all(name in os.environ for name in ENVIRONMENT):
        return False
    if not os.environ.get("MASTER_ADDR"):
        raise DeviceError("RANK, WORLD_SIZE and LOCAL_RANK are set, as torchrun sets them, but MASTER_ADDR is not: "
                          "start the run with torchrun, or unset those variables.")
    return True
