"""Normalised patches cut from the scene: all at once for the few labelled pixels of
fine-tuning, batch by batch for pretraining, so that memory does not grow with SAMPLES."""

import hashlib
import json
from collections import OrderedDict
from typing import Any, Callable, Hashable, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from ..model_core import choices
from ..model_core.checkpoints import SAMPLE_SETTINGS
from ..model_core.hooks import Hooks
from ..model_core.names import plural
from ..model_core.preprocessing import Normalizer
from ..model_core.training import Samples
from .raster.patches import cut_patches
from .raster.samples import Positions
from .raster.sources import Scene

MAX_POSITIONS = 2_000_000
"""Most positions one pretraining draws: ten times the paper's 200,000. Drawing them
holds about 50 bytes per position (100 MB), and an epoch of them takes half an hour or
more on a GPU with the paper preset; longer training comes from more epochs."""

BLOCK = 128
"""Side of the blocks in which the scene is read, normalised and kept."""

CACHE_BYTES = 256 * 2 ** 20
"""Most memory the normalised blocks take: a scene of up to about 1.3 megapixels of 100
bands is read from disk once, a larger one block by block as batches need it."""


def normalised_patches(scene: Scene, rows: np.ndarray, cols: np.ndarray, patch: int, normalizer: Normalizer,
                       hooks: Optional[Hooks] = None) -> np.ndarray:
    """Normalised patches (k, C, P, P) around the positions, stored as float16 (the model's
    input never needs more)."""
    return cut_patches(scene, rows, cols, patch,
                       lambda raw, valid: normalizer.apply(raw, valid).astype(np.float16), hooks)


def capped_positions(samples: int) -> int:
    """How many positions a pretraining asking for `samples` draws."""
    return min(samples, MAX_POSITIONS)


def say_how_many_positions(samples: int, drawn: int, batch_size: int, limits: Sequence[str], hooks: Hooks,
                           scenes: int = 1) -> None:
    """Says when SAMPLES was capped, and warns when the patches drawn do not fill one batch: SAMPLES 1
    pretrained a model on one patch (own bad input of 2026-12-05), and so did an EXTENT of 3 x 3 pixels
    (a helper's red team of 2026-12-05), each said in an info line only. `limits`: the parameters
    (EXTENT, MASK) that limit where patches are drawn, in the first of `scenes` (several were said to be
    'the scene', and told to add MORE_SCENES: a helper's audit of 2026-12-07)."""
    if samples > MAX_POSITIONS:
        hooks.log(f"SAMPLES is {samples:,}; pretraining draws at most {MAX_POSITIONS:,} positions so that "
                  "memory stays bounded. To train longer, raise EPOCHS.")
    if drawn >= batch_size:
        return
    few = (f"every epoch takes the same {plural(drawn, 'patch', 'patches')} in one step, too few for pretrained "
           "features that help a classifier")
    if drawn == samples:
        hooks.warning(f"SAMPLES is {samples:,}, fewer than one batch (BATCH_SIZE {batch_size:,}): {few}; the default "
                      f"draws {choices.PRETRAINING_SAMPLES:,}.")
        return
    larger = f"a larger {' or '.join(limits)}"
    if scenes > 1:
        where = f"the {scenes} scenes" + (f", {' and '.join(limits)} limiting the first" if limits else "")
        advice = "Add scenes, or larger ones, to MORE_SCENES" + (f", or give {larger}" if limits else "")
    elif limits:
        where, advice = " and ".join(limits), f"Give {larger}"
    else:
        where, advice = "the scene", "Pretrain on a larger scene, or add scenes (MORE_SCENES)"
    hooks.warning(f"Only {plural(drawn, 'patch', 'patches')} can be drawn (the valid pixels of {where}), fewer "
                  f"than one batch (BATCH_SIZE {batch_size:,}): {few}. {advice}.")


class BlockCache:
    """Blocks of normalised data, kept while they fit in `budget` bytes (the least recently
    used go first); one cache may serve the blocks of several scenes."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._kept: "OrderedDict[Hashable, Tuple[np.ndarray, np.ndarray]]" = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: Hashable, make: Callable[[], Tuple[np.ndarray, np.ndarray]]) -> Tuple[np.ndarray, np.ndarray]:
        """The entry of `key`, made by `make` when it is not kept."""
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        entry = make()
        self._kept[key] = entry
        self._bytes += entry[0].nbytes + entry[1].nbytes
        while self._bytes > self.budget and len(self._kept) > 1:
            _key, (data, old_valid) = self._kept.popitem(last=False)
            self._bytes -= data.nbytes + old_valid.nbytes
        return entry


class NormalisedBlocks:
    """The scene, normalised, as float16 blocks with the patch halo, kept in a `BlockCache`.

    Reading a window of a few pixels from a band-interleaved, compressed raster of a
    hundred bands costs milliseconds however small it is; a batch of random patches makes
    dozens of such reads. Kept blocks serve them from memory. It stands in for the scene
    in `cut_patches`, whose every window lies inside one block.
    """

    def __init__(self, scene: Scene, normalizer: Normalizer, halo: int, block: int = BLOCK,
                 cache: Optional[BlockCache] = None) -> None:
        self.scene, self.normalizer, self.halo, self.block = scene, normalizer, halo, block
        self.cache = cache if cache is not None else BlockCache()
        self.width, self.height, self.n_bands, self.hsi_name = scene.width, scene.height, scene.n_bands, scene.hsi_name

    def _normalised_block(self, key: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
        row, col = key[0] * self.block, key[1] * self.block

        def make() -> Tuple[np.ndarray, np.ndarray]:
            raw, valid = self.scene.read(col, row, min(self.block, self.width - col),
                                         min(self.block, self.height - row), self.halo)
            return self.normalizer.apply(raw, valid).astype(np.float16), valid

        return self.cache.get((id(self), *key), make)

    def read(self, col: int, row: int, width: int, height: int, halo: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        """Normalised data (C, h + 2 halo, w + 2 halo) float16 and validity of a window inside one block."""
        key = (row // self.block, col // self.block)
        if halo > self.halo or (row + height - 1) // self.block != key[0] or (col + width - 1) // self.block != key[1]:
            raise ValueError("the window does not lie inside one block")
        data, valid = self._normalised_block(key)
        top, left = row - key[0] * self.block + self.halo - halo, col - key[1] * self.block + self.halo - halo
        rows, cols = slice(top, top + height + 2 * halo), slice(left, left + width + 2 * halo)
        return data[:, rows, cols], valid[rows, cols]


class ScenePatches(Samples):
    """Pretraining samples read from the open scene batch by batch.

    Memory holds the positions (two int64 per sample) and at most `CACHE_BYTES` of
    normalised blocks; `fetch` groups a batch's positions by block and cuts their
    patches, exactly those `normalised_patches` would have cut all at once.
    """

    def __init__(self, scene: Scene, rows: np.ndarray, cols: np.ndarray, patch: int,
                 normalizer: Normalizer, identity: Mapping[str, Any], budget: int = CACHE_BYTES,
                 cache: Optional[BlockCache] = None, content: str = "") -> None:
        self.scene, self.rows, self.cols = scene, np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        self.patch, self.normalizer, self.identity, self.content = patch, normalizer, dict(identity), content
        self.blocks = NormalisedBlocks(scene, normalizer, patch // 2, cache=cache if cache is not None
                                       else BlockCache(budget))

    @property
    def shape(self) -> Tuple[int, ...]:
        return (len(self.rows), self.scene.n_bands, self.patch, self.patch)

    def fingerprint(self) -> str:
        """What a resumed run must share with the run that wrote the checkpoint: the samples and how
        they are read, and the `content` said of the values read (`sample_digest`), not the layers'
        names (a renamed copy, or a layer renamed in QGIS, was refused as other samples, red team of
        2026-12-04)."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(json.dumps({**_nameless(self.identity), "patch": self.patch,
                                  "normalization": self.normalizer.to_dict(), "content": self.content,
                                  "grid": [self.scene.width, self.scene.height]}, sort_keys=True).encode())
        digest.update(self.rows.tobytes())
        digest.update(self.cols.tobytes())
        return digest.hexdigest()

    def patches(self, chosen: np.ndarray) -> np.ndarray:
        """The normalised patches (k, C, P, P) float16 of the samples `chosen`, in that order."""
        return cut_patches(self.blocks, self.rows[chosen], self.cols[chosen], self.patch,  # type: ignore[arg-type]
                           lambda data, _valid: data, tile_size=self.blocks.block)

    def fetch(self, index: torch.Tensor, device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return _on_device(self.patches(index.cpu().numpy()), device)

    def changed(self) -> Optional[str]:
        return self.scene.mixed


LAYER_ENTRIES = ("hsi_layer", "aux_layers", "band_names", "aux_band_counts", "pixel_size_m", "pixel_sides_m",
                 SAMPLE_SETTINGS)
"""The entries of a model's description that a checkpoint's samples need not share: those that
describe its layers, not its samples (the layers' and bands' names, 'hsi band 3' when undescribed;
what a model compares with other layers later), and the settings that chose the samples, which their
positions hold (entries of 2026-12-05, which a checkpoint written before lacks: it resumed no more,
review)."""


def _nameless(description: Mapping[str, Any]) -> Any:
    """The description without `LAYER_ENTRIES`, in the scenes it lists too."""
    if isinstance(description, Mapping):
        return {key: _nameless(value) for key, value in description.items() if key not in LAYER_ENTRIES}
    if isinstance(description, list):
        return [_nameless(item) for item in description]
    return description


def _on_device(patches: np.ndarray, device: torch.device) -> Tuple[torch.Tensor, None]:
    return torch.from_numpy(np.ascontiguousarray(patches)).to(device, torch.float32, non_blocking=True), None


class ArchivePatches(Samples):
    """Pretraining samples from several scenes with the same bands, read batch by batch.

    Sample i is a position in scene `scenes[i]`; each scene's `ScenePatches` cuts its own
    positions' patches, from blocks kept in one shared `BlockCache`."""

    def __init__(self, parts: Sequence[ScenePatches], scenes: np.ndarray) -> None:
        self.parts, self.scenes = list(parts), np.asarray(scenes, np.int32)
        self.local = np.empty(len(self.scenes), np.int64)
        for number in range(len(self.parts)):
            members = self.scenes == number
            self.local[members] = np.arange(int(members.sum()))

    @property
    def shape(self) -> Tuple[int, ...]:
        return (len(self.scenes), *self.parts[0].shape[1:])

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for part in self.parts:
            digest.update(part.fingerprint().encode())
        digest.update(self.scenes.tobytes())
        return digest.hexdigest()

    def fetch(self, index: torch.Tensor, device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        chosen = index.cpu().numpy()
        patches = np.empty((len(chosen), *self.shape[1:]), np.float16)
        for number, part in enumerate(self.parts):
            members = np.flatnonzero(self.scenes[chosen] == number)
            if len(members):
                patches[members] = part.patches(self.local[chosen[members]])
        return _on_device(patches, device)

    def changed(self) -> Optional[str]:
        return next((found for found in (part.changed() for part in self.parts) if found), None)


def sample_digest(sample: np.ndarray) -> str:
    """A digest of the values of a statistics sample, which a resumed pretraining must share with the
    run that wrote its checkpoint: pixels edited between the runs resumed without a word where the
    normalisation's medians and percentiles stayed (a helper's red team of 2026-12-06); the sample holds
    every pixel of a small scene, a spread of a large one's."""
    return hashlib.blake2b(np.ascontiguousarray(sample).tobytes(), digest_size=16).hexdigest()


def pretraining_samples(scenes: Sequence[Scene], positions: Positions, patch: int, normalizer: Normalizer,
                        identity: Mapping[str, Any], content: str = "") -> Samples:
    """The drawn positions as pretraining samples: `ScenePatches` for one scene, `ArchivePatches` for several;
    `content`: the `sample_digest` of their statistics sample."""
    if len(scenes) == 1:
        return ScenePatches(scenes[0], positions.rows, positions.cols, patch, normalizer, identity, content=content)
    cache = BlockCache()
    parts = [ScenePatches(scene, positions.rows[positions.scenes == number], positions.cols[positions.scenes == number],
                          patch, normalizer, identity, cache=cache, content=content)
             for number, scene in enumerate(scenes)]
    return ArchivePatches(parts, positions.scenes)
