"""Write the plugin's synthetic scene and add it to the project, so that every algorithm can be tried
without data of one's own."""

import os
from typing import Any, Dict

from qgis.core import QgsProcessingContext

from ..mrs_qgis_plugin.job_parameters import DEMO_SCENE, DEMO_SCENE_LAYERS
from .base import MrsAlgorithm


class DemoSceneAlgorithm(MrsAlgorithm):
    JOB = DEMO_SCENE

    def finish(self, values: Dict[str, Any], context: QgsProcessingContext) -> None:
        """Have the scene's layers loaded into the project, styled, when the run is done."""
        from ..mrs_qgis_plugin.raster.outputs import qml_path
        from ..mrs_qgis_plugin.styling import class_points_style, style_when_loaded
        from ..mrs_qgis_plugin.synthetic_scene import CLASSES

        for name, (file_name, layer_name) in DEMO_SCENE_LAYERS.items():
            path = os.path.join(os.path.abspath(values["OUTPUT"]), file_name)
            if os.path.exists(path):
                context.addLayerToLoadOnCompletion(
                    path, QgsProcessingContext.LayerDetails(layer_name, context.project(), name))
                if os.path.exists(qml_path(path)):
                    style_when_loaded(context, path)
                elif name == "TRAIN_POINTS":
                    style_when_loaded(context, path, class_points_style("class_id", CLASSES))
