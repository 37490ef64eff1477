"""Classification of a whole tile, computing once per tile what neighbouring patches share.

Per tile, once: normalisation, every pixel's spatial-branch token embedding, and the
CNN branch (PCA and unpadded convolutions over the tile, which give each pixel the
value its own patch would). Per batch of pixels: the patches are strided views of
the tile, gathered, and only the two transformer branches run, with the last block
computing the class token alone (the spatial branch computes every token when the
classifier reads the mean of its pixel tokens, `ModelConfig.readout`).
"""

import copy
import math
import os
from typing import Any, Optional, Tuple

import numpy as np
import torch
from torch import nn

from .atomic import soft_limit
from .device import resolve_device, resolve_precision
from .errors import InputError, ModelFileError, says_out_of_memory
from .hooks import Hooks
from .loading import Classifier
from .model import SSMAEClassifier
from .names import plural
from .preprocessing import Normalizer

CNN_STRIP_ROWS = 32
# Elements of the widest activation (the encoder's MLP) per batch and the most pixels
# per batch: on a CPU about 32 MB in bf16, so that a batch's work stays close to the
# processor's caches; on a GPU about 2 GB, so that each call gives it enough work to
# fill it (a GPU that runs out of memory halves the batch).
ACTIVATION_BUDGET = {"cpu": 2 ** 24, "cuda": 2 ** 30}
MOST_PIXELS = {"cpu": 512, "cuda": 8192}


def default_batch_size(model: SSMAEClassifier, device: torch.device = torch.device("cpu")) -> int:
    """Pixels per batch for a model on a device: fewer for wide models and many bands."""
    kind = "cuda" if device.type == "cuda" else "cpu"
    tokens = (model.n_hsi + model.n_aux + 1) + (model.config.patch ** 2 + 1)
    width = model.encoder.spatial.stack.blocks[0].mlp.fc1.out_features
    return int(min(MOST_PIXELS[kind], max(16, ACTIVATION_BUDGET[kind] // (tokens * width))))


MEMORY_SHARE = 0.25
"""The share of the memory available when a run starts that a CPU batch's activations, or a tile, may take."""
MIN_TILE = 64
"""The smallest tile side the memory may ask for: smaller, the halos are most of the work."""


def available_memory() -> Optional[int]:
    """Bytes of memory available now (Linux's MemAvailable, else the free pages), within the
    container's limit where one is set (cgroup v2, else v1: MemAvailable is the host's); None where
    unknown."""
    machine = _number_in("/proc/meminfo", "MemAvailable:", 1024)
    if machine is None:
        try:
            machine = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    for folder, limit, used, cache in (("/sys/fs/cgroup", "memory.max", "memory.current", "inactive_file "),
                                       ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
                                        "total_inactive_file ")):
        most, now = _number_in(f"{folder}/{limit}"), _number_in(f"{folder}/{used}")
        if most is not None and now is not None:  # the page cache it may drop counts as available
            return max(0, min(machine, most - now + (_number_in(f"{folder}/memory.stat", cache) or 0)))
    return machine


def memory_headroom() -> Optional[int]:
    """`available_memory`, within what a limit on this process's address space (ulimit -v) leaves
    it; None where unknown."""
    available, limit = available_memory(), soft_limit("RLIMIT_AS")
    used = _number_in("/proc/self/status", "VmSize:", 1024)
    if limit is None or used is None:
        return available
    left = max(0, limit - used)
    return left if available is None else min(available, left)


def _number_in(path: str, key: str = "", unit: int = 1) -> Optional[int]:
    """The number a file holds (after `key` at a line's start, when given) times `unit`; None when
    the file, the key or a number is missing ('max', a cgroup without a limit)."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line[len(key):].split()[0]) * unit
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_batch_limit(model: SSMAEClassifier, dtype: torch.dtype) -> Optional[int]:
    """The most pixels per CPU batch whose widest activations (twice, for those alive beside them) fit
    `MEMORY_SHARE` of the memory available (`memory_headroom`); None where that is unknown. A CPU's
    allocator seldom refuses a batch too large (Linux overcommits, and the kernel kills the process instead), so the
    batch halving on 'out of memory' did not save a batch of 2 million pixels from taking 23 GB of
    24 (red team of 2026-12-04)."""
    available = memory_headroom()
    if available is None:
        return None
    tokens = (model.n_hsi + model.n_aux + 1) + (model.config.patch ** 2 + 1)
    width = model.encoder.spatial.stack.blocks[0].mlp.fc1.out_features
    per_pixel = 2 * tokens * width * torch.finfo(dtype).bits // 8
    return max(1, int(MEMORY_SHARE * available) // per_pixel)


def _padded(indices: torch.Tensor, size: int) -> torch.Tensor:
    """`indices` followed by copies of its last value, `size` in all."""
    return torch.cat([indices, indices[-1:].expand(size - len(indices))])


def _is_out_of_memory(error: BaseException) -> bool:
    """A GPU out of memory, or the CPU allocator refusing a batch too large for the machine's memory."""
    return isinstance(error, torch.OutOfMemoryError) or says_out_of_memory(error)


class Float32Head(nn.Module):
    """A classifier's head (LayerNorm and the product to the logits) in float32 within a bf16 model:
    oneDNN's bf16 product of a few rows rounds otherwise than one of many on CPUs without AMX, so a
    pixel's confidence depended on the batch size (2e-5 on an AMD Zen 4 core, test of 2026-12-05);
    the head is a few thousand operations of the 281 million a `paper` pixel takes."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = copy.deepcopy(head).float()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features.float())


class TilePredictor:
    """`predictor(tile, valid) -> (class index, confidence)` for the raster pipeline.

    tile: raw values (C, H + 2h, W + 2h) with h = patch // 2, valid: (H + 2h, W + 2h).
    Returns class indices (H, W) (-1 where the pixel is not valid) and the top softmax
    probability (H, W) (NaN where not valid).
    """

    def __init__(self, model: SSMAEClassifier, normalizer: Normalizer, device: str = "auto",
                 precision: str = "auto", batch_size: Optional[int] = None,
                 hooks: Optional[Hooks] = None, source: str = "The classifier") -> None:
        if batch_size is not None and batch_size < 1:
            raise InputError(f"The batch size must be at least 1; got {batch_size}.")
        self.device = resolve_device(device)
        self.dtype = resolve_precision(precision, self.device) or torch.float32
        # A bfloat16 copy of the weights: no casts per product, activations stay bf16.
        self.model = copy.deepcopy(model).to(self.device, self.dtype).eval()
        if self.dtype != torch.float32:
            self.model.head = Float32Head(model.head).to(self.device)
        self.normalizer = normalizer
        self.hooks = hooks or Hooks()
        self.batch_size = batch_size or default_batch_size(model, self.device)
        limit = memory_batch_limit(model, self.dtype) if self.device.type == "cpu" else None
        if limit is not None and self.batch_size > limit:
            self.hooks.log(f"A batch of {self.batch_size:,} pixels would take more than {MEMORY_SHARE:.0%} of the "
                           f"memory available now; batches of {plural(limit, 'pixel')} are used (the map is the same).")
            self.batch_size = limit
        self.patch = model.config.patch
        self.halo = self.patch // 2
        self.source = source
        """The model at the start of a sentence (a parameter and its file, in the jobs)."""

    def bytes_per_pixel(self) -> int:
        """Memory a tile takes per pixel while it is classified: its raw values, their normalised
        float32 copy and that in the model's type, the spatial embedding and CNN features of every
        pixel (their widths found on a tile of one patch), and the index, confidence and positions."""
        n_bands, itemsize = self.model.n_hsi + self.model.n_aux, torch.finfo(self.dtype).bits // 8
        probe = torch.zeros(1, n_bands, self.patch, self.patch, dtype=self.dtype, device=self.device)
        with torch.inference_mode():
            features = self.model.spatial_embedding(probe).shape[-1] + self.model.cnn_features(probe).shape[1]
        return n_bands * (4 + 4 + itemsize) + features * itemsize + 64

    def tile_size_within_memory(self, tile_size: int) -> int:
        """The largest tile side up to `tile_size` whose tile, halo included, takes at most
        `MEMORY_SHARE` of the memory available on a CPU (`tile_size` on a GPU and where unknown):
        tiles of 8192 x 8192 took 12 GB and rising before its first progress (a helper's red team of
        2026-12-05). The map of smaller tiles is the same."""
        available = memory_headroom() if self.device.type == "cpu" else None
        if available is None:
            return tile_size
        side = max(MIN_TILE, math.isqrt(int(MEMORY_SHARE * available) // self.bytes_per_pixel()) - 2 * self.halo)
        return min(tile_size, side)

    @classmethod
    def from_classifier(cls, classifier: Classifier, **options: Any) -> "TilePredictor":
        return cls(classifier.model, classifier.normalizer, **options)

    def _cnn_map(self, tile: torch.Tensor) -> torch.Tensor:
        """CNN features (dim, H, W) of the tile's core, strip by strip to bound memory."""
        rows = tile.shape[2] - 2 * self.halo
        strips = [self.model.cnn_features(tile[:, :, start:min(start + CNN_STRIP_ROWS, rows) + 2 * self.halo])
                  for start in range(0, rows, CNN_STRIP_ROWS)]
        return torch.cat(strips, dim=2)[0]

    def _classify(self, windows: torch.Tensor, embedded: torch.Tensor, cnn: torch.Tensor,
                  rows: torch.Tensor, cols: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Class index and confidence of the pixels at (rows, cols).

        A batch smaller than the batch size (a tile's last) goes through the model padded with
        copies of its last pixel up to the next power of two: on a CPU, oneDNN builds and keeps
        kernels for every shape it meets, and a scene's tiles end in batches of every size (the
        valid pixels of each), so memory grew with each new size (a `paper` model: 326 -> 889 MiB
        over 80 sizes in bf16); now a run meets at most log2(batch size) + 1 sizes. A single pixel
        goes through as two rows, whatever the batch size: oneDNN computes a product of one row
        with other kernels, which round bf16 otherwise, and a map's pixels would depend on the
        batch size."""
        count = len(rows)
        size = max(2, min(self.batch_size, 1 << (count - 1).bit_length()))
        rows, cols = _padded(rows, size), _padded(cols, size)
        patches = windows[:, rows, cols].transpose(0, 1)
        tokens = embedded[rows, cols].flatten(2).transpose(1, 2)
        logits = self.model.classify(patches, tokens, cnn[:, rows, cols].T)
        confidence, index = torch.softmax(logits[:count].float(), dim=1).max(dim=1)
        if not torch.isfinite(confidence).all():
            raise ModelFileError(
                f"{self.source} gives class probabilities that are not numbers for some pixels: its weights, finite "
                "as they are, overflow on them, so it cannot make a map. Train it again, or choose another model file.")
        return index, confidence

    def __call__(self, tile: np.ndarray, valid: np.ndarray,
                 hooks: Optional[Hooks] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Classify the tile's core; `hooks` (default: the predictor's own) get the progress
        within the tile, batch by batch, and are asked about cancel before each batch."""
        hooks = hooks or self.hooks
        halo, patch = self.halo, self.patch
        height, width = tile.shape[1] - 2 * halo, tile.shape[2] - 2 * halo
        index = np.full((height, width), -1, dtype=np.int64)
        confidence = np.full((height, width), np.nan, dtype=np.float32)
        core_rows, core_cols = np.nonzero(valid[halo:halo + height, halo:halo + width])
        if len(core_rows) == 0:
            return index, confidence
        x = torch.from_numpy(self.normalizer.apply(tile, valid)).to(self.device, self.dtype)[None]
        with torch.inference_mode():
            embedded = self.model.spatial_embedding(x)[0].unfold(0, patch, 1).unfold(1, patch, 1)
            cnn = self._cnn_map(x)
            windows = x[0].unfold(1, patch, 1).unfold(2, patch, 1)
            rows_all = torch.from_numpy(core_rows).to(self.device)
            cols_all = torch.from_numpy(core_cols).to(self.device)
            start = 0
            while start < len(core_rows):
                hooks.check_cancel()
                stop = min(start + self.batch_size, len(core_rows))
                try:
                    batch_index, batch_confidence = self._classify(
                        windows, embedded, cnn, rows_all[start:stop], cols_all[start:stop])
                except RuntimeError as error:
                    if not _is_out_of_memory(error) or self.batch_size == 1:
                        raise
                    self._shrink_batch()
                    continue
                index[core_rows[start:stop], core_cols[start:stop]] = batch_index.cpu().numpy()
                confidence[core_rows[start:stop], core_cols[start:stop]] = batch_confidence.cpu().numpy()
                start = stop
                hooks.progress(stop / len(core_rows))
        return index, confidence

    def _shrink_batch(self) -> None:
        smaller = max(1, self.batch_size // 2)
        self.hooks.log(f"Out of memory on {self.device} with batch size {self.batch_size}; "
                       f"continuing with batch size {smaller}.")
        self.batch_size = smaller
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
