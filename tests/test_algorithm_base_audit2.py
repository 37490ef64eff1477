"""The base Processing algorithm (algorithms/base.py) and its thin front ends where no other test pins them (a second
mutation audit of 2026-12-07): the ranges and counts the dialogs enforce, the texts a step's messages keep, the
sentences of outputs lost with qgis_process, and what a run says and loads. No training: the runs are scripted or
refused before any work."""

import pytest
import torch
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException, QgsProcessingUtils

from mrs.algorithms import base
from mrs.mrs_qgis_plugin import parameters as spec
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from processing_helpers import QUICK_PRETRAIN, RecordingFeedback, run, scene_layers
from test_algorithms import mrs, scene  # noqa: F401 (fixtures)

NUMBERS = [(job.name, p.name) for job in JOBS.values() for p in job.parameters if p.kind in (spec.INTEGER, spec.NUMBER)]


@pytest.mark.parametrize("job, name", NUMBERS, ids=lambda value: str(value))
def test_a_number_s_box_takes_the_declared_range(job, name):
    """The dialog's box refuses what the job refuses: below its minimum, above its maximum (QGIS's largest integer
    where a whole number declares none)."""
    parameter = JOBS[job].parameter(name)
    definition = base.processing_parameter(parameter)
    if parameter.minimum is not None:
        assert definition.minimum() == parameter.minimum
    if parameter.upper is not None:
        assert definition.maximum() == parameter.upper


@pytest.mark.parametrize("job", ["pretrain", "redundancy"])
def test_a_list_of_rasters_the_job_needs_asks_for_at_least_one_and_an_optional_one_for_none(job):
    """The dialog and qgis_process refuse an empty INPUT_AUX where the job needs auxiliary rasters."""
    parameter = JOBS[job].parameter("INPUT_AUX")
    definition = base.processing_parameter(parameter)
    assert definition.minimumNumberInputs() == (0 if parameter.optional else 1)
    assert definition.checkValueIsAcceptable([]) == parameter.optional


def test_a_step_s_messages_keep_the_given_texts_of_three_letters_not_those_of_two():
    """A three-letter layer name or file ('lai') is kept as given in a step's messages; two letters are not."""
    assert sorted(base.given_texts({"A": "lai", "B": "ab", "C": ["x/aux.tif"]}, QgsProcessingContext())) == [
        "aux", "aux.tif", "lai", "x/aux.tif"]


def test_files_lost_with_qgis_process_are_said_in_one_sentence_of_the_right_number(qgis_app, monkeypatch, tmp_path):
    """Two checkpoints in QGIS's temporary folder 'lie' there and 'they are' gone; a file of one's own is kept."""
    monkeypatch.setattr(base, "on_command_line", lambda: True)
    temporary = QgsProcessingUtils.tempFolder()
    files = {"OUTPUT's checkpoint": f"{temporary}/a.ckpt", "mine": str(tmp_path / "b.ckpt"),
             "PRETRAINED's checkpoint": f"{temporary}/b.ckpt"}
    kept, said = base.gone_with_qgis_process(files)
    assert kept == {"mine": str(tmp_path / "b.ckpt")}
    assert said == (f"OUTPUT's checkpoint ({temporary}/a.ckpt) and PRETRAINED's checkpoint ({temporary}/b.ckpt) lie in "
                    "QGIS's temporary folder, which qgis_process deletes as it ends: they are gone with it, and cannot "
                    "be resumed or finished from. Give the outputs files of your own (--NAME=FILE) to keep what a "
                    "stopped run wrote.")
    monkeypatch.setattr(base, "on_command_line", lambda: False)
    assert base.gone_with_qgis_process(files) == (files, None)


def _points_file(path, count):
    from osgeo import ogr

    from rasters import point_wkt, write_vector

    return write_vector(path, [(point_wkt(float(i), 0.0), {"n": i}) for i in range(count)], {"n": ogr.OFTInteger})


def test_a_layer_over_an_output_being_edited_is_refused_only_with_edits_not_saved(qgis_app, tmp_path):
    """A layer in edit mode with nothing changed is read anew; one with edits not saved is refused naming it."""
    from qgis.core import QgsFeature, QgsVectorLayer

    path = _points_file(tmp_path / "points.gpkg", 1)
    layer = QgsVectorLayer(path, "suggested", "ogr")
    assert layer.startEditing()
    base._release(layer, "OUTPUT", path)
    layer.addFeature(QgsFeature(layer.fields()))
    with pytest.raises(QgsProcessingException) as refused:
        base._release(layer, "OUTPUT", path)
    assert str(refused.value) == (f"OUTPUT: {path} is open in QGIS as the layer 'suggested' with edits not saved; save "
                                  "or discard them first, or choose another file name.")
    layer.rollBack()


@pytest.mark.parametrize("text, said", [
    ("SEED is 3.", "SEED is 3. (SEED is a parameter of mrs:pretrain that the workflow sets itself: run mrs:pretrain "
                   "alone to change it.)"),
    ("SEED, DEVICE and SEED; EPOCHS.", "SEED, DEVICE and SEED; PRETRAIN_EPOCHS. (SEED and DEVICE are parameters of "
                                       "mrs:pretrain that the workflow sets itself: run mrs:pretrain alone to change "
                                       "them.)"),
])
def test_a_step_says_once_each_parameter_the_workflow_sets_itself(provider, text, said):
    """A step's message names a parameter the workflow sets itself as the step's, with one note naming each once."""
    step = QgsApplication.processingRegistry().algorithmById("mrs:pretrain").create(
        {base.WORKFLOW_NAMES: {"EPOCHS": "PRETRAIN_EPOCHS", "SEED": "", "DEVICE": ""}})
    assert step.said(text) == said


def _scripted(work, configuration=None):
    from test_algorithm_base import ScriptedAlgorithm

    algorithm = ScriptedAlgorithm(work)
    algorithm.initAlgorithm(configuration)
    return algorithm


@pytest.mark.parametrize("configuration, first, later", [
    (None, None, ", and the model's later steps do not run"),  # run unchecked: a step of an analyst's model
    ({base.WORKFLOW_STEP: "2 of 4"}, "Step 2 of 4: Scripted", ""),  # a step of mrs:workflow, which says its own
])
def test_a_step_s_log_begins_with_its_place_and_a_late_cancel_says_what_the_model_leaves(
        qgis_app, monkeypatch, configuration, first, later):
    """mrs:workflow's step begins its log with its place; a cancel after the work keeps the outputs, and a step of an
    analyst's model is told that the model's later steps do not run."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    feedback = RecordingFeedback()
    threads = torch.get_num_threads()
    try:  # the user cancels once the work is done
        algorithm = _scripted(lambda *_: feedback.cancel() or {}, configuration)
        assert algorithm.processAlgorithm({}, QgsProcessingContext(), feedback) == {}
    finally:
        torch.set_num_threads(threads)
    if first:
        assert feedback.infos[0] == first
    else:
        assert not feedback.infos[0].startswith("Step")
    assert feedback.warnings == ["Cancel came once the work was done: its outputs are written whole and kept (QGIS "
                                 "may still say that the run failed, and not load them: open them from their "
                                 f"files{later})."]


@pytest.mark.parametrize("as_mask, in_thread, refused", [(False, False, True), (True, False, False),
                                                         (False, True, False)],
                         ids=["project_layer", "also_an_input", "model_step_thread"])
def test_a_project_layer_with_edits_over_the_output_is_refused_before_the_run_unless_it_is_an_input(
        provider, tmp_path, as_mask, in_thread, refused):
    """In QGIS's main thread a layer of the output file with edits not saved is refused before the run; one also given
    as an input is left to the run's own words, and a model's step in Processing's worker thread leaves the project
    alone."""
    import threading

    from qgis.core import QgsFeature, QgsProject, QgsVectorLayer

    path = _points_file(tmp_path / "points.gpkg", 1)
    layer = QgsVectorLayer(path, "suggested", "ogr")
    QgsProject.instance().addMapLayer(layer)
    layer.startEditing()
    layer.addFeature(QgsFeature(layer.fields()))
    suggest = QgsApplication.processingRegistry().createAlgorithmById("mrs:suggest")
    parameters = {"OUTPUT": path, **({"MASK": layer.id()} if as_mask else {})}
    outcome = []

    def prepare():
        try:
            outcome.append(suggest.prepareAlgorithm(parameters, QgsProcessingContext(), RecordingFeedback()))
        except QgsProcessingException as error:
            outcome.append(str(error))

    try:
        if in_thread:
            thread = threading.Thread(target=prepare)
            thread.start()
            thread.join(10)
        else:
            prepare()
    finally:
        layer.rollBack()
        QgsProject.instance().removeAllMapLayers()
    assert outcome == [f"OUTPUT: {path} is open in QGIS as the layer 'suggested' with edits not saved; save or discard "
                       "them first, or choose another file name." if refused else True]


def test_a_run_checked_before_is_not_checked_again_and_its_check_is_used_once(provider):
    """A run whose parameters QGIS checked goes on unchecked; the next run in that context is checked in turn (a step
    of a model)."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("mrs:accuracy")
    context, checks = QgsProcessingContext(), []

    def check():
        checks.append(True)
        return True, ""

    base.record_checked(algorithm, context)
    assert base.check_unless_checked(algorithm, context, check) is False and checks == []
    assert base.check_unless_checked(algorithm, context, check) is True and checks == [True]
    with pytest.raises(QgsProcessingException, match="^EPOCHS: no$"):
        base.check_unless_checked(algorithm, context, lambda: (False, "EPOCHS: no"))


def test_an_output_the_workflow_warned_of_is_not_warned_of_again_by_its_step(qgis_app, monkeypatch):
    """mrs:workflow warns of its own outputs left in QGIS's temporary folder by its names; the step says nothing more,
    where another output there is warned of."""
    import os

    from mrs.algorithms.pretrain import PretrainAlgorithm
    from mrs.model_core.hooks import Hooks

    told_by_workflow = f"{QgsProcessingUtils.tempFolder()}/told.safetensors"
    monkeypatch.setattr(base, "TEMPORARY_TOLD", {os.path.realpath(told_by_workflow)})
    told = []
    for name in ("told", "other"):
        PretrainAlgorithm()._say_temporary({"OUTPUT": f"{QgsProcessingUtils.tempFolder()}/{name}.safetensors"},
                                           Hooks(warn=told.append))
    assert [line.split(" is in ")[0] for line in told] == [
        f"OUTPUT: {QgsProcessingUtils.tempFolder()}/other.safetensors"]



def test_an_extent_from_a_layer_of_points_along_a_line_is_refused_naming_the_layer(mrs, scene, tmp_path):
    """Points of one y span a width but no height: no area, refused before the run as a single point is."""
    from osgeo import ogr
    from qgis.core import QgsRasterLayer

    from mrs.mrs_qgis_plugin.raster.grid import format_bounds
    from rasters import point_wkt, write_vector

    box = QgsRasterLayer(str(scene.hsi), "hsi").extent()
    x0, y = box.xMinimum() + 5.5, box.center().y()
    line = write_vector(tmp_path / "line.gpkg", [(point_wkt(x0, y), {}), (point_wkt(x0 + 20, y), {})],
                        {"n": ogr.OFTInteger})
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:pretrain", {**scene_layers(scene), **QUICK_PRETRAIN, "EXTENT": line,
                             "OUTPUT": str(tmp_path / "p.safetensors")})
    assert str(refused.value).splitlines()[-1] == (
        f"EXTENT: the features of the layer 'line' ({line}) span no area ({format_bounds((x0, y, x0 + 20, y))}); "
        "give a layer of an area, or xmin,xmax,ymin,ymax.")
    assert [path.name for path in tmp_path.iterdir()] == ["line.gpkg"]



def test_only_the_optional_outputs_not_asked_for_by_default_are_skipped_in_the_dialogs():
    """The dialogs offer 'Skip output' at first for the confidence raster and the JSON and CSV reports of the
    assessment only; every other output is written unless skipped."""
    skipped = [(job.name, p.name) for job in JOBS.values() for p in job.parameters
               if p.kind in spec.DESTINATIONS and not base.processing_parameter(p).createByDefault()]
    assert skipped == [("classify", "OUTPUT_CONFIDENCE"), ("accuracy", "OUTPUT_JSON"), ("accuracy", "OUTPUT_CSV")]


def test_a_folder_the_check_before_the_run_cannot_list_is_left_to_the_job_s_own_check(mrs, scene, tmp_path,
                                                                                        monkeypatch):
    """An OSError while the dialog's check compares outputs with inputs (a folder that cannot be listed) is no
    traceback: the check passes, and the job's own check says it."""
    from mrs.mrs_qgis_plugin.raster import outputs

    def unlistable(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(outputs, "outputs_spare_inputs", unlistable)
    accuracy = QgsApplication.processingRegistry().createAlgorithmById("mrs:accuracy")
    parameters = {"INPUT": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "OUTPUT_HTML": str(tmp_path / "r.html")}
    assert accuracy.checkParameterValues(parameters, QgsProcessingContext()) == (True, "")


def test_a_copy_of_a_selection_of_suggested_points_keeps_their_record(mrs, scene, tmp_path):
    """A selection is read through a copy; the record a suggestions layer keeps of the fields the plugin wrote goes
    with it, so that the classifier's guesses are still told as such."""
    from osgeo import ogr
    from qgis.core import QgsProcessingFeatureSourceDefinition, QgsProject, QgsVectorLayer

    from mrs.mrs_qgis_plugin.raster.suggestions import CONTENT_KEY

    path = _points_file(tmp_path / "suggested.gpkg", 3)
    dataset = ogr.Open(path, 1)
    dataset.GetLayer(0).SetMetadataItem(CONTENT_KEY, '{"written": ["n"]}')
    dataset = None
    layer = QgsVectorLayer(path, "suggested", "ogr")
    QgsProject.instance().addMapLayer(layer)
    layer.selectByIds([feature.id() for feature in layer.getFeatures()][:2])
    accuracy = QgsApplication.processingRegistry().createAlgorithmById("mrs:accuracy")
    accuracy.initAlgorithm()
    accuracy.copied = {}
    parameters = {"INPUT": str(scene.train), "REFERENCE": QgsProcessingFeatureSourceDefinition(layer.id(), True)}
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    try:
        given = accuracy.vector_source(parameters, "REFERENCE", context, RecordingFeedback())
    finally:
        QgsProject.instance().removeAllMapLayers()
    copy = ogr.Open(given.path.split("|")[0])
    assert (given.origin, copy.GetLayer(0).GetFeatureCount(), copy.GetLayer(0).GetMetadataItem(CONTENT_KEY)) == (
        path, 2, '{"written": ["n"]}')


def test_a_step_s_refusal_at_run_time_names_parameters_as_the_workflow_does_but_keeps_the_texts_given(qgis_app,
                                                                                                     monkeypatch):
    """An error of a step's run names its parameters as the workflow's user writes them, except within the texts the
    run was given (a layer 'old DEVICE set')."""
    from mrs.model_core.errors import InputError

    def refuse(*_):
        raise InputError("Read old DEVICE set and DEVICE.")

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    step = _scripted(refuse, {base.WORKFLOW_NAMES: {"DEVICE": "CLASSIFY_DEVICE"}})
    context, threads = QgsProcessingContext(), torch.get_num_threads()
    base.record_checked(step, context)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            step.processAlgorithm({"DEVICE": "cpu", "MASK": "old DEVICE set"}, context, RecordingFeedback())
    finally:
        torch.set_num_threads(threads)
    assert str(refused.value) == "Read old DEVICE set and CLASSIFY_DEVICE."


def test_a_layer_read_with_its_unsaved_edits_is_said_so_in_the_log(mrs, scene, tmp_path):
    """A layer with edits not saved is read as QGIS shows it, through a copy, and the log says so."""
    from qgis.core import QgsFeature, QgsProject, QgsVectorLayer

    layer = QgsVectorLayer(str(scene.train_points), "points", "ogr")
    QgsProject.instance().addMapLayer(layer)
    layer.startEditing()
    added = QgsFeature(next(layer.getFeatures()))
    layer.addFeature(added)
    feedback = RecordingFeedback()
    try:
        run("mrs:accuracy", {"INPUT": str(scene.train), "REFERENCE": layer.id(), "REFERENCE_FIELD": "class_id",
                             "OUTPUT_HTML": str(tmp_path / "r.html")}, feedback)
    finally:
        layer.rollBack()
        QgsProject.instance().removeAllMapLayers()
    assert "'points' is read as given: with its unsaved edits." in feedback.infos


def test_an_extent_given_as_a_layer_whose_name_ends_in_brackets_is_read_as_that_layer(mrs, scene, tmp_path):
    """EXTENT 'area [v2]', a project layer's name, is that layer's extent: it was refused as an extent written in the
    unknown CRS 'v2' (a bug the audit found)."""
    from qgis.core import QgsProject, QgsRasterLayer

    QgsProject.instance().addMapLayer(QgsRasterLayer(str(scene.train), "area [v2]"))
    feedback = RecordingFeedback()
    try:
        run("mrs:pretrain", {**scene_layers(scene), **QUICK_PRETRAIN, "EPOCHS": 1, "SAMPLES": 64, "EXTENT": "area [v2]",
                             "OUTPUT": str(tmp_path / "p.safetensors")}, feedback)
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert (tmp_path / "p.safetensors").is_file()


@pytest.mark.parametrize("limit, count, said", [(5, 3, ""), (3, 3, ""), (2, 2, "its first 2 features"),
                                                (1, 1, "its first 1 feature"), (-1, 3, "")])
def test_a_feature_limit_is_recorded_only_where_it_left_features_out(qgis_app, limit, count, said):
    """A copy of a layer's 3 features under a limit of 5 or 3 holds every feature: it was recorded as 'its first 3
    features'."""
    from qgis.core import QgsFeature, QgsProcessingFeatureSourceDefinition, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:32632", "points", "memory")
    layer.dataProvider().addFeatures([QgsFeature() for _ in range(3)])
    definition = QgsProcessingFeatureSourceDefinition(layer.id(), False, limit)
    assert base._taken(layer, definition, count, True) == said
    assert base._taken(None, definition, count, True) == ("" if count < limit or limit < 0 else f"its first {count} "
                                                          f"feature{'s' if count > 1 else ''}")
