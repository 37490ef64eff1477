"""The layers a job reads, as the front ends give them: the scene's rasters (`Layers`) and the
labels (`LabelSource`), with the tags a class map keeps of its labels. No torch, for the analysis
jobs."""

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from ..model_core.errors import InputError
from ..model_core.hooks import Hooks
from .raster import absolute, split_source
from .raster.label_raster import labels_from_raster
from .raster.labels import LabelledPixels
from .raster.sources import RasterInput, Scene
from .raster.vector_labels import labels_from_vector


@dataclass(frozen=True)
class Layers:
    hsi: RasterInput
    aux: Sequence[RasterInput]

    def open(self, hooks: Hooks) -> Scene:
        return Scene.open(self.hsi, list(self.aux), hooks)

    def inputs(self) -> Dict[str, List[str]]:
        """The files of the layers by parameter, for `claim_outputs`."""
        return {"INPUT_HSI": [self.hsi.path], "INPUT_AUX": [item.path for item in self.aux]}


@dataclass(frozen=True)
class LabelSource:
    """Reference or training labels: a vector layer and its class field, or a label raster."""

    name: str
    vector_path: Optional[str] = None
    class_field: Optional[str] = None
    name_field: Optional[str] = None
    raster_path: Optional[str] = None
    color_field: Optional[str] = None
    raster_operation: str = ""
    """The label raster's coordinate operation to the grid (`RasterInput.operation`)."""
    origin: str = ""
    """The file layer whose copy `vector_path` is (`VectorInput.origin`), '' for none."""
    taken: str = ""
    """What of it the copy holds, or what layer it is of (`VectorInput.taken`), '' for its file's features."""

    def inputs(self, vector_param: str, raster_param: str) -> Dict[str, List[Optional[str]]]:
        """The labels' file under the name of the parameter that gave it, for `claim_outputs`."""
        return {raster_param: [self.raster_path]} if self.raster_path else {vector_param: [self.vector_path]}

    def source(self) -> str:
        """The labels' layer as one string: its file's absolute path (and, for a vector source
        such as 'file.gpkg|layername=x', the layer), the same however the path was written; the
        layer given where the plugin read a copy of it, with what of it the copy held ('... (its 90
        selected features)'); a layer without a file by its name and kind."""
        if self.taken and not self.origin and not self.raster_path:
            return f"'{self.name}' ({self.taken})"
        path, options = split_source(self.raster_path or self.origin or self.vector_path or "")
        taken = f" ({self.taken})" if self.taken and not self.raster_path else ""
        return "|".join([absolute(path), *options]) + taken if path else ""

    def read(self, scene: Any, hooks: Hooks, reference: bool = False) -> LabelledPixels:
        """The labelled pixels on the scene's grid; `reference`: for an assessment (`labelled_pixels`)."""
        if self.raster_path:
            return labels_from_raster(scene, self.raster_path, self.name, hooks, operation=self.raster_operation,
                                      reference=reference)
        if not self.class_field:
            raise InputError(f"No class field is chosen for the sample layer '{self.name}'. "
                             "Choose the field that holds the classes.")
        if self.taken:  # a selection of 150 of 210 points was logged as '150 labelled pixels' (desktop helper, 12-05)
            hooks.log(f"'{self.name}' is read as given: {self.taken}.")
        return labels_from_vector(scene, self.vector_path, None, self.class_field, self.name_field,
                                  self.name, hooks, color_field=self.color_field, reference=reference)


TRAINED_ON_TAG = "MRS_TRAINED_ON"
"""The class map's metadata item that names the labels its classifier was trained on
(`LabelSource.source`), so that mrs:accuracy can tell when a reference is those labels."""

NUMBERED_FROM_NAMES_TAG = "MRS_CLASSES_NUMBERED_FROM_NAMES"
"""A class map's tag, 'yes' when its classifier numbered its classes from their names (a text class
field), so that its values stand for nothing a reference's values could."""

TAKEN_NOTE = re.compile(r" \((?:its |with its )[^()]*\)$")
"""What of a layer a copy of it held, as `LabelSource.source` notes it ('... (its 90 selected features)')."""


def same_layer(first: Optional[str], second: Optional[str]) -> bool:
    """Whether two `LabelSource.source` strings name one layer: the same file, and the same layer
    of it where both name one. A source without a layer name ('file.gpkg', read as its first
    layer) is taken to match any layer of its file: the warning it serves errs towards saying so."""
    if not first or not second:
        return False
    first, second = (TAKEN_NOTE.sub("", source) for source in (first, second))  # a selection of the layer is of it
    (first_file, first_layer), (second_file, second_layer) = split_source(first), split_source(second)
    return first_file == second_file and (not first_layer or not second_layer or first_layer == second_layer)
