"""Where to label next: the pixels a classifier is least sure of, spread over the scene.

Uncertainty is the classifier's confidence, the softmax probability of the class it
chose (lowest first: "least confidence" sampling). Among the uncertain pixels, those
close together are nearly the same question to an analyst, so the choice is greedy:
walk the pixels from the least confident up and keep one when it lies at least
`min_distance` pixels from every pixel kept so far, until `count` are kept.

The scene is seen tile by tile and never held whole: the pool keeps the POOL_PIXELS least
confident pixels seen so far, and the greedy walk over them gives the result. The walk
only ever looks at the least confident pixels, so the points are those of a walk over the
whole scene, whatever the tile size, unless it runs out of pooled pixels before `count`
points (then `Choice.complete` is False: more points might lie among the more confident
pixels). Ties of confidence are broken by a key drawn from `seed` and the pixel's place,
so a seed gives the same points on the same device whatever the tiles.
"""

import errno
import hashlib
import json
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

try:
    import resource
except ImportError:  # Windows: no file-size limits to look for
    resource = None  # type: ignore[assignment]

import numpy as np
from osgeo import gdal, ogr

from ...model_core.atomic import atomic_output, disk_full, write_error
from ...model_core.errors import InputError
from ...model_core.hooks import Hooks, first_few
from ..training_pixels import recorded_at
from . import split_source
from .classes import ClassInfo
from .gdal_io import exceptions_off, gdal_call, gdal_quiet
from .grid import Window, pixel_centres, srs_from_wkt

LAYER_NAME = "suggestions"
INT32_MAX = 2 ** 31 - 1
# The fields of a suggestion besides the class field to fill in: name -> OGR type.
# Class values go up to 2^32 - 1 (UInt32 class rasters), beyond a 32-bit integer field.
INFO_FIELDS = {"rank": ogr.OFTInteger, "predicted": ogr.OFTString, "predicted_value": ogr.OFTInteger64,
               "confidence": ogr.OFTReal}


@dataclass(frozen=True)
class Candidates:
    """Pixels of the scene (rows, cols) with the class index predicted there, its confidence and a
    random key that breaks ties of confidence."""

    rows: np.ndarray
    cols: np.ndarray
    index: np.ndarray
    confidence: np.ndarray
    key: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, positions: np.ndarray) -> "Candidates":
        return Candidates(self.rows[positions], self.cols[positions], self.index[positions],
                          self.confidence[positions], self.key[positions])

    @staticmethod
    def join(parts: Sequence["Candidates"]) -> "Candidates":
        empty = np.empty(0, np.int64)
        if not parts:
            return Candidates(empty, empty, empty, np.empty(0, np.float32), np.empty(0, np.uint64))
        return Candidates(*(np.concatenate([getattr(part, name) for part in parts])
                            for name in ("rows", "cols", "index", "confidence", "key")))


POOL_PIXELS = 1_000_000
"""The least confident pixels the pool keeps (about 36 MB; twice that between two prunings)."""
UNDEFINED_CARTESIAN = 'LOCAL_CS["Undefined Cartesian SRS"]'
"""The CRS of points on a scene without one: GeoPackage's srs_id -1, where none is its srs_id 0, degrees of an
undefined geographic CRS, which QGIS cannot draw over a projected map (a helper's red team of 2026-12-06)."""
WALK_STEP = 10_000
"""Candidates the walk and the writer go through between two looks at Cancel and the progress."""


def tie_keys(rows: np.ndarray, cols: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random key per pixel from its place and the seed (SplitMix64's mixing), the
    same whichever tile the pixel is seen in."""
    with np.errstate(over="ignore"):
        key = (rows.astype(np.uint64) << np.uint64(32)) ^ cols.astype(np.uint64)
        key = key + np.uint64(seed % 2 ** 64) * np.uint64(0x9E3779B97F4A7C15)
        key = (key ^ (key >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        key = (key ^ (key >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return key ^ (key >> np.uint64(31))


def least_confident_first(candidates: Candidates) -> np.ndarray:
    """Positions in `candidates`, least confident first, ties by their keys."""
    return np.lexsort((candidates.key, candidates.confidence))


def spread_least_confident(candidates: Candidates, count: int, min_distance: float,
                           hooks: Optional[Hooks] = None) -> tuple:
    """Positions in `candidates` of up to `count` pixels, least confident first, each at least
    `min_distance` pixels (Euclidean, between pixel centres) from those before it; and whether
    the walk stopped at `count` (True) or ran out of candidates. The pixels kept are looked up in
    cells of the distance's side: the walk cleared the whole pool at every pixel kept, 20 minutes
    at 100 % for 100,000 points, deaf to Cancel (a helper's red team of 2026-12-06)."""
    hooks = hooks or Hooks()
    order = least_confident_first(candidates)
    if min_distance <= 1:  # distinct pixel centres lie at least 1 apart
        return order[:count], len(order) >= count
    rows, cols = candidates.rows[order].tolist(), candidates.cols[order].tolist()
    limit, side = float(min_distance) ** 2, math.ceil(min_distance)
    cells: Dict[Tuple[int, int], List[Tuple[int, int]]] = {}
    kept: List[int] = []
    for position, (row, col) in enumerate(zip(rows, cols)):
        if position % WALK_STEP == 0:
            hooks.check_cancel()
            hooks.progress(position / len(rows))
        cell = (row // side, col // side)
        if _near_a_kept_pixel(cells, cell, (row, col), limit):
            continue
        cells.setdefault(cell, []).append((row, col))
        kept.append(position)
        if len(kept) == count:
            break
    return order[np.array(kept, np.int64)], len(kept) == count


def _near_a_kept_pixel(cells: Dict[Tuple[int, int], List[Tuple[int, int]]], cell: Tuple[int, int],
                       pixel: Tuple[int, int], limit: float) -> bool:
    """Whether a pixel kept in `cell` or the eight around it lies closer to `pixel` than the square root of `limit`
    (the cells' side is at least the distance, so no kept pixel farther away can be)."""
    return any((pixel[0] - row) ** 2 + (pixel[1] - col) ** 2 < limit
               for cell_row in (cell[0] - 1, cell[0], cell[0] + 1) for cell_col in (cell[1] - 1, cell[1], cell[1] + 1)
               for row, col in cells.get((cell_row, cell_col), ()))


@dataclass(frozen=True)
class Choice:
    """The chosen pixels, least confident first; `complete` is False when fewer than the count
    asked for were found among a pool that had left out more confident pixels."""

    points: Candidates
    complete: bool


class SuggestionPool:
    """Collects the least confident pixels of each tile, then chooses among them (see the module's docstring)."""

    def __init__(self, count: int, min_distance: float, seed: int, capacity: int = POOL_PIXELS) -> None:
        if count < 1:
            raise InputError(f"POINTS must be at least 1; got {count}.")
        if not 0 <= min_distance < math.inf:  # an infinite one overflowed the walk's cells (a review of 12-06)
            raise InputError(f"MIN_DISTANCE must be a finite number of pixels, 0 or more; got {min_distance}.")
        self.count, self.min_distance, self.seed, self.capacity = count, min_distance, seed, capacity
        self._parts: List[Candidates] = []
        self._held = 0
        self._pruned = False
        self.seen = 0
        """Pixels that might be suggested, over every tile."""

    def add(self, tile: Window, index: np.ndarray, confidence: np.ndarray,
            allowed: Optional[np.ndarray] = None) -> None:
        """A tile's predictions (class index, -1 = no data; confidence); `allowed` limits the pixels
        that may be suggested."""
        usable = index >= 0 if allowed is None else (index >= 0) & allowed
        rows, cols = np.nonzero(usable)
        rows, cols = rows.astype(np.int64) + tile.row, cols.astype(np.int64) + tile.col
        self._parts.append(Candidates(rows, cols, index[usable].astype(np.int64),
                                      confidence[usable].astype(np.float32), tie_keys(rows, cols, self.seed)))
        self._held += len(rows)
        self.seen += len(rows)
        if self._held > 2 * self.capacity:
            self._prune()

    def _prune(self) -> None:
        """Keeps the `capacity` least confident pixels held."""
        pool = Candidates.join(self._parts)
        self._parts = [pool.take(least_confident_first(pool)[:self.capacity])]
        self._pruned = self._pruned or len(pool) > self.capacity
        self._held = len(self._parts[0])

    def choose(self, hooks: Optional[Hooks] = None) -> Choice:
        """The chosen pixels, least confident first."""
        if self._held > self.capacity:  # the walk must not go past the pixels every tile is judged by
            self._prune()
        pool = Candidates.join(self._parts)
        positions, filled = spread_least_confident(pool, self.count, self.min_distance, hooks)
        return Choice(pool.take(positions), filled or not self._pruned)


@dataclass(frozen=True)
class ClassField:
    """The field analysts fill in: named and typed as the classifier's training samples had it."""

    name: str
    text: bool  # the classes were given by name (a text field), not by value
    wide: bool = False  # the samples' field held 64-bit whole numbers
    decimal: bool = False  # the samples' field held decimal numbers (a Real field)

    def definition(self, largest: int) -> ogr.FieldDefn:
        """The field for classes up to `largest`: decimal where the samples' field was, 64-bit whole numbers
        where the samples' field was or where the classes need them, else 32-bit, as sample layers' class
        fields mostly are (QGIS's Merge Vector Layers turns a 32-bit and a 64-bit class_id into text: red
        team of 2026-12-04, and a helper's of 2026-12-05 with a 64-bit field of samples; a Real and a
        32-bit one too, closing note of 2026-12-06)."""
        if self.text:
            return ogr.FieldDefn(self.name, ogr.OFTString)
        if self.decimal:
            return ogr.FieldDefn(self.name, ogr.OFTReal)
        return ogr.FieldDefn(self.name, ogr.OFTInteger64 if self.wide or largest > INT32_MAX else ogr.OFTInteger)


def info_field_names(class_field: ClassField) -> dict:
    """The names of the informative fields, each made different from the class field when they clash."""
    taken = class_field.name.casefold()
    return {name: f"mrs_{name}" if name.casefold() == taken else name for name in INFO_FIELDS}


def _column_name(preferred: str, fields: Sequence[str]) -> str:
    """`preferred`, or `mrs_<preferred>` when a field already has that name (GeoPackage names
    are compared without case): the geometry column and the key must not take a field's name."""
    taken = {name.casefold() for name in fields}
    return f"mrs_{preferred}" if preferred.casefold() in taken else preferred


def _ogr(temporary: str, path: str, param: str, function: Callable, *args: Any, **kwargs: Any) -> Any:
    """The result of an OGR call writing the points into `temporary`; refused when it failed (None,
    or an error code other than 0), so that a file GDAL could not fill is never published as if it
    held them. SQLite names no cause for a file-size limit (ulimit -f), so that is looked for."""
    result, message = gdal_call(function, *args, **kwargs)
    if result is None or (isinstance(result, int) and result != ogr.OGRERR_NONE):
        del function, args, kwargs  # the traceback must not keep the dataset open (see `write_points`)
        if _at_size_limit(temporary):
            raise write_error(path, OSError(errno.EFBIG, os.strerror(errno.EFBIG)))
        if disk_full(temporary):  # SQLite's words were 'no such table' (red team of 2026-12-05)
            raise write_error(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        raise InputError(f"{param}: the GeoPackage {path} cannot be written ({message or 'GDAL gave no reason'}); "
                         "choose another file.")
    return result


def _at_size_limit(path: str) -> bool:
    """Whether the file (or SQLite's journal beside it) has reached this process' file-size limit."""
    if resource is None:
        return False
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit == resource.RLIM_INFINITY:
        return False
    sizes = [os.path.getsize(name) for name in (path, path + "-journal", path + "-wal") if os.path.exists(name)]
    return any(size > limit - 65536 for size in sizes)


def check_points_output(path: str, param: str, classifier: Optional[dict] = None) -> None:
    """Refuses a file that exists and is no GeoPackage of suggestions (another GeoPackage's layers,
    training samples often, would be lost with it), or one open in another program. `classifier`:
    the classifier's model file's record (what and which pixels it was trained on)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    if os.path.exists(path + "-wal") and os.path.getsize(path + "-wal"):  # an empty log holds nothing to lay over
        raise InputError(f"{param}: {path} is open in another program (its write-ahead log {path}-wal exists), which "
                         "would lay its own state over the new points; close it there (in QGIS, remove the layer), or "
                         "choose a new file name.")
    dataset, _message = gdal_call(ogr.Open, path)
    if dataset is None or dataset.GetLayerCount() == 0:
        raise InputError(f"{param}: {path} exists and is not a GeoPackage of suggestions; choose a new file name, or "
                         "delete that file first.")
    others = [name for name in _tables(dataset) if name != LAYER_NAME]
    if others == [QGIS_STYLES]:  # said as what it is (a helper's red team of 2026-12-05: 'other layers')
        raise InputError(f"{param}: {path} holds a style QGIS saved in it (its table '{QGIS_STYLES}'), which writing "
                         "the suggestions would delete with the file; choose a new file name.")
    if others:
        listed = first_few(f"'{name}'" for name in others)
        raise InputError(f"{param}: {path} already holds other layers ({listed}), which writing the suggestions "
                         "would delete with the file; choose a new file name.")
    filled = _filled_in(dataset.GetLayerByName(LAYER_NAME))
    if filled:
        raise InputError(f"{param}: {path} holds earlier suggestions, {len(filled)} of them with their class filled "
                         f"in, which writing new suggestions would delete; {_advice(path, filled, classifier or {})}")
    edited = _edited(dataset.GetLayerByName(LAYER_NAME))
    if edited:
        raise InputError(f"{param}: {path} holds earlier suggestions {edited} since they were written, which writing "
                         "new suggestions would delete; keep the file under another name, or choose a new file name.")


QGIS_STYLES = "layer_styles"
"""The table in which QGIS saves layers' styles in their GeoPackage."""
CONTENT_KEY = "MRS_SUGGESTIONS"
"""The suggestions layer's metadata item holding its fields and a digest of its points as written."""


def _record_of(source: str) -> Optional[str]:
    """The record of what the plugin wrote that a suggestions layer (`source`, as QGIS names it)
    keeps, else None; a GeoPackage's only, as suggestions are (other files are not opened: a GeoJSON is
    read whole, a web address downloaded, when a dialog's parameters are checked: a review of 2026-12-05)."""
    path, options = split_source(source)
    if not path.lower().endswith(".gpkg"):
        return None
    layer_name = next((option.split("=", 1)[1] for option in options if option.startswith("layername=")), None)
    with exceptions_off(), gdal_quiet():
        dataset = ogr.Open(path)
        layer = None if dataset is None else (dataset.GetLayerByName(layer_name) if layer_name else dataset.GetLayer(0))
        return None if layer is None else layer.GetMetadataItem(CONTENT_KEY)


def carry_record(source: str, copy: str) -> None:
    """Gives the copy of a layer (`copy`, a GeoPackage of one layer) the record a suggestions layer
    (`source`) keeps of what the plugin wrote, so that its fields of the classifier's guesses are
    told as such in the copy too: a selection, a filter or unsaved edits made a copy without it, and
    'predicted' trained (a helper's red team of 2026-12-05)."""
    record = _record_of(source)
    if not record:
        return
    with exceptions_off(), gdal_quiet():
        target = ogr.Open(copy, 1)
        if target is not None and target.GetLayerCount():
            target.GetLayer(0).SetMetadataItem(CONTENT_KEY, record)
        target = None


def trained_on_a_label_raster(metadata: dict) -> bool:
    """Whether a classifier was trained on a label raster: its model file records no class field
    (a fine-tuning on vector samples records one since 2026-12-05) and what it was trained on opens
    as a raster (a classifier of samples from before then does not)."""
    trained = metadata.get("trained_on")
    if "class_field" in metadata or not isinstance(trained, str) or not trained:
        return False
    with gdal_quiet():
        dataset, _message = gdal_call(gdal.OpenEx, trained, gdal.OF_RASTER)
    return dataset is not None


def guessed_class_field_problem(layer: ogr.Layer, class_field: str, layer_name: str,
                                name_field: Optional[str] = None) -> Optional[str]:
    """The sentence refusing, as the class field of a suggestions layer, one of the fields holding what
    the classifier guessed (`predicted`, `predicted_value`...): a fine-tuning learnt the first
    classifier's guesses at its least confident pixels without a word (a helper's red team of
    2026-12-05); as its name field, any field written beside the points (a class filled in was named
    after the guess at its first point, a helper's red team of 2026-12-05); None for another field or
    layer."""
    return _guess_problem(layer.GetMetadataItem(CONTENT_KEY), class_field, layer_name, name_field)


def suggestions_as_reference(layer: ogr.Layer, layer_name: str) -> Optional[str]:
    """The warning of a suggestions layer given as an accuracy's reference: the pixels a classifier
    was least sure of, no sample of the map's area (a helper's red team of 2026-12-06: its 30 points,
    filled in, gave figures without a word); None for another layer."""
    if not layer.GetMetadataItem(CONTENT_KEY):
        return None
    return (f"'{layer_name}' holds suggested points (Where to label next, mrs:suggest): the pixels a classifier was "
            "least sure of, not a sample drawn independently of the map, so these figures are not the map's accuracy. "
            "Assess it against samples drawn at random, or add the suggestions to the training samples.")


def guessed_field_of_source(source: str, class_field: str, layer_name: str,
                            name_field: Optional[str] = None) -> Optional[str]:
    """`guessed_class_field_problem` of a layer as QGIS names it ('file.gpkg|layername=x')."""
    return _guess_problem(_record_of(source), class_field, layer_name, name_field)


def _guess_problem(record: Optional[str], class_field: str, layer_name: str,
                   name_field: Optional[str] = None) -> Optional[str]:
    written = _written(record)
    if written is None:
        return None
    if class_field.lower() in [name.lower() for name in written["guesses"]]:
        return (f"The class field '{class_field}' of '{layer_name}' holds what the classifier that suggested these "
                f"points guessed, not labels: fill in the field '{written['fields'][0]}' with the classes seen on the "
                "ground, and choose it as the class field.")
    if name_field and name_field.lower() in [name.lower() for name in written["fields"][1:]]:
        return (f"The name field '{name_field}' of '{layer_name}' holds what 'Where to label next' wrote beside each "
                "point (the classifier's guess, its confidence or the point's rank), not the names of the classes "
                "filled in: choose no name field, or one that holds the names of the classes seen on the ground.")
    return None


def _digests(layer: ogr.Layer, names: Sequence[str]) -> Tuple[str, dict]:
    """Digests of the layer's points, in order: of their places, and of their values of each field of
    `names` that the layer has, by name; read in one pass."""
    definition = layer.GetLayerDefn()
    indices = {name: definition.GetFieldIndex(name) for name in names if definition.GetFieldIndex(name) >= 0}
    places, values = hashlib.sha256(), {name: hashlib.sha256() for name in indices}
    layer.ResetReading()
    with exceptions_off(), gdal_quiet():
        for feature in layer:
            geometry = feature.GetGeometryRef()
            places.update(bytes(geometry.ExportToWkb()) if geometry is not None else b"-")
            for name, index in indices.items():
                values[name].update(feature.GetFieldAsString(index).encode("utf-8", "surrogateescape") + b"\0")
    layer.ResetReading()
    return places.hexdigest(), {name: digest.hexdigest() for name, digest in values.items()}


def _written(record: Optional[str]) -> Optional[dict]:
    """The record a suggestions layer keeps of what the plugin wrote (`CONTENT_KEY`), read; None for
    none, or one that is not such a record."""
    try:
        written = json.loads(record or "null")
        return {"fields": list(written["fields"]), "guesses": list(written["guesses"]),
                "points": str(written["points"]), "values": dict(written["values"])}
    except (ValueError, TypeError, KeyError):
        return None


def _edited(layer: Optional[ogr.Layer]) -> str:
    """How an earlier suggestions layer was changed beside its class field since the plugin wrote it
    ('with a field added or renamed (note)', 'with points added, moved or deleted', 'with values changed in
    predicted'); '' for none, or for a layer written before the plugin recorded what it wrote. A
    note field, or corrected predictions, went with the file without a word (a helper's red team of
    2026-12-05); fields of the plugin's deleted hold no work."""
    written = _written(layer.GetMetadataItem(CONTENT_KEY)) if layer is not None else None
    if written is None:
        return ""
    definition = layer.GetLayerDefn()
    added = [name for name in (definition.GetFieldDefn(index).GetName() for index in range(definition.GetFieldCount()))
             if name not in written["fields"]]
    if added:
        return f"with {'a field' if len(added) == 1 else 'fields'} added or renamed ({first_few(added)})"
    points, values = _digests(layer, list(written["values"]))
    if points != written["points"]:
        return "with points added, moved or deleted"
    changed = [name for name, digest in values.items() if digest != written["values"][name]]
    return f"with values changed in {first_few(changed)}" if changed else ""


def _tables(dataset: ogr.DataSource) -> List[str]:
    """The GeoPackage's vector layers and its other registered tables: its rasters, which OGR's
    layer list leaves out (red team of 2026-12-05: LiDAR raster tables beside earlier suggestions,
    read by the very run, were deleted with the file)."""
    names = [dataset.GetLayer(index).GetName() for index in range(dataset.GetLayerCount())]
    with exceptions_off(), gdal_quiet():
        registered = dataset.ExecuteSQL("SELECT table_name FROM gpkg_contents")
    if registered is not None:
        names += [feature.GetField(0) for feature in registered if feature.GetField(0) not in names]
        dataset.ReleaseResultSet(registered)
    return names


def _advice(path: str, filled: List[Tuple[float, float]], classifier: dict) -> str:
    """What to do of earlier suggestions filled in: train on them, unless the classifier was (its
    file records the file, or the pixels of every one of them: trained on a merge of them with the
    earlier samples, as the README advises, it was told to train on them first: a helper's red team
    of 2026-12-05); said as a question where its records cannot tell (a sample of its pixels)."""
    found = recorded_at(classifier, *np.array(filled, np.float64).reshape(-1, 2).T)
    if found is None:  # a classifier from before its pixels were recorded: by the file it records
        trained_on = classifier.get("trained_on")
        done = isinstance(trained_on, str) and os.path.realpath(split_source(trained_on)[0]) == os.path.realpath(path)
    else:  # a selection of the file trained on some of them only (a review of 2026-12-05)
        every, complete = bool(found[0].all()), found[1]
        done = True if every else False if complete else None
    if done:
        return "the classifier's training used them: keep the file under another name, or choose a new file name."
    if done is False:
        return "train on them first, or choose a new file name."
    return ("train on them first if the classifier was not, else keep the file under another name; or choose a new "
            "file name.")


def _filled_in(layer: Optional[ogr.Layer]) -> List[Tuple[float, float]]:
    """The places (x, y) of the points of an earlier suggestions layer whose class field is filled
    in: an analyst's work, which a new run replaced without a word (red team of 2026-12-04). The
    class field is the first, as `write_points` makes it, unless that is an informative field (the
    class field deleted: no such work), fields the analyst added or removed aside. A point without
    a geometry is placed nowhere (NaN)."""
    if layer is None:
        return []
    definition = layer.GetLayerDefn()
    fields = [definition.GetFieldDefn(index).GetName() for index in range(definition.GetFieldCount())]
    first = fields[0] if fields else None
    if first is None:
        return []
    plain = first.removeprefix("mrs_")  # an informative field renamed beside a class field of its name ...
    renamed = plain != first and plain in INFO_FIELDS and plain not in fields  # ... that is gone; not one named so
    if (first in INFO_FIELDS and f"mrs_{first}" not in fields) or renamed:
        return []
    with exceptions_off(), gdal_quiet():
        return [_place(feature.GetGeometryRef()) for feature in layer
                if feature.IsFieldSetAndNotNull(0) and feature.GetFieldAsString(0).strip()]


def _place(geometry: Optional[ogr.Geometry]) -> Tuple[float, float]:
    """A point's x, y; NaN for none (deleted, or of another kind)."""
    if geometry is None or geometry.IsEmpty() or ogr.GT_Flatten(geometry.GetGeometryType()) != ogr.wkbPoint:
        return (math.nan, math.nan)
    return geometry.GetX(), geometry.GetY()


def write_points(path: str, param: str, chosen: Candidates, classes: Sequence[ClassInfo], class_field: ClassField,
                 geotransform: Tuple[float, ...], crs_wkt: str, hooks: Optional[Hooks] = None) -> None:
    """The chosen pixels as points at their centres in a new GeoPackage `path` (one layer,
    'suggestions'), published whole or not at all; the class field is left empty."""
    hooks = hooks or Hooks()
    names = info_field_names(class_field)
    xs, ys = pixel_centres(geotransform, chosen.rows, chosen.cols)
    with atomic_output(path, ".gpkg") as temporary:
        os.unlink(temporary)  # the GeoPackage driver creates its file itself
        where = (temporary, path, param)
        dataset = _ogr(*where, ogr.GetDriverByName("GPKG").CreateDataSource, temporary)
        try:
            fields = [class_field.name, *names.values()]
            options = [f"GEOMETRY_NAME={_column_name('geom', fields)}", f"FID={_column_name('fid', fields)}"]
            layer = _ogr(*where, dataset.CreateLayer, LAYER_NAME, srs_from_wkt(crs_wkt or UNDEFINED_CARTESIAN),
                         ogr.wkbPoint, options=options)
            _ogr(*where, layer.CreateField, class_field.definition(max(info.value for info in classes)))
            for name, kind in INFO_FIELDS.items():
                _ogr(*where, layer.CreateField, ogr.FieldDefn(names[name], kind))
            dataset.StartTransaction()
            for rank, (x, y, index, confidence) in enumerate(zip(xs, ys, chosen.index, chosen.confidence), start=1):
                if rank % WALK_STEP == 0:
                    hooks.check_cancel()
                    hooks.progress(rank / len(xs))
                feature = ogr.Feature(layer.GetLayerDefn())
                info = classes[int(index)]
                values = {"rank": rank, "predicted": info.name, "predicted_value": info.value,
                          "confidence": round(float(confidence), 6)}
                for name, value in values.items():
                    feature.SetField(names[name], value)
                point = ogr.Geometry(ogr.wkbPoint)
                point.AddPoint_2D(float(x), float(y))
                feature.SetGeometry(point)
                _ogr(*where, layer.CreateFeature, feature)
            _ogr(*where, dataset.CommitTransaction)
            points, values = _digests(layer, list(names.values()))
            written = {"fields": fields, "guesses": [names["predicted"], names["predicted_value"]],
                       "points": points, "values": values}
            _ogr(*where, layer.SetMetadataItem, CONTENT_KEY, json.dumps(written))
        finally:
            # Closed here, under GDAL's quiet handler: a file SQLite failed to write complains
            # on closing, after the run's sentence otherwise.
            with gdal_quiet():
                layer = feature = dataset = None
