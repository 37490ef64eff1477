"""Gradient accumulation: one optimiser step over a batch, taken in micro-batches whose
activations fit a memory budget.

The backward pass needs the tensors autograd saved in the forward pass: for the `paper`
model about 6 MiB per pretraining sample in bf16 (11.5 MiB in float32), 790 MiB for a
batch of 128. Summing the gradients of micro-batches, each weighted by its share of the batch's
mean loss (`Phase.loss`), gives the batch's gradient up to the order of the float sums,
while only one micro-batch's activations are held at a time. The random draws (flips,
masks) are made for the whole batch before it is cut, so a seed trains the same model
whatever the micro-batch size.
"""

import contextlib
from typing import Callable, ContextManager, Iterator, List

import torch
from torch import nn

from .distributed import split

CPU_BUDGET = 96 * 2 ** 20
"""Bytes of saved activations per micro-batch on a CPU (or any device but a CUDA GPU): the
step's memory shares the machine's RAM with QGIS and the scene's block cache. With it a
`paper` pretraining peaks below 1 GB (README, "Pretraining memory"); the smaller products
cost about a fifth of the `paper` bf16 pretraining rate on a CPU core (README)."""

GPU_SHARE = 0.5
"""Share of a CUDA GPU's free memory (at the start of the run) the saved activations may take."""


def budget(device: torch.device) -> int:
    """Bytes of saved activations one micro-batch may take on `device`."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * GPU_SHARE)
    return CPU_BUDGET


@contextlib.contextmanager
def without_onednn() -> Iterator[None]:
    """PyTorch's own kernels instead of oneDNN's for the work inside (a process-wide switch).

    oneDNN builds kernels for every shape of product it meets and keeps them, with their
    scratch memory, for the rest of the process: in bf16 on a CPU with AMX about 50 MB for
    the one- and two-sample shapes of a `paper` probe (`bench/pretrain_memory.py`, 945 -> 897
    MB), shapes that training never meets again. Autograd saves the same tensors whichever
    kernels compute them.
    """
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = enabled


def saved_bytes(compute: Callable[[], object]) -> int:
    """Bytes of the distinct storages autograd saves for the backward pass while `compute()` runs
    (computed without oneDNN, which would keep kernels for these shapes: `without_onednn`)."""
    storages = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with without_onednn(), torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        compute()
    return sum(storages.values())


def bytes_per_sample(loss_of: Callable[[int], torch.Tensor]) -> int:
    """Saved bytes per sample of a step whose loss over its first n samples is `loss_of(n)`:
    the bytes for two samples less those for one, which cancels what every micro-batch
    saves once (weights cast to bf16, the batch itself)."""
    return max(saved_bytes(lambda: loss_of(2)) - saved_bytes(lambda: loss_of(1)), 1)


def micro_batch_size(sample_bytes: int, limit: int) -> int:
    """Samples per micro-batch whose saved activations stay within `limit` bytes (at least one)."""
    return max(1, limit // sample_bytes)


def micro_shares(share: slice, size: int) -> List[slice]:
    """`share` (a slice with start and stop) cut into the fewest near-equal micro-batches of
    at most `size` samples; an empty share stays one (empty) micro-batch."""
    count = share.stop - share.start
    parts = max(1, -(-count // size))
    return [slice(share.start + start, share.start + stop) for start, stop in split(count, parts)]


def synchronised(net: nn.Module, last: bool) -> ContextManager:
    """Under DistributedDataParallel, gradients are averaged over the processes only in the
    backward pass of the last micro-batch (`no_sync` for the others)."""
    if last or not isinstance(net, nn.parallel.DistributedDataParallel):
        return contextlib.nullcontext()
    return net.no_sync()
