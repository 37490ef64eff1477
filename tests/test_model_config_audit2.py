"""Second-round mutation audit (2026-12-07) of model_core's model, transformer, config, settings, paths, names,
band_names, band_units and wavelengths: each test here failed on one change to them that the suite let pass."""

import math
from dataclasses import replace

import pytest
import torch

from model_core import paths
from model_core.band_names import described_otherwise
from model_core.band_units import check_band_units
from model_core.config import ModelConfig, preset
from model_core.errors import InputError
from model_core.hooks import Hooks
from model_core.masking import mrs_mask, spatial_mask
from model_core.model import SSMAE, SSMAEClassifier, band_tokens, masked_mse, pixel_tokens
from model_core.names import Names, byte_size, joined, value_text
from model_core.paths import checkpoint_path_for, not_a_readable_file, output_path_of
from model_core.settings import TrainSettings
from model_core.transformer import sincos_1d
from model_core.wavelengths import described_wavelengths, disagreeing_band, known_wavelengths, spectral_span

TINY = preset("tiny")


# ---- names


@pytest.mark.parametrize("count, said", [(999, "999 bytes"), (1_000, "1 KB"), (999_499, "999 KB"), (999_500, "1.0 MB"),
                                         (999_949_999, "999.9 MB"), (999_950_000, "1.0 GB"),
                                         (999_949_999_999, "999.9 GB"), (999_950_000_000, "1.0 TB"),
                                         (12_345_000_000_000, "12.3 TB")])
def test_a_thousand_bytes_and_more_are_said_in_kilobytes(count, said):
    """The unit changes at exactly 1000 bytes, and at each figure that rounds to 1000 of a unit (1200 GB is 1.2 TB)."""
    assert byte_size(count) == said


@pytest.mark.parametrize("value, digits, said", [
    (-2147483648.0, 8, "-2147483648"), (123456789.0, 17, "123456789"), (1e15, 8, "1e+15"),
    (1 / 3, 8, "0.33333333"), (0.1, 17, "0.10000000000000001"), (-9999.5, 8, "-9999.5")])
def test_a_value_is_written_whole_below_1e15_else_to_its_significant_digits(value, digits, said):
    """value_text: every digit of a whole value, `digits` significant ones (17 unless told) of another."""
    if digits == 17:
        assert value_text(value) == said
    else:
        assert value_text(value, digits) == said


@pytest.mark.parametrize("items, word, said", [
    ([], "and", ""), (["a"], "and", "a"), (["a", "b"], "and", "a and b"), (["a", "b", "c"], "or", "a, b or c")])
def test_items_are_joined_with_commas_and_the_word_before_the_last(items, word, said):
    """joined: '', 'a', 'a and b', 'a, b or c'."""
    assert joined(items, word) == said


def test_a_setting_and_a_phase_s_samples_are_named_by_the_caller_or_by_default():
    """Names.setting falls back on the setting's own name; samples_set_by on words for a phase not listed."""
    names = Names(settings={"lr": "LEARNING_RATE"})
    assert [names.setting("lr"), names.setting("seed")] == ["LEARNING_RATE", "seed"]
    assert names.samples_set_by("classification") == "other layers, labels, extent or seed"
    assert names.samples_set_by("pretraining") == "other layers, mask, extent, number of samples or seed"


# ---- paths


def test_a_path_that_is_no_checkpoint_s_has_no_model_file_and_a_checkpoint_replaces_only_the_extension(tmp_path):
    """output_path_of is None for a model file's own path; checkpoint_path_for keeps dots before the extension."""
    assert output_path_of(str(tmp_path / "UP2.safetensors")) is None
    assert checkpoint_path_for(str(tmp_path / "UP2.v2.safetensors")) == str(tmp_path / "UP2.v2.checkpoint.safetensors")


def test_a_file_that_cannot_be_stated_is_said_to_be_so_with_the_system_s_reason(monkeypatch):
    """A stat refused otherwise than for a missing file says the system's reason."""
    def refused(path, *args, **options):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(paths.os, "stat", refused)
    assert not_a_readable_file("/somewhere/layer.tif") == "cannot be read (Permission denied)"


# ---- band names, units and wavelengths


def test_names_alike_but_for_runs_of_spaces_are_no_other_description():
    """'red  EDGE' is 'Red edge' but for case and spaces."""
    assert described_otherwise(["swir", "Red edge"], [], ["layer 1", "red  EDGE"], ["dsm"]) == []


def test_bands_described_otherwise_are_numbered_from_1():
    """The second band is band 2."""
    assert described_otherwise(["intensity", "height"], [], ["intensity", "slope"], []) == [(2, "height", "slope")]


@pytest.mark.parametrize("had, given, pretrained, said", [
    ("m", "km", False, "'km' where the model had 'm' (multiply it by 1000). Convert them into the model's units "
                       "(Raster Calculator), else the map will be wrong."),
    ("m", "ft", True, "'ft' where the model had 'm' (multiply it by 0.3048). Convert them into the model's units "
                      "(Raster Calculator), else its pretraining will help the classifier less."),
])
def test_kilometres_convert_by_1000_and_a_pretrained_model_s_cost_is_said_as_its_own(had, given, pretrained, said):
    """The factor of km, and mismatch_outcome(pretrained) at the end of the warning."""
    warnings = []
    check_band_units({"band_units": [had]}, [given], ["band 1"], "m.safetensors", "MODEL",
                     Hooks(warn=warnings.append), pretrained=pretrained)
    assert warnings == [f"MODEL: bands are in other units than those 'm.safetensors' was trained on, by their unit "
                        f"types: band 1 is in {said}"]


@pytest.mark.parametrize("wavelengths, said", [
    ([400.0, 500.0, 600.0], "400-600 nm"), ([600.0, 500.0, 400.0], "400-600 nm, descending"),
    ([600.0, 500.0, 500.0], "500-600 nm, with repeated wavelengths"), ([500.0, 400.0, 600.0], "400-600 nm, unordered"),
    ([499.8, 500.3], "499.8-500.3 nm"), ([612.5], "612 nm"), ([404.8, 985.2], "405-985 nm")])
def test_a_spectral_span_is_said_with_its_order_and_enough_digits_to_tell_its_ends_apart(wavelengths, said):
    """spectral_span: the range, its order, a decimal only where the rounded ends are alike."""
    assert spectral_span(wavelengths) == said


def test_no_wavelengths_are_no_known_wavelengths_and_1_percent_is_of_the_longer_wavelength():
    """known_wavelengths of [] or None is False; 20.1 nm at 2000 nm is within 1 % of 2020.1 nm."""
    assert [known_wavelengths([]), known_wavelengths(None)] == [False, False]
    assert disagreeing_band([2000.0], [2020.1]) is None


# ---- config and settings


def test_model_settings_that_are_no_set_of_named_values_are_refused_in_words():
    """from_dict does not read a list."""
    with pytest.raises(ValueError) as refused:
        ModelConfig.from_dict([])
    assert str(refused.value) == "The model settings are not a set of named values."


def test_the_presets_hold_their_published_settings():
    """The small and tiny presets, setting by setting."""
    assert preset("small") == ModelConfig(dim=96, depth=2, heads=4, mlp_ratio=2.0, decoder_dim=64, decoder_depth=1,
                                          decoder_heads=4, decoder_mlp_ratio=2.0, patch=7, pca_components=20,
                                          cnn_channels=4)
    assert TINY == ModelConfig(dim=32, depth=1, heads=2, mlp_ratio=2.0, decoder_dim=32, decoder_depth=1,
                               decoder_heads=2, decoder_mlp_ratio=2.0, patch=5, pca_components=6, cnn_channels=2)


@pytest.mark.parametrize("settings, said", [
    (TrainSettings(freeze_encoder_epochs=-1), "The encoder can stay frozen for 0 to 9 of the 10 epochs; got -1."),
    (TrainSettings(encoder_lr_scale=0.0), "The encoder learning-rate factor must lie in (0, 1]; got 0.0."),
])
def test_a_negative_freeze_and_a_zero_encoder_factor_are_refused(settings, said):
    """The lower ends of the two ranges."""
    with pytest.raises(InputError) as refused:
        settings.validate()
    assert str(refused.value) == said


def test_the_training_defaults():
    """TrainSettings' defaults, as a run without options gets them."""
    assert TrainSettings().to_dict() == {
        "epochs": 10, "batch_size": 128, "lr": 1e-4, "weight_decay": 0.05, "warmup_fraction": 0.1,
        "encoder_lr_scale": 1.0, "freeze_encoder_epochs": 0, "clip_norm": 1.0, "seed": 0, "device": "auto",
        "precision": "auto", "flips": True, "checkpoint_seconds": 120.0}


# ---- model and transformer


def test_sin_cos_positions_are_sines_then_cosines_of_frequencies_falling_by_10000():
    """sincos_1d at position 1 of width 4: sin 1, sin 1/100, cos 1, cos 1/100 (model files rely on these values)."""
    expected = torch.tensor([[math.sin(1.0), math.sin(0.01), math.cos(1.0), math.cos(0.01)]])
    assert torch.allclose(sincos_1d(torch.tensor([1]), 4), expected, atol=1e-7)


def _classifier(**changes):
    torch.manual_seed(0)
    return SSMAEClassifier(replace(TINY, **changes), n_hsi=4, n_aux=1, n_classes=3).eval()


def test_the_classifier_sums_its_class_tokens_and_cnn_features_and_reads_alike_with_gradients_or_without():
    """Logits are head(spatial + spectral + CNN); the attention written out for gradients scales as the fused one."""
    model = _classifier()
    x = torch.randn(3, 5, 5, 5)
    with torch.no_grad():
        spatial, spectral = model.encoder(x)
        expected = model.head(spatial + spectral + model.cnn_features(x)[:, :, 0, 0])
        fused = model(x)
    with torch.enable_grad():
        written_out = model(x).detach()
    assert torch.allclose(fused, expected, atol=1e-5)
    assert torch.allclose(written_out, expected, atol=1e-5)


def test_the_pixel_mean_readout_is_the_mean_of_the_pixel_tokens_without_the_class_token():
    """readout 'pixel_mean': the mean over the P * P pixel tokens of the full spatial stack."""
    model = _classifier(readout="pixel_mean")
    x = torch.randn(2, 5, 5, 5)
    branch = model.encoder.spatial
    with torch.no_grad():
        tokens = branch.encode(branch.embed(pixel_tokens(x)) + branch.pos)
        pooled, _spectral = model.encoder(x, "pixel_mean")
    assert torch.allclose(pooled, tokens[:, 1:].mean(dim=1), atol=1e-5)


def test_the_pretraining_loss_names_each_branch_s_loss():
    """PretrainLoss(total, spatial, spectral): the spatial one is the pixel decoder's."""
    torch.manual_seed(0)
    model = SSMAE(TINY, n_hsi=4, n_aux=1).eval()
    x = torch.randn(2, 5, 5, 5)
    generator = torch.Generator().manual_seed(0)
    masks = spatial_mask(x, 0.5, generator), mrs_mask(x, 0.6, generator)
    with torch.no_grad():
        loss = model(x, *masks)
        spatial_encoded, _ = model.encode_visible(x, *masks)
        spatial = masked_mse(model.spatial_decoder(spatial_encoded, masks[0]), pixel_tokens(x), masks[0])
    assert band_tokens(x).shape == (2, 5, 25)
    assert torch.allclose(loss.spatial, spatial) and torch.allclose(loss.total, loss.spatial + loss.spectral)
    assert not torch.allclose(loss.spatial, loss.spectral)


# ---- bugs the audit found, mended


@pytest.mark.parametrize("description, nm", [
    ("Band 1 (450 nanometres)", 450.0), ("Band 2 (1.65 micrometres)", 1650.0), ("Band 3 (700 Nanometer)", 700.0)])
def test_british_spellings_give_a_band_s_wavelength(description, nm):
    """'nanometres' and 'micrometres' (as model_core spells 'metre') gave no wavelength, where 'nanometers' did."""
    assert described_wavelengths([description]) == [nm]


@pytest.mark.parametrize("epochs, said", [(1, "no epoch of a 1-epoch run (0)"), (3, "0 to 2 of the 3 epochs")])
def test_a_freeze_as_long_as_the_run_is_refused_in_words_that_agree_with_the_count(epochs, said):
    """A one-epoch run was told 'The encoder can stay frozen for 0 to 0 of the 1 epochs; got 1.'"""
    with pytest.raises(InputError) as refused:
        TrainSettings(epochs=epochs, freeze_encoder_epochs=epochs).validate()
    assert str(refused.value) == f"The encoder can stay frozen for {said}; got {epochs}."


@pytest.mark.parametrize("wavelengths, said", [
    ([499.96, 500.04], "499.96-500.04 nm"), ([499.8, 500.3], "499.8-500.3 nm"), ([415.2, 985.4], "415-985 nm"),
    ([0.40938, 0.99062], "0.41-0.99 nm"), ([5.31, 9.8], "5.3-9.8 nm"), ([0.0412, 0.0413], "0.0412-0.0413 nm")])
def test_a_span_is_said_with_the_digits_that_tell_its_ends_apart(wavelengths, said):
    """spectral_span([499.96, 500.04]) was '500.0-500.0 nm', its ends alike; micrometres listed as nanometres
    '0-1 nm'."""
    assert spectral_span(wavelengths) == said
