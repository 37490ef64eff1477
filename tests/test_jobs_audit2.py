"""A second mutation audit of a classification (jobs.py, raster/predict.py, runs.py) and of bin/mrs (cli.py), as an
analyst meets them: the map and confidence raster of one tile size against another's, and of an extent against the
whole map's; the words and figures of the log; progress and nodata where tiles are skipped; the results, the bar's
last line and the ending of a bin/mrs run. Each test fails on a small, plausible bug that the suite let pass (a
helper's audit of 2026-12-07, each checked to fail on its bug and pass without it)."""

import io
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal
from rasters import ORIGIN_X, ORIGIN_Y, write_raster
from test_cli_audit import Terminal, sigint_kept  # noqa: F401 (the fixture)
from test_raster_predict import (CLASSES, HALO, HEIGHT, WIDTH, WindowModel,  # noqa: F401
                                 out, scene)  # (the fixtures)
from test_raster_writers import read_raster

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.training import TrainSettings
from mrs.mrs_qgis_plugin import jobs
from mrs.mrs_qgis_plugin.raster.grid import Window, tiles
from mrs.mrs_qgis_plugin.raster.predict import pixel_shares, predict_scene, predicted_tiles
from mrs.mrs_qgis_plugin.raster.sources import RasterInput

ROWS, COLS = 18, 22


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A tiny classifier fine-tuned from scratch on a 22 x 18 scene of three classes (in bands of columns, the third
    in the lower left corner too), whose map of the scene holds more than one class; the scene's hyperspectral layer
    has a hole of nodata and its LiDAR a row of nodata along the bottom edge."""
    folder = tmp_path_factory.mktemp("classifier")
    rng = np.random.default_rng(0)
    truth = np.ones((ROWS, COLS), np.uint8)
    truth[:, 8:15], truth[:, 15:], truth[10:, :8] = 2, 3, 3
    hsi = (0.3 * rng.normal(size=(4, ROWS, COLS))
           + np.stack([3.0 * (truth == value) for value in (1, 2, 3)] + [0.0 * truth])).astype(np.float32)
    hsi[:, 5:9, 3:7] = -9999.0
    aux = rng.normal(size=(1, ROWS, COLS)).astype(np.float32)
    aux[0, ROWS - 1] = -9999.0
    labels = np.zeros((1, ROWS, COLS), np.uint8)
    labels[0, ::3, ::3] = truth[::3, ::3]
    layers = jobs.Layers(RasterInput(write_raster(folder / "hsi.tif", hsi, nodata=-9999.0), "hsi"),
                         [RasterInput(write_raster(folder / "aux.tif", aux, nodata=-9999.0), "aux")])
    model = str(folder / "classifier.safetensors")
    jobs.finetune_job(layers, jobs.LabelSource("labels", raster_path=write_raster(folder / "labels.tif", labels)),
                      pretrained=None, preset="tiny", val_fraction=0.0,
                      settings=TrainSettings(device="cpu", epochs=4, lr=0.01, batch_size=16), class_weighting=False,
                      output=model, hooks=Hooks())
    return SimpleNamespace(model=model, layers=layers)


def _classify(classifier, folder, name, tile_size=64, hooks=None, confidence=True, **options):
    """classify_job into `folder`/`name`.tif (and its confidence raster); returns the summary, the map's and the
    confidence's values and the log lines."""
    lines = []
    hooks = hooks or Hooks()
    summary = jobs.classify_job(classifier.model, classifier.layers, output=str(folder / f"{name}.tif"),
                                confidence=str(folder / f"{name}_confidence.tif") if confidence else None,
                                tile_size=tile_size, batch_size=options.pop("batch_size", None), device="cpu",
                                hooks=Hooks(log=lambda line: (lines.append(line), hooks.log(line)),
                                            warn=hooks.warning, progress=hooks.progress,
                                            is_canceled=hooks.is_canceled), **options)
    confidence_values = read_raster(folder / f"{name}_confidence.tif").values if confidence else None
    return summary, read_raster(folder / f"{name}.tif").values, confidence_values, lines


# Tile seams and extents, with a real classifier ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def whole_map(classifier, tmp_path_factory):
    """The scene classified in one tile."""
    return _classify(classifier, tmp_path_factory.mktemp("whole"), "one_tile")


@pytest.mark.parametrize("tile_size, extent, window", [
    (5, None, (0, 0, COLS, ROWS)),  # tiles that cut through the nodata hole, halos across the seams
    (8, (ORIGIN_X + 3, ORIGIN_Y - 17, ORIGIN_X + 21, ORIGIN_Y - 2), (3, 2, 18, 15)),  # an extent's column != row
    (64, (ORIGIN_X + 2, ORIGIN_Y - ROWS, ORIGIN_X + COLS, ORIGIN_Y - 9), (2, 9, 20, 9)),  # to the scene's edges
])
def test_a_map_is_the_same_whatever_its_tiles_and_an_extent_s_is_that_window_of_the_whole_map(
        classifier, whole_map, tmp_path, tile_size, extent, window):
    """The class map of any tile size equals the map in one tile, and the map and confidence raster of an extent
    equal the whole map's pixels there, nodata included, with the figures of the log counted on that window (the
    confidence to float32's last digits: a batch of other pixels rounds otherwise)."""
    _summary, whole_classes, whole_confidence, _lines = whole_map
    assert len(np.unique(whole_classes[whole_classes > 0])) > 1 and (whole_classes == 0).any()
    summary, classes, confidence, lines = _classify(classifier, tmp_path, "map", tile_size, extent=extent)
    col, row, width, height = window
    expected = whole_classes[row:row + height, col:col + width]
    np.testing.assert_array_equal(classes, expected)
    np.testing.assert_allclose(confidence, whole_confidence[row:row + height, col:col + width], rtol=0, atol=1e-6)
    assert np.array_equal(confidence == -1, expected == 0)
    nodata = int(np.count_nonzero(expected == 0))
    assert (summary["classified_pixels"], summary["nodata_pixels"]) == (expected.size - nodata, nodata)
    assert summary["class_counts"] == {value: int(np.count_nonzero(expected == value)) for value in (1, 2, 3)}
    assert f"Predicting {width} x {height} pixels in " in " ".join(lines)
    assert lines[-1].startswith(f"Wrote {tmp_path / 'map.tif'}: {expected.size - nodata} pixels classified, "
                                f"{nodata} no data")


# Progress and nodata of the tiles ---------------------------------------------------------------------------------


def test_predicted_tiles_that_skip_the_last_tiles_still_report_every_tile_up_to_the_end(scene):
    """mrs:suggest predicts only the tiles a MASK covers: the bar moves past the others too, to the end."""
    progress = []
    predicted = [tile for tile, _index, _confidence in predicted_tiles(
        scene, WindowModel(), HALO, 8, Hooks(progress=progress.append), needed=lambda tile: tile.col == 0)]
    assert [(tile.col, tile.row) for tile in predicted] == [(0, 0), (0, 8), (0, 16)]
    assert progress == pytest.approx(pixel_shares(list(tiles(Window(0, 0, WIDTH, HEIGHT), 8)))[1:].tolist())
    assert progress[-1] == 1.0


@pytest.mark.parametrize("tile_size", [1, 64])
def test_a_map_of_one_tile_or_many_without_a_valid_pixel_is_said_to_hold_only_nodata(scene, out, tile_size):
    lines = []
    summary = predict_scene(scene, WindowModel(), HALO, CLASSES, str(out / "map.tif"), None, tile_size,
                            Hooks(log=lines.append), window=(13, 4, 5, 5))  # inside the nodata block
    assert (summary["classified_pixels"], summary["nodata_pixels"]) == (0, 25)
    assert lines[-1].startswith("The map holds only nodata: no pixel has valid values in every layer ('hsi')")


# What a classification says and returns ---------------------------------------------------------------------------


def test_the_classification_s_first_line_says_a_batch_of_one_pixel_in_the_singular(classifier, tmp_path):
    extent = (ORIGIN_X + 10, ORIGIN_Y - 2, ORIGIN_X + 12, ORIGIN_Y)  # 2 x 2 pixels: four batches of one
    _summary, _classes, _confidence, lines = _classify(classifier, tmp_path, "map", batch_size=1, extent=extent,
                                                       confidence=False)
    assert [line for line in lines if line.startswith("Classifying with")] == [
        "Classifying with 'classifier.safetensors' (tiny preset, 3 classes) on cpu, float32, batches of 1 pixel."]


def test_a_map_of_one_class_is_warned_of_by_the_classification_itself(classifier, whole_map, tmp_path, monkeypatch):
    """`_say_one_class` on the map just written (here with thresholds lowered to this small map's share)."""
    counts = whole_map[0]["class_counts"]
    value, most = max(counts.items(), key=lambda item: item[1])
    classified = sum(counts.values())
    monkeypatch.setattr(jobs, "ONE_CLASS_SHARE", most / classified)
    monkeypatch.setattr(jobs, "ONE_CLASS_PIXELS", classified)
    warnings = []
    _classify(classifier, tmp_path, "map", hooks=Hooks(warn=warnings.append), confidence=False)
    share = np.floor(10_000 * most / classified) / 100
    assert [w.split(", one of the model's")[0] for w in warnings] == [
        f"{share:.2f} % of the {classified:,} classified pixels are '{value}' (all but {classified - most:,})"]


def test_a_classification_s_results_are_the_absolute_paths_it_wrote_as_bin_mrs_prints_them(classifier, tmp_path,
                                                                                              monkeypatch):
    from mrs.mrs_qgis_plugin import runs

    monkeypatch.chdir(tmp_path)
    values = {"MODEL": classifier.model, "INPUT_HSI": classifier.layers.hsi, "INPUT_AUX": list(classifier.layers.aux),
              "OUTPUT": "map.tif", "OUTPUT_CONFIDENCE": "confidence.tif", "TILE_SIZE": 64, "BATCH_SIZE": None,
              "DEVICE": "cpu", "PRECISION": "auto"}
    assert runs.run("classify", values, Hooks()) == {"OUTPUT": str(tmp_path / "map.tif"),
                                                      "OUTPUT_CONFIDENCE": str(tmp_path / "confidence.tif")}


def test_under_torchrun_the_tiles_are_the_smallest_any_process_s_memory_holds():
    lines = []
    predictor = SimpleNamespace(tile_size_within_memory=lambda size: min(size, 700))
    ranks = SimpleNamespace(exchange=lambda own: [own, 300, 500], broadcast=lambda item: item)
    assert jobs._tile_size(predictor, 1024, Hooks(log=lines.append), ranks) == 300
    assert lines == ["Tiles of 1024 x 1024 pixels would take more than 25% of the memory available now; tiles of up "
                     "to 300 x 300 are used (the map is the same)."]


def test_a_map_written_over_one_with_another_existing_confidence_raster_says_the_earlier_one_is_left(classifier,
                                                                                                      tmp_path):
    """OUTPUT_CONFIDENCE given, but another file than the earlier map's confidence raster: that raster is left as
    the earlier map's, and said to be (only the earlier raster itself given again is no news)."""
    _classify(classifier, tmp_path, "map")  # map.tif with map_confidence.tif
    _classify(classifier, tmp_path, "other")  # other_confidence.tif, an existing file
    warnings = []
    jobs.classify_job(classifier.model, classifier.layers, output=str(tmp_path / "map.tif"),
                      confidence=str(tmp_path / "other_confidence.tif"), tile_size=64, batch_size=None, device="cpu",
                      hooks=Hooks(warn=warnings.append))
    assert warnings == [f"The earlier map at OUTPUT was written with the confidence raster "
                        f"{tmp_path / 'map_confidence.tif'}, which this run leaves as it was: it is the earlier map's, "
                        "not this one's. Give it as OUTPUT_CONFIDENCE to write this map's, or delete it."]
    warnings.clear()
    jobs.classify_job(classifier.model, classifier.layers, output=str(tmp_path / "map.tif"),
                      confidence=str(tmp_path / "other_confidence.tif"), tile_size=64, batch_size=None, device="cpu",
                      hooks=Hooks(warn=warnings.append))
    assert warnings == []


@pytest.mark.parametrize("metadata, tags", [
    ({"trained_on": "/d/points.gpkg", "class_field": {"name": "kind", "text": True}},
     {"MRS_TRAINED_ON": "/d/points.gpkg", "MRS_CLASSES_NUMBERED_FROM_NAMES": "yes"}),
    ({"trained_on": "", "class_field": {"name": "class_id", "text": False}, "trained_pixels": {"count": 3}},
     {"MRS_TRAINED_PIXELS": '{"count": 3}'}),
])
def test_a_map_s_tags_say_what_its_classifier_was_trained_on_and_whether_it_numbered_text_classes(metadata, tags):
    assert jobs._training_tags(metadata) == tags


def test_a_gpu_out_of_memory_said_without_the_word_gpu_is_told_the_gpu_s_remedies(monkeypatch):
    """torch's kernels say 'CUDA error: out of memory', without the word GPU: the CPU's remedies (ulimit -v) are
    no use there."""
    from mrs.model_core.errors import OutOfMemory
    from mrs.mrs_qgis_plugin import runs

    def out_of_memory(_values, _hooks):
        raise RuntimeError("CUDA error: out of memory")

    monkeypatch.setitem(runs.RUNNERS, "classify", out_of_memory)
    with pytest.raises(OutOfMemory) as raised:
        runs.run("classify", {}, Hooks())
    assert str(raised.value) == ("Not enough GPU memory for this run (CUDA error: out of memory): lower TILE_SIZE or "
                                 "BATCH_SIZE, run on a GPU with more free memory (DEVICE), or on the CPU (DEVICE cpu).")


# bin/mrs ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, bounds", [
    ("-10.5,-5,-20,-15", (-10.5, -20.0, -5.0, -15.0)),  # west of Greenwich and south of the equator
    (" +1e3 , 2E3,-.5,4. ", (1000.0, -0.5, 2000.0, 4.0)),
])
def test_an_extent_s_numbers_may_be_signed_as_qgis_writes_them(text, bounds):
    from mrs.mrs_qgis_plugin.cli import extent_of

    assert extent_of(text, "the hyperspectral raster is not read for an extent without a CRS") == bounds


def test_a_job_that_needs_no_torch_is_not_refused_where_torch_is_missing(monkeypatch):
    """mrs:demoscene runs with numpy and GDAL alone, before torch is installed."""
    from mrs.mrs_qgis_plugin import cli, dependencies
    from mrs.mrs_qgis_plugin.job_parameters import JOBS

    monkeypatch.setattr(dependencies, "import_problem",
                        lambda module: "not installed" if module == "torch" else None)
    assert cli._missing_packages(JOBS["demoscene"], {}) is None
    assert cli._missing_packages(JOBS["classify"], {}).startswith("bin/mrs classify needs torch (install with: ")


@pytest.mark.parametrize("ending, code, alone", [
    ("voted cancel", 130, False),  # the processes stopped together: each waits for the others as it leaves
    ("own cancel", 130, True),
    ("refusal", 1, True),
    ("done", 0, False),
])
def test_bin_mrs_says_whether_a_run_ended_with_the_other_processes_or_alone(monkeypatch, sigint_kept, ending, code,
                                                                              alone):
    from mrs.model_core.errors import Canceled
    from mrs.mrs_qgis_plugin import cli

    def run_job(_job, _given, _report, _out):
        if ending == "done":
            return 0
        raise {"voted cancel": Canceled(voted=True), "own cancel": Canceled(), "refusal": InputError("No.")}[ending]

    monkeypatch.setattr(cli, "run_job", run_job)
    assert cli.main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), io.StringIO()) == code
    assert cli.ended_alone() is alone


def test_a_finished_run_s_bar_ends_its_line_before_the_results(monkeypatch, tmp_path, sigint_kept):
    from mrs.mrs_qgis_plugin import cli, runs

    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setattr(gdal, "DontUseExceptions", lambda: None)  # the suite's GDAL left as it is

    def finished(_job, _values, hooks):
        hooks.progress(1.0)
        return {"OUTPUT": str(tmp_path / "scene")}

    monkeypatch.setattr(runs, "run", finished)
    out, err = io.StringIO(), Terminal()
    assert cli.main(["demoscene", f"--OUTPUT={tmp_path / 'scene'}"], out, err) == 0
    assert err.getvalue().endswith("100 %\x1b[K\n")
    assert out.getvalue() == f"OUTPUT:\t{tmp_path / 'scene'}\n"
