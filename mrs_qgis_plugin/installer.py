"""Installing torch and safetensors from inside QGIS: pip of QGIS' own Python in a background task.

The packages go into the plugin's folder in the user's profile (see `dependencies`),
never into the system's Python; once pip has finished, the folder is put on
`sys.path`, so that the algorithms run without restarting QGIS (unless an older
torch was already imported in this session, which Python cannot unload).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from qgis.core import Qgis, QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from .dependencies import command_line, pip_target_command, use_packages_folder

LOG_TAG = "MRS land cover"
# pip prints no overall progress; these lines mark its stages: what share of the bar each reaches.
# "Processing" is what pip prints for a wheel of a local folder in place of "Collecting".
STAGES = (("Collecting", 0.05, 0.4), ("Processing", 0.05, 0.4), ("Downloading", 0.4, 0.75),
          ("Installing collected packages", 0.8, 0.8), ("Successfully installed", 1.0, 1.0))


def progress_after(line: str, fraction: float) -> float:
    """The installation's progress (0..1) after pip printed `line`, when it was at `fraction`.

    Each "Collecting", "Processing" or "Downloading" line moves on by 5 % within its stage."""
    text = line.strip()
    for start, low, high in STAGES:
        if text.startswith(start):
            return max(fraction, min(high, max(low, fraction + 0.05)))
    return fraction


def staging_folder(folder: Path) -> Path:
    """Where pip installs first; it takes the folder's place only when pip has succeeded."""
    return folder.with_name(folder.name + ".partial")


def install_command(requirements: List[str], folder: Path, build: str, wheel_folder: Optional[Path] = None
                    ) -> List[str]:
    return pip_target_command(requirements, staging_folder(folder), build, wheel_folder)


def failure_message(tail: List[str]) -> str:
    """What went wrong, from the last lines pip printed, with what to do where that is known."""
    text = " / ".join(line for line in tail if line)
    if "No module named pip" in text:
        return ("QGIS' Python has no pip. On Debian or Ubuntu install the package python3-pip "
                "(sudo apt install python3-pip); with OSGeo4W, add the package python3-pip in its installer. "
                "Then install again.")
    if any(sign in text for sign in OFFLINE_SIGNS):  # 900 characters of pip's retries (red team of 2026-12-05)
        return ("pip could not reach the package index (no internet connection, or a proxy in the way). Connect this "
                "computer to the internet, or download the wheel files on another one and install from their folder "
                "(Offline).")
    if "PermissionError" in text or "Permission denied" in text:
        return ("pip could not write to the plugin's packages folder in your QGIS profile (permission denied): "
                "make that folder yours, or install as the user who owns it.")
    return f"pip failed: {text}"


OFFLINE_SIGNS = ("NewConnectionError", "ProxyError", "Temporary failure in name resolution", "Network is unreachable",
                 "Failed to establish a new connection", "ConnectTimeoutError")
"""What pip's last lines say when it cannot reach the package index."""


def _reason(error: OSError) -> str:
    """'Permission denied: .../torch_cpu.dll', or the error as it reads where it names no file."""
    return f"{error.strerror}: {error.filename}" if error.strerror and error.filename else str(error) or repr(error)


class InstallTask(QgsTask):
    """Runs pip; `line` carries each line it prints (to the main thread), `done` the outcome.

    pip installs into a staging folder, which replaces the packages folder only
    when pip has succeeded: a canceled or failed run leaves the earlier packages
    (if any) as they were, and nothing half-installed is ever put on sys.path.
    """

    line = pyqtSignal(str)
    done = pyqtSignal(bool, str)

    def __init__(self, requirements: List[str], folder: Path, build: str, wheel_folder: Optional[Path] = None,
                 env: Optional[dict] = None) -> None:
        super().__init__("Installing torch and safetensors for the MRS plugin", QgsTask.CanCancel)
        self.command = install_command(requirements, folder, build, wheel_folder)
        self.folder = folder
        self.env = env
        self.process: Optional[subprocess.Popen] = None
        self.tail: List[str] = []
        self.problem = ""
        """Why the run failed after pip succeeded, '' otherwise."""

    def _say(self, text: str, pips: bool = True) -> None:
        """A line in the log; one of pip's (`pips`) is kept among the last that explain its failure."""
        if pips:
            self.tail = (self.tail + [text])[-5:]
        QgsMessageLog.logMessage(text, LOG_TAG, Qgis.Info)
        self.line.emit(text)

    def run(self) -> bool:
        staging = staging_folder(self.folder)
        shutil.rmtree(staging, ignore_errors=True)
        self._say(f"Running: {command_line(self.command)}", pips=False)  # repeated in the failure (an audit)
        flags = subprocess.CREATE_NO_WINDOW if sys.platform == "win32" else 0
        try:
            self.process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                errors="replace", env=self.env if self.env is not None else os.environ.copy(), creationflags=flags,
            )
        except OSError as error:  # pip never ran: was said as 'pip failed' (a helper's audit of 2026-12-06)
            self.problem = f"QGIS' Python ({self.command[0]}) could not be started to run pip: {_reason(error)}."
            self._say(self.problem, pips=False)
            return False
        fraction = 0.0
        for text in self.process.stdout:
            self._say(text.rstrip())
            fraction = progress_after(text, fraction)
            self.setProgress(100.0 * fraction)
        if self.process.wait() != 0 or self.isCanceled():
            shutil.rmtree(staging, ignore_errors=True)
            return False
        return self._replace(staging)

    def _replace(self, staging: Path) -> bool:
        """The staged packages take the folder's place. The earlier ones are moved aside first and
        deleted only once the new ones are in place, so that one that cannot be moved (a DLL Windows
        holds) leaves them whole: deleting them first stopped at such a file after 38 of 55 files
        had gone, torch's __init__ among them (a helper's red team of 2026-12-05)."""
        aside = self.folder.with_name(self.folder.name + ".old")
        if aside.exists() and not self.folder.exists():  # kept there by a run that failed in between
            os.replace(aside, self.folder)
        shutil.rmtree(aside, ignore_errors=True)
        earlier = self.folder.exists()
        try:
            if earlier:
                os.replace(self.folder, aside)
        except OSError as error:
            return self._failed(staging, f"pip installed the packages, but the earlier ones in {self.folder} could not "
                                         f"be moved aside ({_reason(error)}): QGIS, or another program, may be using "
                                         "them. They are left as they were; restart QGIS and install again.")
        try:
            os.replace(staging, self.folder)
        except OSError as error:
            kept = f"; the earlier packages are in {aside}" if earlier else ""
            if earlier:
                try:
                    os.replace(aside, self.folder)
                    kept = "; the earlier packages are as they were"
                except OSError:
                    pass
            return self._failed(staging, f"pip installed the packages, but they could not be put in {self.folder} "
                                         f"({_reason(error)}){kept}. Restart QGIS and install again.")
        shutil.rmtree(aside, ignore_errors=True)
        return True

    def _failed(self, staging: Path, problem: str) -> bool:
        shutil.rmtree(staging, ignore_errors=True)
        self.problem = problem
        self._say(problem)
        return False

    def cancel(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        super().cancel()

    def finished(self, result: bool) -> None:
        """In the main thread, after `run`: the folder goes on sys.path, and `done` says how it went."""
        if result:
            use_packages_folder(self.folder)
            self.done.emit(True, f"Installed into {self.folder}.")
        elif self.isCanceled():
            self.done.emit(False, "Canceled; the packages installed before (if any) are unchanged.")
        else:
            self.done.emit(False, self.problem or failure_message(self.tail))
