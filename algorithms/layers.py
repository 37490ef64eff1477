"""QGIS layer values as the engine's inputs, and the sentence that says why one is refused."""

import os
from typing import Any, Optional

from qgis.core import QgsMapLayer, QgsProcessingContext, QgsProcessingUtils, QgsRasterLayer, QgsVectorLayer

from ..model_core.errors import InputError
from ..mrs_qgis_plugin import parameters as spec

LAYER_KINDS = {spec.RASTER: "raster", spec.RASTERS: "raster", spec.VECTOR: "vector"}


def _unreadable_layer(name: str, value: Any, kind: str, context: QgsProcessingContext) -> Optional[str]:
    """Why a layer value cannot be loaded (missing file, unreadable file), or None when it can."""
    if isinstance(value, QgsMapLayer) or not isinstance(value, str):
        return None
    path = value.split("|")[0]
    if kind == "raster":
        from ..mrs_qgis_plugin.raster.gdal_io import variables_problem

        problem = variables_problem(path, f"{name}: '{value}'")
        if problem:
            return problem
    layer = QgsProcessingUtils.mapLayerFromString(value, context)
    if layer is not None:
        loaded = ("raster" if isinstance(layer, QgsRasterLayer) else
                  "vector" if isinstance(layer, QgsVectorLayer) else kind)
        return None if loaded == kind else (f"{name}: '{value}' is a {loaded} layer, not a {kind} layer. "
                                            f"Choose a {kind} layer or file.")
    if not os.path.exists(path) and "://" not in path and not path.startswith("/vsi"):
        return (f"{name}: '{value}' is neither a layer of the project nor an existing file. "
                f"Choose a {kind} layer or file.")
    return f"{name}: '{value}' cannot be opened as a {kind} layer. Choose a {kind} layer or file that QGIS can read."


def refused_layer_message(parameter: spec.Parameter, value: Any, context: QgsProcessingContext) -> str:
    """A sentence saying why Processing refuses a layer or file value and what to give instead,
    in place of Processing's own "Incorrect parameter value for X"."""
    kind = LAYER_KINDS.get(parameter.kind)
    if kind:
        values = value if isinstance(value, (list, tuple)) else [value]
        problems = (_unreadable_layer(parameter.name, item, kind, context) for item in values)
        problem = next((text for text in problems if text), None)
        if problem:
            return problem
    return f"{parameter.name} ({parameter.description}): the value {value!r} is not accepted; see the parameter's help."


def raster_input_of(layer: Optional[QgsMapLayer], parameter: str) -> Any:
    """A raster layer as the pipeline's `RasterInput`; only layers of QGIS' GDAL provider have
    a source that GDAL itself opens."""
    from ..mrs_qgis_plugin.raster.sources import RasterInput

    if layer is None or not layer.isValid():
        raise InputError(f"{parameter}: the layer cannot be opened as a raster. Choose a raster layer or file.")
    if not isinstance(layer, QgsRasterLayer):
        from ..mrs_qgis_plugin.raster.gdal_io import variables_problem

        raise InputError(variables_problem(layer.source().split("|")[0], f"{parameter}: '{layer.name()}'")
                         or f"{parameter}: '{layer.name()}' is not a raster layer. Choose a raster layer.")
    if layer.providerType() != "gdal":
        raise InputError(
            f"{parameter}: the layer '{layer.name()}' comes from QGIS' '{layer.providerType()}' data provider, "
            "which the MRS algorithms cannot read. Save it as a GeoTIFF (Export > Save As...) and choose that file."
        )
    return RasterInput(layer.source(), layer.name())
