"""Apply a classifier model to a scene, tile by tile, into a styled land-cover GeoTIFF."""

from typing import Any, Dict

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingParameterRasterDestination

from ..model_core.hooks import Hooks
from .base import MrsAlgorithm, is_given


class ClassifyAlgorithm(MrsAlgorithm):
    ALGORITHM_ID = "classify"
    DISPLAY_NAME = "Classify"
    GROUP_ID = "mapping"
    DESCRIPTION = (
        "Makes a land-cover map with a classifier model from 'Train classifier (fine-tune)'. "
        "The scene is read and classified tile by tile, so rasters of any size fit in memory.\n"
        "The map is a GeoTIFF on the grid of the hyperspectral raster, with the model's class names "
        "and colours; pixels that are nodata in any input are 0 (no data)."
    )

    MODEL = "MODEL"
    TILE_SIZE = "TILE_SIZE"
    OUTPUT_CONFIDENCE = "OUTPUT_CONFIDENCE"

    def initAlgorithm(self, configuration=None) -> None:  # noqa: N802 - QGIS API name
        self.add_model_file_parameter(
            self.MODEL, "Classifier model", "A classifier model file from 'Train classifier (fine-tune)'."
        )
        self.add_hsi_parameter()
        self.add_aux_parameter()
        self.add_extent_parameter(
            "Optional: classify only this part of the scene. Default: the whole hyperspectral raster."
        )
        self.add_number_parameter(
            self.TILE_SIZE,
            "Tile size",
            "Side, in pixels, of the square tiles read and classified one at a time; memory use grows with it.",
            256,
            minimum=16,
            maximum=8192,
            advanced=True,
        )
        self.add_number_parameter(
            self.BATCH_SIZE,
            "Batch size",
            "Pixels classified per model call. Default (empty): chosen from the model's size and band count "
            "to keep the work in the processor's caches. On a GPU that runs out of memory the batch is "
            "halved automatically.",
            None,
            minimum=1,
            advanced=True,
            optional=True,
        )
        self.add_device_parameter()
        self.add_precision_parameter()
        self.add_with_help(
            QgsProcessingParameterRasterDestination(self.OUTPUT, "Land-cover map"),
            "The land-cover GeoTIFF: class values (0 = no data) with the model's class names and "
            "colours, and a .qml style beside it.",
        )
        self.add_with_help(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_CONFIDENCE, "Confidence", optional=True, createByDefault=False
            ),
            "Optional: a GeoTIFF with, for each pixel, the model's probability (0 to 1) of the class it chose.",
        )

    def execute(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback,
                hooks: Hooks) -> Dict[str, Any]:
        from ..mrs_qgis_plugin.jobs import classify_job
        from ..mrs_qgis_plugin.styling import style_when_loaded

        # Processing loads an output into the project under the path it was given here.
        outputs = [
            self.parameterAsOutputLayer(parameters, name, context) for name in (self.OUTPUT, self.OUTPUT_CONFIDENCE)
        ]
        summary = classify_job(
            self.parameterAsFile(parameters, self.MODEL, context),
            self.layers(parameters, context),
            output=outputs[0],
            confidence=outputs[1] or None,
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context) if is_given(parameters, self.BATCH_SIZE) else None,
            device=str(self.device(parameters, context, hooks)),
            precision=self.precision(parameters, context),
            hooks=hooks,
            extent=self.extent(parameters, context),
        )
        for path in outputs:
            style_when_loaded(context, path)
        return {self.OUTPUT: summary["class_path"], self.OUTPUT_CONFIDENCE: summary["confidence_path"]}
