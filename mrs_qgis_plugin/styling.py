"""Styling the rasters an algorithm writes when Processing loads them into a project.

The raster writers put a `.qml` style beside every map they write (a paletted
renderer with the class names and colours for a class map, a colour ramp for a
confidence raster). Processing loads an output into the project only after the
algorithm has finished (Toolbox with "Open output file", `runAndLoadResults`,
a model run from its dialog), and calls the post-processor registered for it
then, in the main thread; the post-processor applies that style.
"""

from typing import List

from qgis.core import (
    QgsMapLayer,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
)

from .raster.writers import qml_path


class StyleFromSidecar(QgsProcessingLayerPostProcessorInterface):
    """Applies a raster's `.qml` sidecar to the layer Processing has just loaded."""

    def __init__(self, style_path: str) -> None:
        super().__init__()
        self.style_path = style_path

    def postProcessLayer(  # noqa: N802 - QGIS API name
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        _PENDING.remove(self)
        message, loaded = layer.loadNamedStyle(self.style_path)
        if not loaded:
            feedback.reportError(f"The style {self.style_path} could not be applied to '{layer.name()}': {message}")
            return
        layer.triggerRepaint()


# Processing holds a post-processor by a C++ pointer only: Python keeps each one
# alive here until it has run.
_PENDING: List[StyleFromSidecar] = []


def style_when_loaded(context: QgsProcessingContext, raster_path: str) -> bool:
    """Have the raster at `raster_path` styled by its `.qml` sidecar when Processing loads it;
    False when Processing will not load it (a plain file output, qgis_process)."""
    if not raster_path or not context.willLoadLayerOnCompletion(raster_path):
        return False
    processor = StyleFromSidecar(qml_path(raster_path))
    _PENDING.append(processor)
    context.layerToLoadOnCompletionDetails(raster_path).setPostProcessor(processor)
    return True
