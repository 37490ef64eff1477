"""Prediction over a whole scene, tile by tile, into a class map and a confidence raster."""

import numbers
from contextlib import ExitStack
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ...model_core.errors import Canceled, InputError, ProcessLostError, canceled_with_the_others
from ...model_core.heap import reusing_freed_memory
from ...model_core.hooks import Hooks, Pace
from ...model_core.names import agreeing, plural
from .classes import ClassInfo
from . import TILE_SIZE
from .grid import Window, tiles
from .outputs import check_output_path, refuse_shared_outputs
from .sources import Scene
from .stats import MODEL_BAND_ADVICE, no_valid_pixel_message
from .writers import CLASS_NODATA, CONFIDENCE_NODATA, CONFIDENCE_TAG, class_raster, confidence_raster, publish_rasters

# (tile (C, h + 2 halo, w + 2 halo), valid (h + 2 halo, w + 2 halo), hooks for the progress within the tile)
#   -> (class index (h, w), -1 = no data; confidence (h, w))
Predictor = Callable[[np.ndarray, np.ndarray, Hooks], Tuple[np.ndarray, np.ndarray]]


MAP_PARAMETER, CONFIDENCE_PARAMETER = "OUTPUT", "OUTPUT_CONFIDENCE"
"""The parameters that name the class map and the confidence raster, as the error messages cite them."""


class OneProcess:
    """The processes that share a prediction (see `model_core.distributed.Context`): here one."""

    rank, world = 0, 1

    def exchange(self, item: Any) -> Optional[List[Any]]:
        """Every rank's `item`, in rank order, on rank 0; None on the others."""
        return [item]

    def broadcast(self, item: Any) -> Any:
        """Rank 0's `item`, on every rank."""
        return item

    def first_found(self, item: Any) -> Any:
        """`item`, or None for an empty one (`Context.first_found`)."""
        return item or None


def pixel_shares(blocks: Sequence[Window]) -> np.ndarray:
    """The share of the pixels done after each of the blocks, from 0: progress counts pixels, as a
    first tile may hold most of them."""
    sizes = np.array([0] + [block.width * block.height for block in blocks], np.float64)
    return np.cumsum(sizes) / sizes.sum()


def check_tile_size(tile_size: int) -> int:
    if isinstance(tile_size, bool) or not isinstance(tile_size, numbers.Integral) or tile_size <= 0:
        raise InputError(
            f"TILE_SIZE: the tile size must be a positive number of pixels, not {tile_size!r}; use for example {TILE_SIZE}."
        )
    return int(tile_size)


def check_window(scene: Scene, window: Optional[Tuple[int, int, int, int]]) -> Window:
    """The window as a Window, the whole scene when None; it must lie inside the scene."""
    if window is None:
        return Window(0, 0, scene.width, scene.height)
    col, row, width, height = (int(value) for value in window)
    if width <= 0 or height <= 0 or col < 0 or row < 0 or col + width > scene.width or row + height > scene.height:
        raise InputError(
            f"EXTENT: the pixel window (col {col}, row {row}, {width} x {height}) is not inside the scene of "
            f"{scene.width} x {scene.height} pixels; choose an extent within the hyperspectral layer."
        )
    return Window(col, row, width, height)


def window_geotransform(geotransform: Tuple[float, ...], col: int, row: int) -> Tuple[float, ...]:
    """The geotransform of a grid whose pixel (0, 0) is pixel (col, row) of `geotransform`'s."""
    x0, dx_col, dx_row, y0, dy_col, dy_row = geotransform
    return (x0 + col * dx_col + row * dx_row, dx_col, dx_row, y0 + col * dy_col + row * dy_row, dy_col, dy_row)


def _check_outputs(out_class: str, out_conf: Optional[str]) -> Tuple[str, Optional[str]]:
    class_path = check_output_path(out_class, MAP_PARAMETER)
    if not out_conf:
        return class_path, None
    conf_path = check_output_path(out_conf, CONFIDENCE_PARAMETER)
    refuse_shared_outputs({MAP_PARAMETER: class_path, CONFIDENCE_PARAMETER: conf_path},
                          {MAP_PARAMETER: "the class map"})
    return class_path, conf_path


def predict_tile(scene: Scene, predictor: Predictor, halo: int, tile: Window,
                 hooks: Hooks, invalid: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Class index (-1 where a pixel is invalid in the scene, whatever the predictor says) and
    confidence of one tile's core; `invalid` counts each layer's invalid pixels there (`Scene.read`)."""
    data, valid = scene.read(*tile, halo, invalid=invalid)
    index, confidence = predictor(data, valid, hooks)
    core_valid = valid[halo : halo + tile.height, halo : halo + tile.width]
    return np.where(core_valid, index, -1), confidence


def plan_tiles(scene: Scene, window: Optional[Tuple[int, int, int, int]], tile_size: int,
               hooks: Hooks) -> Tuple[Window, List[Window]]:
    """The checked window (the whole scene by default) and its tiles, in the order they are predicted."""
    tile_size = check_tile_size(tile_size)
    window = check_window(scene, window)
    blocks = list(tiles(window, tile_size))
    hooks.log(f"Predicting {window.width} x {window.height} pixels in {plural(len(blocks), 'tile')} of up to "
              f"{tile_size} x {tile_size}.")
    return window, blocks


def predicted_tiles(scene: Scene, predictor: Predictor, halo: int, tile_size: int = TILE_SIZE,
                    hooks: Optional[Hooks] = None, window: Optional[Tuple[int, int, int, int]] = None,
                    needed: Optional[Callable[[Window], bool]] = None) -> Iterator[Tuple[Window, np.ndarray, np.ndarray]]:
    """(tile, class index, confidence) of each tile of `window` in turn, for work that needs the
    predictions but no map; tiles for which `needed(tile)` is False are neither predicted nor yielded.
    Cancel is checked before every tile, progress reported within each."""
    hooks = hooks or Hooks()
    _window, blocks = plan_tiles(scene, window, tile_size, hooks)
    # Tiles skipped take no time: the pace of the others is no pace (review of 2026-12-05).
    hooks = Pace("Predicting").hooks(hooks) if needed is None else hooks
    shares = pixel_shares(blocks)
    with reusing_freed_memory():
        for number, tile in enumerate(blocks):
            hooks.check_cancel()
            if needed is None or needed(tile):
                yield (tile, *predict_tile(scene, predictor, halo, tile, hooks.sub(shares[number], shares[number + 1])))
            hooks.progress(shares[number + 1])


def _classify_tile(scene: Scene, predictor: Predictor, halo: int, tile: Window, values: np.ndarray,
                   confidence_too: bool, hooks: Hooks) -> Tuple[np.ndarray, Optional[np.ndarray], np.ndarray]:
    """Class values, confidence (or None) and the counts of one tile's core: of each value, then
    of each layer's invalid pixels."""
    invalid = np.zeros(len(scene.layers), np.int64)
    index, confidence = predict_tile(scene, predictor, halo, tile, hooks, invalid)
    index = index + 1
    confidences = np.where(index > 0, confidence, CONFIDENCE_NODATA).astype(np.float32) if confidence_too else None
    return values[index], confidences, np.concatenate([np.bincount(index.ravel(), minlength=len(values)), invalid])


def _collective(ranks: Any, call: Any, item: Any, hooks: Hooks) -> Any:
    """`call` (an exchange among the processes) with `item`; its failure, when another process
    stopped (killed, out of memory, its machine lost), in one sentence (red team of 2026-12-05:
    rank 0 ended in gloo's traceback); a cancel when this process was canceled too, as SIGTERM to
    torchrun cancels them all and one may stop first (a helper's red team of 2026-12-05: 'another
    process stopped', exit 1, for a run stopped by SIGTERM)."""
    try:
        return call(item)
    except RuntimeError as error:
        if hooks.is_canceled():
            raise Canceled() from None
        from ...model_core.distributed import lost_exchange  # torch: not at plugin load

        raise ProcessLostError(lost_exchange("classification", error, "; no map was written.", ranks.world)) from None


def _round_stop(results: Optional[List[Tuple[bool, Optional[str], Any]]]) -> Union[str, bool]:
    """Rank 0's vote on a round's (canceled, `Scene.mixed`, result) of every process: the first
    process' sentence where a read saw a file changed under it, so that all stop at once (a review of
    2026-12-06: it was said at the end only, the rest of the scene classified for nothing); else
    whether one was canceled. False on the other ranks, which take rank 0's."""
    if results is None:
        return False
    return next((changed for _canceled, changed, _result in results if changed), None) or any(
        canceled for canceled, _changed, _result in results)


def _nodata_text(nodata: int, layers: Sequence[str], invalid: np.ndarray) -> str:
    """'1,240 no data: nodata in 'lidar' at 1,200 pixels, in 'hsi' at 60, 20 of them in both' (a
    pixel is no data in the map when it is in any layer), so that the map's holes can be traced to a
    layer; the pixels counted in several layers are said (the parts added up to more than the whole:
    a helper's red team of 2026-12-05)."""
    where = [f"in '{name}' at {int(count):,}" for name, count in zip(layers, invalid) if count]
    unit = "pixel" if where and int(invalid[invalid > 0][0]) == 1 else "pixels"
    twice = int(invalid.sum()) - nodata
    shared = ("" if twice <= 0 else f", {twice:,} of them in both" if len(where) == 2
              else ", some of them in more than one")
    return f"{nodata:,} no data" + (f": nodata {where[0]} {unit}{''.join(', ' + item for item in where[1:])}{shared}"
                                    if where else "")


def predict_scene(
    scene: Scene,
    predictor: Predictor,
    halo: int,
    classes: Sequence[ClassInfo],
    out_class: str,
    out_conf: Optional[str],
    tile_size: int = TILE_SIZE,
    hooks: Optional[Hooks] = None,
    window: Optional[Tuple[int, int, int, int]] = None,
    *,
    ranks: Any = None,
    tags: Optional[Mapping[str, str]] = None,
) -> Dict[str, object]:
    """Classify `window` of `scene` (all of it by default) into a class map and,
    when `out_conf` is given, a confidence raster covering just that window.

    Each tile is read with `halo` pixels around it, the predictor classifies its core,
    and the core is written at once, so memory depends on `tile_size`, not on the
    scene. Pixels invalid in the scene are no data in both outputs. Cancel is checked
    before every tile (the predictor checks it between its batches), progress is
    reported within each tile by the predictor and after every tile. Outputs are
    published only when complete; on any error or cancel the temporary files are
    removed and existing outputs stay as they were. The error messages cite OUTPUT, EXTENT,
    TILE_SIZE and OUTPUT_CONFIDENCE; `tags` become metadata items of the class map.

    With several processes (`ranks`, under torchrun), the tiles are dealt out in turn:
    in each round every rank classifies one tile, rank 0 gathers them and alone writes
    the outputs, in the order one process would; the map is the same. (The code, about 60
    lines, keeps the rounds, the cancel vote and the writes of rank 0 in one place to be
    read together.)
    """
    hooks = hooks or Hooks()
    ranks = ranks or OneProcess()
    window, blocks = plan_tiles(scene, window, tile_size, hooks)
    class_path, conf_path = _check_outputs(out_class, out_conf)
    col0, row0, width, height = window
    geotransform = window_geotransform(scene.geotransform, col0, row0)
    # Index -1 (no data) and 0..K-1 shifted by one into class values.
    values = np.array([CLASS_NODATA] + [info.value for info in classes], dtype=np.uint32)
    counts = np.zeros(len(values) + len(scene.layers), dtype=np.int64)  # as `_classify_tile` counts
    n_tiles, shares, hooks = len(blocks), pixel_shares(blocks), Pace("Classifying").hooks(hooks)
    with ExitStack() as stack:
        stack.enter_context(reusing_freed_memory())
        outputs = []
        if ranks.rank == 0:
            paired = {CONFIDENCE_TAG: conf_path} if conf_path else {}
            outputs.append(stack.enter_context(class_raster(class_path, MAP_PARAMETER, (width, height), geotransform,
                                                            scene.crs_wkt, classes, {**(tags or {}), **paired})))
            if conf_path:
                outputs.append(stack.enter_context(confidence_raster(conf_path, CONFIDENCE_PARAMETER, (width, height),
                                                                     geotransform, scene.crs_wkt, class_path)))
        for first in range(0, n_tiles, ranks.world):
            mine, canceled = first + ranks.rank, hooks.is_canceled()
            # Within a tile, its progress spans the round's: the ranks' tiles run at once (review of 2026-12-05).
            round_hooks = hooks.sub(shares[first], shares[min(first + ranks.world, n_tiles)])
            try:
                result = None if canceled or mine >= n_tiles else _classify_tile(
                    scene, predictor, halo, blocks[mine], values, bool(conf_path), round_hooks)
            except Canceled:  # taken to the exchange: the others wait there (torchrun's SIGTERM hung them, 12-05)
                canceled, result = True, None
            results = _collective(ranks, ranks.exchange, (canceled, scene.mixed, result), hooks)
            stop = _collective(ranks, ranks.broadcast, _round_stop(results), hooks)
            if isinstance(stop, str):
                raise InputError(stop)
            if stop:
                raise canceled_with_the_others(canceled or hooks.is_canceled())
            for tile, (_stop, _changed, (classified, confidence, tile_counts)) in zip(blocks[first:], results or []):
                counts += tile_counts
                outputs[0].write(classified, tile.col - col0, tile.row - row0)
                if conf_path:
                    outputs[1].write(confidence, tile.col - col0, tile.row - row0)
            hooks.progress(shares[min(first + ranks.world, n_tiles)])
        for out in outputs:
            out.close()
        changed = _collective(ranks, ranks.first_found, scene.changed(), hooks)  # each process' reads (review, 12-06)
        if changed:  # the first finding, on every rank: none writes, none waits for the others (review)
            raise InputError(changed)
        if outputs:
            publish_rasters(outputs)
    counts = _collective(ranks, ranks.broadcast, counts, hooks)
    counts, invalid = counts[:len(values)], counts[len(values):]
    summary = {
        "tiles": n_tiles,
        "classified_pixels": int(counts[1:].sum()),
        "nodata_pixels": int(counts[0]),
        "nodata_by_layer": list(zip(scene.layers, invalid.tolist())),  # two layers may share a name
        "class_counts": {info.value: int(count) for info, count in zip(classes, counts[1:])},
        "class_path": class_path,
        "confidence_path": conf_path,
    }
    classified = summary["classified_pixels"]
    confidences = f"; their confidences in {conf_path}" if conf_path else ""  # unsaid (desktop helper, 2026-12-05)
    hooks.log(f"Wrote {class_path}: {classified:,} {agreeing(classified, 'pixel', 'pixels')} classified, "
              f"{_nodata_text(summary['nodata_pixels'], scene.layers, invalid)}{confidences}.")
    if not summary["classified_pixels"]:
        hooks.warning(no_valid_pixel_message(
            scene, "The map holds only nodata: no pixel has valid values in every layer",
            "that the extent covers their data", MODEL_BAND_ADVICE))
    return summary
