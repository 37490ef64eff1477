"""Band wavelengths as model files and layers give them: whether they are known, where two band
lists differ, and how a list is said in messages. Free of torch, for the raster engine."""

import math
import re
from typing import Any, List, Optional, Sequence, Tuple


def known_wavelengths(wavelengths: Any) -> bool:
    """Whether a model file's wavelengths are a list of numbers (null when the layer had none)."""
    return bool(wavelengths) and isinstance(wavelengths, list) and all(
        isinstance(value, (int, float)) and math.isfinite(value) for value in wavelengths)


def wavelength_difference(reference: Any, wavelengths: Optional[List[float]]) -> Optional[Tuple[int, float, float]]:
    """The band (from 1) whose wavelength differs most between two band lists, with its two
    wavelengths, when both are known, equally long and differ by more than the tolerance
    (half the median band spacing, at least 2 nm); otherwise None."""
    if not wavelengths or not known_wavelengths(reference) or len(reference) != len(wavelengths):
        return None
    spacing = [abs(b - a) for a, b in zip(reference, reference[1:])]
    tolerance = max(2.0, 0.5 * sorted(spacing)[len(spacing) // 2]) if spacing else 2.0
    band, (reference_nm, layer_nm) = max(enumerate(zip(reference, wavelengths), start=1),
                                         key=lambda item: abs(item[1][0] - item[1][1]))
    return None if abs(reference_nm - layer_nm) <= tolerance else (band, reference_nm, layer_nm)


def spectral_span(wavelengths: Sequence[float]) -> str:
    """'415-985 nm', with ', descending', ', with repeated wavelengths' or ', unordered' where the
    bands are not in ascending order: the first and last band's were given as the range (red team
    of 2026-12-05: '842-768 nm' for a stack of two descending cubes of 408-992 nm)."""
    pairs = list(zip(wavelengths, wavelengths[1:]))
    order = ("" if all(a < b for a, b in pairs) else ", descending" if all(a > b for a, b in pairs)
             else ", with repeated wavelengths" if len(set(wavelengths)) < len(wavelengths) else ", unordered")
    low, high = min(wavelengths), max(wavelengths)
    # two significant digits below 10 nm: micrometres listed as nanometres were '0-1 nm' (own bad input of 2026-12-08)
    digits = max(0, 1 - math.floor(math.log10(low))) if 0 < low < 10 else 0
    # 499.8-500.3, not '500'; 499.96-500.04, not '500.0-500.0' (a helper's audit of 2026-12-07)
    while high != low and digits < 6 and f"{high:.{digits}f}" == f"{low:.{digits}f}":
        digits += 1
    return f"{low:.{digits}f}{f'-{high:.{digits}f}' if high != low else ''} nm{order}"


_DESCRIBED = re.compile(r"(?<![\w.,\-\u2013])(\d+(?:\.\d+)?)\s*"
                        r"(nm|nanomet(?:er|re)s?|µm|um|micromet(?:er|re)s?|microns?)(?![\w])", re.IGNORECASE)
"""A wavelength with its unit in a band's description: 'b001 404.8 nm', 'Band 12 (0.6125 um)'; not
the end of a range ('400-410 nm', which names no centre)."""


def described_wavelengths(descriptions: Sequence[str]) -> Optional[List[float]]:
    """The wavelengths in nm that band descriptions give, one with its unit in each ('b001 404.8 nm',
    'Band 12 (612.5 nm)'); None unless every description gives exactly one."""
    found = [_DESCRIBED.findall(text or "") for text in descriptions]
    if not found or any(len(items) != 1 for items in found):
        return None
    return [float(number) * (1.0 if unit.lower().startswith("n") else 1000.0) for ((number, unit),) in found]


def disagreeing_band(listed: Sequence[float], described: Sequence[float]) -> Optional[int]:
    """The first band (from 0) whose listed and described wavelengths differ by more than 1 nm and
    1 %, or None (rounding in a description is no disagreement)."""
    return next((index for index, (a, b) in enumerate(zip(listed, described))
                 if abs(a - b) > max(1.0, 0.01 * max(a, b))), None)
