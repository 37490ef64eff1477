"""bin/mrs's command line (cli.py): what a third mutation audit (2026-12-07) found no test pinned: EXTENT's refusal of
text that is no extent, one with a CRS beside a raster without one, and its reprojection said in the log; a layer's
name and options; results of 0; the help's value hints; a second Ctrl-C after the bar; values that start with a minus;
TEMPORARY_OUTPUT with spaces; PROJ's first line; a relative output over an input. In-process; each test fails on a
small plausible bug the suite let pass."""

import io

import numpy as np
import pytest
from rasters import write_raster, write_vector
from test_cli_audit import Terminal, sigint_kept  # noqa: F401 (the fixture)
from test_cli_audit2 import GEOTRANSFORM, hsi  # noqa: F401 (the fixture)

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin import cli
from mrs.mrs_qgis_plugin.cli import UsageError, main, parse_arguments
from mrs.mrs_qgis_plugin.job_parameters import JOBS


# EXTENT ---------------------------------------------------------------------------------------------------------------


def test_an_extent_with_a_crs_beside_a_hyperspectral_raster_without_one_is_taken_as_written(tmp_path):
    """Nothing to reproject into: the numbers are the raster's coordinates, and nothing is said."""
    plain = write_raster(tmp_path / "plain.tif", np.ones((1, 5, 6), np.float32), GEOTRANSFORM, crs=None)
    said = []
    assert cli.extent_of("8.5,9.5,46,47 [EPSG:4326]", plain, said.append) == (8.5, 46, 9.5, 47)
    assert said == []


@pytest.mark.parametrize("text", ["a,b", "661010;661016;5100985;5100990", "661010,661016,5100985"])
def test_an_extent_that_is_neither_numbers_nor_a_file_is_told_its_three_forms(hsi, text):
    """The whole sentence: numbers in INPUT_HSI's CRS, numbers with their CRS after them, or a layer's file."""
    with pytest.raises(InputError) as refused:
        cli.extent_of(text, hsi)
    assert str(refused.value) == (f"EXTENT is '{text}'; write it as xmin,xmax,ymin,ymax in the CRS of INPUT_HSI, or "
                                  "add the CRS of the numbers: xmin,xmax,ymin,ymax [EPSG:32632], or give a layer's "
                                  "file.")


def test_a_raster_given_with_several_layer_options_is_told_of_the_first(hsi):
    """'hsi.tif|layername=hsi|subset=...': the sentence quotes the option that follows the file."""
    with pytest.raises(InputError) as refused:
        cli.raster_input(JOBS["pretrain"], "INPUT_HSI", f'{hsi}|layername=hsi|subset="a" = 1')
    assert str(refused.value) == (f"""INPUT_HSI: '{hsi}|layername=hsi|subset="a" = 1' names a layer as a vector """
                                  "file's layers are named ('|layername=hsi'); a raster is given by its file alone "
                                  "(one of a GeoPackage as GPKG:file.gpkg:table). Choose a raster file.")


def test_a_vector_layer_of_a_geopackage_is_named_by_its_layer_and_a_raster_by_its_file(tmp_path, hsi):
    """'fields.gpkg|layername=samples' is the layer 'samples' (as QGIS's browser shows it) with its source whole."""
    points = write_vector(tmp_path / "fields.gpkg", [("POINT(661011 5100987)", {"class": 1})], {"class": 0})
    samples = next(parameter for parameter in JOBS["finetune"].parameters if parameter.name == "SAMPLES")
    taken = cli.vector_input(JOBS["finetune"], samples, f"{points}|layername=samples")
    assert (taken.path, taken.name) == (f"{points}|layername=samples", "samples")
    raster = cli.raster_input(JOBS["finetune"], "INPUT_HSI", hsi)
    assert (raster.path, raster.name) == (hsi, "hsi")


# The values a job is given --------------------------------------------------------------------------------------------


@pytest.fixture
def scene(tmp_path):
    """A hyperspectral raster, a LiDAR one and a model file, as bin/mrs reads them."""
    names = {}
    for name, bands in (("hsi", 4), ("lidar", 1)):
        names[name] = write_raster(tmp_path / f"{name}.tif", np.ones((bands, 5, 6), np.float32), GEOTRANSFORM)
    (tmp_path / "model.safetensors").write_bytes(b"")
    names["model"] = str(tmp_path / "model.safetensors")
    return names


def test_an_extent_in_another_crs_is_said_in_the_log_as_the_job_s_values_are_read(tmp_path, scene):
    """job_values hands its `say` to the EXTENT: the box it becomes in the hyperspectral CRS is a log line."""
    said = []
    values = cli.job_values(JOBS["classify"], {
        "MODEL": scene["model"], "INPUT_HSI": scene["hsi"], "INPUT_AUX": [scene["lidar"]],
        "OUTPUT": str(tmp_path / "map.tif"), "EXTENT": "8.5,9.5,46,47 [EPSG:4326]"}, said.append)
    assert values["EXTENT"] == pytest.approx(cli.extent_of("8.5,9.5,46,47 [EPSG:4326]", scene["hsi"]), abs=1e-6)
    assert said == ["EXTENT (x 8.5..9.5, y 46..47 in EPSG:4326) is taken into the CRS of the hyperspectral layer 'hsi' "
                    "(EPSG:32632) as the box around it: x 461283.859493..538716.140507, "
                    "y 5094047.492081..5205285.415385."]
    assert values["TILE_SIZE"] == 256 and values["OUTPUT_CONFIDENCE"] is None
    assert [raster.path for raster in values["INPUT_AUX"]] == [scene["lidar"]]


def test_results_of_zero_are_printed_and_those_without_a_value_are_not():
    """An accuracy's kappa of 0.0, a count of 0 and an empty text are results; None alone is none."""
    out = io.StringIO()
    cli._print_results({"KAPPA": 0.0, "COUNT": 0, "NAME": "", "OUTPUT_HTML": None, "OVERALL_ACCURACY": 0.5}, out)
    assert out.getvalue() == "KAPPA:\t0.0\nCOUNT:\t0\nNAME:\t\nOVERALL_ACCURACY:\t0.5\n"


# Help -----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job, line", [
    ("suggest", "  --INPUT_HSI=FILE  (required)"),
    ("suggest", "  --INPUT_AUX=FILE (repeat for more)  (required)"),
    ("suggest", "  --EXTENT=XMIN,XMAX,YMIN,YMAX[ [CRS]]|LAYER_FILE  (optional)"),
    ("suggest", "  --MASK=FILE[|layername=NAME]  (optional)"),
    ("suggest", "  --DEVICE=auto|cpu|cuda|cuda:N  (default auto, advanced)"),
    ("suggest", "  --OUTPUT=FILE.gpkg  (required)"),
    ("suggest", "  --BATCH_SIZE=N  (optional, a whole number of at least 1, advanced)"),
    ("classify", "  --OUTPUT_CONFIDENCE=FILE.tif  (optional)"),
    ("finetune", "  --CLASS_FIELD=FIELD  (optional)"),
    ("pretrain", "  --MORE_SCENES=FILE  (optional)"),
    ("demoscene", "  --OUTPUT=FOLDER  (required)"),
])
def test_each_kind_of_parameter_s_help_line_shows_how_its_value_is_written(job, line):
    """Files, lists of rasters, layers, extents, devices, folders and an optional number without a default."""
    assert line in cli.job_help(JOBS[job]).splitlines()


# How a run ends -------------------------------------------------------------------------------------------------------


def test_a_second_ctrl_c_after_the_bar_is_said_on_a_line_of_its_own(monkeypatch, sigint_kept):
    """The bar's line is ended before 'Stopped at once ...', and the status is a cancel's."""
    monkeypatch.setenv("COLUMNS", "120")

    def interrupted(_job, _given, report, _out):
        report.progress(0.5)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_job", interrupted)
    err = Terminal()
    assert main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), err) == 130
    assert err.getvalue() == ("\r[###############...............]  50 %\x1b[K\n"
                              "Stopped at once by a second Ctrl-C: this run wrote no output and no new checkpoint.\n")


# The command line -----------------------------------------------------------------------------------------------------


def test_a_value_after_a_space_may_start_with_a_minus():
    """--EXTENT -3.5,... (a longitude west of Greenwich) and --SEED -1 are values, not parameters; --SEED's range is
    the job's to check."""
    assert parse_arguments(JOBS["suggest"], ["--EXTENT", "-3.5,-3.4,40,41 [EPSG:4326]", "--SEED", "-1"]) == {
        "EXTENT": "-3.5,-3.4,40,41 [EPSG:4326]", "SEED": "-1"}


def test_parameters_put_before_the_job_are_told_to_follow_the_job_named_after_them():
    """The job need not be the word right after the first parameter: it is named wherever it comes."""
    err = io.StringIO()
    assert main(["--DEVICE=cpu", "--TILE_SIZE=64", "classify"], io.StringIO(), err) == 2
    assert err.getvalue() == ("bin/mrs: '--DEVICE=cpu' comes before the job; name the job first: bin/mrs classify "
                              "--DEVICE=cpu ...\n")


def test_a_relative_output_over_an_input_is_refused_under_its_full_path(monkeypatch, tmp_path, scene):
    """--OUTPUT=hsi.tif in the hyperspectral raster's folder: refused, naming the file the output would replace."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as refused:
        cli._refuse_outputs_over_inputs(JOBS["classify"], {"MODEL": scene["model"], "INPUT_HSI": scene["hsi"],
                                                           "INPUT_AUX": [scene["lidar"]], "OUTPUT": "hsi.tif"})
    assert str(refused.value).startswith(f"OUTPUT: {tmp_path}/hsi.tif is the input INPUT_HSI ({tmp_path}/hsi.tif); "
                                         "writing it would destroy that input.")


def test_qgis_process_s_temporary_output_with_spaces_around_it_is_refused_as_such():
    """' TEMPORARY_OUTPUT ' (a script's quoting) is still QGIS's temporary file, not a file name of spaces."""
    with pytest.raises(UsageError) as refused:
        parse_arguments(JOBS["classify"], ["--OUTPUT_CONFIDENCE", " TEMPORARY_OUTPUT "])
    assert str(refused.value) == ("--OUTPUT_CONFIDENCE=TEMPORARY_OUTPUT is QGIS's temporary file, which bin/mrs does "
                                  "not make; give the file to write, or leave --OUTPUT_CONFIDENCE out for none.")
