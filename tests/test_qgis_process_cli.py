"""The plugin as analysts script it: QGIS' qgis_process, through bin/qgis_process.

These tests need the isolated profile with the plugin enabled (`make env`).
"""

import os
import subprocess
from pathlib import Path

import pytest

from mrs.algorithms import ALGORITHMS

ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = ROOT / "bin" / "qgis_process"


def qgis_process(*arguments: str, env: dict = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(QGIS_PROCESS), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def listing(tmp_path_factory):
    """`list` output, run with an empty home folder to see what it writes there
    (QGIS puts its default profile in ~/.local/share/QGIS)."""
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_DATA_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    return qgis_process("list", env=env), home


def test_list_shows_the_mrs_algorithms(listing):
    result, _ = listing
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert "MRS land cover (SS-MAE)" in lines, "Is the plugin enabled in .qgis-profile? Run make env."
    for algorithm in ALGORITHMS:
        assert f"\tmrs:{algorithm.ALGORITHM_ID}\t{algorithm.DISPLAY_NAME}" in lines


def test_qgis_process_writes_nothing_in_the_users_home(listing):
    _, home = listing
    assert list(home.iterdir()) == []
    assert (ROOT / ".qgis-profile" / "profiles" / "default" / "QGIS" / "QGIS3.ini").is_file()


def test_a_profile_folder_of_its_own_gets_the_plugin_enabled_on_its_first_run(tmp_path):
    """Red team of 2026-12-04: MRS_QGIS_CONFIG, which the wrapper's header offers, pointing at a new
    folder gave 'Algorithm mrs:classify not found!' (the plugin linked there, not enabled)."""
    environment = {**os.environ, "MRS_QGIS_CONFIG": str(tmp_path / "profile")}
    result = qgis_process("help", "mrs:classify", env=environment)
    assert result.returncode == 0, result.stderr
    assert "Classify (mrs:classify)" in result.stdout
    settings = tmp_path / "profile" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    assert "mrs=true" in settings.read_text().splitlines()


def test_a_run_that_finds_the_plugin_enabled_by_a_run_started_with_it_goes_on(tmp_path):
    """Red team of 2026-12-05: of four runs started together on a new profile, two stopped: each
    enabled the plugin, and qgis_process answers a second enabling with 'Plugin is already enabled!'
    and a failure. Here the program does just that, as another run would have enabled it first."""
    program = tmp_path / "qgis_process"
    program.write_text('#!/bin/sh\nif [ "$1" = plugins ]; then\n'
                       '  mkdir -p "$QGIS_CUSTOM_CONFIG_PATH/profiles/default/QGIS"\n'
                       '  echo mrs=true >> "$QGIS_CUSTOM_CONFIG_PATH/profiles/default/QGIS/QGIS3.ini"\n'
                       '  echo "Plugin is already enabled!"; exit 1\nfi\necho "ran $*"\n')
    program.chmod(0o755)
    environment = {**os.environ, "MRS_QGIS_CONFIG": str(tmp_path / "profile"), "MRS_QGIS_PROCESS": str(program)}
    result = qgis_process("help", "mrs:classify", env=environment)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran help mrs:classify\n", "")


def test_the_workflow_s_help_says_how_to_write_its_choices_and_its_layers():
    """As the single algorithms' help says it, in the same words (red team of 2026-12-04: PRESET=1 was
    refused; of 2026-12-05: INPUT_AUX said nothing of repeating the argument, PRESET=small lacked its --)."""
    result = qgis_process("help", "mrs:workflow")
    assert result.returncode == 0, result.stderr
    assert ("One of: paper, small, tiny; default small. On the command line, type the name (--PRESET=small), not "
            "the number qgis_process lists.\n") in result.stdout
    assert result.stdout.count("not the number qgis_process lists") == result.stdout.count("Argument type:\tenum")
    assert ("as it was trained on. On the command line, repeat the argument: --INPUT_AUX=sar.tif "
            "--INPUT_AUX=dsm.tif.\n") in result.stdout
    assert "<p>" not in result.stdout and "Its file, for Processing > Graphical Modeler > Open Model" in result.stdout
    # a number's default and bounds, which qgis_process 3.22 does not print (a helper's review of 2026-12-06)
    assert "\tPasses over all pretraining samples. Default 60; a whole number of at least 1.\n" in result.stdout
    assert result.stdout.count("; a whole number of at least ") == result.stdout.count("Argument type:\tnumber")


@pytest.mark.parametrize("algorithm_class", ALGORITHMS, ids=lambda c: c.ALGORITHM_ID)
def test_help_prints_each_parameters_help(algorithm_class):
    algorithm = algorithm_class()
    algorithm.initAlgorithm()
    result = qgis_process("help", f"mrs:{algorithm.name()}")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"{algorithm.displayName()} (mrs:{algorithm.name()})" in text
    assert algorithm.DESCRIPTION.splitlines()[0] in text
    for parameter in algorithm.parameterDefinitions():
        # qgis_process adds how to write a value where that is not obvious; the dialogs do not.
        help_text = algorithm.JOB.parameter(parameter.name()).full_help(command_line=True)
        assert help_text.startswith(parameter.help())
        assert f"\n{parameter.name()}: {parameter.description()}\n\t{help_text}\n" in text
    assert "On the command line" not in algorithm.shortHelpString()
    for output in algorithm.outputDefinitions():
        assert f"\n{output.name()}: <" in text


def test_other_providers_algorithms_read_the_aux_xml_files_beside_their_inputs(tmp_path):
    """A helper's red team of 2026-12-05: with the plugin enabled, qgis_process ran every algorithm
    of every provider with GDAL's .aux.xml files off, so a PNG georeferenced by its .aux.xml lost
    its CRS and place in native:rasterlayerproperties, and native:roundrastervalues wrote it at 0, 0
    without a CRS. They are off for this plugin's own algorithms only."""
    import numpy as np
    from osgeo import gdal
    from rasters import write_raster

    tif = write_raster(tmp_path / "labels.tif", np.ones((1, 4, 5), np.uint8))
    gdal.Translate(str(tmp_path / "labels.png"), tif, format="PNG")
    assert (tmp_path / "labels.png.aux.xml").exists()
    result = qgis_process("run", "native:rasterlayerproperties", "--", f"INPUT={tmp_path / 'labels.png'}")
    assert result.returncode == 0, result.stderr
    assert "CRS_AUTHID:\tEPSG:32632" in result.stdout
