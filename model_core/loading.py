"""Models rebuilt from model files, checked against the layers they are used with.

Nothing in a file is trusted: its metadata is checked field by field; the model is
built only from a configuration within `ModelConfig`'s bounds and within an allocation
budget set by the weights the file really holds, so a file that describes a huge model
is refused before anything is allocated; and the weights must match that model tensor
for tensor (names, shapes, a floating-point type, finite values).
"""

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from . import MAX_CLASS_VALUE, model_file
from .band_names import described_otherwise, reordered
from .config import ModelConfig
from .errors import BandCountError, ModelFileError
from .hooks import Hooks, first_few
from .model import SSEncoder, SSMAEClassifier
from .names import Names, joined, mismatch_outcome, plural
from .preprocessing import Normalizer
from .wavelengths import known_wavelengths, spectral_span, wavelength_difference

MAX_BANDS = 2048
"""The most bands (HSI and SAR/LiDAR together) a model file may describe."""
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_WEIGHT_TYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_BUDGET_SLACK = 1 << 20
"""Elements a model may allocate beyond twice the weights its file holds (buffers, rounding)."""


def _whole(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def band_counts(metadata: Mapping[str, Any], path: str, what: str) -> Tuple[int, int]:
    """The HSI and SAR/LiDAR band counts a model was made for; refuses counts that are not valid."""
    n_hsi, n_aux = metadata.get("n_hsi"), metadata.get("n_aux")
    if not (_whole(n_hsi, 3) and _whole(n_aux, 1) and n_hsi + n_aux <= MAX_BANDS):
        raise ModelFileError(
            f"{what}: '{path}' does not say for how many bands it was made (n_hsi {n_hsi!r:.20}, n_aux "
            f"{n_aux!r:.20}; a model needs at least 3 HSI bands and 1 SAR/LiDAR band, at most {MAX_BANDS} in "
            "all). Re-create the model with this plugin.")
    return n_hsi, n_aux


def _layer_names(metadata: Mapping[str, Any]) -> Tuple[str, str]:
    """The HSI and SAR/LiDAR layer names the metadata gives, for messages ('?' when it gives none)."""
    hsi, aux = metadata.get("hsi_layer"), metadata.get("aux_layers")
    aux_names = aux if isinstance(aux, list) and all(isinstance(name, str) for name in aux) else []
    return (hsi if isinstance(hsi, str) else "?"), (", ".join(repr(name) for name in aux_names) or "?")


def check_bands(metadata: Mapping[str, Any], n_hsi: int, n_aux: int, path: str, what: str) -> None:
    """Refuse a model made for other band counts than the layers give, naming both (its layers'
    names are those it was made with, which may be the names of these: a model of another scene
    was told to use 'hsi', the name of the layer given, review of 2026-12-05)."""
    expected = band_counts(metadata, path, what)
    if expected == (n_hsi, n_aux):
        return
    hsi_layer, aux_layers = _layer_names(metadata)
    raise BandCountError(
        f"{what}: '{path}' was made for {plural(expected[0], 'HSI band')} and "
        f"{plural(expected[1], 'SAR/LiDAR band')} (HSI '{hsi_layer}', SAR/LiDAR {aux_layers}), but the layers give "
        f"{plural(n_hsi, 'HSI band')} and {plural(n_aux, 'SAR/LiDAR band')}. Give rasters of the bands it was made "
        "for, in the same order, or train a model on these rasters.", expected, (n_hsi, n_aux))


def say_unchecked(metadata: Mapping[str, Any], path: str, what: str, hooks: Hooks) -> None:
    """Warn of a model file without checksums (`model_file.CHECKSUMS`), which is read as it stands:
    one written before there were any, or one whose checksums were deleted to pass an edit by hand
    (red team of 2026-12-05: its classes reordered changed 82 % of a map, its attention heads 5 %,
    which no tensor's shape tells)."""
    if model_file.CHECKSUMS not in metadata:
        hooks.warning(f"{what}: '{path}' carries no checksums (written by an early version of this plugin, or "
                      "edited by hand), so a change to its classes, settings or weights since it was written cannot be "
                      "told. Re-create it with this plugin to be sure.")


def check_wavelengths(metadata: Mapping[str, Any], wavelengths: Optional[List[float]], layer: str, path: str,
                      what: str, hooks: Hooks) -> None:
    """Refuse a model trained on other wavelengths than the hyperspectral layer's (when both
    are known): the band counts may agree while the bands measure other light. Warn when the
    model knows its bands' wavelengths and the layer gives none: bands in another order (a
    reversed band list) then go unnoticed, as their values lie in the same range; and the other way
    round. A list of another length than the model's hyperspectral bands is none (a helper's red
    team of 2026-12-06: two wavelengths edited into a model of 63 bands went unchecked, unsaid)."""
    trained = metadata.get("wavelengths")
    if known_wavelengths(trained) and len(trained) != metadata.get("n_hsi", len(trained)):
        trained = None
    if not wavelengths and known_wavelengths(trained):
        hooks.warning(
            f"{what}: '{path}' was trained on bands at {spectral_span(trained)}, but the hyperspectral "
            f"layer '{layer}' gives no wavelengths, so whether its bands are those, in the same order, cannot be "
            "checked: make sure they are (or add the wavelengths to its metadata).")
        return
    if wavelengths and not known_wavelengths(trained):  # red team of 2026-12-05: a reversed copy, OA 82.5 -> 10.5 %
        hooks.warning(
            f"{what}: '{path}' records no wavelengths (its layer gave none, or it was written before descriptions "
            f"were read as wavelengths), so whether the bands of '{layer}' ({spectral_span(wavelengths)}) are its "
            "bands, in the same order, cannot be checked: make sure they are.")
        return
    difference = wavelength_difference(trained, wavelengths)
    if difference is None:
        return
    band, model_nm, layer_nm = difference
    raise ModelFileError(
        f"{what}: '{path}' was trained on bands at {spectral_span(trained)}, but the hyperspectral layer '{layer}' has "
        f"its bands at {spectral_span(wavelengths)} (band {band}: {model_nm:.1f} nm against {layer_nm:.1f} nm). "
        f"{_wavelength_advice(trained, wavelengths)}")


def _wavelength_advice(trained: List[float], wavelengths: List[float]) -> str:
    """What to change of a layer whose wavelengths differ from the model's: their unit, their
    order (red team of 2026-12-05: a cube in descending order was told to use another sensor), or
    the layer."""
    if wavelength_difference(trained, [value * 1000 for value in wavelengths]) is None:
        return "Its wavelengths are the model's in micrometres: set the layer's wavelength_units to micrometers."
    if wavelength_difference(trained, [value / 1000 for value in wavelengths]) is None:
        return ("Its wavelengths are the model's in nanometres, read as micrometres: set the layer's wavelength_units "
                "to nanometers.")
    if wavelength_difference(trained, wavelengths[::-1]) is None:
        return (f"Its bands are the model's in reverse order: reverse them (gdal_translate -b {len(wavelengths)} "
                f"-b {len(wavelengths) - 1} ... -b 1).")
    order = _model_order(trained, wavelengths)
    if order is not None:  # a helper's red team of 2026-12-05: two bands swapped were told to use another sensor
        return ("Its bands are the model's in another order: put them in the model's order (gdal_translate "
                f"{' '.join(f'-b {number}' for number in order)}; in QGIS, Rearrange bands).")
    return "Use a raster of the sensor and bands the model was trained on."


def _model_order(trained: List[float], wavelengths: List[float]) -> Optional[List[int]]:
    """The layer's band numbers (from 1) in the model's band order, where the layer's bands are the
    model's in another order (each the nearest to one of the model's); else None."""
    order = [min(range(len(wavelengths)), key=lambda index: abs(wavelengths[index] - nm)) for nm in trained]
    if len(set(order)) != len(order) or wavelength_difference(trained, [wavelengths[i] for i in order]) is not None:
        return None
    return [index + 1 for index in order]


def check_aux_bands(metadata: Mapping[str, Any], names: Sequence[str], layers: Sequence[str], path: str, what: str,
                    hooks: Hooks, pretrained: bool = False) -> None:
    """Warn when the auxiliary bands (`names`, of the layers `layers`) are described otherwise than
    those the model was trained on (a SAR raster where it had LiDAR); refuse them when they are its
    own bands in another order (the LiDAR's bands, or two layers, swapped). Their values alone do
    not tell (red team of 2026-12-04: intensity and height swapped lay within `Normalizer.far_bands`'
    limits, and the map fell from 85 to 30 % OA without a word). Bands that either side leaves
    without a description are not compared."""
    trained, trained_layers = metadata.get("band_names"), metadata.get("aux_layers")
    n_aux = metadata.get("n_aux")
    if not (isinstance(trained, list) and isinstance(trained_layers, list) and isinstance(n_aux, int)
            and 0 < n_aux == len(names) <= len(trained) and all(isinstance(item, str) for item in trained + trained_layers)):
        return
    pairs = described_otherwise(trained[-n_aux:], trained_layers, names, layers)
    if not pairs:
        return
    listed = first_few(f"auxiliary band {number} is '{given}' where the model had '{had}'"
                       for number, had, given in pairs)
    if reordered(pairs):
        # The same bands in another order: the map was written, 5 % right (review of 2026-12-05).
        order = ", ".join(f"'{name}'" for name in trained[-n_aux:])
        raise ModelFileError(
            f"{what}: the auxiliary bands are in another order than those '{path}' was trained on, by their names "
            f"({listed}), so each would be taken for another. Give the auxiliary layers, and their bands, in the order "
            f"it was trained on: {order} (layers {', '.join(repr(name) for name in trained_layers)}); if their "
            "descriptions are wrong, correct or clear them.")
    hooks.warning(
        f"{what}: the auxiliary bands are not those '{path}' was trained on, by their names ({listed}). Give "
        f"auxiliary layers of the kinds it was trained on, with their bands in the same order; else "
        f"{mismatch_outcome(pretrained)}.")


PIXEL_SIZE_RATIO = 1.5
"""How much larger or smaller than a model's pixels a layer's may be without a warning."""


def check_pixel_size(metadata: Mapping[str, Any], sides: Optional[Tuple[float, float]], layer: str, path: str,
                     what: str, hooks: Hooks, pretrained: bool = False) -> None:
    """Warn when the layer's pixels (`sides`, across and down, metres on the ground) are, along either
    side, more than `PIXEL_SIZE_RATIO` times larger or smaller than those the model was trained on
    (`pixel_sides_m`; a model that records their geometric mean alone, `pixel_size_m`, is compared by
    the layer's mean): its neighbourhood of each pixel then covers another area (a helper's red team
    of 2026-12-05: a model of 1 m pixels on 0.2 m ones agreed with its 1 m map on 72 % of the pixels,
    without a word; pixels of 2 m by 0.5 m, of the model's mean size, on 68 %)."""
    trained = metadata.get("pixel_size_m")
    if not (isinstance(trained, (int, float)) and math.isfinite(trained) and trained > 0 and sides):
        return
    had = _trained_sides(metadata)
    pairs = zip(sides, had) if had else [(math.sqrt(sides[0] * sides[1]), trained)]
    if all(max(side / before, before / side) <= PIXEL_SIZE_RATIO for side, before in pairs):
        return
    had = had or (trained, trained)
    patch = metadata.get("patch")
    covers = (f": its {patch} x {patch} pixels around each pixel then cover {_sides_text(sides, patch)} instead of "
              f"{_sides_text(had, patch)} on the ground" if isinstance(patch, int) else "")
    worse = mismatch_outcome(pretrained, likely=True)
    hooks.warning(f"{what}: '{path}' was trained on pixels of about {pixel_shape(had)}, but the hyperspectral layer "
                  f"'{layer}' has pixels of about {pixel_shape(sides)}{covers}, and {worse}. Resample the "
                  f"layers to about {pixel_shape(had)} (gdalwarp -tr), or train a model on pixels of this size.")


def _trained_sides(metadata: Mapping[str, Any]) -> Optional[Tuple[float, float]]:
    """The sides of the pixels a model was trained on (`pixel_sides_m`, from the night of 2026-12-05:
    a model of oblong pixels was warned of on its own scene, a review), None where it records none."""
    sides = metadata.get("pixel_sides_m")
    if (isinstance(sides, list) and len(sides) == 2
            and all(isinstance(side, (int, float)) and math.isfinite(side) and side > 0 for side in sides)):
        return float(sides[0]), float(sides[1])
    return None


def pixel_shape(sides: Tuple[float, float]) -> str:
    """'2 m across by 0.5 m down' for oblong pixels, '1 m' for square ones."""
    return f"{metres(sides[0])} across by {metres(sides[1])} down" if _oblong(sides) else metres(sides[0])


def _oblong(sides: Tuple[float, float]) -> bool:
    """Whether a pixel's sides differ by more than their last shown digit would tell."""
    return metres(sides[0]) != metres(sides[1])


def _sides_text(sides: Tuple[float, float], count: int = 1) -> str:
    """'14 m by 3.5 m' for oblong pixels, '1.4 m' for square ones, of `count` pixels a side."""
    across, down = (metres(side * count) for side in sides)
    return f"{across} by {down}" if _oblong(sides) else across


def metres(value: float) -> str:
    """'1 m', '0.2 m', '7.5 m', '30 m', '1,200 m', '0.00001 m' (not '1e+02 m', review of 2026-12-05; nor '1e-05 m'
    of a pixel size in degrees, a helper's audit of 2026-12-07)."""
    if value >= 9.5:
        return f"{value:,.0f} m"
    return f"{np.format_float_positional(value, precision=2, unique=False, fractional=False, trim='-')} m"


def check_aux_layers(metadata: Mapping[str, Any], counts: Sequence[int], layers: Sequence[str], path: str, what: str,
                     hooks: Hooks, pretrained: bool = False) -> None:
    """Refuse the auxiliary layers the model was trained on given in another order (by their names
    and band counts), and warn when their band counts or names are otherwise arranged than the
    model's, which the bands' values alone do not tell where no band description names them (a
    helper's red team of 2026-12-05: [lidar, sar] given as [sar, lidar] mapped 6.5 % right).
    Models that record no counts (`aux_band_counts`, from 2026-12-05) are not compared."""
    had_counts, had_layers = metadata.get("aux_band_counts"), metadata.get("aux_layers")
    if not (isinstance(had_counts, list) and isinstance(had_layers, list) and len(had_counts) == len(had_layers)
            and all(isinstance(count, int) for count in had_counts)
            and all(isinstance(name, str) for name in had_layers)):
        return
    given, had = list(zip(layers, counts)), list(zip(had_layers, had_counts))
    if given == had or (list(counts) == had_counts and sorted(layers) != sorted(had_layers)):
        return  # other layers of the same arrangement: their bands' names and values are checked elsewhere

    def named(names: Sequence[str]) -> str:
        return ", ".join(repr(name) for name in names)

    trained = f"{what}: '{path}' was trained on SAR/LiDAR layers of {_counts(had_counts)} bands ({named(had_layers)})"
    if sorted(given) == sorted(had):
        raise ModelFileError(f"{trained}, but those given are these layers in another order ({named(layers)}), so each "
                             f"band would be taken for another. Give them in the order it was trained on: "
                             f"{named(had_layers)}.")
    arranged = (f"have {_counts(counts)} bands" if list(counts) != had_counts
                else "are named in another order")
    hooks.warning(f"{trained}, but those given {arranged} ({named(layers)}): make sure their bands are the model's, "
                  f"in its order; else {mismatch_outcome(pretrained)}.")


def _counts(counts: Sequence[int]) -> str:
    """'2 and 4', '2, 1 and 4', '6'."""
    return joined([str(count) for count in counts])


def _parse(metadata: Mapping[str, Any], path: str, what: str, layer_hsi: Optional[int], layer_aux: Optional[int]):
    """Configuration, normaliser and band counts of a model, checked against the layers' band counts if given."""
    n_hsi, n_aux = band_counts(metadata, path, what)
    if layer_hsi is not None:
        check_bands(metadata, layer_hsi, layer_aux, path, what)
    try:
        config = ModelConfig.from_dict(metadata.get("config"))
        normalizer = Normalizer.from_dict(metadata.get("normalization"))
    except ValueError as error:
        raise ModelFileError(f"{what}: '{path}' has incomplete or invalid metadata ({str(error).rstrip('.')}). "
                             "Re-create the model with this plugin.") from None
    if normalizer.n_bands != n_hsi + n_aux:
        raise ModelFileError(f"{what}: '{path}' has normalisation statistics for {normalizer.n_bands} "
                             f"bands but describes {n_hsi + n_aux}. Re-create the model.")
    return config, normalizer, n_hsi, n_aux


def _is_class(item: Any) -> bool:
    return (isinstance(item, dict) and _whole(item.get("value"), 1) and item["value"] <= MAX_CLASS_VALUE
            and isinstance(item.get("name"), str) and isinstance(item.get("color"), str)
            and _COLOR.fullmatch(item["color"]) is not None)


def _classes(metadata: Mapping[str, Any], path: str, what: str, names: Names) -> List[Dict[str, Any]]:
    classes = metadata.get("classes")
    if (not isinstance(classes, list) or len(classes) < 2 or not all(_is_class(item) for item in classes)
            or len({item["value"] for item in classes}) != len(classes)):
        raise ModelFileError(
            f"{what}: '{path}' does not list its classes (at least two, each with its own whole value from 1 to "
            f"{MAX_CLASS_VALUE}, a name and a colour '#rrggbb'). Re-create it with {names.finetune}.")
    return classes


def _check_weights(tensors: Mapping[str, torch.Tensor], path: str, what: str) -> None:
    for name, tensor in tensors.items():
        if tensor.dtype not in _WEIGHT_TYPES:
            raise ModelFileError(f"{what}: '{path}' holds {name!r:.80} as {tensor.dtype}, which is not a type of "
                                 "model weights. Re-create the model.")
        if not torch.isfinite(tensor).all():
            raise ModelFileError(f"{what}: '{path}' holds weights that are not finite numbers (NaN or infinite, in "
                                 f"{name!r:.80}); its training may have diverged. Re-create the model, with a lower "
                                 "learning rate if its training diverged.")


class _OverBudget(Exception):
    pass


def _requested_elements(func: Callable, args: tuple, kwargs: dict) -> int:
    """How many elements a call of a tensor factory (torch.empty, torch.eye, ...) allocates."""
    if func is torch.eye:
        rows = args[0] if args else kwargs["n"]
        return rows * (args[1] if len(args) > 1 else kwargs.get("m", rows))
    if "size" in kwargs:
        shape = kwargs["size"]
    elif args and (func is torch.full or not isinstance(args[0], int)):
        shape = args[0]
    else:
        shape = args
    return math.prod(shape)


class _AllocationBudget(TorchFunctionMode):
    """Refuses, before they happen, tensor allocations beyond a number of elements in all.

    Every parameter and buffer of a torch module is allocated by one of these factories.
    """

    _FACTORIES = frozenset({torch.empty, torch.zeros, torch.ones, torch.full, torch.eye, torch.rand, torch.randn})

    def __init__(self, elements: int) -> None:
        super().__init__()
        self.left = elements

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self._FACTORIES:
            self.left -= _requested_elements(func, args, kwargs)
            if self.left < 0:
                raise _OverBudget()
        return func(*args, **kwargs)


def _shapes(make: Callable[[], nn.Module]) -> Dict[str, Tuple[int, ...]]:
    """The names and shapes of the weights of the module make() builds, built on PyTorch's meta
    device: nothing is allocated, whatever size the metadata describes."""
    with torch.device("meta"):
        return {name: tuple(tensor.shape) for name, tensor in make().state_dict().items()}


def _build(make: Callable[[], nn.Module], tensors: Mapping[str, torch.Tensor], path: str, what: str) -> nn.Module:
    """The module make() builds, holding exactly the tensors (same names and shapes).

    The building may allocate little more than the tensors themselves, so the metadata of
    a file cannot make it allocate more than the file holds.
    """
    held = sum(tensor.numel() for tensor in tensors.values())
    try:
        with _AllocationBudget(2 * held + _BUDGET_SLACK):
            module = make()
        module.load_state_dict(tensors, strict=True)
    except (_OverBudget, ValueError, RuntimeError) as error:
        detail = ("it describes a model far larger than the weights it holds" if isinstance(error, _OverBudget)
                  else " ".join(str(error).split())[:300].rstrip("."))
        raise ModelFileError(f"{what}: '{path}' does not hold the weights its metadata describes ({detail}). "
                             "Re-create the model.") from None
    return module


@dataclass
class Pretrained:
    config: ModelConfig
    normalizer: Normalizer
    encoder_state: Dict[str, torch.Tensor]
    metadata: Dict[str, Any]


def load_pretrained(path: str, n_hsi: Optional[int] = None, n_aux: Optional[int] = None,
                    what: str = "The pretrained model", names: Names = Names()) -> Pretrained:
    """The encoder weights of a pretraining model file, checked to fit its configuration and bands."""
    metadata = model_file.read_metadata(path, [model_file.PRETRAINED], what, names)
    config, normalizer, file_hsi, file_aux = _parse(metadata, path, what, n_hsi, n_aux)
    def make() -> nn.Module:
        return SSEncoder(config, file_hsi + file_aux)

    tensors, metadata = model_file.load(path, [model_file.PRETRAINED], what, names, _shapes(make), within="encoder.",
                                        expected=metadata)
    encoder = model_file.prefixed(tensors, "encoder")
    _check_weights(encoder, path, what)
    _build(make, encoder, path, what)
    return Pretrained(config, normalizer, encoder, metadata)


@dataclass
class Classifier:
    model: SSMAEClassifier
    normalizer: Normalizer
    classes: List[Dict[str, Any]]
    metadata: Dict[str, Any]


def load_classifier(path: str, n_hsi: Optional[int] = None, n_aux: Optional[int] = None,
                    what: str = "The model file", names: Names = Names(),
                    metadata: Optional[Dict[str, Any]] = None) -> Classifier:
    """The classifier in eval mode on the CPU, its normaliser and classes; with `metadata`, the
    file's as a caller read it earlier, which the file must still hold (`model_file.load`)."""
    metadata = metadata or model_file.read_metadata(path, [model_file.CLASSIFIER], what, names)
    config, normalizer, file_hsi, file_aux = _parse(metadata, path, what, n_hsi, n_aux)
    classes = _classes(metadata, path, what, names)
    def make() -> nn.Module:
        return SSMAEClassifier(config, file_hsi, file_aux, len(classes))

    tensors, metadata = model_file.load(path, [model_file.CLASSIFIER], what, names, _shapes(make), expected=metadata)
    _check_weights(tensors, path, what)
    model = _build(make, tensors, path, what)
    return Classifier(model.eval(), normalizer, classes, metadata)
