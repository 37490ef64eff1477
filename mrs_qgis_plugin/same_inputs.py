"""Under torchrun every process runs the job on the files it is given, on its own machine: the
check that every process was given the same inputs, before any work.

Nothing else compares them: a stale copy of the classifier on one machine mixed two models in
one map without a word, other SAMPLES ended in a crash of gloo, another hyperspectral raster in
a DistributedDataParallel traceback (red team of 2026-12-05). Files are compared by their size
and the bytes of their start and end, not by their paths, which differ between machines."""

import hashlib
import os
import re
from typing import Any, Callable, Dict, Hashable, List, Optional, Tuple

from ..model_core.errors import InputError
from ..model_core.names import joined
from . import parameters as spec
from .raster import DRIVER_PREFIXED, split_source

SAMPLED_BYTES = 1 << 20
"""How much of a file's start, and of its end, goes into its fingerprint."""
SPREAD_BLOCKS, SPREAD_BYTES = 64, 16 << 10
"""Blocks read at even steps between a file's sampled ends, for its fingerprint: a copy of an
uncompressed raster that differed on 17 of its 64 bands, its size and ends alike, was taken for the
same on another machine (a helper's red team of 2026-12-07). An edit shorter than a 64th of a large
file may still fall between them."""
SIDE_FILES = (".dbf", ".shx", ".prj", ".cpg", ".hdr", ".tfw", ".wld")
"""Files named as a file is, another extension in place of its own, that are part of what it holds (a
shapefile's attributes, an ENVI raster's header with its wavelengths and nodata, a world file)."""
ADDED_SIDE_FILES = (".aux.xml", ".msk", ".hdr")
"""Files named as a file is with an extension added: GDAL's side file (its class names), a mask, a header."""


def _bytes_fingerprint(path: str) -> Hashable:
    """The size and a digest of the first and last SAMPLED_BYTES of a file and of SPREAD_BLOCKS
    blocks between them (None: no such file)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read(SAMPLED_BYTES))
            start, end = SAMPLED_BYTES, max(SAMPLED_BYTES, size - SAMPLED_BYTES)
            for offset in sorted({start + (end - start) * block // SPREAD_BLOCKS for block in range(SPREAD_BLOCKS)}):
                if offset < end:
                    handle.seek(offset)
                    digest.update(handle.read(min(SPREAD_BYTES, end - offset)))
            if size > SAMPLED_BYTES:
                handle.seek(end)
                digest.update(handle.read())
    except OSError:
        return None
    return size, digest.hexdigest()


def _file_within(source: str) -> Tuple[str, Tuple[str, ...]]:
    """The local file a GDAL source reads, and what names its part in it: 'GPKG:/d/s.gpkg:hsi' reads
    /d/s.gpkg, ('GPKG', 'hsi'); '/vsizip//d/a.zip/hsi.tif' reads /d/a.zip, ('/vsizip/', 'hsi.tif'); any
    other source itself, ()."""
    prefixed = DRIVER_PREFIXED.match(source)
    if prefixed:  # GDAL takes the driver's name in any letter case
        return prefixed.group("path"), (source.split(":", 1)[0].upper(), source.rsplit(":", 1)[-1])
    virtual = re.match(r"(/vsi(?:zip|tar|gzip|7z|rar)/)+", source)  # an archive's: /vsimem/, /vsis3/ hold no file here
    parts = source[virtual.end():].split("/") if virtual else []
    for count in range(len(parts), 0, -1):  # the archive: the longest start that is a file here
        if os.path.isfile("/".join(parts[:count])):
            return "/".join(parts[:count]), (virtual.group(0), "/".join(parts[count:]))
    return source, ()


def file_fingerprint(path: str) -> Hashable:
    """A file's `_bytes_fingerprint` and its side files' (`SIDE_FILES`), the same for a copy of it on
    another machine, with the source's options ('|layername=x'); a GeoPackage's table or an archive's
    file by the bytes of the file that holds it, and its name there (they were compared by their paths,
    a helper's audit of 2026-12-06: a copy refused, a stale file at the same path taken); a source that is
    no file here (a URL) as written."""
    file_path, options = split_source(path)
    file_path, naming = _file_within(file_path)
    own = _bytes_fingerprint(file_path)
    if own is None:
        return path
    stem = os.path.splitext(file_path)[0]
    sides = tuple(_bytes_fingerprint(stem + ending) for ending in SIDE_FILES) + tuple(
        _bytes_fingerprint(file_path + ending) for ending in ADDED_SIDE_FILES)
    return own, sides, naming + tuple(options)


def _fingerprint(parameter: spec.Parameter, value: Any) -> Hashable:
    """What a parameter's value is, whatever the machine: a file's fingerprint, a layer's file's
    (its name aside), a plain value as read."""
    if value is None:
        return None
    if parameter.kind == spec.RASTERS:
        return tuple(file_fingerprint(item.path) for item in value)
    if parameter.kind in (spec.RASTER, spec.VECTOR):
        return file_fingerprint(value.path)
    if parameter.kind in (spec.MODEL_FILE, spec.FILE_IN):
        return file_fingerprint(value)
    if parameter.kind == spec.EXTENT:  # reprojected by each machine's PROJ: the same to 9 digits
        return tuple(float(f"{number:.9g}") for number in value)
    return repr(value)


def _listed(values: Dict[str, Any]) -> List[List[str]]:
    """The rasters of each scene MORE_SCENES lists, as this process reads the list (none where it
    cannot: each process then refuses the list in its own words)."""
    from .scene_list import read_scene_list  # GDAL: not at plugin load

    try:
        return [scene.paths() for scene in read_scene_list(values["MORE_SCENES"], len(values.get("INPUT_AUX") or []))]
    except InputError:
        return []


def _fingerprints(job: spec.Job, values: Dict[str, Any], listed: List[List[str]]) -> Dict[str, Hashable]:
    """Each input's `_fingerprint`; a list of scenes by the rasters it lists, not by its text: the
    same list named other rasters on another machine, and another list the same ones (a helper's red
    team of 2026-12-05: a process pretrained on another raster than rank 0, without a word)."""
    found = {parameter.name: _fingerprint(parameter, values.get(parameter.name)) for parameter in job.parameters
             if parameter.kind not in spec.DESTINATIONS}
    if listed:
        found["MORE_SCENES"] = tuple(tuple(file_fingerprint(path) for path in scene) for scene in listed)
    return found


def _missing(job: spec.Job, values: Dict[str, Any], listed: List[List[str]]) -> Optional[str]:
    """Why the first input file of this process that cannot be opened cannot be (it does not exist
    on this machine, say), or None: a helper's red team of 2026-12-05 found a file missing on process
    0's machine said as 'process 1 was given another INPUT_HSI than process 0'."""
    from .raster.gdal_io import missing_file_problem  # GDAL: not at plugin load

    for parameter in job.parameters:
        value = values.get(parameter.name)
        if parameter.kind == spec.RASTERS and value:
            paths = [item.path for item in value]
        elif parameter.kind in (spec.RASTER, spec.VECTOR) and value is not None:
            paths = [value.path]
        elif parameter.kind in (spec.MODEL_FILE, spec.FILE_IN) and value:
            paths = [value, *(path for scene in (listed if parameter.name == "MORE_SCENES" else []) for path in scene)]
        else:
            continue
        problem = next((found for found in (missing_file_problem(split_source(path)[0], parameter.name)
                                            for path in paths) if found), None)
        if problem:
            return problem
    return None


def check_same_inputs(job: spec.Job, values: Dict[str, Any], device: str, waiting: Callable[[str], None]) -> None:
    """Joins the processes of a torchrun run (a long wait for them told to `waiting`) and refuses, on
    every process, inputs that differ from rank 0's (its outputs aside: rank 0 alone writes them)."""
    from ..model_core import distributed
    from ..model_core.device import resolve_device

    context = distributed.start(resolve_device(device), waiting)
    listed = _listed(values) if values.get("MORE_SCENES") else []
    mine = _fingerprints(job, values, listed)
    every = context.exchange((mine, _missing(job, values, listed)))
    problem = next((f"Under torchrun every process opens its inputs on its own machine, and process {rank} cannot: "
                    f"{missing}" for rank, (_theirs, missing) in enumerate(every or ()) if missing), None)
    for rank, (theirs, _missing_there) in enumerate(every[1:] if every and not problem else (), 1):
        differing = [name for name in mine if theirs.get(name) != mine[name]]
        if differing:  # the files' words for files only (a SEED was 'another file': a helper's red team of 12-07)
            files = any(name == "MORE_SCENES" or job.parameter(name).kind not in spec.PLAIN_KINDS for name in differing)
            why = (" (another file, or a copy that differs, side files such as .aux.xml or .dbf included)" if files
                   else "")
            problem = (f"Under torchrun every process must be given the same inputs, but process {rank} was given "
                       f"another {joined(differing)} than process 0{why}; give every process the same files and "
                       "values.")
            break
    problem = context.broadcast(problem)
    if problem:
        raise InputError(problem)
