"""Unlabelled positions for pretraining: valid pixels drawn at random, within an extent and a mask."""

import numpy as np

from ...model_core.hooks import Hooks
from . import TILE_SIZE
from .grid import Window, tiles
from .sources import Scene
from .stats import BlockWalker, RandomSubset, no_valid_pixel_error
from .vector_labels import mask_rasterizer


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
    hooks = hooks or Hooks()
    rng = np.random.default_rng(seed)
    mask = mask_rasterizer(mask_path, mask_name or mask_path, scene.grid, scene.hsi_name, hooks) if mask_path else None
    subset = RandomSubset(n, rng)
    walker = BlockWalker(scene, list(tiles(window or scene.window, tile_size)), hooks, mask=mask)
    for block, _data, flat in walker:
        subset.add(len(flat), lambda chosen: (flat[chosen] // block.width + block.row, flat[chosen] % block.width + block.col))
        hooks.progress(walker.fraction())
    if subset.seen == 0:
        where = " of the extent" if window is not None else ""
        where += f" inside the mask '{mask_name or mask_path}'" if mask is not None else ""
        raise no_valid_pixel_error(scene, where)
    if subset.seen <= n:
        hooks.log(f"Only {subset.seen} valid pixels are available for {n} requested positions; all of them are used.")
    rows, cols = subset.result()
    return rows.astype(np.int64), cols.astype(np.int64)
