"""The analysis jobs (the Toolbox's Analysis group), as plain functions with no QGIS in them:
the accuracy of a class map against reference labels, and the band redundancy of a scene.

Like `jobs`, they take what the front ends read from their parameters and a `Hooks`.
"""

import itertools
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from ..model_core import MAX_CLASS_VALUE, choices
from ..model_core.digits import whole_number
from ..model_core.errors import InputError, first_line
from ..model_core.hooks import Hooks, first_few
from ..model_core.names import agreeing, joined, plural, share_text, value_text
from ..model_core.metrics import accuracy as accuracy_of
from ..model_core.preprocessing import Normalizer
from ..model_core.mask_ratio import mask_count
from ..model_core.redundancy import band_similarity, copied_bands, leakage, redundant_groups
from . import reports, training_pixels
from .job_inputs import NUMBERED_FROM_NAMES_TAG, TRAINED_ON_TAG, LabelSource, Layers, same_layer
from .job_parameters import REDUNDANCY_PICTURED
from .raster import absolute
from .raster.classes import ClassInfo, folded_name, spelt_as
from .raster.grid import Grid
from .raster.labels import UNEVEN_LOSS, LabelledPixels, refuse_long_names, too_large_message
from .raster.patches import pixels_at
from .raster.sources import RasterInput, Scene
from .raster.outputs import check_output_path, claim_outputs, held_outputs
from .raster.gdal_io import class_names, open_raster
from .raster.label_raster import calls_unlabelled, one_negative_code_problem, scaled_classes_message
from .raster.writers import CLASS_NODATA, names_beside, read_classes, read_tag
from .scene_checks import counted_sample, say_few_valid_pixels, say_value_problems


def _matching(reference: LabelledPixels, reference_name: str, mapped: Dict[int, ClassInfo], map_name: str,
              taken: Set[int], hooks: Hooks, zero_name: str = "") -> Tuple[Dict[int, int], Optional[str]]:
    """Reference class value -> map class value, and a warning or None.

    By name when every reference class has a name the map uses, or when a name they share
    stands for another value in the map (red team of 2026-12-04: a reference whose 'Crop' and
    'Grassland' were the map's 2 and 1, with one class the map lacks, was matched by value and
    scored 88 % for a map that was 32 % right): then a named reference class the map lacks gets
    a value of its own, unclaimed in `taken`, and its pixels count as errors. Else by value.
    Classes given as text have arbitrary values, so they are matched by name (those the map lacks
    count as errors) or, where none is found in the map, not at all; a
    class named by its value only is matched by value where the map has that value (red team of
    2026-12-05: an unnamed class 3 went to the map's class named '3', value 4, and every other
    class became an error), else by that name (a map whose classes were numbered from names such
    as '10' and 'Water')."""
    find, alike = _finder(mapped)
    classes = reference.classes
    named = [info for info in classes if reference.named_by_text or info.named
             or (info.value not in mapped and find(info.name) is not None)]
    if classes and len(named) == len(classes) and all(find(info.name) is not None for info in classes):
        moved = [info for info in classes if find(info.name) != info.value]
        if moved and reference.named_by_text:  # values of text classes are their order, not the map's
            hooks.log("The reference classes were matched to the map's classes by their names.")
        # Names that say otherwise than values were matched with an info line only (red team of 2026-12-05).
        warning = (_by_name_text(moved, find, reference_name, map_name) if moved and not reference.named_by_text
                   else None)
        return {info.value: find(info.name) for info in classes}, warning
    if reference.named_by_text and any(find(info.name) is not None for info in classes):
        # the others are classes the map lacks, whose pixels are errors, as a reference of values' are (a
        # helper's red team of 2026-12-06: 'Wetland', which the map has not, refused the whole reference)
        return _matching_by_name(classes, classes, (find, alike), [], taken, reference_name, map_name)
    if reference.named_by_text:
        missing = [f"'{info.name}'" for info in classes if find(info.name) is None and not alike(info.name)]
        doubtful = [f"'{info.name}'" for info in classes if alike(info.name)]
        held = (f"its classes are {', '.join(repr(info.name) for info in mapped.values())}" if mapped
                else "its class names cannot be read (no category names, and no .qml style beside it)")
        if zero_name and any(spelt_as([zero_name], info.name) for info in classes):  # audit of 2026-12-05
            held += (f" (it names its value 0 '{zero_name}', but 0 means no data in a class map: recode the map's "
                     "classes from 1)")
        problems = ([f"{', '.join(missing)} cannot be found in the map '{map_name}'"] * bool(missing)
                    + [f"{', '.join(doubtful)} could be more than one class of the map '{map_name}'"] * bool(doubtful))
        raise InputError(
            f"The reference classes of '{reference_name}' are names, and {' and '.join(problems)}: {held}. Use the "
            "class names of the map, or give the reference classes as class values (a field of whole numbers, or a "
            "label raster)."
        )
    moved = [info for info in named if find(info.name) not in (None, info.value)]
    if moved:
        return _matching_by_name(classes, named, (find, alike), moved, taken, reference_name, map_name)
    # a map class named by its number only has no name to differ (a helper's audit of 2026-12-06: every report
    # of a map trained without NAME_FIELD warned that 'Water' was '1' in the map)
    renamed = [f"{info.value} ('{info.name}' in the reference, '{mapped[info.value].name}' in the map)"
               for info in named if info.value in mapped and mapped[info.value].named
               and folded_name(info.name) != folded_name(mapped[info.value].name)]
    warning = (f"The classes of the reference '{reference_name}' were matched to those of the map '{map_name}' by "
               f"value, though some names differ: class {'; '.join(renamed)}. If they are different classes, recode "
               "one layer to the other's values, or give both the same class names.") if renamed else None
    return {info.value: info.value for info in classes}, warning


def _finder(mapped: Dict[int, ClassInfo]) -> Tuple[Callable[[str], Optional[int]], Callable[[str], List[ClassInfo]]]:
    """Two look-ups of a name in the map's classes: `find`, the value of the one class of that very
    name, else of the one class of that name in any letter case, else None; `alike`, the map's
    classes the name could mean when it could mean more than one (red team of 2026-12-05: a
    map's 'Forest' and 'forest', taken for one name, merged; of two classes named alike the last
    was taken)."""
    values = list(mapped)
    names = [mapped[value].name for value in values]

    def candidates(name: str) -> List[int]:
        return [values[index] for index in spelt_as(names, name)]

    def find(name: str) -> Optional[int]:
        values = candidates(name)
        return values[0] if len(values) == 1 else None

    def alike(name: str) -> List[ClassInfo]:
        values = candidates(name)
        return [mapped[value] for value in values] if len(values) > 1 else []

    return find, alike


def _matching_by_name(classes: Sequence[ClassInfo], named: Sequence[ClassInfo],
                      look_ups: Tuple[Callable[[str], Optional[int]], Callable[[str], List[ClassInfo]]],
                      moved: Sequence[ClassInfo], taken: Set[int], reference_name: str,
                      map_name: str) -> Tuple[Dict[int, int], str]:
    """Reference classes by name; those the map has no name for get a value of their own each,
    classes without a name (not in `named`) too, since the names show that the values do not
    match (red team of 2026-12-04: an unnamed class 2 was matched by value to the map's class 2,
    which the reference's named class 1 had been matched to by name, and the two merged)."""
    find, alike = look_ups
    free = (value for value in itertools.count(max(taken | {0}) + 1) if value not in taken)
    found = {info.value: find(info.name) for info in named if find(info.name) is not None}
    matching = {info.value: found[info.value] if info.value in found else next(free) for info in classes}
    lacking = [info for info in named if info.value not in found and not alike(info.name)]
    doubtful = [info for info in named if alike(info.name)]
    unnamed = [info for info in classes if info not in named]
    parts = [_by_name_text(moved, find, reference_name, map_name)] if moved else []
    if lacking:
        parts.append(f"The map has no class named {', '.join(repr(info.name) for info in lacking)}: "
                     f"{'its' if len(lacking) == 1 else 'their'} pixels count as errors.")
    for info in doubtful:  # in the map's spellings (a helper's red team of 2026-12-06 read the reference's)
        meant = joined([f"'{alike_info.name}' ({alike_info.value})" for alike_info in alike(info.name)])
        parts.append(f"The reference's class '{info.name}' could be any of the map's classes {meant}: its pixels count "
                     "as errors.")
    if unnamed:
        parts.append(f"Class{'es' if len(unnamed) > 1 else ''} {', '.join(str(info.value) for info in unnamed)} of the "
                     f"reference {'have' if len(unnamed) > 1 else 'has'} no name to match by: "
                     f"{'its' if len(unnamed) == 1 else 'their'} pixels count as errors.")
    return matching, " ".join(parts)


def _by_name_text(moved: Sequence[ClassInfo], find: Callable[[str], Optional[int]], reference_name: str,
                  map_name: str) -> str:
    """The sentence that says which reference classes went to a map class of another value by name."""
    shown = "; ".join(f"'{info.name}' ({info.value} in the reference, {find(info.name)} in the map)" for info in moved)
    return (f"The classes of the reference '{reference_name}' were matched to those of the map '{map_name}' by name, "
            f"as their values differ: {shown}. If a name is wrong, correct it in the reference.")


def _check_class_map(grid: Scene, map_name: str) -> None:
    if grid.n_bands != 1:
        raise InputError(
            f"INPUT: '{map_name}' has {grid.n_bands} bands, but a land-cover map has one band of class values. "
            "Choose the map made by 'Classify' (or another one-band class map)."
        )
    scale, offset = grid.band_scaling[0].tolist()
    if (scale, offset) != (1.0, 0.0):  # read scaled, classes 1 to 4 were scored as 2 to 8 (a helper's audit, 12-06)
        raise InputError(scaled_classes_message(f"INPUT: '{map_name}'", scale, offset))


def _check_class_values(predicted: np.ndarray, map_name: str) -> None:
    # too large first: -1 beside 1e10 was told to be declared no data, as if 1e10 were a class (an audit of 12-06)
    if len(predicted) and predicted.max() > MAX_CLASS_VALUE:  # audit of 2026-12-05: 1e20 overflowed to -2**63
        raise InputError(too_large_message(f"INPUT: '{map_name}'", float(predicted.max())))
    odd = predicted[(predicted < 0) | (predicted != np.round(predicted))]
    negative = one_negative_code_problem(predicted, f"INPUT: '{map_name}'", "no data")
    if negative:
        raise InputError(negative)
    if len(odd):
        raise InputError(
            f"INPUT: '{map_name}' holds values that are not class values (such as {odd[0]:g}): a land-cover map "
            "holds whole numbers from 1 (0 = no data). Choose the map made by 'Classify', not a reflectance or "
            "confidence raster."
        )


def accuracy_job(class_map: str, map_name: str, reference: LabelSource, *, out_html: Optional[str] = None,
                 out_json: Optional[str] = None, out_csv: Optional[str] = None,
                 hooks: Optional[Hooks] = None) -> Dict[str, Any]:
    """Accuracy of a class map against reference labels; writes the reports asked for."""
    hooks = hooks or Hooks()
    outputs = {"OUTPUT_HTML": (out_html, ".html"), "OUTPUT_JSON": (out_json, ".json"),
               "OUTPUT_CSV": (out_csv, ".csv")}
    paths = {key: check_output_path(path, key, (extension,)) for key, (path, extension) in outputs.items() if path}
    claim_outputs(paths, {"INPUT": [class_map], **reference.inputs("REFERENCE", "REFERENCE_LABELS")})
    for key, path in paths.items():
        reports.check_replaceable(path, key, reports.ACCURACY)
    with held_outputs(*paths.values()):
        return _accuracy(class_map, map_name, reference, paths, hooks)


def _accuracy(class_map: str, map_name: str, reference: LabelSource, paths: Dict[str, str],
              hooks: Hooks) -> Dict[str, Any]:
    with Scene.single(RasterInput(class_map, map_name)) as grid:
        _check_class_map(grid, map_name)
        read_warnings: List[str] = []  # what reading the reference warns of goes into the reports too
        labelled = reference.read(grid, replace(hooks.sub(0.0, 0.5), warn=lambda text: (
            read_warnings.append(text), hooks.warning(text))), reference=True)
        # float64: class values above 2**24 merge in float32 (red team of 2026-12-04).
        mapped, valid = pixels_at(grid, labelled.rows, labelled.cols, hooks.sub(0.5, 1.0), dtype=np.float64)
    _check_class_values(mapped[:, 0], map_name)
    predicted = mapped[:, 0].astype(np.int64)
    del mapped
    no_data_names = _no_data_names(class_map)
    named_no_data = _named_no_data_warnings(no_data_names, map_name, predicted == CLASS_NODATA, valid,
                                            labelled.nodata_pixels, [info.name for info in labelled.classes])
    try:
        map_classes = {info.value: info for info in read_classes(class_map, "INPUT")}
    except InputError:
        map_classes = {}
    refuse_long_names({value: info.name for value, info in map_classes.items()}, map_name)  # review of 2026-12-05
    taken = set(map_classes) | {info.value for info in labelled.classes} | set(np.unique(predicted).tolist())
    matching, matched = _matching(labelled, reference.name, map_classes, map_name, taken, hooks, no_data_names[0])
    reference_names = {matching[info.value]: info.name for info in labelled.classes}
    known = np.array(sorted(matching), dtype=np.int64)
    truth = np.array([matching[value] for value in known.tolist()], dtype=np.int64)[
        np.searchsorted(known, labelled.values)]
    # 0 is no data in a class map, declared as its nodata value or not.
    classed = predicted != CLASS_NODATA
    unmapped = labelled.nodata_pixels + int(np.count_nonzero(~classed))
    if not classed.any():
        raise InputError(f"INPUT: '{map_name}' gives no class (only 0, no data) at the pixels of the reference "
                         f"'{reference.name}'. Choose the map of the area the reference covers.")
    if not classed.all():
        truth, predicted = truth[classed], predicted[classed]
    predicted_classes = set(np.unique(predicted).tolist())
    values = sorted(set(map_classes) | set(reference_names) | predicted_classes)
    unnamed = {CLASS_NODATA: "No data"}
    names = [_page_name(map_classes.get(v), reference_names.get(v, "")) or unnamed.get(v, str(v)) for v in values]
    figures = accuracy_of(np.searchsorted(values, truth), np.searchsorted(values, predicted), len(values))
    # A reference class the map lacks is counted under a value of neither layer, which the reports do not show
    # (review of 2026-12-05: 'Wetland' was listed as class 6 of a map of classes 1 to 3).
    shown = [value if value in taken else None for value in values]
    report = {"class_map": absolute(class_map), "reference": reference.name,
              "reference_file": reference.source(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "class_values": shown,
              **figures.to_dict(names), "confusion_matrix_axes": {"rows": "reference", "columns": "map"},
              "unmapped_reference_pixels": unmapped,
              "outside_map": labelled.outside, "outside_map_unit": labelled.outside_unit,
              "reference_features_left_out": sum(labelled.left_out_features.values()),
              "reference_features_partly_outside": labelled.partly_outside}
    hooks.log(f"Overall accuracy {reports.percent(figures.overall)} %, average accuracy "
              f"{reports.percent(figures.average)} %, "
              f"kappa {reports.kappa_text(report['kappa'])} on {plural(figures.total, 'reference pixel')}.")
    merged = _merged_classes_warning(labelled, matching, map_classes, reference.name)
    absent = _absent_classes_warning(labelled, matching, map_classes, taken, predicted_classes,
                                     map_name, reference.name)
    trained_on = _trained_on_warning(class_map, map_name, reference, grid.grid, labelled)
    disjoint = _disjoint_classes_warning(truth, predicted, map_name, reference.name, dict(zip(values, names)),
                                         labelled.named_by_text)
    left_out = _as_on_the_page(labelled.left_out_by_class(~classed), labelled, matching, map_classes)
    uncovered = _unmapped_warning(left_out, figures.total, map_name, reference.name)
    beyond = _outside_warning(labelled, map_name, reference.name)
    incomplete = _left_out_features_warning(labelled, reference.name)
    shared = _shared_pixels_warning(labelled, grid.grid_label, reference.name)
    numbered = _numbered_from_names_warning(class_map, map_name, map_classes, labelled, matching, reference.name)
    found = [warning for warning in (*names_beside(class_map, map_name), *named_no_data, numbered, matched, merged,
                                     absent, shared,
                                     incomplete, beyond, uncovered, trained_on, disjoint) if warning]
    for warning in found:
        hooks.warning(warning)
    report["warnings"] = [*read_warnings, *found]
    writers = {"OUTPUT_HTML": reports.write_html, "OUTPUT_JSON": reports.write_json,
               "OUTPUT_CSV": reports.write_csv}
    reports.write_together([(path, lambda temporary, key=key: writers[key](temporary, report))
                            for key, path in paths.items()])
    return {**report, "paths": paths}


def _values(values: np.ndarray, names: Dict[int, str]) -> str:
    """Classes for a message: '11, 12, 13', a class in `names` by its name in quotes ('Water', not the value a
    text class got for the reports: a helper's audit of 2026-12-06), the first ten, then how many more."""
    present = np.unique(values).tolist()
    shown = ", ".join(str(value) if names.get(value, str(value)) == str(value) else f"'{names[value]}'"
                      for value in present[:10])
    return shown + (f" and {len(present) - 10} more" if len(present) > 10 else "")


def _page_name(mapped: Optional[ClassInfo], reference_name: str) -> str:
    """The name the reports give a class: the map's, unless the map names it by its number only and the
    reference has a name for it (a helper's audit of 2026-12-06: 'Water' was shown as '1')."""
    return mapped.name if mapped is not None and (mapped.named or not reference_name) else reference_name


def _as_on_the_page(by_class: Dict[str, Tuple[int, int]], labelled: LabelledPixels, matching: Dict[int, int],
                    map_classes: Dict[int, ClassInfo]) -> Dict[str, Tuple[int, int]]:
    """{class name: (pixels, all pixels)} of the reference's classes under the names the page gives
    them: the map's, where a reference class is one of the map's (a helper's QGIS-side check of
    2026-12-06: a reference of class values without names had '5' in the warning, 'Buildings' on
    the page); counts of classes the page names alike added up. A class of a reference matched by
    value whose every pixel lies on the map's no data, so that it is no class of the pixels assessed,
    is named by the map's class of its value too (a helper's red team of 2026-12-06: '1' and '7')."""
    shown: Dict[str, Tuple[int, int]] = {}
    names = {info.name: _page_name(map_classes.get(matching[info.value]), info.name) for info in labelled.classes}
    if not labelled.named_by_text and all(key == value for key, value in matching.items()):
        names.update({name: map_classes[number].name for name in by_class if name not in names
                      and (number := whole_number(name)) is not None and number in map_classes})
    for name, (lost, count) in by_class.items():
        key = names.get(name, name)
        earlier = shown.get(key, (0, 0))
        shown[key] = (earlier[0] + lost, earlier[1] + count)
    return shown


def _unmapped_warning(by_class: Dict[str, Tuple[int, int]], assessed: int, map_name: str,
                      reference_name: str) -> Optional[str]:
    """The warning for reference pixels where the map has no class, or None: the figures leave
    them out, so a map covering half the reference would otherwise look as good as a whole one.
    Classes it leaves out far more often than the others are named (red team of 2026-12-04: 60 % of
    the water, dark where a band's nodata is 0, was unmapped, its producer's accuracy 89.6 % on the rest)."""
    unmapped = sum(lost for lost, _total in by_class.values())
    if not unmapped:
        return None
    total = unmapped + assessed
    share = unmapped / total
    uneven = [(name, lost, count) for name, (lost, count) in by_class.items()
              if lost / count >= max(UNEVEN_LOSS * share, 0.2)]
    gone = [name for name, lost, count in uneven if lost == count]  # no rest to describe (audit of 2026-12-05)
    named = "" if not uneven or len(uneven) == len(by_class) else (
        " It leaves out some classes far more than the others: " + first_few(
            (f"'{name}' {lost:,} of {count:,} ({share_text(lost / count)})" for name, lost, count in uneven), "; ")
        + ("; their figures describe the rest of them only" if len(gone) < len(uneven) else "")
        + (f"; {first_few(repr(name) for name in gone)} {agreeing(len(gone), 'has', 'have')} no figures at all, and "
           f"the average accuracy leaves {agreeing(len(gone), 'it', 'them')} out" if gone else "") + ".")
    return (f"{unmapped:,} of the {total:,} reference pixels of '{reference_name}' ({share_text(share)}) "
            f"{agreeing(unmapped, 'lies', 'lie')} "
            f"where the map '{map_name}' has no class (nodata); the figures leave {agreeing(unmapped, 'it', 'them')} "
            "out and describe the mapped "
            f"pixels only.{named}")


def _shared_pixels_warning(labelled: LabelledPixels, grid_label: str, reference_name: str) -> Optional[str]:
    """Says how reference samples sharing a pixel were counted: the report counted pixels, and
    6 points on 3 pixels were 'on 2 reference pixels' with nothing left out (red team of 2026-12-04)."""
    samples, pixels = labelled.conflicting
    if not (labelled.merged or samples):
        return None
    merged = labelled.merged
    parts = [f"{merged:,} {agreeing(merged, 'counts', 'count')} once with another sample of "
             f"{agreeing(merged, 'its', 'their')} class on the same pixel"] if merged else []
    if samples:
        parts.append(f"{samples:,} on {plural(pixels, 'pixel')} holding samples of different classes "
                     f"{agreeing(samples, 'is', 'are')} left out")
    given = len(labelled.values) + labelled.nodata_pixels + labelled.merged + samples
    on = len(labelled.values) + labelled.nodata_pixels + pixels
    # features covering more than a pixel each: a polygon's pixels are its samples (a helper's audit of 2026-12-06:
    # '122 reference samples of 5 polygons')
    samples_of = ("labels (one per point, one per pixel centre a polygon covers)" if 0 < labelled.features < given
                  else "samples")
    return (f"{given:,} reference {samples_of} of '{reference_name}' fall on {plural(on, 'pixel')} of {grid_label}: "
            f"{', and '.join(parts)}. The figures count pixels.")


def _numbered_from_names_warning(class_map: str, map_name: str, map_classes: Dict[int, ClassInfo],
                                 labelled: LabelledPixels, matching: Dict[int, int],
                                 reference_name: str) -> Optional[str]:
    """The warning for a map whose classes were numbered from their names (a classifier trained on a
    text class field) matched by value to a reference whose classes have values only, or None: the
    values mean different classes (red team of 2026-12-04: 4 % for a map 90 % right, without a word).
    None where `matching` took a class to another value, by its name: a reference of 10 matched to the
    map's '10' (its 1) was said to be matched by value (a helper's mutation audit of 2026-12-07)."""
    if (read_tag(class_map, "INPUT", NUMBERED_FROM_NAMES_TAG) != "yes" or any(info.named for info in labelled.classes)
            or any(matching[value] != value for value in matching)):
        return None
    shown = first_few(f"{value} '{info.name}'" for value, info in sorted(map_classes.items()))
    return (f"The classes of the map '{map_name}' were numbered from their names when its classifier was trained "
            f"({shown}), but those of the reference '{reference_name}' have values only: they were matched by "
            "value, which says nothing of the map unless the reference was numbered from the same names. Give the "
            "reference its class names (points or polygons: a field of the names as REFERENCE_FIELD; a label raster: "
            "category names, or a paletted style saved beside it as a .qml file), so that they are matched by name.")


def _no_data_names(class_map: str) -> Tuple[str, Optional[float], str]:
    """The name a map gives its value 0 (no data in a class map), its declared nodata value and the
    name it gives that value: '' where they name nothing, or only what no data is ('Unclassified')."""
    dataset = open_raster(class_map, f"INPUT: {class_map}")
    band = dataset.GetRasterBand(1)
    names, nodata = class_names(band), band.GetNoDataValue()
    zero = names.get(CLASS_NODATA, "")
    named = names.get(int(nodata), "") if nodata is not None and np.isfinite(nodata) and nodata == int(nodata) else ""
    return ("" if calls_unlabelled(zero) else zero), nodata, ("" if calls_unlabelled(named) else named)


def _named_no_data_warnings(no_data_names: Tuple[str, Optional[float], str], map_name: str, zero: np.ndarray,
                            valid: np.ndarray, on_nodata: int, reference_names: Sequence[str]) -> List[str]:
    """Warnings for a map that names its value 0 (no data in a class map) as a class, where it
    holds 0 at reference pixels (`zero` where the value read is 0, `valid` where it is not the
    declared nodata; `on_nodata` reference pixels on the declared nodata, left out by the reading
    of the reference), or names its declared nodata value so (a helper's audit of 2026-12-05: 143
    'Water' pixels of value 0 were left out unsaid, and the map said to have no class 'Water'; a
    nodata value of 2 named 'Forest' lost its pixels without a word; one of 2026-12-06: of a nodata
    value of 0 so named, none were counted, as the reading had left them out)."""
    zero_name, nodata, nodata_name = no_data_names
    zeros = on_nodata if nodata == CLASS_NODATA else int(np.count_nonzero(zero & valid))  # not the nodata value's
    warnings = []
    if zeros and zero_name:
        unmatched = (f", and the reference's '{zero_name}' finds no class of the map by that name"
                     if spelt_as(list(reference_names), zero_name) else "")
        warnings.append(f"The map '{map_name}' names its value 0 '{zero_name}', but 0 means no data in a class map: "
                        f"its {plural(zeros, 'reference pixel')} of value 0 {agreeing(zeros, 'is', 'are')} left out as "
                        f"unmapped{unmatched}. If 0 is a class, recode the map's classes from 1.")
    if nodata != CLASS_NODATA and nodata_name:
        warnings.append(f"The map '{map_name}' declares {value_text(nodata, 8)} as its nodata value, but names that "
                        f"value '{nodata_name}' as a class: its pixels are left out as unmapped. If '{nodata_name}' is "
                        "a class, declare another nodata value, or none.")
    return warnings


def _outside_warning(labelled: LabelledPixels, map_name: str, reference_name: str) -> Optional[str]:
    """The warning for reference samples outside the map's extent, or reaching beyond it, or None:
    the figures leave them, or their parts beyond, out (red team of 2026-12-04: a map of a quarter of
    the reference, the rest unsaid; of 2026-12-05: polygons reaching beyond it, said in the log only)."""
    if labelled.outside:
        one = labelled.outside == 1  # '1 features ... lie' (audit of 2026-12-05)
        said = (f"{labelled.outside:,} {labelled.outside_unit[:-1] if one else labelled.outside_unit} of the reference "
                f"'{reference_name}' {'lies' if one else 'lie'} outside the map '{map_name}'")
        if labelled.partly_outside:  # both said (a helper's red team of 2026-12-05: the second went unsaid)
            return (f"{said}, and {labelled.partly_outside:,} of its {labelled.features:,} features "
                    f"{agreeing(labelled.partly_outside, 'reaches', 'reach')} beyond the map; the figures leave out "
                    f"the {agreeing(labelled.outside, 'feature', 'features')} outside and the parts beyond the map, "
                    "and describe the area the map covers only.")
        return f"{said}; the figures leave {'it' if one else 'them'} out and describe the area the map covers only."
    if labelled.partly_outside:
        one = labelled.partly_outside == 1
        return (f"{labelled.partly_outside:,} of the {labelled.features:,} features of the reference "
                f"'{reference_name}' {'reaches' if one else 'reach'} beyond the map '{map_name}'; the figures leave "
                f"{'its' if one else 'their'} parts outside the map out and describe the area the map covers only.")
    return None


def _absent_classes_warning(labelled: LabelledPixels, matching: Dict[int, int], map_classes: Dict[int, ClassInfo],
                            taken: Set[int], mapped: Set[int], map_name: str, reference_name: str) -> Optional[str]:
    """The warning for reference classes matched by value that the map has no class for (its class
    table known), whose pixels count as errors, or None (red team of 2026-12-05: 57 'Bare soil'
    pixels of a classifier trained without them, without a word). Those matched by name to a value
    of their own (not `taken`) are said by `_matching_by_name`; a value the map gives at the reference
    pixels (`mapped`) is a class of it, named or not (review of 2026-12-05: a false alarm at 100 %)."""
    counts = labelled.counts()
    absent = [(info.name, counts[info.value]) for info in labelled.classes
              if map_classes and matching[info.value] not in map_classes and matching[info.value] in taken
              and matching[info.value] not in mapped and counts[info.value]]
    if not absent:
        return None
    listed = first_few(f"'{name}' ({plural(count, 'reference pixel')})" for name, count in absent)
    one = len(absent) == 1
    return (f"The map '{map_name}' has no class for {listed} of the reference '{reference_name}': those pixels count "
            "as errors, as a classifier maps only the classes it was trained on. Train with samples of "
            f"{'it' if one else 'them'}, or leave {'it' if one else 'them'} out of the reference to assess the classes "
            "the map has.")


def _merged_classes_warning(labelled: LabelledPixels, matching: Dict[int, int], map_classes: Dict[int, ClassInfo],
                            reference_name: str) -> Optional[str]:
    """The warning for reference classes matched to one class of the map (names alike but for their
    letter case, or repeated), which are scored as that class, or None (red team of 2026-12-05: a
    reference's Grassland renamed 'Crop' was scored as Crop, OA 28.8 -> 43.1 %, under a warning of
    the map's legend)."""
    by_target: Dict[int, List[int]] = {}
    for value, target in sorted(matching.items()):
        by_target.setdefault(target, []).append(value)
    counts = labelled.counts()
    names = {info.value: info.name for info in labelled.classes}

    def shown(values: List[int]) -> str:  # text classes by their names: their numbers are their order (audit)
        return ", ".join(f"'{names[value]}'" if labelled.named_by_text else str(value) for value in values)

    parts = []
    for target, values in by_target.items():
        if len(values) > 1:
            name = map_classes[target].name if target in map_classes else str(target)
            others = [value for value in values if value != target]
            moved = (f", {sum(counts[value] for value in others)} of them of class{'es' * (len(others) > 1)} "
                     f"{shown(others)}") if target in values and not labelled.named_by_text else ""
            parts.append(f"Classes {shown(values)} of the reference '{reference_name}' share the name of "
                         f"the map's class '{name}' ({target}), so they are scored as that one class: "
                         f"{sum(counts[value] for value in values)} reference pixels{moved}.")
    if not parts:
        return None
    return " ".join(parts) + " If they are different classes, name each after a class of the map."


def _left_out_features_warning(labelled: LabelledPixels, reference_name: str) -> Optional[str]:
    """The warning for reference features without a class, a geometry or a pixel centre, or None:
    the figures leave them out (red team of 2026-12-05: 48 water points without a class were left
    out with a log line, and water was reported as absent from the reference)."""
    count = sum(labelled.left_out_features.values())
    if not count:
        return None
    why = {"no class": ("has no class", "have no class"), "no geometry": ("has no geometry", "have no geometry"),
           "no pixel centre": ("covers no pixel centre (smaller than a pixel)",
                               "cover no pixel centre (smaller than pixels)")}
    parts = [f"{number:,} {why[reason][number != 1]}" for reason, number in labelled.left_out_features.items()
             if number]
    them = agreeing(count, "it", "them")  # 'them' of one feature (a helper's third audit of 2026-12-07)
    return (f"{count:,} of the {labelled.features:,} features of the reference '{reference_name}' "
            f"{agreeing(count, 'is', 'are')} left out of the figures: {', '.join(parts)}. Fill {them} in (a class, a "
            f"geometry over pixel centres) to have {them} assessed.")


def _disjoint_classes_warning(truth: np.ndarray, predicted: np.ndarray, map_name: str, reference_name: str,
                              names: Dict[int, str], by_name: bool) -> Optional[str]:
    """The warning for a map none of whose classes at the reference pixels is a reference class
    (a map coded 11-17 against a reference coded 1-7: 0 % without a word, red team of
    2026-12-04), or None; `names`: the reports' name of each value, said where `by_name` (the reference's classes
    are names, matched by name)."""
    mapped = predicted[predicted != CLASS_NODATA]
    if len(mapped) == 0 or np.isin(mapped, truth).any():
        return None
    names = names if by_name else {}
    return (f"None of the classes the map '{map_name}' gives the reference pixels ({_values(mapped, names)}) is a "
            f"class of the reference '{reference_name}' ({_values(truth, names)}): "
            + ("every reference pixel counts as an error. If they stand for the same classes, give both the same class "
               "names." if by_name else "the figures compare different class codes. If they stand for the same "
               "classes, recode one layer to the other's values, or give both the same class names."))


def _trained_on_warning(class_map: str, map_name: str, reference: LabelSource, grid: Grid,
                        labelled: LabelledPixels) -> Optional[str]:
    """The warning for a reference that holds the samples the map's classifier was trained on,
    or None. A map that carries its training pixels is judged by them (a copy of the labels, the
    same samples as points, another layer of the same GeoPackage); an older map by the labels'
    layer its classifier names."""
    unlike = ("these figures say how well it learned them, not how accurate the map is; assess the map on samples "
              "kept apart from training.")
    share = training_pixels.trained_share(read_tag(class_map, "INPUT", training_pixels.TAG), grid,
                                          labelled.rows, labelled.cols)
    if share is not None:
        return (f"{share_text(share)} of the pixels of the reference '{reference.name}' lie on pixels the "
                f"classifier of '{map_name}' was trained on"
                f"{'' if grid.georeferenced else training_pixels.BY_ROW_AND_COLUMN}: if they are its training "
                f"samples, {unlike}") if share >= training_pixels.WARN_SHARE else None
    if same_layer(read_tag(class_map, "INPUT", TRAINED_ON_TAG), reference.source()):
        return (f"The reference '{reference.name}' holds the samples the classifier of '{map_name}' was trained on: "
                f"{unlike}")
    return None


def _band_range(group: Sequence[int], labels: Sequence[str]) -> str:
    first, last = group[0], group[-1]
    contiguous = last - first == len(group) - 1
    numbers = f"{first + 1}-{last + 1}" if contiguous and len(group) > 1 else ",".join(str(b + 1) for b in group)
    span = f" ({labels[first]} - {labels[last]})" if contiguous and len(group) > 1 else ""
    return numbers + span


def leak_text(mask_ratio: float, bands: int, leaked: float, threshold: float) -> str:
    """The sentence of random masking's leak over `bands` bands, its share as `reports.percent` writes it
    (99.975 % was '100.0 %': a helper's README audit of 2026-12-05), with the bands the ratio hides (1 % of 22
    bands was said where one, 4.5 %, is hidden: a helper's red team of 2026-12-06)."""
    hidden = mask_count(bands, mask_ratio)
    return (f"Random spectral masking of {100 * mask_ratio:.0f} % of the bands ({hidden} of {bands}) leaves "
            f"{reports.percent(leaked)} % "
            f"of the masked bands with a visible band at least {threshold}-similar: the information leak MRS masking "
            "avoids.")


def redundancy_job(layers: Layers, *, threshold: float, sample_size: int, seed: int, hooks: Hooks,
                   out_png: Optional[str] = None, out_csv: Optional[str] = None,
                   mask_ratio: float = choices.MASK_RATIO, out_html: Optional[str] = None) -> Dict[str, Any]:
    """Band-to-band similarity of the scene, its groups of redundant bands, and the leak
    that random spectral masking leaves at `mask_ratio`; writes the files asked for (none: the
    groups and the leak are its results alone, as a script wants them)."""
    given = {"OUTPUT_PNG": (out_png, ".png"), "OUTPUT_CSV": (out_csv, ".csv"), "OUTPUT_HTML": (out_html, ".html")}
    paths = {key: check_output_path(path, key, (extension,)) for key, (path, extension) in given.items() if path}
    claim_outputs(paths, layers.inputs())
    for key, path in paths.items():
        reports.check_replaceable(path, key, reports.REDUNDANCY)
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"THRESHOLD must lie in (0, 1]; got {threshold}. A typical value is 0.95.")
    if not 0.0 < mask_ratio < 1.0:
        raise InputError(f"MASK_RATIO must lie strictly between 0 and 1; got {mask_ratio}.")
    if sample_size < 2:
        raise InputError(f"SAMPLE_SIZE must be at least 2 pixels; got {sample_size}.")
    _refuse_a_heat_map_without_matplotlib(sorted(paths.keys() & REDUNDANCY_PICTURED))
    with held_outputs(*paths.values()):
        return _redundancy(layers, threshold, sample_size, seed, mask_ratio, paths, hooks)


def _refuse_a_heat_map_without_matplotlib(pictured: List[str]) -> None:
    """Refuses the outputs that hold the heat map where matplotlib, which draws it, cannot be imported:
    the dialog creates them by default, and QGIS without matplotlib ended the run in a traceback once
    the similarities were computed (a desktop helper's check of 2026-12-07)."""
    from .dependencies import MATPLOTLIB_INSTALL, import_problem

    problem = import_problem("matplotlib") if pictured else None
    if problem:
        why = "is not installed" if problem == "not installed" else f"cannot be imported ({first_line(problem)})"
        raise InputError(f"{joined(pictured)} {agreeing(len(pictured), 'holds', 'hold')} a heat map drawn with "
                         f"matplotlib, which {why} in this Python: install it ({MATPLOTLIB_INSTALL}), or skip "
                         f"{agreeing(len(pictured), 'that output', 'those outputs')}.")


def _redundancy(layers: Layers, threshold: float, sample_size: int, seed: int, mask_ratio: float,
                paths: Dict[str, str], hooks: Hooks) -> Dict[str, Any]:
    with layers.open(hooks) as scene:
        sample = counted_sample(scene, sample_size, seed, hooks.sub(0.0, 0.8))
        say_value_problems(sample, scene, hooks)
        few = say_few_valid_pixels(len(sample), scene, hooks, "compare the bands of")
        if len(sample) < choices.SIMILARITY_PIXELS and not few:  # 3 x 3 pixels, unsaid (a helper's red team, 12-05)
            hooks.warning(f"The similarities are computed from the {plural(len(sample), 'valid pixel')} of "
                          f"'{scene.hsi_name}' alone: fewer than {choices.SIMILARITY_PIXELS} tell little of how alike "
                          "the bands are. Give a larger scene.")
        labels = reports.band_labels(scene.band_names, scene.wavelengths, scene.n_hsi)
        title = f"Band similarity of '{scene.hsi_name}'" + "".join(f" + '{n}'" for n in scene.aux_names)
    hooks.check_cancel()
    similarity = band_similarity(Normalizer.fit(sample).apply_pixels(sample))
    hooks.check_cancel()
    constant = np.flatnonzero(sample.min(axis=0) == sample.max(axis=0))
    if len(constant):
        hooks.warning(f"{len(constant)} of the {len(labels)} bands {agreeing(len(constant), 'holds', 'hold')} one "
                      f"value in {'the one pixel' if len(sample) == 1 else f'all {len(sample):,} pixels'} sampled "
                      f"({first_few(labels[index] for index in constant)}): "
                      f"{agreeing(len(constant), 'it carries', 'they carry')} nothing to compare, so "
                      f"{agreeing(len(constant), 'it', 'each')} stands alone in the groups with a similarity of 0 to "
                      "every other band.")
    copies = copied_bands(similarity)
    if copies:
        hooks.warning(f"Bands that are copies of one another up to a scale (negative too) and an offset (a "
                      f"similarity of 1 or -1 in the {plural(len(sample), 'pixel')} sampled): "
                      f"{'; '.join(joined([labels[band] for band in group]) for group in copies)}. A copy, as an "
                      "export or a band stack may repeat a band, tells nothing new: check the layers' bands.")
    groups = redundant_groups(similarity, threshold)
    leaked = leakage(similarity, mask_ratio, threshold)
    largest = max(len(group) for group in groups)
    alone = sum(1 for group in groups if len(group) == 1)  # counted as groups of near-duplicates (review of 12-05)
    found = (f"{plural(len(groups), 'group')} of bands at a similarity threshold of {threshold} (each band at least "
             "that similar to its group's first band or to its nearest band; from "
             f"{plural(len(sample), 'pixel')}): the largest has {plural(largest, 'band')}"
             + (f"; {plural(alone, 'band')} {agreeing(alone, 'is', 'are')} like no other." if alone else "."))
    leak = leak_text(mask_ratio, len(labels), leaked, threshold)
    ranges = [_band_range(group, labels) for group in groups]
    image = reports.heatmap_png(similarity, labels, groups, title) if paths.keys() & REDUNDANCY_PICTURED else b""
    writers = {"OUTPUT_CSV": lambda temporary: reports.write_similarity_csv(temporary, similarity, labels),
               "OUTPUT_PNG": lambda temporary: reports.write_bytes(temporary, image),
               "OUTPUT_HTML": lambda temporary: reports.write_redundancy_html(
                   temporary, title, image, [("Groups", found), ("Leak of random masking", leak)],
                   [(text, ", ".join(labels[band] for band in group)) for text, group in zip(ranges, groups)],
                   (absolute(layers.hsi.path), [absolute(item.path) for item in layers.aux]),
                   datetime.now(timezone.utc).isoformat(timespec="seconds"))}
    reports.write_together([(path, writers[key]) for key, path in paths.items()])
    hooks.progress(1.0)
    hooks.log(found)
    hooks.log(leak)
    return {"groups": ranges, "group_count": len(groups), "largest_group": largest, "leakage": leaked,
            "similarity": similarity, "paths": paths}
