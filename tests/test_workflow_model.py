"""The graphical-modeler workflow shipped with the plugin: pretrain -> finetune -> classify -> accuracy."""

import gc
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import ogr
from qgis.core import (QgsApplication, QgsProcessingModelAlgorithm, QgsProcessingModelChildParameterSource,
                       QgsProcessingParameterDefinition, QgsProject)

from mrs.model_core import model_file
from mrs.mrs_qgis_plugin.synthetic_scene import CLASSES
from processing_helpers import (
    SAMPLES_AND_LABELS,
    RecordingFeedback,
    algorithms_ready,
    folder_state,
    overall_accuracy,
    run_and_load,
    scene_layers,
    write_test_scene,
)
from rasters import point_wkt, write_raster, write_vector
from test_raster_writers import read_raster

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "resources" / "models" / "mrs_workflow.model3"
OUTPUTS = {
    "pretrain:PRETRAINED": ("pretrain", "OUTPUT"),
    "finetune:CLASSIFIER": ("finetune", "OUTPUT"),
    "classify:LANDCOVER": ("classify", "OUTPUT"),
    "accuracy:REPORT": ("accuracy", "OUTPUT_HTML"),
    "accuracy:FIGURES": ("accuracy", "OUTPUT_JSON"),
}


@pytest.fixture(scope="module")
def workflow(qgis_processing):
    with algorithms_ready():
        model = QgsProcessingModelAlgorithm()
        assert model.fromFile(str(WORKFLOW))
        yield model


def source_of(model: QgsProcessingModelAlgorithm, child: str, parameter: str) -> tuple:
    [source] = model.childAlgorithm(child).parameterSources()[parameter]
    if source.source() == QgsProcessingModelChildParameterSource.ChildOutput:
        return ("output", source.outputChildId(), source.outputName())
    if source.source() == QgsProcessingModelChildParameterSource.ModelParameter:
        return ("parameter", source.parameterName())
    return ("value", source.staticValue())


def test_the_workflow_chains_the_four_algorithms_each_on_the_previous_ones_output(workflow):
    children = workflow.childAlgorithms()
    assert {child: children[child].algorithmId() for child in children} == {
        name: f"mrs:{name}" for name in ("pretrain", "finetune", "classify", "accuracy")
    }
    assert source_of(workflow, "finetune", "PRETRAINED") == ("output", "pretrain", "OUTPUT")
    assert source_of(workflow, "classify", "MODEL") == ("output", "finetune", "OUTPUT")
    assert source_of(workflow, "accuracy", "INPUT") == ("output", "classify", "OUTPUT")
    for child in ("pretrain", "finetune", "classify"):
        assert source_of(workflow, child, "INPUT_HSI") == ("parameter", "INPUT_HSI")
        assert source_of(workflow, child, "INPUT_AUX") == ("parameter", "INPUT_AUX")
    assert source_of(workflow, "finetune", "PRESET") == ("parameter", "PRESET")
    assert workflow.validate() == (True, [])
    destinations = {p.name() for p in workflow.destinationParameterDefinitions()}
    assert destinations == set(OUTPUTS)
    for name, (child, output) in OUTPUTS.items():
        model_output = workflow.childAlgorithm(child).modelOutput(name.split(":")[1])
        assert model_output.childOutputName() == output


@pytest.mark.parametrize("child, names", [
    ("pretrain", ("SAMPLES", "EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "MASKING", "SPECTRAL_RATIO", "SPATIAL_RATIO",
                  "NORMALIZED_TARGETS")),
    ("finetune", ("EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "ENCODER_LR_FACTOR", "VALIDATION_FRACTION",
                  "CLASS_WEIGHTING")),
    ("classify", ("BATCH_SIZE", "TILE_SIZE", "PRECISION")),
])
def test_the_workflow_trains_with_the_training_algorithms_defaults(workflow, child, names):
    """An analyst who keeps the workflow's defaults gets the recipe mrs:pretrain and mrs:finetune default to,
    and the map mrs:classify makes by default (its BATCH_SIZE was set to 512, where the algorithm chooses up
    to 8192 on a GPU: red team of 2026-12-05)."""
    from mrs.mrs_qgis_plugin import job_parameters

    algorithm = getattr(job_parameters, child.upper())
    defaults = {p.name(): p.defaultValue() for p in workflow.parameterDefinitions()}
    for name in names:
        if name not in workflow.childAlgorithm(child).parameterSources():
            assert algorithm.parameter(name).default is None, name
            continue
        source = source_of(workflow, child, name)
        value = defaults[source[1]] if source[0] == "parameter" else source[1]
        assert value == algorithm.parameter(name).default, name


def test_every_workflow_parameter_has_help(workflow):
    help_content = workflow.helpContent()
    assert "pretrains SS-MAE" in help_content["ALG_DESC"]
    inputs = [p for p in workflow.parameterDefinitions() if not p.isDestination()]
    assert len(inputs) == 15
    for parameter in inputs:
        assert len(parameter.help()) > 20, parameter.name()
        assert help_content[parameter.name()] == parameter.help()


def test_the_workflow_s_steps_name_their_parameters_as_the_workflow_does(workflow):
    """A helper's audit of 2026-12-06: the workflow's pretraining warned 'SAMPLES is 10, fewer than one batch
    (BATCH_SIZE 128)', in a workflow whose SAMPLES are the training points and which has no BATCH_SIZE."""
    from qgis.core import QgsProcessingContext

    from mrs.algorithms.base import WORKFLOW_NAMES, given_texts
    from mrs.algorithms.workflow import WorkflowAlgorithm

    shipped = WorkflowAlgorithm()
    registry = QgsApplication.processingRegistry()

    def step(child_id: str):
        child = shipped.childAlgorithm(child_id)
        return registry.algorithmById(child.algorithmId()).create({WORKFLOW_NAMES: shipped._names_of(child)})

    pretrain, finetune, classify, accuracy = (step(child_id) for child_id in ("pretrain", "finetune", "classify",
                                                                              "accuracy"))
    assert pretrain.said("SAMPLES is 10, fewer than one batch (BATCH_SIZE 128); raise EPOCHS.") == (
        "PRETRAIN_SAMPLES is 10, fewer than one batch (BATCH_SIZE 128); raise PRETRAIN_EPOCHS. (BATCH_SIZE is a "
        "parameter of mrs:pretrain that the workflow sets itself: run mrs:pretrain alone to change it.)")
    assert finetune.said("OUTPUT's checkpoint; EPOCHS; SAMPLES with CLASS_FIELD; LEARNING_RATE or BATCH_SIZE") == (
        "finetune:CLASSIFIER's checkpoint; FINETUNE_EPOCHS; SAMPLES with CLASS_FIELD; LEARNING_RATE or BATCH_SIZE "
        "(LEARNING_RATE and BATCH_SIZE are parameters of mrs:finetune that the workflow sets itself: run mrs:finetune "
        "alone to change them.)")
    # an earlier step's output, which the workflow gives (a desktop helper of 2026-12-06: 'fine-tune from another
    # pretrain:PRETRAINED model'), and what any step leaves at its default, are the step's own
    assert classify.said("MODEL: m; OUTPUT: o; give OUTPUT_CONFIDENCE.") == (
        "MODEL: m; classify:LANDCOVER: o; give OUTPUT_CONFIDENCE. (MODEL and OUTPUT_CONFIDENCE are parameters of "
        "mrs:classify that the workflow sets itself: run mrs:classify alone to change them.)")
    # paths and quoted names keep their words (the same helper: '/tmp/x/classify:LANDCOVER.tif', 'OUTPUT'), and
    # so do the run's own texts, a path with spaces (a review of 2026-12-06: '/data/old PRETRAIN_SAMPLES set')
    assert classify.said("Wrote /tmp/x/OUTPUT.tif, a map of 'OUTPUT', as OUTPUT.") == (
        "Wrote /tmp/x/OUTPUT.tif, a map of 'OUTPUT', as classify:LANDCOVER.")
    pretrain.given_texts = ("/data/old SAMPLES set/x.tif", "x.tif", "x")
    assert pretrain.said("Read /data/old SAMPLES set/x.tif of 'scene SAMPLES v2' and \"SAMPLES\": --SAMPLES=5.") == (
        "Read /data/old SAMPLES set/x.tif of 'scene SAMPLES v2' and \"SAMPLES\": --PRETRAIN_SAMPLES=5.")
    # a quoted path with an apostrophe, and a file the step names in a given folder (a desktop helper of 2026-12-06)
    pretrain.given_texts = given_texts({"OUTPUT": "/w/Bob's OUTPUT desk/p.tif"}, QgsProcessingContext())
    assert pretrain.said("'/w/Bob's OUTPUT desk/x.tif' and /w/Bob's OUTPUT desk/p.checkpoint.tif, OUTPUT") == (
        "'/w/Bob's OUTPUT desk/x.tif' and /w/Bob's OUTPUT desk/p.checkpoint.tif, pretrain:PRETRAINED")
    assert accuracy.said("OUTPUT_HTML: r") == "accuracy:REPORT: r"
    alone = registry.algorithmById("mrs:pretrain").create({})
    assert alone.said("SAMPLES is 10 (BATCH_SIZE 128).") == "SAMPLES is 10 (BATCH_SIZE 128)."


def test_the_workflow_runs_with_processing_and_loads_a_styled_map(workflow, tmp_path):
    scene = write_test_scene(tmp_path / "scene")
    before = folder_state(scene.directory)
    parameters = {
        **scene_layers(scene),
        "SAMPLES": str(scene.train_points),
        "CLASS_FIELD": "class_id",
        "NAME_FIELD": "class_name",
        "REFERENCE_LABELS": str(scene.test),
        "PRESET": "tiny",
        "PRETRAIN_SAMPLES": 200,
        "PRETRAIN_EPOCHS": 1,
        "FINETUNE_EPOCHS": 2,
        "pretrain:PRETRAINED": str(tmp_path / "pretrained.safetensors"),
        "finetune:CLASSIFIER": str(tmp_path / "classifier.safetensors"),
        "classify:LANDCOVER": str(tmp_path / "landcover.tif"),
        "accuracy:REPORT": str(tmp_path / "accuracy.html"),
        "accuracy:FIGURES": str(tmp_path / "accuracy.json"),
    }
    project = QgsProject.instance()
    project.removeAllMapLayers()
    feedback = RecordingFeedback()
    results = run_and_load("mrs:workflow", dict(parameters), feedback)  # as the Toolbox runs it
    loaded = {
        layer.name(): [(int(c.value), c.label) for c in layer.renderer().classes()]
        for layer in project.mapLayers().values()
    }
    project.removeAllMapLayers()
    gc.collect()  # the layers the run loaded are closed, and would write their statistics beside their files
    # ... as the desktop's run did: the steps' layers were loaded outside any step (red team of 2026-12-05).
    assert folder_state(scene.directory) == before

    assert all(results[name] == parameters[name] for name in OUTPUTS)
    assert all(Path(parameters[name]).is_file() for name in OUTPUTS)
    assert len(feedback.log_with("Pretraining epoch")) == 1 and len(feedback.log_with("Fine-tuning epoch")) == 2
    assert feedback.log_with("Step ") == [  # where each step begins (a helper's desktop check of 2026-12-06)
        "Step 1 of 4: Pretrain SS-MAE (MRS)", "Step 2 of 4: Train classifier (fine-tune)", "Step 3 of 4: Classify",
        "Step 4 of 4: Accuracy assessment"]
    landcover = read_raster(parameters["classify:LANDCOVER"])
    figures = json.loads(Path(parameters["accuracy:FIGURES"]).read_text())
    expected = overall_accuracy(landcover.values, read_raster(scene.test).values)
    assert figures["overall_accuracy"] == pytest.approx(expected)
    assert results["CHILD_RESULTS"]["accuracy"]["OVERALL_ACCURACY"] == pytest.approx(expected)
    # the workflow's own results, which qgis_process --json prints (a helper's red team of 2026-12-06)
    assert results["OVERALL_ACCURACY"] == pytest.approx(expected)
    assert (results["AVERAGE_ACCURACY"], results["KAPPA"]) == (figures["average_accuracy"], figures["kappa"])
    assert np.sum(figures["confusion_matrix"]) == np.count_nonzero(read_raster(scene.test).values)
    assert "Overall accuracy" in Path(parameters["accuracy:REPORT"]).read_text()
    assert sorted(loaded) == ["Land-cover map (landcover)"]  # as in the dialog and the Toolbox, not 'LANDCOVER'
    assert [name for _, name in loaded["Land-cover map (landcover)"]] == [item.name for item in CLASSES]


class CancelingOn(RecordingFeedback):
    """Cancels the run at the first log line that starts with `start`, as a user pressing Cancel then:
    'Classifying with' as the classification starts, 'Kept epoch' as the fine-tuning ends."""

    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS API name
        super().pushInfo(info)
        if info.startswith(self.start):
            self.cancel()


def test_a_workflow_stopped_after_its_training_says_which_outputs_hold_an_earlier_run_s_results(workflow, tmp_path):
    """Session of 2026-12-05: a second run canceled in its classification left the first run's map
    and report beside the new classifier without a word, as if they were this run's."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "PRESET": "tiny", "PRETRAIN_SAMPLES": 200, "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1,
                  **{name: str(tmp_path / f"{name.split(':')[1].lower()}.{extension}") for name, extension in (
                      ("pretrain:PRETRAINED", "safetensors"), ("finetune:CLASSIFIER", "safetensors"),
                      ("classify:LANDCOVER", "tif"), ("accuracy:REPORT", "html"), ("accuracy:FIGURES", "json"))}}
    run("mrs:workflow", parameters)
    feedback = CancelingOn("Classifying with")
    with pytest.raises(QgsProcessingException):
        run("mrs:workflow", {**parameters, "SEED": 7}, feedback)
    stale = ", ".join(str(tmp_path / name) for name in ("landcover.tif", "figures.json", "report.html"))
    assert feedback.warnings[-2] == (
        "The workflow stopped before it wrote classify:LANDCOVER, accuracy:FIGURES and accuracy:REPORT: their files "
        f"({stale}) still hold an earlier run's results, not this run's: run it again to replace them, or delete "
        "them.")


def test_a_workflow_canceled_between_its_steps_fails_naming_the_steps_not_run(workflow, tmp_path):
    """Red team of 2026-12-05: a cancel between two steps ended the run as a success ('Model processed
    OK'), without the map and the report, and nothing said so."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "PRESET": "tiny", "PRETRAIN_SAMPLES": 200, "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1,
                  "classify:LANDCOVER": str(tmp_path / "landcover.tif"), "accuracy:REPORT": str(tmp_path / "r.html"),
                  "pretrain:PRETRAINED": str(tmp_path / "pre.safetensors"),
                  "finetune:CLASSIFIER": str(tmp_path / "classifier.safetensors")}
    feedback = CancelingOn("Kept epoch")
    with pytest.raises(QgsProcessingException, match=r"^Canceled: the workflow stopped before classify and accuracy "
                                                     r"ran\.$"):
        run("mrs:workflow", parameters, feedback)
    assert not (tmp_path / "landcover.tif").exists() and not (tmp_path / "r.html").exists()
    # what it wrote is said to be kept, with the steps left (red team of 2026-12-05: a failed step said nothing)
    assert feedback.warnings[-1] == (
        f"This run wrote pretrain:PRETRAINED ({tmp_path / 'pre.safetensors'}), finetune:CLASSIFIER "
        f"({tmp_path / 'classifier.safetensors'}) before it stopped; they are kept: run the steps left alone "
        "(mrs:classify, then mrs:accuracy) to finish.")
    # a cancel once the last step has written everything is no failure (review of 2026-12-05)
    feedback = CancelingOn("Overall accuracy")
    results = run("mrs:workflow", {**parameters, "SEED": 3}, feedback)
    assert results["classify:LANDCOVER"] == parameters["classify:LANDCOVER"] and (tmp_path / "r.html").is_file()
    assert not [text for text in feedback.warnings if "before it stopped" in text]


def test_a_workflow_canceled_in_a_training_says_how_its_checkpoint_resumes(workflow, tmp_path):
    """A desktop helper of 2026-12-05: the pretraining step's words ('run it again with the same parameters
    and RESUME set to that file') named a parameter the workflow does not have."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    pretrained = tmp_path / "pre.safetensors"
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "PRESET": "tiny", "PRETRAIN_SAMPLES": 200, "PRETRAIN_EPOCHS": 3, "FINETUNE_EPOCHS": 1,
                  "classify:LANDCOVER": str(tmp_path / "landcover.tif"), "pretrain:PRETRAINED": str(pretrained)}
    feedback = CancelingOn("Pretraining epoch 1/3")
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:workflow", parameters, feedback)
    # said as a cancel (a helper's red team of 2026-12-05: QGIS's "Error encountered while running Pretrain SS-MAE")
    assert str(refused.value) == "Canceled: the workflow stopped in pretrain; the warnings say what it kept."
    checkpoint = tmp_path / "pre.checkpoint.safetensors"
    assert checkpoint.is_file() and not pretrained.exists()
    assert feedback.warnings[-1] == (
        f"The pretraining's checkpoint {checkpoint} is kept, which the workflow does not resume (the RESUME that the "
        "step's own line names is the step's, not the workflow's): resume it with mrs:pretrain alone (its RESUME set "
        "to that file, with the workflow's settings), then run the steps left "
        "alone (mrs:finetune, then mrs:classify, then mrs:accuracy), or delete it to start the workflow afresh.")


def test_samples_or_a_reference_with_nothing_over_the_scene_are_refused_before_the_first_step(workflow, tmp_path):
    """Red team of 2026-12-05: labels of zeros, or points 100 km away, were found by the fine-tuning
    after the whole pretraining; a reference so, after the classification."""
    from osgeo import gdal
    from qgis.core import QgsProcessingException, QgsProcessingFeatureSourceDefinition, QgsProject, QgsVectorLayer

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    zeros = write_raster(tmp_path / "zeros.tif", np.zeros((48, 48), np.uint8), gdal.Open(str(scene.train)).GetGeoTransform())
    far = write_vector(tmp_path / "far.gpkg", [(point_wkt(764000.5, 5102000 - 0.5), {"class_id": 1}),
                                               (point_wkt(764010.5, 5102000 - 0.5), {"class_id": 2})],
                       {"class_id": ogr.OFTInteger})
    base = {**scene_layers(scene), "PRESET": "tiny", "PRETRAIN_SAMPLES": 200, "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1}
    # a desktop helper's red team of 2026-12-06: labels beside the scene within an extent that meets it were
    # refused after the training (the label raster's 48 columns moved 40 east, labelled in its last 8 only)
    train = gdal.Open(str(scene.train))
    x0, *rest = train.GetGeoTransform()
    beside_values = np.zeros((48, 48), np.uint8)
    beside_values[:, 8:] = train.ReadAsArray()[:, 8:]
    beside = write_raster(tmp_path / "beside.tif", beside_values, (x0 + 40, *rest), nodata=0)
    around = write_vector(tmp_path / "around.gpkg", [(point_wkt(660990.5, 5101000 - 0.5), {"class_id": 1}),
                                                     (point_wkt(661060.5, 5100950 - 0.5), {"class_id": 2})],
                          {"class_id": ogr.OFTInteger})  # west and east of the scene, its extent over the scene
    chosen = QgsVectorLayer(str(scene.train_points), "chosen", "ogr")  # nothing selected
    QgsProject.instance().addMapLayer(chosen)
    one_class = write_raster(tmp_path / "one_class.tif", np.where(train.ReadAsArray() > 0, 3, 0).astype(np.uint8),
                             train.GetGeoTransform(), nodata=0)
    # a helper's red team of 2026-12-06: class fields of zeros, NULLs or one class were refused after the pretraining
    fields = {"class_id": ogr.OFTInteger}
    inside = [point_wkt(661000.5 + column, 5101000 - 0.5) for column in range(3)]
    zero_class = write_vector(tmp_path / "zero_class.gpkg", [(wkt, {"class_id": value}) for wkt, value in
                                                             zip(inside, (0, 1, 2))], fields)
    no_class = write_vector(tmp_path / "no_class.gpkg", [(wkt, {}) for wkt in inside], fields)
    single = write_vector(tmp_path / "single.gpkg", [(wkt, {"class_id": 4}) for wkt in inside], fields)
    for given, said in (({"SAMPLES": zero_class, "CLASS_FIELD": "class_id", "REFERENCE_LABELS": str(scene.test)},
                         "The class field 'class_id' of 'zero_class' holds the value 0; class values must be 1 or "
                         "more"),
                        ({"SAMPLES": no_class, "CLASS_FIELD": "class_id", "REFERENCE_LABELS": str(scene.test)},
                         "The class field 'class_id' of 'no_class' is empty: no feature has a class."),
                        ({"SAMPLES": single, "CLASS_FIELD": "class_id", "REFERENCE_LABELS": str(scene.test)},
                         "SAMPLES: the samples of 'single' hold only one class ('4'); at least two classes are "
                         "needed."),
                        ({"LABELS": str(scene.train), "REFERENCE": no_class, "REFERENCE_FIELD": "class_id"},
                         "The class field 'class_id' of 'no_class' is empty"),
                        ({"LABELS": one_class, "REFERENCE_LABELS": str(scene.test)},  # a desktop helper, 12-06
                         "LABELS: the label layer 'one_class' holds one class only (3); at least two classes are "
                         "needed to train a classifier. Add labels of other classes."),
                        ({"LABELS": beside, "REFERENCE_LABELS": str(scene.test)},
                         "LABELS: no labelled pixel of 'beside' lies over the hyperspectral layer 'hsi': they all lie "
                         "beside it, within the layer's extent."),
                        ({"LABELS": str(scene.train), "REFERENCE": around, "REFERENCE_FIELD": "class_id"},
                         "REFERENCE: no feature of 'around' lies over the hyperspectral layer 'hsi'"),
                        ({"LABELS": zeros, "REFERENCE_LABELS": str(scene.test)},
                         "LABELS: the label layer 'zeros' holds no labelled pixel (all are 0 or nodata)"),
                        ({"SAMPLES": far, "CLASS_FIELD": "class_id", "REFERENCE_LABELS": str(scene.test)},
                         "SAMPLES: the layer 'far' lies outside the hyperspectral layer 'hsi'"),
                        ({"LABELS": str(scene.train), "REFERENCE_LABELS": zeros},
                         "REFERENCE_LABELS: the label layer 'zeros' holds no labelled pixel"),
                        ({"LABELS": str(scene.train), "REFERENCE": far, "REFERENCE_FIELD": "class_id"},
                         "REFERENCE: the layer 'far' lies outside the hyperspectral layer 'hsi'"),
                        # a helper's red team of 2026-12-05: found after every step, or after the pretraining
                        ({"LABELS": str(scene.train), "REFERENCE": QgsProcessingFeatureSourceDefinition(chosen.id(), True),
                          "REFERENCE_FIELD": "class_id"},
                         "REFERENCE: no feature of 'chosen' is selected (or the feature limit is 0)"),
                        ({"SAMPLES": str(scene.train_points) + "|subset=\"class_id\" = 99", "CLASS_FIELD": "class_id",
                          "REFERENCE_LABELS": str(scene.test)},
                         "SAMPLES: the layer 'train_points' has no features to read samples from (or its filter "
                         "selects none). Choose a layer that holds samples, or correct its filter.")):
        feedback = RecordingFeedback()
        with pytest.raises(QgsProcessingException, match=re.escape(said)):
            run("mrs:workflow", {**base, **given, "classify:LANDCOVER": str(tmp_path / "map.tif")}, feedback)
        assert not feedback.log_with("Pretraining epoch")
    QgsProject.instance().removeMapLayer(chosen.id())


def test_samples_of_invalid_polygons_or_labels_without_georeferencing_pass_the_early_check(workflow, tmp_path):
    """A review of 2026-12-06: the check of labels beside the scene read SAMPLES through QGIS's check of
    invalid geometries, whose default ('stop') aborted QGIS on self-intersecting polygons the step trains
    on; and it refused a label raster without georeferencing, which the steps take as lying on the scene."""
    from osgeo import gdal
    from qgis.core import QgsFeatureRequest, QgsProcessingContext

    scene = write_test_scene(tmp_path / "scene")
    x, y = 661000.0, 5101000.0
    bowties = [(f"POLYGON (({x + c} {y - r}, {x + c + 2} {y - r - 2}, {x + c + 2} {y - r}, {x + c} {y - r - 2}, "
                f"{x + c} {y - r}))", {"class_id": 1 + (c // 6) % 2}) for c in range(0, 36, 6) for r in (4, 20)]
    samples = write_vector(tmp_path / "bowties.gpkg", bowties, {"class_id": ogr.OFTInteger})
    labels = gdal.Open(str(scene.train)).ReadAsArray()
    plain = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "plain.tif"), 48, 48, 1, gdal.GDT_Byte)
    plain.GetRasterBand(1).WriteArray(labels)  # no geotransform, no CRS
    plain = None
    context = QgsProcessingContext()
    context.setInvalidGeometryCheck(QgsFeatureRequest.GeometryAbortOnInvalid)
    toolbox = QgsApplication.processingRegistry().createAlgorithmById("mrs:workflow")
    outputs = {"classify:LANDCOVER": str(tmp_path / "map.tif"), "accuracy:REPORT": str(tmp_path / "report.html")}
    for given in ({"SAMPLES": samples, "CLASS_FIELD": "class_id", "REFERENCE_LABELS": str(scene.test)},
                  {"LABELS": str(tmp_path / "plain.tif"), "REFERENCE_LABELS": str(scene.test)}):
        assert toolbox.checkParameterValues({**scene_layers(scene), **given, **outputs}, context) == (True, "")


def test_the_workflow_s_numbers_take_the_ranges_of_the_steps_they_are_given_to(workflow):
    """A helper's red team of 2026-12-05: the workflow's boxes took any number up to 1.8e308, which the
    run then refused as its steps' ('SEED is 3000000000; it must be a whole number from 0 to ...')."""
    from mrs.mrs_qgis_plugin.job_parameters import JOBS

    checked = set()
    for child in workflow.childAlgorithms().values():
        steps = {parameter.name: parameter for parameter in JOBS[child.algorithmId().split(":")[-1]].parameters}
        for name, sources in child.parameterSources().items():
            for source in sources:
                own = workflow.parameterDefinition(source.parameterName())
                if source.source() != QgsProcessingModelChildParameterSource.ModelParameter or own.type() != "number":
                    continue
                step = steps[name]
                assert (own.minimum(), own.maximum()) == (step.minimum, step.upper), (own.name(), child.childId())
                checked.add(own.name())
    assert checked == {"PRETRAIN_SAMPLES", "PRETRAIN_EPOCHS", "FINETUNE_EPOCHS", "SEED"}


def test_the_provider_offers_the_shipped_workflow_in_the_toolbox(workflow):
    toolbox = QgsApplication.processingRegistry().createAlgorithmById("mrs:workflow")
    assert (toolbox.displayName(), toolbox.group()) == ("Workflow: pretrain, train, classify, assess", "Workflow")
    assert toolbox.sourceFilePath() == str(WORKFLOW)
    offered, shipped = toolbox.toVariant(), workflow.toVariant()
    assert offered["parameterDefinitions"]["DEVICE"].pop("metadata") == {  # the list of devices, in the dialog
        "widget_wrapper": {"class": "mrs.mrs_qgis_plugin.device_widget.DeviceWidgetWrapper"}}
    assert shipped["parameterDefinitions"]["DEVICE"].pop("metadata") == {}
    report = [variant["parameterDefinitions"]["accuracy:REPORT"].pop("help") for variant in (offered, shipped)]
    assert [text.split(" a web page of")[0] for text in report] == ["The assessment's report,", "Optional: the report as"]
    assert offered == shipped


@pytest.mark.parametrize("step", ["pretrain", "finetune", "classify"])
def test_a_step_edited_in_the_modeler_keeps_its_device_from_the_workflow_s_input(workflow, step):
    """A desktop helper of 2026-12-07: the list of devices took the step's source (the model's input DEVICE)
    for a text, and OK in the step's dialog made DEVICE "<qgis._core.QgsProcessingModelChildParameterSource
    object at 0x...>", refused after the pretraining."""
    from processing.modeler.ModelerParametersDialog import ModelerParametersDialog
    from qgis.gui import QgsProcessingModelerParameterWidget

    edited = QgsProcessingModelAlgorithm()
    assert edited.loadVariant(workflow.toVariant())
    child = edited.childAlgorithm(step)
    assert "DeviceWidgetWrapper" in str(child.algorithm().parameterDefinition("DEVICE").metadata())
    dialog = ModelerParametersDialog(child.algorithm(), edited, step, child.configuration())
    assert isinstance(dialog.widget.widget.wrappers["DEVICE"], QgsProcessingModelerParameterWidget)
    edited.setChildAlgorithm(dialog.createAlgorithm())
    dialog.close()
    assert source_of(edited, step, "DEVICE") == source_of(workflow, step, "DEVICE") == ("parameter", "DEVICE")


def test_a_step_s_refusal_ends_the_workflow_in_its_own_words_with_the_progress_it_made(workflow, tmp_path):
    """Own bad inputs of 2026-12-06: processing.run's exception said only QGIS's 'Error encountered while
    running Train classifier (fine-tune)'; the step's sentence was in the log alone."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    labels = read_raster(scene.test)
    # Float32: the workflow's own check of one class reads 8- and 16-bit rasters only, so the step finds it
    one_class = write_raster(tmp_path / "one_class.tif", (labels.values > 0).astype(np.float32) * 3,
                             labels.geotransform, nodata=0)
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:workflow", {**scene_layers(scene), "LABELS": one_class, "REFERENCE_LABELS": str(scene.test),
                             "PRESET": "tiny", "PRETRAIN_SAMPLES": 100, "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1,
                             **{name: str(tmp_path / Path(name.split(":")[1].lower()).with_suffix(suffix))
                                for name, suffix in (("pretrain:PRETRAINED", ".safetensors"),
                                                     ("finetune:CLASSIFIER", ".safetensors"),
                                                     ("classify:LANDCOVER", ".tif"), ("accuracy:REPORT", ".html"))}},
            feedback)
    said = ("LABELS: the samples of 'one_class' on valid pixels of the rasters hold only one class ('3'); at least two "
            "classes are needed. Add samples of other classes.")
    assert str(refused.value).splitlines()[-1] == said and said not in feedback.errors  # said once (desktop, 12-06)
    assert 0 < max(feedback.percents) < 100  # the steps' progress reached the workflow's feedback
    assert any(line.startswith("Pretraining epoch 1/1") for line in feedback.infos)


def test_a_temporary_output_in_a_temporary_folder_gone_is_refused_in_one_sentence(workflow, tmp_path):
    """A helper's red team of 2026-12-07: QGIS's temporary folder deleted under a session (a clean-up of /tmp) ended
    the workflow in a traceback of the InputError that said so."""
    import shutil

    from qgis.core import QgsProcessingException, QgsProcessingUtils

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    temporary = QgsProcessingUtils.tempFolder()
    shutil.rmtree(temporary)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:workflow", {**scene_layers(scene), "LABELS": str(scene.train),
                                 "REFERENCE_LABELS": str(scene.test), "PRESET": "tiny"})
    finally:
        os.makedirs(temporary, exist_ok=True)
    assert re.fullmatch(rf"\S+: {re.escape(temporary)}\S+ lies in a temporary folder of QGIS, {re.escape(temporary)}, "
                        r"which no longer exists .*; give a file of your own, or restart QGIS for a new one\.",
                        str(refused.value)), str(refused.value)
    assert "Traceback" not in str(refused.value)


def test_the_registered_workflow_lists_its_outputs_and_runs_without_them_given(workflow, tmp_path):
    """The instance QGIS registers (what `qgis_process help` shows) was made before its steps could be
    found and listed no output; processing.run without the outputs stopped on 'Incorrect parameter
    value for accuracy:REPORT' (red team of 2026-12-04)."""
    from processing_helpers import run

    registered = QgsApplication.processingRegistry().algorithmById("mrs:workflow")
    assert sorted(output.name() for output in registered.outputDefinitions()) == sorted(
        [*OUTPUTS, "OVERALL_ACCURACY", "AVERAGE_ACCURACY", "KAPPA"])
    scene = write_test_scene(tmp_path / "scene")
    feedback = RecordingFeedback()
    results = run("mrs:workflow", {**scene_layers(scene), "LABELS": str(scene.train),
                                   "REFERENCE_LABELS": str(scene.test), "PRESET": "tiny", "PRETRAIN_SAMPLES": 100,
                                   "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1}, feedback)
    assert Path(results["classify:LANDCOVER"]).is_file() and Path(results["accuracy:REPORT"]).is_file()
    # the pretraining step's warning in the workflow's names (a helper's audit of 2026-12-06: 'SAMPLES is 100')
    assert [line[:61] for line in feedback.warnings if "fewer than one batch" in line] == [
        "PRETRAIN_SAMPLES is 100, fewer than one batch (BATCH_SIZE 128"]
    [told] = [line for line in feedback.warnings if line.startswith("No file was given for classify:LANDCOVER")]
    assert told == (f"No file was given for classify:LANDCOVER: it goes to {results['classify:LANDCOVER']}, in QGIS's "
                    "temporary folder, deleted when QGIS closes; give a file as classify:LANDCOVER to keep it.")
    assert not [line for line in feedback.warnings if "is in QGIS's temporary folder" in line]


def test_the_workflow_s_report_is_no_output_its_dialog_offers_to_skip(workflow):
    """mrs:accuracy's report became optional (2026-12-07), and with it the workflow's: its dialog offered 'Skip
    output', which the run ignored, and its help said that the figures came without it (a desktop helper's check).
    Its outputs are mandatory in the dialog's instance (the report as the model file's mandatory output) but the
    figures', which the dialog skips at first."""
    from mrs.algorithms.workflow import WorkflowAlgorithm

    shipped = WorkflowAlgorithm()
    optional = {definition.name(): bool(definition.flags() & QgsProcessingParameterDefinition.FlagOptional)
                for definition in shipped.destinationParameterDefinitions()}
    assert optional == {"accuracy:FIGURES": True, "accuracy:REPORT": False, "classify:LANDCOVER": False,
                        "finetune:CLASSIFIER": False, "pretrain:PRETRAINED": False}
    assert shipped.parameterDefinition("accuracy:REPORT").help() == (
        "The assessment's report, a web page of the summary figures, the confusion matrix and the per-class table, "
        "which QGIS shows in its Results Viewer after the run.")
    assert shipped.needed == ["accuracy:REPORT", "classify:LANDCOVER", "finetune:CLASSIFIER", "pretrain:PRETRAINED"]


def refused_workflow(tmp_path, **changes) -> str:
    """The sentence with which mrs:workflow refuses `changes` to a quick run, before any step."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "PRESET": "tiny", "PRETRAIN_SAMPLES": 200, "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1,
                  "pretrain:PRETRAINED": str(outputs / "pretrained.safetensors"),
                  "finetune:CLASSIFIER": str(outputs / "classifier.safetensors"),
                  "classify:LANDCOVER": str(outputs / "landcover.tif"), "accuracy:REPORT": str(outputs / "report.html")}
    parameters.update({name: value(scene) if callable(value) else value for name, value in changes.items()})
    before = {path: path.read_bytes() for path in scene.directory.iterdir()}
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:workflow", {name: value for name, value in parameters.items() if value is not None})
    assert {path: path.read_bytes() for path in scene.directory.iterdir()} == before
    assert list(outputs.iterdir()) == []
    return str(refused.value).splitlines()[-1]


def test_the_workflow_refuses_a_step_s_output_that_is_one_of_its_inputs_before_any_step(workflow, tmp_path):
    """The map written over the reference labels, which only the accuracy step, run after the
    classification, would have refused (red team of 2026-12-04: the reference was destroyed)."""
    message = refused_workflow(tmp_path, **{"classify:LANDCOVER": lambda scene: str(scene.test)})
    test = tmp_path / "scene" / "test.tif"
    assert message == (f"classify:LANDCOVER: {test} is the input REFERENCE_LABELS ({test}); writing it would destroy "
                       "that input. Choose another output file name.")


def test_a_saved_copy_of_the_workflow_does_not_write_the_map_over_the_reference_labels(workflow, tmp_path):
    """A copy of the model file (what the README suggests to change a step's settings) has none of
    mrs:workflow's checks before the first step: mrs:classify itself replaces only rasters the
    plugin wrote (red team of 2026-12-04: the copy wrote the map over REFERENCE_LABELS)."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    reference = scene.test.read_bytes()
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test),
                  "PRESET": "tiny", "PRETRAIN_SAMPLES": 200, "PRETRAIN_EPOCHS": 1, "FINETUNE_EPOCHS": 1,
                  "pretrain:PRETRAINED": str(tmp_path / "pretrained.safetensors"),
                  "finetune:CLASSIFIER": str(tmp_path / "classifier.safetensors"),
                  "classify:LANDCOVER": str(scene.test), "accuracy:REPORT": str(tmp_path / "report.html")}
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException, match="^Error encountered while running Classify$"):
        run(workflow, parameters, feedback)
    assert feedback.errors[-1] == (
        f"OUTPUT: {scene.test} exists and is not a raster this plugin wrote (it may be labels or an image that "
        "another step reads); choose a new file name, or delete that file first.")
    assert scene.test.read_bytes() == reference
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("output, path, message", [
    ("finetune:CLASSIFIER", "pretrained.safetensors",
     "pretrain:PRETRAINED: {outputs}/pretrained.safetensors would take the place of finetune:CLASSIFIER "
     "{outputs}/pretrained.safetensors or of its side files; choose another name."),
    ("accuracy:REPORT", "missing/report.html",
     "accuracy:REPORT: the folder {outputs}/missing does not exist; choose an existing folder."),
    ("accuracy:REPORT", "report.json", "accuracy:REPORT: {outputs}/report.json does not end in .html; give a name "
                                       "ending in .html."),
    ("finetune:CLASSIFIER", "pretrained.checkpoint.safetensors",
     "finetune:CLASSIFIER: {outputs}/pretrained.checkpoint.safetensors would take the place of pretrain:PRETRAINED's "
     "checkpoint {outputs}/pretrained.checkpoint.safetensors or of its side files; choose another name."),
    ("classify:LANDCOVER", "../photo.tif", "classify:LANDCOVER: {outputs.parent}/photo.tif exists and is not a raster this "
                                           "plugin wrote (it may be labels or an image that another step reads); choose "
                                           "a new file name, or delete that file first."),
    ("accuracy:REPORT", "../notes.html", "accuracy:REPORT: {outputs.parent}/notes.html exists and is not a report this "
                                         "plugin wrote; choose a new file name, or delete that file first."),
    ("pretrain:PRETRAINED", "../notes/pretrained.safetensors",
     "pretrain:PRETRAINED's checkpoint: '{outputs.parent}/notes/pretrained.checkpoint.safetensors' exists and is not "
     "an MRS model file; writing a training checkpoint there would destroy it. Choose another file name, or delete "
     "that file first."),
    # Red team of 2026-12-05: refused by the fine-tuning step, after the pretraining.
    ("finetune:CLASSIFIER", "../stopped/classifier.safetensors",
     "finetune:CLASSIFIER's checkpoint: {outputs.parent}/stopped/classifier.checkpoint.safetensors holds the progress of "
     "an earlier fine-tuning (2 of its 9 epochs done), which this run would delete. Resume it with mrs:finetune alone "
     "(its RESUME; the workflow does not resume), delete it to start afresh, or choose another output file name."),
])
def test_the_workflow_refuses_an_output_its_step_would_refuse_or_two_outputs_in_one_file_before_any_step(
        workflow, tmp_path, output, path, message):
    """Found by the step that writes it, after the steps before it (red team of 2026-12-04: the
    classifier written over the pretrained model, after the pretraining; a foreign map or report,
    or the pretraining's checkpoint as the classifier, after the training)."""
    write_raster(tmp_path / "photo.tif", np.ones((1, 2, 2), np.uint8))
    (tmp_path / "notes.html").write_text("<p>field notes</p>")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "pretrained.checkpoint.safetensors").write_text("field notes")
    (tmp_path / "stopped").mkdir()
    model_file.save(str(tmp_path / "stopped" / "classifier.checkpoint.safetensors"), {"x": torch.zeros(1)},
                    {"kind": model_file.CHECKPOINT, "checkpoint": {"phase": "fine-tuning", "state": {"epoch": 2, "step": 20},
                                                                   "settings": {"epochs": 9}}})
    outputs = tmp_path / "outputs"
    assert refused_workflow(tmp_path, **{output: str(outputs / path)}) == message.format(outputs=outputs)


def test_the_workflow_takes_a_step_s_value_given_as_a_property(workflow, tmp_path):
    """A value given as a QgsProperty (a model's or a batch's) is judged as QGIS evaluates it: it was
    refused as '<QgsProperty: static (2)>' (helpers' review of 2026-12-04)."""
    from qgis.core import QgsProcessingContext, QgsProperty

    algorithm = QgsApplication.processingRegistry().algorithmById("mrs:workflow")
    context = QgsProcessingContext()
    assert algorithm._step_values_problem({"FINETUNE_EPOCHS": QgsProperty.fromValue(2)}, context) is None
    assert algorithm._step_values_problem({"FINETUNE_EPOCHS": QgsProperty.fromValue(0)}, context) == (
        "FINETUNE_EPOCHS is 0; it must be a whole number of at least 1.")
    scene = write_test_scene(tmp_path / "scene")
    fields = {"SAMPLES": str(scene.train_points)}
    assert algorithm._step_values_problem({**fields, "CLASS_FIELD": QgsProperty.fromExpression("'class_id'")},
                                          context) is None
    assert algorithm._step_values_problem({**fields, "CLASS_FIELD": QgsProperty.fromExpression("'kind'")}, context) == (
        "CLASS_FIELD: 'kind' is not a field of 'train_points'; its fields: 'fid', 'class_id', 'class_name'. Choose "
        "one of them.")
    assert algorithm.checkParameterValues({"FINETUNE_EPOCHS": QgsProperty.fromExpression("1/0")}, context) == (
        False, "FINETUNE_EPOCHS: its expression '1/0' gives no value (NULL); correct the expression, or give the "
               "value itself.")  # red team of 2026-12-05: the step's default was used


@pytest.mark.parametrize("changes, message", [
    # QGIS's 'Incorrect parameter value for INPUT_AUX', translated in other languages (a helper's, 2026-12-06)
    ({"INPUT_AUX": None}, "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the command line: "
                          "--INPUT_AUX=file.tif)."),
    ({"INPUT_AUX": []}, "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the command line: "
                        "--INPUT_AUX=file.tif)."),
    ({"INPUT_HSI": None}, "INPUT_HSI (Hyperspectral raster) has no value; give one."),
    ({"REFERENCE_LABELS": None}, "Give REFERENCE (with REFERENCE_FIELD) or REFERENCE_LABELS: neither is given."),
    # a helper's red team of 2026-12-06: QGIS's 'Incorrect parameter value for INPUT_AUX' and 'Could not load
    # source layer for SAMPLES'; the training labels as the reference ran every step, then warned
    ({"INPUT_AUX": lambda scene: [str(scene.lidar), str(scene.directory / "none.tif")]},
     "INPUT_AUX: '{scene}/none.tif' is neither a layer of the project nor an existing file. Choose a raster layer or "
     "file."),
    ({"LABELS": None, "SAMPLES": lambda scene: str(scene.directory / "none.gpkg"), "CLASS_FIELD": "class_id"},
     "SAMPLES: '{scene}/none.gpkg' is neither a layer of the project nor an existing file. Choose a vector layer or "
     "file."),
    ({"REFERENCE_LABELS": lambda scene: str(scene.train)},
     "REFERENCE_LABELS: '{scene}/train.tif' is also LABELS, the labels the classifier learns from; its figures would "
     "say how well it learnt them, not how right the map is. Give a reference of other pixels (labels kept apart "
     "from the training ones)."),
    ({"LABELS": None, "SAMPLES": lambda scene: str(scene.train_points), "CLASS_FIELD": "class_id",
      "REFERENCE_LABELS": None, "REFERENCE": lambda scene: str(scene.train_points), "REFERENCE_FIELD": "class_id"},
     "REFERENCE: '{scene}/train_points.gpkg' is also SAMPLES, the labels the classifier learns from; its figures "
     "would say how well it learnt them, not how right the map is. Give a reference of other pixels (labels kept "
     "apart from the training ones)."),
    ({"LABELS": None}, "Give SAMPLES (with CLASS_FIELD) or LABELS: neither is given."),
    ({"SAMPLES": lambda scene: str(scene.train_points), "CLASS_FIELD": "class_id"},
     SAMPLES_AND_LABELS),
    ({"PRETRAIN_EPOCH": 1}, "PRETRAIN_EPOCH: mrs:workflow has no parameter of that name (did you mean "
                            "PRETRAIN_EPOCHS?); 'qgis_process help mrs:workflow' lists its parameters."),
    # a helper's red team of 2026-12-06: 'finetune:OUTPUT' was taken for FINETUNE_EPOCHS, 'EPOCHS' for nothing,
    # and the confidence raster the workflow does not write for a misspelling
    ({"finetune:OUTPUT": "c.safetensors"}, "finetune:OUTPUT: mrs:workflow calls it finetune:CLASSIFIER; give it by "
                                           "that name ('qgis_process help mrs:workflow' lists its parameters)."),
    ({"EPOCHS": 2}, "EPOCHS: mrs:workflow has no parameter of that name (did you mean PRETRAIN_EPOCHS or "
                    "FINETUNE_EPOCHS?); 'qgis_process help mrs:workflow' lists its parameters."),
    ({"classify:OUTPUT_CONFIDENCE": "c.tif"},
     "classify:OUTPUT_CONFIDENCE: mrs:workflow does not take OUTPUT_CONFIDENCE for its step 'classify': run "
     "mrs:classify alone for it ('qgis_process help mrs:workflow' lists its parameters)."),
    ({"pretrain:EPOCHS": 2}, "pretrain:EPOCHS: mrs:workflow calls it PRETRAIN_EPOCHS; give it by that name "
                             "('qgis_process help mrs:workflow' lists its parameters)."),  # a review of 2026-12-06
    ({"LABELS": None, "SAMPLES": lambda scene: str(scene.train_points), "CLASS_FIELD": "CLASS_ID",
      "REFERENCE_FIELD": "nope", "REFERENCE": lambda scene: str(scene.train_points), "REFERENCE_LABELS": None},
     "REFERENCE_FIELD: 'nope' is not a field of 'train_points'; its fields: 'fid', 'class_id', 'class_name'. Choose "
     "one of them."),
    ({"FINETUNE_EPOCHS": "nan"}, "FINETUNE_EPOCHS is 'nan'; it must be a whole number of at least 1."),
    ({"FINETUNE_EPOCHS": 1.5}, "FINETUNE_EPOCHS is 1.5, not a whole number; it must be a whole number of at least 1."),
    ({"SEED": -5}, "SEED is -5; it must be a whole number of at least 0."),
    ({"FINETUNE_EPOCHS": ""}, "FINETUNE_EPOCHS is empty; give a value, or leave FINETUNE_EPOCHS out for the "
                              "default, 100."),
    ({"LABELS": None, "SAMPLES": lambda scene: str(scene.train_points), "CLASS_FIELD": ["class_id"]},
     "CLASS_FIELD takes one value, not a list (['class_id']); give the value itself."),
    ({"LABELS": None, "SAMPLES": lambda scene: str(scene.train_points), "CLASS_FIELD": "nope"},
     "CLASS_FIELD: 'nope' is not a field of 'train_points'; its fields: 'fid', 'class_id', 'class_name'. Choose one of them."),
    ({"REFERENCE_LABELS": None, "REFERENCE": lambda scene: str(scene.train_points), "REFERENCE_FIELD": "nope"},
     "REFERENCE_FIELD: 'nope' is not a field of 'train_points'; its fields: 'fid', 'class_id', 'class_name'. Choose one of them."),
    ({"REFERENCE_LABELS": lambda scene: str(scene.hsi)},
     "REFERENCE_LABELS: the label layer 'hsi' has 20 bands, but a label raster has one band of class values (0 or "
     "nodata = unlabelled). Choose the label raster, not an image."),
])
def test_the_workflow_refuses_labelled_pixels_given_twice_or_not_at_all_before_any_step(workflow, tmp_path, changes,
                                                                                      message):
    """Found after hours of pretraining, or not at all (SAMPLES ignored beside LABELS; a misspelt
    PRETRAIN_EPOCH, which left 60 epochs; a misspelt field or an image as labels, which the step
    reading them found after the pretraining, red team of 2026-12-04), before."""
    assert refused_workflow(tmp_path, **changes) == message.replace("{scene}", str(tmp_path / "scene"))


def test_one_layer_of_training_and_reference_classes_in_two_fields_is_no_reference_of_the_training_labels(
        workflow, tmp_path):
    """A review of 2026-12-06: SAMPLES and REFERENCE of one layer, their classes in two fields (NULL
    apart), were refused as the training labels given as the reference; one field in two spellings is."""
    from qgis.core import QgsProcessingContext

    from mrs.algorithms.workflow import _training_labels_as_reference

    points = str(write_test_scene(tmp_path / "scene").train_points)
    layers = {"SAMPLES": points, "REFERENCE": points}
    context = QgsProcessingContext()
    assert _training_labels_as_reference({**layers, "CLASS_FIELD": "class_id", "REFERENCE_FIELD": "class_name"},
                                         context) is None
    assert _training_labels_as_reference({**layers, "CLASS_FIELD": "class_id", "REFERENCE_FIELD": "CLASS_ID"},
                                         context).startswith(f"REFERENCE: '{points}' is also SAMPLES")


SUBSET = '{points}|subset="class_id" = 1'


@pytest.mark.parametrize("samples, reference, said", [
    ("{points}", "{points}|layername=train_points", "is also"), ("{points}", "{points}|layerid=0", "is also"),
    ("selection", "selection", "is also"), (SUBSET, SUBSET, "is also"),
    # a part of the layer the training reads whole (the review of that change)
    ("{points}", SUBSET, "holds only features of"), ("{points}", "selection", "holds only features of"),
    ("{points}", "first 3", "holds only features of"),
    # other features: a part of the training layer beside its whole, or beside another part
    ("selection", "{points}", None), (SUBSET, "{points}", None), ("first 3", "{points}", None),
    (SUBSET, '{points}|subset="class_id" = 2', None), ("selection", SUBSET, None)])
def test_training_points_given_as_the_reference_by_another_name_or_in_part_are_refused(
        workflow, tmp_path, samples, reference, said):
    """A review of 2026-12-06: the training points by their path and as 'path|layername=<its layer>', or
    one layer's selection given twice, passed the workflow's check (the accuracy step warned, after the
    pretraining, the training and the map), and so did a subset or a selection of the layer the training
    reads whole."""
    from qgis.core import QgsProcessingContext, QgsProcessingFeatureSourceDefinition, QgsVectorLayer

    from mrs.algorithms.workflow import _training_labels_as_reference

    points = str(write_test_scene(tmp_path / "scene").train_points)
    layer = QgsVectorLayer(points, "points", "ogr")
    source = layer.source()
    QgsProject.instance().addMapLayer(layer)
    try:
        layer.selectByIds([1])
        given = {"selection": QgsProcessingFeatureSourceDefinition(layer.id(), True),
                 "first 3": QgsProcessingFeatureSourceDefinition(layer.id(), False, 3)}
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        problem = _training_labels_as_reference({
            "SAMPLES": given.get(samples, samples.format(points=points)), "CLASS_FIELD": "class_id",
            "REFERENCE": given.get(reference, reference.format(points=points)),
            "REFERENCE_FIELD": "class_id"}, context)
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    shown = source if reference in given else reference.format(points=points)
    assert problem == (said and f"REFERENCE: '{shown}' {said} SAMPLES, the labels the classifier learns from; its "
                                "figures would say how well it learnt them, not how right the map is. Give a "
                                "reference of other pixels (labels kept apart from the training ones).")


def test_the_workflow_s_help_says_where_its_file_is(workflow):
    """A desktop helper of 2026-12-05: the help told to open resources/models/mrs_workflow.model3 'of
    the plugin', and the Toolbox offers no 'Edit model' for a provider's model."""
    toolbox = QgsApplication.processingRegistry().createAlgorithmById("mrs:workflow")
    assert f"Open Model (then save a copy under another name): {WORKFLOW}</p>" in toolbox.shortHelpString()
    assert toolbox.shortHelpString().startswith("<html><body><p>The whole MRS workflow in one run")


def test_the_workflow_refuses_a_suggestions_layer_s_guesses_as_a_class_field_before_any_step(workflow, tmp_path):
    """A helper's red team of 2026-12-05: REFERENCE_FIELD 'predicted_value' of a suggestions layer was
    refused at the assessment, after the pretraining, the training and the map."""
    import json

    from osgeo import ogr

    from mrs.mrs_qgis_plugin.raster.suggestions import CONTENT_KEY

    def suggestions(scene):
        path = str(tmp_path / "suggested.gpkg")
        points = [(f"POINT ({x} {y})", {"class_id": 1, "predicted_value": value})
                  for (x, y), value in zip(((664001.5, 5101998.5), (664010.5, 5101990.5)), (1, 2))]
        write_vector(path, points, {"class_id": ogr.OFTInteger, "predicted_value": ogr.OFTInteger},
                     layer="suggestions")
        dataset = ogr.Open(path, 1)
        dataset.GetLayer(0).SetMetadataItem(CONTENT_KEY, json.dumps(
            {"fields": ["class_id", "predicted_value"], "guesses": ["predicted_value"], "points": "", "values": {}}))
        dataset = None
        return path

    said = refused_workflow(tmp_path, REFERENCE_LABELS=None, REFERENCE=suggestions, REFERENCE_FIELD="predicted_value")
    assert said == ("REFERENCE_FIELD: The class field 'predicted_value' of 'suggested' holds what the classifier "
                    "that suggested these points guessed, not labels: fill in the field 'class_id' with the classes "
                    "seen on the ground, and choose it as the class field.")
    # as NAME_FIELD, it was refused as a class field, in words for one (a review of 2026-12-05)
    (tmp_path / "named").mkdir()
    said = refused_workflow(tmp_path / "named", LABELS=None, SAMPLES=suggestions, CLASS_FIELD="class_id",
                            NAME_FIELD="predicted_value")
    assert said == ("NAME_FIELD: The name field 'predicted_value' of 'suggested' holds what 'Where to label next' "
                    "wrote beside each point (the classifier's guess, its confidence or the point's rank), not the "
                    "names of the classes filled in: choose no name field, or one that holds the names of the classes "
                    "seen on the ground.")


def _memory_points(name: str, field: str, rows: list) -> tuple:
    """A memory layer of points without geometry with the field `field` ('name:type') and an integer class_id,
    one feature per row (value, class id), and the feature source the workflow's early check reads."""
    from qgis.core import QgsFeature, QgsProcessingContext, QgsProcessingFeatureSource, QgsVectorLayer

    layer = QgsVectorLayer(f"Point?crs=EPSG:32632&field={field}&field=class_id:integer", name, "memory")
    features = []
    for row in rows:
        feature = QgsFeature(layer.fields())
        feature.setAttributes(list(row))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer, QgsProcessingFeatureSource(layer, QgsProcessingContext())


def test_a_boolean_class_field_is_refused_by_the_early_check_as_its_step_refuses_it(workflow):
    """A review of 2026-12-06: the workflow's early check of a class field read a boolean as text and let it
    pass, and the step refused it after the pretraining; said as the step says it."""
    from mrs.algorithms.workflow import _class_field_problem

    layer, source = _memory_points("flags", "flag:boolean", [(True, 1), (False, 2)])
    assert _class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "flag"}, layer) == (
        "The class field 'flag' of 'flags' is a yes/no (boolean) field, which holds no classes. Choose the field that "
        "holds each feature's class (a whole number from 1, or a name).")
    assert _class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "class_id"}, layer) is None


def test_the_early_check_reads_a_decimal_field_as_numbers_and_lets_a_reference_of_one_class_pass(workflow):
    """The mutation audit of 2026-12-06: nothing failed when the early check read a decimal (Double) class
    field as text (1.5 would have been a class named '1.5', where the step refuses it after the pretraining),
    or refused a reference of one class, which the assessment takes (one class mapped is still assessed)."""
    from mrs.algorithms.workflow import _class_field_problem

    layer, source = _memory_points("plots", "share:double", [(1.5, 3), (2.0, 3)])
    assert _class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "share"}, layer) == (
        "The class field 'share' of 'plots' holds decimal or non-finite numbers (1.5). Class values must be whole "
        "numbers or text; recode the field.")
    assert _class_field_problem(source, "REFERENCE", {"REFERENCE_FIELD": "class_id"}, layer) is None
    assert _class_field_problem(source, "SAMPLES", {"CLASS_FIELD": "class_id"}, layer) == (
        "SAMPLES: the samples of 'plots' hold only one class ('3'); at least two classes are needed. Add samples of "
        "other classes, or choose the field that holds the classes.")


def _model_of_one_step(algorithm: str, values: dict) -> QgsProcessingModelAlgorithm:
    """An analyst's model of one step of `algorithm`, its parameters given as static values."""
    from qgis.core import QgsProcessingModelChildAlgorithm

    model = QgsProcessingModelAlgorithm("one step", "tests")
    child = QgsProcessingModelChildAlgorithm(algorithm)
    child.setChildId("step")
    for name, value in values.items():
        child.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    model.addChildAlgorithm(child)
    return model


@pytest.mark.parametrize("algorithm, given, said", [
    ("mrs:finetune", {}, "Give SAMPLES (with CLASS_FIELD) or LABELS: neither is given."),
    ("mrs:finetune", {"LABELS": "train", "SAMPLES": "train_points", "CLASS_FIELD": "class_id"},
     "Give either SAMPLES (with CLASS_FIELD) or LABELS, not both; "),
    ("mrs:workflow", {"LABELS": "train"}, "Give REFERENCE (with REFERENCE_FIELD) or REFERENCE_LABELS: neither is "
                                          "given."),
])
def test_a_step_of_an_analyst_s_model_makes_the_checks_qgis_leaves_out_there(workflow, tmp_path, algorithm, given,
                                                                            said):
    """QGIS 3.22 runs a model's steps without their checkParameterValues (a helper's red team of 2026-12-06): a
    fine-tuning given neither training source ended in an AttributeError traceback, one given both trained on
    LABELS without a word, mrs:workflow as a step ran three steps before its accuracy step's traceback."""
    from qgis.core import QgsProcessingException

    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    values = {**scene_layers(scene), "PRESET": "tiny", "DEVICE": "cpu",
              **{name: str(getattr(scene, value)) if name != "CLASS_FIELD" else value for name, value in given.items()}}
    if algorithm == "mrs:workflow":
        values.update(PRETRAIN_SAMPLES=64, PRETRAIN_EPOCHS=1, FINETUNE_EPOCHS=1)
    else:
        values.update(EPOCHS=1, OUTPUT=str(tmp_path / "classifier.safetensors"))
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException):
        run(_model_of_one_step(algorithm, values), {}, feedback)
    assert [error for error in feedback.errors if error.startswith("Give ")][0].startswith(said)
    assert not any("Traceback" in error for error in feedback.errors)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scene"]


def test_a_step_s_output_left_temporary_in_an_analyst_s_model_is_said_with_the_step_and_how_to_keep_it(
        workflow, tmp_path):
    """A helper's red team of 2026-12-06: 'give --OUTPUT=FILE' (qgis_process) or 'save the pretrained model to a
    file of your own' (processing.run), where the model had no OUTPUT to give, nor a file to choose; a desktop
    helper of 2026-12-07: an output of the model left temporary was to be made one."""
    from processing_helpers import run

    scene = write_test_scene(tmp_path / "scene")
    feedback = RecordingFeedback()
    run(_model_of_one_step("mrs:pretrain", {**scene_layers(scene), "PRESET": "tiny", "SAMPLES": 64, "EPOCHS": 1,
                                            "DEVICE": "cpu"}), {}, feedback)
    [said] = [warning for warning in feedback.warnings if "temporary folder" in warning]
    assert re.fullmatch(r"OUTPUT of the model's step 'Pretrain SS-MAE \(MRS\)': \S+\.safetensors is in QGIS's "
                        r"temporary folder, which QGIS deletes when it closes; make it an output of the model \(name "
                        r"it in the step's dialog in the graphical modeler\), or where it is one give it a file in the "
                        r"model's dialog, to keep it\.", said), said
