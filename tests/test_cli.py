"""bin/mrs, the jobs without QGIS: the whole method run with `qgis` unimportable, the
files it writes taken by the Processing algorithms, the same help and the same messages."""

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsApplication

from mrs.model_core import model_file
from mrs.model_core.errors import InputError, ReadError
from mrs.model_core.training import checkpoint_path_for
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from mrs.mrs_qgis_plugin.cli import UsageError, job_help, main, main_help, parse_arguments
from mrs.mrs_qgis_plugin.terminal import TerminalReport
from processing_helpers import (ONE_THREAD, QUICK_FINETUNE, QUICK_PRETRAIN, algorithms_ready, overall_accuracy, run,
                                scene_layers, write_test_scene)
from rasters import write_raster, write_vector
from test_raster_writers import read_raster

ROOT = Path(__file__).resolve().parents[1]
MRS = ROOT / "bin" / "mrs"


def blocking(folder: Path, *modules: str) -> dict:
    """The environment with these modules unimportable (`import qgis` raises ImportError)."""
    for module in modules:
        (folder / module).mkdir(parents=True)
        (folder / module / "__init__.py").write_text(f'raise ImportError("{module} is not installed here")\n')
    return {**os.environ, **ONE_THREAD, "PYTHONPATH": str(folder)}


@pytest.fixture(scope="module")
def no_qgis(tmp_path_factory):
    """A GPU server without QGIS: also without the packages the jobs but redundancy's picture do not need."""
    return blocking(tmp_path_factory.mktemp("no-qgis"), "qgis", "matplotlib", "PIL", "scipy")


def mrs(env, *arguments, python=sys.executable) -> subprocess.CompletedProcess:
    command = ([python] if python else []) + [str(MRS), *map(str, arguments)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=env)


def results_of(done: subprocess.CompletedProcess) -> dict:
    """The NAME:<tab>value lines of a successful run."""
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return dict(line.split(":\t", 1) for line in done.stdout.splitlines())


def arguments(**parameters) -> list:
    return [f"--{name}={item}" for name, value in parameters.items()
            for item in (value if isinstance(value, list) else [value])]


def test_qgis_cannot_be_imported_in_that_environment(no_qgis):
    done = subprocess.run([sys.executable, "-c", "import qgis"], capture_output=True, text=True, env=no_qgis)
    assert done.returncode != 0 and "qgis is not installed here" in done.stderr
    done = subprocess.run([sys.executable, "-c", "import torch, osgeo.gdal, safetensors, numpy"], env=no_qgis)
    assert done.returncode == 0


@pytest.fixture(scope="module")
def chain(no_qgis, tmp_path_factory):
    """pretrain -> finetune -> classify -> accuracy with bin/mrs, each on the previous one's file."""
    scene = write_test_scene(tmp_path_factory.mktemp("scene"))
    out = tmp_path_factory.mktemp("cli")
    layers = scene_layers(scene)
    pretrained = results_of(mrs(no_qgis, "pretrain", *arguments(**layers, **QUICK_PRETRAIN,
                                                                 OUTPUT=out / "pretrained.safetensors")))
    finetuned = results_of(mrs(no_qgis, "finetune", *arguments(
        **layers, SAMPLES=scene.train_points, CLASS_FIELD="class_id", NAME_FIELD="class_name",
        PRETRAINED=pretrained["OUTPUT"], **{**QUICK_FINETUNE, "EPOCHS": 4}, VALIDATION_FRACTION=0.25,
        OUTPUT=out / "classifier.safetensors")))
    classified = mrs(no_qgis, "classify", *arguments(MODEL=finetuned["OUTPUT"], **layers, OUTPUT=out / "map.tif",
                                                      OUTPUT_CONFIDENCE=out / "confidence.tif"))
    assessed = results_of(mrs(no_qgis, "accuracy", *arguments(INPUT=out / "map.tif", REFERENCE_LABELS=scene.test,
                                                              OUTPUT_HTML=out / "accuracy.html")))
    return scene, out, pretrained, finetuned, classified, assessed


def test_the_whole_method_runs_without_qgis_and_writes_the_model_files(chain):
    scene, out, pretrained, finetuned, classified, assessed = chain
    assert pretrained["OUTPUT"] == str(out / "pretrained.safetensors")
    metadata = model_file.read_metadata(pretrained["OUTPUT"], [model_file.PRETRAINED])
    assert metadata["preset"] == "tiny" and metadata["training"]["samples"] == QUICK_PRETRAIN["SAMPLES"]
    assert float(pretrained["FINAL_LOSS"]) == pytest.approx(metadata["training"]["final_loss"])
    training = model_file.read_metadata(finetuned["OUTPUT"], [model_file.CLASSIFIER])["training"]
    assert training["pretrained"] is True and int(finetuned["BEST_EPOCH"]) == training["best_epoch"]
    assert results_of(classified) == {"OUTPUT": str(out / "map.tif"), "OUTPUT_CONFIDENCE": str(out / "confidence.tif")}
    assert (out / "map.qml").is_file()
    expected = overall_accuracy(read_raster(out / "map.tif").values, read_raster(scene.test).values)
    assert float(assessed["OVERALL_ACCURACY"]) == pytest.approx(expected) and expected > 0.3


def test_the_log_goes_to_standard_error_line_by_line_when_not_a_terminal(chain):
    log = chain[4].stderr.splitlines()
    assert log[0].startswith("Device: cpu (1 thread), chosen by DEVICE auto because ") or log[0].startswith("Device: cuda")
    assert log[1].startswith("CPU threads: 1 of ")
    assert any(line.startswith("Classifying with 'classifier.safetensors'") for line in log)
    assert "Progress: 100 % (" in chain[4].stderr and "\r" not in chain[4].stderr


def test_a_model_from_bin_mrs_makes_the_same_map_in_qgis(chain, qgis_processing, tmp_path):
    scene, out, _pretrained, finetuned, _classified, _assessed = chain
    with algorithms_ready():
        run("mrs:classify", {"MODEL": finetuned["OUTPUT"], **scene_layers(scene), "OUTPUT": str(tmp_path / "map.tif"),
                             "OUTPUT_CONFIDENCE": str(tmp_path / "confidence.tif")})
    for name in ("map.tif", "confidence.tif"):
        ours, theirs = read_raster(out / name), read_raster(tmp_path / name)
        np.testing.assert_array_equal(ours.values, theirs.values)
        assert (ours.geotransform, ours.epsg, ours.names) == (theirs.geotransform, theirs.epsg, theirs.names)


def test_bin_mrs_suggests_the_points_qgis_suggests(chain, no_qgis, qgis_processing, tmp_path):
    from test_suggest import read_points

    scene, out, _pretrained, finetuned, _classified, _assessed = chain
    values = {"MODEL": finetuned["OUTPUT"], **scene_layers(scene), "POINTS": 7, "MIN_DISTANCE": 4, "SEED": 3}
    ours = results_of(mrs(no_qgis, "suggest", *arguments(**values, OUTPUT=tmp_path / "cli.gpkg")))
    assert ours == {"OUTPUT": str(tmp_path / "cli.gpkg"), "COUNT": "7"}
    with algorithms_ready():
        run("mrs:suggest", {**values, "OUTPUT": str(tmp_path / "qgis.gpkg")})
    cli, qgis = read_points(ours["OUTPUT"]), read_points(str(tmp_path / "qgis.gpkg"))
    assert (cli.rows.tolist(), cli.cols.tolist(), cli.records) == (qgis.rows.tolist(), qgis.cols.tolist(), qgis.records)
    assert len({(row, col) for row, col in zip(cli.rows, cli.cols)}) == 7


def test_redundancy_without_qgis_draws_its_picture_with_matplotlib_or_says_it_needs_it(chain, tmp_path):
    """Without matplotlib the heat map is refused, and the groups and the CSV are still given (until 2026-12-07
    OUTPUT_PNG and OUTPUT_CSV were mandatory, and matplotlib with them)."""
    scene = chain[0]
    parameters = arguments(INPUT_HSI=scene.hsi, SAMPLE_SIZE=500, OUTPUT_PNG=tmp_path / "s.png",
                           OUTPUT_CSV=tmp_path / "s.csv")
    results = results_of(mrs(blocking(tmp_path / "only-qgis", "qgis"), "redundancy", *parameters))
    assert len(results["GROUPS"].split("; ")) == int(results["GROUP_COUNT"]) >= 1
    assert 0.0 <= float(results["LEAKAGE"]) <= 1.0 and (tmp_path / "s.png").stat().st_size > 0
    csv = (tmp_path / "s.csv").read_text()
    (tmp_path / "s.png").unlink()
    (tmp_path / "s.csv").unlink()
    no_matplotlib = blocking(tmp_path / "no-matplotlib", "qgis", "matplotlib")
    done = mrs(no_matplotlib, "redundancy", *parameters)
    assert done.returncode == 1 and done.stderr.startswith(
        "bin/mrs redundancy needs matplotlib, to draw the heat map of OUTPUT_PNG and OUTPUT_HTML, which it cannot "
        "import (ImportError: matplotlib is not installed here)")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["no-matplotlib", "only-qgis"]
    alone = results_of(mrs(no_matplotlib, "redundancy", *parameters[:2], f"--OUTPUT_CSV={tmp_path / 'c.csv'}"))
    figures = {name: results[name] for name in ("GROUPS", "GROUP_COUNT", "LEAKAGE")}
    assert alone == {"OUTPUT_CSV": str(tmp_path / "c.csv"), **figures}
    assert (tmp_path / "c.csv").read_text() == csv
    assert results_of(mrs(no_matplotlib, "redundancy", *parameters[:2])) == figures
    assert sorted(path.name for path in tmp_path.iterdir()) == ["c.csv", "no-matplotlib", "only-qgis"]


def test_an_accuracy_assessment_without_a_report_gives_its_figures_alone(chain, tmp_path):
    """The report is optional, as the groups of the redundancy: a script that wants the overall accuracy alone
    gets it (until 2026-12-07 OUTPUT_HTML was mandatory, in qgis_process too)."""
    scene, out, _pretrained, _finetuned, _classified, assessed = chain
    figures = results_of(mrs(blocking(tmp_path / "no-qgis", "qgis"), "accuracy",
                             *arguments(INPUT=out / "map.tif", REFERENCE_LABELS=scene.test)))
    assert figures == {name: assessed[name] for name in ("OVERALL_ACCURACY", "AVERAGE_ACCURACY", "KAPPA")}
    with algorithms_ready():
        done = run("mrs:accuracy", {"INPUT": str(out / "map.tif"), "REFERENCE_LABELS": str(scene.test)})
    assert done["OUTPUT_HTML"] is None
    assert f"{done['OVERALL_ACCURACY']:.6g}" == f"{float(figures['OVERALL_ACCURACY']):.6g}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["no-qgis"]


def test_the_accuracy_assessment_and_the_band_redundancy_run_where_torch_cannot_be_imported(chain, tmp_path):
    """They need numpy and GDAL alone (`Job.needs_torch`): a server without torch assesses a map, and sees its
    scene's band redundancy, as one with torch does (until 2026-12-07 both imported the training's modules, torch
    with them, and were refused there); the jobs that need it still say so."""
    scene, out, _pretrained, finetuned, _classified, assessed = chain
    no_torch = blocking(tmp_path / "no-torch", "qgis", "torch", "safetensors")
    again = results_of(mrs(no_torch, "accuracy", *arguments(INPUT=out / "map.tif", REFERENCE_LABELS=scene.test,
                                                            OUTPUT_HTML=tmp_path / "accuracy.html")))
    assert again == {**assessed, "OUTPUT_HTML": str(tmp_path / "accuracy.html")} and float(again["KAPPA"]) > 0.2
    figures = {}
    for name, env in (("torch", blocking(tmp_path / "with-torch", "qgis")), ("none", no_torch)):
        files = {"OUTPUT_PNG": tmp_path / f"{name}.png", "OUTPUT_CSV": tmp_path / f"{name}.csv"}
        done = mrs(env, "redundancy", *arguments(**scene_layers(scene), SAMPLE_SIZE=500, SEED=4, **files))
        figures[name] = {key: value for key, value in results_of(done).items() if not key.startswith("OUTPUT")}
    assert figures["none"] == figures["torch"] and int(figures["none"]["GROUP_COUNT"]) >= 1
    assert (tmp_path / "none.csv").read_text() == (tmp_path / "torch.csv").read_text()
    refused = mrs(no_torch, "classify", *arguments(MODEL=finetuned["OUTPUT"], **scene_layers(scene),
                                                   OUTPUT=tmp_path / "map.tif"))
    assert refused.returncode == 1 and refused.stderr.startswith(
        "bin/mrs classify needs torch, which it cannot use (ImportError: torch is not installed here")
    assert not (tmp_path / "map.tif").exists()


@pytest.mark.parametrize("package", ["torch", "osgeo"])
def test_bin_mrs_short_of_memory_for_a_package_ends_without_the_interpreter_s_teardown(tmp_path, package):
    """A helper's red team of 2026-12-07: under ulimit -v, after its sentence bin/mrs spun for ever in the teardown,
    where OpenBLAS's threads still asked for memory (here a teardown step that would say it ran stands for them);
    torch imported and GDAL's bindings not, it spun all the same (red team of 2026-12-07, ulimit -v 600000)."""
    shim = tmp_path / "shim"
    (shim / package).mkdir(parents=True)
    (shim / package / "__init__.py").write_text(
        "import atexit\natexit.register(lambda: print('the teardown ran', flush=True))\n"
        "raise ImportError('libtorch_cpu.so: failed to map segment from shared object')\n")
    done = mrs({**os.environ, **ONE_THREAD, "PYTHONPATH": str(shim)}, "classify", "--MODEL=m.safetensors",
               "--INPUT_HSI=h.tif", "--INPUT_AUX=l.tif", "--OUTPUT=map.tif")
    assert done.returncode == 1 and "give it more memory" in done.stderr
    assert "the teardown ran" not in done.stdout


def test_a_package_that_is_installed_but_cannot_be_imported_is_said_so_with_its_reason(tmp_path):
    """Red team of 2026-12-05: under a memory limit torch's import failed ('failed to map segment') and
    bin/mrs said torch and GDAL's bindings were missing, with how to install them."""
    shim = tmp_path / "shim"
    for module, error in (("torch", 'ImportError("libtorch_cpu.so: failed to map segment from shared object")'),
                          ("osgeo", 'MemoryError()'), ("safetensors", 'RuntimeError("std::bad_alloc")')):
        (shim / module).mkdir(parents=True)
        (shim / module / "__init__.py").write_text(f"raise {error}\n")
    done = mrs({**os.environ, **ONE_THREAD, "PYTHONPATH": str(shim)}, "classify", "--MODEL=m.safetensors",
               "--INPUT_HSI=h.tif", "--INPUT_AUX=l.tif", "--OUTPUT=map.tif")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert ("bin/mrs classify needs torch, which it cannot use (ImportError: libtorch_cpu.so: failed to map segment "
            "from shared object; give it more memory); and ") in done.stderr and "install with" not in done.stderr
    assert "; and GDAL's Python bindings, which it cannot import (MemoryError; give it more memory)" in done.stderr
    assert "safetensors, which it cannot use (RuntimeError: std::bad_alloc; give it more memory)" in done.stderr
    (shim / "osgeo" / "__init__.py").write_text("import _gdal_missing_part\n")  # a part of it missing: not 'install'
    done = mrs({**os.environ, **ONE_THREAD, "PYTHONPATH": str(shim)}, "classify", "--MODEL=m.safetensors",
               "--INPUT_HSI=h.tif", "--INPUT_AUX=l.tif", "--OUTPUT=map.tif")
    assert ("GDAL's Python bindings, which it cannot import (ModuleNotFoundError: No module named "
            "'_gdal_missing_part')") in done.stderr
    # GDAL 3.6's osgeo tries `import _gdal` when its own failed to load, and hid why (red team of 2026-12-07: said
    # under ulimit -v, without the memory advice; the teardown then spun for ever)
    (shim / "osgeo" / "__init__.py").write_text("try:\n    from . import _gdal\n"
                                               "except ImportError:\n    import _gdal\n")
    (shim / "osgeo" / "_gdal.py").write_text("raise ImportError('libx265.so.199: failed to map segment from shared "
                                             "object')\n")
    done = mrs({**os.environ, **ONE_THREAD, "PYTHONPATH": str(shim)}, "classify", "--MODEL=m.safetensors",
               "--INPUT_HSI=h.tif", "--INPUT_AUX=l.tif", "--OUTPUT=map.tif")
    assert ("GDAL's Python bindings, which it cannot import (ImportError: libx265.so.199: failed to map segment from "
            "shared object; give it more memory) in the Python") in done.stderr
    # Debian 12's torch 1.13 imported, then every run ended in a traceback (a helper's red team of 2026-12-05)
    (shim / "torch" / "__init__.py").write_text("__version__ = '1.13.1'\n")
    (shim / "safetensors").rename(tmp_path / "away")
    (shim / "osgeo").rename(tmp_path / "away2")
    done = mrs({**os.environ, **ONE_THREAD, "PYTHONPATH": str(shim)}, "classify", "--MODEL=m.safetensors",
               "--INPUT_HSI=h.tif", "--INPUT_AUX=l.tif", "--OUTPUT=map.tif")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert re.search(r"bin/mrs classify needs torch, which it cannot use \(torch 1\.13\.1, older than 2\.0, the oldest "
                     r"the MRS algorithms run with; reinstall it with: \S+ -m pip install --force-reinstall .*torch==",
                     done.stderr), done.stderr


@pytest.mark.parametrize("job", list(JOBS))
def test_each_jobs_help_is_the_help_the_toolbox_shows(qgis_processing, no_qgis, job):
    with algorithms_ready():
        algorithm = QgsApplication.processingRegistry().algorithmById(f"mrs:{job}")
        toolbox = algorithm.shortHelpString()
        names = [parameter.name() for parameter in algorithm.parameterDefinitions()]
    done = mrs(no_qgis, job, "--help", python=None)
    assert done.returncode == 0, done.stderr
    assert toolbox in done.stdout and done.stdout == job_help(JOBS[job]) + "\n"
    for name in names:
        assert f"\n  --{name}=" in done.stdout


def test_a_file_output_s_help_line_shows_the_extension_it_must_have():
    """Red team of 2026-12-05: --OUTPUT=FILE, and any name but a .safetensors one was refused."""
    assert "\n  --OUTPUT=FILE.safetensors  (required)\n" in job_help(JOBS["pretrain"])
    assert "\n  --OUTPUT_CSV=FILE.csv  (optional)\n" in job_help(JOBS["accuracy"])
    assert "\n  --OUTPUT_PNG=FILE.png  (optional)\n" in job_help(JOBS["redundancy"])


def test_a_number_s_help_line_shows_the_range_it_takes():
    """A helper's red team of 2026-12-05: bin/mrs' help named no range where QGIS's dialogs keep
    TILE_SIZE from 16 to 8192."""
    assert "\n  --TILE_SIZE=N  (default 256, a whole number from 16 to 8192, advanced)\n" in job_help(JOBS["classify"])
    assert "\n  --SPECTRAL_RATIO=X  (default 0.3, a number from 0.01 to 0.99)\n" in job_help(JOBS["pretrain"])
    assert "\n  --EPOCHS=N  (default 60, a whole number of at least 1)\n" in job_help(JOBS["pretrain"])


def test_the_main_help_lists_every_job_as_the_toolbox_names_it(no_qgis):
    done = mrs(no_qgis, "--help", python=None)
    assert done.returncode == 0 and done.stdout == main_help() + "\n"
    for job in JOBS.values():
        assert f"  {job.name:<12}{job.display_name}\n" in done.stdout


@pytest.mark.parametrize(
    "job, changes, code, message",
    [("pretrain", {"EPOCHS": "2.5"}, 1, "EPOCHS is 2.5, not a whole number; it must be a whole number of at least 1."),
     ("pretrain", {"BATCH_SIZE": str(2 ** 31)}, 1,
      "BATCH_SIZE is 2147483648; it must be a whole number from 1 to 2147483647."),
     ("pretrain", {"SEED": str(2 ** 31)}, 1, "SEED is 2147483648; it must be a whole number from 0 to 2147483647."),
     # Review of 2026-12-05: the training points given to pretraining's SAMPLES, a number there.
     ("pretrain", {"SAMPLES": "train_points.gpkg"}, 1,
      "SAMPLES is 'train_points.gpkg'; it must be a whole number of at least 1. Pretraining needs no labels: SAMPLES "
      "is how many random pixels it learns from; labelled samples go to 'Train classifier (fine-tune)' "
      "(mrs:finetune)."),
     ("pretrain", {"SAMPLES": "10k"}, 1, "SAMPLES is '10k'; it must be a whole number of at least 1."),
     ("pretrain", {"INPUT_AUX": []}, 1,
      "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the command line: --INPUT_AUX=file.tif)."),
     ("pretrain", {"EPOCH": "3"}, 2, "bin/mrs: pretrain has no parameter EPOCH (did you mean EPOCHS?); see bin/mrs pretrain --help for its "
                                     "parameters."),
     ("finetune", {}, 1, "Give SAMPLES (with CLASS_FIELD) or LABELS: neither is given."),
     ("pretrain", {"INPUT_HSI": "missing.tif"}, 1,
      "The hyperspectral layer 'missing': the file missing.tif does not exist. Check the path"),
     ("pretrain", {"MASK": "missing.gpkg|layername=fields"}, 1,  # it named no parameter (red team of 2026-12-05)
      "MASK: the file missing.gpkg does not exist. Check the path, or choose it again."),
     ("pretrain", {"INPUT_HSI": "missing.tif|layername=x"}, 1,  # its file named with '|layername=x' (2026-12-06)
      "INPUT_HSI: the file missing.tif does not exist. Check the path, or choose it again."),
     ("pretrain", {"INPUT_HSI": "hsi.tif "}, 1,  # shown as an existing file (a helper's red team of 2026-12-06)
      "The hyperspectral layer 'hsi': the file 'hsi.tif ' does not exist. Check the path")],
)
def test_a_bad_input_is_one_sentence_on_standard_error_and_a_failed_exit(no_qgis, chain, tmp_path, job, changes,
                                                                          code, message):
    parameters = {**scene_layers(chain[0]), **QUICK_PRETRAIN, "OUTPUT": tmp_path / "model.safetensors", **changes}
    if job == "finetune":
        parameters = {**scene_layers(chain[0]), "OUTPUT": tmp_path / "model.safetensors"}
    done = mrs(no_qgis, job, *arguments(**parameters))
    assert done.returncode == code
    assert message in done.stderr.splitlines()[-1] and "Traceback" not in done.stderr
    assert done.stdout == "" and list(tmp_path.iterdir()) == []


def test_a_path_with_a_space_at_its_end_names_the_file_without_it(no_qgis, chain, tmp_path):
    """Own bad input of 2026-12-07: 'hsi.tif ' was said not to exist, with no word of the space."""
    layers = {**scene_layers(chain[0]), **QUICK_PRETRAIN, "OUTPUT": tmp_path / "model.safetensors"}
    done = mrs(no_qgis, "pretrain", *arguments(**{**layers, "INPUT_HSI": f"{chain[0].hsi} "}))
    assert done.returncode == 1 and list(tmp_path.iterdir()) == []
    assert done.stderr.splitlines()[-1] == (f"The hyperspectral layer 'hsi': the file '{chain[0].hsi} ' does not "
                                            f"exist, but {chain[0].hsi} does: remove the spaces around the path.")


def misnamed_inputs(chain, out) -> dict:
    """Inputs that GDAL cannot open, or open as something else, or that repeat another input."""
    scene, maps = chain[0], chain[1]
    layers = {**scene_layers(scene), **QUICK_PRETRAIN, "OUTPUT": out / "model.safetensors"}
    finetune = {**scene_layers(scene), **QUICK_FINETUNE, "OUTPUT": out / "model.safetensors"}
    return {
        "mask_missing": ("pretrain", {**layers, "MASK": out.parent / "nowhere.gpkg"},
                         f"MASK: the file {out.parent / 'nowhere.gpkg'} does not exist."),
        "mask_layer_missing": ("pretrain", {**layers, "MASK": f"{scene.train_points}|layername=fields"},
                               f"MASK: {scene.train_points} has no layer named 'fields'; its layers: 'train_points'. "
                               "Choose one of them."),  # it named no parameter (a helper's red team of 2026-12-06)
        "mask_layer_number_not_a_number": ("pretrain", {**layers, "MASK": f"{scene.train_points}|layerid=abc"},
                                           f"MASK: {scene.train_points}: layerid=abc is no layer number (0 for the "
                                           "first layer); its layers: 'train_points'. Give a number, or the layer's "
                                           "name as layername=NAME."),  # 'no layer numbered' it (a review, 12-06)
        "mask_option_not_understood": ("pretrain", {**layers, "MASK": f"{scene.train_points}|foo=bar"},
                                       "MASK: the vector source of 'train_points' has the option 'foo=bar', which is "
                                       "not understood here"),
        "mask_is_a_raster": ("pretrain", {**layers, "MASK": maps / "map.tif"},
                             f"MASK: '{maps / 'map.tif'}' is a raster, not a vector layer. Choose a file of polygons."),
        # named by their parameter, with the other way to give labels, before the scene is read (2026-12-06)
        "samples_are_a_raster": ("finetune", {**finetune, "SAMPLES": maps / "map.tif", "CLASS_FIELD": "class"},
                                 f"SAMPLES: '{maps / 'map.tif'}' is a raster, not a vector layer. Choose a file of "
                                 "points, lines or polygons, or give it as LABELS."),
        "samples_are_an_empty_folder": ("finetune", {**finetune, "SAMPLES": out, "CLASS_FIELD": "class"},
                                        f"SAMPLES: '{out}' is a folder that holds no vector layer GDAL/OGR can read "
                                        "(as a folder of shapefiles would). Choose a file of points, lines or "
                                        "polygons."),
        "labels_are_points": ("finetune", {**finetune, "LABELS": scene.train_points},
                              f"LABELS: '{scene.train_points}' is a vector layer, not a raster. Choose a raster file, "
                              "or give it as SAMPLES (with CLASS_FIELD)."),
        "reference_labels_are_points": ("accuracy", {"INPUT": maps / "map.tif", "REFERENCE_LABELS": scene.train_points,
                                                     "OUTPUT_HTML": out / "accuracy.html"},
                                        f"REFERENCE_LABELS: '{scene.train_points}' is a vector layer, not a raster. "
                                        "Choose a raster file, or give it as REFERENCE (with "
                                        "REFERENCE_FIELD)."),
        "aux_is_points": ("pretrain", {**layers, "INPUT_AUX": [scene.lidar, scene.train_points]},
                          f"INPUT_AUX: '{scene.train_points}' is a vector layer, not a raster. Choose a raster file."),
        # said not to exist (a review of 2026-12-06)
        "hsi_is_a_layer_of_points": ("pretrain", {**layers, "INPUT_HSI": f"{scene.train_points}|layername=points"},
                                     f"INPUT_HSI: '{scene.train_points}|layername=points' is a vector layer, not a "
                                     "raster. Choose a raster file."),
        "hsi_named_as_a_vector_layer": ("pretrain", {**layers, "INPUT_HSI": f"{scene.hsi}|layername=hsi"},
                                        f"INPUT_HSI: '{scene.hsi}|layername=hsi' names a layer as a vector file's "
                                        "layers are named ('|layername=hsi'); a raster is given by its file alone (one "
                                        "of a GeoPackage as GPKG:file.gpkg:table). Choose a raster file."),
        "extent_inverted": ("pretrain", {**layers, "EXTENT": "50,10,0,40"},
                            "The extent EXTENT (x 50..10, y 0..40) is empty or inverted: its minimum x and y must be "
                            "below its maximum x and y."),
        "extent_overflows": ("pretrain", {**layers, "EXTENT": "1e309,1e310,0,1"},
                             "The extent EXTENT (x inf..inf, y 0..1) is not four finite numbers in the layer's CRS"),
        "extent_beyond_its_crs": ("pretrain", {**layers, "EXTENT": "661000,661020,5100960,5100990 [+proj=longlat]"},
                                  "EXTENT: x 661000..661020, y 5100960..5100990 in "),
        "extent_crs_unknown": ("pretrain", {**layers, "EXTENT": "0,1,0,1 [EPSG:999999]"},
                               "EXTENT: the CRS 'EPSG:999999' is not known; write it as EPSG:code."),
        "hsi_is_a_pipe": ("pretrain", {**layers, "INPUT_HSI": out.parent / "pipe.tif"},
                          f"The hyperspectral layer 'pipe': {out.parent / 'pipe.tif'} is a named pipe (FIFO), not a "
                          "file. Choose a layer saved as a file that can be read."),
        "mask_is_a_pipe": ("pretrain", {**layers, "MASK": out.parent / "pipe.tif"},
                           f"MASK: {out.parent / 'pipe.tif'} is a named pipe (FIFO), not a file."),
        "scene_list_is_a_pipe": ("pretrain", {**layers, "MORE_SCENES": out.parent / "pipe.tif"},
                                 f"MORE_SCENES: '{out.parent / 'pipe.tif'}' is a named pipe (FIFO), not a file."),
        "aux_twice": ("pretrain", {**layers, "INPUT_AUX": [scene.lidar, scene.lidar]},
                      f"INPUT_AUX: {scene.lidar} is given twice; each input must be a different layer."),
        "reference_is_the_map": ("accuracy", {"INPUT": maps / "map.tif", "REFERENCE_LABELS": maps / "map.tif",
                                              "OUTPUT_HTML": out / "accuracy.html"},
                                 f"REFERENCE_LABELS: {maps / 'map.tif'} is also the input INPUT; each input must be a "
                                 "different layer."),
    }


@pytest.mark.parametrize("case", ["mask_missing", "mask_layer_missing", "mask_layer_number_not_a_number",
                                  "mask_option_not_understood", "mask_is_a_raster", "samples_are_a_raster",
                                  "samples_are_an_empty_folder", "labels_are_points", "reference_labels_are_points",
                                  "aux_is_points", "hsi_is_a_layer_of_points", "hsi_named_as_a_vector_layer",
                                  "extent_inverted", "extent_overflows", "extent_beyond_its_crs", "extent_crs_unknown",
                                  "aux_twice", "reference_is_the_map", "hsi_is_a_pipe", "mask_is_a_pipe",
                                  "scene_list_is_a_pipe"])
def test_an_input_that_is_missing_of_another_kind_or_given_twice_is_named_as_such(no_qgis, chain, tmp_path, case):
    """A named pipe (or /dev/stdin fed by one) held a run before its first line until a second Ctrl-C."""
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(tmp_path / "pipe.tif")
    job, parameters, message = misnamed_inputs(chain, out)[case]
    done = mrs(no_qgis, job, *arguments(**parameters))
    assert done.returncode == 1
    assert message in done.stderr.splitlines()[-1] and "Traceback" not in done.stderr
    assert "ERROR" not in done.stderr  # no GDAL or PROJ line beside the sentence
    assert list(out.iterdir()) == []


def test_a_layer_a_folder_of_shapefiles_lacks_is_named_with_its_layers_before_the_scene_is_read(no_qgis, chain,
                                                                                               tmp_path):
    """A review of 2026-12-06: 'folder|layername=x' was said after the scene was read, naming no parameter."""
    from osgeo import ogr

    folder = tmp_path / "shapes"
    folder.mkdir()
    for name in ("fields", "roads"):
        source = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(str(folder / f"{name}.shp"))
        source.CreateLayer(name, geom_type=ogr.wkbPolygon)
        source = None
    out = tmp_path / "out"
    out.mkdir()
    parameters = {**scene_layers(chain[0]), **QUICK_PRETRAIN, "MASK": f"{folder}|layername=nope",
                  "OUTPUT": out / "model.safetensors"}
    done = mrs(no_qgis, "pretrain", *arguments(**parameters))
    assert done.returncode == 1 and "Scene:" not in done.stderr
    assert done.stderr.splitlines()[-1] in (f"MASK: {folder} has no layer named 'nope'; its layers: {layers}. Choose "
                                            "one of them." for layers in ("'fields', 'roads'", "'roads', 'fields'"))
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("layer", ["INPUT_HSI", "INPUT_AUX"])
def test_an_output_over_an_input_is_refused_before_torch_starts(no_qgis, chain, tmp_path, layer):
    """The refusal came after the device's lines (a session's red team of 2026-12-06), where the dialogs refuse
    it before the run."""
    scene, finetuned = chain[0], chain[3]
    copy = tmp_path / "layer.tif"
    shutil.copyfile(scene.hsi if layer == "INPUT_HSI" else scene.lidar, copy)
    done = mrs(no_qgis, "classify", *arguments(**{**scene_layers(scene), layer: copy}, MODEL=finetuned["OUTPUT"],
                                               OUTPUT=copy))
    assert done.returncode == 1 and done.stderr.splitlines() == [
        f"OUTPUT: {copy} is the input {layer} ({copy}); writing it would destroy that input. Choose another output "
        "file name."]


def test_a_confidence_raster_given_the_map_s_file_is_refused_before_the_scene_is_read(no_qgis, chain, tmp_path):
    """Session of 2026-12-05: the refusal came once the classifier was loaded and the scene sampled."""
    scene, out, _pretrained, finetuned = chain[:4]
    done = mrs(no_qgis, "classify", *arguments(MODEL=finetuned["OUTPUT"], **scene_layers(scene),
                                               OUTPUT=tmp_path / "map.tif", OUTPUT_CONFIDENCE=tmp_path / "map.tif"))
    assert done.returncode == 1 and done.stderr.splitlines()[-1] == (
        f"OUTPUT_CONFIDENCE: {tmp_path / 'map.tif'} would take the place of the class map {tmp_path / 'map.tif'} or "
        "of its side files; choose another name.")
    assert "Scene:" not in done.stderr and "Classifying" not in done.stderr and list(tmp_path.iterdir()) == []


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_the_progress_is_a_bar_with_the_time_left_under_the_log(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    stream, clock = io.StringIO(), Clock()
    report = TerminalReport(stream, interactive=True, clock=clock, enabled=True)
    hooks = report.hooks()
    clock.now += 30.0
    hooks.sub(0.0, 0.5).progress(0.5)
    assert stream.getvalue().endswith("\r[#######.......................]  25 %, 1 min 30 s left\x1b[K")
    hooks.log("Pretraining epoch 1/2: loss 0.5")
    assert stream.getvalue().endswith("\r\x1b[KPretraining epoch 1/2: loss 0.5\n\r[#######.......................]"
                                      "  25 %, 1 min 30 s left\x1b[K")
    hooks.status("Pretraining epoch 2/2, about 20 s left")  # one estimate: the epochs' (a helper's red team, 12-06)
    assert stream.getvalue().endswith("  25 %  Pretraining epoch 2/2, about 20 s left\x1b[K")
    monkeypatch.setenv("COLUMNS", "60")
    hooks.status("Pretraining epoch 2/2, about 20 s left")  # clauses dropped whole, not 'Pr'
    assert stream.getvalue().endswith("\r[#######.......................]  25 %, 1 min 30 s left\x1b[K")
    report.finish()
    assert stream.getvalue().endswith("\n")


def test_off_a_terminal_the_progress_is_a_line_every_tenth_and_other_ranks_are_silent(monkeypatch):
    stream, clock = io.StringIO(), Clock()
    hooks = TerminalReport(stream, interactive=False, clock=clock).hooks()
    for step in range(1, 21):
        clock.now += 1.0
        hooks.progress(step / 20)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and lines[0] == "Progress: 10 % (2 s so far, about 18 s left)."
    assert lines[-1] == "Progress: 100 % (20 s so far)."
    monkeypatch.setenv("RANK", "1")
    quiet = io.StringIO()
    hooks = TerminalReport(quiet, interactive=True).hooks()
    hooks.log("a line")
    hooks.progress(0.5)
    assert quiet.getvalue() == ""


def test_the_time_left_of_a_resumed_run_counts_its_own_pace_only():
    """Red team of 2026-12-04: resumed at 30 %, 10 s for the next 10 % said 7 s left, not 1 min."""
    stream, clock = io.StringIO(), Clock()
    hooks = TerminalReport(stream, interactive=False, clock=clock).hooks()
    clock.now += 5.0
    hooks.sub(0.2, 1.0).resumed(0.125)
    hooks.progress(0.3)
    clock.now += 10.0
    hooks.progress(0.4)
    assert stream.getvalue().splitlines() == ["Progress: 30 % (5 s so far).",
                                              "Progress: 40 % (15 s so far, about 1 min 00 s left)."]


def area_in_wgs84() -> tuple:
    """west, south, east, north of the UTM 32N area x 661010..661030, y 5100960..5100990, in longitude and latitude."""
    from osgeo import osr

    wgs84, utm = osr.SpatialReference(), osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    utm.ImportFromEPSG(32632)
    for srs in (wgs84, utm):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    west, south = osr.CoordinateTransformation(utm, wgs84).TransformPoint(661010, 5100960)[:2]
    east, north = osr.CoordinateTransformation(utm, wgs84).TransformPoint(661030, 5100990)[:2]
    return west, south, east, north


def test_the_extent_is_read_as_qgis_writes_it_and_reprojected_to_the_hyperspectral_grid(chain):
    from mrs.mrs_qgis_plugin.cli import extent_of
    from mrs.mrs_qgis_plugin.raster.grid import format_bounds

    hsi = str(chain[0].hsi)
    said = []
    assert extent_of("661010,661030,5100960,5100990", hsi, said.append) == (661010, 5100960, 661030, 5100990)
    assert extent_of(" 661010, 661030 ,5100960,5100990 [EPSG:32632]", hsi, said.append) == (
        661010, 5100960, 661030, 5100990)
    # '[]', QGIS's for a CRS without a code (a project's), is the layer's CRS here (desktop red team of 2026-12-07)
    assert extent_of("661010,661030,5100960,5100990 []", hsi, said.append) == (661010, 5100960, 661030, 5100990)
    assert said == []  # in the layer's CRS, nothing to say
    with pytest.raises(InputError) as refused:  # was taken into the layer's CRS first: 'x -505646.899516..'
        extent_of("0,0,0,0 [EPSG:4326]", hsi, said.append)
    assert str(refused.value).startswith("The extent EXTENT (x 0..0, y 0..0 in EPSG:4326) is empty or inverted: ")
    west, south, east, north = area_in_wgs84()
    xmin, ymin, xmax, ymax = extent_of(f"{west},{east},{south},{north} [EPSG:4326]", hsi, said.append)
    assert (xmin, ymin, xmax, ymax) == pytest.approx((661010, 5100960, 661030, 5100990), abs=1.0)
    assert said == [f"EXTENT ({format_bounds((west, south, east, north))} in EPSG:4326) is taken into the CRS of the "
                    f"hyperspectral layer 'hsi' (EPSG:32632) as the box around it: "
                    f"{format_bounds((xmin, ymin, xmax, ymax))}."]  # an own bad input of 2026-12-07: unsaid
    with pytest.raises(InputError, match=r"^EXTENT is 'a,b'; write it as xmin,xmax,ymin,ymax"):
        extent_of("a,b", hsi)


def test_an_extent_in_a_crs_that_cannot_be_transformed_into_the_hyperspectral_one_is_refused(tmp_path):
    """Found 2026-12-05: an EXTENT in EPSG:4326 on a hyperspectral raster in a local CRS (an ENVI
    header's map info 'Arbitrary') ended in GDAL's TypeError."""
    from mrs.mrs_qgis_plugin.cli import extent_of

    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 5, 6), np.float32), crs=(
        'LOCAL_CS["Arbitrary",UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'))
    with pytest.raises(InputError) as refused:
        extent_of("11,11.1,46,46.1 [EPSG:4326]", hsi)
    assert str(refused.value) == (
        "EXTENT: its CRS (EPSG:4326) cannot be transformed into that of the hyperspectral layer 'hsi' (Arbitrary): no "
        "transformation between them is known, as a local CRS (an ENVI header's map info 'Arbitrary', say) lies "
        "nowhere on Earth. Write the extent in the layer's own coordinates, without a CRS.")


def test_the_extent_may_be_a_layer_file_as_in_qgis(chain, tmp_path):
    """qgis_process takes a layer's file as EXTENT (its extent, in its CRS); bin/mrs said 'write it
    as xmin,xmax,ymin,ymax' (closing note of 2026-12-05)."""
    from osgeo import gdal, ogr, osr

    from mrs.mrs_qgis_plugin.cli import extent_of
    from mrs.mrs_qgis_plugin.raster.grid import format_bounds

    hsi = str(chain[0].hsi)
    west, south, east, north = area_in_wgs84()
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    area = tmp_path / "area.gpkg"
    write_vector(area, [("POLYGON((661010 5100960,661030 5100960,661030 5100990,661010 5100960))", {})], {})
    source = ogr.Open(str(area), 1)
    layer = source.CreateLayer("in4326", wgs84, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt(
        f"POLYGON(({west} {south},{east} {south},{east} {north},{west} {south}))"))
    layer.CreateFeature(feature)
    source = layer = feature = None
    write_raster(tmp_path / "area.tif", np.zeros((1, 30, 20), np.uint8), (661010, 1.0, 0, 5100990, 0, -1.0))
    said = []
    assert extent_of(str(area), hsi, said.append) == (661010, 5100960, 661030, 5100990)
    assert said == []
    assert extent_of(f"{area}|layername=in4326", hsi, said.append) == pytest.approx(
        (661010, 5100960, 661030, 5100990), abs=1.0)
    assert [line.split(" is taken into ")[0] for line in said] == [
        f"EXTENT ({format_bounds((west, south, east, north))} in EPSG:4326)"]
    assert extent_of(str(tmp_path / "area.tif"), hsi) == (661010, 5100960, 661030, 5100990)
    with pytest.raises(InputError, match=r"^EXTENT: \S*area.gpkg has no layer named 'nothing'; its layers: 'samples', "
                                         r"'in4326'\. Choose one of them\.$"):
        extent_of(f"{area}|layername=nothing", hsi)
    two = tmp_path / "two.gpkg"
    write_vector(two, [("POINT EMPTY", {"kind": 2}), ("POINT(661010 5100960)", {"kind": 1}),
                       ("POINT(661040 5100990)", {"kind": 2})], {"kind": ogr.OFTInteger})
    assert extent_of(f'{two}|subset="kind" >= 1', hsi) == (661010, 5100960, 661040, 5100990)  # the subset's features'
    with pytest.raises(InputError, match=re.escape(  # a helper's red team of 2026-12-05: 'draw the extent again'
            f"EXTENT: the features of the layer 'two' ({two}) span no area (x 661040..661040, y 5100990..5100990); "
            "give a layer of an area, or xmin,xmax,ymin,ymax.")):
        extent_of(f'{two}|subset="kind" = 2', hsi)
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    pixels = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "pixels.tif"), 3, 3)  # no geotransform
    pixels = None
    for name, problem in (("table.csv", "has no feature with a geometry"), ("pixels.tif", "has no georeference")):
        with pytest.raises(InputError, match=rf"^EXTENT: the (layer|raster) '\w+' \(.*{name}\) {problem}, so no extent"):
            extent_of(str(tmp_path / name), hsi)


def test_an_extent_naming_a_missing_file_or_a_geopackage_raster_is_read_as_the_other_inputs(chain, tmp_path):
    """A helper's audit of 2026-12-07: '--EXTENT=aera.gpkg' (a typo) was told to 'write it as xmin,xmax,ymin,ymax
    ..., or give a layer's file', and 'GPKG:area.gpkg:grid', the form a raster table's refusal advises, was refused
    so too, where INPUT_HSI takes it."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.cli import extent_of

    hsi = str(chain[0].hsi)
    one_band = write_raster(tmp_path / "one.tif", np.ones((1, 30, 20), np.float32), (661010, 1.0, 0, 5100990, 0, -1.0))
    gdal.GetDriverByName("GPKG").CreateCopy(str(tmp_path / "area.gpkg"), gdal.Open(one_band),
                                            options=["RASTER_TABLE=grid"])
    for prefix in ("GPKG", "gpkg"):
        assert extent_of(f"{prefix}:{tmp_path}/area.gpkg:grid", hsi) == (661010, 5100960, 661030, 5100990)
    # the review of the change: a vector table so written is that layer (was told to choose a raster), and a file
    # named with colons is that file (was read as the driver 'area_12' and the file '30', missing)
    write_vector(tmp_path / "pts.gpkg", [("POLYGON((661010 5100960,661030 5100960,661030 5100990,661010 5100960))",
                                          {})], {})
    shutil.copy(one_band, tmp_path / "area_12:30:00.tif")
    assert extent_of(f"GPKG:{tmp_path}/pts.gpkg:samples", hsi) == (661010, 5100960, 661030, 5100990)
    assert extent_of(f"{tmp_path}/area_12:30:00.tif", hsi) == (661010, 5100960, 661030, 5100990)
    for text, file in (("aera.gpkg", "aera.gpkg"), (f"{tmp_path}/aera.gpkg|layername=x", f"{tmp_path}/aera.gpkg"),
                       (f"GPKG:{tmp_path}/aera.gpkg:grid", f"{tmp_path}/aera.gpkg"), ("scene.jp2", "scene.jp2"),
                       ("GPKG:aera.gpkg:grid", "aera.gpkg"), ("a,b.gpkg", "a,b.gpkg")):
        with pytest.raises(InputError) as refused:
            extent_of(text, hsi)
        assert str(refused.value) == f"EXTENT: the file {file} does not exist. Check the path, or choose it again."
    with pytest.raises(InputError, match=re.escape(f"EXTENT (GPKG:{tmp_path}/area.gpkg:nosuch) names no raster of ")):
        extent_of(f"GPKG:{tmp_path}/area.gpkg:nosuch", hsi)
    for text in ("abc", "1,2,3", "1.e5", "1.5,2.5", "1,2,3,4|x"):  # no file's name: the numbers' form is advised
        with pytest.raises(InputError, match=rf"^EXTENT is '{re.escape(text)}'; write it as xmin,xmax,ymin,ymax"):
            extent_of(text, hsi)


# USR1: Slurm's --signal (helper, 12-06); XCPU: the soft CPU-time limit's (ulimit -t), which the system repeats each CPU
# second until the hard limit kills: it ended a run at once, its checkpoint unwritten (a helper's red team of 12-07)
@pytest.mark.parametrize("signal_number, repeats", [(signal.SIGTERM, 1), (signal.SIGINT, 1), (signal.SIGHUP, 1),
                                                    (signal.SIGUSR1, 1), (signal.SIGXCPU, 3)],
                         ids=["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGXCPU"])
def test_a_signal_cancels_a_training_run_which_keeps_its_checkpoint(no_qgis, chain, tmp_path, signal_number, repeats):
    output = tmp_path / "pretrained.safetensors"
    command = [sys.executable, str(MRS), "pretrain", *arguments(**scene_layers(chain[0]), **QUICK_PRETRAIN,
                                                                   OUTPUT=output)]
    command[command.index(f"--EPOCHS={QUICK_PRETRAIN['EPOCHS']}")] = "--EPOCHS=1000"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=no_qgis,
                               stdin=subprocess.DEVNULL)
    log = []
    for line in process.stderr:
        log.append(line)
        if line.startswith("Pretraining epoch 1/1000: loss "):
            break
    for _repeat in range(repeats):
        process.send_signal(signal_number)
        time.sleep(0.2)
    out, rest = process.communicate(timeout=120)
    assert process.returncode == 130, "".join(log) + rest
    said = "Canceled by the user." if signal_number == signal.SIGINT else \
        f"Stopped by {signal.Signals(signal_number).name}, as on Cancel."  # not the user's Cancel (note 18)
    assert rest.splitlines()[-1] == said and out == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == [Path(checkpoint_path_for(str(output))).name]
    assert (signal_number != signal.SIGXCPU) or ("SIGXCPU received: stopping as on Cancel (the CPU-time limit's; the "
                                                 "system kills the run at its hard limit).") in rest


def test_a_run_started_with_ctrl_c_ignored_goes_on_through_it(no_qgis, chain, tmp_path):
    """Red team of 2026-12-05: a shell script's `bin/mrs ... &` ignores Ctrl-C (SIGINT), as nohup
    ignores SIGHUP, which was honoured; bin/mrs took Ctrl-C all the same and canceled the run."""
    output = tmp_path / "pretrained.safetensors"
    command = [sys.executable, str(MRS), "pretrain", *arguments(**scene_layers(chain[0]), **QUICK_PRETRAIN,
                                                                   OUTPUT=output)]
    command[command.index(f"--EPOCHS={QUICK_PRETRAIN['EPOCHS']}")] = "--EPOCHS=3"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=no_qgis,
                               stdin=subprocess.DEVNULL,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    for line in process.stderr:
        if line.startswith("Pretraining epoch 1/3: loss "):
            break
    process.send_signal(signal.SIGINT)
    out, rest = process.communicate(timeout=120)
    assert process.returncode == 0, rest
    assert "Pretraining epoch 3/3: loss " in rest and "Ctrl-C" not in rest
    assert out.startswith(f"OUTPUT:\t{output}\n")


def test_a_second_ctrl_c_stops_at_once_in_one_sentence(monkeypatch):
    """The second Ctrl-C (KeyboardInterrupt, from `TerminalReport.cancel_on_interrupt`) came out of
    bin/mrs as a traceback (red team of 2026-12-04). Two signals sent at once merge into one, so
    the run is interrupted here as the second Ctrl-C interrupts it."""
    from mrs.mrs_qgis_plugin import cli

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_job", interrupted)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["demoscene", "--OUTPUT=/nonexistent/scene"], out, err) == 130
    assert err.getvalue() == "Stopped at once by a second Ctrl-C: this run wrote no output and no new checkpoint.\n"
    assert out.getvalue() == ""


@pytest.mark.parametrize("status", [0, 1])
def test_a_signal_after_the_results_ends_the_process_at_once_with_the_run_s_status(status):
    """A helper's red team of 2026-12-06: SIGTERM in the 0.75 s of the interpreter's shutdown, after
    the results, ended bin/mrs with status 143, and `mrs pretrain ... && mrs finetune ...` stopped on
    a finished model. Ctrl-C ignored when the run started stays ignored."""
    code = ("import os, signal, sys, time; from mrs.mrs_qgis_plugin.terminal import end_at_once_on_signals; "
            "print('OUTPUT:\\tdone', end='\\n'); end_at_once_on_signals({status}); "
            "os.kill(os.getpid(), signal.SIGINT); os.kill(os.getpid(), signal.{name}); time.sleep(30); sys.exit(7)")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for name in ("SIGTERM", "SIGHUP", "SIGUSR1"):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", code.format(status=status, name=name)], capture_output=True,
                              text=True, timeout=60, env=environment, stdin=subprocess.DEVNULL,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        assert (done.returncode, done.stdout, done.stderr) == (status, "OUTPUT:\tdone\n", "")
        assert time.monotonic() - started < 20


def test_under_torchrun_a_refusal_is_said_once_per_machine_and_a_failed_read_by_its_process(monkeypatch):
    """A helper's red team of 2026-12-06: every process of a machine said the same refusal of its
    files (8 times on 8 GPUs); reviews of the same day: a process' own failed read, in the work,
    must still be said by that process, and a refusal after the statistics' progress once."""
    from mrs.mrs_qgis_plugin import cli

    for name, value in {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"}.items():
        monkeypatch.setenv(name, value)
    for error, said in ((InputError("No pixel has valid values."), ""),
                        (ReadError("Reading failed."), "(rank 1) Reading failed.\n")):
        def refused(_job, _given, report, _out, error=error):
            report.progress(0.5)  # refusals come after the statistics' progress too (a review of 2026-12-06)
            raise error

        monkeypatch.setattr(cli, "run_job", refused)
        err = io.StringIO()
        assert cli.main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), err) == 1
        assert err.getvalue() == said


def test_ctrl_c_after_the_run_has_ended_is_ignored(monkeypatch):
    """A second Ctrl-C just after 'Canceled by the user.' raised in the interpreter's shutdown and
    printed 'Exception ignored' with a traceback (red team of 2026-12-04)."""
    import signal

    from mrs.mrs_qgis_plugin import cli

    handlers = []

    def canceled(*_args):
        handlers.append(signal.getsignal(signal.SIGINT))
        handlers[0](signal.SIGINT, None)  # the first Ctrl-C, during the run
        raise cli.Canceled("Canceled by the user.")

    monkeypatch.setattr(cli, "run_job", canceled)
    previous = signal.getsignal(signal.SIGINT)
    try:
        assert cli.main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), io.StringIO()) == 130
        try:
            handlers[0](signal.SIGINT, None)  # the second, after the run
        except KeyboardInterrupt:
            pytest.fail("a Ctrl-C after the run raised KeyboardInterrupt")
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_run_whose_output_and_log_nobody_reads_any_more_goes_on_and_succeeds(no_qgis, chain, tmp_path):
    """`bin/mrs ... | head`, or a pager quit early: the next log line raised BrokenPipeError, which
    stopped a training without its checkpoint, and a classification that had written its map
    exited 1 (red team of 2026-12-04)."""
    output = tmp_path / "pretrained.safetensors"
    command = [sys.executable, str(MRS), "pretrain", *arguments(**scene_layers(chain[0]), **QUICK_PRETRAIN,
                                                                   OUTPUT=output)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=no_qgis,
                               stdin=subprocess.DEVNULL)
    process.stderr.readline()
    process.stderr.close()
    process.stdout.close()
    assert process.wait(timeout=300) == 0
    assert model_file.read_metadata(str(output), [model_file.PRETRAINED])["training"]["samples"] == \
        QUICK_PRETRAIN["SAMPLES"]


def test_a_classifier_whose_weights_overflow_is_named_and_writes_no_map(no_qgis, chain, tmp_path):
    import json

    from safetensors.torch import save_file

    scene, _out, _pretrained, finetuned, _classified, _assessed = chain
    tensors, meta = model_file.load(finetuned["OUTPUT"], [model_file.CLASSIFIER])
    meta.pop(model_file.CHECKSUMS)  # weights a training could write: a file without checksums, as older ones
    tensors["head.1.weight"] = tensors["head.1.weight"].fill_(3e38)
    model = tmp_path / "huge.safetensors"
    save_file(tensors, str(model), metadata={"mrs": json.dumps(meta)})
    done = mrs(no_qgis, "classify", *arguments(MODEL=model, **scene_layers(scene), OUTPUT=tmp_path / "map.tif"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"MODEL: '{model}' gives class probabilities that are not numbers for some pixels: its weights, finite as they "
        "are, overflow on them, so it cannot make a map. Train it again, or choose another model file.")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["huge.safetensors"]


def test_a_deleted_current_folder_is_said_in_one_sentence(no_qgis, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    done = subprocess.run(["sh", "-c", f'cd "{gone}" && rmdir "{gone}" && exec "$0" "$1" classify', sys.executable,
                           str(MRS)], capture_output=True, text=True, env=no_qgis, stdin=subprocess.DEVNULL, timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("The current folder no longer exists (it was deleted or moved); change to an existing folder "
                           "and run again.\n")


def test_a_file_of_variables_is_refused_as_the_algorithms_refuse_it(no_qgis, chain, tmp_path):
    from test_algorithm_errors import netcdf_of_variables

    netcdf = netcdf_of_variables(tmp_path / "variables.nc", np.ones((4, 6, 5), np.float32))
    done = mrs(no_qgis, "pretrain", *arguments(INPUT_HSI=chain[0].hsi, INPUT_AUX=netcdf,
                                                OUTPUT=tmp_path / "model.safetensors"))
    assert done.returncode == 1
    assert done.stderr.startswith(f"INPUT_AUX: '{netcdf}' holds 4 variables (subdatasets, such as NETCDF:")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["variables.nc"]


def test_values_far_from_the_training_ones_are_named_by_classify_and_finetune(no_qgis, chain, tmp_path):
    """A scale factor left out (reflectance x 10000) maps every pixel wrongly; the log says so."""
    from osgeo import gdal

    scene, _out, pretrained, finetuned, classified, _assessed = chain
    unscaled = gdal.Translate(str(tmp_path / "unscaled.tif"), str(scene.hsi), outputType=gdal.GDT_Float32)
    for number in range(1, unscaled.RasterCount + 1):
        band = unscaled.GetRasterBand(number)
        band.WriteArray(band.ReadAsArray() * 10000)
    names = [f"'{unscaled.GetRasterBand(number).GetDescription()}' (band {number} of 'unscaled')"
             if unscaled.GetRasterBand(number).GetDescription() else f"band {number} of 'unscaled'"
             for number in range(1, 6)]
    unscaled = None
    done = mrs(no_qgis, "classify", *arguments(MODEL=finetuned["OUTPUT"], INPUT_HSI=tmp_path / "unscaled.tif",
                                               INPUT_AUX=scene.lidar, OUTPUT=tmp_path / "map.tif"))
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if "far from those the model was trained on" in line]
    count = gdal.Open(str(scene.hsi)).RasterCount
    assert warning == [f"Warning: {count} of the {count + 2} bands hold values far from those the model was trained on "
                       f"({', '.join(names)}, ...): check that the layers are the kinds of rasters it was trained "
                       "on, in the same units, scale and order; else the map will be wrong."]
    assert "far from those" not in classified.stderr
    # Fine-tuning a pretrained model on that raster is refused: the pretraining's statistics set every hyperspectral
    # value to one (a helper's audit of 2026-12-06: the classifier was 18 % right, its pretraining said to help less).
    done = mrs(no_qgis, "finetune", *arguments(INPUT_HSI=tmp_path / "unscaled.tif", INPUT_AUX=scene.lidar,
                                               LABELS=scene.train, PRETRAINED=pretrained["OUTPUT"], EPOCHS=1,
                                               OUTPUT=tmp_path / "classifier.safetensors"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(
        "PRETRAINED: every band of 'unscaled' holds values so far from those the model was pretrained on that its "
        "normalisation sets at least 95 % of their pixels to one value")
    assert not (tmp_path / "classifier.safetensors").exists()


def test_a_fill_code_the_layer_does_not_declare_as_nodata_is_named_by_every_job_that_reads_values(no_qgis, chain, tmp_path):
    """Red team of 2026-12-04: -3.4028235e38 pixels under a declared nodata of -3.4e38 made the
    LiDAR's scale 3.4e38 in the pretrained model, the band flattened without a word."""
    from osgeo import gdal

    scene, _out, _pretrained, finetuned, _classified, _assessed = chain
    filled = gdal.Translate(str(tmp_path / "filled.tif"), str(scene.lidar), outputType=gdal.GDT_Float32)
    band = filled.GetRasterBand(1)
    values = band.ReadAsArray()
    values[::3] = -3.4028235e38
    band.WriteArray(values)
    band.SetNoDataValue(-3.4e38)
    filled = None
    reopened = gdal.Open(str(tmp_path / "filled.tif"))
    described = reopened.GetRasterBand(1).GetDescription()
    name = f"'{described}' (band 1 of 'filled')" if described else "band 1 of 'filled'"
    layers = {"INPUT_HSI": scene.hsi, "INPUT_AUX": tmp_path / "filled.tif"}
    runs = {"pretrain": {**QUICK_PRETRAIN, "OUTPUT": tmp_path / "p.safetensors"},
            "finetune": {"LABELS": scene.train, "EPOCHS": 1, "PRESET": "tiny", "OUTPUT": tmp_path / "c.safetensors"},
            "classify": {"MODEL": finetuned["OUTPUT"], "OUTPUT": tmp_path / "map.tif"}}
    count = gdal.Open(str(scene.hsi)).RasterCount + gdal.Open(str(scene.lidar)).RasterCount
    for job, parameters in runs.items():
        done = mrs(no_qgis, job, *arguments(**layers, **parameters))
        assert done.returncode == 0, done.stderr
        assert (f"1 of the {count} bands holds a value that no measurement gives ({name}: -3.4028235e+38): most "
                "likely a nodata value the layer does not declare") in done.stderr, job
    assert "no measurement gives" not in chain[4].stderr


@pytest.mark.parametrize("arguments, message", [
    (["--EPOCHS="], "--EPOCHS is empty; give a value, or leave --EPOCHS out for the default, 60."),
    (["--NORMALIZED_TARGETS", " "], "--NORMALIZED_TARGETS is empty; give a value, or leave --NORMALIZED_TARGETS out "
                                    "for the default, true."),
    (["--MASK="], "--MASK is empty; give a value, or leave --MASK out for none."),
    (["--INPUT_AUX="], "--INPUT_AUX is empty; give a value."),
])
def test_an_empty_value_for_a_parameter_with_a_default_is_refused_not_taken_for_the_default(arguments, message):
    """An empty shell variable (--EPOCHS=$E) started a run of the default length without a word
    (red team of 2026-12-04)."""
    with pytest.raises(UsageError) as refused:
        parse_arguments(JOBS["pretrain"], arguments)
    assert str(refused.value) == message


@pytest.mark.parametrize("job, argument, message", [
    ("accuracy", "--OUTPUT_HTML=TEMPORARY_OUTPUT", "--OUTPUT_HTML=TEMPORARY_OUTPUT is QGIS's temporary file, which "
     "bin/mrs does not make; give the file to write, or leave --OUTPUT_HTML out for none."),
    ("classify", "--OUTPUT=TEMPORARY_OUTPUT", "--OUTPUT=TEMPORARY_OUTPUT is QGIS's temporary file, which bin/mrs does "
     "not make; give the file to write."),
])
def test_qgis_process_s_temporary_output_is_refused_as_no_file_of_bin_mrs(job, argument, message):
    """A qgis_process command's TEMPORARY_OUTPUT given to bin/mrs was refused as a file name without the right
    extension, which said nothing of why (a desktop helper's check of 2026-12-07)."""
    with pytest.raises(UsageError) as refused:
        parse_arguments(JOBS[job], [argument])
    assert str(refused.value) == message


def test_an_empty_required_value_is_left_to_the_job_which_asks_for_it():
    assert parse_arguments(JOBS["pretrain"], ["--OUTPUT="]) == {"OUTPUT": ""}


def test_an_empty_optional_output_is_refused_not_taken_for_none():
    """Red team of 2026-12-05: --OUTPUT_CONFIDENCE=$C with C unset made no confidence raster without a word."""
    with pytest.raises(UsageError) as refused:
        parse_arguments(JOBS["classify"], ["--OUTPUT_CONFIDENCE="])
    assert str(refused.value) == ("--OUTPUT_CONFIDENCE is empty; give a value, or leave --OUTPUT_CONFIDENCE out for "
                                  "none.")


def test_a_file_parameter_s_tilde_is_the_home_folder_as_an_output_s_is(monkeypatch, tmp_path):
    """The shell leaves the ~ of --MODEL=~/x alone: outputs took it for the home folder and inputs
    were said not to exist (red team of 2026-12-04); an EXTENT given as a layer's file too (note of
    2026-12-05), its numbers left as they are."""
    monkeypatch.setenv("HOME", str(tmp_path))
    given = parse_arguments(JOBS["classify"], ["--MODEL=~/clf.safetensors", "--INPUT_HSI=~/hsi.tif",
                                               "--INPUT_AUX=~/lidar.tif", "--OUTPUT=~/map.tif", "--DEVICE=cpu",
                                               "--EXTENT=~/area.gpkg"])
    assert given == {"MODEL": f"{tmp_path}/clf.safetensors", "INPUT_HSI": f"{tmp_path}/hsi.tif",
                     "INPUT_AUX": [f"{tmp_path}/lidar.tif"], "OUTPUT": f"{tmp_path}/map.tif", "DEVICE": "cpu",
                     "EXTENT": f"{tmp_path}/area.gpkg"}
    numbers = parse_arguments(JOBS["classify"], ["--EXTENT=1,2,3,4 [EPSG:32632]"])
    assert numbers == {"EXTENT": "1,2,3,4 [EPSG:32632]"}


@pytest.mark.parametrize("arguments,message", [
    (["--"], "'--' is not a parameter; give each one as --NAME=value (see bin/mrs classify --help)."),
    (["--INPUT_AUX={a},{b}"], "--INPUT_AUX={a},{b} names several files in one value; give each as a --INPUT_AUX of "
                              "its own (--INPUT_AUX={a} --INPUT_AUX={b})."),
    (["--INPUT_AUX={a}, ~/b.tif"], "--INPUT_AUX={a}, ~/b.tif names several files in one value; give each as a "
                                   "--INPUT_AUX of its own (--INPUT_AUX={a} --INPUT_AUX={b})."),
    # one of them missing: it was said to be one file that does not exist (a helper's red team of 2026-12-06)
    (["--INPUT_AUX={a},{a}x"], "--INPUT_AUX={a},{a}x names several files in one value; give each as a --INPUT_AUX "
                               "of its own (--INPUT_AUX={a} --INPUT_AUX={a}x); {a}x does not exist."),
    (["--INPUT_AUX={a},"], "--INPUT_AUX={a}, holds a comma beside one file; give it alone (--INPUT_AUX={a})."),
])
def test_an_argument_that_is_no_parameter_or_lists_files_in_one_value_is_said_as_such(tmp_path, monkeypatch,
                                                                                      arguments, message):
    """'has no parameter ;' and 'the file a.tif,b.tif does not exist' said neither (red team of 2026-12-04)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    a.write_bytes(b"")
    b.write_bytes(b"")
    with pytest.raises(UsageError) as refused:
        parse_arguments(JOBS["classify"], [argument.format(a=a, b=b) for argument in arguments])
    assert str(refused.value) == message.format(a=a, b=b)


@pytest.mark.parametrize("arguments, said", [
    (["pretrain", "--EPOCH=1"], "bin/mrs: pretrain has no parameter EPOCH (did you mean EPOCHS?);"),
    (["classify", "--tile_size=64"], "bin/mrs: classify has no parameter tile_size (did you mean TILE_SIZE?);"),
    # SPATIAL_RATIO alone was offered, the paper's mask ratio being SPECTRAL_RATIO (own bad input of 2026-12-06)
    (["pretrain", "--MASK_RATIO=0.5"], "bin/mrs: pretrain has no parameter MASK_RATIO (did you mean SPECTRAL_RATIO or "
                                       "SPATIAL_RATIO?);"),
    (["suggest", "--COUNT=5"], "bin/mrs: COUNT is a result of suggest, not a parameter; leave --COUNT out (see "
                               "bin/mrs suggest --help for its parameters)."),
    (["CLASSIFY"], "bin/mrs: 'CLASSIFY' is not a job (did you mean classify?); use one of:"),
    # the jobs' help names the workflow; a parameter came first (a helper's red team of 2026-12-06)
    (["workflow"], "bin/mrs: the workflow runs in QGIS only (mrs:workflow); here, run its steps in turn: pretrain, "
                   "finetune, classify and accuracy (see bin/mrs --help)."),
    (["--DEVICE=cpu", "classify", "--TILE_SIZE=64"], "bin/mrs: '--DEVICE=cpu' comes before the job; name the job "
                                                      "first: bin/mrs classify --DEVICE=cpu ..."),
])
def test_a_misspelt_name_is_answered_with_the_closest_one(arguments, said):
    """As qgis_process answers it (red team of 2026-12-04)."""
    err = io.StringIO()
    assert main(arguments, io.StringIO(), err) == 2
    assert err.getvalue().startswith(said)


def test_no_job_at_all_is_a_usage_error_on_standard_error():
    out, err = io.StringIO(), io.StringIO()
    assert main([], out, err) == 2
    assert out.getvalue() == "" and err.getvalue() == main_help() + "\n"


def test_results_that_standard_output_cannot_take_fail_the_run_and_are_named(no_qgis, tmp_path):
    """`bin/mrs ... > results.txt` on a full disk exited 0 with the results lost (note 18); a
    reader that went away (a closed pipe) still leaves the run a success."""
    scene = tmp_path / "scene"
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, str(MRS), "demoscene", f"--OUTPUT={scene}"], stdout=full,
                              stderr=subprocess.PIPE, text=True, env=no_qgis, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    said = lines.index(
        "The results could not be written to standard output (No space left on device); the outputs are written:")
    assert f"OUTPUT:\t{scene}" in lines[said + 1:] and f"TRAIN_LABELS:\t{scene / 'train.tif'}" in lines[said + 1:]
    assert (scene / "hsi.tif").is_file()


def test_results_nobody_reads_any_more_leave_the_run_a_success():
    from mrs.mrs_qgis_plugin import cli

    class GoneReader(io.StringIO):
        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    cli._print_results({"OUTPUT": "/x/map.tif"}, GoneReader())


def test_torchrun_variables_left_in_the_environment_without_torchrun_are_said(no_qgis, chain, tmp_path):
    """Red team of 2026-12-05: RANK, WORLD_SIZE and LOCAL_RANK left set (a shell of an earlier job)
    ended in a traceback of torch ('MASTER_ADDR expected, but not set'); with RANK=1 a job of one
    process would have done nothing and said nothing."""
    for rank, job in (("0", "classify"), ("1", "demoscene")):
        parameters = ({"MODEL": chain[3]["OUTPUT"], **scene_layers(chain[0]), "OUTPUT": tmp_path / "map.tif"}
                      if job == "classify" else {"SIZE": 48, "BANDS": 8, "OUTPUT": tmp_path / "demo"})
        done = subprocess.run([sys.executable, str(MRS), job, *arguments(**parameters)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              env={**no_qgis, "RANK": rank, "WORLD_SIZE": "2", "LOCAL_RANK": rank})
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines()[-1].endswith(
            "RANK, WORLD_SIZE and LOCAL_RANK are set, as torchrun sets them, but MASTER_ADDR is not: start the run "
            "with torchrun, or unset those variables.")
    assert list(tmp_path.iterdir()) == []


def test_results_that_standard_output_cannot_encode_fail_the_run_in_one_sentence(no_qgis, tmp_path):
    """Red team of 2026-12-05: with PYTHONIOENCODING=ascii an output path holding 'é' left standard
    output empty and the run said success, as if nobody read it."""
    output = tmp_path / "scène"
    done = subprocess.run([sys.executable, str(MRS), "demoscene", "--SIZE=48", "--BANDS=8", f"--OUTPUT={output}"],
                          capture_output=True, stdin=subprocess.DEVNULL,
                          env={**no_qgis, "PYTHONIOENCODING": "ascii"})
    assert done.returncode == 1 and done.stdout == b""
    lines = done.stderr.decode("ascii").splitlines()
    assert ("The results could not be written to standard output, whose encoding (ascii) cannot hold them: run with a "
            "UTF-8 locale or PYTHONIOENCODING=utf-8; the outputs are written:") in lines
    assert f"OUTPUT:\t{str(output).encode('ascii', 'backslashreplace').decode('ascii')}" in lines


@pytest.mark.parametrize("rank,local_rank,said", [("0", "0", "bin/mrs: "), ("2", "0", "bin/mrs (rank 2): "),
                                                  ("1", "1", None)])
def test_a_usage_error_under_torchrun_is_said_once_per_machine(monkeypatch, rank, local_rank, said):
    """The processes of one machine parse the same words: each printed the same sentence (red team of
    2026-12-04); then only rank 0 did, and a typo in the command of the second machine of a two-machine
    run was said nowhere (a helper's red team of 2026-12-05)."""
    from mrs.mrs_qgis_plugin import cli

    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("LOCAL_RANK", local_rank)
    err = io.StringIO()
    assert cli.main(["classify", "--TILE_SIZ=64"], out=io.StringIO(), err=err) == cli.EXIT_USAGE
    if said is None:
        assert err.getvalue() == ""
    else:
        assert err.getvalue().startswith(said + "classify has no parameter TILE_SIZ")


def test_non_ascii_names_under_a_locale_whose_file_names_are_not_utf_8_are_refused(no_qgis, tmp_path):
    """A helper's red team of 2026-12-05: under a Latin-1 locale a map said to be written was a file of
    0 bytes, its data left in hidden files (Python and GDAL took the name's bytes otherwise); under the C
    locale without UTF-8 mode a valid name was said not to be UTF-8."""
    output = tmp_path / "scène"
    done = subprocess.run([sys.executable, str(MRS), "demoscene", "--SIZE=48", "--BANDS=8", f"--OUTPUT={output}"],
                          capture_output=True, stdin=subprocess.DEVNULL,
                          env={**no_qgis, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"})
    assert done.returncode == 1 and done.stdout == b""
    shown = str(output).encode("ascii", "backslashreplace").decode("ascii")  # as an ASCII terminal can show it
    assert done.stderr.decode("ascii").splitlines()[-1] == (
        f"OUTPUT: this process reads file names as ascii (its locale), but GDAL reads them as UTF-8, so "
        f"{shown} would name another file for each: run it with a UTF-8 locale (LC_ALL=C.UTF-8) or with "
        "PYTHONUTF8=1.")
    assert list(tmp_path.iterdir()) == []


def test_a_python_with_a_torch_older_than_2_hands_over_to_the_checkout_s_venv(monkeypatch):
    """A helper's red team of 2026-12-05: Debian's python3-torch 1.13 kept the run in that Python,
    which refused it, where the checkout's .venv had everything."""
    import importlib.machinery
    import importlib.metadata
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("bin_mrs", str(MRS))
    script = importlib.util.module_from_spec(importlib.util.spec_from_loader("bin_mrs", loader))
    loader.exec_module(script)
    assert script.usable_here()  # this environment's torch 2.13
    for version, usable in (("1.13.1", False), ("2.0.0", True), ("git", True)):
        monkeypatch.setattr(importlib.metadata, "version", lambda name, version=version: version)
        assert script.usable_here() == usable, version

    def unrecorded(name):  # a torch folder left without its install's record (a review of 2026-12-05)
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", unrecorded)
    assert not script.usable_here()


@pytest.mark.parametrize("arguments", [["--help"], ["classify", "--help"]])
def test_help_that_cannot_be_written_to_standard_output_fails_in_one_sentence(arguments):
    """A helper's red team of 2026-12-05: `bin/mrs pretrain --help > /dev/full` exited 0 with nothing
    written, where results on a full disk fail the run."""
    import errno

    class Full(io.StringIO):
        def write(self, _text):
            raise OSError(errno.ENOSPC, "No space left on device")

    err = io.StringIO()
    assert main(arguments, Full(), err) == 1
    assert err.getvalue() == "bin/mrs: the help could not be written to standard output (No space left on device).\n"


@pytest.mark.parametrize("name", ["SIGTERM", "SIGUSR1", "SIGUSR2", "SIGXCPU"])
def test_a_signal_before_the_run_takes_it_ends_bin_mrs_with_one_line_and_the_status_of_a_cancel(no_qgis, tmp_path,
                                                                                               name):
    """A helper's red team of 2026-12-06: a Ctrl-C in bin/mrs's imports printed a traceback, a SIGTERM ended it with
    143 unsaid; a helper's audit of 2026-12-07: Slurm's SIGUSR1 with 138. Sent while bin/mrs's own code runs (its
    functions loaded as a module, not run)."""
    script = (f"import os, runpy, signal; names = runpy.run_path({str(MRS)!r}, run_name='not_main'); "
              f"names['stop_at_once_before_the_run'](); os.kill(os.getpid(), signal.{name}); print('went on')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=no_qgis)
    assert (done.returncode, done.stdout, done.stderr) == (
        130, "", f"Stopped by {name} before the run started: nothing was written.\n")


def test_a_sigterm_in_the_set_up_of_a_run_cancels_it_as_later(no_qgis, tmp_path):
    """A helper's red team of 2026-12-06: a SIGTERM while the run checked its packages and values (before torch
    started) ended it with 143 unsaid; it cancels the run, as in the work."""
    script = (f"import os, runpy, signal, sys; runpy.run_path({str(MRS)!r}, run_name='not_main')['import_package'](); "
              "from mrs.mrs_qgis_plugin import cli; "
              "cli._missing_packages = lambda job, given: os.kill(os.getpid(), signal.SIGTERM); "
              f"sys.exit(cli.main(['demoscene', '--SIZE=48', '--OUTPUT={tmp_path / 'demo'}']))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=no_qgis,
                          cwd=tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines()[-1] == "Stopped by SIGTERM, as on Cancel."
    assert not (tmp_path / "demo").exists()


def test_a_proj_without_its_database_is_said_before_the_work(no_qgis, tmp_path):
    """A helper's red team of 2026-12-06: with PROJ_DATA left pointing at another installation's, every CRS failed,
    said as an unknown EXTENT CRS, a full disk, or a map that could not be written after its classification."""
    done = mrs({**no_qgis, "PROJ_DATA": str(tmp_path / "nowhere"), "PROJ_LIB": str(tmp_path / "nowhere")},
               "demoscene", "--SIZE=48", f"--OUTPUT={tmp_path / 'demo'}")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "GDAL's PROJ cannot read its database of coordinate reference systems (PROJ: proj_create_from_database: Cannot "
        f"find proj.db; PROJ_DATA={tmp_path / 'nowhere'}, PROJ_LIB={tmp_path / 'nowhere'}): unset PROJ_DATA and "
        "PROJ_LIB, or set them to the folder holding the proj.db of this GDAL's PROJ, and run again.")
    assert not (tmp_path / "demo").exists()


def test_help_before_a_job_shows_that_job_s_help():
    """A helper's red team of 2026-12-06: 'bin/mrs --help classify' showed the list of jobs."""
    out = io.StringIO()
    assert main(["--help", "classify"], out, io.StringIO()) == 0
    assert out.getvalue() == job_help(JOBS["classify"]) + "\n"


BAR = "[#######.......................]  25 %"


@pytest.mark.parametrize("columns, status, shown", [
    (200, "Fine-tuning epoch 2/10, about 8 s left", f"{BAR}  Fine-tuning epoch 2/10, about 8 s left"),
    (200, "Fine-tuning epoch 1/10", f"{BAR}, 3 s left  Fine-tuning epoch 1/10"),
    # 'about 8 s' at 74-78 (a review): the status's estimate dropped whole, the bar's said
    (78, "Fine-tuning epoch 2/10, about 8 s left", f"{BAR}, 3 s left  Fine-tuning epoch 2/10"),
    (50, "Fine-tuning epoch 1/10", f"{BAR}, 3 s left"),
    (46, "Fine-tuning epoch 1/10", BAR),
    (20, "", BAR[:19]),
])
def test_the_bar_gives_one_estimate_and_fits_the_terminal_at_a_word(monkeypatch, columns, status, shown):
    """A helper's red team of 2026-12-06: 'about' cut off mid-sentence at 80 columns, two estimates of the time
    left that disagreed, and a bar without a status wider than the terminal, which wrapped."""
    import os as os_module

    from mrs.mrs_qgis_plugin import terminal

    monkeypatch.setattr(terminal.shutil, "get_terminal_size", lambda: os_module.terminal_size((columns, 24)))
    times = iter([0.0, 1.0, 1.0])
    report = terminal.TerminalReport(io.StringIO(), interactive=True, clock=lambda: next(times), enabled=True)
    report.fraction, report.status_text = 0.25, status
    assert report._bar() == f"\r{shown}\x1b[K"


def test_version_names_the_plugin_s_version():
    """A helper's red team of 2026-12-06: --version was said to be no job."""
    from mrs.model_core import __version__

    out = io.StringIO()
    assert main(["--version"], out, io.StringIO()) == 0
    assert out.getvalue() == f"bin/mrs {__version__} (the MRS plugin's jobs)\n"
