"""Band-to-band redundancy of a scene: what Mining Redundant Spectra exploits.

The similarity is the cosine similarity of two bands' values normalised as the model
sees them (each band centred on its median and scaled by its 2-98 % range), here taken
over a sample of pixels of the whole scene instead of one patch.
"""

from typing import List

import numpy as np

from .mask_ratio import mask_count


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


def copied_bands(similarity: np.ndarray) -> List[List[int]]:
    """Groups of bands that are one band up to a scale, negative too, and an offset (a similarity of 1 or -1
    within rounding): an export or a band stack that repeated a band, which the groups of near-duplicates showed
    as natural neighbours (a helper's red team of 2026-12-06: bands 13 and 14, copies of band 5, in a group of
    535-805 nm); a band and its negative (1000 minus it), which the signed groups keep apart as MRS does, were
    not said (a helper's red team of 2026-12-07)."""
    same = _similar(np.abs(similarity), 1.0)
    taken: set = set()
    groups: List[List[int]] = []
    for band in range(similarity.shape[0]):
        members = [int(other) for other in np.flatnonzero(same[band]) if int(other) not in taken]
        if band not in taken and len(members) > 1:
            groups.append(members)
            taken.update(members)
    return groups


def redundant_groups(similarity: np.ndarray, threshold: float) -> List[List[int]]:
    """Groups of near-duplicate bands: those at least `threshold`-similar to their group's first
    band, and bands that no group took, each with its most similar band when that is as similar.

    Greedy, in band order: the lowest unassigned band opens a group and takes every
    unassigned band similar enough to it, like an MRS anchor taking its neighbours. A band
    left alone then joins the group of its most similar band when that is similar enough, so
    that a band stands alone only when no other band is (one was left alone beside its
    0.99-similar neighbour, which the leak counted as copyable: red team of 2026-12-04). Linking
    every similar pair instead chained a scene's 20 bands into one group whose least similar
    pair was 0.25 (helpers' review of 2026-12-04).
    """
    close = _similar(similarity, threshold)
    group_of = np.full(similarity.shape[0], -1)
    groups: List[List[int]] = []
    for band in range(similarity.shape[0]):
        if group_of[band] < 0:
            members = np.flatnonzero(close[band] & (group_of < 0)).tolist()
            group_of[[band, *members]] = len(groups)
            groups.append(sorted({band, *members}))
    for band in range(similarity.shape[0]):
        if len(groups[group_of[band]]) == 1:
            others = np.where(np.arange(similarity.shape[0]) == band, -np.inf, similarity[band])
            nearest = int(np.argmax(others))
            if close[band, nearest]:
                groups[group_of[band]] = []
                group_of[band] = group_of[nearest]
                groups[group_of[band]] = sorted(groups[group_of[band]] + [band])
    return sorted((group for group in groups if group), key=lambda group: group[0])


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
