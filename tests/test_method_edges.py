"""Edges of the method that a mutation audit of model_core (2026-12-06) found no test pinning: the schedule, the
masks the training draws, the attention, the encoder and decoders, the CNN branch, the position embeddings, the
band similarities, the model settings and the hooks."""

import math

import numpy as np
import pytest
import torch

from model_core import hooks as hooks_module
from model_core.config import PRESETS, ModelConfig
from model_core.hooks import Hooks, Pace
from model_core.masking import band_cosine_similarity, mrs_mask, spatial_mask
from model_core.model import SSMAE, SSMAEClassifier
from model_core.redundancy import band_similarity
from model_core.schedule import Schedule, epoch_generator, make_optimizer, random_flips
from model_core.settings import MaskingSettings, TrainSettings
from model_core.training import MASKING_STRATEGIES, PretrainPhase
from model_core.transformer import Attention, Block, Stack, sincos_1d, sincos_2d
from test_masking import grouped_patches
from test_model import TINY, masks


def test_a_run_of_2000_samples_in_batches_of_128_warms_up_for_a_tenth_of_its_steps_and_reaches_the_base_rate():
    """A mutation audit of 2026-12-06: warm-up is 10 % of the steps, not 5 * batch size (the reference's defect 6)."""
    schedule = Schedule.for_run(2000, TrainSettings(epochs=10, batch_size=128))
    assert (schedule.steps_per_epoch, schedule.total_steps, schedule.warmup, schedule.base) == (16, 160, 16, 1e-4)
    rates = [schedule.rate(step) for step in range(160)]
    assert rates[15] == pytest.approx(1e-4) and max(rates) == pytest.approx(1e-4)
    assert rates.index(max(rates)) in (15, 16)


def test_the_mrs_strategy_the_training_draws_through_its_registry_hides_a_whole_group_of_near_copy_bands():
    """A mutation audit of 2026-12-06: the registry's 'mrs' is mrs_mask, so a pretraining's masks are MRS ones."""
    x = grouped_patches(64)
    spatial, spectral = PretrainPhase(MaskingSettings(spectral_ratio=5 / 12)).draw(x, torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(3)
    assert torch.equal(spatial, spatial_mask(x, 0.3, generator))
    assert torch.equal(spectral, mrs_mask(x, 5 / 12, generator))
    groups = [set(range(0, 4)), set(range(4, 8)), set(range(8, 12))]
    assert all(any(group <= set(np.flatnonzero(row)) for group in groups) for row in spectral.numpy())
    assert MASKING_STRATEGIES["mrs"] is mrs_mask


def test_attention_blocks_and_stacks_give_the_same_output_with_gradients_and_without():
    """A mutation audit of 2026-12-06: both attention paths scale q k^T by 1/sqrt(d) (the fused kernel does)."""
    torch.manual_seed(0)
    x = 3 * torch.randn(3, 9, 16)
    for module in (Attention(16, 2), Block(16, 2, 2.0, gated=True), Stack(16, 2, 2, 2.0, gated=False)):
        with torch.no_grad():
            plain, first = module(x), module(x, slice(0, 1))
        with torch.enable_grad():
            graded, graded_first = module(x), module(x, slice(0, 1))
        assert graded.requires_grad
        assert torch.allclose(plain, graded.detach(), atol=1e-5)
        assert torch.allclose(first, graded_first.detach(), atol=1e-5)
        assert torch.allclose(first, plain[:, :1], atol=1e-5)


def test_with_nothing_masked_the_pretraining_encoder_gives_the_class_tokens_of_the_classifier_s_encoder():
    """A mutation audit of 2026-12-06: both add the spectral branch's band positions to its tokens."""
    torch.manual_seed(0)
    pretrain = SSMAE(TINY, 8, 2).eval()
    classifier = SSMAEClassifier(TINY, 8, 2, 3).eval()
    classifier.encoder.load_state_dict(pretrain.encoder.state_dict())
    x = torch.randn(4, 10, TINY.patch, TINY.patch)
    none_spatial = torch.zeros(4, TINY.patch ** 2, dtype=torch.bool)
    none_spectral = torch.zeros(4, 10, dtype=torch.bool)
    with torch.no_grad():
        spatial, spectral = pretrain.encode_visible(x, none_spatial, none_spectral)
        spatial_cls, spectral_cls = classifier.encoder(x)
    assert spatial.shape == (4, 1 + TINY.patch ** 2, TINY.dim) and spectral.shape == (4, 11, TINY.dim)
    assert torch.allclose(spatial[:, 0], spatial_cls, atol=1e-5)
    assert torch.allclose(spectral[:, 0], spectral_cls, atol=1e-5)


def test_the_decoders_reconstruct_each_masked_band_and_pixel_of_a_sample_differently():
    """A mutation audit of 2026-12-06: the mask tokens get their slot's position, so masked slots differ."""
    torch.manual_seed(0)
    model = SSMAE(TINY, 12, 2).eval()
    x = torch.randn(2, 14, TINY.patch, TINY.patch)
    spatial_masks, spectral_masks = masks(x)
    with torch.no_grad():
        spatial, spectral = model.reconstruct(x, spatial_masks, spectral_masks)
    bands = spectral[0][spectral_masks[0]].flatten(1)
    pixels = spatial[0].flatten(1).T[spatial_masks[0]]
    assert len(bands) == 4 and len(pixels) == round(0.3 * TINY.patch ** 2)
    assert len(torch.unique(bands, dim=0)) == len(bands)
    assert len(torch.unique(pixels, dim=0)) == len(pixels)


def test_the_cnn_branch_centres_on_the_pca_mean_applies_its_gelus_and_maps_a_patch_to_one_value_of_all_its_pixels():
    """A mutation audit of 2026-12-06: the CNN branch is its layers as declared, over a patch's every pixel."""
    torch.manual_seed(0)
    classifier = SSMAEClassifier(TINY, 8, 2, 3).eval()
    classifier.set_pca(torch.linspace(-1.0, 2.0, 8), torch.randn(6, 8))
    x = torch.randn(3, 10, TINY.patch, TINY.patch)
    with torch.no_grad():
        features = classifier.cnn_features(x)
        pca = ((x[:, :8].permute(0, 2, 3, 1) - classifier.pca_mean) @ classifier.pca_components.T)
        maps = classifier.hsi_cnn.convs(pca.permute(0, 3, 1, 2).unsqueeze(1))
        expected = classifier.hsi_cnn.project(maps.flatten(1, 2)) + classifier.aux_cnn.convs(x[:, 8:])
    assert features.shape == expected.shape == (3, TINY.dim, 1, 1)
    assert torch.allclose(features, expected, atol=1e-5)
    assert [type(m).__name__ for m in classifier.aux_cnn.convs] == ["Conv2d", "GELU", "Conv2d"]
    paper = SSMAEClassifier(PRESETS["paper"], 8, 2, 3)
    assert sum(type(m).__name__ == "Conv2d" for m in paper.aux_cnn.convs) == 3  # the reference's 3 conv3x3 layers
    patch = x[:1].clone().requires_grad_(True)
    classifier.cnn_features(patch)[:, :, 0, 0].sum().backward()
    assert bool((patch.grad[0].abs().sum(dim=0) > 0).all())


def test_the_2d_position_embedding_of_a_7x7_patch_gives_every_pixel_its_own_row():
    """A mutation audit of 2026-12-06: sincos_2d embeds rows, then columns; no two of the 49 pixels share a row."""
    embedding = sincos_2d(7, 32)
    assert embedding.shape == (49, 32)
    assert len(torch.unique(embedding, dim=0)) == 49
    assert torch.equal(embedding[8, :16], sincos_1d(torch.tensor([1]), 16)[0])
    assert torch.equal(embedding[8, 16:], sincos_1d(torch.tensor([1]), 16)[0])
    assert torch.equal(embedding[9, 16:], sincos_1d(torch.tensor([2]), 16)[0])


def test_the_1d_position_embedding_is_the_sines_then_the_cosines_of_position_over_10000_to_the_i_over_half_the_width():
    """A mutation audit of 2026-12-06: sincos_1d(p, 8) is sin(p w_i), cos(p w_i) with w_i = 10000 ** (-i / 4)."""
    embedding = sincos_1d(torch.tensor([0, 1, 5]), 8)
    assert embedding[0].tolist() == [0.0] * 4 + [1.0] * 4
    expected = [f(p * 10000 ** (-i / 4)) for p in (1, 5) for f in (math.sin, math.cos) for i in range(4)]
    assert embedding[1:].flatten().tolist() == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert embedding[2, 1].item() == pytest.approx(math.sin(0.5), rel=1e-6)


def test_a_band_of_zeros_has_a_finite_similarity_of_zero_and_is_masked_rarely():
    """A mutation audit of 2026-12-06: a zero band gives no NaN, and MRS masks it about only when it is the anchor."""
    x = torch.rand(600, 12, 3, 3) + 0.1
    x[:, 5] = 0.0
    for anchor in (0, 5):
        scores = band_cosine_similarity(x, torch.full((600,), anchor))
        assert bool(torch.isfinite(scores).all())
        assert scores[:, 5].abs().max().item() == 0.0
    assert scores.abs().max().item() == 0.0
    mask = mrs_mask(x, 0.25, torch.Generator().manual_seed(0))
    assert mask.sum(dim=1).tolist() == [3] * 600
    assert 0.03 < mask[:, 5].float().mean().item() < 0.15  # 1 / 12 as anchor


def test_mrs_gives_ties_to_the_lower_band_index_among_64_identical_bands():
    """A mutation audit of 2026-12-06: with every band alike, the anchor and the lowest other indices are masked."""
    x = torch.randn(8, 1, 5, 5).expand(8, 64, 5, 5).contiguous()
    generator = torch.Generator().manual_seed(2)
    mask = mrs_mask(x, 0.25, generator)
    anchors = torch.randint(64, (8,), generator=torch.Generator().manual_seed(2))
    for row, anchor in zip(mask, anchors.tolist()):
        assert set(np.flatnonzero(row.numpy())) == {anchor, *[b for b in range(64) if b != anchor][:15]}


def test_band_similarity_has_a_diagonal_of_exactly_one_also_for_a_band_of_zeros():
    """A mutation audit of 2026-12-06: each band is fully similar to itself, a band of zeros too."""
    pixels = np.random.default_rng(0).normal(size=(200, 6))
    pixels[:, 2] = 0.0
    similarity = band_similarity(pixels)
    assert np.diag(similarity).tolist() == [1.0] * 6
    assert similarity[2, [0, 1, 3, 4, 5]].tolist() == [0.0] * 5


def test_epoch_generators_of_seed_0_epoch_1_and_seed_1_epoch_0_draw_differently():
    """A mutation audit of 2026-12-06: a seed's epochs never repeat another seed's."""
    first = torch.randperm(20, generator=epoch_generator(0, 1))
    assert not torch.equal(first, torch.randperm(20, generator=epoch_generator(1, 0)))
    assert torch.equal(first, torch.randperm(20, generator=epoch_generator(0, 1)))


def test_random_flips_turn_half_the_patches_left_right_half_up_down_and_a_quarter_both_ways():
    """A mutation audit of 2026-12-06: the two flips are drawn each with probability 1/2, independently."""
    x = torch.arange(4.0).view(1, 1, 2, 2).expand(4000, 3, 2, 2)
    flipped = random_flips(x, torch.Generator().manual_seed(0))[:, 0].flatten(1)
    left_right = flipped[:, 0] % 2 == 1
    up_down = flipped[:, 0] >= 2
    assert bool((flipped[:, 0] + flipped[:, 3] == 3).all())
    for share, expected in ((left_right, 0.5), (up_down, 0.5), (left_right & up_down, 0.25)):
        assert share.float().mean().item() == pytest.approx(expected, abs=0.03)


def test_adamw_uses_the_reference_s_betas_of_0_9_and_0_95():
    """A mutation audit of 2026-12-06: the optimiser's betas are the reference's (0.9, 0.95)."""
    optimizer = make_optimizer(torch.nn.Linear(3, 2), TrainSettings())
    assert [group["betas"] for group in optimizer.param_groups] == [(0.9, 0.95)] * 2


@pytest.mark.parametrize("changes,message", [
    ({"patch": 6}, "odd"),
    ({"dim": 30}, "multiple of 4"),
    ({"decoder_dim": 30, "decoder_heads": 2}, "multiple of 4"),
    ({"dim": 36, "heads": 8}, "multiple of its number of heads"),
    ({"depth": True}, "whole number"),
    ({"mlp_ratio": True}, "a number"),
])
def test_model_settings_an_even_patch_widths_the_embeddings_or_heads_cannot_split_and_booleans_are_refused(
        changes, message):
    """A mutation audit of 2026-12-06: ModelConfig raises ValueError for these settings."""
    with pytest.raises(ValueError, match=message):
        ModelConfig(**changes)


def test_the_paper_preset_has_the_reference_s_architecture():
    """A mutation audit of 2026-12-06: dim 256, depth 2, 8 heads, MLP ratio 4, patch 7, decoders 256 x 2, PCA 30."""
    paper = PRESETS["paper"]
    assert (paper.dim, paper.depth, paper.heads, paper.mlp_ratio, paper.patch) == (256, 2, 8, 4.0, 7)
    assert (paper.decoder_dim, paper.decoder_depth, paper.pca_components) == (256, 2, 30)
    assert (paper.fusion, paper.readout) == ("sum", "class_token")


def test_sub_hooks_map_what_an_earlier_run_did_into_the_parent_range():
    """A mutation audit of 2026-12-06: Hooks.sub maps `resumed` as it maps `progress`."""
    seen = []
    sub = Hooks(resumed=seen.append).sub(0.5, 0.75)
    sub.resumed(0.5)
    sub.resumed(2.0)
    assert seen == [0.625, 0.75]


def test_the_pace_says_nothing_when_the_work_is_done(monkeypatch):
    """A mutation audit of 2026-12-06: no 'about 0 s left' line at 100 %."""
    now = [0.0]
    monkeypatch.setattr(hooks_module, "clock", lambda: now[0])
    lines = []
    pace = Pace("Classification")
    now[0] = 60.0
    pace.tick(1.0, Hooks(log=lines.append))
    assert lines == []
    pace = Pace("Classification")
    now[0] = 120.0
    pace.tick(0.5, Hooks(log=lines.append))
    assert lines == ["Classification: about 1 min 00 s left at the pace so far (50 % of the pixels in 1 min 00 s)."]
