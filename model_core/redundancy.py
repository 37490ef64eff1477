"""Band-to-band redundancy of a scene: what Mining Redundant Spectra exploits.

The similarity is the one MRS ranks bands by, the cosine similarity of two bands'
normalised values, here taken over a sample of pixels of the whole scene instead of
one patch.
"""

from typing import List

import numpy as np

from .masking import mask_count


def band_similarity(pixels: np.ndarray) -> np.ndarray:
    """Cosine similarity (C, C) between the bands of normalised pixels (m, C)."""
    values = pixels.astype(np.float64)
    norms = np.linalg.norm(values, axis=0)
    similarity = (values.T @ values) / np.maximum(np.outer(norms, norms), np.finfo(np.float64).tiny)
    np.fill_diagonal(similarity, 1.0)
    return np.clip(similarity, -1.0, 1.0)


def redundant_groups(similarity: np.ndarray, threshold: float) -> List[List[int]]:
    """Groups of bands at least `threshold`-similar to their group's first band.

    Greedy, in band order: the lowest unassigned band opens a group and takes every
    unassigned band similar enough to it, like an MRS anchor taking its neighbours.
    """
    unassigned = np.ones(similarity.shape[0], dtype=bool)
    groups = []
    for band in range(similarity.shape[0]):
        if unassigned[band]:
            close = unassigned & (similarity[band] >= threshold)
            close[band] = True
            members = np.flatnonzero(close)
            unassigned[members] = False
            groups.append(members.tolist())
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
    neighbours = (similarity >= threshold).sum(axis=1) - 1
    # P(all of a band's similar neighbours are masked too), masking k of n at random.
    masked_too = np.ones(n)
    for step in range(int(neighbours.max(initial=0))):
        masked_too *= np.where(step < neighbours, max(k - 1 - step, 0) / max(n - 1 - step, 1), 1.0)
    return float(1.0 - masked_too.mean())
