"""Parameter declarations, readers of plain values and torchrun's comparison of inputs: each test fails on a small,
plausible bug that the suite let pass (a mutation audit of 2026-12-06 of parameters, shared_parameters,
job_parameters and same_inputs)."""

import pytest
from test_runs_and_lists_edges import _compared, _differing, classify_values  # noqa: F401 - the fixture

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin import parameters as spec
from mrs.mrs_qgis_plugin import same_inputs
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.runs import VectorInput

# Declarations --------------------------------------------------------------------------------

# (job, parameter): (default, minimum, maximum) as the README's recipe and each parameter's help state them
DECLARED = {
    ("pretrain", "SAMPLES"): (10000, 1, None),
    ("pretrain", "EPOCHS"): (60, 1, None),
    ("pretrain", "BATCH_SIZE"): (128, 1, None),
    ("pretrain", "LEARNING_RATE"): (1e-3, 1e-6, 1.0),
    ("pretrain", "SPECTRAL_RATIO"): (0.3, 0.01, 0.99),
    ("pretrain", "SPATIAL_RATIO"): (0.3, 0.01, 0.99),
    ("pretrain", "NORMALIZED_TARGETS"): (True, None, None),
    ("pretrain", "PRESET"): ("small", None, None),
    ("pretrain", "MASKING"): ("mrs", None, None),
    ("pretrain", "PRECISION"): ("auto", None, None),
    ("pretrain", "DEVICE"): ("auto", None, None),
    ("pretrain", "SEED"): (0, 0, None),
    ("finetune", "VALIDATION_FRACTION"): (0.0, 0.0, 0.9),
    ("finetune", "EPOCHS"): (100, 1, None),
    ("finetune", "BATCH_SIZE"): (64, 1, None),
    ("finetune", "LEARNING_RATE"): (5e-4, 1e-6, 1.0),
    ("finetune", "ENCODER_LR_FACTOR"): (1.0, 0.01, 1.0),
    ("finetune", "CLASS_WEIGHTING"): (True, None, None),
    ("finetune", "PRECISION"): ("auto", None, None),
    ("classify", "TILE_SIZE"): (256, 16, 8192),
    ("classify", "BATCH_SIZE"): (None, 1, None),
    ("classify", "PRECISION"): ("auto", None, None),
    ("classify", "DEVICE"): ("auto", None, None),
    ("suggest", "POINTS"): (20, 1, 100000),
    ("suggest", "MIN_DISTANCE"): (10.0, 0.0, 100000.0),
    ("suggest", "TILE_SIZE"): (256, 16, 8192),
    ("redundancy", "THRESHOLD"): (0.95, 0.01, 1.0),
    ("redundancy", "MASK_RATIO"): (0.3, 0.01, 0.99),
    ("redundancy", "SAMPLE_SIZE"): (20000, 100, None),
    ("demoscene", "SIZE"): (192, 48, 1024),
    ("demoscene", "BANDS"): (100, 3, 400),
    ("demoscene", "WITH_SAR"): (False, None, None),
    ("demoscene", "SEED"): (0, 0, None),
}


@pytest.mark.parametrize("job, name", list(DECLARED), ids=lambda v: str(v))
def test_every_default_and_bound_is_the_one_the_readme_and_help_state(job, name):
    parameter = JOBS[job].parameter(name)
    assert (parameter.default, parameter.minimum, parameter.maximum) == DECLARED[(job, name)]
    assert type(parameter.default) is type(DECLARED[(job, name)][0])


def test_the_jobs_that_torchrun_shares_and_that_need_torch_are_declared_so():
    assert {name: (job.shares_processes, job.needs_torch) for name, job in JOBS.items()} == {
        "pretrain": (True, True), "finetune": (True, True), "suggest": (False, True), "classify": (True, True),
        "accuracy": (False, False), "redundancy": (False, False), "demoscene": (False, False)}


def test_destinations_are_offered_at_first_as_the_readme_says_and_with_their_extensions():
    """The README: the redundancy report's OUTPUT_HTML is created by default in the dialog, though optional."""
    created = {(job.name, p.name): (p.created_by_default, p.file_filter) for job in JOBS.values()
               for p in job.parameters if p.kind in spec.DESTINATIONS}
    assert created[("redundancy", "OUTPUT_HTML")] == (True, "HTML files (*.html)")
    assert created[("accuracy", "OUTPUT_JSON")] == (False, "JSON files (*.json)")
    assert created[("classify", "OUTPUT_CONFIDENCE")] == (False, None)
    assert created[("pretrain", "OUTPUT")] == created[("finetune", "OUTPUT")] == (True, spec.MODEL_FILE_FILTER)
    assert JOBS["pretrain"].parameter("MORE_SCENES").file_filter == "Scene lists (*.txt *.csv)"


# torchrun's comparison of inputs -------------------------------------------------------------


def _fingerprints_of(tmp_path, monkeypatch, files: dict, changed: bytes) -> tuple:
    """The fingerprints of map.tif in two folders holding `files` (name: bytes) alike, the second's last file
    then holding `changed`; SAMPLED_BYTES 1000."""
    monkeypatch.setattr(same_inputs, "SAMPLED_BYTES", 1000)
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        for name, content in files.items():
            (tmp_path / folder / name).write_bytes(content)
    one, two = (str(tmp_path / folder / "map.tif") for folder in ("one", "two"))
    assert same_inputs.file_fingerprint(one) == same_inputs.file_fingerprint(two)
    (tmp_path / "two" / list(files)[-1]).write_bytes(changed)
    return same_inputs.file_fingerprint(one), same_inputs.file_fingerprint(two)


@pytest.mark.parametrize("side", [".dbf", ".shx", ".prj", ".cpg", ".hdr", ".tfw", ".wld", ".tif.aux.xml",
                                  ".tif.msk", ".tif.hdr"])
def test_a_copy_whose_side_file_differs_differs(tmp_path, monkeypatch, side):
    """A .prj (the CRS), a world file (the grid), a mask or a header differing on one machine passed unsaid."""
    one, two = _fingerprints_of(tmp_path, monkeypatch, {"map.tif": b"x" * 3000, f"map{side}": b"side"}, b"other")
    assert one != two


@pytest.mark.parametrize("size, changed", [(3000, b"x" * 2500), (1500, b"x" * 1499 + b"y"),
                                           (3000, b"x" * 1500 + b"y" + b"x" * 1499)],
                         ids=["cut_short", "end_within_two_samples", "middle"])  # middle: a red team of 2026-12-07
def test_a_copy_cut_short_or_differing_at_its_end_differs(tmp_path, monkeypatch, size, changed):
    """A copy cut short (its sampled ends alike), one whose end, within two samples of its start, differs, and one
    that differs between its sampled ends only (an uncompressed raster's bands, on another machine)."""
    one, two = _fingerprints_of(tmp_path, monkeypatch, {"map.tif": b"x" * size}, changed)
    assert one != two


@pytest.fixture
def model_values(tmp_path, classify_values) -> dict:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "model.safetensors").write_bytes(b"weights" * 10)
    return {**classify_values, "MODEL": str(tmp_path / "one" / "model.safetensors")}


@pytest.mark.parametrize("source", ["GPKG:{folder}/scene.gpkg:hsi", '/vsizip/{folder}/scene.zip/hsi.tif',
                                    'NETCDF:"{folder}/cube.nc":reflectance'])
def test_a_table_or_an_archive_s_file_is_compared_by_the_bytes_of_the_file_holding_it(tmp_path, source):
    """The audit's own finding: a GeoPackage's raster and an archive's file were compared by their paths, so
    a copy on another machine was refused and a stale file at the same path taken."""
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        for name in ("scene.gpkg", "scene.zip", "cube.nc"):
            (tmp_path / folder / name).write_bytes(b"pixels" * 100)
    one, two = (source.format(folder=tmp_path / folder) for folder in ("one", "two"))
    assert same_inputs.file_fingerprint(one) == same_inputs.file_fingerprint(two)
    assert same_inputs.file_fingerprint(one) != same_inputs.file_fingerprint(one.replace("hsi", "aux").replace(
        "reflectance", "lidar"))  # another table, file or variable of it
    assert same_inputs.file_fingerprint(one) == same_inputs.file_fingerprint(two.replace("GPKG:", "gpkg:"))
    for name in ("scene.gpkg", "scene.zip", "cube.nc"):
        (tmp_path / "two" / name).write_bytes(b"stale!" * 100)
    assert same_inputs.file_fingerprint(one) != same_inputs.file_fingerprint(two)


def test_a_gdal_path_to_memory_or_a_bucket_is_compared_as_written(tmp_path, monkeypatch):
    """The review of the mend: '/vsimem/demo/hsi.tif' was fingerprinted as the file demo/hsi.tif here."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "hsi.tif").write_bytes(b"pixels")
    for source in ("/vsimem/demo/hsi.tif", "/vsis3/demo/hsi.tif"):
        assert same_inputs.file_fingerprint(source) == source


def test_a_model_is_compared_by_its_bytes_not_its_path(tmp_path, monkeypatch, model_values):
    copy = {**model_values, "MODEL": str(tmp_path / "two" / "model.safetensors")}
    assert _compared(monkeypatch, "classify", model_values, copy) is None
    (tmp_path / "two" / "model.safetensors").write_bytes(b"stale" * 10)
    assert _compared(monkeypatch, "classify", model_values, copy) == _differing(1, "MODEL")


def test_rasters_given_in_another_order_differ(tmp_path, monkeypatch, classify_values):
    swapped = {**classify_values, "INPUT_AUX": classify_values["INPUT_AUX"][::-1]}
    assert _compared(monkeypatch, "classify", classify_values, swapped) == _differing(1, "INPUT_AUX")


def test_the_same_list_of_scenes_naming_other_rasters_differs(tmp_path, monkeypatch):
    """A list compared by its text let a process pretrain on other rasters of the same names."""
    values = []
    for folder, content in (("one", b"scene"), ("two", b"other")):
        (tmp_path / folder).mkdir()
        for name in ("hsi", "aux", "more", "more_aux"):
            (tmp_path / folder / f"{name}.tif").write_bytes(content if name == "more" else name.encode())
        (tmp_path / folder / "scenes.txt").write_text("more.tif, more_aux.tif\n")
        values.append({"INPUT_HSI": RasterInput(str(tmp_path / "one" / "hsi.tif"), "hsi"),
                       "INPUT_AUX": [RasterInput(str(tmp_path / "one" / "aux.tif"), "aux")],
                       "MORE_SCENES": str(tmp_path / folder / "scenes.txt")})
    assert _compared(monkeypatch, "pretrain", values[0], values[1]) == _differing(1, "MORE_SCENES")


def _refusal(monkeypatch, values: dict, exchanged, broadcast=lambda problem: problem):
    """check_same_inputs's refusal for classify (None: none) where the exchange gives `exchanged(mine)`."""
    from mrs.model_core import distributed

    monkeypatch.setattr(distributed, "start", lambda device, waiting: type("Context", (), {
        "exchange": staticmethod(exchanged), "broadcast": staticmethod(broadcast)})())
    try:
        same_inputs.check_same_inputs(JOBS["classify"], values, "cpu", print)
    except InputError as error:
        return str(error)
    return None


def test_a_raster_missing_on_a_process_is_said_missing_not_another_file(tmp_path, monkeypatch, classify_values):
    gone = {**classify_values, "INPUT_HSI": RasterInput(str(tmp_path / "gone.tif"), "hsi")}
    said = ("Under torchrun every process opens its inputs on its own machine, and process {rank} cannot: INPUT_HSI: "
            f"the file {tmp_path / 'gone.tif'} does not exist. Check the path, or choose it again.")
    assert _refusal(monkeypatch, gone, lambda mine: [mine]) == said.format(rank=0)
    theirs = (same_inputs._fingerprints(JOBS["classify"], gone, []), same_inputs._missing(JOBS["classify"], gone, []))
    assert _refusal(monkeypatch, classify_values, lambda mine: [mine, theirs]) == said.format(rank=1)


def test_a_layer_s_options_are_no_part_of_the_file_looked_for(tmp_path, monkeypatch):
    (tmp_path / "points.gpkg").write_bytes(b"points")
    values = {"SAMPLES": VectorInput(f"{tmp_path / 'points.gpkg'}|layername=points", "points"), "CLASS_FIELD": "id"}
    assert same_inputs._missing(JOBS["finetune"], values, []) is None


def test_a_process_other_than_the_first_takes_the_first_s_refusal(monkeypatch, classify_values):
    """The exchange gives the others nothing: without rank 0's sentence they would run on alone."""
    assert _refusal(monkeypatch, classify_values, lambda mine: None, lambda problem: "Rank 0's sentence.") == (
        "Rank 0's sentence.")


# Readers and checks of plain values ----------------------------------------------------------

EPOCHS, SEED = JOBS["pretrain"].parameter("EPOCHS"), JOBS["pretrain"].parameter("SEED")
SAMPLES = JOBS["pretrain"].parameter("SAMPLES")


@pytest.mark.parametrize("parameter, value, message", [
    (EPOCHS, True, "EPOCHS is True; it must be a whole number of at least 1."),
    (EPOCHS, 3e9, "EPOCHS is 3000000000; it must be a whole number from 1 to 2147483647."),
    (SEED, "12345678901234567891", "SEED is 12345678901234567891; it must be a whole number from 0 to 2147483647."),
    (EPOCHS, "2,5", "EPOCHS is '2,5'; it must be a whole number of at least 1."),  # no 2.5 offered for a whole number
    (JOBS["pretrain"].parameter("SPECTRAL_RATIO"), "+0,3",
     "SPECTRAL_RATIO is '+0,3'; it must be a number from 0.01 to 0.99 (written with a decimal point: +0.3)."),
    (SAMPLES, "train_points.gpkg", f"SAMPLES is 'train_points.gpkg'; it must be a whole number of at least 1. "
                                   f"{SAMPLES.meant}"),
    (SAMPLES, "1.2.3", "SAMPLES is '1.2.3'; it must be a whole number of at least 1."),  # a number, not a file
    (JOBS["classify"].parameter("TILE_SIZE"), ("64",), "TILE_SIZE takes one value, not a list (['64']); give the "
                                                       "value itself."),
    (JOBS["pretrain"].parameter("PRESET"), "Small", "PRESET is 'Small'; write it 'small' (one of: paper, small, "
                                                    "tiny)."),
    (JOBS["classify"].parameter("PRECISION"), " FP32", "PRECISION is ' FP32'; write it 'fp32' (one of: auto, fp32, "
                                                       "bf16)."),
    (JOBS["pretrain"].parameter("PRESET"), "smal", "PRESET is 'smal'; use one of: paper, small, tiny."),
], ids=lambda v: str(v)[:24])
def test_a_refused_value_is_said_as_it_was_given(parameter, value, message):
    with pytest.raises(InputError) as raised:
        spec.read(parameter, value)
    assert str(raised.value) == message


@pytest.mark.parametrize("job, name, value, expected", [
    ("pretrain", "EPOCHS", "1000.000", 1000),  # not a thousands point: four digits before it
    ("pretrain", "EPOCHS", 1, 1), ("demoscene", "SIZE", 48, 48), ("demoscene", "SIZE", 1024, 1024),
    ("pretrain", "SPECTRAL_RATIO", 0.01, 0.01), ("pretrain", "SPECTRAL_RATIO", "0.99", 0.99),
    ("finetune", "VALIDATION_FRACTION", 0, 0.0), ("suggest", "MIN_DISTANCE", "0", 0.0),
    ("finetune", "CLASS_WEIGHTING", "1", True), ("finetune", "CLASS_WEIGHTING", " No ", False),
    ("finetune", "CLASS_WEIGHTING", "TRUE", True), ("finetune", "CLASS_WEIGHTING", "0", False),
    ("classify", "DEVICE", "cuda:10", "cuda:10"),
])
def test_a_value_at_a_bound_or_written_otherwise_is_taken(job, name, value, expected):
    read = spec.read(JOBS[job].parameter(name), value)
    assert read == expected and type(read) is type(expected)


@pytest.mark.parametrize("job, name, said", [
    ("classify", "BATCH_SIZE", "leave BATCH_SIZE out to have it chosen from the model's size and band count."),
    ("classify", "TILE_SIZE", "leave TILE_SIZE out for the default, 256."),
    ("classify", "OUTPUT_CONFIDENCE", "leave OUTPUT_CONFIDENCE out for none.")])
def test_an_empty_value_is_told_what_leaving_it_out_gives(job, name, said):
    """The audit's own finding: an empty BATCH_SIZE was told to be left out 'for none', where the job then
    chooses one."""
    assert spec.empty_value_problem(JOBS[job].parameter(name), name) == f"{name} is empty; give a value, or {said}"


def test_an_output_left_empty_is_left_to_processing_unless_one_is_required():
    output = JOBS["classify"].parameter("OUTPUT")
    assert spec.problem(output, "") is None
    assert spec.problem(output, "", destinations_required=True) == (
        "OUTPUT (Land-cover map) has no value; give the file to write (--OUTPUT=file).")


def test_a_bound_of_its_own_is_named_and_a_number_s_bounds_are_noted_unless_its_help_writes_both():
    assert spec.bounds_text(spec.Parameter("X", "X", spec.INTEGER, "", maximum=5)) == "a whole number of at most 5"
    assert JOBS["finetune"].parameter("ENCODER_LR_FACTOR").command_line_note() == (
        " Default 1.0; a number from 0.01 to 1.")  # its help writes 1, not 0.01
    assert JOBS["suggest"].parameter("MIN_DISTANCE").command_line_note() == " Default 10.0; a number from 0 to 100000."


@pytest.mark.parametrize("name, said", [("OUT", " (did you mean OUTPUT?)"), ("SIZ", ""),
                                        ("TILES", " (did you mean TILE_SIZE?)"),
                                        ("output", " (did you mean OUTPUT?)")])  # was OUTPUT_CONFIDENCE (the audit's)
def test_a_short_or_far_name_is_offered_the_closest_name_only(name, said):
    assert spec.meant_text(name, [p.name for p in JOBS["classify"].parameters]) == said


def test_a_name_known_but_for_its_case_is_unknown():
    """QGIS's processing.run passes a parameter it does not know on unused: tile_size=64 ran with 256."""
    known = [p.name for p in JOBS["classify"].parameters]
    assert spec.unknown_parameter_problem(["tile_size"], known, "mrs:classify") == (
        "tile_size: mrs:classify has no parameter of that name (did you mean TILE_SIZE?); 'qgis_process help "
        "mrs:classify' lists its parameters.")


def test_the_tooltip_is_the_first_sentence_to_its_colon_or_bracket_and_the_help_lists_every_result():
    assert JOBS["suggest"].summary() == "Suggests the pixels worth labelling next."
    assert JOBS["classify"].summary() == (
        "Makes a land-cover map with a classifier model from 'Train classifier (fine-tune)'.")
    long = spec.Job("x", "X", "analysis", "Words " * 20 + "(in brackets) end.", ())
    assert long.summary() == ("Words " * 20).rstrip() + "."
    assert list(JOBS["suggest"].output_lines()) == [("OUTPUT", "Suggested points"),
                                                    ("COUNT", "Number of points written")]
