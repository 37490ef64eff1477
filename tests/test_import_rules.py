"""What may import what (ARCHITECTURE.md, "Packages"), checked on the sources and on a loaded plugin."""

import ast
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator, Optional, Set, Tuple

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


def imported_files(path: Path, tree: Optional[ast.AST] = None) -> Set[Path]:
    """The repository's files that the file's relative imports name, at any depth (inside functions
    too): `from .raster.grid import Grid` gives raster/grid.py, `from . import reports` reports.py.
    `tree`: a part of the file's source (a function's) in place of the whole file."""
    package = list(path.relative_to(ROOT).parent.parts)
    found = set()
    for node in ast.walk(tree or ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            for parts in [base, *(base + [alias.name] for alias in node.names)]:
                stem = ROOT.joinpath(*parts)
                found.update(file for file in (stem.with_suffix(".py"), stem / "__init__.py") if file.is_file())
    return found


def imported_closure(files: Set[Path]) -> Set[Path]:
    """The files and every file of the repository they import, and those import, and so on."""
    seen, waiting = set(), list(files)
    while waiting:
        path = waiting.pop()
        if path not in seen:
            seen.add(path)
            waiting.extend(imported_files(path))
    return seen


def test_the_import_closure_follows_modules_named_in_from_imports():
    closure = imported_closure({ROOT / "mrs_qgis_plugin" / "analysis.py"})
    assert {ROOT / "mrs_qgis_plugin" / name for name in ("reports.py", "job_inputs.py")} <= closure
    assert ROOT / "model_core" / "preprocessing.py" in closure
    assert ROOT / "model_core" / "masking.py" in imported_closure({ROOT / "model_core" / "training.py"})


def test_the_jobs_declared_without_torch_import_no_module_that_imports_it():
    """The accuracy assessment and the band redundancy run where torch is not installed (the
    algorithms do not ask for it: `Job.needs_torch`); until 2026-12-07 they imported the training's
    modules, and took some ten seconds to load torch. Their runners in runs.py, with what runs.py
    imports at its top, are followed to every module they may import."""
    from mrs.mrs_qgis_plugin.job_parameters import JOBS
    from mrs.mrs_qgis_plugin.runs import RUNNERS

    runs = ROOT / "mrs_qgis_plugin" / "runs.py"
    top = ast.parse(runs.read_text(encoding="utf-8"))
    top.body = [node for node in top.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    without_torch = [name for name, job in JOBS.items() if not job.needs_torch]
    assert without_torch == ["accuracy", "redundancy", "demoscene"]
    for name in without_torch:
        runner = ast.parse(textwrap.dedent(inspect.getsource(RUNNERS[name])))
        files = imported_closure(imported_files(runs, top) | imported_files(runs, runner))
        assert ROOT / "mrs_qgis_plugin" / ("demo_scene.py" if name == "demoscene" else "analysis.py") in files
        assert violations(sorted(files), {"torch"}) == [], name
