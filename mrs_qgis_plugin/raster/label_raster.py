"""Labelled pixels from a label raster (0 or nodata = unlabelled), with its category names and colours."""

import re
from typing import Callable, Iterator

import numpy as np
from osgeo import gdal

from ...model_core import MAX_CLASS_VALUE
from ...model_core.errors import InputError
from ...model_core.hooks import Hooks
from ...model_core.names import agreeing, plural, value_text
from . import TILE_SIZE
from .labels import LabelledPixels, labelled_parameter, labelled_pixels, too_large_message
from .gdal_io import (class_colors, class_names, data_bands, hiding_bands, marked_signed_bytes, open_raster,
                      read_or_refuse)
from .grid import Grid, Window, align, hiding_on_grid, srs_from_wkt, tiles, transformation
from .outputs import qml_path
from .sources import Scene, refuse_hidden_signed_bytes, warped_signed_bytes_error
from .writers import style_classes, style_names_warning


UNLABELLED = re.compile(r"\b(unlabel+ed|no[ _-]?data|background|unclassified|not classified|none|void|empty|null|"
                        r"masked|fill|ignored?|no[ _-]?class|not[ _-]?label+ed|unknown)\b", re.IGNORECASE)
"""Words of a name that calls value 0 what 0 is here: no class ('Landfill' is a class)."""
FILLER = re.compile(r"\b(class(es)?|pixels?|values?|areas?|or|and)\b|[\W\d_]+", re.IGNORECASE)
"""What a name of no class may hold beside the words of UNLABELLED: '0 - No data', 'Background / unlabelled pixels'."""


def calls_unlabelled(name: str) -> bool:
    """Whether a class name says what 0 is here, no class: the words of UNLABELLED, and FILLER, alone. A name with
    more is a class ('Unknown crop', 'Empty lot', 'Fill material': a helper's audit of 2026-12-07 found such a class
    0, or a nodata value so named, left out unsaid)."""
    return bool(UNLABELLED.search(name)) and not FILLER.sub("", UNLABELLED.sub("", name))


def _say_zero_class(band: gdal.Band, names: dict, counts: Callable[[], dict], layer_name: str, hooks: Hooks) -> None:
    """Warns when a label raster holds 0, which means unlabelled here, while it names 0 as a class
    with another nodata value or none (red team of 2026-12-04: a class 0 was left out of training
    and of the accuracy figures without a word), or declares another nodata value and 0 is not the
    most common of its values, as an unlabelled background is (red team of 2026-12-05: classes 0-6
    with 255, segmentation's 'ignore' value, as nodata lost class 0; 0 as the background with 255
    beyond the footprint is no such case). `counts` gives its pixels of each value, asked only when
    the names or the nodata value call for it; `names` are the raster's own or its style's (a style
    names no 0: `style_classes` leaves 0, a map's no data, out)."""
    name = names.get(0, "")
    nodata = band.GetNoDataValue()
    if nodata == 0 or calls_unlabelled(name) or not (name or (nodata is not None and np.isfinite(nodata))):
        return
    pixels = counts()
    zeros = pixels.get(0, 0)
    if not zeros:
        return
    if name:
        declared = (f"declares {value_text(nodata, 8)} as its nodata value" if nodata is not None
                    else "declares no nodata value")
        hooks.warning(f"The label layer '{layer_name}' names its value 0 '{name}' and {declared}, but 0 means "
                      f"unlabelled here, so its pixels of value 0 ({zeros:,}) are left out. If 0 is a class, recode "
                      "the classes from 1.")
    elif zeros < max(pixels.values()):
        hooks.warning(f"The label layer '{layer_name}' declares {value_text(nodata, 8)} as its nodata value and holds "
                      f"{plural(zeros, 'pixel')} of value 0, which means unlabelled here too, so "
                      f"{agreeing(zeros, 'it is', 'they are')} left out. If 0 is a class, recode the classes from 1.")


def _refuse_values_that_are_no_classes(found: np.ndarray, layer_name: str, negatives: set) -> None:
    """Refuses a tile's labelled values that are negative or not whole, but for one negative code beside whole
    classes, added to `negatives` and refused once every tile is read: it was told to be declared nodata from
    the tile that held it, where another tile held -2 or 2.5 (a helper's mutation audit of 2026-12-06)."""
    odd = (found < 0) | (found != np.round(found))
    if not odd.any():
        return
    negatives.update(np.unique(found[found < 0]).tolist())
    if len(negatives) == 1 and np.all(found == np.round(found)):
        return
    raise InputError(
        f"The label layer '{layer_name}' holds values that are negative or not whole numbers (such as "
        f"{float(found[odd][0]):g}), as a confidence, reflectance or height raster does: a label raster holds class "
        "values, whole numbers from 1 (0 or nodata = unlabelled). Choose a label raster or a map made by Classify, or "
        "recode this one."
    )


def one_negative_code_problem(found: np.ndarray, subject: str, meaning: str) -> str | None:
    """The refusal of whole values beside one negative code, saying to declare it nodata where it means `meaning`
    ('unlabelled'), or None (red team of 2026-12-05: -1 for unlabelled was refused as a confidence or height
    raster, without a way out; a helper's audit of 2026-12-06: a map's -1 fill so)."""
    negative = np.unique(found[found < 0])
    if len(negative) != 1 or not np.all(found == np.round(found)):
        return None
    code = value_text(float(negative[0]))
    return (f"{subject} holds {code} beside class values from 1: if {code} means {meaning}, declare it the raster's "
            f"nodata value (gdal_edit.py -a_nodata {code}; in QGIS, Translate with -a_nodata {code} as an additional "
            "command-line parameter), or recode it to 0.")


def _say_nodata_class(band: gdal.Band, names: dict, layer_name: str, hooks: Hooks) -> None:
    """Warns when the nodata value of a label raster is a class it names, itself or in its style
    (`_class_names_and_colors`; red team of 2026-12-05: a nodata value of 7 set on labels whose 7
    is 'Water' lost that class without a word)."""
    nodata = band.GetNoDataValue()
    if nodata is None or not np.isfinite(nodata) or nodata <= 0 or nodata != int(nodata):
        return
    name = names.get(int(nodata), "")
    if name.strip() and not calls_unlabelled(name):
        hooks.warning(f"The label layer '{layer_name}' declares {value_text(nodata, 8)} as its nodata value, but names "
                      f"that value '{name}' as a class: its pixels are left out as unlabelled. If '{name}' is a class, "
                      "declare another nodata value, or none (0 means unlabelled here).")


TYPE_LARGEST = {gdal.GDT_Byte: 255, gdal.GDT_UInt16: 65535, gdal.GDT_UInt32: 4294967295}
"""The largest value of the unsigned types: the 'unlabelled' or 'ignore' value of many label rasters."""


def _say_background_class(band: gdal.Band, names: dict, values: np.ndarray, layer_name: str, hooks: Hooks) -> None:
    """Warns when the most common of the labelled `values` is the largest value of the raster's
    data type, which it neither declares as nodata nor names as a class: an unlabelled background
    taken as a class (a helper's red team of 2026-12-05: 255 was trained as a class '255', half the
    map, and scored as one, OA 43.8 %, without a word)."""
    top, nodata = TYPE_LARGEST.get(band.DataType), band.GetNoDataValue()
    if top is None or nodata == top or names.get(top):
        return
    found, numbers = np.unique(values, return_counts=True)
    if not len(found) or found[numbers.argmax()] != top:
        return
    declared = ("declares no nodata value" if nodata is None
                else f"declares {value_text(nodata, 8)}, not {top}, as its nodata value")
    hooks.warning(f"The label layer '{layer_name}' {declared}, and its most common value, {top} (the "
                  f"largest its data type holds, named by no class), is taken as a class: {numbers.max():,} of its "
                  f"{len(values):,} labelled pixels. If {top} marks unlabelled pixels, declare it the layer's nodata "
                  f"value (gdal_edit -a_nodata {top}, or in QGIS Raster > Conversion > Translate, 'Assign a specified "
                  "nodata value to output bands').")


def _count_values(block: np.ndarray, counts: dict) -> None:
    """Adds the pixels of each value of `block` (NaN aside) to `counts`."""
    found, numbers = np.unique(block[np.isfinite(block)] if block.dtype.kind == "f" else block, return_counts=True)
    for value, number in zip(found.tolist(), numbers.tolist()):
        counts[value] = counts.get(value, 0) + number


def _tiles_read(window: Window, band: gdal.Band, hooks: Hooks,
                tile_size: int | None = None) -> Iterator[tuple[Window, bool]]:
    """The tiles of `window`, each with whether GDAL knows, without reading it, that `band` holds nothing there (the
    empty blocks of a sparse GeoTIFF or VRT), progress said and cancel looked at before each: a reference of 30,000 x
    30,000 pixels around a map of 64 x 64 was read for 22 s, its blocks empty but one, and said nothing (red team of
    2026-12-07)."""
    cut = list(tiles(window, tile_size or TILE_SIZE))
    for index, tile in enumerate(cut):
        hooks.check_cancel()
        hooks.progress(index / len(cut))
        status, _percent = band.GetDataCoverageStatus(*tile)
        empty = status & gdal.GDAL_DATA_COVERAGE_STATUS_EMPTY and not status & gdal.GDAL_DATA_COVERAGE_STATUS_DATA
        yield tile, bool(empty)


def _count_empty(band: gdal.Band, tile: Window, counts: dict, layer_name: str) -> None:
    """Adds an empty tile (`_tiles_read`) to `counts`: each of its pixels holds what GDAL reads in one (the band's
    nodata value, or 0 where it has none)."""
    value = read_or_refuse(band.ReadAsArray, f"the label layer '{layer_name}'", tile.col, tile.row, 1, 1)[0, 0]
    if np.isfinite(value):
        counts[value.item()] = counts.get(value.item(), 0) + tile.width * tile.height


def _labelled_tile(band: gdal.Band, tile: Window, layer_name: str,
                   hiding: list[gdal.Band]) -> tuple[np.ndarray, np.ndarray]:
    """The tile's values and where they are labels: not 0, not nodata, finite and not hidden by
    one of `hiding` (`hiding_bands`, or `aligned_masks` warped with the raster; on the scene's
    grid a hidden pixel trained: red team of 2026-12-04)."""
    block = read_or_refuse(band.ReadAsArray, f"the label layer '{layer_name}'", *tile)
    labelled = block != 0
    for mask in hiding:
        labelled &= read_or_refuse(mask.ReadAsArray, f"the mask of the label layer '{layer_name}'", *tile) > 0
    nodata = band.GetNoDataValue()
    if nodata is not None:
        labelled &= block != nodata
    if block.dtype.kind == "f":
        labelled &= np.isfinite(block)
    return block, labelled


def _source_counts(dataset: gdal.Dataset, scene: Scene, layer_name: str, hooks: Hooks,
                   tile_size: int, operation: str) -> tuple[int, int]:
    """How many pixels of a label raster warped onto the scene are labelled, and how many of them
    lie outside the scene's window: an accuracy assessment leaves them out, and a map covering half
    a reference scored as a whole one without a word (red team of 2026-12-04). A pixel lies outside when it holds no
    centre of the window's pixels and lies beyond them, so that the nearest-neighbour warp takes
    nothing from it, and its own centre lies beyond the window's edges: a coarser reference's edge
    pixels that reach into the map are inside, and so are a finer one's between the map's edge and
    its first pixel centres (92 pixels of a reference of the map's very extent were said outside)."""
    source = Grid.of(dataset)
    band, hiding = dataset.GetRasterBand(1), hiding_bands(dataset, [1])
    transform = None if source.same_crs(scene.grid) else transformation(
        srs_from_wkt(source.crs_wkt), srs_from_wkt(scene.grid.crs_wkt), operation)[0]
    inverse = gdal.InvGeoTransform(scene.grid.geotransform)

    def on_scene(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scene pixel coordinates (column, row) of points at source pixel coordinates."""
        x = source.geotransform[0] + cols * source.geotransform[1] + rows * source.geotransform[2]
        y = source.geotransform[3] + cols * source.geotransform[4] + rows * source.geotransform[5]
        if transform is not None and len(x):
            x, y = np.array(transform.TransformPoints(np.column_stack([x, y]).tolist()))[:, :2].T
        return inverse[0] + x * inverse[1] + y * inverse[2], inverse[3] + x * inverse[4] + y * inverse[5]

    edges = (np.array([scene.window.col, scene.window.row]),
             np.array([scene.window.col + scene.window.width, scene.window.row + scene.window.height]))
    first, last = edges[0] + 0.5, edges[1] - 0.5
    labelled_count = count = 0
    for tile, empty in _tiles_read(Window(0, 0, source.width, source.height), band, hooks, tile_size):
        if empty:
            continue
        _block, labelled = _labelled_tile(band, tile, layer_name, hiding)
        rows, cols = np.nonzero(labelled)
        labelled_count += len(rows)
        if not len(rows):
            continue
        middle = np.array([tile.row + tile.height / 2]), np.array([tile.col + tile.width / 2])
        centre = np.array(on_scene(*middle))
        across = np.abs(np.array(on_scene(middle[0], middle[1] + 1)) - centre)
        down = np.abs(np.array(on_scene(middle[0] + 1, middle[1])) - centre)
        half = (across + down)[:, 0] / 2  # a source pixel's half size in scene pixels (column, row)

        def beyond(col: np.ndarray, row: np.ndarray) -> np.ndarray:
            outside = ((col + half[0] < first[0]) | (col - half[0] > last[0])
                       | (row + half[1] < first[1]) | (row - half[1] > last[1]))
            return outside & ((col < edges[0][0]) | (col > edges[1][0]) | (row < edges[0][1]) | (row > edges[1][1]))

        # A tile whose outline lies beyond the scene holds no pixel inside it: its pixels are not each carried
        # into the scene's CRS (2 minutes for 61 million labelled pixels in EPSG:4326, red team of 2026-12-05).
        outline = np.linspace(0.0, 1.0, 17)
        edge_rows = np.concatenate([tile.row + outline * tile.height, np.full(17, tile.row),
                                    np.full(17, tile.row + tile.height), tile.row + outline * tile.height])
        edge_cols = np.concatenate([np.full(17, tile.col), tile.col + outline * tile.width,
                                    tile.col + outline * tile.width, np.full(17, tile.col + tile.width)])
        col, row = on_scene(edge_rows, edge_cols)
        if np.isfinite(col).all() and np.isfinite(row).all() and (
                (col.max() + half[0] < first[0] and col.max() < edges[0][0])
                or (col.min() - half[0] > last[0] and col.min() > edges[1][0])
                or (row.max() + half[1] < first[1] and row.max() < edges[0][1])
                or (row.min() - half[1] > last[1] and row.min() > edges[1][1])):
            count += len(rows)  # every pixel is `beyond` on that side
            continue
        col, row = on_scene(rows + tile.row + 0.5, cols + tile.col + 0.5)
        count += int(np.count_nonzero(beyond(col, row) | ~np.isfinite(col) | ~np.isfinite(row)))
    return labelled_count, count


def _say_finer(labelled: int, outside: int, on_grid: int, scene: Scene, layer_name: str, hooks: Hooks,
               reference: bool = False) -> None:
    """Warns when the warp onto the scene's grid leaves many labelled pixels unused, as a finer
    label raster's are (and says how a coarser one's count several times; a reference's in the
    report, whose pixel counts an analyst quotes as the number of samples: a helper's audit of
    2026-12-05): a 5 m reference over a 10 m map was scored on a quarter of its pixels without a
    word (red team of 2026-12-04). A nearest-neighbour warp of pixels of the grid's size skips a
    few and takes a few twice: up to 5 % unused is not said (a review found 2 of 78 warned of)."""
    inside = labelled - outside
    unused = inside - on_grid
    if -unused > inside // 100:
        said = (f"The {plural(inside, 'labelled pixel')} of '{layer_name}' over {scene.grid_label} "
                f"{agreeing(inside, 'covers', 'cover')} {on_grid:,} of its pixels: {agreeing(inside, 'it', 'each')} "
                "counts as the pixels of that grid whose centres it holds")
        if reference:
            hooks.warning(f"{said}, so the figures count {on_grid:,} pixels for {plural(inside, 'reference pixel')} "
                          "(and those outside the map in the reference's own).")
        else:
            hooks.log(f"{said}.")
    if unused > max(2, inside // 20):
        hooks.warning(f"Each pixel of {scene.grid_label} takes the label of '{layer_name}' at its centre, so "
                      f"{unused:,} of the {inside:,} labelled pixels of '{layer_name}' over it are not used (a label "
                      f"raster finer than that grid). To use them all, resample '{layer_name}' onto that grid "
                      "first (by majority: gdalwarp -r mode).")


def _table_colors(band: gdal.Band, values: np.ndarray, layer_name: str, hooks: Hooks) -> dict[int, str]:
    """The colours of a label raster's classes, but for black given to two or more of them: a
    GeoTIFF's table colours every value, black where it was given none (red team of 2026-12-05: a
    table for classes 1 and 3 made 2, 4, 5 and 6 black classes, said to 'share a colour')."""
    colors = class_colors(band)
    black = [value for value in np.unique(values).tolist() if colors.get(value) == "#000000"]
    if len(black) < 2:
        return colors
    hooks.log(f"Classes {', '.join(map(str, black))} of '{layer_name}' are black in its colour table, as a GeoTIFF "
              "colours the values it was given no colour for; they get colours of their own.")
    return {value: color for value, color in colors.items() if value not in black}


def _class_names_and_colors(band: gdal.Band, path: str, values: np.ndarray, layer_name: str,
                            hooks: Hooks) -> tuple[dict, dict]:
    """A label raster's class names and colours: its own, else those of its paletted `.qml` style,
    which QGIS shows it with (red team of 2026-12-05: a reference named by its style alone was
    matched by value to a map numbered from names, 5.3 % OA, and the advice to style it did nothing)."""
    names, colors = class_names(band), _table_colors(band, values, layer_name, hooks)
    if names:
        differing = style_names_warning(path, layer_name, names, "raster", "Make them agree, in the style or in the "
                                        "raster's category names, so that both say what the values are.")
        if differing:  # red team of 2026-12-05: QGIS's legend and the plugin disagreed unsaid
            hooks.warning(differing)
        return names, colors
    styled = style_classes(qml_path(path))
    if not styled:
        return names, colors
    colors = {**colors, **{info.value: info.color for info in styled}}
    if not any(info.named for info in styled):  # QGIS's Classify names entries by number: its colours are shown
        hooks.log(f"Class colours of '{layer_name}' from its style {qml_path(path)} (its labels are the values).")
        return names, colors
    hooks.log(f"Class names of '{layer_name}' from its style {qml_path(path)}.")
    return {info.value: info.name for info in styled if info.named}, colors


def open_label_raster(path: str, layer_name: str) -> gdal.Dataset:
    """Opens a label raster, refusing one that cannot be one: no band of real numbers, an image."""
    dataset = open_raster(path, f"The label layer '{layer_name}'")
    if dataset.RasterCount == 0 or gdal.DataTypeIsComplex(dataset.GetRasterBand(1).DataType):
        raise InputError(
            f"The label layer '{layer_name}' holds no band of real numbers. Choose a label raster whose first band "
            "holds whole class values from 1 (0 or nodata = unlabelled)."
        )
    if len(data_bands(dataset)) > 1:
        raise InputError(
            f"The label layer '{layer_name}' has {len(data_bands(dataset))} bands, but a label raster has one band of "
            "class values (0 or nodata = unlabelled). Choose the label raster, not an image."
        )
    refuse_hidden_signed_bytes(dataset, f"The label layer '{layer_name}'")
    band = dataset.GetRasterBand(1)
    scale, offset = band.GetScale(), band.GetOffset()
    if (scale not in (None, 1.0)) or (offset not in (None, 0.0)):  # red team of 2026-12-05: read as stored
        raise InputError(scaled_classes_message(f"The label layer '{layer_name}'", 1.0 if scale is None else scale,
                                                0.0 if offset is None else offset))
    return dataset


def scaled_classes_message(subject: str, scale: float, offset: float) -> str:
    """The refusal of class values that the file declares a scale or an offset for."""
    return (f"{subject} declares a scale of {scale:g} and an offset of {offset:g} for its values, which class values "
            "cannot have. If the values stored are the classes, remove them (gdal_edit.py -scale 1 -offset 0); if the "
            "values scaled are, write those (gdal_translate -unscale -ot Int32); then choose it again.")


def labels_from_raster(scene: Scene, path: str, layer_name: str, hooks: Hooks | None = None,
                       operation: str = "", reference: bool = False) -> LabelledPixels:
    """Labelled pixels of a label raster (0 or nodata = unlabelled), warped with the nearest
    neighbour if needed (through `operation`, as `align`); `reference`: an assessment's (`labelled_pixels`)."""
    hooks = hooks or Hooks()
    dataset = open_label_raster(path, layer_name)
    aligned = align(dataset, layer_name, scene.grid, scene.hsi_name, hooks, categorical=True, operation=operation)
    if aligned is not dataset and marked_signed_bytes(dataset.GetRasterBand(1)):  # -1 warped as 255 (red team, 12-07)
        raise warped_signed_bytes_error(f"The label layer '{layer_name}'")
    band = aligned.GetRasterBand(1)
    held = hiding_on_grid(dataset, aligned, [1], layer_name, scene.grid, scene.hsi_name, operation)
    hiding = [band for _dataset, band in held]
    keys, values = [], []  # row * width + column, class
    counts: dict = {}  # of each value, on the grid's tiles when they are the raster's own pixels
    negatives: set = set()  # the negative codes met, refused once every tile is read where there is one
    read_hooks = hooks.sub(0.0, 1.0 if aligned is dataset else 1 / 3)
    for tile, empty in _tiles_read(scene.window, band, read_hooks):
        if empty and aligned is dataset:
            _count_empty(band, tile, counts, layer_name)
        if empty:
            continue
        block, labelled = _labelled_tile(band, tile, layer_name, hiding)
        if aligned is dataset:
            _count_values(block, counts)
        found = block[labelled]
        _refuse_values_that_are_no_classes(found, layer_name, negatives)
        # before a negative code is let through: told to declare -1 nodata beside 1e10 'class values' (the audit)
        if len(found) and float(found.max()) > MAX_CLASS_VALUE:  # numpy 2 casts the limit to float16 otherwise
            raise InputError(too_large_message(f"The label layer '{layer_name}'", found.max()))
        if negatives:
            continue
        local_rows, local_cols = np.nonzero(labelled)
        keys.append((local_rows + tile.row) * scene.width + (local_cols + tile.col))
        values.append(found.astype(np.int64))
    if negatives:
        raise InputError(one_negative_code_problem(np.array(sorted(negatives)), f"The label layer '{layer_name}'",
                                                   "unlabelled"))
    if not sum(len(v) for v in values):
        parameter = labelled_parameter(True, reference)
        labelled, outside = (_source_counts(dataset, scene, layer_name, hooks.sub(2 / 3, 1.0), TILE_SIZE, operation)
                             if aligned is not dataset else (0, 0))
        if labelled and outside == labelled:  # told to choose a raster with class values (a helper's audit, 12-06)
            raise InputError(
                f"{parameter}: the {plural(labelled, 'labelled pixel')} of '{layer_name}' "
                f"{agreeing(labelled, 'lies', 'all lie')} outside {scene.grid_label}. Choose "
                f"{'the map' if reference else 'the rasters'} of the area "
                f"{agreeing(labelled, 'it covers', 'they cover')}, or check the layers' CRSs."
            )
        if labelled:  # over the grid, between its pixel centres (a review of 2026-12-06: said to lie outside)
            raise InputError(
                f"{parameter}: the {plural(labelled - outside, 'labelled pixel')} of '{layer_name}' over "
                f"{scene.grid_label} {agreeing(labelled - outside, 'holds', 'hold')} none of its pixel centres, which "
                f"take the label there (a label raster finer than that grid). Resample '{layer_name}' onto that grid "
                "first (by majority: gdalwarp -r mode)."
            )
        raise InputError(
            f"{parameter}: the label layer '{layer_name}' holds no labelled pixel over {scene.grid_label} "
            f"(all are 0{', nodata or hidden by its mask' if hiding else ' or nodata'}). Choose a label "
            "raster with class values from 1."
        )
    original = dataset.GetRasterBand(1)

    def own_counts() -> dict:
        """The raster's own pixels of each value (on another grid, a warp writes 0 where it has none)."""
        if aligned is dataset:
            return counts
        for tile, empty in _tiles_read(Window(0, 0, dataset.RasterXSize, dataset.RasterYSize), original,
                                       hooks.sub(1 / 3, 2 / 3)):
            if empty:
                _count_empty(original, tile, counts, layer_name)
            else:
                _count_values(read_or_refuse(original.ReadAsArray, f"the label layer '{layer_name}'", *tile), counts)
        return counts

    keys, values = np.concatenate(keys).astype(np.int64, copy=False), np.concatenate(values)
    # names its own or its style's, for every check of what its values mean (review of 2026-12-05)
    names, colors = _class_names_and_colors(original, path, values, layer_name, hooks)
    _say_zero_class(original, names, own_counts, layer_name, hooks)
    _say_background_class(original, names, values, layer_name, hooks)
    _say_nodata_class(original, names, layer_name, hooks)
    outside = 0
    if aligned is not dataset:
        labelled, outside = _source_counts(dataset, scene, layer_name, hooks.sub(2 / 3, 1.0), TILE_SIZE, operation)
        _say_finer(labelled, outside, len(keys), scene, layer_name, hooks, reference)
    if outside:
        hooks.log(f"{plural(outside, 'labelled pixel')} of '{layer_name}' {agreeing(outside, 'lies', 'lie')} outside "
                  f"{scene.grid_label}; {agreeing(outside, 'it is', 'they are')} left out.")
    return labelled_pixels(
        scene,
        keys,
        values,
        names,
        colors,
        layer_name,
        hooks,
        TILE_SIZE,
        outside=(outside, "pixels"),
        reference=reference,
    )
