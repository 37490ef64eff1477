"""What each Processing algorithm does, as plain functions with no QGIS in them (the analysis
jobs, accuracy and redundancy, are in `analysis`).

layers -> aligned scene -> patches -> model_core -> tiled writer. The Processing
algorithms call these with what they read from their parameters; the demo and the
benchmarks call the very same functions, so what is measured is what users run.
Every function takes a `Hooks` for progress, log lines and cancel.
"""

import contextlib
import dataclasses
import json
import math
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import numpy as np

from ..model_core import distributed, model_file
from ..model_core.launcher import launched
from ..model_core.band_units import check_band_units
from ..model_core.checkpoints import SAMPLE_SETTINGS
from ..model_core.config import preset as preset_config
from ..model_core.device import describe_device, resolve_device
from ..model_core.errors import BandCountError, ChangedFileError, InputError, MrsError
from ..model_core.hooks import Hooks, duration, first_few
from ..model_core.inference import MEMORY_SHARE, TilePredictor, memory_headroom
from ..model_core.loading import (PIXEL_SIZE_RATIO, check_aux_bands, check_aux_layers, check_bands, check_pixel_size,
                                   check_wavelengths, load_classifier, load_pretrained, pixel_shape, say_unchecked)
from ..model_core.names import Names, agreeing, byte_size, joined, mismatch_outcome, plural, share_text
from ..model_core.phases import FinetunePhase, PretrainPhase
from ..model_core.preprocessing import CLIPPED_SHARE, Normalizer, fit_pca
from ..model_core.paths import output_path_of
from ..model_core.training import MaskingSettings, TrainSettings, checkpoint_path_for, finetune, pretrain
from . import training_pixels
from .job_inputs import NUMBERED_FROM_NAMES_TAG, TRAINED_ON_TAG, LabelSource, Layers
from .parameters import RASTERIZE_OVER
from .raster import TILE_SIZE
from .raster.classes import ClassInfo
from .raster.grid import Window
from .raster.labels import (UNEVEN_LOSS, LabelledPixels, check_trainable, labelled_parameter, nodata_layers,
                            stratified_split)
from .raster.patches import check_patch_size
from .raster.predict import check_tile_size, predict_scene, predicted_tiles
from .raster.samples import Positions, random_positions_in_scenes
from .raster.sources import MIN_HSI_BANDS, Scene, TooFewBandsError, window_from_extent
from .raster.stats import MODEL_BAND_ADVICE, NoValidPixelError, no_valid_pixel_message, sample_valid_pixels
from .raster.suggestions import (ClassField, SuggestionPool, check_points_output, trained_on_a_label_raster,
                                 write_points)
from .raster.vector_labels import mask_covers_nothing, mask_rasterizer
from .raster.outputs import check_output_path, claim_outputs, held_outputs, refuse_shared_outputs, writes_outputs
from .raster.writers import CLASS_MAP, CONFIDENCE, check_replaceable, confidence_of
from .scene_checks import (FEW_PIXELS, SCENE_CHECK_PIXELS, check_sample, counted_sample, say_blank_layers,
                           value_shown)
from .scene_list import (ListedScene, check_same_bands, read_scene_list, say_other_aux_names, say_other_units,
                         say_same_values)
from .streaming import (capped_positions, normalised_patches, pretraining_samples, sample_digest,
                        say_how_many_positions)

FRONT_END = Names(pretrain="mrs:pretrain", finetune="mrs:finetune", classify="mrs:classify",
                  pretrained="PRETRAINED", resume="RESUME", device="DEVICE", learning_rate="LEARNING_RATE",
                  settings={"epochs": "EPOCHS", "batch_size": "BATCH_SIZE", "lr": "LEARNING_RATE", "seed": "SEED",
                            "device": "DEVICE", "precision": "PRECISION", "encoder_lr_scale": "ENCODER_LR_FACTOR",
                            "strategy": "MASKING", "spectral_ratio": "SPECTRAL_RATIO",
                            "spatial_ratio": "SPATIAL_RATIO", "normalized_targets": "NORMALIZED_TARGETS",
                            "class_weighting": "CLASS_WEIGHTING", "preset": "PRESET", "samples": "SAMPLES",
                            "validation_fraction": "VALIDATION_FRACTION"},
                  samples={"pretraining": "other layers or values in them, another MASK, EXTENT, SAMPLES or SEED, or "
                                          "MORE_SCENES",
                           "fine-tuning": "other layers or labels, another VALIDATION_FRACTION or SEED, or another "
                                          "PRETRAINED, whose statistics normalise them"})
"""What model_core's messages call the steps and settings: the algorithms' and parameters' names."""
STATISTICS_SAMPLE = 50_000
FINETUNED_VALUES = "finetuned_values"
"""The statistics of the pixels a classifier made from a pretrained model was fine-tuned on, whose
normaliser is the pretraining's (a helper's red team of 2026-12-05: pretrained on a copy without
its scale factor, fine-tuned on the scaled raster and 98.6 % right, the classifier was said at
every map to meet values far from those it was trained on)."""
PAPER_CPU_SAMPLES_PER_S = {"pretraining": 80, "fine-tuning": 180}
"""Training speed of the `paper` model on the project's idle 2-core CPU (README, Speed)..."""
SMALL_SPEEDUP = {"pretraining": 8, "fine-tuning": 4}
"""...and how many times faster the `small` model trains there."""
MODEL_EXTENSIONS = (".safetensors",)
DEFAULT_CLASS_FIELD = "class_id"
Extent = Tuple[float, float, float, float]


VALUE_CHECK_SAMPLE = 2000
"""Pixels of the scene compared with a classifier's normalisation statistics before it runs, and of
the whole first scene of MORE_SCENES with the others when EXTENT limits its statistics sample."""


def _window(scene: Scene, extent: Optional[Extent], hooks: Hooks) -> Optional[Window]:
    return window_from_extent(scene, extent, hooks=hooks) if extent else None


def _pixel_sample(scenes: Sequence[Scene], seed: int, hooks: Hooks, window: Optional[Window] = None,
                  valid_counts: Sequence[int] = (1,)) -> np.ndarray:
    """STATISTICS_SAMPLE valid pixels, from each scene in proportion to its valid pixels (scene i
    drawn with seed + i); the window limits the first scene. Each scene is checked with its own part
    (`check_sample`: pooled, a listed scene's fill code was blamed on INPUT_AUX and its few valid pixels
    went unsaid, a helper's red team of 2026-12-06; a south-up listed scene too, red team of 2026-12-05).
    Scenes far from the whole first scene are warned of (`_say_far_scenes`; an EXTENT left a scene x
    10,000 unsaid: red team of 2026-12-05)."""
    total = sum(valid_counts)
    parts = [counted_sample(scene, max(1, round(STATISTICS_SAMPLE * count / total)), seed + number,
                             _named(hooks.sub(number / len(scenes), (number + 1) / len(scenes)), scene, len(scenes)),
                             window if number == 0 else None)
             for number, (scene, count) in enumerate(zip(scenes, valid_counts))]
    several = len(scenes) > 1
    for number, (scene, part) in enumerate(zip(scenes, parts)):
        say_blank_layers(part, scene, hooks, several)
        check_sample(part, scene, hooks, "learn", training=True, window=window if number == 0 else None,
                     share_of=valid_counts[number] if several else None, whose=" of MORE_SCENES" if number else "")
    if not several:
        return parts[0]
    sample = np.concatenate(parts)
    # each scene's part is said by itself, the whole here
    hooks.log(f"Statistics sample: {plural(len(sample), 'valid pixel')} in all, from {len(scenes)} scenes.")
    whole = window is None or window == scenes[0].window
    # an EXTENT's pixels need not look like a whole scene's: the whole first scene's do
    first = parts[0] if whole else sample_valid_pixels(scenes[0], VALUE_CHECK_SAMPLE, seed,
                                                       Hooks(is_canceled=hooks.is_canceled))
    _say_far_scenes(scenes, [first, *parts[1:]], hooks)
    return sample


def _named(hooks: Hooks, scene: Scene, scenes: int) -> Hooks:
    """`hooks` whose lines name the scene they are of, among several (a helper's red team of 2026-12-05:
    'Statistics sample: 549 valid pixels' 19 times over, of no scene said)."""
    if scenes == 1:
        return hooks
    return dataclasses.replace(hooks, log=lambda line: hooks.log(f"'{scene.hsi_name}': {line}"))


def _say_far_scenes(scenes: Sequence[Scene], parts: Sequence[np.ndarray], hooks: Hooks) -> None:
    """Says which scenes of an archive hold values far from the first scene's (`Normalizer.far_bands`):
    pooled, a scene in other units flattens the others' bands, as a raw x 10,000 scene did to one
    in reflectance (red team of 2026-12-04), said only later by the fine-tuning."""
    if len(parts) < 2 or len(parts[0]) < SCENE_CHECK_PIXELS:
        return
    first = Normalizer.fit(parts[0])
    far = [(scene, first.far_bands(part)) for scene, part in zip(scenes[1:], parts[1:])
           if len(part) >= SCENE_CHECK_PIXELS]
    listed = [f"'{scene.hsi_name}' ({len(bands)} of {scene.n_bands} bands, such as "
              f"{first_few((scene.band_label(index) for index in bands), limit=3)})"
              for scene, bands in far if len(bands)]
    if listed:
        hooks.warning(f"Scenes of MORE_SCENES hold values far from those of '{scenes[0].hsi_name}': "
                      f"{first_few(listed, '; ')}. Check that every scene is in the same units, scale and band order "
                      "(a scale factor left out, say); pooled, they flatten each other's bands.")


def _description(scene: Scene, normalizer: Normalizer, preset: str) -> Dict[str, Any]:
    return {"preset": preset, "band_names": scene.band_names, "band_units": scene.band_units,
            "wavelengths": scene.wavelengths,
            "hsi_layer": scene.hsi_name, "aux_layers": scene.aux_names, "aux_band_counts": scene.aux_band_counts,
            "pixel_size_m": scene.grid.ground_pixel_size(), "pixel_sides_m": scene.grid.ground_pixel_sides(),
            "normalization": normalizer.to_dict()}


def _require_aux(scene: Scene) -> None:
    if scene.n_aux < 1:
        raise InputError("INPUT_AUX: no SAR or LiDAR layer is given. Add at least one auxiliary raster.")


def _listed_scene(item: ListedScene, hooks: Hooks) -> Scene:
    """A scene of MORE_SCENES, opened; a problem with its files names its line."""
    try:
        return Layers(item.hsi, item.aux).open(hooks)
    except TooFewBandsError as error:  # whose advice names INPUT_HSI (note 18)
        raise InputError(f"MORE_SCENES: {item.where} begins with '{error.name}', of {plural(error.count, 'band')}, "
                         f"but a scene begins with its hyperspectral raster (at least {MIN_HSI_BANDS} bands). Write "
                         "each scene as its hyperspectral raster, then its SAR/LiDAR rasters in the order of "
                         "INPUT_AUX.") from None
    except InputError as error:
        raise _of_line(item, error) from None


def _of_line(item: ListedScene, error: InputError) -> InputError:
    """The refusal of a scene of MORE_SCENES, naming its line (a helper's red team of 2026-12-05: a
    scene without a valid pixel or smaller than a patch was named by its file alone)."""
    return InputError(f"MORE_SCENES ({item.where}): {error}")


def _scene_records(scenes: Sequence[Scene], positions: Positions) -> List[Dict[str, Any]]:
    """What the model file records of each scene of a pretraining on several."""
    drawn = np.bincount(positions.scenes, minlength=len(scenes)).tolist()
    return [{"hsi_layer": scene.hsi_name, "aux_layers": scene.aux_names, "valid_pixels": valid, "samples": count}
            for scene, count, valid in zip(scenes, drawn, positions.scene_pixels)]


def _say_samples_of_scenes(records: Sequence[Dict[str, Any]], positions: Positions, hooks: Hooks) -> None:
    """Says how many samples each scene gave, of how many valid pixels (inside MASK for the first
    where it gave fewer)."""
    def pool(number: int, item: Dict[str, Any]) -> str:
        drawn_from = positions.valid_counts[number]
        if drawn_from == item["valid_pixels"]:
            return plural(drawn_from, "valid pixel")
        return f"{plural(drawn_from, 'valid pixel')} inside MASK, of its {item['valid_pixels']:,}"

    hooks.log(f"Samples from {len(records)} scenes: " + "; ".join(
        f"{item['samples']:,} from '{item['hsi_layer']}' ({pool(number, item)})"
        for number, item in enumerate(records)) + ".")


def _say_how_long_paper_takes_on_a_cpu(preset: str, settings: TrainSettings, samples: int, hooks: Hooks,
                                       training: str = "pretraining", pretrained: bool = False) -> None:
    """Say before a paper training on a CPU how long it takes, counting the samples actually drawn
    (a small scene has fewer); for a fine-tuning too (a helper's red team of 2026-12-05: 14 hours
    gave no estimate until the first epoch ended, 9 minutes in). The small model is no choice for
    the fine-tuning of a `pretrained` paper model, whose size it keeps (review of 2026-12-05)."""
    if preset == "paper" and resolve_device(settings.device).type == "cpu":
        seconds = samples * settings.epochs / PAPER_CPU_SAMPLES_PER_S[training]
        faster = "" if pretrained else (f"; the small model learns the same recipe about {SMALL_SPEEDUP[training]} "
                                        "times faster")
        hooks.log(f"The paper model is meant for a GPU: on a CPU these {plural(samples, 'sample')} x "
                  f"{plural(settings.epochs, 'epoch')} take about {duration(seconds)} (as measured on 2 cores)"
                  f"{faster}.")


def pretrain_job(layers: Layers, *, preset: str, masking: MaskingSettings, samples: int,
                 settings: TrainSettings, output: str, hooks: Hooks, extent: Optional[Extent] = None,
                 mask_path: Optional[str] = None, mask_name: str = "", resume: Optional[str] = None,
                 more_scenes: Optional[str] = None) -> Dict[str, Any]:
    """Pretrain on `samples` random valid pixels and write the pretraining model file.

    With `more_scenes` (a MORE_SCENES list file) the samples are drawn from those scenes
    too, in proportion to their valid pixels, and so are the normalisation statistics.
    The patches are read from the scenes batch by batch, so memory does not grow with
    `samples`. Returns the model file's metadata and its absolute `path`."""
    output = check_output_path(output, "OUTPUT", MODEL_EXTENSIONS)
    listed = read_scene_list(more_scenes, len(layers.aux)) if more_scenes else []
    inputs = {**layers.inputs(), "MASK": [mask_path]}
    claim_outputs({"OUTPUT": output},
                  {**inputs, "MORE_SCENES": [more_scenes, *(p for item in listed for p in item.paths())]},
                  {"RESUME": resume}, distinct={**inputs, "MORE_SCENES": [item.hsi.path for item in listed]})
    _check_resume(resume, hooks)
    claim_checkpoint(output, {**inputs, "MORE_SCENES": [more_scenes]}, {}, resume, PretrainPhase.name)
    model_file.refuse_replacing(output, model_file.PRETRAINED, "OUTPUT", FRONT_END)
    masking.validate()
    settings.validate()
    if samples < 1:
        raise InputError(f"SAMPLES must be at least 1; got {samples}.")
    config = preset_config(preset)
    with contextlib.ExitStack() as stack:
        stack.enter_context(held_outputs(output, checkpoint_path_for(output)))
        scene = stack.enter_context(layers.open(hooks))
        _require_aux(scene)
        check_patch_size(scene, config.patch, f"PRESET {preset}'s")
        scenes = [scene]
        copies = _say_copies(layers.hsi.path, listed, hooks)
        seen: Dict[str, Tuple[Scene, str]] = {}  # the scenes' values, for `say_same_values`
        if listed:
            say_same_values(seen, scene, "INPUT_HSI", hooks)
        for item in listed:
            scenes.append(stack.enter_context(_listed_scene(item, hooks)))
            check_same_bands(scene, scenes[-1], item.where)
            say_other_aux_names(scene, scenes[-1], item.where, hooks)
            say_other_units(scene, scenes[-1], item.where, hooks)
            if item.where not in copies:
                say_same_values(seen, scenes[-1], f"the hyperspectral raster of {item.where}", hooks)
            try:
                check_patch_size(scenes[-1], config.patch, f"PRESET {preset}'s")
            except InputError as error:
                raise _of_line(item, error) from None
        for each in scenes:  # the processes read their shares of the batches from them
            each.shares_work = launched()
        window = _window(scene, extent, hooks)
        try:
            positions = random_positions_in_scenes(scenes, capped_positions(samples), settings.seed,
                                                   hooks.sub(0.0, 0.03), window, mask_path, mask_name)
        except NoValidPixelError as error:
            if error.scene is scene:
                raise
            raise _of_line(listed[scenes.index(error.scene) - 1], error) from None
        say_how_many_positions(samples, len(positions.rows), settings.batch_size,
                               [name for name, given in (("EXTENT", extent), ("MASK", mask_path)) if given], hooks,
                               len(scenes))
        records = _scene_records(scenes, positions)
        _say_how_long_paper_takes_on_a_cpu(preset, settings, len(positions.rows), hooks)
        if listed:
            _say_samples_of_scenes(records, positions, hooks)
        sample = _pixel_sample(scenes, settings.seed, hooks.sub(0.03, 0.06), window, positions.scene_pixels)
        normalizer = Normalizer.fit(sample)
        description = {**_description(scene, normalizer, preset), SAMPLE_SETTINGS: {"samples": samples}}
        if listed:
            description["scenes"] = records
            description["pixel_sides_m"] = common_pixel_sides(scenes)  # none for pixels of other shapes, nor a size
            description["pixel_size_m"] = common_pixel_size(scenes) if description["pixel_sides_m"] else None
            _say_other_pixel_sizes(scenes, hooks)
        patches = pretraining_samples(scenes, positions, config.patch, normalizer, description, sample_digest(sample))
        try:
            trained = pretrain(patches, n_hsi=scene.n_hsi, config=config, masking_settings=masking,
                               settings=settings, description=description, hooks=hooks.sub(0.06, 1.0),
                               checkpoint_path=checkpoint_path_for(output), resume_path=resume, names=FRONT_END)
        except ChangedFileError as error:  # as the batches read it (`Scene._read_done`): its checkpoint said too
            raise _changed_under_training(str(error), checkpoint_path_for(output), error.voted) from None
        _check_unchanged_for_training(scenes, checkpoint_path_for(output), trained.context)
        trained.write(output, checkpoint_path_for(output), hooks)
    _say_resumed_checkpoint_kept(resume, output, hooks)
    return {**trained.metadata, "path": output}


def _say_resumed_checkpoint_kept(resume: Optional[str], output: str, hooks: Hooks) -> None:
    """Says that a checkpoint resumed into another OUTPUT than its own, which the run's end left (its
    own is deleted), is kept (a helper's red team of 2026-12-05: it stayed without a word, and refused
    every later run on its own OUTPUT)."""
    if not (resume and writes_outputs() and os.path.isfile(resume)):
        return
    owner = output_path_of(resume)
    whose = f": it is OUTPUT {owner}'s, and refuses the runs on that OUTPUT as their progress" if owner else ""
    hooks.log(f"The checkpoint resumed, {resume}, is kept{whose}. This run's model, {output}, holds its progress "
              "now: delete the checkpoint unless it is to be resumed again.")


def common_pixel_size(scenes: Sequence[Scene]) -> Optional[float]:
    """The first scene's pixel size on the ground where every scene's is within `PIXEL_SIZE_RATIO`
    of it, else None: a model pretrained on 1 m and 0.2 m scenes recorded 1 m, and its fine-tuning
    on the 0.2 m scene was warned of other pixels (a helper's review of 2026-12-05)."""
    sizes = [scene.grid.ground_pixel_size() for scene in scenes]
    common = _first_if_alike([None if size is None else (size,) for size in sizes])
    return common[0] if common else None


def common_pixel_sides(scenes: Sequence[Scene]) -> Optional[Tuple[float, float]]:
    """`common_pixel_size` side by side: None where the scenes' pixels are of other shapes (then the
    mean is compared: 2 x 0.5 m pixels pooled with 1 m ones, a review of 2026-12-05)."""
    common = _first_if_alike([scene.grid.ground_pixel_sides() for scene in scenes])
    return (common[0], common[1]) if common else None


def _first_if_alike(measures: Sequence[Optional[Tuple[float, ...]]]) -> Optional[Tuple[float, ...]]:
    """The first scene's measures where no scene lacks them and, measure by measure, the largest is
    within `PIXEL_SIZE_RATIO` of the smallest; else None."""
    if any(measure is None for measure in measures):
        return None
    for values in zip(*measures):  # type: ignore[misc]
        if max(values) > PIXEL_SIZE_RATIO * min(values):
            return None
    return measures[0]


def _say_copies(hsi: str, listed: Sequence[ListedScene], hooks: Hooks) -> Set[str]:
    """Warns of a listed scene whose hyperspectral raster is a copy of INPUT_HSI's or of an earlier
    scene's, byte for byte (compared whole where their sizes and ends agree, `file_fingerprint`: a copy
    changed in its middle was taken for one, a review of 2026-12-05): the samples draw on its pixels
    twice (a link to one is refused as the same layer; a copy was pooled unsaid: a helper's red team
    of 2026-12-05). Every distinct file of a fingerprint is kept to compare with (a helper's review of
    2026-12-06: a file that differed from an earlier one of its fingerprint was not, and a later copy
    of it went unsaid). Returns the `where` of the copies."""
    import filecmp

    from .same_inputs import file_fingerprint

    seen: Dict[str, List[Tuple[str, str]]] = {file_fingerprint(hsi): [(hsi, "INPUT_HSI")]}
    copies = set()
    for item in listed:
        own = f"the hyperspectral raster of {item.where}"
        alike = seen.setdefault(file_fingerprint(item.hsi.path), [])
        earlier = next((name for path, name in alike if filecmp.cmp(path, item.hsi.path, shallow=False)), None)
        if earlier:
            hooks.warning(f"MORE_SCENES: {own} is a copy of {earlier}, byte for byte: the samples draw on the same "
                          "pixels from both. Leave it out, unless that is meant.")
            copies.add(item.where)
        else:
            alike.append((item.hsi.path, own))
    return copies


def _say_other_pixel_sizes(scenes: Sequence[Scene], hooks: Hooks) -> None:
    """Warns of scenes whose pixels differ in size or shape beyond `PIXEL_SIZE_RATIO` (`common_pixel_sides`
    None): the model learns neighbourhoods of several ground sizes, and records none to check later
    layers against (a helper's red team of 2026-12-05: a scene of 3 m pixels beside 1 m ones, unsaid;
    1 x 1 m beside 1 x 2 m ones, of a mean alike, too)."""
    sides = [scene.grid.ground_pixel_sides() for scene in scenes]
    if any(side is None for side in sides) or common_pixel_sides(scenes) is not None:
        return
    differ = "size" if common_pixel_size(scenes) is None else "shape"
    listed = first_few(f"'{scene.hsi_name}' {pixel_shape(side)}" for scene, side in zip(scenes, sides))
    hooks.warning(f"The scenes' pixels differ in {differ} ({listed}): the model learns the neighbourhoods of each "
                  "pixel at several ground sizes, and records no pixel size to check later layers against. Resample "
                  "the scenes to one pixel size (gdalwarp -tr) for a model of one.")


def _check_unchanged_for_training(scenes: Sequence[Scene], checkpoint: str, context: distributed.Context) -> None:
    """`Scene.check_unchanged` at a pretraining's end: under torchrun the first process' finding, on
    every rank, as each read its own batches and rank 0 alone writes (reviews of 2026-12-05 and -06)."""
    changed = context.first_found(next((found for found in (scene.changed() for scene in scenes) if found), None))
    if changed:
        raise _changed_under_training(changed, checkpoint, voted=True)


def _changed_under_training(changed: str, checkpoint: str, voted: bool) -> InputError:
    """The refusal of a pretraining whose layer's file `changed` under it: its checkpoint, which a
    resumed run would go on from, holds what was read of the old file. Where the processes of a
    torchrun run share the sentence (`voted`), an InputError, said once per machine; else the
    ChangedFileError that this process, which alone saw it, says itself (a review of 2026-12-06: a
    failed read of rank 1 was said by no process)."""
    kept = (f" Start afresh rather than resume its checkpoint {checkpoint}, which holds what was read before "
            "(delete it)." if os.path.exists(checkpoint) else "")
    return InputError(changed + kept) if voted else ChangedFileError(changed + kept)


def _class_indices(labels: LabelledPixels) -> np.ndarray:
    values = np.array([info.value for info in labels.classes])
    return np.searchsorted(values, labels.values)


def _classes(classes: Sequence[ClassInfo]) -> List[Dict[str, Any]]:
    return [{"value": info.value, "name": info.name, "color": info.color} for info in classes]


def _check_resume(resume: Optional[str], hooks: Hooks) -> None:
    """Refuses a RESUME that is no checkpoint (a finished model) before the scene is read: the
    training found it after the scene's statistics (red team of 2026-12-04); warns of one without
    checksums, as of a model file (`say_unchecked`). Before OUTPUT's checkpoint is claimed: a damaged
    RESUME at that very place was refused as OUTPUT's, 'not an MRS model file' (a helper's of 2026-12-06)."""
    if resume:
        metadata = model_file.read_metadata(resume, [model_file.CHECKPOINT], FRONT_END.resume, FRONT_END)
        say_unchecked(metadata, resume, FRONT_END.resume, hooks)


def claim_checkpoint(output: str, layers: Dict[str, List[Optional[str]]], files: Dict[str, Optional[str]],
                     resume: Optional[str], phase: str) -> None:
    """`claim_outputs` for the checkpoint a training run keeps beside OUTPUT: it must not be an
    input either (red team of 2026-12-04: it replaced PRETRAINED), except RESUME, which a resumed
    run goes on writing; an earlier run's checkpoint there is kept unless it is resumed
    (`refuse_earlier_progress`; `phase` is this run's training)."""
    checkpoint = checkpoint_path_for(output)
    if os.path.isdir(checkpoint):  # found before the training, not when it ends (red team of 2026-12-04)
        raise InputError(f"OUTPUT's checkpoint: {checkpoint}, which a training on {output} writes, is a folder; "
                         "move it away or choose another output file name.")
    claim_outputs({"OUTPUT's checkpoint": checkpoint}, layers, files)
    # A classifier or a text file there was deleted at the end of the run (red team of 2026-12-04).
    model_file.refuse_replacing(checkpoint, model_file.CHECKPOINT, "OUTPUT's checkpoint", FRONT_END)
    if os.path.isfile(checkpoint) and not (resume and os.path.isfile(resume) and os.path.samefile(resume, checkpoint)):
        refuse_earlier_progress(checkpoint, "OUTPUT's checkpoint", phase)


def refuse_earlier_progress(checkpoint: str, name: str, phase: Optional[str]) -> None:
    """Refuses a run that would delete the checkpoint an earlier, stopped run left at `checkpoint`
    (`name` in messages), which is its progress (red team of 2026-12-05: a new run on the same
    OUTPUT deleted it without a word). `phase`: the training this run is, which resumes a
    checkpoint of its own phase through RESUME; None for a run without RESUME (the workflow)."""
    if not (os.path.isfile(checkpoint) and os.path.getsize(checkpoint)):
        return
    info = _checkpoint_info(checkpoint)
    writer, progress = _progress(info)
    if progress is None:  # canceled before its first batch (session of 2026-12-05: it was refused as progress)
        return
    if _finished_since(checkpoint, writer, info):
        return
    algorithm = {PretrainPhase.name: FRONT_END.pretrain, FinetunePhase.name: FRONT_END.finetune}.get(writer)
    if phase is not None and writer == phase:  # a step of a model of one's own has no RESUME (helper, 2026-12-05)
        how = (f"Resume it ({FRONT_END.resume}: {checkpoint}; a step of a graphical model that does not offer "
               f"{FRONT_END.resume}: run the step alone with it)")
    elif phase is None and algorithm:  # the workflow, which has no RESUME (red team of 2026-12-05)
        how = f"Resume it with {algorithm} alone (its {FRONT_END.resume}; the workflow does not resume)"
    else:
        how = f"Resume it with the {writer} that wrote it (its {FRONT_END.resume})"
    raise InputError(f"{name}: {checkpoint} holds the progress of an earlier {progress}, which this run would "
                     f"delete. {how}, delete it to start afresh, or choose another output file name.")


def holds_progress(checkpoint: str) -> bool:
    """Whether a checkpoint holds a batch done, or cannot be read (`_progress`): one of a run canceled
    before its first batch holds nothing to resume, and the next run replaces it."""
    return _progress(_checkpoint_info(checkpoint))[1] is not None


def _finished_since(checkpoint: str, writer: str, run: Optional[Dict[str, Any]]) -> bool:
    """Whether the model file beside `checkpoint` is that very run's, finished after it: of its kind,
    trained on the same samples (`samples_fingerprint`) with the same settings, and written after it.
    A run killed after it put its model in place and before it deleted its checkpoint left it (a
    helper's red team of 2026-12-05: every later run was refused as '1 of its 3 epochs done'); a
    model of another run copied in later is no such model (a review of 2026-12-05). `run`: the
    checkpoint's `_checkpoint_info`."""
    kinds = {PretrainPhase.name: model_file.PRETRAINED, FinetunePhase.name: model_file.CLASSIFIER}
    model = output_path_of(checkpoint)
    if writer not in kinds or model is None or not os.path.isfile(model) or not run:
        return False
    try:
        training = model_file.read_metadata(model, [kinds[writer]]).get("training") or {}
        return (bool(run.get("fingerprint")) and training.get("samples_fingerprint") == run.get("fingerprint")
                and training.get("settings") == run.get("settings")
                and os.path.getmtime(model) >= os.path.getmtime(checkpoint))
    except (MrsError, OSError, AttributeError):
        return False


def _checkpoint_info(checkpoint: str) -> Optional[Dict[str, Any]]:
    """A checkpoint's own record (`Checkpointer.save`), None where it cannot be read."""
    try:
        info = model_file.read_metadata(checkpoint, [model_file.CHECKPOINT]).get("checkpoint")
        return info if isinstance(info, dict) else {}
    except MrsError:
        return None


def _progress(info: Optional[Dict[str, Any]]) -> Tuple[str, Optional[str]]:
    """The training a checkpoint (its `_checkpoint_info`) belongs to and what it holds ('pretraining',
    'pretraining (3 of its 60 epochs done)'), as far as it says; None for what it holds when no batch
    was done."""
    damaged = ("training", "training")  # a damaged checkpoint is progress all the same
    if info is None:
        return damaged
    try:
        done, epochs, phase, step = (info["state"]["epoch"], info["settings"]["epochs"], str(info["phase"]),
                                     info["state"]["step"])
        if not step:
            return phase, None
        # one epoch was 'the first of its 1 epochs' (a helper's third audit of 2026-12-07)
        epoch = "its one epoch" if epochs == 1 else f"the first of its {epochs} epochs"
        if not done:  # '0 of its 4 epochs done' read as nothing to lose (a helper's red team of 2026-12-05)
            return phase, f"{phase} ({plural(step, 'batch', 'batches')} of {epoch} done)"
        return phase, f"{phase} ({'its one epoch' if epochs == 1 else f'{done} of its {epochs} epochs'} done)"
    except (KeyError, TypeError, ValueError):
        return damaged


def finetune_job(layers: Layers, labels: LabelSource, *, pretrained: Optional[str], preset: str,
                 val_fraction: float, settings: TrainSettings, class_weighting: bool, output: str,
                 hooks: Hooks, resume: Optional[str] = None) -> Dict[str, Any]:
    """Fine-tune a classifier (from a pretraining file, or from scratch) and write it.

    Returns the model file's metadata and its absolute `path`."""
    output = check_output_path(output, "OUTPUT", MODEL_EXTENSIONS)
    inputs = {**layers.inputs(), **labels.inputs("SAMPLES", "LABELS")}
    claim_outputs({"OUTPUT": output}, inputs, {"PRETRAINED": pretrained, "RESUME": resume})
    _check_resume(resume, hooks)
    claim_checkpoint(output, inputs, {"PRETRAINED": pretrained}, resume, FinetunePhase.name)
    model_file.refuse_replacing(output, model_file.CLASSIFIER, "OUTPUT", FRONT_END)
    settings.validate()
    with held_outputs(output, checkpoint_path_for(output)):
        return _finetune(layers, labels, pretrained=pretrained, preset=preset, val_fraction=val_fraction,
                         settings=settings, class_weighting=class_weighting, output=output, hooks=hooks, resume=resume)


def _finetune(layers: Layers, labels: LabelSource, *, pretrained: Optional[str], preset: str, val_fraction: float,
              settings: TrainSettings, class_weighting: bool, output: str, hooks: Hooks,
              resume: Optional[str]) -> Dict[str, Any]:
    with layers.open(hooks) as scene:
        _require_aux(scene)
        with bands_explained(scene):
            start = load_pretrained(pretrained, scene.n_hsi, scene.n_aux, "PRETRAINED", FRONT_END) if pretrained else None
        if start:
            _check_model_file(start.metadata, scene, pretrained, "PRETRAINED", hooks, pretrained=True)
        if not start and settings.encoder_lr_scale != 1.0:  # only slowed a random encoder (red team of 2026-12-05)
            factor = f"{settings.encoder_lr_scale:g}"
            hooks.warning(f"ENCODER_LR_FACTOR is {factor} without PRETRAINED: the encoder starts from random weights, "
                          f"and learning at {factor} of the rate only slows it. Leave ENCODER_LR_FACTOR at 1, or give "
                          "PRETRAINED.")
        config = start.config if start else preset_config(preset)
        if start and start.metadata.get("preset", preset) != preset:
            hooks.log(f"Model size: '{start.metadata['preset']}', the pretrained model's (PRESET '{preset}' is "
                      "used only without a pretrained model).")
        check_patch_size(scene, config.patch, "The pretrained model's" if start else f"PRESET {preset}'s")
        sample = _pixel_sample([scene], settings.seed, hooks.sub(0.0, 0.03))
        if start:
            hooks.log("Normalisation: the pretrained model's statistics, as it was pretrained with them.")
            _say_far_bands(start.normalizer, sample, scene, hooks, pretraining=True)
        normalizer = start.normalizer if start else Normalizer.fit(sample)
        labelled = labels.read(scene, hooks.sub(0.03, 0.05))
        if labelled.merged:  # said of a reference by mrs:accuracy, of training samples not (red team of 2026-12-05)
            hooks.log(f"{plural(labelled.merged, 'sample')} of '{labels.name}' "
                      f"{agreeing(labelled.merged, 'falls', 'fall')} on a pixel that another sample of "
                      f"{agreeing(labelled.merged, 'its', 'their')} class holds: each such pixel is trained on once.")
        _say_samples_lost_to_nodata(labelled, labels.name, hooks)
        check_trainable(labelled, labels.name, labelled_parameter(bool(labels.raster_path)))
        train, validation = stratified_split(labelled, val_fraction, settings.seed, hooks)
        _say_scarce_classes(train, class_weighting, hooks)  # counted after the split (red team of 2026-12-05)
        _say_how_long_paper_takes_on_a_cpu(start.metadata.get("preset") if start else preset, settings,
                                           len(train.rows), hooks, "fine-tuning", pretrained=start is not None)
        _refuse_patches_beyond_memory(len(labelled.values), scene.n_bands, config.patch, labels.name)
        train_patches = normalised_patches(scene, train.rows, train.cols, config.patch, normalizer,
                                           hooks.sub(0.05, 0.08))
        val_patches = normalised_patches(scene, validation.rows, validation.cols, config.patch, normalizer,
                                         hooks.sub(0.08, 0.1))
        scene.check_unchanged()  # the statistics and the patches of one file
        description = _description(scene, normalizer, start.metadata.get("preset", "?") if start else preset)
        description[SAMPLE_SETTINGS] = {"validation_fraction": val_fraction}
        description["trained_on"] = labels.source()
        description["trained_pixels"] = training_pixels.record(scene.grid, train.rows, train.cols, settings.seed)
        if len(validation.rows):  # labelled too, so not to be suggested (red team of 2026-12-05)
            description["validation_pixels"] = training_pixels.record(scene.grid, validation.rows, validation.cols,
                                                                      settings.seed)
        if labels.class_field:
            description["class_field"] = {"name": labels.class_field, "text": labelled.named_by_text,
                                          "wide": labelled.wide_class_field,
                                          "decimal": labelled.decimal_class_field}
        if start:  # its normaliser is the pretraining's: the values it met are checked against these
            description[FINETUNED_VALUES] = Normalizer.fit(sample).to_dict()
            description["pretrained_from"] = {"file": os.path.basename(pretrained),
                                              "masking": start.metadata.get("masking"),
                                              "created": start.metadata.get("created"),
                                              "metadata_sha256": (start.metadata.get(model_file.CHECKSUMS)
                                                                  or {}).get("metadata_sha256"),
                                              "weights_sha256": model_file.weights_digest(start.metadata)}
        n_hsi = scene.n_hsi
    pca = fit_pca(normalizer.apply_pixels(sample)[:, :n_hsi], min(config.pca_components, n_hsi))
    trained = finetune(train_patches, _class_indices(train), val_patches, _class_indices(validation),
                       n_hsi=n_hsi, config=config, classes=_classes(labelled.classes), pca=pca,
                       settings=settings, description=description, class_weighting=class_weighting,
                       pretrained_encoder=start.encoder_state if start else None, hooks=hooks.sub(0.1, 1.0),
                       checkpoint_path=checkpoint_path_for(output), resume_path=resume, names=FRONT_END)
    trained.write(output, checkpoint_path_for(output), hooks)
    _say_resumed_checkpoint_kept(resume, output, hooks)
    return {**trained.metadata, "path": output}


def _refuse_patches_beyond_memory(count: int, n_bands: int, patch: int, name: str) -> None:
    """Refuses labelled pixels whose patches, held in memory for the fine-tuning, take more than the
    memory available (a helper's red team of 2026-12-05: every pixel of a scene of 1,536 x 1,536
    labelled asked for 7.1 GiB, 'lower BATCH_SIZE' said, which changed nothing)."""
    per_patch = n_bands * patch * patch
    # the patches in float16, and a block's read in float32 twice as they are cut (a review of 2026-12-05)
    need, room = count * per_patch * 2 + min(count, TILE_SIZE ** 2) * per_patch * 8, memory_headroom()
    if room is not None and need > room:
        patches = f"as the model's patches ({n_bands} bands of {patch} x {patch} pixels each)"
        # within a rounding of the room: 'about 2.5 MB ..., more than the 2.5 MB available' (a helper's audit)
        taken = (f"a little more than the {byte_size(room)} of memory available {patches}"
                 if byte_size(need) == byte_size(room)
                 else f"about {byte_size(need)} of memory {patches}, more than the {byte_size(room)} available")
        raise InputError(f"The {count:,} labelled pixels of '{name}' take {taken}: label fewer pixels (the "
                         "neighbouring pixels of one field teach the model little that a few of them do not), or run "
                         "on a machine with more memory.")


def classify_job(model: str, layers: Layers, *, output: str, confidence: Optional[str], tile_size: int,
                 batch_size: Optional[int], device: str, hooks: Hooks, extent: Optional[Extent] = None,
                 precision: str = "auto") -> Dict[str, Any]:
    """Classify the layers with a classifier file into a class map (and a confidence raster).

    Under torchrun the processes share the tiles (each on its own GPU) and rank 0 writes."""
    outputs = {"OUTPUT": check_output_path(output, "OUTPUT")}
    if confidence:
        outputs["OUTPUT_CONFIDENCE"] = check_output_path(confidence, "OUTPUT_CONFIDENCE")
    refuse_shared_outputs(outputs, {"OUTPUT": "the class map"})  # before the scene is read, not once it was sampled
    claim_outputs(outputs, layers.inputs(), {"MODEL": model})
    for param, path in outputs.items():
        check_replaceable(path, param, CONFIDENCE if param == "OUTPUT_CONFIDENCE" else CLASS_MAP)
    metadata = model_file.read_metadata(model, [model_file.CLASSIFIER], "MODEL", FRONT_END)
    with held_outputs(*outputs.values()), layers.open(hooks) as scene:
        earlier_confidence = _earlier_confidence(outputs["OUTPUT"], outputs.get("OUTPUT_CONFIDENCE"))
        context = distributed.start(resolve_device(device, FRONT_END.device))
        scene.shares_work = context.active  # the processes classify their tiles of it
        device = str(context.device(resolve_device(device, FRONT_END.device)))
        predictor, classes = _classifier_on(model, metadata, scene, device, precision, batch_size, hooks)
        if context.active:
            hooks.log(distributed.devices_line(context, describe_device(predictor.device)) + "; rank 0 writes.")
        results = predict_scene(scene, predictor, predictor.halo, classes, output, confidence,
                                _tile_size(predictor, tile_size, hooks, context), hooks,
                                _tuple(_window(scene, extent, hooks)), ranks=context, tags=_training_tags(metadata))
        _say_one_class(results, classes, hooks)
        if earlier_confidence:
            hooks.warning(f"The earlier map at OUTPUT was written with the confidence raster {earlier_confidence}, "
                          "which this run leaves as it was: it is the earlier map's, not this one's. Give it as "
                          "OUTPUT_CONFIDENCE to write this map's, or delete it.")
        # The other processes wait until rank 0 has written, as training's do: one that tore its
        # process group down while rank 0 still wrote the map once made rank 0 abort (SIGABRT).
        context.barrier()
        return results


SCARCE_PIXELS = 2
SCARCE_FACTOR = 10
"""A class of this many training pixels or fewer, where another has this factor times as many, is
said: it is learnt from those pixels alone (a helper's red team of 2026-12-05: one Crop pixel against
73 to 499 of the others was only counted in the log, and CLASS_WEIGHTING weighed it as 499)."""


def _say_scarce_classes(labelled: LabelledPixels, class_weighting: bool, hooks: Hooks) -> None:
    counts = labelled.counts()
    largest = max(counts.values())
    scarce = [(info, counts[info.value]) for info in labelled.classes
              if 0 < counts[info.value] <= SCARCE_PIXELS and largest >= SCARCE_FACTOR * counts[info.value]]
    if not scarce:
        return
    one = len(scarce) == 1
    names = ", ".join(f"'{info.name}' ({info.value})" for info, _count in scarce)
    pixels = (plural(scarce[0][1], "training pixel") if one
              else joined([str(count) for _info, count in scarce]) + " training pixels")
    each = "" if scarce[0][1] == 1 else "each "
    weighted = (f", {each}weighted as {largest // scarce[0][1]} pixels of the largest class (CLASS_WEIGHTING)"
                if one and class_weighting else "")
    hooks.warning(f"{'Class' if one else 'Classes'} {names} {agreeing(len(scarce), 'has', 'have')} {pixels}, where "
                  f"others have up to {largest}: the classifier learns {'it' if one else 'them'} from "
                  f"{agreeing(scarce[0][1] if one else 2, 'that pixel', 'those pixels')} alone{weighted}. Add samples "
                  f"of {'it' if one else 'them'} (the project's benchmarks label 5 or more per class), or merge "
                  f"{'it' if one else 'each'} into another class.")


def _tile_size(predictor: TilePredictor, tile_size: int, hooks: Hooks,
               context: Optional[distributed.Context] = None) -> int:
    """TILE_SIZE checked, then held to the memory available (`TilePredictor.tile_size_within_memory`;
    under torchrun the smallest of the ranks', as they deal out the same tiles), said once."""
    tile_size = check_tile_size(tile_size)
    held = predictor.tile_size_within_memory(tile_size)
    if context is not None:
        sizes = context.exchange(held)
        held = context.broadcast(min(sizes) if sizes else held)
    if held < tile_size:
        hooks.log(f"Tiles of {tile_size} x {tile_size} pixels would take more than {MEMORY_SHARE:.0%} of the memory "
                  f"available now; tiles of up to {held} x {held} are used (the map is the same).")
    return held


ONE_CLASS_SHARE = 0.995
ONE_CLASS_PIXELS = 10_000
"""A map of this many pixels or more that gives this share of them one class of a model of three or
more is said: the sign of layers unlike the model's (a helper's red team of 2026-12-05: SAR bands
given to a LiDAR model, without descriptions to compare, mapped every pixel as 'Water' with a
confidence of 0.995); a smaller map may be of one land cover."""


def _earlier_confidence(class_map: str, confidence: Optional[str]) -> Optional[str]:
    """The confidence raster that an earlier map at `class_map` was written with (`confidence_of`), where this
    run's `confidence` does not replace it; else None."""
    recorded = confidence_of(class_map)
    if recorded is None or (confidence and os.path.isfile(confidence) and os.path.samefile(recorded, confidence)):
        return None
    return recorded


def _say_one_class(results: Dict[str, Any], classes: Sequence[ClassInfo], hooks: Hooks) -> None:
    classified, counts = results["classified_pixels"], results["class_counts"]
    if len(classes) < 3 or classified < ONE_CLASS_PIXELS:
        return
    value, most = max(counts.items(), key=lambda item: item[1])
    if most < ONE_CLASS_SHARE * classified:
        return
    name = next(info.name for info in classes if info.value == value)
    # Rounded down: 'but 4 (100.0 %)' said (review of 2026-12-05).
    said = (f"All {classified:,} classified pixels are" if most == classified else
            f"{math.floor(10_000 * most / classified) / 100:.2f} % of the {classified:,} classified pixels are")
    rest = "" if most == classified else f" (all but {classified - most:,})"
    hooks.warning(f"{said} '{name}'{rest}, one of the model's {len(classes)} classes. "
                  "Unless the area is of one land cover, the layers differ from those the model was trained on "
                  "(another kind of raster, other units, another band order): check them against the rasters it was "
                  "trained on.")


@contextlib.contextmanager
def bands_explained(scene: Scene) -> Iterator[None]:
    """A model's refusal for its band count, with the bands the layers' ENVI headers leave out
    when they leave some out (false-alarm hunt of 2026-12-05: a model trained with them, before
    they were left out or on a GeoTIFF copy, was told to use the very layer it was given)."""
    try:
        yield
    except BandCountError as error:
        if not scene.marked_bad or error.expected != scene.counts_with_marked_bad:
            raise  # the bands left out do not explain it (review of 2026-12-05)
        raise BandCountError(f"{error} Of these layers' bands, those their ENVI header's bad-band list (bbl) marks "
                             f"are left out ({scene.marked_bad_listed}); for a model trained with them, give a GeoTIFF "
                             "copy of the layer, which has no such list (gdal_translate -of GTiff).", error.expected,
                             error.given) from None


def _training_tags(metadata: Dict[str, Any]) -> Dict[str, str]:
    """The class map's tags that say what its classifier was trained on (for mrs:accuracy)."""
    trained_on, pixels = metadata.get("trained_on"), metadata.get("trained_pixels")
    tags = {TRAINED_ON_TAG: trained_on} if isinstance(trained_on, str) and trained_on else {}
    if isinstance(pixels, dict):
        tags[training_pixels.TAG] = json.dumps(pixels)
    if _class_field(metadata).text:
        tags[NUMBERED_FROM_NAMES_TAG] = "yes"
    return tags


def _check_model_file(metadata: Dict[str, Any], scene: Scene, path: str, what: str, hooks: Hooks,
                      pretrained: bool = False) -> None:
    """Whether a model file met by a scene can be trusted (`say_unchecked`) and the layers' bands are
    those it was trained on, by their wavelengths, the auxiliary bands' names and every band's unit
    (their counts are checked before). `pretrained`: a pretraining model to be fine-tuned, whose
    mismatches cost its pretraining's help, not the map (`mismatch_outcome`)."""
    say_unchecked(metadata, path, what, hooks)
    check_wavelengths(metadata, scene.wavelengths, scene.hsi_name, path, what, hooks)
    check_aux_bands(metadata, scene.band_names[scene.n_hsi:], scene.aux_names, path, what, hooks, pretrained)
    check_aux_layers(metadata, scene.aux_band_counts, scene.aux_names, path, what, hooks, pretrained)
    check_pixel_size(metadata, scene.grid.ground_pixel_sides(), scene.hsi_name, path, what, hooks, pretrained)
    check_band_units(metadata, scene.band_units, scene.band_labels, path, what, hooks, pretrained)


def _classifier_on(model: str, metadata: Dict[str, Any], scene: Scene, device: str, precision: str,
                   batch_size: Optional[int], hooks: Hooks) -> Tuple[TilePredictor, List[ClassInfo]]:
    """The tile predictor of a classifier file checked against the scene's layers, and its classes."""
    with bands_explained(scene):
        check_bands(metadata, scene.n_hsi, scene.n_aux, model, "MODEL")
    _check_model_file(metadata, scene, model, "MODEL", hooks)
    classifier = load_classifier(model, scene.n_hsi, scene.n_aux, "MODEL", FRONT_END, metadata)
    check_patch_size(scene, classifier.model.config.patch, "The model's")
    _check_values(_finetuned_values(metadata, scene.n_bands) or classifier.normalizer, scene, hooks)
    predictor = TilePredictor.from_classifier(classifier, device=device, precision=precision,
                                              batch_size=batch_size, hooks=hooks, source=f"MODEL: '{model}'")
    hooks.log(f"Classifying with '{os.path.basename(model)}' ({metadata.get('preset', '?')} preset, "
              f"{len(classifier.classes)} classes) on {predictor.device}, "
              f"{str(predictor.dtype).replace('torch.', '')}, "
              f"batches of {predictor.batch_size:,} {agreeing(predictor.batch_size, 'pixel', 'pixels')}.")
    return predictor, [ClassInfo(int(c["value"]), str(c["name"]), str(c["color"])) for c in classifier.classes]


def _finetuned_values(metadata: Dict[str, Any], n_bands: int) -> Optional[Normalizer]:
    try:
        values = Normalizer.from_dict(metadata.get(FINETUNED_VALUES))
    except ValueError:  # none: a classifier trained from scratch, or made before they were recorded
        return None
    return values if values.n_bands == n_bands else None


def _check_values(normalizer: Normalizer, scene: Scene, hooks: Hooks) -> None:
    """`check_sample` and `_say_far_bands` of a sample of the scene's pixels, before a classifier
    runs. A layer that cannot be read is refused here, where GDAL says why (a virtual raster's
    missing file): when the tiles are read, GDAL no longer repeats the reason (red team of 2026-12-04);
    so is a scene without a valid pixel (a band of NaN everywhere was classified whole into a map of
    nodata: a helper's red team of 2026-12-05). Cancel stops it (a helper's review of 2026-12-06: it
    read dozens of blocks of every band before the first tile, deaf to Cancel)."""
    try:
        sample = counted_sample(scene, VALUE_CHECK_SAMPLE, 0, Hooks(is_canceled=hooks.is_canceled), None)
    except NoValidPixelError:
        raise InputError(no_valid_pixel_message(scene, "No pixel has valid values in every layer",
                                                band_advice=MODEL_BAND_ADVICE)) from None
    check_sample(sample, scene, hooks, "make a map of")
    _say_far_bands(normalizer, sample, scene, hooks)


LOST_SAMPLES_SHARE = 0.1
"""The least share of a class's samples that nodata takes for it to be named (UNEVEN_LOSS times
the share of all the samples, up to LOST_SAMPLES_CAP, when that is more)."""
LOST_SAMPLES_CAP = 0.9


def _say_samples_lost_to_nodata(labelled: LabelledPixels, labels_name: str, hooks: Hooks) -> None:
    """Warns of the classes that nodata in the layers (those holding it named) takes a tenth or more
    of the samples of, and twice the share of all the samples or more, or all of them (red team of
    2026-12-05: 19 of the 30 samples of the roads, said as an info line of the whole count; the
    corners of a tilted flight line take the same share of every class, which the info line says; a
    class sampled only outside a LiDAR of half the scene was left out of the model: review of
    2026-12-05)."""
    overall = labelled.nodata_pixels / max(labelled.nodata_pixels + len(labelled.values), 1)
    least = min(max(LOST_SAMPLES_SHARE, UNEVEN_LOSS * overall), LOST_SAMPLES_CAP)
    lost = [(name, count, total) for name, (count, total) in labelled.left_out_by_class().items()
            if count and count >= least * total]
    if lost:
        listed = "; ".join(f"{count} of the {total} of '{name}' ({share_text(count / total)}"
                           f"{', so it is left out of the model' if count == total else ''})"
                           for name, count, total in lost)
        hooks.warning(f"Nodata in {nodata_layers(labelled.nodata_by_layer)} leaves out samples of '{labels_name}', "
                      f"some classes far more than the others: {listed}. Check the layers' nodata values, or place "
                      "samples on pixels with data.")


CONSTANT_CHECK_PIXELS = 100_000
"""Hyperspectral bands of one value are looked for in scenes of this many pixels or more only: a
small clip may hold one land cover whose bands are constant (water, its negatives clipped to 0:
false-alarm hunt of 2026-12-05)."""


def _constant_bands(normalizer: Normalizer, sample: np.ndarray, scene: Scene) -> np.ndarray:
    """The hyperspectral bands that hold one value in every pixel sampled, other than the centre of
    the model's statistics for them, as `Normalizer.far_bands` judges such a band by its level only
    (a helper's red team of 2026-12-05: a band of 1234 everywhere lowered a map from 97.7 to 84.6 %
    OA unsaid). A band the model met at that one value (saturated, or 0 but for a few pixels) is
    none; nor are they all: a blank image is said otherwise (`check_sample`)."""
    if scene.width * scene.height < CONSTANT_CHECK_PIXELS or len(sample) < FEW_PIXELS:  # few: rounded values (review)
        return np.array([], np.int64)
    hsi = sample[:, :scene.n_hsi].astype(np.float64)
    constant = np.flatnonzero((hsi.min(axis=0) == hsi.max(axis=0))
                              & ~np.isclose(hsi[0], normalizer.center[:scene.n_hsi], rtol=1e-6, atol=0.0))
    return constant if len(constant) < scene.n_hsi else np.array([], np.int64)


def _say_far_bands(normalizer: Normalizer, sample: np.ndarray, scene: Scene, hooks: Hooks,
                   pretraining: bool = False) -> None:
    """Says when bands of the scene's pixels (a sample) hold values far from those the model
    was trained on (`Normalizer.far_bands`): a scale factor left out, other units, another kind
    of auxiliary raster, auxiliary rasters in another order. The model still runs: its map
    would be wrong. Said of a `pretraining` about to be fine-tuned, the classifier learns the new
    values, and the pretraining helps it less (a helper's red team of 2026-12-05: 'the map will be
    wrong' was said of a map 98.3 % right); a constant band is then no news either."""
    constant = np.array([], np.int64) if pretraining else _constant_bands(normalizer, sample, scene)
    if len(constant):
        listed = first_few(f"{scene.band_label(index)}: {value_shown(scene, index, sample[0, index])}"
                           for index in constant)
        hooks.warning(f"{len(constant)} of the {scene.n_hsi} hyperspectral bands "
                      f"{agreeing(len(constant), 'holds', 'hold')} one value in every pixel sampled ({listed}), where "
                      "the model was trained on values that vary: a dead detector, or a band an export filled. The map "
                      f"will be wrong where {agreeing(len(constant), 'that band matters', 'those bands matter')}; give "
                      "the raster the model was trained on, or train one without "
                      f"{agreeing(len(constant), 'it', 'them')}.")
    clipped = normalizer.clipped_bands(sample) if pretraining else np.array([], np.int64)
    if len(clipped):
        _say_clipped_bands(clipped, scene, hooks)
    far = np.setdiff1d(normalizer.far_bands(sample), np.union1d(constant, clipped))  # a band said once
    if not len(far):
        return
    trained, outcome = ("pretrained" if pretraining else "trained"), mismatch_outcome(pretraining)
    hooks.warning(f"{len(far)} of the {scene.n_bands} bands {agreeing(len(far), 'holds', 'hold')} values far from those "
                  f"the model was {trained} on ({first_few(scene.band_label(index) for index in far)}): check that the "
                  f"layers are the kinds of rasters it was {trained} on, in the same units, scale and order; else "
                  f"{outcome}.")


def _say_clipped_bands(clipped: np.ndarray, scene: Scene, hooks: Hooks) -> None:
    """Refuses a fine-tuning whose every hyperspectral band the pretraining's normalisation clips to one value
    (`Normalizer.clipped_bands`), warns of some: the classifier learns nothing from them, where 'its pretraining
    will help the classifier less' was said (a helper's audit of 2026-12-06: without its scale factor, the
    scene's classifier was 18 % right, 81 % without PRETRAINED)."""
    way_out = ("give the layers in the units and scale of the pretraining (a scale factor left out, other units), "
               "or fine-tune without PRETRAINED.")
    clipping = ("values so far from those the model was pretrained on that its normalisation sets at least "
                f"{share_text(CLIPPED_SHARE)} of {agreeing(len(clipped), 'its', 'their')} pixels to one value")
    if set(range(scene.n_hsi)) <= set(clipped.tolist()):
        raise InputError(f"PRETRAINED: every band of '{scene.hsi_name}' holds {clipping}: the classifier could learn "
                         f"nothing from the hyperspectral bands. Check them, then {way_out}")
    listed = first_few(scene.band_label(index) for index in clipped)
    hooks.warning(f"{len(clipped)} of the {scene.n_bands} bands ({listed}) {agreeing(len(clipped), 'holds', 'hold')} "
                  f"{clipping}: the classifier learns nothing from {agreeing(len(clipped), 'it', 'them')}. Unless that "
                  f"is meant, {way_out}")


def _tuple(window: Optional[Window]) -> Optional[Tuple[int, int, int, int]]:
    return tuple(window) if window else None


def _class_field(metadata: Dict[str, Any]) -> ClassField:
    """The class field of the samples a classifier was trained on, as its file records it; a whole-number
    field named 'class_id' for a classifier trained on a label raster (or made before files recorded it)."""
    recorded = metadata.get("class_field")
    if isinstance(recorded, dict) and isinstance(recorded.get("name"), str) and recorded["name"].strip():
        return ClassField(recorded["name"], recorded.get("text") is True, recorded.get("wide") is True,
                          recorded.get("decimal") is True)
    return ClassField(DEFAULT_CLASS_FIELD, False)


def _without_trained(tile: Window, allowed: Optional[np.ndarray], valid: np.ndarray,
                     trained: Optional[Tuple[np.ndarray, np.ndarray, bool]], left_out: List[int]) -> Optional[np.ndarray]:
    """The tile's pixels that may be suggested (`allowed`, all by default) less those the classifier
    was trained on (`training_pixels.trained_positions`), whose count among the `valid` ones is
    appended to `left_out`: a training pixel the classifier is unsure of was suggested for labelling
    again (session of 2026-12-05)."""
    if trained is None:
        return allowed
    rows, cols, _all = trained
    inside = (rows >= tile.row) & (rows < tile.row + tile.height) & (cols >= tile.col) & (cols < tile.col + tile.width)
    if not inside.any():
        return allowed
    kept = np.ones((tile.height, tile.width), bool) if allowed is None else allowed.copy()
    at = rows[inside] - tile.row, cols[inside] - tile.col
    left_out.append(int(np.count_nonzero(kept[at] & valid[at])))
    kept[at] = False
    return kept


def _classifier_record(model: str) -> Dict[str, Any]:
    """A classifier file's record (what and which pixels it was trained on...); empty where it cannot
    be read (said later)."""
    try:
        return model_file.read_metadata(model, [model_file.CLASSIFIER])
    except MrsError:
        return {}


def suggest_job(model: str, layers: Layers, *, count: int, min_distance: float, output: str, hooks: Hooks,
                seed: int = 0, extent: Optional[Extent] = None, mask_path: Optional[str] = None,
                mask_name: str = "", tile_size: int = TILE_SIZE, batch_size: Optional[int] = None,
                device: str = "auto", precision: str = "auto") -> Dict[str, Any]:
    """Writes the `count` pixels an analyst should label next (see raster.suggestions) as points
    in a GeoPackage, within the extent and the mask's polygons when given."""
    output = check_output_path(output, "OUTPUT", (".gpkg",))
    check_points_output(output, "OUTPUT", _classifier_record(model))
    claim_outputs({"OUTPUT": output}, {**layers.inputs(), "MASK": [mask_path]}, {"MODEL": model})
    pool = SuggestionPool(count, min_distance, seed)
    metadata = model_file.read_metadata(model, [model_file.CLASSIFIER], "MODEL", FRONT_END)
    with held_outputs(output), layers.open(hooks) as scene:
        predictor, classes = _classifier_on(model, metadata, scene, device, precision, batch_size, hooks)
        area = mask_rasterizer(mask_path, mask_name or mask_path, scene.grid, scene.hsi_name, hooks) if mask_path else None
        trained = training_pixels.labelled_positions(metadata, scene.grid)
        allowed: Dict[Window, np.ndarray] = {}
        covered, left_out = [], []

        def in_area(tile: Window) -> bool:
            """Whether the tile has pixels in the area (its pixels are kept for `pool.add`); other tiles
            are not predicted."""
            burnt = area.burn(tile)
            if burnt.any():
                allowed[tile] = burnt
                covered.append(tile)
            return tile in allowed

        for tile, index, confidence in predicted_tiles(scene, predictor, predictor.halo,
                                                       _tile_size(predictor, tile_size, hooks), hooks.sub(0.0, 0.9),
                                                       _tuple(_window(scene, extent, hooks)),
                                                       needed=in_area if area else None):
            pool.add(tile, index, confidence,
                     _without_trained(tile, allowed.pop(tile, None), index >= 0, trained, left_out))
        # choosing and writing 100,000 points took minutes at 100 %, deaf to Cancel (a helper's red team of 2026-12-06)
        choice = pool.choose(hooks.sub(0.9, 0.95))
        chosen = choice.points
        if area and not covered:
            raise mask_covers_nothing(mask_name or mask_path, scene.hsi_name, " in the extent" if extent else "")
        how = "trained or validated" if "validation_pixels" in metadata else "trained"
        where = (" in the extent" if extent else "") + (f" inside the polygons of '{mask_name or mask_path}'"
                                                        if area else "")
        if len(chosen) == 0:
            # the parameters to change named, as the warning below names them (a helper's audit of 2026-12-06)
            choose = "Choose " + (" or ".join(name for name, given in (("an EXTENT", extent), ("a MASK", area)) if given)
                                  or "a scene")  # either helps (a review of 2026-12-06)
            if sum(left_out):  # not 'no valid pixel' (a helper's red team of 2026-12-05)
                raise InputError(f"Every valid pixel{where} is one the classifier was {how} on, so none can be "
                                 f"suggested. {choose} with pixels it has not learnt from.")
            raise InputError(f"No pixel{where} is valid in every input layer, so none can be suggested. "
                             f"{choose} where the layers have data.")
        if writes_outputs():  # under torchrun each process finds the same points; every one wrote them, and
            # one failed now and then on another's temporary file (red team of 2026-12-05); the writer checks
            scene.check_unchanged()
            write_points(output, "OUTPUT", chosen, classes, _class_field(metadata), scene.geotransform,
                         scene.crs_wkt, hooks.sub(0.95, 1.0))
    if sum(left_out):
        recorded = "" if trained[2] else (" (those its model file records; of more than "
                                          f"{training_pixels.SAMPLE:,} it records a sample, so others may be)")
        hooks.log(f"{plural(sum(left_out), 'pixel')} the classifier was {how} on {agreeing(sum(left_out), 'is', 'are')} "
                  f"not suggested{recorded}{'' if scene.grid.georeferenced else training_pixels.BY_ROW_AND_COLUMN}.")
    if len(chosen) < count and len(chosen) == pool.seen:
        but = f" but the {sum(left_out):,} the classifier was {how} on" if sum(left_out) else ""
        hooks.warning(f"Only {plural(len(chosen), 'pixel')} can be suggested for the {count:,} asked for: all the "
                      f"valid pixels there are{but}; "
                      + (f"widen {joined([n for n, given in (('EXTENT', extent), ('MASK', mask_path)) if given])} "
                         "for more, or ask" if extent or mask_path else "ask")  # (helpers, 12-05 and 06)
                      + " for fewer POINTS.")
    elif len(chosen) < count:
        among = ("" if choice.complete else
                 f" among the {pool.capacity:,} least confident pixels{where or ' of the scene'}")
        # taken least confident first, each kept only at that distance from those kept before: what the walk
        # kept, not what a layout could hold (red team of 2026-12-05)
        hooks.warning(f"Only {plural(len(chosen), 'pixel')} could be kept for the {count:,} asked for: taken least "
                      f"confident first{among}, each at least {min_distance:.15g} pixels from those kept before; lower "
                      "MIN_DISTANCE for more.")
    one = len(chosen) == 1
    spread = (f"{chosen.confidence.min():.3f}" if one else
              f"from {chosen.confidence.min():.3f} to {chosen.confidence.max():.3f}")
    field = _class_field(metadata).name
    # a classifier of a label raster: its samples are no layer to merge points with (a helper's red team of 2026-12-05)
    add = (f"burn {'it' if one else 'them'}, selected once filled in (Rasterize burns every point), into a copy of "
           f"the label raster the classifier was trained on ({RASTERIZE_OVER}, field '{field}'), to train on "
           "that copy" if trained_on_a_label_raster(metadata)
           else f"add {'it' if one else 'them'} to the training samples")
    hooks.log(f"Wrote {plural(len(chosen), 'suggested point')} to {output}: confidence {spread}. Fill in "
              f"{'its' if one else 'their'} '{field}' field and {add}.")
    return {"path": output, "count": len(chosen), "rows": chosen.rows, "cols": chosen.cols,
            "confidence": chosen.confidence, "index": chosen.index}
