"""What a training run is asked to do: the optimiser's settings and the pretext task's."""

from dataclasses import asdict, dataclass
from typing import Any, Dict

from . import choices, masking
from .errors import InputError

MASKING_STRATEGIES = masking.SPECTRAL_MASKS


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-4
    weight_decay: float = 0.05
    warmup_fraction: float = 0.1
    encoder_lr_scale: float = 1.0
    freeze_encoder_epochs: int = 0
    clip_norm: float = 1.0
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    flips: bool = True
    checkpoint_seconds: float = 120.0

    def validate(self) -> None:
        checks = [(self.epochs >= 1, f"The number of epochs must be at least 1; got {self.epochs}."),
                  (self.batch_size >= 1, f"The batch size must be at least 1; got {self.batch_size}."),
                  (self.lr > 0, f"The learning rate must be positive; got {self.lr}."),
                  (self.weight_decay >= 0, f"The weight decay must be 0 or more; got {self.weight_decay}."),
                  (0 <= self.warmup_fraction < 1,
                   f"The warm-up fraction must lie in [0, 1); got {self.warmup_fraction}."),
                  (0 < self.encoder_lr_scale <= 1,
                   f"The encoder learning-rate factor must lie in (0, 1]; got {self.encoder_lr_scale}."),
                  (0 <= self.freeze_encoder_epochs < self.epochs,  # '0 to 0 of the 1 epochs' (audit, 12-07)
                   f"The encoder can stay frozen for {_epochs_below(self.epochs)}; got {self.freeze_encoder_epochs}."),
                  (self.clip_norm >= 0, f"The gradient clipping norm must be 0 or more (0 clips nothing); "
                                        f"got {self.clip_norm}."),
                  (self.checkpoint_seconds >= 0,
                   f"The seconds between checkpoints must be 0 or more; got {self.checkpoint_seconds}.")]
        for ok, message in checks:
            if not ok:
                raise InputError(message)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MaskingSettings:
    """The pretext task. `similarity` is how MRS ranks bands (masking.SIMILARITIES);
    `normalized_targets` reconstructs every token normalised over its own values
    (MAE's norm_pix_loss). Both are options beyond the paper; the defaults are the paper's."""

    strategy: str = "mrs"
    spectral_ratio: float = choices.MASK_RATIO
    spatial_ratio: float = choices.MASK_RATIO
    similarity: str = "cosine"
    normalized_targets: bool = False

    def validate(self) -> None:
        if self.strategy not in MASKING_STRATEGIES:
            raise InputError(f"The masking strategy must be one of {', '.join(MASKING_STRATEGIES)}; "
                             f"got '{self.strategy}'.")
        if self.similarity not in masking.SIMILARITIES:
            raise InputError(f"The band similarity must be one of {', '.join(masking.SIMILARITIES)}; "
                             f"got '{self.similarity}'.")
        for name, ratio in (("spectral", self.spectral_ratio), ("spatial", self.spatial_ratio)):
            if not 0.0 < ratio < 1.0:
                raise InputError(f"The {name} mask ratio must lie strictly between 0 and 1; got {ratio}.")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _epochs_below(epochs: int) -> str:
    """The epochs the encoder may stay frozen for, of a run of `epochs`: all but the last."""
    return f"0 to {epochs - 1} of the {epochs} epochs" if epochs > 1 else "no epoch of a 1-epoch run (0)"
