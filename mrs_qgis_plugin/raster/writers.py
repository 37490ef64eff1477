"""The map outputs: tiled, compressed GeoTIFFs with their QGIS styles, written so that
no half-written map ever carries the output's name.

A map is a set of files: `map.tif` (values, colour table, nodata, georeference),
`map.tif.aux.xml` (GDAL keeps a GeoTIFF's category names there) and `map.qml` (the
style QGIS loads with the layer). Each is first written under a hidden temporary
name in the output's folder (`.map.tif.<random>.partial` and its side files) and
renamed into place only once complete. Publishing first removes the old map's side
files, then renames the new GeoTIFF over the old one (one atomic step), then its side
files: a run stopped at any moment leaves the old map or the new one, each either
with its own side files or none, never one map with the other's.
"""

import contextlib
import errno
import json
import os
import re
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal

from ...model_core import MAX_CLASS_VALUE
from ...model_core.atomic import (ReplaceError, disk_full, fsync_file, make_temporary, replace_together, says_too_large,
                                  write_error)
from ...model_core.errors import InputError
from ...model_core.hooks import first_few
from .classes import ClassInfo
from .colours import rgb
from .gdal_io import (CLASS_TABLE_ITEM, category_names, class_colors, class_names, gdal_call, gdal_pam, gdal_quiet,
                      open_raster, written_classes)
from .outputs import PLUGIN_STYLE_START, RASTER_SIDECARS, files_written, qml_path

CLASS_NODATA = 0
# Confidences lie in [0, 1]; -1 marks pixels that were not classified.
CONFIDENCE_NODATA = -1.0
BLOCK_SIZE = 256
WRITER_TAG = "MRS_WRITER"
"""A metadata item of every raster the plugin writes: an existing raster without it is not
replaced (`check_replaceable`)."""
WRITER = "MRS land cover (SS-MAE)"
CLASS_MAP, CONFIDENCE = "class", "confidence"
"""The kinds of raster the plugin writes, as the description of their band."""
CONFIDENCE_TAG, MAP_TAG = "MRS_CONFIDENCE", "MRS_CLASS_MAP"
"""The metadata items with which a class map names the confidence raster written with it and that raster names
the map, so that a map written later over it can say that raster is the earlier map's (a desktop helper's red
team of 2026-12-06: QGIS kept showing it beside the new map, as if it were the new map's)."""
KIND_NAMES = {CLASS_MAP: "land-cover map", CONFIDENCE: "confidence raster"}
_CONFIDENCE_RAMP = ((0.0, "#440154"), (0.25, "#3b528b"), (0.5, "#21918c"), (0.75, "#5ec962"), (1.0, "#fde725"))


def class_data_type(classes: Sequence[ClassInfo]) -> int:
    """The smallest unsigned GDAL type that holds every class value."""
    largest = max(info.value for info in classes)
    for data_type, limit in ((gdal.GDT_Byte, 0xFF), (gdal.GDT_UInt16, 0xFFFF), (gdal.GDT_UInt32, MAX_CLASS_VALUE)):
        if largest <= limit:
            return data_type
    raise InputError(f"The class value {largest} is larger than {MAX_CLASS_VALUE}; renumber the classes.")


class _gdal_errors:  # noqa: N801 - used as a function: `with _gdal_errors(param, path):`
    """GDAL failures inside the block as an InputError naming the output, without
    changing GDAL's exception mode for the rest of the process (QGIS and other
    plugins rely on it), and GDAL's own lines kept quiet (the sentence says it).

    The failure's traceback is let go before the sentence is raised: GDAL's frames in it hold
    the band, and with it the dataset, which would otherwise be closed (and complain of the
    failed file on standard error) only after the run's sentence, when the traceback goes."""

    def __init__(self, param: str, path: str) -> None:
        self.param, self.path = param, path

    def __enter__(self) -> None:
        self.previous, self.messages = gdal.GetUseExceptions(), []
        gdal.UseExceptions()
        gdal.PushErrorHandler(lambda _class, _number, message: self.messages.append(message))

    def __exit__(self, kind: Any, error: Any, trace: Any) -> bool:
        gdal.PopErrorHandler()
        if not self.previous:
            gdal.DontUseExceptions()
        if not isinstance(error, RuntimeError):
            return False
        del trace
        error.__traceback__ = None
        path = self.path
        if disk_full(path):
            raise write_error(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) from None
        if any(says_too_large(message) for message in [str(error), *self.messages]):
            raise write_error(path, OSError(errno.EFBIG, os.strerror(errno.EFBIG))) from None
        if any(os.strerror(errno.EMFILE) in message for message in [str(error), *self.messages]):  # red team of 12-07
            raise write_error(path, OSError(errno.EMFILE, os.strerror(errno.EMFILE))) from None
        raise InputError(f"{self.param}: could not write {path} ({error}); check the folder's free space and "
                         "permissions.") from None


def _remove(path: str) -> None:
    """Removes a temporary file, if it can: one a folder made read-only meanwhile keeps is left for
    the next run to remove, and the run's own error stands (red team of 2026-12-05: a traceback)."""
    with contextlib.suppress(OSError):
        os.remove(path)


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)


class AtomicGeoTiff:
    """A single-band, tiled, compressed GeoTIFF built under a temporary name and
    published over `path` with its `.qml` style. Used as a context manager, whatever
    has not been published when the block ends is removed."""

    def __init__(
        self,
        path: str,
        param: str,
        size: Tuple[int, int],
        data_type: int,
        geotransform: Tuple[float, ...],
        crs_wkt: str,
        nodata: float,
        style: str,
        description: str,
        compress_predictor: int,
    ) -> None:
        self.path = path
        self.param = param
        self._style = style
        self._lock: Optional[int] = None
        self._style_hold: Optional[Tuple[int, str]] = None
        self._partial_files: Tuple[str, ...] = ()
        try:
            self._lock, self._partial = make_temporary(path)
            self._partial_style = self._partial + ".qml"
            self._partial_files = (self._partial, self._partial + ".aux.xml", self._partial_style)
            # Its style's name is held too: a run on 'k.tiff' started at the same time took 'k.qml'
            # as well (red team of 2026-12-04).
            self._style_hold = make_temporary(qml_path(path))
        except OSError as error:
            self.discard()
            raise write_error(path, error) from error
        options = [
            "TILED=YES",
            f"BLOCKXSIZE={BLOCK_SIZE}",
            f"BLOCKYSIZE={BLOCK_SIZE}",
            "COMPRESS=DEFLATE",
            f"PREDICTOR={compress_predictor}",
            "BIGTIFF=IF_SAFER",
        ]
        try:
            with _gdal_errors(param, path), gdal_pam("YES"):  # category names go to the map's .aux.xml
                width, height = size
                self._ds = gdal.GetDriverByName("GTiff").Create(self._partial, width, height, 1, data_type, options)
                self._ds.SetGeoTransform(geotransform)
                if crs_wkt:
                    self._ds.SetProjection(crs_wkt)
                self._ds.SetMetadataItem(WRITER_TAG, WRITER)
                self.band = self._ds.GetRasterBand(1)
                self.band.SetNoDataValue(nodata)
                self.band.SetDescription(description)
        except BaseException:
            self.discard()
            raise

    def __enter__(self) -> "AtomicGeoTiff":
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    def write(self, array: np.ndarray, col: int, row: int) -> None:
        with _gdal_errors(self.param, self.path):
            self.band.WriteArray(array, col, row)

    def close(self) -> None:
        """Flush and close the temporary GeoTIFF and write its temporary style."""
        with _gdal_errors(self.param, self.path):
            self._ds.FlushCache()
            self.band = None
            gdal.ErrorReset()
            self._ds = None
            if gdal.GetLastErrorType() >= gdal.CE_Failure:
                raise RuntimeError(gdal.GetLastErrorMsg())
        try:
            _write_text(self._partial_style, self._style)
            for path in self._partial_files:
                if os.path.exists(path):
                    fsync_file(path)
        except OSError as error:
            raise write_error(self.path, error) from error

    def moves(self) -> List[Tuple[Optional[str], str]]:
        """Its closed temporary files with the names they take, and its output's other side
        files, which an old map's would leave stale (None: removed), for `publish_rasters`."""
        aux = self._partial + ".aux.xml"
        return [(self._partial, self.path), (aux if os.path.exists(aux) else None, self.path + ".aux.xml"),
                (self._partial_style, qml_path(self.path)),
                *((None, self.path + suffix) for suffix in RASTER_SIDECARS if suffix != ".aux.xml")]

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Metadata items of the map's dataset (default domain); what UTF-8 cannot encode (a lone
        surrogate, from a damaged model file) becomes U+FFFD."""
        for key, value in tags.items():
            self._ds.SetMetadataItem(key, re.sub("[\ud800-\udfff]", "\ufffd", value))

    def discard(self) -> None:
        """Remove every temporary file that has not been published and release the temporary
        files' locks (safe to repeat). GDAL's complaints while closing a file it failed to write
        (a full disk, a size limit) are kept quiet: the run's sentence has said what went wrong."""
        with gdal_quiet():
            self.band = None
            self._ds = None
        for path in self._partial_files:
            _remove(path)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        if self._style_hold is not None:
            handle, hold = self._style_hold
            os.close(handle)
            _remove(hold)
            self._style_hold = None


HELD_ELSEWHERE = (errno.EACCES, errno.EPERM, errno.EBUSY, errno.ETXTBSY)
"""The errors of a file that cannot be replaced as another program holds it (Windows says so of an
open file); others (a full disk, a folder gone) are said as any failed write (`write_error`)."""


def publish_rasters(rasters: Sequence[AtomicGeoTiff]) -> None:
    """Moves the closed rasters and their side files over their outputs' names, all or none: a
    map published while its confidence could not be lost the confidence's style (red team of
    2026-12-04)."""
    try:
        replace_together([move for raster in rasters for move in raster.moves()])
    except ReplaceError as error:
        owner = next((raster for raster in rasters if error.path in files_written(raster.path)), rasters[0])
        if error.cause.errno not in HELD_ELSEWHERE:  # a full disk was told to close the map elsewhere (helper, 2026-12-05)
            raise InputError(f"{owner.param}: {write_error(error.path, error.cause)}") from error
        # on Linux an immutable or append-only file or folder (chattr) refuses even root (a helper's red team, 12-07)
        flags = "" if os.name == "nt" or error.cause.errno != errno.EPERM else (
            ", and check that neither it nor its folder is immutable or append-only (lsattr; chattr -i -a)")
        raise InputError(f"{owner.param}: could not replace {error.path} ({error.strerror}); close it in other "
                         f"programs{flags} and run again. Nothing was replaced.") from error


def _qml(renderer: ET.Element) -> str:
    """A style file of the renderer, beginning as every style the plugin writes (`PLUGIN_STYLE_START`)."""
    pipe = ET.Element("pipe")
    pipe.append(renderer)
    return PLUGIN_STYLE_START + ET.tostring(pipe, encoding="unicode") + "</qgis>\n"


def class_qml(classes: Sequence[ClassInfo]) -> str:
    """A QGIS style for a class map: the paletted renderer with each class's value,
    colour and name (QGIS 3.22 does not show GDAL category names by itself)."""
    renderer = ET.Element("rasterrenderer", type="paletted", band="1", opacity="1", alphaBand="-1", nodataColor="")
    palette = ET.SubElement(renderer, "colorPalette")
    for info in sorted(classes, key=lambda item: item.value):
        ET.SubElement(palette, "paletteEntry", value=str(info.value), color=info.color.lower(), alpha="255", label=info.name)
    return _qml(renderer)


def _stretch(parent: ET.Element, tag: str, low: float, high: float) -> None:
    element = ET.SubElement(parent, tag)
    ET.SubElement(element, "minValue").text = f"{low:.8g}"
    ET.SubElement(element, "maxValue").text = f"{high:.8g}"
    ET.SubElement(element, "algorithm").text = "StretchToMinimumMaximum"


def colour_composite_qml(bands: Sequence[int], ranges: Sequence[Tuple[float, float]]) -> str:
    """A QGIS style showing three bands (red, green, blue) stretched over their (low, high) ranges."""
    renderer = ET.Element("rasterrenderer", type="multibandcolor", redBand=str(bands[0]), greenBand=str(bands[1]),
                          blueBand=str(bands[2]), opacity="1", alphaBand="-1", nodataColor="")
    for colour, (low, high) in zip(("red", "green", "blue"), ranges):
        _stretch(renderer, f"{colour}ContrastEnhancement", low, high)
    return _qml(renderer)


def grey_qml(band: int, low: float, high: float) -> str:
    """A QGIS style showing one band in grey, stretched over low..high."""
    renderer = ET.Element("rasterrenderer", type="singlebandgray", grayBand=str(band), gradient="BlackToWhite",
                          opacity="1", alphaBand="-1", nodataColor="")
    _stretch(renderer, "contrastEnhancement", low, high)
    return _qml(renderer)


def confidence_qml() -> str:
    """A QGIS style for a confidence raster: a colour ramp over 0..1."""
    renderer = ET.Element(
        "rasterrenderer",
        type="singlebandpseudocolor",
        band="1",
        opacity="1",
        alphaBand="-1",
        nodataColor="",
        classificationMin="0",
        classificationMax="1",
    )
    shader = ET.SubElement(
        ET.SubElement(renderer, "rastershader"),
        "colorrampshader",
        colorRampType="INTERPOLATED",
        classificationMode="1",
        clip="0",
        minimumValue="0",
        maximumValue="1",
    )
    for value, color in _CONFIDENCE_RAMP:
        ET.SubElement(shader, "item", value=f"{value:g}", color=color, alpha="255", label=f"{value:g}")
    return _qml(renderer)


def class_raster(
    path: str, param: str, size: Tuple[int, int], geotransform: Tuple[float, ...], crs_wkt: str,
    classes: Sequence[ClassInfo], tags: Optional[Mapping[str, str]] = None,
) -> AtomicGeoTiff:
    """A class map of the smallest type that holds the class values, nodata 0, with a
    colour table (0 transparent), category names (empty for unused values) and `tags` as
    the dataset's metadata items.

    GeoTIFF holds colour tables only for Byte and UInt16, so a map with class values
    above 65535 carries its colours in the `.qml` style and in its class table
    (`gdal_io.CLASS_TABLE_ITEM`, which every class map carries) alone."""
    data_type = class_data_type(classes)
    # No compression predictor: differencing breaks up the runs of a class map (files grow by ~10 %).
    out = AtomicGeoTiff(path, param, size, data_type, geotransform, crs_wkt, CLASS_NODATA, class_qml(classes), CLASS_MAP, 1)
    try:
        with _gdal_errors(param, path):
            if tags:
                out.set_tags(tags)
            out.band.SetMetadataItem(CLASS_TABLE_ITEM, json.dumps(
                [[info.value, info.name, info.color] for info in classes], ensure_ascii=False))
            if data_type != gdal.GDT_UInt32:
                _set_palette(out.band, classes)
    except BaseException:
        out.discard()
        raise
    return out


def _set_palette(band: gdal.Band, classes: Sequence[ClassInfo]) -> None:
    """The colour table and category names of a class band. A GeoTIFF colour table holds no alpha: unused
    values read back black, the nodata value 0 transparent (GDAL's reading); QGIS shows the map by its .qml
    palette (a helper's review of 2026-12-06 read the transparency promised here)."""
    largest = max(info.value for info in classes)
    names = [""] * (largest + 1)
    table = gdal.ColorTable()
    for value in range(largest + 1):
        table.SetColorEntry(value, (0, 0, 0, 0))
    for info in classes:
        names[info.value] = info.name
        table.SetColorEntry(info.value, (*rgb(info.color), 255))
    band.SetRasterColorTable(table)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames(names)


def confidence_raster(path: str, param: str, size: Tuple[int, int], geotransform: Tuple[float, ...], crs_wkt: str,
                      class_map: str) -> AtomicGeoTiff:
    """A Float32 raster of the top softmax probability, nodata CONFIDENCE_NODATA,
    compressed with the floating-point predictor, naming the `class_map` it is written with."""
    out = AtomicGeoTiff(
        path, param, size, gdal.GDT_Float32, geotransform, crs_wkt, CONFIDENCE_NODATA, confidence_qml(), CONFIDENCE, 3
    )
    try:
        with _gdal_errors(param, path):
            out.set_tags({MAP_TAG: class_map})
    except BaseException:
        out.discard()
        raise
    return out


def confidence_of(class_map: str) -> Optional[str]:
    """The confidence raster written with the map at `class_map`, while the map names it and it names the map
    (CONFIDENCE_TAG, MAP_TAG; one written with another map since is that map's); None otherwise."""
    try:
        recorded = read_tag(class_map, "OUTPUT", CONFIDENCE_TAG) if os.path.isfile(class_map) else None
        named = read_tag(recorded, "OUTPUT_CONFIDENCE", MAP_TAG) if recorded and os.path.isfile(recorded) else None
    except InputError:  # files a run may replace need not be readable
        return None
    return recorded if named and os.path.isfile(named) and os.path.samefile(named, class_map) else None


def check_replaceable(path: str, param: str, kind: str) -> None:
    """Refuse an output raster of `kind` (CLASS_MAP, CONFIDENCE) over an existing file that is not
    a raster of that kind this plugin wrote. In a chain of steps (a saved copy of the workflow
    model, a model of one's own) the file may be the input of a later step, such as the reference
    labels, which no single step can see: the map was written over them before the accuracy step
    refused (red team of 2026-12-04); in a batch a confidence raster replaced a map (2026-12-05)."""
    if not os.path.lexists(path) or (os.path.isfile(path) and os.path.getsize(path) == 0):
        return  # nothing, or an empty file such as `mktemp --suffix=.tif` makes: nothing to lose
    with gdal_pam("NO"):
        dataset, _message = gdal_call(gdal.Open, path)
        ours = dataset is not None and dataset.GetMetadataItem(WRITER_TAG) == WRITER
        written = dataset.GetRasterBand(1).GetDescription() if ours and dataset.RasterCount else None
    if not ours:
        raise InputError(f"{param}: {path} exists and is not a raster this plugin wrote (it may be labels or an image "
                         "that another step reads); choose a new file name, or delete that file first.")
    if written in KIND_NAMES and written != kind:
        raise InputError(f"{param}: {path} is a {KIND_NAMES[written]} this plugin wrote, not a {KIND_NAMES[kind]}; "
                         "choose a new file name, or delete that file first.")


def read_tag(path: str, param: str, key: str) -> Optional[str]:
    """A metadata item of a raster's dataset (see `class_raster`'s tags); None when it has none."""
    return open_raster(path, f"{param}: {path}").GetMetadataItem(key)


def read_classes(path: str, param: str) -> List[ClassInfo]:
    """The classes of a class map: values with a category name or a name in its attribute table
    (as NLCD and CORINE products have), their colour from the colour table; for a map without
    class names, the classes of its `.qml` style."""
    dataset = open_raster(path, f"{param}: {path}")
    band = dataset.GetRasterBand(1)
    names = class_names(band)
    if names:
        colors = class_colors(band)
        return [ClassInfo(value, name, colors.get(value, "#808080"))
                for value, name in sorted(names.items()) if value != CLASS_NODATA]
    classes = style_classes(qml_path(path))
    if not classes:
        raise InputError(
            f"{param}: {path} carries no class names (no category names, no attribute table and no paletted .qml "
            "style next to it); choose a class map written by this plugin."
        )
    return classes


def names_beside(path: str, map_name: str) -> List[str]:
    """Warnings for a class map whose side files name its classes otherwise than the map itself, whose names
    are read: a map of the plugin's `.aux.xml` against its own class table (a layer of an earlier map of that
    name, open in QGIS, wrote its names back there, or the names were edited by hand: red team of 2026-12-05),
    and any map's `.qml` style, whose names QGIS's legend shows (a style edited and saved as the layer's
    default: review of 2026-12-05; another program's map, named in its category names or attribute table, a
    helper's audit of 2026-12-06)."""
    dataset = open_raster(path, f"INPUT: {path}")  # kept while its band is read (GDAL 3.6)
    band = dataset.GetRasterBand(1)
    written = {value: name.strip() for value, (name, _color) in written_classes(band).items()}
    warnings = []
    if written:
        aux = {value: name.strip() for value, name in enumerate(category_names(band)) if name.strip()}
        differing = _names_differing(written, aux)
        if differing:
            warnings.append(f"The class names of '{map_name}' in its .aux.xml side file differ from those the map "
                            f"holds itself, which are used ({differing}): delete {path}.aux.xml, after removing any "
                            "layer of an earlier map of that name from QGIS, which writes its names there when it "
                            "closes.")
    written = written or class_names(band)
    if written:
        warnings.append(style_names_warning(path, map_name, written, "map",
                                            "Delete the style and load the map again to see the names it holds."))
    return [warning for warning in warnings if warning]


def style_names_warning(path: str, layer_name: str, written: Dict[int, str], what: str, advice: str) -> Optional[str]:
    """The warning for a raster whose `.qml` style names its classes otherwise than the raster itself
    (`written`), whose names are used, or None: QGIS's legend shows the style's."""
    # an entry labelled by its own number names no class: QGIS's Classify labels so (a review of 2026-12-06: every
    # class of another program's map was said to be named otherwise)
    style = {info.value: info.name.strip() for info in style_classes(qml_path(path)) if info.named}
    differing = _names_differing({value: name.strip() for value, name in written.items()}, style)
    if not differing:
        return None
    return (f"The class names of '{layer_name}' in its style {qml_path(path)} differ from those the {what} holds "
            f"itself, which are used ({differing}): QGIS's legend names those classes otherwise. {advice}")


def _names_differing(written: Dict[int, str], beside: Dict[int, str]) -> str:
    """"'Crop' for 'Grass', ..." for the classes that `beside` names otherwise than `written`."""
    return first_few(f"'{beside[value]}' for '{name}'" for value, name in sorted(written.items())
                     if value in beside and beside[value] != name)


def style_classes(path: str) -> List[ClassInfo]:
    """The classes of the paletted `.qml` style at `path` ([] where there is none): the entries
    whose value is a whole number other than 0, however written ('2.0'); an entry edited by hand
    without one, or with text, is passed over (red team of 2026-12-05: a traceback)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return []
    classes = []
    for entry in root.iter("paletteEntry"):
        try:
            value = float(entry.get("value", ""))
        except ValueError:
            continue
        if value.is_integer() and value != CLASS_NODATA:
            classes.append(ClassInfo(int(value), entry.get("label", ""), entry.get("color", "#808080")))
    return classes
