"""Labelled pixels from a vector layer (points, lines or polygons), and polygon masks on the HSI grid."""

import codecs
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

import numpy as np
from osgeo import gdal, ogr, osr

from ...model_core import MAX_CLASS_VALUE
from ...model_core.digits import whole_number
from ...model_core.errors import InputError
from ...model_core.hooks import Hooks, first_few
from ...model_core.names import agreeing, joined, plural, value_text
from . import TILE_SIZE, split_source
from .classes import recoded_text, spelt_as
from .labels import (LabelledPixels, labelled_parameter, labelled_pixels, one_class_only, shared,
                     too_large_message)
from .suggestions import guessed_class_field_problem, suggestions_as_reference
from .gdal_io import (declared_encodings, exceptions_off, file_kind, gdal_call, gdal_quiet, missing_file_problem,
                      unreadable)
from .grid import Grid, Window, crs_label, no_transformation, reprojectable, srs_from_wkt, tiles, transformation
from .sources import Scene


SOURCE_OPTIONS = ("layername", "layerid", "operation", "subset")
"""The options of a QGIS vector source ('file.gpkg|layername=x|subset="class" > 2') that are honoured,
and 'operation=<PROJ pipeline>': the coordinate operation that takes the layer's CRS to the grid's,
in x = easting/longitude order (the algorithms pass the one QGIS draws the layer with)."""


def _source_options(options: list[str], layer_name: str) -> dict[str, str]:
    """{option: value} of a QGIS source's options; one it does not honour is refused, as reading
    the layer without it would read other features (red team of 2026-12-04: bin/mrs trained on
    the samples a subset had filtered out)."""
    found = {}
    for option in options:
        key, _, value = option.partition("=")
        key = key.strip().lower()
        if key not in SOURCE_OPTIONS:
            raise InputError(f"The vector source of '{layer_name}' has the option '{option}', which is not understood "
                             f"here; the options taken are {joined(SOURCE_OPTIONS)}. "
                             "Remove it, or save the layer as it should be read into a file of its own.")
        found.setdefault(key, value.strip())
    return found


def _layer_in(dataset: gdal.Dataset, layer: str | None, options: dict[str, str]) -> ogr.Layer | None:
    """The layer a source names (by name, else by its layerid, else its first), or None. A name is
    matched in Unicode's composed form too: 'Forêt points' written with a combining accent was said to
    be missing beside the layer of that look (a helper's red team of 2026-12-07)."""
    if layer:
        wanted = unicodedata.normalize("NFC", layer)
        return dataset.GetLayerByName(layer) or next(
            (found for found in map(dataset.GetLayer, range(dataset.GetLayerCount()))
             if unicodedata.normalize("NFC", found.GetName()) == wanted), None)
    number = whole_number(options.get("layerid", "0"))
    return dataset.GetLayer(number) if number is not None else None


def _no_such_layer(dataset: gdal.Dataset, layer: str | None, options: dict[str, str], whose: str) -> str:
    """The sentence for a layer name or number that `whose` file lacks, with its layers."""
    layers = first_few(f"'{dataset.GetLayer(index).GetName()}'" for index in range(dataset.GetLayerCount()))
    if not layers:  # an empty database or KML file was said to have 'no layer numbered None' (a helper's audit)
        return f"{whose} holds no layer. Choose a file that holds the features."
    if not layer and "layerid" in options and whole_number(options["layerid"]) is None:  # was 'no layer numbered'
        return (f"{whose}: layerid={options.get('layerid')} is no layer number (0 for the first layer); its layers: "
                f"{layers}. Give a number, or the layer's name as layername=NAME.")
    named = f"named '{layer}'" if layer else f"numbered {options.get('layerid')!r}"
    return f"{whose} has no layer {named}; its layers: {layers}. Choose one of them."


def _vector_dataset(path: str) -> gdal.Dataset | None:
    """The file OGR opens as vectors, or None."""
    with declared_encodings():
        return gdal_call(gdal.OpenEx, path, gdal.OF_VECTOR)[0]


def _first_of_layers(dataset: gdal.Dataset) -> str:
    """The clause that says a file of several layers, named without one, is read as its first."""
    others = first_few(f"'{dataset.GetLayer(index).GetName()}'" for index in range(1, dataset.GetLayerCount()))
    return (f"holds {dataset.GetLayerCount()} layers and names none, so its first, '{dataset.GetLayer(0).GetName()}', "
            f"is read (the others: {others})")


def unnamed_layer_clause(source: str) -> str | None:
    """`_first_of_layers` for a source that names a file of several layers and none of them; None for
    any other source. A field missing from such a file's first layer was said to be missing from the
    file (a review of 2026-12-06)."""
    path, parts = split_source(source)
    try:
        options = _source_options(parts, path)
    except InputError:
        return None
    if options.get("layername") or "layerid" in options or not os.path.isfile(path):
        return None  # a subset alone names no layer (the review of that change)
    dataset = _vector_dataset(path)
    return _first_of_layers(dataset) if dataset is not None and dataset.GetLayerCount() > 1 else None


def read_layer(source: str) -> tuple[str, str, str] | None:
    """(file, layer name, subset) of the features a vector source reads: 'f.gpkg' and
    'f.gpkg|layername=<its first layer>' or '|layerid=0' read the same. None where the source
    cannot be read so."""
    path, parts = split_source(source)
    try:
        options = _source_options(parts, path)
    except InputError:
        return None
    dataset = _vector_dataset(path)
    found = _layer_in(dataset, options.get("layername"), options) if dataset is not None else None
    return (path, found.GetName(), options.get("subset", "")) if found is not None else None


def missing_layer_problem(source: str, what: str) -> str | None:
    """The sentence for a source ('file.gpkg|layername=x') whose file holds no such layer, or that has
    an option not understood, said by `what` (a parameter's name); None where it does, or where the
    source cannot be read as a vector file, which is said otherwise. bin/mrs said 'The vector source
    of 'x' (file.gpkg) has no layer named 'x'', naming no parameter, and QGIS that it 'cannot be
    opened' (a helper's red team of 2026-12-06)."""
    path, parts = split_source(source)
    try:
        options = _source_options(parts, os.path.splitext(os.path.basename(path))[0])
    except InputError as error:  # an option not understood, said under the parameter's name too
        said = str(error)
        return f"{what}: {said[:1].lower()}{said[1:]}"
    if not (options.get("layername") or "layerid" in options) or not (os.path.exists(path) or path.startswith("/vsi")):
        return None  # a folder of shapefiles and a file in an archive too (a review of 2026-12-06)
    dataset = _vector_dataset(path)
    if dataset is None or _layer_in(dataset, options.get("layername"), options) is not None:
        return None
    return _no_such_layer(dataset, options.get("layername"), options, f"{what}: {path}")


QUERY_TAIL = re.compile(r"(?is)\b(order\s+by|group\s+by|having|limit|offset)\b")
"""What may follow a query's WHERE condition; all but ORDER BY select other features than the condition."""


def _whole_query_message(layer_name: str, subset: str, where: str) -> str:
    """The refusal of a subset that is a whole SQL query, with its condition alone where that selects
    the same features: the condition was taken with its ORDER BY or LIMIT, which OGR cannot apply
    either (a helper's mutation audit of 2026-12-07)."""
    tails = list(QUERY_TAIL.finditer(where))
    condition = (where[:tails[0].start()] if tails else where).strip()
    said = (f"The vector source of '{layer_name}' has a subset that is a whole SQL query ({subset}), which QGIS runs "
            "but this reading does not")
    selecting = [" ".join(tail.group(1).upper().split()) for tail in tails
                 if not tail.group(1).lower().startswith("order")]
    if selecting:
        return (f"{said}, and whose {selecting[0]} no condition on its fields can give: save the selected features "
                "into a file of their own.")
    return (f"{said}: give its condition alone (subset={condition or '<a condition on its fields>'}), or save the "
            "selected features into a file of their own.")


def open_vector_layer(path: str, layer: str | None, layer_name: str, hooks: Hooks,
                      wanted: str = "points, lines or polygons") -> tuple[gdal.Dataset, ogr.Layer, str]:
    """Opens a vector layer; accepts QGIS sources of the form 'file.gpkg|layername=x', with a
    layer number (layerid=N) or a subset (subset=<SQL condition>) too. Returns the dataset, the
    layer and the source's coordinate operation ('' for none). `wanted`: the geometries the
    messages ask for."""
    path, parts = split_source(path)
    options = _source_options(parts, layer_name)
    layer = layer if layer is not None else options.get("layername")
    problem = missing_file_problem(path, f"The vector layer '{layer_name}'")
    if problem:
        raise InputError(problem)
    with declared_encodings():
        dataset, message = gdal_call(gdal.OpenEx, path, gdal.OF_VECTOR)
    if dataset is None:
        if file_kind(path) == "raster":
            raise InputError(f"'{layer_name}' ({path}) is a raster, not a vector layer. "
                             f"Choose a layer of {wanted} here.")
        why = f" ({message})" if message else ": it is no vector file that GDAL/OGR can read"
        raise InputError(f"The vector layer '{layer_name}' cannot be opened{why}. "
                         f"Choose a layer of {wanted} that GDAL/OGR can read.")
    found = _layer_in(dataset, layer, options)
    if found is None:
        whose = f"The vector source {path}" if layer == layer_name else f"The vector source of '{layer_name}' ({path})"
        raise InputError(_no_such_layer(dataset, layer, options, whose))
    if not layer and "layerid" not in options and dataset.GetLayerCount() > 1:
        hooks.warning(f"The vector source of '{layer_name}' ({path}) {_first_of_layers(dataset)}. To read another, "
                      "give it as FILE|layername=NAME (in QGIS, add that layer to the project and choose it).")
    query = re.match(r"(?is)\s*select\b(?:.*?\bwhere\b(.*))?", options.get("subset") or "")
    if query:  # QGIS's OGR provider runs such a subset as a query of its own
        raise InputError(_whole_query_message(layer_name, options["subset"], query.group(1) or ""))
    if options.get("subset"):
        applied, problem = gdal_call(found.SetAttributeFilter, options["subset"])
        counted = None
        if applied == 0:  # a GeoPackage takes any condition, and fails when it is read
            counted, problem = gdal_call(found.GetFeatureCount)
            applied = 0 if counted is not None and counted >= 0 else -1
        if applied != 0:
            reason = (problem or "not a condition on its fields").splitlines()[0].split(" Occurred around")[0]
            raise InputError(f"The vector source of '{layer_name}' has a subset that OGR cannot apply "
                             f"({options['subset']}): {reason.rstrip('. ')}. Correct the filter, or save the selected "
                             "features into a file of their own.")
        if counted == 0:
            raise InputError(f"The subset of '{layer_name}' ({options['subset']}) selects none of its features. "
                             "Correct the filter (a name in double quotes that is no field of the layer is read as "
                             "text).")
    return dataset, found, options.get("operation", "")


UNDEFINED_SRS_NAMES = ("Undefined geographic SRS", "Undefined Cartesian SRS")
"""The CRS a GeoPackage records for features without one (its srs_id 0 and -1): what QGIS writes
for a layer without a CRS (a memory layer, say), which is no CRS, not longitude and latitude
(red team of 2026-12-04: such samples fell outside the raster)."""


def _transform_to_grid(layer: ogr.Layer, grid: Grid, layer_name: str, grid_name: str, hooks: Hooks,
                       operation: str = "") -> osr.CoordinateTransformation | None:
    """The transformation from the layer's CRS to the grid's, or None when they are the same;
    through `operation` (a PROJ pipeline in x = easting/longitude order) when given, GDAL's choice
    otherwise (which may be another datum shift than QGIS's: samples in ED50 landed two pixels off,
    red team of 2026-12-04)."""
    layer_srs = layer.GetSpatialRef()
    if layer_srs is not None and layer_srs.GetName() in UNDEFINED_SRS_NAMES:
        layer_srs = None
    target = srs_from_wkt(grid.crs_wkt)
    if layer_srs is None or target is None:
        if layer_srs is None and target is None:  # neither has one: 'taken to be in the CRS of' one (an audit)
            hooks.log(f"'{layer_name}' and '{grid_name}' have no CRS; the coordinates of '{layer_name}' are taken as "
                      f"those of '{grid_name}'.")
        elif layer_srs is None:
            hooks.log(f"'{layer_name}' has no CRS; its coordinates are taken to be in the CRS of '{grid_name}'.")
        else:  # read as they are, silently, until the helpers' review of 2026-12-04
            hooks.warning(f"'{layer_name}' is in {crs_label(layer_srs.ExportToWkt())}, but '{grid_name}' has no CRS, "
                          "so its coordinates are taken as they are. If they are not the raster's, give the raster "
                          "its CRS.")
        return None
    source = srs_from_wkt(layer_srs.ExportToWkt())
    if source.IsSame(target):
        return None
    transform, problem = transformation(source, target, operation)
    if transform is None and not operation:  # PROJ's words were given (false-alarm hunt of 2026-12-05)
        raise no_transformation(layer_name, source.ExportToWkt(), grid_name, grid.crs_wkt)
    if transform is None:
        raise InputError(f"The coordinate operation given for '{layer_name}' cannot be used ({problem or operation}). "
                         "Give a PROJ pipeline from its CRS to the grid's, or none.")
    hooks.log(f"'{layer_name}' is reprojected from {crs_label(source.ExportToWkt())} to {crs_label(grid.crs_wkt)}.")
    return transform


def _finite(geometry: ogr.Geometry) -> bool:
    """Whether every coordinate of the geometry is a finite number; an empty part has none (with
    OGR's exceptions on, asking one for its points raised: a helper's red team of 2026-12-05)."""
    if geometry.IsEmpty():
        return True
    if geometry.GetGeometryCount():
        return all(_finite(geometry.GetGeometryRef(i)) for i in range(geometry.GetGeometryCount()))
    return bool(np.isfinite(np.array(geometry.GetPoints() or [], np.float64)).all())


SURFACES_OF_FACES = (ogr.wkbTIN, ogr.wkbPolyhedralSurface, ogr.wkbTriangle)
"""Surfaces GDAL does not burn, read as the polygons of their faces (OGR reads an ESRI MultiPatch,
such as a building shell, as these: red team of 2026-12-04, they burnt no pixel)."""


def _burnable_parts(geometry: ogr.Geometry, bounds: ogr.Geometry) -> list[ogr.Geometry]:
    """The simple parts of a geometry that have finite coordinates and may hold pixels, lines cut
    to the grid's bounds.

    GDAL burns a line by stepping along its whole length pixel by pixel, inside the
    raster or not, so a line reaching far beyond the grid (or to a NaN) would take for ever.
    """
    if ogr.GT_Flatten(geometry.GetGeometryType()) in SURFACES_OF_FACES:  # faces cloned: they outlive `faces`
        faces = ogr.ForceToMultiPolygon(geometry.Clone())
        return [part for i in range(faces.GetGeometryCount())
                for part in _burnable_parts(faces.GetGeometryRef(i).Clone(), bounds)]
    if ogr.GT_IsSubClassOf(geometry.GetGeometryType(), ogr.wkbGeometryCollection):
        return [part for i in range(geometry.GetGeometryCount()) for part in _burnable_parts(geometry.GetGeometryRef(i), bounds)]
    if not _finite(geometry):
        return []
    if geometry.GetDimension() == 1 and not geometry.IsEmpty() and geometry.Length() == 0:
        # a line digitised by a double click, all its vertices on one spot: it takes the pixel there,
        # as a point does (it took none, 'smaller than a pixel': own bad input of 2026-12-05)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(*geometry.GetPoint_2D(0))
        return [point]
    if geometry.GetDimension() == 2:
        xmin, xmax, ymin, ymax = geometry.GetEnvelope()
        # A polygon collapsed onto a point burns no pixel, and GDAL 3.12 took 5 to 12 s to find
        # that for one lying far outside the grid (GDAL 3.6: at once). Its area does not tell: a
        # bow-tie's two lobes cancel out to 0, and it burns their pixels.
        return [geometry] if xmin < xmax or ymin < ymax else []
    if geometry.GetDimension() != 1:
        return [geometry]
    clipped, _message = gdal_call(geometry.Intersection, bounds)
    # a line touching the bounds from outside is clipped to a point: no pixel (a review of 2026-12-05)
    return [] if clipped is None or clipped.IsEmpty() or clipped.GetDimension() < 1 else [clipped]


BURN_SHIFT = 1e-6
"""Pixel fraction by which polygons are burnt off the pixel centres, towards the next row and
column: a centre on a polygon's edge then lies on one side of it. GDAL burnt a centre on a
horizontal edge into the polygons on both sides (two polygons sharing an edge through a row of
centres 'held samples of different classes' there), one on a vertical edge into one of them, and a
polygon collapsed onto a row of centres into that row (a helper's red team of 2026-12-05). Lines
take the pixels they run through or along (`LINE_OPTIONS`): one along a pixel edge those on both
sides of it (GDAL gave those below it, or none in a window of no height), one along any edge of the
grid those inside (GDAL burnt those beyond the far edges)."""


LINE_OPTIONS = ["ALL_TOUCHED=TRUE"]
"""Lines take the pixels they run through or along: every pixel they touch, burnt as they lie and
`BURN_SHIFT` off either way (a line along a pixel edge touches the pixels on both sides of it,
whichever way GDAL rounds it on fine grids: a review of 2026-12-05), less those
they only touch at a point (`_Rasterizer._run_through`). GDAL's default stepped along a line a pixel
at a time, and left out 291 of 844 pixels random lines crossed, taking 40 they did not (a helper's
red team of 2026-12-05)."""


RUN_THROUGH = 1e-6
"""Pixel fraction of a line's length within a pixel for the line to take it (`_Rasterizer._run_through`)."""
SEGMENTS_AT_ONCE = 64
"""Consecutive segments of a line measured against the pixels near them at once."""


def _segments(geometry: ogr.Geometry) -> np.ndarray:
    """The straight segments (x0, y0, x1, y1) of a line or a collection of lines (curves made straight)."""
    if geometry.GetGeometryCount():
        return np.concatenate([_segments(geometry.GetGeometryRef(index))
                               for index in range(geometry.GetGeometryCount())] or [np.empty((0, 4))])
    if geometry.IsEmpty() or geometry.GetDimension() != 1:
        return np.empty((0, 4))
    linear = geometry.GetLinearGeometry()  # one line: a curve of one part (collections are split above)
    points = np.array([point[:2] for point in linear.GetPoints() or []], np.float64).reshape(-1, 2)
    return np.hstack([points[:-1], points[1:]])


def _inside_length(cols: np.ndarray, rows: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The length, in pixels, of each segment (its ends' pixel coordinates: cols, rows, each (n, 2))
    within the square of each pixel (row, col, each (k, 1)): (k, n), by Liang and Barsky's clipping."""
    starts, steps = (cols[:, 0], rows[:, 0]), (cols[:, 1] - cols[:, 0], rows[:, 1] - rows[:, 0])
    low = np.zeros((len(col), len(cols)))
    high = np.ones((len(col), len(cols)))
    for start, step, edge in ((starts[0], steps[0], col), (starts[1], steps[1], row)):
        for direction, bound in ((-1.0, edge), (1.0, edge + 1)):
            p = direction * step
            q = direction * (bound - start)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = q / p
            low = np.where(p < 0, np.maximum(low, t), low)
            high = np.where(p > 0, np.minimum(high, t), np.where((p == 0) & (q < 0), -1.0, high))
    return np.clip(high - low, 0.0, None) * np.hypot(*steps)


class _Rasterizer:
    """Burns geometries (in the grid's CRS) onto windows of a grid.

    Polygons take the pixels whose centre is inside; lines every pixel they cross.
    """

    def __init__(self, grid: Grid) -> None:
        self._grid = grid
        self._srs = srs_from_wkt(grid.crs_wkt)
        # GDAL 3.11 deprecates the vector driver "Memory" (a warning on stderr) for "MEM",
        # which GDAL 3.6 has for rasters only.
        self._source = (ogr.GetDriverByName("MEM") or ogr.GetDriverByName("Memory")).CreateDataSource("")
        ring = ogr.Geometry(ogr.wkbLinearRing)  # the grid's corners: a rotated grid is no box (red team of 2026-12-05)
        for col, row in ((0, 0), (grid.width, 0), (grid.width, grid.height), (0, grid.height), (0, 0)):
            ring.AddPoint_2D(*gdal.ApplyGeoTransform(grid.geotransform, col, row))
        self._bounds = ogr.Geometry(ogr.wkbPolygon)
        self._bounds.AddGeometry(ring)
        self._widened: tuple[float, ogr.Geometry] | None = None
        self.clear()

    def add(self, geometry: ogr.Geometry, areas_only: bool = False) -> None:
        """Adds a geometry's parts, only its polygons' with `areas_only` (a mask's collection)."""
        for part in _burnable_parts(geometry, self._bounds):
            if areas_only and part.GetDimension() != 2:
                continue
            layer = (self._points, self._lines, self._areas)[part.GetDimension()]
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(part)
            layer.CreateFeature(feature)
        self.count += 1

    def contains(self, geometry: ogr.Geometry, margin: float) -> bool:
        """Whether a geometry in the grid's CRS lies within the grid's footprint widened by `margin`
        (widened once: 36 us a feature, a review of 2026-12-05 measured)."""
        if self._widened is None or self._widened[0] != margin:
            self._widened = (margin, self._bounds.Buffer(margin))
        return bool(self._widened[1].Contains(geometry))

    def meets(self, geometry: ogr.Geometry) -> bool:
        """Whether a geometry in the grid's CRS meets the grid's bounds; a polygon that only touches
        them from outside does not: it holds no pixel centre of the grid (a helper's red team of
        2026-12-05: one sharing a map's edge was said to be smaller than a pixel). Points and lines on
        the bounds do (a point on the far edge falls in the pixel it bounds)."""
        if not self._bounds.Intersects(geometry):
            return False
        return geometry.GetDimension() < 2 or not self._bounds.Touches(geometry)

    def clear(self) -> None:
        while self._source.GetLayerCount():
            self._source.DeleteLayer(0)
        self._areas = self._source.CreateLayer("areas", self._srs, ogr.wkbUnknown)
        self._lines = self._source.CreateLayer("lines", self._srs, ogr.wkbUnknown)
        self._points = self._source.CreateLayer("points", self._srs, ogr.wkbUnknown)
        self.count = 0

    def burn(self, window: Window) -> np.ndarray:
        """The window's pixels that the polygons (off their centres by `BURN_SHIFT`), lines or points (of
        a collection) take."""
        taken = self._burnt(self._areas, window, BURN_SHIFT, [])
        if self._points.GetFeatureCount():
            taken |= self._burnt(self._points, window, 0.0, [])
        if self._lines.GetFeatureCount():
            touched = (self._burnt(self._lines, window, 0.0, LINE_OPTIONS)
                       | self._burnt(self._lines, window, BURN_SHIFT, LINE_OPTIONS)
                       | self._burnt(self._lines, window, -BURN_SHIFT, LINE_OPTIONS))
            taken |= self._run_through(window, touched)
        return taken

    def _burnt(self, layer: ogr.Layer, window: Window, shift: float, options: list[str]) -> np.ndarray:
        """The window's pixels the layer's geometries burn, the window moved by `shift` pixel."""
        target = gdal.GetDriverByName("MEM").Create("", window.width, window.height, 1, gdal.GDT_Byte)
        if self._srs is not None:
            target.SetProjection(self._srs.ExportToWkt())
        gt = self._grid.geotransform
        x0, y0 = gdal.ApplyGeoTransform(gt, window.col + shift, window.row + shift)
        target.SetGeoTransform((x0, gt[1], gt[2], y0, gt[4], gt[5]))
        if layer.GetFeatureCount():
            error, message = gdal_call(gdal.RasterizeLayer, target, [1], layer, burn_values=[1], options=options)
            if error != gdal.CE_None:
                raise InputError(f"Rasterising the features onto the hyperspectral grid failed ({message}). Check "
                                 "that their geometries are valid.")
        return target.ReadAsArray().astype(bool)

    def _run_through(self, window: Window, touched: np.ndarray) -> np.ndarray:
        """Of the pixels the lines touch, those they run through or along: a segment of theirs lies in
        the pixel's square over more than `RUN_THROUGH` of a pixel, measured in pixel coordinates
        (precise at any coordinates; GEOS' intersections in map units were not, at 0.3 m pixels in
        UTM, and took minutes for a line of thousands of vertices: a helper's red team of 2026-12-05).
        GDAL's lines touching a pixel at a corner or an end took it (a diagonal through pixel corners
        took 6 pixels more than the 5 it crossed: a review of 2026-12-05)."""
        self._lines.ResetReading()
        segments = np.concatenate([_segments(feature.GetGeometryRef()) for feature in self._lines] or
                                  [np.empty((0, 4))])
        cols, rows = self._grid.pixel_coordinates(segments[:, 0::2], segments[:, 1::2])
        cols, rows = cols - window.col, rows - window.row
        candidates = np.argwhere(touched)
        runs = np.zeros(len(candidates), bool)
        for start in range(0, len(segments), SEGMENTS_AT_ONCE):  # consecutive segments lie near each other
            some_cols, some_rows = cols[start:start + SEGMENTS_AT_ONCE], rows[start:start + SEGMENTS_AT_ONCE]
            near = np.flatnonzero(~runs & (candidates[:, 1] >= np.floor(some_cols.min()) - 1)
                                  & (candidates[:, 1] <= some_cols.max() + 1)
                                  & (candidates[:, 0] >= np.floor(some_rows.min()) - 1)
                                  & (candidates[:, 0] <= some_rows.max() + 1))
            if not near.size:
                continue
            lengths = _inside_length(some_cols, some_rows, candidates[near, 1:], candidates[near, :1])
            runs[near[(lengths > RUN_THROUGH).any(axis=1)]] = True
        kept = np.zeros_like(touched)
        kept[candidates[runs, 0], candidates[runs, 1]] = True
        return kept

    def pixels(self, geometry: ogr.Geometry, tile_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the grid pixels a single polygon or line covers, burnt in the window of
        its envelope widened by a pixel: a line along a pixel edge, of no height, burns beside it."""
        xmin, xmax, ymin, ymax = geometry.GetEnvelope()
        pixel = self._grid.step
        window = self._grid.pixel_bounds((xmin - pixel, ymin - pixel, xmax + pixel, ymax + pixel))
        if window is None:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        self.clear()
        self.add(geometry)
        found = []
        for tile in tiles(window, tile_size):
            local_rows, local_cols = np.nonzero(self.burn(tile))
            found.append((local_rows + tile.row, local_cols + tile.col))
        return np.concatenate([r for r, _ in found]).astype(np.int64), np.concatenate([c for _, c in found]).astype(np.int64)


def _point_coordinates(geometry: ogr.Geometry) -> list[tuple[float, float]]:
    """x, y of every non-empty point of a point, multipoint or (nested) collection of points."""
    if geometry.GetGeometryCount():
        return [xy for i in range(geometry.GetGeometryCount()) for xy in _point_coordinates(geometry.GetGeometryRef(i))]
    return [] if geometry.IsEmpty() else [geometry.GetPoint_2D()]


def _meets_grid(geometry: ogr.Geometry, transform: osr.CoordinateTransformation | None,
                rasterizer: "_Rasterizer") -> bool:
    """Whether a geometry, in the grid's CRS, meets the grid's bounds (not its own bounding box: a
    ring around the grid, or a triangle beside it, lies outside; red team of 2026-12-04)."""
    on_grid = _on_grid(geometry, transform)
    return on_grid is not None and rasterizer.meets(on_grid)


def _point_pixels(geometry: ogr.Geometry, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the grid pixels that the point(s) fall in (`_pixel_index`)."""
    xs, ys = np.array(_point_coordinates(geometry), np.float64).reshape(-1, 2).T
    with np.errstate(invalid="ignore", over="ignore"):
        cols, rows = grid.pixel_coordinates(xs, ys)
        cols, rows = _pixel_index(cols, grid.width), _pixel_index(rows, grid.height)
    inside = (cols >= 0) & (cols < grid.width) & (rows >= 0) & (rows < grid.height)
    return rows[inside].astype(np.int64), cols[inside].astype(np.int64)


POINT_EDGE = 1e-6
"""Pixel fraction within which a point on the grid's edge, on either side, falls in the pixel there."""


def _pixel_index(coordinates: np.ndarray, size: int) -> np.ndarray:
    """The pixel index of each pixel coordinate along one axis of `size` pixels; a point on the grid's
    far edge falls in the pixel it bounds (such points were said to cover no pixel centre, as polygons
    smaller than a pixel are: red team of 2026-12-04), and one within `POINT_EDGE` of any edge falls
    in the pixel there (points on the edges reprojected from EPSG:4326 moved by 1e-10 m and fell
    outside on the left and top edges only: a helper's red team of 2026-12-05)."""
    index = np.where(np.isclose(coordinates, size, rtol=0, atol=POINT_EDGE), size - 1, np.floor(coordinates))
    return np.where((coordinates < 0) & (coordinates >= -POINT_EDGE), 0, index)


_ZERO_DECIMALS = re.compile(r"(?<=[0-9])\.0*$")


def _whole_text(text: str) -> int | None:
    """The whole number a class text writes (`whole_number`), '2.0' included: a field of real numbers
    keeps 2.0 as class 2, and a text field of '2.0' numbered it in text order, after '11.0' (a
    helper's red team of 2026-12-06)."""
    return whole_number(_ZERO_DECIMALS.sub("", text))


def _placeholders_are_no_class(others: set[str]) -> bool:
    """Whether a class field's placeholder texts ('NA': `PLACEHOLDERS`) mean no class: where its `others`
    are all whole numbers (among names, 'None' may be a class's)."""
    return bool(others) and _whole_numbers(others) is not None


def _whole_numbers(texts: set[str]) -> dict[str, int] | None:
    """Each text as an integer when every one of them is a whole number (`_whole_text`), else None."""
    numbers = {text: _whole_text(text) for text in texts}
    return None if None in numbers.values() else numbers


def _class_ids(field_values: set, integer: bool, class_field: str, layer_name: str) -> dict:
    """The class value (1 to MAX_CLASS_VALUE) of each field value.

    Numbers (and texts that are all whole numbers) keep their value; other texts get
    1..K in sorted order.
    """
    numbers = {item: item for item in field_values} if integer else _whole_numbers(field_values)
    if numbers is None:
        return {name: value for value, name in enumerate(sorted(field_values), start=1)}
    odd = [number for number in numbers.values() if not math.isfinite(number) or number != math.floor(number)]
    if odd:
        raise InputError(
            f"The class field '{class_field}' of '{layer_name}' holds decimal or non-finite numbers ({odd[0]!r}). "
            "Class values must be whole numbers or text; recode the field."
        )
    lowest, highest = min(numbers.values()), max(numbers.values())
    if lowest < 1:
        raise InputError(
            f"The class field '{class_field}' of '{layer_name}' holds the value {value_text(lowest)}; class values "
            "must be 1 or more, because 0 is reserved for unlabelled pixels and nodata. Recode the classes from 1."
        )
    if highest > MAX_CLASS_VALUE:
        raise InputError(too_large_message(f"The class field '{class_field}' of '{layer_name}'", highest))
    return {item: int(number) for item, number in numbers.items()}


def class_values_problem(values: Iterable[Any], integer: bool, class_field: str, layer_name: str,
                         parameter: str = "") -> str | None:
    """What reading a class field of these distinct `values` (its features', NULLs aside) would refuse,
    told before any work: an empty field, classes that are no class values, or, for training samples
    (`parameter`, SAMPLES), one class only; None where none. The workflow refused them only after the
    pretraining, hours at real settings (a helper's red team of 2026-12-06)."""
    texts = {value if integer else str(value).strip() for value in values}
    texts.discard("")
    placeholders = {text for text in texts if not integer and text.casefold() in PLACEHOLDERS}
    if placeholders and _placeholders_are_no_class(texts - placeholders):
        texts -= placeholders
    if not texts:
        return (f"The class field '{class_field}' of '{layer_name}' is empty: no feature has a class. Fill in the "
                "classes or choose the field that holds them.")
    try:
        ids = _class_ids(texts, integer, class_field, layer_name)
    except InputError as error:
        return str(error)
    if parameter and len(set(ids.values())) < 2:
        return one_class_only(parameter, layer_name, min(texts, key=str))  # one spelling, whatever the set's order
    return None


def _color(text: str, field: str, layer_name: str) -> str | None:
    """A colour '#rrggbb' of the colour field (lower case), None when empty; refused when it is not one."""
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise InputError(
            f"The colour field '{field}' of '{layer_name}' holds '{text}', which is not a colour written "
            "#rrggbb (such as #2b7bba). Correct it, or choose no colour field."
        )
    return text.lower()


def _unknown_code_page(source: str) -> str | None:
    """The encoding a shapefile's .cpg file names where it is none known (a number is a Windows code
    page: '1252'), else None: its texts were said not to be valid in the encoding the file gives (a
    helper's red team of 2026-12-07: a .cpg of 'klingon')."""
    stem, extension = os.path.splitext(split_source(source)[0])
    if extension.lower() != ".shp":
        return None
    try:
        with open(f"{stem}.cpg", encoding="ascii", errors="replace") as handle:
            named = handle.read(100).strip()
    except OSError:
        return None
    try:
        codecs.lookup(f"cp{named}" if named.isdigit() else named)
    except LookupError:
        return named
    return None


def _refuse_a_shapefile_without_its_table(source: str, vector: ogr.Layer, layer_name: str) -> None:
    """A shapefile whose .dbf is missing, which OGR reads without fields: the class field was said not
    to be one of 'its fields: none' (own bad input of 2026-12-05)."""
    path = split_source(source)[0]
    stem, extension = os.path.splitext(path)
    if extension.lower() != ".shp" or vector.GetLayerDefn().GetFieldCount():
        return
    folder, name = os.path.split(stem)
    entries = os.listdir(folder or ".") if os.path.isdir(folder or ".") else []
    tables = [entry for entry in entries if entry.lower() == f"{name}.dbf".lower()]  # 'pts.DbF' too (review)
    if not tables:
        raise InputError(f"The shapefile '{layer_name}' ({path}) has no .dbf file beside it, which holds its fields "
                         "(the class field among them). Copy the .dbf with the .shp and .shx, or choose another "
                         "layer.")
    if not any(os.path.isfile(f"{stem}{extension}") for extension in (".dbf", ".DBF")):  # GDAL reads these alone
        raise InputError(f"The shapefile '{layer_name}' ({path}) has its table, which holds its fields (the class "
                         f"field among them), as {tables[0]}, in a letter case GDAL does not read. Rename it "
                         f"{name}.dbf and run again.")


def _field_indices(vector: ogr.Layer, fields: dict[str, str | None], layer_name: str) -> dict[str, int]:
    """The index of each named field ({role: field name}); roles whose field is None are left out.
    The field of that very name, else the one field of that name in any letter case: OGR's own
    look-up takes the first field alike in case, 'kind' for 'KIND' beside it, and under a Turkish
    locale finds no 'class_id' for 'CLASS_ID' (red team of 2026-12-05)."""
    definition = vector.GetLayerDefn()
    existing = [definition.GetFieldDefn(index).GetName() for index in range(definition.GetFieldCount())]
    found = {role: spelt_as(existing, field) for role, field in fields.items() if field is not None}
    indices = {role: positions[0] if len(positions) == 1 else -1 for role, positions in found.items()}
    for role, index in indices.items():
        alike = [existing[position] for position in found[role]]
        if len(alike) > 1:  # 'Kind' beside 'kind' and 'KIND' (a note of 2026-12-06: said to be no field)
            raise InputError(f"The {role} field '{fields[role]}' names {len(alike)} fields of '{layer_name}' in other "
                             f"letter cases ({', '.join(alike)}); give one as it is spelt.")
        if index < 0:
            names = ", ".join(existing)
            raise InputError(
                f"The {role} field '{fields[role]}' is not a field of '{layer_name}' (its fields: {names or 'none'}). "
                f"Choose one of its fields as the {role} field."
            )
    return indices


def _on_grid(geometry: ogr.Geometry, transform: osr.CoordinateTransformation | None) -> ogr.Geometry | None:
    """A copy of the geometry in the grid's CRS, or None when it cannot be reprojected.

    Curves (QGIS's curve digitising, true curves) come back as straight segments: GDAL's
    rasteriser burns nothing for a curved geometry."""
    geometry = geometry.GetLinearGeometry() if geometry.HasCurveGeometry() else geometry.Clone()
    if transform is None:
        return geometry
    if not reprojectable(geometry.GetEnvelope()):
        return None
    error, _message = gdal_call(geometry.Transform, transform)
    return geometry if error == ogr.OGRERR_NONE else None


def _feature_pixels(
    geometry: ogr.Geometry, transform: osr.CoordinateTransformation | None, rasterizer: "_Rasterizer", grid: Grid, tile_size: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Rows and columns of the grid pixels a feature's geometry covers (empty when outside), and
    whether part of it lies beyond the grid's bounds (by more than a millionth of a pixel: a
    polygon reprojected onto the grid's very edge is not beyond it)."""
    geometry = _on_grid(geometry, transform)
    if geometry is None:
        return np.empty(0, np.int64), np.empty(0, np.int64), True
    xmin, xmax, ymin, ymax = geometry.GetEnvelope()
    left, bottom, right, top = grid.bounds()
    margin = 1e-6 * grid.step
    beyond = xmin < left - margin or xmax > right + margin or ymin < bottom - margin or ymax > top + margin
    if not beyond and grid.rotated:  # within the bounding box, beyond the grid (review of 2026-12-05)
        beyond = not rasterizer.contains(geometry, margin)
    if geometry.GetDimension() == 0:
        return (*_point_pixels(geometry, grid), beyond)
    return (*rasterizer.pixels(geometry, tile_size), beyond)


PLACEHOLDERS = {"na", "n/a", "nan", "null", "none", "-", "?"}
"""Class texts that tools and hands write for a missing value (case aside): in a field of whole
numbers, no class (`_Features.settle_placeholders`)."""

FEATURES_PER_CHECK = 256
"""Features read between two looks at progress and cancel."""
MANY_FEATURES = 4 * FEATURES_PER_CHECK
"""Features whose reading the log announces."""


@dataclass
class _Features:
    """What the features of a sample layer give: each labelled feature's class (in feature
    order), the first name and colour given per class (and every other one given, in
    `other_names` and `other_colors`), the pixels of each feature (`owners`: the index of
    the feature's class entry for each pixel), and the counts of features read, without
    class and outside the grid."""

    classes: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    colors: dict = field(default_factory=dict)
    other_names: dict = field(default_factory=dict)
    other_colors: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    cols: list = field(default_factory=list)
    owners: list = field(default_factory=list)
    features: int = 0
    unset: int = 0
    outside: int = 0
    without_geometry: int = 0
    partly_outside: int = 0
    """Features with pixels on the grid and parts beyond it, whose parts beyond it are not counted
    (review of 2026-12-05: a reference polygon two thirds outside the map was counted for its third
    unsaid)."""
    lines: int = 0
    """Features of lines (the help speaks of points and polygons): every pixel they cross is a sample."""
    missed: int = 0
    """Features within the grid's bounds that cover no pixel centre (smaller than a pixel): not
    outside it (red team of 2026-12-04: a reference's were said to lie outside the map)."""
    recoded: dict = field(default_factory=dict)
    """Texts that were not UTF-8, as read as Windows-1252 (`_text`)."""
    unreadable: set = field(default_factory=set)
    """Texts holding U+FFFD, a character the layer's reader could not decode (`_text`)."""
    held_back: "_Features | None" = None
    """The features whose class text is a placeholder ('NA', 'NULL': `PLACEHOLDERS`), read apart
    until the field's other classes tell whether it means no class (`settle_placeholders`)."""

    def _text(self, feature: ogr.Feature, index: int) -> str:
        """A field's text. OGR passes on the bytes of a file that does not say its encoding (a
        shapefile without a .cpg), and the bindings escape those that are not UTF-8, which became
        spaces: 'Forêt' and 'Prés' of a Windows shapefile gave 'For t' and 'Pr s' (red team of
        2026-12-04). Such a text is read as Windows-1252, the usual encoding of those files. Texts
        are taken in Unicode's composed form (NFC): 'Forêt' written with a combining accent, as
        macOS writes names, was another class (red team of 2026-12-04)."""
        text = feature.GetFieldAsString(index)
        read = recoded_text(text)
        if read != text:
            self.recoded[text] = read
        if "\ufffd" in read:
            self.unreadable.add(read)
        return unicodedata.normalize("NFC", read)

    def read(self, vector: ogr.Layer, indices: dict[str, int], integer: bool, placing: tuple,
             color_field: str | None, layer_name: str, hooks: Hooks) -> None:
        """`placing` is (transform to the grid, rasterizer, grid, tile size) for `_feature_pixels`.
        Reports progress and stops on cancel every `FEATURES_PER_CHECK` features (a helper's red
        team of 2026-12-05: 20,000 polygons read for 12 s at 0 %, Cancel waiting for the end)."""
        field_index = indices["class"]
        total = vector.GetFeatureCount(force=0)
        if total >= MANY_FEATURES:  # 100,000 lines read for 47 s with no line on the command line (red team)
            hooks.log(f"Reading the {total:,} features of '{layer_name}'.")
        for feature in _features(vector, layer_name):
            if self.features % FEATURES_PER_CHECK == 0:
                hooks.check_cancel()
                if total > 0:
                    hooks.progress(self.features / total)
            self.features += 1
            value = feature.GetField(field_index) if integer else self._text(feature, field_index).strip()
            if not feature.IsFieldSetAndNotNull(field_index) or value == "":
                self.unset += 1
                continue
            placeholder = not integer and value.casefold() in PLACEHOLDERS
            if placeholder and self.held_back is None:
                self.held_back = _Features(recoded=self.recoded, unreadable=self.unreadable)
            (self.held_back if placeholder else self)._take(feature, value, indices, placing, color_field,
                                                            layer_name)

    def _take(self, feature: ogr.Feature, value: Any, indices: dict[str, int], placing: tuple,
              color_field: str | None, layer_name: str) -> None:
        """Keeps a feature of class `value`: its name and colour (a blank one as none, as NULL is: a helper's
        audit of 2026-12-06 had the first feature's '' outweigh 29 others' name or colour), and its pixels on the
        grid."""
        name = self._text(feature, indices["name"]).strip() if "name" in indices and feature.IsFieldSetAndNotNull(
            indices["name"]) else ""
        if name:
            _keep_first(self.names, self.other_names, value, name)
        color = _color(feature.GetFieldAsString(indices["colour"]), color_field, layer_name) if (
            "colour" in indices and feature.IsFieldSetAndNotNull(indices["colour"])) else None
        if color:
            _keep_first(self.colors, self.other_colors, value, color)
        self.classes.append(value)
        geometry = feature.GetGeometryRef()
        if geometry is None or geometry.IsEmpty():
            self.without_geometry += 1
            return
        self.lines += geometry.GetDimension() == 1
        feature_rows, feature_cols, beyond = _feature_pixels(geometry, *placing)
        self.partly_outside += bool(len(feature_rows)) and beyond
        if len(feature_rows) == 0:
            if _meets_grid(geometry, placing[0], placing[1]):
                self.missed += 1
            else:
                self.outside += 1
        self.rows.append(feature_rows)
        self.cols.append(feature_cols)
        self.owners.append(np.full(len(feature_rows), len(self.classes) - 1, np.int64))

    def settle_placeholders(self, class_field: str, layer_name: str, hooks: Hooks) -> None:
        """The features of a placeholder class ('NA') are without class where every other class is
        a whole number, and warned of; else they are a class like the others (a class named 'None'
        among names). A helper's red team of 2026-12-06: 104 points of 'NA' among classes 1 to 7
        trained a class 8 named 'NA' without a word, and a reference's was refused as names."""
        held, self.held_back = self.held_back, None
        if held is None:
            return
        if _placeholders_are_no_class(set(self.classes)):
            count = len(held.classes)
            self.unset += count
            texts = joined([f"'{text}'" for text in sorted(set(held.classes))])
            hooks.warning(f"{plural(count, 'feature')} of '{layer_name}' {agreeing(count, 'has', 'have')} {texts} as "
                          f"{agreeing(count, 'its', 'their')} class in the class field '{class_field}', whose other "
                          f"classes are whole numbers: taken for no class, {agreeing(count, 'it is', 'they are')} left "
                          "out.")
            return
        offset = len(self.classes)
        self.classes += held.classes
        self.owners += [owners + offset for owners in held.owners]
        self.rows += held.rows
        self.cols += held.cols
        for mine, theirs in ((self.names, held.names), (self.colors, held.colors),
                             (self.other_names, held.other_names), (self.other_colors, held.other_colors)):
            mine.update(theirs)
        for counter in ("without_geometry", "outside", "partly_outside", "lines", "missed"):
            setattr(self, counter, getattr(self, counter) + getattr(held, counter))


_NOT_CLASSES = {ogr.OFTDate: "a date field", ogr.OFTDateTime: "a date and time field", ogr.OFTTime: "a time field",
                ogr.OFTBinary: "a field of binary data", ogr.OFTIntegerList: "a field of lists",
                ogr.OFTInteger64List: "a field of lists", ogr.OFTRealList: "a field of lists",
                ogr.OFTStringList: "a field of lists"}
"""Field types that hold no classes (a date field trained classes named '2020/01/01' without a
word: red team of 2026-12-04)."""


def mirrored_samples(grid: Grid) -> str:
    """What a sample layer that misses a raster without georeferencing most likely is (false-alarm
    hunt of 2026-12-05); said of the pixel space the raster lies in (a helper's red team of 2026-12-07:
    one whose file holds GDAL's pixel space lies at y = +r)."""
    if grid.georeferenced:
        return ""
    if grid.geotransform[5] > 0:
        return (" Its file places row r at y = +r (GDAL's pixel space, where QGIS lays it): samples placed at "
                "y = -r (where QGIS lays a raster without any) lie mirrored beside it; flip them (Processing "
                "Toolbox > Affine transform, scale factor (y-axis) -1).")
    return (" On a raster without georeferencing, QGIS lays row r at y = -r: samples placed at y = +r (rows counted "
            "downwards, as this plugin's suggestions of such rasters were before 2026-12-05) lie mirrored beside it; "
            "flip them (Processing Toolbox > Affine transform, scale factor (y-axis) -1).")


def _check_class_field_type(definition: ogr.FieldDefn, class_field: str, layer_name: str) -> None:
    kind = ("a yes/no (boolean) field" if definition.GetSubType() == ogr.OFSTBoolean
            else _NOT_CLASSES.get(definition.GetType()))
    if kind:
        raise InputError(no_classes_field(kind, class_field, layer_name))


def no_classes_field(kind: str, class_field: str, layer_name: str) -> str:
    """The refusal of a class field of a `kind` that holds no classes ('a date field')."""
    return (f"The class field '{class_field}' of '{layer_name}' is {kind}, which holds no classes. Choose the field "
            "that holds each feature's class (a whole number from 1, or a name).")


def _keep_first(first: dict, others: dict, key: Any, item: Any) -> None:
    """`first[key]` is the first item given for the key; any other item goes to `others[key]`."""
    if first.setdefault(key, item) != item:
        others.setdefault(key, []).append(item)


def _say_conflicts(others: dict, first: dict, what: str, field_name: str | None, layer_name: str,
                   hooks: Hooks) -> None:
    """Logs the classes given more than one name (or colour) by their features, and the one kept."""
    if others:
        listed = first_few((f"class {key}: "
                            + " or ".join(f"'{item}'" for item in dict.fromkeys([first[key], *others[key]]))
                            for key in others), "; ")
        hooks.warning(f"Classes of '{layer_name}' given more than one {what} by the field '{field_name}' "
                      f"({listed}): the first of each class is kept.")


def _say_merged_texts(ids: dict, class_field: str, layer_name: str, hooks: Hooks) -> None:
    """Warns of texts written apart that give one class number ('3', '03' and '+3' are class 3)."""
    merged = shared(sorted(ids.items(), key=lambda pair: (pair[1], str(pair[0]))))
    if merged:
        listed = first_few((joined([f"'{text}'" for text in found]) + f" are class {value}"
                            for value, found in merged), "; ")
        hooks.warning(f"The class field '{class_field}' of '{layer_name}' writes one class in several ways "
                      f"({listed}); write each class one way if they are meant apart.")


def _say_renumbered(ids: dict, class_field: str, layer_name: str, hooks: Hooks) -> None:
    """Warns of whole numbers written as text beside other texts: one other text in the field ('1,0',
    '2.5', 'Water') makes every class a name, numbered in sorted order, so that the class written '2'
    became value 3 of the map without a word (red team of 2026-12-04); where the numbers keep their
    values by that order, each is still a class beside the names."""
    numbers = sorted(text for text in ids if isinstance(text, str) and _whole_text(text) is not None)
    if not numbers or len(numbers) == len(ids):
        return
    moved = sorted((ids[text], text) for text in numbers if _whole_text(text) != ids[text])
    others = first_few((f"'{text}'" for text in sorted(ids) if _whole_text(text) is None), ", ")
    opening = (f"The class field '{class_field}' of '{layer_name}' holds whole numbers and other texts ({others}), so "
               "every class is taken as a name")
    if moved:
        listed = first_few((f"'{text}' is {value}" for value, text in moved), ", ")
        hooks.warning(f"{opening} and numbered in sorted order ({listed} in the map); write every class as a whole "
                      "number to keep its value.")
    else:  # a helper's desktop check of the ninth session of 2026-12-06: '1'-'7' beside 'A1'-'A7' trained 14 classes
        listed = first_few((f"'{text}'" for text in sorted(numbers, key=_whole_text)), ", ")
        own = agreeing(len(numbers), "is a class of its own", "are classes of their own")
        hooks.warning(f"{opening}: {listed} {own} beside the others ({len(ids)} classes). Where a number and a name "
                      "mean one class, write it one way.")


def _features(vector: ogr.Layer, layer_name: str) -> Iterator[ogr.Feature]:
    """The layer's features, refusing a damaged file: with OGR's exceptions off, a GeoPackage
    page that cannot be read is an ERROR line on standard error and the features behind it are
    skipped, so that a model was trained on a few of the samples without a word (red team of
    2026-12-04). A feature whose geometry alone cannot be read (a CSV row of 'NULL') comes
    with a failure too, and is kept, without geometry; so each is read with the exceptions
    off, which would raise before the feature comes back."""
    vector.ResetReading()
    while True:
        with exceptions_off(), gdal_quiet():
            gdal.ErrorReset()
            feature = vector.GetNextFeature()
            failed, message = gdal.GetLastErrorType() >= gdal.CE_Failure, gdal.GetLastErrorMsg()
        if feature is None:
            if failed:
                raise unreadable(f"the sample layer '{layer_name}'", message)
            return
        yield feature


def labels_from_vector(
    scene: Scene,
    path: str,
    layer: str | None,
    class_field: str,
    name_field: str | None,
    layer_name: str,
    hooks: Hooks | None = None,
    tile_size: int = TILE_SIZE,
    *,
    color_field: str | None = None,
    reference: bool = False,
) -> LabelledPixels:
    """Labelled pixels from points (the pixel each falls in) or polygons (pixels whose centre is inside);
    class names and colours ('#rrggbb') from their fields when given; `reference`: an assessment's
    (`labelled_pixels`)."""
    hooks = hooks or Hooks()
    _dataset, vector, operation = open_vector_layer(path, layer, layer_name, hooks)
    try:
        _refuse_a_shapefile_without_its_table(path, vector, layer_name)
        indices = _field_indices(vector, {"class": class_field, "name": name_field, "colour": color_field}, layer_name)
        _check_class_field_type(vector.GetLayerDefn().GetFieldDefn(indices["class"]), class_field, layer_name)
        kind = vector.GetLayerDefn().GetFieldDefn(indices["class"]).GetType()
        integer = kind in (ogr.OFTInteger, ogr.OFTInteger64, ogr.OFTReal)
        transform = _transform_to_grid(vector, scene.grid, layer_name, scene.hsi_name, hooks, operation)
        found = _Features()
        found.read(vector, indices, integer, (transform, _Rasterizer(scene.grid), scene.grid, tile_size),
                   color_field, layer_name, hooks)
        found.settle_placeholders(class_field, layer_name, hooks)
        # after the features: looked up first, the layer's metadata hid a damaged GeoPackage's error from them
        guessed = guessed_class_field_problem(vector, class_field, layer_name, name_field)
        if guessed:
            raise InputError(guessed)
        biased = suggestions_as_reference(vector, layer_name) if reference else None
        if biased:
            hooks.warning(biased)
    except RuntimeError as error:  # a damaged file, where OGR's exceptions are on (GDAL 3.12: with GDAL's)
        raise unreadable(f"the sample layer '{layer_name}'", str(error)) from None
    if found.features == 0:  # in the words of the workflow's check (a helper's audit of 2026-12-06)
        raise InputError(no_features_message(labelled_parameter(False, reference), layer_name))
    if found.unset == found.features:
        raise InputError(class_values_problem((), integer, class_field, layer_name))
    if found.without_geometry == len(found.classes):  # before its count's line, which it says (2026-12-07)
        raise InputError(
            f"The features of '{layer_name}' have no geometry (a table's rows, such as a CSV file's with coordinate "
            "columns), so they lie nowhere on the rasters. Choose a point or polygon layer; in QGIS, load a table of "
            "coordinates as delimited text with its X and Y fields, or save it as a GeoPackage."
        )
    if found.recoded:
        unknown, read = _unknown_code_page(path), first_few(repr(text) for text in found.recoded.values())
        said = (f"are read as Windows-1252 ({read}): its .cpg file names '{unknown}', an encoding not known here"
                if unknown else "are not valid in the encoding its file gives (UTF-8 where it names none): they are "
                f"read as Windows-1252 ({read})")
        hooks.warning(f"Texts of '{layer_name}' {said}. If that is wrong, save the layer in UTF-8 (as a GeoPackage, "
                      "say), or give a shapefile a .cpg file naming its encoding.")
    if found.unreadable:  # a layer QGIS read in another encoding than its file's (a helper's red team of 2026-12-07)
        hooks.warning(f"Texts of '{layer_name}' hold characters that could not be read (shown \ufffd: "
                      f"{first_few(repr(text) for text in sorted(found.unreadable))}): the layer was read in another "
                      "encoding than its file's. Set the layer's encoding (Layer Properties > Source > Data source "
                      "encoding) or save it in UTF-8, and run again.")
    _say_conflicts(found.other_names, found.names, "name", name_field, layer_name, hooks)
    _say_conflicts(found.other_colors, found.colors, "colour", color_field, layer_name, hooks)
    for count, one, many in ((found.unset, "has no class", "have no class"),
                             (found.without_geometry, "has no geometry", "have no geometry"),
                             (found.outside, "lies outside", "lie outside"),
                             (found.missed, "covers no pixel centre", "cover no pixel centre")):
        where = f" {scene.grid_label}" if one.endswith("outside") else (
            f" of {scene.grid_label} (smaller than a pixel)" if one.endswith("centre") else "")
        # a reference's outside the map: the accuracy's warning says it (said twice: a helper's red team of 2026-12-06)
        if count and not (reference and one.endswith("outside")):  # '1 of the 42 ... have no class; they are' (audit)
            hooks.log(f"{count:,} of the {found.features:,} features of '{layer_name}' "
                      f"{agreeing(count, one, many)}{where}; {agreeing(count, 'it is', 'they are')} left out.")
    if found.lines:  # a helper's red team of 2026-12-05: a road drawn as a line gave 10 samples without a word
        lines = agreeing(found.lines, "is a line: every pixel it crosses", "are lines: every pixel they cross")
        hooks.log(f"{found.lines:,} of the {found.features:,} features of '{layer_name}' {lines} is a sample.")
    if found.partly_outside and not reference:  # a reference's: the accuracy's warning
        one = found.partly_outside == 1
        hooks.log(f"{found.partly_outside:,} of the {found.features:,} features of '{layer_name}' "
                  f"{'reaches' if one else 'reach'} beyond {scene.grid_label}; {'its' if one else 'their'} parts "
                  "outside it are left out.")
    if found.outside + found.without_geometry == len(found.classes):
        raise InputError(
            f"None of the samples of '{layer_name}' falls inside {scene.grid_label}. "
            "Check that the samples cover the same area as the rasters and that the CRS of each layer is right."
            + mirrored_samples(scene.grid)
        )
    if found.outside + found.without_geometry + found.missed == len(found.classes):
        raise InputError(
            f"No sample of '{layer_name}' covers a pixel centre of {scene.grid_label}: {found.missed:,} of them "
            f"{agreeing(found.missed, 'lies', 'lie')} between pixel centres (smaller than a pixel). Draw polygons "
            "that cover the centres of the pixels they mean, or place points."
        )
    ids = _class_ids(set(found.classes), integer, class_field, layer_name)
    named_by_text = not integer and _whole_numbers(set(found.classes)) is None
    _say_merged_texts(ids, class_field, layer_name, hooks)
    if not reference:  # a reference's text classes are matched to the map's by name (`analysis._matching`)
        _say_renumbered(ids, class_field, layer_name, hooks)
    class_names: dict[int, str] = {}  # a class written two ways ('3', '03') is named as its first feature writes it,
    for item in dict.fromkeys(found.classes):  # not as a set's order gives it (a helper's mutation audit of 12-07)
        class_names.setdefault(ids[item], item if isinstance(item, str) else str(ids[item]))
    class_names.update({ids[item]: name for item, name in found.names.items() if name})
    feature_values = np.array([ids[item] for item in found.classes], np.int64)
    pixel_values = feature_values[np.concatenate(found.owners)]
    lost = set(ids.values()) - set(np.unique(pixel_values).tolist())
    if named_by_text:
        _say_numbers_as_names(found.names, class_field, name_field, layer_name, hooks)
    elif not reference and indices.get("name", indices["class"]) == indices["class"]:
        _say_classes_named_by_values(vector, indices["class"], name_field, sorted(class_names), layer_name, hooks)
    elif not reference:  # a class left out is said so below, not named (the review of the change)
        _say_unnamed_classes(set(ids.values()) - lost - {ids[item] for item, name in found.names.items() if name},
                             name_field, layer_name, hooks)
    _say_classes_without_pixels(lost, class_names, layer_name, scene.grid_label, hooks)
    labelled = labelled_pixels(
        scene,
        np.concatenate(found.rows).astype(np.int64) * scene.width + np.concatenate(found.cols),
        pixel_values,
        class_names,
        {ids[item]: color for item, color in found.colors.items() if color},
        layer_name,
        hooks,
        tile_size,
        named_by_text,
        (found.outside, "features"),
        reference,
    )
    return replace(labelled, wide_class_field=kind == ogr.OFTInteger64, decimal_class_field=kind == ogr.OFTReal,
                   features=found.features,
                   partly_outside=found.partly_outside, left_out_features={
        "no class": found.unset, "no geometry": found.without_geometry, "no pixel centre": found.missed})


def _say_numbers_as_names(names: dict, class_field: str, name_field: str | None, layer_name: str,
                          hooks: Hooks) -> None:
    """Warns of text classes named by whole numbers: the class and name fields swapped (red team of
    2026-12-05: the classes were numbered from their names and named '3', '1', ...)."""
    numbers = _whole_numbers({name for name in names.values() if name})
    if not numbers:
        return
    hooks.warning(f"The name field '{name_field}' of '{layer_name}' holds numbers "
                  f"({first_few(map(str, sorted(set(numbers.values()))))}) and its class field '{class_field}' texts "
                  f"({first_few(sorted(names))}), so the classes are named by numbers: were the two fields swapped? The "
                  "class field holds the classes (numbers, or texts that name them), the name field their names.")


def _say_classes_named_by_values(vector: ogr.Layer, class_index: int, name_field: str | None, values: list,
                                 layer_name: str, hooks: Hooks) -> None:
    """Says that numbered classes are named by their numbers, for want of a name field or with the class
    field given as the name field, and which text fields of the layer may hold their names (the
    session of 2026-12-07: the demo's points, whose class_name field went unused, made a map of
    classes '1' to '7' without a word)."""
    definition = vector.GetLayerDefn()
    fields = [definition.GetFieldDefn(index) for index in range(definition.GetFieldCount())]
    named = [field.GetName() for index, field in enumerate(fields)
             if index != class_index and field.GetType() == ogr.OFTString and "name" in field.GetName().lower()]
    shown = first_few(f"'{value}'" for value in values)
    said = (f"The name field '{name_field}' of '{layer_name}' is its class field too, so the classes are named by "
            f"their values ({shown})" if name_field else
            f"The classes of '{layer_name}' are named by their values ({shown}), as no name field is given")
    advice = (f"; its field {first_few((f'{name!r}' for name in named), ' or ')} may hold their names: choose it as "
              "the name field." if named else ".")
    (hooks.warning if name_field else hooks.log)(said + advice)


def _say_unnamed_classes(unnamed: set, name_field: str | None, layer_name: str, hooks: Hooks) -> None:
    """Warns of numbered classes that no feature names though a name field is given: they are named
    by their values, which went unsaid (a helper's audit of 2026-12-07: a name field empty throughout)."""
    if unnamed:
        one = len(unnamed) == 1
        hooks.warning(f"The name field '{name_field}' of '{layer_name}' is empty for {'class' if one else 'classes'} "
                      f"{first_few(f'{value!r}' for value in map(str, sorted(unnamed)))}, so "
                      f"{'it is named by its value' if one else 'they are named by their values'}. Fill in the names, "
                      "or choose the field that holds them.")


def _say_classes_without_pixels(lost: set, names: dict, layer_name: str, grid_label: str, hooks: Hooks) -> None:
    """Warns of classes none of whose features selects a pixel: each was left out in a log line of its
    own (outside, smaller than a pixel, without a geometry), and the class went unsaid from a
    classifier or a report (red team of 2026-12-05)."""
    if not lost:
        return
    one = len(lost) == 1
    listed = first_few(f"'{names.get(value, value)}'" for value in sorted(lost))
    hooks.warning(f"{plural(len(lost), 'class', 'classes')} of '{layer_name}' ({listed}) "
                  f"{agreeing(len(lost), 'selects', 'select')} no pixel of {grid_label}: {'its' if one else 'their'} "
                  "features lie outside it, between pixel centres or nowhere (without a geometry), so "
                  f"{'it is' if one else 'they are'} left out.")


def mask_rasterizer(path: str, mask_name: str, grid: Grid, grid_name: str, hooks: Hooks) -> _Rasterizer:
    """The polygons of a mask layer, to burn onto windows of the grid (pixels whose centre is inside).
    Those that cannot be taken onto the grid's CRS are said to be left out, and the reading stops on
    cancel every `FEATURES_PER_CHECK` features (a helper's red team of 2026-12-05: UTM numbers
    labelled EPSG:4326 were 'no polygons', a world polygon beside a valid one counted for nothing
    unsaid, and 500,000 polygons were read for 17 s with Cancel waiting)."""
    _dataset, vector, operation = open_vector_layer(path, None, mask_name, hooks, "polygons")
    transform = _transform_to_grid(vector, grid, mask_name, grid_name, hooks, operation)
    rasterizer, meets, polygons, lost = _Rasterizer(grid), False, 0, 0
    for number, feature in enumerate(vector):
        if number % FEATURES_PER_CHECK == 0:
            hooks.check_cancel()
        geometry = feature.GetGeometryRef()
        if geometry is None or geometry.IsEmpty() or geometry.GetDimension() != 2:
            continue
        polygons += 1
        geometry = _on_grid(geometry, transform)
        if geometry is None:
            lost += 1
            continue
        rasterizer.add(geometry, areas_only=True)
        meets = meets or rasterizer.meets(geometry)
    if lost:
        source = crs_label(vector.GetSpatialRef().ExportToWkt())
        onto = f"cannot be taken from its CRS ({source}) onto the hyperspectral layer '{grid_name}'"
        if lost == polygons:
            raise InputError(f"MASK: the {plural(lost, 'polygon')} of '{mask_name}' {onto}. Check the layer's CRS.")
        hooks.warning(f"MASK: {lost:,} of the {plural(polygons, 'polygon')} of '{mask_name}' {onto}, and "
                      f"{agreeing(lost, 'is', 'are')} left out. Check the layer's CRS.")
    if rasterizer.count == 0:  # a polygon layer whose features have no geometry too (a helper's audit of 2026-12-06)
        raise InputError(f"MASK: the layer '{mask_name}' holds no polygon (no feature with a polygon of its own). "
                         "Choose a layer of polygons as the mask.")
    if not meets:  # pretraining said that no pixel inside them had valid values (session of 2026-12-05)
        raise mask_covers_nothing(mask_name, grid_name)
    return rasterizer


def no_features_message(param: str, shown: str) -> str:
    """What to say of a layer of samples or a reference without features (or whose filter selects none)."""
    return (f"{param}: the layer '{shown}' has no features to read samples from (or its filter selects none). Choose "
            "a layer that holds samples, or correct its filter.")


def mask_covers_nothing(mask_name: str, grid_name: str, where: str = "") -> InputError:
    """The error for a mask whose polygons cover no pixel of the grid (`where`: ' in the extent')."""
    advice = "Choose polygons over the scene (and check their CRS)" + (", or an extent that overlaps them" if where
                                                                     else "")
    return InputError(f"MASK: the polygons of '{mask_name}' cover no pixel of the hyperspectral layer '{grid_name}'"
                      f"{where}. {advice}.")
