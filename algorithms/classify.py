"""Apply a classifier model to a scene, tile by tile, into a styled land-cover GeoTIFF."""

from typing import Any, Dict

from qgis.core import QgsProcessingContext

from ..mrs_qgis_plugin.job_parameters import CLASSIFY
from .base import MrsAlgorithm


class ClassifyAlgorithm(MrsAlgorithm):
    JOB = CLASSIFY

    def finish(self, values: Dict[str, Any], context: QgsProcessingContext) -> None:
        """Have the maps styled by their `.qml` sidecars when Processing loads them into the project
        (under the paths it gave, which are the values), named after their files too."""
        from ..mrs_qgis_plugin.styling import name_after_file, style_when_loaded

        for name in ("OUTPUT", "OUTPUT_CONFIDENCE"):
            style_when_loaded(context, values[name])
            name_after_file(context, values[name], self.parameterDefinition(name).description())
