"""Edges of `model_core.preprocessing` and `model_core.loading` that no test pinned, found by a second mutation
audit of 2026-12-07: the fill codes' limits and which value is said, the normaliser's far and clipped bands at their
limits, the stored statistics refused, the PCA's signs, and the wording of the checks of a model's bands, wavelengths,
auxiliary layers and pixel sizes against a scene's."""

import numpy as np
import pytest
import torch
from test_model_core_audit import TREES, WATER, _saved_classifier
from torch import nn

from model_core import MAX_CLASS_VALUE
from model_core.errors import BandCountError, ModelFileError
from model_core.hooks import Hooks
from model_core.loading import (_BUDGET_SLACK, _build, band_counts, check_aux_bands, check_aux_layers, check_bands,
                                check_pixel_size, check_wavelengths, load_classifier, metres)
from model_core.preprocessing import METHOD, Normalizer, fill_values, fit_pca


def _warned(check, *args, **options):
    """The warnings a check gives."""
    warnings = []
    check(*args, hooks=Hooks(warn=warnings.append), **options)
    return warnings


# ---- preprocessing: fill codes


def _band(*codes, top=3000.0, size=1000):
    """One band of `size` values from 0 to `top` whose first pixels hold `codes`, in order."""
    column = np.linspace(0.0, top, size)
    column[:len(codes)] = codes
    return column[:, None]


@pytest.mark.parametrize("codes, found", [
    ((1e30,), 1e30),  # FILL_MAGNITUDE itself is a fill code
    ((-3.4e38, 1e38), -3.4e38),  # of two huge values, the first is said
    ((-9999.0,) * 10 + (1e38,), 1e38),  # a huge value is said before a large negative code of the same band
])
def test_a_fill_code_of_fill_magnitude_or_more_is_said_as_the_band_s_first_huge_value(codes, found):
    """Values of FILL_MAGNITUDE or more are fill codes; the first met is said, before any large negative code."""
    assert fill_values(_band(*codes)) == {0: found}


@pytest.mark.parametrize("count, found", [(4, {0: -9999.0}), (3, {})])
def test_a_large_negative_code_is_a_fill_code_from_0_2_percent_of_the_pixels(count, found):
    """FILL_SHARE: 4 pixels of 2000 hold a fill code, 3 hold a rare value."""
    assert fill_values(_band(*[-9999.0] * count, size=2000)) == found


@pytest.mark.parametrize("code, found", [(-1800.0, {}), (-1900.0, {0: -1900.0})])
def test_a_large_negative_code_is_far_one_2_98_percent_spread_below_the_other_values(code, found):
    """FILL_REACH, on the 2nd and 98th percentiles of the other values (59.6 and 1960.4 here: a code must lie below
    -1841; the 5-95 % spread would take -1800 as well)."""
    assert fill_values(_band(*[code] * 10, top=2000.0)) == found


def test_a_large_negative_code_exactly_one_spread_below_the_other_values_is_no_fill_code():
    """FILL_REACH is a strict limit: the others' 2-98 % spread is 0 to 1000 here, and -1000 lies just on it."""
    rest = np.concatenate([np.zeros(100), np.linspace(0.0, 1000.0, 800), np.full(100, 1000.0)])
    assert np.percentile(rest, [2.0, 98.0]).tolist() == [0.0, 1000.0]
    assert fill_values(np.concatenate([np.full(10, -1000.0), rest])[:, None]) == {}
    assert fill_values(np.concatenate([np.full(10, -1000.5), rest])[:, None]) == {0: -1000.5}


# ---- preprocessing: the normaliser


def test_a_constant_band_is_scaled_by_1_and_centred_on_its_value():
    """A band of one value has no spread nor standard deviation: its scale is 1, so a value 3 above it normalises
    to 3."""
    normalizer = Normalizer.fit(np.column_stack([np.full(50, 7.0), np.arange(50.0)]))
    assert normalizer.center[0] == 7.0 and normalizer.scale[0] == 1.0
    assert normalizer.apply_pixels(np.array([[10.0, 24.5]]))[0, 0] == 3.0


def test_statistics_of_a_sample_that_is_no_table_of_pixels_and_bands_are_refused_in_words():
    """A flat sample (one value a pixel, no band axis) is refused like an empty one."""
    with pytest.raises(ValueError, match=r"^Normalisation needs a non-empty \(pixels, bands\) sample\.$"):
        Normalizer.fit(np.arange(10.0))


def _spread(width, median=0.0):
    """1001 pixels of one band whose 2-98 % spread is `width` about `median`."""
    return np.linspace(-0.5, 0.5, 1001)[:, None] / 0.96 * width + median


def _edged(low, high):
    """1000 pixels of one band whose 2nd and 98th percentiles are exactly `low` and `high`."""
    return np.concatenate([np.full(100, low), np.linspace(low, high, 800), np.full(100, high)])[:, None]


@pytest.mark.parametrize("center, pixels, far", [
    (0.0, np.full((50, 1), 3.0), []),  # a shift of exactly FAR_SHIFT spreads
    (0.0, np.full((50, 1), 3.0001), [0]),
    (0.0, np.full((50, 1), -3.0001), [0]),  # below the centre as well
    (5.0, _edged(0.0, 10.0), []),  # a spread exactly FAR_SPREAD times wider, about the centre
    (5.0, _edged(0.0, 10.01), [0]),
])
def test_a_band_is_far_only_beyond_three_spreads_of_shift_or_ten_times_the_spread(center, pixels, far):
    """FAR_SHIFT and FAR_SPREAD are strict limits (statistics of scale 1)."""
    assert Normalizer(center=np.array([center]), scale=np.ones(1)).far_bands(pixels).tolist() == far


@pytest.mark.parametrize("center, pixels, far", [
    (0.3, _spread(2.0, 0.6), [0]),  # a level of exactly FAR_FACTOR_LEVEL spreads, doubled
    (0.29, _spread(2.0, 0.58), []),  # just under it: a band near 0, not scaled
    (-0.5, _spread(2.0, -1.0), [0]),  # a negative level doubled (dB) is scaled too
])
def test_a_band_is_scaled_from_a_level_of_0_3_spreads_from_zero_either_side(center, pixels, far):
    """FAR_FACTOR_LEVEL is reached at 0.3 spreads, on either side of 0 (statistics of scale 1, values doubled)."""
    assert Normalizer(center=np.array([center]), scale=np.ones(1)).far_bands(pixels).tolist() == far


@pytest.mark.parametrize("top, far", [(1.9, [0]), (1.85, [])])
def test_a_band_is_scaled_from_a_spread_1_9_times_wider_about_a_median_as_many_times_higher(top, far):
    """FAR_FACTOR less FAR_FACTOR_TOLERANCE: a spread of exactly 1.9 times the statistics' (median / spread 0.5, the
    statistics' level) is a scale, one of 1.85 times another scene."""
    assert Normalizer(center=np.array([0.5]), scale=np.ones(1)).far_bands(_edged(0.0, top)).tolist() == far


def test_a_band_clipped_half_at_each_clip_value_is_not_clipped_to_one_value():
    """CLIPPED_SHARE counts the pixels at one clip value: half at -CLIP and half at CLIP is a band of two levels the
    model still tells apart."""
    values = np.array([-10.0] * 50 + [10.0] * 50)[:, None]
    assert Normalizer(center=np.zeros(1), scale=np.ones(1)).clipped_bands(values).tolist() == []


def test_stored_statistics_are_written_with_their_method_clip_and_values():
    """What a model file records of its normalisation: the method, the clip value and the statistics band by band."""
    assert Normalizer(center=np.array([1.0, 2.5]), scale=np.array([3.0, 0.5])).to_dict() == {
        "method": "median/p2-p98", "clip": 5.0, "center": [1.0, 2.5], "scale": [3.0, 0.5]}


@pytest.mark.parametrize("values, said", [
    ({"method": "z-score", "center": [0.0], "scale": [1.0]}, "'z-score'"),
    ({"method": "m" * 100}, "'" + "m" * 39),  # a long name is cut to 40 characters
    ({"center": [0.0]}, "None"),
    ([METHOD], "None"),  # not a dict
])
def test_stored_statistics_of_another_method_are_refused_naming_it(values, said):
    """The message names the method a model file gives (its representation cut to 40 characters), None if none."""
    with pytest.raises(ValueError) as refused:
        Normalizer.from_dict(values)
    assert str(refused.value) == f"Unknown normalisation method {said}."


@pytest.mark.parametrize("center, scale, said", [
    ([0.0, float("nan")], [1.0, 1.0], "inconsistent"),  # a centre that is no number
    ([0.0, 0.0], [1.0, float("inf")], "inconsistent"),  # an infinite scale
    ([10 ** 400], [1.0], "not lists of numbers"),  # a whole number beyond any float
    ([0.0, "one"], [1.0, 1.0], "not lists of numbers"),
])
def test_stored_statistics_that_are_not_finite_numbers_are_refused_in_words(center, scale, said):
    """A model file's statistics must be finite numbers: the refusal says so rather than any error of numpy's."""
    with pytest.raises(ValueError) as refused:
        Normalizer.from_dict({"method": METHOD, "center": center, "scale": scale})
    assert str(refused.value) == f"The normalisation statistics are {said}."


def test_statistics_are_fitted_in_double_precision():
    """A band of large values (2 ** 24 + 1, which float32 cannot hold) keeps its exact median."""
    normalizer = Normalizer.fit(np.array([[16777217.0], [16777217.0], [16777219.0]]))
    assert normalizer.center.tolist() == [16777217.0]


def test_the_pca_centres_the_pixels_on_their_mean():
    """The PCA's centre is the pixels' mean (2, 2 here), not their median (0, 1)."""
    mean, axes = fit_pca(np.array([[0.0, 1.0], [0.0, 1.0], [6.0, 4.0]]), 1)
    assert mean.tolist() == [2.0, 2.0]
    np.testing.assert_allclose(axes, [[2.0 / np.sqrt(5.0), 1.0 / np.sqrt(5.0)]], rtol=0, atol=1e-12)


# ---- loading: band counts and layer names


def test_a_model_of_two_hsi_bands_is_refused():
    """A model needs 3 HSI bands at least."""
    with pytest.raises(ModelFileError) as refused:
        band_counts({"n_hsi": 2, "n_aux": 1}, "m.safetensors", "MODEL")
    assert "(n_hsi 2, n_aux 1; a model needs at least 3 HSI bands" in str(refused.value)
    assert band_counts({"n_hsi": 3, "n_aux": 1}, "m.safetensors", "MODEL") == (3, 1)


def test_band_counts_that_are_not_numbers_are_said_cut_to_20_characters():
    """The counts a model file gives are quoted, each cut to 20 characters."""
    with pytest.raises(ModelFileError) as refused:
        band_counts({"n_hsi": "a" * 30, "n_aux": [1] * 20}, "m.safetensors", "MODEL")
    assert str(refused.value).startswith("MODEL: 'm.safetensors' does not say for how many bands it was made (n_hsi "
                                         "'aaaaaaaaaaaaaaaaaaa, n_aux [1, 1, 1, 1, 1, 1, 1; a model needs")


@pytest.mark.parametrize("layers, said", [
    ({"hsi_layer": "cube", "aux_layers": ["lidar", "sar"]}, "HSI 'cube', SAR/LiDAR 'lidar', 'sar'"),
    ({"aux_layers": ["lidar", 3]}, "HSI '?', SAR/LiDAR ?"),  # no HSI name; a list of names holding no name
    ({"hsi_layer": 5, "aux_layers": "lidar"}, "HSI '?', SAR/LiDAR ?"),
])
def test_a_refusal_of_band_counts_names_the_model_s_layers_or_a_question_mark(layers, said):
    """The layers a model was made with, as its metadata names them: '?' where it names none of the right kind."""
    with pytest.raises(BandCountError) as refused:
        check_bands({"n_hsi": 6, "n_aux": 2, **layers}, 6, 1, "m.safetensors", "MODEL")
    assert f"was made for 6 HSI bands and 2 SAR/LiDAR bands ({said}), but the layers give" in str(refused.value)


# ---- loading: auxiliary bands and layers


def test_auxiliary_bands_of_a_model_naming_fewer_bands_than_it_has_are_not_compared():
    """A model whose band names are fewer than its auxiliary bands (an edit by hand) is not compared by name."""
    model = {"band_names": ["intensity"], "aux_layers": ["lidar"], "n_aux": 2}
    assert _warned(check_aux_bands, model, ["VV", "VH"], ["sar"], "m.safetensors", "MODEL") == []


AUX_MODEL = {"band_names": ["b1", "b2", "b3", "intensity", "height"], "aux_layers": ["lidar"], "n_aux": 2}
LAYERS = {"aux_band_counts": [2, 4], "aux_layers": ["lidar", "sar"]}


@pytest.mark.parametrize("check, args, said", [
    (check_aux_bands, (AUX_MODEL, ["VV", "height"], ["sar"]),
     "MODEL: the auxiliary bands are not those 'm.safetensors' was trained on, by their names (auxiliary band 1 is "
     "'VV' where the model had 'intensity'). Give auxiliary layers of the kinds it was trained on, with their bands in "
     "the same order; else its pretraining will help the classifier less."),
    (check_aux_layers, (LAYERS, [6], ["stack"]),
     "MODEL: 'm.safetensors' was trained on SAR/LiDAR layers of 2 and 4 bands ('lidar', 'sar'), but those given "
     "have 6 bands ('stack'): make sure their bands are the model's, in its order; else its pretraining will help the "
     "classifier less."),
])
def test_auxiliary_bands_unlike_a_pretrained_model_s_are_said_to_help_less_not_to_spoil_the_map(check, args, said):
    """A pretrained model is fine-tuned on the layers given: the warnings say its pretraining helps less."""
    assert _warned(check, *args, "m.safetensors", "MODEL", pretrained=True) == [said]


def test_auxiliary_layers_recorded_with_fewer_counts_than_names_are_not_compared():
    """Counts and names of the model's auxiliary layers that do not pair up are no record to compare with."""
    model = {"aux_band_counts": [2, 4], "aux_layers": ["lidar"]}
    assert _warned(check_aux_layers, model, [4], ["lidar"], "m.safetensors", "MODEL") == []


def test_auxiliary_layers_of_one_band_count_given_in_another_order_are_refused():
    """Layers of the same band counts swapped ([lidar, sar] of 2 bands each as [sar, lidar]) are refused like
    layers of other counts: each band would be taken for another."""
    model = {"aux_band_counts": [2, 2], "aux_layers": ["lidar", "sar"]}
    with pytest.raises(ModelFileError) as refused:
        check_aux_layers(model, [2, 2], ["sar", "lidar"], "m.safetensors", "MODEL", Hooks())
    assert str(refused.value) == (
        "MODEL: 'm.safetensors' was trained on SAR/LiDAR layers of 2 and 2 bands ('lidar', 'sar'), but those given "
        "are these layers in another order ('sar', 'lidar'), so each band would be taken for another. Give them in "
        "the order it was trained on: 'lidar', 'sar'.")


def test_the_model_s_auxiliary_layers_given_in_its_order_with_other_band_counts_are_warned_of_not_refused():
    """The model's layer names in its order, but other band counts: other rasters of those names, warned of."""
    assert _warned(check_aux_layers, LAYERS, [4, 2], ["lidar", "sar"], "m.safetensors", "MODEL") == [
        "MODEL: 'm.safetensors' was trained on SAR/LiDAR layers of 2 and 4 bands ('lidar', 'sar'), but those given "
        "have 4 and 2 bands ('lidar', 'sar'): make sure their bands are the model's, in its order; else the map will "
        "be wrong."]


# ---- loading: pixel sizes


def _pixels_said(metadata, sides=(0.2, 0.2), **options):
    return _warned(check_pixel_size, metadata, sides, "hsi", "m.safetensors", "MODEL", **options)


@pytest.mark.parametrize("trained", [float("inf"), 0.0, -1.0, "1"])
def test_a_recorded_pixel_size_that_is_not_a_finite_positive_number_is_no_record(trained):
    """A model's pixel size must be a finite length above 0 to be compared with a layer's: else nothing is said."""
    assert _pixels_said({"pixel_size_m": trained, "patch": 7}) == []


PIXELS_SAID = ("MODEL: 'm.safetensors' was trained on pixels of about 1 m, but the hyperspectral layer 'hsi' has "
               "pixels of about 0.2 m{covers}, and {outcome}. Resample the layers to about 1 m (gdalwarp -tr), or "
               "train a model on pixels of this size.")
COVERS = ": its 7 x 7 pixels around each pixel then cover 1.4 m instead of 7 m on the ground"


@pytest.mark.parametrize("patch, covers", [(7, COVERS), (None, ""), ("7", ""), (7.0, "")])
def test_pixels_unlike_the_model_s_are_said_to_cover_another_area_only_where_its_patch_is_a_whole_number(patch,
                                                                                                       covers):
    """The area the model's patch covers is said from a whole number of pixels only."""
    metadata = {"pixel_size_m": 1.0, **({} if patch is None else {"patch": patch})}
    assert _pixels_said(metadata) == [PIXELS_SAID.format(covers=covers, outcome="the map may be worse")]


def test_pixels_unlike_a_pretrained_model_s_are_said_to_make_its_pretraining_likely_help_less():
    """A pretrained model's pixels: its pretraining may help less, not the map may be worse."""
    assert _pixels_said({"pixel_size_m": 1.0, "patch": 7}, pretrained=True) == [
        PIXELS_SAID.format(covers=COVERS, outcome="its pretraining may help the classifier less")]


@pytest.mark.parametrize("recorded", [[2.0], [2.0, 2.0, 2.0]])
def test_recorded_pixel_sides_that_are_not_two_are_none_and_the_mean_size_is_compared(recorded):
    """Pixel sides are two, across and down: another count is no record, and the model's mean size is compared."""
    assert _pixels_said({"pixel_size_m": 1.0, "pixel_sides_m": recorded}, sides=(1.0, 1.0)) == []


# ---- loading: wavelengths


def test_wavelengths_of_the_model_s_bands_read_as_micrometres_are_refused_in_one_full_sentence():
    """The whole refusal: the model's and the layer's spans, the first band that differs and the unit to set."""
    trained = [415.0 + 30 * i for i in range(20)]
    with pytest.raises(ModelFileError) as refused:
        check_wavelengths({"wavelengths": trained, "n_hsi": 20}, [value * 1000 for value in trained], "hsi",
                          "m.safetensors", "MODEL", Hooks())
    assert str(refused.value) == (
        "MODEL: 'm.safetensors' was trained on bands at 415-985 nm, but the hyperspectral layer 'hsi' has its bands "
        "at 415000-985000 nm (band 20: 985.0 nm against 985000.0 nm). Its wavelengths are the model's in nanometres, "
        "read as micrometres: set the layer's wavelength_units to nanometers.")


# ---- loading: model files


def _refusal(path, **metadata):
    """What load_classifier says of a tiny classifier's file described as `metadata` says."""
    with pytest.raises(ModelFileError) as refused:
        load_classifier(_saved_classifier(path, metadata.pop("classes", [WATER, TREES]), **metadata), what="MODEL")
    return str(refused.value).replace(str(path / "m.safetensors"), "m")


def test_a_model_whose_statistics_are_for_more_bands_than_it_describes_is_refused(tmp_path):
    """Statistics of 8 bands for a model of 7 are refused like statistics of fewer."""
    statistics = Normalizer(center=np.zeros(8), scale=np.ones(8)).to_dict()
    assert _refusal(tmp_path, normalization=statistics) == (
        "MODEL: 'm' has normalisation statistics for 8 bands but describes 7. Re-create the model.")


def test_a_model_of_unknown_statistics_says_what_is_wrong_in_one_sentence(tmp_path):
    """The statistics' own refusal is quoted without its full stop."""
    assert _refusal(tmp_path, normalization={"method": "z-score"}) == (
        "MODEL: 'm' has incomplete or invalid metadata (Unknown normalisation method 'z-score'). Re-create the model "
        "with this plugin.")


@pytest.mark.parametrize("edited", [{"value": 0}, {"color": "#00ff00ff"}, {"color": "00ff00"}])
def test_a_class_of_value_0_or_of_a_colour_not_exactly_rrggbb_is_refused(tmp_path, edited):
    """Class values start at 1 (0 is no class) and colours are '#rrggbb', nothing more."""
    assert _refusal(tmp_path, classes=[WATER, {**TREES, **edited}]) == (
        "MODEL: 'm' does not list its classes (at least two, each with its own whole value from 1 to "
        f"{MAX_CLASS_VALUE}, a name and a colour '#rrggbb'). Re-create it with fine-tuning.")


class _Allocating(nn.Module):
    """Holds a weight 'w' of 10 elements, and allocates `extra()` besides (not a weight of its own)."""

    def __init__(self, extra):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(10))
        self.register_buffer("extra", extra(), persistent=False)


FAR_LARGER = ("MODEL: 'm' does not hold the weights its metadata describes (it describes a model far larger than the "
              "weights it holds). Re-create the model.")
BUDGET = 2 * 10 + _BUDGET_SLACK - 10  # what building may allocate beyond the weight held


@pytest.mark.parametrize("extra, refused", [
    (lambda: torch.zeros(BUDGET), False),  # the budget exactly
    (lambda: torch.zeros(BUDGET + 1), True),
    (lambda: torch.zeros(size=(BUDGET + 1,)), True),  # a size given by name
    (lambda: torch.eye(1100), True),  # a square identity: rows times rows
])
def test_building_a_model_may_allocate_twice_its_weights_and_a_mebi_element_more_however_asked(extra, refused):
    """The allocation budget counts every factory call, and reaching it exactly is within it."""
    held = {"w": torch.ones(10)}
    if not refused:
        assert _build(lambda: _Allocating(extra), held, "m", "MODEL").w.tolist() == [1.0] * 10
        return
    with pytest.raises(ModelFileError) as caught:
        _build(lambda: _Allocating(extra), held, "m", "MODEL")
    assert str(caught.value) == FAR_LARGER


@pytest.mark.parametrize("held, detail", [
    ({"w": torch.ones(10), "stray": torch.ones(1)},
     'Error(s) in loading state_dict for _Allocating: Unexpected key(s) in state_dict: "stray"'),
    ({}, 'Error(s) in loading state_dict for _Allocating: Missing key(s) in state_dict: "w"'),
])
def test_weights_unlike_the_model_built_are_refused_quoting_the_library_on_one_line(held, detail):
    """Every weight must be the model's and the model's every weight there; torch's reason is said on one line,
    without its full stop."""
    with pytest.raises(ModelFileError) as refused:
        _build(lambda: _Allocating(lambda: torch.zeros(1)), held, "m", "MODEL")
    assert str(refused.value) == (f"MODEL: 'm' does not hold the weights its metadata describes ({detail}). "
                                  "Re-create the model.")


@pytest.mark.parametrize("length, said", [(0.00001, "0.00001 m"), (0.00007, "0.00007 m"), (0.000012345, "0.000012 m"),
                                          (0.2, "0.2 m"), (7.5, "7.5 m"), (0.123, "0.12 m"), (1200.0, "1,200 m")])
def test_lengths_are_said_in_two_digits_without_scientific_notation(length, said):
    """A layer's pixel size in degrees under a metric CRS was said as pixels of '1e-05 m' covering '7e-05 m' (a
    helper's audit of 2026-12-07)."""
    assert metres(length) == said
