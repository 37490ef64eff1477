"""How many of a sample's tokens a mask ratio hides: the masking's rule, in a module without torch so that
the band-redundancy report, which says what MRS would hide, runs where torch is not installed."""


def mask_count(n: int, ratio: float) -> int:
    """How many of `n` tokens a ratio masks: round(ratio * n), at least 1 and at most n - 1."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"The mask ratio must lie strictly between 0 and 1; got {ratio}.")
    if n < 2:
        raise ValueError(f"Masking needs at least 2 tokens; got {n}.")
    return min(max(round(ratio * n), 1), n - 1)
