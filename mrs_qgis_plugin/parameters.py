"""What a job's parameter is, and the checks and readers of its values, with no QGIS and no torch in them.

Every job's parameters are declared once (`job_parameters`, from the pieces several jobs share in
`shared_parameters`) as the `Parameter`s, `Output`s and `Job`s of this module. The Processing
algorithms build their QgsProcessingParameter* from these declarations and `bin/mrs` builds its
argument parser from them, so that the Toolbox, the modeler, `qgis_process help` and `bin/mrs --help`
show the same names, defaults and help. The checks and readers of plain values (numbers, choices,
switches, the device) live here: a value is refused with the same sentence whichever front end it
came through.
"""

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Tuple

from ..model_core.digits import whole_number
from ..model_core.errors import InputError
from ..model_core.names import joined

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
"""Largest whole number a parameter takes, and the largest maximum one may declare: what QGIS
stores in an integer, and what the spin box of its dialogs holds (a larger maximum wraps round
to a negative one there, and the dialog refuses every value)."""

# Group id -> name shown in the Toolbox; every job belongs to one of them.
GROUPS = {"workflow": "Workflow", "training": "Training", "mapping": "Mapping", "analysis": "Analysis"}
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
    geometries: Tuple[str, ...] = ()  # of a VECTOR: "point", "line", "polygon"
    parent: Optional[str] = None  # of a FIELD: its VECTOR parameter
    file_filter: Optional[str] = None  # of a FILE_OUT or FILE_IN
    command_line: str = ""  # how to write it on qgis_process' command line, where that is not obvious
    created: Optional[bool] = None  # of an optional destination: whether dialogs create it by default (not optional)
    meant: str = ""  # of a number: what a file name given here was most likely meant for

    def full_help(self, command_line: bool = False) -> str:
        """The help; with `command_line`, followed by how to write the value on qgis_process' command line
        (a dialog's help has no place for that)."""
        return self.help + (self.command_line_note() if command_line else "")

    def command_line_note(self) -> str:
        """' On the command line, ...' where writing the value there is not obvious, and a number's
        default and bounds, which qgis_process's help does not print (a helper's review of 2026-12-06:
        EPOCHS 60 or TILE_SIZE 256 were in bin/mrs's help only); else ''."""
        note = f" On the command line, {self.command_line}" if self.command_line else ""
        if self.kind in (INTEGER, NUMBER):
            bounds = "" if self._bounds_in_help() else bounds_text(self)
            if self.default is not None:
                note += f" Default {shown_default(self)}" + (f"; {bounds}." if bounds else ".")
            elif bounds:
                note += f" {bounds[0].upper()}{bounds[1:]}."
        return note

    def _bounds_in_help(self) -> bool:
        """Whether the help already writes both bounds of a number (LEARNING_RATE's 'from 0.000001 ... to 1'):
        the note said them again in other figures (a desktop helper of 2026-12-06)."""
        written = [bound for bound in (self.minimum, self.maximum) if bound is not None]
        return bool(written) and all(  # as whole numbers of the text: not the 1 of '0.1' or '2021' (a review)
            any(re.search(rf"(?<![\d.]){re.escape(text)}(?!\d|\.\d)", self.help)
                for text in {f"{bound:g}", f"{bound:.10f}".rstrip("0").rstrip(".")})
            for bound in written)

    @property
    def created_by_default(self) -> bool:
        """Whether a destination's widget offers a file (a temporary one) rather than 'Skip output' at first."""
        return not self.optional if self.created is None else self.created

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


TAGS = ("hyperspectral", "lidar", "sar", "land cover", "classification", "remote sensing", "deep learning",
        "transformer", "ss-mae", "mrs")
"""Words the Toolbox's search finds every job by (a desktop helper of 2026-12-05 found none by
'hyperspectral', 'lidar' or 'kappa')."""
SUMMARY_LENGTH = 120
"""Characters of a job's first sentence the Toolbox's tooltip shows whole."""


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
    shares_processes: bool = False  # True for work torchrun's processes share (training, mapping)
    tags: Tuple[str, ...] = ()  # words the Toolbox's search finds it by, besides `TAGS`

    def parameter(self, name: str) -> Parameter:
        return next(p for p in self.parameters if p.name == name)

    def summary(self) -> str:
        """The description's first sentence up to its first colon, and a long one up to its first
        bracket, for the Toolbox's tooltip."""
        sentence = re.split(r"\. |: ", self.description.split("\n", 1)[0], maxsplit=1)[0]
        return (sentence.split(" (", 1)[0] if len(sentence) > SUMMARY_LENGTH else sentence).rstrip(".") + "."

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


NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A number as text: digits 0-9, a decimal point, an exponent."""


def _as_number(value: Any) -> Optional[float]:
    """A finite number from a number or its text, else None; whole numbers stay exact ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        # ASCII digits only, as QGIS reads them: Python's int() and float() also take '2_00' and
        # other scripts' digits (red team of 2026-12-04).
        text = value.strip()
        if not NUMBER_TEXT.fullmatch(text):
            return None
        whole = whole_number(text)
        if whole is not None:
            return whole
        number = float(text)
        mantissa = re.split(r"[eE]", text)[0]
        return None if number == 0 and re.search(r"[1-9]", mantissa) else number  # '1e-400' is not 0
    try:
        return float(value)
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
        # A German or French 0,5; not 1,500, which may mean fifteen hundred (review of 2026-12-05).
        comma = isinstance(value, str) and re.fullmatch(r"\s*[+-]?([0-9]*),([0-9]+)\s*", value)
        decimal = comma and (len(comma.group(2)) != 3 or comma.group(1).strip("0") == "")
        point = f" (written with a decimal point: {value.strip().replace(',', '.')})" if decimal and not integer else ""
        # A file's name, not '200 000' or '10k' (review of 2026-12-05).
        path = isinstance(value, str) and re.search(r"[./\\|]", value) and not re.fullmatch(r"[\s\d.,+-]*", value)
        meant = f" {parameter.meant}" if parameter.meant and path else ""
        return f"{parameter.name} is {value!r}; it must be {bounds_text(parameter)}{point}.{meant}"
    shown = _shown(number, integer)
    if integer and isinstance(value, str) and re.fullmatch(r"\s*[+-]?[1-9][0-9]{0,2}\.[0-9]{3}\s*", value):
        return (f"{parameter.name} is {value!r}, which reads as {shown} (a decimal point), not "
                f"{value.strip().replace('.', '')} (a thousands separator): write the whole number without points; it "
                f"must be {bounds_text(parameter, number)}.")
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
    """DEVICE as a lower-case name; 'auto' where it is not given (not for 0 or False, which were run on
    'auto' unsaid where 1 is refused: a helper's audit of 2026-12-07)."""
    return str(value if is_given(value) else "auto").strip().lower()


def shown_default(parameter: Parameter) -> str:
    """A parameter's default as the command line writes it."""
    return str(parameter.default).lower() if parameter.kind == BOOLEAN else str(parameter.default)


def empty_value_problem(parameter: Parameter, written: str) -> str:
    """Why an empty text given for a parameter (`written` as the user wrote its name) is refused:
    an empty shell variable (--EPOCHS=$E, qgis_process's EPOCHS=) would start a run with the
    default unsaid."""
    chosen = re.search(r"Default \(empty\): ([^,.;]+)", parameter.help)  # BATCH_SIZE's was 'for none' (an audit)
    if chosen:
        return f"{written} is empty; give a value, or leave {written} out to have it {chosen.group(1)}."
    if parameter.optional or parameter.default is not None:
        left_out = "none" if parameter.default is None else f"the default, {shown_default(parameter)}"
        return f"{written} is empty; give a value, or leave {written} out for {left_out}."
    return f"{written} is empty; give a value."


def listed_value_problem(name: str, value: Sequence[Any]) -> str:
    """Why a list is no value of a parameter of one value (qgis_process's NAME=a NAME=b, a list
    in processing.run)."""
    if len(value) == 1:
        return f"{name} takes one value, not a list ([{str(value[0])!r}]); give the value itself."
    return f"{name} is given {len(value)} times ({', '.join(repr(str(item)) for item in value)}); give it once."


def problem(parameter: Parameter, value: Any, destinations_required: bool = False, in_python: bool = False
            ) -> Optional[str]:
    """Why `value` is refused for `parameter`, as one sentence saying what to give instead, or None.

    Layers and files are checked here only as far as their names go; opening them is the engine's work.
    An output left empty is refused only with `destinations_required` (Processing makes a temporary file);
    `in_python`: said of processing.run too, not of a command line alone (a helper's README audit of
    2026-12-05: a script was told '--OUTPUT=file')."""
    if not is_given(value):
        if parameter.optional or parameter.default is not None:
            return None
        if parameter.kind in DESTINATIONS:
            what = "folder" if parameter.kind == FOLDER_OUT else "file"
            how = (f"--{parameter.name}={what} on a command line; in processing.run, '{parameter.name}': a path or "
                   "'TEMPORARY_OUTPUT'" if in_python else f"--{parameter.name}={what}")
            return (f"{parameter.name} ({parameter.description}) has no value; give the {what} to write "
                    f"({how}).") if destinations_required else None
        if parameter.kind == RASTERS:
            return (f"{parameter.name} ({parameter.description}) needs at least 1 layer; "
                    f"add one (on the command line: --{parameter.name}=file.tif).")
        return f"{parameter.name} ({parameter.description}) has no value; give one."
    if isinstance(value, (list, tuple)) and parameter.kind != RASTERS:
        return listed_value_problem(parameter.name, value)
    if parameter.kind in (INTEGER, NUMBER):
        return _number_problem(parameter, value)
    if parameter.kind == CHOICE and str(value) not in parameter.choices:
        return f"{parameter.name} is {value!r}; {_choice_advice(parameter.choices, str(value))}."
    if parameter.kind == BOOLEAN and _boolean(value) is None:
        return f"{parameter.name} is {value!r}; use true or false."
    if parameter.kind == DEVICE and not DEVICE_PATTERN.fullmatch(device_name(value)):
        return f"{parameter.name} is {device_name(value)!r}; use auto, cpu, cuda or cuda:N (N the GPU number, from 0)."
    return None


def _choice_advice(choices: Sequence[str], value: str) -> str:
    """What to give for a value none of `choices`: the choice it spells otherwise (in another letter
    case, with spaces around: 'Small', 'FP32 ', left alone by earlier notes), or all of them."""
    listed = ", ".join(choices)
    same = [choice for choice in choices if choice.lower() == value.strip().lower()]
    return f"write it {same[0]!r} (one of: {listed})" if same else f"use one of: {listed}"


def unknown_extent_crs(text: str) -> str:
    """The refusal of an EXTENT's CRS written after its numbers ('... [EPSG:32632]') that is no CRS,
    in QGIS and bin/mrs alike. A PROJ string is known to QGIS after 'PROJ4:' only (a helper's red
    team of 2026-12-07: '[+proj=utm ...]' was told to be written as EPSG:code alone)."""
    other = f", or as PROJ4:{text}" if text.startswith("+") else ""
    return f"EXTENT: the CRS '{text}' is not known; write it as EPSG:code{other}."


def unknown_parameter_problem(given: Iterable[str], known: Sequence[str], algorithm: str,
                              results: Sequence[str] = (), aliases: Optional[Mapping[str, str]] = None
                              ) -> Optional[str]:
    """Why parameters given by names the algorithm does not have are refused (qgis_process and
    processing.run pass them on, and PRETRAIN_EPOCH=1 for PRETRAIN_EPOCHS ran 60 epochs without a
    word: red team of 2026-12-04), naming the closest known name, or saying that the name is one of
    its `results`, or a step's own name for what the workflow calls otherwise (`aliases`: its
    'finetune:OUTPUT' is 'finetune:CLASSIFIER'); or None."""
    unknown = [name for name in given if name not in known]
    if not unknown:
        return None
    name, listed = unknown[0], f"'qgis_process help {algorithm}' lists its parameters"
    if name in results:
        return f"{name} is a result of {algorithm}, not a parameter; leave it out ({listed})."
    if name in (aliases or {}):
        return f"{name}: {algorithm} calls it {aliases[name]}; give it by that name ({listed})."
    step, _, own = name.partition(":")
    if own and any(item.startswith(f"{step}:") for item in known):  # classify:OUTPUT_CONFIDENCE (red team, 12-06)
        return (f"{name}: {algorithm} does not take {own} for its step '{step}': run mrs:{step} alone for it "
                f"({listed}).")
    return f"{name}: {algorithm} has no parameter of that name{meant_text(name, known)}; {listed}."


def meant_text(name: str, known: Sequence[str]) -> str:
    """' (did you mean X?)' for the known name spelt alike in another letter case ('output': OUTPUT, which
    was offered OUTPUT_CONFIDENCE: a helper's audit of 2026-12-06), else for the known names that hold a
    misspelt one ('EPOCHS': PRETRAIN_EPOCHS or FINETUNE_EPOCHS) or have it as a word ('HSI'), else the
    closest, whatever its case; '' when none is close."""
    cased = [item for item in known if item.upper() == name.upper()]
    if cased:
        return f" (did you mean {cased[0]}?)"
    holding = [item for item in known if name.upper() != item.upper() and (  # HSI: INPUT_HSI (a helper, 12-07)
        name.upper() in item.upper().split("_") or len(name) >= 4 and name.upper() in item.upper())]
    if holding:
        return f" (did you mean {joined(holding, 'or')}?)"
    close = difflib.get_close_matches(name.upper(), [item.upper() for item in known], n=1, cutoff=0.6)
    meant = next((item for item in known if close and item.upper() == close[0]), None)
    if not meant:
        return ""
    # the names ending as it does about as close as the closest: MASK_RATIO was offered SPATIAL_RATIO alone, where
    # the paper's mask ratio is SPECTRAL_RATIO (own bad input of 2026-12-06)
    ending = "_" + meant.upper().rsplit("_", 1)[-1]
    best = difflib.SequenceMatcher(None, name.upper(), meant.upper()).ratio()
    alike = [item for item in known if name.upper().endswith(ending) and item.upper().endswith(ending)
             and difflib.SequenceMatcher(None, name.upper(), item.upper()).ratio() >= best - 0.05]
    return f" (did you mean {joined(alike, 'or') if len(alike) > 1 else meant}?)"


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


RASTERIZE_OVER = "Processing Toolbox > GDAL > Vector conversion > Rasterize (overwrite with attribute)"
"""Where QGIS 3.22 keeps the algorithm that burns points into an existing label raster (it is in no menu)."""


def labelled_pixels_problem(job: Job, values: Mapping[str, Any]) -> Optional[str]:
    """Why the labelled-pixel parameters are unusable (not exactly one source, or no field), or None."""
    if job.labelled_pixels is None:
        return None
    vector, field, raster = job.labelled_pixels
    has_vector, has_raster = is_given(values.get(vector)), is_given(values.get(raster))
    if has_vector == has_raster:
        if has_vector:
            # with the way to have both (a desktop helper's red team of 2026-12-06: points suggested for a
            # classifier of a label raster were refused with no way forward)
            # a text field cannot be burnt, and a copy without its .aux.xml loses the class names (a desktop
            # helper's red team of 2026-12-06)
            return (f"Give either {vector} (with {field}) or {raster}, not both; to use both, burn the features of "
                    f"{vector} by a field of whole class values into a copy of the {raster} raster made with its side "
                    f"files, such as its .aux.xml of class names ({RASTERIZE_OVER}), and give that copy as {raster}.")
        return f"Give {vector} (with {field}) or {raster}: neither is given."
    if has_vector and not is_given(values.get(field)):
        # a label raster given as the vector was told of the field alone (own bad inputs, 2026-12-05)
        return (f"{field} is empty: choose the field of {vector} that holds the class of each feature "
                f"(a label raster goes in {raster} instead).")
    return None
