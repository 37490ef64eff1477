"""Every job's parameters, declared once, with no QGIS and no torch in them.

The Processing algorithms build their QgsProcessingParameter* from these
declarations and `bin/mrs` builds its argument parser from them, so that the
Toolbox, the modeler, `qgis_process help` and `bin/mrs --help` show the same
names, defaults and help. The checks and readers of plain values (numbers,
choices, switches, the device) live here too: a value is refused with the same
sentence whichever front end it came through.
"""

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Tuple

from ..model_core import choices
from ..model_core.config import PRESETS
from ..model_core.errors import InputError
from .raster import TILE_SIZE

# Kinds of parameter. Layers, files, extents and destinations (up to FOLDER_OUT) are read by
# each front end in its own way (a QGIS layer or a file path); the others are plain values read here.
RASTER = "raster"
RASTERS = "rasters"
VECTOR = "vector"
EXTENT = "extent"
MODEL_FILE = "model file"
FILE_IN = "file"
FILE_OUT = "file destination"
RASTER_OUT = "raster destination"
VECTOR_OUT = "vector destination"
FOLDER_OUT = "folder destination"
FIELD = "field"
CHOICE = "choice"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
DEVICE = "device"
PLAIN_KINDS = (FIELD, CHOICE, INTEGER, NUMBER, BOOLEAN, DEVICE)
DESTINATIONS = (FILE_OUT, RASTER_OUT, VECTOR_OUT, FOLDER_OUT)

INTEGER_LIMIT = 2 ** 31 - 1
"""Largest whole number a parameter takes unless it declares another maximum
(what QGIS stores in an integer)."""
SEED_LIMIT = 2 ** 32 - 1

# Group id -> name shown in the Toolbox; every job belongs to one of them.
GROUPS = {"workflow": "Workflow", "training": "Training", "mapping": "Mapping", "analysis": "Analysis"}
# The numeric precisions model_core.device knows (that module imports torch, so it is not imported here).
MODEL_FILE_EXTENSION = "safetensors"
MODEL_FILE_FILTER = "SS-MAE model files (*.safetensors)"
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1"), ("false", "no", "0")


@dataclass(frozen=True)
class Parameter:
    """One parameter of a job: its id (the command-line name), label, kind, help and limits."""

    name: str
    description: str
    kind: str
    help: str
    default: Any = None
    optional: bool = False
    advanced: bool = False
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: Tuple[str, ...] = ()
    geometries: Tuple[str, ...] = ()  # of a VECTOR: "point", "polygon"
    parent: Optional[str] = None  # of a FIELD: its VECTOR parameter
    extension: Optional[str] = None  # of a MODEL_FILE
    file_filter: Optional[str] = None  # of a FILE_OUT or FILE_IN
    command_line: str = ""  # how to write it on qgis_process' command line, where that is not obvious

    def full_help(self, command_line: bool = False) -> str:
        """The help; with `command_line`, followed by how to write the value on qgis_process' command line
        (a dialog's help has no place for that)."""
        if command_line and self.command_line:
            return f"{self.help} On the command line, {self.command_line}"
        return self.help

    @property
    def upper(self) -> Optional[float]:
        """The largest value taken: the declared maximum, or for a whole number what QGIS can store."""
        return INTEGER_LIMIT if self.kind == INTEGER and self.maximum is None else self.maximum


@dataclass(frozen=True)
class Output:
    """A result a job returns besides its destinations: a figure (kind "number" or "string")
    or a layer it writes under a name of its own (kind "raster" or "vector")."""

    name: str
    description: str
    kind: str = "number"


@dataclass(frozen=True)
class Job:
    """One job: what the Toolbox lists as an algorithm and `bin/mrs` as a command."""

    name: str
    display_name: str
    group: str
    description: str  # paragraphs, one per line
    parameters: Tuple[Parameter, ...]
    outputs: Tuple[Output, ...] = ()
    # (vector, class field, label raster) ids of labelled pixels, of which exactly one source is needed.
    labelled_pixels: Optional[Tuple[str, str, str]] = None
    needs_torch: bool = True  # False for work done with numpy and GDAL alone, which runs before torch is installed

    def parameter(self, name: str) -> Parameter:
        return next(p for p in self.parameters if p.name == name)

    def output_lines(self) -> Iterator[Tuple[str, str]]:
        """(name, description) of every result: the destinations in order, then the figures."""
        for parameter in self.parameters:
            if parameter.kind in DESTINATIONS:
                yield parameter.name, parameter.description
        for output in self.outputs:
            yield output.name, output.description

    def help(self, command_line: bool = False) -> str:
        """The description, then one line per parameter and result: the help the Toolbox,
        `qgis_process help` (with `command_line`) and `bin/mrs JOB --help` show."""
        lines = [self.description.strip(), "", "Parameters"]
        lines += [f"{p.description} ({p.name}): {p.full_help(command_line)}" for p in self.parameters]
        lines += ["", "Outputs"]
        lines += [f"{description} ({name})" for name, description in self.output_lines()]
        return "\n".join(lines)


# Checks and readers -------------------------------------------------------------


def is_given(value: Any) -> bool:
    """Whether a value was given (an optional parameter left empty has None, "" or [])."""
    return value not in (None, "") and value != []


def _number_text(value: float, integer: bool) -> str:
    return str(int(value)) if integer else f"{value:g}"


def bounds_text(parameter: Parameter, value: Optional[float] = None) -> str:
    """"a whole number from 1 to 8192", "a number of at least 1": what the parameter takes.
    The implicit limit of whole numbers is named only to a value above it."""
    integer = parameter.kind == INTEGER
    low, high = parameter.minimum, parameter.upper
    if high is not None and parameter.maximum is None and (value is None or value <= high):
        high = None
    number = "a whole number" if integer else "a number"
    if low is not None and high is not None:
        return f"{number} from {_number_text(low, integer)} to {_number_text(high, integer)}"
    if low is not None:
        return f"{number} of at least {_number_text(low, integer)}"
    return f"{number} of at most {_number_text(high, integer)}" if high is not None else number


def _as_number(value: Any) -> Optional[float]:
    """A finite number from a number or its text, else None; whole numbers stay exact ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else value
    try:
        return int(text) if isinstance(text, str) and re.fullmatch(r"[+-]?\d+", text) else float(text)
    except (TypeError, ValueError, OverflowError):
        return None


def _shown(number: float, integer: bool) -> float:
    """The number as the message shows it: 3000000000 rather than 3e+09, 1.0 for a ratio."""
    if integer:
        return int(number) if float(number).is_integer() else number
    return float(number)


def _number_problem(parameter: Parameter, value: Any) -> Optional[str]:
    number = _as_number(value)
    integer = parameter.kind == INTEGER
    if number is None or not math.isfinite(number):
        return f"{parameter.name} is {value!r}; it must be {bounds_text(parameter)}."
    shown = _shown(number, integer)
    if integer and not float(number).is_integer():
        return f"{parameter.name} is {shown}, not a whole number; it must be {bounds_text(parameter, number)}."
    low, high = parameter.minimum, parameter.upper
    if (low is not None and number < low) or (high is not None and number > high):
        return f"{parameter.name} is {shown}; it must be {bounds_text(parameter, number)}."
    return None


def _boolean(value: Any) -> Optional[bool]:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None


def device_name(value: Any) -> str:
    return str(value or "auto").strip().lower()


def problem(parameter: Parameter, value: Any, destinations_required: bool = False) -> Optional[str]:
    """Why `value` is refused for `parameter`, as one sentence saying what to give instead, or None.

    Layers and files are checked here only as far as their names go; opening them is the engine's work.
    An output left empty is refused only with `destinations_required` (Processing makes a temporary file)."""
    if not is_given(value):
        if parameter.optional or parameter.default is not None:
            return None
        if parameter.kind in DESTINATIONS:
            return (f"{parameter.name} ({parameter.description}) has no value; give the file to write "
                    f"(--{parameter.name}=file).") if destinations_required else None
        if parameter.kind == RASTERS:
            return (f"{parameter.name} ({parameter.description}) needs at least 1 layer; "
                    f"add one (on the command line: --{parameter.name}=file.tif).")
        return f"{parameter.name} ({parameter.description}) has no value; give one."
    if parameter.kind in (INTEGER, NUMBER):
        return _number_problem(parameter, value)
    if parameter.kind == CHOICE and str(value) not in parameter.choices:
        return f"{parameter.name} is {value!r}; use one of: {', '.join(parameter.choices)}."
    if parameter.kind == BOOLEAN and _boolean(value) is None:
        return f"{parameter.name} is {value!r}; use true or false."
    if parameter.kind == DEVICE and not DEVICE_PATTERN.fullmatch(device_name(value)):
        return f"{parameter.name} is {device_name(value)!r}; use auto, cpu, cuda or cuda:N (N the GPU number, from 0)."
    if parameter.kind == MODEL_FILE and not str(value).lower().endswith(f".{parameter.extension}"):
        return (f"{parameter.name} ({parameter.description}): '{value}' is not a .{parameter.extension} file. "
                f"Choose a .{parameter.extension} file written by this plugin.")
    return None


def read(parameter: Parameter, value: Any) -> Any:
    """A plain value as the jobs take it: an exact int, a float, a choice, a bool, a device
    name or a field name; the default (None for an optional one) when not given.
    Raises InputError with `problem`'s sentence when it is refused."""
    refused = problem(parameter, value)
    if refused:
        raise InputError(refused)
    if not is_given(value):
        return parameter.default
    if parameter.kind == INTEGER:
        return int(_as_number(value))
    if parameter.kind == NUMBER:
        return float(_as_number(value))
    if parameter.kind == BOOLEAN:
        return _boolean(value)
    if parameter.kind == DEVICE:
        return device_name(value)
    return str(value)


def labelled_pixels_problem(job: Job, values: Mapping[str, Any]) -> Optional[str]:
    """Why the labelled-pixel parameters are unusable (not exactly one source, or no field), or None."""
    if job.labelled_pixels is None:
        return None
    vector, field, raster = job.labelled_pixels
    has_vector, has_raster = is_given(values.get(vector)), is_given(values.get(raster))
    if has_vector == has_raster:
        return f"Give either {vector} (with {field}) or {raster}, not {'both' if has_vector else 'neither'}."
    if has_vector and not is_given(values.get(field)):
        return f"{field} is empty: choose the field of {vector} that holds the class of each feature."
    return None


# Declarations shared by several jobs ------------------------------------------------


def _choice(name: str, description: str, options: Sequence[str], default: str, help_text: str,
            advanced: bool = False) -> Parameter:
    """A drop-down list whose values are the option names themselves.

    Both the Toolbox and the command line take the name (--PRESET=small), and a
    model built in the modeler stores the name, not a position.
    """
    return Parameter(
        name, description, CHOICE, f"{help_text} One of: {', '.join(options)}; default {default}.",
        default=default, choices=tuple(options), advanced=advanced,
        command_line=f"type the name (--{name}={default}), not the number qgis_process lists.",
    )


def _hsi() -> Parameter:
    return Parameter(
        "INPUT_HSI", "Hyperspectral raster", RASTER,
        "The hyperspectral image, all bands. Its grid (CRS, extent, pixel size) is the grid "
        "of every result; band wavelengths are read from its metadata when present.",
    )


def _aux(optional: bool = False) -> Parameter:
    """INPUT_AUX: required where a model uses it, optional for analyses."""
    same_as_training = "A model must be given the same kind of rasters, in the same order, as it was trained on. "
    return Parameter(
        "INPUT_AUX", "SAR or LiDAR rasters", RASTERS,
        (("Optional: one" if optional else "One")
         + " or more SAR or LiDAR rasters; all their bands are used, in the order given. "
         "They may have another CRS, extent or pixel size: they are resampled onto the "
         "hyperspectral grid on the fly (bilinear). "
         + ("" if optional else same_as_training)).rstrip(),
        optional=optional, command_line="repeat the argument: --INPUT_AUX=sar.tif --INPUT_AUX=dsm.tif.",
    )


def _extent(help_text: str) -> Parameter:
    return Parameter("EXTENT", "Extent", EXTENT, help_text, optional=True)


def _labelled_pixels(names: Tuple[str, str, str], what: str, grid: str, name_field: Optional[str] = None,
                     color_field: Optional[str] = None) -> Tuple[Parameter, ...]:
    """Points or polygons with a class field (and optional name and colour fields), or a label raster
    (exactly one of them)."""
    vector, field, raster = names
    parameters = [
        Parameter(
            vector, f"{what} (points or polygons)", VECTOR,
            f"{what} as points, or as polygons (every pixel whose centre lies inside one is a "
            f"sample). Give either this layer (with {field}) or {raster}.",
            optional=True, geometries=("point", "polygon"),
        ),
        Parameter(
            field, "Class field", FIELD,
            f"Field of {vector} with the class of each feature: an integer class value of 1 or more, "
            f"or a class name. Needed with {vector}.",
            optional=True, parent=vector,
        ),
    ]
    if name_field is not None:
        parameters.append(Parameter(
            name_field, "Class name field", FIELD,
            f"Optional: field of {vector} with the name of each class, shown in the map legend "
            f"when {field} holds numbers.",
            optional=True, parent=vector,
        ))
    if color_field is not None:
        parameters.append(Parameter(
            color_field, "Class colour field", FIELD,
            f"Optional: field of {vector} with the colour of each class in the map, written #rrggbb "
            "(#2b7bba). Without it, a label raster's colour table gives the colours, or the class names "
            "where they say what the class is (water blue, trees dark green, grass light green, crops "
            "yellow, bare soil brown, buildings red, roads grey; in several languages); other classes get "
            "colours that are easy to tell apart.",
            optional=True, parent=vector,
        ))
    parameters.append(Parameter(
        raster, f"{what} (label raster)", RASTER,
        f"{what} as a raster of class values: 1 or more for a class, 0 or nodata for unlabelled "
        f"pixels; resampled to {grid} by nearest neighbour when its grid differs. Give either "
        f"this raster or {vector}.",
        optional=True,
    ))
    return tuple(parameters)


def _preset(help_text: str) -> Parameter:
    return _choice(
        "PRESET", "Model size", tuple(PRESETS), "small",
        "Size of the SS-MAE transformer: paper (the published configuration: width 256, "
        "for a GPU), small (a good default on a CPU) or tiny (quick trials). " + help_text,
    )


def _training(epochs: int, batch_size: int, learning_rate: float) -> Tuple[Parameter, ...]:
    """EPOCHS, BATCH_SIZE and LEARNING_RATE, shared by pretraining and fine-tuning."""
    return (
        Parameter("EPOCHS", "Epochs", INTEGER, "Passes over all training samples.", default=epochs, minimum=1),
        Parameter("BATCH_SIZE", "Batch size", INTEGER,
                  "Samples per optimisation step. Lower it if the device runs out of memory.",
                  default=batch_size, minimum=1, advanced=True),
        Parameter("LEARNING_RATE", "Learning rate", NUMBER, "Base learning rate of the AdamW optimiser.",
                  default=learning_rate, minimum=1e-8, maximum=1.0, advanced=True),
    )


def _device() -> Parameter:
    return Parameter(
        "DEVICE", "Device", DEVICE,
        "Where the model runs: auto (the first CUDA GPU when torch sees one, else the CPU), "
        "cpu, cuda (the first CUDA GPU) or cuda:N (the CUDA GPU numbered N, from 0). "
        "The log says which device was used and why.",
        default="auto", advanced=True,
    )


def _precision() -> Parameter:
    return _choice(
        "PRECISION", "Numeric precision", choices.PRECISIONS, "auto",
        "Precision of the model's arithmetic: auto (bfloat16 where the device computes it natively: "
        "recent NVIDIA GPUs, CPUs with AVX-512 BF16 or AMX; float32 elsewhere), fp32 (always float32) "
        "or bf16 (always bfloat16). The log says which was used.",
        advanced=True,
    )


def _seed(what: str) -> Parameter:
    return Parameter(
        "SEED", "Random seed", INTEGER,
        f"Seed of the random generators ({what}); the same seed on the same device gives the same result.",
        default=0, minimum=0, maximum=SEED_LIMIT, advanced=True,
    )


def _model_file(name: str, description: str, help_text: str, optional: bool = False) -> Parameter:
    return Parameter(name, description, MODEL_FILE, help_text, optional=optional, extension=MODEL_FILE_EXTENSION)


def _resume() -> Parameter:
    return _model_file(
        "RESUME", "Resume from checkpoint",
        "Optional: a checkpoint written by an earlier, interrupted run of this algorithm with "
        "the same inputs; training goes on from its last finished epoch.",
        optional=True,
    )


def _file_out(name: str, description: str, file_filter: str, help_text: str, optional: bool = False) -> Parameter:
    return Parameter(name, description, FILE_OUT, help_text, optional=optional, file_filter=file_filter)


def _model_out(description: str, help_text: str) -> Parameter:
    return _file_out("OUTPUT", description, MODEL_FILE_FILTER,
                     f"{help_text} In QGIS' dialogs it is saved by default as a new file next to the project "
                     "(or, while the project is not saved, in Processing's output folder), never to a temporary file.")


def _classifier_and_scene(extent_use: str) -> Tuple[Parameter, ...]:
    """MODEL, INPUT_HSI, INPUT_AUX and EXTENT of the jobs that apply a classifier to a scene."""
    return (
        _model_file("MODEL", "Classifier model", "A classifier model file from 'Train classifier (fine-tune)'."),
        _hsi(),
        _aux(),
        _extent(f"Optional: {extent_use}. Default: the whole hyperspectral raster."),
    )


def _prediction() -> Tuple[Parameter, ...]:
    """TILE_SIZE, BATCH_SIZE, DEVICE and PRECISION of the jobs that apply a classifier to a scene."""
    return (
        Parameter("TILE_SIZE", "Tile size", INTEGER,
                  "Side, in pixels, of the square tiles read and classified one at a time; memory use grows with it.",
                  default=TILE_SIZE, minimum=16, maximum=8192, advanced=True),
        Parameter("BATCH_SIZE", "Batch size", INTEGER,
                  "Pixels classified per model call. Default (empty): chosen from the model's size and band count "
                  "to keep the work in the processor's caches. On a GPU that runs out of memory the batch is "
                  "halved automatically.",
                  minimum=1, advanced=True, optional=True),
        _device(),
        _precision(),
    )


def _ratio(name: str, description: str, help_text: str, default: float) -> Parameter:
    return Parameter(name, description, NUMBER, help_text, default=default, minimum=0.01, maximum=0.99)


# The jobs ---------------------------------------------------------------------------

PRETRAIN = Job(
    "pretrain", "Pretrain SS-MAE (MRS)", "training",
    "Teaches an SS-MAE spatial-spectral transformer the structure of a scene without any labels. "
    "Random pixel positions are drawn from the scene; in the small neighbourhood of each "
    "(7 x 7 pixels), part of the pixels and part of the bands are hidden, and the model "
    "learns to reconstruct them.\n"
    "With Mining Redundant Spectra (MRS) masking, the hidden bands are one random band and the "
    "bands most similar to it, so that the model cannot copy them from near-duplicate bands.\n"
    "The result is a model file for 'Train classifier (fine-tune)', which then needs far fewer "
    "labelled samples.\n"
    "The defaults (10,000 samples, 6 epochs, learning rate 0.001, normalised targets, the small model) "
    "are the recipe chosen by the project's accuracy benchmark; with the small model they take about "
    "4 minutes on one core of a 2-core CPU. The paper model needs about 12 minutes on 2 cores for the "
    "same samples and is meant for a GPU. The log gives the time left after every epoch.\n"
    "On the project's benchmark scenes this pretraining raised the accuracy with about 5 labelled pixels "
    "per class by about 1 point and made it steadier, and did not raise it with 20 per class.",
    (
        _hsi(),
        _aux(),
        Parameter("MORE_SCENES", "More scenes (list file)", FILE_IN,
                  "Optional: a text file listing further scenes with the same bands, so that one model learns "
                  "from a whole archive. One scene per line: its hyperspectral raster, then its SAR or LiDAR "
                  "rasters in the order of INPUT_AUX, separated by commas (paths relative to the file's folder, "
                  "or absolute; empty lines and lines starting with # are skipped). Every scene must have the "
                  "band counts of INPUT_HSI and INPUT_AUX, and the same wavelengths where known. The samples and "
                  "the normalisation statistics are drawn from all the scenes, each in proportion to its valid "
                  "pixels; EXTENT and MASK limit INPUT_HSI's scene only.",
                  optional=True, file_filter="Scene lists (*.txt *.csv)"),
        _extent("Optional: draw samples from this part of the scene only. Default: the whole hyperspectral raster."),
        Parameter("MASK", "Sample area", VECTOR,
                  "Optional: polygons; samples are drawn only from pixels whose centre lies inside them.",
                  optional=True, geometries=("polygon",)),
        _preset("The classifier fine-tuned from this model has the same size."),
        _choice("MASKING", "Spectral masking", choices.MASKING_STRATEGIES, "mrs",
                "How the hidden bands are chosen: mrs (Mining Redundant Spectra: a random band and the "
                "bands most similar to it, the method of the MRS paper) or random (random bands, as in "
                "the original SS-MAE)."),
        _ratio("SPECTRAL_RATIO", "Spectral mask ratio",
               "Fraction of the bands hidden in each sample, between 0.01 and 0.99.", choices.MASK_RATIO),
        _ratio("SPATIAL_RATIO", "Spatial mask ratio",
               "Fraction of the pixels of each sample's neighbourhood hidden, between 0.01 and 0.99.", choices.MASK_RATIO),
        Parameter("NORMALIZED_TARGETS", "Normalised reconstruction targets", BOOLEAN,
                  "Reconstruct each hidden pixel and band normalised over its own values (its shape, not its "
                  "level; MAE's norm_pix_loss), an option beyond the paper: on the benchmark scenes it gave the "
                  "pretrained features that classify best with few labels. No: the paper's raw values.",
                  default=True, advanced=True),
        Parameter("SAMPLES", "Number of samples", INTEGER,
                  "Number of random pixel positions (with their neighbourhoods) to learn from; only pixels "
                  "valid in every raster are drawn. The paper uses 200000.",
                  default=10000, minimum=1),
        *_training(epochs=6, batch_size=128, learning_rate=1e-3),
        _device(),
        _precision(),
        _seed("sample positions, masks, initial weights"),
        _resume(),
        _model_out("Pretrained model",
                   "The pretrained model file (.safetensors): weights, model size, band list and "
                   "normalisation statistics. Give it to 'Train classifier (fine-tune)' as PRETRAINED."),
    ),
    (Output("FINAL_LOSS", "Reconstruction loss of the last epoch"),),
)

FINETUNE = Job(
    "finetune", "Train classifier (fine-tune)", "training",
    "Trains an SS-MAE land-cover classifier from labelled samples: points, polygons or a label "
    "raster. Starting from a model made by 'Pretrain SS-MAE (MRS)' on the same kind of rasters "
    "needs far fewer samples than training from scratch.\n"
    "Part of the samples of each class is held out for validation; the epoch with the best "
    "validation accuracy is kept.\n"
    "The result is a classifier model file for 'Classify'.",
    (
        _hsi(),
        _aux(),
        *_labelled_pixels(("SAMPLES", "CLASS_FIELD", "LABELS"), "Training samples", "the hyperspectral grid",
                          "NAME_FIELD", "COLOR_FIELD"),
        _model_file("PRETRAINED", "Pretrained model",
                    "Optional: a model file from 'Pretrain SS-MAE (MRS)', pretrained on the same kind of "
                    "rasters. Without it, the classifier is trained from scratch.",
                    optional=True),
        _preset("Used only without a pretrained model, which has its own size."),
        Parameter("VALIDATION_FRACTION", "Validation fraction", NUMBER,
                  "Fraction of the samples of each class held out to choose the best epoch and to report "
                  "validation accuracy, between 0 and 0.9; with 0 all samples train and the last epoch is kept. "
                  "With few samples per class (under about 20) choose 0: a validation set of one or two pixels "
                  "per class picks epochs by chance, and the held-out samples are missed in training.",
                  default=0.2, minimum=0.0, maximum=0.9),
        *_training(epochs=100, batch_size=64, learning_rate=5e-4),
        Parameter("ENCODER_LR_FACTOR", "Encoder learning-rate factor", NUMBER,
                  "The transformer encoder learns at this fraction of the learning rate, the CNN branch and the "
                  "classifier head at the full rate, so that a few labels adjust pretrained features rather than "
                  "overwrite them. 1 trains every part at the same rate.",
                  default=0.2, minimum=0.01, maximum=1.0, advanced=True),
        Parameter("CLASS_WEIGHTING", "Weight classes by rarity", BOOLEAN,
                  "Weights each class's samples by the inverse of its share of the samples, so that rare "
                  "classes count as much as common ones.",
                  default=True, advanced=True),
        _device(),
        _precision(),
        _seed("validation split, batch order, initial weights"),
        _resume(),
        _model_out("Classifier model",
                   "The classifier model file (.safetensors): weights, classes with their names and colours, "
                   "band list and normalisation statistics. Give it to 'Classify' as MODEL."),
    ),
    (
        Output("VALIDATION_ACCURACY", "Validation overall accuracy (0..1)"),
        Output("VALIDATION_KAPPA", "Validation kappa"),
        Output("BEST_EPOCH", "Epoch kept (best validation accuracy)"),
    ),
    labelled_pixels=("SAMPLES", "CLASS_FIELD", "LABELS"),
)

CLASSIFY = Job(
    "classify", "Classify", "mapping",
    "Makes a land-cover map with a classifier model from 'Train classifier (fine-tune)'. "
    "The scene is read and classified tile by tile, so rasters of any size fit in memory.\n"
    "The map is a GeoTIFF on the grid of the hyperspectral raster, with the model's class names "
    "and colours; pixels that are nodata in any input are 0 (no data).",
    (
        *_classifier_and_scene("classify only this part of the scene"),
        *_prediction(),
        Parameter("OUTPUT", "Land-cover map", RASTER_OUT,
                  "The land-cover GeoTIFF: class values (0 = no data) with the model's class names and "
                  "colours, and a .qml style beside it."),
        Parameter("OUTPUT_CONFIDENCE", "Confidence", RASTER_OUT,
                  "Optional: a GeoTIFF with, for each pixel, the model's probability (0 to 1) of the class it chose.",
                  optional=True),
    ),
)

SUGGEST = Job(
    "suggest", "Where to label next", "training",
    "Suggests the pixels worth labelling next: a classifier from 'Train classifier (fine-tune)' classifies "
    "the scene (tile by tile, as 'Classify' does), and the pixels it is least sure of, at least a minimum "
    "distance apart so that each point asks a new question, are written as points.\n"
    "Each point carries the predicted class, the classifier's confidence and its rank (1 = least confident), "
    "and an empty class field named and typed as in the classifier's training samples. Visit or inspect the "
    "points, fill in the class field, add them to the training samples and train again: labels placed where "
    "the classifier hesitates teach it more than labels placed at random.",
    (
        *_classifier_and_scene("suggest pixels in this part of the scene only"),
        Parameter("MASK", "Suggestion area", VECTOR,
                  "Optional: polygons; only pixels whose centre lies inside them are suggested (for example the "
                  "places an analyst can visit or see in an aerial photograph).",
                  optional=True, geometries=("polygon",)),
        Parameter("POINTS", "Number of points", INTEGER, "How many pixels to suggest.",
                  default=20, minimum=1, maximum=100000),
        Parameter("MIN_DISTANCE", "Minimum distance (pixels)", NUMBER,
                  "Suggested pixels lie at least this many pixels apart (between pixel centres), so that they "
                  "are spread over the uncertain places rather than heaped on one. 0 gives the least confident "
                  "pixels wherever they are.",
                  default=10.0, minimum=0.0, maximum=100000.0),
        *_prediction(),
        _seed("order of pixels of equal confidence"),
        Parameter("OUTPUT", "Suggested points", VECTOR_OUT,
                  "A GeoPackage of points at the centres of the suggested pixels, least confident first. In "
                  "QGIS' dialogs it is saved by default as a new file next to the project (or, while the project "
                  "is not saved, in Processing's output folder), never to a temporary file, so that the classes "
                  "filled in are kept."),
    ),
    (Output("COUNT", "Number of points written"),),
)

ACCURACY = Job(
    "accuracy", "Accuracy assessment", "analysis",
    "Compares a land-cover map with reference samples that were not used for training. "
    "Reports the confusion matrix, overall accuracy, average accuracy, kappa, and each class's "
    "producer's and user's accuracy and F1 score.",
    (
        Parameter("INPUT", "Land-cover map", RASTER,
                  "The map to assess, for example from 'Classify': class values of 1 or more, 0 = no data."),
        *_labelled_pixels(("REFERENCE", "REFERENCE_FIELD", "REFERENCE_LABELS"), "Reference samples",
                          "the map's grid"),
        _file_out("OUTPUT_HTML", "Accuracy report", "HTML files (*.html)",
                  "The report as a web page: summary figures, confusion matrix and per-class table."),
        _file_out("OUTPUT_JSON", "Accuracy figures (JSON)", "JSON files (*.json)",
                  "Optional: every figure of the report as JSON, for scripts.", optional=True),
        _file_out("OUTPUT_CSV", "Confusion matrix (CSV)", "CSV files (*.csv)",
                  "Optional: the confusion matrix as CSV, reference classes in rows, map classes in columns.",
                  optional=True),
    ),
    (
        Output("OVERALL_ACCURACY", "Overall accuracy (0..1)"),
        Output("AVERAGE_ACCURACY", "Average accuracy (0..1)"),
        Output("KAPPA", "Kappa"),
    ),
    labelled_pixels=("REFERENCE", "REFERENCE_FIELD", "REFERENCE_LABELS"),
)

REDUNDANCY = Job(
    "redundancy", "Spectral band redundancy", "analysis",
    "Measures how similar the bands of a scene are to each other (cosine similarity over a "
    "random sample of pixels) and groups the bands that are nearly copies of each other.\n"
    "Many such groups mean that random spectral masking leaks: a hidden band can be copied from "
    "its neighbours. This is what Mining Redundant Spectra (MRS) masking avoids.",
    (
        _hsi(),
        _aux(optional=True),
        Parameter("THRESHOLD", "Similarity threshold", NUMBER,
                  "Bands whose cosine similarity is at least this value are put in the same group, between 0 and 1.",
                  default=0.95, minimum=0.0, maximum=1.0),
        _ratio("MASK_RATIO", "Spectral mask ratio to assess",
               "A fraction of the bands, between 0.01 and 0.99, as pretraining would hide at random: the log "
               "and LEAKAGE say how many hidden bands keep a visible band at least THRESHOLD-similar, from "
               "which they could be copied. Try the ratio you mean to pretrain with.", choices.MASK_RATIO),
        Parameter("SAMPLE_SIZE", "Sample size", INTEGER,
                  "Number of random valid pixels the similarities are computed on.", default=20000, minimum=100),
        _seed("pixel sample"),
        _file_out("OUTPUT_PNG", "Similarity heat map", "PNG files (*.png)",
                  "The band-by-band similarity matrix as a heat map image."),
        _file_out("OUTPUT_CSV", "Similarity matrix (CSV)", "CSV files (*.csv)",
                  "The band-by-band similarity matrix as CSV, with band names as row and column headers."),
    ),
    (
        Output("GROUPS", "Groups of similar bands", "string"),
        Output("GROUP_COUNT", "Number of groups"),
        Output("LEAKAGE", "Share of randomly masked bands with a similar visible band (0..1)"),
    ),
)

# Output id -> (file of the demo scene, layer name in the project).
DEMO_SCENE_LAYERS = {
    "HSI": ("hsi.tif", "Demo hyperspectral"),
    "LIDAR": ("lidar.tif", "Demo LiDAR"),
    "SAR": ("sar.tif", "Demo SAR"),
    "TRAIN_POINTS": ("train_points.gpkg", "Demo training points"),
    "TRAIN_LABELS": ("train.tif", "Demo training labels"),
    "TEST_LABELS": ("test.tif", "Demo test labels"),
}

DEMO_SCENE = Job(
    "demoscene", "Create demo scene", "workflow",
    "Writes a small simulated landscape into a folder (and, in QGIS, adds it to the project), so that the "
    "algorithms can be tried without data of one's own: a hyperspectral raster (400-1000 nm, wavelengths in "
    "its metadata), a LiDAR raster (height above ground and intensity), optionally a SAR raster, training "
    "points with class_id and class_name fields, and training and test label rasters of seven classes "
    "(crop, grassland, bare soil, trees, buildings, roads, water).\n"
    "Trees and grassland, buildings and roads look alike in the hyperspectral bands; the LiDAR (or SAR) "
    "tells them apart, as on real data.\n"
    "Then run 'Workflow: pretrain, train, classify, assess' with the hyperspectral raster, the LiDAR raster, "
    "the training points (class field class_id, name field class_name) and the test labels as reference.",
    (
        Parameter("SIZE", "Size (pixels)", INTEGER, "Width and height of the scene in pixels of 1 m, from 48 to 1024.",
                  default=192, minimum=48, maximum=1024),
        Parameter("BANDS", "Hyperspectral bands", INTEGER,
                  "Number of bands evenly spaced over 400-1000 nm, from 3 to 400.", default=100, minimum=3,
                  maximum=400),
        Parameter("WITH_SAR", "Also write a SAR raster", BOOLEAN,
                  "Also writes sar.tif: C-band-like VV and VH backscatter with speckle, to try the method with "
                  "SAR in place of (or next to) the LiDAR.", default=False),
        _seed("layout and simulation"),
        Parameter("OUTPUT", "Scene folder", FOLDER_OUT,
                  "A new or empty folder for the scene's files (it must not hold an earlier scene)."),
    ),
    tuple(Output(name, layer, "vector" if file.endswith(".gpkg") else "raster")
          for name, (file, layer) in DEMO_SCENE_LAYERS.items()),
    needs_torch=False,
)

JOBS: Dict[str, Job] = {job.name: job for job in (PRETRAIN, FINETUNE, SUGGEST, CLASSIFY, ACCURACY, REDUNDANCY,
                                                   DEMO_SCENE)}
"""The jobs in Toolbox order, by id."""
