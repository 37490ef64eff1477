"""The workflow's checks before its first step, and the vector layer names and numbers they read, as the
mutation audit of 2026-12-06 found them unpinned: each test here failed on a small bug planted in
algorithms/workflow.py or mrs_qgis_plugin/raster/vector_labels.py that the other tests let pass."""

import os
import shutil
import tempfile
import zipfile

import numpy as np
import pytest
from osgeo import gdal, ogr
from qgis.core import (QgsApplication, QgsFeature, QgsGeometry, QgsPointXY, QgsProcessingContext,
                       QgsProcessingFeatureSource, QgsProcessingFeatureSourceDefinition,
                       QgsProcessingOutputLayerDefinition, QgsProject, QgsRasterLayer, QgsVectorLayer)

from mrs.algorithms import workflow
from mrs.algorithms.base import checked_output_files
from mrs.algorithms.workflow import WorkflowAlgorithm
from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin.raster.vector_labels import missing_layer_problem
from processing_helpers import RecordingFeedback, algorithms_ready, scene_layers, write_test_scene
from rasters import ORIGIN_X, ORIGIN_Y, UTM32, point_wkt, transform_points, write_raster, write_vector


@pytest.fixture(scope="module")
def toolbox(qgis_processing):
    with algorithms_ready():
        yield QgsApplication.processingRegistry().createAlgorithmById("mrs:workflow")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_test_scene(tmp_path_factory.mktemp("scene"))


def _scene_points(folder, name: str, crs: str, points: list) -> str:
    """A GeoPackage of points given in the scene's CRS (UTM 32N), stored in `crs`, classes 1 and 2 in turn."""
    stored = transform_points(points, UTM32, crs) if crs != UTM32 else points
    return write_vector(folder / f"{name}.gpkg", [(point_wkt(x, y), {"class_id": 1 + index % 2})
                                                 for index, (x, y) in enumerate(stored)],
                        {"class_id": ogr.OFTInteger}, crs=crs)


def _two_layers(path) -> str:
    """A GeoPackage of two layers of the same points, 'train' and 'test'."""
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    for name in ("train", "test"):
        layer = dataset.CreateLayer(name, None, ogr.wkbPoint)
        layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(661001.5, 5100998.5)))
        feature.SetField("class_id", 1)
        layer.CreateFeature(feature)
    dataset = None
    return str(path)


@pytest.mark.parametrize("given, refused", [
    # a layer chosen with 'Selected features only' unticked (W01, W03), a project layer's id (W02)
    (lambda points, layer: {"SAMPLES": points, "REFERENCE": QgsProcessingFeatureSourceDefinition(points, False)}, True),
    (lambda points, layer: {"SAMPLES": layer.id(), "REFERENCE": points}, True),
    (lambda points, layer: {"SAMPLES": QgsProcessingFeatureSourceDefinition(points, True), "REFERENCE": points}, False),
])
def test_the_training_labels_given_as_the_reference_are_found_however_the_layer_is_given(qgis_processing, scene,
                                                                                         given, refused):
    points = str(scene.train_points)
    layer = QgsVectorLayer(points, "training points", "ogr")
    QgsProject.instance().addMapLayer(layer)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    try:
        said = workflow._training_labels_as_reference(
            {**given(points, layer), "CLASS_FIELD": "class_id", "REFERENCE_FIELD": "class_id"}, context)
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    assert said == ((f"REFERENCE: '{points}' is also SAMPLES, the labels the classifier learns from; its figures would "
                     "say how well it learnt them, not how right the map is. Give a reference of other pixels (labels "
                     "kept apart from the training ones).") if refused else None)


def test_two_layers_of_one_file_are_no_reference_of_the_training_labels(qgis_processing, tmp_path):
    """W05: one GeoPackage of a 'train' and a 'test' layer is the usual way to keep them apart."""
    both = _two_layers(tmp_path / "both.gpkg")
    parameters = {"SAMPLES": f"{both}|layername=train", "REFERENCE": f"{both}|layername=test",
                  "CLASS_FIELD": "class_id", "REFERENCE_FIELD": "class_id"}
    assert workflow._training_labels_as_reference(parameters, QgsProcessingContext()) is None
    assert workflow._training_labels_as_reference({**parameters, "REFERENCE": f"{both}|layername=train"},
                                                  QgsProcessingContext()).startswith("REFERENCE: ")


def test_the_steps_feedback_starts_canceled_and_raises_the_last_error_reporting_the_others(qgis_processing):
    """W07: a workflow canceled before its steps ran them; W10, W11: the error raised and those logged."""
    outer = RecordingFeedback()
    outer.cancel()
    assert workflow._StepsFeedback(outer).isCanceled()
    outer = RecordingFeedback()
    steps = workflow._StepsFeedback(outer)
    steps.reportError("first")
    steps.reportError("second", True)
    assert steps.pass_errors_on(keep_last=True) == "second"
    assert outer.errors == ["first"] and steps.pass_errors_on() is None


@pytest.mark.parametrize("values, nodata, empty", [
    ([0, 1], None, False),  # W17: a raster of class 1 alone holds labels
    ([255], 255, True),  # W19: a raster of nodata alone holds none (GDAL finds 'no valid pixels')
])
def test_a_label_raster_of_class_1_holds_labels_and_one_of_nodata_none(qgis_processing, tmp_path, values, nodata,
                                                                       empty):
    labels = np.resize(np.array(values, np.uint8), (8, 8))
    assert workflow._holds_no_label(write_raster(tmp_path / "labels.tif", labels, nodata=nodata)) is empty


@pytest.mark.parametrize("labelled, dtype, only", [
    ({(1, 1): 300}, np.uint16, 300.0),  # W20: 16 bits too; W22: each whole value its own bin (not 299)
    ({(0, 0): 1, (1, 1): 2}, np.uint8, None),  # two classes are none
])
def test_the_one_class_of_a_label_raster_is_found_in_8_or_16_bits(qgis_processing, tmp_path, labelled, dtype, only):
    values = np.zeros((8, 8), dtype)
    for (row, col), value in labelled.items():
        values[row, col] = value
    assert workflow._only_class(write_raster(tmp_path / "labels.tif", values)) == only


@pytest.mark.parametrize("columns, nodata, geotransform, bounds, within", [
    # W33: the scene's west edge halfway across the column that holds the labels
    (slice(0, 1), None, None, (ORIGIN_X + 0.5, ORIGIN_Y - 8, ORIGIN_X + 4, ORIGIN_Y), True),
    # W35: nodata (255) under the bounds, labels east of them only
    (slice(6, 8), 255, None, (ORIGIN_X, ORIGIN_Y - 8, ORIGIN_X + 4, ORIGIN_Y), False),
    # W32: a rotated raster is not judged (the step reads it)
    (slice(6, 8), None, (ORIGIN_X, 1.0, 0.1, ORIGIN_Y, 0.1, -1.0), (ORIGIN_X, ORIGIN_Y - 8, ORIGIN_X + 4, ORIGIN_Y),
     True),
])
def test_labels_within_bounds_count_pixels_the_bounds_touch_and_not_nodata(qgis_processing, tmp_path, columns, nodata,
                                                                           geotransform, bounds, within):
    values = np.full((8, 8), 0 if nodata is None else nodata, np.uint8)
    values[:, columns] = 3
    path = write_raster(tmp_path / "labels.tif", values, geotransform or (ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0),
                        nodata=nodata)
    assert workflow._raster_labels_within(path, bounds) is within


def test_samples_stored_in_another_crs_are_judged_over_the_scene_in_its_crs_or_left_to_the_step(qgis_processing, scene,
                                                                                              tmp_path):
    """W24, W26: points in longitude and latitude over the scene (or beside it, within an extent that meets it);
    W25: an extent that cannot be transformed."""
    context = QgsProcessingContext()
    hsi = QgsRasterLayer(str(scene.hsi), "hsi")
    over = QgsVectorLayer(_scene_points(tmp_path, "over", "EPSG:4326", [(661010.5, 5100990.5), (661030.5, 5100970.5)]),
                          "over", "ogr")
    around = QgsVectorLayer(_scene_points(tmp_path, "around", "EPSG:4326", [(660990.5, 5100999.5),
                                                                           (661060.5, 5100950.5)]), "around", "ogr")
    assert workflow._overlaps(over, hsi, context) and workflow._overlaps(around, hsi, context)
    assert workflow._labels_over(over, QgsProcessingFeatureSource(over, context), hsi, context)
    assert not workflow._labels_over(around, QgsProcessingFeatureSource(around, context), hsi, context)
    # W25: an extent that cannot be transformed (a latitude of 95) is not judged here: the step reads it
    beyond = QgsVectorLayer("Point?crs=EPSG:4326", "beyond the pole", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(0, 95)))
    beyond.dataProvider().addFeatures([feature])
    beyond.updateExtents()
    assert workflow._overlaps(beyond, hsi, context)


def test_the_model_files_not_given_default_to_the_lasting_files_the_desktop_proposes(toolbox, monkeypatch):
    """W42: the dialog's defaults; W66: a run without them writes there, not in QGIS's temporary folder."""
    monkeypatch.setattr(workflow, "default_output_path", lambda stem, extension: f"/kept/{stem}.{extension}")
    assert WorkflowAlgorithm().parameterDefinition("pretrain:PRETRAINED").defaultValue() == (
        "/kept/pretrained_model.safetensors")
    feedback = RecordingFeedback()
    given = toolbox._given({}, feedback)
    assert (given["pretrain:PRETRAINED"], given["finetune:CLASSIFIER"]) == (
        "/kept/pretrained_model.safetensors", "/kept/classifier_model.safetensors")
    assert sorted(line.split(":", 1)[0] for line in feedback.warnings) == [
        "No file was given for accuracy", "No file was given for classify"]


def test_an_upper_case_map_name_is_checked_as_a_map(qgis_processing, tmp_path):
    """W54: a foreign raster named PHOTO.TIF given as the map was said not to be a report of this plugin."""
    photo = write_raster(tmp_path / "PHOTO.TIF", np.ones((2, 2), np.uint8))
    with pytest.raises(InputError) as refused:
        WorkflowAlgorithm._check_replaceable({"classify:LANDCOVER": photo})
    assert str(refused.value) == (f"classify:LANDCOVER: {photo} exists and is not a raster this plugin wrote (it may "
                                  "be labels or an image that another step reads); choose a new file name, or delete "
                                  "that file first.")


def test_the_outputs_and_inputs_checked_before_the_first_step(toolbox, scene, tmp_path):
    """W64: a map named .tiff is a GeoTIFF; W65: each of INPUT_AUX's rasters is an input the outputs must spare."""
    assert checked_output_files(toolbox, {"classify:LANDCOVER": str(tmp_path / "map.tiff")}) == {
        "classify:LANDCOVER": str(tmp_path / "map.tiff")}
    layers = toolbox._input_layers({**scene_layers(scene), "LABELS": str(scene.train)}, QgsProcessingContext())
    assert (layers["INPUT_AUX"], layers["LABELS"], layers["SAMPLES"]) == ([str(scene.lidar)], [str(scene.train)], [])


@pytest.mark.parametrize("changes, said", [
    # W60: a reference of one class is assessed (only the training labels need two)
    ({"REFERENCE_LABELS": "one_class"}, None),
    # W63: an output given as the dialog gives it (a QgsProcessingOutputLayerDefinition) is checked too
    ({"classify:LANDCOVER": "test_as_output"}, "classify:LANDCOVER: {test} is the input REFERENCE_LABELS ({test}); "
                                               "writing it would destroy that input. Choose another output file name."),
    # W57: a raster as the samples is told what the samples' step takes
    ({"LABELS": None, "SAMPLES": "train", "CLASS_FIELD": "class_id"},
     "SAMPLES: '{train}' is a raster layer, not a vector layer. Choose a layer of points, lines or polygons."),
    # W47: a list given to a layer or an output of one value (QGIS took the reference's, and said of the map
    # 'Incorrect parameter value')
    ({"REFERENCE_LABELS": "test_listed"}, "REFERENCE_LABELS takes one value, not a list (['{test}']); give the value "
                                          "itself."),
    ({"classify:LANDCOVER": "map_listed"}, "classify:LANDCOVER takes one value, not a list (['{map}']); give the "
                                           "value itself."),
])
def test_the_early_check_takes_a_reference_of_one_class_checks_outputs_given_as_definitions_and_names_geometries(
        toolbox, scene, tmp_path, changes, said):
    reference = gdal.Open(str(scene.test))
    values = {"one_class": write_raster(tmp_path / "one_class.tif", np.where(reference.ReadAsArray() > 0, 3, 0)
                                        .astype(np.uint8), reference.GetGeoTransform(), nodata=0),
              "test_as_output": QgsProcessingOutputLayerDefinition(str(scene.test)), "train": str(scene.train),
              "class_id": "class_id", None: None, "test_listed": [str(scene.test)],
              "map_listed": [str(tmp_path / "map.tif")]}
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "PRESET": "tiny", "classify:LANDCOVER": str(tmp_path / "map.tif"),
                  **{name: values[value] for name, value in changes.items()}}
    checked = toolbox.checkParameterValues({name: value for name, value in parameters.items() if value is not None},
                                           QgsProcessingContext())
    assert checked == ((True, "") if said is None else (False, said.format(test=scene.test, train=scene.train,
                                                                          map=tmp_path / "map.tif")))


def test_a_checkpoint_and_an_output_left_as_they_were_are_not_said_to_be_this_run_s(qgis_processing, tmp_path):
    """W38: a checkpoint an earlier run left (canceled before its first batch, which the check lets pass) is not
    this run's; W40: nor an output this run did not write."""
    model, checkpoint = tmp_path / "pre.safetensors", tmp_path / "pre.checkpoint.safetensors"
    model.write_bytes(b"an earlier model")
    checkpoint.write_bytes(b"an earlier checkpoint")
    outputs = {"pretrain:PRETRAINED": str(model)}
    earlier = {name: workflow.file_state(path) for name, path in {**outputs, **WorkflowAlgorithm._checkpoints(outputs)}
               .items()}
    feedback = RecordingFeedback()
    workflow._say_kept_checkpoints(earlier, outputs, feedback)
    workflow._say_kept_results(earlier, outputs, feedback)
    assert feedback.warnings == []


@pytest.mark.parametrize("step, said", [(0, False), (3, True)])
def test_a_checkpoint_this_run_left_is_said_to_be_resumed_alone_only_if_it_holds_a_batch(qgis_processing, tmp_path,
                                                                                        step, said):
    """A helper's red team of 2026-12-07: a workflow canceled before its first pretraining batch was told to resume
    the pretraining alone, where a rerun of the workflow replaces its checkpoint."""
    from model_core.checkpoints import Checkpointer, LoopState
    from test_model_file_edges import CHECKPOINT_SETTINGS, _model_and_optimizer
    from test_training import DESCRIPTION

    model = tmp_path / "pre.safetensors"
    outputs = {"pretrain:PRETRAINED": str(model)}
    checkpoints = WorkflowAlgorithm._checkpoints(outputs)
    earlier = {name: workflow.file_state(path) for name, path in {**outputs, **checkpoints}.items()}
    Checkpointer(checkpoints["pretrain:PRETRAINED's checkpoint"], "pretraining", CHECKPOINT_SETTINGS, "fingerprint",
                 DESCRIPTION).save(*_model_and_optimizer(), LoopState(step=step), None, None)
    feedback = RecordingFeedback()
    workflow._say_kept_checkpoints(earlier, outputs, feedback)
    assert [warning.split(" is kept")[0] for warning in feedback.warnings] == (
        [f"The pretraining's checkpoint {tmp_path / 'pre.checkpoint.safetensors'}"] if said else [])


def test_a_stopped_workflow_s_files_in_qgis_s_temporary_folder_are_said_to_be_gone_under_qgis_process(
        qgis_processing, tmp_path, monkeypatch):
    """A helper's red team of 2026-12-07: Ctrl-C in qgis_process said the pretrained model there was kept, to finish
    from with the steps left; qgis_process deleted it as it ended. A file of one's own is still said to be kept."""
    from qgis.core import QgsProcessingUtils

    from mrs.algorithms import base

    monkeypatch.setattr(base, "on_command_line", lambda: True)
    folder = tempfile.mkdtemp(dir=QgsProcessingUtils.tempFolder())
    outputs = {"pretrain:PRETRAINED": os.path.join(folder, "PRETRAINED.safetensors"),
               "finetune:CLASSIFIER": str(tmp_path / "classifier.safetensors")}
    earlier = {name: None for name in outputs}
    for path in outputs.values():
        with open(path, "wb") as handle:
            handle.write(b"a model")
    feedback = RecordingFeedback()
    workflow._say_kept_results(earlier, outputs, feedback)
    assert feedback.warnings == [
        f"pretrain:PRETRAINED ({outputs['pretrain:PRETRAINED']}) lies in QGIS's temporary folder, which qgis_process "
        "deletes as it ends: it is gone with it, and cannot be resumed or finished from. Give the outputs files of "
        "your own (--NAME=FILE) to keep what a stopped run wrote.",
        f"This run wrote finetune:CLASSIFIER ({outputs['finetune:CLASSIFIER']}) before it stopped; it is kept: run the "
        "steps left alone (mrs:classify, then mrs:accuracy) to finish."]
    shutil.rmtree(folder)


def test_a_run_stopped_beside_a_checkpoint_an_earlier_run_left_says_its_earlier_results(qgis_processing, tmp_path):
    """The audit's own finding: the checkpoints' states, kept beside the outputs', were looked up among the
    outputs, so a checkpoint there before the run ended every run, finished or stopped, in a KeyError."""
    model, checkpoint = tmp_path / "classifier.safetensors", tmp_path / "classifier.checkpoint.safetensors"
    model.write_bytes(b"an earlier model")
    checkpoint.write_bytes(b"an earlier checkpoint")
    outputs = {"finetune:CLASSIFIER": str(model), "classify:LANDCOVER": str(tmp_path / "map.tif")}
    earlier = {name: workflow.file_state(path) for name, path in {**outputs, **WorkflowAlgorithm._checkpoints(outputs)}
               .items()}
    feedback = RecordingFeedback()
    workflow._say_earlier_results(earlier, outputs, feedback)
    assert feedback.warnings == [f"The workflow stopped before it wrote finetune:CLASSIFIER: its file ({model}) still "
                                 "holds an earlier run's results, not this run's: run it again to replace them, or "
                                 "delete them."]


@pytest.mark.parametrize("option, said", [
    # V05: a layer name and a layerid that is no number: the name is read, and said
    ("|layername=nope|layerid=abc", "SAMPLES: {path} has no layer named 'nope'; its layers: 'samples'. Choose one of "
                                    "them."),
    # V09: a layer number alone
    ("|layerid=5", "SAMPLES: {path} has no layer numbered '5'; its layers: 'samples'. Choose one of them."),
    # V08: an option not understood, under the parameter's name
    ("|foo=1", "SAMPLES: the vector source of 'points' has the option 'foo=1', which is not understood here; the "
               "options taken are layername, layerid, operation and subset. Remove it, or save the layer as it should "
               "be read into a file of its own."),
    ("|layerid=0", None),
])
def test_a_vector_source_s_layer_name_or_number_is_said_under_its_parameter(qgis_processing, tmp_path, option, said):
    path = write_vector(tmp_path / "points.gpkg", [(point_wkt(ORIGIN_X + 0.5, ORIGIN_Y - 0.5), {"c": 1})],
                        {"c": ogr.OFTInteger})
    assert missing_layer_problem(path + option, "SAMPLES") == (said and said.format(path=path))


def test_a_layer_a_file_in_an_archive_or_a_file_of_no_layers_lacks_is_said_and_a_raster_is_left_to_its_check(
        qgis_processing, tmp_path):
    """V10: a GeoPackage in a zip (/vsizip/); V07: a KML file of no layers; V12: a raster, which OGR does not open."""
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(ORIGIN_X + 0.5, ORIGIN_Y - 0.5), {"c": 1})],
                          {"c": ogr.OFTInteger})
    with zipfile.ZipFile(tmp_path / "archive.zip", "w") as archive:
        archive.write(points, "points.gpkg")
    zipped = f"/vsizip/{tmp_path}/archive.zip/points.gpkg"
    assert missing_layer_problem(f"{zipped}|layername=nope", "SAMPLES") == (
        f"SAMPLES: {zipped} has no layer named 'nope'; its layers: 'samples'. Choose one of them.")
    (tmp_path / "empty.kml").write_text('<kml xmlns="http://www.opengis.net/kml/2.2"><Document></Document></kml>')
    assert missing_layer_problem(f"{tmp_path}/empty.kml|layername=nope", "SAMPLES") == (
        f"SAMPLES: {tmp_path}/empty.kml holds no layer. Choose a file that holds the features.")
    raster = write_raster(tmp_path / "image.tif", np.ones((2, 2), np.uint8))
    assert missing_layer_problem(f"{raster}|layername=x", "SAMPLES") is None


def test_a_workflow_canceled_in_its_pretraining_logs_the_step_s_own_words(toolbox, scene, tmp_path):
    """W70: the canceled step's error reaches the log; it is no failure's last error, which the workflow raises
    in place of QGIS's and so holds back."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run
    from test_workflow_model import CancelingOn

    feedback = CancelingOn("Pretraining epoch 1/2")
    with pytest.raises(QgsProcessingException, match="^Canceled: the workflow stopped in pretrain;"):
        run("mrs:workflow", {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                             "PRESET": "tiny", "PRETRAIN_SAMPLES": 100, "PRETRAIN_EPOCHS": 2, "FINETUNE_EPOCHS": 1,
                             **{name: str(tmp_path / file) for name, file in (
                                 ("pretrain:PRETRAINED", "pre.safetensors"),
                                 ("finetune:CLASSIFIER", "classifier.safetensors"), ("classify:LANDCOVER", "map.tif"),
                                 ("accuracy:REPORT", "report.html"))}}, feedback)
    assert feedback.errors == ["Canceled by the user."]
