"""Labelled pixels of the HSI grid, as the vector and raster readers give them, and their split."""

import numbers
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ...model_core import MAX_CLASS_VALUE
from ...model_core.errors import InputError
from ...model_core.hooks import Hooks, first_few
from ...model_core.names import agreeing, plural
from .classes import ClassInfo, folded_name, plain_text
from .colours import class_colours
from .patches import valid_at
from .sources import Scene


UNEVEN_LOSS = 2.0
"""A class left out this many times more often than the samples as a whole is named: in training,
the samples nodata takes (`jobs._say_samples_lost_to_nodata`); in an assessment, the reference pixels
the map leaves without a class (`analysis._unmapped_warning`)."""


@dataclass
class LabelledPixels:
    """Labelled pixels of the HSI grid, sorted row-major, and their classes sorted by value."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    classes: list[ClassInfo]
    named_by_text: bool = False
    """Whether the classes were given as text (their values are then just their rank in
    sorted order, and only their names identify them)."""
    nodata_pixels: int = 0
    """Labelled pixels left out because a raster holds nodata there (for an accuracy assessment,
    the reference pixels the map leaves without a class)."""
    nodata_by_class: dict[str, int] = field(default_factory=dict)
    """`nodata_pixels` by the name of their class."""
    outside: int = 0
    """Samples left out because they lie outside the grid (for an accuracy assessment, outside
    the map), counted in `outside_unit`: the pixels of a label raster, the features of a layer."""
    outside_unit: str = "pixels"
    partly_outside: int = 0
    """Features reaching beyond the grid, whose parts outside it are left out."""
    merged: int = 0
    """Samples counted once with another of their class on the same pixel (points closer than a
    pixel, overlapping polygons)."""
    conflicting: tuple[int, int] = (0, 0)
    """Samples left out on pixels that hold samples of different classes, and those pixels."""
    features: int = 0
    """The features read, for samples from a vector layer."""
    left_out_features: dict[str, int] = field(default_factory=dict)
    """Features left out before they met the grid, by why: 'no class', 'no geometry', 'no pixel
    centre' (smaller than a pixel)."""
    wide_class_field: bool = False
    """Whether the classes were given in a field of 64-bit whole numbers (suggestions are typed alike)."""
    decimal_class_field: bool = False
    """Whether the classes were given in a field of decimal numbers (suggestions are typed alike)."""
    nodata_by_layer: dict[str, int] = field(default_factory=dict)
    """`nodata_pixels` by the layer holding nodata there (a pixel may count for several layers)."""

    def counts(self) -> dict[int, int]:
        """Samples per class value, for every class (0 where a class has none here)."""
        present, counts = np.unique(self.values, return_counts=True)
        found = dict(zip(present.tolist(), counts.tolist()))
        return {info.value: found.get(info.value, 0) for info in self.classes}

    def left_out_by_class(self, also: np.ndarray | None = None) -> dict[str, tuple[int, int]]:
        """{class name: (its pixels left out, all its pixels)}: those a raster's nodata left out,
        and those of `values` where the mask `also` holds (the pixels a map leaves without a class)."""
        names = {info.value: info.name for info in self.classes}
        found = {name: [count, count] for name, count in self.nodata_by_class.items()}
        left = self.values[also] if also is not None else self.values[:0]
        for values, column in ((left, 0), (self.values, 1)):
            for value, count in zip(*(part.tolist() for part in np.unique(values, return_counts=True))):
                found.setdefault(names[value], [0, 0])[column] += count
        return {name: (lost, total) for name, (lost, total) in found.items()}

    def take(self, indices: np.ndarray) -> "LabelledPixels":
        """The pixels at the given (sorted) indices, with the same classes."""
        return LabelledPixels(self.rows[indices], self.cols[indices], self.values[indices], self.classes,
                              self.named_by_text)


MANY_CLASSES = 50
"""More classes than a land-cover legend has (CORINE's most detailed level has 44)."""


def doubtful_classes(layer_name: str, counts: np.ndarray) -> Optional[str]:
    """A warning when the samples' values look like identifiers or image values rather than
    classes (a field of feature ids, an intensity raster): very many classes, or most of ten
    or more classes with a single pixel; None otherwise."""
    singles = int(np.count_nonzero(counts == 1))
    if len(counts) > MANY_CLASSES:
        what = f"holds {len(counts)} classes, more than a land-cover legend has"
    elif len(counts) >= 10 and 2 * singles > len(counts):
        what = f"has a single labelled pixel in {singles} of its {len(counts)} classes"
    else:
        return None
    return (f"'{layer_name}' {what}: every value is taken as a class. If the values are identifiers or "
            "image values, choose the layer or field that holds the classes.")


def too_large_message(what: str, value: float) -> str:
    shown = value if isinstance(value, numbers.Integral) else f"{value:.15g}"  # 10**23 as written, not 1e+23
    return (
        f"{what} holds the value {shown}; class values must be at most {MAX_CLASS_VALUE}, "
        "the largest a class raster can hold. Recode the classes with smaller values."
    )


def shared(pairs: list) -> list:
    """(key, [items]) for each key that more than one of the (item, key) pairs has, in order."""
    groups: dict = {}
    for item, key in pairs:
        groups.setdefault(key, []).append(item)
    return [(key, items) for key, items in groups.items() if len(items) > 1]


def _as_shown(name: str) -> str:
    """A class name as a legend shows it: `plain_text`, without the invisible format characters."""
    return "".join(char for char in plain_text(name) if unicodedata.category(char) != "Cf")


def _say_shared(given: dict[int, str], what: str, consequence: str, layer_name: str, hooks: Hooks) -> None:
    """Warns of the names (or colours) given to more than one class, letter case aside (red team
    of 2026-12-04: 'Water' and 'Water' with a zero-width space; two classes of one colour looked
    alike in the map without a word; 'Forest' and 'forest' were two classes, which an assessment
    by name cannot tell apart from a reference's 'FOREST'). `consequence` ends with what to do
    where the classes may be one, before the advice to name them apart."""
    found = shared([(value, folded_name(text)) for value, text in sorted(given.items())])
    if found:
        spellings = [" or ".join(dict.fromkeys(f"'{given[value]}'" for value in values)) for _key, values in found]
        listed = first_few((f"{spelt}: classes {', '.join(map(str, values))}"
                            for spelt, (_key, values) in zip(spellings, found)), "; ")
        hooks.warning(f"Classes of '{layer_name}' share a {what} ({listed}): {consequence}give each class a "
                      f"{what} of its own.")


MAX_NAME_LENGTH = 200
"""The longest class name: legends and reports show names whole."""


def refuse_long_names(names: dict[int, str], layer_name: str) -> None:
    """Refuses a class name longer than MAX_NAME_LENGTH (red team of 2026-12-05: one of 140,006
    characters made an accuracy CSV that csv readers and spreadsheets could not read)."""
    value, name = next(((value, name) for value, name in names.items() if len(name) > MAX_NAME_LENGTH), (None, ""))
    if value is not None:
        raise InputError(f"The name of class {value} of '{layer_name}' is {len(name):,} characters long "
                         f"('{name[:20]}...'); a class name has at most {MAX_NAME_LENGTH} (legends and reports show "
                         "it whole). Shorten it.")


def labelled_pixels(
    scene: Scene,
    keys: np.ndarray,
    values: np.ndarray,
    names: dict[int, str],
    colors: dict[int, str],
    layer_name: str,
    hooks: Hooks,
    tile_size: int,
    named_by_text: bool = False,
    outside: tuple[int, str] = (0, "pixels"),
    reference: bool = False,
) -> LabelledPixels:
    """Merges duplicate pixels, drops invalid ones, checks the classes and names them. `keys` are
    the samples' pixels as row * width + column (int64), `values` their classes; `outside` counts
    the samples the reader left out outside the grid, and says of what. Names or colours classes
    share are warned of for training, not for a `reference`, whose classes go by the map's
    (`analysis` says how they were matched; review of 2026-12-05: 'the map's legend will not tell
    them apart' of a reference). Memory: a few arrays of the samples' length at a time (a reference
    of millions of pixels is read whole)."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    del order
    repeated = keys[1:] == keys[:-1]
    merged, conflicting = 0, (0, 0)
    if repeated.any():
        starts = np.flatnonzero(np.concatenate([[True], ~repeated]))
        agree = np.minimum.reduceat(values, starts) == np.maximum.reduceat(values, starts)
        sizes = np.diff(np.append(starts, len(keys)))
        merged = int(sizes[agree].sum() - np.count_nonzero(agree))
        conflicting = (int(sizes[~agree].sum()), int(np.count_nonzero(~agree)))
        if not agree.all():
            count = int(np.count_nonzero(~agree))
            hooks.log(f"{plural(count, 'pixel')} of '{layer_name}' {agreeing(count, 'holds', 'hold')} samples of "
                      f"different classes; {agreeing(count, 'it is', 'they are')} left out.")
        lost = np.setdiff1d(values, values[starts[agree]])
        keys, values = keys[starts[agree]], values[starts[agree]]
        if len(lost) and len(keys):  # a class lost whole was said in the line above only (red team of 2026-12-04)
            listed = first_few(f"'{names.get(value) or value}'" for value in lost.tolist())
            one = len(lost) == 1
            hooks.warning(f"{plural(len(lost), 'class', 'classes')} of '{layer_name}' ({listed}) lost every sample: "
                          f"each of {'its' if one else 'their'} pixels holds a sample of another class too (a polygon "
                          f"inside another, say), so {'it is' if one else 'they are'} left out. Place samples of "
                          "different classes on different pixels.")
        if len(keys) == 0:
            raise InputError(
                f"Every sample pixel of '{layer_name}' holds samples of different classes (the samples fall on "
                f"{plural(len(agree), 'pixel')} of the hyperspectral grid, each with more than "
                "one class), so no sample is left. Place samples of different classes on different pixels."
            )
    del repeated
    rows, cols = np.divmod(keys, scene.width)
    del keys
    layers_valid = valid_at(scene, rows, cols, hooks, tile_size, by_layer=True)
    valid = layers_valid.all(axis=1)
    nodata_by_layer = {name: int(count) for name, count in zip(scene.layers, np.count_nonzero(~layers_valid, axis=0))
                       if count}
    del layers_valid
    if not valid.any():
        beyond = (f", and {plural(outside[0], outside[1][:-1], outside[1])} of '{layer_name}' "
                  f"{agreeing(outside[0], 'lies', 'lie')} outside {scene.grid_label}" if outside[0] else "")
        if reference:  # the map's words (a helper's audit of 2026-12-06: a reference's 'sample pixels', no INPUT)
            raise InputError(f"INPUT: {scene.any_layer} gives no class (only no data) at "
                             f"{'the pixel' if len(valid) == 1 else f'any of the {len(valid):,} pixels'} of the "
                             f"reference '{layer_name}'{beyond}. Choose the map of the area the reference covers.")
        raise InputError(
            f"{'The sample pixel' if len(valid) == 1 else f'All {len(valid):,} sample pixels'} of '{layer_name}' "
            f"{agreeing(len(valid), 'is', 'are')} nodata in {nodata_layers(nodata_by_layer)}{beyond}. Check the nodata "
            "values of the rasters, or place the samples on pixels with data."
        )
    if not valid.all() and not reference:  # a reference's are said with the map's 0s (`analysis._accuracy`)
        count = int(np.count_nonzero(~valid))
        hooks.log(f"{plural(count, 'sample pixel')} of '{layer_name}' {agreeing(count, 'is', 'are')} nodata in "
                  f"{nodata_layers(nodata_by_layer)}; {agreeing(count, 'it is', 'they are')} left out.")
    # A reference is counted whole, as the accuracy's lines count it: those on the map's no data are
    # said apart (a helper's numbers check of 2026-12-06: '726 labelled pixels', then '306 of the 1,032').
    counted = (len(values), len(np.unique(values))) if reference else None
    dropped, dropped_counts = np.unique(values[~valid], return_counts=True)
    nodata_by_class: dict[str, int] = {}
    for value, count in zip(dropped.tolist(), dropped_counts.tolist()):  # classes may share a name
        name = names.get(value) or str(value)
        nodata_by_class[name] = nodata_by_class.get(name, 0) + count
    if not valid.all():
        rows, cols, values = rows[valid], cols[valid], values[valid]
    present, counts = np.unique(values, return_counts=True)
    present = present.tolist()
    class_names = [names.get(value) or str(value) for value in present]
    refuse_long_names(dict(zip(present, class_names)), layer_name)
    chosen = class_colours(class_names, [colors.get(value) for value in present])
    classes = [ClassInfo(value, name, color) for value, name, color in zip(present, class_names, chosen)]
    if not reference:
        _say_shared({value: _as_shown(name) for value, name in zip(present, class_names)}, "name",
                    "they are learnt as different classes, which the map's legend will not tell apart; if they are one "
                    "class, write its name alike in every feature, else " if named_by_text
                    else "the map's legend will not tell them apart; ", layer_name, hooks)
        _say_shared({value: colors[value].lower() for value in present if colors.get(value)}, "colour",
                    "the map will show them alike; ", layer_name, hooks)
    pixels, class_count = counted or (len(values), len(classes))
    hooks.log(f"'{layer_name}': {plural(pixels, 'labelled pixel')} in {plural(class_count, 'class', 'classes')}.")
    doubt = doubtful_classes(layer_name, counts)
    if doubt:
        hooks.warning(doubt)
    return LabelledPixels(rows, cols, values, classes, named_by_text, int(np.count_nonzero(~valid)), nodata_by_class,
                          *outside, merged=merged, conflicting=conflicting, nodata_by_layer=nodata_by_layer)


def nodata_layers(by_layer: dict[str, int]) -> str:
    """The layers whose nodata leaves labelled pixels out, for messages: "'lidar'", or "'hsi' (3 pixels)
    or 'lidar' (25 pixels)" (a LiDAR covering half the scene was said as nodata "in at least one of
    'hsi', 'lidar'", naming the layer that held none too: note of 2026-12-06)."""
    listed = [f"'{name}'" if len(by_layer) == 1 else f"'{name}' ({plural(count, 'pixel')})"
              for name, count in by_layer.items()]
    return " or ".join([", ".join(listed[:-1]), listed[-1]] if len(listed) > 2 else listed)


def labelled_parameter(raster: bool, reference: bool = False) -> str:
    """The parameter that gives labelled pixels, as messages name it: SAMPLES or LABELS for training,
    REFERENCE or REFERENCE_LABELS for an accuracy assessment."""
    return ("REFERENCE" if reference else "SAMPLES", "REFERENCE_LABELS" if reference else "LABELS")[raster]


def check_trainable(labels: LabelledPixels, layer_name: str, parameter: str = "SAMPLES") -> None:
    """Refuses training samples of a single class (a reference of one class can still assess a map);
    `parameter` gives them: SAMPLES, whose class field may be the wrong one, or LABELS, which has none."""
    if len(labels.classes) < 2:
        raise InputError(one_class_only(parameter, layer_name, labels.classes[0].name,
                                        " on valid pixels of the rasters"))


def one_class_only(parameter: str, layer_name: str, class_name: str, where: str = "") -> str:
    """The refusal of training samples `where` ('on valid pixels of the rasters') of one class only."""
    return (f"{parameter}: the samples of '{layer_name}'{where} hold only one class ('{class_name}'); at least two "
            "classes are needed. Add samples of other classes"
            + (", or choose the field that holds the classes." if parameter == "SAMPLES" else "."))


def stratified_split(labels: LabelledPixels, val_fraction: float, seed: int, hooks: Hooks | None = None) -> tuple[LabelledPixels, LabelledPixels]:
    """Training and validation pixels: per class round(count x val_fraction), at least 1 of each."""
    hooks = hooks or Hooks()
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(f"The validation fraction {val_fraction} is not in [0, 1). Choose a fraction such as 0.2, or 0 for none.")
    rng = np.random.default_rng(seed)
    validation, lines = [], []
    for info in labels.classes:
        members = np.flatnonzero(labels.values == info.value)
        count = len(members)
        if val_fraction == 0:
            lines.append(f"Class '{info.name}' ({info.value}): {plural(count, 'training pixel')}.")
            continue
        if count < 2:
            raise InputError(
                f"The class '{info.name}' (value {info.value}) has {plural(count, 'sample')}; the "
                "validation split needs at least 2 per class (1 for training, 1 for validation). "
                "Add samples of this class, or set VALIDATION_FRACTION to 0."
            )
        n_validation = min(max(round(count * val_fraction), 1), count - 1)
        validation.append(rng.choice(members, n_validation, replace=False))
        lines.append(f"Class '{info.name}' ({info.value}): {plural(count - n_validation, 'training pixel')}, "
                     f"{plural(n_validation, 'validation pixel')}.")  # '1 training, 1 validation pixels' (audit, 12-06)
    chosen = np.zeros(len(labels.values), bool)
    if validation:
        chosen[np.concatenate(validation)] = True
    for line in lines[:CLASS_LINES]:
        hooks.log(line)
    if len(lines) > CLASS_LINES:  # an ID field taken for the classes logged a line per feature (red team of 2026-12-04)
        hooks.log(f"... and {plural(len(lines) - CLASS_LINES, 'class', 'classes')} more: {int((~chosen).sum()):,} "
                  f"training and {int(chosen.sum()):,} validation pixels in all {len(lines):,} classes.")
    return labels.take(np.flatnonzero(~chosen)), labels.take(np.flatnonzero(chosen))


CLASS_LINES = 30
"""Classes whose pixels the log counts one by one; the others are counted together."""
