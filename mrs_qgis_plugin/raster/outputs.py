"""Output files, checked before any work: a writable name with the right extension, and no
output that would replace an input (or one of its side files) or a layer given twice.

`files_written` says which files an output is (a GeoTIFF's side files and its style belong to
it); `writers` publishes them, `claim_outputs` protects the inputs from them.
"""

import contextlib
import os
import re
import stat
import tempfile
import unicodedata
from typing import Iterable, Iterator, List, Mapping, Optional, Sequence

from ...model_core.atomic import held, remove_stale_temporaries
from ...model_core.errors import InputError
from ...model_core.paths import check_decodable
from . import DRIVER_PREFIXED, absolute_path
from .classes import printable, unshowable

GEOTIFF_EXTENSIONS = (".tif", ".tiff")
QGIS_TEMPORARY = re.compile(r"[/\\]processing_[A-Za-z0-9]{6}[/\\][0-9a-f]{32}$")
"""The folder of a temporary output in QGIS's temporary folder (processing_XXXXXX/<uuid>)."""
# Files GDAL or QGIS keep next to `map.tif` that describe its pixels; an old map's
# would be stale for the new one (category names, statistics, overviews, masks).
RASTER_SIDECARS = (".aux.xml", ".ovr", ".msk")
TEMPORARY_NAME_MARGIN = 41
"""Bytes the longest file written for an output adds to its name: the temporary file of a model's
checkpoint ('m.safetensors' -> '.m.checkpoint.safetensors.x1y2z3a4.partial.safetensors'), longer
than a map's ('.map.tif.x1y2z3a4.partial.aux.xml')."""


def qml_path(raster_path: str) -> str:
    """Where QGIS looks for a raster's default style: the same name with `.qml`."""
    return os.path.splitext(raster_path)[0] + ".qml"


NOT_FILES = re.compile(r"^(memory|ogr|postgis|postgres|spatialite|mssql|oracle|hana):", re.IGNORECASE)
"""Destinations that Processing writes through a QGIS data provider, not to a file."""


LAYER_OPTION = re.compile(r"\|[a-z_]+=", re.IGNORECASE)
"""QGIS's layer options after a file name ('|layername=', '|subset='), or others an analyst may write
there ('|COMPRESS=')."""
QGIS_LAYER_OPTIONS = ("layername", "layerid", "subset", "geometrytype")
"""The options of QGIS's OGR sources that name a layer of a file or a part of one."""

VIRTUAL = re.compile(r"^(/vsi[a-z0-9_]*/|[a-z][a-z0-9+.-]+://)", re.IGNORECASE)  # C:// is a drive
"""A GDAL virtual file system path (/vsimem/, /vsizip/) or a URL (file://, s3://): not a file or folder
of the file system, though a folder of its name can be made on disk."""


def refuse_virtual(path: str, param: str, what: str) -> None:
    """Refuses an output that is a GDAL virtual path or a URL: a demo scene written to /vsimem/ was
    lost with the process after success was said (red team of 2026-12-05)."""
    if VIRTUAL.match(path):
        raise InputError(f"{param}: {path} is a GDAL virtual path or a URL, not a {what} on disk; choose a {what} on "
                         "disk (a plain path).")


def refuse_dangling_link(path: str, param: str, what: str) -> None:
    """Refuses an output that is a link to nothing: where the output is written (through the link, or
    in its place) would be a guess (a red team of 2026-12-07 found maps refused so, reports and models
    written in the link's place)."""
    if os.path.islink(path) and not os.path.exists(path):
        raise InputError(f"{param}: {path} is a link to {os.readlink(path)}, which does not exist; choose a new "
                         f"{what}, or remove the link first.")


def check_output_path(path: str, param: str, extensions: Sequence[str] = GEOTIFF_EXTENSIONS) -> str:
    """The absolute path of an output file, after checking that it can be written.

    The name must end in one of `extensions`: a map is always a GeoTIFF, and silently
    adding an extension would put it somewhere the caller does not look."""
    if not path:
        raise InputError(f"{param}: no output file was given; choose a file name ending in {extensions[0]}.")
    scheme = NOT_FILES.match(path)
    if scheme:
        raise InputError(f"{param}: {path} is a layer of QGIS' {scheme.group(1)} provider, not a file; the MRS "
                         f"algorithms write files: give a file name ending in {extensions[0]}.")
    refuse_virtual(path, param, "file")
    if any(unshowable(character) for character in path):  # U+2028 split a log line too (red team of 2026-12-05)
        raise InputError(f"{param}: {printable(path)} holds a control or reordering character (such as a line "
                         "break, shown escaped); choose a name without one.")
    name = os.path.basename(path)
    if name != name.strip():  # ' map.tif' was written so, 'map.tif ' said not to end in .tif (red team of 2026-12-05)
        raise InputError(f"{param}: '{path}' begins or ends with a space; remove it (spaces inside a name are fine).")
    if path[:1] in "'\"" and path[-1:] == path[:1]:
        raise InputError(f"{param}: {path} is written within quotes, which would be part of the file name; remove them "
                         "(on a command line, quote the whole argument).")
    if path.endswith(("/", os.sep)):  # written as a file of that name (red team of 2026-12-05)
        raise InputError(f"{param}: {path} ends in '{path[-1]}', as a folder's name may; give a file name ending in "
                         f"{extensions[0]}.")
    option = LAYER_OPTION.search(path)
    if option and option.group(0)[1:-1].lower() in QGIS_LAYER_OPTIONS:
        raise InputError(f"{param}: {path} names a layer of a file ({option.group(0)}), which an output cannot "
                         f"take: it is a file of its own. Give the file name alone, ending in {extensions[0]}.")
    if option:  # a creation option was said to name a layer (a helper's red team of 2026-12-07)
        raise InputError(f"{param}: {path} holds an option after the file name ({option.group(0)}), which an output "
                         "cannot take: the plugin chooses its files' format options (a map is a tiled, compressed "
                         f"GeoTIFF). Give the file name alone, ending in {extensions[0]}.")
    path = absolute_path(path)
    check_decodable(path, param)
    longest = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
    if len(os.fsencode(path)) >= longest:  # its folder was said not to exist (red team of 2026-12-05)
        raise InputError(f"{param}: the path {path[:60]}... is longer than the {longest:,} bytes a path may have "
                         "here; choose a shorter one.")
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise InputError(f"{param}: {path} is a folder; give a file name ending in {extensions[0]}.")
    refuse_dangling_link(path, param, "file name")
    if os.path.exists(path) and not os.path.isfile(path):
        raise InputError(f"{param}: {path} is not a regular file (a pipe, device or socket); choose a new file name.")
    if not path.lower().endswith(tuple(extensions)):
        raise InputError(f"{param}: {path} does not end in {' or '.join(extensions)}; give a name ending in {extensions[0]}.")
    if name.lower() in extensions:  # a hidden file whose style QGIS did not find (red team of 2026-12-06)
        raise InputError(f"{param}: {path} has no name before its extension; give a name such as "
                         f"landcover{extensions[0]}.")
    temporary = os.path.dirname(folder)
    if QGIS_TEMPORARY.search(folder) and not os.path.isdir(temporary):  # a helper's red team of 2026-12-05
        raise InputError(f"{param}: {path} lies in a temporary folder of QGIS, {temporary}, which no longer exists "
                         f"(QGIS deletes it when it closes, and a clean-up of {os.path.dirname(temporary)} may delete "
                         "it before); give a file of your own, or restart QGIS for a new one.")
    if os.path.exists(folder) and not os.path.isdir(folder):  # said not to exist (a helper's red team of 2026-12-07)
        raise InputError(f"{param}: {folder} is a file, not a folder, so {os.path.basename(path)} cannot be put in "
                         "it; choose a folder.")
    if not os.path.isdir(folder):
        raise InputError(f"{param}: the folder {folder} does not exist; choose an existing folder.")
    protected = next((written for written in files_written(path) if _protected_in_folder(written, folder)), None)
    if protected:
        raise InputError(f"{param}: {protected} belongs to another user, in a folder where only a file's owner may "
                         "replace it (sticky, as /tmp is); choose another file name.")
    kept = next((written for written in files_written(path) if _write_protected(written)), None)
    if kept:  # replaced by a rename around the protection (red team of 2026-12-05)
        raise InputError(f"{param}: {kept} is write-protected (read-only); make it writable or choose another file "
                         "name.")
    side = next((written for written in files_written(path)[1:] if os.path.isdir(written)), None)
    if side:  # found before the work, not when the finished map is put in place (red team of 2026-12-04)
        raise InputError(f"{param}: {side}, which belongs to the output {path}, is a folder; move it away or give "
                         "another file name.")
    longest = os.pathconf(folder, "PC_NAME_MAX") - TEMPORARY_NAME_MARGIN
    if len(os.fsencode(os.path.basename(path))) > longest:
        raise InputError(f"{param}: the file name {os.path.basename(path)[:40]}... is longer than the {longest} bytes "
                         "an output's name may have in this folder; choose a shorter name.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(
            f"{param}: the folder {folder} cannot be written ({error.strerror}); choose a folder you can write to."
        ) from error
    return path


def _write_protected(path: str) -> bool:
    """Whether `path` is a file that no one may write (chmod a-w), which its owner meant to keep."""
    return os.path.isfile(path) and not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def _protected_in_folder(path: str, folder: str) -> bool:
    """Whether a sticky folder keeps this process from replacing the existing file at `path`: it
    is neither the file's owner nor the folder's (nor root). Found after the work, when the map
    was put in place (red team of 2026-12-04)."""
    if not hasattr(os, "geteuid") or not os.path.lexists(path):
        return False
    user = os.geteuid()
    folder_status, file_status = os.stat(folder), os.lstat(path)
    return (bool(folder_status.st_mode & stat.S_ISVTX) and user not in (0, file_status.st_uid, folder_status.st_uid))


def _refuse_shared_style(path: str, param: str) -> None:
    """Refuses a map beside another raster of the same name but its extension ('map.tiff' beside
    'map.tif', 'b.tif' beside 'b.vrt'): both are styled by one `.qml`, so writing the map's restyled
    the other (its classes shown as numbers, red team of 2026-12-04)."""
    stem, folder = os.path.splitext(os.path.basename(path))[0], os.path.dirname(path)
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # a drop box (0733) can be written, not listed: it ended in a PermissionError (a helper's audit)
        return
    for name in names:
        other = os.path.join(folder, name)
        if (os.path.splitext(name)[0] == stem and os.path.isfile(other) and not same_file(other, path)
                and other != qml_path(path) and _is_raster(other)):
            raise InputError(f"{param}: {path} would share its style file {qml_path(path)} with {other}, which QGIS "
                             "styles with it too; choose another name, or delete that file first.")


PLUGIN_STYLE_START = ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
                      '<qgis version="3.22.0" styleCategories="Symbology">')
"""How the styles the plugin writes begin (`writers._qml`): a style beside no map that begins so
is one of a map since deleted, which a new map may replace."""


def _refuse_foreign_style(path: str, param: str) -> None:
    """Refuses a map whose style file exists and is no raster style: the hand-made style of a
    vector layer of that name (roads.shp's roads.qml) was replaced (red team of 2026-12-04); and a
    map not written yet whose style exists and is not one the plugin writes (red team of
    2026-12-05: a paletted style made for the map to come was replaced)."""
    style = qml_path(path)
    if not os.path.isfile(style):
        return
    try:
        with open(style, "rb") as handle:
            start = handle.read(1 << 20)
    except OSError:
        start = b"?"
    if start.strip() and b"<rasterrenderer" not in start:  # an empty one styles nothing
        raise InputError(f"{param}: {style}, the style file of {path}, exists and is not a raster style (it may style "
                         "another layer of that name); choose another name, or delete that file first.")
    written_here = start.replace(b"\r\n", b"\n").startswith(PLUGIN_STYLE_START.encode())  # Windows writes \r\n
    if start.strip() and not os.path.lexists(path) and not written_here:
        raise InputError(f"{param}: {style}, the style file of {path}, exists without that map and was not written by "
                         "this plugin (a style made for the map?); writing the map would replace it. Choose another "
                         "name, or delete that file first.")


def _is_raster(path: str) -> bool:
    """Whether GDAL opens the file as a raster (nothing is written): identifying it by its name and
    first bytes took a GeoPackage of points for one (helpers' review of 2026-12-04)."""
    from osgeo import gdal

    from .gdal_io import gdal_pam, gdal_quiet  # GDAL is imported at run time only (the provider loads this module)

    with gdal_quiet(), gdal_pam("NO"):
        try:
            return gdal.OpenEx(path, gdal.OF_RASTER) is not None
        except RuntimeError:
            return False


def files_written(path: str) -> List[str]:
    """The files an output at `path` replaces: a GeoTIFF's side files (which an old map's
    would leave stale) and its style belong to it."""
    if not path.lower().endswith(GEOTIFF_EXTENSIONS):
        return [path]
    return [path, *(path + suffix for suffix in RASTER_SIDECARS), qml_path(path)]


def _input_files(source: str, layer: bool) -> List[str]:
    """The file of an input (a layer source such as 'file.gpkg|layername=x' included) and,
    for a layer, the side files GDAL and QGIS keep for it (.aux.xml, .ovr, .msk, .qml)."""
    path = source.split("|")[0]
    prefixed = DRIVER_PREFIXED.match(path)  # GPKG:/data.gpkg:height (red team of 2026-12-05)
    if prefixed and os.path.exists(prefixed.group("path")):
        path = prefixed.group("path")
    if not path or path.startswith("/vsi") or "://" in path:
        return []
    path = absolute_path(path)
    return [path, *(path + suffix for suffix in RASTER_SIDECARS), qml_path(path)] if layer else [path]


def same_file(first: str, second: str) -> bool:
    """Whether two paths are one file (through links too)."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _alike_but_for_case(first: str, second: str) -> bool:
    """Whether two paths name one file where letter case does not count (Windows, macOS): letter by
    letter in upper case, as NTFS compares names ('Straße' and 'strasse' are two names there, which
    casefold() took for one; 'ς' and 'σ' one, which lower() took for two: reviews of 2026-12-05), and
    with accents composed, as macOS compares them ('café' of one character or of 'e' and an accent)."""
    def compared(path: str) -> str:
        return "".join(upper if len(upper := letter.upper()) == 1 else letter
                       for letter in unicodedata.normalize("NFC", os.path.realpath(path)))

    return compared(first) == compared(second)


def refuse_shared_outputs(outputs: Mapping[str, str], described: Optional[Mapping[str, str]] = None) -> None:
    """Refuse two outputs of one run that are one file, or one of which is the other's side file
    (a GeoTIFF's style or statistics), naming both; `described` says what an output is, where its
    parameter name alone would not."""
    described = described or {}
    named = list(outputs.items())
    for index, (second, second_path) in enumerate(named):
        for first, first_path in named[:index]:
            pairs = [(one, other) for one in files_written(first_path) for other in files_written(second_path)]
            if any(same_file(one, other) for one, other in pairs):
                raise InputError(f"{second}: {second_path} would take the place of {described.get(first, first)} "
                                 f"{first_path} or of its side files; choose another name.")
            if any(_alike_but_for_case(one, other) for one, other in pairs):
                raise InputError(f"{second}: {second_path} differs from {described.get(first, first)} {first_path} "
                                 f"only in letter case (or in how an accent is encoded), and would take its place on "
                                 f"Windows and macOS; choose another name.")


def _refuse_repeated_layers(layers: Mapping[str, Iterable[Optional[str]]]) -> None:
    """Refuse a layer given twice (the same file and layer, however spelled): as an auxiliary
    layer twice, as the map and its own reference, as a scene and a further scene."""
    seen: List[tuple] = []
    for param, sources in layers.items():
        for source in sources:
            files = _input_files(source or "", False)
            if not files:
                continue
            options = "|".join(sorted(part.strip() for part in source.split("|")[1:]))
            # the table or variable of one file (GPKG:f.gpkg:height and :intensity) is a layer of its own
            # (they were refused as one: a helper's red team of 2026-12-05); the file alone may be any of them
            prefixed = DRIVER_PREFIXED.match(source.split("|")[0])
            table = prefixed.group(0).rsplit(":", 1)[1] if prefixed else None
            earlier = next((first for first, path, first_options, first_table in seen
                            if first_options == options and same_file(files[0], path)
                            and (table is None or first_table is None or table == first_table)), None)
            if earlier is not None:
                where = "is given twice" if earlier == param else f"is also the input {earlier}"
                raise InputError(f"{param}: {source} {where}; each input must be a different layer. "
                                 f"Choose the right layer for {param}.")
            seen.append((param, files[0], options, table))


def writes_outputs() -> bool:
    """Whether this process writes the outputs: under torchrun rank 0 alone does."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


@contextlib.contextmanager
def held_outputs(*paths: str) -> Iterator[None]:
    """A run's hold on its outputs for the whole run (`atomic.held`), so that a second run on any
    of them is refused (one writing its model where a training's checkpoint goes lost it to the
    checkpoint on cancel, red team of 2026-12-04; two classifications started within a second on
    one map both ran, the map only held once written, red team of 2026-12-05; reports too); under
    torchrun rank 0's, the process that writes them."""
    if not writes_outputs():
        yield
        return
    with contextlib.ExitStack() as stack:
        for path in paths:
            stack.enter_context(held(path))
        yield


SIDE_FILE_ROLES = {".qml": "the style", ".aux.xml": "the metadata (statistics, nodata, class names)",
                   ".ovr": "the overviews", ".msk": "the mask"}


def _side_file_role(path: str) -> str:
    """What QGIS and GDAL read a side file as, by its ending."""
    return next((role for ending, role in SIDE_FILE_ROLES.items() if path.lower().endswith(ending)), "a part")


def claim_outputs(outputs: Mapping[str, str], layers: Mapping[str, Iterable[Optional[str]]],
                  files: Optional[Mapping[str, Optional[str]]] = None,
                  distinct: Optional[Mapping[str, Iterable[Optional[str]]]] = None) -> None:
    """Before any work: the refusals of `outputs_spare_inputs`; then remove the temporary files
    that a killed run left for these outputs."""
    outputs_spare_inputs(outputs, layers, files, distinct)
    if not writes_outputs():
        return  # under torchrun only rank 0 writes, and only it cleans up (never a file rank 0 is writing)
    for output_param, output in outputs.items():
        for written in files_written(output):
            if remove_stale_temporaries(written):
                raise being_written(output_param, output)


def outputs_spare_inputs(outputs: Mapping[str, str], layers: Mapping[str, Iterable[Optional[str]]],
                         files: Optional[Mapping[str, Optional[str]]] = None,
                         distinct: Optional[Mapping[str, Iterable[Optional[str]]]] = None) -> None:
    """Refuse a layer given twice, and an output that would replace an input or one of its side
    files (through a link or another spelling of the path too), naming both parameters, or a style
    that is not its own. Also what a dialog's check says before the run (a helper's desktop check of
    2026-12-06: an OUTPUT equal to INPUT_HSI was refused in the log of a run that then 'finished').

    `outputs` maps parameter names to checked output paths; `layers` parameter names to
    the paths or layer sources of layers (None for an empty optional parameter), which
    have side files; `files` parameter names to other input files (model files), which
    have none. `distinct` lists the layers that must differ from each other, when not
    all of `layers` must (scenes of an archive may share one elevation raster)."""
    _refuse_repeated_layers(layers if distinct is None else distinct)
    inputs = [(param, source, True) for param, sources in layers.items() for source in sources]
    inputs += [(param, source, False) for param, source in (files or {}).items()]
    for output_param, output in outputs.items():
        for written in files_written(output):
            for input_param, source, layer in inputs:
                clash = next((item for item in _input_files(source or "", layer) if same_file(written, item)), None)
                if clash is None:
                    continue
                main = _input_files(source, layer)[0]
                named = f"the input {input_param} ({main})"
                if not os.path.lexists(written):  # 'would replace' none (helper, 2026-12-05)
                    read = ("would be read by QGIS and GDAL as" if written == output else
                            f"would write {written}, which QGIS and GDAL would then read as")
                    raise InputError(f"{output_param}: {output} {read} {_side_file_role(written)} of {named}. "
                                     "Choose another output file name.")
                if not same_file(clash, main):  # was said to be the input itself (2026-12-06)
                    what = "is" if written == output else f"would replace {written},"
                    raise InputError(f"{output_param}: {output} {what} {_side_file_role(written)} of {named}; writing "
                                     "it would destroy that file. Choose another output file name.")
                what = "is" if written == output else f"would replace {written}, which belongs to"
                raise InputError(f"{output_param}: {output} {what} {named}; writing it would destroy that input. "
                                 "Choose another output file name.")
    for output_param, output in outputs.items():
        if output.lower().endswith(GEOTIFF_EXTENSIONS):
            _refuse_shared_style(output, output_param)
            _refuse_foreign_style(output, output_param)


def being_written(param: str, output: str) -> InputError:
    """The refusal of an output that another run is writing now."""
    return InputError(f"{param}: {output} is being written by another run now; wait until it has ended, or choose "
                      "another output file name.")
