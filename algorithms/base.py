"""The base class of every MRS Processing algorithm.

What all algorithms share lives here: ids, groups and icon; parameter helpers
that attach help to each parameter (shown by the Toolbox, the modeler and
`qgis_process help`); and the steps around the work itself: the torch check,
the CPU thread and device choice, the progress and cancel bridge, and the
translation of the project's errors into Processing errors.

An algorithm declares its parameters in `initAlgorithm` and does its work in
`execute` (not `run`: that is QgsProcessingAlgorithm's own, which Processing
calls). torch, the model and the raster pipeline are imported inside methods at
run time only, so that QGIS starts fast and also without torch.
"""

import os
import re
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

from qgis.core import (
    QgsApplication,
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsRasterLayer,
    QgsVectorFileWriter,
)
from qgis.PyQt.QtGui import QIcon

from ..model_core.config import PRESETS
from ..model_core.errors import InputError, MrsError
from ..model_core.hooks import Hooks
from ..mrs_qgis_plugin.dependencies import missing_dependencies_message

ICON_PATH = str(Path(__file__).resolve().parents[1] / "resources" / "icons" / "mrs.svg")

# Group id -> name shown in the Toolbox; every algorithm belongs to one of them.
GROUPS = {"training": "Training", "mapping": "Mapping", "analysis": "Analysis"}

# The numeric precisions model_core.device knows (that module imports torch, so it is not imported here).
PRECISIONS = ("auto", "fp32", "bf16")
MODEL_FILE_EXTENSION = "safetensors"
MODEL_FILE_FILTER = "SS-MAE model files (*.safetensors)"
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def hooks_from_feedback(feedback: Optional[QgsProcessingFeedback]) -> Hooks:
    """Hooks that report to a Processing feedback: progress 0..1 as percent, log lines as info."""
    if feedback is None:
        return Hooks()
    return Hooks(
        progress=lambda fraction: feedback.setProgress(100.0 * fraction),
        log=feedback.pushInfo,
        is_canceled=feedback.isCanceled,
    )


def available_cores() -> int:
    """CPU cores this process may run on (fewer than the machine's in a container or under taskset)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_threads(platform: str, cores: int) -> int:
    """Threads for torch: all cores but one in QGIS desktop, so that its window stays responsive."""
    return max(1, cores - 1) if platform == "desktop" else cores


def requested_threads() -> Optional[int]:
    """The thread count the user set in OMP_NUM_THREADS (as torch itself honours it), or None."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def is_given(parameters: Dict[str, Any], name: str) -> bool:
    """Whether a parameter has a value (an optional one left empty has None or "")."""
    return parameters.get(name) not in (None, "")


def labelled_pixels_problem(parameters: Dict[str, Any], vector: str, field: str, raster: str) -> Optional[str]:
    """Why the labelled-pixel parameters are unusable (not exactly one source, or no field), or None."""
    has_vector, has_raster = is_given(parameters, vector), is_given(parameters, raster)
    if has_vector == has_raster:
        return f"Give either {vector} (with {field}) or {raster}, not {'both' if has_vector else 'neither'}."
    if has_vector and not is_given(parameters, field):
        return f"{field} is empty: choose the field of {vector} that holds the class of each feature."
    return None


def _unreadable_layer(name: str, value: Any, kind: str, context: QgsProcessingContext) -> Optional[str]:
    """Why a layer value cannot be loaded (missing file, unreadable file), or None when it can."""
    if isinstance(value, QgsMapLayer) or not isinstance(value, str):
        return None
    if QgsProcessingUtils.mapLayerFromString(value, context) is not None:
        return None
    path = value.split("|")[0]
    if not os.path.exists(path) and "://" not in path and not path.startswith("/vsi"):
        return (f"{name}: '{value}' is neither a layer of the project nor an existing file. "
                f"Choose a {kind} layer or file.")
    return f"{name}: '{value}' cannot be opened as a {kind} layer. Choose a {kind} layer or file that QGIS can read."


def _bounds(definition: QgsProcessingParameterNumber) -> str:
    integer = definition.dataType() == QgsProcessingParameterNumber.Integer
    low, high = definition.minimum(), definition.maximum()
    number = "a whole number" if integer else "a number"
    low_text, high_text = (f"{value:g}" for value in (low, high))
    if low > -1e300 and high < 1e300:
        return f"{number} from {low_text} to {high_text}"
    if low > -1e300:
        return f"{number} of at least {low_text}"
    return f"{number} of at most {high_text}" if high < 1e300 else number


def refused_value_message(
    definition: QgsProcessingParameterDefinition, value: Any, context: QgsProcessingContext
) -> str:
    """A sentence saying why Processing refuses `value` for `definition` and what to give instead,
    in place of Processing's own "Incorrect parameter value for X"."""
    name = definition.name()
    if value in (None, "") or value == []:
        if isinstance(definition, QgsProcessingParameterMultipleLayers):
            return (f"{name} ({definition.description()}) needs at least {definition.minimumNumberInputs()} layer; "
                    f"add one (on the command line: --{name}=file.tif).")
        return f"{name} ({definition.description()}) has no value; give one."
    if isinstance(definition, QgsProcessingParameterNumber):
        return f"{name} is {value!r}; it must be {_bounds(definition)}."
    if isinstance(definition, QgsProcessingParameterEnum):
        return f"{name} is {value!r}; use one of: {', '.join(definition.options())}."
    if isinstance(definition, QgsProcessingParameterFile) and definition.extension():
        return (f"{name} ({definition.description()}): '{value}' is not a .{definition.extension()} file. "
                f"Choose a .{definition.extension()} file written by this plugin.")
    kinds = {QgsProcessingParameterRasterLayer: "raster", QgsProcessingParameterMultipleLayers: "raster",
             QgsProcessingParameterFeatureSource: "vector"}
    kind = next((text for cls, text in kinds.items() if isinstance(definition, cls)), None)
    if kind:
        values = value if isinstance(value, (list, tuple)) else [value]
        problems = (_unreadable_layer(name, item, kind, context) for item in values)
        problem = next((text for text in problems if text), None)
        if problem:
            return problem
    return f"{name} ({definition.description()}): the value {value!r} is not accepted; see the parameter's help."


def raster_input_of(layer: Optional[QgsMapLayer], parameter: str) -> Any:
    """A raster layer as the pipeline's `RasterInput`; only layers of QGIS' GDAL provider have
    a source that GDAL itself opens."""
    from ..mrs_qgis_plugin.raster.sources import RasterInput

    if layer is None or not layer.isValid():
        raise InputError(f"{parameter}: the layer cannot be opened as a raster. Choose a raster layer or file.")
    if not isinstance(layer, QgsRasterLayer):
        raise InputError(f"{parameter}: '{layer.name()}' is not a raster layer. Choose a raster layer.")
    if layer.providerType() != "gdal":
        raise InputError(
            f"{parameter}: the layer '{layer.name()}' comes from QGIS' '{layer.providerType()}' data provider, "
            "which the MRS algorithms cannot read. Save it as a GeoTIFF (Export > Save As...) and choose that file."
        )
    return RasterInput(layer.source(), layer.name())


class MrsAlgorithm(QgsProcessingAlgorithm):
    """What every MRS algorithm shares; subclasses set the class attributes and
    write `initAlgorithm` and `execute`."""

    # Parameter ids used by more than one algorithm.
    INPUT_HSI = "INPUT_HSI"
    INPUT_AUX = "INPUT_AUX"
    EXTENT = "EXTENT"
    PRESET = "PRESET"
    EPOCHS = "EPOCHS"
    BATCH_SIZE = "BATCH_SIZE"
    LEARNING_RATE = "LEARNING_RATE"
    DEVICE = "DEVICE"
    SEED = "SEED"
    PRECISION = "PRECISION"
    RESUME = "RESUME"
    OUTPUT = "OUTPUT"
    OUTPUT_CSV = "OUTPUT_CSV"

    ALGORITHM_ID = ""
    DISPLAY_NAME = ""
    GROUP_ID = ""
    DESCRIPTION = ""  # paragraphs, one per line
    # (vector, class field, label raster) ids of labelled pixels, of which exactly one source is needed.
    LABELLED_PIXELS: Optional[Tuple[str, str, str]] = None

    def name(self) -> str:
        return self.ALGORITHM_ID

    def displayName(self) -> str:  # noqa: N802 - QGIS API name
        return self.DISPLAY_NAME

    def group(self) -> str:
        return GROUPS[self.GROUP_ID]

    def groupId(self) -> str:  # noqa: N802 - QGIS API name
        return self.GROUP_ID

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:  # noqa: N802 - QGIS API name
        return ICON_PATH

    def createInstance(self) -> "MrsAlgorithm":  # noqa: N802 - QGIS API name
        return type(self)()

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API name
        """The description, then one line per parameter and output.

        The Toolbox shows each line as a paragraph; qgis_process prints it as it is.
        """
        lines = [self.DESCRIPTION.strip(), "", "Parameters"]
        lines += [f"{p.description()} ({p.name()}): {p.help()}" for p in self.parameterDefinitions()]
        lines += ["", "Outputs"]
        lines += [f"{o.description()} ({o.name()})" for o in self.outputDefinitions()]
        return "\n".join(lines)

    # Parameter helpers -------------------------------------------------------

    def add_with_help(
        self, parameter: QgsProcessingParameterDefinition, help_text: str, advanced: bool = False
    ) -> None:
        """Add a parameter with its help (every parameter has one)."""
        parameter.setHelp(help_text)
        if advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def add_hsi_parameter(self) -> None:
        self.add_with_help(
            QgsProcessingParameterRasterLayer(self.INPUT_HSI, "Hyperspectral raster"),
            "The hyperspectral image, all bands. Its grid (CRS, extent, pixel size) is the grid "
            "of every result; band wavelengths are read from its metadata when present.",
        )

    def add_aux_parameter(self, optional: bool = False) -> None:
        """INPUT_AUX: required where a model uses it, optional for analyses."""
        parameter = QgsProcessingParameterMultipleLayers(
            self.INPUT_AUX, "SAR or LiDAR rasters", QgsProcessing.TypeRaster, optional=optional
        )
        if not optional:
            parameter.setMinimumNumberInputs(1)
        same_as_training = "A model must be given the same kind of rasters, in the same order, as it was trained on. "
        self.add_with_help(
            parameter,
            ("Optional: one" if optional else "One")
            + " or more SAR or LiDAR rasters; all their bands are used, in the order given. "
            "They may have another CRS, extent or pixel size: they are resampled onto the "
            "hyperspectral grid on the fly (bilinear). "
            + ("" if optional else same_as_training)
            + "On the command line, repeat the argument: --INPUT_AUX=sar.tif --INPUT_AUX=dsm.tif.",
        )

    def add_extent_parameter(self, help_text: str) -> None:
        self.add_with_help(QgsProcessingParameterExtent(self.EXTENT, "Extent", optional=True), help_text)

    def add_labelled_pixels_parameters(self, what: str, grid: str, name_field: Optional[str] = None) -> None:
        """The LABELLED_PIXELS parameters: points or polygons with a class field, or a label raster."""
        vector, field, raster = self.LABELLED_PIXELS
        self.add_with_help(
            QgsProcessingParameterFeatureSource(
                vector,
                f"{what} (points or polygons)",
                [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon],
                optional=True,
            ),
            f"{what} as points, or as polygons (every pixel whose centre lies inside one is a "
            f"sample). Give either this layer (with {field}) or {raster}.",
        )
        self.add_with_help(
            QgsProcessingParameterField(field, "Class field", parentLayerParameterName=vector, optional=True),
            f"Field of {vector} with the class of each feature: an integer class value of 1 or more, "
            f"or a class name. Needed with {vector}.",
        )
        if name_field is not None:
            self.add_with_help(
                QgsProcessingParameterField(
                    name_field, "Class name field", parentLayerParameterName=vector, optional=True
                ),
                f"Optional: field of {vector} with the name of each class, shown in the map legend "
                f"when {field} holds numbers.",
            )
        self.add_with_help(
            QgsProcessingParameterRasterLayer(raster, f"{what} (label raster)", optional=True),
            f"{what} as a raster of class values: 1 or more for a class, 0 or nodata for unlabelled "
            f"pixels; resampled to {grid} by nearest neighbour when its grid differs. Give either "
            f"this raster or {vector}.",
        )

    def add_choice_parameter(
        self, name: str, description: str, options: Sequence[str], default: str, help_text: str, advanced: bool = False
    ) -> None:
        """A drop-down list whose values are the option names themselves.

        Both the Toolbox and the command line take the name (--PRESET=small),
        and a model built in the modeler stores the name, not a position.
        """
        parameter = QgsProcessingParameterEnum(
            name, description, list(options), defaultValue=default, usesStaticStrings=True
        )
        self.add_with_help(
            parameter,
            f"{help_text} One of: {', '.join(options)}; default {default}. On the command line, "
            f"type the name (--{name}={default}), not the number qgis_process lists.",
            advanced,
        )

    def add_preset_parameter(self, help_text: str) -> None:
        self.add_choice_parameter(
            self.PRESET,
            "Model size",
            tuple(PRESETS),
            "small",
            "Size of the SS-MAE transformer: paper (the published configuration: width 256, "
            "for a GPU), small (a good default on a CPU) or tiny (quick trials). " + help_text,
        )

    def add_number_parameter(
        self,
        name: str,
        description: str,
        help_text: str,
        default: float,
        minimum: Optional[float] = None,
        maximum: Optional[float] = None,
        integer: bool = True,
        advanced: bool = False,
        optional: bool = False,
    ) -> None:
        kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
        parameter = QgsProcessingParameterNumber(name, description, kind, default, optional)
        if minimum is not None:
            parameter.setMinimum(minimum)
        if maximum is not None:
            parameter.setMaximum(maximum)
        self.add_with_help(parameter, help_text, advanced)

    def add_training_parameters(self, epochs: int, batch_size: int, learning_rate: float) -> None:
        """EPOCHS, BATCH_SIZE and LEARNING_RATE, shared by pretraining and fine-tuning."""
        self.add_number_parameter(
            self.EPOCHS, "Epochs", "Passes over all training samples.", epochs, minimum=1
        )
        self.add_number_parameter(
            self.BATCH_SIZE,
            "Batch size",
            "Samples per optimisation step. Lower it if the device runs out of memory.",
            batch_size,
            minimum=1,
            advanced=True,
        )
        self.add_number_parameter(
            self.LEARNING_RATE,
            "Learning rate",
            "Base learning rate of the AdamW optimiser.",
            learning_rate,
            minimum=1e-8,
            maximum=1.0,
            integer=False,
            advanced=True,
        )

    def add_device_parameter(self) -> None:
        self.add_with_help(
            QgsProcessingParameterString(self.DEVICE, "Device", defaultValue="auto"),
            "Where the model runs: auto (the first CUDA GPU when torch sees one, else the CPU), "
            "cpu, cuda (the first CUDA GPU) or cuda:N (the CUDA GPU numbered N, from 0). "
            "The log says which device was used and why.",
            advanced=True,
        )

    def add_precision_parameter(self) -> None:
        self.add_choice_parameter(
            self.PRECISION,
            "Numeric precision",
            PRECISIONS,
            "auto",
            "Precision of the model's arithmetic: auto (bfloat16 where the device computes it natively: "
            "recent NVIDIA GPUs, CPUs with AVX-512 BF16 or AMX; float32 elsewhere), fp32 (always float32) "
            "or bf16 (always bfloat16). The log says which was used.",
            advanced=True,
        )

    def add_seed_parameter(self, what: str) -> None:
        self.add_number_parameter(
            self.SEED,
            "Random seed",
            f"Seed of the random generators ({what}); the same seed on the same device gives the same result.",
            0,
            minimum=0,
            advanced=True,
        )

    def add_model_file_parameter(self, name: str, description: str, help_text: str, optional: bool = False) -> None:
        self.add_with_help(
            QgsProcessingParameterFile(
                name,
                description,
                QgsProcessingParameterFile.File,
                extension=MODEL_FILE_EXTENSION,
                optional=optional,
            ),
            help_text,
        )

    def add_resume_parameter(self) -> None:
        self.add_model_file_parameter(
            self.RESUME,
            "Resume from checkpoint",
            "Optional: a checkpoint written by an earlier, interrupted run of this algorithm with "
            "the same inputs; training goes on from its last finished epoch.",
            optional=True,
        )

    def add_file_destination(
        self, name: str, description: str, file_filter: str, help_text: str, optional: bool = False
    ) -> None:
        self.add_with_help(
            QgsProcessingParameterFileDestination(
                name, description, file_filter, optional=optional, createByDefault=not optional
            ),
            help_text,
        )

    def add_model_destination(self, description: str, help_text: str) -> None:
        self.add_file_destination(self.OUTPUT, description, MODEL_FILE_FILTER, help_text)

    # Run time ----------------------------------------------------------------

    def checkParameterValues(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext
    ):
        if self.parameterDefinition(self.DEVICE) is not None:
            device = self.device_name(parameters, context)
            if not DEVICE_PATTERN.fullmatch(device):
                return False, f"DEVICE is {device!r}; use auto, cpu, cuda or cuda:N (N the GPU number, from 0)."
        if self.LABELLED_PIXELS is not None:
            problem = labelled_pixels_problem(parameters, *self.LABELLED_PIXELS)
            if problem:
                return False, problem
        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if not definition.checkValueIsAcceptable(value, context):
                return False, refused_value_message(definition, value, context)
        return super().checkParameterValues(parameters, context)

    def device_name(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        return (self.parameterAsString(parameters, self.DEVICE, context) or "auto").strip().lower()

    def device(self, parameters: Dict[str, Any], context: QgsProcessingContext, hooks: Hooks) -> Any:
        """The torch device chosen by DEVICE, logged; raises DeviceError when it is not there."""
        import torch

        from ..model_core.device import describe_device, resolve_device

        name = self.device_name(parameters, context)
        device = resolve_device(name)
        if name == "auto" and device.type == "cpu":
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "torch sees no CUDA GPU"
            hooks.log(f"Device auto: the CPU, because {why} (torch {torch.__version__}).")
        hooks.log(f"Device: {describe_device(device)}.")
        return device

    # Parameters read at run time, as the jobs take them ------------------------

    def raster_input(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> Any:
        """A raster parameter as the pipeline's `RasterInput` (the layer's file and name)."""
        return raster_input_of(self.parameterAsRasterLayer(parameters, name, context), name)

    def layers(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Any:
        """INPUT_HSI and INPUT_AUX as the jobs' `Layers`."""
        from ..mrs_qgis_plugin.jobs import Layers

        aux = self.parameterAsLayerList(parameters, self.INPUT_AUX, context)
        return Layers(
            self.raster_input(parameters, self.INPUT_HSI, context),
            [raster_input_of(layer, self.INPUT_AUX) for layer in aux],
        )

    def extent(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[Tuple[float, ...]]:
        """EXTENT in the CRS of the hyperspectral layer as (xmin, ymin, xmax, ymax), or None when not given."""
        if not is_given(parameters, self.EXTENT):
            return None
        crs = self.parameterAsRasterLayer(parameters, self.INPUT_HSI, context).crs()
        rectangle = self.parameterAsExtent(parameters, self.EXTENT, context, crs)
        return (rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum())

    def vector_source(
        self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Tuple[str, str]:
        """A vector parameter as a source OGR opens ('file.gpkg|layername=x') and the layer's name.

        A layer OGR cannot read as it is (a memory layer, a selection, a filtered
        layer, a web service) is first copied into a temporary GeoPackage.
        """
        layer = self.parameterAsVectorLayer(parameters, name, context)
        if layer is None or not layer.isValid():
            raise InputError(f"{name}: the layer cannot be opened as a vector layer. Choose a point or polygon layer.")
        path, layer_name = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, QgsVectorFileWriter.supportedFormatExtensions(), "gpkg", feedback
        )
        return (f"{path}|layername={layer_name}" if layer_name else path), layer.name()

    def label_source(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        name_field: Optional[str] = None,
    ) -> Any:
        """The LABELLED_PIXELS parameters as the jobs' `LabelSource`."""
        from ..mrs_qgis_plugin.jobs import LabelSource

        vector, field, raster = self.LABELLED_PIXELS
        if is_given(parameters, raster):
            labels = self.raster_input(parameters, raster, context)
            return LabelSource(labels.name, raster_path=labels.path)
        path, layer_name = self.vector_source(parameters, vector, context, feedback)
        names = self.parameterAsString(parameters, name_field, context) if name_field else ""
        return LabelSource(
            layer_name,
            vector_path=path,
            class_field=self.parameterAsString(parameters, field, context),
            name_field=names or None,
        )

    def optional_file(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> Optional[str]:
        return self.parameterAsFile(parameters, name, context) or None

    def optional_output(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> Optional[str]:
        return self.parameterAsFileOutput(parameters, name, context) or None

    def precision(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        return self.parameterAsEnumString(parameters, self.PRECISION, context)

    def train_settings(self, parameters: Dict[str, Any], context: QgsProcessingContext, hooks: Hooks) -> Any:
        """EPOCHS, BATCH_SIZE, LEARNING_RATE, SEED, DEVICE and PRECISION as model_core's `TrainSettings`."""
        from ..model_core.training import TrainSettings

        return TrainSettings(
            epochs=self.parameterAsInt(parameters, self.EPOCHS, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            lr=self.parameterAsDouble(parameters, self.LEARNING_RATE, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            device=str(self.device(parameters, context, hooks)),
            precision=self.precision(parameters, context),
        )

    def processAlgorithm(  # noqa: N802 - QGIS API name
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        message = missing_dependencies_message()
        if message:
            raise QgsProcessingException(message)
        hooks = hooks_from_feedback(feedback)
        import torch

        cores = available_cores()
        threads = requested_threads() or cpu_threads(QgsApplication.platform(), cores)
        torch.set_num_threads(threads)
        hooks.log(f"CPU threads: {threads} of {cores} cores.")
        try:
            return self.execute(parameters, context, feedback, hooks)
        except MrsError as error:
            raise QgsProcessingException(str(error)) from None

    def execute(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        hooks: Hooks,
    ) -> Dict[str, Any]:
        """The algorithm's own work; returns the outputs by id.

        In QGIS desktop it runs in a worker thread: read layers through the
        parameterAs* methods only, and start no processes (no multiprocessing,
        DataLoader with num_workers=0).
        """
        raise NotImplementedError(f"{type(self).__name__} must define execute().")
