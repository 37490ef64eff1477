"""Band-to-band redundancy of a scene: what Mining Redundant Spectra exploits.

The similarity is the cosine similarity of two bands' values normalised as the model
sees them (each band centred on its median and scaled by its 2-98 % range), here taken
over a sample of pixels of the whole scene instead of one patch.
"""

from typing import List

import numpy as np

from .masking import mask_count


ROUNDING = 1e-9
"""How far below the threshold a similarity may lie and count as reaching it: a band and its exact
copy came out 0.9999999999999998 and stood apart at a threshold of 1 (red team of 2026-12-04)."""


def _similar(similarity: np.ndarray, threshold: float) -> np.ndarray:
    return similarity >= threshold - ROUNDING


def band_similarity(pixels: np.ndarray) -> np.ndarray:
    """Cosine similarity (C, C) between the bands of normalised pixels (m, C)."""
    values = pixels.astype(np.float64)
    norms = np.linalg.norm(values, axis=0)
    similarity = (values.T @ values) / np.maximum(np.outer(norms, norms), np.finfo(np.float64).tiny)
    np.fill_diagonal(similarity, 1.0)
    return np.clip(similarity, -1.0, 1.0)


def redundant_groups(similarity: np.ndarray, threshold: float) -> List[List[int]]:
    """Groups of bands, each pair at least `threshold`-similar in one group, and so the bands
    linked through such pairs: a band stands alone only when no other band is that similar to
    it, whatever the band order. (Groups taken by their first band's similarity left a band
    alone beside its 0.99-similar neighbour, which the leak counted as copyable: red team of
    2026-12-04.) Groups in the order of their lowest band, members in band order."""
    close = _similar(similarity, threshold)
    unassigned = np.ones(similarity.shape[0], dtype=bool)
    groups = []
    for band in range(similarity.shape[0]):
        if not unassigned[band]:
            continue
        members = np.zeros_like(unassigned)
        members[band] = True
        while True:  # every band close to a member joins, until none is left to join
            grown = members | (close[members].any(axis=0) & unassigned)
            if grown.sum() == members.sum():
                break
            members = grown
        unassigned &= ~members
        groups.append(np.flatnonzero(members).tolist())
    return groups


def group_mask_ratio(similarity: np.ndarray, threshold: float) -> float:
    """The spectral mask ratio at which an MRS mask holds, on average, its anchor's whole
    group of near-duplicates: the expected share of the bands that lie in the group
    (`redundant_groups`) of a band drawn at random."""
    groups = redundant_groups(similarity, threshold)
    return sum(len(group) ** 2 for group in groups) / similarity.shape[0] ** 2


def leakage(similarity: np.ndarray, ratio: float, threshold: float) -> float:
    """Fraction of masked bands that random spectral masking leaves with a visible
    band at least `threshold`-similar: the leak MRS is meant to close. Expected value
    over anchors, computed exactly from the similarity matrix."""
    n = similarity.shape[0]
    k = mask_count(n, ratio)
    neighbours = _similar(similarity, threshold).sum(axis=1) - 1
    # P(all of a band's similar neighbours are masked too), masking k of n at random.
    masked_too = np.ones(n)
    for step in range(int(neighbours.max(initial=0))):
        masked_too *= np.where(step < neighbours, max(k - 1 - step, 0) / max(n - 1 - step, 1), 1.0)
    return float(1.0 - masked_too.mean())
