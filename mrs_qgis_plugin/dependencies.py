"""Whether the Python that runs QGIS can import the model's packages, and how to get them.

The pins come from the plugin's `requirements.txt`, so the command in the message
installs exactly what the project tests with. This module imports nothing from
QGIS or the plugin, so that `python3 mrs_qgis_plugin/dependencies.py` can run it
outside QGIS (`make install` does).
"""

import importlib
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional

REQUIREMENTS_FILE = Path(__file__).resolve().parents[1] / "requirements.txt"


def pinned_requirements(path: Path = REQUIREMENTS_FILE) -> List[str]:
    """The requirement lines of a requirements file (`torch==2.13.0`), without comments."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def module_name(requirement: str) -> str:
    """The import name of a requirement line: `safetensors==0.8.0` -> `safetensors`."""
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def import_failures(requirements: List[str]) -> Dict[str, str]:
    """Requirement line -> why its module cannot be imported, for each that cannot."""
    failures = {}
    for requirement in requirements:
        try:
            importlib.import_module(module_name(requirement))
        except ModuleNotFoundError:
            failures[requirement] = "not installed"
        except (ImportError, OSError) as error:
            failures[requirement] = f"{type(error).__name__}: {error}"
    return failures


def python_executable() -> str:
    """The interpreter of the running Python, also when it is embedded in QGIS.

    Embedded in QGIS, `sys.executable` is not to be trusted: it can be the QGIS
    program (Windows, macOS) or the first `python3` on PATH, which may be another
    Python altogether. The interpreter of the running one lies in its prefix.
    """
    prefix = Path(sys.exec_prefix)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (prefix / "bin" / f"python{version}", prefix / "python.exe"):
        if candidate.is_file():
            return str(candidate)
    return sys.executable or "python3"


def pip_install_command(requirements: List[str]) -> str:
    """The shell command that installs `requirements` for the running Python.

    Outside a virtual environment it installs for the user (no root needed);
    where the distribution marks its Python as externally managed (Debian 12,
    PEP 668), pip refuses that unless told `--break-system-packages`.
    """
    arguments = [python_executable(), "-m", "pip", "install"]
    if sys.prefix == sys.base_prefix:
        arguments.append("--user")
        if Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED").is_file():
            arguments.append("--break-system-packages")
    arguments.extend(requirements)
    if sys.platform == "win32":
        return subprocess.list2cmdline(arguments)
    return shlex.join(arguments)


def missing_dependencies_message() -> Optional[str]:
    """One sentence naming what cannot be imported and the command that installs it, or None."""
    failures = import_failures(pinned_requirements())
    if not failures:
        return None
    names = " and ".join(module_name(requirement) for requirement in failures)
    plural = len(failures) > 1
    reasons = "; ".join(
        f"{module_name(requirement)}: {reason}" for requirement, reason in failures.items() if reason != "not installed"
    )
    return (
        f"The MRS algorithms need the Python package{'s' if plural else ''} {names}, "
        f"which the Python that runs QGIS cannot import{f' ({reasons})' if reasons else ''}; "
        f"install {'them' if plural else 'it'} with: {pip_install_command(list(failures))} "
        "and restart QGIS."
    )


if __name__ == "__main__":
    message = missing_dependencies_message()
    print(message or f"{python_executable()} can import {', '.join(map(module_name, pinned_requirements()))}.")
    sys.exit(1 if message else 0)
