"""Pretraining and fine-tuning entry points over the one training loop (`loop`).

The training API in one import: the settings, the phases, the loop and the samples
are re-exported here for callers that want them together.
"""

import errno
import math
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from . import distributed, model_file
from .atomic import why_not_written
from .paths import checkpoint_path_for
from .config import ModelConfig
from .device import resolve_device
from .errors import InputError, WriteError
from .hooks import Hooks
from .loop import run_training
from .mask_ratio import mask_count
from .model import SSMAE, SSMAEClassifier
from .names import Names, share_text
from .phases import FinetunePhase, PretrainPhase, balanced_class_weights, predict_logits
from .schedule import learning_rate
from .settings import MASKING_STRATEGIES, MaskingSettings, TrainSettings
from .train_data import Samples, TensorSamples

__all__ = ["MASKING_STRATEGIES", "FinetunePhase", "MaskingSettings", "PretrainPhase", "Samples", "TensorSamples",
           "TrainSettings", "Trained", "balanced_class_weights", "checkpoint_path_for", "finetune", "learning_rate",
           "predict_logits", "pretrain", "run_training"]

VALIDATION_BATCH = 256
"""Validation patches per model call at least: validation is inference, which takes larger batches."""

def _as_tensor(array: Any) -> torch.Tensor:
    return array if isinstance(array, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(array))


def _as_samples(patches: Any) -> Samples:
    return patches if isinstance(patches, Samples) else TensorSamples(_as_tensor(patches))


def _check_patches(shape: Tuple[int, ...], config: ModelConfig, n_bands: int, what: str) -> None:
    """`n_bands` 0: the bands of patches that are not 4-dimensional, unknown ('expected (N, 0, 9, 9)'
    asked for none: a helper's audit of 2026-12-07)."""
    side = config.patch
    if len(shape) != 4 or tuple(shape[1:]) != (n_bands, side, side):
        raise InputError(f"The {what} have shape {tuple(shape)}; expected (N, {n_bands or 'bands'}, {side}, {side}).")
    if shape[0] == 0:
        raise InputError(f"There are no {what}.")


@dataclass
class Trained:
    """A trained model and the metadata of its file; the caller decides where it goes (`write`)."""

    model: nn.Module
    metadata: Dict[str, Any]
    context: distributed.Context

    def write(self, path: str, checkpoint_path: Optional[str] = None, hooks: Optional[Hooks] = None) -> None:
        """Write the model file and remove the run's now obsolete checkpoint; under torchrun
        rank 0 alone writes and the other processes wait until the file exists. On a disk too full
        for the model beside its checkpoint, the checkpoint makes room for it (red team of
        2026-12-05: the checkpoint took the model's space, and a resumed run failed the same way)."""
        hooks = hooks or Hooks()
        if self.context.writes:
            state = self.model.state_dict()
            try:
                model_file.save(path, state, self.metadata)
            except WriteError as failed:  # only a full disk, not a size limit or permissions (red team of 2026-12-05)
                full = isinstance(failed.__cause__, OSError) and failed.__cause__.errno in (errno.ENOSPC, errno.EDQUOT)
                if not (full and checkpoint_path and os.path.exists(checkpoint_path)):
                    raise _rescued(path, state, self.metadata, failed) from None
                try:
                    os.remove(checkpoint_path)
                except OSError:  # held open, say: the temporary folder may have room (a helper's audit of 12-07)
                    raise _rescued(path, state, self.metadata, failed) from None
                hooks.log(f"The disk is full: the run's checkpoint {checkpoint_path} was deleted to make room for "
                          "the finished model.")
                try:
                    model_file.save(path, state, self.metadata)
                except WriteError as error:  # review of 2026-12-05: 'run again' of a training lost
                    rescued = _rescued(path, state, self.metadata, error)  # the room freed taken (red team, 12-07)
                    if rescued is not error:
                        raise rescued from None
                    raise WriteError(f"{error} The training is lost: its checkpoint was deleted to make room for "
                                     "the model, so a new run starts from the beginning.") from None
            if checkpoint_path and os.path.exists(checkpoint_path):
                _remove_obsolete(checkpoint_path, hooks)
        self.context.barrier()


def _remove_obsolete(checkpoint_path: str, hooks: Hooks) -> None:
    """Deletes a finished run's checkpoint; one that cannot be (held open by another program, say) is
    a warning, not a failure of the run whose model is written (a helper's audit of 2026-12-07: a
    bare PermissionError)."""
    try:
        os.remove(checkpoint_path)
    except OSError as error:
        hooks.warning(f"The run's checkpoint {checkpoint_path} is no longer needed but could not be deleted "
                      f"({error.strerror or error}); delete it by hand.")


def _rescued(path: str, state: Dict[str, torch.Tensor], metadata: Dict[str, Any], failed: WriteError) -> WriteError:
    """The error of a finished model that could not be written to `path` (its folder moved, deleted or
    made read-only during the run), written to the temporary folder instead where it can be, so that
    hours of training are not lost (a helper's red team of 2026-12-06: 'Nothing was written' after
    three epochs, the output's folder renamed meanwhile); `failed` itself where it cannot."""
    if not isinstance(failed.__cause__, OSError):
        return failed
    stem = os.path.splitext(os.path.basename(path))[0]
    rescue = os.path.join(tempfile.gettempdir(),
                          f"{stem}.rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.safetensors")
    try:
        model_file.save(rescue, state, metadata)
    except WriteError:
        return failed
    why, _advice = why_not_written(path, failed.__cause__)
    return WriteError(f"Could not write {path}: {why}. The finished model was written to {rescue} instead: move it "
                      "where it belongs (nothing was written where it was to go).")


def _describe_model(config: ModelConfig, n_hsi: int, n_aux: int) -> Dict[str, Any]:
    return {"config": config.to_dict(), "patch": config.patch, "n_hsi": n_hsi, "n_aux": n_aux}


def pretrain(patches: Any, *, n_hsi: int, config: ModelConfig, masking_settings: MaskingSettings,
             settings: TrainSettings, description: Mapping[str, Any], hooks: Optional[Hooks] = None,
             checkpoint_path: Optional[str] = None, resume_path: Optional[str] = None,
             names: Names = Names()) -> Trained:
    """Pretrain SS-MAE on normalised patches (N, C, P, P), an array or `Samples` read batch
    by batch; returns the model and the metadata of its file.

    `description` carries what the caller knows about the data (preset, band names,
    wavelengths, layer names, normalisation). With `checkpoint_path` the run keeps a
    checkpoint there (see `checkpoints`) that `resume_path` continues; `names` are the
    caller's names in messages.
    """
    hooks = hooks or Hooks()
    masking_settings.validate()
    samples = _as_samples(patches)
    n_bands = samples.shape[1] if len(samples.shape) == 4 else 0
    _check_patches(samples.shape, config, n_bands, "pretraining patches")
    if n_bands - n_hsi < 1:
        raise InputError("Pretraining needs at least one auxiliary band besides the HSI bands.")
    torch.manual_seed(settings.seed)
    model = SSMAE(config, n_hsi, n_bands - n_hsi, masking_settings.normalized_targets)
    meta = {**description, **_describe_model(config, n_hsi, n_bands - n_hsi),
            "masking": masking_settings.to_dict()}
    pixels = config.patch ** 2
    hooks.log(f"Each sample hides {mask_count(n_bands, masking_settings.spectral_ratio)} of its {n_bands} bands (the "
              f"hyperspectral and auxiliary ones together) and {mask_count(pixels, masking_settings.spatial_ratio)} "
              f"of its {pixels} pixels.")
    result = run_training(model, PretrainPhase(masking_settings), samples, settings, hooks,
                          meta, checkpoint_path, resume_path, names)
    training = {"settings": settings.to_dict(), "samples": len(samples), "samples_fingerprint": result.fingerprint,
                "arithmetic": result.arithmetic,
                "history": result.history, "final_loss": result.history[-1]["loss"]}
    _say_if_pretraining_diverged(result.history, masking_settings.normalized_targets, names, hooks)
    return Trained(model, {**meta, "training": training, "kind": model_file.PRETRAINED}, result.context)


def _say_if_nothing_learnt(loss: float, n_classes: int, pretrained: bool, names: Names, hooks: Hooks) -> None:
    """Warns when the lowest training loss of the epochs after the first is above a blind guess's
    (ln of the classes, with or without class weights): the classifier has learnt next to nothing.
    Gradient clipping keeps such a loss finite, so no divergence stops the run (red team of
    2026-12-04: a learning rate of 1 wrote a classifier of losses 23 to 8 among 7 classes, 40 %
    right, without a word). From a pretrained encoder, that may be the cause (a helper's red team
    of 2026-12-05: a pretraining that had learnt nothing, the fine-tuning's settings the defaults)."""
    guess = math.log(n_classes)
    if loss > guess:
        other = f", or fine-tune from another {names.pretrained} model or none," if pretrained else ","
        # four places, as the epochs' lines: 1.9533 and ln 7 were both '1.95' (a desktop helper of 2026-12-06)
        hooks.warning(f"The lowest training loss of the epochs after the first ({loss:.4f}) is above a blind "
                      f"guess's among {n_classes} classes ({guess:.4f}): the classifier has learnt next to nothing. "
                      f"Raise {names.setting('epochs')} or lower {names.learning_rate}{other} and train again.")


ONE_EPOCH_GUESSES = 2
"""How many times a blind guess's loss a fine-tuning's one epoch must exceed to be diverged: its mean
holds the first steps from random weights, which start near the guess (ln of the classes), so only a
loss far above it tells (a helper's red team of 2026-12-06: 12.3 among 7 classes, 1.95, was unsaid)."""


def _say_if_one_epoch_diverged(loss: float, n_classes: int, names: Names, hooks: Hooks) -> None:
    """Warns when a fine-tuning of one epoch ends with a loss above `ONE_EPOCH_GUESSES` blind guesses'."""
    guess = math.log(n_classes)
    if loss > ONE_EPOCH_GUESSES * guess:
        hooks.warning(f"The training loss of its one epoch ({loss:.4f}) is more than {ONE_EPOCH_GUESSES} times a "
                      f"blind guess's among "
                      f"{n_classes} classes ({guess:.4f}): the training diverged, and the classifier has learnt next "
                      f"to nothing. Lower {names.learning_rate}, and train again.")


PRETRAINING_GUESS = 2.0
"""A pretraining's loss with normalised targets when every hidden value is predicted as its token's
mean: 1 for each branch's mean squared error, the targets of each token of unit variance."""
DIVERGED = 5
"""How many times a blind guess's loss (`PRETRAINING_GUESS`) the lowest loss after the first epoch
(the one epoch's, of a run of one) must exceed to be a diverged pretraining: an untrained model
starts at 3.5 (`tiny`) to 7 (`paper`), and a slow sound one (a learning rate of 1e-5, one step per
epoch) stays below 8 (review of 2026-12-05), while one at a learning rate of 1 stayed above 50, or
ended at 19.6 after two epochs, and a fine-tuning from that learnt by chance (a helper's red team
of 2026-12-06: ten times was the bar)."""


def _say_if_pretraining_diverged(history: List[Dict[str, Any]], normalized_targets: bool, names: Names,
                                 hooks: Hooks) -> None:
    """Warns when the lowest loss of the epochs after the first (of a run of one epoch, its loss) is
    more than `DIVERGED` times a blind guess's (known for normalised targets only): a learning rate of
    1 ended at 171 without a word, and a classifier fine-tuned from it mapped one class (a helper's red
    team of 2026-12-05); one epoch of it at 585 too (a helper's red team of 2026-12-06). Gradient
    clipping keeps such a loss finite, so no divergence stops the run."""
    if not history or not normalized_targets:
        return
    loss = min(record["loss"] for record in history[1:] or history)
    if loss > DIVERGED * PRETRAINING_GUESS:
        which = "lowest pretraining loss of the epochs after the first" if len(history) > 1 else (
            "pretraining loss of its one epoch")
        hooks.warning(f"The {which} ({loss:.3g}) is more than "
                      f"{DIVERGED} times a blind guess's ({PRETRAINING_GUESS:g}: every hidden value its token's mean): "
                      "the training diverged, and a classifier fine-tuned from this model will be worse than one "
                      f"trained without it. Lower {names.learning_rate}, and pretrain again.")


def _validation_said(history: List[Dict[str, Any]], kept: int) -> str:
    """' (validation accuracy 98.00 %).', with the epoch that first reached it where an earlier one
    did: of equally good epochs the latest is kept (a readability review of 2026-12-05 read 'Kept
    epoch 100' where 100 % came at epoch 36)."""
    best = history[kept - 1]["val_accuracy"]
    first = next(record["epoch"] for record in history if record.get("val_accuracy") == best)
    tie = f", first reached at epoch {first}: of equally good epochs the latest is kept" if first != kept else ""
    return f" (validation accuracy {share_text(best, 2)}{tie})."


def finetune(train_patches: Any, train_labels: Any, val_patches: Any, val_labels: Any, *,
             n_hsi: int, config: ModelConfig, classes: Sequence[Mapping[str, Any]],
             pca: Tuple[np.ndarray, np.ndarray], settings: TrainSettings, description: Mapping[str, Any],
             class_weighting: bool = True, pretrained_encoder: Optional[Mapping[str, torch.Tensor]] = None,
             hooks: Optional[Hooks] = None, checkpoint_path: Optional[str] = None,
             resume_path: Optional[str] = None, names: Names = Names()) -> Trained:
    """Fine-tune a classifier on labelled patches; returns it and the metadata of its file
    (checkpoints and names as for `pretrain`).

    Labels are class indices 0..K-1 into `classes`. The epoch kept is the one with the
    best accuracy on the validation patches (ties: the later epoch); without
    validation patches, the last one.
    """
    hooks = hooks or Hooks()
    data, labels = _as_tensor(train_patches), _as_tensor(train_labels).long()
    n_bands = data.shape[1] if data.ndim == 4 else 0
    _check_patches(tuple(data.shape), config, n_bands, "training patches")
    validation = None
    if val_patches is not None and len(val_patches):
        val_data = _as_tensor(val_patches)
        _check_patches(tuple(val_data.shape), config, n_bands, "validation patches")
        validation = (val_data, _as_tensor(val_labels).long())
    torch.manual_seed(settings.seed)
    model = SSMAEClassifier(config, n_hsi, n_bands - n_hsi, len(classes))
    model.set_pca(torch.as_tensor(pca[0], dtype=torch.float32), torch.as_tensor(pca[1], dtype=torch.float32))
    if pretrained_encoder is not None:
        model.encoder.load_state_dict(dict(pretrained_encoder), strict=True)
        hooks.log("Encoder weights loaded from the pretraining model.")
    device = resolve_device(settings.device)
    weights = balanced_class_weights(labels.numpy(), len(classes)) if class_weighting else None
    phase = FinetunePhase(weights, validation, max(settings.batch_size, VALIDATION_BATCH), device)
    meta = {**description, **_describe_model(config, n_hsi, n_bands - n_hsi), "classes": list(classes),
            "class_weighting": class_weighting}
    result = run_training(model, phase, TensorSamples(data, labels), settings, hooks, meta, checkpoint_path,
                          resume_path, names)
    best = result.history[result.best_epoch - 1]
    training = {"settings": settings.to_dict(), "samples_fingerprint": result.fingerprint,
                "arithmetic": result.arithmetic,
                "pretrained": pretrained_encoder is not None,
                "train_samples": int(data.shape[0]),
                "validation_samples": 0 if validation is None else int(validation[0].shape[0]),
                "history": result.history, "best_epoch": result.best_epoch,
                "val_accuracy": best.get("val_accuracy"), "val_kappa": best.get("val_kappa")}
    hooks.log(f"Kept epoch {result.best_epoch}" + (_validation_said(result.history, result.best_epoch) if validation
                                                   else "."))
    if len(result.history) > 1:  # one epoch's mean holds the first steps from random weights, far above a guess
        _say_if_nothing_learnt(min(record["loss"] for record in result.history[1:]), len(classes),
                               pretrained_encoder is not None, names, hooks)
    else:
        _say_if_one_epoch_diverged(result.history[0]["loss"], len(classes), names, hooks)
    return Trained(model, {**meta, "training": training, "kind": model_file.CLASSIFIER}, result.context)
