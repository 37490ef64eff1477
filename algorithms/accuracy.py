"""Score a land-cover map against reference samples: confusion matrix, OA, AA, kappa."""

from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterRasterLayer,
)

from ..model_core.hooks import Hooks
from .base import MrsAlgorithm


class AccuracyAlgorithm(MrsAlgorithm):
    ALGORITHM_ID = "accuracy"
    DISPLAY_NAME = "Accuracy assessment"
    GROUP_ID = "analysis"
    DESCRIPTION = (
        "Compares a land-cover map with reference samples that were not used for training. "
        "Reports the confusion matrix, overall accuracy, average accuracy, kappa, and each class's "
        "producer's and user's accuracy and F1 score."
    )

    INPUT = "INPUT"
    REFERENCE = "REFERENCE"
    REFERENCE_FIELD = "REFERENCE_FIELD"
    REFERENCE_LABELS = "REFERENCE_LABELS"
    LABELLED_PIXELS = (REFERENCE, REFERENCE_FIELD, REFERENCE_LABELS)
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_JSON = "OUTPUT_JSON"
    OVERALL_ACCURACY = "OVERALL_ACCURACY"
    AVERAGE_ACCURACY = "AVERAGE_ACCURACY"
    KAPPA = "KAPPA"

    def initAlgorithm(self, configuration=None) -> None:  # noqa: N802 - QGIS API name
        self.add_with_help(
            QgsProcessingParameterRasterLayer(self.INPUT, "Land-cover map"),
            "The map to assess, for example from 'Classify': class values of 1 or more, 0 = no data.",
        )
        self.add_labelled_pixels_parameters("Reference samples", "the map's grid")
        self.add_file_destination(
            self.OUTPUT_HTML,
            "Accuracy report",
            "HTML files (*.html)",
            "The report as a web page: summary figures, confusion matrix and per-class table.",
        )
        self.add_file_destination(
            self.OUTPUT_JSON,
            "Accuracy figures (JSON)",
            "JSON files (*.json)",
            "Optional: every figure of the report as JSON, for scripts.",
            optional=True,
        )
        self.add_file_destination(
            self.OUTPUT_CSV,
            "Confusion matrix (CSV)",
            "CSV files (*.csv)",
            "Optional: the confusion matrix as CSV, reference classes in rows, map classes in columns.",
            optional=True,
        )
        self.addOutput(QgsProcessingOutputNumber(self.OVERALL_ACCURACY, "Overall accuracy (0..1)"))
        self.addOutput(QgsProcessingOutputNumber(self.AVERAGE_ACCURACY, "Average accuracy (0..1)"))
        self.addOutput(QgsProcessingOutputNumber(self.KAPPA, "Kappa"))

    def execute(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback,
                hooks: Hooks) -> Dict[str, Any]:
        from ..mrs_qgis_plugin.jobs import accuracy_job

        class_map = self.raster_input(parameters, self.INPUT, context)
        report = accuracy_job(
            class_map.path,
            class_map.name,
            self.label_source(parameters, context, feedback),
            out_html=self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context),
            out_json=self.optional_output(parameters, self.OUTPUT_JSON, context),
            out_csv=self.optional_output(parameters, self.OUTPUT_CSV, context),
            hooks=hooks,
        )
        paths = report["paths"]
        return {
            **{name: paths.get(name) for name in (self.OUTPUT_HTML, self.OUTPUT_JSON, self.OUTPUT_CSV)},
            self.OVERALL_ACCURACY: report["overall_accuracy"],
            self.AVERAGE_ACCURACY: report["average_accuracy"],
            self.KAPPA: report["kappa"],
        }
