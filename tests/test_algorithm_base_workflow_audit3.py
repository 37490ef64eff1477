"""The base Processing algorithm (algorithms/base.py) and the workflow (algorithms/workflow.py) where no other test
pins them (a third mutation audit of 2026-12-07): each test here failed on a small change planted in one of them
that the other tests let pass. No training: helpers are called, or runs refused before any work."""

import pytest
from qgis.core import (QgsApplication, QgsFeature, QgsProcessing, QgsProcessingContext,
                       QgsProcessingFeatureSourceDefinition, QgsVectorLayer)

from mrs.algorithms import base, workflow
from mrs.algorithms.workflow import WorkflowAlgorithm
from mrs.mrs_qgis_plugin import parameters as spec
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from processing_helpers import RecordingFeedback


def test_a_selection_of_a_thousand_features_is_recorded_with_a_thousands_separator(qgis_app):
    """_taken: 'its 1,000 selected features', as the other counts of the records are written."""
    layer = QgsVectorLayer("Point?crs=EPSG:32632", "points", "memory")
    layer.dataProvider().addFeatures([QgsFeature() for _ in range(1000)])
    assert base._taken(layer, QgsProcessingFeatureSourceDefinition(layer.id(), True), 1000, True) == (
        "its 1,000 selected features")


def test_a_step_s_messages_keep_the_folder_of_a_file_it_was_given():
    """given_texts: a file's folder is kept as given (a step names files of its own there), with its name and stem."""
    assert sorted(base.given_texts({"OUTPUT": "/w/runs/model.safetensors"}, QgsProcessingContext())) == [
        "/w/runs", "/w/runs/model.safetensors", "model", "model.safetensors"]


@pytest.mark.parametrize("job", [job.name for job in JOBS.values()
                                 if any(p.kind == spec.RASTERS for p in job.parameters)])
def test_a_list_of_rasters_offers_raster_layers_only(job):
    """A list of rasters (INPUT_AUX) takes raster layers in the dialogs, not any layer of the project."""
    parameter = next(p for p in JOBS[job].parameters if p.kind == spec.RASTERS)
    assert base.processing_parameter(parameter).layerType() == QgsProcessing.TypeRaster


def test_the_suggested_points_are_an_output_of_points():
    """The modeler and the dialogs take mrs:suggest's OUTPUT for a layer of points, which it is."""
    assert base.processing_parameter(JOBS["suggest"].parameter("OUTPUT")).dataType() == QgsProcessing.TypeVectorPoint


def test_an_expression_that_cannot_be_read_is_refused_with_its_errors_on_one_line(provider):
    """expression_problem: QGIS's parser errors, one per line after a line break, are said on the sentence's line."""
    from qgis.core import QgsProperty

    finetune = QgsApplication.processingRegistry().algorithmById("mrs:finetune")
    parameters = {"EPOCHS": QgsProperty.fromExpression("foo(1) + bar(2")}
    assert base.expression_problem(finetune, parameters, QgsProcessingContext()) == (
        "EPOCHS: its expression 'foo(1) + bar(2' cannot be read (Function is not known syntax error, unexpected end of "
        "file, expecting COMMA or ')'); correct the expression, or give the value itself.")


@pytest.mark.parametrize("given, said", [
    ("", "INPUT (Land-cover map) has no value; give one."),
    ("  ", "INPUT: '  ' is neither a layer of the project nor an existing file. Choose a raster layer or file."),
])
def test_a_layer_given_as_empty_text_is_said_to_have_no_value_as_a_layer_not_as_a_number(provider, tmp_path, given,
                                                                                         said):
    """value_problem: 'is empty; give a value' is the words of an empty number or choice, not of a layer left out."""
    accuracy = QgsApplication.processingRegistry().algorithmById("mrs:accuracy")
    parameters = {"INPUT": given, "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                  "OUTPUT_HTML": str(tmp_path / "r.html")}
    assert accuracy.checkParameterValues(parameters, QgsProcessingContext()) == (False, said)


def _step(name: str, names: dict):
    """mrs:<name> as a step of mrs:workflow that names its parameters `names`."""
    return QgsApplication.processingRegistry().algorithmById(f"mrs:{name}").create({base.WORKFLOW_NAMES: names})


def test_a_step_s_check_keeps_a_path_it_was_given_that_holds_a_parameter_s_name(provider, tmp_path):
    """checkParameterValues: a folder 'run EPOCHS 5' stays as given in the refusal; the parameter is renamed."""
    folder = tmp_path / "run EPOCHS 5"
    folder.mkdir()
    step = _step("pretrain", {"EPOCHS": "PRETRAIN_EPOCHS", "OUTPUT": "pretrain:PRETRAINED"})
    checked = step.checkParameterValues({"OUTPUT": str(folder / "missing" / "p.safetensors")}, QgsProcessingContext())
    assert checked == (False, f"pretrain:PRETRAINED: the folder {folder / 'missing'} does not exist; choose an "
                              "existing folder.")


def test_a_step_keeps_a_text_in_double_quotes_as_it_is_written(provider):
    """said: a name within double quotes is a quotation, kept as single-quoted texts are."""
    step = _step("pretrain", {"EPOCHS": "PRETRAIN_EPOCHS"})
    assert step.said('The field "EPOCHS" is not EPOCHS.') == 'The field "EPOCHS" is not PRETRAIN_EPOCHS.'


def test_a_model_file_given_as_input_and_output_is_refused_before_the_run(provider, tmp_path):
    """_outputs_problem: a fine-tuning writing its classifier over the PRETRAINED model it reads is refused by the
    dialog's check, not only once the run starts."""
    pretrained = tmp_path / "model.safetensors"
    pretrained.write_bytes(b"a pretrained model")
    finetune = QgsApplication.processingRegistry().algorithmById("mrs:finetune")
    checked = finetune.checkParameterValues({"LABELS": str(tmp_path / "labels.tif"), "PRETRAINED": str(pretrained),
                                             "OUTPUT": str(pretrained)}, QgsProcessingContext())
    assert checked == (False, f"OUTPUT: {pretrained} is the input PRETRAINED ({pretrained}); writing it would destroy "
                              "that input. Choose another output file name.")


@pytest.mark.parametrize("written", [True, False])
def test_a_failed_training_says_its_checkpoint_gone_with_qgis_process_only_if_it_wrote_one(qgis_app, monkeypatch,
                                                                                          written):
    """_say_checkpoints_gone: a run that failed before its first checkpoint is not told of one gone."""
    import tempfile

    from qgis.core import QgsProcessingUtils

    from mrs.algorithms.pretrain import PretrainAlgorithm

    monkeypatch.setattr(base, "on_command_line", lambda: True)
    folder = tempfile.mkdtemp(dir=QgsProcessingUtils.tempFolder())
    pretrain = PretrainAlgorithm()
    pretrain.outputs = {"OUTPUT": f"{folder}/p.safetensors"}
    if written:
        with open(f"{folder}/p.checkpoint.safetensors", "wb") as checkpoint:
            checkpoint.write(b"a checkpoint")
    feedback = RecordingFeedback()
    pretrain._say_checkpoints_gone(feedback)
    assert feedback.warnings == ([f"OUTPUT's checkpoint ({folder}/p.checkpoint.safetensors) lies in QGIS's temporary "
                                  "folder, which qgis_process deletes as it ends: it is gone with it, and cannot be "
                                  "resumed or finished from. Give the outputs files of your own (--NAME=FILE) to keep "
                                  "what a stopped run wrote."] if written else [])


def test_an_extent_s_unknown_crs_followed_by_a_space_is_refused(provider, tmp_path):
    """extent: '... [EPSG:99999] ' is judged as its CRS, not read as numbers in the project's CRS."""
    import numpy as np

    from mrs.model_core.errors import InputError
    from rasters import write_raster

    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    pretrain = QgsApplication.processingRegistry().algorithmById("mrs:pretrain")
    with pytest.raises(InputError) as refused:
        pretrain.extent({"INPUT_HSI": hsi, "EXTENT": "664000,664004,5101996,5102000 [EPSG:99999] "},
                        QgsProcessingContext(), [].append)
    assert str(refused.value) == "EXTENT: the CRS 'EPSG:99999' is not known; write it as EPSG:code."


def test_the_assessment_s_vector_reference_goes_onto_the_map_s_crs(provider, tmp_path):
    """grid_crs: mrs:accuracy has no hyperspectral layer; its vector reference is taken to the assessed map's CRS."""
    import numpy as np

    from rasters import write_raster

    land_cover = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8), crs="EPSG:32633")
    accuracy = QgsApplication.processingRegistry().algorithmById("mrs:accuracy")
    assert accuracy.grid_crs({"INPUT": land_cover}, QgsProcessingContext()).authid() == "EPSG:32633"


class _Heard(RecordingFeedback):
    """Records every line a feedback is told, by the method that told it."""

    def __init__(self):
        super().__init__()
        self.heard = []

    def pushDebugInfo(self, text):  # noqa: N802 - QGIS API name
        self.heard.append(("pushDebugInfo", text))

    def pushCommandInfo(self, text):  # noqa: N802 - QGIS API name
        self.heard.append(("pushCommandInfo", text))

    def pushConsoleInfo(self, text):  # noqa: N802 - QGIS API name
        self.heard.append(("pushConsoleInfo", text))


@pytest.mark.parametrize("method", ["setProgressText", "pushInfo", "pushWarning", "pushDebugInfo", "pushCommandInfo",
                                    "pushConsoleInfo"])
def test_every_line_a_step_reports_reaches_the_workflow_s_log(qgis_app, method):
    """_StepsFeedback: a step's progress text, info, warning, debug, command and console lines are passed on."""
    outer = _Heard()
    getattr(workflow._StepsFeedback(outer), method)("a step's line")
    assert outer.heard + [(name, line) for name, lines in (("setProgressText", outer.texts), ("pushInfo", outer.infos),
                                                           ("pushWarning", outer.warnings)) for line in lines] == [
        (method, "a step's line")]


def test_a_step_s_progress_and_a_later_cancel_reach_through_the_steps_feedback(qgis_app):
    """_StepsFeedback: the steps' progress is the workflow's; a cancel of the workflow's run cancels the steps'."""
    outer = RecordingFeedback()
    steps = workflow._StepsFeedback(outer)
    steps.setProgress(40.0)
    assert outer.percents == [40.0] and not steps.isCanceled()
    outer.cancel()
    assert steps.isCanceled()


def test_a_label_raster_of_negative_values_is_not_said_to_hold_no_label(qgis_app, tmp_path):
    """_holds_no_label: values below 0 are values (its step says what it makes of them), not an empty raster."""
    import numpy as np

    from rasters import write_raster

    labels = np.zeros((8, 8), np.int16)
    labels[2, 3] = -3
    assert workflow._holds_no_label(write_raster(tmp_path / "labels.tif", labels)) is False


def test_a_label_raster_placed_without_a_crs_is_taken_to_lie_on_the_scene(qgis_app, tmp_path):
    """_labels_over: a raster with a geotransform but no CRS is not compared with the scene's coordinates (the steps
    take it as lying on the scene's pixels)."""
    import numpy as np
    from qgis.core import QgsRasterLayer

    from rasters import write_raster

    hsi = QgsRasterLayer(write_raster(tmp_path / "hsi.tif", np.ones((3, 8, 8), np.float32)), "hsi")
    labels = QgsRasterLayer(write_raster(tmp_path / "labels.tif", np.full((8, 8), 2, np.uint8),
                                         (0.0, 1.0, 0.0, 8.0, 0.0, -1.0), crs=None), "labels")
    assert workflow._labels_over(labels, None, hsi, QgsProcessingContext()) is True



def test_a_stopped_run_that_wrote_two_models_is_told_to_run_the_steps_after_the_later(qgis_app, tmp_path):
    """_say_kept_results: the steps left are those after the last step that wrote an output, in the steps' order."""
    outputs = {"finetune:CLASSIFIER": str(tmp_path / "c.safetensors"),
               "pretrain:PRETRAINED": str(tmp_path / "p.safetensors")}
    for path in outputs.values():
        with open(path, "wb") as model_file:
            model_file.write(b"a model")
    feedback = RecordingFeedback()
    workflow._say_kept_results({name: None for name in outputs}, outputs, feedback)
    assert feedback.warnings == [
        f"This run wrote pretrain:PRETRAINED ({tmp_path / 'p.safetensors'}), finetune:CLASSIFIER "
        f"({tmp_path / 'c.safetensors'}) before it stopped; they are kept: run the steps left alone (mrs:classify, "
        "then mrs:accuracy) to finish."]


def test_the_registered_workflow_s_outputs_are_optional_and_a_run_s_instance_needs_them(provider):
    """load(outputs_optional=True): qgis_process checks the registered instance's mandatory parameters before any run,
    so its outputs, which the run gives files of its own, are optional there; a run's own instance needs them."""
    from qgis.core import QgsProcessingParameterDefinition

    def optional(algorithm):
        return sorted(definition.name() for definition in algorithm.destinationParameterDefinitions()
                      if definition.flags() & QgsProcessingParameterDefinition.FlagOptional)

    registered = QgsApplication.processingRegistry().algorithmById("mrs:workflow")
    assert optional(registered) == ["accuracy:FIGURES", "accuracy:REPORT", "classify:LANDCOVER", "finetune:CLASSIFIER",
                                    "pretrain:PRETRAINED"]
    assert optional(registered.create()) == ["accuracy:FIGURES"]


@pytest.mark.parametrize("command_line, how", [(True, "--classify:LANDCOVER=FILE"),
                                               (False, "a file as classify:LANDCOVER")])
def test_an_output_not_given_goes_to_a_temporary_file_named_after_it_and_is_said_how_to_keep(provider, monkeypatch,
                                                                                            command_line, how):
    """_temporary_file: 'LANDCOVER.tif' in QGIS's temporary folder, told once by the workflow (its step is not), with
    the way to keep it that the workflow's user writes there."""
    import os

    monkeypatch.setattr(workflow, "on_command_line", lambda: command_line)
    feedback = RecordingFeedback()
    path = WorkflowAlgorithm()._temporary_file("classify:LANDCOVER", feedback)
    assert os.path.basename(path) == "LANDCOVER.tif" and os.path.realpath(path) in base.TEMPORARY_TOLD
    assert feedback.warnings == [f"No file was given for classify:LANDCOVER: it goes to {path}, in QGIS's temporary "
                                 f"folder, deleted when QGIS closes; give {how} to keep it."]


def test_the_workflow_s_help_on_the_command_line_names_its_file_as_written(provider, monkeypatch):
    """shortHelpString: qgis_process prints text, so a folder 'R&D' is not printed as the web page's 'R&amp;D'."""
    from pathlib import Path

    toolbox = WorkflowAlgorithm()
    monkeypatch.setattr(workflow, "WORKFLOW_FILE", Path("/opt/R&D/mrs_workflow.model3"))
    monkeypatch.setattr(workflow, "on_command_line", lambda: True)
    assert toolbox.shortHelpString().endswith(
        "(then save a copy under another name): /opt/R&D/mrs_workflow.model3")
