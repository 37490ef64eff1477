"""The plugin as QGIS' plugin repository and 'Install from ZIP' see it."""

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mrs.model_core

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_METADATA = (
    "name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
    "tracker", "repository", "tags", "icon", "experimental", "hasProcessingProvider",
)


def metadata() -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]


def test_metadata_has_every_field_the_plugin_repository_requires():
    general = metadata()
    assert [key for key in REQUIRED_METADATA if not general.get(key, "").strip()] == []
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["version"] == mrs.model_core.__version__
    assert (ROOT / general["icon"]).is_file()


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "package", f"DIST={dist}"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    path = dist / f"mrs-{metadata()['version']}.zip"
    assert result.stdout.strip() == str(path)
    assert sorted(p.name for p in dist.iterdir()) == [path.name]
    return path


def test_the_zip_holds_the_plugin_folder_mrs_without_tests_or_caches(package):
    names = zipfile.ZipFile(package).namelist()
    for needed in (
        "mrs/metadata.txt", "mrs/__init__.py", "mrs/LICENSE", "mrs/README.md", "mrs/requirements.txt",
        "mrs/mrs_qgis_plugin/provider.py", "mrs/mrs_qgis_plugin/synthetic_scene/layout.py",
        "mrs/algorithms/base.py", "mrs/model_core/errors.py",
        "mrs/resources/icons/mrs.svg",
    ):
        assert needed in names
    assert all(name.startswith("mrs/") for name in names)
    unwanted = ("tests", "bench", "__pycache__", ".venv", ".qgis-profile", ".qgis-settings", ".stamps", "dist",
                ".git", ".ci", "bin", ".pytest_cache", ".hypothesis")
    assert [name for name in names if set(name.split("/")) & set(unwanted) or name.endswith(".pyc")] == []


def test_the_zip_leaves_out_what_editors_tools_and_systems_leave_in_the_folders(tmp_path):
    """Hidden folders, backups and merge leftovers in a checkout went into the ZIP (packaging red
    team of 2026-12-04)."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    copy = tmp_path / "checkout"
    for name in tracked.stdout.splitlines():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((ROOT / name).read_bytes())
    strays = ["algorithms/.hypothesis/db", "model_core/training.py.orig", "resources/help/index.html~",
              "mrs_qgis_plugin/.DS_Store", "mrs_qgis_plugin/.ipynb_checkpoints/x.py", "model_core/loop.py.rej",
              "algorithms/.base.py.swp", "README.md.bak"]
    for name in strays:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("stray")
    result = subprocess.run(["make", "--no-print-directory", "-C", str(copy), "package", f"DIST={tmp_path / 'dist'}"],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    names = zipfile.ZipFile(result.stdout.strip()).namelist()
    assert [name for name in names if name.removeprefix("mrs/") in strays or "/." in name] == []
    assert "mrs/model_core/training.py" in names


def test_the_unzipped_plugin_loads_its_provider_on_its_own(package, tmp_path):
    zipfile.ZipFile(package).extractall(tmp_path)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from qgis.core import QgsApplication\n"
        "app = QgsApplication([], False); app.initQgis()\n"
        "import mrs\n"
        "assert mrs.__file__.startswith(sys.argv[1]), mrs.__file__\n"
        "plugin = mrs.classFactory(None); plugin.initProcessing()\n"
        "provider = QgsApplication.processingRegistry().providerById('mrs')\n"
        "print(' '.join(sorted(a.id() for a in provider.algorithms())))\n"
        "plugin.unload()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path / "settings"),
            "XDG_CONFIG_HOME": str(tmp_path / "settings"),
            "XDG_CACHE_HOME": str(tmp_path / "settings"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "mrs:accuracy", "mrs:classify", "mrs:demoscene", "mrs:finetune", "mrs:pretrain", "mrs:redundancy", "mrs:suggest",
        "mrs:workflow",
    ]
