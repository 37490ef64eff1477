"""The learning-rate schedule, the optimiser, and every random draw of an epoch.

AdamW, a linear warm-up that ends exactly at the base learning rate, cosine decay.
Every random draw of an epoch (order, flips, masks) comes from a generator seeded
by (seed, epoch), so a run is deterministic on the CPU and a checkpoint taken at
any batch boundary resumes into exactly the run that was interrupted.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from .settings import TrainSettings

def learning_rate(step: int, total: int, base: float, warmup: int) -> float:
    """Linear warm-up over `warmup` steps ending at `base`, then cosine decay towards 0."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return base * 0.5 * (1.0 + math.cos(math.pi * progress))


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def random_flips(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each patch left-right and/or up-down, independently, with probability 1/2."""
    flips = (torch.rand(2, x.shape[0], generator=generator) < 0.5).to(x.device)[..., None, None, None]
    x = torch.where(flips[0], x.flip(-1), x)
    return torch.where(flips[1], x.flip(-2), x)


def make_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.AdamW:
    """AdamW without weight decay on biases, norms and tokens (as in MAE); the encoder's
    learning rate is `encoder_lr_scale` times the others' (its groups are marked "encoder")."""
    groups: Dict[Tuple[bool, bool], List[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            decays = parameter.ndim >= 2 and parameter.shape[:2] != (1, 1)
            groups.setdefault((name.startswith("encoder."), decays), []).append(parameter)
    return torch.optim.AdamW(
        [{"params": params, "weight_decay": settings.weight_decay if decays else 0.0,
          "lr_scale": settings.encoder_lr_scale if encoder else 1.0, "encoder": encoder}
         for (encoder, decays), params in sorted(groups.items())],
        lr=settings.lr, betas=(0.9, 0.95))


@dataclass(frozen=True)
class Schedule:
    """Batches per epoch, and the learning rate of every step of the run."""

    steps_per_epoch: int
    total_steps: int
    warmup: int
    base: float

    @classmethod
    def for_run(cls, count: int, settings: TrainSettings, whole_batches: bool = False) -> "Schedule":
        """With `whole_batches`, an epoch leaves out the samples of a last, smaller batch (one batch at least)."""
        steps = max(1, count // settings.batch_size) if whole_batches else math.ceil(count / settings.batch_size)
        total = settings.epochs * steps
        return cls(steps, total, max(1, round(settings.warmup_fraction * total)), settings.lr)

    def rate(self, step: int) -> float:
        return learning_rate(step, self.total_steps, self.base, self.warmup)


def epoch_order(seed: int, epoch: int, count: int, generator_state: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Generator, torch.Tensor]:
    """The epoch's generator and sample order; `generator_state` (from a checkpoint taken
    inside the epoch) puts the generator back where the interrupted run had it."""
    generator = epoch_generator(seed, epoch)
    order = torch.randperm(count, generator=generator)
    if generator_state is not None:
        generator.set_state(generator_state)
    return generator, order
