"""Opening and reading GDAL datasets, each failure told in one sentence naming the layer."""

import hashlib
import json
import math
import os
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional
from xml.etree import ElementTree

import numpy as np
from osgeo import gdal, ogr

from ...model_core.errors import InputError, ReadError
from ...model_core.hooks import first_few
from ...model_core.names import plural
from ...model_core.paths import file_state, not_a_readable_file, undecodable_name
from . import DRIVER_PREFIXED
from .classes import recoded_text


@contextmanager
def gdal_quiet() -> Iterator[None]:
    """GDAL's error and warning lines inside the block kept off standard error (the caller says
    what went wrong in its own sentence)."""
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        yield
    finally:
        gdal.PopErrorHandler()


@contextmanager
def failures_recorded() -> Iterator[list[str]]:
    """GDAL's failures inside the block kept off standard error and listed (made `concise`), for
    work whose calls do not all say when they fail (a GeoTIFF's write on a full disk)."""
    failures: list[str] = []

    def record(kind: int, _number: int, message: str) -> None:
        if kind >= gdal.CE_Failure:
            failures.append(concise(message))

    gdal.PushErrorHandler(record)
    try:
        yield failures
    finally:
        gdal.PopErrorHandler()


@contextmanager
def exceptions_off() -> Iterator[None]:
    """GDAL's and OGR's Python exceptions off inside the block, and put back afterwards, where the
    caller (a QGIS console, another plugin) turned them on. GDAL 3.6 keeps their error handlers
    on a stack, so the one turned on last goes off first: either order is tried."""
    on = [module for module in (ogr, gdal) if module.GetUseExceptions()]
    try:
        for module in on:
            module.DontUseExceptions()
    except RuntimeError:
        on.reverse()
        for module in on:
            if module.GetUseExceptions():
                module.DontUseExceptions()
    try:
        yield
    finally:
        for module in reversed(on):
            module.UseExceptions()


def concise(message: str) -> str:
    """GDAL's message without the SQL statement that SQLite's messages quote before their cause
    ("sqlite3_prepare_v2(SELECT ... ) failed: database disk image is malformed"), wherever it lies
    in the message ("Cannot create x.gpkg: sqlite3_exec(CREATE TABLE ...) failed: ...")."""
    return re.sub(r"sqlite3_\w+\(.*?\) failed: ", "", message.strip(), flags=re.DOTALL)


def gdal_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str]:
    """Runs a GDAL function quietly, whether or not GDAL exceptions are enabled.

    Returns the result (None on failure) and GDAL's last error message, made concise.
    """
    with gdal_quiet():
        gdal.ErrorReset()
        try:
            return function(*args, **kwargs), concise(gdal.GetLastErrorMsg())
        except RuntimeError as error:
            return None, concise(str(error))


@contextmanager
def declared_encodings() -> Iterator[None]:
    """Vector files opened inside the block are read in the encoding they declare (a shapefile's
    .cpg or its DBF's language byte). QGIS turns that off for its own reading (SHAPE_ENCODING set
    empty: it decodes the bytes itself), which left the bytes of a Windows shapefile undecoded in
    the plugin's (red team of 2026-12-04). The setting is process-wide, so it is put back at once."""
    previous = gdal.GetConfigOption("SHAPE_ENCODING")
    gdal.SetConfigOption("SHAPE_ENCODING", None)
    try:
        yield
    finally:
        gdal.SetConfigOption("SHAPE_ENCODING", previous)


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


CONTAINER_EXTENSIONS = (".gpkg", ".nc", ".h5", ".hdf", ".hdf5", ".he5", ".tif", ".tiff")
"""The endings of files a subdataset name may end in without a table or variable ('HDF5:f.h5')."""


def _last_part(name: str) -> str:
    """A subdataset's own name: the table of 'GPKG:f.gpkg:table', the variable of 'NETCDF:"f.nc":var';
    a table's dots kept ('dsm.2019': review of 2026-12-05), a file's ending not."""
    part = re.split(r"[:/]", name)[-1].strip('"')
    stem, ending = os.path.splitext(part)
    return (stem if ending.lower() in CONTAINER_EXTENSIONS else part) or "subdataset"


IN_QGIS = "or, in QGIS, add it to the project (Layer > Add Raster Layer{lists}) and choose the layer"
"""Processing takes a subdataset as a project layer, not by its name (QGIS 3.22: a helper's red team
of 2026-12-05 was told to choose one by its name, which Processing then said was no file)."""


def _own_file(name: str) -> str:
    return f"to a file of its own (gdal_translate {name} {_last_part(name)}.tif)"


def _variables_message(what: str, names: list[str], driver: str) -> str:
    own, in_qgis = _own_file(names[0]), IN_QGIS.format(lists=" lists them")
    if driver == "GPKG":
        return (f"{what} holds {len(names)} raster tables ({first_few(map(_last_part, names))}) and no raster of its "
                f"own. Copy the one you want {own} and choose that, {in_qgis}.")
    return (f"{what} holds {len(names)} variables (subdatasets, such as {names[0]}) and no bands of its own. Stack "
            f"them into one multi-band raster (gdalbuildvrt -separate stack.vrt {' '.join(names[:2])} ...) or copy "
            f"the one you want {own} and choose that, {in_qgis}.")


def subdataset_name_problem(value: str, what: str) -> Optional[str]:
    """Why a GDAL subdataset name ('GPKG:f.gpkg:table', 'NETCDF:"f.nc":var') is no layer to QGIS's
    Processing, which does not load one from its name; None for anything else."""
    if not re.match(r"[A-Za-z0-9_]{2,}:", value) or "://" in value or os.path.exists(value):  # no web address
        return None
    with gdal_pam("NO"):
        dataset, _message = gdal_call(gdal.Open, value)
    if dataset is None:
        return None
    return (f"{what} is a GDAL subdataset name, which QGIS's Processing does not take as a layer. "
            f"Copy it {_own_file(value)} and choose that, {IN_QGIS.format(lists='')}.")


def variables_problem(path: str, what: str) -> Optional[str]:
    """Why a file of several variables (a NetCDF or HDF file with one variable per band, which
    QGIS opens as a mesh or not at all) is not a raster layer, or None when it is not one (or
    cannot be opened: `open_raster` says why)."""
    if missing_file_problem(path, what):
        return None
    with gdal_pam("NO"):
        dataset, _message = gdal_call(gdal.Open, path)
    names = _subdatasets(dataset) if dataset is not None and dataset.RasterCount == 0 else []
    return _variables_message(what, names, dataset.GetDriver().ShortName) if names else None


def _plain(path: str) -> bool:
    """Whether `path` names a file of the file system: not a GDAL virtual path, a web address, a
    driver prefix such as NETCDF: or a connection string."""
    return not path.startswith("/vsi") and "://" not in path and not re.match(r"^[A-Za-z][A-Za-z0-9_]+:", path)


def joined_files_problem(path: str, what: str, parameter: str = "") -> Optional[str]:
    """The sentence for a value that joins existing files by ';', as a list is written in some tools,
    else None: it was said to be neither a layer nor a file, or not to exist (a helper's red team of
    2026-12-07 and own bad input of the day). `parameter`: the one to repeat, where it is known."""
    parts = [part.strip() for part in path.split(";")]
    if len(parts) < 2 or not all(os.path.isfile(part) for part in parts):
        return None
    repeat = f"repeat --{parameter}=FILE; in Python, a list" if parameter else "repeat the parameter"
    return f"{what} names several files joined by ';'; give each as a value of its own (on the command line, {repeat})."


def missing_file_problem(path: str, what: str) -> Optional[str]:
    """Why a plain file path cannot be opened: a name that is not UTF-8 (`undecodable_name`), no
    file there, a pipe or device (which GDAL would wait on forever), no permission to read it; or
    None (a file that can be read, a GDAL virtual path, a driver prefix such as NETCDF: or a
    connection string)."""
    undecodable = undecodable_name(path, what)
    if undecodable:
        return undecodable
    file, *options = path.split("|option:")
    if options and not os.path.lexists(path) and os.path.isfile(file):
        return (f"{what}: its source {path} opens {file} with GDAL open options ({', '.join(options)}), which the "
                "MRS algorithms cannot pass on. Choose the file itself, or save the layer as a GeoTIFF (Export > "
                "Save As...) and choose that.")
    problem = not_a_readable_file(path, folders=True) if _plain(path) or path.startswith("file://") else None
    if problem is None:
        return None
    shown = f"'{path}'" if path != path.strip() else path  # 'hsi.tif ' was shown as an existing file (red team)
    if problem == "does not exist" and path != path.strip() and os.path.isfile(path.strip()):
        return f"{what}: the file {shown} does not exist, but {path.strip()} does: remove the spaces around the path."
    joined_files = joined_files_problem(path, f"{what}: {shown}") if problem == "does not exist" else None
    if joined_files:
        return joined_files
    if problem == "does not exist":
        return f"{what}: the file {shown} does not exist. Check the path, or choose it again."
    # a file's address says its own advice, the path to give (a helper's audit of 2026-12-07: two pieces of advice)
    return f"{what}: {shown} {problem}." + ("" if path.startswith("file://") else
                                            " Choose a layer saved as a file that can be read.")


def read_call(read: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str]:
    """`gdal_call` for a read, which fails (None) also when GDAL reports a failure but still
    returns an array: a VRT whose source file is missing gives one full of nodata."""
    result, message = gdal_call(read, *args, **kwargs)
    return (None if gdal.GetLastErrorType() >= gdal.CE_Failure else result), message


def unreadable(what: str, message: str) -> InputError:
    """The sentence for a read of `what` ("the layer 'hsi'") that failed with GDAL's `message`."""
    return ReadError(f"Reading {what} failed ({concise(message) or 'GDAL gives no reason'}). Check that the file "
                      "is complete and readable.")


def read_or_refuse(read: Callable[..., Any], what: str, *args: Any, **kwargs: Any) -> Any:
    """`read_call`'s result, or `unreadable`'s sentence when the read fails."""
    result, message = read_call(read, *args, **kwargs)
    if result is None:
        raise unreadable(what, message)
    return result


def _unknown_data_type(what: str, message: str) -> Optional[str]:
    """The sentence for a virtual raster of a data type this GDAL lacks (Int8 from GDAL 3.7,
    Float16 from 3.11, written by a newer GDAL): the file is sound, this GDAL too old for it."""
    found = re.search(r"Invalid dataType = (\w+)", message or "")
    if found is None:
        return None
    return (f"{what} has bands of {found.group(1)}, a data type that this GDAL ({gdal.__version__}) does not know: "
            "it was made by a newer GDAL. Convert it there (gdal_translate -ot Int16, or -ot Float32), or run "
            "the plugin with that GDAL.")


def _not_a_raster(path: str, what: str) -> Optional[str]:
    """Why a file GDAL cannot open as a raster is refused, when it is a folder, a vector file (GDAL's
    own words said the points of 'train_points.gpkg' were 'not recognized as a supported file format',
    red team of 2026-12-04) or a table or variable a file does not hold; None otherwise."""
    if os.path.isdir(path):
        return f"{what} is a folder ({path}), not a raster file. Choose a raster file."
    prefixed = DRIVER_PREFIXED.match(path)
    if prefixed and os.path.isfile(prefixed.group("path")):  # it was said to be a vector layer (2026-12-05)
        with gdal_pam("NO"):
            whole, _message = gdal_call(gdal.Open, prefixed.group("path"))
        file = prefixed.group("path")
        lacking = f"{what} ({path}) names no raster of '{file}'"
        if whole is not None and whole.RasterCount:  # a file of one raster is opened as that raster (review)
            return f"{lacking}, whose one raster is the file itself: choose '{file}'."
        names = _subdatasets(whole) if whole is not None else []
        if names:
            return f"{lacking}, whose rasters are {first_few(names)}. Choose one of them."
    if file_kind(path) == "vector":
        return f"{what} is a vector layer ({path}), not a raster. Choose a raster layer or file."
    return None


def file_kind(path: str) -> Optional[str]:
    """"raster" for a file GDAL opens as a raster and not as a vector of layers, "vector" for one it
    opens as such a vector and not as a raster, else None (both, neither, or no file that can be read:
    GDAL waits on a named pipe forever)."""
    if missing_file_problem(path, path):
        return None
    with gdal_pam("NO"):
        raster, _message = gdal_call(gdal.OpenEx, path, gdal.OF_RASTER)
        vector, _message = gdal_call(gdal.OpenEx, path, gdal.OF_VECTOR)
    has_layers = vector is not None and vector.GetLayerCount() > 0
    if raster is not None and not has_layers:
        return "raster"
    return "vector" if has_layers and raster is None else None


def _is_vrt(path: str) -> bool:
    """Whether `path` is a virtual raster (VRT) file, by its start, as GDAL tells one (after an XML
    declaration, which some tools write: review of 2026-12-05)."""
    if not _plain(path):
        return False
    try:
        with open(path, "rb") as handle:
            return b"<VRTDataset" in handle.read(1024)
    except OSError:
        return False


def _vrt_text(path: str) -> Optional[str]:
    """The XML of a virtual raster (VRT) file, or None for a path that is no such file."""
    if not _is_vrt(path):
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None


def _source_elements(element: ElementTree.Element) -> Iterator[ElementTree.Element]:
    """The elements of a VRT that name a source file, but those of its overviews (a VRT reads its
    full resolution without them)."""
    for child in element:
        if child.tag in ("SourceFilename", "SourceDataset"):
            yield child
        elif child.tag != "Overview":
            yield from _source_elements(child)


def vrt_source_files(path: str, depth: int = 8, seen: Optional[set] = None) -> list[str]:
    """The source files a virtual raster file names, there or not (relative ones joined to its
    folder), following VRTs of VRTs `depth` levels down, each file once; [] for a path that is no
    VRT file."""
    text = _vrt_text(path) if depth else None
    try:
        root = ElementTree.fromstring(text) if text else None
    except ElementTree.ParseError:
        root = None
    if root is None:
        return []
    seen = set() if seen is None else seen
    files = []
    for element in _source_elements(root):
        name = (element.text or "").strip()
        if name and element.get("relativeToVRT") == "1" and _plain(name):  # from the folder of the file a link names
            name = os.path.join(os.path.dirname(os.path.realpath(path)), name)
        if not name or not _plain(name) or name in seen:
            continue
        seen.add(name)
        files.append(name)
        if name.lower().endswith(".vrt") and os.path.exists(name):
            files += vrt_source_files(name, depth - 1, seen)
    return files


def missing_vrt_sources(path: str) -> list[str]:
    """The source files a virtual raster file names that do not exist (a link to nothing among
    them). GDAL opens a mosaic missing a tile and fails only on reading that part (own bad input of
    2026-12-05: part way through a job, "GDAL gives no reason"), and a warped VRT missing its
    source on opening, in its own words."""
    return [name for name in vrt_source_files(path) if not os.path.exists(name)]


_REWRITTEN = ("Histograms", "SourceProperties")
"""Elements GDAL adds to or drops from a VRT it reads when QGIS asks for statistics or a histogram."""


def _vrt_identity(path: str) -> Optional[str]:
    """A digest of what a VRT says, as GDAL reads it afresh, but what GDAL writes into a VRT it reads
    when QGIS asks for statistics or a histogram (review of 2026-12-05: a run was refused as its
    input had changed): the statistics' items, histograms, the sources' properties and block sizes,
    and the layout of the text. None for a file that is no VRT."""
    if not _is_vrt(path):
        return None
    with gdal_pam("NO"):
        dataset, _message = gdal_call(gdal.Open, path)
    text = (dataset.GetMetadata("xml:VRT") or [""])[0] if dataset is not None else ""
    try:
        root = ElementTree.fromstring(text) if text else None
    except ElementTree.ParseError:
        return None
    if root is None:
        return None
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in _REWRITTEN or (child.tag == "MDI" and child.get("key", "").startswith("STATISTICS_")):
                parent.remove(child)
    for parent in list(root.iter()):  # a band's metadata that held statistics alone
        for child in list(parent):
            if child.tag == "Metadata" and not len(child):
                parent.remove(child)
    for parent in root.iter():
        for name in ("blockXSize", "blockYSize"):
            parent.attrib.pop(name, None)
        parent.text = parent.text.strip() if parent.text else None
        parent.tail = None
    return hashlib.sha256(ElementTree.tostring(root)).hexdigest()


def _stamp(path: str, as_vrt: bool) -> Optional[tuple]:
    """What tells a file apart from another written in its place (`file_state`), a VRT (`as_vrt`)
    by what it says (`_vrt_identity`); None where there is none."""
    identity = _vrt_identity(path) if as_vrt else None
    return ("VRT", identity) if identity else file_state(path)


def file_stamps(path: str) -> dict[str, tuple]:
    """The stamps (`_stamp`) of a raster's file and of every source file it names as a VRT (a
    source named .vrt taken as one), by path (none for a GDAL name that is no file's path), to tell
    whether another program wrote them while a run read them (`stamp_now`)."""
    names = [(path, True)] if _plain(path) else []
    names += [(name, name.lower().endswith(".vrt")) for name in vrt_source_files(path)]
    return {name: stamp for name, as_vrt in names if (stamp := _stamp(name, as_vrt)) is not None}


def stamp_now(path: str, stamp: tuple) -> Optional[tuple]:
    """The stamp of `path` now, taken as `stamp` was: a VRT's by what it says, ('VRT', None) where
    GDAL cannot read it now (a warped VRT whose source is gone), None where the file is gone."""
    if stamp[0] != "VRT":
        return file_state(path)
    return ("VRT", _vrt_identity(path)) if os.path.exists(path) else None


def _missing_sources_message(what: str, missing: list[str]) -> str:
    named = (f"source file {missing[0]} does not exist" if len(missing) == 1 else
             f"source files {missing[0]} and {plural(len(missing) - 1, 'other')} do not exist")
    return (f"{what} is a virtual raster (VRT) whose {named}, so its pixels cannot be read. Put the files back where "
            "the VRT names them, or build the virtual raster again from the files there are.")


def open_raster(path: str, what: str) -> gdal.Dataset:
    """Opens a raster read-only; `what` names it in the error ("The hyperspectral layer 'x'")."""
    problem = missing_file_problem(path, what)
    if problem:
        raise InputError(problem)
    missing = missing_vrt_sources(path)
    if missing:
        raise InputError(_missing_sources_message(what, missing))
    with gdal_pam("YES"):
        dataset, message = gdal_call(gdal.Open, path)
        if dataset is not None and "IO error" in message:  # a cut file: its tags (nodata, grid) were left out
            raise InputError(f"{what} cannot be read whole: its file is damaged or incomplete ({message}). Check that "
                             "the file is complete and readable (copy it again).")
        if dataset is not None:
            # A GeoTIFF reads its .aux.xml on such a first request, not on opening, and GDAL 3.12
            # its geokeys: a damaged one raises there when GDAL exceptions are on.
            geotransform, message = gdal_call(dataset.GetGeoTransform)
            dataset = None if geotransform is None else dataset
    if dataset is None:
        raise InputError(_unknown_data_type(what, message) or _not_a_raster(path, what)
                         or f"{what} cannot be opened as a raster ({message or 'unknown format'}). "
                            "Choose a raster layer or file that GDAL can read.")
    if dataset.RasterCount == 0 and _subdatasets(dataset):
        raise InputError(_variables_message(what, _subdatasets(dataset), dataset.GetDriver().ShortName))
    if dataset.GetGeoTransform(can_return_null=True) is None:
        if dataset.GetGCPCount():
            raise InputError(
                f"{what} is georeferenced by {dataset.GetGCPCount()} ground control points only, with no pixel grid, "
                "which the plugin does not warp (assigning a CRS would not place it). Warp it first (Raster > "
                "Projections > Warp (Reproject), or gdalwarp FILE NEW.tif) and choose the warped raster.")
        if dataset.GetMetadata("RPC"):  # QGIS shows it on the ground; it was mapped at 0, 0 (red team of 2026-12-05)
            raise InputError(
                f"{what} is georeferenced by rational polynomial coefficients (RPCs) only, with no pixel grid, which "
                "the plugin does not apply (assigning a CRS would not place it). Orthorectify it first (gdalwarp -rpc "
                "FILE NEW.tif, or Raster > Projections > Warp (Reproject)) and choose the warped raster.")
    return dataset


def category_names(band: gdal.Band) -> list[str]:
    """The band's category names ([] when it has none).

    GDAL 3.6 answers None when GetCategoryNames() is the first thing asked of a GeoTIFF
    band: the band's .aux.xml, where a GeoTIFF keeps them, is read on the first other
    request. Asking for the description first makes it read that file."""
    band.GetDescription()
    return [recoded_text(name) for name in band.GetCategoryNames() or []]


CLASS_TABLE_ITEM = "MRS_CLASSES"
"""The band metadata item in which a class map of the plugin keeps its classes, as JSON
[[value, name, colour], ...], inside the GeoTIFF: its category names are in its .aux.xml, which
a layer of an earlier map at that name, open in QGIS with its histogram computed, writes back when
it closes (red team of 2026-12-05: the new map was read with the earlier model's names)."""


def written_classes(band: gdal.Band) -> dict[int, tuple[str, str]]:
    """{value: (name, colour)} of the classes a map of the plugin keeps in its file ({} for others)."""
    try:
        return {int(value): (str(name), str(color))
                for value, name, color in json.loads(band.GetMetadataItem(CLASS_TABLE_ITEM) or "[]")}
    except (ValueError, TypeError):  # edited by hand: the other records of the names are read
        return {}


def class_names(band: gdal.Band) -> dict[int, str]:
    """Class names that the plugin's map keeps in its file, else the band's category names, else
    those of its attribute table."""
    written = written_classes(band)
    if written:
        return {value: name.strip() for value, (name, _color) in written.items() if name.strip()}
    categories = category_names(band)
    names = {value: name.strip() for value, name in enumerate(categories) if name and name.strip()}
    table = band.GetDefaultRAT()
    if names or table is None or table.GetRowCount() == 0:
        return names
    columns = range(table.GetColumnCount())
    texts = [c for c in columns if table.GetTypeOfCol(c) == gdal.GFT_String]
    # a table marking none as the names: the text column named so, else the first (a helper's red team of
    # 2026-12-06: an ArcGIS table's CODE, before its CLASSNAME, named the classes 'C1' ... 'C7')
    name_column = next((c for c in columns if table.GetUsageOfCol(c) == gdal.GFU_Name),
                       next((c for word in ("name", "class", "label") for c in texts
                             if word in table.GetNameOfCol(c).lower()), texts[0] if texts else None))
    if name_column is None:
        return names
    for row, value in enumerate(_row_values(table)):
        names[value] = recoded_text(table.GetValueAsString(row, name_column)).strip()
    return {value: name for value, name in names.items() if name}


def _row_values(table: gdal.RasterAttributeTable) -> list[int]:
    """The class value of each row of an attribute table: its value column (by usage, else named 'value', else
    a column of whole numbers named 'code'), else its linear binning, else the row's number. A binning from 1
    and an NLCD-like column 'code' were read as row numbers, every name on another class (a helper's audit of
    2026-12-06)."""
    columns = range(table.GetColumnCount())
    name = [table.GetNameOfCol(c).lower() for c in columns]
    found = (c for tells in (lambda c: table.GetUsageOfCol(c) in (gdal.GFU_MinMax, gdal.GFU_Min),
                             lambda c: name[c] == "value",
                             lambda c: name[c] == "code" and table.GetTypeOfCol(c) == gdal.GFT_Integer)
             for c in columns if tells(c))
    value_column = next(found, None)  # by usage, then by name: a CODE before VALUE keyed the names (a review)
    rows = range(table.GetRowCount())
    if value_column is not None:
        return [table.GetValueAsInt(row, value_column) for row in rows]
    binned, first, step = table.GetLinearBinning()
    # the whole number in each bin: a binning from -0.5 rounded half to even put 'Water' on 0 (a review of 12-06)
    return [math.ceil(first + row * step - 1e-9) for row in rows] if binned else list(rows)


def class_colors(band: gdal.Band) -> dict[int, str]:
    """Colours of the classes a map of the plugin keeps in its file, else of the colour table's
    entries, '#rrggbb' by value."""
    written = written_classes(band)
    if written:
        return {value: color for value, (_name, color) in written.items()}
    table = band.GetColorTable()
    if table is None:
        return {}
    entries = (table.GetColorEntry(value) for value in range(table.GetCount()))
    # A fully transparent entry is no colour: the gaps of a table with entries for some classes only
    # (red team of 2026-12-05: they became opaque black classes, said to 'share a colour').
    return {value: "#{:02x}{:02x}{:02x}".format(*entry[:3]) for value, entry in enumerate(entries)
            if len(entry) < 4 or entry[3] > 0}


def data_bands(dataset: gdal.Dataset) -> list[int]:
    """1-based numbers of the bands that hold data: alpha bands are masks, not data, and the bands
    an ENVI header marks bad (`marked_bad`) hold none worth reading."""
    bad = marked_bad(dataset) or []
    return [
        number
        for number in range(1, dataset.RasterCount + 1)
        if dataset.GetRasterBand(number).GetColorInterpretation() != gdal.GCI_AlphaBand and number not in bad
    ]


def marked_bad(dataset: gdal.Dataset) -> Optional[list[int]]:
    """1-based numbers of the bands that an ENVI header's bad-band list (`bbl`, 0 for a bad band)
    marks bad, as AVIRIS, AVIRIS-NG and HySpex products mark their water-absorption bands, whose
    values are noise, zeros or NaN (red team of 2026-12-05: trained as data, they took a whole class
    away); [] without a list; None for a list that is not one flag per band, or that marks every
    band bad, which is ignored."""
    text = dataset.GetMetadataItem("bbl", "ENVI")
    if not text:
        return []
    try:
        flags = [float(item) for item in re.split(r"[,\s]+", text.strip().strip("{}").strip()) if item]
    except ValueError:
        return None
    if len(flags) != dataset.RasterCount or not set(flags) <= {0.0, 1.0} or 1.0 not in flags:
        return None
    return [number for number, flag in enumerate(flags, start=1) if flag == 0.0]


def hiding_selectors(dataset: gdal.Dataset, bands: list[int]) -> list[str]:
    """The bands whose 0 hides a pixel of the data `bands`, as gdal_translate's -b selects them
    ('mask,N' for band N's mask band, 'N' for an alpha band): each band's own mask band (a
    per-dataset mask once, for them all; a per-band mask for its band's pixels, which hides the pixel
    as its nodata would: red team of 2026-12-04), and the alpha band, which GDAL gives as the mask
    only where the bands have no nodata value and no mask band (with a nodata value it was ignored)."""
    selectors = []
    for number in bands:
        flags = dataset.GetRasterBand(number).GetMaskFlags()
        if flags & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA | gdal.GMF_ALPHA):
            continue
        selectors.append(f"mask,{number}")
        if flags & gdal.GMF_PER_DATASET:
            break
    return selectors + [str(number) for number in range(1, dataset.RasterCount + 1)
                        if dataset.GetRasterBand(number).GetColorInterpretation() == gdal.GCI_AlphaBand]


def selected_band(dataset: gdal.Dataset, selector: str) -> gdal.Band:
    """The band a `hiding_selectors` selector names."""
    number = int(selector.split(",")[-1])
    return dataset.GetRasterBand(number).GetMaskBand() if selector.startswith("mask,") else dataset.GetRasterBand(number)


def hiding_bands(dataset: gdal.Dataset, bands: list[int]) -> list[gdal.Band]:
    """The bands of `hiding_selectors`, to read on the dataset's own grid."""
    return [selected_band(dataset, selector) for selector in hiding_selectors(dataset, bands)]


_DST_RECT = re.compile(r'<DstRect xOff="([^"]+)" yOff="([^"]+)" xSize="([^"]+)" ySize="([^"]+)"')


def vrt_footprints(dataset: gdal.Dataset, bands: list[int]) -> Optional[list[Optional[np.ndarray]]]:
    """For each of `bands` of a VRT, the rectangles (n, 4: column, row, width, height) its sources
    fill where GDAL finds gaps between them and the band has no nodata value: it reads 0 there,
    which the plugin took for data (a mosaic built of tiles with gaps between them classified a
    third of its pixels from nothing: red team of 2026-12-04); None for a band without such gaps.
    None for a dataset none of whose bands has any (not a VRT, a warped VRT without a list of
    sources, a source without a placement)."""
    if dataset.GetDriver().ShortName != "VRT":
        return None
    footprints = [_band_footprint(dataset, number) for number in bands]
    return footprints if any(footprint is not None for footprint in footprints) else None


def _band_footprint(dataset: gdal.Dataset, number: int) -> Optional[np.ndarray]:
    band = dataset.GetRasterBand(number)
    sources = list((band.GetMetadata("vrt_sources") or {}).values())
    if band.GetNoDataValue() is not None or not sources:
        return None
    status, _percent = band.GetDataCoverageStatus(0, 0, dataset.RasterXSize, dataset.RasterYSize)
    placed = [_DST_RECT.search(source) for source in sources]
    if not status & gdal.GDAL_DATA_COVERAGE_STATUS_EMPTY or not all(placed):
        return None
    return np.array([[float(number) for number in match.groups()] for match in placed])


def signed_bytes(band: gdal.Band) -> bool:
    """Whether the band holds signed bytes: Int8 (GDAL 3.7 and later), or marked (GDAL 3.6)."""
    return band.DataType == getattr(gdal, "GDT_Int8", None) or marked_signed_bytes(band)


def marked_signed_bytes(band: gdal.Band) -> bool:
    """Whether GDAL 3.6 reads the band as bytes 0 to 255 that are signed (PIXELTYPE=SIGNEDBYTE).
    GDAL 3.7 and later read such bands as Int8, and print a warning when asked for PIXELTYPE."""
    return (not hasattr(gdal, "GDT_Int8") and band.DataType == gdal.GDT_Byte
            and band.GetMetadataItem("PIXELTYPE", "IMAGE_STRUCTURE") == "SIGNEDBYTE")


def _unsigned(band: gdal.Band) -> bool:
    return band.DataType in (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_UInt32, getattr(gdal, "GDT_UInt64", None))


def signed_byte_source(dataset: gdal.Dataset, depth: int = 8, seen: Optional[set] = None,
                       unsigned_above: bool = False) -> Optional[str]:
    """The first source file of signed bytes that a virtual raster (VRT) reads wrongly, or None,
    following VRTs of VRTs `depth` levels down, each file once (VRTs that name each other).
    GDAL 3.6 has no signed type for them (PIXELTYPE=SIGNEDBYTE, which a VRT drops: -3 reads
    as 253 through any VRT); GDAL 3.7 and later read them as Int8, rightly through a VRT of a
    signed type and as 0 through one of an unsigned type (Byte, UInt16...)."""
    if depth == 0 or dataset.GetDriver().ShortName != "VRT":
        return None
    unsigned = unsigned_above or any(_unsigned(dataset.GetRasterBand(n)) for n in range(1, dataset.RasterCount + 1))
    if hasattr(gdal, "GDT_Int8") and not unsigned:
        return None  # no source is opened where newer GDAL reads signed bytes rightly
    seen = set() if seen is None else seen
    for path in (dataset.GetFileList() or [])[1:]:
        if path in seen:
            continue
        seen.add(path)
        with gdal_pam("NO"):
            source, _message = gdal_call(gdal.Open, path)
        if source is None:
            continue
        if any(signed_bytes(source.GetRasterBand(number)) for number in range(1, source.RasterCount + 1)):
            return path
        hidden = signed_byte_source(source, depth - 1, seen, unsigned)
        if hidden:
            return hidden
    return None


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
