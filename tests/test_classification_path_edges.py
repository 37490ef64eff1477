"""Edges of the classification path that no test pinned, found by a mutation audit of 2026-12-06: the
window and tile-size checks, a VRT rewritten under a classification, `predicted_tiles`' cancel,
progress and pace, the streamed patches at block edges and on a non-square scene, the block cache,
the fingerprints of pretraining samples, and the memory estimates and out-of-memory retries of the
tile predictor."""

import os

import numpy as np
import pytest
import torch
from osgeo import gdal
from rasters import write_raster
from test_raster_predict import (CLASSES, HALO, HEIGHT, WIDTH, WindowModel, expected_maps, make_scene,  # noqa: F401
                                  out, scene)  # the fixtures
from test_raster_writers import read_raster
from test_streaming import TINY

from mrs.model_core import inference
from mrs.model_core.errors import Canceled, ChangedFileError, InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.inference import TilePredictor, default_batch_size, memory_batch_limit
from mrs.model_core.model import SSMAEClassifier
from mrs.model_core.preprocessing import Normalizer
from mrs.mrs_qgis_plugin.raster import TILE_SIZE, sources
from mrs.mrs_qgis_plugin.raster.grid import Window, tiles
from mrs.mrs_qgis_plugin.raster.patches import check_patch_size, cut_patches, pixels_at, valid_at
from mrs.mrs_qgis_plugin.raster.predict import _nodata_text, predict_scene, predicted_tiles
from mrs.mrs_qgis_plugin.raster.samples import Positions
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.streaming import (MAX_POSITIONS, ArchivePatches, BlockCache, ScenePatches, normalised_patches,
                                           pretraining_samples, say_how_many_positions)


def open_scene(tmp_path, name, height, width, seed=0):
    """A scene of 3 random bands, `width` x `height` pixels, every pixel valid."""
    data = np.random.default_rng(seed).normal(size=(3, height, width)).astype(np.float32)
    return Scene.open(RasterInput(write_raster(tmp_path / f"{name}.tif", data), name), [])


UNIT = Normalizer(np.zeros(3), np.ones(3))


# ---- predict.py


@pytest.mark.parametrize("window", [(0, 0, WIDTH, HEIGHT), (15, 9, 8, 8)], ids=["the whole scene", "the corner"])
def test_a_window_that_reaches_the_right_and_bottom_edges_is_classified(scene, out, window):
    col, row, width, height = window
    summary = predict_scene(scene, WindowModel(), HALO, CLASSES, str(out / "map.tif"), None, 8, window=window)
    expected = expected_maps(scene, WindowModel())[0][row:row + height, col:col + width]
    np.testing.assert_array_equal(read_raster(out / "map.tif").values, expected)
    assert summary["classified_pixels"] == np.count_nonzero(expected)


@pytest.mark.parametrize("window", [(0, -1, 3, 3), (0, 0, 5, 0)], ids=["negative row", "zero height"])
def test_a_window_above_the_scene_or_of_no_height_is_refused(scene, out, window):
    model = WindowModel()
    with pytest.raises(InputError) as refused:
        predict_scene(scene, model, HALO, CLASSES, str(out / "map.tif"), None, 8, window=window)
    col, row, width, height = window
    assert str(refused.value) == (f"EXTENT: the pixel window (col {col}, row {row}, {width} x {height}) is not inside "
                                  "the scene of 23 x 17 pixels; choose an extent within the hyperspectral layer.")
    assert model.calls == 0
    assert os.listdir(out) == []


def test_a_tile_size_of_true_is_refused(scene, out):
    model = WindowModel()
    with pytest.raises(InputError) as refused:
        predict_scene(scene, model, HALO, CLASSES, str(out / "map.tif"), None, True)
    assert str(refused.value) == (f"TILE_SIZE: the tile size must be a positive number of pixels, not True; use for "
                                  f"example {TILE_SIZE}.")
    assert model.calls == 0


def test_a_window_of_a_rotated_grid_starts_at_its_own_first_pixel(scene, out, tmp_path):
    path = str(tmp_path / "in" / "rotated.tif")
    copy = gdal.GetDriverByName("GTiff").CreateCopy(path, gdal.Open(str(tmp_path / "in" / "hsi-0.tif")))
    copy.SetGeoTransform((600000.0, 8.0, 6.0, 5100000.0, 6.0, -8.0))
    copy = None
    with Scene.open(RasterInput(path, "rotated"), []) as rotated:
        predict_scene(rotated, WindowModel(), HALO, CLASSES, str(out / "map.tif"), None, 8, window=(3, 4, 5, 5))
    # pixel (col 3, row 4): x = 600000 + 3 * 8 + 4 * 6, y = 5100000 + 3 * 6 - 4 * 8
    assert read_raster(out / "map.tif").geotransform == (600048.0, 8.0, 6.0, 5099986.0, 6.0, -8.0)


def test_a_vrt_rewritten_during_a_classification_is_refused_at_its_end(tmp_path, out, monkeypatch):
    """The reads look at a VRT's contents every few seconds only: the end's check is the one that
    sees a VRT rewritten to name another file after the first read."""
    monkeypatch.setattr(sources, "CHANGE_LOOK_SECONDS", 3600.0)
    (tmp_path / "in").mkdir()
    make_scene(tmp_path / "in").close()
    make_scene(tmp_path / "in", seed=1).close()
    vrt = tmp_path / "in" / "hsi.vrt"
    gdal.BuildVRT(str(vrt), [str(tmp_path / "in" / "hsi-0.tif")]).FlushCache()
    model = WindowModel()

    def rewriting(tile, valid, hooks):
        if model.calls == 1:
            vrt.write_text(vrt.read_text().replace("hsi-0.tif", "hsi-1.tif"))
        return model(tile, valid, hooks)

    with Scene.open(RasterInput(str(vrt), "hsi"), []) as scene, pytest.raises(InputError) as refused:
        predict_scene(scene, rewriting, HALO, CLASSES, str(out / "map.tif"), str(out / "conf.tif"), 8)
    assert str(refused.value) == (f"The layer 'hsi' changed while this run read it: another program wrote its file "
                                  f"{vrt}, so what was read may mix its old and new contents, and nothing was written. "
                                  "Run again once the file is as it should be.")
    assert model.calls == 9
    assert os.listdir(out) == []


def test_predicted_tiles_canceled_from_the_start_call_no_model(scene):
    model = WindowModel()
    with pytest.raises(Canceled):
        list(predicted_tiles(scene, model, HALO, 8, Hooks(is_canceled=lambda: True), needed=lambda tile: True))
    assert model.calls == 0


def test_predicted_tiles_progress_once_a_tile_up_to_the_whole(scene):
    progress = []
    list(predicted_tiles(scene, WindowModel(), HALO, 8, Hooks(progress=progress.append)))
    sizes = [tile.width * tile.height for tile in tiles(Window(0, 0, WIDTH, HEIGHT), 8)]
    assert len(sizes) == 9
    assert progress == pytest.approx(list(np.cumsum(sizes) / (WIDTH * HEIGHT)), rel=0, abs=1e-12)
    assert progress[-1] == 1.0


def test_predicted_tiles_of_some_tiles_say_no_pace(scene, monkeypatch):
    """Tiles skipped take no time: the pace of the others would be no pace (review of 2026-12-05)."""
    from mrs.model_core import hooks as hooks_module

    now = [0.0]
    monkeypatch.setattr(hooks_module, "clock", lambda: now[0])
    model = WindowModel()

    def slow(tile, valid, hooks):
        now[0] += 600
        hooks.progress(0.5)
        now[0] += 600
        return model(tile, valid, hooks)

    lines = []
    list(predicted_tiles(scene, slow, HALO, 8, Hooks(log=lines.append), needed=lambda tile: tile.col == 8))
    assert model.calls == 3
    assert [line for line in lines if "left at the pace" in line] == []


def test_the_nodata_text_says_one_pixel_of_a_layer_after_a_layer_of_none():
    assert _nodata_text(1, ["a", "b"], np.array([0, 1])) == "1 no data: nodata in 'b' at 1 pixel"


# ---- patches.py


@pytest.mark.parametrize("height, width, rows, cols", [
    (200, 200, [127, 5, 150], [5, 127, 150]),  # the last row and column of the first block
    (60, 140, [30, 50, 10], [135, 20, 70]),  # wider than tall: a block of 12 columns and 60 rows
], ids=["block edges", "non-square"])
def test_streamed_patches_equal_the_patches_cut_at_once(tmp_path, height, width, rows, cols):
    with open_scene(tmp_path, "hsi", height, width) as scene:
        streamed = ScenePatches(scene, rows, cols, 5, UNIT, {}).patches(np.arange(3))
        np.testing.assert_array_equal(streamed, normalised_patches(scene, rows, cols, 5, UNIT))
        assert streamed.shape == (3, 3, 5, 5)


def test_positions_are_not_read_once_canceled(scene):
    with pytest.raises(Canceled):
        pixels_at(scene, [0, 16], [0, 22], Hooks(is_canceled=lambda: True))


def test_positions_in_two_blocks_progress_by_halves(scene):
    progress = []
    valid_at(scene, np.array([0, 16]), np.array([0, 22]), Hooks(progress=progress.append), tile_size=8)
    assert progress == [0.5, 1.0]


def test_a_patch_as_large_as_the_layer_s_shorter_side_fits(scene):
    check_patch_size(scene, 17)
    assert cut_patches(scene, [8], [11], 17, lambda raw, valid: raw).shape == (1, 3, 17, 17)


@pytest.mark.parametrize("patch", [0, 18])
def test_a_patch_of_no_pixel_or_beyond_the_shorter_side_is_refused(scene, patch):
    with pytest.raises(InputError) as refused:
        check_patch_size(scene, patch)
    assert str(refused.value) == (f"The patch size {patch} does not fit the hyperspectral layer 'hsi' (23 x 17 "
                                  f"pixels): every pixel is read with its {patch} x {patch} neighbourhood. Choose a "
                                  f"layer of at least {patch} x {patch} pixels.")


# ---- streaming.py


def test_the_fingerprint_follows_the_grid(tmp_path):
    with open_scene(tmp_path, "a", 40, 40) as square, open_scene(tmp_path, "b", 40, 41) as wider:
        rows, cols = np.array([5, 6]), np.array([7, 8])
        assert (ScenePatches(square, rows, cols, 5, UNIT, {}).fingerprint()
                != ScenePatches(wider, rows, cols, 5, UNIT, {}).fingerprint())


def test_the_fingerprint_leaves_out_the_names_of_each_listed_scene(tmp_path):
    with open_scene(tmp_path, "a", 40, 40) as scene:
        named, renamed = (ScenePatches(scene, [5], [7], 5, UNIT, {"scenes": [{"hsi_layer": name, "samples": 3}]})
                          for name in ("x", "x renamed"))
        other = ScenePatches(scene, [5], [7], 5, UNIT, {"scenes": [{"hsi_layer": "x", "samples": 4}]})
        assert named.fingerprint() == renamed.fingerprint() != other.fingerprint()


def test_the_fingerprint_of_several_scenes_follows_each_sample_s_scene(tmp_path):
    with open_scene(tmp_path, "a", 40, 40) as first, open_scene(tmp_path, "b", 40, 41) as second:
        parts = [ScenePatches(scene, [5, 6], [7, 8], 5, UNIT, {}) for scene in (first, second)]
        assert (ArchivePatches(parts, np.array([0, 1, 0, 1])).fingerprint()
                != ArchivePatches(parts, np.array([1, 0, 1, 0])).fingerprint())


def test_several_scenes_say_the_change_of_one_that_is_not_the_first(tmp_path):
    with open_scene(tmp_path, "a", 40, 40, 1) as first, open_scene(tmp_path, "b", 40, 40, 2) as second:
        archive = ArchivePatches([ScenePatches(scene, [10], [10], 5, UNIT, {}) for scene in (first, second)],
                                 np.array([0, 1]))
        assert archive.changed() is None
        os.utime(tmp_path / "b.tif", ns=(0, 1_000_000_000))
        with pytest.raises(ChangedFileError) as seen:
            archive.fetch(torch.arange(2), torch.device("cpu"))
        assert first.mixed is None
        assert archive.changed() == str(seen.value)
        assert str(seen.value).startswith("The layer 'b' changed while this run read it: its file ")


def test_the_block_cache_keeps_the_blocks_used_last():
    made = []
    cache = BlockCache(budget=2 * 16)  # two entries of two 8-byte arrays

    def entry(key):
        return lambda: made.append(key) or (np.zeros(1), np.zeros(1))

    for key in ["a", "b", "a", "c", "a"]:
        cache.get(key, entry(key))
    assert made == ["a", "b", "c"]
    assert len(cache) == 2


def test_the_scenes_of_a_pretraining_share_one_block_cache(tmp_path):
    with open_scene(tmp_path, "a", 40, 40, 1) as first, open_scene(tmp_path, "b", 40, 40, 2) as second:
        positions = Positions(np.array([10, 10]), np.array([10, 10]), np.array([0, 1]), (1600, 1600), (1600, 1600))
        samples = pretraining_samples([first, second], positions, 5, UNIT, {})
        patches = samples.fetch(torch.arange(2), torch.device("cpu"))[0].numpy()
        assert samples.parts[0].blocks.cache is samples.parts[1].blocks.cache
        assert len(samples.parts[0].blocks.cache) == 2
        for number, scene in enumerate((first, second)):
            np.testing.assert_array_equal(patches[number], normalised_patches(scene, [10], [10], 5, UNIT)[0])


def test_samples_of_exactly_the_cap_are_not_said_to_be_capped():
    lines = []
    say_how_many_positions(MAX_POSITIONS, MAX_POSITIONS, 64, [], Hooks(log=lines.append, warn=lines.append))
    assert lines == []
    say_how_many_positions(MAX_POSITIONS + 1, MAX_POSITIONS, 64, [], Hooks(log=lines.append, warn=lines.append))
    assert lines == ["SAMPLES is 2,000,001; pretraining draws at most 2,000,000 positions so that memory stays "
                     "bounded. To train longer, raise EPOCHS."]


# ---- inference.py

SIX_BANDS = Normalizer(np.zeros(6), np.ones(6))
PER_PIXEL_FP32 = 2 * ((5 + 1 + 1) + (TINY.patch ** 2 + 1)) * 128 * 4
"""A tiny model on 5 + 1 bands: its widest activation (33 tokens, 128 wide), twice, in float32."""


@pytest.fixture
def model():
    torch.manual_seed(0)
    return SSMAEClassifier(TINY, 5, 1, 3).eval()


def test_out_of_memory_at_a_batch_of_one_pixel_is_raised(model):
    lines, sizes = [], []
    predictor = TilePredictor(model, SIX_BANDS, device="cpu", precision="fp32", batch_size=4,
                              hooks=Hooks(log=lines.append))

    def out_of_memory(windows, tokens, cnn):
        sizes.append(predictor.batch_size)
        assert len(sizes) <= 10, "a batch of one pixel out of memory was tried again and again"
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")

    predictor.model.classify = out_of_memory
    with pytest.raises(torch.OutOfMemoryError):
        predictor(np.zeros((6, 8, 8), np.float32), np.ones((8, 8), bool))
    assert sizes == [4, 2, 1]
    assert lines == ["Out of memory on cpu with batch size 4; continuing with batch size 2.",
                     "Out of memory on cpu with batch size 2; continuing with batch size 1."]


def test_a_tile_reports_its_progress_batch_by_batch(model):
    progress = []
    TilePredictor(model, SIX_BANDS, device="cpu", precision="fp32", batch_size=50)(
        np.zeros((6, 24, 24), np.float32), np.ones((24, 24), bool), Hooks(progress=progress.append))
    assert progress == [number / 8 for number in range(1, 9)]  # 400 pixels in batches of 50


@pytest.mark.parametrize("numbers, expected", [
    ({"/proc/meminfo": 64, "/sys/fs/cgroup/memory.max": 8, "/sys/fs/cgroup/memory.current": 7,
      "/sys/fs/cgroup/memory.stat": 3}, 4),  # the page cache the container may drop counts
    ({"/proc/meminfo": 2, "/sys/fs/cgroup/memory.max": 8, "/sys/fs/cgroup/memory.current": 1}, 2),  # the machine's
], ids=["inactive page cache", "machine below the container's limit"])
def test_the_memory_available_in_a_container(monkeypatch, numbers, expected):
    monkeypatch.setattr(inference, "_number_in", lambda path, key="", unit=1: (
        numbers[path] * 2 ** 30 if path in numbers else None))
    assert inference.available_memory() == expected * 2 ** 30


def test_a_batch_of_one_pixel_is_the_least_the_memory_allows(model, monkeypatch):
    monkeypatch.setattr(inference, "memory_headroom", lambda: 1000)
    assert memory_batch_limit(model, torch.float32) == 1
    lines = []
    assert TilePredictor(model, SIX_BANDS, device="cpu", precision="fp32", batch_size=2,
                         hooks=Hooks(log=lines.append)).batch_size == 1
    assert lines[-1].endswith("; batches of 1 pixel are used (the map is the same).")  # '1 pixels' (2026-12-06)


def test_a_bf16_batch_may_hold_twice_the_pixels_of_a_float32_one(model, monkeypatch):
    monkeypatch.setattr(inference, "memory_headroom", lambda: 2 ** 30)
    assert PER_PIXEL_FP32 == 33792
    assert memory_batch_limit(model, torch.float32) == 2 ** 28 // PER_PIXEL_FP32 == 7943
    assert memory_batch_limit(model, torch.bfloat16) == 2 ** 28 // (PER_PIXEL_FP32 // 2) == 15887


def test_a_batch_as_large_as_the_memory_allows_is_kept_without_a_word(model, monkeypatch):
    monkeypatch.setattr(inference, "memory_headroom", lambda: 4 * 37 * PER_PIXEL_FP32)
    lines = []
    predictor = TilePredictor(model, SIX_BANDS, device="cpu", precision="fp32", batch_size=37,
                              hooks=Hooks(log=lines.append))
    assert predictor.batch_size == 37
    assert lines == []


def test_the_bytes_of_a_pixel_count_its_positions_too(model):
    predictor = TilePredictor(model, SIX_BANDS, device="cpu", precision="fp32")
    # 6 bands raw, normalised and in float32; 32 embedding and 32 CNN features; 64 for index, confidence, positions
    assert predictor.bytes_per_pixel() == 6 * (4 + 4 + 4) + 64 * 4 + 64 == 392


def test_a_tile_is_no_smaller_than_the_least_side_whatever_the_memory(model, monkeypatch):
    predictor = TilePredictor(model, SIX_BANDS, device="cpu", precision="fp32")
    monkeypatch.setattr(inference, "memory_headroom", lambda: 10_000)
    assert predictor.tile_size_within_memory(256) == inference.MIN_TILE == 64


def test_a_batch_size_of_zero_is_refused(model):
    with pytest.raises(InputError) as refused:
        TilePredictor(model, SIX_BANDS, device="cpu", batch_size=0)
    assert str(refused.value) == "The batch size must be at least 1; got 0."


def test_the_default_cpu_batch_of_a_model_of_very_many_bands_is_16():
    many = SSMAEClassifier(TINY, 10_000, 1, 3)
    # 2 ** 24 // (10,028 tokens x 128) = 13 pixels: held to 16
    assert default_batch_size(many) == 16
