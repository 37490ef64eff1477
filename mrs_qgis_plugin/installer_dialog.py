"""The dialog that installs torch and safetensors for the plugin: what, where, which build, then pip's log."""

import shutil
from pathlib import Path
from typing import List, Optional

from qgis.core import QgsApplication
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import QCoreApplication, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
)

from .dependencies import (command_line, import_failures, not_usable, nvidia_gpus, pinned_requirements,
                           python_executable)
from .installer import InstallTask, install_command


def tr(text: str) -> str:
    return QCoreApplication.translate("InstallerDialog", text)


class InstallerDialog(QDialog):
    """Shows what will be installed, where and with which command; runs it in the background on Install.

    `installed` is emitted when the packages can be imported."""

    installed = pyqtSignal()

    def __init__(self, folder: Path, parent=None, requirements: Optional[List[str]] = None,
                 gpus: Optional[List[str]] = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.requirements = requirements or pinned_requirements()
        self.task: Optional[InstallTask] = None
        gpus = nvidia_gpus() if gpus is None else gpus
        self.setWindowTitle(tr("MRS land cover: install Python packages"))
        self.setMinimumWidth(720)

        found = not not_usable(self.requirements)  # the menu opens the dialog when they are found too
        intro = self.intro = QLabel(tr(
            "The Python of QGIS already finds the packages the MRS algorithms need, so they can run. Installing "
            "puts the versions below into a folder of the plugin in your QGIS profile, with pip of QGIS' own Python; "
            "your system's Python is not changed. Removing that folder removes them.") if found else tr(
            "Training and mapping need the Python packages below, which the Python of QGIS cannot import yet, or "
            "finds in a version too old (the accuracy assessment, the band redundancy and the demo scene run without "
            "them). "
            "They are installed with pip of QGIS' own Python into a folder of the plugin in your QGIS profile; "
            "your system's Python is not changed. Removing that folder removes them."))
        intro.setWordWrap(True)
        self.build = QComboBox()
        # the CPU wheel is 192 MB, installed 880 MB (a desktop helper of 2026-12-05 measured)
        self.build.addItem(tr("CPU (works everywhere; about 200 MB to download, 900 MB installed)"), "cpu")
        self.build.addItem(tr("NVIDIA CUDA (needs an NVIDIA GPU and driver; about 3 GB to download)"), "cuda")
        self.build.setCurrentIndex(1 if gpus else 0)
        gpu_text = ", ".join(gpus) if gpus else (
            tr("none found (nvidia-smi reports no NVIDIA GPU)") if shutil.which("nvidia-smi")
            else tr("none found (no NVIDIA driver: nvidia-smi is not installed)"))
        self.wheels = QgsFileWidget()
        self.wheels.setStorageMode(QgsFileWidget.GetDirectory)
        self.wheels.lineEdit().setPlaceholderText(tr("Optional: a folder of wheel files, to install without internet"))
        self.command = QLineEdit()
        self.command.setReadOnly(True)
        form = QFormLayout()
        form.addRow(tr("Packages:"), QLabel(", ".join(self.requirements)))
        form.addRow(tr("Installed into:"), self._selectable(str(folder)))
        form.addRow(tr("Python of QGIS:"), self._selectable(python_executable()))
        form.addRow(tr("NVIDIA GPUs:"), QLabel(gpu_text))
        form.addRow(tr("Build of torch:"), self.build)
        form.addRow(tr("Offline:"), self.wheels)
        form.addRow(tr("Command:"), self.command)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setPlaceholderText(tr("pip's messages appear here."))
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.install_button = self.buttons.addButton(tr("Install"), QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(tr("Stop"), QDialogButtonBox.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.cancel_button.setEnabled(False)
        self.install_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.reject)
        self.build.currentIndexChanged.connect(self._show_command)
        self.wheels.fileChanged.connect(self._show_command)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        for widget in (self.progress, self.log, self.result, self.buttons):
            layout.addWidget(widget)
        self._show_command()

    @staticmethod
    def _selectable(text: str) -> QLabel:
        label = QLabel(text)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        return label

    def chosen_build(self) -> str:
        return self.build.currentData()

    def wheel_folder(self) -> Optional[Path]:
        return Path(self.wheels.filePath()) if self.wheels.filePath().strip() else None

    def _show_command(self) -> None:
        self.command.setText(command_line(
            install_command(self.requirements, self.folder, self.chosen_build(), self.wheel_folder())))
        self.command.setCursorPosition(0)

    def start(self) -> None:
        """Start pip in a background task; the dialog may be closed meanwhile (the task goes on)."""
        self.task = InstallTask(self.requirements, self.folder, self.chosen_build(), self.wheel_folder())
        self.task.line.connect(self.log.appendPlainText)
        self.task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task.done.connect(self.finish)
        for widget in (self.install_button, self.build, self.wheels):
            widget.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.result.setText(tr("Installing... QGIS stays usable meanwhile."))
        QgsApplication.taskManager().addTask(self.task)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def finish(self, succeeded: bool, message: str) -> None:
        self.cancel_button.setEnabled(False)
        for widget in (self.install_button, self.build, self.wheels):
            widget.setEnabled(not succeeded)
        self.task = None
        if succeeded:
            failures = import_failures(self.requirements)
            self.progress.setValue(100)
            if failures:
                reasons = "; ".join(f"{name}: {why}" for name, why in failures.items())
                message += " " + tr("They cannot be imported in this session yet ({}); restart QGIS.").format(reasons)
            else:
                message += " " + tr("The MRS algorithms can be used now.")
                self.installed.emit()
        self.result.setText(message)
