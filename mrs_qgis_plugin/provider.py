"""The Processing provider `mrs`: what the Toolbox, the modeler and qgis_process list."""

import os
from pathlib import Path
from typing import Any, List, Tuple, Union
from xml.etree import ElementTree

from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingDestinationParameter, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..algorithms import ALGORITHMS
from ..algorithms.base import ICON_PATH
from ..algorithms.workflow import WorkflowAlgorithm
from ..model_core import __version__


def _options(path: Union[str, Path]) -> List[Tuple[str, str]]:
    """(name, value) of the Option elements of a model file (.model3, QGIS's XML), whatever the
    order Qt wrote their attributes in; none where the file cannot be read."""
    try:
        return [(item.get("name", ""), item.get("value", "")) for item in ElementTree.parse(path).iter("Option")]
    except (OSError, ElementTree.ParseError):
        return []


def _names_own(options: List[Tuple[str, str]], provider_id: str) -> bool:
    return any(name == "alg_id" and value.startswith(f"{provider_id}:") for name, value in options)


def runs_own_algorithm(arguments: List[str], provider_id: str, models_folder: str = "") -> bool:
    """Whether a qgis_process command line runs an algorithm of this provider, or a model that
    names one: a model file, or a model of the profile's `models_folder` by its id ('model:name').
    Only such a process leaves GDAL's .aux.xml files off for the whole run (`load`): with them off,
    other providers' algorithms read a PNG georeferenced by its .aux.xml at 0, 0 without a CRS (a
    helper's red team of 2026-12-05)."""
    words = [word for word in arguments[1:] if not word.startswith("-")]
    if len(words) < 2 or words[0] != "run":
        return False
    algorithm = words[1]
    if algorithm.startswith(f"{provider_id}:"):
        return True
    if algorithm.startswith("model:") and models_folder:
        named = ("model_name", algorithm[len("model:"):])
        return any(named in options and _names_own(options, provider_id)
                   for options in map(_options, Path(models_folder).glob("*.model3")))
    return _names_own(_options(algorithm), provider_id)


class MrsProvider(QgsProcessingProvider):
    """Offers the MRS algorithms under the id `mrs` (as in `mrs:classify`)."""

    def id(self) -> str:
        return "mrs"

    def name(self) -> str:
        return "MRS land cover (SS-MAE)"

    def longName(self) -> str:  # noqa: N802 - QGIS API name
        return f"MRS land cover (SS-MAE) {__version__}"

    def versionInfo(self) -> str:  # noqa: N802 - QGIS API name
        return __version__

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:  # noqa: N802 - QGIS API name
        return ICON_PATH

    def supportsNonFileBasedOutput(self) -> bool:  # noqa: N802 - QGIS API name
        """Every output is a file that GDAL writes: no memory layer, no database table."""
        return False

    def supportedOutputRasterLayerExtensions(self) -> List[str]:  # noqa: N802 - QGIS API name
        return ["tif"]

    def supportedOutputVectorLayerExtensions(self) -> List[str]:  # noqa: N802 - QGIS API name
        return ["gpkg"]

    def isSupportedOutputValue(self, outputValue: Any, parameter: QgsProcessingDestinationParameter,  # noqa: N802,N803
                               context: QgsProcessingContext) -> Tuple[bool, str]:
        """Every output value, for the algorithms' own check before the run (checkParameterValues) to
        refuse one its job cannot write, in a message box naming the parameter and what to give: QGIS's
        check by extension said '".png" files are not supported as outputs for this algorithm' in a
        bar gone after 5 s, naming no parameter, and refused '.tiff', which the jobs write (a helper's
        desktop check of 2026-12-07)."""
        return True, ""

    def load(self) -> bool:
        models = os.path.join(QgsApplication.qgisSettingsDirPath(), "processing", "models")
        if QgsApplication.platform() == "qgis_process" and runs_own_algorithm(QgsApplication.arguments(), self.id(),
                                                                               models):
            from .raster.gdal_io import leave_inputs_untouched_in_this_process

            leave_inputs_untouched_in_this_process()
        QgsApplication.processingRegistry().providerAdded.connect(self._registered)
        return super().load()

    def _registered(self, provider_id: str) -> None:
        """The workflow's steps are this provider's algorithms, which cannot be found while it
        loads: the workflow then has no outputs (`qgis_process help mrs:workflow` listed none,
        red team of 2026-12-04), so it loads its model again once the provider is registered."""
        if provider_id == self.id():
            QgsApplication.processingRegistry().providerAdded.disconnect(self._registered)
            self.algorithm("workflow").load(outputs_optional=True)

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API name
        for algorithm in (*ALGORITHMS, WorkflowAlgorithm):
            self.addAlgorithm(algorithm())
