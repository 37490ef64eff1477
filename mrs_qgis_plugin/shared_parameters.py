"""The parameter declarations several jobs share: the scene's rasters, labelled pixels, training, device..."""

from typing import Optional, Sequence, Tuple

from ..model_core import choices
from ..model_core.config import PRESETS
from .parameters import (CHOICE, DEVICE, EXTENT, FIELD, FILE_OUT, INTEGER, MODEL_FILE,
                         MODEL_FILE_FILTER, NUMBER, RASTER, RASTERS, VECTOR, Parameter)
from .raster import TILE_SIZE


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
    same_as_training = ("A model must be given the same kind of rasters, in the same order, as it was trained on; "
                        "the log warns when a band's values lie far from those it was trained on. ")
    return Parameter(
        "INPUT_AUX", "SAR or LiDAR rasters", RASTERS,
        (("Optional: one" if optional else "One")
         + " or more SAR or LiDAR rasters; all their bands are used, in the order given. "
         "They may have another CRS, extent or pixel size: they are resampled onto the "
         "hyperspectral grid on the fly (bilinear: a pixel of the grid between a layer's valid and no-data "
         "pixels takes the valid ones' values; give a layer on the hyperspectral grid to keep its no data "
         "pixel for pixel). "
         + ("" if optional else same_as_training)).rstrip(),
        optional=optional, command_line="repeat the argument: --INPUT_AUX=sar.tif --INPUT_AUX=dsm.tif.",
    )


def _extent(help_text: str) -> Parameter:
    """EXTENT, whose help says which pixels it takes (a helper's red team of 2026-12-05: suggestions
    half a pixel beyond it, where MASK takes pixel centres)."""
    return Parameter("EXTENT", "Extent", EXTENT,
                     f"{help_text} Every pixel it touches is taken (on a rotated raster, every pixel of the rows and "
                     "columns it meets).", optional=True)


def _labelled_pixels(names: Tuple[str, str, str], what: str, grid: str, name_field: Optional[str] = None,
                     color_field: Optional[str] = None) -> Tuple[Parameter, ...]:
    """Points, lines or polygons with a class field (and optional name and colour fields), or a label raster
    (exactly one of them)."""
    vector, field, raster = names
    parameters = [
        Parameter(
            vector, f"{what} (points, lines or polygons)", VECTOR,
            f"{what} as points, or as polygons (every pixel whose centre lies inside one is a "
            f"sample; lines, too, give every pixel they cross). Give either this layer (with {field}) or {raster}.",
            optional=True, geometries=("point", "line", "polygon"),  # lines: every pixel they cross (2026-12-05)
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
            f"when {field} holds numbers. Without it, such classes are named by their numbers ('1', '2', ...); "
            "the log then names the layer's text fields with 'name' in their names.",
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
        Parameter("LEARNING_RATE", "Learning rate", NUMBER,
                  "Base learning rate of the AdamW optimiser, from 0.000001 (what the dialog's box shows) to 1.",
                  default=learning_rate, minimum=1e-6, maximum=1.0, advanced=True),
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
        f"Seed of the random generators ({what}); the same seed on the same device, with the same number of CPU "
        "threads, gives the same result (a sum split among more threads is added up in another order).",
        default=0, minimum=0, advanced=True,
    )


def _model_file(name: str, description: str, help_text: str, optional: bool = False) -> Parameter:
    return Parameter(name, description, MODEL_FILE, help_text, optional=optional)


def _resume() -> Parameter:
    return _model_file(
        "RESUME", "Resume from checkpoint",
        "Optional: a checkpoint written by an earlier, interrupted run of this algorithm with "
        "the same inputs and settings; training goes on from where it stopped (the batch it had finished "
        "last), as if it had not been interrupted. While such a checkpoint lies beside OUTPUT, a run that does "
        "not resume it is refused rather than deleting it.",
        optional=True,
    )


def _file_out(name: str, description: str, file_filter: str, help_text: str, optional: bool = False,
              created: Optional[bool] = None) -> Parameter:
    return Parameter(name, description, FILE_OUT, help_text, optional=optional, file_filter=file_filter,
                     created=created)


def _model_out(description: str, help_text: str) -> Parameter:
    return _file_out("OUTPUT", description, MODEL_FILE_FILTER,
                     f"{help_text} In QGIS' dialogs it is saved by default as a new file next to the project "
                     "(or, while the project is not saved, in the output folder set in Processing's options, else "
                     "in the home folder), never to a temporary file (one chosen all the same is warned of in the "
                     "log: QGIS deletes it when it closes).")


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
                  "Side, in pixels, of the square tiles read and classified one at a time; memory use grows with it "
                  "(on a CPU, tiles are held to a quarter of the memory available; the classes are the same).",
                  default=TILE_SIZE, minimum=16, maximum=8192, advanced=True),
        Parameter("BATCH_SIZE", "Batch size", INTEGER,
                  "Pixels classified per model call. Default (empty): chosen from the model's size and band count, "
                  "on a CPU to keep the work in the processor's caches, on a GPU to give it enough work (up to "
                  "8192 pixels). On a CPU a batch is held to a quarter of the memory available when the run starts "
                  "(the log says so); when a GPU runs out of memory, or the CPU's memory cannot hold a batch, the "
                  "batch is halved automatically. The classes do not depend on the batch size; a confidence may "
                  "differ in its last digits.",
                  minimum=1, advanced=True, optional=True),
        _device(),
        _precision(),
    )


def _ratio(name: str, description: str, help_text: str, default: float) -> Parameter:
    return Parameter(name, description, NUMBER, help_text, default=default, minimum=0.01, maximum=0.99)

