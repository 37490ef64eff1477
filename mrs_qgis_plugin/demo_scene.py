"""The synthetic scene written for an analyst who has no data yet (`mrs:demoscene`, `bin/mrs demoscene`).

Written as outputs are: refused where an earlier scene would be overwritten,
written beside its place and moved in only when complete. No torch is needed.
"""

import os
import shutil
import tempfile
from typing import List, Optional

from ..model_core.errors import InputError
from ..model_core.paths import check_decodable
from ..model_core.hooks import Hooks
from .synthetic_scene import write_scene

SCENE_FILES = ("hsi.tif", "lidar.tif", "sar.tif", "train.tif", "test.tif", "train_points.gpkg", "classes.csv")


def write_new_scene(folder: str, *, size: int, n_bands: int, seed: int, sar: bool,
                    hooks: Optional[Hooks] = None) -> List[str]:
    """Write the size x size scene into `folder` (created if needed); returns the paths of its files."""
    hooks = hooks or Hooks()
    folder = os.path.abspath(folder)
    check_decodable(folder, "OUTPUT")
    taken = [name for name in SCENE_FILES if os.path.exists(os.path.join(folder, name))]
    if taken:
        raise InputError(f"OUTPUT: the folder {folder} already holds {', '.join(taken)}; "
                         "choose a new or empty folder.")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError(f"OUTPUT: {folder} is a file, not a folder; choose a new or empty folder.")
    if os.path.islink(folder) and not os.path.exists(folder):
        raise InputError(f"OUTPUT: {folder} is a link to {os.readlink(folder)}, which does not exist; choose a new or "
                         "empty folder.")
    created = not os.path.exists(folder)
    try:
        os.makedirs(folder, exist_ok=True)
        partial = tempfile.mkdtemp(prefix=".demo-scene-", dir=folder)
    except OSError as error:
        if created and os.path.isdir(folder):
            os.rmdir(folder)
        raise InputError(f"OUTPUT: the folder {folder} cannot be created or written ({error.strerror}); "
                         "choose a folder you can write to.") from None
    hooks.log(f"Simulating a {size} x {size} pixel scene with {n_bands} bands into {folder}.")

    def step(fraction: float) -> None:
        hooks.check_cancel()
        hooks.progress(fraction)

    try:
        try:
            write_scene(partial, width=size, height=size, n_bands=n_bands, seed=seed, sar=sar, step=step)
        except ValueError as error:
            raise InputError(f"{error} Try another SEED or a larger SIZE.") from None
        hooks.check_cancel()
        names = sorted(os.listdir(partial))
        for name in names:
            os.replace(os.path.join(partial, name), os.path.join(folder, name))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if created:  # a folder made for this scene goes with it (a canceled run left it behind, empty)
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(partial, ignore_errors=True)
    hooks.progress(1.0)
    return [os.path.join(folder, name) for name in names]
