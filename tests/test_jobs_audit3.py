"""Third audit of mrs_qgis_plugin/jobs.py: what the earlier tests left unpinned (mutation survivors)."""

import numpy as np
import pytest

from mrs.model_core.errors import ChangedFileError, InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.paths import checkpoint_path_for
from mrs.model_core.training import TrainSettings
from mrs.mrs_qgis_plugin import jobs
from test_suggest import mrs, trained  # noqa: F401 (fixtures)


def test_a_checkpoint_of_one_batch_is_said_in_the_singular():
    """A checkpoint of one batch in its first epoch is '1 batch of the first of its 4 epochs done'."""
    info = {"phase": "pretraining", "settings": {"epochs": 4}, "state": {"epoch": 0, "step": 1}}
    assert jobs._progress(info) == ("pretraining", "pretraining (1 batch of the first of its 4 epochs done)")


@pytest.mark.parametrize("writer, phase, how", [
    ("pretraining", None, "Resume it with mrs:pretrain alone (its RESUME; the workflow does not resume)"),
    ("fine-tuning", None, "Resume it with mrs:finetune alone (its RESUME; the workflow does not resume)"),
    ("pretraining", "fine-tuning", "Resume it with the pretraining that wrote it (its RESUME)"),
])
def test_the_workflow_s_refusal_of_an_earlier_checkpoint_names_the_algorithm_that_resumes_it(tmp_path, monkeypatch,
                                                                                              writer, phase, how):
    """The workflow (no phase) is told to resume a checkpoint with its own algorithm alone, naming that algorithm."""
    checkpoint = str(tmp_path / "pre.checkpoint.safetensors")
    with open(checkpoint, "wb") as stream:
        stream.write(b"x")
    info = {"phase": writer, "settings": {"epochs": 3}, "state": {"epoch": 2, "step": 7}}
    monkeypatch.setattr(jobs, "_checkpoint_info", lambda path: info)
    with pytest.raises(InputError) as refused:
        jobs.refuse_earlier_progress(checkpoint, "pretrain:PRETRAINED's checkpoint", phase)
    assert str(refused.value) == (f"pretrain:PRETRAINED's checkpoint: {checkpoint} holds the progress of an earlier "
                                  f"{writer} (2 of its 3 epochs done), which this run would delete. {how}, delete it "
                                  "to start afresh, or choose another output file name.")


@pytest.mark.parametrize("name, whose", [
    ("other.checkpoint.safetensors",
     lambda path: f": it is OUTPUT {path.replace('.checkpoint.safetensors', '.safetensors')}'s, and refuses the "
                  "runs on that OUTPUT as their progress"),
    ("copied.bin", lambda path: ""),
])
def test_a_checkpoint_resumed_into_another_output_is_said_to_be_kept_with_whose_it_is(tmp_path, name, whose):
    """The checkpoint resumed into another OUTPUT is said to be kept, with the OUTPUT it belongs to where it has one."""
    resume, output, lines = str(tmp_path / name), str(tmp_path / "new.safetensors"), []
    with open(resume, "wb") as stream:
        stream.write(b"x")
    jobs._say_resumed_checkpoint_kept(resume, output, Hooks(log=lines.append))
    assert lines == [f"The checkpoint resumed, {resume}, is kept{whose(resume)}. This run's model, {output}, holds "
                     "its progress now: delete the checkpoint unless it is to be resumed again."]
    lines.clear()
    jobs._say_resumed_checkpoint_kept(str(tmp_path / "gone.checkpoint.safetensors"), output, Hooks(log=lines.append))
    jobs._say_resumed_checkpoint_kept(None, output, Hooks(log=lines.append))
    assert lines == []


def test_the_samples_of_each_scene_are_said_with_the_valid_pixels_inside_mask_where_fewer():
    """'Samples from 2 scenes': each scene's samples, of its valid pixels, and inside MASK of its own where fewer."""
    from types import SimpleNamespace

    records = [{"hsi_layer": "first", "samples": 1200, "valid_pixels": 5000},
               {"hsi_layer": "second", "samples": 1, "valid_pixels": 1}]
    lines = []
    jobs._say_samples_of_scenes(records, SimpleNamespace(valid_counts=(3000, 1)), Hooks(log=lines.append))
    assert lines == ["Samples from 2 scenes: 1,200 from 'first' (3,000 valid pixels inside MASK, of its 5,000); "
                     "1 from 'second' (1 valid pixel)."]


@pytest.mark.parametrize("preset, training, pretrained, said", [
    ("paper", "pretraining", False, "800 samples x 3 epochs take about 30 s (as measured on 2 cores); the small model "
                                    "learns the same recipe about 8 times faster."),
    ("paper", "fine-tuning", False, "800 samples x 3 epochs take about 13 s (as measured on 2 cores); the small model "
                                    "learns the same recipe about 4 times faster."),
    ("paper", "fine-tuning", True, "800 samples x 3 epochs take about 13 s (as measured on 2 cores)."),
    ("small", "pretraining", False, None),
])
def test_a_paper_training_on_a_cpu_is_said_how_long_it_takes(preset, training, pretrained, said):
    """The paper model's time on a CPU, by the training's pace, and the small model's speed-up unless pretrained."""
    lines = []
    settings = TrainSettings(epochs=3, batch_size=16, device="cpu", precision="fp32")
    jobs._say_how_long_paper_takes_on_a_cpu(preset, settings, 800, Hooks(log=lines.append), training, pretrained)
    assert lines == ([] if said is None else ["The paper model is meant for a GPU: on a CPU these " + said])


@pytest.mark.parametrize("measures, first", [
    ([(1.0, 1.0), (1.5, 1.5)], (1.0, 1.0)),  # within PIXEL_SIZE_RATIO to the end
    ([(1.0, 1.0), (1.5001, 1.0)], None),
    ([(2.0, 1.0), (1.0, 1.0)], None),  # the first larger
    ([(1.0,), None], None),
])
def test_pixel_measures_alike_are_those_within_the_ratio_inclusive(measures, first):
    """The first scene's measures are kept where the largest is at most PIXEL_SIZE_RATIO (1.5) times the smallest."""
    assert jobs._first_if_alike(measures) == first


@pytest.mark.parametrize("voted, kind", [(True, InputError), (False, ChangedFileError)])
def test_a_layer_changed_under_a_pretraining_says_to_start_afresh_only_where_a_checkpoint_is(tmp_path, voted, kind):
    """A change under a pretraining names the checkpoint to delete where one exists; voted, it is an InputError."""
    checkpoint = str(tmp_path / "model.checkpoint.safetensors")
    error = jobs._changed_under_training("'hsi.tif' changed.", checkpoint, voted)
    assert type(error) is kind and str(error) == "'hsi.tif' changed."
    open(checkpoint, "wb").close()
    error = jobs._changed_under_training("'hsi.tif' changed.", checkpoint, voted)
    assert type(error) is kind and str(error) == (f"'hsi.tif' changed. Start afresh rather than resume its checkpoint "
                                                  f"{checkpoint}, which holds what was read before (delete it).")


def test_the_pixels_trained_on_are_left_out_of_a_tile_and_counted_where_valid_and_allowed():
    """A tile's trained pixels, edges inclusive, are taken out of those allowed; the valid allowed ones counted."""
    from mrs.mrs_qgis_plugin.raster.grid import Window

    tile = Window(col=2, row=3, width=4, height=2)
    rows, cols = np.array([3, 4, 4, 5, 3, 3]), np.array([2, 5, 3, 2, 6, 1])  # 3 inside, then below, right, left
    valid = np.ones((2, 4), bool)
    valid[1, 1] = False  # (4, 3) is nodata
    allowed = np.ones((2, 4), bool)
    allowed[1, 3] = False  # (4, 5) is outside MASK
    left_out = []
    kept = jobs._without_trained(tile, allowed, valid, (rows, cols, True), left_out)
    assert left_out == [1] and kept.tolist() == [[False, True, True, True], [True, False, True, False]]
    kept = jobs._without_trained(tile, None, valid, (rows, cols, True), left_out)
    assert left_out == [1, 2] and kept.tolist() == [[False, True, True, True], [True, False, True, False]]
    assert jobs._without_trained(Window(0, 0, 2, 2), allowed, valid, (rows, cols, True), left_out) is allowed
    assert jobs._without_trained(tile, None, valid, None, left_out) is None and left_out == [1, 2]


def test_a_class_that_nodata_takes_exactly_a_tenth_of_is_named():
    """The least share of a class's samples for nodata to name it is inclusive: 1 of 10 is named."""
    from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
    from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels

    classes = [ClassInfo(1, "Roads", "#000001"), ClassInfo(2, "Trees", "#000002")]
    values = np.array([1] * 9 + [2] * 90)
    rows = np.arange(len(values))
    labelled = LabelledPixels(rows, rows, values, classes, nodata_pixels=1, nodata_by_class={"Roads": 1},
                              nodata_by_layer={"lidar": 1})
    warnings = []
    jobs._say_samples_lost_to_nodata(labelled, "points", Hooks(warn=warnings.append))
    assert warnings == ["Nodata in 'lidar' leaves out samples of 'points', some classes far more than the others: 1 "
                        "of the 10 of 'Roads' (10 %). Check the layers' nodata values, or place samples on pixels "
                        "with data."]


def test_each_scene_s_part_of_the_statistics_sample_has_its_own_seed_size_and_window(monkeypatch):
    """Scene i is sampled with SEED + i, in proportion to its valid pixels, EXTENT's window for the first alone;
    the others are compared with a sample of the whole first scene."""
    from types import SimpleNamespace

    from mrs.mrs_qgis_plugin.raster.grid import Window

    drawn, checked = [], []

    def counted_sample(scene, size, seed, hooks, window=None):
        drawn.append((scene.hsi_name, size, seed, window))
        return np.zeros((size, 2), np.float32)

    monkeypatch.setattr(jobs, "counted_sample", counted_sample)
    monkeypatch.setattr(jobs, "say_blank_layers", lambda *args: None)
    monkeypatch.setattr(jobs, "check_sample", lambda part, scene, *args, **kw: checked.append((len(part), kw)))
    monkeypatch.setattr(jobs, "sample_valid_pixels", lambda scene, size, seed, hooks: np.ones((size, 2), np.float32)
                        * seed)
    far = []
    monkeypatch.setattr(jobs, "_say_far_scenes", lambda scenes, parts, hooks: far.extend(parts))
    scenes = [SimpleNamespace(hsi_name="first", window=Window(0, 0, 9, 9)), SimpleNamespace(hsi_name="second")]
    window, lines = Window(1, 1, 4, 4), []
    sample = jobs._pixel_sample(scenes, 7, Hooks(log=lines.append), window, (3_000, 1_000))
    assert drawn == [("first", 37_500, 7, window), ("second", 12_500, 8, None)] and len(sample) == 50_000
    assert checked == [(37_500, {"training": True, "window": window, "share_of": 3_000, "whose": ""}),
                       (12_500, {"training": True, "window": None, "share_of": 1_000, "whose": " of MORE_SCENES"})]
    assert lines == ["Statistics sample: 50,000 valid pixels in all, from 2 scenes."]
    # the scenes are compared with the whole first scene's pixels, drawn with SEED, not EXTENT's
    assert [part.shape for part in far] == [(2_000, 2), (12_500, 2)] and far[0][0, 0] == 7


@pytest.mark.parametrize("later, fingerprint, finished", [(0, "abc", True), (-1, "abc", False), (5, "other", False)])
def test_a_model_written_as_its_checkpoint_s_last_save_finishes_that_run(tmp_path, monkeypatch, later, fingerprint,
                                                                         finished):
    """A model of the checkpoint's samples and settings, of its time or later, is that run finished; not earlier."""
    import os

    from mrs.model_core import model_file

    model = str(tmp_path / "m.safetensors")
    checkpoint = checkpoint_path_for(model)
    for path in (model, checkpoint):
        open(path, "wb").close()
    os.utime(checkpoint, (1_000_000, 1_000_000))
    os.utime(model, (1_000_000 + later,) * 2)
    training = {"samples_fingerprint": fingerprint, "settings": {"epochs": 3}}
    monkeypatch.setattr(model_file, "read_metadata", lambda path, kinds: {"training": training})
    run = {"fingerprint": "abc", "settings": {"epochs": 3}}
    assert jobs._finished_since(checkpoint, "pretraining", run) is finished


def test_a_scene_of_few_valid_pixels_before_a_map_is_said_too_few_to_make_a_map_of(tmp_path):
    """The value check before a map says its few valid pixels are too few 'to make a map of' the scene."""
    from rasters import write_raster
    from test_scene_checks import SIZE, _map_warnings, _reflectance, _statistics

    hsi = write_raster(tmp_path / "hsi.tif", _reflectance())
    values = np.random.default_rng(1).normal(size=(1, SIZE, SIZE)).astype(np.float32)
    normalizer = _statistics(hsi, write_raster(tmp_path / "whole.tif", values))
    values[0, 2:] = -9999.0  # 2 rows of 32 valid
    warnings = _map_warnings(hsi, write_raster(tmp_path / "aux.tif", values, nodata=-9999.0), normalizer)
    assert len(warnings) == 1 and warnings[0].startswith("Only 64 of the 1,024 pixels of ")
    assert warnings[0].endswith(" have valid values in every layer ('hsi', 'aux'): too few to make a map of the "
                                "scene. Check that the layers cover the same area, and their nodata values.")


@pytest.mark.parametrize("first, second, warned", [(50, 50, True), (49, 50, False), (50, 49, False)])
def test_scenes_far_from_the_first_are_judged_from_fifty_pixels_of_each_on(first, second, warned):
    """A listed scene far from the first is said where both hold SCENE_CHECK_PIXELS (50) pixels or more."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    scenes = [SimpleNamespace(hsi_name=name, n_bands=3, band_label=lambda index: f"b{index + 1}")
              for name in ("first", "second")]
    parts = [rng.normal(size=(first, 3)), 1000.0 + rng.normal(size=(second, 3))]
    warnings = []
    jobs._say_far_scenes(scenes, parts, Hooks(warn=warnings.append))
    assert warnings == ([
        "Scenes of MORE_SCENES hold values far from those of 'first': 'second' (3 of 3 bands, such as b1, b2, b3). "
        "Check that every scene is in the same units, scale and band order (a scale factor left out, say); pooled, "
        "they flatten each other's bands."] if warned else [])


def test_a_pretraining_on_scenes_of_pixels_of_one_size_but_other_shapes_records_no_pixel_size(tmp_path):
    """Scenes of 1 x 1 m and 2 x 0.5 m pixels (one mean size): warned of by shape, and no pixel size recorded."""
    from rasters import ORIGIN_X, ORIGIN_Y
    from test_jobs_audit import pretrained_beside_a_scene_of

    result, warnings = pretrained_beside_a_scene_of(tmp_path, "oblong", (ORIGIN_X, 2.0, 0.0, ORIGIN_Y, 0.0, -0.5))
    assert [w.split(":")[0] for w in warnings] == [
        "The scenes' pixels differ in shape ('first' 1 m, 'oblong.tif' 2 m across by 0.5 m down)"]
    assert (result["pixel_size_m"], result["pixel_sides_m"]) == (None, None)


@pytest.mark.parametrize("pixels, side, constant", [(100, 320, [0]), (99, 320, []), (100, 316, [])])
def test_bands_of_one_value_are_looked_for_in_a_sample_of_a_hundred_pixels_of_a_large_scene(pixels, side, constant):
    """A constant hyperspectral band is found from FEW_PIXELS (100) sampled pixels of 100,000 or more on."""
    from types import SimpleNamespace

    sample = np.column_stack([np.full(pixels, 5.0), np.arange(pixels, dtype=float), np.zeros(pixels)])
    scene = SimpleNamespace(width=side, height=side, n_hsi=2)
    found = jobs._constant_bands(SimpleNamespace(center=np.zeros(3)), sample, scene)
    assert found.tolist() == constant


# What a suggestion run says ------------------------------------------------------------------------


def test_suggestions_from_a_sampled_record_of_trained_pixels_say_others_may_be_suggested(trained, tmp_path,
                                                                                         monkeypatch):
    """Trained pixels left out of the points, of a record that is a sample, are said to be only those recorded."""
    from processing_helpers import scene_layers

    from mrs.mrs_qgis_plugin import training_pixels
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput

    recorded = training_pixels.labelled_positions
    monkeypatch.setattr(training_pixels, "labelled_positions", lambda *args: recorded(*args)[:2] + (False,))
    paths, lines = scene_layers(trained.scene), []
    layers = jobs.Layers(RasterInput(paths["INPUT_HSI"], "hsi"), [RasterInput(paths["INPUT_AUX"][0], "lidar")])
    jobs.suggest_job(trained.model, layers, count=3, min_distance=1.0, output=str(tmp_path / "p.gpkg"),
                     hooks=Hooks(log=lines.append))
    said = [line for line in lines if "not suggested" in line]
    assert len(said) == 1 and said[0].endswith(
        " the classifier was trained on are not suggested (those its model file records; of more than 4,096 it "
        "records a sample, so others may be).")


def test_an_extent_without_a_valid_pixel_is_refused_with_where_and_what_to_choose(trained, tmp_path):
    """No valid pixel in the extent is refused naming the extent, and telling to choose another EXTENT."""
    from osgeo import gdal
    from processing_helpers import scene_layers

    from mrs.mrs_qgis_plugin.raster.sources import RasterInput
    from mrs.mrs_qgis_plugin.synthetic_scene import ORIGIN

    paths = scene_layers(trained.scene)
    lidar = str(tmp_path / "lidar.tif")
    gdal.Translate(lidar, paths["INPUT_AUX"][0])
    dataset = gdal.Open(lidar, gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(-9999.0)
    band.WriteArray(np.full((10, 10), -9999.0, np.float32))  # the north-west corner
    dataset = None
    layers = jobs.Layers(RasterInput(paths["INPUT_HSI"], "hsi"), [RasterInput(lidar, "lidar")])
    x, y = ORIGIN
    with pytest.raises(InputError) as refused:
        jobs.suggest_job(trained.model, layers, count=3, min_distance=1.0, output=str(tmp_path / "p.gpkg"),
                         hooks=Hooks(), extent=(x + 1, y - 8, x + 8, y - 1))
    assert str(refused.value) == ("No pixel in the extent is valid in every input layer, so none can be suggested. "
                                  "Choose an EXTENT where the layers have data.")


@pytest.mark.parametrize("room, refused", [(1_328_576, False), (1_328_575, True)])
def test_the_memory_of_labelled_pixels_counts_the_read_of_one_tile_at_most(monkeypatch, room, refused):
    """70,000 pixels of 2 bands of 1 x 1 take 4 bytes each as patches, and 16 of the 65,536 pixels of one tile
    read: 1,328,576 bytes, not 16 bytes more per pixel beyond a tile."""
    monkeypatch.setattr(jobs, "memory_headroom", lambda: room)
    if refused:
        with pytest.raises(InputError, match="The 70,000 labelled pixels of 'labels' take a little more than"):
            jobs._refuse_patches_beyond_memory(70_000, 2, 1, "labels")
    else:
        jobs._refuse_patches_beyond_memory(70_000, 2, 1, "labels")


def test_one_sample_on_a_pixel_of_another_of_its_class_is_said_in_the_singular(tmp_path):
    """'1 sample of 'points' falls on a pixel that another sample of its class holds'."""
    from osgeo import ogr
    from rasters import pixel_centre, point_wkt, write_vector
    from test_streaming import scene_layers

    features = [(point_wkt(x + shift, y), {"class": 1 + row % 2}) for row in range(8)
                for x, y in [pixel_centre(row, 3)] for shift in ((0.0, 0.3) if row == 0 else (0.0,))]
    points = write_vector(tmp_path / "points.gpkg", features, {"class": ogr.OFTInteger})
    lines = []
    jobs.finetune_job(scene_layers(tmp_path, 24), jobs.LabelSource("points", vector_path=points, class_field="class"),
                      pretrained=None, preset="tiny", val_fraction=0.0,
                      settings=TrainSettings(epochs=1, batch_size=8, device="cpu"), class_weighting=False,
                      output=str(tmp_path / "model.safetensors"), hooks=Hooks(log=lines.append))
    assert "1 sample of 'points' falls on a pixel that another sample of its class holds: each such pixel is " \
           "trained on once." in lines


@pytest.mark.parametrize("epochs, done, step, said", [
    (1, 0, 2, "fine-tuning (2 batches of its one epoch done)"), (1, 1, 9, "fine-tuning (its one epoch done)"),
    (4, 0, 1, "fine-tuning (1 batch of the first of its 4 epochs done)"),
    (4, 2, 9, "fine-tuning (2 of its 4 epochs done)"),
])
def test_the_progress_of_a_checkpoint_is_said_of_its_one_epoch_or_of_its_epochs(epochs, done, step, said):
    """A checkpoint of a training of one epoch was said as '... of the first of its 1 epochs done' or '1 of its 1
    epochs done' (a bug the audit found)."""
    info = {"phase": "fine-tuning", "settings": {"epochs": epochs}, "state": {"epoch": done, "step": step}}
    assert jobs._progress(info) == ("fine-tuning", said)
