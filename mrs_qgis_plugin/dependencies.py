"""Whether the Python that runs QGIS can import the model's packages, and how to get them.

The pins come from the plugin's `requirements.txt`, so the command in the message
installs exactly what the project tests with. This module imports nothing from
QGIS or the plugin, so that `python3 mrs_qgis_plugin/dependencies.py` can run it
outside QGIS (`make install` does).

The installer of the desktop (`installer.py`) puts the packages into a folder of
the plugin's own in the user's QGIS profile, never into the system's Python:
`<profile>/python/mrs-packages/python3.X`, one per Python version. The plugin
puts that folder at the front of `sys.path` when it loads (desktop and
qgis_process alike), so that the versions torch needs win over older copies
the system may have (typing_extensions, sympy...).
"""

import errno
import gettext
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Dict, List, Optional

REQUIREMENTS_FILE = Path(__file__).resolve().parents[1] / "requirements.txt"
PACKAGES_FOLDER = "mrs-packages"
PYPI = "https://pypi.org/simple"
# Where pip finds each build of torch; the other packages come from PyPI. On macOS
# PyPI's torch is the only build (CPU and Apple's GPU), so no index is named there.
TORCH_INDEXES = {"cpu": "https://download.pytorch.org/whl/cpu", "cuda": "https://download.pytorch.org/whl/cu128"}


def pinned_requirements() -> List[str]:
    """The requirement lines of the plugin's requirements file (`torch==2.13.0`), without comments."""
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS_FILE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def module_name(requirement: str) -> str:
    """The import name of a requirement line: `safetensors==0.8.0` -> `safetensors`."""
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def import_failures(requirements: List[str]) -> Dict[str, str]:
    """Requirement line -> why its module cannot be imported, for each that cannot."""
    failures = {}
    for requirement in requirements:
        problem = import_problem(module_name(requirement))
        if problem:
            failures[requirement] = problem
    return failures


MATPLOTLIB_INSTALL = "apt install python3-matplotlib, or pip install matplotlib"
"""How to install matplotlib, which draws the redundancy's heat map."""


def import_problem(module: str) -> Optional[str]:
    """None when `module` imports; else 'not installed', or why it cannot be imported, as a message
    quotes it: 'ImportError: libtorch_cpu.so: failed to map segment ...' (a limit on memory, ulimit -v,
    red team of 2026-12-05)."""
    try:
        imported = import_quietly(module)
    except ModuleNotFoundError as error:
        if error.name is None or module == error.name or module.startswith(f"{error.name}."):
            return "not installed"
        return _failure_text(_memory_cause(error) or error)  # a part of it missing
    except Exception as error:  # noqa: BLE001 - ImportError, OSError, MemoryError, torch's std::bad_alloc ...
        return _failure_text(error)
    return _version_problem(module, imported)


def import_quietly(module: str) -> Any:
    """`importlib.import_module`, the module's own log held below errors while it loads: where HOME
    cannot be written matplotlib works from a temporary folder and advises setting MPLCONFIGDIR, four
    lines before the job's own that are not the analyst's to act on (noticed in the sixth session of
    2026-12-05)."""
    logger = logging.getLogger(module.split(".", 1)[0])
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return importlib.import_module(module)
    finally:
        if logger.level == logging.ERROR:  # a level the module set itself as it loaded stays (review of 12-06)
            logger.setLevel(level)


MINIMUM_VERSIONS = {"torch": (2, 0)}
"""The oldest versions that have what the plugin uses (torch 2.0: scaled_dot_product_attention).
Debian 12's python3-torch 1.13.1 imported, and every run then stopped with a traceback (a helper's
red team of 2026-12-05)."""


def _version_problem(module: str, imported: Any) -> Optional[str]:
    """Why an imported module cannot serve: older than `MINIMUM_VERSIONS`, or without a version (a
    folder left of an earlier install imports as an empty namespace package); None when it can."""
    minimum = MINIMUM_VERSIONS.get(module)
    if minimum is None:
        return None
    version = getattr(imported, "__version__", None)
    needed = ".".join(map(str, minimum))
    older = _older(version, minimum) if isinstance(version, str) else None
    if older is None:
        return f"{module} without a version: an incomplete install, or a folder named {module} on Python's path"
    return f"{module} {version}, older than {needed}, the oldest the MRS algorithms run with" if older else None


def _older(version: str, minimum: tuple) -> Optional[bool]:
    """Whether `version` ('1.13.1+cpu'; '2' is 2.0: a review of 2026-12-05) is older than `minimum`;
    None for one of no number."""
    numbers = [int(part) for part in re.findall(r"[0-9]+", version)[:len(minimum)]]
    return tuple(numbers + [0] * (len(minimum) - len(numbers))) < minimum if numbers else None


def installed_too_old(module: str) -> bool:
    """Whether the install record of `module` (not the module: importing torch takes seconds) is older
    than `MINIMUM_VERSIONS`, or missing (a folder left of an earlier install); a version of no
    number is not held against it."""
    try:
        return bool(_older(importlib.metadata.version(module), MINIMUM_VERSIONS.get(module, ())))
    except importlib.metadata.PackageNotFoundError:
        return True


MEMORY_SIGNS = ("memoryerror", "bad_alloc", "failed to map segment", "cannot allocate memory")
"""What an import that failed for want of memory says (a limit such as ulimit -v), in English."""


def wants_memory(reason: str) -> bool:
    """Whether an import failed for want of memory (`MEMORY_SIGNS`), said in English or in the words of the
    locale QGIS sets, the C library's own (a helper's red team of 2026-12-06: 'Fehler beim Mappen des Shared
    Objects' got the advice to reinstall torch alone)."""
    said = reason.lower()
    local = (os.strerror(errno.ENOMEM), gettext.dgettext("libc", "failed to map segment from shared object"))
    return any(sign in said for sign in MEMORY_SIGNS + tuple(text.lower() for text in local))


def _memory_hint(reason: str) -> str:
    """', or give QGIS more memory' where an import failed for want of memory (review of 2026-12-05:
    the advice came with an ABI mismatch too)."""
    return ", or give QGIS more memory" if wants_memory(reason) else ""


def _memory_cause(error: ImportError) -> Optional[ImportError]:
    """The import that failed for want of memory behind `error`, where a package hid it as it tried another name:
    osgeo's `_gdal` failed to load ('libx265.so.199: failed to map segment'), and osgeo said 'No module named
    _gdal' (red team of 2026-12-07: bin/mrs said so under ulimit -v, and then spun for ever in its teardown)."""
    cause = error.__context__
    return cause if isinstance(cause, ImportError) and wants_memory(_failure_text(cause)) else None


def _failure_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error).strip() else type(error).__name__


def not_found(requirements: List[str]) -> List[str]:
    """The requirements whose module Python cannot find, without importing any (torch takes seconds)."""
    return [requirement for requirement in requirements if importlib.util.find_spec(module_name(requirement)) is None]


def not_usable(requirements: List[str]) -> List[str]:
    """`not_found`'s requirements and those installed in a version too old (`installed_too_old`), still
    without importing any: a torch 1.13 of Debian 12 was found, and the desktop offered no install and
    said the algorithms could run (a helper's audit of 2026-12-06)."""
    found = set(not_found(requirements))
    return [requirement for requirement in requirements if requirement in found
            or module_name(requirement) in MINIMUM_VERSIONS and installed_too_old(module_name(requirement))]


def python_candidates(exec_prefix: Path, executable: Path, version: str) -> List[Path]:
    """Where the interpreter of a Python embedded in QGIS may lie, most likely first.

    Linux: `<prefix>/bin/python3.X` (/usr/bin/python3.11). Windows, OSGeo4W and the
    standalone installer: `<prefix>/python.exe` (C:\\OSGeo4W\\apps\\Python312), else
    python3.exe beside qgis-bin.exe. macOS, QGIS.app: `Contents/MacOS/bin/python3`
    beside the QGIS program, or in the framework's prefix.
    """
    return [exec_prefix / "bin" / f"python{version}", exec_prefix / "bin" / "python3",
            exec_prefix / "python.exe", executable.parent / "python3.exe",
            executable.parent / "bin" / f"python{version}", executable.parent / "bin" / "python3"]


def python_executable() -> str:
    """The interpreter of the running Python, also when it is embedded in QGIS.

    Embedded in QGIS, `sys.executable` is not to be trusted: it can be the QGIS
    program (Windows, macOS) or the first `python3` on PATH, which may be another
    Python altogether. The interpreter of the running one lies in its prefix.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in python_candidates(Path(sys.exec_prefix), Path(sys.executable or "python3"), version):
        if candidate.is_file():
            return str(candidate)
    return sys.executable or "python3"


def packages_folder(settings_dir: str) -> Path:
    """The plugin's own folder for Python packages in a QGIS profile (`QgsApplication.qgisSettingsDirPath()`)."""
    return Path(settings_dir) / "python" / PACKAGES_FOLDER / f"python{sys.version_info.major}.{sys.version_info.minor}"


def use_packages_folder(folder: Path) -> bool:
    """Put `folder` at the front of `sys.path` when it exists (once); whether it is there now."""
    if not folder.is_dir():
        return False
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
    return True


def nvidia_gpus() -> List[str]:
    """'NVIDIA RTX A4000, 16376 MiB' for each NVIDIA GPU that nvidia-smi reports; none without a driver."""
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []


def pip_target_command(requirements: List[str], folder: Path, build: str,
                       wheel_folder: Optional[Path] = None) -> List[str]:
    """pip of QGIS' own Python installing `requirements` into `folder`; torch of `build` ('cpu' or 'cuda').

    With `wheel_folder`, pip takes the wheels there and nothing from the network. Without a connection
    pip tries each package's index `PIP_RETRIES` times, not its default five with back-off (a helper's
    desktop check of 2026-12-06: a log of 'Retrying ... NewConnectionError' for minutes, read as a
    failure).
    """
    command = [python_executable(), "-m", "pip", "install", "--target", str(folder), "--upgrade",
               "--no-input", "--disable-pip-version-check"]
    if wheel_folder is not None:
        command += ["--no-index", "--find-links", str(wheel_folder)]
    else:
        command += ["--retries", str(PIP_RETRIES)]
        if sys.platform != "darwin":
            command += ["--index-url", TORCH_INDEXES[build], "--extra-index-url", PYPI]
    return command + list(requirements)


PIP_RETRIES = 2
"""Times pip tries a package index again that it cannot reach or that fails for a moment
(`pip_target_command`): two, without the back-off of pip's five."""


def command_line(arguments: List[str]) -> str:
    """A command as one would type it in the platform's shell."""
    return subprocess.list2cmdline(arguments) if sys.platform == "win32" else shlex.join(arguments)


def pip_install_command(requirements: List[str], reinstall: bool = False) -> str:
    """The shell command that installs `requirements` for the running Python; with `reinstall`, again
    where pip finds them installed already (a broken install of the right version: a review of
    2026-12-05).

    Outside a virtual environment it installs for the user (no root needed);
    where the distribution marks its Python as externally managed (Debian 12,
    PEP 668), pip refuses that unless told `--break-system-packages`.
    """
    arguments = [python_executable(), "-m", "pip", "install"] + ["--force-reinstall"] * reinstall
    if sys.prefix == sys.base_prefix:
        arguments.append("--user")
        if Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").is_file():
            arguments.append("--break-system-packages")
    arguments.extend(requirements)
    return command_line(arguments)


def missing_dependencies_message() -> Optional[str]:
    """One sentence naming what cannot be imported and the command that installs it, or None; a
    package that is installed but fails to import is named apart, with why (a limit on memory made
    torch's import fail, which was told to be installed: review of 2026-12-05)."""
    failures = import_failures(pinned_requirements())
    if not failures:
        return None
    missing = [requirement for requirement, reason in failures.items() if reason == "not installed"]
    parts = []
    if missing:
        plural = len(missing) > 1
        parts.append(
            f"the Python package{'s' if plural else ''} {' and '.join(map(module_name, missing))}, which the Python "
            f"that runs QGIS cannot import; install {'them' if plural else 'it'} with Plugins > MRS land cover > "
            f"Install Python packages, or with: {pip_install_command(missing)} and restart QGIS")
    parts += [f"{module_name(requirement)}, which is installed but cannot be used ({reason.splitlines()[0][:200]}): "
              f"reinstall it with Plugins > MRS land cover > Install Python packages{_memory_hint(reason)}, and restart "
              "QGIS" for requirement, reason in failures.items() if reason != "not installed"]
    return f"Training and mapping need {'; and '.join(parts)}."


if __name__ == "__main__":
    message = missing_dependencies_message()
    print(message or f"{python_executable()} can import {', '.join(map(module_name, pinned_requirements()))}.")
    sys.exit(1 if message else 0)
