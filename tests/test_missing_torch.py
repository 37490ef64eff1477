"""Without torch the plugin loads, and each algorithm says how to install it."""

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback

from mrs.algorithms import ALGORITHMS
from mrs.mrs_qgis_plugin import dependencies

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("torch=="))


def test_requirements_are_read_from_the_plugins_requirements_file():
    assert dependencies.pinned_requirements() == ["torch==2.13.0", "safetensors==0.8.0"]
    assert dependencies.module_name("safetensors==0.8.0") == "safetensors"
    assert dependencies.module_name("Some-Package>=1.0 ; python_version>'3'") == "some_package"


def test_nothing_is_missing_where_torch_is_installed():
    assert dependencies.missing_dependencies_message() is None


def test_the_install_command_suits_the_python_that_runs(monkeypatch):
    python = dependencies.python_executable()
    assert Path(python).is_file() and os.path.samefile(python, sys.executable)
    assert dependencies.pip_install_command(["torch==2.13.0"]) == f"{python} -m pip install torch==2.13.0"

    monkeypatch.setattr(sys, "base_prefix", sys.prefix)  # as if outside a virtual environment
    managed = Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").is_file()
    expected = f"{python} -m pip install --user{' --break-system-packages' if managed else ''} torch==2.13.0"
    assert dependencies.pip_install_command(["torch==2.13.0"]) == expected


@pytest.fixture
def torch_hidden(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError


def test_the_message_names_the_missing_package_and_the_command(torch_hidden):
    message = dependencies.missing_dependencies_message()
    command = dependencies.pip_install_command([TORCH_PIN])
    assert message == (
        f"Training and mapping need the Python package torch, which the Python that runs QGIS cannot import; "
        f"install it with Plugins > MRS land cover > Install Python packages, or with: {command} and restart QGIS."
    )


@pytest.mark.parametrize("algorithm_class", [a for a in ALGORITHMS if a.JOB.needs_torch], ids=lambda c: c.ALGORITHM_ID)
def test_every_algorithm_stops_with_the_message_before_any_work(provider, torch_hidden, algorithm_class):
    algorithm = QgsApplication.processingRegistry().algorithmById(f"mrs:{algorithm_class.ALGORITHM_ID}")
    with pytest.raises(QgsProcessingException) as raised:
        algorithm.processAlgorithm({}, QgsProcessingContext(), QgsProcessingFeedback())
    assert str(raised.value) == dependencies.missing_dependencies_message()


def test_the_workflow_s_checks_say_torch_is_missing_not_a_traceback(provider, torch_hidden, tmp_path):
    """A helper's red team of 2026-12-05: the workflow's checks read model files with torch, and
    ended in "ModuleNotFoundError: No module named 'torch'" before any message."""
    workflow = QgsApplication.processingRegistry().createAlgorithmById("mrs:workflow")
    parameters = {"INPUT_HSI": str(tmp_path / "hsi.tif"), "INPUT_AUX": [str(tmp_path / "lidar.tif")]}
    assert workflow.checkParameterValues(parameters, QgsProcessingContext()) == (
        False, dependencies.missing_dependencies_message())


def test_the_demo_scene_needs_no_torch(provider, torch_hidden, tmp_path):
    import processing

    results = processing.run("mrs:demoscene", {"SIZE": 48, "BANDS": 6, "OUTPUT": str(tmp_path / "scene")})
    assert Path(results["HSI"]).is_file() and Path(results["TRAIN_POINTS"]).is_file()


def test_qgis_process_without_torch_loads_the_plugin_runs_the_analyses_and_prints_the_install_command(tmp_path):
    """The band redundancy needs numpy and GDAL alone, and runs (until 2026-12-07 it stopped with the install
    command, as the jobs that need torch still do)."""
    from osgeo import gdal

    hsi = str(tmp_path / "hsi.tif")
    bands = np.random.default_rng(0).normal(size=(2, 20, 20))
    values = np.concatenate([bands, bands + 0.01 * np.random.default_rng(1).normal(size=(2, 20, 20))])
    dataset = gdal.GetDriverByName("GTiff").Create(hsi, 20, 20, 4, gdal.GDT_Float32)
    dataset.SetGeoTransform((500000.0, 10.0, 0.0, 5100000.0, 0.0, -10.0))
    dataset.WriteArray(values.astype(np.float32))
    dataset = None
    # QGIS' Python sees neither the project's .venv nor any torch installed elsewhere.
    blocker = tmp_path / "blocker" / "torch"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'torch\'", name="torch")\n')
    env = {**os.environ, "MRS_VENV": str(tmp_path / "no-venv"), "PYTHONPATH": str(blocker.parent)}

    def qgis_process(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "bin" / "qgis_process"), *arguments],
            capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
        )

    listing = qgis_process("list")
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert "\tmrs:classify\tClassify" in listing.stdout.splitlines()

    run = qgis_process(
        "run", "mrs:redundancy", f"--INPUT_HSI={hsi}", "--SAMPLE_SIZE=400",
        f"--OUTPUT_PNG={tmp_path / 'similarity.png'}", f"--OUTPUT_CSV={tmp_path / 'similarity.csv'}",
    )
    assert run.returncode == 0 and "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    assert "GROUP_COUNT:\t2" in run.stdout.splitlines()
    rows = (tmp_path / "similarity.csv").read_text().splitlines()
    assert len(rows) == 5 and float(rows[3].split(",")[1]) == pytest.approx(1.0, abs=1e-3)  # band 3 is band 1

    run = qgis_process("run", "mrs:pretrain", f"--INPUT_HSI={hsi}", f"--INPUT_AUX={hsi}",
                       f"--OUTPUT={tmp_path / 'model.safetensors'}")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Traceback" not in output
    match = re.search(
        r"Training and mapping need the Python packages? (.+?), which .*?install (?:it|them) with Plugins > MRS land "
        r"cover > Install Python packages, or with: (.+?) and restart QGIS\.",
        output,
    )
    assert match, output
    assert "torch" in match.group(1)
    python, _, rest = match.group(2).partition(" -m pip install ")
    assert os.access(python, os.X_OK) and TORCH_PIN in rest.split()
    assert not (tmp_path / "model.safetensors").exists()


@pytest.mark.parametrize("reason, said", [
    ("ImportError: libtorch_cpu.so: failed to map segment from shared object\nmore",
     "(ImportError: libtorch_cpu.so: failed to map segment from shared object): reinstall it with Plugins > MRS land "
     "cover > Install Python packages, or give QGIS more memory, and restart QGIS."),
    ("ImportError: undefined symbol: _ZN3c10",  # no want of memory: no memory advice
     "(ImportError: undefined symbol: _ZN3c10): reinstall it with Plugins > MRS land cover > Install Python packages, "
     "and restart QGIS."),
    ("torch 1.13.1, older than 2.0, the oldest the MRS algorithms run with",  # a helper's red team of 2026-12-05
     "(torch 1.13.1, older than 2.0, the oldest the MRS algorithms run with): reinstall it with Plugins > MRS land "
     "cover > Install Python packages, and restart QGIS."),
])
def test_a_package_installed_but_failing_to_import_is_named_apart_with_why(monkeypatch, reason, said):
    """Review of 2026-12-05: a torch whose import failed under a memory limit ('failed to map segment')
    was told to be installed, as a missing one is."""
    monkeypatch.setattr(dependencies, "import_failures", lambda requirements: {TORCH_PIN: reason})
    assert dependencies.missing_dependencies_message() == (
        "Training and mapping need torch, which is installed but cannot be used " + said)


def test_want_of_memory_is_told_in_the_words_of_the_locale_qgis_sets(monkeypatch):
    """A helper's red team of 2026-12-06: in German, 'Fehler beim Mappen des Shared Objects' (the loader's
    words in the locale QGIS sets) got the advice to reinstall torch only, which cannot help."""
    german = {"failed to map segment from shared object": "Fehler beim Mappen des Shared Objects"}
    monkeypatch.setattr(dependencies.gettext, "dgettext", lambda domain, text: german.get(text, text))
    monkeypatch.setattr(dependencies.os, "strerror", lambda number: "Nicht genügend Hauptspeicher verfügbar")
    assert dependencies.wants_memory("ImportError: libtorch_cpu.so: Fehler beim Mappen des Shared Objects")
    assert dependencies.wants_memory("OSError: [Errno 12] Nicht genügend Hauptspeicher verfügbar")
    assert dependencies.wants_memory("ImportError: libtorch_cpu.so: failed to map segment from shared object")
    assert not dependencies.wants_memory("ImportError: undefined symbol: _ZN3c10")


def test_a_torch_older_than_the_plugin_runs_with_or_without_a_version_is_named_as_such(tmp_path, monkeypatch):
    """A helper's red team of 2026-12-05: Debian 12's python3-torch 1.13.1 imported, so the check
    passed, and every run stopped with a traceback; a torch folder left of an earlier install imported
    as an empty namespace package."""
    old = tmp_path / "oldpkg"
    old.mkdir()
    (old / "__init__.py").write_text("__version__ = '1.13.1+cpu'\n")
    (tmp_path / "emptypkg").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(dependencies, "MINIMUM_VERSIONS", {"oldpkg": (2, 0), "emptypkg": (2, 0)})
    assert dependencies.import_problem("oldpkg") == (
        "oldpkg 1.13.1+cpu, older than 2.0, the oldest the MRS algorithms run with")
    assert dependencies.import_problem("emptypkg") == (
        "emptypkg without a version: an incomplete install, or a folder named emptypkg on Python's path")
    monkeypatch.setattr(dependencies, "MINIMUM_VERSIONS", {"oldpkg": (1, 13)})
    assert dependencies.import_problem("oldpkg") is None
    for version, problem in (("1", True), ("2", False), ("git", True)):  # a review of 2026-12-05
        (old / "__init__.py").write_text(f"__version__ = {version!r}\n")
        monkeypatch.delitem(sys.modules, "oldpkg")
        assert (dependencies.import_problem("oldpkg") is not None) == problem, version
    assert dependencies.import_problem("torch") is None  # the torch of this environment


def test_a_quiet_import_keeps_the_log_level_the_module_sets_as_it_loads(tmp_path, monkeypatch):
    """A review of 2026-12-06: the level the import held the module's log at was undone afterwards,
    the module's own choice with it; a module that leaves its level alone gets the one it had back."""
    import logging

    (tmp_path / "chatty_module.py").write_text("import logging\nlogging.getLogger(__name__).setLevel(logging.DEBUG)\n")
    (tmp_path / "plain_module.py").write_text("import logging\nlogging.getLogger(__name__).warning('loaded')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    logging.getLogger("plain_module").setLevel(logging.INFO)
    dependencies.import_quietly("chatty_module")
    dependencies.import_quietly("plain_module")
    assert logging.getLogger("chatty_module").level == logging.DEBUG
    assert logging.getLogger("plain_module").level == logging.INFO
