"""The workflow's helpers and the layer checks of algorithms/layers.py, as the second mutation audit of 2026-12-07
found them unpinned: each test here failed on a small change planted in algorithms/workflow.py or
algorithms/layers.py that the other tests let pass."""

import numpy as np
import pytest
from osgeo import ogr
from qgis.core import QgsProcessingContext, QgsProcessingFeatureSource, QgsRasterLayer, QgsVectorLayer

from mrs.algorithms import workflow
from mrs.algorithms.workflow import WorkflowAlgorithm
from processing_helpers import RecordingFeedback, algorithms_ready
from rasters import ORIGIN_X, ORIGIN_Y, point_wkt, write_raster, write_vector


@pytest.fixture(scope="module")
def model(qgis_processing):
    with algorithms_ready():
        yield WorkflowAlgorithm()


@pytest.mark.parametrize("kind, said", [("datetime", "a date and time field"), ("date", "a date field")])
def test_a_class_field_of_dates_or_times_is_refused_naming_its_kind(qgis_processing, kind, said):
    """_class_field_problem: the kind of field said is the field's own (a date and time is not 'a date')."""
    layer = QgsVectorLayer(f"Point?crs=EPSG:32632&field=when:{kind}", "points", "memory")
    source = QgsProcessingFeatureSource(layer, QgsProcessingContext())
    assert workflow._class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "when"}, layer) == (
        f"The class field 'when' of 'points' is {said}, which holds no classes. Choose the field that holds each "
        "feature's class (a whole number from 1, or a name).")


@pytest.mark.parametrize("error, step", [
    ("Error encountered while running Train classifier (fine-tune)", "in finetune"),
    ("Error encountered while running Classify and Accuracy assessment", "in a step"),  # two named: none said
    ("Error encountered", "in a step"),
])
def test_a_failed_step_is_named_only_when_the_error_names_one(model, error, step):
    """_step_of: which step QGIS's error names, by its description, when it names one only."""
    assert model._step_of(error) == step


def test_a_scene_left_out_is_said_by_its_hyperspectral_layer_first(model):
    """_missing_layers_problem: INPUT_HSI is said before INPUT_AUX, as the single algorithms say them."""
    assert model._missing_layers_problem({}) == "INPUT_HSI (Hyperspectral raster) has no value; give one."
    assert model._missing_layers_problem({"INPUT_HSI": "hsi.tif"}) == (
        "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the command line: --INPUT_AUX=file.tif).")


def test_a_vector_layer_of_no_features_is_left_to_its_step_whatever_its_extent(qgis_processing, tmp_path):
    """_overlaps: a layer whose features are all deleted in its edits (an extent not null, but empty) is not judged."""
    hsi = QgsRasterLayer(write_raster(tmp_path / "hsi.tif", np.ones((3, 8, 8), np.float32)), "hsi")
    layer = QgsVectorLayer(write_vector(tmp_path / "points.gpkg", [(point_wkt(ORIGIN_X + 1e5, ORIGIN_Y), {"c": 1})],
                                        {"c": ogr.OFTInteger}), "emptied", "ogr")
    layer.startEditing()
    layer.deleteFeature(next(layer.getFeatures()).id())
    assert layer.featureCount() == 0 and not layer.extent().isNull()
    assert workflow._overlaps(layer, hsi, QgsProcessingContext())
    layer.rollBack()


def test_a_field_of_a_layer_of_no_fields_is_refused_saying_it_has_none(model, tmp_path):
    """missing_field_problem: the fields of a layer of none are said as 'none'."""
    from mrs.algorithms.layers import missing_field_problem

    points = tmp_path / "points.geojson"
    points.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                      f'"geometry": {{"type": "Point", "coordinates": [{ORIGIN_X + 1}, {ORIGIN_Y - 1}]}}}}]}}')
    assert missing_field_problem(model, {"SAMPLES": str(points), "CLASS_FIELD": "class"},
                                 model.parameterDefinition("CLASS_FIELD"), "class", QgsProcessingContext()) == (
        "CLASS_FIELD: 'class' is not a field of 'points'; its fields: none. Choose one of them.")


def test_bounds_wholly_beside_a_label_raster_hold_no_label(qgis_processing, tmp_path):
    """_raster_labels_within: bounds west of the raster touch none of its pixels, labelled as they all are."""
    path = write_raster(tmp_path / "labels.tif", np.full((8, 8), 3, np.uint8))
    assert not workflow._raster_labels_within(path, (ORIGIN_X - 20, ORIGIN_Y - 8, ORIGIN_X - 10, ORIGIN_Y))


def test_a_stopped_run_s_output_of_no_step_is_said_kept_with_no_steps_left_to_run(qgis_processing, tmp_path):
    """_step_order: an output named after no step (a copy's) runs last, so no step is said to be left after it."""
    copy = tmp_path / "copy.tif"
    copy.write_bytes(b"a map")
    feedback = RecordingFeedback()
    workflow._say_kept_results({"copy:LANDCOVER": None}, {"copy:LANDCOVER": str(copy)}, feedback)
    assert feedback.warnings == [f"This run wrote copy:LANDCOVER ({copy}) before it stopped; it is kept."]



def test_no_data_set_in_qgis_on_a_later_band_is_said_with_that_band(qgis_processing, tmp_path):
    """_shown_otherwise: every band is looked at, the last too (band 2 of 2 here)."""
    from qgis.core import QgsRasterRange

    from mrs.algorithms.layers import _shown_otherwise

    layer = QgsRasterLayer(write_raster(tmp_path / "two.tif", np.ones((2, 4, 4), np.uint8)), "two", "gdal")
    layer.dataProvider().setUserNoDataValue(2, [QgsRasterRange(7, 7), QgsRasterRange(250, 255)])
    assert _shown_otherwise(layer).startswith("has no-data values set in QGIS (band 2: 7, 250 to 255) that its file "
                                              "does not hold, and the algorithms read the file.")


def test_python_path_objects_in_a_list_of_rasters_are_said_to_be_path_objects(qgis_processing):
    """refused_layer_message: a pathlib path among INPUT_AUX's rasters, not only as the value itself."""
    from pathlib import PurePosixPath

    from mrs.algorithms.layers import refused_layer_message
    from mrs.mrs_qgis_plugin.job_parameters import JOBS

    assert refused_layer_message(JOBS["pretrain"].parameter("INPUT_AUX"), ["dsm.tif", PurePosixPath("sar.tif")],
                                 QgsProcessingContext()) == (
        "INPUT_AUX (SAR or LiDAR rasters): ['dsm.tif', PurePosixPath('sar.tif')] is a Python path object, which "
        "Processing does not take; give the path as text, str(path).")


def test_a_vector_layer_of_no_name_nor_file_is_named_after_its_parameter_and_provider(qgis_processing):
    """vector_layer_name: a memory layer of no name is 'SAMPLES (memory layer)' in the messages."""
    from mrs.algorithms.layers import vector_layer_name

    assert vector_layer_name(QgsVectorLayer("Point?crs=EPSG:32632", "", "memory"), "SAMPLES") == (
        "SAMPLES (memory layer)")


@pytest.mark.parametrize("other, refused", [(True, True), (False, False)])
def test_a_layer_named_after_a_path_is_refused_only_where_that_path_is_another_file(qgis_processing, tmp_path, other,
                                                                                   refused):
    """path_named_layer_problem: a layer of the file given, named after another existing file, is said; one named
    after a path where no file is (a name that looks like a path) is not."""
    from qgis.core import QgsProject

    from mrs.algorithms.layers import path_named_layer_problem

    given = write_raster(tmp_path / "given.tif", np.ones((4, 4), np.uint8))
    name = write_raster(tmp_path / "other.tif", np.ones((4, 4), np.uint8)) if other else str(tmp_path / "gone.tif")
    layer = QgsRasterLayer(given, name, "gdal")
    QgsProject.instance().addMapLayer(layer)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    try:
        said = path_named_layer_problem({"INPUT": given}, {"INPUT": "raster"}, context)
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    assert said == (f"INPUT: '{given}' is the file of a project layer named after another file, '{name}', which a "
                    "dialog may have taken it for. Rename that layer (or remove it from the project), and choose the "
                    "layer or file you mean again." if refused else None)


@pytest.mark.parametrize("placed, unplaced, which", [
    (1, 1, "the feature with a geometry of 'utm as degrees' cannot be reprojected from EPSG:4326 into EPSG:32632: its "
           "coordinates lie"),
    (1000, 0, "none of the 1,000 features of 'utm as degrees' can be reprojected from EPSG:4326 into EPSG:32632: their "
              "coordinates lie"),
])
def test_features_none_of_which_can_be_reprojected_are_counted_in_the_refusal(qgis_processing, placed, unplaced,
                                                                              which):
    """written_as_shown: one feature is 'the feature', and a thousand are written with a thousands separator."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsFeature, QgsGeometry, QgsPointXY

    from mrs.algorithms.layers import written_as_shown
    from mrs.model_core.errors import InputError

    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=class_id:integer", "utm as degrees", "memory")
    features = []
    for number in range(placed):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(664_000.0 + number, 5_103_000.0)))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features + [QgsFeature(layer.fields()) for _ in range(unplaced)])
    context = QgsProcessingContext()
    with pytest.raises(InputError) as refused:
        written_as_shown(QgsProcessingFeatureSource(layer, context), layer.crs(),
                         QgsCoordinateReferenceSystem("EPSG:32632"), "utm as degrees", "SAMPLES", context, None)
    assert str(refused.value) == (f"SAMPLES: {which} outside the area of EPSG:4326. Check the layer's CRS (Layer "
                                  "Properties > Source: UTM coordinates in a layer said to be EPSG:4326, say), then "
                                  "run again.")


def test_a_name_borne_by_one_valid_layer_and_a_broken_one_is_no_name_of_several_sources(qgis_processing, tmp_path):
    """_named_layers_problem: a layer whose file is gone (not valid) is not one Processing could take."""
    from mrs.algorithms.layers import _named_layers_problem

    valid = QgsRasterLayer(write_raster(tmp_path / "flight.tif", np.ones((4, 4), np.uint8)), "flight", "gdal")
    broken = QgsRasterLayer(str(tmp_path / "gone.tif"), "flight", "gdal")
    assert valid.isValid() and not broken.isValid()
    assert _named_layers_problem("INPUT", "flight", [valid, broken], QgsRasterLayer) is None


@pytest.mark.parametrize("encoding, set_in_qgis", [("UTF-8", False), ("utf-8", False), ("windows-1251", True)])
def test_a_shapefile_read_as_utf8_in_qgis_is_read_as_its_file(qgis_processing, tmp_path, encoding, set_in_qgis):
    """_encoding_set_in_qgis: UTF-8 spelt with its hyphen is the plugin's own reading, not an encoding set in QGIS."""
    from mrs.algorithms.layers import _encoding_set_in_qgis

    shapefile = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(str(tmp_path / "points.shp"))
    written = shapefile.CreateLayer("points", None, ogr.wkbPoint)
    written.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    shapefile = None
    (tmp_path / "points.cpg").unlink(missing_ok=True)
    layer = QgsVectorLayer(str(tmp_path / "points.shp"), "points", "ogr")
    layer.setProviderEncoding(encoding)
    assert _encoding_set_in_qgis(layer) is set_in_qgis


def test_a_feature_limit_of_0_is_said_as_a_choice_of_no_feature(qgis_processing):
    """no_features_problem: a source given with a feature limit of 0 (no selection) is told what gave it none."""
    from qgis.core import QgsProcessingFeatureSourceDefinition

    from mrs.algorithms.layers import no_features_problem

    limited = QgsProcessingFeatureSourceDefinition("points.gpkg", False, 0)
    assert no_features_problem("REFERENCE", "points", limited) == (
        "REFERENCE: no feature of 'points' is selected (or the feature limit is 0); select the features to use, or "
        "untick 'Selected features only'.")


def test_a_layer_of_a_file_named_after_the_file_is_named_after_the_layer_its_source_names(qgis_processing, tmp_path):
    """vector_layer_name: 'multi.gpkg|layername=test', which QGIS names 'multi', is 'test' in the messages."""
    from mrs.algorithms.layers import vector_layer_name

    path = write_vector(tmp_path / "multi.gpkg", [(point_wkt(ORIGIN_X + 0.5, ORIGIN_Y - 0.5), {"c": 1})],
                        {"c": ogr.OFTInteger}, layer="test")
    assert vector_layer_name(QgsVectorLayer(f"{path}|layername=test", "multi", "ogr"), "SAMPLES") == "test"


def test_a_class_field_given_in_another_letter_case_is_checked_before_the_first_step(qgis_processing, tmp_path):
    """The steps read CLASS_FIELD=CLASS_ID as the field class_id (`spelt_as`) and refuse its one class after the
    pretraining; the workflow's early check looked the field up by its exact spelling and let it pass (a bug the
    audit found)."""
    path = write_vector(tmp_path / "points.gpkg", [(point_wkt(ORIGIN_X + 0.5 + index, ORIGIN_Y - 0.5), {"class_id": 1})
                                                   for index in range(3)], {"class_id": ogr.OFTInteger})
    layer = QgsVectorLayer(path, "points", "ogr")
    source = QgsProcessingFeatureSource(layer, QgsProcessingContext())
    exact = workflow._class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "class_id"}, layer)
    assert "one class" in exact
    assert workflow._class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "CLASS_ID"}, layer) == exact


def test_a_raster_whose_crs_was_taken_away_in_qgis_is_said_to_have_none(qgis_processing, tmp_path):
    """_shown_otherwise of a raster whose CRS was cleared in QGIS (its file holds EPSG:32632) said it 'is given the CRS
     in QGIS', naming none (a bug the audit found)."""
    from qgis.core import QgsCoordinateReferenceSystem

    from mrs.algorithms.layers import _shown_otherwise

    layer = QgsRasterLayer(write_raster(tmp_path / "a.tif", np.ones((1, 4, 4), np.uint8)), "a", "gdal")
    layer.setCrs(QgsCoordinateReferenceSystem())
    assert _shown_otherwise(layer) == ("has no CRS in QGIS, but its file holds EPSG:32632, and the algorithms read the "
                                       "file. Set the layer's CRS back to the file's (Layer Properties > Source).")


def test_a_workflow_run_by_a_script_without_feedback_fails_in_its_step_s_sentence(model, tmp_path, monkeypatch):
    """run(parameters, context, None) whose step failed after the pretraining wrote its model raised an AttributeError
    (the warning of what it kept was pushed to None), not the step's failure (noticed by the audit)."""
    from qgis.core import QgsProcessingException, QgsProcessingModelAlgorithm

    pretrained = tmp_path / "pre.safetensors"

    def step_fails(self, parameters, context, feedback):
        pretrained.write_bytes(b"model")
        raise QgsProcessingException("the fine-tuning failed")

    monkeypatch.setattr(workflow, "check_unless_checked", lambda *arguments: False)
    monkeypatch.setattr(workflow, "checked_output_files", lambda algorithm, given: {
        "pretrain:PRETRAINED": str(pretrained)})
    monkeypatch.setattr(QgsProcessingModelAlgorithm, "processAlgorithm", step_fails)
    with pytest.raises(QgsProcessingException, match="^the fine-tuning failed$"):
        model.processAlgorithm({"pretrain:PRETRAINED": str(pretrained)}, QgsProcessingContext(), None)
