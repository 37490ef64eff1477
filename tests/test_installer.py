"""The dependency installer of the desktop: pip of QGIS' Python into a folder of the profile (python/mrs-packages).

No network: pip installs a tiny wheel built here from a local folder.
"""

import base64
import hashlib
import os
import sys
import time
import zipfile
from pathlib import Path

import pytest
from qgis.core import QgsApplication
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, QEvent
from qgis.PyQt.QtWidgets import QPushButton

from mrs.mrs_qgis_plugin import dependencies, installer
from mrs.mrs_qgis_plugin.dependencies import (packages_folder, pip_target_command, python_candidates,
                                              use_packages_folder)
from mrs.mrs_qgis_plugin.installer import InstallTask, progress_after, staging_folder
from mrs.mrs_qgis_plugin.installer_dialog import InstallerDialog

DUMMY = "mrsdummy"


def build_wheel(folder: Path, version: str = "0.1") -> Path:
    """A pure-Python wheel of the package `mrsdummy` whose VALUE is its version."""
    files = {
        f"{DUMMY}/__init__.py": f"VALUE = {version!r}\n".encode(),
        f"{DUMMY}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {DUMMY}\nVersion: {version}\n".encode(),
        f"{DUMMY}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                              b"Tag: py3-none-any\n",
    }

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{name},sha256={digest(data)},{len(data)}\n" for name, data in files.items())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DUMMY}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{DUMMY}-{version}.dist-info/RECORD", record + f"{DUMMY}-{version}.dist-info/RECORD,,\n")
    return path


@pytest.fixture
def wheels(tmp_path) -> Path:
    build_wheel(tmp_path / "wheels")
    return tmp_path / "wheels"


@pytest.fixture
def isolated_pip(monkeypatch):
    """pip reads no configuration of this machine (such as its own find-links)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)


@pytest.fixture
def clean_import_state():
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


def wait_for(task: InstallTask) -> list:
    outcome = []
    task.done.connect(lambda ok, message: outcome.append((ok, message)))
    QgsApplication.taskManager().addTask(task)
    wait_until(lambda: outcome)
    return outcome[0]


RENAME = os.replace


def staging_refused(folder: Path):
    """os.replace refusing to put the staged packages of `folder` in place, renaming anything else."""
    def refused_in(source, target):
        if Path(source) == staging_folder(folder):
            raise PermissionError(13, "Permission denied", str(source))
        RENAME(source, target)

    return refused_in


def wait_until(condition) -> None:
    """Let the task manager run (a task's Python needs the main thread to wait outside Qt)."""
    for _ in range(1200):
        if condition():
            return
        QgsApplication.processEvents()
        time.sleep(0.05)
    raise AssertionError("pip did not finish within a minute")


def test_the_folder_is_the_plugins_own_in_the_profile_one_per_python():
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert packages_folder("/home/ana/.local/share/QGIS/QGIS3/profiles/default/") == Path(
        f"/home/ana/.local/share/QGIS/QGIS3/profiles/default/python/mrs-packages/python{version}")


def test_the_pip_command_targets_the_folder_with_the_chosen_build_of_torch(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    folder = tmp_path / "packages"
    command = pip_target_command(["torch==2.13.0"], folder, "cpu")
    assert command[:7] == [dependencies.python_executable(), "-m", "pip", "install", "--target", str(folder), "--upgrade"]
    assert command[command.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert command[command.index("--extra-index-url") + 1] == "https://pypi.org/simple"
    assert command[-1] == "torch==2.13.0"
    cuda = pip_target_command(["torch==2.13.0"], folder, "cuda")
    assert cuda[cuda.index("--index-url") + 1].startswith("https://download.pytorch.org/whl/cu")
    local = pip_target_command(["torch==2.13.0"], folder, "cuda", wheel_folder=tmp_path)
    assert "--index-url" not in local and local[local.index("--find-links") + 1] == str(tmp_path)
    assert "--no-index" in local and "--retries" not in local
    assert command[command.index("--retries") + 1] == "2"  # not 5 with back-off offline (a desktop check, 12-06)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert "--index-url" not in pip_target_command(["torch==2.13.0"], folder, "cpu")


@pytest.mark.parametrize("layout, prefix, executable, python", [
    ("linux", "usr", "usr/bin/qgis", "usr/bin/python3.X"),
    ("osgeo4w", "OSGeo4W/apps/Python312", "OSGeo4W/bin/qgis-bin.exe", "OSGeo4W/apps/Python312/python.exe"),
    ("osgeo4w bin", "OSGeo4W/apps/Qt5", "OSGeo4W/bin/qgis-bin.exe", "OSGeo4W/bin/python3.exe"),
    ("macos", "QGIS.app/Contents/Frameworks", "QGIS.app/Contents/MacOS/QGIS", "QGIS.app/Contents/MacOS/bin/python3"),
])
def test_the_python_of_qgis_is_found_on_linux_windows_and_macos(tmp_path, layout, prefix, executable, python):
    version = "3.X"
    (tmp_path / python).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / python).write_bytes(b"")
    candidates = python_candidates(tmp_path / prefix, tmp_path / executable, version)
    assert next(path for path in candidates if path.is_file()) == tmp_path / python


def test_pips_stages_move_the_bar_forward_only():
    fraction, seen = 0.0, []
    for line in ["Looking in links: /wheels", "Collecting torch==2.13.0", "Processing /wheels/filelock.whl",
                 "  Downloading torch-2.13.0.whl (200 MB)", "Collecting sympy", "Installing collected packages: torch",
                 "Successfully installed filelock torch"]:
        fraction = progress_after(line, fraction)
        seen.append(round(fraction, 2))
    assert seen == [0.0, 0.05, 0.1, 0.4, 0.4, 0.8, 1.0]


def test_the_task_installs_into_the_profile_folder_and_the_package_imports_without_restart(
        qgis_app, tmp_path, wheels, isolated_pip, clean_import_state):
    folder = packages_folder(str(tmp_path / "profile"))
    task = InstallTask([f"{DUMMY}==0.1"], folder, "cpu", wheel_folder=wheels)
    lines = []
    task.line.connect(lines.append)
    ok, message = wait_for(task)
    assert (ok, message) == (True, f"Installed into {folder}.")
    assert lines[0].startswith(f"Running: {dependencies.python_executable()} -m pip install --target ")
    assert any(line.startswith("Successfully installed mrsdummy-0.1") for line in lines)
    assert sorted(path.name for path in folder.iterdir()) == [DUMMY, f"{DUMMY}-0.1.dist-info"]
    assert not staging_folder(folder).exists()
    assert sys.path[0] == str(folder)
    import mrsdummy

    assert mrsdummy.VALUE == "0.1"


def test_a_failed_installation_leaves_the_earlier_packages_as_they_were(
        qgis_app, tmp_path, wheels, isolated_pip, clean_import_state):
    folder = packages_folder(str(tmp_path / "profile"))
    folder.mkdir(parents=True)
    (folder / "earlier.py").write_text("")
    ok, message = wait_for(InstallTask([f"{DUMMY}==9.9"], folder, "cpu", wheel_folder=wheels))
    assert not ok and message.startswith("pip failed: ") and "9.9" in message
    assert [path.name for path in folder.parent.iterdir()] == [folder.name]
    assert [path.name for path in folder.iterdir()] == ["earlier.py"]
    assert str(folder) not in sys.path


def test_earlier_packages_that_cannot_be_moved_are_left_whole_and_said_so(
        qgis_app, tmp_path, wheels, isolated_pip, clean_import_state, monkeypatch):
    """A helper's red team of 2026-12-05: a file of the earlier packages that could not be deleted (a
    DLL Windows holds) stopped the replacement after 38 of 55 files had gone, torch's __init__ among
    them, and the message began 'pip failed' after pip had succeeded."""
    folder = packages_folder(str(tmp_path / "profile"))
    folder.mkdir(parents=True)
    (folder / "earlier.py").write_text("")
    moved = []

    def held(source, target):
        if Path(source) == folder:
            raise PermissionError(13, "Permission denied", str(folder / "torch_cpu.dll"))
        moved.append((source, target))

    monkeypatch.setattr(installer.os, "replace", held)
    ok, message = wait_for(InstallTask([f"{DUMMY}==0.1"], folder, "cpu", wheel_folder=wheels))
    assert not ok and moved == []
    assert message == (f"pip installed the packages, but the earlier ones in {folder} could not be moved aside "
                       f"(Permission denied: {folder / 'torch_cpu.dll'}): QGIS, or another program, may be using "
                       "them. They are left as they were; restart QGIS and install again.")
    assert [path.name for path in folder.iterdir()] == ["earlier.py"] and not staging_folder(folder).exists()
    # the new packages that cannot be put in place: the earlier ones go back (a review of 2026-12-05)
    monkeypatch.setattr(installer.os, "replace", staging_refused(folder))
    ok, message = wait_for(InstallTask([f"{DUMMY}==0.1"], folder, "cpu", wheel_folder=wheels))
    assert not ok and message == (f"pip installed the packages, but they could not be put in {folder} (Permission "
                                  f"denied: {staging_folder(folder)}); the earlier packages are as they were. Restart "
                                  "QGIS and install again.")
    assert [path.name for path in folder.parent.iterdir()] == [folder.name]
    assert [path.name for path in folder.iterdir()] == ["earlier.py"]


def test_a_missing_pip_is_explained():
    message = installer.failure_message(["/usr/bin/python3.11: No module named pip"])
    assert message.startswith("QGIS' Python has no pip. On Debian or Ubuntu install the package python3-pip")


def test_a_first_install_that_cannot_be_put_in_place_speaks_of_no_earlier_packages(
        qgis_app, tmp_path, wheels, isolated_pip, clean_import_state, monkeypatch):
    """A review of 2026-12-05: it said the earlier packages were kept in a '.old' folder that did not exist."""
    folder = packages_folder(str(tmp_path / "profile"))
    monkeypatch.setattr(installer.os, "replace", staging_refused(folder))
    ok, message = wait_for(InstallTask([f"{DUMMY}==0.1"], folder, "cpu", wheel_folder=wheels))
    assert not ok and message == (f"pip installed the packages, but they could not be put in {folder} (Permission "
                                  f"denied: {staging_folder(folder)}). Restart QGIS and install again.")
    assert not folder.exists() and not staging_folder(folder).exists()


def test_no_network_and_no_permission_are_said_plainly():
    """A helper's red team of 2026-12-05: about 900 characters of pip's retries, and a traceback's
    fragment naming the staging folder, with no advice."""
    offline = installer.failure_message([
        "WARNING: Retrying (Retry(total=0, ...)) after connection broken by 'ProxyError('Cannot connect to proxy.', "
        "NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a "
        "new connection: [Errno 111] Connection refused'))': /simple/torch/",
        "ERROR: No matching distribution found for torch==2.13.0"])
    assert offline.startswith("pip could not reach the package index (no internet connection, or a proxy in the way)")
    assert installer.failure_message(["    ensure_dir(target_dir)", "PermissionError: [Errno 13] Permission denied: "
                                      "'/home/ana/.local/share/QGIS/QGIS3/profiles/default/mrs-packages/"
                                      "python3.11.partial'"]).startswith(
        "pip could not write to the plugin's packages folder in your QGIS profile (permission denied)")
    assert installer.failure_message(["ERROR: No matching distribution found for torch==9.9"]).startswith("pip failed")


def test_an_existing_folder_goes_to_the_front_of_sys_path_once(tmp_path, clean_import_state):
    assert not use_packages_folder(tmp_path / "none")
    assert use_packages_folder(tmp_path) and use_packages_folder(tmp_path)
    assert sys.path.count(str(tmp_path)) == 1 and sys.path[0] == str(tmp_path)


def test_the_dialog_shows_what_where_and_the_build_and_installs(
        qgis_app, tmp_path, wheels, isolated_pip, clean_import_state):
    folder = packages_folder(str(tmp_path / "profile"))
    with_gpu = InstallerDialog(folder, gpus=["NVIDIA RTX A4000, 16376 MiB"])
    assert with_gpu.chosen_build() == "cuda" and "/whl/cu" in with_gpu.command.text()
    assert str(staging_folder(folder)) in with_gpu.command.text()
    dialog = InstallerDialog(folder, requirements=[f"{DUMMY}==0.1"], gpus=[])
    assert dialog.chosen_build() == "cpu"
    dialog.wheels.setFilePath(str(wheels))
    assert f"--no-index --find-links {wheels} {DUMMY}==0.1" in dialog.command.text()
    installed = []
    dialog.installed.connect(lambda: installed.append(True))
    dialog.start()
    wait_until(lambda: dialog.task is None)
    assert dialog.result.text() == f"Installed into {folder}. The MRS algorithms can be used now."
    assert dialog.progress.value() == 100 and "Successfully installed" in dialog.log.toPlainText()
    assert not dialog.install_button.isEnabled() and installed == [True]


def test_the_dialog_says_whether_the_packages_are_found_already(qgis_app, tmp_path):
    """Opened from the menu with torch importable, it said that QGIS could not import the
    packages yet (desktop red team of 2026-12-04)."""
    folder = packages_folder(str(tmp_path / "profile"))
    assert InstallerDialog(folder, requirements=["numpy==1"], gpus=[]).intro.text().startswith(
        "The Python of QGIS already finds the packages the MRS algorithms need, so they can run.")
    assert InstallerDialog(folder, requirements=[f"{DUMMY}==0.1"], gpus=[]).intro.text().startswith(
        "Training and mapping need the Python packages below, which the Python of QGIS cannot import yet, or finds "
        "in a version too old (the accuracy assessment, the band redundancy and the demo scene run without them).")


@pytest.mark.parametrize("version, usable", [("1.13.1", False), ("2.0.0", True), ("2.13.0+cpu", True)])
def test_a_torch_too_old_is_offered_the_install_and_not_said_to_run(qgis_app, tmp_path, monkeypatch, version,
                                                                    usable):
    """A helper's audit of 2026-12-06: Debian 12's torch 1.13, found, was offered no install, and the
    installer's dialog said the algorithms could run, which every run then refused."""
    import importlib.metadata

    from mrs.mrs_qgis_plugin.dependencies import not_usable

    monkeypatch.setattr(importlib.metadata, "version", lambda name: version)
    requirements = ["torch==2.13.0", "numpy==1"]
    assert not_usable(requirements) == ([] if usable else ["torch==2.13.0"])
    dialog = InstallerDialog(packages_folder(str(tmp_path / "profile")), requirements=requirements, gpus=[])
    assert dialog.intro.text().startswith(
        "The Python of QGIS already finds" if usable else "Training and mapping need the Python packages below, "
        "which the Python of QGIS cannot import yet, or finds in a version too old (the accuracy assessment, the band "
        "redundancy and the demo scene run without them).")


def test_the_plugin_offers_the_installer_when_torch_is_not_found(qgis_iface, monkeypatch, tmp_path):
    import mrs

    from mrs.mrs_qgis_plugin import plugin as plugin_module

    monkeypatch.setattr(plugin_module, "not_usable", lambda requirements: ["torch==2.13.0"])
    plugin = mrs.classFactory(qgis_iface)
    plugin.packages = tmp_path / "packages"
    plugin.initGui()
    try:
        item = qgis_iface.messageBar().currentItem()
        assert item.text() == "Training and mapping need torch."
        [button] = [child for child in item.findChildren(QPushButton) if child.text() == "Install…"]
        button.click()
        assert plugin.installer.isVisible() and plugin.installer.folder == tmp_path / "packages"
        plugin.installer.installed.emit()
        assert qgis_iface.messageBar().currentItem() is None
        plugin.installer.close()
    finally:
        qgis_iface.messageBar().clearWidgets()
        plugin.unload()


def test_unloading_the_plugin_removes_its_offer_its_installer_and_its_actions(qgis_iface, monkeypatch, tmp_path):
    """Each load without torch added a message bar that unloading left (five reloads, five bars, their
    Install… buttons dead once the plugin was gone), and the menu's actions stayed alive (packaging
    red team of 2026-12-04)."""
    import mrs

    from mrs.mrs_qgis_plugin import plugin as plugin_module

    monkeypatch.setattr(plugin_module, "not_usable", lambda requirements: ["torch==2.13.0"])
    qgis_iface.messageBar().clearWidgets()
    for _reload in range(3):
        plugin = mrs.classFactory(qgis_iface)
        plugin.packages = tmp_path / "packages"
        plugin.initGui()
        plugin.show_installer()
        installer, actions = plugin.installer, list(plugin.actions)
        assert qgis_iface.messageBar().currentItem() is not None
        plugin.unload()
        assert qgis_iface.messageBar().currentItem() is None and not installer.isVisible()
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        assert actions and all(sip.isdeleted(action) for action in actions)


def test_the_dialog_tells_no_driver_from_no_gpu_and_the_cpu_build_s_installed_size(qgis_app, tmp_path, monkeypatch):
    """A desktop helper of 2026-12-05: 'nvidia-smi reports no NVIDIA GPU' where nvidia-smi was not
    installed, and 'about 200 MB' for a build that takes 880 MB installed."""
    from qgis.PyQt.QtWidgets import QLabel

    from mrs.mrs_qgis_plugin import installer_dialog

    folder = packages_folder(str(tmp_path / "profile"))
    for found, said in ((None, "none found (no NVIDIA driver: nvidia-smi is not installed)"),
                        ("/usr/bin/nvidia-smi", "none found (nvidia-smi reports no NVIDIA GPU)")):
        monkeypatch.setattr(installer_dialog.shutil, "which", lambda _name, found=found: found)
        dialog = InstallerDialog(folder, requirements=[f"{DUMMY}==0.1"], gpus=[])
        assert said in [label.text() for label in dialog.findChildren(QLabel)]
    assert dialog.build.itemText(0) == "CPU (works everywhere; about 200 MB to download, 900 MB installed)"
