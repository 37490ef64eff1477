"""Masking strategies for SS-MAE pretraining, as small pure functions.

Every function returns a boolean mask where True means "masked" (hidden from the
encoder, to be reconstructed). Masks are drawn per sample, never shared by a batch.
Random draws happen on the generator's device (the CPU when no generator is given)
and are then moved to the input's device, so a seeded generator gives the same
masks whatever device the model runs on.
"""

from typing import Optional

import torch

from . import choices
from .mask_ratio import mask_count


def _draw_device(generator: Optional[torch.Generator]) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def _top_k_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Mask the k entries of each row with the highest scores (ties: lower index first)."""
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    mask = torch.zeros_like(scores, dtype=torch.bool)
    return mask.scatter_(1, order[:, :k], True)


def _random_mask(batch: int, n: int, ratio: float, generator: Optional[torch.Generator],
                 device: torch.device) -> torch.Tensor:
    k = mask_count(n, ratio)
    noise = torch.rand(batch, n, generator=generator, device=_draw_device(generator))
    return _top_k_mask(noise, k).to(device)


def random_spectral_mask(x: torch.Tensor, ratio: float,
                         generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """SS-MAE spectral masking: for each sample, a uniformly random set of bands.

    x: (B, C, P, P). Returns a bool mask (B, C) with round(ratio * C) bands masked per row.
    """
    return _random_mask(x.shape[0], x.shape[1], ratio, generator, x.device)


def spatial_mask(x: torch.Tensor, ratio: float,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Spatial masking: for each sample, a uniformly random set of pixel tokens.

    x: (B, C, P, P). Returns a bool mask (B, P * P) in row-major pixel order.
    """
    return _random_mask(x.shape[0], x.shape[2] * x.shape[3], ratio, generator, x.device)


SIMILARITIES = choices.SIMILARITIES
"""How MRS ranks bands against the anchor: the paper's cosine over the raw patch, or the
cosine after centring each band over the patch's pixels (Pearson correlation), which
compares the bands' spatial patterns and ignores their level in this patch."""


def band_cosine_similarity(x: torch.Tensor, anchor: torch.Tensor, similarity: str = "cosine") -> torch.Tensor:
    """Cosine similarity of every band of each sample with that sample's anchor band.

    x: (B, C, P, P); anchor: (B,) band indices. Returns (B, C), computed in float32
    over the P * P pixels ("correlation": each band centred over them first). A band
    of zero norm has similarity 0 with everything.
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"The band similarity must be one of {', '.join(SIMILARITIES)}; got {similarity!r:.40}.")
    bands = x.reshape(x.shape[0], x.shape[1], -1).float()
    if similarity == "correlation":
        bands = bands - bands.mean(dim=2, keepdim=True)
    reference = bands[torch.arange(bands.shape[0], device=bands.device), anchor]
    dots = torch.einsum("bcn,bn->bc", bands, reference)
    norms = bands.norm(dim=2) * reference.norm(dim=1, keepdim=True)
    return dots / norms.clamp_min(torch.finfo(torch.float32).tiny)


def mrs_mask(x: torch.Tensor, ratio: float, generator: Optional[torch.Generator] = None,
             similarity: str = "cosine") -> torch.Tensor:
    """Mining Redundant Spectra: mask a random anchor band and the bands most like it.

    For each sample independently, one anchor band is drawn uniformly at random; the
    cosine similarity of every band with the anchor over the P * P pixels (or, with
    similarity="correlation", their correlation; see SIMILARITIES) ranks the bands, and the anchor plus the most similar bands are masked, k = round(ratio * C)
    in all (1 <= k <= C - 1). Ties are broken by the lower band index.

    x: (B, C, P, P). Returns a bool mask (B, C).
    """
    batch, n_bands = x.shape[:2]
    k = mask_count(n_bands, ratio)
    anchor = torch.randint(n_bands, (batch,), generator=generator,
                           device=_draw_device(generator)).to(x.device)
    scores = band_cosine_similarity(x, anchor, similarity)
    scores[torch.arange(batch, device=x.device), anchor] = float("inf")
    return _top_k_mask(scores, k)


SPECTRAL_MASKS = {"mrs": mrs_mask, "random": random_spectral_mask}
"""The spectral mask of each of `choices.MASKING_STRATEGIES`."""
