"""The training loop, MAE-style: `run_training` walks the epochs, `train_one_epoch` the
batches of one epoch (returning its figures), `train_step` makes one optimiser step;
best-epoch selection, checkpoints and cancel are small pieces they call.
A `Phase` says what differs between pretraining and fine-tuning (see `phases`).
"""

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import nn

from . import accumulation, distributed
from .atomic import free_bytes, largest_file_bytes, why_and_advice
from .checkpoints import Checkpointer, LoopState
from .device import autocast, describe_device, resolve_device, resolve_precision
from .errors import ChangedFileError, DivergedError, ProcessLostError, WriteError, canceled_with_the_others, first_line
from .hooks import Hooks, Pace, duration
from .names import Names, byte_size, plural, share_text
from .schedule import Schedule, epoch_order, make_optimizer, random_flips
from .settings import TrainSettings
from .train_data import Samples

class Phase:
    """What differs between pretraining and fine-tuning."""

    name = ""
    whole_batches = False
    """Whether every epoch takes whole batches only, leaving out the few samples of a last,
    smaller batch (a different few each epoch, as the order is drawn anew)."""

    def draw(self, x: torch.Tensor, generator: torch.Generator) -> Any:
        """The random draws (masks) of the batch `x`, made for the whole batch so that they do
        not depend on how it is shared among processes and micro-batches; None: none."""
        return None

    def loss(self, model: nn.Module, x: torch.Tensor, y: Optional[torch.Tensor], draws: Any,
             share: slice = slice(None)) -> torch.Tensor:
        """The share's part of the batch's mean loss (the mean itself for the whole batch):
        the model sees only `x[share]`, and the parts of all shares add up to the mean."""
        raise NotImplementedError

    def validate(self, model: nn.Module) -> Optional[Dict[str, float]]:
        """Validation figures after an epoch, with a 'score' to maximise; None: no selection."""
        return None


@dataclass
class TrainResult:
    history: List[Dict[str, Any]]
    best_epoch: int
    context: distributed.Context = field(default_factory=distributed.Context)
    fingerprint: str = ""
    """The samples' (`Samples.fingerprint`), which the run's checkpoints hold too."""
    arithmetic: Dict[str, str] = field(default_factory=dict)
    """Where and in what the run computed ({"device": "cpu", "precision": "bf16"}): its settings may say
    "auto" (a helper's red team of 2026-12-06 could not tell from a model that it was trained in bf16)."""


@dataclass
class Run:
    """Everything the steps of one run share; `net` is the model as the steps call it
    (DistributedDataParallel under torchrun), `micro_batch` the most samples one forward
    and backward pass takes (see `accumulation`), `best` the selected epoch's weights."""

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
    checkpointer: "Checkpointer"
    hooks: Hooks
    micro_batch: int
    best: Optional[Dict[str, torch.Tensor]] = None
    unsaved: bool = False
    """Whether a checkpoint due could not be written (warned of once)."""

    def save(self, state: LoopState, generator: Optional[torch.Generator]) -> None:
        self.checkpointer.save(self.model, self.optimizer, state, generator, self.best)

    def save_now_and_then(self, state: LoopState, generator: Optional[torch.Generator]) -> None:
        """The checkpoint due every few minutes; one that cannot be written (a full disk) is warned
        of, once, and the training goes on, as its model may well fit (red team of 2026-12-05: the
        run ended at epoch 1581 of 2000, every epoch lost). None once this process' reads saw a file
        changed (`Samples.changed`): the next batch's vote stops the run (a review of 2026-12-06)."""
        if self.samples.changed():
            return
        try:
            self.save(state, generator)
        except WriteError as error:
            self.checkpointer.saved_at = time.monotonic()  # tried again at the next interval
            if not self.unsaved:
                why, advice = _cause(error)
                self.hooks.warning(f"The checkpoint of this run could not be written to {self.checkpointer.path} "
                                   f"({why}); the training goes on, but a stop before its end would lose its "
                                   f"progress, and its model may not be written either: {advice} before it ends.")
            self.unsaved = True


def train_step(run: Run, x: torch.Tensor, y: Optional[torch.Tensor], generator: torch.Generator,
               step: int, share: slice) -> float:
    """One optimiser step on a batch at the learning rate of `step`; returns the batch loss.

    This process trains on `x[share]`, in micro-batches of at most `run.micro_batch`
    samples whose gradients add up; DistributedDataParallel averages the gradients over
    the processes, hence the factor `world`, which makes them the whole batch's.
    """
    if run.settings.flips:
        x = random_flips(x, generator)
    draws = run.phase.draw(x, generator)
    rate = run.schedule.rate(step)
    frozen = step < run.settings.freeze_encoder_epochs * run.schedule.steps_per_epoch
    for group in run.optimizer.param_groups:
        group["lr"] = 0.0 if frozen and group["encoder"] else group["lr_scale"] * rate
    run.optimizer.zero_grad(set_to_none=True)
    parts, loss = accumulation.micro_shares(share, run.micro_batch), 0.0
    for index, part in enumerate(parts):
        with accumulation.synchronised(run.net, index == len(parts) - 1):
            with autocast(run.device, run.dtype):
                part_loss = run.phase.loss(run.net, x, y, draws, part) * run.context.world
            part_loss.backward()
        loss += float(part_loss.detach())
    loss = run.context.total(loss / run.context.world, run.device)  # before the step: see `_lost_a_process`
    if run.settings.clip_norm > 0:
        nn.utils.clip_grad_norm_(run.model.parameters(), run.settings.clip_norm)
    run.optimizer.step()
    return loss


def _cause(error: WriteError) -> Tuple[str, str]:
    """Why a file could not be written and what to do (`atomic.why_and_advice`), apart from the
    sentence that says it of the whole run."""
    if isinstance(error.__cause__, OSError):
        return why_and_advice(error.__cause__)
    return first_line(error), "choose another folder"


def _stop(run: Run, state: LoopState, generator: torch.Generator) -> None:
    """Cancel: checkpoint the last finished batch, say how to resume (or that the checkpoint could
    not be written), raise Canceled."""
    try:
        run.save(state, generator)
    except WriteError as error:
        earlier = run.checkpointer.path and os.path.isfile(run.checkpointer.path)  # kept whole by the failed write
        lost = (f"the one written there before still resumes the run from an earlier batch: run it again with the "
                f"same parameters and {run.checkpointer.names.resume} set to that file" if earlier
                else "the run's progress is lost")  # red team of 2026-12-05: 'lost' of a resumable run
        run.hooks.log(f"Canceled after {state.step} of {run.schedule.total_steps} batches; the checkpoint could not be "
                      f"written to {run.checkpointer.path} ({_cause(error)[0]}); {lost}.")
        raise canceled_with_the_others(run.hooks.is_canceled()) from None
    if run.checkpointer.path and not state.step:  # nothing to resume, and a new run starts (helper, 2026-12-05)
        # 'before the first of 1 batches' (a helper's red team of 2026-12-07)
        run.hooks.log(f"Canceled before its first batch: nothing to resume (its checkpoint, "
                      f"'{run.checkpointer.path}', holds no batch; a new run replaces it); run it again "
                      "to start afresh.")  # unnamed, it was taken for a leftover (desktop helper, 2026-12-05)
    elif run.checkpointer.path:
        run.hooks.log(f"Canceled after {state.step} of {run.schedule.total_steps} batches; the checkpoint "
                      f"'{run.checkpointer.path}' resumes the run: run it again with the same parameters and "
                      f"{run.checkpointer.names.resume} set to that file.")
    raise canceled_with_the_others(run.hooks.is_canceled())


def _stop_on_a_change(run: Run) -> None:
    """Where a process of a torchrun run saw a file changed under it (`Samples.changed`), every
    process stops with the first one's sentence, and no checkpoint is written then (a review of
    2026-12-06: kept for the end check, the change went unsaid when a cancel or a lost process came
    first, and a resumed run went on from the checkpoint's mixed reads); one that rank 0 wrote
    after another process' read saw it, before this vote, is for the caller to say not to resume."""
    changed = run.context.first_found(run.samples.changed())
    if changed:
        raise ChangedFileError(changed, voted=True)


def _lost_a_process(run: Run, state: LoopState, generator: torch.Generator, error: RuntimeError) -> None:
    """A collective operation failed: another process of the run stopped (killed, out of memory,
    its machine lost). No process has stepped the weights for this batch (the exchanges come
    before the optimiser's step), so rank 0 checkpoints the batches done, with the random state
    of the batch's start, and every process stops in one sentence instead of a traceback. A
    process canceled itself (SIGTERM to torchrun reaches them all, and one may stop first) stops
    as on Cancel."""
    if run.hooks.is_canceled():
        _stop(run, state, generator)
    run.save(state, generator)
    kept = (f"; the checkpoint '{run.checkpointer.path}' resumes the run: run it again with the same parameters "
            f"and {run.checkpointer.names.resume} set to that file"
            if run.checkpointer.path else "")
    raise ProcessLostError(distributed.lost_exchange(
        f"run during batch {state.batch + 1} of epoch {state.epoch + 1}", error,
        f", after {state.step} of {run.schedule.total_steps} batches{kept}.", run.context.world)) from None


def _diverged(run: Run, state: LoopState, loss: float) -> None:
    """A loss that is no longer a finite number: its gradients have made the weights NaN, and
    every later step would train on them, so the run stops and writes nothing (red team of
    2026-12-04: fine-tuning wrote an all-NaN classifier after three epochs of 'loss nan')."""
    names = run.checkpointer.names
    raise DivergedError(
        f"The {run.phase.name} loss became {loss} at epoch {state.epoch + 1}, batch {state.batch + 1}: the training "
        f"diverged, and no model is written. Lower {names.learning_rate}, or, when fine-tuning, check that "
        f"{names.pretrained} holds a sound model.")


def train_one_epoch(run: Run, state: LoopState, generator: torch.Generator, order: torch.Tensor
                    ) -> Dict[str, Any]:
    """Train from batch `state.batch` to the end of epoch `state.epoch`, advancing `state`.

    Returns the epoch's figures: epoch number, mean loss, samples per second, seconds.
    """
    last, size = time.perf_counter(), run.settings.batch_size
    untimed = state.samples if state.seconds is None else 0  # resumed from a checkpoint that kept no time
    state.seconds = state.seconds or 0.0
    steps, context = run.schedule.steps_per_epoch, run.context
    run.net.train()
    for batch in range(state.batch, steps):
        at_start = generator.get_state() if context.active else None  # for `_lost_a_process`
        try:
            if context.any(run.hooks.is_canceled() or run.samples.changed() is not None, run.device):
                _stop_on_a_change(run)
                _stop(run, state, generator)
            index = order[batch * size:(batch + 1) * size]
            share = context.share(len(index))
            x, y = run.samples.fetch(index[share], run.device)
            x, y = context.gather(x, len(index)), None if y is None else context.gather(y, len(index))
            loss = train_step(run, x, y, generator, state.step, share)
        except RuntimeError as error:
            if not context.active or isinstance(error, torch.OutOfMemoryError):
                raise
            _lost_a_process(run, state, generator.set_state(at_start), error)
        if not math.isfinite(loss):
            _diverged(run, state, loss)
        state.loss_sum += loss * len(index)
        state.samples += len(index)
        state.batch, state.step = batch + 1, state.step + 1
        now = time.perf_counter()
        state.seconds, last = state.seconds + now - last, now
        run.hooks.progress(state.step / run.schedule.total_steps)
        if run.checkpointer.due() and state.batch < steps:
            run.save_now_and_then(state, generator)
    return {"epoch": state.epoch + 1, "loss": state.loss_sum / max(state.samples, 1),
            "samples_per_second": (state.samples - untimed) / max(state.seconds, 1e-9), "seconds": state.seconds}


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
    state.epoch, state.batch, state.loss_sum, state.samples, state.seconds = state.epoch + 1, 0, 0.0, 0, 0.0


FILE_MARGIN = 128 << 10
"""Room a model file needs beyond its weights' bytes (its header, the file system's blocks); a
mebibyte turned away a tiny model of 212 KB on a disk of 1 MB (red team of 2026-12-05)."""


def refuse_no_room(path: str, model: nn.Module, reclaimable: int = 0) -> None:
    """Refuses a training whose model file the disk beside `path` has no room for, before its first
    epoch (red team of 2026-12-05: every epoch ran on a full disk, then 'the disk is full');
    `reclaimable`: the bytes of a checkpoint the model file will take the place of."""
    weights = sum(tensor.numel() * tensor.element_size() for tensor in model.state_dict().values())
    needed = weights + FILE_MARGIN
    free = free_bytes(path)
    if free is not None and free + reclaimable < needed:
        sizes = [byte_size(free), byte_size(needed)]
        if sizes[0] == sizes[1]:  # '1.1 MB free, less than the 1.1 MB' (a helper's audit of 2026-12-07)
            sizes = [plural(free, "byte"), plural(needed, "byte")]
        raise WriteError(f"The folder {os.path.dirname(os.path.abspath(path))} has {sizes[0]} free, less than "
                         f"the {sizes[1]} the model file needs ({byte_size(weights)} of weights and up to "
                         f"{byte_size(FILE_MARGIN)} more for its description): free some space or choose another "
                         "folder, and run again.")  # 'takes' said of the margin too (a helper, 2026-12-05)
    largest = largest_file_bytes()
    if largest is not None and largest < weights:  # found after every epoch (a helper's red team of 2026-12-05);
        # the weights alone: with the margin, a file that fitted was refused (a review of 2026-12-05)
        raise WriteError(f"This process may write files of at most {byte_size(largest)} (a file-size limit such as "
                         f"ulimit -f), less than the {byte_size(weights)} the model's weights take: raise the limit, "
                         "and run again.")


def run_training(model: nn.Module, phase: Phase, samples: Samples, settings: TrainSettings, hooks: Hooks,
                 description: Mapping[str, Any], checkpoint_path: Optional[str] = None,
                 resume_path: Optional[str] = None, names: Names = Names()) -> TrainResult:
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
    schedule = Schedule.for_run(len(samples), settings, phase.whole_batches)
    model.to(device)
    net = context.wrap(model, device)
    optimizer = make_optimizer(model, settings)
    checkpointer = Checkpointer(checkpoint_path if context.writes else None, phase.name, settings,
                                 samples.fingerprint(), description, names,
                                 {"device": device.type, "precision": "bf16" if dtype else "fp32"})
    if checkpoint_path and context.writes:  # a resumed run's checkpoint makes room for the model at the end
        refuse_no_room(checkpoint_path, model, os.path.getsize(checkpoint_path) if os.path.isfile(checkpoint_path) else 0)
    samples, limit = samples.to(device), accumulation.budget(device)
    micro_batch = _micro_batch(model, phase, samples, settings.batch_size, device, dtype, limit)
    run = Run(model, net, context, phase, samples, optimizer, settings, schedule, device, dtype,
              checkpointer, hooks, micro_batch)
    state, generator_state = LoopState(), None
    if resume_path:
        state, generator_state, run.best = checkpointer.restore(resume_path, model, optimizer)
    hooks.resumed(state.step / schedule.total_steps)  # the pace is the training's, not its preparation's
    pace = Pace(phase.name.capitalize(), "the batches", state.step / schedule.total_steps)  # until an epoch's line
    run.hooks = pace.hooks(hooks)
    if resume_path:
        hooks.log(f"Resuming {phase.name} from '{resume_path}' at epoch {state.epoch + 1}, "
                  f"batch {state.batch + 1}.")
    hooks.log(f"{phase.name.capitalize()}: {plural(len(samples), 'sample')}, {plural(settings.epochs, 'epoch')} of "
              f"{plural(schedule.steps_per_epoch, 'batch', 'batches')}, on {describe_device(device)}, "
              f"{'bf16 autocast' if dtype else 'float32'}.")
    if micro_batch < -(-min(settings.batch_size, len(samples)) // context.world):  # a batch holds at most them all
        hooks.log(f"Batches taken in micro-batches of at most {micro_batch} samples, their gradients summed into "
                  f"one step: a whole batch's activations would exceed the {limit / 2 ** 20:.0f} "
                  "MiB kept for them.")
    if context.active:  # a batch holds at most every sample (SAMPLES 1 was said in batches of 128; red team)
        batch = min(settings.batch_size, len(samples))
        low, high = min(b - a for a, b in context.shares(batch)), -(-batch // context.world)
        hooks.log(f"{distributed.devices_line(context, describe_device(device))}; batches of "
                  f"{plural(batch, 'sample')}, {low if low == high else f'{low} or {high}'} per process.")
    started, first_step = time.perf_counter(), state.step
    while state.epoch < settings.epochs:
        hooks.status(_status_line(phase.name, state.epoch + 1, settings.epochs, time.perf_counter() - started,
                                  state.step - first_step, schedule.total_steps - state.step))
        generator, order = epoch_order(settings.seed, state.epoch, len(samples), generator_state)
        generator_state = None
        record = train_one_epoch(run, state, generator, order)
        pace.stop()
        _keep_if_best(run, state, record)
        _next_epoch(state, record)
        elapsed, done = time.perf_counter() - started, state.step - first_step  # this run's steps: not a resumed run's
        left = elapsed / done * (schedule.total_steps - state.step) if done else 0.0
        hooks.log(_epoch_line(phase.name, record, settings.epochs, left))
        if state.epoch < settings.epochs and checkpointer.due():
            run.save_now_and_then(state, None)
    if run.best is not None:
        model.load_state_dict(run.best)
    return TrainResult(history=state.history, best_epoch=state.best_epoch or settings.epochs, context=context,
                       fingerprint=checkpointer.fingerprint, arithmetic=dict(checkpointer.arithmetic or {}))


def _micro_batch(model: nn.Module, phase: Phase, samples: Samples, batch_size: int, device: torch.device,
                 dtype: Optional[torch.dtype], limit: int) -> int:
    """The most samples one forward and backward pass may take: as many as `limit` bytes
    hold of the activations autograd saves, measured on the first two samples."""
    if min(batch_size, len(samples)) < 2:
        return batch_size
    x, y = samples.fetch(torch.arange(2), device)
    draws = phase.draw(x, torch.Generator().manual_seed(0))

    def loss_of(count: int) -> torch.Tensor:
        with autocast(device, dtype):
            return phase.loss(model, x, y, draws, slice(0, count))

    sample_bytes = accumulation.bytes_per_sample(loss_of)
    return min(batch_size, accumulation.micro_batch_size(sample_bytes, limit))


def _status_line(phase: str, epoch: int, epochs: int, elapsed: float, steps_done: int, steps_left: int) -> str:
    """'Pretraining epoch 3/10, about 1 min 20 s left' (no estimate before the first epoch of a run is done)."""
    line = f"{phase.capitalize()} epoch {epoch}/{epochs}"
    return f"{line}, about {duration(elapsed / steps_done * steps_left)} left" if steps_done else line


def _epoch_line(phase: str, record: Dict[str, Any], epochs: int, left: float) -> str:
    parts = [f"{phase.capitalize()} epoch {record['epoch']}/{epochs}: loss {record['loss']:.4f}"]
    if "val_accuracy" in record:
        parts.append(f"validation accuracy {share_text(record['val_accuracy'], 2)}")  # never 100.00 % below it
    parts.append(f"{record['samples_per_second']:,.0f} samples/s")
    parts.append(f"{duration(left)} left")
    return ", ".join(parts)
