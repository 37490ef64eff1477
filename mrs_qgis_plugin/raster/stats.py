"""A streaming random sample of valid pixels, from which model_core fits its normalisation."""

from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ...model_core.errors import InputError
from ...model_core.hooks import Hooks
from ...model_core.names import plural
from . import TILE_SIZE
from .grid import Window, tiles
from .sources import Scene

OVERSAMPLING = 10
"""Blocks are read until this many times n valid pixels have been seen ..."""
MIN_BLOCKS = 32
"""... and at least this many blocks (or all of them) have been read."""


class RandomSubset:
    """A uniform random subset, without replacement, of at most n items of a stream.

    Every item gets a random key and the n items with the smallest keys are kept, so
    memory stays bounded by n plus one batch whatever the length of the stream.
    """

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        if n < 1:
            raise ValueError(f"a sample needs at least one item, not {n}")
        self._n = n
        self._rng = rng
        self._keys = np.empty(0)
        self._columns: tuple[np.ndarray, ...] = ()
        self.seen = 0

    def add(self, count: int, gather: Callable[[np.ndarray], tuple[np.ndarray, ...]]) -> None:
        """Offers `count` new items; gather(indices) returns the columns of the chosen ones."""
        self.seen += count
        keys = self._rng.random(count)
        chosen = np.arange(count)
        if len(self._keys) >= self._n:
            chosen = np.flatnonzero(keys < self._keys.max())
        if len(chosen) == 0:
            return
        columns = gather(chosen)
        keys = np.concatenate([self._keys, keys[chosen]])
        if self._columns:
            columns = tuple(np.concatenate([old, new]) for old, new in zip(self._columns, columns))
        if len(keys) > self._n:
            keep = np.argpartition(keys, self._n - 1)[: self._n]
            keys = keys[keep]
            columns = tuple(column[keep] for column in columns)
        self._keys, self._columns = keys, columns

    def result(self) -> tuple[np.ndarray, ...]:
        """The kept columns, in random order (any prefix is itself a uniform sample)."""
        order = np.argsort(self._keys, kind="stable")
        return tuple(column[order] for column in self._columns)


class BlockWalker:
    """The block walker of the streaming passes: reads the blocks in the order given and
    yields (block, data, flat indices of its valid pixels), checking cancel before each.

    With `skip_empty`, blocks GDAL knows to hold no data (the empty parts of a sparse VRT)
    are passed over without being read; `mask` (with a `burn(window)` giving a boolean
    array) limits the valid pixels. `done` and `read` count the blocks passed and read,
    `masked` whether the mask covered any pixel of them, `valid` their valid pixels, the mask's
    outside too.
    """

    def __init__(self, scene: Scene, blocks: Sequence[Window], hooks: Hooks, skip_empty: bool = False,
                 mask: Any = None) -> None:
        self.scene, self.blocks, self.hooks = scene, blocks, hooks
        self.skip_empty, self.mask = skip_empty, mask
        self.done = self.read = self.valid = 0
        self.masked = False

    def __iter__(self) -> Iterator[tuple[Window, np.ndarray, np.ndarray]]:
        for block in self.blocks:
            self.hooks.check_cancel()
            self.done += 1
            if self.skip_empty and not self.scene.holds_data(block):
                continue
            self.read += 1
            data, valid = self.scene.read(*block)
            self.valid += int(np.count_nonzero(valid))
            if self.mask is not None:
                inside = self.mask.burn(block)
                self.masked = self.masked or bool(inside.any())
                valid &= inside
            yield block, data, np.flatnonzero(valid)

    def fraction(self) -> float:
        """The share of the blocks passed."""
        return self.done / len(self.blocks)


class NoValidPixelError(InputError):
    """No pixel of the `scene` (or of its extent or mask) has valid values in every layer."""

    def __init__(self, message: str, scene: Scene) -> None:
        super().__init__(message)
        self.scene = scene


def no_valid_pixel_error(scene: Scene, where: str = "") -> NoValidPixelError:
    return NoValidPixelError(no_valid_pixel_message(scene, f"No pixel{where} has valid values in every layer"), scene)


MODEL_BAND_ADVICE = "Repair the band: the classifier needs every band it was trained on"
"""What to do of a band without a valid value when a classifier maps the scene."""


def no_valid_pixel_message(scene: Scene, start: str, advice: str = "that they cover the same area",
                           band_advice: str = "Repair the band, or leave it out of the layer") -> str:
    """`start` (that no pixel has valid values in every layer) and why: the layers or bands
    without a single valid value when there are some, else what usually causes it and the
    `advice` to check."""
    layers, bands = scene.empty_bands()
    nowhere = "as there is no valid value (nodata, NaN or infinite at every pixel) in"
    if layers:  # 'that layer' said of two (a helper's audit of 2026-12-07)
        which, other = ("that layer", "one") if len(layers) == 1 else ("each of them", "layers")
        return (f"{start}, {nowhere} any band of {' or '.join(layers)}. Check the nodata value of {which}, or "
                f"choose {other} with data.")
    if bands:
        return f"{start}, {nowhere} {' or '.join(bands)}. {band_advice}."
    return (f"{start} ({scene.layer_names}): each is nodata, NaN or infinite in at least one of them, or lies "
            f"outside one of them. Check the nodata values of the layers and {advice}.")


def sample_valid_pixels(
    scene: Scene,
    n: int,
    seed: int,
    hooks: Hooks | None = None,
    window: Window | None = None,
    tile_size: int = TILE_SIZE,
) -> np.ndarray:
    """Values (m, bands) float32, m <= n, of valid pixels drawn at random from blocks read in random order.

    Blocks are read one at a time in a random order until enough valid pixels have
    been seen (see OVERSAMPLING, MIN_BLOCKS), so a large raster is never read whole;
    blocks that GDAL knows to hold no data (the empty parts of a sparse VRT) are
    skipped without being read.
    """
    hooks = hooks or Hooks()
    rng = np.random.default_rng(seed)
    blocks = list(tiles(window or scene.data_window, tile_size))
    walker = BlockWalker(scene, [blocks[index] for index in rng.permutation(len(blocks))], hooks, skip_empty=True)
    subset = RandomSubset(n, rng)
    for _block, data, flat_valid in walker:
        pixels = data.reshape(scene.n_bands, -1)
        subset.add(len(flat_valid), lambda chosen: (pixels[:, flat_valid[chosen]].T,))
        hooks.progress(max(walker.fraction(), min(subset.seen / (OVERSAMPLING * n), walker.read / MIN_BLOCKS, 1.0)))
        if subset.seen >= OVERSAMPLING * n and walker.read >= MIN_BLOCKS:
            break
    if subset.seen == 0:
        raise no_valid_pixel_error(scene, "" if window is None else " of the extent")
    (values,) = subset.result()
    skipped = f" ({walker.done - walker.read:,} without data skipped)" if walker.done > walker.read else ""
    hooks.log(f"Statistics sample: {plural(len(values), 'valid pixel')} from {walker.read:,} of "
              f"{plural(len(blocks), 'block')}{skipped}.")
    return np.ascontiguousarray(values, dtype=np.float32)
