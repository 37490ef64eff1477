"""Second audit of the installer, the dependency check, the demo scene and its generator: behaviour no earlier
test pinned (pip never runs: its process is a stand-in)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mrs.mrs_qgis_plugin import dependencies, installer
from mrs.mrs_qgis_plugin import synthetic_scene as ss
from mrs.mrs_qgis_plugin.installer import InstallTask
from test_synthetic_scene_audit import scene  # noqa: F401 - a fixture
from test_setup_and_demo_audit import TORCH, FakePip, folder, outcome_of  # noqa: F401 - a fixture


# ------------------------------------------------------------------------------------------ installer

class RecordingPip(FakePip):
    """FakePip that keeps the options Popen was given."""

    def __call__(self, command, **options):
        self.options = options
        return super().__call__(command, **options)


@pytest.mark.parametrize("env", [None, {"PIP_CONFIG_FILE": os.devnull}])
def test_pip_runs_in_the_environment_given_else_a_copy_of_qgis_own_without_a_console(monkeypatch, folder, env):
    """The task's env reaches pip (else a copy of os.environ); pip reads no stdin and its stderr joins stdout."""
    pip = RecordingPip(["Successfully installed torch"], files=["new.py"])
    monkeypatch.setattr(installer.subprocess, "Popen", pip)
    assert outcome_of(InstallTask([TORCH], folder, "cpu", env=env))[0] is True
    assert pip.options["env"] == (env if env is not None else dict(os.environ))
    assert env is None or pip.options["env"] is env
    assert (pip.options["stdin"], pip.options["stderr"], pip.options["creationflags"]) == (
        subprocess.DEVNULL, subprocess.STDOUT, 0)
    # a line of pip's not in the locale's encoding (a Windows code page) stopped the task with a UnicodeDecodeError
    # (a helper's audit of 2026-12-07): such a character is shown as \ufffd
    assert (pip.options["text"], pip.options["errors"]) == (True, "replace")


def test_the_task_manager_names_what_is_installed_and_offers_to_cancel(folder):
    """The task's description in QGIS' task manager, and its Cancel."""
    task = InstallTask([TORCH], folder, "cpu")
    assert task.description() == "Installing torch and safetensors for the MRS plugin"
    assert task.canCancel()


@pytest.mark.parametrize("line, seen", [
    ("Collecting torch", [0.4] * 10), ("Processing /w/torch.whl", [0.4] * 10),
    ("  Downloading torch.whl (800 MB)", [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.75, 0.75]),
])
def test_each_stage_of_pip_moves_the_bar_5_percent_a_line_up_to_its_ceiling(line, seen):
    """Ten lines of one stage from 0.35: +5 % each, never past the stage's share of the bar (0.4; 0.75)."""
    fraction, said = 0.35, []
    for _ in range(10):
        fraction = installer.progress_after(line, fraction)
        said.append(round(fraction, 2))
    assert said == seen

# ------------------------------------------------------------------------------------------ dependencies

@pytest.mark.parametrize("requirement, module", [
    ("torch[cuda]==2.13.0", "torch"), ("Safe-Tensors >= 0.8", "safe_tensors"), ("numpy~=2.0", "numpy"),
    ("scipy!=1.0", "scipy"), ("rasterio; sys_platform == 'linux'", "rasterio"), ("PyYAML<7", "pyyaml"),
])
def test_the_module_of_a_requirement_line_ends_at_its_extras_version_or_marker(requirement, module):
    """module_name stops at '[', a comparison, a space or ';', lower-cases and turns '-' into '_'."""
    assert dependencies.module_name(requirement) == module


def test_the_requirements_file_s_comments_blank_lines_and_options_are_no_requirements(tmp_path, monkeypatch):
    """pinned_requirements keeps requirement lines only, their trailing comments cut."""
    path = tmp_path / "requirements.txt"
    path.write_text("# runtime\n--extra-index-url https://x\n\n-r other.txt\ntorch==2.13.0  # the model\n"
                    "   safetensors==0.8.0\n")
    monkeypatch.setattr(dependencies, "REQUIREMENTS_FILE", path)
    assert dependencies.pinned_requirements() == ["torch==2.13.0", "safetensors==0.8.0"]


@pytest.mark.parametrize("managed", [False, True])
def test_outside_a_virtual_environment_an_externally_managed_python_is_told_to_break_system_packages(
        tmp_path, monkeypatch, managed):
    """pip_install_command adds --user, and --break-system-packages only where the stdlib holds EXTERNALLY-MANAGED."""
    if managed:
        (tmp_path / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    monkeypatch.setattr(dependencies.sysconfig, "get_path", lambda name: str(tmp_path))
    python = dependencies.python_executable()
    assert dependencies.pip_install_command([TORCH]) == (
        f"{python} -m pip install --user{' --break-system-packages' * managed} {TORCH}")


@pytest.mark.parametrize("hidden, code, said", [
    (False, 0, "{python} can import torch, safetensors.\n"),
    (True, 1, "Training and mapping need the Python package torch, which the Python that runs QGIS cannot import;"),
])
def test_the_module_run_as_a_script_says_what_imports_and_exits_1_when_something_does_not(hidden, code, said):
    """`python3 mrs_qgis_plugin/dependencies.py` (make install): its message or what imports, and its exit status."""
    script = Path(dependencies.__file__)
    hide = "sys.modules['torch'] = None; " if hidden else ""
    result = subprocess.run([sys.executable, "-c", f"import runpy, sys; {hide}runpy.run_path({str(script)!r}, "
                             "run_name='__main__')"], capture_output=True, text=True, timeout=120)
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith(said.format(python=dependencies.python_executable()))


# ------------------------------------------------------------------------------------------ synthetic scene

def test_the_command_line_s_defaults_are_write_scene_s(tmp_path, monkeypatch, capsys):
    """Without options, `synthetic_scene OUTDIR` asks for 256 x 256 pixels, 100 bands, seed 0, 30 samples, no SAR."""
    asked = []

    def recorded(out_dir, **options):
        asked.append(options)
        return ss.ScenePaths(Path(out_dir), *(Path(out_dir) / name for name in ("h", "l")), None,
                             *(Path(out_dir) / name for name in ("tr", "te", "p", "c")))

    monkeypatch.setattr(ss, "write_scene", recorded)
    assert ss.main([str(tmp_path)]) == 0
    assert asked == [dict(width=256, height=256, n_bands=100, seed=0, sar=False, train_per_class=30,
                          lidar_intensity=True, nodata_corner=False)]
    assert capsys.readouterr().out.split() == [str(tmp_path / name) for name in ("h", "l", "tr", "te", "p", "c")]



def test_the_training_points_name_their_class_in_a_text_field_of_32_characters(scene):
    """train_points.gpkg's fields: class_id an integer, class_name text of width 32."""
    from osgeo import ogr

    dataset = ogr.Open(str(scene.train_points))
    definition = dataset.GetLayerByName("train_points").GetLayerDefn()
    fields = [definition.GetFieldDefn(i) for i in range(definition.GetFieldCount())]
    assert [(f.GetName(), f.GetType(), f.GetWidth()) for f in fields] == [
        ("class_id", ogr.OFTInteger, 0), ("class_name", ogr.OFTString, 32)]
