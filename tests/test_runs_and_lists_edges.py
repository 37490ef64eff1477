"""Edges of suggestions, runs, lists of scenes, torchrun's comparison of inputs and records of training pixels:
each test fails on a small, plausible bug that the suite let pass (a mutation audit of 2026-12-06)."""

import codecs
import json
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal, ogr
from processing_helpers import RecordingFeedback, run
from rasters import GEOTRANSFORM, UTM32, crs_wkt, write_raster
from test_multi_scene import BANDS
from test_training_pixel_records import HSI, _record

from mrs.model_core import distributed
from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import jobs, runs, same_inputs, training_pixels
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.grid import Grid, Window
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.raster.suggestions import (Candidates, ClassField, SuggestionPool, check_points_output,
                                                    write_points)
from mrs.mrs_qgis_plugin.scene_list import read_scene_list, say_same_values

# Suggestions ---------------------------------------------------------------------------------


def test_a_pool_cut_to_exactly_the_count_of_points_is_complete():
    """A mutation audit of 2026-12-06: a pool pruned to exactly POINTS pixels was said to have run out of them."""
    confidence = np.linspace(0.1, 0.9, 10, dtype=np.float32).reshape(2, 5)
    pool = SuggestionPool(4, 0.0, seed=0, capacity=4)
    pool.add(Window(0, 0, 5, 2), np.zeros((2, 5), np.int64), confidence)  # 10 pixels, pruned to the 4 least confident
    choice = pool.choose()
    assert (choice.points.rows.tolist(), choice.points.cols.tolist(), choice.complete) == ([0] * 4, [0, 1, 2, 3], True)
    pool = SuggestionPool(5, 0.0, seed=0, capacity=4)  # one more than the pool holds: more might lie beyond it
    pool.add(Window(0, 0, 5, 2), np.zeros((2, 5), np.int64), confidence)
    assert pool.choose().complete is False


def _suggestions(path, count: int, class_field: ClassField) -> str:
    """`count` suggested points of class 1, of confidence 0.2, 0.3 ..., at pixels (0, 0), (1, 1) ... of the default
    grid (rasters.py)."""
    diagonal = np.arange(count, dtype=np.int64)
    confidence = np.linspace(0.2, 0.2 + 0.1 * (count - 1), count, dtype=np.float32)
    write_points(str(path), "OUTPUT", Candidates(diagonal, diagonal, diagonal * 0, confidence, np.zeros(count)),
                 [ClassInfo(1, "one", "#112233")], class_field, GEOTRANSFORM, crs_wkt(UTM32))
    return str(path)


def _fill_in(path: str, field: str, value) -> None:
    dataset = ogr.Open(path, 1)
    layer = dataset.GetLayer(0)
    feature = layer.GetNextFeature()
    feature.SetField(field, value)
    layer.SetFeature(feature)
    dataset = layer = feature = None


def test_a_class_field_holding_only_blanks_is_not_filled_in(tmp_path):
    """A mutation audit of 2026-12-06: a class name of three spaces was counted as an analyst's work to keep."""
    output = _suggestions(tmp_path / "next.gpkg", 2, ClassField("class_name", True))
    _fill_in(output, "class_name", "   ")
    check_points_output(output, "OUTPUT")  # no work: written over without a refusal
    _fill_in(output, "class_name", " one ")
    with pytest.raises(InputError) as refused:
        check_points_output(output, "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: {output} holds earlier suggestions, 1 of them with their class filled in, "
                                  "which writing new suggestions would delete; train on them first, or choose a new "
                                  "file name.")


def test_a_selection_of_filled_in_suggestions_as_an_accuracy_s_reference_is_warned_of(provider, tmp_path):
    """A mutation audit of 2026-12-06: a selection's copy lost the record of suggestions, and with it the warning."""
    from qgis.core import QgsProcessingFeatureSourceDefinition, QgsProject, QgsVectorLayer

    map_path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))
    output = _suggestions(tmp_path / "picked.gpkg", 3, ClassField("class_id", False))
    dataset = ogr.Open(output, 1)
    layer = dataset.GetLayer(0)
    for feature in layer:
        feature.SetField("class_id", 1)
        layer.SetFeature(feature)
    dataset = layer = feature = None
    layer = QgsVectorLayer(output, "picked", "ogr")
    QgsProject.instance().addMapLayer(layer)
    try:
        layer.selectByIds([feature.id() for feature in layer.getFeatures()][:2])
        feedback = RecordingFeedback()
        report = run("mrs:accuracy", {"INPUT": map_path, "REFERENCE": QgsProcessingFeatureSourceDefinition(layer.id(),
                                                                                                            True),
                                      "REFERENCE_FIELD": "class_id", "OUTPUT_HTML": str(tmp_path / "a.html")},
                     feedback)
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert report["OVERALL_ACCURACY"] == 1.0
    assert feedback.warnings == [
        "'picked' holds suggested points (Where to label next, mrs:suggest): the pixels a classifier was least "
        "sure of, not a sample drawn independently of the map, so these figures are not the map's accuracy. Assess it "
        "against samples drawn at random, or add the suggestions to the training samples."]


# Runs ----------------------------------------------------------------------------------------


def test_a_suggestion_run_passes_its_seed_on(monkeypatch):
    """A mutation audit of 2026-12-06: SEED left out of the suggestion job's call broke ties by seed 0 always."""
    seen = {}
    monkeypatch.setattr(jobs, "suggest_job", lambda *args, **kwargs: seen.update(kwargs) or {"path": "x.gpkg",
                                                                                              "count": 1})
    values = {"MODEL": "m", "INPUT_HSI": None, "INPUT_AUX": [], "POINTS": 3, "MIN_DISTANCE": 2, "OUTPUT": "o.gpkg",
              "SEED": 7, "TILE_SIZE": 64, "DEVICE": "cpu", "PRECISION": "auto"}
    assert runs.run("suggest", values, Hooks()) == {"OUTPUT": "x.gpkg", "COUNT": 1}
    assert seen["seed"] == 7


def test_a_runtime_error_that_is_not_out_of_memory_is_raised_as_it_is(monkeypatch):
    """A mutation audit of 2026-12-06: every RuntimeError (a device mismatch, say) was said as memory run out."""
    def mismatch(values, hooks):
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices")

    monkeypatch.setitem(runs.RUNNERS, "classify", mismatch)
    with pytest.raises(RuntimeError) as raised:
        runs.run("classify", {}, None)
    assert type(raised.value) is RuntimeError
    assert str(raised.value) == "Expected all tensors to be on the same device, but found at least two devices"


# Lists of scenes -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, mark", [("utf-16-be", codecs.BOM_UTF16_BE), ("utf-16-le", codecs.BOM_UTF16_LE),
                                            ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_a_list_of_scenes_in_utf_16_or_32_of_either_byte_order_is_read(tmp_path, encoding, mark):
    """A mutation audit of 2026-12-06: a list saved as UTF-16 big-endian with its mark was read as UTF-8; a
    helper's red team of 2026-12-07: one in UTF-32 (little-endian) was read as UTF-16, 2 rasters said for 1."""
    listing = tmp_path / "scenes.txt"
    listing.write_bytes("\ufeffa.tif, b.tif\r\n".encode(encoding))
    assert listing.read_bytes().startswith(mark)
    assert [scene.paths() for scene in read_scene_list(str(listing), 1)] == [[str(tmp_path / "a.tif"),
                                                                              str(tmp_path / "b.tif")]]


def test_input_hsi_s_values_on_a_grid_1000_m_away_are_no_copy_but_on_its_grid_are(tmp_path):
    """A mutation audit of 2026-12-06: a flight line 1 km away holding INPUT_HSI's values was warned of as a copy."""
    rng, side = np.random.default_rng(5), 40
    hsi = write_raster(tmp_path / "first.tif", rng.normal(size=(BANDS, side, side)).astype(np.float32))
    aux = write_raster(tmp_path / "aux.tif", rng.normal(size=(1, side, side)).astype(np.float32))
    moved = (GEOTRANSFORM[0] + 1000.0, *GEOTRANSFORM[1:])
    for name, path, geotransform in (("moved", hsi, moved), ("moved_aux", aux, moved), ("copy", hsi, GEOTRANSFORM)):
        gdal.Translate(str(tmp_path / f"{name}.tif"), path)
        dataset = gdal.Open(str(tmp_path / f"{name}.tif"), gdal.GA_Update)
        dataset.SetGeoTransform(geotransform)
        dataset = None
    warnings: list = []
    hooks = Hooks(warn=warnings.append)
    seen: dict = {}
    first = jobs.Layers(RasterInput(hsi, "first"), [RasterInput(aux, "aux")]).open(hooks)
    elsewhere = jobs.Layers(RasterInput(str(tmp_path / "moved.tif"), "moved"),
                            [RasterInput(str(tmp_path / "moved_aux.tif"), "moved_aux")]).open(hooks)
    copy = jobs.Layers(RasterInput(str(tmp_path / "copy.tif"), "copy"), [RasterInput(aux, "aux")]).open(hooks)
    with first, elsewhere, copy:
        say_same_values(seen, first, "INPUT_HSI", hooks)
        say_same_values(seen, elsewhere, "the hyperspectral raster of the scene on line 1", hooks)
        assert warnings == []
        say_same_values(seen, copy, "the hyperspectral raster of the scene on line 2", hooks)
    assert warnings == [
        "MORE_SCENES: the hyperspectral raster of the scene on line 2 ('copy') holds the same values as INPUT_HSI in "
        "every block compared (5 blocks of up to 32 x 32 pixels of their common grid): is it a copy in another "
        "format, or a VRT of it? The samples would draw on the same pixels from both. Leave it out, unless that is "
        "meant."]


# torchrun's comparison of inputs ----------------------------------------------------------------


def _two_alike(tmp_path, monkeypatch) -> tuple:
    """Two folders holding a map.tif of 3000 bytes and its .aux.xml alike, sampled 1000 bytes at each end."""
    monkeypatch.setattr(same_inputs, "SAMPLED_BYTES", 1000)
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "map.tif").write_bytes(b"x" * 3000)
        (tmp_path / folder / "map.tif.aux.xml").write_bytes(b"<PAMDataset>classes A</PAMDataset>")
    one, two = (str(tmp_path / folder / "map.tif") for folder in ("one", "two"))
    assert same_inputs.file_fingerprint(one) == same_inputs.file_fingerprint(two)
    return one, two


def test_files_differing_only_in_their_last_bytes_differ(tmp_path, monkeypatch):
    """A mutation audit of 2026-12-06: a file's end left out of its fingerprint let copies differing there pass."""
    one, two = _two_alike(tmp_path, monkeypatch)
    (tmp_path / "two" / "map.tif").write_bytes(b"x" * 2999 + b"y")
    assert same_inputs.file_fingerprint(one) != same_inputs.file_fingerprint(two)


def test_files_differing_only_in_their_aux_xml_differ(tmp_path, monkeypatch):
    """A mutation audit of 2026-12-06: GDAL's .aux.xml (a map's class names) left out let other classes pass."""
    one, two = _two_alike(tmp_path, monkeypatch)
    (tmp_path / "two" / "map.tif.aux.xml").write_bytes(b"<PAMDataset>classes B</PAMDataset>")
    assert same_inputs.file_fingerprint(one) != same_inputs.file_fingerprint(two)


def _compared(monkeypatch, job: str, values: dict, *others: dict):
    """check_same_inputs's refusal (None: none) where processes 1, 2 ... were given `others`, process 0 `values`."""
    theirs = [(same_inputs._fingerprints(JOBS[job], other, same_inputs._listed(other) if other.get("MORE_SCENES")
                                         else []), None) for other in others]
    monkeypatch.setattr(distributed, "start", lambda device, waiting: SimpleNamespace(
        exchange=lambda mine: [mine, *theirs], broadcast=lambda problem: problem))
    try:
        same_inputs.check_same_inputs(JOBS[job], values, "cpu", print)
    except InputError as error:
        return str(error)
    return None


def _differing(rank: int, names: str, files: bool = True) -> str:
    why = " (another file, or a copy that differs, side files such as .aux.xml or .dbf included)" if files else ""
    return (f"Under torchrun every process must be given the same inputs, but process {rank} was given another {names} "
            f"than process 0{why}; give every process the same files and values.")


@pytest.fixture
def classify_values(tmp_path) -> dict:
    for name in ("hsi", "aux1", "aux2", "aux2b"):
        (tmp_path / f"{name}.tif").write_bytes(name.encode() * 10)
    return {"INPUT_HSI": RasterInput(str(tmp_path / "hsi.tif"), "hsi"),
            "INPUT_AUX": [RasterInput(str(tmp_path / "aux1.tif"), "a1"), RasterInput(str(tmp_path / "aux2.tif"), "a2")],
            "OUTPUT": str(tmp_path / "map0.tif"), "TILE_SIZE": 64}


def test_a_list_of_rasters_differing_in_its_second_item_differs(tmp_path, monkeypatch, classify_values):
    """A mutation audit of 2026-12-06: INPUT_AUX compared by its first raster let another second LiDAR pass."""
    other = {**classify_values, "INPUT_AUX": [classify_values["INPUT_AUX"][0],
                                              RasterInput(str(tmp_path / "aux2b.tif"), "a2")]}
    assert _compared(monkeypatch, "classify", classify_values, other) == _differing(1, "INPUT_AUX")
    assert _compared(monkeypatch, "classify", classify_values, {**classify_values,
                                                                "OUTPUT": str(tmp_path / "map1.tif")}) is None
    # a value is not said to be another file (a helper's red team of 2026-12-07)
    assert _compared(monkeypatch, "classify", classify_values, {**classify_values, "TILE_SIZE": 32}) == _differing(
        1, "TILE_SIZE", files=False)


def test_of_three_processes_the_first_given_other_inputs_is_named(tmp_path, monkeypatch, classify_values):
    """A mutation audit of 2026-12-06: without its stop, the comparison named the last process differing."""
    other = {**classify_values, "INPUT_AUX": [classify_values["INPUT_AUX"][0],
                                              RasterInput(str(tmp_path / "aux2b.tif"), "a2")]}
    assert _compared(monkeypatch, "classify", classify_values, other,
                     {**classify_values, "TILE_SIZE": 32}) == _differing(1, "INPUT_AUX")


def test_a_raster_a_list_of_scenes_names_that_does_not_exist_is_named(tmp_path, monkeypatch):
    """A mutation audit of 2026-12-06: the rasters MORE_SCENES lists were not looked for, only the list itself."""
    for name in ("hsi", "aux"):
        (tmp_path / f"{name}.tif").write_bytes(name.encode() * 10)
    (tmp_path / "scenes.txt").write_text("gone.tif, gone_aux.tif\n")
    values = {"INPUT_HSI": RasterInput(str(tmp_path / "hsi.tif"), "hsi"),
              "INPUT_AUX": [RasterInput(str(tmp_path / "aux.tif"), "aux")], "MORE_SCENES": str(tmp_path / "scenes.txt")}
    assert _compared(monkeypatch, "pretrain", values, values) == (
        f"Under torchrun every process opens its inputs on its own machine, and process 0 cannot: MORE_SCENES: the "
        f"file {tmp_path / 'gone.tif'} does not exist. Check the path, or choose it again.")


# Records of training pixels ------------------------------------------------------------------


@pytest.mark.parametrize("geotransform", [(HSI.geotransform[0] - 2.0, *HSI.geotransform[1:]),
                                          (*HSI.geotransform[:3], HSI.geotransform[3] + 2.0, *HSI.geotransform[4:])],
                         ids=["left", "above"])
def test_a_map_pixel_left_of_or_above_the_recorded_grid_is_not_trained_on(geotransform):
    """A mutation audit of 2026-12-06: a map pixel half a pixel off the grid's edge was taken as its first's."""
    tag = json.dumps(_record([0], [0]))  # the recorded grid's pixel (0, 0) trained on
    assert training_pixels.trained_share(tag, HSI, np.array([0]), np.array([0])) == 1.0
    outside = Grid(HSI.width, HSI.height, geotransform, "")  # its pixel (0, 0) one whole pixel off the recorded grid
    assert training_pixels.trained_share(tag, outside, np.array([0]), np.array([0])) == 0.0


def test_a_vector_layer_s_name_is_one_line_of_plain_text_as_a_raster_s():
    """A helper's red team of 2026-12-07: a GeoPackage named 'r<CR>ef' overwrote the start of its messages on a
    terminal, and one named with U+202E reversed the rest of the log line."""
    from mrs.mrs_qgis_plugin.runs import VectorInput

    assert VectorInput("r\ref.gpkg", "r\ref").name == "r ef"
    assert VectorInput("ref\u202eX.gpkg", "ref\u202eX").name == "refX"
    assert VectorInput("r\ref.gpkg", "r\ref").path == "r\ref.gpkg"


def test_a_listed_raster_written_with_decomposed_accents_is_the_file_of_that_look(tmp_path):
    """A helper's red team of 2026-12-07: 'Zu\u0308rich hsi.tif' (as macOS writes names) was said not to exist beside
    'Zürich hsi.tif'."""
    import unicodedata

    for name in ("Zürich hsi.tif", "lidar.tif"):
        (tmp_path / name).write_bytes(b"a raster")
    listing = tmp_path / "scenes.txt"
    listing.write_text(f"{unicodedata.normalize('NFD', 'Zürich hsi.tif')}, lidar.tif\n", encoding="utf-8")
    assert [scene.paths() for scene in read_scene_list(str(listing), 1)] == [[str(tmp_path / "Zürich hsi.tif"),
                                                                              str(tmp_path / "lidar.tif")]]
