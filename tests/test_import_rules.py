"""What may import what (ARCHITECTURE.md, "Packages"), checked on the sources and on a loaded plugin."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
QGIS_GLUE = {"plugin.py", "provider.py", "styling.py", "device_widget.py", "destinations.py", "installer.py",
             "installer_dialog.py"}
"""The files of mrs_qgis_plugin/ that are QGIS glue; the rest of the folder is the engine."""
QGIS = {"qgis", "PyQt5", "PyQt6", "processing"}


def imports(path: Path) -> Iterator[Tuple[int, str, bool]]:
    """(line, first part, relative) of every module the file imports, at any depth (inside
    functions too); relative imports are resolved against the repository root, so
    `from ..mrs_qgis_plugin import jobs` gives 'mrs_qgis_plugin'."""
    package = list(path.relative_to(ROOT).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name.split(".")[0], False) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.lineno, node.module.split(".")[0], False
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            yield node.lineno, base[0] if base else "", True


def violations(files, forbidden: Set[str]) -> list:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in files for line, name, _relative in imports(path) if name in forbidden]


def python_files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_import_resolver_sees_relative_and_absolute_imports():
    found = {(name, relative) for _line, name, relative in imports(ROOT / "mrs_qgis_plugin" / "provider.py")}
    assert found >= {("qgis", False), ("algorithms", True), ("model_core", True), ("mrs_qgis_plugin", True)}


def test_model_core_never_imports_qgis_gdal_or_the_plugin():
    assert violations(python_files("model_core"), QGIS | {"osgeo", "mrs_qgis_plugin", "algorithms"}) == []


def test_the_engine_never_imports_qgis_or_the_algorithms():
    engine = [path for path in python_files("mrs_qgis_plugin") if path.name not in QGIS_GLUE]
    assert violations(engine, QGIS | {"algorithms"}) == []


def test_the_raster_pipeline_never_imports_torch():
    assert violations(python_files("mrs_qgis_plugin/raster"), {"torch"}) == []


def test_the_glue_list_is_current():
    """A file that is no longer glue (or a new glue file) must move in or out of QGIS_GLUE."""
    glue = {path.name for path in python_files("mrs_qgis_plugin") if violations([path], QGIS)}
    assert glue == QGIS_GLUE


def test_loading_the_plugin_and_its_algorithms_does_not_import_torch_numpy_or_gdal(tmp_path):
    (tmp_path / "mrs").symlink_to(ROOT, target_is_directory=True)
    script = (
        "import sys\n"
        "from qgis.core import QgsApplication\n"
        "app = QgsApplication([], False)\n"
        "app.initQgis()\n"
        "import mrs\n"
        "plugin = mrs.classFactory(None)\n"
        "from mrs.mrs_qgis_plugin.provider import MrsProvider\n"
        "provider = MrsProvider()\n"
        "assert QgsApplication.processingRegistry().addProvider(provider)\n"
        "assert len(provider.algorithms()) >= 5, provider.algorithms()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'torch')[:3])\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('numpy', 'osgeo')\n"
        "             or name.startswith(('mrs.mrs_qgis_plugin.synthetic_scene', 'mrs.mrs_qgis_plugin.styling'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2:] == ["[]", "[]"]  # nor numpy, GDAL or the demo's generator


@pytest.mark.parametrize("folder", ["model_core", "mrs_qgis_plugin", "algorithms"])
def test_plugin_code_imports_itself_relatively(folder):
    """Installed in QGIS the root is the package `mrs`: `import model_core` would fail there."""
    absolute = [f"{path.relative_to(ROOT)}:{line}" for path in python_files(folder)
                for line, name, relative in imports(path)
                if name in {"model_core", "mrs_qgis_plugin", "algorithms", "mrs"} and not relative]
    assert absolute == []


def test_model_core_messages_name_no_algorithm_or_parameter_of_its_front_ends():
    """The caller names them (model_core.names.Names, the `what=` arguments)."""
    from mrs.mrs_qgis_plugin.job_parameters import JOBS

    front_end = {f"mrs:{name}" for name in JOBS} | {p.name for job in JOBS.values() for p in job.parameters}
    found = [f"{path.relative_to(ROOT)}:{node.lineno} {word}"
             for path in python_files("model_core")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             for word in re.findall(r"mrs:\w+|\b[A-Z][A-Z_]{2,}\b", node.value) if word in front_end]
    assert found == []
