"""Runs and bin/mrs's terminal report: what a second mutation audit (2026-12-07) of mrs_qgis_plugin/runs.py and
terminal.py found no test pinned: each job's values handed to its function and its results handed back, the labels
of a raster or a vector, the thread count's and the device's log lines, the advice on memory run out, and the bar's,
the signals' and Ctrl-C's edges. In-process, the job functions replaced by spies, without a scene."""

import io
import os
import signal
import subprocess
import sys

import pytest
import torch

from mrs.model_core.hooks import CANCELLING_SIGNALS, REPEATED_SIGNALS, Hooks
from mrs.model_core.settings import MaskingSettings, TrainSettings
from mrs.mrs_qgis_plugin import analysis, demo_scene, jobs, runs, terminal
from mrs.mrs_qgis_plugin.job_inputs import LabelSource, Layers
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.runs import VectorInput
from mrs.mrs_qgis_plugin.terminal import TerminalReport
from test_cli import Clock
from test_cli_audit import sigint_kept  # noqa: F401 (Ctrl-C given back after a test)

HSI, AUX = RasterInput("/d/hsi.tif", "hsi"), RasterInput("/d/lidar.tif", "lidar")
LAYERS = Layers(HSI, [AUX])
SCENE = {"INPUT_HSI": HSI, "INPUT_AUX": [AUX]}
EXTENT = (1.0, 2.0, 3.0, 4.0)
MASK = VectorInput("/d/mask.gpkg", "mask")
TRAINING = {"EPOCHS": 3, "BATCH_SIZE": 16, "LEARNING_RATE": 0.002, "SEED": 11, "DEVICE": "cpu", "PRECISION": "bf16"}
SETTINGS = TrainSettings(epochs=3, batch_size=16, lr=0.002, seed=11, device="cpu", precision="bf16")
SAMPLES = VectorInput("/d/copy.gpkg", "points", origin="/d/points.shp", taken="its 9 selected features")


class Spy:
    """A job function that records what it was given and returns `result`."""

    def __init__(self, result):
        self.result, self.args, self.kwargs = result, None, None

    def __call__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        return self.result


def spied(monkeypatch, module, name, result):
    spy = Spy(result)
    monkeypatch.setattr(module, name, spy)
    return spy


# Each job's values to its function, its results back ------------------------------------------------------------------


def test_a_pretraining_run_hands_every_value_on_and_its_loss_back(monkeypatch):
    """MASKING, NORMALIZED_TARGETS, the mask, RESUME, MORE_SCENES, EXTENT and the training settings reach the job."""
    hooks = Hooks()
    spy = spied(monkeypatch, jobs, "pretrain_job", {"path": "/o/p.pt", "training": {"final_loss": 0.125}})
    values = {**SCENE, **TRAINING, "PRESET": "tiny", "MASKING": "spectral", "SPECTRAL_RATIO": 0.3, "SPATIAL_RATIO": 0.6,
              "NORMALIZED_TARGETS": False, "SAMPLES": 500, "OUTPUT": "p.pt", "EXTENT": EXTENT, "MASK": MASK,
              "RESUME": "/o/p.pt.ckpt", "MORE_SCENES": "/d/scenes.txt"}
    assert runs.run("pretrain", values, hooks) == {"OUTPUT": "/o/p.pt", "FINAL_LOSS": 0.125}
    assert spy.args == (LAYERS,) and spy.kwargs == {
        "preset": "tiny", "masking": MaskingSettings(strategy="spectral", spectral_ratio=0.3, spatial_ratio=0.6,
                                                     normalized_targets=False),
        "samples": 500, "settings": SETTINGS, "output": "p.pt", "hooks": hooks, "extent": EXTENT,
        "mask_path": "/d/mask.gpkg", "mask_name": "mask", "resume": "/o/p.pt.ckpt", "more_scenes": "/d/scenes.txt"}


def test_a_fine_tuning_run_hands_every_value_on_and_its_figures_back(monkeypatch):
    """PRETRAINED, VALIDATION_FRACTION, ENCODER_LR_FACTOR, CLASS_WEIGHTING, RESUME and the vector's fields reach the
    job; its accuracy, kappa and best epoch come back each under its own name."""
    hooks = Hooks()
    spy = spied(monkeypatch, jobs, "finetune_job", {"path": "/o/c.pt", "training": {
        "val_accuracy": 0.75, "val_kappa": 0.5, "best_epoch": 7}})
    values = {**SCENE, **TRAINING, "SAMPLES": SAMPLES, "CLASS_FIELD": "code", "NAME_FIELD": "label",
              "COLOR_FIELD": "colour", "LABELS": None, "PRETRAINED": "/o/p.pt", "PRESET": "small",
              "VALIDATION_FRACTION": 0.35, "ENCODER_LR_FACTOR": 0.25, "CLASS_WEIGHTING": True, "OUTPUT": "c.pt",
              "RESUME": "/o/c.pt.ckpt"}
    assert runs.run("finetune", values, hooks) == {"OUTPUT": "/o/c.pt", "VALIDATION_ACCURACY": 0.75,
                                                   "VALIDATION_KAPPA": 0.5, "BEST_EPOCH": 7}
    labels = LabelSource("points", vector_path="/d/copy.gpkg", class_field="code", name_field="label",
                         color_field="colour", origin="/d/points.shp", taken="its 9 selected features")
    assert spy.args == (LAYERS, labels) and spy.kwargs == {
        "pretrained": "/o/p.pt", "preset": "small", "val_fraction": 0.35,
        "settings": TrainSettings(epochs=3, batch_size=16, lr=0.002, seed=11, device="cpu", precision="bf16",
                                  encoder_lr_scale=0.25),
        "class_weighting": True, "output": "c.pt", "hooks": hooks, "resume": "/o/c.pt.ckpt"}


def test_a_classification_run_hands_every_value_on_and_both_maps_back(monkeypatch):
    """OUTPUT_CONFIDENCE, TILE_SIZE, BATCH_SIZE, PRECISION and EXTENT reach the job; both files come back."""
    hooks = Hooks()
    spy = spied(monkeypatch, jobs, "classify_job", {"class_path": "/o/map.tif", "confidence_path": "/o/conf.tif"})
    values = {**SCENE, "MODEL": "/o/c.pt", "OUTPUT": "map.tif", "OUTPUT_CONFIDENCE": "conf.tif", "TILE_SIZE": 96,
              "BATCH_SIZE": 24, "DEVICE": "cpu", "PRECISION": "fp16", "EXTENT": EXTENT}
    assert runs.run("classify", values, hooks) == {"OUTPUT": "/o/map.tif", "OUTPUT_CONFIDENCE": "/o/conf.tif"}
    assert spy.args == ("/o/c.pt", LAYERS) and spy.kwargs == {
        "output": "map.tif", "confidence": "conf.tif", "tile_size": 96, "batch_size": 24, "device": "cpu",
        "precision": "fp16", "hooks": hooks, "extent": EXTENT}


def test_a_suggestion_run_hands_every_value_on_and_the_count_written_back(monkeypatch):
    """POINTS, MIN_DISTANCE, the mask, TILE_SIZE, BATCH_SIZE, PRECISION and EXTENT reach the job; COUNT is the
    points written (fewer than asked where the pool ran out), not POINTS."""
    hooks = Hooks()
    spy = spied(monkeypatch, jobs, "suggest_job", {"path": "/o/next.gpkg", "count": 4})
    values = {**SCENE, "MODEL": "/o/c.pt", "POINTS": 9, "MIN_DISTANCE": 2.5, "OUTPUT": "next.gpkg", "SEED": 3,
              "EXTENT": EXTENT, "MASK": MASK, "TILE_SIZE": 48, "BATCH_SIZE": 12, "DEVICE": "cpu", "PRECISION": "bf16"}
    assert runs.run("suggest", values, hooks) == {"OUTPUT": "/o/next.gpkg", "COUNT": 4}
    assert spy.args == ("/o/c.pt", LAYERS) and spy.kwargs == {
        "count": 9, "min_distance": 2.5, "output": "next.gpkg", "hooks": hooks, "seed": 3, "extent": EXTENT,
        "mask_path": "/d/mask.gpkg", "mask_name": "mask", "tile_size": 48, "batch_size": 12, "device": "cpu",
        "precision": "bf16"}


def test_an_accuracy_run_hands_each_report_its_own_file_and_each_figure_its_own_name(monkeypatch):
    """OUTPUT_JSON and OUTPUT_CSV, and the overall and average accuracies, are not swapped; KAPPA comes back."""
    hooks = Hooks()
    spy = spied(monkeypatch, analysis, "accuracy_job", {
        "paths": {"OUTPUT_HTML": "/o/a.html", "OUTPUT_JSON": "/o/a.json", "OUTPUT_CSV": "/o/a.csv"},
        "overall_accuracy": 0.9, "average_accuracy": 0.8, "kappa": 0.7})
    values = {"INPUT": RasterInput("/o/map.tif", "map"), "REFERENCE": SAMPLES, "REFERENCE_FIELD": "code",
              "REFERENCE_LABELS": None, "OUTPUT_HTML": "a.html", "OUTPUT_JSON": "a.json", "OUTPUT_CSV": "a.csv"}
    assert runs.run("accuracy", values, hooks) == {
        "OUTPUT_HTML": "/o/a.html", "OUTPUT_JSON": "/o/a.json", "OUTPUT_CSV": "/o/a.csv", "OVERALL_ACCURACY": 0.9,
        "AVERAGE_ACCURACY": 0.8, "KAPPA": 0.7}
    reference = LabelSource("points", vector_path="/d/copy.gpkg", class_field="code", origin="/d/points.shp",
                            taken="its 9 selected features")
    assert spy.args == ("/o/map.tif", "map", reference) and spy.kwargs == {
        "out_html": "a.html", "out_json": "a.json", "out_csv": "a.csv", "hooks": hooks}


def test_a_redundancy_run_hands_every_value_on_and_its_groups_back_in_one_text(monkeypatch):
    """THRESHOLD, SAMPLE_SIZE, MASK_RATIO and OUTPUT_HTML reach the job; the groups come back joined by '; '."""
    hooks = Hooks()
    spy = spied(monkeypatch, analysis, "redundancy_job", {
        "paths": {"OUTPUT_PNG": "/o/r.png", "OUTPUT_CSV": "/o/r.csv", "OUTPUT_HTML": "/o/r.html"},
        "groups": ["bands 1-3", "bands 5, 6"], "group_count": 2, "leakage": 0.42})
    values = {**SCENE, "THRESHOLD": 0.97, "SAMPLE_SIZE": 1234, "SEED": 8, "OUTPUT_PNG": "r.png",
              "OUTPUT_CSV": "r.csv", "MASK_RATIO": 0.65, "OUTPUT_HTML": "r.html"}
    assert runs.run("redundancy", values, hooks) == {
        "OUTPUT_PNG": "/o/r.png", "OUTPUT_CSV": "/o/r.csv", "OUTPUT_HTML": "/o/r.html",
        "GROUPS": "bands 1-3; bands 5, 6", "GROUP_COUNT": 2, "LEAKAGE": 0.42}
    assert spy.args == (LAYERS,) and spy.kwargs == {
        "threshold": 0.97, "sample_size": 1234, "seed": 8, "out_png": "r.png", "out_csv": "r.csv", "hooks": hooks,
        "mask_ratio": 0.65, "out_html": "r.html"}


def test_a_demo_scene_run_hands_size_bands_and_sar_on_and_names_the_folder_it_wrote(monkeypatch, tmp_path):
    """SIZE and BANDS are not swapped, WITH_SAR reaches the job, OUTPUT is the folder written (absolute), and a
    layer the run did not write (no SAR) comes back empty."""
    hooks = Hooks()
    written = [str(tmp_path / "scene" / name) for name in ("hsi.tif", "lidar.tif", "train.tif")]
    spy = spied(monkeypatch, demo_scene, "write_new_scene", written)
    values = {"OUTPUT": "scene", "SIZE": 40, "BANDS": 12, "SEED": 2, "WITH_SAR": True}
    assert runs.run("demoscene", values, hooks) == {
        "OUTPUT": str(tmp_path / "scene"), "HSI": written[0], "LIDAR": written[1], "SAR": None, "TRAIN_POINTS": None,
        "TRAIN_LABELS": written[2], "TEST_LABELS": None}
    assert spy.args == ("scene",) and spy.kwargs == {"size": 40, "n_bands": 12, "seed": 2, "sar": True,
                                                     "hooks": hooks}


# Labels of a raster or of a vector ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fields, said", [
    ({"CLASS_FIELD": "code"}, ["CLASS_FIELD is a field of SAMPLES, not used with LABELS: the label raster gives the "
                               "classes, with its own names and colours."]),
    ({"CLASS_FIELD": "code", "NAME_FIELD": "label", "COLOR_FIELD": "colour"},
     ["CLASS_FIELD, NAME_FIELD and COLOR_FIELD are fields of SAMPLES, not used with LABELS: the label raster gives "
      "the classes, with its own names and colours."]),
    ({}, []),
], ids=["one", "three", "none"])
def test_a_label_raster_takes_its_projection_and_says_the_vector_s_fields_go_unused(monkeypatch, fields, said):
    """The raster's coordinate operation reaches the labels; each vector field given beside it is named once."""
    lines = []
    spy = spied(monkeypatch, jobs, "finetune_job", {"path": "c.pt", "training": {
        "val_accuracy": None, "val_kappa": None, "best_epoch": 1}})
    labels = RasterInput("/d/train.tif", "train", operation="+proj=pipeline +step +proj=axisswap +order=2,1")
    values = {**SCENE, **TRAINING, "SAMPLES": None, "LABELS": labels, "PRETRAINED": None, "PRESET": "tiny",
              "VALIDATION_FRACTION": 0.2, "ENCODER_LR_FACTOR": 0.1, "CLASS_WEIGHTING": False, "OUTPUT": "c.pt",
              **fields}
    runs.run("finetune", values, Hooks(log=lines.append))
    assert spy.args[1] == LabelSource("train", raster_path="/d/train.tif",
                                      raster_operation="+proj=pipeline +step +proj=axisswap +order=2,1")
    assert lines == said


# Threads and device -------------------------------------------------------------------------------------------------


def test_a_layer_named_with_an_equals_sign_keeps_its_whole_name():
    """'layername=a=b' names the layer 'a=b', as QGIS splits the option at its first '=' only."""
    assert runs.file_layer_name("/d/train.gpkg|layername=points=2024") == "points=2024"


def test_the_cores_are_those_this_process_may_run_on(monkeypatch):
    """Under taskset or a container's CPU set, the cores counted are the process's, not the machine's."""
    allowed = set(range(0, 2 * (os.cpu_count() or 1) + 6, 2))  # not as many as the machine's
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: allowed, raising=False)
    assert runs.available_cores() == len(allowed) != os.cpu_count()


def test_an_omp_num_threads_of_no_number_says_the_threads_used_not_the_cores():
    """On the desktop's 2 cores, one kept for QGIS: '1 thread is used' (the threads agreed with, not the cores)."""
    lines, warnings, before = [], [], torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runs, "available_cores", lambda: 2)
        patch.setenv("OMP_NUM_THREADS", "many")
        try:
            assert runs.start_torch("desktop", None, Hooks(log=lines.append, warn=warnings.append)) == 1
        finally:
            torch.set_num_threads(before)
    assert lines == ["CPU threads: 1 of 2 cores."]
    assert warnings == ["OMP_NUM_THREADS is 'many', not a number of threads (a whole number of at least 1), so it is "
                        "left out: 1 thread is used. Set it to a number of threads, or unset it."]


def test_fewer_threads_asked_than_cores_are_used_and_said_against_the_cores(monkeypatch):
    """OMP_NUM_THREADS=2 on 6 cores: 2 threads, said as '2 of 6 cores', after the device's line."""
    monkeypatch.setattr(runs, "available_cores", lambda: 6)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    lines, before = [], torch.get_num_threads()
    try:
        assert runs.start_torch("desktop", "cpu", Hooks(log=lines.append)) == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert lines[0].startswith("Device: cpu (") and lines[1:] == ["CPU threads: 2 of 6 cores."]


@pytest.mark.parametrize("name, why", [("auto", "chosen by DEVICE auto: the first of the 3 CUDA GPUs torch sees"),
                                       ("cuda:1", "as DEVICE asks")])
def test_a_gpu_is_said_chosen_by_auto_among_the_gpus_torch_sees_or_as_asked(monkeypatch, name, why):
    """On a machine of 3 GPUs (torch's answers stood in for): auto counts them; 'cuda:1' is as DEVICE asks."""
    from mrs.model_core import device

    monkeypatch.setattr(device, "resolve_device", lambda given, _front_end: torch.device("cuda", 0 if given == "auto"
                                                                                          else 1))
    monkeypatch.setattr(device, "describe_device", lambda chosen: f"{chosen} (a GPU)")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    lines = []
    runs.choose_device(name, Hooks(log=lines.append))
    assert lines == [f"Device: {'cuda:0' if name == 'auto' else 'cuda:1'} (a GPU), {why}."]


# Out of memory --------------------------------------------------------------------------------------------------------


def test_a_gpu_out_of_memory_in_lower_case_is_the_gpu_s_and_said_on_its_first_line(monkeypatch):
    """'cuda' in any case marks the GPU's memory; of a message of several lines only the first is said."""
    def short(values, hooks):
        raise RuntimeError("out of memory in a Cuda kernel\nCompile with TORCH_USE_CUDA_DSA to enable device-side "
                           "assertions.")

    monkeypatch.setitem(runs.RUNNERS, "classify", short)
    with pytest.raises(runs.OutOfMemory) as raised:
        runs.run("classify", {}, None)
    assert str(raised.value) == ("Not enough GPU memory for this run (out of memory in a Cuda kernel): lower TILE_SIZE "
                                 "or BATCH_SIZE, run on a GPU with more free memory (DEVICE), or on the CPU (DEVICE "
                                 "cpu).")


# The terminal ---------------------------------------------------------------------------------------------------------


def test_after_its_results_a_signal_the_system_repeats_is_ignored_and_the_others_end_the_process(monkeypatch):
    """SIGXCPU, repeated each CPU second, is ignored from the results on; SIGTERM and Ctrl-C end the process."""
    numbers = (*CANCELLING_SIGNALS, signal.SIGINT)
    before = {number: signal.getsignal(number) for number in numbers}
    try:
        for number in numbers:
            signal.signal(number, signal.SIG_DFL)
        terminal.end_at_once_on_signals(0)
        handlers = {number: signal.getsignal(number) for number in numbers}
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    assert all(handlers[number] is signal.SIG_IGN for number in REPEATED_SIGNALS)
    assert callable(handlers[signal.SIGTERM]) and callable(handlers[signal.SIGINT])


def test_a_warning_is_marked_as_qgis_process_marks_it():
    """bin/mrs's warnings start 'Warning: '."""
    stream = io.StringIO()
    TerminalReport(stream, interactive=False, enabled=True).hooks().warning("the map may be wrong.")
    assert stream.getvalue() == "Warning: the map may be wrong.\n"


def test_a_log_line_under_a_bar_clears_the_bar_then_draws_it_again_and_finish_ends_its_line(monkeypatch):
    """The bar's line is cleared before a log line and drawn again under it; after finish nothing is cleared."""
    monkeypatch.setenv("COLUMNS", "120")
    stream = io.StringIO()
    report = TerminalReport(stream, interactive=True, clock=Clock(), enabled=True)
    report.progress(0.5)
    report.log("a line")
    report.finish()
    report.log("after")
    bar = "\r[###############...............]  50 %\x1b[K"
    assert stream.getvalue() == f"{bar}\r\x1b[Ka line\n{bar}\nafter\n{bar}"


def test_exit_now_ends_with_the_status_and_the_text_still_buffered_written():
    """What was printed to a pipe, not yet flushed, comes out before the process ends without its teardown."""
    code = ("import sys; from mrs.mrs_qgis_plugin.terminal import exit_now; sys.stdout.write('OUTPUT:\\tm.pt'); "
            "sys.stderr.write('a line'); exit_now(3)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**{name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"},
                               "PYTHONPATH": os.pathsep.join(sys.path)}, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout, done.stderr) == (3, "OUTPUT:\tm.pt", "a line")


def test_no_stream_is_no_line_written():
    """A report whose stream is gone (None) writes nothing and says so."""
    assert terminal.written(None, "a line\n") is False
    assert isinstance(terminal.write_error(None, "a line\n"), ValueError)


def test_a_fraction_below_zero_is_shown_as_zero(monkeypatch):
    """A bar is never wider than its 30 columns nor shows a negative percentage."""
    monkeypatch.setenv("COLUMNS", "120")
    stream = io.StringIO()
    TerminalReport(stream, interactive=True, clock=Clock(), enabled=True).progress(-0.5)
    assert stream.getvalue() == "\r[..............................]   0 %\x1b[K"


def test_another_rank_s_report_draws_no_bar_for_a_status_either():
    """A process other than rank 0 prints nothing: no bar for its status, no line ended at its finish."""
    stream = io.StringIO()
    report = TerminalReport(stream, interactive=True, clock=Clock(), enabled=False)
    report.progress(0.5)
    report.status("Pretraining epoch 1/2")
    report.finish()
    assert stream.getvalue() == ""


@pytest.mark.parametrize("columns, shown", [
    (90, "[#######.......................]  25 %, 1 min 30 s left  Classifying tile 3/8, batch 2/5"),
    (80, "[#######.......................]  25 %, 1 min 30 s left  Classifying tile 3/8"),
    (20, "[#######...........")])
def test_a_status_too_wide_keeps_its_first_clauses_and_a_bar_too_wide_is_cut(monkeypatch, columns, shown):
    """Clauses are dropped from the last while the first still fits; a terminal narrower than the bar cuts it."""
    monkeypatch.setenv("COLUMNS", str(columns))
    clock = Clock()
    report = TerminalReport(io.StringIO(), interactive=True, clock=clock, enabled=True)
    clock.now += 30
    report.fraction, report.status_text = 0.25, "Classifying tile 3/8, batch 2/5"
    assert report._bar() == f"\r{shown}\x1b[K"


def test_a_report_whose_stream_is_gone_draws_its_bar_without_failing(monkeypatch):
    """After a closed pipe the stream is None: the bar's width is then standard error's, and nothing fails."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(terminal.shutil, "get_terminal_size", lambda: os.terminal_size((80, 24)))
    report = TerminalReport(None, interactive=True, clock=Clock(), enabled=True)
    report.progress(0.5)
    report.log("a line")
    report.finish()
    assert report.stream is None


def test_once_a_line_could_not_be_written_no_later_line_is_tried():
    """A full disk on one line: the run goes on without its log rather than writing half of it."""
    class FullOnce(io.StringIO):
        def __init__(self):
            super().__init__()
            self.failed = False

        def write(self, text):
            if not self.failed:
                self.failed = True
                raise OSError(28, "No space left on device")
            return super().write(text)

    stream = FullOnce()
    report = TerminalReport(stream, interactive=False, clock=Clock(), enabled=True)
    report.log("first")
    report.log("second")
    report.progress(0.5)
    assert stream.getvalue() == "" and report.stream is None


def test_the_second_ctrl_c_interrupts_at_once(sigint_kept):
    """The first Ctrl-C asks the run to stop at its next check; the second raises KeyboardInterrupt."""
    report = TerminalReport(io.StringIO(), interactive=False, enabled=True)
    report.cancel_on_interrupt()
    handler = signal.getsignal(signal.SIGINT)
    handler(signal.SIGINT, None)
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)


def test_ctrl_c_ignored_when_the_run_starts_stays_ignored(sigint_kept):
    """`bin/mrs ... &` in a script: SIGINT ignored is not taken over as a cancel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    TerminalReport(io.StringIO(), interactive=False, enabled=True).cancel_on_interrupt()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_a_gpu_out_of_memory_of_torch_s_rocm_build_is_told_the_gpu_s_remedies(monkeypatch):
    """torch built for AMD GPUs (ROCm) runs DEVICE cuda and says 'HIP out of memory' (torch.OutOfMemoryError): the
    run was told 'Not enough memory' with the CPU's remedies (close other programs, ulimit -v), as a CUDA GPU's was
    before a helper's review of 2026-12-06, until a helper's audit of 2026-12-07."""
    def short(values, hooks):
        raise torch.OutOfMemoryError("HIP out of memory. Tried to allocate 3.31 GiB. GPU 0 has a total capacity of "
                                     "128.00 GiB of which 780.24 MiB is free.")

    monkeypatch.setitem(runs.RUNNERS, "classify", short)
    with pytest.raises(runs.OutOfMemory) as raised:
        runs.run("classify", {}, None)
    assert str(raised.value) == (
        "Not enough GPU memory for this run (HIP out of memory. Tried to allocate 3.31 GiB. GPU 0 has a total "
        "capacity of 128.00 GiB of which 780.24 MiB is free.): lower TILE_SIZE or BATCH_SIZE, run on a GPU with more "
        "free memory (DEVICE), or on the CPU (DEVICE cpu).")
