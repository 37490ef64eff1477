"""bin/mrs's command line and terminal report: what a mutation audit of `cli` and `terminal` (2026-12-06)
found no test pinned: the command line's forms and refusals, the help's lines, the checks before a run, and the
progress bar's and time left's edges. In-process (but one short Python) and without a scene."""

import errno
import io
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from mrs.model_core import __version__
from mrs.model_core.errors import InputError, MrsError
from mrs.mrs_qgis_plugin import cli, parameters, terminal
from mrs.mrs_qgis_plugin.cli import UsageError, job_help, main, main_help, parse_arguments
from mrs.mrs_qgis_plugin.job_parameters import JOBS
from mrs.mrs_qgis_plugin.terminal import TerminalReport, time_left
from rasters import write_raster, write_vector
from test_cli import Clock

BAR = "[###############...............]  50 %"


class Terminal(io.StringIO):
    """Standard error as a terminal shows it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def sigint_kept():
    """`main` and `cancel_on_interrupt` take Ctrl-C: given back to the suite's handler afterwards."""
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


# The command line -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments, given", [
    (["--EPOCHS", "3", "--SEED", "4"], {"EPOCHS": "3", "SEED": "4"}),
    (["--INPUT_AUX=a.tif", "--INPUT_AUX", "b.tif"], {"INPUT_AUX": ["a.tif", "b.tif"]}),
    # none of them exists: left to the job, which says the file does not exist
    (["--INPUT_AUX=nowhere.tif,nothere.tif"], {"INPUT_AUX": ["nowhere.tif,nothere.tif"]}),
])
def test_values_after_a_space_and_repeated_raster_lists_are_read(monkeypatch, tmp_path, arguments, given):
    monkeypatch.chdir(tmp_path)
    assert parse_arguments(JOBS["pretrain"], arguments) == given


def test_a_file_whose_name_holds_a_comma_is_one_file(tmp_path):
    (tmp_path / "a").write_bytes(b"")  # the text before the comma names a file too
    (tmp_path / "a,b.tif").write_bytes(b"")
    named = f"{tmp_path}/a,b.tif"
    assert parse_arguments(JOBS["pretrain"], [f"--INPUT_AUX={named}"]) == {"INPUT_AUX": [named]}


@pytest.mark.parametrize("arguments, message", [
    (["-EPOCHS=3"], "'-EPOCHS=3' is not a parameter; give each one as --NAME=value (see bin/mrs pretrain --help)."),
    (["--EPOCHS", "--SEED=1"], "--EPOCHS has no value; write --EPOCHS=value."),
    (["--EPOCHS=3", "--EPOCHS=4"], "--EPOCHS is given twice; give it once."),
    (["--INPUT_AUX={a},{a}x,{a}y"], "--INPUT_AUX={a},{a}x,{a}y names several files in one value; give each as a "
                                    "--INPUT_AUX of its own (--INPUT_AUX={a} --INPUT_AUX={a}x); {a}x and {a}y do not "
                                    "exist."),
])
def test_a_single_dash_a_missing_value_a_repeated_one_and_missing_files_in_a_list_are_said(tmp_path, arguments,
                                                                                          message):
    a = tmp_path / "a.tif"
    a.write_bytes(b"")
    with pytest.raises(UsageError) as refused:
        parse_arguments(JOBS["pretrain"], [argument.format(a=a) for argument in arguments])
    assert str(refused.value) == message.format(a=a)


@pytest.mark.parametrize("arguments, code, out, err", [
    (["-h"], 0, main_help() + "\n", ""),
    (["--help", "nojob"], 0, main_help() + "\n", ""),
    (["classify", "-h"], 0, job_help(JOBS["classify"]) + "\n", ""),
    # was 'classify has no parameter version (did you mean PRECISION?)' (the audit's own finding)
    (["classify", "--OUTPUT=m.tif", "--version"], 0, f"bin/mrs {__version__} (the MRS plugin's jobs)\n", ""),
    (["run", "classify"], 2, "", "bin/mrs: 'run' is not a job; use one of: pretrain, finetune, suggest, classify, "
                                 "accuracy, redundancy, demoscene (bin/mrs --help).\n"),
])
def test_dash_h_help_naming_no_job_and_a_word_that_is_no_job_before_one(arguments, code, out, err):
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main(arguments, stdout, stderr) == code
    assert (stdout.getvalue(), stderr.getvalue()) == (out, err)


def test_help_nobody_reads_any_more_is_no_failure():
    class GoneReader(io.StringIO):
        def write(self, _text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    err = io.StringIO()
    assert main(["--help"], GoneReader(), err) == 0
    assert err.getvalue() == ""


# Help -----------------------------------------------------------------------------------------------------------------


def test_a_job_s_help_starts_with_its_usage_and_name_and_shows_choices_and_defaults_as_typed():
    lines = job_help(JOBS["pretrain"]).splitlines()
    assert lines[:3] == ["usage: bin/mrs pretrain --NAME=value ...", "", "Pretrain SS-MAE (MRS) (mrs:pretrain in QGIS)"]
    assert lines[-1] == "Results are printed as NAME:<tab>value lines; log and progress go to standard error."
    assert "  --PRESET=paper|small|tiny  (default small)" in lines
    assert "  --NORMALIZED_TARGETS=true|false  (default true, advanced)" in lines


def test_the_main_help_lists_the_jobs_under_the_toolbox_s_groups_with_their_descriptions():
    text = main_help()
    for group, title in parameters.GROUPS.items():
        jobs = [job for job in JOBS.values() if job.group == group]
        description = jobs[0].description.splitlines()[0]
        assert f"\n\n{title}\n  {jobs[0].name:<12}{jobs[0].display_name}\n              {description}\n" in text + "\n"


# Before the run -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job, given, message", [
    ("demoscene", {}, "OUTPUT (Scene folder) has no value; give the folder to write (--OUTPUT=folder)."),
    ("pretrain", {"INPUT_HSI": "/x/hsi.tif", "INPUT_AUX": ["/x/lidar.tif"]},
     "OUTPUT (Pretrained model) has no value; give the file to write (--OUTPUT=file)."),
])
def test_an_output_left_out_is_asked_for_before_the_run(job, given, message):
    with pytest.raises(InputError) as refused:
        cli.job_values(JOBS[job], given)
    assert str(refused.value) == message


def test_results_without_a_value_are_not_printed():
    """classify without OUTPUT_CONFIDENCE returns it as None: 'OUTPUT_CONFIDENCE:<tab>None' named no file."""
    out = io.StringIO()
    cli._print_results({"OUTPUT": "/x/map.tif", "OUTPUT_CONFIDENCE": None}, out)
    assert out.getvalue() == "OUTPUT:\t/x/map.tif\n"


@pytest.mark.parametrize("job, given, message", [
    ("classify", {"MODEL": "{f}.safetensors", "OUTPUT": "{f}.safetensors"},
     "OUTPUT: {f}.safetensors is the input MODEL ({f}.safetensors); writing it would destroy that input."),
    ("suggest", {"MASK": "{f}.gpkg", "OUTPUT": "{f}.gpkg"},
     "OUTPUT: {f}.gpkg is the input MASK ({f}.gpkg); writing it would destroy that input."),
    # every raster of INPUT_AUX and the list file of MORE_SCENES (a helper's second audit of 2026-12-07)
    ("classify", {"INPUT_AUX": ["{f}.tif", "{f}.safetensors"], "OUTPUT": "{f}.safetensors"},
     "OUTPUT: {f}.safetensors is the input INPUT_AUX ({f}.safetensors); writing it would destroy that input."),
    ("pretrain", {"MORE_SCENES": "{f}.safetensors", "OUTPUT": "{f}.safetensors"},
     "OUTPUT: {f}.safetensors is the input MORE_SCENES ({f}.safetensors); writing it would destroy that input."),
])
def test_an_output_over_a_model_file_or_a_vector_input_is_refused_before_the_run(tmp_path, job, given, message):
    f = tmp_path / "input"
    for name in ("input.safetensors", "input.gpkg", "input.tif"):
        (tmp_path / name).write_bytes(b"")
    formatted = {name: [item.format(f=f) for item in value] if isinstance(value, list) else value.format(f=f)
                 for name, value in given.items()}
    with pytest.raises(InputError) as refused:
        cli._refuse_outputs_over_inputs(JOBS[job], formatted)
    assert str(refused.value).startswith(message.format(f=f))


@pytest.mark.parametrize("given, refused", [
    ({"INPUT_HSI": "hsi.tif", "INPUT_AUX": ["lidar.tif", "sär.tif"]}, "INPUT_AUX"),
    ({"INPUT_HSI": "hsi.tif", "INPUT_AUX": ["lidar.tif"], "CLASS_FIELD": "clé"}, None),
])
def test_non_ascii_files_in_a_list_are_refused_under_a_latin_1_locale_and_field_names_are_not(monkeypatch, given,
                                                                                                refused):
    monkeypatch.setattr(cli.sys, "getfilesystemencoding", lambda: "latin-1")
    if refused is None:
        cli._refuse_file_names_gdal_reads_otherwise(JOBS["finetune"], given)
        return
    with pytest.raises(MrsError, match=rf"^{refused}: this process reads file names as iso8859-1 \(its locale\), "
                                       "but GDAL reads them as UTF-8, so sär.tif would name another file"):
        cli._refuse_file_names_gdal_reads_otherwise(JOBS["finetune"], given)


@pytest.mark.parametrize("proj_data, reason, said", [
    (None, "PROJ: proj_create_from_database: Cannot find proj.db",
     "(PROJ: proj_create_from_database: Cannot find proj.db): set PROJ_DATA to the folder holding the proj.db of "
     "this GDAL's PROJ, and run again."),
    # the third audit of 2026-12-07: GDAL's reason cut to its first line, the PROJ variables set named with values
    ("/elsewhere/proj", "PROJ: cannot find proj.db\nsecond line of it",
     "(PROJ: cannot find proj.db; PROJ_DATA=/elsewhere/proj): unset PROJ_DATA and PROJ_LIB, or set them to the folder "
     "holding the proj.db of this GDAL's PROJ, and run again.")])
def test_a_proj_without_its_database_is_told_what_to_set(monkeypatch, proj_data, reason, said):
    from osgeo import gdal, osr

    class Unknown:
        def ImportFromEPSG(self, _code):
            return 6

    if proj_data:
        monkeypatch.setenv("PROJ_DATA", proj_data)
    else:
        monkeypatch.delenv("PROJ_DATA", raising=False)
    monkeypatch.delenv("PROJ_LIB", raising=False)
    monkeypatch.setattr(osr, "SpatialReference", Unknown)
    monkeypatch.setattr(gdal, "GetLastErrorMsg", lambda: reason)
    with pytest.raises(InputError) as refused:
        cli._refuse_a_proj_without_its_database()
    assert str(refused.value) == f"GDAL's PROJ cannot read its database of coordinate reference systems {said}"


def test_gdal_s_bindings_not_installed_are_said_with_how_to_install_them(monkeypatch):
    from mrs.mrs_qgis_plugin import dependencies

    monkeypatch.setattr(dependencies, "import_problem", lambda module: "not installed" if module == "osgeo" else None)
    assert cli._missing_packages(JOBS["demoscene"], {}) == (
        "bin/mrs demoscene needs GDAL's Python bindings (on Debian or Ubuntu: apt install python3-gdal, then a virtual "
        f"environment made with --system-site-packages) in the Python that runs it ({cli.sys.executable}).")


def test_a_refusal_after_the_bar_starts_on_a_line_of_its_own(monkeypatch, sigint_kept):
    monkeypatch.setenv("COLUMNS", "120")

    def refused(_job, _given, report, _out):
        report.progress(0.5)
        raise InputError("No pixel has valid values.")

    monkeypatch.setattr(cli, "run_job", refused)
    err = Terminal()
    assert main(["demoscene", "--OUTPUT=/nonexistent/scene"], io.StringIO(), err) == 1
    assert err.getvalue().startswith(f"\r{BAR}")
    assert err.getvalue().endswith("\x1b[K\nNo pixel has valid values.\n")


# EXTENT given as a layer ----------------------------------------------------------------------------------------------


@pytest.fixture
def hsi(tmp_path):
    """A hyperspectral raster over x 661010..661016, y 5100985..5100990 in EPSG:32632."""
    return str(write_raster(tmp_path / "hsi.tif", np.ones((1, 5, 6), np.float32), (661010, 1.0, 0, 5100990, 0, -1.0)))


AREA = "POLYGON((661010 5100960,661030 5100960,661030 5100990,661010 5100960))"


@pytest.mark.parametrize("features, crs", [
    # a GeoPackage records features without a CRS as 'Undefined geographic SRS': no longitude and latitude
    ([AREA], None),
    (["POLYGON EMPTY", AREA], "EPSG:32632"),  # an empty geometry's envelope is 0, 0, 0, 0
])
def test_an_extent_layer_s_bounds_are_those_of_its_geometries_in_the_hyperspectral_crs(tmp_path, hsi, features, crs):
    area = write_vector(tmp_path / "area.gpkg", [(feature, {}) for feature in features], {}, crs=crs)
    assert cli.extent_of(str(area), hsi) == (661010, 5100960, 661030, 5100990)


def test_an_extent_layer_of_a_line_along_an_axis_spans_no_area(tmp_path, hsi):
    line = write_vector(tmp_path / "line.gpkg", [("LINESTRING(661010 5100960,661030 5100960)", {})], {})
    with pytest.raises(InputError) as refused:
        cli.extent_of(str(line), hsi)
    assert str(refused.value) == (f"EXTENT: the features of the layer 'line' ({line}) span no area (x 661010..661030, "
                                  "y 5100960..5100960); give a layer of an area, or xmin,xmax,ymin,ymax.")


def test_an_extent_given_as_a_raster_with_a_vector_layer_s_options_is_told_to_be_given_by_its_file(tmp_path, hsi):
    """The audit's own finding: 'lidar.tif|layername=lidar' was 'a raster, not a vector layer', where a raster's
    file is an EXTENT taken."""
    with pytest.raises(InputError) as refused:
        cli.extent_of(f"{hsi}|layername=hsi", hsi)
    assert str(refused.value) == (f"EXTENT: '{hsi}|layername=hsi' names a layer as a vector file's layers are named "
                                  "('|layername=hsi'); a raster is given by its file alone (one of a GeoPackage as "
                                  "GPKG:file.gpkg:table). Choose a raster file, a vector layer, or "
                                  "xmin,xmax,ymin,ymax.")


# The terminal ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rank, local_rank, first", [("1", "", True), ("1", "1", False), (" 0 ", "1", True)])
def test_the_first_process_of_a_machine_is_rank_0_or_one_without_a_local_rank(monkeypatch, rank, local_rank, first):
    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("LOCAL_RANK", local_rank)
    assert terminal.is_first_on_its_machine() == first


@pytest.mark.parametrize("fraction, elapsed, left", [(0.5, 1.0, 1.0), (0.5, 0.99, None), (0.01, 10.0, 990.0),
                                                     (0.0099, 10.0, None), (0.25, 10.0, 30.0)])
def test_the_time_left_is_told_from_one_second_and_one_percent_on(fraction, elapsed, left):
    assert time_left(fraction, elapsed) == pytest.approx(left)


def test_a_stream_nobody_reads_is_pointed_at_the_null_device():
    reading, writing = os.pipe()
    os.close(reading)
    stream = os.fdopen(writing, "w")
    assert isinstance(terminal.write_error(stream, "a line\n"), BrokenPipeError)
    assert os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))
    stream.close()


def test_lines_and_a_status_before_any_progress_draw_no_bar():
    stream = io.StringIO()
    report = TerminalReport(stream, interactive=True, clock=Clock(), enabled=True)
    report.log("Device: cpu")
    report.status("Pretraining epoch 1/2")
    assert stream.getvalue() == "Device: cpu\n"


def test_the_bar_is_redrawn_five_times_a_second_and_always_at_the_end(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    stream, clock = io.StringIO(), Clock()
    report = TerminalReport(stream, interactive=True, clock=clock, enabled=True)
    report.progress(0.5)
    clock.now += 0.1
    report.progress(0.6)
    assert stream.getvalue() == f"\r{BAR}\x1b[K"
    clock.now = 100.2  # a fifth of a second after the last drawing (the Clock's 100.0): drawn again
    report.progress(0.6)
    assert stream.getvalue() == f"\r{BAR}\x1b[K\r[##################............]  60 %\x1b[K"
    clock.now += 0.05
    report.progress(1.0)
    assert stream.getvalue().endswith("\r[##############################] 100 %\x1b[K")


@pytest.mark.parametrize("interactive, shown", [(False, "Progress: 100 % (0 s so far).\n"),
                                                 (True, "\r[##############################] 100 %\x1b[K")])
def test_a_fraction_beyond_the_end_is_shown_as_the_end(monkeypatch, interactive, shown):
    monkeypatch.setenv("COLUMNS", "120")
    stream = io.StringIO()
    TerminalReport(stream, interactive=interactive, clock=Clock(), enabled=True).progress(1.5)
    assert stream.getvalue() == shown


@pytest.mark.parametrize("columns, shown", [(49, "[#######.......................]  25 %, 3 s left"),
                                            (48, "[#######.......................]  25 %")])
def test_a_bar_exactly_as_wide_as_the_terminal_less_one_column_fits(monkeypatch, columns, shown):
    monkeypatch.setattr(terminal.shutil, "get_terminal_size", lambda: os.terminal_size((columns, 24)))
    times = iter([0.0, 1.0, 1.0])
    report = TerminalReport(io.StringIO(), interactive=True, clock=lambda: next(times), enabled=True)
    report.fraction = 0.25
    assert report._bar() == f"\r{shown}\x1b[K"


def run_ignoring_interrupts(code: str) -> subprocess.CompletedProcess:
    """Python running `code` in a process started with SIGINT and SIGHUP ignored (`&` in a script, nohup)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, stdin=subprocess.DEVNULL,
                          preexec_fn=lambda: [signal.signal(number, signal.SIG_IGN)
                                              for number in (signal.SIGINT, signal.SIGHUP)])


@pytest.mark.parametrize("name", ["SIGINT", "SIGHUP"])
def test_a_signal_ignored_when_the_run_started_stays_ignored_after_its_results(name):
    """A script's `bin/mrs ... &` ignores Ctrl-C, nohup SIGHUP: neither ends the process once the run is over."""
    done = run_ignoring_interrupts(
        "import os, signal; from mrs.mrs_qgis_plugin.terminal import end_at_once_on_signals; "
        f"end_at_once_on_signals(0); os.kill(os.getpid(), signal.{name}); print('went on'); raise SystemExit(7)")
    assert (done.returncode, done.stdout, done.stderr) == (7, "went on\n", "")


def test_the_first_ctrl_c_says_how_the_run_stops_and_how_to_stop_it_at_once(sigint_kept):
    stream = io.StringIO()
    report = TerminalReport(stream, interactive=False, enabled=True)
    report.cancel_on_interrupt()
    signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
    assert report.hooks().is_canceled()
    assert stream.getvalue() == "Ctrl-C: stopping as on Cancel (Ctrl-C again to stop at once).\n"


def test_ctrl_c_in_the_set_up_cancels_the_run_before_torch_starts(monkeypatch, tmp_path, sigint_kept):
    """A Ctrl-C while bin/mrs checks its packages and values stops the run before the device is chosen."""
    from osgeo import gdal

    monkeypatch.setattr(gdal, "DontUseExceptions", lambda: None)  # the suite's GDAL left as it is
    monkeypatch.setattr(cli, "_missing_packages",
                        lambda _job, _given: signal.getsignal(signal.SIGINT)(signal.SIGINT, None))
    for name, bands in (("hsi", 4), ("lidar", 1)):
        write_raster(tmp_path / f"{name}.tif", np.ones((bands, 5, 6), np.float32), (661010, 1.0, 0, 5100990, 0, -1.0))
    err = io.StringIO()
    assert main(["classify", f"--MODEL={tmp_path / 'model.safetensors'}", f"--INPUT_HSI={tmp_path / 'hsi.tif'}",
                 f"--INPUT_AUX={tmp_path / 'lidar.tif'}", f"--OUTPUT={tmp_path / 'map.tif'}", "--DEVICE=cpu"],
                io.StringIO(), err) == 130
    assert err.getvalue() == "Ctrl-C: stopping as on Cancel (Ctrl-C again to stop at once).\nCanceled by the user.\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hsi.tif", "lidar.tif"]


@pytest.mark.parametrize("columns, status", [(None, ""), ("120", "  Fine-tuning epoch 2/10, about 8 s left")])
def test_the_bar_fits_the_terminal_it_is_drawn_on_where_the_results_go_elsewhere(monkeypatch, columns, status):
    """The audit's own finding: the bar, drawn on standard error, was as wide as standard output's terminal,
    80 columns where the results went to a file, and wrapped on a terminal of 50. COLUMNS set in the environment
    outweighs the terminal's size (a second audit of 2026-12-07)."""
    import fcntl
    import pty
    import struct
    import termios

    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(terminal.shutil, "get_terminal_size", lambda: os.terminal_size((80, 24)))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
    with os.fdopen(follower, "w") as stream:
        report = TerminalReport(stream, clock=Clock(), enabled=True)
        report.fraction, report.status_text = 0.25, "Fine-tuning epoch 2/10, about 8 s left"
        shown = report._bar()
    os.close(leader)
    assert report.interactive and shown == f"\r[#######.......................]  25 %{status}\x1b[K"


def test_the_finished_bar_tells_no_time_left(monkeypatch):
    """The audit's own finding: on a terminal the finished bar read '100 %, 0 s left', where the lines off a
    terminal tell no estimate at 100 %."""
    monkeypatch.setenv("COLUMNS", "120")
    stream, clock = io.StringIO(), Clock()
    report = TerminalReport(stream, interactive=True, clock=clock, enabled=True)
    clock.now += 10
    report.progress(0.5)
    clock.now += 10
    report.progress(1.0)
    assert stream.getvalue() == ("\r[###############...............]  50 %, 10 s left\x1b[K"
                                 "\r[##############################] 100 %\x1b[K")


@pytest.mark.parametrize("fraction, shown", [(0.997, "100 %"), (0.994, " 99 %, 0 s left")])
def test_a_bar_shown_at_100_percent_tells_no_time_left(monkeypatch, fraction, shown):
    """The review of the mend: at 99.7 % the bar read '100 %, 0 s left'."""
    monkeypatch.setenv("COLUMNS", "120")
    clock = Clock()
    report = TerminalReport(io.StringIO(), interactive=True, clock=clock, enabled=True)
    clock.now += 20
    report.fraction = fraction
    assert report._bar().endswith(f"] {shown}\x1b[K")


def test_a_terminal_that_told_no_size_yet_is_taken_as_80_columns(monkeypatch):
    """The review of the mend: a terminal of 0 columns (docker -t before its first resize) cut the bar to its
    first 0 columns."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(terminal.os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))
    monkeypatch.setattr(terminal.shutil, "get_terminal_size", lambda: os.terminal_size((80, 24)))
    class Sized(Terminal):
        def fileno(self) -> int:
            return 2

    assert TerminalReport(Sized(), clock=Clock(), enabled=True)._columns() == 80


@pytest.mark.parametrize("current, set_to", [("tr_TR.UTF-8", ["C.UTF-8"]), ("az_AZ", ["C.UTF-8"]),
                                             ("tr_TR.ISO-8859-9", ["C.UTF-8"]), ("de_DE.UTF-8", []), ("C", []),
                                             # without its territory (a helper's second audit of 2026-12-07)
                                             ("tr.UTF-8", ["C.UTF-8"]), ("az.ISO-8859-9", ["C.UTF-8"])])
def test_bin_mrs_takes_plain_character_types_under_a_dotted_i_locale(monkeypatch, current, set_to):
    """A helper's red team of 2026-12-07: under tr_TR, GDAL's GeoPackage driver said 'ERROR 1: Cannot find table
    train_points' on runs that succeeded; other locales are left as they are."""
    import locale

    from mrs.mrs_qgis_plugin import cli

    calls = []

    def setlocale(category, value=None):
        assert category == locale.LC_CTYPE
        if value is None:
            return current
        calls.append(value)
        return value

    monkeypatch.setattr(locale, "setlocale", setlocale)
    cli._plain_character_types()
    assert calls == set_to
