"""DEVICE in the dialogs: a list of the devices there are, by name and memory, in place of a text box.

The value stays the text qgis_process and bin/mrs take (auto, cpu, cuda:N), so a
model built in the modeler runs anywhere. The NVIDIA GPUs come from nvidia-smi,
which QGIS can ask without importing torch; the list keeps the text editable for a
device it does not show.
"""

from typing import Any, List, Optional, Tuple

from processing.gui.wrappers import WidgetWrapper
from qgis.gui import QgsGui
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QComboBox, QLabel

from .dependencies import nvidia_gpus


def tr(text: str) -> str:
    return QCoreApplication.translate("DeviceWidget", text)


def device_choices(gpus: List[str]) -> List[Tuple[str, str]]:
    """(value, label) of each device to offer: auto, cpu, and cuda:N for each NVIDIA GPU ('name, memory').

    nvidia-smi lists the GPUs in the order of their PCI bus, as CUDA numbers them
    when CUDA_DEVICE_ORDER=PCI_BUS_ID (on one GPU, always)."""
    auto = tr("auto: cuda:0 if torch was built with CUDA, else the CPU") if gpus else tr(
        "auto: the CPU (no NVIDIA GPU found)")
    choices = [("auto", auto), ("cpu", tr("cpu: the processor"))]
    return choices + [(f"cuda:{index}", f"cuda:{index}: {gpu}") for index, gpu in enumerate(gpus)]


class DeviceWidgetWrapper(WidgetWrapper):
    """An editable drop-down list of the devices, whose value is the device's text; in the
    modeler's dialog of a step, QGIS's own widget of a text parameter instead."""

    def __new__(cls, parameter: Any, dialog: Any, *args: Any, **kwargs: Any) -> Any:
        """QGIS's own widget in the modeler, which takes a model input or another step's output as
        well as a value: the list took the step's source for a text, and editing a step of the
        shipped workflow made its DEVICE that source's Python name, refused after the pretraining
        (a desktop helper of 2026-12-07). As QGIS's WidgetWrapperFactory makes the widget of a
        parameter without a wrapper there."""
        if dialog.__class__.__name__ == "ModelerParametersDialog":
            wrapper = QgsGui.processingGuiRegistry().createModelerParameterWidget(dialog.model, dialog.childId,
                                                                                  parameter, dialog.context)
            wrapper.setDialog(dialog)
            return wrapper
        return super().__new__(cls)

    def createWidget(self, gpus: Optional[List[str]] = None) -> QComboBox:  # noqa: N802 - QGIS API name
        combo = QComboBox()
        combo.setEditable(True)
        for value, label in device_choices(nvidia_gpus() if gpus is None else gpus):
            combo.addItem(label, value)
        combo.setToolTip(self.parameterDefinition().help())
        return combo

    def createLabel(self) -> Optional[QLabel]:  # noqa: N802 - QGIS API name
        """The label with the tooltip QGIS gives its own parameters' labels (description, help and
        name), not the Python wrappers' name alone (a desktop helper of 2026-12-05)."""
        label = super().createLabel()
        if label is not None:
            label.setToolTip(self.parameterDefinition().toolTip())
        return label

    def setValue(self, value: Any) -> None:  # noqa: N802 - QGIS API name
        index = self.widget.findData(str(value or "auto"))
        if index >= 0:
            self.widget.setCurrentIndex(index)
        else:
            self.widget.setEditText(str(value))

    def value(self) -> str:
        index = self.widget.findText(self.widget.currentText())
        return self.widget.itemData(index) if index >= 0 else self.widget.currentText().strip()
