"""Edges of `model_core` that no test pinned, found by a mutation audit of 2026-12-06: the band counts, the
checks of a model's bands against a layer's and the wording of their messages (`loading`), the fill codes and
statistics (`preprocessing`), the tile predictor's memory and batches (`inference`), wavelengths, band names and
units, and the bounds of the settings (`config`, `settings`)."""

import numpy as np
import pytest
import torch
from test_model_file import TINY, description
from torch import nn

from model_core import MAX_CLASS_VALUE, model_file
from model_core.band_names import described_otherwise, reordered
from model_core.band_units import check_band_units
from model_core.config import ModelConfig
from model_core.errors import InputError, ModelFileError
from model_core.hooks import Hooks
from model_core.inference import TilePredictor
from model_core.loading import _build, band_counts, check_aux_bands, check_wavelengths, load_classifier, metres
from model_core.model import SSMAEClassifier
from model_core.preprocessing import METHOD, Normalizer, fill_values
from model_core.settings import MaskingSettings, TrainSettings
from model_core.wavelengths import disagreeing_band, known_wavelengths, wavelength_difference

def _warned(check, *args, **options):
    """The warnings a check gives."""
    warnings = []
    check(*args, hooks=Hooks(warn=warnings.append), **options)
    return warnings


# ---- loading


def test_a_model_for_no_sar_lidar_band_is_refused():
    with pytest.raises(ModelFileError) as refused:
        band_counts({"n_hsi": 6, "n_aux": 0}, "m.safetensors", "MODEL")
    assert str(refused.value) == (
        "MODEL: 'm.safetensors' does not say for how many bands it was made (n_hsi 6, n_aux 0; a model needs at "
        "least 3 HSI bands and 1 SAR/LiDAR band, at most 2048 in all). Re-create the model with this plugin.")


WATER, TREES = {"value": 1, "name": "water", "color": "#0000ff"}, {"value": 2, "name": "trees", "color": "#00ff00"}


def _saved_classifier(tmp_path, classes, **metadata):
    """A tiny classifier's file of 6 HSI bands, 1 SAR/LiDAR band and 2 classes, described as `metadata` says."""
    torch.manual_seed(0)
    path = str(tmp_path / "m.safetensors")
    model_file.save(path, SSMAEClassifier(TINY, 6, 1, 2).state_dict(),
                    {**description(), "kind": model_file.CLASSIFIER, "classes": classes, **metadata})
    return path


def test_a_model_whose_statistics_are_for_another_band_count_is_refused(tmp_path):
    statistics = Normalizer(center=np.zeros(6), scale=np.ones(6)).to_dict()
    path = _saved_classifier(tmp_path, [WATER, TREES], normalization=statistics)
    with pytest.raises(ModelFileError) as refused:
        load_classifier(path, what="MODEL")
    assert str(refused.value) == (f"MODEL: '{path}' has normalisation statistics for 6 bands but describes 7. "
                                  "Re-create the model.")


@pytest.mark.parametrize("classes", [[WATER], [WATER, {**TREES, "value": 1}]])
def test_a_model_of_one_class_or_of_two_classes_of_one_value_is_refused(tmp_path, classes):
    path = _saved_classifier(tmp_path, classes)
    with pytest.raises(ModelFileError) as refused:
        load_classifier(path, what="MODEL")
    assert str(refused.value) == (
        f"MODEL: '{path}' does not list its classes (at least two, each with its own whole value from 1 to "
        f"{MAX_CLASS_VALUE}, a name and a colour '#rrggbb'). Re-create it with fine-tuning.")


class _Eye(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("eye", torch.eye(2000, 1000))


@pytest.mark.parametrize("make, held", [(lambda: nn.Linear(2000, 2000), nn.Linear(1000, 1000).state_dict()),
                                        (_Eye, {"eye": torch.zeros(10, 10)})])
def test_a_model_that_would_allocate_far_more_than_the_weights_held_is_not_built(make, held):
    """Building may allocate twice the elements held and a million more (torch.eye's rows times columns), no more."""
    with pytest.raises(ModelFileError) as refused:
        _build(make, held, "m.safetensors", "MODEL")
    assert str(refused.value) == ("MODEL: 'm.safetensors' does not hold the weights its metadata describes (it "
                                  "describes a model far larger than the weights it holds). Re-create the model.")


AUX_MODEL = {"band_names": ["b1", "b2", "b3", "intensity", "height"], "aux_layers": ["lidar"], "n_aux": 2}


REFUSED_SWAP = (
    "MODEL: the auxiliary bands are in another order than those 'm.safetensors' was trained on, by their names "
    "(auxiliary band 1 is 'height' where the model had 'intensity', auxiliary band 2 is 'intensity' where the model "
    "had 'height'), so each would be taken for another. Give the auxiliary layers, and their bands, in the order it "
    "was trained on: 'intensity', 'height' (layers 'lidar'); if their descriptions are wrong, correct or clear them.")


@pytest.mark.parametrize("names, expected", [
    (["height", "intensity"], "refused"),
    (["VV", "height"], ["MODEL: the auxiliary bands are not those 'm.safetensors' was trained on, by their names "
                           "(auxiliary band 1 is 'VV' where the model had 'intensity'). Give auxiliary layers of the "
                           "kinds it was trained on, with their bands in the same order; else the map will be wrong."]),
    (["  INTENSITY ", "height"], []),
    (["lidar band 1", "lidar band 2"], []),
])
def test_auxiliary_bands_are_compared_by_name_with_the_model_s_last_bands(names, expected):
    """The model's auxiliary bands are the last of its band names; its own bands swapped are refused, other
    names warned of, and names alike but for case and spaces, or none, are not compared."""
    if expected == "refused":
        with pytest.raises(ModelFileError) as refused:
            check_aux_bands(AUX_MODEL, names, ["lidar"], "m.safetensors", "MODEL", Hooks())
        assert str(refused.value) == REFUSED_SWAP
        return
    assert _warned(check_aux_bands, AUX_MODEL, names, ["lidar"], "m.safetensors", "MODEL") == expected


def test_auxiliary_bands_of_another_count_than_the_model_s_are_not_compared_by_name():
    """Layers of other band counts (a pretraining's, before fine-tuning) are not compared band by band: the first
    two of three names are no swap of the model's two."""
    assert _warned(check_aux_bands, AUX_MODEL, ["height", "intensity", "VV"], ["lidar", "sar"], "m.safetensors",
                   "MODEL") == []


def test_layer_bands_that_two_of_the_model_s_bands_are_nearest_to_are_no_reordering():
    """The advice to reorder names each of the layer's bands once: a band nearest to two of the model's leaves the
    layer for another sensor's."""
    with pytest.raises(ModelFileError) as refused:
        check_wavelengths({"wavelengths": [415.0, 445.0, 475.0, 505.0]}, [445.0, 415.0, 490.0, 900.0], "hsi",
                          "m.safetensors", "MODEL", Hooks())
    assert str(refused.value).endswith("(band 4: 505.0 nm against 900.0 nm). Use a raster of the sensor and bands "
                                       "the model was trained on.")


def test_nine_and_a_half_metres_are_said_as_a_whole_number():
    """Lengths of 9.5 m and more are said in whole metres, shorter ones to two digits."""
    assert [metres(value) for value in (9.49, 9.5)] == ["9.5 m", "10 m"]


# ---- preprocessing


def test_a_lone_large_negative_value_in_a_small_sample_is_no_fill_code():
    """A fill code is held by two pixels at least, whatever the sample's size."""
    pixels = np.arange(1.0, 101.0)[:, None] * 30
    pixels[0, 0] = -9999.0
    assert fill_values(pixels) == {}
    pixels[1, 0] = -9999.0
    assert fill_values(pixels) == {0: -9999.0}


def test_statistics_of_no_pixel_are_refused_in_words():
    with pytest.raises(ValueError, match=r"^Normalisation needs a non-empty \(pixels, bands\) sample\.$"):
        Normalizer.fit(np.zeros((0, 3)))


@pytest.mark.parametrize("pixels, far", [
    (np.full((50, 1), 2.9), []),  # a level 2.9 spreads from the centre: another scene
    (np.full((50, 1), 3.1), [0]),  # beyond FAR_SHIFT spreads
    (np.linspace(-0.5, 0.5, 1001)[:, None] / 0.96 * 9.5, []),  # a p2-p98 spread 9.5 times wider
    (np.linspace(-0.5, 0.5, 1001)[:, None] / 0.96 * 11, [0]),  # 11 times wider: beyond FAR_SPREAD
    (np.linspace(-0.5, 0.5, 1001)[:, None] / 0.96 / 11, [0]),  # 11 times narrower
])
def test_a_band_is_far_beyond_three_spreads_of_shift_or_ten_times_the_spread(pixels, far):
    """FAR_SHIFT and FAR_SPREAD, on statistics of centre 0 and spread 1 (no scale: the level is 0)."""
    normalizer = Normalizer(center=np.zeros(1), scale=np.ones(1))
    assert normalizer.far_bands(pixels).tolist() == far


def _spread(width, median=0.0):
    """1001 pixels of one band whose 2-98 % spread is `width` about `median`."""
    return np.linspace(-0.5, 0.5, 1001)[:, None] / 0.96 * width + median


@pytest.mark.parametrize("pixels, far", [(_spread(2.5, 2.5), [0]), (_spread(2.5, 2.75), []),
                                         (_spread(0.4, 0.4), [0]), (_spread(0.4, 0.44), []), (_spread(0.6, 0.6), [])])
def test_a_band_is_scaled_only_where_its_median_over_its_spread_is_the_statistics(pixels, far):
    """A spread 2.5 times wider is a scale where the median grew as much (median / spread 1.0, the statistics'
    level); a median / spread of 1.1 is another scene, beyond FAR_FACTOR_TOLERANCE; so too 2.5 times narrower (0-100
    given to a model of 0-255: the audit found it unsaid), but not 1.7 times."""
    assert Normalizer(center=np.ones(1), scale=np.ones(1)).far_bands(pixels).tolist() == far


@pytest.mark.parametrize("values, clipped", [
    ([10.0] * 95 + [0.0] * 5, [0]),  # exactly CLIPPED_SHARE of the pixels at CLIP
    ([10.0] * 94 + [0.0] * 6, []),
    ([-10.0] * 95 + [0.0] * 5, [0]),  # at -CLIP as well
    ([-4.6] * 100, []),  # near -CLIP but within it
])
def test_a_band_is_clipped_where_95_percent_of_its_pixels_normalise_to_one_clip_value(values, clipped):
    normalizer = Normalizer(center=np.zeros(1), scale=np.ones(1))
    assert normalizer.clipped_bands(np.array(values)[:, None]).tolist() == clipped


@pytest.mark.parametrize("center, scale", [([[0.0, 1.0]], [[1.0, 1.0]]), (0.0, 1.0)])
def test_stored_statistics_that_are_no_list_of_one_value_a_band_are_refused(center, scale):
    with pytest.raises(ValueError, match=r"^The normalisation statistics are inconsistent\.$"):
        Normalizer.from_dict({"method": METHOD, "center": center, "scale": scale})


# ---- inference


@pytest.mark.parametrize("batch_size", [1, 4])
def test_a_single_pixel_goes_through_the_model_as_two_rows_whatever_the_batch_size(batch_size):
    """oneDNN computes a product of one row with other kernels, which round bf16 otherwise: a lone pixel is padded
    to two rows so that a map's pixels do not depend on the batch size."""
    torch.manual_seed(0)
    predictor = TilePredictor(SSMAEClassifier(TINY, 6, 1, 3), Normalizer(center=np.zeros(7), scale=np.ones(7)),
                              device="cpu", precision="fp32", batch_size=batch_size)
    rows, classify = [], predictor.model.classify
    predictor.model.classify = lambda patches, *rest: rows.append(len(patches)) or classify(patches, *rest)
    side = 1 + 2 * predictor.halo
    index, confidence = predictor(np.random.default_rng(0).normal(size=(7, side, side)), np.ones((side, side), bool))
    assert rows == [2]
    assert index.shape == confidence.shape == (1, 1) and 0 <= index[0, 0] < 3 and 1 / 3 <= confidence[0, 0] <= 1


# ---- config


@pytest.mark.parametrize("changes, said", [
    ({"patch": 33}, "patch must be a whole number from 3 to 31; got 33."),
    ({"depth": True}, "depth must be a whole number from 1 to 64; got True."),
    ({"dim": 32.0}, "dim must be a whole number from 4 to 4096; got 32.0."),
    ({"mlp_ratio": 0.2}, "mlp_ratio must be a number from 0.25 to 64.0; got 0.2."),
    ({"patch": 8}, "The patch size must be an odd number of at least 3; got 8."),
    ({"dim": 30, "heads": 2}, "dim (30) must be a multiple of 4, as its position embedding needs."),
    ({"decoder_dim": 36}, "decoder_dim (36) must be a multiple of its number of heads (8)."),
    # a long value is cut to 40 characters; pca_components stops at 1024 (a second audit of 2026-12-07)
    ({"fusion": "x" * 60}, f"fusion must be one of sum, no_cnn; got {repr('x' * 60)[:40]}."),
    ({"pca_components": 1025}, "pca_components must be a whole number from 1 to 1024; got 1025."),
])
def test_settings_beyond_their_bounds_are_refused_naming_the_bound(changes, said):
    with pytest.raises(ValueError) as refused:
        ModelConfig(**changes)
    assert str(refused.value) == said


def test_settings_at_their_bounds_are_taken():
    config = ModelConfig(dim=4, heads=1, mlp_ratio=0.25, decoder_mlp_ratio=2, patch=31, pca_components=1)
    assert (config.dim, config.mlp_ratio, config.decoder_mlp_ratio, config.patch, config.pca_components) == (
        4, 0.25, 2, 31, 1)


def test_settings_are_read_back_with_the_optional_ones_taking_their_default_and_unknown_ones_refused():
    values = ModelConfig(dim=64).to_dict()
    assert ModelConfig.from_dict({name: value for name, value in values.items()
                                  if name not in ("fusion", "readout")}) == ModelConfig(dim=64)
    with pytest.raises(ValueError, match=r"^Unknown model settings: colour\.$"):
        ModelConfig.from_dict({**values, "colour": "red"})


# ---- wavelengths and band names


@pytest.mark.parametrize("reference, given, difference", [
    ([400.0, 401.0, 402.0], [401.5, 401.0, 402.0], None),  # within 2 nm, the least tolerance
    ([400.0, 401.0, 402.0], [402.5, 401.0, 402.0], (1, 400.0, 402.5)),
    ([400.0, 410.0, 420.0], [405.0, 410.0, 420.0], None),  # exactly half the band spacing
    ([400.0, 402.0, 430.0, 460.0, 490.0], [410.0, 412.0, 440.0, 470.0, 500.0], None),  # half the median spacing
    ([400.0, 410.0, 420.0], [400.0, 500.0], None),  # lists of other lengths are not compared
])
def test_wavelengths_differ_beyond_half_the_median_band_spacing_and_2_nm(reference, given, difference):
    assert wavelength_difference(reference, given) == difference


def test_wavelengths_that_are_not_finite_are_not_known():
    assert [known_wavelengths(values) for values in ([400.0, 500.0], [400.0, float("nan")], [float("inf")])] == [
        True, False, False]


def test_a_listed_and_a_described_wavelength_agree_within_1_percent_of_a_long_one():
    assert disagreeing_band([2000.0, 500.0], [2015.0, 500.5]) is None
    assert disagreeing_band([2000.0, 500.0], [2015.0, 506.0]) == 1


@pytest.mark.parametrize("given", [["Band1", " Band 2 "], ["dsm band 1", "dsm band 2"], ["  INTENSITY ", "Height"]])
def test_driver_and_layer_names_or_names_alike_but_for_case_are_no_other_description(given):
    assert described_otherwise(["intensity", "height"], ["lidar"], given, ["dsm"]) == []


def test_bands_named_otherwise_are_reordered_only_where_each_name_is_given_as_often_as_it_was():
    assert reordered([(1, "a", "b"), (2, "b", "a")])
    assert not reordered([(1, "a", "b"), (2, "a", "b"), (3, "b", "a")])


@pytest.mark.parametrize("had, given, said", [
    (["ft"], ["m", "ft"], []),  # a list of another length is no record of these bands
    ([" m ", ""], [" ft ", ""], [
        "MODEL: bands are in other units than those 'm.safetensors' was trained on, by their unit types: band 1 is in "
        "'ft' where the model had 'm' (multiply it by 0.3048). Convert them into the model's units (Raster "
        "Calculator), else the map will be wrong."]),
    (["international foot", ""], ["m", ""], [
        "MODEL: bands are in other units than those 'm.safetensors' was trained on, by their unit types: band 1 is in "
        "'m' where the model had 'international foot' (multiply it by 3.28084). Convert them into the model's units "
        "(Raster Calculator), else the map will be wrong."]),
])
def test_band_units_are_compared_band_for_band_and_said_without_their_spaces(had, given, said):
    assert _warned(check_band_units, {"band_units": had}, given, ["band 1", "band 2"], "m.safetensors",
                   "MODEL") == said


# ---- settings


@pytest.mark.parametrize("settings, said", [
    (TrainSettings(epochs=0), "The number of epochs must be at least 1; got 0."),
    (TrainSettings(batch_size=0), "The batch size must be at least 1; got 0."),
    (TrainSettings(lr=0.0), "The learning rate must be positive; got 0.0."),
    (TrainSettings(warmup_fraction=1.0), "The warm-up fraction must lie in [0, 1); got 1.0."),
    (TrainSettings(weight_decay=-0.01), "The weight decay must be 0 or more; got -0.01."),
    (TrainSettings(clip_norm=-1.0), "The gradient clipping norm must be 0 or more (0 clips nothing); got -1.0."),
    (TrainSettings(checkpoint_seconds=float("nan")), "The seconds between checkpoints must be 0 or more; got nan."),
    (TrainSettings(encoder_lr_scale=1.5), "The encoder learning-rate factor must lie in (0, 1]; got 1.5."),
    (TrainSettings(epochs=2, freeze_encoder_epochs=2),
     "The encoder can stay frozen for 0 to 1 of the 2 epochs; got 2."),
    (MaskingSettings(spectral_ratio=0.0), "The spectral mask ratio must lie strictly between 0 and 1; got 0.0."),
    (MaskingSettings(spatial_ratio=1.0), "The spatial mask ratio must lie strictly between 0 and 1; got 1.0."),
    (MaskingSettings(similarity="euclid"), "The band similarity must be one of cosine, correlation; got 'euclid'."),
    (MaskingSettings(strategy="block"), "The masking strategy must be one of mrs, random; got 'block'."),
])
def test_settings_out_of_range_are_refused_in_one_sentence(settings, said):
    with pytest.raises(InputError) as refused:
        settings.validate()
    assert str(refused.value) == said


def test_settings_at_the_edges_of_their_ranges_are_taken_and_the_masking_defaults_are_the_paper_s():
    TrainSettings(epochs=1, batch_size=1, lr=1e-9, warmup_fraction=0.0, encoder_lr_scale=1.0, weight_decay=0.0,
                  clip_norm=0.0, checkpoint_seconds=0.0).validate()
    MaskingSettings(spectral_ratio=0.01, spatial_ratio=0.99).validate()
    assert MaskingSettings() == MaskingSettings(strategy="mrs", spectral_ratio=0.3, spatial_ratio=0.3,
                                                similarity="cosine", normalized_targets=False)
