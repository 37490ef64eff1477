"""The shipped graphical-modeler workflow as an algorithm of the provider, so that it is in the Toolbox.

It is `resources/models/mrs_workflow.model3` as it is (pretrain -> fine-tune ->
classify -> accuracy): opening that file in the modeler and running
`mrs:workflow` do the same. Only its id, name and group are the provider's, and in
the desktop its model files default to files that outlive QGIS, as the single
algorithms' do.
"""

import dataclasses
import html
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from qgis.core import (QgsCoordinateTransform, QgsCsException, QgsMapLayer, QgsProcessing, QgsProcessingContext,
                       QgsProcessingException, QgsProcessingFeatureSource, QgsProcessingFeatureSourceDefinition,
                       QgsProcessingFeedback, QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource, QgsProcessingOutputNumber,
                       QgsProcessingParameterDefinition, QgsProcessingParameterNumber, QgsProcessingUtils,
                       QgsVectorLayer)
from qgis.PyQt.QtCore import Qt, QVariant
from qgis.PyQt.QtGui import QIcon

from ..model_core.choices import PHASES
from ..model_core.errors import InputError, MrsError
from ..model_core.names import agreeing, joined
from ..model_core.paths import file_state
from ..mrs_qgis_plugin import parameters as spec
from ..mrs_qgis_plugin.dependencies import missing_dependencies_message
from ..mrs_qgis_plugin.destinations import default_output_path, refuse_a_proposed_name_taken
from ..mrs_qgis_plugin.job_parameters import ACCURACY_REPORT, JOBS
from ..mrs_qgis_plugin.parameters import MODEL_FILE_EXTENSION
from ..mrs_qgis_plugin.raster.classes import spelt_as
from ..mrs_qgis_plugin.raster.outputs import GEOTIFF_EXTENSIONS, claim_outputs, refuse_shared_outputs
from .base import (GROUPS, ICON_PATH, TEMPORARY_TOLD, WORKFLOW_NAMES, WORKFLOW_STEP, check_unless_checked,
                   checked_output_files, checkpoints_of, device_widget_metadata, given_values_problem,
                   gone_with_qgis_process, help_url, on_command_line, plain_value, record_checked,
                   suggestions_field_problem, tr, value_problem)
from .layers import (corners, hyperspectral_problem, labelled_pixels_problem, no_features_problem, rasters_loaded,
                     unreadable_layer, vector_layer_name)

WORKFLOW_FILE = Path(__file__).resolve().parents[1] / "resources" / "models" / "mrs_workflow.model3"
# Model outputs of the workflow that are model files, and the file name each defaults to.
MODEL_OUTPUTS = {"pretrain:PRETRAINED": "pretrained_model", "finetune:CLASSIFIER": "classifier_model"}
TEMPORARY_OUTPUT = QgsProcessing.TEMPORARY_OUTPUT
STEPS = ("pretrain", "finetune", "classify", "accuracy")
"""The workflow's steps (its child algorithms' ids) in the order they run."""
LAYER_TYPES = {"raster": "raster", "multilayer": "raster", "source": "vector", "vector": "vector"}
"""Processing's type names of the workflow's layer parameters, and the kind of layer each takes."""


def _source(value: Any, context: QgsProcessingContext) -> Optional[str]:
    """The source of a layer value: a layer's, a project layer's (by id or name), or the path given."""
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source.staticValue()
    if isinstance(value, str) and value:
        value = QgsProcessingUtils.mapLayerFromString(value, context, False) or value
    if isinstance(value, QgsMapLayer):
        value = value.source()
    return value if isinstance(value, str) and value else None


def _part_of(value: Any, context: QgsProcessingContext) -> Tuple[Optional[str], int]:
    """Which features of its layer a value names beyond the layer's source: the id of the layer whose
    selected features it takes (the value's own text where no layer of the project has it; None for
    every feature), and its feature limit (-1 for none)."""
    if not isinstance(value, QgsProcessingFeatureSourceDefinition):
        return None, -1
    if not value.selectedFeaturesOnly:
        return None, value.featureLimit
    layer = QgsProcessingUtils.mapLayerFromString(value.source.staticValue(), context, False)
    return layer.id() if layer is not None else str(value.source.staticValue()), value.featureLimit


def _training_labels_as_reference(parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[str]:
    """The fine-tuning's labels given as the reference too, or a part of them (a subset, a selection or
    the first features of the layer the training reads whole); classes read from two fields of one
    layer, and two parts of one layer, apart: all four steps ran, and the accuracy step only warned that
    its figures were the classifier's own samples' (a helper's red team of 2026-12-06). A vector layer
    by its path and by its first layer's name is one layer, and so is one selection given twice (a
    review of 2026-12-06)."""
    from ..mrs_qgis_plugin.raster import split_source
    from ..mrs_qgis_plugin.raster.outputs import same_file  # GDAL: not at plugin load
    from ..mrs_qgis_plugin.raster.vector_labels import read_layer

    for training, reference, fields in (("LABELS", "REFERENCE_LABELS", ()),
                                        ("SAMPLES", "REFERENCE", ("CLASS_FIELD", "REFERENCE_FIELD"))):
        values = [parameters.get(training), parameters.get(reference)]
        if len({str(parameters.get(field) or "").casefold() for field in fields}) > 1:
            continue  # one layer of training and reference classes in two fields (a review of 2026-12-06)
        sources = [_source(value, context) for value in values]
        if None in sources or not same_file(*(split_source(source)[0] for source in sources)):
            continue  # two files: neither is opened (a review of 2026-12-06: 2 s for a large GeoJSON)
        parts = [_part_of(value, context) for value in values]
        read = [read_layer(source) for source in sources] if fields else [None, None]
        if None in read:  # a raster, or a source OGR cannot read: compared as given
            (trained, referred), whole = [tuple(split_source(source)[1]) for source in sources], False
        else:  # (layer name, subset): every feature of its layer trains where it has no subset, selection or limit
            (trained, referred), whole = [layer[1:] for layer in read], not read[0][2] and parts[0] == (None, -1)
        same = trained == referred and parts[0] == parts[1]
        if same or whole and trained[0] == referred[0]:
            said = "is also" if same else "holds only features of"
            return (f"{reference}: '{sources[1]}' {said} {training}, the labels the classifier learns from; its "
                    "figures would say how well it learnt them, not how right the map is. Give a reference of "
                    "other pixels (labels kept apart from the training ones).")
    return None


class _StepsFeedback(QgsProcessingFeedback):
    """The workflow's feedback as its steps report to it: every line passed on, and the errors they report
    held (`pass_errors_on`), so that a step's refusal ends the workflow in its own words, once, not in QGIS's
    'Error encountered while running Train classifier (fine-tune)', which was all that processing.run's
    exception said (the sentence, passed on as it came, was said twice: a desktop helper of 2026-12-06)."""

    def __init__(self, outer: QgsProcessingFeedback) -> None:
        super().__init__(False)
        self.outer, self.errors = outer, []
        outer.canceled.connect(self.cancel, Qt.DirectConnection)  # a step's thread may have no event loop (review)
        if outer.isCanceled():
            self.cancel()
        self.progressChanged.connect(outer.setProgress)

    def setProgressText(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.outer.setProgressText(text)

    def pushInfo(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.outer.pushInfo(text)

    def pushWarning(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.outer.pushWarning(text)

    def pushDebugInfo(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.outer.pushDebugInfo(text)

    def pushCommandInfo(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.outer.pushCommandInfo(text)

    def pushConsoleInfo(self, text: str) -> None:  # noqa: N802 - QGIS API name
        self.outer.pushConsoleInfo(text)

    def pushVersionInfo(self, provider: Any = None) -> None:  # noqa: N802 - QGIS API name
        self.outer.pushVersionInfo(provider)

    def reportError(self, text: str, fatalError: bool = False) -> None:  # noqa: N802,N803 - QGIS API names
        self.errors.append((text, fatalError))

    def pass_errors_on(self, keep_last: bool = False) -> Optional[str]:
        """Reports the errors held to the workflow's feedback, but for the last one with `keep_last`,
        which is returned for the workflow to raise."""
        held, self.errors = self.errors, []
        last = held.pop()[0] if keep_last and held else None
        for text, fatal in held:
            self.outer.reportError(text, fatal)
        return last


def _number_note(definition: QgsProcessingParameterNumber) -> str:
    """A number parameter's default and bounds, as the single algorithms' help says them on the command line."""
    integer = definition.dataType() == QgsProcessingParameterNumber.Integer
    default = definition.defaultValue()
    low, high = definition.minimum(), definition.maximum()  # unset: -+DBL_MAX; a whole number's limit goes unsaid
    return spec.Parameter(definition.name(), definition.description(), spec.INTEGER if integer else spec.NUMBER, "",
                          default=None if default is None else int(default) if integer else float(default),
                          minimum=low if low > -1e300 else None,
                          maximum=high if high < (spec.INTEGER_LIMIT if integer else 1e300) else None
                          ).command_line_note()


def _say_earlier_results(earlier: Dict[str, Optional[Tuple[int, int, int]]], outputs: Dict[str, str],
                         feedback: QgsProcessingFeedback) -> None:
    """Warns of the outputs that a run stopped before writing (canceled, or a step failed) whose files
    hold an earlier run's results (session of 2026-12-05: a run canceled in its classification left
    the earlier run's map and report beside its new classifier, without a word). `earlier` holds the
    checkpoints too, which are no outputs (a checkpoint there before the run ended the run in a KeyError:
    a helper's audit of 2026-12-06)."""
    stale = sorted((name for name, path in outputs.items()
                    if earlier[name] is not None and file_state(path) == earlier[name]),
                   key=lambda name: (_step_order(name), name))
    if stale:
        feedback.pushWarning(f"The workflow stopped before it wrote {joined(stale)}: "
                             f"{agreeing(len(stale), 'its file', 'their files')} "
                             f"({', '.join(outputs[name] for name in stale)}) still "
                             f"{agreeing(len(stale), 'holds', 'hold')} an earlier run's results, not this run's: run it "
                             "again to replace them, or delete them.")


def _holds_no_label(path: str) -> bool:
    """Whether a label raster's first band holds nothing but 0 and nodata: GDAL's approximate
    extremes first (its overviews or a sample of blocks), which settle it wherever they find a
    label, then its exact ones, read whole. One GDAL cannot read is not said to be empty: the step
    that reads it says why (review of 2026-12-05)."""
    from osgeo import gdal  # GDAL: not at plugin load

    from ..mrs_qgis_plugin.raster.gdal_io import gdal_quiet, read_call

    with gdal_quiet():
        dataset = gdal.Open(path)
        band = dataset.GetRasterBand(1) if dataset is not None else None
        for approximate in (True, False):
            extremes, message = read_call(band.ComputeRasterMinMax, approximate) if band is not None else (None, "")
            if extremes is not None and max(abs(extremes[0]), abs(extremes[1])) > 0:
                return False
    return extremes is not None or "no valid pixels" in message.lower()


def _only_class(path: str) -> Optional[float]:
    """The one class value of a label raster of whole numbers of 8 or 16 bits whose labelled pixels (not 0, not
    nodata) all hold it, from GDAL's exact histogram; None for two classes or more, or where it cannot be told
    cheaply (other types: the step counts them)."""
    from osgeo import gdal  # GDAL: not at plugin load

    from ..mrs_qgis_plugin.raster.gdal_io import gdal_quiet, read_call

    with gdal_quiet():
        dataset = gdal.Open(path)
        band = dataset.GetRasterBand(1) if dataset is not None else None
        if band is None or band.DataType not in (gdal.GDT_Byte, gdal.GDT_UInt16):
            return None
        size = 256 if band.DataType == gdal.GDT_Byte else 65536
        counts, _message = read_call(band.GetHistogram, -0.5, size - 0.5, size, False, False)
    if not counts:
        return None
    nodata = band.GetNoDataValue()
    present = [value for value, count in enumerate(counts) if count and value != 0 and value != nodata]
    return float(present[0]) if len(present) == 1 else None


def _overlaps(layer: QgsMapLayer, hsi: QgsMapLayer, context: QgsProcessingContext) -> bool:
    """Whether a layer's extent meets the hyperspectral layer's, in its CRS (True where it cannot be
    told: a layer or scene without a CRS, an extent that cannot be transformed, no features)."""
    extent = layer.extent()  # a line of points has an extent of no height (QGIS calls it empty)
    if extent.isNull() or (isinstance(layer, QgsVectorLayer) and layer.featureCount() == 0):
        return True
    if not (layer.crs().isValid() and hsi.crs().isValid()):  # a raster of the scene's size without one is aligned
        return True
    try:
        if layer.crs() != hsi.crs():
            extent = QgsCoordinateTransform(layer.crs(), hsi.crs(), context.transformContext()).transformBoundingBox(extent)
    except QgsCsException:
        return True
    return extent.intersects(hsi.extent())


def _labels_over(layer: QgsMapLayer, source: Any, hsi: QgsMapLayer, context: QgsProcessingContext) -> bool:
    """Whether a label raster holds a labelled pixel, or a vector `source` a feature, within the hyperspectral
    layer's extent (edges touching it count; True where it cannot be told): labels all beside the scene, in an
    extent that meets it, were refused by their step after the pretraining and training (a desktop helper's
    red team of 2026-12-06)."""
    from qgis.core import QgsFeatureRequest

    area = hsi.extent()
    try:
        if layer.crs().isValid() and hsi.crs().isValid() and layer.crs() != hsi.crs():
            area = QgsCoordinateTransform(hsi.crs(), layer.crs(), context.transformContext()).transformBoundingBox(area)
    except QgsCsException:
        return True
    if source is not None:  # invalid geometries are the step's to read: QGIS's default check aborted QGIS (review)
        request = QgsFeatureRequest().setFilterRect(area).setNoAttributes().setLimit(1)
        return any(True for _feature in source.getFeatures(request,
                                                          QgsProcessingFeatureSource.FlagSkipGeometryValidityChecks))
    if not (layer.crs().isValid() and hsi.crs().isValid()):  # a raster without one lies on the scene's pixels
        return True
    return _raster_labels_within(layer.source(), corners(area))


def _class_field_problem(source: QgsProcessingFeatureSource, name: str, parameters: Dict[str, Any],
                         layer: Optional[QgsMapLayer]) -> Optional[str]:
    """`class_values_problem` of the class field of the samples (SAMPLES) or reference (REFERENCE) that
    `source` gives: refused by their step after the pretraining (a helper's red team of 2026-12-06: a
    class field of NULLs, zeros, negatives or one class)."""
    from ..mrs_qgis_plugin.raster.vector_labels import class_values_problem, no_classes_field  # GDAL: not at load

    field = parameters.get("CLASS_FIELD" if name == "SAMPLES" else "REFERENCE_FIELD")
    # found as the steps find it, 'CLASS_ID' as class_id (a helper's mutation audit of 2026-12-07)
    found = spelt_as(source.fields().names(), field) if isinstance(field, str) else []
    if len(found) != 1:  # the step's check says a missing field, or one of several spellings
        return None
    index = found[0]
    shown = vector_layer_name(layer, name) if layer is not None else source.sourceName()
    kind = source.fields().at(index).type()
    if kind in _NOT_CLASSES:  # as the step says it (a review of 2026-12-06: a boolean was said to hold 0)
        return no_classes_field(_NOT_CLASSES[kind], field, shown)
    integer = kind in (QVariant.Int, QVariant.UInt, QVariant.LongLong, QVariant.ULongLong, QVariant.Double)
    values = [value for value in source.uniqueValues(index) if value is not None and not (
        isinstance(value, QVariant) and value.isNull())]
    return class_values_problem(values, integer, field, shown, "SAMPLES" if name == "SAMPLES" else "")


_NOT_CLASSES = {QVariant.Bool: "a yes/no (boolean) field", QVariant.Date: "a date field",
                QVariant.DateTime: "a date and time field", QVariant.Time: "a time field",
                QVariant.ByteArray: "a field of binary data", QVariant.List: "a field of lists",
                QVariant.StringList: "a field of lists"}
"""The QGIS field types of `vector_labels._NOT_CLASSES`, which hold no classes."""


def _raster_labels_within(path: str, bounds: Tuple[float, float, float, float]) -> bool:
    """Whether a label raster's first band holds a label (not 0, not nodata) in the pixels that `bounds` (xmin,
    ymin, xmax, ymax, in its CRS) touches, read a strip at a time until one is found; True where it cannot be
    told (a rotated raster, one GDAL cannot read: the step says why)."""
    import math

    import numpy as np
    from osgeo import gdal  # GDAL: not at plugin load

    from ..mrs_qgis_plugin.raster.gdal_io import gdal_quiet, read_call

    with gdal_quiet():
        dataset = gdal.Open(path)
        placed = dataset.GetGeoTransform(can_return_null=True) if dataset is not None else None
        if placed is None:
            return True
        x0, dx, rx, y0, ry, dy = placed
        if rx or ry or not dx or not dy:
            return True
        xmin, ymin, xmax, ymax = bounds
        cols = sorted(((xmin - x0) / dx, (xmax - x0) / dx))
        rows = sorted(((ymin - y0) / dy, (ymax - y0) / dy))
        col0, col1 = max(math.floor(cols[0]), 0), min(math.ceil(cols[1]), dataset.RasterXSize)
        row0, row1 = max(math.floor(rows[0]), 0), min(math.ceil(rows[1]), dataset.RasterYSize)
        if col1 <= col0 or row1 <= row0:
            return False
        band = dataset.GetRasterBand(1)
        nodata = band.GetNoDataValue()
        for row in range(row0, row1, 256):
            block, _message = read_call(band.ReadAsArray, col0, row, col1 - col0, min(256, row1 - row))
            if block is None:
                return True
            if np.any((block != 0) & np.isfinite(block) & ((block != nodata) if nodata is not None else True)):
                return True
    return False


def _say_kept_results(earlier: Dict[str, Optional[Tuple[int, int, int]]], outputs: Dict[str, str],
                      feedback: QgsProcessingFeedback) -> None:
    """Says which outputs a run that stopped (failed or canceled) wrote and keeps, and the steps
    left to run alone to finish (red team of 2026-12-05: a failed classification said nothing of
    the pretrained model and classifier it had written)."""
    kept, gone = gone_with_qgis_process({name: outputs[name] for name in _written_now(earlier, outputs)})
    if gone:
        feedback.pushWarning(gone)
    written = list(kept)
    if not written:
        return
    after = [f"mrs:{step}" for step in STEPS[max(_step_order(name) for name in written) + 1:]]
    names = ", ".join(f"{name} ({outputs[name]})" for name in written)
    rest = f": run the steps left alone ({', then '.join(after)}) to finish" if after else ""
    feedback.pushWarning(f"This run wrote {names} before it stopped; {agreeing(len(written), 'it is', 'they are')} "
                         f"kept{rest}.")


def _say_kept_checkpoints(earlier: Dict[str, Optional[Tuple[int, int, int]]], outputs: Dict[str, str],
                          feedback: QgsProcessingFeedback) -> None:
    """Says how a training step's checkpoint that a stopped run wrote resumes: the step's own words
    name its RESUME, which the workflow does not have (desktop helper of 2026-12-05); not one that
    holds no batch, which a rerun of the workflow replaces (a helper's red team of 2026-12-07: it was
    to be resumed with the step alone)."""
    from ..mrs_qgis_plugin.jobs import holds_progress

    written = {name: path for name, path in WorkflowAlgorithm._checkpoints(outputs).items()
               if file_state(path) not in (None, earlier.get(name)) and holds_progress(path)}
    kept, gone = gone_with_qgis_process(written)
    if gone:
        feedback.pushWarning(gone)
    for name, path in kept.items():
        step = name.split(":")[0]
        after = ", then ".join(f"mrs:{later}" for later in STEPS[STEPS.index(step) + 1:])
        training = dict(zip(STEPS, PHASES))[step]
        feedback.pushWarning(f"The {training}'s checkpoint {path} is kept, which the workflow does not resume (the "
                             "RESUME that the step's own line names is the step's, not the workflow's): resume it "
                             f"with mrs:{step} alone (its RESUME set to that file, with the workflow's "
                             f"settings), then run the steps left alone ({after}), or delete it to start the "
                             "workflow afresh.")


def _written_now(earlier: Dict[str, Optional[Tuple[int, int, int]]], outputs: Dict[str, str]) -> List[str]:
    """The outputs this run wrote (their files changed since `earlier`), in the order of their steps."""
    return sorted((name for name, path in outputs.items() if file_state(path) not in (None, earlier[name])),
                  key=lambda name: (_step_order(name), name))


def _step_order(output: str) -> int:
    """Where the step that writes an output ('classify:LANDCOVER') runs in the workflow; last for
    an output named otherwise (a copy of the model's), as this runs while an error is on its way."""
    step = output.split(":")[0]
    return STEPS.index(step) if step in STEPS else len(STEPS)


class WorkflowAlgorithm(QgsProcessingModelAlgorithm):
    """`mrs:workflow`: the four steps in one run, from the model file shipped with the plugin."""

    def __init__(self) -> None:
        super().__init__()
        self.load()

    def load(self, outputs_optional: bool = False) -> None:
        """Reads the model file. Its steps' outputs are found only when its steps can be: an
        instance made while the provider loads (mrs:pretrain... come with the provider) loads
        again once the provider is registered (`MrsProvider`), with `outputs_optional`: qgis_process
        checks that instance's mandatory parameters before any run, and the outputs the steps need
        get their files in the run (`_given`)."""
        if not self.fromFile(str(WORKFLOW_FILE)):
            raise RuntimeError(f"The workflow {WORKFLOW_FILE} cannot be read; reinstall the plugin.")
        self.setSourceFilePath(str(WORKFLOW_FILE))
        for output in JOBS["accuracy"].outputs:  # qgis_process --json gave the files only (red team of 2026-12-06)
            self.addOutput(QgsProcessingOutputNumber(output.name, output.description))
        for name, stem in MODEL_OUTPUTS.items():
            definition = self.parameterDefinition(name)
            if definition is not None:
                definition.setDefaultValue(default_output_path(stem, MODEL_FILE_EXTENSION))
        # mrs:accuracy's report is optional, the workflow's is its product (a mandatory output of the model file): its
        # help said that the figures came without it (a desktop helper's check of 2026-12-07)
        report = self.parameterDefinition("accuracy:REPORT")
        if report is not None:
            report.setHelp(f"The assessment's report, {ACCURACY_REPORT}.")
        # a list of the devices, as in the single algorithms' dialogs (a text box: a desktop helper of 2026-12-06)
        self.parameterDefinition("DEVICE").setMetadata(device_widget_metadata())
        notes = {parameter.name: parameter.command_line_note() for job in JOBS.values() for parameter in job.parameters}
        for definition in self.parameterDefinitions() if on_command_line() else ():
            # as the steps' help says it (red team of 2026-12-04 and 05), a number's with the workflow's own default
            note = (_number_note(definition) if isinstance(definition, QgsProcessingParameterNumber)
                    else notes.get(definition.name(), ""))
            definition.setHelp(definition.help() + note)
        self.needed = [definition.name() for definition in self.destinationParameterDefinitions()
                       if not definition.flags() & QgsProcessingParameterDefinition.FlagOptional]
        for name in self.needed if outputs_optional else ():
            definition = self.parameterDefinition(name)
            definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagOptional)

    def _names_of(self, child: QgsProcessingModelChildAlgorithm) -> Dict[str, str]:
        """A step's parameter names as the workflow's user writes them: its own parameters' ('PRETRAIN_EPOCHS'
        for pretrain's EPOCHS) and its outputs' ('pretrain:PRETRAINED' for OUTPUT); '' for every other one, which
        the workflow sets itself (an earlier step's output it reads too: 'fine-tune from another
        pretrain:PRETRAINED model' was no advice; a desktop helper's red team of 2026-12-06), or leaves at its
        default (a helper's audit of 2026-12-06: pretrain's 'SAMPLES is 10 ... (BATCH_SIZE 128)' in a workflow
        whose SAMPLES are the training points and which has no BATCH_SIZE)."""
        names = {parameter.name: "" for parameter in JOBS[child.algorithmId().split(":")[-1]].parameters}
        names.update({output.childOutputName(): f"{child.childId()}:{name}"
                      for name, output in child.modelOutputs().items()})
        for name, sources in child.parameterSources().items():
            for source in sources:
                if source.source() == QgsProcessingModelChildParameterSource.ModelParameter:
                    names[name] = source.parameterName()
        return names

    def checkParameterValues(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext
    ) -> Tuple[bool, str]:
        """QGIS' checks, then what no single step can see before the first runs: a pair of
        labelled-pixel parameters given twice or not at all (the steps that read them come last),
        and an output of one step that is an input of the workflow (classify:LANDCOVER written
        over REFERENCE_LABELS, which only the accuracy step, after it, would have refused). The
        layers they load write nothing beside their files (`inputs_left_untouched`)."""
        from ..mrs_qgis_plugin.raster.gdal_io import inputs_left_untouched

        with inputs_left_untouched():
            ok, problem = self._check_parameter_values(parameters, context)
        if ok:
            record_checked(self, context)
        return ok, problem

    def _check_parameter_values(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Tuple[bool, str]:
        # its checks read model files with torch: without it, a traceback (a helper's red team of 2026-12-05)
        layer_kinds = {item.name(): LAYER_TYPES[item.type()] for item in self.parameterDefinitions()
                       if item.type() in LAYER_TYPES}
        problem = (missing_dependencies_message()
                   or given_values_problem(self, "mrs:workflow", parameters, layer_kinds, context)
                   or self._listed_problem(parameters)
                   or self._step_values_problem(parameters, context)
                   or hyperspectral_problem(self, parameters, context)
                   or self._missing_layers_problem(parameters)
                   or self._unreadable_layers_problem(parameters, context))
        if problem:
            return False, problem
        rasters_loaded(parameters.get("INPUT_AUX"), context)  # so that QGIS' check finds them (`rasters_loaded`)
        checked = super().checkParameterValues(self._given(parameters), context)
        if not checked[0]:
            return checked
        for job in (JOBS["finetune"], JOBS["accuracy"]):
            problem = labelled_pixels_problem(job, parameters)
            if problem:
                return False, problem
        problem = self._fields_problem(parameters, context) or _training_labels_as_reference(parameters, context)
        if problem:
            return False, problem
        try:
            self._check_label_rasters(parameters, context)
            outputs = checked_output_files(self, parameters)
            refuse_shared_outputs(outputs)
            refuse_shared_outputs({**self._checkpoints(outputs), **outputs})
            claim_outputs(outputs, self._input_layers(parameters, context), distinct={})
            self._check_replaceable(outputs)
        except MrsError as error:
            return False, str(error)
        return checked

    @staticmethod
    def _checkpoints(outputs: Dict[str, str]) -> Dict[str, str]:
        """The checkpoints the training steps keep beside their model files, by a name for messages:
        a classifier given the pretraining's checkpoint name was refused by the fine-tuning step,
        after the pretraining (red team of 2026-12-04)."""
        return checkpoints_of(outputs, MODEL_OUTPUTS)

    @staticmethod
    def _check_replaceable(outputs: Dict[str, str]) -> None:
        """Refuses an output over a file its step would refuse to replace (a raster or report not
        of this plugin, a model file of another kind, a training's checkpoint name holding something
        else), before the first step: the map's and the report's steps refused them after the
        training (red team of 2026-12-04)."""
        from ..model_core import model_file
        from ..mrs_qgis_plugin import reports
        from ..mrs_qgis_plugin.raster import writers

        from ..mrs_qgis_plugin.jobs import refuse_earlier_progress

        kinds = dict(zip(MODEL_OUTPUTS, (model_file.PRETRAINED, model_file.CLASSIFIER)))
        for name, path in WorkflowAlgorithm._checkpoints(outputs).items():
            model_file.refuse_replacing(path, model_file.CHECKPOINT, name)
            refuse_earlier_progress(path, name, None)  # the fine-tuning step refused it after the pretraining
        for name, path in outputs.items():
            if name in kinds:
                refuse_a_proposed_name_taken(path, name)
                model_file.refuse_replacing(path, kinds[name], name)
            elif path.lower().endswith(GEOTIFF_EXTENSIONS):
                writers.check_replaceable(path, name, writers.CLASS_MAP)
            else:
                reports.check_replaceable(path, name, reports.ACCURACY)

    def _listed_problem(self, parameters: Dict[str, Any]) -> Optional[str]:
        """A list given to a parameter of one value, said as the single algorithms say it (QGIS's own
        check gave 'Incorrect parameter value for CLASS_FIELD', red team of 2026-12-04)."""
        single = [item.name() for item in self.parameterDefinitions()
                  if item.type() != "multilayer" and not getattr(item, "allowMultiple", lambda: False)()]
        listed = next((name for name in single if isinstance(parameters.get(name), (list, tuple))), None)
        return spec.listed_value_problem(listed, parameters[listed]) if listed else None

    @staticmethod
    def _missing_layers_problem(parameters: Dict[str, Any]) -> Optional[str]:
        """The scene's rasters left out, said as the single algorithms say it: QGIS said 'Incorrect parameter
        value for INPUT_AUX' (translated in another language), and of INPUT_HSI 'Could not load source layer'
        (a helper's red team of 2026-12-06)."""
        scene = JOBS["pretrain"]
        return next((spec.problem(scene.parameter(name), None) for name in ("INPUT_HSI", "INPUT_AUX")
                     if not spec.is_given(parameters.get(name))), None)

    def _unreadable_layers_problem(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[str]:
        """A layer value that cannot be loaded, said as the single algorithms say it: QGIS said 'Incorrect
        parameter value for INPUT_AUX' of a missing file among its rasters, and 'Could not load source layer'
        of a missing SAMPLES (a helper's red team of 2026-12-06)."""
        steps = {parameter.name: parameter for job in JOBS.values() for parameter in job.parameters
                 if parameter.kind == spec.VECTOR}  # for their geometries: pretrain's SAMPLES is a number
        for definition in self.parameterDefinitions():
            kind, value = LAYER_TYPES.get(definition.type()), parameters.get(definition.name())
            if kind is None or not spec.is_given(value):
                continue
            geometries = steps[definition.name()].geometries if definition.name() in steps else ()
            for item in value if isinstance(value, (list, tuple)) else [value]:
                problem = unreadable_layer(definition.name(), item, kind, context, geometries)
                if problem:
                    return problem
        return None

    def _step_values_problem(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[str]:
        """A value of the workflow that a step would refuse, said as the step would, under the
        workflow's name: FINETUNE_EPOCHS=nan was refused by the fine-tuning after the whole
        pretraining, as 'EPOCHS is nan', and SEED=-5 got QGIS's 'Incorrect parameter value for SEED'
        (red team of 2026-12-04)."""
        for child in self.childAlgorithms().values():
            job = JOBS.get(child.algorithmId().split(":")[-1])
            steps = {parameter.name: parameter for parameter in job.parameters} if job else {}
            for name, sources in child.parameterSources().items():
                for source in sources:
                    own = self.parameterDefinition(source.parameterName())
                    if (source.source() != QgsProcessingModelChildParameterSource.ModelParameter or name not in steps
                            or steps[name].kind not in spec.PLAIN_KINDS or own is None):
                        continue
                    renamed = dataclasses.replace(steps[name], name=own.name(), description=own.description(),
                                                  default=own.defaultValue())
                    value = plain_value(self, parameters, own.name(), context)
                    problem = value_problem(self, parameters, renamed, value, own, context)
                    if problem:
                        return problem
        return None

    def _fields_problem(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[str]:
        """A field parameter naming a suggestions layer's guesses, which the steps refuse (one naming no
        field of its layer is refused with the steps' values: `_step_values_problem`)."""
        for definition in self.parameterDefinitions():
            given = plain_value(self, parameters, definition.name(), context)  # an expression raised AttributeError
            if definition.type() != "field" or not given:
                continue
            source = self.parameterAsSource(parameters, definition.parentLayerParameterName(), context)
            if source is None:
                continue
            problem = suggestions_field_problem(self, parameters, definition, given, source.sourceName(), context)
            if problem:
                return problem
        return None

    def _step_of(self, error: str) -> str:
        """'in pretrain' for QGIS's error of the step it names by its description ("Error encountered
        while running Pretrain SS-MAE (MRS)"); 'in a step' where none is named."""
        named = [child.algorithmId().split(":")[-1] for child in self.childAlgorithms().values()
                 if child.description() and child.description() in error]
        return f"in {named[0]}" if len(named) == 1 else "in a step"

    def _check_label_rasters(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> None:
        """Refuses a label raster parameter that is no label raster (an image), or holds no labelled
        pixel, vector samples of no feature (a selection or filter of none), and samples of either
        kind beside the scene, as the step that reads them would, after the pretraining (red team of
        2026-12-04; of 2026-12-05: labels of zeros, points 100 km away, an empty selection)."""
        from ..mrs_qgis_plugin.raster.label_raster import open_label_raster  # GDAL: not at plugin load

        hsi = self.parameterAsRasterLayer(parameters, "INPUT_HSI", context)
        for name in ("LABELS", "REFERENCE_LABELS", "SAMPLES", "REFERENCE"):
            read_as = self.parameterAsRasterLayer if name.endswith("LABELS") else self.parameterAsVectorLayer
            layer = read_as(parameters, name, context) if parameters.get(name) else None
            vector = parameters.get(name) and not name.endswith("LABELS")
            source = self.parameterAsSource(parameters, name, context) if vector else None
            if source is not None and source.featureCount() == 0:  # red team of 2026-12-05: found after every step
                shown = vector_layer_name(layer, name) if layer is not None else source.sourceName()
                raise InputError(no_features_problem(name, shown, parameters[name]))
            if source is not None:
                problem = _class_field_problem(source, name, parameters, layer)
                if problem:
                    raise InputError(problem)
            if layer is None:
                continue
            if name.endswith("LABELS"):
                try:
                    open_label_raster(layer.source(), layer.name())
                except InputError as error:  # 'LABELS: the label layer ...', as the other refusals (audit, 12-06)
                    said = str(error)
                    raise InputError(f"{name}: {said[:1].lower()}{said[1:]}") from None
                if _holds_no_label(layer.source()):
                    raise InputError(f"{name}: the label layer '{layer.name()}' holds no labelled pixel (all are 0 or "
                                     "nodata). Choose a label raster with class values from 1.")
                only = _only_class(layer.source()) if name == "LABELS" else None
                if only is not None:  # found by the fine-tuning, after the pretraining (a desktop helper, 12-06)
                    raise InputError(f"{name}: the label layer '{layer.name()}' holds one class only ({only:g}); at "
                                     "least two classes are needed to train a classifier. Add labels of other classes.")
            if hsi is not None and not _overlaps(layer, hsi, context):
                raise InputError(f"{name}: the layer '{layer.name()}' lies outside the hyperspectral layer "
                                 f"'{hsi.name()}'. Check that it covers the same area as the rasters, and that the CRS "
                                 "of each layer is right.")
            if hsi is not None and not _labels_over(layer, source, hsi, context):  # (a desktop helper, 2026-12-06)
                what = "labelled pixel" if source is None else "feature"
                raise InputError(f"{name}: no {what} of '{layer.name()}' lies over the hyperspectral layer "
                                 f"'{hsi.name()}': they all lie beside it, within the layer's extent. Check that it "
                                 "covers the same area as the rasters, and that the CRS of each layer is right.")

    def _input_layers(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Dict[str, List[str]]:
        """The sources of the workflow's input layers, by parameter name."""
        layers = {}
        for definition in self.parameterDefinitions():
            if definition.type() in LAYER_TYPES:
                values = parameters.get(definition.name())
                sources = (_source(value, context) for value in (values if isinstance(values, list) else [values]))
                layers[definition.name()] = [source for source in sources if source]
        return layers

    def _given(self, parameters: Dict[str, Any], feedback: Optional[QgsProcessingFeedback] = None) -> Dict[str, Any]:
        """`parameters` with a file for each output the run needs but was not given (qgis_process
        and processing.run have no default for a model's outputs, the dialog does): the model
        files' lasting defaults, else a temporary file, which the log says how to keep."""
        given = dict(parameters)
        for name in self.needed:
            if given.get(name):
                continue
            stem = MODEL_OUTPUTS.get(name)
            default = default_output_path(stem, MODEL_FILE_EXTENSION) if stem else None
            given[name] = default or (self._temporary_file(name, feedback) if feedback else TEMPORARY_OUTPUT)
        return given

    def _temporary_file(self, name: str, feedback: QgsProcessingFeedback) -> str:
        """A file in QGIS's temporary folder for an output not given, warned of by the workflow's
        name for it; its step does not warn of it again (`TEMPORARY_TOLD`): a step's warning named
        its own parameter, OUTPUT, which the workflow lacks (a helper's red team of 2026-12-05)."""
        extension = self.parameterDefinition(name).defaultFileExtension()
        path = QgsProcessingUtils.generateTempFilename(f"{name.split(':', 1)[-1]}.{extension}")
        TEMPORARY_TOLD.add(os.path.realpath(path))
        how = f"--{name}=FILE" if on_command_line() else f"a file as {name}"
        feedback.pushWarning(f"No file was given for {name}: it goes to {path}, in QGIS's temporary folder, deleted "
                             f"when QGIS closes; give {how} to keep it.")
        return path

    def processAlgorithm(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: Optional[QgsProcessingFeedback]
    ) -> Dict[str, Any]:
        """Runs the steps, each output not given going to `_given`'s file; the layers loaded at
        the end are named as the workflow's outputs are described ('Land-cover map'), not by their
        names in the model ('LANDCOVER'), as the single algorithms' layers are. The layers the model
        loads to pass to its steps write nothing beside their files (red team of 2026-12-05: the
        HSI's and the LiDAR's statistics were written beside them once the run's context closed)."""
        from ..mrs_qgis_plugin.raster.gdal_io import inputs_left_untouched

        # run(parameters, context, None) from a script warns into a feedback of its own, as processing.run does (the
        # warnings of what a failed or stopped run kept raised an AttributeError: a helper's mutation audit of 12-07)
        feedback = feedback if feedback is not None else QgsProcessingFeedback()
        check_unless_checked(self, context, lambda: self.checkParameterValues(parameters, context))  # as a step
        for child_id in self.childAlgorithms():  # each step says its parameters by the workflow's names, in
            child = self.childAlgorithm(child_id)  # the run only: the model stays the file's (a copy in the modeler)
            child.setConfiguration({**child.configuration(), WORKFLOW_NAMES: self._names_of(child),
                                    WORKFLOW_STEP: f"{STEPS.index(child_id) + 1} of {len(STEPS)}"})
        given = self._given(parameters, feedback)
        try:  # temporary outputs, which the check before the run leaves alone (a helper's red team of 2026-12-07)
            outputs = checked_output_files(self, given)
        except MrsError as error:
            raise QgsProcessingException(str(error)) from None
        earlier = {name: file_state(path) for name, path in {**outputs, **self._checkpoints(outputs)}.items()}
        stopped = True
        steps_feedback = _StepsFeedback(feedback)
        try:
            with inputs_left_untouched():
                results = super().processAlgorithm(given, context, steps_feedback)
            # a cancel between steps ends QGIS's model as a success (red team of 2026-12-05)
            missing = [step for step in STEPS if step not in results.get("CHILD_RESULTS", {})]
            stopped = feedback.isCanceled() and bool(missing)
        except QgsProcessingException as error:  # QGIS's "Error encountered while running" a step (12-05)
            canceled = feedback.isCanceled()
            said = steps_feedback.pass_errors_on(keep_last=not canceled)
            if canceled:
                raise QgsProcessingException(f"Canceled: the workflow stopped {self._step_of(str(error))}; the "
                                             "warnings say what it kept.") from None
            # the step's own sentence, which only the log held (own bad inputs of 2026-12-06)
            raise QgsProcessingException(said or str(error)) from None
        finally:
            steps_feedback.pass_errors_on()  # errors of steps that did not end the run, if any
            _say_earlier_results(earlier, outputs, feedback)
            if stopped:
                _say_kept_results(earlier, outputs, feedback)
            _say_kept_checkpoints(earlier, outputs, feedback)
        if stopped:
            raise QgsProcessingException(f"Canceled: the workflow stopped before {joined(missing)} ran.")
        described = {definition.name().split(":", 1)[-1]: definition.description()
                     for definition in self.destinationParameterDefinitions()}
        from ..mrs_qgis_plugin.styling import name_after_file

        for layer in context.layersToLoadOnCompletion():
            name = context.layerToLoadOnCompletionDetails(layer).name
            if name in described:
                name_after_file(context, layer, described[name])
        figures = results["CHILD_RESULTS"]["accuracy"]
        return {**results, **{output.name: figures.get(output.name) for output in JOBS["accuracy"].outputs}}

    def name(self) -> str:
        return "workflow"

    def displayName(self) -> str:  # noqa: N802 - QGIS API name
        return tr("Workflow: pretrain, train, classify, assess")

    def group(self) -> str:
        return tr(GROUPS["workflow"])

    def shortDescription(self) -> str:  # noqa: N802 - QGIS API name
        return tr("Pretrains SS-MAE, trains a classifier, maps the scene and assesses the map, in one run.")

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API name
        """The model's description, with where its file is: the Toolbox offers no 'Edit model' for a
        provider's model, and the help named a path inside the plugin only (a desktop helper of
        2026-12-05)."""
        where = tr("Its file, for Processing > Graphical Modeler > Open Model (then save a copy under another name):"
                   ) + f" {html.escape(str(WORKFLOW_FILE))}"
        page = super().shortHelpString().replace("</p>", f" {where}</p>", 1)
        if on_command_line():  # its first paragraph as text: qgis_process lists the parameters' help after it
            return html.unescape(re.sub(r"<[^>]+>", "", page.split("</p>", 1)[0]))  # (a desktop helper, 12-06)
        return page

    def tags(self) -> List[str]:
        return [tr(tag) for tag in spec.TAGS + ("workflow", "pipeline", "accuracy assessment")]

    def helpUrl(self) -> str:  # noqa: N802 - QGIS API name
        return help_url("workflow")

    def groupId(self) -> str:  # noqa: N802 - QGIS API name
        return "workflow"

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:  # noqa: N802 - QGIS API name
        return ICON_PATH

    def createInstance(self) -> "WorkflowAlgorithm":  # noqa: N802 - QGIS API name
        return WorkflowAlgorithm()
