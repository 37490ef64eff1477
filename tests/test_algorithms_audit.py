"""The algorithms' front ends (algorithms/pretrain, finetune, classify, suggest, accuracy, redundancy, demo_scene and
their declarations in job_parameters) where no other test pins them: the dialogs' advanced parameters, the outputs'
types, the ranges the help states, and the layers the demo scene and the maps have loaded (a mutation audit of
2026-12-06). No run: the algorithms are inspected, their `finish` called on files made here."""

import re

import pytest
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingParameterDefinition, QgsProject

from mrs.mrs_qgis_plugin.job_parameters import JOBS

# What an analyst sees at first in each dialog: every other parameter is under "Advanced Parameters".
ADVANCED = {
    "demoscene": ["SEED"],
    "pretrain": ["NORMALIZED_TARGETS", "BATCH_SIZE", "LEARNING_RATE", "DEVICE", "PRECISION", "SEED"],
    "finetune": ["BATCH_SIZE", "LEARNING_RATE", "ENCODER_LR_FACTOR", "CLASS_WEIGHTING", "DEVICE", "PRECISION", "SEED"],
    "suggest": ["TILE_SIZE", "BATCH_SIZE", "DEVICE", "PRECISION", "SEED"],
    "classify": ["TILE_SIZE", "BATCH_SIZE", "DEVICE", "PRECISION"],
    "accuracy": [],
    "redundancy": ["SEED"],
}

# The outputs' types: what a model in the modeler can connect them to (GROUPS is text, the others numbers or layers).
OUTPUT_TYPES = {
    "demoscene": {"OUTPUT": "outputFolder", "HSI": "outputRaster", "LIDAR": "outputRaster", "SAR": "outputRaster",
                  "TRAIN_POINTS": "outputVector", "TRAIN_LABELS": "outputRaster", "TEST_LABELS": "outputRaster"},
    "pretrain": {"OUTPUT": "outputFile", "FINAL_LOSS": "outputNumber"},
    "finetune": {"OUTPUT": "outputFile", "VALIDATION_ACCURACY": "outputNumber", "VALIDATION_KAPPA": "outputNumber",
                 "BEST_EPOCH": "outputNumber"},
    "suggest": {"OUTPUT": "outputVector", "COUNT": "outputNumber"},
    "classify": {"OUTPUT": "outputRaster", "OUTPUT_CONFIDENCE": "outputRaster"},
    "accuracy": {"OUTPUT_HTML": "outputHtml", "OUTPUT_JSON": "outputFile", "OUTPUT_CSV": "outputFile",
                 "OVERALL_ACCURACY": "outputNumber", "AVERAGE_ACCURACY": "outputNumber", "KAPPA": "outputNumber"},
    "redundancy": {"OUTPUT_PNG": "outputFile", "OUTPUT_CSV": "outputFile", "OUTPUT_HTML": "outputHtml",
                   "GROUPS": "outputString", "GROUP_COUNT": "outputNumber", "LEAKAGE": "outputNumber"},
}


def algorithm(name: str):
    return QgsApplication.processingRegistry().algorithmById(f"mrs:{name}")


@pytest.mark.parametrize("name", list(ADVANCED))
def test_the_advanced_parameters_are_those_a_first_run_leaves_alone(provider, name):
    flagged = [p.name() for p in algorithm(name).parameterDefinitions()
               if p.flags() & QgsProcessingParameterDefinition.FlagAdvanced]
    assert flagged == ADVANCED[name]


@pytest.mark.parametrize("name", list(OUTPUT_TYPES))
def test_every_output_has_the_type_of_what_it_gives(provider, name):
    assert {o.name(): o.type() for o in algorithm(name).outputDefinitions()} == OUTPUT_TYPES[name]


# "between 0.01 and 0.99", "from 48 to 1024", "from 0.000001 (what the dialog's box shows) to 1"
STATED_RANGE = re.compile(r"\b(?:between|from) (\d+(?:\.\d+)?)(?: \([^)]*\))? (?:and|to) (\d+(?:\.\d+)?)", re.I)
NUMBERS = [(job.name, p.name) for job in JOBS.values() for p in job.parameters
           if p.kind in ("integer", "number") and STATED_RANGE.search(p.help)]


def test_the_ranges_stated_are_found_in_the_help_of_the_parameters_that_have_one():
    assert NUMBERS == [("pretrain", "SPECTRAL_RATIO"), ("pretrain", "SPATIAL_RATIO"), ("pretrain", "LEARNING_RATE"),
                       ("finetune", "VALIDATION_FRACTION"), ("finetune", "LEARNING_RATE"),
                       ("redundancy", "THRESHOLD"), ("redundancy", "MASK_RATIO"), ("demoscene", "SIZE"),
                       ("demoscene", "BANDS")]


@pytest.mark.parametrize("job, name", NUMBERS, ids=lambda value: str(value))
def test_a_range_the_help_states_is_the_one_the_dialog_takes(job, name):
    """A help text saying 'from 32 to 1024' over a box that refuses 47 misleads."""
    parameter = JOBS[job].parameter(name)
    low, high = STATED_RANGE.search(parameter.help).groups()
    assert (float(low), float(high)) == (parameter.minimum, parameter.maximum)


# The demo scene's layers ---------------------------------------------------------------------

def _finished(name: str, values: dict) -> QgsProcessingContext:
    """A context after `finish` of mrs:<name> with `values`: the layers it has loaded on completion."""
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    algorithm(name).finish(values, context)
    return context


def _styler(context: QgsProcessingContext, path: str) -> str:
    """The function that styles the layer loaded from `path`, by name ('sidecar_style <its .qml>'); '' when none
    does."""
    processor = context.layerToLoadOnCompletionDetails(path).postProcessor()
    if not processor:
        return ""
    name = processor.styler.__qualname__.split(".")[0]
    return f"{name} {processor.styler.__closure__[0].cell_contents}" if name == "sidecar_style" else name


@pytest.mark.parametrize("with_sar", [False, True], ids=["lidar", "lidar_and_sar"])
def test_the_demo_scene_s_files_are_loaded_each_named_styled_and_as_its_output(provider, tmp_path, monkeypatch,
                                                                               with_sar):
    """Only the files there are (sar.tif only when written); each under its layer name and output; a raster by
    the .qml beside it, the points by class (their style is made here), a raster without a .qml as QGIS draws it;
    a folder given relative to the working folder loads the files there."""
    files = ["hsi.tif", "hsi.qml", "lidar.tif", "train.tif", "train.qml", "test.tif", "test.qml", "train_points.gpkg"]
    for file_name in files + (["sar.tif", "sar.qml"] if with_sar else []):
        (tmp_path / "demo" / file_name).parent.mkdir(exist_ok=True)
        (tmp_path / "demo" / file_name).write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    context = _finished("demoscene", {"OUTPUT": "demo"})
    loaded = {path: (context.layerToLoadOnCompletionDetails(path).name,
                     context.layerToLoadOnCompletionDetails(path).outputName,
                     _styler(context, path).replace(str(tmp_path / "demo"), "demo"))
              for path in context.layersToLoadOnCompletion()}
    expected = {
        "hsi.tif": ("Demo hyperspectral", "HSI", "sidecar_style demo/hsi.qml"),
        "lidar.tif": ("Demo LiDAR", "LIDAR", ""),
        "sar.tif": ("Demo SAR", "SAR", "sidecar_style demo/sar.qml"),
        "train_points.gpkg": ("Demo training points", "TRAIN_POINTS", "class_points_style"),
        "train.tif": ("Demo training labels", "TRAIN_LABELS", "sidecar_style demo/train.qml"),
        "test.tif": ("Demo test labels", "TEST_LABELS", "sidecar_style demo/test.qml"),
    }
    assert loaded == {str(tmp_path / "demo" / file_name): details for file_name, details in expected.items()
                      if with_sar or file_name != "sar.tif"}


# The maps of Classify ------------------------------------------------------------------------

@pytest.mark.parametrize("confidence", [True, False], ids=["with_confidence", "without_confidence"])
def test_the_maps_are_each_styled_by_their_sidecar_and_named_after_their_file(provider, tmp_path, confidence):
    """Both maps, each by its own .qml and under its own label; OUTPUT_CONFIDENCE left empty (it is optional):
    the map alone."""
    context = QgsProcessingContext()
    values = {"OUTPUT": str(tmp_path / "landcover.tif"),
              "OUTPUT_CONFIDENCE": str(tmp_path / "confidence.tif") if confidence else None}
    for name, label in (("OUTPUT", "Land-cover map"), ("OUTPUT_CONFIDENCE", "Confidence")):
        if values[name]:
            context.addLayerToLoadOnCompletion(values[name], QgsProcessingContext.LayerDetails(label, None, name))
    algorithm("classify").finish(values, context)
    loaded = {path: (context.layerToLoadOnCompletionDetails(path).name, _styler(context, path))
              for path in context.layersToLoadOnCompletion()}
    expected = {"landcover": ("Land-cover map (landcover)", f"sidecar_style {tmp_path / 'landcover.qml'}"),
                "confidence": ("Confidence (confidence)", f"sidecar_style {tmp_path / 'confidence.qml'}")}
    assert loaded == {str(tmp_path / f"{stem}.tif"): details for stem, details in expected.items()
                      if confidence or stem == "landcover"}


def test_where_to_label_next_takes_no_area_and_no_extent_unless_given(provider):
    """MASK and EXTENT are optional (the whole scene), as BATCH_SIZE (chosen by the job); every other input is
    needed (the other algorithms' optional inputs are pinned in test_provider)."""
    optional = [p.name() for p in algorithm("suggest").parameterDefinitions()
                if p.flags() & QgsProcessingParameterDefinition.FlagOptional]
    assert optional == ["EXTENT", "MASK", "BATCH_SIZE"]


@pytest.mark.parametrize("word, found", [("inference", "mrs:classify"), ("fine-tuning", "mrs:finetune"),
                                         ("masked autoencoder", "mrs:pretrain"), ("tutorial", "mrs:demoscene"),
                                         ("field work", "mrs:suggest"), ("confusion matrix", "mrs:accuracy"),
                                         ("heat map", "mrs:redundancy")])
def test_the_toolbox_s_search_finds_each_algorithm_by_its_own_words(provider, word, found):
    assert [a.id() for a in provider.algorithms() if word in a.tags()] == [found]


def test_the_algorithms_named_in_a_help_are_those_of_the_toolbox(provider):
    """'Give it to 'Train classifier (fine-tune)' as PRETRAINED' must name an algorithm the Toolbox lists."""
    named = {a.id(): set(re.findall(r"'([A-Z][^']*)'", a.shortHelpString())) for a in provider.algorithms()}
    assert set().union(*named.values()) <= {a.displayName() for a in provider.algorithms()}
    assert {name: sorted(found) for name, found in named.items() if found} == {
        "mrs:accuracy": ["Classify"], "mrs:classify": ["Train classifier (fine-tune)"],
        "mrs:demoscene": ["Workflow: pretrain, train, classify, assess"],
        "mrs:finetune": ["Classify", "Pretrain SS-MAE (MRS)"], "mrs:pretrain": ["Train classifier (fine-tune)"],
        "mrs:suggest": ["Classify", "Train classifier (fine-tune)"]}


def test_a_parameter_a_help_names_is_one_of_its_algorithm_or_of_an_algorithm_it_names(provider):
    """'with the order of INPUT_AUX', 'Give it to 'Classify' as MODEL': an id the dialog does not have misleads."""
    by_name = {a.displayName(): a for a in provider.algorithms()}
    for algorithm in provider.algorithms():
        help_string = algorithm.shortHelpString()
        ids = {p.name() for a in [algorithm] + [by_name[n] for n in re.findall(r"'([A-Z][^']*)'", help_string)]
               for p in a.parameterDefinitions() + a.outputDefinitions()}
        assert set(re.findall(r"\b[A-Z][A-Z_]{3,}\b", help_string)) - ids <= {"JSON", "CUDA", "NVIDIA", "QGIS"}, (
            algorithm.id())


def test_counts_are_whole_numbers_in_the_dialogs(provider):
    """A box of whole numbers: SAMPLE_SIZE 250.5 or BANDS 12.5 is refused, not handed to the job."""
    from qgis.core import QgsProcessingParameterNumber

    whole = {a.id(): [p.name() for p in a.parameterDefinitions()
                      if p.type() == "number" and p.dataType() == QgsProcessingParameterNumber.Integer]
             for a in provider.algorithms() if a.id() != "mrs:workflow"}
    assert whole == {"mrs:accuracy": [], "mrs:classify": ["TILE_SIZE", "BATCH_SIZE"],
                     "mrs:demoscene": ["SIZE", "BANDS", "SEED"], "mrs:finetune": ["EPOCHS", "BATCH_SIZE", "SEED"],
                     "mrs:pretrain": ["SAMPLES", "EPOCHS", "BATCH_SIZE", "SEED"],
                     "mrs:redundancy": ["SAMPLE_SIZE", "SEED"],
                     "mrs:suggest": ["POINTS", "TILE_SIZE", "BATCH_SIZE", "SEED"]}


def test_the_accuracy_s_reference_raster_is_said_to_be_read_on_the_map_s_grid(provider):
    """It has no hyperspectral raster: a help saying 'resampled to the hyperspectral grid' sends one looking for it."""
    help_string = algorithm("accuracy").shortHelpString()
    assert "hyperspectral" not in help_string
    assert "resampled to the map's grid by nearest neighbour when its grid differs" in help_string
