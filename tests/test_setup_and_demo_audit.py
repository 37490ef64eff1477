"""Audit of the setup and demo modules: the dependency check, the pip installer and its dialog, the plugin's
menu and provider, the demo scene and its generator (behaviour no other test pinned; pip never runs)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import Qgis
from qgis.PyQt.QtWidgets import QLabel

from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import demo_scene, dependencies, installer, installer_dialog
from mrs.mrs_qgis_plugin import synthetic_scene as ss
from mrs.mrs_qgis_plugin.installer import InstallTask, staging_folder
from mrs.mrs_qgis_plugin.installer_dialog import InstallerDialog
from test_installer import DUMMY, clean_import_state, staging_refused  # noqa: F401 - a fixture

TORCH, SAFETENSORS = "torch==2.13.0", "safetensors==0.8.0"
SCENE_NAMES = ("hsi.tif", "lidar.tif", "sar.tif", "train.tif", "test.tif", "train_points.gpkg", "classes.csv",
               "hsi.qml", "lidar.qml", "sar.qml", "train.qml", "test.qml", "train.tif.aux.xml", "test.tif.aux.xml")
"""Every file a demo scene with SAR writes: a folder holding any of them is refused."""
OFFLINE_SIGNS = ("NewConnectionError", "ProxyError", "Temporary failure in name resolution", "Network is unreachable",
                 "Failed to establish a new connection", "ConnectTimeoutError")
"""What pip's last lines say when it cannot reach the package index (pip 24 and urllib3 2)."""


# ------------------------------------------------------------------------------------------ dependencies

def test_a_package_with_a_missing_part_or_that_fails_as_it_loads_is_told_apart_from_a_missing_one(
        tmp_path, monkeypatch):
    (tmp_path / "audit_broken_pkg").mkdir()
    (tmp_path / "audit_broken_pkg" / "__init__.py").write_text("import audit_absent_part\n")
    (tmp_path / "audit_memory_pkg").mkdir()
    (tmp_path / "audit_memory_pkg" / "__init__.py").write_text("raise MemoryError()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert dependencies.import_problem("audit_broken_pkg") == "ModuleNotFoundError: No module named 'audit_absent_part'"
    assert dependencies.import_problem("audit_absent_pkg.sub") == "not installed"
    assert dependencies.import_problem("audit_memory_pkg") == "MemoryError"


def test_a_module_s_log_is_held_below_errors_while_it_loads(tmp_path, monkeypatch, caplog):
    (tmp_path / "audit_chatty_module.py").write_text(
        "import logging\nlogging.getLogger(__name__).warning('Matplotlib created a temporary cache directory')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.DEBUG):
        dependencies.import_quietly("audit_chatty_module")
    assert [record.getMessage() for record in caplog.records if record.name == "audit_chatty_module"] == []
    assert logging.getLogger("audit_chatty_module").level == logging.NOTSET


@pytest.mark.parametrize("version, too_old", [("1.13.1+cpu", True), ("2.0.0", False), ("2.13.0", False), (None, True)])
def test_torch_older_than_2_0_or_without_an_install_record_is_too_old(monkeypatch, version, too_old):
    def installed(module):
        if version is None:
            raise dependencies.importlib.metadata.PackageNotFoundError(module)
        return version

    monkeypatch.setattr(dependencies.importlib.metadata, "version", installed)
    assert dependencies.installed_too_old("torch") is too_old
    if version is not None:
        problem = dependencies._version_problem("torch", SimpleNamespace(__version__=version))
        assert problem == (f"torch {version}, older than 2.0, the oldest the MRS algorithms run with" if too_old
                           else None)


@pytest.mark.parametrize("reason", ["MemoryError", "RuntimeError: std::bad_alloc",
                                    "OSError: [Errno 12] Cannot allocate memory"])
def test_each_sign_of_want_of_memory_gets_the_advice_to_give_qgis_more_memory(reason):
    assert dependencies.wants_memory(reason) and dependencies._memory_hint(reason) == ", or give QGIS more memory"


def test_the_versioned_python_of_the_prefix_comes_before_its_plain_python3(tmp_path):
    assert dependencies.python_candidates(tmp_path, tmp_path / "qgis", "3.X")[:2] == [
        tmp_path / "bin" / "python3.X", tmp_path / "bin" / "python3"]


@pytest.mark.parametrize("outcome, gpus", [
    (subprocess.CompletedProcess([], 0, "NVIDIA RTX A4000, 16376 MiB\n\nNVIDIA T4, 15360 MiB\n", ""),
     ["NVIDIA RTX A4000, 16376 MiB", "NVIDIA T4, 15360 MiB"]),
    (subprocess.CompletedProcess([], 9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
                                        "driver.\n", ""), []),
    (FileNotFoundError(2, "No such file or directory", "nvidia-smi"), []),
])
def test_the_gpus_are_those_nvidia_smi_lists_when_it_succeeds(monkeypatch, outcome, gpus):
    def run(*_args, **_kwargs):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(dependencies.subprocess, "run", run)
    assert dependencies.nvidia_gpus() == gpus


def test_pip_of_the_installer_asks_nothing(tmp_path):
    command = dependencies.pip_target_command([TORCH], tmp_path, "cpu")
    assert "--no-input" in command and "--disable-pip-version-check" in command


@pytest.mark.parametrize("platform, line", [("linux", "'/opt/my python/python3' -m pip install torch==2.13.0"),
                                            ("win32", '"/opt/my python/python3" -m pip install torch==2.13.0')])
def test_a_command_is_quoted_as_the_platform_s_shell_reads_it(monkeypatch, platform, line):
    monkeypatch.setattr(sys, "platform", platform)
    assert dependencies.command_line(["/opt/my python/python3", "-m", "pip", "install", TORCH]) == line


def test_a_reinstall_command_forces_the_reinstall():
    python = dependencies.python_executable()
    assert dependencies.pip_install_command([TORCH], reinstall=True) == (
        f"{python} -m pip install --force-reinstall {TORCH}")


def test_the_message_names_every_missing_package_and_each_broken_one_apart(monkeypatch):
    failures = {TORCH: "not installed", SAFETENSORS: "not installed"}
    monkeypatch.setattr(dependencies, "import_failures", lambda requirements: failures)
    assert dependencies.missing_dependencies_message() == (
        "Training and mapping need the Python packages torch and safetensors, which the Python that runs QGIS cannot "
        "import; install them with Plugins > MRS land cover > Install Python packages, or with: "
        f"{dependencies.pip_install_command([TORCH, SAFETENSORS])} and restart QGIS.")
    failures[SAFETENSORS] = "ImportError: " + "x" * 300
    message = dependencies.missing_dependencies_message()
    assert message.endswith(f"and restart QGIS; and safetensors, which is installed but cannot be used "
                            f"(ImportError: {'x' * 187}): reinstall it with Plugins > MRS land cover > Install Python "
                            "packages, and restart QGIS.")
    assert message.startswith("Training and mapping need the Python package torch, which")


# ------------------------------------------------------------------------------------------ installer

def test_a_stage_line_never_moves_the_bar_back():
    assert installer.progress_after("Collecting sympy", 0.8) == 0.8


@pytest.mark.parametrize("tail, start", [
    (["ERROR: first", "", "ERROR: last"], "pip failed: ERROR: first / ERROR: last"),
    *[([f"WARNING: Retrying ... {sign} ...", "ERROR: No matching distribution found for torch"],
       "pip could not reach the package index") for sign in OFFLINE_SIGNS],
    (["ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied: '/p/python3.11.partial'"],
     "pip could not write to the plugin's packages folder in your QGIS profile (permission denied)"),
])
def test_pip_s_last_lines_become_one_message(tail, start):
    assert installer.failure_message(tail).startswith(start)


def test_an_error_of_no_file_reads_as_the_error():
    assert installer._reason(PermissionError(13, "Permission denied")) == "[Errno 13] Permission denied"
    assert installer._reason(PermissionError(13, "Permission denied", "/p/x.dll")) == "Permission denied: /p/x.dll"


class FakePip:
    """subprocess.Popen of a pip that prints `lines`, writes `files` into its --target folder and exits `code`."""

    def __init__(self, lines, code=0, files=()):
        self.lines, self.code, self.files, self.killed = lines, code, files, False

    def __call__(self, command, **_options):
        target = Path(command[command.index("--target") + 1])
        target.mkdir(parents=True, exist_ok=True)
        for name in self.files:
            (target / name).write_text("")
        self.stdout = iter(line + "\n" for line in self.lines)
        return self

    def wait(self):
        return self.code

    def poll(self):
        return None

    def kill(self):
        self.killed = True


def outcome_of(task: InstallTask) -> tuple:
    """Runs the task here (no task manager) and returns (ok, message) as `done` says them."""
    said = []
    task.done.connect(lambda ok, message: said.append((ok, message)))
    task.finished(task.run())
    return said[0]


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "profile" / "python" / "mrs-packages" / "python3.X"


def test_the_last_five_lines_pip_printed_explain_its_failure(monkeypatch, folder):
    monkeypatch.setattr(installer.subprocess, "Popen", FakePip([f"line {n}" for n in range(1, 8)], code=1))
    assert outcome_of(InstallTask([TORCH], folder, "cpu")) == (
        False, "pip failed: line 3 / line 4 / line 5 / line 6 / line 7")


def test_a_failure_of_pip_leaves_its_command_line_to_the_log_and_a_python_that_cannot_start_is_said_so(
        monkeypatch, folder):
    """The audit's own findings: pip's failure repeated the whole 'Running: ...' command line before pip's own
    error, and a Python that could not be started was told 'pip failed'."""
    monkeypatch.setattr(installer.subprocess, "Popen", FakePip(["ERROR: No matching distribution"], code=1))
    assert outcome_of(InstallTask([TORCH], folder, "cpu")) == (False, "pip failed: ERROR: No matching distribution")

    def not_there(command, **_options):
        raise FileNotFoundError(2, "No such file or directory", command[0])

    monkeypatch.setattr(installer.subprocess, "Popen", not_there)
    task = InstallTask([TORCH], folder, "cpu")
    assert outcome_of(task) == (False, f"QGIS' Python ({task.command[0]}) could not be started to run pip: No such "
                                       f"file or directory: {task.command[0]}.")


def test_a_stale_staging_folder_is_emptied_first_the_bar_reaches_the_end_and_no_old_folder_stays(
        monkeypatch, folder, clean_import_state):  # noqa: F811
    folder.mkdir(parents=True)
    (folder / "earlier.py").write_text("")
    staging_folder(folder).mkdir()
    (staging_folder(folder) / "stale.py").write_text("")
    monkeypatch.setattr(installer.subprocess, "Popen", FakePip(
        ["Collecting torch", "Installing collected packages: torch", "Successfully installed torch-2.13.0"],
        files=["new.py"]))
    task = InstallTask([TORCH], folder, "cpu")
    assert outcome_of(task) == (True, f"Installed into {folder}.")
    assert task.progress() == 100.0
    assert sorted(path.name for path in folder.iterdir()) == ["new.py"]
    assert [path.name for path in folder.parent.iterdir()] == [folder.name]


def test_a_canceled_installation_leaves_the_packages_as_they_were_even_where_pip_ended_well(monkeypatch, folder):
    folder.mkdir(parents=True)
    (folder / "earlier.py").write_text("")
    monkeypatch.setattr(installer.subprocess, "Popen", FakePip(["Successfully installed torch"], files=["new.py"]))
    task = InstallTask([TORCH], folder, "cpu")
    task.cancel()
    assert outcome_of(task) == (False, "Canceled; the packages installed before (if any) are unchanged.")
    assert [path.name for path in folder.iterdir()] == ["earlier.py"]
    assert [path.name for path in folder.parent.iterdir()] == [folder.name]


def test_cancel_kills_the_running_pip(folder):
    task, pip = InstallTask([TORCH], folder, "cpu"), FakePip([])
    task.process = pip
    task.cancel()
    assert pip.killed and task.isCanceled()


def test_packages_a_failed_run_left_aside_are_put_back_when_the_new_ones_cannot_be_put_in_place(monkeypatch, folder):
    aside = folder.with_name(folder.name + ".old")
    aside.mkdir(parents=True)
    (aside / "earlier.py").write_text("")
    monkeypatch.setattr(installer.subprocess, "Popen", FakePip(["Successfully installed torch"], files=["new.py"]))
    monkeypatch.setattr(installer.os, "replace", staging_refused(folder))
    assert outcome_of(InstallTask([TORCH], folder, "cpu")) == (
        False, f"pip installed the packages, but they could not be put in {folder} (Permission denied: "
               f"{staging_folder(folder)}); the earlier packages are as they were. Restart QGIS and install again.")
    assert [path.name for path in folder.iterdir()] == ["earlier.py"]


# ------------------------------------------------------------------------------------------ installer dialog

def test_the_dialog_names_every_gpu_and_takes_a_blank_wheel_folder_for_none(qgis_app, folder):
    dialog = InstallerDialog(folder, requirements=[f"{DUMMY}==0.1"], gpus=["NVIDIA RTX A4000", "NVIDIA T4"])
    assert "NVIDIA RTX A4000, NVIDIA T4" in [label.text() for label in dialog.findChildren(QLabel)]
    dialog.wheels.setFilePath("   ")
    assert dialog.wheel_folder() is None and "--find-links" not in dialog.command.text()


def test_the_dialog_while_installing_on_stop_and_when_done(qgis_app, folder, monkeypatch):
    added = []
    monkeypatch.setattr(installer_dialog, "QgsApplication", SimpleNamespace(
        taskManager=lambda: SimpleNamespace(addTask=added.append)))
    dialog = InstallerDialog(folder, requirements=[f"{DUMMY}==0.1"], gpus=[])
    installed = []
    dialog.installed.connect(lambda: installed.append(True))
    dialog.start()
    [task] = added
    assert [widget.isEnabled() for widget in (dialog.install_button, dialog.build, dialog.wheels,
                                              dialog.cancel_button)] == [False, False, False, True]
    assert dialog.result.text() == "Installing... QGIS stays usable meanwhile."
    dialog.stop()
    assert task.isCanceled()
    dialog.finish(False, "Canceled; the packages installed before (if any) are unchanged.")
    assert [widget.isEnabled() for widget in (dialog.install_button, dialog.build, dialog.wheels,
                                              dialog.cancel_button)] == [True, True, True, False]
    dialog.finish(True, f"Installed into {folder}.")  # pip succeeded, yet this session cannot import it
    assert dialog.result.text() == (f"Installed into {folder}. They cannot be imported in this session yet "
                                    f"({DUMMY}==0.1: not installed); restart QGIS.")
    assert installed == []


# ------------------------------------------------------------------------------------------ plugin and provider

@pytest.fixture
def plugin_module(monkeypatch):
    from mrs.mrs_qgis_plugin import plugin

    monkeypatch.setattr(sys, "path", list(sys.path))
    return plugin


def test_the_plugin_puts_its_packages_folder_first_on_python_s_path_as_it_loads(qgis_iface, plugin_module, tmp_path,
                                                                                 monkeypatch):
    import mrs

    (tmp_path / "packages").mkdir()
    monkeypatch.setattr(plugin_module, "packages_folder", lambda settings: tmp_path / "packages")
    plugin = mrs.classFactory(qgis_iface)
    assert sys.path[0] == str(tmp_path / "packages") and plugin.packages == tmp_path / "packages"


def test_the_menu_s_entries_come_and_go_and_the_offer_is_a_warning_naming_each_package(
        qgis_processing, qgis_iface, plugin_module, monkeypatch):
    import mrs
    from qgis.core import QgsApplication
    from mrs.model_core import __version__

    menu = []
    monkeypatch.setattr(qgis_iface, "addPluginToMenu", lambda name, action: menu.append((name, action.text())))
    monkeypatch.setattr(qgis_iface, "removePluginMenu", lambda name, action: menu.remove((name, action.text())))
    monkeypatch.setattr(plugin_module, "not_usable", lambda requirements: [TORCH, SAFETENSORS])
    about = []
    monkeypatch.setattr(plugin_module.QMessageBox, "about", lambda parent, title, text: about.append((title, text)))
    qgis_iface.messageBar().clearWidgets()
    plugin = mrs.classFactory(qgis_iface)
    plugin.initGui()  # alone, as QGIS may call it: the provider is registered too
    try:
        assert QgsApplication.processingRegistry().providerById("mrs") is plugin.provider is not None
        assert menu == [("&MRS land cover", "Install Python packages…"), ("&MRS land cover", "Help"),
                        ("&MRS land cover", "About…")]
        item = qgis_iface.messageBar().currentItem()
        assert (item.level(), item.text()) == (
            Qgis.Warning, "Training and mapping need torch and safetensors.")
        plugin.show_about()
        [(title, text)] = about
        assert title == "About MRS land cover" and f"SS-MAE) {__version__}</h3>" in text
        assert f"<p>Python packages: {plugin.packages}.</p>" in text
        plugin.show_installer()
        plugin.installer.installed.emit()  # the offer goes once the packages import; a later message stays
        bar = qgis_iface.messageBar()
        bar.pushWidget(bar.createMessage("Another plugin", "its own message"), Qgis.Warning)
        plugin.unload()
        assert qgis_iface.messageBar().currentItem().text() == "its own message"
    finally:
        plugin.unload()
        qgis_iface.messageBar().clearWidgets()
    assert menu == []


@pytest.mark.parametrize("words, model", [
    (["run"], None),
    (["run", "{folder}/broken.model3"], "<Option><Option name='alg_id' value='mrs:classify'"),
    (["run", "{folder}/other.model3"], "<Option><Option name='alg_id' value='mrsother:classify'/></Option>"),
])
def test_a_command_line_that_runs_no_algorithm_of_this_provider_is_told_so(tmp_path, words, model):
    from mrs.mrs_qgis_plugin.provider import runs_own_algorithm

    if model:
        (tmp_path / words[1].split("/")[-1]).write_text(model)
    arguments = ["/usr/bin/qgis_process.bin", *(word.format(folder=tmp_path) for word in words)]
    assert runs_own_algorithm(arguments, "mrs", str(tmp_path)) is False


# ------------------------------------------------------------------------------------------ demo scene

@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A demo scene as mrs:demoscene writes it, with what it logged and the progress it reported."""
    folder = tmp_path_factory.mktemp("demo") / "scene"
    said, progress = [], []
    write_new = demo_scene.write_new_scene
    paths = write_new(str(folder), size=48, n_bands=6, seed=3, sar=False, hooks=Hooks(progress=progress.append,
                                                                                        log=said.append))
    return SimpleNamespace(folder=folder, paths=paths, said=said, progress=progress)


def test_the_demo_scene_says_what_it_simulates_and_reports_progress_through_each_stage(scene):
    assert scene.said == [f"Simulating a 48 x 48 pixel scene with 6 bands into {scene.folder}."]
    progress = scene.progress
    assert progress[:2] == [0.1, 0.2] and progress[-3:] == [0.8, 0.9, 1.0] and progress == sorted(progress)
    assert any(0.2 < fraction < 0.6 for fraction in progress)  # the hyperspectral cube, its longest stage


def test_the_demo_scene_s_rasters_carry_their_units_seed_and_wavelengths(scene):
    lidar, hsi = (gdal.Open(str(scene.folder / name)) for name in ("lidar.tif", "hsi.tif"))
    assert lidar.GetRasterBand(1).GetUnitType() == "m"
    assert (hsi.GetMetadataItem("seed"), hsi.GetMetadataItem("generator")) == ("3", "mrs synthetic_scene")
    assert hsi.GetRasterBand(1).GetMetadataItem("CENTRAL_WAVELENGTH_UM", "IMAGERY") == "0.45000"


def test_the_true_colour_style_stretches_each_band_over_its_2_to_98_percent_range(scene):
    import xml.etree.ElementTree as ET

    renderer = ET.parse(scene.folder / "hsi.qml").find(".//rasterrenderer")
    hsi = gdal.Open(str(scene.folder / "hsi.tif"))
    for colour in ("red", "green", "blue"):
        band = hsi.GetRasterBand(int(renderer.get(f"{colour}Band")))
        enhancement = renderer.find(f"{colour}ContrastEnhancement")
        low, high = np.percentile(band.ReadAsArray() * band.GetScale(), [2.0, 98.0])
        assert float(enhancement.find("minValue").text) == pytest.approx(low, rel=1e-6)
        assert float(enhancement.find("maxValue").text) == pytest.approx(high, rel=1e-6)


@pytest.mark.parametrize("name", SCENE_NAMES)
def test_a_folder_holding_any_file_of_a_scene_is_refused_and_left_as_it_was(tmp_path, name):
    (tmp_path / name).write_text("an analyst's file")
    with pytest.raises(InputError, match=rf"already holds {name.replace('.', '[.]')}; choose a new folder"):
        demo_scene.write_new_scene(str(tmp_path), size=48, n_bands=2, seed=0, sar=True)
    assert [path.name for path in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_text() == "an analyst's file"


def test_a_scene_another_run_finished_since_the_first_look_is_not_overwritten(tmp_path, monkeypatch):
    folder = tmp_path / "scene"
    folder.mkdir()

    def finished_meanwhile(path):
        (folder / "hsi.tif").write_text("the other run's scene")

    monkeypatch.setattr(demo_scene, "_make_folders", finished_meanwhile)
    with pytest.raises(InputError, match=r"already holds hsi[.]tif; choose a new folder"):
        demo_scene.write_new_scene(str(folder), size=48, n_bands=2, seed=0, sar=False)
    assert os.listdir(folder) == ["hsi.tif"] and (folder / "hsi.tif").read_text() == "the other run's scene"


def test_a_scene_too_small_for_its_classes_is_refused_in_one_sentence_leaving_nothing(tmp_path):
    with pytest.raises(InputError) as refused:
        demo_scene.write_new_scene(str(tmp_path / "scene"), size=40, n_bands=2, seed=0, sar=False)
    assert str(refused.value) == ("The synthetic scene must be at least 48 x 48 pixels; got 40 x 40. Try another SEED "
                                  "or a larger SIZE.")
    assert list(tmp_path.iterdir()) == []


def test_cancel_once_the_files_are_written_moves_none_in_place(tmp_path):
    progress = []
    hooks = Hooks(progress=progress.append, is_canceled=lambda: 0.9 in progress)
    with pytest.raises(Canceled):
        demo_scene.write_new_scene(str(tmp_path / "scene"), size=48, n_bands=2, seed=0, sar=False, hooks=hooks)
    assert list(tmp_path.iterdir()) == []


def test_the_files_are_moved_in_place_only_once_the_mark_names_them_all(tmp_path, monkeypatch):
    marks, real = [], os.replace

    def moving(source, target):
        mark = os.path.join(os.path.dirname(source), demo_scene.MOVING)
        if os.path.basename(os.path.dirname(source)).startswith(demo_scene.PARTIAL_PREFIX):
            marks.append(json.loads(Path(mark).read_text()) if os.path.exists(mark) else None)
        real(source, target)

    monkeypatch.setattr(demo_scene.os, "replace", moving)
    written = demo_scene.write_new_scene(str(tmp_path / "scene"), size=48, n_bands=2, seed=0, sar=False)
    names = sorted(os.path.basename(path) for path in written)
    assert marks == [names] * len(names)


def test_a_run_refused_as_another_writes_the_folder_leaves_that_folder(tmp_path, monkeypatch):
    from mrs.model_core.atomic import held

    folder = tmp_path / "scene"
    folder.mkdir()
    monkeypatch.setattr(demo_scene, "_make_folders", lambda path: path)  # as if this run had made it
    with held(str(folder / "hsi.tif")):
        with pytest.raises(demo_scene.FolderTaken, match="is being written by another run now"):
            demo_scene.write_new_scene(str(folder), size=48, n_bands=2, seed=0, sar=False)
        assert folder.is_dir()


@pytest.mark.parametrize("hidden, in_folder", [
    ({"notes.txt": "not a scene's"}, {}),  # a mark naming no file of a scene: nothing moves out
    ({"test.tif": "the stopped run's", "train.tif": "the stopped run's"},  # one of the rest is there already
     {"classes.csv": "moved", "hsi.tif": "moved", "test.tif": "the analyst's"}),
])
def test_a_hidden_folder_s_files_are_never_moved_over_a_file_or_out_of_a_scene(tmp_path, hidden, in_folder):
    folder = tmp_path / "scene"
    (folder / ".demo-scene-killed").mkdir(parents=True)
    for name, text in hidden.items():
        (folder / ".demo-scene-killed" / name).write_text(text)
    for name, text in in_folder.items():
        (folder / name).write_text(text)
    (folder / ".demo-scene-killed" / demo_scene.MOVING).write_text(json.dumps(sorted([*in_folder, *hidden])))
    try:
        demo_scene.write_new_scene(str(folder), size=48, n_bands=2, seed=0, sar=False)
    except InputError:
        assert in_folder
    assert not (folder / "notes.txt").exists()
    assert all((folder / name).read_text() == text for name, text in in_folder.items())


def test_the_files_a_live_run_is_moving_in_place_are_left_to_it(tmp_path):
    from mrs.model_core.atomic import held

    folder = tmp_path / "scene"
    (folder / ".demo-scene-live").mkdir(parents=True)
    (folder / "classes.csv").write_text("moved")
    (folder / ".demo-scene-live" / "hsi.tif").write_text("being moved")
    (folder / ".demo-scene-live" / demo_scene.MOVING).write_text(json.dumps(["classes.csv", "hsi.tif"]))
    warnings = []
    with held(str(folder / "hsi.tif")):  # the live run's hold
        with pytest.raises(InputError, match="already holds classes[.]csv"):
            demo_scene.write_new_scene(str(folder), size=48, n_bands=2, seed=0, sar=False,
                                       hooks=Hooks(warn=warnings.append))
    assert warnings == [] and (folder / ".demo-scene-live" / "hsi.tif").read_text() == "being moved"


def test_folders_made_for_a_scene_go_when_a_deeper_one_cannot_be_made(tmp_path, monkeypatch):
    real = os.mkdir

    def refused_below_a(path, *args):
        if os.path.basename(path) == "b":
            raise PermissionError(13, "Permission denied", path)
        real(path, *args)

    monkeypatch.setattr(demo_scene.os, "mkdir", refused_below_a)
    with pytest.raises(PermissionError):
        demo_scene._make_folders(str(tmp_path / "a" / "b" / "c"))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ synthetic scene

def test_a_class_with_exactly_as_many_pure_pixels_as_training_samples_is_refused(tmp_path):
    paths = ss.write_scene(tmp_path / "a", width=48, height=48, n_bands=2, seed=0, train_per_class=1)
    labels = gdal.Open(str(paths.train)).ReadAsArray() + gdal.Open(str(paths.test)).ReadAsArray()
    fewest = min(int((labels == item.value).sum()) for item in ss.CLASSES)
    with pytest.raises(ValueError, match=f"has only {fewest} pure pixels"):
        ss.write_scene(tmp_path / "b", width=48, height=48, n_bands=2, seed=0, train_per_class=fewest)


@pytest.mark.parametrize("options, words", [
    (dict(width=64, height=40), "at least 48 x 48 pixels; got 64 x 40"),
    (dict(seed=-1), "seed must be >= 0 and train_per_class >= 1; got -1 and 30"),
    (dict(train_per_class=0), "seed must be >= 0 and train_per_class >= 1; got 0 and 0"),
])
def test_a_scene_of_too_few_rows_a_negative_seed_or_no_training_sample_is_refused(tmp_path, options, words):
    with pytest.raises(ValueError, match=words):
        ss.write_scene(tmp_path, **dict(dict(width=48, height=48, n_bands=2), **options))
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_writes_the_sar_raster_when_asked_and_a_scene_again_over_its_own(tmp_path, capsys):
    arguments = [str(tmp_path), "--size", "48", "--bands", "2", "--train-per-class", "2", "--sar"]
    assert ss.main(arguments) == 0 and ss.main(arguments) == 0
    assert str(tmp_path / "sar.tif") in capsys.readouterr().out.splitlines()
    from test_synthetic_scene import point_features

    assert len(point_features(tmp_path / "train_points.gpkg")) == 2 * len(ss.CLASSES)


def test_every_field_class_is_in_every_scene():
    from mrs.mrs_qgis_plugin.synthetic_scene.layout import _layout

    for seed in range(40):
        classes = _layout(np.random.default_rng(seed), 48, 48).classes
        assert {ss.CROP, ss.GRASSLAND, ss.BARE_SOIL} <= set(np.unique(classes).tolist()), seed


def test_the_command_line_refuses_a_size_of_0_rather_than_writing_the_default(tmp_path, capsys):
    """The audit's own finding: '--size 0' was taken for no size, and a scene of 256 x 256 pixels written."""
    with pytest.raises(SystemExit):
        ss.main([str(tmp_path / "scene"), "--size", "0", "--bands", "2", "--train-per-class", "2"])
    assert "at least 48 x 48" in capsys.readouterr().err and not (tmp_path / "scene" / "hsi.tif").exists()
