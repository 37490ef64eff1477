"""Several processes, one training: PyTorch's torchrun and DistributedDataParallel.

Launched by torchrun (RANK, WORLD_SIZE and LOCAL_RANK in the environment), every
process runs the same job. The process group uses NCCL when the processes train on
GPUs (one GPU per process: cuda:LOCAL_RANK) and gloo on CPUs. Every rank draws the
same epoch order and the same random masks and flips from the seeded generators; each
global batch is cut into one contiguous share per rank (sizes differ by at most one
when the batch does not divide), each rank reads only its own share's patches, and
the shares are gathered so that the masks and flips, drawn for the whole batch, are
those of a single-process run. Gradients are summed over the shares, so the global
batch and the learning-rate schedule are those of one process with the same
settings. Rank 0 alone writes model files and checkpoints.
"""

import atexit
import contextlib
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

import torch
import torch.distributed as dist
from torch import nn

from .errors import DeviceError, first_line
from .hooks import CANCELLING_SIGNALS, signals_handled
from .launcher import launched, local_rank


def split(count: int, parts: int) -> List[Tuple[int, int]]:
    """(start, stop) of `parts` contiguous pieces of `count` items, sizes differing by at most one."""
    base, extra = divmod(count, parts)
    bounds = [part * base + min(part, extra) for part in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


@dataclass(frozen=True)
class Context:
    """This process' place among the processes of a run; one process when not launched."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    active: bool = False

    @property
    def writes(self) -> bool:
        """Whether this process writes the outputs (rank 0)."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """The device of this process: its own GPU (cuda:LOCAL_RANK) when training on GPUs."""
        if not self.active or device.type != "cuda":
            return device
        if self.local_rank >= torch.cuda.device_count():
            raise DeviceError(f"torchrun started process {self.local_rank} of this machine, but PyTorch sees "
                              f"{torch.cuda.device_count()} GPUs. Start at most one process per GPU "
                              "(--nproc-per-node), or train on the CPU.")
        return torch.device("cuda", self.local_rank)

    def shares(self, count: int) -> List[Tuple[int, int]]:
        """(start, stop) of every rank's share of a batch of `count` samples."""
        return split(count, self.world)

    def share(self, count: int) -> slice:
        """This rank's share of a batch of `count` samples."""
        return slice(*self.shares(count)[self.rank])

    def gather(self, part: torch.Tensor, count: int) -> torch.Tensor:
        """The whole batch of `count` samples from every rank's share, in rank order."""
        if not self.active:
            return part
        shares = self.shares(count)
        longest = max(stop - start for start, stop in shares)
        padded = part.new_zeros((longest, *part.shape[1:]))
        padded[:part.shape[0]] = part
        parts = [torch.empty_like(padded) for _ in range(self.world)]
        dist.all_gather(parts, padded)
        return torch.cat([piece[:stop - start] for piece, (start, stop) in zip(parts, shares)])

    def total(self, value: float, device: torch.device) -> float:
        """The sum of `value` over the ranks."""
        if not self.active:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return float(tensor.item())

    def any(self, flag: bool, device: torch.device) -> bool:
        """Whether `flag` holds on any rank (a cancel on one rank stops them all together)."""
        return self.total(float(flag), device) > 0 if self.active else flag

    def exchange(self, item: Any) -> Optional[List[Any]]:
        """Every rank's `item` (any picklable object), in rank order, on rank 0; None on the others."""
        if not self.active:
            return [item]
        items: List[Any] = [None] * self.world
        dist.all_gather_object(items, item)  # gather_object is not available with NCCL
        return items if self.rank == 0 else None

    def first_found(self, item: Any) -> Any:
        """The `item` of the first rank whose item is not None nor empty, on every rank; else None."""
        if not self.active:
            return item or None
        items: List[Any] = [None] * self.world
        dist.all_gather_object(items, item)
        return next((found for found in items if found), None)

    def broadcast(self, item: Any) -> Any:
        """Rank 0's `item`, on every rank."""
        if not self.active:
            return item
        box = [item]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The model as the training steps call it: DistributedDataParallel across the ranks.

        A process without a sample in a batch (its last, smaller than the processes) has gradients
        of zeros laid out otherwise than the parameters, of which DistributedDataParallel warns once
        per process as a possible slowdown: each printed torch's lines of it (review of 2026-12-05)."""
        if not self.active:
            return model
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


JOIN_NOTICE_SECONDS = 20.0
"""How long a process waits for the others of its run to join before it says so (`start`)."""


def start(device: torch.device, waiting: Optional[Callable[[str], None]] = None) -> Context:
    """This process' context; joins the process group (NCCL on GPUs, gloo on CPUs) when
    launched by torchrun and not yet joined. `waiting` is told, once `JOIN_NOTICE_SECONDS` have
    passed, that the others have not all joined (a review of 2026-12-06: a process started by hand
    with RANK 0 waited without a word for a partner never started)."""
    if not launched():
        return Context()
    context = Context(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), local_rank(), True)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(context.device(device))
        meeting = f"MASTER_ADDR {os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}"
        notice = threading.Timer(JOIN_NOTICE_SECONDS, waiting, [
            f"Waiting for the other processes of this {context.world}-process run to join at {meeting}; Ctrl-C ends "
            "the wait. Start every process with the same torchrun command, MASTER_ADDR and MASTER_PORT."]
                                 ) if waiting else None
        # SIGTERM, SIGHUP and Ctrl-C end the process at once while it waits for the others to join: the wait is in
        # torch's C++ code, where the handlers that cancel a job as on Cancel never run (a helper's red team of
        # 2026-12-05: a process whose partner was never started ignored SIGTERM and Ctrl-C for 30 minutes).
        with signals_handled((*CANCELLING_SIGNALS, signal.SIGINT), signal.SIG_DFL):
            if notice is not None:
                notice.daemon = True
                notice.start()
            try:
                dist.init_process_group(backend)
            except RuntimeError as error:  # the others did not come: a traceback after 30 min (red team of 2026-12-05)
                raise DeviceError(
                    f"The {context.world} processes of this run did not all meet at {meeting} ({first_line(error)}): "
                    "start every process with the same torchrun command, the same MASTER_ADDR and MASTER_PORT and a "
                    "WORLD_SIZE of the processes started.") from None
            finally:
                if notice is not None:
                    notice.cancel()
        atexit.register(_leave)
    return context


def _leave(wait: bool = True) -> None:
    """Leaves the process group, once every process is there (`wait`; a partner already gone fails
    the barrier at once): left to the interpreter's exit, gloo's threads abort the process (SIGABRT).
    A process that failed alone does not wait: the others may be in another exchange, which waited
    for it for 30 minutes while it waited in the barrier (a helper's red team of 2026-12-05: one
    process refused an output folder missing on its machine); leaving, it ends theirs at once.
    Signals end the process at once while it waits: the wait is in torch's C++ code, where Python's
    handlers never run (a helper's review of 2026-12-06: SIGTERM waited for gloo's timeout)."""
    if wait:
        with contextlib.suppress(Exception), signals_handled((*CANCELLING_SIGNALS, signal.SIGINT), signal.SIG_DFL):
            dist.barrier()
    dist.destroy_process_group()


def end_process(code: int, alone: bool = False) -> None:
    """Ends a process of a torchrun group at once with `code`, its output flushed, once it has left
    the group (`_leave`; at once where it failed `alone`, its partners not knowing: a cancel, which
    they share, waits for them to save their checkpoint, which torchrun's kill of the others lost: a
    review of 2026-12-05): in the interpreter's own teardown gloo's threads still aborted it now and
    then (a helper's red team of 2026-12-05: 'terminate called without an active exception' after a
    map was written, exit 1, in 6 of 40 runs on a loaded machine; 1 in 20 here, a barrier before
    leaving did not help). Returns when the process joined no group."""
    if not dist.is_initialized():
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    _leave(wait=not alone)
    os._exit(code)


def lost_exchange(what: str, error: BaseException, after: str = "", world: Optional[int] = None) -> str:
    """'The exchange with the other processes of this 2-process run failed, most likely because
    another process stopped (gloo's words)': an exchange that failed (`lost_partner`) of `what`
    ('run', 'classification') among `world` processes (those of this process' group by default),
    then `after`."""
    world = world if world is not None else dist.get_world_size() if dist.is_initialized() else 0
    return (f"The exchange with the other processes of this {world}-process {what} failed, most likely because "
            f"another process stopped ({first_line(error)}){after}")


LOST_PARTNER_WORDS = ("Connection closed by peer", "Connection reset by peer", "gloo/transport", "NCCL error")
"""What gloo's and NCCL's errors say of a partner gone, where torch raises them as plain RuntimeErrors."""


def lost_partner(error: BaseException) -> bool:
    """Whether an error is an exchange of this process' group that failed: another process stopped
    (it refused its input, say, or was killed) while this one waited for it."""
    return (isinstance(error, RuntimeError) and dist.is_available() and dist.is_initialized()
            and (isinstance(error, getattr(dist, "DistError", ())) or any(
                words in str(error) for words in LOST_PARTNER_WORDS)))


def devices_line(context: Context, device: str) -> str:
    """The processes and every rank's device, for the log (every rank must call it)."""
    if not context.active:
        return f"1 process on {device}"
    names: List[Optional[str]] = [None] * context.world
    dist.all_gather_object(names, device)
    return f"{context.world} process{'es' if context.world > 1 else ''} ({dist.get_backend()}): " + "; ".join(
        f"rank {rank} on {name}" for rank, name in enumerate(names))
