"""The two phases of training: MRS/SS-MAE pretraining (masked reconstruction) and fine-tuning
(cross-entropy with validation-based epoch selection)."""

import math
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import masking
from .choices import FINE_TUNING, PRETRAINING
from .device import autocast
from .loop import Phase
from .metrics import accuracy
from .model import SSMAEClassifier
from .settings import MASKING_STRATEGIES, MaskingSettings

def _no_share(loss_of_first: Callable[[], torch.Tensor]) -> torch.Tensor:
    """A zero loss for a process with no sample in a batch: the model run on the batch's first
    sample, times 0. DistributedDataParallel exchanges gradients only after its own forward
    pass, so a process that skipped it would leave the others waiting for ever (red team of
    2026-12-04: a last batch of one sample hung a two-process fine-tuning)."""
    return loss_of_first() * 0.0


class PretrainPhase(Phase):
    name = PRETRAINING
    # As MAE's pretraining loader does (drop_last). A last batch of another size also made
    # oneDNN build kernels for its shapes and keep them: +200 MB of a `paper` pretraining on
    # a CPU with AMX, above the 1 GB it otherwise holds.
    whole_batches = True

    def __init__(self, settings: MaskingSettings) -> None:
        self.settings = settings
        self.spectral_mask: Callable = MASKING_STRATEGIES[settings.strategy]
        self.options = {"similarity": settings.similarity} if settings.strategy == "mrs" else {}

    def draw(self, x: torch.Tensor, generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        """The batch's (spatial, spectral) masks."""
        spatial = masking.spatial_mask(x, self.settings.spatial_ratio, generator)
        return spatial, self.spectral_mask(x, self.settings.spectral_ratio, generator, **self.options)

    def loss(self, model: nn.Module, x: torch.Tensor, y: Optional[torch.Tensor], draws: Any,
             share: slice = slice(None)) -> torch.Tensor:
        spatial, spectral = draws
        part = x[share]
        if part.shape[0] == 0:
            return _no_share(lambda: model(x[:1], spatial[:1], spectral[:1]).total)
        # Every sample masks as many tokens, so the mean over the batch is the mean of the shares'.
        return model(part, spatial[share], spectral[share]).total * (part.shape[0] / x.shape[0])


def predict_logits(model: SSMAEClassifier, data: torch.Tensor, batch_size: int, device: torch.device) -> torch.Tensor:
    """Logits (float32, on the CPU) for every patch in `data`, in float32 as the written classifier
    computes them, an autocast of the training around it turned off; the model is put in eval mode."""
    model.eval()
    out = []
    with torch.inference_mode(), autocast(device, None):
        for start in range(0, data.shape[0], batch_size):
            x = data[start:start + batch_size].to(device, torch.float32)
            out.append(model(x).float().cpu())
    return torch.cat(out) if out else torch.empty(0, model.n_classes)


class FinetunePhase(Phase):
    name = FINE_TUNING

    def __init__(self, class_weights: Optional[torch.Tensor], validation: Optional[Tuple[torch.Tensor, torch.Tensor]],
                 batch_size: int, device: torch.device) -> None:
        self.class_weights = None if class_weights is None else class_weights.to(device)
        self.validation, self.batch_size, self.device = validation, batch_size, device

    def loss(self, model: nn.Module, x: torch.Tensor, y: Optional[torch.Tensor], draws: Any,
             share: slice = slice(None)) -> torch.Tensor:
        part = y[share]
        if part.shape[0] == 0:
            return _no_share(lambda: F.cross_entropy(model(x[:1]).float(), y[:1]))
        loss = F.cross_entropy(model(x[share]).float(), part, weight=self.class_weights)
        return loss * (self._weight(part) / self._weight(y))

    def _weight(self, labels: torch.Tensor) -> Any:
        """What the weighted mean of the loss divides by: the samples' summed class weights."""
        return labels.shape[0] if self.class_weights is None else self.class_weights[labels].sum()

    def validate(self, model: nn.Module) -> Optional[Dict[str, float]]:
        """The model's figures on the validation patches, in float32 whatever the training's
        precision: those of the bf16 autocast were not the written classifier's (a helper's red
        team of 2026-12-05: 74.6 % recorded, 71.4 % by the model in float32 and in the classification's
        bf16, so the epoch kept was chosen on rounding)."""
        if self.validation is None:
            return None
        x, y = self.validation
        logits = predict_logits(model, x, self.batch_size, self.device)
        loss = float(F.cross_entropy(logits, y.cpu()))
        figures = accuracy(y.cpu().numpy(), logits.argmax(1).numpy(), logits.shape[1])
        # Ties, common with few validation pixels, go to the later epoch: the validation
        # loss would favour the first, least trained, epochs to reach the best accuracy.
        kappa = figures.kappa  # undefined (NaN) for one class predicted and held: absent, not NaN in JSON
        return {"val_accuracy": figures.overall, "val_kappa": None if math.isnan(kappa) else kappa, "val_loss": loss,
                "score": figures.overall}


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Weights n / (K * n_k), so that every class weighs the same in the loss."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)
