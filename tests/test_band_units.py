"""Band units as model files and layers give them (GDAL's unit type): a band in another unit of
length than a model's is warned of, with the factor that converts it."""

import pytest

from mrs.model_core.band_units import check_band_units
from mrs.model_core.hooks import Hooks

LABELS = ["band 1 of 'hsi'", "'height' (band 1 of 'dsm')"]


def _warnings(trained, given) -> list:
    warnings = []
    check_band_units({"band_units": trained}, given, LABELS, "m.safetensors", "MODEL", Hooks(warn=warnings.append))
    return warnings


@pytest.mark.parametrize("had, given, said", [
    ("m", "US survey foot", "'US survey foot' where the model had 'm' (multiply it by 0.3048006)"),
    ("metre", "ft", "'ft' where the model had 'metre' (multiply it by 0.3048)"),
    ("m", "cm", "'cm' where the model had 'm' (multiply it by 0.01)"),
])
def test_a_band_in_another_unit_than_the_model_s_is_warned_of(had, given, said):
    """A helper's red team of 2026-12-05: a LiDAR height in US survey feet beside a model trained
    in metres lay within the value checks' limits (heights near 0 keep their median over
    spread), and was mapped without a word."""
    assert _warnings(["", had], ["", given]) == [
        f"MODEL: bands are in other units than those 'm.safetensors' was trained on, by their unit types: 'height' "
        f"(band 1 of 'dsm') is in {said}. Convert them into the model's units (Raster Calculator), else the map "
        "will be wrong."]


@pytest.mark.parametrize("had, given", [
    ("m", "metre"), (" Meters ", "m"), ("m", ""), ("", "ft"), ("dB", "DB"),
    # False-alarm hunt of 2026-12-05: units written otherwise, and a 2 ppm difference.
    ("ft", "US survey foot"), ("dB", "decibel"), ("m2/m2", "m^2/m^2"), ("1", "unitless"), ("m", "m a.g.l."),
])
def test_units_said_alike_or_unsaid_on_either_side_are_not_warned_of(had, given):
    assert _warnings(["", had], ["", given]) == []


@pytest.mark.parametrize("metadata", [{}, {"band_units": None}, {"band_units": ["m"]}, {"band_units": ["", 3]}])
def test_a_model_without_units_for_each_band_is_not_compared(metadata):
    """Models written before units were recorded have none; a list of another length or type is
    no record of these bands."""
    warnings = []
    check_band_units(metadata, ["", "ft"], LABELS, "m.safetensors", "MODEL", Hooks(warn=warnings.append))
    assert warnings == []
