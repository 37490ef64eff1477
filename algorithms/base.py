"""The base class of every MRS Processing algorithm.

An algorithm is a job of mrs_qgis_plugin.job_parameters seen through Processing:
its parameters are built from the job's declarations (the Toolbox, the modeler
and `qgis_process help` show their help), its values are read the QGIS way
(layers of the project, memory layers, extents in any CRS; the layers through `layers`) and
handed to the engine's `runs.run`, the same function `bin/mrs` calls. Around the work: the
torch check, the CPU threads, the progress and cancel bridge, and the
translation of the project's errors into Processing errors.

torch, the model and the raster pipeline are imported inside methods at run
time only, so that QGIS starts fast and also without torch.
"""

import math
import os
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsExpression,
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingOutputRasterLayer,
    QgsProcessingOutputString,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsProcessingUtils,
    QgsProject,
    QgsProviderRegistry,
    QgsReferencedGeometry,
    QgsReferencedRectangle,
    QgsProperty,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, QThread, QUrl, QVariant
from qgis.PyQt.QtGui import QIcon

from ..model_core.errors import InputError, MrsError
from ..model_core.hooks import Hooks, came_once_done
from ..model_core.names import agreeing, joined
from ..mrs_qgis_plugin import parameters as spec
from ..mrs_qgis_plugin.dependencies import missing_dependencies_message
from ..mrs_qgis_plugin.destinations import (default_output_path, in_qgis_temporary_folder, qgis_temporary_folder,
                                             refuse_a_proposed_name_taken)
from .layers import (LAYER_KINDS, corners, features_crs, hyperspectral_problem, labelled_pixels_problem,
                     missing_field_problem, no_features_problem, path_named_layer_problem, qgis_operation,
                     raster_input_of, rasters_loaded, read_as_its_file, refused_layer_message, unreadable_layer,
                     vector_layer_name, wkt_of, written_as_shown)

ICON_PATH = str(Path(__file__).resolve().parents[1] / "resources" / "icons" / "mrs.svg")
HELP_PAGE = str(Path(__file__).resolve().parents[1] / "resources" / "help" / "index.html")
GROUPS = spec.GROUPS
GEOMETRIES = {"point": QgsProcessing.TypeVectorPoint, "line": QgsProcessing.TypeVectorLine,
              "polygon": QgsProcessing.TypeVectorPolygon}
WORKFLOW_NAMES = "mrs_workflow_names"
"""The item of a step's configuration through which mrs:workflow gives the names its user writes for the
step's parameters ('' for one the workflow sets itself): `MrsAlgorithm.said`."""
WORKFLOW_STEP = "mrs_workflow_step"
"""The item of a step's configuration through which mrs:workflow gives its place among the steps
('2 of 4'), which the step's log begins with (a helper's desktop check of 2026-12-06: the workflow's
log ran on from step to step, the device said three times, nothing saying where a step began)."""
CHECKED: Dict[Tuple[str, int], QgsProcessingContext] = {}
"""The contexts of the runs whose parameters QGIS checked first (`checkParameterValues`), by
algorithm id and context, until each run starts; held, so that no other context takes the address
of one whose run never started. QGIS 3.22 runs a step of a model without them, so such a run
checks them itself (a helper's red team of 2026-12-06: a step given neither SAMPLES nor LABELS
ended in an AttributeError traceback after the steps before it had run, one given both trained on
LABELS alone)."""


def _checked_key(algorithm: QgsProcessingAlgorithm, context: QgsProcessingContext) -> Tuple[str, int]:
    """The item of CHECKED of a run of `algorithm` in `context` (the context's own object, whichever
    Python wrapper holds it)."""
    return algorithm.id(), sip.unwrapinstance(context)


def record_checked(algorithm: QgsProcessingAlgorithm, context: QgsProcessingContext) -> None:
    """Says that the parameters of the coming run of `algorithm` in `context` passed its checks."""
    CHECKED[_checked_key(algorithm, context)] = context


def check_unless_checked(algorithm: QgsProcessingAlgorithm, context: QgsProcessingContext,
                         check: Callable[[], Tuple[bool, str]]) -> bool:
    """Runs `check` (the algorithm's checkParameterValues, which calls `record_checked`) where QGIS did not
    before this run (a step of a model), refusing what it refuses; a run checked before goes on.
    Either way the run's item leaves CHECKED: another step of the algorithm is checked in turn.
    Returns whether the run is a step of a model."""
    key = _checked_key(algorithm, context)
    step = key not in CHECKED
    if step:
        ok, problem = check()
        if not ok:
            raise QgsProcessingException(problem)
    CHECKED.pop(key, None)
    return step


TEMPORARY_TOLD: Set[str] = set()
"""Files in QGIS's temporary folder that a workflow gave a step and warned of by its own names for
them: the step does not warn of them again (`MrsAlgorithm._say_temporary`)."""


def given_layer(layer: Optional[QgsMapLayer], value: Any, context: QgsProcessingContext) -> Optional[QgsMapLayer]:
    """The layer a vector parameter gives: `layer`, or the layer a source definition such as a
    selection names, for which QGIS gives none."""
    if layer is None and isinstance(value, QgsProcessingFeatureSourceDefinition):
        return QgsProcessingUtils.mapLayerFromString(str(value.source.staticValue()), context)
    return layer


def suggestions_field_problem(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any],
                              definition: QgsProcessingParameterDefinition, given: Any, shown: str,
                              context: QgsProcessingContext) -> Optional[str]:
    """A suggestions layer's field of the classifier's guesses as a class field, or any field it wrote
    as NAME_FIELD, refused before the run: the workflow's steps refused it after the pretraining, or
    after everything but the assessment, and mrs:finetune after reading the scene (helpers' red teams
    of 2026-12-05)."""
    from ..mrs_qgis_plugin.raster.suggestions import guessed_field_of_source  # GDAL: not at plugin load

    parent = definition.parentLayerParameterName()
    source = file_layer_source(algorithm.parameterAsVectorLayer(parameters, parent, context), parameters.get(parent),
                               context)
    if not (source and isinstance(given, str)):
        return None
    names = definition.name() == "NAME_FIELD"
    problem = guessed_field_of_source(source, "" if names else given, shown, given if names else None)
    return f"{definition.name()}: {problem}" if problem else None


def file_layer_source(layer: Optional[QgsMapLayer], value: Any, context: QgsProcessingContext) -> str:
    """The source of the OGR file layer a vector parameter gives (`given_layer`), '' for another
    kind of layer."""
    layer = given_layer(layer, value, context)
    return layer.source() if isinstance(layer, QgsVectorLayer) and layer.providerType() == "ogr" else ""


def _taken(layer: Optional[QgsMapLayer], value: Any, count: int, of_a_file: bool) -> str:
    """What a vector layer is where it is no OGR file layer ('a delimitedtext layer of pts.csv'), and
    what of it a copy holds where that is not all its features (a selection, a feature limit,
    unsaved edits), for the records (`VectorInput.taken`). A feature limit that took every feature (5 or 3
    of a layer of 3) is not 'its first 3 features' (a helper's mutation audit of 2026-12-07)."""
    definition = value if isinstance(value, QgsProcessingFeatureSourceDefinition) else None
    features = "feature" if count == 1 else "features"
    total = layer.featureCount() if isinstance(layer, QgsVectorLayer) else -1  # -1: not known
    limited = definition is not None and 0 <= definition.featureLimit <= count and not 0 <= total <= count
    part = (f"its {count:,} selected {features}" if definition is not None and definition.selectedFeaturesOnly
            else f"its first {count:,} {features}" if limited
            else "with its unsaved edits" if isinstance(layer, QgsVectorLayer) and layer.isModified() else "")
    kind = ""
    if not of_a_file and isinstance(layer, QgsVectorLayer):
        provider = layer.providerType()
        path = QgsProviderRegistry.instance().decodeUri(provider, layer.source()).get("path")
        kind = ("a memory layer, not saved to a file" if provider == "memory"
                else f"a {provider} layer" + (f" of {path}" if path else ""))
    return "; ".join(text for text in (kind, part) if text)


def given_texts(parameters: Dict[str, Any], context: QgsProcessingContext) -> Tuple[str, ...]:
    """The texts a run was given that its messages may quote: each text value, a file's name and stem, a layer's
    name and source (`MrsAlgorithm.said` keeps them as they are)."""
    found: Set[str] = set()
    for value in parameters.values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, QgsProcessingFeatureSourceDefinition):
                item = item.source.staticValue()
            elif isinstance(item, QgsProcessingOutputLayerDefinition):
                item = item.sink.staticValue()
            layer = item if isinstance(item, QgsMapLayer) else (
                QgsProcessingUtils.mapLayerFromString(item, context, False) if isinstance(item, str) and item else None)
            texts = [layer.name(), layer.source()] if layer is not None else [item] if isinstance(item, str) else []
            for text in texts:  # the folder too: a step names files of its own there (OUTPUT's checkpoint)
                path = text.split("|")[0]
                found.update({text, path, os.path.dirname(path), os.path.basename(path),
                              os.path.splitext(os.path.basename(path))[0]})
    return tuple(text for text in found if len(text) > 2)


def hooks_from_feedback(feedback: Optional[QgsProcessingFeedback], said: Callable[[str], str] = str) -> Hooks:
    """Hooks that report to a Processing feedback: progress 0..1 as percent, log lines as info, warnings
    as warnings, each text as `said` words it. Not the status: QGIS 3.22's dialog logs every progress
    text, and each epoch's status was said beside the epoch's own line (a desktop helper of 2026-12-05:
    835 lines for 400 epochs)."""
    if feedback is None:
        return Hooks()
    return Hooks(
        progress=lambda fraction: feedback.setProgress(100.0 * fraction),
        log=lambda text: feedback.pushInfo(said(text)),
        is_canceled=feedback.isCanceled,
        warn=lambda text: feedback.pushWarning(said(text)),
    )


def _file_parameter(name: str, description: str, file_filter: str, optional: bool) -> QgsProcessingParameterFile:
    return QgsProcessingParameterFile(name, description, QgsProcessingParameterFile.File, optional=optional,
                                      fileFilter=f"{file_filter};;All files (*)")


def _number_parameter(parameter: spec.Parameter) -> QgsProcessingParameterNumber:
    kind = QgsProcessingParameterNumber.Integer if parameter.kind == spec.INTEGER else QgsProcessingParameterNumber.Double
    definition = QgsProcessingParameterNumber(parameter.name, parameter.description, kind, parameter.default,
                                              parameter.optional)
    if parameter.minimum is not None:
        definition.setMinimum(parameter.minimum)
    if parameter.upper is not None:
        definition.setMaximum(parameter.upper)
    return definition


def _layers_parameter(parameter: spec.Parameter) -> QgsProcessingParameterMultipleLayers:
    definition = QgsProcessingParameterMultipleLayers(parameter.name, parameter.description, QgsProcessing.TypeRaster,
                                                      optional=parameter.optional)
    if not parameter.optional:
        definition.setMinimumNumberInputs(1)
    return definition


def lasting_name(parameter: spec.Parameter) -> Optional[Tuple[str, str]]:
    """The stem and extension an output that holds work (a model file; points an analyst fills in;
    the demo scene, whose layers the project keeps) is named after ('Pretrained model' ->
    pretrained_model, safetensors); None for other outputs."""
    if parameter.file_filter == spec.MODEL_FILE_FILTER:
        return parameter.description.lower().replace(" ", "_"), spec.MODEL_FILE_EXTENSION
    if parameter.kind == spec.VECTOR_OUT:
        return parameter.description.lower().replace(" ", "_"), "gpkg"
    if parameter.kind == spec.FOLDER_OUT:
        return "demo_scene", ""
    return None


def lasting_default(parameter: spec.Parameter) -> Optional[str]:
    """In the desktop, an output that holds work (`lasting_name`) defaults to a new file or folder
    named after it that outlives QGIS; other outputs have no default."""
    name = lasting_name(parameter)
    return default_output_path(*name) if name else None


def _input_values(parameters: Dict[str, Any], job: spec.Job) -> set:
    """The texts of the run's layer inputs as given (layer ids, sources), and the ids of layers given."""
    found = set()
    for parameter in job.parameters:
        if parameter.kind in spec.DESTINATIONS:
            continue
        values = parameters.get(parameter.name)
        for value in values if isinstance(values, (list, tuple)) else [values]:
            if isinstance(value, QgsProcessingFeatureSourceDefinition):
                value = value.source.staticValue()
            found.add(value.id() if isinstance(value, QgsMapLayer) else value if isinstance(value, str) else None)
    return found


def output_files(parameters: Dict[str, Any], job: spec.Job, kinds: Tuple[str, ...] = spec.DESTINATIONS) -> Dict[str, str]:
    """The run's output files as given, by parameter name (temporary outputs left out)."""
    found = {parameter.name: _given_file(parameters.get(parameter.name)) for parameter in job.parameters
             if parameter.kind in kinds}
    return {name: path for name, path in found.items() if path}


def _given_file(value: Any) -> Optional[str]:
    """The file an output's value names (a dialog's QgsProcessingOutputLayerDefinition, or text),
    None for none or a temporary output."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    return value if isinstance(value, str) and value and value != QgsProcessing.TEMPORARY_OUTPUT else None


def gone_with_qgis_process(files: Dict[str, str]) -> Tuple[Dict[str, str], Optional[str]]:
    """Of `files` that a stopped run keeps (by a name for messages), those that last, and a sentence
    for those in QGIS's temporary folder under qgis_process, which deletes it as it ends: they were
    said to be kept, to resume or finish from, and were gone (a helper's red team of 2026-12-07)."""
    gone = {name: path for name, path in files.items() if on_command_line() and in_qgis_temporary_folder(path)}
    if not gone:
        return files, None
    listed = joined([f"{name} ({path})" for name, path in gone.items()])
    return {name: path for name, path in files.items() if name not in gone}, (
        f"{listed} {agreeing(len(gone), 'lies', 'lie')} in QGIS's temporary folder, which qgis_process deletes as "
        f"it ends: {agreeing(len(gone), 'it is', 'they are')} gone with it, and cannot be resumed or finished from. "
        "Give the outputs files of your own (--NAME=FILE) to keep what a stopped run wrote.")


def checkpoints_of(outputs: Dict[str, str], models: Sequence[str]) -> Dict[str, str]:
    """The checkpoints kept beside the model files of `outputs` named in `models`, by a name for messages
    ("OUTPUT's checkpoint")."""
    from ..model_core.paths import checkpoint_path_for

    return {f"{name}'s checkpoint": checkpoint_path_for(outputs[name]) for name in models if outputs.get(name)}


def checked_output_files(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any]) -> Dict[str, str]:
    """The output files given (temporary outputs and folders aside), by parameter name, each checked
    as its job will check it (extension, folder, a link to nothing), before the work: in a dialog a
    report named .txt was refused in the log of a run, after which QGIS said its HTML had been
    generated (a helper's desktop check of 2026-12-07). Raises InputError."""
    from ..mrs_qgis_plugin.raster.outputs import GEOTIFF_EXTENSIONS, check_output_path  # GDAL: not at plugin load

    outputs = {}
    for definition in algorithm.destinationParameterDefinitions():
        path, extension = _given_file(parameters.get(definition.name())), definition.defaultFileExtension()
        if path and extension:
            extensions = GEOTIFF_EXTENSIONS if extension == "tif" else (f".{extension}",)
            outputs[definition.name()] = check_output_path(path, definition.name(), extensions)
    return outputs


def _release(layer: QgsMapLayer, name: str, path: str) -> None:
    """Makes a project layer of an output file about to be written over read it anew; refuses one
    with edits not saved, which would be lost, or saved onto other features (red team of 2026-12-05:
    classes typed into the loaded suggestions)."""
    if isinstance(layer, QgsVectorLayer) and layer.isEditable() and layer.isModified():
        raise QgsProcessingException(f"{name}: {path} is open in QGIS as the layer '{layer.name()}' with edits not "
                                     "saved; save or discard them first, or choose another file name.")
    layer.reload()


def device_widget_metadata() -> Dict[str, Any]:
    """The metadata that has the dialogs show DEVICE, a text (auto, cpu, cuda:N), as a list of the
    devices there are."""
    package = __name__.rsplit(".", 2)[0]  # the plugin's package name ("mrs" when installed)
    return {"widget_wrapper": {"class": f"{package}.mrs_qgis_plugin.device_widget.DeviceWidgetWrapper"}}


def _device_parameter(name: str, description: str, default: str) -> QgsProcessingParameterString:
    definition = QgsProcessingParameterString(name, description, defaultValue=default)
    definition.setMetadata(device_widget_metadata())
    return definition


def _processing_parameter(parameter: spec.Parameter) -> QgsProcessingParameterDefinition:
    """The Processing parameter of a declaration, without its help."""
    name, description, optional = parameter.name, tr(parameter.description), parameter.optional
    builders = {
        spec.RASTER: lambda: QgsProcessingParameterRasterLayer(name, description, optional=optional),
        spec.RASTERS: lambda: _layers_parameter(parameter),
        spec.VECTOR: lambda: QgsProcessingParameterFeatureSource(
            name, description, [GEOMETRIES[g] for g in parameter.geometries], optional=optional),
        spec.FIELD: lambda: QgsProcessingParameterField(
            name, description, parentLayerParameterName=parameter.parent, optional=optional),
        spec.EXTENT: lambda: QgsProcessingParameterExtent(name, description, optional=optional),
        spec.CHOICE: lambda: QgsProcessingParameterEnum(
            name, description, list(parameter.choices), defaultValue=parameter.default, usesStaticStrings=True),
        spec.INTEGER: lambda: _number_parameter(parameter),
        spec.NUMBER: lambda: _number_parameter(parameter),
        spec.BOOLEAN: lambda: QgsProcessingParameterBoolean(name, description, defaultValue=parameter.default),
        spec.DEVICE: lambda: _device_parameter(name, description, parameter.default),
        # A filter, not an extension, which QGIS would enforce, and every file offered: a file is known by
        # what it holds (red team of 2026-12-05: a classifier renamed .pt was refused, a pickle .pt not said
        # to be one; a list of scenes 'scenes.lst' was "not accepted", read by bin/mrs).
        spec.MODEL_FILE: lambda: _file_parameter(name, description, spec.MODEL_FILE_FILTER, optional),
        spec.FILE_IN: lambda: _file_parameter(name, description, parameter.file_filter, optional),
        spec.FILE_OUT: lambda: QgsProcessingParameterFileDestination(
            name, description, parameter.file_filter, defaultValue=lasting_default(parameter),
            optional=optional, createByDefault=parameter.created_by_default),
        spec.RASTER_OUT: lambda: QgsProcessingParameterRasterDestination(
            name, description, optional=optional, createByDefault=not optional),
        spec.VECTOR_OUT: lambda: QgsProcessingParameterVectorDestination(
            name, description, QgsProcessing.TypeVectorPoint, defaultValue=lasting_default(parameter),
            optional=optional, createByDefault=not optional),
        spec.FOLDER_OUT: lambda: QgsProcessingParameterFolderDestination(
            name, description, defaultValue=lasting_default(parameter), optional=optional,
            createByDefault=not optional),
    }
    return builders[parameter.kind]()


def tr(text: str) -> str:
    """A user-visible text in the language of QGIS, where the plugin has a translation."""
    return QCoreApplication.translate("mrs", text)


def on_command_line() -> bool:
    """Whether the help is read in qgis_process, whose users need to know how to write some values."""
    return QgsApplication.platform() == "qgis_process"


def help_url(anchor: str) -> str:
    """The bundled help page at an algorithm's section (the dialog's Help button opens it)."""
    return QUrl.fromLocalFile(HELP_PAGE).toString() + f"#{anchor}"


def processing_parameter(parameter: spec.Parameter) -> QgsProcessingParameterDefinition:
    """The Processing parameter of a declaration, with its help and flags."""
    definition = _processing_parameter(parameter)
    definition.setHelp(parameter.full_help(on_command_line()))
    if parameter.advanced:
        definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return definition


def plain_value(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any], name: str,
                context: QgsProcessingContext) -> Any:
    """A parameter's value as given (a number, a text, a list), an expression evaluated to text."""
    value = parameters.get(name)
    if isinstance(value, QgsProperty):
        return algorithm.parameterAsString(parameters, name, context)
    return value


def _said_taken_into(given: Tuple[float, ...], own: QgsCoordinateReferenceSystem, bounds: Tuple[float, ...],
                     layer: QgsMapLayer, say: Callable[[str], None]) -> Tuple[float, ...]:
    """`bounds`, the extent `given` in `own` CRS taken into the hyperspectral `layer`'s, once `say` has heard so."""
    from ..mrs_qgis_plugin.raster.grid import extent_taken_into  # GDAL: not at plugin load

    say(extent_taken_into(given, wkt_of(own), bounds, layer.name(), wkt_of(layer.crs())))
    return bounds


def _null(value: Any) -> bool:
    """Whether a value QGIS gives is NULL: None, or a typed NULL (a field's, red team of 2026-12-05)."""
    return value is None or (isinstance(value, QVariant) and value.isNull())


def given_values_problem(algorithm: QgsProcessingAlgorithm, algorithm_id: str, parameters: Dict[str, Any],
                         layer_kinds: Dict[str, str], context: QgsProcessingContext) -> Optional[str]:
    """What the single algorithms and the workflow check first of the values given: a name no
    parameter has, an expression without a value, a path given to a layer parameter that names a
    layer of another kind (`layer_kinds`: parameter name -> the kind of layer it takes)."""
    steps = algorithm.childAlgorithms().items() if isinstance(algorithm, QgsProcessingModelAlgorithm) else ()
    aliases = {f"{output.childId()}:{output.childOutputName()}": f"{step}:{name}"  # 'finetune:OUTPUT' (a helper's
               for step, child in steps for name, output in child.modelOutputs().items()}  # red team of 2026-12-06)
    aliases.update({f"{step}:{name}": source.parameterName()  # 'pretrain:EPOCHS' is PRETRAIN_EPOCHS (a review)
                    for step, child in steps for name, sources in child.parameterSources().items()
                    for source in sources
                    if source.source() == QgsProcessingModelChildParameterSource.ModelParameter})
    return (spec.unknown_parameter_problem(parameters, [item.name() for item in algorithm.parameterDefinitions()],
                                           algorithm_id, [item.name() for item in algorithm.outputDefinitions()],
                                           aliases)
            or expression_problem(algorithm, parameters, context)
            or path_named_layer_problem(parameters, layer_kinds, context))


def expression_problem(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any],
                       context: QgsProcessingContext) -> Optional[str]:
    """Why a value given as an expression (a data-defined value) has none: an expression that cannot
    be read, or gives NULL (an unknown variable, 1/0, a field's NULL) for a parameter that must
    have a value, which QGIS takes as no value given, so the parameter's default was used without a
    word (red team of 2026-12-05: EPOCHS trained 100 epochs). NULL leaves an optional one out."""
    for name, value in parameters.items():
        if (not isinstance(value, QgsProperty) or not value.isActive()
                or value.propertyType() == QgsProperty.StaticProperty):
            continue
        by_field = value.propertyType() == QgsProperty.FieldBasedProperty
        expression = QgsExpression(QgsExpression.quotedColumnRef(value.field()) if by_field
                                   else value.expressionString())
        given = f"field '{value.field()}'" if by_field else f"expression '{value.expressionString()}'"
        if expression.hasParserError():
            return (f"{name}: its {given} cannot be read "
                    f"({' '.join(expression.parserErrorString().split())[:200]}); correct the expression, or give "
                    "the value itself.")
        definition = algorithm.parameterDefinition(name)
        optional = definition is not None and definition.flags() & QgsProcessingParameterDefinition.FlagOptional
        if _null(expression.evaluate(context.expressionContext())) and not optional:
            advice = "give the value itself" if by_field else "correct the expression, or give the value itself"
            return f"{name}: its {given} gives no value ({expression.evalErrorString() or 'NULL'}); {advice}."
    return None


def value_problem(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any], parameter: spec.Parameter,
                  value: Any, definition: QgsProcessingParameterDefinition, context: QgsProcessingContext
                  ) -> Optional[str]:
    """`spec.problem`, and an empty text that QGIS refuses said as bin/mrs says it (qgis_process's
    TILE_SIZE= got 'Incorrect parameter value for TILE_SIZE', red team of 2026-12-04): qgis_process
    gives it as a null QVariant (red team of 2026-12-05), processing.run as ''. A field's value
    that names no field of its layer (`missing_field_problem`)."""
    empty = _null(value) if isinstance(value, QVariant) else isinstance(value, str) and not value.strip()
    if empty and parameter.kind in spec.PLAIN_KINDS and not definition.checkValueIsAcceptable(value, context):
        return spec.empty_value_problem(parameter, parameter.name)
    missing = parameter.kind == spec.FIELD and value and missing_field_problem(algorithm, parameters, definition,
                                                                               value, context)
    if missing:
        return missing
    if (parameter.kind == spec.FIELD and isinstance(value, str) and ";" in value
            and not definition.checkValueIsAcceptable(value, context)):  # 'Incorrect parameter value' (red team, 12-06)
        return (f"{parameter.name}: the field name '{value}' holds ';', which QGIS 3.22 reads as a list of fields, so "
                "it cannot be chosen; rename the field (Processing Toolbox > Vector table > Rename field), and run "
                "again.")
    return spec.problem(parameter, value)


def _load_no_output_left_empty(context: QgsProcessingContext) -> None:
    """Drops the layer to load of an optional output left empty, which the Batch dialog gives as a
    layer named '' (a desktop helper of 2026-12-05: every row that succeeded logged "The following layers
    were not correctly generated")."""
    layers = context.layersToLoadOnCompletion()
    if "" in layers:
        context.setLayersToLoadOnCompletion({path: details for path, details in layers.items() if path})


class MrsAlgorithm(QgsProcessingAlgorithm):
    """A job of mrs_qgis_plugin.job_parameters as a Processing algorithm; subclasses set JOB."""

    JOB: spec.Job
    ALGORITHM_ID = DISPLAY_NAME = DESCRIPTION = ""
    said_as: Dict[str, str] = {}  # the names of its parameters in the workflow, when it is a step of it
    step = ""  # its place among the workflow's steps ('2 of 4'), when it is one
    model_step = False  # whether its run is a step of an analyst's model, set as it starts (`check_unless_checked`)
    given_texts: Tuple[str, ...] = ()  # the texts its run was given (paths, layer names), which `said` keeps

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.ALGORITHM_ID, cls.DISPLAY_NAME, cls.DESCRIPTION = cls.JOB.name, cls.JOB.display_name, cls.JOB.description

    def name(self) -> str:
        return self.JOB.name

    def displayName(self) -> str:  # noqa: N802 - QGIS API name
        return tr(self.JOB.display_name)

    def group(self) -> str:
        return tr(GROUPS[self.JOB.group])

    def groupId(self) -> str:  # noqa: N802 - QGIS API name
        return self.JOB.group

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:  # noqa: N802 - QGIS API name
        return ICON_PATH

    def createInstance(self) -> "MrsAlgorithm":  # noqa: N802 - QGIS API name
        return type(self)()

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API name
        """The job's help: the Toolbox shows each line as a paragraph; qgis_process prints it as it is."""
        return self.JOB.help(on_command_line())

    def shortDescription(self) -> str:  # noqa: N802 - QGIS API name
        return tr(self.JOB.summary())

    def tags(self) -> List[str]:
        return [tr(tag) for tag in spec.TAGS + self.JOB.tags]

    def helpUrl(self) -> str:  # noqa: N802 - QGIS API name
        return help_url(self.JOB.name)

    def initAlgorithm(self, configuration: Optional[Dict[str, Any]] = None) -> None:  # noqa: N802 - QGIS API name
        self.said_as = dict((configuration or {}).get(WORKFLOW_NAMES) or {})
        self.step = str((configuration or {}).get(WORKFLOW_STEP) or "")
        for parameter in self.JOB.parameters:
            self.addParameter(processing_parameter(parameter))
        outputs = {"number": QgsProcessingOutputNumber, "string": QgsProcessingOutputString,
                   "raster": QgsProcessingOutputRasterLayer, "vector": QgsProcessingOutputVectorLayer}
        for output in self.JOB.outputs:
            self.addOutput(outputs[output.kind](output.name, output.description))

    def said(self, text: str) -> str:
        """`text` with the parameters named as the workflow's user writes them, when this is a step of
        mrs:workflow; one the workflow sets itself is named as the step's, with a note that says so. What the
        run was given (`given_texts`: a path 'old SAMPLES set/x.tif', a layer 'scene EXTENT v2') and quoted
        texts keep their words, and so do names within a path ('OUTPUT.tif': a desktop helper's red team and a
        review of 2026-12-06)."""
        if not self.said_as:
            return text
        kept: List[str] = []

        def keep(match: "re.Match[str]") -> str:
            kept.append(match.group(0))
            return f"\0{len(kept) - 1}\0"

        given = "|".join(re.escape(value) for value in sorted(self.given_texts, key=len, reverse=True))
        quoted = r"(?<!\w)'(?:[^'\n]|'(?=\w))*'(?!\w)|\"[^\"\n]*\""  # 'Bob's folder/x.tif' whole (a helper, 12-06)
        text = re.sub(f"{given}|{quoted}" if given else quoted, keep, text)
        names = sorted(self.said_as, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w:/\\.'])(" + "|".join(map(re.escape, names)) + r")(?![\w/\\-]|\.\w|'(?!s\b))")
        set_here: List[str] = []

        def workflow_name(match: "re.Match[str]") -> str:
            name = match.group(1)
            if not self.said_as[name] and name not in set_here:
                set_here.append(name)
            return self.said_as[name] or name

        text = re.sub("\0([0-9]+)\0", lambda match: kept[int(match.group(1))], pattern.sub(workflow_name, text))
        if set_here:
            one = len(set_here) == 1
            text += (f" ({joined(set_here)} {'is a parameter' if one else 'are parameters'} of {self.id()} that the "
                     f"workflow sets itself: run {self.id()} alone to change {'it' if one else 'them'}.)")
        return text

    # Run time ----------------------------------------------------------------

    def plain_value(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> Any:
        return plain_value(self, parameters, name, context)

    def checkParameterValues(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext
    ) -> Tuple[bool, str]:
        from ..mrs_qgis_plugin.raster.gdal_io import inputs_left_untouched

        self.given_texts = given_texts(parameters, context) if self.said_as else ()
        with inputs_left_untouched():  # checking a layer parameter loads the layer
            ok, problem = self._check_parameter_values(parameters, context)
        if ok:
            record_checked(self, context)
        return ok, self.said(problem) if problem else problem

    def _check_parameter_values(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Tuple[bool, str]:
        for parameter in self.JOB.parameters:  # loaded as rasters, QGIS' checks find them (`rasters_loaded`)
            if parameter.kind == spec.RASTERS:
                rasters_loaded(parameters.get(parameter.name), context)
        layer_kinds = {parameter.name: LAYER_KINDS[parameter.kind] for parameter in self.JOB.parameters
                       if parameter.kind in LAYER_KINDS}
        problem = (given_values_problem(self, self.id(), parameters, layer_kinds, context)
                   or hyperspectral_problem(self, parameters, context)
                   or labelled_pixels_problem(self.JOB, parameters)
                   or self._outputs_problem(parameters, context))
        if problem:
            return False, problem
        for parameter in self.JOB.parameters:
            value = self.plain_value(parameters, parameter.name, context)
            definition = self.parameterDefinition(parameter.name)
            problem = value_problem(self, parameters, parameter, value, definition, context)
            if problem:
                return False, problem
            if parameter.kind not in spec.PLAIN_KINDS and not definition.checkValueIsAcceptable(value, context):
                # an output processing.run is not given ('the value None is not accepted', red team of 2026-12-04)
                return False, (spec.problem(parameter, value, destinations_required=True, in_python=True)
                               or refused_layer_message(parameter, value, context))
            problem = self._suggestions_field_problem(parameter, definition, value, parameters, context)
            if problem:
                return False, problem
        return super().checkParameterValues(parameters, context)

    def _outputs_problem(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[str]:
        """The refusal of an output file that cannot be written (`checked_output_files`) or would replace
        an input (`outputs_spare_inputs`), before the run: in a dialog it came in the log of a run that
        then 'finished' (a helper's desktop check of 2026-12-06), where other bad values get a message
        box. The job checks again as it starts."""
        from ..mrs_qgis_plugin.raster.outputs import outputs_spare_inputs  # GDAL: not at plugin load

        try:
            outputs = checked_output_files(self, parameters)
        except InputError as error:
            return str(error)
        layers, files = {}, {}
        for parameter in self.JOB.parameters:
            value = parameters.get(parameter.name)
            if parameter.kind in LAYER_KINDS and spec.is_given(value):
                found = (self.raster_layers(parameters, parameter.name, context) if parameter.kind == spec.RASTERS
                         else [self.parameterAsRasterLayer(parameters, parameter.name, context)
                               if parameter.kind == spec.RASTER else
                               given_layer(self.parameterAsVectorLayer(parameters, parameter.name, context), value,
                                           context)])
                layers[parameter.name] = [layer.source() for layer in found if layer is not None]
            elif parameter.kind in (spec.MODEL_FILE, spec.FILE_IN) and spec.is_given(value):
                files[parameter.name] = self.parameterAsFile(parameters, parameter.name, context) or None
        try:
            outputs_spare_inputs(outputs, layers, files, distinct={})
        except InputError as error:
            return str(error)
        except OSError:  # a folder that cannot be listed: the job's own check says it
            return None
        return None

    def _suggestions_field_problem(self, parameter: spec.Parameter, definition: QgsProcessingParameterDefinition,
                                   value: Any, parameters: Dict[str, Any], context: QgsProcessingContext
                                   ) -> Optional[str]:
        """`suggestions_field_problem` of the class field and NAME_FIELD (a selection's layer too)."""
        class_field = self.JOB.labelled_pixels[1] if self.JOB.labelled_pixels else None
        if parameter.name not in (class_field, "NAME_FIELD") or not value:
            return None
        parent = definition.parentLayerParameterName()
        layer = given_layer(self.parameterAsVectorLayer(parameters, parent, context), parameters.get(parent), context)
        return layer and suggestions_field_problem(self, parameters, definition, value, layer.name(), context)

    def prepareAlgorithm(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> bool:
        """Layers of the project that show an output file about to be written over read it anew
        (`_release`), in the main thread, before it is: a layer with its histogram computed (Symbology's Classify)
        wrote the earlier map's .aux.xml, class names included, over the new one's when it closed
        (desktop helper of 2026-12-05). Layers loaded afterwards read the new file (`StyleOnLoad`)."""
        from ..mrs_qgis_plugin.raster import split_source
        from ..mrs_qgis_plugin.raster.outputs import same_file  # GDAL: not at plugin load

        if QThread.currentThread() is not QCoreApplication.instance().thread():
            return True  # a step of a model, in Processing's worker thread: the project is not ours to touch
        for name, value in output_files(parameters, self.JOB, (spec.RASTER_OUT, spec.VECTOR_OUT)).items():
            inputs = _input_values(parameters, self.JOB)
            for layer in QgsProject.instance().mapLayers().values():
                # an input given as the output is refused by the run, in its own words
                if same_file(split_source(layer.source())[0], value) and layer.id() not in inputs:
                    _release(layer, name, value)
        return True

    def processAlgorithm(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        from ..model_core.hooks import cancel_on_sigterm
        from ..mrs_qgis_plugin.raster.gdal_io import inputs_left_untouched

        self.given_texts = given_texts(parameters, context) if self.said_as else ()
        self.outputs: Dict[str, str] = {}  # the run's output files, once read (`execute`)
        hooks = hooks_from_feedback(feedback, self.said)
        if self.step:
            feedback.pushInfo(f"Step {self.step}: {self.displayName()}")
        if self.JOB.needs_torch:
            message = missing_dependencies_message()
            if message:
                raise QgsProcessingException(message)
        # a step of an analyst's model (its checks may read model files: after torch's); mrs:workflow's own steps
        # (`step`) are said by the workflow
        self.model_step = (check_unless_checked(self, context, lambda: self.checkParameterValues(parameters, context))
                           and not self.step)
        try:
            with inputs_left_untouched(), cancel_on_sigterm(hooks) as hooks, ExitStack() as torch_kept:
                if self.JOB.needs_torch:
                    from ..mrs_qgis_plugin.runs import start_torch, torch_in_turn, torch_state_kept

                    torch_kept.enter_context(torch_in_turn(hooks, output_files(parameters, self.JOB)))
                    torch_kept.enter_context(torch_state_kept())
                    start_torch(QgsApplication.platform(), self.device_name(parameters, context), hooks)
                results = self.execute(parameters, context, feedback, hooks)
        except MrsError as error:
            self._say_checkpoints_gone(feedback)
            raise QgsProcessingException(self.said(str(error))) from None
        if feedback.isCanceled():  # after the work's last look (a helper's red team of 2026-12-05: unsaid, "failed")
            later = ", and the model's later steps do not run" if self.model_step else ""  # it ends 'OK' (red team)
            feedback.pushWarning(came_once_done("Cancel") + f" (QGIS may still say that the run failed, and not load "
                                 f"them: open them from their files{later}).")
        return results

    def execute(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        hooks: Hooks,
    ) -> Dict[str, Any]:
        """The job run on the values read from `parameters`; returns the outputs by id.

        In QGIS desktop it runs in a worker thread: read layers through the
        parameterAs* methods only, and start no processes (no multiprocessing,
        DataLoader with num_workers=0).
        """
        from ..mrs_qgis_plugin.raster.outputs import claim_outputs
        from ..mrs_qgis_plugin.runs import run

        self.copied: Dict[str, list] = {}
        values = {p.name: self.value(p, parameters, context, feedback) for p in self.JOB.parameters}
        outputs = {p.name: values[p.name] for p in self.JOB.parameters
                   if p.kind in spec.DESTINATIONS and values[p.name]}
        if self.copied and outputs:  # the engine sees the copies: the layers' own files are checked here
            claim_outputs(outputs, self.copied)
        for parameter in self.JOB.parameters:
            if parameter.file_filter == spec.MODEL_FILE_FILTER and outputs.get(parameter.name):
                refuse_a_proposed_name_taken(outputs[parameter.name], parameter.name)
        self._say_temporary(outputs, hooks)
        self.outputs = outputs
        results = run(self.JOB.name, values, hooks)
        self.finish(values, context)
        _load_no_output_left_empty(context)
        return results

    def _say_checkpoints_gone(self, feedback: QgsProcessingFeedback) -> None:
        """Says that the checkpoint a stopped training wrote in QGIS's temporary folder, which its
        last line said resumes the run, is gone with it under qgis_process (`gone_with_qgis_process`)."""
        models = [parameter.name for parameter in self.JOB.parameters
                  if parameter.file_filter == spec.MODEL_FILE_FILTER]
        written = {name: path for name, path in checkpoints_of(self.outputs, models).items() if os.path.isfile(path)}
        _kept, gone = gone_with_qgis_process(written)
        if gone:
            feedback.pushWarning(gone)

    def _say_temporary(self, outputs: Dict[str, str], hooks: Hooks) -> None:
        """Warns of an output that holds work going to QGIS's temporary folder, deleted when QGIS
        closes (red team of 2026-12-05: a classifier given TEMPORARY_OUTPUT, as a modeler model's
        output left temporary is, was lost without a word); under qgis_process, which deletes it as
        it ends, of every output there (a map, a report: its path was printed, and gone; a helper's
        red team of 2026-12-06)."""
        ending = on_command_line()
        for parameter in self.JOB.parameters:
            path = outputs.get(parameter.name)
            if (path and (lasting_name(parameter) or ending) and in_qgis_temporary_folder(path)
                    and os.path.realpath(path) not in TEMPORARY_TOLD):
                kind = "folder" if parameter.kind == spec.FOLDER_OUT else "file"
                # a model's step: no --OUTPUT to give, nor a file to choose (a helper's red team of 2026-12-06)
                keep = ("make it an output of the model (name it in the step's dialog in the graphical modeler), or "
                        "where it is one give it a file in the model's dialog, to keep it" if self.model_step
                        else f"give --{parameter.name}={kind.upper()} to keep it" if ending
                        else f"save the {parameter.description.lower()} to a {kind} of your own to keep it")
                where = f" of the model's step '{self.displayName()}'" if self.model_step else ""
                inside = "is" if os.path.realpath(path) == qgis_temporary_folder() else "is in"
                hooks.warning(f"{parameter.name}{where}: {path} {inside} QGIS's temporary folder, which "
                              f"{'qgis_process deletes as it ends' if ending else 'QGIS deletes when it closes'}; "
                              f"{keep}.")

    def device_name(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[str]:
        """The DEVICE value (auto, cpu, cuda:N), or None for a job without one."""
        if not any(parameter.name == "DEVICE" for parameter in self.JOB.parameters):
            return None
        return spec.read(self.JOB.parameter("DEVICE"), self.plain_value(parameters, "DEVICE", context))

    def finish(self, values: Dict[str, Any], context: QgsProcessingContext) -> None:
        """Steps after a successful run that only Processing has (none unless a subclass adds them)."""

    # Parameters read at run time, as the engine takes them ----------------------

    def value(self, parameter: spec.Parameter, parameters: Dict[str, Any], context: QgsProcessingContext,
              feedback: QgsProcessingFeedback) -> Any:
        """One parameter's value for `runs.run`: a `RasterInput` (or a list of them), a `VectorInput`,
        an extent in the hyperspectral layer's CRS, a file path, or a plain value; None when not given."""
        name = parameter.name
        if parameter.kind in spec.PLAIN_KINDS:
            return spec.read(parameter, self.plain_value(parameters, name, context))
        if parameter.kind in spec.DESTINATIONS:
            output = (self.parameterAsOutputLayer if parameter.kind in (spec.RASTER_OUT, spec.VECTOR_OUT)
                      else self.parameterAsFileOutput)(parameters, name, context)
            return output or None
        if not spec.is_given(parameters.get(name)):
            return None
        readers = {
            spec.RASTER: lambda: self.raster_input(parameters, name, context),
            spec.RASTERS: lambda: [self.on_grid(layer, name, parameters, context)
                                   for layer in self.raster_layers(parameters, name, context)],
            spec.VECTOR: lambda: self.vector_source(parameters, name, context, feedback),
            spec.EXTENT: lambda: self.extent(parameters, context, feedback.pushInfo),
            spec.MODEL_FILE: lambda: self.parameterAsFile(parameters, name, context) or None,
            spec.FILE_IN: lambda: self.parameterAsFile(parameters, name, context) or None,
        }
        return readers[parameter.kind]()

    def raster_layers(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> List[QgsMapLayer]:
        """`parameterAsLayerList` of a list of rasters, looked up as rasters first (`rasters_loaded`):
        QGIS' own opens a path with OGR first, which put '[OGR] Cannot open lidar.tif' in QGIS' message
        log at every run (a helper's desktop check of 2026-12-06)."""
        return rasters_loaded(parameters.get(name), context) or self.parameterAsLayerList(parameters, name, context)

    def raster_input(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> Any:
        """A raster parameter as the pipeline's `RasterInput` (the layer's file and name)."""
        return self.on_grid(self.parameterAsRasterLayer(parameters, name, context), name, parameters, context)

    def on_grid(self, layer: Optional[QgsMapLayer], name: str, parameters: Dict[str, Any],
                context: QgsProcessingContext) -> Any:
        """A raster layer as a `RasterInput` taken to the grid's CRS as QGIS draws it there."""
        operation = (qgis_operation(layer.crs(), layer.extent(), self.grid_crs(parameters, context), context)
                     if layer is not None and layer.isValid() else "")
        return raster_input_of(layer, name, operation)

    def extent(self, parameters: Dict[str, Any], context: QgsProcessingContext,
               say: Callable[[str], None]) -> Tuple[float, ...]:
        """EXTENT in the CRS of the hyperspectral layer as (xmin, ymin, xmax, ymax); `say` hears what
        becomes of one in another CRS (`extent_taken_into`). A CRS written
        after the numbers that QGIS does not know is refused, and numbers it cannot take into the
        layer's CRS are not numbers there (red team of 2026-12-05: QGIS took the numbers as they
        stood in both cases, where bin/mrs refused them), nor are those of a CRS that no transformation
        joins to the layer's (a local one: QGIS took them as they stood, false-alarm hunt of 2026-12-05)."""
        layer = self.parameterAsRasterLayer(parameters, "INPUT_HSI", context)
        crs = layer.crs()
        value = parameters.get("EXTENT")
        named = value if isinstance(value, QgsMapLayer) else (
            QgsProcessingUtils.mapLayerFromString(value, context) if isinstance(value, str) and value else None)
        if named is not None and not (named.extent().width() > 0 and named.extent().height() > 0):
            from ..mrs_qgis_plugin.raster.grid import layer_without_area  # GDAL: not at plugin load

            raise layer_without_area(named.name(), named.source(), corners(named.extent()))
        # a layer's name may end in brackets ('area [v2]'), which are no CRS (a helper's mutation audit of 2026-12-07)
        written = re.search(r"\[(.*)\]\s*$", value) if isinstance(value, str) and named is None else None
        # An unknown CRS gives the project's (desktop helper of 2026-12-05), so the text is judged; '[]' is
        # the widget's for a CRS without an authority's code, the project's (a desktop helper's red team of
        # 2026-12-07: a layer in a custom CRS had every extent the dialog gave refused).
        crs_text = written.group(1).strip() if written else ""
        if crs_text and not QgsCoordinateReferenceSystem(crs_text).isValid():
            raise InputError(spec.unknown_extent_crs(crs_text))
        # plain numbers (a rectangle, a geometry) are in the layer's CRS; a layer, a CRS written after the
        # numbers and a referenced rectangle (a script's, unsaid: a desktop helper's red team of 2026-12-07)
        # or geometry give their own
        referenced = named is not None or written or isinstance(value, (QgsReferencedRectangle, QgsReferencedGeometry))
        own = self.parameterAsExtentCrs(parameters, "EXTENT", context) if referenced else crs
        if not (own.isValid() and crs.isValid() and own != crs):  # without a CRS, the numbers stand (review)
            return corners(self.parameterAsExtent(parameters, "EXTENT", context, crs))
        from ..mrs_qgis_plugin.raster.grid import extent_beyond_its_crs, extent_not_transformable, extent_without_area

        box = self.parameterAsExtent(parameters, "EXTENT", context)
        given = corners(box)
        refusal = (extent_without_area(given, wkt_of(own))  # before it is taken into another CRS
                   or extent_not_transformable(wkt_of(own), layer.name(), wkt_of(crs)))
        if refusal:
            raise refusal
        try:
            bounds = corners(QgsCoordinateTransform(own, crs, context.transformContext()).transformBoundingBox(box))
        except QgsCsException:
            bounds = (math.nan,) * 4
        if not all(math.isfinite(value) for value in bounds):
            raise extent_beyond_its_crs(given, wkt_of(own), layer.name(), wkt_of(crs))
        return _said_taken_into(given, own, bounds, layer, say)

    def vector_source(
        self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Any:
        """A vector parameter as a `VectorInput` OGR opens ('file.gpkg|layername=x').

        A layer OGR cannot read as it is (a memory layer, a selection, a filtered
        layer, a web service) is first copied into a temporary GeoPackage (`written_as_shown`).
        """
        from ..mrs_qgis_plugin.runs import VectorInput

        source = self.parameterAsSource(parameters, name, context)
        if source is None:  # a raster layer object given to processing.run, say
            raise InputError(unreadable_layer(name, parameters.get(name), "vector", context,
                                              self.JOB.parameter(name).geometries)
                             or f"{name}: the layer cannot be opened as a vector layer. Choose a point or polygon "
                                "layer.")
        # A layer's "selected features only" or feature limit comes as a source definition, for
        # which QGIS gives no layer; the source, and the file QGIS writes of it, honour both.
        layer = self.parameterAsVectorLayer(parameters, name, context)
        shown = vector_layer_name(layer, name) if layer is not None else source.sourceName()
        value = parameters.get(name)
        if isinstance(value, QgsProcessingFeatureSourceDefinition) and source.featureCount() == 0:
            raise InputError(no_features_problem(name, shown, value))  # other empty layers: the job's own words
        grid = self.grid_crs(parameters, context)
        own = features_crs(source, layer)
        if not read_as_its_file(layer, value):
            if layer is not None:
                self.copied[name] = [layer.source()]
            copy = written_as_shown(source, own, grid, shown, name, context, feedback)
            origin = file_layer_source(layer, value, context)  # a selection's layer too
            if origin:
                from ..mrs_qgis_plugin.raster.suggestions import carry_record

                carry_record(origin, copy)
            return VectorInput(f"{copy}|layername=features", shown, origin,
                               _taken(given_layer(layer, value, context), value, source.featureCount(), bool(origin)))
        path, layer_name = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, QgsVectorFileWriter.supportedFormatExtensions(), "gpkg", feedback
        )
        operation = qgis_operation(own, source.sourceExtent(), grid, context)
        return VectorInput((f"{path}|layername={layer_name}" if layer_name else path)
                           + (f"|operation={operation}" if operation else ""), shown)

    def grid_crs(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> QgsCoordinateReferenceSystem:
        """The CRS of the grid vector layers go onto: the hyperspectral layer's, or the assessed map's."""
        names = [definition.name() for definition in self.parameterDefinitions()]
        grid = next((name for name in ("INPUT_HSI", "INPUT") if name in names), None)
        layer = self.parameterAsRasterLayer(parameters, grid, context) if grid else None
        return layer.crs() if layer is not None else QgsCoordinateReferenceSystem()
