"""Unlabelled positions for pretraining: valid pixels drawn at random from one or more scenes,
within an extent and a mask."""

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...model_core.hooks import Hooks
from ...model_core.names import agreeing, plural
from . import TILE_SIZE
from .grid import Window, tiles
from .sources import Scene
from .stats import BlockWalker, RandomSubset, no_valid_pixel_error
from .vector_labels import mask_covers_nothing, mask_rasterizer


@dataclass(frozen=True)
class Positions:
    """Positions drawn from one or more scenes: rows, columns, each one's scene (its index in the
    list of scenes) and, per scene, how many valid pixels there were to draw from and how many
    valid pixels it has (in the window for the first; a mask limits the first's draw, not its
    pixels: a helper's red team of 2026-12-06 found them weighting the normalisation statistics)."""

    rows: np.ndarray
    cols: np.ndarray
    scenes: np.ndarray
    valid_counts: tuple[int, ...]
    scene_pixels: tuple[int, ...]


MANY_BLOCKS = 1024
"""More blocks to read before positions are drawn make the log say so: a scene larger than 8,192 x
8,192 pixels at TILE_SIZE, read in seconds as a GeoTIFF, in minutes or hours as a mosaic of VRTs (a
helper's red team of 2026-12-05: 2 hours, unsaid, for 200 positions)."""


def random_positions_in_scenes(
    scenes: Sequence[Scene],
    n: int,
    seed: int,
    hooks: Hooks | None = None,
    window: Window | None = None,
    mask_path: str | None = None,
    mask_name: str = "",
    tile_size: int = TILE_SIZE,
) -> Positions:
    """Up to n valid pixels drawn uniformly without replacement from all the scenes together, in
    random order: each scene gives positions in proportion to its valid pixels.

    The window and the polygons of the mask layer limit the first scene only; one streaming
    pass over the blocks of each scene. With one scene the positions are those `random_valid_positions` gives.
    """
    hooks = hooks or Hooks()
    rng = np.random.default_rng(seed)
    first = scenes[0]
    blocks = [list(tiles((window if number == 0 else None) or scene.data_window, tile_size))
              for number, scene in enumerate(scenes)]
    total = sum(map(len, blocks))
    if total > MANY_BLOCKS:  # those GDAL knows to be empty are passed over, but under a mask (see below)
        read = sum(len(listed) if number == 0 and mask_path else sum(map(scene.holds_data, listed))
                   for number, (scene, listed) in enumerate(zip(scenes, blocks)))
        if read > MANY_BLOCKS:  # 'all 16 blocks' of a sparse scene whose one block was read (a helper's audit)
            hooks.log(f"Sample positions are drawn from every valid pixel: "
                      f"{'all' if read == total else f'the {read:,} of the'} {total:,} blocks of {tile_size} x "
                      f"{tile_size} pixels{'' if read == total else ' that may hold data'} are read once, as the "
                      "progress shows.")
    mask = mask_rasterizer(mask_path, mask_name or mask_path, first.grid, first.hsi_name, hooks) if mask_path else None
    subset = RandomSubset(n, rng)
    counts, pixels = [], []
    for number, scene in enumerate(scenes):
        own = hooks.sub(number / len(scenes), (number + 1) / len(scenes))
        # blocks GDAL knows to hold no data are passed over (a sparse scene of 12,000 x 12,000 pixels was read
        # for 80 s, unsaid: a helper's red team of 2026-12-05); under a mask all are read, to tell a mask
        # over no pixel from one over pixels without data
        masked = mask if number == 0 else None
        walker = BlockWalker(scene, blocks[number], own, skip_empty=masked is None, mask=masked)
        tags = (number,) if len(scenes) > 1 else ()  # one scene needs no column of scene numbers
        seen = subset.seen
        for block, _data, flat in walker:
            subset.add(len(flat), lambda chosen: (flat[chosen] // block.width + block.row,
                                                  flat[chosen] % block.width + block.col,
                                                  *(np.full(len(chosen), tag, np.int32) for tag in tags)))
            own.progress(walker.fraction())
        counts.append(subset.seen - seen)
        pixels.append(walker.valid)
        if counts[-1] == 0 and number == 0 and mask is not None and not walker.masked:
            raise mask_covers_nothing(mask_name or mask_path, first.hsi_name, " in the extent" if window else "")
        if counts[-1] == 0:
            where = " of the extent" if number == 0 and window is not None else ""
            where += f" inside the mask '{mask_name or mask_path}'" if number == 0 and mask is not None else ""
            raise no_valid_pixel_error(scene, where)
    if subset.seen < n:
        hooks.log(f"Only {plural(subset.seen, 'valid pixel')} {agreeing(subset.seen, 'is', 'are')} available for {n:,} "
                  "requested positions; all of them are used.")
    elif subset.seen == n:  # 'Only 2,304 ... for 2,304' (a helper's desktop check of 2026-12-06)
        hooks.log(f"The {plural(n, 'requested position')} take every valid pixel there is.")
    rows, cols, *numbers = subset.result()
    return Positions(rows.astype(np.int64), cols.astype(np.int64),
                     numbers[0] if numbers else np.zeros(len(rows), np.int32), tuple(counts), tuple(pixels))


def random_valid_positions(
    scene: Scene,
    n: int,
    seed: int,
    hooks: Hooks | None = None,
    window: Window | None = None,
    mask_path: str | None = None,
    mask_name: str = "",
    tile_size: int = TILE_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of up to n valid pixels drawn uniformly without replacement, in random order.

    Limited to the window and to the polygons of the mask layer when given; one
    streaming pass over the blocks.
    """
    positions = random_positions_in_scenes([scene], n, seed, hooks, window, mask_path, mask_name, tile_size)
    return positions.rows, positions.cols
