"""The QGIS front end (algorithms/base.py, algorithms/layers.py) where no other test pins it: what the
log and the records say of a layer read as given, the checks before the run, and the warnings of the
run itself. Tiny scenes, no training: the accuracy assessment reads a label raster as its map."""

import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingParameterDefinition,
    QgsProject,
    QgsRasterLayer,
    QgsRasterRange,
    QgsVectorLayer,
)

from processing_helpers import RecordingFeedback, run, scene_layers
from test_algorithms import mrs, scene  # noqa: F401 (fixtures)


@pytest.fixture
def points(scene):
    """The scene's training points as a project layer, removed afterwards."""
    layer = QgsVectorLayer(str(scene.train_points), "points", "ogr")
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeAllMapLayers()


def assess(scene, tmp_path, reference, feedback=None, **changes) -> dict:
    """mrs:accuracy of the scene's training labels as the map against `reference` (its class_id field)."""
    parameters = {"INPUT": str(scene.train), "REFERENCE": reference, "REFERENCE_FIELD": "class_id",
                  "OUTPUT_HTML": str(tmp_path / "r.html"), **changes}
    return run("mrs:accuracy", parameters, feedback)


@pytest.mark.parametrize("selected, limit, taken", [
    (1, -1, "its 1 selected feature"),
    (3, -1, "its 3 selected features"),
    (0, 1, "its first 1 feature"),
])
def test_a_selection_or_a_feature_limit_is_said_in_the_log_in_the_right_number(mrs, scene, points, tmp_path,
                                                                                 selected, limit, taken):
    points.selectByIds([feature.id() for feature in points.getFeatures()][:selected])
    feedback = RecordingFeedback()
    assess(scene, tmp_path, QgsProcessingFeatureSourceDefinition(points.id(), bool(selected), limit), feedback)
    assert f"'points' is read as given: {taken}." in feedback.infos


def workflow_step(child_id: str):
    """The shipped workflow's step `child_id` as the workflow makes it: naming its parameters as the workflow does."""
    from mrs.algorithms.base import WORKFLOW_NAMES
    from mrs.algorithms.workflow import WorkflowAlgorithm

    shipped = WorkflowAlgorithm()
    child = shipped.childAlgorithm(child_id)
    return QgsApplication.processingRegistry().algorithmById(child.algorithmId()).create(
        {WORKFLOW_NAMES: shipped._names_of(child)})


@pytest.mark.parametrize("given, text", [
    ({"MASK": "SAMPLES v2"}, "Read SAMPLES v2 and EPOCHS."),  # a short text given is kept
    ({"MASK": "old", "EXTENT": "old EPOCHS"}, "Read old EPOCHS and EPOCHS."),  # the longest given text first
])
def test_a_step_s_message_keeps_the_texts_its_run_was_given(mrs, given, text):
    from mrs.algorithms.base import given_texts

    pretrain = workflow_step("pretrain")
    pretrain.given_texts = given_texts(given, QgsProcessingContext())
    assert pretrain.said(text) == text[:-len("EPOCHS.")] + "PRETRAIN_EPOCHS."


def test_a_step_s_log_lines_and_warnings_name_parameters_as_the_workflow_does(mrs):
    from mrs.algorithms.base import hooks_from_feedback

    feedback = RecordingFeedback()
    hooks = hooks_from_feedback(feedback, workflow_step("pretrain").said)
    hooks.log("EPOCHS 2 of 5")
    hooks.warning("SAMPLES is 10")
    assert (feedback.infos, feedback.warnings) == (["PRETRAIN_EPOCHS 2 of 5"], ["PRETRAIN_SAMPLES is 10"])


def test_temporary_outputs_are_no_output_files_a_run_claims(mrs, tmp_path):
    """Temporary outputs are named by QGIS as the run starts: 'TEMPORARY_OUTPUT' is no file that two runs share."""
    from qgis.core import QgsProcessingOutputLayerDefinition

    from mrs.algorithms.base import output_files
    from mrs.mrs_qgis_plugin.job_parameters import CLASSIFY

    given = {"OUTPUT": QgsProcessingOutputLayerDefinition("TEMPORARY_OUTPUT"), "OUTPUT_CONFIDENCE": "TEMPORARY_OUTPUT"}
    assert output_files(given, CLASSIFY) == {}
    kept = str(tmp_path / "map.tif")
    assert output_files({**given, "OUTPUT": kept}, CLASSIFY) == {"OUTPUT": kept}


def test_a_name_many_project_layers_bear_is_refused_naming_the_first_three_sources(mrs, scene, tmp_path):
    import shutil

    copies = sorted(str(shutil.copy(scene.train, tmp_path / f"flight{index}.tif")) for index in range(4))
    QgsProject.instance().addMapLayers([QgsRasterLayer(path, "flight", "gdal") for path in copies])
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    try:
        checked = QgsApplication.processingRegistry().algorithmById("mrs:accuracy").checkParameterValues(
            {"INPUT": "flight", "REFERENCE_LABELS": str(scene.test), "OUTPUT_HTML": str(tmp_path / "r.html")}, context)
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert checked == (False, "INPUT: 'flight' is the name of 4 project layers of other sources "
                              f"({', '.join(copies[:3])}, ...), of which Processing would take one by chance. Rename "
                              "them apart, or choose the layer you mean from the list (on the command line, give the "
                              "path of its file).")


def no_data_250_to_255(layer):
    layer.dataProvider().setUserNoDataValue(1, [QgsRasterRange(250, 255)])


def file_no_data_unused(layer):
    layer.dataProvider().setUseSourceNoDataValue(1, False)


@pytest.mark.parametrize("change, said", [
    (no_data_250_to_255, "has no-data values set in QGIS (band 1: 250 to 255) that its file does not hold"),
    (file_no_data_unused, "does not use its file's no-data value (band 1: 0) in QGIS, and the algorithms read the "
                          "file. Tick 'No data value' in the layer's properties (Transparency)"),
])
def test_no_data_that_qgis_shows_otherwise_than_the_file_is_refused_saying_which(mrs, scene, tmp_path, change, said):
    from osgeo import gdal

    path = str(tmp_path / "labels.tif")
    gdal.Translate(path, str(scene.train), noData=0)
    layer = QgsRasterLayer(path, "labels", "gdal")
    change(layer)
    QgsProject.instance().addMapLayer(layer)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:accuracy", {"INPUT": layer.id(), "REFERENCE_LABELS": str(scene.test),
                                 "OUTPUT_HTML": str(tmp_path / "r.html")})
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(refused.value).startswith(f"INPUT: the layer 'labels' {said}")


def test_an_optional_map_is_not_made_unless_asked_and_advanced_parameters_are_shown_as_such(mrs):
    registry = QgsApplication.processingRegistry()
    classify, pretrain = registry.algorithmById("mrs:classify"), registry.algorithmById("mrs:pretrain")
    assert [classify.parameterDefinition(name).createByDefault() for name in ("OUTPUT", "OUTPUT_CONFIDENCE")] == [
        True, False]
    advanced = [definition.name() for definition in pretrain.parameterDefinitions()
                if definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced]
    assert "SEED" in advanced and "INPUT_HSI" not in advanced


def test_a_step_s_check_before_the_run_names_parameters_as_the_workflow_does(mrs, scene):
    pretrain = workflow_step("pretrain")
    ok, message = pretrain.checkParameterValues({**scene_layers(scene), "SAMPLES": 0}, QgsProcessingContext())
    assert not ok and message.startswith("PRETRAIN_SAMPLES is 0;")


def test_a_step_s_refusal_at_run_time_names_parameters_as_the_workflow_does(mrs, scene, tmp_path):
    pretrain = workflow_step("pretrain")
    parameters = {**scene_layers(scene), "SAMPLES": 0, "OUTPUT": str(tmp_path / "p.safetensors")}
    with pytest.raises(QgsProcessingException) as refused:
        pretrain.processAlgorithm(parameters, QgsProcessingContext(), RecordingFeedback())
    assert str(refused.value).startswith("PRETRAIN_SAMPLES is 0;")


def test_a_hyperspectral_layer_of_the_fewest_bands_allowed_passes_the_check(mrs, scene, tmp_path):
    from osgeo import gdal

    three = str(tmp_path / "three.tif")
    gdal.Translate(three, str(scene.hsi), bandList=[1, 2, 3])
    pretrain = QgsApplication.processingRegistry().algorithmById("mrs:pretrain")
    parameters = {**scene_layers(scene), "INPUT_HSI": three, "OUTPUT": str(tmp_path / "p.safetensors")}
    assert pretrain.checkParameterValues(parameters, QgsProcessingContext()) == (True, "")


@pytest.mark.parametrize("command_line, warned", [(True, ["OUTPUT_HTML"]), (False, [])])
def test_a_report_left_temporary_is_warned_of_under_qgis_process_only(mrs, scene, tmp_path, monkeypatch, command_line,
                                                                     warned):
    """qgis_process deletes its temporary folder as it ends: a report printed there is gone; the desktop keeps it."""
    import shutil

    from mrs.algorithms import base

    monkeypatch.setattr(base, "on_command_line", lambda: command_line)
    feedback = RecordingFeedback()
    reference = shutil.copy(scene.train, tmp_path / "reference.tif")
    results = run("mrs:accuracy", {"INPUT": str(scene.train), "REFERENCE_LABELS": str(reference),
                                   "OUTPUT_HTML": "TEMPORARY_OUTPUT"}, feedback)
    told = [line for line in feedback.warnings if "temporary folder" in line]
    assert told == [f"{name}: {results[name]} is in QGIS's temporary folder, which qgis_process deletes as it ends; "
                    f"give --{name}=FILE to keep it." for name in warned]


def test_a_field_qgis_adds_to_a_file_layer_is_read(mrs, scene, points, tmp_path):
    from qgis.core import QgsField
    from qgis.PyQt.QtCore import QVariant

    points.addExpressionField('"class_id"', QgsField("truth", QVariant.Int))
    results = assess(scene, tmp_path, points.id(), REFERENCE_FIELD="truth")
    assert results["OVERALL_ACCURACY"] == 1.0


@pytest.mark.parametrize("selected, limit, said", [
    # the dialog gives a layer with Processing's advanced options as a definition too: nothing selected
    (False, -1, "REFERENCE: the layer 'empty' has no features to read samples from (or its filter selects none). "
                "Choose a layer that holds samples, or correct its filter."),
    (True, -1, "REFERENCE: no feature of 'empty' is selected (or the feature limit is 0); select the features to use, "
               "or untick 'Selected features only'."),
    (False, 5, "REFERENCE: the layer 'empty' has no features to read samples from (or its filter selects none). "
               "Choose a layer that holds samples, or correct its filter."),  # a limit of 5 (the review of the mend)
])
def test_an_empty_layer_given_as_a_definition_is_said_to_be_empty_unless_a_selection_was_asked(
        mrs, scene, tmp_path, selected, limit, said):
    """The audit's own finding: an empty layer given with its advanced options (its invalid geometries'
    handling) was told that no feature of it is selected."""
    empty = QgsVectorLayer("Point?crs=EPSG:32632&field=class_id:integer", "empty", "memory")
    QgsProject.instance().addMapLayer(empty)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            assess(scene, tmp_path, QgsProcessingFeatureSourceDefinition(empty.id(), selected, limit))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(refused.value).splitlines()[-1] == said
    assert list(tmp_path.iterdir()) == []
