"""Band units as model files and layers give them (GDAL's unit type of each band): a band in
another unit of length than the model's was trained in is read in the model's unit. Free of
torch, for the raster engine."""

from typing import Any, Mapping, Optional, Sequence

from .band_names import plain
from .hooks import Hooks, first_few
from .names import mismatch_outcome

METRES = {
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), 1.0),
    **dict.fromkeys(("cm", "centimetre", "centimetres", "centimeter", "centimeters"), 0.01),
    **dict.fromkeys(("mm", "millimetre", "millimetres", "millimeter", "millimeters"), 0.001),
    **dict.fromkeys(("km", "kilometre", "kilometres", "kilometer", "kilometers"), 1000.0),
    **dict.fromkeys(("ft", "foot", "feet", "international foot"), 0.3048),
    **dict.fromkeys(("us survey foot", "us survey feet", "us-ft", "ftus", "us_survey_foot"), 1200 / 3937),
}
"""Metres per unit of the length units GDAL's drivers and PROJ write as a band's unit type."""


def _factor(given: str, had: str) -> Optional[float]:
    """What a value in `given` is multiplied by to be in `had`, where both are lengths."""
    if plain(given) in METRES and plain(had) in METRES:
        return METRES[plain(given)] / METRES[plain(had)]
    return None


LENGTH_TOLERANCE = 1e-4
"""Lengths whose ratio is within this of 1 are alike: the US survey foot is 2 ppm longer than the foot."""


def other_lengths(had: Sequence[str], units: Sequence[str], labels: Sequence[str], whose: str) -> str:
    """The bands (`labels` name them) whose unit of length (`units`) differs from the one they `had`,
    said as "band 1 of 'x' is in 'ft' where `whose` 'm' (multiply it by 0.3048)"; '' for none."""
    differing = [(label, was, given, factor) for label, was, given in zip(labels, had, units)
                 if (factor := _factor(given, was)) is not None and abs(factor - 1.0) > LENGTH_TOLERANCE]
    return first_few((f"{label} is in '{given.strip()}' where {whose} '{was.strip()}' (multiply it by "
                      f"{factor:.7g})" for label, was, given, factor in differing), "; ")


def check_band_units(metadata: Mapping[str, Any], units: Sequence[str], labels: Sequence[str], path: str, what: str,
                     hooks: Hooks, pretrained: bool = False) -> None:
    """Warn of the bands whose unit of length (`units`, '' where a layer says none; `labels` name
    them) differs from the one the model's file records for that band. Their values may lie within
    `Normalizer.far_bands`' limits: heights near 0 keep their median over spread in feet (a helper's
    red team of 2026-12-05 mapped a LiDAR in US survey feet without a word). Other units are not
    compared: their spellings vary beyond a table ('dB' and 'decibel', 'm2/m2' and 'm^2/m^2':
    false-alarm hunt of 2026-12-05)."""
    trained = metadata.get("band_units")
    if not (isinstance(trained, list) and len(trained) == len(units)
            and all(isinstance(unit, str) for unit in trained)):
        return
    listed = other_lengths(trained, units, labels, "the model had")
    if not listed:
        return
    hooks.warning(f"{what}: bands are in other units than those '{path}' was trained on, by their unit types: "
                  f"{listed}. Convert them into the model's units (Raster Calculator), else {mismatch_outcome(pretrained)}.")
