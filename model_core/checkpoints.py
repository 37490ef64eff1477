"""Checkpoints: the resumable state of one run, written atomically and read back only into that run."""

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import nn

from . import model_file
from .choices import PHASES
from .errors import ModelFileError
from .names import Names, plural
from .settings import TrainSettings
from .wavelengths import wavelength_difference

@dataclass
class LoopState:
    """Where a run stands; all of it goes into a checkpoint."""

    epoch: int = 0
    batch: int = 0
    step: int = 0
    loss_sum: float = 0.0
    samples: int = 0
    seconds: Optional[float] = 0.0
    """The epoch's seconds of training so far, an interrupted run's too: a resumed epoch's record timed
    only its resumed batches (a helper's red team of 2026-12-06); None, unknown, from a checkpoint
    written before, whose samples so far are then left out of the epoch's pace (a review)."""
    history: List[Dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: Optional[float] = None


FINGERPRINT_SCHEME = 2
"""How the checkpoints written now take their samples' fingerprint: 2 from 2026-12-06, when a pretraining's
took a digest of its statistics sample (a review of the same day: an earlier checkpoint of the same
run was said to have other samples); checkpoints written before record none."""


class Checkpointer:
    """Writes and reads the resumable state of one run."""

    def __init__(self, path: Optional[str], phase: str, settings: TrainSettings, fingerprint: str,
                 description: Mapping[str, Any], names: Names = Names(),
                 arithmetic: Optional[Mapping[str, str]] = None) -> None:
        """`arithmetic`: where and in what the run computes ({"device": "cpu", "precision": "bf16"}),
        which a resumed run must share: its device and precision settings are compared by it, not by their words."""
        self.path, self.phase, self.settings, self.names = path, phase, settings, names
        self.fingerprint, self.description = fingerprint, dict(description)
        self.arithmetic = dict(arithmetic) if arithmetic else None
        self.saved_at = time.monotonic()

    def save(self, model: nn.Module, optimizer: torch.optim.Optimizer, state: LoopState,
             generator: Optional[torch.Generator], best: Optional[Dict[str, torch.Tensor]]) -> None:
        if self.path is None:
            return
        optimizer_state = optimizer.state_dict()
        tensors = model_file.with_prefix(model.state_dict(), "model")
        if best is not None:
            tensors.update(model_file.with_prefix(best, "best"))
        for index, values in optimizer_state["state"].items():
            tensors.update({f"optimizer.{index}.{key}": value for key, value in values.items()})
        if generator is not None:
            tensors["rng.generator"] = generator.get_state()
        meta = {**self.description, "kind": model_file.CHECKPOINT, "checkpoint": {
            "phase": self.phase, "settings": self.settings.to_dict(), "fingerprint": self.fingerprint,
            "fingerprint_scheme": FINGERPRINT_SCHEME, "arithmetic": self.arithmetic, "state": asdict(state),
            "param_groups": optimizer_state["param_groups"]}}
        model_file.save(self.path, tensors, meta)
        self.saved_at = time.monotonic()

    def due(self) -> bool:
        return self.path is not None and time.monotonic() - self.saved_at >= self.settings.checkpoint_seconds

    def _samples_differ(self, meta: Mapping[str, Any], seeded: bool) -> str:
        """Why a checkpoint's samples differ: the sample settings that differ (`SAMPLE_SETTINGS`), as
        the caller calls them, or the other seed (`seeded`), else what may make them differ."""
        saved, here = meta.get(SAMPLE_SETTINGS), self.description.get(SAMPLE_SETTINGS)
        differing = self._differences(saved, here) if isinstance(saved, dict) and isinstance(here, dict) else []
        if not differing and seeded:
            differing = [f"{self.names.setting('seed')} draws them"]
        return "; ".join(differing) or self.names.samples_set_by(self.phase)

    def _differences(self, saved: Mapping[str, Any], here: Mapping[str, Any]) -> List[str]:
        """'lr: 0.001 in the checkpoint, 0.5 here' for each setting of `here` that differs, as the caller names it."""
        return [f"{self.names.setting(key)}: {_shown(saved.get(key))} in the checkpoint, {_shown(value)} here"
                for key, value in sorted(here.items()) if saved.get(key) != value]

    def restore(self, resume_path: str, model: nn.Module, optimizer: torch.optim.Optimizer
                ) -> Tuple[LoopState, Optional[torch.Tensor], Optional[Dict[str, torch.Tensor]]]:
        """Load a checkpoint of this very run into model and optimizer; refuse anything else."""
        what = self.names.resume
        meta = model_file.read_metadata(resume_path, [model_file.CHECKPOINT], what, self.names)
        info = _mapping(meta.get("checkpoint"))
        saved_settings = _mapping(info.get("settings"))
        phase = info.get("phase")
        if phase in PHASES and phase != self.phase:  # the other job's: its settings' differences say nothing (red team)
            raise ModelFileError(f"{what}: '{resume_path}' is the checkpoint of a {phase}, not of a {self.phase}: "
                                 f"resume it with the algorithm that wrote it, or start this {self.phase} without "
                                 f"{what}.")
        problems = [] if phase == self.phase else [f"it belongs to {str(phase)[:40]!r}, not {self.phase}"]
        saved_arithmetic = info.get("arithmetic") if isinstance(info.get("arithmetic"), dict) else None
        # compared by what they resolve to where the checkpoint records it (a helper's red team of 2026-12-05)
        words = ARITHMETIC if saved_arithmetic and self.arithmetic else ()
        here = {key: value for key, value in self.settings.to_dict().items() if key not in words}
        saved = {key: value for key, value in saved_settings.items() if key not in words}
        if saved != here:
            differing = self._differences(saved, here)
            problems.append("its settings differ (" + "; ".join(differing or ["unknown"]) + ")")
        if words and saved_arithmetic != self.arithmetic:
            problems.append(f"it computed {_computed(saved_arithmetic)}, this run would compute "
                            f"{_computed(self.arithmetic)} ({', '.join(map(self.names.setting, ARITHMETIC))}), into "
                            "other weights than an uninterrupted run's")
        if meta.get("config") != self.description.get("config"):
            saved, here = str(meta.get("preset"))[:40], str(self.description.get("preset"))[:40]
            # the preset is the setting's where no pretrained model gives the size (review of 2026-12-05)
            setting = self.names.setting("preset") if _pretrained_source(self.description) is None else "preset"
            problems.append(f"its model differs ({setting}: {saved!r} in the checkpoint, {here!r} here)"
                            if saved != here else f"its model differs (preset {saved!r})")
        # A model's neighbourhood makes its samples: another patch size is said as another model (review).
        other_patch = _mapping(meta.get("config")).get("patch") != _mapping(self.description.get("config")).get("patch")
        if meta.get("masking") != self.description.get("masking"):
            saved, wanted = _mapping(meta.get("masking")), _mapping(self.description.get("masking"))
            differing = sorted(self.names.setting(k) for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            problems.append("its pretext task differs (" + ", ".join(differing or ["unknown"]) + ")")
        if meta.get("class_weighting") != self.description.get("class_weighting"):
            problems.append(f"{self.names.setting('class_weighting')} differs ("
                            f"{_yes_no(meta.get('class_weighting'))} in the checkpoint, "
                            f"{_yes_no(self.description.get('class_weighting'))} here)")
        started, starting = _pretrained_source(meta), _pretrained_source(self.description)
        if (started is None) != (starting is None):
            problems.append(f"it started from {'no' if started is None else 'a'} pretrained model, this run from "
                            f"{'none' if starting is None else 'one'} ({self.names.pretrained})")
        elif started is not None and not _same_source(started, starting):
            problems.append(f"it started from another pretrained model than {self.names.pretrained} gives")
        if info.get("fingerprint") != self.fingerprint and not other_patch:
            # SEED draws the samples, said once (a helper, 2026-12-05), unless no validation set is drawn (review)
            drawn = (self.description.get(SAMPLE_SETTINGS) or {}).get("validation_fraction", 1) != 0
            seeded = saved_settings.get("seed") != self.settings.seed and drawn
            unmarked = info.get("fingerprint_scheme") != FINGERPRINT_SCHEME
            earlier = ("; or it was written by an earlier version of this plugin, which took its samples' fingerprint "
                       "otherwise: then delete it, and start afresh" if unmarked else "")
            problems.append(_other_bands(meta, self.description)
                            or f"its training samples differ from this run's ({self._samples_differ(meta, seeded)})"
                            + earlier)
        if problems:
            raise ModelFileError(f"{what}: the checkpoint '{resume_path}' does not continue this run: "
                                 + "; ".join(problems) + ". Resume with the same layers and settings, "
                                 f"or start without {what}.")
        required, optional = _checkpoint_shapes(model, optimizer)
        # the metadata read above, still the file's: a run writing it in between mixed two checkpoints (red team)
        tensors, _meta = model_file.load(resume_path, [model_file.CHECKPOINT], what, self.names, required,
                                         optional=optional, advice=f"Start without {what}.", expected=meta)
        try:
            state = _loop_state(info["state"])
            generator = tensors.get("rng.generator")
            if generator is not None:
                torch.Generator().set_state(generator)
            best = model_file.prefixed(tensors, "best") or None
            if (best is None) != (state.best_epoch == 0):
                raise ValueError("its best epoch's weights disagree with its history")
            if best is not None:
                model.load_state_dict(best)
            model.load_state_dict(model_file.prefixed(tensors, "model"))
            states: Dict[int, Dict[str, torch.Tensor]] = {}
            for name, tensor in model_file.prefixed(tensors, "optimizer").items():
                index, key = name.split(".", 1)
                states.setdefault(int(index), {})[key] = tensor
            optimizer.load_state_dict({"state": states, "param_groups": info["param_groups"]})
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ModelFileError(f"{what}: the checkpoint '{resume_path}' is incomplete or damaged "
                                 f"({' '.join(str(error).split())[:200]}). Start without {what}.") from None
        return state, generator, best


def _other_bands(saved: Mapping[str, Any], here: Mapping[str, Any]) -> Optional[str]:
    """How the layers' bands differ from those a checkpoint's samples were cut from: their counts,
    their order or wavelengths, where the descriptions record them; None where they do not differ
    so (a helper's red team of 2026-12-06: a reversed cube and one band left out were said as other
    layers, another mask, extent, sample count or seed, where a pretrained model names them)."""
    counts = [(description.get("n_hsi"), description.get("n_aux")) for description in (saved, here)]
    if counts[0] != counts[1]:
        (hsi, aux), (given_hsi, given_aux) = counts
        return (f"it was made for {plural(hsi, 'HSI band')} and {plural(aux, 'SAR/LiDAR band')}, the layers give "
                f"{plural(given_hsi, 'HSI band')} and {plural(given_aux, 'SAR/LiDAR band')}"
                if all(isinstance(count, int) for count in (hsi, aux, given_hsi, given_aux)) else None)
    had, given = saved.get("wavelengths"), here.get("wavelengths")
    difference = wavelength_difference(had, given)
    if difference is None:
        return None
    if wavelength_difference(had, given[::-1]) is None:
        return "the layers' hyperspectral bands are its own in reverse order"
    band, had_nm, given_nm = difference
    return (f"its hyperspectral bands lie at other wavelengths (band {band}: {had_nm:.1f} nm in the checkpoint, "
            f"{given_nm:.1f} nm here)")


SAMPLE_SETTINGS = "sample_settings"
"""The description's entry of the settings that choose a run's samples ({"samples": 10000} or
{"validation_fraction": 0.2}), which a refused checkpoint names where they differ."""


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)[:40]  # 0.2, not 0.20000000000000001


def _checkpoint_shapes(model: nn.Module, optimizer: torch.optim.Optimizer
                       ) -> Tuple[Dict[str, Tuple[int, ...]], Dict[str, Tuple[int, ...]]]:
    """What `save` writes for this model and optimizer: the shapes it must hold (the model) and
    those it may hold (the best epoch's weights, the optimizer's state per parameter, the
    generator), so that a checkpoint's header is checked before its tensors are read."""
    weights = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    optional = {f"best.{name}": shape for name, shape in weights.items()}
    parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    for index, parameter in enumerate(parameters):
        optional.update({f"optimizer.{index}.step": (), f"optimizer.{index}.exp_avg": tuple(parameter.shape),
                         f"optimizer.{index}.exp_avg_sq": tuple(parameter.shape)})
    optional["rng.generator"] = tuple(torch.Generator().get_state().shape)
    return {f"model.{name}": shape for name, shape in weights.items()}, optional


ARITHMETIC = ("device", "precision")
"""The settings a checkpoint's run is compared by what they resolved to (`Checkpointer` arithmetic)."""


def _computed(arithmetic: Mapping[str, Any]) -> str:
    """'on cpu in bf16'."""
    return f"on {str(arithmetic.get('device'))[:20]} in {str(arithmetic.get('precision'))[:20]}"


def _yes_no(value: Any) -> str:
    """A setting of yes or no as messages write it (Python's True/False were shown)."""
    return "true" if value is True else "false" if value is False else "unknown"


def _pretrained_source(description: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The pretrained model a fine-tuning started from, by what its file says of it (when it was made,
    its pretext task, its metadata digest), not by its file's name: a checkpoint resumed with another
    pretrained model of the same statistics trained on as if from the first and recorded the second
    (red team of 2026-12-04). None: it started from none."""
    source = description.get("pretrained_from")
    return {key: value for key, value in source.items() if key != "file"} if isinstance(source, Mapping) else None


def _same_source(first: Dict[str, Any], second: Dict[str, Any]) -> bool:
    """Whether two `_pretrained_source`s are one model: by the digest of its weights and statistics
    where both record it (a pretraining run again into the same weights is the same model: red team
    of 2026-12-05), else by what both record; a digest only one of them records (a checkpoint
    written before there were any) is not compared."""
    weights = first.get("weights_sha256"), second.get("weights_sha256")
    if all(weights):
        return weights[0] == weights[1]
    digests = first.get("metadata_sha256"), second.get("metadata_sha256")
    keys = (set(first) | set(second)) - {"weights_sha256"} - (set() if all(digests) else {"metadata_sha256"})
    return all(first.get(key) == second.get(key) for key in keys)


def _mapping(value: Any) -> Mapping[str, Any]:
    """A field of a checkpoint's metadata that should be a mapping, or an empty one where it is not (a file
    edited by hand, or written by another tool: its config a list raised an AttributeError; left alone in note 43)."""
    return value if isinstance(value, Mapping) else {}


def _loop_state(values: Any) -> LoopState:
    """A LoopState from a checkpoint's JSON, every field of the right type."""
    if not isinstance(values, dict):
        raise TypeError("no training state")
    state = LoopState(**{"seconds": None, **values})
    counters = (state.epoch, state.batch, state.step, state.samples, state.best_epoch)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counters):
        raise ValueError("invalid position in the run")
    seconds = 0.0 if state.seconds is None else state.seconds
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (state.loss_sum, seconds)) \
            or not math.isfinite(seconds) or seconds < 0 or not isinstance(state.history, list) or not (
            state.best_score is None or isinstance(state.best_score, (int, float))):
        raise ValueError("invalid training history")
    if (len(state.history) != state.epoch or state.best_epoch > state.epoch  # one record per epoch done
            or (state.best_score is None) != (state.best_epoch == 0)):  # the best epoch is kept with its score
        raise ValueError("its epochs disagree with its history")
    return state
