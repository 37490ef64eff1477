"""Where to label next: the pixels a classifier is least sure of, spread apart, as points to label."""

from typing import Any, Dict

from qgis.core import QgsProcessingContext

from ..mrs_qgis_plugin.job_parameters import SUGGEST
from .base import MrsAlgorithm


class SuggestAlgorithm(MrsAlgorithm):
    JOB = SUGGEST

    def finish(self, values: Dict[str, Any], context: QgsProcessingContext) -> None:
        """Have the points styled (rings labelled with their rank) when Processing loads them, named
        after their file too."""
        from ..mrs_qgis_plugin.styling import name_after_file, style_when_loaded, suggestion_style

        style_when_loaded(context, values["OUTPUT"], suggestion_style)
        name_after_file(context, values["OUTPUT"], self.parameterDefinition("OUTPUT").description())
