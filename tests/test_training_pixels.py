"""The record of a classifier's training pixels, and the share of a map's reference that it trained on."""

import json

import numpy as np
import pytest

from mrs.mrs_qgis_plugin import training_pixels
from mrs.mrs_qgis_plugin.raster.grid import Grid

HSI = Grid(40, 30, (500000.0, 2.0, 0.0, 5000000.0, 0.0, -2.0), "")


def tag(rows, cols, seed: int = 0) -> str:
    return json.dumps(training_pixels.record(HSI, np.array(rows), np.array(cols), seed))


def test_a_reference_on_a_window_of_the_grid_is_found_pixel_by_pixel():
    # A map of the window from column 10, row 5 (an EXTENT): its pixel (r, c) is the HSI's (r + 5, c + 10).
    window = Grid(20, 10, (500020.0, 2.0, 0.0, 4999990.0, 0.0, -2.0), "")
    trained = tag([5, 6, 7, 8], [10, 11, 12, 13])
    assert training_pixels.trained_share(trained, window, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3])) == 1.0
    assert training_pixels.trained_share(trained, window, np.array([0, 1, 4, 4]), np.array([0, 1, 0, 1])) == 0.5
    assert training_pixels.trained_share(trained, window, np.array([0, 0]), np.array([1, 2])) == 0.0


def test_a_record_of_an_ungeoreferenced_scene_made_before_it_lay_where_qgis_lays_it_still_finds_its_pixels():
    """Review of 2026-12-05: classifiers trained before then recorded such a scene's pixels in
    GDAL's pixel space (y = +row); its maps now lie at y = -row, and no training pixel was found."""
    from mrs.mrs_qgis_plugin.raster.grid import PIXEL_SPACE, UNGEOREFERENCED

    earlier = training_pixels.record(Grid(40, 30, PIXEL_SPACE, ""), np.array([3, 4]), np.array([5, 6]), 0)
    del earlier["georeferenced"]  # not recorded then
    earlier = json.dumps(earlier)
    now = Grid(40, 30, UNGEOREFERENCED, "", georeferenced=False)
    assert training_pixels.trained_share(earlier, now, np.array([3, 4]), np.array([5, 6])) == 1.0


@pytest.mark.parametrize("up", [1.0, -1.0])
def test_a_scene_in_either_pixel_space_finds_its_training_pixels_by_row_and_column(up):
    """A helper's red team of 2026-12-07: a scene whose file holds GDAL's pixel space now lies there
    (y = +row), as QGIS lays it; its record, of PIXEL_SPACE, was read as one of y = -row."""
    from mrs.mrs_qgis_plugin.raster.grid import pixel_centres

    grid = Grid(40, 30, (0.0, 1.0, 0.0, 0.0, 0.0, up), "", georeferenced=False)
    rows, cols = np.array([3, 4]), np.array([5, 6])
    recorded = training_pixels.record(grid, rows, cols, 0)
    assert training_pixels.trained_share(json.dumps(recorded), grid, rows, cols) == 1.0
    found_rows, found_cols, every_one = training_pixels.trained_positions(recorded, grid)
    assert (found_rows.tolist(), found_cols.tolist(), every_one) == ([3, 4], [5, 6], True)
    x, y = pixel_centres(grid.geotransform, np.array([3, 4, 7]), np.array([5, 6, 7]))
    hit, complete = training_pixels.recorded_at({"trained_pixels": recorded}, x, y)
    assert (hit.tolist(), complete) == ([True, True, False], True)


def test_training_pixels_on_a_coarser_grid_are_each_pixel_once():
    """Review of 2026-12-05: on a grid of twice the pixel size, four training pixels on one pixel were
    counted four times as left out of the suggestions."""
    coarse = Grid(20, 15, (500000.0, 4.0, 0.0, 5000000.0, 0.0, -4.0), "")
    rows, cols, every_one = training_pixels.trained_positions(json.loads(tag([0, 0, 1, 1], [0, 1, 0, 1])), coarse)
    assert (rows.tolist(), cols.tolist(), every_one) == ([0], [0], True)


def test_a_sample_of_many_training_pixels_estimates_the_share(monkeypatch):
    monkeypatch.setattr(training_pixels, "SAMPLE", 300)
    rows, cols = np.divmod(np.arange(1200), 40)  # the first 30 rows of the grid are trained on
    trained = tag(rows, cols)
    assert len(json.loads(trained)["keys"]) == 300 * 8 * 4 / 3  # 300 keys of 8 bytes, in base64
    reference_rows, reference_cols = np.divmod(np.arange(0, 1200, 2), 40)  # every other pixel: all trained on
    share = training_pixels.trained_share(trained, HSI, reference_rows, reference_cols)
    assert share == pytest.approx(1.0, abs=0.15)


@pytest.mark.parametrize("text", [None, "", "not json", '{"keys": "AAAA"}', json.dumps({
    "geotransform": [0, 0, 0, 0, 0, 0], "width": 40, "count": 1, "keys": "AAAAAAAAAAA="}),
    '{"geotransform": [661000, 1, 0, 5101000, 0, -1], "width": Infinity, "count": 5, "keys": "AAAAAAAAAAA="}',
    '{"geotransform": [661000, 1, 0, 5101000, 0, -1], "width": 40, "count": 1e999, "keys": "AAAAAAAAAAA="}'])
def test_a_map_without_a_record_or_with_another_tool_s_gets_no_share(text):
    assert training_pixels.trained_share(text, HSI, np.array([1]), np.array([1])) is None


def test_a_record_of_absurd_numbers_finds_nothing_and_says_nothing(recwarn):
    absurd = json.dumps({"geotransform": [1e308, 1e-300, 0, -1e308, 0, 1e-300], "width": 40, "count": 1,
                         "keys": "AAAAAAAAAAA="})
    assert training_pixels.trained_share(absurd, HSI, np.array([1, 2]), np.array([1, 2])) == 0.0
    assert len(recwarn) == 0
