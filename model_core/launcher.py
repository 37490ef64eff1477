"""Whether this process was started by torchrun: its environment variables, read without torch
(jobs of numpy and GDAL alone, such as the demo scene, run where torch is not installed)."""

import os

from .digits import whole_number
from .errors import DeviceError
from .names import joined

ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def launched() -> bool:
    """Whether this process was started by torchrun, or by a launcher that sets RANK, WORLD_SIZE
    and MASTER_ADDR without LOCAL_RANK (Kubeflow's PyTorchJob, one process per machine: LOCAL_RANK
    is then 0). Its variables set in part, or out of range, or without a MASTER_PORT, are refused in
    one sentence (red team of 2026-12-05: without MASTER_ADDR a traceback of torch, or a job skipped
    on 'rank 1'; a helper's of the same day: RANK alone left set made bin/mrs silent, no
    MASTER_PORT gave a traceback)."""
    given = [name for name in (*ENVIRONMENT, "MASTER_ADDR") if os.environ.get(name, "").strip()]
    if not given:
        return False
    if "LOCAL_RANK" not in given and len(given) == 3:  # Kubeflow's (review of 2026-12-05)
        given.append("LOCAL_RANK")
    missing = [name for name in (*ENVIRONMENT, "MASTER_ADDR") if name not in given]
    if missing == ["MASTER_ADDR"]:
        raise DeviceError("RANK, WORLD_SIZE and LOCAL_RANK are set, as torchrun sets them, but MASTER_ADDR is not: "
                          "start the run with torchrun, or unset those variables.")
    if missing:
        set_now = [name for name in given if name != "MASTER_ADDR"]
        raise DeviceError(f"{joined(given)} {'is' if len(given) == 1 else 'are'} set, as torchrun sets "
                          f"{'it' if len(given) == 1 else 'them'}, but {joined(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not: start the run with torchrun, or unset "
                          f"{joined(set_now or given)}.")
    rank, world, local = (os.environ.get(name, "").strip() or "0" for name in ENVIRONMENT)  # blank: as local_rank
    numbers = [whole_number(text, signed=False) for text in (rank, world, local)]  # not '²' (a helper's audit)
    if None in numbers or numbers[0] >= numbers[1]:
        raise DeviceError(f"RANK ({rank}), WORLD_SIZE ({world}) and LOCAL_RANK ({local}) must be whole numbers, RANK "
                          "below WORLD_SIZE: start the run with torchrun, or unset those variables.")
    port = os.environ.get("MASTER_PORT", "").strip()
    if not 0 < (whole_number(port, signed=False) or 0) < 65536:
        said = f"is '{port}'" if port else "is not set"
        raise DeviceError(f"MASTER_PORT {said}: give the port on which process 0 waits for the others (a whole number "
                          "from 1 to 65535), or start the run with torchrun, which sets it.")
    return True


def local_rank() -> int:
    """This process's number on its machine (0 where the launcher sets no LOCAL_RANK: one per machine)."""
    return int(os.environ.get("LOCAL_RANK", "0").strip() or 0)


