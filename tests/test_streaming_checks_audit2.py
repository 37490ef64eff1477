"""Pretraining patches streamed from a scene, the checks of a scene's sample, and the layers a job reads, as a
second mutation audit of 2026-12-07 found them unpinned: each test here failed on a small bug planted in
mrs_qgis_plugin/streaming.py, scene_checks.py or job_inputs.py that the other tests let pass."""

from types import SimpleNamespace

import numpy as np
import pytest
from rasters import GEOTRANSFORM, write_raster
from test_classification_path_edges import UNIT, open_scene

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import scene_checks
from mrs.mrs_qgis_plugin.job_inputs import LabelSource, Layers, same_layer
from mrs.mrs_qgis_plugin.raster.grid import Window
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.streaming import NormalisedBlocks, ScenePatches, say_how_many_positions

# Streamed patches -------------------------------------------------------------------------------------------------


def test_one_patch_that_can_be_drawn_is_said_in_the_singular():
    """Pins the count of drawn patches in the singular in the warning of an EXTENT that gives one."""
    warnings = []
    say_how_many_positions(300, 1, 64, ["EXTENT"], Hooks(warn=warnings.append))
    assert warnings == ["Only 1 patch can be drawn (the valid pixels of EXTENT), fewer than one batch (BATCH_SIZE 64): "
                        "every epoch takes the same 1 patch in one step, too few for pretrained features that help a "
                        "classifier. Give a larger EXTENT."]


def test_a_window_across_two_blocks_side_by_side_is_refused(tmp_path):
    """Pins the refusal of a window that crosses a block's edge sideways (one across rows was pinned before)."""
    with open_scene(tmp_path, "a", 32, 32) as scene:
        with pytest.raises(ValueError, match="^the window does not lie inside one block$"):
            NormalisedBlocks(scene, UNIT, halo=2, block=16).read(14, 0, 4, 2)


def test_the_budget_of_streamed_patches_holds_their_blocks(tmp_path):
    """Pins `budget` as the bound of a scene's own block cache: one block kept of the three a batch reads."""
    with open_scene(tmp_path, "a", 10, 260) as scene:
        streamed = ScenePatches(scene, [5, 5, 5], [5, 135, 255], 5, UNIT, {}, budget=1)
        streamed.patches(np.arange(3))
        assert len(streamed.blocks.cache) == 1


# Checks of a scene's sample ----------------------------------------------------------------------------------------


def _scene(tmp_path, hsi: np.ndarray, aux: np.ndarray, geotransform=GEOTRANSFORM, **hsi_options) -> Scene:
    return Scene.open(RasterInput(write_raster(tmp_path / "hsi.tif", hsi, geotransform, **hsi_options), "hsi"),
                      [RasterInput(write_raster(tmp_path / "lidar.tif", aux, geotransform), "lidar")])


def _reflectance(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).integers(200, 3000, size=(4, height, width)).astype(np.int16)


@pytest.mark.parametrize("height, width, share_of", [(7, 7, None), (10, 5, 1000)],
                         ids=["small-scene-of-49-pixels", "50-pixels-of-more-scenes"])
def test_a_blank_image_sampled_in_few_pixels_is_still_refused_for_training(tmp_path, height, width, share_of):
    """Pins SCENE_CHECK_PIXELS as a bound for a share of a scene only, and 50 pixels as enough to judge it."""
    hsi = np.full((4, height, width), 0.25, np.float32)
    aux = np.random.default_rng(1).normal(size=(1, height, width)).astype(np.float32)
    with _scene(tmp_path, hsi, aux) as scene:
        sample = scene_checks.counted_sample(scene, 2000, 0, Hooks())
        with pytest.raises(InputError) as refused:
            scene_checks.check_sample(sample, scene, Hooks(), "learn", training=True, share_of=share_of)
    assert str(refused.value).startswith(f"Every band of the hyperspectral layer 'hsi' holds one value in the "
                                         f"{height * width} pixels sampled (0.25 in its first): a blank image")


def test_a_blank_lidar_of_two_bands_of_other_values_is_warned_of_with_its_own_value(tmp_path):
    """Pins a layer whose bands each hold one value (not all the same one) as blank, judged from 50 pixels on,
    and the value shown as the LiDAR's own band gives it, not as the scaled hyperspectral band would."""
    aux = np.stack([np.full((10, 5), 12.345678, np.float32), np.full((10, 5), 3.0, np.float32)])
    warnings = []
    with _scene(tmp_path, _reflectance(10, 5), aux, scale=0.0001) as scene:
        sample = scene_checks.counted_sample(scene, 2000, 0, Hooks())
        scene_checks.say_blank_layers(sample, scene, Hooks(warn=warnings.append), several=False)
    assert warnings == ["Every band of the SAR or LiDAR layer 'lidar' holds one value in the 50 pixels sampled "
                        "(12.345678 in its first): a blank layer, nothing to learn the scene with. Choose the scene's "
                        "SAR or LiDAR raster, or check the export that wrote this one."]


def _warnings(scene: Scene) -> list:
    """The warnings of a map's check of the scene's sample."""
    warnings = []
    sample = scene_checks.counted_sample(scene, 2000, 0, Hooks())
    scene_checks.check_sample(sample, scene, Hooks(warn=warnings.append), "map")
    return warnings


def test_a_fill_code_of_a_band_without_a_scale_is_shown_with_its_fraction(tmp_path):
    """Pins the value as the file holds it, -9999.001 not -9999, where no scale rounds it: the value to copy into
    gdal_edit -a_nodata."""
    hsi = np.random.default_rng(0).uniform(0.01, 0.3, (4, 20, 20)).astype(np.float32)
    hsi[:, :4, :4] = -9999.001
    with _scene(tmp_path, hsi, np.random.default_rng(1).normal(size=(1, 20, 20)).astype(np.float32)) as scene:
        warnings = _warnings(scene)
    assert [w.split(": most likely")[0] for w in warnings] == [
        "4 of the 5 bands hold a value that no measurement gives (band 1 of 'hsi': -9999.001; band 2 of 'hsi': "
        "-9999.001; band 3 of 'hsi': -9999.001; band 4 of 'hsi': -9999.001)"]


def test_a_blank_band_of_an_offset_alone_is_shown_to_the_digits_of_float32(tmp_path):
    """Pins a band whose file gives an offset and no scale as scaled: 5 + 0.0001 shown as 5.0001, not 5.0001001."""
    from osgeo import gdal

    path = write_raster(tmp_path / "hsi.tif", np.full((4, 10, 10), 5, np.int16))
    dataset = gdal.Open(path, gdal.GA_Update)
    for band in range(4):
        dataset.GetRasterBand(band + 1).SetOffset(0.0001)
    dataset = None
    aux = write_raster(tmp_path / "lidar.tif", np.random.default_rng(1).normal(size=(1, 10, 10)).astype(np.float32))
    with Scene.open(RasterInput(path, "hsi"), [RasterInput(aux, "lidar")]) as scene:
        warnings = _warnings(scene)
    assert [w.split(": a blank")[0] for w in warnings] == [
        "Every band of the hyperspectral layer 'hsi' holds one value in the 100 pixels sampled (5.0001 in its first)"]


def test_a_grid_of_gdal_s_pixel_space_with_a_crs_is_not_said_to_be_flipped(tmp_path):
    """Pins GDAL's pixel space (rows downwards) as no south-up grid where the file also gives a CRS."""
    aux = np.random.default_rng(1).normal(size=(1, 20, 20)).astype(np.float32)
    with _scene(tmp_path, _reflectance(20, 20), aux, (0.0, 1.0, 0.0, 0.0, 0.0, 1.0), scale=0.0001) as scene:
        assert scene.grid.georeferenced and _warnings(scene) == []


def _grid_scene(side: int):
    return SimpleNamespace(width=side, height=side, hsi_name="hsi", aux_names=["aux"], grid_label="the grid")


@pytest.mark.parametrize("valid, side, window, said", [
    (99, 100, None, "Only 99 of the 10,000 pixels of the grid have"),  # FEW_PIXELS: fewer than 100 of a large scene
    (100, 100, None, None),
    (19, 100, (10, 4), "Only 19 of the 40 pixels of EXTENT in the grid have"),  # half of 10 x 4, not of 10 x 10
    (20, 100, (10, 4), None),
])
def test_too_few_valid_pixels_are_judged_against_a_hundred_and_an_extent_s_own_sides(valid, side, window, said):
    """Pins FEW_PIXELS at 100 and the pixels looked at in an EXTENT wider than high."""
    warnings = []
    few = scene_checks.say_few_valid_pixels(valid, _grid_scene(side), Hooks(warn=warnings.append), "learn",
                                            Window(0, 0, *window) if window else None)
    assert (few, [w.split(" valid values")[0] for w in warnings]) == (said is not None, [said] if said else [])


FILL = "of the pixels of 'aux' are nodata ({}) in some bands"
DECLARED = "'aux' declares {} as its nodata value, and {} of its pixels hold it in some bands"


@pytest.mark.parametrize("share, nodata, said", [
    (0.6, float("nan"), f"60.0 % {FILL.format('nan')}"),  # NaN is no measurement
    (0.6, -999.0, f"60.0 % {FILL.format(-999)}"),  # FILL_CODE_LIMIT itself is a fill code
    (0.6, -998.0, DECLARED.format(-998, "60.0 %")),
    (0.6, 1e30, f"60.0 % {FILL.format('1e+30')}"),  # FILL_MAGNITUDE itself too
    (0.5, -9999.0, f"50.0 % {FILL.format(-9999)}"),  # FILL_AMONG_DATA_SHARE: from a half on
    (0.49, -9999.0, None),
    (0.05, 0.0, DECLARED.format(0, "5.0 %")),  # NODATA_AMONG_DATA_SHARE: from 5 % on
    (0.049, 0.0, None),
    (0.06, 1234567.0, DECLARED.format(1234567, "6.0 %")),  # to be typed back: it was '1.23457e+06' (audit of 12-07)
])
def test_a_nodata_value_among_data_is_judged_a_fill_code_or_a_value_at_the_bounds(share, nodata, said):
    """Pins the bounds of a fill code (NaN, -999, 1e30) and the shares from which each warning is given."""
    warnings = []
    scene = SimpleNamespace(nodata_among_data=lambda: [("aux", share, ["band 1 of 'aux'"], nodata, False)],
                            infinite_values=lambda: [])
    scene_checks._say_nodata_among_data(scene, Hooks(warn=warnings.append))
    assert [w.split(" (band 1")[0] for w in warnings] == ([] if said is None else [said])


# The layers a job reads ----------------------------------------------------------------------------------------------


def test_the_layers_name_every_auxiliary_file_among_the_inputs():
    """Pins every SAR/LiDAR raster among the files `claim_outputs` keeps an output from."""
    layers = Layers(RasterInput("/d/hsi.tif", "hsi"), [RasterInput("/d/sar.tif", "sar"), RasterInput("/d/dsm.tif",
                                                                                                    "dsm")])
    assert layers.inputs() == {"INPUT_HSI": ["/d/hsi.tif"], "INPUT_AUX": ["/d/sar.tif", "/d/dsm.tif"]}


@pytest.mark.parametrize("source, expected", [
    (LabelSource("lab", raster_path="/d/labels.tif", vector_path="/d/points.gpkg"), {"LABELS": ["/d/labels.tif"]}),
    (LabelSource("pts", vector_path="/d/points.gpkg"), {"SAMPLES": ["/d/points.gpkg"]}),
])
def test_labels_are_named_among_the_inputs_under_the_parameter_that_gave_them(source, expected):
    """Pins the label raster under its parameter, and the vector under its own."""
    assert source.inputs("SAMPLES", "LABELS") == expected


def test_a_sample_layer_without_a_class_field_is_refused_by_its_name():
    """Pins the refusal of vector labels read without CLASS_FIELD, naming the layer, before anything is read."""
    with pytest.raises(InputError) as refused:
        LabelSource("field points", vector_path="/d/points.gpkg").read(None, Hooks())
    assert str(refused.value) == ("No class field is chosen for the sample layer 'field points'. Choose the field that "
                                  "holds the classes.")


def test_labels_are_read_with_every_setting_of_their_source(monkeypatch):
    """Pins what `LabelSource.read` hands the readers: the raster's coordinate operation, the vector's name and
    colour fields, and `reference`."""
    from mrs.mrs_qgis_plugin import job_inputs

    calls = []
    monkeypatch.setattr(job_inputs, "labels_from_raster", lambda *args, **options: calls.append((args, options)))
    monkeypatch.setattr(job_inputs, "labels_from_vector", lambda *args, **options: calls.append((args, options)))
    hooks = Hooks()
    LabelSource("lab", raster_path="/d/labels.tif", raster_operation="+proj=noop").read("scene", hooks, reference=True)
    LabelSource("pts", vector_path="/d/p.gpkg", class_field="code", name_field="label", color_field="colour").read(
        "scene", hooks)
    assert calls == [(("scene", "/d/labels.tif", "lab", hooks), {"operation": "+proj=noop", "reference": True}),
                     (("scene", "/d/p.gpkg", None, "code", "label", "pts", hooks),
                      {"color_field": "colour", "reference": False})]


@pytest.mark.parametrize("first, second, same", [
    ("/d/s.gpkg|layername=p (with its unsaved edits)", "/d/s.gpkg|layername=p", True),
    ("/d/s (its copy).gpkg|layername=p", "/d/s.gpkg|layername=p", False),
], ids=["unsaved-edits-noted", "a-note-like-name-inside-the-path"])
def test_a_note_of_what_a_copy_held_is_taken_off_the_end_of_a_source_only(first, second, same):
    """Pins '(with its unsaved edits)' among the notes of what a copy of a layer held, and a note only at the end."""
    assert same_layer(first, second) is same


def test_a_file_in_a_folder_with_a_bar_in_its_name_is_the_same_layer_as_its_named_layer(tmp_path):
    """same_layer split a source at its first '|': a GeoPackage in the folder 'a|b.d' read as its first layer was not
    the layer 'pts' of it, so an older map's assessment against its own training samples went unwarned (a helper's
    audit of 2026-12-07)."""
    folder = tmp_path / "a|b.d"
    folder.mkdir()
    (folder / "pts.gpkg").write_bytes(b"")
    trained_on = LabelSource("pts", vector_path=f"{folder / 'pts.gpkg'}|layername=pts").source()
    assert trained_on == f"{folder / 'pts.gpkg'}|layername=pts"
    assert same_layer(trained_on, LabelSource("pts", vector_path=str(folder / "pts.gpkg")).source())
    assert not same_layer(trained_on, f"{folder / 'pts.gpkg'}|layername=other")
    assert not same_layer(trained_on, str(tmp_path / "a"))
