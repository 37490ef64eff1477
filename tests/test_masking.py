import numpy as np
import pytest
import torch

from model_core.masking import mask_count, mrs_mask, random_spectral_mask, spatial_mask


def grouped_patches(batch: int, seed: int = 0) -> torch.Tensor:
    """Patches (B, 12, 5, 5) whose bands come in three groups of near-identical bands.

    Group A = bands 0-3, B = 4-7, C = 8-11. Band 4 carries a strong share of A's
    signal, so after A itself it is the band most similar to A.
    """
    g = torch.Generator().manual_seed(seed)
    signals = torch.randn(batch, 3, 25, generator=g)
    bands = signals.repeat_interleave(4, dim=1) + 0.01 * torch.randn(batch, 12, 25, generator=g)
    bands[:, 4] = signals[:, 1] + 0.9 * signals[:, 0]
    return bands.view(batch, 12, 5, 5)


def expected_mrs(x: np.ndarray, anchor: int, k: int) -> set:
    """The masked set for one sample (C, P, P) and a known anchor, computed independently."""
    flat = x.reshape(x.shape[0], -1).astype(np.float64)
    sims = flat @ flat[anchor] / (np.linalg.norm(flat, axis=1) * np.linalg.norm(flat[anchor]))
    others = [i for i in sorted(range(len(sims)), key=lambda i: (-sims[i], i)) if i != anchor]
    return {anchor, *others[:k - 1]}


def test_mrs_masks_the_anchor_group_and_then_the_next_most_similar_bands():
    x = grouped_patches(64)
    mask = mrs_mask(x, ratio=5 / 12, generator=torch.Generator().manual_seed(1))
    groups = [set(range(0, 4)), set(range(4, 8)), set(range(8, 12))]
    for sample, row in zip(x.numpy(), mask.numpy()):
        masked = set(np.flatnonzero(row))
        assert len(masked) == 5
        assert any(masked == expected_mrs(sample, anchor, 5) for anchor in masked)
        assert any(group <= masked for group in groups)
        if groups[0] <= masked:
            assert 4 in masked


@pytest.mark.parametrize("bands", [3, 4, 7, 12, 63, 65, 101, 248])
@pytest.mark.parametrize("ratio", [0.01, 0.1, 0.3, 0.5, 0.75, 0.99])
def test_every_spectral_strategy_masks_round_ratio_times_bands(bands, ratio):
    x = torch.randn(6, bands, 3, 3)
    expected = min(max(round(ratio * bands), 1), bands - 1)
    assert mask_count(bands, ratio) == expected
    for strategy in (mrs_mask, random_spectral_mask):
        mask = strategy(x, ratio, torch.Generator().manual_seed(0))
        assert mask.dtype == torch.bool and mask.shape == (6, bands)
        assert mask.sum(dim=1).tolist() == [expected] * 6


def test_spatial_mask_counts_pixel_tokens():
    x = torch.randn(4, 10, 7, 7)
    mask = spatial_mask(x, 0.3, torch.Generator().manual_seed(0))
    assert mask.shape == (4, 49)
    assert mask.sum(dim=1).tolist() == [round(0.3 * 49)] * 4


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, 1.5])
def test_ratios_outside_the_open_interval_are_refused(ratio):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        mrs_mask(torch.randn(2, 8, 3, 3), ratio)


@pytest.mark.parametrize("strategy", [mrs_mask, random_spectral_mask, spatial_mask])
def test_masks_differ_between_samples_of_a_batch(strategy):
    x = torch.randn(32, 40, 5, 5)
    mask = strategy(x, 0.3, torch.Generator().manual_seed(0))
    assert len({tuple(row) for row in mask.tolist()}) > 16


@pytest.mark.parametrize("strategy", [mrs_mask, random_spectral_mask, spatial_mask])
def test_the_same_generator_gives_the_same_masks(strategy):
    x = torch.randn(16, 30, 5, 5)
    first = strategy(x, 0.3, torch.Generator().manual_seed(7))
    second = strategy(x, 0.3, torch.Generator().manual_seed(7))
    other = strategy(x, 0.3, torch.Generator().manual_seed(8))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_mrs_anchor_is_uniform_over_the_bands():
    # Bands that are pairwise orthogonal (each lights one pixel): with k = 1 the
    # mask is exactly the anchor, so the mask counts are the anchor's distribution.
    bands, draws = 8, 16000
    x = torch.zeros(draws, bands, 3, 3)
    x.view(draws, bands, 9)[:, torch.arange(bands), torch.arange(bands)] = 1.0
    mask = mrs_mask(x, 0.1, torch.Generator().manual_seed(3))
    assert mask.sum(dim=1).eq(1).all()
    counts = mask.sum(dim=0).numpy()
    expected = draws / bands
    chi_square = float(((counts - expected) ** 2 / expected).sum())
    assert chi_square < 24.3  # 7 degrees of freedom, p = 0.001


def test_mrs_breaks_ties_by_the_lower_band_index():
    # All bands identical: every band ties with every other one.
    x = torch.ones(200, 6, 3, 3)
    mask = mrs_mask(x, 0.5, torch.Generator().manual_seed(0))
    for row in mask.tolist():
        masked = [i for i, m in enumerate(row) if m]
        assert masked[:2] == [0, 1]
        assert len(masked) == 3
    anchors_seen = {i for row in mask.tolist() for i, m in enumerate(row) if m and i >= 2}
    assert anchors_seen == {2, 3, 4, 5}


def test_mrs_survives_bands_of_zero_norm():
    x = torch.randn(4, 10, 3, 3)
    x[:, 3] = 0.0
    x[0] = 0.0
    mask = mrs_mask(x, 0.3, torch.Generator().manual_seed(0))
    assert mask.sum(dim=1).tolist() == [3] * 4
