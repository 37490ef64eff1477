"""Gradient accumulation: a batch's step in micro-batches trains the model the whole batch trains."""

import contextlib
import os

import pytest
import torch
from torch import nn

from model_core import accumulation, model_file
from model_core.errors import Canceled
from model_core.hooks import Hooks
from model_core.masking import mrs_mask, spatial_mask
from model_core.model import SSMAE
from model_core.training import MaskingSettings, checkpoint_path_for, pretrain

from test_training import (DESCRIPTION, TINY, cancel_after, run_finetune, run_pretrain, settings, toy_classes,
                           toy_patches, weights)

MICRO_BUDGET = {"pretraining": 600_000, "fine-tuning": 100_000}
"""Bytes of saved activations per micro-batch that cut the test's batches of 16 `tiny`
samples (about 136 kB each to pretrain, 26 kB to fine-tune, in float32) into several
micro-batches."""

GRADIENT_TOLERANCE = 1e-6
"""Largest difference allowed between a gradient summed over micro-batches and the whole
batch's, relative to the largest gradient (float32): the sums differ only in their order."""

TOLERANCE = 1e-3
"""Largest relative difference allowed between what micro-batches and whole batches change in
the weights, |w_micro - w_whole| / |w_whole - w0| over all weights. Not zero: the key biases
of attention have no gradient in exact arithmetic (softmax ignores them), and AdamW's first
steps turn their float noise into full-size steps, a different one for every summation order."""


def test_a_share_is_cut_into_the_fewest_near_equal_micro_batches():
    assert accumulation.micro_shares(slice(13, 25), 5) == [slice(13, 17), slice(17, 21), slice(21, 25)]
    assert accumulation.micro_shares(slice(0, 16), 4) == [slice(0, 4), slice(4, 8), slice(8, 12), slice(12, 16)]
    assert accumulation.micro_shares(slice(0, 16), 16) == [slice(0, 16)]
    assert accumulation.micro_shares(slice(0, 16), 100) == [slice(0, 16)]
    assert accumulation.micro_shares(slice(7, 7), 3) == [slice(7, 7)]
    assert accumulation.micro_batch_size(1000, 4500) == 4
    assert accumulation.micro_batch_size(1000, 10) == 1


def test_the_bytes_per_sample_are_those_autograd_saves_for_one_more_sample():
    layer = nn.Linear(1000, 10)
    x = torch.randn(4, 1000)
    # The product saves its input, a view of x whatever the count (x is there anyway), and
    # the square its own input: 10 float32 values per sample.
    assert accumulation.bytes_per_sample(lambda count: layer(x[:count]).pow(2).sum()) == 40


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_the_probe_counts_without_onednn_what_autograd_saves_with_it(monkeypatch, dtype):
    """The probe's count without oneDNN (whose kernels for its shapes would stay in memory) is
    the count of the same pretraining loss with it, in float32 and under bf16 autocast."""
    model = SSMAE(TINY, 6, 1)
    x = torch.from_numpy(toy_patches(2)).float()
    generator = torch.Generator().manual_seed(0)
    masks = spatial_mask(x, 0.3, generator), mrs_mask(x, 0.3, generator)

    def loss_of(count: int) -> torch.Tensor:
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            return model(x[:count], masks[0][:count], masks[1][:count]).total

    switches = []

    def recorded(count: int) -> torch.Tensor:
        switches.append(torch.backends.mkldnn.enabled)
        return loss_of(count)

    monkeypatch.setattr(torch.backends.mkldnn, "enabled", True)
    without = accumulation.bytes_per_sample(recorded)
    assert switches == [False, False] and torch.backends.mkldnn.enabled
    monkeypatch.setattr(accumulation, "without_onednn", contextlib.nullcontext)
    assert accumulation.bytes_per_sample(loss_of) == without > 10_000


def test_the_switch_to_pytorch_s_kernels_is_undone_when_the_work_fails(monkeypatch):
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", True)
    with pytest.raises(RuntimeError), accumulation.without_onednn():
        assert not torch.backends.mkldnn.enabled
        raise RuntimeError("failed")
    assert torch.backends.mkldnn.enabled


def cut_into_micro_batches(monkeypatch, phase: str = "pretraining") -> list:
    """Sets a budget that cuts the batches into micro-batches; returns the list to which
    every step adds the sizes of its micro-batches."""
    cuts = []

    def recording(share, size):
        parts = shares(share, size)
        cuts.append([part.stop - part.start for part in parts])
        return parts

    shares = accumulation.micro_shares
    monkeypatch.setattr(accumulation, "CPU_BUDGET", MICRO_BUDGET[phase])
    monkeypatch.setattr(accumulation, "micro_shares", recording)
    return cuts


@pytest.fixture
def micro_batches(monkeypatch):
    return cut_into_micro_batches(monkeypatch)


def flat(weights: dict) -> torch.Tensor:
    return torch.cat([weights[name].float().flatten() for name in sorted(weights) if weights[name].is_floating_point()])


def relative_difference(trained: dict, reference: dict, start: dict) -> float:
    trained, reference, start = flat(trained), flat(reference), flat(start)
    return float((trained - reference).norm() / (reference - start).norm())


def starting_weights(tmp_path, run=run_pretrain, *args, **changes) -> dict:
    """The weights before the first step: those of a `run` canceled before it."""
    start = str(tmp_path / "start.safetensors")
    with pytest.raises(Canceled):
        run(start, *args, hooks=cancel_after(0, []), **changes)
    return model_file.prefixed(model_file.load(checkpoint_path_for(start), [model_file.CHECKPOINT])[0], "model")


def one_step(hooks: Hooks = Hooks()) -> nn.Module:
    """A pretraining of one step (16 samples, one batch); the model keeps the step's gradients."""
    return pretrain(toy_patches(16), n_hsi=6, config=TINY, masking_settings=MaskingSettings(),
                    settings=settings(epochs=1), description=DESCRIPTION, hooks=hooks).model


def test_a_batch_size_above_the_samples_is_not_said_to_be_cut_when_all_samples_fit_one_micro_batch(monkeypatch):
    """Red team of 2026-12-04: SAMPLES=100 with BATCH_SIZE=100000 was said to be taken in
    micro-batches of 1,258 samples, though its one batch held 100."""
    cuts = cut_into_micro_batches(monkeypatch)
    one_step()
    most = max(cuts[0])
    lines = []
    pretrain(toy_patches(most), n_hsi=6, config=TINY, masking_settings=MaskingSettings(),
             settings=settings(epochs=1, batch_size=1000), description=DESCRIPTION, hooks=Hooks(log=lines.append))
    assert cuts[-1] == [most]
    assert not any("micro-batches" in line for line in lines)


def test_a_pretraining_step_in_micro_batches_has_the_whole_batch_s_gradient_and_weights(tmp_path, monkeypatch):
    whole = one_step()
    cuts = cut_into_micro_batches(monkeypatch)
    lines = []
    micro = one_step(Hooks(log=lines.append))
    assert len(cuts) == 1 and len(cuts[0]) >= 3 and sum(cuts[0]) == 16
    assert any(line.startswith(f"Batches taken in micro-batches of at most {max(cuts[0])} samples") for line in lines)
    gradients = {name: parameter.grad for name, parameter in whole.named_parameters()}
    largest = max(gradient.abs().max().item() for gradient in gradients.values())
    for name, parameter in micro.named_parameters():
        assert (parameter.grad - gradients[name]).abs().max().item() < GRADIENT_TOLERANCE * largest, name
    assert relative_difference(micro.state_dict(), whole.state_dict(),
                               starting_weights(tmp_path, epochs=1, samples=16)) < TOLERANCE


def test_a_pretraining_in_micro_batches_canceled_and_resumed_is_the_whole_batch_run(tmp_path, micro_batches):
    output = str(tmp_path / "resumed.safetensors")
    with pytest.raises(Canceled):
        run_pretrain(output, hooks=cancel_after(3, []))
    run_pretrain(output, resume=checkpoint_path_for(output))
    assert micro_batches and all(len(cut) >= 3 for cut in micro_batches)
    with pytest.MonkeyPatch.context() as whole_batches:
        whole_batches.setattr(accumulation, "CPU_BUDGET", 2 ** 40)
        reference = str(tmp_path / "reference.safetensors")
        run_pretrain(reference)
    assert relative_difference(weights(output, "pretrained"), weights(reference, "pretrained"),
                               starting_weights(tmp_path)) < TOLERANCE
    assert not os.path.exists(checkpoint_path_for(output))


def test_fine_tuning_in_micro_batches_keeps_the_epoch_and_weights_of_whole_batches(tmp_path, monkeypatch):
    """The CNN branch has no batch statistics (no BatchNorm), so micro-batches change nothing."""
    train, validation = toy_classes(48), toy_classes(12, seed=1)
    whole = run_finetune(str(tmp_path / "whole.safetensors"), train, validation, settings={"epochs": 3})
    cuts = cut_into_micro_batches(monkeypatch, "fine-tuning")
    micro = run_finetune(str(tmp_path / "micro.safetensors"), train, validation, settings={"epochs": 3})
    assert cuts and all(len(cut) >= 2 for cut in cuts)
    assert micro["training"]["best_epoch"] == whole["training"]["best_epoch"]
    assert [h["loss"] for h in micro["training"]["history"]] == pytest.approx(
        [h["loss"] for h in whole["training"]["history"]], rel=1e-5)
    trained = {run: weights(str(tmp_path / f"{run}.safetensors"), "classifier") for run in ("whole", "micro")}
    start = starting_weights(tmp_path, run_finetune, train, validation, settings={"epochs": 3})
    assert relative_difference(trained["micro"], trained["whole"], start) < TOLERANCE
