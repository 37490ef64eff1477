"""`bin/mrs`: the jobs of the Processing algorithms on a machine without QGIS.

    bin/mrs pretrain --INPUT_HSI=hsi.tif --INPUT_AUX=dsm.tif --OUTPUT=pretrained.safetensors

The parameters, their defaults, checks and help are those of the algorithms
(mrs_qgis_plugin.job_parameters); layers are files (rasters GDAL opens, vectors OGR
opens, 'file.gpkg|layername=x' for one layer of several, with layerid=N and
subset=<condition> as QGIS writes them), and the run is the
engine's `runs.run`, as in QGIS. Log lines and progress go to stderr, the
results (NAME:<tab>value, as qgis_process prints them) to stdout. Exit codes:
0 done, 1 refused input or failed run (one sentence on stderr), 2 a command
line that names no job or an unknown parameter, 130 canceled (Ctrl-C, SIGTERM, SIGHUP).
Imports numpy, GDAL's bindings, torch and safetensors only (and matplotlib for the
heat map of redundancy), and torch only for a run.
"""

import codecs
import contextlib
import locale
import math
import os
import re
import sys
from typing import Any, Callable, Dict, Optional, Sequence, TextIO, Tuple

from ..model_core.errors import Canceled, InputError, ModelFileError, MrsError, ReadError, first_line
from ..model_core.names import joined
from . import parameters as spec
from .dependencies import MATPLOTLIB_INSTALL
from .job_parameters import JOBS, REDUNDANCY_PICTURED
from .raster import DRIVER_PREFIXED, split_source
from .runs import file_layer_name
from .terminal import (TerminalReport, end_at_once_on_signals, exit_now, is_first_on_its_machine, is_first_process,
                       own_line, rank, write_error, written)

PROGRAM = "bin/mrs"
TEMPORARY_OUTPUT = "TEMPORARY_OUTPUT"
"""qgis_process's value of an output to write to a temporary file (QgsProcessing.TEMPORARY_OUTPUT)."""
EXIT_FAILED, EXIT_USAGE, EXIT_CANCELED = 1, 2, 130
NUMBER = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
EXTENT_PATTERN = re.compile(rf"{NUMBER},{NUMBER},{NUMBER},{NUMBER}(?:\[\s*(.*?)\s*\])?\s*")
VALUE_HINTS = {
    spec.RASTER: "FILE", spec.RASTERS: "FILE (repeat for more)", spec.VECTOR: "FILE[|layername=NAME]",
    spec.FIELD: "FIELD", spec.EXTENT: "XMIN,XMAX,YMIN,YMAX[ [CRS]]|LAYER_FILE", spec.INTEGER: "N", spec.NUMBER: "X",
    spec.BOOLEAN: "true|false", spec.DEVICE: "auto|cpu|cuda|cuda:N", spec.MODEL_FILE: "FILE.safetensors",
    spec.FILE_IN: "FILE", spec.FILE_OUT: "FILE", spec.RASTER_OUT: "FILE.tif",
    spec.VECTOR_OUT: "FILE.gpkg", spec.FOLDER_OUT: "FOLDER",
}


class UsageError(Exception):
    """A command line that names no job, or a parameter the job does not have."""


def parse_arguments(job: spec.Job, arguments: Sequence[str]) -> Dict[str, Any]:
    """--NAME=value or --NAME value pairs as {NAME: text}; a raster list collects every repetition."""
    known = {p.name: p for p in job.parameters}
    given: Dict[str, Any] = {}
    items = list(arguments)
    while items:
        item = items.pop(0)
        if not item.startswith("--"):
            raise UsageError(f"'{item}' is not a parameter; give each one as --NAME=value "
                             f"(see {PROGRAM} {job.name} --help).")
        name, has_value, value = item[2:].partition("=")
        if not name:
            raise UsageError(f"'{item}' is not a parameter; give each one as --NAME=value (see {PROGRAM} {job.name} "
                             "--help).")
        if name in {output.name for output in job.outputs}:
            raise UsageError(f"{name} is a result of {job.name}, not a parameter; leave --{name} out (see {PROGRAM} "
                             f"{job.name} --help for its parameters).")
        if name not in known:
            raise UsageError(f"{job.name} has no parameter {name}{spec.meant_text(name, list(known))}; see {PROGRAM} "
                             f"{job.name} --help for its parameters.")
        if not has_value:
            if not items or items[0].startswith("--"):
                raise UsageError(f"--{name} has no value; write --{name}=value.")
            value = items.pop(0)
        parameter = known[name]
        if parameter.kind not in spec.PLAIN_KINDS:  # an EXTENT's numbers start with no ~
            value = os.path.expanduser(value)  # the shell leaves the ~ of --NAME=~/file alone
        # The job asks for an output it needs; an optional one left empty was taken for none (red team of 2026-12-05).
        if not value.strip() and (parameter.kind not in spec.DESTINATIONS or parameter.optional):
            raise UsageError(spec.empty_value_problem(parameter, f"--{name}"))
        if parameter.kind in spec.DESTINATIONS and value.strip() == TEMPORARY_OUTPUT:  # a qgis_process command's
            raise UsageError(f"--{name}={TEMPORARY_OUTPUT} is QGIS's temporary file, which {PROGRAM} does not make; "
                             "give the file to write" + (f", or leave --{name} out for none." if parameter.optional
                                                         else "."))
        if parameter.kind == spec.RASTERS:
            _refuse_a_list_in_one_value(name, value)
            given.setdefault(name, []).append(value)
        elif name in given:
            raise UsageError(f"--{name} is given twice; give it once.")
        else:
            given[name] = value
    return given


def extent_of(text: str, hsi_path: str, say: Callable[[str], None] = lambda line: None
              ) -> Tuple[float, float, float, float]:
    """EXTENT as qgis_process takes it, 'xmin,xmax,ymin,ymax [EPSG:32632]' or a layer's file
    ('area.gpkg', 'area.gpkg|layername=x', 'scene.tif': that layer's extent), as (xmin, ymin,
    xmax, ymax) in the CRS of the hyperspectral raster (the bounds of the extent reprojected,
    when its CRS is known and another, which `say` hears)."""
    from osgeo import osr

    from .raster.gdal_io import gdal_call, missing_file_problem, open_raster
    from .raster.grid import (extent_beyond_its_crs, extent_not_transformable, extent_taken_into, extent_without_area,
                              srs_from_wkt, transformation)

    match = EXTENT_PATTERN.fullmatch(text)
    if match:
        bounds = tuple(float(match.group(index)) for index in (1, 3, 2, 4))
        source = None
        if match.group(5):  # '[]', QGIS's for a CRS without a code (the project's), is none here
            source = osr.SpatialReference()
            known, _message = gdal_call(source.SetFromUserInput, match.group(5))  # quiet: the sentence below says it
            if known != 0:
                raise InputError(spec.unknown_extent_crs(match.group(5)))
            source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    elif names_a_layer(text):
        bounds, source = _layer_extent(text)
    elif (file := _written_file(text)) and (missing := missing_file_problem(file, "EXTENT")):
        raise InputError(missing)  # 'aera.gpkg', a typo: said missing, as other inputs' files (a helper's audit)
    else:
        raise InputError(f"EXTENT is '{text}'; write it as xmin,xmax,ymin,ymax in the CRS of INPUT_HSI, "
                         "or add the CRS of the numbers: xmin,xmax,ymin,ymax [EPSG:32632], or give a layer's file.")
    if source is None:
        return bounds
    name = file_layer_name(hsi_path)
    target = srs_from_wkt(open_raster(hsi_path, f"The hyperspectral layer '{name}'").GetProjection())
    if target is None or source.IsSame(target):
        return bounds
    refusal = (extent_without_area(bounds, source.ExportToWkt())  # before it is taken into another CRS
               or extent_not_transformable(source.ExportToWkt(), name, target.ExportToWkt()))
    if refusal:
        raise refusal
    transformed, _message = gdal_call(transformation(source, target)[0].TransformBounds, *bounds, 21)
    if transformed is None or not all(math.isfinite(value) for value in transformed):
        raise extent_beyond_its_crs(bounds, source.ExportToWkt(), name, target.ExportToWkt())
    say(extent_taken_into(bounds, source.ExportToWkt(), tuple(transformed), name, target.ExportToWkt()))
    return tuple(transformed)


def names_a_layer(extent: str) -> bool:
    """Whether EXTENT's text names a layer's file (not xmin,xmax,ymin,ymax): an input file, which an
    output must not replace; a GeoPackage's raster as 'GPKG:file.gpkg:table', as INPUT_HSI takes it
    (a helper's audit of 2026-12-07: the form its refusal advises was refused)."""
    return not EXTENT_PATTERN.fullmatch(extent) and os.path.exists(_file_of(split_source(extent)[0]))


def _file_of(path: str) -> str:
    """The file a path reads: that of a GDAL driver's prefix and a table ('GPKG:file.gpkg:table'), or
    the path (a file named 'area_12:30:00.tif' too: the review of the change)."""
    from osgeo import gdal

    prefixed = DRIVER_PREFIXED.match(path)
    if prefixed and not os.path.lexists(path) and gdal.GetDriverByName(path.split(":", 1)[0].upper()) is not None:
        return prefixed.group("path")
    return path


def _written_file(extent: str) -> Optional[str]:
    """The file EXTENT's text, neither numbers nor an existing file, names where it is written as a
    file's path: with a folder or a file name's suffix (not numbers with a typo, nor numbers before a
    '|'); else None."""
    file = _file_of(split_source(extent)[0])
    bare = file.strip()  # the spaces kept for the file's sentence, which says them
    return file if "/" in bare or os.sep in bare or re.fullmatch(r".*\.[A-Za-z]{2,}\d?", bare) else None


def _layer_extent(source: str) -> Tuple[Tuple[float, float, float, float], Any]:
    """The bounds (xmin, ymin, xmax, ymax) of a raster's or a vector layer's file given as EXTENT,
    and its spatial reference (None when it has none)."""
    from osgeo import gdal, osr

    from ..model_core.hooks import Hooks
    from .raster.gdal_io import file_kind, gdal_call, gdal_pam, open_raster
    from .raster.grid import Grid, layer_without_area, srs_from_wkt
    from .raster.vector_labels import UNDEFINED_SRS_NAMES, missing_layer_problem, open_vector_layer

    path, options = split_source(source)
    with gdal_pam("NO"):
        raster, _message = gdal_call(gdal.OpenEx, path, gdal.OF_RASTER)
    file = _file_of(path)
    if raster is None and file != path:  # 'GPKG:file.gpkg:table': a raster's, or a vector layer's
        table = path.rsplit(":", 1)[-1]
        with gdal_pam("NO"):
            vectors, _message = gdal_call(gdal.OpenEx, file, gdal.OF_VECTOR)
        if vectors is not None and vectors.GetLayerByName(table) is not None:  # was told to choose a raster (review)
            path, options, source = file, [f"layername={table}"], f"{file}|layername={table}"
        else:
            raster = open_raster(path, "EXTENT")
    if raster is not None and options and file_kind(path) == "raster":  # was 'a raster, not a vector layer' (audit)
        raise InputError(_raster_given_as_a_layer("EXTENT", source, options,
                                                  "a raster file, a vector layer, or xmin,xmax,ymin,ymax"))
    if raster is not None and not options:
        grid = Grid.of(raster)
        if not grid.georeferenced:  # its pixel numbers are no coordinates (review of 2026-12-05)
            raise InputError(f"EXTENT: the raster '{file_layer_name(source)}' ({path}) has no georeference, so no "
                             "extent; give another layer, or xmin,xmax,ymin,ymax.")
        return grid.bounds(), srs_from_wkt(raster.GetProjection())
    problem = missing_layer_problem(source, "EXTENT")
    if problem:
        raise InputError(problem)
    try:
        _dataset, layer, _operation = open_vector_layer(source, None, file_layer_name(source), Hooks())
    except InputError as error:
        raise InputError(f"EXTENT: {error}") from None
    # The features' own envelopes: a GeoPackage's stored extent ignores a subset (own bad input of 2026-12-05).
    xmin = ymin = math.inf
    xmax = ymax = -math.inf
    for feature in layer:
        geometry = feature.GetGeometryRef()
        if geometry is not None and not geometry.IsEmpty():  # an empty one's envelope is 0s or NaN
            west, east, south, north = geometry.GetEnvelope()
            xmin, xmax, ymin, ymax = min(xmin, west), max(xmax, east), min(ymin, south), max(ymax, north)
    if not (xmax > xmin and ymax > ymin):  # no geometry, one point, or a line along an axis
        raise layer_without_area(file_layer_name(source), path, (xmin, ymin, xmax, ymax))
    srs = layer.GetSpatialRef()
    if srs is None or srs.GetName() in UNDEFINED_SRS_NAMES:
        return (xmin, ymin, xmax, ymax), None
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return (xmin, ymin, xmax, ymax), srs


def raster_input(job: spec.Job, parameter: str, path: str) -> Any:
    """A raster file as the pipeline's `RasterInput`, refused as the algorithms refuse it when it
    is a file of variables rather than of bands, and under the parameter's name when it is a vector
    file (QGIS's dialog offers none there; the message named no parameter)."""
    from .raster.gdal_io import file_kind, missing_file_problem, variables_problem
    from .raster.sources import RasterInput

    problem = variables_problem(path, f"{parameter}: '{path}'")
    if problem:
        raise InputError(problem)
    file, options = split_source(path)
    if file_kind(file) == "vector":
        raise InputError(f"{parameter}: '{path}' is a vector layer, not a raster. Choose a raster file"
                         f"{_the_other_way(job, parameter)}.")
    if options:  # a file was said not to exist, and one that does not under its layer's name
        raise InputError(missing_file_problem(file, parameter) or _raster_given_as_a_layer(parameter, path, options))
    return RasterInput(path, file_layer_name(path))


def _raster_given_as_a_layer(parameter: str, path: str, options: Sequence[str], choose: str = "a raster file") -> str:
    """The sentence for a raster given with a vector layer's options ('lidar.tif|layername=x')."""
    return (f"{parameter}: '{path}' names a layer as a vector file's layers are named ('|{options[0]}'); a raster is "
            f"given by its file alone (one of a GeoPackage as GPKG:file.gpkg:table). Choose {choose}.")


def vector_input(job: spec.Job, parameter: spec.Parameter, source: str) -> Any:
    """A vector file (or 'file.gpkg|layername=x') as the pipeline's `VectorInput`; a file that
    cannot be read, or a raster, is said under the parameter's name, as a raster's is (red team of
    2026-12-05: 'The vector layer 'nonexist'' named no parameter)."""
    from .raster.gdal_io import file_kind, missing_file_problem
    from .raster.vector_labels import missing_layer_problem
    from .runs import VectorInput

    path = split_source(source)[0]
    problem = missing_file_problem(path, parameter.name)
    if problem:
        raise InputError(problem)
    kind, wanted = file_kind(path), joined([f"{geometry}s" for geometry in parameter.geometries], "or")
    if kind == "raster":
        raise InputError(f"{parameter.name}: '{path}' is a raster, not a vector layer. Choose a file of {wanted}"
                         f"{_the_other_way(job, parameter.name)}.")
    if kind is None and os.path.isdir(path):  # 'The vector layer 'adir' cannot be opened' (own bad input, 12-06)
        raise InputError(f"{parameter.name}: '{path}' is a folder that holds no vector layer GDAL/OGR can read (as "
                         f"a folder of shapefiles would). Choose a file of {wanted}.")
    problem = missing_layer_problem(source, parameter.name)
    if problem:
        raise InputError(problem)
    return VectorInput(source, file_layer_name(source))


def _the_other_way(job: spec.Job, parameter: str) -> str:
    """The clause that offers the labelled pixels' other parameter for a file of the other kind."""
    if job.labelled_pixels is None or parameter not in job.labelled_pixels:
        return ""
    vector, field, raster = job.labelled_pixels
    return f", or give it as {raster}" if parameter == vector else f", or give it as {vector} (with {field})"


def job_values(job: spec.Job, given: Dict[str, Any], say: Callable[[str], None] = lambda line: None
               ) -> Dict[str, Any]:
    """The values `runs.run` takes, from the texts of the command line; raises InputError with
    the sentence the algorithm would give for a refused one. `say` hears what becomes of an EXTENT in another CRS."""
    problem = spec.labelled_pixels_problem(job, given) or next(
        filter(None, (spec.problem(p, given.get(p.name), destinations_required=True) for p in job.parameters)), None)
    if problem:
        raise InputError(problem)
    values: Dict[str, Any] = {}
    for parameter in job.parameters:
        text = given.get(parameter.name)
        if parameter.kind in spec.PLAIN_KINDS:
            values[parameter.name] = spec.read(parameter, text)
        elif text is None:
            values[parameter.name] = None
        elif parameter.kind == spec.RASTER:
            values[parameter.name] = raster_input(job, parameter.name, text)
        elif parameter.kind == spec.RASTERS:
            values[parameter.name] = [raster_input(job, parameter.name, path) for path in text]
        elif parameter.kind == spec.VECTOR:
            values[parameter.name] = vector_input(job, parameter, text)
        elif parameter.kind == spec.EXTENT:
            values[parameter.name] = extent_of(text, given["INPUT_HSI"], say)
        else:
            values[parameter.name] = text
    return values


# Help ---------------------------------------------------------------------------


def _argument_line(parameter: spec.Parameter) -> str:
    hint = "|".join(parameter.choices) if parameter.kind == spec.CHOICE else VALUE_HINTS[parameter.kind]
    extension = re.search(r"\*(\.\w+)", parameter.file_filter or "") if parameter.kind == spec.FILE_OUT else None
    if extension:  # the one a file output must end with (red team of 2026-12-05: FILE said nothing of it)
        hint += extension.group(1)
    if parameter.default is not None:
        note = f"default {spec.shown_default(parameter)}"
    else:
        note = "optional" if parameter.optional else "required"
    if parameter.kind in (spec.INTEGER, spec.NUMBER):  # the dialogs keep the value in it (a helper, 2026-12-05)
        note += f", {spec.bounds_text(parameter)}"
    return f"  --{parameter.name}={hint}  ({note}{', advanced' if parameter.advanced else ''})"


def job_help(job: spec.Job) -> str:
    """The algorithm's help as the Toolbox shows it, then how each parameter is written here."""
    return "\n".join([
        f"usage: {PROGRAM} {job.name} --NAME=value ...",
        "",
        f"{job.display_name} (mrs:{job.name} in QGIS)",
        "",
        job.help(),
        "",
        "On the command line",
        *(_argument_line(p) for p in job.parameters),
        "Results are printed as NAME:<tab>value lines; log and progress go to standard error.",
    ])


def main_help() -> str:
    """The jobs as the Toolbox lists them, by group, each with its description."""
    lines = [f"usage: {PROGRAM} JOB --NAME=value ...   ({PROGRAM} JOB --help shows a job's parameters, "
             f"{PROGRAM} --version the plugin's version)", "",
             "The MRS land-cover jobs without QGIS: the parameters, defaults, model files and messages "
             "of the Processing algorithms mrs:JOB.", ""]
    for group, title in spec.GROUPS.items():
        jobs = [job for job in JOBS.values() if job.group == group]
        if jobs:
            lines.append(title)
        for job in jobs:
            lines.append(f"  {job.name:<12}{job.display_name}")
            lines.extend(f"              {paragraph}" for paragraph in job.description.splitlines())
        lines.append("")
    return "\n".join(lines).rstrip()


# Running --------------------------------------------------------------------------


# Python packages a job needs beyond numpy, GDAL, torch and safetensors for some of its outputs:
# job -> (module, what for, how to install, the outputs that need it).
EXTRA_PACKAGES = {"redundancy": ("matplotlib", "matplotlib, to draw the heat map of OUTPUT_PNG and OUTPUT_HTML",
                                 MATPLOTLIB_INSTALL, tuple(sorted(REDUNDANCY_PICTURED)))}
GDAL_BINDINGS = ("osgeo", "GDAL's Python bindings", "on Debian or Ubuntu: apt install python3-gdal, then a "
                                                      "virtual environment made with --system-site-packages")


_SHORT_OF_MEMORY = [False]
"""Whether a package could not be imported for want of memory (`_missing_packages`): the process then
ends without the interpreter's teardown, in which OpenBLAS's threads, still asking for memory, kept
it spinning for ever (a helper's red team of 2026-12-07, under ulimit -v)."""


def _missing_packages(job: spec.Job, given: Dict[str, Any]) -> Optional[str]:
    """A sentence naming the packages this Python cannot import for `job` and the outputs `given`, with
    how to install them; one that is installed but fails to import (a limit on memory: red team of
    2026-12-05) with why."""
    from .dependencies import (import_failures, import_problem, module_name, pinned_requirements, pip_install_command,
                               wants_memory)

    failures = import_failures(pinned_requirements()) if job.needs_torch else {}
    missing = [requirement for requirement, reason in failures.items() if reason == "not installed"]
    problems = [f"{joined([module_name(requirement) for requirement in missing])} (install with: {pip_install_command(missing)})"
                ] * bool(missing)
    problems += [f"{module_name(requirement)}, which it cannot use ({first_line(reason)}; "
                 + ("give it more memory)" if wants_memory(reason)
                    else f"reinstall it with: {pip_install_command([requirement], reinstall=True)})")
                 for requirement, reason in failures.items() if reason != "not installed"]
    reasons = list(failures.values())
    extra = EXTRA_PACKAGES.get(job.name)
    wanted = [extra[:3]] if extra and any(given.get(output) for output in extra[3]) else []
    for module, what, how in [GDAL_BINDINGS] + wanted:
        problem = import_problem(module)
        if problem == "not installed":
            problems.append(f"{what} ({how})")
        elif problem:
            reasons.append(problem)
            problems.append(f"{what}, which it cannot import ({first_line(problem)}"
                            + ("; give it more memory)" if wants_memory(problem) else ")"))
    _SHORT_OF_MEMORY[0] = any(wants_memory(reason) for reason in reasons)
    if not problems:
        return None
    return f"{PROGRAM} {job.name} needs {'; and '.join(problems)} in the Python that runs it ({sys.executable})."


def _print_results(results: Dict[str, Any], out: Optional[TextIO]) -> None:
    """The results, as qgis_process prints them; none when nobody reads standard output any more
    (the outputs are written all the same, so the run still succeeds). Standard output that cannot
    take them (a full disk) fails the run, naming them, as a script that reads them would miss them."""
    text = "".join(f"{name}:\t{value}\n" for name, value in results.items() if value is not None)
    error = write_error(out, text)
    if isinstance(error, UnicodeEncodeError):  # it was taken for nobody reading (red team of 2026-12-05)
        raise MrsError(f"The results could not be written to standard output, whose encoding ({error.encoding}) "
                       "cannot hold them: run with a UTF-8 locale or PYTHONIOENCODING=utf-8; the outputs are "
                       f"written:\n{text.rstrip()}")
    if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
        raise MrsError(f"The results could not be written to standard output ({error.strerror or error}); "
                       f"the outputs are written:\n{text.rstrip()}")


def run_job(job: spec.Job, given: Dict[str, Any], report: TerminalReport, out: TextIO) -> int:
    """Runs one job from the command line's texts; returns the exit code. SIGTERM and SIGHUP cancel it from the
    start: in the set-up they ended it with 143 unsaid (a helper's red team of 2026-12-06)."""
    from ..model_core.hooks import cancel_on_sigterm

    with cancel_on_sigterm(report.hooks()) as hooks:
        _refuse_file_names_gdal_reads_otherwise(job, given)
        missing = _missing_packages(job, given)
        if missing:
            raise MrsError(missing)
        from osgeo import gdal

        # GDAL 3.9 and later print a FutureWarning until a program chooses whether GDAL raises
        # exceptions; the jobs work either way (inside QGIS they leave QGIS' choice alone).
        gdal.DontUseExceptions()
        _refuse_a_proj_without_its_database()
        values = job_values(job, given, hooks.log)
        _refuse_outputs_over_inputs(job, given)
        from ..model_core.launcher import launched
        from .runs import run, start_torch
        from .same_inputs import check_same_inputs

        if launched() and not job.shares_processes and not is_first_process():
            # demoscene, redundancy and the others raced to write the same files (red team of 2026-12-05)
            written(report.stream, f"(rank {rank()}) {job.name} runs in one process, rank 0's; this process has "
                                   "nothing to do.\n")
            return 0
        hooks.check_cancel()
        if job.needs_torch:
            start_torch("command line", values.get("DEVICE"), hooks)
        if launched() and job.shares_processes:
            check_same_inputs(job, values, values.get("DEVICE") or "auto",
                              lambda line: written(report.stream, own_line(line)))  # every rank's (a review)
        results = run(job.name, values, hooks)
    report.finish()
    if is_first_process():
        _print_results(results, out)
    return 0


def _refuse_a_list_in_one_value(name: str, value: str) -> None:
    """Refuses a value of commas between files, one of them missing too (it was said to be one file that does
    not exist: a helper's red team of 2026-12-06), or a comma beside one file ('lidar.tif,': a review)."""
    parts = [os.path.expanduser(part.strip()) for part in value.split(",")]
    files = [part for part in parts if part]
    if len(parts) < 2 or os.path.exists(value) or not any(os.path.exists(part) for part in files):
        return
    if len(files) == 1:
        raise UsageError(f"--{name}={value} holds a comma beside one file; give it alone (--{name}={files[0]}).")
    missing = [part for part in files if not os.path.exists(part)]
    raise UsageError(f"--{name}={value} names several files in one value; give each as a --{name} of its own "
                     f"(--{name}={files[0]} --{name}={files[1]})"
                     + (f"; {joined(missing)} {'does' if len(missing) == 1 else 'do'} not exist." if missing else "."))


def _refuse_a_proj_without_its_database() -> None:
    """Refuses to start where GDAL's PROJ cannot find its database (PROJ_DATA or PROJ_LIB left pointing at
    another installation's): every CRS failed, said as an unknown EXTENT CRS, a full disk, or a map that
    could not be written after its whole classification (a helper's red team of 2026-12-06)."""
    from osgeo import gdal, osr

    from .raster.gdal_io import gdal_quiet

    with gdal_quiet():
        known = osr.SpatialReference().ImportFromEPSG(4326) == 0
        reason = gdal.GetLastErrorMsg()
    if not known:  # said once a machine, as a refusal of inputs is (a review of 2026-12-06)
        settings = ", ".join(f"{name}={os.environ[name]}" for name in ("PROJ_DATA", "PROJ_LIB") if name in os.environ)
        raise InputError(f"GDAL's PROJ cannot read its database of coordinate reference systems ({first_line(reason)}"
                         + (f"; {settings}): unset PROJ_DATA and PROJ_LIB, or set them" if settings else "): set "
                            "PROJ_DATA") + " to the folder holding the proj.db of this GDAL's PROJ, and run again.")


def _refuse_outputs_over_inputs(job: spec.Job, given: Dict[str, Any]) -> None:
    """`outputs_spare_inputs` before torch starts, as the dialogs check it before the run: an output
    that would replace an input was refused after the device's lines (a session's red team of
    2026-12-06). The job checks again as it starts."""
    from .raster.outputs import outputs_spare_inputs

    def value(parameter: spec.Parameter) -> Any:
        return given.get(parameter.name) if spec.is_given(given.get(parameter.name)) else None

    given_ones = [parameter for parameter in job.parameters if value(parameter) is not None]
    outputs = {parameter.name: os.path.abspath(value(parameter)) for parameter in given_ones
               if parameter.kind in (spec.FILE_OUT, spec.RASTER_OUT, spec.VECTOR_OUT)}
    layers = {parameter.name: list(value(parameter)) if parameter.kind == spec.RASTERS else [value(parameter)]
              for parameter in given_ones if parameter.kind in (spec.RASTER, spec.RASTERS, spec.VECTOR)
              or parameter.kind == spec.EXTENT and names_a_layer(value(parameter))}  # (a helper's audit, 12-07)
    files = {parameter.name: value(parameter) for parameter in given_ones
             if parameter.kind in (spec.MODEL_FILE, spec.FILE_IN)}
    try:
        outputs_spare_inputs(outputs, layers, files, distinct={})
    except OSError:  # a folder that cannot be listed: the job's own check says it
        return


def _lost_partner(error: RuntimeError) -> bool:
    """Whether an error is a torchrun group's exchange that failed (`distributed.lost_partner`)."""
    if "torch.distributed" not in sys.modules:
        return False
    from ..model_core.distributed import lost_partner

    return lost_partner(error)


def _refuse_file_names_gdal_reads_otherwise(job: spec.Job, given: Dict[str, Any]) -> None:
    """Refuses non-ASCII file and layer names where the locale's file names are not UTF-8 (Latin-1,
    or the C locale without Python's UTF-8 mode): Python and GDAL, which takes UTF-8, read them as
    two names (a helper's red team of 2026-12-05: a map said to be written was a file of 0 bytes, its
    data in hidden leftovers; an existing input 'did not exist'). Other values (a field's name) are
    read alike by both."""
    encoding = codecs.lookup(sys.getfilesystemencoding()).name
    if encoding == "utf-8":
        return
    for parameter in job.parameters:
        values = given.get(parameter.name)
        for value in values if isinstance(values, list) else [values]:
            if parameter.kind not in spec.PLAIN_KINDS and isinstance(value, str) and not value.isascii():
                typed = os.fsencode(value).decode("utf-8", "replace")  # as the terminal shows it
                raise MrsError(f"{parameter.name}: this process reads file names as {encoding} (its locale), but GDAL "
                               f"reads them as UTF-8, so {typed} would name another file for each: run it with a "
                               "UTF-8 locale (LC_ALL=C.UTF-8) or with PYTHONUTF8=1.")


def _help(text: str, out: TextIO, err: TextIO) -> int:
    """Writes the help to standard output; exit status 1, said, where it cannot take it (a full disk:
    it exited 0 with nothing written, a helper's red team of 2026-12-05); 0 where nobody reads it."""
    error = write_error(out, text + "\n")
    if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
        written(err, f"{PROGRAM}: the help could not be written to standard output ({error.strerror or error}).\n")
        return EXIT_FAILED
    return 0


_ENDED_ALONE = [False]


def ended_alone() -> bool:
    """Whether the last `main` ended this process without the others of its torchrun group, so that
    it must not wait for them as it leaves (`distributed.end_process`): a refusal or failure of its
    own, or a cancel before they voted to stop (`Canceled.voted`; a helper's red team of 2026-12-06:
    one process SIGTERM stopped in the start-up waited for the others, which waited in another
    exchange, until torchrun killed both 30 s later, leaving temporary files)."""
    return _ENDED_ALONE[0]


def _not_a_job(name: str, rest: Sequence[str]) -> str:
    """Why `name` names no job, and what to write (a helper's red team of 2026-12-06: 'workflow', which the
    jobs' help names, and a parameter before the job were told only that they are no job)."""
    if name == "workflow":
        return ("the workflow runs in QGIS only (mrs:workflow); here, run its steps in turn: pretrain, finetune, "
                f"classify and accuracy (see {PROGRAM} --help).")
    later = next((item for item in rest if item in JOBS), None)
    if name.startswith("-") and later:
        return f"'{name}' comes before the job; name the job first: {PROGRAM} {later} {name} ..."
    return (f"'{name}' is not a job{spec.meant_text(name, list(JOBS))}; use one of: {', '.join(JOBS)} "
            f"({PROGRAM} --help).")


def run_to_the_end(arguments: Sequence[str]) -> int:
    """`main`, then the end of bin/mrs's process: a signal after the run ends it at once with the
    run's status (`terminal.end_at_once_on_signals`), and a process of a torchrun group leaves
    without the interpreter's teardown, in which gloo's threads aborted it now and then
    (`distributed.end_process`; scripts that called `main` alone met it: a fresh clone's suite of
    2026-12-06). Returns the status where the process was not ended here."""
    code = main(arguments)
    if _SHORT_OF_MEMORY[0]:
        exit_now(code)
    end_at_once_on_signals(code)
    if "torch.distributed" in sys.modules:  # a voted cancel waits for the others' checkpoint, a refusal not
        from ..model_core.distributed import end_process

        end_process(code, alone=ended_alone())
    return code


def _version(out: TextIO, err: TextIO) -> int:
    from ..model_core import __version__

    return _help(f"{PROGRAM} {__version__} (the MRS plugin's jobs)", out, err)


DOTTED_I_LOCALES = ("tr", "az")
"""Languages whose capital of 'i' is 'İ': under their LC_CTYPE, GDAL 3.6's GeoPackage driver looks for
its tables in capitals and says 'ERROR 1: Cannot find table train_points' on runs that succeed (a
helper's red team of 2026-12-07)."""


def _plain_character_types() -> None:
    """The C library's character types of C.UTF-8 where the locale's are those of `DOTTED_I_LOCALES`;
    Python's own texts and file names do not depend on them."""
    current = locale.setlocale(locale.LC_CTYPE)
    if current.split("_")[0].split(".")[0].lower() in DOTTED_I_LOCALES:
        with contextlib.suppress(locale.Error):
            locale.setlocale(locale.LC_CTYPE, "C.UTF-8")


def main(arguments: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """bin/mrs with these arguments; returns the exit code (`ended_alone` says how it ended)."""
    _ENDED_ALONE[0] = True  # but where the work ended, or the group voted to stop
    _plain_character_types()
    arguments = list(arguments)
    if not arguments:  # with no job it is a usage error
        written(err, main_help() + "\n")
        return EXIT_USAGE
    if arguments[0] == "--version":  # it was said to be no job (a helper's red team of 2026-12-06)
        return _version(out, err)
    if arguments[0] in ("-h", "--help"):  # 'bin/mrs --help classify' showed the jobs (a helper's red team of 12-06)
        return _help(job_help(JOBS[arguments[1]]) if arguments[1:2] and arguments[1] in JOBS else main_help(), out,
                     err)
    name, rest = arguments[0], arguments[1:]
    job = JOBS.get(name)
    if job is None:
        written(err, f"{PROGRAM}: {_not_a_job(name, rest)}\n")
        return EXIT_USAGE
    if "-h" in rest or "--help" in rest:
        return _help(job_help(job), out, err)
    if "--version" in rest:  # was 'no parameter version (did you mean PRECISION?)' (a helper's audit of 2026-12-06)
        return _version(out, err)
    report = TerminalReport(err)
    report.cancel_on_interrupt()
    try:
        try:
            code = run_job(job, parse_arguments(job, rest), report, out)
            _ENDED_ALONE[0] = False  # its work ended, as the others' (run_job's refusals are MrsErrors, below)
            return code
        finally:
            report.run_over = True  # before the sentences below: a Ctrl-C now has nothing to stop
    except UsageError as error:
        # Under torchrun the processes of a machine parse the same arguments, but each machine its own
        # (a helper's red team of 2026-12-05: a typo in one machine's command was said nowhere).
        if is_first_on_its_machine():
            written(err, f"{PROGRAM}: {error}\n" if is_first_process() else f"{PROGRAM} (rank {rank()}): {error}\n")
        return EXIT_USAGE
    except MrsError as error:
        report.finish()
        _ENDED_ALONE[0] = not (isinstance(error, Canceled) and error.voted)
        # The processes of a machine open the same files: a refusal of its inputs or outputs is said by the first
        # of them (a helper's red team of 2026-12-06: each said it, twice on one machine, 8 times on 8 GPUs); a
        # process' own read of its own tiles or batches that failed, by that process (a review of 2026-12-06).
        if (is_first_on_its_machine() or isinstance(error, ReadError)
                or not isinstance(error, (InputError, ModelFileError))):
            written(err, own_line(str(error)))
        return EXIT_CANCELED if isinstance(error, Canceled) else EXIT_FAILED
    except RuntimeError as error:
        if not _lost_partner(error):
            raise
        report.finish()  # before the training's batches: gloo's traceback (a helper's red team of 2026-12-05)
        canceled = report.interrupts > 0  # SIGTERM to torchrun reaches them all, and one may stop first (a review)
        from ..model_core.distributed import lost_exchange

        message = str(Canceled()) if canceled else lost_exchange("run", error, ".")
        written(err, own_line(message))
        return EXIT_CANCELED if canceled else EXIT_FAILED
    except KeyboardInterrupt:  # a second Ctrl-C: a traceback said nothing more (red team of 2026-12-04)
        report.finish()
        written(err, "Stopped at once by a second Ctrl-C: this run wrote no output and no new checkpoint.\n")
        return EXIT_CANCELED
