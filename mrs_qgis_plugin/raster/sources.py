"""Aligned reading of the hyperspectral raster and its auxiliary rasters.

The hyperspectral (HSI) grid is the reference grid. An auxiliary raster on another
grid is warped onto it on the fly through a warped VRT, so nothing is ever copied
in full; every read is a window.
"""

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple, Optional, Sequence

import numpy as np
from osgeo import gdal, osr

from ...model_core.errors import InputError
from ...model_core.hooks import Hooks
from . import TILE_SIZE


MIN_HSI_BANDS = 3

BLOCK_CACHE_BYTES = 64 * 2**20
"""GDAL's block cache while a scene is open. Every block is read about once, so a small
cache loses little, and it keeps memory flat whatever the raster size (GDAL's default,
5 % of the RAM, would fill up with blocks that are never read again)."""

_NM_UNITS = {"nanometers", "nanometer", "nanometres", "nanometre", "nm"}
_UM_UNITS = {"micrometers", "micrometer", "micrometres", "micrometre", "microns", "micron", "um", "µm"}
_MICROMETRE_GUESS_LIMIT = 30.0
"""Wavelengths without units and all below this are taken as micrometres."""
_EDGE = 1e-6
"""Pixel fraction by which a rectangle may cross a pixel edge without touching that pixel."""
MAX_COORDINATE = 1e9
"""Largest coordinate that is reprojected. No CRS on Earth reaches it (in metres, feet or
degrees), and PROJ never returns on some coordinates beyond it (a longitude of 1e30
radians is wrapped into -pi..pi one turn at a time)."""


@dataclass(frozen=True)
class RasterInput:
    path: str
    name: str


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


def gdal_call(function: Callable, *args, **kwargs) -> tuple[object, str]:
    """Runs a GDAL function quietly, whether or not GDAL exceptions are enabled.

    Returns the result (None on failure) and GDAL's last error message.
    """
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    gdal.ErrorReset()
    try:
        return function(*args, **kwargs), gdal.GetLastErrorMsg()
    except RuntimeError as error:
        return None, str(error)
    finally:
        gdal.PopErrorHandler()


@contextmanager
def gdal_pam(enabled: Optional[str]) -> Iterator[None]:
    """GDAL_PAM_ENABLED for the datasets this thread opens inside the block (None: the
    process-wide setting). GDAL reads the setting when it opens a dataset, and a dataset
    opened without it never writes an .aux.xml file."""
    previous = gdal.GetThreadLocalConfigOption("GDAL_PAM_ENABLED", None)
    gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", enabled)
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", previous)


@contextmanager
def inputs_left_untouched() -> Iterator[None]:
    """While the block runs, no raster this thread opens gets an .aux.xml file beside it.

    QGIS computes statistics and histograms of every raster layer it loads (for its
    rendering), and GDAL saves them in `<raster>.aux.xml` beside the input (GDAL's
    persistent auxiliary metadata, PAM): a file the user never asked for, in a folder
    that may be shared or version-controlled. Front ends wrap their layer handling in
    this block. The pipeline's own reads (`open_raster`) still read such files (category
    names, nodata), and never change a dataset, so they write none.
    """
    with gdal_pam("NO"):
        yield


def leave_inputs_untouched_in_this_process() -> None:
    """`inputs_left_untouched` for the whole of a process that only runs algorithms
    (qgis_process loads the layers of the command line before any algorithm code runs).
    The pipeline's own datasets still use PAM (`gdal_pam("YES")`)."""
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")


def _subdatasets(dataset: gdal.Dataset) -> list[str]:
    items = dataset.GetMetadata("SUBDATASETS") or {}
    numbered = [(int(re.sub(r"\D", "", key) or 0), value) for key, value in items.items() if key.endswith("_NAME")]
    return [name for _number, name in sorted(numbered)]


def _variables_message(what: str, names: list[str]) -> str:
    return (
        f"{what} holds {len(names)} variables (subdatasets, such as {names[0]}) and no bands of its own. Stack the "
        f"variables into one multi-band raster first (gdalbuildvrt -separate stack.vrt {' '.join(names[:2])} ...) "
        "and choose that, or choose one variable by its subdataset name."
    )


def variables_problem(path: str, what: str) -> Optional[str]:
    """Why a file of several variables (a NetCDF or HDF file with one variable per band, which
    QGIS opens as a mesh or not at all) is not a raster layer, or None when it is not one."""
    with gdal_pam("NO"):
        dataset, _message = gdal_call(gdal.Open, path)
    names = _subdatasets(dataset) if dataset is not None and dataset.RasterCount == 0 else []
    return _variables_message(what, names) if names else None


def read_call(read: Callable, *args, **kwargs) -> tuple[object, str]:
    """`gdal_call` for a read, which fails (None) also when GDAL reports a failure but still
    returns an array: a VRT whose source file is missing gives one full of nodata."""
    result, message = gdal_call(read, *args, **kwargs)
    return (None if gdal.GetLastErrorType() >= gdal.CE_Failure else result), message


def open_raster(path: str, what: str) -> gdal.Dataset:
    """Opens a raster read-only; `what` names it in the error ("The hyperspectral layer 'x'")."""
    with gdal_pam("YES"):
        dataset, message = gdal_call(gdal.Open, path)
        if dataset is not None:
            dataset.GetGeoTransform()  # a GeoTIFF reads its .aux.xml on such a first request, not on opening
    if dataset is None:
        raise InputError(
            f"{what} cannot be opened as a raster ({message or 'unknown format'}). "
            "Choose a raster layer or file that GDAL can read."
        )
    if dataset.RasterCount == 0 and _subdatasets(dataset):
        raise InputError(_variables_message(what, _subdatasets(dataset)))
    return dataset


def category_names(band: gdal.Band) -> list[str]:
    """The band's category names ([] when it has none).

    GDAL 3.6 answers None when GetCategoryNames() is the first thing asked of a GeoTIFF
    band: the band's .aux.xml, where a GeoTIFF keeps them, is read on the first other
    request. Asking for the description first makes it read that file."""
    band.GetDescription()
    return list(band.GetCategoryNames() or [])


def srs_from_wkt(wkt: str) -> osr.SpatialReference | None:
    """A spatial reference with x = easting/longitude axis order, or None when wkt is empty."""
    if not wkt:
        return None
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def crs_label(wkt: str) -> str:
    srs = srs_from_wkt(wkt)
    if srs is None:
        return "no CRS"
    code = srs.GetAuthorityCode(None)
    authority = srs.GetAuthorityName(None)
    return f"{authority}:{code}" if authority and code else (srs.GetName() or "custom CRS")


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
        geotransform = dataset.GetGeoTransform(can_return_null=True)
        return cls(
            dataset.RasterXSize,
            dataset.RasterYSize,
            tuple(geotransform or (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)),
            dataset.GetProjection() or "",
            geotransform is not None,
        )

    @property
    def north_up(self) -> bool:
        return self.geotransform[2] == 0 and self.geotransform[4] == 0

    def bounds(self) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax of the grid's corners."""
        xs, ys = zip(*(gdal.ApplyGeoTransform(self.geotransform, c, r) for c in (0, self.width) for r in (0, self.height)))
        return min(xs), min(ys), max(xs), max(ys)

    def pixel_bounds(self, bounds: tuple[float, float, float, float]) -> Window | None:
        """The pixels that a georeferenced rectangle touches, clipped to the grid; None when none."""
        inverse = gdal.InvGeoTransform(self.geotransform)
        xmin, ymin, xmax, ymax = bounds
        cols, rows = zip(*(gdal.ApplyGeoTransform(inverse, x, y) for x in (xmin, xmax) for y in (ymin, ymax)))
        if not all(math.isfinite(value) for value in cols + rows):
            return None
        col0, row0 = max(math.floor(min(cols) + _EDGE), 0), max(math.floor(min(rows) + _EDGE), 0)
        col1, row1 = min(math.ceil(max(cols) - _EDGE), self.width), min(math.ceil(max(rows) - _EDGE), self.height)
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
        tolerance = 1e-6 * max(abs(v) for v in self.geotransform[1:3] + self.geotransform[4:6])
        close = all(abs(a - b) <= tolerance for a, b in zip(self.geotransform, other.geotransform))
        return close and self.same_crs(other)


def reprojectable(bounds: tuple[float, ...]) -> bool:
    """Whether coordinates within these bounds can be handed to PROJ (see MAX_COORDINATE)."""
    return all(abs(value) <= MAX_COORDINATE for value in bounds)


def _bounds_in(source: Grid, target: Grid, name: str) -> tuple[float, float, float, float]:
    bounds = source.bounds()
    if source.same_crs(target):
        return bounds
    if not reprojectable(bounds):
        raise InputError(
            f"The layer '{name}' lies at {_format_bounds(bounds)} in {crs_label(source.crs_wkt)}, far "
            "outside the area of that CRS, so it cannot be reprojected. Check its georeferencing (geotransform and CRS)."
        )
    transform = osr.CoordinateTransformation(srs_from_wkt(source.crs_wkt), srs_from_wkt(target.crs_wkt))
    return tuple(transform.TransformBounds(*bounds, 21))


def _coordinate(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) < 1e12 else f"{value:.6g}"


def _format_bounds(bounds: tuple[float, float, float, float]) -> str:
    xmin, ymin, xmax, ymax = map(_coordinate, bounds)
    return f"x {xmin}..{xmax}, y {ymin}..{ymax}"


def align(
    dataset: gdal.Dataset,
    name: str,
    grid: Grid,
    grid_name: str,
    hooks: Hooks,
    categorical: bool = False,
) -> gdal.Dataset:
    """The dataset itself when it lies on `grid`, else a warped VRT of it on that grid.

    Continuous data are resampled bilinearly into Float32 with NaN outside the source
    and on its nodata; categorical data (labels) with the nearest neighbour, keeping
    their data type, with 0 outside the source and on its nodata.
    """
    source = Grid.of(dataset)
    if source.matches(grid):
        return dataset
    if not (source.georeferenced and grid.georeferenced):
        missing = name if not source.georeferenced else grid_name
        raise InputError(
            f"The layer '{missing}' has no georeferencing and its size differs from the other layer "
            f"('{grid_name}' {grid.width} x {grid.height}, '{name}' {source.width} x {source.height} pixels), "
            "so they cannot be aligned. Georeference it or resample it onto the grid of "
            f"'{grid_name}'."
        )
    if not grid.north_up:
        raise InputError(
            f"The layer '{grid_name}' has a rotated grid, onto which '{name}' cannot be warped. "
            f"Warp '{grid_name}' to a north-up grid first (Raster > Projections > Warp)."
        )
    source_bounds = _bounds_in(source, grid, name)
    target_bounds = grid.bounds()
    if (
        source_bounds[0] >= target_bounds[2]
        or source_bounds[2] <= target_bounds[0]
        or source_bounds[1] >= target_bounds[3]
        or source_bounds[3] <= target_bounds[1]
    ):
        raise InputError(
            f"The layers '{grid_name}' and '{name}' do not overlap: '{grid_name}' covers "
            f"{_format_bounds(target_bounds)} and '{name}' covers {_format_bounds(source_bounds)} "
            f"(in the CRS of '{grid_name}', {crs_label(grid.crs_wkt)}). "
            "Choose layers of the same area, and check that each has the right CRS."
        )
    crs = grid.crs_wkt or source.crs_wkt
    options = dict(
        format="VRT",
        outputBounds=target_bounds,
        width=grid.width,
        height=grid.height,
        resampleAlg="near" if categorical else "bilinear",
        dstNodata=0 if categorical else "nan",
        warpOptions=["UNIFIED_SRC_NODATA=NO"],
    )
    if crs:
        options.update(srcSRS=source.crs_wkt or crs, dstSRS=crs)
    if not categorical:
        options["outputType"] = gdal.GDT_Float32
    warped, message = gdal_call(gdal.Warp, "", dataset, **options)
    if warped is None:
        raise InputError(
            f"The layer '{name}' cannot be warped onto the grid of '{grid_name}' ({message}). "
            "Check its CRS, or resample it onto that grid first."
        )
    resampling = "nearest neighbour" if categorical else "bilinear"
    hooks.log(
        f"'{name}' ({crs_label(source.crs_wkt)}, {source.width} x {source.height} pixels) is warped on the fly "
        f"onto the grid of '{grid_name}' ({crs_label(grid.crs_wkt)}, {grid.width} x {grid.height} pixels), "
        f"{resampling} resampling."
    )
    if not source.crs_wkt or not grid.crs_wkt:
        hooks.log(f"One of '{name}' and '{grid_name}' has no CRS; both are taken to be in the same CRS.")
    covered = (
        source_bounds[0] <= target_bounds[0]
        and source_bounds[1] <= target_bounds[1]
        and source_bounds[2] >= target_bounds[2]
        and source_bounds[3] >= target_bounds[3]
    )
    if not covered:
        hooks.log(f"'{name}' covers only part of '{grid_name}'; the pixels outside it are nodata.")
    return warped


def data_bands(dataset: gdal.Dataset) -> list[int]:
    """1-based numbers of the bands that hold data (alpha bands are masks, not data)."""
    return [
        number
        for number in range(1, dataset.RasterCount + 1)
        if dataset.GetRasterBand(number).GetColorInterpretation() != gdal.GCI_AlphaBand
    ]


def check_real(dataset: gdal.Dataset, bands: list[int], what: str) -> None:
    """Refuse complex-valued bands (SAR in single-look complex form): read as real numbers,
    they would silently lose their imaginary part."""
    complex_band = next((n for n in bands if gdal.DataTypeIsComplex(dataset.GetRasterBand(n).DataType)), None)
    if complex_band is not None:
        type_name = gdal.GetDataTypeName(dataset.GetRasterBand(complex_band).DataType)
        raise InputError(
            f"{what} holds complex numbers (band {complex_band} is {type_name}), of which only the real part would "
            "be read. Convert it to amplitude or intensity first (for example abs() in the Raster Calculator, or "
            "gdal_calc.py), and choose that raster."
        )


class _Source:
    """The data bands of one input, on the reference grid, with their nodata rules."""

    def __init__(self, original: gdal.Dataset, aligned: gdal.Dataset, name: str) -> None:
        self.name = name
        self._original = original
        self._dataset = aligned
        self.bands = data_bands(original)
        bands = [original.GetRasterBand(number) for number in self.bands]
        warped = aligned is not original
        self._nodata = [None if warped else band.GetNoDataValue() for band in bands]
        self._dataset_mask = not warped and bool(bands[0].GetMaskFlags() & gdal.GMF_PER_DATASET)
        self._scale = [band.GetScale() or 1.0 for band in bands]
        self._offset = [band.GetOffset() or 0.0 for band in bands]
        self.descriptions = [band.GetDescription().strip() for band in bands]

    def read(self, window: Window, out: np.ndarray, valid: np.ndarray) -> None:
        """Reads the window into out (bands, h, w) and clears valid where a band is nodata."""
        result, message = read_call(self._dataset.ReadAsArray, *window, buf_obj=out, band_list=self.bands)
        if result is None:
            raise InputError(f"Reading the layer '{self.name}' failed ({message}). Check that the file is complete and readable.")
        for index, (nodata, scale, offset) in enumerate(zip(self._nodata, self._scale, self._offset)):
            band = out[index]
            if nodata is not None:
                valid &= band != np.float32(nodata)
            with np.errstate(over="ignore", invalid="ignore"):  # what overflows is not finite: invalid
                if scale != 1.0:
                    band *= np.float32(scale)
                if offset != 0.0:
                    band += np.float32(offset)
        if self._dataset_mask:
            mask = self._dataset.GetRasterBand(self.bands[0]).GetMaskBand().ReadAsArray(*window)
            valid &= mask > 0

    def coverage(self, window: Window) -> tuple[int, float]:
        """GDAL's data coverage status flags of the window in the first data band, and the
        percentage it knows to hold data; "may hold data" when GDAL cannot tell (a VRT whose
        source is missing), so that reading it reports the cause."""
        status, _message = read_call(self._dataset.GetRasterBand(self.bands[0]).GetDataCoverageStatus, *window)
        return status or (gdal.GDAL_DATA_COVERAGE_STATUS_DATA, 100.0)

    def close(self) -> None:
        self._dataset = self._original = None


def _parse_numbers(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(item) for item in re.split(r"[,\s]+", text.strip().strip("{}").strip()) if item]
    except ValueError:
        return None


def read_wavelengths(dataset: gdal.Dataset, bands: list[int], name: str, hooks: Hooks) -> list[float] | None:
    """Band centres in nm from per-band `wavelength` items or an ENVI-style `wavelength` list."""
    items = [dataset.GetRasterBand(number).GetMetadataItem("wavelength") for number in bands]
    values = _parse_numbers(",".join(items)) if all(items) else None
    units = dataset.GetRasterBand(bands[0]).GetMetadataItem("wavelength_units") or dataset.GetMetadataItem(
        "wavelength_units"
    )
    if values is None:
        for domain in ("", "ENVI"):
            values = _parse_numbers(dataset.GetMetadataItem("wavelength", domain))
            units = dataset.GetMetadataItem("wavelength_units", domain)
            if values is not None:
                break
    if values is None:
        return None
    if len(values) != len(bands):
        hooks.log(f"'{name}' lists {len(values)} wavelengths for {len(bands)} bands; the wavelengths are ignored.")
        return None
    if not all(math.isfinite(value) and value > 0 for value in values):
        hooks.log(f"'{name}' lists wavelengths that are not positive numbers; the wavelengths are ignored.")
        return None
    unit = (units or "").strip().lower()
    if unit in _UM_UNITS or (not unit and max(values) < _MICROMETRE_GUESS_LIMIT):
        return [value * 1000.0 for value in values]
    if unit in _NM_UNITS or not unit:
        return values
    hooks.log(f"'{name}' gives wavelengths in '{units}', which is not nm or µm; the wavelengths are ignored.")
    return None


def _check_crs_given(grid: Grid, grid_name: str, dataset: gdal.Dataset, name: str) -> None:
    """Refuse a hyperspectral layer without a CRS next to an auxiliary layer with one: the
    results would have no CRS, and the auxiliary layer would be placed by guesswork."""
    crs = dataset.GetProjection()
    if not grid.crs_wkt and crs:
        raise InputError(
            f"The hyperspectral layer '{grid_name}' has no CRS, but '{name}' has one ({crs_label(crs)}); the "
            f"hyperspectral grid is the grid of every result, so it must say where it lies. Assign '{grid_name}' its "
            "CRS (Layer Properties > Source, or gdal_edit.py -a_srs) and run again."
        )


class Scene:
    """The HSI raster and its auxiliary rasters, read together on the HSI grid."""

    def __init__(self, hsi: RasterInput, sources: list[_Source], grid: Grid, wavelengths: list[float] | None) -> None:
        self.grid = grid
        self.width, self.height = grid.width, grid.height
        self.geotransform = grid.geotransform
        self.crs_wkt = grid.crs_wkt
        self.hsi_name = hsi.name
        self.aux_names = [source.name for source in sources[1:]]
        self.n_hsi = len(sources[0].bands)
        self.n_bands = sum(len(source.bands) for source in sources)
        self.n_aux = self.n_bands - self.n_hsi
        self.band_names = [
            description or f"{source.name} band {number}"
            for source in sources
            for number, description in zip(source.bands, source.descriptions)
        ]
        self.wavelengths = wavelengths
        self._sources = sources
        self._cache_before = gdal.GetCacheMax()
        gdal.SetCacheMax(min(self._cache_before, BLOCK_CACHE_BYTES))

    @classmethod
    def open(cls, hsi: RasterInput, aux: Sequence[RasterInput], hooks: Hooks | None = None) -> "Scene":
        hooks = hooks or Hooks()
        reference = open_raster(hsi.path, f"The hyperspectral layer '{hsi.name}'")
        bands = data_bands(reference)
        if len(bands) < MIN_HSI_BANDS:
            raise InputError(
                f"The hyperspectral layer '{hsi.name}' has {len(bands)} band{'s' if len(bands) != 1 else ''}; "
                f"at least {MIN_HSI_BANDS} are needed. Choose the hyperspectral raster as the hyperspectral input."
            )
        check_real(reference, bands, f"The hyperspectral layer '{hsi.name}'")
        grid = Grid.of(reference)
        sources = [_Source(reference, reference, hsi.name)]
        for item in aux:
            dataset = open_raster(item.path, f"The auxiliary layer '{item.name}'")
            if not data_bands(dataset):
                raise InputError(f"The auxiliary layer '{item.name}' has no data band. Choose a SAR or LiDAR raster.")
            check_real(dataset, data_bands(dataset), f"The auxiliary layer '{item.name}'")
            _check_crs_given(grid, hsi.name, dataset, item.name)
            sources.append(_Source(dataset, align(dataset, item.name, grid, hsi.name, hooks), item.name))
        wavelengths = read_wavelengths(reference, bands, hsi.name, hooks)
        scene = cls(hsi, sources, grid, wavelengths)
        spectral = f", {wavelengths[0]:.0f}-{wavelengths[-1]:.0f} nm" if wavelengths else ", no wavelengths"
        hooks.log(
            f"Scene: {scene.width} x {scene.height} pixels, {scene.n_hsi} bands from '{hsi.name}'{spectral}"
            + "".join(f", {len(s.bands)} from '{s.name}'" for s in sources[1:])
            + "."
        )
        return scene

    @classmethod
    def single(cls, raster: RasterInput) -> "Scene":
        """One raster on its own grid (a class map, say), read like a scene: nodata is invalid."""
        dataset = open_raster(raster.path, f"The layer '{raster.name}'")
        return cls(raster, [_Source(dataset, dataset, raster.name)], Grid.of(dataset), None)

    @property
    def window(self) -> Window:
        """The whole grid."""
        return Window(0, 0, self.width, self.height)

    @property
    def layer_names(self) -> str:
        """The input layers for messages: 'hsi', 'dsm'."""
        return ", ".join(f"'{name}'" for name in [self.hsi_name, *self.aux_names])

    def holds_data(self, window: Window) -> bool:
        """False when GDAL knows, without reading, that the hyperspectral layer has no data
        in the window (a part of a sparse VRT or GeoTIFF where nothing was ever written);
        True when it may have some."""
        status, _percent = self._sources[0].coverage(window)
        return not (status & gdal.GDAL_DATA_COVERAGE_STATUS_EMPTY and not status & gdal.GDAL_DATA_COVERAGE_STATUS_DATA)

    def read(self, col: int, row: int, width: int, height: int, halo: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Data (bands, h + 2 halo, w + 2 halo) float32 and valid (h + 2 halo, w + 2 halo) bool.

        The halo is reflection-padded beyond the image border; invalid pixels hold 0.
        """
        if width < 1 or height < 1 or col < 0 or row < 0 or col + width > self.width or row + height > self.height:
            raise ValueError(f"window {col, row, width, height} is not inside the {self.width} x {self.height} grid")
        col0, row0 = max(col - halo, 0), max(row - halo, 0)
        col1, row1 = min(col + width + halo, self.width), min(row + height + halo, self.height)
        window = Window(col0, row0, col1 - col0, row1 - row0)
        data = np.empty((self.n_bands, window.height, window.width), np.float32)
        valid = np.ones((window.height, window.width), bool)
        start = 0
        for source in self._sources:
            stop = start + len(source.bands)
            source.read(window, data[start:stop], valid)
            start = stop
        valid &= np.isfinite(data).all(axis=0)
        data[:, ~valid] = 0.0
        pad = ((row0 - (row - halo), row + height + halo - row1), (col0 - (col - halo), col + width + halo - col1))
        if any(any(side) for side in pad):
            data = np.pad(data, ((0, 0), *pad), mode="reflect")
            valid = np.pad(valid, pad, mode="reflect")
        return data, valid

    def close(self) -> None:
        for source in self._sources:
            source.close()
        if self._sources:
            gdal.SetCacheMax(self._cache_before)
        self._sources = []

    def __enter__(self) -> "Scene":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def window_from_extent(scene: Scene, extent: tuple[float, float, float, float], parameter: str = "EXTENT") -> Window:
    """The pixels of the scene that a georeferenced extent (xmin, ymin, xmax, ymax, HSI CRS) touches."""
    xmin, ymin, xmax, ymax = extent
    window = scene.grid.pixel_bounds(extent) if xmax > xmin and ymax > ymin else None
    if window is None:
        raise InputError(
            f"The extent {parameter} ({_format_bounds(extent)}) does not overlap the hyperspectral layer "
            f"'{scene.hsi_name}' ({_format_bounds(scene.grid.bounds())}). "
            "Choose an extent inside that layer, or leave it empty to use the whole layer."
        )
    return window
