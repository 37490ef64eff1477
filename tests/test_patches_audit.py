"""Edges of patch cutting, sample drawing and tiled prediction (raster/patches.py, samples.py, predict.py) that no
test pinned: each test fails on a small, plausible bug that the suite let pass (a helper's mutation audit of
2026-12-06, each checked to fail on its bug and pass without it)."""

import os
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal
from rasters import ORIGIN_X, ORIGIN_Y, box_wkt, write_raster, write_vector
from test_pretraining_positions_edges import two  # noqa: F401 (the fixture)
from test_raster_predict import (CLASSES, HALO, HEIGHT, WIDTH, WindowModel, always_first_class, expected_maps,
                                 out, scene)  # noqa: F401 (the fixtures)
from test_raster_writers import read_raster

from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import TILE_SIZE, samples
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.grid import Window
from mrs.mrs_qgis_plugin.raster.patches import cut_patches, group_by_tile, pixels_at
from mrs.mrs_qgis_plugin.raster.predict import _nodata_text, check_tile_size, predict_scene, predicted_tiles
from mrs.mrs_qgis_plugin.raster.samples import random_positions_in_scenes, random_valid_positions
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.writers import CONFIDENCE_TAG

# ---- patches.py


@pytest.mark.parametrize("row, col", [(-1, 0), (0, -1), (HEIGHT, 0), (0, WIDTH)])
def test_a_position_just_outside_the_grid_is_a_programming_error(scene, row, col):
    with pytest.raises(ValueError, match="^positions outside the grid$"):
        group_by_tile(scene, np.array([HEIGHT - 1, row]), np.array([WIDTH - 1, col]), 8)


def test_positions_in_the_last_narrow_column_of_blocks_are_read_apart_from_the_next_row_of_blocks(scene):
    """23 columns in blocks of 8 are 3 blocks across, the last of 7 columns: counted as 2, the block at
    column 16 of the first row and the block at column 0 of the second were read as one window of them both."""
    groups = group_by_tile(scene, np.array([8, 0, 9]), np.array([0, 16, 1]), 8)
    assert [(window, indices.tolist()) for window, indices in groups] == [(Window(16, 0, 1, 1), [1]),
                                                                         (Window(0, 8, 2, 2), [0, 2])]


def test_pixels_are_read_with_their_validity_in_input_order_as_float32_by_default(scene):
    data, valid = scene.read(0, 0, WIDTH, HEIGHT)
    rows, cols = np.array([HEIGHT - 1, 5, 0, 2]), np.array([0, 14, 22, 3])
    values, read_valid = pixels_at(scene, rows, cols, Hooks())
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, data[:, rows, cols].T)
    np.testing.assert_array_equal(read_valid, valid[rows, cols])
    assert read_valid.tolist() == [False, False, True, True]


def test_no_position_gives_the_transform_of_no_patch(scene):
    patches = cut_patches(scene, [], [], 5, lambda raw, valid: np.concatenate(
        [raw, valid[:, None]], axis=1).astype(np.float16))
    assert patches.shape == (0, 4, 5, 5) and patches.dtype == np.float16


def test_cutting_patches_reports_progress_by_block_and_stops_on_cancel(scene):
    progress = []
    cut_patches(scene, [0, 16], [0, 22], 3, lambda raw, valid: raw, Hooks(progress=progress.append), tile_size=8)
    assert progress == [0.5, 1.0]
    with pytest.raises(Canceled):
        cut_patches(scene, [0], [0], 3, lambda raw, valid: raw, Hooks(is_canceled=lambda: True))


# ---- samples.py


@pytest.mark.parametrize("limit, said", [
    (4, []), (3, ["Sample positions are drawn from every valid pixel: all 4 blocks of 8 x 8 pixels are read once, as "
                  "the progress shows."]),
])
def test_more_blocks_than_many_are_said_to_be_read_in_the_blocks_asked_for(two, monkeypatch, limit, said):
    monkeypatch.setattr(samples, "MANY_BLOCKS", limit)
    lines = []
    random_valid_positions(two[0], 10, 0, Hooks(log=lines.append), tile_size=8)  # 16 x 16 pixels
    assert [line for line in lines if line.startswith("Sample positions")] == said


@pytest.mark.parametrize("limit, said", [
    (0, ["Sample positions are drawn from every valid pixel: the 1 of the 16 blocks of 16 x 16 pixels that may hold "
         "data are read once, as the progress shows."]),
    (5, []),  # 16 blocks, but 1 read: 'all 16 blocks ... are read once' (the audit's finding)
])
def test_the_blocks_said_to_be_read_are_those_a_sparse_scene_may_hold_data_in(tmp_path, monkeypatch, limit, said):
    from test_raster_samples import sparse_raster

    monkeypatch.setattr(samples, "MANY_BLOCKS", limit)
    lines = []
    with Scene.open(RasterInput(sparse_raster(tmp_path), "sparse"), []) as scene:
        random_valid_positions(scene, 50, 0, Hooks(log=lines.append), tile_size=16)
    assert [line for line in lines if line.startswith("Sample positions")] == said


def test_positions_drawn_from_two_scenes_progress_through_each_scene_s_share(two):
    progress = []
    random_positions_in_scenes(list(two), 10, 0, Hooks(progress=progress.append), tile_size=8)  # 4 blocks each
    assert progress == pytest.approx([number / 8 for number in range(1, 9)], rel=0, abs=1e-12)


def test_positions_drawn_from_one_scene_are_all_of_scene_0(two):
    positions = random_positions_in_scenes([two[1]], 10, 0)
    assert positions.scenes.tolist() == [0] * 10 and positions.valid_counts == (4 * 16,)


@pytest.mark.parametrize("limit", ["extent", "mask"])
def test_a_later_scene_without_a_valid_pixel_is_not_said_to_lack_them_in_the_first_scene_s_extent_or_mask(
        tmp_path, two, limit):
    empty = write_raster(tmp_path / "empty.tif", np.full((3, 16, 16), -9999, np.float32), nodata=-9999)
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X, ORIGIN_Y - 4, ORIGIN_X + 4, ORIGIN_Y), {})], {})
    limits = {"window": Window(0, 0, 4, 4)} if limit == "extent" else {"mask_path": mask, "mask_name": "zone"}
    with Scene.open(RasterInput(empty, "empty"), []) as nothing, pytest.raises(InputError) as refused:
        random_positions_in_scenes([two[0], nothing], 10, 0, **limits)
    assert str(refused.value).startswith("No pixel has valid values in every layer")


# ---- predict.py


@pytest.mark.parametrize("tile_size", [2.5, "8"])
def test_a_tile_size_that_is_no_whole_number_is_refused(tile_size):
    with pytest.raises(InputError) as refused:
        check_tile_size(tile_size)
    assert str(refused.value) == (f"TILE_SIZE: the tile size must be a positive number of pixels, not {tile_size!r}; "
                                  f"use for example {TILE_SIZE}.")


@pytest.mark.parametrize("window, tile_size, said", [
    (None, 64, f"Predicting {WIDTH} x {HEIGHT} pixels in 1 tile of up to 64 x 64."),
    ((3, 4, 11, 9), 4, "Predicting 11 x 9 pixels in 9 tiles of up to 4 x 4."),
])
def test_the_log_says_the_pixels_and_tiles_predicted(scene, window, tile_size, said):
    lines = []
    list(predicted_tiles(scene, WindowModel(), HALO, tile_size, Hooks(log=lines.append), window=window))
    assert lines[0] == said


def test_predicted_tiles_report_a_tile_s_own_progress_within_its_share(scene):
    def halfway(tile, valid, hooks):
        hooks.progress(0.5)
        return always_first_class(tile, valid, hooks)

    progress = []
    list(predicted_tiles(scene, halfway, HALO, 16, Hooks(progress=progress.append)))  # 16 x 16, 7 x 16, 16 x 1, 7 x 1
    shares = np.cumsum([0, 256, 112, 16, 7]) / (WIDTH * HEIGHT)
    assert progress == pytest.approx([value for start, end in zip(shares, shares[1:])
                                      for value in ((start + end) / 2, end)], rel=0, abs=1e-12)


@pytest.mark.parametrize("invalid, expected", [
    ([1, 3, 0], "4 no data: nodata in 'a' at 1 pixel, in 'b' at 3"),
    ([0, 2, 1], "3 no data: nodata in 'b' at 2 pixels, in 'c' at 1"),
])
def test_the_nodata_text_s_unit_follows_its_first_count(invalid, expected):
    assert _nodata_text(sum(invalid), ["a", "b", "c"], np.array(invalid)) == expected


def test_class_values_above_65535_are_written_as_they_are(scene, out):
    classes = [ClassInfo(70000, "Water", "#0000ff"), ClassInfo(5, "Trees", "#00ff00")]
    summary = predict_scene(scene, always_first_class, HALO, classes, str(out / "map.tif"), None, 8)
    values = read_raster(out / "map.tif").values
    assert set(np.unique(values).tolist()) == {0, 70000}
    assert summary["class_counts"] == {70000: np.count_nonzero(values), 5: 0}


def test_the_map_records_its_confidence_raster_and_the_tags_it_is_given(scene, out):
    predict_scene(scene, always_first_class, HALO, CLASSES, str(out / "map.tif"), str(out / "conf.tif"), 8,
                  tags={"MRS_TRAINED_ON": "hsi.tif"})
    metadata = gdal.Info(str(out / "map.tif"), format="json")["metadata"][""]
    assert metadata["MRS_TRAINED_ON"] == "hsi.tif"
    assert metadata[CONFIDENCE_TAG] == str(out / "conf.tif")


def test_one_pixel_classified_is_said_in_the_singular(scene, out):
    lines = []
    valid = scene.read(0, 0, WIDTH, HEIGHT)[1]
    row, col = next((r, c) for r in range(HEIGHT) for c in range(WIDTH - 1) if valid[r, c] and not valid[r, c + 1])
    predict_scene(scene, always_first_class, HALO, CLASSES, str(out / "map.tif"), None, 8, Hooks(log=lines.append),
                  window=(col, row, 2, 1))
    assert lines[-1] == f"Wrote {out / 'map.tif'}: 1 pixel classified, 1 no data: nodata in 'hsi' at 1 pixel."


class TwoProcesses:
    """Two ranks of a prediction run in two threads, exchanging through shared slots as torch's collectives do."""

    def __init__(self):
        self.barrier, self.slots = threading.Barrier(2, timeout=30), [None, None]

    def _meet(self, rank, item, gather):
        self.slots[rank] = item
        self.barrier.wait()
        result = gather(list(self.slots))
        self.barrier.wait()
        return result

    def ranks(self, rank):
        return SimpleNamespace(
            rank=rank, world=2,
            exchange=lambda item: self._meet(rank, item, lambda items: items if rank == 0 else None),
            broadcast=lambda item: self._meet(rank, item, lambda items: items[0]),
            first_found=lambda item: self._meet(rank, item, lambda items: next((one for one in items if one), None)))

    def run(self, path, out, hooks, first_tile_of_rank_1=None, path_of_rank_1=None):
        """Each rank's summary, or the exception it raised; `first_tile_of_rank_1` is called within that tile."""
        ended, self.calls = [None, None], [0, 0]

        def rank(number):
            try:
                with Scene.open(RasterInput(path_of_rank_1 if number else path, "hsi"), []) as own:
                    own.shares_work = True  # as `jobs.classify_job` sets it under torchrun
                    model = WindowModel()

                    def halfway(tile, valid, hooks):
                        if number == 1 and model.calls == 0 and first_tile_of_rank_1:
                            first_tile_of_rank_1()
                        hooks.progress(0.5)
                        self.calls[number] += 1
                        return model(tile, valid)

                    ended[number] = predict_scene(own, halfway, HALO, CLASSES, str(out / "map.tif"), None, 8,
                                                  hooks[number], ranks=self.ranks(number))
            except Exception as error:  # noqa: BLE001 (what each rank ended with is the test's)
                ended[number] = error

        other = threading.Thread(target=rank, args=(1,))
        other.start()
        rank(0)
        other.join()
        return ended


def test_two_processes_deal_out_an_odd_number_of_tiles_into_the_map_one_process_makes(scene, out, tmp_path):
    progress = []
    path = str(tmp_path / "in" / "hsi-0.tif")
    ended = TwoProcesses().run(path, out, [Hooks(progress=progress.append), Hooks()], path_of_rank_1=path)
    expected = expected_maps(scene, WindowModel())[0]
    np.testing.assert_array_equal(read_raster(out / "map.tif").values, expected)
    assert ended[0]["tiles"] == 9 and ended[0]["classified_pixels"] == np.count_nonzero(expected)
    assert ended[1]["class_counts"] == ended[0]["class_counts"]  # the counts are rank 0's on every rank
    # the 9 tiles of 8 x 8 (the last column and row narrower) in rounds of two, each halfway through its tile
    shares = np.cumsum([0, 64, 64, 56, 64, 64, 56, 8, 8, 7]) / (WIDTH * HEIGHT)
    rounds = list(zip(shares[[0, 2, 4, 6, 8]], shares[[2, 4, 6, 8, 9]]))
    assert progress == pytest.approx([value for start, end in rounds for value in ((start + end) / 2, end)],
                                     rel=0, abs=1e-12)


STOPPED = "Stopped as another process of this torchrun run was stopped (its message says why)."


@pytest.mark.parametrize("own_from, said", [
    (None, [STOPPED, "Canceled by the user."]),
    (2, ["Canceled by the user.", "Canceled by the user."]),  # rank 0 canceled after its round began, before the vote
], ids=["rank 1", "rank 1, then rank 0 within the round"])
def test_a_cancel_of_one_process_stops_both_with_the_words_of_each(scene, out, tmp_path, own_from, said):
    """Rank 1 is canceled from the start; rank 0 at its `own_from`th look, if at all."""
    looks = []
    own = Hooks(is_canceled=lambda: own_from is not None and bool(looks.append(1) or len(looks) >= own_from))
    path = str(tmp_path / "in" / "hsi-0.tif")
    ended = TwoProcesses().run(path, out, [own, Hooks(is_canceled=lambda: True)], path_of_rank_1=path)
    assert [type(error) for error in ended] == [Canceled, Canceled]
    assert [str(error) for error in ended] == said
    assert list(out.iterdir()) == []


def test_a_file_changed_under_one_process_stops_both_at_the_round_s_end(scene, out, tmp_path):
    """Rank 1 reads its own copy of the scene, rewritten by another program within its first tile: its next
    read sees it, and the round's vote stops both there, not after the rest of the map."""
    path, copy = tmp_path / "in" / "hsi-0.tif", tmp_path / "in" / "copy.tif"
    copy.write_bytes(path.read_bytes())

    def rewrite():
        copy.write_bytes(copy.read_bytes())
        os.utime(copy, ns=(0, 1_000_000_000))

    processes = TwoProcesses()
    ended = processes.run(str(path), out, [Hooks(), Hooks()], rewrite, str(copy))
    assert [type(error) for error in ended] == [InputError, InputError]
    assert str(ended[0]) == str(ended[1]) and str(ended[0]).startswith(
        f"The layer 'hsi' changed while this run read it: its file {copy}")
    assert processes.calls == [2, 2]
    assert list(out.iterdir()) == []
