"""Edges of jobs.py and training_pixels.py that no test held: each test fails on a small, plausible bug that the
suite let pass (a helper's mutation audit of 2026-12-06, each checked to fail on its bug and pass without it)."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal
from rasters import GEOTRANSFORM, box_wkt, write_raster, write_vector
from test_multi_scene import SETTINGS, layers_of, scene_list, write_scene_files
from test_scene_checks import BANDS, SIZE, _map_warnings, _reflectance, _statistics, _three_classes
from test_streaming import scene_layers
from test_suggest import mrs, trained  # noqa: F401 (fixtures)
from test_training_pixel_records import HSI, _record

from mrs.model_core import model_file
from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.training import MaskingSettings, TrainSettings
from mrs.mrs_qgis_plugin import analysis, job_inputs, jobs, scene_checks, training_pixels
from mrs.mrs_qgis_plugin.raster import suggestions
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.grid import Grid, Window
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.synthetic_scene import ORIGIN

COARSE = (GEOTRANSFORM[0], 3.0, 0.0, GEOTRANSFORM[3], 0.0, -3.0)
"""The test grid's with pixels of 3 m."""


# Records of training pixels ------------------------------------------------------------------


def test_a_map_pixel_left_of_the_recorded_grid_is_not_the_row_above_s_last():
    left = Grid(HSI.width, HSI.height, (HSI.geotransform[0] - 2.0, *HSI.geotransform[1:]), "")
    tag = json.dumps(_record([0], [HSI.width - 1]))  # the last pixel of the recorded grid's first row
    assert training_pixels.trained_share(tag, left, np.array([1]), np.array([0])) == 0.0  # its (1, -1)


def test_a_training_pixel_below_a_shorter_grid_is_not_on_it():
    short = Grid(HSI.width, 20, HSI.geotransform, "")
    rows, cols, every_one = training_pixels.trained_positions(_record([20], [0]), short)
    assert (rows.tolist(), cols.tolist(), every_one) == ([], [], True)


def test_a_reference_without_pixels_gets_no_share():
    tag = json.dumps(_record([0], [0]))
    assert training_pixels.trained_share(tag, HSI, np.array([], np.int64), np.array([], np.int64)) is None


def test_a_sample_of_the_training_pixels_is_drawn_from_all_of_them(monkeypatch):
    """A record of more than SAMPLE pixels keeps a random sample, not the first SAMPLE given: pixels given
    row by row, the first would all lie in the first rows, and a reference below them would be said untouched."""
    monkeypatch.setattr(training_pixels, "SAMPLE", 50)
    rows, cols = np.divmod(np.arange(200), HSI.width)  # rows 0 to 4, every column
    tag = json.dumps(_record(rows, cols))
    below = rows >= 2  # 120 of the pixels trained on, none among the first 50
    assert 0.6 <= training_pixels.trained_share(tag, HSI, rows[below], cols[below]) <= 1.0


@pytest.mark.parametrize("count, said", [(10, "10 %"), (4, None)])
def test_a_reference_a_tenth_of_which_was_trained_on_is_warned_of(tmp_path, count, said):
    """WARN_SHARE, 5 %: a reference a tenth of whose pixels the classifier was trained on is said to be so."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((10, 10), np.uint8), nodata=0)
    rows, cols = np.divmod(np.arange(100), 10)
    with Scene.single(RasterInput(class_map, "map")) as grid:
        record = training_pixels.record(grid.grid, rows[:count], cols[:count], 0)
        dataset = gdal.Open(class_map, gdal.GA_Update)
        dataset.SetMetadataItem(training_pixels.TAG, json.dumps(record))
        dataset = None
        labelled = LabelledPixels(rows, cols, np.ones(100, np.int64), [ClassInfo(1, "1", "#000000")])
        warning = analysis._trained_on_warning(class_map, "map", jobs.LabelSource("ref"), grid.grid, labelled)
    assert (warning if warning is None else warning.split(" of the pixels")[0]) == said


# Which layer a classifier was trained on ------------------------------------------------------


@pytest.mark.parametrize("first, second, same", [
    ("/d/s.gpkg", "/d/s.gpkg|layername=points", True),  # a file read as its first layer may be any of its layers
    ("/d/s.gpkg|layername=points", "/d/s.gpkg", True),
    ("/d/s.gpkg|layername=points", "/d/s.gpkg|layername=points (its 90 selected features)", True),
    ("/d/s.gpkg|layername=points", "/d/s.gpkg|layername=polygons", False),
    ("/d/s.gpkg", "/d/t.gpkg", False),
])
def test_a_file_without_a_layer_name_is_the_same_layer_as_any_of_its_layers(first, second, same):
    assert job_inputs.same_layer(first, second) is same


@pytest.mark.parametrize("source, said", [
    (jobs.LabelSource("pts", vector_path="/tmp/copy.gpkg", origin="/d/s.gpkg|layername=p", taken="its 90 selected "
                      "features"), "/d/s.gpkg|layername=p (its 90 selected features)"),
    (jobs.LabelSource("pts", vector_path="/tmp/copy.gpkg", taken="a memory layer"), "'pts' (a memory layer)"),
    (jobs.LabelSource("lab", raster_path="/d/labels.tif", taken="ignored"), "/d/labels.tif"),
])
def test_a_copy_of_a_layer_is_recorded_as_the_layer_with_what_of_it_the_copy_held(source, said):
    assert source.source() == said


# Statistics samples of several scenes ---------------------------------------------------------


def test_a_scene_like_the_whole_first_scene_but_unlike_its_extent_is_not_said_to_be_far(tmp_path):
    """With EXTENT, the scenes of MORE_SCENES are compared with the whole first scene, not with the part of it
    that EXTENT takes, which need not look like a whole scene (here a corner of other values)."""
    rng = np.random.default_rng(0)
    layers = []
    for name in ("first", "other"):
        hsi = (10.0 + rng.normal(size=(6, 64, 64))).astype(np.float32)
        if name == "first":
            hsi[:, :8, :8] += 1000.0  # the extent's corner, 64 of the 4,096 pixels
        layers.append(jobs.Layers(RasterInput(write_raster(tmp_path / f"{name}.tif", hsi), name), [RasterInput(
            write_raster(tmp_path / f"{name}_aux.tif", rng.normal(size=(1, 64, 64)).astype(np.float32)), "aux")]))
    warnings = []
    with layers[0].open(Hooks()) as first, layers[1].open(Hooks()) as other:
        jobs._pixel_sample([first, other], 7, Hooks(warn=warnings.append), Window(0, 0, 8, 8), (64, 4096))
    assert warnings == []


@pytest.mark.parametrize("order", [("sar", "lidar"), ("lidar", "sar")])
def test_the_blank_one_of_two_sar_or_lidar_layers_is_the_one_named(tmp_path, order):
    rasters = {"sar": np.random.default_rng(4).normal(size=(2, SIZE, SIZE)).astype(np.float32),
               "lidar": np.full((1, SIZE, SIZE), 12.5, np.float32)}
    aux = [RasterInput(write_raster(tmp_path / f"{name}.tif", rasters[name]), name) for name in order]
    warnings = []
    with Scene.open(RasterInput(write_raster(tmp_path / "hsi.tif", _reflectance(), scale=0.0001), "hsi"), aux) as scene:
        jobs._pixel_sample([scene], 0, Hooks(warn=warnings.append), valid_counts=[SIZE * SIZE])
    assert [w.split(" holds one value")[0] for w in warnings] == ["Every band of the SAR or LiDAR layer 'lidar'"]


def test_a_scene_of_more_scenes_with_a_handful_of_pixels_in_the_sample_is_not_judged_blank(tmp_path):
    """A scene of MORE_SCENES that gives the statistics sample one pixel, beside a far larger first scene, is no
    blank image for it: one pixel holds one value in every band."""
    hsi = write_raster(tmp_path / "hsi.tif", _reflectance(), scale=0.0001)
    aux = write_raster(tmp_path / "aux.tif", np.random.default_rng(4).normal(size=(1, SIZE, SIZE)).astype(np.float32))
    warnings = []
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux")]) as scene:
        sample = scene_checks.counted_sample(scene, 1, 0, Hooks(), None)
        scene_checks.check_sample(sample, scene, Hooks(warn=warnings.append), "learn", training=True,
                                  share_of=SIZE * SIZE, whose=" of MORE_SCENES")
    assert (len(sample), warnings) == (1, [])


def test_the_statistics_sample_of_two_scenes_reports_its_progress_in_order(tmp_path):
    seen: list = []
    first, second = (write_scene_files(tmp_path, name, 10.0) for name in ("first", "second"))
    with layers_of(first).open(Hooks()) as one, layers_of(second).open(Hooks()) as two:
        jobs._pixel_sample([one, two], 7, Hooks(progress=seen.append), None, (SIZE * SIZE, SIZE * SIZE))
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and any(0.0 < value < 1.0 for value in seen)


# Refusals before the training --------------------------------------------------------------------


def _no_aux(tmp_path) -> jobs.Layers:

    return jobs.Layers(scene_layers(tmp_path, 16).hsi, [])


@pytest.mark.parametrize("job", ["pretrain", "finetune"])
def test_a_training_without_a_sar_or_lidar_layer_is_refused_naming_input_aux(tmp_path, job):
    settings, output = TrainSettings(epochs=1, device="cpu"), str(tmp_path / "m.safetensors")
    with pytest.raises(InputError, match="^INPUT_AUX: no SAR or LiDAR layer is given. Add at least one auxiliary "
                                         r"raster\.$"):
        if job == "pretrain":
            jobs.pretrain_job(_no_aux(tmp_path), preset="tiny", masking=MaskingSettings(), samples=10,
                              settings=settings, output=output, hooks=Hooks())
        else:
            labels = write_raster(tmp_path / "labels.tif", np.arange(256, dtype=np.uint8).reshape(1, 16, 16) % 2 + 1)
            jobs.finetune_job(_no_aux(tmp_path), jobs.LabelSource("labels", raster_path=labels), pretrained=None,
                              preset="tiny", val_fraction=0.0, settings=settings, class_weighting=False,
                              output=output, hooks=Hooks())
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("samples", [0, -5])
def test_a_pretraining_of_no_samples_is_refused_before_the_scene_is_read(tmp_path, samples):
    lines = []
    with pytest.raises(InputError, match=rf"^SAMPLES must be at least 1; got {samples}\.$"):
        jobs.pretrain_job(scene_layers(tmp_path, 16), preset="tiny", masking=MaskingSettings(), samples=samples,
                          settings=TrainSettings(epochs=1, device="cpu"), output=str(tmp_path / "m.safetensors"),
                          hooks=Hooks(log=lines.append))
    assert lines == [] and not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("short, said", [
    (1, "a little more than the 2.5 MB of memory available as the model's patches (10 bands of 5 x 5 pixels each)"),
    (200_000, "about 2.5 MB of memory as the model's patches (10 bands of 5 x 5 pixels each), more than the 2.3 MB "
              "available"),
    (0, None),
])
def test_labelled_pixels_whose_patches_need_just_more_memory_than_there_is_are_refused(monkeypatch, short, said):
    """The patches of 1,000 pixels of 10 bands of 5 x 5 take 2 bytes each (float16), and a block's read 8 more as
    they are cut: 2,500,000 bytes; one byte less available is too little, said as a little more than it where both
    round alike ('about 2.5 MB ..., more than the 2.5 MB available': a helper's audit of 2026-12-06)."""
    monkeypatch.setattr(jobs, "memory_headroom", lambda: 2_500_000 - short)
    if said:
        with pytest.raises(InputError) as refused:
            jobs._refuse_patches_beyond_memory(1000, 10, 5, "labels")
        assert str(refused.value) == (f"The 1,000 labelled pixels of 'labels' take {said}: label fewer pixels (the "
                                      "neighbouring pixels of one field teach the model little that a few of them do "
                                      "not), or run on a machine with more memory.")
    else:
        jobs._refuse_patches_beyond_memory(1000, 10, 5, "labels")


# What a pretraining on several scenes says and returns --------------------------------------------


def pretrained_beside_a_scene_of(tmp_path, name: str, geotransform: tuple) -> tuple:
    """A tiny pretraining on a scene of 1 m pixels and one of `geotransform`'s ('NAME.tif' and its auxiliary
    raster): its result and its warnings."""
    first = write_scene_files(tmp_path, "first", 10.0)
    rng = np.random.default_rng(5)
    second = (write_raster(tmp_path / f"{name}.tif", (10.0 + rng.normal(size=(6, SIZE, SIZE))).astype(np.float32),
                           geotransform),
              write_raster(tmp_path / f"{name}_aux.tif", rng.normal(size=(1, SIZE, SIZE)).astype(np.float32),
                           geotransform))
    warnings = []
    result = jobs.pretrain_job(layers_of(first), preset="tiny", masking=MaskingSettings(), samples=64,
                               settings=SETTINGS, output=str(tmp_path / "m.safetensors"),
                               hooks=Hooks(warn=warnings.append), more_scenes=scene_list(tmp_path, second))
    return result, warnings


def test_a_pretraining_on_scenes_of_other_pixel_sizes_warns_and_returns_its_model_file(tmp_path):
    result, warnings = pretrained_beside_a_scene_of(tmp_path, "coarse", COARSE)
    assert [w.split(":")[0] for w in warnings] == ["The scenes' pixels differ in size ('first' 1 m, 'coarse.tif' 3 m)"]
    assert (result["path"], result["pixel_size_m"], result["pixel_sides_m"]) == (str(tmp_path / "m.safetensors"),
                                                                                 None, None)


# What a classification says ----------------------------------------------------------------------


@pytest.mark.parametrize("counts, said", [
    ({1: 9_950, 2: 50, 3: 0}, "99.50 % of the 10,000 classified pixels are 'Water' (all but 50)"),  # ONE_CLASS_SHARE
    ({1: 9_949, 2: 51, 3: 0}, None),
    ({1: 10_000, 2: 0, 3: 0}, "All 10,000 classified pixels are 'Water'"),  # ONE_CLASS_PIXELS
    ({1: 9_999, 2: 0, 3: 0}, None),
])
def test_a_map_of_one_class_is_warned_of_from_its_share_and_size_on(counts, said):
    classes = [ClassInfo(value, name, "#000000") for value, name in zip(counts, ("Water", "Trees", "Crop"))]
    warnings = []
    jobs._say_one_class({"class_counts": counts, "classified_pixels": sum(counts.values())}, classes,
                        Hooks(warn=warnings.append))
    assert [w.split(", one of the model's")[0] for w in warnings] == ([] if said is None else [said])


@pytest.mark.parametrize("dead, said", [
    ("all", "Every band of the hyperspectral layer 'hsi'"),  # said as blank, not also as bands of one value
    (30_000, f"1 of the {BANDS} hyperspectral bands"),  # far from the model's values too: said once, as dead
])
def test_bands_of_one_value_before_a_map_are_said_once(tmp_path, dead, said):
    side = 320  # CONSTANT_CHECK_PIXELS: bands of one value are looked for
    rng = np.random.default_rng(0)
    aux = write_raster(tmp_path / "aux.tif", rng.normal(size=(1, side, side)).astype(np.float32))
    reflectance = rng.integers(200, 3000, size=(BANDS, side, side)).astype(np.int16)
    trained_on = _statistics(write_raster(tmp_path / "clean.tif", reflectance), aux)
    if dead == "all":
        reflectance[:] = 1234
    else:
        reflectance[2] = dead
    warnings = _map_warnings(write_raster(tmp_path / "dead.tif", reflectance), aux, trained_on)
    assert [w.split(" holds one value")[0] for w in warnings] == [said]


@pytest.mark.parametrize("valid, side, window, said", [
    (40, 9, None, "Only 40 of the 81 pixels of the grid have"),  # fewer than half of a small scene's pixels
    (41, 9, None, None),  # half of them or more: a small scene, not layers that hardly overlap
    (49, 100, (10, 10), "Only 49 of the 100 pixels of EXTENT in the grid have"),
    (50, 100, (10, 10), None),  # half of EXTENT's pixels, not of the scene's
])
def test_too_few_valid_pixels_are_judged_against_half_the_pixels_looked_at(valid, side, window, said):
    scene = SimpleNamespace(width=side, height=side, hsi_name="hsi", aux_names=["aux"], grid_label="the grid")
    warnings = []
    few = scene_checks.say_few_valid_pixels(valid, scene, Hooks(warn=warnings.append), "learn",
                                            Window(0, 0, *window) if window else None)
    assert (few, [w.split(" valid values")[0] for w in warnings]) == (said is not None, [said] if said else [])


@pytest.mark.parametrize("pretrained, outcome", [(False, "MODEL"), (True, "PRETRAINED")])
def test_a_model_file_meeting_pixels_of_another_size_is_warned_of(tmp_path, pretrained, outcome):
    hsi = write_raster(tmp_path / "hsi.tif", _reflectance(), COARSE)
    aux = write_raster(tmp_path / "aux.tif", np.ones((1, SIZE, SIZE), np.float32), COARSE)
    metadata = {"pixel_size_m": 1.0, "pixel_sides_m": [1.0, 1.0], "patch": 7}
    warnings = []
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux")]) as scene:
        jobs._check_model_file(metadata, scene, "m.safetensors", outcome, Hooks(warn=warnings.append), pretrained)
    assert [w.split(":")[0] for w in warnings if "pixels of about 3 m" in w] == [f"{outcome}"]


# What a suggestion run reports ----------------------------------------------------------------------


def _suggest(trained, tmp_path, hooks, points: int = 50, **options):
    layers = jobs.Layers(RasterInput(str(trained.scene.hsi), "hsi"), [RasterInput(str(trained.scene.lidar), "lidar")])
    return jobs.suggest_job(trained.model, layers, count=points, min_distance=1.5, output=str(tmp_path / "next.gpkg"),
                            hooks=hooks, tile_size=32, **options)


def test_a_suggestion_run_reports_its_progress_in_order_up_to_the_end(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(suggestions, "WALK_STEP", 10)
    seen: list = []
    result = _suggest(trained, tmp_path, Hooks(progress=seen.append))
    assert result["count"] == 50 and len(result["rows"]) == 50
    assert seen == sorted(seen) and 0.0 <= seen[0] and seen[-1] == pytest.approx(1.0, abs=0.03)
    assert any(0.9 < value < 0.95 for value in seen) and any(0.95 < value < 1.0 for value in seen)


def test_a_cancel_while_the_points_are_written_leaves_no_file(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(suggestions, "WALK_STEP", 10)
    seen: list = []
    with pytest.raises(Canceled):
        _suggest(trained, tmp_path, Hooks(progress=seen.append, is_canceled=lambda: bool(seen) and seen[-1] > 0.96))
    assert list(tmp_path.iterdir()) == []


def test_the_trained_pixels_left_out_of_the_points_are_counted_inside_the_mask_alone(trained, tmp_path):
    recorded = model_file.read_metadata(trained.model, [model_file.CLASSIFIER])["trained_pixels"]
    grid = Grid(trained.map.values.shape[1], trained.map.values.shape[0], tuple(recorded["geotransform"]), "")
    rows, cols, _all = training_pixels.trained_positions(recorded, grid)
    inside = int(np.count_nonzero((rows >= 24) & (rows < 44) & (cols >= 20) & (cols < 40)))
    assert 1 < inside < len(rows)
    x0, y0 = ORIGIN
    area = write_vector(tmp_path / "area.gpkg", [(box_wkt(x0 + 20, y0 - 44, x0 + 40, y0 - 24), {})], {})
    lines: list = []
    _suggest(trained, tmp_path, Hooks(log=lines.append), 5, mask_path=area, mask_name="area")
    assert f"{inside} pixels the classifier was trained on are not suggested." in lines


# What a fine-tuning says -------------------------------------------------------------------------------


def _fine_tune(tmp_path, hooks, aux=None, **settings) -> None:
    """A fine-tuning from scratch on a 12 x 12 scene of three classes (`aux`: its SAR or LiDAR values)."""
    rng = np.random.default_rng(0)
    hsi = write_raster(tmp_path / "hsi.tif", rng.normal(size=(6, 12, 12)).astype(np.float32))
    aux = rng.normal(size=(1, 12, 12)).astype(np.float32) if aux is None else aux
    layers = jobs.Layers(RasterInput(hsi, "hsi"), [RasterInput(write_raster(tmp_path / "aux.tif", aux,
                                                                            nodata=-9999.0), "aux")])
    labels = jobs.LabelSource("labels", raster_path=write_raster(tmp_path / "labels.tif", _three_classes(10)))
    jobs.finetune_job(layers, labels, pretrained=None, preset="tiny", val_fraction=0.0,
                      settings=TrainSettings(device="cpu", **settings), class_weighting=False,
                      output=str(tmp_path / "m.safetensors"), hooks=hooks)


def test_a_fine_tuning_reports_its_progress_in_order(tmp_path):
    seen: list = []
    _fine_tune(tmp_path, Hooks(progress=seen.append), epochs=2, batch_size=16)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert any(0.0 < value <= 0.03 for value in seen)  # the statistics sample's own share
    assert min(value for value in seen if value > 0.08) > 0.1  # the training's, after the patches' share


def test_a_fine_tuning_names_the_class_nodata_leaves_out(tmp_path):
    aux = np.random.default_rng(1).normal(size=(1, 12, 12)).astype(np.float32)
    aux[0, 10, :] = -9999.0  # under every sample of class 3
    warnings: list = []
    _fine_tune(tmp_path, Hooks(warn=warnings.append), aux, epochs=1)
    assert [w for w in warnings if w.startswith("Nodata in ")] == [
        "Nodata in 'aux' leaves out samples of 'labels', some classes far more than the "
        "others: 10 of the 10 of '3' (100 %, so it is left out of the model). Check the layers' nodata values, or "
        "place samples on pixels with data."]
