"""Which labels a classifier was trained on, as mrs:accuracy compares them with its reference."""

import pytest

from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.job_inputs import LabelSource, same_layer
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.runs import _labels, file_layer_name


@pytest.mark.parametrize("first, second, same", [
    ("/d/train.tif", "/d/train.tif", True),
    ("/d/train.gpkg|layername=points", "/d/train.gpkg", True),
    ("/d/train.gpkg|layername=points", "/d/train.gpkg|layername=points", True),
    ("/d/train.gpkg|layername=points", "/d/train.gpkg|layername=test", False),
    ("/d/train.tif", "/d/test.tif", False),
    (None, "/d/train.tif", False),
    ("", "", False),
])
def test_a_reference_is_the_training_layer_when_file_and_named_layers_agree(first, second, same):
    assert same_layer(first, second) is same


def test_a_label_source_is_named_by_its_absolute_path_and_layer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert LabelSource("l", raster_path="labels.tif").source() == str(tmp_path / "labels.tif")
    assert LabelSource("v", vector_path="points.gpkg|layername=a").source() == f"{tmp_path / 'points.gpkg'}|layername=a"


@pytest.mark.parametrize("source, name", [
    ("/d/train.gpkg|layername=decoy_train", "decoy_train"),
    ("/d/train.gpkg|layerid=0|layername=points|subset=\"class\" > 1", "points"),
    ("/d/train.gpkg", "train"),
    ("/d/train.gpkg|layername=", "train"),
    ("labels.tif", "labels"),
])
def test_a_layer_from_a_file_is_named_by_the_layer_it_names_else_by_the_file(source, name):
    assert file_layer_name(source) == name


def test_a_vector_s_fields_given_with_a_label_raster_are_said_to_go_unused(tmp_path):
    """NAME_FIELD beside LABELS was ignored without a word (red team of 2026-12-04)."""
    lines = []
    values = {"LABELS": RasterInput(str(tmp_path / "train.tif"), "train"), "SAMPLES": None, "CLASS_FIELD": None,
              "NAME_FIELD": "class_name", "COLOR_FIELD": "colour"}
    source = _labels(values, Hooks(log=lines.append), "SAMPLES", "CLASS_FIELD", "LABELS", "NAME_FIELD", "COLOR_FIELD")
    assert source.raster_path == str(tmp_path / "train.tif") and source.name_field is None
    assert lines == ["NAME_FIELD and COLOR_FIELD are fields of SAMPLES, not used with LABELS: the label raster gives "
                     "the classes, with its own names and colours."]


@pytest.mark.parametrize("given, expected", [
    ("GPKG:/data/m.gpkg:labels", "GPKG:/data/m.gpkg:labels"),
    ("https://example.org/labels.tif", "https://example.org/labels.tif"),
    ("/vsizip/labels.zip/labels.tif", "/vsizip/labels.zip/labels.tif"),
])
def test_a_gdal_name_that_is_no_file_path_is_kept_as_it_is(given, expected):
    """Review of 2026-12-05: '/cwd/GPKG:/data/m.gpkg:labels' was recorded and reported."""
    assert LabelSource("labels", raster_path=given).source() == expected


def test_a_bar_in_a_folder_s_or_file_s_name_is_part_of_its_path(tmp_path):
    """A helper's red team of 2026-12-05: bin/mrs read 'a|b.d/a|bpts.gpkg' as the file 'a' (QGIS reads it)."""
    from mrs.mrs_qgis_plugin.raster import split_source

    folder = tmp_path / "a|b.d"
    folder.mkdir()
    (folder / "a|bpts.gpkg").write_bytes(b"")
    path = str(folder / "a|bpts.gpkg")
    assert split_source(path) == (path, [])
    assert split_source(f"{path}|layername=x|subset=\"c\" = 1") == (path, ["layername=x", "subset=\"c\" = 1"])
    assert split_source(str(tmp_path / "missing.gpkg|layername=x")) == (str(tmp_path / "missing.gpkg"), ["layername=x"])
    assert file_layer_name(path) == "a|bpts"


def test_a_layer_named_with_combining_accents_is_the_layer_of_that_look(tmp_path):
    """A helper's red team of 2026-12-07: 'Forêt points' written with a combining accent (as macOS writes names)
    was said to be missing from a GeoPackage beside its layer 'Forêt points'."""
    import unicodedata

    from mrs.mrs_qgis_plugin.raster.vector_labels import open_vector_layer
    from rasters import write_vector

    path = write_vector(tmp_path / "layers.gpkg", [("POINT (1 2)", {"cls": 1})], {"cls": 0}, layer="Forêt points")
    decomposed = unicodedata.normalize("NFD", "Forêt points")
    assert decomposed != "Forêt points"
    _dataset, layer, _operation = open_vector_layer(f"{path}|layername={decomposed}", None, "forest", Hooks())
    assert layer.GetName() == "Forêt points" and layer.GetFeatureCount() == 1
