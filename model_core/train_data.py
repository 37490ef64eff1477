"""The samples of a run, read batch by batch: the loop never needs all patches in memory."""

import hashlib
from typing import Optional, Tuple

import torch

def data_fingerprint(data: torch.Tensor, targets: Optional[torch.Tensor]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for tensor in (data, targets):
        if tensor is not None:
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(tensor.contiguous().view(torch.uint8).numpy())
    return digest.hexdigest()


class Samples:
    """The samples of a run, fetched batch by batch by their indices 0..len-1."""

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def shape(self) -> Tuple[int, ...]:
        """(N, C, P, P): how many samples, and the shape of one patch."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """What identifies these samples, so that a checkpoint resumes only its own run."""
        raise NotImplementedError

    def to(self, device: torch.device) -> "Samples":
        """These samples, kept where `device` reads them fastest."""
        return self

    def fetch(self, index: torch.Tensor, device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Patches (k, C, P, P) float32 and targets (k,) or None, on `device`, in the order of `index`."""
        raise NotImplementedError

    def changed(self) -> Optional[str]:
        """Why what the fetches read may mix a file's old and new contents, where a read saw its file
        changed and the process went on, to stop with the others of a torchrun run at the next batch
        (`loop.train_one_epoch`); None."""
        return None


class TensorSamples(Samples):
    """Samples held in memory: patches (N, C, P, P) and, for fine-tuning, targets (N,)."""

    def __init__(self, data: torch.Tensor, targets: Optional[torch.Tensor] = None) -> None:
        self.data, self.targets = data, targets

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.data.shape)

    def fingerprint(self) -> str:
        return data_fingerprint(self.data, self.targets)

    def to(self, device: torch.device) -> "TensorSamples":
        return TensorSamples(_place(self.data, device),
                             None if self.targets is None else _place(self.targets, device))

    def fetch(self, index: torch.Tensor, device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        x = self.data[index.to(self.data.device)].to(device, torch.float32, non_blocking=True)
        y = None if self.targets is None else self.targets[index.to(self.targets.device)].to(device)
        return x, y


def _place(data: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Keep the samples on the GPU when they fit comfortably, else on the CPU."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        if data.element_size() * data.numel() < 0.25 * free:
            return data.to(device)
    return data
