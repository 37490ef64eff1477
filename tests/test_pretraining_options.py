"""Options beyond the paper, each off by default: normalised reconstruction targets, the
similarity MRS ranks bands by, a classifier without the CNN branch, a frozen-then-unfrozen
encoder during fine-tuning."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from model_core import masking
from model_core.config import PRESETS, ModelConfig
from model_core.errors import InputError
from model_core.loading import load_classifier
from model_core.model import SSMAE, SSMAEClassifier, band_tokens, masked_mse, normalized_tokens, pixel_tokens
from model_core.transformer import rows_where
from model_core.training import (FinetunePhase, MaskingSettings, TensorSamples, TrainSettings, finetune,
                                 run_training)
from model_core.hooks import Hooks

TINY = PRESETS["tiny"]


def test_normalised_tokens_have_zero_mean_and_unit_variance_each():
    tokens = torch.randn(3, 5, 11) * torch.arange(1, 6).view(1, 5, 1) + 7
    normalised = normalized_tokens(tokens)
    assert torch.allclose(normalised.mean(-1), torch.zeros(3, 5), atol=1e-5)
    assert torch.allclose(normalised.var(-1, unbiased=False), torch.ones(3, 5), atol=1e-3)


def test_normalised_targets_change_the_loss_to_the_error_on_normalised_tokens():
    torch.manual_seed(0)
    x = torch.randn(4, 7, TINY.patch, TINY.patch) * 3 + 1
    spatial = masking.spatial_mask(x, 0.4, torch.Generator().manual_seed(1))
    spectral = masking.random_spectral_mask(x, 0.4, torch.Generator().manual_seed(2))
    plain = SSMAE(TINY, 6, 1)
    normalised = SSMAE(TINY, 6, 1, normalized_targets=True)
    normalised.load_state_dict(plain.state_dict())
    with torch.no_grad():
        spatial_out, spectral_out = plain.reconstruct(x, spatial, spectral)
        expected = (masked_mse(rows_where(spatial_out.flatten(2).transpose(1, 2), spatial),
                               normalized_tokens(pixel_tokens(x)), spatial)
                    + masked_mse(rows_where(spectral_out.flatten(2), spectral),
                                 normalized_tokens(band_tokens(x)), spectral))
        assert float(normalised(x, spatial, spectral).total) == pytest.approx(float(expected), rel=1e-5)
        assert float(plain(x, spatial, spectral).total) != pytest.approx(float(expected), rel=1e-2)


def test_correlation_ignores_a_band_level_that_cosine_sees():
    rng = np.random.default_rng(0)
    pattern = rng.normal(size=(5, 5))
    x = np.stack([pattern,                        # anchor
                  pattern + 10.0,                 # same pattern, other level: correlation 1
                  rng.normal(size=(5, 5)) + 1.0,  # unrelated pattern
                  pattern * 0.5 + 0.2])
    x = torch.tensor(x[None], dtype=torch.float32)
    anchor = torch.zeros(1, dtype=torch.long)
    cosine = masking.band_cosine_similarity(x, anchor, "cosine")[0]
    correlation = masking.band_cosine_similarity(x, anchor, "correlation")[0]
    assert correlation[1] == pytest.approx(1.0, abs=1e-5) and correlation[3] == pytest.approx(1.0, abs=1e-5)
    assert cosine[1] < 0.5 < correlation[1]
    assert abs(float(correlation[2])) < 0.6


def test_mrs_masks_the_anchor_and_its_correlated_bands_with_the_correlation_similarity():
    torch.manual_seed(3)
    base = torch.randn(1, 1, 5, 5)
    # Bands 0-3 share one spatial pattern at different levels; 4-7 are unrelated.
    x = torch.cat([base + level for level in (0.0, 5.0, -5.0, 9.0)] + [torch.randn(1, 4, 5, 5)], dim=1)
    for seed in range(20):
        generator = torch.Generator().manual_seed(seed)
        mask = masking.mrs_mask(x, 0.5, generator, similarity="correlation")[0]
        anchor = int(torch.randint(8, (1,), generator=torch.Generator().manual_seed(seed)))
        if anchor < 4:
            assert mask[:4].all() and not mask[4:].any()


def test_an_unknown_similarity_is_refused():
    with pytest.raises(ValueError, match="similarity"):
        masking.mrs_mask(torch.randn(2, 6, 5, 5), 0.3, similarity="euclid")
    with pytest.raises(InputError, match="similarity"):
        MaskingSettings(similarity="euclid").validate()


def test_a_classifier_without_the_cnn_branch_has_none_and_sums_the_class_tokens():
    config = replace(TINY, fusion="no_cnn")
    torch.manual_seed(0)
    model = SSMAEClassifier(config, 6, 1, 3).eval()
    assert not any(name.startswith(("hsi_cnn", "aux_cnn")) for name in model.state_dict())
    x = torch.randn(4, 7, config.patch, config.patch)
    with torch.no_grad():
        spatial, spectral = model.encoder(x)
        assert torch.allclose(model(x), model.head(spatial + spectral), atol=1e-5)
    with_cnn = SSMAEClassifier(TINY, 6, 1, 3)
    assert any(name.startswith("hsi_cnn") for name in with_cnn.state_dict())


@pytest.mark.parametrize("name,wrong,papers", [("fusion", "concat", "sum"), ("readout", "max", "class_token")])
def test_the_fusion_and_readout_settings_are_checked_and_older_settings_without_them_mean_the_papers(
        name, wrong, papers):
    with pytest.raises(ValueError, match=f"{name} must be one of {papers}, "):
        replace(TINY, **{name: wrong})
    older = TINY.to_dict()
    del older[name]
    assert getattr(ModelConfig.from_dict(older), name) == papers
    with pytest.raises(ValueError, match="Missing model settings: dim"):
        ModelConfig.from_dict({k: v for k, v in older.items() if k != "dim"})


def test_the_pixel_mean_readout_classifies_the_mean_of_the_spatial_pixel_tokens():
    config = replace(TINY, readout="pixel_mean")
    torch.manual_seed(0)
    model = SSMAEClassifier(config, 6, 1, 3).eval()
    paper = SSMAEClassifier(TINY, 6, 1, 3).eval()
    paper.load_state_dict(model.state_dict())
    x = torch.randn(4, 7, config.patch, config.patch)
    with torch.no_grad():
        spatial = model.encoder.spatial
        tokens = spatial.encode(spatial.embed(pixel_tokens(x)) + spatial.pos)
        spectral_cls = model.encoder(x)[1]
        cnn = model.cnn_features(x)[:, :, 0, 0]
        assert torch.allclose(model(x), model.head(tokens[:, 1:].mean(1) + spectral_cls + cnn), atol=1e-5)
        assert torch.allclose(paper(x), paper.head(tokens[:, 0] + spectral_cls + cnn), atol=1e-5)
        assert not torch.allclose(model(x), paper(x), atol=1e-3)


def toy_classes(count: int, seed: int = 0):
    profiles = np.random.default_rng(123).normal(size=(3, 7))
    labels = np.arange(count) % 3
    patches = profiles[labels][:, :, None, None] + 0.3 * np.random.default_rng(seed).normal(size=(count, 7, 5, 5))
    return torch.tensor(patches, dtype=torch.float32), torch.tensor(labels)


DESCRIPTION = {"preset": "tiny", "hsi_layer": "hsi", "aux_layers": ["dsm"],
               "band_names": [f"b{i}" for i in range(7)], "wavelengths": None,
               "normalization": {"method": "median/p2-p98", "clip": 5.0, "center": [0.0] * 7, "scale": [1.0] * 7}}
CLASSES = [{"value": v, "name": f"class {v}", "color": "#112233"} for v in (1, 2, 3)]


@pytest.mark.parametrize("fusion,readout", [("no_cnn", "class_token"), ("sum", "pixel_mean")])
def test_a_model_without_the_cnn_branch_or_reading_the_pixel_mean_trains_saves_and_loads(tmp_path, fusion, readout):
    x, y = toy_classes(60)
    output = str(tmp_path / "classifier.safetensors")
    finetune(x, y, None, None, n_hsi=6, config=replace(TINY, fusion=fusion, readout=readout), classes=CLASSES,
             pca=(np.zeros(6), np.eye(6)), description=DESCRIPTION,
             settings=TrainSettings(epochs=6, batch_size=16, lr=3e-3, device="cpu", precision="fp32")).write(output)
    loaded = load_classifier(output, 6, 1)
    assert (loaded.model.config.fusion, loaded.model.config.readout) == (fusion, readout)
    test_x, test_y = toy_classes(30, seed=1)
    with torch.no_grad():
        assert (loaded.model(test_x).argmax(1) == test_y).float().mean() >= 0.9


class Snapshots(FinetunePhase):
    """Fine-tuning that records the weights after every epoch."""

    def __init__(self) -> None:
        super().__init__(None, None, 64, torch.device("cpu"))
        self.states = []

    def validate(self, model):
        self.states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return None


def test_a_frozen_encoder_stays_put_for_its_epochs_while_the_rest_learns():
    x, y = toy_classes(32)
    torch.manual_seed(0)
    model = SSMAEClassifier(TINY, 6, 1, 3)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    phase = Snapshots()
    settings = TrainSettings(epochs=3, batch_size=8, lr=3e-3, freeze_encoder_epochs=2, device="cpu", precision="fp32")
    run_training(model, phase, TensorSamples(x, y), settings, Hooks(), {})
    encoder = [k for k in start if k.startswith("encoder.") and start[k].is_floating_point()]
    for state in phase.states[:2]:
        assert all(torch.equal(state[k], start[k]) for k in encoder)
        assert not torch.equal(state["head.1.weight"], start["head.1.weight"])
    assert any(not torch.equal(phase.states[2][k], start[k]) for k in encoder)


@pytest.mark.parametrize("epochs", [3, 4, -1])
def test_freezing_the_encoder_for_every_epoch_or_fewer_than_none_is_refused(epochs):
    with pytest.raises(InputError, match="frozen"):
        TrainSettings(epochs=3, freeze_encoder_epochs=epochs).validate()
