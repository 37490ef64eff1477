"""Which pixels a classifier was trained on, carried from its model file to its maps, so that an
accuracy assessment can tell a reference that holds them (a copy of the training labels, the same
samples in another format) from samples kept apart from training.

A record holds the training pixels as positions on the hyperspectral grid the classifier was
trained on (its geotransform, width and whether it is georeferenced), at most SAMPLE of them drawn
at random, and their count; a map's reference pixels are found on that grid through their centres'
coordinates.
"""

import base64
import json
from typing import Any, Dict, Optional, Tuple

import numpy as np
from osgeo import gdal

from .raster.grid import PIXEL_SPACE, UNGEOREFERENCED, Grid, pixel_centres

SAMPLE = 4096
"""Training pixels a record keeps at most: a random sample estimates the share of a reference that
was trained on (the warning needs the share, not the pixels), and keeps the map's tag small."""
TAG = "MRS_TRAINED_PIXELS"
"""The class map's metadata item that holds its classifier's record (JSON)."""
LABELLED_RECORDS = ("trained_pixels", "validation_pixels")
"""A classifier file's records of the pixels it was trained on and of those held out to validate it."""
BY_ROW_AND_COLUMN = (" (the scene has no georeferencing, so they are matched by row and column: if the classifier was "
                     "trained on another scene, they are not its)")
"""What the trained pixels found on a scene without georeferencing may be (a helper's red team of
2026-12-06: a flipped copy of the training scene was said to hold them)."""
WARN_SHARE = 0.05
"""Share of a reference's pixels trained on from which mrs:accuracy says its figures are inflated."""


def record(grid: Grid, rows: np.ndarray, cols: np.ndarray, seed: int) -> Dict[str, Any]:
    """The record of training pixels at `rows`, `cols` of `grid`."""
    keys = np.asarray(rows, np.int64) * grid.width + np.asarray(cols, np.int64)
    if len(keys) > SAMPLE:
        keys = np.random.default_rng(seed).choice(keys, SAMPLE, replace=False)
    return {"geotransform": list(grid.geotransform), "georeferenced": grid.georeferenced, "width": grid.width,
            "count": int(len(rows)), "keys": base64.b64encode(np.sort(keys).astype("<i8").tobytes()).decode("ascii")}


def _parsed(text: Optional[str]) -> Optional[Dict[str, Any]]:
    """A record from a map's tag; None when there is none or it is not one (a map of another tool)."""
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    return _checked(found)


def _checked(found: Any) -> Optional[Dict[str, Any]]:
    """A record as `record` writes it (a model file's, or a map tag's read), ready for use; None
    when it is not one."""
    try:
        keys = np.frombuffer(base64.b64decode(found["keys"]), "<i8")
        geotransform, width, count = [float(v) for v in found["geotransform"]], int(found["width"]), int(found["count"])
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return None
    pixel_space = (not found["georeferenced"] if isinstance(found.get("georeferenced"), bool)
                   else tuple(geotransform) in (PIXEL_SPACE, UNGEOREFERENCED))  # records before 2026-12-07 lack it
    if pixel_space:  # an ungeoreferenced scene's, recorded by row and column (`_placed`)
        geotransform = list(UNGEOREFERENCED)
    inverse = gdal.InvGeoTransform(geotransform) if len(geotransform) == 6 else None
    if inverse is None or not len(keys) or width <= 0 or count < len(keys):
        return None
    return {"geotransform": geotransform, "inverse": inverse, "width": width, "count": count, "keys": keys,
            "pixel_space": pixel_space}


def _placed(found: Dict[str, Any], grid: Grid) -> Tuple[float, ...]:
    """Where the pixels of `grid` lie for a record (`_checked`): a record of a scene without
    georeferencing and a grid without it are matched by row and column, whichever pixel space each
    lies in (PIXEL_SPACE, as such scenes were recorded before 2026-12-05 and a file that holds it
    lies: a review of 2026-12-05 and a helper's red team of 2026-12-07)."""
    return UNGEOREFERENCED if found["pixel_space"] and not grid.georeferenced else grid.geotransform


def trained_share(text: Optional[str], grid: Grid, rows: np.ndarray, cols: np.ndarray) -> Optional[float]:
    """The estimated share of the pixels at `rows`, `cols` of `grid` (a map's) that the record in
    `text` (the map's tag) was trained on; None without a record or pixels."""
    found = _parsed(text)
    if found is None or not len(rows):
        return None
    hits = int(_in_record(found, *pixel_centres(_placed(found, grid), rows, cols)).sum())
    return min(1.0, hits * found["count"] / len(found["keys"]) / len(rows))


def _in_record(found: Dict[str, Any], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether the pixel each point (map coordinates) lies in is among a record's (`_checked`); on
    a scene without georeferencing, a point at y = +r (PIXEL_SPACE) is on row r as one at y = -r."""
    y = np.asarray(y, np.float64)
    col, row = _pixels_at(found["inverse"], np.asarray(x, np.float64), -np.abs(y) if found["pixel_space"] else y)
    with np.errstate(all="ignore"):  # a record of another tool may hold absurd numbers; a point may be NaN
        inside = (col >= 0) & (col < found["width"]) & (row >= 0) & (row < 2 ** 62 / found["width"])
    keys = np.where(inside, row, 0).astype(np.int64) * found["width"] + np.where(inside, col, 0).astype(np.int64)
    return inside & np.isin(keys, found["keys"])


def trained_positions(recorded: Any, grid: Grid) -> Optional[Tuple[np.ndarray, np.ndarray, bool]]:
    """Rows and columns of the pixels of `grid` that a classifier was trained on, from its model
    file's record (`trained_pixels`), each once (several fall on one pixel of a coarser grid), and
    whether the record holds every one of them (not a sample of them); None without a record."""
    found = _checked(recorded)
    if found is None:
        return None
    rows, cols = np.divmod(found["keys"], found["width"])
    col, row = _pixels_at(gdal.InvGeoTransform(_placed(found, grid)),
                          *pixel_centres(tuple(found["geotransform"]), rows, cols))
    inside = (col >= 0) & (col < grid.width) & (row >= 0) & (row < grid.height)
    row, col = np.divmod(np.unique(row[inside].astype(np.int64) * grid.width + col[inside].astype(np.int64)),
                         grid.width)
    return row, col, found["count"] == len(found["keys"])


def recorded_at(metadata: Dict[str, Any], x: np.ndarray, y: np.ndarray) -> Optional[Tuple[np.ndarray, bool]]:
    """Whether the pixel each point (map coordinates) lies in is one a classifier was trained on or
    held out to validate it, by its model file's records, and whether those hold every one of them
    (not a sample); None without a record."""
    found = [record for key in LABELLED_RECORDS
             if (record := _checked(metadata.get(key))) is not None]
    if not found:
        return None
    hit = np.any([_in_record(record, x, y) for record in found], axis=0)
    return hit, all(record["count"] == len(record["keys"]) for record in found)


def labelled_positions(metadata: Dict[str, Any], grid: Grid) -> Optional[Tuple[np.ndarray, np.ndarray, bool]]:
    """`trained_positions` of the pixels a classifier was trained on and of those held out to
    validate it (`validation_pixels`), each once; None without a record."""
    found = [positions for key in LABELLED_RECORDS
             if (positions := trained_positions(metadata.get(key), grid)) is not None]
    if not found:
        return None
    keys = np.unique(np.concatenate([rows * grid.width + cols for rows, cols, _all in found]))
    return (*np.divmod(keys, grid.width), all(every_one for _rows, _cols, every_one in found))


def _pixels_at(inverse: tuple, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Column and row (floats, floored) of the points x, y on the grid of inverse geotransform `inverse`."""
    a, b, c, d, e, f = inverse
    with np.errstate(all="ignore"):  # a record of another tool may hold absurd numbers
        return np.floor(a + b * x + c * y), np.floor(d + e * x + f * y)
