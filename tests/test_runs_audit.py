"""Runs tied to their jobs, pretraining streamed from many scenes, lists of scenes and vector label layers, as a
mutation audit of 2026-12-06 found them unpinned: each test here failed on a small bug planted in
mrs_qgis_plugin/runs.py, streaming.py, scene_list.py or raster/vector_labels.py that the other tests let pass."""

import json

import numpy as np
import pytest
import torch
from osgeo import ogr
from rasters import pixel_centre, point_wkt, write_raster, write_vector

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.names import plural
from mrs.mrs_qgis_plugin import jobs, runs
from mrs.mrs_qgis_plugin.raster.samples import Positions
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.vector_labels import class_values_problem, labels_from_vector
from mrs.mrs_qgis_plugin.scene_list import read_scene_list, say_same_values
from mrs.mrs_qgis_plugin.streaming import (MAX_POSITIONS, NormalisedBlocks, capped_positions, pretraining_samples,
                                           say_how_many_positions)
from test_classification_path_edges import UNIT, open_scene
from test_label_layer_edges import WIDTH, scene  # noqa: F401 (the label scene's fixture)

# Runs ----------------------------------------------------------------------------------------


def test_omp_num_threads_of_exactly_the_cores_is_not_said_to_ask_for_more(monkeypatch):
    cores = runs.available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", str(cores))
    before, lines = torch.get_num_threads(), []
    try:
        assert runs.start_torch("qgis_process", None, Hooks(log=lines.append)) == cores
    finally:
        torch.set_num_threads(before)
    assert lines == [f"CPU threads: {cores} of {plural(cores, 'core')}."]


def test_an_output_claimed_through_a_link_to_it_is_refused(tmp_path):
    target, link = tmp_path / "model.pt", tmp_path / "link.pt"
    link.symlink_to(target)
    with runs.outputs_claimed({"OUTPUT": str(target)}):
        with pytest.raises(InputError) as refused:
            with runs.outputs_claimed({"OUTPUT": str(link)}):
                pass
    assert str(refused.value) == (f"OUTPUT: {link} is being written by another run now; wait until it has ended, or "
                                  "choose another output file name.")


def test_a_pretraining_run_hands_each_masking_ratio_to_its_own_setting(monkeypatch):
    """SPECTRAL_RATIO and SPATIAL_RATIO swapped went unseen: the tests that run a pretraining give both 0.3."""
    seen = {}
    monkeypatch.setattr(jobs, "pretrain_job", lambda *args, **kwargs: seen.update(kwargs) or {
        "path": "p.pt", "training": {"final_loss": 0.25}})
    values = {"INPUT_HSI": None, "PRESET": "tiny", "MASKING": "mrs", "SPECTRAL_RATIO": 0.3, "SPATIAL_RATIO": 0.6,
              "NORMALIZED_TARGETS": True, "SAMPLES": 100, "OUTPUT": "p.pt", "EPOCHS": 1, "BATCH_SIZE": 8,
              "LEARNING_RATE": 0.001, "SEED": 5, "DEVICE": "cpu", "PRECISION": "fp32"}
    assert runs.run("pretrain", values, Hooks()) == {"OUTPUT": "p.pt", "FINAL_LOSS": 0.25}
    assert (seen["masking"].spectral_ratio, seen["masking"].spatial_ratio) == (0.3, 0.6)


# Pretraining streamed from the scenes ----------------------------------------------------------


def test_patches_too_few_for_one_batch_name_every_parameter_that_limits_them():
    warnings = []
    say_how_many_positions(100, 3, 64, ["EXTENT", "MASK"], Hooks(warn=warnings.append))
    assert warnings == ["Only 3 patches can be drawn (the valid pixels of EXTENT and MASK), fewer than one batch "
                        "(BATCH_SIZE 64): every epoch takes the same 3 patches in one step, too few for pretrained "
                        "features that help a classifier. Give a larger EXTENT or MASK."]


def test_a_window_with_a_wider_halo_than_its_blocks_is_refused(tmp_path):
    with open_scene(tmp_path, "a", 20, 20) as scene:
        blocks = NormalisedBlocks(scene, UNIT, halo=2)
        assert blocks.read(5, 5, 2, 2, halo=2)[0].shape == (3, 6, 6)
        with pytest.raises(ValueError, match="^the window does not lie inside one block$"):
            blocks.read(5, 5, 2, 2, halo=3)


def test_the_fingerprint_of_several_scenes_follows_the_values_their_statistics_were_drawn_from(tmp_path):
    with open_scene(tmp_path, "a", 20, 20, 1) as first, open_scene(tmp_path, "b", 20, 20, 2) as second:
        positions = Positions(np.array([10, 10]), np.array([10, 10]), np.array([0, 1]), (400, 400), (400, 400))
        before, edited = (pretraining_samples([first, second], positions, 5, UNIT, {}, content=content).fingerprint()
                          for content in ("digest before", "digest after an edit"))
        assert before != edited


def test_samples_of_exactly_the_cap_draw_as_many_positions():
    assert (capped_positions(MAX_POSITIONS), capped_positions(MAX_POSITIONS + 1)) == (MAX_POSITIONS, MAX_POSITIONS)


# Lists of scenes -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, paths", [
    ("a.tif, b.tif,\n", ["a.tif", "b.tif"]),  # a spreadsheet's empty last field
    ("\ufeffa.tif, b.tif\n", ["a.tif", "b.tif"]),  # UTF-8 with its byte-order mark, as Notepad saves it
    ("https://example.com/a.tif, b.tif\n", ["https://example.com/a.tif", "b.tif"]),
])
def test_a_list_s_line_gives_the_paths_it_writes(tmp_path, text, paths):
    listing = tmp_path / "scenes.txt"
    listing.write_bytes(text.encode("utf-8"))
    assert [scene.paths() for scene in read_scene_list(str(listing), 1)] == [
        [path if "://" in path else str(tmp_path / path) for path in paths]]


def test_scenes_alike_in_their_corners_but_not_their_centre_are_not_said_to_be_copies(tmp_path):
    values = np.random.default_rng(3).normal(size=(3, 96, 96)).astype(np.float32)
    changed = values.copy()
    changed[:, 48, 48] += 1.0  # in the centre block only
    warnings, seen = [], {}
    hooks = Hooks(warn=warnings.append)
    paths = [write_raster(tmp_path / f"{name}.tif", data) for name, data in (("a", values), ("b", changed))]
    with Scene.open(RasterInput(paths[0], "a"), []) as one, Scene.open(RasterInput(paths[1], "b"), []) as other:
        say_same_values(seen, one, "INPUT_HSI", hooks)
        say_same_values(seen, other, "the hyperspectral raster of the scene on line 1", hooks)
    assert warnings == []


# Vector label layers -------------------------------------------------------------------------


def test_a_placeholder_text_among_names_is_a_class_of_its_own():
    assert class_values_problem(["NA", "water"], False, "class", "p", "SAMPLES") is None


def _points(tmp_path, classes, kind=ogr.OFTString, name="p"):
    """A GeoPackage of a point per (row, col, class), in the label scene's pixels."""
    return write_vector(tmp_path / f"{name}.gpkg", [(point_wkt(*pixel_centre(row, col)), {"class": value})
                                                    for row, col, value in classes], {"class": kind})


def test_a_text_class_written_with_a_bare_decimal_point_keeps_its_value(tmp_path, scene):
    warnings = []
    labels = labels_from_vector(scene, _points(tmp_path, [(1, 1, "2."), (2, 2, "10.")]), None, "class", None,
                                "p", Hooks(warn=warnings.append))
    assert labels.values.tolist() == [2, 10]
    assert warnings == []


def test_a_line_of_a_placeholder_class_among_names_is_said_to_be_a_line(tmp_path, scene):
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": "water"}),
                (f"LINESTRING ({' '.join(map(str, pixel_centre(3, 1)))}, {' '.join(map(str, pixel_centre(3, 4)))})",
                 {"class": "NA"})]
    lines = []
    labels = labels_from_vector(scene, write_vector(tmp_path / "l.gpkg", features, {"class": ogr.OFTString}), None,
                                "class", None, "l", Hooks(log=lines.append))
    assert [info.name for info in labels.classes] == ["NA", "water"]
    assert "1 of the 2 features of 'l' is a line: every pixel it crosses is a sample." in lines


@pytest.mark.parametrize("reference, said", [
    (False, ["1 of the 3 features of 'p' lies outside the hyperspectral layer 'hsi'; it is left out.",
             "1 of the 3 features of 'p' reaches beyond the hyperspectral layer 'hsi'; its parts outside it are left "
             "out."]),
    (True, []),  # a reference's: the accuracy's warning says them
])
def test_features_outside_the_grid_or_partly_are_logged_once_for_training_samples_only(tmp_path, scene, reference,
                                                                                        said):
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": 1}), (point_wkt(*pixel_centre(2, WIDTH + 3)), {"class": 2}),
                (f"LINESTRING ({' '.join(map(str, pixel_centre(5, WIDTH - 2)))}, "
                 f"{' '.join(map(str, pixel_centre(5, WIDTH + 2)))})", {"class": 2})]
    lines = []
    labels_from_vector(scene, write_vector(tmp_path / "p.gpkg", features, {"class": ogr.OFTInteger}), None, "class",
                       None, "p", Hooks(log=lines.append), reference=reference)
    assert [line for line in lines if "outside" in line or "beyond" in line] == said


def test_a_class_field_matching_two_fields_but_for_letter_case_is_refused_as_ambiguous(tmp_path, scene):
    features = [{"type": "Feature", "properties": {"kind": value, "KIND": 3 - value},
                 "geometry": {"type": "Point", "coordinates": list(pixel_centre(value, value))}} for value in (1, 2)]
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(InputError) as refused:
        labels_from_vector(scene, str(path), None, "Kind", None, "p")
    assert str(refused.value) == ("The class field 'Kind' names 2 fields of 'p' in other letter cases (kind, KIND); "
                                  "give one as it is spelt.")


def test_a_colour_of_five_hex_digits_is_refused(tmp_path, scene):
    features = [(point_wkt(*pixel_centre(row, row)), {"class": row, "colour": "#12345"}) for row in (1, 2)]
    path = write_vector(tmp_path / "c.gpkg", features, {"class": ogr.OFTInteger, "colour": ogr.OFTString})
    with pytest.raises(InputError) as refused:
        labels_from_vector(scene, path, None, "class", None, "c", color_field="colour")
    assert str(refused.value) == ("The colour field 'colour' of 'c' holds '#12345', which is not a colour written "
                                  "#rrggbb (such as #2b7bba). Correct it, or choose no colour field.")
