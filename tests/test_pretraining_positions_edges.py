"""Edges of the pretraining's positions over scenes (raster/samples.py) that no test held: each test fails on a small,
plausible bug that the suite let pass (a helper's mutation audit of 2026-12-06, each checked to fail on its bug and
pass without it)."""
import numpy as np
import pytest
from rasters import ORIGIN_X, ORIGIN_Y, box_wkt, write_raster, write_vector
from test_raster_samples import sparse_raster

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import samples
from mrs.mrs_qgis_plugin.raster.grid import Window
from mrs.mrs_qgis_plugin.raster.samples import random_positions_in_scenes, random_valid_positions
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

SIZE = 16


@pytest.fixture
def two(tmp_path):
    """Two scenes on the same grid: the first whole, the second valid in its top 4 rows."""
    first = np.ones((3, SIZE, SIZE), np.float32)
    second = np.ones((3, SIZE, SIZE), np.float32)
    second[:, 4:] = -9999
    a = write_raster(tmp_path / "a.tif", first, nodata=-9999)
    b = write_raster(tmp_path / "b.tif", second, nodata=-9999)
    with Scene.open(RasterInput(a, "a"), []) as one, Scene.open(RasterInput(b, "b"), []) as other:
        yield one, other


def test_an_extent_limits_the_first_scene_only(two):
    positions = random_positions_in_scenes(list(two), 1000, 0, window=Window(0, 8, 4, 4))
    assert positions.valid_counts == positions.scene_pixels == (16, 4 * SIZE)


def test_the_blocks_of_every_scene_count_towards_the_many_blocks_line(two, monkeypatch):
    monkeypatch.setattr(samples, "MANY_BLOCKS", 5)
    lines = []
    random_positions_in_scenes(list(two), 10, 0, Hooks(log=lines.append), tile_size=8)  # 4 + 4 blocks
    assert any(line.startswith("Sample positions are drawn from every valid pixel: all 8 blocks") for line in lines)


def test_a_mask_limits_the_first_scene_only(tmp_path, two):
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X, ORIGIN_Y - 2, ORIGIN_X + 2, ORIGIN_Y), {})], {})
    positions = random_positions_in_scenes(list(two), 1000, 0, mask_path=mask, mask_name="zone")
    assert positions.valid_counts == (4, 4 * SIZE)
    assert positions.scene_pixels == (SIZE * SIZE, 4 * SIZE)  # the draw's, not the pixels' (2026-12-06)


def test_a_mask_over_empty_blocks_of_a_sparse_scene_says_no_valid_pixel_not_no_pixel(tmp_path):
    path = sparse_raster(tmp_path)
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X, ORIGIN_Y - 16, ORIGIN_X + 16, ORIGIN_Y), {})], {})
    with Scene.open(RasterInput(path, "sparse"), []) as sparse:
        with pytest.raises(InputError, match=r"No pixel inside the mask 'zone' has valid values in every layer"):
            random_valid_positions(sparse, 10, 0, mask_path=mask, mask_name="zone", tile_size=16)


def test_an_extent_without_valid_pixels_is_named_in_the_error(two):
    with pytest.raises(InputError, match=r"^No pixel of the extent has valid values in every layer"):
        random_valid_positions(two[1], 10, 0, window=Window(0, 8, 4, 4))
