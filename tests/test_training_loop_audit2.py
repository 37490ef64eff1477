"""Edges of the training loop, its phases and its schedule that no test pinned, found by a second mutation audit
(2026-12-07): the blind-guess bars at their exact values, the pretrained encoder's loading, the finished model's
write on a full disk, the cancel at an epoch's boundary, the names in a divergence, the room a model file needs, the
status and epoch lines, the schedule of tiny runs and the validation's figures."""

import errno
import math
import os
import tempfile

import pytest
import torch
from torch import nn

from test_training import DESCRIPTION, TINY, settings, toy_classes, toy_patches
from test_training_audit import fine_tune, history, numbered_steps  # noqa: F401  (fixtures)
from test_training_path_edges import tiny_classifier

from model_core import loop, model_file, training
from model_core.atomic import write_error
from model_core.distributed import Context
from model_core.errors import Canceled, DivergedError, InputError, WriteError
from model_core.hooks import Hooks
from model_core.names import Names
from model_core.phases import FinetunePhase
from model_core.schedule import Schedule
from model_core.settings import TrainSettings
from model_core.train_data import TensorSamples


# ---- the fine-tuning and pretraining around the loop


@pytest.mark.parametrize("losses", [[3.0, math.log(3)], [2 * math.log(3)]])
def test_a_fine_tuning_loss_exactly_at_its_bar_is_not_warned_of(history, losses):
    """The bars are strict: a lowest loss of exactly ln 3 after the first epoch, or one epoch of exactly 2 ln 3."""
    history["history"] = [{"epoch": i + 1, "loss": loss} for i, loss in enumerate(losses)]
    warnings = []
    fine_tune(hooks=Hooks(warn=warnings.append))
    assert warnings == []


@pytest.mark.parametrize("losses", [[10.0], [50.0, 10.0]])
def test_a_pretraining_loss_of_exactly_five_blind_guesses_is_not_warned_of(losses):
    """The bar is strict: a lowest loss (after the first epoch, or of the one epoch) of exactly 5 x 2."""
    warnings = []
    records = [{"loss": loss} for loss in losses]
    training._say_if_pretraining_diverged(records, True, Names(), Hooks(warn=warnings.append))
    assert warnings == []

def test_a_fine_tuning_from_a_pretrained_encoder_says_it_loaded_it_and_records_it(history):
    history["history"] = [{"epoch": 1, "loss": 0.5}]
    lines = []
    encoder = training.SSMAEClassifier(TINY, 6, 1, 3).encoder.state_dict()
    trained = fine_tune(pretrained_encoder=encoder, hooks=Hooks(log=lines.append))
    assert lines == ["Encoder weights loaded from the pretraining model.", "Kept epoch 1."]
    assert trained.metadata["training"]["pretrained"] is True
    assert torch.equal(trained.model.encoder.state_dict()["spatial.embed.weight"], encoder["spatial.embed.weight"])


def test_a_pretrained_encoder_lacking_a_weight_is_refused_not_loaded_in_part(history):
    history["history"] = [{"epoch": 1, "loss": 0.5}]
    encoder = training.SSMAEClassifier(TINY, 6, 1, 3).encoder.state_dict()
    del encoder["spatial.embed.weight"]
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: \"spatial\.embed\.weight\""):
        fine_tune(pretrained_encoder=encoder)


def test_pretraining_patches_of_another_size_are_refused_by_their_name():
    with pytest.raises(InputError) as refused:
        training.pretrain(toy_patches(4)[:, :, 1:], n_hsi=6, config=TINY, masking_settings=training.MaskingSettings(),
                          settings=settings(), description=DESCRIPTION)
    p = TINY.patch
    assert str(refused.value) == f"The pretraining patches have shape (4, 7, {p - 1}, {p}); expected (N, 7, {p}, {p})."


def _disk_full(path):
    try:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError as error:
        raise write_error(path, error) from error


def test_a_finished_model_on_a_full_disk_without_its_checkpoint_there_is_rescued(tmp_path, monkeypatch):
    """A checkpoint path given but no checkpoint there (never due): nothing to delete, the model goes to the
    temporary folder, and no line says a checkpoint was deleted."""
    rescue, real, lines = tmp_path / "rescue", model_file.save, []
    rescue.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue))
    monkeypatch.setattr(model_file, "save", lambda path, tensors, metadata: (
        real(path, tensors, metadata) if path.startswith(str(rescue)) else _disk_full(path)))
    output = tmp_path / "m.safetensors"
    with pytest.raises(WriteError) as refused:
        training.Trained(nn.Linear(4, 3), {"kind": model_file.PRETRAINED}, Context()).write(
            str(output), str(tmp_path / "m.checkpoint.safetensors"), Hooks(log=lines.append))
    [kept] = rescue.glob("m.rescued-*.safetensors")
    assert str(refused.value) == (f"Could not write {output}: the disk is full. The finished model was written to "
                                  f"{kept} instead: move it where it belongs (nothing was written where it was to go).")
    assert lines == []


def test_a_checkpoint_that_cannot_be_deleted_is_not_said_to_have_been(tmp_path, monkeypatch):
    checkpoint, lines = tmp_path / "m.checkpoint.safetensors", []
    checkpoint.write_bytes(b"x" * 1000)
    monkeypatch.setattr(model_file, "save", lambda path, tensors, metadata: _disk_full(path))

    def undeletable(path):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), path)

    monkeypatch.setattr(os, "remove", undeletable)
    with pytest.raises(WriteError, match=r"the disk is full"):
        training.Trained(nn.Linear(4, 3), {"kind": model_file.PRETRAINED}, Context()).write(
            str(tmp_path / "m.safetensors"), str(checkpoint), Hooks(log=lines.append))
    assert lines == [] and checkpoint.exists()


# ---- the loop


def test_a_run_canceled_at_an_epoch_s_boundary_says_its_checkpoint_resumes_it(numbered_steps, tmp_path):
    """Canceled as the second epoch starts (its batch 0, the run's batch 2): the checkpoint holds two batches."""
    x, y = toy_classes(20)
    checkpoint, progress, lines = str(tmp_path / "c.checkpoint.safetensors"), [], []
    with pytest.raises(Canceled):
        loop.run_training(tiny_classifier(), FinetunePhase(None, None, 64, torch.device("cpu")),
                          TensorSamples(torch.from_numpy(x), torch.from_numpy(y)), settings(epochs=2),
                          Hooks(progress=progress.append, log=lines.append, is_canceled=lambda: len(progress) >= 2),
                          {}, checkpoint)
    assert lines[-1] == (f"Canceled after 2 of 4 batches; the checkpoint '{checkpoint}' resumes the run: run it again "
                         "with the same parameters and resume_path set to that file.")


def test_a_divergence_names_the_learning_rate_and_pretrained_model_as_the_caller_calls_them(monkeypatch):
    monkeypatch.setattr(loop, "train_step", lambda *arguments: float("nan"))
    x, y = toy_classes(8)
    with pytest.raises(DivergedError) as stopped:
        loop.run_training(tiny_classifier(), FinetunePhase(None, None, 64, torch.device("cpu")),
                          TensorSamples(torch.from_numpy(x), torch.from_numpy(y)), settings(epochs=1), Hooks(), {},
                          names=Names(learning_rate="LEARNING_RATE", pretrained="PRETRAINED"))
    assert str(stopped.value) == ("The fine-tuning loss became nan at epoch 1, batch 1: the training diverged, and no "
                                  "model is written. Lower LEARNING_RATE, or, when fine-tuning, check that PRETRAINED "
                                  "holds a sound model.")


def test_a_disk_with_room_for_the_weights_but_not_their_margin_is_refused_and_says_each(monkeypatch, tmp_path):
    """1 001 000 bytes of weights and 131 072 of margin: 1 010 000 bytes free is too little."""
    monkeypatch.setattr(loop, "free_bytes", lambda path: 1_010_000)
    monkeypatch.setattr(loop, "largest_file_bytes", lambda: None)
    with pytest.raises(WriteError) as refused:
        loop.refuse_no_room(str(tmp_path / "m.safetensors"), nn.Linear(1000, 250))
    assert str(refused.value) == (f"The folder {tmp_path} has 1.0 MB free, less than the 1.1 MB the model file needs "
                                  "(1.0 MB of weights and up to 131 KB more for its description): free some space or "
                                  "choose another folder, and run again.")


def test_the_status_line_estimates_from_the_first_step_and_the_epoch_line_groups_thousands():
    assert loop._status_line("fine-tuning", 1, 4, 3.0, 1, 20) == "Fine-tuning epoch 1/4, about 1 min 00 s left"
    record = {"epoch": 1, "loss": 1.5, "samples_per_second": 12_345.4}
    assert loop._epoch_line("pretraining", record, 2, 0.0) == (
        "Pretraining epoch 1/2: loss 1.5000, 12,345 samples/s, 0 s left")


# ---- the schedule


@pytest.mark.parametrize("count, whole, steps, warmup", [(5, True, 1, 1), (3, False, 1, 1), (40, True, 2, 1)])
def test_a_tiny_run_takes_one_batch_at_least_and_warms_up_for_one_step_at_least(count, whole, steps, warmup):
    """5 samples in whole batches of 16: one batch, not none; 3 steps of 10 % warm-up: 1 step, not 0."""
    schedule = Schedule.for_run(count, TrainSettings(epochs=3, batch_size=16, warmup_fraction=0.1), whole)
    assert (schedule.steps_per_epoch, schedule.total_steps, schedule.warmup) == (steps, 3 * steps, warmup)


# ---- the validation


class Logits(nn.Module):
    """A 'model' whose logits are its input: each validation patch is the logits it stands for."""

    n_classes = 3

    def forward(self, x):
        return x


def test_the_validation_figures_and_score_are_the_overall_accuracy_s_over_the_logits_classes():
    """References 0 0 0 1, predictions 0 0 2 1 (class 2 predicted, absent from the reference): 75 % overall, kappa
    5/9, the score the overall accuracy (the average accuracy is 83 %)."""
    predicted = torch.tensor([0, 0, 2, 1])
    logits = 10.0 * nn.functional.one_hot(predicted, 3).float()
    phase = FinetunePhase(None, (logits, torch.tensor([0, 0, 0, 1])), 2, torch.device("cpu"))
    figures = phase.validate(Logits())
    right, wrong = math.log(1 + 2 * math.exp(-10)), math.log(math.exp(10) + 2)
    assert figures == pytest.approx({"val_accuracy": 0.75, "val_kappa": 5 / 9, "val_loss": (3 * right + wrong) / 4,
                                     "score": 0.75}, rel=1e-6)


# ---- bugs the audit found, mended


def _undeletable(path):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)


def test_a_finished_model_on_a_full_disk_whose_checkpoint_cannot_be_deleted_is_rescued(tmp_path, monkeypatch):
    """The disk full and the checkpoint undeletable (held open on Windows, say), the model was lost with 'the disk is
    full' though the temporary folder had room."""
    checkpoint, rescue, real = tmp_path / "m.checkpoint.safetensors", tmp_path / "rescue", model_file.save
    checkpoint.write_bytes(b"x" * 1000)
    rescue.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue))
    monkeypatch.setattr(model_file, "save", lambda path, tensors, metadata: (
        real(path, tensors, metadata) if path.startswith(str(rescue)) else _disk_full(path)))
    monkeypatch.setattr(os, "remove", _undeletable)
    output = str(tmp_path / "m.safetensors")
    with pytest.raises(WriteError) as refused:
        training.Trained(nn.Linear(4, 3), {"kind": model_file.PRETRAINED}, Context()).write(
            output, str(checkpoint), Hooks())
    rescued = list(rescue.glob("m.rescued-*.safetensors"))
    assert len(rescued) == 1 and checkpoint.exists()
    assert str(refused.value).startswith(f"Could not write {output}: ")
    assert str(refused.value).endswith(f". The finished model was written to {rescued[0]} instead: move it where it "
                                       "belongs (nothing was written where it was to go).")


def test_a_written_model_whose_obsolete_checkpoint_cannot_be_deleted_is_a_warning(tmp_path, monkeypatch):
    """The model written, its checkpoint undeletable: a bare PermissionError escaped `write`, and the run was reported
    failed though its model was where it was to go."""
    checkpoint, output, warnings = tmp_path / "m.checkpoint.safetensors", tmp_path / "m.safetensors", []
    checkpoint.write_bytes(b"x" * 1000)
    monkeypatch.setattr(os, "remove", _undeletable)
    training.Trained(nn.Linear(4, 3), {"kind": model_file.PRETRAINED}, Context()).write(
        str(output), str(checkpoint), Hooks(warn=warnings.append))
    assert model_file.read_metadata(str(output), [model_file.PRETRAINED])["kind"] == model_file.PRETRAINED
    assert warnings == [f"The run's checkpoint {checkpoint} is no longer needed but could not be deleted (Permission "
                        "denied); delete it by hand."]


@pytest.mark.parametrize("run, what", [
    (lambda patches: training.pretrain(patches, n_hsi=6, config=TINY, masking_settings=training.MaskingSettings(),
                                       settings=settings(), description=DESCRIPTION), "pretraining patches"),
    (lambda patches: training.finetune(patches, torch.zeros(7, dtype=torch.long), None, None, n_hsi=6, config=TINY,
                                       classes=[], pca=(None, None), settings=settings(), description=DESCRIPTION),
     "training patches"),
])
def test_patches_of_three_dimensions_are_not_said_to_need_zero_bands(run, what):
    """A (C, P, P) array was told 'expected (N, 0, 5, 5)', no band at all."""
    side = TINY.patch
    with pytest.raises(InputError) as refused:
        run(torch.zeros((7, side, side)))
    assert str(refused.value) == f"The {what} have shape (7, {side}, {side}); expected (N, bands, {side}, {side})."


def test_a_refusal_for_want_of_room_gives_bytes_where_the_rounded_sizes_are_alike(monkeypatch, tmp_path):
    """1,100,000 bytes free of 1,132,072 needed were '1.1 MB free, less than the 1.1 MB the model file needs'."""
    monkeypatch.setattr(loop, "free_bytes", lambda path: 1_100_000)
    monkeypatch.setattr(loop, "largest_file_bytes", lambda: None)
    model = nn.Linear(1000, 250)
    needed = 1_001_000 + loop.FILE_MARGIN
    with pytest.raises(WriteError) as refused:
        loop.refuse_no_room(str(tmp_path / "m.safetensors"), model)
    assert str(refused.value).startswith(f"The folder {tmp_path} has 1,100,000 bytes free, less than the {needed:,} "
                                         "bytes the model file needs (1.0 MB of weights and up to ")
