"""bin/mrs's command line (cli.py): what a second mutation audit (2026-12-07) found no test pinned: the main help's
usage line, paragraphs and ending, a job's help between its title and its parameters, the other way to give labelled
pixels, the packages' sentence, the ranks' endings under torchrun, a lost partner, an output over EXTENT's layer file,
and an extent reprojected with its edges' bends. In-process; each test fails on a small plausible bug the suite let
pass."""

import io
import re

import numpy as np
import pytest
from rasters import write_raster, write_vector
from test_cli_audit import run_ignoring_interrupts, sigint_kept  # noqa: F401 (the fixture)

from mrs.model_core.errors import InputError, ModelFileError, MrsError
from mrs.mrs_qgis_plugin import cli
from mrs.mrs_qgis_plugin.cli import job_help, main, main_help
from mrs.mrs_qgis_plugin.job_parameters import JOBS

GEOTRANSFORM = (661010, 1.0, 0, 5100990, 0, -1.0)


# Help -----------------------------------------------------------------------------------------------------------------


def test_the_main_help_starts_with_its_usage_names_version_and_ends_without_a_blank_line():
    """The usage line tells of a job's --help and of --version; the text ends at the last job's last paragraph."""
    text = main_help()
    assert text.splitlines()[:3] == [
        "usage: bin/mrs JOB --NAME=value ...   (bin/mrs JOB --help shows a job's parameters, bin/mrs --version the "
        "plugin's version)", "",
        "The MRS land-cover jobs without QGIS: the parameters, defaults, model files and messages of the Processing "
        "algorithms mrs:JOB."]
    last = JOBS["redundancy"].description.splitlines()[-1]
    assert text.endswith(f"\n              {last}")


@pytest.mark.parametrize("job", ["pretrain", "demoscene", "finetune"])
def test_the_main_help_shows_every_paragraph_of_a_job_s_description(job):
    """Each paragraph of the description, not its first alone, is indented under the job's name."""
    paragraphs = JOBS[job].description.splitlines()
    assert len(paragraphs) > 1
    shown = "".join(f"\n              {paragraph}" for paragraph in paragraphs)
    assert f"  {job:<12}{JOBS[job].display_name}{shown}\n" in main_help() + "\n"


def test_a_job_s_help_shows_the_toolbox_help_then_its_command_line_under_a_heading():
    """The algorithm's help between the title and 'On the command line', then the parameters' lines."""
    job = JOBS["classify"]
    lines = job_help(job).splitlines()
    toolbox = job.help().splitlines()
    assert lines[4:4 + len(toolbox)] == toolbox
    assert lines[4 + len(toolbox):4 + len(toolbox) + 3] == ["", "On the command line",
                                                            "  --MODEL=FILE.safetensors  (required)"]


# The job's name -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments, said", [
    (["-DEVICE=cpu", "classify"], "bin/mrs: '-DEVICE=cpu' comes before the job; name the job first: bin/mrs classify "
                                  "-DEVICE=cpu ...\n"),
    (["--DEVICE=cpu", "--TILE_SIZE=64"], "bin/mrs: '--DEVICE=cpu' is not a job; use one of: pretrain, finetune, "
                                         "suggest, classify, accuracy, redundancy, demoscene (bin/mrs --help).\n"),
])
def test_a_parameter_before_the_job_is_said_with_one_dash_and_without_a_job_after_it(arguments, said):
    """A single-dash word before the job is a parameter put first too; with no job after it, it is no job."""
    out, err = io.StringIO(), io.StringIO()
    assert main(arguments, out, err) == 2
    assert (out.getvalue(), err.getvalue()) == ("", said)


# Inputs of the other kind ---------------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    """A raster and a layer of points."""
    raster = str(write_raster(tmp_path / "labels.tif", np.ones((1, 5, 6), np.uint8), GEOTRANSFORM))
    points = write_vector(tmp_path / "points.gpkg", [("POINT(661011 5100987)", {"class": 1})], {"class": 0})
    return raster, points


@pytest.mark.parametrize("job, parameter, kind, said", [
    ("finetune", "LABELS", "points", "'{points}' is a vector layer, not a raster. Choose a raster file, or give it as "
                                     "SAMPLES (with CLASS_FIELD)."),
    ("finetune", "INPUT_AUX", "points", "'{points}' is a vector layer, not a raster. Choose a raster file."),
    ("accuracy", "REFERENCE_LABELS", "points", "'{points}' is a vector layer, not a raster. Choose a raster file, or "
                                               "give it as REFERENCE (with REFERENCE_FIELD)."),
    ("finetune", "SAMPLES", "raster", "'{raster}' is a raster, not a vector layer. Choose a file of points, lines or "
                                      "polygons, or give it as LABELS."),
    ("pretrain", "MASK", "raster", "'{raster}' is a raster, not a vector layer. Choose a file of polygons."),
])
def test_a_file_of_the_other_kind_is_offered_the_labelled_pixels_other_parameter_only_there(files, job, parameter,
                                                                                          kind, said):
    """The labels' raster is offered the samples' parameter and the reverse; an auxiliary raster nothing."""
    raster, points = files
    given = {"raster": raster, "points": points}[kind]
    with pytest.raises(InputError) as refused:
        if kind == "points":
            cli.raster_input(JOBS[job], parameter, given)
        else:
            cli.vector_input(JOBS[job], next(p for p in JOBS[job].parameters if p.name == parameter), given)
    assert str(refused.value) == f"{parameter}: " + said.format(raster=raster, points=points)


# Packages -------------------------------------------------------------------------------------------------------------


def test_missing_packages_are_joined_with_and_and_a_failed_import_is_said_by_its_first_line(monkeypatch):
    """GDAL's bindings and redundancy's matplotlib, both said; an import's traceback cut to its first line."""
    from mrs.mrs_qgis_plugin import dependencies

    problems = {"osgeo": "ImportError: libgdal.so.32: cannot open shared object file\n  more of it",
                "matplotlib": "not installed"}
    monkeypatch.setattr(dependencies, "import_problem", lambda module: problems.get(module))
    assert cli._missing_packages(JOBS["redundancy"], {"OUTPUT_HTML": "r.html"}) == (
        "bin/mrs redundancy needs GDAL's Python bindings, which it cannot import (ImportError: libgdal.so.32: cannot "
        "open shared object file); and matplotlib, to draw the heat map of OUTPUT_PNG and OUTPUT_HTML (apt install "
        f"python3-matplotlib, or pip install matplotlib) in the Python that runs it ({cli.sys.executable}).")
    assert cli._missing_packages(JOBS["redundancy"], {"OUTPUT_CSV": "r.csv"}).endswith(
        f"cannot open shared object file) in the Python that runs it ({cli.sys.executable}).")


# Results --------------------------------------------------------------------------------------------------------------


def test_results_standard_output_cannot_encode_fail_the_run_naming_them():
    """An ASCII standard output and an output's name with 'é': the run fails with the results on standard error."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    with pytest.raises(MrsError) as refused:
        cli._print_results({"OUTPUT": "/x/scène", "TRAIN_LABELS": None}, out)
    assert str(refused.value) == (
        "The results could not be written to standard output, whose encoding (ascii) cannot hold them: run with a "
        "UTF-8 locale or PYTHONIOENCODING=utf-8; the outputs are written:\nOUTPUT:\t/x/scène")


# Under torchrun -------------------------------------------------------------------------------------------------------


@pytest.fixture
def finished(monkeypatch, tmp_path):
    """runs.run faked to return the scene's folder; the calls it got."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin import runs

    monkeypatch.setattr(gdal, "DontUseExceptions", lambda: None)  # the suite's GDAL left as it is
    calls = []

    def run(name, _values, _hooks):
        calls.append(name)
        return {"OUTPUT": str(tmp_path / "scene")}

    monkeypatch.setattr(runs, "run", run)
    return calls


def test_a_job_of_one_process_on_rank_1_of_torchrun_does_nothing_and_says_so(monkeypatch, tmp_path, finished,
                                                                           sigint_kept):
    """demoscene under torchrun: rank 1 says it leaves the work to rank 0 and ends with success."""
    from mrs.model_core import launcher

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr(launcher, "launched", lambda: True)
    out, err = io.StringIO(), io.StringIO()
    assert main(["demoscene", f"--OUTPUT={tmp_path / 'scene'}"], out, err) == 0
    assert (out.getvalue(), err.getvalue(), finished) == (
        "", "(rank 1) demoscene runs in one process, rank 0's; this process has nothing to do.\n", [])


def test_torchrun_s_rank_left_set_without_its_address_refuses_a_job_of_one_process(monkeypatch, tmp_path, finished,
                                                                                 sigint_kept):
    """RANK=1 left in the shell is refused for demoscene too, not taken for a rank with nothing to do."""
    for name, value in {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    err = io.StringIO()
    assert main(["demoscene", f"--OUTPUT={tmp_path / 'scene'}"], io.StringIO(), err) == 1
    assert err.getvalue() == ("(rank 1) RANK, WORLD_SIZE and LOCAL_RANK are set, as torchrun sets them, but "
                              "MASTER_ADDR is not: start the run with torchrun, or unset those variables.\n")
    assert finished == []


def test_a_job_without_torch_starts_no_device_and_prints_its_results(monkeypatch, tmp_path, finished, sigint_kept):
    """demoscene alone: no device line, the run's results on standard output and nothing on standard error."""
    from mrs.mrs_qgis_plugin import runs

    monkeypatch.setattr(runs, "start_torch", lambda *_arguments: pytest.fail("torch started"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["demoscene", f"--OUTPUT={tmp_path / 'scene'}"], out, err) == 0
    assert (out.getvalue(), err.getvalue(), finished) == (f"OUTPUT:\t{tmp_path / 'scene'}\n", "", ["demoscene"])


@pytest.mark.parametrize("error, said", [
    (ModelFileError("The model file is damaged."), ""),
    (MrsError("CUDA is not available."), "(rank 1) CUDA is not available.\n"),
])
def test_a_model_file_s_refusal_is_said_once_a_machine_and_a_device_s_by_each_process(monkeypatch, sigint_kept, error,
                                                                                    said):
    """Rank 1, a machine's second process: the model file refused as rank 0 refuses it, unsaid; its device, said."""
    for name, value in {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"}.items():
        monkeypatch.setenv(name, value)

    def refused(_job, _given, _report, _out):
        raise error

    monkeypatch.setattr(cli, "run_job", refused)
    err = io.StringIO()
    assert main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), err) == 1
    assert err.getvalue() == said


@pytest.mark.parametrize("interrupts, code, said", [
    (0, 1, r"The exchange with the other processes of this \d+-process run failed, most likely because another "
           r"process stopped \(Connection closed by peer\)\."),
    (1, 130, r"Canceled by the user\."),
])
def test_a_lost_partner_is_a_failure_and_after_one_ctrl_c_a_cancel(monkeypatch, sigint_kept, interrupts, code, said):
    """The group's exchange that failed: said as such with status 1, or as a cancel once Ctrl-C was pressed."""
    def lost(_job, _given, report, _out):
        report.interrupts = interrupts
        raise RuntimeError("Connection closed by peer\nat gloo")

    monkeypatch.setattr(cli, "run_job", lost)
    monkeypatch.setattr(cli, "_lost_partner", lambda error: True)
    err = io.StringIO()
    assert main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), err) == code
    assert re.fullmatch(said + "\n", err.getvalue())


# Outputs over inputs --------------------------------------------------------------------------------------------------


def test_a_folder_that_cannot_be_listed_leaves_the_outputs_check_to_the_job(monkeypatch):
    """outputs_spare_inputs' OSError (a folder it may not list) is no refusal here: the job checks again."""
    from mrs.mrs_qgis_plugin.raster import outputs

    def unlistable(*_arguments, **_keywords):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs, "outputs_spare_inputs", unlistable)
    assert cli._refuse_outputs_over_inputs(JOBS["classify"], {"OUTPUT": "/x/map.tif"}) is None


# EXTENT -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def hsi(tmp_path):
    """A hyperspectral raster in EPSG:32632."""
    return str(write_raster(tmp_path / "hsi.tif", np.ones((1, 5, 6), np.float32), GEOTRANSFORM))


@pytest.mark.parametrize("text, bounds", [
    # across zone 32's central meridian: the southern edge bends lowest at 9 degrees, between its corners
    ("8.5,9.5,46,47 [EPSG:4326]", (461283.8594930947, 5094047.49208137, 538716.1405069055, 5205285.41538475)),
    ("661010.5,661016.25,5100985.125,5100990[ EPSG:32632 ]", (661010.5, 5100985.125, 661016.25, 5100990.0)),
])
def test_an_extent_in_another_crs_is_reprojected_with_its_edges_and_one_in_the_same_crs_kept(hsi, text, bounds):
    """The bounds of the reprojected edges, not of the corners alone; numbers in the raster's own CRS as written."""
    assert cli.extent_of(text, hsi) == pytest.approx(bounds, abs=1e-6)


# bin/mrs ------------------------------------------------------------------------------------------------------------


def bin_mrs(monkeypatch, argv):
    """bin/mrs as a module (its functions, not the program) with this command line."""
    import importlib.machinery
    import importlib.util

    from test_cli import MRS

    monkeypatch.setattr(cli.sys, "argv", [str(MRS), *argv])
    loader = importlib.machinery.SourceFileLoader("bin_mrs", str(MRS))
    script = importlib.util.module_from_spec(importlib.util.spec_from_loader("bin_mrs", loader))
    loader.exec_module(script)
    return script


@pytest.mark.parametrize("argv, prefix, has_venv, handed_over", [
    (["classify", "--TILE_SIZE=64"], "/usr", True, True),
    ([], "/usr", True, False),  # the help, which any Python prints
    (["classify", "-h"], "/usr", True, False),
    (["classify", "--TILE_SIZE=64"], "{venv}", True, False),  # already the checkout's .venv: no loop
    (["classify", "--TILE_SIZE=64"], "/usr", False, False),  # no .venv: this Python says what it lacks
])
def test_a_python_that_cannot_run_a_job_hands_it_to_the_checkout_s_venv_but_not_the_help(monkeypatch, tmp_path, argv,
                                                                                        prefix, has_venv, handed_over):
    """A run re-executed with .venv/bin/python and the same words; the help, and the .venv itself, kept here."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    if has_venv:
        (venv / "bin" / "python").write_text("")
    script = bin_mrs(monkeypatch, argv)
    monkeypatch.setattr(script, "VENV_PYTHON", venv / "bin" / "python")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "usable_here", lambda: False)
    monkeypatch.setattr(cli.sys, "prefix", prefix.format(venv=venv))
    executed = []
    monkeypatch.setattr(script.os, "execv", lambda path, words: executed.append((path, words)))
    script.hand_over_to_the_venv()
    python = str(venv / "bin" / "python")
    assert executed == ([(python, [python, script.__file__, *argv])] if handed_over else [])


@pytest.mark.parametrize("name, returncode, stdout", [
    ("SIGXCPU", 0, "went on\n"),  # the CPU limit's, repeated each second: the run's own handler takes one
    ("SIGTERM", -15, ""),  # as the signal does, without bin/mrs's 'before the run started'
])
def test_once_the_run_began_bin_mrs_s_early_handler_ends_it_as_the_signal_does_but_sigxcpu(name, returncode, stdout):
    """After `_RUNNING` is set, a SIGTERM the run's handlers do not take kills as by default; SIGXCPU is let pass."""
    import os
    import subprocess
    import sys

    from test_cli import MRS

    script = (f"import os, runpy, signal; names = runpy.run_path({str(MRS)!r}, run_name='not_main'); "
              "names['stop_at_once_before_the_run'](); names['_RUNNING'][0] = True; "
              f"os.kill(os.getpid(), signal.{name}); print('went on')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout, done.stderr) == (returncode, stdout, "")


def test_a_signal_ignored_when_bin_mrs_starts_stays_ignored_before_the_run():
    """nohup's SIGHUP and a script's `&` Ctrl-C: bin/mrs's early handler leaves them ignored."""
    from test_cli import MRS

    done = run_ignoring_interrupts(
        f"import os, runpy, signal; names = runpy.run_path({str(MRS)!r}, run_name='not_main'); "
        "names['stop_at_once_before_the_run'](); os.kill(os.getpid(), signal.SIGHUP); "
        "os.kill(os.getpid(), signal.SIGINT); print('went on')")
    assert (done.returncode, done.stdout, done.stderr) == (0, "went on\n", "")


def test_a_python_without_gdal_s_bindings_is_not_usable_here(monkeypatch):
    """torch and the rest installed but no osgeo: the run goes to the checkout's .venv."""
    script = bin_mrs(monkeypatch, ["classify"])
    find_spec = script.importlib.util.find_spec
    assert script.usable_here()
    monkeypatch.setattr(script.importlib.util, "find_spec", lambda name: None if name == "osgeo" else find_spec(name))
    assert not script.usable_here()


@pytest.mark.parametrize("job, line", [
    ("demoscene", "  --WITH_SAR=true|false  (default false)"),
    ("demoscene", "  --SEED=N  (default 0, a whole number of at least 0, advanced)"),
    ("finetune", "  --VALIDATION_FRACTION=X  (default 0.0, a number from 0 to 0.9)"),
])
def test_a_default_of_false_or_0_is_shown_as_a_default_not_as_optional(job, line):
    """A default that is false or 0 is a default still."""
    assert line in job_help(JOBS[job]).splitlines()


# EXTENT as a layer, and its refusals ----------------------------------------------------------------------------------


def test_an_extent_raster_in_another_crs_is_reprojected_as_its_numbers_would_be(tmp_path, hsi):
    """A raster in EPSG:4326 given as EXTENT: the bounds of its area in the hyperspectral raster's CRS."""
    geographic = write_raster(tmp_path / "geo.tif", np.ones((1, 10, 10), np.float32), (8.5, 0.1, 0, 47, 0, -0.1),
                              crs="EPSG:4326")
    assert cli.extent_of(str(geographic), hsi) == pytest.approx(cli.extent_of("8.5,9.5,46,47 [EPSG:4326]", hsi),
                                                                abs=1e-6)


@pytest.mark.parametrize("case, said", [
    ("plain", "EXTENT: the raster 'plain' ({plain}) has no georeference, so no extent; give another layer, or "
              "xmin,xmax,ymin,ymax."),
    ("option", "EXTENT: the vector source of 'area' has the option 'foo=bar', which is not understood here; the "
               "options taken are layername, layerid, operation and subset. Remove it, or save the layer as it should "
               "be read into a file of its own."),
    ("subset", "EXTENT: The subset of 'area' (\"class\" = 7) selects none of its features. Correct the filter (a "
               "name in double quotes that is no field of the layer is read as text)."),
    ("unknown", "EXTENT: the CRS 'EPSG:999999' is not known; write it as EPSG:code."),
    ("beyond", "EXTENT: x 661000..661020, y 5100960..5100990 in a custom CRS (+proj=longlat +datum=WGS84 +no_defs) "
               "cannot be taken into the CRS of the hyperspectral layer 'hsi' (EPSG:32632): they lie beyond what a "
               "custom CRS (+proj=longlat +datum=WGS84 +no_defs) places on Earth. Check the numbers and the CRS "
               "written after them."),
])
def test_an_extent_that_cannot_be_taken_is_refused_in_one_sentence_under_its_name(tmp_path, hsi, case, said):
    """A raster without georeference, a layer's unknown option or empty subset, an unknown CRS, numbers beyond it."""
    plain = write_raster(tmp_path / "plain.tif", np.ones((1, 5, 6), np.float32), (0, 1, 0, 0, 0, 1), crs=None)
    area = write_vector(tmp_path / "area.gpkg", [("POLYGON((661010 5100960,661030 5100960,661030 5100990,661010 "
                                                  "5100960))", {"class": 1})], {"class": 0}, layer="area")
    text = {"plain": plain, "option": f"{area}|foo=bar", "subset": f'{area}|layername=area|subset="class" = 7',
            "unknown": "0,1,0,1 [EPSG:999999]",
            "beyond": "661000,661020,5100960,5100990 [+proj=longlat]"}[case]
    with pytest.raises(InputError) as refused:
        cli.extent_of(str(text), hsi)
    assert str(refused.value) == said.format(plain=plain)


# Rasters and vector layers given with a layer's options ---------------------------------------------------------------


@pytest.mark.parametrize("name, said", [
    ("missing.tif|layername=x", "INPUT_HSI: the file {folder}/missing.tif does not exist. Check the path, or choose it "
                                "again."),
    ("hsi.tif|layername=hsi", "INPUT_HSI: '{folder}/hsi.tif|layername=hsi' names a layer as a vector file's layers are "
                              "named ('|layername=hsi'); a raster is given by its file alone (one of a GeoPackage as "
                              "GPKG:file.gpkg:table). Choose a raster file."),
])
def test_a_raster_named_with_a_layer_s_options_is_said_missing_or_to_be_given_by_its_file(tmp_path, hsi, name, said):
    """A missing file is said missing, not to name a layer; an existing raster is told to be given alone."""
    with pytest.raises(InputError) as refused:
        cli.raster_input(JOBS["pretrain"], "INPUT_HSI", f"{tmp_path}/{name}")
    assert str(refused.value) == said.format(folder=tmp_path)


def test_a_folder_of_shapefiles_is_a_vector_input(tmp_path):
    """A folder OGR reads as a vector source is taken, not refused as a folder without layers."""
    from osgeo import ogr

    folder = tmp_path / "shapes"
    folder.mkdir()
    source = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(str(folder / "fields.shp"))
    source.CreateLayer("fields", geom_type=ogr.wkbPolygon)
    source = None
    mask = next(parameter for parameter in JOBS["pretrain"].parameters if parameter.name == "MASK")
    taken = cli.vector_input(JOBS["pretrain"], mask, str(folder))
    assert (taken.path, taken.name) == (str(folder), "shapes")


# How a run ends -------------------------------------------------------------------------------------------------------


def test_a_usage_error_after_a_finished_run_ends_the_process_alone(monkeypatch, sigint_kept):
    """`ended_alone` is set afresh by each `main`: a usage error (no run, no group's vote) leaves alone."""
    monkeypatch.setattr(cli, "run_job", lambda *_arguments: 0)
    assert main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), io.StringIO()) == 0
    assert not cli.ended_alone()
    assert main(["pretrain", "--EPOCH=1"], io.StringIO(), io.StringIO()) == 2
    assert cli.ended_alone()


@pytest.mark.parametrize("alone", [True, False])
def test_bin_mrs_ends_a_torchrun_process_alone_or_with_the_others_as_main_ended(monkeypatch, alone):
    """run_to_the_end hands `ended_alone` to distributed.end_process with the run's status."""
    from mrs.model_core import distributed

    def ended(_arguments):
        cli._ENDED_ALONE[0] = alone
        return 1

    ends = []
    monkeypatch.setattr(cli, "main", ended)
    monkeypatch.setattr(cli, "end_at_once_on_signals", lambda code: None)
    monkeypatch.setattr(distributed, "end_process", lambda code, alone: ends.append((code, alone)))
    assert cli.run_to_the_end(["demoscene"]) == 1
    assert ends == [(1, alone)]


@pytest.mark.parametrize("rank, printed", [("0", True), ("1", False)])
def test_under_torchrun_only_rank_0_prints_the_results_of_a_shared_run(monkeypatch, tmp_path, finished, sigint_kept,
                                                                        rank, printed):
    """classify shares its work among the processes: each runs it, rank 0 alone prints the results."""
    from mrs.model_core import launcher
    from mrs.mrs_qgis_plugin import runs, same_inputs

    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("LOCAL_RANK", rank)
    monkeypatch.setattr(launcher, "launched", lambda: True)
    monkeypatch.setattr(runs, "start_torch", lambda *_arguments: None)
    checked = []
    monkeypatch.setattr(same_inputs, "check_same_inputs", lambda job, _values, device, _say: checked.append(device))
    for name, bands in (("hsi", 4), ("lidar", 1)):
        write_raster(tmp_path / f"{name}.tif", np.ones((bands, 5, 6), np.float32), GEOTRANSFORM)
    (tmp_path / "model.safetensors").write_bytes(b"")
    out = io.StringIO()
    assert main(["classify", f"--MODEL={tmp_path / 'model.safetensors'}", f"--INPUT_HSI={tmp_path / 'hsi.tif'}",
                 f"--INPUT_AUX={tmp_path / 'lidar.tif'}", f"--OUTPUT={tmp_path / 'map.tif'}"], out, io.StringIO()) == 0
    assert (finished, checked) == (["classify"], ["auto"])
    assert out.getvalue() == (f"OUTPUT:\t{tmp_path / 'scene'}\n" if printed else "")


def test_a_package_short_of_memory_marks_the_process_to_end_without_its_teardown(monkeypatch):
    """GDAL's bindings failing for want of memory: said with 'give it more memory', and bin/mrs then ends at once."""
    from mrs.mrs_qgis_plugin import dependencies

    reason = "ImportError: libgdal.so.32: failed to map segment from shared object"
    monkeypatch.setattr(dependencies, "import_problem", lambda module: reason if module == "osgeo" else None)
    monkeypatch.setattr(cli, "_SHORT_OF_MEMORY", [False])
    assert cli._missing_packages(JOBS["demoscene"], {}) == (
        f"bin/mrs demoscene needs GDAL's Python bindings, which it cannot import ({reason}; give it more memory) in "
        f"the Python that runs it ({cli.sys.executable}).")
    assert cli._SHORT_OF_MEMORY == [True]
    from mrs.model_core import distributed

    ended = []
    monkeypatch.setattr(cli, "main", lambda _arguments: 1)
    monkeypatch.setattr(cli, "exit_now", lambda code: ended.append(f"at once {code}"))
    monkeypatch.setattr(cli, "end_at_once_on_signals", lambda code: ended.append(f"signals {code}"))
    monkeypatch.setattr(distributed, "end_process", lambda code, alone: ended.append(f"group {code}"))
    cli.run_to_the_end(["demoscene"])
    assert ended[0] == "at once 1"


def test_an_extent_layer_of_a_geopackage_that_also_holds_a_raster_is_its_features_area(tmp_path, hsi):
    """'file.gpkg|layername=x' in a GeoPackage holding a raster table too: the layer's extent, not a refusal."""
    from osgeo import gdal

    mixed = write_vector(tmp_path / "mixed.gpkg", [("POLYGON((661010 5100960,661030 5100960,661030 5100990,661010 "
                                                    "5100960))", {})], {})
    gdal.GetDriverByName("GPKG").CreateCopy(mixed, gdal.Open(hsi), options=["APPEND_SUBDATASET=YES",
                                                                           "RASTER_TABLE=grid"])
    assert cli.extent_of(f"{mixed}|layername=samples", hsi) == (661010, 5100960, 661030, 5100990)


AREA = "POLYGON((661010 5100960,661030 5100960,661030 5100990,661010 5100960))"


@pytest.mark.parametrize("job, name", [("classify", "area.tif"), ("suggest", "area.gpkg")])
def test_an_output_over_the_layer_file_given_as_extent_is_refused_before_the_run(tmp_path, job, name):
    """EXTENT given as a layer's file is an input file of bin/mrs (QGIS's EXTENT is no file): an OUTPUT of the same
    name was let through, to replace the area layer after the run where it was an earlier output (a bug the audit
    found)."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((4, 5, 6), np.float32), GEOTRANSFORM)
    lidar = write_raster(tmp_path / "lidar.tif", np.ones((1, 5, 6), np.float32), GEOTRANSFORM)
    if name.endswith(".tif"):
        area = write_raster(tmp_path / name, np.ones((1, 5, 6), np.uint8), GEOTRANSFORM)
    else:
        area = write_vector(tmp_path / name, [(AREA, {})], {})
    (tmp_path / "model.safetensors").write_bytes(b"")
    given = {"MODEL": str(tmp_path / "model.safetensors"), "INPUT_HSI": str(hsi), "INPUT_AUX": [str(lidar)],
             "EXTENT": str(area), "OUTPUT": str(area)}
    with pytest.raises(InputError) as refused:
        cli._refuse_outputs_over_inputs(JOBS[job], given)
    assert str(refused.value).startswith(f"OUTPUT: {area} is the input EXTENT ({area}); writing it would destroy that "
                                         "input.")
