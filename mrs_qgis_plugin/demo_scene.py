"""The synthetic scene written for an analyst who has no data yet (`mrs:demoscene`, `bin/mrs demoscene`).

Written as outputs are: refused where an earlier scene would be overwritten,
written beside its place and moved in only when complete. No torch is needed.
"""

import contextlib
import errno
import json
import os
import shutil
import tempfile
from typing import Callable, Iterator, List, Optional

import numpy as np
from osgeo import gdal

from ..model_core.atomic import held, new_file_mode, remove_stale_temporaries, says_too_large, why_and_advice
from ..model_core.errors import InputError, WriteError, first_line
from ..model_core.paths import check_decodable
from ..model_core.hooks import Hooks
from .raster.classes import ClassInfo
from .raster.gdal_io import concise, exceptions_off, failures_recorded, gdal_pam
from .raster.outputs import LAYER_OPTION, refuse_dangling_link, refuse_virtual
from .raster.sources import read_wavelengths
from .raster.writers import class_qml, colour_composite_qml, grey_qml
from .synthetic_scene import CLASSES, write_scene

SCENE_FILES = ("hsi.tif", "lidar.tif", "sar.tif", "train.tif", "test.tif", "train_points.gpkg", "classes.csv",
               "hsi.qml", "lidar.qml", "sar.qml", "train.qml", "test.qml", "train.tif.aux.xml", "test.tif.aux.xml")
PARTIAL_PREFIX = ".demo-scene-"
"""The hidden folder a run writes its scene into before moving the files into place."""
MOVING = ".moving"
"""The mark a run leaves in its hidden folder once the scene there is whole, as it starts moving
the files into place: a run killed meanwhile leaves a scene that the next run finishes."""
SAR_VV_DB_BAND = 3
"""The band of sar.tif its style shows: VV backscatter in dB (the synthetic scene's SAR bands)."""
TRUE_COLOUR_NM = (640.0, 550.0, 470.0)
"""Red, green and blue: the bands nearest these show the hyperspectral raster in true colour."""


def write_new_scene(folder: str, *, size: int, n_bands: int, seed: int, sar: bool,
                    hooks: Optional[Hooks] = None) -> List[str]:
    """Write the size x size scene into `folder` (created if needed); returns the paths of its files."""
    hooks = hooks or Hooks()
    refuse_virtual(folder, "OUTPUT", "folder")
    option = LAYER_OPTION.search(folder)
    if option:  # its files could not be opened as layers (a helper's red team of 2026-12-07)
        raise InputError(f"OUTPUT: {folder} holds '{option.group(0)}', which QGIS reads as a layer's option in the "
                         "paths of the scene's files; choose a folder name without it.")
    folder = os.path.abspath(folder)
    check_decodable(folder, "OUTPUT")
    _finish_stopped_scene(folder, hooks)
    _refuse_earlier_scene(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError(f"OUTPUT: {folder} is a file, not a folder; choose a new folder, or one without a scene.")
    refuse_dangling_link(folder, "OUTPUT", "folder")
    created = None  # the folders made for it (a/b/c: a), removed with the scene on failure
    try:
        created = _make_folders(folder)
        partial = tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=folder)
    except OSError as error:
        if created:
            shutil.rmtree(created, ignore_errors=True)
        raise InputError(f"OUTPUT: the folder {folder} cannot be created or written ({error.strerror}); "
                         "choose a folder you can write to.") from None
    hooks.log(f"Simulating a {size} x {size} pixel scene with {n_bands} bands into {folder}.")

    def step(fraction: float) -> None:
        hooks.check_cancel()
        hooks.progress(fraction)

    moved: List[str] = []
    try:
        with _folder_held(folder, partial):
            _write_files(partial, folder, size=size, n_bands=n_bands, seed=seed, sar=sar, step=step)
            hooks.check_cancel()
            names = sorted(os.listdir(partial))
            with open(os.path.join(partial, MOVING), "w", encoding="utf-8") as mark:
                json.dump(names, mark)
            for name in names:
                moved.append(os.path.join(folder, name))  # recorded first: a Ctrl-C just after is undone too
                os.replace(os.path.join(partial, name), os.path.join(folder, name))
    except BaseException as error:
        with contextlib.suppress(OSError):  # first: a kill below must not leave a scene taken for whole
            os.unlink(os.path.join(partial, MOVING))
        for path in moved:  # the folder held no scene file before: a failed move takes back those made
            with contextlib.suppress(OSError):
                os.unlink(path)
        shutil.rmtree(partial, ignore_errors=True)
        # the folders made for this scene go with it (a canceled run left them behind, empty), unless another
        # run holds them (review of 2026-12-05: the refused run deleted the other's scene)
        if created and not isinstance(error, FolderTaken):
            shutil.rmtree(created, ignore_errors=True)
        raise
    shutil.rmtree(partial, ignore_errors=True)
    hooks.progress(1.0)
    return [os.path.join(folder, name) for name in names]


def _finish_stopped_scene(folder: str, hooks: Hooks) -> None:
    """Moves into place the rest of a scene that a run killed while moving its files left in its
    hidden folder (`MOVING`), unless a live run holds the folder (a helper's red team of 2026-12-05:
    three files of a scene stayed in place, the rest hidden, and each later run refused the folder)."""
    try:
        stopped = [entry.path for entry in os.scandir(folder) if entry.name.startswith(PARTIAL_PREFIX)
                   and entry.is_dir(follow_symlinks=False) and os.path.isfile(os.path.join(entry.path, MOVING))]
    except OSError:
        return
    if not stopped:
        return
    anchor = os.path.join(folder, SCENE_FILES[0])
    with held(anchor) as temporary:
        if _written_by_another_run(anchor, temporary):
            return  # a live run's own moves
        for partial in stopped:
            _finish_moves(folder, partial, hooks)
            shutil.rmtree(partial, ignore_errors=True)


def _finish_moves(folder: str, partial: str, hooks: Hooks) -> None:
    """The moves a stopped run left in `partial`, where the files it moved before are all still in
    `folder` (the scene's names are in its `MOVING` mark); else the scene is no longer whole there
    (an analyst deleted the files moved: a helper's red team of 2026-12-05 found half a scene called
    whole), and its hidden rest goes."""
    try:
        with open(os.path.join(partial, MOVING), encoding="utf-8") as mark:
            names = [str(name) for name in json.load(mark)]
    except (OSError, ValueError, TypeError):
        return
    if not set(names) <= set(SCENE_FILES):  # a mark of no scene of this plugin's: nothing moves out (a review)
        return
    rest = [name for name in names if os.path.lexists(os.path.join(partial, name))]
    moved = [name for name in names if name not in rest]
    if not rest or not all(os.path.lexists(os.path.join(folder, name)) for name in moved) or any(
            os.path.lexists(os.path.join(folder, name)) for name in rest):
        return
    for name in rest:
        os.replace(os.path.join(partial, name), os.path.join(folder, name))
    hooks.warning(f"OUTPUT: a run stopped while it put its scene in place in {folder}; its scene is now there "
                  f"whole ({len(rest)} of its {len(names)} files moved in place now).")


def _refuse_earlier_scene(folder: str) -> None:
    taken = [name for name in SCENE_FILES if os.path.exists(os.path.join(folder, name))]
    if taken:
        raise FolderTaken(f"OUTPUT: the folder {folder} already holds {', '.join(taken)}; "
                          "choose a new folder, or one without a scene.")


@contextlib.contextmanager
def _folder_held(folder: str, partial: str) -> Iterator[None]:
    """The run's hold on the scene folder (`make_temporary` for its hyperspectral raster) while the
    block runs: another run writing into it is refused, and the hidden folders killed runs left
    there are removed (red team of 2026-12-05: two runs into one folder both succeeded with half a
    scene each; a killed run's 145 MB stayed)."""
    anchor = os.path.join(folder, SCENE_FILES[0])
    with held(anchor) as temporary:
        if _written_by_another_run(anchor, temporary):
            raise FolderTaken(f"OUTPUT: the folder {folder} is being written by another run now; wait until it "
                              "has ended, or choose another folder.")
        _refuse_earlier_scene(folder)  # one that a run ending since the first look wrote
        for entry in os.scandir(folder):
            if entry.name.startswith(PARTIAL_PREFIX) and entry.path != partial and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
        yield


def _written_by_another_run(anchor: str, temporary: str) -> bool:
    """Whether a live run other than this one (which holds `temporary`) writes the scene whose
    hyperspectral raster is `anchor`; a killed run's leftovers go."""
    return any(path != temporary for path in remove_stale_temporaries(anchor))


def _write_files(partial: str, folder: str, *, size: int, n_bands: int, seed: int, sar: bool,
                 step: Callable[[float], None]) -> None:
    """The scene's files and styles into `partial`; a failure to write them (a full disk) in one
    sentence (red team of 2026-12-05: GDAL's 'No space left on device' dozens of times, then a
    traceback quoting an SQL statement). The class names and descriptions of the label rasters go
    into their .aux.xml files, which the front ends turn off for the layers they read (red team of
    2026-12-05: the Toolbox's scene had none, bin/mrs's had them)."""
    with gdal_pam("YES"), exceptions_off(), failures_recorded() as failures:  # GDAL's exceptions: a QGIS console's
        try:
            write_scene(partial, width=size, height=size, n_bands=n_bands, seed=seed, sar=sar, step=step)
            # as the umask gives a new file, as the others (SQLite made it 0644: a helper's red team of 2026-12-05)
            os.chmod(os.path.join(partial, "train_points.gpkg"), new_file_mode())
            if not failures:  # styles read the rasters, which a failed write leaves unreadable (ulimit -f: a traceback)
                _write_styles(partial)
        except ValueError as error:
            raise InputError(f"{error} Try another SEED or a larger SIZE.") from None
        except OSError as error:
            failures.append(concise(str(error)))
    if failures and says_too_large(failures[0]):  # ulimit -f (review of 2026-12-05: 'the disk may be full')
        why, advice = why_and_advice(OSError(errno.EFBIG, os.strerror(errno.EFBIG)))
        raise WriteError(f"OUTPUT: the demo scene could not be written into {folder}: {why}; nothing was written. "
                         f"{advice.capitalize()}, or ask for a smaller SIZE or fewer BANDS, and run again.")
    if failures:
        raise WriteError(f"OUTPUT: the demo scene could not be written into {folder} ({first_line(failures[0])}); "
                         "nothing was written. Free some space (the disk may be full) or choose another folder, and "
                         "run again.")


class FolderTaken(InputError):
    """A scene folder another run writes into, or holds a scene already."""


def _make_folders(folder: str) -> Optional[str]:
    """Makes `folder` and the folders above it that do not exist; returns the outermost one this
    run made (None when it made none), which another run making them at the same time did not:
    a run refused as another wrote into the folder deleted that run's scene (review of 2026-12-05)."""
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    made = None
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError:
            if made:
                shutil.rmtree(made, ignore_errors=True)
            raise
        made = made or path
    return made


def _stretch_of(path: str, band: int) -> tuple[float, float]:
    """The 2-98 % range of a band's valid values, as QGIS shows them (its scale applied)."""
    dataset = gdal.Open(path)
    raster = dataset.GetRasterBand(band)
    values = raster.ReadAsArray().astype(np.float64)
    nodata = raster.GetNoDataValue()
    values = values[values != nodata] if nodata is not None else values.ravel()
    low, high = np.percentile(values * (raster.GetScale() or 1.0) + (raster.GetOffset() or 0.0), [2.0, 98.0])
    return float(low), float(high)


def _write_styles(folder: str) -> None:
    """The `.qml` styles QGIS applies to the scene's layers: the label rasters' classes with their
    names and colours (QGIS showed 256 entries named 0 to 255), the hyperspectral raster in true
    colour (it showed bands 1-3, all blue), the LiDAR's height in grey (helpers' review of
    2026-12-04) and the SAR's VV backscatter in dB in grey (it had no style: desktop helper of
    2026-12-05)."""
    hsi = os.path.join(folder, "hsi.tif")
    dataset = gdal.Open(hsi)
    centres = np.asarray(read_wavelengths(dataset, list(range(1, dataset.RasterCount + 1)), "hsi", Hooks()))
    bands = [int(np.argmin(np.abs(centres - nm))) + 1 for nm in TRUE_COLOUR_NM]
    styles = {"hsi.qml": colour_composite_qml(bands, [_stretch_of(hsi, band) for band in bands]),
              "lidar.qml": grey_qml(1, *_stretch_of(os.path.join(folder, "lidar.tif"), 1))}
    sar = os.path.join(folder, "sar.tif")
    if os.path.exists(sar):
        styles["sar.qml"] = grey_qml(SAR_VV_DB_BAND, *_stretch_of(sar, SAR_VV_DB_BAND))
    classes = [ClassInfo(item.value, item.name, item.color) for item in CLASSES]
    styles.update({"train.qml": class_qml(classes), "test.qml": class_qml(classes)})
    for name, text in styles.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as file:
            file.write(text)
