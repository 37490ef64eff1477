"""Parameter declarations, readers and refusals of plain values, torchrun's comparison of inputs and the default
destinations: each test fails on a small, plausible bug that the suite let pass (a second mutation audit of
2026-12-07 of parameters, job_parameters, shared_parameters, same_inputs and destinations)."""

import pytest
from test_runs_and_lists_edges import _compared, _differing, classify_values  # noqa: F401 - the fixture

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin import destinations, same_inputs
from mrs.mrs_qgis_plugin import parameters as spec
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.runs import VectorInput

# Declarations --------------------------------------------------------------------------------

# Each job's parameters in dialog order as NAME:kind, then ? optional, + advanced, <parent field's layer, /geometries.
DECLARED = {
    "pretrain": "INPUT_HSI:raster INPUT_AUX:rasters MORE_SCENES:file? EXTENT:extent? MASK:vector?/polygon "
                "PRESET:choice MASKING:choice SPECTRAL_RATIO:number SPATIAL_RATIO:number NORMALIZED_TARGETS:boolean+ "
                "SAMPLES:integer EPOCHS:integer BATCH_SIZE:integer+ LEARNING_RATE:number+ DEVICE:device+ "
                "PRECISION:choice+ SEED:integer+ RESUME:model_file? OUTPUT:file_destination",
    "finetune": "INPUT_HSI:raster INPUT_AUX:rasters SAMPLES:vector?/point,line,polygon CLASS_FIELD:field?<SAMPLES "
                "NAME_FIELD:field?<SAMPLES COLOR_FIELD:field?<SAMPLES LABELS:raster? PRETRAINED:model_file? "
                "PRESET:choice VALIDATION_FRACTION:number EPOCHS:integer BATCH_SIZE:integer+ LEARNING_RATE:number+ "
                "ENCODER_LR_FACTOR:number+ CLASS_WEIGHTING:boolean+ DEVICE:device+ PRECISION:choice+ SEED:integer+ "
                "RESUME:model_file? OUTPUT:file_destination",
    "suggest": "MODEL:model_file INPUT_HSI:raster INPUT_AUX:rasters EXTENT:extent? MASK:vector?/polygon POINTS:integer "
               "MIN_DISTANCE:number TILE_SIZE:integer+ BATCH_SIZE:integer?+ DEVICE:device+ PRECISION:choice+ "
               "SEED:integer+ OUTPUT:vector_destination",
    "classify": "MODEL:model_file INPUT_HSI:raster INPUT_AUX:rasters EXTENT:extent? TILE_SIZE:integer+ "
                "BATCH_SIZE:integer?+ DEVICE:device+ PRECISION:choice+ OUTPUT:raster_destination "
                "OUTPUT_CONFIDENCE:raster_destination?",
    "accuracy": "INPUT:raster REFERENCE:vector?/point,line,polygon REFERENCE_FIELD:field?<REFERENCE "
                "REFERENCE_LABELS:raster? OUTPUT_HTML:file_destination? OUTPUT_JSON:file_destination? "
                "OUTPUT_CSV:file_destination?",
    "redundancy": "INPUT_HSI:raster INPUT_AUX:rasters? THRESHOLD:number MASK_RATIO:number SAMPLE_SIZE:integer "
                  "SEED:integer+ OUTPUT_PNG:file_destination? OUTPUT_CSV:file_destination? "
                  "OUTPUT_HTML:file_destination?",
    "demoscene": "SIZE:integer BANDS:integer WITH_SAR:boolean SEED:integer+ OUTPUT:folder_destination",
}


def _declared(parameter) -> str:
    return (f"{parameter.name}:{parameter.kind.replace(' ', '_')}" + "?" * parameter.optional
            + "+" * parameter.advanced + (f"<{parameter.parent}" if parameter.parent else "")
            + (f"/{','.join(parameter.geometries)}" if parameter.geometries else ""))


@pytest.mark.parametrize("job", list(DECLARED))
def test_every_parameter_is_declared_in_order_with_its_kind_and_whether_optional_or_advanced(job):
    """What the Toolbox's dialogs and bin/mrs offer: a parameter made required, optional or advanced by mistake."""
    assert " ".join(_declared(p) for p in JOBS[job].parameters) == DECLARED[job]


def test_every_job_s_results_tags_and_file_filters_are_declared():
    """The results with their kinds (a demo scene's points are a vector layer), the Toolbox's search words and the
    file dialogs' filters."""
    assert {name: [(o.name, o.kind) for o in job.outputs] for name, job in JOBS.items()} == {
        "pretrain": [("FINAL_LOSS", "number")],
        "finetune": [("VALIDATION_ACCURACY", "number"), ("VALIDATION_KAPPA", "number"), ("BEST_EPOCH", "number")],
        "suggest": [("COUNT", "number")], "classify": [],
        "accuracy": [("OVERALL_ACCURACY", "number"), ("AVERAGE_ACCURACY", "number"), ("KAPPA", "number")],
        "redundancy": [("GROUPS", "string"), ("GROUP_COUNT", "number"), ("LEAKAGE", "number")],
        "demoscene": [("HSI", "raster"), ("LIDAR", "raster"), ("SAR", "raster"), ("TRAIN_POINTS", "vector"),
                      ("TRAIN_LABELS", "raster"), ("TEST_LABELS", "raster")]}
    assert [o.description for o in JOBS["demoscene"].outputs] == [
        "Demo hyperspectral", "Demo LiDAR", "Demo SAR", "Demo training points", "Demo training labels",
        "Demo test labels"]
    assert {name: job.tags for name, job in JOBS.items()} == {
        "pretrain": ("pretraining", "self-supervised", "masked autoencoder", "unlabelled"),
        "finetune": ("training", "fine-tuning", "supervised", "samples"),
        "suggest": ("active learning", "sampling", "uncertainty", "labels", "field work"),
        "classify": ("map", "prediction", "inference"),
        "accuracy": ("accuracy assessment", "confusion matrix", "kappa", "overall accuracy", "validation"),
        "redundancy": ("band correlation", "spectral similarity", "band selection", "heat map"),
        "demoscene": ("synthetic", "sample data", "demo", "tutorial")}
    assert {(job.name, p.name): p.file_filter for job in JOBS.values() for p in job.parameters if p.file_filter} == {
        ("pretrain", "MORE_SCENES"): "Scene lists (*.txt *.csv)", ("pretrain", "OUTPUT"): spec.MODEL_FILE_FILTER,
        ("finetune", "OUTPUT"): spec.MODEL_FILE_FILTER, ("accuracy", "OUTPUT_HTML"): "HTML files (*.html)",
        ("accuracy", "OUTPUT_JSON"): "JSON files (*.json)", ("accuracy", "OUTPUT_CSV"): "CSV files (*.csv)",
        ("redundancy", "OUTPUT_PNG"): "PNG files (*.png)", ("redundancy", "OUTPUT_CSV"): "CSV files (*.csv)",
        ("redundancy", "OUTPUT_HTML"): "HTML files (*.html)"}


def test_a_choice_s_help_names_its_default_and_optional_rasters_are_said_optional():
    """The help of PRESET names 'small' as the default; the redundancy's SAR/LiDAR rasters are 'Optional', and
    without the warning about a model's training rasters, which has no model."""
    assert JOBS["pretrain"].parameter("PRESET").help.endswith(" One of: paper, small, tiny; default small.")
    aux = {name: JOBS[name].parameter("INPUT_AUX").help for name in ("redundancy", "classify")}
    assert aux["redundancy"].startswith("Optional: one or more SAR or LiDAR rasters; all their bands are used")
    assert aux["classify"].startswith("One or more SAR or LiDAR rasters")
    assert "A model must be given" not in aux["redundancy"] and aux["classify"].endswith(
        "the log warns when a band's values lie far from those it was trained on.")


def test_the_help_lists_every_parameter_and_result_under_its_heading():
    """bin/mrs JOB --help and qgis_process help: advanced parameters too, and the notes on the command line only."""
    job = spec.Job("x", "X", "analysis", "Does x.\nSecond paragraph.", (
        spec.Parameter("N", "Count", spec.INTEGER, "How many.", default=3, minimum=1, advanced=True),
        spec.Parameter("OUT", "Result", spec.FILE_OUT, "The file.")), (spec.Output("SUM", "Sum"),))
    assert job.help() == ("Does x.\nSecond paragraph.\n\nParameters\nCount (N): How many.\nResult (OUT): The file.\n\n"
                          "Outputs\nResult (OUT)\nSum (SUM)")
    assert job.help(command_line=True).split("\n")[4] == "Count (N): How many. Default 3; a whole number of at least 1."


@pytest.mark.parametrize("description, summary", [
    ("One sentence only.", "One sentence only."),
    ("A" * 115 + " (b).", "A" * 115 + " (b)."),  # 120 characters: shown whole
    ("A" * 116 + " (b).", "A" * 116 + "."),  # 121: up to its bracket
])
def test_the_tooltip_keeps_a_sentence_of_120_characters_whole_and_ends_with_one_full_stop(description, summary):
    """The first sentence's full stop is not doubled, and the tooltip's limit is 120 characters."""
    assert spec.Job("x", "X", "analysis", description, ()).summary() == summary


# Refusals of values ----------------------------------------------------------------------------

PRETRAIN, FINETUNE, CLASSIFY = JOBS["pretrain"], JOBS["finetune"], JOBS["classify"]
MEANT = PRETRAIN.parameter("SAMPLES").meant


@pytest.mark.parametrize("parameter, value, message", [
    (CLASSIFY.parameter("INPUT_AUX"), [], "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the "
                                          "command line: --INPUT_AUX=file.tif)."),
    (FINETUNE.parameter("LEARNING_RATE"), "12,3456", "LEARNING_RATE is '12,3456'; it must be a number from 1e-06 to 1 "
                                                     "(written with a decimal point: 12.3456)."),
    (FINETUNE.parameter("LEARNING_RATE"), " 0,5 ", "LEARNING_RATE is ' 0,5 '; it must be a number from 1e-06 to 1 "
                                                   "(written with a decimal point: 0.5)."),
    (PRETRAIN.parameter("SAMPLES"), "data\\points", f"SAMPLES is 'data\\\\points'; it must be a whole number of at "
                                                    f"least 1. {MEANT}"),
    (PRETRAIN.parameter("SAMPLES"), "points|layername=a", f"SAMPLES is 'points|layername=a'; it must be a whole "
                                                          f"number of at least 1. {MEANT}"),
    (PRETRAIN.parameter("SAMPLES"), "10 000.0", "SAMPLES is '10 000.0'; it must be a whole number of at least 1."),
    (PRETRAIN.parameter("EPOCHS"), " 1.000 ", "EPOCHS is ' 1.000 ', which reads as 1 (a decimal point), not 1000 (a "
                                              "thousands separator): write the whole number without points; it must "
                                              "be a whole number of at least 1."),
    (PRETRAIN.parameter("PRESET"), " small", "PRESET is ' small'; write it 'small' (one of: paper, small, tiny)."),
    (CLASSIFY.parameter("DEVICE"), "mps", "DEVICE is 'mps'; use auto, cpu, cuda or cuda:N (N the GPU number, from 0)."),
    (CLASSIFY.parameter("TILE_SIZE"), [64], "TILE_SIZE takes one value, not a list (['64']); give the value itself."),
    (CLASSIFY.parameter("TILE_SIZE"), [64, "128"], "TILE_SIZE is given 2 times ('64', '128'); give it once."),
], ids=lambda v: str(v)[:20])
def test_a_refused_value_is_said_with_what_it_was_likely_meant_as(parameter, value, message):
    """An empty list of rasters, a decimal comma of four digits or with spaces, a Windows path or a layer's options
    given for a number, a thousands point with spaces, a choice with a space, another device, a list."""
    with pytest.raises(InputError) as raised:
        spec.read(parameter, value)
    assert str(raised.value) == message


def test_a_number_without_bounds_is_said_to_be_a_number():
    """bounds_text of a parameter with neither bound (no maximum to name)."""
    assert spec.bounds_text(spec.Parameter("X", "X", spec.NUMBER, "")) == "a number"


# Unknown names ---------------------------------------------------------------------------------

KNOWN = [p.name for p in CLASSIFY.parameters]


def test_of_two_unknown_names_the_first_is_said():
    """processing.run's parameters in the order given: the first name unknown is the one said."""
    assert spec.unknown_parameter_problem(["FOO", "TILESIZE"], KNOWN, "mrs:classify") == (
        "FOO: mrs:classify has no parameter of that name; 'qgis_process help mrs:classify' lists its parameters.")


def test_a_name_of_four_letters_held_in_a_known_name_is_offered_it():
    """RATE is offered LEARNING_RATE, which difflib finds too far from it."""
    assert spec.meant_text("RATE", [p.name for p in PRETRAIN.parameters]) == " (did you mean LEARNING_RATE?)"


# torchrun's comparison of inputs -----------------------------------------------------------------


def test_two_differing_values_are_both_named_with_the_files_words_when_one_is_a_file(tmp_path, monkeypatch,
                                                                                       classify_values):
    """A file and a plain value differing: both named, and the file's words said."""
    other = {**classify_values, "INPUT_HSI": RasterInput(str(tmp_path / "aux2b.tif"), "hsi"), "TILE_SIZE": 32}
    assert _compared(monkeypatch, "classify", classify_values, other) == _differing(1, "INPUT_HSI and TILE_SIZE")


def test_a_copy_differing_just_after_its_sampled_start_differs(tmp_path, monkeypatch):
    """The first block between the sampled ends is the only one that reads bytes 1000 to 1014 here."""
    monkeypatch.setattr(same_inputs, "SAMPLED_BYTES", 1000)
    content = bytearray(b"x" * 3000)
    (tmp_path / "one.tif").write_bytes(bytes(content))
    content[1005] = ord("y")
    (tmp_path / "two.tif").write_bytes(bytes(content))
    assert same_inputs.file_fingerprint(str(tmp_path / "one.tif")) != same_inputs.file_fingerprint(
        str(tmp_path / "two.tif"))


def test_a_file_in_a_nested_archive_is_compared_by_the_archive_s_bytes(tmp_path):
    """/vsizip//vsizip/outer.zip/inner.zip/hsi.tif: by outer.zip's bytes, not by its path."""
    sources = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "outer.zip").write_bytes(b"zipped" * 100)
        sources.append(f"/vsizip//vsizip/{tmp_path / folder}/outer.zip/inner.zip/hsi.tif")
    assert same_inputs.file_fingerprint(sources[0]) == same_inputs.file_fingerprint(sources[1]) != sources[0]


@pytest.mark.parametrize("name, value", [
    ("SAMPLES", lambda gone: VectorInput(gone, "points")),
    ("INPUT_AUX", lambda gone: [RasterInput(gone, "lidar")]),
])
def test_a_vector_or_a_single_raster_missing_on_a_process_is_said_missing(tmp_path, name, value):
    """The samples' layer and a one-raster INPUT_AUX are looked for, as the hyperspectral raster is."""
    gone = str(tmp_path / "gone.gpkg")
    job = FINETUNE if name == "SAMPLES" else CLASSIFY
    assert same_inputs._missing(job, {name: value(gone)}, []) == (
        f"{name}: the file {gone} does not exist. Check the path, or choose it again.")


def test_a_list_of_scenes_this_process_cannot_read_is_left_to_the_job_to_refuse(tmp_path):
    """Each process then refuses the list in its own words: one raising before the exchange left the others
    waiting for it."""
    (tmp_path / "scenes.txt").write_text("more.tif\n")  # no SAR/LiDAR raster, where INPUT_AUX has one
    values = {"INPUT_AUX": [RasterInput(str(tmp_path / "aux.tif"), "aux")], "MORE_SCENES": str(tmp_path / "scenes.txt")}
    assert same_inputs._listed(values) == []


# Default destinations ----------------------------------------------------------------------------


def test_a_project_path_that_is_a_file_is_no_folder_to_write_in(tmp_path):
    """persistent_folder passes over a path that exists but is no folder."""
    (tmp_path / "project.qgz").write_bytes(b"")
    assert destinations.persistent_folder(str(tmp_path / "project.qgz"), str(tmp_path)) == str(tmp_path)


def test_a_folder_whose_name_starts_as_qgis_s_temporary_folder_s_is_not_in_it(tmp_path, monkeypatch):
    """/t/processing_x2 is not inside /t/processing_x, which QGIS deletes when it closes."""
    monkeypatch.setattr(destinations.QgsProcessingUtils, "tempFolder", staticmethod(lambda: str(tmp_path / "tmp")))
    assert destinations.in_qgis_temporary_folder(str(tmp_path / "tmp" / "m.safetensors"))
    assert not destinations.in_qgis_temporary_folder(str(tmp_path / "tmp2" / "m.safetensors"))



def test_an_unsaved_project_s_model_goes_to_processing_s_output_folder(qgis_app, tmp_path, monkeypatch):
    """Settings > Options > Processing > Output folder is where a dialog proposes a model while no project is saved."""
    from qgis.core import QgsSettings

    monkeypatch.setattr(destinations.QgsApplication, "platform", staticmethod(lambda: "desktop"))
    monkeypatch.setattr(destinations.QgsProject.instance(), "absolutePath", lambda: "", raising=False)
    settings = QgsSettings()
    earlier = settings.value(destinations.OUTPUTS_FOLDER_SETTING, None)
    settings.setValue(destinations.OUTPUTS_FOLDER_SETTING, str(tmp_path))
    try:
        proposed = destinations.default_output_path("audit_model", "safetensors")
        assert proposed == str(tmp_path / "audit_model.safetensors")
    finally:
        if earlier is None:
            settings.remove(destinations.OUTPUTS_FOLDER_SETTING)
        else:
            settings.setValue(destinations.OUTPUTS_FOLDER_SETTING, earlier)


@pytest.mark.parametrize("value", [0, False])
def test_a_device_given_as_the_number_0_is_refused_as_the_number_1_is(value):
    """processing.run(..., {'DEVICE': 0}) ran on 'auto' (the CPU where there is no GPU) without a word, where
    {'DEVICE': 1} is refused: device_name reads every falsy value as 'auto'."""
    with pytest.raises(InputError) as raised:
        spec.read(JOBS["classify"].parameter("DEVICE"), value)
    assert str(raised.value) == (f"DEVICE is {str(value).lower()!r}; use auto, cpu, cuda or cuda:N (N the GPU number, "
                                 "from 0).")


@pytest.mark.parametrize("name, said", [("HSI", " (did you mean INPUT_HSI?)"), ("aux", " (did you mean INPUT_AUX?)"),
                                        ("SIZ", "")])
def test_a_short_name_that_is_a_word_of_known_names_is_offered_them(name, said):
    """--HSI= and --AUX= were offered nothing, names under four letters being matched inside none (a helper's audit
    of 2026-12-07); a short piece of a word still offers nothing."""
    assert spec.meant_text(name, ["INPUT_HSI", "INPUT_AUX", "TILE_SIZE", "OUTPUT"]) == said
