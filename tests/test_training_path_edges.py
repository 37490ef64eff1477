"""Edges of the training path that no test pinned, found by a mutation audit of 2026-12-06: the fill codes, clipping,
far-below bands, stored statistics and PCA of `preprocessing`; the labels in a fine-tuning's sample fingerprint; the
masks a pretraining draws; class-weighted micro-batches; the epoch kept and the model returned; the flips, gradient
reset, clipping, freezing and time left of the loop; and a run's final loss, divergence warnings and class weights."""

import types

import numpy as np
import pytest
import torch
from torch import nn
from test_pretraining_options import Snapshots
from test_training import (CLASSES, DESCRIPTION, PCA, TINY, cancel_after, run_finetune, run_pretrain, settings,
                           toy_classes)

from model_core import loop, masking, preprocessing, training
from model_core.errors import Canceled, ModelFileError
from model_core.hooks import Hooks
from model_core.metrics import accuracy
from model_core.model import SSMAEClassifier
from model_core.names import Names
from model_core.phases import FinetunePhase, PretrainPhase, balanced_class_weights, predict_logits
from model_core.preprocessing import Normalizer, fill_values, fit_pca
from model_core.training import MaskingSettings, TensorSamples, checkpoint_path_for, finetune, run_training


# ---- preprocessing


def test_a_band_of_nothing_but_a_fill_code_is_found_to_hold_it():
    assert fill_values(np.full((1000, 1), -9999.0)) == {0: -9999.0}


def test_of_two_large_negative_levels_the_lowest_is_the_fill_code_judged_against_the_other():
    """-1000 (1 %) is a clipped level among values of 0 to 3000, -32768 (1 %) the fill code: judged by -1000, nothing
    would be found."""
    column = np.random.default_rng(0).uniform(0, 3000, 1000)
    column[:10], column[10:20] = -1000.0, -32768.0
    assert fill_values(column[:, None]) == {0: -32768.0}


def test_normalising_clips_values_far_below_the_centre_as_well_as_above():
    normalised = Normalizer(np.zeros(1), np.ones(1)).apply_pixels(np.array([[-100.0], [100.0]]))
    assert normalised.ravel().tolist() == [-5.0, 5.0]


def test_a_band_shifted_far_below_its_statistics_is_clipped_as_one_shifted_far_above_is():
    trained = np.random.default_rng(0).normal(100, 10, (2000, 2))
    normalizer = Normalizer.fit(trained)
    assert normalizer.clipped_bands(trained - [1000, 0]).tolist() == [0]
    assert normalizer.clipped_bands(trained + [0, 1000]).tolist() == [1]


@pytest.mark.parametrize("center,scale", [([0.0, 0.0], [1.0, 0.0]), ([0.0, 0.0], [1.0, -2.0]),
                                          ([0.0, 0.0], [2.0]), ([0.0], [2.0, 2.0])])
def test_stored_statistics_with_a_scale_not_above_zero_or_of_another_length_are_refused(center, scale):
    with pytest.raises(ValueError, match=r"^The normalisation statistics are inconsistent\.$"):
        Normalizer.from_dict({"method": preprocessing.METHOD, "center": center, "scale": scale})


PCA_OFFSET = np.array([0.0, 0.0, 100.0])
PCA_PIXELS = PCA_OFFSET + np.array([[3.0, 0, 0], [-3.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0], [0, 0, 0.1], [0, 0, -0.1]])
"""Variances 18, 2 and 0.02 (/ 5) along the bands, about a mean of 100 in the third band."""


def test_the_pca_takes_the_centred_pixels_leading_axes_in_the_order_of_their_variance():
    mean, axes = fit_pca(PCA_PIXELS, 2)
    np.testing.assert_allclose(mean, PCA_OFFSET, rtol=0, atol=1e-12)
    np.testing.assert_allclose(axes, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], rtol=0, atol=1e-12)


def test_the_pca_signs_each_axis_so_that_its_largest_loading_is_positive_whatever_the_solver_returns(monkeypatch):
    solve = np.linalg.eigh
    monkeypatch.setattr(np.linalg, "eigh", lambda matrix: (lambda values, vectors: (values, -vectors))(*solve(matrix)))
    _mean, axes = fit_pca(PCA_PIXELS, 3)
    np.testing.assert_allclose(axes, np.eye(3), rtol=0, atol=1e-12)


# ---- samples, phases


def test_a_fine_tuning_checkpoint_does_not_resume_a_run_of_the_same_patches_with_other_labels(tmp_path):
    output = str(tmp_path / "c.safetensors")
    x, y = toy_classes(48)
    with pytest.raises(Canceled):
        run_finetune(output, (x, y), (None, None), hooks=cancel_after(2, []))
    with pytest.raises(ModelFileError, match=r"does not continue this run: its training samples differ from this "
                                             r"run's \("):
        run_finetune(output, (x, (y + 1) % 3), (None, None), resume_path=checkpoint_path_for(output))


BANDS_OF_OTHER_LEVELS = (torch.randn(4, 8, 7, 7, generator=torch.Generator().manual_seed(0))
                         + torch.arange(8.0)[None, :, None, None] * 3)
"""Bands whose levels differ: cosine and correlation rank them differently."""


def test_the_pretraining_s_spectral_mask_ranks_bands_by_the_similarity_asked_for():
    def drawn(similarity: str) -> torch.Tensor:
        phase = PretrainPhase(MaskingSettings(similarity=similarity, spatial_ratio=0.5, spectral_ratio=0.25))
        return phase.draw(BANDS_OF_OTHER_LEVELS, torch.Generator().manual_seed(1))[1]

    for similarity in ("cosine", "correlation"):
        generator = torch.Generator().manual_seed(1)
        masking.spatial_mask(BANDS_OF_OTHER_LEVELS, 0.5, generator)
        expected = masking.mrs_mask(BANDS_OF_OTHER_LEVELS, 0.25, generator, similarity=similarity)
        assert torch.equal(drawn(similarity), expected), similarity
    assert not torch.equal(drawn("cosine"), drawn("correlation"))


def test_the_pretraining_s_spatial_mask_hides_the_spatial_ratio_of_the_pixels_not_the_spectral_one():
    phase = PretrainPhase(MaskingSettings(spatial_ratio=0.5, spectral_ratio=0.25))
    spatial, spectral = phase.draw(BANDS_OF_OTHER_LEVELS, torch.Generator().manual_seed(1))
    assert spatial.reshape(4, -1).sum(1).tolist() == [masking.mask_count(49, 0.5)] * 4 == [24] * 4
    assert spectral.sum(1).tolist() == [masking.mask_count(8, 0.25)] * 4


def test_micro_batches_of_unequal_class_weights_add_up_to_the_whole_batch_s_loss():
    y = torch.tensor([0] * 10 + [1] * 4 + [2] * 2)
    logits = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    phase = FinetunePhase(balanced_class_weights(y.numpy(), 3), None, 16, torch.device("cpu"))
    whole = float(phase.loss(nn.Identity(), logits, y, None))
    parts = [float(phase.loss(nn.Identity(), logits, y, None, slice(start, start + 4))) for start in range(0, 16, 4)]
    assert sum(parts) == pytest.approx(whole, rel=1e-6)
    assert whole == pytest.approx(float(nn.functional.cross_entropy(logits, y, weight=phase.class_weights)), rel=1e-6)


# ---- the epoch kept and the model returned


@pytest.fixture(scope="module")
def overshooting():
    """A fine-tuning at a high rate whose validation accuracy peaks at epoch 4 of 6 (0.833), its validation loss
    lowest at epoch 3, on noisy validation patches of which 6 are mislabelled; with the validation patches."""
    x, y = toy_classes(48, seed=1)
    vx, vy = toy_classes(30, seed=2)
    vx = vx + np.random.default_rng(5).normal(scale=4.0, size=vx.shape).astype(np.float32)
    vy = vy.copy()
    vy[:6] = (vy[:6] + 1) % 3
    trained = finetune(x, y, vx, vy, n_hsi=6, config=TINY, classes=CLASSES, pca=PCA,
                       settings=settings(epochs=6, lr=3e-1), description=DESCRIPTION)
    return trained, (vx, vy)


def test_the_epoch_kept_is_the_one_of_the_best_validation_accuracy_not_the_lowest_validation_loss(overshooting):
    training_meta = overshooting[0].metadata["training"]
    history = training_meta["history"]
    scores, losses = [h["val_accuracy"] for h in history], [h["val_loss"] for h in history]
    best = max(i + 1 for i, score in enumerate(scores) if score == max(scores))
    assert best != losses.index(min(losses)) + 1  # the two disagree on this run
    assert training_meta["best_epoch"] == best == 4
    assert training_meta["val_accuracy"] == max(scores)


def test_the_model_returned_is_the_kept_epoch_s_not_the_last_one_s(overshooting):
    trained, (vx, vy) = overshooting
    training_meta = trained.metadata["training"]
    assert training_meta["best_epoch"] < len(training_meta["history"])
    logits = predict_logits(trained.model, torch.from_numpy(vx), training.VALIDATION_BATCH, torch.device("cpu"))
    assert accuracy(vy, logits.argmax(1).numpy(), 3).overall == training_meta["val_accuracy"]
    assert training_meta["val_accuracy"] != training_meta["history"][-1]["val_accuracy"]


# ---- the loop


def counting_clock(step: float = 10.0) -> types.SimpleNamespace:
    """The loop's `time`, its perf_counter advancing `step` seconds a call."""
    now = [0.0]

    def perf_counter() -> float:
        now[0] += step
        return now[0]

    return types.SimpleNamespace(perf_counter=perf_counter, monotonic=loop.time.monotonic)


@pytest.fixture(scope="module")
def unflipped(tmp_path_factory):
    """A pretraining of 3 epochs of 4 batches without flips, on a clock of 10 s a reading: (its metadata, its log
    lines, how many times it called `random_flips`)."""
    calls, lines = [], []
    flips = loop.random_flips
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "random_flips", lambda x, generator: (calls.append(1), flips(x, generator))[1])
        patch.setattr(loop, "time", counting_clock())
        meta = run_pretrain(str(tmp_path_factory.mktemp("unflipped") / "p.safetensors"), hooks=Hooks(log=lines.append),
                            flips=False)
    return meta, lines, calls


def test_a_training_without_flips_never_flips_and_one_with_them_flips_each_batch(unflipped, tmp_path, monkeypatch):
    assert unflipped[2] == []
    calls, flips = [], loop.random_flips
    monkeypatch.setattr(loop, "random_flips", lambda x, generator: (calls.append(1), flips(x, generator))[1])
    run_pretrain(str(tmp_path / "flipped.safetensors"), samples=32, epochs=1)
    assert len(calls) == 2


def test_the_last_epoch_s_line_says_no_time_is_left(unflipped):
    epochs = [line for line in unflipped[1] if line.startswith("Pretraining epoch ")]
    assert len(epochs) == 3
    assert epochs[-1].endswith(", 0 s left") and not epochs[1].endswith(", 0 s left")


def test_a_pretraining_s_final_loss_is_its_last_epoch_s(unflipped):
    training_meta = unflipped[0]["training"]
    assert training_meta["final_loss"] == training_meta["history"][-1]["loss"] != training_meta["history"][0]["loss"]


class GradientsAtEachStep(FinetunePhase):
    """Fine-tuning that records, as each step's first micro-batch starts, whether the model holds no gradient."""

    def __init__(self) -> None:
        super().__init__(None, None, 64, torch.device("cpu"))
        self.cleared = []

    def loss(self, model, x, y, draws, share=slice(None)):
        if not share.start:
            self.cleared.append(all(parameter.grad is None for parameter in model.parameters()))
        return super().loss(model, x, y, draws, share)


def tiny_classifier() -> nn.Module:
    torch.manual_seed(0)
    return SSMAEClassifier(TINY, 6, 1, 3)


def test_each_step_starts_from_no_gradient_rather_than_the_last_step_s():
    x, y = toy_classes(16)
    phase = GradientsAtEachStep()
    run_training(tiny_classifier(), phase, TensorSamples(torch.from_numpy(x), torch.from_numpy(y)),
                 settings(epochs=2, batch_size=8), Hooks(), {})
    assert set(phase.cleared) == {True} and len(phase.cleared) >= 4  # 4 steps, and the probe's passes


def test_the_gradients_are_clipped_once_a_step_to_the_clip_norm_and_not_at_all_without_one(monkeypatch):
    clipped, clip = [], nn.utils.clip_grad_norm_
    model = tiny_classifier()

    def recording(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        clipped.append((len(parameters), max_norm))
        return clip(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(nn.utils, "clip_grad_norm_", recording)
    x, y = toy_classes(16)
    samples = TensorSamples(torch.from_numpy(x), torch.from_numpy(y))
    run_training(model, FinetunePhase(None, None, 64, torch.device("cpu")), samples,
                 settings(epochs=2, batch_size=8, clip_norm=0.5), Hooks(), {})
    assert clipped == [(len(list(model.parameters())), 0.5)] * 4
    clipped.clear()
    run_training(model, FinetunePhase(None, None, 64, torch.device("cpu")), samples,
                 settings(epochs=2, batch_size=8, clip_norm=0.0), Hooks(), {})
    assert clipped == []


def test_an_encoder_frozen_for_one_epoch_learns_from_the_first_step_of_the_next():
    """One step an epoch: the encoder stays put through epoch 1 and has moved after the one step of epoch 2."""
    x, y = toy_classes(8)
    model = tiny_classifier()
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    phase = Snapshots()
    run_training(model, phase, TensorSamples(torch.from_numpy(x), torch.from_numpy(y)),
                 settings(epochs=2, batch_size=8, lr=3e-3, freeze_encoder_epochs=1), Hooks(), {})
    encoder = [k for k in start if k.startswith("encoder.") and start[k].is_floating_point()]
    assert all(torch.equal(phase.states[0][k], start[k]) for k in encoder)
    assert any(not torch.equal(phase.states[1][k], start[k]) for k in encoder)


# ---- a run's warnings and class weights


DIVERGING = [{"loss": 5.0}, {"loss": 50.0}, {"loss": 60.0}]
"""A pretraining's losses that diverge after a sound first epoch."""


def test_a_pretraining_that_diverges_after_its_first_epoch_is_warned_of():
    said = []
    training._say_if_pretraining_diverged(DIVERGING, True, Names(learning_rate="LEARNING_RATE"),
                                          Hooks(warn=said.append))
    assert said == ["The lowest pretraining loss of the epochs after the first (50) is more than 5 times a blind "
                    "guess's (2: every hidden value its token's mean): the training diverged, and a classifier "
                    "fine-tuned from this model will be worse than one trained without it. Lower LEARNING_RATE, and "
                    "pretrain again."]


def test_a_pretraining_without_normalised_targets_is_not_judged_diverged_as_it_has_no_blind_guess():
    said = []
    training._say_if_pretraining_diverged(DIVERGING, False, Names(), Hooks(warn=said.append))
    assert said == []


def test_a_fine_tuning_without_class_weighting_weighs_every_class_alike(monkeypatch):
    made = []

    class Recorded(FinetunePhase):
        def __init__(self, class_weights, *args):
            made.append(class_weights)
            super().__init__(class_weights, *args)

    monkeypatch.setattr(training, "FinetunePhase", Recorded)
    x, y = toy_classes(7)  # classes 0, 1, 2 held by 3, 2 and 2 samples
    for weighting in (False, True):
        finetune(x, y, None, None, n_hsi=6, config=TINY, classes=CLASSES, pca=PCA, settings=settings(epochs=1),
                 description=DESCRIPTION, class_weighting=weighting)
    assert made[0] is None
    assert made[1].tolist() == pytest.approx([7 / 9, 7 / 6, 7 / 6], rel=1e-6)
