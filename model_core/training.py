"""One training loop for both phases: MRS/SS-MAE pretraining and fine-tuning.

AdamW, a linear warm-up that ends exactly at the base learning rate, cosine decay,
gradient clipping, random flips, bf16 autocast where the hardware runs it natively.
Every random draw of an epoch (order, flips, masks) comes from a generator seeded
by (seed, epoch), so a run is deterministic on the CPU and a checkpoint taken at
any batch boundary resumes into exactly the run that was interrupted.
"""

import hashlib
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import distributed, masking, model_file
from .config import ModelConfig
from .device import autocast, describe_device, resolve_device, resolve_precision
from .errors import Canceled, InputError, ModelFileError
from .hooks import Hooks
from .metrics import accuracy
from .model import SSMAE, SSMAEClassifier

MASKING_STRATEGIES = {"mrs": masking.mrs_mask, "random": masking.random_spectral_mask}


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
                  (0 <= self.warmup_fraction < 1, "The warm-up fraction must lie in [0, 1)."),
                  (0 < self.encoder_lr_scale <= 1,
                   f"The encoder learning-rate factor must lie in (0, 1]; got {self.encoder_lr_scale}."),
                  (0 <= self.freeze_encoder_epochs < self.epochs,
                   f"The encoder can stay frozen for 0 to {self.epochs - 1} of the {self.epochs} epochs; "
                   f"got {self.freeze_encoder_epochs}.")]
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
    spectral_ratio: float = 0.3
    spatial_ratio: float = 0.3
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


def data_fingerprint(data: torch.Tensor, targets: Optional[torch.Tensor]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for tensor in (data, targets):
        if tensor is not None:
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(tensor.contiguous().view(torch.uint8).numpy())
    return digest.hexdigest()


def checkpoint_path_for(output_path: str) -> str:
    """Where a run writing `output_path` keeps its checkpoint."""
    return os.path.splitext(output_path)[0] + ".checkpoint.safetensors"


class Phase:
    """What differs between pretraining and fine-tuning."""

    name = ""

    def loss(self, model: nn.Module, x: torch.Tensor, y: Optional[torch.Tensor],
             generator: torch.Generator, share: slice = slice(None)) -> torch.Tensor:
        """The share's part of the batch's mean loss (the mean itself for the whole batch).

        Random draws (masks) are made for the whole batch `x`, so that they do not depend
        on how the batch is shared among processes; the model sees only `x[share]`.
        """
        raise NotImplementedError

    def validate(self, model: nn.Module) -> Optional[Dict[str, float]]:
        """Validation figures after an epoch, with a 'score' to maximise; None: no selection."""
        return None


@dataclass
class LoopState:
    """Where a run stands; all of it goes into a checkpoint."""

    epoch: int = 0
    batch: int = 0
    step: int = 0
    loss_sum: float = 0.0
    samples: int = 0
    history: List[Dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: Optional[float] = None


@dataclass
class TrainResult:
    history: List[Dict[str, Any]]
    best_epoch: int
    context: distributed.Context = field(default_factory=distributed.Context)


def _no_share(model: nn.Module) -> torch.Tensor:
    """A zero loss through every parameter, for a process with no sample in a batch
    (DistributedDataParallel still needs its gradients)."""
    return sum(parameter.sum() for parameter in model.parameters()) * 0.0


class _Checkpointer:
    """Writes and reads the resumable state of one run."""

    def __init__(self, path: Optional[str], phase: str, settings: TrainSettings, fingerprint: str,
                 description: Mapping[str, Any]) -> None:
        self.path, self.phase, self.settings = path, phase, settings
        self.fingerprint, self.description = fingerprint, dict(description)
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
            "state": asdict(state), "param_groups": optimizer_state["param_groups"]}}
        model_file.save(self.path, tensors, meta)
        self.saved_at = time.monotonic()

    def due(self) -> bool:
        return self.path is not None and time.monotonic() - self.saved_at >= self.settings.checkpoint_seconds

    def restore(self, resume_path: str, model: nn.Module, optimizer: torch.optim.Optimizer
                ) -> Tuple[LoopState, Optional[torch.Tensor], Optional[Dict[str, torch.Tensor]]]:
        """Load a checkpoint of this very run into model and optimizer; refuse anything else."""
        tensors, meta = model_file.load(resume_path, [model_file.CHECKPOINT], "RESUME")
        info = meta.get("checkpoint")
        info = info if isinstance(info, dict) else {}
        saved_settings = info.get("settings") if isinstance(info.get("settings"), dict) else {}
        problems = []
        if info.get("phase") != self.phase:
            problems.append(f"it belongs to {str(info.get('phase'))[:40]!r}, not {self.phase}")
        if saved_settings != self.settings.to_dict():
            differing = sorted(k for k, v in self.settings.to_dict().items() if saved_settings.get(k) != v)
            problems.append("its settings differ (" + ", ".join(differing or ["unknown"]) + ")")
        if meta.get("config") != self.description.get("config"):
            problems.append(f"its model differs (preset {str(meta.get('preset'))[:40]!r})")
        if info.get("fingerprint") != self.fingerprint:
            problems.append("its training samples differ from this run's (other layers, extent or seed)")
        if problems:
            raise ModelFileError(f"RESUME: the checkpoint '{resume_path}' does not continue this run: "
                                 + "; ".join(problems) + ". Resume with the same layers and settings, "
                                 "or start without RESUME.")
        try:
            state = _loop_state(info["state"])
            generator = tensors.get("rng.generator")
            if generator is not None:
                torch.Generator().set_state(generator)
            best = model_file.prefixed(tensors, "best") or None
            if best is not None:
                model.load_state_dict(best)
            model.load_state_dict(model_file.prefixed(tensors, "model"))
            states: Dict[int, Dict[str, torch.Tensor]] = {}
            for name, tensor in model_file.prefixed(tensors, "optimizer").items():
                index, key = name.split(".", 1)
                states.setdefault(int(index), {})[key] = tensor
            optimizer.load_state_dict({"state": states, "param_groups": info["param_groups"]})
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ModelFileError(f"RESUME: the checkpoint '{resume_path}' is incomplete or damaged "
                                 f"({' '.join(str(error).split())[:200]}). Start without RESUME.") from None
        return state, generator, best


def _loop_state(values: Any) -> LoopState:
    """A LoopState from a checkpoint's JSON, every field of the right type."""
    if not isinstance(values, dict):
        raise TypeError("no training state")
    state = LoopState(**values)
    counters = (state.epoch, state.batch, state.step, state.samples, state.best_epoch)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counters):
        raise ValueError("invalid position in the run")
    if not isinstance(state.loss_sum, (int, float)) or not isinstance(state.history, list) or not (
            state.best_score is None or isinstance(state.best_score, (int, float))):
        raise ValueError("invalid training history")
    return state


def _format_seconds(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class Samples:
    """The samples of a run, fetched batch by batch by their indices 0..len-1."""

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def shape(self) -> Tuple[int, ...]:
        """(N, C, P, P): how many samples, and the shape of one patch."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """What identifies these samples, so that a checkpoint resumes only its own run."""
        raise NotImplementedError

    def to(self, device: torch.device) -> "Samples":
        """These samples, kept where `device` reads them fastest."""
        return self

    def fetch(self, index: torch.Tensor, device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Patches (k, C, P, P) float32 and targets (k,) or None, on `device`, in the order of `index`."""
        raise NotImplementedError


class TensorSamples(Samples):
    """Samples held in memory: patches (N, C, P, P) and, for fine-tuning, targets (N,)."""

    def __init__(self, data: torch.Tensor, targets: Optional[torch.Tensor] = None) -> None:
        self.data, self.targets = data, targets

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.data.shape)

    def fingerprint(self) -> str:
        return data_fingerprint(self.data, self.targets)

    def to(self, device: torch.device) -> "TensorSamples":
        return TensorSamples(_place(self.data, device),
                             None if self.targets is None else _place(self.targets, device))

    def fetch(self, index: torch.Tensor, device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        x = self.data[index.to(self.data.device)].to(device, torch.float32, non_blocking=True)
        y = None if self.targets is None else self.targets[index.to(self.targets.device)].to(device)
        return x, y


def _place(data: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Keep the samples on the GPU when they fit comfortably, else on the CPU."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        if data.element_size() * data.numel() < 0.25 * free:
            return data.to(device)
    return data


@dataclass(frozen=True)
class Schedule:
    """Batches per epoch, and the learning rate of every step of the run."""

    steps_per_epoch: int
    total_steps: int
    warmup: int
    base: float

    @classmethod
    def for_run(cls, count: int, settings: TrainSettings) -> "Schedule":
        steps = math.ceil(count / settings.batch_size)
        total = settings.epochs * steps
        return cls(steps, total, max(1, round(settings.warmup_fraction * total)), settings.lr)

    def rate(self, step: int) -> float:
        return learning_rate(step, self.total_steps, self.base, self.warmup)


@dataclass
class Run:
    """Everything the steps of one run share; `net` is the model as the steps call it
    (DistributedDataParallel under torchrun), `best` the selected epoch's weights."""

    model: nn.Module
    net: nn.Module
    context: distributed.Context
    phase: Phase
    samples: Samples
    optimizer: torch.optim.Optimizer
    settings: TrainSettings
    schedule: Schedule
    device: torch.device
    dtype: Optional[torch.dtype]
    checkpointer: "_Checkpointer"
    hooks: Hooks
    best: Optional[Dict[str, torch.Tensor]] = None

    def save(self, state: LoopState, generator: Optional[torch.Generator]) -> None:
        self.checkpointer.save(self.model, self.optimizer, state, generator, self.best)


def epoch_order(seed: int, epoch: int, count: int, generator_state: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Generator, torch.Tensor]:
    """The epoch's generator and sample order; `generator_state` (from a checkpoint taken
    inside the epoch) puts the generator back where the interrupted run had it."""
    generator = epoch_generator(seed, epoch)
    order = torch.randperm(count, generator=generator)
    if generator_state is not None:
        generator.set_state(generator_state)
    return generator, order


def train_step(run: Run, x: torch.Tensor, y: Optional[torch.Tensor], generator: torch.Generator,
               step: int, share: slice = slice(None)) -> float:
    """One optimiser step on a batch at the learning rate of `step`; returns the batch loss.

    This process trains on `x[share]`; DistributedDataParallel averages the gradients
    over the processes, hence the factor `world`, which makes them the whole batch's.
    """
    if run.settings.flips:
        x = random_flips(x, generator)
    rate = run.schedule.rate(step)
    frozen = step < run.settings.freeze_encoder_epochs * run.schedule.steps_per_epoch
    for group in run.optimizer.param_groups:
        group["lr"] = 0.0 if frozen and group["encoder"] else group["lr_scale"] * rate
    with autocast(run.device, run.dtype):
        loss = run.phase.loss(run.net, x, y, generator, share) * run.context.world
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if run.settings.clip_norm > 0:
        nn.utils.clip_grad_norm_(run.model.parameters(), run.settings.clip_norm)
    run.optimizer.step()
    return run.context.total(float(loss.detach()) / run.context.world, run.device)


def _stop(run: Run, state: LoopState, generator: torch.Generator) -> None:
    """Cancel: checkpoint the last finished batch, say how to resume, raise Canceled."""
    run.save(state, generator)
    if run.checkpointer.path:
        run.hooks.log(f"Canceled after {state.step} of {run.schedule.total_steps} batches; the checkpoint "
                      f"'{run.checkpointer.path}' resumes the run (RESUME).")
    raise Canceled()


def train_one_epoch(run: Run, state: LoopState, generator: torch.Generator, order: torch.Tensor
                    ) -> Dict[str, Any]:
    """Train from batch `state.batch` to the end of epoch `state.epoch`, advancing `state`.

    Returns the epoch's figures: epoch number, mean loss, samples per second, seconds.
    """
    started, seen, size = time.perf_counter(), 0, run.settings.batch_size
    steps, context = run.schedule.steps_per_epoch, run.context
    run.net.train()
    for batch in range(state.batch, steps):
        if context.any(run.hooks.is_canceled(), run.device):
            _stop(run, state, generator)
        index = order[batch * size:(batch + 1) * size]
        share = context.share(len(index))
        x, y = run.samples.fetch(index[share], run.device)
        x, y = context.gather(x, len(index)), None if y is None else context.gather(y, len(index))
        loss = train_step(run, x, y, generator, state.step, share)
        state.loss_sum += loss * len(index)
        state.samples += len(index)
        state.batch, state.step = batch + 1, state.step + 1
        seen += len(index)
        run.hooks.progress(state.step / run.schedule.total_steps)
        if run.checkpointer.due() and state.batch < steps:
            run.save(state, generator)
    seconds = time.perf_counter() - started
    return {"epoch": state.epoch + 1, "loss": state.loss_sum / max(state.samples, 1),
            "samples_per_second": seen / max(seconds, 1e-9), "seconds": seconds}


def _keep_if_best(run: Run, state: LoopState, record: Dict[str, Any]) -> None:
    """Add the validation figures to the epoch's record and keep the weights of the best epoch."""
    figures = run.phase.validate(run.model)
    if figures is None:
        return
    record.update(figures)
    if state.best_score is None or figures["score"] >= state.best_score:
        state.best_score, state.best_epoch = figures["score"], state.epoch + 1
        run.best = {name: tensor.detach().to("cpu", copy=True) for name, tensor in run.model.state_dict().items()}


def _next_epoch(state: LoopState, record: Dict[str, Any]) -> None:
    state.history.append(record)
    state.epoch, state.batch, state.loss_sum, state.samples = state.epoch + 1, 0, 0.0, 0


def run_training(model: nn.Module, phase: Phase, samples: Samples, settings: TrainSettings, hooks: Hooks,
                 description: Mapping[str, Any], checkpoint_path: Optional[str] = None,
                 resume_path: Optional[str] = None) -> TrainResult:
    """Train `model` in place; on return it holds the selected (or last) epoch's weights.

    On cancel, a checkpoint of the last finished batch is written (when
    `checkpoint_path` is given) and `Canceled` propagates. Under torchrun, every
    process calls this with the same arguments (see `distributed`); rank 0 alone
    writes checkpoints.
    """
    settings.validate()
    device = resolve_device(settings.device)
    context = distributed.start(device)
    device = context.device(device)
    dtype = resolve_precision(settings.precision, device)
    schedule = Schedule.for_run(len(samples), settings)
    model.to(device)
    net = context.wrap(model, device)
    optimizer = make_optimizer(model, settings)
    checkpointer = _Checkpointer(checkpoint_path if context.writes else None, phase.name, settings,
                                 samples.fingerprint(), description)
    run = Run(model, net, context, phase, samples.to(device), optimizer, settings, schedule, device, dtype,
              checkpointer, hooks)
    state, generator_state = LoopState(), None
    if resume_path:
        state, generator_state, run.best = checkpointer.restore(resume_path, model, optimizer)
        hooks.log(f"Resuming {phase.name} from '{resume_path}' at epoch {state.epoch + 1}, "
                  f"batch {state.batch + 1}.")
    hooks.log(f"{phase.name.capitalize()}: {len(samples)} samples, {settings.epochs} epochs of "
              f"{schedule.steps_per_epoch} batches, on {describe_device(device)}, "
              f"{'bf16 autocast' if dtype else 'float32'}.")
    if context.active:
        low, high = min(b - a for a, b in context.shares(settings.batch_size)), -(-settings.batch_size // context.world)
        hooks.log(f"{distributed.devices_line(context, describe_device(device))}; batches of "
                  f"{settings.batch_size} samples, {low if low == high else f'{low} or {high}'} per process.")
    started, first_step = time.perf_counter(), state.step
    while state.epoch < settings.epochs:
        hooks.status(_status_line(phase.name, state.epoch + 1, settings.epochs, time.perf_counter() - started,
                                  state.step - first_step, schedule.total_steps - state.step))
        generator, order = epoch_order(settings.seed, state.epoch, len(samples), generator_state)
        generator_state = None
        record = train_one_epoch(run, state, generator, order)
        _keep_if_best(run, state, record)
        _next_epoch(state, record)
        elapsed = time.perf_counter() - started
        left = elapsed / max(state.step, 1) * (schedule.total_steps - state.step) if state.step else 0.0
        hooks.log(_epoch_line(phase.name, record, settings.epochs, left))
        if state.epoch < settings.epochs and checkpointer.due():
            run.save(state, None)
    if run.best is not None:
        model.load_state_dict(run.best)
    return TrainResult(history=state.history, best_epoch=state.best_epoch or settings.epochs, context=context)


def _status_line(phase: str, epoch: int, epochs: int, elapsed: float, steps_done: int, steps_left: int) -> str:
    """'Pretraining epoch 3/10, about 1m20s left' (no estimate before the first epoch of a run is done)."""
    line = f"{phase.capitalize()} epoch {epoch}/{epochs}"
    return f"{line}, about {_format_seconds(elapsed / steps_done * steps_left)} left" if steps_done else line


def _epoch_line(phase: str, record: Dict[str, Any], epochs: int, left: float) -> str:
    parts = [f"{phase.capitalize()} epoch {record['epoch']}/{epochs}: loss {record['loss']:.4f}"]
    if "val_accuracy" in record:
        parts.append(f"validation accuracy {100 * record['val_accuracy']:.2f} %")
    parts.append(f"{record['samples_per_second']:.0f} samples/s")
    parts.append(f"{_format_seconds(left)} left")
    return ", ".join(parts)


class PretrainPhase(Phase):
    name = "pretraining"

    def __init__(self, settings: MaskingSettings) -> None:
        self.settings = settings
        self.spectral_mask: Callable = MASKING_STRATEGIES[settings.strategy]
        self.options = {"similarity": settings.similarity} if settings.strategy == "mrs" else {}

    def loss(self, model: nn.Module, x: torch.Tensor, y: Optional[torch.Tensor],
             generator: torch.Generator, share: slice = slice(None)) -> torch.Tensor:
        spatial = masking.spatial_mask(x, self.settings.spatial_ratio, generator)
        spectral = self.spectral_mask(x, self.settings.spectral_ratio, generator, **self.options)
        part = x[share]
        if part.shape[0] == 0:
            return _no_share(model)
        # Every sample masks as many tokens, so the mean over the batch is the mean of the shares'.
        return model(part, spatial[share], spectral[share]).total * (part.shape[0] / x.shape[0])


def predict_logits(model: SSMAEClassifier, data: torch.Tensor, batch_size: int,
                   device: torch.device, dtype: Optional[torch.dtype]) -> torch.Tensor:
    """Logits (float32, on the CPU) for every patch in `data`; the model is put in eval mode."""
    model.eval()
    out = []
    with torch.inference_mode(), autocast(device, dtype):
        for start in range(0, data.shape[0], batch_size):
            x = data[start:start + batch_size].to(device, torch.float32)
            out.append(model(x).float().cpu())
    return torch.cat(out) if out else torch.empty(0, model.n_classes)


class FinetunePhase(Phase):
    name = "fine-tuning"

    def __init__(self, class_weights: Optional[torch.Tensor], validation: Optional[Tuple[torch.Tensor, torch.Tensor]],
                 batch_size: int, device: torch.device, dtype: Optional[torch.dtype]) -> None:
        self.class_weights = None if class_weights is None else class_weights.to(device)
        self.validation, self.batch_size, self.device, self.dtype = validation, batch_size, device, dtype

    def loss(self, model: nn.Module, x: torch.Tensor, y: Optional[torch.Tensor],
             generator: torch.Generator, share: slice = slice(None)) -> torch.Tensor:
        part = y[share]
        if part.shape[0] == 0:
            return _no_share(model)
        loss = F.cross_entropy(model(x[share]).float(), part, weight=self.class_weights)
        return loss * (self._weight(part) / self._weight(y))

    def _weight(self, labels: torch.Tensor) -> Any:
        """What the weighted mean of the loss divides by: the samples' summed class weights."""
        return labels.shape[0] if self.class_weights is None else self.class_weights[labels].sum()

    def validate(self, model: nn.Module) -> Optional[Dict[str, float]]:
        if self.validation is None:
            return None
        x, y = self.validation
        logits = predict_logits(model, x, self.batch_size, self.device, self.dtype)
        loss = float(F.cross_entropy(logits, y.cpu()))
        figures = accuracy(y.cpu().numpy(), logits.argmax(1).numpy(), logits.shape[1])
        # Ties, common with few validation pixels, go to the later epoch: the validation
        # loss would favour the first, least trained, epochs to reach the best accuracy.
        return {"val_accuracy": figures.overall, "val_kappa": figures.kappa, "val_loss": loss,
                "score": figures.overall}


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Weights n / (K * n_k), so that every class weighs the same in the loss."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def _as_tensor(array: Any) -> torch.Tensor:
    return array if isinstance(array, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(array))


def _as_samples(patches: Any) -> Samples:
    return patches if isinstance(patches, Samples) else TensorSamples(_as_tensor(patches))


def _check_patches(shape: Tuple[int, ...], config: ModelConfig, n_bands: int, what: str) -> None:
    expected = (n_bands, config.patch, config.patch)
    if len(shape) != 4 or tuple(shape[1:]) != expected:
        raise InputError(f"The {what} have shape {tuple(shape)}; expected (N, "
                         f"{expected[0]}, {expected[1]}, {expected[2]}).")
    if shape[0] == 0:
        raise InputError(f"There are no {what}.")


def _finish(model: nn.Module, kind: str, description: Mapping[str, Any], extra: Mapping[str, Any],
            output_path: str, checkpoint_path: Optional[str], context: distributed.Context) -> Dict[str, Any]:
    """Write the model file (rank 0 alone; the other processes wait until it exists)."""
    metadata = {**description, **extra, "kind": kind}
    if context.writes:
        model_file.save(output_path, model.state_dict(), metadata)
        if checkpoint_path and os.path.exists(checkpoint_path):
            os.remove(checkpoint_path)
    context.barrier()
    return metadata


def _describe_model(config: ModelConfig, n_hsi: int, n_aux: int) -> Dict[str, Any]:
    return {"config": config.to_dict(), "patch": config.patch, "n_hsi": n_hsi, "n_aux": n_aux}


def pretrain(patches: Any, *, n_hsi: int, config: ModelConfig, masking_settings: MaskingSettings,
             settings: TrainSettings, description: Mapping[str, Any], output_path: str,
             hooks: Optional[Hooks] = None, resume_path: Optional[str] = None,
             keep_checkpoint: bool = True) -> Dict[str, Any]:
    """Pretrain SS-MAE on normalised patches (N, C, P, P), an array or `Samples` read batch
    by batch, and write the pretraining model file.

    `description` carries what the caller knows about the data (preset, band names,
    wavelengths, layer names, normalisation); the written metadata is returned.
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
    checkpoint = checkpoint_path_for(output_path) if keep_checkpoint else None
    result = run_training(model, PretrainPhase(masking_settings), samples, settings, hooks,
                          meta, checkpoint, resume_path)
    training = {"settings": settings.to_dict(), "samples": len(samples),
                "history": result.history, "final_loss": result.history[-1]["loss"]}
    return _finish(model, model_file.PRETRAINED, meta, {"training": training}, output_path, checkpoint,
                   result.context)


def finetune(train_patches: Any, train_labels: Any, val_patches: Any, val_labels: Any, *,
             n_hsi: int, config: ModelConfig, classes: Sequence[Mapping[str, Any]],
             pca: Tuple[np.ndarray, np.ndarray], settings: TrainSettings, description: Mapping[str, Any],
             output_path: str, class_weighting: bool = True,
             pretrained_encoder: Optional[Mapping[str, torch.Tensor]] = None,
             hooks: Optional[Hooks] = None, resume_path: Optional[str] = None,
             keep_checkpoint: bool = True) -> Dict[str, Any]:
    """Fine-tune a classifier on labelled patches and write the classifier model file.

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
    dtype = resolve_precision(settings.precision, device)
    weights = balanced_class_weights(labels.numpy(), len(classes)) if class_weighting else None
    phase = FinetunePhase(weights, validation, max(settings.batch_size, 256), device, dtype)
    meta = {**description, **_describe_model(config, n_hsi, n_bands - n_hsi), "classes": list(classes)}
    checkpoint = checkpoint_path_for(output_path) if keep_checkpoint else None
    result = run_training(model, phase, TensorSamples(data, labels), settings, hooks, meta, checkpoint,
                          resume_path)
    best = result.history[result.best_epoch - 1]
    training = {"settings": settings.to_dict(), "class_weighting": class_weighting,
                "pretrained": pretrained_encoder is not None,
                "train_samples": int(data.shape[0]),
                "validation_samples": 0 if validation is None else int(validation[0].shape[0]),
                "history": result.history, "best_epoch": result.best_epoch,
                "val_accuracy": best.get("val_accuracy"), "val_kappa": best.get("val_kappa")}
    hooks.log(f"Kept epoch {result.best_epoch}"
              + (f" (validation accuracy {100 * best['val_accuracy']:.2f} %)." if validation else "."))
    return _finish(model, model_file.CLASSIFIER, meta, {"training": training}, output_path, checkpoint,
                   result.context)
