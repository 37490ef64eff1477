"""Grids (CRS, geotransform, size), windows and blocks on them, and the alignment of a raster
onto the reference grid."""

import math
import textwrap
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np
from osgeo import gdal, osr

from ...model_core.errors import InputError
from ...model_core.hooks import Hooks
from . import TILE_SIZE
from .gdal_io import gdal_call, gdal_quiet, hiding_bands, hiding_selectors

class Window(NamedTuple):
    col: int
    row: int
    width: int
    height: int


def tiles(window: Window, size: int = TILE_SIZE) -> Iterator[Window]:
    """The window cut into blocks of at most size x size pixels, row by row."""
    for row in range(window.row, window.row + window.height, size):
        height = min(size, window.row + window.height - row)
        for col in range(window.col, window.col + window.width, size):
            yield Window(col, row, min(size, window.col + window.width - col), height)


_EDGE = 1e-3
"""Pixel fraction by which a rectangle may cross a pixel edge without touching that pixel: the rounding
of the numbers QGIS's extent widget writes (an EPSG:3857 layer's extent, taken back to the 1 m grid it
was drawn on, crossed a row by 0.03 mm, and the dialog mapped a row more than the layer given by name:
a desktop helper's red team of 2026-12-07)."""
MAX_COORDINATE = 1e9
"""Largest coordinate that is reprojected. No CRS on Earth reaches it (in metres, feet or
degrees), and PROJ never returns on some coordinates beyond it (a longitude of 1e30
radians is wrapped into -pi..pi one turn at a time)."""


def srs_from_wkt(wkt: str) -> osr.SpatialReference | None:
    """A spatial reference with x = easting/longitude axis order, or None when wkt is empty."""
    if not wkt:
        return None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def transformation(source: osr.SpatialReference, target: osr.SpatialReference,
                   operation: str = "") -> tuple[osr.CoordinateTransformation | None, str]:
    """From `source` to `target` (x = easting/longitude both sides): through `operation` (a PROJ
    pipeline in that order, as QGIS gives it) when given, GDAL's own choice otherwise; and GDAL's
    complaint when it cannot be made."""
    if not operation:  # not osr.CoordinateTransformation, whose failure is an object that fails when used
        return gdal_call(osr.CreateCoordinateTransformation, source, target)
    source, target = source.Clone(), target.Clone()
    for srs in (source, target):  # the pipeline takes and gives x, y as they are: no axis swap around it
        srs.SetAxisMappingStrategy(osr.OAMS_AUTHORITY_COMPLIANT)
    options = osr.CoordinateTransformationOptions()
    options.SetOperation(operation)
    return gdal_call(osr.CreateCoordinateTransformation, source, target, options)


def _latitude_first(wkt: str) -> bool:
    """Whether a CRS's own axis order puts latitude (or northing) first, as EPSG:4326's does."""
    srs = srs_from_wkt(wkt)
    return srs is not None and srs.GetDataAxisToSRSAxisMapping()[:2] == [2, 1]


def warp_operation(operation: str, source_wkt: str, target_wkt: str) -> str:
    """`operation` (x = easting/longitude) as gdalwarp takes it: in each CRS's own axis order
    (applied as it is, QGIS's pipeline for EPSG:4326 read latitudes as longitudes)."""
    head, separator, steps = operation.partition(" +step ")
    if not head.startswith("+proj=pipeline"):
        head, separator, steps = "+proj=pipeline", " +step ", operation
    swap = " +step +proj=axisswap +order=2,1"
    return (head + (swap if _latitude_first(source_wkt) else "") + separator + steps
            + (swap if _latitude_first(target_wkt) else ""))


def crs_label(wkt: str) -> str:
    """A CRS in a message: its authority's code, else its name, else its PROJ definition (a CRS made
    from one is named 'unknown': a helper's red team of 2026-12-06 read 'reprojected to unknown')."""
    srs = srs_from_wkt(wkt)
    if srs is None:
        return "no CRS"
    code = srs.GetAuthorityCode(None)
    authority = srs.GetAuthorityName(None)
    if authority and code:
        return f"{authority}:{code}"
    name = srs.GetName()
    if name and name.casefold() != "unknown":
        return name
    with gdal_quiet():
        definition = " ".join((srs.ExportToProj4() or "").split())
    return f"a custom CRS ({textwrap.shorten(definition, 80, placeholder=' ...')})" if definition else "a custom CRS"


PIXEL_SPACE = (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
"""The geotransform GDAL gives a raster that has none: pixel coordinates, rows downwards. A file
that holds it as its geotransform (another tool's output, this plugin's maps before 2026-12-05) is
laid there by QGIS, row r at y = +r (a helper's red team of 2026-12-07)."""
UNGEOREFERENCED = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
"""Where a raster without georeferencing lies: where QGIS lays it, x the column and y minus the row
(its GDAL provider turns GDAL's pixel space upside down), so that a map of it lies on it in QGIS, and
extents and points drawn over it there are where the plugin reads them (red team of 2026-12-05: the
map lay mirrored beside the scene, and points digitised on the scene fell outside it)."""


EARTH_RADIUS_M = 6371008.8
"""The Earth's mean radius, for a pixel's size on the ground (`Grid.ground_pixel_size`)."""


def _on_the_ground(lon: float, lat: float, other_lon: float, other_lat: float) -> float:
    """The great-circle distance in metres between two points given in degrees (haversine)."""
    phi, other_phi = math.radians(lat), math.radians(other_lat)
    half = (math.sin((other_phi - phi) / 2) ** 2
            + math.cos(phi) * math.cos(other_phi) * math.sin(math.radians(other_lon - lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(half)))


@dataclass(frozen=True)
class Grid:
    """A raster grid: size, geotransform and CRS (WKT, empty when unknown)."""

    width: int
    height: int
    geotransform: tuple[float, ...]
    crs_wkt: str
    georeferenced: bool = True

    @classmethod
    def of(cls, dataset: gdal.Dataset) -> "Grid":
        """A raster's grid; one in pixel space (no geotransform, or GDAL's or QGIS's pixel space
        written as one, without a CRS) is not georeferenced and lies where QGIS lays it: at
        UNGEOREFERENCED without a geotransform, else at the one its file holds (one holding
        PIXEL_SPACE was taken to lie at UNGEOREFERENCED, its map mirrored beside it in QGIS: a
        helper's red team of 2026-12-07)."""
        geotransform = dataset.GetGeoTransform(can_return_null=True)
        crs = dataset.GetProjection() or ""
        if geotransform is None:
            return cls(dataset.RasterXSize, dataset.RasterYSize, UNGEOREFERENCED, crs, False)
        pixel_space = not crs and tuple(geotransform) in (PIXEL_SPACE, UNGEOREFERENCED)
        return cls(dataset.RasterXSize, dataset.RasterYSize, tuple(geotransform), crs, not pixel_space)

    def ground_pixel_size(self) -> float | None:
        """A pixel's side on the ground in metres: the geometric mean of its two sides
        (`ground_pixel_sides`); None where they are not known."""
        sides = self.ground_pixel_sides()
        return math.sqrt(sides[0] * sides[1]) if sides else None

    def ground_pixel_sides(self) -> tuple[float, float] | None:
        """A pixel's sides on the ground in metres, across (along a row) and down (along a column),
        measured at the grid's centre on a sphere of the Earth's mean radius, whatever the CRS (Web
        Mercator's pixels are larger on its map than on the ground: review of 2026-12-05); a local
        CRS's in its linear unit; None for a grid without a CRS or one whose centre cannot be placed."""
        srs = osr.SpatialReference()
        if not (self.georeferenced and self.crs_wkt) or srs.ImportFromWkt(self.crs_wkt) != 0:
            return None
        g = self.geotransform
        if srs.IsLocal():
            sides = (math.hypot(g[1], g[4]) * srs.GetLinearUnits(), math.hypot(g[2], g[5]) * srs.GetLinearUnits())
        elif srs.IsProjected() or srs.IsGeographic():
            sides = self._sides_on_the_earth(srs)
        else:
            return None
        return sides if sides and all(math.isfinite(side) and side > 0 for side in sides) else None

    def _sides_on_the_earth(self, srs: osr.SpatialReference) -> tuple[float, float] | None:
        """`ground_pixel_sides` of a projected or geographic CRS."""
        geographic = srs.CloneGeogCS()
        for system in (srs, geographic):
            system.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        col, row = self.width / 2, self.height / 2
        corners = [gdal.ApplyGeoTransform(self.geotransform, c, r) for c, r in ((col, row), (col + 1, row), (col, row + 1))]
        try:
            with gdal_quiet():  # PROJ's 'Point outside of projection domain' reached the log (the same audit)
                transform = osr.CoordinateTransformation(srs, geographic)
                (lon, lat, _), *others = [transform.TransformPoint(x, y) for x, y in corners]
        except (RuntimeError, TypeError):
            return None
        points = [(lon, lat), *(other[:2] for other in others)]
        if not all(math.isfinite(x) and math.isfinite(y) and abs(y) <= 90 for x, y in points):
            return None  # beyond its projection: PROJ's inf (x = 1e20 in UTM: an audit), a latitude of 200 (its review)
        across, down = (_on_the_ground(lon, lat, other_lon, other_lat) for other_lon, other_lat, _ in others)
        return across, down

    @property
    def rotated(self) -> bool:
        return self.geotransform[2] != 0 or self.geotransform[4] != 0

    @property
    def looks_north_up(self) -> bool:
        """North-up but for a skew within a millionth of a pixel, which maps as north-up (a skew of 1e-9
        was warned of as a rotated grid: a helper's red team of 2026-12-05)."""
        g, tolerance = self.geotransform, 1e-6 * self.step
        return abs(g[2]) <= tolerance and abs(g[4]) <= tolerance and g[1] > 0 and g[5] < 0

    @property
    def step(self) -> float:
        """The largest of the geotransform's steps: a pixel's size, on a rotated grid its longest part."""
        return max(abs(value) for value in self.geotransform[1:3] + self.geotransform[4:6])

    def pixel_coordinates(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pixel coordinates (column, row; 2.5 is the middle of column 2) of points of the grid's CRS."""
        inverse = gdal.InvGeoTransform(self.geotransform)
        return inverse[0] + inverse[1] * xs + inverse[2] * ys, inverse[3] + inverse[4] * xs + inverse[5] * ys

    def bounds(self) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax of the grid's corners."""
        xs, ys = zip(*(gdal.ApplyGeoTransform(self.geotransform, c, r) for c in (0, self.width) for r in (0, self.height)))
        return min(xs), min(ys), max(xs), max(ys)

    def pixel_bounds(self, bounds: tuple[float, float, float, float]) -> Window | None:
        """The pixels that a georeferenced rectangle touches, clipped to the grid; None when none."""
        inverse = gdal.InvGeoTransform(self.geotransform)
        xmin, ymin, xmax, ymax = bounds
        cols, rows = zip(*(gdal.ApplyGeoTransform(inverse, x, y) for x in (xmin, xmax) for y in (ymin, ymax)))
        if any(math.isnan(value) for value in cols + rows):
            return None
        # a side far beyond the grid, up to infinity in pixels, is clipped to it (a mutation audit of 2026-12-07:
        # an extent to x = 1e308 on pixels of 0.5 m was said not to overlap the layer it covers)
        cols = [min(max(value, -1.0), self.width + 1.0) for value in cols]
        rows = [min(max(value, -1.0), self.height + 1.0) for value in rows]
        col0, col1 = _touched(min(cols), max(cols), self.width)
        row0, row1 = _touched(min(rows), max(rows), self.height)
        if col1 <= col0 or row1 <= row0:
            return None
        return Window(col0, row0, col1 - col0, row1 - row0)

    def same_crs(self, other: "Grid") -> bool:
        mine, theirs = srs_from_wkt(self.crs_wkt), srs_from_wkt(other.crs_wkt)
        return mine is None or theirs is None or bool(mine.IsSame(theirs))

    def matches(self, other: "Grid") -> bool:
        if (self.width, self.height) != (other.width, other.height):
            return False
        if not (self.georeferenced and other.georeferenced):
            return True
        tolerance = 1e-6 * self.step
        close = all(abs(a - b) <= tolerance for a, b in zip(self.geotransform, other.geotransform))
        return close and self.same_crs(other)


def _touched(low: float, high: float, size: int) -> tuple[int, int]:
    """The first and past-the-last pixel that a span of pixel coordinates touches, within 0..size: it
    may cross an edge by `_EDGE` without touching the pixel beyond. A span thinner than that takes the
    pixel it lies in, on an edge the one after it, on the grid's far edge the last (a helper's red team
    of 2026-12-05: an extent of 1e-7 m on a pixel edge, inside the layer, was said not to overlap it)."""
    if high - low <= 2 * _EDGE:
        middle = (low + high) / 2
        first = size - 1 if abs(middle - size) <= _EDGE else math.floor(middle + _EDGE)
        return max(first, 0), min(first + 1, size)
    return max(math.floor(low + _EDGE), 0), min(math.ceil(high - _EDGE), size)


def pixel_centres(geotransform: tuple[float, ...], rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates (x, y) of the centres of the pixels at `rows`, `cols` of a grid."""
    x0, dx_col, dx_row, y0, dy_col, dy_row = geotransform
    cols, rows = cols + 0.5, rows + 0.5
    return x0 + cols * dx_col + rows * dx_row, y0 + cols * dy_col + rows * dy_row


def reprojectable(bounds: tuple[float, ...]) -> bool:
    """Whether coordinates within these bounds can be handed to PROJ (see MAX_COORDINATE)."""
    return all(abs(value) <= MAX_COORDINATE for value in bounds)


NO_TRANSFORMATION = ("no transformation between them is known, as a local CRS (an ENVI header's map info "
                     "'Arbitrary', say) lies nowhere on Earth")
"""Why a CRS cannot be transformed into another, said where GDAL gives none."""


def extent_not_transformable(extent_wkt: str, layer_name: str, layer_wkt: str) -> InputError | None:
    """The refusal of an EXTENT written in a CRS that cannot be transformed into the hyperspectral
    layer's (a local one), or None: QGIS takes its numbers as they stand (false-alarm hunt of 2026-12-05)."""
    if transformation(srs_from_wkt(extent_wkt), srs_from_wkt(layer_wkt))[0] is not None:
        return None
    extent, layer = _told_apart(extent_wkt, layer_wkt)
    return InputError(f"EXTENT: its CRS ({extent}) cannot be transformed into that of the hyperspectral layer "
                      f"'{layer_name}' ({layer}): {NO_TRANSFORMATION}. Write the extent in the layer's own "
                      "coordinates, without a CRS.")


def extent_beyond_its_crs(bounds: tuple[float, float, float, float], extent_wkt: str, layer_name: str,
                          layer_wkt: str) -> InputError:
    """The refusal of an EXTENT whose numbers its own CRS cannot take into the hyperspectral layer's (metres
    written with EPSG:4326): said with the numbers as written, not as the transformation's inf (a helper's
    audit of 2026-12-06: 'The extent EXTENT (x inf..inf, y inf..inf) is not four finite numbers')."""
    extent, layer = _told_apart(extent_wkt, layer_wkt)
    return InputError(f"EXTENT: {format_bounds(bounds)} in {extent} cannot be taken into the CRS of the hyperspectral "
                      f"layer '{layer_name}' ({layer}): they lie beyond what {extent} places on Earth. Check the "
                      "numbers and the CRS written after them.")


def extent_without_area(bounds: tuple[float, float, float, float], extent_wkt: str | None = None
                        ) -> InputError | None:
    """The refusal of an extent that is empty or inverted, with the CRS it is written in where not the
    hyperspectral layer's (`extent_wkt`), or None: taken into another CRS first, a click without a drag
    in EPSG:4326 (0,0,0,0) was quoted as x -505646.899516..-505646.899516 (a desktop helper's red team of
    2026-12-07)."""
    xmin, ymin, xmax, ymax = bounds
    if xmax > xmin and ymax > ymin:
        return None
    where = f" in {crs_label(extent_wkt)}" if extent_wkt is not None else ""
    return InputError(f"The extent EXTENT ({format_bounds(bounds)}{where}) is empty or inverted: its minimum x and y "
                      "must be below its maximum x and y. Draw the extent again, or write it as xmin,xmax,ymin,ymax.")


def extent_taken_into(given: tuple[float, float, float, float], extent_wkt: str,
                      bounds: tuple[float, float, float, float], layer_name: str, layer_wkt: str) -> str:
    """What an EXTENT in another CRS than the hyperspectral layer's becomes: the box around it in the
    layer's CRS, larger than the area drawn where the two CRSs are turned against each other (an own bad
    input of 2026-12-07: an extent in EPSG:4326 mapped 33 x 35 pixels without a word of its CRS)."""
    extent, layer = _told_apart(extent_wkt, layer_wkt)
    return (f"EXTENT ({format_bounds(given)} in {extent}) is taken into the CRS of the hyperspectral layer "
            f"'{layer_name}' ({layer}) as the box around it: {format_bounds(bounds)}.")


def _told_apart(first_wkt: str, second_wkt: str) -> tuple[str, str]:
    """The two CRSs' labels, with their units where the labels alone are alike (two local CRSs
    'Arbitrary', one in metres and one in feet: false-alarm hunt of 2026-12-05)."""
    first, second = crs_label(first_wkt), crs_label(second_wkt)
    if first != second:
        return first, second
    first_units, second_units = (srs.GetLinearUnitsName() if (srs := srs_from_wkt(wkt)) is not None else ""
                                 for wkt in (first_wkt, second_wkt))
    return f"{first}, in {first_units}", f"{second}, in {second_units}"


def no_transformation(name: str, source_wkt: str, grid_name: str, grid_wkt: str) -> InputError:
    """The refusal of a layer whose CRS cannot be transformed into the grid's (a local CRS)."""
    source, grid = _told_apart(source_wkt, grid_wkt)
    return InputError(
        f"The layer '{name}' ({source}) cannot be placed on the grid of '{grid_name}' ({grid}): "
        f"{NO_TRANSFORMATION.replace('them', 'their CRSs')}. Give each layer the CRS it is in (in QGIS, Layer "
        "Properties > Source; for a raster file, gdal_edit -a_srs).")


def _bounds_in(source: Grid, target: Grid, name: str, grid_name: str) -> tuple[float, float, float, float]:
    bounds = source.bounds()
    if source.same_crs(target):
        return bounds
    if not reprojectable(bounds):
        raise InputError(
            f"The layer '{name}' lies at {format_bounds(bounds)} in {crs_label(source.crs_wkt)}, far "
            "outside the area of that CRS, so it cannot be reprojected. Check its georeferencing (geotransform and CRS)."
        )
    transform, _problem = transformation(srs_from_wkt(source.crs_wkt), srs_from_wkt(target.crs_wkt))
    if transform is None:
        raise no_transformation(name, source.crs_wkt, grid_name, target.crs_wkt)
    return tuple(transform.TransformBounds(*bounds, 21))


def window_under(source: Grid, grid: Grid, name: str = "", grid_name: str = "") -> Window | None:
    """The window of `grid`'s pixels that `source`'s bounds cover, carried into `grid`'s CRS; None
    when it cannot be told (no georeferencing, bounds that cannot be carried) or they cover none."""
    if not (source.georeferenced and grid.georeferenced):
        return None
    try:
        return grid.pixel_bounds(_bounds_in(source, grid, name, grid_name))
    except (InputError, RuntimeError):
        return None


def covered_window(source: Grid, grid: Grid, name: str, grid_name: str) -> Window | None:
    """The window of `grid` a raster warped onto it can give data in (`window_under`, one pixel more
    on each side for the warp's reach), or None when it cannot be told: a scene's sample of valid
    pixels read a whole 2 GB hyperspectral raster of which the LiDAR covered 2.5 % (red team of
    2026-12-05)."""
    found = window_under(source, grid, name, grid_name)
    if found is None:
        return None
    col0, row0 = max(found.col - 1, 0), max(found.row - 1, 0)
    col1, row1 = min(found.col + found.width + 1, grid.width), min(found.row + found.height + 1, grid.height)
    return Window(col0, row0, col1 - col0, row1 - row0)


def _coordinate(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) < 1e12 else f"{value:.6g}"


def layer_without_area(name: str, path: str, bounds: tuple[float, float, float, float]) -> InputError:
    """The refusal of a layer given as EXTENT whose features span no area (one point, or a line along
    an axis: it was 'empty or inverted: draw the extent again', red team of 2026-12-05), or that has
    no feature with a geometry (no bounds, or QGIS's null extent)."""
    if not all(math.isfinite(value) for value in bounds) or bounds[0] > bounds[2] or bounds[1] > bounds[3]:
        return InputError(f"EXTENT: the layer '{name}' ({path}) has no feature with a geometry, so no extent; give "
                          "another layer, or xmin,xmax,ymin,ymax.")
    return InputError(f"EXTENT: the features of the layer '{name}' ({path}) span no area ({format_bounds(bounds)}); "
                      "give a layer of an area, or xmin,xmax,ymin,ymax.")


def format_bounds(bounds: tuple[float, float, float, float]) -> str:
    xmin, ymin, xmax, ymax = map(_coordinate, bounds)
    return f"x {xmin}..{xmax}, y {ymin}..{ymax}"


def layout_text(grid: Grid) -> str:
    """How a grid that is not north-up lies: 'a rotated grid', 'a flipped grid (pixel size ...)'."""
    return ("a rotated grid" if grid.rotated else
            f"a flipped grid (pixel size {_coordinate(grid.geotransform[1])} x "
            f"{_coordinate(grid.geotransform[5])}: rows from south to north, or columns from east to west)")


def _overlapping_bounds(source: Grid, grid: Grid, name: str, grid_name: str
                        ) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
    """The bounds of `source` (in the grid's CRS) and of `grid`; refuses a raster that cannot be
    warped onto the grid (no georeferencing, a rotated grid, no overlap) in one sentence."""
    if not (source.georeferenced and grid.georeferenced):
        missing = name if not source.georeferenced else grid_name
        resample = (f"resample it onto the grid of '{grid_name}'" if missing == name else  # not onto its own grid
                    f"resample '{name}' to its size")  # (a helper's red team of 2026-12-07)
        raise InputError(
            f"The layer '{missing}' has no georeferencing and its size differs from the other layer "
            f"('{grid_name}' {grid.width} x {grid.height}, '{name}' {source.width} x {source.height} pixels), "
            f"so they cannot be aligned. Georeference it or {resample}."
        )
    if not grid.looks_north_up:
        raise InputError(
            f"The layer '{grid_name}' has {layout_text(grid)}, onto which '{name}' cannot be warped. "
            f"Warp '{grid_name}' to a north-up grid first (Raster > Projections > Warp)."
        )
    source_bounds = _bounds_in(source, grid, name, grid_name)
    target_bounds = grid.bounds()
    if (
        source_bounds[0] >= target_bounds[2]
        or source_bounds[2] <= target_bounds[0]
        or source_bounds[1] >= target_bounds[3]
        or source_bounds[3] <= target_bounds[1]
    ):
        raise InputError(
            f"The layers '{grid_name}' and '{name}' do not overlap: '{grid_name}' covers "
            f"{format_bounds(target_bounds)} and '{name}' covers {format_bounds(source_bounds)} "
            f"(in the CRS of '{grid_name}', {crs_label(grid.crs_wkt)}). "
            "Choose layers of the same area, and check that each has the right CRS."
        )
    return source_bounds, target_bounds


def _alpha_scale(dataset: gdal.Dataset) -> list[str]:
    """The warp option that scales a last alpha band by its own largest value, as the layer read on
    its own grid takes every alpha above 0 for opaque: gdalwarp, which leaves the pixels it hides out
    of the resampling, weighs alpha as 0-255, so a float alpha of 0 and 1 blanked the whole map (red
    team of 2026-12-04), and a byte alpha of 0 and 1 every pixel warped. The largest value is exact:
    GDAL's approximate one, from a sample of lines, missed a narrow opaque strip (mutation audit of
    2026-12-06)."""
    last = dataset.GetRasterBand(dataset.RasterCount)
    if last.GetColorInterpretation() != gdal.GCI_AlphaBand:
        return []
    extremes, _message = gdal_call(last.ComputeRasterMinMax, False)
    return [f"SRC_ALPHA_MAX={extremes[1]:.17g}"] if extremes and extremes[1] > 0 else []


def align(
    dataset: gdal.Dataset,
    name: str,
    grid: Grid,
    grid_name: str,
    hooks: Hooks,
    categorical: bool = False,
    operation: str = "",
) -> gdal.Dataset:
    """The dataset itself when it lies on `grid`, else a warped VRT of it on that grid, through
    `operation` (a PROJ pipeline, x = easting: the one QGIS draws the layer with) when given.

    Continuous data are resampled bilinearly into Float32 with NaN outside the source
    and on its nodata; categorical data (labels) with the nearest neighbour, keeping
    their data type, with 0 outside the source and on its nodata. Labels get no nodata
    value but a destination filled with 0 beforehand: since GDAL 3.11 a destination
    nodata of 0 turns the source's own 0 (unlabelled, when it declares no nodata or
    another one) into 1, so that every unlabelled pixel became class 1.
    """
    source = Grid.of(dataset)
    if source.matches(grid):
        if source.georeferenced != grid.georeferenced:  # said as a missing CRS is (red team of 2026-12-04)
            missing, other = (name, grid_name) if grid.georeferenced else (grid_name, name)
            hooks.log(f"'{missing}' has no georeferencing (no pixel grid in its file); as it has the size of "
                      f"'{other}' ({grid.width} x {grid.height} pixels), it is taken to lie on the same pixels.")
        else:
            _say_missing_crs(source, grid, name, grid_name, hooks)
        return dataset
    source_bounds, target_bounds = _overlapping_bounds(source, grid, name, grid_name)
    crs = grid.crs_wkt or source.crs_wkt
    options = dict(
        format="VRT",
        outputBounds=target_bounds,
        width=grid.width,
        height=grid.height,
        resampleAlg="near" if categorical else "bilinear",
        dstNodata="None" if categorical else "nan",
        warpOptions=["UNIFIED_SRC_NODATA=NO", *(["INIT_DEST=0"] if categorical else [])],
        overviewLevel="NONE",  # a finer source's own pixels: GDAL reads its pyramids, stale or not, by default
    )
    if crs:
        options.update(srcSRS=source.crs_wkt or crs, dstSRS=crs)
    if operation and source.crs_wkt and grid.crs_wkt:
        options["coordinateOperation"] = warp_operation(operation, source.crs_wkt, grid.crs_wkt)
    if not categorical:
        options["outputType"] = gdal.GDT_Float32
    options["warpOptions"] += _alpha_scale(dataset)
    warped, message = gdal_call(gdal.Warp, "", dataset, **options)
    if warped is None:
        raise InputError(
            f"The layer '{name}' cannot be warped onto the grid of '{grid_name}' ({message}). "
            "Check its CRS, or resample it onto that grid first."
        )
    resampling = "nearest neighbour" if categorical else "bilinear"
    through = ", with the coordinate operation QGIS uses" if "coordinateOperation" in options else ""
    hooks.log(
        f"'{name}' ({crs_label(source.crs_wkt)}, {source.width} x {source.height} pixels) is warped on the fly "
        f"onto the grid of '{grid_name}' ({crs_label(grid.crs_wkt)}, {grid.width} x {grid.height} pixels), "
        f"{resampling} resampling{through}."
    )
    _say_missing_crs(source, grid, name, grid_name, hooks)
    # by pixel centres, as the warp takes them: a shift of half a pixel leaves none nodata (helper, 2026-12-05)
    g = grid.geotransform  # half a pixel along x and along y (oblong pixels: a review of 2026-12-05)
    half_x, half_y = (abs(g[1]) + abs(g[2])) / 2, (abs(g[4]) + abs(g[5])) / 2
    covered = (
        source_bounds[0] <= target_bounds[0] + half_x
        and source_bounds[1] <= target_bounds[1] + half_y
        and source_bounds[2] >= target_bounds[2] - half_x
        and source_bounds[3] >= target_bounds[3] - half_y
    )
    if not covered:
        hooks.log(f"'{name}' covers only part of '{grid_name}'; the pixels outside it are nodata.")
    return warped


def hiding_on_grid(dataset: gdal.Dataset, aligned: gdal.Dataset, bands: list[int], name: str, grid: Grid,
                   grid_name: str, operation: str = "") -> list[tuple[gdal.Dataset, gdal.Band]]:
    """The bands whose 0 hides a pixel of the data `bands` as `aligned` (`align`) reads them, each with
    the dataset that holds it (to keep open while it is read): the dataset's own (`hiding_bands`) on
    its own grid, else its masks warped with it (`aligned_masks`)."""
    if aligned is dataset:
        return [(dataset, band) for band in hiding_bands(dataset, bands)]
    return [(mask, mask.GetRasterBand(1)) for mask in aligned_masks(dataset, bands, name, grid, grid_name, operation)]


def _say_missing_crs(source: Grid, grid: Grid, name: str, grid_name: str, hooks: Hooks) -> None:
    """Logs that the one of a layer and the grid it is read on that has no CRS is taken to be in the
    other's (on the grid itself, that was read without a word: own bad input of 2026-12-05)."""
    if bool(source.crs_wkt) != bool(grid.crs_wkt):
        missing, other = (name, grid_name) if grid.crs_wkt else (grid_name, name)
        hooks.log(f"'{missing}' has no CRS; it is taken to be in the CRS of '{other}'.")


def aligned_masks(dataset: gdal.Dataset, bands: list[int], name: str, grid: Grid, grid_name: str,
                  operation: str = "") -> list[gdal.Dataset]:
    """The masks and alpha bands that hide pixels of the data `bands` (`hiding_selectors`) warped onto
    `grid` with the nearest neighbour, 0 (hidden) outside the dataset: a warp of the data alone
    ignored a .msk file and an alpha band that is not the last band, and the map classified what
    they hid (red team of 2026-12-04)."""
    masks = []
    for selector in hiding_selectors(dataset, bands):
        single, message = gdal_call(gdal.Translate, "", dataset, options=["-of", "VRT", "-b", selector,
                                                                            "-colorinterp_1", "undefined",
                                                                            "-a_nodata", "none"])
        if single is None:
            raise InputError(f"The mask of the layer '{name}' cannot be read ({message}). Check that its file is "
                             "complete.")
        masks.append(align(single, name, grid, grid_name, Hooks(), categorical=True, operation=operation))
    return masks
