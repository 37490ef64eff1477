"""Where to label next (raster/suggestions.py) and the records of training pixels (training_pixels.py): behaviour
no earlier test held, each test failing on a small plausible bug the suite let pass (a helper's second mutation
audit; each checked to fail with its bug planted and to pass without it)."""

import json
import os

import numpy as np
import pytest
from osgeo import gdal, ogr

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import training_pixels
from mrs.mrs_qgis_plugin.raster import suggestions
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.grid import UNGEOREFERENCED, Grid, Window
from mrs.mrs_qgis_plugin.raster.suggestions import (INT32_MAX, Candidates, ClassField, SuggestionPool,
                                                    check_points_output, guessed_field_of_source, write_points)
from mrs.mrs_qgis_plugin.synthetic_scene import ORIGIN

GEOTRANSFORM = (ORIGIN[0], 1.0, 0.0, ORIGIN[1], 0.0, -1.0)
GRID = Grid(20, 10, GEOTRANSFORM, "")
CLASSES = [ClassInfo(1, "Water", "#0000ff"), ClassInfo(7, "Forest", "#00ff00")]


def _written(path, rows, cols, confidence=None, class_field=ClassField("class_id", False)):
    """A suggestions GeoPackage at `path` of the pixels at rows, cols (class index alternating 0, 1)."""
    rows, cols = np.array(rows, np.int64), np.array(cols, np.int64)
    confidence = np.linspace(0.2, 0.4, len(rows), dtype=np.float32) if confidence is None else confidence
    write_points(str(path), "OUTPUT", Candidates(rows, cols, np.arange(len(rows)) % 2, confidence,
                                                 np.zeros(len(rows), np.uint64)),
                 CLASSES, class_field, GEOTRANSFORM, "")
    return str(path)


def _edit(path, sql=None, change=None):
    """Runs `sql` on the GeoPackage, or `change(feature)` on each of its points."""
    if sql:
        dataset = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_UPDATE)
        dataset.ExecuteSQL(sql)
        dataset = None
        return
    dataset = ogr.Open(path, 1)
    layer = dataset.GetLayer(0)
    for feature in list(layer):
        change(feature)
        layer.SetFeature(feature)
    dataset = layer = None


def _refusal(path, classifier=None):
    with pytest.raises(InputError) as refused:
        check_points_output(path, "OUTPUT", classifier)
    return str(refused.value)


def test_ties_of_confidence_are_walked_by_their_keys_from_the_lowest():
    """Ties of confidence are broken by the key, lowest first, whatever the pixels' places."""
    candidates = Candidates(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]), np.zeros(4, np.int64),
                            np.array([0.5, 0.5, 0.5, 0.4], np.float32), np.array([5, 1, 3, 9], np.uint64))
    assert suggestions.least_confident_first(candidates).tolist() == [3, 1, 2, 0]


def test_a_pixel_and_its_mirror_across_the_diagonal_get_different_tie_keys():
    """The key mixes the row and the column apart: (1, 2) and (2, 1) are not one key."""
    keys = suggestions.tie_keys(np.array([1, 2]), np.array([2, 1]), 0)
    assert keys[0] != keys[1]


def test_the_walk_reports_progress_over_the_pool_not_over_the_count(monkeypatch):
    """Progress is the share of the pooled pixels walked, however few points are asked for."""
    monkeypatch.setattr(suggestions, "WALK_STEP", 10)
    seen = []
    rows, cols = np.divmod(np.arange(400), 20)
    candidates = Candidates(rows, cols, np.zeros(400, np.int64), np.linspace(0.2, 0.9, 400, dtype=np.float32),
                            np.zeros(400, np.uint64))
    positions, filled = suggestions.spread_least_confident(candidates, 50, 2.0, Hooks(progress=seen.append))
    assert len(positions) == 50 and filled
    assert seen[:3] == [0.0, 10 / 400, 20 / 400]


@pytest.mark.parametrize("min_distance", [0.0, 3.0])
def test_a_walk_that_kept_exactly_the_count_says_it_stopped_there(min_distance):
    """The walk says it stopped at the count when the last candidate made it, not that it ran out."""
    candidates = Candidates(np.array([0, 0, 0]), np.array([0, 5, 10]), np.zeros(3, np.int64),
                            np.array([0.3, 0.2, 0.1], np.float32), np.zeros(3, np.uint64))
    positions, filled = suggestions.spread_least_confident(candidates, 3, min_distance)
    assert positions.tolist() == [2, 1, 0] and filled is True
    positions, filled = suggestions.spread_least_confident(candidates, 4, min_distance)
    assert len(positions) == 3 and filled is False


def test_the_pool_counts_only_the_pixels_that_may_be_suggested():
    """`seen` (which tells 'all the valid pixels there are') leaves out no-data pixels and those not allowed."""
    pool = SuggestionPool(3, 0.0, 0)
    index = np.array([[0, -1, 1], [1, 1, -1]])
    allowed = np.array([[True, True, True], [False, True, True]])
    pool.add(Window(0, 0, 3, 2), index, np.full((2, 3), 0.5, np.float32), allowed)
    assert pool.seen == 3


@pytest.mark.parametrize("largest, kind", [(INT32_MAX, ogr.OFTInteger), (INT32_MAX + 1, ogr.OFTInteger64)])
def test_the_class_field_is_64_bit_only_for_classes_beyond_a_32_bit_field(largest, kind):
    """2^31 - 1 still fits a 32-bit field; one more does not."""
    assert ClassField("class_id", False).definition(largest).GetType() == kind


def test_the_confidence_is_written_to_six_decimals(tmp_path):
    """Each point's confidence is rounded to 6 decimals, its rank counts from 1 and its guess is its class's."""
    path = _written(tmp_path / "next.gpkg", [0, 3], [1, 2], np.array([0.1234567, 0.25], np.float32))
    dataset = ogr.Open(path)
    assert [(f["rank"], f["predicted"], f["predicted_value"], f["confidence"]) for f in dataset.GetLayer(0)] == [
        (1, "Water", 1, 0.123457), (2, "Forest", 7, 0.25)]


def test_an_empty_file_or_an_empty_write_ahead_log_is_no_reason_to_refuse_the_points(tmp_path):
    """An empty file holds no work (written over), nor does an empty -wal beside earlier suggestions."""
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    check_points_output(str(empty), "OUTPUT")
    path = _written(tmp_path / "next.gpkg", [0], [0])
    with open(path + "-wal", "wb"):
        pass
    check_points_output(path, "OUTPUT")
    with open(path + "-wal", "wb") as log:
        log.write(b"x")
    assert "is open in another program (its write-ahead log" in _refusal(path)


def _record(rows, cols, count=None):
    found = training_pixels.record(GRID, np.array(rows), np.array(cols), 0)
    return {**found, "count": count or found["count"]}


TRAIN_FIRST = "train on them first, or choose a new file name."
USED = "the classifier's training used them: keep the file under another name, or choose a new file name."
QUESTION = ("train on them first if the classifier was not, else keep the file under another name; or choose a new "
            "file name.")


@pytest.mark.parametrize("classifier, advice", [
    ({"trained_pixels": _record([0, 3], [1, 2])}, USED),
    ({"trained_pixels": _record([0], [1])}, TRAIN_FIRST),  # one of the two filled in: every pixel is recorded
    ({"trained_pixels": _record([0], [1], count=5000)}, QUESTION),  # a sample: the other may be among the rest
    ({"trained_pixels": _record([5], [5]), "validation_pixels": _record([0, 3], [1, 2])}, USED),
    ({}, TRAIN_FIRST)], ids=["all-trained", "one-of-two", "sampled", "validated", "no-record"])
def test_earlier_suggestions_filled_in_are_advised_on_by_the_classifier_s_records(tmp_path, classifier, advice):
    """The advice on filled-in suggestions follows the classifier's records of its trained and validated pixels."""
    path = _written(tmp_path / "next.gpkg", [0, 3], [1, 2])
    _edit(path, change=lambda feature: feature.SetField("class_id", 1))
    assert _refusal(path, classifier) == (f"OUTPUT: {path} holds earlier suggestions, 2 of them with their class "
                                          f"filled in, which writing new suggestions would delete; {advice}")


def test_a_classifier_that_records_the_suggestions_file_by_another_spelling_trained_on_them(tmp_path):
    """A classifier from before pixels were recorded trained on the file when its `trained_on` is the file,
    however spelled."""
    (tmp_path / "sub").mkdir()
    path = _written(tmp_path / "next.gpkg", [0, 3], [1, 2])
    _edit(path, change=lambda feature: feature.SetField("class_id", 1))
    spelled = os.path.join(str(tmp_path), "sub", "..", "next.gpkg") + "|layername=suggestions"
    assert _refusal(path, {"trained_on": spelled}).endswith(USED)


def test_a_point_filled_in_without_a_place_is_on_no_training_pixel(tmp_path):
    """A filled-in point whose geometry was deleted lies nowhere, not at (0, 0) (an ungeoreferenced scene's pixel)."""
    path = _written(tmp_path / "next.gpkg", [0], [1])

    def placeless(feature):
        feature.SetField("class_id", 1)
        feature.SetGeometryDirectly(None)
    _edit(path, change=placeless)
    plain = Grid(20, 10, UNGEOREFERENCED, "", georeferenced=False)
    first = training_pixels.record(plain, np.array([0]), np.array([0]), 0)
    assert _refusal(path, {"trained_pixels": first}).endswith(TRAIN_FIRST)


def test_a_class_field_filled_with_blanks_only_is_no_work(tmp_path):
    """A text class field of spaces is not filled in: the file may be written over."""
    path = _written(tmp_path / "next.gpkg", [0, 3], [1, 2], class_field=ClassField("class_name", True))
    _edit(path, change=lambda feature: feature.SetField("class_name", "  "))
    check_points_output(path, "OUTPUT")


@pytest.mark.parametrize("sql, change, how", [
    ("ALTER TABLE suggestions ADD COLUMN note TEXT", None, "with a field added or renamed (note)"),
    (None, lambda feature: feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({ORIGIN[0]} {ORIGIN[1]})")),
     "with points added, moved or deleted"),
    (None, lambda feature: feature.SetField("predicted", "Sand"), "with values changed in predicted")])
def test_earlier_suggestions_edited_beside_their_class_field_are_said_to_be_so(tmp_path, sql, change, how):
    """How suggestions were changed since written is told in the refusal."""
    path = _written(tmp_path / "next.gpkg", [0, 3], [1, 2])
    _edit(path, sql, change)
    assert _refusal(path) == (f"OUTPUT: {path} holds earlier suggestions {how} since they were written, which "
                              "writing new suggestions would delete; keep the file under another name, or choose a "
                              "new file name.")


def test_fields_added_to_earlier_suggestions_are_said_in_the_plural(tmp_path):
    path = _written(tmp_path / "next.gpkg", [0, 3], [1, 2])
    _edit(path, "ALTER TABLE suggestions ADD COLUMN note TEXT")
    _edit(path, "ALTER TABLE suggestions ADD COLUMN seen TEXT")
    assert "earlier suggestions with fields added or renamed (note, seen) since" in _refusal(path)


@pytest.mark.parametrize("class_field, name_field, expected", [
    ("PREDICTED", None, "The class field 'PREDICTED' of 'next' holds what the classifier that suggested these points "
                        "guessed, not labels: fill in the field 'class_id' with the classes seen on the ground, and "
                        "choose it as the class field."),
    ("class_id", "class_id", None),  # the field to fill in names the classes filled in
    ("class_id", "Confidence", "The name field 'Confidence' of 'next' holds what 'Where to label next' wrote")])
def test_the_guesses_and_what_suggest_wrote_are_refused_by_name_whatever_their_case(tmp_path, class_field, name_field,
                                                                                    expected):
    """Field names are compared without case; the class field to fill in is named; it may name the classes."""
    path = _written(tmp_path / "next.gpkg", [0], [0])
    found = guessed_field_of_source(path, class_field, "next", name_field)
    assert (found if found is None or expected is None else found[:len(expected)]) == expected


def test_a_record_of_no_pixels_gives_no_share():
    """A record holding no key is no record: no share, not a share of 0."""
    empty = json.dumps({**training_pixels.record(GRID, np.array([1]), np.array([1]), 0), "keys": "", "count": 0})
    assert training_pixels.trained_share(empty, GRID, np.array([1]), np.array([1])) is None


def test_a_record_of_an_ungeoreferenced_scene_finds_nothing_on_a_georeferenced_map():
    """Matching by row and column is for a record and a map both without georeferencing."""
    plain = Grid(20, 10, UNGEOREFERENCED, "", georeferenced=False)
    recorded = json.dumps(training_pixels.record(plain, np.array([1, 2]), np.array([3, 4]), 0))
    assert training_pixels.trained_share(recorded, plain, np.array([1, 2]), np.array([3, 4])) == 1.0
    assert training_pixels.trained_share(recorded, GRID, np.array([1, 2]), np.array([3, 4])) == 0.0


def test_a_training_pixel_below_a_shorter_grid_is_not_on_it():
    shorter = Grid(20, 4, GEOTRANSFORM, "")
    rows, cols, _every = training_pixels.trained_positions(_record([3, 4], [2, 2]), shorter)
    assert (rows.tolist(), cols.tolist()) == ([3], [2])


def test_a_point_on_a_validation_pixel_only_is_recorded():
    """recorded_at tells the pixels of either record, validated ones too."""
    metadata = {"trained_pixels": _record([0], [0]), "validation_pixels": _record([2], [5])}
    x = np.array([ORIGIN[0] + 0.5, ORIGIN[0] + 5.5, ORIGIN[0] + 7.5])
    y = np.array([ORIGIN[1] - 0.5, ORIGIN[1] - 2.5, ORIGIN[1] - 2.5])
    hit, every_one = training_pixels.recorded_at(metadata, x, y)
    assert hit.tolist() == [True, True, False] and every_one


def test_a_point_half_a_pixel_left_of_or_above_the_grid_is_on_no_pixel():
    """The pixel of a point is found by flooring: a point just outside the first column or row is not in it."""
    metadata = {"trained_pixels": _record([0], [0])}
    hit, _every = training_pixels.recorded_at(metadata, np.array([ORIGIN[0] - 0.5, ORIGIN[0] + 0.5]),
                                              np.array([ORIGIN[1] - 0.5, ORIGIN[1] + 0.5]))
    assert hit.tolist() == [False, False]


def test_a_pixel_both_trained_and_validated_on_is_listed_once():
    rows, cols, every_one = training_pixels.labelled_positions(
        {"trained_pixels": _record([1, 2], [1, 3]), "validation_pixels": _record([2], [3])}, GRID)
    assert (rows.tolist(), cols.tolist(), every_one) == ([1, 2], [1, 3], True)
