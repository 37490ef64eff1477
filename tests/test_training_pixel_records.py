"""Edges of the records of training pixels (training_pixels.py) that no test held: each test fails on a small,
plausible bug that the suite let pass (a helper's mutation audit of 2026-12-06, each checked to fail on its bug and
pass without it)."""
import base64
import json

import numpy as np

from mrs.mrs_qgis_plugin import training_pixels
from mrs.mrs_qgis_plugin.raster.grid import Grid

HSI = Grid(40, 30, (500000.0, 2.0, 0.0, 5000000.0, 0.0, -2.0), "")


def _record(rows, cols, seed=0):
    return training_pixels.record(HSI, np.array(rows), np.array(cols), seed)


def test_a_record_counting_fewer_pixels_than_it_holds_is_no_record():
    found = _record([0, 0], [1, 2])
    found["count"] = 1
    assert training_pixels.trained_share(json.dumps(found), HSI, np.array([0]), np.array([1])) is None


def test_a_sample_s_estimate_is_capped_at_the_whole_reference(monkeypatch):
    monkeypatch.setattr(training_pixels, "SAMPLE", 2)
    found = _record([0, 0, 0, 0], [0, 1, 2, 3])
    rows, cols = np.divmod(np.frombuffer(base64.b64decode(found["keys"]), "<i8"), HSI.width)
    assert training_pixels.trained_share(json.dumps(found), HSI, rows, cols) == 1.0  # 2 hits x 4 / 2 / 2 = 2.0 uncapped


def test_a_map_pixel_right_of_the_recorded_grid_is_not_the_next_row_s_first():
    wider = Grid(41, 30, HSI.geotransform, "")
    tag = json.dumps(_record([1], [0]))
    assert training_pixels.trained_share(tag, wider, np.array([0]), np.array([40])) == 0.0


def test_a_training_pixel_right_of_a_narrower_grid_is_not_on_it():
    narrow = Grid(20, 30, HSI.geotransform, "")
    rows, cols, every_one = training_pixels.trained_positions(_record([0], [20]), narrow)
    assert (rows.tolist(), cols.tolist(), every_one) == ([], [], True)


def test_a_sampled_record_does_not_hold_every_pixel(monkeypatch):
    monkeypatch.setattr(training_pixels, "SAMPLE", 2)
    metadata = {"trained_pixels": _record([0], [0]), "validation_pixels": _record([1, 1, 1, 1], [0, 1, 2, 3])}
    assert training_pixels.trained_positions(metadata["validation_pixels"], HSI)[2] is False
    assert training_pixels.recorded_at(metadata, np.array([500001.0]), np.array([4999999.0]))[1] is False
    assert training_pixels.labelled_positions(metadata, HSI)[2] is False


def test_trained_positions_keep_rows_and_columns_apart():
    rows, cols, _every = training_pixels.trained_positions(_record([1], [5]), HSI)
    assert (rows.tolist(), cols.tolist()) == ([1], [5])


def test_a_georeferenced_scene_at_the_origin_with_one_metre_pixels_is_matched_by_its_coordinates():
    """Its geotransform is that of pixel space (0, 1, 0, 0, 0, -1) but it has a CRS: a point north of y = 0,
    outside it, was taken for a training pixel mirrored into it (the last read of 2026-12-07)."""
    origin = Grid(40, 30, (0.0, 1.0, 0.0, 0.0, 0.0, -1.0), 'GEOGCS["WGS 84"]')
    found = training_pixels.record(origin, np.array([2]), np.array([5]), 0)
    assert found["georeferenced"] is True
    hit, every_one = training_pixels.recorded_at({"trained_pixels": found}, np.array([5.5, 5.5]), np.array([-2.5, 2.5]))
    assert hit.tolist() == [True, False] and every_one
    earlier = dict(found)
    del earlier["georeferenced"]  # a record written before it was kept: matched by row and column, as then
    hit, _every_one = training_pixels.recorded_at({"trained_pixels": earlier}, np.array([5.5]), np.array([2.5]))
    assert hit.tolist() == [True]
