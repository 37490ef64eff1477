"""Edges of the training loops that no test pinned, found by a mutation audit of 2026-12-06 (round 6): the epoch's
draws and the warm-up's rounding; the epoch's mean loss, the progress, the cancel's resume line, an infinite loss, the
epoch kept without validation, a run of one sample and the room a model file needs, of the loop; the checks, warnings
and figures of a fine-tuning and a pretraining around it, and a disk quota when the model is written; the validation's
logits, the samples' fingerprint, the memory budget and its probe, and accuracy figures without a class or a pixel."""

import contextlib
import errno
import os

import numpy as np
import pytest
import torch

from test_training import CLASSES, DESCRIPTION, PCA, TINY, settings, toy_classes, toy_patches
from test_training_path_edges import tiny_classifier

from model_core import accumulation, loop, model_file, training
from model_core.atomic import write_error
from model_core.distributed import Context
from model_core.errors import Canceled, DivergedError, InputError, WriteError
from model_core.hooks import Hooks
from model_core.loop import TrainResult
from model_core.metrics import Accuracy
from model_core.names import Names
from model_core.phases import FinetunePhase, predict_logits
from model_core.schedule import Schedule, epoch_order
from model_core.settings import TrainSettings
from model_core.train_data import TensorSamples, data_fingerprint


# ---- the schedule


def test_each_epoch_of_a_seed_draws_its_own_order():
    """The epoch is in the generator's seed: every epoch of one seed drew the same order (and masks and flips)."""
    orders = [epoch_order(7, epoch, 50)[1] for epoch in range(3)]
    assert not torch.equal(orders[0], orders[1]) and not torch.equal(orders[1], orders[2])
    assert torch.equal(orders[1], epoch_order(7, 1, 50)[1])


@pytest.mark.parametrize("count, warmup", [(19, 2), (17, 2), (14, 1)])
def test_the_warm_up_takes_the_whole_number_of_steps_nearest_its_fraction_of_the_run(count, warmup):
    """10 % of 19 steps is 1.9: 2 steps of warm-up, not the 1 of a truncation."""
    schedule = Schedule.for_run(count, TrainSettings(epochs=1, batch_size=1, warmup_fraction=0.1))
    assert (schedule.total_steps, schedule.warmup) == (count, warmup)


# ---- the loop, its steps' losses given


@pytest.fixture
def numbered_steps(monkeypatch):
    """`loop.train_step` replaced by one that returns the step's number plus 1 as its loss, training nothing."""
    monkeypatch.setattr(loop, "train_step", lambda run, x, y, generator, step, share: float(step + 1))


def fine_tuning_of(count: int, hooks=None, checkpoint=None, resume=None, **changes) -> TrainResult:
    """`run_training` of a fine-tuning without validation on `count` toy samples."""
    x, y = toy_classes(count)
    return loop.run_training(tiny_classifier(), FinetunePhase(None, None, 64, torch.device("cpu")),
                             TensorSamples(torch.from_numpy(x), torch.from_numpy(y)),
                             settings(**{"epochs": 2, "batch_size": 16, **changes}), hooks or Hooks(), {},
                             checkpoint, resume)


def test_an_epoch_s_loss_is_the_mean_over_its_samples_and_starts_afresh_each_epoch(numbered_steps):
    """20 samples in batches of 16 and 4: the batch losses weigh 16 and 4 (not 16 and 16), and the second epoch's
    mean holds its own batches only."""
    result = fine_tuning_of(20)
    assert [record["loss"] for record in result.history] == pytest.approx([(1 * 16 + 2 * 4) / 20,
                                                                          (3 * 16 + 4 * 4) / 20])


def test_the_progress_is_the_run_s_share_of_batches_done_and_its_start_is_said(numbered_steps, tmp_path):
    """4 batches in all: a run canceled after 3 says 1/4 .. 3/4 and how to resume, and its resumed run starts at
    3/4."""
    checkpoint, progress, resumed, lines = str(tmp_path / "c.checkpoint.safetensors"), [], [], []
    with pytest.raises(Canceled):
        fine_tuning_of(20, Hooks(progress=progress.append, resumed=resumed.append, log=lines.append,
                                 is_canceled=lambda: len(progress) >= 3), checkpoint)
    assert lines[-1] == (f"Canceled after 3 of 4 batches; the checkpoint '{checkpoint}' resumes the run: run it again "
                         "with the same parameters and resume_path set to that file.")
    fine_tuning_of(20, Hooks(progress=progress.append, resumed=resumed.append), resume=checkpoint)
    assert progress == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert resumed == pytest.approx([0.0, 0.75])


def test_an_infinite_loss_stops_the_training_as_one_that_is_not_a_number(monkeypatch):
    monkeypatch.setattr(loop, "train_step", lambda *arguments: float("inf"))
    with pytest.raises(DivergedError, match=r"^The fine-tuning loss became inf at epoch 1, batch 1: the training "
                                            r"diverged, and no model is written\."):
        fine_tuning_of(20)


def test_without_validation_the_epoch_kept_is_the_last(numbered_steps):
    assert fine_tuning_of(20, epochs=3).best_epoch == 3


def test_a_run_of_one_sample_trains_in_batches_of_it():
    """The memory probe measures two samples; a run of one has nothing to measure and takes its one sample whole."""
    lines = []
    result = fine_tuning_of(1, Hooks(log=lines.append), epochs=1)
    assert len(result.history) == 1 and np.isfinite(result.history[0]["loss"])
    assert lines[0].startswith("Fine-tuning: 1 sample, 1 epoch of 1 batch, on ")


def test_a_new_run_s_checkpoint_from_before_makes_room_for_its_model(numbered_steps, monkeypatch, tmp_path):
    """A full disk but for an earlier checkpoint at the run's checkpoint path, which the new run replaces."""
    checkpoint = tmp_path / "m.checkpoint.safetensors"
    checkpoint.write_bytes(b"\0" * (2 << 20))
    monkeypatch.setattr(loop, "free_bytes", lambda path: 0)
    x, y = toy_classes(8)
    result = loop.run_training(tiny_classifier(), FinetunePhase(None, None, 64, torch.device("cpu")),
                               TensorSamples(torch.from_numpy(x), torch.from_numpy(y)), settings(epochs=1), Hooks(),
                               {}, checkpoint_path=str(checkpoint))
    assert len(result.history) == 1


@pytest.mark.parametrize("limit, refused", [(1_001_000, False), (1_000_999, True)])
def test_a_file_size_limit_is_refused_below_the_weights_bytes_not_below_them_and_the_margin(monkeypatch, tmp_path,
                                                                                             limit, refused):
    """The margin is for the disk's free space; a limit of the weights' 1 001 000 bytes is left to the write."""
    model = torch.nn.Linear(1000, 250)  # 250 250 float32 values
    monkeypatch.setattr(loop, "free_bytes", lambda path: None)
    monkeypatch.setattr(loop, "largest_file_bytes", lambda: limit)
    with pytest.raises(WriteError, match=r"less than the 1\.0 MB the model's weights take") if refused else \
            contextlib.nullcontext():
        loop.refuse_no_room(str(tmp_path / "m.safetensors"), model)


# ---- the fine-tuning around the loop


@pytest.fixture
def history(monkeypatch):
    """`training.run_training` replaced by one that trains nothing and returns the history set in the list it gives,
    with the best epoch set beside it (default: the last)."""
    given = {"history": [], "best_epoch": None}

    def run_training(model, phase, samples, train_settings, hooks, description, *args, **options):
        return TrainResult(history=given["history"], best_epoch=given["best_epoch"] or len(given["history"]))

    monkeypatch.setattr(training, "run_training", run_training)
    return given


def fine_tune(train=None, val=(None, None), hooks=None, **options):
    x, y = toy_classes(6) if train is None else train
    return training.finetune(x, y, *val, n_hsi=6, config=TINY, classes=CLASSES, pca=PCA, settings=settings(),
                             description=DESCRIPTION, hooks=hooks, **options)


@pytest.mark.parametrize("losses, said", [
    ([0.5, 1.2], "The lowest training loss of the epochs after the first (1.2000) is above a blind guess's among 3 "
                 "classes (1.0986)"),
    ([3.0, 1.09, 1.5], None),
    ([2.5], "The training loss of its one epoch (2.5000) is more than 2 times a blind guess's among 3 classes "
            "(1.0986)"),
    ([2.1], None),
])
def test_a_fine_tuning_is_warned_of_by_its_epochs_after_the_first_or_its_one_epoch(history, losses, said):
    """After the first epoch, the lowest loss against ln 3 (a first epoch below it is no proof of learning); a run
    of one epoch against twice ln 3."""
    history["history"] = [{"epoch": i + 1, "loss": loss} for i, loss in enumerate(losses)]
    warnings = []
    fine_tune(hooks=Hooks(warn=warnings.append))
    assert [warning.split(":")[0] for warning in warnings] == ([said] if said else [])


def test_a_fine_tuning_records_its_validation_samples_and_its_kept_epoch_s_figures(history):
    history["history"] = [{"epoch": 1, "loss": 0.5, "val_accuracy": 0.75, "val_kappa": 0.6},
                          {"epoch": 2, "loss": 0.4, "val_accuracy": 0.5, "val_kappa": 0.2}]
    history["best_epoch"] = 1
    lines = []
    meta = fine_tune(val=toy_classes(4, seed=1), hooks=Hooks(log=lines.append)).metadata["training"]
    assert (meta["train_samples"], meta["validation_samples"]) == (6, 4)
    assert (meta["best_epoch"], meta["val_accuracy"], meta["val_kappa"]) == (1, 0.75, 0.6)
    assert lines[-1] == "Kept epoch 1 (validation accuracy 75.00 %)."


def test_a_disk_quota_exceeded_makes_room_for_the_model_as_a_full_disk_does(tmp_path, monkeypatch):
    checkpoint, output, real, lines = tmp_path / "m.checkpoint.safetensors", tmp_path / "m.safetensors", \
        model_file.save, []
    checkpoint.write_bytes(b"x" * 1000)

    def save(path, tensors, metadata):
        if checkpoint.exists():
            error = OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
            raise write_error(path, error) from error
        return real(path, tensors, metadata)

    monkeypatch.setattr(model_file, "save", save)
    training.Trained(torch.nn.Linear(4, 3), {"kind": model_file.PRETRAINED}, Context()).write(
        str(output), str(checkpoint), Hooks(log=lines.append))
    assert output.exists() and not checkpoint.exists()
    assert lines == [f"The disk is full: the run's checkpoint {checkpoint} was deleted to make room for the finished "
                     "model."]


def test_a_pretraining_records_every_sample_given_though_its_epochs_take_whole_batches(history):
    """20 samples in batches of 16: each epoch takes 16 of them, a different 16 each epoch, all 20 given."""
    history["history"] = [{"epoch": 1, "loss": 1.0}]
    meta = training.pretrain(toy_patches(20), n_hsi=6, config=TINY, masking_settings=training.MaskingSettings(),
                             settings=settings(), description=DESCRIPTION).metadata["training"]
    assert (meta["samples"], meta["final_loss"]) == (20, 1.0)


def test_empty_validation_patches_are_no_validation(history):
    history["history"] = [{"epoch": 1, "loss": 0.5}]
    lines = []
    meta = fine_tune(val=(np.zeros((0, 7, TINY.patch, TINY.patch), np.float32), np.zeros(0, np.int64)),
                     hooks=Hooks(log=lines.append)).metadata["training"]
    assert meta["validation_samples"] == 0 and lines[-1] == "Kept epoch 1."


@pytest.mark.parametrize("train, val, said", [
    ((np.zeros((0, 7, TINY.patch, TINY.patch), np.float32), np.zeros(0, np.int64)), (None, None),
     "There are no training patches."),
    (None, (np.zeros((3, 6, TINY.patch, TINY.patch), np.float32), np.zeros(3, np.int64)),
     f"The validation patches have shape (3, 6, {TINY.patch}, {TINY.patch}); expected (N, 7, {TINY.patch}, "
     f"{TINY.patch})."),
])
def test_training_patches_of_none_or_validation_patches_of_other_bands_are_refused(history, train, val, said):
    with pytest.raises(InputError) as refused:
        fine_tune(train=train, val=val)
    assert str(refused.value) == said


@pytest.mark.parametrize("losses, said", [([50.0], "The pretraining loss of its one epoch (50) is more than 5 times"),
                                          ([5.0, 50.0], "The lowest pretraining loss of the epochs after the first "
                                                        "(50) is more than 5 times")])
def test_a_diverged_pretraining_of_two_epochs_is_said_of_its_epochs_after_the_first(losses, said):
    warnings = []
    history = [{"loss": loss} for loss in losses]
    training._say_if_pretraining_diverged(history, True, Names(), Hooks(warn=warnings.append))
    assert len(warnings) == 1 and warnings[0].startswith(said + " a blind guess's")


def test_a_pretraining_of_hyperspectral_bands_only_is_refused():
    with pytest.raises(InputError) as refused:
        training.pretrain(toy_patches(4), n_hsi=7, config=TINY, masking_settings=training.MaskingSettings(),
                          settings=settings(), description=DESCRIPTION)
    assert str(refused.value) == "Pretraining needs at least one auxiliary band besides the HSI bands."


# ---- the validation's logits, the samples' fingerprint, the memory budget


def test_the_validation_logits_of_half_precision_patches_are_those_of_their_float32_values():
    model = tiny_classifier()
    x, _y = toy_classes(5)
    half = torch.from_numpy(x).half()
    expected = predict_logits(model, half.float(), 4, torch.device("cpu"))
    assert torch.equal(predict_logits(model, half, 4, torch.device("cpu")), expected)
    assert tuple(predict_logits(model, half[:0], 4, torch.device("cpu")).shape) == (0, 3)


def test_samples_of_the_same_values_in_another_shape_have_another_fingerprint():
    values = torch.arange(24.0)
    assert data_fingerprint(values.view(2, 3, 2, 2), None) != data_fingerprint(values.view(3, 2, 2, 2), None)


def test_a_device_other_than_a_cuda_gpu_gets_the_cpu_s_memory_budget():
    assert accumulation.budget(torch.device("meta")) == accumulation.CPU_BUDGET == 96 * 2 ** 20


def test_the_average_accuracy_leaves_out_a_class_absent_from_the_reference():
    """Classes 0 and 1 in the reference (100 % and 0 %), class 2 in neither: 50 %, not NaN."""
    assert Accuracy(np.array([[5, 0, 0], [2, 0, 0], [0, 0, 0]])).average == pytest.approx(0.5)


def test_a_matrix_of_no_pixel_has_no_figures():
    empty = Accuracy(np.zeros((2, 2), np.int64))
    assert np.isnan([empty.overall, empty.average, empty.kappa]).all()


def test_the_bytes_per_sample_count_a_storage_that_two_saved_views_share_once():
    """The product of a linear layer's output's two halves saves two views of that output, 40 bytes a sample."""
    layer = torch.nn.Linear(1000, 10)
    x = torch.randn(4, 1000)

    def loss_of(count):
        out = layer(x[:count])
        return (out[:, :5] * out[:, 5:]).sum()

    assert accumulation.bytes_per_sample(loss_of) == 40
