"""Styling the layers an algorithm writes when Processing loads them into a project.

The raster writers put a `.qml` style beside every map they write (a paletted
renderer with the class names and colours for a class map, a colour ramp for a
confidence raster); the points of 'Where to label next' get a style made here.
Processing loads an output into the project only after the algorithm has finished
(Toolbox with "Open output file", `runAndLoadResults`, a model run from its
dialog), and calls the post-processor registered for it then, in the main thread;
the post-processor applies the style.
"""

import os
from typing import Any, Callable, List, Optional, Sequence

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsMapLayer,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRendererCategory,
    QgsSingleSymbolRenderer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor

from .destinations import in_qgis_temporary_folder
from .raster.outputs import qml_path

# Magenta: no class colour of the plugin's palettes, visible on every one of them.
SUGGESTION_COLOR = "#e6007e"
# Applies a style to a layer; returns why it could not, or "".
Styler = Callable[[QgsMapLayer], str]


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Styles the layer Processing has just loaded."""

    def __init__(self, styler: Styler) -> None:
        super().__init__()
        self.styler = styler

    def postProcessLayer(  # noqa: N802 - QGIS API name
        self, layer: QgsMapLayer, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> None:
        _PENDING.remove(self)
        # Processing reuses a loaded layer of a file written over, which went on reading the earlier
        # file (its histogram, Identify, the .aux.xml its closing wrote back: desktop helper of 2026-12-05).
        layer.reload()
        problem = self.styler(layer)
        if problem:
            feedback.reportError(problem)
            return
        layer.triggerRepaint()


# Processing holds a post-processor by a C++ pointer only: Python keeps each one
# alive here until it has run.
_PENDING: List[StyleOnLoad] = []


def sidecar_style(raster_path: str) -> Styler:
    """The raster's `.qml` sidecar, written beside it by the raster writers."""
    style_path = qml_path(raster_path)

    def apply(layer: QgsMapLayer) -> str:
        if not os.path.isfile(style_path):  # QGIS says 'Style not found in database' (a helper's audit of 2026-12-07)
            return f"The style {style_path} could not be applied to '{layer.name()}': the file does not exist."
        message, loaded = layer.loadNamedStyle(style_path)
        return "" if loaded else f"The style {style_path} could not be applied to '{layer.name()}': {message}"

    return apply


def suggestion_style(layer: QgsMapLayer) -> str:
    """Suggested points: open magenta circles, so that the map shows through, labelled with their rank."""
    symbol = QgsMarkerSymbol.createSimple({"name": "circle", "color": "255,255,255,0", "outline_color": SUGGESTION_COLOR,
                                           "outline_width": "0.8", "size": "4"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    labels = QgsPalLayerSettings()
    labels.fieldName = "mrs_rank" if layer.fields().indexOf("mrs_rank") >= 0 else "rank"
    labels.placement = QgsPalLayerSettings.AroundPoint
    text = QgsTextFormat()
    text.setSize(9)
    text.setColor(QColor(SUGGESTION_COLOR))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setColor(QColor("white"))
    text.setBuffer(buffer)
    labels.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(labels))
    layer.setLabelsEnabled(True)
    return ""


def class_points_style(field: str, classes: Sequence[Any]) -> Styler:
    """Points coloured by their class (`field`), with each class's name and colour (`value`, `name`,
    `color` of `classes`), as a legend of the samples."""
    def apply(layer: QgsMapLayer) -> str:
        categories = [QgsRendererCategory(item.value, QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": item.color, "outline_color": "white", "outline_width": "0.3", "size": "2.4"}),
            item.name) for item in classes]
        layer.setRenderer(QgsCategorizedSymbolRenderer(field, categories))
        return ""

    return apply


def name_after_file(context: QgsProcessingContext, path: str, described: str) -> None:
    """Names the layer Processing loads from `path` '<described> (<its file's name>)': two maps of one
    algorithm were both 'Land-cover map' in the Layers panel, their files told apart nowhere (a
    helper's desktop check of 2026-12-06). A temporary file, named for its parameter, is named
    '<described>' alone: the workflow's map was 'LANDCOVER', its output's name in the model (a
    helper's desktop check of the ninth session)."""
    if not path or not context.willLoadLayerOnCompletion(path):
        return
    stem = os.path.splitext(os.path.basename(path))[0]
    temporary = in_qgis_temporary_folder(path)
    context.layerToLoadOnCompletionDetails(path).name = described if temporary else f"{described} ({stem})"


def style_when_loaded(context: QgsProcessingContext, path: str, styler: Optional[Styler] = None) -> bool:
    """Have the layer at `path` styled by `styler` (by default a raster's `.qml` sidecar) when Processing
    loads it; False when Processing will not load it (a plain file output, qgis_process)."""
    if not path or not context.willLoadLayerOnCompletion(path):
        return False
    processor = StyleOnLoad(styler or sidecar_style(path))
    _PENDING.append(processor)
    context.layerToLoadOnCompletionDetails(path).setPostProcessor(processor)
    return True
